/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-workflow-bolus.c: clinician, priming and bridge boluses of a connected visit
 * (thecal-workflow-bolus.h, docs/workflows.md "Bolus"). A GTask whose steps run one after the
 * other on the visit's context, like the refill (thecal-workflow-refill.c).
 *
 * Every START_BOLUS is a pump write of the record (thecal_record_begin_pump_write_async): PENDING
 * is committed before the first byte goes to the pump, and the outcome resolves it. A write left
 * PENDING (the program died) or UNCERTAIN (the answer was lost) blocks the visit
 * (thecal_visit_track_write, thecal-visit-private.h) and every later visit of the pump until a
 * read settles it: thecal_visit_settle_bolus_async, or the visit's connect for a write an earlier
 * process left (thecal_visit_settle_bolus_write_async, the same code on the request read back
 * from the record).
 */
#include "config.h"

#include "thecal-workflow-bolus.h"

#include <glib/gi18n.h>
#include <string.h>

#include "thecal-engine.h"
#include "thecal-format.h"
#include "thecal-quantity.h"
#include "thecal-visit-private.h"

#define DAY_MS INT64_C (86400000)

/* A reason for a soft-limit override says something: at least this many characters. */
#define REASON_MIN_CHARS 10

typedef struct
{
  ThecalVisit *self; /* borrowed: the task holds a reference */
  gint step;
  gboolean settling;
  gboolean nested;          /* settling inside connect or reconcile: the visit's step is theirs */
  gint64 write_id;          /* the record's pump write */
  ThecalBolusReview review; /* summary and warning owned */
  char *reason;
  gint64 log_from_seq;    /* the pump's next log sequence as last read before the write */
  gboolean other_running; /* settle: a bolus of this kind runs that is not this one */
  ThecalProgrammingOutcome outcome;
  GError *error; /* reported after its audit entry is written */
} Bolus;

static void
bolus_free (Bolus *b)
{
  g_free (b->review.summary);
  g_free (b->review.warning);
  g_free (b->reason);
  g_clear_error (&b->error);
  g_free (b);
}

void
thecal_bolus_review_free (ThecalBolusReview *review)
{
  if (review == NULL)
    return;
  g_free (review->summary);
  g_free (review->warning);
  g_free (review);
}

static const char *
kind_name (ThecalVisitBolusKind kind)
{
  switch (kind)
    {
    case THECAL_VISIT_BOLUS_CLINICIAN:
      return "clinician";
    case THECAL_VISIT_BOLUS_PRIMING:
      return "priming";
    case THECAL_VISIT_BOLUS_BRIDGE:
      return "bridge";
    default:
      return "unknown";
    }
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

/* ---- the review --------------------------------------------------------------------------- */

static gboolean
refuse_dose (GError **error, const char *what, const ThecalDoseError *dose_error)
{
  g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED, _ ("The %s bolus is refused: %s"), what, dose_error->message);
  return FALSE;
}

/* The catheter of the pump as recorded (implanted length) at 0.0026 mL/cm (CLINICAL.md §2.1). */
static ThecalCatheter
catheter_of (ThecalVisit *self)
{
  ThecalCatheter catheter = { 0 };

  catheter.catheter_length_mm = (int32_t) CLAMP (thecal_visit_get_pump (self)->catheter_length_mm, 0, G_MAXINT32);
  catheter.catheter_volume_nl_per_cm = THECAL_VISIT_CATHETER_NL_PER_CM;
  return catheter;
}

/* The phases of @plan (PRIMING or BRIDGE) → volume, duration, dose. */
static gboolean
sum_phases (const ThecalBolusPlan *plan, ThecalBolusReview *review)
{
  for (int32_t i = 0; i < plan->n_phases; i++)
    {
      const ThecalBolusPhase *phase = &plan->phases[i];

      if (phase->kind == THECAL_PHASE_PRESCRIPTION)
        continue;
      if (!thecal_add_i64 (review->volume_nl, phase->volume_nl, &review->volume_nl)
          || !thecal_add_i64 (review->duration_ms, phase->duration_ms, &review->duration_ms)
          || !thecal_add_i64 (review->dose_ng, phase->dose_ng, &review->dose_ng))
        return FALSE;
    }
  return TRUE;
}

/* The drug library's daily limits for the active drug, with the bolus added to the active
 * prescription's worst day (a bolus is part of the day's dose: ThecalLimitKind
 * THECAL_LIMIT_MAX_DAILY_DOSE "worst case incl. PTM and boluses"). Hard: refused; soft: needs a
 * reason. */
static gboolean
check_daily_limit (ThecalVisit *self, const char *drug_id, const ThecalDeliveryPlan *plan, ThecalBolusReview *review, GError **error)
{
  const ThecalDrug *drug = thecal_drug_library_find (thecal_visit_get_library (self), drug_id);
  const ThecalPatient *patient = thecal_visit_get_patient (self);
  gboolean tolerant = patient != NULL && patient->opioid_tolerance == THECAL_OPIOID_TOLERANT;

  if (drug == NULL)
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED, _ ("The pump's drug \"%s\" is not in the drug library."),
                   drug_id);
      return FALSE;
    }
  if (!thecal_add_i64 (plan->total_worst_ng_per_day, review->dose_ng, &review->day_worst_ng))
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED, _ ("The bolus dose is out of range."));
      return FALSE;
    }
  for (int32_t i = 0; i < drug->n_limits; i++)
    {
      const ThecalDrugLimit *limit = &drug->limits[i];
      gboolean applies = limit->applies_to == THECAL_APPLIES_ALL || (limit->applies_to == THECAL_APPLIES_OPIOID_TOLERANT && tolerant)
                         || (limit->applies_to == THECAL_APPLIES_OPIOID_NAIVE && !tolerant);

      if (limit->kind != THECAL_LIMIT_MAX_DAILY_DOSE || !applies || review->day_worst_ng <= limit->value)
        continue;
      if (limit->severity == THECAL_LIMIT_HARD)
        {
          g_autofree char *day = thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, review->day_worst_ng);
          g_autofree char *max = thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, limit->value);

          g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED,
                       _ ("The bolus would bring the day's dose of %s to %s, above the hard limit %s (%s)."), drug->id, day, max,
                       limit->source);
          return FALSE;
        }
      review->over_soft_limit = TRUE;
    }
  return TRUE;
}

static gboolean
review_clinician (ThecalVisit *self, const ThecalBolusRequest *request, ThecalBolusReview *review, GError **error)
{
  const ThecalMsgPrescription *active = thecal_visit_get_active (self);
  const ThecalPumpModel *model = thecal_visit_get_model (self);
  gint64 volume, rate;

  if (request->dose_ng <= 0 || request->duration_ms <= 0)
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED, _ ("A clinician bolus needs a dose and a duration above 0."));
      return FALSE;
    }
  if (active->rx.mode == THECAL_MODE_STOPPED || active->rx.concentration_ng_per_ml <= 0)
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED,
                   _ ("The pump has no programmed drug and concentration: program it before a clinician bolus."));
      return FALSE;
    }
  /* the volume in whole strokes, as the pump delivers it (the pump rounds the same way) */
  if (!thecal_volume_nl_from_dose_ng (request->dose_ng, active->rx.concentration_ng_per_ml, THECAL_ROUND_NEAREST_HALF_DOWN, &volume)
      || !thecal_round_to_step_i64 (volume, model->stroke_volume_nl, THECAL_ROUND_NEAREST_HALF_DOWN, &review->volume_nl)
      || review->volume_nl <= 0)
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED,
                   _ ("The clinician bolus dose is less than one stroke of the pump or out of range."));
      return FALSE;
    }
  /* the rate the bolus needs, rounded UP: a bolus that only just fits the ceiling after rounding
   * down could still be faster than the pump may run ("never above" the ceiling) */
  if (!thecal_muldiv_i64 (review->volume_nl, DAY_MS, request->duration_ms, THECAL_ROUND_UP, &rate))
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED, _ ("The clinician bolus rate is out of range."));
      return FALSE;
    }
  if (rate > model->bolus_rate_max_nl_per_day)
    {
      g_autofree char *r = thecal_format_quantity (THECAL_QUANTITY_VOLUME_RATE, rate);
      g_autofree char *max = thecal_format_quantity (THECAL_QUANTITY_VOLUME_RATE, model->bolus_rate_max_nl_per_day);

      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED,
                   _ ("The clinician bolus would run at %s, above the %s bolus maximum %s: give it over a longer time."), r,
                   model->id, max);
      return FALSE;
    }
  review->duration_ms = request->duration_ms;
  review->dose_ng = request->dose_ng;
  review->request.kind = THECAL_PROTO_BOLUS_CLINICIAN;
  review->request.dose_ng = request->dose_ng;
  review->request.duration_ms = request->duration_ms;
  return TRUE;
}

/* The day's limit of the drug that runs (@rx) with the bolus added. A bridge bolus delivers the
 * drug of @previous_rx: for another drug its dose is not part of @rx's drug's day, and it runs no
 * faster than the old prescription's own daily dose (thecal_bridge_bolus), so only the new drug's
 * day is checked. */
static gboolean
bridge_daily_limit (ThecalVisit *self,
                    const ThecalPrescription *previous_rx,
                    const ThecalPrescription *rx,
                    const ThecalDeliveryPlan *plan,
                    ThecalBolusReview *review,
                    GError **error)
{
  gint64 dose_ng = review->dose_ng;
  gboolean ok;

  if (previous_rx == NULL || g_strcmp0 (previous_rx->drug_id, rx->drug_id) == 0)
    return check_daily_limit (self, rx->drug_id, plan, review, error);
  review->dose_ng = 0;
  ok = check_daily_limit (self, rx->drug_id, plan, review, error);
  review->dose_ng = dose_ng;
  return ok;
}

/* One sentence: what the bolus delivers (of @drug_id), over how long. */
static void
summarize (ThecalBolusReview *review, const char *drug_id)
{
  g_autofree char *v = thecal_format_quantity (THECAL_QUANTITY_VOLUME, review->volume_nl);
  g_autofree char *d = thecal_format_quantity (THECAL_QUANTITY_AMOUNT, review->dose_ng);
  g_autofree char *t = thecal_format_duration (review->duration_ms);

  g_free (review->summary);
  review->summary = g_strdup_printf (_ ("A %s bolus of %s (%s of %s) over %s; the basal delivery pauses while it runs."),
                                     kind_name (review->kind), v, d, drug_id, t);
}

ThecalBolusReview *
thecal_visit_review_bolus (ThecalVisit *self, const ThecalBolusRequest *request, GError **error)
{
  g_autoptr (ThecalBolusReview) review = NULL;
  const ThecalMsgPrescription *active;
  const ThecalPumpModel *model;
  ThecalDeliveryPlan plan;
  ThecalDoseError dose_error;
  ThecalCatheter catheter;

  g_return_val_if_fail (THECAL_IS_VISIT (self), NULL);
  g_return_val_if_fail (request != NULL, NULL);
  if (!thecal_visit_is_connected (self))
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_NOT_CONNECTED, _ ("Not connected to a pump: interrogate it first."));
      return NULL;
    }
  if (thecal_visit_is_blocked (self, NULL) || thecal_visit_bolus_uncertain (self))
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_BLOCKED,
                   _ ("An earlier change of pump %s is UNCERTAIN: read the pump (reconcile or settle) before a bolus."),
                   thecal_visit_get_pump (self)->serial);
      return NULL;
    }
  active = thecal_visit_get_active (self);
  model = thecal_visit_get_model (self);
  catheter = catheter_of (self);
  review = g_new0 (ThecalBolusReview, 1);
  review->kind = request->kind;
  review->reviewed_active = active->checksum;
  review->request.active = active->checksum;
  thecal_dose_error_clear (&dose_error);
  if (!thecal_delivery_plan_resolve (&active->rx, model, &plan, &dose_error))
    {
      refuse_dose (error, kind_name (request->kind), &dose_error);
      return NULL;
    }
  switch (request->kind)
    {
    case THECAL_VISIT_BOLUS_CLINICIAN:
      if (!review_clinician (self, request, review, error))
        return NULL;
      break;
    case THECAL_VISIT_BOLUS_PRIMING:
      if (!thecal_priming_bolus (model, &catheter, &plan, request->priming_rate_nl_per_day, &review->request.plan, &dose_error))
        {
          refuse_dose (error, "priming", &dose_error);
          return NULL;
        }
      review->request.kind = THECAL_PROTO_BOLUS_PRIMING;
      /* CLINICAL.md §1.4: drug and non-drug fluid mix at priming flow rates */
      review->warning = g_strdup (_ ("Drug and the priming fluid mix at priming flow rates: the drug may reach the patient "
                                     "earlier than planned. Watch the patient for the first hours."));
      break;
    case THECAL_VISIT_BOLUS_BRIDGE:
      {
        ThecalDeliveryPlan old_plan;

        if (request->previous_rx == NULL)
          {
            g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED,
                         _ ("A bridge bolus needs the prescription the pump ran before the change."));
            return NULL;
          }
        if (!thecal_delivery_plan_resolve (request->previous_rx, model, &old_plan, &dose_error))
          {
            refuse_dose (error, "bridge", &dose_error);
            return NULL;
          }
        if (!thecal_bridge_bolus (model, &catheter, &old_plan, request->previous_rx->drug_id, &plan, active->rx.drug_id,
                                  &review->request.plan, &dose_error))
          {
            refuse_dose (error, "bridge", &dose_error);
            return NULL;
          }
        review->request.kind = THECAL_PROTO_BOLUS_BRIDGE;
        break;
      }
    default:
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED, _ ("Unknown bolus kind %d."), (int) request->kind);
      return NULL;
    }
  if (request->kind != THECAL_VISIT_BOLUS_CLINICIAN && !sum_phases (&review->request.plan, review))
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED, _ ("The bolus plan is out of range."));
      return NULL;
    }
  if (!bridge_daily_limit (self, request->kind == THECAL_VISIT_BOLUS_BRIDGE ? request->previous_rx : NULL, &active->rx, &plan,
                           review, error))
    return NULL;
  summarize (review, request->kind == THECAL_VISIT_BOLUS_BRIDGE ? request->previous_rx->drug_id : active->rx.drug_id);
  return g_steal_pointer (&review);
}

/* The review of the bridge bolus that follows a drug or concentration change (thecal-workflow-
 * bolus.h): the same plan thecal_visit_review_bolus computes once @new_rx runs, computed before
 * anything is written. */
ThecalBolusReview *
thecal_visit_review_bridge (ThecalVisit *self, const ThecalPrescription *old_rx, const ThecalPrescription *new_rx, GError **error)
{
  g_autoptr (ThecalBolusReview) review = NULL;
  const ThecalPumpModel *model;
  ThecalDeliveryPlan old_plan, new_plan;
  ThecalDoseError dose_error;
  ThecalCatheter catheter;

  g_return_val_if_fail (THECAL_IS_VISIT (self), NULL);
  g_return_val_if_fail (old_rx != NULL && new_rx != NULL, NULL);
  if (!thecal_visit_is_connected (self))
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_NOT_CONNECTED, _ ("Not connected to a pump: interrogate it first."));
      return NULL;
    }
  model = thecal_visit_get_model (self);
  catheter = catheter_of (self);
  review = g_new0 (ThecalBolusReview, 1);
  review->kind = THECAL_VISIT_BOLUS_BRIDGE;
  review->request.kind = THECAL_PROTO_BOLUS_BRIDGE;
  thecal_dose_error_clear (&dose_error);
  if (!thecal_delivery_plan_resolve (old_rx, model, &old_plan, &dose_error)
      || !thecal_delivery_plan_resolve (new_rx, model, &new_plan, &dose_error)
      || !thecal_bridge_bolus (model, &catheter, &old_plan, old_rx->drug_id, &new_plan, new_rx->drug_id, &review->request.plan,
                               &dose_error))
    {
      refuse_dose (error, "bridge", &dose_error);
      return NULL;
    }
  if (!sum_phases (&review->request.plan, review))
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED, _ ("The bolus plan is out of range."));
      return NULL;
    }
  if (!bridge_daily_limit (self, old_rx, new_rx, &new_plan, review, error))
    return NULL;
  summarize (review, old_rx->drug_id);
  return g_steal_pointer (&review);
}

/* ---- the write ---------------------------------------------------------------------------- */

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

static char *
bolus_json (Bolus *b, const char *message)
{
  const ThecalPump *pump = thecal_visit_get_pump (b->self);
  g_autofree char *m = json_escape (message);

  return g_strdup_printf ("{\"pump\":\"%s\",\"kind\":\"%s\",\"volume_nl\":%" G_GINT64_FORMAT ",\"dose_ng\":%" G_GINT64_FORMAT
                          ",\"duration_ms\":%" G_GINT64_FORMAT ",\"message\":\"%s\"}",
                          pump != NULL ? pump->serial : "", kind_name (b->review.kind), b->review.volume_nl, b->review.dose_ng,
                          b->review.duration_ms, m);
}

static void
audit (GTask *task, const char *action, const char *message, GAsyncReadyCallback callback)
{
  Bolus *b = g_task_get_task_data (task);
  const ThecalPump *pump = thecal_visit_get_pump (b->self);
  g_autofree char *after = bolus_json (b, message);
  ThecalAuditInput input = { 0 };

  input.action = action;
  input.object_type = "pump";
  input.object_id = pump->id;
  input.patient_id = pump->patient_id;
  input.after = after;
  input.reason = b->reason != NULL ? b->reason : message;
  thecal_record_append_audit_async (record_of (b->self), performer (b->self), &input, NULL, callback, task);
}

static void
bolus_return_error (GTask *task, GError *error)
{
  Bolus *b = g_task_get_task_data (task);

  if (!b->nested)
    thecal_visit_step_end (b->self);
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
bolus_return_outcome (GTask *task, ThecalProgrammingOutcome outcome)
{
  Bolus *b = g_task_get_task_data (task);

  if (!b->nested)
    thecal_visit_step_end (b->self);
  g_task_return_int (task, outcome);
  g_object_unref (task);
}

/* Runs on the visit's context: the audit entry of a failure is written (or could not be). */
static void
on_failure_audited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Bolus *b = g_task_get_task_data (task);
  g_autoptr (ThecalAuditEntry) entry = NULL;
  g_autoptr (GError) audit_error = NULL;

  entry = thecal_record_append_audit_finish (THECAL_RECORD (source), result, &audit_error);
  if (entry == NULL)
    g_warning ("A bolus step could not be audited: %s", audit_error->message);
  bolus_return_error (task, g_steal_pointer (&b->error));
}

static void
refuse (GTask *task, const char *action, GError *error)
{
  Bolus *b = g_task_get_task_data (task);

  b->error = error;
  audit (task, action, error->message, on_failure_audited);
}

static ThecalVisitBolusKind
kind_from_name (const char *name)
{
  if (g_strcmp0 (name, "priming") == 0)
    return THECAL_VISIT_BOLUS_PRIMING;
  if (g_strcmp0 (name, "bridge") == 0)
    return THECAL_VISIT_BOLUS_BRIDGE;
  return THECAL_VISIT_BOLUS_CLINICIAN;
}

static void
json_digits (cJSON *object, const char *key, gint64 value)
{
  char digits[24];

  g_snprintf (digits, sizeof digits, "%" G_GINT64_FORMAT, value);
  cJSON_AddStringToObject (object, key, digits);
}

/* The request of the pump write: what thecal_visit_settle_bolus_write_async needs to settle it
 * in a later process (the kind and volume the pump reports while it runs, the log sequence
 * before the write), and what a person reading the record needs. */
static char *
request_json (const Bolus *b)
{
  cJSON *object = cJSON_CreateObject ();
  char *text;

  cJSON_AddStringToObject (object, "kind", kind_name (b->review.kind));
  json_digits (object, "volume_nl", b->review.volume_nl);
  json_digits (object, "dose_ng", b->review.dose_ng);
  json_digits (object, "duration_ms", b->review.duration_ms);
  json_digits (object, "log_from_seq", b->log_from_seq);
  cJSON_AddStringToObject (object, "summary", b->review.summary != NULL ? b->review.summary : "");
  text = cJSON_PrintUnformatted (object);
  cJSON_Delete (object);
  return text;
}

/* A settle of @write from the record: the request read back. */
static Bolus *
bolus_from_write (ThecalVisit *self, const ThecalPumpWrite *write, GError **error)
{
  cJSON *object = cJSON_Parse (write->request_json);
  Bolus *b;

  if (object == NULL)
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED,
                   _ ("The request of pump write %" G_GINT64_FORMAT " cannot be read: settle it by hand."), write->id);
      return NULL;
    }
  b = g_new0 (Bolus, 1);
  b->self = self;
  b->write_id = write->id;
  b->review.kind = kind_from_name (thecal_visit_json_text (object, "kind"));
  b->review.summary = g_strdup (thecal_visit_json_text (object, "summary"));
  b->reason = g_strdup (write->reason);
  if (!thecal_visit_json_int (object, "volume_nl", &b->review.volume_nl) || !thecal_visit_json_int (object, "dose_ng", &b->review.dose_ng)
      || !thecal_visit_json_int (object, "duration_ms", &b->review.duration_ms)
      || !thecal_visit_json_int (object, "log_from_seq", &b->log_from_seq))
    {
      cJSON_Delete (object);
      bolus_free (b);
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED,
                   _ ("The request of pump write %" G_GINT64_FORMAT " cannot be read: settle it by hand."), write->id);
      return NULL;
    }
  cJSON_Delete (object);
  return b;
}

gboolean
thecal_visit_bolus_uncertain (ThecalVisit *self)
{
  g_return_val_if_fail (THECAL_IS_VISIT (self), FALSE);
  return thecal_visit_get_unresolved_write (self, THECAL_PUMP_WRITE_BOLUS) != NULL;
}

/* Runs on the visit's context: the outcome is in the record (resolved, audited) or could not be
 * stored. */
static void
on_resolved (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Bolus *b = g_task_get_task_data (task);
  g_autoptr (ThecalPumpWrite) write = NULL;
  g_autoptr (GError) error = NULL;

  write = thecal_record_resolve_pump_write_finish (THECAL_RECORD (source), result, &error);
  if (write == NULL)
    {
      /* the pump's state is known, the record's is not: the write stays unresolved (and blocks) */
      g_clear_error (&b->error);
      bolus_return_error (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_BLOCKED,
                                             _ ("The bolus was %s but the record could not store it (%s): it stays "
                                                "unresolved and is settled by reading the pump at the next connection."),
                                             thecal_programming_outcome_name (b->outcome), error->message));
      return;
    }
  thecal_visit_track_write (b->self, write);
  if (b->error != NULL)
    bolus_return_error (task, g_steal_pointer (&b->error));
  else
    bolus_return_outcome (task, b->outcome);
}

/* Records @outcome of the write (with @note), then reports b->error if set, else the outcome. */
static void
resolve (GTask *task, Bolus *b, ThecalProgrammingOutcome outcome, const char *note)
{
  b->outcome = outcome;
  thecal_record_resolve_pump_write_async (record_of (b->self), performer (b->self), b->write_id, thecal_visit_get_pump (b->self)->serial,
                                          outcome, note, NULL, NULL, on_resolved, task);
}

static void bolus_run (GTask *task, Bolus *b, GAsyncResult *result);
static void settle_run (GTask *task, Bolus *b, GAsyncResult *result);

static void
on_step (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Bolus *b = g_task_get_task_data (task);

  (void) source;
  b->step++;
  if (b->settling)
    settle_run (task, b, result);
  else
    bolus_run (task, b, result);
}

static void
bolus_run (GTask *task, Bolus *b, GAsyncResult *result)
{
  ThecalVisit *self = b->self;
  g_autoptr (GError) error = NULL;

  switch (b->step)
    {
    case 0:
      {
        g_autofree char *request = NULL;
        ThecalPumpWriteInput input = { 0 };

        /* intent before action: the pending bolus is in the record (and the audit chain) before the
         * pump is touched, with what a later process needs to settle it */
        b->log_from_seq = MAX (thecal_visit_get_status (self)->log_next_seq, 1);
        request = request_json (b);
        input.pump_serial = thecal_visit_get_pump (self)->serial;
        input.kind = THECAL_PUMP_WRITE_BOLUS;
        input.reason = b->reason != NULL && *b->reason != '\0'                   ? b->reason
                       : b->review.summary != NULL && *b->review.summary != '\0' ? b->review.summary
                                                                                 : kind_name (b->review.kind);
        input.request_json = request;
        thecal_record_begin_pump_write_async (record_of (self), performer (self), &input, NULL, on_step, task);
        return;
      }
    case 1:
      {
        g_autoptr (ThecalPumpWrite) write = thecal_record_begin_pump_write_finish (record_of (self), result, &error);

        if (write == NULL)
          {
            bolus_return_error (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED,
                                                   _ ("The pending bolus could not be recorded (%s): nothing was sent to the pump."),
                                                   error->message));
            return;
          }
        b->write_id = write->id;
        thecal_visit_track_write (self, write);
        /* not cancellable: a write, once started, runs to its outcome */
        thecal_pump_link_start_bolus_async (thecal_visit_get_link (self), &b->review.request, NULL, on_step, task);
        return;
      }
    case 2:
      {
        g_autofree ThecalMessage *reply = thecal_pump_link_request_finish (thecal_visit_get_link (self), result, &error);

        if (reply != NULL)
          {
            resolve (task, b, THECAL_OUTCOME_CONFIRMED, b->review.summary);
            return;
          }
        if (g_error_matches (error, THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_TIMEOUT))
          {
            /* the pump may or may not run the bolus: block until a read settles it */
            resolve (task, b, THECAL_OUTCOME_UNCERTAIN,
                     _ ("The pump's answer to the bolus was lost: it may or may not run. Read the pump before any other change."));
            return;
          }
        if (error->domain == THECAL_WAND_ERROR)
          b->error = g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED,
                                  _ ("The bolus paused: %s. The pump did not take it; bring the wand back over the pump (or "
                                     "plug it in again) and start it again."),
                                  error->message);
        else
          b->error = g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED, _ ("The pump refused the bolus: %s"), error->message);
        resolve (task, b, THECAL_OUTCOME_FAILED, b->error->message);
        return;
      }
    default:
      g_assert_not_reached ();
    }
}

void
thecal_visit_bolus_async (ThecalVisit *self,
                          const ThecalBolusReview *review,
                          const char *reason,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  GTask *task;
  Bolus *b;
  GError *error = NULL;

  g_return_if_fail (THECAL_IS_VISIT (self));
  g_return_if_fail (review != NULL);
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, thecal_visit_bolus_async);
  b = g_new0 (Bolus, 1);
  b->self = self;
  b->review = *review;
  b->review.summary = g_strdup (review->summary);
  b->review.warning = g_strdup (review->warning);
  b->reason = g_strdup (reason);
  g_task_set_task_data (task, b, (GDestroyNotify) bolus_free);
  if (!thecal_visit_step_begin (self, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  if (!thecal_permission_check (performer (self), THECAL_PERMISSION_BOLUS, &error))
    {
      refuse (task, "permission.denied", error);
      return;
    }
  if (thecal_visit_is_blocked (self, NULL) || thecal_visit_bolus_uncertain (self))
    {
      bolus_return_error (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_BLOCKED,
                                             _ ("An earlier change of pump %s is UNCERTAIN: read the pump (reconcile or settle) "
                                                "before a bolus."),
                                             thecal_visit_get_pump (self)->serial));
      return;
    }
  if (!thecal_checksum_equal (&review->reviewed_active, &thecal_visit_get_active (self)->checksum))
    {
      bolus_return_error (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED,
                                             _ ("The pump's prescription changed since the bolus was reviewed: review it again.")));
      return;
    }
  if (review->over_soft_limit && (reason == NULL || g_utf8_strlen (reason, -1) < REASON_MIN_CHARS))
    {
      g_autofree char *day = thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, review->day_worst_ng);

      bolus_return_error (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_NEEDS_REASON,
                                             _ ("With the bolus the day's dose reaches %s, above a soft limit of the drug "
                                                "library: give a reason (at least 10 characters) to go on."),
                                             day));
      return;
    }
  bolus_run (task, b, NULL);
}

gboolean
thecal_visit_bolus_finish (ThecalVisit *self, GAsyncResult *result, ThecalProgrammingOutcome *outcome, GError **error)
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

/* ---- settle an uncertain bolus ------------------------------------------------------------ */

static ThecalProtoSource
source_of (ThecalVisitBolusKind kind)
{
  switch (kind)
    {
    case THECAL_VISIT_BOLUS_CLINICIAN:
      return THECAL_PROTO_SOURCE_CLINICIAN;
    case THECAL_VISIT_BOLUS_PRIMING:
      return THECAL_PROTO_SOURCE_PRIMING;
    case THECAL_VISIT_BOLUS_BRIDGE:
      return THECAL_PROTO_SOURCE_BRIDGE;
    default:
      return THECAL_PROTO_SOURCE_CLINICIAN;
    }
}

static void
settle_run (GTask *task, Bolus *b, GAsyncResult *result)
{
  ThecalVisit *self = b->self;
  g_autoptr (GError) error = NULL;

  switch (b->step)
    {
    case 0:
      thecal_pump_link_read_status_async (thecal_visit_get_link (self), NULL, on_step, task);
      return;
    case 1:
      {
        g_autofree ThecalMessage *reply = thecal_pump_link_request_finish (thecal_visit_get_link (self), result, &error);
        const ThecalProtoStatus *st;

        if (reply == NULL)
          {
            bolus_return_error (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED,
                                                   _ ("The pump could not be read (%s): the bolus is still UNCERTAIN. Bring the "
                                                      "wand back and settle it again."),
                                                   error->message));
            return;
          }
        st = &reply->status;
        thecal_visit_update_status (self, st);
        if (st->bolus_active && st->bolus_source == source_of (b->review.kind) && st->bolus_planned_nl == b->review.volume_nl)
          {
            resolve (task, b, THECAL_OUTCOME_CONFIRMED, _ ("Settled by reading the pump: the bolus runs."));
            return;
          }
        /* No such bolus runs now: it was never started, or it already ended. The pump's log from
         * the sequence it had reached before the write says which. Only a programmer starts a
         * clinician, priming or bridge bolus, and the pump runs one at a time, so a start of this
         * kind in that part of the log is this bolus. (No clock estimate: the pump's clock may
         * have drifted or been set since.) A bolus of this kind that runs now but does not match
         * keeps the outcome UNCERTAIN whatever the log says. */
        b->other_running = st->bolus_active && st->bolus_source == source_of (b->review.kind);
        thecal_pump_link_read_log_async (thecal_visit_get_link (self), b->log_from_seq, 0, 0, NULL, on_step, task);
        return;
      }
    case 2:
      {
        g_autoptr (ThecalPumpInterrogation) log = thecal_pump_link_read_log_finish (thecal_visit_get_link (self), result, &error);

        if (log == NULL || log->log_gap)
          {
            bolus_return_error (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED,
                                                   _ ("No bolus runs and the pump's log could not be read from before the "
                                                      "bolus (%s): it is still UNCERTAIN. Read the pump again before any other "
                                                      "change."),
                                                   log == NULL ? error->message : _ ("the pump no longer holds those events")));
            return;
          }
        for (guint i = 0; i < log->events->len; i++)
          {
            const ThecalProtoEvent *e = &g_array_index (log->events, ThecalProtoEvent, i);

            if (e->type == THECAL_EVENT_BOLUS_START && e->code == (int32_t) source_of (b->review.kind) && e->seq >= b->log_from_seq)
              {
                resolve (task, b, THECAL_OUTCOME_CONFIRMED, _ ("Settled by reading the pump's log: the bolus started (and has ended)."));
                return;
              }
          }
        if (b->other_running)
          {
            bolus_return_error (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED,
                                                   _ ("A %s bolus runs that is not the one sent and the pump's log does not "
                                                      "show this one start: it is still UNCERTAIN. Read the pump again when "
                                                      "the running bolus has ended."),
                                                   kind_name (b->review.kind)));
            return;
          }
        /* the whole log since before the write, and no start of this bolus: not started */
        resolve (task, b, THECAL_OUTCOME_FAILED,
                 _ ("Settled by reading the pump: no bolus runs and its log shows none started; the bolus was not given."));
        return;
      }
    default:
      g_assert_not_reached ();
    }
}

/* Settles @b (owned) on a new task of @self. */
static void
settle_start (ThecalVisit *self, Bolus *b, gpointer source_tag, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  b->self = self;
  b->settling = TRUE;
  b->step = 0;
  g_task_set_task_data (task, b, (GDestroyNotify) bolus_free);
  settle_run (task, b, NULL);
}

/* Fails a settle that did not start (the step was begun when @began). */
static void
settle_refused (ThecalVisit *self, gboolean began, gpointer source_tag, GAsyncReadyCallback callback, gpointer user_data, GError *error)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  if (began)
    thecal_visit_step_end (self);
  g_task_return_error (task, error);
  g_object_unref (task);
}

void
thecal_visit_settle_bolus_async (ThecalVisit *self, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  const ThecalPumpWrite *write;

  g_return_if_fail (THECAL_IS_VISIT (self));
  write = thecal_visit_get_unresolved_write (self, THECAL_PUMP_WRITE_BOLUS);
  if (write == NULL)
    {
      GTask *task = g_task_new (self, cancellable, callback, user_data);

      g_task_set_source_tag (task, thecal_visit_settle_bolus_async);
      g_task_return_int (task, THECAL_OUTCOME_CONFIRMED); /* nothing to settle */
      g_object_unref (task);
      return;
    }
  thecal_visit_settle_bolus_write_async (self, write, FALSE, callback, user_data);
}

void
thecal_visit_settle_bolus_write_async (ThecalVisit *self,
                                       const ThecalPumpWrite *write,
                                       gboolean nested,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data)
{
  GError *error = NULL;
  Bolus *b;

  g_return_if_fail (THECAL_IS_VISIT (self));
  g_return_if_fail (write != NULL && write->kind == THECAL_PUMP_WRITE_BOLUS);
  if (!nested && !thecal_visit_step_begin (self, &error))
    {
      settle_refused (self, FALSE, thecal_visit_settle_bolus_write_async, callback, user_data, error);
      return;
    }
  b = bolus_from_write (self, write, &error);
  if (b == NULL)
    {
      settle_refused (self, !nested, thecal_visit_settle_bolus_write_async, callback, user_data, error);
      return;
    }
  b->nested = nested;
  settle_start (self, b, thecal_visit_settle_bolus_write_async, NULL, callback, user_data);
}

gboolean
thecal_visit_settle_bolus_finish (ThecalVisit *self, GAsyncResult *result, ThecalProgrammingOutcome *outcome, GError **error)
{
  return thecal_visit_settle_write_finish (self, result, outcome, error);
}
