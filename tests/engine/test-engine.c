/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-engine.c: the engine's commands, delivery modes, PTM, alarms and faults, each with worked
 * examples checked by hand in the comments. The worked example of the shared decisions holds
 * throughout: 25 mg/mL at 5 mg/day is 0.2 mL/day = 200 000 nL/day = 800 strokes of 250 nL a day,
 * one stroke every 86 400 000 / 800 = 108 000 ms.
 */
#include "config.h"

#include "engine-test-util.h"
#include "thecal-dose-json.h"
#include "thecal-engine-projection.h"
#include "thecal-refill.h"
#include "thecal-test.h"

#include <stdio.h>

static ThecalPumpModel model;

static void
setup (void)
{
  model = thecal_test_tr_model (20);
}

static ThecalEngine *
new_engine (void)
{
  return test_engine_new (&model);
}

/* 5 mg/day written as a dose */
static void
rx_5mg (ThecalPrescription *rx)
{
  test_rx_continuous_rate (rx, CONC, 0);
  rx->continuous.basis = THECAL_BASIS_DOSE;
  rx->continuous.dose_ng_per_day = 5 * MG;
}

static void
rx_with_ptm (ThecalPrescription *rx)
{
  rx_5mg (rx);
  rx->ptm.enabled = true;
  rx->ptm.dose_ng = 250000; /* 0.25 mg = 10 µL = 40 strokes */
  rx->ptm.duration_ms = 10 * MINUTE;
  rx->ptm.lockout_ms = HOUR;
  rx->ptm.max_per_24h = 4;
}

static ThecalPtmOutcome
ptm (ThecalEngine *engine)
{
  ThecalPtmOutcome outcome = THECAL_PTM_N_OUTCOMES;
  ThecalDoseError error;

  memset (&error, 0, sizeof error);
  if (!thecal_engine_ptm_request (engine, &outcome, &error))
    ck_abort_msg ("ptm_request failed: %s", error.message);
  return outcome;
}

/* ---- models and set-up ------------------------------------------------------------------------ */

START_TEST (test_models_match_data_file)
{
  /* every number the engine's tests use comes from the shipped data file, field by field */
  thecal_test_expect_models_match_data_file ();
}
END_TEST

START_TEST (test_init_state)
{
  ThecalEngine *engine = new_engine ();
  ThecalEngineStatus st = test_status (engine);

  ck_assert_int_eq (st.pump_ms, T0);
  ck_assert_int_eq (st.true_ms, T0);
  ck_assert_int_eq (st.mode, THECAL_MODE_STOPPED);
  ck_assert (!st.delivering);
  ck_assert_int_eq (st.reservoir_estimate_nl, 20 * ML);
  ck_assert_int_eq (st.reservoir_actual_nl, 20 * ML);
  ck_assert_str_eq (st.reservoir_drug_id, "morphine");
  ck_assert_int_eq (st.dead_space_nl, 250000);
  ck_assert_str_eq (st.tip_drug_id, "morphine");
  ck_assert_int_eq (st.tip_concentration_ng_per_ml, CONC);
  ck_assert_int_eq (st.battery_bp, 10000);
  ck_assert_int_eq (st.battery_capacity, INT64_C (9125) * DAY * 2555);
  ck_assert (!st.eri && !st.eos);
  for (int i = 0; i < THECAL_ALARM_N_KINDS; i++)
    ck_assert (!st.alarms[i].raised);
  /* a stopped pump over a day: nothing moves, the battery drains its base */
  test_advance (engine, T0 + DAY);
  st = test_status (engine);
  ck_assert_int_eq (st.strokes_total, 0);
  ck_assert_int_eq (st.delivered_nl, 0);
  ck_assert_int_eq (st.battery_remaining, INT64_C (9125) * DAY * 2554);
  free (engine);
}
END_TEST

START_TEST (test_init_refusals)
{
  ThecalEngine *engine = calloc (1, sizeof *engine);
  ThecalEngineConfig config;
  ThecalDoseError error;

  thecal_engine_config_init (&config);
  memset (&error, 0, sizeof error);
  ck_assert (!thecal_engine_init (engine, &config, &error)); /* no model */
  config.model = &model;
  config.battery_bp = 0;
  memset (&error, 0, sizeof error);
  ck_assert (!thecal_engine_init (engine, &config, &error));
  ck_assert_str_eq (error.field, "battery");
  config.battery_bp = 10001;
  ck_assert (!thecal_engine_init (engine, &config, NULL));
  config.battery_bp = 10000;
  config.reservoir_nl = 20 * ML + 1; /* one nL above capacity */
  memset (&error, 0, sizeof error);
  ck_assert (!thecal_engine_init (engine, &config, &error));
  ck_assert_int_eq (error.code, THECAL_DOSE_ERROR_RANGE);
  config.reservoir_nl = 20 * ML; /* the limit itself is fine */
  config.drug_id = "";
  config.concentration_ng_per_ml = CONC; /* a concentration without a drug */
  ck_assert (!thecal_engine_init (engine, &config, NULL));
  config.drug_id = "morphine";
  config.concentration_ng_per_ml = 0; /* a drug without a concentration */
  ck_assert (!thecal_engine_init (engine, &config, NULL));
  config.concentration_ng_per_ml = CONC;
  config.catheter.catheter_length_mm = -1;
  ck_assert (!thecal_engine_init (engine, &config, NULL));
  config.catheter.catheter_length_mm = 455;
  config.catheter.catheter_volume_nl_per_cm = 2600;
  memset (&error, 0, sizeof error);
  ck_assert_msg (thecal_engine_init (engine, &config, &error), "%s", error.message);
  /* 45.5 cm × 2 600 nL/cm = 118 300 nL of catheter, + 250 000 nL internal */
  ck_assert_int_eq (test_status (engine).dead_space_nl, 368300);
  free (engine);
}
END_TEST

START_TEST (test_unfilled_pump_alarms)
{
  ThecalEngine *engine = test_engine_new_with (&model, 0, CONC, false, 1);
  ThecalEngineStatus st = test_status (engine);

  /* an empty reservoir raises both reservoir alarms at once */
  ck_assert (st.alarms[THECAL_ALARM_RESERVOIR_EMPTY].raised);
  ck_assert (st.alarms[THECAL_ALARM_LOW_RESERVOIR].raised);
  ck_assert_str_eq (st.tip_drug_id, ""); /* not primed: non-drug fluid in the path */
  ck_assert_int_eq (st.tip_concentration_ng_per_ml, 0);
  free (engine);
}
END_TEST

/* ---- delivery --------------------------------------------------------------------------------- */

START_TEST (test_continuous_worked_example)
{
  ThecalEngine *engine = new_engine ();
  ThecalPrescription rx;
  ThecalEngineStatus st;
  ThecalEngineEvent event;

  rx_5mg (&rx);
  test_set_rx (engine, &rx);
  ck_assert (test_last_event (engine, THECAL_EVENT_PRESCRIPTION_SET, -1, &event));
  ck_assert_int_eq (event.code, THECAL_MODE_CONTINUOUS);
  ck_assert_int_eq (event.args[0], 200000); /* 0.2 mL/day */
  ck_assert_int_eq (event.args[2], CONC);
  /* the first stroke comes at 108 000 ms, not one ms earlier */
  test_advance (engine, T0 + 107999);
  ck_assert_int_eq (test_status (engine).strokes_total, 0);
  test_advance (engine, T0 + 108000);
  ck_assert_int_eq (test_status (engine).strokes_total, 1);
  test_advance (engine, T0 + DAY / 2);
  ck_assert_int_eq (test_status (engine).strokes_total, 400);
  test_advance (engine, T0 + DAY);
  st = test_status (engine);
  ck_assert (st.delivering);
  ck_assert_int_eq (st.strokes_total, 800);
  ck_assert_int_eq (st.nominal_nl[THECAL_SOURCE_BASAL], 200000);
  ck_assert_int_eq (st.reservoir_estimate_nl, 20 * ML - 200000);
  ck_assert_int_eq (st.reservoir_actual_nl, 20 * ML - 200000);
  ck_assert_int_eq (st.delivered_nl, 200000);
  ck_assert_int_eq (st.delivered_ng, 5 * MG); /* 0.2 mL × 25 mg/mL */
  test_advance (engine, T0 + 10 * DAY);
  st = test_status (engine);
  ck_assert_int_eq (st.delivered_nl, 2 * ML);
  ck_assert_int_eq (st.delivered_ng, 50 * MG);
  free (engine);
}
END_TEST

START_TEST (test_rate_range_refusals)
{
  ThecalEngine *engine = new_engine ();
  ThecalPrescription rx;
  ThecalDoseError error;

  test_rx_continuous_rate (&rx, CONC, 24 * ML + 1000); /* one resolution step above 24 mL/day */
  memset (&error, 0, sizeof error);
  ck_assert (!thecal_engine_set_prescription (engine, &rx, &error));
  ck_assert_int_eq (error.code, THECAL_DOSE_ERROR_RANGE);
  ck_assert_ptr_nonnull (strstr (error.message, "programmable range"));
  test_rx_continuous_rate (&rx, CONC, 24 * ML); /* the limit itself */
  test_set_rx (engine, &rx);
  test_rx_continuous_rate (&rx, CONC, 47000); /* one step below 0.048 mL/day */
  ck_assert (!thecal_engine_set_prescription (engine, &rx, NULL));
  test_rx_continuous_rate (&rx, CONC, 48000);
  test_set_rx (engine, &rx);
  /* the minimum-rate mode runs below the programmable minimum, by design */
  rx.mode = THECAL_MODE_MINIMUM_RATE;
  test_set_rx (engine, &rx);
  test_advance (engine, T0 + DAY);
  ck_assert_int_eq (test_status (engine).nominal_nl[THECAL_SOURCE_BASAL], 6000); /* 0.006 mL/day: 24 strokes */
  /* a flex step out of range names the step */
  thecal_prescription_init (&rx);
  strcpy (rx.drug_id, "morphine");
  rx.concentration_ng_per_ml = CONC;
  rx.mode = THECAL_MODE_FLEX;
  rx.n_flex_steps = 2;
  rx.flex_steps[0] = (ThecalFlexStep){ 0, 720, { THECAL_BASIS_RATE, 0, 100000 } };
  rx.flex_steps[1] = (ThecalFlexStep){ 720, 720, { THECAL_BASIS_RATE, 0, 30 * ML } };
  memset (&error, 0, sizeof error);
  ck_assert (!thecal_engine_set_prescription (engine, &rx, &error));
  ck_assert_str_eq (error.field, "flex_steps[1] rate");
  /* what the dose core refuses is refused with its error */
  rx.flex_steps[1].duration_min = 700; /* a gap */
  memset (&error, 0, sizeof error);
  ck_assert (!thecal_engine_set_prescription (engine, &rx, &error));
  ck_assert_int_eq (error.code, THECAL_DOSE_ERROR_INVALID);
  free (engine);
}
END_TEST

START_TEST (test_flex_delivery)
{
  ThecalEngine *engine = new_engine ();
  ThecalPrescription rx;

  thecal_prescription_init (&rx);
  strcpy (rx.drug_id, "morphine");
  rx.concentration_ng_per_ml = CONC;
  rx.mode = THECAL_MODE_FLEX;
  rx.n_flex_steps = 2;
  /* 0.1 mL/day by night, 0.3 mL/day by day: 0.2 mL a day in all */
  rx.flex_steps[0] = (ThecalFlexStep){ 0, 720, { THECAL_BASIS_RATE, 0, 100000 } };
  rx.flex_steps[1] = (ThecalFlexStep){ 720, 720, { THECAL_BASIS_RATE, 0, 300000 } };
  test_set_rx (engine, &rx);
  test_advance (engine, T0 + 12 * HOUR);
  ck_assert_int_eq (test_status (engine).strokes_total, 200); /* 0.05 mL */
  test_advance (engine, T0 + 18 * HOUR);
  ck_assert_int_eq (test_status (engine).strokes_total, 500); /* + 0.075 mL */
  test_advance (engine, T0 + 30 * DAY);
  ck_assert_int_eq (test_status (engine).strokes_total, 30 * 800);
  free (engine);
}
END_TEST

START_TEST (test_periodic_boluses_logged)
{
  ThecalEngine *engine = new_engine ();
  ThecalPrescription rx;
  ThecalEngineEvent event;
  ThecalEngineStatus st;

  rx_5mg (&rx);
  rx.n_periodic_boluses = 1;
  rx.periodic_boluses[0] = (ThecalPeriodicBolus){ 8 * 60, MG, HOUR }; /* 1 mg = 40 µL = 160 strokes */
  test_set_rx (engine, &rx);
  test_advance (engine, T0 + 8 * HOUR + 30 * MINUTE);
  ck_assert (test_last_event (engine, THECAL_EVENT_BOLUS_START, THECAL_SOURCE_PERIODIC, &event));
  ck_assert_int_eq (event.pump_ms, T0 + 8 * HOUR);
  ck_assert_int_eq (event.args[0], 40000);
  ck_assert_int_eq (event.args[1], HOUR);
  ck_assert_int_eq (test_status (engine).nominal_nl[THECAL_SOURCE_PERIODIC], 20000); /* half of it */
  test_advance (engine, T0 + DAY);
  ck_assert (test_last_event (engine, THECAL_EVENT_BOLUS_END, THECAL_SOURCE_PERIODIC, &event));
  ck_assert_int_eq (event.pump_ms, T0 + 9 * HOUR);
  ck_assert_int_eq (event.args[0], 40000);
  ck_assert_int_eq (event.args[2], 1); /* completed */
  st = test_status (engine);
  ck_assert_int_eq (st.strokes_total, 800 + 160);
  ck_assert_int_eq (st.delivered_ng, 6 * MG);
  test_advance (engine, T0 + 10 * DAY);
  ck_assert_int_eq (test_count_events (engine, THECAL_EVENT_BOLUS_START, THECAL_SOURCE_PERIODIC), 10);
  ck_assert_int_eq (test_count_events (engine, THECAL_EVENT_BOLUS_END, THECAL_SOURCE_PERIODIC), 10);
  ck_assert_int_eq (test_status (engine).strokes_total, 10 * 960);
  free (engine);
}
END_TEST

START_TEST (test_prescription_change_mid_bolus)
{
  ThecalEngine *engine = new_engine ();
  ThecalPrescription rx;
  ThecalEngineEvent event;

  rx_5mg (&rx);
  rx.n_periodic_boluses = 1;
  rx.periodic_boluses[0] = (ThecalPeriodicBolus){ 8 * 60, MG, HOUR };
  test_set_rx (engine, &rx);
  test_advance (engine, T0 + 8 * HOUR + 15 * MINUTE);
  /* the same prescription again: the occurrence is closed (40 of 160 strokes) and reopened */
  test_set_rx (engine, &rx);
  ck_assert (test_last_event (engine, THECAL_EVENT_BOLUS_END, THECAL_SOURCE_PERIODIC, &event));
  ck_assert_int_eq (event.args[0], 10000);
  ck_assert_int_eq (event.args[2], 0);
  ck_assert (test_last_event (engine, THECAL_EVENT_BOLUS_START, THECAL_SOURCE_PERIODIC, &event));
  ck_assert_int_eq (event.pump_ms, T0 + 8 * HOUR + 15 * MINUTE);
  test_advance (engine, T0 + DAY);
  /* the rest of the occurrence is delivered: the day is unchanged */
  ck_assert_int_eq (test_status (engine).strokes_total, 960);
  free (engine);
}
END_TEST

START_TEST (test_clinician_bolus_then_resume)
{
  ThecalEngine *engine = new_engine ();
  ThecalPrescription rx;
  ThecalDoseError error;
  ThecalEngineEvent event;
  ThecalEngineStatus st;

  rx_5mg (&rx);
  test_set_rx (engine, &rx);
  test_advance (engine, T0 + 6 * HOUR); /* 200 basal strokes */
  memset (&error, 0, sizeof error);
  /* too fast: 1 mg (40 µL) in 1 min is 57.6 mL/day, above 24 mL/day */
  ck_assert (!thecal_engine_start_clinician_bolus (engine, MG, MINUTE, &error));
  ck_assert_int_eq (error.code, THECAL_DOSE_ERROR_RANGE);
  /* 0.5 mg over 30 min: 20 µL, 80 strokes */
  ck_assert (thecal_engine_start_clinician_bolus (engine, 500000, 30 * MINUTE, &error));
  ck_assert (test_status (engine).bolus_active);
  ck_assert (!test_status (engine).delivering); /* basal suspended */
  ck_assert (!thecal_engine_start_clinician_bolus (engine, 500000, 30 * MINUTE, NULL));
  ck_assert (!thecal_engine_set_prescription (engine, &rx, NULL)); /* cancel first */
  test_advance (engine, T0 + 6 * HOUR + 15 * MINUTE);
  st = test_status (engine);
  ck_assert_int_eq (st.nominal_nl[THECAL_SOURCE_CLINICIAN], 40 * 250);
  ck_assert_int_eq (st.nominal_nl[THECAL_SOURCE_BASAL], 200 * 250);
  test_advance (engine, T0 + DAY);
  ck_assert (test_last_event (engine, THECAL_EVENT_BOLUS_END, THECAL_SOURCE_CLINICIAN, &event));
  ck_assert_int_eq (event.pump_ms, T0 + 6 * HOUR + 30 * MINUTE);
  ck_assert_int_eq (event.args[0], 20000);
  ck_assert_int_eq (event.args[2], 1);
  st = test_status (engine);
  /* basal: 6 h (200) + 17.5 h: floor (200 000 × 63 000 000 / 21 600 000 000) = 583 */
  ck_assert_int_eq (st.nominal_nl[THECAL_SOURCE_BASAL], (200 + 583) * 250);
  ck_assert_int_eq (st.nominal_nl[THECAL_SOURCE_CLINICIAN], 20000);
  ck_assert (st.delivering);
  free (engine);
}
END_TEST

START_TEST (test_clinician_bolus_cancel)
{
  ThecalEngine *engine = new_engine ();
  ThecalPrescription rx;
  ThecalEngineEvent event;

  rx_5mg (&rx);
  test_set_rx (engine, &rx);
  ck_assert (!thecal_engine_cancel_bolus (engine, NULL)); /* nothing to cancel */
  ck_assert (thecal_engine_start_clinician_bolus (engine, 500000, 30 * MINUTE, NULL));
  test_advance (engine, T0 + 10 * MINUTE);
  ck_assert (thecal_engine_cancel_bolus (engine, NULL));
  ck_assert (test_last_event (engine, THECAL_EVENT_BOLUS_END, THECAL_SOURCE_CLINICIAN, &event));
  ck_assert_int_eq (event.args[0], 26 * 250); /* floor (80 × 10 / 30) = 26 strokes */
  ck_assert_int_eq (event.args[2], 0);
  ck_assert (test_status (engine).delivering);
  /* a stopped pump can still give a clinician bolus at the programmed concentration */
  rx.mode = THECAL_MODE_STOPPED;
  test_set_rx (engine, &rx);
  ck_assert (thecal_engine_start_clinician_bolus (engine, 500000, 30 * MINUTE, NULL));
  test_advance (engine, T0 + DAY);
  ck_assert (!test_status (engine).delivering);
  ck_assert_int_eq (test_status (engine).nominal_nl[THECAL_SOURCE_CLINICIAN], 26 * 250 + 20000);
  /* a bolus that rounds to no stroke is refused */
  ck_assert (!thecal_engine_start_clinician_bolus (engine, 100, HOUR, NULL));
  free (engine);
}
END_TEST

START_TEST (test_phase_bolus_plan)
{
  ThecalEngine *engine = new_engine ();
  ThecalPrescription rx;
  ThecalBolusPlan plan;
  ThecalDoseError error;
  ThecalEngineStatus st;

  rx_5mg (&rx);
  test_set_rx (engine, &rx);
  memset (&plan, 0, sizeof plan);
  plan.n_phases = 3;
  plan.phases[0] = (ThecalBolusPhase){ THECAL_PHASE_PRIMING, 100000, 2400000, HOUR, 0, 0, 0 }; /* 0.1 mL in 1 h */
  plan.phases[1] = (ThecalBolusPhase){ THECAL_PHASE_BRIDGE, 50000, 1200000, HOUR, CONC, 0, 0 };
  plan.phases[2] = (ThecalBolusPhase){ THECAL_PHASE_PRESCRIPTION, 0, 200000, 0, CONC, 0, 0 };
  memset (&error, 0, sizeof error);
  ck_assert_msg (thecal_engine_start_phase_bolus (engine, &plan, &error), "%s", error.message);
  test_advance (engine, T0 + HOUR);
  st = test_status (engine);
  ck_assert_int_eq (st.nominal_nl[THECAL_SOURCE_PRIMING], 100000);
  ck_assert (st.bolus_active);
  ck_assert_int_eq (st.bolus_source, THECAL_SOURCE_BRIDGE);
  test_advance (engine, T0 + 2 * HOUR);
  st = test_status (engine);
  ck_assert_int_eq (st.nominal_nl[THECAL_SOURCE_BRIDGE], 50000);
  ck_assert (!st.bolus_active);
  ck_assert (st.delivering);
  ck_assert_int_eq (st.nominal_nl[THECAL_SOURCE_BASAL], 0);
  ck_assert_int_eq (test_count_events (engine, THECAL_EVENT_BOLUS_END, -1), 2);
  /* a phase that is not whole strokes, or too fast, is refused */
  plan.phases[0].volume_nl = 100001;
  ck_assert (!thecal_engine_start_phase_bolus (engine, &plan, NULL));
  plan.phases[0].volume_nl = 100000;
  plan.phases[0].duration_ms = MINUTE; /* 144 mL/day */
  ck_assert (!thecal_engine_start_phase_bolus (engine, &plan, NULL));
  plan.n_phases = 0;
  ck_assert (!thecal_engine_start_phase_bolus (engine, &plan, NULL));
  free (engine);
}
END_TEST

/* ---- PTM --------------------------------------------------------------------------------------- */

START_TEST (test_ptm_lockout_and_daily_max)
{
  ThecalEngine *engine = new_engine ();
  ThecalPrescription rx;
  ThecalEngineEvent event;
  ThecalEngineStatus st;

  rx_with_ptm (&rx);
  test_set_rx (engine, &rx);
  ck_assert_int_eq (thecal_engine_ptm_next_allowed_pump_ms (engine), T0);
  test_advance (engine, T0 + HOUR);
  ck_assert_int_eq (ptm (engine), THECAL_PTM_GRANTED);
  ck_assert (test_last_event (engine, THECAL_EVENT_PTM_GRANTED, -1, &event));
  ck_assert_int_eq (event.args[0], 10000);
  ck_assert_int_eq (event.args[1], 1);
  ck_assert_int_eq (thecal_engine_ptm_next_allowed_pump_ms (engine), T0 + 2 * HOUR);
  test_advance (engine, T0 + HOUR + 30 * MINUTE);
  ck_assert_int_eq (ptm (engine), THECAL_PTM_REFUSED_LOCKOUT);
  ck_assert (test_last_event (engine, THECAL_EVENT_PTM_REFUSED, -1, &event));
  ck_assert_int_eq (event.code, THECAL_PTM_REFUSED_LOCKOUT);
  ck_assert_int_eq (event.args[0], 30 * MINUTE); /* how long until allowed */
  test_advance (engine, T0 + 2 * HOUR - 1);      /* one ms short of the lockout */
  ck_assert_int_eq (ptm (engine), THECAL_PTM_REFUSED_LOCKOUT);
  test_advance (engine, T0 + 2 * HOUR); /* exactly the lockout */
  ck_assert_int_eq (ptm (engine), THECAL_PTM_GRANTED);
  test_advance (engine, T0 + 3 * HOUR);
  ck_assert_int_eq (ptm (engine), THECAL_PTM_GRANTED);
  test_advance (engine, T0 + 4 * HOUR);
  ck_assert_int_eq (ptm (engine), THECAL_PTM_GRANTED);
  test_advance (engine, T0 + 5 * HOUR);
  /* 4 in the preceding 24 h: the first leaves the window at T0 + 25 h */
  ck_assert_int_eq (ptm (engine), THECAL_PTM_REFUSED_DAILY_MAX);
  ck_assert (test_last_event (engine, THECAL_EVENT_PTM_REFUSED, -1, &event));
  ck_assert_int_eq (event.args[0], 20 * HOUR);
  ck_assert_int_eq (event.args[1], 4);
  ck_assert_int_eq (thecal_engine_ptm_next_allowed_pump_ms (engine), T0 + 25 * HOUR);
  test_advance (engine, T0 + 25 * HOUR - 1);
  ck_assert_int_eq (ptm (engine), THECAL_PTM_REFUSED_DAILY_MAX);
  test_advance (engine, T0 + 25 * HOUR);
  ck_assert_int_eq (ptm (engine), THECAL_PTM_GRANTED);
  st = test_status (engine);
  ck_assert_int_eq (st.ptm_granted_total, 5);
  ck_assert_int_eq (st.ptm_refused_total, 4);
  ck_assert_int_eq (st.ptm_grants_24h, 4); /* 2 h, 3 h, 4 h and 25 h */
  test_advance (engine, T0 + 26 * HOUR);
  st = test_status (engine);
  ck_assert_int_eq (st.nominal_nl[THECAL_SOURCE_PTM], 5 * 10000);
  ck_assert_int_eq (test_count_events (engine, THECAL_EVENT_BOLUS_END, THECAL_SOURCE_PTM), 5);
  /* PTM adds on top of the basal: 26 h of basal = floor (26 × 800 / 24) = 866 strokes */
  ck_assert_int_eq (st.nominal_nl[THECAL_SOURCE_BASAL], 866 * 250);
  free (engine);
}
END_TEST

START_TEST (test_ptm_refusal_reasons)
{
  ThecalEngine *engine = new_engine ();
  ThecalPrescription rx;

  rx_5mg (&rx); /* PTM not enabled */
  test_set_rx (engine, &rx);
  ck_assert_int_eq (ptm (engine), THECAL_PTM_REFUSED_DISABLED);
  ck_assert_int_eq (thecal_engine_ptm_next_allowed_pump_ms (engine), INT64_MAX);
  rx_with_ptm (&rx);
  test_set_rx (engine, &rx);
  ck_assert (thecal_engine_start_clinician_bolus (engine, 500000, 30 * MINUTE, NULL));
  ck_assert_int_eq (ptm (engine), THECAL_PTM_REFUSED_BOLUS_IN_PROGRESS);
  ck_assert (thecal_engine_cancel_bolus (engine, NULL));
  test_fault (engine, THECAL_FAULT_MOTOR_STALL, 0, T0 + HOUR, HOUR);
  test_advance (engine, T0 + HOUR + 1);
  ck_assert_int_eq (ptm (engine), THECAL_PTM_REFUSED_NOT_DELIVERING);
  test_advance (engine, T0 + 3 * HOUR);
  ck_assert_int_eq (ptm (engine), THECAL_PTM_GRANTED); /* restarted */
  /* empty reservoir: the refusal names it */
  ck_assert (thecal_engine_set_reservoir (engine, 1 * ML, "morphine", CONC, -1, NULL));
  test_advance (engine, T0 + 5 * HOUR);
  ck_assert_int_eq (ptm (engine), THECAL_PTM_REFUSED_RESERVOIR_EMPTY);
  ck_assert_int_eq (test_count_events (engine, THECAL_EVENT_PTM_REFUSED, -1), 4);
  free (engine);
}
END_TEST

/* ---- alarms ---------------------------------------------------------------------------------- */

START_TEST (test_low_reservoir_non_critical)
{
  ThecalEngine *engine = test_engine_new_with (&model, 2100000, CONC, true, 1);
  ThecalPrescription rx;
  ThecalDoseError error;
  ThecalEngineStatus st;

  rx_5mg (&rx);
  test_set_rx (engine, &rx);
  memset (&error, 0, sizeof error);
  ck_assert (!thecal_engine_acknowledge (engine, THECAL_ALARM_LOW_RESERVOIR, &error)); /* not raised */
  /* 0.1 mL above the alarm at 0.2 mL/day: 400 strokes, the 400th at 400 × 108 000 ms = 12 h */
  test_advance (engine, T0 + 12 * HOUR - 1);
  ck_assert (!test_status (engine).alarms[THECAL_ALARM_LOW_RESERVOIR].raised);
  test_advance (engine, T0 + 12 * HOUR);
  st = test_status (engine);
  ck_assert (st.alarms[THECAL_ALARM_LOW_RESERVOIR].raised);
  ck_assert_int_eq (st.alarms[THECAL_ALARM_LOW_RESERVOIR].raised_at_pump_ms, T0 + 12 * HOUR);
  ck_assert (thecal_engine_acknowledge (engine, THECAL_ALARM_LOW_RESERVOIR, NULL));
  ck_assert (!thecal_engine_acknowledge (engine, THECAL_ALARM_LOW_RESERVOIR, NULL)); /* twice */
  st = test_status (engine);
  ck_assert (st.alarms[THECAL_ALARM_LOW_RESERVOIR].raised && st.alarms[THECAL_ALARM_LOW_RESERVOIR].acknowledged);
  ck_assert (st.delivering); /* non-critical: the pump keeps going */
  ck_assert (thecal_engine_set_reservoir (engine, 20 * ML, "morphine", CONC, -1, NULL));
  st = test_status (engine);
  ck_assert (!st.alarms[THECAL_ALARM_LOW_RESERVOIR].raised);
  ck_assert_int_eq (test_count_events (engine, THECAL_EVENT_ALARM_CLEARED, THECAL_ALARM_LOW_RESERVOIR), 1);
  free (engine);
}
END_TEST

START_TEST (test_critical_alarm_latched)
{
  ThecalEngine *engine = new_engine ();
  ThecalPrescription rx;
  ThecalEngineStatus st;

  rx_5mg (&rx);
  test_set_rx (engine, &rx);
  test_fault (engine, THECAL_FAULT_MOTOR_STALL, 0, T0 + HOUR, 2 * HOUR); /* transient */
  test_advance (engine, T0 + 2 * HOUR);
  st = test_status (engine);
  ck_assert (st.stalled && !st.delivering);
  ck_assert (st.alarms[THECAL_ALARM_MOTOR_STALL].raised && st.alarms[THECAL_ALARM_MOTOR_STALL].critical);
  test_advance (engine, T0 + 4 * HOUR);
  st = test_status (engine);
  /* restarted by itself, but the alarm stays latched until acknowledged */
  ck_assert (!st.stalled && st.delivering);
  ck_assert (st.alarms[THECAL_ALARM_MOTOR_STALL].raised);
  ck_assert (!st.alarms[THECAL_ALARM_MOTOR_STALL].condition);
  ck_assert_int_eq (test_count_events (engine, THECAL_EVENT_MOTOR_RESTARTED, -1), 1);
  ck_assert (thecal_engine_acknowledge (engine, THECAL_ALARM_MOTOR_STALL, NULL));
  st = test_status (engine);
  ck_assert (!st.alarms[THECAL_ALARM_MOTOR_STALL].raised);
  ck_assert_int_eq (test_count_events (engine, THECAL_EVENT_ALARM_ACKNOWLEDGED, THECAL_ALARM_MOTOR_STALL), 1);
  ck_assert_int_eq (test_count_events (engine, THECAL_EVENT_ALARM_CLEARED, THECAL_ALARM_MOTOR_STALL), 1);
  /* 4 h less the 2 h stalled: 2 h of basal = 66 strokes (floor (2 × 800 / 24)) */
  ck_assert_int_eq (st.nominal_nl[THECAL_SOURCE_BASAL], 66 * 250);
  ck_assert (!thecal_engine_acknowledge (engine, THECAL_ALARM_N_KINDS, NULL));
  free (engine);
}
END_TEST

START_TEST (test_memory_error)
{
  ThecalEngine *engine = new_engine ();
  ThecalPrescription rx;
  ThecalEngineStatus st;
  int64_t delivered;

  rx_with_ptm (&rx);
  test_set_rx (engine, &rx);
  test_fault (engine, THECAL_FAULT_MEMORY_ERROR, 0, T0 + HOUR, 0);
  test_advance (engine, T0 + 2 * HOUR);
  st = test_status (engine);
  ck_assert (st.memory_error && !st.delivering);
  ck_assert (st.alarms[THECAL_ALARM_MEMORY_ERROR].raised);
  delivered = st.delivered_nl;
  ck_assert_int_eq (ptm (engine), THECAL_PTM_REFUSED_NOT_DELIVERING);
  ck_assert (!thecal_engine_start_clinician_bolus (engine, 500000, HOUR, NULL));
  test_advance (engine, T0 + 5 * HOUR);
  ck_assert_int_eq (test_status (engine).delivered_nl, delivered);
  /* reprogramming restores delivery; the alarm stays latched until acknowledged */
  test_set_rx (engine, &rx);
  st = test_status (engine);
  ck_assert (!st.memory_error && st.delivering);
  ck_assert (st.alarms[THECAL_ALARM_MEMORY_ERROR].raised);
  ck_assert (thecal_engine_acknowledge (engine, THECAL_ALARM_MEMORY_ERROR, NULL));
  ck_assert (!test_status (engine).alarms[THECAL_ALARM_MEMORY_ERROR].raised);
  free (engine);
}
END_TEST

START_TEST (test_occlusion_shows_at_refill)
{
  ThecalEngine *engine = new_engine ();
  ThecalPrescription rx;
  ThecalDeliveryPlan plan;
  ThecalPlanInterval interval;
  ThecalRefillHistory history;
  ThecalRefillCheck check;
  ThecalDoseError error;
  ThecalEngineStatus st;

  test_rx_continuous_rate (&rx, CONC, 500000); /* 0.5 mL/day */
  test_set_rx (engine, &rx);
  test_fault (engine, THECAL_FAULT_OCCLUSION, 0, T0 + DAY, 0);
  test_advance (engine, T0 + 37 * DAY);
  st = test_status (engine);
  ck_assert (st.occluded);
  /* the pump believes it delivered 37 days × 0.5 mL; only the first day left the reservoir */
  ck_assert_int_eq (st.reservoir_estimate_nl, 20 * ML - 37 * 500000);
  ck_assert_int_eq (st.reservoir_actual_nl, 20 * ML - 500000);
  ck_assert_int_eq (st.delivered_nl, 500000);
  /* no pump alarm: an implanted pump has no occlusion sensor (CLINICAL.md §4.3 item 8) ... */
  ck_assert (!st.alarms[THECAL_ALARM_MOTOR_STALL].raised);
  /* ... but the estimate has passed the low-reservoir volume (falsely) ... */
  ck_assert (st.alarms[THECAL_ALARM_LOW_RESERVOIR].raised);
  /* ... and the refill discrepancy shows it: more came back than expected */
  memset (&error, 0, sizeof error);
  ck_assert (thecal_delivery_plan_resolve (&rx, &model, &plan, &error));
  interval = (ThecalPlanInterval){ &plan, T0, T0 + 37 * DAY };
  memset (&history, 0, sizeof history);
  history.fill_volume_nl = 20 * ML;
  history.fill_local_ms = T0;
  history.now_local_ms = T0 + 37 * DAY;
  history.intervals = &interval;
  history.n_intervals = 1;
  ck_assert_msg (thecal_refill_check (&model, &history, st.reservoir_actual_nl, &check, &error), "%s", error.message);
  ck_assert (check.flagged);
  ck_assert_int_eq (check.kind, THECAL_DISCREPANCY_MORE_BACK);
  ck_assert_int_eq (check.expected_residual_nl, st.reservoir_estimate_nl);
  free (engine);
}
END_TEST

START_TEST (test_transient_occlusion)
{
  ThecalEngine *engine = new_engine ();
  ThecalPrescription rx;

  rx_5mg (&rx);
  test_set_rx (engine, &rx);
  test_fault (engine, THECAL_FAULT_OCCLUSION, 0, T0 + 6 * HOUR, 6 * HOUR);
  test_advance (engine, T0 + DAY);
  ck_assert (!test_status (engine).occluded);
  ck_assert_int_eq (test_status (engine).delivered_nl, 600 * 250); /* 18 of 24 h */
  ck_assert_int_eq (test_status (engine).strokes_total, 800);
  free (engine);
}
END_TEST

/* ---- clock ---------------------------------------------------------------------------------- */

START_TEST (test_clock_set)
{
  ThecalEngine *engine = new_engine ();
  ThecalPrescription rx;
  ThecalEngineEvent event;

  thecal_prescription_init (&rx);
  strcpy (rx.drug_id, "morphine");
  rx.concentration_ng_per_ml = CONC;
  rx.mode = THECAL_MODE_FLEX;
  rx.n_flex_steps = 2;
  rx.flex_steps[0] = (ThecalFlexStep){ 0, 720, { THECAL_BASIS_RATE, 0, 100000 } };
  rx.flex_steps[1] = (ThecalFlexStep){ 720, 720, { THECAL_BASIS_RATE, 0, 300000 } };
  test_set_rx (engine, &rx);
  /* the pump clock is set 12 h ahead at true 00:00: it runs the day step at once */
  ck_assert (thecal_engine_set_clock (engine, T0 + 12 * HOUR, NULL));
  ck_assert (test_last_event (engine, THECAL_EVENT_CLOCK_SET, -1, &event));
  ck_assert_int_eq (event.args[0], T0);
  ck_assert_int_eq (event.args[1], T0 + 12 * HOUR);
  ck_assert_int_eq (event.pump_ms, T0 + 12 * HOUR);
  test_advance (engine, T0 + 12 * HOUR);
  ck_assert_int_eq (thecal_engine_pump_ms (engine), T0 + DAY);
  ck_assert_int_eq (test_status (engine).strokes_total, 600); /* 12 h at 0.3 mL/day */
  /* and back: the lost time is not made up, the day step runs again */
  ck_assert (thecal_engine_set_clock (engine, T0 + 12 * HOUR, NULL));
  test_advance (engine, T0 + DAY);
  ck_assert_int_eq (test_status (engine).strokes_total, 1200);
  free (engine);
}
END_TEST

START_TEST (test_clock_drift)
{
  ThecalEngine *engine = new_engine ();
  ThecalPrescription rx;
  ThecalEngineFault fault;
  ThecalDoseError error;

  rx_5mg (&rx);
  test_set_rx (engine, &rx);
  memset (&fault, 0, sizeof fault);
  fault.kind = THECAL_FAULT_CLOCK_DRIFT;
  fault.value = 100001;
  memset (&error, 0, sizeof error);
  ck_assert (!thecal_engine_inject_fault (engine, &fault, &error)); /* beyond ±10 % */
  test_fault (engine, THECAL_FAULT_CLOCK_DRIFT, 1000, 0, 0);        /* +1 000 ppm */
  test_advance (engine, T0 + 10 * DAY);
  /* the pump clock gained 10 days × 86.4 s = 864 s, and delivered by it: 8 000 strokes + 864 s
   * of 0.2 mL/day (8 more strokes: 864 000 / 108 000) */
  ck_assert_int_eq (thecal_engine_pump_ms (engine), T0 + 10 * DAY + 864000);
  ck_assert_int_eq (test_status (engine).strokes_total, 8008);
  /* the inverse mapping: the true time at which the pump reads a given instant */
  ck_assert_int_eq (thecal_engine_true_for_pump_ms (engine, T0 + 20 * DAY + 1728000), T0 + 20 * DAY);
  ck_assert_int_eq (thecal_engine_true_for_pump_ms (engine, T0), T0 + 10 * DAY); /* already past */
  free (engine);
}
END_TEST

/* ---- errors and end of service ------------------------------------------------------------------- */

START_TEST (test_command_refusals)
{
  ThecalEngine *engine = new_engine ();
  ThecalDoseError error;
  ThecalEngineFault fault;

  test_advance (engine, T0 + HOUR);
  memset (&error, 0, sizeof error);
  ck_assert (!thecal_engine_advance_to (engine, T0 + HOUR - 1, &error)); /* backwards */
  ck_assert_int_eq (error.code, THECAL_DOSE_ERROR_RANGE);
  ck_assert (thecal_engine_advance_to (engine, T0 + HOUR, NULL)); /* standing still is fine */
  ck_assert (!thecal_engine_set_reservoir (engine, 20 * ML + 1, "morphine", CONC, -1, NULL));
  ck_assert (!thecal_engine_set_reservoir (engine, ML, "morphine", 0, -1, NULL));
  ck_assert (!thecal_engine_set_reservoir (engine, ML, "morphine", CONC, -2, NULL));
  ck_assert (!thecal_engine_set_reservoir (engine, ML, "a-drug-name-much-longer-than-thirty-one", CONC, -1, NULL));
  ck_assert (thecal_engine_set_reservoir (engine, 0, "", 0, -1, NULL));      /* emptied, no drug */
  ck_assert (!thecal_engine_start_clinician_bolus (engine, MG, HOUR, NULL)); /* no concentration programmed */
  memset (&fault, 0, sizeof fault);
  fault.kind = THECAL_FAULT_FLOW_BIAS;
  fault.value = -5001;
  ck_assert (!thecal_engine_inject_fault (engine, &fault, NULL));
  fault.value = 10001;
  ck_assert (!thecal_engine_inject_fault (engine, &fault, NULL));
  fault.kind = THECAL_FAULT_STROKE_NOISE;
  fault.value = 126; /* above half a stroke */
  ck_assert (!thecal_engine_inject_fault (engine, &fault, NULL));
  fault.value = 125;
  ck_assert (thecal_engine_inject_fault (engine, &fault, NULL));
  fault.kind = THECAL_FAULT_MOTOR_STALL;
  fault.at_pump_ms = T0 + HOUR - 1; /* in the past */
  memset (&error, 0, sizeof error);
  ck_assert (!thecal_engine_inject_fault (engine, &fault, &error));
  ck_assert_str_eq (error.field, "at");
  fault.at_pump_ms = T0 + HOUR;
  fault.duration_ms = -1;
  ck_assert (!thecal_engine_inject_fault (engine, &fault, NULL));
  fault.kind = THECAL_FAULT_BATTERY_DRAIN;
  fault.value = 0;
  ck_assert (!thecal_engine_inject_fault (engine, &fault, NULL));
  fault.kind = THECAL_FAULT_N_KINDS;
  ck_assert (!thecal_engine_inject_fault (engine, &fault, NULL));
  ck_assert_int_eq (test_count_events (engine, THECAL_EVENT_FAULT_INJECTED, -1), 1);
  free (engine);
}
END_TEST

START_TEST (test_drug_slots_capacity)
{
  ThecalEngine *engine = new_engine ();
  char id[16];

  /* slot 0 is non-drug fluid, morphine holds one: 6 more drugs fit, the reservoir's is reused */
  for (int i = 0; i < 6; i++)
    {
      snprintf (id, sizeof id, "drug%d", i);
      ck_assert (thecal_engine_set_reservoir (engine, ML, id, CONC, -1, NULL));
    }
  /* the path still holds morphine; drug0..drug4 are gone from everywhere: a new drug reuses one */
  ck_assert (thecal_engine_set_reservoir (engine, ML, "baclofen", 500000, -1, NULL));
  ck_assert_str_eq (test_status (engine).reservoir_drug_id, "baclofen");
  free (engine);
}
END_TEST

START_TEST (test_end_of_service)
{
  ThecalEngine *engine = calloc (1, sizeof *engine);
  ThecalEngineConfig config;
  ThecalPrescription rx;
  ThecalDoseError error;
  ThecalEngineStatus st;
  ThecalPtmOutcome outcome;

  thecal_engine_config_init (&config);
  config.model = &model;
  config.start_local_ms = T0;
  config.reservoir_nl = 20 * ML;
  config.drug_id = "morphine";
  config.concentration_ng_per_ml = CONC;
  config.path_primed = true;
  config.battery_bp = 1; /* 0.01 %: 2 555 × 86 400 000 × 9 125 / 10 000 units */
  ck_assert (thecal_engine_init (engine, &config, NULL));
  st = test_status (engine);
  ck_assert (st.eri); /* far below 90 days of drain: ERI at once */
  rx_5mg (&rx);
  test_set_rx (engine, &rx);
  test_advance (engine, T0 + DAY);
  st = test_status (engine);
  ck_assert (st.eos && !st.delivering);
  ck_assert (st.alarms[THECAL_ALARM_EOS].raised);
  ck_assert_int_eq (st.battery_remaining, 0);
  /* 0.2555 days of base drain alone (0.01 % of 2 555 days); the strokes at 0.2 mL/day add 8 %:
   * 201 436 200 000 / (788 400 000 000 + 315 360 × 200 000) per day = 0.2366 day = 5.68 h */
  ck_assert_int_lt (st.alarms[THECAL_ALARM_EOS].raised_at_pump_ms, T0 + 5 * HOUR + 41 * MINUTE);
  ck_assert_int_gt (st.alarms[THECAL_ALARM_EOS].raised_at_pump_ms, T0 + 5 * HOUR + 40 * MINUTE);
  memset (&error, 0, sizeof error);
  ck_assert (!thecal_engine_set_prescription (engine, &rx, &error));
  ck_assert_ptr_nonnull (strstr (error.message, "end of service"));
  ck_assert (!thecal_engine_ptm_request (engine, &outcome, NULL));
  ck_assert (!thecal_engine_set_reservoir (engine, ML, "morphine", CONC, -1, NULL));
  ck_assert (!thecal_engine_set_clock (engine, T0, NULL));
  test_advance (engine, T0 + 100 * DAY); /* time passes; nothing else */
  ck_assert_int_eq (test_status (engine).strokes_total, st.strokes_total);
  ck_assert (thecal_engine_acknowledge (engine, THECAL_ALARM_EOS, NULL));
  ck_assert (test_status (engine).alarms[THECAL_ALARM_EOS].raised); /* the cause stays */
  free (engine);
}
END_TEST

/* ---- stroke-level output ---------------------------------------------------------------------- */

typedef struct
{
  int64_t calls;
  int64_t strokes;
  int64_t nominal_nl;
  int64_t moved_nl;
  int64_t tip_ng;
  int64_t last_ms;
  bool ordered;
} StrokeLog;

static void
on_stroke (void *user_data, const ThecalEngineStroke *stroke)
{
  StrokeLog *log = user_data;

  log->calls++;
  for (int i = 0; i < THECAL_SOURCE_N_SOURCES; i++)
    log->strokes += stroke->strokes[i];
  log->nominal_nl += stroke->nominal_nl;
  log->moved_nl += stroke->moved_nl;
  log->tip_ng += stroke->tip_ng;
  log->ordered = log->ordered && stroke->pump_ms > log->last_ms;
  log->last_ms = stroke->pump_ms;
}

static void
busy_day (ThecalEngine *engine)
{
  ThecalPrescription rx;

  thecal_prescription_init (&rx);
  strcpy (rx.drug_id, "morphine");
  rx.concentration_ng_per_ml = CONC;
  rx.mode = THECAL_MODE_FLEX;
  rx.n_flex_steps = 3;
  rx.flex_steps[0] = (ThecalFlexStep){ 0, 420, { THECAL_BASIS_RATE, 0, 123000 } };
  rx.flex_steps[1] = (ThecalFlexStep){ 420, 600, { THECAL_BASIS_RATE, 0, 311000 } };
  rx.flex_steps[2] = (ThecalFlexStep){ 1020, 420, { THECAL_BASIS_RATE, 0, 77000 } };
  rx.n_periodic_boluses = 2;
  rx.periodic_boluses[0] = (ThecalPeriodicBolus){ 480, 300000, 45 * MINUTE };
  rx.periodic_boluses[1] = (ThecalPeriodicBolus){ 1410, 200000, HOUR }; /* wraps midnight */
  rx.ptm.enabled = true;
  rx.ptm.dose_ng = 250000;
  rx.ptm.duration_ms = 10 * MINUTE;
  rx.ptm.lockout_ms = HOUR;
  rx.ptm.max_per_24h = 4;
  test_set_rx (engine, &rx);
  test_fault (engine, THECAL_FAULT_FLOW_BIAS, 700, 0, 0);
  test_fault (engine, THECAL_FAULT_STROKE_NOISE, 40, 0, 0);
  for (int day = 0; day < 3; day++)
    {
      test_advance (engine, T0 + day * DAY + 9 * HOUR + 7);
      (void) ptm (engine);
      test_advance (engine, T0 + day * DAY + 9 * HOUR + 30 * MINUTE); /* inside the lockout */
      (void) ptm (engine);
      test_advance (engine, T0 + day * DAY + 15 * HOUR);
      ck_assert (thecal_engine_start_clinician_bolus (engine, 400000, 40 * MINUTE, NULL));
      test_advance (engine, T0 + day * DAY + 20 * HOUR + 3);
      (void) ptm (engine);
    }
  test_advance (engine, T0 + 3 * DAY + 5 * HOUR);
}

START_TEST (test_stroke_level_output_agrees)
{
  ThecalEngine *a = new_engine (), *b = new_engine ();
  StrokeLog log = { 0, 0, 0, 0, 0, INT64_MIN, true };
  ThecalEngineStatus sa, sb;

  thecal_engine_set_stroke_func (a, on_stroke, &log);
  busy_day (a);
  busy_day (b);
  sa = test_status (a);
  sb = test_status (b);
  /* stroke by stroke or in closed form: the same pump */
  ck_assert_int_eq (sa.strokes_total, sb.strokes_total);
  ck_assert_int_eq (sa.moved_nl, sb.moved_nl);
  ck_assert_int_eq (sa.delivered_ng, sb.delivered_ng);
  ck_assert_int_eq (sa.reservoir_actual_nl, sb.reservoir_actual_nl);
  ck_assert_int_eq (sa.battery_remaining, sb.battery_remaining);
  ck_assert_int_eq (sa.log_next_seq, sb.log_next_seq);
  for (int i = 0; i < THECAL_SOURCE_N_SOURCES; i++)
    ck_assert_int_eq (sa.nominal_nl[i], sb.nominal_nl[i]);
  /* and the callbacks add up to it */
  ck_assert_int_eq (log.strokes, sa.strokes_total);
  ck_assert_int_eq (log.nominal_nl, sa.pumped_nl);
  ck_assert_int_eq (log.moved_nl, sa.moved_nl);
  ck_assert_int_eq (log.tip_ng, sa.delivered_ng);
  ck_assert (log.ordered);
  ck_assert_int_gt (log.calls, 2000);
  free (a);
  free (b);
}
END_TEST

START_TEST (test_chunking_does_not_matter)
{
  ThecalEngine *a = new_engine (), *b = new_engine ();
  ThecalPrescription rx;
  ThecalRng rng;
  int64_t t = T0;

  /* one advance versus thousands of random small ones: byte-identical engines */
  thecal_rng_seed (&rng, 77);
  busy_day (a);
  busy_day (b);
  rx_with_ptm (&rx);
  rx.n_periodic_boluses = 1;
  rx.periodic_boluses[0] = (ThecalPeriodicBolus){ 8 * 60, MG, HOUR };
  test_set_rx (a, &rx);
  test_set_rx (b, &rx);
  /* a drifting clock that was also set 3 h ahead: still the same pump however time is cut */
  test_fault (a, THECAL_FAULT_CLOCK_DRIFT, -250, 0, 0);
  test_fault (b, THECAL_FAULT_CLOCK_DRIFT, -250, 0, 0);
  ck_assert (thecal_engine_set_clock (a, thecal_engine_pump_ms (a) + 3 * HOUR, NULL));
  ck_assert (thecal_engine_set_clock (b, thecal_engine_pump_ms (b) + 3 * HOUR, NULL));
  t = thecal_engine_true_ms (a);
  test_advance (a, t + 40 * DAY);
  while (t < thecal_engine_true_ms (a))
    {
      t += thecal_rng_range (&rng, 0, 2 * HOUR);
      if (t > thecal_engine_true_ms (a))
        t = thecal_engine_true_ms (a);
      test_advance (b, t);
    }
  ck_assert_int_eq (memcmp (a, b, sizeof *a), 0);
  free (a);
  free (b);
}
END_TEST

START_TEST (test_same_seed_byte_identical)
{
  ThecalEngine *a = new_engine (), *b = new_engine (), *c = test_engine_new_with (&model, 20 * ML, CONC, true, 2);
  static ThecalEngineSample sa[30], sb[30], sc[30];
  ThecalEngineRunSummary ua, ub, uc;
  ThecalPtmPattern pattern;

  /* the same seed and inputs, twice: the same bytes, state and outputs alike */
  busy_day (a);
  busy_day (b);
  busy_day (c);
  ck_assert_int_eq (memcmp (a, b, sizeof *a), 0);
  ck_assert (thecal_ptm_pattern_parse ("07:00,07:30,12:00,19:00", &pattern, NULL));
  test_fault (a, THECAL_FAULT_MOTOR_STALL, 0, thecal_engine_pump_ms (a) + 5 * DAY, 3 * HOUR);
  test_fault (b, THECAL_FAULT_MOTOR_STALL, 0, thecal_engine_pump_ms (b) + 5 * DAY, 3 * HOUR);
  test_fault (c, THECAL_FAULT_MOTOR_STALL, 0, thecal_engine_pump_ms (c) + 5 * DAY, 3 * HOUR);
  memset (sa, 0, sizeof sa);
  memset (sb, 0, sizeof sb);
  memset (sc, 0, sizeof sc);
  ck_assert (thecal_engine_run (a, DAY, 30, &pattern, sa, &ua, NULL));
  ck_assert (thecal_engine_run (b, DAY, 30, &pattern, sb, &ub, NULL));
  ck_assert (thecal_engine_run (c, DAY, 30, &pattern, sc, &uc, NULL));
  ck_assert_int_eq (memcmp (a, b, sizeof *a), 0);
  ck_assert_int_eq (memcmp (sa, sb, sizeof sa), 0);
  ck_assert_int_eq (memcmp (&ua, &ub, sizeof ua), 0);
  /* another seed: another noise draw, another pump */
  ck_assert_int_ne (memcmp (a, c, sizeof *a), 0);
  ck_assert_int_ne (test_status (a).moved_nl, test_status (c).moved_nl);
  free (a);
  free (b);
  free (c);
}
END_TEST

static Suite *
engine_suite (void)
{
  Suite *s = suite_create ("engine");
  TCase *tc = tcase_create ("setup");

  tcase_add_checked_fixture (tc, setup, NULL);
  tcase_add_test (tc, test_models_match_data_file);
  tcase_add_test (tc, test_init_state);
  tcase_add_test (tc, test_init_refusals);
  tcase_add_test (tc, test_unfilled_pump_alarms);
  suite_add_tcase (s, tc);

  tc = tcase_create ("delivery");
  tcase_add_checked_fixture (tc, setup, NULL);
  tcase_add_test (tc, test_continuous_worked_example);
  tcase_add_test (tc, test_rate_range_refusals);
  tcase_add_test (tc, test_flex_delivery);
  tcase_add_test (tc, test_periodic_boluses_logged);
  tcase_add_test (tc, test_prescription_change_mid_bolus);
  tcase_add_test (tc, test_clinician_bolus_then_resume);
  tcase_add_test (tc, test_clinician_bolus_cancel);
  tcase_add_test (tc, test_phase_bolus_plan);
  suite_add_tcase (s, tc);

  tc = tcase_create ("ptm");
  tcase_add_checked_fixture (tc, setup, NULL);
  tcase_add_test (tc, test_ptm_lockout_and_daily_max);
  tcase_add_test (tc, test_ptm_refusal_reasons);
  suite_add_tcase (s, tc);

  tc = tcase_create ("alarms and faults");
  tcase_add_checked_fixture (tc, setup, NULL);
  tcase_add_test (tc, test_low_reservoir_non_critical);
  tcase_add_test (tc, test_critical_alarm_latched);
  tcase_add_test (tc, test_memory_error);
  tcase_add_test (tc, test_occlusion_shows_at_refill);
  tcase_add_test (tc, test_transient_occlusion);
  tcase_add_test (tc, test_clock_set);
  tcase_add_test (tc, test_clock_drift);
  tcase_add_test (tc, test_command_refusals);
  tcase_add_test (tc, test_drug_slots_capacity);
  tcase_add_test (tc, test_end_of_service);
  suite_add_tcase (s, tc);

  tc = tcase_create ("closed form");
  tcase_add_checked_fixture (tc, setup, NULL);
  tcase_add_test (tc, test_stroke_level_output_agrees);
  tcase_add_test (tc, test_chunking_does_not_matter);
  tcase_add_test (tc, test_same_seed_byte_identical);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (engine_suite)
