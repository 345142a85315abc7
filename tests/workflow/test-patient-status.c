/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-patient-status.c: a patient's pump at a glance (src/workflow/thecal-patient-status.h), the
 * line of the patient list's rows: from the record alone (the last refill, the refill-by date
 * the dose core projects from it under the recorded versions, the alarms of the last reading),
 * and live from the demo world (the pump's estimate now, the projection from it, the raised
 * alarms). Each expected date is the dose core's own projection, computed here independently.
 */
#include "config.h"

#include <string.h>

#include "thecal-dose-json.h"
#include "thecal-engine.h"
#include "thecal-format.h"
#include "thecal-patient-status.h"
#include "thecal-refill.h"
#include "thecal-sim-pump-demo.h"
#include "thecal-test.h"

static ThecalPumpModelSet *models;
static gint64 fake_real_ms; /* the demo world's injected real time source */

static gint64
fake_real (gpointer user_data)
{
  (void) user_data;
  return fake_real_ms;
}

static void
setup (void)
{
  const char *dir = g_getenv ("THECAL_DATA_DIR");
  g_autofree char *path = g_build_filename (dir, "pump-models.json", NULL);
  g_autofree char *text = NULL;
  gsize length = 0;
  ThecalDoseError error = { 0 };

  ck_assert (dir != NULL);
  models = g_new0 (ThecalPumpModelSet, 1);
  ck_assert (g_file_get_contents (path, &text, &length, NULL));
  ck_assert_msg (thecal_pump_models_load_json (text, length, models, &error), "%s", error.message);
}

static void
teardown (void)
{
  g_clear_pointer (&models, g_free);
}

/* The patient list's status of a clinic patient, from the record alone :
 * the last refill, the refill-by date the dose core projects from it under the version in effect
 * (the one before it used up to the change), the alarms of the last reading. */
START_TEST (test_patient_status_from_record)
{
  static const char rx_json[] = "{\"format\":\"thecal-prescription\",\"version\":1,\"drug\":\"morphine\","
                                "\"concentration\":\"25 mg/mL\",\"mode\":\"continuous\",\"continuous\":{\"dose\":\"5 mg/day\"}}";
  static const char rx2_json[] = "{\"format\":\"thecal-prescription\",\"version\":1,\"drug\":\"morphine\","
                                 "\"concentration\":\"25 mg/mL\",\"mode\":\"continuous\",\"continuous\":{\"dose\":\"10 mg/day\"}}";
  const gint64 day = 86400000;
  const gint64 t_refill = THECAL_SIM_PUMP_DEMO_INSTANT_MS;
  const gint64 t_change = t_refill + 10 * day;
  ThecalPump pump = { .serial = (char *) "TR20-000900", .model_id = (char *) "TR-20" };
  ThecalRecordedPrescription v1 = { .pump_serial = (char *) "TR20-000900", .version = 1, .effective_from_utc_ms = t_refill - day, .effective_to_utc_ms = t_change, .json = (char *) rx_json };
  ThecalRecordedPrescription v2 = { .pump_serial = (char *) "TR20-000900", .version = 2, .effective_from_utc_ms = t_change, .effective_to_utc_ms = G_MAXINT64, .json = (char *) rx2_json };
  ThecalRefill refill = { .pump_serial = (char *) "TR20-000900", .performed_utc_ms = t_refill, .added_nl = 18 * THECAL_NL_PER_ML };
  ThecalAlarmSeen old_alarm = { .pump_serial = (char *) "TR20-000900", .kind = (char *) "eri", .seen_utc_ms = t_refill };
  ThecalAlarmSeen alarm = { .pump_serial = (char *) "TR20-000900", .kind = (char *) "low_reservoir", .seen_utc_ms = t_change + day };
  g_autoptr (GPtrArray) pumps = g_ptr_array_new ();
  g_autoptr (GPtrArray) prescriptions = g_ptr_array_new ();
  g_autoptr (GPtrArray) refills = g_ptr_array_new ();
  g_autoptr (GPtrArray) alarms = g_ptr_array_new ();
  ThecalPatientRecord record = { .pumps = pumps, .prescriptions = prescriptions, .refills = refills, .alarms = alarms };
  const ThecalPumpModel *model = thecal_pump_model_set_find (models, "TR-20");
  ThecalPrescription rx;
  ThecalDeliveryPlan plan1, plan2;
  ThecalProjection projection;
  ThecalDoseError dose_error;
  gint64 used_nl = 0;
  g_autofree char *text = NULL;
  g_autofree char *refill_by = NULL;
  g_autofree char *expected = NULL;

  /* no pump: nothing to say */
  text = thecal_patient_status_from_record (&record, models, t_change + day);
  ck_assert_ptr_null (text);
  g_ptr_array_add (pumps, &pump);
  g_ptr_array_add (prescriptions, &v1);
  text = thecal_patient_status_from_record (&record, models, t_change + day);
  ck_assert_str_eq (text, "No refill in the record");
  g_clear_pointer (&text, g_free);

  /* 18 mL on day 0 at 5 mg/day (0.2 mL/day), 10 mg/day (0.4 mL/day) from day 10 */
  g_ptr_array_add (prescriptions, &v2);
  g_ptr_array_add (refills, &refill);
  g_ptr_array_add (alarms, &old_alarm);
  g_ptr_array_add (alarms, &alarm);
  ck_assert (thecal_prescription_load_json (rx_json, strlen (rx_json), &rx, &dose_error));
  ck_assert (thecal_delivery_plan_resolve (&rx, model, &plan1, &dose_error));
  ck_assert (thecal_prescription_load_json (rx2_json, strlen (rx2_json), &rx, &dose_error));
  ck_assert (thecal_delivery_plan_resolve (&rx, model, &plan2, &dose_error));
  ck_assert (thecal_delivery_plan_volume_between (&plan1, t_refill, t_change, &used_nl, &dose_error));
  ck_assert_int_eq (used_nl, 2 * THECAL_NL_PER_ML); /* 10 days × 0.2 mL */
  ck_assert (thecal_project_reservoir (model, &plan2, 16 * THECAL_NL_PER_ML, t_change, 0, &projection, &dose_error));
  refill_by = thecal_format_instant (projection.refill_by_local_ms);
  expected = g_strdup_printf ("Refilled 2026-01-05: refill by %s (from the record); at the last reading: Low reservoir", refill_by);
  text = thecal_patient_status_from_record (&record, models, t_change + day);
  ck_assert_str_eq (text, expected);
  g_clear_pointer (&text, g_free);

  /* past the refill-by date: refill now */
  text = thecal_patient_status_from_record (&record, models, projection.refill_by_local_ms + 1);
  ck_assert_str_eq (text, "Refilled 2026-01-05: refill now (from the record); at the last reading: Low reservoir");
  g_clear_pointer (&text, g_free);

  /* a corrected refill does not count */
  refill.superseded = TRUE;
  text = thecal_patient_status_from_record (&record, models, t_change + day);
  ck_assert_str_eq (text, "No refill in the record; at the last reading: Low reservoir");
}
END_TEST

/* The demo world's live line: the pump's estimate and the dose core's projection from it at the
 * demo clock's now; a raised alarm appended; nothing for a patient without a demo pump or without
 * a world. */
START_TEST (test_patient_status_from_demo)
{
  g_autoptr (ThecalDemoWorld) world = thecal_demo_world_new_with_time (models, fake_real, NULL);
  const ThecalDemoPatient *patient = thecal_demo_patient_get (THECAL_DEMO_PATIENT_STABLE);
  const ThecalDemoPatient *low = thecal_demo_patient_get (THECAL_DEMO_PATIENT_LOW_RESERVOIR);
  ThecalSimPump *pump;
  ThecalEngineStatus status;
  ThecalDeliveryPlan plan;
  ThecalProjection projection;
  ThecalDoseError dose_error;
  g_autofree char *volume = NULL;
  g_autofree char *refill_by = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *text = NULL;

  ck_assert_ptr_null (thecal_patient_status_from_demo (NULL, patient->mrn));
  ck_assert_ptr_null (thecal_patient_status_from_demo (world, "NOT-A-DEMO-MRN"));

  pump = thecal_demo_world_get_pump (world, patient->serial, NULL);
  ck_assert_ptr_nonnull (pump);
  ck_assert (thecal_demo_world_get_pump_status (world, patient->serial, &status, NULL));
  ck_assert (thecal_delivery_plan_resolve (thecal_sim_pump_active (pump), thecal_sim_pump_model (pump), &plan, &dose_error));
  ck_assert (thecal_project_reservoir (thecal_sim_pump_model (pump), &plan, status.reservoir_estimate_nl,
                                       thecal_demo_world_now_ms (world), 0, &projection, &dose_error));
  ck_assert (projection.refill_by_local_ms > thecal_demo_world_now_ms (world));
  volume = thecal_format_quantity (THECAL_QUANTITY_VOLUME, status.reservoir_estimate_nl);
  refill_by = thecal_format_instant (projection.refill_by_local_ms);
  expected = g_strdup_printf ("Now %s left, refill by %s", volume, refill_by);
  text = thecal_patient_status_from_demo (world, patient->mrn);
  ck_assert_str_eq (text, expected);
  g_clear_pointer (&text, g_free);

  /* the patient low on drug: refill now, and the pump's low-reservoir alarm */
  text = thecal_patient_status_from_demo (world, low->mrn);
  ck_assert_ptr_nonnull (text);
  ck_assert_msg (strstr (text, ": refill now") != NULL && strstr (text, "; Low reservoir") != NULL, "%s", text);
}
END_TEST

static Suite *
patient_status_suite (void)
{
  Suite *suite = suite_create ("patient-status");

  THECAL_TEST_TCASE (suite, "status", setup, teardown, 0, test_patient_status_from_record, test_patient_status_from_demo);
  return suite;
}

THECAL_TEST_MAIN (patient_status_suite)
