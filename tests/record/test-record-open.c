/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-record-open.c: opening and creating a record (src/record/thecal-record-schema.c,
 * docs/record.md): file modes, the connection's settings, which files are refused and that a
 * refused file is left byte for byte as it was, migrations with their backup, the stored files of
 * every earlier schema version, and the threading contract (results on the caller's context).
 */
#include "config.h"

#include <fcntl.h>
#include <unistd.h>

#include "thecal-record-private.h"
#include "thecal-test-record.h"
#include "thecal-test.h"

static gint64
pragma (ThecalRecord *record, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autofree gint64 *value = SYNC (_thecal_record_pragma, record, &error, name);

  ck_assert_msg (value != NULL, "PRAGMA %s: %s", name, error != NULL ? error->message : "?");
  return *value;
}

static char *
shell_value (const char *path, const char *sql)
{
  g_autofree char *out = NULL;

  ck_assert_int_eq (sqlite_shell (path, sql, &out), 0);
  return g_strstrip (g_strdup (out));
}

static void
assert_open_fails (const char *path, ThecalRecordOpenFlags flags, gint code, const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecord) record = thecal_record_open_sync (path, flags | THECAL_RECORD_OPEN_FAST_HASH, NULL, &error);

  ck_assert_msg (record == NULL, "%s opened but should have been refused", path);
  ck_assert_msg (g_error_matches (error, THECAL_DB_ERROR, code), "expected code %d, got %s (%d): %s", code,
                 g_quark_to_string (error->domain), error->code, error->message);
  ck_assert_msg (strstr (error->message, needle) != NULL, "“%s” not in: %s", needle, error->message);
}

/* ---- Creating ------------------------------------------------------------------------------- */

static void
check_created_private (mode_t umask_value)
{
  g_autofree char *path = test_path ("nested/folder/record.sqlite");
  g_autofree char *folder = test_path ("nested/folder");
  g_autofree char *key = NULL;
  g_autofree char *wal = NULL;
  g_autoptr (ThecalRecord) record = NULL;
  mode_t old = umask (umask_value);

  record = open_record (path, THECAL_RECORD_OPEN_CREATE);
  umask (old);
  ck_assert (thecal_record_was_created (record));
  ck_assert_int_eq (thecal_record_get_schema_version (record), THECAL_RECORD_SCHEMA_VERSION);
  /* 0600 whatever the umask: open () applies it, fchmod () sets the mode again. */
  ck_assert_uint_eq (file_mode (path), 0600);
  ck_assert_uint_eq (file_mode (folder), 0700);
  key = thecal_record_key_path (path);
  ck_assert_uint_eq (file_mode (key), 0600);
  /* SQLite gives the -wal file the database file's mode. */
  wal = g_strconcat (path, "-wal", NULL);
  ck_assert_uint_eq (file_mode (wal), 0600);
  ck_assert_ptr_null (thecal_record_get_key_problem (record));
  ck_assert_ptr_null (thecal_record_get_backup_path (record));
}

START_TEST (test_create_0600_umask_0)
{
  check_created_private (0);
}
END_TEST

START_TEST (test_create_0600_umask_277)
{
  /* A umask that would leave 0400: the file is still 0600 (writable by its owner). */
  check_created_private (0277);
}
END_TEST

START_TEST (test_create_0600_umask_022)
{
  check_created_private (022);
}
END_TEST

START_TEST (test_default_path)
{
  g_autofree char *path = NULL;
  g_autofree char *expected = NULL;

  path = thecal_record_default_path ();
  expected = g_build_filename (g_get_user_data_dir (), "thecal", "record.sqlite", NULL);
  ck_assert_str_eq (path, expected);
  {
    g_autofree char *key = thecal_record_key_path ("/x/record.sqlite");

    ck_assert_str_eq (key, "/x/record.sqlite.key");
  }
}
END_TEST

START_TEST (test_connection_settings)
{
  g_autofree char *path = test_path ("record.sqlite");
  g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_CREATE);
  g_autofree char *journal = shell_value (path, "PRAGMA journal_mode");
  g_autofree char *application_id = shell_value (path, "PRAGMA application_id");
  g_autofree char *user_version = shell_value (path, "PRAGMA user_version");

  /* synchronous = FULL is 2; foreign keys on is 1 (per connection: asked on the record's own). */
  ck_assert_int_eq (pragma (record, "synchronous"), 2);
  ck_assert_int_eq (pragma (record, "foreign_keys"), 1);
  ck_assert_int_eq (pragma (record, "secure_delete"), 1);
  /* WAL and the ids are in the file: any program sees them. */
  ck_assert_str_eq (journal, "wal");
  ck_assert_str_eq (application_id, "1414022467"); /* 0x54484543, "THEC" */
  ck_assert_int_eq (atoi (user_version), THECAL_RECORD_SCHEMA_VERSION);
}
END_TEST

START_TEST (test_no_record_without_create)
{
  g_autofree char *path = test_path ("missing.sqlite");

  assert_open_fails (path, THECAL_RECORD_OPEN_DEFAULT, THECAL_DB_ERROR_NO_RECORD, "There is no patient record");
  ck_assert (!g_file_test (path, G_FILE_TEST_EXISTS));
}
END_TEST

START_TEST (test_empty_file)
{
  g_autofree char *path = test_path ("empty.sqlite");
  g_autoptr (ThecalRecord) record = NULL;

  /* An empty file (a creation killed before its first commit) is not yet a record... */
  ck_assert (g_file_set_contents (path, "", 0, NULL));
  assert_open_fails (path, THECAL_RECORD_OPEN_DEFAULT, THECAL_DB_ERROR_NO_RECORD, "the file is empty");
  /* ...and becomes one when creating is allowed. */
  record = open_record (path, THECAL_RECORD_OPEN_CREATE);
  ck_assert (thecal_record_was_created (record));
  ck_assert_uint_eq (file_mode (path), 0600);
}
END_TEST

START_TEST (test_reopen)
{
  g_autofree char *path = test_path ("record.sqlite");
  g_autoptr (GError) error = NULL;
  gboolean needed = TRUE;

  {
    g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_CREATE);
    g_autoptr (ThecalUser) admin = first_admin (record);
    g_autoptr (ThecalPatient) patient = add_patient (record, admin, "MRN-1", "DOE, Jane");
  }
  {
    g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_CREATE);
    g_autoptr (ThecalPatient) patient = SYNC (thecal_record_get_patient, record, &error, "MRN-1");
    g_autoptr (ThecalSyncCall) call = thecal_sync_call_new ();

    ck_assert (!thecal_record_was_created (record));
    ck_assert (!thecal_record_is_demo (record));
    ck_assert_ptr_nonnull (patient);
    ck_assert_str_eq (patient->name, "DOE, Jane");
    thecal_record_needs_first_administrator_async (record, NULL, thecal_sync_call_callback, call);
    ck_assert (thecal_record_needs_first_administrator_finish (record, thecal_sync_call_wait (call), &needed, &error));
    ck_assert (!needed);
  }
}
END_TEST

START_TEST (test_tightens_mode)
{
  g_autofree char *path = test_path ("record.sqlite");
  g_autofree char *key = thecal_record_key_path (path);

  g_object_unref (open_record (path, THECAL_RECORD_OPEN_CREATE));
  /* A copy made with cp under umask 022. */
  ck_assert_int_eq (g_chmod (path, 0644), 0);
  ck_assert_int_eq (g_chmod (key, 0644), 0);
  g_object_unref (open_record (path, THECAL_RECORD_OPEN_DEFAULT));
  ck_assert_uint_eq (file_mode (path), 0600);
  ck_assert_uint_eq (file_mode (key), 0600);
}
END_TEST

/* ---- Refused and untouched ------------------------------------------------------------------- */

static void
assert_refused_untouched (const char *path, gint code, const char *needle)
{
  g_autofree char *before = file_fingerprint (path);
  g_autofree char *after = NULL;
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);
  gboolean had_wal = g_file_test (wal, G_FILE_TEST_EXISTS);
  gboolean had_shm = g_file_test (shm, G_FILE_TEST_EXISTS);

  assert_open_fails (path, THECAL_RECORD_OPEN_CREATE, code, needle);
  /* Twice: a second attempt finds the same file. */
  assert_open_fails (path, THECAL_RECORD_OPEN_CREATE, code, needle);
  after = file_fingerprint (path);
  ck_assert_str_eq (before, after);
  ck_assert_int_eq (g_file_test (wal, G_FILE_TEST_EXISTS), had_wal);
  ck_assert_int_eq (g_file_test (shm, G_FILE_TEST_EXISTS), had_shm);
}

START_TEST (test_refuses_text_file)
{
  g_autofree char *path = test_path ("notes.txt");

  ck_assert (g_file_set_contents (path, "Patient notes, not a database.\n", -1, NULL));
  assert_refused_untouched (path, THECAL_DB_ERROR_NOT_A_RECORD, "is not a Thecal patient record");
}
END_TEST

START_TEST (test_refuses_other_sqlite)
{
  g_autofree char *path = test_path ("other.sqlite");

  sqlite_shell_ok (path, "CREATE TABLE t (x); INSERT INTO t VALUES (1);");
  assert_refused_untouched (path, THECAL_DB_ERROR_NOT_A_RECORD, "is not a Thecal patient record");
}
END_TEST

START_TEST (test_refuses_other_application)
{
  g_autofree char *path = test_path ("other.sqlite");

  sqlite_shell_ok (path, "PRAGMA application_id = 42; PRAGMA user_version = 1; CREATE TABLE t (x);");
  assert_refused_untouched (path, THECAL_DB_ERROR_NOT_A_RECORD, "is not a Thecal patient record");
}
END_TEST

START_TEST (test_refuses_too_new)
{
  g_autofree char *path = test_path ("record.sqlite");
  g_autofree char *version = g_strdup_printf ("PRAGMA user_version = %d", THECAL_RECORD_SCHEMA_VERSION + 1);

  {
    g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_CREATE);
    g_autoptr (ThecalUser) admin = first_admin (record);
  }
  sqlite_shell_ok (path, version);
  assert_refused_untouched (path, THECAL_DB_ERROR_TOO_NEW, "written by a newer version of Thecal");
}
END_TEST

START_TEST (test_refuses_too_new_in_wal)
{
  /* The newer version is only in the -wal file, as a newer Thecal killed before its checkpoint
   * leaves it: the record is still refused, and neither the file nor its -wal is changed (the
   * refusal closes without checkpointing). The crash is made with copies taken while the sqlite3
   * shell still holds the record open. */
  g_autofree char *path = test_path ("record.sqlite");
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *main_before = NULL;
  g_autofree char *wal_before = NULL;
  g_autofree char *command = NULL;
  g_autofree char *version = NULL;
  const char *argv[] = { "sh", "-c", NULL, NULL };
  int status = 0;

  g_object_unref (open_record (path, THECAL_RECORD_OPEN_CREATE));
  command = g_strdup_printf ("printf 'PRAGMA user_version = %d;\\n.shell cp %s %s.saved; cp %s %s.saved\\n' "
                             "| sqlite3 -batch %s && cp %s.saved %s && cp %s.saved %s && rm -f %s-shm",
                             THECAL_RECORD_SCHEMA_VERSION + 1, path, path, wal, wal, path, path, path, wal, wal,
                             path);
  argv[2] = command;
  ck_assert (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status, NULL));
  ck_assert_int_eq (status, 0);
  ck_assert (g_file_test (wal, G_FILE_TEST_EXISTS));
  /* The file itself still says the current version; the -wal says the newer one. */
  {
    int fd = open (path, O_RDONLY);
    guint8 header[64];

    ck_assert_int_eq (pread (fd, header, sizeof header, 0), (ssize_t) sizeof header);
    close (fd);
    ck_assert_int_eq (header[63], THECAL_RECORD_SCHEMA_VERSION);
  }
  main_before = file_fingerprint (path);
  wal_before = file_fingerprint (wal);
  assert_open_fails (path, THECAL_RECORD_OPEN_DEFAULT, THECAL_DB_ERROR_TOO_NEW, "newer version");
  {
    g_autofree char *now = file_fingerprint (path);

    ck_assert_str_eq (main_before, now);
  }
  {
    g_autofree char *now = file_fingerprint (wal);

    ck_assert_str_eq (wal_before, now);
  }
  version = shell_value (path, "PRAGMA user_version");
  ck_assert_int_eq (atoi (version), THECAL_RECORD_SCHEMA_VERSION + 1);
}
END_TEST

START_TEST (test_refuses_corrupt)
{
  g_autofree char *path = test_path ("record.sqlite");
  guint8 garbage[4096];
  int fd;

  {
    g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_CREATE);
    g_autoptr (ThecalUser) admin = first_admin (record);

    for (int i = 0; i < 40; i++)
      {
        g_autofree char *mrn = g_strdup_printf ("MRN-%d", i);
        g_autoptr (ThecalPatient) patient = add_patient (record, admin, mrn, "DOE, Jane");
      }
  }
  /* Damage page 3 (a b-tree page of the schema) with a pattern; the header stays valid. */
  memset (garbage, 0xa5, sizeof garbage);
  fd = open (path, O_WRONLY);
  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (pwrite (fd, garbage, sizeof garbage, 2 * 4096), (ssize_t) sizeof garbage);
  close (fd);
  assert_refused_untouched (path, THECAL_DB_ERROR_CORRUPT, "is damaged");
}
END_TEST

START_TEST (test_refuses_truncated)
{
  g_autofree char *path = test_path ("record.sqlite");
  g_autofree char *before = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecord) record = NULL;

  g_object_unref (open_record (path, THECAL_RECORD_OPEN_CREATE));
  ck_assert_int_eq (truncate (path, 100), 0);
  before = file_fingerprint (path);
  record = thecal_record_open_sync (path, THECAL_RECORD_OPEN_CREATE, NULL, &error);
  ck_assert_ptr_null (record);
  ck_assert_msg (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_CORRUPT)
                     || g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_NOT_A_RECORD),
                 "%s", error->message);
  {
    g_autofree char *now = file_fingerprint (path);

    ck_assert_str_eq (before, now);
  }
}
END_TEST

START_TEST (test_refuses_directory)
{
  assert_open_fails (test_dir, THECAL_RECORD_OPEN_CREATE, THECAL_DB_ERROR_NOT_A_RECORD, "not a regular file");
}
END_TEST

/* ---- Migrations ----------------------------------------------------------------------------- */

static const ThecalRecordMigration test_v2 = {
  "test: one more table",
  "CREATE TABLE test_extra (x INTEGER NOT NULL);",
};

static const ThecalRecordMigration failing_v2 = {
  "test: a migration that fails half-way",
  "CREATE TABLE test_extra (x INTEGER NOT NULL); CREATE TABLE patients (x);",
};

START_TEST (test_migration_backup)
{
  g_autofree char *path = test_path ("record.sqlite");
  g_autofree char *backup = NULL;
  g_autofree char *before = NULL;
  g_autoptr (GError) error = NULL;

  {
    g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_CREATE);
    g_autoptr (ThecalUser) admin = first_admin (record);
    g_autoptr (ThecalPatient) patient = add_patient (record, admin, "MRN-1", "DOE, Jane");
  }
  before = file_fingerprint (path);
  _thecal_record_test_migration = &test_v2;
  {
    g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_DEFAULT);
    g_autoptr (ThecalAuditVerification) verification = verify_audit (record, 0, NULL);

    ck_assert_int_eq (thecal_record_get_schema_version (record), THECAL_RECORD_SCHEMA_VERSION + 1);
    ck_assert_ptr_nonnull (thecal_record_get_backup_path (record));
    backup = g_strdup (thecal_record_get_backup_path (record));
    ck_assert_int_eq (count_audit (record, "record.migrate"), 1);
    ck_assert_int_eq (verification->problem, THECAL_AUDIT_INTACT);
  }
  _thecal_record_test_migration = NULL;
  /* The backup is a private, complete copy of the record as it was before migrating. */
  ck_assert (g_str_has_prefix (backup, path));
  ck_assert (g_str_has_suffix (backup, ".backup"));
  ck_assert_uint_eq (file_mode (backup), 0600);
  {
    g_autofree char *key = thecal_record_key_path (path);
    g_autofree char *backup_key = thecal_record_key_path (backup);
    g_autofree char *key_bytes = NULL;
    gsize length = 0;
    g_autoptr (ThecalRecord) copy = NULL;
    g_autoptr (ThecalPatient) patient = NULL;

    ck_assert (g_file_get_contents (key, &key_bytes, &length, NULL));
    ck_assert (g_file_set_contents (backup_key, key_bytes, (gssize) length, NULL));
    copy = open_record (backup, THECAL_RECORD_OPEN_DEFAULT);
    ck_assert_int_eq (thecal_record_get_schema_version (copy), THECAL_RECORD_SCHEMA_VERSION);
    patient = SYNC (thecal_record_get_patient, copy, &error, "MRN-1");
    ck_assert_ptr_nonnull (patient);
  }
  (void) before;
}
END_TEST

START_TEST (test_migration_failure_rolls_back)
{
  g_autofree char *path = test_path ("record.sqlite");
  g_autofree char *version = NULL;
  g_autofree char *tables = NULL;
  g_autoptr (GError) error = NULL;

  {
    g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_CREATE);
    g_autoptr (ThecalUser) admin = first_admin (record);
  }
  _thecal_record_test_migration = &failing_v2;
  {
    g_autofree char *left_at = g_strdup_printf ("left at version %d", THECAL_RECORD_SCHEMA_VERSION);

    assert_open_fails (path, THECAL_RECORD_OPEN_DEFAULT, THECAL_DB_ERROR_MIGRATION, left_at);
  }
  _thecal_record_test_migration = NULL;
  /* Nothing of the failed migration stayed: same version, no new table. */
  version = shell_value (path, "PRAGMA user_version");
  ck_assert_int_eq (atoi (version), THECAL_RECORD_SCHEMA_VERSION);
  tables = shell_value (path, "SELECT count (*) FROM sqlite_schema WHERE name = 'test_extra'");
  ck_assert_str_eq (tables, "0");
  {
    g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_DEFAULT);
    g_autoptr (ThecalAuditVerification) verification = verify_audit (record, 0, NULL);

    ck_assert_int_eq (verification->problem, THECAL_AUDIT_INTACT);
    ck_assert_int_eq (count_audit (record, "record.migrate"), 0);
  }
}
END_TEST

/* Every stored file of an earlier (or the current) schema version opens, migrates to the current
 * one after a backup, and keeps its data. A new schema version adds its vN.sqlite (and key) to
 * tests/record/data with tests/record/make-record-data (docs/record.md); this test finds them. */
START_TEST (test_stored_versions)
{
  const char *source = g_getenv ("THECAL_SOURCE_DIR");
  g_autofree char *data_dir = NULL;
  gint found = 0;

  ck_assert_msg (source != NULL, "THECAL_SOURCE_DIR is not set: run the tests through meson test");
  data_dir = g_build_filename (source, "tests", "record", "data", NULL);
  for (gint version = 1; version <= THECAL_RECORD_SCHEMA_VERSION; version++)
    {
      g_autofree char *name = g_strdup_printf ("v%d.sqlite", version);
      g_autofree char *stored = g_build_filename (data_dir, name, NULL);
      g_autofree char *stored_key = thecal_record_key_path (stored);
      g_autofree char *path = test_path (name);
      g_autofree char *key = thecal_record_key_path (path);
      g_autofree char *bytes = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (ThecalRecord) record = NULL;
      g_autoptr (ThecalPatient) patient = NULL;
      g_autoptr (GBytes) pairing_key = NULL;
      g_autoptr (ThecalAuditVerification) verification = NULL;
      g_autoptr (ThecalUser) user = NULL;
      gsize length = 0;

      ck_assert_msg (g_file_get_contents (stored, &bytes, &length, NULL), "%s is missing", stored);
      ck_assert (g_file_set_contents (path, bytes, (gssize) length, NULL));
      g_clear_pointer (&bytes, g_free);
      ck_assert_msg (g_file_get_contents (stored_key, &bytes, &length, NULL), "%s is missing", stored_key);
      ck_assert (g_file_set_contents (key, bytes, (gssize) length, NULL));
      found++;

      record = open_record (path, THECAL_RECORD_OPEN_DEFAULT);
      ck_assert_int_eq (thecal_record_get_schema_version (record), THECAL_RECORD_SCHEMA_VERSION);
      if (version < THECAL_RECORD_SCHEMA_VERSION)
        ck_assert_ptr_nonnull (thecal_record_get_backup_path (record));
      else
        ck_assert_ptr_null (thecal_record_get_backup_path (record));
      ck_assert_ptr_null (thecal_record_get_key_problem (record));

      /* The content every generator version writes (tests/record/make-record-data.c). */
      patient = SYNC (thecal_record_get_patient, record, &error, "MRN-0001");
      ck_assert_msg (patient != NULL, "v%d: %s", version, error != NULL ? error->message : "?");
      ck_assert_str_eq (patient->name, "DOE, Jane");
      pairing_key = SYNC (thecal_record_get_pairing_key, record, &error, "SN-0001");
      ck_assert_msg (pairing_key != NULL, "v%d: %s", version, error != NULL ? error->message : "?");
      ck_assert_uint_eq (g_bytes_get_size (pairing_key), THECAL_PAIRING_KEY_BYTES);
      /* The generator's pairing key is the bytes 0, 1, ..., 31. */
      ck_assert_uint_eq (((const guint8 *) g_bytes_get_data (pairing_key, NULL))[31], 31);
      user = SYNC (thecal_record_login, record, &error, "nurse", "the nurse's password");
      ck_assert_msg (user != NULL, "v%d: %s", version, error != NULL ? error->message : "?");
      verification = verify_audit (record, 0, NULL);
      ck_assert_msg (verification->problem == THECAL_AUDIT_INTACT, "v%d: %s", version, verification->message);
      /* one "record.migrate" per migration that ran on this file */
      ck_assert_int_eq (count_audit (record, "record.migrate"), THECAL_RECORD_SCHEMA_VERSION - version);
      /* v1 → v2: the pump writes are there (empty in a v1 file; one confirmed bolus from v2 on) and
       * usable at once */
      {
        g_autoptr (GPtrArray) writes = SYNC (thecal_record_list_pump_writes, record, &error, "SN-0001", FALSE);
        g_autoptr (GPtrArray) unresolved = SYNC (thecal_record_list_pump_writes, record, &error, NULL, TRUE);
        ThecalPumpWriteInput input = { "SN-0001", THECAL_PUMP_WRITE_BOLUS, "after the migration", "{}" };
        g_autoptr (ThecalPumpWrite) write = SYNC (thecal_record_begin_pump_write, record, &error, user, &input);

        ck_assert_msg (writes != NULL, "v%d: %s", version, error != NULL ? error->message : "?");
        ck_assert_uint_eq (writes->len, version >= 2 ? 1 : 0);
        if (version >= 2)
          ck_assert_int_eq (((ThecalPumpWrite *) writes->pdata[0])->outcome, THECAL_OUTCOME_CONFIRMED);
        ck_assert_ptr_nonnull (unresolved);
        ck_assert_uint_eq (unresolved->len, 0);
        ck_assert_msg (write != NULL, "v%d: %s", version, error != NULL ? error->message : "?");
        ck_assert_int_eq (write->outcome, THECAL_OUTCOME_PENDING);
      }
    }
  ck_assert_int_eq (found, THECAL_RECORD_SCHEMA_VERSION);
}
END_TEST

/* ---- Threads and cancellation --------------------------------------------------------------- */

typedef struct
{
  GMainLoop *loop;
  GThread *caller;
  gboolean ran_on_caller;
  ThecalRecord *record;
  GError *error;
} AsyncState;

static void
on_opened (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AsyncState *state = user_data;

  (void) source;
  state->ran_on_caller = g_thread_self () == state->caller
                         && g_main_context_is_owner (g_main_loop_get_context (state->loop));
  state->record = thecal_record_open_finish (result, &state->error);
  g_main_loop_quit (state->loop);
}

START_TEST (test_result_on_caller_context)
{
  g_autofree char *path = test_path ("record.sqlite");
  AsyncState state = { 0 };

  state.loop = g_main_loop_new (NULL, FALSE);
  state.caller = g_thread_self ();
  thecal_record_open_async (path, THECAL_RECORD_OPEN_CREATE | THECAL_RECORD_OPEN_FAST_HASH, NULL, on_opened, &state);
  /* Nothing is delivered before the caller's main loop runs. */
  ck_assert_ptr_null (state.record);
  g_main_loop_run (state.loop);
  ck_assert_msg (state.record != NULL, "%s", state.error != NULL ? state.error->message : "?");
  ck_assert (state.ran_on_caller);
  g_object_unref (state.record);
  g_main_loop_unref (state.loop);
}
END_TEST

START_TEST (test_cancelled_before_start)
{
  g_autoptr (ThecalRecord) record = new_record ("record.sqlite");
  g_autoptr (ThecalUser) admin = first_admin (record);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (ThecalSyncCall) call = thecal_sync_call_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalPatient) patient = NULL;
  ThecalPatientInput input = { "MRN-9", "ROE, Richard", "1950-01-01", THECAL_OPIOID_NAIVE, NULL };
  g_autoptr (GPtrArray) entries_before = list_audit (record);
  g_autoptr (GPtrArray) entries_after = NULL;

  g_cancellable_cancel (cancellable);
  thecal_record_add_patient_async (record, admin, &input, cancellable, thecal_sync_call_callback, call);
  patient = thecal_record_add_patient_finish (record, thecal_sync_call_wait (call), &error);
  ck_assert_ptr_null (patient);
  ck_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_clear_error (&error);
  /* Nothing was written: no patient, no audit entry. */
  patient = SYNC (thecal_record_get_patient, record, &error, "MRN-9");
  ck_assert_ptr_null (patient);
  ck_assert (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_NOT_FOUND));
  entries_after = list_audit (record);
  ck_assert_uint_eq (entries_after->len, entries_before->len);
}
END_TEST

typedef struct
{
  ThecalRecord *record;
  GPtrArray *mrns;
  guint done;
} QueueState;

static void
on_patient_added (GObject *source, GAsyncResult *result, gpointer user_data)
{
  QueueState *state = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalPatient) patient = thecal_record_add_patient_finish (THECAL_RECORD (source), result, &error);

  ck_assert_msg (patient != NULL, "%s", error != NULL ? error->message : "?");
  g_ptr_array_add (state->mrns, g_strdup (patient->mrn));
  state->done++;
}

START_TEST (test_many_calls_in_order)
{
  /* Twenty calls queued at once run in order, each in its own transaction, and their results
   * arrive on the caller's context in the same order. */
  g_autoptr (ThecalRecord) record = new_record ("record.sqlite");
  g_autoptr (ThecalUser) admin = first_admin (record);
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (GPtrArray) patients = NULL;
  g_autoptr (GError) error = NULL;
  QueueState state = { record, g_ptr_array_new_with_free_func (g_free), 0 };

  g_main_context_push_thread_default (context);
  for (int i = 0; i < 20; i++)
    {
      g_autofree char *mrn = g_strdup_printf ("MRN-%02d", i);
      ThecalPatientInput input = { mrn, "ROE, Richard", "1950-01-01", THECAL_OPIOID_NAIVE, NULL };

      thecal_record_add_patient_async (record, admin, &input, NULL, on_patient_added, &state);
    }
  while (state.done < 20)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  for (guint i = 0; i < 20; i++)
    {
      g_autofree char *mrn = g_strdup_printf ("MRN-%02u", i);

      ck_assert_str_eq (state.mrns->pdata[i], mrn);
    }
  g_ptr_array_unref (state.mrns);
  patients = SYNC (thecal_record_list_patients, record, &error, 0, 100);
  ck_assert_uint_eq (patients->len, 20);
}
END_TEST

static Suite *
record_open_suite (void)
{
  Suite *suite = suite_create ("record-open");
  TCase *create = tcase_create ("create");
  TCase *refuse = tcase_create ("refuse");
  TCase *migrate = tcase_create ("migrate");
  TCase *threads = tcase_create ("threads");

  tcase_add_checked_fixture (create, record_test_setup, record_test_teardown);
  tcase_add_test (create, test_create_0600_umask_0);
  tcase_add_test (create, test_create_0600_umask_277);
  tcase_add_test (create, test_create_0600_umask_022);
  tcase_add_test (create, test_default_path);
  tcase_add_test (create, test_connection_settings);
  tcase_add_test (create, test_no_record_without_create);
  tcase_add_test (create, test_empty_file);
  tcase_add_test (create, test_reopen);
  tcase_add_test (create, test_tightens_mode);
  suite_add_tcase (suite, create);

  tcase_add_checked_fixture (refuse, record_test_setup, record_test_teardown);
  tcase_add_test (refuse, test_refuses_text_file);
  tcase_add_test (refuse, test_refuses_other_sqlite);
  tcase_add_test (refuse, test_refuses_other_application);
  tcase_add_test (refuse, test_refuses_too_new);
  tcase_add_test (refuse, test_refuses_too_new_in_wal);
  tcase_add_test (refuse, test_refuses_corrupt);
  tcase_add_test (refuse, test_refuses_truncated);
  tcase_add_test (refuse, test_refuses_directory);
  suite_add_tcase (suite, refuse);

  tcase_add_checked_fixture (migrate, record_test_setup, record_test_teardown);
  tcase_add_test (migrate, test_migration_backup);
  tcase_add_test (migrate, test_migration_failure_rolls_back);
  tcase_add_test (migrate, test_stored_versions);
  suite_add_tcase (suite, migrate);

  tcase_add_checked_fixture (threads, record_test_setup, record_test_teardown);
  tcase_add_test (threads, test_result_on_caller_context);
  tcase_add_test (threads, test_cancelled_before_start);
  tcase_add_test (threads, test_many_calls_in_order);
  suite_add_tcase (suite, threads);
  return suite;
}

THECAL_TEST_MAIN (record_open_suite)
