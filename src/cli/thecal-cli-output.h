/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-output.h: what a command prints, collected before anything is printed.
 *
 * A command writes its plain text and its --json object into a ThecalCliOutput; thecal-cli.c
 * prints one of them only when the command succeeded. So bad input (exit 2) or an I/O error
 * (exit 3) leaves stdout empty, however far the command got.
 *
 * Quantities are shown through thecal_quantity_format (the ISMP way, locale-independent) and
 * written to JSON twice: as an exact integer in the base unit ("rate_nl_per_day": 200000) and as
 * text ("rate": "0.2 mL/day").
 */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>

#include "thecal-quantity.h"

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC (cJSON, cJSON_Delete)

typedef struct
{
  GString *text;         /* plain output for stdout */
  cJSON *json;           /* the --json object for stdout */
  gboolean json_mode;    /* --json was given */
  gboolean help_shown;   /* --help: text holds the help, nothing else was done */
  gboolean refused;      /* exit 1: a safety finding refuses it */
  GString *refusal;      /* why, one line per reason, for stderr */
  GStringChunk *strings; /* formatted quantities live here until the output is freed */
} ThecalCliOutput;

ThecalCliOutput *thecal_cli_output_new (void);
void thecal_cli_output_free (ThecalCliOutput *out);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ThecalCliOutput, thecal_cli_output_free)

/* Appends to the plain text. */
void thecal_cli_print (ThecalCliOutput *out, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* Marks the output as refused (exit 1) and appends one line to the reason shown on stderr. */
void thecal_cli_refuse (ThecalCliOutput *out, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* Text owned by @out (valid until it is freed). */
const char *thecal_cli_q (ThecalCliOutput *out, ThecalQuantityKind kind, int64_t value);
/* "2026-11-01T09:00" (seconds only when not zero), or "never" for INT64_MAX. */
const char *thecal_cli_instant (ThecalCliOutput *out, int64_t local_ms);
/* "08:00", "24:00", "08:00:30": a time of day given in ms after local midnight. */
const char *thecal_cli_time_of_day (ThecalCliOutput *out, int64_t ms_of_day);
/* "1 h 22 min 1.5 s", "90 days": a duration for people (the exact ms is in the JSON). */
const char *thecal_cli_duration (ThecalCliOutput *out, int64_t ms);
const char *thecal_cli_strdup (ThecalCliOutput *out, const char *text);

/* The base-unit suffix of a kind in JSON key names: "nl_per_day", "ng", ... */
const char *thecal_cli_json_unit_suffix (ThecalQuantityKind kind);

/* JSON writers. Integers are written as exact decimal text (never through a double). */
void thecal_cli_json_int (cJSON *object, const char *key, int64_t value);
void thecal_cli_json_bool (cJSON *object, const char *key, gboolean value);
void thecal_cli_json_string (cJSON *object, const char *key, const char *value); /* NULL: null */
/* "<name>_<unit>": integer and "<name>": "text". */
void thecal_cli_json_quantity (cJSON *object, const char *name, ThecalQuantityKind kind, int64_t value);
/* "<name>_local_ms": integer and "<name>": "2026-11-01T09:00"; both null for INT64_MAX (never). */
void thecal_cli_json_instant (cJSON *object, const char *name, int64_t local_ms);
cJSON *thecal_cli_json_object (cJSON *object, const char *key);
cJSON *thecal_cli_json_array (cJSON *object, const char *key);
cJSON *thecal_cli_json_append_object (cJSON *array);

G_END_DECLS
