/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-record-session.c: a person logged in to the record (src/workflow/thecal-record-session.c):
 * logging in, the first-run path, every operation checked against the permission table, every
 * refusal audited before it is reported, exports audited before the data is handed over.
 */
#include "config.h"

#include "thecal-record-session.h"
#include "thecal-test-record.h"
#include "thecal-test.h"

typedef struct
{
  char *path;
  ThecalRecord *record;
  ThecalRecordSession *admin;
  ThecalRecordSession *physician;
  ThecalRecordSession *nurse;
} World;

static World world;

static ThecalRecordSession *
log_in (const char *name, const char *password)
{
  g_autoptr (GError) error = NULL;
  ThecalRecordSession *session = thecal_record_session_login_sync (world.record, name, password, NULL, &error);

  ck_assert_msg (session != NULL, "login %s: %s", name, error != NULL ? error->message : "?");
  return session;
}

static void
world_setup (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalUser) physician = NULL;
  g_autoptr (ThecalUser) nurse = NULL;

  gboolean first_run = FALSE;

  record_test_setup ();
  world.path = test_path ("record.sqlite");
  world.record = open_record (world.path, THECAL_RECORD_OPEN_CREATE);
  /* a new record: the first-run path is the way in */
  ck_assert_msg (thecal_record_session_needs_first_run_sync (world.record, &first_run, NULL, &error), "%s",
                 error != NULL ? error->message : "?");
  ck_assert (first_run);
  world.admin = thecal_record_session_first_run_sync (world.record, "admin", "Ada Admin", TEST_PASSWORD, NULL, &error);
  ck_assert_msg (world.admin != NULL, "%s", error != NULL ? error->message : "?");
  physician = thecal_record_session_add_user_sync (world.admin, "paula", "Dr Paula Physician", THECAL_ROLE_PHYSICIAN,
                                                   TEST_PASSWORD, NULL, &error);
  ck_assert_ptr_nonnull (physician);
  nurse = thecal_record_session_add_user_sync (world.admin, "nina", "Nina Nurse", THECAL_ROLE_NURSE, TEST_PASSWORD,
                                               NULL, &error);
  ck_assert_ptr_nonnull (nurse);
  world.physician = log_in ("paula", TEST_PASSWORD);
  world.nurse = log_in ("nina", TEST_PASSWORD);
}

static void
world_teardown (void)
{
  g_clear_object (&world.admin);
  g_clear_object (&world.physician);
  g_clear_object (&world.nurse);
  g_clear_object (&world.record);
  g_clear_pointer (&world.path, g_free);
  record_test_teardown ();
}

static ThecalAuditEntry *
last_entry (void)
{
  g_autoptr (GPtrArray) entries = list_audit (world.record);

  return g_steal_pointer (&entries->pdata[entries->len - 1]);
}

static void
assert_refused_and_audited (GError *error, const ThecalUser *user, const char *permission)
{
  g_autoptr (ThecalAuditEntry) entry = last_entry ();
  g_autofree char *expected_after = NULL;

  ck_assert_msg (g_error_matches (error, THECAL_WORKFLOW_ERROR, THECAL_WORKFLOW_ERROR_PERMISSION_DENIED), "%s",
                 error != NULL ? error->message : "no error");
  ck_assert_msg (strstr (error->message, permission) != NULL, "%s", error->message);
  /* The refusal is in the audit trail, with who and why. */
  ck_assert_str_eq (entry->action, "permission.denied");
  ck_assert_int_eq (entry->user_id, user->id);
  ck_assert_str_eq (entry->reason, error->message);
  expected_after = g_strdup_printf ("\"permission\":\"%s\"", permission);
  ck_assert_msg (strstr (entry->after, expected_after) != NULL, "%s", entry->after);
}

START_TEST (test_login_and_first_run)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecordSession) again = NULL;
  g_autoptr (ThecalRecordSession) wrong = NULL;
  const ThecalUser *user = thecal_record_session_get_user (world.nurse);
  gboolean first_run = TRUE;

  ck_assert_str_eq (user->name, "nina");
  ck_assert_int_eq (user->role, THECAL_ROLE_NURSE);
  ck_assert_ptr_eq (thecal_record_session_get_record (world.nurse), world.record);
  ck_assert (thecal_record_session_may (world.nurse, THECAL_PERMISSION_REFILL));
  ck_assert (!thecal_record_session_may (world.nurse, THECAL_PERMISSION_BOLUS));
  /* The first-run path is closed once there is a user. */
  ck_assert (thecal_record_session_needs_first_run_sync (world.record, &first_run, NULL, &error));
  ck_assert (!first_run);
  again = thecal_record_session_first_run_sync (world.record, "eve", "Eve", TEST_PASSWORD, NULL, &error);
  ck_assert_ptr_null (again);
  ck_assert (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_EXISTS));
  g_clear_error (&error);
  wrong = thecal_record_session_login_sync (world.record, "nina", "not her password", NULL, &error);
  ck_assert_ptr_null (wrong);
  ck_assert (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_AUTH_FAILED));
}
END_TEST

START_TEST (test_refusal_audited_nothing_done)
{
  ThecalPumpInput pump_input = { "SN-1", "TR-20", "MRN-1", "2024-03-01", 1100, NULL };
  ThecalPatientInput patient_input = { "MRN-1", "DOE, Jane", "1961-04-12", THECAL_OPIOID_TOLERANT, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalPatient) patient = NULL;
  g_autoptr (ThecalPump) pump = NULL;
  g_autoptr (ThecalPump) missing = NULL;
  g_autoptr (ThecalPatient) read_by_admin = NULL;
  g_autoptr (GPtrArray) users = NULL;

  /* A nurse registers the patient, but may not register the pump. */
  patient = thecal_record_session_add_patient_sync (world.nurse, &patient_input, NULL, &error);
  ck_assert_msg (patient != NULL, "%s", error != NULL ? error->message : "?");
  pump = thecal_record_session_add_pump_sync (world.nurse, &pump_input, NULL, &error);
  ck_assert_ptr_null (pump);
  assert_refused_and_audited (error, thecal_record_session_get_user (world.nurse), "pump.create");
  g_clear_error (&error);
  missing = thecal_record_session_get_pump_sync (world.physician, "SN-1", NULL, &error);
  ck_assert_ptr_null (missing);
  ck_assert (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_NOT_FOUND));
  g_clear_error (&error);

  /* The administrator manages users but sees no clinical data. */
  read_by_admin = thecal_record_session_get_patient_sync (world.admin, "MRN-1", NULL, &error);
  ck_assert_ptr_null (read_by_admin);
  assert_refused_and_audited (error, thecal_record_session_get_user (world.admin), "patient.read");
  g_clear_error (&error);
  users = thecal_record_session_list_users_sync (world.nurse, NULL, &error);
  ck_assert_ptr_null (users);
  assert_refused_and_audited (error, thecal_record_session_get_user (world.nurse), "user.manage");
  g_clear_error (&error);

  /* The physician may. */
  pump = thecal_record_session_add_pump_sync (world.physician, &pump_input, NULL, &error);
  ck_assert_msg (pump != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (count_audit (world.record, "permission.denied"), 3);
}
END_TEST

START_TEST (test_passwords)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalUser) own = NULL;
  g_autoptr (ThecalUser) other = NULL;
  g_autoptr (ThecalUser) by_admin = NULL;
  g_autoptr (ThecalRecordSession) relogged = NULL;

  /* Anyone changes their own (NULL: oneself; the name regardless of case)... */
  own = thecal_record_session_set_password_sync (world.nurse, NULL, "nina's new password", NULL, &error);
  ck_assert_msg (own != NULL, "%s", error != NULL ? error->message : "?");
  g_clear_pointer (&own, thecal_user_free);
  own = thecal_record_session_set_password_sync (world.nurse, "NINA", "nina's newer password", NULL, &error);
  ck_assert_ptr_nonnull (own);
  /* ...not someone else's... */
  other = thecal_record_session_set_password_sync (world.nurse, "paula", "taken over!!", NULL, &error);
  ck_assert_ptr_null (other);
  assert_refused_and_audited (error, thecal_record_session_get_user (world.nurse), "user.manage");
  g_clear_error (&error);
  /* ...unless an administrator. */
  by_admin = thecal_record_session_set_password_sync (world.admin, "paula", "reset by the admin", NULL, &error);
  ck_assert_ptr_nonnull (by_admin);
  relogged = log_in ("paula", "reset by the admin");
  g_clear_object (&relogged);
  relogged = log_in ("nina", "nina's newer password");
}
END_TEST

START_TEST (test_exports_audited)
{
  ThecalPatientInput patient_input = { "MRN-1", "DOE, Jane", "1961-04-12", THECAL_OPIOID_TOLERANT, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalPatient) patient = thecal_record_session_add_patient_sync (world.nurse, &patient_input, NULL, &error);
  g_autoptr (ThecalPatientRecord) exported = NULL;
  g_autoptr (ThecalPatientRecord) refused = NULL;
  g_autoptr (ThecalAuditEntry) entry = NULL;
  g_autoptr (GPtrArray) trail = NULL;
  g_autoptr (GPtrArray) trail_refused = NULL;
  g_autoptr (ThecalAuditVerification) verification = NULL;

  exported = thecal_record_session_export_patient_sync (world.nurse, "MRN-1", "csv", NULL, &error);
  ck_assert_msg (exported != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert_str_eq (exported->patient->mrn, "MRN-1");
  entry = last_entry ();
  ck_assert_str_eq (entry->action, "export");
  ck_assert_int_eq (entry->patient_id, patient->id);
  ck_assert_str_eq (entry->after, "{\"mrn\":\"MRN-1\",\"format\":\"csv\"}");
  g_clear_pointer (&entry, thecal_audit_entry_free);

  refused = thecal_record_session_export_patient_sync (world.admin, "MRN-1", "json", NULL, &error);
  ck_assert_ptr_null (refused);
  assert_refused_and_audited (error, thecal_record_session_get_user (world.admin), "patient.export");
  g_clear_error (&error);

  trail = thecal_record_session_export_audit_sync (world.admin, 1, 0, "json", NULL, &error);
  ck_assert_msg (trail != NULL, "%s", error != NULL ? error->message : "?");
  entry = last_entry ();
  ck_assert_str_eq (entry->action, "audit.export");
  ck_assert_uint_eq (trail->len + 1, (guint) entry->seq);
  trail_refused = thecal_record_session_export_audit_sync (world.physician, 1, 0, "json", NULL, &error);
  ck_assert_ptr_null (trail_refused);
  assert_refused_and_audited (error, thecal_record_session_get_user (world.physician), "audit.export");
  g_clear_error (&error);

  verification = thecal_record_session_verify_audit_sync (world.nurse, 0, NULL, NULL, &error);
  ck_assert_ptr_nonnull (verification);
  ck_assert_int_eq (verification->problem, THECAL_AUDIT_INTACT);
}
END_TEST

typedef struct
{
  GMainLoop *loop;
  GThread *caller;
  gboolean on_caller;
  GError *error;
} AsyncState;

static void
on_refused (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AsyncState *state = user_data;
  g_autoptr (ThecalPump) pump = thecal_record_session_add_pump_finish (THECAL_RECORD_SESSION (source), result,
                                                                       &state->error);

  state->on_caller = g_thread_self () == state->caller;
  ck_assert_ptr_null (pump);
  g_main_loop_quit (state->loop);
}

START_TEST (test_async_refusal_on_caller)
{
  ThecalPumpInput pump_input = { "SN-1", "TR-20", "MRN-1", "2024-03-01", 1100, NULL };
  AsyncState state = { g_main_loop_new (NULL, FALSE), g_thread_self (), FALSE, NULL };

  thecal_record_session_add_pump_async (world.nurse, &pump_input, NULL, on_refused, &state);
  /* Not reported before the refusal was written. */
  ck_assert_ptr_null (state.error);
  g_main_loop_run (state.loop);
  ck_assert (state.on_caller);
  ck_assert (g_error_matches (state.error, THECAL_WORKFLOW_ERROR, THECAL_WORKFLOW_ERROR_PERMISSION_DENIED));
  ck_assert_int_eq (count_audit (world.record, "permission.denied"), 1);
  g_clear_error (&state.error);
  g_main_loop_unref (state.loop);
}
END_TEST

START_TEST (test_read_only_record_refuses_login)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (ThecalRecord) read_only = NULL;

  g_clear_object (&world.admin);
  g_clear_object (&world.physician);
  g_clear_object (&world.nurse);
  g_clear_object (&world.record);
  /* A file this process may not write (as nobody when root: root writes any file). */
  ck_assert_int_eq (g_chmod (world.path, 0400), 0);
  become_nobody ();
  read_only = open_record (world.path, THECAL_RECORD_OPEN_DEFAULT);
  ck_assert (thecal_record_is_read_only (read_only));
  session = thecal_record_session_login_sync (read_only, "nina", TEST_PASSWORD, NULL, &error);
  ck_assert_ptr_null (session);
  ck_assert (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_READONLY));
  ck_assert_msg (strstr (error->message, "cannot record a login") != NULL, "%s", error->message);
}
END_TEST

/* The refills and boluses written to a pump, for the history: [history.read], like the record. */
START_TEST (test_list_pump_writes)
{
  ThecalPumpInput pump_input = { "SN-1", "TR-20", "MRN-1", "2024-03-01", 1100, NULL };
  ThecalPatientInput patient_input = { "MRN-1", "DOE, Jane", "1961-04-12", THECAL_OPIOID_TOLERANT, NULL };
  ThecalPumpWriteInput write_input = { "SN-1", THECAL_PUMP_WRITE_BOLUS, "breakthrough pain", "{\"summary\":\"a clinician bolus\"}" };
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalPatient) patient = NULL;
  g_autoptr (ThecalPump) pump = NULL;
  g_autoptr (ThecalPumpWrite) write = NULL;
  g_autoptr (GPtrArray) none = NULL;
  g_autoptr (GPtrArray) writes = NULL;
  g_autoptr (GPtrArray) refused = NULL;

  patient = thecal_record_session_add_patient_sync (world.physician, &patient_input, NULL, &error);
  ck_assert_msg (patient != NULL, "%s", error != NULL ? error->message : "?");
  pump = thecal_record_session_add_pump_sync (world.physician, &pump_input, NULL, &error);
  ck_assert_msg (pump != NULL, "%s", error != NULL ? error->message : "?");
  none = thecal_record_session_list_pump_writes_sync (world.nurse, "SN-1", NULL, &error);
  ck_assert_msg (none != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert_uint_eq (none->len, 0);
  write = SYNC (thecal_record_begin_pump_write, world.record, &error, thecal_record_session_get_user (world.physician), &write_input);
  ck_assert_msg (write != NULL, "%s", error != NULL ? error->message : "?");
  writes = thecal_record_session_list_pump_writes_sync (world.nurse, "SN-1", NULL, &error);
  ck_assert_msg (writes != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert_uint_eq (writes->len, 1);
  ck_assert_int_eq (((ThecalPumpWrite *) writes->pdata[0])->kind, THECAL_PUMP_WRITE_BOLUS);
  ck_assert_int_eq (((ThecalPumpWrite *) writes->pdata[0])->outcome, THECAL_OUTCOME_PENDING);
  ck_assert_str_eq (((ThecalPumpWrite *) writes->pdata[0])->reason, "breakthrough pain");
  /* the administrator sees no clinical data */
  refused = thecal_record_session_list_pump_writes_sync (world.admin, "SN-1", NULL, &error);
  ck_assert_ptr_null (refused);
  assert_refused_and_audited (error, thecal_record_session_get_user (world.admin), "history.read");
}
END_TEST

static Suite *
record_session_suite (void)
{
  Suite *suite = suite_create ("record-session");
  TCase *session = tcase_create ("session");

  tcase_add_checked_fixture (session, world_setup, world_teardown);
  tcase_add_test (session, test_login_and_first_run);
  tcase_add_test (session, test_refusal_audited_nothing_done);
  tcase_add_test (session, test_passwords);
  tcase_add_test (session, test_exports_audited);
  tcase_add_test (session, test_async_refusal_on_caller);
  tcase_add_test (session, test_read_only_record_refuses_login);
  tcase_add_test (session, test_list_pump_writes);
  suite_add_tcase (suite, session);
  return suite;
}

THECAL_TEST_MAIN (record_session_suite)
