/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-shell.c: the app's shell in process (docs/gui.md "Preferences", "Lock after inactivity",
 * "Keyboard shortcuts", "Add and edit patient"): the preferences' bounds and the drug library
 * refused to a non-administrator; the lock after a short timeout hiding patient data and opening
 * again with the right password only (a pump connection surviving it), another user signing in on
 * the lock; every accelerator in the shortcuts window, installed, and its action doing what it says;
 * adding a patient (each bad field named under it) and correcting one (a new version that
 * supersedes the old). Screenshots: preferences.png, locked.png, shortcuts.png, patient-add.png,
 * patient-add-errors.png, patient-edit.png.
 */
#include "config.h"

#include "app-fixture.h"

#include <adwaita.h>
#include <string.h>

#include "thecal-patient-dialog.h"
#include "thecal-preferences-window.h"
#include "thecal-refill-wizard.h"
#include "thecal-settings.h"

static void
assert_has (const char *text, const char *needle)
{
  ck_assert_msg (text != NULL && strstr (text, needle) != NULL, "“%s” not in: %s", needle, text != NULL ? text : "(null)");
}

static void
assert_error_has (ThecalPreferencesWindow *preferences, const char *key, const char *needle)
{
  g_autofree char *error = thecal_preferences_window_dup_error (preferences, key);

  assert_has (error, needle);
}

static void
sign_in_as (ThecalWindow *window, const char *name, const char *password)
{
  thecal_sign_in_page_set_credentials (thecal_window_get_sign_in_page (window), name, password);
  thecal_sign_in_page_submit (thecal_window_get_sign_in_page (window));
  ck_assert (wait_for (signed_in, window));
  ck_assert_str_eq (thecal_record_session_get_user (thecal_window_get_session (window))->name, name);
}

/* The visible window of @type over @window, or NULL. */
static GtkWidget *
dialog_of_type (ThecalWindow *window, GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWindow) toplevel = g_list_model_get_item (toplevels, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (toplevel, type) && gtk_window_get_transient_for (toplevel) == GTK_WINDOW (window)
          && gtk_widget_get_visible (GTK_WIDGET (toplevel)))
        return GTK_WIDGET (toplevel);
    }
  return NULL;
}

/* ---- Preferences ------------------------------------------------------------------------------ */

START_TEST (test_preferences)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  g_autoptr (GSettings) settings = thecal_settings_new ();
  g_autofree char *library_path = g_build_filename (g_getenv ("THECAL_DATA_DIR"), "drug-library.json", NULL);
  g_autofree char *models_path = g_build_filename (g_getenv ("THECAL_DATA_DIR"), "pump-models.json", NULL);
  ThecalPreferencesWindow *preferences;
  g_autofree char *shown = NULL;
  guint16 vid = 0, pid = 0;

  /* the schema compiled into the build directory is found (the tests run uninstalled) */
  ck_assert_ptr_nonnull (settings);
  ck_assert_uint_eq (g_settings_get_uint (settings, "inactivity-timeout-minutes"), THECAL_INACTIVITY_TIMEOUT_DEFAULT_MINUTES);

  sign_in_as (window, THECAL_DEMO_USER_NAME, THECAL_DEMO_USER_PASSWORD);
  g_action_group_activate_action (G_ACTION_GROUP (window), "preferences", NULL);
  preferences = THECAL_PREFERENCES_WINDOW (dialog_of_type (window, THECAL_TYPE_PREFERENCES_WINDOW));
  ck_assert_ptr_nonnull (preferences);
  shown = thecal_preferences_window_dup_text (preferences, "inactivity-timeout-minutes");
  ck_assert_str_eq (shown, "5");

  /* the inactivity timeout: 0 and 61 refused with the field and the bounds; 1 and 60 written */
  ck_assert (!thecal_preferences_window_apply (preferences, "inactivity-timeout-minutes", "0"));
  assert_error_has (preferences, "inactivity-timeout-minutes", "Lock after inactivity: “0” is not allowed");
  assert_error_has (preferences, "inactivity-timeout-minutes", "from 1 to 60");
  ck_assert_uint_eq (g_settings_get_uint (settings, "inactivity-timeout-minutes"), 5);
  ck_assert (thecal_preferences_window_apply (preferences, "inactivity-timeout-minutes", "1"));
  ck_assert_uint_eq (g_settings_get_uint (settings, "inactivity-timeout-minutes"), 1);
  assert_error_has (preferences, "inactivity-timeout-minutes", "");
  ck_assert (thecal_preferences_window_apply (preferences, "inactivity-timeout-minutes", " 60 "));
  ck_assert_uint_eq (g_settings_get_uint (settings, "inactivity-timeout-minutes"), 60);
  for (guint i = 0; i < 6; i++)
    {
      static const char *const refused[] = { "61", "-1", "", "1.5", "ten", "99999999999" };
      g_autofree char *error = NULL;

      ck_assert_msg (!thecal_preferences_window_apply (preferences, "inactivity-timeout-minutes", refused[i]), "“%s” accepted",
                     refused[i]);
      error = thecal_preferences_window_dup_error (preferences, "inactivity-timeout-minutes");
      assert_has (error, "Lock after inactivity");
      ck_assert_uint_eq (g_settings_get_uint (settings, "inactivity-timeout-minutes"), 60);
    }

  /* the wand's USB ID */
  ck_assert (thecal_settings_parse_wand_id ("1209:0001", &vid, &pid, NULL));
  ck_assert_uint_eq (vid, 0x1209);
  ck_assert_uint_eq (pid, 0x0001);
  ck_assert (thecal_preferences_window_apply (preferences, "wand-usb-id", "1209:ABCD"));
  g_autofree char *wand = g_settings_get_string (settings, "wand-usb-id");
  ck_assert_str_eq (wand, "1209:abcd");
  for (guint i = 0; i < 7; i++)
    {
      static const char *const refused[] = { "1209:2", "1209-0001", "12090001", "zzzz:0001", "0000:0001", "1209:0000", "1209:00012" };
      g_autofree char *kept = NULL;

      ck_assert_msg (!thecal_preferences_window_apply (preferences, "wand-usb-id", refused[i]), "“%s” accepted", refused[i]);
      assert_error_has (preferences, "wand-usb-id", "Wand USB ID");
      assert_error_has (preferences, "wand-usb-id", "four hexadecimal digits");
      kept = g_settings_get_string (settings, "wand-usb-id");
      ck_assert_str_eq (kept, "1209:abcd");
    }

  /* the drug library: the demo user may not (the workflow's permission table says who may) */
  assert_error_has (preferences, "drug-library-path", "drug_library.edit");
  ck_assert (!thecal_preferences_window_apply (preferences, "drug-library-path", library_path));
  assert_error_has (preferences, "drug-library-path", "may not edit the drug library");
  g_autofree char *unchanged = g_settings_get_string (settings, "drug-library-path");
  ck_assert_str_eq (unchanged, "");
  screenshot (GTK_WIDGET (preferences), "preferences.png");
  gtk_window_destroy (GTK_WINDOW (preferences));

  /* an administrator may, with a file that loads as a drug library */
  thecal_window_sign_out (window);
  sign_in_as (window, THECAL_DEMO_ADMIN_NAME, THECAL_DEMO_ADMIN_PASSWORD);
  preferences = THECAL_PREFERENCES_WINDOW (thecal_window_open_preferences (window));
  assert_error_has (preferences, "drug-library-path", "");
  ck_assert (!thecal_preferences_window_apply (preferences, "drug-library-path", "data/drug-library.json"));
  assert_error_has (preferences, "drug-library-path", "not a full path");
  ck_assert (!thecal_preferences_window_apply (preferences, "drug-library-path", models_path));
  assert_error_has (preferences, "drug-library-path", "not a valid drug library");
  ck_assert (!thecal_preferences_window_apply (preferences, "drug-library-path", "/nonexistent/library.json"));
  assert_error_has (preferences, "drug-library-path", "Drug library file: ");
  g_autofree char *still = g_settings_get_string (settings, "drug-library-path");
  ck_assert_str_eq (still, "");
  ck_assert (thecal_preferences_window_apply (preferences, "drug-library-path", library_path));
  g_autofree char *chosen = g_settings_get_string (settings, "drug-library-path");
  ck_assert_str_eq (chosen, library_path);
  /* the app loads it at its next start */
  g_autofree char *loaded_from = thecal_settings_dup_drug_library_path ();
  ck_assert_str_eq (loaded_from, library_path);
  {
    g_autofree ThecalPumpModelSet *m = g_new0 (ThecalPumpModelSet, 1);
    g_autofree ThecalDrugLibrary *l = g_new0 (ThecalDrugLibrary, 1);
    g_autoptr (GError) error = NULL;

    ck_assert_msg (thecal_application_load_data (m, l, &error), "%s", error != NULL ? error->message : "");
  }
  /* empty: the installed library again */
  ck_assert (thecal_preferences_window_apply (preferences, "drug-library-path", ""));
  g_autofree char *back = thecal_settings_dup_drug_library_path ();
  ck_assert_ptr_null (back);
  gtk_window_destroy (GTK_WINDOW (preferences));
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* ---- Lock after inactivity -------------------------------------------------------------------- */

static gboolean
window_locked (gpointer window)
{
  return thecal_window_get_locked (window);
}

static gboolean
window_unlocked (gpointer window)
{
  return !thecal_window_get_locked (window);
}

static gboolean
lock_error_shown (gpointer window)
{
  g_autofree char *error = thecal_lock_page_dup_text (thecal_window_get_lock_page (window), "error");

  return !thecal_lock_page_get_busy (thecal_window_get_lock_page (window)) && error[0] != '\0';
}

START_TEST (test_lock)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalOverviewPage *overview = connect_low_reservoir (window);
  ThecalLockPage *lock = thecal_window_get_lock_page (window);
  ThecalVisit *visit = thecal_overview_page_get_visit (overview);
  ThecalRecordSession *session = thecal_window_get_session (window);
  GtkWidget *patients = GTK_WIDGET (thecal_window_get_patients_page (window));
  GtkWidget *wizard;
  g_autofree char *who = NULL;
  g_autofree char *password_left = NULL;
  g_autofree char *reservoir = NULL;

  ck_assert (!thecal_window_get_locked (window));
  ck_assert (gtk_widget_get_mapped (GTK_WIDGET (overview)));
  /* a dialog open over the window hides with it and comes back */
  wizard = thecal_overview_page_open_refill (overview);
  ck_assert_ptr_nonnull (wizard);
  ck_assert (gtk_widget_get_visible (wizard));
  settle (200);
  /* input in the dialog counts as activity too */
  ck_assert_ptr_nonnull (g_object_get_data (G_OBJECT (wizard), "thecal-input-watched"));

  /* no input for the (test-short) timeout: locked, patient data hidden, the pump still connected */
  thecal_window_set_lock_timeout_ms (window, 300);
  ck_assert (wait_for (window_locked, window));
  settle (600); /* the stack's crossfade */
  ck_assert (!gtk_widget_get_mapped (GTK_WIDGET (overview)));
  ck_assert (!gtk_widget_get_mapped (patients));
  ck_assert (gtk_widget_get_mapped (GTK_WIDGET (lock)));
  ck_assert (!gtk_widget_get_visible (wizard));
  ck_assert_ptr_eq (thecal_overview_page_get_visit (overview), visit);
  ck_assert_ptr_eq (thecal_window_get_session (window), session);
  /* nothing clinical while locked: the actions are off */
  ck_assert (!g_action_group_get_action_enabled (G_ACTION_GROUP (window), "connect"));
  ck_assert (!g_action_group_get_action_enabled (G_ACTION_GROUP (window), "refill"));
  ck_assert (!g_action_group_get_action_enabled (G_ACTION_GROUP (window), "search"));
  ck_assert (!g_action_group_get_action_enabled (G_ACTION_GROUP (window), "preferences"));
  who = thecal_lock_page_dup_text (lock, "who");
  assert_has (who, "(demo) is signed in");
  screenshot (GTK_WIDGET (window), "locked.png");

  /* a wrong password: still locked, the field cleared */
  thecal_lock_page_set_field (lock, "password", "not the password");
  thecal_lock_page_unlock (lock);
  ck_assert (wait_for (lock_error_shown, window));
  ck_assert (thecal_window_get_locked (window));
  password_left = thecal_lock_page_dup_field (lock, "password");
  ck_assert_str_eq (password_left, "");
  ck_assert (!gtk_widget_get_mapped (GTK_WIDGET (overview)));

  /* the right one: the same session, the same visit, the wizard back */
  thecal_lock_page_set_field (lock, "password", THECAL_DEMO_USER_PASSWORD);
  thecal_window_set_lock_timeout_ms (window, 60 * 1000);
  thecal_lock_page_unlock (lock);
  ck_assert (wait_for (window_unlocked, window));
  settle (600);
  ck_assert_ptr_eq (thecal_window_get_session (window), session);
  ck_assert_ptr_eq (thecal_overview_page_get_visit (overview), visit);
  ck_assert (gtk_widget_get_mapped (GTK_WIDGET (overview)));
  ck_assert (gtk_widget_get_visible (wizard));
  reservoir = thecal_overview_page_dup_text (overview, "reservoir");
  ck_assert_str_eq (reservoir, "1.8 mL of 20 mL");
  ck_assert (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "connect"));
  gtk_window_destroy (GTK_WINDOW (wizard));
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

START_TEST (test_lock_after_the_last_input)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  gint64 last_input_us;
  gint64 locked_after_ms;

  /* nobody signed in: nothing to lock */
  thecal_window_set_lock_timeout_ms (window, 100);
  settle (400);
  ck_assert (!thecal_window_get_locked (window));
  g_action_group_activate_action (G_ACTION_GROUP (window), "lock", NULL); /* disabled */
  thecal_window_lock (window);
  ck_assert (!thecal_window_get_locked (window));

  /* input keeps the window open past the timeout; the lock comes a timeout after the last input */
  thecal_window_set_lock_timeout_ms (window, 800);
  sign_in_as (window, THECAL_DEMO_USER_NAME, THECAL_DEMO_USER_PASSWORD);
  for (guint i = 0; i < 16; i++)
    {
      thecal_window_note_activity (window);
      settle (100);
    }
  ck_assert (!thecal_window_get_locked (window));
  thecal_window_note_activity (window);
  last_input_us = g_get_monotonic_time ();
  ck_assert (wait_for (window_locked, window));
  locked_after_ms = (g_get_monotonic_time () - last_input_us) / 1000;
  ck_assert_msg (locked_after_ms >= 800 && locked_after_ms < 3000, "locked %" G_GINT64_FORMAT " ms after the last input", locked_after_ms);

  /* signing out (thecal_window_sign_out; the action is off while locked) ends the lock with the session */
  thecal_window_sign_out (window);
  ck_assert (!thecal_window_get_locked (window));
  ck_assert_ptr_null (thecal_window_get_session (window));
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

static gboolean
signed_in_as_paula (gpointer window)
{
  ThecalRecordSession *session = thecal_window_get_session (window);

  return session != NULL && g_str_equal (thecal_record_session_get_user (session)->name, THECAL_DEMO_PHYSICIAN_NAME);
}

static gboolean
other_error_shown (gpointer window)
{
  g_autofree char *error = thecal_lock_page_dup_text (thecal_window_get_lock_page (window), "other_error");

  return !thecal_lock_page_get_busy (thecal_window_get_lock_page (window)) && error[0] != '\0';
}

START_TEST (test_lock_other_user)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalOverviewPage *overview = connect_low_reservoir (window);
  ThecalLockPage *lock = thecal_window_get_lock_page (window);
  g_autofree char *error = NULL;
  gpointer wizard;

  /* locked while the pump is being interrogated: nobody else may sign in (that would drop it) */
  thecal_overview_page_connect (overview);
  ck_assert (thecal_overview_page_get_busy (overview));
  g_action_group_activate_action (G_ACTION_GROUP (window), "lock", NULL);
  ck_assert (thecal_window_get_locked (window));
  thecal_lock_page_set_field (lock, "other_name", THECAL_DEMO_PHYSICIAN_NAME);
  thecal_lock_page_set_field (lock, "other_password", THECAL_DEMO_PHYSICIAN_PASSWORD);
  thecal_lock_page_request_switch (lock);
  ck_assert (!thecal_lock_page_get_busy (lock)); /* refused before any password was checked */
  error = thecal_lock_page_dup_text (lock, "other_error");
  assert_has (error, "A pump operation of Demo Clinician is under way");
  g_clear_pointer (&error, g_free);
  /* the interrogation goes on behind the lock */
  ck_assert (wait_for (overview_connected, overview));
  ck_assert_ptr_nonnull (thecal_overview_page_get_visit (overview));
  ck_assert (thecal_window_get_locked (window));
  thecal_lock_page_set_field (lock, "password", THECAL_DEMO_USER_PASSWORD);
  thecal_lock_page_unlock (lock);
  ck_assert (wait_for (window_unlocked, window));
  /* the refill wizard open, then locked again: it hides */
  wizard = thecal_overview_page_open_refill (overview);
  ck_assert_ptr_nonnull (wizard);
  g_object_add_weak_pointer (G_OBJECT (wizard), &wizard);
  thecal_window_lock (window);
  ck_assert (!gtk_widget_get_visible (wizard));

  /* a wrong password of the other person changes nothing */
  thecal_lock_page_set_field (lock, "other_name", THECAL_DEMO_PHYSICIAN_NAME);
  thecal_lock_page_set_field (lock, "other_password", "wrong password");
  thecal_lock_page_request_switch (lock);
  ck_assert (wait_for (other_error_shown, window));
  error = thecal_lock_page_dup_text (lock, "other_error");
  assert_has (error, "wrong password");
  ck_assert (thecal_window_get_locked (window));
  ck_assert_str_eq (thecal_record_session_get_user (thecal_window_get_session (window))->name, THECAL_DEMO_USER_NAME);

  /* paula signs in: the demo user is signed out, the pump dropped with them, the list paula's */
  thecal_lock_page_set_field (lock, "other_password", THECAL_DEMO_PHYSICIAN_PASSWORD);
  thecal_lock_page_request_switch (lock);
  ck_assert (wait_for (signed_in_as_paula, window));
  ck_assert (!thecal_window_get_locked (window));
  ck_assert_ptr_null (thecal_overview_page_get_visit (overview));
  /* the demo user's wizard went with them */
  settle (100);
  ck_assert_ptr_null (wizard);
  ck_assert (wait_for (list_has_six, window));
  ck_assert (gtk_widget_get_mapped (GTK_WIDGET (thecal_window_get_patients_page (window))));
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* ---- Keyboard shortcuts ----------------------------------------------------------------------- */

static gboolean
has_string (GPtrArray *strings, const char *text)
{
  for (guint i = 0; i < strings->len; i++)
    if (g_str_equal (strings->pdata[i], text))
      return TRUE;
  return FALSE;
}

static void
collect_accels (GtkWidget *widget, GPtrArray *accels)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL; child = gtk_widget_get_next_sibling (child))
    {
      if (GTK_IS_SHORTCUTS_SHORTCUT (child))
        {
          g_autofree char *accel = NULL;
          g_autofree char *title = NULL;

          g_object_get (child, "accelerator", &accel, "title", &title, NULL);
          ck_assert_msg (title != NULL && title[0] != '\0', "a shortcut without a title: %s", accel);
          /* the window also keeps a copy of each for its search page */
          if (!has_string (accels, accel))
            g_ptr_array_add (accels, g_steal_pointer (&accel));
        }
      collect_accels (child, accels);
    }
}

/* The action the window's shortcut controllers run for @accel, or NULL. */
static char *
window_action_for (ThecalWindow *window, const char *accel)
{
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (window));
  g_autoptr (GtkShortcutTrigger) wanted = gtk_shortcut_trigger_parse_string (accel);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr (GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;
      for (guint j = 0; j < g_list_model_get_n_items (G_LIST_MODEL (controller)); j++)
        {
          g_autoptr (GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), j);
          GtkShortcutAction *action = gtk_shortcut_get_action (shortcut);

          if (gtk_shortcut_trigger_equal (gtk_shortcut_get_trigger (shortcut), wanted) && GTK_IS_NAMED_ACTION (action))
            return g_strdup (gtk_named_action_get_action_name (GTK_NAMED_ACTION (action)));
        }
    }
  return NULL;
}

static gboolean
overview_busy_or_connected (gpointer page)
{
  return thecal_overview_page_get_busy (page) || thecal_overview_page_get_visit (page) != NULL;
}

START_TEST (test_shortcuts)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  const ThecalWindowAccel *accels = thecal_window_get_accels ();
  g_autoptr (GPtrArray) listed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (ThecalApplication) app = thecal_application_new ();
  g_auto (GStrv) quit_accels = NULL;
  GtkWidget *help;
  GtkWidget *dialog;
  GtkWidget *focus;
  ThecalOverviewPage *overview = thecal_window_get_overview_page (window);
  guint n_accels = 0;

  /* the shortcuts window lists every accelerator, and nothing else but GTK's own F10 */
  g_action_group_activate_action (G_ACTION_GROUP (window), "show-help-overlay", NULL);
  help = dialog_of_type (window, GTK_TYPE_SHORTCUTS_WINDOW);
  ck_assert_ptr_nonnull (help);
  collect_accels (help, listed);
  for (const ThecalWindowAccel *accel = accels; accel->action != NULL; accel++, n_accels++)
    {
      ck_assert_msg (has_string (listed, accel->accel), "%s (%s) is not in the shortcuts window", accel->accel, accel->action);
      if (g_str_has_prefix (accel->action, "win."))
        {
          /* installed on the window, and the action exists */
          g_autofree char *action = window_action_for (window, accel->accel);

          ck_assert_msg (action != NULL && g_str_equal (action, accel->action), "%s runs %s, not %s", accel->accel,
                         action != NULL ? action : "nothing", accel->action);
          ck_assert_msg (g_action_group_has_action (G_ACTION_GROUP (window), accel->action + 4), "no action %s", accel->action);
        }
      else
        {
          /* the application's: set on it */
          g_auto (GStrv) app_accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app), accel->action);

          ck_assert_msg (g_strv_contains ((const char *const *) app_accels, accel->accel), "the app has no %s for %s", accel->accel,
                         accel->action);
        }
    }
  for (guint i = 0; i < listed->len; i++)
    {
      gboolean known = g_str_equal (listed->pdata[i], "F10"); /* the primary menu: GtkMenuButton's own */

      for (const ThecalWindowAccel *accel = accels; !known && accel->action != NULL; accel++)
        known = g_str_equal (accel->accel, listed->pdata[i]);
      ck_assert_msg (known, "the shortcuts window lists %s, which nothing installs", (const char *) listed->pdata[i]);
    }
  ck_assert_uint_eq (listed->len, n_accels + 1);
  quit_accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app), "app.quit");
  ck_assert_str_eq (quit_accels[0], "<Control>q");
  screenshot (help, "shortcuts.png");
  gtk_window_destroy (GTK_WINDOW (help));

  /* signed out: the clinical actions are off */
  ck_assert (!g_action_group_get_action_enabled (G_ACTION_GROUP (window), "search"));
  ck_assert (!g_action_group_get_action_enabled (G_ACTION_GROUP (window), "lock"));
  ck_assert (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "preferences"));

  /* each action does what the shortcuts window says */
  sign_in_as (window, THECAL_DEMO_USER_NAME, THECAL_DEMO_USER_PASSWORD);
  ck_assert (wait_for (list_has_six, window));
  g_action_group_activate_action (G_ACTION_GROUP (window), "search", NULL);
  focus = gtk_root_get_focus (GTK_ROOT (window));
  ck_assert_ptr_nonnull (focus);
  ck_assert_ptr_nonnull (gtk_widget_get_ancestor (focus, GTK_TYPE_SEARCH_ENTRY));

  g_action_group_activate_action (G_ACTION_GROUP (window), "add-patient", NULL);
  dialog = dialog_of_type (window, THECAL_TYPE_PATIENT_DIALOG);
  ck_assert_ptr_nonnull (dialog);
  gtk_window_destroy (GTK_WINDOW (dialog));

  g_action_group_activate_action (G_ACTION_GROUP (window), "edit-patient", NULL); /* nobody selected: nothing */
  ck_assert_ptr_null (dialog_of_type (window, THECAL_TYPE_PATIENT_DIALOG));
  thecal_patients_page_select (thecal_window_get_patients_page (window), 1);
  g_action_group_activate_action (G_ACTION_GROUP (window), "edit-patient", NULL);
  dialog = dialog_of_type (window, THECAL_TYPE_PATIENT_DIALOG);
  ck_assert_ptr_nonnull (dialog);
  g_autofree char *mrn = thecal_patient_dialog_dup_field (THECAL_PATIENT_DIALOG (dialog), "mrn");
  ck_assert_str_eq (mrn, "DEMO-0002");
  gtk_window_destroy (GTK_WINDOW (dialog));

  g_action_group_activate_action (G_ACTION_GROUP (window), "connect", NULL);
  ck_assert (overview_busy_or_connected (overview));
  ck_assert (wait_for (overview_connected, overview));
  ck_assert_ptr_nonnull (thecal_overview_page_get_visit (overview));
  g_action_group_activate_action (G_ACTION_GROUP (window), "refill", NULL);
  dialog = dialog_of_type (window, THECAL_TYPE_REFILL_WIZARD);
  ck_assert_ptr_nonnull (dialog);
  gtk_window_destroy (GTK_WINDOW (dialog));

  g_action_group_activate_action (G_ACTION_GROUP (window), "preferences", NULL);
  dialog = dialog_of_type (window, THECAL_TYPE_PREFERENCES_WINDOW);
  ck_assert_ptr_nonnull (dialog);
  gtk_window_destroy (GTK_WINDOW (dialog));

  g_action_group_activate_action (G_ACTION_GROUP (window), "lock", NULL);
  ck_assert (thecal_window_get_locked (window));
  g_action_group_activate_action (G_ACTION_GROUP (window), "connect", NULL); /* off while locked */
  thecal_lock_page_set_field (thecal_window_get_lock_page (window), "password", THECAL_DEMO_USER_PASSWORD);
  thecal_lock_page_unlock (thecal_window_get_lock_page (window));
  ck_assert (wait_for (window_unlocked, window));

  g_action_group_activate_action (G_ACTION_GROUP (window), "sign-out", NULL);
  ck_assert_ptr_null (thecal_window_get_session (window));
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* ---- Add and edit patient --------------------------------------------------------------------- */

static gboolean
dialog_gone (gpointer pointer)
{
  return *(gpointer *) pointer == NULL;
}

static gboolean
dialog_done (gpointer dialog)
{
  return !thecal_patient_dialog_get_busy (dialog);
}

static gboolean
search_found_tester (gpointer window)
{
  ThecalPatientList *list = thecal_patients_page_get_list (thecal_window_get_patients_page (window));

  return list != NULL && !thecal_patient_list_get_loading (list) && g_list_model_get_n_items (G_LIST_MODEL (list)) == 1
         && g_strcmp0 (thecal_patient_list_get_search (list), "tester") == 0;
}

static void
assert_dialog_error (ThecalPatientDialog *dialog, const char *field, const char *needle)
{
  g_autofree char *error = thecal_patient_dialog_dup_error (dialog, field);

  assert_has (error, needle);
}

static ThecalPatientDialog *
add_dialog (ThecalWindow *window)
{
  GtkWidget *dialog = thecal_patients_page_open_add (thecal_window_get_patients_page (window));

  ck_assert_ptr_nonnull (dialog);
  return THECAL_PATIENT_DIALOG (dialog);
}

START_TEST (test_add_and_edit_patient)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalPatientsPage *patients = thecal_window_get_patients_page (window);
  ThecalPatientDialog *dialog;
  gpointer alive = NULL;
  g_autoptr (ThecalPatientItem) item = NULL;
  g_autoptr (ThecalPatient) first = NULL;
  g_autoptr (ThecalPatient) corrected = NULL;
  g_autoptr (GError) error = NULL;
  const ThecalPatient *listed;

  sign_in_as (window, THECAL_DEMO_USER_NAME, THECAL_DEMO_USER_PASSWORD);
  ck_assert (wait_for (list_has_six, window));
  ck_assert_ptr_null (thecal_patients_page_open_edit (patients)); /* nobody selected */

  /* every bad field named under it; nothing sent */
  dialog = add_dialog (window);
  thecal_patient_dialog_set_field (dialog, "mrn", "TEST 1");
  thecal_patient_dialog_set_field (dialog, "name", "  ");
  thecal_patient_dialog_set_field (dialog, "date_of_birth", "31/01/1970");
  ck_assert (!thecal_patient_dialog_save (dialog));
  ck_assert (!thecal_patient_dialog_get_busy (dialog));
  assert_dialog_error (dialog, "mrn", "medical record number");
  assert_dialog_error (dialog, "name", "name is missing");
  assert_dialog_error (dialog, "date_of_birth", "YYYY-MM-DD");
  assert_dialog_error (dialog, "notes", "");
  screenshot (GTK_WIDGET (dialog), "patient-add-errors.png");
  thecal_patient_dialog_set_field (dialog, "date_of_birth", "2999-01-01");
  assert_dialog_error (dialog, "date_of_birth", ""); /* typing clears the field's message */
  ck_assert (!thecal_patient_dialog_save (dialog));
  assert_dialog_error (dialog, "date_of_birth", "in the future");

  /* a good patient: added, then in the list */
  thecal_patient_dialog_set_field (dialog, "mrn", "TEST-0001");
  thecal_patient_dialog_set_field (dialog, "name", "TESTER, Tina");
  thecal_patient_dialog_set_field (dialog, "date_of_birth", "1970-01-31");
  thecal_patient_dialog_set_tolerance (dialog, THECAL_OPIOID_TOLERANT);
  thecal_patient_dialog_set_field (dialog, "notes", "Referred by the pain clinic");
  screenshot (GTK_WIDGET (dialog), "patient-add.png");
  alive = dialog;
  g_object_add_weak_pointer (G_OBJECT (dialog), &alive);
  ck_assert (thecal_patient_dialog_save (dialog));
  ck_assert (wait_for (dialog_gone, &alive));
  thecal_patients_page_set_search (patients, "tester");
  ck_assert (wait_for (search_found_tester, window));
  item = g_list_model_get_item (G_LIST_MODEL (thecal_patients_page_get_list (patients)), 0);
  listed = thecal_patient_item_get_patient (item);
  ck_assert_str_eq (listed->mrn, "TEST-0001");
  ck_assert_str_eq (listed->name, "TESTER, Tina");
  ck_assert_str_eq (listed->date_of_birth, "1970-01-31");
  ck_assert_int_eq (listed->opioid_tolerance, THECAL_OPIOID_TOLERANT);
  ck_assert_str_eq (listed->notes, "Referred by the pain clinic");
  ck_assert_str_eq (listed->recorded_by, THECAL_DEMO_USER_NAME);

  /* the same MRN again: the workflow's refusal under the MRN, nothing saved */
  dialog = add_dialog (window);
  thecal_patient_dialog_set_field (dialog, "mrn", "TEST-0001");
  thecal_patient_dialog_set_field (dialog, "name", "OTHER, Olga");
  thecal_patient_dialog_set_field (dialog, "date_of_birth", "1980-05-05");
  ck_assert (thecal_patient_dialog_save (dialog));
  ck_assert (wait_for (dialog_done, dialog));
  assert_dialog_error (dialog, "mrn", "already in the record");
  gtk_window_destroy (GTK_WINDOW (dialog));

  /* edit: a correction that supersedes the first version */
  first = thecal_record_session_get_patient_sync (thecal_window_get_session (window), "TEST-0001", NULL, &error);
  ck_assert_msg (first != NULL, "%s", error != NULL ? error->message : "");
  thecal_patients_page_select (patients, 0);
  dialog = THECAL_PATIENT_DIALOG (thecal_patients_page_open_edit (patients));
  ck_assert_ptr_nonnull (dialog);
  g_autofree char *name = thecal_patient_dialog_dup_field (dialog, "name");
  ck_assert_str_eq (name, "TESTER, Tina");
  ck_assert_int_eq (thecal_patient_dialog_get_tolerance (dialog), THECAL_OPIOID_TOLERANT);
  ck_assert (!gtk_editable_get_editable (GTK_EDITABLE (find_descendant (GTK_WIDGET (dialog), ADW_TYPE_ENTRY_ROW))));
  thecal_patient_dialog_set_field (dialog, "name", "TESTER, Tina Maria");
  ck_assert (!thecal_patient_dialog_save (dialog)); /* a correction needs its reason */
  assert_dialog_error (dialog, "reason", "reason for the correction");
  thecal_patient_dialog_set_field (dialog, "reason", "Middle name missing at registration");
  screenshot (GTK_WIDGET (dialog), "patient-edit.png");
  alive = dialog;
  g_object_add_weak_pointer (G_OBJECT (dialog), &alive);
  ck_assert (thecal_patient_dialog_save (dialog));
  ck_assert (wait_for (dialog_gone, &alive));
  corrected = thecal_record_session_get_patient_sync (thecal_window_get_session (window), "TEST-0001", NULL, &error);
  ck_assert_msg (corrected != NULL, "%s", error != NULL ? error->message : "");
  ck_assert_str_eq (corrected->name, "TESTER, Tina Maria");
  ck_assert_int_eq (corrected->id, first->id);
  ck_assert_int_ne (corrected->version_id, first->version_id);
  ck_assert_int_eq (corrected->supersedes, first->version_id);
  ck_assert_str_eq (corrected->reason, "Middle name missing at registration");
  ck_assert_str_eq (corrected->date_of_birth, "1970-01-31");
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

static Suite *
shell_suite (void)
{
  Suite *suite = suite_create ("shell");

  THECAL_TEST_TCASE (suite, "preferences", setup, teardown, 120, test_preferences);
  THECAL_TEST_TCASE (suite, "lock", setup, teardown, 120, test_lock, test_lock_after_the_last_input, test_lock_other_user);
  THECAL_TEST_TCASE (suite, "shortcuts", setup, teardown, 120, test_shortcuts);
  THECAL_TEST_TCASE (suite, "patients", setup, teardown, 120, test_add_and_edit_patient);
  return suite;
}

int
main (void)
{
  return app_test_main (shell_suite ());
}
