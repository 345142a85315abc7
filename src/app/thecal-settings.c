/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-settings.c: see thecal-settings.h.
 */
#include "config.h"

#include "thecal-settings.h"

#include <glib/gi18n.h>
#include <string.h>

#include "thecal-dose-json.h"

GSettings *
thecal_settings_new (void)
{
  GSettingsSchemaSource *installed = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = installed != NULL ? g_settings_schema_source_lookup (installed, THECAL_APP_ID, TRUE) : NULL;

  if (schema == NULL && g_file_test (THECAL_BUILD_SCHEMA_DIR "/gschemas.compiled", G_FILE_TEST_IS_REGULAR))
    {
      /* an uninstalled build: the schema data/meson.build compiled into the build directory */
      g_autoptr (GSettingsSchemaSource) build = g_settings_schema_source_new_from_directory (THECAL_BUILD_SCHEMA_DIR, installed, FALSE, NULL);

      if (build != NULL)
        schema = g_settings_schema_source_lookup (build, THECAL_APP_ID, FALSE);
    }
  if (schema == NULL)
    return NULL;
  return g_settings_new_full (schema, NULL, NULL);
}

gboolean
thecal_settings_parse_timeout (const char *text, guint *minutes, GError **error)
{
  g_autofree char *stripped = g_strstrip (g_strdup (text != NULL ? text : ""));
  guint64 value = 0;

  if (stripped[0] == '\0' || !g_ascii_string_to_unsigned (stripped, 10, 0, G_MAXUINT32, &value, NULL)
      || value < THECAL_INACTIVITY_TIMEOUT_MIN_MINUTES || value > THECAL_INACTIVITY_TIMEOUT_MAX_MINUTES)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("Lock after inactivity: “%s” is not allowed: a whole number of minutes from %u to %u."), stripped,
                   THECAL_INACTIVITY_TIMEOUT_MIN_MINUTES, THECAL_INACTIVITY_TIMEOUT_MAX_MINUTES);
      return FALSE;
    }
  *minutes = (guint) value;
  return TRUE;
}

static gboolean
parse_hex4 (const char *text, guint16 *value)
{
  guint v = 0;

  for (int i = 0; i < 4; i++)
    {
      if (!g_ascii_isxdigit (text[i]))
        return FALSE;
      v = v * 16u + (guint) g_ascii_xdigit_value (text[i]);
    }
  *value = (guint16) v;
  return TRUE;
}

gboolean
thecal_settings_parse_wand_id (const char *text, guint16 *vid, guint16 *pid, GError **error)
{
  g_autofree char *stripped = g_strstrip (g_strdup (text != NULL ? text : ""));
  guint16 v = 0, p = 0;

  if (strlen (stripped) != 9 || stripped[4] != ':' || !parse_hex4 (stripped, &v) || !parse_hex4 (stripped + 5, &p) || v == 0
      || p == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("Wand USB ID: “%s” is not allowed: four hexadecimal digits of vendor ID, a colon and four of "
                      "product ID, neither 0000, e.g. %s."),
                   stripped, THECAL_WAND_USB_ID_DEFAULT);
      return FALSE;
    }
  *vid = v;
  *pid = p;
  return TRUE;
}

gboolean
thecal_settings_check_drug_library (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  g_autofree ThecalDrugLibrary *library = NULL;
  gsize length = 0;
  ThecalDoseError dose_error;

  if (path == NULL || path[0] == '\0')
    return TRUE;
  if (!g_path_is_absolute (path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _ ("Drug library file: “%s” is not a full path (starting with /)."),
                   path);
      return FALSE;
    }
  if (!g_file_get_contents (path, &contents, &length, error))
    {
      g_prefix_error (error, _ ("Drug library file: "));
      return FALSE;
    }
  library = g_new0 (ThecalDrugLibrary, 1);
  thecal_dose_error_clear (&dose_error);
  if (!thecal_drug_library_load_json (contents, length, library, &dose_error))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _ ("Drug library file: %s is not a valid drug library: %s%s%s"), path,
                   dose_error.field, dose_error.field[0] != '\0' ? ": " : "", dose_error.message);
      return FALSE;
    }
  return TRUE;
}

guint
thecal_settings_get_timeout_minutes (GSettings *settings)
{
  guint minutes = settings != NULL ? g_settings_get_uint (settings, "inactivity-timeout-minutes") : THECAL_INACTIVITY_TIMEOUT_DEFAULT_MINUTES;

  return CLAMP (minutes, THECAL_INACTIVITY_TIMEOUT_MIN_MINUTES, THECAL_INACTIVITY_TIMEOUT_MAX_MINUTES);
}

char *
thecal_settings_dup_drug_library_path (void)
{
  g_autoptr (GSettings) settings = thecal_settings_new ();
  g_autofree char *path = settings != NULL ? g_settings_get_string (settings, "drug-library-path") : NULL;

  return path != NULL && path[0] != '\0' ? g_steal_pointer (&path) : NULL;
}
