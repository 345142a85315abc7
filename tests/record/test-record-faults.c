/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-record-faults.c: a full disk, a read-only record and a busy record give clear errors and
 * leave no partial records (src/record/thecal-record-error.c; docs/record.md "Faults").
 *
 * A full disk is a real one: a 1 MiB tmpfs mounted in a private mount namespace of the test's own
 * process (as root, or as a user where unprivileged user namespaces are allowed), which vanishes
 * with the process. PRAGMA max_page_count would only imitate one (SQLite would report SQLITE_FULL
 * without any write failing). Where no namespace can be made, the test falls back to a file size
 * limit (RLIMIT_FSIZE, SIGXFSZ ignored): writes past it fail with EFBIG, which the record reports
 * as a full disk too. test_file_size_limit always runs that second path.
 */
#include "config.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include "thecal-test-record.h"
#include "thecal-test.h"

static gboolean
write_file (const char *path, const char *text)
{
  int fd = open (path, O_WRONLY);
  gboolean ok;

  if (fd < 0)
    return FALSE;
  ok = write (fd, text, strlen (text)) == (ssize_t) strlen (text);
  close (fd);
  return ok;
}

/* A private tmpfs of @size at @dir, in a mount namespace of this process only. FALSE (and no
 * change) where none can be made. Must run before any thread is started (user namespaces). */
static gboolean
mount_small_disk (const char *dir, const char *size)
{
  g_autofree char *options = g_strdup_printf ("size=%s,mode=0700", size);
  uid_t uid = geteuid ();
  gid_t gid = getegid ();

  /* THECAL_TEST_NO_NAMESPACE=1 tries the other path where namespaces work. */
  if (g_getenv ("THECAL_TEST_NO_NAMESPACE") != NULL)
    return FALSE;
  if (uid != 0)
    {
      g_autofree char *uid_map = g_strdup_printf ("%u %u 1\n", (guint) uid, (guint) uid);
      g_autofree char *gid_map = g_strdup_printf ("%u %u 1\n", (guint) gid, (guint) gid);

      if (unshare (CLONE_NEWUSER | CLONE_NEWNS) < 0)
        return FALSE;
      write_file ("/proc/self/setgroups", "deny");
      if (!write_file ("/proc/self/uid_map", uid_map) || !write_file ("/proc/self/gid_map", gid_map))
        return FALSE;
    }
  else if (unshare (CLONE_NEWNS) < 0)
    return FALSE;
  /* Nothing mounted here propagates out of this process. */
  if (mount ("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return FALSE;
  return mount ("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, options) == 0;
}

static void
unmount_small_disk (const char *dir)
{
  umount2 (dir, MNT_DETACH);
}

/* Fills @record with patients until the disk is full; returns how many were saved and checks the
 * failure: THECAL_DB_ERROR_FULL with a clear message, the patient that failed not there. */
static int
fill_until_full (ThecalRecord *record, const ThecalUser *admin, char **failed_mrn)
{
  for (int i = 0; i < 100000; i++)
    {
      g_autofree char *mrn = g_strdup_printf ("MRN-%05d", i);
      g_autofree char *name = g_strdup_printf ("PATIENT, Number %d with a long name to fill pages %0150d", i, i);
      g_autoptr (GError) error = NULL;
      g_autoptr (ThecalPatient) patient = try_add_patient (record, admin, mrn, name, &error);
      g_autoptr (ThecalPatient) lookup = NULL;

      if (patient != NULL)
        continue;
      ck_assert_msg (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_FULL), "expected a full disk, got: %s",
                     error->message);
      ck_assert_msg ((strstr (error->message, "The disk is full") != NULL
                      || strstr (error->message, "largest size this system allows") != NULL)
                         && strstr (error->message, "nothing was saved") != NULL,
                     "%s", error->message);
      g_clear_error (&error);
      /* Not saved, not half-saved: no patient, and (below) no audit entry for it. */
      lookup = SYNC (thecal_record_get_patient, record, &error, mrn);
      ck_assert_ptr_null (lookup);
      ck_assert_msg (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_NOT_FOUND), "%s", error->message);
      *failed_mrn = g_steal_pointer (&mrn);
      return i;
    }
  ck_abort_msg ("the disk never filled up");
  return -1;
}

static void
check_consistent (const char *path, int n_saved)
{
  g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_DEFAULT);
  g_autoptr (ThecalAuditVerification) verification = verify_audit (record, 0, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) patients = SYNC (thecal_record_list_patients, record, &error, 0, 1000000);

  ck_assert_msg (verification->problem == THECAL_AUDIT_INTACT, "%s", verification->message);
  ck_assert_int_eq ((int) patients->len, n_saved);
  ck_assert_int_eq ((int) count_audit (record, "patient.create"), n_saved);
}

static struct rlimit saved_limit;

/* How space is freed: the ballast file removed from the small disk, or the size limit raised. */
static void
free_space (const char *ballast_path)
{
  if (ballast_path != NULL)
    ck_assert_int_eq (g_unlink (ballast_path), 0);
  else
    ck_assert_int_eq (setrlimit (RLIMIT_FSIZE, &saved_limit), 0);
}

static void
full_disk_scenario (const char *dir, const char *ballast_path)
{
  g_autofree char *path = g_build_filename (dir, "record.sqlite", NULL);
  g_autofree char *failed_mrn = NULL;
  int n_saved;

  {
    g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_CREATE);
    g_autoptr (ThecalUser) admin = first_admin (record);
    g_autoptr (ThecalAuditVerification) verification = NULL;
    g_autoptr (ThecalPatient) retried = NULL;
    g_autoptr (GError) error = NULL;

    n_saved = fill_until_full (record, admin, &failed_mrn);
    ck_assert_int_gt (n_saved, 0);
    verification = verify_audit (record, 0, NULL);
    ck_assert_msg (verification->problem == THECAL_AUDIT_INTACT, "%s", verification->message);
    ck_assert_int_eq ((int) count_audit (record, "patient.create"), n_saved);

    /* Space is freed: the same write now succeeds, on the same connection. */
    free_space (ballast_path);
    retried = try_add_patient (record, admin, failed_mrn, "PATIENT, Retried", &error);
    ck_assert_msg (retried != NULL, "after freeing space: %s", error != NULL ? error->message : "?");
  }
  check_consistent (path, n_saved + 1);
}

static char *
make_ballast (const char *dir, gsize bytes)
{
  char *ballast = g_build_filename (dir, "ballast", NULL);
  g_autofree char *zeros = g_malloc0 (bytes);

  ck_assert (g_file_set_contents (ballast, zeros, (gssize) bytes, NULL));
  return ballast;
}

START_TEST (test_disk_full)
{
  g_autofree char *dir = test_path ("small-disk");
  g_autofree char *ballast = NULL;

  ck_assert_int_eq (g_mkdir (dir, 0700), 0);
  if (mount_small_disk (dir, "1m"))
    {
      fprintf (stderr, "# test_disk_full: a 1 MiB tmpfs in a private mount namespace\n");
      ballast = make_ballast (dir, 128 * 1024);
      full_disk_scenario (dir, ballast);
      unmount_small_disk (dir);
    }
  else
    {
      struct rlimit limit;

      ck_assert_int_eq (getrlimit (RLIMIT_FSIZE, &saved_limit), 0);
      limit = saved_limit;
      limit.rlim_cur = 1024 * 1024;
      fprintf (stderr, "# test_disk_full: no mount namespace here: a 1 MiB file size limit instead\n");
      signal (SIGXFSZ, SIG_IGN);
      ck_assert_int_eq (setrlimit (RLIMIT_FSIZE, &limit), 0);
      full_disk_scenario (dir, NULL);
    }
}
END_TEST

START_TEST (test_file_size_limit)
{
  /* A file that may not grow past 512 KiB (RLIMIT_FSIZE): EFBIG is a full disk for the record. */
  g_autofree char *path = test_path ("record.sqlite");
  g_autofree char *failed_mrn = NULL;
  struct rlimit limit;
  struct rlimit original;
  int n_saved;

  ck_assert_int_eq (getrlimit (RLIMIT_FSIZE, &original), 0);
  limit = original;
  limit.rlim_cur = 512 * 1024; /* the soft limit only: it can be raised again without privileges */
  signal (SIGXFSZ, SIG_IGN);
  {
    g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_CREATE);
    g_autoptr (ThecalUser) admin = first_admin (record);

    ck_assert_int_eq (setrlimit (RLIMIT_FSIZE, &limit), 0);
    n_saved = fill_until_full (record, admin, &failed_mrn);
    ck_assert_int_gt (n_saved, 0);
  }
  ck_assert_int_eq (setrlimit (RLIMIT_FSIZE, &original), 0);
  check_consistent (path, n_saved);
}
END_TEST

START_TEST (test_read_only_file)
{
  g_autofree char *path = test_path ("record.sqlite");
  g_autofree char *before = NULL;
  g_autoptr (GError) error = NULL;

  {
    g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_CREATE);
    g_autoptr (ThecalUser) admin = first_admin (record);
    g_autoptr (ThecalPatient) patient = add_patient (record, admin, "MRN-1", "DOE, Jane");
  }
  ck_assert_int_eq (g_chmod (path, 0400), 0);
  become_nobody ();
  before = file_fingerprint (path);
  {
    g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_DEFAULT);
    g_autoptr (ThecalPatient) patient = NULL;
    g_autoptr (ThecalPatient) refused = NULL;
    g_autoptr (ThecalUser) login = NULL;
    g_autoptr (ThecalAuditVerification) verification = NULL;
    ThecalUser admin = { .id = 1, .name = (char *) "admin", .full_name = (char *) "Ada Admin", .role = THECAL_ROLE_ADMINISTRATOR };

    ck_assert (thecal_record_is_read_only (record));
    /* Reading works: the record can be looked at and verified. */
    patient = SYNC (thecal_record_get_patient, record, &error, "MRN-1");
    ck_assert_msg (patient != NULL, "%s", error != NULL ? error->message : "?");
    verification = verify_audit (record, 0, NULL);
    ck_assert_int_eq (verification->problem, THECAL_AUDIT_INTACT);
    /* Writing is refused, clearly, and nothing is written. */
    refused = try_add_patient (record, &admin, "MRN-2", "ROE, Rita", &error);
    ck_assert_ptr_null (refused);
    ck_assert_msg (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_READONLY), "%s", error->message);
    ck_assert_msg (strstr (error->message, "read-only") != NULL && strstr (error->message, "nothing was saved") != NULL,
                   "%s", error->message);
    g_clear_error (&error);
    /* A login is a write (its audit entry): refused too. */
    login = SYNC (thecal_record_login, record, &error, "admin", TEST_PASSWORD);
    ck_assert_ptr_null (login);
    ck_assert (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_READONLY));
  }
  {
    g_autofree char *now = file_fingerprint (path);

    ck_assert_str_eq (before, now);
  }
}
END_TEST

START_TEST (test_read_only_folder)
{
  /* The record and its folder cannot be written (a read-only mount, or a folder without write
   * permission): the record still opens for reading, or says clearly why not. */
  g_autofree char *dir = test_path ("ro");
  g_autofree char *path = g_build_filename (dir, "record.sqlite", NULL);
  g_autofree char *before = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecord) record = NULL;

  {
    g_autoptr (ThecalRecord) created = open_record (path, THECAL_RECORD_OPEN_CREATE);
    g_autoptr (ThecalUser) admin = first_admin (created);
  }
  ck_assert_int_eq (g_chmod (path, 0400), 0);
  become_nobody ();
  ck_assert_int_eq (g_chmod (dir, 0500), 0);
  before = file_fingerprint (path);
  record = thecal_record_open_sync (path, THECAL_RECORD_OPEN_FAST_HASH, NULL, &error);
  if (record != NULL)
    {
      g_autoptr (ThecalPatient) refused = NULL;
      ThecalUser admin = { .id = 1, .name = (char *) "admin", .full_name = (char *) "Ada Admin", .role = THECAL_ROLE_ADMINISTRATOR };

      ck_assert (thecal_record_is_read_only (record));
      refused = try_add_patient (record, &admin, "MRN-2", "ROE, Rita", &error);
      ck_assert_ptr_null (refused);
      ck_assert (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_READONLY));
    }
  else
    ck_assert_msg (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_READONLY)
                       || g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_CANT_OPEN),
                   "%s", error->message);
  g_clear_object (&record);
  {
    g_autofree char *now = file_fingerprint (path);

    ck_assert_str_eq (before, now);
  }
  g_chmod (dir, 0700);
}
END_TEST

START_TEST (test_busy)
{
  /* Another program holds the record's write lock longer than the 5 s the record waits. */
  g_autofree char *path = test_path ("record.sqlite");
  g_autofree char *command = NULL;
  GPid holder = 0;
  const char *argv[] = { "sh", "-c", NULL, NULL };
  g_autoptr (GError) error = NULL;

  {
    g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_CREATE);
    g_autoptr (ThecalUser) admin = first_admin (record);
  }
  command = g_strdup_printf ("printf 'BEGIN IMMEDIATE;\\n.shell touch %s.locked; sleep 8\\nCOMMIT;\\n' | sqlite3 %s",
                             path, path);
  argv[2] = command;
  ck_assert (g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                            &holder, &error));
  {
    g_autofree char *locked = g_strconcat (path, ".locked", NULL);

    for (int i = 0; i < 500 && !g_file_test (locked, G_FILE_TEST_EXISTS); i++)
      g_usleep (10000);
    ck_assert (g_file_test (locked, G_FILE_TEST_EXISTS));
  }
  {
    g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_DEFAULT);
    ThecalUser admin = { .id = 1, .name = (char *) "admin", .full_name = (char *) "Ada Admin", .role = THECAL_ROLE_ADMINISTRATOR };
    g_autoptr (ThecalPatient) refused = try_add_patient (record, &admin, "MRN-2", "ROE, Rita", &error);

    ck_assert_ptr_null (refused);
    ck_assert_msg (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_BUSY), "%s", error->message);
    ck_assert (strstr (error->message, "in use by another program") != NULL);
  }
  kill (holder, SIGTERM);
  g_spawn_close_pid (holder);
}
END_TEST

static Suite *
record_faults_suite (void)
{
  Suite *suite = suite_create ("record-faults");
  TCase *faults = tcase_create ("faults");

  tcase_add_checked_fixture (faults, record_test_setup, record_test_teardown);
  tcase_add_test (faults, test_disk_full);
  tcase_add_test (faults, test_file_size_limit);
  tcase_add_test (faults, test_read_only_file);
  tcase_add_test (faults, test_read_only_folder);
  tcase_add_test (faults, test_busy);
  suite_add_tcase (suite, faults);
  return suite;
}

THECAL_TEST_MAIN (record_faults_suite)
