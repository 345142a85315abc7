/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-visit-implant.c: the registration of a new implant (src/workflow/thecal-workflow-implant.c)
 * with the simulated demo pump TR20-000123 (TR-20, morphine 25 mg/mL, a 45.5 cm catheter) over the
 * loopback transport and a real record: end to end for a new and an existing patient, a serial
 * that already belongs to a patient refused and audited, a nurse refused and audited, and the
 * dose core's soft limit (25 mg/mL above the library's 20 mg/mL) needing an override reason —
 * every refusal before anything is written.
 */
#include "config.h"

#include "visit-world.h"
#include "thecal-workflow-implant.h"

#define OVERRIDE "25 mg/mL is the clinic's standard morphine strength"

static gboolean
visit_implant (ThecalVisit *visit, const ThecalImplantRequest *request, ThecalImplantReport *report, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  thecal_visit_register_implant_async (visit, request, NULL, on_done, &result);
  return thecal_visit_register_implant_finish (visit, wait_result (&result), report, error);
}

/* The initial prescription: the demo pump's drug and concentration at 4 mg/day continuous. */
static ThecalPrescription
initial_rx (void)
{
  ThecalPrescription rx = *thecal_sim_pump_active (world.pump);

  rx.mode = THECAL_MODE_CONTINUOUS;
  rx.continuous.basis = THECAL_BASIS_DOSE;
  rx.continuous.dose_ng_per_day = 4 * MG;
  rx.continuous.rate_nl_per_day = 0;
  return rx;
}

typedef struct
{
  ThecalPatientInput patient;
  ThecalPrescription rx;
  guint8 key[THECAL_PAIRING_KEY_BYTES];
  ThecalImplantRequest request;
} Implant;

/* A new patient MRN-3 with the demo pump, its demo key, a 45.5 cm catheter and a priming bolus. */
static void
implant_init (Implant *im)
{
  ThecalPatientInput patient = { "MRN-3", "POE, Edgar", "1970-01-19", THECAL_OPIOID_TOLERANT, NULL };

  memset (im, 0, sizeof *im);
  im->patient = patient;
  im->rx = initial_rx ();
  thecal_sim_pump_demo_key ("TR20-000123", im->key);
  im->request.new_patient = &im->patient;
  im->request.serial = "TR20-000123";
  im->request.model = thecal_pump_model_set_find (&world.models, "TR-20");
  im->request.implant_date = "2026-11-20";
  im->request.catheter_length_mm = 455;
  im->request.pairing_key = im->key;
  im->request.prescription = &im->rx;
  im->request.override_reason = OVERRIDE;
  im->request.priming = TRUE;
}

static gboolean
patient_exists (const char *mrn)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalPatient) patient = thecal_record_session_get_patient_sync (world.physician, mrn, NULL, &error);

  return patient != NULL;
}

static ThecalPump *
recorded_pump (const char *serial)
{
  g_autoptr (GError) error = NULL;

  return thecal_record_session_get_pump_sync (world.physician, serial, NULL, &error);
}

START_TEST (test_implant_new_patient_end_to_end)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = new_visit (world.physician);
  g_autoptr (ThecalVisit) later = NULL;
  g_autoptr (ThecalPump) pump = NULL;
  Implant im;
  ThecalImplantReport report;
  guint registered = count_audit (world.record, "implant.register");
  guint pending = count_audit (world.record, "bolus.pending");
  guint patients = count_audit (world.record, "patient.create");
  guint pumps = count_audit (world.record, "pump.create");
  guint begun = count_audit (world.record, "programming.begin");
  guint resolved = count_audit (world.record, "programming.resolve");

  implant_init (&im);
  ck_assert (!patient_exists ("MRN-3"));
  ck_assert_msg (visit_implant (visit, &im.request, &report, &error), "%s", error != NULL ? error->message : "?");
  ck_assert_int_gt (report.patient_id, 0);
  ck_assert_int_gt (report.pump_id, 0);
  ck_assert_int_eq (report.program_outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert_int_gt (report.programming_session_id, 0);
  ck_assert (report.priming_given);
  ck_assert_int_eq (report.priming_outcome, THECAL_OUTCOME_CONFIRMED);
  /* the record: patient, pump with its catheter, the audit trail */
  ck_assert (patient_exists ("MRN-3"));
  pump = recorded_pump ("TR20-000123");
  ck_assert_ptr_nonnull (pump);
  ck_assert_str_eq (pump->patient_mrn, "MRN-3");
  ck_assert_int_eq (pump->catheter_length_mm, 455);
  ck_assert_uint_eq (count_audit (world.record, "implant.register"), registered + 1);
  ck_assert_uint_eq (count_audit (world.record, "bolus.pending"), pending + 1);
  /* every step recorded by the record itself: the patient, the pump, the programming session
   * (PENDING first, then its outcome) */
  ck_assert_uint_eq (count_audit (world.record, "patient.create"), patients + 1);
  ck_assert_uint_eq (count_audit (world.record, "pump.create"), pumps + 1);
  ck_assert_uint_eq (count_audit (world.record, "programming.begin"), begun + 1);
  ck_assert_uint_eq (count_audit (world.record, "programming.resolve"), resolved + 1);
  /* the pump: the initial prescription runs (4 mg/day) and the priming bolus was started */
  ck_assert_int_eq (thecal_sim_pump_active (world.pump)->continuous.dose_ng_per_day, 4 * MG);
  ck_assert_int_eq (thecal_sim_pump_stats (world.pump)->boluses_started, 1);
  ck_assert (thecal_visit_is_connected (visit));
  ck_assert_str_eq (thecal_visit_get_patient (visit)->mrn, "MRN-3");
  /* a later visit finds the pump through the record and the recorded pairing key */
  g_clear_object (&visit);
  later = new_visit (world.physician);
  ck_assert_msg (visit_connect (later, "MRN-3", &error), "%s", error != NULL ? error->message : "?");
  ck_assert_str_eq (thecal_visit_get_pump (later)->serial, "TR20-000123");
}
END_TEST

START_TEST (test_implant_existing_patient_without_priming)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = new_visit (world.physician);
  g_autoptr (ThecalPump) pump = NULL;
  Implant im;
  ThecalImplantReport report;

  implant_init (&im);
  im.request.new_patient = NULL;
  im.request.patient_mrn = "MRN-1";
  im.request.priming = FALSE;
  ck_assert_msg (visit_implant (visit, &im.request, &report, &error), "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (report.program_outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert (!report.priming_given);
  ck_assert_int_eq (thecal_sim_pump_stats (world.pump)->boluses_started, 0);
  pump = recorded_pump ("TR20-000123");
  ck_assert_str_eq (pump->patient_mrn, "MRN-1");
}
END_TEST

START_TEST (test_implant_duplicate_serial_refused)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = new_visit (world.physician);
  g_autoptr (ThecalPump) pump = NULL;
  Implant im;
  ThecalImplantReport report;
  guint refused = count_audit (world.record, "implant.refused");

  /* the serial belongs to MRN-2 already */
  register_pump (world.physician, "TR20-000123", "MRN-2");
  implant_init (&im);
  ck_assert (!visit_implant (visit, &im.request, &report, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_WRONG_PATIENT), "%s", error->message);
  ck_assert_msg (strstr (error->message, "MRN-2") != NULL, "%s", error->message);
  g_clear_error (&error);
  ck_assert_uint_eq (count_audit (world.record, "implant.refused"), refused + 1);
  /* nothing was written: no patient, the pump still MRN-2's, nothing sent to the pump */
  ck_assert (!patient_exists ("MRN-3"));
  pump = recorded_pump ("TR20-000123");
  ck_assert_str_eq (pump->patient_mrn, "MRN-2");
  ck_assert_int_eq (thecal_sim_pump_stats (world.pump)->boluses_started, 0);
  ck_assert (!thecal_visit_is_connected (visit));
  /* registering it again to its own patient is refused too */
  im.request.new_patient = NULL;
  im.request.patient_mrn = "MRN-2";
  ck_assert (!visit_implant (visit, &im.request, &report, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED), "%s", error->message);
  ck_assert_uint_eq (count_audit (world.record, "implant.refused"), refused + 2);
}
END_TEST

START_TEST (test_implant_nurse_refused)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = new_visit (world.nurse);
  Implant im;
  ThecalImplantReport report;
  guint denied = count_audit (world.record, "permission.denied");

  implant_init (&im);
  ck_assert (!visit_implant (visit, &im.request, &report, &error));
  ck_assert_msg (g_error_matches (error, THECAL_WORKFLOW_ERROR, THECAL_WORKFLOW_ERROR_PERMISSION_DENIED), "%s", error->message);
  ck_assert_msg (strstr (error->message, "nurse") != NULL, "%s", error->message);
  ck_assert_uint_eq (count_audit (world.record, "permission.denied"), denied + 1);
  ck_assert (!patient_exists ("MRN-3"));
  ck_assert_ptr_null (recorded_pump ("TR20-000123"));
}
END_TEST

START_TEST (test_implant_prescription_checked_first)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = new_visit (world.physician);
  Implant im;
  ThecalImplantReport report;

  /* 25 mg/mL is above the library's soft 20 mg/mL: a reason is needed, nothing is registered */
  implant_init (&im);
  im.request.override_reason = NULL;
  ck_assert (!visit_implant (visit, &im.request, &report, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_NEEDS_REASON), "%s", error->message);
  g_clear_error (&error);
  ck_assert (!patient_exists ("MRN-3"));
  ck_assert_ptr_null (recorded_pump ("TR20-000123"));
  /* a reason the two-phase write would refuse (under 10 characters) is refused before anything too */
  im.request.override_reason = "standard";
  ck_assert (!visit_implant (visit, &im.request, &report, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_NEEDS_REASON), "%s", error->message);
  g_clear_error (&error);
  ck_assert (!patient_exists ("MRN-3"));
  /* a drug outside the library: refused (hard) */
  g_strlcpy (im.rx.drug_id, "no-such-drug", sizeof im.rx.drug_id);
  im.request.override_reason = OVERRIDE;
  ck_assert (!visit_implant (visit, &im.request, &report, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED), "%s", error->message);
  g_clear_error (&error);
  /* no catheter length: refused before anything (it sets the priming volume) */
  implant_init (&im);
  im.request.catheter_length_mm = 0;
  ck_assert (!visit_implant (visit, &im.request, &report, &error));
  ck_assert (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED));
  ck_assert (!patient_exists ("MRN-3"));
}
END_TEST

static Suite *
implant_suite (void)
{
  Suite *s = suite_create ("visit-implant");
  TCase *tc = tcase_create ("implant");

  tcase_add_checked_fixture (tc, world_setup, world_teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_implant_new_patient_end_to_end);
  tcase_add_test (tc, test_implant_existing_patient_without_priming);
  tcase_add_test (tc, test_implant_duplicate_serial_refused);
  tcase_add_test (tc, test_implant_nurse_refused);
  tcase_add_test (tc, test_implant_prescription_checked_first);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (implant_suite)
