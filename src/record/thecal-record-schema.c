/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-record-schema.c: opening a record: which files are accepted, the migrations, the backup
 * taken before them (STYLE.md §5: iSH's migration runner, tinysparql's user_version).
 *
 * The order matters, because a refused file must be left exactly as it was:
 *   1. Without SQLite: the path is a regular file (or missing: created 0600 when asked) whose
 *      first 16 bytes are SQLite's magic.
 *   2. SQLite opens it read-write without creating anything, with checkpoint-on-close switched
 *      off, and only reads: application_id, user_version, whether there is any schema, and
 *      PRAGMA quick_check. A file that is not a Thecal record, is damaged or is too new is
 *      refused here; closing does not write to it.
 *   3. Only an accepted file is changed: WAL, a backup copy when a migration is due, then each
 *      migration in its own transaction (user_version bumped in the same transaction).
 * docs/record.md describes the schema and how to add a migration.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "thecal-record-private.h"
#include "thecal-record-schema-sql.h"

/* migrations[i] turns a version-i record into version i + 1 (iSH's fake-migrate.c). To add a
 * schema version: write thecal-record-schema-vN.sql, add it here, bump
 * THECAL_RECORD_SCHEMA_VERSION, and store a file of the old version under tests/record/data
 * (docs/record.md). */
static const ThecalRecordMigration migrations[] = {
  { "v1: patients, pumps, prescriptions, programming, refills, events, alarms, users, audit",
    thecal_record_schema_v1_sql },
  { "v2: pump writes (refills and boluses) recorded pending before the pump is touched",
    thecal_record_schema_v2_sql },
};
G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == THECAL_RECORD_SCHEMA_VERSION);

const ThecalRecordMigration *_thecal_record_test_migration = NULL;

static const char sqlite_magic[16] = "SQLite format 3";

static gint
newest_version (void)
{
  return THECAL_RECORD_SCHEMA_VERSION + (_thecal_record_test_migration != NULL ? 1 : 0);
}

static const ThecalRecordMigration *
migration_to (gint version)
{
  if (version >= 1 && version <= THECAL_RECORD_SCHEMA_VERSION)
    return &migrations[version - 1];
  if (version == THECAL_RECORD_SCHEMA_VERSION + 1 && _thecal_record_test_migration != NULL)
    return _thecal_record_test_migration;
  return NULL;
}

/* Creates @path as an empty file with mode 0600 whatever the umask (open () applies the umask,
 * so the mode is set again with fchmod ()), and its folder 0700 when missing. SQLite never
 * creates the record: it is opened without SQLITE_OPEN_CREATE, and it gives its -wal and -shm
 * files the mode of the database file. */
/* Creates @dir and the missing folders above it, each 0700 whatever the umask. */
static gboolean
make_private_folders (const char *dir, GError **error)
{
  g_autofree char *parent = NULL;
  int saved_errno;

  if (g_file_test (dir, G_FILE_TEST_IS_DIR))
    return TRUE;
  parent = g_path_get_dirname (dir);
  if (!g_str_equal (parent, dir) && !make_private_folders (parent, error))
    return FALSE;
  if (g_mkdir (dir, 0700) == 0 ? g_chmod (dir, 0700) < 0 : errno != EEXIST)
    {
      saved_errno = errno;
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_CANT_OPEN,
                   _ ("Cannot create the folder %s for the record (%s)."), dir, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

static gboolean
create_private_file (const char *path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  int saved_errno;
  int fd;

  if (!make_private_folders (dir, error))
    return FALSE;
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    {
      saved_errno = errno;
      g_set_error (error, THECAL_DB_ERROR,
                   saved_errno == EROFS || saved_errno == EACCES ? THECAL_DB_ERROR_READONLY : THECAL_DB_ERROR_CANT_OPEN,
                   _ ("Cannot create the record file %s (%s)."), path, g_strerror (saved_errno));
      return FALSE;
    }
  if (fchmod (fd, 0600) < 0 || fsync (fd) < 0)
    {
      saved_errno = errno;
      close (fd);
      g_unlink (path);
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_CANT_OPEN,
                   _ ("Cannot create the record file %s (%s)."), path, g_strerror (saved_errno));
      return FALSE;
    }
  close (fd);
  return TRUE;
}

/* Step 1: the file's first bytes, read without SQLite. */
static gboolean
check_magic (const char *path, goffset size, GError **error)
{
  char header[16] = { 0 };
  ssize_t got;
  int saved_errno;
  int fd;

  if (size == 0)
    return TRUE; /* empty (a record being created), or all of it still in the -wal file */
  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    {
      saved_errno = errno;
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_CANT_OPEN,
                   _ ("The record file %s cannot be opened (%s)."), path, g_strerror (saved_errno));
      return FALSE;
    }
  got = read (fd, header, sizeof header);
  close (fd);
  if (got != (ssize_t) sizeof header || memcmp (header, sqlite_magic, sizeof header) != 0)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_NOT_A_RECORD,
                   _ ("%s is not a Thecal patient record: Thecal did not change it."), path);
      return FALSE;
    }
  return TRUE;
}

static gboolean
read_int (ThecalRecordDb *db, const char *sql, gint64 *value, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (db->db, sql, -1, &stmt, NULL);

  if (rc == SQLITE_OK)
    {
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          *value = sqlite3_column_int64 (stmt, 0);
          rc = SQLITE_OK;
        }
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_OK)
    return _thecal_record_sqlite_error (db, rc, error);
  return TRUE;
}

/* PRAGMA quick_check: O(N) but far cheaper than integrity_check; "ok" or the problems found.
 * A broken page or index is damage: the file is refused. A row that breaks a CHECK or NOT NULL
 * constraint is not: it was written behind Thecal's back (with the constraints switched off),
 * and refusing the file would hide it from the audit verifier, which names what was changed. */
static gboolean
quick_check (ThecalRecordDb *db, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  gboolean damaged = FALSE;
  int rc = sqlite3_prepare_v2 (db->db, "PRAGMA quick_check (100)", -1, &stmt, NULL);

  while (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *line = (const char *) sqlite3_column_text (stmt, 0);

      rc = SQLITE_OK;
      if (line == NULL || g_str_equal (line, "ok"))
        continue;
      if (g_str_has_prefix (line, "CHECK constraint failed") || g_str_has_prefix (line, "NULL value in"))
        g_debug ("%s: %s (reported by the audit verifier)", db->path, line);
      else
        damaged = TRUE;
    }
  if (rc == SQLITE_DONE)
    rc = SQLITE_OK;
  sqlite3_finalize (stmt);
  if (rc != SQLITE_OK)
    return _thecal_record_sqlite_error (db, rc, error);
  if (damaged)
    return _thecal_record_sqlite_error (db, SQLITE_CORRUPT, error);
  return TRUE;
}

/* The triggers the schema of @version must have: every CREATE TRIGGER of its migrations, less
 * those a later migration drops. */
GPtrArray *
_thecal_record_expected_triggers (gint version)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);

  for (gint to = 1; to <= version; to++)
    {
      const ThecalRecordMigration *migration = migration_to (to);
      g_autoptr (GRegex) regex = g_regex_new ("(CREATE|DROP) TRIGGER (IF (NOT )?EXISTS )?([A-Za-z0-9_]+)", 0, 0, NULL);
      g_autoptr (GMatchInfo) match = NULL;

      if (migration == NULL)
        continue;
      g_regex_match (regex, migration->sql, 0, &match);
      while (g_match_info_matches (match))
        {
          g_autofree char *verb = g_match_info_fetch (match, 1);
          g_autofree char *name = g_match_info_fetch (match, 4);
          guint index;

          if (g_str_equal (verb, "CREATE"))
            g_ptr_array_add (names, g_steal_pointer (&name));
          else if (g_ptr_array_find_with_equal_func (names, name, g_str_equal, &index))
            g_ptr_array_remove_index (names, index);
          g_match_info_next (match, NULL);
        }
    }
  return names;
}

/* "<record>.v1.20261122T101500Z.backup", made unique with "-2", "-3"... */
static char *
backup_path_for (const char *path, gint version)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%SZ");
  char *candidate = g_strdup_printf ("%s.v%d.%s.backup", path, version, stamp);

  for (int n = 2; g_file_test (candidate, G_FILE_TEST_EXISTS); n++)
    {
      g_free (candidate);
      candidate = g_strdup_printf ("%s.v%d.%s-%d.backup", path, version, stamp, n);
    }
  return candidate;
}

/* A complete copy of the record through sqlite3_backup_* (one consistent snapshot, WAL
 * included), into a new 0600 file, before the first migration changes anything. */
static char *
take_backup (ThecalRecordDb *db, gint version, GError **error)
{
  g_autofree char *backup_path = backup_path_for (db->path, version);
  sqlite3 *dest = NULL;
  sqlite3_backup *backup;
  int rc;

  if (!create_private_file (backup_path, error))
    return NULL;
  rc = sqlite3_open_v2 (backup_path, &dest, SQLITE_OPEN_READWRITE, NULL);
  if (rc == SQLITE_OK)
    {
      backup = sqlite3_backup_init (dest, "main", db->db, "main");
      if (backup == NULL)
        rc = sqlite3_errcode (dest);
      else
        {
          rc = sqlite3_backup_step (backup, -1);
          if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
          sqlite3_backup_finish (backup);
          if (rc == SQLITE_OK)
            rc = sqlite3_errcode (dest);
        }
    }
  if (rc != SQLITE_OK)
    {
      g_autoptr (GError) local_error = NULL;

      _thecal_record_sqlite_error_full (dest, backup_path, rc, THECAL_SQLITE_WRITING, &local_error);
      sqlite3_close_v2 (dest);
      g_unlink (backup_path);
      g_set_error (error, THECAL_DB_ERROR, local_error->code,
                   _ ("No backup of the record could be taken before updating it, so it was not "
                      "updated: %s"),
                   local_error->message);
      return NULL;
    }
  sqlite3_close_v2 (dest);
  return g_steal_pointer (&backup_path);
}

static gboolean
insert_info (ThecalRecordDb *db, const char *key, const char *value, GError **error)
{
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_INFO_INSERT, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, value, -1, SQLITE_TRANSIENT);
  return _thecal_record_step_done (db, stmt, error);
}

/* The record's identity, written once in the transaction that creates it. */
static gboolean
write_identity (ThecalRecordDb *db, gint64 now_utc_ms, GError **error)
{
  guint8 id_bytes[16];
  g_autofree char *record_id = NULL;
  g_autofree char *created = g_strdup_printf ("%" G_GINT64_FORMAT, now_utc_ms);
  g_autofree char *kek_check = NULL;

  randombytes_buf (id_bytes, sizeof id_bytes);
  record_id = g_malloc (sizeof id_bytes * 2 + 1);
  sodium_bin2hex (record_id, sizeof id_bytes * 2 + 1, id_bytes, sizeof id_bytes);
  if (!insert_info (db, "record_id", record_id, error)
      || !insert_info (db, "created_utc_ms", created, error)
      || !insert_info (db, "demo", db->demo ? "1" : "0", error))
    return FALSE;
  if (db->have_kek)
    {
      kek_check = _thecal_record_kek_check (db);
      if (!insert_info (db, "kek_check", kek_check, error))
        return FALSE;
    }
  return TRUE;
}

static char *
read_info (ThecalRecordDb *db, const char *key, GError **error)
{
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_INFO_GET, error);
  char *value = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  rc = _thecal_record_step (db, stmt, error);
  if (rc < 0)
    return NULL;
  if (rc == 1)
    value = _thecal_record_column_text (stmt, 0);
  sqlite3_reset (stmt);
  if (value == NULL)
    value = g_strdup (""); /* absent */
  return value;
}

/* Runs migration @to (from @to − 1) in one transaction, with its audit entry. @creating: a new
 * record, made in one transaction by every migration up to @to, with its identity and one
 * "record.create" entry. */
static gboolean
run_migration (ThecalRecordDb *db, gint to, gboolean creating, GError **error)
{
  const ThecalRecordMigration *migration = migration_to (to);
  g_autofree char *created = g_strdup_printf ("{\"schema_version\":%d,\"demo\":%s}", to, db->demo ? "true" : "false");
  g_autoptr (GError) local_error = NULL;
  g_autofree char *pragma = g_strdup_printf ("PRAGMA user_version = %d", to);
  g_autofree char *before = g_strdup_printf ("{\"schema_version\":%d}", to - 1);
  g_autofree char *after = g_strdup_printf ("{\"schema_version\":%d}", to);
  g_autoptr (ThecalAuditEntry) entry = NULL;
  ThecalAuditInput audit = { 0 };
  gint64 now_utc_ms = _thecal_record_now_utc_ms ();
  gboolean ok;

  g_assert (migration != NULL);
  db->writing = TRUE;
  if (!_thecal_record_exec (db, "BEGIN IMMEDIATE", error))
    return FALSE;
  ok = TRUE;
  for (gint from = creating ? 1 : to; ok && from <= to; from++)
    ok = _thecal_record_exec (db, migration_to (from)->sql, &local_error);
  if (ok && (creating || to == 1))
    {
      g_autofree char *set_id = g_strdup_printf ("PRAGMA application_id = %d", THECAL_RECORD_APPLICATION_ID);

      ok = _thecal_record_exec (db, set_id, &local_error);
    }
  if (ok)
    ok = _thecal_record_exec (db, pragma, &local_error);
  if (ok && creating)
    ok = write_identity (db, now_utc_ms, &local_error);
  if (ok)
    {
      audit.action = creating ? "record.create" : "record.migrate";
      audit.object_type = "record";
      audit.before = creating ? NULL : before;
      audit.after = creating ? created : after;
      audit.reason = migration->name;
      entry = _thecal_record_audit_append (db, NULL, NULL, &audit, &local_error);
      ok = entry != NULL;
    }
  if (ok)
    ok = _thecal_record_exec (db, "COMMIT", &local_error);
  if (!ok)
    {
      g_autoptr (GError) rollback_error = NULL;

      if (!sqlite3_get_autocommit (db->db))
        _thecal_record_exec (db, "ROLLBACK", &rollback_error);
      if (creating)
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_MIGRATION,
                     _ ("Updating the record to version %d failed, so it was left at version %d: %s"),
                     to, to - 1, local_error->message);
      db->writing = FALSE;
      _thecal_record_reset_statements (db);
      return FALSE;
    }
  db->writing = FALSE;
  _thecal_record_reset_statements (db);
  return TRUE;
}

/* After a refusal: SQLite may have made empty -wal and -shm files beside a file that had none;
 * they are removed so the folder is as it was (only when the -wal is still empty). */
static void
remove_side_files (const char *path, gboolean had_wal, gboolean had_shm)
{
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);
  GStatBuf st;

  if (!had_wal && g_stat (wal, &st) == 0 && st.st_size == 0)
    {
      g_unlink (wal);
      if (!had_shm)
        g_unlink (shm);
    }
}

static gboolean
configure_connection (ThecalRecordDb *db, GError **error)
{
  g_autofree char *mode = NULL;
  sqlite3_stmt *stmt = NULL;
  int rc;

  /* WAL, full fsync at every commit, foreign keys enforced (STYLE.md §5 [rec]); freed pages
   * are overwritten (old password hashes, corrected search words). */
  rc = sqlite3_prepare_v2 (db->db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      mode = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      rc = SQLITE_OK;
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_OK)
    return _thecal_record_sqlite_error (db, rc, error);
  if (g_ascii_strcasecmp (mode, "wal") != 0 && !db->read_only)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_FAILED,
                   _ ("The record file %s cannot be switched to write-ahead logging (journal mode “%s”)."),
                   db->path, mode);
      return FALSE;
    }
  return _thecal_record_exec (db, "PRAGMA synchronous = FULL", error)
         && _thecal_record_exec (db, "PRAGMA foreign_keys = ON", error)
         && _thecal_record_exec (db, "PRAGMA secure_delete = ON", error)
         && _thecal_record_exec (db, "PRAGMA trusted_schema = OFF", error);
}

/* Group and others lose every right on an existing record and its key (it holds patient data;
 * a copy made with cp may have 0644). Only the owner can do this, and only bits are removed. */
static void
tighten_mode (const char *path)
{
  GStatBuf st;

  if (g_stat (path, &st) == 0 && st.st_uid == getuid () && (st.st_mode & 077) != 0)
    g_chmod (path, (int) (st.st_mode & 0700));
}

gpointer
_thecal_record_op_open (ThecalRecordDb *db, gpointer data, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *wal_path = g_strconcat (db->path, "-wal", NULL);
  g_autofree char *shm_path = g_strconcat (db->path, "-shm", NULL);
  ThecalRecordOpenInfo *info;
  gboolean had_wal = g_file_test (wal_path, G_FILE_TEST_EXISTS);
  gboolean had_shm = g_file_test (shm_path, G_FILE_TEST_EXISTS);
  gboolean creating = FALSE;
  gboolean accepted = FALSE;
  gint64 application_id = 0;
  gint64 user_version = 0;
  gint64 n_schema = 0;
  g_autofree char *backup_path = NULL;
  g_autofree char *demo = NULL;
  GStatBuf st;
  int rc;

  (void) data;
  _thecal_record_db_assert_owner (db);
  if (sodium_init () < 0)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_FAILED,
                   _ ("The cryptography library (libsodium) cannot start: the record is not opened."));
      return NULL;
    }
  /* Argon2id: INTERACTIVE for people; MIN only for tests (docs/security.md). */
  db->pwhash_opslimit = (db->flags & THECAL_RECORD_OPEN_FAST_HASH) ? crypto_pwhash_OPSLIMIT_MIN : crypto_pwhash_OPSLIMIT_INTERACTIVE;
  db->pwhash_memlimit = (db->flags & THECAL_RECORD_OPEN_FAST_HASH) ? crypto_pwhash_MEMLIMIT_MIN : crypto_pwhash_MEMLIMIT_INTERACTIVE;

  /* 1. Without SQLite. */
  if (g_lstat (db->path, &st) < 0)
    {
      int saved_errno = errno;

      if (saved_errno != ENOENT)
        {
          g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_CANT_OPEN,
                       _ ("The record file %s cannot be opened (%s)."), db->path, g_strerror (saved_errno));
          return NULL;
        }
      if (!(db->flags & THECAL_RECORD_OPEN_CREATE))
        {
          g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_NO_RECORD,
                       _ ("There is no patient record at %s."), db->path);
          return NULL;
        }
      if (!create_private_file (db->path, error))
        return NULL;
      creating = TRUE;
    }
  else if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_NOT_A_RECORD,
                   _ ("%s is not a Thecal patient record (not a regular file): Thecal did not change it."), db->path);
      return NULL;
    }
  else if (!check_magic (db->path, st.st_size, error))
    return NULL;

  /* 2. SQLite, reading only. */
  db->inspecting = TRUE;
  rc = sqlite3_open_v2 (db->path, &db->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE, NULL);
  if (rc != SQLITE_OK)
    {
      _thecal_record_sqlite_error (db, rc, error);
      g_clear_pointer (&db->db, sqlite3_close_v2);
      return NULL;
    }
  sqlite3_db_config (db->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
  sqlite3_busy_timeout (db->db, 5000);
  db->read_only = sqlite3_db_readonly (db->db, "main") == 1;

  if (read_int (db, "PRAGMA application_id", &application_id, &local_error)
      && read_int (db, "PRAGMA user_version", &user_version, &local_error)
      && read_int (db, "SELECT count (*) FROM sqlite_schema", &n_schema, &local_error))
    {
      if (application_id == 0 && user_version == 0 && n_schema == 0)
        {
          /* An empty database: a record being created (perhaps by a run that was killed before
           * its first transaction committed). */
          if (!(db->flags & THECAL_RECORD_OPEN_CREATE))
            g_set_error (&local_error, THECAL_DB_ERROR, THECAL_DB_ERROR_NO_RECORD,
                         _ ("There is no patient record at %s yet (the file is empty)."), db->path);
          else
            creating = TRUE;
        }
      else if (application_id != THECAL_RECORD_APPLICATION_ID || user_version < 1)
        g_set_error (&local_error, THECAL_DB_ERROR, THECAL_DB_ERROR_NOT_A_RECORD,
                     _ ("%s is not a Thecal patient record: Thecal did not change it."), db->path);
      else if (user_version > newest_version ())
        g_set_error (&local_error, THECAL_DB_ERROR, THECAL_DB_ERROR_TOO_NEW,
                     _ ("The record %s was written by a newer version of Thecal (record version %" G_GINT64_FORMAT
                        ", this Thecal knows up to %d): Thecal did not change it. Use the newer version."),
                     db->path, user_version, newest_version ());
      else if (quick_check (db, &local_error))
        accepted = TRUE;
    }
  db->inspecting = FALSE;
  if (!accepted && !creating)
    {
      g_clear_pointer (&db->db, sqlite3_close_v2);
      remove_side_files (db->path, had_wal, had_shm);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (creating && db->read_only)
    {
      g_clear_pointer (&db->db, sqlite3_close_v2);
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_READONLY,
                   _ ("The record file %s is read-only: the record cannot be created."), db->path);
      return NULL;
    }

  /* 3. Accepted: from here on the file may change. */
  if (!db->read_only)
    {
      tighten_mode (db->path);
      if (!configure_connection (db, error))
        return NULL;
    }
  else if (!_thecal_record_exec (db, "PRAGMA foreign_keys = ON", error))
    return NULL;

  if (creating)
    {
      db->demo = (db->flags & THECAL_RECORD_OPEN_CREATE_DEMO) != 0;
      if (!_thecal_record_keys_load (db, TRUE, error))
        return NULL;
      if (!run_migration (db, newest_version (), TRUE, error))
        return NULL;
      user_version = newest_version ();
    }
  else
    {
      if (user_version < newest_version ())
        {
          if (db->read_only)
            {
              g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_READONLY,
                           _ ("The record %s is version %" G_GINT64_FORMAT " and must be updated, but it is read-only."),
                           db->path, user_version);
              return NULL;
            }
          backup_path = take_backup (db, (gint) user_version, error);
          if (backup_path == NULL)
            return NULL;
        }
      for (gint to = (gint) user_version + 1; to <= newest_version (); to++)
        if (!run_migration (db, to, FALSE, error))
          return NULL;
      user_version = newest_version ();
      demo = read_info (db, "demo", error);
      if (demo == NULL)
        return NULL;
      db->demo = g_str_equal (demo, "1");
      if (!_thecal_record_keys_load (db, FALSE, error))
        return NULL;
    }

  db->schema_version = (gint) user_version;
  /* The record is ours now: closing checkpoints the WAL into it as usual. */
  sqlite3_db_config (db->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL);

  info = g_new0 (ThecalRecordOpenInfo, 1);
  info->schema_version = (gint) user_version;
  info->demo = db->demo;
  info->read_only = db->read_only;
  info->created = creating;
  info->backup_path = g_steal_pointer (&backup_path);
  info->key_problem = g_strdup (db->key_problem);
  return info;
}
