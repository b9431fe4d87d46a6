/* technique_int.h - what the parts of the technique module share (internal):
 *   technique_rules.c  rules and exceptions (rules/techniques.json, embedded);
 *   technique_env.c    the host's namespaces and /proc lookups;
 *   technique_match.c  one matcher per rule kind (a table);
 *   technique_eval.c   a kernel record into a hit, and the hit's evidence;
 *   technique.c        the BPF sensor: load, attach, read.
 */
#ifndef CW_TECHNIQUE_INT_H
#define CW_TECHNIQUE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "technique.h"

#define NSFS_MAGIC 0x6e736673u

enum rule_kind {
	RK_WRITE_OPEN,
	RK_PROC_EXE_WRITE,
	RK_BLOCK_OPEN,
	RK_MOUNT,
	RK_MOUNT_BLOCK,
	RK_MKNOD_BLOCK,
	RK_SETNS,
	RK_MODULE,
	RK_CONNECT_UNIX,
	RK_CONNECT_TCP,
	RK_PTRACE,
	RK_VM_WRITEV,
	RK_CHDIR_PROC_FD,
	RK_FCHDIR,
	RK_OPEN_BY_HANDLE,
	RK_UMH,
	RK_AGENT_SIGNAL,
	RK_AGENT_TRACE,
	RK_AGENT_BPF,
	RK_EXEC_FROM,  /* judged at exec, not from a syscall: cw_technique_exec_from */
	RK_EXEC_STDIO, /* judged at exec: cw_technique_exec_stdio */
	RK_EXEC_ARGV,  /* judged at exec: cw_technique_exec_argv */
	RK_EXEC_PROV,  /* judged at exec: cw_technique_exec_provenance */
	RK_EXEC_ENV,   /* judged at exec: cw_technique_exec_env */
	RK_FIRST_SEND, /* the first bytes sent on a new TCP connection (send.bpf.h) */
	RK_LIB_PROV,   /* a code mapping of a file not in the image (lib.bpf.h) */
};

struct rule {
	const char *id; /* into the document */
	const char *title;
	const struct cw_category *cat;
	enum rule_kind kind;
	json_t *names;    /* array of strings, may be NULL */
	json_t *prefixes; /* array of strings, may be NULL */
	json_t *fs_types; /* array of strings, may be NULL */
	json_t *parents;  /* exec_stdio: the parent's names (array), may be NULL */
	json_t *argv;     /* exec_argv: globs tried on every argument */
	json_t *env;      /* exec_env: globs tried on every NAME=value string */
	json_t *env_ok;   /* exec_env: NAME=value globs that are allowed, may be NULL */
	bool empty_argv;  /* exec_env: an empty argument list matches too */
	json_t *payload;  /* first_send: globs on the first bytes sent */
	uint8_t stdio;    /* exec_stdio: CW_STDIO_* of which one must be a network socket */
	uint8_t prov;     /* exec/library_provenance: CW_PROV_* the file may have */
	bool malicious;   /* exec/library_provenance: the content layers must (not) match */
	uint32_t fs_magic[16];
	size_t n_magic;
	uint16_t ports[16];
	size_t n_ports;
	bool fs_unknown_ok;
	bool skip_runtime;
	bool off; /* "default_off" and not turned on (cw_technique_enable) */
};

struct exception {
	json_t *rules, *images, *names; /* arrays of globs */
	const char *comment;
};

struct cw_technique_rules {
	json_t *doc;
	struct cw_category *cats;
	size_t n_cats;
	struct rule *rules;
	size_t n_rules;
	json_t *runtime_comms;
	json_t *helpers;
	json_t *exc_docs; /* array of loaded exception documents (keeps strings alive) */
	struct exception *exc;
	size_t n_exc;
};

/* technique_rules.c */
const char *tq_fs_name(uint32_t magic);
/* Is a rule of this kind on (not default_off, or turned on)? */
bool tq_rules_have(const struct cw_technique_rules *r, enum rule_kind kind);

/* technique_env.c */
/* Filesystem magic of path p as the caller sees it (through /proc/PID/root,
 * cwd or the dirfd; its parent when `parent`), 0 if unknown. */
uint32_t tq_path_fs(const struct cw_technique_env *env, uint32_t tgid, uint32_t mntns, long dirfd,
                    const char *p, bool parent);
bool tq_path_is_block(const struct cw_technique_env *env, uint32_t tgid, uint32_t mntns, long dirfd,
                      const char *p);
bool tq_looks_like_disk(const char *src);
/* The host pid of vpid in the caller's pid namespace, 0 if unknown. */
int tq_resolve_vpid(const struct cw_technique_env *env, uint32_t caller_pidns, long vpid);

/* technique_match.c */
const char *tq_sys_name(uint32_t sys);
bool tq_in_strs(const json_t *arr, const char *s);
/* The first glob of globs matching s, or NULL. */
const char *tq_glob_in(const json_t *globs, const char *s);
/* Copy at most srcmax bytes of a possibly unterminated kernel string. */
void tq_copy_str(char *dst, size_t dstsz, const char *src, size_t srcmax);
/* Does the record match the rule? Fills the hit's evidence and detail. */
bool tq_rule_matches(const struct cw_technique_env *env, const struct rule *ru,
                     const struct cw_tq_event *ev, struct cw_technique_hit *h, char *detail,
                     size_t dsz);

/* technique_eval.c */
void tq_hit_exe(const struct cw_technique_env *env, struct cw_technique_hit *h,
                const struct cw_tq_event *ev);
void tq_hit_caller(const struct cw_technique_env *env, const struct cw_tq_event *ev,
                   struct cw_technique_hit *h);

#endif
