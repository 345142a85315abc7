/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-record-clinical.c: patients, search, pumps and their pairing keys, prescriptions,
 * programming sessions, refills, pump events and alarms (src/record/thecal-record-patients.c,
 * thecal-record-clinical.c, thecal-record-keys.c; docs/record.md).
 *
 * Corrections supersede: every test that corrects something checks that the old row is still
 * there, and test_clinical_rows_append_only checks with the sqlite3 shell that no clinical row
 * can be updated or deleted behind Thecal's back.
 */
#include "config.h"

#include <sodium.h>

#include "thecal-dose-json.h"
#include "thecal-test-record.h"
#include "thecal-test.h"

#define RX_5_MG "{\"format\":\"thecal-prescription\",\"version\":1,\"drug\":\"morphine\",\"concentration\":\"25 mg/mL\"," \
                "\"mode\":\"continuous\",\"continuous\":{\"dose\":\"5 mg/day\"}}"
#define RX_6_MG "{\"format\":\"thecal-prescription\",\"version\":1,\"drug\":\"morphine\",\"concentration\":\"25 mg/mL\"," \
                "\"mode\":\"continuous\",\"continuous\":{\"dose\":\"6 mg/day\"}}"

static ThecalPrescription *
load_rx (const char *json)
{
  ThecalPrescription *rx = g_new0 (ThecalPrescription, 1);
  ThecalDoseError error = { 0 };

  ck_assert_msg (thecal_prescription_load_json (json, strlen (json), rx, &error), "%s", error.message);
  return rx;
}

typedef struct
{
  ThecalRecord *record;
  ThecalUser *admin;
  ThecalUser *physician;
  ThecalUser *nurse;
} World;

static World world;

/* Checked fixture: a record with an administrator, a physician and a nurse. */
static void
world_setup (void)
{
  record_test_setup ();
  world.record = new_record ("record.sqlite");
  world.admin = first_admin (world.record);
  world.physician = add_user (world.record, world.admin, "paula", "Dr Paula Physician", THECAL_ROLE_PHYSICIAN);
  world.nurse = add_user (world.record, world.admin, "nina", "Nina Nurse", THECAL_ROLE_NURSE);
}

static void
world_teardown (void)
{
  g_clear_object (&world.record);
  g_clear_pointer (&world.admin, thecal_user_free);
  g_clear_pointer (&world.physician, thecal_user_free);
  g_clear_pointer (&world.nurse, thecal_user_free);
  record_test_teardown ();
}

static char *
record_path (void)
{
  return g_strdup (thecal_record_get_path (world.record));
}

#define assert_error(error, code)                                                                        \
  ck_assert_msg (g_error_matches ((error), THECAL_DB_ERROR, (code)), "expected code %d, got %s", (code), \
                 (error) != NULL ? (error)->message : "no error")

/* ---- Patients ------------------------------------------------------------------------------- */

START_TEST (test_patient_add_get)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalPatient) added = add_patient (world.record, world.physician, "MRN-1", "DOE, Jane");
  g_autoptr (ThecalPatient) got = SYNC (thecal_record_get_patient, world.record, &error, "MRN-1");
  g_autoptr (ThecalPatient) missing = NULL;
  g_autoptr (ThecalPatient) duplicate = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  ThecalAuditEntry *entry;

  ck_assert_ptr_nonnull (got);
  ck_assert_int_eq (got->id, added->id);
  ck_assert_str_eq (got->name, "DOE, Jane");
  ck_assert_str_eq (got->date_of_birth, "1961-04-12");
  ck_assert_int_eq (got->opioid_tolerance, THECAL_OPIOID_TOLERANT);
  ck_assert_str_eq (got->notes, "");
  ck_assert_int_eq (got->supersedes, 0);
  ck_assert_ptr_null (got->reason);
  ck_assert_str_eq (got->recorded_by, "paula");

  missing = SYNC (thecal_record_get_patient, world.record, &error, "MRN-2");
  ck_assert_ptr_null (missing);
  assert_error (error, THECAL_DB_ERROR_NOT_FOUND);
  g_clear_error (&error);
  duplicate = try_add_patient (world.record, world.nurse, "MRN-1", "ROE, Rita", &error);
  ck_assert_ptr_null (duplicate);
  assert_error (error, THECAL_DB_ERROR_EXISTS);
  ck_assert (strstr (error->message, "MRN-1") != NULL);

  entries = list_audit (world.record);
  entry = entries->pdata[entries->len - 1];
  ck_assert_str_eq (entry->action, "patient.create");
  ck_assert_int_eq (entry->patient_id, added->id);
  ck_assert_int_eq (entry->object_id, added->id);
  ck_assert_ptr_null (entry->before);
  ck_assert_str_eq (entry->after, "{\"mrn\":\"MRN-1\",\"name\":\"DOE, Jane\",\"date_of_birth\":\"1961-04-12\","
                                  "\"opioid_tolerance\":\"tolerant\",\"notes\":\"\"}");
}
END_TEST

START_TEST (test_patient_input_checks)
{
  struct
  {
    ThecalPatientInput input;
    const char *needle;
  } cases[] = {
    { { "", "DOE, Jane", "1961-04-12", THECAL_OPIOID_NAIVE, NULL }, "medical record number is missing" },
    { { "MRN 1", "DOE, Jane", "1961-04-12", THECAL_OPIOID_NAIVE, NULL }, "is not valid" },
    { { "M123456789012345678901234567890123", "DOE, Jane", "1961-04-12", THECAL_OPIOID_NAIVE, NULL }, "1 to 32" },
    { { "MRN-1", "   ", "1961-04-12", THECAL_OPIOID_NAIVE, NULL }, "name is missing" },
    { { "MRN-1", "DOE\x01", "1961-04-12", THECAL_OPIOID_NAIVE, NULL }, "control character" },
    { { "MRN-1", "DOE, Jane", "1961-02-30", THECAL_OPIOID_NAIVE, NULL }, "is not a date" },
    { { "MRN-1", "DOE, Jane", "12/04/1961", THECAL_OPIOID_NAIVE, NULL }, "YYYY-MM-DD" },
    { { "MRN-1", "DOE, Jane", "1899-12-31", THECAL_OPIOID_NAIVE, NULL }, "from 1900 on" },
    { { "MRN-1", "DOE, Jane", "2999-01-01", THECAL_OPIOID_NAIVE, NULL }, "in the future" },
    { { "MRN-1", "DOE, Jane", "1961-04-12", (ThecalOpioidTolerance) 7, NULL }, "opioid tolerance" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (ThecalPatient) patient = SYNC (thecal_record_add_patient, world.record, &error, world.nurse,
                                                &cases[i].input);

      ck_assert_msg (patient == NULL, "case %u was accepted", i);
      assert_error (error, THECAL_DB_ERROR_INVALID);
      ck_assert_msg (strstr (error->message, cases[i].needle) != NULL, "case %u: “%s” not in: %s", i, cases[i].needle,
                     error->message);
    }
  /* The same checks field by field, without the database (the GUI shows each under its field). */
  {
    static const char *const fields[] = { "mrn", "mrn", "mrn", "name", "name", "date_of_birth", "date_of_birth",
                                          "date_of_birth", "date_of_birth", NULL };
    g_autoptr (GError) reason_error = NULL;

    for (guint i = 0; fields[i] != NULL; i++)
      {
        const ThecalPatientInput *in = &cases[i].input;
        const char *value = g_str_equal (fields[i], "mrn") ? in->mrn : g_str_equal (fields[i], "name") ? in->name
                                                                                                       : in->date_of_birth;
        g_autoptr (GError) error = NULL;

        ck_assert_msg (!thecal_record_check_patient_field (fields[i], value, &error), "field case %u was accepted", i);
        assert_error (error, THECAL_DB_ERROR_INVALID);
        ck_assert_msg (strstr (error->message, cases[i].needle) != NULL, "field case %u: “%s” not in: %s", i, cases[i].needle,
                       error->message);
      }
    ck_assert (thecal_record_check_patient_field ("mrn", "M1234567890123456789012345678901", NULL));
    ck_assert (thecal_record_check_patient_field ("date_of_birth", "2000-02-29", NULL));
    ck_assert (thecal_record_check_patient_field ("name", "LEAP, Lea", NULL));
    ck_assert (thecal_record_check_patient_field ("notes", "", NULL));
    ck_assert (thecal_record_check_patient_field ("reason", "typo in the name", NULL));
    ck_assert (!thecal_record_check_patient_field ("reason", "  ", &reason_error));
    assert_error (reason_error, THECAL_DB_ERROR_INVALID);
    ck_assert_msg (strstr (reason_error->message, "reason for the correction") != NULL, "%s", reason_error->message);
  }
  /* 1900-01-01, 29 February of a leap year and a 32-character MRN are fine. */
  {
    ThecalPatientInput input = { "M1234567890123456789012345678901", "OLD, Oscar", "1900-01-01", THECAL_OPIOID_NAIVE, NULL };
    ThecalPatientInput leap = { "MRN-L", "LEAP, Lea", "2000-02-29", THECAL_OPIOID_NAIVE, NULL };
    g_autoptr (GError) error = NULL;
    g_autoptr (ThecalPatient) patient = SYNC (thecal_record_add_patient, world.record, &error, world.nurse, &input);
    g_autoptr (ThecalPatient) leap_patient = SYNC (thecal_record_add_patient, world.record, &error, world.nurse, &leap);

    ck_assert_msg (patient != NULL && leap_patient != NULL, "%s", error != NULL ? error->message : "?");
  }
}
END_TEST

START_TEST (test_patient_correction_supersedes)
{
  g_autoptr (ThecalPatient) original = add_patient (world.record, world.physician, "MRN-1", "DOE, Jane");
  ThecalPatientInput fixed = { NULL, "DOE, Janet", "1961-04-12", THECAL_OPIOID_TOLERANT, "prefers Janet" };
  ThecalPatientInput same = { NULL, "DOE, Janet", "1961-04-12", THECAL_OPIOID_TOLERANT, "prefers Janet" };
  ThecalPatientInput other_mrn = { "MRN-2", "DOE, Janet", "1961-04-12", THECAL_OPIOID_TOLERANT, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalPatient) corrected = NULL;
  g_autoptr (ThecalPatient) refused = NULL;
  g_autoptr (ThecalPatientRecord) history = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  ThecalAuditEntry *entry;

  /* A reason is required. */
  refused = SYNC (thecal_record_correct_patient, world.record, &error, world.nurse, "MRN-1", &fixed, "  ");
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_INVALID);
  g_clear_error (&error);

  corrected = SYNC (thecal_record_correct_patient, world.record, &error, world.nurse, "MRN-1", &fixed,
                    "name misspelt at registration");
  ck_assert_msg (corrected != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (corrected->id, original->id);
  ck_assert_int_ne (corrected->version_id, original->version_id);
  ck_assert_int_eq (corrected->supersedes, original->version_id);
  ck_assert_str_eq (corrected->name, "DOE, Janet");
  ck_assert_str_eq (corrected->reason, "name misspelt at registration");
  ck_assert_str_eq (corrected->recorded_by, "nina");
  ck_assert_int_eq (corrected->created_utc_ms, original->created_utc_ms);

  /* Nothing to correct, or the MRN itself: refused. */
  refused = SYNC (thecal_record_correct_patient, world.record, &error, world.nurse, "MRN-1", &same, "again");
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_INVALID);
  ck_assert (strstr (error->message, "changes nothing") != NULL);
  g_clear_error (&error);
  refused = SYNC (thecal_record_correct_patient, world.record, &error, world.nurse, "MRN-1", &other_mrn, "wrong MRN");
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_INVALID);
  g_clear_error (&error);

  /* The first version is still there, superseded. */
  history = SYNC (thecal_record_get_patient_record, world.record, &error, "MRN-1");
  ck_assert_ptr_nonnull (history);
  ck_assert_uint_eq (history->patient_versions->len, 2);
  ck_assert_str_eq (((ThecalPatient *) history->patient_versions->pdata[0])->name, "DOE, Jane");
  ck_assert_str_eq (((ThecalPatient *) history->patient_versions->pdata[1])->name, "DOE, Janet");
  ck_assert_str_eq (history->patient->name, "DOE, Janet");

  entries = list_audit (world.record);
  entry = entries->pdata[entries->len - 1];
  ck_assert_str_eq (entry->action, "patient.correct");
  ck_assert (strstr (entry->before, "\"DOE, Jane\"") != NULL);
  ck_assert (strstr (entry->after, "\"DOE, Janet\"") != NULL);
  ck_assert_str_eq (entry->reason, "name misspelt at registration");
}
END_TEST

static GPtrArray *
search (const char *text, gint64 limit)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *found = SYNC (thecal_record_search_patients, world.record, &error, text, limit);

  ck_assert_msg (found != NULL, "search “%s”: %s", text, error != NULL ? error->message : "?");
  return found;
}

static void
assert_found (const char *text, const char *expected_mrns)
{
  g_autoptr (GPtrArray) found = search (text, 50);
  g_autoptr (GString) mrns = g_string_new (NULL);

  for (guint i = 0; i < found->len; i++)
    g_string_append_printf (mrns, "%s%s", i > 0 ? " " : "", ((ThecalPatient *) found->pdata[i])->mrn);
  ck_assert_msg (g_str_equal (mrns->str, expected_mrns), "search “%s” found “%s”, expected “%s”", text, mrns->str,
                 expected_mrns);
}

START_TEST (test_patient_search)
{
  g_autoptr (ThecalPatient) a = add_patient (world.record, world.nurse, "MRN-0001", "DOE, Jane");
  g_autoptr (ThecalPatient) b = add_patient (world.record, world.nurse, "MRN-0002", "MÜLLER, Hans");
  g_autoptr (ThecalPatient) c = add_patient (world.record, world.nurse, "MRN-0010", "DOERING, Anne-Marie");
  g_autoptr (ThecalPatient) d = add_patient (world.record, world.nurse, "A-77", "O'NEIL, Jane");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) empty = NULL;
  g_autoptr (GPtrArray) limited = NULL;

  /* Words of the name, by prefix, regardless of case and accents. */
  assert_found ("doe", "MRN-0001 MRN-0010");
  assert_found ("DOE", "MRN-0001 MRN-0010");
  assert_found ("mull", "MRN-0002");
  assert_found ("Müller", "MRN-0002");
  assert_found ("jane", "MRN-0001 A-77");
  assert_found ("jane doe", "MRN-0001");
  assert_found ("doe, j", "MRN-0001");
  assert_found ("marie", "MRN-0010");
  assert_found ("o'neil", "A-77");
  assert_found ("neil", "A-77");
  assert_found ("zzz", "");
  /* Medical record numbers by prefix, before names. */
  assert_found ("MRN-000", "MRN-0001 MRN-0002");
  assert_found ("MRN-001", "MRN-0010");
  assert_found ("A", "A-77 MRN-0010");
  limited = search ("MRN", 2);
  ck_assert_uint_eq (limited->len, 2);
  /* Empty text: a usage error, not "everything". */
  empty = SYNC (thecal_record_search_patients, world.record, &error, "   ", 10);
  ck_assert_ptr_null (empty);
  assert_error (error, THECAL_DB_ERROR_INVALID);

  /* A correction of the name updates the index. */
  {
    ThecalPatientInput renamed = { NULL, "SMITH, Jane", "1961-04-12", THECAL_OPIOID_TOLERANT, NULL };
    g_autoptr (ThecalPatient) corrected = SYNC (thecal_record_correct_patient, world.record, &error, world.nurse,
                                                "MRN-0001", &renamed, "married name");

    ck_assert_ptr_nonnull (corrected);
    assert_found ("smith", "MRN-0001");
    assert_found ("doe", "MRN-0010");
  }
}
END_TEST

/* ---- Pumps and pairing keys ------------------------------------------------------------------ */

static ThecalPump *
try_add_pump (const char *serial, const char *mrn, gint64 catheter_mm, const guint8 *key, GError **error)
{
  ThecalPumpInput input = { serial, "TR-20", mrn, "2024-03-01", catheter_mm, key };

  return SYNC (thecal_record_add_pump, world.record, error, world.physician, &input);
}

START_TEST (test_pump_add_get_list)
{
  g_autoptr (ThecalPatient) patient = add_patient (world.record, world.nurse, "MRN-1", "DOE, Jane");
  g_autoptr (ThecalPatient) other = add_patient (world.record, world.nurse, "MRN-2", "ROE, Rita");
  g_autoptr (ThecalPump) pump = add_pump (world.record, world.physician, "SN-2", "MRN-1");
  g_autoptr (ThecalPump) second = add_pump (world.record, world.physician, "SN-1", "MRN-2");
  g_autoptr (ThecalPump) got = NULL;
  g_autoptr (GPtrArray) all = NULL;
  g_autoptr (GPtrArray) mine = NULL;
  g_autoptr (GError) error = NULL;

  got = SYNC (thecal_record_get_pump, world.record, &error, "SN-2");
  ck_assert_ptr_nonnull (got);
  ck_assert_str_eq (got->model_id, "TR-20");
  ck_assert_str_eq (got->patient_mrn, "MRN-1");
  ck_assert_int_eq (got->patient_id, patient->id);
  ck_assert_str_eq (got->implant_date, "2024-03-01");
  ck_assert_int_eq (got->catheter_length_mm, 1100);
  ck_assert_int_eq (got->status, THECAL_PUMP_IMPLANTED);
  ck_assert_ptr_null (got->explant_date);
  all = SYNC (thecal_record_list_pumps, world.record, &error, NULL);
  ck_assert_uint_eq (all->len, 2);
  ck_assert_str_eq (((ThecalPump *) all->pdata[0])->serial, "SN-1");
  mine = SYNC (thecal_record_list_pumps, world.record, &error, "MRN-1");
  ck_assert_uint_eq (mine->len, 1);
  ck_assert_str_eq (((ThecalPump *) mine->pdata[0])->serial, "SN-2");
  ck_assert_int_eq (count_audit (world.record, "pump.create"), 2);
}
END_TEST

START_TEST (test_pump_input_checks)
{
  g_autoptr (ThecalPatient) patient = add_patient (world.record, world.nurse, "MRN-1", "DOE, Jane");
  g_autoptr (ThecalPump) pump = add_pump (world.record, world.physician, "SN-1", "MRN-1");
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalPump) refused = NULL;
  g_autoptr (ThecalPump) longest = NULL;

  refused = try_add_pump ("SN-1", "MRN-1", 1100, NULL, &error);
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_EXISTS);
  g_clear_error (&error);
  refused = try_add_pump ("SN-9", "MRN-404", 1100, NULL, &error);
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* Catheter length: 1 mm .. 2000 mm. */
  refused = try_add_pump ("SN-9", "MRN-1", 0, NULL, &error);
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_INVALID);
  g_clear_error (&error);
  refused = try_add_pump ("SN-9", "MRN-1", 2001, NULL, &error);
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_INVALID);
  g_clear_error (&error);
  longest = try_add_pump ("SN-9", "MRN-1", 2000, NULL, &error);
  ck_assert_msg (longest != NULL, "%s", error != NULL ? error->message : "?");
}
END_TEST

START_TEST (test_pairing_key_wrapped)
{
  g_autofree char *path = record_path ();
  g_autoptr (ThecalPatient) patient = add_patient (world.record, world.nurse, "MRN-1", "DOE, Jane");
  guint8 key[THECAL_PAIRING_KEY_BYTES];
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalPump) pump = NULL;
  g_autoptr (ThecalPump) random_pump = NULL;
  g_autoptr (GBytes) unwrapped = NULL;
  g_autoptr (GBytes) random_key = NULL;
  g_autofree char *contents = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  gsize length = 0;

  for (guint i = 0; i < sizeof key; i++)
    key[i] = (guint8) (0xc0 + i);
  pump = try_add_pump ("SN-1", "MRN-1", 1100, key, &error);
  ck_assert_ptr_nonnull (pump);
  random_pump = add_pump (world.record, world.physician, "SN-2", "MRN-1");
  unwrapped = SYNC (thecal_record_get_pairing_key, world.record, &error, "SN-1");
  ck_assert_msg (unwrapped != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert_uint_eq (g_bytes_get_size (unwrapped), sizeof key);
  ck_assert_int_eq (memcmp (g_bytes_get_data (unwrapped, NULL), key, sizeof key), 0);
  random_key = SYNC (thecal_record_get_pairing_key, world.record, &error, "SN-2");
  ck_assert_ptr_nonnull (random_key);
  ck_assert_int_ne (memcmp (g_bytes_get_data (random_key, NULL), key, sizeof key), 0);

  /* The key is nowhere in clear: not in the file, not in the audit trail. */
  entries = list_audit (world.record);
  g_clear_object (&world.record);
  ck_assert (g_file_get_contents (path, &contents, &length, NULL));
  ck_assert_ptr_null (memmem (contents, length, key, sizeof key));
  for (guint i = 0; i < entries->len; i++)
    {
      ThecalAuditEntry *entry = entries->pdata[i];

      ck_assert (entry->after == NULL || strstr (entry->after, "key") == NULL);
    }
}
END_TEST

START_TEST (test_pairing_key_bound_to_serial)
{
  /* Copying one pump's wrapped key onto another pump's row (with the shell) does not give the
   * second pump the first one's key: the serial is authenticated with it. */
  g_autofree char *path = record_path ();
  g_autoptr (ThecalPatient) patient = add_patient (world.record, world.nurse, "MRN-1", "DOE, Jane");
  g_autoptr (ThecalPump) a = add_pump (world.record, world.physician, "SN-1", "MRN-1");
  g_autoptr (ThecalPump) b = add_pump (world.record, world.physician, "SN-2", "MRN-1");
  g_autoptr (GBytes) key = NULL;
  g_autoptr (GError) error = NULL;

  g_clear_object (&world.record);
  sqlite_shell_ok (path, "DROP TRIGGER pumps_no_update; "
                         "UPDATE pumps SET pairing_key_wrapped = (SELECT pairing_key_wrapped FROM pumps WHERE serial = 'SN-1') "
                         "WHERE serial = 'SN-2'");
  world.record = open_record (path, THECAL_RECORD_OPEN_DEFAULT);
  key = SYNC (thecal_record_get_pairing_key, world.record, &error, "SN-2");
  ck_assert_ptr_null (key);
  assert_error (error, THECAL_DB_ERROR_KEY);
  ck_assert (strstr (error->message, "SN-2") != NULL);
}
END_TEST

START_TEST (test_clinic_key_missing_or_foreign)
{
  g_autofree char *path = record_path ();
  g_autofree char *key_path = thecal_record_key_path (path);
  g_autofree char *other = test_path ("other.sqlite");
  g_autofree char *other_key = thecal_record_key_path (other);
  g_autoptr (ThecalPatient) patient = add_patient (world.record, world.nurse, "MRN-1", "DOE, Jane");
  g_autoptr (ThecalPump) pump = add_pump (world.record, world.physician, "SN-1", "MRN-1");
  g_autoptr (GError) error = NULL;

  g_clear_object (&world.record);
  ck_assert_int_eq (g_rename (key_path, other_key), 0);
  /* Missing: the record opens (patients are readable), the problem is said, keys are refused. */
  {
    g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_DEFAULT);
    g_autoptr (GBytes) key = SYNC (thecal_record_get_pairing_key, record, &error, "SN-1");
    g_autoptr (ThecalPatient) got = NULL;
    g_autoptr (ThecalPump) refused = NULL;
    ThecalPumpInput input = { "SN-2", "TR-20", "MRN-1", "2024-03-01", 1100, NULL };

    ck_assert_ptr_nonnull (thecal_record_get_key_problem (record));
    ck_assert (strstr (thecal_record_get_key_problem (record), "is missing") != NULL);
    ck_assert_ptr_null (key);
    assert_error (error, THECAL_DB_ERROR_KEY);
    g_clear_error (&error);
    refused = SYNC (thecal_record_add_pump, record, &error, world.physician, &input);
    ck_assert_ptr_null (refused);
    assert_error (error, THECAL_DB_ERROR_KEY);
    g_clear_error (&error);
    got = SYNC (thecal_record_get_patient, record, &error, "MRN-1");
    ck_assert_ptr_nonnull (got);
    /* A missing key file is not recreated: that would orphan every wrapped key. */
    ck_assert (!g_file_test (key_path, G_FILE_TEST_EXISTS));
  }
  /* Another record's key file in its place: detected by the check value. */
  ck_assert_int_eq (g_unlink (other_key), 0);
  g_object_unref (open_record (other, THECAL_RECORD_OPEN_CREATE));
  ck_assert (g_file_test (other_key, G_FILE_TEST_EXISTS));
  {
    g_autofree char *bytes = NULL;
    gsize length = 0;
    g_autoptr (ThecalRecord) record = NULL;

    ck_assert (g_file_get_contents (other_key, &bytes, &length, NULL));
    ck_assert (g_file_set_contents (key_path, bytes, (gssize) length, NULL));
    record = open_record (path, THECAL_RECORD_OPEN_DEFAULT);
    ck_assert_ptr_nonnull (thecal_record_get_key_problem (record));
    ck_assert (strstr (thecal_record_get_key_problem (record), "does not belong to this record") != NULL);
  }
}
END_TEST

START_TEST (test_pump_explant)
{
  g_autoptr (ThecalPatient) patient = add_patient (world.record, world.nurse, "MRN-1", "DOE, Jane");
  g_autoptr (ThecalPump) pump = add_pump (world.record, world.physician, "SN-1", "MRN-1");
  ThecalPumpDetails early = { "2024-03-01", 1100, THECAL_PUMP_EXPLANTED, "2024-02-01" };
  ThecalPumpDetails explant = { "2024-03-01", 1100, THECAL_PUMP_EXPLANTED, "2025-06-30" };
  g_autoptr (ThecalPump) refused = NULL;
  g_autoptr (ThecalPump) explanted = NULL;
  g_autoptr (ThecalPatientRecord) history = NULL;
  g_autoptr (GError) error = NULL;

  refused = SYNC (thecal_record_change_pump, world.record, &error, world.physician, "SN-1", &early, "end of service");
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_INVALID);
  ck_assert (strstr (error->message, "before the implant date") != NULL);
  g_clear_error (&error);
  explanted = SYNC (thecal_record_change_pump, world.record, &error, world.physician, "SN-1", &explant,
                    "end of service");
  ck_assert_msg (explanted != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (explanted->status, THECAL_PUMP_EXPLANTED);
  ck_assert_str_eq (explanted->explant_date, "2025-06-30");
  ck_assert_int_eq (explanted->supersedes, pump->version_id);
  ck_assert_int_eq (count_audit (world.record, "pump.explant"), 1);
  history = SYNC (thecal_record_get_patient_record, world.record, &error, "MRN-1");
  ck_assert_uint_eq (history->pumps->len, 2);
}
END_TEST

/* ---- Prescriptions -------------------------------------------------------------------------- */

static ThecalRecordedPrescription *
add_rx (const char *json, gint64 from_utc_ms, gint64 supersedes, const char *reason, GError **error)
{
  g_autofree ThecalPrescription *rx = load_rx (json);

  return SYNC (thecal_record_add_prescription, world.record, error, world.physician, "SN-1", rx, from_utc_ms,
               THECAL_RX_SOURCE_ENTERED, supersedes, reason);
}

START_TEST (test_prescriptions_versioned)
{
  g_autoptr (ThecalPatient) patient = add_patient (world.record, world.nurse, "MRN-1", "DOE, Jane");
  g_autoptr (ThecalPump) pump = add_pump (world.record, world.physician, "SN-1", "MRN-1");
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecordedPrescription) v1 = add_rx (RX_5_MG, 1000, 0, NULL, &error);
  g_autoptr (ThecalRecordedPrescription) v2 = add_rx (RX_6_MG, 5000, 0, NULL, &error);
  g_autoptr (ThecalRecordedPrescription) v3 = NULL;
  g_autoptr (ThecalRecordedPrescription) again = NULL;
  g_autoptr (GPtrArray) versions = NULL;
  ThecalRecordedPrescription *first;

  ck_assert_ptr_nonnull (v1);
  ck_assert_ptr_nonnull (v2);
  ck_assert_int_eq (v1->version, 1);
  ck_assert_int_eq (v2->version, 2);
  /* Stored as the canonical JSON of the dose core: it loads back. */
  {
    g_autofree ThecalPrescription *back = load_rx (v1->json);

    ck_assert_int_eq (back->continuous.dose_ng_per_day, 5000000);
  }
  /* Written alone, version 1 had no end; version 2 is in effect. */
  ck_assert_int_eq (v1->effective_to_utc_ms, G_MAXINT64);
  ck_assert_int_eq (v2->effective_to_utc_ms, G_MAXINT64);

  /* Version 1 was entered with the wrong start: a correction supersedes it, the old row stays. */
  v3 = add_rx (RX_5_MG, 2000, v1->id, "start date was wrong", &error);
  ck_assert_msg (v3 != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (v3->version, 3);
  ck_assert_int_eq (v3->supersedes, v1->id);
  ck_assert_int_eq (v3->effective_to_utc_ms, 5000);
  again = add_rx (RX_5_MG, 2000, v1->id, "again", &error);
  ck_assert_ptr_null (again);
  assert_error (error, THECAL_DB_ERROR_STATE);
  g_clear_error (&error);
  versions = SYNC (thecal_record_list_prescriptions, world.record, &error, "SN-1");
  ck_assert_uint_eq (versions->len, 3);
  first = versions->pdata[0];
  ck_assert (first->superseded);
  /* Version 1 (superseded) ran until version 3 (its correction, from 2000) started. */
  ck_assert_int_eq (first->effective_to_utc_ms, 2000);
  ck_assert_int_eq (((ThecalRecordedPrescription *) versions->pdata[1])->effective_to_utc_ms, G_MAXINT64);
  ck_assert (!((ThecalRecordedPrescription *) versions->pdata[1])->superseded);
  ck_assert_int_eq (count_audit (world.record, "prescription.create"), 2);
  ck_assert_int_eq (count_audit (world.record, "prescription.correct"), 1);
}
END_TEST

START_TEST (test_prescription_refusals)
{
  g_autoptr (ThecalPatient) patient = add_patient (world.record, world.nurse, "MRN-1", "DOE, Jane");
  g_autoptr (ThecalPump) pump = add_pump (world.record, world.physician, "SN-1", "MRN-1");
  g_autoptr (ThecalPump) other = add_pump (world.record, world.physician, "SN-2", "MRN-1");
  g_autofree ThecalPrescription *rx = load_rx (RX_5_MG);
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecordedPrescription) refused = NULL;
  g_autoptr (ThecalRecordedPrescription) on_other = NULL;

  /* "programmed" comes only from a confirmed programming session. */
  refused = SYNC (thecal_record_add_prescription, world.record, &error, world.physician, "SN-1", rx, 0,
                  THECAL_RX_SOURCE_PROGRAMMED, 0, NULL);
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_INVALID);
  g_clear_error (&error);
  /* A prescription that the dose core does not accept is not stored. */
  rx->concentration_ng_per_ml = 0;
  refused = SYNC (thecal_record_add_prescription, world.record, &error, world.physician, "SN-1", rx, 0,
                  THECAL_RX_SOURCE_ENTERED, 0, NULL);
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_INVALID);
  ck_assert (strstr (error->message, "not valid") != NULL);
  g_clear_error (&error);
  /* A correction must correct a version of the same pump. */
  rx->concentration_ng_per_ml = 25000000;
  on_other = SYNC (thecal_record_add_prescription, world.record, &error, world.physician, "SN-2", rx, 0,
                   THECAL_RX_SOURCE_ENTERED, 0, NULL);
  ck_assert_ptr_nonnull (on_other);
  refused = SYNC (thecal_record_add_prescription, world.record, &error, world.physician, "SN-1", rx, 0,
                  THECAL_RX_SOURCE_ENTERED, on_other->id, "wrong pump");
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_INVALID);
}
END_TEST

/* ---- Programming sessions ------------------------------------------------------------------- */

static ThecalProgrammingSession *
begin_session (gint64 old_rx_id)
{
  g_autofree ThecalPrescription *rx = load_rx (RX_6_MG);
  ThecalProgrammingChangeInput changes[] = {
    { "continuous.dose", "5 mg/day", "6 mg/day", "pain not controlled at 5 mg/day" },
    { "ptm", "off", "off", NULL },
  };
  ThecalProgrammingInput input = { "SN-1", old_rx_id, rx, "pain score 7/10", changes, G_N_ELEMENTS (changes) };
  g_autoptr (GError) error = NULL;
  ThecalProgrammingSession *session = SYNC (thecal_record_begin_programming, world.record, &error, world.physician,
                                            &input);

  ck_assert_msg (session != NULL, "%s", error != NULL ? error->message : "?");
  return session;
}

static ThecalProgrammingSession *
resolve (gint64 session_id, ThecalProgrammingOutcome outcome, GError **error)
{
  return SYNC (thecal_record_resolve_programming, world.record, error, world.physician, session_id, outcome,
               "read back", 7000);
}

START_TEST (test_programming_confirmed)
{
  g_autoptr (ThecalPatient) patient = add_patient (world.record, world.nurse, "MRN-1", "DOE, Jane");
  g_autoptr (ThecalPump) pump = add_pump (world.record, world.physician, "SN-1", "MRN-1");
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecordedPrescription) old = add_rx (RX_5_MG, 1000, 0, NULL, &error);
  g_autoptr (ThecalProgrammingSession) session = begin_session (old->id);
  g_autoptr (GPtrArray) unresolved = NULL;
  g_autoptr (ThecalProgrammingSession) uncertain = NULL;
  g_autoptr (ThecalProgrammingSession) confirmed = NULL;
  g_autoptr (ThecalProgrammingSession) again = NULL;
  g_autoptr (GPtrArray) versions = NULL;
  ThecalRecordedPrescription *programmed;

  /* Intent before action: pending, with its changes, committed. */
  ck_assert_int_eq (session->outcome, THECAL_OUTCOME_PENDING);
  ck_assert_int_eq (session->n_outcomes, 1);
  ck_assert_uint_eq (session->changes->len, 2);
  ck_assert_str_eq (((ThecalProgrammingChange *) session->changes->pdata[0])->override_reason,
                    "pain not controlled at 5 mg/day");
  ck_assert_int_eq (session->old_prescription_id, old->id);
  ck_assert_int_eq (session->prescription_id, 0);
  ck_assert_int_eq (count_audit (world.record, "programming.begin"), 1);
  ck_assert_int_eq (count_audit (world.record, "override"), 1);
  unresolved = SYNC (thecal_record_list_unresolved_sessions, world.record, &error);
  ck_assert_uint_eq (unresolved->len, 1);
  g_clear_pointer (&unresolved, g_ptr_array_unref);

  /* A lost answer: uncertain, still unresolved. */
  uncertain = resolve (session->id, THECAL_OUTCOME_UNCERTAIN, &error);
  ck_assert_ptr_nonnull (uncertain);
  ck_assert_int_eq (uncertain->outcome, THECAL_OUTCOME_UNCERTAIN);
  ck_assert_int_eq (uncertain->n_outcomes, 2);
  unresolved = SYNC (thecal_record_list_unresolved_sessions, world.record, &error);
  ck_assert_uint_eq (unresolved->len, 1);
  g_clear_pointer (&unresolved, g_ptr_array_unref);

  /* Read back: confirmed, and the new version is written with it. */
  confirmed = resolve (session->id, THECAL_OUTCOME_CONFIRMED, &error);
  ck_assert_msg (confirmed != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (confirmed->outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert_int_eq (confirmed->n_outcomes, 3);
  ck_assert_int_ne (confirmed->prescription_id, 0);
  unresolved = SYNC (thecal_record_list_unresolved_sessions, world.record, &error);
  ck_assert_uint_eq (unresolved->len, 0);
  versions = SYNC (thecal_record_list_prescriptions, world.record, &error, "SN-1");
  ck_assert_uint_eq (versions->len, 2);
  programmed = versions->pdata[1];
  ck_assert_int_eq (programmed->source, THECAL_RX_SOURCE_PROGRAMMED);
  ck_assert_int_eq (programmed->session_id, session->id);
  ck_assert_int_eq (programmed->effective_from_utc_ms, 7000);
  ck_assert_str_eq (programmed->json, session->new_prescription_json);

  /* Final. */
  again = resolve (session->id, THECAL_OUTCOME_FAILED, &error);
  ck_assert_ptr_null (again);
  assert_error (error, THECAL_DB_ERROR_STATE);
  ck_assert_int_eq (count_audit (world.record, "programming.resolve"), 2);
}
END_TEST

START_TEST (test_programming_failed_and_refusals)
{
  g_autoptr (ThecalPatient) patient = add_patient (world.record, world.nurse, "MRN-1", "DOE, Jane");
  g_autoptr (ThecalPump) pump = add_pump (world.record, world.physician, "SN-1", "MRN-1");
  g_autoptr (ThecalProgrammingSession) session = begin_session (0);
  g_autoptr (ThecalProgrammingSession) pending = NULL;
  g_autoptr (ThecalProgrammingSession) failed = NULL;
  g_autoptr (ThecalProgrammingSession) no_reason = NULL;
  g_autoptr (ThecalProgrammingSession) explanted_session = NULL;
  g_autoptr (GPtrArray) versions = NULL;
  g_autoptr (ThecalPump) explanted = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree ThecalPrescription *rx = load_rx (RX_6_MG);
  ThecalProgrammingInput without_reason = { "SN-1", 0, rx, "", NULL, 0 };
  ThecalPumpDetails explant = { "2024-03-01", 1100, THECAL_PUMP_EXPLANTED, "2025-01-01" };

  pending = resolve (session->id, THECAL_OUTCOME_PENDING, &error);
  ck_assert_ptr_null (pending);
  assert_error (error, THECAL_DB_ERROR_INVALID);
  g_clear_error (&error);
  failed = resolve (session->id, THECAL_OUTCOME_FAILED, &error);
  ck_assert_ptr_nonnull (failed);
  ck_assert_int_eq (failed->prescription_id, 0);
  versions = SYNC (thecal_record_list_prescriptions, world.record, &error, "SN-1");
  ck_assert_uint_eq (versions->len, 0);

  no_reason = SYNC (thecal_record_begin_programming, world.record, &error, world.physician, &without_reason);
  ck_assert_ptr_null (no_reason);
  assert_error (error, THECAL_DB_ERROR_INVALID);
  g_clear_error (&error);

  explanted = SYNC (thecal_record_change_pump, world.record, &error, world.physician, "SN-1", &explant, "removed");
  ck_assert_ptr_nonnull (explanted);
  without_reason.reason = "titration";
  explanted_session = SYNC (thecal_record_begin_programming, world.record, &error, world.physician, &without_reason);
  ck_assert_ptr_null (explanted_session);
  assert_error (error, THECAL_DB_ERROR_STATE);
}
END_TEST

/* ---- Refills -------------------------------------------------------------------------------- */

static ThecalRefillInput
refill_input (const char *verifier)
{
  ThecalRefillInput input = {
    .pump_serial = "SN-1",
    .performed_utc_ms = 10000,
    .expected_nl = 14000000,
    .aspirated_nl = 12500000,
    .discrepancy_flagged = TRUE,
    .added_nl = 20000000,
    .drug_id = "morphine",
    .concentration_ng_per_ml = 25000000,
    .lot = "LOT-42",
    .expiry_date = "2027-01-31",
    .verified_by = verifier,
  };

  return input;
}

START_TEST (test_refill_and_correction)
{
  g_autoptr (ThecalPatient) patient = add_patient (world.record, world.nurse, "MRN-1", "DOE, Jane");
  g_autoptr (ThecalPump) pump = add_pump (world.record, world.physician, "SN-1", "MRN-1");
  ThecalRefillInput input = refill_input ("paula");
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRefill) refill = SYNC (thecal_record_add_refill, world.record, &error, world.nurse, &input);
  g_autoptr (ThecalRefill) corrected = NULL;
  g_autoptr (ThecalRefill) again = NULL;
  g_autoptr (ThecalRefill) old = NULL;

  ck_assert_msg (refill != NULL, "%s", error != NULL ? error->message : "?");
  /* 14 mL expected, 12.5 mL came back: 1.5 mL discrepancy, as flagged by the caller. */
  ck_assert_int_eq (refill->discrepancy_nl, 1500000);
  ck_assert (refill->discrepancy_flagged);
  ck_assert_str_eq (refill->performed_by, "nina");
  ck_assert_str_eq (refill->verified_by, "paula");
  ck_assert_str_eq (refill->lot, "LOT-42");

  /* The aspirated volume was mistyped: 13.5 mL. */
  input.aspirated_nl = 13500000;
  input.discrepancy_flagged = FALSE;
  input.supersedes = refill->id;
  input.reason = "aspirated volume mistyped";
  corrected = SYNC (thecal_record_add_refill, world.record, &error, world.nurse, &input);
  ck_assert_msg (corrected != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (corrected->discrepancy_nl, 500000);
  ck_assert_int_eq (corrected->supersedes, refill->id);
  again = SYNC (thecal_record_add_refill, world.record, &error, world.nurse, &input);
  ck_assert_ptr_null (again);
  assert_error (error, THECAL_DB_ERROR_STATE);
  g_clear_error (&error);
  old = SYNC (thecal_record_get_refill, world.record, &error, refill->id);
  ck_assert_ptr_nonnull (old);
  ck_assert (old->superseded);
  ck_assert_int_eq (old->aspirated_nl, 12500000);
  ck_assert_int_eq (count_audit (world.record, "refill.create"), 1);
  ck_assert_int_eq (count_audit (world.record, "refill.correct"), 1);
}
END_TEST

START_TEST (test_refill_needs_second_person)
{
  g_autoptr (ThecalPatient) patient = add_patient (world.record, world.nurse, "MRN-1", "DOE, Jane");
  g_autoptr (ThecalPump) pump = add_pump (world.record, world.physician, "SN-1", "MRN-1");
  ThecalRefillInput self_verified = refill_input ("nina");
  ThecalRefillInput unknown = refill_input ("nobody");
  ThecalRefillInput negative = refill_input ("paula");
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRefill) refused = NULL;

  refused = SYNC (thecal_record_add_refill, world.record, &error, world.nurse, &self_verified);
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_INVALID);
  ck_assert (strstr (error->message, "second person") != NULL);
  g_clear_error (&error);
  refused = SYNC (thecal_record_add_refill, world.record, &error, world.nurse, &unknown);
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_NOT_FOUND);
  g_clear_error (&error);
  negative.aspirated_nl = -1;
  refused = SYNC (thecal_record_add_refill, world.record, &error, world.nurse, &negative);
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_INVALID);
  g_clear_error (&error);
  negative = refill_input ("paula");
  negative.expected_nl = G_MININT64;
  refused = SYNC (thecal_record_add_refill, world.record, &error, world.nurse, &negative);
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_INVALID);
  ck_assert_int_eq (count_audit (world.record, "refill.create"), 0);
}
END_TEST

/* ---- Pump writes (refills and boluses) ----------------------------------------------------- */

#define REFILL_REQUEST "{\"new_volume_nl\":\"20000000\",\"drug\":\"morphine\"}"
#define BOLUS_REQUEST "{\"kind\":\"clinician\",\"volume_nl\":\"40000\"}"

static ThecalPumpWrite *
begin_write (ThecalUser *actor, const char *serial, ThecalPumpWriteKind kind, GError **error)
{
  ThecalPumpWriteInput input = { serial, kind, kind == THECAL_PUMP_WRITE_REFILL ? "refill" : "clinician bolus",
                                 kind == THECAL_PUMP_WRITE_REFILL ? REFILL_REQUEST : BOLUS_REQUEST };

  return SYNC (thecal_record_begin_pump_write, world.record, error, actor, &input);
}

static ThecalPumpWrite *
resolve_write (gint64 id, const char *serial, ThecalProgrammingOutcome outcome, const ThecalRefillInput *refill, GError **error)
{
  return SYNC (thecal_record_resolve_pump_write, world.record, error, world.physician, id, serial, outcome, "read the pump",
               refill);
}

static guint
unresolved_writes (const char *serial)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) writes = SYNC (thecal_record_list_pump_writes, world.record, &error, serial, TRUE);

  ck_assert_msg (writes != NULL, "%s", error != NULL ? error->message : "?");
  return writes->len;
}

/* A refill write: pending first (audited), uncertain, then confirmed with its refill row in the
 * same transaction; the row names the nurse who started the write although the physician settled
 * it. Then final. */
START_TEST (test_pump_write_refill_confirmed)
{
  g_autoptr (ThecalPatient) patient = add_patient (world.record, world.nurse, "MRN-1", "DOE, Jane");
  g_autoptr (ThecalPump) pump = add_pump (world.record, world.physician, "SN-1", "MRN-1");
  g_autoptr (ThecalPump) other = add_pump (world.record, world.physician, "SN-2", "MRN-1");
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalPumpWrite) write = begin_write (world.nurse, "SN-1", THECAL_PUMP_WRITE_REFILL, &error);
  g_autoptr (ThecalPumpWrite) uncertain = NULL;
  g_autoptr (ThecalPumpWrite) confirmed = NULL;
  g_autoptr (ThecalPumpWrite) twice = NULL;
  g_autoptr (ThecalRefill) refill = NULL;
  g_autoptr (GPtrArray) all = NULL;
  ThecalRefillInput input = refill_input ("paula");

  ck_assert_msg (write != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (write->outcome, THECAL_OUTCOME_PENDING);
  ck_assert_int_eq (write->kind, THECAL_PUMP_WRITE_REFILL);
  ck_assert_int_eq (write->n_outcomes, 1);
  ck_assert_str_eq (write->pump_serial, "SN-1");
  ck_assert_str_eq (write->started_by, "nina");
  ck_assert_str_eq (write->request_json, REFILL_REQUEST);
  ck_assert_int_eq (write->refill_id, 0);
  ck_assert_int_eq (count_audit (world.record, "refill.pending"), 1);
  ck_assert_uint_eq (unresolved_writes ("SN-1"), 1);
  ck_assert_uint_eq (unresolved_writes ("SN-2"), 0);
  ck_assert_uint_eq (unresolved_writes (NULL), 1);

  /* uncertain: still unresolved, no refill yet */
  uncertain = resolve_write (write->id, "SN-1", THECAL_OUTCOME_UNCERTAIN, NULL, &error);
  ck_assert_msg (uncertain != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (uncertain->outcome, THECAL_OUTCOME_UNCERTAIN);
  ck_assert_int_eq (uncertain->n_outcomes, 2);
  ck_assert_uint_eq (unresolved_writes ("SN-1"), 1);
  ck_assert_int_eq (count_audit (world.record, "refill.create"), 0);

  /* confirmed by the physician: the refill row comes with it, performed by the nurse */
  confirmed = resolve_write (write->id, "SN-1", THECAL_OUTCOME_CONFIRMED, &input, &error);
  ck_assert_msg (confirmed != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (confirmed->outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert_int_eq (confirmed->n_outcomes, 3);
  ck_assert_str_eq (confirmed->outcome_by, "paula");
  ck_assert_str_eq (confirmed->outcome_note, "read the pump");
  ck_assert_int_ne (confirmed->refill_id, 0);
  refill = SYNC (thecal_record_get_refill, world.record, &error, confirmed->refill_id);
  ck_assert_msg (refill != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert_str_eq (refill->performed_by, "nina");
  ck_assert_str_eq (refill->verified_by, "paula");
  ck_assert_int_eq (refill->added_nl, 20000000);
  ck_assert_uint_eq (unresolved_writes ("SN-1"), 0);
  ck_assert_int_eq (count_audit (world.record, "refill.uncertain"), 1);
  ck_assert_int_eq (count_audit (world.record, "refill.confirmed"), 1);
  ck_assert_int_eq (count_audit (world.record, "refill.create"), 1);

  /* resolved twice: final, nothing added */
  twice = resolve_write (write->id, "SN-1", THECAL_OUTCOME_CONFIRMED, &input, &error);
  ck_assert_ptr_null (twice);
  assert_error (error, THECAL_DB_ERROR_STATE);
  g_clear_error (&error);
  twice = resolve_write (write->id, "SN-1", THECAL_OUTCOME_UNCERTAIN, NULL, &error);
  ck_assert_ptr_null (twice);
  assert_error (error, THECAL_DB_ERROR_STATE);
  g_clear_error (&error);
  ck_assert_int_eq (count_audit (world.record, "refill.create"), 1);
  all = SYNC (thecal_record_list_pump_writes, world.record, &error, "SN-1", FALSE);
  ck_assert_uint_eq (all->len, 1);
  ck_assert_int_eq (((ThecalPumpWrite *) all->pdata[0])->n_outcomes, 3);
}
END_TEST

/* The boundaries: PENDING is not a resolution, unknown ids and another pump's write are refused,
 * a refill is recorded exactly with a confirmed refill write, a failed write is final, a refused
 * refill row leaves the write as it was, and a begin needs a reason, a JSON object and a pump. */
START_TEST (test_pump_write_refusals)
{
  g_autoptr (ThecalPatient) patient = add_patient (world.record, world.nurse, "MRN-1", "DOE, Jane");
  g_autoptr (ThecalPump) pump = add_pump (world.record, world.physician, "SN-1", "MRN-1");
  g_autoptr (ThecalPump) other = add_pump (world.record, world.physician, "SN-2", "MRN-1");
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalPumpWrite) refill_write = begin_write (world.nurse, "SN-1", THECAL_PUMP_WRITE_REFILL, &error);
  g_autoptr (ThecalPumpWrite) bolus = begin_write (world.physician, "SN-1", THECAL_PUMP_WRITE_BOLUS, &error);
  g_autoptr (ThecalPumpWrite) failed = NULL;
  g_autoptr (ThecalPumpWrite) refused = NULL;
  g_autoptr (ThecalPumpWrite) after = NULL;
  ThecalRefillInput input = refill_input ("paula");
  ThecalRefillInput self_verified = refill_input ("nina");
  ThecalPumpWriteInput no_reason = { "SN-1", THECAL_PUMP_WRITE_BOLUS, "", BOLUS_REQUEST };
  ThecalPumpWriteInput not_object = { "SN-1", THECAL_PUMP_WRITE_BOLUS, "bolus", "[1, 2]" };
  ThecalPumpWriteInput not_json = { "SN-1", THECAL_PUMP_WRITE_BOLUS, "bolus", "{\"kind\":" };
  ThecalPumpWriteInput unknown_pump = { "SN-9", THECAL_PUMP_WRITE_BOLUS, "bolus", BOLUS_REQUEST };
  ThecalPumpWriteInput bad_kind = { "SN-1", (ThecalPumpWriteKind) 7, "bolus", BOLUS_REQUEST };
  g_autoptr (GPtrArray) all = NULL;

  ck_assert_ptr_nonnull (refill_write);
  ck_assert_ptr_nonnull (bolus);
  ck_assert_int_eq (count_audit (world.record, "bolus.pending"), 1);
  ck_assert_uint_eq (unresolved_writes ("SN-1"), 2);

  refused = resolve_write (bolus->id, "SN-1", THECAL_OUTCOME_PENDING, NULL, &error);
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_INVALID);
  g_clear_error (&error);
  refused = resolve_write (bolus->id + 1000, "SN-1", THECAL_OUTCOME_FAILED, NULL, &error);
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* the visit is connected to SN-2: SN-1's write is not its to settle */
  refused = resolve_write (bolus->id, "SN-2", THECAL_OUTCOME_FAILED, NULL, &error);
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_INVALID);
  ck_assert (strstr (error->message, "SN-1") != NULL);
  g_clear_error (&error);
  /* a refill row only with a confirmed refill write */
  refused = resolve_write (bolus->id, "SN-1", THECAL_OUTCOME_CONFIRMED, &input, &error);
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_INVALID);
  g_clear_error (&error);
  refused = resolve_write (refill_write->id, "SN-1", THECAL_OUTCOME_CONFIRMED, NULL, &error);
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_INVALID);
  g_clear_error (&error);
  refused = resolve_write (refill_write->id, "SN-1", THECAL_OUTCOME_FAILED, &input, &error);
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_INVALID);
  g_clear_error (&error);
  /* the refill row is refused (the nurse who started it cannot verify it): nothing changes */
  refused = resolve_write (refill_write->id, "SN-1", THECAL_OUTCOME_CONFIRMED, &self_verified, &error);
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_INVALID);
  ck_assert (strstr (error->message, "second person") != NULL);
  g_clear_error (&error);
  ck_assert_int_eq (count_audit (world.record, "refill.create"), 0);
  ck_assert_int_eq (count_audit (world.record, "refill.confirmed"), 0);
  ck_assert_uint_eq (unresolved_writes ("SN-1"), 2);

  /* failed is final */
  failed = resolve_write (bolus->id, "SN-1", THECAL_OUTCOME_FAILED, NULL, &error);
  ck_assert_msg (failed != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (failed->outcome, THECAL_OUTCOME_FAILED);
  ck_assert_int_eq (count_audit (world.record, "bolus.failed"), 1);
  refused = resolve_write (bolus->id, "SN-1", THECAL_OUTCOME_CONFIRMED, NULL, &error);
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_STATE);
  g_clear_error (&error);
  ck_assert_uint_eq (unresolved_writes ("SN-1"), 1);
  after = resolve_write (refill_write->id, NULL, THECAL_OUTCOME_FAILED, NULL, &error);
  ck_assert_msg (after != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (after->refill_id, 0);
  ck_assert_uint_eq (unresolved_writes ("SN-1"), 0);

  /* begin: a reason, a JSON object, a known implanted pump, a known kind */
  refused = SYNC (thecal_record_begin_pump_write, world.record, &error, world.physician, &no_reason);
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_INVALID);
  g_clear_error (&error);
  refused = SYNC (thecal_record_begin_pump_write, world.record, &error, world.physician, &not_object);
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_INVALID);
  g_clear_error (&error);
  refused = SYNC (thecal_record_begin_pump_write, world.record, &error, world.physician, &not_json);
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_INVALID);
  g_clear_error (&error);
  refused = SYNC (thecal_record_begin_pump_write, world.record, &error, world.physician, &unknown_pump);
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_NOT_FOUND);
  g_clear_error (&error);
  refused = SYNC (thecal_record_begin_pump_write, world.record, &error, world.physician, &bad_kind);
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_INVALID);
  g_clear_error (&error);
  all = SYNC (thecal_record_list_pump_writes, world.record, &error, NULL, FALSE);
  ck_assert_uint_eq (all->len, 2);
  g_clear_pointer (&all, g_ptr_array_unref);
  all = SYNC (thecal_record_list_pump_writes, world.record, &error, "SN-9", FALSE);
  ck_assert_ptr_null (all);
  assert_error (error, THECAL_DB_ERROR_NOT_FOUND);
}
END_TEST

/* ---- Events and alarms ---------------------------------------------------------------------- */

START_TEST (test_events_idempotent)
{
  g_autoptr (ThecalPatient) patient = add_patient (world.record, world.nurse, "MRN-1", "DOE, Jane");
  g_autoptr (ThecalPump) pump = add_pump (world.record, world.physician, "SN-1", "MRN-1");
  ThecalPumpEventInput events[] = {
    { 1, 1000, "refill", "{\"volume_nl\":20000000}" },
    { 2, 2000, "prescription", NULL },
    { 3, 3000, "alarm.low_reservoir", NULL },
  };
  ThecalPumpEventInput overlap[] = {
    { 2, 2000, "prescription", NULL },
    { 3, 3333, "alarm.empty", NULL }, /* the same sequence with other content */
    { 4, 4000, "bolus", NULL },
  };
  ThecalPumpEventInput bad[] = {
    { 5, 5000, "bolus", NULL },
    { -1, 5000, "bolus", NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autofree ThecalEventImport *first = SYNC (thecal_record_import_events, world.record, &error, world.nurse, "SN-1",
                                              events, G_N_ELEMENTS (events));
  g_autofree ThecalEventImport *second = SYNC (thecal_record_import_events, world.record, &error, world.nurse, "SN-1",
                                               events, G_N_ELEMENTS (events));
  g_autofree ThecalEventImport *third = SYNC (thecal_record_import_events, world.record, &error, world.nurse, "SN-1",
                                              overlap, G_N_ELEMENTS (overlap));
  g_autofree ThecalEventImport *refused = NULL;
  g_autoptr (ThecalPatientRecord) history = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  ThecalAuditEntry *entry;

  ck_assert_uint_eq (first->inserted, 3);
  ck_assert_uint_eq (second->inserted, 0);
  ck_assert_uint_eq (second->duplicates, 3);
  ck_assert_uint_eq (third->inserted, 1);
  ck_assert_uint_eq (third->duplicates, 1);
  ck_assert_uint_eq (third->conflicts, 1);
  entries = list_audit (world.record);
  entry = entries->pdata[entries->len - 1];
  ck_assert_str_eq (entry->action, "events.import");
  ck_assert (strstr (entry->after, "\"conflicting_sequences\":\"3\"") != NULL);
  ck_assert_ptr_nonnull (entry->reason);

  /* One bad event: nothing of the import is kept (one transaction). */
  refused = SYNC (thecal_record_import_events, world.record, &error, world.nurse, "SN-1", bad, G_N_ELEMENTS (bad));
  ck_assert_ptr_null (refused);
  assert_error (error, THECAL_DB_ERROR_INVALID);
  g_clear_error (&error);

  history = SYNC (thecal_record_get_patient_record, world.record, &error, "MRN-1");
  ck_assert_uint_eq (history->events->len, 4);
  /* The first import of sequence 3 is kept. */
  ck_assert_str_eq (((ThecalPumpEvent *) history->events->pdata[2])->kind, "alarm.low_reservoir");
  ck_assert_int_eq (((ThecalPumpEvent *) history->events->pdata[2])->pump_time_ms, 3000);
  ck_assert_str_eq (history->event_serials->pdata[0], "SN-1");
}
END_TEST

START_TEST (test_patient_record_has_everything)
{
  g_autoptr (ThecalPatient) patient = add_patient (world.record, world.nurse, "MRN-1", "DOE, Jane");
  g_autoptr (ThecalPatient) other = add_patient (world.record, world.nurse, "MRN-2", "ROE, Rita");
  g_autoptr (ThecalPump) pump = add_pump (world.record, world.physician, "SN-1", "MRN-1");
  g_autoptr (ThecalPump) other_pump = add_pump (world.record, world.physician, "SN-2", "MRN-2");
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecordedPrescription) rx = add_rx (RX_5_MG, 1000, 0, NULL, &error);
  g_autoptr (ThecalProgrammingSession) session = begin_session (rx->id);
  ThecalRefillInput refill_in = refill_input ("paula");
  g_autoptr (ThecalRefill) refill = SYNC (thecal_record_add_refill, world.record, &error, world.nurse, &refill_in);
  g_autoptr (ThecalAlarmSeen) alarm = SYNC (thecal_record_add_alarm_seen, world.record, &error, world.nurse, "SN-1",
                                            "low_reservoir", G_MININT64);
  g_autoptr (ThecalAlarmSeen) other_alarm = SYNC (thecal_record_add_alarm_seen, world.record, &error, world.nurse,
                                                  "SN-2", "eri", 5000);
  g_autoptr (ThecalPatientRecord) history = SYNC (thecal_record_get_patient_record, world.record, &error, "MRN-1");

  ck_assert_ptr_nonnull (alarm);
  ck_assert_int_eq (alarm->pump_time_ms, G_MININT64);
  ck_assert_msg (history != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert_str_eq (history->patient->mrn, "MRN-1");
  ck_assert_uint_eq (history->patient_versions->len, 1);
  ck_assert_uint_eq (history->pumps->len, 1);
  ck_assert_uint_eq (history->prescriptions->len, 1);
  ck_assert_uint_eq (history->sessions->len, 1);
  ck_assert_uint_eq (history->refills->len, 1);
  ck_assert_uint_eq (history->events->len, 0);
  ck_assert_uint_eq (history->alarms->len, 1);
  ck_assert_str_eq (((ThecalAlarmSeen *) history->alarms->pdata[0])->kind, "low_reservoir");
  ck_assert_int_eq (count_audit (world.record, "alarm.seen"), 2);
}
END_TEST

/* ---- Append-only, behind Thecal's back -------------------------------------------------------- */

START_TEST (test_clinical_rows_append_only)
{
  static const char *const tables[][2] = {
    { "patients", "mrn" },
    { "patient_versions", "name" },
    { "pumps", "serial" },
    { "pump_versions", "status" },
    { "prescriptions", "prescription_json" },
    { "programming_sessions", "reason" },
    { "programming_changes", "new_value" },
    { "programming_outcomes", "outcome" },
    { "refills", "aspirated_nl" },
    { "pump_writes", "request_json" },
    { "pump_write_outcomes", "outcome" },
    { "pump_events", "kind" },
    { "alarms_seen", "kind" },
    { "record_info", "value" },
  };
  g_autofree char *path = record_path ();
  g_autoptr (ThecalPatient) patient = add_patient (world.record, world.nurse, "MRN-1", "DOE, Jane");
  g_autoptr (ThecalPump) pump = add_pump (world.record, world.physician, "SN-1", "MRN-1");
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecordedPrescription) rx = add_rx (RX_5_MG, 1000, 0, NULL, &error);
  g_autoptr (ThecalProgrammingSession) session = begin_session (rx->id);
  ThecalRefillInput refill_in = refill_input ("paula");
  g_autoptr (ThecalRefill) refill = SYNC (thecal_record_add_refill, world.record, &error, world.nurse, &refill_in);
  g_autoptr (ThecalPumpWrite) write = begin_write (world.physician, "SN-1", THECAL_PUMP_WRITE_BOLUS, &error);
  g_autoptr (ThecalPumpWrite) confirmed = resolve_write (write->id, "SN-1", THECAL_OUTCOME_CONFIRMED, NULL, &error);
  ThecalPumpEventInput event = { 1, 1000, "refill", NULL };
  g_autofree ThecalEventImport *imported = SYNC (thecal_record_import_events, world.record, &error, world.nurse, "SN-1",
                                                 &event, 1);
  g_autoptr (ThecalAlarmSeen) alarm = SYNC (thecal_record_add_alarm_seen, world.record, &error, world.nurse, "SN-1",
                                            "eri", 1000);

  g_clear_object (&world.record);
  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      g_autofree char *update = g_strdup_printf ("UPDATE %s SET %s = %s", tables[i][0], tables[i][1], tables[i][1]);
      g_autofree char *delete = g_strdup_printf ("DELETE FROM %s", tables[i][0]);
      g_autofree char *count = g_strdup_printf ("SELECT count (*) FROM %s", tables[i][0]);
      g_autofree char *out = NULL;
      g_autofree char *rows = NULL;

      ck_assert_int_eq (sqlite_shell (path, count, &rows), 0);
      ck_assert_msg (atoi (rows) > 0, "%s is empty: the test proves nothing", tables[i][0]);
      ck_assert_msg (sqlite_shell (path, update, &out) != 0, "UPDATE of %s was allowed", tables[i][0]);
      ck_assert_msg (strstr (out, "never") != NULL || strstr (out, "written once") != NULL, "%s: %s", tables[i][0], out);
      g_clear_pointer (&out, g_free);
      ck_assert_msg (sqlite_shell (path, delete, &out) != 0, "DELETE from %s was allowed", tables[i][0]);
    }
  /* a confirmed write is final even for a row inserted behind Thecal's back */
  {
    g_autofree char *insert = g_strdup_printf ("INSERT INTO pump_write_outcomes (write_id, supersedes, outcome, "
                                               "recorded_utc_ms, recorded_by) VALUES (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                                               ", 'failed', 1, 1)",
                                               confirmed->id, confirmed->outcome_id);
    g_autofree char *out = NULL;

    ck_assert_msg (sqlite_shell (path, insert, &out) != 0, "a final outcome was superseded");
    ck_assert_msg (strstr (out, "final") != NULL, "%s", out);
  }
}
END_TEST

static Suite *
record_clinical_suite (void)
{
  Suite *suite = suite_create ("record-clinical");
  TCase *patients = tcase_create ("patients");
  TCase *pumps = tcase_create ("pumps");
  TCase *therapy = tcase_create ("therapy");

  tcase_add_checked_fixture (patients, world_setup, world_teardown);
  tcase_add_test (patients, test_patient_add_get);
  tcase_add_test (patients, test_patient_input_checks);
  tcase_add_test (patients, test_patient_correction_supersedes);
  tcase_add_test (patients, test_patient_search);
  suite_add_tcase (suite, patients);

  tcase_add_checked_fixture (pumps, world_setup, world_teardown);
  tcase_add_test (pumps, test_pump_add_get_list);
  tcase_add_test (pumps, test_pump_input_checks);
  tcase_add_test (pumps, test_pairing_key_wrapped);
  tcase_add_test (pumps, test_pairing_key_bound_to_serial);
  tcase_add_test (pumps, test_clinic_key_missing_or_foreign);
  tcase_add_test (pumps, test_pump_explant);
  suite_add_tcase (suite, pumps);

  tcase_add_checked_fixture (therapy, world_setup, world_teardown);
  tcase_add_test (therapy, test_prescriptions_versioned);
  tcase_add_test (therapy, test_prescription_refusals);
  tcase_add_test (therapy, test_programming_confirmed);
  tcase_add_test (therapy, test_programming_failed_and_refusals);
  tcase_add_test (therapy, test_refill_and_correction);
  tcase_add_test (therapy, test_refill_needs_second_person);
  tcase_add_test (therapy, test_pump_write_refill_confirmed);
  tcase_add_test (therapy, test_pump_write_refusals);
  tcase_add_test (therapy, test_events_idempotent);
  tcase_add_test (therapy, test_patient_record_has_everything);
  tcase_add_test (therapy, test_clinical_rows_append_only);
  suite_add_tcase (suite, therapy);
  return suite;
}

THECAL_TEST_MAIN (record_clinical_suite)
