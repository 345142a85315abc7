/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-simulate.h: "thecal-cli simulate": the reference pump engine (src/engine) run day by
 * day (or hour by hour) on a prescription, a fill, PTM presses and faults (docs/engine.md), and
 * what it shares with "thecal-cli accuracy": the --fault syntax and the engine's start.
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

/* Parses every --fault of @texts (NULL-terminated, may be NULL) into @faults. */
gboolean thecal_cli_parse_faults (char **texts, ThecalCliFault *faults, int32_t *n_faults, GError **error);

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

/* Starts @engine: a primed pump filled with the prescription's drug, the prescription set, the
 * faults injected. When the pump refuses the prescription (a rate it cannot deliver),
 * *@refusal gets the pump's message (free with g_free) and TRUE is returned. */
gboolean thecal_cli_engine_start (const ThecalCliEngineSetup *setup,
                                  ThecalEngine *engine,
                                  char **refusal,
                                  GError **error);

/* "+20 %", "-1.01 %", "0 %": basis points as a signed percentage. */
const char *thecal_cli_signed_percent (ThecalCliOutput *out, int64_t bp);

gboolean thecal_cli_simulate (ThecalCliOutput *out, int argc, char **argv, GError **error);

G_END_DECLS
