/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-workflow-clock.c: clock synchronisation and alarm acknowledgement
 * (thecal-workflow-clock.h). Each a GTask whose steps run one after the other on the visit's
 * context.
 */
#include "config.h"

#include "thecal-workflow-clock.h"

#include <glib/gi18n.h>

#include "thecal-engine.h"
#include "thecal-visit-private.h"

typedef struct
{
  ThecalVisit *self; /* borrowed: the task holds a reference */
  gint step;
  gboolean clock; /* sync clock, else ack alarm */
  ThecalProtoAlarm alarm;
  gint64 pump_ms; /* the pump's clock as read (pump-local) */
  gint64 drift_ms;
  gboolean synced;
  GError *error; /* reported after its audit entry is written */
} Step;

static void
step_free (Step *s)
{
  g_clear_error (&s->error);
  g_free (s);
}

static ThecalRecord *
record_of (ThecalVisit *self)
{
  return thecal_record_session_get_record (thecal_visit_get_session (self));
}

static const ThecalUser *
user_of (ThecalVisit *self)
{
  return thecal_record_session_get_user (thecal_visit_get_session (self));
}

static void
step_fail (GTask *task, GError *error)
{
  Step *s = g_task_get_task_data (task);

  thecal_visit_step_end (s->self);
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
step_done (GTask *task)
{
  Step *s = g_task_get_task_data (task);

  thecal_visit_step_end (s->self);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
on_failure_audited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Step *s = g_task_get_task_data (task);
  g_autoptr (ThecalAuditEntry) entry = NULL;
  g_autoptr (GError) audit_error = NULL;

  entry = thecal_record_append_audit_finish (THECAL_RECORD (source), result, &audit_error);
  if (entry == NULL)
    g_warning ("A refusal could not be audited: %s", audit_error->message);
  step_fail (task, g_steal_pointer (&s->error));
}

static void
audit (GTask *task, const char *action, const char *after, const char *reason, GAsyncReadyCallback callback)
{
  Step *s = g_task_get_task_data (task);
  const ThecalPump *pump = thecal_visit_get_pump (s->self);
  ThecalAuditInput input = { 0 };

  input.action = action;
  input.object_type = "pump";
  input.object_id = pump->id;
  input.patient_id = pump->patient_id;
  input.after = after;
  input.reason = reason;
  thecal_record_append_audit_async (record_of (s->self), user_of (s->self), &input, NULL, callback, task);
}

static GError *
link_failure (GError *error, const char *what)
{
  if (error->domain == THECAL_WAND_ERROR || g_error_matches (error, THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_TIMEOUT))
    return g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED,
                        _ ("%s paused: %s. Bring the wand back over the pump (or plug it in again), read the pump and "
                           "resume."),
                        what, error->message);
  return g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED, _ ("%s failed: %s"), what, error->message);
}

static void run (GTask *task, Step *s, GAsyncResult *result);

static void
on_step (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Step *s = g_task_get_task_data (task);

  (void) source;
  s->step++;
  run (task, s, result);
}

static void
run (GTask *task, Step *s, GAsyncResult *result)
{
  ThecalVisit *self = s->self;
  ThecalPumpLink *link = thecal_visit_get_link (self);
  g_autoptr (GError) error = NULL;

  switch (s->step)
    {
    case 0:
      if (s->clock)
        thecal_pump_link_read_status_async (link, NULL, on_step, task);
      else
        thecal_pump_link_ack_alarm_async (link, s->alarm, NULL, on_step, task);
      return;
    case 1:
      {
        g_autofree ThecalMessage *reply = thecal_pump_link_request_finish (link, result, &error);
        gint64 clinic_local = thecal_visit_now_utc_ms (self) + thecal_visit_local_offset_ms (self);

        if (reply == NULL)
          {
            step_fail (task, link_failure (g_steal_pointer (&error), s->clock ? _ ("The clock synchronisation")
                                                                              : _ ("The alarm acknowledgement")));
            return;
          }
        if (!s->clock)
          {
            /* the pump cleared it: the record says who saw it, and when on the pump's clock */
            const ThecalProtoStatus *st = thecal_visit_get_status (self);

            thecal_record_add_alarm_seen_async (record_of (self), user_of (self), thecal_visit_get_pump (self)->serial,
                                                thecal_alarm_kind_name ((ThecalAlarmKind) s->alarm),
                                                st != NULL ? st->pump_ms : G_MININT64, NULL, on_step, task);
            return;
          }
        thecal_visit_update_status (self, &reply->status);
        s->pump_ms = reply->status.pump_ms;
        s->drift_ms = reply->status.pump_ms - clinic_local;
        if (s->drift_ms <= THECAL_VISIT_CLOCK_DRIFT_MAX_MS && s->drift_ms >= -THECAL_VISIT_CLOCK_DRIFT_MAX_MS)
          {
            /* within the documented bound: a clock change is itself a risk (schedules jump) */
            step_done (task);
            return;
          }
        thecal_pump_link_set_clock_async (link, clinic_local, NULL, on_step, task);
        return;
      }
    case 2:
      {
        if (!s->clock)
          {
            g_autoptr (ThecalAlarmSeen) seen = thecal_record_add_alarm_seen_finish (record_of (self), result, &error);

            if (seen == NULL)
              {
                step_fail (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED,
                                              _ ("The pump acknowledged the alarm but the record could not store it: %s"),
                                              error->message));
                return;
              }
            step_done (task);
            return;
          }
        {
          g_autofree ThecalMessage *reply = thecal_pump_link_request_finish (link, result, &error);
          g_autofree char *after = NULL;

          if (reply == NULL)
            {
              step_fail (task, link_failure (g_steal_pointer (&error), _ ("The clock synchronisation")));
              return;
            }
          s->synced = TRUE;
          after = g_strdup_printf ("{\"pump\":\"%s\",\"drift_ms\":%" G_GINT64_FORMAT ",\"previous_pump_ms\":%" G_GINT64_FORMAT
                                   ",\"pump_ms\":%" G_GINT64_FORMAT "}",
                                   thecal_visit_get_pump (self)->serial, s->drift_ms, reply->clock_reply.previous_pump_ms,
                                   reply->clock_reply.pump_ms);
          audit (task, "clock.sync", after, _ ("The pump's clock drifted beyond the bound"), on_step);
          return;
        }
      }
    case 3:
      {
        g_autoptr (ThecalAuditEntry) entry = thecal_record_append_audit_finish (record_of (self), result, &error);

        if (entry == NULL)
          g_warning ("A clock synchronisation could not be audited: %s", error->message);
        step_done (task);
        return;
      }
    default:
      g_assert_not_reached ();
    }
}

static void
start (ThecalVisit *self, Step *s, gpointer tag, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  GError *error = NULL;

  g_task_set_source_tag (task, tag);
  s->self = self;
  g_task_set_task_data (task, s, (GDestroyNotify) step_free);
  if (!thecal_visit_step_begin (self, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  if (!thecal_permission_check (user_of (self), s->clock ? THECAL_PERMISSION_PUMP_CLOCK : THECAL_PERMISSION_ALARM_ACKNOWLEDGE,
                                &error))
    {
      g_autofree char *after = g_strdup_printf ("{\"pump\":\"%s\"}", thecal_visit_get_pump (self)->serial);

      s->error = error;
      audit (task, "permission.denied", after, error->message, on_failure_audited);
      return;
    }
  if (thecal_visit_is_blocked (self, NULL))
    {
      step_fail (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_BLOCKED,
                                    _ ("An earlier change of pump %s is UNCERTAIN: read the pump (reconcile) before any "
                                       "other change."),
                                    thecal_visit_get_pump (self)->serial));
      return;
    }
  run (task, s, NULL);
}

void
thecal_visit_sync_clock_async (ThecalVisit *self, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  Step *s = g_new0 (Step, 1);

  g_return_if_fail (THECAL_IS_VISIT (self));
  s->clock = TRUE;
  start (self, s, thecal_visit_sync_clock_async, cancellable, callback, user_data);
}

gboolean
thecal_visit_sync_clock_finish (ThecalVisit *self, GAsyncResult *result, gint64 *drift_ms, gboolean *synced, GError **error)
{
  Step *s;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  s = g_task_get_task_data (G_TASK (result));
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  if (drift_ms != NULL)
    *drift_ms = s->drift_ms;
  if (synced != NULL)
    *synced = s->synced;
  return TRUE;
}

void
thecal_visit_ack_alarm_async (ThecalVisit *self,
                              ThecalProtoAlarm alarm,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  Step *s = g_new0 (Step, 1);

  g_return_if_fail (THECAL_IS_VISIT (self));
  s->alarm = alarm;
  start (self, s, thecal_visit_ack_alarm_async, cancellable, callback, user_data);
}

gboolean
thecal_visit_ack_alarm_finish (ThecalVisit *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
