/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-engine-fluid.c: the reservoir's actual volume (flow bias, per-stroke noise, a partial
 * pocket fill) and the fluid path through the dead space (priming, parcels, exact drug amounts).
 *
 * Dead space here: 250 000 nL internal + 45.5 cm × 2 600 nL/cm = 368 300 nL (CLINICAL.md §2.1),
 * 1 473.2 strokes of 250 nL.
 */
#include "config.h"

#include "engine-test-util.h"
#include "thecal-bolus.h"
#include "thecal-test.h"

#define DEAD 368300

static ThecalPumpModel model;

static void
setup (void)
{
  model = thecal_test_tr_model (20);
}

static ThecalEngine *
implant (int64_t fill_nl, int64_t conc, bool primed)
{
  ThecalEngine *engine = calloc (1, sizeof *engine);
  ThecalEngineConfig config;
  ThecalDoseError error;

  thecal_engine_config_init (&config);
  config.model = &model;
  config.start_local_ms = T0;
  config.reservoir_nl = fill_nl;
  config.drug_id = "morphine";
  config.concentration_ng_per_ml = conc;
  config.path_primed = primed;
  config.catheter.catheter_length_mm = 455;
  config.catheter.catheter_volume_nl_per_cm = 2600;
  memset (&error, 0, sizeof error);
  if (!thecal_engine_init (engine, &config, &error))
    ck_abort_msg ("%s", error.message);
  return engine;
}

static int64_t
drug_ng (const ThecalEngine *engine, const char *id)
{
  int64_t ng = -1;

  ck_assert (thecal_engine_delivered_drug (engine, id, NULL, &ng));
  return ng;
}

static int64_t
drug_nl (const ThecalEngine *engine, const char *id)
{
  int64_t nl = -1;

  ck_assert (thecal_engine_delivered_drug (engine, id, &nl, NULL));
  return nl;
}

START_TEST (test_new_implant_delivers_no_drug_until_the_dead_space_is_through)
{
  ThecalEngine *engine = implant (20 * ML, CONC, false);
  ThecalPrescription rx;

  test_rx_continuous_rate (&rx, CONC, 200000);
  test_set_rx (engine, &rx);
  /* 1 473 strokes push 368 250 nL: all of it the non-drug fluid of the path */
  test_advance (engine, T0 + 1473 * 108000);
  ck_assert_int_eq (drug_nl (engine, ""), 368250);
  ck_assert_int_eq (drug_ng (engine, "morphine"), 0);
  ck_assert_str_eq (test_status (engine).tip_drug_id, "");
  /* stroke 1 474: the last 50 nL of it, then 200 nL of morphine (5 000 ng at 25 mg/mL) */
  test_advance (engine, T0 + 1474 * 108000);
  ck_assert_int_eq (drug_nl (engine, ""), DEAD);
  ck_assert_int_eq (drug_ng (engine, "morphine"), 5000);
  ck_assert_str_eq (test_status (engine).tip_drug_id, "morphine");
  /* from then on 6 250 ng a stroke */
  test_advance (engine, T0 + 1484 * 108000);
  ck_assert_int_eq (drug_ng (engine, "morphine"), 5000 + 10 * 6250);
  free (engine);
}
END_TEST

START_TEST (test_priming_bolus_hand_plan)
{
  ThecalEngine *engine = implant (20 * ML, CONC, false);
  ThecalPrescription rx;
  ThecalBolusPlan plan;
  ThecalDoseError error;

  test_rx_continuous_rate (&rx, CONC, 200000);
  test_set_rx (engine, &rx);
  /* priming 1 473 strokes (368 250 nL) at 24 mL/day: 368 250 × 86 400 000 / 24 000 000 ms */
  memset (&plan, 0, sizeof plan);
  plan.n_phases = 2;
  plan.phases[0] = (ThecalBolusPhase){ THECAL_PHASE_PRIMING, 368250, 24 * ML, 1325700, 0, 0, 0 };
  plan.phases[1] = (ThecalBolusPhase){ THECAL_PHASE_PRESCRIPTION, 0, 200000, 0, CONC, 0, 0 };
  memset (&error, 0, sizeof error);
  ck_assert_msg (thecal_engine_start_phase_bolus (engine, &plan, &error), "%s", error.message);
  test_advance (engine, T0 + 1325700);
  ck_assert_int_eq (test_status (engine).nominal_nl[THECAL_SOURCE_PRIMING], 368250);
  ck_assert_int_eq (drug_ng (engine, "morphine"), 0); /* 50 nL of non-drug fluid still at the tip */
  ck_assert (!test_status (engine).bolus_active);
  ck_assert (test_status (engine).delivering);
  /* the prescription's first stroke brings morphine */
  test_advance (engine, T0 + 1325700 + 108000);
  ck_assert_int_eq (drug_ng (engine, "morphine"), 5000);
  free (engine);
}
END_TEST

START_TEST (test_priming_bolus_from_dose_core)
{
  ThecalEngine *engine = implant (20 * ML, CONC, false);
  ThecalPrescription rx;
  ThecalDeliveryPlan plan;
  ThecalBolusPlan bolus;
  ThecalCatheter catheter = { 455, 2600 };
  ThecalDoseError error;
  int64_t priming_nl = 0, priming_ms = 0;

  test_rx_continuous_rate (&rx, CONC, 200000);
  test_set_rx (engine, &rx);
  memset (&error, 0, sizeof error);
  ck_assert (thecal_delivery_plan_resolve (&rx, &model, &plan, &error));
  if (!thecal_priming_bolus (&model, &catheter, &plan, 0, &bolus, &error))
    ck_abort_msg ("thecal_priming_bolus: %s", error.message);
  /* the calculator and the engine agree on the dead space */
  ck_assert_int_eq (bolus.dead_space_nl, test_status (engine).dead_space_nl);
  for (int32_t i = 0; i < bolus.n_phases; i++)
    if (bolus.phases[i].kind == THECAL_PHASE_PRIMING)
      {
        priming_nl += bolus.phases[i].volume_nl;
        priming_ms += bolus.phases[i].duration_ms;
      }
  ck_assert_int_gt (priming_nl, 0);
  memset (&error, 0, sizeof error);
  ck_assert_msg (thecal_engine_start_phase_bolus (engine, &bolus, &error), "%s", error.message);
  test_advance (engine, T0 + priming_ms);
  ck_assert_int_eq (test_status (engine).nominal_nl[THECAL_SOURCE_PRIMING], priming_nl);
  /* after the priming, less than one stroke of non-drug fluid is left in the path */
  ck_assert_int_gt (drug_nl (engine, ""), DEAD - 250);
  ck_assert (test_status (engine).delivering);
  free (engine);
}
END_TEST

START_TEST (test_parcels_merge_and_shift)
{
  ThecalEngine *engine = test_engine_new (&model); /* 250 000 nL path */
  ThecalPrescription rx;
  int64_t volume, conc;
  const char *id;

  test_rx_continuous_rate (&rx, CONC, 200000);
  test_set_rx (engine, &rx);
  ck_assert (thecal_engine_path_parcel (engine, 0, &volume, &id, &conc));
  ck_assert_int_eq (volume, 250000);
  ck_assert (!thecal_engine_path_parcel (engine, 1, NULL, NULL, NULL)); /* same fluid: one parcel */
  /* refill at 10 mg/mL and run 100 strokes: two parcels, the new one at the inlet */
  ck_assert (thecal_engine_set_reservoir (engine, 20 * ML, "morphine", 10 * MG, -1, NULL));
  test_advance (engine, T0 + 100 * 108000);
  ck_assert (thecal_engine_path_parcel (engine, 0, &volume, &id, &conc));
  ck_assert_int_eq (volume, 225000);
  ck_assert_int_eq (conc, CONC);
  ck_assert (thecal_engine_path_parcel (engine, 1, &volume, &id, &conc));
  ck_assert_int_eq (volume, 25000);
  ck_assert_int_eq (conc, 10 * MG);
  ck_assert_str_eq (id, "morphine");
  /* 40 refills that alternate the concentration, one stroke each: parcels merge but never
   * exceed the table, and the path volume never changes */
  for (int i = 0; i < 40; i++)
    {
      ck_assert (thecal_engine_set_reservoir (engine, 20 * ML, "morphine", (i % 2 == 0 ? 12 : 13) * MG, -1, NULL));
      test_advance (engine, T0 + (101 + i) * 108000);
    }
  {
    int64_t total = 0;
    int32_t n = 0;

    while (thecal_engine_path_parcel (engine, n, &volume, NULL, NULL))
      {
        total += volume;
        n++;
      }
    ck_assert_int_eq (total, 250000);
    ck_assert_int_le (n, THECAL_ENGINE_PARCELS_MAX);
  }
  free (engine);
}
END_TEST

START_TEST (test_exact_drug_amounts)
{
  /* 3 mcg/mL: a stroke of 250 nL holds 0.75 ng; the remainder is carried exactly */
  ThecalEngine *engine = test_engine_new_with (&model, 20 * ML, 3000, true, 1);
  ThecalPrescription rx;

  test_rx_continuous_rate (&rx, 3000, 200000);
  test_set_rx (engine, &rx);
  test_advance (engine, T0 + 3 * 108000);
  ck_assert_int_eq (drug_ng (engine, "morphine"), 2); /* 2.25 ng: 2 whole */
  test_advance (engine, T0 + 4 * 108000);
  ck_assert_int_eq (drug_ng (engine, "morphine"), 3); /* 3 ng exactly */
  test_advance (engine, T0 + 1000 * 108000);
  ck_assert_int_eq (drug_ng (engine, "morphine"), 750);
  free (engine);
}
END_TEST

START_TEST (test_flow_bias)
{
  ThecalEngine *engine = test_engine_new (&model);
  ThecalPrescription rx;

  test_rx_continuous_rate (&rx, CONC, 200000);
  test_set_rx (engine, &rx);
  test_fault (engine, THECAL_FAULT_FLOW_BIAS, 2000, 0, 0); /* +20 %: 300 nL a stroke */
  test_advance (engine, T0 + DAY);
  ck_assert_int_eq (test_status (engine).moved_nl, 800 * 300);
  ck_assert_int_eq (test_status (engine).reservoir_estimate_nl, 20 * ML - 800 * 250); /* the pump does not see it */
  test_fault (engine, THECAL_FAULT_FLOW_BIAS, -1000, 0, 0);                           /* −10 %: 225 nL a stroke */
  test_advance (engine, T0 + 2 * DAY);
  ck_assert_int_eq (test_status (engine).moved_nl, 800 * 300 + 800 * 225);
  test_fault (engine, THECAL_FAULT_FLOW_BIAS, 1, 0, 0); /* +0.01 %: 250.025 nL, rounded cumulatively */
  test_advance (engine, T0 + 2 * DAY + 39 * 108000);
  ck_assert_int_eq (test_status (engine).moved_nl, 800 * 525 + 39 * 250 + 1); /* 9 750.975 → 9 751 */
  test_advance (engine, T0 + 2 * DAY + 40 * 108000);
  ck_assert_int_eq (test_status (engine).moved_nl, 800 * 525 + 10001);
  free (engine);
}
END_TEST

typedef struct
{
  int64_t min_moved;
  int64_t max_moved;
  int64_t n;
} NoiseLog;

static void
on_stroke (void *user_data, const ThecalEngineStroke *stroke)
{
  NoiseLog *log = user_data;

  ck_assert_int_eq (stroke->nominal_nl, 250); /* one stroke at a time at this rate */
  if (stroke->moved_nl < log->min_moved)
    log->min_moved = stroke->moved_nl;
  if (stroke->moved_nl > log->max_moved)
    log->max_moved = stroke->moved_nl;
  log->n++;
}

START_TEST (test_stroke_noise)
{
  ThecalEngine *a = test_engine_new_with (&model, 20 * ML, CONC, true, 11);
  ThecalEngine *b = test_engine_new_with (&model, 20 * ML, CONC, true, 11);
  ThecalEngine *c = test_engine_new_with (&model, 20 * ML, CONC, true, 12);
  NoiseLog log = { INT64_MAX, INT64_MIN, 0 };
  ThecalPrescription rx;
  int64_t moved;

  test_rx_continuous_rate (&rx, CONC, 200000);
  test_set_rx (a, &rx);
  test_set_rx (b, &rx);
  test_set_rx (c, &rx);
  test_fault (a, THECAL_FAULT_STROKE_NOISE, 50, 0, 0);
  test_fault (b, THECAL_FAULT_STROKE_NOISE, 50, 0, 0);
  test_fault (c, THECAL_FAULT_STROKE_NOISE, 50, 0, 0);
  thecal_engine_set_stroke_func (a, on_stroke, &log);
  test_advance (a, T0 + 10 * DAY);
  test_advance (b, T0 + 10 * DAY);
  test_advance (c, T0 + 10 * DAY);
  /* each stroke within ±50 nL, both ends reached over 8 000 strokes */
  ck_assert_int_eq (log.n, 8000);
  ck_assert_int_eq (log.min_moved, 200);
  ck_assert_int_eq (log.max_moved, 300);
  /* same seed, same pump; another seed, another pump */
  moved = test_status (a).moved_nl;
  ck_assert_int_eq (moved, test_status (b).moved_nl);
  ck_assert_int_ne (moved, test_status (c).moved_nl);
  /* zero mean: the sum of 8 000 draws of ±50 stays within 5 standard deviations (5 × 2 586 nL) */
  ck_assert_int_lt (moved - 8000 * 250, 13000);
  ck_assert_int_gt (moved - 8000 * 250, -13000);
  free (a);
  free (b);
  free (c);
}
END_TEST

START_TEST (test_partial_pocket_fill)
{
  ThecalEngine *engine = test_engine_new (&model);
  ThecalPrescription rx;
  ThecalEngineStatus st;

  test_rx_continuous_rate (&rx, CONC, 200000);
  test_set_rx (engine, &rx);
  /* 20 mL entered, only 5 mL went into the reservoir (the rest into the pocket, CLINICAL §1.6) */
  ck_assert (thecal_engine_set_reservoir (engine, 20 * ML, "morphine", CONC, 5 * ML, NULL));
  test_advance (engine, T0 + 30 * DAY);
  st = test_status (engine);
  /* empty after 4 mL (20 days); the estimate still shows 16 mL: no low-reservoir alarm */
  ck_assert_int_eq (st.alarms[THECAL_ALARM_RESERVOIR_EMPTY].raised_at_pump_ms, T0 + 20 * DAY);
  ck_assert (!st.alarms[THECAL_ALARM_LOW_RESERVOIR].raised);
  ck_assert_int_eq (st.reservoir_estimate_nl, 16 * ML);
  ck_assert_int_eq (st.reservoir_actual_nl, ML);
  ck_assert (!st.delivering);
  free (engine);
}
END_TEST

static Suite *
fluid_suite (void)
{
  Suite *s = suite_create ("engine-fluid");
  TCase *tc = tcase_create ("fluid");

  tcase_add_checked_fixture (tc, setup, NULL);
  tcase_add_test (tc, test_new_implant_delivers_no_drug_until_the_dead_space_is_through);
  tcase_add_test (tc, test_priming_bolus_hand_plan);
  tcase_add_test (tc, test_priming_bolus_from_dose_core);
  tcase_add_test (tc, test_parcels_merge_and_shift);
  tcase_add_test (tc, test_exact_drug_amounts);
  tcase_add_test (tc, test_flow_bias);
  tcase_add_test (tc, test_stroke_noise);
  tcase_add_test (tc, test_partial_pocket_fill);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (fluid_suite)
