/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-simulate.h: "thecal-cli simulate": the reference pump engine (src/engine) run day by
 * day (or hour by hour) on a prescription, a fill, PTM presses and faults (docs/engine.md), and
 * what it shares with "thecal-cli accuracy": the --fault syntax, the options of the pump and the
 * prescription, and the engine's start.
 */
#pragma once

#include "thecal-cli-common.h"
#include "thecal-engine.h"

G_BEGIN_DECLS

#define THECAL_CLI_FAULTS_MAX 16

/* A --fault: "bias=+20%", "noise=50 nL", "stall@3 days[/2 h]", "occlusion@2026-11-04T08:00[/1 day]",
 * "battery-drain=200%", "drift=+100 ppm", "memory-error@10 days". Times are an offset from the
 * start (a duration) or a pump-local date and time. */
typedef struct
{
  ThecalFaultKind kind;
  int64_t value;
  gboolean at_is_offset;
  int64_t at_ms; /* offset from the start, or a pump-local instant */
  int64_t duration_ms;
  char text[128]; /* as given (cut at 127 bytes) */
} ThecalCliFault;

/* The pump-local start when --start is not given (simulate) or not offered (accuracy). */
#define THECAL_CLI_ENGINE_DEFAULT_START "2026-11-01T00:00"

typedef struct
{
  const ThecalPumpModel *model;
  const ThecalPrescription *rx;
  int64_t fill_nl;
  int64_t start_local_ms;
  uint64_t seed;
  int32_t catheter_length_mm;
  int64_t battery_bp;
  const ThecalCliFault *faults;
  int32_t n_faults;
} ThecalCliEngineSetup;

/* What simulate and accuracy share: the options --pump, --models, --library, --prescription,
 * --fault and --seed, and what they load. */
typedef struct
{
  /* the option values, as given (NULL: not given) */
  char *pump;
  char *models_path;
  char *library_path;
  char *rx_path;
  char *seed_text;
  char **fault_texts;
  /* filled by thecal_cli_engine_options_load () */
  ThecalPumpModelSet *models;
  ThecalDrugLibrary *library;
  ThecalPrescription *rx;
  ThecalDeliveryPlan *plan;
  ThecalCliFault faults[THECAL_CLI_FAULTS_MAX];
  /* model, rx, seed and faults are set by thecal_cli_engine_options_load (); the command sets
   * the rest */
  ThecalCliEngineSetup setup;
} ThecalCliEngineOptions;

void thecal_cli_engine_options_clear (ThecalCliEngineOptions *options);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ThecalCliEngineOptions, thecal_cli_engine_options_clear)

/* thecal_cli_parse_command_line () with the shared options and the command's @own ones
 * (NULL-terminated): --prescription first, then @own, then --fault, --seed, --pump, --models and
 * --library. After --help, out->help_shown is set. */
gboolean thecal_cli_engine_parse_command_line (ThecalCliEngineOptions *options,
                                               const GOptionEntry *own,
                                               const char *summary,
                                               const char *description,
                                               ThecalCliOutput *out,
                                               int argc,
                                               char **argv,
                                               GError **error);

/* Checks --seed and --fault, then loads the pump model, the drug library and the prescription
 * (the command has required --prescription) and resolves its plan; fills options->setup as said
 * above. */
gboolean thecal_cli_engine_options_load (ThecalCliEngineOptions *options, GError **error);

/* Starts @engine: a primed pump filled with the prescription's drug, the prescription set, the
 * faults injected. When the pump refuses the prescription (a rate it cannot deliver),
 * *@refusal gets the pump's message (free with g_free) and TRUE is returned. */
gboolean thecal_cli_engine_start (const ThecalCliEngineSetup *setup,
                                  ThecalEngine *engine,
                                  char **refusal,
                                  GError **error);

/* The drug's display name from the drug library (tall-man), or its id. */
const char *thecal_cli_engine_drug_name (const ThecalCliEngineOptions *options);

/* The prescription and the fill into the JSON: "prescription_file", "drug_id", "drug",
 * "concentration", "fill". */
void thecal_cli_engine_report_json (ThecalCliOutput *out, const ThecalCliEngineOptions *options);

/* The end of the heading both commands print: the faults ("Fault: …" lines when @text), and
 * into the JSON "seed" and "faults". With a @refusal (the pump refused the prescription) also the
 * REFUSED line and "refused"/"refusal", and the output is marked refused (exit 1, "@command: the
 * pump refuses the prescription: …" on stderr): the command stops there. Returns whether it was
 * refused. */
gboolean thecal_cli_engine_report_faults (ThecalCliOutput *out,
                                          const char *command,
                                          const ThecalCliEngineOptions *options,
                                          const char *refusal,
                                          gboolean text);

/* "+20 %", "-1.01 %", "0 %": basis points as a signed percentage. */
const char *thecal_cli_signed_percent (ThecalCliOutput *out, int64_t bp);

gboolean thecal_cli_simulate (ThecalCliOutput *out, int argc, char **argv, GError **error);

G_END_DECLS
