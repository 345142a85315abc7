/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-simulate.c: "thecal-cli simulate": the reference pump engine over days (docs/engine.md).
 *
 * The series is the engine's own run (thecal_engine_run): what reached the catheter tip each day
 * or hour, the pump's reservoir estimate beside the actual volume, PTM grants and refusals,
 * alarms, and the pump's event log. The projection beneath it runs the same pump twice more until
 * it is empty (without PTM, and with every press the lockout and the daily maximum allow) and
 * sets the dose core's reservoir projection beside it.
 *
 * What "thecal-cli accuracy" shares with it (the options of the pump, the prescription, the faults
 * and the seed; the engine's start; the heading's faults and refusal) is here too.
 */
#include "config.h"

#include "thecal-cli-simulate.h"

#include <glib/gi18n.h>
#include <inttypes.h>
#include <string.h>

#include "thecal-engine-projection.h"
#include "thecal-refill.h"

#define DAY_MS THECAL_MS_PER_DAY
#define DAYS_MAX 36500
#define HOURS_MAX (24 * 366)
#define PROJECTION_DAYS_MAX 3650

/* ---- faults ------------------------------------------------------------------------------------ */

static gboolean
fault_error (const char *text, const char *why, GError **error)
{
  g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
               _ ("--fault: “%s”: %s (e.g. bias=+20%%, noise=50 nL, stall@3 days/2 h, occlusion@10 days, "
                  "battery-drain=200%%, drift=+100 ppm, memory-error@5 days)"),
               text, why);
  return FALSE;
}

/* "+20%" or "-10 %": a signed ratio in bp */
static gboolean
parse_signed_ratio (const char *fault, const char *text, int64_t *bp, GError **error)
{
  ThecalDoseError dose_error = { 0 };
  gboolean negative = FALSE;

  while (*text == ' ')
    text++;
  if (*text == '+' || *text == '-')
    negative = *text++ == '-';
  if (!thecal_quantity_parse (THECAL_QUANTITY_RATIO, text, "fault", bp, &dose_error))
    return fault_error (fault, dose_error.message, error);
  if (negative)
    *bp = -*bp;
  return TRUE;
}

/* "+100 ppm" */
static gboolean
parse_ppm (const char *fault, const char *text, int64_t *ppm, GError **error)
{
  gboolean negative = FALSE;
  int64_t value = 0;
  const char *p = text;

  while (*p == ' ')
    p++;
  if (*p == '+' || *p == '-')
    negative = *p++ == '-';
  if (!g_ascii_isdigit (*p))
    return fault_error (fault, _ ("the drift is a whole number of ppm"), error);
  while (g_ascii_isdigit (*p))
    {
      if (value > 1000000)
        return fault_error (fault, _ ("the drift is too large"), error);
      value = value * 10 + (*p++ - '0');
    }
  while (*p == ' ')
    p++;
  if (strcmp (p, "ppm") != 0)
    return fault_error (fault, _ ("the drift needs the unit ppm"), error);
  *ppm = negative ? -value : value;
  return TRUE;
}

/* "3 days" (an offset from the start) or "2026-11-04T08:00", then an optional "/2 h". */
static gboolean
parse_when (const char *fault, const char *text, gboolean with_duration, ThecalCliFault *out, GError **error)
{
  g_autofree char *copy = g_strdup (text);
  char *slash = strchr (copy, '/');
  ThecalDoseError dose_error = { 0 };
  GError *ignored = NULL;

  if (slash != NULL)
    {
      if (!with_duration)
        return fault_error (fault, _ ("this fault has no duration"), error);
      *slash = '\0';
      if (!thecal_quantity_parse (THECAL_QUANTITY_DURATION, g_strstrip (slash + 1), "fault", &out->duration_ms,
                                  &dose_error))
        return fault_error (fault, dose_error.message, error);
      if (out->duration_ms <= 0)
        return fault_error (fault, _ ("the duration must be above 0 (leave it out for a permanent fault)"), error);
    }
  g_strstrip (copy);
  if (thecal_quantity_parse (THECAL_QUANTITY_DURATION, copy, "fault", &out->at_ms, &dose_error))
    {
      out->at_is_offset = TRUE;
      return TRUE;
    }
  if (thecal_cli_parse_instant ("fault", copy, &out->at_ms, &ignored))
    {
      out->at_is_offset = FALSE;
      return TRUE;
    }
  g_clear_error (&ignored);
  return fault_error (fault, _ ("the time is a duration after the start (“3 days”) or a date and time "
                                "(“2026-11-04T08:00”)"),
                      error);
}

static gboolean
parse_fault (const char *text, ThecalCliFault *fault, GError **error)
{
  const char *eq = strchr (text, '=');
  const char *at = strchr (text, '@');
  const char *sep = eq != NULL && (at == NULL || eq < at) ? eq : at;
  g_autofree char *name = NULL;
  const char *arg;
  ThecalDoseError dose_error = { 0 };

  memset (fault, 0, sizeof *fault);
  g_strlcpy (fault->text, text, sizeof fault->text);
  if (sep == NULL)
    return fault_error (text, _ ("write NAME=VALUE or NAME@TIME"), error);
  name = g_strstrip (g_strndup (text, (gsize) (sep - text)));
  arg = sep + 1;
  if (sep == eq)
    {
      if (g_str_equal (name, "bias") || g_str_equal (name, "over-infusion") || g_str_equal (name, "under-infusion"))
        {
          fault->kind = THECAL_FAULT_FLOW_BIAS;
          if (!parse_signed_ratio (text, arg, &fault->value, error))
            return FALSE;
          if (g_str_equal (name, "under-infusion"))
            fault->value = -fault->value;
          return TRUE;
        }
      if (g_str_equal (name, "noise"))
        {
          fault->kind = THECAL_FAULT_STROKE_NOISE;
          if (!thecal_quantity_parse (THECAL_QUANTITY_VOLUME, arg, "fault", &fault->value, &dose_error))
            return fault_error (text, dose_error.message, error);
          return TRUE;
        }
      if (g_str_equal (name, "battery-drain"))
        {
          fault->kind = THECAL_FAULT_BATTERY_DRAIN;
          if (!thecal_quantity_parse (THECAL_QUANTITY_RATIO, arg, "fault", &fault->value, &dose_error))
            return fault_error (text, dose_error.message, error);
          return TRUE;
        }
      if (g_str_equal (name, "drift"))
        {
          fault->kind = THECAL_FAULT_CLOCK_DRIFT;
          return parse_ppm (text, arg, &fault->value, error);
        }
    }
  else
    {
      if (g_str_equal (name, "stall"))
        {
          fault->kind = THECAL_FAULT_MOTOR_STALL;
          return parse_when (text, arg, TRUE, fault, error);
        }
      if (g_str_equal (name, "occlusion"))
        {
          fault->kind = THECAL_FAULT_OCCLUSION;
          return parse_when (text, arg, TRUE, fault, error);
        }
      if (g_str_equal (name, "memory-error"))
        {
          fault->kind = THECAL_FAULT_MEMORY_ERROR;
          return parse_when (text, arg, FALSE, fault, error);
        }
    }
  return fault_error (text, _ ("unknown fault"), error);
}

/* Parses every --fault of @texts (NULL-terminated, may be NULL) into @faults. */
static gboolean
parse_faults (char **texts, ThecalCliFault *faults, int32_t *n_faults, GError **error)
{
  *n_faults = 0;
  for (gsize i = 0; texts != NULL && texts[i] != NULL; i++)
    {
      if (*n_faults == THECAL_CLI_FAULTS_MAX)
        {
          g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("--fault: at most %d faults"),
                       THECAL_CLI_FAULTS_MAX);
          return FALSE;
        }
      if (!parse_fault (texts[i], &faults[*n_faults], error))
        return FALSE;
      (*n_faults)++;
    }
  return TRUE;
}

/* ---- the options simulate and accuracy share ------------------------------------------------- */

void
thecal_cli_engine_options_clear (ThecalCliEngineOptions *options)
{
  g_clear_pointer (&options->pump, g_free);
  g_clear_pointer (&options->models_path, g_free);
  g_clear_pointer (&options->library_path, g_free);
  g_clear_pointer (&options->rx_path, g_free);
  g_clear_pointer (&options->seed_text, g_free);
  g_clear_pointer (&options->fault_texts, g_strfreev);
  g_clear_pointer (&options->models, g_free);
  g_clear_pointer (&options->library, g_free);
  g_clear_pointer (&options->rx, g_free);
  g_clear_pointer (&options->plan, g_free);
}

gboolean
thecal_cli_engine_parse_command_line (ThecalCliEngineOptions *options,
                                      const GOptionEntry *own,
                                      const char *summary,
                                      const char *description,
                                      ThecalCliOutput *out,
                                      int argc,
                                      char **argv,
                                      GError **error)
{
  /* Option text is read as bytes (G_OPTION_ARG_FILENAME): "µg" must not depend on the locale. */
  const GOptionEntry prescription = {
    "prescription", 0, 0, G_OPTION_ARG_FILENAME, &options->rx_path,
    N_ ("The prescription the pump runs (required)"), N_ ("FILE")
  };
  const GOptionEntry shared[] = {
    { "fault", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &options->fault_texts,
      N_ ("A fault to inject (see below); repeat for each"), N_ ("FAULT") },
    { "seed", 0, 0, G_OPTION_ARG_FILENAME, &options->seed_text,
      N_ ("Seed of the per-stroke noise (default 0): the same seed gives the same output"), N_ ("S") },
    THECAL_CLI_OPTION_PUMP (&options->pump),
    THECAL_CLI_OPTION_MODELS (&options->models_path),
    THECAL_CLI_OPTION_LIBRARY (&options->library_path),
  };
  gsize n_own = 0;
  g_autofree GOptionEntry *entries = NULL;

  while (own[n_own].long_name != NULL)
    n_own++;
  /* --prescription first, the command's own options, then the rest; the last entry stays zero */
  entries = g_new0 (GOptionEntry, 1 + n_own + G_N_ELEMENTS (shared) + 1);
  entries[0] = prescription;
  memcpy (entries + 1, own, n_own * sizeof *own);
  memcpy (entries + 1 + n_own, shared, sizeof shared);
  return thecal_cli_parse_command_line (NULL, summary, description, entries, out, argc, argv, NULL, error);
}

gboolean
thecal_cli_engine_options_load (ThecalCliEngineOptions *options, GError **error)
{
  ThecalCliEngineSetup *setup = &options->setup;
  const ThecalPumpModel *model;

  if (options->seed_text != NULL)
    {
      guint64 seed = 0;

      if (!g_ascii_string_to_unsigned (options->seed_text, 10, 0, G_MAXUINT64, &seed, NULL))
        {
          g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                       _ ("--seed: “%s” is not a whole number from 0 to 18446744073709551615"), options->seed_text);
          return FALSE;
        }
      setup->seed = seed;
    }
  if (!parse_faults (options->fault_texts, options->faults, &setup->n_faults, error))
    return FALSE;
  setup->faults = options->faults;

  options->models = g_new0 (ThecalPumpModelSet, 1);
  options->library = g_new0 (ThecalDrugLibrary, 1);
  options->rx = g_new0 (ThecalPrescription, 1);
  options->plan = g_new0 (ThecalDeliveryPlan, 1);
  model = thecal_cli_load_model (options->models_path, options->pump, options->models, error);
  if (model == NULL || !thecal_cli_load_library (options->library_path, options->library, error)
      || !thecal_cli_load_prescription (options->rx_path, options->rx, error)
      || !thecal_cli_resolve_plan (options->rx, model, options->rx_path, options->plan, error))
    return FALSE;
  setup->model = model;
  setup->rx = options->rx;
  return TRUE;
}

const char *
thecal_cli_engine_drug_name (const ThecalCliEngineOptions *options)
{
  return thecal_cli_drug_name (options->library, options->rx->drug_id);
}

void
thecal_cli_engine_report_json (ThecalCliOutput *out, const ThecalCliEngineOptions *options)
{
  thecal_cli_json_string (out->json, "prescription_file", options->rx_path);
  thecal_cli_json_string (out->json, "drug_id", options->rx->drug_id);
  thecal_cli_json_string (out->json, "drug", thecal_cli_engine_drug_name (options));
  thecal_cli_json_quantity (out->json, "concentration", THECAL_QUANTITY_CONCENTRATION,
                            options->rx->concentration_ng_per_ml);
  thecal_cli_json_quantity (out->json, "fill", THECAL_QUANTITY_VOLUME, options->setup.fill_nl);
}

gboolean
thecal_cli_engine_report_faults (ThecalCliOutput *out,
                                 const char *command,
                                 const ThecalCliEngineOptions *options,
                                 const char *refusal,
                                 gboolean text)
{
  cJSON *array;

  thecal_cli_json_string (out->json, "seed", options->seed_text != NULL ? options->seed_text : "0");
  array = cJSON_AddArrayToObject (out->json, "faults");
  for (int32_t i = 0; i < options->setup.n_faults; i++)
    {
      cJSON_AddItemToArray (array, cJSON_CreateString (options->faults[i].text));
      if (text)
        thecal_cli_print (out, _ ("Fault: %s\n"), options->faults[i].text);
    }
  thecal_cli_json_bool (out->json, "refused", refusal != NULL);
  if (refusal == NULL)
    return FALSE;
  thecal_cli_print (out, _ ("REFUSED: the pump cannot run this prescription: %s\n"), refusal);
  thecal_cli_json_string (out->json, "refusal", refusal);
  thecal_cli_refuse (out, _ ("%s: the pump refuses the prescription: %s"), command, refusal);
  return TRUE;
}

/* ---- the engine ------------------------------------------------------------------------------- */

gboolean
thecal_cli_engine_start (const ThecalCliEngineSetup *setup, ThecalEngine *engine, char **refusal, GError **error)
{
  ThecalEngineConfig config;
  ThecalDoseError dose_error = { 0 };

  *refusal = NULL;
  thecal_engine_config_init (&config);
  config.model = setup->model;
  config.seed = setup->seed;
  config.start_local_ms = setup->start_local_ms;
  config.battery_bp = setup->battery_bp;
  config.reservoir_nl = setup->fill_nl;
  config.drug_id = setup->rx->drug_id;
  config.concentration_ng_per_ml = setup->rx->concentration_ng_per_ml;
  config.path_primed = TRUE;
  config.catheter.catheter_length_mm = setup->catheter_length_mm;
  config.catheter.catheter_volume_nl_per_cm = 2600; /* 0.0026 mL/cm, CLINICAL.md §2.1 */
  if (!thecal_engine_init (engine, &config, &dose_error))
    return thecal_cli_dose_error (&dose_error, "pump", error);
  if (!thecal_engine_set_prescription (engine, setup->rx, &dose_error))
    {
      *refusal = g_strdup (dose_error.message);
      return TRUE;
    }
  for (int32_t i = 0; i < setup->n_faults; i++)
    {
      const ThecalCliFault *f = &setup->faults[i];
      ThecalEngineFault fault = { 0 };

      fault.kind = f->kind;
      fault.value = f->value;
      fault.at_pump_ms = f->at_is_offset ? setup->start_local_ms + f->at_ms : f->at_ms;
      fault.duration_ms = f->duration_ms;
      if (f->kind != THECAL_FAULT_MOTOR_STALL && f->kind != THECAL_FAULT_OCCLUSION && f->kind != THECAL_FAULT_MEMORY_ERROR)
        fault.at_pump_ms = setup->start_local_ms;
      thecal_dose_error_clear (&dose_error);
      if (!thecal_engine_inject_fault (engine, &fault, &dose_error))
        {
          g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("--fault: “%s”: %s"), f->text, dose_error.message);
          return FALSE;
        }
    }
  return TRUE;
}

const char *
thecal_cli_signed_percent (ThecalCliOutput *out, int64_t bp)
{
  char buf[THECAL_QUANTITY_TEXT_MAX];
  g_autofree char *text = NULL;

  thecal_quantity_format (THECAL_QUANTITY_RATIO, bp, buf, sizeof buf);
  text = bp > 0 ? g_strconcat ("+", buf, NULL) : g_strdup (buf);
  return thecal_cli_strdup (out, text);
}

/* ---- events ------------------------------------------------------------------------------------ */

/* What a person reads; the JSON and the CSV keep the engine's names (thecal_alarm_kind_name ...).
 * @brief: the short form of the table's last column. */
static const char *
alarm_label (ThecalAlarmKind kind, gboolean brief)
{
  switch (kind)
    {
    case THECAL_ALARM_LOW_RESERVOIR:
      return _ ("low reservoir");
    case THECAL_ALARM_RESERVOIR_EMPTY:
      return _ ("reservoir empty");
    case THECAL_ALARM_ERI:
      return brief ? _ ("ERI") : _ ("elective replacement indicator (ERI)");
    case THECAL_ALARM_EOS:
      return brief ? _ ("EOS") : _ ("end of service (EOS)");
    case THECAL_ALARM_MOTOR_STALL:
      return _ ("motor stall");
    case THECAL_ALARM_MEMORY_ERROR:
      return brief ? _ ("memory error") : _ ("critical memory error");
    case THECAL_ALARM_N_KINDS:
    default:
      return "?";
    }
}

static const char *
bolus_label (ThecalSource source)
{
  switch (source)
    {
    case THECAL_SOURCE_BASAL:
      return _ ("basal delivery");
    case THECAL_SOURCE_PERIODIC:
      return _ ("periodic bolus");
    case THECAL_SOURCE_PTM:
      return _ ("PTM bolus");
    case THECAL_SOURCE_CLINICIAN:
      return _ ("clinician bolus");
    case THECAL_SOURCE_PRIMING:
      return _ ("priming bolus");
    case THECAL_SOURCE_BRIDGE:
      return _ ("bridge bolus");
    case THECAL_SOURCE_N_SOURCES:
    default:
      return "?";
    }
}

static const char *
ptm_refusal_label (ThecalPtmOutcome outcome)
{
  switch (outcome)
    {
    case THECAL_PTM_GRANTED:
      return _ ("granted");
    case THECAL_PTM_REFUSED_DISABLED:
      return _ ("PTM is not enabled");
    case THECAL_PTM_REFUSED_LOCKOUT:
      return _ ("inside the lockout");
    case THECAL_PTM_REFUSED_DAILY_MAX:
      return _ ("the maximum per 24 h is reached");
    case THECAL_PTM_REFUSED_RESERVOIR_EMPTY:
      return _ ("the reservoir is empty");
    case THECAL_PTM_REFUSED_NOT_DELIVERING:
      return _ ("the pump is not delivering");
    case THECAL_PTM_REFUSED_BOLUS_IN_PROGRESS:
      return _ ("a bolus is running");
    case THECAL_PTM_N_OUTCOMES:
    default:
      return "?";
    }
}

/* A fault_injected entry: args are value, at pump ms, duration ms. */
static char *
fault_text (ThecalCliOutput *out, ThecalFaultKind kind, const int64_t *a)
{
  switch (kind)
    {
    case THECAL_FAULT_FLOW_BIAS:
      return g_strdup_printf (_ ("fault set (simulation, not a pump entry): flow bias %s"),
                              thecal_cli_signed_percent (out, a[0]));
    case THECAL_FAULT_STROKE_NOISE:
      return g_strdup_printf (_ ("fault set (simulation, not a pump entry): per-stroke noise up to ±%s"),
                              thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[0]));
    case THECAL_FAULT_BATTERY_DRAIN:
      return g_strdup_printf (_ ("fault set (simulation, not a pump entry): battery drain %s of nominal"),
                              thecal_cli_q (out, THECAL_QUANTITY_RATIO, a[0]));
    case THECAL_FAULT_CLOCK_DRIFT:
      return g_strdup_printf (_ ("fault set (simulation, not a pump entry): clock drift %s%" PRId64 " ppm"),
                              a[0] > 0 ? "+" : "", a[0]);
    case THECAL_FAULT_MOTOR_STALL:
      if (a[2] > 0)
        return g_strdup_printf (_ ("fault set (simulation, not a pump entry): motor stall at %s for %s"),
                                thecal_cli_instant (out, a[1]), thecal_cli_duration (out, a[2]));
      return g_strdup_printf (_ ("fault set (simulation, not a pump entry): motor stall at %s, permanent"),
                              thecal_cli_instant (out, a[1]));
    case THECAL_FAULT_OCCLUSION:
      if (a[2] > 0)
        return g_strdup_printf (_ ("fault set (simulation, not a pump entry): catheter occlusion at %s for %s"),
                                thecal_cli_instant (out, a[1]), thecal_cli_duration (out, a[2]));
      return g_strdup_printf (_ ("fault set (simulation, not a pump entry): catheter occlusion at %s, permanent"),
                              thecal_cli_instant (out, a[1]));
    case THECAL_FAULT_MEMORY_ERROR:
      return g_strdup_printf (_ ("fault set (simulation, not a pump entry): memory error at %s"),
                              thecal_cli_instant (out, a[1]));
    case THECAL_FAULT_N_KINDS:
    default:
      return g_strdup_printf (_ ("fault set (simulation, not a pump entry): fault %d"), (int) kind);
    }
}

static gboolean
event_is_notable (const ThecalEngineEvent *event)
{
  switch ((ThecalEngineEventType) event->type)
    {
    case THECAL_EVENT_BOLUS_START:
    case THECAL_EVENT_BOLUS_END:
      return event->code != THECAL_SOURCE_PERIODIC && event->code != THECAL_SOURCE_PTM;
    case THECAL_EVENT_PTM_GRANTED:
      return FALSE;
    case THECAL_EVENT_ENGINE_START:
    case THECAL_EVENT_PRESCRIPTION_SET:
    case THECAL_EVENT_PTM_REFUSED:
    case THECAL_EVENT_ALARM_RAISED:
    case THECAL_EVENT_ALARM_CLEARED:
    case THECAL_EVENT_ALARM_ACKNOWLEDGED:
    case THECAL_EVENT_RESERVOIR_SET:
    case THECAL_EVENT_CLOCK_SET:
    case THECAL_EVENT_FAULT_INJECTED:
    case THECAL_EVENT_MOTOR_RESTARTED:
    case THECAL_EVENT_N_TYPES:
    default:
      return TRUE;
    }
}

static const char *
event_text (ThecalCliOutput *out, const ThecalEngine *engine, const ThecalEngineEvent *e)
{
  g_autofree char *text = NULL;
  const int64_t *a = e->args;

  switch ((ThecalEngineEventType) e->type)
    {
    case THECAL_EVENT_ENGINE_START:
      text = g_strdup_printf (_ ("pump started: reservoir %s, dead space %s, battery %s"),
                              thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[0]), thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[1]),
                              thecal_cli_q (out, THECAL_QUANTITY_RATIO, a[2]));
      break;
    case THECAL_EVENT_PRESCRIPTION_SET:
      /* the mode keeps its name of the prescription file and of every command ("continuous") */
      text = g_strdup_printf (_ ("prescription set: %s, basal %s, periodic boluses %s a day, at %s"),
                              thecal_mode_name ((ThecalMode) e->code), thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, a[0]),
                              thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[1]),
                              thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, a[2]));
      break;
    case THECAL_EVENT_BOLUS_START:
      text = g_strdup_printf (_ ("%s started: %s over %s"), bolus_label ((ThecalSource) e->code),
                              thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[0]), thecal_cli_duration (out, a[1]));
      break;
    case THECAL_EVENT_BOLUS_END:
      text = g_strdup_printf (a[2] ? _ ("%s ended: %s of %s delivered") : _ ("%s STOPPED: %s of %s delivered"),
                              bolus_label ((ThecalSource) e->code), thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[0]),
                              thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[1]));
      break;
    case THECAL_EVENT_PTM_GRANTED:
      text = g_strdup_printf (_ ("PTM granted: %s over %s (%" PRId64 " in the last 24 h)"),
                              thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[0]), thecal_cli_duration (out, a[2]), a[1]);
      break;
    case THECAL_EVENT_PTM_REFUSED:
      if (a[0] >= 0)
        text = g_strdup_printf (_ ("PTM refused: %s (allowed again in %s)"),
                                ptm_refusal_label ((ThecalPtmOutcome) e->code), thecal_cli_duration (out, a[0]));
      else
        text = g_strdup_printf (_ ("PTM refused: %s"), ptm_refusal_label ((ThecalPtmOutcome) e->code));
      break;
    case THECAL_EVENT_ALARM_RAISED:
      text = g_strdup_printf (thecal_alarm_kind_is_critical ((ThecalAlarmKind) e->code)
                                  ? _ ("ALARM raised: %s, critical (pump estimate %s, actual %s, battery %s)")
                                  : _ ("ALARM raised: %s (pump estimate %s, actual %s, battery %s)"),
                              alarm_label ((ThecalAlarmKind) e->code, FALSE), thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[0]),
                              thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[1]), thecal_cli_q (out, THECAL_QUANTITY_RATIO, a[2]));
      break;
    case THECAL_EVENT_ALARM_CLEARED:
      text = g_strdup_printf (_ ("alarm cleared: %s"), alarm_label ((ThecalAlarmKind) e->code, FALSE));
      break;
    case THECAL_EVENT_ALARM_ACKNOWLEDGED:
      text = g_strdup_printf (_ ("alarm acknowledged: %s"), alarm_label ((ThecalAlarmKind) e->code, FALSE));
      break;
    case THECAL_EVENT_RESERVOIR_SET:
      {
        const char *drug = thecal_engine_drug_id (engine, e->code);

        text = g_strdup_printf (_ ("reservoir set: %s of %s at %s"), thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[0]),
                                drug != NULL && drug[0] != '\0' ? drug : _ ("non-drug fluid"),
                                thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, a[1]));
      }
      break;
    case THECAL_EVENT_CLOCK_SET:
      text = g_strdup_printf (_ ("clock set from %s to %s"), thecal_cli_instant (out, a[0]), thecal_cli_instant (out, a[1]));
      break;
    case THECAL_EVENT_FAULT_INJECTED:
      text = fault_text (out, (ThecalFaultKind) e->code, a);
      break;
    case THECAL_EVENT_MOTOR_RESTARTED:
      text = g_strdup (_ ("motor restarted by itself (the stall alarm stays until acknowledged)"));
      break;
    case THECAL_EVENT_N_TYPES:
    default:
      text = g_strdup_printf (_ ("event %d"), (int) e->type);
      break;
    }
  return thecal_cli_strdup (out, text);
}

static void
event_json (cJSON *array, ThecalCliOutput *out, const ThecalEngine *engine, const ThecalEngineEvent *e)
{
  cJSON *object = thecal_cli_json_append_object (array);
  cJSON *args = cJSON_AddArrayToObject (object, "args");

  thecal_cli_json_int (object, "seq", e->seq);
  thecal_cli_json_instant (object, "at", e->pump_ms);
  thecal_cli_json_string (object, "type", thecal_engine_event_type_name ((ThecalEngineEventType) e->type));
  thecal_cli_json_int (object, "code", e->code);
  for (int i = 0; i < 3; i++)
    {
      cJSON *holder = cJSON_CreateObject ();

      /* exact digits, through the same writer as every other integer */
      thecal_cli_json_int (holder, "v", e->args[i]);
      cJSON_AddItemToArray (args, cJSON_DetachItemFromObject (holder, "v"));
      cJSON_Delete (holder);
    }
  thecal_cli_json_string (object, "text", event_text (out, engine, e));
}

/* ---- the projection: the same pump, until empty ------------------------------------------------- */

typedef struct
{
  int64_t low_ms;
  int64_t empty_ms;
} EngineDates;

static gboolean
project_engine (const ThecalCliEngineSetup *setup, ThecalPtmPatternKind kind, EngineDates *dates, GError **error)
{
  g_autofree ThecalEngine *engine = g_new0 (ThecalEngine, 1);
  g_autofree char *refusal = NULL;
  ThecalPtmPattern pattern = { 0 };
  g_autofree ThecalEngineStatus *status = g_new0 (ThecalEngineStatus, 1);
  ThecalEngineRunSummary summary;
  ThecalDoseError dose_error = { 0 };

  dates->low_ms = INT64_MAX;
  dates->empty_ms = INT64_MAX;
  if (!thecal_cli_engine_start (setup, engine, &refusal, error))
    return FALSE;
  if (refusal != NULL)
    return TRUE;
  pattern.kind = kind;
  thecal_engine_get_status (engine, status);
  if (status->alarms[THECAL_ALARM_LOW_RESERVOIR].count > 0)
    dates->low_ms = status->alarms[THECAL_ALARM_LOW_RESERVOIR].raised_at_pump_ms;
  if (status->alarms[THECAL_ALARM_RESERVOIR_EMPTY].count > 0)
    dates->empty_ms = status->alarms[THECAL_ALARM_RESERVOIR_EMPTY].raised_at_pump_ms;
  for (int32_t day = 0; day < PROJECTION_DAYS_MAX && dates->empty_ms == INT64_MAX && !status->eos; day += 30)
    {
      if (!thecal_engine_run (engine, DAY_MS, 30, &pattern, NULL, &summary, &dose_error))
        return thecal_cli_dose_error (&dose_error, "simulate", error);
      if (dates->low_ms == INT64_MAX)
        dates->low_ms = summary.first_raised_pump_ms[THECAL_ALARM_LOW_RESERVOIR];
      dates->empty_ms = summary.first_raised_pump_ms[THECAL_ALARM_RESERVOIR_EMPTY];
      thecal_engine_get_status (engine, status);
    }
  return TRUE;
}

static void
report_projection (ThecalCliOutput *out,
                   cJSON *json,
                   const ThecalCliEngineSetup *setup,
                   const EngineDates *none,
                   const EngineDates *worst,
                   const ThecalProjection *core,
                   gboolean have_core,
                   gboolean csv)
{
  cJSON *engine = thecal_cli_json_object (json, "engine");
  cJSON *dose_core = thecal_cli_json_object (json, "dose_core");

  thecal_cli_json_instant (engine, "low_alarm", none->low_ms);
  thecal_cli_json_instant (engine, "low_alarm_worst", worst->low_ms);
  thecal_cli_json_instant (engine, "empty", none->empty_ms);
  thecal_cli_json_instant (engine, "empty_worst", worst->empty_ms);
  if (have_core)
    {
      thecal_cli_json_instant (dose_core, "low_alarm", core->low_alarm_local_ms);
      thecal_cli_json_instant (dose_core, "low_alarm_worst", core->low_alarm_worst_local_ms);
      thecal_cli_json_instant (dose_core, "empty", core->empty_local_ms);
      thecal_cli_json_instant (dose_core, "empty_worst", core->empty_worst_local_ms);
    }
  if (csv)
    return;
  thecal_cli_print (out, _ ("\nProjection from %s with %s in the reservoir (until empty, at most %d days):\n"),
                    thecal_cli_instant (out, setup->start_local_ms), thecal_cli_q (out, THECAL_QUANTITY_VOLUME, setup->fill_nl),
                    PROJECTION_DAYS_MAX);
  thecal_cli_print (out, "  %-32s %-20s %s\n", "", _ ("no PTM"), _ ("worst-case PTM"));
  thecal_cli_print (out, "  %-32s %-20s %s\n", _ ("Low-reservoir alarm, engine:"), thecal_cli_instant (out, none->low_ms),
                    thecal_cli_instant (out, worst->low_ms));
  if (have_core)
    thecal_cli_print (out, "  %-32s %-20s %s\n", _ ("Low-reservoir alarm, dose core:"),
                      thecal_cli_instant (out, core->low_alarm_local_ms),
                      thecal_cli_instant (out, core->low_alarm_worst_local_ms));
  thecal_cli_print (out, "  %-32s %-20s %s\n", _ ("Empty, engine:"), thecal_cli_instant (out, none->empty_ms),
                    thecal_cli_instant (out, worst->empty_ms));
  if (have_core)
    thecal_cli_print (out, "  %-32s %-20s %s\n", _ ("Empty, dose core:"), thecal_cli_instant (out, core->empty_local_ms),
                      thecal_cli_instant (out, core->empty_worst_local_ms));
  thecal_cli_print (out, _ ("  The engine runs the pump stroke by stroke with the faults given; the dose core counts each "
                            "bolus at its start and knows no fault, so a fault-free engine is never earlier and agrees "
                            "within a stroke (docs/engine.md). The low-reservoir alarm is computed from the programmed "
                            "delivery: an over-infusing pump empties before it sounds (CLINICAL.md §1.5).\n"));
}

/* ---- the command -------------------------------------------------------------------------------- */

/* The alarms of @bits, by the engine's names (CSV) or for people (the table). */
static void
alarm_names (GString *text, uint32_t bits, const char *separator, gboolean for_people)
{
  for (int k = 0; k < THECAL_ALARM_N_KINDS; k++)
    if (bits & (UINT32_C (1) << k))
      {
        if (text->len > 0)
          g_string_append (text, separator);
        g_string_append (text, for_people ? alarm_label ((ThecalAlarmKind) k, TRUE)
                                          : thecal_alarm_kind_name ((ThecalAlarmKind) k));
      }
}

static void
alarm_json (cJSON *object, const char *key, uint32_t bits)
{
  cJSON *array = cJSON_AddArrayToObject (object, key);

  for (int k = 0; k < THECAL_ALARM_N_KINDS; k++)
    if (bits & (UINT32_C (1) << k))
      cJSON_AddItemToArray (array, cJSON_CreateString (thecal_alarm_kind_name ((ThecalAlarmKind) k)));
}

typedef enum
{
  FORMAT_TABLE,
  FORMAT_CSV,
  FORMAT_JSON,
} Format;

/* --events: which log entries the text lists (the JSON always has them all). */
typedef enum
{
  EVENTS_NOTABLE,
  EVENTS_ALL,
  EVENTS_NONE,
} EventChoice;

/* --format, with --json as a synonym of --format json. */
static gboolean
parse_format (ThecalCliOutput *out, const char *text, Format *format, GError **error)
{
  if (text == NULL || g_str_equal (text, "table"))
    *format = out->json_mode ? FORMAT_JSON : FORMAT_TABLE;
  else if (g_str_equal (text, "csv"))
    *format = FORMAT_CSV;
  else if (g_str_equal (text, "json"))
    *format = FORMAT_JSON;
  else
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("--format: “%s”: use table, csv or json"), text);
      return FALSE;
    }
  if (*format == FORMAT_JSON)
    out->json_mode = TRUE;
  else if (out->json_mode)
    {
      g_set_error_literal (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("--json and --format csv conflict"));
      return FALSE;
    }
  return TRUE;
}

/* The CSV's names of an entry: its type and, where it has one, the name of its code
 * ("alarm_raised:motor_stall", "ptm_refused:lockout", "bolus_start:clinician"). */
static void
event_csv_name (GString *text, const ThecalEngineEvent *e)
{
  const char *code = NULL;

  g_string_append (text, thecal_engine_event_type_name ((ThecalEngineEventType) e->type));
  switch ((ThecalEngineEventType) e->type)
    {
    case THECAL_EVENT_PRESCRIPTION_SET:
      code = thecal_mode_name ((ThecalMode) e->code);
      break;
    case THECAL_EVENT_BOLUS_START:
    case THECAL_EVENT_BOLUS_END:
      code = thecal_source_name ((ThecalSource) e->code);
      break;
    case THECAL_EVENT_PTM_REFUSED:
      code = thecal_ptm_outcome_name ((ThecalPtmOutcome) e->code);
      break;
    case THECAL_EVENT_ALARM_RAISED:
    case THECAL_EVENT_ALARM_CLEARED:
    case THECAL_EVENT_ALARM_ACKNOWLEDGED:
      code = thecal_alarm_kind_name ((ThecalAlarmKind) e->code);
      break;
    case THECAL_EVENT_FAULT_INJECTED:
      code = thecal_fault_kind_name ((ThecalFaultKind) e->code);
      break;
    case THECAL_EVENT_ENGINE_START:
    case THECAL_EVENT_PTM_GRANTED:
    case THECAL_EVENT_RESERVOIR_SET:
    case THECAL_EVENT_CLOCK_SET:
    case THECAL_EVENT_MOTOR_RESTARTED:
    case THECAL_EVENT_N_TYPES:
    default:
      break;
    }
  if (code != NULL)
    g_string_append_printf (text, ":%s", code);
}

/* One line (or CSV row) of the series, and its JSON object. The CSV row ends with the log
 * entries the period wrote (as --events chooses); the JSON object gives their sequence numbers
 * (the "events" array has them all). */
static void
report_sample (ThecalCliOutput *out,
               cJSON *series,
               const ThecalEngine *engine,
               int32_t period,
               const ThecalEngineSample *s,
               Format format,
               EventChoice events)
{
  cJSON *object = thecal_cli_json_append_object (series);
  g_autoptr (GString) raised = g_string_new (NULL);
  g_autoptr (GString) active = g_string_new (NULL);
  g_autoptr (GString) entries = g_string_new (NULL);

  thecal_cli_json_int (object, "period", period);
  thecal_cli_json_instant (object, "start", s->start_true_ms);
  thecal_cli_json_quantity (object, "delivered", THECAL_QUANTITY_VOLUME, s->delivered_nl);
  thecal_cli_json_quantity (object, "delivered_dose", THECAL_QUANTITY_AMOUNT, s->delivered_ng);
  thecal_cli_json_quantity (object, "pumped", THECAL_QUANTITY_VOLUME, s->pumped_nl);
  thecal_cli_json_int (object, "ptm_granted", s->ptm_granted);
  thecal_cli_json_int (object, "ptm_refused", s->ptm_refused);
  thecal_cli_json_quantity (object, "reservoir_estimate", THECAL_QUANTITY_VOLUME, s->reservoir_estimate_nl);
  thecal_cli_json_quantity (object, "reservoir_actual", THECAL_QUANTITY_VOLUME, s->reservoir_actual_nl);
  thecal_cli_json_quantity (object, "battery", THECAL_QUANTITY_RATIO, s->battery_bp);
  alarm_json (object, "alarms_raised", s->alarms_raised);
  alarm_json (object, "alarms_active", s->alarms_active);
  thecal_cli_json_int (object, "first_event_seq", s->first_seq);
  thecal_cli_json_int (object, "next_event_seq", s->next_seq);
  if (format == FORMAT_CSV)
    {
      alarm_names (raised, s->alarms_raised, ";", FALSE);
      alarm_names (active, s->alarms_active, ";", FALSE);
      for (int64_t seq = s->first_seq; events != EVENTS_NONE && seq < s->next_seq; seq++)
        {
          ThecalEngineEvent e;

          if (!thecal_engine_log_get (engine, seq, &e) || (events == EVENTS_NOTABLE && !event_is_notable (&e)))
            continue;
          if (entries->len > 0)
            g_string_append_c (entries, ';');
          event_csv_name (entries, &e);
        }
      thecal_cli_print (out, "%d,%s,%s,%" PRId64 ",%" PRId64 ",%" PRId64 ",%d,%d,%" PRId64 ",%" PRId64 ",%" PRId64 ",%s,%s,%s\n",
                        (int) period, thecal_cli_instant (out, s->start_true_ms), thecal_cli_instant (out, s->end_true_ms),
                        s->delivered_nl, s->delivered_ng, s->pumped_nl, (int) s->ptm_granted, (int) s->ptm_refused,
                        s->reservoir_estimate_nl, s->reservoir_actual_nl, s->battery_bp, raised->str, active->str,
                        entries->str);
    }
  else
    {
      g_autofree char *ptm = g_strdup_printf ("%d/%d", (int) s->ptm_granted, (int) s->ptm_refused);

      alarm_names (raised, s->alarms_raised, ", ", TRUE);
      /* the alarms column is the last: no trailing spaces when it is empty */
      thecal_cli_print (out, "%-5d %-16s %12s %12s %7s %14s %14s %8s%s%s\n", (int) period,
                        thecal_cli_instant (out, s->start_true_ms), thecal_cli_q (out, THECAL_QUANTITY_VOLUME, s->delivered_nl),
                        thecal_cli_q (out, THECAL_QUANTITY_AMOUNT, s->delivered_ng), ptm,
                        thecal_cli_q (out, THECAL_QUANTITY_VOLUME, s->reservoir_estimate_nl),
                        thecal_cli_q (out, THECAL_QUANTITY_VOLUME, s->reservoir_actual_nl),
                        thecal_cli_q (out, THECAL_QUANTITY_RATIO, s->battery_bp), raised->len > 0 ? "  " : "", raised->str);
    }
}

/* The pump's log from @first_seq on: as text (all entries, or the notable ones, or none) and,
 * every entry, into @events. */
static void
report_events (ThecalCliOutput *out, cJSON *events, const ThecalEngine *engine, int64_t first_seq, gboolean text, gboolean all)
{
  int64_t oldest = thecal_engine_log_oldest_seq (engine);
  int64_t next = thecal_engine_log_next_seq (engine);
  int64_t skipped = 0;

  if (text)
    {
      thecal_cli_print (out, all ? _ ("\nEvents (the pump's log):\n") : _ ("\nEvents (the pump's log, notable entries):\n"));
      if (oldest > first_seq)
        thecal_cli_print (out, _ ("  (the ring holds the last %d entries: %" PRId64 " older ones were overwritten)\n"),
                          THECAL_ENGINE_LOG_CAPACITY, oldest - first_seq);
    }
  for (int64_t seq = oldest; seq < next; seq++)
    {
      ThecalEngineEvent e;

      if (!thecal_engine_log_get (engine, seq, &e))
        continue;
      event_json (events, out, engine, &e);
      if (!text)
        continue;
      if (!all && !event_is_notable (&e))
        skipped++;
      else
        thecal_cli_print (out, "  #%-6" PRId64 " %-16s %s\n", e.seq, thecal_cli_instant (out, e.pump_ms),
                          event_text (out, engine, &e));
    }
  if (skipped > 0)
    thecal_cli_print (out, _ ("  (%" PRId64 " routine entries not shown: periodic and PTM boluses, PTM grants; "
                              "--events all lists them)\n"),
                      skipped);
}

static void
report_summary (ThecalCliOutput *out,
                const ThecalEngineRunSummary *summary,
                const char *drug_name,
                gboolean text)
{
  cJSON *json = thecal_cli_json_object (out->json, "summary");
  cJSON *first;

  thecal_cli_json_quantity (json, "delivered", THECAL_QUANTITY_VOLUME, summary->delivered_nl);
  thecal_cli_json_quantity (json, "delivered_dose", THECAL_QUANTITY_AMOUNT, summary->delivered_ng);
  thecal_cli_json_quantity (json, "pumped", THECAL_QUANTITY_VOLUME, summary->pumped_nl);
  thecal_cli_json_int (json, "ptm_granted", summary->ptm_granted);
  thecal_cli_json_int (json, "ptm_refused", summary->ptm_refused);
  first = thecal_cli_json_object (json, "first_alarm");
  for (int k = 0; k < THECAL_ALARM_N_KINDS; k++)
    thecal_cli_json_instant (first, thecal_alarm_kind_name ((ThecalAlarmKind) k), summary->first_raised_pump_ms[k]);
  if (!text)
    return;
  thecal_cli_print (out, _ ("\nSummary: %s (%s %s) reached the catheter tip; PTM %" PRId64 " granted, %" PRId64 " refused\n"),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, summary->delivered_nl),
                    thecal_cli_q (out, THECAL_QUANTITY_AMOUNT, summary->delivered_ng), drug_name, summary->ptm_granted,
                    summary->ptm_refused);
  for (int k = 0; k < THECAL_ALARM_N_KINDS; k++)
    if (summary->first_raised_pump_ms[k] != INT64_MAX)
      thecal_cli_print (out,
                        thecal_alarm_kind_is_critical ((ThecalAlarmKind) k)
                            ? _ ("  %s alarm first raised: %s (critical: delivery stopped)\n")
                            : _ ("  %s alarm first raised: %s\n"),
                        alarm_label ((ThecalAlarmKind) k, FALSE), thecal_cli_instant (out, summary->first_raised_pump_ms[k]));
}

gboolean
thecal_cli_simulate (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (ThecalCliEngineOptions) options = { 0 };
  g_autofree char *fill_text = NULL;
  g_autofree char *start_text = NULL;
  g_autofree char *ptm_text = NULL;
  g_autofree char *format_text = NULL;
  g_autofree char *events_text = NULL;
  g_autofree char *catheter_text = NULL;
  g_autofree char *battery_text = NULL;
  gint days = 0;
  gint hours = 0;
  g_autofree ThecalEngine *engine = g_new0 (ThecalEngine, 1);
  g_autofree ThecalEngineSample *samples = NULL;
  g_autofree char *refusal = NULL;
  ThecalCliEngineSetup *setup = &options.setup;
  ThecalPtmPattern pattern = { 0 };
  ThecalEngineRunSummary summary;
  ThecalDoseError dose_error = { 0 };
  ThecalProjection core = { 0 };
  EngineDates none, worst;
  const ThecalPumpModel *model;
  const char *drug_name;
  Format format = FORMAT_TABLE;
  int64_t period_ms, first_seq, mm = 0;
  int32_t n_periods;
  gboolean have_core, text;
  EventChoice events = EVENTS_NOTABLE;
  cJSON *series;
  const GOptionEntry entries[] = {
    { "fill", 0, 0, G_OPTION_ARG_FILENAME, &fill_text, N_ ("Reservoir volume at the start (required)"), N_ ("VOLUME") },
    { "days", 0, 0, G_OPTION_ARG_INT, &days, N_ ("Days to simulate (one line a day)"), N_ ("N") },
    { "hours", 0, 0, G_OPTION_ARG_INT, &hours, N_ ("Hours to simulate instead (one line an hour)"), N_ ("N") },
    /* the default is THECAL_CLI_ENGINE_DEFAULT_START, written out for xgettext */
    { "start", 0, 0, G_OPTION_ARG_FILENAME, &start_text,
      N_ ("Pump-local start (default 2026-11-01T00:00)"), N_ ("DATETIME") },
    { "ptm-presses", 0, 0, G_OPTION_ARG_FILENAME, &ptm_text,
      N_ ("PTM presses each day: HH:MM,HH:MM,…, worst (whenever allowed) or none (default)"), N_ ("PATTERN") },
    { "catheter", 0, 0, G_OPTION_ARG_FILENAME, &catheter_text,
      N_ ("Implanted catheter length (0.0026 mL/cm; default 0 cm)"), N_ ("LENGTH") },
    { "battery", 0, 0, G_OPTION_ARG_FILENAME, &battery_text, N_ ("Battery left at the start (default 100 %)"),
      N_ ("PERCENT") },
    { "format", 0, 0, G_OPTION_ARG_FILENAME, &format_text, N_ ("table (default), csv or json"), N_ ("FORMAT") },
    { "events", 0, 0, G_OPTION_ARG_FILENAME, &events_text,
      N_ ("Events listed under the table and in the CSV's events column: notable (default), all or none"),
      N_ ("WHICH") },
    G_OPTION_ENTRY_NULL
  };

  if (!thecal_cli_engine_parse_command_line (
          &options, entries,
          _ ("Run the reference pump on a prescription: delivered dose and volume, reservoir, alarms and events."),
          _ ("The reference pump engine (docs/engine.md) delivers the prescription in strokes of the model's stroke "
             "volume, through the internal and catheter dead space, with PTM presses and the faults given. Each line "
             "is one day (--days) or one hour (--hours): the volume and the drug that reached the catheter tip, the PTM "
             "boluses granted and refused, the pump's reservoir estimate (what the pump computes from the programmed "
             "delivery) beside the actual volume, the battery, and the alarms raised. The pump's event log follows, then "
             "the projection: the low-reservoir and empty dates of the same pump without PTM and with every press the "
             "lockout and the daily maximum allow, beside the dose core's reservoir projection. --format csv prints "
             "the series alone, one row a period, its last column the period's log entries (e.g. "
             "alarm_raised:motor_stall); --format json (or --json) prints everything, the log in full.\n\n"
             "Faults: bias=+20% (systematic over- or under-infusion), noise=50 nL (per-stroke noise, reproducible by "
             "--seed), stall@3 days[/2 h] (motor stall, permanent without a duration), occlusion@10 days[/1 day] "
             "(catheter occlusion), battery-drain=200%, drift=+100 ppm (clock drift), memory-error@5 days. A time is "
             "a duration after the start or a date and time (2026-11-04T08:00).\n\n"
             "The same seed and options give the same output, byte for byte. A prescription the pump cannot deliver "
             "(a rate outside its programmable range) is refused: exit status 1.\n\n"
             "Example:\n"
             "  thecal-cli simulate --prescription morphine.json --fill \"20 mL\" --days 30 \\\n"
             "    --ptm-presses 08:00,13:00,20:00 --fault bias=+20%"),
          out, argc, argv, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (!thecal_cli_require ("prescription", options.rx_path, "morphine.json", error)
      || !thecal_cli_require ("fill", fill_text, "\"20 mL\"", error))
    return FALSE;
  if ((days > 0) == (hours > 0) || days < 0 || hours < 0)
    {
      g_set_error_literal (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                           _ ("give exactly one of --days N and --hours N, above 0 (e.g. --days 30)"));
      return FALSE;
    }
  if (days > DAYS_MAX || hours > HOURS_MAX)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("--days at most %d (100 years), --hours at most %d (one year)"), DAYS_MAX, HOURS_MAX);
      return FALSE;
    }
  if (!parse_format (out, format_text, &format, error))
    return FALSE;
  text = format != FORMAT_CSV;
  if (events_text != NULL)
    {
      if (g_str_equal (events_text, "all"))
        events = EVENTS_ALL;
      else if (g_str_equal (events_text, "none"))
        events = EVENTS_NONE;
      else if (!g_str_equal (events_text, "notable"))
        {
          g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                       _ ("--events: “%s”: use notable, all or none"), events_text);
          return FALSE;
        }
    }

  if (!thecal_cli_parse_quantity ("fill", fill_text, THECAL_QUANTITY_VOLUME, &setup->fill_nl, error))
    return FALSE;
  setup->battery_bp = THECAL_BP_WHOLE;
  if (battery_text != NULL
      && !thecal_cli_parse_quantity ("battery", battery_text, THECAL_QUANTITY_RATIO, &setup->battery_bp, error))
    return FALSE;
  if (catheter_text != NULL)
    {
      if (!thecal_cli_parse_quantity ("catheter", catheter_text, THECAL_QUANTITY_LENGTH, &mm, error))
        return FALSE;
      if (mm < 0 || mm > 10000)
        {
          g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("--catheter: “%s” is outside 0 to 10 m"),
                       catheter_text);
          return FALSE;
        }
      setup->catheter_length_mm = (int32_t) mm;
    }
  if (ptm_text != NULL && !thecal_ptm_pattern_parse (ptm_text, &pattern, &dose_error))
    return thecal_cli_dose_error (&dose_error, "--ptm-presses", error);
  if (!thecal_cli_parse_instant ("start", start_text != NULL ? start_text : THECAL_CLI_ENGINE_DEFAULT_START,
                                 &setup->start_local_ms, error))
    return FALSE;
  /* the shared options (seed, faults), then the files */
  if (!thecal_cli_engine_options_load (&options, error))
    return FALSE;
  model = setup->model;
  drug_name = thecal_cli_engine_drug_name (&options);
  if (!thecal_cli_engine_start (setup, engine, &refusal, error))
    return FALSE;

  thecal_cli_engine_report_json (out, &options);
  thecal_cli_json_instant (out->json, "start", setup->start_local_ms);
  thecal_cli_json_string (out->json, "period", days > 0 ? "day" : "hour");
  thecal_cli_json_int (out->json, "periods", days > 0 ? days : hours);
  thecal_cli_json_string (out->json, "ptm_presses", ptm_text != NULL ? ptm_text : "none");
  if (text)
    {
      thecal_cli_print (out, _ ("Simulation of the reference pump (docs/engine.md): %s %s, prescription %s\n"), drug_name,
                        thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, options.rx->concentration_ng_per_ml),
                        options.rx_path);
      thecal_cli_report_model (out, out->json, model, options.pump == NULL);
      thecal_cli_print (out,
                        days > 0 ? ngettext ("Fill %s from %s for %d day; PTM presses: %s; seed %s\n",
                                             "Fill %s from %s for %d days; PTM presses: %s; seed %s\n", (unsigned long) days)
                                 : ngettext ("Fill %s from %s for %d hour; PTM presses: %s; seed %s\n",
                                             "Fill %s from %s for %d hours; PTM presses: %s; seed %s\n", (unsigned long) hours),
                        thecal_cli_q (out, THECAL_QUANTITY_VOLUME, setup->fill_nl),
                        thecal_cli_instant (out, setup->start_local_ms), days > 0 ? days : hours,
                        ptm_text != NULL ? ptm_text : _ ("none"), options.seed_text != NULL ? options.seed_text : "0");
    }
  if (thecal_cli_engine_report_faults (out, "simulate", &options, refusal, text))
    return TRUE;

  period_ms = days > 0 ? DAY_MS : THECAL_MS_PER_HOUR;
  n_periods = days > 0 ? days : hours;
  samples = g_new0 (ThecalEngineSample, n_periods);
  first_seq = thecal_engine_log_oldest_seq (engine);
  if (!thecal_engine_run (engine, period_ms, n_periods, &pattern, samples, &summary, &dose_error))
    return thecal_cli_dose_error (&dose_error, "simulate", error);

  /* the series */
  series = cJSON_AddArrayToObject (out->json, "series");
  if (format == FORMAT_CSV)
    thecal_cli_print (out, "period,start,end,delivered_nl,delivered_ng,pumped_nl,ptm_granted,ptm_refused,"
                           "reservoir_estimate_nl,reservoir_actual_nl,battery_bp,alarms_raised,alarms_active,events\n");
  else
    thecal_cli_print (out, _ ("\n%-5s %-16s %12s %12s %7s %14s %14s %8s  %s\n"), days > 0 ? _ ("Day") : _ ("Hour"),
                      _ ("Start"), _ ("Delivered"), _ ("Dose"), _ ("PTM"), _ ("Reservoir"), _ ("Actual"), _ ("Battery"),
                      _ ("Alarms raised"));
  for (int32_t i = 0; i < n_periods; i++)
    report_sample (out, series, engine, i + 1, &samples[i], format, events);
  if (text)
    thecal_cli_print (out, _ ("(Delivered and Dose: what reached the catheter tip. PTM: granted/refused. Reservoir: the "
                              "pump's estimate from the programmed delivery; Actual: what is really left.)\n"));

  /* the events, the summary */
  report_events (out, cJSON_AddArrayToObject (out->json, "events"), engine, first_seq, text && events != EVENTS_NONE,
                 events == EVENTS_ALL);
  thecal_cli_json_int (out->json, "log_oldest_seq", thecal_engine_log_oldest_seq (engine));
  thecal_cli_json_int (out->json, "log_next_seq", thecal_engine_log_next_seq (engine));
  report_summary (out, &summary, drug_name, text);

  /* the projection */
  if (!project_engine (setup, THECAL_PTM_PATTERN_NONE, &none, error)
      || !project_engine (setup, THECAL_PTM_PATTERN_WORST_CASE, &worst, error))
    return FALSE;
  have_core = thecal_project_reservoir (model, options.plan, setup->fill_nl, setup->start_local_ms, 0, &core, &dose_error);
  report_projection (out, thecal_cli_json_object (out->json, "projection"), setup, &none, &worst, &core, have_core, !text);
  return TRUE;
}
