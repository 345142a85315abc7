/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-bolus.c: priming and bridge boluses through the dead space (CLINICAL.md §1.4, §2.1) and
 * the oral → intrathecal morphine estimate (CLINICAL.md §3.3). Every number is checked by hand
 * in the comments.
 */
#include "config.h"

#include "thecal-bolus.h"
#include "thecal-quantity.h"
#include "thecal-dose-json.h"
#include "thecal-test-dose.h"
#include "thecal-test-models.h"
#include "thecal-test-units.h"
#include "thecal-test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 45 cm implanted of a 0.0026 mL/cm catheter (Prometra labeling, CLINICAL.md §2.1) */
static const ThecalCatheter catheter_45cm = { 450, 2600 };

/* A continuous plan: @amount as a dose (basis DOSE) or, if @as_rate, a rate, at @conc. */
static ThecalDeliveryPlan
plan_of (int64_t conc, int64_t amount, bool as_rate)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalPrescription rx;
  ThecalDeliveryPlan plan;
  ThecalDoseError err;

  rx = as_rate ? thecal_test_continuous_rate ("morphine", conc, amount) : thecal_test_continuous_dose ("morphine", conc, amount);
  thecal_dose_error_clear (&err);
  if (!thecal_delivery_plan_resolve (&rx, &m, &plan, &err))
    ck_abort_msg ("resolve failed: %s: %s", err.field, err.message);
  return plan;
}

static ThecalBolusPlan
bridge_ok (const ThecalDeliveryPlan *old_plan, const char *old_id, const ThecalDeliveryPlan *new_plan, const char *new_id)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalBolusPlan r;
  ThecalDoseError err;

  thecal_dose_error_clear (&err);
  if (!thecal_bridge_bolus (&m, &catheter_45cm, old_plan, old_id, new_plan, new_id, &r, &err))
    ck_abort_msg ("bridge failed: %s: %s", err.field, err.message);
  return r;
}

/* ---- priming ------------------------------------------------------------------------------- */

START_TEST (test_priming_worked_example)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalDeliveryPlan plan = plan_of (MG_PER_ML (25), MG (5), false);
  ThecalBolusPlan r;
  ThecalDoseError err;

  /* Dead space = internal 0.25 mL + 45 cm × 0.0026 mL/cm = 0.25 + 0.117 = 0.367 mL
   *   (450 mm × 2 600 nL/cm / 10 = 117 000 nL; 367 000 nL = 1 468 strokes of 250 nL exactly).
   * Priming at the bolus ceiling, 24 mL/day: 367 000 × 86 400 000 / 24 000 000 = 1 321 200 ms
   *   (22 min 1.2 s). No drug reaches the patient (non-drug fluid), then 5 mg/day at 0.2 mL/day. */
  thecal_dose_error_clear (&err);
  ck_assert (thecal_priming_bolus (&m, &catheter_45cm, &plan, 0, &r, &err));
  ck_assert_int_eq (r.catheter_volume_nl, 117000);
  ck_assert_int_eq (r.dead_space_nl, 367000);
  ck_assert_int_eq (r.target_dose_rate_ng_per_day, MG (5));
  ck_assert (!r.rate_capped);
  ck_assert_int_eq (r.n_phases, 2);
  ck_assert_int_eq (r.phases[0].kind, THECAL_PHASE_PRIMING);
  ck_assert_int_eq (r.phases[0].volume_nl, 367000);
  ck_assert_int_eq (r.phases[0].rate_nl_per_day, ML (24));
  ck_assert_int_eq (r.phases[0].duration_ms, 1321200);
  ck_assert_int_eq (r.phases[0].concentration_ng_per_ml, 0);
  ck_assert_int_eq (r.phases[0].dose_ng, 0);
  ck_assert_int_eq (r.phases[0].dose_rate_ng_per_day, 0);
  ck_assert_int_eq (r.phases[1].kind, THECAL_PHASE_PRESCRIPTION);
  ck_assert_int_eq (r.phases[1].volume_nl, 0);
  ck_assert_int_eq (r.phases[1].duration_ms, 0);
  ck_assert_int_eq (r.phases[1].rate_nl_per_day, 200000);
  ck_assert_int_eq (r.phases[1].concentration_ng_per_ml, MG_PER_ML (25));
  ck_assert_int_eq (r.phases[1].dose_rate_ng_per_day, MG (5));

  /* a lower priming rate asked for: 1 mL/day → 367 000 × 86.4 = 31 708 800 ms (8 h 48 min 28.8 s) */
  ck_assert (thecal_priming_bolus (&m, &catheter_45cm, &plan, ML (1), &r, &err));
  ck_assert_int_eq (r.phases[0].rate_nl_per_day, ML (1));
  ck_assert_int_eq (r.phases[0].duration_ms, 31708800);
  /* rounded DOWN to the resolution: 1.000999 mL/day → 1 mL/day */
  ck_assert (thecal_priming_bolus (&m, &catheter_45cm, &plan, ML (1) + 999, &r, &err));
  ck_assert_int_eq (r.phases[0].rate_nl_per_day, ML (1));
  /* exactly the ceiling is fine */
  ck_assert (thecal_priming_bolus (&m, &catheter_45cm, &plan, ML (24), &r, &err));
  ck_assert_int_eq (r.phases[0].rate_nl_per_day, ML (24));
  /* 0.048 mL/day, the lowest rate: 367 000 × 86 400 000 / 48 000 = 660 600 000 ms (7.6 days) */
  ck_assert (thecal_priming_bolus (&m, &catheter_45cm, &plan, 48000, &r, &err));
  ck_assert_int_eq (r.phases[0].duration_ms, 660600000);
  ck_assert_int_eq (err.code, THECAL_DOSE_OK);
}
END_TEST

START_TEST (test_priming_strokes_round_up)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalDeliveryPlan plan = plan_of (MG_PER_ML (25), MG (5), false);
  ThecalBolusPlan r;
  ThecalDoseError err;
  ThecalCatheter cat = { 1, 2600 };

  /* 1 mm of catheter = 260 nL: dead space 250 260 nL → 1 002 strokes = 250 500 nL (UP, so the
   * drug front surely reaches the tip); 250 500 × 86.4e6 / 24e6 = 901 800 ms */
  thecal_dose_error_clear (&err);
  ck_assert (thecal_priming_bolus (&m, &cat, &plan, 0, &r, &err));
  ck_assert_int_eq (r.dead_space_nl, 250260);
  ck_assert_int_eq (r.phases[0].volume_nl, 250500);
  ck_assert_int_eq (r.phases[0].duration_ms, 901800);
  /* no catheter (pump purge): the internal volume, 1 000 strokes exactly */
  cat.catheter_length_mm = 0;
  ck_assert (thecal_priming_bolus (&m, &cat, &plan, 0, &r, &err));
  ck_assert_int_eq (r.phases[0].volume_nl, 250000);
  /* the catheter volume is rounded by the rule: 1 mm × 5 nL/cm / 10 = 0.5 → 0; 3 nL/cm... */
  cat.catheter_length_mm = 1;
  cat.catheter_volume_nl_per_cm = 5;
  ck_assert (thecal_priming_bolus (&m, &cat, &plan, 0, &r, &err));
  ck_assert_int_eq (r.catheter_volume_nl, 0);
  cat.catheter_volume_nl_per_cm = 6;
  ck_assert (thecal_priming_bolus (&m, &cat, &plan, 0, &r, &err));
  ck_assert_int_eq (r.catheter_volume_nl, 1);
  ck_assert_int_eq (r.phases[0].volume_nl, 250250);
  /* the duration is rounded UP: 250 000 nL at 7 000 nL/day = 3 085 714 285.71 ms → …286 */
  cat.catheter_length_mm = 0;
  m.rate_min_nl_per_day = 1000;
  m.minimum_rate_nl_per_day = 1000; /* a sound model: the minimum-rate mode is not above rate_min */
  ck_assert (thecal_priming_bolus (&m, &cat, &plan, 7000, &r, &err));
  ck_assert_int_eq (r.phases[0].duration_ms, INT64_C (3085714286));
}
END_TEST

START_TEST (test_priming_refusals)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalDeliveryPlan plan = plan_of (MG_PER_ML (25), MG (5), false);
  ThecalDeliveryPlan stopped;
  ThecalPrescription rx;
  ThecalBolusPlan r;
  ThecalDoseError err;
  ThecalCatheter cat = catheter_45cm;

  thecal_test_expect_fails (err, thecal_priming_bolus (&m, &catheter_45cm, &plan, ML (24) + 1, &r, &err), THECAL_DOSE_ERROR_RANGE, "priming_rate");
  ck_assert_str_eq (err.message, "priming_rate 24.000001 mL/day is above the pump's maximum bolus rate 24 mL/day.");
  thecal_test_expect_fails (err, thecal_priming_bolus (&m, &catheter_45cm, &plan, -1, &r, &err), THECAL_DOSE_ERROR_RANGE, "priming_rate");
  /* 0.048999 mL/day is fine (→ 0.048), 0.047999 rounds down below the lowest rate */
  thecal_dose_error_clear (&err);
  ck_assert (thecal_priming_bolus (&m, &catheter_45cm, &plan, 48999, &r, &err));
  ck_assert_int_eq (r.phases[0].rate_nl_per_day, 48000);
  ck_assert (!thecal_priming_bolus (&m, &catheter_45cm, &plan, 47999, &r, &err));
  thecal_test_expect_error (&err, THECAL_DOSE_ERROR_RANGE, "priming_rate");
  ck_assert_str_eq (err.message, "priming_rate 0.047999 mL/day (0.047 mL/day at the pump's resolution) is below the pump's lowest rate 0.048 mL/day.");

  cat.catheter_length_mm = -1;
  thecal_test_expect_fails (err, thecal_priming_bolus (&m, &cat, &plan, 0, &r, &err), THECAL_DOSE_ERROR_RANGE, "catheter.length");
  cat = catheter_45cm;
  cat.catheter_volume_nl_per_cm = 0;
  thecal_test_expect_fails (err, thecal_priming_bolus (&m, &cat, &plan, 0, &r, &err), THECAL_DOSE_ERROR_RANGE, "catheter.volume_per_cm");
  thecal_test_expect_fails (err, thecal_priming_bolus (&m, NULL, &plan, 0, &r, &err), THECAL_DOSE_ERROR_INVALID, "catheter");
  /* overflow: an absurd catheter */
  cat.catheter_length_mm = INT32_MAX;
  cat.catheter_volume_nl_per_cm = INT64_MAX;
  thecal_dose_error_clear (&err);
  ck_assert (!thecal_priming_bolus (&m, &cat, &plan, 0, &r, &err));
  ck_assert_int_eq (err.code, THECAL_DOSE_ERROR_OVERFLOW);
  /* no dead space at all: a model without an internal volume is not a sound model
   * (thecal_pump_model_validate), so it is refused before any dead space is computed */
  cat.catheter_length_mm = 0;
  cat.catheter_volume_nl_per_cm = 2600;
  m.internal_volume_nl = 0;
  thecal_test_expect_fails (err, thecal_priming_bolus (&m, &cat, &plan, 0, &r, &err), THECAL_DOSE_ERROR_RANGE, "model.internal_volume");
  m = thecal_test_tr20 ();

  /* a stopped new prescription would leave the drug in the catheter */
  thecal_prescription_init (&rx);
  ck_assert (thecal_delivery_plan_resolve (&rx, &m, &stopped, &err));
  thecal_test_expect_fails (err, thecal_priming_bolus (&m, &catheter_45cm, &stopped, 0, &r, &err), THECAL_DOSE_ERROR_INVALID, "new_plan.mode");
  thecal_test_expect_fails (err, thecal_priming_bolus (&m, &catheter_45cm, NULL, 0, &r, &err), THECAL_DOSE_ERROR_INVALID, "new_plan");
  thecal_test_expect_fails (err, thecal_priming_bolus (NULL, &catheter_45cm, &plan, 0, &r, &err), THECAL_DOSE_ERROR_INVALID, "model");
  thecal_test_expect_fails (err, thecal_priming_bolus (&m, &catheter_45cm, &plan, 0, NULL, &err), THECAL_DOSE_ERROR_INVALID, "result");
}
END_TEST

/* ---- bridge -------------------------------------------------------------------------------- */

START_TEST (test_bridge_concentration_change)
{
  /* Morphine 10 mg/mL at 5 mg/day (0.5 mL/day) → morphine 25 mg/mL at 4 mg/day (0.16 mL/day),
   * 45 cm catheter: dead space 0.367 mL of the OLD 10 mg/mL solution.
   *   target = min (5, 4) = 4 mg/day (same drug)
   *   bridge rate = 4 mg/day / 10 mg/mL = 0.4 mL/day = 400 000 nL/day (exact, on the 1 000 grid)
   *   duration = 367 000 nL × 86 400 000 / 400 000 = 79 272 000 ms (22 h 1 min 12 s)
   *   dose = 0.367 mL × 10 mg/mL = 3.67 mg, at 0.4 × 10 = 4 mg/day (= the target, not above)
   * then the new prescription: 0.16 mL/day of 25 mg/mL = 4 mg/day. */
  ThecalDeliveryPlan old_plan = plan_of (MG_PER_ML (10), MG (5), false);
  ThecalDeliveryPlan new_plan = plan_of (MG_PER_ML (25), MG (4), false);
  ThecalBolusPlan r = bridge_ok (&old_plan, "morphine", &new_plan, "morphine");

  ck_assert_int_eq (r.dead_space_nl, 367000);
  ck_assert_int_eq (r.target_dose_rate_ng_per_day, MG (4));
  ck_assert (!r.rate_capped);
  ck_assert_int_eq (r.n_phases, 2);
  ck_assert_int_eq (r.phases[0].kind, THECAL_PHASE_BRIDGE);
  ck_assert_int_eq (r.phases[0].volume_nl, 367000);
  ck_assert_int_eq (r.phases[0].rate_nl_per_day, 400000);
  ck_assert_int_eq (r.phases[0].duration_ms, 79272000);
  ck_assert_int_eq (r.phases[0].concentration_ng_per_ml, MG_PER_ML (10));
  ck_assert_int_eq (r.phases[0].dose_ng, 3670000);
  ck_assert_int_eq (r.phases[0].dose_rate_ng_per_day, MG (4));
  ck_assert_int_eq (r.phases[1].kind, THECAL_PHASE_PRESCRIPTION);
  ck_assert_int_eq (r.phases[1].rate_nl_per_day, 160000);
  ck_assert_int_eq (r.phases[1].concentration_ng_per_ml, MG_PER_ML (25));
  ck_assert_int_eq (r.phases[1].dose_rate_ng_per_day, MG (4));

  /* the other way, 25 → 10 mg/mL at 4 → 5 mg/day: target min (4, 5) = 4 mg/day of the old
   * 25 mg/mL = 0.16 mL/day; 367 000 × 86.4e6 / 160 000 = 198 180 000 ms (2 d 7 h 3 min),
   * dose 0.367 × 25 = 9.175 mg */
  r = bridge_ok (&new_plan, "morphine", &old_plan, "morphine");
  ck_assert_int_eq (r.target_dose_rate_ng_per_day, MG (4));
  ck_assert_int_eq (r.phases[0].rate_nl_per_day, 160000);
  ck_assert_int_eq (r.phases[0].duration_ms, 198180000);
  ck_assert_int_eq (r.phases[0].dose_ng, 9175000);
  ck_assert_int_eq (r.phases[0].dose_rate_ng_per_day, MG (4));
  ck_assert_int_eq (r.phases[1].rate_nl_per_day, 500000);
}
END_TEST

START_TEST (test_bridge_rounds_down)
{
  /* Old: morphine 3 mg/mL at 0.667 mL/day = 2.001 mg/day; new: morphine 10 mg/mL at 2 mg/day.
   *   target = min (2.001, 2) = 2 mg/day
   *   exact rate 2 / 3 mL/day = 666 666.67 nL/day: the rule would give 667 000 (2.001 mg/day,
   *   above the target); ROUND_DOWN gives 666 000 nL/day = 1.998 mg/day ≤ 2 mg/day
   *   duration 367 000 × 86 400 000 / 666 000 = 47 610 810.81 → 47 610 811 ms (UP)
   *   dose 0.367 mL × 3 mg/mL = 1.101 mg */
  ThecalDeliveryPlan old_plan = plan_of (MG_PER_ML (3), 667000, true);
  ThecalDeliveryPlan new_plan = plan_of (MG_PER_ML (10), MG (2), false);
  ThecalBolusPlan r;

  ck_assert_int_eq (old_plan.basal_ng_per_day, 2001000);
  r = bridge_ok (&old_plan, "morphine", &new_plan, "morphine");
  ck_assert_int_eq (r.target_dose_rate_ng_per_day, MG (2));
  ck_assert_int_eq (r.phases[0].rate_nl_per_day, 666000);
  ck_assert_int_eq (r.phases[0].dose_rate_ng_per_day, 1998000);
  ck_assert_int_le (r.phases[0].dose_rate_ng_per_day, r.target_dose_rate_ng_per_day);
  ck_assert_int_eq (r.phases[0].duration_ms, 47610811);
  ck_assert_int_eq (r.phases[0].dose_ng, 1101000);
}
END_TEST

START_TEST (test_bridge_different_drug)
{
  /* Morphine 10 mg/mL at 5 mg/day → HYDROmorphone 2 mg/mL at 1 mg/day. The dead space holds
   * morphine: it goes at the OLD morphine dose, 5 mg/day = 0.5 mL/day (the hydromorphone dose
   * says nothing about morphine). 367 000 × 86.4e6 / 500 000 = 63 417 600 ms; 3.67 mg. */
  ThecalDeliveryPlan old_plan = plan_of (MG_PER_ML (10), MG (5), false);
  ThecalDeliveryPlan new_plan = plan_of (MG_PER_ML (2), MG (1), false);
  ThecalBolusPlan r = bridge_ok (&old_plan, "morphine", &new_plan, "hydromorphone");

  ck_assert_int_eq (r.target_dose_rate_ng_per_day, MG (5));
  ck_assert_int_eq (r.phases[0].rate_nl_per_day, 500000);
  ck_assert_int_eq (r.phases[0].duration_ms, 63417600);
  ck_assert_int_eq (r.phases[0].dose_ng, 3670000);
  ck_assert_int_eq (r.phases[0].concentration_ng_per_ml, MG_PER_ML (10));
  ck_assert_int_eq (r.phases[1].concentration_ng_per_ml, MG_PER_ML (2));
  ck_assert_int_eq (r.phases[1].dose_rate_ng_per_day, MG (1));
  /* the same plans as the same drug would bridge at min (5, 1) = 1 mg/day = 0.1 mL/day */
  r = bridge_ok (&old_plan, "morphine", &new_plan, "morphine");
  ck_assert_int_eq (r.target_dose_rate_ng_per_day, MG (1));
  ck_assert_int_eq (r.phases[0].rate_nl_per_day, 100000);
}
END_TEST

START_TEST (test_bridge_capped_and_floor)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalDeliveryPlan old_plan = plan_of (MG_PER_ML (1), ML (30), true); /* 30 mL/day: above range */
  ThecalDeliveryPlan new_plan = plan_of (MG_PER_ML (25), MG (30), false);
  ThecalBolusPlan r;
  ThecalDoseError err;

  /* 30 mg/day of 1 mg/mL would need 30 mL/day: capped at the bolus ceiling, 24 mL/day;
   * 367 000 × 86.4e6 / 24e6 = 1 321 200 ms, 0.367 mg at 24 mg/day (below the target) */
  r = bridge_ok (&old_plan, "morphine", &new_plan, "morphine");
  ck_assert (r.rate_capped);
  ck_assert_int_eq (r.target_dose_rate_ng_per_day, MG (30));
  ck_assert_int_eq (r.phases[0].rate_nl_per_day, ML (24));
  ck_assert_int_eq (r.phases[0].duration_ms, 1321200);
  ck_assert_int_eq (r.phases[0].dose_ng, 367000);
  ck_assert_int_eq (r.phases[0].dose_rate_ng_per_day, MG (24));

  /* Below the lowest rate: 25 mg/mL at 5 mg/day → 1 mg/day: 1 / 25 = 0.04 mL/day < 0.048:
   * refused. 1.2 mg/day gives exactly 0.048 mL/day: accepted. */
  old_plan = plan_of (MG_PER_ML (25), MG (5), false);
  new_plan = plan_of (MG_PER_ML (25), MG (1), false);
  thecal_test_expect_fails (err, thecal_bridge_bolus (&m, &catheter_45cm, &old_plan, "morphine", &new_plan, "morphine", &r, &err), THECAL_DOSE_ERROR_RANGE, "bridge_rate");
  ck_assert_str_eq (err.message, "bridge rate 0.04 mL/day (1 mg/day of the old drug at 25 mg/mL) is below the pump's lowest rate 0.048 mL/day: the old drug cannot be pushed out at or below the target; plan the change another way (e.g. a lower old concentration).");
  new_plan = plan_of (MG_PER_ML (25), 1200000, false);
  r = bridge_ok (&old_plan, "morphine", &new_plan, "morphine");
  ck_assert_int_eq (r.phases[0].rate_nl_per_day, 48000);
  /* 367 000 × 86.4e6 / 48 000 = 660 600 000 ms (7 d 15 h 30 min), 9.175 mg at 1.2 mg/day */
  ck_assert_int_eq (r.phases[0].duration_ms, 660600000);
  ck_assert_int_eq (r.phases[0].dose_ng, 9175000);
  ck_assert_int_eq (r.phases[0].dose_rate_ng_per_day, 1200000);
}
END_TEST

START_TEST (test_bridge_refusals)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalDeliveryPlan old_plan = plan_of (MG_PER_ML (10), MG (5), false);
  ThecalDeliveryPlan new_plan = plan_of (MG_PER_ML (25), MG (4), false);
  ThecalDeliveryPlan stopped;
  ThecalPrescription rx;
  ThecalBolusPlan r;
  ThecalDoseError err;
  const ThecalCatheter long_catheter = { 10000, 2600 };

  thecal_prescription_init (&rx);
  thecal_dose_error_clear (&err);
  ck_assert (thecal_delivery_plan_resolve (&rx, &m, &stopped, &err));
  ck_assert (!thecal_bridge_bolus (&m, &catheter_45cm, &stopped, "morphine", &new_plan, "morphine", &r, &err));
  thecal_test_expect_error (&err, THECAL_DOSE_ERROR_INVALID, "old_plan.mode");
  thecal_test_expect_fails (err, thecal_bridge_bolus (&m, &catheter_45cm, &old_plan, "morphine", &stopped, "morphine", &r, &err), THECAL_DOSE_ERROR_INVALID, "new_plan.mode");
  thecal_test_expect_fails (err, thecal_bridge_bolus (&m, &catheter_45cm, &old_plan, "", &new_plan, "morphine", &r, &err), THECAL_DOSE_ERROR_INVALID, "old_drug_id");
  thecal_test_expect_fails (err, thecal_bridge_bolus (&m, &catheter_45cm, &old_plan, "morphine", &new_plan, NULL, &r, &err), THECAL_DOSE_ERROR_INVALID, "new_drug_id");
  thecal_test_expect_fails (err, thecal_bridge_bolus (&m, NULL, &old_plan, "morphine", &new_plan, "morphine", &r, &err), THECAL_DOSE_ERROR_INVALID, "catheter");
  thecal_test_expect_fails (err, thecal_bridge_bolus (&m, &catheter_45cm, NULL, "morphine", &new_plan, "morphine", &r, &err), THECAL_DOSE_ERROR_INVALID, "old_plan");
  /* a huge old dose at 1 ng/mL: the rate does not fit, reported, not wrapped */
  old_plan.concentration_ng_per_ml = 1;
  old_plan.basal_ng_per_day = INT64_MAX;
  thecal_test_expect_fails (err, thecal_bridge_bolus (&m, &catheter_45cm, &old_plan, "morphine", &new_plan, "other", &r, &err), THECAL_DOSE_ERROR_OVERFLOW, "old_plan");
  /* a huge old concentration: 1 mL/day for the target, but 10 m of catheter (2.85 mL of dead
   * space) holds more drug than int64_t can count */
  old_plan.concentration_ng_per_ml = INT64_MAX;
  old_plan.basal_ng_per_day = INT64_MAX;
  thecal_test_expect_fails (err, thecal_bridge_bolus (&m, &long_catheter, &old_plan, "morphine", &new_plan, "other", &r, &err), THECAL_DOSE_ERROR_OVERFLOW, "old_plan.concentration");
}
END_TEST

START_TEST (test_bridge_never_above_target)
{
  /* 2 000 seeded pairs of plans: the bridge phase's dose rate never exceeds the target, its
   * rate is a multiple of the resolution within the pump's bolus range, and its volume covers
   * the dead space with less than one extra stroke. */
  static const int64_t concs[] = { 100000, 500000, MG_PER_ML (1), MG_PER_ML (3), MG_PER_ML (7), MG_PER_ML (10),
                                   MG_PER_ML (25) };
  ThecalPumpModel m = thecal_test_tr20 ();
  uint64_t state = 99;
  int bridged = 0;

  for (int i = 0; i < 2000; i++)
    {
      ThecalDeliveryPlan old_plan, new_plan;
      ThecalBolusPlan r;
      ThecalDoseError err;
      ThecalCatheter cat;
      int64_t old_rate, new_rate, old_conc, new_conc;

      state = state * UINT64_C (6364136223846793005) + 1;
      old_conc = concs[(state >> 33) % 7];
      new_conc = concs[(state >> 40) % 7];
      state = state * UINT64_C (6364136223846793005) + 1;
      old_rate = 48000 + (int64_t) ((state >> 33) % 5000000);
      new_rate = 48000 + (int64_t) ((state >> 11) % 5000000);
      cat.catheter_length_mm = (int32_t) ((state >> 20) % 1200);
      cat.catheter_volume_nl_per_cm = 2600;
      old_plan = plan_of (old_conc, old_rate, true);
      new_plan = plan_of (new_conc, new_rate, true);
      thecal_dose_error_clear (&err);
      if (!thecal_bridge_bolus (&m, &cat, &old_plan, "morphine", &new_plan, (i & 1) ? "morphine" : "baclofen", &r, &err))
        {
          ck_assert_str_eq (err.field, "bridge_rate"); /* the only refusal these inputs can meet */
          continue;
        }
      bridged++;
      ck_assert_int_le (r.phases[0].dose_rate_ng_per_day, r.target_dose_rate_ng_per_day);
      ck_assert_int_le (r.target_dose_rate_ng_per_day, old_plan.basal_ng_per_day);
      if (i & 1)
        ck_assert_int_le (r.target_dose_rate_ng_per_day, new_plan.basal_ng_per_day);
      ck_assert_int_eq (r.phases[0].rate_nl_per_day % 1000, 0);
      ck_assert_int_ge (r.phases[0].rate_nl_per_day, m.rate_min_nl_per_day);
      ck_assert_int_le (r.phases[0].rate_nl_per_day, m.bolus_rate_max_nl_per_day);
      ck_assert_int_ge (r.phases[0].volume_nl, r.dead_space_nl);
      ck_assert_int_lt (r.phases[0].volume_nl - r.dead_space_nl, m.stroke_volume_nl);
      ck_assert_int_eq (r.phases[0].volume_nl % m.stroke_volume_nl, 0);
      /* the phase lasts as long as its volume takes at its rate, rounded up to the ms
       * (duration ≤ 1.2 × 10^9 ms, rate ≤ 2.4 × 10^7 nL/day: the products fit int64_t) */
      ck_assert_int_ge (r.phases[0].duration_ms * r.phases[0].rate_nl_per_day, r.phases[0].volume_nl * D);
      ck_assert_int_lt ((r.phases[0].duration_ms - 1) * r.phases[0].rate_nl_per_day, r.phases[0].volume_nl * D);
    }
  ck_assert_int_gt (bridged, 1000);
}
END_TEST

/* ---- oral → intrathecal --------------------------------------------------------------------- */

START_TEST (test_oral_estimate)
{
  ThecalDoseError err;
  int64_t it = 77;

  /* 300 mg/day oral morphine at 300:1 → 1 mg/day intrathecal (CLINICAL.md §3.3); at 12:1 → 25 mg */
  thecal_dose_error_clear (&err);
  ck_assert (thecal_oral_to_intrathecal_estimate (MG (300), THECAL_ORAL_TO_IT_RATIO_DEFAULT, &it, &err));
  ck_assert_int_eq (it, MG (1));
  ck_assert (thecal_oral_to_intrathecal_estimate (MG (300), 12, &it, &err));
  ck_assert_int_eq (it, MG (25));
  /* rounded DOWN: 1 000 ng / 300 = 3.33 → 3; 299 ng → 0; 599 ng → 1 (not 2) */
  ck_assert (thecal_oral_to_intrathecal_estimate (1000, 300, &it, &err));
  ck_assert_int_eq (it, 3);
  ck_assert (thecal_oral_to_intrathecal_estimate (299, 300, &it, &err));
  ck_assert_int_eq (it, 0);
  ck_assert (thecal_oral_to_intrathecal_estimate (599, 300, &it, &err));
  ck_assert_int_eq (it, 1);
  ck_assert (thecal_oral_to_intrathecal_estimate (0, 300, &it, &err));
  ck_assert_int_eq (it, 0);
  /* ratio boundaries 1 and 1000 */
  ck_assert (thecal_oral_to_intrathecal_estimate (INT64_MAX, 1, &it, &err));
  ck_assert_int_eq (it, INT64_MAX);
  ck_assert (thecal_oral_to_intrathecal_estimate (MG (1), 1000, &it, &err));
  ck_assert_int_eq (it, MCG (1));
  ck_assert_int_eq (err.code, THECAL_DOSE_OK);
  it = 77;
  ck_assert (!thecal_oral_to_intrathecal_estimate (MG (1), 0, &it, &err));
  thecal_test_expect_error (&err, THECAL_DOSE_ERROR_RANGE, "ratio");
  ck_assert_str_eq (err.message, "ratio 0:1 is out of range: it must be 1:1 to 1000:1 (default 300:1).");
  thecal_test_expect_fails (err, thecal_oral_to_intrathecal_estimate (MG (1), 1001, &it, &err), THECAL_DOSE_ERROR_RANGE, "ratio");
  thecal_test_expect_fails (err, thecal_oral_to_intrathecal_estimate (MG (1), -300, &it, &err), THECAL_DOSE_ERROR_RANGE, "ratio");
  thecal_test_expect_fails (err, thecal_oral_to_intrathecal_estimate (-1, 300, &it, &err), THECAL_DOSE_ERROR_RANGE, "oral");
  ck_assert_int_eq (it, 77);
}
END_TEST

/* The hand-built TR-20 and TR-40 these tests use are the models data/pump-models.json ships. */
START_TEST (test_models_are_the_shipped_ones)
{
  thecal_test_expect_models_match_data_file ();
}
END_TEST

static Suite *
bolus_suite (void)
{
  Suite *s = suite_create ("bolus");
  TCase *tc = tcase_create ("priming");

  tcase_add_test (tc, test_priming_worked_example);
  tcase_add_test (tc, test_priming_strokes_round_up);
  tcase_add_test (tc, test_priming_refusals);
  suite_add_tcase (s, tc);

  tc = tcase_create ("bridge");
  tcase_add_test (tc, test_bridge_concentration_change);
  tcase_add_test (tc, test_bridge_rounds_down);
  tcase_add_test (tc, test_bridge_different_drug);
  tcase_add_test (tc, test_bridge_capped_and_floor);
  tcase_add_test (tc, test_bridge_refusals);
  tcase_add_test (tc, test_bridge_never_above_target);
  suite_add_tcase (s, tc);

  tc = tcase_create ("oral");
  tcase_add_test (tc, test_oral_estimate);
  tcase_add_test (tc, test_models_are_the_shipped_ones);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (bolus_suite)
