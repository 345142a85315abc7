/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-visit-clock.c: clock synchronisation and alarm acknowledgement
 * (src/workflow/thecal-workflow-clock.c) against the simulated demo pumps TR20-000123 and
 * TR20-000124 (1.8 mL left: low-reservoir alarm) over the loopback transport, with a real record.
 */
#include "config.h"

#include "thecal-dose-json.h"
#include "thecal-fault-transport.h"
#include "thecal-loopback-transport.h"
#include "thecal-sim-pump-demo.h"
#include "thecal-test-record.h"
#include "thecal-test.h"
#include "thecal-visit.h"
#include "thecal-workflow-clock.h"

#define MG INT64_C (1000000)

typedef struct
{
  char *path;
  ThecalRecord *record;
  ThecalRecordSession *physician;
  ThecalRecordSession *nurse;
  ThecalPumpModelSet models;
  ThecalDrugLibrary library;
  ThecalClock *clock;
  ThecalSimPump *pump;
  ThecalLoopbackTransport *loopback;
  ThecalFaultTransport *fault;
  gboolean drop_commit_answer;
  gboolean drop_reservoir_answer;
  gboolean drop_status_answer;
  ThecalPumpLink *link;
} World;

static World world;
static const char *demo_serial = "TR20-000123";

/* How far the clinic's clock is from the pump's (the pump drifts by minus this). */
static gint64 clinic_ahead_ms;

static gboolean
load_data (const char *name, char **text, gsize *length)
{
  g_autofree char *path = g_build_filename (g_getenv ("THECAL_DATA_DIR"), name, NULL);

  return g_file_get_contents (path, text, length, NULL);
}

static gint64
pump_time (gpointer user_data)
{
  (void) user_data;
  return thecal_loopback_transport_pump_time_ms (world.loopback) + clinic_ahead_ms;
}

/* Runs on the test's context: drops the pump's answer to COMMIT when asked. */
static ThecalFaultAction
policy (ThecalFaultTransport *fault, ThecalFaultDirection direction, guint64 index, GBytes *frame, gpointer user_data)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (frame, &size);

  (void) fault;
  (void) index;
  (void) user_data;
  if (world.drop_commit_answer && direction == THECAL_FAULT_FROM_PUMP && size > 3 && data[3] == THECAL_MSG_COMMIT)
    return THECAL_FAULT_ACTION_DROP;
  if (world.drop_reservoir_answer && direction == THECAL_FAULT_FROM_PUMP && size > 3 && data[3] == THECAL_MSG_SET_RESERVOIR)
    return THECAL_FAULT_ACTION_DROP;
  if (world.drop_status_answer && direction == THECAL_FAULT_FROM_PUMP && size > 3 && data[3] == THECAL_MSG_READ_STATUS)
    return THECAL_FAULT_ACTION_DROP;
  return THECAL_FAULT_ACTION_DELIVER;
}

static void
register_pump (ThecalRecordSession *session, const char *serial, const char *mrn)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalPump) pump = NULL;
  g_autoptr (ThecalRecordedPrescription) rx = NULL;
  guint8 key[THECAL_KEY_SIZE];
  ThecalPumpInput input = { serial, "TR-20", mrn, "2025-06-01", 455, key };

  thecal_sim_pump_demo_key (serial, key);
  pump = thecal_record_session_add_pump_sync (session, &input, NULL, &error);
  ck_assert_msg (pump != NULL, "%s", error != NULL ? error->message : "?");
  rx = SYNC (thecal_record_add_prescription, world.record, &error, thecal_record_session_get_user (session), serial,
             thecal_sim_pump_active (world.pump), pump_time (NULL) - 86400000, THECAL_RX_SOURCE_ENTERED, 0, NULL);
  ck_assert_msg (rx != NULL, "%s", error != NULL ? error->message : "?");
}

static void
world_setup (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecordSession) admin = NULL;
  g_autoptr (ThecalUser) physician = NULL;
  g_autoptr (ThecalUser) nurse = NULL;
  g_autoptr (ThecalPatient) patient = NULL;
  g_autoptr (ThecalPatient) other = NULL;
  g_autofree char *text = NULL;
  gsize length;
  ThecalDoseError dose_error;
  ThecalPatientInput p1 = { "MRN-1", "DOE, Jane", "1960-01-01", THECAL_OPIOID_TOLERANT, NULL };
  ThecalPatientInput p2 = { "MRN-2", "ROE, Richard", "1950-01-01", THECAL_OPIOID_TOLERANT, NULL };

  record_test_setup ();
  ck_assert (load_data ("pump-models.json", &text, &length));
  ck_assert (thecal_pump_models_load_json (text, length, &world.models, &dose_error));
  g_clear_pointer (&text, g_free);
  ck_assert (load_data ("drug-library.json", &text, &length));
  ck_assert (thecal_drug_library_load_json (text, length, &world.library, &dose_error));

  world.clock = thecal_clock_new_virtual (0);
  world.pump = g_new0 (ThecalSimPump, 1);
  ck_assert (thecal_sim_pump_demo_init (world.pump, thecal_sim_pump_demo_find (demo_serial),
                                        thecal_pump_model_set_find (&world.models, "TR-20"), &dose_error));
  world.loopback = thecal_loopback_transport_new (world.pump, NULL, world.clock);
  world.fault = thecal_fault_transport_new (THECAL_TRANSPORT (world.loopback), &(ThecalFaultConfig){ .seed = 1 }, world.clock);
  thecal_fault_transport_set_policy (world.fault, policy, NULL, NULL);
  world.link = thecal_pump_link_new (THECAL_TRANSPORT (world.fault), world.clock);

  world.path = test_path ("record.sqlite");
  world.record = open_record (world.path, THECAL_RECORD_OPEN_CREATE);
  admin = thecal_record_session_first_run_sync (world.record, "admin", "Ada Admin", TEST_PASSWORD, NULL, &error);
  ck_assert_ptr_nonnull (admin);
  physician = thecal_record_session_add_user_sync (admin, "paula", "Dr Paula Physician", THECAL_ROLE_PHYSICIAN, TEST_PASSWORD, NULL, &error);
  ck_assert_ptr_nonnull (physician);
  nurse = thecal_record_session_add_user_sync (admin, "nina", "Nina Nurse", THECAL_ROLE_NURSE, TEST_PASSWORD, NULL, &error);
  ck_assert_ptr_nonnull (nurse);
  world.physician = thecal_record_session_login_sync (world.record, "paula", TEST_PASSWORD, NULL, &error);
  world.nurse = thecal_record_session_login_sync (world.record, "nina", TEST_PASSWORD, NULL, &error);
  ck_assert_ptr_nonnull (world.physician);
  ck_assert_ptr_nonnull (world.nurse);
  patient = thecal_record_session_add_patient_sync (world.physician, &p1, NULL, &error);
  ck_assert_msg (patient != NULL, "%s", error != NULL ? error->message : "?");
  other = thecal_record_session_add_patient_sync (world.physician, &p2, NULL, &error);
  ck_assert_ptr_nonnull (other);
}

static void
world_teardown (void)
{
  g_clear_object (&world.link);
  g_clear_object (&world.fault);
  g_clear_object (&world.loopback);
  g_clear_pointer (&world.pump, g_free);
  g_clear_object (&world.clock);
  g_clear_object (&world.physician);
  g_clear_object (&world.nurse);
  g_clear_object (&world.record);
  g_clear_pointer (&world.path, g_free);
  record_test_teardown ();
}

static ThecalVisit *
new_visit (ThecalRecordSession *session)
{
  ThecalVisit *visit = thecal_visit_new (session, world.link, &world.models, &world.library);

  thecal_visit_set_time_func (visit, pump_time, NULL);
  return visit;
}

/* Runs on the test's context. */
static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  (void) source;
  *out = g_object_ref (result);
}

/* Iterates the virtual clock (the link) and, when nothing is scheduled, waits for the record's
 * thread. */
static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    if (!thecal_clock_iterate (world.clock, NULL))
      g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static gboolean
visit_connect (ThecalVisit *visit, const char *mrn, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  thecal_visit_connect_async (visit, mrn, NULL, on_done, &result);
  return thecal_visit_connect_finish (visit, wait_result (&result), error);
}

static gboolean
visit_sync_clock (ThecalVisit *visit, gint64 *drift_ms, gboolean *synced, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  thecal_visit_sync_clock_async (visit, NULL, on_done, &result);
  return thecal_visit_sync_clock_finish (visit, wait_result (&result), drift_ms, synced, error);
}

static gboolean
visit_ack_alarm (ThecalVisit *visit, ThecalProtoAlarm alarm, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  thecal_visit_ack_alarm_async (visit, alarm, NULL, on_done, &result);
  return thecal_visit_ack_alarm_finish (visit, wait_result (&result), error);
}

static ThecalVisit *
connected_visit (ThecalRecordSession *session, const char *serial)
{
  g_autoptr (GError) error = NULL;
  ThecalVisit *visit;

  register_pump (world.physician, serial, "MRN-1");
  visit = new_visit (session);
  ck_assert_msg (visit_connect (visit, "MRN-1", &error), "%s", error != NULL ? error->message : "?");
  return visit;
}

/* pump clock − its true time */
static gint64
pump_offset (void)
{
  return thecal_sim_pump_pump_ms (world.pump) - thecal_sim_pump_now_ms (world.pump);
}

static void
clock_teardown (void)
{
  clinic_ahead_ms = 0;
  world_teardown ();
}

START_TEST (test_clock_within_bound_unchanged)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.nurse, "TR20-000123");
  guint synced_before = count_audit (world.record, "clock.sync");
  gint64 offset = pump_offset ();
  gint64 drift;
  gboolean synced = TRUE;

  /* 5 min − 1 s behind the clinic: inside THECAL_VISIT_CLOCK_DRIFT_MAX_MS (the exchange itself
   * takes a few virtual ms, so the exact 5 min boundary is not asserted to the millisecond) */
  clinic_ahead_ms = THECAL_VISIT_CLOCK_DRIFT_MAX_MS - 1000;
  ck_assert_msg (visit_sync_clock (visit, &drift, &synced, &error), "%s", error != NULL ? error->message : "?");
  ck_assert (!synced);
  ck_assert_int_le (drift, -(THECAL_VISIT_CLOCK_DRIFT_MAX_MS - 2000));
  ck_assert_int_ge (drift, -THECAL_VISIT_CLOCK_DRIFT_MAX_MS);
  ck_assert_int_eq (pump_offset (), offset);
  ck_assert_uint_eq (count_audit (world.record, "clock.sync"), synced_before);
}
END_TEST

START_TEST (test_clock_beyond_bound_synced_and_audited)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.nurse, "TR20-000123");
  guint synced_before = count_audit (world.record, "clock.sync");
  gint64 offset = pump_offset ();
  gint64 drift;
  gboolean synced = FALSE;

  /* 5 min + 1 s behind the clinic: synchronised, the pump's clock moves forward by that much */
  clinic_ahead_ms = THECAL_VISIT_CLOCK_DRIFT_MAX_MS + 1000;
  ck_assert_msg (visit_sync_clock (visit, &drift, &synced, &error), "%s", error != NULL ? error->message : "?");
  ck_assert (synced);
  ck_assert_int_le (drift, -THECAL_VISIT_CLOCK_DRIFT_MAX_MS);
  ck_assert_int_ge (pump_offset () - offset, THECAL_VISIT_CLOCK_DRIFT_MAX_MS);
  ck_assert_int_le (pump_offset () - offset, THECAL_VISIT_CLOCK_DRIFT_MAX_MS + 2000);
  ck_assert_uint_eq (count_audit (world.record, "clock.sync"), synced_before + 1);
}
END_TEST

START_TEST (test_clock_out_of_range_pauses)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.physician, "TR20-000123");
  gint64 offset = pump_offset ();

  clinic_ahead_ms = 10 * 60 * 1000;
  thecal_loopback_transport_set_pump_in_range (world.loopback, FALSE);
  ck_assert (!visit_sync_clock (visit, NULL, NULL, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED), "%s", error->message);
  ck_assert_int_eq (pump_offset (), offset);
}
END_TEST

START_TEST (test_ack_alarm_recorded)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.nurse, "TR20-000124");
  g_autoptr (ThecalPatientRecord) history = NULL;
  const ThecalAlarmSeen *seen;

  ck_assert_msg (visit_ack_alarm (visit, THECAL_PROTO_ALARM_LOW_RESERVOIR, &error), "%s", error != NULL ? error->message : "?");
  history = SYNC (thecal_record_get_patient_record, world.record, &error, "MRN-1");
  ck_assert_uint_eq (history->alarms->len, 1);
  seen = history->alarms->pdata[0];
  ck_assert_msg (strstr (seen->kind, "low_reservoir") != NULL, "%s", seen->kind);
}
END_TEST

START_TEST (test_ack_alarm_not_raised_refused)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalVisit) visit = connected_visit (world.nurse, "TR20-000124");
  g_autoptr (ThecalPatientRecord) history = NULL;

  /* no motor stall on this pump: the pump refuses, nothing recorded */
  ck_assert (!visit_ack_alarm (visit, THECAL_PROTO_ALARM_MOTOR_STALL, &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED), "%s", error->message);
  g_clear_error (&error);
  history = SYNC (thecal_record_get_patient_record, world.record, &error, "MRN-1");
  ck_assert_uint_eq (history->alarms->len, 0);
}
END_TEST

static void
low_pump_setup (void)
{
  demo_serial = "TR20-000124";
  world_setup ();
}

static void
low_pump_teardown (void)
{
  world_teardown ();
  demo_serial = "TR20-000123";
}

static Suite *
clock_suite (void)
{
  Suite *s = suite_create ("visit-clock");
  TCase *tc = tcase_create ("clock");
  TCase *alarms = tcase_create ("alarms");

  tcase_add_checked_fixture (tc, world_setup, clock_teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_clock_within_bound_unchanged);
  tcase_add_test (tc, test_clock_beyond_bound_synced_and_audited);
  tcase_add_test (tc, test_clock_out_of_range_pauses);
  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (alarms, low_pump_setup, low_pump_teardown);
  tcase_set_timeout (alarms, 60);
  tcase_add_test (alarms, test_ack_alarm_recorded);
  tcase_add_test (alarms, test_ack_alarm_not_raised_refused);
  suite_add_tcase (s, alarms);
  return s;
}

THECAL_TEST_MAIN (clock_suite)
