/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-common.c: options, data files and quantities shared by every command.
 */
#include "config.h"

#include "thecal-cli-common.h"
#include "thecal-record-types.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "thecal-dose-json.h"

GQuark
thecal_cli_error_quark (void)
{
  return g_quark_from_static_string ("thecal-cli-error-quark");
}

const char *
thecal_cli_exit_status_help (void)
{
  return _ ("Exit status:\n"
            "  0  fine\n"
            "  1  a safety finding refuses it (see the output and stderr)\n"
            "  2  bad input or usage: stderr names what is wrong, nothing is printed on stdout\n"
            "  3  I/O error: a file is missing or unreadable");
}

GOptionContext *
thecal_cli_option_context_new (const char *parameter_string,
                               const char *summary,
                               const char *description,
                               const GOptionEntry *entries,
                               ThecalCliOutput *out)
{
  GOptionContext *context = g_option_context_new (parameter_string);
  g_autofree char *full_description = NULL;
  const GOptionEntry common_entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &out->json_mode,
      N_ ("Print one JSON object instead of text"), NULL },
    { "help", 'h', 0, G_OPTION_ARG_NONE, &out->help_shown,
      N_ ("Show this help"), NULL },
    G_OPTION_ENTRY_NULL
  };

  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  /* We print the help ourselves: GOption's own --help would exit () from inside the library. */
  g_option_context_set_help_enabled (context, FALSE);
  if (summary != NULL)
    g_option_context_set_summary (context, summary);
  if (description != NULL)
    full_description = g_strdup_printf ("%s\n\n%s", description, thecal_cli_exit_status_help ());
  else
    full_description = g_strdup (thecal_cli_exit_status_help ());
  g_option_context_set_description (context, full_description);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, common_entries, GETTEXT_PACKAGE);
  return context;
}

static const GOptionEntry *
find_entry (const GOptionEntry *entries, const char *long_name, gsize long_length, char short_name)
{
  for (gsize i = 0; entries != NULL && entries[i].long_name != NULL; i++)
    {
      if (long_name != NULL && strlen (entries[i].long_name) == long_length
          && strncmp (entries[i].long_name, long_name, long_length) == 0)
        return &entries[i];
      if (long_name == NULL && short_name != '\0' && entries[i].short_name == short_name)
        return &entries[i];
    }
  return NULL;
}

/* An option that takes one value and is given twice is refused: GOption would keep the last one
 * silently, and "--dose \"5 mg/day\" … --dose \"50 mg/day\"" must not become a guess. */
static gboolean
refuse_repeated_options (const char *command,
                         const GOptionEntry *entries,
                         int argc,
                         char **argv,
                         GError **error)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (int i = 1; i < argc; i++)
    {
      const char *token = argv[i];
      const GOptionEntry *entry = NULL;
      gboolean inline_value = FALSE;

      if (g_str_equal (token, "--"))
        break;
      if (g_str_has_prefix (token, "--"))
        {
          const char *equals = strchr (token + 2, '=');
          gsize length = equals != NULL ? (gsize) (equals - (token + 2)) : strlen (token + 2);

          entry = find_entry (entries, token + 2, length, '\0');
          inline_value = equals != NULL;
        }
      else if (token[0] == '-' && token[1] != '\0')
        {
          entry = find_entry (entries, NULL, 0, token[1]);
          inline_value = token[2] != '\0';
        }
      if (entry == NULL)
        continue;
      if (entry->arg == G_OPTION_ARG_NONE)
        continue;
      if (!inline_value)
        i++; /* the next token is this option's value, whatever it looks like */
      if (entry->arg == G_OPTION_ARG_FILENAME_ARRAY || entry->arg == G_OPTION_ARG_STRING_ARRAY)
        continue;
      if (!g_hash_table_add (seen, (gpointer) entry->long_name))
        {
          g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                       _ ("%s: --%s is given more than once: give it once"), command, entry->long_name);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
thecal_cli_option_context_parse (GOptionContext *context,
                                 const GOptionEntry *entries,
                                 ThecalCliOutput *out,
                                 int argc,
                                 char **argv,
                                 char ***positional,
                                 GError **error)
{
  g_auto (GStrv) args = g_new0 (char *, (gsize) argc + 1);
  g_autoptr (GError) local_error = NULL;

  if (!refuse_repeated_options (argv[0], entries, argc, argv, error))
    return FALSE;
  for (int i = 0; i < argc; i++)
    args[i] = g_strdup (argv[i]);

  if (!g_option_context_parse_strv (context, &args, &local_error))
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("%s: %s (see “thecal-cli %s --help”)"),
                   argv[0], local_error->message, argv[0]);
      return FALSE;
    }
  if (out->help_shown)
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);
      const char *program = strstr (help, "\n  thecal-cli");

      /* GOption's usage line names the program (thecal_cli_main () sets it once, to
       * "thecal-cli"); the command goes after it: "thecal-cli dose [OPTION…]". */
      if (program != NULL)
        {
          gsize at = (gsize) (program - help) + strlen ("\n  thecal-cli");

          g_string_append_len (out->text, help, (gssize) at);
          g_string_append_printf (out->text, " %s", argv[0]);
          g_string_append (out->text, help + at);
        }
      else
        g_string_assign (out->text, help);
    }

  /* args[0] is the command itself; what follows are the positional arguments. */
  *positional = g_strdupv (args + 1);
  return TRUE;
}

gboolean
thecal_cli_parse_command_line (const char *parameter_string,
                               const char *summary,
                               const char *description,
                               const GOptionEntry *entries,
                               ThecalCliOutput *out,
                               int argc,
                               char **argv,
                               char ***positional,
                               GError **error)
{
  g_autoptr (GOptionContext) context = thecal_cli_option_context_new (parameter_string, summary, description,
                                                                      entries, out);
  g_auto (GStrv) arguments = NULL;

  if (!thecal_cli_option_context_parse (context, entries, out, argc, argv, &arguments, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (positional != NULL)
    *positional = g_steal_pointer (&arguments);
  else if (arguments[0] != NULL)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("%s: unexpected argument “%s”"), argv[0], arguments[0]);
      return FALSE;
    }
  thecal_cli_json_string (out->json, "command", argv[0]);
  return TRUE;
}

gboolean
thecal_cli_dispatch (const char *command,
                     const char *summary,
                     const char *description,
                     const ThecalCliSubcommand *subcommands,
                     gsize n_subcommands,
                     ThecalCliOutput *out,
                     int argc,
                     char **argv,
                     GError **error)
{
  g_autoptr (GString) names = g_string_new (NULL);
  g_autofree char *label = NULL;
  g_autofree char **sub_argv = NULL;

  for (gsize i = 0; i < n_subcommands; i++)
    g_string_append_printf (names, "%s%s", i > 0 ? ", " : "", subcommands[i].name);
  if (argc >= 2 && (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h")))
    {
      thecal_cli_print (out, _ ("Usage:\n  thecal-cli %s SUBCOMMAND [OPTION…]\n\n%s\n\nSubcommands:\n"), command, summary);
      for (gsize i = 0; i < n_subcommands; i++)
        thecal_cli_print (out, "  %-12s %s\n", subcommands[i].name, _ (subcommands[i].summary));
      if (description != NULL)
        thecal_cli_print (out, "\n%s\n", description);
      thecal_cli_print (out, _ ("\nRun “thecal-cli %s SUBCOMMAND --help” for its options.\n\n%s\n"), command,
                        thecal_cli_exit_status_help ());
      out->help_shown = TRUE;
      return TRUE;
    }
  if (argc < 2 || argv[1][0] == '-')
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("%s: give a subcommand first: %s (see “thecal-cli %s --help”)"), command, names->str, command);
      return FALSE;
    }
  for (gsize i = 0; i < n_subcommands; i++)
    if (g_str_equal (argv[1], subcommands[i].name))
      {
        label = g_strdup_printf ("%s %s", command, subcommands[i].name);
        sub_argv = g_new0 (char *, (gsize) argc);
        sub_argv[0] = label;
        for (int a = 2; a < argc; a++)
          sub_argv[a - 1] = argv[a];
        return subcommands[i].run (out, argc - 1, sub_argv, error);
      }
  g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
               _ ("%s: unknown subcommand “%s”: use %s (see “thecal-cli %s --help”)"), command, argv[1], names->str,
               command);
  return FALSE;
}

gboolean
thecal_cli_require (const char *option, const char *value, const char *example, GError **error)
{
  if (value != NULL)
    return TRUE;
  if (example != NULL)
    g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                 _ ("--%s is required (e.g. --%s %s)"), option, option, example);
  else
    g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                 _ ("--%s is required"), option);
  return FALSE;
}

gboolean
thecal_cli_dose_error (const ThecalDoseError *dose_error, const char *context, GError **error)
{
  g_autoptr (GString) message = g_string_new (NULL);

  /* "[context: ][field: ]message", leaving out what the message already starts with: the core's
   * messages often name their field ("--dose \"5 mg/dya\" has an unknown unit ..."). */
  if (context != NULL && context[0] != '\0' && !g_str_has_prefix (dose_error->message, context))
    g_string_append_printf (message, "%s: ", context);
  /* "$" is the loaders' name for the document as a whole: the file name already says it. */
  if (dose_error->field[0] != '\0' && g_strcmp0 (dose_error->field, context) != 0
      && g_strcmp0 (dose_error->field, "$") != 0
      && !g_str_has_prefix (dose_error->message, dose_error->field))
    g_string_append_printf (message, "%s: ", dose_error->field);
  if (dose_error->message[0] != '\0')
    g_string_append (message, dose_error->message);
  else
    g_string_append (message, _ ("invalid value"));
  g_set_error_literal (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, message->str);
  return FALSE;
}

gboolean
thecal_cli_parse_quantity (const char *option,
                           const char *text,
                           ThecalQuantityKind kind,
                           int64_t *value,
                           GError **error)
{
  ThecalDoseError dose_error = { 0 };
  g_autofree char *field = g_strdup_printf ("--%s", option);

  if (!thecal_quantity_parse (kind, text, field, value, &dose_error))
    {
      /* The option name leads; the core's field is the same name, so it is not repeated. */
      g_strlcpy (dose_error.field, field, sizeof dose_error.field);
      return thecal_cli_dose_error (&dose_error, field, error);
    }
  return TRUE;
}

static gboolean
all_digits (const char *text, gsize from, gsize to)
{
  for (gsize i = from; i < to; i++)
    if (!g_ascii_isdigit (text[i]))
      return FALSE;
  return TRUE;
}

gboolean
thecal_cli_parse_instant (const char *option, const char *text, int64_t *local_ms, GError **error)
{
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr (GDateTime) date_time = NULL;
  g_autofree char *with_seconds = NULL;
  gsize length = strlen (text);
  gboolean shape;

  /* YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS, nothing else: no time zone (times are the pump's
   * wall clock), no fraction, no week or ordinal dates. GLib then checks the calendar. */
  shape = (length == 16 || length == 19)
          && all_digits (text, 0, 4) && text[4] == '-'
          && all_digits (text, 5, 7) && text[7] == '-'
          && all_digits (text, 8, 10) && text[10] == 'T'
          && all_digits (text, 11, 13) && text[13] == ':'
          && all_digits (text, 14, 16)
          && (length == 16 || (text[16] == ':' && all_digits (text, 17, 19)));
  if (!shape)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("--%s: “%s” is not a pump-local date and time: write YYYY-MM-DDTHH:MM "
                      "or YYYY-MM-DDTHH:MM:SS, e.g. 2026-11-01T09:00, without a time zone"),
                   option, text);
      return FALSE;
    }
  /* GLib 2.74 wants the seconds. */
  with_seconds = length == 16 ? g_strconcat (text, ":00", NULL) : g_strdup (text);
  /* UTC as the default zone: the digits are taken as they are, which is what pump-local ms are. */
  date_time = g_date_time_new_from_iso8601 (with_seconds, utc);
  if (date_time == NULL)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("--%s: “%s” is not a valid date and time"), option, text);
      return FALSE;
    }
  *local_ms = g_date_time_to_unix (date_time) * THECAL_MS_PER_SECOND;
  return TRUE;
}

gboolean
thecal_cli_read_file (const char *path, char **contents, gsize *length, GError **error)
{
  g_autofree char *buffer = NULL;
  gsize capacity = (gsize) THECAL_JSON_MAX_BYTES + 1;
  gsize n_read = 0;
  GStatBuf stat_buf;
  int fd;

  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO,
                   _ ("%s: cannot open: %s"), path, g_strerror (saved_errno));
      return FALSE;
    }
  if (fstat (fd, &stat_buf) == 0 && S_ISDIR (stat_buf.st_mode))
    {
      g_close (fd, NULL);
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO,
                   _ ("%s: cannot read: %s"), path, g_strerror (EISDIR));
      return FALSE;
    }

  /* Read one byte more than allowed, so a file that is too large is seen without reading it all. */
  buffer = g_malloc (capacity + 1);
  while (n_read < capacity)
    {
      gssize n = read (fd, buffer + n_read, capacity - n_read);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;

          g_close (fd, NULL);
          g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO,
                       _ ("%s: cannot read: %s"), path, g_strerror (saved_errno));
          return FALSE;
        }
      if (n == 0)
        break;
      n_read += (gsize) n;
    }
  g_close (fd, NULL);
  if (n_read > (gsize) THECAL_JSON_MAX_BYTES)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("%s: the file is larger than %d bytes: refused before parsing"),
                   path, (int) THECAL_JSON_MAX_BYTES);
      return FALSE;
    }
  buffer[n_read] = '\0';
  *length = n_read;
  *contents = g_steal_pointer (&buffer);
  return TRUE;
}

const char *
thecal_cli_data_dir (void)
{
  const char *dir = g_getenv ("THECAL_DATA_DIR");

  if (dir != NULL && dir[0] != '\0')
    return dir;
  return THECAL_PKGDATADIR;
}

/* The files of docs/formats.md that thecal-cli reads. */
typedef enum
{
  JSON_FILE_DRUG_LIBRARY,
  JSON_FILE_PUMP_MODELS,
  JSON_FILE_PRESCRIPTION,
} JsonFileKind;

/* Reads @path (NULL: the data directory's @default_name) and loads it as @kind into @target, a
 * ThecalDrugLibrary, ThecalPumpModelSet or ThecalPrescription; the error names the file. */
static gboolean
load_json_file (const char *path, const char *default_name, JsonFileKind kind, void *target, GError **error)
{
  g_autofree char *default_path = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;
  ThecalDoseError dose_error = { 0 };
  gboolean loaded = FALSE;

  if (path == NULL)
    path = default_path = g_build_filename (thecal_cli_data_dir (), default_name, NULL);
  if (!thecal_cli_read_file (path, &contents, &length, error))
    return FALSE;
  switch (kind)
    {
    case JSON_FILE_DRUG_LIBRARY:
      loaded = thecal_drug_library_load_json (contents, length, target, &dose_error);
      break;
    case JSON_FILE_PUMP_MODELS:
      loaded = thecal_pump_models_load_json (contents, length, target, &dose_error);
      break;
    case JSON_FILE_PRESCRIPTION:
      loaded = thecal_prescription_load_json (contents, length, target, &dose_error);
      break;
    default:
      g_assert_not_reached ();
    }
  if (!loaded)
    return thecal_cli_dose_error (&dose_error, path, error);
  return TRUE;
}

gboolean
thecal_cli_load_library (const char *path, ThecalDrugLibrary *library, GError **error)
{
  return load_json_file (path, "drug-library.json", JSON_FILE_DRUG_LIBRARY, library, error);
}

gboolean
thecal_cli_load_models (const char *path, ThecalPumpModelSet *models, GError **error)
{
  return load_json_file (path, "pump-models.json", JSON_FILE_PUMP_MODELS, models, error);
}

gboolean
thecal_cli_load_prescription (const char *path, ThecalPrescription *rx, GError **error)
{
  /* a prescription has no default file: every command requires its path */
  return load_json_file (path, NULL, JSON_FILE_PRESCRIPTION, rx, error);
}

const ThecalPumpModel *
thecal_cli_find_model (const ThecalPumpModelSet *models, const char *id, GError **error)
{
  const ThecalPumpModel *model;
  g_autoptr (GString) known = NULL;

  if (id == NULL)
    id = THECAL_CLI_DEFAULT_PUMP;
  model = thecal_pump_model_set_find (models, id);
  if (model != NULL)
    return model;

  known = g_string_new (NULL);
  for (int32_t i = 0; i < models->n_models; i++)
    g_string_append_printf (known, "%s%s", i > 0 ? ", " : "", models->models[i].id);
  g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
               _ ("--pump: unknown pump model “%s”: the models are %s"), id, known->str);
  return NULL;
}

const ThecalPumpModel *
thecal_cli_load_model (const char *models_path, const char *id, ThecalPumpModelSet *models, GError **error)
{
  if (!thecal_cli_load_models (models_path, models, error))
    return NULL;
  return thecal_cli_find_model (models, id, error);
}

gboolean
thecal_cli_load_optional_prescription (const char *path, ThecalPrescription **rx, GError **error)
{
  g_autofree ThecalPrescription *loaded = NULL;

  *rx = NULL;
  if (path == NULL)
    return TRUE;
  loaded = g_new0 (ThecalPrescription, 1);
  if (!thecal_cli_load_prescription (path, loaded, error))
    return FALSE;
  *rx = g_steal_pointer (&loaded);
  return TRUE;
}

const char *
thecal_cli_drug_name (const ThecalDrugLibrary *library, const char *drug_id)
{
  const ThecalDrug *drug = library != NULL ? thecal_drug_library_find (library, drug_id) : NULL;

  if (drug != NULL && drug->display_name[0] != '\0')
    return drug->display_name;
  return drug_id;
}

gboolean
thecal_cli_resolve_plan (const ThecalPrescription *rx,
                         const ThecalPumpModel *model,
                         const char *context,
                         ThecalDeliveryPlan *plan,
                         GError **error)
{
  ThecalDoseError dose_error = { 0 };

  if (!thecal_delivery_plan_resolve (rx, model, plan, &dose_error))
    return thecal_cli_dose_error (&dose_error, context, error);
  return TRUE;
}

/* The dose of a volume rate at the plan's concentration, or -1 if it cannot be computed. */
static int64_t
dose_of_rate (const ThecalDeliveryPlan *plan, int64_t rate_nl_per_day)
{
  int64_t dose_ng_per_day = -1;
  ThecalDoseError dose_error = { 0 };

  if (!thecal_dose_for_rate (NULL, plan->concentration_ng_per_ml, rate_nl_per_day, NULL,
                             &dose_ng_per_day, &dose_error))
    return -1;
  return dose_ng_per_day;
}

static void
report_total (ThecalCliOutput *out,
              cJSON *json,
              const char *label,
              const char *name,
              int64_t dose_ng_per_day,
              int64_t rate_nl_per_day)
{
  g_autofree char *dose_name = g_strdup_printf ("%s_dose", name);
  g_autofree char *rate_name = g_strdup_printf ("%s_rate", name);

  thecal_cli_print (out, "  %s: %s (%s)\n", label,
                    thecal_cli_q (out, THECAL_QUANTITY_DOSE_RATE, dose_ng_per_day),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, rate_nl_per_day));
  thecal_cli_json_quantity (json, dose_name, THECAL_QUANTITY_DOSE_RATE, dose_ng_per_day);
  thecal_cli_json_quantity (json, rate_name, THECAL_QUANTITY_VOLUME_RATE, rate_nl_per_day);
}

static void
report_bolus_json (cJSON *object, const ThecalPlannedBolus *bolus)
{
  thecal_cli_json_quantity (object, "dose", THECAL_QUANTITY_AMOUNT, bolus->dose_ng);
  thecal_cli_json_quantity (object, "volume", THECAL_QUANTITY_VOLUME, bolus->volume_nl);
  thecal_cli_json_quantity (object, "duration", THECAL_QUANTITY_DURATION, bolus->duration_ms);
}

void
thecal_cli_report_plan (ThecalCliOutput *out, cJSON *json, const ThecalDeliveryPlan *plan)
{
  cJSON *segments;
  cJSON *boluses;
  int32_t i = 0;

  thecal_cli_print (out, _ ("Delivery plan (what the pump will deliver after rounding):\n"));
  thecal_cli_print (out, _ ("  Mode: %s\n"), thecal_mode_name (plan->mode));
  thecal_cli_json_string (json, "mode", thecal_mode_name (plan->mode));
  thecal_cli_print (out, _ ("  Concentration: %s\n"),
                    thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, plan->concentration_ng_per_ml));
  thecal_cli_json_quantity (json, "concentration", THECAL_QUANTITY_CONCENTRATION,
                            plan->concentration_ng_per_ml);

  /* The basal profile: adjacent segments with the same rate are shown as one. */
  segments = thecal_cli_json_array (json, "segments");
  while (i < plan->n_segments)
    {
      const ThecalDaySegment *first = &plan->segments[i];
      int64_t end_ms = first->end_ms_of_day;
      int64_t dose_ng_per_day = dose_of_rate (plan, first->basal_rate_nl_per_day);
      cJSON *segment = thecal_cli_json_append_object (segments);
      int32_t j = i + 1;

      while (j < plan->n_segments && plan->segments[j].basal_rate_nl_per_day == first->basal_rate_nl_per_day)
        end_ms = plan->segments[j++].end_ms_of_day;

      if (i == 0 && j == plan->n_segments)
        thecal_cli_print (out, _ ("  Rate: %s (%s), all day\n"),
                          thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, first->basal_rate_nl_per_day),
                          dose_ng_per_day >= 0 ? thecal_cli_q (out, THECAL_QUANTITY_DOSE_RATE, dose_ng_per_day) : "?");
      else
        thecal_cli_print (out, _ ("  %s–%s  %s (%s)\n"),
                          thecal_cli_time_of_day (out, first->start_ms_of_day),
                          thecal_cli_time_of_day (out, end_ms),
                          thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, first->basal_rate_nl_per_day),
                          dose_ng_per_day >= 0 ? thecal_cli_q (out, THECAL_QUANTITY_DOSE_RATE, dose_ng_per_day) : "?");
      thecal_cli_json_int (segment, "start_ms_of_day", first->start_ms_of_day);
      thecal_cli_json_int (segment, "end_ms_of_day", end_ms);
      thecal_cli_json_string (segment, "start", thecal_cli_time_of_day (out, first->start_ms_of_day));
      thecal_cli_json_string (segment, "end", thecal_cli_time_of_day (out, end_ms));
      thecal_cli_json_quantity (segment, "rate", THECAL_QUANTITY_VOLUME_RATE, first->basal_rate_nl_per_day);
      if (dose_ng_per_day >= 0)
        thecal_cli_json_quantity (segment, "dose", THECAL_QUANTITY_DOSE_RATE, dose_ng_per_day);
      i = j;
    }

  boluses = thecal_cli_json_array (json, "periodic_boluses");
  for (i = 0; i < plan->n_boluses; i++)
    {
      const ThecalPlannedBolus *bolus = &plan->boluses[i];
      cJSON *object = thecal_cli_json_append_object (boluses);

      thecal_cli_print (out, _ ("  Periodic bolus at %s: %s (%s) over %s\n"),
                        thecal_cli_time_of_day (out, bolus->start_ms_of_day),
                        thecal_cli_q (out, THECAL_QUANTITY_AMOUNT, bolus->dose_ng),
                        thecal_cli_q (out, THECAL_QUANTITY_VOLUME, bolus->volume_nl),
                        thecal_cli_duration (out, bolus->duration_ms));
      thecal_cli_json_int (object, "start_ms_of_day", bolus->start_ms_of_day);
      thecal_cli_json_string (object, "start", thecal_cli_time_of_day (out, bolus->start_ms_of_day));
      report_bolus_json (object, bolus);
    }

  if (plan->ptm_enabled)
    {
      cJSON *ptm = thecal_cli_json_object (json, "ptm");

      thecal_cli_print (out, _ ("  PTM bolus: %s (%s) over %s, lockout %s, at most %d per 24 h\n"),
                        thecal_cli_q (out, THECAL_QUANTITY_AMOUNT, plan->ptm.dose_ng),
                        thecal_cli_q (out, THECAL_QUANTITY_VOLUME, plan->ptm.volume_nl),
                        thecal_cli_duration (out, plan->ptm.duration_ms),
                        thecal_cli_duration (out, plan->ptm_lockout_ms),
                        (int) plan->ptm_max_per_24h);
      report_bolus_json (ptm, &plan->ptm);
      thecal_cli_json_quantity (ptm, "lockout", THECAL_QUANTITY_DURATION, plan->ptm_lockout_ms);
      thecal_cli_json_int (ptm, "max_per_24h", plan->ptm_max_per_24h);
    }
  else
    {
      thecal_cli_print (out, _ ("  PTM: off\n"));
      cJSON_AddItemToObject (json, "ptm", cJSON_CreateNull ());
    }

  report_total (out, json, _ ("Basal"), "basal", plan->basal_ng_per_day, plan->basal_nl_per_day);
  report_total (out, json, _ ("Periodic boluses"), "periodic",
                plan->periodic_ng_per_day, plan->periodic_nl_per_day);
  report_total (out, json, _ ("PTM, worst case (every allowed activation)"), "ptm_worst",
                plan->ptm_worst_ng_per_day, plan->ptm_worst_nl_per_day);
  report_total (out, json, _ ("Total daily dose, worst case"), "total_worst",
                plan->total_worst_ng_per_day, plan->total_worst_nl_per_day);
}

void
thecal_cli_report_model (ThecalCliOutput *out, cJSON *json, const ThecalPumpModel *model, gboolean is_default)
{
  if (is_default)
    thecal_cli_print (out, _ ("Pump model: %s (the default; choose another with --pump), rate resolution %s\n"),
                      model->id, thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, model->rate_resolution_nl_per_day));
  else
    thecal_cli_print (out, _ ("Pump model: %s, rate resolution %s\n"),
                      model->id, thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, model->rate_resolution_nl_per_day));
  thecal_cli_json_string (json, "pump_model", model->id);
  thecal_cli_json_bool (json, "pump_model_default", is_default);
  thecal_cli_json_quantity (json, "rate_resolution", THECAL_QUANTITY_VOLUME_RATE,
                            model->rate_resolution_nl_per_day);
}

/* ---- passwords ------------------------------------------------------------------------------ */

char *
thecal_cli_prompt_password (const char *prompt, const char *no_terminal, GError **error)
{
  g_autoptr (GString) line = g_string_new (NULL);
  struct termios saved;
  struct termios quiet;
  gboolean restore = FALSE;
  int fd = open ("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  char c;

  if (fd < 0)
    {
      g_set_error_literal (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, no_terminal);
      return NULL;
    }
  if (write (fd, prompt, strlen (prompt)) < 0)
    {
      /* nothing to do: the prompt is a courtesy */
    }
  if (tcgetattr (fd, &saved) == 0)
    {
      quiet = saved;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      restore = tcsetattr (fd, TCSAFLUSH, &quiet) == 0;
    }
  while (read (fd, &c, 1) == 1 && c != '\n' && c != '\r' && line->len <= THECAL_PASSWORD_MAX_BYTES)
    g_string_append_c (line, c);
  if (restore)
    (void) tcsetattr (fd, TCSAFLUSH, &saved);
  if (write (fd, "\n", 1) < 0)
    {
      /* as above */
    }
  close (fd);
  return g_string_free (g_steal_pointer (&line), FALSE);
}

void
thecal_cli_wipe_secret (char *secret)
{
  if (secret != NULL)
    {
      memset (secret, 0, strlen (secret));
      g_free (secret);
    }
}
