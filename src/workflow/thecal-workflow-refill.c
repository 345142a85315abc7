/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-workflow-refill.c: the refill of a connected visit (thecal-workflow-refill.h,
 * docs/workflows.md "Refill"). A GTask whose steps run one after the other on the visit's
 * context, like the workflows of thecal-visit.c.
 */
#include "config.h"

#include "thecal-workflow-refill.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "thecal-quantity.h"
#include "thecal-visit-private.h"

/* An acknowledgement of a flagged discrepancy says something: at least this many characters. */
#define ACK_MIN_CHARS 10

typedef struct
{
  ThecalVisit *self; /* borrowed: the task holds a reference */
  gint step;
  gboolean settling; /* thecal_visit_settle_refill_async */
  char *drug_id;
  gint64 concentration_ng_per_ml;
  char *lot;
  char *expiry_date;
  char *acknowledgement;
  char *verifier_name;
  char *verifier_password;
  ThecalRefillReport report;
  GError *error; /* reported after its audit entry is written */
} Refill;

static void
refill_free (Refill *r)
{
  g_free (r->drug_id);
  g_free (r->lot);
  g_free (r->expiry_date);
  g_free (r->acknowledgement);
  g_free (r->verifier_name);
  if (r->verifier_password != NULL)
    memset (r->verifier_password, 0, strlen (r->verifier_password));
  g_free (r->verifier_password);
  g_clear_error (&r->error);
  g_free (r);
}

/* The request of an UNCERTAIN refill, kept on the visit until it is settled. */
#define UNCERTAIN_KEY "thecal-refill-uncertain"

static char *
fmt (ThecalQuantityKind kind, gint64 value)
{
  char buf[THECAL_QUANTITY_TEXT_MAX];

  return g_strdup (thecal_quantity_format (kind, value, buf, sizeof buf));
}

static char *
json_escape (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text != NULL ? text : ""; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      if (c == '"' || c == '\\')
        g_string_append_printf (out, "\\%c", c);
      else if (c < 0x20)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_c (out, (char) c);
    }
  return g_string_free (out, FALSE);
}

static const ThecalUser *
performer (ThecalVisit *self)
{
  return thecal_record_session_get_user (thecal_visit_get_session (self));
}

static ThecalRecord *
record_of (ThecalVisit *self)
{
  return thecal_record_session_get_record (thecal_visit_get_session (self));
}

static void
refill_fail (GTask *task, GError *error)
{
  Refill *r = g_task_get_task_data (task);

  thecal_visit_step_end (r->self);
  g_task_return_error (task, error);
  g_object_unref (task);
}

/* Runs on the visit's context: the audit entry is written (or could not be): report the error. */
static void
on_failure_audited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Refill *r = g_task_get_task_data (task);
  g_autoptr (ThecalAuditEntry) entry = NULL;
  g_autoptr (GError) audit_error = NULL;

  entry = thecal_record_append_audit_finish (THECAL_RECORD (source), result, &audit_error);
  if (entry == NULL)
    g_warning ("A refill step could not be audited: %s", audit_error->message);
  refill_fail (task, g_steal_pointer (&r->error));
}

/* What the audit entries of this refill say: the request, as JSON. */
static char *
request_json (Refill *r, const char *message)
{
  const ThecalPump *pump = thecal_visit_get_pump (r->self);
  g_autofree char *m = json_escape (message);
  g_autofree char *d = json_escape (r->drug_id);
  g_autofree char *l = json_escape (r->lot);
  g_autofree char *e = json_escape (r->expiry_date);
  g_autofree char *v = json_escape (r->verifier_name);
  g_autofree char *a = json_escape (r->acknowledgement);

  return g_strdup_printf ("{\"pump\":\"%s\",\"aspirated_nl\":%" G_GINT64_FORMAT ",\"expected_nl\":%" G_GINT64_FORMAT
                          ",\"flagged\":%s,\"acknowledgement\":\"%s\",\"added_nl\":%" G_GINT64_FORMAT
                          ",\"drug\":\"%s\",\"concentration_ng_per_ml\":%" G_GINT64_FORMAT
                          ",\"lot\":\"%s\",\"expiry\":\"%s\",\"verifier\":\"%s\",\"message\":\"%s\"}",
                          pump != NULL ? pump->serial : "", r->report.check.aspirated_nl, r->report.check.expected_residual_nl,
                          r->report.check.flagged ? "true" : "false", a, r->report.new_volume_nl, d, r->concentration_ng_per_ml, l,
                          e, v, m);
}

static void
audit (GTask *task, const char *action, const char *message, GAsyncReadyCallback callback)
{
  Refill *r = g_task_get_task_data (task);
  const ThecalPump *pump = thecal_visit_get_pump (r->self);
  g_autofree char *after = request_json (r, message);
  ThecalAuditInput input = { 0 };

  input.action = action;
  input.object_type = "pump";
  input.object_id = pump->id;
  input.patient_id = pump->patient_id;
  input.after = after;
  input.reason = message;
  thecal_record_append_audit_async (record_of (r->self), performer (r->self), &input, NULL, callback, task);
}

/* Audits @error as @action, then fails the task with it. */
static void
refill_refuse (GTask *task, const char *action, GError *error)
{
  Refill *r = g_task_get_task_data (task);

  r->error = error;
  audit (task, action, error->message, on_failure_audited);
}

static void refill_run (GTask *task, Refill *r, GAsyncResult *result);
static void settle_run (GTask *task, Refill *r, GAsyncResult *result);

/* Runs on the visit's context: the call a step started finished; on to the next step. */
static void
on_step (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Refill *r = g_task_get_task_data (task);

  (void) source;
  r->step++;
  if (r->settling)
    settle_run (task, r, result);
  else
    refill_run (task, r, result);
}

/* Keeps a copy of @r's request on the visit (an UNCERTAIN refill) and blocks the visit. */
static void
keep_uncertain (ThecalVisit *self, const Refill *r)
{
  Refill *kept = g_new0 (Refill, 1);

  kept->drug_id = g_strdup (r->drug_id);
  kept->concentration_ng_per_ml = r->concentration_ng_per_ml;
  kept->lot = g_strdup (r->lot);
  kept->expiry_date = g_strdup (r->expiry_date);
  kept->acknowledgement = g_strdup (r->acknowledgement);
  kept->verifier_name = g_strdup (r->verifier_name);
  kept->report = r->report;
  g_object_set_data_full (G_OBJECT (self), UNCERTAIN_KEY, kept, (GDestroyNotify) refill_free);
  thecal_visit_set_uncertain_write (self, THECAL_UNCERTAIN_WRITE_REFILL);
}

/* ---- the checks --------------------------------------------------------------------------- */

gboolean
thecal_visit_refill_preview (ThecalVisit *self, gint64 aspirated_nl, ThecalRefillCheck *check, gboolean *history_known, GError **error)
{
  const ThecalProtoStatus *st;
  ThecalDoseError dose_error;
  int found;

  g_return_val_if_fail (THECAL_IS_VISIT (self), FALSE);
  if (!thecal_visit_is_connected (self))
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_NOT_CONNECTED, _ ("Not connected to a pump: interrogate it first."));
      return FALSE;
    }
  st = thecal_visit_get_status (self);
  thecal_dose_error_clear (&dose_error);
  found = thecal_visit_history_check (self, aspirated_nl, check, &dose_error);
  if (history_known != NULL)
    *history_known = found > 0;
  if (found == 0)
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED, _ ("The refill cannot be checked: %s"), dose_error.message);
      return FALSE;
    }
  if (found < 0)
    {
      /* no fill recorded: the pump's own estimate is the expected residual (no delivery to
       * account for, so the band is the model's discrepancy threshold) */
      ThecalRefillHistory h = { 0 };

      h.fill_volume_nl = MAX (st->reservoir_estimate_nl, 0);
      h.fill_local_ms = st->pump_ms;
      h.now_local_ms = st->pump_ms;
      thecal_dose_error_clear (&dose_error);
      if (!thecal_refill_check (thecal_visit_get_model (self), &h, aspirated_nl, check, &dose_error))
        {
          g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED, _ ("The refill cannot be checked: %s"), dose_error.message);
          return FALSE;
        }
    }
  return TRUE;
}

/* The expiry date @text (YYYY-MM-DD) is today or later (clinic date). */
static gboolean
check_expiry (ThecalVisit *self, const char *text, GError **error)
{
  int y = 0, m = 0, d = 0, n = 0;
  g_autoptr (GDateTime) now = NULL;
  gint64 local_s = (thecal_visit_now_utc_ms (self) + thecal_visit_local_offset_ms (self)) / 1000;
  int today, expiry;

  if (text == NULL || sscanf (text, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 || strlen (text) != 10
      || !g_date_valid_dmy ((GDateDay) d, (GDateMonth) m, (GDateYear) y))
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED, _ ("The expiry date \"%s\" is not a date (YYYY-MM-DD)."),
                   text != NULL ? text : "");
      return FALSE;
    }
  now = g_date_time_new_from_unix_utc (local_s);
  if (now == NULL)
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED, _ ("The clinic's clock is out of range."));
      return FALSE;
    }
  today = g_date_time_get_year (now) * 10000 + g_date_time_get_month (now) * 100 + g_date_time_get_day_of_month (now);
  expiry = y * 10000 + m * 100 + d;
  if (expiry < today)
    {
      g_autofree char *t = g_date_time_format (now, "%Y-%m-%d");

      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED,
                   _ ("The drug expired on %s (today is %s): do not fill it; take another lot."), text, t);
      return FALSE;
    }
  return TRUE;
}

/* Every check that needs no I/O; FALSE with the refusal. */
static gboolean
check_request (ThecalVisit *self, Refill *r, const ThecalRefillRequest *request, GError **error)
{
  const ThecalMsgPrescription *active = thecal_visit_get_active (self);
  const ThecalPumpModel *model = thecal_visit_get_model (self);
  ThecalDoseError dose_error;

  if (thecal_visit_is_blocked (self, NULL))
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_BLOCKED,
                   _ ("An earlier change of pump %s is UNCERTAIN: read the pump (reconcile) before refilling."),
                   thecal_visit_get_pump (self)->serial);
      return FALSE;
    }
  if (request->drug_id == NULL || thecal_drug_library_find (thecal_visit_get_library (self), request->drug_id) == NULL)
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED, _ ("The drug \"%s\" is not in the drug library."),
                   request->drug_id != NULL ? request->drug_id : "");
      return FALSE;
    }
  if (active->rx.mode != THECAL_MODE_STOPPED
      && (g_strcmp0 (active->rx.drug_id, request->drug_id) != 0
          || active->rx.concentration_ng_per_ml != request->concentration_ng_per_ml))
    {
      g_autofree char *old_c = fmt (THECAL_QUANTITY_CONCENTRATION, active->rx.concentration_ng_per_ml);
      g_autofree char *new_c = fmt (THECAL_QUANTITY_CONCENTRATION, request->concentration_ng_per_ml);

      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED,
                   _ ("The pump runs %s %s; the refill is %s %s: a concentration change needs a bridge bolus: not "
                      "available yet."),
                   active->rx.drug_id, old_c, request->drug_id, new_c);
      return FALSE;
    }
  if (request->concentration_ng_per_ml <= 0)
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED, _ ("The concentration must be above 0."));
      return FALSE;
    }
  if (request->lot == NULL || *request->lot == '\0')
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED, _ ("The lot number is required."));
      return FALSE;
    }
  if (!check_expiry (self, request->expiry_date, error))
    return FALSE;
  thecal_dose_error_clear (&dose_error);
  if (!thecal_refill_new_volume (model, request->added_nl, &r->report.new_volume_nl, &dose_error))
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED, _ ("The volume added is refused: %s"), dose_error.message);
      return FALSE;
    }
  if (!thecal_visit_refill_preview (self, request->aspirated_nl, &r->report.check, &r->report.history_known, error))
    return FALSE;
  if (r->report.check.flagged && (request->acknowledgement == NULL || g_utf8_strlen (request->acknowledgement, -1) < ACK_MIN_CHARS))
    {
      g_autofree char *expected = fmt (THECAL_QUANTITY_VOLUME, r->report.check.expected_residual_nl);
      g_autofree char *aspirated = fmt (THECAL_QUANTITY_VOLUME, request->aspirated_nl);
      g_autofree char *threshold = fmt (THECAL_QUANTITY_VOLUME, r->report.check.threshold_nl);

      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_NEEDS_REASON,
                   _ ("Discrepancy: %s aspirated, %s expected (band %s): %s. Check the patient for overdose or "
                      "withdrawal, then acknowledge it (at least 10 characters) to go on."),
                   aspirated, expected, threshold,
                   r->report.check.kind == THECAL_DISCREPANCY_LESS_BACK
                       ? _ ("possible pocket fill (drug injected outside the reservoir) or over-infusion")
                       : _ ("possible under-infusion, motor stall or catheter occlusion"));
      return FALSE;
    }
  return TRUE;
}

/* ---- the steps ---------------------------------------------------------------------------- */

static void
start_record (GTask *task, Refill *r)
{
  ThecalVisit *self = r->self;
  ThecalRefillInput input = { 0 };

  input.pump_serial = thecal_visit_get_pump (self)->serial;
  input.performed_utc_ms = thecal_visit_now_utc_ms (self);
  input.expected_nl = r->report.check.expected_residual_nl;
  input.aspirated_nl = r->report.check.aspirated_nl;
  input.discrepancy_flagged = r->report.check.flagged;
  input.added_nl = r->report.new_volume_nl;
  input.drug_id = r->drug_id;
  input.concentration_ng_per_ml = r->concentration_ng_per_ml;
  input.lot = r->lot;
  input.expiry_date = r->expiry_date;
  input.verified_by = r->verifier_name;
  input.reason = r->report.check.flagged ? r->acknowledgement : NULL;
  thecal_record_add_refill_async (record_of (self), performer (self), &input, NULL, on_step, task);
}

/* The new volume's alarm and refill-by dates under what the pump runs (dose core). */
static void
project (Refill *r)
{
  ThecalVisit *self = r->self;
  const ThecalMsgPrescription *active = thecal_visit_get_active (self);
  const ThecalDrug *drug = thecal_drug_library_find (thecal_visit_get_library (self), r->drug_id);
  ThecalDeliveryPlan plan;
  ThecalDoseError dose_error;

  thecal_dose_error_clear (&dose_error);
  r->report.have_projection = thecal_delivery_plan_resolve (&active->rx, thecal_visit_get_model (self), &plan, &dose_error)
                              && thecal_project_reservoir (thecal_visit_get_model (self), &plan, r->report.new_volume_nl,
                                                           thecal_visit_get_status (self)->pump_ms,
                                                           drug != NULL ? drug->stability_days : 0, &r->report.projection, &dose_error);
}

static void
return_report (GTask *task, Refill *r)
{
  thecal_visit_step_end (r->self);
  g_task_return_pointer (task, g_memdup2 (&r->report, sizeof r->report), g_free);
  g_object_unref (task);
}

/* The pump's status shows the refill: the requested drug and concentration, and a volume at most
 * the model's discrepancy threshold under the requested one (it delivers meanwhile). */
static gboolean
status_shows_refill (ThecalVisit *self, const Refill *r, const ThecalProtoStatus *st)
{
  gint64 below = r->report.new_volume_nl - st->reservoir_estimate_nl;

  return g_strcmp0 (st->reservoir_drug_id, r->drug_id) == 0 && st->reservoir_concentration_ng_per_ml == r->concentration_ng_per_ml
         && st->reservoir_set_nl == r->report.new_volume_nl && below >= 0
         && below <= thecal_visit_get_model (self)->discrepancy_threshold_nl;
}

static void
refill_run (GTask *task, Refill *r, GAsyncResult *result)
{
  ThecalVisit *self = r->self;
  g_autoptr (GError) error = NULL;

  switch (r->step)
    {
    case 0:
      thecal_record_login_async (record_of (self), r->verifier_name, r->verifier_password, NULL, on_step, task);
      return;
    case 1:
      {
        g_autoptr (ThecalUser) verifier = thecal_record_login_finish (record_of (self), result, &error);
        GError *refusal = NULL;

        if (verifier == NULL)
          refusal = g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_VERIFIER,
                                 _ ("The second person's credentials were refused (%s): nothing was changed."), error->message);
        else if (verifier->id == performer (self)->id)
          refusal = g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_VERIFIER,
                                 _ ("A refill is verified by a second person, not by %s who performs it."), verifier->name);
        else if (!thecal_permission_check (verifier, THECAL_PERMISSION_REFILL_VERIFY, &error))
          refusal = g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_VERIFIER, _ ("The verifier may not verify a refill: %s"),
                                 error->message);
        if (refusal != NULL)
          {
            refill_refuse (task, "refill.verify_refused", refusal);
            return;
          }
        /* intent before action: the pending refill is in the audit chain before the pump is touched */
        audit (task, "refill.pending", _ ("Refill verified; the pump's reservoir is about to be set."), on_step);
        return;
      }
    case 2:
      {
        g_autoptr (ThecalAuditEntry) entry = thecal_record_append_audit_finish (record_of (self), result, &error);
        ThecalMsgSetReservoir request = { 0 };

        if (entry == NULL)
          {
            refill_fail (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED,
                                            _ ("The pending refill could not be recorded (%s): nothing was sent to the pump."),
                                            error->message));
            return;
          }
        request.volume_nl = r->report.new_volume_nl;
        g_strlcpy (request.drug_id, r->drug_id, sizeof request.drug_id);
        request.concentration_ng_per_ml = r->concentration_ng_per_ml;
        /* not cancellable: a write, once started, runs to its outcome */
        thecal_pump_link_set_reservoir_async (thecal_visit_get_link (self), &request, NULL, on_step, task);
        return;
      }
    case 3:
      {
        g_autofree ThecalMessage *reply = thecal_pump_link_request_finish (thecal_visit_get_link (self), result, &error);

        if (reply != NULL)
          {
            /* read back */
            thecal_pump_link_read_status_async (thecal_visit_get_link (self), NULL, on_step, task);
            return;
          }
        if (g_error_matches (error, THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_TIMEOUT))
          {
            /* the pump may or may not hold the new fill: block, and try to settle it now */
            keep_uncertain (self, r);
            r->report.outcome = THECAL_OUTCOME_UNCERTAIN;
            thecal_pump_link_read_status_async (thecal_visit_get_link (self), NULL, on_step, task);
            return;
          }
        if (error->domain == THECAL_WAND_ERROR)
          r->error = g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED,
                                  _ ("The refill paused: %s. The pump's reservoir was not changed; bring the wand back over "
                                     "the pump (or plug it in again) and do the refill step again."),
                                  error->message);
        else
          r->error = g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED, _ ("The pump did not take the refill: %s"),
                                  error->message);
        audit (task, "refill.not_applied", r->error->message, on_failure_audited);
        return;
      }
    case 4:
      {
        g_autofree ThecalMessage *reply = thecal_pump_link_request_finish (thecal_visit_get_link (self), result, &error);

        if (r->report.outcome == THECAL_OUTCOME_UNCERTAIN)
          {
            if (reply == NULL)
              {
                /* still unknown: the visit stays blocked until thecal_visit_settle_refill_async */
                r->error = g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED,
                                        _ ("The refill paused: the pump's answer was lost and it cannot be read (%s). The "
                                           "refill is UNCERTAIN: bring the wand back over the pump and settle it (read the "
                                           "pump) before any other change."),
                                        error->message);
                audit (task, "refill.uncertain", r->error->message, on_failure_audited);
                return;
              }
            thecal_visit_update_status (self, &reply->status);
            g_object_set_data (G_OBJECT (self), UNCERTAIN_KEY, NULL);
            thecal_visit_set_uncertain_write (self, THECAL_UNCERTAIN_WRITE_NONE);
            if (!status_shows_refill (self, r, &reply->status))
              {
                r->error = g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED,
                                        _ ("The pump's answer to the refill was lost and a read shows it did not take it: "
                                           "the reservoir was not changed."));
                audit (task, "refill.not_applied", r->error->message, on_failure_audited);
                return;
              }
          }
        /* the pump acknowledged SET_RESERVOIR (or a read shows it took it): the fill is in it even
         * if this read was lost */
        else if (reply != NULL)
          thecal_visit_update_status (self, &reply->status);
        r->report.outcome = THECAL_OUTCOME_CONFIRMED;
        start_record (task, r);
        return;
      }
    case 5:
      {
        g_autoptr (ThecalRefill) refill = thecal_record_add_refill_finish (record_of (self), result, &error);

        if (refill == NULL)
          {
            refill_fail (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED,
                                            _ ("The pump was refilled (%s) but the record could not store it: %s. Record the "
                                               "refill by hand."),
                                            r->drug_id, error->message));
            return;
          }
        r->report.refill_id = refill->id;
        project (r);
        return_report (task, r);
        return;
      }
    default:
      g_assert_not_reached ();
    }
}

void
thecal_visit_refill_async (ThecalVisit *self,
                           const ThecalRefillRequest *request,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  GTask *task;
  Refill *r;
  GError *error = NULL;

  g_return_if_fail (THECAL_IS_VISIT (self));
  g_return_if_fail (request != NULL);
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, thecal_visit_refill_async);
  r = g_new0 (Refill, 1);
  r->self = self;
  r->drug_id = g_strdup (request->drug_id);
  r->concentration_ng_per_ml = request->concentration_ng_per_ml;
  r->lot = g_strdup (request->lot);
  r->expiry_date = g_strdup (request->expiry_date);
  r->acknowledgement = g_strdup (request->acknowledgement);
  r->verifier_name = g_strdup (request->verifier_name != NULL ? request->verifier_name : "");
  r->verifier_password = g_strdup (request->verifier_password != NULL ? request->verifier_password : "");
  g_task_set_task_data (task, r, (GDestroyNotify) refill_free);
  if (!thecal_visit_step_begin (self, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  if (!thecal_permission_check (performer (self), THECAL_PERMISSION_REFILL, &error))
    {
      refill_refuse (task, "permission.denied", error);
      return;
    }
  if (!check_request (self, r, request, &error))
    {
      refill_fail (task, error);
      return;
    }
  refill_run (task, r, NULL);
}

gboolean
thecal_visit_refill_finish (ThecalVisit *self, GAsyncResult *result, ThecalRefillReport *report, GError **error)
{
  g_autofree ThecalRefillReport *answer = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  answer = g_task_propagate_pointer (G_TASK (result), error);
  if (answer == NULL)
    return FALSE;
  if (report != NULL)
    *report = *answer;
  return TRUE;
}

/* ---- settle an uncertain refill ----------------------------------------------------------- */

static void
settle_return (GTask *task, Refill *r, ThecalProgrammingOutcome outcome)
{
  thecal_visit_set_uncertain_write (r->self, THECAL_UNCERTAIN_WRITE_NONE);
  thecal_visit_step_end (r->self);
  g_task_return_int (task, outcome);
  g_object_unref (task);
}

static void
on_not_applied_audited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Refill *r = g_task_get_task_data (task);
  g_autoptr (ThecalAuditEntry) entry = NULL;
  g_autoptr (GError) audit_error = NULL;

  entry = thecal_record_append_audit_finish (THECAL_RECORD (source), result, &audit_error);
  if (entry == NULL)
    g_warning ("A settled refill could not be audited: %s", audit_error->message);
  settle_return (task, r, THECAL_OUTCOME_FAILED);
}

static void
settle_run (GTask *task, Refill *r, GAsyncResult *result)
{
  ThecalVisit *self = r->self;
  g_autoptr (GError) error = NULL;

  switch (r->step)
    {
    case 0:
      thecal_pump_link_read_status_async (thecal_visit_get_link (self), NULL, on_step, task);
      return;
    case 1:
      {
        g_autofree ThecalMessage *reply = thecal_pump_link_request_finish (thecal_visit_get_link (self), result, &error);

        if (reply == NULL)
          {
            /* still unknown: keep it for the next attempt */
            keep_uncertain (self, r);
            thecal_visit_step_end (self);
            g_task_return_new_error (task, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED,
                                     _ ("The pump could not be read (%s): the refill is still UNCERTAIN. Bring the wand back "
                                        "and settle it again."),
                                     error->message);
            g_object_unref (task);
            return;
          }
        thecal_visit_update_status (self, &reply->status);
        if (status_shows_refill (self, r, &reply->status))
          {
            r->report.outcome = THECAL_OUTCOME_CONFIRMED;
            start_record (task, r);
            return;
          }
        audit (task, "refill.not_applied", _ ("Settled by reading the pump: the refill was not applied."), on_not_applied_audited);
        return;
      }
    case 2:
      {
        g_autoptr (ThecalRefill) refill = thecal_record_add_refill_finish (record_of (self), result, &error);

        if (refill == NULL)
          g_warning ("The settled refill could not be recorded: %s", error->message);
        settle_return (task, r, THECAL_OUTCOME_CONFIRMED);
        return;
      }
    default:
      g_assert_not_reached ();
    }
}

void
thecal_visit_settle_refill_async (ThecalVisit *self, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;
  Refill *r;
  GError *error = NULL;

  g_return_if_fail (THECAL_IS_VISIT (self));
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, thecal_visit_settle_refill_async);
  if (g_object_get_data (G_OBJECT (self), UNCERTAIN_KEY) == NULL)
    {
      g_task_return_int (task, THECAL_OUTCOME_CONFIRMED);
      g_object_unref (task);
      return;
    }
  if (!thecal_visit_step_begin (self, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  r = g_object_steal_data (G_OBJECT (self), UNCERTAIN_KEY);
  r->self = self;
  r->settling = TRUE;
  r->step = 0;
  g_task_set_task_data (task, r, (GDestroyNotify) refill_free);
  settle_run (task, r, NULL);
}

gboolean
thecal_visit_settle_refill_finish (ThecalVisit *self, GAsyncResult *result, ThecalProgrammingOutcome *outcome, GError **error)
{
  gssize answer;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  answer = g_task_propagate_int (G_TASK (result), error);
  if (answer < 0)
    return FALSE;
  if (outcome != NULL)
    *outcome = (ThecalProgrammingOutcome) answer;
  return TRUE;
}
