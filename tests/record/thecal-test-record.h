/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-test-record.h: what the tests of src/record share: a private folder per test (made in a
 * checked fixture, so in the forked child), blocking calls, a record with users, the sqlite3
 * shell (to tamper with a record as an attacker would), and file fingerprints (to prove a refused
 * file was left untouched).
 *
 * Records are opened with THECAL_RECORD_OPEN_FAST_HASH (Argon2id MIN limits, TESTING.md); one
 * test in test-record-users.c uses the INTERACTIVE limits.
 */
#pragma once

#include <check.h>
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "thecal-record.h"
#include "thecal-sync-call.h"

/* A blocking call: SYNC (thecal_record_get_patient, record, &error, "MRN-1") runs
 * thecal_record_get_patient_async (record, "MRN-1", NULL, …) and returns what
 * thecal_record_get_patient_finish (record, result, &error) returns. */
#define SYNC(op, record, error, ...)                                                 \
  ({                                                                                 \
    g_autoptr (ThecalSyncCall) sync_call_ = thecal_sync_call_new ();                 \
    op##_async (record, ##__VA_ARGS__, NULL, thecal_sync_call_callback, sync_call_); \
    op##_finish (record, thecal_sync_call_wait (sync_call_), error);                 \
  })

static char *test_dir = NULL;

static inline void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    {
      g_unlink (path);
      return;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

/* Checked fixture: runs in the forked child of each test. */
static inline void
record_test_setup (void)
{
  g_autoptr (GError) error = NULL;

  test_dir = g_dir_make_tmp ("thecal-record-test-XXXXXX", &error);
  ck_assert_msg (test_dir != NULL, "cannot make a temporary folder: %s", error != NULL ? error->message : "?");
}

static inline void
record_test_teardown (void)
{
  if (test_dir != NULL)
    remove_tree (test_dir);
  g_clear_pointer (&test_dir, g_free);
}

/* A path in the test's folder (owned by the caller). */
static inline char *
test_path (const char *name)
{
  return g_build_filename (test_dir, name, NULL);
}

static inline ThecalRecord *
open_record (const char *path, ThecalRecordOpenFlags flags)
{
  g_autoptr (GError) error = NULL;
  ThecalRecord *record = thecal_record_open_sync (path, flags | THECAL_RECORD_OPEN_FAST_HASH, NULL, &error);

  ck_assert_msg (record != NULL, "cannot open %s: %s", path, error != NULL ? error->message : "?");
  return record;
}

static inline ThecalRecord *
new_record (const char *name)
{
  g_autofree char *path = test_path (name);

  return open_record (path, THECAL_RECORD_OPEN_CREATE);
}

#define TEST_PASSWORD "correct horse battery staple"

static inline ThecalUser *
first_admin (ThecalRecord *record)
{
  g_autoptr (ThecalSyncCall) call = thecal_sync_call_new ();
  g_autoptr (GError) error = NULL;
  ThecalUser *admin;

  thecal_record_create_first_administrator_async (record, "admin", "Ada Admin", TEST_PASSWORD, NULL,
                                                  thecal_sync_call_callback, call);
  admin = thecal_record_create_first_administrator_finish (record, thecal_sync_call_wait (call), &error);
  ck_assert_msg (admin != NULL, "first administrator: %s", error != NULL ? error->message : "?");
  return admin;
}

static inline ThecalUser *
add_user (ThecalRecord *record, const ThecalUser *admin, const char *name, const char *full_name, ThecalRole role)
{
  g_autoptr (ThecalSyncCall) call = thecal_sync_call_new ();
  g_autoptr (GError) error = NULL;
  ThecalUser *user;

  thecal_record_add_user_async (record, admin, name, full_name, role, TEST_PASSWORD, NULL,
                                thecal_sync_call_callback, call);
  user = thecal_record_add_user_finish (record, thecal_sync_call_wait (call), &error);
  ck_assert_msg (user != NULL, "add user %s: %s", name, error != NULL ? error->message : "?");
  return user;
}

static inline ThecalPatient *
try_add_patient (ThecalRecord *record, const ThecalUser *actor, const char *mrn, const char *name, GError **error)
{
  g_autoptr (ThecalSyncCall) call = thecal_sync_call_new ();
  ThecalPatientInput input = {
    .mrn = mrn,
    .name = name,
    .date_of_birth = "1961-04-12",
    .opioid_tolerance = THECAL_OPIOID_TOLERANT,
    .notes = "",
  };

  thecal_record_add_patient_async (record, actor, &input, NULL, thecal_sync_call_callback, call);
  return thecal_record_add_patient_finish (record, thecal_sync_call_wait (call), error);
}

static inline ThecalPatient *
add_patient (ThecalRecord *record, const ThecalUser *actor, const char *mrn, const char *name)
{
  g_autoptr (GError) error = NULL;
  ThecalPatient *patient = try_add_patient (record, actor, mrn, name, &error);

  ck_assert_msg (patient != NULL, "add patient %s: %s", mrn, error != NULL ? error->message : "?");
  return patient;
}

static inline ThecalPump *
add_pump (ThecalRecord *record, const ThecalUser *actor, const char *serial, const char *mrn)
{
  g_autoptr (ThecalSyncCall) call = thecal_sync_call_new ();
  g_autoptr (GError) error = NULL;
  ThecalPumpInput input = {
    .serial = serial,
    .model_id = "TR-20",
    .patient_mrn = mrn,
    .implant_date = "2024-03-01",
    .catheter_length_mm = 1100,
    .pairing_key = NULL,
  };
  ThecalPump *pump;

  thecal_record_add_pump_async (record, actor, &input, NULL, thecal_sync_call_callback, call);
  pump = thecal_record_add_pump_finish (record, thecal_sync_call_wait (call), &error);
  ck_assert_msg (pump != NULL, "add pump %s: %s", serial, error != NULL ? error->message : "?");
  return pump;
}

static inline ThecalAuditVerification *
verify_audit (ThecalRecord *record, gint64 anchor_seq, const guint8 *anchor_hash)
{
  g_autoptr (ThecalSyncCall) call = thecal_sync_call_new ();
  g_autoptr (GError) error = NULL;
  ThecalAuditVerification *verification;

  thecal_record_verify_audit_async (record, anchor_seq, anchor_hash, NULL, thecal_sync_call_callback, call);
  verification = thecal_record_verify_audit_finish (record, thecal_sync_call_wait (call), &error);
  ck_assert_msg (verification != NULL, "verify: %s", error != NULL ? error->message : "?");
  return verification;
}

static inline GPtrArray *
list_audit (ThecalRecord *record)
{
  g_autoptr (ThecalSyncCall) call = thecal_sync_call_new ();
  g_autoptr (GError) error = NULL;
  GPtrArray *entries;

  thecal_record_list_audit_async (record, 1, 0, NULL, thecal_sync_call_callback, call);
  entries = thecal_record_list_audit_finish (record, thecal_sync_call_wait (call), &error);
  ck_assert_msg (entries != NULL, "list audit: %s", error != NULL ? error->message : "?");
  return entries;
}

/* The audit entries whose action is @action. */
static inline guint
count_audit (ThecalRecord *record, const char *action)
{
  g_autoptr (GPtrArray) entries = list_audit (record);
  guint n = 0;

  for (guint i = 0; i < entries->len; i++)
    if (g_str_equal (((ThecalAuditEntry *) entries->pdata[i])->action, action))
      n++;
  return n;
}

/* Runs the sqlite3 shell on @path with @sql; returns its exit status, stdout in *@out (may be
 * NULL). The shell opens the file as any other program would: no Thecal code involved. */
static inline int
sqlite_shell (const char *path, const char *sql, char **out)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *stdout_text = NULL;
  g_autofree char *stderr_text = NULL;
  const char *argv[] = { "sqlite3", "-batch", "-bail", path, sql, NULL };
  int status = 0;

  ck_assert_msg (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &stdout_text,
                               &stderr_text, &status, &error),
                 "cannot run sqlite3 (install the sqlite3 package): %s", error != NULL ? error->message : "?");
  if (out != NULL)
    *out = g_strconcat (stdout_text, stderr_text, NULL);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static inline void
sqlite_shell_ok (const char *path, const char *sql)
{
  g_autofree char *out = NULL;
  int status = sqlite_shell (path, sql, &out);

  ck_assert_msg (status == 0, "sqlite3 %s failed (%d): %s", sql, status, out);
}

/* SHA-256 of the file's bytes, or "missing". */
static inline char *
file_fingerprint (const char *path)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &contents, &length, NULL))
    return g_strdup ("missing");
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, length);
}

static inline guint
file_mode (const char *path)
{
  GStatBuf st;

  ck_assert_msg (g_stat (path, &st) == 0, "stat %s: %s", path, g_strerror (errno));
  return st.st_mode & 07777;
}

static inline void
chown_tree (const char *path)
{
  g_autoptr (GDir) folder = g_dir_open (path, 0, NULL);
  const char *name;

  ck_assert_int_eq (lchown (path, 65534, 65534), 0);
  while (folder != NULL && (name = g_dir_read_name (folder)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      chown_tree (child);
    }
}

/* Runs the rest of the test as nobody when it is root (root writes read-only files anyway). */
static inline void
become_nobody (void)
{
  if (geteuid () != 0)
    return;
  chown_tree (test_dir);
  ck_assert_int_eq (setgid (65534), 0);
  ck_assert_int_eq (setuid (65534), 0);
}
