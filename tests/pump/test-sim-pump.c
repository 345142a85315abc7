/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-sim-pump.c: the simulated implant: its ops on the engine, its own hard limits (called
 * directly and through the protocol, out-of-range values sent as they are), and the protocol
 * against it (identify, two-phase programming, the log).
 *
 * Worked numbers (CLINICAL.md, the shared decisions): morphine 25 mg/mL at 5 mg/day is
 * 5 000 000 × 1 000 000 / 25 000 000 = 200 000 nL/day (0.2 mL/day). The TR-20 runs 48 000 to
 * 24 000 000 nL/day, boluses up to 24 000 000 nL/day (1 mL/h), holds 20 000 000 nL.
 */
#include "config.h"

#include "sim-pump-test-util.h"
#include "thecal-test.h"

/* BLAKE2b-256 ("THECAL-DEMO-KEY-1" ‖ 0x0b ‖ "TR20-000123"), first 16 bytes */
#define DEMO_KEY_TR20_000123_HEX "8d924cc331f75bef58398ad298082004" /* checked with Python hashlib.blake2b */

static ThecalSimPump pump;
static ThecalProgrammer programmer;
static ThecalPumpModel tr20;
static ThecalPrescription rx5;
static uint64_t programmer_seed;
static TestLink link;

static void
setup (void)
{
  tr20 = thecal_test_tr20 ();
  test_rx_morphine (&rx5, 5);
  test_sim_pump_init (&pump, &tr20, &rx5, 12 * THECAL_NL_PER_ML);
  programmer_seed = 7;
  test_programmer_init (&programmer, &programmer_seed);
  test_link_init (&link, &programmer, &pump);
}

static void
teardown (void)
{
}

/* The op refused with REFUSED_BY_PUMP_LIMIT and @limit, its reason containing @needle. */
static void
assert_limit (bool ok, const ThecalProtoError *error, ThecalPumpLimit limit, const char *needle)
{
  ck_assert_msg (!ok, "accepted, expected the limit %s", thecal_pump_limit_name (limit));
  ck_assert_msg (error->code == THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, "code %s (%s)", thecal_proto_error_code_name (error->code),
                 error->reason);
  ck_assert_msg (error->detail == limit, "limit %s, expected %s (%s)", thecal_pump_limit_name ((ThecalPumpLimit) error->detail),
                 thecal_pump_limit_name (limit), error->reason);
  ck_assert_msg (needle == NULL || strstr (error->reason, needle) != NULL, "reason “%s” does not name “%s”", error->reason, needle);
}

static void
assert_code (bool ok, const ThecalProtoError *error, ThecalProtoErrorCode code)
{
  ck_assert_msg (!ok, "accepted, expected %s", thecal_proto_error_code_name (code));
  ck_assert_msg (error->code == code, "code %s, expected %s (%s)", thecal_proto_error_code_name (error->code),
                 thecal_proto_error_code_name (code), error->reason);
}

static bool
check (const ThecalPrescription *rx, ThecalProtoError *error)
{
  thecal_proto_error_clear (error);
  return thecal_sim_pump_ops.check_prescription (&pump, rx, error);
}

static void
status (ThecalProtoStatus *out)
{
  ThecalProtoError error;

  memset (out, 0, sizeof *out);
  ck_assert (thecal_sim_pump_ops.get_status (&pump, out, &error));
}

/* ---- state ------------------------------------------------------------------------------------ */

START_TEST (test_init_state)
{
  ThecalProtoStatus st;
  ThecalPrescription rx;
  ThecalProtoError error;
  ThecalEngineStatus es;

  status (&st);
  ck_assert_int_eq (st.pump_ms, TEST_START_MS);
  ck_assert_int_eq (st.mode, THECAL_MODE_CONTINUOUS);
  ck_assert (st.delivering);
  ck_assert_int_eq (st.reservoir_estimate_nl, 12000000);
  ck_assert_int_eq (st.reservoir_set_nl, 12000000);
  ck_assert_str_eq (st.reservoir_drug_id, "morphine");
  ck_assert_int_eq (st.reservoir_concentration_ng_per_ml, 25000000);
  ck_assert_int_eq (st.battery_bp, 10000);
  ck_assert (!st.eri && !st.eos);
  ck_assert_int_eq (st.n_alarms, 0);
  ck_assert_int_eq (st.log_oldest_seq, 1);
  ck_assert_int_ge (st.log_next_seq, 3); /* engine start, prescription set */
  /* EOS: a new battery at 0.2 mL/day lasts 2 366 days (docs/engine.md "Battery"); the whole days
   * left are rounded down, so the date shown is 2 365 or 2 366 days ahead, never later */
  ck_assert_int_ge ((st.eos_pump_ms - st.pump_ms) / TEST_DAY_MS, 2365);
  ck_assert_int_le ((st.eos_pump_ms - st.pump_ms) / TEST_DAY_MS, 2366);
  ck_assert_int_eq (st.eos_pump_ms - st.eri_pump_ms, 90 * TEST_DAY_MS);

  ck_assert (thecal_sim_pump_ops.get_prescription (&pump, &rx, &error));
  ck_assert (thecal_prescription_equal (&rx, &rx5));
  thecal_engine_get_status (thecal_sim_pump_engine (&pump), &es);
  ck_assert_int_eq (es.mode, THECAL_MODE_CONTINUOUS);
  ck_assert_str_eq (thecal_sim_pump_identity (&pump)->serial, TEST_SERIAL);
  ck_assert_str_eq (thecal_sim_pump_identity (&pump)->model_id, "TR-20");
}
END_TEST

START_TEST (test_advance_delivers)
{
  ThecalProtoStatus st;

  /* 10 days at 0.2 mL/day: 2 mL */
  ck_assert (thecal_sim_pump_advance_to (&pump, TEST_START_MS + 10 * TEST_DAY_MS, NULL));
  status (&st);
  ck_assert_int_eq (st.reservoir_estimate_nl, 10000000);
  ck_assert_int_eq (thecal_sim_pump_now_ms (&pump), TEST_START_MS + 10 * TEST_DAY_MS);
  /* going back changes nothing */
  ck_assert (thecal_sim_pump_advance_to (&pump, TEST_START_MS, NULL));
  ck_assert_int_eq (thecal_sim_pump_now_ms (&pump), TEST_START_MS + 10 * TEST_DAY_MS);
}
END_TEST

START_TEST (test_init_refuses_what_the_pump_refuses)
{
  ThecalSimPumpConfig config;
  ThecalDoseError error;
  static ThecalSimPump other;

  thecal_sim_pump_config_init (&config);
  config.model = &tr20;
  snprintf (config.serial, sizeof config.serial, "TR20-1");
  config.start_local_ms = TEST_START_MS;
  config.reservoir_nl = 5000000;
  snprintf (config.drug_id, sizeof config.drug_id, "baclofen");
  config.concentration_ng_per_ml = 2000000;
  config.has_prescription = true;
  config.prescription = rx5; /* morphine into a baclofen pump */
  thecal_dose_error_clear (&error);
  ck_assert (!thecal_sim_pump_init (&other, &config, &error));
  ck_assert_msg (strstr (error.message, "baclofen") != NULL, "%s", error.message);

  config.has_prescription = false;
  config.serial[0] = '\0';
  thecal_dose_error_clear (&error);
  ck_assert (!thecal_sim_pump_init (&other, &config, &error));
  ck_assert_str_eq (error.field, "serial");
}
END_TEST

/* ---- the pump's own limits -------------------------------------------------------------------- */

START_TEST (test_rate_above_max)
{
  ThecalPrescription rx;
  ThecalProtoError error;

  /* 24 mL/day is the maximum: allowed; one resolution step more is refused */
  test_rx_rate (&rx, 24000000);
  ck_assert_msg (check (&rx, &error), "%s", error.reason);
  test_rx_rate (&rx, 24001000);
  assert_limit (check (&rx, &error), &error, THECAL_PUMP_LIMIT_RATE_ABOVE_MAX, "above the maximum 24 mL/day");
  /* 700 mg/day at 25 mg/mL = 28 mL/day, written as a dose */
  test_rx_morphine (&rx, 700);
  assert_limit (check (&rx, &error), &error, THECAL_PUMP_LIMIT_RATE_ABOVE_MAX, "28 mL/day");
  /* an overflow attempt: the largest dose */
  rx.continuous.dose_ng_per_day = INT64_MAX;
  ck_assert (!check (&rx, &error));
  ck_assert (thecal_prescription_equal (thecal_sim_pump_active (&pump), &rx5));
}
END_TEST

START_TEST (test_rate_below_min)
{
  ThecalPrescription rx;
  ThecalProtoError error;

  test_rx_rate (&rx, 48000);
  ck_assert_msg (check (&rx, &error), "%s", error.reason);
  test_rx_rate (&rx, 47000);
  assert_limit (check (&rx, &error), &error, THECAL_PUMP_LIMIT_RATE_BELOW_MIN, "below the minimum 0.048 mL/day");
  /* the minimum-rate mode is the model's own rate, below the range by design */
  test_rx_rate (&rx, 0);
  rx.mode = THECAL_MODE_MINIMUM_RATE;
  ck_assert_msg (check (&rx, &error), "%s", error.reason);
}
END_TEST

START_TEST (test_flex_step_out_of_range)
{
  ThecalPrescription rx;
  ThecalProtoError error;

  test_rx_morphine (&rx, 5);
  rx.mode = THECAL_MODE_FLEX;
  rx.n_flex_steps = 2;
  rx.flex_steps[0] = (ThecalFlexStep){ .start_min = 0, .duration_min = 720, .amount = { .basis = THECAL_BASIS_RATE, .rate_nl_per_day = 200000 } };
  rx.flex_steps[1] = (ThecalFlexStep){ .start_min = 720, .duration_min = 720, .amount = { .basis = THECAL_BASIS_RATE, .rate_nl_per_day = 30000000 } };
  assert_limit (check (&rx, &error), &error, THECAL_PUMP_LIMIT_RATE_ABOVE_MAX, "30 mL/day");
  rx.flex_steps[1].amount.rate_nl_per_day = 24000000;
  ck_assert_msg (check (&rx, &error), "%s", error.reason);
}
END_TEST

START_TEST (test_drug_and_concentration)
{
  ThecalPrescription rx;
  ThecalProtoError error;

  test_rx_morphine (&rx, 5);
  snprintf (rx.drug_id, sizeof rx.drug_id, "hydromorphone");
  assert_limit (check (&rx, &error), &error, THECAL_PUMP_LIMIT_DRUG, "holds morphine, not hydromorphone");
  test_rx_morphine (&rx, 5);
  rx.concentration_ng_per_ml = 10 * THECAL_NG_PER_MG;
  assert_limit (check (&rx, &error), &error, THECAL_PUMP_LIMIT_CONCENTRATION, "not 10 mg/mL");
  /* stopping needs no drug */
  thecal_prescription_init (&rx);
  ck_assert_msg (check (&rx, &error), "%s", error.reason);
}
END_TEST

START_TEST (test_bolus_rate_of_prescription)
{
  ThecalPrescription rx;
  ThecalProtoError error;

  /* a periodic bolus of 1 mg = 0.04 mL: 24 mL/day (1 mL/h) is 2.4 min = 144 000 ms */
  test_rx_morphine (&rx, 5);
  rx.n_periodic_boluses = 1;
  rx.periodic_boluses[0] = (ThecalPeriodicBolus){ .start_min = 480, .dose_ng = THECAL_NG_PER_MG, .duration_ms = 144000 };
  ck_assert_msg (check (&rx, &error), "%s", error.reason);
  rx.periodic_boluses[0].duration_ms = 143999;
  assert_limit (check (&rx, &error), &error, THECAL_PUMP_LIMIT_BOLUS_RATE, "periodic bolus 1");

  /* a PTM bolus of 0.5 mg (0.02 mL) over 1 min = 28.8 mL/day */
  test_rx_morphine (&rx, 5);
  rx.ptm = (ThecalPtmSettings){ .enabled = true, .dose_ng = 500000, .duration_ms = 60000, .lockout_ms = 3600000, .max_per_24h = 4 };
  assert_limit (check (&rx, &error), &error, THECAL_PUMP_LIMIT_BOLUS_RATE, "PTM bolus");
  rx.ptm.duration_ms = 72000; /* 0.02 mL in 72 s = 24 mL/day exactly */
  ck_assert_msg (check (&rx, &error), "%s", error.reason);
  rx.ptm.max_per_24h = 97;
  assert_limit (check (&rx, &error), &error, THECAL_PUMP_LIMIT_OTHER, "96");
}
END_TEST

START_TEST (test_reservoir_capacity)
{
  ThecalMsgSetReservoir refill = { .volume_nl = 20000000, .drug_id = "morphine", .concentration_ng_per_ml = 25000000 };
  ThecalProtoError error;
  ThecalProtoStatus st;

  ck_assert_msg (thecal_sim_pump_ops.set_reservoir (&pump, &refill, &error), "%s", error.reason);
  status (&st);
  ck_assert_int_eq (st.reservoir_estimate_nl, 20000000);
  refill.volume_nl = 20000001;
  assert_limit (thecal_sim_pump_ops.set_reservoir (&pump, &refill, &error), &error, THECAL_PUMP_LIMIT_RESERVOIR_CAPACITY,
                "above the reservoir capacity 20 mL");
  refill.volume_nl = INT64_MAX;
  assert_limit (thecal_sim_pump_ops.set_reservoir (&pump, &refill, &error), &error, THECAL_PUMP_LIMIT_RESERVOIR_CAPACITY, NULL);
  refill.volume_nl = -1;
  assert_code (thecal_sim_pump_ops.set_reservoir (&pump, &refill, &error), &error, THECAL_PROTO_ERROR_BAD_REQUEST);
  /* another drug under a running morphine prescription: only with a prescription for it */
  refill = (ThecalMsgSetReservoir){ .volume_nl = 10000000, .drug_id = "baclofen", .concentration_ng_per_ml = 2000000 };
  assert_limit (thecal_sim_pump_ops.set_reservoir (&pump, &refill, &error), &error, THECAL_PUMP_LIMIT_DRUG,
                "use REFILL_COMMIT with a prescription staged for the new fill");
  refill = (ThecalMsgSetReservoir){ .volume_nl = 10000000, .drug_id = "morphine", .concentration_ng_per_ml = 10000000 };
  assert_limit (thecal_sim_pump_ops.set_reservoir (&pump, &refill, &error), &error, THECAL_PUMP_LIMIT_CONCENTRATION, NULL);
  status (&st);
  ck_assert_int_eq (st.reservoir_estimate_nl, 20000000); /* unchanged by the refusals */
  ck_assert_int_eq (thecal_sim_pump_stats (&pump)->reservoir_sets, 1);
}
END_TEST

START_TEST (test_drug_change_sequence)
{
  ThecalPrescription stopped, baclofen;
  ThecalMsgSetReservoir refill = { .volume_nl = 18000000, .drug_id = "baclofen", .concentration_ng_per_ml = 2000000 };
  ThecalProtoError error;

  /* stop → refill with the new drug → program it */
  thecal_prescription_init (&stopped);
  ck_assert (thecal_sim_pump_ops.apply_prescription (&pump, &stopped, &error));
  ck_assert_msg (thecal_sim_pump_ops.set_reservoir (&pump, &refill, &error), "%s", error.reason);
  thecal_prescription_init (&baclofen);
  snprintf (baclofen.drug_id, sizeof baclofen.drug_id, "baclofen");
  baclofen.concentration_ng_per_ml = 2000000;
  baclofen.mode = THECAL_MODE_CONTINUOUS;
  baclofen.continuous.basis = THECAL_BASIS_DOSE;
  baclofen.continuous.dose_ng_per_day = 300000; /* 300 mcg/day = 0.15 mL/day */
  ck_assert_msg (thecal_sim_pump_ops.apply_prescription (&pump, &baclofen, &error), "%s", error.reason);
  ck_assert (thecal_prescription_equal (thecal_sim_pump_active (&pump), &baclofen));
  ck_assert_int_eq (thecal_sim_pump_stats (&pump)->prescriptions_set, 2);
}
END_TEST

static ThecalMsgStartBolus
clinician_bolus (int64_t dose_ng, int64_t duration_ms)
{
  ThecalMsgStartBolus request;

  memset (&request, 0, sizeof request);
  ck_assert (thecal_sim_pump_active_checksum (&pump, &request.active));
  request.kind = THECAL_PROTO_BOLUS_CLINICIAN;
  request.dose_ng = dose_ng;
  request.duration_ms = duration_ms;
  return request;
}

/* A drug or concentration change in one step (REFILL_COMMIT's ops): every check first, then the
 * fill and the prescription at the same engine instant, both logged, both counted. */
START_TEST (test_refill_and_apply)
{
  ThecalPrescription rx50, baclofen, high;
  ThecalMsgSetReservoir fill = { .volume_nl = 18000000, .drug_id = "morphine", .concentration_ng_per_ml = 50000000 };
  ThecalMsgSetReservoir unknown = fill;
  ThecalProtoError error;
  ThecalEngineStatus es;
  ThecalEngineEvent reservoir_set, rx_set;
  int64_t next_seq, pump_ms;

  test_rx_morphine (&rx50, 5);
  rx50.concentration_ng_per_ml = 50000000; /* 5 mg/day at 50 mg/mL = 0.1 mL/day */
  unknown.volume_nl = -1;

  /* checked against the fill, not the reservoir (which holds 25 mg/mL) */
  assert_limit (check (&rx50, &error), &error, THECAL_PUMP_LIMIT_CONCENTRATION, NULL);
  ck_assert_msg (thecal_sim_pump_ops.check_refill (&pump, &unknown, &rx50, &error), "%s", error.reason);
  ck_assert_msg (thecal_sim_pump_ops.check_refill (&pump, &fill, &rx50, &error), "%s", error.reason);
  baclofen = rx50;
  snprintf (baclofen.drug_id, sizeof baclofen.drug_id, "baclofen");
  assert_limit (thecal_sim_pump_ops.check_refill (&pump, &fill, &baclofen, &error), &error, THECAL_PUMP_LIMIT_DRUG,
                "fill holds morphine, not baclofen");
  high = rx50;
  high.continuous.dose_ng_per_day = 1400000000; /* 28 mL/day at 50 mg/mL */
  assert_limit (thecal_sim_pump_ops.check_refill (&pump, &fill, &high, &error), &error, THECAL_PUMP_LIMIT_RATE_ABOVE_MAX, NULL);
  fill.volume_nl = 20000001;
  assert_limit (thecal_sim_pump_ops.check_refill (&pump, &fill, &rx50, &error), &error, THECAL_PUMP_LIMIT_RESERVOIR_CAPACITY, NULL);
  assert_limit (thecal_sim_pump_ops.refill_and_apply (&pump, &fill, &rx50, &error), &error,
                THECAL_PUMP_LIMIT_RESERVOIR_CAPACITY, NULL);
  assert_code (thecal_sim_pump_ops.refill_and_apply (&pump, &unknown, &rx50, &error), &error, THECAL_PROTO_ERROR_BAD_REQUEST);
  fill.volume_nl = 18000000;
  fill.concentration_ng_per_ml = 0;
  assert_limit (thecal_sim_pump_ops.check_refill (&pump, &fill, &rx50, &error), &error, THECAL_PUMP_LIMIT_CONCENTRATION, NULL);
  fill.concentration_ng_per_ml = 50000000;
  /* nothing changed by the refusals */
  thecal_engine_get_status (thecal_sim_pump_engine (&pump), &es);
  ck_assert_int_eq (es.reservoir_concentration_ng_per_ml, 25000000);
  ck_assert (thecal_prescription_equal (thecal_sim_pump_active (&pump), &rx5));
  ck_assert_int_eq (thecal_sim_pump_stats (&pump)->reservoir_sets, 0);
  ck_assert_int_eq (thecal_sim_pump_stats (&pump)->prescriptions_set, 0);

  next_seq = es.log_next_seq;
  pump_ms = es.pump_ms;
  ck_assert_msg (thecal_sim_pump_ops.refill_and_apply (&pump, &fill, &rx50, &error), "%s", error.reason);
  ck_assert (thecal_prescription_equal (thecal_sim_pump_active (&pump), &rx50));
  ck_assert_int_eq (thecal_sim_pump_stats (&pump)->reservoir_sets, 1);
  ck_assert_int_eq (thecal_sim_pump_stats (&pump)->prescriptions_set, 1);
  thecal_engine_get_status (thecal_sim_pump_engine (&pump), &es);
  ck_assert_int_eq (es.mode, THECAL_MODE_CONTINUOUS);
  ck_assert_str_eq (es.reservoir_drug_id, "morphine");
  ck_assert_int_eq (es.reservoir_concentration_ng_per_ml, 50000000);
  ck_assert_int_eq (es.reservoir_set_nl, 18000000);
  ck_assert_int_eq (es.pump_ms, pump_ms);
  /* both logged, one after the other, at the same instant: nothing delivered between */
  ck_assert (thecal_engine_log_get (thecal_sim_pump_engine (&pump), next_seq, &reservoir_set));
  ck_assert (thecal_engine_log_get (thecal_sim_pump_engine (&pump), next_seq + 1, &rx_set));
  ck_assert_int_eq (reservoir_set.type, THECAL_EVENT_RESERVOIR_SET);
  ck_assert_int_eq (reservoir_set.args[0], 18000000);
  ck_assert_int_eq (reservoir_set.args[1], 50000000);
  ck_assert_int_eq (rx_set.type, THECAL_EVENT_PRESCRIPTION_SET);
  ck_assert_int_eq (reservoir_set.pump_ms, pump_ms);
  ck_assert_int_eq (rx_set.pump_ms, pump_ms);
  /* the new rate from the new fill: 0.1 mL a day */
  ck_assert (thecal_sim_pump_advance_to (&pump, thecal_sim_pump_now_ms (&pump) + TEST_DAY_MS, NULL));
  thecal_engine_get_status (thecal_sim_pump_engine (&pump), &es);
  ck_assert_int_eq (es.reservoir_estimate_nl, 18000000 - 100000);
}
END_TEST

START_TEST (test_refill_and_apply_busy)
{
  ThecalPrescription rx50;
  ThecalMsgSetReservoir fill = { .volume_nl = 18000000, .drug_id = "morphine", .concentration_ng_per_ml = 50000000 };
  ThecalMsgStartBolus bolus = { .kind = THECAL_PROTO_BOLUS_CLINICIAN, .dose_ng = 500000, .duration_ms = 1800000 };
  ThecalProtoError error;
  ThecalEngineStatus es;

  test_rx_morphine (&rx50, 5);
  rx50.concentration_ng_per_ml = 50000000;
  ck_assert_msg (thecal_sim_pump_ops.start_bolus (&pump, &bolus, &error), "%s", error.reason);
  assert_code (thecal_sim_pump_ops.refill_and_apply (&pump, &fill, &rx50, &error), &error, THECAL_PROTO_ERROR_BUSY);
  thecal_engine_get_status (thecal_sim_pump_engine (&pump), &es);
  ck_assert_int_eq (es.reservoir_concentration_ng_per_ml, 25000000);
  ck_assert (thecal_prescription_equal (thecal_sim_pump_active (&pump), &rx5));
}
END_TEST

START_TEST (test_bolus_limits_and_busy)
{
  ThecalMsgStartBolus bolus;
  ThecalPrescription rx6;
  ThecalProtoError error;
  ThecalProtoStatus st;

  /* 1 mg = 0.04 mL: over 2.4 min is the ceiling, one ms less is too fast */
  bolus = clinician_bolus (THECAL_NG_PER_MG, 143999);
  assert_limit (thecal_sim_pump_ops.start_bolus (&pump, &bolus, &error), &error, THECAL_PUMP_LIMIT_BOLUS_RATE, "clinician bolus");
  /* 275 mg = 11 mL: more than the 12 − 1 = 11 mL the reservoir can give? exactly 11: allowed;
   * 275.00625 mg rounds to 11.00025 mL: one stroke more is refused */
  bolus = clinician_bolus (275006250, 30 * TEST_DAY_MS);
  assert_limit (thecal_sim_pump_ops.start_bolus (&pump, &bolus, &error), &error, THECAL_PUMP_LIMIT_VOLUME, "can give");
  bolus = clinician_bolus (0, 60000);
  assert_code (thecal_sim_pump_ops.start_bolus (&pump, &bolus, &error), &error, THECAL_PROTO_ERROR_BAD_REQUEST);

  bolus = clinician_bolus (THECAL_NG_PER_MG, 3600000);
  ck_assert_msg (thecal_sim_pump_ops.start_bolus (&pump, &bolus, &error), "%s", error.reason);
  status (&st);
  ck_assert (st.bolus_active);
  ck_assert_int_eq (st.bolus_source, THECAL_PROTO_SOURCE_CLINICIAN);
  ck_assert_int_eq (st.bolus_planned_nl, 40000);
  ck_assert (!st.delivering); /* the clinician bolus suspends the basal */

  /* while it runs: no prescription, no second bolus */
  test_rx_morphine (&rx6, 6);
  assert_code (check (&rx6, &error), &error, THECAL_PROTO_ERROR_BUSY);
  assert_code (thecal_sim_pump_ops.apply_prescription (&pump, &rx6, &error), &error, THECAL_PROTO_ERROR_BUSY);
  assert_code (thecal_sim_pump_ops.start_bolus (&pump, &bolus, &error), &error, THECAL_PROTO_ERROR_BUSY);
  ck_assert (thecal_prescription_equal (thecal_sim_pump_active (&pump), &rx5));

  ck_assert (thecal_sim_pump_ops.cancel_bolus (&pump, &error));
  assert_code (thecal_sim_pump_ops.cancel_bolus (&pump, &error), &error, THECAL_PROTO_ERROR_REFUSED);
  ck_assert_msg (check (&rx6, &error), "%s", error.reason);
  ck_assert_int_eq (thecal_sim_pump_stats (&pump)->refused_busy, 3);
}
END_TEST

START_TEST (test_priming_plan_limits)
{
  ThecalDeliveryPlan plan;
  ThecalBolusPlan priming;
  ThecalCatheter catheter = { .catheter_length_mm = 455, .catheter_volume_nl_per_cm = 2600 };
  ThecalMsgStartBolus request;
  ThecalProtoError error;
  ThecalDoseError dose_error;

  thecal_dose_error_clear (&dose_error);
  ck_assert (thecal_delivery_plan_resolve (&rx5, &tr20, &plan, &dose_error));
  ck_assert_msg (thecal_priming_bolus (&tr20, &catheter, &plan, 0, &priming, &dose_error), "%s", dose_error.message);
  memset (&request, 0, sizeof request);
  ck_assert (thecal_sim_pump_active_checksum (&pump, &request.active));
  request.kind = THECAL_PROTO_BOLUS_PRIMING;
  request.plan = priming;

  /* a plan for another catheter pushes the wrong volume */
  request.plan.dead_space_nl += 2600;
  assert_limit (thecal_sim_pump_ops.start_bolus (&pump, &request, &error), &error, THECAL_PUMP_LIMIT_OTHER, "dead space");
  /* a phase faster than the ceiling */
  request.plan = priming;
  request.plan.phases[0].rate_nl_per_day = 24001000;
  assert_limit (thecal_sim_pump_ops.start_bolus (&pump, &request, &error), &error, THECAL_PUMP_LIMIT_BOLUS_RATE, "phase 1");
  request.plan = priming;
  request.plan.phases[0].duration_ms /= 2;
  assert_limit (thecal_sim_pump_ops.start_bolus (&pump, &request, &error), &error, THECAL_PUMP_LIMIT_BOLUS_RATE, NULL);
  /* a bridge phase in a priming bolus */
  request.plan = priming;
  request.plan.phases[0].kind = THECAL_PHASE_BRIDGE;
  assert_code (thecal_sim_pump_ops.start_bolus (&pump, &request, &error), &error, THECAL_PROTO_ERROR_BAD_REQUEST);
  /* the plan as computed runs (dead space 0.25 mL + 45.5 cm × 0.0026 mL/cm = 0.3683 mL) */
  request.plan = priming;
  ck_assert_int_eq (priming.dead_space_nl, 368300);
  ck_assert_msg (thecal_sim_pump_ops.start_bolus (&pump, &request, &error), "%s", error.reason);
}
END_TEST

START_TEST (test_clock_limits)
{
  ThecalMsgClockReply reply;
  ThecalProtoError error;

  assert_limit (thecal_sim_pump_ops.set_clock (&pump, THECAL_SIM_PUMP_CLOCK_MIN_MS - 1, &reply, &error), &error,
                THECAL_PUMP_LIMIT_CLOCK, "2000");
  assert_limit (thecal_sim_pump_ops.set_clock (&pump, THECAL_SIM_PUMP_CLOCK_MAX_MS, &reply, &error), &error,
                THECAL_PUMP_LIMIT_CLOCK, NULL);
  assert_limit (thecal_sim_pump_ops.set_clock (&pump, INT64_MIN, &reply, &error), &error, THECAL_PUMP_LIMIT_CLOCK, NULL);
  ck_assert (thecal_sim_pump_ops.set_clock (&pump, TEST_START_MS + 60000, &reply, &error));
  ck_assert_int_eq (reply.previous_pump_ms, TEST_START_MS);
  ck_assert_int_eq (reply.pump_ms, TEST_START_MS + 60000);
  ck_assert_int_eq (thecal_sim_pump_pump_ms (&pump), TEST_START_MS + 60000);
}
END_TEST

START_TEST (test_alarms)
{
  ThecalProtoError error;
  ThecalProtoStatus st;

  assert_code (thecal_sim_pump_ops.acknowledge_alarm (&pump, THECAL_PROTO_ALARM_LOW_RESERVOIR, &error), &error,
               THECAL_PROTO_ERROR_REFUSED);
  /* 12 mL at 0.2 mL/day reaches 2 mL after 50 days */
  ck_assert (thecal_sim_pump_advance_to (&pump, TEST_START_MS + 50 * TEST_DAY_MS, NULL));
  status (&st);
  ck_assert_int_eq (st.n_alarms, 1);
  ck_assert_int_eq (st.alarms[0].kind, THECAL_PROTO_ALARM_LOW_RESERVOIR);
  ck_assert (st.alarms[0].raised && !st.alarms[0].acknowledged && !st.alarms[0].critical);
  ck_assert_int_eq (st.alarms[0].raised_at_pump_ms, TEST_START_MS + 50 * TEST_DAY_MS);
  ck_assert (thecal_sim_pump_ops.acknowledge_alarm (&pump, THECAL_PROTO_ALARM_LOW_RESERVOIR, &error));
  assert_code (thecal_sim_pump_ops.acknowledge_alarm (&pump, THECAL_PROTO_ALARM_LOW_RESERVOIR, &error), &error,
               THECAL_PROTO_ERROR_REFUSED);
  status (&st);
  ck_assert (st.alarms[0].acknowledged);
}
END_TEST

START_TEST (test_stall_and_eos_are_faults)
{
  ThecalEngineFault stall = { .kind = THECAL_FAULT_MOTOR_STALL, .at_pump_ms = TEST_START_MS + 1000 };
  ThecalMsgStartBolus bolus;
  ThecalProtoError error;
  ThecalProtoStatus st;
  static ThecalSimPump dying;
  ThecalSimPumpConfig config;
  ThecalPrescription rx;

  ck_assert (thecal_sim_pump_inject_fault (&pump, &stall, NULL));
  ck_assert (thecal_sim_pump_advance_to (&pump, TEST_START_MS + 3600000, NULL));
  status (&st);
  ck_assert_int_eq (st.alarms[0].kind, THECAL_PROTO_ALARM_MOTOR_STALL);
  ck_assert (st.alarms[0].critical && st.alarms[0].raised);
  bolus = clinician_bolus (THECAL_NG_PER_MG, 3600000);
  assert_code (thecal_sim_pump_ops.start_bolus (&pump, &bolus, &error), &error, THECAL_PROTO_ERROR_PUMP_FAULT);

  /* a battery at 1 bp lasts under a day: then the pump refuses everything (end of service) */
  thecal_sim_pump_config_init (&config);
  config.model = &tr20;
  snprintf (config.serial, sizeof config.serial, "TR20-EOS");
  config.start_local_ms = TEST_START_MS;
  config.battery_bp = 1;
  ck_assert (thecal_sim_pump_init (&dying, &config, NULL));
  ck_assert (thecal_sim_pump_advance_to (&dying, TEST_START_MS + 2 * TEST_DAY_MS, NULL));
  memset (&st, 0, sizeof st);
  ck_assert (thecal_sim_pump_ops.get_status (&dying, &st, &error));
  ck_assert (st.eos);
  ck_assert_int_le (st.eos_pump_ms, TEST_START_MS + 2 * TEST_DAY_MS);
  thecal_prescription_init (&rx);
  thecal_proto_error_clear (&error);
  assert_code (thecal_sim_pump_ops.check_prescription (&dying, &rx, &error), &error, THECAL_PROTO_ERROR_PUMP_FAULT);
  assert_code (thecal_sim_pump_ops.set_clock (&dying, TEST_START_MS, (ThecalMsgClockReply[1]){ 0 }, &error), &error,
               THECAL_PROTO_ERROR_PUMP_FAULT);
}
END_TEST

START_TEST (test_read_log_maps_events)
{
  ThecalProtoEvent events[8];
  ThecalEngineEvent event;
  ThecalProtoError error;
  int32_t n;
  int64_t oldest, next;

  ck_assert (thecal_sim_pump_ops.read_log (&pump, 1, 8, events, &n, &oldest, &next, &error));
  ck_assert_int_eq (oldest, 1);
  ck_assert_int_eq (n, next - 1);
  for (int32_t i = 0; i < n; i++)
    {
      ck_assert (thecal_engine_log_get (thecal_sim_pump_engine (&pump), i + 1, &event));
      ck_assert_int_eq (events[i].seq, event.seq);
      ck_assert_int_eq (events[i].pump_ms, event.pump_ms);
      ck_assert_int_eq (events[i].type, event.type);
      ck_assert_int_eq (events[i].code, event.code);
      ck_assert_int_eq (events[i].args[0], event.args[0]);
      ck_assert_int_eq (events[i].args[2], event.args[2]);
    }
  ck_assert_int_eq (events[0].type, THECAL_EVENT_ENGINE_START);
  /* from 0 starts at the oldest; past the end gives nothing */
  ck_assert (thecal_sim_pump_ops.read_log (&pump, next, 8, events, &n, &oldest, &next, &error));
  ck_assert_int_eq (n, 0);
}
END_TEST

/* ---- through the protocol --------------------------------------------------------------------- */

START_TEST (test_identify_and_interrogate)
{
  ThecalProtoError error;
  const ThecalMessage *reply;

  ck_assert (thecal_programmer_begin_simple (&programmer, link.now_ms, THECAL_MSG_IDENTIFY, &error));
  test_link_run (&link);
  ck_assert_int_eq (thecal_programmer_result (&programmer)->status, THECAL_EXCHANGE_OK);
  ck_assert_str_eq (thecal_programmer_identity (&programmer)->serial, TEST_SERIAL);
  ck_assert_str_eq (thecal_programmer_identity (&programmer)->model_id, "TR-20");

  ck_assert (thecal_programmer_begin_simple (&programmer, link.now_ms, THECAL_MSG_READ_STATUS, &error));
  test_link_run (&link);
  ck_assert_int_eq (thecal_programmer_result (&programmer)->status, THECAL_EXCHANGE_OK);
  reply = thecal_programmer_reply (&programmer);
  ck_assert_int_eq (reply->status.reservoir_estimate_nl, 12000000);

  ck_assert (thecal_programmer_begin_simple (&programmer, link.now_ms, THECAL_MSG_READ_PRESCRIPTION, &error));
  test_link_run (&link);
  reply = thecal_programmer_reply (&programmer);
  ck_assert (thecal_prescription_equal (&reply->prescription.rx, &rx5));
}
END_TEST

static const ThecalProgramReport *
program (const ThecalPrescription *rx)
{
  ThecalChecksum active;
  ThecalProtoError error;

  ck_assert (thecal_sim_pump_active_checksum (&pump, &active));
  thecal_proto_error_clear (&error);
  ck_assert_msg (thecal_programmer_begin_program (&programmer, link.now_ms, rx, &active, &error), "%s", error.reason);
  test_link_run (&link);
  return thecal_programmer_program_report (&programmer);
}

START_TEST (test_program_through_protocol)
{
  ThecalPrescription rx6;
  const ThecalProgramReport *report;
  ThecalEngineStatus es;

  test_rx_morphine (&rx6, 6);
  report = program (&rx6);
  ck_assert_int_eq (report->outcome, THECAL_PROGRAM_CONFIRMED);
  ck_assert (thecal_prescription_equal (thecal_sim_pump_active (&pump), &rx6));
  thecal_engine_get_status (thecal_sim_pump_engine (&pump), &es);
  ck_assert_int_eq (es.mode, THECAL_MODE_CONTINUOUS);
  /* 6 mg/day = 0.24 mL/day: 1 day later the estimate is 12 − 0.24 mL */
  link.now_ms += TEST_DAY_MS;
  ck_assert (thecal_sim_pump_advance_to (&pump, link.now_ms + link.pump_offset_ms, NULL));
  thecal_engine_get_status (thecal_sim_pump_engine (&pump), &es);
  ck_assert_int_eq (es.reservoir_estimate_nl, 12000000 - 240000);
}
END_TEST

START_TEST (test_out_of_range_through_protocol)
{
  ThecalPrescription rx;
  const ThecalProgramReport *report;

  /* 30 mL/day passes the structural validation; the pump's own limit refuses it at STAGE */
  test_rx_rate (&rx, 30000000);
  report = program (&rx);
  ck_assert_int_eq (report->outcome, THECAL_PROGRAM_FAILED);
  ck_assert_int_eq (report->error.code, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT);
  ck_assert_int_eq (report->error.detail, THECAL_PUMP_LIMIT_RATE_ABOVE_MAX);
  ck_assert_msg (strstr (report->error.reason, "30 mL/day") != NULL, "%s", report->error.reason);
  ck_assert (!report->commit_sent);
  ck_assert (thecal_prescription_equal (thecal_sim_pump_active (&pump), &rx5));

  /* another drug than the reservoir's */
  test_rx_morphine (&rx, 5);
  snprintf (rx.drug_id, sizeof rx.drug_id, "fentanyl");
  report = program (&rx);
  ck_assert_int_eq (report->outcome, THECAL_PROGRAM_FAILED);
  ck_assert_int_eq (report->error.detail, THECAL_PUMP_LIMIT_DRUG);
  ck_assert (thecal_prescription_equal (thecal_sim_pump_active (&pump), &rx5));
}
END_TEST

/* A drug change through the protocol: a plain program of a prescription for another fill is
 * refused at COMMIT (the pump runs the old one on the old fill); the refill program sets the fill
 * and the prescription in one REFILL_COMMIT, and the pump never stops. */
START_TEST (test_refill_program_through_protocol)
{
  ThecalPrescription rx50;
  ThecalMsgSetReservoir fill = { .volume_nl = 18000000, .drug_id = "morphine", .concentration_ng_per_ml = 50000000 };
  const ThecalProgramReport *report;
  ThecalChecksum active;
  ThecalProtoError error;
  ThecalEngineStatus es;

  test_rx_morphine (&rx50, 5);
  rx50.concentration_ng_per_ml = 50000000;
  report = program (&rx50);
  ck_assert_int_eq (report->outcome, THECAL_PROGRAM_FAILED);
  ck_assert_int_eq (report->error.detail, THECAL_PUMP_LIMIT_DRUG);
  ck_assert (thecal_prescription_equal (thecal_sim_pump_active (&pump), &rx5));

  ck_assert (thecal_sim_pump_active_checksum (&pump, &active));
  /* the prescription must be for the fill */
  fill.concentration_ng_per_ml = 25000000;
  ck_assert (!thecal_programmer_begin_refill_program (&programmer, link.now_ms, &rx50, &active, &fill, &error));
  ck_assert_int_eq (error.code, THECAL_PROTO_ERROR_INVALID);
  fill.concentration_ng_per_ml = 50000000;
  ck_assert_msg (thecal_programmer_begin_refill_program (&programmer, link.now_ms, &rx50, &active, &fill, &error), "%s",
                 error.reason);
  test_link_run (&link);
  report = thecal_programmer_program_report (&programmer);
  ck_assert_msg (report->outcome == THECAL_PROGRAM_CONFIRMED, "%s: %s", thecal_program_outcome_name (report->outcome),
                 report->error.reason);
  ck_assert (report->commit_acknowledged);
  ck_assert (thecal_prescription_equal (thecal_sim_pump_active (&pump), &rx50));
  thecal_engine_get_status (thecal_sim_pump_engine (&pump), &es);
  ck_assert_int_eq (es.mode, THECAL_MODE_CONTINUOUS);
  ck_assert_int_eq (es.reservoir_concentration_ng_per_ml, 50000000);
  ck_assert_int_eq (es.reservoir_set_nl, 18000000);
  ck_assert_int_eq (thecal_sim_pump_stats (&pump)->reservoir_sets, 1);
  ck_assert_int_eq (thecal_sim_pump_stats (&pump)->prescriptions_set, 1);
  ck_assert_int_eq (thecal_sim_pump_role (&pump)->stats.refill_commits_applied, 1);
}
END_TEST

START_TEST (test_out_of_range_requests_through_role)
{
  ThecalMessage request;
  ThecalProtoError error;
  const ThecalProgrammerResult *result;

  thecal_message_init (&request, THECAL_MSG_SET_RESERVOIR, false);
  request.set_reservoir.volume_nl = 25000000;
  snprintf (request.set_reservoir.drug_id, sizeof request.set_reservoir.drug_id, "morphine");
  request.set_reservoir.concentration_ng_per_ml = 25000000;
  ck_assert (thecal_programmer_begin_request (&programmer, link.now_ms, &request, &error));
  test_link_run (&link);
  result = thecal_programmer_result (&programmer);
  ck_assert_int_eq (result->status, THECAL_EXCHANGE_REFUSED);
  ck_assert (result->authenticated);
  ck_assert_int_eq (result->error.code, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT);
  ck_assert_int_eq (result->error.detail, THECAL_PUMP_LIMIT_RESERVOIR_CAPACITY);

  thecal_message_init (&request, THECAL_MSG_SET_CLOCK, false);
  request.set_clock.pump_local_ms = INT64_MAX;
  ck_assert (thecal_programmer_begin_request (&programmer, link.now_ms, &request, &error));
  test_link_run (&link);
  result = thecal_programmer_result (&programmer);
  ck_assert_int_eq (result->status, THECAL_EXCHANGE_REFUSED);
  ck_assert_int_eq (result->error.detail, THECAL_PUMP_LIMIT_CLOCK);
}
END_TEST

START_TEST (test_session_times_out_in_pump_time)
{
  ThecalProtoError error;

  ck_assert (thecal_programmer_begin_simple (&programmer, link.now_ms, THECAL_MSG_READ_STATUS, &error));
  test_link_run (&link);
  ck_assert (thecal_pump_role_session_active (thecal_sim_pump_role (&pump)));
  ck_assert (thecal_sim_pump_advance_to (&pump, thecal_sim_pump_now_ms (&pump) + 60001, NULL));
  ck_assert (!thecal_pump_role_session_active (thecal_sim_pump_role (&pump)));
}
END_TEST

START_TEST (test_demo_key_and_serial)
{
  uint8_t a[THECAL_KEY_SIZE], b[THECAL_KEY_SIZE];
  char serial[THECAL_PROTO_TEXT_MAX], again[THECAL_PROTO_TEXT_MAX];
  char hex[2 * THECAL_CHECKSUM_SIZE + 1];
  ThecalChecksum first;

  thecal_sim_pump_demo_key ("TR20-000123", a);
  thecal_sim_pump_demo_key ("TR20-000123", b);
  ck_assert_mem_eq (a, b, sizeof a);
  thecal_sim_pump_demo_key ("TR20-000124", b);
  ck_assert (memcmp (a, b, sizeof a) != 0);
  /* pinned: the demo key of TR20-000123 (its first 16 bytes) never changes silently */
  memcpy (first.bytes, a, sizeof first.bytes);
  thecal_checksum_to_hex (&first, hex);
  ck_assert_str_eq (hex, DEMO_KEY_TR20_000123_HEX);

  ck_assert (thecal_sim_pump_demo_serial ("TR-20", 7, serial));
  ck_assert (thecal_sim_pump_demo_serial ("TR-20", 7, again));
  ck_assert_str_eq (serial, again);
  ck_assert_int_eq (strlen (serial), 11);
  ck_assert (strncmp (serial, "TR20-", 5) == 0);
  ck_assert (thecal_sim_pump_demo_serial ("TR-20", 8, again));
  ck_assert_str_ne (serial, again);
  ck_assert (!thecal_sim_pump_demo_serial ("", 7, serial));
  ck_assert (!thecal_sim_pump_demo_serial ("A-VERY-LONG-MODEL-IDENTIFIER", 7, serial));
}
END_TEST

static Suite *
sim_pump_suite (void)
{
  Suite *suite = suite_create ("sim-pump");

  THECAL_TEST_TCASE (suite, "state", setup, teardown, 0,
                     test_init_state,
                     test_advance_delivers,
                     test_init_refuses_what_the_pump_refuses,
                     test_read_log_maps_events);
  THECAL_TEST_TCASE (suite, "limits", setup, teardown, 0,
                     test_rate_above_max,
                     test_rate_below_min,
                     test_flex_step_out_of_range,
                     test_drug_and_concentration,
                     test_bolus_rate_of_prescription,
                     test_reservoir_capacity,
                     test_drug_change_sequence,
                     test_refill_and_apply,
                     test_refill_and_apply_busy,
                     test_bolus_limits_and_busy,
                     test_priming_plan_limits,
                     test_clock_limits,
                     test_alarms,
                     test_stall_and_eos_are_faults);
  THECAL_TEST_TCASE (suite, "protocol", setup, teardown, 0,
                     test_identify_and_interrogate,
                     test_program_through_protocol,
                     test_out_of_range_through_protocol,
                     test_refill_program_through_protocol,
                     test_out_of_range_requests_through_role,
                     test_session_times_out_in_pump_time,
                     test_demo_key_and_serial);
  return suite;
}

THECAL_TEST_MAIN (sim_pump_suite)
