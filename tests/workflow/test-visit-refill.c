/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-visit-refill.c: the refill workflow (src/workflow/thecal-workflow-refill.c) against the
 * simulated demo pump TR20-000123 (TR-20: 20 mL reservoir, discrepancy threshold 1 mL; morphine
 * 25 mg/mL, 12 mL in the reservoir) over the loopback transport, with a real record: a normal
 * refill, a flagged discrepancy without and with acknowledgement, over capacity, the verifier's
 * checks (not the performer, a wrong password audited), the pump out of range (nothing applied)
 * and a lost answer (UNCERTAIN, blocking until settled). Then the refill with a drug or
 * concentration change: 25 → 50 mg/mL morphine at the same daily dose (a soft-limit override), the
 * bridge bolus the engine delivers, a change of drug, a nurse refused, a hard limit refused before
 * anything is sent, a lost answer at STAGE, at REFILL_COMMIT (request, answer, answer and the
 * reads after it) and at START_BOLUS, with the pump never stopped at any point (the engine's mode
 * and log after each), and the boundaries of the volume and the concentration.
 */
#include "config.h"

#include "visit-world.h"
#include "thecal-engine.h"
#include "thecal-workflow-refill.h"

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
  g_autoptr (ThecalRefillReview) review = NULL;

  /* the review of a plain refill (no I/O): no change, and the new fill's dates for the summary */
  review = thecal_visit_review_refill (visit, &request, &error);
  ck_assert_msg (review != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert (!review->change);
  ck_assert_int_eq (review->new_volume_nl, 18 * ML);
  ck_assert (review->have_projection);
  ck_assert_msg (visit_refill (visit, &request, &report, &error), "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (report.outcome, THECAL_OUTCOME_CONFIRMED);
  /* the review's dates are the report's: the same volume under the same prescription (the
   * simulated clock has not moved between them) */
  ck_assert (report.have_projection);
  ck_assert_int_eq (review->projection.refill_by_local_ms, report.projection.refill_by_local_ms);
  ck_assert_int_eq (review->projection.low_alarm_local_ms, report.projection.low_alarm_local_ms);
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

START_TEST (test_refill_expired_refused)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.nurse);
  ThecalRefillRequest request = good_request ();
  ThecalRefillReport report;

  request.expiry_date = "2000-01-01";
  ck_assert (!visit_refill (visit, &request, &report, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED), "%s", error->message);
  ck_assert (strstr (error->message, "expired") != NULL);
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

/* ---- a drug or concentration change --------------------------------------------------------- */

#define DAY_MS INT64_C (86400000)

/* The physician refills, the nurse verifies: 12 mL back, 18 mL of morphine at @concentration. */
static ThecalRefillRequest
change_request (gint64 concentration_ng_per_ml)
{
  ThecalRefillRequest request = good_request ();

  request.concentration_ng_per_ml = concentration_ng_per_ml;
  request.verifier_name = "nina";
  request.override_reason = "concentration raised to halve the refill volume";
  return request;
}

static guint
count_findings (ThecalVisit *visit, const char *code)
{
  GPtrArray *findings = thecal_visit_get_findings (visit);
  guint n = 0;

  for (guint i = 0; i < findings->len; i++)
    if (g_str_equal (((ThecalVisitFinding *) findings->pdata[i])->code, code))
      n++;
  return n;
}

static ThecalEngineStatus
engine_status (void)
{
  ThecalEngineStatus st;

  thecal_loopback_transport_advance_pump (world.loopback);
  thecal_engine_get_status (thecal_sim_pump_engine (world.pump), &st);
  return st;
}

/* The pump never stopped: no PRESCRIPTION_SET of a STOPPED prescription in its log, and every
 * RESERVOIR_SET of another concentration than the one before came with its PRESCRIPTION_SET at
 * the same instant (the fill and the prescription for it at once). */
static void
assert_never_stopped (void)
{
  const ThecalEngine *engine = thecal_sim_pump_engine (world.pump);
  ThecalEngineStatus st = engine_status ();

  ck_assert_int_ne (st.mode, THECAL_MODE_STOPPED);
  ck_assert_int_ne (thecal_sim_pump_active (world.pump)->mode, THECAL_MODE_STOPPED);
  for (gint64 seq = thecal_engine_log_oldest_seq (engine); seq < thecal_engine_log_next_seq (engine); seq++)
    {
      ThecalEngineEvent event, next;

      ck_assert (thecal_engine_log_get (engine, seq, &event));
      if (event.type == THECAL_EVENT_PRESCRIPTION_SET)
        ck_assert_msg (event.code != THECAL_MODE_STOPPED, "the pump was stopped at log entry %" G_GINT64_FORMAT, seq);
      if (event.type == THECAL_EVENT_RESERVOIR_SET && event.args[1] != 25 * MG)
        {
          ck_assert (thecal_engine_log_get (engine, seq + 1, &next));
          ck_assert_int_eq (next.type, THECAL_EVENT_PRESCRIPTION_SET);
          ck_assert_int_eq (next.pump_ms, event.pump_ms);
          ck_assert_int_eq (next.args[2], event.args[1]); /* the prescription for that concentration */
        }
    }
}

/* The pump runs the old prescription (25 mg/mL) on the old fill, untouched. */
static void
assert_old_on_old_fill (void)
{
  ThecalEngineStatus st = engine_status ();

  ck_assert_int_eq (thecal_sim_pump_active (world.pump)->concentration_ng_per_ml, 25 * MG);
  ck_assert_int_eq (st.reservoir_concentration_ng_per_ml, 25 * MG);
  ck_assert_int_eq (thecal_sim_pump_stats (world.pump)->reservoir_sets, 0);
  ck_assert_int_eq (thecal_sim_pump_stats (world.pump)->prescriptions_set, 0);
  assert_never_stopped ();
}

/* The pump runs the new prescription (50 mg/mL) on the new fill (18 mL). */
static void
assert_new_on_new_fill (void)
{
  ThecalEngineStatus st = engine_status ();

  ck_assert_int_eq (thecal_sim_pump_active (world.pump)->concentration_ng_per_ml, 50 * MG);
  ck_assert_int_eq (st.reservoir_concentration_ng_per_ml, 50 * MG);
  ck_assert_int_eq (st.reservoir_set_nl, 18 * ML);
  ck_assert_int_eq (thecal_sim_pump_stats (world.pump)->reservoir_sets, 1);
  ck_assert_int_eq (thecal_sim_pump_stats (world.pump)->prescriptions_set, 1);
  assert_never_stopped ();
}

static guint
count_unresolved_sessions (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) sessions = SYNC (thecal_record_list_unresolved_sessions, world.record, &error);

  ck_assert_msg (sessions != NULL, "%s", error != NULL ? error->message : "?");
  return sessions->len;
}

static guint
count_unresolved_writes (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) writes = SYNC (thecal_record_list_pump_writes, world.record, &error, "TR20-000123", TRUE);

  ck_assert_msg (writes != NULL, "%s", error != NULL ? error->message : "?");
  return writes->len;
}

START_TEST (test_change_concentration_keeps_daily_dose)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.physician);
  g_autoptr (ThecalRefillReview) review = NULL;
  ThecalRefillRequest request = change_request (50 * MG);
  ThecalRefillReport report;
  const ThecalPrescription *active;
  ThecalEngineStatus st;
  const ThecalBolusPhase *bridge;
  gint64 now = thecal_visit_get_status (visit)->pump_ms;
  guint pending = count_audit (world.record, "refill.change.pending");
  guint done = count_audit (world.record, "refill.change.done");

  /* the review: old → new, the same 5 mg/day at 50 mg/mL = 0.1 mL/day, the bridge, the dates */
  review = thecal_visit_review_refill (visit, &request, &error);
  ck_assert_msg (review != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert (review->change);
  ck_assert_int_eq (review->old_rx.concentration_ng_per_ml, 25 * MG);
  ck_assert_int_eq (review->new_rx.concentration_ng_per_ml, 50 * MG);
  ck_assert_int_eq (review->new_rx.continuous.basis, THECAL_BASIS_DOSE);
  ck_assert_int_eq (review->new_rx.continuous.dose_ng_per_day, 5 * MG);
  ck_assert_int_eq (review->rx_check.plan.basal_nl_per_day, 100000);
  ck_assert_int_eq (review->rx_check.plan.basal_ng_per_day, 5 * MG);
  ck_assert_uint_gt (review->changes->len, 0);
  /* 50 mg/mL is above morphine's 20 mg/mL soft limit: an override */
  ck_assert (review->needs_override);
  ck_assert_int_eq (review->rx_check.worst, THECAL_FINDING_OVERRIDE);
  /* the bridge: 0.25 mL + 45.5 cm × 0.0026 mL/cm = 0.3683 mL → 1 474 strokes = 0.3685 mL of the old
   * 25 mg/mL at 5 mg/day / 25 mg/mL = 0.2 mL/day for 0.3685 × 86 400 000 / 0.2 = 159 192 000 ms */
  ck_assert_int_eq (review->bridge->request.kind, THECAL_PROTO_BOLUS_BRIDGE);
  bridge = &review->bridge->request.plan.phases[0];
  ck_assert_int_eq (bridge->kind, THECAL_PHASE_BRIDGE);
  ck_assert_int_eq (bridge->volume_nl, 368500);
  ck_assert_int_eq (bridge->rate_nl_per_day, 200000);
  ck_assert_int_eq (bridge->concentration_ng_per_ml, 25 * MG);
  ck_assert_int_eq (bridge->duration_ms, 159192000);
  ck_assert_int_eq (bridge->dose_rate_ng_per_day, 5 * MG);
  ck_assert (!review->bridge->request.plan.rate_capped);
  ck_assert_int_eq (review->bridge->volume_nl, 368500);
  /* its duration for people, in the dose core's units */
  ck_assert_msg (strstr (review->bridge->summary, "over 1 day 20 h 13 min 12 s;") != NULL, "%s", review->bridge->summary);
  /* dates: 18 mL − the bridge, from its end, at 0.1 mL/day; refill by the 90-day stability */
  ck_assert (review->have_projection);
  ck_assert_int_eq (review->projection.refill_by_local_ms, now + 90 * DAY_MS);
  ck_assert_int_gt (review->projection.low_alarm_local_ms, now + 157 * DAY_MS);
  ck_assert_int_lt (review->projection.low_alarm_local_ms, now + 159 * DAY_MS);

  /* a soft limit without a reason: refused before anything is sent */
  request.override_reason = NULL;
  ck_assert (!visit_refill (visit, &request, &report, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_NEEDS_REASON), "%s", error->message);
  g_clear_error (&error);
  ck_assert_uint_eq (thecal_sim_pump_stats (world.pump)->reservoir_sets, 0);
  ck_assert_uint_eq (thecal_sim_pump_stats (world.pump)->prescriptions_set, 0);

  request.override_reason = "concentration raised to halve the refill volume";
  ck_assert_msg (visit_refill (visit, &request, &report, &error), "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (report.outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert (report.changed);
  ck_assert_int_gt (report.program_session_id, 0);
  ck_assert_uint_eq (count_unresolved_sessions (), 0);
  ck_assert_uint_eq (count_unresolved_writes (), 0);
  ck_assert_int_gt (report.refill_id, 0);
  ck_assert_int_eq (report.new_volume_nl, 18 * ML);
  ck_assert (report.have_projection);
  ck_assert_int_eq (report.projection.refill_by_local_ms, now + 90 * DAY_MS);
  ck_assert (!thecal_visit_is_blocked (visit, NULL));
  ck_assert_uint_eq (count_refills (), 1);
  ck_assert_uint_eq (count_audit (world.record, "refill.change.pending"), pending + 1);
  ck_assert_uint_eq (count_audit (world.record, "refill.change.done"), done + 1);
  ck_assert_uint_eq (count_findings (visit, "drug_change_incomplete"), 0);
  /* the fill and the new prescription at one instant (REFILL_COMMIT), never stopped */
  ck_assert_uint_eq (thecal_sim_pump_stats (world.pump)->prescriptions_set, 1);
  ck_assert_uint_eq (thecal_sim_pump_stats (world.pump)->reservoir_sets, 1);
  ck_assert_uint_eq (thecal_sim_pump_stats (world.pump)->boluses_started, 1);
  ck_assert_int_eq (thecal_sim_pump_role (world.pump)->stats.refill_commits_applied, 1);
  ck_assert_int_eq (thecal_sim_pump_role (world.pump)->stats.commits_applied, 0);
  assert_never_stopped ();

  /* the pump: the new fill, the new prescription, the bridge running with the old drug at the tip */
  active = thecal_sim_pump_active (world.pump);
  ck_assert_int_eq (active->mode, THECAL_MODE_CONTINUOUS);
  ck_assert_int_eq (active->concentration_ng_per_ml, 50 * MG);
  ck_assert_int_eq (active->continuous.dose_ng_per_day, 5 * MG);
  st = engine_status ();
  ck_assert_int_eq (st.reservoir_concentration_ng_per_ml, 50 * MG);
  ck_assert (st.bolus_active);
  ck_assert_int_eq (st.bolus_source, THECAL_SOURCE_BRIDGE);
  ck_assert_int_eq (st.bolus_planned_nl, 368500);
  ck_assert_int_eq (st.tip_concentration_ng_per_ml, 25 * MG);
  /* the engine delivers it: after its 44.2 h the new drug is at the tip and the basal runs */
  thecal_clock_advance_to (world.clock, thecal_clock_now_ms (world.clock) + 159192000 + 60000);
  st = engine_status ();
  ck_assert (!st.bolus_active);
  ck_assert (st.delivering);
  ck_assert_int_eq (st.tip_concentration_ng_per_ml, 50 * MG);
}
END_TEST

START_TEST (test_change_drug)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.physician);
  g_autoptr (ThecalRefillReview) review = NULL;
  ThecalRefillRequest request = change_request (10 * MG);
  ThecalRefillReport report;
  const ThecalPrescription *active;
  ThecalEngineStatus st;

  request.drug_id = "hydromorphone";
  /* another drug: its daily dose must be given */
  ck_assert (thecal_visit_review_refill (visit, &request, &error) == NULL);
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED), "%s", error->message);
  ck_assert_msg (strstr (error->message, "daily dose") != NULL, "%s", error->message);
  g_clear_error (&error);
  request.new_dose_ng_per_day = 1 * MG;
  review = thecal_visit_review_refill (visit, &request, &error);
  ck_assert_msg (review != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert_str_eq (review->new_rx.drug_id, "hydromorphone");
  ck_assert_int_eq (review->new_rx.mode, THECAL_MODE_CONTINUOUS);
  ck_assert (!review->new_rx.ptm.enabled);
  ck_assert_int_eq (review->rx_check.plan.basal_nl_per_day, 100000);
  /* another drug: the old drug's own 5 mg/day is the bridge's target (0.2 mL/day of morphine) */
  ck_assert_int_eq (review->bridge->request.plan.target_dose_rate_ng_per_day, 5 * MG);
  ck_assert_int_eq (review->bridge->request.plan.phases[0].rate_nl_per_day, 200000);
  ck_assert (strstr (review->bridge->summary, "morphine") != NULL);

  ck_assert_msg (visit_refill (visit, &request, &report, &error), "%s", error != NULL ? error->message : "?");
  ck_assert (report.changed);
  active = thecal_sim_pump_active (world.pump);
  ck_assert_str_eq (active->drug_id, "hydromorphone");
  ck_assert_int_eq (active->concentration_ng_per_ml, 10 * MG);
  st = engine_status ();
  ck_assert_str_eq (st.reservoir_drug_id, "hydromorphone");
  ck_assert (st.bolus_active);
  ck_assert_str_eq (st.tip_drug_id, "morphine");
  thecal_clock_advance_to (world.clock, thecal_clock_now_ms (world.clock) + 159192000 + 60000);
  st = engine_status ();
  ck_assert (!st.bolus_active);
  ck_assert_str_eq (st.tip_drug_id, "hydromorphone");
}
END_TEST

START_TEST (test_change_by_nurse_refused)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.nurse);
  ThecalRefillRequest request = change_request (50 * MG);
  ThecalRefillReport report;
  guint denied = count_audit (world.record, "permission.denied");

  request.verifier_name = "paula";
  ck_assert (!visit_refill (visit, &request, &report, &error));
  ck_assert_msg (g_error_matches (error, THECAL_WORKFLOW_ERROR, THECAL_WORKFLOW_ERROR_PERMISSION_DENIED), "%s", error->message);
  ck_assert_msg (strstr (error->message, "prescription.change") != NULL, "%s", error->message);
  ck_assert_msg (strstr (error->message, "25 mg/mL") != NULL, "%s", error->message);
  ck_assert_uint_eq (count_audit (world.record, "permission.denied"), denied + 1);
  ck_assert_uint_eq (thecal_sim_pump_stats (world.pump)->reservoir_sets, 0);
  ck_assert_uint_eq (thecal_sim_pump_stats (world.pump)->prescriptions_set, 0);
  ck_assert_uint_eq (count_refills (), 0);
  /* the same drug and concentration stays the nurse's */
  request = good_request ();
  ck_assert_msg (visit_refill (visit, &request, &report, &error), "%s", error != NULL ? error->message : "?");
  ck_assert (!report.changed);
}
END_TEST

START_TEST (test_change_hard_limit_refused_before_any_write)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.physician);
  ThecalRefillRequest request = change_request (100000); /* ziconotide 100 mcg/mL */
  ThecalRefillReport report;
  guint pending = count_audit (world.record, "refill.change.pending");

  request.drug_id = "ziconotide";
  request.new_dose_ng_per_day = 19300; /* 19.3 mcg/day: above the label's hard 19.2 mcg/day */
  ck_assert (!visit_refill (visit, &request, &report, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED), "%s", error->message);
  ck_assert_msg (strstr (error->message, "19.2") != NULL, "%s", error->message);
  g_clear_error (&error);
  ck_assert_uint_eq (thecal_sim_pump_stats (world.pump)->prescriptions_set, 0);
  ck_assert_uint_eq (thecal_sim_pump_stats (world.pump)->reservoir_sets, 0);
  ck_assert_uint_eq (thecal_sim_pump_stats (world.pump)->boluses_started, 0);
  ck_assert_uint_eq (count_audit (world.record, "refill.change.pending"), pending);
  /* at the limit itself (19.2 mcg/day = 0.192 mL/day) it goes through */
  request.new_dose_ng_per_day = 19200;
  ck_assert_msg (visit_refill (visit, &request, &report, &error), "%s", error != NULL ? error->message : "?");
  ck_assert (report.changed);
}
END_TEST

/* STAGE's answer lost (every retransmission): REFILL_COMMIT is never sent, both writes FAILED,
 * nothing changed, not blocked; the same change then goes through. */
START_TEST (test_change_stage_answer_lost)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.physician);
  ThecalRefillRequest request = change_request (50 * MG);
  ThecalRefillReport report;
  guint not_applied = count_audit (world.record, "refill.change.not_applied");

  world.drop_stage_answer = TRUE;
  ck_assert (!visit_refill (visit, &request, &report, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED), "%s", error->message);
  ck_assert_msg (strstr (error->message, "nothing was changed") != NULL, "%s", error->message);
  g_clear_error (&error);
  assert_old_on_old_fill ();
  ck_assert (!thecal_visit_is_blocked (visit, NULL));
  ck_assert_uint_eq (count_unresolved_sessions (), 0);
  ck_assert_uint_eq (count_unresolved_writes (), 0);
  ck_assert_uint_eq (count_refills (), 0);
  ck_assert_uint_eq (count_audit (world.record, "refill.change.not_applied"), not_applied + 1);
  ck_assert_uint_eq (count_findings (visit, "drug_change_incomplete"), 0);

  world.drop_stage_answer = FALSE;
  ck_assert_msg (visit_refill (visit, &request, &report, &error), "%s", error != NULL ? error->message : "?");
  ck_assert (report.changed);
  assert_new_on_new_fill ();
  ck_assert_uint_eq (count_refills (), 1);
}
END_TEST

/* REFILL_COMMIT never reaches the pump: UNCERTAIN, settled at once by reading the pump: the old
 * prescription on the old fill → FAILED for both, not blocked. */
START_TEST (test_change_refill_commit_lost)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.physician);
  ThecalRefillRequest request = change_request (50 * MG);
  ThecalRefillReport report;

  world.drop_refill_commit_request = TRUE;
  ck_assert (!visit_refill (visit, &request, &report, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED), "%s", error->message);
  g_clear_error (&error);
  assert_old_on_old_fill ();
  ck_assert (!thecal_visit_is_blocked (visit, NULL));
  ck_assert_uint_eq (count_unresolved_sessions (), 0);
  ck_assert_uint_eq (count_unresolved_writes (), 0);
  ck_assert_uint_eq (count_refills (), 0);
  ck_assert_uint_eq (thecal_sim_pump_stats (world.pump)->boluses_started, 0);
}
END_TEST

/* REFILL_COMMIT applied, every answer lost: UNCERTAIN, settled at once by reading the pump: the
 * new prescription on the new fill → CONFIRMED for both (applied once), and the bridge follows. */
START_TEST (test_change_refill_commit_answer_lost)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.physician);
  ThecalRefillRequest request = change_request (50 * MG);
  ThecalRefillReport report;
  ThecalEngineStatus st;

  world.drop_refill_commit_answer = TRUE;
  ck_assert_msg (visit_refill (visit, &request, &report, &error), "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (report.outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert (report.changed);
  ck_assert_int_gt (report.refill_id, 0);
  assert_new_on_new_fill ();
  ck_assert_int_eq (thecal_sim_pump_role (world.pump)->stats.refill_commits_applied, 1);
  ck_assert (!thecal_visit_is_blocked (visit, NULL));
  ck_assert_uint_eq (count_unresolved_sessions (), 0);
  ck_assert_uint_eq (count_unresolved_writes (), 0);
  ck_assert_uint_eq (count_refills (), 1);
  st = engine_status ();
  ck_assert (st.bolus_active);
  ck_assert_int_eq (st.bolus_source, THECAL_SOURCE_BRIDGE);
}
END_TEST

/* REFILL_COMMIT applied and every read after it lost too: both writes UNCERTAIN, the visit
 * blocked with an alarm finding, the pump running the new prescription on the new fill (never
 * stopped); a reconcile over a healed link settles both CONFIRMED. */
START_TEST (test_change_refill_commit_and_reads_lost)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.physician);
  ThecalRefillRequest request = change_request (50 * MG);
  ThecalRefillReport report;

  world.drop_refill_commit_and_reads = TRUE;
  ck_assert (!visit_refill (visit, &request, &report, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_BLOCKED), "%s", error->message);
  ck_assert_msg (strstr (error->message, "never stopped") != NULL, "%s", error->message);
  g_clear_error (&error);
  ck_assert (thecal_visit_is_blocked (visit, NULL));
  ck_assert_uint_eq (count_findings (visit, "drug_change_incomplete"), 1);
  ck_assert_uint_eq (count_audit (world.record, "refill.change.interrupted"), 1);
  ck_assert_uint_eq (count_audit (world.record, "refill.change.done"), 0);
  ck_assert_uint_eq (count_unresolved_sessions (), 1);
  ck_assert_uint_eq (count_unresolved_writes (), 1);
  ck_assert_uint_eq (count_refills (), 0);
  ck_assert_uint_eq (thecal_sim_pump_stats (world.pump)->boluses_started, 0);
  assert_new_on_new_fill ();
  /* blocked: no other change until the pump is read */
  ck_assert (!visit_refill (visit, &request, &report, &error));
  ck_assert (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_BLOCKED));
  g_clear_error (&error);

  world.drop_refill_commit_and_reads = FALSE;
  ck_assert_msg (visit_reconcile (visit, &error), "%s", error != NULL ? error->message : "?");
  ck_assert (!thecal_visit_is_blocked (visit, NULL));
  ck_assert_uint_eq (count_unresolved_sessions (), 0);
  ck_assert_uint_eq (count_unresolved_writes (), 0);
  ck_assert_uint_eq (count_refills (), 1);
  assert_new_on_new_fill ();
}
END_TEST

/* The bridge's answer lost: the pump runs the new prescription on the new fill; the bolus is
 * UNCERTAIN and blocks. */
START_TEST (test_change_bridge_answer_lost)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.physician);
  ThecalRefillRequest request = change_request (50 * MG);
  ThecalRefillReport report;

  world.drop_bolus_answer = TRUE;
  ck_assert (!visit_refill (visit, &request, &report, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_BLOCKED)
                     || g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED),
                 "%s", error->message);
  ck_assert_msg (strstr (error->message, "bridge") != NULL, "%s", error->message);
  ck_assert (thecal_visit_is_blocked (visit, NULL));
  ck_assert_uint_eq (count_findings (visit, "drug_change_incomplete"), 1);
  ck_assert_uint_eq (count_audit (world.record, "refill.change.interrupted"), 1);
  ck_assert (thecal_visit_bolus_uncertain (visit));
  assert_new_on_new_fill ();
  ck_assert_uint_eq (count_refills (), 1);
  ck_assert_uint_eq (thecal_sim_pump_stats (world.pump)->boluses_started, 1);
}
END_TEST

START_TEST (test_change_boundaries)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.physician);
  g_autoptr (ThecalRefillReview) review = NULL;
  ThecalRefillRequest request = change_request (50 * MG);
  const ThecalPumpModel *model = thecal_visit_get_model (visit);
  gint64 least;

  /* a flagged discrepancy needs its acknowledgement in a drug change too, before any write */
  {
    ThecalRefillReport report;

    request.aspirated_nl = 10900000;
    ck_assert (!visit_refill (visit, &request, &report, &error));
    ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_NEEDS_REASON), "%s", error->message);
    ck_assert_msg (strstr (error->message, "pocket fill") != NULL, "%s", error->message);
    g_clear_error (&error);
    ck_assert_uint_eq (thecal_sim_pump_stats (world.pump)->prescriptions_set, 0);
    request.aspirated_nl = 12 * ML;
  }
  /* concentration 0 and 1 ng/mL (5 mg/day would need 5 000 L/day) are refused */
  request.concentration_ng_per_ml = 0;
  ck_assert (thecal_visit_review_refill (visit, &request, &error) == NULL);
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED), "%s", error->message);
  g_clear_error (&error);
  request.concentration_ng_per_ml = 1;
  ck_assert (thecal_visit_review_refill (visit, &request, &error) == NULL);
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED), "%s", error->message);
  g_clear_error (&error);
  /* the fill must give the bridge above the empty volume: 1 mL + 0.3685 mL is the least */
  request.concentration_ng_per_ml = 50 * MG;
  least = model->empty_nl + 368500;
  request.added_nl = least - 1000;
  ck_assert (thecal_visit_review_refill (visit, &request, &error) == NULL);
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED), "%s", error->message);
  ck_assert_msg (strstr (error->message, "bridge") != NULL, "%s", error->message);
  g_clear_error (&error);
  request.added_nl = least;
  review = thecal_visit_review_refill (visit, &request, &error);
  ck_assert_msg (review != NULL, "%s", error != NULL ? error->message : "?");
  g_clear_pointer (&review, thecal_refill_review_free);
  /* and never above the capacity */
  request.added_nl = model->reservoir_capacity_nl + 1000;
  ck_assert (thecal_visit_review_refill (visit, &request, &error) == NULL);
  ck_assert (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED));
  g_clear_error (&error);
  request.added_nl = model->reservoir_capacity_nl;
  review = thecal_visit_review_refill (visit, &request, &error);
  ck_assert_msg (review != NULL, "%s", error != NULL ? error->message : "?");
  /* a new prescription for another concentration than the fill */
  g_clear_pointer (&review, thecal_refill_review_free);
  {
    ThecalPrescription rx = *thecal_sim_pump_active (world.pump);

    request.new_rx = &rx;
    ck_assert (thecal_visit_review_refill (visit, &request, &error) == NULL);
    ck_assert_msg (strstr (error->message, "must be the same") != NULL, "%s", error->message);
  }
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
  tcase_add_test (tc, test_refill_expired_refused);
  tcase_add_test (tc, test_refill_same_verifier_refused);
  tcase_add_test (tc, test_refill_wrong_verifier_password_audited);
  tcase_add_test (tc, test_refill_out_of_range_nothing_applied);
  tcase_add_test (tc, test_refill_lost_answer_settled_by_read);
  tcase_add_test (tc, test_refill_uncertain_blocks_until_settled);
  tcase_add_test (tc, test_refill_needs_permission);
  suite_add_tcase (s, tc);

  tc = tcase_create ("drug-change");
  tcase_add_checked_fixture (tc, world_setup, world_teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_change_concentration_keeps_daily_dose);
  tcase_add_test (tc, test_change_drug);
  tcase_add_test (tc, test_change_by_nurse_refused);
  tcase_add_test (tc, test_change_hard_limit_refused_before_any_write);
  tcase_add_test (tc, test_change_stage_answer_lost);
  tcase_add_test (tc, test_change_refill_commit_lost);
  tcase_add_test (tc, test_change_refill_commit_answer_lost);
  tcase_add_test (tc, test_change_refill_commit_and_reads_lost);
  tcase_add_test (tc, test_change_bridge_answer_lost);
  tcase_add_test (tc, test_change_boundaries);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (refill_suite)
