/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-preferences-window.c: see thecal-preferences-window.h.
 */
#include "config.h"

#include "thecal-preferences-window.h"

#include <glib/gi18n.h>

#include "thecal-settings.h"

struct _ThecalPreferencesWindow
{
  AdwPreferencesWindow parent_instance;

  GtkWidget *missing_group;
  GtkWidget *timeout_row;
  GtkWidget *timeout_error;
  GtkWidget *wand_row;
  GtkWidget *wand_error;
  GtkWidget *library_row;
  GtkWidget *library_error;

  GSettings *settings;
  ThecalRecordSession *session;
};

G_DEFINE_FINAL_TYPE (ThecalPreferencesWindow, thecal_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

static void
show_error (GtkWidget *label, const char *message)
{
  gtk_label_set_text (GTK_LABEL (label), message != NULL ? message : "");
  gtk_widget_set_visible (label, message != NULL);
}

static gboolean
refuse (GtkWidget *label, GError *error)
{
  show_error (label, error->message);
  return FALSE;
}

/* Writes what the checks accepted; FALSE (with the reason under the field) when the settings
 * cannot take it. */
static gboolean
write_checked (ThecalPreferencesWindow *self, GtkWidget *error_label, gboolean written)
{
  if (self->settings == NULL)
    {
      show_error (error_label, _ ("Not saved: the settings schema is not installed."));
      return FALSE;
    }
  if (!written)
    {
      show_error (error_label, _ ("Not saved: this setting cannot be changed here (locked by the system administrator)."));
      return FALSE;
    }
  show_error (error_label, NULL);
  return TRUE;
}

static gboolean
apply_timeout (ThecalPreferencesWindow *self)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  guint minutes = 0;

  if (!thecal_settings_parse_timeout (gtk_editable_get_text (GTK_EDITABLE (self->timeout_row)), &minutes, &error))
    return refuse (self->timeout_error, error);
  if (!write_checked (self, self->timeout_error,
                      self->settings != NULL && g_settings_set_uint (self->settings, "inactivity-timeout-minutes", minutes)))
    return FALSE;
  text = g_strdup_printf ("%u", minutes);
  gtk_editable_set_text (GTK_EDITABLE (self->timeout_row), text);
  return TRUE;
}

static gboolean
apply_wand (ThecalPreferencesWindow *self)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  guint16 vid = 0, pid = 0;

  if (!thecal_settings_parse_wand_id (gtk_editable_get_text (GTK_EDITABLE (self->wand_row)), &vid, &pid, &error))
    return refuse (self->wand_error, error);
  text = g_strdup_printf ("%04x:%04x", vid, pid);
  if (!write_checked (self, self->wand_error, self->settings != NULL && g_settings_set_string (self->settings, "wand-usb-id", text)))
    return FALSE;
  gtk_editable_set_text (GTK_EDITABLE (self->wand_row), text);
  return TRUE;
}

static gboolean
apply_library (ThecalPreferencesWindow *self)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->library_row))));
  const ThecalUser *user = self->session != NULL ? thecal_record_session_get_user (self->session) : NULL;

  /* who may: the workflow's permission table (drug_library.edit), never a rule of the GUI's own */
  if (user == NULL)
    {
      show_error (self->library_error, _ ("Drug library file: sign in as an administrator to change it."));
      return FALSE;
    }
  if (!thecal_permission_check (user, THECAL_PERMISSION_DRUG_LIBRARY_EDIT, &error))
    return refuse (self->library_error, error);
  if (!thecal_settings_check_drug_library (path, &error))
    return refuse (self->library_error, error);
  if (!write_checked (self, self->library_error,
                      self->settings != NULL && g_settings_set_string (self->settings, "drug-library-path", path)))
    return FALSE;
  gtk_editable_set_text (GTK_EDITABLE (self->library_row), path);
  return TRUE;
}

/* Runs on the main thread: Enter or the apply button of a row. */
static void
on_timeout_apply (ThecalPreferencesWindow *self)
{
  apply_timeout (self);
}

static void
on_wand_apply (ThecalPreferencesWindow *self)
{
  apply_wand (self);
}

static void
on_library_apply (ThecalPreferencesWindow *self)
{
  apply_library (self);
}

static GtkWidget *
row_of (ThecalPreferencesWindow *self, const char *key, GtkWidget **error_label)
{
  GtkWidget *row = NULL;

  if (g_strcmp0 (key, "inactivity-timeout-minutes") == 0)
    row = self->timeout_row, *error_label = self->timeout_error;
  else if (g_strcmp0 (key, "wand-usb-id") == 0)
    row = self->wand_row, *error_label = self->wand_error;
  else if (g_strcmp0 (key, "drug-library-path") == 0)
    row = self->library_row, *error_label = self->library_error;
  return row;
}

gboolean
thecal_preferences_window_apply (ThecalPreferencesWindow *self, const char *key, const char *text)
{
  GtkWidget *error_label = NULL;
  GtkWidget *row;

  g_return_val_if_fail (THECAL_IS_PREFERENCES_WINDOW (self), FALSE);
  row = row_of (self, key, &error_label);
  g_return_val_if_fail (row != NULL, FALSE);
  gtk_editable_set_text (GTK_EDITABLE (row), text);
  if (row == self->timeout_row)
    return apply_timeout (self);
  if (row == self->wand_row)
    return apply_wand (self);
  return apply_library (self);
}

char *
thecal_preferences_window_dup_text (ThecalPreferencesWindow *self, const char *key)
{
  GtkWidget *error_label = NULL;
  GtkWidget *row;

  g_return_val_if_fail (THECAL_IS_PREFERENCES_WINDOW (self), NULL);
  row = row_of (self, key, &error_label);
  return row != NULL ? g_strdup (gtk_editable_get_text (GTK_EDITABLE (row))) : NULL;
}

char *
thecal_preferences_window_dup_error (ThecalPreferencesWindow *self, const char *key)
{
  GtkWidget *error_label = NULL;

  g_return_val_if_fail (THECAL_IS_PREFERENCES_WINDOW (self), NULL);
  if (row_of (self, key, &error_label) == NULL)
    return NULL;
  return g_strdup (gtk_widget_get_visible (error_label) ? gtk_label_get_text (GTK_LABEL (error_label)) : "");
}

static void
thecal_preferences_window_dispose (GObject *object)
{
  ThecalPreferencesWindow *self = THECAL_PREFERENCES_WINDOW (object);

  g_clear_object (&self->settings);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (thecal_preferences_window_parent_class)->dispose (object);
}

static void
thecal_preferences_window_class_init (ThecalPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = thecal_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/thecal/Programmer/ui/thecal-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, ThecalPreferencesWindow, missing_group);
  gtk_widget_class_bind_template_child (widget_class, ThecalPreferencesWindow, timeout_row);
  gtk_widget_class_bind_template_child (widget_class, ThecalPreferencesWindow, timeout_error);
  gtk_widget_class_bind_template_child (widget_class, ThecalPreferencesWindow, wand_row);
  gtk_widget_class_bind_template_child (widget_class, ThecalPreferencesWindow, wand_error);
  gtk_widget_class_bind_template_child (widget_class, ThecalPreferencesWindow, library_row);
  gtk_widget_class_bind_template_child (widget_class, ThecalPreferencesWindow, library_error);
  gtk_widget_class_bind_template_callback (widget_class, on_timeout_apply);
  gtk_widget_class_bind_template_callback (widget_class, on_wand_apply);
  gtk_widget_class_bind_template_callback (widget_class, on_library_apply);
}

static void
thecal_preferences_window_init (ThecalPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

ThecalPreferencesWindow *
thecal_preferences_window_new (GSettings *settings, ThecalRecordSession *session)
{
  ThecalPreferencesWindow *self = g_object_new (THECAL_TYPE_PREFERENCES_WINDOW, NULL);
  g_autofree char *timeout = g_strdup_printf ("%u", thecal_settings_get_timeout_minutes (settings));
  g_autofree char *wand = settings != NULL ? g_settings_get_string (settings, "wand-usb-id") : g_strdup (THECAL_WAND_USB_ID_DEFAULT);
  g_autofree char *library = settings != NULL ? g_settings_get_string (settings, "drug-library-path") : g_strdup ("");
  const ThecalUser *user = session != NULL ? thecal_record_session_get_user (session) : NULL;
  g_autoptr (GError) denied = NULL;

  self->settings = settings != NULL ? g_object_ref (settings) : NULL;
  self->session = session != NULL ? g_object_ref (session) : NULL;
  gtk_widget_set_visible (self->missing_group, settings == NULL);
  gtk_editable_set_text (GTK_EDITABLE (self->timeout_row), timeout);
  gtk_editable_set_text (GTK_EDITABLE (self->wand_row), wand);
  gtk_editable_set_text (GTK_EDITABLE (self->library_row), library);
  /* only an administrator may type a drug library: anyone else reads why not under the field */
  if (user == NULL || !thecal_permission_check (user, THECAL_PERMISSION_DRUG_LIBRARY_EDIT, &denied))
    {
      gtk_editable_set_editable (GTK_EDITABLE (self->library_row), FALSE);
      adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (self->library_row), FALSE);
      show_error (self->library_error, denied != NULL ? denied->message : _ ("Drug library file: sign in as an administrator to change it."));
    }
  return self;
}
