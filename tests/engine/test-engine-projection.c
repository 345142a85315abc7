/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-engine-projection.c: the engine run over days with PTM press patterns (the series behind
 * `thecal-cli simulate`), and its agreement with the dose core's reservoir projection.
 */
#include "config.h"

#include "engine-test-util.h"
#include "thecal-engine-projection.h"
#include "thecal-refill.h"
#include "thecal-test.h"

static ThecalPumpModel model;

static void
setup (void)
{
  model = thecal_test_tr_model (20);
}

static void
rx_with_ptm (ThecalPrescription *rx)
{
  test_rx_continuous_rate (rx, CONC, 200000);
  rx->ptm.enabled = true;
  rx->ptm.dose_ng = 250000; /* 10 µL */
  rx->ptm.duration_ms = 10 * MINUTE;
  rx->ptm.lockout_ms = 3 * HOUR;
  rx->ptm.max_per_24h = 6;
}

START_TEST (test_pattern_parse)
{
  ThecalPtmPattern p;
  ThecalDoseError error;

  ck_assert (thecal_ptm_pattern_parse ("08:00,12:30,20:00", &p, NULL));
  ck_assert_int_eq (p.kind, THECAL_PTM_PATTERN_TIMES);
  ck_assert_int_eq (p.n_times, 3);
  ck_assert_int_eq (p.minutes[0], 480);
  ck_assert_int_eq (p.minutes[1], 750);
  ck_assert_int_eq (p.minutes[2], 1200);
  ck_assert (thecal_ptm_pattern_parse ("worst", &p, NULL));
  ck_assert_int_eq (p.kind, THECAL_PTM_PATTERN_WORST_CASE);
  ck_assert (thecal_ptm_pattern_parse ("none", &p, NULL));
  ck_assert_int_eq (p.kind, THECAL_PTM_PATTERN_NONE);
  memset (&error, 0, sizeof error);
  ck_assert (!thecal_ptm_pattern_parse ("12:00,08:00", &p, &error));
  ck_assert_int_eq (error.code, THECAL_DOSE_ERROR_INVALID);
  ck_assert (!thecal_ptm_pattern_parse ("12:00,12:00", &p, NULL));
  ck_assert (!thecal_ptm_pattern_parse ("24:00", &p, NULL));
  ck_assert (!thecal_ptm_pattern_parse ("8 o'clock", &p, NULL));
  ck_assert (!thecal_ptm_pattern_parse ("08:00,", &p, NULL));
  ck_assert (!thecal_ptm_pattern_parse ("00:00,01:00,02:00,03:00,04:00,05:00,06:00,07:00,08:00,09:00,10:00,11:00,"
                                        "12:00,13:00,14:00,15:00,16:00,17:00,18:00,19:00,20:00,21:00,22:00,23:00,23:30",
                                        &p, NULL)); /* 25 times */
}
END_TEST

START_TEST (test_daily_series)
{
  ThecalEngine *engine = test_engine_new (&model);
  ThecalPrescription rx;
  ThecalEngineSample samples[100];
  ThecalEngineRunSummary summary;
  ThecalDoseError error;

  test_rx_continuous_rate (&rx, CONC, 200000);
  test_set_rx (engine, &rx);
  memset (&error, 0, sizeof error);
  ck_assert_msg (thecal_engine_run (engine, DAY, 100, NULL, samples, &summary, &error), "%s", error.message);
  for (int i = 0; i < 95; i++)
    {
      ck_assert_int_eq (samples[i].start_true_ms, T0 + i * DAY);
      ck_assert_int_eq (samples[i].delivered_nl, 200000);
      ck_assert_int_eq (samples[i].delivered_ng, 5 * MG);
      ck_assert_int_eq (samples[i].reservoir_estimate_nl, 20 * ML - (i + 1) * 200000);
    }
  /* low reservoir at 18 mL (day 90), empty at 19 mL (day 95): the bits and the first times */
  ck_assert (samples[89].alarms_raised & (1u << THECAL_ALARM_LOW_RESERVOIR));
  ck_assert (!(samples[88].alarms_raised & (1u << THECAL_ALARM_LOW_RESERVOIR)));
  ck_assert (samples[94].alarms_raised & (1u << THECAL_ALARM_RESERVOIR_EMPTY));
  ck_assert (samples[99].alarms_active & (1u << THECAL_ALARM_RESERVOIR_EMPTY));
  ck_assert_int_eq (samples[99].delivered_nl, 0);
  ck_assert_int_eq (summary.first_raised_pump_ms[THECAL_ALARM_LOW_RESERVOIR], T0 + 90 * DAY);
  ck_assert_int_eq (summary.first_raised_pump_ms[THECAL_ALARM_RESERVOIR_EMPTY], T0 + 95 * DAY);
  ck_assert_int_eq (summary.first_raised_pump_ms[THECAL_ALARM_EOS], INT64_MAX);
  ck_assert_int_eq (summary.delivered_nl, 19 * ML);
  /* the events of each period are its own */
  ck_assert_int_eq (samples[89].next_seq - samples[89].first_seq, 1);
  ck_assert_int_eq (samples[1].next_seq - samples[1].first_seq, 0);
  free (engine);
}
END_TEST

START_TEST (test_press_times)
{
  ThecalEngine *engine = test_engine_new (&model);
  ThecalPrescription rx;
  ThecalPtmPattern pattern;
  ThecalEngineSample samples[48];
  ThecalEngineRunSummary summary;

  rx_with_ptm (&rx);
  test_set_rx (engine, &rx);
  /* 08:00 and 09:00 (inside the 3 h lockout), 13:00, 18:00 */
  ck_assert (thecal_ptm_pattern_parse ("08:00,09:00,13:00,18:00", &pattern, NULL));
  ck_assert (thecal_engine_run (engine, DAY, 10, &pattern, samples, &summary, NULL));
  for (int i = 0; i < 10; i++)
    {
      ck_assert_int_eq (samples[i].ptm_granted, 3);
      ck_assert_int_eq (samples[i].ptm_refused, 1);
      ck_assert_int_eq (samples[i].delivered_nl, 200000 + 3 * 10000);
    }
  ck_assert_int_eq (summary.ptm_granted, 30);
  ck_assert_int_eq (summary.ptm_refused, 10);
  ck_assert_int_eq (test_count_events (engine, THECAL_EVENT_PTM_REFUSED, THECAL_PTM_REFUSED_LOCKOUT), 10);
  /* hourly periods: the 08:00 bolus (10 min) falls in the 08:00–09:00 hour */
  ck_assert (thecal_engine_run (engine, HOUR, 24, &pattern, samples, &summary, NULL));
  ck_assert_int_eq (samples[8].ptm_granted, 1);
  /* 08:00–09:00 holds basal strokes 267 to 300 of the day (34) and the 40 of the PTM bolus */
  ck_assert_int_eq (samples[8].pumped_nl, 34 * 250 + 10000);
  ck_assert_int_eq (samples[9].ptm_refused, 1);
  free (engine);
}
END_TEST

START_TEST (test_worst_case_presses)
{
  ThecalEngine *engine = test_engine_new_with (&model, 12 * ML, CONC, true, 1);
  ThecalPrescription rx;
  ThecalPtmPattern pattern;
  ThecalEngineSample samples[60];
  ThecalEngineRunSummary summary;
  ThecalDeliveryPlan plan;
  ThecalProjection projection;
  ThecalDoseError error;

  rx_with_ptm (&rx);
  test_set_rx (engine, &rx);
  ck_assert (thecal_ptm_pattern_parse ("worst", &pattern, NULL));
  ck_assert (thecal_engine_run (engine, DAY, 60, &pattern, samples, &summary, NULL));
  /* a 3 h lockout allows 8 a day, the maximum is 6: every day 6, none refused */
  for (int i = 0; i < 38; i++)
    {
      ck_assert_int_eq (samples[i].ptm_granted, 6);
      ck_assert_int_eq (samples[i].ptm_refused, 0);
    }
  /* worst case 0.2 + 6 × 0.01 = 0.26 mL/day: low at 10 mL (38.5 days), empty at 11 mL (42.3 days). The dose core front-loads each day's PTM at
   * midnight, so its dates are the earliest possible; the engine's come no earlier. */
  memset (&error, 0, sizeof error);
  ck_assert (thecal_delivery_plan_resolve (&rx, &model, &plan, &error));
  ck_assert (thecal_project_reservoir (&model, &plan, 12 * ML, T0, 90, &projection, &error));
  ck_assert_int_le (projection.low_alarm_worst_local_ms, summary.first_raised_pump_ms[THECAL_ALARM_LOW_RESERVOIR]);
  ck_assert_int_le (projection.empty_worst_local_ms, summary.first_raised_pump_ms[THECAL_ALARM_RESERVOIR_EMPTY]);
  /* and within a day of it: the engine spreads the 6 presses over the day (3 h apart) */
  ck_assert_int_lt (summary.first_raised_pump_ms[THECAL_ALARM_LOW_RESERVOIR], projection.low_alarm_worst_local_ms + DAY);
  ck_assert_int_lt (summary.first_raised_pump_ms[THECAL_ALARM_RESERVOIR_EMPTY], projection.empty_worst_local_ms + DAY);
  /* once empty, the presses are refused (once a day) */
  ck_assert_int_eq (samples[59].ptm_granted, 0);
  ck_assert_int_eq (samples[59].ptm_refused, 1);
  free (engine);
}
END_TEST

START_TEST (test_run_refusals)
{
  ThecalEngine *engine = test_engine_new (&model);
  ThecalDoseError error;

  memset (&error, 0, sizeof error);
  ck_assert (!thecal_engine_run (engine, 0, 1, NULL, NULL, NULL, &error));
  ck_assert (!thecal_engine_run (engine, DAY, -1, NULL, NULL, NULL, NULL));
  ck_assert (!thecal_engine_run (engine, 367 * DAY, 1, NULL, NULL, NULL, NULL));
  ck_assert (thecal_engine_run (engine, DAY, 0, NULL, NULL, NULL, NULL));
  ck_assert (!thecal_engine_run (NULL, DAY, 1, NULL, NULL, NULL, NULL));
  free (engine);
}
END_TEST

static Suite *
projection_suite (void)
{
  Suite *s = suite_create ("engine-projection");
  TCase *tc = tcase_create ("projection");

  tcase_add_checked_fixture (tc, setup, NULL);
  tcase_add_test (tc, test_pattern_parse);
  tcase_add_test (tc, test_daily_series);
  tcase_add_test (tc, test_press_times);
  tcase_add_test (tc, test_worst_case_presses);
  tcase_add_test (tc, test_run_refusals);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (projection_suite)
