/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-common.h: what every command of thecal-cli shares: exit codes, the error domain,
 * option parsing, reading the data files, and turning option text into exact quantities.
 */
#pragma once

#include <glib.h>

#include "thecal-check.h"
#include "thecal-cli-output.h"
#include "thecal-drug.h"
#include "thecal-prescription.h"
#include "thecal-pump-model.h"
#include "thecal-quantity.h"

G_BEGIN_DECLS

/* The exit codes of thecal-cli (docs/cli.md). */
typedef enum
{
  THECAL_CLI_EXIT_OK = 0,      /* fine */
  THECAL_CLI_EXIT_REFUSED = 1, /* a safety finding refuses it */
  THECAL_CLI_EXIT_USAGE = 2,   /* bad input or usage */
  THECAL_CLI_EXIT_IO = 3,      /* a file is missing or unreadable */
} ThecalCliExit;

#define THECAL_CLI_ERROR (thecal_cli_error_quark ())
GQuark thecal_cli_error_quark (void);

typedef enum
{
  THECAL_CLI_ERROR_USAGE = 0, /* exit 2 */
  THECAL_CLI_ERROR_IO,        /* exit 3 */
} ThecalCliError;

/* The pump model used when --pump is not given. */
#define THECAL_CLI_DEFAULT_PUMP "TR-20"
/* Override reasons shorter than this (in characters, spaces trimmed) are refused as bad input. */
#define THECAL_CLI_OVERRIDE_REASON_MIN 10

/* A command: argv[0] is its name; it fills @out, or returns FALSE with a THECAL_CLI_ERROR. */
typedef gboolean (*ThecalCliCommandFunc) (ThecalCliOutput *out, int argc, char **argv, GError **error);

/* The exit-status paragraph every --help ends with (translated). */
const char *thecal_cli_exit_status_help (void);

/* A GOptionContext with --help and --json added to @entries (which may be NULL), and the exit
 * codes at the end of the description. thecal_cli_option_context_parse () puts the command's
 * name in the usage line. */
GOptionContext *thecal_cli_option_context_new (const char *parameter_string,
                                               const char *summary,
                                               const char *description,
                                               const GOptionEntry *entries,
                                               ThecalCliOutput *out);

/* Parses argv (argv[0] is the command). On --help fills out->text with the help and sets
 * out->help_shown. *@positional gets the arguments left over (NULL-terminated, never NULL).
 * Option text is taken as bytes, never converted through the locale's character set. An option
 * of @entries that takes one value and is given twice is a usage error. */
gboolean thecal_cli_option_context_parse (GOptionContext *context,
                                          const GOptionEntry *entries,
                                          ThecalCliOutput *out,
                                          int argc,
                                          char **argv,
                                          char ***positional,
                                          GError **error);

/* The start of every command: its options (as thecal_cli_option_context_new) parsed from argv
 * (as thecal_cli_option_context_parse). With @positional NULL the command takes no argument and
 * one left over is a usage error ("dose: unexpected argument “x”"); otherwise *@positional gets
 * them. After --help, out->help_shown is set and nothing else is checked: the command returns
 * TRUE at once. Otherwise the --json object is started with "command": argv[0]. */
gboolean thecal_cli_parse_command_line (const char *parameter_string,
                                        const char *summary,
                                        const char *description,
                                        const GOptionEntry *entries,
                                        ThecalCliOutput *out,
                                        int argc,
                                        char **argv,
                                        char ***positional,
                                        GError **error);

/* One subcommand of a command made of subcommands ("pump interrogate"). */
typedef struct
{
  const char *name;
  const char *summary; /* N_(): one line of the command's --help */
  ThecalCliCommandFunc run;
} ThecalCliSubcommand;

/* Runs the subcommand of @subcommands named by argv[1] on argv[2..], with "@command NAME" as its
 * argv[0]. "--help" / "-h" in argv[1] prints the command's help: usage, @summary, the
 * subcommands, then @description when not NULL (translated already). No subcommand, an option
 * first, or an unknown name: a usage error naming the subcommands. */
gboolean thecal_cli_dispatch (const char *command,
                              const char *summary,
                              const char *description,
                              const ThecalCliSubcommand *subcommands,
                              gsize n_subcommands,
                              ThecalCliOutput *out,
                              int argc,
                              char **argv,
                              GError **error);

/* The options of the data files, spelled the same in every command (docs/cli.md). */
#define THECAL_CLI_OPTION_PUMP(target)                  \
  {                                                     \
    "pump", 'p', 0, G_OPTION_ARG_FILENAME, (target),    \
        N_ ("Pump model (default TR-20)"), N_ ("MODEL") \
  }
#define THECAL_CLI_OPTION_MODELS(target)                                   \
  {                                                                        \
    "models", 0, 0, G_OPTION_ARG_FILENAME, (target),                       \
        N_ ("Pump models file (default: the installed pump-models.json)"), \
        N_ ("FILE")                                                        \
  }
#define THECAL_CLI_OPTION_LIBRARY(target)                               \
  {                                                                     \
    "library", 0, 0, G_OPTION_ARG_FILENAME, (target),                   \
        N_ ("Drug library (default: the installed drug-library.json)"), \
        N_ ("FILE")                                                     \
  }

/* The patient and override options of the dose-core check (`check`, `pump program`). */
#define THECAL_CLI_OPTION_OPIOID_TOLERANT(target)                                           \
  {                                                                                         \
    "opioid-tolerant", 0, 0, G_OPTION_ARG_NONE, (target),                                   \
        N_ ("The patient is opioid-tolerant (default: opioid-naive, the safe assumption)"), \
        NULL                                                                                \
  }
#define THECAL_CLI_OPTION_OVERRIDE_REASON(target)                                                                        \
  {                                                                                                                      \
    "override-reason", 0, 0, G_OPTION_ARG_FILENAME, (target),                                                            \
        N_ ("Go ahead despite soft limits, for this reason (at least 10 characters); hard limits cannot be overridden"), \
        N_ ("TEXT")                                                                                                      \
  }

/* Fails with a usage error when @value is NULL: "--@option is required (e.g. @example)". */
gboolean thecal_cli_require (const char *option, const char *value, const char *example, GError **error);

/* Sets a usage error from a ThecalDoseError: "[@context: ][field: ]message". */
gboolean thecal_cli_dose_error (const ThecalDoseError *dose_error, const char *context, GError **error);

/* Parses option text as a quantity of @kind; the error names the option and the text. */
gboolean thecal_cli_parse_quantity (const char *option,
                                    const char *text,
                                    ThecalQuantityKind kind,
                                    int64_t *value,
                                    GError **error);

/* Parses a pump-local date and time "2026-11-01T09:00" or "2026-11-01T09:00:30" (no time zone:
 * the pump's own wall clock) into pump-local ms. */
gboolean thecal_cli_parse_instant (const char *option, const char *text, int64_t *local_ms, GError **error);

/* Reads a whole file of at most THECAL_JSON_MAX_BYTES. I/O problems are THECAL_CLI_ERROR_IO;
 * a file that is too large is a usage error. *@contents is NUL-terminated. */
gboolean thecal_cli_read_file (const char *path, char **contents, gsize *length, GError **error);

/* The data directory: $THECAL_DATA_DIR when set and not empty, else the installed one. */
const char *thecal_cli_data_dir (void);

/* Loaders: @path NULL means the default file of the data directory. */
gboolean thecal_cli_load_library (const char *path, ThecalDrugLibrary *library, GError **error);
gboolean thecal_cli_load_models (const char *path, ThecalPumpModelSet *models, GError **error);
gboolean thecal_cli_load_prescription (const char *path, ThecalPrescription *rx, GError **error);

/* The model @id (NULL: THECAL_CLI_DEFAULT_PUMP) in @models, or a usage error naming the known ids. */
const ThecalPumpModel *thecal_cli_find_model (const ThecalPumpModelSet *models, const char *id, GError **error);

/* Loads the pump models from @models_path (NULL: the default file) into @models and finds @id
 * among them (as thecal_cli_find_model). NULL with the error of whichever step failed. */
const ThecalPumpModel *thecal_cli_load_model (const char *models_path,
                                              const char *id,
                                              ThecalPumpModelSet *models,
                                              GError **error);

/* An optional prescription file: *@rx is NULL when @path is NULL, else a new prescription (to
 * g_free) loaded from @path. FALSE with the loader's error. */
gboolean thecal_cli_load_optional_prescription (const char *path, ThecalPrescription **rx, GError **error);

/* The drug's display name (tall-man) from @library, or its id when unknown. */
const char *thecal_cli_drug_name (const ThecalDrugLibrary *library, const char *drug_id);

/* Resolves @rx for @model into @plan; the error names @context (e.g. the file). */
gboolean thecal_cli_resolve_plan (const ThecalPrescription *rx,
                                  const ThecalPumpModel *model,
                                  const char *context,
                                  ThecalDeliveryPlan *plan,
                                  GError **error);

/* Writes the plan's summary (mode, rates, daily totals) as text and into @json. */
void thecal_cli_report_plan (ThecalCliOutput *out,
                             cJSON *json,
                             const ThecalDeliveryPlan *plan);

/* The pump model line: "Pump model: TR-20 (default; another with --pump)", and into @json. */
void thecal_cli_report_model (ThecalCliOutput *out,
                              cJSON *json,
                              const ThecalPumpModel *model,
                              gboolean is_default);

/* One line from the terminal (/dev/tty) with echo off, after writing @prompt; at most
 * THECAL_PASSWORD_MAX_BYTES + 1 bytes are kept (longer is refused by the record). Without a
 * terminal: NULL with a usage error whose message is @no_terminal (e.g. which variable to set). */
char *thecal_cli_prompt_password (const char *prompt, const char *no_terminal, GError **error);

/* Overwrites @secret (NUL-terminated, may be NULL) with zeros, then frees it. */
void thecal_cli_wipe_secret (char *secret);

G_END_DECLS
