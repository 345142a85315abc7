/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-visit-bolus.c: clinician, priming and bridge boluses (src/workflow/thecal-workflow-bolus.c)
 * against the simulated demo pump TR20-000123 (TR-20: bolus ceiling 1 mL/h = 24 mL/day, stroke
 * 250 nL, internal volume 0.25 mL; morphine 25 mg/mL at 5 mg/day; a 45.5 cm catheter) over the
 * loopback transport, with a real record: a physician's bolus confirmed, a nurse refused and
 * audited, the bolus ceiling and the daily limit at their boundaries, a lost answer (UNCERTAIN,
 * blocking) settled by a read both ways, and the priming and bridge plans equal to the dose core's.
 */
#include "config.h"

#include "visit-world.h"
#include "thecal-workflow-bolus.h"

static gboolean
visit_bolus (ThecalVisit *visit, const ThecalBolusReview *review, const char *reason, ThecalProgrammingOutcome *outcome, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  thecal_visit_bolus_async (visit, review, reason, NULL, on_done, &result);
  return thecal_visit_bolus_finish (visit, wait_result (&result), outcome, error);
}

static gboolean
visit_settle (ThecalVisit *visit, ThecalProgrammingOutcome *outcome, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  thecal_visit_settle_bolus_async (visit, NULL, on_done, &result);
  return thecal_visit_settle_bolus_finish (visit, wait_result (&result), outcome, error);
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

static ThecalBolusRequest
clinician (gint64 dose_ng, gint64 duration_ms)
{
  ThecalBolusRequest request = { 0 };

  request.kind = THECAL_VISIT_BOLUS_CLINICIAN;
  request.dose_ng = dose_ng;
  request.duration_ms = duration_ms;
  return request;
}

static gint64
boluses_started (void)
{
  return thecal_sim_pump_stats (world.pump)->boluses_started;
}

START_TEST (test_bolus_physician_confirmed)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.physician);
  g_autoptr (ThecalBolusReview) review = NULL;
  ThecalBolusRequest request = clinician (1 * MG, 2 * HOUR_MS);
  ThecalProgrammingOutcome outcome = THECAL_OUTCOME_FAILED;
  guint pending = count_audit (world.record, "bolus.pending");
  guint confirmed = count_audit (world.record, "bolus.confirmed");

  review = thecal_visit_review_bolus (visit, &request, &error);
  ck_assert_msg (review != NULL, "%s", error != NULL ? error->message : "?");
  /* 1 mg at 25 mg/mL = 0.04 mL = 40 000 nL = 160 strokes of 250 nL, over 2 h */
  ck_assert_int_eq (review->volume_nl, 40000);
  ck_assert_int_eq (review->duration_ms, 2 * HOUR_MS);
  ck_assert_int_eq (review->dose_ng, 1 * MG);
  /* 5 mg/day (no PTM on the demo pump) + 1 mg = 6 mg: under every daily limit */
  ck_assert_int_eq (review->day_worst_ng, 6 * MG);
  ck_assert (!review->over_soft_limit);
  ck_assert_ptr_null (review->warning);
  ck_assert_ptr_nonnull (strstr (review->summary, "clinician"));
  ck_assert_msg (visit_bolus (visit, review, NULL, &outcome, &error), "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert_int_eq (boluses_started (), 1);
  ck_assert_uint_eq (count_audit (world.record, "bolus.pending"), pending + 1);
  ck_assert_uint_eq (count_audit (world.record, "bolus.confirmed"), confirmed + 1);
  ck_assert (!thecal_visit_is_blocked (visit, NULL));
}
END_TEST

START_TEST (test_bolus_nurse_refused_and_audited)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.nurse);
  g_autoptr (ThecalBolusReview) review = NULL;
  ThecalBolusRequest request = clinician (1 * MG, 2 * HOUR_MS);
  ThecalProgrammingOutcome outcome;
  guint denied = count_audit (world.record, "permission.denied");
  guint pending = count_audit (world.record, "bolus.pending");

  review = thecal_visit_review_bolus (visit, &request, &error);
  ck_assert_ptr_nonnull (review);
  ck_assert (!visit_bolus (visit, review, NULL, &outcome, &error));
  ck_assert_msg (g_error_matches (error, THECAL_WORKFLOW_ERROR, THECAL_WORKFLOW_ERROR_PERMISSION_DENIED), "%s", error->message);
  /* the reason names the role */
  ck_assert_msg (strstr (error->message, "nurse") != NULL, "%s", error->message);
  ck_assert_uint_eq (count_audit (world.record, "permission.denied"), denied + 1);
  ck_assert_uint_eq (count_audit (world.record, "bolus.pending"), pending);
  ck_assert_int_eq (boluses_started (), 0);
}
END_TEST

START_TEST (test_bolus_rate_ceiling_boundary)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.physician);
  g_autoptr (ThecalBolusReview) review = NULL;
  /* 40 000 nL at the 24 mL/day ceiling takes 40 000 × 86 400 000 / 24 000 000 = 144 000 ms */
  ThecalBolusRequest request = clinician (1 * MG, 144000);
  ThecalProgrammingOutcome outcome;

  review = thecal_visit_review_bolus (visit, &request, &error);
  ck_assert_msg (review != NULL, "%s", error != NULL ? error->message : "?");
  g_clear_pointer (&review, thecal_bolus_review_free);
  /* one millisecond less: faster than the ceiling */
  request.duration_ms = 143999;
  review = thecal_visit_review_bolus (visit, &request, &error);
  ck_assert_ptr_null (review);
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED), "%s", error->message);
  ck_assert_msg (strstr (error->message, "bolus maximum") != NULL, "%s", error->message);
  g_clear_error (&error);
  /* zero and less than a stroke */
  request = clinician (0, HOUR_MS);
  ck_assert_ptr_null (thecal_visit_review_bolus (visit, &request, &error));
  ck_assert (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED));
  g_clear_error (&error);
  request = clinician (1, HOUR_MS); /* 1 ng = 0.04 nL: no stroke */
  ck_assert_ptr_null (thecal_visit_review_bolus (visit, &request, &error));
  ck_assert (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED));
  g_clear_error (&error);
  /* the ceiling itself goes through to the pump, which agrees */
  request = clinician (1 * MG, 144000);
  review = thecal_visit_review_bolus (visit, &request, &error);
  ck_assert_msg (visit_bolus (visit, review, NULL, &outcome, &error), "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert_int_eq (boluses_started (), 1);
}
END_TEST

START_TEST (test_bolus_daily_soft_limit_needs_reason)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.physician);
  g_autoptr (ThecalBolusReview) review = NULL;
  ThecalBolusRequest request = clinician (10 * MG, 2 * HOUR_MS);
  ThecalProgrammingOutcome outcome;

  /* 5 mg/day + 10 mg = 15 mg: exactly the soft 15 mg/day of the library, not above it */
  review = thecal_visit_review_bolus (visit, &request, &error);
  ck_assert_msg (review != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (review->day_worst_ng, 15 * MG);
  ck_assert (!review->over_soft_limit);
  g_clear_pointer (&review, thecal_bolus_review_free);
  /* 1 ng more: above, a reason is needed */
  request.dose_ng = 10 * MG + 1;
  review = thecal_visit_review_bolus (visit, &request, &error);
  ck_assert_msg (review != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert (review->over_soft_limit);
  ck_assert (!visit_bolus (visit, review, NULL, &outcome, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_NEEDS_REASON), "%s", error->message);
  g_clear_error (&error);
  ck_assert (!visit_bolus (visit, review, "short", &outcome, &error));
  ck_assert (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_NEEDS_REASON));
  g_clear_error (&error);
  ck_assert_int_eq (boluses_started (), 0);
  ck_assert_msg (visit_bolus (visit, review, "breakthrough pain, patient monitored", &outcome, &error), "%s",
                 error != NULL ? error->message : "?");
  ck_assert_int_eq (outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert_int_eq (boluses_started (), 1);
}
END_TEST

START_TEST (test_bolus_answer_lost_uncertain_then_settled)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.physician);
  g_autoptr (ThecalBolusReview) review = NULL;
  ThecalBolusRequest request = clinician (1 * MG, 2 * HOUR_MS);
  ThecalProgrammingOutcome outcome = THECAL_OUTCOME_FAILED;
  guint uncertain = count_audit (world.record, "bolus.uncertain");
  guint confirmed = count_audit (world.record, "bolus.confirmed");

  review = thecal_visit_review_bolus (visit, &request, &error);
  ck_assert_ptr_nonnull (review);
  world.drop_bolus_answer = TRUE;
  ck_assert_msg (visit_bolus (visit, review, NULL, &outcome, &error), "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (outcome, THECAL_OUTCOME_UNCERTAIN);
  ck_assert_int_eq (boluses_started (), 1); /* the pump took it; only the answer was lost */
  ck_assert_uint_eq (count_audit (world.record, "bolus.uncertain"), uncertain + 1);
  /* blocked: no other bolus, no other change */
  ck_assert (thecal_visit_bolus_uncertain (visit));
  ck_assert (thecal_visit_is_blocked (visit, NULL));
  ck_assert_ptr_null (thecal_visit_review_bolus (visit, &request, &error));
  ck_assert (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_BLOCKED));
  g_clear_error (&error);
  ck_assert (!visit_bolus (visit, review, NULL, &outcome, &error));
  ck_assert (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_BLOCKED));
  g_clear_error (&error);
  ck_assert_int_eq (boluses_started (), 1);
  /* the read shows the clinician bolus of 40 000 nL running: confirmed */
  world.drop_bolus_answer = FALSE;
  ck_assert_msg (visit_settle (visit, &outcome, &error), "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert (!thecal_visit_bolus_uncertain (visit));
  ck_assert (!thecal_visit_is_blocked (visit, NULL));
  ck_assert_uint_eq (count_audit (world.record, "bolus.confirmed"), confirmed + 1);
  ck_assert (thecal_visit_get_status (visit)->bolus_active);
}
END_TEST

START_TEST (test_bolus_answer_lost_bolus_ended_settled_by_log)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.physician);
  g_autoptr (ThecalBolusReview) review = NULL;
  /* 1 mg at the ceiling: 144 000 ms (2.4 min) */
  ThecalBolusRequest request = clinician (1 * MG, 144000);
  ThecalProgrammingOutcome outcome = THECAL_OUTCOME_FAILED;
  guint confirmed = count_audit (world.record, "bolus.confirmed");

  review = thecal_visit_review_bolus (visit, &request, &error);
  ck_assert_ptr_nonnull (review);
  world.drop_bolus_answer = TRUE;
  ck_assert_msg (visit_bolus (visit, review, NULL, &outcome, &error), "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (outcome, THECAL_OUTCOME_UNCERTAIN);
  world.drop_bolus_answer = FALSE;
  /* 10 minutes later the bolus has ended: the status shows none, the log shows its start */
  thecal_clock_advance_to (world.clock, thecal_clock_now_ms (world.clock) + 10 * 60 * 1000);
  ck_assert_msg (visit_settle (visit, &outcome, &error), "%s", error != NULL ? error->message : "?");
  ck_assert (!thecal_visit_get_status (visit)->bolus_active);
  ck_assert_int_eq (outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert (!thecal_visit_is_blocked (visit, NULL));
  ck_assert_uint_eq (count_audit (world.record, "bolus.confirmed"), confirmed + 1);
}
END_TEST

START_TEST (test_bolus_request_lost_settled_failed)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.physician);
  g_autoptr (ThecalBolusReview) review = NULL;
  ThecalBolusRequest request = clinician (1 * MG, 2 * HOUR_MS);
  ThecalProgrammingOutcome outcome = THECAL_OUTCOME_CONFIRMED;
  guint failed = count_audit (world.record, "bolus.failed");

  review = thecal_visit_review_bolus (visit, &request, &error);
  ck_assert_ptr_nonnull (review);
  world.drop_bolus_request = TRUE;
  ck_assert_msg (visit_bolus (visit, review, NULL, &outcome, &error), "%s", error != NULL ? error->message : "?");
  /* no answer: the programmer cannot know whether the pump heard it */
  ck_assert_int_eq (outcome, THECAL_OUTCOME_UNCERTAIN);
  ck_assert_int_eq (boluses_started (), 0);
  ck_assert (thecal_visit_is_blocked (visit, NULL));
  world.drop_bolus_request = FALSE;
  /* no bolus runs, and the pump's log since before the write shows none started: not given */
  ck_assert_msg (visit_settle (visit, &outcome, &error), "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (outcome, THECAL_OUTCOME_FAILED);
  ck_assert (!thecal_visit_is_blocked (visit, NULL));
  ck_assert_uint_eq (count_audit (world.record, "bolus.failed"), failed + 1);
  /* unblocked: the bolus can be given now */
  g_clear_pointer (&review, thecal_bolus_review_free);
  review = thecal_visit_review_bolus (visit, &request, &error);
  ck_assert_msg (visit_bolus (visit, review, NULL, &outcome, &error), "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert_int_eq (boluses_started (), 1);
}
END_TEST

START_TEST (test_bolus_priming_plan_is_the_dose_core_s)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.physician);
  g_autoptr (ThecalBolusReview) review = NULL;
  ThecalBolusRequest request = { 0 };
  const ThecalPumpModel *model = thecal_pump_model_set_find (&world.models, "TR-20");
  ThecalCatheter catheter = { 455, 2600 };
  ThecalDeliveryPlan plan;
  ThecalBolusPlan expected;
  ThecalDoseError dose_error;
  ThecalProgrammingOutcome outcome;

  request.kind = THECAL_VISIT_BOLUS_PRIMING;
  review = thecal_visit_review_bolus (visit, &request, &error);
  ck_assert_msg (review != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert (thecal_delivery_plan_resolve (thecal_sim_pump_active (world.pump), model, &plan, &dose_error));
  ck_assert (thecal_priming_bolus (model, &catheter, &plan, 0, &expected, &dose_error));
  /* dead space by hand: 0.25 mL internal + 45.5 cm × 0.0026 mL/cm = 0.25 + 0.1183 = 0.3683 mL */
  ck_assert_int_eq (expected.dead_space_nl, 368300);
  ck_assert_int_eq (review->request.kind, THECAL_PROTO_BOLUS_PRIMING);
  ck_assert_int_eq (review->request.plan.dead_space_nl, expected.dead_space_nl);
  ck_assert_int_eq (review->request.plan.n_phases, expected.n_phases);
  for (int32_t i = 0; i < expected.n_phases; i++)
    {
      ck_assert_int_eq (review->request.plan.phases[i].kind, expected.phases[i].kind);
      ck_assert_int_eq (review->request.plan.phases[i].volume_nl, expected.phases[i].volume_nl);
      ck_assert_int_eq (review->request.plan.phases[i].rate_nl_per_day, expected.phases[i].rate_nl_per_day);
      ck_assert_int_eq (review->request.plan.phases[i].duration_ms, expected.phases[i].duration_ms);
    }
  /* the priming phase moves the dead space (whole strokes: 368 300 nL = 1 473.2 strokes) */
  ck_assert_int_gt (review->volume_nl, 368000);
  ck_assert_int_le (review->volume_nl, 368500);
  ck_assert_int_eq (review->dose_ng, 0); /* priming fluid carries no drug */
  ck_assert_ptr_nonnull (review->warning);
  ck_assert_ptr_nonnull (strstr (review->warning, "mix"));
  ck_assert_msg (visit_bolus (visit, review, NULL, &outcome, &error), "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert_int_eq (boluses_started (), 1);
}
END_TEST

START_TEST (test_bolus_bridge_plan_is_the_dose_core_s)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.physician);
  g_autoptr (ThecalBolusReview) review = NULL;
  ThecalBolusRequest request = { 0 };
  const ThecalPumpModel *model = thecal_pump_model_set_find (&world.models, "TR-20");
  ThecalCatheter catheter = { 455, 2600 };
  ThecalPrescription previous = *thecal_sim_pump_active (world.pump);
  ThecalDeliveryPlan plan, old_plan;
  ThecalBolusPlan expected;
  ThecalDoseError dose_error;

  /* the pump ran 20 mg/mL before the change to 25 mg/mL */
  previous.concentration_ng_per_ml = 20 * MG;
  request.kind = THECAL_VISIT_BOLUS_BRIDGE;
  ck_assert_ptr_null (thecal_visit_review_bolus (visit, &request, &error));
  ck_assert (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED));
  g_clear_error (&error);
  request.previous_rx = &previous;
  review = thecal_visit_review_bolus (visit, &request, &error);
  ck_assert_msg (review != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert (thecal_delivery_plan_resolve (thecal_sim_pump_active (world.pump), model, &plan, &dose_error));
  ck_assert (thecal_delivery_plan_resolve (&previous, model, &old_plan, &dose_error));
  ck_assert (thecal_bridge_bolus (model, &catheter, &old_plan, previous.drug_id, &plan, previous.drug_id, &expected, &dose_error));
  ck_assert_int_eq (review->request.kind, THECAL_PROTO_BOLUS_BRIDGE);
  ck_assert_int_eq (review->request.plan.n_phases, expected.n_phases);
  ck_assert_int_eq (review->request.plan.dead_space_nl, 368300);
  for (int32_t i = 0; i < expected.n_phases; i++)
    {
      ck_assert_int_eq (review->request.plan.phases[i].volume_nl, expected.phases[i].volume_nl);
      ck_assert_int_eq (review->request.plan.phases[i].rate_nl_per_day, expected.phases[i].rate_nl_per_day);
      ck_assert_int_eq (review->request.plan.phases[i].dose_rate_ng_per_day, expected.phases[i].dose_rate_ng_per_day);
      /* never above the target dose rate (min of old and new: 5 mg/day) */
      ck_assert_int_le (review->request.plan.phases[i].dose_rate_ng_per_day, 5 * MG);
    }
  ck_assert_ptr_null (review->warning);
}
END_TEST

static Suite *
bolus_suite (void)
{
  Suite *s = suite_create ("visit-bolus");
  TCase *tc = tcase_create ("bolus");

  tcase_add_checked_fixture (tc, world_setup, world_teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_bolus_physician_confirmed);
  tcase_add_test (tc, test_bolus_nurse_refused_and_audited);
  tcase_add_test (tc, test_bolus_rate_ceiling_boundary);
  tcase_add_test (tc, test_bolus_daily_soft_limit_needs_reason);
  tcase_add_test (tc, test_bolus_answer_lost_uncertain_then_settled);
  tcase_add_test (tc, test_bolus_answer_lost_bolus_ended_settled_by_log);
  tcase_add_test (tc, test_bolus_request_lost_settled_failed);
  tcase_add_test (tc, test_bolus_priming_plan_is_the_dose_core_s);
  tcase_add_test (tc, test_bolus_bridge_plan_is_the_dose_core_s);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (bolus_suite)
