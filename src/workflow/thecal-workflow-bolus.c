/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-workflow-bolus.c: clinician, priming and bridge boluses of a connected visit
 * (thecal-workflow-bolus.h, docs/workflows.md "Bolus"). A GTask whose steps run one after the
 * other on the visit's context, like the refill (thecal-workflow-refill.c).
 *
 * An UNCERTAIN bolus blocks the visit through the visit's "write whose answer was lost" flag
 * (thecal_visit_set_uncertain_write, thecal-visit-private.h): thecal_visit_is_blocked and the
 * prescription change then refuse. Only one such write can be outstanding (a blocked visit refuses
 * every other write), so settling the bolus may clear the flag.
 */
#include "config.h"

#include "thecal-workflow-bolus.h"

#include <glib/gi18n.h>
#include <string.h>

#include "thecal-engine.h"
#include "thecal-quantity.h"
#include "thecal-visit-private.h"

#define UNCERTAIN_KEY "thecal-bolus-uncertain"
#define DAY_MS INT64_C (86400000)

/* A reason for a soft-limit override says something: at least this many characters. */
#define REASON_MIN_CHARS 10

typedef struct
{
  ThecalVisit *self; /* borrowed: the task holds a reference */
  gint step;
  gboolean settling;
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

static char *
fmt (ThecalQuantityKind kind, gint64 value)
{
  char buf[THECAL_QUANTITY_TEXT_MAX];

  return g_strdup (thecal_quantity_format (kind, value, buf, sizeof buf));
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
check_daily_limit (ThecalVisit *self, const ThecalDeliveryPlan *plan, ThecalBolusReview *review, GError **error)
{
  const ThecalMsgPrescription *active = thecal_visit_get_active (self);
  const ThecalDrug *drug = thecal_drug_library_find (thecal_visit_get_library (self), active->rx.drug_id);
  const ThecalPatient *patient = thecal_visit_get_patient (self);
  gboolean tolerant = patient != NULL && patient->opioid_tolerance == THECAL_OPIOID_TOLERANT;

  if (drug == NULL)
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED, _ ("The pump's drug \"%s\" is not in the drug library."),
                   active->rx.drug_id);
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
          g_autofree char *day = fmt (THECAL_QUANTITY_DOSE_RATE, review->day_worst_ng);
          g_autofree char *max = fmt (THECAL_QUANTITY_DOSE_RATE, limit->value);

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
      g_autofree char *r = fmt (THECAL_QUANTITY_VOLUME_RATE, rate);
      g_autofree char *max = fmt (THECAL_QUANTITY_VOLUME_RATE, model->bolus_rate_max_nl_per_day);

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
  if (!check_daily_limit (self, &plan, review, error))
    return NULL;
  {
    g_autofree char *v = fmt (THECAL_QUANTITY_VOLUME, review->volume_nl);
    g_autofree char *d = fmt (THECAL_QUANTITY_AMOUNT, review->dose_ng);
    g_autofree char *t = fmt (THECAL_QUANTITY_DURATION, review->duration_ms);

    review->summary = g_strdup_printf (_ ("A %s bolus of %s (%s of %s) over %s; the basal delivery pauses while it runs."),
                                       kind_name (request->kind), v, d, active->rx.drug_id, t);
  }
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

  thecal_visit_step_end (b->self);
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
bolus_return_outcome (GTask *task, ThecalProgrammingOutcome outcome)
{
  Bolus *b = g_task_get_task_data (task);

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

/* Runs on the visit's context: the outcome's audit entry is written. */
static void
on_outcome_audited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Bolus *b = g_task_get_task_data (task);
  g_autoptr (ThecalAuditEntry) entry = NULL;
  g_autoptr (GError) audit_error = NULL;

  entry = thecal_record_append_audit_finish (THECAL_RECORD (source), result, &audit_error);
  if (entry == NULL)
    g_warning ("A bolus outcome could not be audited: %s", audit_error->message);
  bolus_return_outcome (task, b->outcome);
}

static void
refuse (GTask *task, const char *action, GError *error)
{
  Bolus *b = g_task_get_task_data (task);

  b->error = error;
  audit (task, action, error->message, on_failure_audited);
}

/* Keeps a copy of @b on the visit (an UNCERTAIN bolus) and blocks the visit. */
static void
keep_uncertain (ThecalVisit *self, const Bolus *b)
{
  Bolus *kept = g_new0 (Bolus, 1);

  kept->review = b->review;
  kept->review.summary = g_strdup (b->review.summary);
  kept->review.warning = g_strdup (b->review.warning);
  kept->reason = g_strdup (b->reason);
  kept->log_from_seq = b->log_from_seq;
  g_object_set_data_full (G_OBJECT (self), UNCERTAIN_KEY, kept, (GDestroyNotify) bolus_free);
  thecal_visit_set_uncertain_write (self, THECAL_UNCERTAIN_WRITE_BOLUS);
}

static void
clear_uncertain (ThecalVisit *self)
{
  g_object_set_data (G_OBJECT (self), UNCERTAIN_KEY, NULL);
  thecal_visit_set_uncertain_write (self, THECAL_UNCERTAIN_WRITE_NONE);
}

gboolean
thecal_visit_bolus_uncertain (ThecalVisit *self)
{
  g_return_val_if_fail (THECAL_IS_VISIT (self), FALSE);
  return g_object_get_data (G_OBJECT (self), UNCERTAIN_KEY) != NULL;
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
      /* intent before action: the pending bolus is in the audit chain before the pump is touched */
      audit (task, "bolus.pending", b->review.summary, on_step);
      return;
    case 1:
      {
        g_autoptr (ThecalAuditEntry) entry = thecal_record_append_audit_finish (record_of (self), result, &error);

        if (entry == NULL)
          {
            bolus_return_error (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED,
                                                   _ ("The pending bolus could not be recorded (%s): nothing was sent to the pump."),
                                                   error->message));
            return;
          }
        b->log_from_seq = MAX (thecal_visit_get_status (self)->log_next_seq, 1);
        /* not cancellable: a write, once started, runs to its outcome */
        thecal_pump_link_start_bolus_async (thecal_visit_get_link (self), &b->review.request, NULL, on_step, task);
        return;
      }
    case 2:
      {
        g_autofree ThecalMessage *reply = thecal_pump_link_request_finish (thecal_visit_get_link (self), result, &error);

        if (reply != NULL)
          {
            b->outcome = THECAL_OUTCOME_CONFIRMED;
            audit (task, "bolus.confirmed", b->review.summary, on_outcome_audited);
            return;
          }
        if (g_error_matches (error, THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_TIMEOUT))
          {
            /* the pump may or may not run the bolus: block until a read settles it */
            keep_uncertain (self, b);
            b->outcome = THECAL_OUTCOME_UNCERTAIN;
            audit (task, "bolus.uncertain",
                   _ ("The pump's answer to the bolus was lost: it may or may not run. Read the pump before any other change."),
                   on_outcome_audited);
            return;
          }
        if (error->domain == THECAL_WAND_ERROR)
          b->error = g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED,
                                  _ ("The bolus paused: %s. The pump did not take it; bring the wand back over the pump (or "
                                     "plug it in again) and start it again."),
                                  error->message);
        else
          b->error = g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED, _ ("The pump refused the bolus: %s"), error->message);
        audit (task, "bolus.failed", b->error->message, on_failure_audited);
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
      g_autofree char *day = fmt (THECAL_QUANTITY_DOSE_RATE, review->day_worst_ng);

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
            keep_uncertain (self, b);
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
            clear_uncertain (self);
            b->outcome = THECAL_OUTCOME_CONFIRMED;
            audit (task, "bolus.confirmed", _ ("Settled by reading the pump: the bolus runs."), on_outcome_audited);
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
            keep_uncertain (self, b);
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
                clear_uncertain (self);
                b->outcome = THECAL_OUTCOME_CONFIRMED;
                audit (task, "bolus.confirmed", _ ("Settled by reading the pump's log: the bolus started (and has ended)."),
                       on_outcome_audited);
                return;
              }
          }
        if (b->other_running)
          {
            keep_uncertain (self, b);
            bolus_return_error (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED,
                                                   _ ("A %s bolus runs that is not the one sent and the pump's log does not "
                                                      "show this one start: it is still UNCERTAIN. Read the pump again when "
                                                      "the running bolus has ended."),
                                                   kind_name (b->review.kind)));
            return;
          }
        /* the whole log since before the write, and no start of this bolus: not started */
        clear_uncertain (self);
        b->outcome = THECAL_OUTCOME_FAILED;
        audit (task, "bolus.failed", _ ("Settled by reading the pump: no bolus runs and its log shows none started; the bolus was not given."),
               on_outcome_audited);
        return;
      }
    default:
      g_assert_not_reached ();
    }
}

void
thecal_visit_settle_bolus_async (ThecalVisit *self, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;
  Bolus *b;
  GError *error = NULL;

  g_return_if_fail (THECAL_IS_VISIT (self));
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, thecal_visit_settle_bolus_async);
  if (!thecal_visit_bolus_uncertain (self))
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
  b = g_object_steal_data (G_OBJECT (self), UNCERTAIN_KEY);
  b->self = self;
  b->settling = TRUE;
  b->step = 0;
  g_task_set_task_data (task, b, (GDestroyNotify) bolus_free);
  settle_run (task, b, NULL);
}

gboolean
thecal_visit_settle_bolus_finish (ThecalVisit *self, GAsyncResult *result, ThecalProgrammingOutcome *outcome, GError **error)
{
  return thecal_visit_bolus_finish (self, result, outcome, error);
}
