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

#include "thecal-engine.h"
#include "thecal-quantity.h"
#include "thecal-visit-private.h"

/* An acknowledgement of a flagged discrepancy says something: at least this many characters. */
#define ACK_MIN_CHARS 10

typedef struct
{
  ThecalVisit *self; /* borrowed: the task holds a reference */
  gint step;
  gboolean settling;   /* thecal_visit_settle_refill_async */
  gboolean nested;     /* settling inside connect or reconcile: the visit's step is theirs */
  gboolean in_line;    /* settling the refill's own lost answer (thecal_visit_refill_async) */
  gint64 log_from_seq; /* the pump's next log sequence as last read before the write */
  gint64 write_id;     /* the record's pump write (SET_RESERVOIR) */
  gint64 performed_utc_ms;
  gint64 threshold_nl; /* the settle rule's band: the model's discrepancy threshold at the write */
  char *drug_id;
  gint64 concentration_ng_per_ml;
  char *lot;
  char *expiry_date;
  char *acknowledgement;
  char *verifier_name;
  char *verifier_password;
  ThecalRefillReport report;
  GError *error; /* reported after its audit entry is written */

  /* check_request for thecal_visit_review_refill: no refusal of a change or a missing acknowledgement */
  gboolean review_only;
  /* a drug or concentration change (the section "a drug or concentration change" at the end) */
  struct _Change *change;
} Refill;

static void change_free (struct _Change *change);

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
  g_clear_pointer (&r->change, change_free);
  g_free (r);
}

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

  if (!r->nested)
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
static void change_run (GTask *task, Refill *r, GAsyncResult *result);

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
  else if (r->change != NULL)
    change_run (task, r, result);
  else
    refill_run (task, r, result);
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

/* A flagged discrepancy is acknowledged (≥ 10 characters that say something); FALSE with why. */
static gboolean
acknowledged (const ThecalRefillCheck *check, const ThecalRefillRequest *request, GError **error)
{
  g_autofree char *text = g_strstrip (g_strdup (request->acknowledgement != NULL ? request->acknowledgement : ""));

  if (!check->flagged || g_utf8_strlen (text, -1) >= ACK_MIN_CHARS)
    return TRUE;
  {
    g_autofree char *expected = fmt (THECAL_QUANTITY_VOLUME, check->expected_residual_nl);
    g_autofree char *aspirated = fmt (THECAL_QUANTITY_VOLUME, request->aspirated_nl);
    g_autofree char *threshold = fmt (THECAL_QUANTITY_VOLUME, check->threshold_nl);

    g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_NEEDS_REASON,
                 _ ("Discrepancy: %s aspirated, %s expected (band %s): %s. Check the patient for overdose or "
                    "withdrawal, then acknowledge it (at least 10 characters) to go on."),
                 aspirated, expected, threshold,
                 check->kind == THECAL_DISCREPANCY_LESS_BACK
                     ? _ ("possible pocket fill (drug injected outside the reservoir) or over-infusion")
                     : _ ("possible under-infusion, motor stall or catheter occlusion"));
    return FALSE;
  }
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
  /* thecal_visit_refill_async sends a change to the change section before this check */
  if (!r->review_only && r->change == NULL && active->rx.mode != THECAL_MODE_STOPPED
      && (g_strcmp0 (active->rx.drug_id, request->drug_id) != 0
          || active->rx.concentration_ng_per_ml != request->concentration_ng_per_ml))
    {
      g_autofree char *old_c = fmt (THECAL_QUANTITY_CONCENTRATION, active->rx.concentration_ng_per_ml);
      g_autofree char *new_c = fmt (THECAL_QUANTITY_CONCENTRATION, request->concentration_ng_per_ml);

      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED,
                   _ ("The pump runs %s %s; the refill is %s %s: a drug or concentration change needs the new "
                      "prescription and a bridge bolus."),
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
  if (!r->review_only && !acknowledged (&r->report.check, request, error))
    return FALSE;
  return TRUE;
}

/* ---- the steps ---------------------------------------------------------------------------- */

/* The refills row the record writes with the confirmation (the refill is recorded exactly when
 * the pump took it), performed by whoever started the write. */
static void
refill_input (Refill *r, ThecalRefillInput *input)
{
  memset (input, 0, sizeof *input);
  input->pump_serial = thecal_visit_get_pump (r->self)->serial;
  input->performed_utc_ms = r->performed_utc_ms;
  input->expected_nl = r->report.check.expected_residual_nl;
  input->aspirated_nl = r->report.check.aspirated_nl;
  input->discrepancy_flagged = r->report.check.flagged;
  input->added_nl = r->report.new_volume_nl;
  input->drug_id = r->drug_id;
  input->concentration_ng_per_ml = r->concentration_ng_per_ml;
  input->lot = r->lot;
  input->expiry_date = r->expiry_date;
  input->verified_by = r->verifier_name;
  input->reason = r->report.check.flagged ? r->acknowledgement : NULL;
}

static void
json_digits (cJSON *object, const char *key, gint64 value)
{
  char digits[24];

  g_snprintf (digits, sizeof digits, "%" G_GINT64_FORMAT, value);
  cJSON_AddStringToObject (object, key, digits);
}

/* The request of the pump write: what thecal_visit_settle_refill_write_async needs to settle it
 * in a later process and to record the refill then. */
static char *
write_request_json (const Refill *r)
{
  cJSON *object = cJSON_CreateObject ();
  char *text;

  json_digits (object, "new_volume_nl", r->report.new_volume_nl);
  cJSON_AddStringToObject (object, "drug", r->drug_id);
  json_digits (object, "concentration_ng_per_ml", r->concentration_ng_per_ml);
  json_digits (object, "threshold_nl", r->threshold_nl);
  json_digits (object, "expected_nl", r->report.check.expected_residual_nl);
  json_digits (object, "aspirated_nl", r->report.check.aspirated_nl);
  cJSON_AddBoolToObject (object, "flagged", r->report.check.flagged);
  cJSON_AddStringToObject (object, "acknowledgement", r->acknowledgement != NULL ? r->acknowledgement : "");
  cJSON_AddStringToObject (object, "lot", r->lot);
  cJSON_AddStringToObject (object, "expiry", r->expiry_date);
  cJSON_AddStringToObject (object, "verifier", r->verifier_name);
  json_digits (object, "performed_utc_ms", r->performed_utc_ms);
  json_digits (object, "log_from_seq", r->log_from_seq);
  text = cJSON_PrintUnformatted (object);
  cJSON_Delete (object);
  return text;
}

/* A settle of @write from the record: the request read back. */
static Refill *
refill_from_write (ThecalVisit *self, const ThecalPumpWrite *write, GError **error)
{
  cJSON *object = cJSON_Parse (write->request_json);
  Refill *r = g_new0 (Refill, 1);
  const char *drug = thecal_visit_json_text (object, "drug");
  const char *lot = thecal_visit_json_text (object, "lot");
  const char *expiry = thecal_visit_json_text (object, "expiry");
  const char *verifier = thecal_visit_json_text (object, "verifier");
  const char *acknowledgement = thecal_visit_json_text (object, "acknowledgement");

  r->self = self;
  r->write_id = write->id;
  r->report.outcome = write->outcome;
  r->report.check.flagged = cJSON_IsTrue (cJSON_GetObjectItemCaseSensitive (object, "flagged"));
  if (object == NULL || drug == NULL || lot == NULL || expiry == NULL || verifier == NULL
      || !thecal_visit_json_int (object, "new_volume_nl", &r->report.new_volume_nl)
      || !thecal_visit_json_int (object, "concentration_ng_per_ml", &r->concentration_ng_per_ml)
      || !thecal_visit_json_int (object, "threshold_nl", &r->threshold_nl)
      || !thecal_visit_json_int (object, "expected_nl", &r->report.check.expected_residual_nl)
      || !thecal_visit_json_int (object, "aspirated_nl", &r->report.check.aspirated_nl)
      || !thecal_visit_json_int (object, "performed_utc_ms", &r->performed_utc_ms)
      || !thecal_visit_json_int (object, "log_from_seq", &r->log_from_seq))
    {
      cJSON_Delete (object);
      refill_free (r);
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED,
                   _ ("The request of pump write %" G_GINT64_FORMAT " cannot be read: settle it by hand."), write->id);
      return NULL;
    }
  r->drug_id = g_strdup (drug);
  r->lot = g_strdup (lot);
  r->expiry_date = g_strdup (expiry);
  r->verifier_name = g_strdup (verifier);
  r->acknowledgement = acknowledgement != NULL && *acknowledgement != '\0' ? g_strdup (acknowledgement) : NULL;
  cJSON_Delete (object);
  return r;
}

static void project (Refill *r);
static void return_report (GTask *task, Refill *r);
static void settle_return (GTask *task, Refill *r, ThecalProgrammingOutcome outcome);

/* Runs on the visit's context: the outcome is in the record (resolved, audited; a confirmed
 * refill with its refills row) or could not be stored. */
static void
on_resolved (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Refill *r = g_task_get_task_data (task);
  g_autoptr (ThecalPumpWrite) write = NULL;
  g_autoptr (GError) error = NULL;

  write = thecal_record_resolve_pump_write_finish (THECAL_RECORD (source), result, &error);
  if (write == NULL)
    {
      /* the pump's state is known, the record's is not: the write stays unresolved (and blocks) */
      g_clear_error (&r->error);
      refill_fail (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_BLOCKED,
                                      _ ("The refill was %s but the record could not store it (%s): it stays unresolved and "
                                         "is settled by reading the pump at the next connection."),
                                      thecal_programming_outcome_name (r->report.outcome), error->message));
      return;
    }
  thecal_visit_track_write (r->self, write);
  r->report.refill_id = write->refill_id;
  if (r->error != NULL)
    refill_fail (task, g_steal_pointer (&r->error));
  else if (r->settling && !r->in_line)
    settle_return (task, r, write->outcome);
  else
    {
      project (r);
      return_report (task, r);
    }
}

/* Records @outcome of the write (with @note; CONFIRMED with the refill), then reports r->error
 * if set, else the outcome. */
static void
resolve (GTask *task, Refill *r, ThecalProgrammingOutcome outcome, const char *note)
{
  ThecalRefillInput input;

  r->report.outcome = outcome;
  refill_input (r, &input);
  thecal_record_resolve_pump_write_async (record_of (r->self), performer (r->self), r->write_id, thecal_visit_get_pump (r->self)->serial,
                                          outcome, note, outcome == THECAL_OUTCOME_CONFIRMED ? &input : NULL, NULL, on_resolved,
                                          task);
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
  if (!r->nested)
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

  (void) self;
  return g_strcmp0 (st->reservoir_drug_id, r->drug_id) == 0 && st->reservoir_concentration_ng_per_ml == r->concentration_ng_per_ml
         && st->reservoir_set_nl == r->report.new_volume_nl && below >= 0 && below <= r->threshold_nl;
}

/* Why the second person who signed in (@verifier, NULL when the login failed with @login_error)
 * may not verify this refill, or NULL when they may. */
static GError *
verifier_refusal (ThecalVisit *self, const ThecalUser *verifier, const GError *login_error)
{
  g_autoptr (GError) error = NULL;

  if (verifier == NULL)
    return g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_VERIFIER,
                        _ ("The second person's credentials were refused (%s): nothing was changed."), login_error->message);
  if (verifier->id == performer (self)->id)
    return g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_VERIFIER,
                        _ ("A refill is verified by a second person, not by %s who performs it."), verifier->name);
  if (!thecal_permission_check (verifier, THECAL_PERMISSION_REFILL_VERIFY, &error))
    return g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_VERIFIER, _ ("The verifier may not verify a refill: %s"),
                        error->message);
  return NULL;
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
        GError *refusal;

        refusal = verifier_refusal (self, verifier, error);
        if (refusal != NULL)
          {
            refill_refuse (task, "refill.verify_refused", refusal);
            return;
          }
        /* intent before action: the pending refill is in the record (and the audit chain) before
         * the pump is touched, with what a later process needs to settle and record it */
        {
          g_autofree char *json = NULL;
          ThecalPumpWriteInput input = { 0 };

          r->performed_utc_ms = thecal_visit_now_utc_ms (self);
          r->threshold_nl = thecal_visit_get_model (self)->discrepancy_threshold_nl;
          r->log_from_seq = MAX (thecal_visit_get_status (self)->log_next_seq, 1);
          json = write_request_json (r);
          input.pump_serial = thecal_visit_get_pump (self)->serial;
          input.kind = THECAL_PUMP_WRITE_REFILL;
          input.reason = _ ("Refill verified; the pump's reservoir is about to be set.");
          input.request_json = json;
          thecal_record_begin_pump_write_async (record_of (self), performer (self), &input, NULL, on_step, task);
        }
        return;
      }
    case 2:
      {
        g_autoptr (ThecalPumpWrite) write = thecal_record_begin_pump_write_finish (record_of (self), result, &error);
        ThecalMsgSetReservoir request = { 0 };

        if (write == NULL)
          {
            refill_fail (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED,
                                            _ ("The pending refill could not be recorded (%s): nothing was sent to the pump."),
                                            error->message));
            return;
          }
        r->write_id = write->id;
        thecal_visit_track_write (self, write);
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
            /* the pump may or may not hold the new fill: the write stays PENDING in the record (and
             * blocks) while the settle's reads try to decide it now */
            r->report.outcome = THECAL_OUTCOME_UNCERTAIN;
            r->settling = TRUE;
            r->in_line = TRUE;
            r->step = 0;
            settle_run (task, r, NULL);
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
        resolve (task, r, THECAL_OUTCOME_FAILED, r->error->message);
        return;
      }
    case 4:
      {
        g_autofree ThecalMessage *reply = thecal_pump_link_request_finish (thecal_visit_get_link (self), result, &error);

        /* the pump acknowledged SET_RESERVOIR: the fill is in it even if this read was lost */
        if (reply != NULL)
          thecal_visit_update_status (self, &reply->status);
        resolve (task, r, THECAL_OUTCOME_CONFIRMED, _ ("The pump took the refill (read back)."));
        return;
      }
    default:
      g_assert_not_reached ();
    }
}

static gboolean change_wanted (ThecalVisit *self, const ThecalRefillRequest *request);
static void change_start (GTask *task, Refill *r, const ThecalRefillRequest *request);

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
  if (change_wanted (self, request))
    {
      change_start (task, r, request);
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
  if (!r->nested)
    thecal_visit_step_end (r->self);
  g_task_return_int (task, outcome);
  g_object_unref (task);
}

/* The settle could not decide (the pump or its log cannot be read): the write stays unresolved.
 * The refill's own lost answer records it UNCERTAIN (it was PENDING); a settle leaves the record
 * as it is. */
static void
still_unknown (GTask *task, Refill *r, const char *why)
{
  if (r->in_line)
    {
      r->error = g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED,
                              _ ("The refill paused: the pump's answer was lost and it cannot be read (%s). The refill is "
                                 "UNCERTAIN: bring the wand back over the pump and settle it (read the pump) before any other "
                                 "change."),
                              why);
      resolve (task, r, THECAL_OUTCOME_UNCERTAIN, r->error->message);
      return;
    }
  refill_fail (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED,
                                  _ ("The pump could not be read (%s): the refill is still UNCERTAIN. Bring the wand back and "
                                     "settle it again."),
                                  why));
}

/* The pump did not take the refill. */
static void
not_taken (GTask *task, Refill *r, const char *note)
{
  if (r->in_line)
    r->error = g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED,
                            _ ("The pump's answer to the refill was lost and a read shows it did not take it: the reservoir "
                               "was not changed."));
  resolve (task, r, THECAL_OUTCOME_FAILED, note);
}

/* The settle rule, for a lost answer and for a write an earlier visit left: READ_STATUS must show
 * the requested drug, concentration and set volume, with an estimate at most the threshold under
 * it; then the pump's log from the sequence it had reached before the write must hold the
 * RESERVOIR_SET of this volume and concentration (a status that only happens to match, because the
 * reservoir held the same fill before, is not a refill: FAILED). A pump or log that cannot be read
 * leaves it unresolved. */
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
            still_unknown (task, r, error->message);
            return;
          }
        thecal_visit_update_status (self, &reply->status);
        if (!status_shows_refill (self, r, &reply->status))
          {
            not_taken (task, r, _ ("Settled by reading the pump: the refill was not applied."));
            return;
          }
        thecal_pump_link_read_log_async (thecal_visit_get_link (self), r->log_from_seq, 0, 0, NULL, on_step, task);
        return;
      }
    case 2:
      {
        g_autoptr (ThecalPumpInterrogation) log = thecal_pump_link_read_log_finish (thecal_visit_get_link (self), result, &error);

        if (log == NULL || log->log_gap)
          {
            still_unknown (task, r, log == NULL ? error->message : _ ("the pump no longer holds the events since the write"));
            return;
          }
        for (guint i = 0; i < log->events->len; i++)
          {
            const ThecalProtoEvent *e = &g_array_index (log->events, ThecalProtoEvent, i);

            if (e->type == THECAL_EVENT_RESERVOIR_SET && e->seq >= r->log_from_seq && e->args[0] == r->report.new_volume_nl
                && e->args[1] == r->concentration_ng_per_ml)
              {
                resolve (task, r, THECAL_OUTCOME_CONFIRMED, _ ("Settled by reading the pump and its log: it took the refill."));
                return;
              }
          }
        not_taken (task, r, _ ("Settled by reading the pump's log: no reservoir was set since the write; the reservoir "
                               "held this fill before."));
        return;
      }
    default:
      g_assert_not_reached ();
    }
}

/* Fails a settle that did not start (the step was begun when @began). */
static void
settle_refused (ThecalVisit *self, gboolean began, GAsyncReadyCallback callback, gpointer user_data, GError *error)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);

  g_task_set_source_tag (task, thecal_visit_settle_refill_write_async);
  if (began)
    thecal_visit_step_end (self);
  g_task_return_error (task, error);
  g_object_unref (task);
}

void
thecal_visit_settle_refill_write_async (ThecalVisit *self,
                                        const ThecalPumpWrite *write,
                                        gboolean nested,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  GTask *task;
  GError *error = NULL;
  Refill *r;

  g_return_if_fail (THECAL_IS_VISIT (self));
  g_return_if_fail (write != NULL && write->kind == THECAL_PUMP_WRITE_REFILL);
  if (!nested && !thecal_visit_step_begin (self, &error))
    {
      settle_refused (self, FALSE, callback, user_data, error);
      return;
    }
  r = refill_from_write (self, write, &error);
  if (r == NULL)
    {
      settle_refused (self, !nested, callback, user_data, error);
      return;
    }
  r->nested = nested;
  r->settling = TRUE;
  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, thecal_visit_settle_refill_write_async);
  g_task_set_task_data (task, r, (GDestroyNotify) refill_free);
  settle_run (task, r, NULL);
}

void
thecal_visit_settle_refill_async (ThecalVisit *self, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  const ThecalPumpWrite *write;

  g_return_if_fail (THECAL_IS_VISIT (self));
  write = thecal_visit_get_unresolved_write (self, THECAL_PUMP_WRITE_REFILL);
  if (write == NULL)
    {
      GTask *task = g_task_new (self, cancellable, callback, user_data);

      g_task_set_source_tag (task, thecal_visit_settle_refill_async);
      g_task_return_int (task, THECAL_OUTCOME_CONFIRMED); /* nothing to settle */
      g_object_unref (task);
      return;
    }
  thecal_visit_settle_refill_write_async (self, write, FALSE, callback, user_data);
}

gboolean
thecal_visit_settle_refill_finish (ThecalVisit *self, GAsyncResult *result, ThecalProgrammingOutcome *outcome, GError **error)
{
  return thecal_visit_settle_write_finish (self, result, outcome, error);
}

/* ---- a drug or concentration change ------------------------------------------------------- */
/*
 * docs/workflows.md "Refill with a drug or concentration change". The pump never stops
 * (DESIGN.md "Telemetry": programming never stops therapy; CLINICAL.md §1.7): it refuses
 * SET_RESERVOIR of another drug or concentration under a delivering prescription and a
 * prescription for anything but what its reservoir holds, so the fill and the new prescription
 * are set together, at one instant, by REFILL_COMMIT (docs/protocol.md):
 *
 *   checks and the review (no I/O) → the verifier → "refill.change.pending" audited
 *   → pending first: the programming session of the new prescription and the refill's pump
 *     write, both PENDING in the record (as thecal_visit_program_async and a plain refill write
 *     them)
 *   → STAGE (for the new fill) → READ_STAGED → REFILL_COMMIT → read back
 *     (thecal_pump_link_refill_program_async), then READ_STATUS
 *   → both records resolved with one outcome (CONFIRMED with the new prescription version and the
 *     refills row; FAILED; UNCERTAIN blocks the visit)
 *   → the bridge bolus (thecal_visit_bolus_async: "bolus.pending" first, START_BOLUS)
 *   → "refill.change.done" audited.
 *
 * Every check that can refuse is done before the first write. A lost answer to REFILL_COMMIT is
 * settled by the status read: the new prescription on the new fill → CONFIRMED for both; the
 * previous fill without the new prescription → FAILED for both; one without the other cannot
 * happen on a pump that sets both at once: both stay UNCERTAIN and the visit gets an `alarm`
 * finding. Whatever is interrupted, the pump runs the old prescription on the old fill or the new
 * one on the new fill; when a step after REFILL_COMMIT fails (the bridge) or the outcome is
 * unknown, the visit gets an `alarm` finding "drug_change_incomplete" saying what the pump holds
 * and runs and what to do, and "refill.change.interrupted" is audited with the same sentence.
 */

#define DAY_MS INT64_C (86400000)

typedef struct _Change
{
  ThecalRefillReview *review;
  char *override_reason;
  ThecalBolusReview *bolus;         /* the bridge as reviewed once the new prescription runs */
  ThecalChecksum target;            /* of review->new_rx */
  gint64 programming_id;            /* the programming session of the new prescription (PENDING first) */
  ThecalProgramReport report;       /* REFILL_COMMIT's, from the link */
  ThecalProgrammingOutcome outcome; /* of both writes: they are one (the pump sets both at once) */
  char *note;                       /* why, for both records */
  gboolean mixed;                   /* the pump showed one of the two changed and not the other */
} Change;

static void
change_free (Change *change)
{
  thecal_refill_review_free (change->review);
  g_free (change->override_reason);
  thecal_bolus_review_free (change->bolus);
  g_free (change->note);
  g_free (change);
}

void
thecal_refill_review_free (ThecalRefillReview *review)
{
  if (review == NULL)
    return;
  g_clear_pointer (&review->changes, g_ptr_array_unref);
  thecal_bolus_review_free (review->bridge);
  g_free (review);
}

/* The fill differs from what the delivering prescription is for. (A stopped pump may take any
 * library drug as a plain refill: the new prescription is then a change of its own.) */
static gboolean
change_wanted (ThecalVisit *self, const ThecalRefillRequest *request)
{
  const ThecalMsgPrescription *active = thecal_visit_get_active (self);

  return active != NULL && active->rx.mode != THECAL_MODE_STOPPED
         && (g_strcmp0 (active->rx.drug_id, request->drug_id) != 0
             || active->rx.concentration_ng_per_ml != request->concentration_ng_per_ml);
}

/* @amount as a daily dose: a rate at @concentration becomes the dose it delivers. */
static gboolean
amount_as_dose (const ThecalPumpModel *model, gint64 concentration_ng_per_ml, ThecalDailyAmount *amount, GError **error)
{
  ThecalDoseError dose_error;
  gint64 dose;

  if (amount->basis == THECAL_BASIS_DOSE)
    return TRUE;
  thecal_dose_error_clear (&dose_error);
  if (!thecal_dose_for_rate (model, concentration_ng_per_ml, amount->rate_nl_per_day, NULL, &dose, &dose_error))
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED, _ ("The running daily dose cannot be computed: %s"),
                   dose_error.message);
      return FALSE;
    }
  amount->basis = THECAL_BASIS_DOSE;
  amount->dose_ng_per_day = dose;
  amount->rate_nl_per_day = 0;
  return TRUE;
}

/* The prescription for the new fill (ThecalRefillRequest: new_rx, new_dose_ng_per_day). */
static gboolean
new_prescription (ThecalVisit *self, const ThecalRefillRequest *request, ThecalPrescription *rx, GError **error)
{
  const ThecalPrescription *old = &thecal_visit_get_active (self)->rx;
  const ThecalPumpModel *model = thecal_visit_get_model (self);
  gboolean same_drug = g_strcmp0 (old->drug_id, request->drug_id) == 0;

  if (request->new_rx != NULL)
    {
      if (g_strcmp0 (request->new_rx->drug_id, request->drug_id) != 0
          || request->new_rx->concentration_ng_per_ml != request->concentration_ng_per_ml)
        {
          g_autofree char *rx_c = fmt (THECAL_QUANTITY_CONCENTRATION, request->new_rx->concentration_ng_per_ml);
          g_autofree char *fill_c = fmt (THECAL_QUANTITY_CONCENTRATION, request->concentration_ng_per_ml);

          g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED,
                       _ ("The new prescription is for %s %s but the fill is %s %s: they must be the same."),
                       request->new_rx->drug_id, rx_c, request->drug_id, fill_c);
          return FALSE;
        }
      *rx = *request->new_rx;
      return TRUE;
    }
  if (request->new_dose_ng_per_day < 0)
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED, _ ("The new daily dose must be above 0."));
      return FALSE;
    }
  if (!same_drug && request->new_dose_ng_per_day == 0)
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED,
                   _ ("A change of drug (%s → %s) needs the new daily dose or the new prescription: the dose of one drug "
                      "says nothing about another's."),
                   old->drug_id, request->drug_id);
      return FALSE;
    }
  if (request->new_dose_ng_per_day > 0)
    {
      if (same_drug && old->mode != THECAL_MODE_CONTINUOUS)
        {
          g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED,
                       _ ("The pump runs a %s prescription: give the new prescription in full, not one daily dose."),
                       thecal_mode_name (old->mode));
          return FALSE;
        }
      if (same_drug)
        *rx = *old; /* the same periodic boluses and PTM (doses of the same drug) */
      else
        thecal_prescription_init (rx); /* another drug: no periodic bolus or PTM carried over */
      rx->mode = THECAL_MODE_CONTINUOUS;
      rx->continuous.basis = THECAL_BASIS_DOSE;
      rx->continuous.dose_ng_per_day = request->new_dose_ng_per_day;
      rx->continuous.rate_nl_per_day = 0;
    }
  else
    {
      /* the same drug: the same daily doses at the new concentration (a new rate) */
      *rx = *old;
      if (rx->mode == THECAL_MODE_CONTINUOUS && !amount_as_dose (model, old->concentration_ng_per_ml, &rx->continuous, error))
        return FALSE;
      for (int32_t i = 0; rx->mode == THECAL_MODE_FLEX && i < rx->n_flex_steps && i < THECAL_FLEX_STEPS_MAX; i++)
        if (!amount_as_dose (model, old->concentration_ng_per_ml, &rx->flex_steps[i].amount, error))
          return FALSE;
    }
  g_strlcpy (rx->drug_id, request->drug_id, sizeof rx->drug_id);
  rx->concentration_ng_per_ml = request->concentration_ng_per_ml;
  return TRUE;
}

/* The new fill under the new prescription from the end of the bridge (the bridge moves its own
 * volume first; the basal waits), with the drug's stability counted from now. */
static void
project_change (ThecalVisit *self, ThecalRefillReview *review)
{
  const ThecalDrug *drug = thecal_drug_library_find (thecal_visit_get_library (self), review->new_rx.drug_id);
  gint64 now = thecal_visit_get_status (self)->pump_ms;
  gint64 volume = MAX (review->new_volume_nl - review->bridge->volume_nl, 0);
  gint64 from, stability;
  ThecalDoseError dose_error;

  thecal_dose_error_clear (&dose_error);
  review->have_projection = review->rx_check.plan_valid && thecal_add_i64 (now, review->bridge->duration_ms, &from)
                            && thecal_project_reservoir (thecal_visit_get_model (self), &review->rx_check.plan, volume, from, 0,
                                                         &review->projection, &dose_error);
  if (!review->have_projection)
    return;
  stability = INT64_MAX;
  if (drug != NULL && drug->stability_days > 0 && !thecal_muldiv_i64 (drug->stability_days, DAY_MS, 1, THECAL_ROUND_DOWN, &stability))
    stability = INT64_MAX;
  if (stability != INT64_MAX && !thecal_add_i64 (now, stability, &stability))
    stability = INT64_MAX;
  review->projection.stability_limit_local_ms = stability;
  review->projection.refill_by_local_ms = MIN (review->projection.refill_threshold_worst_local_ms, stability);
}

ThecalRefillReview *
thecal_visit_review_refill (ThecalVisit *self, const ThecalRefillRequest *request, GError **error)
{
  g_autoptr (ThecalRefillReview) review = NULL;
  Refill probe = { 0 };
  ThecalPatientContext patient_context = { 0 };
  const ThecalPatient *patient;
  const ThecalPumpModel *model;
  ThecalDoseError dose_error;

  g_return_val_if_fail (THECAL_IS_VISIT (self), NULL);
  g_return_val_if_fail (request != NULL, NULL);
  if (!thecal_visit_is_connected (self))
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_NOT_CONNECTED, _ ("Not connected to a pump: interrogate it first."));
      return NULL;
    }
  probe.self = self;
  probe.review_only = TRUE;
  if (!check_request (self, &probe, request, error))
    return NULL;
  review = g_new0 (ThecalRefillReview, 1);
  review->check = probe.report.check;
  review->history_known = probe.report.history_known;
  review->new_volume_nl = probe.report.new_volume_nl;
  if (!change_wanted (self, request))
    {
      /* a plain refill: the new volume under what the pump runs, from now (as project () for the
       * report), so the summary shows the new dates before anything is written */
      const ThecalDrug *drug = thecal_drug_library_find (thecal_visit_get_library (self), request->drug_id);
      ThecalDeliveryPlan plan;

      thecal_dose_error_clear (&dose_error);
      review->have_projection
          = thecal_delivery_plan_resolve (&thecal_visit_get_active (self)->rx, thecal_visit_get_model (self), &plan, &dose_error)
            && thecal_project_reservoir (thecal_visit_get_model (self), &plan, review->new_volume_nl,
                                         thecal_visit_get_status (self)->pump_ms, drug != NULL ? drug->stability_days : 0,
                                         &review->projection, &dose_error);
      return g_steal_pointer (&review);
    }

  review->change = TRUE;
  review->old_rx = thecal_visit_get_active (self)->rx;
  if (!new_prescription (self, request, &review->new_rx, error))
    return NULL;
  model = thecal_visit_get_model (self);
  patient = thecal_visit_get_patient (self);
  patient_context.opioid_tolerant = patient != NULL && patient->opioid_tolerance == THECAL_OPIOID_TOLERANT;
  thecal_check_prescription (&review->new_rx, &review->old_rx, &patient_context, model, thecal_visit_get_library (self),
                             &review->rx_check);
  if (review->rx_check.worst == THECAL_FINDING_REFUSED)
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED, _ ("The new prescription is refused: %s"),
                   review->rx_check.findings[0].message);
      return NULL;
    }
  if (review->new_rx.mode == THECAL_MODE_STOPPED)
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED,
                   _ ("The new prescription is STOPPED: nothing would push the old drug out of the catheter. Fill the "
                      "pump without a change, or give a delivering prescription."));
      return NULL;
    }
  review->changes = thecal_prescription_diff (&review->old_rx, &review->new_rx);
  thecal_dose_error_clear (&dose_error);
  if (!thecal_delivery_plan_resolve (&review->old_rx, model, &review->old_plan, &dose_error))
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED,
                   _ ("The running prescription does not resolve for this pump: %s"), dose_error.message);
      return NULL;
    }
  review->bridge = thecal_visit_review_bridge (self, &review->old_rx, &review->new_rx, error);
  if (review->bridge == NULL)
    return NULL;
  /* the pump draws the bridge from the new fill, and not below its empty volume */
  if (review->bridge->volume_nl > review->new_volume_nl - model->empty_nl)
    {
      g_autofree char *bridge = fmt (THECAL_QUANTITY_VOLUME, review->bridge->volume_nl);
      g_autofree char *fill = fmt (THECAL_QUANTITY_VOLUME, review->new_volume_nl);
      g_autofree char *empty = fmt (THECAL_QUANTITY_VOLUME, model->empty_nl);

      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED,
                   _ ("The new fill of %s cannot give the bridge bolus of %s above the reservoir's empty volume %s: add more."),
                   fill, bridge, empty);
      return NULL;
    }
  review->needs_override = review->rx_check.worst == THECAL_FINDING_OVERRIDE || review->bridge->over_soft_limit;
  project_change (self, review);
  return g_steal_pointer (&review);
}

/* What the pump holds and runs, for the pending entry. */
static char *
change_plan_text (const ThecalRefillReview *review)
{
  g_autofree char *old_c = fmt (THECAL_QUANTITY_CONCENTRATION, review->old_rx.concentration_ng_per_ml);
  g_autofree char *new_c = fmt (THECAL_QUANTITY_CONCENTRATION, review->new_rx.concentration_ng_per_ml);
  g_autofree char *dose = fmt (THECAL_QUANTITY_DOSE_RATE, review->rx_check.plan.basal_ng_per_day);
  g_autofree char *rate = fmt (THECAL_QUANTITY_VOLUME_RATE, review->rx_check.plan.basal_nl_per_day);

  return g_strdup_printf (_ ("Drug change %s %s → %s %s at %s (%s): the fill and the new prescription are set together "
                             "(REFILL_COMMIT; the pump never stops), then the bridge bolus is started. %s"),
                          review->old_rx.drug_id, old_c, review->new_rx.drug_id, new_c, dose, rate, review->bridge->summary);
}

/* A step after the first write failed or is UNCERTAIN: the visit says what the pump holds and
 * runs (an `alarm` finding), the audit chain too, then the task fails with @code. */
static void
change_interrupted (GTask *task, Refill *r, ThecalVisitError code, char *message)
{
  ThecalVisitFinding *finding = g_new0 (ThecalVisitFinding, 1);

  finding->severity = THECAL_VISIT_FINDING_ALARM;
  finding->code = g_strdup ("drug_change_incomplete");
  finding->message = g_strdup (message);
  g_ptr_array_add (thecal_visit_get_findings (r->self), finding);
  r->error = g_error_new_literal (THECAL_VISIT_ERROR, code, message);
  audit (task, "refill.change.interrupted", message, on_failure_audited);
  g_free (message);
}

/* The error code a sub-step's failure keeps (a lost link stays PAUSED, a block BLOCKED). */
static ThecalVisitError
code_of (ThecalVisit *self, const GError *error)
{
  if (thecal_visit_is_blocked (self, NULL))
    return THECAL_VISIT_ERROR_BLOCKED;
  if (error != NULL && error->domain == THECAL_VISIT_ERROR)
    return (ThecalVisitError) error->code;
  return THECAL_VISIT_ERROR_FAILED;
}

/* The sub-steps are the existing workflows: each holds the visit's step while it runs; between
 * them (audits) this one holds it. */
static gboolean
retake_step (GTask *task, Refill *r)
{
  GError *error = NULL;

  if (thecal_visit_step_begin (r->self, &error))
    return TRUE;
  /* cannot happen on one context: nothing else runs between a sub-step's end and this */
  g_task_return_error (task, error);
  g_object_unref (task);
  return FALSE;
}

static void
change_start (GTask *task, Refill *r, const ThecalRefillRequest *request)
{
  ThecalVisit *self = r->self;
  GError *error = NULL;
  g_autoptr (ThecalRefillReview) review = NULL;

  /* a new drug or concentration is a new dose delivery: a prescriber's act (docs/security.md) */
  if (!thecal_permission_check (performer (self), THECAL_PERMISSION_PRESCRIPTION_CHANGE, &error))
    {
      const ThecalPrescription *old = &thecal_visit_get_active (self)->rx;
      g_autofree char *old_c = fmt (THECAL_QUANTITY_CONCENTRATION, old->concentration_ng_per_ml);
      g_autofree char *new_c = fmt (THECAL_QUANTITY_CONCENTRATION, request->concentration_ng_per_ml);
      GError *refusal = g_error_new (THECAL_WORKFLOW_ERROR, THECAL_WORKFLOW_ERROR_PERMISSION_DENIED,
                                     _ ("The refill changes the drug or its concentration (%s %s → %s %s), which changes the "
                                        "dose delivered: %s"),
                                     old->drug_id, old_c, request->drug_id != NULL ? request->drug_id : "", new_c, error->message);

      g_error_free (error);
      refill_refuse (task, "permission.denied", refusal);
      return;
    }
  review = thecal_visit_review_refill (self, request, &error);
  if (review == NULL)
    {
      refill_fail (task, error);
      return;
    }
  if (!acknowledged (&review->check, request, &error))
    {
      refill_fail (task, error);
      return;
    }
  if (review->needs_override)
    {
      g_autofree char *reason = g_strstrip (g_strdup (request->override_reason != NULL ? request->override_reason : ""));

      if (g_utf8_strlen (reason, -1) < ACK_MIN_CHARS)
        {
          refill_fail (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_NEEDS_REASON,
                                          _ ("A soft limit is exceeded (%s): give an override reason of at least 10 "
                                             "characters, or change the prescription."),
                                          review->rx_check.worst == THECAL_FINDING_OVERRIDE
                                              ? review->rx_check.findings[0].message
                                              : _ ("the day's dose with the bridge bolus")));
          return;
        }
      if (!thecal_permission_check (performer (self), THECAL_PERMISSION_LIMIT_OVERRIDE, &error))
        {
          refill_refuse (task, "permission.denied", error);
          return;
        }
    }
  r->report.check = review->check;
  r->report.history_known = review->history_known;
  r->report.new_volume_nl = review->new_volume_nl;
  r->change = g_new0 (Change, 1);
  r->change->override_reason = g_strdup (request->override_reason);
  r->change->review = g_steal_pointer (&review);
  r->step = 0;
  change_run (task, r, NULL);
}

/* The programming session of the new prescription, PENDING before the first byte goes to the
 * pump: the rows thecal_visit_program_async writes (every changed field, the override reason on
 * each when a soft limit of the new prescription is overridden). */
static void
begin_change_programming (GTask *task, Refill *r)
{
  ThecalVisit *self = r->self;
  Change *c = r->change;
  ThecalRefillReview *review = c->review;
  const ThecalPatientRecord *history = thecal_visit_get_history (self);
  const char *serial = thecal_visit_get_pump (self)->serial;
  gboolean overridden = review->rx_check.worst == THECAL_FINDING_OVERRIDE;
  g_autoptr (GArray) changes = g_array_new (FALSE, TRUE, sizeof (ThecalProgrammingChangeInput));
  ThecalProgrammingInput input = { 0 };

  for (guint i = 0; i < review->changes->len; i++)
    {
      const ThecalVisitChange *change = review->changes->pdata[i];
      ThecalProgrammingChangeInput ci = { change->field, change->old_value, change->new_value,
                                          overridden ? c->override_reason : NULL };

      g_array_append_val (changes, ci);
    }
  for (guint i = 0; history != NULL && i < history->prescriptions->len; i++)
    {
      const ThecalRecordedPrescription *p = history->prescriptions->pdata[i];

      if (!p->superseded && p->effective_to_utc_ms == G_MAXINT64 && g_strcmp0 (p->pump_serial, serial) == 0)
        input.old_prescription_id = p->id;
    }
  input.pump_serial = serial;
  input.new_rx = &review->new_rx;
  input.reason = _ ("Refill with a drug or concentration change: the new prescription, set with the fill (REFILL_COMMIT)");
  input.changes = (const ThecalProgrammingChangeInput *) (void *) changes->data;
  input.n_changes = changes->len;
  thecal_record_begin_programming_async (record_of (self), performer (self), &input, NULL, on_step, task);
}

/* What the pump holds and runs after REFILL_COMMIT, from its status: the new prescription on the
 * new fill (CONFIRMED), not the new prescription on the old fill (FAILED: the old one, or one
 * someone else programmed meanwhile), or a mix, which a pump that sets both at one instant cannot
 * show (UNCERTAIN, and an alarm). */
static ThecalProgrammingOutcome
change_settle (Refill *r, const ThecalProtoStatus *st, gboolean *mixed, gboolean *fill_new)
{
  Change *c = r->change;
  gboolean rx_new = memcmp (st->active_checksum.bytes, c->target.bytes, sizeof c->target.bytes) == 0;

  *fill_new = g_strcmp0 (st->reservoir_drug_id, r->drug_id) == 0 && st->reservoir_concentration_ng_per_ml == r->concentration_ng_per_ml;
  *mixed = rx_new != *fill_new;
  if (*mixed)
    return THECAL_OUTCOME_UNCERTAIN;
  return rx_new ? THECAL_OUTCOME_CONFIRMED : THECAL_OUTCOME_FAILED;
}

/* Both records get @c->outcome: the programming session (CONFIRMED writes the new prescription
 * version), then the refill (CONFIRMED writes the refills row). The next step is 7. */
static void
change_record (GTask *task, Refill *r)
{
  Change *c = r->change;

  r->step = 6;
  thecal_record_resolve_programming_async (record_of (r->self), performer (r->self), c->programming_id, c->outcome, c->note,
                                           thecal_visit_now_utc_ms (r->self), NULL, on_step, task);
}

static void change_act (GTask *task, Refill *r);

/* A record that could not store an outcome the pump decided: the write stays unresolved (the
 * visit is blocked; the next connect settles it by reading the pump), and the visit says what
 * the pump runs. */
static void
change_record_failed (GTask *task, Refill *r, const GError *error)
{
  Change *c = r->change;
  g_autofree char *fill = fmt (THECAL_QUANTITY_CONCENTRATION, r->concentration_ng_per_ml);

  thecal_visit_block_on_session (r->self, c->programming_id);
  change_interrupted (task, r, THECAL_VISIT_ERROR_BLOCKED,
                      c->outcome == THECAL_OUTCOME_CONFIRMED
                          ? g_strdup_printf (_ ("The pump runs the new prescription on %s %s but the record could not store "
                                                "it (%s): read the pump (reconcile), then give the bridge bolus."),
                                             r->drug_id, fill, error->message)
                          : g_strdup_printf (_ ("The drug change is %s but the record could not store it (%s): read the "
                                                "pump (reconcile) before anything else."),
                                             thecal_programming_outcome_name (c->outcome), error->message));
}

static void
change_run (GTask *task, Refill *r, GAsyncResult *result)
{
  ThecalVisit *self = r->self;
  Change *c = r->change;
  ThecalRefillReview *review = c->review;
  g_autoptr (GError) error = NULL;

  switch (r->step)
    {
    case 0:
      thecal_record_login_async (record_of (self), r->verifier_name, r->verifier_password, NULL, on_step, task);
      return;
    case 1:
      {
        g_autoptr (ThecalUser) verifier = thecal_record_login_finish (record_of (self), result, &error);
        GError *refusal;
        g_autofree char *plan = NULL;

        refusal = verifier_refusal (self, verifier, error);
        if (refusal != NULL)
          {
            refill_refuse (task, "refill.verify_refused", refusal);
            return;
          }
        /* intent before action: the whole change is in the audit chain before the first write */
        plan = change_plan_text (review);
        audit (task, "refill.change.pending", plan, on_step);
        return;
      }
    case 2:
      {
        g_autoptr (ThecalAuditEntry) entry = thecal_record_append_audit_finish (record_of (self), result, &error);

        if (entry == NULL)
          {
            refill_fail (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED,
                                            _ ("The pending drug change could not be recorded (%s): nothing was sent to the pump."),
                                            error->message));
            return;
          }
        if (!thecal_prescription_checksum (&review->new_rx, &c->target, NULL))
          {
            refill_fail (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED,
                                            _ ("The new prescription cannot be encoded: nothing was sent to the pump.")));
            return;
          }
        /* pending first (1/2): the programming session of the new prescription */
        begin_change_programming (task, r);
        return;
      }
    case 3:
      {
        g_autoptr (ThecalProgrammingSession) session = thecal_record_begin_programming_finish (record_of (self), result, &error);
        g_autofree char *json = NULL;
        ThecalPumpWriteInput input = { 0 };

        if (session == NULL)
          {
            refill_fail (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED,
                                            _ ("The pending programming session could not be recorded (%s): nothing was sent to "
                                               "the pump."),
                                            error->message));
            return;
          }
        c->programming_id = session->id;
        r->report.program_session_id = session->id;
        /* pending first (2/2): the refill, as a plain refill writes it (what a later process needs
         * to settle and record it) */
        r->performed_utc_ms = thecal_visit_now_utc_ms (self);
        r->threshold_nl = thecal_visit_get_model (self)->discrepancy_threshold_nl;
        r->log_from_seq = MAX (thecal_visit_get_status (self)->log_next_seq, 1);
        json = write_request_json (r);
        input.pump_serial = thecal_visit_get_pump (self)->serial;
        input.kind = THECAL_PUMP_WRITE_REFILL;
        input.reason = _ ("Refill with a drug or concentration change verified; the pump's reservoir and prescription are "
                          "about to be set together.");
        input.request_json = json;
        thecal_record_begin_pump_write_async (record_of (self), performer (self), &input, NULL, on_step, task);
        return;
      }
    case 4:
      {
        g_autoptr (ThecalPumpWrite) write = thecal_record_begin_pump_write_finish (record_of (self), result, &error);
        ThecalMsgSetReservoir fill = { 0 };

        if (write == NULL)
          {
            /* the programming session is PENDING: nothing was sent, so it failed */
            c->outcome = THECAL_OUTCOME_FAILED;
            c->note = g_strdup_printf (_ ("Nothing was sent: the pending refill could not be recorded (%s)."), error->message);
            r->error = g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED,
                                    _ ("The pending refill could not be recorded (%s): nothing was sent to the pump."),
                                    error->message);
            change_record (task, r);
            return;
          }
        r->write_id = write->id;
        thecal_visit_track_write (self, write);
        fill.volume_nl = r->report.new_volume_nl;
        g_strlcpy (fill.drug_id, r->drug_id, sizeof fill.drug_id);
        fill.concentration_ng_per_ml = r->concentration_ng_per_ml;
        /* STAGE → READ_STAGED → REFILL_COMMIT → read back: the pump never stops. Not cancellable:
         * a write, once started, runs to its outcome. */
        thecal_pump_link_refill_program_async (thecal_visit_get_link (self), &review->new_rx,
                                               &thecal_visit_get_active (self)->checksum, &fill, NULL, on_step, task);
        return;
      }
    case 5:
      if (!thecal_pump_link_refill_program_finish (thecal_visit_get_link (self), result, &c->report, &error))
        {
          /* nothing was sent: the pump runs the previous prescription on its previous fill */
          c->outcome = THECAL_OUTCOME_FAILED;
          c->note = g_strdup_printf (_ ("Nothing was sent: %s"), error->message);
          if (error->domain == THECAL_WAND_ERROR)
            r->error = g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED,
                                    _ ("The drug change paused: %s. Nothing was changed: the pump runs the previous "
                                       "prescription on its previous fill; bring the wand back over the pump and refill again."),
                                    error->message);
          else
            r->error = g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED,
                                    _ ("The drug change could not start (%s): nothing was changed; the pump runs the previous "
                                       "prescription on its previous fill."),
                                    error->message);
          change_record (task, r);
          return;
        }
      /* what the pump holds and runs now: settles a lost answer, and is the visit's new status */
      thecal_pump_link_read_status_async (thecal_visit_get_link (self), NULL, on_step, task);
      return;
    case 6:
      {
        g_autofree ThecalMessage *reply = thecal_pump_link_request_finish (thecal_visit_get_link (self), result, &error);
        gboolean mixed = FALSE, fill_new = FALSE;

        if (reply != NULL)
          {
            thecal_visit_update_status (self, &reply->status);
            c->outcome = change_settle (r, &reply->status, &mixed, &fill_new);
          }
        else if (c->report.outcome == THECAL_PROGRAM_CONFIRMED)
          c->outcome = THECAL_OUTCOME_CONFIRMED; /* read back byte for byte; the fill came with it */
        else if (c->report.outcome == THECAL_PROGRAM_FAILED)
          c->outcome = THECAL_OUTCOME_FAILED; /* an authenticated refusal, or a read of the old one */
        else
          c->outcome = THECAL_OUTCOME_UNCERTAIN;
        c->mixed = mixed;
        if (c->outcome == THECAL_OUTCOME_CONFIRMED && c->report.outcome == THECAL_PROGRAM_CONFIRMED)
          c->note = g_strdup (_ ("Read back: the pump runs the new prescription on the new fill (REFILL_COMMIT)."));
        else if (c->outcome == THECAL_OUTCOME_CONFIRMED)
          c->note = g_strdup (_ ("The answer to REFILL_COMMIT was lost; settled by reading the pump: it runs the new prescription "
                                 "on the new fill."));
        else if (c->outcome == THECAL_OUTCOME_FAILED && c->report.outcome == THECAL_PROGRAM_FAILED)
          c->note = g_strdup_printf (_ ("Not applied; the pump runs the previous prescription on its previous fill (%s)."),
                                     c->report.error.reason);
        else if (c->outcome == THECAL_OUTCOME_FAILED)
          c->note = g_strdup_printf (_ ("Settled by reading the pump: REFILL_COMMIT was not applied; the previous fill is in the "
                                        "reservoir and the new prescription does not run (%s)."),
                                     c->report.error.reason);
        else if (mixed)
          c->note = g_strdup_printf (_ ("After REFILL_COMMIT the pump reports the %s prescription with the %s fill: impossible "
                                        "for a pump that sets both at one instant."),
                                     fill_new ? _ ("previous") : _ ("new"), fill_new ? _ ("new") : _ ("previous"));
        else
          c->note = g_strdup_printf (_ ("REFILL_COMMIT was sent and its answer was lost (%s); the pump could not be read: it runs "
                                        "the previous prescription on the previous fill or the new one on the new fill."),
                                     c->report.error.reason);
        change_record (task, r);
        return;
      }
    case 7:
      {
        g_autoptr (ThecalProgrammingSession) session = thecal_record_resolve_programming_finish (record_of (self), result, &error);

        if (session == NULL)
          {
            change_record_failed (task, r, error);
            return;
          }
        if (session->outcome == THECAL_OUTCOME_UNCERTAIN)
          thecal_visit_block_on_session (self, session->id);
        if (r->write_id == 0)
          {
            change_act (task, r); /* no refill was recorded PENDING */
            return;
          }
        {
          ThecalRefillInput input;

          refill_input (r, &input);
          thecal_record_resolve_pump_write_async (record_of (self), performer (self), r->write_id,
                                                  thecal_visit_get_pump (self)->serial, c->outcome, c->note,
                                                  c->outcome == THECAL_OUTCOME_CONFIRMED ? &input : NULL, NULL, on_step, task);
        }
        return;
      }
    case 8:
      {
        g_autoptr (ThecalPumpWrite) write = thecal_record_resolve_pump_write_finish (record_of (self), result, &error);

        if (write == NULL)
          {
            change_record_failed (task, r, error);
            return;
          }
        thecal_visit_track_write (self, write);
        r->report.refill_id = write->refill_id;
        change_act (task, r);
        return;
      }
    case 9:
      {
        ThecalProgrammingOutcome outcome = THECAL_OUTCOME_FAILED;
        gboolean ran = thecal_visit_bolus_finish (self, result, &outcome, &error);
        g_autofree char *plan = NULL;

        if (!retake_step (task, r))
          return;
        if (!ran || outcome != THECAL_OUTCOME_CONFIRMED)
          {
            g_autofree char *volume = fmt (THECAL_QUANTITY_VOLUME, review->bridge->volume_nl);
            g_autofree char *old_c = fmt (THECAL_QUANTITY_CONCENTRATION, review->old_rx.concentration_ng_per_ml);

            if (ran && outcome == THECAL_OUTCOME_UNCERTAIN)
              change_interrupted (task, r, THECAL_VISIT_ERROR_BLOCKED,
                                  g_strdup_printf (_ ("The pump runs the new prescription; the answer to the bridge bolus was "
                                                      "lost: it may or may not run. Settle it (read the pump) now: without it "
                                                      "the %s of %s %s in the pump and catheter reaches the patient at the new "
                                                      "rate."),
                                                   volume, review->old_rx.drug_id, old_c));
            else
              change_interrupted (task, r, ran ? THECAL_VISIT_ERROR_FAILED : code_of (self, error),
                                  g_strdup_printf (_ ("The pump runs the new prescription but the bridge bolus was not given "
                                                      "(%s): the %s of %s %s in the pump and catheter now reaches the patient "
                                                      "at the new rate. Give the bridge bolus now."),
                                                   ran ? thecal_programming_outcome_name (outcome) : error->message, volume,
                                                   review->old_rx.drug_id, old_c));
            return;
          }
        r->report.outcome = THECAL_OUTCOME_CONFIRMED;
        r->report.changed = TRUE;
        r->report.have_projection = review->have_projection;
        r->report.projection = review->projection;
        plan = change_plan_text (review);
        audit (task, "refill.change.done", plan, on_step);
        return;
      }
    case 10:
      {
        g_autoptr (ThecalAuditEntry) entry = thecal_record_append_audit_finish (record_of (self), result, &error);

        if (entry == NULL)
          g_warning ("A completed drug change could not be audited: %s", error->message);
        return_report (task, r);
        return;
      }
    default:
      g_assert_not_reached ();
    }
}

/* Both records hold the outcome: on to the bridge (CONFIRMED), or say what the pump runs. */
static void
change_act (GTask *task, Refill *r)
{
  ThecalVisit *self = r->self;
  Change *c = r->change;
  ThecalRefillReview *review = c->review;
  g_autofree char *fill = fmt (THECAL_QUANTITY_CONCENTRATION, r->concentration_ng_per_ml);
  g_autoptr (GError) error = NULL;
  ThecalBolusRequest bridge = { 0 };

  switch (c->outcome)
    {
    case THECAL_OUTCOME_CONFIRMED:
      {
        ThecalMsgPrescription active;

        active.rx = review->new_rx;
        active.checksum = c->target;
        thecal_visit_update_active (self, &active);
        r->report.outcome = THECAL_OUTCOME_CONFIRMED;
        break;
      }
    case THECAL_OUTCOME_FAILED:
      if (r->error == NULL)
        r->error = g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED,
                                _ ("The pump did not take the drug change (%s): nothing was changed; it runs the previous "
                                   "prescription on its previous fill."),
                                c->note);
      audit (task, "refill.change.not_applied", r->error->message, on_failure_audited);
      return;
    case THECAL_OUTCOME_UNCERTAIN:
    case THECAL_OUTCOME_PENDING:
    default:
      thecal_visit_block_on_session (self, c->programming_id);
      if (c->mixed)
        change_interrupted (task, r, THECAL_VISIT_ERROR_BLOCKED,
                            g_strdup_printf (_ ("The pump's reservoir and prescription disagree after the drug change: %s "
                                                "Programming session %" G_GINT64_FORMAT " and refill write %" G_GINT64_FORMAT
                                                " stay UNCERTAIN. Check the pump (reconcile) before anything else."),
                                             c->note, c->programming_id, r->write_id));
      else
        {
          g_autofree char *old_c = fmt (THECAL_QUANTITY_CONCENTRATION, review->old_rx.concentration_ng_per_ml);

          change_interrupted (task, r, THECAL_VISIT_ERROR_BLOCKED,
                              g_strdup_printf (_ ("The answer to the drug change was lost and the pump could not be read: it "
                                                  "runs the previous prescription on %s %s or the new one on %s %s, never "
                                                  "stopped. Read the pump (reconcile) before anything else; if it runs the new "
                                                  "prescription, give the bridge bolus."),
                                               review->old_rx.drug_id, old_c, r->drug_id, fill));
        }
      return;
    }

  /* the bridge, reviewed again on what the pump now runs, must be the one the user confirmed */
  bridge.kind = THECAL_VISIT_BOLUS_BRIDGE;
  bridge.previous_rx = &review->old_rx;
  c->bolus = thecal_visit_review_bolus (self, &bridge, &error);
  if (c->bolus == NULL || c->bolus->volume_nl != review->bridge->volume_nl || c->bolus->duration_ms != review->bridge->duration_ms
      || c->bolus->dose_ng != review->bridge->dose_ng)
    {
      change_interrupted (task, r, c->bolus == NULL ? code_of (self, error) : THECAL_VISIT_ERROR_FAILED,
                          g_strdup_printf (_ ("The pump runs the new prescription (%s %s) but the bridge bolus was not "
                                              "started: %s. The old drug in the pump and catheter now reaches the "
                                              "patient at the new rate: give the bridge bolus now."),
                                           r->drug_id, fill, c->bolus == NULL ? error->message : _ ("it differs from the reviewed one")));
      return;
    }
  r->step = 8; /* the bolus comes back as step 9 */
  thecal_visit_step_end (self);
  thecal_visit_bolus_async (self, c->bolus, c->override_reason, NULL, on_step, task);
}
