/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-sim-pump-demo.c: the named demo pumps reach, at the demo instant, the state their summary
 * gives (docs/telemetry.md "Demo pumps"), on the models of data/pump-models.json.
 */
#include "config.h"

#include "sim-pump-test-util.h"
#include "thecal-sim-pump-demo.h"
#include "thecal-test.h"

static ThecalSimPump pump;
static ThecalEngineStatus st;

static void
start (const char *serial)
{
  const ThecalSimPumpDemo *demo = thecal_sim_pump_demo_find (serial);
  ThecalPumpModel model;
  ThecalDoseError error;
  uint8_t key[THECAL_KEY_SIZE];

  ck_assert_msg (demo != NULL, "%s is not a demo pump", serial);
  model = strcmp (demo->model_id, "TR-40") == 0 ? thecal_test_tr40 () : thecal_test_tr20 ();
  thecal_dose_error_clear (&error);
  ck_assert_msg (thecal_sim_pump_demo_init (&pump, demo, &model, &error), "%s: %s", error.field, error.message);
  thecal_engine_get_status (thecal_sim_pump_engine (&pump), &st);
  ck_assert_int_eq (st.pump_ms, THECAL_SIM_PUMP_DEMO_INSTANT_MS);
  ck_assert_str_eq (thecal_sim_pump_identity (&pump)->serial, serial);
  ck_assert_str_eq (thecal_sim_pump_identity (&pump)->model_id, demo->model_id);
  thecal_sim_pump_demo_key (serial, key);
  ck_assert_mem_eq (thecal_sim_pump_key (&pump), key, sizeof key);
  ck_assert_str_eq (thecal_sim_pump_active (&pump)->drug_id, demo->drug_id);
  ck_assert_int_eq (st.reservoir_estimate_nl, demo->reservoir_nl);
  ck_assert_int_gt (st.log_next_seq, 2);
}

START_TEST (test_models_are_the_shipped_ones)
{
  thecal_test_expect_models_match_data_file ();
}
END_TEST

START_TEST (test_table)
{
  ck_assert_int_eq (thecal_sim_pump_demo_count (), 6);
  ck_assert_ptr_null (thecal_sim_pump_demo_get (-1));
  ck_assert_ptr_null (thecal_sim_pump_demo_get (6));
  ck_assert_ptr_null (thecal_sim_pump_demo_find ("TR20-999999"));
  ck_assert_ptr_null (thecal_sim_pump_demo_find (NULL));
  ck_assert_str_eq (thecal_sim_pump_demo_get (0)->serial, THECAL_SIM_PUMP_DEMO_DEFAULT_SERIAL);
  for (int32_t i = 0; i < thecal_sim_pump_demo_count (); i++)
    ck_assert_ptr_eq (thecal_sim_pump_demo_find (thecal_sim_pump_demo_get (i)->serial), thecal_sim_pump_demo_get (i));
}
END_TEST

START_TEST (test_wrong_model_refused)
{
  ThecalPumpModel tr40 = thecal_test_tr40 ();
  ThecalDoseError error;

  thecal_dose_error_clear (&error);
  ck_assert (!thecal_sim_pump_demo_init (&pump, thecal_sim_pump_demo_find ("TR20-000123"), &tr40, &error));
  ck_assert_str_eq (error.field, "model");
}
END_TEST

START_TEST (test_default_pump)
{
  ThecalPrescription rx;

  start ("TR20-000123");
  /* morphine 25 mg/mL, 5 mg/day = 0.2 mL/day, 12 mL, nothing wrong */
  test_rx_morphine (&rx, 5);
  ck_assert (thecal_prescription_equal (thecal_sim_pump_active (&pump), &rx));
  ck_assert_int_eq (st.reservoir_estimate_nl, 12000000);
  ck_assert_int_eq (st.reservoir_actual_nl, 12000000);
  for (int kind = 0; kind < THECAL_ALARM_N_KINDS; kind++)
    ck_assert_msg (!st.alarms[kind].raised, "alarm %s", thecal_alarm_kind_name ((ThecalAlarmKind) kind));
  ck_assert (st.delivering);
}
END_TEST

START_TEST (test_low_reservoir_pump)
{
  start ("TR20-000124");
  ck_assert_int_eq (st.reservoir_estimate_nl, 1800000);
  ck_assert (st.alarms[THECAL_ALARM_LOW_RESERVOIR].raised);
  ck_assert (!st.alarms[THECAL_ALARM_RESERVOIR_EMPTY].raised);
}
END_TEST

START_TEST (test_near_eri_pump)
{
  start ("TR40-000125");
  ck_assert (!st.eri);
  ck_assert_int_ge (st.battery_days_left, 91);
  ck_assert_int_le (st.battery_days_left, 100); /* ERI within 10 days */
  ck_assert (thecal_sim_pump_advance_to (&pump, THECAL_SIM_PUMP_DEMO_INSTANT_MS + 10 * TEST_DAY_MS, NULL));
  thecal_engine_get_status (thecal_sim_pump_engine (&pump), &st);
  ck_assert (st.eri);
}
END_TEST

START_TEST (test_over_infusing_pump)
{
  start ("TR20-000126");
  /* 30 days at 0.2 mL/day: 6 mL programmed, 7.2 mL moved at +20 %: the actual volume is 1.2 mL
   * below the estimate, which does not see it (FA596, CLINICAL.md §1.5) */
  ck_assert_int_eq (st.reservoir_estimate_nl, 10000000);
  ck_assert_int_eq (st.reservoir_actual_nl, 10000000 - 1200000);
  ck_assert_int_eq (st.bias_bp, 2000);
}
END_TEST

START_TEST (test_stalled_pump)
{
  start ("TR20-000127");
  ck_assert (st.stalled);
  ck_assert (!st.delivering);
  ck_assert (st.alarms[THECAL_ALARM_MOTOR_STALL].raised);
  ck_assert (st.alarms[THECAL_ALARM_MOTOR_STALL].critical);
  ck_assert_int_eq (st.alarms[THECAL_ALARM_MOTOR_STALL].raised_at_pump_ms, THECAL_SIM_PUMP_DEMO_INSTANT_MS - 2 * TEST_DAY_MS);
  /* a stalled motor makes no strokes: the estimate has stood still for two days */
  ck_assert_int_eq (st.reservoir_estimate_nl, 14000000);
}
END_TEST

START_TEST (test_baclofen_pump)
{
  start ("TR40-000128");
  ck_assert_int_eq (thecal_sim_pump_active (&pump)->mode, THECAL_MODE_FLEX);
  ck_assert_int_eq (st.reservoir_concentration_ng_per_ml, 2000000);
  ck_assert_str_eq (st.reservoir_drug_id, "baclofen");
  /* 09:00 is in the day step: 300 mcg/day at 2 000 mcg/mL = 0.15 mL/day */
  ck_assert (st.delivering);
}
END_TEST

START_TEST (test_same_demo_same_pump)
{
  static ThecalSimPump again;
  const ThecalSimPumpDemo *demo = thecal_sim_pump_demo_find ("TR20-000126");
  ThecalPumpModel model = thecal_test_tr20 ();
  ThecalEngineStatus a, b;

  ck_assert (thecal_sim_pump_demo_init (&pump, demo, &model, NULL));
  ck_assert (thecal_sim_pump_demo_init (&again, demo, &model, NULL));
  thecal_engine_get_status (thecal_sim_pump_engine (&pump), &a);
  thecal_engine_get_status (thecal_sim_pump_engine (&again), &b);
  ck_assert_int_eq (a.reservoir_actual_nl, b.reservoir_actual_nl);
  ck_assert_int_eq (a.log_next_seq, b.log_next_seq);
  ck_assert_int_eq (a.battery_remaining, b.battery_remaining);
}
END_TEST

static Suite *
demo_suite (void)
{
  Suite *suite = suite_create ("sim-pump-demo");

  THECAL_TEST_TCASE (suite, "demo", NULL, NULL, 0,
                     test_models_are_the_shipped_ones,
                     test_table,
                     test_wrong_model_refused,
                     test_default_pump,
                     test_low_reservoir_pump,
                     test_near_eri_pump,
                     test_over_infusing_pump,
                     test_stalled_pump,
                     test_baclofen_pump,
                     test_same_demo_same_pump);
  return suite;
}

THECAL_TEST_MAIN (demo_suite)
