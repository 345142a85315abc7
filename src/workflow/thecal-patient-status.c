/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-patient-status.c: see thecal-patient-status.h.
 */
#include "config.h"

#include "thecal-patient-status.h"

#include <glib/gi18n.h>
#include <string.h>

#include "thecal-dose-json.h"
#include "thecal-engine.h"
#include "thecal-format.h"
#include "thecal-message.h"
#include "thecal-refill.h"

/* The newest version of the implanted pump (no explant date), or NULL. */
static const ThecalPump *
implanted_pump (const ThecalPatientRecord *record)
{
  for (guint i = record->pumps->len; i > 0; i--)
    {
      const ThecalPump *pump = record->pumps->pdata[i - 1];

      if (pump->explant_date == NULL)
        return pump;
    }
  return NULL;
}

/* The last refill of @serial that was not corrected, or NULL. */
static const ThecalRefill *
last_refill (const ThecalPatientRecord *record, const char *serial)
{
  const ThecalRefill *last = NULL;

  for (guint i = 0; i < record->refills->len; i++)
    {
      const ThecalRefill *refill = record->refills->pdata[i];

      if (!refill->superseded && g_strcmp0 (refill->pump_serial, serial) == 0
          && (last == NULL || refill->performed_utc_ms >= last->performed_utc_ms))
        last = refill;
    }
  return last;
}

/* Runs @volume_nl from @from_ms through the recorded prescriptions of @serial up to the one in
 * effect now, and projects the rest from the start of that one (or @from_ms). FALSE when a
 * version cannot be read or resolved for @model. */
static gboolean
project_from_refill (const ThecalPatientRecord *record,
                     const char *serial,
                     const ThecalPumpModel *model,
                     gint64 from_ms,
                     gint64 volume_nl,
                     gint64 now_ms,
                     ThecalProjection *projection)
{
  const ThecalRecordedPrescription *current = NULL;
  ThecalDoseError dose_error;
  ThecalPrescription rx;
  ThecalDeliveryPlan plan;
  gint64 start_ms = from_ms;

  /* the versions in effect after the refill, in the order they took effect */
  for (guint i = 0; i < record->prescriptions->len; i++)
    {
      const ThecalRecordedPrescription *r = record->prescriptions->pdata[i];
      gint64 t0, t1, used_nl = 0;

      if (r->superseded || g_strcmp0 (r->pump_serial, serial) != 0 || r->effective_to_utc_ms <= from_ms
          || r->effective_from_utc_ms > now_ms)
        continue;
      if (r->json == NULL || !thecal_prescription_load_json (r->json, strlen (r->json), &rx, &dose_error)
          || !thecal_delivery_plan_resolve (&rx, model, &plan, &dose_error))
        return FALSE;
      if (r->effective_to_utc_ms == G_MAXINT64 || r->effective_to_utc_ms > now_ms)
        {
          current = r;
          start_ms = MAX (from_ms, r->effective_from_utc_ms);
          break;
        }
      t0 = MAX (from_ms, r->effective_from_utc_ms);
      t1 = r->effective_to_utc_ms;
      if (!thecal_delivery_plan_volume_between (&plan, t0, t1, &used_nl, &dose_error))
        return FALSE;
      volume_nl = MAX (volume_nl - used_nl, 0);
    }
  if (current == NULL)
    return FALSE; /* nothing recorded in effect now: the record cannot say */
  return thecal_project_reservoir (model, &plan, volume_nl, start_ms, 0, projection, &dose_error);
}

char *
thecal_patient_status_from_record (const ThecalPatientRecord *record, const ThecalPumpModelSet *models, gint64 now_utc_ms)
{
  const ThecalPump *pump;
  const ThecalRefill *refill;
  const ThecalPumpModel *model;
  ThecalProjection projection;
  GString *text;
  gint64 last_seen_ms = G_MININT64;
  gboolean any_alarm = FALSE;

  g_return_val_if_fail (record != NULL && models != NULL, NULL);
  if ((pump = implanted_pump (record)) == NULL)
    return NULL;
  model = thecal_pump_model_set_find (models, pump->model_id);
  refill = last_refill (record, pump->serial);
  text = g_string_new (NULL);
  if (refill == NULL)
    g_string_append (text, _ ("No refill in the record"));
  else
    {
      g_autofree char *refilled = thecal_format_instant (refill->performed_utc_ms);
      g_autofree char *day = g_strndup (refilled, 10); /* "YYYY-MM-DD" of "YYYY-MM-DD HH:MM" */

      if (model != NULL && project_from_refill (record, pump->serial, model, refill->performed_utc_ms, refill->added_nl, now_utc_ms, &projection)
          && projection.refill_by_local_ms != INT64_MAX)
        {
          if (projection.refill_by_local_ms <= now_utc_ms)
            g_string_printf (text, _ ("Refilled %s: refill now (from the record)"), day);
          else
            {
              g_autofree char *refill_by = thecal_format_instant (projection.refill_by_local_ms);

              g_string_printf (text, _ ("Refilled %s: refill by %s (from the record)"), day, refill_by);
            }
        }
      else
        g_string_printf (text, _ ("Refilled %s"), day);
    }
  /* the alarms the last interrogation of the pump saw */
  for (guint i = 0; i < record->alarms->len; i++)
    {
      const ThecalAlarmSeen *seen = record->alarms->pdata[i];

      if (g_strcmp0 (seen->pump_serial, pump->serial) == 0)
        last_seen_ms = MAX (last_seen_ms, seen->seen_utc_ms);
    }
  for (guint i = 0; i < record->alarms->len; i++)
    {
      const ThecalAlarmSeen *seen = record->alarms->pdata[i];
      ThecalAlarmKind kind;

      if (g_strcmp0 (seen->pump_serial, pump->serial) != 0 || seen->seen_utc_ms != last_seen_ms)
        continue;
      g_string_append (text, any_alarm ? ", " : _ ("; at the last reading: "));
      g_string_append (text, thecal_alarm_kind_from_name (seen->kind, &kind) ? thecal_format_alarm_name ((ThecalProtoAlarm) kind) : seen->kind);
      any_alarm = TRUE;
    }
  return g_string_free (text, FALSE);
}

char *
thecal_patient_status_from_demo (ThecalDemoWorld *world, const char *mrn)
{
  const ThecalDemoPatient *demo = thecal_demo_patient_find (mrn);
  ThecalEngineStatus status;
  ThecalSimPump *pump;
  ThecalDeliveryPlan plan;
  ThecalProjection projection;
  ThecalDoseError dose_error;
  g_autofree char *volume = NULL;
  g_autofree char *refill_by = NULL;
  GString *text;

  if (world == NULL || demo == NULL || (pump = thecal_demo_world_get_pump (world, demo->serial, NULL)) == NULL
      || !thecal_demo_world_get_pump_status (world, demo->serial, &status, NULL))
    return NULL;
  volume = thecal_format_quantity (THECAL_QUANTITY_VOLUME, MAX (status.reservoir_estimate_nl, 0));
  text = g_string_new (NULL);
  if (thecal_delivery_plan_resolve (thecal_sim_pump_active (pump), thecal_sim_pump_model (pump), &plan, &dose_error)
      && thecal_project_reservoir (thecal_sim_pump_model (pump), &plan, MAX (status.reservoir_estimate_nl, 0),
                                   thecal_demo_world_now_ms (world), 0, &projection, &dose_error)
      && projection.refill_by_local_ms != INT64_MAX)
    {
      if (projection.refill_by_local_ms <= thecal_demo_world_now_ms (world))
        g_string_printf (text, _ ("Now %s left: refill now"), volume);
      else
        {
          refill_by = thecal_format_instant (projection.refill_by_local_ms);
          g_string_printf (text, _ ("Now %s left, refill by %s"), volume, refill_by);
        }
    }
  else
    g_string_printf (text, _ ("Now %s left"), volume);
  for (int k = 0; k < THECAL_ALARM_N_KINDS; k++)
    if (status.alarms[k].raised)
      g_string_append_printf (text, "; %s", thecal_format_alarm_name ((ThecalProtoAlarm) k));
  return g_string_free (text, FALSE);
}
