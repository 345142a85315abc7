/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-prescription.c: dose ↔ rate, prescription validation, the delivery plan and the volume
 * it delivers between two instants. Worked examples are checked by hand in the comments; the
 * property test runs 10 000 seeded random prescriptions (integer LCG, no floating point).
 */
#include "config.h"

#include "thecal-prescription.h"
#include "thecal-quantity.h"
#include "thecal-dose-json.h"
#include "thecal-test-dose.h"
#include "thecal-test-models.h"
#include "thecal-test-random.h"
#include "thecal-test-units.h"
#include "thecal-test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Validation must fail with @code naming @field (the error is cleared first: only the first
 * error of a ThecalDoseError is kept). */
static void
validate_fails (const ThecalPrescription *rx, ThecalDoseStatus code, const char *field)
{
  ThecalDoseError err;

  thecal_test_expect_fails (err, thecal_prescription_validate (rx, &err), code, field);
}

static void
validate_ok (const ThecalPrescription *rx)
{
  ThecalDoseError err;

  thecal_dose_error_clear (&err);
  if (!thecal_prescription_validate (rx, &err))
    ck_abort_msg ("validation failed: %s: %s", err.field, err.message);
}

static void
set_step (ThecalPrescription *rx, int i, int32_t start_min, int32_t duration_min, int64_t rate_nl_per_day)
{
  rx->flex_steps[i].start_min = start_min;
  rx->flex_steps[i].duration_min = duration_min;
  rx->flex_steps[i].amount.basis = THECAL_BASIS_RATE;
  rx->flex_steps[i].amount.rate_nl_per_day = rate_nl_per_day;
}

static void
flex_rx (ThecalPrescription *rx, int n)
{
  *rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (10), MG (1));
  rx->mode = THECAL_MODE_FLEX;
  rx->n_flex_steps = n;
}

/* ---- dose ↔ rate ------------------------------------------------------------------------- */

START_TEST (test_rate_worked_example)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalDoseError err;
  int64_t rate = -1, delivered = -1;

  /* 25 mg/mL, 5 mg/day: 5 000 000 ng × 1 000 000 / 25 000 000 ng/mL = 200 000 nL/day
   * (0.2 mL/day), a multiple of 1 000 nL/day, delivering exactly 5 mg/day. */
  thecal_dose_error_clear (&err);
  ck_assert (thecal_rate_for_dose (&m, MG_PER_ML (25), MG (5), &rate, &delivered, &err));
  ck_assert_int_eq (rate, 200000);
  ck_assert_int_eq (delivered, MG (5));
  ck_assert_int_eq (err.code, THECAL_DOSE_OK);

  /* and back: 0.2 mL/day at 25 mg/mL = 5 mg/day */
  ck_assert (thecal_dose_for_rate (&m, MG_PER_ML (25), 200000, &rate, &delivered, &err));
  ck_assert_int_eq (rate, 200000);
  ck_assert_int_eq (delivered, MG (5));

  /* 10 mg/mL, 5 mg/day → 0.5 mL/day */
  ck_assert (thecal_rate_for_dose (&m, MG_PER_ML (10), MG (5), &rate, &delivered, &err));
  ck_assert_int_eq (rate, 500000);
  ck_assert_int_eq (delivered, MG (5));
}
END_TEST

START_TEST (test_rate_rounding_rule)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalDoseError err;
  int64_t rate, delivered;

  thecal_dose_error_clear (&err);
  /* At 1 mg/mL one ng/day is one nL/day, so the dose is the exact rate. */
  ck_assert (thecal_rate_for_dose (&m, MG_PER_ML (1), 1500, &rate, &delivered, &err));
  ck_assert_int_eq (rate, 1000); /* 1.5 steps: exactly half, toward zero */
  ck_assert_int_eq (delivered, 1000);
  ck_assert (thecal_rate_for_dose (&m, MG_PER_ML (1), 1501, &rate, &delivered, &err));
  ck_assert_int_eq (rate, 2000);
  ck_assert (thecal_rate_for_dose (&m, MG_PER_ML (1), 2500, &rate, &delivered, &err));
  ck_assert_int_eq (rate, 2000);
  ck_assert (thecal_rate_for_dose (&m, MG_PER_ML (1), 500, &rate, &delivered, &err));
  ck_assert_int_eq (rate, 0); /* half a step: 0 (thecal-check reports a rate below range) */
  ck_assert_int_eq (delivered, 0);
  ck_assert (thecal_rate_for_dose (&m, MG_PER_ML (1), 501, &rate, &delivered, &err));
  ck_assert_int_eq (rate, 1000);
  ck_assert (thecal_rate_for_dose (&m, MG_PER_ML (1), 0, &rate, &delivered, &err));
  ck_assert_int_eq (rate, 0);

  /* One rounding, not two: 4 501 ng/day at 3 mg/mL is 1 500.33 nL/day. Rounding first to
   * whole nL (1 500) and then to the step would give 1 000 (a tie); the exact value is above
   * the half-way point, so the one rounding gives 2 000 nL/day, delivering 6 000 ng/day. */
  ck_assert (thecal_rate_for_dose (&m, MG_PER_ML (3), 4501, &rate, &delivered, &err));
  ck_assert_int_eq (rate, 2000);
  ck_assert_int_eq (delivered, 6000);

  /* The delivered dose is the dose of the rounded rate: 5.0125 mg/day at 25 mg/mL is
   * 200.5 µL/day → 200 µL/day (tie, down) → 5 mg/day delivered. */
  ck_assert (thecal_rate_for_dose (&m, MG_PER_ML (25), 5012500, &rate, &delivered, &err));
  ck_assert_int_eq (rate, 200000);
  ck_assert_int_eq (delivered, MG (5));
  ck_assert (thecal_rate_for_dose (&m, MG_PER_ML (25), 5012501, &rate, &delivered, &err));
  ck_assert_int_eq (rate, 201000);
  ck_assert_int_eq (delivered, 5025000);

  /* rate → dose with the model rounds the rate first; without a model it is taken as is */
  ck_assert (thecal_dose_for_rate (&m, MG_PER_ML (25), 200500, &rate, &delivered, &err));
  ck_assert_int_eq (rate, 200000);
  ck_assert_int_eq (delivered, MG (5));
  ck_assert (thecal_dose_for_rate (&m, MG_PER_ML (25), 200501, &rate, &delivered, &err));
  ck_assert_int_eq (rate, 201000);
  ck_assert (thecal_dose_for_rate (NULL, MG_PER_ML (25), 200499, &rate, &delivered, &err));
  ck_assert_int_eq (rate, 200499);
  ck_assert_int_eq (delivered, 5012475); /* 200 499 × 25 */
  ck_assert (thecal_dose_for_rate (NULL, MG_PER_ML (25), 200499, NULL, &delivered, &err));
  /* 1 nL/day at 1 mcg/mL = 0.001 ng/day → 0; 500 nL/day at 1 mcg/mL = 0.5 → 0 (tie); 501 → 1 */
  ck_assert (thecal_dose_for_rate (NULL, MCG (1), 500, NULL, &delivered, &err));
  ck_assert_int_eq (delivered, 0);
  ck_assert (thecal_dose_for_rate (NULL, MCG (1), 501, NULL, &delivered, &err));
  ck_assert_int_eq (delivered, 1);
  ck_assert_int_eq (err.code, THECAL_DOSE_OK);
}
END_TEST

START_TEST (test_rate_refusals)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalDoseError err;
  int64_t rate = 77, delivered = 77;

  thecal_test_expect_fails (err, thecal_rate_for_dose (&m, 0, MG (5), &rate, &delivered, &err), THECAL_DOSE_ERROR_RANGE, "concentration");
  thecal_test_expect_fails (err, thecal_rate_for_dose (&m, -1, MG (5), &rate, &delivered, &err), THECAL_DOSE_ERROR_RANGE, "concentration");
  thecal_test_expect_fails (err, thecal_rate_for_dose (&m, MG_PER_ML (25), -1, &rate, &delivered, &err), THECAL_DOSE_ERROR_RANGE, "dose");
  thecal_test_expect_fails (err, thecal_rate_for_dose (NULL, MG_PER_ML (25), MG (5), &rate, &delivered, &err), THECAL_DOSE_ERROR_INVALID, "model");
  ck_assert_int_eq (rate, 77); /* outputs untouched on failure */
  ck_assert_int_eq (delivered, 77);

  thecal_test_expect_fails (err, thecal_dose_for_rate (&m, 0, 200000, &rate, &delivered, &err), THECAL_DOSE_ERROR_RANGE, "concentration");
  thecal_test_expect_fails (err, thecal_dose_for_rate (&m, MG_PER_ML (25), -1, &rate, &delivered, &err), THECAL_DOSE_ERROR_RANGE, "rate");
  thecal_test_expect_fails (err, thecal_dose_for_rate (NULL, -5, 1000, &rate, &delivered, &err), THECAL_DOSE_ERROR_RANGE, "concentration");

  /* a model with no resolution cannot round */
  m.rate_resolution_nl_per_day = 0;
  thecal_test_expect_fails (err, thecal_rate_for_dose (&m, MG_PER_ML (25), MG (5), &rate, &delivered, &err), THECAL_DOSE_ERROR_RANGE, "model.rate_resolution");
  ck_assert_int_eq (rate, 77);
}
END_TEST

START_TEST (test_rate_overflow)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalDoseError err;
  int64_t rate = 77, delivered = 77;

  /* INT64_MAX ng/day at 1 ng/mL is 9.2 × 10^24 nL/day: refused, never wrapped */
  thecal_test_expect_fails (err, thecal_rate_for_dose (&m, 1, INT64_MAX, &rate, &delivered, &err), THECAL_DOSE_ERROR_OVERFLOW, "dose");
  ck_assert_int_eq (rate, 77);
  /* the largest dose whose rate still fits: INT64_MAX / 10^6 ng/day at 1 ng/mL → a rate just
   * below INT64_MAX, rounded to 1 000; its dose fits too */
  thecal_dose_error_clear (&err);
  ck_assert (thecal_rate_for_dose (&m, 1, INT64_MAX / 1000000, &rate, &delivered, &err));
  ck_assert_int_eq (rate % 1000, 0);
  ck_assert_int_gt (rate, INT64_MAX - 2000000);
  /* a huge concentration makes any sensible dose a zero rate: 0, not garbage */
  ck_assert (thecal_rate_for_dose (&m, INT64_MAX, MG (5), &rate, &delivered, &err));
  ck_assert_int_eq (rate, 0);
  ck_assert_int_eq (delivered, 0);
  /* and a huge dose at a huge concentration: exact in 128 bits, 10^6 nL/day = 1 mL/day */
  ck_assert (thecal_rate_for_dose (&m, INT64_MAX, INT64_MAX, &rate, &delivered, &err));
  ck_assert_int_eq (rate, 1000000);
  ck_assert_int_eq (delivered, INT64_MAX);
  /* rate × concentration beyond int64_t: refused */
  ck_assert (!thecal_dose_for_rate (&m, INT64_MAX, ML (24), &rate, &delivered, &err));
  thecal_test_expect_error (&err, THECAL_DOSE_ERROR_OVERFLOW, "rate");
  thecal_test_expect_fails (err, thecal_dose_for_rate (&m, 1, INT64_MAX, &rate, &delivered, &err), THECAL_DOSE_ERROR_OVERFLOW, "rate");
}
END_TEST

/* ---- validation ------------------------------------------------------------------------------ */

START_TEST (test_validate_basics)
{
  ThecalPrescription rx;
  ThecalDoseError err;

  thecal_dose_error_clear (&err);
  thecal_prescription_init (&rx);
  ck_assert_int_eq (rx.mode, THECAL_MODE_STOPPED);
  validate_ok (&rx); /* stopped: no drug, no concentration */

  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  validate_ok (&rx);
  ck_assert_int_eq (err.code, THECAL_DOSE_OK);

  validate_fails (NULL, THECAL_DOSE_ERROR_INVALID, "prescription");

  rx.mode = THECAL_MODE_N_MODES;
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "mode");
  rx.mode = (ThecalMode) 99;
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "mode");

  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  rx.drug_id[0] = '\0';
  validate_fails (&rx, THECAL_DOSE_ERROR_INVALID, "drug_id");
  memset (rx.drug_id, 'a', sizeof rx.drug_id); /* not terminated */
  validate_fails (&rx, THECAL_DOSE_ERROR_INVALID, "drug_id");

  /* concentration: 1 ng/mL is the smallest accepted; 0 and −1 are refused unless stopped */
  rx = thecal_test_continuous_dose ("morphine", 1, MG (5));
  validate_ok (&rx);
  rx = thecal_test_continuous_dose ("morphine", 0, MG (5));
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "concentration");
  thecal_prescription_init (&rx);
  rx.concentration_ng_per_ml = -1;
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "concentration");
}
END_TEST

START_TEST (test_validate_amounts)
{
  ThecalPrescription rx;

  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), 1); /* 1 ng/day: the smallest accepted dose */
  validate_ok (&rx);
  rx.continuous.dose_ng_per_day = 0;
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "continuous.dose");
  rx.continuous.dose_ng_per_day = -1;
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "continuous.dose");

  rx.continuous.basis = THECAL_BASIS_RATE;
  rx.continuous.rate_nl_per_day = 1;
  validate_ok (&rx);
  rx.continuous.rate_nl_per_day = 0;
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "continuous.rate");

  rx.continuous.basis = (ThecalBasis) 7;
  validate_fails (&rx, THECAL_DOSE_ERROR_INVALID, "continuous.basis");

  /* a minimum-rate prescription ignores the continuous amount */
  rx.mode = THECAL_MODE_MINIMUM_RATE;
  validate_ok (&rx);
}
END_TEST

START_TEST (test_validate_flex_counts)
{
  ThecalPrescription rx;

  flex_rx (&rx, 0);
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "flex_steps");

  /* 13 steps (the maximum): twelve of 110 min and a last of 120 min = 1 440 min */
  flex_rx (&rx, 13);
  for (int i = 0; i < 12; i++)
    set_step (&rx, i, i * 110, 110, 100000 + i * 1000);
  set_step (&rx, 12, 1320, 120, 50000);
  validate_ok (&rx);
  rx.n_flex_steps = 14;
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "flex_steps");

  /* steps in a mode that has none */
  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  rx.n_flex_steps = 1;
  set_step (&rx, 0, 0, 1440, 1000);
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "flex_steps");
  rx.n_flex_steps = -1;
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "flex_steps");
}
END_TEST

START_TEST (test_validate_flex_single_and_ranges)
{
  ThecalPrescription rx;

  flex_rx (&rx, 1);
  set_step (&rx, 0, 0, 1440, 100000);
  validate_ok (&rx);
  /* one step starting at 10:00 wraps past midnight back to 10:00 */
  set_step (&rx, 0, 600, 1440, 100000);
  validate_ok (&rx);
  /* 1 439 minutes leave a gap; 1 441 are out of range */
  set_step (&rx, 0, 0, 1439, 100000);
  validate_fails (&rx, THECAL_DOSE_ERROR_INVALID, "flex_steps[0].duration");
  set_step (&rx, 0, 0, 1441, 100000);
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "flex_steps[0].duration");
  set_step (&rx, 0, 0, 0, 100000);
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "flex_steps[0].duration");
  /* start 0..1439 */
  set_step (&rx, 0, 1439, 1440, 100000);
  validate_ok (&rx);
  set_step (&rx, 0, 1440, 1440, 100000);
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "flex_steps[0].start");
  set_step (&rx, 0, -1, 1440, 100000);
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "flex_steps[0].start");

  /* a step's amount: rate 0 refused, named by index */
  flex_rx (&rx, 2);
  set_step (&rx, 0, 0, 720, 100000);
  set_step (&rx, 1, 720, 720, 0);
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "flex_steps[1].rate");
  rx.flex_steps[1].amount.basis = THECAL_BASIS_DOSE;
  rx.flex_steps[1].amount.dose_ng_per_day = 0;
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "flex_steps[1].dose");
}
END_TEST

START_TEST (test_validate_flex_order_overlap_gap_wrap)
{
  ThecalPrescription rx;

  /* three steps 00:00 (16 h), 16:00, 08:00: the third is out of order */
  flex_rx (&rx, 3);
  set_step (&rx, 0, 0, 960, 100000);
  set_step (&rx, 1, 960, 480, 200000);
  set_step (&rx, 2, 480, 480, 300000);
  validate_fails (&rx, THECAL_DOSE_ERROR_INVALID, "flex_steps[2].start");
  /* equal starts are not ascending */
  set_step (&rx, 1, 0, 480, 200000);
  validate_fails (&rx, THECAL_DOSE_ERROR_INVALID, "flex_steps[1].start");

  /* overlap by one minute: 00:00 for 481 min, then 08:00 */
  flex_rx (&rx, 3);
  set_step (&rx, 0, 0, 481, 100000);
  set_step (&rx, 1, 480, 480, 200000);
  set_step (&rx, 2, 960, 480, 300000);
  validate_fails (&rx, THECAL_DOSE_ERROR_INVALID, "flex_steps[1].start");
  /* exactly adjacent: valid */
  set_step (&rx, 0, 0, 480, 100000);
  validate_ok (&rx);
  /* gap of one minute */
  set_step (&rx, 0, 0, 479, 100000);
  validate_fails (&rx, THECAL_DOSE_ERROR_INVALID, "flex_steps[0].duration");

  /* wrap: 06:00 for 10 h, then 16:00 for 14 h, ending at 06:00 the next day: exact cover */
  flex_rx (&rx, 2);
  set_step (&rx, 0, 360, 600, 100000);
  set_step (&rx, 1, 960, 840, 200000);
  validate_ok (&rx);
  /* one minute more overlaps the first step after midnight */
  set_step (&rx, 1, 960, 841, 200000);
  validate_fails (&rx, THECAL_DOSE_ERROR_INVALID, "flex_steps[1].duration");
  /* one minute less leaves 05:59-06:00 uncovered */
  set_step (&rx, 1, 960, 839, 200000);
  validate_fails (&rx, THECAL_DOSE_ERROR_INVALID, "flex_steps[1].duration");
  /* no wrap, but the last step stops before midnight while the first starts at 00:00 */
  flex_rx (&rx, 2);
  set_step (&rx, 0, 0, 720, 100000);
  set_step (&rx, 1, 720, 719, 200000);
  validate_fails (&rx, THECAL_DOSE_ERROR_INVALID, "flex_steps[1].duration");
}
END_TEST

START_TEST (test_validate_periodic)
{
  ThecalPrescription rx;

  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  for (int i = 0; i < THECAL_PERIODIC_BOLUSES_MAX; i++)
    thecal_test_add_bolus (&rx, i * 120, MCG (500), H);
  validate_ok (&rx); /* 12: the maximum */
  rx.n_periodic_boluses = 13;
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "periodic_boluses");
  rx.n_periodic_boluses = -1;
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "periodic_boluses");

  /* ranges of one bolus */
  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  thecal_test_add_bolus (&rx, 1439, 1, D); /* boundaries: last minute, 1 ng, 24 h */
  validate_ok (&rx);
  rx.periodic_boluses[0].start_min = 1440;
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "periodic_boluses[0].start");
  rx.periodic_boluses[0].start_min = 0;
  rx.periodic_boluses[0].dose_ng = 0;
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "periodic_boluses[0].dose");
  rx.periodic_boluses[0].dose_ng = 1;
  rx.periodic_boluses[0].duration_ms = 0;
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "periodic_boluses[0].duration");
  rx.periodic_boluses[0].duration_ms = D + 1;
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "periodic_boluses[0].duration");

  /* overlap: 08:00 for 1 h and 08:59 overlap; 09:00 is adjacent and fine */
  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  thecal_test_add_bolus (&rx, 480, MCG (500), H);
  thecal_test_add_bolus (&rx, 539, MCG (500), H);
  validate_fails (&rx, THECAL_DOSE_ERROR_INVALID, "periodic_boluses[1].start");
  rx.periodic_boluses[1].start_min = 540;
  validate_ok (&rx);
  /* listed in any order: 09:00, then 08:00 for 61 min overlaps it */
  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  thecal_test_add_bolus (&rx, 540, MCG (500), H);
  thecal_test_add_bolus (&rx, 480, MCG (500), 61 * MIN);
  validate_fails (&rx, THECAL_DOSE_ERROR_INVALID, "periodic_boluses[1].start");
  /* same start */
  rx.periodic_boluses[1].start_min = 540;
  rx.periodic_boluses[1].duration_ms = 1;
  validate_fails (&rx, THECAL_DOSE_ERROR_INVALID, "periodic_boluses[1].start");

  /* wrap past midnight: 23:30 for 1 h runs until 00:30; a bolus at 00:29 overlaps, 00:30 not */
  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  thecal_test_add_bolus (&rx, 1410, MCG (500), H);
  thecal_test_add_bolus (&rx, 29, MCG (500), MIN);
  validate_fails (&rx, THECAL_DOSE_ERROR_INVALID, "periodic_boluses[1].start");
  rx.periodic_boluses[1].start_min = 30;
  validate_ok (&rx);
  /* ... and the other way round: 00:30 listed first, 23:30 for 61 min reaches 00:31 */
  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  thecal_test_add_bolus (&rx, 30, MCG (500), MIN);
  thecal_test_add_bolus (&rx, 1410, MCG (500), 61 * MIN);
  validate_fails (&rx, THECAL_DOSE_ERROR_INVALID, "periodic_boluses[1].start");
  /* a 24 h bolus leaves room for no other */
  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  thecal_test_add_bolus (&rx, 0, MCG (500), D);
  thecal_test_add_bolus (&rx, 720, MCG (500), 1);
  validate_fails (&rx, THECAL_DOSE_ERROR_INVALID, "periodic_boluses[1].start");

  /* a stopped pump has no boluses */
  thecal_prescription_init (&rx);
  thecal_test_add_bolus (&rx, 0, MCG (500), H);
  validate_fails (&rx, THECAL_DOSE_ERROR_INVALID, "periodic_boluses");
}
END_TEST

START_TEST (test_validate_ptm)
{
  ThecalPrescription rx;

  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  thecal_test_set_ptm (&rx, MCG (100), 10 * MIN, 3 * H, 4);
  validate_ok (&rx);

  /* disabled: its fields are not looked at */
  thecal_test_set_ptm (&rx, 0, 0, 0, 0);
  rx.ptm.enabled = false;
  validate_ok (&rx);

  thecal_test_set_ptm (&rx, 0, 10 * MIN, 3 * H, 4);
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "ptm.dose");
  thecal_test_set_ptm (&rx, MCG (100), 0, 3 * H, 4);
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "ptm.duration");
  /* lockout ≥ duration: equal is fine, one ms shorter is not */
  thecal_test_set_ptm (&rx, MCG (100), H, H, 4);
  validate_ok (&rx);
  thecal_test_set_ptm (&rx, MCG (100), H, H - 1, 4);
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "ptm.lockout");
  /* lockout at most 24 h */
  thecal_test_set_ptm (&rx, MCG (100), H, D, 1);
  validate_ok (&rx);
  thecal_test_set_ptm (&rx, MCG (100), H, D + 1, 1);
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "ptm.lockout");
  /* max per 24 h: 1 .. 24 h / lockout */
  thecal_test_set_ptm (&rx, MCG (100), H, D, 2); /* a 24 h lockout allows one */
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "ptm.max_per_24h");
  thecal_test_set_ptm (&rx, MCG (100), H, 8 * H, 3);
  validate_ok (&rx);
  thecal_test_set_ptm (&rx, MCG (100), H, 8 * H, 4);
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "ptm.max_per_24h");
  thecal_test_set_ptm (&rx, MCG (100), H, 8 * H, 0);
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "ptm.max_per_24h");
  /* a 15 min lockout allows 96; a 10 min lockout is still capped at 96 */
  thecal_test_set_ptm (&rx, MCG (100), MIN, 15 * MIN, 96);
  validate_ok (&rx);
  thecal_test_set_ptm (&rx, MCG (100), MIN, 15 * MIN, 97);
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "ptm.max_per_24h");
  thecal_test_set_ptm (&rx, MCG (100), MIN, 10 * MIN, 96);
  validate_ok (&rx);
  thecal_test_set_ptm (&rx, MCG (100), MIN, 10 * MIN, 97);
  validate_fails (&rx, THECAL_DOSE_ERROR_RANGE, "ptm.max_per_24h");

  /* a stopped pump has no PTM */
  thecal_prescription_init (&rx);
  thecal_test_set_ptm (&rx, MCG (100), 10 * MIN, 3 * H, 4);
  validate_fails (&rx, THECAL_DOSE_ERROR_INVALID, "ptm.enabled");
}
END_TEST

/* ---- the plan -------------------------------------------------------------------------------- */

START_TEST (test_plan_continuous)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalPrescription rx;
  ThecalDeliveryPlan plan;
  ThecalDoseError err;

  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  thecal_dose_error_clear (&err);
  ck_assert (thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  ck_assert_int_eq (plan.mode, THECAL_MODE_CONTINUOUS);
  ck_assert_int_eq (plan.concentration_ng_per_ml, MG_PER_ML (25));
  ck_assert_int_eq (plan.stroke_volume_nl, 250);
  ck_assert_int_eq (plan.n_segments, 1);
  ck_assert_int_eq (plan.segments[0].start_ms_of_day, 0);
  ck_assert_int_eq (plan.segments[0].end_ms_of_day, D);
  ck_assert_int_eq (plan.segments[0].basal_rate_nl_per_day, 200000);
  ck_assert_int_eq (plan.basal_nl_per_day, 200000);
  ck_assert_int_eq (plan.basal_ng_per_day, MG (5));
  ck_assert_int_eq (plan.n_boluses, 0);
  ck_assert (!plan.ptm_enabled);
  ck_assert_int_eq (plan.total_worst_nl_per_day, 200000);
  ck_assert_int_eq (plan.total_worst_ng_per_day, MG (5));

  /* written as a rate: 0.2005 mL/day rounds (tie) to 0.2 mL/day */
  rx.continuous.basis = THECAL_BASIS_RATE;
  rx.continuous.rate_nl_per_day = 200500;
  ck_assert (thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  ck_assert_int_eq (plan.segments[0].basal_rate_nl_per_day, 200000);
  ck_assert_int_eq (plan.basal_ng_per_day, MG (5));

  /* a dose whose rate rounds to 0 is a plan (thecal-check reports the rate below range) */
  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), 1);
  ck_assert (thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  ck_assert_int_eq (plan.basal_nl_per_day, 0);
  ck_assert_int_eq (err.code, THECAL_DOSE_OK);
}
END_TEST

START_TEST (test_plan_stopped_and_minimum)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalPrescription rx;
  ThecalDeliveryPlan plan;
  ThecalDoseError err;

  thecal_prescription_init (&rx);
  thecal_dose_error_clear (&err);
  ck_assert (thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  ck_assert_int_eq (plan.mode, THECAL_MODE_STOPPED);
  ck_assert_int_eq (plan.n_segments, 1);
  ck_assert_int_eq (plan.segments[0].basal_rate_nl_per_day, 0);
  ck_assert_int_eq (plan.segments[0].end_ms_of_day, D);
  ck_assert_int_eq (plan.total_worst_nl_per_day, 0);
  ck_assert_int_eq (plan.total_worst_ng_per_day, 0);

  /* minimum rate: the model's 0.006 mL/day; at 25 mg/mL that is 0.15 mg/day */
  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  rx.mode = THECAL_MODE_MINIMUM_RATE;
  ck_assert (thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  ck_assert_int_eq (plan.n_segments, 1);
  ck_assert_int_eq (plan.segments[0].basal_rate_nl_per_day, 6000);
  ck_assert_int_eq (plan.basal_nl_per_day, 6000);
  ck_assert_int_eq (plan.basal_ng_per_day, 150000);
}
END_TEST

START_TEST (test_plan_flex_wrap)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalPrescription rx;
  ThecalDeliveryPlan plan;
  ThecalDoseError err;

  /* 10 mg/mL: 06:00-22:00 at 0.3 mL/day, then 22:00-06:00 (wrapping) at 2 mg/day = 0.2 mL/day.
   * Day profile: [00:00, 06:00) 0.2, [06:00, 22:00) 0.3, [22:00, 24:00) 0.2 mL/day.
   * Basal volume = (0.2 × 8 h + 0.3 × 16 h) / 24 h = 6.4 / 24 mL = 266 666.67 nL → 266 667 nL.
   * Basal dose  = 266 666.67 nL × 10 mg/mL = 2 666 666.67 ng → 2 666 667 ng, rounded once
   * from the exact value (266 667 × 10 = 2 666 670 would be rounding twice). */
  flex_rx (&rx, 2);
  set_step (&rx, 0, 360, 960, 300000);
  rx.flex_steps[1].start_min = 1320;
  rx.flex_steps[1].duration_min = 480;
  rx.flex_steps[1].amount.basis = THECAL_BASIS_DOSE;
  rx.flex_steps[1].amount.dose_ng_per_day = MG (2);
  thecal_dose_error_clear (&err);
  ck_assert (thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  ck_assert_int_eq (plan.n_segments, 3);
  ck_assert_int_eq (plan.segments[0].start_ms_of_day, 0);
  ck_assert_int_eq (plan.segments[0].end_ms_of_day, 6 * H);
  ck_assert_int_eq (plan.segments[0].basal_rate_nl_per_day, 200000);
  ck_assert_int_eq (plan.segments[1].start_ms_of_day, 6 * H);
  ck_assert_int_eq (plan.segments[1].end_ms_of_day, 22 * H);
  ck_assert_int_eq (plan.segments[1].basal_rate_nl_per_day, 300000);
  ck_assert_int_eq (plan.segments[2].start_ms_of_day, 22 * H);
  ck_assert_int_eq (plan.segments[2].end_ms_of_day, D);
  ck_assert_int_eq (plan.segments[2].basal_rate_nl_per_day, 200000);
  ck_assert_int_eq (plan.basal_nl_per_day, 266667);
  ck_assert_int_eq (plan.basal_ng_per_day, 2666667);

  /* starting at midnight: no wrap segment */
  flex_rx (&rx, 2);
  set_step (&rx, 0, 0, 720, 100000);
  set_step (&rx, 1, 720, 720, 300000);
  ck_assert (thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  ck_assert_int_eq (plan.n_segments, 2);
  ck_assert_int_eq (plan.segments[1].start_ms_of_day, 12 * H);
  ck_assert_int_eq (plan.basal_nl_per_day, 200000);
  ck_assert_int_eq (plan.basal_ng_per_day, MG (2));

  /* 13 steps: 13 segments (no merging needed), covering the day */
  flex_rx (&rx, 13);
  for (int i = 0; i < 12; i++)
    set_step (&rx, i, 60 + i * 110, 110, 100000 + i * 1000);
  set_step (&rx, 12, 1380, 120, 50000);
  ck_assert (thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  ck_assert_int_eq (plan.n_segments, 14); /* the last step wraps: 01:00 opens the day */
  ck_assert_int_eq (plan.segments[0].end_ms_of_day, H);
  ck_assert_int_eq (plan.segments[0].basal_rate_nl_per_day, 50000);
  ck_assert_int_eq (plan.segments[13].end_ms_of_day, D);

  /* a flex step's error names the step */
  flex_rx (&rx, 2);
  set_step (&rx, 0, 0, 720, 100000);
  set_step (&rx, 1, 720, 720, INT64_MAX);
  thecal_test_expect_fails (err, thecal_delivery_plan_resolve (&rx, &m, &plan, &err), THECAL_DOSE_ERROR_OVERFLOW, "flex_steps[1].rate");
}
END_TEST

START_TEST (test_plan_boluses_and_ptm)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalPrescription rx;
  ThecalDeliveryPlan plan;
  ThecalDoseError err;

  /* 25 mg/mL, 5 mg/day, two periodic boluses of 0.5 mg over 1 h at 08:00 and 20:00, and PTM
   * 0.1 mg over 10 min, lockout 3 h, at most 4 a day.
   *   bolus: 0.5 mg / 25 mg/mL = 0.02 mL = 20 000 nL = 80 strokes of 250 nL; dose 0.5 mg
   *   PTM:   0.1 mg / 25 mg/mL = 4 000 nL = 16 strokes; worst case 4 × 4 000 = 16 000 nL, 0.4 mg
   *   total: 200 000 + 40 000 + 16 000 = 256 000 nL/day; 5 + 1 + 0.4 = 6.4 mg/day */
  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  thecal_test_add_bolus (&rx, 480, MCG (500), H);
  thecal_test_add_bolus (&rx, 1200, MCG (500), H);
  thecal_test_set_ptm (&rx, MCG (100), 10 * MIN, 3 * H, 4);
  thecal_dose_error_clear (&err);
  ck_assert (thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  ck_assert_int_eq (plan.n_boluses, 2);
  ck_assert_int_eq (plan.boluses[0].start_ms_of_day, 8 * H);
  ck_assert_int_eq (plan.boluses[0].duration_ms, H);
  ck_assert_int_eq (plan.boluses[0].volume_nl, 20000);
  ck_assert_int_eq (plan.boluses[0].dose_ng, MCG (500));
  ck_assert_int_eq (plan.boluses[1].start_ms_of_day, 20 * H);
  ck_assert (plan.ptm_enabled);
  ck_assert_int_eq (plan.ptm.volume_nl, 4000);
  ck_assert_int_eq (plan.ptm.dose_ng, MCG (100));
  ck_assert_int_eq (plan.ptm.duration_ms, 10 * MIN);
  ck_assert_int_eq (plan.ptm_lockout_ms, 3 * H);
  ck_assert_int_eq (plan.ptm_max_per_24h, 4);
  ck_assert_int_eq (plan.periodic_nl_per_day, 40000);
  ck_assert_int_eq (plan.periodic_ng_per_day, MG (1));
  ck_assert_int_eq (plan.ptm_worst_nl_per_day, 16000);
  ck_assert_int_eq (plan.ptm_worst_ng_per_day, MCG (400));
  ck_assert_int_eq (plan.total_worst_nl_per_day, 256000);
  ck_assert_int_eq (plan.total_worst_ng_per_day, 6400000);
}
END_TEST

START_TEST (test_plan_bolus_strokes)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalPrescription rx;
  ThecalDeliveryPlan plan;
  ThecalDoseError err;

  /* One stroke (250 nL) of 25 mg/mL holds 6 250 ng. Half a stroke (3 125 ng) rounds to 0
   * strokes (tie toward zero): refused, naming the field and the stroke volume. */
  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  thecal_test_add_bolus (&rx, 480, 3125, H);
  thecal_test_expect_fails (err, thecal_delivery_plan_resolve (&rx, &m, &plan, &err), THECAL_DOSE_ERROR_RANGE, "periodic_boluses[0].dose");
  ck_assert_ptr_nonnull (strstr (err.message, "0.00025 mL"));
  /* 3 126 ng → 1 stroke: 250 nL, really 6 250 ng */
  rx.periodic_boluses[0].dose_ng = 3126;
  thecal_dose_error_clear (&err);
  ck_assert (thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  ck_assert_int_eq (plan.boluses[0].volume_nl, 250);
  ck_assert_int_eq (plan.boluses[0].dose_ng, 6250);
  /* 1.5 strokes (9 375 ng) → 1 stroke; 9 376 ng → 2 strokes */
  rx.periodic_boluses[0].dose_ng = 9375;
  ck_assert (thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  ck_assert_int_eq (plan.boluses[0].volume_nl, 250);
  rx.periodic_boluses[0].dose_ng = 9376;
  ck_assert (thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  ck_assert_int_eq (plan.boluses[0].volume_nl, 500);
  ck_assert_int_eq (plan.boluses[0].dose_ng, 12500);

  /* PTM too small */
  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  thecal_test_set_ptm (&rx, 3125, 10 * MIN, 3 * H, 4);
  thecal_test_expect_fails (err, thecal_delivery_plan_resolve (&rx, &m, &plan, &err), THECAL_DOSE_ERROR_RANGE, "ptm.dose");
}
END_TEST

START_TEST (test_plan_bolus_rate_ceiling)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalPrescription rx;
  ThecalDeliveryPlan plan;
  ThecalDoseError err;

  /* 12.5 mg at 25 mg/mL = 0.5 mL. At the ceiling of 24 mL/day (1 mL/h) it takes exactly
   * 0.5 × 86 400 000 / 24 = 1 800 000 ms (30 min): allowed; 1 ms less is too fast. */
  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  thecal_test_add_bolus (&rx, 480, 12500000, 1800000);
  thecal_dose_error_clear (&err);
  ck_assert (thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  ck_assert_int_eq (plan.boluses[0].volume_nl, 500000);
  rx.periodic_boluses[0].duration_ms = 1799999;
  ck_assert (!thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  thecal_test_expect_error (&err, THECAL_DOSE_ERROR_RANGE, "periodic_boluses[0].duration");
  ck_assert_ptr_nonnull (strstr (err.message, "30 min"));

  /* the same for PTM */
  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  thecal_test_set_ptm (&rx, 12500000, 1800000, 3 * H, 4);
  thecal_dose_error_clear (&err);
  ck_assert (thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  thecal_test_set_ptm (&rx, 12500000, 1799999, 3 * H, 4);
  ck_assert (!thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  thecal_test_expect_error (&err, THECAL_DOSE_ERROR_RANGE, "ptm.duration");
}
END_TEST

START_TEST (test_plan_refusals_and_overflow)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalPrescription rx;
  ThecalDeliveryPlan plan, before;
  ThecalDoseError err;

  memset (&plan, 0x5a, sizeof plan);
  before = plan;
  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  rx.concentration_ng_per_ml = 0;
  thecal_test_expect_fails (err, thecal_delivery_plan_resolve (&rx, &m, &plan, &err), THECAL_DOSE_ERROR_RANGE, "concentration");
  ck_assert (memcmp (&plan, &before, sizeof plan) == 0); /* untouched on failure */

  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  thecal_test_expect_fails (err, thecal_delivery_plan_resolve (&rx, NULL, &plan, &err), THECAL_DOSE_ERROR_INVALID, "model");
  thecal_test_expect_fails (err, thecal_delivery_plan_resolve (&rx, &m, NULL, &err), THECAL_DOSE_ERROR_INVALID, "plan");
  m.stroke_volume_nl = 0;
  thecal_test_expect_fails (err, thecal_delivery_plan_resolve (&rx, &m, &plan, &err), THECAL_DOSE_ERROR_RANGE, "model.stroke_volume");
  m = thecal_test_tr20 ();

  /* a huge dose: its rate does not fit */
  rx = thecal_test_continuous_dose ("morphine", 1, INT64_MAX);
  thecal_test_expect_fails (err, thecal_delivery_plan_resolve (&rx, &m, &plan, &err), THECAL_DOSE_ERROR_OVERFLOW, "continuous.dose");
  /* a huge concentration with a real rate: the dose per day does not fit */
  rx = thecal_test_continuous_dose ("morphine", INT64_MAX, 0);
  rx.continuous.basis = THECAL_BASIS_RATE;
  rx.continuous.rate_nl_per_day = ML (24);
  thecal_dose_error_clear (&err);
  ck_assert (!thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  ck_assert_int_eq (err.code, THECAL_DOSE_ERROR_OVERFLOW);
  /* a huge bolus dose */
  rx = thecal_test_continuous_dose ("morphine", 1, 1);
  thecal_test_add_bolus (&rx, 0, INT64_MAX, H);
  thecal_test_expect_fails (err, thecal_delivery_plan_resolve (&rx, &m, &plan, &err), THECAL_DOSE_ERROR_OVERFLOW, "periodic_boluses[0].dose");
  /* Worst-case PTM (max × volume) cannot overflow by itself: lockout ≤ 24 h / max and
   * duration ≤ lockout make max × volume ≤ the bolus rate, which is checked. The daily total can:
   * PTM of 2 305 843 009 213 ng at 1 ng/mL (2.3 × 10^18 nL) over 6 h, 4 a day, is
   * 9.223372036852 × 10^18 nL, and 10 mL/day of basal on top leaves int64_t. */
  rx = thecal_test_continuous_dose ("morphine", 1, 0);
  rx.continuous.basis = THECAL_BASIS_RATE;
  rx.continuous.rate_nl_per_day = ML (1);
  m.bolus_rate_max_nl_per_day = INT64_MAX;
  thecal_test_set_ptm (&rx, INT64_MAX / 4 / 1000000, 6 * H, 6 * H, 4);
  thecal_dose_error_clear (&err);
  ck_assert (thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  ck_assert_int_eq (plan.ptm_worst_nl_per_day, INT64_C (9223372036852000000));
  rx.continuous.rate_nl_per_day = ML (10);
  thecal_test_expect_fails (err, thecal_delivery_plan_resolve (&rx, &m, &plan, &err), THECAL_DOSE_ERROR_OVERFLOW, "plan");
}
END_TEST

/* ---- volume between -------------------------------------------------------------------------- */

static void
resolve_or_fail (const ThecalPrescription *rx, ThecalDeliveryPlan *plan)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalDoseError err;

  thecal_dose_error_clear (&err);
  if (!thecal_delivery_plan_resolve (rx, &m, plan, &err))
    ck_abort_msg ("resolve failed: %s: %s", err.field, err.message);
}

static int64_t
volume (const ThecalDeliveryPlan *plan, int64_t t0, int64_t t1)
{
  ThecalDoseError err;
  int64_t v = -1;

  thecal_dose_error_clear (&err);
  if (!thecal_delivery_plan_volume_between (plan, t0, t1, &v, &err))
    ck_abort_msg ("volume_between (%lld, %lld) failed: %s", (long long) t0, (long long) t1, err.message);
  return v;
}

START_TEST (test_volume_continuous)
{
  ThecalPrescription rx;
  ThecalDeliveryPlan plan;
  ThecalDoseError err;
  int64_t v = 77;

  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5)); /* 200 000 nL/day */
  resolve_or_fail (&rx, &plan);
  ck_assert_int_eq (volume (&plan, 0, 0), 0);
  ck_assert_int_eq (volume (&plan, 0, D), 200000);
  ck_assert_int_eq (volume (&plan, 0, 12 * H), 100000);
  ck_assert_int_eq (volume (&plan, 0, H), 8333); /* 8 333.33 */
  ck_assert_int_eq (volume (&plan, 5 * H, 5 * H + D), 200000);
  ck_assert_int_eq (volume (&plan, -D, 0), 200000); /* before the epoch too */
  ck_assert_int_eq (volume (&plan, -D - 7, -7), 200000);
  ck_assert_int_eq (volume (&plan, 0, 90 * D), 18000000); /* 90 days: 18 mL */

  /* the rule on the exact integral: 1 000 nL/day for 43 200 ms is 0.5 nL → 0; 43 201 ms → 1 */
  rx.continuous.basis = THECAL_BASIS_RATE;
  rx.continuous.rate_nl_per_day = 1000;
  resolve_or_fail (&rx, &plan);
  ck_assert_int_eq (volume (&plan, 0, 43200), 0);
  ck_assert_int_eq (volume (&plan, 0, 43201), 1);
  ck_assert_int_eq (volume (&plan, 0, 129600), 1); /* 1.5 → 1 */
  ck_assert_int_eq (volume (&plan, 0, 129601), 2);

  /* t1 before t0 is refused */
  thecal_test_expect_fails (err, thecal_delivery_plan_volume_between (&plan, 1, 0, &v, &err), THECAL_DOSE_ERROR_RANGE, "t1");
  ck_assert_int_eq (v, 77);
  thecal_test_expect_fails (err, thecal_delivery_plan_volume_between (NULL, 0, 1, &v, &err), THECAL_DOSE_ERROR_INVALID, "plan");
  /* a plan that was never resolved is refused, not read */
  memset (&plan, 0, sizeof plan);
  thecal_test_expect_fails (err, thecal_delivery_plan_volume_between (&plan, 0, 1, &v, &err), THECAL_DOSE_ERROR_INVALID, "plan");
}
END_TEST

START_TEST (test_volume_long_intervals)
{
  ThecalPrescription rx;
  ThecalDeliveryPlan plan;
  ThecalDoseError err;
  int64_t v = 77;

  /* 24 mL/day (the highest basal rate) over the whole int64_t range of instants: 213 503 982
   * 334 days (and a fraction) × 24 mL = 5.1 × 10^18 nL, which still fits. Exact: the integral
   * is (2^64 − 1) ms × 24 000 000 nL/day / 86 400 000 ms = (2^64 − 1) × 5 / 18. */
  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), 0);
  rx.continuous.basis = THECAL_BASIS_RATE;
  rx.continuous.rate_nl_per_day = ML (24);
  resolve_or_fail (&rx, &plan);
  thecal_dose_error_clear (&err);
  ck_assert (thecal_delivery_plan_volume_between (&plan, INT64_MIN, INT64_MAX, &v, &err));
  /* (2^64 − 1) × 5 / 18 = 30 744 573 456 182 586 025 / 6 = 5 124 095 576 030 431 004 + 1/6
   * → 5 124 095 576 030 431 004 */
  ck_assert_int_eq (v, INT64_C (5124095576030431004));
  /* 100 years of days (36 525) */
  ck_assert_int_eq (volume (&plan, 0, 36525 * D), INT64_C (876600000000));

  /* a rate far above any pump (10^12 nL/day): the same interval overflows, reported */
  rx.continuous.rate_nl_per_day = INT64_C (1000000000000);
  resolve_or_fail (&rx, &plan);
  v = 77;
  thecal_test_expect_fails (err, thecal_delivery_plan_volume_between (&plan, INT64_MIN, INT64_MAX, &v, &err), THECAL_DOSE_ERROR_OVERFLOW, "t1");
  ck_assert_int_eq (v, 77);
  /* ... and a segment rate of INT64_MAX in a hand-made plan: the day integral alone is 2^89 */
  plan.segments[0].basal_rate_nl_per_day = INT64_MAX;
  thecal_test_expect_fails (err, thecal_delivery_plan_volume_between (&plan, INT64_MIN, INT64_MAX, &v, &err), THECAL_DOSE_ERROR_OVERFLOW, "t1");
  ck_assert (thecal_delivery_plan_volume_between (&plan, 0, D, &v, &err));
  ck_assert_int_eq (v, INT64_MAX);
}
END_TEST

START_TEST (test_volume_flex)
{
  ThecalPrescription rx;
  ThecalDeliveryPlan plan;

  /* the wrapping flex plan of test_plan_flex_wrap: 0.2 mL/day 22:00-06:00, 0.3 mL/day else */
  flex_rx (&rx, 2);
  set_step (&rx, 0, 360, 960, 300000);
  set_step (&rx, 1, 1320, 480, 200000);
  resolve_or_fail (&rx, &plan);
  /* 00:00-06:00 at 0.2 mL/day = 0.05 mL */
  ck_assert_int_eq (volume (&plan, 0, 6 * H), 50000);
  /* 06:00-22:00 at 0.3 mL/day = 0.2 mL */
  ck_assert_int_eq (volume (&plan, 6 * H, 22 * H), 200000);
  /* 22:00 to 06:00 the next day = 8 h at 0.2 mL/day = 0.066 666.67 mL → 66 667 nL */
  ck_assert_int_eq (volume (&plan, 22 * H, D + 6 * H), 66667);
  /* a whole day: 266 666.67 → 266 667; ten days: 2 666 666.67 → 2 666 667 (not 10 × 266 667) */
  ck_assert_int_eq (volume (&plan, 0, D), 266667);
  ck_assert_int_eq (volume (&plan, 0, 10 * D), 2666667);
  ck_assert_int_eq (volume (&plan, 3 * H, 3 * H + 10 * D), 2666667);
}
END_TEST

START_TEST (test_volume_bolus_strokes)
{
  ThecalPrescription rx;
  ThecalDeliveryPlan plan;

  /* 0.24 mL/day basal (10 000 nL/h) at 25 mg/mL and a bolus of 0.5 mg = 20 000 nL = 80 strokes
   * over 1 h at 08:00: one stroke every 45 s (3 600 000 / 80 = 45 000 ms). */
  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), 0);
  rx.continuous.basis = THECAL_BASIS_RATE;
  rx.continuous.rate_nl_per_day = 240000;
  thecal_test_add_bolus (&rx, 480, MCG (500), H);
  resolve_or_fail (&rx, &plan);
  /* 44 999 ms in: basal 240 000 × 44 999 / 86 400 000 = 124.997 → 125 nL, no stroke yet */
  ck_assert_int_eq (volume (&plan, 8 * H, 8 * H + 44999), 125);
  /* 45 000 ms in: 125 nL + 1 stroke = 375 nL */
  ck_assert_int_eq (volume (&plan, 8 * H, 8 * H + 45000), 375);
  /* half way: 5 000 nL basal + 40 strokes (10 000 nL) */
  ck_assert_int_eq (volume (&plan, 8 * H, 8 * H + 30 * MIN), 15000);
  /* the second half of the same bolus: the other 40 strokes */
  ck_assert_int_eq (volume (&plan, 8 * H + 30 * MIN, 9 * H), 15000);
  /* a bolus entirely inside: 1 h basal 10 000 + 20 000 */
  ck_assert_int_eq (volume (&plan, 7 * H, 10 * H), 30000 + 20000);
  /* a whole day: 240 000 + 20 000; any 24 h window gives the same */
  ck_assert_int_eq (volume (&plan, 0, D), 260000);
  ck_assert_int_eq (volume (&plan, 8 * H + 12345, D + 8 * H + 12345), 260000);
  ck_assert_int_eq (volume (&plan, -5 * D, 5 * D), 2600000);
}
END_TEST

START_TEST (test_volume_bolus_wrap)
{
  ThecalPrescription rx;
  ThecalDeliveryPlan plan;

  /* a bolus at 23:30 for 1 h (80 strokes, one every 45 s) wraps past midnight: 00:00-00:30
   * holds the second half of the previous day's bolus, 40 strokes = 10 000 nL, plus basal
   * 0.24 mL/day × 30 min = 5 000 nL. */
  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), 0);
  rx.continuous.basis = THECAL_BASIS_RATE;
  rx.continuous.rate_nl_per_day = 240000;
  thecal_test_add_bolus (&rx, 1410, MCG (500), H);
  resolve_or_fail (&rx, &plan);
  ck_assert_int_eq (volume (&plan, 0, 30 * MIN), 15000);
  ck_assert_int_eq (volume (&plan, 23 * H + 30 * MIN, D), 15000);
  ck_assert_int_eq (volume (&plan, 23 * H + 30 * MIN, D + 30 * MIN), 30000);
  ck_assert_int_eq (volume (&plan, 30 * MIN, 23 * H + 30 * MIN), 230000);
  ck_assert_int_eq (volume (&plan, 0, D), 260000);
  /* 7 days from any instant */
  ck_assert_int_eq (volume (&plan, 23 * H + 45 * MIN, 7 * D + 23 * H + 45 * MIN), 7 * 260000);
}
END_TEST

/* ---- the property test ----------------------------------------------------------------------- */

static uint64_t lcg_state; /* seeded by the property test, one seed per case */

static void
random_amount (ThecalDailyAmount *amount)
{
  if (thecal_test_rnd_below (&lcg_state, 2) == 0)
    {
      amount->basis = THECAL_BASIS_DOSE;
      amount->dose_ng_per_day = 1 + thecal_test_rnd_below (&lcg_state, MG (30));
    }
  else
    {
      amount->basis = THECAL_BASIS_RATE;
      amount->rate_nl_per_day = 1 + thecal_test_rnd_below (&lcg_state, ML (24));
    }
}

static void
random_rx (ThecalPrescription *rx)
{
  static const int64_t concentrations[] = { 100000, 500000, MG_PER_ML (1), MG_PER_ML (2), MG_PER_ML (3),
                                            MG_PER_ML (7), MG_PER_ML (10), MG_PER_ML (25) };
  int32_t starts[THECAL_PERIODIC_BOLUSES_MAX];
  int n;

  thecal_prescription_init (rx);
  snprintf (rx->drug_id, sizeof rx->drug_id, "morphine");
  rx->concentration_ng_per_ml = concentrations[thecal_test_rnd_below (&lcg_state, 8)];
  switch (thecal_test_rnd_below (&lcg_state, 4))
    {
    case 0:
      rx->mode = THECAL_MODE_CONTINUOUS;
      random_amount (&rx->continuous);
      break;
    case 1:
      rx->mode = THECAL_MODE_MINIMUM_RATE;
      break;
    default:
      {
        int32_t flex_starts[THECAL_FLEX_STEPS_MAX];

        rx->mode = THECAL_MODE_FLEX;
        n = 1 + (int) thecal_test_rnd_below (&lcg_state, THECAL_FLEX_STEPS_MAX);
        rx->n_flex_steps = n;
        thecal_test_rnd_sorted_distinct (&lcg_state, flex_starts, n, THECAL_MINUTES_PER_DAY);
        for (int i = 0; i < n; i++)
          {
            int32_t next = i + 1 < n ? flex_starts[i + 1] : flex_starts[0] + THECAL_MINUTES_PER_DAY;

            rx->flex_steps[i].start_min = flex_starts[i];
            rx->flex_steps[i].duration_min = next - flex_starts[i];
            random_amount (&rx->flex_steps[i].amount);
          }
      }
      break;
    }

  n = (int) thecal_test_rnd_below (&lcg_state, 5);
  if (thecal_test_rnd_below (&lcg_state, 20) == 0)
    n = THECAL_PERIODIC_BOLUSES_MAX;
  thecal_test_rnd_sorted_distinct (&lcg_state, starts, n, THECAL_MINUTES_PER_DAY);
  for (int i = 0; i < n; i++)
    {
      int32_t next = i + 1 < n ? starts[i + 1] : starts[0] + THECAL_MINUTES_PER_DAY;
      int64_t gap_ms = (next - starts[i]) * MIN;
      /* 200..12 499 nL: 1 to 50 strokes, which at most 24 mL/day takes 45 000 ms */
      int64_t volume_nl = 200 + thecal_test_rnd_below (&lcg_state, 12300);
      ThecalPeriodicBolus *b = &rx->periodic_boluses[i];

      b->start_min = starts[i];
      b->dose_ng = volume_nl * rx->concentration_ng_per_ml / 1000000;
      b->duration_ms = 45000 + thecal_test_rnd_below (&lcg_state, gap_ms - 45000 + 1);
    }
  rx->n_periodic_boluses = n;

  if (thecal_test_rnd_below (&lcg_state, 2) == 0)
    {
      rx->ptm.enabled = true;
      rx->ptm.dose_ng = (200 + thecal_test_rnd_below (&lcg_state, 12300)) * rx->concentration_ng_per_ml / 1000000;
      rx->ptm.duration_ms = 45000 + thecal_test_rnd_below (&lcg_state, H);
      rx->ptm.lockout_ms = rx->ptm.duration_ms + thecal_test_rnd_below (&lcg_state, 4 * H);
      rx->ptm.max_per_24h = 1 + (int32_t) thecal_test_rnd_below (&lcg_state, D / rx->ptm.lockout_ms < 96 ? D / rx->ptm.lockout_ms : 96);
    }
}

static int64_t
day_integral (const ThecalDeliveryPlan *plan)
{
  int64_t sum = 0;

  /* rates ≤ 300 mL/day here (30 mg/day at 0.1 mg/mL): 3 × 10^8 × 8.64 × 10^7 < 2^63 in all */
  for (int i = 0; i < plan->n_segments; i++)
    sum += plan->segments[i].basal_rate_nl_per_day * (plan->segments[i].end_ms_of_day - plan->segments[i].start_ms_of_day);
  return sum;
}

START_TEST (test_volume_property)
{
  int exact_days_checked = 0;

  for (uint64_t seed = 0; seed < 10000; seed++)
    {
      ThecalPrescription rx;
      ThecalDeliveryPlan plan;
      int64_t a, b, c, vab, vbc, vac, daily, n_days, k, whole, rounded, integral, sum;

      lcg_state = seed * UINT64_C (2654435761) + 12345;
      random_rx (&rx);
      resolve_or_fail (&rx, &plan);
      integral = day_integral (&plan);
      daily = plan.basal_nl_per_day + plan.periodic_nl_per_day;

      /* the totals: basal is the day integral rounded once; nL totals add exactly; the total
       * dose is rounded once, so it is within 1 ng of the sum of the rounded parts */
      ck_assert (thecal_muldiv_i64 (integral, 1, D, THECAL_ROUND_NEAREST_HALF_DOWN, &rounded));
      ck_assert_int_eq (plan.basal_nl_per_day, rounded);
      ck_assert_int_eq (plan.total_worst_nl_per_day, daily + plan.ptm_worst_nl_per_day);
      sum = plan.basal_ng_per_day + plan.periodic_ng_per_day + plan.ptm_worst_ng_per_day;
      ck_assert_int_le (plan.total_worst_ng_per_day - sum, 1);
      ck_assert_int_ge (plan.total_worst_ng_per_day - sum, -1);

      /* additivity: a ≤ b ≤ c anywhere within ±50 years, spans up to ~400 days */
      a = thecal_test_rnd_below (&lcg_state, 100 * 366 * D) - 50 * 366 * D;
      b = a + (thecal_test_rnd_below (&lcg_state, 2) == 0 ? thecal_test_rnd_below (&lcg_state, 3 * D) : thecal_test_rnd_below (&lcg_state, 400 * D));
      c = b + (thecal_test_rnd_below (&lcg_state, 2) == 0 ? thecal_test_rnd_below (&lcg_state, D) : thecal_test_rnd_below (&lcg_state, 400 * D));
      vab = volume (&plan, a, b);
      vbc = volume (&plan, b, c);
      vac = volume (&plan, a, c);
      ck_assert_msg (vab + vbc - vac <= 1 && vab + vbc - vac >= -1,
                     "seed %llu: V(a,b) %lld + V(b,c) %lld vs V(a,c) %lld", (unsigned long long) seed,
                     (long long) vab, (long long) vbc, (long long) vac);

      /* any 24 h window delivers the daily volume exactly */
      ck_assert_int_eq (volume (&plan, a, a + D), daily);

      /* whole days: the exact integral × days rounded once, plus whole bolus volumes; equal to
       * days × the daily volume whenever the day's basal volume is a whole number of nL */
      n_days = 1 + thecal_test_rnd_below (&lcg_state, 5000);
      k = thecal_test_rnd_below (&lcg_state, 20000) - 10000;
      whole = volume (&plan, k * D, (k + n_days) * D);
      ck_assert (thecal_muldiv_i64 (n_days, integral, D, THECAL_ROUND_NEAREST_HALF_DOWN, &rounded));
      ck_assert_int_eq (whole, rounded + n_days * plan.periodic_nl_per_day);
      if (integral % D == 0)
        {
          ck_assert_int_eq (whole, n_days * daily);
          exact_days_checked++;
        }
    }
  /* continuous and minimum-rate plans always have a whole daily volume */
  ck_assert_int_gt (exact_days_checked, 4000);
}
END_TEST

/* ---- names ----------------------------------------------------------------------------------- */

START_TEST (test_mode_names)
{
  ThecalMode mode = THECAL_MODE_N_MODES;

  ck_assert_str_eq (thecal_mode_name (THECAL_MODE_STOPPED), "stopped");
  ck_assert_str_eq (thecal_mode_name (THECAL_MODE_CONTINUOUS), "continuous");
  ck_assert_str_eq (thecal_mode_name (THECAL_MODE_FLEX), "flex");
  ck_assert_str_eq (thecal_mode_name (THECAL_MODE_MINIMUM_RATE), "minimum_rate");
  ck_assert_str_eq (thecal_mode_name (THECAL_MODE_N_MODES), "unknown");
  for (int m = 0; m < THECAL_MODE_N_MODES; m++)
    {
      ck_assert (thecal_mode_from_name (thecal_mode_name ((ThecalMode) m), &mode));
      ck_assert_int_eq (mode, m);
    }
  mode = THECAL_MODE_FLEX;
  ck_assert (!thecal_mode_from_name ("Continuous", &mode));
  ck_assert (!thecal_mode_from_name ("unknown", &mode));
  ck_assert (!thecal_mode_from_name ("", &mode));
  ck_assert (!thecal_mode_from_name (NULL, &mode));
  ck_assert_int_eq (mode, THECAL_MODE_FLEX);
}
END_TEST

START_TEST (test_messages_name_values)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalPrescription rx;
  ThecalDeliveryPlan plan;
  ThecalDoseError err;
  int64_t rate;

  /* every message names the field, the offending value (ISMP text) and the limit */
  thecal_dose_error_clear (&err);
  ck_assert (!thecal_rate_for_dose (&m, MG_PER_ML (25), -MG (1), &rate, NULL, &err));
  ck_assert_str_eq (err.message, "dose -1 mg/day is negative: a dose must be 0 or more.");
  thecal_dose_error_clear (&err);
  ck_assert (!thecal_rate_for_dose (&m, 0, MG (1), &rate, NULL, &err));
  ck_assert_str_eq (err.message, "concentration 0 mcg/mL is not above 0: a drug must have a positive concentration.");

  flex_rx (&rx, 2);
  set_step (&rx, 0, 0, 481, 100000);
  set_step (&rx, 1, 480, 960, 200000);
  thecal_dose_error_clear (&err);
  ck_assert (!thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  ck_assert_str_eq (err.message, "flex_steps[1] starts at 08:00, before flex_steps[0] ends at 08:01: steps must not overlap.");
  set_step (&rx, 0, 0, 470, 100000);
  thecal_dose_error_clear (&err);
  ck_assert (!thecal_prescription_validate (&rx, &err));
  ck_assert_str_eq (err.message, "flex_steps[0] ends at 07:50 but flex_steps[1] starts at 08:00: the steps must cover the whole day without a gap.");
  set_step (&rx, 0, 0, 480, 100000);
  set_step (&rx, 1, 480, 961, 200000);
  thecal_dose_error_clear (&err);
  ck_assert (!thecal_prescription_validate (&rx, &err));
  ck_assert_str_eq (err.message, "flex_steps[1] ends at 00:01 the next day, after flex_steps[0] starts again at 00:00 the next day: steps must not overlap.");

  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  thecal_test_add_bolus (&rx, 1410, MCG (500), H);
  thecal_test_add_bolus (&rx, 29, MCG (500), MIN);
  thecal_dose_error_clear (&err);
  ck_assert (!thecal_prescription_validate (&rx, &err));
  ck_assert_str_eq (err.message, "periodic_boluses[1] at 00:29 overlaps periodic_boluses[0] (23:30 for 1 h): periodic boluses must not overlap.");

  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  thecal_test_add_bolus (&rx, 480, 3125, H);
  thecal_dose_error_clear (&err);
  ck_assert (!thecal_delivery_plan_resolve (&rx, &m, &plan, &err));
  ck_assert_str_eq (err.message, "periodic_boluses[0].dose 3.125 mcg at 25 mg/mL rounds to 0 strokes of 0.00025 mL: the smallest bolus the pump can deliver is one stroke (6.25 mcg).");

  rx = thecal_test_continuous_dose ("morphine", MG_PER_ML (25), MG (5));
  thecal_test_set_ptm (&rx, MCG (100), 10 * MIN, 3 * H, 9);
  thecal_dose_error_clear (&err);
  ck_assert (!thecal_prescription_validate (&rx, &err));
  ck_assert_str_eq (err.message, "ptm.max_per_24h 9 is out of range: with a lockout of 3 h it must be 1 to 8.");
}
END_TEST

/* The hand-built TR-20 and TR-40 these tests use are the models data/pump-models.json ships. */
START_TEST (test_models_are_the_shipped_ones)
{
  thecal_test_expect_models_match_data_file ();
}
END_TEST

static Suite *
prescription_suite (void)
{
  Suite *s = suite_create ("prescription");
  TCase *tc = tcase_create ("rate");

  tcase_add_test (tc, test_rate_worked_example);
  tcase_add_test (tc, test_rate_rounding_rule);
  tcase_add_test (tc, test_rate_refusals);
  tcase_add_test (tc, test_rate_overflow);
  suite_add_tcase (s, tc);

  tc = tcase_create ("validate");
  tcase_add_test (tc, test_validate_basics);
  tcase_add_test (tc, test_validate_amounts);
  tcase_add_test (tc, test_validate_flex_counts);
  tcase_add_test (tc, test_validate_flex_single_and_ranges);
  tcase_add_test (tc, test_validate_flex_order_overlap_gap_wrap);
  tcase_add_test (tc, test_validate_periodic);
  tcase_add_test (tc, test_validate_ptm);
  suite_add_tcase (s, tc);

  tc = tcase_create ("plan");
  tcase_add_test (tc, test_plan_continuous);
  tcase_add_test (tc, test_plan_stopped_and_minimum);
  tcase_add_test (tc, test_plan_flex_wrap);
  tcase_add_test (tc, test_plan_boluses_and_ptm);
  tcase_add_test (tc, test_plan_bolus_strokes);
  tcase_add_test (tc, test_plan_bolus_rate_ceiling);
  tcase_add_test (tc, test_plan_refusals_and_overflow);
  suite_add_tcase (s, tc);

  tc = tcase_create ("volume");
  tcase_add_test (tc, test_volume_continuous);
  tcase_add_test (tc, test_volume_long_intervals);
  tcase_add_test (tc, test_volume_flex);
  tcase_add_test (tc, test_volume_bolus_strokes);
  tcase_add_test (tc, test_volume_bolus_wrap);
  tcase_add_test (tc, test_volume_property);
  suite_add_tcase (s, tc);

  tc = tcase_create ("names");
  tcase_add_test (tc, test_mode_names);
  tcase_add_test (tc, test_models_are_the_shipped_ones);
  tcase_add_test (tc, test_messages_name_values);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (prescription_suite)
