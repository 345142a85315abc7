/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-application.c: see thecal-application.h.
 */
#include "config.h"

#include "thecal-application.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "thecal-demo.h"
#include "thecal-dose-json.h"
#include "thecal-resources.h"
#include "thecal-settings.h"
#include "thecal-window.h"

struct _ThecalApplication
{
  AdwApplication parent_instance;

  gboolean demo;
  char *demo_dir; /* the demo record's temporary directory, removed at shutdown */
  ThecalPumpModelSet *models;
  ThecalDrugLibrary *library;
  char *data_error; /* why the data files could not be loaded, or NULL */
  ThecalRecord *record;
  ThecalWindow *window; /* weak */
};

G_DEFINE_FINAL_TYPE (ThecalApplication, thecal_application, ADW_TYPE_APPLICATION)

void
thecal_application_register_resources (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      thecal_register_resource ();
      g_once_init_leave (&once, 1);
    }
}

static gboolean
load_file (const char *name, gboolean library, void *target, GError **error)
{
  const char *dir = g_getenv ("THECAL_DATA_DIR");
  /* @name: a file of the data directory, or a full path (the drug library chosen in the preferences) */
  g_autofree char *path = g_path_is_absolute (name) ? g_strdup (name)
                                                    : g_build_filename (dir != NULL && dir[0] != '\0' ? dir : THECAL_PKGDATADIR, name, NULL);
  g_autofree char *contents = NULL;
  gsize length = 0;
  ThecalDoseError dose_error;
  gboolean loaded;

  if (!g_file_get_contents (path, &contents, &length, error))
    return FALSE;
  thecal_dose_error_clear (&dose_error);
  loaded = library ? thecal_drug_library_load_json (contents, length, target, &dose_error)
                   : thecal_pump_models_load_json (contents, length, target, &dose_error);
  if (!loaded)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s%s%s", path, dose_error.field,
                   dose_error.field[0] != '\0' ? ": " : "", dose_error.message);
      return FALSE;
    }
  return TRUE;
}

gboolean
thecal_application_load_data (ThecalPumpModelSet *models, ThecalDrugLibrary *library, GError **error)
{
  g_autofree char *library_path = thecal_settings_dup_drug_library_path ();

  return load_file ("pump-models.json", FALSE, models, error)
         && load_file (library_path != NULL ? library_path : "drug-library.json", TRUE, library, error);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) folder = g_dir_open (path, 0, NULL);
  const char *name;

  while (folder != NULL && (name = g_dir_read_name (folder)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

/* Runs on the main thread: the record is open (or could not be). @user_data: the application
 * (a reference, held so it does not quit while the record's thread works). */
static void
on_record_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (ThecalApplication) self = user_data;
  g_autoptr (GError) error = NULL;

  (void) source;
  self->record = self->demo ? thecal_demo_record_create_finish (result, &error) : thecal_record_open_finish (result, &error);
  g_application_release (G_APPLICATION (self));
  if (self->window == NULL)
    return;
  if (self->record == NULL)
    {
      thecal_window_set_status (self->window, error->message, TRUE);
      return;
    }
  thecal_window_set_record (self->window, self->record);
}

static void
open_record (ThecalApplication *self)
{
  g_autoptr (GError) error = NULL;

  g_application_hold (G_APPLICATION (self));
  if (self->demo)
    {
      g_autofree char *path = NULL;

      self->demo_dir = g_dir_make_tmp ("thecal-demo-XXXXXX", &error);
      if (self->demo_dir == NULL)
        {
          g_application_release (G_APPLICATION (self));
          thecal_window_set_status (self->window, error->message, TRUE);
          return;
        }
      path = g_build_filename (self->demo_dir, "demo-record.sqlite", NULL);
      thecal_window_set_status (self->window, _ ("Preparing the demo record: six patients on simulated pumps…"), FALSE);
      thecal_demo_record_create_async (path, 0, NULL, on_record_ready, g_object_ref (self));
    }
  else
    {
      g_autofree char *path = thecal_record_default_path ();
      g_autofree char *dir = g_path_get_dirname (path);

      if (g_mkdir_with_parents (dir, 0700) != 0)
        {
          g_application_release (G_APPLICATION (self));
          thecal_window_set_status (self->window, g_strerror (errno), TRUE);
          return;
        }
      thecal_window_set_status (self->window, _ ("Opening the record…"), FALSE);
      thecal_record_open_async (path, THECAL_RECORD_OPEN_CREATE, NULL, on_record_ready, g_object_ref (self));
    }
}

/* Runs on the main thread: the first instance was asked to show itself. */
static void
thecal_application_activate (GApplication *application)
{
  ThecalApplication *self = THECAL_APPLICATION (application);

  if (self->window != NULL)
    {
      gtk_window_present (GTK_WINDOW (self->window));
      return;
    }
  self->window = thecal_window_new (ADW_APPLICATION (self), self->demo, self->models, self->library);
  g_object_add_weak_pointer (G_OBJECT (self->window), (gpointer *) &self->window);
  gtk_window_present (GTK_WINDOW (self->window));
  if (self->data_error != NULL)
    thecal_window_set_status (self->window, self->data_error, TRUE);
  else
    open_record (self);
}

/* Runs on the main thread, once, before the first activation. */
static void
thecal_application_startup (GApplication *application)
{
  ThecalApplication *self = THECAL_APPLICATION (application);
  g_autoptr (GError) error = NULL;

  thecal_application_register_resources ();
  G_APPLICATION_CLASS (thecal_application_parent_class)->startup (application);
  if (!thecal_application_load_data (self->models, self->library, &error))
    self->data_error = g_strdup (error->message);
  gtk_window_set_default_icon_name (THECAL_APP_ID);
}

/* Runs on the main thread when the main loop ends: the demo record goes away with its directory. */
static void
thecal_application_shutdown (GApplication *application)
{
  ThecalApplication *self = THECAL_APPLICATION (application);

  g_clear_object (&self->record);
  if (self->demo_dir != NULL)
    remove_tree (self->demo_dir);
  g_clear_pointer (&self->demo_dir, g_free);
  G_APPLICATION_CLASS (thecal_application_parent_class)->shutdown (application);
}

/* Runs on the main thread, in the process that was started: --demo. */
static gint
thecal_application_handle_local_options (GApplication *application, GVariantDict *options)
{
  ThecalApplication *self = THECAL_APPLICATION (application);

  if (g_variant_dict_contains (options, "demo"))
    {
      self->demo = TRUE;
      /* a demo instance is its own process: it never joins (or becomes) the clinic's instance */
      g_application_set_flags (application, g_application_get_flags (application) | G_APPLICATION_NON_UNIQUE);
    }
  return -1;
}

static void
thecal_application_finalize (GObject *object)
{
  ThecalApplication *self = THECAL_APPLICATION (object);

  g_clear_object (&self->record);
  g_free (self->demo_dir);
  g_free (self->models);
  g_free (self->library);
  g_free (self->data_error);
  G_OBJECT_CLASS (thecal_application_parent_class)->finalize (object);
}

static void
thecal_application_class_init (ThecalApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = thecal_application_finalize;
  app_class->activate = thecal_application_activate;
  app_class->startup = thecal_application_startup;
  app_class->shutdown = thecal_application_shutdown;
  app_class->handle_local_options = thecal_application_handle_local_options;
}

/* Runs on the main thread: app.quit (Ctrl+Q). */
static void
on_quit (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  (void) action;
  (void) parameter;
  g_application_quit (G_APPLICATION (user_data));
}

static void
thecal_application_init (ThecalApplication *self)
{
  static const GOptionEntry entries[] = {
    { "demo", 0, 0, G_OPTION_ARG_NONE, NULL,
      N_ ("Open a separate demo record (in a temporary directory) with six patients on simulated pumps"), NULL },
    G_OPTION_ENTRY_NULL
  };
  static const GActionEntry actions[] = {
    { .name = "quit", .activate = on_quit },
  };
  static const char *const quit_accels[] = { "<Control>q", NULL };

  self->models = g_new0 (ThecalPumpModelSet, 1);
  self->library = g_new0 (ThecalDrugLibrary, 1);
  g_application_add_main_option_entries (G_APPLICATION (self), entries);
  g_action_map_add_action_entries (G_ACTION_MAP (self), actions, G_N_ELEMENTS (actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
}

ThecalApplication *
thecal_application_new (void)
{
  return g_object_new (THECAL_TYPE_APPLICATION, "application-id", THECAL_APP_ID, "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", "/org/thecal/Programmer", NULL);
}
