/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-demo-world.c: the demo world of the app's demo mode (src/workflow/thecal-demo.c): the
 * demo clock (exact scaling on an injected real time source, pause, limits), one pump per serial
 * whose state persists across links, faults injected into a pump, the low-reservoir alarm
 * arriving at 1 day per second, the spare pump, and the simulated wand (unplug, plug in, and
 * "Unplug Wand After Commit": a write UNCERTAIN, settled once plugged in).
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "thecal-demo.h"
#include "thecal-dose-json.h"
#include "thecal-test.h"

#define DAY_MS INT64_C (86400000)

static char *tmp_dir;
static char *db_path;
static ThecalPumpModelSet *models;
static ThecalDrugLibrary *library;
static gint64 fake_real_ms; /* the injected real time source */

static gint64
fake_real (gpointer user_data)
{
  (void) user_data;
  return fake_real_ms;
}

static void
load_data (void)
{
  const char *dir = g_getenv ("THECAL_DATA_DIR");
  g_autofree char *models_path = g_build_filename (dir, "pump-models.json", NULL);
  g_autofree char *library_path = g_build_filename (dir, "drug-library.json", NULL);
  g_autofree char *models_text = NULL;
  g_autofree char *library_text = NULL;
  gsize models_len = 0, library_len = 0;
  ThecalDoseError error = { 0 };

  ck_assert (dir != NULL);
  ck_assert (g_file_get_contents (models_path, &models_text, &models_len, NULL));
  ck_assert (g_file_get_contents (library_path, &library_text, &library_len, NULL));
  ck_assert_msg (thecal_pump_models_load_json (models_text, models_len, models, &error), "%s", error.message);
  ck_assert_msg (thecal_drug_library_load_json (library_text, library_len, library, &error), "%s", error.message);
}

static void
setup (void)
{
  g_autoptr (GError) error = NULL;

  tmp_dir = g_dir_make_tmp ("thecal-test-demo-world-XXXXXX", &error);
  ck_assert_msg (tmp_dir != NULL, "%s", error != NULL ? error->message : "");
  db_path = g_build_filename (tmp_dir, "demo.sqlite", NULL);
  models = g_new0 (ThecalPumpModelSet, 1);
  library = g_new0 (ThecalDrugLibrary, 1);
  load_data ();
  fake_real_ms = 1000000;
}

static void
teardown (void)
{
  g_autoptr (GDir) dir = g_dir_open (tmp_dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (tmp_dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (tmp_dir);
  g_clear_pointer (&db_path, g_free);
  g_clear_pointer (&tmp_dir, g_free);
  g_clear_pointer (&models, g_free);
  g_clear_pointer (&library, g_free);
}

static ThecalDemoWorld *
new_world (void)
{
  return thecal_demo_world_new_with_time (models, fake_real, NULL);
}

/* Demo time = anchor + real elapsed × scale, exact; pause stops it; it never goes backwards. */
START_TEST (test_clock)
{
  g_autoptr (ThecalDemoWorld) world = new_world ();
  g_autoptr (GError) error = NULL;
  gint64 t0 = THECAL_SIM_PUMP_DEMO_INSTANT_MS;

  ck_assert_uint_eq (thecal_demo_world_get_scale (world), THECAL_DEMO_SCALE_REAL_TIME);
  ck_assert_int_eq (thecal_demo_world_now_ms (world), t0);
  fake_real_ms += 1234;
  ck_assert_int_eq (thecal_demo_world_now_ms (world), t0 + 1234);

  ck_assert (thecal_demo_world_set_scale (world, THECAL_DEMO_SCALE_HOUR_PER_SECOND, &error));
  fake_real_ms += 1000;
  ck_assert_int_eq (thecal_demo_world_now_ms (world), t0 + 1234 + 3600000);

  ck_assert (thecal_demo_world_set_scale (world, THECAL_DEMO_SCALE_DAY_PER_SECOND, &error));
  fake_real_ms += 1; /* one real ms: 86.4 s of demo time, exactly */
  ck_assert_int_eq (thecal_demo_world_now_ms (world), t0 + 1234 + 3600000 + 86400);
  fake_real_ms += 2999;
  ck_assert_int_eq (thecal_demo_world_now_ms (world), t0 + 1234 + 3600000 + 3 * DAY_MS);

  /* pause: real time passes, demo time does not */
  ck_assert (thecal_demo_world_set_scale (world, THECAL_DEMO_SCALE_PAUSED, &error));
  fake_real_ms += 600000;
  ck_assert_int_eq (thecal_demo_world_now_ms (world), t0 + 1234 + 3600000 + 3 * DAY_MS);
  ck_assert (thecal_demo_world_set_scale (world, THECAL_DEMO_SCALE_REAL_TIME, &error));
  fake_real_ms += 1;
  ck_assert_int_eq (thecal_demo_world_now_ms (world), t0 + 1234 + 3600000 + 3 * DAY_MS + 1);

  /* above the fastest speed: refused, nothing changed */
  ck_assert (!thecal_demo_world_set_scale (world, THECAL_DEMO_SCALE_MAX + 1, &error));
  ck_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT));
  ck_assert_msg (strstr (error->message, "86400") != NULL, "%s", error->message);
  ck_assert_uint_eq (thecal_demo_world_get_scale (world), THECAL_DEMO_SCALE_REAL_TIME);

  /* a real source that steps back never takes demo time back */
  fake_real_ms -= 5000;
  ck_assert_int_eq (thecal_demo_world_now_ms (world), t0 + 1234 + 3600000 + 3 * DAY_MS + 1);
}
END_TEST

/* Another real time source later: the demo time carries on from where it was. */
START_TEST (test_clock_new_source)
{
  g_autoptr (ThecalDemoWorld) world = new_world ();
  gint64 t0 = THECAL_SIM_PUMP_DEMO_INSTANT_MS;

  fake_real_ms += 500;
  ck_assert_int_eq (thecal_demo_world_now_ms (world), t0 + 500);
  fake_real_ms = 42; /* a new source reading far less */
  thecal_demo_world_set_real_time_func (world, fake_real, NULL);
  ck_assert_int_eq (thecal_demo_world_now_ms (world), t0 + 500);
  fake_real_ms += 10;
  ck_assert_int_eq (thecal_demo_world_now_ms (world), t0 + 510);
}
END_TEST

/* At the fastest speed for a long time the clock saturates at the pumps' limit, no overflow. */
START_TEST (test_clock_limit)
{
  g_autoptr (ThecalDemoWorld) world = new_world ();

  ck_assert (thecal_demo_world_set_scale (world, THECAL_DEMO_SCALE_DAY_PER_SECOND, NULL));
  fake_real_ms = G_MAXINT64 / 2;
  ck_assert_int_eq (thecal_demo_world_now_ms (world), THECAL_SIM_PUMP_CLOCK_MAX_MS - 1);
}
END_TEST

/* One pump per serial: the same pump, advanced by its engine to the world's time. */
START_TEST (test_pumps_persist)
{
  g_autoptr (ThecalDemoWorld) world = new_world ();
  g_autoptr (GError) error = NULL;
  ThecalSimPump *pump = thecal_demo_world_get_pump (world, "TR20-000123", &error);
  ThecalEngineStatus st;

  ck_assert_msg (pump != NULL, "%s", error != NULL ? error->message : "");
  ck_assert (thecal_demo_world_get_pump_status (world, "TR20-000123", &st, &error));
  ck_assert_int_eq (st.reservoir_estimate_nl, 12000000); /* 12 mL at the demo instant */
  ck_assert_int_eq (st.true_ms, THECAL_SIM_PUMP_DEMO_INSTANT_MS);
  ck_assert (thecal_demo_world_set_scale (world, THECAL_DEMO_SCALE_DAY_PER_SECOND, NULL));
  fake_real_ms += 1000; /* one day */
  ck_assert_ptr_eq (thecal_demo_world_get_pump (world, "TR20-000123", &error), pump);
  ck_assert (thecal_demo_world_get_pump_status (world, "TR20-000123", &st, &error));
  ck_assert_int_eq (st.true_ms, THECAL_SIM_PUMP_DEMO_INSTANT_MS + DAY_MS);
  ck_assert_int_eq (st.reservoir_estimate_nl, 11800000); /* 0.2 mL a day */

  ck_assert_ptr_null (thecal_demo_world_get_pump (world, "TR20-999999", &error));
  ck_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
}
END_TEST

/* The fault buttons' faults, from now on, in what the pump then reports. */
START_TEST (test_faults)
{
  g_autoptr (ThecalDemoWorld) world = new_world ();
  g_autoptr (GError) error = NULL;
  ThecalEngineStatus before, after;
  gint64 estimate_drop, actual_drop;

  ck_assert (thecal_demo_world_set_scale (world, THECAL_DEMO_SCALE_DAY_PER_SECOND, NULL));
  /* over-infusion +20 %: the actual reservoir falls 1.2 × as fast; the estimate does not see it */
  ck_assert_msg (thecal_demo_world_inject_fault (world, "TR20-000123", THECAL_FAULT_FLOW_BIAS, 2000, &error), "%s", error->message);
  ck_assert (thecal_demo_world_get_pump_status (world, "TR20-000123", &before, &error));
  ck_assert_int_eq (before.bias_bp, 2000);
  fake_real_ms += 10000; /* ten days */
  ck_assert (thecal_demo_world_get_pump_status (world, "TR20-000123", &after, &error));
  estimate_drop = before.reservoir_estimate_nl - after.reservoir_estimate_nl;
  actual_drop = before.reservoir_actual_nl - after.reservoir_actual_nl;
  ck_assert_int_eq (estimate_drop, 2000000); /* 10 × 0.2 mL */
  ck_assert_msg (actual_drop * 100 >= estimate_drop * 119 && actual_drop * 100 <= estimate_drop * 121, "actual %" G_GINT64_FORMAT,
                 actual_drop);

  /* motor stall: the motor stops and the critical alarm is raised */
  ck_assert (thecal_demo_world_inject_fault (world, "TR40-000128", THECAL_FAULT_MOTOR_STALL, 0, &error));
  fake_real_ms += 100;
  ck_assert (thecal_demo_world_get_pump_status (world, "TR40-000128", &before, &error));
  ck_assert (before.stalled);
  ck_assert (before.alarms[THECAL_ALARM_MOTOR_STALL].raised);
  fake_real_ms += 1000;
  ck_assert (thecal_demo_world_get_pump_status (world, "TR40-000128", &after, &error));
  ck_assert_int_eq (after.strokes_total, before.strokes_total);
}
END_TEST

/* At 1 day per second the low-reservoir alarm of the 12 mL pump arrives (0.2 mL a day), and
 * each step costs the same whatever the speed (the engine is event-driven). */
START_TEST (test_low_reservoir_arrives)
{
  g_autoptr (ThecalDemoWorld) world = new_world ();
  ThecalEngineStatus st;
  int seconds = 0;

  ck_assert (thecal_demo_world_get_pump_status (world, "TR20-000123", &st, NULL));
  ck_assert (!st.alarms[THECAL_ALARM_LOW_RESERVOIR].raised);
  ck_assert (thecal_demo_world_set_scale (world, THECAL_DEMO_SCALE_DAY_PER_SECOND, NULL));
  while (!st.alarms[THECAL_ALARM_LOW_RESERVOIR].raised && seconds < 60)
    {
      fake_real_ms += 1000;
      seconds++;
      ck_assert (thecal_demo_world_get_pump_status (world, "TR20-000123", &st, NULL));
    }
  ck_assert_msg (st.alarms[THECAL_ALARM_LOW_RESERVOIR].raised, "no low-reservoir alarm after %d demo days", seconds);
  ck_assert_int_gt (seconds, 1);
  ck_assert_int_le (st.reservoir_estimate_nl, 12000000 - (gint64) (seconds - 1) * 200000);
}
END_TEST

/* Over-infusion on the pump low on drug: the empty alarm (the actual volume) arrives while the
 * pump's estimate still shows drug left: what a trainer watches at 1 day/s. */
START_TEST (test_over_infusion_empties_early)
{
  g_autoptr (ThecalDemoWorld) world = new_world ();
  g_autoptr (GError) error = NULL;
  ThecalEngineStatus st;
  int days = 0;

  ck_assert_msg (thecal_demo_world_inject_fault (world, "TR20-000124", THECAL_FAULT_FLOW_BIAS, 2000, &error), "%s", error->message);
  ck_assert (thecal_demo_world_set_scale (world, THECAL_DEMO_SCALE_DAY_PER_SECOND, NULL));
  ck_assert (thecal_demo_world_get_pump_status (world, "TR20-000124", &st, NULL));
  while (!st.alarms[THECAL_ALARM_RESERVOIR_EMPTY].raised && days < 30)
    {
      fake_real_ms += 1000;
      days++;
      ck_assert (thecal_demo_world_get_pump_status (world, "TR20-000124", &st, NULL));
    }
  ck_assert_msg (st.alarms[THECAL_ALARM_RESERVOIR_EMPTY].raised, "no empty alarm in %d days", days);
  ck_assert_int_gt (st.reservoir_estimate_nl, 0);
  ck_assert_int_lt (days, 9); /* 1.8 mL at 0.2 mL a day would last 9 days */
}
END_TEST

typedef struct
{
  GAsyncResult *result;
} Wait;

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Wait *wait = user_data;

  (void) source;
  wait->result = g_object_ref (result);
}

/* Connects @link's visit to @mrn (the link runs on a real clock: iterate the main context). */
static gboolean
connect_visit (ThecalDemoLink *link, const char *mrn, GError **error)
{
  Wait wait = { NULL };
  gboolean ok;

  thecal_visit_connect_async (thecal_demo_link_get_visit (link), mrn, NULL, on_done, &wait);
  while (wait.result == NULL)
    g_main_context_iteration (NULL, TRUE);
  ok = thecal_visit_connect_finish (thecal_demo_link_get_visit (link), wait.result, error);
  g_object_unref (wait.result);
  return ok;
}

static void
count_change (int *changes)
{
  (*changes)++;
}

/* Links to the world's pumps: the reservoir falls across reconnects; another patient's pump is
 * refused by the workflow; the spare is unknown to the record (register it). */
START_TEST (test_links)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecord) record = thecal_demo_record_create_sync (db_path, THECAL_RECORD_OPEN_FAST_HASH, NULL, NULL, &error);
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (ThecalDemoWorld) world = new_world ();
  g_autoptr (ThecalDemoLink) link = NULL;
  ThecalDemoWand wand;
  const char *spare = thecal_demo_world_get_spare_serial (world);
  int changes = 0;

  ck_assert_msg (record != NULL, "%s", error != NULL ? error->message : "");
  session = thecal_record_session_login_sync (record, THECAL_DEMO_USER_NAME, THECAL_DEMO_USER_PASSWORD, NULL, &error);
  ck_assert_msg (session != NULL, "%s", error != NULL ? error->message : "");
  g_signal_connect_swapped (world, "changed", G_CALLBACK (count_change), &changes);

  thecal_demo_world_get_wand (world, &wand);
  ck_assert (wand.plugged);
  ck_assert_str_eq (wand.pump_serial, "");

  link = thecal_demo_world_open_link (world, session, models, library, "TR20-000123", &error);
  ck_assert_msg (link != NULL, "%s", error != NULL ? error->message : "");
  ck_assert_str_eq (thecal_demo_link_get_serial (link), "TR20-000123");
  ck_assert_int_eq (thecal_visit_now_utc_ms (thecal_demo_link_get_visit (link)), THECAL_SIM_PUMP_DEMO_INSTANT_MS);
  thecal_demo_world_get_wand (world, &wand);
  ck_assert_str_eq (wand.pump_serial, "TR20-000123");
  ck_assert_int_eq (wand.quality_percent, 100);
  ck_assert_msg (connect_visit (link, "DEMO-0001", &error), "%s", error != NULL ? error->message : "");
  ck_assert_int_eq (thecal_visit_get_status (thecal_demo_link_get_visit (link))->reservoir_estimate_nl, 12000000);
  /* the pump out of the wand's range: the wand says so */
  changes = 0;
  thecal_loopback_transport_set_pump_in_range (thecal_demo_link_get_loopback (link), FALSE);
  ck_assert_int_eq (changes, 1);
  thecal_demo_world_get_wand (world, &wand);
  ck_assert_str_eq (wand.pump_serial, "");
  ck_assert_int_eq (wand.quality_percent, 0);
  thecal_loopback_transport_set_pump_in_range (thecal_demo_link_get_loopback (link), TRUE);
  g_clear_object (&link);
  thecal_demo_world_get_wand (world, &wand);
  ck_assert_str_eq (wand.pump_serial, "");

  /* two demo days later, a new link: the same pump, 0.4 mL less */
  ck_assert (thecal_demo_world_set_scale (world, THECAL_DEMO_SCALE_DAY_PER_SECOND, NULL));
  fake_real_ms += 2000;
  ck_assert (thecal_demo_world_set_scale (world, THECAL_DEMO_SCALE_PAUSED, NULL));
  link = thecal_demo_world_open_link (world, session, models, library, "TR20-000123", &error);
  ck_assert_msg (link != NULL, "%s", error != NULL ? error->message : "");
  ck_assert_msg (connect_visit (link, "DEMO-0001", &error), "%s", error != NULL ? error->message : "");
  ck_assert_int_eq (thecal_visit_get_status (thecal_demo_link_get_visit (link))->reservoir_estimate_nl, 11600000);
  ck_assert_int_eq (thecal_visit_get_status (thecal_demo_link_get_visit (link))->pump_ms, THECAL_SIM_PUMP_DEMO_INSTANT_MS + 2 * DAY_MS);
  g_clear_object (&link);

  /* ROE's pump in range while JANE DOE is connected: the workflow refuses it */
  link = thecal_demo_world_open_link (world, session, models, library, "TR20-000124", &error);
  ck_assert_msg (link != NULL, "%s", error != NULL ? error->message : "");
  ck_assert (!connect_visit (link, "DEMO-0001", &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_WRONG_PATIENT), "%s", error->message);
  g_clear_error (&error);
  g_clear_object (&link);

  /* the spare: a pump of this world, not a demo pump, not in the record */
  ck_assert (thecal_demo_world_has_pump (world, spare));
  ck_assert_ptr_null (thecal_sim_pump_demo_find (spare));
  ck_assert (g_str_has_prefix (spare, "TR20-"));
  link = thecal_demo_world_open_link (world, session, models, library, spare, &error);
  ck_assert_msg (link != NULL, "%s", error != NULL ? error->message : "");
  ck_assert_ptr_null (thecal_demo_link_get_demo (link));
  ck_assert (!connect_visit (link, "DEMO-0001", &error));
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_UNKNOWN_PUMP), "%s", error->message);
  ck_assert_str_eq (thecal_visit_get_identity (thecal_demo_link_get_visit (link))->serial, spare);
}
END_TEST

/* The world's pumps keep a session for the most AUTH carries (≈ 49.7 days of pump time): at
 * 1 day/s 40 idle real seconds keep it; after 60 it ended at the pump, the next read fails once
 * and the one after opens a new session. */
START_TEST (test_session_timeout)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecord) record = thecal_demo_record_create_sync (db_path, THECAL_RECORD_OPEN_FAST_HASH, NULL, NULL, &error);
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (ThecalDemoWorld) world = new_world ();
  g_autoptr (ThecalDemoLink) link = NULL;

  ck_assert_msg (record != NULL, "%s", error != NULL ? error->message : "");
  session = thecal_record_session_login_sync (record, THECAL_DEMO_USER_NAME, THECAL_DEMO_USER_PASSWORD, NULL, &error);
  ck_assert_msg (session != NULL, "%s", error != NULL ? error->message : "");
  link = thecal_demo_world_open_link (world, session, models, library, "TR20-000123", &error);
  ck_assert_msg (link != NULL, "%s", error != NULL ? error->message : "");
  ck_assert_msg (connect_visit (link, "DEMO-0001", &error), "%s", error != NULL ? error->message : "");
  ck_assert (thecal_demo_world_set_scale (world, THECAL_DEMO_SCALE_DAY_PER_SECOND, NULL));
  fake_real_ms += 40000; /* 40 days */
  ck_assert_msg (connect_visit (link, "DEMO-0001", &error), "%s", error != NULL ? error->message : "");
  ck_assert_int_eq (thecal_visit_get_status (thecal_demo_link_get_visit (link))->reservoir_estimate_nl, 12000000 - 40 * 200000);
  fake_real_ms += 60000; /* 60 days: the session ended at the pump, the programmer still trusts it */
  /* the pump says it has no session: a new handshake and the same read, nothing seen by the caller */
  ck_assert_msg (connect_visit (link, "DEMO-0001", &error), "%s", error != NULL ? error->message : "");
  ck_assert (thecal_visit_get_status (thecal_demo_link_get_visit (link))->reservoir_estimate_nl < 12000000 - 40 * 200000);
}
END_TEST

/* The wand unplugged: a link's pending connect fails with the wand's error, no new link opens;
 * plugged in again, the same link works. */
START_TEST (test_unplug)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecord) record = thecal_demo_record_create_sync (db_path, THECAL_RECORD_OPEN_FAST_HASH, NULL, NULL, &error);
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (ThecalDemoWorld) world = new_world ();
  g_autoptr (ThecalDemoLink) link = NULL;
  g_autoptr (ThecalDemoLink) refused = NULL;
  ThecalDemoWand wand;
  Wait wait = { NULL };
  ThecalVisit *visit;

  ck_assert_msg (record != NULL, "%s", error != NULL ? error->message : "");
  session = thecal_record_session_login_sync (record, THECAL_DEMO_USER_NAME, THECAL_DEMO_USER_PASSWORD, NULL, &error);
  ck_assert_msg (session != NULL, "%s", error != NULL ? error->message : "");
  link = thecal_demo_world_open_link (world, session, models, library, "TR20-000124", &error);
  ck_assert_msg (link != NULL, "%s", error != NULL ? error->message : "");
  visit = thecal_demo_link_get_visit (link);
  thecal_loopback_transport_set_latency_ms (thecal_demo_link_get_loopback (link), 20);

  thecal_visit_connect_async (visit, "DEMO-0002", NULL, on_done, &wait);
  g_main_context_iteration (NULL, FALSE);
  thecal_demo_world_set_wand_plugged (world, FALSE);
  thecal_demo_world_get_wand (world, &wand);
  ck_assert (!wand.plugged);
  ck_assert_str_eq (wand.pump_serial, "");
  while (wait.result == NULL)
    g_main_context_iteration (NULL, TRUE);
  ck_assert (!thecal_visit_connect_finish (visit, wait.result, &error));
  g_clear_object (&wait.result);
  /* the workflow pauses with the wand's own message: nothing was half-done */
  ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED), "%s", error->message);
  ck_assert_msg (strstr (error->message, "Wand unplugged") != NULL, "%s", error->message);
  g_clear_error (&error);

  refused = thecal_demo_world_open_link (world, session, models, library, "TR20-000124", &error);
  ck_assert_ptr_null (refused);
  ck_assert (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_NOT_FOUND));
  g_clear_error (&error);

  thecal_demo_world_set_wand_plugged (world, TRUE);
  ck_assert (!thecal_loopback_transport_get_unplugged (thecal_demo_link_get_loopback (link)));
  thecal_demo_world_get_wand (world, &wand);
  ck_assert_str_eq (wand.pump_serial, "TR20-000124");
  ck_assert_msg (connect_visit (link, "DEMO-0002", &error), "%s", error != NULL ? error->message : "");
  ck_assert_int_eq (thecal_visit_get_status (visit)->reservoir_estimate_nl, 1800000);
}
END_TEST

/* "Unplug Wand After Commit", with frames sent at once (latency 0: each in an idle) and after
 * 20 ms: the pump takes COMMIT, the wand is pulled out before the read-back, the write is
 * UNCERTAIN and blocks; the fault fired once; plugged in, reading the pump settles it CONFIRMED. */
START_TEST (test_unplug_after_commit)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecord) record = thecal_demo_record_create_sync (db_path, THECAL_RECORD_OPEN_FAST_HASH, NULL, NULL, &error);
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (ThecalDemoWorld) world = new_world ();
  g_autoptr (ThecalDemoLink) link = NULL;
  const guint latencies[] = { 0, 20 };
  ThecalVisit *visit;
  int changes = 0;

  ck_assert_msg (record != NULL, "%s", error != NULL ? error->message : "");
  session = thecal_record_session_login_sync (record, THECAL_DEMO_USER_NAME, THECAL_DEMO_USER_PASSWORD, NULL, &error);
  ck_assert_msg (session != NULL, "%s", error != NULL ? error->message : "");
  link = thecal_demo_world_open_link (world, session, models, library, "TR20-000124", &error);
  ck_assert_msg (link != NULL, "%s", error != NULL ? error->message : "");
  visit = thecal_demo_link_get_visit (link);
  ck_assert_msg (connect_visit (link, "DEMO-0002", &error), "%s", error != NULL ? error->message : "");
  g_signal_connect_swapped (world, "changed", G_CALLBACK (count_change), &changes);
  ck_assert (!thecal_demo_world_get_unplug_after_commit (world));

  for (gsize round = 0; round < G_N_ELEMENTS (latencies); round++)
    {
      g_autoptr (ThecalProgramReview) review = NULL;
      ThecalPrescription rx = thecal_visit_get_active (visit)->rx;
      ThecalProgrammingOutcome outcome = THECAL_OUTCOME_PENDING;
      Wait wait = { NULL };
      gint64 session_id = 0;

      thecal_loopback_transport_set_latency_ms (thecal_demo_link_get_loopback (link), latencies[round]);
      changes = 0;
      thecal_demo_world_set_unplug_after_commit (world, TRUE);
      thecal_demo_world_set_unplug_after_commit (world, TRUE); /* already armed: no change */
      ck_assert (thecal_demo_world_get_unplug_after_commit (world));
      ck_assert_int_eq (changes, 1);

      /* 6 mg/day, then 7 (morphine 25 mg/mL is above its soft limit: an override reason) */
      rx.continuous.basis = THECAL_BASIS_DOSE;
      rx.continuous.dose_ng_per_day = (gint64) (6 + round) * 1000000;
      review = thecal_visit_review_prescription (visit, &rx, &error);
      ck_assert_msg (review != NULL, "%s", error != NULL ? error->message : "");
      thecal_visit_program_async (visit, review, "test", "Concentration as supplied by the pharmacy", NULL, on_done, &wait);
      while (wait.result == NULL)
        g_main_context_iteration (NULL, TRUE);
      ck_assert_msg (thecal_visit_program_finish (visit, wait.result, &outcome, &session_id, &error), "%s",
                     error != NULL ? error->message : "");
      g_clear_object (&wait.result);
      ck_assert_msg (outcome == THECAL_OUTCOME_UNCERTAIN, "latency %u ms: outcome %d", latencies[round], outcome);
      ck_assert (thecal_visit_is_blocked (visit, NULL));
      /* fired once: the wand is out, nothing armed any more */
      ck_assert (!thecal_demo_world_get_wand_plugged (world));
      ck_assert (!thecal_demo_world_get_unplug_after_commit (world));
      ck_assert (thecal_loopback_transport_get_unplugged (thecal_demo_link_get_loopback (link)));
      ck_assert_int_eq (changes, 2);

      /* plugged in: the same link reads the pump, which runs the new prescription */
      thecal_demo_world_set_wand_plugged (world, TRUE);
      thecal_visit_reconcile_async (visit, NULL, on_done, &wait);
      while (wait.result == NULL)
        g_main_context_iteration (NULL, TRUE);
      ck_assert_msg (thecal_visit_reconcile_finish (visit, wait.result, &error), "%s", error != NULL ? error->message : "");
      g_clear_object (&wait.result);
      ck_assert (!thecal_visit_is_blocked (visit, NULL));
      ck_assert_int_eq (thecal_visit_get_active (visit)->rx.continuous.dose_ng_per_day, rx.continuous.dose_ng_per_day);
    }

  /* disarmed, a write is left alone */
  thecal_demo_world_set_unplug_after_commit (world, TRUE);
  thecal_demo_world_set_unplug_after_commit (world, FALSE);
  {
    g_autoptr (ThecalProgramReview) review = NULL;
    ThecalPrescription rx = thecal_visit_get_active (visit)->rx;
    ThecalProgrammingOutcome outcome = THECAL_OUTCOME_PENDING;
    Wait wait = { NULL };

    rx.continuous.dose_ng_per_day = 5000000;
    review = thecal_visit_review_prescription (visit, &rx, &error);
    ck_assert_msg (review != NULL, "%s", error != NULL ? error->message : "");
    thecal_visit_program_async (visit, review, "test", "Concentration as supplied by the pharmacy", NULL, on_done, &wait);
    while (wait.result == NULL)
      g_main_context_iteration (NULL, TRUE);
    ck_assert (thecal_visit_program_finish (visit, wait.result, &outcome, NULL, &error));
    g_clear_object (&wait.result);
    ck_assert_int_eq (outcome, THECAL_OUTCOME_CONFIRMED);
    ck_assert (thecal_demo_world_get_wand_plugged (world));
  }
}
END_TEST

static Suite *
demo_world_suite (void)
{
  Suite *suite = suite_create ("demo-world");

  THECAL_TEST_TCASE (suite, "clock", setup, teardown, 0, test_clock, test_clock_new_source, test_clock_limit);
  THECAL_TEST_TCASE (suite, "pumps", setup, teardown, 0, test_pumps_persist, test_faults, test_low_reservoir_arrives,
                     test_over_infusion_empties_early);
  THECAL_TEST_TCASE (suite, "links", setup, teardown, 120, test_links, test_session_timeout, test_unplug,
                     test_unplug_after_commit);
  return suite;
}

THECAL_TEST_MAIN (demo_world_suite)
