/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-demo.c: the demo mode's world in the app, in process under Xvfb (docs/gui.md "Demo
 * mode"). The demo world's real time source is injected, so every demo instant below is exact:
 *
 *  - the time control: the demo date and time shown, 1×, 1 day per second, pause, 1 h per
 *    second (exact minutes), the wand status without a link;
 *  - persistence: the reservoir falls at 1 day per second (read again by the page on its own),
 *    and the same pump is found again on a new connection; the low-reservoir alarm arrives;
 *  - the fault buttons: over-infusion (the actual reservoir falls 1.2 × as fast as the pump's
 *    estimate, which the pump reports), motor stall (the critical alarm on the overview), the wand
 *    unplugged (a re-read and a connect fail with the wand's message, the header says absent)
 *    and plugged in again;
 *  - the choice of the pump near the wand: another patient's pump is refused (WRONG PATIENT),
 *    the spare pump is not in the record;
 *  - "Unplug Wand After Commit": refused while the wand is out; armed, a change of prescription
 *    ends UNCERTAIN (the pump took COMMIT, the wand was pulled out before the read-back), the
 *    wand is out, the fault disarmed; reading again while unplugged stays UNCERTAIN; the dialog
 *    closed, the wand plugged in, a new connection settles it (the pump runs the new
 *    prescription, the reconciliation named in the findings).
 *
 * Screenshots (THECAL_SCREENSHOT_DIR): demo-time.png, demo-faults.png, wand-status.png,
 * demo-unplug-after-commit.png, demo-unplug-after-commit-settled.png.
 */
#include "config.h"

#include "app-fixture.h"

#include <adwaita.h>
#include <string.h>

#include "thecal-program-dialog.h"

#define DAY_MS INT64_C (86400000)

static gint64 fake_real_ms = 5000000;

/* The injected real time source of the demo world. */
static gint64
fake_real (gpointer user_data)
{
  (void) user_data;
  return fake_real_ms;
}

/* A demo window signed in as the demo user, its world on the injected time, patient @index
 * selected. */
static ThecalWindow *
demo_signed_in (ThecalRecord **record, guint index)
{
  ThecalWindow *window = demo_window (record);
  g_autoptr (ThecalDemoWorld) world = thecal_demo_world_new_with_time (models, fake_real, NULL);

  /* the demo instant exactly at the first reading of the injected time */
  thecal_window_set_demo_world (window, world);
  ck_assert_ptr_eq (thecal_window_get_demo_world (window), world);
  ck_assert_int_eq (thecal_demo_world_now_ms (world), THECAL_SIM_PUMP_DEMO_INSTANT_MS);
  thecal_sign_in_page_submit (thecal_window_get_sign_in_page (window));
  ck_assert (wait_for (signed_in, window));
  ck_assert (wait_for (list_has_six, window));
  thecal_patients_page_select (thecal_window_get_patients_page (window), index);
  return window;
}

static void
connect_overview (ThecalOverviewPage *overview)
{
  thecal_overview_page_connect (overview);
  ck_assert (wait_for (overview_connected, overview));
}

static gboolean
not_refreshing (gpointer overview)
{
  return !thecal_overview_page_get_refreshing (overview);
}

/* Reads the connected pump again now and waits for the answer. */
static void
refresh (ThecalOverviewPage *overview)
{
  ck_assert (thecal_overview_page_refresh (overview));
  ck_assert (wait_for (not_refreshing, overview));
}

static void
assert_text (ThecalOverviewPage *overview, const char *key, const char *expected)
{
  g_autofree char *text = thecal_overview_page_dup_text (overview, key);

  ck_assert_msg (g_strcmp0 (text, expected) == 0, "%s: “%s”, expected “%s”", key, text, expected);
}

static void
assert_contains (char *text /* owned */, const char *part)
{
  ck_assert_msg (text != NULL && strstr (text, part) != NULL, "“%s” does not contain “%s”", text, part);
  g_free (text);
}

static void
assert_controls (ThecalDemoControls *controls, const char *key, const char *expected)
{
  g_autofree char *text = NULL;

  thecal_demo_controls_update (controls);
  text = thecal_demo_controls_dup_text (controls, key);
  ck_assert_msg (g_strcmp0 (text, expected) == 0, "%s: “%s”, expected “%s”", key, text, expected);
}

/* The time control: exact demo minutes at every speed; pause stops the clock. */
/* The window narrowed to 420 px and its frame (the demo bar wrapped, the header text shrank). */
static gboolean
window_narrow (gpointer window)
{
  return gtk_widget_get_width (GTK_WIDGET (window)) < 480;
}

START_TEST (test_demo_time)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_signed_in (&record, 0);
  ThecalDemoControls *controls = thecal_window_get_demo_controls (window);
  ThecalDemoWorld *world = thecal_window_get_demo_world (window);

  ck_assert_ptr_nonnull (world);
  ck_assert (gtk_widget_get_visible (GTK_WIDGET (controls)));
  assert_controls (controls, "time", "2026-01-05 09:00");
  assert_controls (controls, "speed", "Real time");
  assert_contains (thecal_demo_controls_dup_text (controls, "pump"), "actual reservoir 12 mL, the pump’s estimate 12 mL");
  assert_contains (thecal_wand_status_dup_text (thecal_window_get_wand_status (window)), "Wand present, no pump in range");

  thecal_demo_controls_set_scale (controls, THECAL_DEMO_SCALE_DAY_PER_SECOND);
  ck_assert_uint_eq (thecal_demo_world_get_scale (world), THECAL_DEMO_SCALE_DAY_PER_SECOND);
  assert_controls (controls, "speed", "One day per second");
  fake_real_ms += 1500; /* 1.5 days */
  assert_controls (controls, "time", "2026-01-06 21:00");
  assert_contains (thecal_demo_controls_dup_text (controls, "pump"), "actual reservoir 11.7 mL, the pump’s estimate 11.7 mL");

  thecal_demo_controls_set_scale (controls, THECAL_DEMO_SCALE_PAUSED);
  assert_controls (controls, "speed", "Pause the demo time");
  fake_real_ms += 600000; /* ten real minutes: nothing moves */
  assert_controls (controls, "time", "2026-01-06 21:00");

  thecal_demo_controls_set_scale (controls, THECAL_DEMO_SCALE_HOUR_PER_SECOND);
  fake_real_ms += 2000;
  assert_controls (controls, "time", "2026-01-06 23:00");
  assert_controls (controls, "speed", "One hour per second");
  screenshot (GTK_WIDGET (window), "demo-time.png");

  /* a narrow window: the demo bar wraps and the header text shrinks, so the window can narrow */
  gtk_window_set_default_size (GTK_WINDOW (window), 420, 760);
  /* the X server's configure comes back when it comes: wait for it rather than a fixed time */
  ck_assert_msg (wait_for (window_narrow, window), "the window stayed %d px wide", gtk_widget_get_width (GTK_WIDGET (window)));
  screenshot (GTK_WIDGET (window), "demo-narrow.png");
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

static gboolean
reservoir_is_11_6 (gpointer overview)
{
  g_autofree char *text = thecal_overview_page_dup_text (overview, "reservoir");

  return g_strcmp0 (text, "11.6 mL of 20 mL") == 0;
}

/* At 1 day per second the page reads the pump again by itself and the reservoir falls; a new
 * connection finds the same pump; the low-reservoir alarm arrives. */
START_TEST (test_demo_reservoir_falls)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_signed_in (&record, 0);
  ThecalOverviewPage *overview = thecal_window_get_overview_page (window);
  ThecalDemoControls *controls = thecal_window_get_demo_controls (window);
  gboolean low = FALSE;

  connect_overview (overview);
  ck_assert_ptr_nonnull (thecal_overview_page_get_visit (overview));
  assert_text (overview, "reservoir", "12 mL of 20 mL");
  assert_text (overview, "alarms", "No active alarm\n");
  assert_contains (thecal_wand_status_dup_text (thecal_window_get_wand_status (window)), "Pump TR20-000123 in range, link 100 %");

  /* two demo days at 1 day/s: the page's own re-read (every 2 s of real time) shows 0.4 mL less */
  thecal_demo_controls_set_scale (controls, THECAL_DEMO_SCALE_DAY_PER_SECOND);
  fake_real_ms += 2000;
  thecal_demo_controls_set_scale (controls, THECAL_DEMO_SCALE_PAUSED);
  ck_assert (wait_for (reservoir_is_11_6, overview));
  assert_contains (thecal_overview_page_dup_text (overview, "status"), "read again at 2026-01-07 09:00");

  /* a new connection (while the page was reading the pump again): the same pump, where it was */
  ck_assert (thecal_overview_page_refresh (overview));
  connect_overview (overview);
  ck_assert (!thecal_overview_page_get_refreshing (overview));
  assert_text (overview, "reservoir", "11.6 mL of 20 mL");

  /* 0.2 mL a day: the low-reservoir alarm arrives within the 12 mL's 60 days */
  thecal_demo_controls_set_scale (controls, THECAL_DEMO_SCALE_DAY_PER_SECOND);
  for (int i = 0; i < 12 && !low; i++)
    {
      g_autofree char *alarms = NULL;

      fake_real_ms += 5000; /* five days */
      refresh (overview);
      alarms = thecal_overview_page_dup_text (overview, "alarms");
      low = strstr (alarms, "Low reservoir") != NULL;
    }
  ck_assert (low);
  /* the patient list follows the demo clock too: the row says what the overview says */
  {
    g_autofree char *reservoir = thecal_overview_page_dup_text (overview, "reservoir");
    g_autofree char *row = thecal_patients_page_dup_row_status (thecal_window_get_patients_page (window), "DEMO-0001");
    g_autofree char *volume = g_strndup (reservoir, strstr (reservoir, " of ") - reservoir);
    g_autofree char *expected = g_strdup_printf ("Now %s left", volume);

    ck_assert_msg (row != NULL && g_str_has_prefix (row, expected) && strstr (row, "; Low reservoir") != NULL, "row: %s (overview: %s)",
                   row, reservoir);
  }
  screenshot (GTK_WIDGET (window), "demo-low-reservoir.png");
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

static gboolean
motor_stall_shown (gpointer overview)
{
  g_autofree char *alarms = thecal_overview_page_dup_text (overview, "alarms");

  return strstr (alarms, "Motor stall") != NULL;
}

/* Over-infusion: the actual reservoir falls faster than the estimate the pump reports; motor
 * stall: the critical alarm arrives on the overview by itself. */
START_TEST (test_demo_faults)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_signed_in (&record, 0);
  ThecalOverviewPage *overview = thecal_window_get_overview_page (window);
  ThecalDemoControls *controls = thecal_window_get_demo_controls (window);
  ThecalDemoWorld *world = thecal_window_get_demo_world (window);
  ThecalEngineStatus before, after;

  connect_overview (overview);
  assert_text (overview, "reservoir", "12 mL of 20 mL");
  ck_assert (thecal_demo_world_get_pump_status (world, "TR20-000123", &before, NULL));
  ck_assert (thecal_demo_controls_over_infusion (controls));
  assert_contains (thecal_demo_controls_dup_text (controls, "message"), "20 % more than programmed");
  thecal_demo_controls_set_scale (controls, THECAL_DEMO_SCALE_DAY_PER_SECOND);
  fake_real_ms += 10000; /* ten days */
  thecal_demo_controls_set_scale (controls, THECAL_DEMO_SCALE_PAUSED);
  ck_assert (thecal_demo_world_get_pump_status (world, "TR20-000123", &after, NULL));
  ck_assert_int_eq (before.reservoir_estimate_nl - after.reservoir_estimate_nl, 2000000);
  ck_assert_int_eq ((before.reservoir_actual_nl - after.reservoir_actual_nl) * 10, 2000000 * 12);
  assert_contains (thecal_demo_controls_dup_text (controls, "pump"), "the pump’s estimate 10 mL · flow error +20 %");
  /* the pump reports its estimate: over-infusion is not in what telemetry shows */
  refresh (overview);
  assert_text (overview, "reservoir", "10 mL of 20 mL");

  ck_assert (thecal_demo_controls_motor_stall (controls));
  ck_assert (wait_for (motor_stall_shown, overview)); /* read again by the page itself */
  assert_contains (thecal_overview_page_dup_text (overview, "alarms"), "Motor stall (not acknowledged): Medication may no longer flow");
  assert_contains (thecal_demo_controls_dup_text (controls, "pump"), "motor stalled");
  screenshot (GTK_WIDGET (window), "demo-faults.png");
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* Over-infusion on the pump low on drug: the overview shows the empty alarm while the pump's
 * estimate (the gauge) still shows drug left: over-infusion made visible by the pump itself. */
START_TEST (test_demo_over_infusion_empty)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_signed_in (&record, 1);
  ThecalOverviewPage *overview = thecal_window_get_overview_page (window);
  ThecalDemoControls *controls = thecal_window_get_demo_controls (window);
  gboolean empty = FALSE;

  connect_overview (overview);
  assert_text (overview, "reservoir", "1.8 mL of 20 mL");
  ck_assert (thecal_demo_controls_over_infusion (controls));
  thecal_demo_controls_set_scale (controls, THECAL_DEMO_SCALE_DAY_PER_SECOND);
  for (int day = 0; day < 12 && !empty; day++)
    {
      g_autofree char *alarms = NULL;

      fake_real_ms += 1000;
      refresh (overview);
      alarms = thecal_overview_page_dup_text (overview, "alarms");
      empty = strstr (alarms, "Reservoir empty") != NULL;
    }
  ck_assert (empty);
  {
    g_autofree char *reservoir = thecal_overview_page_dup_text (overview, "reservoir");

    /* the estimate still shows drug: the pump cannot see over-infusion, but the empty alarm is
     * raised from the actual volume */
    ck_assert_msg (!g_str_has_prefix (reservoir, "0 mL") && !g_str_has_prefix (reservoir, "-"), "reservoir: %s", reservoir);
  }
  screenshot (GTK_WIDGET (window), "demo-over-infusion-empty.png");
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

static gboolean
status_is_error (gpointer overview)
{
  g_autofree char *status = thecal_overview_page_dup_text (overview, "status");

  return strstr (status, "could not be read again") != NULL;
}

static gboolean
status_is_read_again (gpointer overview)
{
  g_autofree char *status = thecal_overview_page_dup_text (overview, "status");

  return strstr (status, "Connected: the pump was read again") != NULL;
}

/* The wand unplugged: the page's re-read and a new connect fail with the wand's message, the
 * header says absent; plugged in, the pump is read again. */
START_TEST (test_demo_unplug)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_signed_in (&record, 1);
  ThecalOverviewPage *overview = thecal_window_get_overview_page (window);
  ThecalDemoControls *controls = thecal_window_get_demo_controls (window);
  ThecalWandStatus *wand = thecal_window_get_wand_status (window);

  connect_overview (overview);
  assert_text (overview, "reservoir", "1.8 mL of 20 mL");
  assert_contains (thecal_wand_status_dup_text (wand), "Pump TR20-000124 in range, link 100 %");

  thecal_demo_controls_toggle_wand (controls);
  ck_assert (!thecal_demo_world_get_wand_plugged (thecal_window_get_demo_world (window)));
  assert_contains (thecal_wand_status_dup_text (wand), "Wand absent");
  assert_controls (controls, "wand", "Plug In Wand");
  ck_assert (wait_for (status_is_error, overview)); /* the page's own re-read after the change */
  assert_contains (thecal_overview_page_dup_text (overview, "status"), "Wand unplugged");
  screenshot (GTK_WIDGET (window), "wand-status.png");

  /* plugged in again: the page reads the pump again by itself */
  thecal_demo_controls_toggle_wand (controls);
  ck_assert (wait_for (status_is_read_again, overview));
  ck_assert_ptr_nonnull (thecal_overview_page_get_visit (overview));
  assert_text (overview, "reservoir", "1.8 mL of 20 mL");

  /* unplugged, a new connection finds no wand */
  thecal_demo_controls_toggle_wand (controls);
  thecal_overview_page_connect (overview);
  ck_assert_ptr_null (thecal_overview_page_get_visit (overview));
  assert_contains (thecal_overview_page_dup_text (overview, "status"), "No wand connected");

  thecal_demo_controls_toggle_wand (controls);
  assert_controls (controls, "wand", "Unplug Wand");
  assert_contains (thecal_wand_status_dup_text (wand), "Wand present, no pump in range");
  connect_overview (overview);
  ck_assert_ptr_nonnull (thecal_overview_page_get_visit (overview));
  assert_text (overview, "reservoir", "1.8 mL of 20 mL");
  assert_contains (thecal_wand_status_dup_text (wand), "Pump TR20-000124 in range, link 100 %");
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* The pump near the wand: the patient's own by default; another patient's is refused by the
 * workflow; the spare is not in the record. */
START_TEST (test_demo_pump_choice)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_signed_in (&record, 0);
  ThecalOverviewPage *overview = thecal_window_get_overview_page (window);
  const char *spare = thecal_demo_world_get_spare_serial (thecal_window_get_demo_world (window));

  ck_assert_str_eq (thecal_overview_page_get_demo_pump (overview), "TR20-000123");
  ck_assert (!thecal_overview_page_set_demo_pump (overview, "TR20-999999"));
  ck_assert (thecal_overview_page_set_demo_pump (overview, "TR20-000124"));
  connect_overview (overview);
  ck_assert_ptr_null (thecal_overview_page_get_visit (overview));
  assert_contains (thecal_overview_page_dup_text (overview, "status"), "WRONG PATIENT: pump TR20-000124 belongs to patient");
  screenshot (GTK_WIDGET (window), "demo-wrong-patient.png");

  ck_assert (thecal_overview_page_set_demo_pump (overview, spare));
  connect_overview (overview);
  ck_assert_ptr_null (thecal_overview_page_get_visit (overview));
  assert_contains (thecal_overview_page_dup_text (overview, "status"), "is not in the record: register it as a new implant first");

  /* another patient: the choice is back to their own pump */
  thecal_patients_page_select (thecal_window_get_patients_page (window), 1);
  ck_assert_str_eq (thecal_overview_page_get_demo_pump (overview), "TR20-000124");
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

static gboolean
program_check_done (gpointer dialog)
{
  return !thecal_program_dialog_get_check_pending (dialog);
}

static gboolean
program_finished (gpointer dialog)
{
  return thecal_program_dialog_get_finished (dialog, NULL) && !thecal_program_dialog_get_busy (dialog);
}

static gboolean
program_idle (gpointer dialog)
{
  return !thecal_program_dialog_get_busy (dialog);
}

static gboolean
overview_dropped (gpointer overview)
{
  return !thecal_overview_page_get_busy (overview) && thecal_overview_page_get_visit (overview) == NULL;
}

static void
assert_program (ThecalProgramDialog *dialog, const char *key, const char *part)
{
  assert_contains (thecal_program_dialog_dup_text (dialog, key, NULL), part);
}

/* "Unplug Wand After Commit": the pump takes the new prescription and the wand is pulled out
 * before the programmer reads it back: UNCERTAIN, blocking, settled by the next connection. */
START_TEST (test_demo_unplug_after_commit)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_signed_in (&record, 1);
  ThecalOverviewPage *overview = thecal_window_get_overview_page (window);
  ThecalDemoControls *controls = thecal_window_get_demo_controls (window);
  ThecalDemoWorld *world = thecal_window_get_demo_world (window);
  ThecalProgrammingOutcome outcome = THECAL_OUTCOME_PENDING;
  ThecalProgramDialog *dialog;
  ThecalVisit *visit;
  ThecalSimPump *pump;
  gint64 prescriptions_set;

  /* no wand, nothing to lose: arming is refused */
  thecal_demo_controls_toggle_wand (controls);
  ck_assert (!thecal_demo_controls_set_unplug_after_commit (controls, TRUE));
  ck_assert (!thecal_demo_world_get_unplug_after_commit (world));
  assert_controls (controls, "commit", "");
  thecal_demo_controls_toggle_wand (controls);

  connect_overview (overview);
  visit = thecal_overview_page_get_visit (overview);
  ck_assert (thecal_demo_controls_set_unplug_after_commit (controls, TRUE));
  ck_assert (thecal_demo_world_get_unplug_after_commit (world));
  assert_controls (controls, "commit", "armed");
  assert_contains (thecal_demo_controls_dup_text (controls, "message"), "Armed: the wand will be pulled out");
  /* disarmed and armed again, as pressing the toggle twice would */
  ck_assert (thecal_demo_controls_set_unplug_after_commit (controls, FALSE));
  ck_assert (!thecal_demo_world_get_unplug_after_commit (world));
  ck_assert (thecal_demo_world_get_wand_plugged (world));
  ck_assert (thecal_demo_controls_set_unplug_after_commit (controls, TRUE));

  pump = thecal_demo_world_get_pump (world, "TR20-000124", NULL);
  ck_assert_ptr_nonnull (pump);
  prescriptions_set = thecal_sim_pump_stats (pump)->prescriptions_set;
  /* 5 → 6 mg/day of morphine 25 mg/mL (above its 20 mg/mL soft limit: an override reason) */
  dialog = THECAL_PROGRAM_DIALOG (thecal_overview_page_open_program (overview));
  ck_assert_ptr_nonnull (dialog);
  ck_assert (thecal_program_dialog_set_text (dialog, "continuous", "6 mg/day"));
  ck_assert (wait_for (program_check_done, dialog));
  thecal_program_dialog_next (dialog);
  ck_assert_str_eq (thecal_program_dialog_get_page (dialog), "review");
  ck_assert (thecal_program_dialog_set_text (dialog, "override", "Concentration as supplied by the pharmacy"));
  ck_assert (thecal_program_dialog_can_go_next (dialog));
  thecal_program_dialog_next (dialog); /* Program */
  ck_assert (wait_for (program_finished, dialog));
  ck_assert (thecal_program_dialog_get_finished (dialog, &outcome));
  {
    g_autofree char *text = thecal_program_dialog_dup_text (dialog, "outcome", NULL);

    ck_assert_msg (outcome == THECAL_OUTCOME_UNCERTAIN, "%d: %s", outcome, text);
  }
  assert_program (dialog, "outcome", "Outcome UNCERTAIN");
  assert_program (dialog, "progress", "✓ Commit: the pump switches to it\n✗ Verify: read the running prescription back");
  ck_assert (thecal_visit_is_blocked (visit, NULL));
  /* the fault fired once: the wand is out, nothing is armed any more, the bar says what happened */
  ck_assert (!thecal_demo_world_get_wand_plugged (world));
  ck_assert (!thecal_demo_world_get_unplug_after_commit (world));
  assert_controls (controls, "commit", "");
  assert_controls (controls, "wand", "Plug In Wand");
  assert_contains (thecal_demo_controls_dup_text (controls, "message"), "pulled out right after the pump took the commit");
  assert_contains (thecal_wand_status_dup_text (thecal_window_get_wand_status (window)), "Wand absent");
  /* the pump runs the new prescription: the simulation knows it, the programmer cannot */
  ck_assert_int_eq (thecal_sim_pump_stats (pump)->prescriptions_set, prescriptions_set + 1);

  /* read again with the wand out: still UNCERTAIN, still blocked */
  ck_assert (thecal_program_dialog_can_read_again (dialog));
  thecal_program_dialog_read_again (dialog);
  ck_assert (wait_for (program_idle, dialog));
  assert_program (dialog, "outcome_error", "Still UNCERTAIN");
  ck_assert (thecal_visit_is_blocked (visit, NULL));

  /* closed (allowed: UNCERTAIN is shown), the overview's read fails with the wand out */
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &dialog);
  gtk_window_close (GTK_WINDOW (dialog));
  ck_assert_ptr_null (dialog);
  ck_assert (wait_for (overview_dropped, overview));
  assert_contains (thecal_overview_page_dup_text (overview, "status"), "Wand unplugged");
  screenshot (GTK_WIDGET (window), "demo-unplug-after-commit.png");

  /* plugged in, connected anew: the connection settles the write from what the pump runs */
  thecal_demo_controls_toggle_wand (controls);
  connect_overview (overview);
  ck_assert (!thecal_visit_is_blocked (thecal_overview_page_get_visit (overview), NULL));
  assert_text (overview, "dose", "6 mg/day");
  assert_contains (thecal_overview_page_dup_text (overview, "findings"), "was left unresolved; reconciled with the pump");
  /* the whole overview, down to the findings */
  screenshot_full (find_descendant (GTK_WIDGET (overview), ADW_TYPE_CLAMP), "demo-unplug-after-commit-settled.png", TRUE);
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* Outside demo mode: no demo bar, no world; the header watches the USB wand (none here) without
 * blocking and says it is absent. */
START_TEST (test_wand_status_usb)
{
  ThecalWindow *window = thecal_window_new (NULL, FALSE, models, library);
  const char *tooltip;

  gtk_window_present (GTK_WINDOW (window));
  settle (50);
  ck_assert_ptr_null (thecal_window_get_demo_world (window));
  ck_assert (!gtk_widget_get_visible (GTK_WIDGET (thecal_window_get_demo_controls (window))));
  assert_contains (thecal_wand_status_dup_text (thecal_window_get_wand_status (window)), "Wand absent");
  tooltip = gtk_widget_get_tooltip_text (GTK_WIDGET (thecal_window_get_wand_status (window)));
  ck_assert_ptr_nonnull (tooltip);
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

static Suite *
demo_suite (void)
{
  Suite *suite = suite_create ("demo");

  THECAL_TEST_TCASE (suite, "demo", setup, teardown, 120, test_demo_time, test_demo_reservoir_falls, test_demo_faults,
                     test_demo_over_infusion_empty, test_demo_unplug, test_demo_pump_choice, test_demo_unplug_after_commit);
  THECAL_TEST_TCASE (suite, "usb", setup, teardown, 60, test_wand_status_usb);
  return suite;
}

int
main (void)
{
  return app_test_main (demo_suite ());
}
