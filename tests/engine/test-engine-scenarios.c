/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-engine-scenarios.c: the hazards of CLINICAL.md reproduced on the reference pump
 * (docs/engine.md "Scenarios"):
 *   1. +20 % over-infusion empties the reservoir before the computed low-reservoir alarm
 *      (Medtronic FA596: the alarm is computed from the programmed rate, §1.5);
 *   2. a motor stall stops delivery and raises a critical alarm (§1.7);
 *   3. PTM presses inside the lockout are refused and logged (§1.8, §2.1);
 *   4. ERI comes 90 days before EOS (§1.7);
 *   5. a concentration change without a bridge bolus delivers the old drug at the new rate for
 *      exactly the dead-space volume (§1.4).
 */
#include "config.h"

#include "engine-test-util.h"
#include "thecal-bolus.h"
#include "thecal-refill.h"
#include "thecal-test.h"

static ThecalPumpModel model;

static void
setup (void)
{
  model = thecal_test_tr_model (20);
}

START_TEST (test_overinfusion_empties_before_low_alarm)
{
  ThecalEngine *engine = test_engine_new (&model);
  ThecalPrescription rx;
  ThecalDeliveryPlan plan;
  ThecalProjection projection;
  ThecalDoseError error;
  ThecalEngineStatus st;
  ThecalPtmOutcome outcome;
  int64_t empty_at;

  /* 5 mg/day of 25 mg/mL: 0.2 mL/day, 800 strokes a day */
  test_rx_continuous_rate (&rx, CONC, 200000);
  rx.ptm.enabled = true;
  rx.ptm.dose_ng = 250000;
  rx.ptm.duration_ms = 10 * MINUTE;
  rx.ptm.lockout_ms = HOUR;
  rx.ptm.max_per_24h = 4;
  test_set_rx (engine, &rx);
  test_fault (engine, THECAL_FAULT_FLOW_BIAS, 2000, 0, 0); /* each stroke moves 300 nL, not 250 */

  /* what the programmer and the pump compute: low alarm when 18 mL are programmed (90 days) */
  memset (&error, 0, sizeof error);
  ck_assert (thecal_delivery_plan_resolve (&rx, &model, &plan, &error));
  ck_assert_msg (thecal_project_reservoir (&model, &plan, 20 * ML, T0, 90, &projection, &error), "%s", error.message);
  ck_assert_int_eq (projection.low_alarm_local_ms, T0 + 90 * DAY);

  test_advance (engine, T0 + 120 * DAY);
  st = test_status (engine);
  /* really: 19 mL above empty at 300 nL a stroke = 63 334 strokes, the last at 63 334 × 108 s */
  empty_at = T0 + INT64_C (63334) * 108000;
  ck_assert (st.alarms[THECAL_ALARM_RESERVOIR_EMPTY].raised);
  ck_assert (st.alarms[THECAL_ALARM_RESERVOIR_EMPTY].critical);
  ck_assert_int_eq (st.alarms[THECAL_ALARM_RESERVOIR_EMPTY].raised_at_pump_ms, empty_at);
  ck_assert_int_lt (empty_at, projection.low_alarm_local_ms); /* 79.2 days < 90 days */
  /* the low-reservoir alarm never sounded: the pump still believes 4.17 mL are left */
  ck_assert (!st.alarms[THECAL_ALARM_LOW_RESERVOIR].raised);
  ck_assert_int_eq (st.alarms[THECAL_ALARM_LOW_RESERVOIR].count, 0);
  ck_assert_int_eq (st.reservoir_estimate_nl, 20 * ML - INT64_C (63334) * 250);
  ck_assert_int_gt (st.reservoir_estimate_nl, model.low_reservoir_alarm_nl);
  /* delivery stopped at the empty volume: withdrawal risk, and the patient's PTM is refused */
  ck_assert (!st.delivering);
  ck_assert_int_eq (st.strokes_total, 63334);
  memset (&error, 0, sizeof error);
  ck_assert (thecal_engine_ptm_request (engine, &outcome, &error));
  ck_assert_int_eq (outcome, THECAL_PTM_REFUSED_RESERVOIR_EMPTY);
  /* and 20 % more drug than programmed reached the patient while it ran */
  ck_assert_int_eq (st.moved_nl, INT64_C (63334) * 300);
  free (engine);
}
END_TEST

START_TEST (test_motor_stall_stops_delivery)
{
  ThecalEngine *engine = test_engine_new (&model);
  ThecalPrescription rx;
  ThecalEngineStatus st;
  ThecalEngineEvent event;
  int64_t delivered;

  test_rx_continuous_rate (&rx, CONC, 200000);
  test_set_rx (engine, &rx);
  test_fault (engine, THECAL_FAULT_MOTOR_STALL, 0, T0 + 3 * DAY, 0); /* permanent */
  test_advance (engine, T0 + 3 * DAY);
  st = test_status (engine);
  ck_assert (st.stalled && !st.delivering);
  ck_assert (st.alarms[THECAL_ALARM_MOTOR_STALL].raised && st.alarms[THECAL_ALARM_MOTOR_STALL].critical);
  ck_assert_int_eq (st.alarms[THECAL_ALARM_MOTOR_STALL].raised_at_pump_ms, T0 + 3 * DAY);
  ck_assert (test_last_event (engine, THECAL_EVENT_ALARM_RAISED, THECAL_ALARM_MOTOR_STALL, &event));
  ck_assert_int_eq (event.pump_ms, T0 + 3 * DAY);
  delivered = st.delivered_nl;
  ck_assert_int_eq (delivered, 3 * 200000);
  test_advance (engine, T0 + 30 * DAY);
  st = test_status (engine);
  ck_assert_int_eq (st.delivered_nl, delivered); /* nothing more reached the patient */
  ck_assert_int_eq (st.strokes_total, 2400);
  ck_assert (st.alarms[THECAL_ALARM_MOTOR_STALL].raised);
  /* acknowledging silences nothing while the cause stays: the alarm remains raised */
  ck_assert (thecal_engine_acknowledge (engine, THECAL_ALARM_MOTOR_STALL, NULL));
  ck_assert (test_status (engine).alarms[THECAL_ALARM_MOTOR_STALL].raised);
  /* unlike an occlusion, a stalled motor makes no strokes: the pump's estimate stays right */
  ck_assert_int_eq (st.reservoir_estimate_nl, st.reservoir_actual_nl);
  free (engine);
}
END_TEST

START_TEST (test_ptm_inside_lockout_refused_and_logged)
{
  ThecalEngine *engine = test_engine_new (&model);
  ThecalPrescription rx;
  ThecalPtmOutcome outcome;
  ThecalEngineEvent event;
  int granted = 0, refused = 0;

  test_rx_continuous_rate (&rx, CONC, 200000);
  rx.ptm.enabled = true;
  rx.ptm.dose_ng = 250000;
  rx.ptm.duration_ms = 15 * MINUTE;
  rx.ptm.lockout_ms = 2 * HOUR;
  rx.ptm.max_per_24h = 6;
  test_set_rx (engine, &rx);
  /* a press every 30 minutes for 6 hours: one in four passes the 2 h lockout */
  for (int i = 0; i < 12; i++)
    {
      test_advance (engine, T0 + 8 * HOUR + i * 30 * MINUTE);
      ck_assert (thecal_engine_ptm_request (engine, &outcome, NULL));
      if (outcome == THECAL_PTM_GRANTED)
        granted++;
      else
        {
          ck_assert_int_eq (outcome, THECAL_PTM_REFUSED_LOCKOUT);
          refused++;
        }
    }
  ck_assert_int_eq (granted, 3); /* 08:00, 10:00, 12:00 */
  ck_assert_int_eq (refused, 9);
  /* every press is in the log with its outcome, each with its own sequence number */
  ck_assert_int_eq (test_count_events (engine, THECAL_EVENT_PTM_GRANTED, -1), 3);
  ck_assert_int_eq (test_count_events (engine, THECAL_EVENT_PTM_REFUSED, THECAL_PTM_REFUSED_LOCKOUT), 9);
  ck_assert (test_last_event (engine, THECAL_EVENT_PTM_REFUSED, -1, &event));
  ck_assert_int_eq (event.pump_ms, T0 + 13 * HOUR + 30 * MINUTE);
  ck_assert_int_eq (event.args[0], 30 * MINUTE); /* allowed again at 14:00 */
  test_advance (engine, T0 + DAY);
  ck_assert_int_eq (test_status (engine).nominal_nl[THECAL_SOURCE_PTM], 3 * 10000);
  free (engine);
}
END_TEST

START_TEST (test_eri_ninety_days_before_eos)
{
  ThecalEngine *engine = test_engine_new (&model);
  ThecalPrescription rx;
  ThecalEngineStatus st;
  int64_t eri, eos;

  test_rx_continuous_rate (&rx, CONC, 200000);
  test_set_rx (engine, &rx);
  for (int64_t day = 60; day <= 3000; day += 60)
    {
      test_advance (engine, T0 + day * DAY);
      if (test_status (engine).eos)
        break;
      ck_assert (thecal_engine_set_reservoir (engine, 20 * ML, "morphine", CONC, -1, NULL));
    }
  st = test_status (engine);
  ck_assert (st.eri && st.eos);
  eri = st.alarms[THECAL_ALARM_ERI].raised_at_pump_ms;
  eos = st.alarms[THECAL_ALARM_EOS].raised_at_pump_ms;
  /* within one stroke interval (108 s) of 90 days */
  ck_assert_int_le (eos - eri, 90 * DAY + 108000);
  ck_assert_int_ge (eos - eri, 90 * DAY - 108000);
  /* ERI is non-critical: the pump kept running after it; EOS stopped it */
  ck_assert (!st.alarms[THECAL_ALARM_ERI].critical);
  ck_assert (st.alarms[THECAL_ALARM_EOS].critical);
  ck_assert (!st.delivering);
  /* at 0.2 mL/day the life is 2 555 × 788.4 / (788.4 + 63.072) days = 2 365.7 days */
  ck_assert_int_gt (eos, T0 + 2365 * DAY);
  ck_assert_int_lt (eos, T0 + 2366 * DAY);
  free (engine);
}
END_TEST

START_TEST (test_concentration_change_without_bridge)
{
  ThecalEngine *engine = calloc (1, sizeof *engine);
  ThecalEngineConfig config;
  ThecalPrescription rx;
  ThecalEngineStatus st;
  int64_t start_ng, ng;
  const int64_t dead = 368300; /* 0.25 mL + 45.5 cm × 0.0026 mL/cm */

  thecal_engine_config_init (&config);
  config.model = &model;
  config.start_local_ms = T0;
  config.reservoir_nl = 20 * ML;
  config.drug_id = "morphine";
  config.concentration_ng_per_ml = 10 * MG; /* 10 mg/mL in the reservoir and the path */
  config.path_primed = true;
  config.catheter.catheter_length_mm = 455;
  config.catheter.catheter_volume_nl_per_cm = 2600;
  ck_assert (thecal_engine_init (engine, &config, NULL));
  ck_assert_int_eq (test_status (engine).dead_space_nl, dead);
  test_rx_continuous_rate (&rx, 10 * MG, 200000); /* 2 mg/day */
  test_set_rx (engine, &rx);
  test_advance (engine, T0 + 10 * DAY);

  /* refill with 25 mg/mL and keep 2 mg/day: the new rate is 0.08 mL/day (320 strokes a day) */
  ck_assert (thecal_engine_set_reservoir (engine, 20 * ML, "morphine", 25 * MG, -1, NULL));
  test_rx_continuous_rate (&rx, 25 * MG, 80000);
  test_set_rx (engine, &rx);
  start_ng = test_status (engine).delivered_ng;

  /* 1 473 strokes (368 250 nL) later, still only the old 10 mg/mL drug has come out: 0.8 mg/day
   * instead of 2 mg/day, for 368 300 nL / 0.08 mL/day = 4.6 days (under-dose) */
  test_advance (engine, T0 + 10 * DAY + 1473 * 270000); /* a stroke every 270 000 ms */
  st = test_status (engine);
  ng = st.delivered_ng - start_ng;
  ck_assert_int_eq (ng, 368250 * 10);
  ck_assert_int_eq (st.tip_concentration_ng_per_ml, 10 * MG);
  /* the 1 474th stroke: the last 50 nL of old drug, then 200 nL of new */
  test_advance (engine, T0 + 10 * DAY + 1474 * 270000);
  st = test_status (engine);
  ck_assert_int_eq (st.delivered_ng - start_ng, dead * 10 + 200 * 25);
  ck_assert_int_eq (st.tip_concentration_ng_per_ml, 25 * MG);
  /* exactly the dead space went out at the old concentration, at the new rate */
  test_advance (engine, T0 + 20 * DAY);
  st = test_status (engine);
  ck_assert_int_eq (st.delivered_ng - start_ng, dead * 10 + (10 * 80000 - dead) * 25);
  free (engine);
}
END_TEST

START_TEST (test_concentration_change_with_bridge)
{
  ThecalEngine *engine = calloc (1, sizeof *engine);
  ThecalEngineConfig config;
  ThecalPrescription old_rx, new_rx;
  ThecalDeliveryPlan old_plan, new_plan;
  ThecalBolusPlan bridge;
  ThecalCatheter catheter = { 455, 2600 };
  ThecalDoseError error;
  int64_t start_ng, start_ms, bridge_ms = 0, bridge_nl = 0;

  thecal_engine_config_init (&config);
  config.model = &model;
  config.start_local_ms = T0;
  config.reservoir_nl = 20 * ML;
  config.drug_id = "morphine";
  config.concentration_ng_per_ml = 10 * MG;
  config.path_primed = true;
  config.catheter = catheter;
  ck_assert (thecal_engine_init (engine, &config, NULL));
  test_rx_continuous_rate (&old_rx, 10 * MG, 200000);
  test_set_rx (engine, &old_rx);
  test_advance (engine, T0 + 10 * DAY);
  test_rx_continuous_rate (&new_rx, 25 * MG, 80000);
  memset (&error, 0, sizeof error);
  ck_assert (thecal_delivery_plan_resolve (&old_rx, &model, &old_plan, &error));
  ck_assert (thecal_delivery_plan_resolve (&new_rx, &model, &new_plan, &error));
  if (!thecal_bridge_bolus (&model, &catheter, &old_plan, "morphine", &new_plan, "morphine", &bridge, &error))
    ck_abort_msg ("thecal_bridge_bolus: %s", error.message);
  ck_assert (thecal_engine_set_reservoir (engine, 20 * ML, "morphine", 25 * MG, -1, NULL));
  test_set_rx (engine, &new_rx);
  start_ng = test_status (engine).delivered_ng;
  start_ms = thecal_engine_true_ms (engine);
  memset (&error, 0, sizeof error);
  ck_assert_msg (thecal_engine_start_phase_bolus (engine, &bridge, &error), "%s", error.message);
  for (int32_t i = 0; i < bridge.n_phases; i++)
    if (bridge.phases[i].kind == THECAL_PHASE_BRIDGE)
      {
        bridge_ms += bridge.phases[i].duration_ms;
        bridge_nl += bridge.phases[i].volume_nl;
      }
  test_advance (engine, start_ms + bridge_ms);
  ck_assert_int_eq (test_status (engine).nominal_nl[THECAL_SOURCE_BRIDGE], bridge_nl);
  ck_assert_int_ge (bridge_nl, 368300); /* the bridge covers the whole dead space */
  /* what really came out: the dead space of old 10 mg/mL drug, then whatever part of the last
   * stroke was already new 25 mg/mL drug */
  ck_assert_int_eq (test_status (engine).delivered_ng - start_ng, 368300 * 10 + (bridge_nl - 368300) * 25);
  /* the old drug went out at no more than its target dose rate, 2 mg/day */
  ck_assert_int_le ((int64_t) 368300 * 10 * DAY, bridge.target_dose_rate_ng_per_day * bridge_ms);
  /* The independent check: the plan counts the whole bridge volume at the old concentration, but
   * the whole strokes it rounds up to push (here 200 nL) are new drug, at 2.5 × the concentration:
   * the bridge delivers (bridge − dead space) × (new − old) more than its plan says (3 µg here,
   * 0.08 %). docs/engine.md "Scenarios" records this. */
  for (int32_t i = 0; i < bridge.n_phases; i++)
    if (bridge.phases[i].kind == THECAL_PHASE_BRIDGE)
      ck_assert_int_eq (test_status (engine).delivered_ng - start_ng - bridge.phases[i].dose_ng,
                        (bridge_nl - 368300) * (25 - 10));
  /* after the bridge the prescription runs at the new rate with the new drug at the tip */
  ck_assert (test_status (engine).delivering);
  ck_assert_int_eq (test_status (engine).tip_concentration_ng_per_ml, 25 * MG);
  free (engine);
}
END_TEST

static Suite *
scenarios_suite (void)
{
  Suite *s = suite_create ("engine-scenarios");
  TCase *tc = tcase_create ("scenarios");

  tcase_add_checked_fixture (tc, setup, NULL);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_overinfusion_empties_before_low_alarm);
  tcase_add_test (tc, test_motor_stall_stops_delivery);
  tcase_add_test (tc, test_ptm_inside_lockout_refused_and_logged);
  tcase_add_test (tc, test_eri_ninety_days_before_eos);
  tcase_add_test (tc, test_concentration_change_without_bridge);
  tcase_add_test (tc, test_concentration_change_with_bridge);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (scenarios_suite)
