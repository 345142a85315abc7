/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * make-record-data.c: writes tests/record/data/vN.sqlite (and its key file vN.sqlite.key), a
 * record of the current schema version N holding one of everything, for test_stored_versions in
 * test-record-open.c (docs/record.md "Adding a schema version").
 *
 *   build/tests/record/make-record-data tests/record/data
 *
 * Run it once when THECAL_RECORD_SCHEMA_VERSION changes, before the migration is written, and
 * commit the file: every later version must open it. Existing files are never overwritten.
 * What test_stored_versions checks (MRN-0001 "DOE, Jane", pump SN-0001 with the pairing key
 * 0, 1, …, 31, user "nurse" with the password "the nurse's password") must stay in every version;
 * from version 2 on, one confirmed bolus write of SN-0001.
 * Passwords are hashed with the MIN limits, as in every test.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>

#include "thecal-dose-json.h"
#include "thecal-record.h"
#include "thecal-sync-call.h"

#define SYNC(op, record, error, ...)                                                 \
  ({                                                                                 \
    g_autoptr (ThecalSyncCall) sync_call_ = thecal_sync_call_new ();                 \
    op##_async (record, ##__VA_ARGS__, NULL, thecal_sync_call_callback, sync_call_); \
    op##_finish (record, thecal_sync_call_wait (sync_call_), error);                 \
  })

static void
check (gconstpointer value, GError *error, const char *what)
{
  if (value == NULL)
    {
      fprintf (stderr, "make-record-data: %s: %s\n", what, error != NULL ? error->message : "?");
      exit (EXIT_FAILURE);
    }
}

int
main (int argc, char **argv)
{
  static const char rx_json[] = "{\"format\":\"thecal-prescription\",\"version\":1,\"drug\":\"morphine\","
                                "\"concentration\":\"25 mg/mL\",\"mode\":\"continuous\","
                                "\"continuous\":{\"dose\":\"5 mg/day\"}}";
  static const char new_rx_json[] = "{\"format\":\"thecal-prescription\",\"version\":1,\"drug\":\"morphine\","
                                    "\"concentration\":\"25 mg/mL\",\"mode\":\"continuous\","
                                    "\"continuous\":{\"dose\":\"6 mg/day\"}}";
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecord) record = NULL;
  g_autoptr (ThecalUser) admin = NULL;
  g_autoptr (ThecalUser) physician = NULL;
  g_autoptr (ThecalUser) nurse = NULL;
  g_autoptr (ThecalPatient) jane = NULL;
  g_autoptr (ThecalPatient) jane2 = NULL;
  g_autoptr (ThecalPatient) hans = NULL;
  g_autoptr (ThecalPump) pump = NULL;
  g_autoptr (ThecalRecordedPrescription) recorded = NULL;
  g_autoptr (ThecalProgrammingSession) session = NULL;
  g_autoptr (ThecalProgrammingSession) resolved = NULL;
  g_autoptr (ThecalRefill) refill = NULL;
  g_autofree ThecalEventImport *imported = NULL;
  g_autoptr (ThecalAlarmSeen) alarm = NULL;
  ThecalPrescription rx;
  ThecalPrescription new_rx;
  ThecalDoseError dose_error = { 0 };
  guint8 pairing_key[THECAL_PAIRING_KEY_BYTES];
  gint64 now_utc_ms = g_get_real_time () / 1000;

  if (argc != 2)
    {
      fprintf (stderr, "usage: make-record-data FOLDER\n");
      return EXIT_FAILURE;
    }
  name = g_strdup_printf ("v%d.sqlite", THECAL_RECORD_SCHEMA_VERSION);
  path = g_build_filename (argv[1], name, NULL);
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      fprintf (stderr, "make-record-data: %s exists: a stored version is never rewritten\n", path);
      return EXIT_FAILURE;
    }
  if (!thecal_prescription_load_json (rx_json, sizeof rx_json - 1, &rx, &dose_error)
      || !thecal_prescription_load_json (new_rx_json, sizeof new_rx_json - 1, &new_rx, &dose_error))
    {
      fprintf (stderr, "make-record-data: %s\n", dose_error.message);
      return EXIT_FAILURE;
    }
  for (guint i = 0; i < sizeof pairing_key; i++)
    pairing_key[i] = (guint8) i;

  record = thecal_record_open_sync (path, THECAL_RECORD_OPEN_CREATE | THECAL_RECORD_OPEN_FAST_HASH, NULL, &error);
  check (record, error, "open");
  admin = SYNC (thecal_record_create_first_administrator, record, &error, "admin", "Ada Admin",
                "the administrator's password");
  check (admin, error, "first administrator");
  physician = SYNC (thecal_record_add_user, record, &error, admin, "physician", "Dr Paula Physician",
                    THECAL_ROLE_PHYSICIAN, "the physician's password");
  check (physician, error, "physician");
  nurse = SYNC (thecal_record_add_user, record, &error, admin, "nurse", "Nina Nurse", THECAL_ROLE_NURSE,
                "the nurse's password");
  check (nurse, error, "nurse");

  {
    ThecalPatientInput input = { "MRN-0001", "DOE, Jane", "1961-04-12", THECAL_OPIOID_TOLERANT, "" };
    ThecalPatientInput corrected = { "MRN-0001", "DOE, Jane", "1961-04-12", THECAL_OPIOID_TOLERANT,
                                     "Morphine intrathecal since 2024." };
    ThecalPatientInput other = { "MRN-0002", "MÜLLER, Hans", "1955-11-30", THECAL_OPIOID_NAIVE, NULL };

    jane = SYNC (thecal_record_add_patient, record, &error, physician, &input);
    check (jane, error, "patient");
    jane2 = SYNC (thecal_record_correct_patient, record, &error, nurse, "MRN-0001", &corrected, "notes were missing");
    check (jane2, error, "correction");
    hans = SYNC (thecal_record_add_patient, record, &error, physician, &other);
    check (hans, error, "second patient");
  }
  {
    ThecalPumpInput input = { "SN-0001", "TR-20", "MRN-0001", "2024-03-01", 1100, pairing_key };

    pump = SYNC (thecal_record_add_pump, record, &error, physician, &input);
    check (pump, error, "pump");
  }
  recorded = SYNC (thecal_record_add_prescription, record, &error, physician, "SN-0001", &rx,
                   now_utc_ms - 86400000, THECAL_RX_SOURCE_ENTERED, 0, NULL);
  check (recorded, error, "prescription");
  {
    ThecalProgrammingChangeInput changes[] = {
      { "continuous.dose", "5 mg/day", "6 mg/day", "pain not controlled at 5 mg/day for two weeks" },
    };
    ThecalProgrammingInput input = { "SN-0001", recorded->id, &new_rx, "pain score 7/10", changes, 1 };

    session = SYNC (thecal_record_begin_programming, record, &error, physician, &input);
    check (session, error, "programming session");
    resolved = SYNC (thecal_record_resolve_programming, record, &error, physician, session->id,
                     THECAL_OUTCOME_CONFIRMED, "read back and compared", now_utc_ms);
    check (resolved, error, "resolution");
  }
  {
    ThecalRefillInput input = {
      .pump_serial = "SN-0001",
      .performed_utc_ms = now_utc_ms,
      .expected_nl = 14000000,
      .aspirated_nl = 13800000,
      .discrepancy_flagged = FALSE,
      .added_nl = 20000000,
      .drug_id = "morphine",
      .concentration_ng_per_ml = 25000000,
      .lot = "LOT-42",
      .expiry_date = "2027-01-31",
      .verified_by = "physician",
    };

    refill = SYNC (thecal_record_add_refill, record, &error, nurse, &input);
    check (refill, error, "refill");
  }
  {
    ThecalPumpEventInput events[] = {
      { 1, 1000, "refill", "{\"volume_nl\":20000000}" },
      { 2, 2000, "prescription", NULL },
      { 3, 3000, "alarm.low_reservoir", NULL },
    };

    imported = SYNC (thecal_record_import_events, record, &error, nurse, "SN-0001", events, 3);
    check (imported, error, "events");
  }
  alarm = SYNC (thecal_record_add_alarm_seen, record, &error, nurse, "SN-0001", "low_reservoir", 3000);
  check (alarm, error, "alarm");
#if THECAL_RECORD_SCHEMA_VERSION >= 2
  {
    /* a clinician bolus written to the pump and confirmed (schema version 2) */
    ThecalPumpWriteInput input = { "SN-0001", THECAL_PUMP_WRITE_BOLUS, "breakthrough pain",
                                   "{\"kind\":\"clinician\",\"volume_nl\":\"40000\"}" };
    g_autoptr (ThecalPumpWrite) write = SYNC (thecal_record_begin_pump_write, record, &error, physician, &input);
    g_autoptr (ThecalPumpWrite) confirmed = NULL;

    check (write, error, "pump write");
    confirmed = SYNC (thecal_record_resolve_pump_write, record, &error, physician, write->id, "SN-0001",
                      THECAL_OUTCOME_CONFIRMED, "the pump answered", NULL);
    check (confirmed, error, "pump write outcome");
  }
#endif
  printf ("wrote %s and its key file\n", path);
  return EXIT_SUCCESS;
}
