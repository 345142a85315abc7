/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * app-fixture.c: see app-fixture.h.
 */
#include "config.h"

#include "app-fixture.h"

#include <glib/gstdio.h>
#include <string.h>

char *tmp_dir;
ThecalPumpModelSet *models;
ThecalDrugLibrary *library;

void
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

void
setup (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GtkCssProvider) css = NULL;

  gtk_init ();
  adw_init ();
  thecal_application_register_resources ();
  /* the application's style sheet and icons (AdwApplication adds them for the real app) */
  css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/org/thecal/Programmer/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  gtk_icon_theme_add_resource_path (gtk_icon_theme_get_for_display (gdk_display_get_default ()), "/org/thecal/Programmer/icons");
  models = g_new0 (ThecalPumpModelSet, 1);
  library = g_new0 (ThecalDrugLibrary, 1);
  ck_assert_msg (thecal_application_load_data (models, library, &error), "%s", error != NULL ? error->message : "");
  tmp_dir = g_dir_make_tmp ("thecal-test-app-XXXXXX", &error);
  ck_assert_msg (tmp_dir != NULL, "%s", error != NULL ? error->message : "");
}

void
teardown (void)
{
  remove_tree (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
  g_clear_pointer (&models, g_free);
  g_clear_pointer (&library, g_free);
}

gboolean
wait_for (gboolean (*check) (gpointer data), gpointer data)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;

  while (!check (data))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (2000);
    }
  return TRUE;
}

/* Lets GTK lay out and draw what changed. */
void
settle (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (2000);
}

/* TESTING.md: widget paintable → snapshot → the window's renderer → PNG. */
void
screenshot_after (GtkWidget *widget, const char *name, gboolean background, guint settle_ms)
{
  /* THECAL_NO_SCREENSHOTS=1 (run-tests' sanitizer run): the pages were already looked at and
   * saved by the plain run; skipping the settling time keeps CI inside its budget */
  const char *dir = g_strcmp0 (g_getenv ("THECAL_NO_SCREENSHOTS"), "1") == 0 ? NULL : g_getenv ("THECAL_SCREENSHOT_DIR");
  g_autofree char *path = NULL;
  g_autoptr (GdkPaintable) paintable = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  GtkSnapshot *snapshot;
  GskRenderNode *node;
  GskRenderer *renderer;
  int width, height;

  if (dir == NULL || dir[0] == '\0')
    return;
  settle (settle_ms);
  g_mkdir_with_parents (dir, 0755);
  path = g_build_filename (dir, name, NULL);
  paintable = gtk_widget_paintable_new (widget);
  /* on a loaded machine the widget may not have been drawn yet (an empty snapshot): wait for GTK
   * a little longer, a few times, before calling it a failure */
  for (int attempt = 0;; attempt++)
    {
      width = gtk_widget_get_width (widget);
      height = gtk_widget_get_height (widget);
      snapshot = gtk_snapshot_new ();
      if (background)
        gtk_snapshot_append_color (snapshot, &(GdkRGBA){ 0.98, 0.98, 0.98, 1 }, &GRAPHENE_RECT_INIT (0, 0, width, height));
      gdk_paintable_snapshot (paintable, snapshot, width, height);
      node = gtk_snapshot_free_to_node (snapshot);
      if (node != NULL || attempt == 10)
        break;
      settle (200);
    }
  ck_assert_msg (node != NULL, "%s: nothing was drawn (%d × %d)", name, width, height);
  renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  gsk_render_node_unref (node);
  ck_assert_msg (gdk_texture_save_to_png (texture, path), "cannot write %s", path);
}

void
screenshot_full (GtkWidget *widget, const char *name, gboolean background)
{
  screenshot_after (widget, name, background, 600);
}

void
screenshot (GtkWidget *widget, const char *name)
{
  screenshot_full (widget, name, FALSE);
}

/* The first descendant of @widget of @type, or NULL. */
GtkWidget *
find_descendant (GtkWidget *widget, GType type)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = G_TYPE_CHECK_INSTANCE_TYPE (child, type) && gtk_widget_get_mapped (child) ? child : find_descendant (child, type);

      if (found != NULL)
        return found;
    }
  return NULL;
}

gboolean
record_ready (gpointer data)
{
  (void) data;
  return TRUE;
}

gboolean
signed_in (gpointer window)
{
  return thecal_window_get_session (window) != NULL;
}

gboolean
sign_in_error_shown (gpointer page)
{
  return thecal_sign_in_page_get_error (page) != NULL;
}

gboolean
list_has_six (gpointer window)
{
  ThecalPatientList *list = thecal_patients_page_get_list (thecal_window_get_patients_page (window));

  return list != NULL && g_list_model_get_n_items (G_LIST_MODEL (list)) == 6 && !thecal_patient_list_get_loading (list);
}

gboolean
search_found_roe (gpointer window)
{
  ThecalPatientList *list = thecal_patients_page_get_list (thecal_window_get_patients_page (window));

  return g_strcmp0 (thecal_patient_list_get_search (list), "roe") == 0 && !thecal_patient_list_get_loading (list)
         && g_list_model_get_n_items (G_LIST_MODEL (list)) == 1;
}

gboolean
overview_connected (gpointer page)
{
  return thecal_overview_page_get_visit (page) != NULL || (!thecal_overview_page_get_busy (page));
}

ThecalWindow *
demo_window (ThecalRecord **record_out)
{
  g_autofree char *path = g_build_filename (tmp_dir, "demo.sqlite", NULL);
  g_autoptr (GError) error = NULL;
  ThecalRecord *record = thecal_demo_record_create_sync (path, THECAL_RECORD_OPEN_FAST_HASH, NULL, NULL, &error);
  ThecalWindow *window;

  ck_assert_msg (record != NULL, "%s", error != NULL ? error->message : "");
  window = thecal_window_new (NULL, TRUE, models, library);
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 760);
  thecal_window_set_record (window, record);
  gtk_window_present (GTK_WINDOW (window));
  ck_assert (wait_for (record_ready, NULL));
  *record_out = record;
  return window;
}

ThecalOverviewPage *
connect_low_reservoir (ThecalWindow *window)
{
  ThecalPatientsPage *patients = thecal_window_get_patients_page (window);
  ThecalOverviewPage *overview = thecal_window_get_overview_page (window);
  g_autofree char *reservoir = NULL;

  thecal_sign_in_page_submit (thecal_window_get_sign_in_page (window)); /* the demo user, as offered */
  ck_assert (wait_for (signed_in, window));
  ck_assert (wait_for (list_has_six, window));
  thecal_patients_page_select (patients, 1);
  ck_assert_str_eq (thecal_overview_page_get_mrn (overview), "DEMO-0002");
  ck_assert_ptr_null (thecal_overview_page_open_refill (overview)); /* not connected yet */
  thecal_overview_page_connect (overview);
  ck_assert (wait_for (overview_connected, overview));
  ck_assert_ptr_nonnull (thecal_overview_page_get_visit (overview));
  reservoir = thecal_overview_page_dup_text (overview, "reservoir");
  ck_assert_str_eq (reservoir, "1.8 mL of 20 mL");
  return overview;
}

ThecalOverviewPage *
connect_as_nurse (ThecalWindow **window_out, ThecalRecord **record_out)
{
  g_autofree char *path = g_build_filename (tmp_dir, "demo.sqlite", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecordSession) admin = NULL;
  g_autoptr (ThecalUser) nurse = NULL;
  ThecalRecord *record = thecal_demo_record_create_sync (path, THECAL_RECORD_OPEN_FAST_HASH, &admin, NULL, &error);
  ThecalWindow *window;
  ThecalSignInPage *sign_in;
  ThecalOverviewPage *overview;

  ck_assert_msg (record != NULL, "%s", error != NULL ? error->message : "");
  nurse = thecal_record_session_add_user_sync (admin, "nina", "Nina Nurse", THECAL_ROLE_NURSE, "nurse password", NULL, &error);
  ck_assert_msg (nurse != NULL, "%s", error != NULL ? error->message : "");
  window = thecal_window_new (NULL, TRUE, models, library);
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 760);
  thecal_window_set_record (window, record);
  gtk_window_present (GTK_WINDOW (window));
  sign_in = thecal_window_get_sign_in_page (window);
  thecal_sign_in_page_set_credentials (sign_in, "nina", "nurse password");
  thecal_sign_in_page_submit (sign_in);
  ck_assert (wait_for (signed_in, window));
  ck_assert (wait_for (list_has_six, window));
  overview = thecal_window_get_overview_page (window);
  thecal_patients_page_select (thecal_window_get_patients_page (window), 1);
  thecal_overview_page_connect (overview);
  ck_assert (wait_for (overview_connected, overview));
  ck_assert_ptr_nonnull (thecal_overview_page_get_visit (overview));
  *window_out = window;
  *record_out = record;
  return overview;
}

static gboolean
imported (gpointer data)
{
  return *(ThecalEventImport **) data != NULL;
}

/* Runs on the main thread: the record imported the events. */
static void
on_imported (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  *(ThecalEventImport **) user_data = thecal_record_import_events_finish (THECAL_RECORD (source), result, &error);
  ck_assert_msg (*(ThecalEventImport **) user_data != NULL, "%s", error != NULL ? error->message : "");
}

ThecalRecordSession *
import_thousand_events (ThecalRecord *record)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecordSession) session = thecal_record_session_login_sync (record, THECAL_DEMO_USER_NAME, THECAL_DEMO_USER_PASSWORD, NULL, &error);
  g_autoptr (GArray) events = g_array_new (FALSE, TRUE, sizeof (ThecalPumpEventInput));
  g_autoptr (GPtrArray) details = g_ptr_array_new_with_free_func (g_free);
  ThecalEventImport *import = NULL;

  ck_assert_msg (session != NULL, "%s", error != NULL ? error->message : "");
  for (int i = 0; i < 1000; i++)
    {
      char *detail = g_strdup_printf ("{\"type\":4,\"code\":0,\"args\":[50000,%d,600000]}", i % 4 + 1);
      ThecalPumpEventInput e = { .sequence = i + 1, .pump_time_ms = INT64_C (1700000000000) + (gint64) i * 9 * 3600 * 1000, .kind = "ptm_granted", .detail = detail };

      g_ptr_array_add (details, detail);
      g_array_append_val (events, e);
    }
  thecal_record_import_events_async (record, thecal_record_session_get_user (session), "TR20-000124", (const ThecalPumpEventInput *) (void *) events->data,
                                     events->len, NULL, on_imported, &import);
  ck_assert (wait_for (imported, &import));
  ck_assert_uint_eq (import->inserted, 1000);
  g_free (import);
  return g_steal_pointer (&session);
}

GtkWidget *
find_button (GtkWidget *widget, const char *label)
{
  if (GTK_IS_BUTTON (widget) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_button (child, label);

      if (found != NULL)
        return found;
    }
  return NULL;
}

void
refill_wizard_type_change (ThecalRefillWizard *wizard)
{
  ck_assert_ptr_nonnull (wizard);
  thecal_refill_wizard_set_field (wizard, "aspirated", "1.8 mL");
  thecal_refill_wizard_next (wizard);
  thecal_refill_wizard_set_field (wizard, "concentration", "50 mg/mL");
  thecal_refill_wizard_set_field (wizard, "lot", "MO-2611-B");
  thecal_refill_wizard_set_field (wizard, "expiry", "2030-06-30");
  thecal_refill_wizard_set_field (wizard, "added", "18 mL");
  thecal_refill_wizard_next (wizard);
  ck_assert_str_eq (thecal_refill_wizard_get_page (wizard), "review");
  thecal_refill_wizard_set_field (wizard, "override", "Fewer refills: agreed with the pain team");
  thecal_refill_wizard_next (wizard);
  thecal_refill_wizard_set_field (wizard, "verifier_name", THECAL_DEMO_PHYSICIAN_NAME);
  thecal_refill_wizard_set_field (wizard, "verifier_password", THECAL_DEMO_PHYSICIAN_PASSWORD);
  thecal_refill_wizard_next (wizard);
  ck_assert_str_eq (thecal_refill_wizard_get_page (wizard), "summary");
}

int
app_test_main (Suite *suite)
{
  SRunner *runner;
  int failed;

  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      g_print ("1..0 # SKIP no display (run under tests/app/with-xvfb.sh)\n");
      return 77;
    }
  runner = srunner_create (suite);
  srunner_run_all (runner, CK_ENV);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
