/* store.c - SQLite findings store: header checks before opening, schema,
 * cached prepared statements for the agent's hot path (record with dedup),
 * look-ups, filtered listing, related findings and lifecycle updates. Every
 * statement retries SQLITE_BUSY on top of busy_timeout so a reader never sees
 * "database is locked" while the agent writes.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>

#include "util.h"

#define BUSY_TIMEOUT_MS 10000
#define BUSY_RETRIES    50

struct cw_store {
	sqlite3 *db;
	char *path;
	bool readonly;
	bool quiet; /* precheck: errors are returned, not logged */
	int64_t schema_version;
	sqlite3_stmt *ins, *dedup_find, *dedup_upd;
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS findings ("
    " id TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL,"
    " parent TEXT, category TEXT, state TEXT, severity TEXT, mute TEXT,"
    " event_time_ms INTEGER NOT NULL, create_time_ms INTEGER,"
    " resource_name TEXT, resource_display_name TEXT, resource_type TEXT,"
    " project_display_name TEXT, project_name TEXT,"
    " container_id TEXT, container_name TEXT, container_uri TEXT, container_image_id TEXT,"
    " pod_ns TEXT, pod_name TEXT, binary_path TEXT,"
    " dedup_key TEXT, occurrence_count INTEGER NOT NULL DEFAULT 1,"
    " state_change_ms INTEGER, mute_update_ms INTEGER,"
    " json TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS findings_event ON findings(event_time_ms);"
    "CREATE INDEX IF NOT EXISTS findings_dedup ON findings(dedup_key, event_time_ms);"
    "CREATE INDEX IF NOT EXISTS findings_category ON findings(category, event_time_ms);"
    "CREATE INDEX IF NOT EXISTS findings_container ON findings(container_id, event_time_ms);"
    "CREATE INDEX IF NOT EXISTS findings_resource ON findings(resource_name, event_time_ms);";

static const char ins_sql[] =
    "INSERT INTO findings (id, name, parent, category, state, severity, mute, event_time_ms,"
    " create_time_ms, resource_name, resource_display_name, resource_type, project_display_name,"
    " project_name, container_id, container_name, container_uri, container_image_id, pod_ns,"
    " pod_name, binary_path, dedup_key, occurrence_count, state_change_ms, mute_update_ms, json)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
    " ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)";

/* Deduplication. A repeat of a stored finding is counted in SQL (json_set on
 * the stored text: no JSON library round trip on the hot path of a burst) and
 * the stored finding keeps its first occurrence's evidence. What the caller
 * gets back, and prints, is the repeat itself under the stored finding's
 * identity and lifecycle: these fields (columns 3.. of dedup_find_sql), which
 * are everything set-state and mute change. */
static const char *const kept_paths[] = {
    "name",          "canonicalName", "createTime",
    "state",         "mute",          "muteUpdateTime",
    "muteInitiator", "muteInfo",      "sourceProperties.State_Change_Time",
};
#define KEPT_OBJECT "muteInfo" /* the one kept field that is not a string */

/* dedup_find_sql: rowid, occurrence_count, event_time_ms, then kept_paths. */
static int dedup_find_sql(char *buf, size_t cap)
{
	size_t i, n = (size_t)snprintf(buf, cap, "SELECT rowid, occurrence_count, event_time_ms");

	for (i = 0; i < sizeof(kept_paths) / sizeof(kept_paths[0]) && n < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, ", json_extract(json, '$.%s')",
		                      kept_paths[i]);
	if (n < cap)
		n += (size_t)snprintf(buf + n, cap - n,
		                      " FROM findings WHERE dedup_key = ?1 AND event_time_ms"
		                      " BETWEEN ?2 AND ?3 ORDER BY event_time_ms DESC LIMIT 1");
	return n < cap ? 0 : -ENAMETOOLONG;
}

/* ?1 rowid, ?2 this occurrence's event time (ms), ?3 its eventTime text. */
static const char dedup_upd_sql[] =
    "UPDATE findings SET occurrence_count = occurrence_count + 1,"
    " json = CASE WHEN ?2 > event_time_ms"
    " THEN json_set(json, '$.sourceProperties.Occurrence_Count', occurrence_count + 1,"
    " '$.eventTime', ?3)"
    " ELSE json_set(json, '$.sourceProperties.Occurrence_Count', occurrence_count + 1) END,"
    " event_time_ms = max(event_time_ms, ?2) WHERE rowid = ?1";

/* ---- errors and retries ---- */

static int to_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return -EBADMSG;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_TOOBIG:
		return -E2BIG;
	default:
		return -EIO;
	}
}

static int sq_fail(struct cw_store *s, int rc, const char *what)
{
	int err = to_errno(rc);

	if (s->quiet)
		return err ? err : -EIO;
	if (err == -EBADMSG)
		cw_err("store %s: %s: %s: the file is corrupt; move it aside and let `cagewatch "
		       "run` create a new store",
		       s->path, what, s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
	else
		cw_err("store %s: %s: %s", s->path, what,
		       s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
	return err ? err : -EIO;
}

static void backoff(int attempt)
{
	struct timespec ts = {0, (long)(1 + attempt % 10) * 10 * 1000000L};

	nanosleep(&ts, NULL);
}

static bool is_busy(int rc)
{
	return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

/* Step a statement that has not returned a row yet, retrying while busy. */
static int step_first(sqlite3_stmt *st)
{
	for (int attempt = 0;; attempt++) {
		int rc = sqlite3_step(st);

		if (!is_busy(rc) || attempt >= BUSY_RETRIES)
			return rc;
		sqlite3_reset(st);
		backoff(attempt);
	}
}

static int exec_retry(struct cw_store *s, const char *sql, const char *what)
{
	for (int attempt = 0;; attempt++) {
		int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

		if (rc == SQLITE_OK)
			return 0;
		if (!is_busy(rc) || attempt >= BUSY_RETRIES)
			return sq_fail(s, rc, what);
		backoff(attempt);
	}
}

static void rollback(struct cw_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static int prepare(struct cw_store *s, const char *sql, sqlite3_stmt **st, unsigned flags)
{
	int rc = sqlite3_prepare_v3(s->db, sql, -1, flags, st, NULL);

	if (rc != SQLITE_OK)
		return sq_fail(s, rc, "preparing a query");
	return 0;
}

/* ---- JSON helpers ---- */

/* Follow a '/'-separated path; all-digit segments index arrays. */
static json_t *jpath(json_t *root, const char *path)
{
	char seg[64];
	const char *p = path;
	json_t *cur = root;

	while (cur && *p) {
		size_t n = strcspn(p, "/");
		char *end;

		if (n >= sizeof(seg))
			return NULL;
		memcpy(seg, p, n);
		seg[n] = 0;
		p += n + (p[n] == '/');
		if (json_is_array(cur)) {
			unsigned long i = strtoul(seg, &end, 10);

			cur = *end ? NULL : json_array_get(cur, i);
		} else {
			cur = json_object_get(cur, seg);
		}
	}
	return cur;
}

static const char *jstr(json_t *root, const char *path)
{
	const char *v = json_string_value(jpath(root, path));

	return v && v[0] ? v : NULL;
}

static bool json_int_value(json_t *v, int64_t *out)
{
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	if (json_is_real(v)) {
		*out = (int64_t)json_real_value(v);
		return true;
	}
	if (json_is_string(v)) {
		char *end;
		long long n = strtoll(json_string_value(v), &end, 10);

		if (*end == 0 && end != json_string_value(v)) {
			*out = n;
			return true;
		}
	}
	return false;
}

static int64_t now_ms(void)
{
	return cw_now_ns() / 1000000;
}

static json_t *time_json(int64_t ms)
{
	char buf[40];

	return json_string(cw_rfc3339(ms * 1000000, buf, sizeof(buf)));
}

/* Set obj[key] = v (steals v). */
static int jset(json_t *obj, const char *key, json_t *v)
{
	if (!v || json_object_set_new(obj, key, v) != 0)
		return -ENOMEM;
	return 0;
}

/* The object obj[key], created if missing. */
static json_t *jobj(json_t *obj, const char *key)
{
	json_t *o = json_object_get(obj, key);

	if (json_is_object(o))
		return o;
	o = json_object();
	if (!o || json_object_set_new(obj, key, o) != 0)
		return NULL;
	return o;
}

const char *cw_store_short_id(const char *name)
{
	const char *slash = name ? strrchr(name, '/') : NULL;

	return slash ? slash + 1 : name;
}

/* ---- open ---- */

static int mkdir_p(const char *dir)
{
	char *tmp = strdup(dir);
	int ret = 0;

	if (!tmp)
		return -ENOMEM;
	for (char *p = tmp + 1;; p++) {
		if (*p == '/' || *p == 0) {
			char c = *p;

			*p = 0;
			if (tmp[0] && mkdir(tmp, 0750) != 0 && errno != EEXIST) {
				ret = -errno;
				break;
			}
			*p = c;
			if (!c)
				break;
		}
	}
	free(tmp);
	return ret;
}

static int ensure_parent(const char *path)
{
	char *copy = strdup(path), *slash;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	slash = strrchr(copy, '/');
	if (slash && slash != copy) {
		*slash = 0;
		ret = mkdir_p(copy);
		if (ret)
			cw_err("store %s: cannot create directory %s: %s", path, copy,
			       strerror(-ret));
	}
	free(copy);
	return ret;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Check the raw header. Returns 1 for an empty (new) file, 0 for a cagewatch
 * store, negative errno otherwise. Reads only. */
static int check_header(const char *path)
{
	unsigned char h[100];
	ssize_t n = 0, r;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0) {
		int err = -errno;

		if (err != -ENOENT)
			cw_err("store %s: cannot open: %s", path, strerror(-err));
		return err;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		cw_err("store %s: not a regular file: pass --store with the path of a findings "
		       "database",
		       path);
		return -EINVAL;
	}
	while (n < (ssize_t)sizeof(h) && (r = read(fd, h + n, sizeof(h) - (size_t)n)) > 0)
		n += r;
	close(fd);
	if (n == 0)
		return 1;
	if (n < (ssize_t)sizeof(h) || memcmp(h, "SQLite format 3", 16) != 0) {
		cw_err("store %s: not an SQLite database (corrupt, or some other kind of file); "
		       "it was left untouched: pass --store with another path",
		       path);
		return -EBADMSG;
	}
	if (be32(h + 68) != CW_STORE_APPLICATION_ID) {
		cw_err("store %s: an SQLite database but not a cagewatch findings store "
		       "(application_id 0x%08x); it was left untouched: pass --store with another "
		       "path",
		       path, be32(h + 68));
		return -EINVAL;
	}
	return 0;
}

static int pragma_int(struct cw_store *s, const char *sql, int64_t *out)
{
	sqlite3_stmt *st;
	int rc, ret = 0;

	ret = prepare(s, sql, &st, 0);
	if (ret)
		return ret;
	rc = step_first(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		ret = sq_fail(s, rc, sql);
	sqlite3_finalize(st);
	return ret;
}

static int init_schema(struct cw_store *s)
{
	char sql[512];
	int64_t app = 0, tables = 0;
	int ret;

	ret = exec_retry(s, "BEGIN IMMEDIATE", "starting the schema transaction");
	if (ret)
		return ret;
	ret = pragma_int(s, "PRAGMA application_id", &app);
	if (!ret)
		ret = pragma_int(s, "SELECT count(*) FROM sqlite_master", &tables);
	if (!ret && app != CW_STORE_APPLICATION_ID && tables) {
		cw_err("store %s: an SQLite database but not a cagewatch findings store", s->path);
		ret = -EINVAL;
	}
	if (!ret && app != CW_STORE_APPLICATION_ID) {
		snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = %d;",
		         CW_STORE_APPLICATION_ID, CW_STORE_SCHEMA_VERSION);
		ret = exec_retry(s, sql, "marking the file as a cagewatch store");
		if (!ret)
			ret = exec_retry(s, schema_sql, "creating the schema");
	}
	if (!ret)
		ret = exec_retry(s, "COMMIT", "committing the schema");
	if (ret)
		rollback(s);
	return ret;
}

static int check_store(struct cw_store *s)
{
	int64_t app = 0, ver = 0, tables = 0;
	int ret;

	ret = pragma_int(s, "PRAGMA application_id", &app);
	if (!ret)
		ret = pragma_int(s, "PRAGMA user_version", &ver);
	if (!ret)
		ret = pragma_int(s,
		                 "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
		                 "name = 'findings'",
		                 &tables);
	if (ret)
		return ret;
	if (app != CW_STORE_APPLICATION_ID) {
		if (!s->quiet)
			cw_err("store %s: not a cagewatch findings store", s->path);
		return -EINVAL;
	}
	s->schema_version = ver;
	if (ver > CW_STORE_SCHEMA_VERSION) {
		if (!s->quiet)
			cw_err("store %s: schema version %lld is newer than this cagewatch "
			       "understands "
			       "(%d): upgrade cagewatch",
			       s->path, (long long)ver, CW_STORE_SCHEMA_VERSION);
		return -EPROTO;
	}
	if (tables != 1) {
		if (!s->quiet)
			cw_err("store %s: the findings table is missing: the store is damaged; "
			       "move it "
			       "aside",
			       s->path);
		return -EBADMSG;
	}
	return 0;
}

static bool wal_exists(const char *path)
{
	char wal[4200];
	struct stat st;

	snprintf(wal, sizeof(wal), "%s-wal", path);
	return stat(wal, &st) == 0;
}

/* Validate an idle store (no -wal file: no writer, nothing to recover)
 * through an immutable read-only connection: it reads the main file only and
 * creates no -wal/-shm files, so a corrupt store is refused with nothing
 * written next to it. The schema and application_id are in the main file
 * from creation on (see init_schema). A writer that appeared meanwhile may
 * have torn that read, so a failure only counts if there is still no -wal.
 * Returns 0 when the normal open should go ahead. */
static int precheck(const char *path)
{
	struct cw_store tmp = {.path = (char *)path, .readonly = true, .quiet = true};
	size_t n = strlen(path);
	char *uri, *o;
	int rc, ret;

	if (wal_exists(path))
		return 0;
	uri = malloc(n * 3 + 32);
	if (!uri)
		return -ENOMEM;
	o = uri + sprintf(uri, "file:");
	for (const char *p = path; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '%' || c == '?' || c == '#' || c <= 0x20 || c >= 0x7f)
			o += sprintf(o, "%%%02X", c);
		else
			*o++ = (char)c;
	}
	strcpy(o, "?immutable=1");
	rc = sqlite3_open_v2(uri, &tmp.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
	free(uri);
	if (rc != SQLITE_OK) {
		sqlite3_close(tmp.db);
		return 0; /* let the normal open report it */
	}
	ret = check_store(&tmp);
	sqlite3_close(tmp.db);
	if (ret == -EBADMSG && !wal_exists(path)) {
		cw_err("store %s: the file is corrupt (database disk image is malformed); it was "
		       "left untouched: move it aside and let `cagewatch run` create a new store",
		       path);
		return ret;
	}
	return 0; /* anything else: the normal open decides and reports */
}

/* Findings hold argv (often with secrets): the store is created 0640 (owner
 * root, group root unless the directory's set-group-id bit says otherwise)
 * whatever the umask; SQLite gives its -wal and -shm files the same mode.
 * Returns 1 (a new, empty file) or a negative errno. */
static int create_private(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, CW_STORE_MODE);

	if (fd < 0) {
		int err = -errno;

		cw_err("store %s: cannot create it: %s", path, strerror(-err));
		return err;
	}
	if (fchmod(fd, CW_STORE_MODE) != 0)
		cw_warn("store %s: cannot set its mode to %o: %s", path, CW_STORE_MODE,
		        strerror(errno));
	close(fd);
	return 1;
}

/* A store a writer opens that others may read is tightened to CW_STORE_MODE. */
static void tighten_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & 0037) && chmod(path, CW_STORE_MODE) == 0)
		cw_info("store %s: mode %o tightened to %o (findings hold arguments)", path,
		        (unsigned)(st.st_mode & 0777), CW_STORE_MODE);
}

/* The file before SQLite opens it: created private if asked, else checked.
 * Returns 1 (new, empty), 0 (an existing store) or -errno (logged). */
static int prepare_file(const char *path, bool create)
{
	int ret = check_header(path);

	if (ret == -ENOENT && create) {
		ret = ensure_parent(path);
		if (!ret)
			ret = create_private(path);
	}
	if (ret == 1 && !create) {
		cw_err("store %s: the file is empty, not a findings store", path);
		return -EBADMSG;
	}
	if (ret == 0 && (ret = precheck(path)))
		return ret;
	return ret;
}

static int open_db(struct cw_store *s, const char *path, bool ro, bool fresh)
{
	int oflags =
	    ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | (fresh ? SQLITE_OPEN_CREATE : 0);
	int rc = sqlite3_open_v2(path, &s->db, oflags | SQLITE_OPEN_NOFOLLOW, NULL);

	if (rc != SQLITE_OK) {
		int se = s->db ? sqlite3_system_errno(s->db) : 0, ret = sq_fail(s, rc, "opening");

		return se ? -se : ret; /* the OS's reason (EROFS, ENOSPC, ...) beats SQLite's */
	}
	if (!ro)
		tighten_mode(path);
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	/* New file: mark and build it in rollback-journal mode so the
	 * application_id is in the main file's header before WAL exists. */
	if (fresh) {
		int ret = init_schema(s);

		if (ret)
			return ret;
	}
	return check_store(s);
}

/* A writer (the agent): WAL, a bounded page cache, prepared statements. */
static int setup_writer(struct cw_store *s, unsigned flags)
{
	char sql[160], find_sql[1024];
	int ret;

	/* A 4 MiB page cache: the agent's RSS must stay flat however large the
	 * store grows (issue 5: RSS <= 32 MiB). */
	snprintf(sql, sizeof(sql),
	         "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s; "
	         "PRAGMA journal_size_limit = 67108864; PRAGMA cache_size = -4096;",
	         flags & CW_STORE_DURABLE ? "FULL" : "NORMAL");
	ret = exec_retry(s, sql, "setting WAL mode");
	/* One write now (the header page, unchanged): the WAL file's creation
	 * and its syncs happen at open, not on the first finding's path. */
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld", (long long)s->schema_version);
	if (!ret)
		ret = exec_retry(s, sql, "opening the write-ahead log");
	if (!ret)
		ret = dedup_find_sql(find_sql, sizeof(find_sql));
	if (!ret)
		ret = prepare(s, ins_sql, &s->ins, SQLITE_PREPARE_PERSISTENT);
	if (!ret)
		ret = prepare(s, find_sql, &s->dedup_find, SQLITE_PREPARE_PERSISTENT);
	if (!ret)
		ret = prepare(s, dedup_upd_sql, &s->dedup_upd, SQLITE_PREPARE_PERSISTENT);
	return ret;
}

int cw_store_open(struct cw_store **out, const char *path, unsigned flags)
{
	bool ro = flags & CW_STORE_READONLY, create = (flags & CW_STORE_CREATE) && !ro;
	struct cw_store *s;
	int ret;

	*out = NULL;
	if (!path || !path[0]) {
		cw_err("store: no path given");
		return -EINVAL;
	}
	if ((ret = prepare_file(path, create)) < 0)
		return ret;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		free(s);
		return -ENOMEM;
	}
	s->readonly = ro;
	if ((ret = open_db(s, path, ro, ret == 1)) || (!ro && (ret = setup_writer(s, flags)))) {
		cw_store_close(s);
		return ret;
	}
	*out = s;
	return 0;
}

void cw_store_close(struct cw_store *s)
{
	if (!s)
		return;
	sqlite3_finalize(s->ins);
	sqlite3_finalize(s->dedup_find);
	sqlite3_finalize(s->dedup_upd);
	if (s->db && sqlite3_close(s->db) != SQLITE_OK)
		cw_warn("store %s: close: %s", s->path, sqlite3_errmsg(s->db));
	free(s->path);
	free(s);
}

const char *cw_store_path(const struct cw_store *s)
{
	return s ? s->path : NULL;
}

/* ---- record ---- */

static void bind_opt(sqlite3_stmt *st, int idx, const char *v)
{
	if (v)
		sqlite3_bind_text(st, idx, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, idx);
}

static bool time_ms(json_t *f, const char *key, int64_t *out)
{
	const char *v = json_string_value(json_object_get(f, key));

	return v && cw_parse_rfc3339_ms(v, out) == 0;
}

static int insert(struct cw_store *s, json_t *f, const char *dedup_key, int64_t ev_ms,
                  int64_t count)
{
	sqlite3_stmt *st = s->ins;
	const char *rname = jstr(f, "resourceName");
	const char *pname = jstr(f, "resource/gcpMetadata/project");
	const char *pdisp = jstr(f, "resource/gcpMetadata/projectDisplayName");
	const char *cname = jstr(f, "containers/0/name");
	int64_t ct, mt;
	char *text;
	int rc;

	if (!rname)
		rname = jstr(f, "resource/name");
	if (!pname)
		pname = jstr(f, "resource/project");
	if (!pname)
		pname = jstr(f, "resource/projectName");
	if (!pdisp)
		pdisp = jstr(f, "resource/projectDisplayName");
	if (!cname)
		cname = jstr(f, "sourceProperties/Container_Name");
	text = json_dumps(f, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text)
		return -ENOMEM;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	bind_opt(st, 1, cw_store_short_id(jstr(f, "name")));
	bind_opt(st, 2, jstr(f, "name"));
	bind_opt(st, 3, jstr(f, "parent"));
	bind_opt(st, 4, jstr(f, "category"));
	bind_opt(st, 5, jstr(f, "state"));
	bind_opt(st, 6, jstr(f, "severity"));
	bind_opt(st, 7, jstr(f, "mute"));
	sqlite3_bind_int64(st, 8, ev_ms);
	if (time_ms(f, "createTime", &ct))
		sqlite3_bind_int64(st, 9, ct);
	bind_opt(st, 10, rname);
	bind_opt(st, 11, jstr(f, "resource/displayName"));
	bind_opt(st, 12, jstr(f, "resource/type"));
	bind_opt(st, 13, pdisp);
	bind_opt(st, 14, pname);
	bind_opt(st, 15, jstr(f, "sourceProperties/Container_Id"));
	bind_opt(st, 16, cname);
	bind_opt(st, 17, jstr(f, "containers/0/uri"));
	bind_opt(st, 18, jstr(f, "containers/0/imageId"));
	bind_opt(st, 19, jstr(f, "kubernetes/pods/0/ns"));
	bind_opt(st, 20, jstr(f, "kubernetes/pods/0/name"));
	bind_opt(st, 21, jstr(f, "processes/0/binary/path"));
	bind_opt(st, 22, dedup_key && dedup_key[0] ? dedup_key : NULL);
	sqlite3_bind_int64(st, 23, count);
	if (time_ms(f, "muteUpdateTime", &mt))
		sqlite3_bind_int64(st, 25, mt);
	sqlite3_bind_text(st, 26, text, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	free(text);
	if (rc == SQLITE_DONE)
		return 0;
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		cw_err("store %s: finding %s is already stored (ids must be unique)", s->path,
		       jstr(f, "name"));
		return -EEXIST;
	}
	return sq_fail(s, rc, "inserting a finding");
}

/* Inside a write transaction: count `incoming` as a repeat of the finding
 * dedup_find_sql returned in q, and turn incoming into what is returned. */
static int dedup_update(struct cw_store *s, sqlite3_stmt *q, json_t *incoming, int64_t ev_ms)
{
	sqlite3_int64 rowid = sqlite3_column_int64(q, 0);
	int64_t count = sqlite3_column_int64(q, 1) + 1;
	json_t *et = json_object_get(incoming, "eventTime"), *sp;
	char buf[40];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(kept_paths) / sizeof(kept_paths[0]); i++) {
		const char *path = kept_paths[i], *dot = strchr(path, '.');
		const char *text = (const char *)sqlite3_column_text(q, 3 + (int)i);
		json_t *obj = incoming, *v;

		if (dot) {
			char key[64];

			snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
			obj = jobj(incoming, key);
			path = dot + 1;
		}
		if (!obj)
			return -ENOMEM;
		if (!text) {
			json_object_del(obj, path); /* not in the stored finding either */
			continue;
		}
		v = strcmp(path, KEPT_OBJECT) ? json_string(text) : json_loads(text, 0, NULL);
		if (!v) {
			json_decref(v);
			cw_err("store %s: stored finding has an unreadable \"%s\": the store is "
			       "damaged",
			       s->path, kept_paths[i]);
			return -EBADMSG;
		}
		if (jset(obj, path, v))
			return -ENOMEM;
	}
	sp = jobj(incoming, "sourceProperties");
	if (!sp || jset(sp, "Occurrence_Count", json_integer(count)))
		return -ENOMEM;

	sqlite3_reset(s->dedup_upd);
	sqlite3_bind_int64(s->dedup_upd, 1, rowid);
	sqlite3_bind_int64(s->dedup_upd, 2, ev_ms);
	sqlite3_bind_text(s->dedup_upd, 3,
	                  json_is_string(et) ? json_string_value(et)
	                                     : cw_rfc3339(ev_ms * 1000000, buf, sizeof(buf)),
	                  -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s->dedup_upd);
	sqlite3_reset(s->dedup_upd);
	sqlite3_clear_bindings(s->dedup_upd);
	if (rc != SQLITE_DONE)
		return sq_fail(s, rc, "updating a deduplicated finding");
	return 0;
}

int cw_store_record(struct cw_store *s, json_t *finding, const char *dedup_key, int64_t window_ms,
                    json_t **stored)
{
	const char *name = jstr(finding, "name");
	const char *et = json_string_value(json_object_get(finding, "eventTime"));
	int64_t ev_ms, count = 1;
	json_t *sp;
	int ret, rc;

	*stored = NULL;
	if (!s || s->readonly) {
		cw_err("store %s: opened read-only: cannot record a finding", s ? s->path : "");
		return -EROFS;
	}
	if (!json_is_object(finding) || !name || !cw_store_short_id(name)[0]) {
		cw_err("store %s: finding has no name: not stored", s->path);
		return -EINVAL;
	}
	if (!et)
		ev_ms = now_ms();
	else if (cw_parse_rfc3339_ms(et, &ev_ms) != 0) {
		cw_err("store %s: finding %s has eventTime \"%s\", not RFC 3339: not stored",
		       s->path, name, et);
		return -EINVAL;
	}
	sp = jobj(finding, "sourceProperties");
	if (!sp)
		return -ENOMEM;
	if (!json_int_value(json_object_get(sp, "Occurrence_Count"), &count)) {
		count = 1;
		if (jset(sp, "Occurrence_Count", json_integer(1)))
			return -ENOMEM;
	}

	ret = exec_retry(s, "BEGIN IMMEDIATE", "starting a write");
	if (ret)
		return ret;
	if (dedup_key && dedup_key[0] && window_ms > 0) {
		sqlite3_stmt *q = s->dedup_find;

		sqlite3_reset(q);
		sqlite3_bind_text(q, 1, dedup_key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, ev_ms - window_ms);
		sqlite3_bind_int64(q, 3, ev_ms + window_ms);
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW) {
			ret = dedup_update(s, q, finding, ev_ms);
			if (!ret)
				*stored = json_incref(finding);
			sqlite3_reset(q);
			sqlite3_clear_bindings(q);
			goto commit;
		}
		sqlite3_reset(q);
		sqlite3_clear_bindings(q);
		if (rc != SQLITE_DONE) {
			ret = sq_fail(s, rc, "looking for a duplicate");
			goto commit;
		}
	}
	ret = insert(s, finding, dedup_key, ev_ms, count);
	if (!ret)
		*stored = json_incref(finding);
commit:
	if (!ret)
		ret = exec_retry(s, "COMMIT", "committing a finding");
	if (ret) {
		rollback(s);
		json_decref(*stored);
		*stored = NULL;
	}
	return ret;
}

/* ---- reads ---- */

static int load_json(struct cw_store *s, sqlite3_stmt *st, int col, json_t **out)
{
	json_error_t jerr;
	const char *text = (const char *)sqlite3_column_text(st, col);

	*out = text ? json_loads(text, 0, &jerr) : NULL;
	if (!*out) {
		cw_err("store %s: a stored finding is not valid JSON (%s): the store is damaged",
		       s->path, text ? jerr.text : "NULL");
		return -EBADMSG;
	}
	return 0;
}

struct row {
	sqlite3_int64 rowid;
	int64_t event_ms;
	char *container_id;
	char *resource_name;
	json_t *json;
};

static void row_clear(struct row *r)
{
	free(r->container_id);
	free(r->resource_name);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

static char *col_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? strdup((const char *)t) : NULL;
}

static bool prefix_ok(const char *id)
{
	return id[0] && !strpbrk(id, "*?[]/");
}

/* Find one finding by full name, short id or unique short-id prefix. */
static int resolve(struct cw_store *s, const char *id, struct row *r)
{
	static const char cols[] = "SELECT rowid, event_time_ms, container_id, resource_name, "
	                           "json FROM findings WHERE ";
	char sql[256];
	int pass, ret = -ENOENT;

	memset(r, 0, sizeof(*r));
	if (!id || !id[0])
		return -EINVAL;
	for (pass = 0; pass < 2 && ret == -ENOENT; pass++) {
		sqlite3_stmt *st;
		char *pattern = NULL;
		int rc, n = 0;

		row_clear(r); /* a row the last pass read but could not use */
		if (pass == 1 && (strchr(id, '/') || !prefix_ok(id)))
			break;
		snprintf(sql, sizeof(sql), "%s%s LIMIT 2", cols,
		         strchr(id, '/') ? "id = ?2 AND name = ?1"
		         : pass == 0     ? "id = ?1"
		                         : "id GLOB ?1");
		ret = prepare(s, sql, &st, 0);
		if (ret)
			return ret;
		if (pass == 1 && asprintf(&pattern, "%s*", id) < 0) {
			sqlite3_finalize(st);
			return -ENOMEM;
		}
		sqlite3_bind_text(st, 1, pattern ? pattern : id, -1, SQLITE_STATIC);
		if (strchr(id, '/'))
			sqlite3_bind_text(st, 2, cw_store_short_id(id), -1, SQLITE_STATIC);
		ret = -ENOENT;
		for (rc = step_first(st); rc == SQLITE_ROW; rc = sqlite3_step(st)) {
			if (++n > 1) {
				ret = -ENOTUNIQ;
				break;
			}
			r->rowid = sqlite3_column_int64(st, 0);
			r->event_ms = sqlite3_column_int64(st, 1);
			r->container_id = col_dup(st, 2);
			r->resource_name = col_dup(st, 3);
			ret = load_json(s, st, 4, &r->json);
			if (ret)
				break;
		}
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			ret = sq_fail(s, rc, "looking up a finding");
		else if (n == 1 && ret == -ENOENT)
			ret = 0;
		sqlite3_finalize(st);
		free(pattern);
		if (ret == 0 && n == 1)
			return 0;
		if (ret != -ENOENT)
			break;
	}
	row_clear(r);
	return ret;
}

int cw_store_get(struct cw_store *s, const char *id, json_t **out)
{
	struct row r;
	int ret = resolve(s, id, &r);

	*out = NULL;
	if (ret)
		return ret;
	*out = json_incref(r.json);
	row_clear(&r);
	return 0;
}

/* Run a SELECT whose first column is a finding's JSON and collect them;
 * restarts from scratch if the database is busy mid-way. bind() is called
 * after every reset. */
static int collect(struct cw_store *s, sqlite3_stmt *st, json_t **out)
{
	for (int attempt = 0;; attempt++) {
		json_t *arr = json_array();
		int rc, ret = 0;

		if (!arr)
			return -ENOMEM;
		sqlite3_reset(st);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			json_t *f;

			ret = load_json(s, st, 0, &f);
			if (ret)
				break;
			if (json_array_append_new(arr, f) != 0) {
				ret = -ENOMEM;
				break;
			}
		}
		if (!ret && is_busy(rc) && attempt < BUSY_RETRIES) {
			json_decref(arr);
			backoff(attempt);
			continue;
		}
		if (!ret && rc != SQLITE_DONE)
			ret = sq_fail(s, rc, "listing findings");
		sqlite3_reset(st);
		if (ret) {
			json_decref(arr);
			return ret;
		}
		*out = arr;
		return 0;
	}
}

/* Prepare "SELECT <what> FROM findings WHERE <filter> <tail>" with the
 * filter's parameters bound; *next is the next free parameter index. */
static int prepare_filtered(struct cw_store *s, const char *what, const struct cw_filter *f,
                            const char *tail, sqlite3_stmt **st, int *next)
{
	char *sql;
	int ret, idx;

	if (asprintf(&sql, "SELECT %s FROM findings WHERE %s%s", what,
	             f && f->where ? f->where : "1", tail) < 0)
		return -ENOMEM;
	ret = prepare(s, sql, st, 0);
	free(sql);
	if (ret)
		return ret;
	idx = cw_filter_bind(f, *st, 1);
	if (idx < 0) {
		sqlite3_finalize(*st);
		*st = NULL;
		return idx;
	}
	*next = idx;
	return 0;
}

int cw_store_list(struct cw_store *s, const struct cw_filter *f, const char *order_by, bool desc,
                  long limit, json_t **out)
{
	const char *col = cw_filter_order_column(order_by ? order_by : "event_time");
	const char *dir = desc ? "DESC" : "ASC";
	sqlite3_stmt *st;
	char tail[128];
	int ret, idx;

	*out = NULL;
	if (!col) {
		cw_err("cannot order by \"%s\": use a field such as event_time, create_time, "
		       "category, state, severity, name, resource_name",
		       order_by);
		return -EINVAL;
	}
	snprintf(tail, sizeof(tail), " ORDER BY %s %s, id %s LIMIT ?", col, dir, dir);
	ret = prepare_filtered(s, "json", f, tail, &st, &idx);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, idx, limit > 0 ? limit : -1);
	ret = collect(s, st, out);
	sqlite3_finalize(st);
	return ret;
}

int cw_store_count(struct cw_store *s, const struct cw_filter *f, int64_t *out)
{
	sqlite3_stmt *st;
	int ret, rc, idx;

	ret = prepare_filtered(s, "count(*)", f, "", &st, &idx);
	if (ret)
		return ret;
	rc = step_first(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		ret = sq_fail(s, rc, "counting findings");
	sqlite3_finalize(st);
	return ret;
}

int cw_store_related(struct cw_store *s, const char *id, int64_t window_ms, json_t **out)
{
	struct row r;
	sqlite3_stmt *st;
	bool by_ctr;
	int ret;

	*out = NULL;
	ret = resolve(s, id, &r);
	if (ret)
		return ret;
	by_ctr = r.container_id && r.container_id[0];
	if (!by_ctr && !(r.resource_name && r.resource_name[0])) {
		row_clear(&r);
		*out = json_array();
		return *out ? 0 : -ENOMEM;
	}
	ret =
	    prepare(s,
	            by_ctr ? "SELECT json FROM findings WHERE container_id = ?1 AND event_time_ms "
	                     "BETWEEN ?2 AND ?3 AND rowid != ?4 ORDER BY event_time_ms, id"
	                   : "SELECT json FROM findings WHERE resource_name = ?1 AND event_time_ms "
	                     "BETWEEN ?2 AND ?3 AND rowid != ?4 ORDER BY event_time_ms, id",
	            &st, 0);
	if (!ret) {
		sqlite3_bind_text(st, 1, by_ctr ? r.container_id : r.resource_name, -1,
		                  SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, r.event_ms - window_ms);
		sqlite3_bind_int64(st, 3, r.event_ms + window_ms);
		sqlite3_bind_int64(st, 4, r.rowid);
		ret = collect(s, st, out);
		sqlite3_finalize(st);
	}
	row_clear(&r);
	return ret;
}

/* ---- lifecycle ---- */

/* In a write transaction: re-resolve, let change() edit the JSON, store it. */
static int update_finding(struct cw_store *s, const char *id, const char *column, const char *value,
                          const char *time_column,
                          int (*change)(json_t *f, const char *value, int64_t now), json_t **out)
{
	const char *cur;
	struct row r = {0};
	sqlite3_stmt *st = NULL;
	int64_t now = now_ms();
	char sql[160], *text = NULL;
	int ret, rc;

	if (out)
		*out = NULL;
	if (s->readonly) {
		cw_err("store %s: opened read-only: cannot change a finding", s->path);
		return -EROFS;
	}
	ret = exec_retry(s, "BEGIN IMMEDIATE", "starting a write");
	if (ret)
		return ret;
	ret = resolve(s, id, &r);
	if (ret)
		goto out;
	cur = json_string_value(json_object_get(r.json, column));
	if (cur && strcmp(cur, value) == 0) {
		ret = 0; /* already so: nothing changes, no change time */
		goto out;
	}
	ret = change(r.json, value, now);
	if (ret)
		goto out;
	text = json_dumps(r.json, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text) {
		ret = -ENOMEM;
		goto out;
	}
	snprintf(sql, sizeof(sql),
	         "UPDATE findings SET %s = ?1, %s = ?2, json = ?3 WHERE rowid = ?4", column,
	         time_column);
	ret = prepare(s, sql, &st, 0);
	if (ret)
		goto out;
	sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, r.rowid);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		ret = sq_fail(s, rc, "updating a finding");
	else
		ret = 1;
out:
	sqlite3_finalize(st);
	free(text);
	if (ret >= 0) {
		int c = exec_retry(s, "COMMIT", "committing a change");

		if (c)
			ret = c;
	}
	if (ret < 0)
		rollback(s);
	if (ret >= 0 && out)
		*out = json_incref(r.json);
	row_clear(&r);
	return ret;
}

static int change_state(json_t *f, const char *value, int64_t now)
{
	json_t *sp = jobj(f, "sourceProperties");

	if (!sp || jset(f, "state", json_string(value)) ||
	    jset(sp, "State_Change_Time", time_json(now)))
		return -ENOMEM;
	return 0;
}

static int change_mute(json_t *f, const char *value, int64_t now)
{
	json_t *info = jobj(f, "muteInfo"), *sm = info ? jobj(info, "staticMute") : NULL;
	char who[64];

	snprintf(who, sizeof(who), "cagewatch findings CLI (uid %u)", (unsigned)getuid());
	if (!sm || jset(f, "mute", json_string(value)) ||
	    jset(f, "muteUpdateTime", time_json(now)) ||
	    jset(f, "muteInitiator", json_string(who)) || jset(sm, "state", json_string(value)) ||
	    jset(sm, "applyTime", time_json(now)))
		return -ENOMEM;
	return 0;
}

int cw_store_set_state(struct cw_store *s, const char *id, const char *state, json_t **out)
{
	if (!state || (strcmp(state, "ACTIVE") != 0 && strcmp(state, "INACTIVE") != 0)) {
		cw_err("state must be ACTIVE or INACTIVE, not \"%s\"", state ? state : "");
		return -EINVAL;
	}
	return update_finding(s, id, "state", state, "state_change_ms", change_state, out);
}

int cw_store_set_mute(struct cw_store *s, const char *id, bool muted, json_t **out)
{
	return update_finding(s, id, "mute", muted ? "MUTED" : "UNMUTED", "mute_update_ms",
	                      change_mute, out);
}

int cw_store_check(struct cw_store *s)
{
	sqlite3_stmt *st;
	int ret, rc;

	ret = prepare(s, "PRAGMA integrity_check", &st, 0);
	if (ret)
		return ret;
	rc = step_first(st);
	if (rc == SQLITE_ROW) {
		const char *msg = (const char *)sqlite3_column_text(st, 0);

		if (!msg || strcmp(msg, "ok") != 0) {
			cw_err("store %s: integrity check failed: %s", s->path, msg ? msg : "?");
			ret = -EBADMSG;
		}
	} else {
		ret = sq_fail(s, rc, "integrity check");
	}
	sqlite3_finalize(st);
	return ret;
}
