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

/* Runs on the test's context: the pump never answers (nor hears anything). */
static ThecalFaultAction
drop_everything (ThecalFaultTransport *fault, ThecalFaultDirection direction, guint64 index, GBytes *frame, gpointer user_data)
{
  (void) fault;
  (void) direction;
  (void) index;
  (void) frame;
  (void) user_data;
  return THECAL_FAULT_ACTION_DROP;
}

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

/* A pairing key the pump does not hold: refused and audited before anything is written; the
 * pump took nothing; the audit chain still verifies; the right key then registers it. */
START_TEST (test_implant_wrong_key_refused)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = new_visit (world.physician);
  g_autoptr (ThecalAuditVerification) verification = NULL;
  Implant im;
  ThecalImplantReport report;
  guint refused = count_audit (world.record, "implant.refused");
  guint pumps = count_audit (world.record, "pump.create");
  guint patients = count_audit (world.record, "patient.create");

  implant_init (&im);
  im.key[0] ^= 0x01; /* one bit off */
  ck_assert (!visit_implant (visit, &im.request, &report, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_WRONG_KEY), "%s", error->message);
  ck_assert_msg (strstr (error->message, "does not open a session with pump TR20-000123") != NULL, "%s", error->message);
  g_clear_error (&error);
  ck_assert_uint_eq (count_audit (world.record, "implant.refused"), refused + 1);
  ck_assert_uint_eq (count_audit (world.record, "pump.create"), pumps);
  ck_assert_uint_eq (count_audit (world.record, "patient.create"), patients);
  ck_assert (!patient_exists ("MRN-3"));
  ck_assert_ptr_null (recorded_pump ("TR20-000123"));
  ck_assert_int_eq (thecal_sim_pump_stats (world.pump)->boluses_started, 0);
  ck_assert (!thecal_visit_is_connected (visit));
  verification = verify_audit (world.record, 0, NULL);
  ck_assert_msg (verification->problem == THECAL_AUDIT_INTACT, "%s", verification->message);
  /* an existing patient: the same refusal, the pump still not in the record */
  im.request.new_patient = NULL;
  im.request.patient_mrn = "MRN-1";
  ck_assert (!visit_implant (visit, &im.request, &report, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_WRONG_KEY), "%s", error->message);
  g_clear_error (&error);
  ck_assert_ptr_null (recorded_pump ("TR20-000123"));
  ck_assert_uint_eq (count_audit (world.record, "implant.refused"), refused + 2);
  /* the right key through the same visit: registered as before */
  implant_init (&im);
  ck_assert_msg (visit_implant (visit, &im.request, &report, &error), "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (report.program_outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert_ptr_nonnull (recorded_pump ("TR20-000123"));
  ck_assert_uint_eq (count_audit (world.record, "pump.create"), pumps + 1);
}
END_TEST

/* The key's proof needs the pump: none answering (every frame dropped) is the link's error,
 * prefixed, nothing written, nothing audited as a refusal. */
START_TEST (test_implant_key_unprovable_writes_nothing)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = new_visit (world.physician);
  Implant im;
  ThecalImplantReport report;
  guint refused = count_audit (world.record, "implant.refused");

  implant_init (&im);
  thecal_fault_transport_set_policy (world.fault, drop_everything, NULL, NULL);
  ck_assert (!visit_implant (visit, &im.request, &report, &error));
  ck_assert_msg (error->domain != THECAL_VISIT_ERROR, "%s", error->message);
  ck_assert_msg (strstr (error->message, "could not be checked") != NULL, "%s", error->message);
  ck_assert_uint_eq (count_audit (world.record, "implant.refused"), refused);
  ck_assert (!patient_exists ("MRN-3"));
  ck_assert_ptr_null (recorded_pump ("TR20-000123"));
}
END_TEST

/* ---- the pairing key as delivered (thecal_pairing_key_parse, src/record) ------------------------- */

#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static gboolean
parse_key (const char *text, guint8 key[THECAL_PAIRING_KEY_BYTES], char **message)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = thecal_pairing_key_parse (text, key, &error);

  ck_assert (ok == (error == NULL));
  if (!ok)
    ck_assert (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID));
  *message = ok ? NULL : g_strdup (error->message);
  return ok;
}

static void
assert_key_refused (const char *text, const char *part)
{
  guint8 key[THECAL_PAIRING_KEY_BYTES];
  g_autofree char *message = NULL;

  memset (key, 0xaa, sizeof key);
  ck_assert_msg (!parse_key (text, key, &message), "“%s” accepted", text);
  ck_assert_msg (strstr (message, part) != NULL, "“%s”: “%s” has no “%s”", text, message, part);
  ck_assert_msg (g_str_has_prefix (message, "Pairing key: "), "%s", message);
  for (gsize i = 0; i < sizeof key; i++)
    ck_assert_uint_eq (key[i], 0);
}

static void
assert_key_parsed (const char *text)
{
  guint8 key[THECAL_PAIRING_KEY_BYTES];
  g_autofree char *message = NULL;

  ck_assert_msg (parse_key (text, key, &message), "“%s”: %s", text, message);
  for (gsize i = 0; i < sizeof key; i++)
    ck_assert_uint_eq (key[i], i);
}

START_TEST (test_pairing_key_parse_boundaries)
{
  g_autofree char *k63 = g_strndup (KEY_HEX, 63);
  g_autofree char *k65 = g_strconcat (KEY_HEX, "0", NULL);
  g_autofree char *k66 = g_strconcat (KEY_HEX, "00", NULL);
  g_autofree char *upper = g_ascii_strup (KEY_HEX, -1);
  g_autofree char *bad = g_strdup (KEY_HEX);
  g_autofree char *unicode = g_strconcat ("ä", KEY_HEX + 1, NULL);

  assert_key_parsed (KEY_HEX);
  assert_key_parsed (upper);
  /* separators between digits, around them, line breaks of a file (CRLF too) */
  assert_key_parsed ("00010203-04050607-08090a0b-0c0d0e0f 10111213 14151617\n18191a1b\r\n1c1d1e1f\n");
  assert_key_parsed ("  00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F\t10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F  ");
  assert_key_refused (k63, "64 hexadecimal digits, not 63");
  assert_key_refused (k65, "64 hexadecimal digits, not 65");
  assert_key_refused (k66, "64 hexadecimal digits, not 66");
  assert_key_refused ("", "enter the 64 hexadecimal digits");
  assert_key_refused (" - \n", "enter the 64 hexadecimal digits");
  bad[10] = 'z';
  bad[11] = 'z';
  assert_key_refused (bad, "“zz” is not a hexadecimal byte");
  bad[11] = 'a';
  assert_key_refused (bad, "“za” is not a hexadecimal byte");
  /* a non-hex character wins over a wrong count (it says more), named with its neighbour */
  assert_key_refused ("0g", "“0g” is not a hexadecimal byte");
  assert_key_refused ("0x" KEY_HEX, "“0x” is not a hexadecimal byte");
  assert_key_refused ("abc", "not 3");
  assert_key_refused (unicode, "“ä0” is not a hexadecimal byte");
  assert_key_refused ("0\xff", "not text");
  /* other separators are not ignored: a colon is a wrong character */
  assert_key_refused ("00:01", "“:0” is not a hexadecimal byte");
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
  tcase_add_test (tc, test_implant_wrong_key_refused);
  tcase_add_test (tc, test_implant_key_unprovable_writes_nothing);
  suite_add_tcase (s, tc);
  tc = tcase_create ("pairing-key");
  tcase_add_test (tc, test_pairing_key_parse_boundaries);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (implant_suite)
