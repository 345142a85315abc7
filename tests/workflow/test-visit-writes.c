/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-visit-writes.c: refills and boluses whose outcome one visit could not learn are settled by
 * the NEXT visit (docs/workflows.md "Failure behaviour"). The pending write is in the record
 * (thecal_record_begin_pump_write_async), not in the visit that sent it: a visit ends with a refill
 * or a bolus UNCERTAIN (the fault transport drops the answer, or the request), the visit is
 * freed, and a new ThecalVisit on the same record and pump is blocked until its connect (or a
 * reconcile) reads the pump; then the record says confirmed or failed, as the pump does (refills
 * recorded = reservoir sets the pump took; boluses confirmed = boluses it started). Against the
 * simulated demo pump TR20-000123 (TR-20, morphine 25 mg/mL, 12 mL) over the loopback transport
 * on virtual time.
 */
#include "config.h"

#include "visit-world.h"
#include "thecal-workflow-bolus.h"
#include "thecal-workflow-refill.h"

#define MIN_MS INT64_C (60000)
#define SERIAL "TR20-000123"

/* The world with the demo pump registered to MRN-1. */
static void
writes_setup (void)
{
  world_setup ();
  register_pump (world.physician, SERIAL, "MRN-1");
}

static ThecalVisit *
connected_visit (ThecalRecordSession *session)
{
  g_autoptr (GError) error = NULL;
  ThecalVisit *visit = new_visit (session);

  ck_assert_msg (visit_connect (visit, "MRN-1", &error), "%s", error != NULL ? error->message : "?");
  return visit;
}

static gboolean
visit_refill (ThecalVisit *visit, ThecalRefillReport *report, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  ThecalRefillRequest request = { 0 };

  request.aspirated_nl = 12 * ML;
  request.drug_id = "morphine";
  request.concentration_ng_per_ml = 25 * MG;
  request.lot = "LOT-42";
  request.expiry_date = "2099-12-31";
  request.added_nl = 18 * ML;
  request.verifier_name = "paula";
  request.verifier_password = TEST_PASSWORD;
  request.acknowledgement = "pocket checked, nothing outside the reservoir";
  thecal_visit_refill_async (visit, &request, NULL, on_done, &result);
  return thecal_visit_refill_finish (visit, wait_result (&result), report, error);
}

static gboolean
visit_bolus (ThecalVisit *visit, ThecalProgrammingOutcome *outcome, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (ThecalBolusReview) review = NULL;
  ThecalBolusRequest request = { THECAL_VISIT_BOLUS_CLINICIAN, 500000, 30 * MIN_MS, 0, NULL };

  review = thecal_visit_review_bolus (visit, &request, error);
  if (review == NULL)
    return FALSE;
  thecal_visit_bolus_async (visit, review, NULL, NULL, on_done, &result);
  return thecal_visit_bolus_finish (visit, wait_result (&result), outcome, error);
}

/* Every write of the pump in the record (oldest first). */
static GPtrArray *
writes (void)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *all = SYNC (thecal_record_list_pump_writes, world.record, &error, SERIAL, FALSE);

  ck_assert_msg (all != NULL, "%s", error != NULL ? error->message : "?");
  return all;
}

/* A refill the pump took while both its answer and the read that followed were lost: the visit
 * ends UNCERTAIN. A new visit reads the write from the record: while the pump cannot be read it
 * is blocked (a bolus is refused), and the read that works confirms it and records the refill. */
START_TEST (test_refill_uncertain_settled_by_next_visit)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) second = NULL;
  g_autoptr (GPtrArray) before = NULL;
  g_autoptr (GPtrArray) after = NULL;
  ThecalRefillReport report;
  ThecalProgrammingOutcome outcome;
  const ThecalPumpWrite *w;

  {
    g_autoptr (ThecalVisit) first = connected_visit (world.nurse);

    world.drop_reservoir_answer = TRUE;
    world.status_answers = 0;
    ck_assert (!visit_refill (first, &report, &error));
    ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED), "%s", error->message);
    g_clear_error (&error);
    ck_assert (thecal_visit_is_blocked (first, NULL));
    world.drop_reservoir_answer = FALSE;
    world.status_answers = -1;
  }
  /* the visit is gone; the record holds the write, uncertain, and no refill */
  before = writes ();
  ck_assert_uint_eq (before->len, 1);
  w = before->pdata[0];
  ck_assert_int_eq (w->kind, THECAL_PUMP_WRITE_REFILL);
  ck_assert_int_eq (w->outcome, THECAL_OUTCOME_UNCERTAIN);
  ck_assert_str_eq (w->started_by, "nina");
  ck_assert_uint_eq (count_refills (), 0);
  ck_assert_int_eq (thecal_sim_pump_stats (world.pump)->reservoir_sets, 1);

  /* a new visit whose settle cannot read the pump (only the interrogation's status answers):
   * connected, an alarm finding, and blocked */
  world.status_answers = 1;
  second = connected_visit (world.physician);
  ck_assert (has_finding (second, "unresolved_write"));
  ck_assert (thecal_visit_is_blocked (second, NULL));
  ck_assert (!visit_bolus (second, &outcome, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_BLOCKED), "%s", error->message);
  g_clear_error (&error);
  ck_assert_int_eq (thecal_sim_pump_stats (world.pump)->boluses_started, 0);

  /* the pump can be read again: reconcile settles it, the refill is recorded as the nurse's */
  world.status_answers = -1;
  ck_assert_msg (visit_reconcile (second, &error), "%s", error != NULL ? error->message : "?");
  ck_assert (!thecal_visit_is_blocked (second, NULL));
  ck_assert (has_finding (second, "reconciled"));
  ck_assert_uint_eq (thecal_visit_get_writes_settled (second), 1);
  after = writes ();
  w = after->pdata[0];
  ck_assert_int_eq (w->outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert_int_ne (w->refill_id, 0);
  ck_assert_str_eq (w->outcome_by, "paula");
  ck_assert_uint_eq (count_refills (), (guint) thecal_sim_pump_stats (world.pump)->reservoir_sets);
  ck_assert_int_eq (count_audit (world.record, "refill.confirmed"), 1);
}
END_TEST

/* The SET_RESERVOIR never reached the pump and the read after it was lost: UNCERTAIN. The next
 * visit's connect reads the pump: it did not take it, FAILED, and no refill is recorded. */
START_TEST (test_refill_not_taken_settled_failed_at_connect)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) second = NULL;
  g_autoptr (GPtrArray) after = NULL;
  ThecalRefillReport report;

  {
    g_autoptr (ThecalVisit) first = connected_visit (world.nurse);

    world.drop_reservoir_request = TRUE;
    world.status_answers = 0;
    ck_assert (!visit_refill (first, &report, &error));
    g_clear_error (&error);
    ck_assert (thecal_visit_is_blocked (first, NULL));
    world.drop_reservoir_request = FALSE;
    world.status_answers = -1;
  }
  second = connected_visit (world.nurse);
  ck_assert (!thecal_visit_is_blocked (second, NULL));
  ck_assert (has_finding (second, "reconciled"));
  after = writes ();
  ck_assert_uint_eq (after->len, 1);
  ck_assert_int_eq (((ThecalPumpWrite *) after->pdata[0])->outcome, THECAL_OUTCOME_FAILED);
  ck_assert_int_eq (((ThecalPumpWrite *) after->pdata[0])->n_outcomes, 3); /* pending, uncertain, failed */
  ck_assert_int_eq (thecal_sim_pump_stats (world.pump)->reservoir_sets, 0);
  ck_assert_uint_eq (count_refills (), 0);
  ck_assert_int_eq (count_audit (world.record, "refill.failed"), 1);
  /* and the refill can be done now */
  ck_assert_msg (visit_refill (second, &report, &error), "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (report.outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert_uint_eq (count_refills (), 1);
  ck_assert_int_eq (thecal_sim_pump_stats (world.pump)->reservoir_sets, 1);
}
END_TEST

/* The reservoir already holds exactly the fill requested (the same 18 mL twice, no time between):
 * READ_STATUS alone cannot tell, the pump's log can. The second SET_RESERVOIR never reached the
 * pump: FAILED, and one refill recorded for the one the pump took. */
START_TEST (test_refill_same_fill_not_taken)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) second = NULL;
  g_autoptr (GPtrArray) after = NULL;
  ThecalRefillReport report;

  {
    g_autoptr (ThecalVisit) first = connected_visit (world.nurse);

    ck_assert_msg (visit_refill (first, &report, &error), "%s", error != NULL ? error->message : "?");
    ck_assert_int_eq (report.outcome, THECAL_OUTCOME_CONFIRMED);
    world.drop_reservoir_request = TRUE;
    world.status_answers = 0;
    ck_assert (!visit_refill (first, &report, &error));
    ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED), "%s", error->message);
    g_clear_error (&error);
    world.drop_reservoir_request = FALSE;
    world.status_answers = -1;
  }
  second = connected_visit (world.nurse);
  ck_assert (!thecal_visit_is_blocked (second, NULL));
  after = writes ();
  ck_assert_uint_eq (after->len, 2);
  ck_assert_int_eq (((ThecalPumpWrite *) after->pdata[0])->outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert_int_eq (((ThecalPumpWrite *) after->pdata[1])->outcome, THECAL_OUTCOME_FAILED);
  ck_assert_int_eq (thecal_sim_pump_stats (world.pump)->reservoir_sets, 1);
  ck_assert_uint_eq (count_refills (), 1);
}
END_TEST

/* A bolus the pump started while its answer was lost: UNCERTAIN at the end of the visit. The next
 * visit is settled at connect (the bolus runs): CONFIRMED, and boluses can be given again. */
START_TEST (test_bolus_uncertain_settled_by_next_visit)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) second = NULL;
  g_autoptr (GPtrArray) after = NULL;
  ThecalProgrammingOutcome outcome;

  {
    g_autoptr (ThecalVisit) first = connected_visit (world.physician);

    world.drop_bolus_answer = TRUE;
    ck_assert_msg (visit_bolus (first, &outcome, &error), "%s", error != NULL ? error->message : "?");
    ck_assert_int_eq (outcome, THECAL_OUTCOME_UNCERTAIN);
    ck_assert (thecal_visit_is_blocked (first, NULL));
    ck_assert (thecal_visit_bolus_uncertain (first));
    world.drop_bolus_answer = FALSE;
  }
  ck_assert_int_eq (((ThecalPumpWrite *) writes ()->pdata[0])->outcome, THECAL_OUTCOME_UNCERTAIN);
  second = connected_visit (world.physician);
  ck_assert (!thecal_visit_is_blocked (second, NULL));
  ck_assert (!thecal_visit_bolus_uncertain (second));
  ck_assert (has_finding (second, "reconciled"));
  after = writes ();
  ck_assert_uint_eq (after->len, 1);
  ck_assert_int_eq (((ThecalPumpWrite *) after->pdata[0])->outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert_int_eq (thecal_sim_pump_stats (world.pump)->boluses_started, 1);
  ck_assert_int_eq (count_audit (world.record, "bolus.confirmed"), 1);
}
END_TEST

/* The START_BOLUS never reached the pump: UNCERTAIN; the next visit reads the pump (no bolus runs,
 * the log shows none started): FAILED, as the pump says. */
START_TEST (test_bolus_not_started_settled_failed_at_connect)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) second = NULL;
  g_autoptr (GPtrArray) after = NULL;
  ThecalProgrammingOutcome outcome;

  {
    g_autoptr (ThecalVisit) first = connected_visit (world.physician);

    world.drop_bolus_request = TRUE;
    ck_assert_msg (visit_bolus (first, &outcome, &error), "%s", error != NULL ? error->message : "?");
    ck_assert_int_eq (outcome, THECAL_OUTCOME_UNCERTAIN);
    world.drop_bolus_request = FALSE;
  }
  second = connected_visit (world.physician);
  ck_assert (!thecal_visit_is_blocked (second, NULL));
  after = writes ();
  ck_assert_int_eq (((ThecalPumpWrite *) after->pdata[0])->outcome, THECAL_OUTCOME_FAILED);
  ck_assert_int_eq (thecal_sim_pump_stats (world.pump)->boluses_started, 0);
  ck_assert_int_eq (count_audit (world.record, "bolus.failed"), 1);
  /* unblocked: the bolus can be given now, and it is */
  ck_assert_msg (visit_bolus (second, &outcome, &error), "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert_int_eq (thecal_sim_pump_stats (world.pump)->boluses_started, 1);
}
END_TEST

/* A write left PENDING by a program that died before it sent anything (the write begun in the
 * record, nothing sent): the next visit settles it FAILED at connect, whatever the request. A
 * write whose request cannot be read stays unresolved and blocks (an alarm finding). */
START_TEST (test_pending_left_by_a_crash)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalPumpWrite) pending = NULL;
  g_autoptr (ThecalPumpWrite) unreadable = NULL;
  g_autoptr (ThecalVisit) visit = NULL;
  g_autoptr (GPtrArray) after = NULL;
  ThecalPumpWriteInput bolus = { SERIAL, THECAL_PUMP_WRITE_BOLUS, "breakthrough pain",
                                 "{\"kind\":\"clinician\",\"volume_nl\":\"20000\",\"dose_ng\":\"500000\","
                                 "\"duration_ms\":\"1800000\",\"log_from_seq\":\"1\",\"summary\":\"\"}" };
  ThecalPumpWriteInput broken = { SERIAL, THECAL_PUMP_WRITE_REFILL, "refill", "{\"drug\":\"morphine\"}" };

  pending = SYNC (thecal_record_begin_pump_write, world.record, &error, thecal_record_session_get_user (world.physician), &bolus);
  ck_assert_msg (pending != NULL, "%s", error != NULL ? error->message : "?");
  unreadable = SYNC (thecal_record_begin_pump_write, world.record, &error, thecal_record_session_get_user (world.nurse), &broken);
  ck_assert_msg (unreadable != NULL, "%s", error != NULL ? error->message : "?");
  visit = connected_visit (world.physician);
  after = writes ();
  ck_assert_uint_eq (after->len, 2);
  ck_assert_int_eq (((ThecalPumpWrite *) after->pdata[0])->outcome, THECAL_OUTCOME_FAILED);
  ck_assert_int_eq (((ThecalPumpWrite *) after->pdata[1])->outcome, THECAL_OUTCOME_PENDING);
  ck_assert (has_finding (visit, "reconciled"));
  ck_assert (has_finding (visit, "unresolved_write"));
  ck_assert (thecal_visit_is_blocked (visit, NULL));
  ck_assert (!thecal_visit_bolus_uncertain (visit));
}
END_TEST

static Suite *
visit_writes_suite (void)
{
  Suite *s = suite_create ("visit-writes");
  TCase *tc = tcase_create ("writes");

  tcase_add_checked_fixture (tc, writes_setup, world_teardown);
  tcase_add_test (tc, test_refill_uncertain_settled_by_next_visit);
  tcase_add_test (tc, test_refill_not_taken_settled_failed_at_connect);
  tcase_add_test (tc, test_refill_same_fill_not_taken);
  tcase_add_test (tc, test_bolus_uncertain_settled_by_next_visit);
  tcase_add_test (tc, test_bolus_not_started_settled_failed_at_connect);
  tcase_add_test (tc, test_pending_left_by_a_crash);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (visit_writes_suite)
