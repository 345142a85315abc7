/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-refill.c: the refill discrepancy check (CLINICAL.md §1.5, §1.6), the capacity refusal
 * and the reservoir projection. Dates are checked by hand in the comments; a seeded property
 * test compares the O(1) projection with a day-by-day walk written independently here.
 */
#include "config.h"

#include "thecal-quantity.h"
#include "thecal-refill.h"
#include "thecal-dose-json.h"
#include "thecal-test-dose.h"
#include "thecal-test-models.h"
#include "thecal-test-random.h"
#include "thecal-test-units.h"
#include "thecal-test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A resolved continuous plan of @rate_nl_per_day at 25 mg/mL, with optional PTM. */
static ThecalDeliveryPlan
rate_plan (int64_t rate_nl_per_day)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalPrescription rx;
  ThecalDeliveryPlan plan;
  ThecalDoseError err;

  rx = thecal_test_continuous_rate ("morphine", MG_PER_ML (25), rate_nl_per_day);
  thecal_dose_error_clear (&err);
  ck_assert (thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  return plan;
}

static ThecalDeliveryPlan
stopped_plan (void)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalPrescription rx;
  ThecalDeliveryPlan plan;
  ThecalDoseError err;

  thecal_prescription_init (&rx);
  thecal_dose_error_clear (&err);
  ck_assert (thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  return plan;
}

/* ---- the refill check ------------------------------------------------------------------------ */

static ThecalRefillCheck
check_ok (const ThecalPumpModel *m, const ThecalRefillHistory *h, int64_t aspirated_nl)
{
  ThecalRefillCheck c;
  ThecalDoseError err;

  thecal_dose_error_clear (&err);
  memset (&c, 0x5a, sizeof c);
  if (!thecal_refill_check (m, h, aspirated_nl, &c, &err))
    ck_abort_msg ("refill check failed: %s: %s", err.field, err.message);
  return c;
}

static void
check_fails (const ThecalPumpModel *m, const ThecalRefillHistory *h, int64_t aspirated_nl, ThecalDoseStatus code, const char *field)
{
  ThecalRefillCheck c;
  ThecalDoseError err;

  thecal_test_expect_fails (err, thecal_refill_check (m, h, aspirated_nl, &c, &err), code, field);
}

START_TEST (test_check_worked_example)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalDeliveryPlan plan = rate_plan (200000); /* 5 mg/day of 25 mg/mL = 0.2 mL/day */
  ThecalPlanInterval iv = { &plan, 0, 30 * D };
  ThecalRefillHistory h = { ML (20), 0, 30 * D, &iv, 1, NULL, 0 };
  ThecalRefillCheck c;

  /* 20 mL filled, 30 days at 0.2 mL/day: 6 mL delivered, 14 mL expected back.
   * Band = 14.5 % × 6 mL = 0.87 mL; the TR-20 floor is 1 mL (Maino 2017, CLINICAL.md §1.6),
   * so the threshold is 1 mL. */
  c = check_ok (&m, &h, ML (14));
  ck_assert_int_eq (c.delivered_nl, ML (6));
  ck_assert_int_eq (c.expected_residual_nl, ML (14));
  ck_assert (!c.expected_empty);
  ck_assert_int_eq (c.aspirated_nl, ML (14));
  ck_assert_int_eq (c.discrepancy_nl, 0);
  ck_assert_int_eq (c.band_nl, 870000);
  ck_assert_int_eq (c.threshold_nl, ML (1));
  ck_assert_int_eq (c.kind, THECAL_DISCREPANCY_NONE);
  ck_assert (!c.flagged);
  ck_assert (!c.empty_refill);

  /* 13 mL back: discrepancy exactly the threshold (+1 mL): not flagged */
  c = check_ok (&m, &h, ML (13));
  ck_assert_int_eq (c.discrepancy_nl, ML (1));
  ck_assert (!c.flagged);
  ck_assert_int_eq (c.kind, THECAL_DISCREPANCY_NONE);
  /* 1 nL less back: flagged, less came back than expected (over-infusion or pocket fill) */
  c = check_ok (&m, &h, ML (13) - 1);
  ck_assert_int_eq (c.discrepancy_nl, ML (1) + 1);
  ck_assert (c.flagged);
  ck_assert_int_eq (c.kind, THECAL_DISCREPANCY_LESS_BACK);
  /* 15 mL back: −1 mL, not flagged; 1 nL more: flagged, more came back (under-infusion) */
  c = check_ok (&m, &h, ML (15));
  ck_assert_int_eq (c.discrepancy_nl, -ML (1));
  ck_assert (!c.flagged);
  c = check_ok (&m, &h, ML (15) + 1);
  ck_assert (c.flagged);
  ck_assert_int_eq (c.kind, THECAL_DISCREPANCY_MORE_BACK);
  /* nothing came back: an empty refill (no residual confirms needle placement, §1.6) */
  c = check_ok (&m, &h, 0);
  ck_assert (c.empty_refill);
  ck_assert (c.flagged);
  ck_assert_int_eq (c.kind, THECAL_DISCREPANCY_LESS_BACK);
}
END_TEST

START_TEST (test_check_20_vs_40_ml)
{
  ThecalPumpModel m20 = thecal_test_tr20 (), m40 = thecal_test_tr40 ();
  ThecalDeliveryPlan plan = rate_plan (200000);
  ThecalPlanInterval iv = { &plan, 0, 30 * D };
  ThecalRefillHistory h = { ML (20), 0, 30 * D, &iv, 1, NULL, 0 };
  ThecalRefillCheck c;

  /* 1.5 mL less back than the 14 mL expected: above 1 mL (TR-20), below 2 mL (TR-40) */
  c = check_ok (&m20, &h, 12500000);
  ck_assert (c.flagged);
  c = check_ok (&m40, &h, 12500000);
  ck_assert_int_eq (c.threshold_nl, ML (2));
  ck_assert (!c.flagged);
  /* TR-40: exactly 2 mL not flagged, 2 mL + 1 nL flagged, both ways */
  c = check_ok (&m40, &h, ML (12));
  ck_assert (!c.flagged);
  c = check_ok (&m40, &h, ML (12) - 1);
  ck_assert (c.flagged);
  ck_assert_int_eq (c.kind, THECAL_DISCREPANCY_LESS_BACK);
  c = check_ok (&m40, &h, ML (16));
  ck_assert (!c.flagged);
  c = check_ok (&m40, &h, ML (16) + 1);
  ck_assert (c.flagged);
  ck_assert_int_eq (c.kind, THECAL_DISCREPANCY_MORE_BACK);
}
END_TEST

START_TEST (test_check_band_dominates)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalDeliveryPlan plan = rate_plan (200000);
  ThecalPlanInterval iv = { &plan, 0, 50 * D };
  ThecalRefillHistory h = { ML (20), 0, 50 * D, &iv, 1, NULL, 0 };
  ThecalRefillCheck c;

  /* 50 days at 0.2 mL/day = 10 mL delivered: band 14.5 % × 10 mL = 1.45 mL > 1 mL */
  c = check_ok (&m, &h, ML (10));
  ck_assert_int_eq (c.band_nl, 1450000);
  ck_assert_int_eq (c.threshold_nl, 1450000);
  c = check_ok (&m, &h, ML (10) - 1450000);
  ck_assert (!c.flagged);
  c = check_ok (&m, &h, ML (10) - 1450001);
  ck_assert (c.flagged);
  c = check_ok (&m, &h, ML (10) + 1450000);
  ck_assert (!c.flagged);
  c = check_ok (&m, &h, ML (10) + 1450001);
  ck_assert (c.flagged);

  /* The band is rounded by the rule: 6 000 001 nL × 1 450 / 10 000 = 870 000.145 → 870 000 */
  {
    ThecalLoggedBolus one = { 0, 1 };
    ThecalPlanInterval iv30 = { &plan, 0, 30 * D };
    ThecalRefillHistory h30 = { ML (20), 0, 30 * D, &iv30, 1, &one, 1 };

    c = check_ok (&m, &h30, ML (14));
    ck_assert_int_eq (c.delivered_nl, 6000001);
    ck_assert_int_eq (c.band_nl, 870000);
  }
}
END_TEST

START_TEST (test_check_history)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalDeliveryPlan p1 = rate_plan (200000), p2 = rate_plan (300000);
  /* day 0-10 at 0.2 mL/day (2 mL), pump stopped days 10-12 (no interval), days 12-22 at
   * 0.3 mL/day (3 mL), and two logged boluses of 0.5 mL: 6 mL delivered from 20 mL → 14 mL */
  ThecalPlanInterval ivs[2] = { { &p1, 0, 10 * D }, { &p2, 12 * D, 22 * D } };
  ThecalLoggedBolus boluses[2] = { { 15 * D, 500000 }, { 5 * D, 500000 } };
  ThecalRefillHistory h = { ML (20), 0, 22 * D, ivs, 2, boluses, 2 };
  ThecalRefillCheck c;

  c = check_ok (&m, &h, ML (14));
  ck_assert_int_eq (c.delivered_nl, ML (6));
  ck_assert_int_eq (c.expected_residual_nl, ML (14));
  ck_assert_int_eq (c.discrepancy_nl, 0);

  /* boundaries: an interval may start at the fill and end now; a bolus may be logged now */
  boluses[0].at_local_ms = 22 * D;
  c = check_ok (&m, &h, ML (14));
  ck_assert_int_eq (c.delivered_nl, ML (6));
  boluses[1].at_local_ms = 0;
  c = check_ok (&m, &h, ML (14));
  ck_assert_int_eq (c.delivered_nl, ML (6));

  /* no intervals at all (pump stopped since the fill): nothing expected to leave */
  h.n_intervals = 0;
  h.n_boluses = 0;
  c = check_ok (&m, &h, ML (20));
  ck_assert_int_eq (c.delivered_nl, 0);
  ck_assert_int_eq (c.band_nl, 0);
  ck_assert_int_eq (c.threshold_nl, ML (1));
  ck_assert (!c.flagged);
}
END_TEST

START_TEST (test_check_expected_empty)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalDeliveryPlan plan = rate_plan (200000);
  ThecalPlanInterval iv = { &plan, 0, 30 * D };
  ThecalRefillHistory h = { ML (5), 0, 30 * D, &iv, 1, NULL, 0 };
  ThecalLoggedBolus bolus = { 10 * D, ML (1) };
  ThecalRefillCheck c;

  /* 5 mL at 0.2 mL/day lasts 25 days; 30 days were programmed. The residual is 0 (never
   * negative) and the fill was used up when the delivered volume, counted in whole nL by the
   * rule, first reached 5 mL: t / 432 nL (t in ms) rounds to 5 000 000 once t / 432 is above
   * 4 999 999.5, i.e. from t = 2 159 999 785 ms (25 days − 215 ms; at 2 159 999 784 the value is
   * exactly 4 999 999.5, a tie, which rounds down). */
  c = check_ok (&m, &h, 0);
  ck_assert (c.expected_empty);
  ck_assert_int_eq (c.expected_residual_nl, 0);
  ck_assert_int_eq (c.expected_empty_local_ms, INT64_C (2159999785));
  ck_assert_int_eq (c.delivered_nl, ML (6));
  ck_assert_int_eq (c.discrepancy_nl, 0);
  ck_assert (c.empty_refill);
  ck_assert (!c.flagged);
  /* 1.2 mL came back from a pump expected empty: −1.2 mL, more back than expected */
  c = check_ok (&m, &h, 1200000);
  ck_assert_int_eq (c.discrepancy_nl, -1200000);
  ck_assert (c.flagged);
  ck_assert_int_eq (c.kind, THECAL_DISCREPANCY_MORE_BACK);

  /* With a 1 mL bolus logged on day 10: 2 mL basal + 1 mL by day 10, then 2 mL more basal:
   * t / 432 reaches 4 000 000 from t = 1 727 999 785 ms (20 days − 215 ms). */
  h.boluses = &bolus;
  h.n_boluses = 1;
  c = check_ok (&m, &h, 0);
  ck_assert (c.expected_empty);
  ck_assert_int_eq (c.expected_empty_local_ms, INT64_C (1727999785));
  ck_assert_int_eq (c.delivered_nl, ML (7));

  /* exactly used up at now: empty at now */
  iv.to_local_ms = 25 * D;
  h.now_local_ms = 25 * D;
  h.n_boluses = 0;
  c = check_ok (&m, &h, 0);
  ck_assert (c.expected_empty);
  ck_assert_int_eq (c.expected_empty_local_ms, INT64_C (2159999785));
  /* 1 ms before that point nothing is used up yet */
  iv.to_local_ms = INT64_C (2159999784);
  h.now_local_ms = INT64_C (2159999784);
  c = check_ok (&m, &h, 0);
  ck_assert (!c.expected_empty);
  ck_assert_int_eq (c.expected_residual_nl, 1);
}
END_TEST

START_TEST (test_check_refusals)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalDeliveryPlan plan = rate_plan (200000);
  ThecalPlanInterval ivs[2] = { { &plan, 0, 10 * D }, { &plan, 10 * D, 20 * D } };
  ThecalLoggedBolus bolus = { 5 * D, 500000 };
  ThecalRefillHistory h = { ML (20), 0, 20 * D, ivs, 2, &bolus, 1 };
  ThecalRefillCheck c;
  ThecalDoseError err;

  (void) check_ok (&m, &h, ML (16));
  check_fails (&m, &h, -1, THECAL_DOSE_ERROR_RANGE, "aspirated");
  thecal_dose_error_clear (&err);
  ck_assert (!thecal_refill_check (&m, &h, -1000, &c, &err));
  ck_assert_str_eq (err.message, "aspirated volume -0.001 mL is negative: it must be 0 or more.");
  check_fails (NULL, &h, 0, THECAL_DOSE_ERROR_INVALID, "model");
  check_fails (&m, NULL, 0, THECAL_DOSE_ERROR_INVALID, "history");
  thecal_test_expect_fails (err, thecal_refill_check (&m, &h, 0, NULL, &err), THECAL_DOSE_ERROR_INVALID, "check");

  /* the fill: 0..capacity */
  h.fill_volume_nl = ML (20) + 1;
  check_fails (&m, &h, 0, THECAL_DOSE_ERROR_RANGE, "fill_volume");
  thecal_dose_error_clear (&err);
  ck_assert (!thecal_refill_check (&m, &h, 0, &c, &err));
  ck_assert_str_eq (err.message, "fill_volume 20.000001 mL is negative or exceeds the 20 mL reservoir.");
  h.fill_volume_nl = -1;
  check_fails (&m, &h, 0, THECAL_DOSE_ERROR_RANGE, "fill_volume");
  h.fill_volume_nl = ML (20);
  /* now before the fill */
  h.fill_local_ms = 20 * D + 1;
  check_fails (&m, &h, 0, THECAL_DOSE_ERROR_RANGE, "now");
  h.fill_local_ms = 1;
  check_fails (&m, &h, 0, THECAL_DOSE_ERROR_INVALID, "intervals[0].from");
  h.fill_local_ms = 0;
  /* intervals overlapping, out of order, past now, reversed */
  ivs[1].from_local_ms = 10 * D - 1;
  check_fails (&m, &h, 0, THECAL_DOSE_ERROR_INVALID, "intervals[1].from");
  ivs[1].from_local_ms = 10 * D;
  ivs[1].to_local_ms = 20 * D + 1;
  check_fails (&m, &h, 0, THECAL_DOSE_ERROR_INVALID, "intervals[1].to");
  ivs[1].to_local_ms = 10 * D - 1;
  check_fails (&m, &h, 0, THECAL_DOSE_ERROR_INVALID, "intervals[1].to");
  ivs[1].to_local_ms = 20 * D;
  ivs[1].plan = NULL;
  check_fails (&m, &h, 0, THECAL_DOSE_ERROR_INVALID, "intervals[1].plan");
  ivs[1].plan = &plan;
  h.intervals = NULL;
  check_fails (&m, &h, 0, THECAL_DOSE_ERROR_INVALID, "intervals");
  h.intervals = ivs;
  /* boluses inside [fill, now], not negative */
  bolus.at_local_ms = 20 * D + 1;
  check_fails (&m, &h, 0, THECAL_DOSE_ERROR_INVALID, "boluses[0].at");
  bolus.at_local_ms = -1;
  check_fails (&m, &h, 0, THECAL_DOSE_ERROR_INVALID, "boluses[0].at");
  bolus.at_local_ms = 0;
  bolus.volume_nl = -1;
  check_fails (&m, &h, 0, THECAL_DOSE_ERROR_RANGE, "boluses[0].volume");
  bolus.volume_nl = INT64_MAX;
  check_fails (&m, &h, 0, THECAL_DOSE_ERROR_OVERFLOW, "boluses");
  bolus.volume_nl = 0;
  c = check_ok (&m, &h, ML (16));
  ck_assert_int_eq (c.delivered_nl, ML (4));
}
END_TEST

/* ---- the volume after a refill ------------------------------------------------------------- */

START_TEST (test_new_volume_capacity)
{
  ThecalPumpModel m20 = thecal_test_tr20 (), m40 = thecal_test_tr40 ();
  ThecalDoseError err;
  int64_t v = 77;

  thecal_dose_error_clear (&err);
  ck_assert (thecal_refill_new_volume (&m20, ML (20), &v, &err)); /* exactly full: fine */
  ck_assert_int_eq (v, ML (20));
  ck_assert (thecal_refill_new_volume (&m20, 1, &v, &err));
  ck_assert_int_eq (v, 1);
  v = 77;
  ck_assert (!thecal_refill_new_volume (&m20, ML (20) + 1, &v, &err)); /* 1 nL over: refused */
  thecal_test_expect_error (&err, THECAL_DOSE_ERROR_RANGE, "added");
  ck_assert_int_eq (v, 77);
  thecal_test_expect_fails (err, thecal_refill_new_volume (&m20, 20500000, &v, &err), THECAL_DOSE_ERROR_RANGE, "added");
  ck_assert_str_eq (err.message, "added volume 20.5 mL exceeds the 20 mL reservoir: do not overfill.");
  thecal_test_expect_fails (err, thecal_refill_new_volume (&m20, 0, &v, &err), THECAL_DOSE_ERROR_RANGE, "added");
  thecal_test_expect_fails (err, thecal_refill_new_volume (&m20, -1, &v, &err), THECAL_DOSE_ERROR_RANGE, "added");
  thecal_test_expect_fails (err, thecal_refill_new_volume (&m20, INT64_MAX, &v, &err), THECAL_DOSE_ERROR_RANGE, "added");

  thecal_dose_error_clear (&err);
  ck_assert (thecal_refill_new_volume (&m40, ML (40), &v, &err));
  ck_assert_int_eq (v, ML (40));
  ck_assert (thecal_refill_new_volume (&m40, 20500000, &v, &err));
  ck_assert (!thecal_refill_new_volume (&m40, ML (40) + 1, &v, &err));
  thecal_test_expect_error (&err, THECAL_DOSE_ERROR_RANGE, "added");
  thecal_test_expect_fails (err, thecal_refill_new_volume (NULL, ML (1), &v, &err), THECAL_DOSE_ERROR_INVALID, "model");
}
END_TEST

/* ---- the projection -------------------------------------------------------------------------- */

static ThecalProjection
project_ok (const ThecalDeliveryPlan *plan, int64_t volume_nl, int64_t from, int32_t stability_days)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalProjection p;
  ThecalDoseError err;

  thecal_dose_error_clear (&err);
  if (!thecal_project_reservoir (&m, plan, volume_nl, from, stability_days, &p, &err))
    ck_abort_msg ("projection failed: %s: %s", err.field, err.message);
  return p;
}

START_TEST (test_projection_continuous)
{
  ThecalDeliveryPlan plan = rate_plan (200000);
  ThecalProjection p;

  /* 20 mL at 0.2 mL/day from midnight (TR-20: alarm 2 mL, refill 3 mL, empty 1 mL):
   *   low alarm  (20 − 2) / 0.2 = 90 days
   *   empty      (20 − 1) / 0.2 = 95 days
   *   refill     (20 − 3) / 0.2 = 85 days
   * no PTM, so the worst case is the same; morphine is stable 90 days (CLINICAL.md §1.5):
   * refill by min (85, 90) = day 85. */
  p = project_ok (&plan, ML (20), 0, 90);
  ck_assert_int_eq (p.low_alarm_local_ms, 90 * D);
  ck_assert_int_eq (p.low_alarm_worst_local_ms, 90 * D);
  ck_assert_int_eq (p.empty_local_ms, 95 * D);
  ck_assert_int_eq (p.empty_worst_local_ms, 95 * D);
  ck_assert_int_eq (p.refill_threshold_worst_local_ms, 85 * D);
  ck_assert_int_eq (p.stability_limit_local_ms, 90 * D);
  ck_assert_int_eq (p.refill_by_local_ms, 85 * D);

  /* from 06:00 on day 10: every date moves with it (a continuous rate has no time of day) */
  p = project_ok (&plan, ML (20), 10 * D + 6 * H, 90);
  ck_assert_int_eq (p.low_alarm_local_ms, 100 * D + 6 * H);
  ck_assert_int_eq (p.empty_local_ms, 105 * D + 6 * H);
  ck_assert_int_eq (p.stability_limit_local_ms, 100 * D + 6 * H);
  /* and before the epoch */
  p = project_ok (&plan, ML (20), -10 * D + 3 * H, 0);
  ck_assert_int_eq (p.low_alarm_local_ms, 80 * D + 3 * H);
  ck_assert_int_eq (p.stability_limit_local_ms, INT64_MAX);
  ck_assert_int_eq (p.refill_by_local_ms, 75 * D + 3 * H);

  /* a stability limit earlier than the refill threshold wins: 60 days */
  p = project_ok (&plan, ML (20), 0, 60);
  ck_assert_int_eq (p.refill_by_local_ms, 60 * D);

  /* 2 mL + 1 nL above the alarm: 1 nL at 0.2 mL/day takes 432 ms */
  p = project_ok (&plan, ML (2) + 1, 0, 0);
  ck_assert_int_eq (p.low_alarm_local_ms, 432);
  /* ... and 2 nL take 864 ms; 1 nL + 1 more ms is not needed: whole ms, the first reached */
  p = project_ok (&plan, ML (2) + 2, 0, 0);
  ck_assert_int_eq (p.low_alarm_local_ms, 864);
}
END_TEST

START_TEST (test_projection_at_or_below)
{
  ThecalDeliveryPlan plan = rate_plan (200000);
  ThecalProjection p;

  /* exactly at the alarm volume: the alarm is now; empty is (2 − 1) / 0.2 = 5 days away */
  p = project_ok (&plan, ML (2), 7 * D + 5, 0);
  ck_assert_int_eq (p.low_alarm_local_ms, 7 * D + 5);
  ck_assert_int_eq (p.low_alarm_worst_local_ms, 7 * D + 5);
  ck_assert_int_eq (p.refill_threshold_worst_local_ms, 7 * D + 5);
  ck_assert_int_eq (p.empty_local_ms, 12 * D + 5);
  ck_assert_int_eq (p.refill_by_local_ms, 7 * D + 5);
  /* empty reservoir: everything now */
  p = project_ok (&plan, 0, 7 * D + 5, 90);
  ck_assert_int_eq (p.empty_local_ms, 7 * D + 5);
  ck_assert_int_eq (p.empty_worst_local_ms, 7 * D + 5);
  ck_assert_int_eq (p.refill_by_local_ms, 7 * D + 5);
}
END_TEST

START_TEST (test_projection_worst_ptm)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalPrescription rx;
  ThecalDeliveryPlan plan;
  ThecalProjection p;
  ThecalDoseError err;

  /* 5 mg/day of 25 mg/mL (0.2 mL/day) and PTM 0.1 mg (4 000 nL), at most 4 a day: the worst
   * case uses today's 16 000 nL at once (at from) and 16 000 nL at every later midnight.
   * From midnight with 20 mL:
   *   end of day 0: 16 000 + 200 000 = 216 000 nL used; each later day j ≥ 1: 216 000 more,
   *   of which 16 000 at its midnight. After day j's midnight: 216 000 j + 16 000.
   *   low alarm (18 mL): 216 000 × 83 + 16 000 = 17 944 000 < 18 000 000 ≤ 216 000 × 84:
   *     day 83, then 56 000 nL at 0.2 mL/day = 0.28 day = 24 192 000 ms → 83 d + 24 192 000
   *   empty (19 mL): day 87 at 18 808 000, 192 000 nL more = 0.96 day → 87 d + 82 944 000
   *   refill (17 mL): day 78 at 16 864 000, 136 000 nL more = 0.68 day → 78 d + 58 752 000
   * Without PTM the dates are the continuous ones (90, 95 days). */
  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  thecal_test_set_ptm (&rx, MCG (100), 10 * MIN, 3 * H, 4);
  thecal_dose_error_clear (&err);
  ck_assert (thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  ck_assert_int_eq (plan.ptm_worst_nl_per_day, 16000);

  p = project_ok (&plan, ML (20), 0, 90);
  ck_assert_int_eq (p.low_alarm_local_ms, 90 * D);
  ck_assert_int_eq (p.empty_local_ms, 95 * D);
  ck_assert_int_eq (p.low_alarm_worst_local_ms, 83 * D + 24192000);
  ck_assert_int_eq (p.empty_worst_local_ms, 87 * D + 82944000);
  ck_assert_int_eq (p.refill_threshold_worst_local_ms, 78 * D + 58752000);
  ck_assert_int_eq (p.refill_by_local_ms, 78 * D + 58752000);

  /* the day's allowance at from is enough by itself: 2 mL + 16 000 nL reaches the alarm at once */
  p = project_ok (&plan, ML (2) + 16000, 5 * D + 7 * H, 0);
  ck_assert_int_eq (p.low_alarm_worst_local_ms, 5 * D + 7 * H);
  ck_assert_int_gt (p.low_alarm_local_ms, 5 * D + 7 * H);
  /* ... one nL more: basal after from, 432 ms */
  p = project_ok (&plan, ML (2) + 16001, 5 * D + 7 * H, 0);
  ck_assert_int_eq (p.low_alarm_worst_local_ms, 5 * D + 7 * H + 432);
}
END_TEST

START_TEST (test_projection_boluses_at_start)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalPrescription rx;
  ThecalDeliveryPlan plan;
  ThecalProjection p;
  ThecalDoseError err;

  /* 0.2 mL/day and a periodic bolus of 0.5 mg at 25 mg/mL (20 000 nL, 80 strokes) at 12:00
   * over 1 h. With 2.11 mL from midnight, 110 000 nL must go before the 2 mL alarm: the basal
   * gives 100 000 nL by 12:00, and the bolus is counted whole at its start, so the alarm is at
   * 12:00 exactly (not 1.2 h later, as basal alone would give). */
  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  thecal_test_add_bolus (&rx, 720, MCG (500), H);
  thecal_dose_error_clear (&err);
  ck_assert (thecal_delivery_plan_resolve (&rx, &m, &plan, &err));

  p = project_ok (&plan, 2110000, 0, 0);
  ck_assert_int_eq (p.low_alarm_local_ms, 12 * H);
  /* empty (1 mL) from 2.11 mL: 1 110 000 nL at 220 000 nL/day; day 5 starts at 1 100 000, then
   * 10 000 nL at 0.2 mL/day = 1.2 h = 4 320 000 ms (before the 12:00 bolus) */
  ck_assert_int_eq (p.empty_local_ms, 5 * D + 4320000);
  /* 2.1 mL: the basal alone reaches it at 12:00 too */
  p = project_ok (&plan, 2100000, 0, 0);
  ck_assert_int_eq (p.low_alarm_local_ms, 12 * H);

  /* A bolus already running at from: at 12:30 it has made 40 of its 80 strokes (one per 45 s);
   * the other 40 (10 000 nL) are counted at from. */
  p = project_ok (&plan, 2010000, 12 * H + 30 * MIN, 0);
  ck_assert_int_eq (p.low_alarm_local_ms, 12 * H + 30 * MIN);
  p = project_ok (&plan, 2010001, 12 * H + 30 * MIN, 0);
  ck_assert_int_eq (p.low_alarm_local_ms, 12 * H + 30 * MIN + 432);
  /* a bolus starting exactly at from is counted at from */
  p = project_ok (&plan, 2020000, 3 * D + 12 * H, 0);
  ck_assert_int_eq (p.low_alarm_local_ms, 3 * D + 12 * H);

  /* a bolus wrapping past midnight (23:30 for 1 h), from 00:15: 60 strokes made, 20 left
   * (5 000 nL) counted at from */
  rx.periodic_boluses[0].start_min = 1410;
  ck_assert (thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  p = project_ok (&plan, 2005000, 4 * D + 15 * MIN, 0);
  ck_assert_int_eq (p.low_alarm_local_ms, 4 * D + 15 * MIN);
  p = project_ok (&plan, 2005001, 4 * D + 15 * MIN, 0);
  ck_assert_int_eq (p.low_alarm_local_ms, 4 * D + 15 * MIN + 432);
}
END_TEST

START_TEST (test_projection_stopped_and_far)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalDeliveryPlan stopped = stopped_plan (), plan;
  ThecalPrescription rx;
  ThecalProjection p;
  ThecalDoseError err;

  /* a stopped pump never reaches any threshold; only the stability limit remains */
  p = project_ok (&stopped, ML (20), 0, 90);
  ck_assert_int_eq (p.low_alarm_local_ms, INT64_MAX);
  ck_assert_int_eq (p.low_alarm_worst_local_ms, INT64_MAX);
  ck_assert_int_eq (p.empty_local_ms, INT64_MAX);
  ck_assert_int_eq (p.empty_worst_local_ms, INT64_MAX);
  ck_assert_int_eq (p.refill_threshold_worst_local_ms, INT64_MAX);
  ck_assert_int_eq (p.stability_limit_local_ms, 90 * D);
  ck_assert_int_eq (p.refill_by_local_ms, 90 * D);
  p = project_ok (&stopped, ML (20), 0, 0);
  ck_assert_int_eq (p.refill_by_local_ms, INT64_MAX);
  /* ... but already below a threshold is still "now" */
  p = project_ok (&stopped, ML (1), 0, 0);
  ck_assert_int_eq (p.low_alarm_local_ms, 0);
  ck_assert_int_eq (p.empty_local_ms, 0);

  /* minimum rate, 0.006 mL/day: (20 − 2) mL / 0.006 mL/day = 3 000 days exactly */
  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), 0);
  rx.mode = THECAL_MODE_MINIMUM_RATE;
  thecal_dose_error_clear (&err);
  ck_assert (thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  p = project_ok (&plan, ML (20), 0, 0);
  ck_assert_int_eq (p.low_alarm_local_ms, 3000 * D);

  /* Far away, in O(1): a flex plan delivering 1 000 nL/day only from 00:00 to 00:01 (the rest
   * is written as 1 nL/day, which rounds to 0): 1 000 × 60 000 / 86 400 000 = 0.694 nL/day.
   * The 18 mL to the alarm take 18 000 000 × 86 400 000 / 60 000 000 = 25 920 000 days of
   * delivery: reached at the end of the minute of day 25 919 999 (71 000 years away):
   * 25 919 999 × 86 400 000 + 60 000 = 2 239 487 913 660 000 ms. */
  rx.mode = THECAL_MODE_FLEX;
  rx.n_flex_steps = 2;
  rx.flex_steps[0].start_min = 0;
  rx.flex_steps[0].duration_min = 1;
  rx.flex_steps[0].amount.basis = THECAL_BASIS_RATE;
  rx.flex_steps[0].amount.rate_nl_per_day = 1000;
  rx.flex_steps[1].start_min = 1;
  rx.flex_steps[1].duration_min = 1439;
  rx.flex_steps[1].amount.basis = THECAL_BASIS_RATE;
  rx.flex_steps[1].amount.rate_nl_per_day = 1;
  ck_assert (thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  ck_assert_int_eq (plan.segments[1].basal_rate_nl_per_day, 0);
  p = project_ok (&plan, ML (20), 0, 0);
  ck_assert_int_eq (p.low_alarm_local_ms, INT64_C (2239487913660000));

  /* beyond the int64_t range of instants: never (INT64_MAX), not a wrapped date */
  plan = rate_plan (200000);
  p = project_ok (&plan, ML (20), INT64_MAX - 10 * D, 90);
  ck_assert_int_eq (p.low_alarm_local_ms, INT64_MAX);
  ck_assert_int_eq (p.stability_limit_local_ms, INT64_MAX);
  ck_assert_int_eq (p.refill_by_local_ms, INT64_MAX);
  p = project_ok (&plan, ML (20), INT64_MIN, 90);
  ck_assert_int_eq (p.low_alarm_local_ms, INT64_MIN + 90 * D);
}
END_TEST

START_TEST (test_projection_refusals)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalDeliveryPlan plan = rate_plan (200000), broken;
  ThecalProjection p;
  ThecalDoseError err;

  thecal_dose_error_clear (&err);
  ck_assert (thecal_project_reservoir (&m, &plan, ML (20), 0, 90, &p, &err)); /* capacity: fine */
  ck_assert (!thecal_project_reservoir (&m, &plan, ML (20) + 1, 0, 90, &p, &err));
  thecal_test_expect_error (&err, THECAL_DOSE_ERROR_RANGE, "volume");
  thecal_test_expect_fails (err, thecal_project_reservoir (&m, &plan, -1, 0, 90, &p, &err), THECAL_DOSE_ERROR_RANGE, "volume");
  thecal_test_expect_fails (err, thecal_project_reservoir (&m, &plan, ML (20), 0, -1, &p, &err), THECAL_DOSE_ERROR_RANGE, "stability_days");
  thecal_test_expect_fails (err, thecal_project_reservoir (&m, NULL, ML (20), 0, 90, &p, &err), THECAL_DOSE_ERROR_INVALID, "plan");
  thecal_test_expect_fails (err, thecal_project_reservoir (NULL, &plan, ML (20), 0, 90, &p, &err), THECAL_DOSE_ERROR_INVALID, "model");
  thecal_test_expect_fails (err, thecal_project_reservoir (&m, &plan, ML (20), 0, 90, NULL, &err), THECAL_DOSE_ERROR_INVALID, "projection");
  /* a plan whose segments do not cover the day is refused, not read */
  broken = plan;
  broken.segments[0].end_ms_of_day = D - 1;
  thecal_test_expect_fails (err, thecal_project_reservoir (&m, &broken, ML (20), 0, 90, &p, &err), THECAL_DOSE_ERROR_INVALID, "plan");
}
END_TEST

/* ---- the projection against a day-by-day walk ------------------------------------------------ */

static uint64_t lcg_state; /* seeded by the property test, one seed per case */

static int64_t
floor_div (int64_t a, int64_t b)
{
  int64_t q = a / b;

  return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* Has the plan delivered @need_scaled (nL × 86 400 000) by instant @t, counting from @from
 * each bolus whole at its start, what is left of a running bolus at from, and the worst-case
 * PTM at from and at every midnight in (from, t]? Walks day by day, independently of
 * thecal-refill.c. */
static bool
reached (const ThecalDeliveryPlan *plan, int64_t ptm_nl, int64_t from, int64_t t, int64_t need_scaled)
{
  int64_t cum = ptm_nl * D;
  int64_t day0 = floor_div (from, D);

  for (int i = 0; i < plan->n_boluses; i++)
    {
      const ThecalPlannedBolus *b = &plan->boluses[i];
      int64_t n = b->volume_nl / plan->stroke_volume_nl;
      int64_t started[2] = { day0 * D + b->start_ms_of_day, (day0 - 1) * D + b->start_ms_of_day };

      for (int k = 0; k < 2; k++)
        {
          int64_t elapsed = from - started[k];

          if (elapsed > 0 && elapsed < b->duration_ms)
            cum += (n - n * elapsed / b->duration_ms) * plan->stroke_volume_nl * D;
        }
    }
  if (cum >= need_scaled)
    return true;
  for (int64_t day = day0; day * D <= t; day++)
    {
      int64_t ds = day * D;

      if (day > day0)
        cum += ptm_nl * D;
      for (int s = 0; s < plan->n_segments; s++)
        {
          int64_t a = ds + plan->segments[s].start_ms_of_day, e = ds + plan->segments[s].end_ms_of_day;

          a = a > from ? a : from;
          e = e < t ? e : t;
          if (e > a)
            cum += plan->segments[s].basal_rate_nl_per_day * (e - a);
        }
      for (int i = 0; i < plan->n_boluses; i++)
        {
          int64_t s = ds + plan->boluses[i].start_ms_of_day;

          if (s >= from && s <= t)
            cum += plan->boluses[i].volume_nl * D;
        }
      if (cum >= need_scaled)
        return true;
    }
  return false;
}

static int n_walked; /* instants checked against the walk, not just "already below" */

static void
check_instant (const ThecalDeliveryPlan *plan, int64_t ptm_nl, int64_t from, int64_t volume_nl, int64_t threshold_nl, int64_t instant, uint64_t seed)
{
  int64_t need = (volume_nl - threshold_nl) * D;

  if (volume_nl <= threshold_nl)
    {
      ck_assert_int_eq (instant, from);
      return;
    }
  ck_assert_msg (instant >= from && instant < from + 4000 * D, "seed %llu: instant %lld", (unsigned long long) seed,
                 (long long) instant);
  n_walked++;
  ck_assert_msg (reached (plan, ptm_nl, from, instant, need), "seed %llu: not reached at %lld",
                 (unsigned long long) seed, (long long) instant);
  if (instant > from)
    ck_assert_msg (!reached (plan, ptm_nl, from, instant - 1, need), "seed %llu: reached before %lld",
                   (unsigned long long) seed, (long long) instant);
}

START_TEST (test_projection_property)
{
  ThecalPumpModel m = thecal_test_tr20 ();

  for (uint64_t seed = 0; seed < 400; seed++)
    {
      ThecalPrescription rx;
      ThecalDeliveryPlan plan;
      ThecalProjection p;
      ThecalDoseError err;
      int64_t from, volume, ptm;

      lcg_state = seed * UINT64_C (40503) + 7;
      rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (10), 0); /* mode and amount below */
      if (thecal_test_rnd_below (&lcg_state, 3) == 0)
        {
          rx.mode = THECAL_MODE_CONTINUOUS;
          rx.continuous.basis = THECAL_BASIS_RATE;
          rx.continuous.rate_nl_per_day = 48000 + thecal_test_rnd_below (&lcg_state, ML (2));
        }
      else
        {
          /* 1-6 flex steps at distinct random minutes; the last wraps past midnight unless the
           * first starts at 00:00; rates 0.048-2 mL/day */
          int n = 1 + (int) thecal_test_rnd_below (&lcg_state, 6);
          int32_t starts[6];

          thecal_test_rnd_sorted_distinct (&lcg_state, starts, n, 1440);
          rx.mode = THECAL_MODE_FLEX;
          rx.n_flex_steps = n;
          for (int i = 0; i < n; i++)
            {
              rx.flex_steps[i].start_min = starts[i];
              rx.flex_steps[i].duration_min = (i + 1 < n ? starts[i + 1] : starts[0] + 1440) - starts[i];
              rx.flex_steps[i].amount.basis = THECAL_BASIS_RATE;
              rx.flex_steps[i].amount.rate_nl_per_day = 48000 + thecal_test_rnd_below (&lcg_state, ML (2));
            }
        }
      if (thecal_test_rnd_below (&lcg_state, 2) == 0)
        {
          /* one in 00:00-10:00 and one in 12:00-22:00, each ending before the other starts;
           * up to 81 strokes, which need at least 72 900 ms at 24 mL/day */
          int32_t s0 = (int32_t) thecal_test_rnd_below (&lcg_state, 600), s1 = 720 + (int32_t) thecal_test_rnd_below (&lcg_state, 600);

          rx.n_periodic_boluses = 2;
          rx.periodic_boluses[0].start_min = s0;
          rx.periodic_boluses[0].dose_ng = 2500 + thecal_test_rnd_below (&lcg_state, MCG (200));
          rx.periodic_boluses[0].duration_ms = 2 * MIN + thecal_test_rnd_below (&lcg_state, (s1 - s0) * MIN - 2 * MIN + 1);
          rx.periodic_boluses[1].start_min = s1;
          rx.periodic_boluses[1].dose_ng = 2500 + thecal_test_rnd_below (&lcg_state, MCG (200));
          rx.periodic_boluses[1].duration_ms = 2 * MIN + thecal_test_rnd_below (&lcg_state, (s0 + 1440 - s1) * MIN - 2 * MIN + 1);
        }
      if (thecal_test_rnd_below (&lcg_state, 2) == 0)
        {
          rx.ptm.enabled = true;
          rx.ptm.dose_ng = 2500 + thecal_test_rnd_below (&lcg_state, MCG (100));
          rx.ptm.duration_ms = 10 * MIN;
          rx.ptm.lockout_ms = 2 * H;
          rx.ptm.max_per_24h = 1 + (int32_t) thecal_test_rnd_below (&lcg_state, 12);
        }
      thecal_dose_error_clear (&err);
      if (!thecal_delivery_plan_resolve (&rx, &m, &plan, &err))
        ck_abort_msg ("seed %llu: %s: %s", (unsigned long long) seed, err.field, err.message);

      from = thecal_test_rnd_below (&lcg_state, 40 * 366 * D) - 20 * 366 * D;
      volume = thecal_test_rnd_below (&lcg_state, ML (20) + 1);
      p = project_ok (&plan, volume, from, 0);
      ptm = plan.ptm_enabled ? plan.ptm_worst_nl_per_day : 0;
      check_instant (&plan, 0, from, volume, ML (2), p.low_alarm_local_ms, seed);
      check_instant (&plan, ptm, from, volume, ML (2), p.low_alarm_worst_local_ms, seed);
      check_instant (&plan, 0, from, volume, ML (1), p.empty_local_ms, seed);
      check_instant (&plan, ptm, from, volume, ML (1), p.empty_worst_local_ms, seed);
      check_instant (&plan, ptm, from, volume, ML (3), p.refill_threshold_worst_local_ms, seed);
      ck_assert_int_le (p.low_alarm_worst_local_ms, p.low_alarm_local_ms);
      ck_assert_int_le (p.low_alarm_local_ms, p.empty_local_ms);
      ck_assert_int_le (p.refill_threshold_worst_local_ms, p.low_alarm_worst_local_ms);
    }
  ck_assert_int_gt (n_walked, 1500); /* of 2 000 instants, most are in the future */
}
END_TEST

/* The hand-built TR-20 and TR-40 these tests use are the models data/pump-models.json ships. */
START_TEST (test_models_are_the_shipped_ones)
{
  thecal_test_expect_models_match_data_file ();
}
END_TEST

static Suite *
refill_suite (void)
{
  Suite *s = suite_create ("refill");
  TCase *tc = tcase_create ("check");

  tcase_add_test (tc, test_check_worked_example);
  tcase_add_test (tc, test_check_20_vs_40_ml);
  tcase_add_test (tc, test_check_band_dominates);
  tcase_add_test (tc, test_check_history);
  tcase_add_test (tc, test_check_expected_empty);
  tcase_add_test (tc, test_check_refusals);
  suite_add_tcase (s, tc);

  tc = tcase_create ("new_volume");
  tcase_add_test (tc, test_new_volume_capacity);
  tcase_add_test (tc, test_models_are_the_shipped_ones);
  suite_add_tcase (s, tc);

  tc = tcase_create ("projection");
  tcase_add_test (tc, test_projection_continuous);
  tcase_add_test (tc, test_projection_at_or_below);
  tcase_add_test (tc, test_projection_worst_ptm);
  tcase_add_test (tc, test_projection_boluses_at_start);
  tcase_add_test (tc, test_projection_stopped_and_far);
  tcase_add_test (tc, test_projection_refusals);
  tcase_add_test (tc, test_projection_property);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (refill_suite)
