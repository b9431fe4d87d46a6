/* catalogue_int.h - the catalogue's parsed form, shared by its loader
 * (catalogue_load.c: validation, categories, tools, interpreters) and its
 * matcher (catalogue.c). Internal. */
#ifndef CW_CATALOGUE_INT_H
#define CW_CATALOGUE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "catalogue.h"

#define CW_CAT_SCHEMA     1
#define CW_TOOL_ID_MAX    64
#define CW_HOPS_MAX       4   /* loader/multicall indirections followed */
#define CW_DETAIL_VAL_MAX 160 /* bytes of one value quoted in detail */

/* One fnmatch pattern on a basename or argv element. */
struct glob {
	const char *pat;   /* points into the retained JSON document */
	size_t prefix_len; /* literal bytes before the first wildcard */
	bool literal;      /* no wildcard at all: plain string compare */
};

/* first[] has a bit for every byte a member can start with (all bits when
 * one starts with a wildcard): most candidates are rejected with one test. */
struct globset {
	struct glob *v;
	size_t n;
	uint64_t first[4];
};

enum opt_kind {
	OPT_NONE = 0,
	OPT_STOP,     /* no file operand follows (-c CMD, -e CODE, stdin) */
	OPT_MODULE,   /* the value names the program (python -m MOD) */
	OPT_ARG,      /* takes a value, attached or as the next element */
	OPT_ATTACHED, /* takes an optional value, attached only */
};

struct longopt {
	const char *name;
	size_t len;
	enum opt_kind kind;
};

/* How to find the operand (script or program) of an interpreter or loader. */
struct optspec {
	struct globset names;
	bool plus; /* "+o" style options too (shells) */
	unsigned char shortk[256];
	struct longopt *lopts;
	size_t nlopts;
};

struct tool {
	const char *id;
	const char *name;
	const struct cw_category *cat;
	struct globset names, ambiguous, scripts, argv0, subcmds, argv;
};

struct cw_catalogue {
	json_t *root;
	struct cw_category *cats;
	size_t ncats;
	struct tool *tools;
	size_t ntools;
	struct optspec *interps;
	size_t ninterps;
	struct optspec *loaders;
	size_t nloaders;
	struct globset multicall;
	uint64_t name_first[4];   /* union over tools: names, ambiguous_names, scripts */
	uint64_t script_first[4]; /* union over tools: scripts */
	uint64_t argv0_first[4];  /* union over tools: argv0 */
};

#endif
