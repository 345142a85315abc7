/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * bench-gui.c: the GTK app's responsiveness (DESIGN.md "Performance targets": GUI first frame
 * ≤ 500 ms; the main loop never blocked > 16 ms by telemetry or the database). Run by
 * build-aux/run-bench under tests/app/with-xvfb.sh (an Xvfb of its own, software rendering);
 * figures go to docs/benchmarks.md.
 *
 *   first frame    from gtk_init () to the first frame the window paints: GTK and libadwaita,
 *                  the app's resources and style, the drug library and pump models, the clinic
 *                  record of THECAL_BENCH_PATIENTS patients (default 100 000) opened (its
 *                  quick_check included), the window built (the process's exec and dynamic
 *                  linking, a few ms, are not included);
 *   patient list   sign-in submitted → the first rows of the 100 000-patient list painted;
 *                  a search typed → its rows painted; scrolled to the end of what is loaded →
 *                  the next page painted;
 *   stall          the longest gap between two ticks of a 1 ms timer on the main loop while
 *                  the window does each of the above, and while the overview interrogates a
 *                  simulated pump whose event log holds THECAL_BENCH_EVENTS events (default
 *                  1 000) through the telemetry stack and the record;
 *   memory         the resident set (VmRSS) after the 100 000-patient list was shown, and after
 *                  the patient of the interrogation was opened with its history imported.
 *
 * "Not GTK's drawing or sizing": the gap less the time GTK spent in it drawing frames (from the
 * start of a frame clock's before-paint to the end of its after-paint: update, layout, paint) and
 * sizing toplevels outside frames (GdkToplevel::compute-size, which GDK's X11 backend emits from
 * an idle of its own whenever a widget's size changes: GtkWindow measures its whole content
 * there). What is left is the app's own work and what GTK does synchronously inside it.
 * "Longest callback of ours": the longest of the app's own main-thread callbacks that take the
 * record's, the visit's and the history's answers (thecal-callback-timing.h), GTK's work done
 * inside them included (a list view making the rows of the items it was given).
 * Times are integer microseconds from g_get_monotonic_time (). Exits 77 without a display.
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "thecal-application.h"
#include "thecal-callback-timing.h"
#include "thecal-demo.h"
#include "thecal-history-page.h"
#include "thecal-record-fill.h"
#include "thecal-sync-call.h"
#include "thecal-window.h"

#define SYNC(op, object, error, ...)                                                 \
  ({                                                                                 \
    g_autoptr (ThecalSyncCall) sync_call_ = thecal_sync_call_new ();                 \
    op##_async (object, ##__VA_ARGS__, NULL, thecal_sync_call_callback, sync_call_); \
    op##_finish (object, thecal_sync_call_wait (sync_call_), error);                 \
  })

#define FILL_BATCH 1000
#define WAIT_US (120 * G_TIME_SPAN_SECOND)
#define BENCH_PASSWORD "bench password 1"

/* ---- the main loop's longest stall --------------------------------------------------------- */

typedef struct
{
  gint64 last_us;
  gint64 longest_us;        /* the longest gap between two ticks, less the period */
  gint64 longest_work_us;   /* the same, less the time GTK spent drawing and sizing in the gap */
  gint64 frame_started_us;  /* a frame being drawn: when it began; else 0 */
  gint64 sizing_started_us; /* a toplevel being sized outside a frame: when it began; else 0 */
  gint64 gtk_in_gap_us;     /* time GTK spent drawing and sizing since the last tick */
} Stall;

static Stall stall;
static GPtrArray *watched; /* the frame clocks and surfaces whose work is GTK's (watch_gtk_work) */

/* Runs on the main thread every millisecond: the gap since the last tick, less the period, with
 * and without the frames GTK drew in it (layout and rendering are GTK's; what is left is the
 * app's own work: the record's and the telemetry's answers, the models, the widgets' updates). */
static gboolean
on_tick (gpointer user_data)
{
  gint64 now = g_get_monotonic_time ();

  (void) user_data;
  if (stall.last_us != 0)
    {
      gint64 gap = now - stall.last_us - 1000;

      stall.longest_us = MAX (stall.longest_us, gap);
      stall.longest_work_us = MAX (stall.longest_work_us, gap - stall.gtk_in_gap_us);
    }
  stall.last_us = now;
  stall.gtk_in_gap_us = 0;
  return G_SOURCE_CONTINUE;
}

/* Runs on the main thread when any frame clock emits before-paint, before its handlers (an
 * emission hook): a frame starts. */
static gboolean
on_frame_start (GSignalInvocationHint *hint, guint n_values, const GValue *values, gpointer user_data)
{
  (void) hint;
  (void) n_values;
  (void) user_data;
  if (stall.frame_started_us == 0 && g_ptr_array_find (watched, g_value_get_object (&values[0]), NULL))
    stall.frame_started_us = g_get_monotonic_time ();
  return TRUE;
}

/* Runs on the main thread when a toplevel's size is computed, before the handlers (an emission
 * hook): outside a frame, GTK starts sizing it (inside, the frame's time counts it already). */
static gboolean
on_sizing_start (GSignalInvocationHint *hint, guint n_values, const GValue *values, gpointer user_data)
{
  (void) hint;
  (void) n_values;
  (void) user_data;
  if (stall.frame_started_us == 0 && stall.sizing_started_us == 0 && g_ptr_array_find (watched, g_value_get_object (&values[0]), NULL))
    stall.sizing_started_us = g_get_monotonic_time ();
  return TRUE;
}

/* Runs on the main thread after GtkWindow's compute-size handler (connected after it). */
static void
on_sizing_end (GdkToplevel *toplevel, GdkToplevelSize *size, gpointer user_data)
{
  (void) toplevel;
  (void) size;
  (void) user_data;
  if (stall.sizing_started_us != 0)
    stall.gtk_in_gap_us += g_get_monotonic_time () - stall.sizing_started_us;
  stall.sizing_started_us = 0;
}

/* Runs on the main thread when the frame clock's frame is done. */
static void
on_frame_end (GdkFrameClock *clock, gpointer user_data)
{
  (void) clock;
  (void) user_data;
  if (stall.frame_started_us != 0)
    stall.gtk_in_gap_us += g_get_monotonic_time () - stall.frame_started_us;
  stall.frame_started_us = 0;
}

/* Counts @widget's window's frames and sizing as GTK's (after-paint and compute-size are connected
 * after GTK's own handlers: theirs are included). */
static void
watch_gtk_work (GtkWidget *widget)
{
  if (watched == NULL)
    watched = g_ptr_array_new ();
  g_ptr_array_add (watched, gtk_widget_get_frame_clock (widget));
  g_ptr_array_add (watched, gtk_native_get_surface (GTK_NATIVE (widget)));
  g_signal_connect (gtk_widget_get_frame_clock (widget), "after-paint", G_CALLBACK (on_frame_end), NULL);
  g_signal_connect_after (gtk_native_get_surface (GTK_NATIVE (widget)), "compute-size", G_CALLBACK (on_sizing_end), NULL);
}

static void
stall_reset (void)
{
  stall.last_us = 0;
  stall.longest_us = 0;
  stall.longest_work_us = 0;
  stall.gtk_in_gap_us = 0;
  stall.frame_started_us = 0;
  stall.sizing_started_us = 0;
  thecal_callback_timing_reset ();
}

/* ---- waiting on the main loop -------------------------------------------------------------- */

static void
fail (const char *what, const GError *error)
{
  fprintf (stderr, "bench-gui: %s%s%s\n", what, error != NULL ? ": " : "", error != NULL ? error->message : "");
  exit (3);
}

/* Iterates the main loop (blocking in poll as the app does) until @check holds. */
static void
wait_for (gboolean (*check) (gpointer data), gpointer data, const char *what)
{
  gint64 end = g_get_monotonic_time () + WAIT_US;

  while (!check (data))
    {
      if (g_get_monotonic_time () > end)
        fail (what, NULL);
      g_main_context_iteration (NULL, TRUE);
    }
}

typedef struct
{
  guint frames;
  gint64 first_frame_us;
} Frames;

/* Runs on the main thread after each frame the window paints. */
static void
on_after_paint (GdkFrameClock *clock, gpointer user_data)
{
  Frames *frames = user_data;

  (void) clock;
  if (frames->frames++ == 0)
    frames->first_frame_us = g_get_monotonic_time ();
}

static gboolean
painted (gpointer data)
{
  return ((Frames *) data)->frames > 0;
}

/* Waits for the next frame @widget's window paints; the instant it was painted. */
static gint64
wait_for_frame (GtkWidget *widget, const char *what)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);
  Frames frames = { 0 };
  gulong id;

  if (clock == NULL)
    fail (what, NULL);
  id = g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), &frames);
  gtk_widget_queue_draw (widget);
  wait_for (painted, &frames, what);
  g_signal_handler_disconnect (clock, id);
  return frames.first_frame_us;
}

/* ---- the process ---------------------------------------------------------------------------- */

/* The resident set in KiB (VmRSS of /proc/self/status), or -1. */
static gint64
rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL) || (line = strstr (status, "VmRSS:")) == NULL)
    return -1;
  return g_ascii_strtoll (line + strlen ("VmRSS:"), NULL, 10);
}

/* ---- the record ----------------------------------------------------------------------------- */

/* A clinic record of @n_patients generated patients (reused from an earlier run when the file
 * exists: filling takes a while and is not what is measured). */
static ThecalRecord *
clinic_record (const char *path, gint64 n_patients)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecord) record = NULL;
  g_autoptr (ThecalUser) admin = NULL;
  g_autoptr (ThecalUser) physician = NULL;
  gint64 started = g_get_monotonic_time ();

  record = thecal_record_open_sync (path, THECAL_RECORD_OPEN_CREATE | THECAL_RECORD_OPEN_FAST_HASH, NULL, &error);
  if (record == NULL)
    fail ("create the record", error);
  admin = SYNC (thecal_record_create_first_administrator, record, &error, "admin", "Ada Admin", BENCH_PASSWORD);
  if (admin == NULL)
    fail ("the administrator", error);
  physician = SYNC (thecal_record_add_user, record, &error, admin, "phil", "Phil Physician", THECAL_ROLE_PHYSICIAN, BENCH_PASSWORD);
  if (physician == NULL)
    fail ("the physician", error);
  for (gint64 first = 0; first < n_patients; first += FILL_BATCH)
    {
      g_autofree gint64 *done = SYNC (_thecal_record_fill_patients, record, &error, admin, first, FILL_BATCH);

      if (done == NULL)
        fail ("fill", error);
    }
  printf ("Record: %" G_GINT64_FORMAT " patients, filled in %" G_GINT64_FORMAT " ms (not measured)\n", n_patients,
          (g_get_monotonic_time () - started) / 1000);
  return g_steal_pointer (&record);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) folder = g_dir_open (path, 0, NULL);
  const char *name;

  while (folder != NULL && (name = g_dir_read_name (folder)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

/* ---- conditions ----------------------------------------------------------------------------- */

static gboolean
signed_in (gpointer window)
{
  return thecal_window_get_session (window) != NULL;
}

static gboolean
list_shows_first_page (gpointer window)
{
  ThecalPatientList *list = thecal_patients_page_get_list (thecal_window_get_patients_page (window));

  return list != NULL && !thecal_patient_list_get_loading (list) && g_list_model_get_n_items (G_LIST_MODEL (list)) > 0;
}

typedef struct
{
  ThecalWindow *window;
  const char *search;
  guint at_least;
} ListWait;

static gboolean
list_has (gpointer data)
{
  ListWait *w = data;
  ThecalPatientList *list = thecal_patients_page_get_list (thecal_window_get_patients_page (w->window));

  return list != NULL && !thecal_patient_list_get_loading (list) && g_strcmp0 (thecal_patient_list_get_search (list), w->search) == 0
         && g_list_model_get_n_items (G_LIST_MODEL (list)) >= w->at_least;
}

static gboolean
overview_done (gpointer page)
{
  return !thecal_overview_page_get_busy (page) && thecal_overview_page_get_visit (page) != NULL;
}

static gboolean
list_has_demo_patients (gpointer window)
{
  ThecalPatientList *list = thecal_patients_page_get_list (thecal_window_get_patients_page (window));

  return list != NULL && !thecal_patient_list_get_loading (list) && g_list_model_get_n_items (G_LIST_MODEL (list)) >= 6;
}

static gboolean
history_loaded (gpointer history)
{
  return !thecal_history_page_get_loading (history) && thecal_history_page_get_audit_done (history, NULL);
}

static gboolean
record_idle (gpointer data)
{
  (void) data;
  return TRUE;
}

/* ---- main ----------------------------------------------------------------------------------- */

static void
print_ms (gint64 us)
{
  printf (" %" G_GINT64_FORMAT ".%01" G_GINT64_FORMAT " ms |", us / 1000, (us % 1000) / 100);
}

static void
print_row (const char *what, gint64 us, const char *target)
{
  const char *callback = NULL;
  gint64 callback_us = thecal_callback_timing_get_longest (&callback);

  printf ("| %s |", what);
  print_ms (us);
  printf (" %s |", target);
  print_ms (stall.longest_us);
  print_ms (stall.longest_work_us);
  print_ms (callback_us);
  printf (" %s |\n", callback != NULL ? callback : "—");
}

int
main (void)
{
  const char *patients_text = g_getenv ("THECAL_BENCH_PATIENTS");
  gint64 n_patients = patients_text != NULL ? g_ascii_strtoll (patients_text, NULL, 10) : 100000;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree ThecalPumpModelSet *models = NULL;
  g_autofree ThecalDrugLibrary *library = NULL;
  g_autoptr (ThecalRecord) record = NULL;
  g_autoptr (GtkCssProvider) css = NULL;
  ThecalWindow *window;
  gint64 started, first_frame_us, t_us, rss_list_kib;
  guint tick_id;

  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      printf ("bench-gui: no display (build-aux/run-bench runs it under tests/app/with-xvfb.sh): skipped\n");
      return 77;
    }
  if (n_patients < FILL_BATCH)
    n_patients = FILL_BATCH;

  /* The record first: filling it is not what is measured, so the clock restarts after it. */
  dir = g_dir_make_tmp ("thecal-bench-gui-XXXXXX", &error);
  if (dir == NULL)
    fail ("temporary folder", error);
  path = g_build_filename (dir, "record.sqlite", NULL);
  {
    g_autoptr (ThecalRecord) filled = clinic_record (path, n_patients);
  }
  started = g_get_monotonic_time ();

  /* ---- first frame: GTK, the app's resources and data, the window, the record ---- */
  gtk_init ();
  adw_init ();
  thecal_application_register_resources ();
  css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/org/thecal/Programmer/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  models = g_new0 (ThecalPumpModelSet, 1);
  library = g_new0 (ThecalDrugLibrary, 1);
  if (!thecal_application_load_data (models, library, &error))
    fail ("drug library and pump models", error);
  record = thecal_record_open_sync (path, THECAL_RECORD_OPEN_FAST_HASH, NULL, &error);
  if (record == NULL)
    fail ("open the record", error);
  window = thecal_window_new (NULL, FALSE, models, library);
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 760);
  thecal_window_set_record (window, record);
  gtk_window_present (GTK_WINDOW (window));
  first_frame_us = wait_for_frame (GTK_WIDGET (window), "first frame") - started;
  g_signal_add_emission_hook (g_signal_lookup ("before-paint", GDK_TYPE_FRAME_CLOCK), 0, on_frame_start, NULL, NULL);
  g_signal_add_emission_hook (g_signal_lookup ("compute-size", GDK_TYPE_TOPLEVEL), 0, on_sizing_start, NULL, NULL);
  watch_gtk_work (GTK_WIDGET (window));
  tick_id = g_timeout_add_full (G_PRIORITY_HIGH, 1, on_tick, NULL, NULL);

  printf ("\nGTK app, %" G_GINT64_FORMAT " patients in the record, Xvfb (software rendering)\n\n", n_patients);
  printf ("| what | time | target | longest main-loop stall | of it not GTK's drawing or sizing | longest callback of ours | which |\n"
          "|---|---:|---|---:|---:|---:|---|\n");
  print_row ("first frame: GTK, the app's data, the record opened, the window painted", first_frame_us, "≤ 500 ms");

  /* ---- sign in → the first rows of the list painted ---- */
  wait_for (record_idle, NULL, "idle");
  stall_reset ();
  thecal_sign_in_page_set_credentials (thecal_window_get_sign_in_page (window), "phil", BENCH_PASSWORD);
  t_us = g_get_monotonic_time ();
  thecal_sign_in_page_submit (thecal_window_get_sign_in_page (window));
  wait_for (signed_in, window, "sign in");
  wait_for (list_shows_first_page, window, "the first page of patients");
  t_us = wait_for_frame (GTK_WIDGET (window), "the list painted") - t_us;
  print_row ("sign-in submitted → the patient list painted (Argon2id at the MIN limits of the bench)", t_us, "");
  rss_list_kib = rss_kib ();

  /* ---- a search typed → its rows painted ---- */
  {
    /* a family name, a given name (of generated patients) and two record-number prefixes */
    g_autofree char *name_a = _thecal_record_fill_name (17);
    g_autofree char *name_b = _thecal_record_fill_name (n_patients / 2);
    g_autofree char *family = g_strndup (name_a, strcspn (name_a, ","));
    g_autofree char *given = g_strdup (strchr (name_b, ',') != NULL ? strchr (name_b, ',') + 2 : name_b);
    const char *searches[] = { family, given, "B00005", "B0000999" };
    gint64 worst_us = 0, worst_stall_us = 0, worst_work_us = 0;

    for (guint i = 0; i < G_N_ELEMENTS (searches); i++)
      {
        ListWait w = { window, searches[i], 1 };

        stall_reset ();
        t_us = g_get_monotonic_time ();
        thecal_patients_page_set_search (thecal_window_get_patients_page (window), searches[i]);
        wait_for (list_has, &w, "search");
        t_us = wait_for_frame (GTK_WIDGET (window), "search painted") - t_us;
        worst_us = MAX (worst_us, t_us);
        worst_stall_us = MAX (worst_stall_us, stall.longest_us);
        worst_work_us = MAX (worst_work_us, stall.longest_work_us);
      }
    stall.longest_us = worst_stall_us;
    stall.longest_work_us = worst_work_us;
    print_row ("a search typed → its rows painted (worst of 4, the search entry's typing delay included)", worst_us, "");
  }

  /* ---- the end of what is loaded → the next page painted ---- */
  {
    ListWait w = { window, NULL, 0 };
    ThecalPatientList *list;
    guint held;

    thecal_patients_page_set_search (thecal_window_get_patients_page (window), "");
    list = thecal_patients_page_get_list (thecal_window_get_patients_page (window));
    w.search = thecal_patient_list_get_search (list);
    w.at_least = 1;
    wait_for (list_has, &w, "list again");
    held = g_list_model_get_n_items (G_LIST_MODEL (list));
    stall_reset ();
    t_us = g_get_monotonic_time ();
    thecal_patient_list_load_more (list);
    w.at_least = held + 1;
    wait_for (list_has, &w, "the next page");
    t_us = wait_for_frame (GTK_WIDGET (window), "next page painted") - t_us;
    print_row ("the next page of patients loaded and painted", t_us, "");
  }

  gtk_window_destroy (GTK_WINDOW (window));
  g_clear_object (&record);

  /* ---- the demo: an interrogation of a pump whose log holds THECAL_BENCH_EVENTS events ---- */
  {
    const char *events_text = g_getenv ("THECAL_BENCH_EVENTS");
    gint64 n_events = events_text != NULL ? g_ascii_strtoll (events_text, NULL, 10) : 1000;
    g_autofree char *demo_path = g_build_filename (dir, "demo.sqlite", NULL);
    g_autoptr (ThecalRecord) demo_record = thecal_demo_record_create_sync (demo_path, THECAL_RECORD_OPEN_FAST_HASH, NULL, NULL, &error);
    const ThecalDemoPatient *patient = thecal_demo_patient_get (THECAL_DEMO_PATIENT_LOW_RESERVOIR);
    ThecalDemoWorld *world;
    ThecalSimPump *pump;
    ThecalOverviewPage *overview;
    GtkWidget *history;
    gint64 logged_before, logged_after, rss_overview_kib, rss_history_kib;
    guint events_imported;

    if (demo_record == NULL)
      fail ("the demo record", error);
    window = thecal_window_new (NULL, TRUE, models, library);
    gtk_window_set_default_size (GTK_WINDOW (window), 1100, 760);
    thecal_window_set_record (window, demo_record);
    gtk_window_present (GTK_WINDOW (window));
    wait_for_frame (GTK_WIDGET (window), "the demo window");
    watch_gtk_work (GTK_WIDGET (window));
    world = thecal_window_get_demo_world (window);
    if (world == NULL)
      fail ("the demo world", NULL);
    thecal_demo_world_set_scale (world, 0, NULL); /* paused: the pump's log is what the bench made */
    pump = thecal_demo_world_get_pump (world, patient->serial, &error);
    if (pump == NULL)
      fail ("the demo pump", error);
    /* the patient presses the PTM button: each press is logged, granted or refused */
    logged_before = thecal_engine_log_next_seq (thecal_sim_pump_engine (pump));
    for (gint64 i = 0; thecal_engine_log_next_seq (thecal_sim_pump_engine (pump)) - logged_before < n_events && i < 4 * n_events; i++)
      {
        ThecalPtmOutcome outcome;
        ThecalDoseError dose_error;

        if (!thecal_sim_pump_ptm_request (pump, &outcome, &dose_error))
          fail ("a PTM request", NULL);
      }
    logged_after = thecal_engine_log_next_seq (thecal_sim_pump_engine (pump));

    thecal_sign_in_page_set_credentials (thecal_window_get_sign_in_page (window), THECAL_DEMO_USER_NAME, THECAL_DEMO_USER_PASSWORD);
    thecal_sign_in_page_submit (thecal_window_get_sign_in_page (window));
    wait_for (signed_in, window, "demo sign in");
    wait_for (list_has_demo_patients, window, "the demo patients");
    thecal_patients_page_select (thecal_window_get_patients_page (window), THECAL_DEMO_PATIENT_LOW_RESERVOIR);
    overview = thecal_window_get_overview_page (window);
    wait_for_frame (GTK_WIDGET (window), "the overview");
    rss_overview_kib = rss_kib ();

    stall_reset ();
    t_us = g_get_monotonic_time ();
    thecal_overview_page_connect (overview);
    wait_for (overview_done, overview, "the interrogation");
    t_us = wait_for_frame (GTK_WIDGET (window), "the interrogation painted") - t_us;
    events_imported = thecal_visit_get_events_imported (thecal_overview_page_get_visit (overview));
    {
      g_autofree char *what = g_strdup_printf ("connect and interrogate a simulated pump (5 ms wand latency each way), %" G_GINT64_FORMAT
                                               " new log events (%u imported into the record)",
                                               logged_after - logged_before, events_imported);

      print_row (what, t_us, "stall ≤ 16 ms");
    }

    stall_reset ();
    t_us = g_get_monotonic_time ();
    history = thecal_overview_page_open_history (overview);
    if (history == NULL)
      fail ("the history window", NULL);
    /* its own toplevel: its frames are drawn by its own frame clock (creating and presenting the
     * window, before these are connected, stays in the "not GTK's" column) */
    watch_gtk_work (history);
    wait_for (history_loaded, history, "the history");
    t_us = wait_for_frame (history, "the history painted") - t_us;
    {
      g_autofree char *what = g_strdup_printf ("the patient's history opened: %u entries, the audit chain verified",
                                               g_list_model_get_n_items (thecal_history_page_get_all (THECAL_HISTORY_PAGE (history))));

      print_row (what, t_us, "");
    }
    rss_history_kib = rss_kib ();
    printf ("\nResident set: %" G_GINT64_FORMAT " MiB after the 100 000-patient list was shown; %" G_GINT64_FORMAT
            " MiB with the demo patient's overview open; %" G_GINT64_FORMAT " MiB with its history of %u entries open.\n",
            rss_list_kib / 1024, rss_overview_kib / 1024, rss_history_kib / 1024,
            g_list_model_get_n_items (thecal_history_page_get_all (THECAL_HISTORY_PAGE (history))));
    gtk_window_destroy (GTK_WINDOW (history));
    gtk_window_destroy (GTK_WINDOW (window));
  }
  g_source_remove (tick_id);
  remove_tree (dir);
  return EXIT_SUCCESS;
}
