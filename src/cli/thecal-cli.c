/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli.c: command dispatch, the top-level help, and printing.
 *
 * A command collects its output; it is printed here only when the command succeeded, so bad
 * input (exit 2) and I/O errors (exit 3) leave stdout empty. Everything printed is UTF-8 and
 * written as bytes (never through g_print, which would convert to the locale's character set).
 */
#include "config.h"

#include "thecal-cli.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "thecal-cli-accuracy.h"
#include "thecal-cli-bolus.h"
#include "thecal-cli-check.h"
#include "thecal-cli-common.h"
#include "thecal-cli-demo.h"
#include "thecal-cli-dose.h"
#include "thecal-cli-oral.h"
#include "thecal-cli-pump.h"
#include "thecal-cli-record.h"
#include "thecal-cli-refill.h"
#include "thecal-cli-simulate.h"
#include "thecal-cli-visit.h"

typedef struct
{
  const char *name;
  const char *summary; /* N_() */
  ThecalCliCommandFunc run;
} ThecalCliCommand;

static const ThecalCliCommand commands[] = {
  { "dose", N_ ("Rate for a daily dose at a concentration, or the dose of a rate"), thecal_cli_dose },
  { "check", N_ ("Check a prescription against the drug library and the pump model"), thecal_cli_check },
  { "refill-calc", N_ ("Expected residual, discrepancy and projection for a refill"), thecal_cli_refill_calc },
  { "bolus-calc", N_ ("Priming and bridge boluses through the dead space"), thecal_cli_bolus_calc },
  { "oral-estimate", N_ ("Intrathecal morphine estimate from an oral dose (an estimate only)"), thecal_cli_oral_estimate },
  { "demo", N_ ("Every calculator on a worked example"), thecal_cli_demo },
  { "simulate", N_ ("Run the reference pump: delivered dose, reservoir, alarms and events"), thecal_cli_simulate },
  { "accuracy", N_ ("The reference pump's accuracy (trumpet) analysis"), thecal_cli_accuracy },
  { "pump", N_ ("A pump in the record (add, list, show, explant) or over telemetry (interrogate, program, log)"), thecal_cli_pump_any },
  { "user", N_ ("The users of the patient record: add, list, passwd, unlock"), thecal_cli_user },
  { "patient", N_ ("The patients of the record: add, list, show, search, correct"), thecal_cli_patient },
  { "history", N_ ("Everything recorded for a patient, in time order"), thecal_cli_history },
  { "audit", N_ ("The audit trail: verify its hash chain, export it"), thecal_cli_audit },
  { "export", N_ ("Export a patient's record as JSON or CSV"), thecal_cli_export },
  { "visit", N_ ("A clinic visit (--sim or --wand): interrogate, program, refill, bolus, sync-clock, ack-alarm"), thecal_cli_visit },
};

static gboolean
write_all (FILE *stream, const char *text, gsize length)
{
  if (length > 0 && fwrite (text, 1, length, stream) != length)
    return FALSE;
  return fflush (stream) == 0;
}

static void
print_error (const char *message)
{
  g_autofree char *line = g_strdup_printf ("thecal-cli: %s\n", message);

  write_all (stderr, line, strlen (line));
}

static char *
top_level_help (void)
{
  GString *help = g_string_new (NULL);

  g_string_append (help, _ ("Usage:\n  thecal-cli [--db FILE] [--user NAME] [--json] COMMAND [OPTION…]\n\n"));
  g_string_append (help, _ ("Thecal's calculators for implanted intrathecal drug pumps: exact, "
                            "locale-independent, and checked against the drug library and the pump model.\n\n"));
  g_string_append (help, _ ("Commands:\n"));
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (help, "  %-14s %s\n", commands[i].name, _ (commands[i].summary));
  g_string_append (help, _ ("\nOptions:\n"
                            "  -h, --help     Show this help\n"
                            "  --version      Show the version\n\n"
                            "Run “thecal-cli COMMAND --help” for the options of a command; every command "
                            "also takes --json for machine-readable output. The options --db, --user and "
                            "--json may come before or after the command.\n\n"));
  g_string_append_printf (help, "%s\n", thecal_cli_exit_status_help ());
  return g_string_free (help, FALSE);
}

/* The global options: "--db FILE", "--user NAME" ("-u NAME") and "--json" may come before the
 * command as well as after it. "thecal-cli --db F --user U visit …" is run as "thecal-cli visit …
 * --db F --user U": each command's own parser reads them wherever they stand (and refuses one it
 * does not take, as it would after the command). NULL when nothing comes before the command. */
static char **
move_global_options (int argc, char **argv)
{
  g_autoptr (GPtrArray) globals = g_ptr_array_new ();
  GPtrArray *moved;
  int i = 1;

  while (i < argc)
    {
      const char *arg = argv[i];

      if (g_str_equal (arg, "--db") || g_str_equal (arg, "--user") || g_str_equal (arg, "-u"))
        {
          if (i + 1 >= argc)
            break;
          g_ptr_array_add (globals, argv[i]);
          g_ptr_array_add (globals, argv[i + 1]);
          i += 2;
        }
      else if (g_str_has_prefix (arg, "--db=") || g_str_has_prefix (arg, "--user=") || g_str_equal (arg, "--json"))
        {
          g_ptr_array_add (globals, argv[i]);
          i++;
        }
      else
        break;
    }
  if (globals->len == 0 || i >= argc)
    return NULL; /* nothing moved, or no command after them: the usual messages follow */
  moved = g_ptr_array_new ();
  g_ptr_array_add (moved, g_strdup (argv[0]));
  for (int j = i; j < argc; j++)
    g_ptr_array_add (moved, g_strdup (argv[j]));
  for (guint j = 0; j < globals->len; j++)
    g_ptr_array_add (moved, g_strdup (globals->pdata[j]));
  g_ptr_array_add (moved, NULL);
  return (char **) g_ptr_array_free (moved, FALSE);
}

static int
exit_code_for (const GError *error)
{
  if (error->domain == THECAL_CLI_ERROR && error->code == THECAL_CLI_ERROR_IO)
    return THECAL_CLI_EXIT_IO;
  return THECAL_CLI_EXIT_USAGE;
}

int
thecal_cli_main (int argc, char **argv)
{
  const ThecalCliCommand *command = NULL;
  g_autoptr (ThecalCliOutput) out = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *json_text = NULL;
  cJSON_Hooks hooks = { g_malloc, g_free };
  const char *text;
  gsize length;
  int exit_code;

  /* cJSON allocates through GLib, which aborts when memory runs out instead of returning NULL. */
  cJSON_InitHooks (&hooks);
  /* The name in every usage line; set once (GLib allows no more). */
  if (g_get_prgname () == NULL)
    g_set_prgname ("thecal-cli");

  if (argc < 2)
    {
      print_error (_ ("give a command (see “thecal-cli --help”)"));
      return THECAL_CLI_EXIT_USAGE;
    }
  /* "thecal-cli --db FILE --user NAME COMMAND …" is "thecal-cli COMMAND … --db FILE --user NAME". */
  {
    g_auto (GStrv) moved = move_global_options (argc, argv);

    if (moved != NULL)
      return thecal_cli_main ((int) g_strv_length (moved), moved);
  }
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") || g_str_equal (argv[1], "help"))
    {
      g_autofree char *help = top_level_help ();

      if (argc == 3 && g_str_equal (argv[1], "help"))
        {
          /* "thecal-cli help COMMAND" is "thecal-cli COMMAND --help". */
          char *help_argv[] = { argv[0], argv[2], (char *) "--help", NULL };

          return thecal_cli_main (3, help_argv);
        }
      return write_all (stdout, help, strlen (help)) ? THECAL_CLI_EXIT_OK : THECAL_CLI_EXIT_IO;
    }
  if (g_str_equal (argv[1], "--version"))
    {
      g_autofree char *version = g_strdup_printf ("thecal-cli %s\n", PACKAGE_VERSION);

      return write_all (stdout, version, strlen (version)) ? THECAL_CLI_EXIT_OK : THECAL_CLI_EXIT_IO;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      command = &commands[i];
  if (command == NULL)
    {
      g_autofree char *message = g_strdup_printf (_ ("unknown command “%s” (see “thecal-cli --help”)"), argv[1]);

      print_error (message);
      return THECAL_CLI_EXIT_USAGE;
    }

  out = thecal_cli_output_new ();
  if (!command->run (out, argc - 1, argv + 1, &error))
    {
      print_error (error->message);
      return exit_code_for (error);
    }

  exit_code = out->refused ? THECAL_CLI_EXIT_REFUSED : THECAL_CLI_EXIT_OK;
  if (out->json_mode && !out->help_shown)
    {
      thecal_cli_json_int (out->json, "exit_code", exit_code);
      json_text = cJSON_Print (out->json);
      text = json_text;
      length = strlen (json_text);
    }
  else
    {
      text = out->text->str;
      length = out->text->len;
    }
  if (!write_all (stdout, text, length) || (json_text != NULL && !write_all (stdout, "\n", 1)))
    {
      print_error (_ ("cannot write the output"));
      return THECAL_CLI_EXIT_IO;
    }
  if (out->refused && !out->help_shown)
    {
      g_auto (GStrv) lines = g_strsplit (out->refusal->str, "\n", -1);

      for (gsize i = 0; lines[i] != NULL; i++)
        if (lines[i][0] != '\0')
          print_error (lines[i]);
    }
  return exit_code;
}
