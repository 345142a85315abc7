/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-visit.c: a clinic visit (src/workflow/thecal-visit.c) against a simulated pump over the
 * loopback transport on a virtual clock, with a real patient record: connect (interrogate,
 * import, link to the patient, reconcile first), change of prescription (review, roles, pending
 * first, two-phase write, outcome), uncertain writes blocking until reconciled, a pump out of
 * range pausing the workflow with nothing half-applied.
 */
#include "config.h"

#include "thecal-dose-json.h"
#include "thecal-fault-transport.h"
#include "thecal-loopback-transport.h"
#include "thecal-sim-pump-demo.h"
#include "thecal-test-record.h"
#include "thecal-test.h"
#include "thecal-visit.h"

#define MG INT64_C (1000000)
/* The demo pump runs morphine 25 mg/mL, above the library's 20 mg/mL soft limit (PACC, CLINICAL.md
 * §3.2): every change of its prescription needs an override reason. */
#define OVERRIDE "concentration above PACC soft limit, reviewed"

typedef struct
{
  char *path;
  ThecalRecord *record;
  ThecalRecordSession *physician;
  ThecalRecordSession *nurse;
  ThecalPumpModelSet models;
  ThecalDrugLibrary library;
  ThecalClock *clock;
  ThecalSimPump *pump;
  ThecalLoopbackTransport *loopback;
  ThecalFaultTransport *fault;
  gboolean drop_commit_answer;
  ThecalPumpLink *link;
} World;

static World world;

static gboolean
load_data (const char *name, char **text, gsize *length)
{
  g_autofree char *path = g_build_filename (g_getenv ("THECAL_DATA_DIR"), name, NULL);

  return g_file_get_contents (path, text, length, NULL);
}

static gint64
pump_time (gpointer user_data)
{
  (void) user_data;
  return thecal_loopback_transport_pump_time_ms (world.loopback);
}

/* Runs on the test's context: drops the pump's answer to COMMIT when asked. */
static ThecalFaultAction
policy (ThecalFaultTransport *fault, ThecalFaultDirection direction, guint64 index, GBytes *frame, gpointer user_data)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (frame, &size);

  (void) fault;
  (void) index;
  (void) user_data;
  if (world.drop_commit_answer && direction == THECAL_FAULT_FROM_PUMP && size > 3 && data[3] == THECAL_MSG_COMMIT)
    return THECAL_FAULT_ACTION_DROP;
  return THECAL_FAULT_ACTION_DELIVER;
}

static void
register_pump (ThecalRecordSession *session, const char *serial, const char *mrn)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalPump) pump = NULL;
  g_autoptr (ThecalRecordedPrescription) rx = NULL;
  guint8 key[THECAL_KEY_SIZE];
  ThecalPumpInput input = { serial, "TR-20", mrn, "2025-06-01", 455, key };

  thecal_sim_pump_demo_key (serial, key);
  pump = thecal_record_session_add_pump_sync (session, &input, NULL, &error);
  ck_assert_msg (pump != NULL, "%s", error != NULL ? error->message : "?");
  rx = SYNC (thecal_record_add_prescription, world.record, &error, thecal_record_session_get_user (session), serial,
             thecal_sim_pump_active (world.pump), pump_time (NULL) - 86400000, THECAL_RX_SOURCE_ENTERED, 0, NULL);
  ck_assert_msg (rx != NULL, "%s", error != NULL ? error->message : "?");
}

static void
world_setup (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecordSession) admin = NULL;
  g_autoptr (ThecalUser) physician = NULL;
  g_autoptr (ThecalUser) nurse = NULL;
  g_autoptr (ThecalPatient) patient = NULL;
  g_autoptr (ThecalPatient) other = NULL;
  g_autofree char *text = NULL;
  gsize length;
  ThecalDoseError dose_error;
  ThecalPatientInput p1 = { "MRN-1", "DOE, Jane", "1960-01-01", THECAL_OPIOID_TOLERANT, NULL };
  ThecalPatientInput p2 = { "MRN-2", "ROE, Richard", "1950-01-01", THECAL_OPIOID_TOLERANT, NULL };

  record_test_setup ();
  ck_assert (load_data ("pump-models.json", &text, &length));
  ck_assert (thecal_pump_models_load_json (text, length, &world.models, &dose_error));
  g_clear_pointer (&text, g_free);
  ck_assert (load_data ("drug-library.json", &text, &length));
  ck_assert (thecal_drug_library_load_json (text, length, &world.library, &dose_error));

  world.clock = thecal_clock_new_virtual (0);
  world.pump = g_new0 (ThecalSimPump, 1);
  ck_assert (thecal_sim_pump_demo_init (world.pump, thecal_sim_pump_demo_find ("TR20-000123"),
                                        thecal_pump_model_set_find (&world.models, "TR-20"), &dose_error));
  world.loopback = thecal_loopback_transport_new (world.pump, NULL, world.clock);
  world.fault = thecal_fault_transport_new (THECAL_TRANSPORT (world.loopback), &(ThecalFaultConfig){ .seed = 1 }, world.clock);
  thecal_fault_transport_set_policy (world.fault, policy, NULL, NULL);
  world.link = thecal_pump_link_new (THECAL_TRANSPORT (world.fault), world.clock);

  world.path = test_path ("record.sqlite");
  world.record = open_record (world.path, THECAL_RECORD_OPEN_CREATE);
  admin = thecal_record_session_first_run_sync (world.record, "admin", "Ada Admin", TEST_PASSWORD, NULL, &error);
  ck_assert_ptr_nonnull (admin);
  physician = thecal_record_session_add_user_sync (admin, "paula", "Dr Paula Physician", THECAL_ROLE_PHYSICIAN, TEST_PASSWORD, NULL, &error);
  ck_assert_ptr_nonnull (physician);
  nurse = thecal_record_session_add_user_sync (admin, "nina", "Nina Nurse", THECAL_ROLE_NURSE, TEST_PASSWORD, NULL, &error);
  ck_assert_ptr_nonnull (nurse);
  world.physician = thecal_record_session_login_sync (world.record, "paula", TEST_PASSWORD, NULL, &error);
  world.nurse = thecal_record_session_login_sync (world.record, "nina", TEST_PASSWORD, NULL, &error);
  ck_assert_ptr_nonnull (world.physician);
  ck_assert_ptr_nonnull (world.nurse);
  patient = thecal_record_session_add_patient_sync (world.physician, &p1, NULL, &error);
  ck_assert_msg (patient != NULL, "%s", error != NULL ? error->message : "?");
  other = thecal_record_session_add_patient_sync (world.physician, &p2, NULL, &error);
  ck_assert_ptr_nonnull (other);
}

static void
world_teardown (void)
{
  g_clear_object (&world.link);
  g_clear_object (&world.fault);
  g_clear_object (&world.loopback);
  g_clear_pointer (&world.pump, g_free);
  g_clear_object (&world.clock);
  g_clear_object (&world.physician);
  g_clear_object (&world.nurse);
  g_clear_object (&world.record);
  g_clear_pointer (&world.path, g_free);
  record_test_teardown ();
}

static ThecalVisit *
new_visit (ThecalRecordSession *session)
{
  ThecalVisit *visit = thecal_visit_new (session, world.link, &world.models, &world.library);

  thecal_visit_set_time_func (visit, pump_time, NULL);
  return visit;
}

/* Runs on the test's context. */
static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  (void) source;
  *out = g_object_ref (result);
}

/* Iterates the virtual clock (the link) and, when nothing is scheduled, waits for the record's
 * thread. */
static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    if (!thecal_clock_iterate (world.clock, NULL))
      g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static gboolean
visit_connect (ThecalVisit *visit, const char *mrn, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  thecal_visit_connect_async (visit, mrn, NULL, on_done, &result);
  return thecal_visit_connect_finish (visit, wait_result (&result), error);
}

static gboolean
visit_program (ThecalVisit *visit, const ThecalProgramReview *review, const char *override_reason, ThecalProgrammingOutcome *outcome, gint64 *session_id, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  thecal_visit_program_async (visit, review, "pain not controlled", override_reason, NULL, on_done, &result);
  return thecal_visit_program_finish (visit, wait_result (&result), outcome, session_id, error);
}

static gboolean
visit_reconcile (ThecalVisit *visit, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  thecal_visit_reconcile_async (visit, NULL, on_done, &result);
  return thecal_visit_reconcile_finish (visit, wait_result (&result), error);
}

static gboolean
has_finding (ThecalVisit *visit, const char *code)
{
  GPtrArray *findings = thecal_visit_get_findings (visit);

  for (guint i = 0; i < findings->len; i++)
    if (g_strcmp0 (((ThecalVisitFinding *) findings->pdata[i])->code, code) == 0)
      return TRUE;
  return FALSE;
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
