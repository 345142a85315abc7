/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-visit-clock.c: clock synchronisation and alarm acknowledgement
 * (src/workflow/thecal-workflow-clock.c) against the simulated demo pumps TR20-000123 and
 * TR20-000124 (1.8 mL left: low-reservoir alarm) over the loopback transport, with a real record.
 */
#include "config.h"

#include "visit-world.h"
#include "thecal-workflow-clock.h"

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
  world.clinic_ahead_ms = 0;
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
  world.clinic_ahead_ms = THECAL_VISIT_CLOCK_DRIFT_MAX_MS - 1000;
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
  world.clinic_ahead_ms = THECAL_VISIT_CLOCK_DRIFT_MAX_MS + 1000;
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

  world.clinic_ahead_ms = 10 * 60 * 1000;
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
  world.demo_serial = "TR20-000124";
  world_setup ();
}

static void
low_pump_teardown (void)
{
  world_teardown ();
  world.demo_serial = "TR20-000123";
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
