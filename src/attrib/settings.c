/* settings.c - container settings (settings.h): the OCI config's security
 * settings into JSON at the time the state is read, then at each finding the
 * kernel's view of the process merged in and the risky ones listed.
 * Every string taken from a config (paths, profiles) is sanitized: the
 * config's mounts and annotations come from whoever created the container.
 */
#include "settings.h"

#include <stdio.h>
#include <string.h>

#include "finding.h"
#include "util.h"

static const char *const cap_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
#define N_CAPS (sizeof(cap_names) / sizeof(cap_names[0]))

/* Capabilities that known escapes use (mount, module load, raw I/O, ptrace,
 * open_by_handle_at, BPF): listed as risky when effective. */
static const unsigned risky_caps[] = {21, 16, 17, 19, 2, 12, 39, 38, 33, 22};

/* enum cw_ns_type as the OCI config names them, and the Kubernetes words
 * for sharing them with the host. */
static const char *const ns_names[CW_NS_COUNT] = {
    [CW_NS_MNT] = "mount", [CW_NS_PID] = "pid", [CW_NS_NET] = "network",   [CW_NS_USER] = "user",
    [CW_NS_UTS] = "uts",   [CW_NS_IPC] = "ipc", [CW_NS_CGROUP] = "cgroup", [CW_NS_TIME] = "time",
};
static const char *const ns_risky[CW_NS_COUNT] = {
    [CW_NS_MNT] = "hostMount",
    [CW_NS_PID] = "hostPID",
    [CW_NS_NET] = "hostNetwork",
    [CW_NS_IPC] = "hostIPC",
};

const char *cw_cap_name(unsigned bit)
{
	return bit < N_CAPS ? cap_names[bit] : NULL;
}

/* Host paths whose mount hands a container the host: the path itself, or
 * anything below it for the prefix kind. */
static const struct {
	const char *path;
	bool below; /* a path under it is sensitive too */
} sensitive[] = {
    {"/", false},
    {"/proc", true},
    {"/sys", true},
    {"/dev", true},
    {"/etc", true},
    {"/root", true},
    {"/run", false},
    {"/var/run", false},
    {"/var/lib/kubelet", true},
    {"/var/lib/docker", true},
    {"/var/lib/containerd", true},
    {"/boot", true},
    {"/var/run/docker.sock", false},
    {"/run/docker.sock", false},
    {"/run/containerd/containerd.sock", false},
    {"/var/run/crio/crio.sock", false},
};

static bool under(const char *p, const char *dir)
{
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		return true;
	return !strncmp(p, dir, n) && (p[n] == '/' || p[n] == '\0');
}

static bool ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && !strcmp(s + a - b, suf);
}

bool cw_settings_sensitive_path(const char *path)
{
	if (!path || path[0] != '/')
		return false;
	if (ends_with(path, "docker.sock") || ends_with(path, "containerd.sock") ||
	    ends_with(path, "crio.sock") || ends_with(path, "podman.sock"))
		return true;
	for (size_t i = 0; i < sizeof(sensitive) / sizeof(sensitive[0]); i++) {
		/* a parent of a sensitive path exposes it; below it only for dirs */
		if (under(sensitive[i].path, path) ||
		    (sensitive[i].below && under(path, sensitive[i].path)))
			return true;
	}
	return false;
}

static bool has_opt(const json_t *opts, const char *want)
{
	size_t i;
	json_t *o;

	json_array_foreach(opts, i, o)
	{
		if (json_is_string(o) && !strcmp(json_string_value(o), want))
			return true;
	}
	return false;
}

/* Files every runtime binds in itself: not the user's host mounts. */
static bool runtime_file(const char *dest)
{
	static const char *const files[] = {"/etc/hostname",    "/etc/hosts",
	                                    "/etc/resolv.conf", "/run/.containerenv",
	                                    "/dev/shm",         "/dev/termination-log"};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (!strcmp(dest, files[i]))
			return true;
	return false;
}

/* Bind mounts of host paths: [{source, destination, readOnly, sensitive}]. */
static json_t *oci_mounts(const json_t *oci)
{
	json_t *out = json_array(), *m;
	size_t i;

	json_array_foreach(json_object_get(oci, "mounts"), i, m)
	{
		const char *src = json_string_value(json_object_get(m, "source"));
		const char *dst = json_string_value(json_object_get(m, "destination"));
		const char *type = json_string_value(json_object_get(m, "type"));
		json_t *opts = json_object_get(m, "options");
		bool bind = (type && !strcmp(type, "bind")) || has_opt(opts, "bind") ||
		            has_opt(opts, "rbind");

		if (!src || !dst || src[0] != '/' || !bind || runtime_file(dst))
			continue;
		json_array_append_new(
		    out, json_pack("{s:o,s:o,s:b,s:b}", "source", cw_json_str(src), "destination",
		                   cw_json_str(dst), "readOnly", has_opt(opts, "ro"), "sensitive",
		                   cw_settings_sensitive_path(src)));
	}
	return out;
}

/* linux.devices and whether the device cgroup allows every device. */
static void oci_devices(const json_t *linux_, json_t *out)
{
	json_t *devs = json_array(), *d;
	bool all = false;
	size_t i;

	json_array_foreach(json_object_get(linux_, "devices"), i, d)
	{
		const char *p = json_string_value(json_object_get(d, "path"));
		const char *t = json_string_value(json_object_get(d, "type"));

		if (p)
			json_array_append_new(devs,
			                      json_pack("{s:o,s:s}", "path", cw_json_str(p), "type",
			                                t && strlen(t) == 1 ? t : "?"));
	}
	json_array_foreach(json_object_get(json_object_get(linux_, "resources"), "devices"), i, d)
	{
		const char *t = json_string_value(json_object_get(d, "type"));

		/* the last rule that matches every device decides */
		if ((!t || !strcmp(t, "a")) && !json_object_get(d, "major") &&
		    !json_object_get(d, "minor"))
			all = json_is_true(json_object_get(d, "allow"));
	}
	json_object_set_new(out, "devices", devs);
	json_object_set_new(out, "allDevicesAllowed", json_boolean(all));
}

/* Namespaces the config does not ask for are the host's. */
static json_t *oci_namespaces(const json_t *linux_)
{
	json_t *out = json_object(), *n;
	size_t i;

	for (int k = 0; k < CW_NS_TIME; k++) {
		const char *how = "host";

		json_array_foreach(json_object_get(linux_, "namespaces"), i, n)
		{
			const char *t = json_string_value(json_object_get(n, "type"));

			if (t && !strcmp(t, ns_names[k]))
				how = json_object_get(n, "path") ? "joined" : "own";
		}
		json_object_set_new(out, ns_names[k], json_string(how));
	}
	return out;
}

/* The host uid that the container's uid 0 maps to, -1 without a mapping. */
static long long root_maps_to(const json_t *linux_)
{
	json_t *m;
	size_t i;

	json_array_foreach(json_object_get(linux_, "uidMappings"), i, m)
	{
		json_int_t c = json_integer_value(json_object_get(m, "containerID"));
		json_int_t h = json_integer_value(json_object_get(m, "hostID"));
		json_int_t s = json_integer_value(json_object_get(m, "size"));

		if (c <= 0 && c + s > 0)
			return (long long)(h - c);
	}
	return -1;
}

static void put_str(json_t *o, const char *key, const char *s)
{
	if (s && s[0])
		json_object_set_new(o, key, cw_json_str(s));
}

json_t *cw_settings_from_oci(const json_t *oci)
{
	const json_t *linux_ = json_object_get(oci, "linux"),
	             *proc = json_object_get(oci, "process");
	const json_t *sec = json_object_get(linux_, "seccomp");
	json_t *out;
	long long root;

	if (!json_is_object(oci) || !(out = json_object()))
		return NULL;
	json_object_set_new(out, "namespaces", oci_namespaces(linux_));
	json_object_set_new(out, "mounts", oci_mounts(oci));
	oci_devices(linux_, out);
	json_object_set_new(
	    out, "readOnlyRootfs",
	    json_boolean(json_is_true(json_object_get(json_object_get(oci, "root"), "readonly"))));
	json_object_set_new(
	    out, "maskedPaths",
	    json_integer((json_int_t)json_array_size(json_object_get(linux_, "maskedPaths"))));
	if (json_is_object(sec)) {
		json_t *s = json_object();

		put_str(s, "defaultAction",
		        json_string_value(json_object_get(sec, "defaultAction")));
		json_object_set_new(
		    s, "rules",
		    json_integer((json_int_t)json_array_size(json_object_get(sec, "syscalls"))));
		json_object_set_new(out, "seccompProfile", s);
	} else {
		json_object_set_new(out, "seccompProfile", json_string("unconfined"));
	}
	put_str(out, "apparmorProfile",
	        json_string_value(json_object_get(proc, "apparmorProfile")));
	put_str(out, "selinuxLabel", json_string_value(json_object_get(proc, "selinuxLabel")));
	json_object_set_new(out, "noNewPrivileges",
	                    json_boolean(json_is_true(json_object_get(proc, "noNewPrivileges"))));
	root = root_maps_to(linux_);
	if (root >= 0)
		json_object_set_new(out, "rootMapsToHostUid", json_integer(root));
	return out;
}

void cw_settings_mark_privileged(json_t *configured, bool privileged, const char *source)
{
	if (!json_is_object(configured))
		return;
	json_object_set_new(configured, "privileged", json_boolean(privileged));
	json_object_set_new(configured, "privilegedFrom", json_string(source));
}

/* The names of the bits set in a capability set, unknown bits as CAP_<n>. */
static json_t *caps_json(uint64_t set)
{
	json_t *a = json_array();
	char buf[16];

	for (unsigned b = 0; b < 64; b++) {
		if (!(set & (1ULL << b)))
			continue;
		if (b < N_CAPS) {
			json_array_append_new(a, json_string(cap_names[b]));
		} else {
			snprintf(buf, sizeof(buf), "CAP_%u", b);
			json_array_append_new(a, json_string(buf));
		}
	}
	return a;
}

static const char *seccomp_mode(unsigned m)
{
	return m == 0 ? "disabled" : m == 1 ? "strict" : m == 2 ? "filter" : "unknown";
}

/* The kernel's view of the process (ev): ids, capabilities, seccomp,
 * no_new_privs and the namespaces it shares with the host. */
static void put_kernel_view(json_t *out, const struct cw_event *ev, const struct cw_host_view *h)
{
	const uint32_t ns[CW_NS_COUNT] = {
	    [CW_NS_MNT] = ev->mntns,       [CW_NS_PID] = ev->pidns, [CW_NS_NET] = ev->netns,
	    [CW_NS_USER] = ev->userns,     [CW_NS_UTS] = ev->utsns, [CW_NS_IPC] = ev->ipcns,
	    [CW_NS_CGROUP] = ev->cgroupns,
	};
	json_t *shared = json_array();
	bool creds = ev->flags & CW_F_CREDS;

	for (int k = 0; k < CW_NS_COUNT; k++)
		if (ns[k] && h && ns[k] == h->ns[k])
			json_array_append_new(shared, json_string(ns_names[k]));
	json_object_set_new(out, "hostNamespaces", shared);
	json_object_set_new(
	    out, "userNamespace",
	    json_string(h && ev->userns && ev->userns != h->ns[CW_NS_USER] ? "own" : "host"));
	if (!creds)
		return; /* the process was gone before its credentials could be read */
	json_object_set_new(out, "user",
	                    json_pack("{s:I,s:I,s:I,s:I}", "uid", (json_int_t)ev->uid, "gid",
	                              (json_int_t)ev->gid, "euid", (json_int_t)ev->euid, "egid",
	                              (json_int_t)ev->egid));
	json_object_set_new(out, "capabilities",
	                    json_pack("{s:o,s:o,s:o}", "effective", caps_json(ev->cap_effective),
	                              "permitted", caps_json(ev->cap_permitted), "bounding",
	                              caps_json(ev->cap_bounding)));
	json_object_set_new(out, "seccomp", json_string(seccomp_mode(ev->seccomp_mode)));
	json_object_set_new(out, "noNewPrivileges", json_boolean(ev->no_new_privs));
}

/* The capabilities up to CAP_AUDIT_READ (37): runtimes older than
 * CAP_PERFMON, CAP_BPF and CAP_CHECKPOINT_RESTORE grant "all" without them. */
#define CLASSIC_CAPS ((1ULL << 38) - 1)

/* Privileged: the runtime says so, or the process holds every classic
 * capability the host has, with no seccomp filter and no masked paths (what
 * a runtime's privileged mode amounts to; where the flag cannot be set, e.g.
 * a host without CAP_SYS_RESOURCE, this is how such a container is started). */
static bool is_privileged(json_t *out, const struct cw_event *ev, const struct cw_host_view *h)
{
	json_t *masked = json_object_get(out, "maskedPaths");
	uint64_t all;
	bool derived;

	if (json_is_true(json_object_get(out, "privileged")))
		return true;
	if (!(ev->flags & CW_F_CREDS))
		return false;
	all = h ? h->cap_bounding & CLASSIC_CAPS : 0;
	derived = all && (ev->cap_effective & all) == all && ev->seccomp_mode == 0 &&
	          (!masked || json_integer_value(masked) == 0);
	if (derived)
		json_object_set_new(
		    out, "privilegedFrom",
		    json_string("every host capability, no seccomp, no masked paths"));
	return derived;
}

static void add_risky(json_t *risky, const char *fmt_, const char *arg)
{
	char buf[512];

	snprintf(buf, sizeof(buf), fmt_, arg);
	json_array_append_new(risky, cw_json_str(buf));
}

/* Sensitive host mounts as "docker.sock mounted rw", "/etc mounted ro". */
static void risky_mounts(json_t *risky, const json_t *mounts)
{
	json_t *m;
	size_t i;

	json_array_foreach(mounts, i, m)
	{
		const char *src = json_string_value(json_object_get(m, "source"));
		const char *base = src ? strrchr(src, '/') : NULL;
		bool ro = json_is_true(json_object_get(m, "readOnly"));

		if (!src || !json_is_true(json_object_get(m, "sensitive")))
			continue;
		if (ends_with(src, ".sock") && base)
			src = base + 1;
		add_risky(risky, ro ? "%s mounted ro" : "%s mounted rw", src);
	}
}

static json_t *risky_list(json_t *out, const struct cw_event *ev, bool privileged)
{
	static const int ns_kinds[] = {CW_NS_PID, CW_NS_MNT, CW_NS_NET, CW_NS_IPC};
	json_t *risky = json_array(), *shared = json_object_get(out, "hostNamespaces"), *s;
	size_t i;

	if (privileged)
		json_array_append_new(risky, json_string("privileged"));
	for (size_t k = 0; k < sizeof(ns_kinds) / sizeof(ns_kinds[0]); k++)
		json_array_foreach(shared, i, s)
		{
			if (!strcmp(json_string_value(s), ns_names[ns_kinds[k]]))
				json_array_append_new(risky, json_string(ns_risky[ns_kinds[k]]));
		}
	if (!privileged && (ev->flags & CW_F_CREDS)) {
		if (ev->seccomp_mode == 0)
			json_array_append_new(risky, json_string("seccomp unconfined"));
		for (size_t k = 0; k < sizeof(risky_caps) / sizeof(risky_caps[0]); k++)
			if (ev->cap_effective & (1ULL << risky_caps[k]))
				json_array_append_new(risky, json_string(cap_names[risky_caps[k]]));
	}
	/* credentials unknown: the config still says whether a filter was asked for */
	if (!privileged && !(ev->flags & CW_F_CREDS) &&
	    json_is_string(json_object_get(out, "seccompProfile")))
		json_array_append_new(risky, json_string("seccomp unconfined"));
	if (!privileged && json_is_true(json_object_get(out, "allDevicesAllowed")))
		json_array_append_new(risky, json_string("all devices allowed"));
	risky_mounts(risky, json_object_get(out, "mounts"));
	return risky;
}

json_t *cw_settings_build(const struct cw_event *ev, const json_t *configured,
                          const struct cw_host_view *host, json_t **risky)
{
	json_t *out = configured ? json_deep_copy(configured) : json_object();
	bool priv;

	*risky = NULL;
	if (!out || !ev) {
		json_decref(out);
		return NULL;
	}
	put_kernel_view(out, ev, host);
	priv = is_privileged(out, ev, host);
	json_object_set_new(out, "privileged", json_boolean(priv));
	json_object_set_new(out, "source",
	                    json_string(!(ev->flags & CW_F_CREDS) ? "runtime-config+namespaces"
	                                : configured              ? "kernel+runtime-config"
	                                                          : "kernel"));
	*risky = risky_list(out, ev, priv);
	return out;
}
