/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-engine-battery.c: the battery model's two calibration points (CLINICAL.md §1.7: 7 years
 * at no delivery, about 5 years at 1 mL/day), ERI 90 days before EOS, and the drain fault.
 *
 * TR-20: L = 2 555 days. Per ms 9 125 units; per nL 432 × (2 555 − 1 825) = 315 360 units;
 * capacity 9 125 × 86 400 000 × 2 555 = 2 014 362 000 000 000 units.
 */
#include "config.h"

#include "engine-test-util.h"
#include "thecal-test.h"

static ThecalPumpModel model;

static void
setup (void)
{
  model = thecal_test_tr_model (20);
}

START_TEST (test_constants)
{
  ThecalEngine *engine = test_engine_new (&model);
  ThecalEngineStatus st = test_status (engine);

  ck_assert_int_eq (st.battery_capacity, INT64_C (2014362000000000));
  ck_assert_int_eq (engine->battery_per_nl, 315360);
  /* stopped: 9 125 × 86 400 000 a day; 2 555 days left */
  ck_assert_int_eq (st.battery_drain_per_day, INT64_C (788400000000));
  ck_assert_int_eq (st.battery_days_left, 2555);
  free (engine);
}
END_TEST

START_TEST (test_service_life_at_no_delivery)
{
  ThecalEngine *engine = test_engine_new (&model);
  ThecalEngineStatus st;

  /* a stopped pump drains its base only: ERI exactly 90 days before the 2 555th day, EOS on it */
  test_advance (engine, T0 + 3000 * DAY);
  st = test_status (engine);
  ck_assert (st.eri && st.eos);
  ck_assert_int_eq (st.alarms[THECAL_ALARM_ERI].raised_at_pump_ms, T0 + 2465 * DAY);
  ck_assert_int_eq (st.alarms[THECAL_ALARM_EOS].raised_at_pump_ms, T0 + 2555 * DAY);
  ck_assert_int_eq (st.battery_remaining, 0);
  ck_assert_int_eq (test_count_events (engine, THECAL_EVENT_ALARM_RAISED, THECAL_ALARM_ERI), 1);
  free (engine);
}
END_TEST

/* Keeps the reservoir full so that delivery never stops (a refill every 15 days). */
static void
run_refilled (ThecalEngine *engine, int64_t until)
{
  for (int64_t t = thecal_engine_true_ms (engine); t < until;)
    {
      t += 15 * DAY;
      if (t > until)
        t = until;
      test_advance (engine, t);
      if (!test_status (engine).eos)
        ck_assert (thecal_engine_set_reservoir (engine, 20 * ML, "morphine", CONC, -1, NULL));
    }
}

START_TEST (test_five_years_at_one_ml_per_day)
{
  ThecalEngine *engine = test_engine_new (&model);
  ThecalPrescription rx;
  ThecalEngineStatus st;

  test_rx_continuous_rate (&rx, CONC, ML); /* 1 mL/day: 4 000 strokes a day, one every 21 600 ms */
  test_set_rx (engine, &rx);
  st = test_status (engine);
  /* 788 400 000 000 + 315 360 × 1 000 000 = 1 103 760 000 000 a day: 1 825 days */
  ck_assert_int_eq (st.battery_drain_per_day, INT64_C (1103760000000));
  ck_assert_int_eq (st.battery_days_left, 1825);
  run_refilled (engine, T0 + 1900 * DAY);
  st = test_status (engine);
  /* the last unit goes with stroke 7 300 000, made at exactly 1 825 days */
  ck_assert_int_eq (st.alarms[THECAL_ALARM_EOS].raised_at_pump_ms, T0 + 1825 * DAY);
  ck_assert_int_eq (st.alarms[THECAL_ALARM_ERI].raised_at_pump_ms, T0 + 1735 * DAY);
  ck_assert_int_eq (st.strokes_total, INT64_C (7300000));
  free (engine);
}
END_TEST

START_TEST (test_eri_ninety_days_before_eos_flex)
{
  ThecalEngine *engine = test_engine_new (&model);
  ThecalPrescription rx;
  ThecalEngineStatus st;
  int64_t gap;

  thecal_prescription_init (&rx);
  strcpy (rx.drug_id, "morphine");
  rx.concentration_ng_per_ml = CONC;
  rx.mode = THECAL_MODE_FLEX;
  rx.n_flex_steps = 3;
  rx.flex_steps[0] = (ThecalFlexStep){ 120, 600, { THECAL_BASIS_RATE, 0, 900000 } };
  rx.flex_steps[1] = (ThecalFlexStep){ 720, 300, { THECAL_BASIS_RATE, 0, 2000000 } };
  rx.flex_steps[2] = (ThecalFlexStep){ 1020, 540, { THECAL_BASIS_RATE, 0, 300000 } }; /* wraps */
  rx.n_periodic_boluses = 1;
  rx.periodic_boluses[0] = (ThecalPeriodicBolus){ 600, 2 * MG, HOUR };
  test_set_rx (engine, &rx);
  run_refilled (engine, T0 + 2000 * DAY);
  st = test_status (engine);
  ck_assert (st.eos);
  /* ERI at 90 days of the day's drain: over whole days the drain is exactly periodic, so EOS
   * comes 90 days later, to within one stroke's time (here under 2 min at the slowest step) */
  gap = st.alarms[THECAL_ALARM_EOS].raised_at_pump_ms - st.alarms[THECAL_ALARM_ERI].raised_at_pump_ms;
  ck_assert_int_le (gap, 90 * DAY + 2 * MINUTE);
  ck_assert_int_ge (gap, 90 * DAY - 2 * MINUTE);
  free (engine);
}
END_TEST

START_TEST (test_half_battery_and_drain_fault)
{
  ThecalEngine *engine = calloc (1, sizeof *engine);
  ThecalEngineConfig config;
  ThecalEngineStatus st;

  thecal_engine_config_init (&config);
  config.model = &model;
  config.start_local_ms = T0;
  config.battery_bp = 5000; /* half used */
  ck_assert (thecal_engine_init (engine, &config, NULL));
  ck_assert_int_eq (test_status (engine).battery_bp, 5000);
  /* twice the drain: the remaining 1 277.5 days of base drain go in 638.75 days */
  test_fault (engine, THECAL_FAULT_BATTERY_DRAIN, 20000, 0, 0);
  ck_assert_int_eq (test_status (engine).battery_drain_per_day, 2 * INT64_C (788400000000));
  test_advance (engine, T0 + 700 * DAY);
  st = test_status (engine);
  ck_assert_int_eq (st.alarms[THECAL_ALARM_EOS].raised_at_pump_ms, T0 + 638 * DAY + 18 * HOUR);
  ck_assert_int_eq (st.alarms[THECAL_ALARM_ERI].raised_at_pump_ms, T0 + 548 * DAY + 18 * HOUR);
  free (engine);
}
END_TEST

START_TEST (test_drain_remainder_is_exact)
{
  ThecalEngine *a = test_engine_new (&model);
  ThecalEngine *b = test_engine_new (&model);

  /* 3 / 7 of nominal: 9 125 × 3 / 7 per ms is not whole; the carry makes any cut exact */
  test_fault (a, THECAL_FAULT_BATTERY_DRAIN, 4286, 0, 0);
  test_fault (b, THECAL_FAULT_BATTERY_DRAIN, 4286, 0, 0);
  test_advance (a, T0 + 100 * DAY + 12345);
  for (int64_t t = T0; t < T0 + 100 * DAY + 12345; t += 7 * HOUR + 13)
    test_advance (b, t);
  test_advance (b, T0 + 100 * DAY + 12345);
  ck_assert_int_eq (test_status (a).battery_remaining, test_status (b).battery_remaining);
  /* used = floor (9 125 × ms × 4 286 / 10 000) */
  ck_assert_int_eq (test_status (a).battery_capacity - test_status (a).battery_remaining,
                    (int64_t) ((__int128) 9125 * (100 * DAY + 12345) * 4286 / 10000));
  free (a);
  free (b);
}
END_TEST

static Suite *
battery_suite (void)
{
  Suite *s = suite_create ("engine-battery");
  TCase *tc = tcase_create ("battery");

  tcase_add_checked_fixture (tc, setup, NULL);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_constants);
  tcase_add_test (tc, test_service_life_at_no_delivery);
  tcase_add_test (tc, test_five_years_at_one_ml_per_day);
  tcase_add_test (tc, test_eri_ninety_days_before_eos_flex);
  tcase_add_test (tc, test_half_battery_and_drain_fault);
  tcase_add_test (tc, test_drain_remainder_is_exact);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (battery_suite)
