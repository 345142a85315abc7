/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-visit-refill.c: the refill workflow (src/workflow/thecal-workflow-refill.c) against the
 * simulated demo pump TR20-000123 (TR-20: 20 mL reservoir, discrepancy threshold 1 mL; morphine
 * 25 mg/mL, 12 mL in the reservoir) over the loopback transport, with a real record: a normal
 * refill, a flagged discrepancy without and with acknowledgement, over capacity, the verifier's
 * checks (not the performer, a wrong password audited), a drug change refused, the pump out of
 * range (nothing applied) and a lost answer (UNCERTAIN, blocking until settled).
 */
#include "config.h"

#include "thecal-dose-json.h"
#include "thecal-fault-transport.h"
#include "thecal-loopback-transport.h"
#include "thecal-sim-pump-demo.h"
#include "thecal-test-record.h"
#include "thecal-test.h"
#include "thecal-visit.h"
#include "thecal-workflow-refill.h"

#define MG INT64_C (1000000)

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
  gboolean drop_reservoir_answer;
  gboolean drop_status_answer;
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
  if (world.drop_reservoir_answer && direction == THECAL_FAULT_FROM_PUMP && size > 3 && data[3] == THECAL_MSG_SET_RESERVOIR)
    return THECAL_FAULT_ACTION_DROP;
  if (world.drop_status_answer && direction == THECAL_FAULT_FROM_PUMP && size > 3 && data[3] == THECAL_MSG_READ_STATUS)
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

#define ML INT64_C (1000000)

static gboolean
visit_refill (ThecalVisit *visit, const ThecalRefillRequest *request, ThecalRefillReport *report, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  thecal_visit_refill_async (visit, request, NULL, on_done, &result);
  return thecal_visit_refill_finish (visit, wait_result (&result), report, error);
}

static gboolean
visit_settle (ThecalVisit *visit, ThecalProgrammingOutcome *outcome, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  thecal_visit_settle_refill_async (visit, NULL, on_done, &result);
  return thecal_visit_settle_refill_finish (visit, wait_result (&result), outcome, error);
}

/* A nurse's refill verified by the physician: 12 mL expected and aspirated, 18 mL added. */
static ThecalRefillRequest
good_request (void)
{
  ThecalRefillRequest request = { 0 };

  request.aspirated_nl = 12 * ML;
  request.drug_id = "morphine";
  request.concentration_ng_per_ml = 25 * MG;
  request.lot = "LOT-42";
  request.expiry_date = "2099-12-31";
  request.added_nl = 18 * ML;
  request.verifier_name = "paula";
  request.verifier_password = TEST_PASSWORD;
  return request;
}

static guint
count_refills (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalPatientRecord) history = SYNC (thecal_record_get_patient_record, world.record, &error, "MRN-1");

  ck_assert_msg (history != NULL, "%s", error != NULL ? error->message : "?");
  return history->refills->len;
}

static ThecalVisit *
connected_visit (ThecalRecordSession *session)
{
  g_autoptr (GError) error = NULL;
  ThecalVisit *visit;

  register_pump (world.physician, "TR20-000123", "MRN-1");
  visit = new_visit (session);
  ck_assert_msg (visit_connect (visit, "MRN-1", &error), "%s", error != NULL ? error->message : "?");
  return visit;
}

START_TEST (test_refill_by_nurse)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.nurse);
  g_autoptr (ThecalPatientRecord) history = NULL;
  ThecalRefillRequest request = good_request ();
  ThecalRefillReport report;
  const ThecalRefill *refill;
  guint pending = count_audit (world.record, "refill.pending");

  ck_assert_msg (visit_refill (visit, &request, &report, &error), "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (report.outcome, THECAL_OUTCOME_CONFIRMED);
  /* no fill recorded: the pump's own 12 mL estimate is the expected residual */
  ck_assert (!report.history_known);
  ck_assert_int_eq (report.check.expected_residual_nl, 12 * ML);
  ck_assert (!report.check.flagged);
  ck_assert_int_eq (report.new_volume_nl, 18 * ML);
  ck_assert_int_gt (report.refill_id, 0);
  ck_assert_uint_eq (thecal_sim_pump_stats (world.pump)->reservoir_sets, 1);
  ck_assert_int_eq (thecal_visit_get_status (visit)->reservoir_set_nl, 18 * ML);
  ck_assert_uint_eq (count_audit (world.record, "refill.pending"), pending + 1);
  /* 18 mL − 3 mL refill threshold at 0.2 mL/day (no PTM on the demo pump) = 75 days, inside
   * morphine's 90-day stability: the refill-by date lies 75 days ahead (within a day) */
  ck_assert (report.have_projection);
  ck_assert_int_gt (report.projection.refill_by_local_ms, thecal_visit_get_status (visit)->pump_ms + 74 * INT64_C (86400000));
  ck_assert_int_le (report.projection.refill_by_local_ms, thecal_visit_get_status (visit)->pump_ms + 76 * INT64_C (86400000));
  history = SYNC (thecal_record_get_patient_record, world.record, &error, "MRN-1");
  ck_assert_uint_eq (history->refills->len, 1);
  refill = history->refills->pdata[0];
  ck_assert_str_eq (refill->performed_by, "nina");
  ck_assert_str_eq (refill->verified_by, "paula");
  ck_assert_str_eq (refill->lot, "LOT-42");
  ck_assert_int_eq (refill->added_nl, 18 * ML);
  ck_assert_int_eq (refill->aspirated_nl, 12 * ML);
}
END_TEST

START_TEST (test_refill_discrepancy_needs_acknowledgement)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.nurse);
  ThecalRefillRequest request = good_request ();
  ThecalRefillReport report;
  ThecalRefillCheck check;

  /* 12 mL expected, 10.9 mL back: 1.1 mL less, over the TR-20's 1 mL threshold */
  request.aspirated_nl = 10900000;
  ck_assert (thecal_visit_refill_preview (visit, request.aspirated_nl, &check, NULL, &error));
  ck_assert (check.flagged);
  ck_assert_int_eq (check.kind, THECAL_DISCREPANCY_LESS_BACK);
  ck_assert (!visit_refill (visit, &request, &report, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_NEEDS_REASON), "%s", error->message);
  ck_assert (strstr (error->message, "pocket fill") != NULL);
  g_clear_error (&error);
  ck_assert_uint_eq (thecal_sim_pump_stats (world.pump)->reservoir_sets, 0);
  /* too short an acknowledgement is none */
  request.acknowledgement = "ok";
  ck_assert (!visit_refill (visit, &request, &report, &error));
  ck_assert (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_NEEDS_REASON));
  g_clear_error (&error);
  /* exactly 1 mL less is within the band: not flagged (boundary) */
  ck_assert (thecal_visit_refill_preview (visit, 11 * ML, &check, NULL, &error));
  ck_assert (!check.flagged);
  request.acknowledgement = "patient examined, no overdose signs";
  ck_assert_msg (visit_refill (visit, &request, &report, &error), "%s", error != NULL ? error->message : "?");
  ck_assert (report.check.flagged);
  ck_assert_uint_eq (count_refills (), 1);
}
END_TEST

START_TEST (test_refill_over_capacity_refused)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.nurse);
  ThecalRefillRequest request = good_request ();
  ThecalRefillReport report;

  request.added_nl = 20 * ML + 1000; /* capacity + one resolution step (1 µL) */
  ck_assert (!visit_refill (visit, &request, &report, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED), "%s", error->message);
  ck_assert_msg (strstr (error->message, "20") != NULL, "%s", error->message);
  g_clear_error (&error);
  ck_assert_uint_eq (thecal_sim_pump_stats (world.pump)->reservoir_sets, 0);
  /* the capacity itself is allowed */
  request.added_nl = 20 * ML;
  ck_assert_msg (visit_refill (visit, &request, &report, &error), "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (report.new_volume_nl, 20 * ML);
}
END_TEST

START_TEST (test_refill_expired_and_drug_change_refused)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.nurse);
  ThecalRefillRequest request = good_request ();
  ThecalRefillReport report;

  request.expiry_date = "2000-01-01";
  ck_assert (!visit_refill (visit, &request, &report, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED), "%s", error->message);
  ck_assert (strstr (error->message, "expired") != NULL);
  g_clear_error (&error);
  request = good_request ();
  request.concentration_ng_per_ml = 20 * MG;
  ck_assert (!visit_refill (visit, &request, &report, &error));
  ck_assert (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED));
  ck_assert (strstr (error->message, "a concentration change needs a bridge bolus: not available yet") != NULL);
  ck_assert_uint_eq (thecal_sim_pump_stats (world.pump)->reservoir_sets, 0);
  ck_assert_uint_eq (count_refills (), 0);
}
END_TEST

START_TEST (test_refill_same_verifier_refused)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.nurse);
  ThecalRefillRequest request = good_request ();
  ThecalRefillReport report;
  guint refused = count_audit (world.record, "refill.verify_refused");

  request.verifier_name = "nina";
  ck_assert (!visit_refill (visit, &request, &report, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_VERIFIER), "%s", error->message);
  ck_assert (strstr (error->message, "second person") != NULL);
  ck_assert_uint_eq (count_audit (world.record, "refill.verify_refused"), refused + 1);
  ck_assert_uint_eq (thecal_sim_pump_stats (world.pump)->reservoir_sets, 0);
  ck_assert_uint_eq (count_refills (), 0);
}
END_TEST

START_TEST (test_refill_wrong_verifier_password_audited)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.nurse);
  ThecalRefillRequest request = good_request ();
  ThecalRefillReport report;
  guint refused = count_audit (world.record, "refill.verify_refused");
  guint failed = count_audit (world.record, "login.failed");

  request.verifier_password = "not the password";
  ck_assert (!visit_refill (visit, &request, &report, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_VERIFIER), "%s", error->message);
  ck_assert_uint_eq (count_audit (world.record, "refill.verify_refused"), refused + 1);
  ck_assert_uint_eq (count_audit (world.record, "login.failed"), failed + 1);
  ck_assert_uint_eq (thecal_sim_pump_stats (world.pump)->reservoir_sets, 0);
  ck_assert_uint_eq (count_refills (), 0);
}
END_TEST

START_TEST (test_refill_out_of_range_nothing_applied)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.nurse);
  ThecalRefillRequest request = good_request ();
  ThecalRefillReport report;
  ThecalProgrammingOutcome outcome;

  thecal_loopback_transport_set_pump_in_range (world.loopback, FALSE);
  ck_assert (!visit_refill (visit, &request, &report, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED), "%s", error->message);
  ck_assert (strstr (error->message, "UNCERTAIN") != NULL);
  g_clear_error (&error);
  /* the programmer cannot know whether SET_RESERVOIR arrived: the visit is blocked, nothing recorded */
  ck_assert_uint_eq (thecal_sim_pump_stats (world.pump)->reservoir_sets, 0);
  ck_assert_uint_eq (count_refills (), 0);
  ck_assert (thecal_visit_is_blocked (visit, NULL));
  ck_assert (!visit_refill (visit, &request, &report, &error));
  ck_assert (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_BLOCKED));
  g_clear_error (&error);
  /* back in range: a read settles it (not applied), then the refill goes through */
  thecal_loopback_transport_set_pump_in_range (world.loopback, TRUE);
  ck_assert_msg (visit_settle (visit, &outcome, &error), "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (outcome, THECAL_OUTCOME_FAILED);
  ck_assert (!thecal_visit_is_blocked (visit, NULL));
  ck_assert_uint_eq (count_refills (), 0);
  ck_assert_msg (visit_refill (visit, &request, &report, &error), "%s", error != NULL ? error->message : "?");
  ck_assert_uint_eq (count_refills (), 1);
  ck_assert_uint_eq (thecal_sim_pump_stats (world.pump)->reservoir_sets, 1);
}
END_TEST

START_TEST (test_refill_lost_answer_settled_by_read)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.nurse);
  ThecalRefillRequest request = good_request ();
  ThecalRefillReport report;

  /* the pump takes it, its answer is lost: the read that follows shows the new fill */
  world.drop_reservoir_answer = TRUE;
  ck_assert_msg (visit_refill (visit, &request, &report, &error), "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (report.outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert (!thecal_visit_is_blocked (visit, NULL));
  ck_assert_uint_eq (count_refills (), 1);
}
END_TEST

START_TEST (test_refill_uncertain_blocks_until_settled)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.nurse);
  ThecalRefillRequest request = good_request ();
  ThecalRefillReport report;
  ThecalProgrammingOutcome outcome;
  guint uncertain = count_audit (world.record, "refill.uncertain");

  world.drop_reservoir_answer = TRUE;
  world.drop_status_answer = TRUE;
  ck_assert (!visit_refill (visit, &request, &report, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED), "%s", error->message);
  g_clear_error (&error);
  ck_assert (thecal_visit_is_blocked (visit, NULL));
  ck_assert_uint_eq (count_audit (world.record, "refill.uncertain"), uncertain + 1);
  ck_assert_uint_eq (count_refills (), 0);
  world.drop_reservoir_answer = FALSE;
  world.drop_status_answer = FALSE;
  ck_assert_msg (visit_settle (visit, &outcome, &error), "%s", error != NULL ? error->message : "?");
  /* the pump took it (only the answers were lost): confirmed and recorded */
  ck_assert_int_eq (outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert (!thecal_visit_is_blocked (visit, NULL));
  ck_assert_uint_eq (count_refills (), 1);
}
END_TEST

START_TEST (test_refill_needs_permission)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecordSession) admin = thecal_record_session_login_sync (world.record, "admin", TEST_PASSWORD, NULL, &error);
  g_autoptr (ThecalVisit) visit = NULL;
  ThecalRefillRequest request = good_request ();
  ThecalRefillReport report;
  guint denied;

  ck_assert_ptr_nonnull (admin);
  visit = connected_visit (world.physician);
  g_clear_object (&visit);
  visit = new_visit (admin);
  if (!visit_connect (visit, "MRN-1", &error))
    {
      /* the administrator may not even interrogate: refused before any refill */
      ck_assert (g_error_matches (error, THECAL_WORKFLOW_ERROR, THECAL_WORKFLOW_ERROR_PERMISSION_DENIED));
      return;
    }
  denied = count_audit (world.record, "permission.denied");
  ck_assert (!visit_refill (visit, &request, &report, &error));
  ck_assert (g_error_matches (error, THECAL_WORKFLOW_ERROR, THECAL_WORKFLOW_ERROR_PERMISSION_DENIED));
  ck_assert_uint_eq (count_audit (world.record, "permission.denied"), denied + 1);
}
END_TEST

static Suite *
refill_suite (void)
{
  Suite *s = suite_create ("visit-refill");
  TCase *tc = tcase_create ("refill");

  tcase_add_checked_fixture (tc, world_setup, world_teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_refill_by_nurse);
  tcase_add_test (tc, test_refill_discrepancy_needs_acknowledgement);
  tcase_add_test (tc, test_refill_over_capacity_refused);
  tcase_add_test (tc, test_refill_expired_and_drug_change_refused);
  tcase_add_test (tc, test_refill_same_verifier_refused);
  tcase_add_test (tc, test_refill_wrong_verifier_password_audited);
  tcase_add_test (tc, test_refill_out_of_range_nothing_applied);
  tcase_add_test (tc, test_refill_lost_answer_settled_by_read);
  tcase_add_test (tc, test_refill_uncertain_blocks_until_settled);
  tcase_add_test (tc, test_refill_needs_permission);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (refill_suite)
