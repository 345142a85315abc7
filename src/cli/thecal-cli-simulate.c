/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-simulate.c: "thecal-cli simulate": the reference pump engine over days (docs/engine.md).
 *
 * The series is the engine's own run (thecal_engine_run): what reached the catheter tip each day
 * or hour, the pump's reservoir estimate beside the actual volume, PTM grants and refusals,
 * alarms, and the pump's event log. The projection beneath it runs the same pump twice more until
 * it is empty (without PTM, and with every press the lockout and the daily maximum allow) and
 * sets the dose core's reservoir projection beside it.
 */
#include "config.h"

#include "thecal-cli-simulate.h"

#include <glib/gi18n.h>
#include <inttypes.h>
#include <string.h>

#include "thecal-engine-projection.h"
#include "thecal-refill.h"

#define DAY_MS THECAL_MS_PER_DAY
#define DEFAULT_START "2026-11-01T00:00"
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

gboolean
thecal_cli_parse_faults (char **texts, ThecalCliFault *faults, int32_t *n_faults, GError **error)
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
          g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, "--fault: “%s”: %s", f->text, dose_error.message);
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

static const char *
alarm_label (ThecalAlarmKind kind)
{
  switch (kind)
    {
    case THECAL_ALARM_LOW_RESERVOIR:
      return _ ("low reservoir");
    case THECAL_ALARM_RESERVOIR_EMPTY:
      return _ ("reservoir empty");
    case THECAL_ALARM_ERI:
      return _ ("elective replacement indicator (ERI)");
    case THECAL_ALARM_EOS:
      return _ ("end of service (EOS)");
    case THECAL_ALARM_MOTOR_STALL:
      return _ ("motor stall");
    case THECAL_ALARM_MEMORY_ERROR:
      return _ ("critical memory error");
    case THECAL_ALARM_N_KINDS:
    default:
      return "?";
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
      text = g_strdup_printf (_ ("prescription set: %s, basal %s, periodic boluses %s a day, at %s"),
                              thecal_mode_name ((ThecalMode) e->code), thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, a[0]),
                              thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[1]),
                              thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, a[2]));
      break;
    case THECAL_EVENT_BOLUS_START:
      text = g_strdup_printf (_ ("%s bolus started: %s over %s"), thecal_source_name ((ThecalSource) e->code),
                              thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[0]), thecal_cli_duration (out, a[1]));
      break;
    case THECAL_EVENT_BOLUS_END:
      text = g_strdup_printf (a[2] ? _ ("%s bolus ended: %s of %s delivered") : _ ("%s bolus STOPPED: %s of %s delivered"),
                              thecal_source_name ((ThecalSource) e->code), thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[0]),
                              thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[1]));
      break;
    case THECAL_EVENT_PTM_GRANTED:
      text = g_strdup_printf (_ ("PTM granted: %s over %s (%" PRId64 " in the last 24 h)"),
                              thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[0]), thecal_cli_duration (out, a[2]), a[1]);
      break;
    case THECAL_EVENT_PTM_REFUSED:
      if (a[0] >= 0)
        text = g_strdup_printf (_ ("PTM refused: %s (allowed again in %s)"),
                                thecal_ptm_outcome_name ((ThecalPtmOutcome) e->code), thecal_cli_duration (out, a[0]));
      else
        text = g_strdup_printf (_ ("PTM refused: %s"), thecal_ptm_outcome_name ((ThecalPtmOutcome) e->code));
      break;
    case THECAL_EVENT_ALARM_RAISED:
      text = g_strdup_printf (_ ("ALARM raised: %s%s (pump estimate %s, actual %s, battery %s)"),
                              alarm_label ((ThecalAlarmKind) e->code),
                              thecal_alarm_kind_is_critical ((ThecalAlarmKind) e->code) ? _ (", critical") : "",
                              thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[0]), thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[1]),
                              thecal_cli_q (out, THECAL_QUANTITY_RATIO, a[2]));
      break;
    case THECAL_EVENT_ALARM_CLEARED:
      text = g_strdup_printf (_ ("alarm cleared: %s"), alarm_label ((ThecalAlarmKind) e->code));
      break;
    case THECAL_EVENT_ALARM_ACKNOWLEDGED:
      text = g_strdup_printf (_ ("alarm acknowledged: %s"), alarm_label ((ThecalAlarmKind) e->code));
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
      if (e->code == THECAL_FAULT_MOTOR_STALL || e->code == THECAL_FAULT_OCCLUSION || e->code == THECAL_FAULT_MEMORY_ERROR)
        text = g_strdup_printf (_ ("fault set (simulation, not a pump entry): %s at %s%s%s"),
                                thecal_fault_kind_name ((ThecalFaultKind) e->code), thecal_cli_instant (out, a[1]),
                                a[2] > 0 ? _ (" for ") : (e->code == THECAL_FAULT_MEMORY_ERROR ? "" : _ (", permanent")),
                                a[2] > 0 ? thecal_cli_duration (out, a[2]) : "");
      else
        text = g_strdup_printf (_ ("fault set (simulation, not a pump entry): %s %" PRId64 " %s"),
                                thecal_fault_kind_name ((ThecalFaultKind) e->code), a[0],
                                e->code == THECAL_FAULT_STROKE_NOISE ? "nL" : e->code == THECAL_FAULT_CLOCK_DRIFT ? "ppm"
                                                                                                                  : "bp");
      break;
    case THECAL_EVENT_MOTOR_RESTARTED:
      text = g_strdup (_ ("motor restarted by itself (the stall alarm stays until acknowledged)"));
      break;
    case THECAL_EVENT_N_TYPES:
    default:
      text = g_strdup_printf ("event %d", (int) e->type);
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

static void
alarm_names (GString *text, uint32_t bits, const char *separator)
{
  for (int k = 0; k < THECAL_ALARM_N_KINDS; k++)
    if (bits & (UINT32_C (1) << k))
      {
        if (text->len > 0)
          g_string_append (text, separator);
        g_string_append (text, thecal_alarm_kind_name ((ThecalAlarmKind) k));
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

gboolean
thecal_cli_simulate (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_autofree char *pump = NULL;
  g_autofree char *models_path = NULL;
  g_autofree char *rx_path = NULL;
  g_autofree char *fill_text = NULL;
  g_autofree char *start_text = NULL;
  g_autofree char *ptm_text = NULL;
  g_autofree char *seed_text = NULL;
  g_autofree char *format_text = NULL;
  g_autofree char *events_text = NULL;
  g_autofree char *catheter_text = NULL;
  g_autofree char *battery_text = NULL;
  g_auto (GStrv) fault_texts = NULL;
  g_auto (GStrv) positional = NULL;
  gint days = 0;
  gint hours = 0;
  g_autoptr (GOptionContext) context = NULL;
  g_autofree ThecalPumpModelSet *models = g_new0 (ThecalPumpModelSet, 1);
  g_autofree ThecalPrescription *rx = g_new0 (ThecalPrescription, 1);
  g_autofree ThecalDeliveryPlan *plan = g_new0 (ThecalDeliveryPlan, 1);
  g_autofree ThecalEngine *engine = g_new0 (ThecalEngine, 1);
  g_autofree ThecalEngineSample *samples = NULL;
  g_autofree char *refusal = NULL;
  ThecalCliFault faults[THECAL_CLI_FAULTS_MAX] = { 0 };
  int32_t n_faults = 0;
  ThecalCliEngineSetup setup = { 0 };
  ThecalPtmPattern pattern = { 0 };
  ThecalEngineRunSummary summary;
  ThecalDoseError dose_error = { 0 };
  ThecalProjection core = { 0 };
  EngineDates none, worst;
  const ThecalPumpModel *model;
  Format format = FORMAT_TABLE;
  int64_t period_ms, first_seq, mm = 0;
  int32_t n_periods;
  gboolean have_core, all_events = FALSE, no_events = FALSE;
  cJSON *series, *events, *summary_json;
  const GOptionEntry entries[] = {
    { "pump", 'p', 0, G_OPTION_ARG_FILENAME, &pump, N_ ("Pump model (default TR-20)"), N_ ("MODEL") },
    { "models", 0, 0, G_OPTION_ARG_FILENAME, &models_path, N_ ("Pump models file"), N_ ("FILE") },
    { "prescription", 0, 0, G_OPTION_ARG_FILENAME, &rx_path, N_ ("The prescription to run"), N_ ("FILE") },
    { "fill", 0, 0, G_OPTION_ARG_FILENAME, &fill_text, N_ ("Reservoir volume at the start"), N_ ("VOLUME") },
    { "days", 0, 0, G_OPTION_ARG_INT, &days, N_ ("Days to simulate (one line a day)"), N_ ("N") },
    { "hours", 0, 0, G_OPTION_ARG_INT, &hours, N_ ("Hours to simulate instead (one line an hour)"), N_ ("N") },
    { "start", 0, 0, G_OPTION_ARG_FILENAME, &start_text, N_ ("Pump-local start (default " DEFAULT_START ")"),
      N_ ("DATETIME") },
    { "ptm-presses", 0, 0, G_OPTION_ARG_FILENAME, &ptm_text,
      N_ ("PTM presses each day: HH:MM,HH:MM,…, worst (whenever allowed) or none (default)"), N_ ("PATTERN") },
    { "fault", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &fault_texts, N_ ("A fault to inject; repeat for each"), N_ ("FAULT") },
    { "seed", 0, 0, G_OPTION_ARG_FILENAME, &seed_text, N_ ("Seed of the per-stroke noise (default 0)"), N_ ("S") },
    { "catheter", 0, 0, G_OPTION_ARG_FILENAME, &catheter_text,
      N_ ("Implanted catheter length (0.0026 mL/cm; default 0 cm)"), N_ ("LENGTH") },
    { "battery", 0, 0, G_OPTION_ARG_FILENAME, &battery_text, N_ ("Battery left at the start (default 100 %)"),
      N_ ("PERCENT") },
    { "format", 0, 0, G_OPTION_ARG_FILENAME, &format_text, N_ ("table (default), csv or json"), N_ ("FORMAT") },
    { "events", 0, 0, G_OPTION_ARG_FILENAME, &events_text,
      N_ ("Events listed under the table: notable (default), all or none"), N_ ("WHICH") },
    G_OPTION_ENTRY_NULL
  };

  context = thecal_cli_option_context_new (
      NULL, _ ("Run the reference pump on a prescription: delivered dose and volume, reservoir, alarms and events."),
      _ ("The reference pump engine (docs/engine.md) delivers the prescription in strokes of the model's stroke "
         "volume, through the internal and catheter dead space, with PTM presses and the faults given. Each line "
         "is one day (--days) or one hour (--hours): the volume and the drug that reached the catheter tip, the PTM "
         "boluses granted and refused, the pump's reservoir estimate (what the pump computes from the programmed "
         "delivery) beside the actual volume, the battery, and the alarms raised. The pump's event log follows, then "
         "the projection: the low-reservoir and empty dates of the same pump without PTM and with every press the "
         "lockout and the daily maximum allow, beside the dose core's reservoir projection.\n\n"
         "Faults: bias=+20% (systematic over- or under-infusion), noise=50 nL (per-stroke noise, reproducible by "
         "--seed), stall@3 days[/2 h] (motor stall, permanent without a duration), occlusion@10 days[/1 day] "
         "(catheter occlusion), battery-drain=200%, drift=+100 ppm (clock drift), memory-error@5 days. A time is "
         "a duration after the start or a date and time (2026-11-04T08:00).\n\n"
         "The same seed and options give the same output, byte for byte. A prescription the pump cannot deliver "
         "(a rate outside its programmable range) is refused: exit status 1.\n\n"
         "Example:\n"
         "  thecal-cli simulate --prescription morphine.json --fill \"20 mL\" --days 30 \\\n"
         "    --ptm-presses 08:00,13:00,20:00 --fault bias=+20%"),
      entries, out);
  if (!thecal_cli_option_context_parse (context, entries, out, argc, argv, &positional, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (positional[0] != NULL)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("simulate: unexpected argument “%s”"), positional[0]);
      return FALSE;
    }
  if (!thecal_cli_require ("prescription", rx_path, "morphine.json", error)
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
  if (format_text == NULL || g_str_equal (format_text, "table"))
    format = out->json_mode ? FORMAT_JSON : FORMAT_TABLE;
  else if (g_str_equal (format_text, "csv"))
    format = FORMAT_CSV;
  else if (g_str_equal (format_text, "json"))
    format = FORMAT_JSON;
  else
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("--format: “%s”: use table, csv or json"),
                   format_text);
      return FALSE;
    }
  if (format == FORMAT_JSON)
    out->json_mode = TRUE;
  else if (out->json_mode)
    {
      g_set_error_literal (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("--json and --format csv conflict"));
      return FALSE;
    }
  if (events_text != NULL)
    {
      all_events = g_str_equal (events_text, "all");
      no_events = g_str_equal (events_text, "none");
      if (!all_events && !no_events && !g_str_equal (events_text, "notable"))
        {
          g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                       _ ("--events: “%s”: use notable, all or none"), events_text);
          return FALSE;
        }
    }

  if (!thecal_cli_parse_quantity ("fill", fill_text, THECAL_QUANTITY_VOLUME, &setup.fill_nl, error)
      || !thecal_cli_parse_instant ("start", start_text != NULL ? start_text : DEFAULT_START, &setup.start_local_ms, error))
    return FALSE;
  if (seed_text != NULL)
    {
      guint64 seed = 0;

      if (!g_ascii_string_to_unsigned (seed_text, 10, 0, G_MAXUINT64, &seed, NULL))
        {
          g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                       _ ("--seed: “%s” is not a whole number from 0 to 18446744073709551615"), seed_text);
          return FALSE;
        }
      setup.seed = seed;
    }
  setup.battery_bp = THECAL_BP_WHOLE;
  if (battery_text != NULL && !thecal_cli_parse_quantity ("battery", battery_text, THECAL_QUANTITY_RATIO, &setup.battery_bp, error))
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
      setup.catheter_length_mm = (int32_t) mm;
    }
  if (ptm_text != NULL && !thecal_ptm_pattern_parse (ptm_text, &pattern, &dose_error))
    return thecal_cli_dose_error (&dose_error, "--ptm-presses", error);
  if (!thecal_cli_parse_faults (fault_texts, faults, &n_faults, error))
    return FALSE;

  if (!thecal_cli_load_models (models_path, models, error))
    return FALSE;
  model = thecal_cli_find_model (models, pump, error);
  if (model == NULL || !thecal_cli_load_prescription (rx_path, rx, error)
      || !thecal_cli_resolve_plan (rx, model, rx_path, plan, error))
    return FALSE;

  setup.model = model;
  setup.rx = rx;
  setup.faults = faults;
  setup.n_faults = n_faults;
  if (!thecal_cli_engine_start (&setup, engine, &refusal, error))
    return FALSE;

  thecal_cli_json_string (out->json, "command", "simulate");
  thecal_cli_json_string (out->json, "prescription_file", rx_path);
  thecal_cli_json_string (out->json, "drug_id", rx->drug_id);
  thecal_cli_json_quantity (out->json, "concentration", THECAL_QUANTITY_CONCENTRATION, rx->concentration_ng_per_ml);
  thecal_cli_json_quantity (out->json, "fill", THECAL_QUANTITY_VOLUME, setup.fill_nl);
  thecal_cli_json_instant (out->json, "start", setup.start_local_ms);
  thecal_cli_json_string (out->json, "period", days > 0 ? "day" : "hour");
  thecal_cli_json_int (out->json, "periods", days > 0 ? days : hours);
  thecal_cli_json_string (out->json, "ptm_presses", ptm_text != NULL ? ptm_text : "none");
  thecal_cli_json_string (out->json, "seed", seed_text != NULL ? seed_text : "0");
  {
    cJSON *array = cJSON_AddArrayToObject (out->json, "faults");

    for (int32_t i = 0; i < n_faults; i++)
      cJSON_AddItemToArray (array, cJSON_CreateString (faults[i].text));
  }
  if (format != FORMAT_CSV)
    {
      thecal_cli_print (out, _ ("Simulation of the reference pump (docs/engine.md): %s %s, prescription %s\n"), rx->drug_id,
                        thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, rx->concentration_ng_per_ml), rx_path);
      thecal_cli_report_model (out, out->json, model, pump == NULL);
      thecal_cli_print (out, _ ("Fill %s from %s for %d %s; PTM presses: %s; seed %s\n"),
                        thecal_cli_q (out, THECAL_QUANTITY_VOLUME, setup.fill_nl),
                        thecal_cli_instant (out, setup.start_local_ms), days > 0 ? days : hours,
                        days > 0 ? _ ("days") : _ ("hours"), ptm_text != NULL ? ptm_text : "none",
                        seed_text != NULL ? seed_text : "0");
      for (int32_t i = 0; i < n_faults; i++)
        thecal_cli_print (out, _ ("Fault: %s\n"), faults[i].text);
    }
  if (refusal != NULL)
    {
      thecal_cli_print (out, _ ("REFUSED: the pump cannot run this prescription: %s\n"), refusal);
      thecal_cli_json_bool (out->json, "refused", TRUE);
      thecal_cli_json_string (out->json, "refusal", refusal);
      thecal_cli_refuse (out, _ ("simulate: the pump refuses the prescription: %s"), refusal);
      return TRUE;
    }
  thecal_cli_json_bool (out->json, "refused", FALSE);

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
                           "reservoir_estimate_nl,reservoir_actual_nl,battery_bp,alarms_raised,alarms_active\n");
  else
    thecal_cli_print (out, _ ("\n%-5s %-16s %12s %12s %7s %14s %14s %8s  %s\n"), days > 0 ? _ ("Day") : _ ("Hour"),
                      _ ("Start"), _ ("Delivered"), _ ("Dose"), _ ("PTM"), _ ("Reservoir"), _ ("Actual"), _ ("Battery"),
                      _ ("Alarms raised"));
  for (int32_t i = 0; i < n_periods; i++)
    {
      const ThecalEngineSample *s = &samples[i];
      cJSON *object = thecal_cli_json_append_object (series);
      g_autoptr (GString) raised = g_string_new (NULL);
      g_autoptr (GString) active = g_string_new (NULL);

      thecal_cli_json_int (object, "period", i + 1);
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
      if (format == FORMAT_CSV)
        {
          alarm_names (raised, s->alarms_raised, ";");
          alarm_names (active, s->alarms_active, ";");
          thecal_cli_print (out, "%d,%s,%s,%" PRId64 ",%" PRId64 ",%" PRId64 ",%d,%d,%" PRId64 ",%" PRId64 ",%" PRId64 ",%s,%s\n",
                            (int) (i + 1), thecal_cli_instant (out, s->start_true_ms), thecal_cli_instant (out, s->end_true_ms),
                            s->delivered_nl, s->delivered_ng, s->pumped_nl, (int) s->ptm_granted, (int) s->ptm_refused,
                            s->reservoir_estimate_nl, s->reservoir_actual_nl, s->battery_bp, raised->str, active->str);
        }
      else
        {
          g_autofree char *ptm = g_strdup_printf ("%d/%d", (int) s->ptm_granted, (int) s->ptm_refused);

          alarm_names (raised, s->alarms_raised, ", ");
          thecal_cli_print (out, "%-5d %-16s %12s %12s %7s %14s %14s %8s  %s\n", (int) (i + 1),
                            thecal_cli_instant (out, s->start_true_ms), thecal_cli_q (out, THECAL_QUANTITY_VOLUME, s->delivered_nl),
                            thecal_cli_q (out, THECAL_QUANTITY_AMOUNT, s->delivered_ng), ptm,
                            thecal_cli_q (out, THECAL_QUANTITY_VOLUME, s->reservoir_estimate_nl),
                            thecal_cli_q (out, THECAL_QUANTITY_VOLUME, s->reservoir_actual_nl),
                            thecal_cli_q (out, THECAL_QUANTITY_RATIO, s->battery_bp), raised->str);
        }
    }
  if (format != FORMAT_CSV)
    thecal_cli_print (out, _ ("(Delivered and Dose: what reached the catheter tip. PTM: granted/refused. Reservoir: the "
                              "pump's estimate from the programmed delivery; Actual: what is really left.)\n"));

  /* the events */
  events = cJSON_AddArrayToObject (out->json, "events");
  thecal_cli_json_int (out->json, "log_oldest_seq", thecal_engine_log_oldest_seq (engine));
  thecal_cli_json_int (out->json, "log_next_seq", thecal_engine_log_next_seq (engine));
  if (format != FORMAT_CSV && !no_events)
    {
      int64_t oldest = thecal_engine_log_oldest_seq (engine), skipped = 0;

      thecal_cli_print (out, _ ("\nEvents (the pump's log%s):\n"), all_events ? "" : _ (", notable entries"));
      if (oldest > first_seq)
        thecal_cli_print (out, _ ("  (the ring holds the last %d entries: %" PRId64 " older ones were overwritten)\n"),
                          THECAL_ENGINE_LOG_CAPACITY, oldest - first_seq);
      for (int64_t seq = oldest; seq < thecal_engine_log_next_seq (engine); seq++)
        {
          ThecalEngineEvent e;

          if (!thecal_engine_log_get (engine, seq, &e))
            continue;
          if (!all_events && !event_is_notable (&e))
            {
              skipped++;
              continue;
            }
          thecal_cli_print (out, "  #%-6" PRId64 " %-16s %s\n", e.seq, thecal_cli_instant (out, e.pump_ms),
                            event_text (out, engine, &e));
        }
      if (skipped > 0)
        thecal_cli_print (out, _ ("  (%" PRId64 " routine entries not shown: periodic and PTM boluses, PTM grants; "
                                  "--events all lists them)\n"),
                          skipped);
    }
  for (int64_t seq = thecal_engine_log_oldest_seq (engine); seq < thecal_engine_log_next_seq (engine); seq++)
    {
      ThecalEngineEvent e;

      if (thecal_engine_log_get (engine, seq, &e))
        event_json (events, out, engine, &e);
    }

  /* the summary */
  summary_json = thecal_cli_json_object (out->json, "summary");
  thecal_cli_json_quantity (summary_json, "delivered", THECAL_QUANTITY_VOLUME, summary.delivered_nl);
  thecal_cli_json_quantity (summary_json, "delivered_dose", THECAL_QUANTITY_AMOUNT, summary.delivered_ng);
  thecal_cli_json_quantity (summary_json, "pumped", THECAL_QUANTITY_VOLUME, summary.pumped_nl);
  thecal_cli_json_int (summary_json, "ptm_granted", summary.ptm_granted);
  thecal_cli_json_int (summary_json, "ptm_refused", summary.ptm_refused);
  {
    cJSON *first = thecal_cli_json_object (summary_json, "first_alarm");

    for (int k = 0; k < THECAL_ALARM_N_KINDS; k++)
      thecal_cli_json_instant (first, thecal_alarm_kind_name ((ThecalAlarmKind) k), summary.first_raised_pump_ms[k]);
  }
  if (format != FORMAT_CSV)
    {
      thecal_cli_print (out, _ ("\nSummary: %s (%s %s) reached the catheter tip; PTM %" PRId64 " granted, %" PRId64 " refused\n"),
                        thecal_cli_q (out, THECAL_QUANTITY_VOLUME, summary.delivered_nl),
                        thecal_cli_q (out, THECAL_QUANTITY_AMOUNT, summary.delivered_ng), rx->drug_id, summary.ptm_granted,
                        summary.ptm_refused);
      for (int k = 0; k < THECAL_ALARM_N_KINDS; k++)
        if (summary.first_raised_pump_ms[k] != INT64_MAX)
          thecal_cli_print (out, _ ("  %s alarm first raised: %s%s\n"), alarm_label ((ThecalAlarmKind) k),
                            thecal_cli_instant (out, summary.first_raised_pump_ms[k]),
                            thecal_alarm_kind_is_critical ((ThecalAlarmKind) k) ? _ (" (critical: delivery stopped)") : "");
    }

  /* the projection */
  if (!project_engine (&setup, THECAL_PTM_PATTERN_NONE, &none, error)
      || !project_engine (&setup, THECAL_PTM_PATTERN_WORST_CASE, &worst, error))
    return FALSE;
  have_core = thecal_project_reservoir (model, plan, setup.fill_nl, setup.start_local_ms, 0, &core, &dose_error);
  report_projection (out, thecal_cli_json_object (out->json, "projection"), &setup, &none, &worst, &core, have_core,
                     format == FORMAT_CSV);
  return TRUE;
}
