/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-window.c: see thecal-window.h.
 */
#include "config.h"

#include "thecal-window.h"

#include <glib/gi18n.h>

#include "thecal-format.h"
#include "thecal-lock-page.h"
#include "thecal-preferences-window.h"
#include "thecal-refill-wizard.h"
#include "thecal-settings.h"
#include "thecal-demo-controls.h"
#include "thecal-usb-transport.h"
#include "thecal-wand-status.h"

struct _ThecalWindow
{
  AdwApplicationWindow parent_instance;

  GtkWidget *window_title;
  GtkWidget *back_button;
  GtkWidget *sign_out_button;
  GtkWidget *demo_banner;
  GtkWidget *main_stack;
  GtkWidget *leaflet;
  GtkWidget *sign_in_page;
  GtkWidget *patients_page;
  GtkWidget *overview_page;
  GtkWidget *lock_page;
  GtkWidget *wand_status;
  GtkWidget *demo_controls;

  gboolean demo;
  ThecalPumpModelSet *models;
  ThecalDrugLibrary *library;
  ThecalRecordSession *session;

  /* the lock after inactivity (docs/gui.md "Lock after inactivity") */
  GSettings *settings;     /* NULL when the schema is missing: the defaults */
  gint64 lock_timeout_ms;  /* > 0: set by thecal_window_set_lock_timeout_ms, else the settings' */
  gint64 last_activity_us; /* monotonic */
  guint lock_source;       /* the timer, while someone is signed in and not locked */
  gboolean locked;
  GPtrArray *hidden_windows;   /* the dialogs hidden by the lock, shown again at unlock */
  ThecalDemoWorld *demo_world; /* demo mode: the simulated pumps of this session */
};

/* Every accelerator of the app: the window's shortcut controller installs the win.* ones, the
 * application sets app.quit, and ui/thecal-shortcuts.ui lists them all (tests/app/test-shell.c
 * checks that the three agree). */
static const ThecalWindowAccel accels[] = {
  { "win.search", "<Control>f" },
  { "win.add-patient", "<Control>n" },
  { "win.edit-patient", "<Control>e" },
  { "win.connect", "<Control>r" },
  { "win.refill", "<Control><Shift>r" },
  { "win.lock", "<Control>l" },
  { "win.sign-out", "<Control><Shift>l" },
  { "win.preferences", "<Control>comma" },
  { "win.show-help-overlay", "<Control>question" },
  { "app.quit", "<Control>q" },
  { NULL, NULL },
};

const ThecalWindowAccel *
thecal_window_get_accels (void)
{
  return accels;
}

G_DEFINE_FINAL_TYPE (ThecalWindow, thecal_window, ADW_TYPE_APPLICATION_WINDOW)

static void arm_lock_timer (ThecalWindow *self);
static void note_activity (ThecalWindow *self);

/* Actions that need someone signed in do nothing while nobody is, or while the window is locked. */
static void
update_actions (ThecalWindow *self)
{
  static const char *const clinical[] = { "search", "add-patient", "edit-patient", "connect", "refill", "lock", "sign-out", "preferences" };
  gboolean open = self->session != NULL && !self->locked;

  for (guint i = 0; i < G_N_ELEMENTS (clinical); i++)
    {
      GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), clinical[i]);

      if (action == NULL) /* the template's signals run before the actions are installed */
        continue;
      /* preferences: also before anyone signed in (the drug library then stays refused) */
      g_simple_action_set_enabled (G_SIMPLE_ACTION (action), g_str_equal (clinical[i], "preferences") ? !self->locked : open);
    }
}

/* Runs on the main thread: the session, or the leaflet's folding or visible child changed. */
static void
update_header (ThecalWindow *self)
{
  const ThecalUser *user = self->session != NULL ? thecal_record_session_get_user (self->session) : NULL;
  gboolean folded = adw_leaflet_get_folded (ADW_LEAFLET (self->leaflet));
  gboolean on_overview = adw_leaflet_get_visible_child (ADW_LEAFLET (self->leaflet)) == self->overview_page;
  g_autofree char *subtitle = NULL;

  if (user != NULL)
    subtitle = g_strdup_printf (_ ("%s (%s), %s"), user->full_name, user->name, thecal_format_role (user->role));
  adw_window_title_set_subtitle (ADW_WINDOW_TITLE (self->window_title), subtitle != NULL ? subtitle : "");
  gtk_widget_set_visible (self->sign_out_button, self->session != NULL && !self->locked);
  gtk_widget_set_visible (self->back_button, self->session != NULL && !self->locked && folded && on_overview);
  update_actions (self);
}

/* Runs on the main thread: the sign-in page signed someone in. */
static void
on_signed_in (ThecalSignInPage *page, ThecalRecordSession *session, ThecalWindow *self)
{
  (void) page;
  g_set_object (&self->session, session);
  thecal_overview_page_set_session (THECAL_OVERVIEW_PAGE (self->overview_page), session, self->models, self->library);
  thecal_patients_page_set_session (THECAL_PATIENTS_PAGE (self->patients_page), session);
  gtk_stack_set_visible_child_name (GTK_STACK (self->main_stack), "clinic");
  adw_leaflet_set_visible_child (ADW_LEAFLET (self->leaflet), self->patients_page);
  update_header (self);
  note_activity (self);
  arm_lock_timer (self);
}

/* Runs on the main thread: a patient was chosen in the list. */
static void
on_patient_selected (ThecalPatientsPage *page, ThecalPatientItem *item, ThecalWindow *self)
{
  (void) page;
  if (self->demo_world != NULL)
    {
      const ThecalDemoPatient *demo_patient = thecal_demo_patient_find (thecal_patient_item_get_mrn (item));

      /* the fault buttons act on the selected patient's own simulated pump */
      thecal_demo_controls_set_serial (THECAL_DEMO_CONTROLS (self->demo_controls), demo_patient != NULL ? demo_patient->serial : NULL);
    }
  if (g_strcmp0 (thecal_overview_page_get_mrn (THECAL_OVERVIEW_PAGE (self->overview_page)), thecal_patient_item_get_mrn (item)) != 0)
    thecal_overview_page_set_patient (THECAL_OVERVIEW_PAGE (self->overview_page), item);
  adw_leaflet_set_visible_child (ADW_LEAFLET (self->leaflet), self->overview_page);
  update_header (self);
}

/* Runs on the main thread: the back button of a folded window. */
static void
on_back_clicked (ThecalWindow *self)
{
  adw_leaflet_set_visible_child (ADW_LEAFLET (self->leaflet), self->patients_page);
  update_header (self);
}

/* Runs on the main thread: the sign-out button, or the win.sign-out action. */
static void
on_sign_out_clicked (ThecalWindow *self)
{
  thecal_window_sign_out (self);
}

/* ---- Lock after inactivity ------------------------------------------------------------------ */

static gint64
lock_timeout_ms (ThecalWindow *self)
{
  if (self->lock_timeout_ms > 0)
    return self->lock_timeout_ms;
  return (gint64) thecal_settings_get_timeout_minutes (self->settings) * 60 * 1000;
}

/* Runs on the main thread: the inactivity timer fired; locks if nothing happened since it was
 * set, else waits for the rest of the timeout from the last input. */
static gboolean
on_lock_timer (gpointer user_data)
{
  ThecalWindow *self = user_data;

  self->lock_source = 0;
  if (g_get_monotonic_time () - self->last_activity_us >= lock_timeout_ms (self) * G_TIME_SPAN_MILLISECOND)
    thecal_window_lock (self);
  else
    arm_lock_timer (self);
  return G_SOURCE_REMOVE;
}

static void
arm_lock_timer (ThecalWindow *self)
{
  gint64 remaining_ms;

  g_clear_handle_id (&self->lock_source, g_source_remove);
  if (self->session == NULL || self->locked)
    return;
  remaining_ms = (self->last_activity_us + lock_timeout_ms (self) * G_TIME_SPAN_MILLISECOND - g_get_monotonic_time ())
                 / G_TIME_SPAN_MILLISECOND;
  self->lock_source = g_timeout_add ((guint) CLAMP (remaining_ms + 1, 1, G_MAXUINT), on_lock_timer, self);
}

static void
note_activity (ThecalWindow *self)
{
  /* cheap on every motion event: the timer reads this when it fires */
  self->last_activity_us = g_get_monotonic_time ();
}

void
thecal_window_note_activity (ThecalWindow *self)
{
  g_return_if_fail (THECAL_IS_WINDOW (self));
  note_activity (self);
}

/* Runs on the main thread: any input event of the window or of a dialog over it (a key, the
 * pointer moving, a click, a scroll). Never consumes it. */
static gboolean
on_input_event (GtkEventControllerLegacy *controller, GdkEvent *event, ThecalWindow *self)
{
  (void) controller;
  switch (gdk_event_get_event_type (event))
    {
    case GDK_KEY_PRESS:
    case GDK_BUTTON_PRESS:
    case GDK_MOTION_NOTIFY:
    case GDK_SCROLL:
    case GDK_TOUCH_BEGIN:
    case GDK_TOUCH_UPDATE:
      note_activity (self);
      break;
    case GDK_DELETE:
    case GDK_KEY_RELEASE:
    case GDK_BUTTON_RELEASE:
    case GDK_ENTER_NOTIFY:
    case GDK_LEAVE_NOTIFY:
    case GDK_FOCUS_CHANGE:
    case GDK_PROXIMITY_IN:
    case GDK_PROXIMITY_OUT:
    case GDK_DRAG_ENTER:
    case GDK_DRAG_LEAVE:
    case GDK_DRAG_MOTION:
    case GDK_DROP_START:
    case GDK_TOUCH_END:
    case GDK_TOUCH_CANCEL:
    case GDK_TOUCHPAD_SWIPE:
    case GDK_TOUCHPAD_PINCH:
    case GDK_PAD_BUTTON_PRESS:
    case GDK_PAD_BUTTON_RELEASE:
    case GDK_PAD_RING:
    case GDK_PAD_STRIP:
    case GDK_PAD_GROUP_MODE:
    case GDK_GRAB_BROKEN:
    case GDK_TOUCHPAD_HOLD:
    case GDK_EVENT_LAST:
    default:
      break;
    }
  return GDK_EVENT_PROPAGATE;
}

static void
watch_input (ThecalWindow *self, GtkWidget *window)
{
  GtkEventController *controller;

  if (g_object_get_data (G_OBJECT (window), "thecal-input-watched") != NULL)
    return;
  controller = gtk_event_controller_legacy_new ();
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  g_signal_connect_object (controller, "event", G_CALLBACK (on_input_event), self, 0);
  gtk_widget_add_controller (window, controller);
  g_object_set_data (G_OBJECT (window), "thecal-input-watched", GINT_TO_POINTER (1));
}

/* The visible windows over this one (the refill wizard, the preferences, a patient dialog…). */
static GPtrArray *
dialogs_of (ThecalWindow *self)
{
  g_autoptr (GListModel) toplevels = g_object_ref (gtk_window_get_toplevels ());
  GPtrArray *dialogs = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWindow) window = g_list_model_get_item (toplevels, i);

      if (window != GTK_WINDOW (self) && gtk_window_get_transient_for (window) == GTK_WINDOW (self)
          && gtk_widget_get_visible (GTK_WIDGET (window)))
        g_ptr_array_add (dialogs, g_object_ref (window));
    }
  return dialogs;
}

/* Runs on the main thread: the window lost or gained the focus; when a dialog over it took the
 * focus, input there counts as activity too. */
static void
on_active_changed (ThecalWindow *self)
{
  g_autoptr (GPtrArray) dialogs = dialogs_of (self);

  for (guint i = 0; i < dialogs->len; i++)
    watch_input (self, dialogs->pdata[i]);
}

/* Runs on the main thread, in an idle after a window was made: by then a dialog has its
 * transient parent (@user_data: a reference to the window). */
static gboolean
on_toplevels_settled (gpointer user_data)
{
  g_autoptr (ThecalWindow) self = user_data;

  on_active_changed (self);
  return G_SOURCE_REMOVE;
}

/* Runs on the main thread: a window was made or destroyed anywhere in the app. */
static void
on_toplevels_changed (ThecalWindow *self, guint position, guint removed, guint added)
{
  (void) position;
  (void) removed;
  if (added > 0)
    g_idle_add (on_toplevels_settled, g_object_ref (self));
}

void
thecal_window_lock (ThecalWindow *self)
{
  g_return_if_fail (THECAL_IS_WINDOW (self));

  if (self->session == NULL || self->locked)
    return;
  self->locked = TRUE;
  g_clear_handle_id (&self->lock_source, g_source_remove);
  /* dialogs over the window hide with their state; what they run (a refill being written) goes on */
  g_clear_pointer (&self->hidden_windows, g_ptr_array_unref);
  self->hidden_windows = dialogs_of (self);
  for (guint i = 0; i < self->hidden_windows->len; i++)
    gtk_widget_set_visible (self->hidden_windows->pdata[i], FALSE);
  thecal_lock_page_set_session (THECAL_LOCK_PAGE (self->lock_page), self->session);
  gtk_stack_set_visible_child_name (GTK_STACK (self->main_stack), "locked");
  update_header (self);
  thecal_lock_page_focus (THECAL_LOCK_PAGE (self->lock_page));
}

gboolean
thecal_window_get_locked (ThecalWindow *self)
{
  g_return_val_if_fail (THECAL_IS_WINDOW (self), FALSE);
  return self->locked;
}

void
thecal_window_set_lock_timeout_ms (ThecalWindow *self, gint64 timeout_ms)
{
  g_return_if_fail (THECAL_IS_WINDOW (self));
  self->lock_timeout_ms = timeout_ms;
  arm_lock_timer (self);
}

ThecalLockPage *
thecal_window_get_lock_page (ThecalWindow *self)
{
  g_return_val_if_fail (THECAL_IS_WINDOW (self), NULL);
  return THECAL_LOCK_PAGE (self->lock_page);
}

/* @window was not destroyed meanwhile (a destroyed window leaves the list of toplevels). */
static gboolean
still_open (GtkWindow *window)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWindow) toplevel = g_list_model_get_item (toplevels, i);

      if (toplevel == window)
        return TRUE;
    }
  return FALSE;
}

static void
destroy_dialogs (ThecalWindow *self)
{
  g_autoptr (GPtrArray) dialogs = dialogs_of (self);

  for (guint i = 0; self->hidden_windows != NULL && i < self->hidden_windows->len; i++)
    if (still_open (self->hidden_windows->pdata[i]))
      gtk_window_destroy (self->hidden_windows->pdata[i]);
  g_clear_pointer (&self->hidden_windows, g_ptr_array_unref);
  for (guint i = 0; i < dialogs->len; i++)
    gtk_window_destroy (dialogs->pdata[i]);
}

/* Runs on the main thread: the signed-in user typed their password on the lock page. */
static void
on_unlocked (ThecalWindow *self)
{
  if (!self->locked)
    return;
  self->locked = FALSE;
  gtk_stack_set_visible_child_name (GTK_STACK (self->main_stack), "clinic");
  update_header (self);
  for (guint i = 0; self->hidden_windows != NULL && i < self->hidden_windows->len; i++)
    if (still_open (self->hidden_windows->pdata[i]))
      gtk_window_present (self->hidden_windows->pdata[i]);
  g_clear_pointer (&self->hidden_windows, g_ptr_array_unref);
  note_activity (self);
  arm_lock_timer (self);
}

/* A pump operation that signing the user out would cut short: a connection or a refill being
 * written. */
static gboolean
pump_operation_under_way (ThecalWindow *self)
{
  if (thecal_overview_page_get_busy (THECAL_OVERVIEW_PAGE (self->overview_page)))
    return TRUE;
  for (guint i = 0; self->hidden_windows != NULL && i < self->hidden_windows->len; i++)
    if (THECAL_IS_REFILL_WIZARD (self->hidden_windows->pdata[i])
        && g_strcmp0 (thecal_refill_wizard_get_page (self->hidden_windows->pdata[i]), "progress") == 0)
      return TRUE;
  return FALSE;
}

/* Runs on the main thread: another person asks to sign in on the lock page. */
static void
on_switch_requested (ThecalWindow *self)
{
  const ThecalUser *user = self->session != NULL ? thecal_record_session_get_user (self->session) : NULL;

  if (user != NULL && pump_operation_under_way (self))
    {
      g_autofree char *message = g_strdup_printf (_ ("A pump operation of %s is under way: wait until it ends (then try again), "
                                                     "or unlock as %s."),
                                                  user->full_name, user->full_name);

      thecal_lock_page_set_switch_error (THECAL_LOCK_PAGE (self->lock_page), message);
      return;
    }
  thecal_lock_page_switch_user (THECAL_LOCK_PAGE (self->lock_page));
}

/* Runs on the main thread: another person signed in on the lock page: the first is signed out. */
static void
on_lock_signed_in (ThecalLockPage *page, ThecalRecordSession *session, ThecalWindow *self)
{
  (void) page;
  g_object_ref (session);
  thecal_window_sign_out (self);
  on_signed_in (NULL, session, self);
  g_object_unref (session);
}

/* ---- Actions -------------------------------------------------------------------------------- */

/* Runs on the main thread: win.lock (Ctrl+L, the primary menu). */
static void
on_lock_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  (void) action;
  (void) parameter;
  thecal_window_lock (user_data);
}

/* Runs on the main thread: win.sign-out (Ctrl+Shift+L, the primary menu). */
static void
on_sign_out_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  (void) action;
  (void) parameter;
  thecal_window_sign_out (user_data);
}

/* Runs on the main thread: win.preferences (Ctrl+comma, the primary menu). */
static void
on_preferences_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  (void) action;
  (void) parameter;
  thecal_window_open_preferences (user_data);
}

/* Runs on the main thread: win.search (Ctrl+F): the patients' search field, in view. */
static void
on_search_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  ThecalWindow *self = user_data;

  (void) action;
  (void) parameter;
  adw_leaflet_set_visible_child (ADW_LEAFLET (self->leaflet), self->patients_page);
  thecal_patients_page_focus_search (THECAL_PATIENTS_PAGE (self->patients_page));
}

/* Runs on the main thread: win.add-patient (Ctrl+N), win.edit-patient (Ctrl+E). */
static void
on_add_patient_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  ThecalWindow *self = user_data;

  (void) action;
  (void) parameter;
  thecal_patients_page_open_add (THECAL_PATIENTS_PAGE (self->patients_page));
}

static void
on_edit_patient_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  ThecalWindow *self = user_data;

  (void) action;
  (void) parameter;
  thecal_patients_page_open_edit (THECAL_PATIENTS_PAGE (self->patients_page));
}

/* Runs on the main thread: win.connect (Ctrl+R), win.refill (Ctrl+Shift+R): the overview's
 * buttons (each does nothing when the overview could not: no patient, not connected). */
static void
on_connect_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  ThecalWindow *self = user_data;

  (void) action;
  (void) parameter;
  thecal_overview_page_connect (THECAL_OVERVIEW_PAGE (self->overview_page));
}

static void
on_refill_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  ThecalWindow *self = user_data;

  (void) action;
  (void) parameter;
  thecal_overview_page_open_refill (THECAL_OVERVIEW_PAGE (self->overview_page));
}

GtkWidget *
thecal_window_open_preferences (ThecalWindow *self)
{
  ThecalPreferencesWindow *preferences;

  g_return_val_if_fail (THECAL_IS_WINDOW (self), NULL);
  if (self->locked)
    return NULL;
  preferences = thecal_preferences_window_new (self->settings, self->session);
  gtk_window_set_transient_for (GTK_WINDOW (preferences), GTK_WINDOW (self));
  watch_input (self, GTK_WIDGET (preferences));
  gtk_window_present (GTK_WINDOW (preferences));
  return GTK_WIDGET (preferences);
}

/* Runs on the main thread: the inactivity timeout changed in the preferences. */
static void
on_timeout_changed (ThecalWindow *self)
{
  arm_lock_timer (self);
}

static void
install_actions (ThecalWindow *self)
{
  static const GActionEntry entries[] = {
    { .name = "lock", .activate = on_lock_action },
    { .name = "sign-out", .activate = on_sign_out_action },
    { .name = "preferences", .activate = on_preferences_action },
    { .name = "search", .activate = on_search_action },
    { .name = "add-patient", .activate = on_add_patient_action },
    { .name = "edit-patient", .activate = on_edit_patient_action },
    { .name = "connect", .activate = on_connect_action },
    { .name = "refill", .activate = on_refill_action },
  };
  g_autoptr (GtkBuilder) builder = gtk_builder_new_from_resource ("/org/thecal/Programmer/ui/thecal-shortcuts.ui");
  GtkEventController *shortcuts = gtk_shortcut_controller_new ();

  g_action_map_add_action_entries (G_ACTION_MAP (self), entries, G_N_ELEMENTS (entries), self);
  /* win.show-help-overlay: GtkApplicationWindow adds it with the shortcuts window */
  gtk_application_window_set_help_overlay (GTK_APPLICATION_WINDOW (self), GTK_SHORTCUTS_WINDOW (gtk_builder_get_object (builder, "help_overlay")));
  /* the window's own shortcuts, so that they work with or without a GtkApplication (the tests
   * make windows without one); app.quit is the application's */
  for (const ThecalWindowAccel *accel = accels; accel->action != NULL; accel++)
    if (g_str_has_prefix (accel->action, "win."))
      gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                            gtk_shortcut_new (gtk_shortcut_trigger_parse_string (accel->accel),
                                                              gtk_named_action_new (accel->action)));
  gtk_widget_add_controller (GTK_WIDGET (self), shortcuts);
  watch_input (self, GTK_WIDGET (self));
  g_signal_connect_swapped (self, "notify::is-active", G_CALLBACK (on_active_changed), self);
  g_signal_connect_object (gtk_window_get_toplevels (), "items-changed", G_CALLBACK (on_toplevels_changed), self, G_CONNECT_SWAPPED);
  self->settings = thecal_settings_new ();
  if (self->settings != NULL)
    g_signal_connect_object (self->settings, "changed::inactivity-timeout-minutes", G_CALLBACK (on_timeout_changed), self,
                             G_CONNECT_SWAPPED);
}

void
thecal_window_sign_out (ThecalWindow *self)
{
  g_return_if_fail (THECAL_IS_WINDOW (self));

  g_clear_handle_id (&self->lock_source, g_source_remove);
  self->locked = FALSE;
  thecal_lock_page_set_session (THECAL_LOCK_PAGE (self->lock_page), NULL);
  thecal_overview_page_set_session (THECAL_OVERVIEW_PAGE (self->overview_page), NULL, NULL, NULL);
  /* what was open over the window belonged to the user who leaves */
  destroy_dialogs (self);
  thecal_patients_page_set_session (THECAL_PATIENTS_PAGE (self->patients_page), NULL);
  thecal_demo_controls_set_serial (THECAL_DEMO_CONTROLS (self->demo_controls), NULL);
  g_clear_object (&self->session);
  thecal_sign_in_page_reset (THECAL_SIGN_IN_PAGE (self->sign_in_page));
  gtk_stack_set_visible_child_name (GTK_STACK (self->main_stack), "sign-in");
  update_header (self);
}

void
thecal_window_set_record (ThecalWindow *self, ThecalRecord *record)
{
  g_return_if_fail (THECAL_IS_WINDOW (self));
  thecal_sign_in_page_set_record (THECAL_SIGN_IN_PAGE (self->sign_in_page), record);
}

void
thecal_window_set_status (ThecalWindow *self, const char *status, gboolean error)
{
  g_return_if_fail (THECAL_IS_WINDOW (self));
  if (error)
    thecal_sign_in_page_set_error (THECAL_SIGN_IN_PAGE (self->sign_in_page), status);
  else
    thecal_sign_in_page_set_status (THECAL_SIGN_IN_PAGE (self->sign_in_page), status);
}

ThecalSignInPage *
thecal_window_get_sign_in_page (ThecalWindow *self)
{
  g_return_val_if_fail (THECAL_IS_WINDOW (self), NULL);
  return THECAL_SIGN_IN_PAGE (self->sign_in_page);
}

ThecalPatientsPage *
thecal_window_get_patients_page (ThecalWindow *self)
{
  g_return_val_if_fail (THECAL_IS_WINDOW (self), NULL);
  return THECAL_PATIENTS_PAGE (self->patients_page);
}

ThecalOverviewPage *
thecal_window_get_overview_page (ThecalWindow *self)
{
  g_return_val_if_fail (THECAL_IS_WINDOW (self), NULL);
  return THECAL_OVERVIEW_PAGE (self->overview_page);
}

ThecalDemoWorld *
thecal_window_get_demo_world (ThecalWindow *self)
{
  g_return_val_if_fail (THECAL_IS_WINDOW (self), NULL);
  return self->demo_world;
}

void
thecal_window_set_demo_world (ThecalWindow *self, ThecalDemoWorld *world)
{
  g_return_if_fail (THECAL_IS_WINDOW (self));
  g_return_if_fail (self->demo);
  g_return_if_fail (THECAL_IS_DEMO_WORLD (world));
  g_set_object (&self->demo_world, world);
  thecal_demo_controls_set_world (THECAL_DEMO_CONTROLS (self->demo_controls), world);
  thecal_wand_status_set_world (THECAL_WAND_STATUS (self->wand_status), world);
  thecal_overview_page_set_demo_world (THECAL_OVERVIEW_PAGE (self->overview_page), world);
  thecal_patients_page_set_demo_world (THECAL_PATIENTS_PAGE (self->patients_page), world);
  gtk_widget_set_visible (self->demo_controls, TRUE);
}

ThecalDemoControls *
thecal_window_get_demo_controls (ThecalWindow *self)
{
  g_return_val_if_fail (THECAL_IS_WINDOW (self), NULL);
  return THECAL_DEMO_CONTROLS (self->demo_controls);
}

ThecalWandStatus *
thecal_window_get_wand_status (ThecalWindow *self)
{
  g_return_val_if_fail (THECAL_IS_WINDOW (self), NULL);
  return THECAL_WAND_STATUS (self->wand_status);
}

ThecalRecordSession *
thecal_window_get_session (ThecalWindow *self)
{
  g_return_val_if_fail (THECAL_IS_WINDOW (self), NULL);
  return self->session;
}

static void
thecal_window_dispose (GObject *object)
{
  ThecalWindow *self = THECAL_WINDOW (object);

  g_clear_handle_id (&self->lock_source, g_source_remove);
  g_clear_pointer (&self->hidden_windows, g_ptr_array_unref);
  g_clear_object (&self->settings);
  g_clear_object (&self->session);
  g_clear_object (&self->demo_world);
  G_OBJECT_CLASS (thecal_window_parent_class)->dispose (object);
}

static void
thecal_window_finalize (GObject *object)
{
  ThecalWindow *self = THECAL_WINDOW (object);

  g_free (self->models);
  g_free (self->library);
  G_OBJECT_CLASS (thecal_window_parent_class)->finalize (object);
}

static void
thecal_window_class_init (ThecalWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = thecal_window_dispose;
  object_class->finalize = thecal_window_finalize;

  g_type_ensure (THECAL_TYPE_SIGN_IN_PAGE);
  g_type_ensure (THECAL_TYPE_PATIENTS_PAGE);
  g_type_ensure (THECAL_TYPE_OVERVIEW_PAGE);
  g_type_ensure (THECAL_TYPE_LOCK_PAGE);
  g_type_ensure (THECAL_TYPE_WAND_STATUS);
  g_type_ensure (THECAL_TYPE_DEMO_CONTROLS);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/thecal/Programmer/ui/thecal-window.ui");
  gtk_widget_class_bind_template_child (widget_class, ThecalWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, ThecalWindow, back_button);
  gtk_widget_class_bind_template_child (widget_class, ThecalWindow, sign_out_button);
  gtk_widget_class_bind_template_child (widget_class, ThecalWindow, demo_banner);
  gtk_widget_class_bind_template_child (widget_class, ThecalWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, ThecalWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, ThecalWindow, sign_in_page);
  gtk_widget_class_bind_template_child (widget_class, ThecalWindow, patients_page);
  gtk_widget_class_bind_template_child (widget_class, ThecalWindow, overview_page);
  gtk_widget_class_bind_template_child (widget_class, ThecalWindow, lock_page);
  gtk_widget_class_bind_template_child (widget_class, ThecalWindow, wand_status);
  gtk_widget_class_bind_template_child (widget_class, ThecalWindow, demo_controls);
  gtk_widget_class_bind_template_callback (widget_class, on_signed_in);
  gtk_widget_class_bind_template_callback (widget_class, on_patient_selected);
  gtk_widget_class_bind_template_callback (widget_class, on_back_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_sign_out_clicked);
  gtk_widget_class_bind_template_callback (widget_class, update_header);
  gtk_widget_class_bind_template_callback (widget_class, on_unlocked);
  gtk_widget_class_bind_template_callback (widget_class, on_switch_requested);
  gtk_widget_class_bind_template_callback (widget_class, on_lock_signed_in);
}

static void
thecal_window_init (ThecalWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  install_actions (self);
  update_actions (self);
}

/* Runs on the main thread: outside demo mode, the header watches the wand of the preferences'
 * VID:PID ("wand-usb-id"; the default when it is not a valid ID, which the preferences refuse to
 * write), and again when it changes. */
static void
watch_usb_wand (ThecalWindow *self)
{
  g_autofree char *wand_id = self->settings != NULL ? g_settings_get_string (self->settings, "wand-usb-id") : NULL;
  guint16 vid = THECAL_USB_WAND_VID, pid = THECAL_USB_WAND_PID;

  if (wand_id == NULL || !thecal_settings_parse_wand_id (wand_id, &vid, &pid, NULL))
    {
      vid = THECAL_USB_WAND_VID;
      pid = THECAL_USB_WAND_PID;
    }
  thecal_wand_status_watch_usb (THECAL_WAND_STATUS (self->wand_status), vid, pid);
}

ThecalWindow *
thecal_window_new (AdwApplication *application, gboolean demo, const ThecalPumpModelSet *models, const ThecalDrugLibrary *library)
{
  ThecalWindow *self = g_object_new (THECAL_TYPE_WINDOW, "application", application, NULL);

  self->demo = demo;
  self->models = g_memdup2 (models, sizeof *models);
  thecal_patients_page_set_pump_models (THECAL_PATIENTS_PAGE (self->patients_page), models);
  self->library = g_memdup2 (library, sizeof *library);
  gtk_widget_set_visible (self->demo_banner, demo);
  if (demo)
    adw_window_title_set_title (ADW_WINDOW_TITLE (self->window_title), _ ("Thecal Demo"));
  if (demo)
    {
      /* one simulated pump per demo patient for the whole session, on one demo clock */
      g_autoptr (ThecalDemoWorld) world = thecal_demo_world_new (models);

      thecal_window_set_demo_world (self, world);
    }
  else
    {
      watch_usb_wand (self);
      if (self->settings != NULL)
        g_signal_connect_object (self->settings, "changed::wand-usb-id", G_CALLBACK (watch_usb_wand), self, G_CONNECT_SWAPPED);
    }
  thecal_overview_page_set_wand_status (THECAL_OVERVIEW_PAGE (self->overview_page), THECAL_WAND_STATUS (self->wand_status));
  update_header (self);
  return self;
}
