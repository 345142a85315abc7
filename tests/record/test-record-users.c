/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-record-users.c: users, roles, passwords and the lock-out (src/record/thecal-record-users.c,
 * docs/security.md "Users and passwords").
 *
 * Passwords are hashed with Argon2id's MIN limits here, except in test_interactive_limits, which
 * uses the INTERACTIVE limits of production once (about 70 ms and 64 MiB, TESTING.md).
 */
#include "config.h"

#include "thecal-test-record.h"
#include "thecal-test.h"

static ThecalUser *
login (ThecalRecord *record, const char *name, const char *password, GError **error)
{
  return SYNC (thecal_record_login, record, error, name, password);
}

static void
assert_login_fails (ThecalRecord *record, const char *name, const char *password, gint code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalUser) user = login (record, name, password, &error);

  ck_assert_ptr_null (user);
  ck_assert_msg (g_error_matches (error, THECAL_DB_ERROR, code), "expected %d, got %d: %s", code, error->code,
                 error->message);
  /* Never the password in a message. */
  ck_assert_msg (strstr (error->message, password) == NULL, "the password is in: %s", error->message);
}

static ThecalAuditEntry *
last_entry (ThecalRecord *record)
{
  g_autoptr (GPtrArray) entries = list_audit (record);

  ck_assert_uint_gt (entries->len, 0);
  return g_steal_pointer (&entries->pdata[entries->len - 1]);
}

START_TEST (test_first_administrator)
{
  g_autoptr (ThecalRecord) record = new_record ("record.sqlite");
  g_autoptr (ThecalSyncCall) call = thecal_sync_call_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalUser) admin = NULL;
  g_autoptr (ThecalUser) second = NULL;
  g_autoptr (ThecalAuditEntry) entry = NULL;
  gboolean needed = FALSE;

  thecal_record_needs_first_administrator_async (record, NULL, thecal_sync_call_callback, call);
  ck_assert (thecal_record_needs_first_administrator_finish (record, thecal_sync_call_wait (call), &needed, &error));
  ck_assert (needed);
  admin = first_admin (record);
  ck_assert_int_eq (admin->role, THECAL_ROLE_ADMINISTRATOR);
  ck_assert_str_eq (admin->name, "admin");
  entry = last_entry (record);
  ck_assert_str_eq (entry->action, "user.create");
  ck_assert_str_eq (entry->user_name, "admin");
  ck_assert_str_eq (entry->reason, "first administrator (first run)");
  /* Only while there is no user: afterwards the first-run path is closed. */
  second = SYNC (thecal_record_create_first_administrator, record, &error, "mallory", "Mallory", TEST_PASSWORD);
  ck_assert_ptr_null (second);
  ck_assert (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_EXISTS));
}
END_TEST

START_TEST (test_add_and_list)
{
  g_autoptr (ThecalRecord) record = new_record ("record.sqlite");
  g_autoptr (ThecalUser) admin = first_admin (record);
  g_autoptr (ThecalUser) physician = add_user (record, admin, "pphys", "Dr Paula Physician", THECAL_ROLE_PHYSICIAN);
  g_autoptr (ThecalUser) nurse = add_user (record, admin, "nnurse", "Nina Nurse", THECAL_ROLE_NURSE);
  g_autoptr (ThecalUser) duplicate = NULL;
  g_autoptr (GPtrArray) users = NULL;
  g_autoptr (GError) error = NULL;

  users = SYNC (thecal_record_list_users, record, &error);
  ck_assert_uint_eq (users->len, 3);
  ck_assert_str_eq (((ThecalUser *) users->pdata[0])->name, "admin");
  ck_assert_str_eq (((ThecalUser *) users->pdata[1])->name, "nnurse");
  ck_assert_int_eq (((ThecalUser *) users->pdata[1])->role, THECAL_ROLE_NURSE);
  ck_assert_str_eq (((ThecalUser *) users->pdata[2])->full_name, "Dr Paula Physician");
  /* Names are unique regardless of case. */
  duplicate = SYNC (thecal_record_add_user, record, &error, admin, "PPHYS", "Someone Else", THECAL_ROLE_NURSE,
                    TEST_PASSWORD);
  ck_assert_ptr_null (duplicate);
  ck_assert (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_EXISTS));
  ck_assert_int_eq (count_audit (record, "user.create"), 3);
}
END_TEST

START_TEST (test_bad_names_and_passwords)
{
  g_autoptr (ThecalRecord) record = new_record ("record.sqlite");
  g_autoptr (ThecalUser) admin = first_admin (record);
  const char *bad_names[] = { "", "a b", "-dash", "x\"y", "ünï", "a;DROP TABLE users" };

  for (guint i = 0; i < G_N_ELEMENTS (bad_names); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (ThecalUser) user = SYNC (thecal_record_add_user, record, &error, admin, bad_names[i], "Name",
                                          THECAL_ROLE_NURSE, TEST_PASSWORD);

      ck_assert_msg (user == NULL, "“%s” was accepted", bad_names[i]);
      ck_assert (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID));
    }
  /* 9 characters: one short of the minimum (10); 10 is accepted, counted in characters. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (ThecalUser) user = SYNC (thecal_record_add_user, record, &error, admin, "short", "Short",
                                        THECAL_ROLE_NURSE, "123456789");

    ck_assert_ptr_null (user);
    ck_assert (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID));
    ck_assert (strstr (error->message, "123456789") == NULL);
  }
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (ThecalUser) user = SYNC (thecal_record_add_user, record, &error, admin, "ten", "Ten",
                                        THECAL_ROLE_NURSE, "ééééééééé1"); /* 10 characters, 19 bytes */

    ck_assert_msg (user != NULL, "%s", error != NULL ? error->message : "?");
  }
}
END_TEST

START_TEST (test_password_never_in_clear)
{
  const char *password = "Zebra-Unicorn-Secret-98765";
  g_autofree char *path = test_path ("record.sqlite");
  g_autofree char *hash = NULL;
  g_autofree char *contents = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  gsize length = 0;

  {
    g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_CREATE);
    g_autoptr (ThecalUser) admin = first_admin (record);
    g_autoptr (GError) error = NULL;
    g_autoptr (ThecalUser) user = SYNC (thecal_record_add_user, record, &error, admin, "nina", "Nina Nurse",
                                        THECAL_ROLE_NURSE, password);
    g_autoptr (ThecalUser) logged = NULL;

    ck_assert_ptr_nonnull (user);
    logged = login (record, "nina", password, &error);
    ck_assert_ptr_nonnull (logged);
    assert_login_fails (record, "nina", "Zebra-Unicorn-Secret-98766", THECAL_DB_ERROR_AUTH_FAILED);
    entries = list_audit (record);
  }
  /* Not in the file, nor in any audit entry. */
  ck_assert (g_file_get_contents (path, &contents, &length, NULL));
  ck_assert_ptr_null (g_strstr_len (contents, (gssize) length, password));
  ck_assert_ptr_null (g_strstr_len (contents, (gssize) length, "Zebra-Unicorn-Secret-98766"));
  for (guint i = 0; i < entries->len; i++)
    {
      ThecalAuditEntry *entry = entries->pdata[i];

      ck_assert (entry->after == NULL || strstr (entry->after, "argon2") == NULL);
      ck_assert (entry->after == NULL || strstr (entry->after, password) == NULL);
      ck_assert (entry->reason == NULL || strstr (entry->reason, password) == NULL);
    }
  /* What is stored is an Argon2id hash string (algorithm, limits, salt, hash). */
  ck_assert_int_eq (sqlite_shell (path, "SELECT password_hash FROM users WHERE name = 'nina'", &hash), 0);
  ck_assert_msg (g_str_has_prefix (hash, "$argon2id$"), "%s", hash);
}
END_TEST

START_TEST (test_login_audited)
{
  g_autoptr (ThecalRecord) record = new_record ("record.sqlite");
  g_autoptr (ThecalUser) admin = first_admin (record);
  g_autoptr (ThecalUser) nurse = add_user (record, admin, "nina", "Nina Nurse", THECAL_ROLE_NURSE);
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalUser) user = login (record, "NINA", TEST_PASSWORD, &error);
  g_autoptr (ThecalAuditEntry) entry = NULL;

  /* The name is found regardless of case; the entry names the user as registered. */
  ck_assert_msg (user != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert_str_eq (user->name, "nina");
  ck_assert_int_eq (user->role, THECAL_ROLE_NURSE);
  entry = last_entry (record);
  ck_assert_str_eq (entry->action, "login");
  ck_assert_int_eq (entry->user_id, nurse->id);
  g_clear_pointer (&entry, thecal_audit_entry_free);

  /* A wrong password: the same message as an unknown user, and a "login.failed" entry. */
  assert_login_fails (record, "nina", "not the password", THECAL_DB_ERROR_AUTH_FAILED);
  entry = last_entry (record);
  ck_assert_str_eq (entry->action, "login.failed");
  ck_assert_int_eq (entry->user_id, nurse->id);
  ck_assert_str_eq (entry->reason, "wrong password");
  ck_assert_str_eq (entry->after, "{\"failed_attempts\":1}");
  g_clear_pointer (&entry, thecal_audit_entry_free);

  assert_login_fails (record, "nobody", TEST_PASSWORD, THECAL_DB_ERROR_AUTH_FAILED);
  entry = last_entry (record);
  ck_assert_str_eq (entry->action, "login.failed");
  ck_assert_int_eq (entry->user_id, 0);
  ck_assert_str_eq (entry->user_name, "nobody");
  ck_assert_str_eq (entry->reason, "unknown user");
  g_clear_pointer (&entry, thecal_audit_entry_free);

  /* Something typed into the name field that cannot be a name (a password?) is not kept. */
  assert_login_fails (record, "my secret pass!", TEST_PASSWORD, THECAL_DB_ERROR_AUTH_FAILED);
  entry = last_entry (record);
  ck_assert_str_eq (entry->user_name, "(not a user name)");
}
END_TEST

START_TEST (test_lockout_and_unlock)
{
  g_autoptr (ThecalRecord) record = new_record ("record.sqlite");
  g_autoptr (ThecalUser) admin = first_admin (record);
  g_autoptr (ThecalUser) nurse = add_user (record, admin, "nina", "Nina Nurse", THECAL_ROLE_NURSE);
  g_autoptr (ThecalUser) unlocked = NULL;
  g_autoptr (ThecalUser) user = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) users = NULL;

  /* Failures 1..4 are wrong passwords; the 5th (THECAL_LOGIN_MAX_FAILURES) locks. */
  for (int i = 1; i < THECAL_LOGIN_MAX_FAILURES; i++)
    assert_login_fails (record, "nina", "nope-nope-nope", THECAL_DB_ERROR_AUTH_FAILED);
  assert_login_fails (record, "nina", "nope-nope-nope", THECAL_DB_ERROR_LOCKED_OUT);
  ck_assert_int_eq (count_audit (record, "user.locked"), 1);
  /* Locked: even the right password is refused, and the attempt is audited. */
  assert_login_fails (record, "nina", TEST_PASSWORD, THECAL_DB_ERROR_LOCKED_OUT);
  ck_assert_int_eq (count_audit (record, "login.failed"), THECAL_LOGIN_MAX_FAILURES + 1);
  users = SYNC (thecal_record_list_users, record, &error);
  ck_assert (((ThecalUser *) users->pdata[1])->locked);
  ck_assert_int_eq (((ThecalUser *) users->pdata[1])->failed_attempts, THECAL_LOGIN_MAX_FAILURES);

  unlocked = SYNC (thecal_record_unlock_user, record, &error, admin, "nina");
  ck_assert_ptr_nonnull (unlocked);
  ck_assert (!unlocked->locked);
  ck_assert_int_eq (count_audit (record, "user.unlock"), 1);
  user = login (record, "nina", TEST_PASSWORD, &error);
  ck_assert_msg (user != NULL, "%s", error != NULL ? error->message : "?");
}
END_TEST

START_TEST (test_success_resets_count)
{
  g_autoptr (ThecalRecord) record = new_record ("record.sqlite");
  g_autoptr (ThecalUser) admin = first_admin (record);
  g_autoptr (ThecalUser) nurse = add_user (record, admin, "nina", "Nina Nurse", THECAL_ROLE_NURSE);
  g_autoptr (GError) error = NULL;

  /* Failures must be in a row: 4 wrong, 1 right, 4 wrong never locks. */
  for (int round = 0; round < 2; round++)
    {
      g_autoptr (ThecalUser) user = NULL;

      for (int i = 1; i < THECAL_LOGIN_MAX_FAILURES; i++)
        assert_login_fails (record, "nina", "nope-nope-nope", THECAL_DB_ERROR_AUTH_FAILED);
      user = login (record, "nina", TEST_PASSWORD, &error);
      ck_assert_msg (user != NULL, "round %d: %s", round, error != NULL ? error->message : "?");
      ck_assert_int_eq (user->failed_attempts, 0);
    }
}
END_TEST

START_TEST (test_set_password)
{
  g_autoptr (ThecalRecord) record = new_record ("record.sqlite");
  g_autoptr (ThecalUser) admin = first_admin (record);
  g_autoptr (ThecalUser) nurse = add_user (record, admin, "nina", "Nina Nurse", THECAL_ROLE_NURSE);
  g_autoptr (ThecalUser) changed = NULL;
  g_autoptr (ThecalUser) user = NULL;
  g_autoptr (ThecalAuditEntry) entry = NULL;
  g_autoptr (GError) error = NULL;

  for (int i = 0; i < THECAL_LOGIN_MAX_FAILURES; i++)
    assert_login_fails (record, "nina", "nope-nope-nope", i + 1 < THECAL_LOGIN_MAX_FAILURES ? THECAL_DB_ERROR_AUTH_FAILED : THECAL_DB_ERROR_LOCKED_OUT);
  /* A new password set by an administrator also unlocks. */
  changed = SYNC (thecal_record_set_password, record, &error, admin, "nina", "a brand new password");
  ck_assert_msg (changed != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert (!changed->locked);
  entry = last_entry (record);
  ck_assert_str_eq (entry->action, "user.password");
  ck_assert_str_eq (entry->reason, "set by an administrator");
  assert_login_fails (record, "nina", TEST_PASSWORD, THECAL_DB_ERROR_AUTH_FAILED);
  user = login (record, "nina", "a brand new password", &error);
  ck_assert_ptr_nonnull (user);
  g_clear_pointer (&changed, thecal_user_free);
  /* Too short: refused, the old one stays. */
  changed = SYNC (thecal_record_set_password, record, &error, user, "nina", "short");
  ck_assert_ptr_null (changed);
  ck_assert (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID));
}
END_TEST

START_TEST (test_demo_user_only_in_demo_record)
{
  g_autofree char *path = test_path ("record.sqlite");
  g_autofree char *demo_path = test_path ("demo.sqlite");
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;

  {
    g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_CREATE);
    g_autoptr (ThecalUser) admin = first_admin (record);
    g_autoptr (ThecalUser) demo = SYNC (thecal_record_add_user, record, &error, admin, "demo", "Demo",
                                        THECAL_ROLE_DEMO, TEST_PASSWORD);

    ck_assert (!thecal_record_is_demo (record));
    ck_assert_ptr_null (demo);
    ck_assert (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_DEMO));
  }
  /* Behind Thecal's back the record refuses it too (a trigger), and the flag cannot be flipped. */
  ck_assert_int_ne (sqlite_shell (path,
                                  "INSERT INTO users (name, full_name, role, password_hash, created_utc_ms, "
                                  "password_changed_utc_ms) VALUES ('demo', 'Demo', 'demo', '$argon2id$x', 0, 0)",
                                  &out),
                    0);
  ck_assert_msg (strstr (out, "a demo user exists only in a demo record") != NULL, "%s", out);
  g_clear_pointer (&out, g_free);
  ck_assert_int_ne (sqlite_shell (path, "UPDATE record_info SET value = '1' WHERE key = 'demo'", &out), 0);
  ck_assert_msg (strstr (out, "written once") != NULL, "%s", out);
  g_clear_pointer (&out, g_free);
  ck_assert_int_ne (sqlite_shell (path, "UPDATE users SET role = 'demo' WHERE name = 'admin'", &out), 0);
  ck_assert_msg (strstr (out, "a demo user exists only in a demo record") != NULL, "%s", out);

  {
    g_autoptr (ThecalRecord) record = open_record (demo_path, THECAL_RECORD_OPEN_CREATE | THECAL_RECORD_OPEN_CREATE_DEMO);
    g_autoptr (ThecalUser) admin = first_admin (record);
    g_autoptr (ThecalUser) demo = add_user (record, admin, "demo", "Demo User", THECAL_ROLE_DEMO);
    g_autoptr (ThecalUser) user = login (record, "demo", TEST_PASSWORD, &error);

    ck_assert (thecal_record_is_demo (record));
    ck_assert_ptr_nonnull (user);
    ck_assert_int_eq (user->role, THECAL_ROLE_DEMO);
  }
  {
    /* Reopened, still a demo record (the flag is in the file). */
    g_autoptr (ThecalRecord) record = open_record (demo_path, THECAL_RECORD_OPEN_DEFAULT);

    ck_assert (thecal_record_is_demo (record));
  }
}
END_TEST

START_TEST (test_users_never_deleted)
{
  g_autofree char *path = test_path ("record.sqlite");
  g_autofree char *out = NULL;

  {
    g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_CREATE);
    g_autoptr (ThecalUser) admin = first_admin (record);
  }
  ck_assert_int_ne (sqlite_shell (path, "DELETE FROM users", &out), 0);
  ck_assert_msg (strstr (out, "a user is never deleted") != NULL, "%s", out);
  g_clear_pointer (&out, g_free);
  ck_assert_int_ne (sqlite_shell (path, "UPDATE users SET name = 'root'", &out), 0);
  ck_assert_msg (strstr (out, "never changed") != NULL, "%s", out);
}
END_TEST

static char *
stored_hash (const char *path, const char *name)
{
  g_autofree char *sql = g_strdup_printf ("SELECT password_hash FROM users WHERE name = '%s'", name);
  char *out = NULL;

  ck_assert_int_eq (sqlite_shell (path, sql, &out), 0);
  return g_strstrip (out);
}

START_TEST (test_interactive_limits)
{
  /* Production limits, once: Argon2id INTERACTIVE is t=2 passes over m=65536 KiB (64 MiB). A
   * hash made with the MIN limits (t=1, m=8 KiB) is upgraded at the next login. */
  g_autofree char *path = test_path ("record.sqlite");
  g_autofree char *min_hash = NULL;
  g_autofree char *upgraded = NULL;
  g_autofree char *admin_hash = NULL;
  g_autoptr (GError) error = NULL;

  {
    g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_CREATE); /* MIN */
    g_autoptr (ThecalUser) admin = first_admin (record);
  }
  min_hash = stored_hash (path, "admin");
  ck_assert_msg (strstr (min_hash, "m=8,t=1,") != NULL, "%s", min_hash);
  {
    g_autoptr (ThecalRecord) record = thecal_record_open_sync (path, THECAL_RECORD_OPEN_DEFAULT, NULL, &error);
    g_autoptr (ThecalUser) admin = NULL;
    g_autoptr (ThecalUser) nurse = NULL;
    g_autoptr (ThecalUser) logged = NULL;

    ck_assert_ptr_nonnull (record);
    admin = login (record, "admin", TEST_PASSWORD, &error);
    ck_assert_msg (admin != NULL, "%s", error != NULL ? error->message : "?");
    nurse = SYNC (thecal_record_add_user, record, &error, admin, "nina", "Nina Nurse", THECAL_ROLE_NURSE,
                  TEST_PASSWORD);
    ck_assert_ptr_nonnull (nurse);
    logged = login (record, "nina", TEST_PASSWORD, &error);
    ck_assert_msg (logged != NULL, "%s", error != NULL ? error->message : "?");
  }
  upgraded = stored_hash (path, "admin");
  ck_assert_msg (strstr (upgraded, "m=65536,t=2,") != NULL, "%s", upgraded);
  admin_hash = stored_hash (path, "nina");
  ck_assert_msg (g_str_has_prefix (admin_hash, "$argon2id$") && strstr (admin_hash, "m=65536,t=2,") != NULL, "%s",
                 admin_hash);
}
END_TEST

static Suite *
record_users_suite (void)
{
  Suite *suite = suite_create ("record-users");
  TCase *users = tcase_create ("users");
  TCase *login_case = tcase_create ("login");
  TCase *interactive = tcase_create ("interactive");

  tcase_add_checked_fixture (users, record_test_setup, record_test_teardown);
  tcase_add_test (users, test_first_administrator);
  tcase_add_test (users, test_add_and_list);
  tcase_add_test (users, test_bad_names_and_passwords);
  tcase_add_test (users, test_password_never_in_clear);
  tcase_add_test (users, test_demo_user_only_in_demo_record);
  tcase_add_test (users, test_users_never_deleted);
  suite_add_tcase (suite, users);

  tcase_add_checked_fixture (login_case, record_test_setup, record_test_teardown);
  tcase_add_test (login_case, test_login_audited);
  tcase_add_test (login_case, test_lockout_and_unlock);
  tcase_add_test (login_case, test_success_resets_count);
  tcase_add_test (login_case, test_set_password);
  suite_add_tcase (suite, login_case);

  tcase_add_checked_fixture (interactive, record_test_setup, record_test_teardown);
  tcase_add_test (interactive, test_interactive_limits);
  suite_add_tcase (suite, interactive);
  return suite;
}

THECAL_TEST_MAIN (record_users_suite)
