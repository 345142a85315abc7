/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-visit.c: a clinic visit (src/workflow/thecal-visit.c) against a simulated pump over the
 * loopback transport on a virtual clock, with a real patient record: connect (interrogate,
 * import, link to the patient, reconcile first), change of prescription (review, roles, pending
 * first, two-phase write, outcome), uncertain writes blocking until reconciled, a pump out of
 * range pausing the workflow with nothing half-applied.
 */
#include "config.h"

#include "visit-world.h"

/* The demo pump runs morphine 25 mg/mL, above the library's 20 mg/mL soft limit (PACC, CLINICAL.md
 * §3.2): every change of its prescription needs an override reason. */
#define OVERRIDE "concentration above PACC soft limit, reviewed"

static gboolean
visit_program (ThecalVisit *visit, const ThecalProgramReview *review, const char *override_reason, ThecalProgrammingOutcome *outcome, gint64 *session_id, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  thecal_visit_program_async (visit, review, "pain not controlled", override_reason, NULL, on_done, &result);
  return thecal_visit_program_finish (visit, wait_result (&result), outcome, session_id, error);
}

/* 5 mg/day → 6 mg/day morphine at 25 mg/mL: 0.2 → 0.24 mL/day (+20 %). */
static ThecalPrescription
raised_dose (gint64 dose_ng_per_day)
{
  ThecalPrescription rx = *thecal_sim_pump_active (world.pump);

  rx.continuous.basis = THECAL_BASIS_DOSE;
  rx.continuous.dose_ng_per_day = dose_ng_per_day;
  rx.continuous.rate_nl_per_day = 0;
  return rx;
}

static gboolean
pump_runs (const ThecalPrescription *rx)
{
  return thecal_prescription_equal (thecal_sim_pump_active (world.pump), rx);
}

START_TEST (test_connect_imports_idempotently)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = NULL;
  guint first;

  register_pump (world.physician, "TR20-000123", "MRN-1");
  visit = new_visit (world.nurse);
  ck_assert_msg (visit_connect (visit, "MRN-1", &error), "%s", error != NULL ? error->message : "?");
  ck_assert (thecal_visit_is_connected (visit));
  ck_assert_str_eq (thecal_visit_get_pump (visit)->serial, "TR20-000123");
  ck_assert_str_eq (thecal_visit_get_patient (visit)->mrn, "MRN-1");
  first = thecal_visit_get_events_imported (visit);
  ck_assert_uint_gt (first, 0);
  ck_assert (!has_finding (visit, "clock_drift"));
  ck_assert (!thecal_visit_is_blocked (visit, NULL));
  /* the second interrogation asks only for what is new: nothing imported twice */
  ck_assert_msg (visit_connect (visit, "MRN-1", &error), "%s", error != NULL ? error->message : "?");
  ck_assert_uint_lt (thecal_visit_get_events_imported (visit), first);
}
END_TEST

START_TEST (test_connect_unknown_pump)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = new_visit (world.physician);

  ck_assert (!visit_connect (visit, "MRN-1", &error));
  ck_assert (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_UNKNOWN_PUMP));
  ck_assert_ptr_nonnull (thecal_visit_get_identity (visit));
  ck_assert_str_eq (thecal_visit_get_identity (visit)->serial, "TR20-000123");
  ck_assert (!thecal_visit_is_connected (visit));
}
END_TEST

START_TEST (test_connect_wrong_patient_refused_loudly)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = NULL;
  guint before;

  register_pump (world.physician, "TR20-000123", "MRN-2");
  before = count_audit (world.record, "visit.wrong_patient");
  visit = new_visit (world.physician);
  ck_assert (!visit_connect (visit, "MRN-1", &error));
  ck_assert (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_WRONG_PATIENT));
  ck_assert (strstr (error->message, "WRONG PATIENT") != NULL);
  ck_assert (strstr (error->message, "MRN-2") != NULL);
  ck_assert_uint_eq (count_audit (world.record, "visit.wrong_patient"), before + 1);
  ck_assert (!thecal_visit_is_connected (visit));
}
END_TEST

START_TEST (test_review_lists_changes)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = NULL;
  g_autoptr (ThecalProgramReview) review = NULL;
  ThecalPrescription rx = raised_dose (6 * MG);
  const ThecalVisitChange *change;

  register_pump (world.physician, "TR20-000123", "MRN-1");
  visit = new_visit (world.physician);
  ck_assert (visit_connect (visit, "MRN-1", &error));
  review = thecal_visit_review_prescription (visit, &rx, &error);
  ck_assert_ptr_nonnull (review);
  ck_assert_uint_eq (review->changes->len, 1);
  change = review->changes->pdata[0];
  ck_assert_str_eq (change->field, "continuous");
  ck_assert_str_eq (change->old_value, "5 mg/day");
  ck_assert_str_eq (change->new_value, "6 mg/day");
  ck_assert (review->have_projections);
  /* more drug a day: the reservoir reaches its alarm sooner */
  ck_assert_int_lt (review->new_projection.low_alarm_local_ms, review->old_projection.low_alarm_local_ms);
}
END_TEST

START_TEST (test_program_confirmed)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = NULL;
  g_autoptr (ThecalProgramReview) review = NULL;
  g_autoptr (ThecalProgrammingSession) session = NULL;
  ThecalPrescription rx = raised_dose (6 * MG);
  ThecalProgrammingOutcome outcome;
  gint64 id;

  register_pump (world.physician, "TR20-000123", "MRN-1");
  visit = new_visit (world.physician);
  ck_assert (visit_connect (visit, "MRN-1", &error));
  review = thecal_visit_review_prescription (visit, &rx, &error);
  ck_assert_msg (visit_program (visit, review, OVERRIDE, &outcome, &id, &error), "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert (pump_runs (&rx));
  session = SYNC (thecal_record_get_programming_session, world.record, &error, id);
  ck_assert_ptr_nonnull (session);
  ck_assert_int_eq (session->outcome, THECAL_OUTCOME_CONFIRMED);
  /* pending first, then the outcome */
  ck_assert_int_eq (session->n_outcomes, 2);
  ck_assert_uint_eq (session->changes->len, 1);
  ck_assert_int_gt (session->prescription_id, 0);
}
END_TEST

START_TEST (test_nurse_cannot_change_dose)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = NULL;
  g_autoptr (ThecalProgramReview) review = NULL;
  g_autoptr (GPtrArray) unresolved = NULL;
  ThecalPrescription before = *thecal_sim_pump_active (world.pump);
  ThecalPrescription rx = raised_dose (6 * MG);
  ThecalProgrammingOutcome outcome;
  guint denied;

  register_pump (world.physician, "TR20-000123", "MRN-1");
  visit = new_visit (world.nurse);
  ck_assert (visit_connect (visit, "MRN-1", &error));
  review = thecal_visit_review_prescription (visit, &rx, &error);
  denied = count_audit (world.record, "permission.denied");
  ck_assert (!visit_program (visit, review, OVERRIDE, &outcome, NULL, &error));
  ck_assert (g_error_matches (error, THECAL_WORKFLOW_ERROR, THECAL_WORKFLOW_ERROR_PERMISSION_DENIED));
  ck_assert (strstr (error->message, "nurse") != NULL);
  ck_assert_uint_eq (count_audit (world.record, "permission.denied"), denied + 1);
  ck_assert (pump_runs (&before));
  unresolved = SYNC (thecal_record_list_unresolved_sessions, world.record, &error);
  ck_assert_uint_eq (unresolved->len, 0);
}
END_TEST

START_TEST (test_soft_limit_needs_reason)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = NULL;
  g_autoptr (ThecalProgramReview) review = NULL;
  ThecalPrescription before = *thecal_sim_pump_active (world.pump);
  /* 5 → 10 mg/day: a doubling, above the library's step limit (soft) */
  ThecalPrescription rx = raised_dose (10 * MG);
  ThecalProgrammingOutcome outcome;

  register_pump (world.physician, "TR20-000123", "MRN-1");
  visit = new_visit (world.physician);
  ck_assert (visit_connect (visit, "MRN-1", &error));
  review = thecal_visit_review_prescription (visit, &rx, &error);
  ck_assert_int_ge (review->check.worst, THECAL_FINDING_OVERRIDE);
  if (review->check.worst == THECAL_FINDING_REFUSED)
    {
      ck_assert (!visit_program (visit, review, "a long enough reason", &outcome, NULL, &error));
      ck_assert (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED));
      ck_assert (pump_runs (&before));
      return;
    }
  ck_assert (!visit_program (visit, review, NULL, &outcome, NULL, &error));
  ck_assert (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_NEEDS_REASON));
  ck_assert (pump_runs (&before));
  g_clear_error (&error);
  ck_assert_msg (visit_program (visit, review, "severe breakthrough pain, reviewed", &outcome, NULL, &error), "%s",
                 error != NULL ? error->message : "?");
  ck_assert_int_eq (outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert (pump_runs (&rx));
}
END_TEST

START_TEST (test_uncertain_blocks_until_reconciled)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = NULL;
  g_autoptr (ThecalProgramReview) review = NULL;
  g_autoptr (ThecalProgramReview) second = NULL;
  g_autoptr (ThecalProgrammingSession) session = NULL;
  ThecalPrescription rx = raised_dose (6 * MG);
  ThecalPrescription rx2 = raised_dose (5500000);
  ThecalProgrammingOutcome outcome;
  gint64 id, blocking;

  register_pump (world.physician, "TR20-000123", "MRN-1");
  visit = new_visit (world.physician);
  ck_assert (visit_connect (visit, "MRN-1", &error));
  review = thecal_visit_review_prescription (visit, &rx, &error);
  world.drop_commit_answer = TRUE;
  ck_assert_msg (visit_program (visit, review, OVERRIDE, &outcome, &id, &error), "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (outcome, THECAL_OUTCOME_UNCERTAIN);
  ck_assert (thecal_visit_is_blocked (visit, &blocking));
  ck_assert_int_eq (blocking, id);
  /* the pump did apply it (only the answer was lost) */
  ck_assert (pump_runs (&rx));
  second = thecal_visit_review_prescription (visit, &rx2, &error);
  ck_assert (!visit_program (visit, second, OVERRIDE, &outcome, NULL, &error));
  ck_assert (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_BLOCKED));
  g_clear_error (&error);
  world.drop_commit_answer = FALSE;
  ck_assert_msg (visit_reconcile (visit, &error), "%s", error != NULL ? error->message : "?");
  ck_assert (!thecal_visit_is_blocked (visit, NULL));
  session = SYNC (thecal_record_get_programming_session, world.record, &error, id);
  ck_assert_int_eq (session->outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert_int_eq (session->n_outcomes, 3); /* pending, uncertain, confirmed */
}
END_TEST

/* Runs on the test's context. */
static gboolean
demo_key (const char *serial, const char *model_id, guint8 key[THECAL_KEY_SIZE], gpointer user_data)
{
  (void) model_id;
  (void) user_data;
  thecal_sim_pump_demo_key (serial, key);
  return TRUE;
}

/* A crash after PENDING was written: the next connect reconciles before anything else. */
START_TEST (test_connect_reconciles_pending_first)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = NULL;
  g_autoptr (ThecalProgrammingSession) pending = NULL;
  g_autoptr (ThecalProgrammingSession) applied = NULL;
  g_autoptr (ThecalProgrammingSession) after = NULL;
  ThecalPrescription never_sent = raised_dose (5500000);
  ThecalPrescription sent = raised_dose (6 * MG);
  ThecalProgrammingChangeInput change = { "continuous", "5 mg/day", "5.5 mg/day", NULL };
  ThecalProgrammingInput input = { "TR20-000123", 0, &never_sent, "crash test", &change, 1 };
  ThecalChecksum active;
  ThecalProgramReport report;
  g_autoptr (GAsyncResult) result = NULL;

  register_pump (world.physician, "TR20-000123", "MRN-1");
  /* run 1 crashed right after PENDING: nothing reached the pump */
  pending = SYNC (thecal_record_begin_programming, world.record, &error, thecal_record_session_get_user (world.physician), &input);
  ck_assert_ptr_nonnull (pending);
  /* run 2 crashed after COMMIT reached the pump, before the outcome was written */
  input.new_rx = &sent;
  applied = SYNC (thecal_record_begin_programming, world.record, &error, thecal_record_session_get_user (world.physician), &input);
  ck_assert_ptr_nonnull (applied);
  thecal_pump_link_set_key_func (world.link, demo_key, NULL, NULL);
  ck_assert (thecal_sim_pump_active_checksum (world.pump, &active));
  thecal_pump_link_program_async (world.link, &sent, &active, NULL, on_done, &result);
  ck_assert (thecal_pump_link_program_finish (world.link, wait_result (&result), &report, &error));
  ck_assert_int_eq (report.outcome, THECAL_PROGRAM_CONFIRMED);
  visit = new_visit (world.physician);
  ck_assert_msg (visit_connect (visit, "MRN-1", &error), "%s", error != NULL ? error->message : "?");
  ck_assert_uint_eq (thecal_visit_get_sessions_reconciled (visit), 2);
  ck_assert (has_finding (visit, "reconciled"));
  after = SYNC (thecal_record_get_programming_session, world.record, &error, pending->id);
  ck_assert_int_eq (after->outcome, THECAL_OUTCOME_FAILED);
  g_clear_pointer (&after, thecal_programming_session_free);
  after = SYNC (thecal_record_get_programming_session, world.record, &error, applied->id);
  ck_assert_int_eq (after->outcome, THECAL_OUTCOME_CONFIRMED);
}
END_TEST

START_TEST (test_out_of_range_pauses)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = NULL;
  g_autoptr (ThecalProgramReview) review = NULL;
  g_autoptr (GPtrArray) unresolved = NULL;
  ThecalPrescription before = *thecal_sim_pump_active (world.pump);
  ThecalPrescription rx = raised_dose (6 * MG);
  ThecalProgrammingOutcome outcome;

  register_pump (world.physician, "TR20-000123", "MRN-1");
  visit = new_visit (world.physician);
  thecal_loopback_transport_set_pump_in_range (world.loopback, FALSE);
  ck_assert (!visit_connect (visit, "MRN-1", &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED), "%s", error->message);
  ck_assert (strstr (error->message, "resume") != NULL);
  g_clear_error (&error);
  thecal_loopback_transport_set_pump_in_range (world.loopback, TRUE);
  ck_assert_msg (visit_connect (visit, "MRN-1", &error), "%s", error != NULL ? error->message : "?");
  review = thecal_visit_review_prescription (visit, &rx, &error);
  /* out of range before anything was staged: FAILED, the pump unchanged, nothing left pending */
  thecal_loopback_transport_set_pump_in_range (world.loopback, FALSE);
  ck_assert_msg (visit_program (visit, review, OVERRIDE, &outcome, NULL, &error), "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (outcome, THECAL_OUTCOME_FAILED);
  ck_assert (pump_runs (&before));
  unresolved = SYNC (thecal_record_list_unresolved_sessions, world.record, &error);
  ck_assert_uint_eq (unresolved->len, 0);
}
END_TEST

static Suite *
visit_suite (void)
{
  Suite *s = suite_create ("visit");
  TCase *tc = tcase_create ("visit");

  tcase_add_checked_fixture (tc, world_setup, world_teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_connect_imports_idempotently);
  tcase_add_test (tc, test_connect_unknown_pump);
  tcase_add_test (tc, test_connect_wrong_patient_refused_loudly);
  tcase_add_test (tc, test_review_lists_changes);
  tcase_add_test (tc, test_program_confirmed);
  tcase_add_test (tc, test_nurse_cannot_change_dose);
  tcase_add_test (tc, test_soft_limit_needs_reason);
  tcase_add_test (tc, test_uncertain_blocks_until_reconciled);
  tcase_add_test (tc, test_connect_reconciles_pending_first);
  tcase_add_test (tc, test_out_of_range_pauses);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (visit_suite)
