/* test_settings.c - unit tests of the finding's context: container settings
 * from an OCI config and the kernel's view (settings.c), the risky list, the
 * bbolt reader on a database built here page by page (bolt.c) and on damaged
 * copies of it, and the SCC response shapes (finding_shape.c).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include "ancestry.h"
#include "bolt.h"
#include "check.h"
#include "finding_shape.h"
#include "settings.h"
#include "util.h"

static bool has(const json_t *arr, const char *s)
{
	json_t *v;
	size_t i;

	json_array_foreach((json_t *)arr, i, v)
	{
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return true;
	}
	return false;
}

static const char oci_host[] =
    "{\"process\": {\"noNewPrivileges\": true, \"apparmorProfile\": \"docker-default\"},"
    " \"root\": {\"path\": \"rootfs\", \"readonly\": true},"
    " \"mounts\": ["
    "  {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
    "  {\"destination\": \"/var/run/docker.sock\", \"type\": \"bind\","
    "   \"source\": \"/run/docker.sock\", \"options\": [\"rbind\", \"rw\"]},"
    "  {\"destination\": \"/host/etc\", \"source\": \"/etc\", \"options\": [\"rbind\", \"ro\"]},"
    "  {\"destination\": \"/data\", \"source\": \"/srv/data\", \"options\": [\"bind\"]},"
    "  {\"destination\": \"/etc/hostname\", \"source\": \"/var/lib/docker/containers/x/hostname\","
    "   \"options\": [\"rbind\"]}],"
    " \"linux\": {\"namespaces\": [{\"type\": \"mount\"}, {\"type\": \"network\"},"
    "   {\"type\": \"ipc\", \"path\": \"/proc/1/ns/ipc\"}],"
    "  \"maskedPaths\": [\"/proc/kcore\", \"/proc/keys\"],"
    "  \"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}],"
    "  \"devices\": [{\"path\": \"/dev/sda\", \"type\": \"b\", \"major\": 8, \"minor\": 0}],"
    "  \"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwm\"},"
    "   {\"allow\": true, \"type\": \"b\", \"major\": 8, \"minor\": 0, \"access\": \"rw\"}]},"
    "  \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{}, {}, {}]}}}";

TEST(settings_from_an_oci_config)
{
	json_t *oci = json_loads(oci_host, 0, NULL), *s, *m, *ns;

	CHECK(oci != NULL);
	s = cw_settings_from_oci(oci);
	CHECK(s != NULL);
	ns = json_object_get(s, "namespaces");
	CHECK_STR(json_string_value(json_object_get(ns, "pid")), "host");
	CHECK_STR(json_string_value(json_object_get(ns, "mount")), "own");
	CHECK_STR(json_string_value(json_object_get(ns, "ipc")), "joined");
	m = json_object_get(s, "mounts");
	/* proc is no bind mount; /etc/hostname is the runtime's own */
	CHECK_INT(json_array_size(m), 3);
	CHECK_STR(json_string_value(json_object_get(json_array_get(m, 0), "source")),
	          "/run/docker.sock");
	CHECK(json_is_true(json_object_get(json_array_get(m, 0), "sensitive")));
	CHECK(json_is_false(json_object_get(json_array_get(m, 0), "readOnly")));
	CHECK(json_is_true(json_object_get(json_array_get(m, 1), "readOnly")));
	CHECK(json_is_true(json_object_get(json_array_get(m, 1), "sensitive")));
	CHECK(json_is_false(json_object_get(json_array_get(m, 2), "sensitive")));
	CHECK(json_is_true(json_object_get(s, "readOnlyRootfs")));
	CHECK(json_is_false(json_object_get(s, "allDevicesAllowed")));
	CHECK_INT(json_array_size(json_object_get(s, "devices")), 1);
	CHECK_INT(json_integer_value(json_object_get(s, "maskedPaths")), 2);
	CHECK_INT(json_integer_value(json_object_get(s, "rootMapsToHostUid")), 100000);
	CHECK_INT(
	    json_integer_value(json_object_get(json_object_get(s, "seccompProfile"), "rules")), 3);
	CHECK_STR(json_string_value(json_object_get(s, "apparmorProfile")), "docker-default");
	CHECK(json_is_true(json_object_get(s, "noNewPrivileges")));
	json_decref(s);
	json_decref(oci);
	CHECK(cw_settings_from_oci(NULL) == NULL);
}

TEST(sensitive_paths)
{
	CHECK(cw_settings_sensitive_path("/"));
	CHECK(cw_settings_sensitive_path("/var"));        /* holds /var/run/docker.sock */
	CHECK(cw_settings_sensitive_path("/etc/shadow")); /* below /etc */
	CHECK(cw_settings_sensitive_path("/srv/k8s/containerd.sock"));
	CHECK(cw_settings_sensitive_path("/var/lib/kubelet/pods"));
	CHECK(!cw_settings_sensitive_path("/srv/data"));
	CHECK(!cw_settings_sensitive_path("/run/user/1000")); /* below /run, not /run itself */
	CHECK(!cw_settings_sensitive_path("/etcetera"));
	CHECK(!cw_settings_sensitive_path("relative/etc"));
	CHECK_STR(cw_cap_name(21), "CAP_SYS_ADMIN");
	CHECK(cw_cap_name(64) == NULL);
}

static struct cw_event base_event(void)
{
	struct cw_event ev;

	memset(&ev, 0, offsetof(struct cw_event, data));
	ev.flags = CW_F_CREDS;
	ev.pidns = 11;
	ev.mntns = 12;
	ev.netns = 13;
	ev.ipcns = 14;
	ev.utsns = 15;
	ev.userns = 16;
	ev.cgroupns = 17;
	ev.seccomp_mode = 2;
	ev.cap_effective = ev.cap_permitted = ev.cap_bounding = 0xa80425fbULL; /* docker's */
	return ev;
}

static const struct cw_host_view host = {
    .ns = {[CW_NS_MNT] = 2,
           [CW_NS_PID] = 1,
           [CW_NS_NET] = 3,
           [CW_NS_USER] = 16,
           [CW_NS_UTS] = 5,
           [CW_NS_IPC] = 6,
           [CW_NS_CGROUP] = 7},
    .cap_bounding = (1ULL << 41) - 1 - (1ULL << 24), /* every cap but CAP_SYS_RESOURCE */
};

TEST(risky_settings)
{
	struct cw_event ev = base_event();
	json_t *oci = json_loads(oci_host, 0, NULL), *cfg = cw_settings_from_oci(oci), *risky, *s;

	/* a default container: nothing risky, the user namespace is the host's */
	s = cw_settings_build(&ev, NULL, &host, &risky);
	CHECK(s && risky);
	CHECK_INT(json_array_size(risky), 0);
	CHECK(has(json_object_get(json_object_get(s, "capabilities"), "effective"), "CAP_CHOWN"));
	CHECK(has(json_object_get(s, "hostNamespaces"), "user"));
	CHECK_STR(json_string_value(json_object_get(s, "seccomp")), "filter");
	CHECK(json_is_false(json_object_get(s, "privileged")));
	json_decref(s);
	json_decref(risky);
	/* hostPID, no seccomp, CAP_SYS_ADMIN, the socket and /etc mounted */
	ev.pidns = 1;
	ev.seccomp_mode = 0;
	ev.cap_effective |= 1ULL << 21;
	s = cw_settings_build(&ev, cfg, &host, &risky);
	CHECK(has(risky, "hostPID") && has(risky, "seccomp unconfined") &&
	      has(risky, "CAP_SYS_ADMIN"));
	CHECK(has(risky, "docker.sock mounted rw") && has(risky, "/etc mounted ro"));
	CHECK(!has(risky, "privileged") && !has(risky, "/srv/data mounted rw"));
	CHECK_STR(json_string_value(json_object_get(s, "source")), "kernel+runtime-config");
	json_decref(s);
	json_decref(risky);
	/* every classic host capability, no seccomp, no masked paths: privileged */
	ev.cap_effective = ev.cap_bounding = host.cap_bounding & ((1ULL << 38) - 1);
	json_object_set_new(cfg, "maskedPaths", json_integer(0));
	s = cw_settings_build(&ev, cfg, &host, &risky);
	CHECK(has(risky, "privileged") && !has(risky, "CAP_SYS_ADMIN"));
	CHECK(json_is_true(json_object_get(s, "privileged")));
	json_decref(s);
	json_decref(risky);
	/* ... but not with masked paths left, unless the runtime says so */
	json_object_set_new(cfg, "maskedPaths", json_integer(3));
	s = cw_settings_build(&ev, cfg, &host, &risky);
	CHECK(!has(risky, "privileged"));
	json_decref(s);
	json_decref(risky);
	/* the process gone before its credentials were read: config and namespaces */
	ev.flags = 0;
	s = cw_settings_build(&ev, cfg, &host, &risky);
	CHECK(!has(risky, "seccomp unconfined") && has(risky, "hostPID") &&
	      has(risky, "docker.sock mounted rw")); /* the config has a seccomp profile */
	CHECK(json_object_get(s, "capabilities") == NULL);
	CHECK_STR(json_string_value(json_object_get(s, "source")), "runtime-config+namespaces");
	json_decref(s);
	json_decref(risky);
	ev.flags = CW_F_CREDS;
	cw_settings_mark_privileged(cfg, true, "docker");
	s = cw_settings_build(&ev, cfg, &host, &risky);
	CHECK(has(risky, "privileged"));
	CHECK_STR(json_string_value(json_object_get(s, "privilegedFrom")), "docker");
	json_decref(s);
	json_decref(risky);
	json_decref(cfg);
	json_decref(oci);
}

/* ---- a bbolt file built by hand ----------------------------------------- */

#define PS 4096
static uint8_t db[7 * PS];

static void w16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}
static void w32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}
static void w64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void meta(int page, uint64_t root, uint64_t txid)
{
	uint8_t *p = db + page * PS, *m = p + 16;

	w64(p, (uint64_t)page);
	w16(p + 8, 0x04);
	w32(m, 0xED0CDAEDu);
	w32(m + 4, 2);
	w32(m + 8, PS);
	w64(m + 16, root);
	w64(m + 32, 2); /* freelist */
	w64(m + 40, 7); /* high water */
	w64(m + 48, txid);
	w64(m + 56, cw_fnv1a64(CW_FNV64_INIT, m, 56));
}

/* A page (at p, id) of n elements; kv[] holds key, value pairs (leaf) or
 * key, child page id (branch, value ignored). flags[] marks buckets. */
static size_t page(uint8_t *p, uint64_t id, bool leaf, int n, const char *const *kv,
                   const uint64_t *child, const uint32_t *flags, const size_t *vlen)
{
	size_t data = 16 + (size_t)n * 16;

	w64(p, id);
	w16(p + 8, leaf ? 0x02 : 0x01);
	w16(p + 10, (uint16_t)n);
	for (int i = 0; i < n; i++) {
		uint8_t *e = p + 16 + i * 16;
		size_t kl = strlen(kv[2 * i]),
		       vl = leaf ? (vlen ? vlen[i] : strlen(kv[2 * i + 1])) : 0;

		if (leaf) {
			w32(e, flags ? flags[i] : 0);
			w32(e + 4, (uint32_t)(data - (size_t)(16 + i * 16)));
			w32(e + 8, (uint32_t)kl);
			w32(e + 12, (uint32_t)vl);
		} else {
			w32(e, (uint32_t)(data - (size_t)(16 + i * 16)));
			w32(e + 4, (uint32_t)kl);
			w64(e + 8, child[i]);
		}
		memcpy(p + data, kv[2 * i], kl);
		memcpy(p + data + kl, kv[2 * i + 1], vl);
		data += kl + vl;
	}
	return data;
}

/* root (page 3): "big" -> page 4 (branch: 5, 6), "ctr" -> inline {"config": "{...}"} */
static void build_db(void)
{
	uint8_t inl[256] = {0};
	static const char *const ikv[] = {"config", "{\"name\":\"pweb\"}"};
	static const char *const b4[] = {"a", "", "m", ""};
	static const char *const l5[] = {"a", "1", "b", "2"};
	static const char *const l6[] = {"m", "3", "z", "4"};
	static const uint64_t c4[] = {5, 6};
	static const uint32_t rf[] = {1, 1};
	char big[16] = {0}, ctr[16 + 256];
	const char *rkv[4];
	size_t ilen, vl[2];

	memset(db, 0, sizeof(db));
	meta(0, 3, 4);
	meta(1, 3, 3);
	w64((uint8_t *)big, 4);
	ilen = page(inl, 0, true, 1, ikv, NULL, NULL, NULL);
	memset(ctr, 0, 16);
	memcpy(ctr + 16, inl, ilen);
	rkv[0] = "big";
	rkv[1] = big;
	rkv[2] = "ctr";
	rkv[3] = ctr;
	vl[0] = 16;
	vl[1] = 16 + ilen;
	page(db + 3 * PS, 3, true, 2, rkv, NULL, rf, vl);
	page(db + 4 * PS, 4, false, 2, b4, c4, NULL, NULL);
	page(db + 5 * PS, 5, true, 2, l5, NULL, NULL, NULL);
	page(db + 6 * PS, 6, true, 2, l6, NULL, NULL, NULL);
}

static int collect(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	char *out = arg;

	snprintf(out + strlen(out), 64, "%.*s=%.*s;", (int)kl, (const char *)k, (int)vl,
	         (const char *)v);
	return 0;
}

TEST(bolt_reads_nested_and_inline_buckets)
{
	const char *const big[] = {"big"}, *const ctr[] = {"ctr"}, *const none[] = {"nope"};
	struct cw_bolt_bucket b;
	struct cw_bolt *h = NULL;
	const uint8_t *v;
	size_t vl;
	char all[256] = "";

	build_db();
	CHECK_INT(cw_bolt_open_mem(db, sizeof(db), &h), 0);
	CHECK_INT(cw_bolt_bucket(h, big, 1, &b), 0);
	CHECK_INT(cw_bolt_get(&b, "b", &v, &vl), 0);
	CHECK(vl == 1 && v[0] == '2');
	CHECK_INT(cw_bolt_get(&b, "z", &v, &vl), 0);
	CHECK(vl == 1 && v[0] == '4');
	CHECK_INT(cw_bolt_get(&b, "c", &v, &vl), -ENOENT);
	CHECK_INT(cw_bolt_each(&b, collect, all), 0);
	CHECK_STR(all, "a=1;b=2;m=3;z=4;");
	CHECK_INT(cw_bolt_bucket(h, ctr, 1, &b), 0);
	CHECK_INT(cw_bolt_get(&b, "config", &v, &vl), 0);
	CHECK(vl == 15 && !memcmp(v, "{\"name\":\"pweb\"}", 15));
	CHECK_INT(cw_bolt_bucket(h, none, 1, &b), -ENOENT);
	CHECK_INT(cw_bolt_get(&(struct cw_bolt_bucket){.db = h, .root = 3}, "big", &v, &vl),
	          -ENOENT);
	cw_bolt_close(h);
}

TEST(bolt_refuses_damaged_files)
{
	const char *const big[] = {"big"};
	struct cw_bolt_bucket b;
	struct cw_bolt *h = NULL;
	const uint8_t *v;
	size_t vl;

	build_db();
	db[16 + 20] ^= 1; /* meta 0's checksum no longer holds: meta 1 is used */
	CHECK_INT(cw_bolt_open_mem(db, sizeof(db), &h), 0);
	CHECK_INT(cw_bolt_bucket(h, big, 1, &b), 0);
	cw_bolt_close(h);
	db[PS + 16 + 20] ^= 1; /* and neither meta page holds */
	CHECK_INT(cw_bolt_open_mem(db, sizeof(db), &h), -EBADMSG);
	build_db();
	CHECK_INT(cw_bolt_open_mem(db, 60, &h), -EBADMSG); /* truncated in the meta page */
	CHECK_INT(cw_bolt_open_mem(db, 100, &h), 0);       /* ... after it: no pages */
	CHECK_INT(cw_bolt_bucket(h, big, 1, &b), -EBADMSG);
	cw_bolt_close(h);
	CHECK_INT(cw_bolt_open_mem("not a database", 14, &h), -EBADMSG);
	build_db();
	w64(db + 4 * PS + 16 + 8, 999); /* a child page past the end of the file */
	CHECK_INT(cw_bolt_open_mem(db, sizeof(db), &h), 0);
	CHECK_INT(cw_bolt_bucket(h, big, 1, &b), 0);
	CHECK_INT(cw_bolt_get(&b, "a", &v, &vl), -EBADMSG);
	cw_bolt_close(h);
	build_db();
	w32(db + 5 * PS + 16 + 12, 1u << 30); /* a value longer than its page */
	CHECK_INT(cw_bolt_open_mem(db, sizeof(db), &h), 0);
	CHECK_INT(cw_bolt_bucket(h, big, 1, &b), 0);
	CHECK_INT(cw_bolt_get(&b, "a", &v, &vl), -EBADMSG);
	cw_bolt_close(h);
}

TEST(scc_shapes)
{
	json_t *f =
	    json_loads("{\"name\": \"organizations/0/sources/cagewatch/locations/global/"
	               "findings/abc\", \"resource\": {\"name\": \"r\", \"displayName\": \"web\","
	               " \"gcpMetadata\": {\"projectDisplayName\": \"p\"}}}",
	               0, NULL);
	json_t *arr = json_array(), *r, *c;

	r = cw_shape_list_result(f);
	CHECK(json_object_get(json_object_get(r, "finding"), "resource") == NULL);
	CHECK_STR(json_string_value(json_object_get(json_object_get(r, "resource"), "name")), "r");
	CHECK_STR(json_string_value(json_object_get(r, "stateChange")), "UNUSED");
	json_decref(r);
	json_array_append(arr, f);
	r = cw_shape_list_response(arr, 7, "next");
	CHECK_INT(json_integer_value(json_object_get(r, "totalSize")), 7);
	CHECK_INT(json_array_size(json_object_get(r, "listFindingsResults")), 1);
	CHECK_STR(json_string_value(json_object_get(r, "nextPageToken")), "next");
	CHECK(json_is_string(json_object_get(r, "readTime")));
	json_decref(r);
	c = cw_shape_console(f);
	CHECK_STR(json_string_value(
	              json_object_get(json_object_get(c, "resource"), "project_display_name")),
	          "p");
	CHECK_STR(
	    json_string_value(json_object_get(json_object_get(c, "resource"), "display_name")),
	    "web");
	json_decref(c);
	json_decref(arr);
	json_decref(f);
}

static void put_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fwrite(text, 1, len, f);
		fclose(f);
	}
}

/* A fake /proc: 4242 still runs sh, 4243 has exec'd sleep since, 4244 is gone. */
TEST(ancestry_from_proc)
{
	char dir[] = "/tmp/cw-anc-XXXXXX", p[256];
	long hz = sysconf(_SC_CLK_TCK);
	struct cw_event ev;
	struct cw_ancestry anc;
	static const char stat_fmt[] = "%d (%s) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12345 0\n";
	static const int pids[] = {4242, 4243};
	static const char *const now_comm[] = {"sh", "sleep"};

	CHECK(mkdtemp(dir) != NULL);
	for (int i = 0; i < 2; i++) {
		char line[256];

		snprintf(p, sizeof(p), "%s/%d", dir, pids[i]);
		mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/%d/stat", dir, pids[i]);
		snprintf(line, sizeof(line), stat_fmt, pids[i], now_comm[i]);
		put_file(p, line, strlen(line));
		snprintf(p, sizeof(p), "%s/%d/exe", dir, pids[i]);
		CHECK(symlink("/bin/busybox", p) == 0);
		snprintf(p, sizeof(p), "%s/%d/cmdline", dir, pids[i]);
		put_file(p, "sh\0-c\0echo hi\0", 15);
	}
	memset(&ev, 0, offsetof(struct cw_event, data));
	ev.n_ancestors = 3;
	for (int i = 0; i < 3; i++) {
		ev.anc[i].tgid = (uint32_t)(4242 + i);
		ev.anc[i].start_ns = 12345ULL * (1000000000ULL / (unsigned long long)hz);
		memcpy(ev.anc[i].comm, "sh", 3);
	}
	cw_ancestry_read(dir, &ev, 100, &anc);
	CHECK_INT(anc.n, 3);
	CHECK(anc.a[0].alive);
	CHECK_STR(anc.a[0].path, "/bin/busybox");
	CHECK_INT(anc.a[0].args_len, 15);
	CHECK_INT(anc.a[0].ppid, 4243);
	CHECK(!anc.a[1].alive && !anc.a[1].args_len && !anc.a[1].path[0]); /* exec'd since */
	CHECK_STR(anc.a[1].comm, "sh");
	CHECK(!anc.a[2].alive);
	CHECK_INT(anc.a[2].pid, 4244);
	CHECK_INT(anc.a[2].ppid, 0);
	ev.anc[0].start_ns += 1000000000ULL; /* another process got the pid */
	cw_ancestry_read(dir, &ev, 100, &anc);
	CHECK(!anc.a[0].alive);
	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	CHECK(system(p) == 0);
}

static const struct cw_test tests[] = {
    {"ancestry_from_proc", ancestry_from_proc},
    {"settings_from_an_oci_config", settings_from_an_oci_config},
    {"sensitive_paths", sensitive_paths},
    {"risky_settings", risky_settings},
    {"bolt_reads_nested_and_inline_buckets", bolt_reads_nested_and_inline_buckets},
    {"bolt_refuses_damaged_files", bolt_refuses_damaged_files},
    {"scc_shapes", scc_shapes},
};

CW_TEST_MAIN(tests)
