/* store.c - SQLite findings store: header checks before opening, schema,
 * cached prepared statements for the agent's hot path (store_write.c records
 * with dedup; store_read.c looks up, lists and relates findings). Every
 * statement retries SQLITE_BUSY on top of busy_timeout so a reader never sees
 * "database is locked" while the agent writes.
 */
#include "store.h"
#include "store_int.h"

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
    "CREATE INDEX IF NOT EXISTS findings_resource ON findings(resource_name, event_time_ms);"
    /* counts and facets (totalSize, by category and severity) read this, not the rows */
    "CREATE INDEX IF NOT EXISTS findings_facets ON findings(category, state, severity, mute, "
    "event_time_ms);";

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
const char *const st_kept_paths[ST_N_KEPT] = {
    "name",          "canonicalName", "createTime",
    "state",         "mute",          "muteUpdateTime",
    "muteInitiator", "muteInfo",      "sourceProperties.State_Change_Time",
};

/* dedup_find_sql: rowid, occurrence_count, event_time_ms, then st_kept_paths. */
static int dedup_find_sql(char *buf, size_t cap)
{
	size_t i, n = (size_t)snprintf(buf, cap, "SELECT rowid, occurrence_count, event_time_ms");

	for (i = 0; i < ST_N_KEPT && n < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, ", json_extract(json, '$.%s')",
		                      st_kept_paths[i]);
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

int st_sq_fail(struct cw_store *s, int rc, const char *what)
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

void st_backoff(int attempt)
{
	struct timespec ts = {0, (long)(1 + attempt % 10) * 10 * 1000000L};

	nanosleep(&ts, NULL);
}

bool st_is_busy(int rc)
{
	return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

/* Step a statement that has not returned a row yet, retrying while busy. */
int st_step_first(sqlite3_stmt *st)
{
	for (int attempt = 0;; attempt++) {
		int rc = sqlite3_step(st);

		if (!st_is_busy(rc) || attempt >= BUSY_RETRIES)
			return rc;
		sqlite3_reset(st);
		st_backoff(attempt);
	}
}

int st_exec_retry(struct cw_store *s, const char *sql, const char *what)
{
	for (int attempt = 0;; attempt++) {
		int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

		if (rc == SQLITE_OK)
			return 0;
		if (!st_is_busy(rc) || attempt >= BUSY_RETRIES)
			return st_sq_fail(s, rc, what);
		st_backoff(attempt);
	}
}

void st_rollback(struct cw_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int st_prepare(struct cw_store *s, const char *sql, sqlite3_stmt **st, unsigned flags)
{
	int rc;

	*st = NULL;
	if (!s->db)
		return -EOPNOTSUPP; /* a PostgreSQL store: not an SQLite statement */
	rc = sqlite3_prepare_v3(s->db, sql, -1, flags, st, NULL);
	if (rc != SQLITE_OK)
		return st_sq_fail(s, rc, "preparing a query");
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

const char *st_jstr(json_t *root, const char *path)
{
	const char *v = json_string_value(jpath(root, path));

	return v && v[0] ? v : NULL;
}

bool st_json_int_value(json_t *v, int64_t *out)
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

int64_t st_now_ms(void)
{
	return cw_now_ns() / 1000000;
}

json_t *st_time_json(int64_t ms)
{
	char buf[40];

	return json_string(cw_rfc3339(ms * 1000000, buf, sizeof(buf)));
}

/* Set obj[key] = v (steals v). */
int st_jset(json_t *obj, const char *key, json_t *v)
{
	if (!v || json_object_set_new(obj, key, v) != 0)
		return -ENOMEM;
	return 0;
}

/* The object obj[key], created if missing. */
json_t *st_jobj(json_t *obj, const char *key)
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

	ret = st_prepare(s, sql, &st, 0);
	if (ret)
		return ret;
	rc = st_step_first(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		ret = st_sq_fail(s, rc, sql);
	sqlite3_finalize(st);
	return ret;
}

static int init_schema(struct cw_store *s)
{
	char sql[512];
	int64_t app = 0, tables = 0;
	int ret;

	ret = st_exec_retry(s, "BEGIN IMMEDIATE", "starting the schema transaction");
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
		ret = st_exec_retry(s, sql, "marking the file as a cagewatch store");
		if (!ret)
			ret = st_exec_retry(s, schema_sql, "creating the schema");
	}
	if (!ret)
		ret = st_exec_retry(s, "COMMIT", "committing the schema");
	if (ret)
		st_rollback(s);
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
		int se = s->db ? sqlite3_system_errno(s->db) : 0,
		    ret = st_sq_fail(s, rc, "opening");

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
	ret = st_exec_retry(s, sql, "setting WAL mode");
	/* One write now (the header page, unchanged): the WAL file's creation
	 * and its syncs happen at open, not on the first finding's path. */
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld", (long long)s->schema_version);
	if (!ret)
		ret = st_exec_retry(s, sql, "opening the write-ahead log");
	if (!ret)
		ret = dedup_find_sql(find_sql, sizeof(find_sql));
	if (!ret)
		ret = st_prepare(s, ins_sql, &s->ins, SQLITE_PREPARE_PERSISTENT);
	if (!ret)
		ret = st_prepare(s, find_sql, &s->dedup_find, SQLITE_PREPARE_PERSISTENT);
	if (!ret)
		ret = st_prepare(s, dedup_upd_sql, &s->dedup_upd, SQLITE_PREPARE_PERSISTENT);
	return ret;
}

/* A postgres:// store: shown (path) without its credentials. */
static int open_pg(struct cw_store **out, const char *url, unsigned flags)
{
	struct cw_store *s = calloc(1, sizeof(*s));
	char shown[512];
	int ret;

	if (!s)
		return -ENOMEM;
	cw_url_redact(url, shown, sizeof(shown));
	s->path = strdup(shown);
	s->readonly = flags & CW_STORE_READONLY;
	ret = s->path ? pg_open(s, url, flags) : -ENOMEM;
	if (ret) {
		cw_store_close(s);
		return ret;
	}
	*out = s;
	return 0;
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
	if (st_is_pg_url(path))
		return open_pg(out, path, flags);
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
	pg_close(s);
	sqlite3_finalize(s->ins);
	sqlite3_finalize(s->dedup_find);
	sqlite3_finalize(s->dedup_upd);
	sqlite3_finalize(s->ob_ins);
	if (s->db && sqlite3_close(s->db) != SQLITE_OK)
		cw_warn("store %s: close: %s", s->path, sqlite3_errmsg(s->db));
	free(s->path);
	free(s);
}

const char *cw_store_path(const struct cw_store *s)
{
	return s ? s->path : NULL;
}
