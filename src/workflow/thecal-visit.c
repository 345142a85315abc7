/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-visit.c: a clinic visit (thecal-visit.h, docs/workflows.md).
 *
 * Each workflow is a GTask whose steps run one after the other: every step starts one
 * asynchronous call (record or pump link) whose callback, on_step, runs the next step. All of it
 * runs on the visit's context (the thread that made it).
 */
#include "config.h"

#include "thecal-visit.h"
#include "thecal-visit-private.h"

#include <glib/gi18n.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "thecal-dose-json.h"
#include "thecal-engine.h"
#include "thecal-format.h"
#include "thecal-quantity.h"

G_DEFINE_QUARK (thecal - visit - error - quark, thecal_visit_error)

struct _ThecalVisit
{
  GObject parent_instance;

  ThecalRecordSession *session;
  ThecalRecord *record;
  ThecalPumpLink *link;
  ThecalPumpModelSet *models;
  ThecalDrugLibrary *library;
  ThecalVisitTimeFunc time_func;
  gpointer time_data;
  gint64 local_offset_ms;

  gboolean busy;
  gboolean connected;
  gboolean have_identity;
  ThecalProtoIdentity identity;
  ThecalPatient *patient;
  ThecalPump *pump;
  const ThecalPumpModel *model;
  gboolean have_key;
  guint8 key[THECAL_KEY_SIZE];
  char *probe_serial; /* thecal_visit_prove_key_async: the key offered for this serial only */
  guint8 probe_key[THECAL_KEY_SIZE];
  ThecalPumpInterrogation *interrogation;
  ThecalPatientRecord *history;
  GPtrArray *findings;
  guint events_imported;
  guint sessions_reconciled;
  gint64 blocking_session_id;
  GPtrArray *writes; /* ThecalPumpWrite: the pump's unresolved refills and boluses (thecal-visit-private.h) */
  guint writes_settled;
};

G_DEFINE_FINAL_TYPE (ThecalVisit, thecal_visit, G_TYPE_OBJECT)

/* ---- small things ------------------------------------------------------------------------ */

void
thecal_visit_finding_free (ThecalVisitFinding *finding)
{
  if (finding == NULL)
    return;
  g_free (finding->code);
  g_free (finding->message);
  g_free (finding);
}

const char *
thecal_visit_severity_name (ThecalVisitSeverity severity)
{
  switch (severity)
    {
    case THECAL_VISIT_FINDING_INFO:
      return "info";
    case THECAL_VISIT_FINDING_WARNING:
      return "warning";
    case THECAL_VISIT_FINDING_ALARM:
      return "alarm";
    default:
      return "?";
    }
}

void
thecal_visit_change_free (ThecalVisitChange *change)
{
  if (change == NULL)
    return;
  g_free (change->field);
  g_free (change->old_value);
  g_free (change->new_value);
  g_free (change);
}

void
thecal_program_review_free (ThecalProgramReview *review)
{
  if (review == NULL)
    return;
  g_clear_pointer (&review->changes, g_ptr_array_unref);
  g_free (review);
}

G_GNUC_PRINTF (4, 5)
static void
add_finding (ThecalVisit *self, ThecalVisitSeverity severity, const char *code, const char *format, ...)
{
  ThecalVisitFinding *finding = g_new0 (ThecalVisitFinding, 1);
  va_list args;

  finding->severity = severity;
  finding->code = g_strdup (code);
  va_start (args, format);
  finding->message = g_strdup_vprintf (format, args);
  va_end (args);
  g_ptr_array_add (self->findings, finding);
}

static char *
checksum_hex (const ThecalChecksum *checksum)
{
  return g_strdup_printf ("%02x%02x%02x%02x", checksum->bytes[0], checksum->bytes[1], checksum->bytes[2], checksum->bytes[3]);
}

/* ---- the diff ---------------------------------------------------------------------------- */

static void
add_change (GPtrArray *changes, const char *field, char *old_value, char *new_value)
{
  ThecalVisitChange *change;

  if (g_strcmp0 (old_value, new_value) == 0)
    {
      g_free (old_value);
      g_free (new_value);
      return;
    }
  change = g_new0 (ThecalVisitChange, 1);
  change->field = g_strdup (field);
  change->old_value = old_value;
  change->new_value = new_value;
  g_ptr_array_add (changes, change);
}

static char *
amount_text (const ThecalDailyAmount *amount)
{
  if (amount->basis == THECAL_BASIS_DOSE)
    return thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, amount->dose_ng_per_day);
  return thecal_format_quantity (THECAL_QUANTITY_VOLUME_RATE, amount->rate_nl_per_day);
}

GPtrArray *
thecal_prescription_diff (const ThecalPrescription *a, const ThecalPrescription *b)
{
  GPtrArray *changes = g_ptr_array_new_with_free_func ((GDestroyNotify) thecal_visit_change_free);
  int32_t n;

  g_return_val_if_fail (a != NULL && b != NULL, changes);
  add_change (changes, "drug", g_strdup (a->drug_id), g_strdup (b->drug_id));
  add_change (changes, "concentration", thecal_format_quantity (THECAL_QUANTITY_CONCENTRATION, a->concentration_ng_per_ml),
              thecal_format_quantity (THECAL_QUANTITY_CONCENTRATION, b->concentration_ng_per_ml));
  add_change (changes, "mode", g_strdup (thecal_mode_name (a->mode)), g_strdup (thecal_mode_name (b->mode)));
  add_change (changes, "continuous", a->mode == THECAL_MODE_CONTINUOUS ? amount_text (&a->continuous) : NULL,
              b->mode == THECAL_MODE_CONTINUOUS ? amount_text (&b->continuous) : NULL);
  n = MAX (a->mode == THECAL_MODE_FLEX ? a->n_flex_steps : 0, b->mode == THECAL_MODE_FLEX ? b->n_flex_steps : 0);
  for (int32_t i = 0; i < n; i++)
    {
      gboolean in_a = a->mode == THECAL_MODE_FLEX && i < a->n_flex_steps;
      gboolean in_b = b->mode == THECAL_MODE_FLEX && i < b->n_flex_steps;
      g_autofree char *field_start = g_strdup_printf ("flex_steps[%d].start", i);
      g_autofree char *field_duration = g_strdup_printf ("flex_steps[%d].duration", i);
      g_autofree char *field_amount = g_strdup_printf ("flex_steps[%d].amount", i);

      add_change (changes, field_start, in_a ? thecal_format_quantity (THECAL_QUANTITY_TIME_OF_DAY, a->flex_steps[i].start_min) : NULL,
                  in_b ? thecal_format_quantity (THECAL_QUANTITY_TIME_OF_DAY, b->flex_steps[i].start_min) : NULL);
      add_change (changes, field_duration,
                  in_a ? thecal_format_quantity (THECAL_QUANTITY_DURATION, (gint64) a->flex_steps[i].duration_min * 60000) : NULL,
                  in_b ? thecal_format_quantity (THECAL_QUANTITY_DURATION, (gint64) b->flex_steps[i].duration_min * 60000) : NULL);
      add_change (changes, field_amount, in_a ? amount_text (&a->flex_steps[i].amount) : NULL,
                  in_b ? amount_text (&b->flex_steps[i].amount) : NULL);
    }
  n = MAX (a->n_periodic_boluses, b->n_periodic_boluses);
  for (int32_t i = 0; i < n; i++)
    {
      gboolean in_a = i < a->n_periodic_boluses;
      gboolean in_b = i < b->n_periodic_boluses;
      g_autofree char *field = g_strdup_printf ("periodic_boluses[%d]", i);
      char *old_value = NULL, *new_value = NULL;

      if (in_a)
        {
          g_autofree char *t = thecal_format_quantity (THECAL_QUANTITY_TIME_OF_DAY, a->periodic_boluses[i].start_min);
          g_autofree char *d = thecal_format_quantity (THECAL_QUANTITY_AMOUNT, a->periodic_boluses[i].dose_ng);
          g_autofree char *u = thecal_format_quantity (THECAL_QUANTITY_DURATION, a->periodic_boluses[i].duration_ms);
          old_value = g_strdup_printf ("%s at %s over %s", d, t, u);
        }
      if (in_b)
        {
          g_autofree char *t = thecal_format_quantity (THECAL_QUANTITY_TIME_OF_DAY, b->periodic_boluses[i].start_min);
          g_autofree char *d = thecal_format_quantity (THECAL_QUANTITY_AMOUNT, b->periodic_boluses[i].dose_ng);
          g_autofree char *u = thecal_format_quantity (THECAL_QUANTITY_DURATION, b->periodic_boluses[i].duration_ms);
          new_value = g_strdup_printf ("%s at %s over %s", d, t, u);
        }
      add_change (changes, field, old_value, new_value);
    }
  add_change (changes, "ptm.enabled", g_strdup (a->ptm.enabled ? "yes" : "no"), g_strdup (b->ptm.enabled ? "yes" : "no"));
  add_change (changes, "ptm.dose", a->ptm.enabled ? thecal_format_quantity (THECAL_QUANTITY_AMOUNT, a->ptm.dose_ng) : NULL,
              b->ptm.enabled ? thecal_format_quantity (THECAL_QUANTITY_AMOUNT, b->ptm.dose_ng) : NULL);
  add_change (changes, "ptm.duration", a->ptm.enabled ? thecal_format_quantity (THECAL_QUANTITY_DURATION, a->ptm.duration_ms) : NULL,
              b->ptm.enabled ? thecal_format_quantity (THECAL_QUANTITY_DURATION, b->ptm.duration_ms) : NULL);
  add_change (changes, "ptm.lockout", a->ptm.enabled ? thecal_format_quantity (THECAL_QUANTITY_DURATION, a->ptm.lockout_ms) : NULL,
              b->ptm.enabled ? thecal_format_quantity (THECAL_QUANTITY_DURATION, b->ptm.lockout_ms) : NULL);
  add_change (changes, "ptm.max_per_24h", a->ptm.enabled ? g_strdup_printf ("%" PRId32, a->ptm.max_per_24h) : NULL,
              b->ptm.enabled ? g_strdup_printf ("%" PRId32, b->ptm.max_per_24h) : NULL);
  return changes;
}

/* ---- the object -------------------------------------------------------------------------- */

static void
thecal_visit_dispose (GObject *object)
{
  ThecalVisit *self = THECAL_VISIT (object);

  if (self->link != NULL)
    thecal_pump_link_set_key_func (self->link, NULL, NULL, NULL);
  g_clear_object (&self->link);
  g_clear_object (&self->session);
  g_clear_object (&self->record);
  G_OBJECT_CLASS (thecal_visit_parent_class)->dispose (object);
}

static void
thecal_visit_finalize (GObject *object)
{
  ThecalVisit *self = THECAL_VISIT (object);

  g_free (self->models);
  g_free (self->library);
  g_clear_pointer (&self->patient, thecal_patient_free);
  g_clear_pointer (&self->pump, thecal_pump_free);
  g_clear_pointer (&self->interrogation, thecal_pump_interrogation_free);
  g_clear_pointer (&self->history, thecal_patient_record_free);
  g_clear_pointer (&self->findings, g_ptr_array_unref);
  g_clear_pointer (&self->writes, g_ptr_array_unref);
  memset (self->key, 0, sizeof self->key);
  memset (self->probe_key, 0, sizeof self->probe_key);
  g_free (self->probe_serial);
  G_OBJECT_CLASS (thecal_visit_parent_class)->finalize (object);
}

static void
thecal_visit_class_init (ThecalVisitClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = thecal_visit_dispose;
  object_class->finalize = thecal_visit_finalize;
}

static void
thecal_visit_init (ThecalVisit *self)
{
  self->findings = g_ptr_array_new_with_free_func ((GDestroyNotify) thecal_visit_finding_free);
  self->writes = g_ptr_array_new_with_free_func ((GDestroyNotify) thecal_pump_write_free);
}

static gint64
real_time_utc_ms (gpointer user_data)
{
  (void) user_data;
  return g_get_real_time () / 1000;
}

/* Runs on the link's context: the key being proved for a new implant (thecal_visit_prove_key_async),
 * else the pairing key read from the record at connect. */
static gboolean
visit_key_func (const char *serial, const char *model_id, guint8 key[THECAL_KEY_SIZE], gpointer user_data)
{
  ThecalVisit *self = user_data;

  (void) model_id;
  if (self->probe_serial != NULL)
    {
      if (g_strcmp0 (serial, self->probe_serial) != 0)
        return FALSE;
      memcpy (key, self->probe_key, THECAL_KEY_SIZE);
      return TRUE;
    }
  if (!self->have_key || self->pump == NULL || g_strcmp0 (serial, self->pump->serial) != 0)
    return FALSE;
  memcpy (key, self->key, THECAL_KEY_SIZE);
  return TRUE;
}

ThecalVisit *
thecal_visit_new (ThecalRecordSession *session,
                  ThecalPumpLink *link,
                  const ThecalPumpModelSet *models,
                  const ThecalDrugLibrary *library)
{
  ThecalVisit *self;

  g_return_val_if_fail (THECAL_IS_RECORD_SESSION (session), NULL);
  g_return_val_if_fail (THECAL_IS_PUMP_LINK (link), NULL);
  g_return_val_if_fail (models != NULL && library != NULL, NULL);
  self = g_object_new (THECAL_TYPE_VISIT, NULL);
  self->session = g_object_ref (session);
  self->record = g_object_ref (thecal_record_session_get_record (session));
  self->link = g_object_ref (link);
  self->models = g_memdup2 (models, sizeof *models);
  self->library = g_memdup2 (library, sizeof *library);
  self->time_func = real_time_utc_ms;
  /* the visit outlives nothing the link calls back into: the link is ours */
  thecal_pump_link_set_key_func (link, visit_key_func, self, NULL);
  return self;
}

void
thecal_visit_set_time_func (ThecalVisit *self, ThecalVisitTimeFunc func, gpointer user_data)
{
  g_return_if_fail (THECAL_IS_VISIT (self));
  self->time_func = func != NULL ? func : real_time_utc_ms;
  self->time_data = func != NULL ? user_data : NULL;
}

void
thecal_visit_set_local_offset_ms (ThecalVisit *self, gint64 offset_ms)
{
  g_return_if_fail (THECAL_IS_VISIT (self));
  self->local_offset_ms = offset_ms;
}

gint64
thecal_visit_now_utc_ms (ThecalVisit *self)
{
  return self->time_func (self->time_data);
}

static gint64
now_local_ms (ThecalVisit *self)
{
  return thecal_visit_now_utc_ms (self) + self->local_offset_ms;
}

ThecalRecordSession *
thecal_visit_get_session (ThecalVisit *self)
{
  return self->session;
}

ThecalPumpLink *
thecal_visit_get_link (ThecalVisit *self)
{
  return self->link;
}

gboolean
thecal_visit_is_connected (ThecalVisit *self)
{
  return self->connected;
}

const ThecalPump *
thecal_visit_get_pump (ThecalVisit *self)
{
  return self->pump;
}

const ThecalPatient *
thecal_visit_get_patient (ThecalVisit *self)
{
  return self->patient;
}

const ThecalPumpModel *
thecal_visit_get_model (ThecalVisit *self)
{
  return self->model;
}

const ThecalProtoIdentity *
thecal_visit_get_identity (ThecalVisit *self)
{
  return self->have_identity ? &self->identity : NULL;
}

const ThecalProtoStatus *
thecal_visit_get_status (ThecalVisit *self)
{
  return self->interrogation != NULL ? &self->interrogation->status : NULL;
}

const ThecalMsgPrescription *
thecal_visit_get_active (ThecalVisit *self)
{
  return self->interrogation != NULL ? &self->interrogation->prescription : NULL;
}

GPtrArray *
thecal_visit_get_findings (ThecalVisit *self)
{
  return self->findings;
}

guint
thecal_visit_get_events_imported (ThecalVisit *self)
{
  return self->events_imported;
}

guint
thecal_visit_get_sessions_reconciled (ThecalVisit *self)
{
  return self->sessions_reconciled;
}

gboolean
thecal_visit_is_blocked (ThecalVisit *self, gint64 *session_id)
{
  if (session_id != NULL)
    *session_id = self->blocking_session_id;
  return self->blocking_session_id != 0 || self->writes->len > 0;
}

guint
thecal_visit_get_writes_settled (ThecalVisit *self)
{
  return self->writes_settled;
}

/* ---- for the other workflows (thecal-visit-private.h) ------------------------------------ */

gboolean
thecal_visit_step_begin (ThecalVisit *self, GError **error)
{
  if (self->busy)
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_BUSY, _ ("Another step of this visit is still running."));
      return FALSE;
    }
  if (!self->connected)
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_NOT_CONNECTED, _ ("Not connected to a pump: interrogate it first."));
      return FALSE;
    }
  self->busy = TRUE;
  return TRUE;
}

void
thecal_visit_step_end (ThecalVisit *self)
{
  self->busy = FALSE;
}

void
thecal_visit_track_write (ThecalVisit *self, const ThecalPumpWrite *write)
{
  gboolean unresolved = write->outcome == THECAL_OUTCOME_PENDING || write->outcome == THECAL_OUTCOME_UNCERTAIN;

  for (guint i = 0; i < self->writes->len; i++)
    if (((ThecalPumpWrite *) self->writes->pdata[i])->id == write->id)
      {
        if (unresolved)
          {
            thecal_pump_write_free (self->writes->pdata[i]);
            self->writes->pdata[i] = thecal_pump_write_copy (write);
          }
        else
          g_ptr_array_remove_index (self->writes, i);
        return;
      }
  if (unresolved)
    g_ptr_array_add (self->writes, thecal_pump_write_copy (write));
}

const ThecalPumpWrite *
thecal_visit_get_unresolved_write (ThecalVisit *self, ThecalPumpWriteKind kind)
{
  for (guint i = 0; i < self->writes->len; i++)
    if (((ThecalPumpWrite *) self->writes->pdata[i])->kind == kind)
      return self->writes->pdata[i];
  return NULL;
}

const ThecalPumpWrite *
thecal_visit_get_any_unresolved_write (ThecalVisit *self)
{
  return self->writes->len > 0 ? self->writes->pdata[0] : NULL;
}

gboolean
thecal_visit_settle_write_finish (ThecalVisit *self, GAsyncResult *result, ThecalProgrammingOutcome *outcome, GError **error)
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

gboolean
thecal_visit_json_int (const cJSON *object, const char *key, gint64 *value)
{
  const char *text = cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (object, key));

  return text != NULL && g_ascii_string_to_signed (text, 10, G_MININT64, G_MAXINT64, value, NULL);
}

const char *
thecal_visit_json_text (const cJSON *object, const char *key)
{
  return cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (object, key));
}

void
thecal_visit_update_status (ThecalVisit *self, const ThecalProtoStatus *status)
{
  if (self->interrogation != NULL)
    self->interrogation->status = *status;
}

void
thecal_visit_update_active (ThecalVisit *self, const ThecalMsgPrescription *active)
{
  if (self->interrogation != NULL)
    self->interrogation->prescription = *active;
}

void
thecal_visit_block_on_session (ThecalVisit *self, gint64 session_id)
{
  self->blocking_session_id = session_id;
}

/* Runs on the visit's context: the handshake with the key being proved ended. */
static void
on_key_proved (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  ThecalVisit *self = g_task_get_source_object (task);
  GError *error = NULL;

  memset (self->probe_key, 0, sizeof self->probe_key);
  g_clear_pointer (&self->probe_serial, g_free);
  self->busy = FALSE;
  if (thecal_pump_link_open_session_finish (THECAL_PUMP_LINK (source), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
  g_object_unref (task);
}

void
thecal_visit_prove_key_async (ThecalVisit *self,
                              const char *serial,
                              const guint8 *key,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  GTask *task;

  g_return_if_fail (THECAL_IS_VISIT (self));
  g_return_if_fail (serial != NULL && key != NULL);
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, thecal_visit_prove_key_async);
  if (self->busy)
    {
      g_task_return_new_error (task, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_BUSY, _ ("Another step of this visit is still running."));
      g_object_unref (task);
      return;
    }
  self->busy = TRUE;
  self->probe_serial = g_strdup (serial);
  memcpy (self->probe_key, key, THECAL_KEY_SIZE);
  thecal_pump_link_open_session_async (self->link, serial, cancellable, on_key_proved, task);
}

gboolean
thecal_visit_prove_key_finish (ThecalVisit *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

const ThecalPatientRecord *
thecal_visit_get_history (ThecalVisit *self)
{
  return self->history;
}

const ThecalDrugLibrary *
thecal_visit_get_library (ThecalVisit *self)
{
  return self->library;
}

gint64
thecal_visit_local_offset_ms (ThecalVisit *self)
{
  return self->local_offset_ms;
}

gboolean
thecal_visit_set_transport (ThecalVisit *self, ThecalTransport *transport, GError **error)
{
  g_return_val_if_fail (THECAL_IS_VISIT (self), FALSE);
  return thecal_pump_link_set_transport (self->link, transport, error);
}

/* ---- the step machine -------------------------------------------------------------------- */

typedef struct _Op Op;
typedef void (*OpStep) (GTask *task, Op *op);

struct _Op
{
  ThecalVisit *self; /* borrowed: the task holds a reference */
  OpStep run;
  gint step;
  GAsyncResult *result; /* of the call the last step started */
  GError *denied;       /* a refusal being audited */
  char *patient_mrn;
  /* reconciliation */
  GPtrArray *unresolved; /* ThecalProgrammingSession of this pump */
  guint next_unresolved;
  ThecalMsgPrescription active; /* what the pump runs, for reconciliation */
  gboolean active_known;
  GPtrArray *unresolved_writes; /* ThecalPumpWrite of this pump (refills, boluses) */
  guint next_write;
  OpStep after_writes;
  /* program */
  ThecalProgramReview *review;
  char *reason;
  char *override_reason;
  ThecalProgrammingSession *programming;
  ThecalProgramReport report;
  gboolean program_ran;
  char *program_error;
  /* import */
  GArray *event_inputs;
  GPtrArray *event_strings;
};

static void
op_free (Op *op)
{
  g_clear_object (&op->result);
  g_clear_error (&op->denied);
  g_free (op->patient_mrn);
  g_clear_pointer (&op->unresolved, g_ptr_array_unref);
  g_clear_pointer (&op->unresolved_writes, g_ptr_array_unref);
  g_clear_pointer (&op->review, thecal_program_review_free);
  g_free (op->reason);
  g_free (op->override_reason);
  g_clear_pointer (&op->programming, thecal_programming_session_free);
  g_free (op->program_error);
  g_clear_pointer (&op->event_inputs, g_array_unref);
  g_clear_pointer (&op->event_strings, g_ptr_array_unref);
  g_free (op);
}

static void
op_return_error (GTask *task, GError *error)
{
  Op *op = g_task_get_task_data (task);

  op->self->busy = FALSE;
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
op_return_true (GTask *task)
{
  Op *op = g_task_get_task_data (task);

  op->self->busy = FALSE;
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

/* Runs on the visit's context: the call a step started finished; on to the next step. */
static void
on_step (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Op *op = g_task_get_task_data (task);

  (void) source;
  g_clear_object (&op->result);
  op->result = g_object_ref (result);
  op->step++;
  op->run (task, op);
}

static GTask *
op_start (ThecalVisit *self, OpStep run, gpointer source_tag, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Op *op = g_new0 (Op, 1);

  g_task_set_source_tag (task, source_tag);
  op->self = self;
  op->run = run;
  g_task_set_task_data (task, op, (GDestroyNotify) op_free);
  return task;
}

/* Runs on the visit's context: the refusal was audited (or could not be): report it. */
static void
on_denied_audited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Op *op = g_task_get_task_data (task);
  g_autoptr (ThecalAuditEntry) entry = NULL;
  g_autoptr (GError) audit_error = NULL;

  entry = thecal_record_append_audit_finish (THECAL_RECORD (source), result, &audit_error);
  if (entry == NULL)
    g_warning ("A refusal could not be audited: %s", audit_error->message);
  op_return_error (task, g_steal_pointer (&op->denied));
}

/* @text as the inside of a JSON string: quotes, backslashes and control characters escaped,
 * UTF-8 kept as it is. */
static char *
json_escape (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
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

/* Audits @error (action @action) and then fails the task with it. */
static void
op_refuse (GTask *task, Op *op, const char *action, GError *error)
{
  ThecalVisit *self = op->self;
  g_autofree char *after = NULL;
  ThecalAuditInput input = { 0 };
  g_autofree char *escaped = json_escape (error->message);

  op->denied = error;
  after = g_strdup_printf ("{\"message\":\"%s\",\"pump\":\"%s\"}", escaped, self->pump != NULL ? self->pump->serial : "");
  input.action = action;
  input.object_type = self->pump != NULL ? "pump" : NULL;
  input.object_id = self->pump != NULL ? self->pump->id : 0;
  input.patient_id = self->pump != NULL ? self->pump->patient_id : 0;
  input.after = after;
  input.reason = error->message;
  thecal_record_append_audit_async (self->record, thecal_record_session_get_user (self->session), &input, NULL,
                                    on_denied_audited, task);
}

/* Checks @permission; FALSE when refused (the task is then being refused and audited). */
static gboolean
op_permit (GTask *task, Op *op, ThecalPermission permission)
{
  GError *error = NULL;

  if (thecal_permission_check (thecal_record_session_get_user (op->self->session), permission, &error))
    return TRUE;
  op_refuse (task, op, "permission.denied", error);
  return FALSE;
}

static gboolean
op_begin (ThecalVisit *self, GTask *task, gboolean need_connection)
{
  if (self->busy)
    {
      g_task_return_new_error (task, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_BUSY, _ ("Another step of this visit is still running."));
      g_object_unref (task);
      return FALSE;
    }
  if (need_connection && !self->connected)
    {
      g_task_return_new_error (task, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_NOT_CONNECTED,
                               _ ("Not connected to a pump: interrogate it first."));
      g_object_unref (task);
      return FALSE;
    }
  self->busy = TRUE;
  return TRUE;
}

/* A link failure as the visit reports it: a lost transport or pump pauses the workflow. */
static GError *
link_failure (GError *error, const char *what)
{
  GError *out;

  if (error->domain == THECAL_WAND_ERROR)
    out = g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED,
                       _ ("%s paused: %s. Nothing was changed on the pump by this step; bring the wand back over the pump "
                          "(or plug it in again) and resume."),
                       what, error->message);
  else
    out = g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED, _ ("%s failed: %s"), what, error->message);
  g_error_free (error);
  return out;
}

/* ---- reconciliation (shared by connect and reconcile) ------------------------------------- */

static void reconcile_next (GTask *task, Op *op, OpStep after);

static gboolean
rx_from_json (const char *json, ThecalPrescription *rx)
{
  ThecalDoseError dose_error;

  thecal_dose_error_clear (&dose_error);
  return json != NULL && thecal_prescription_load_json (json, strlen (json), rx, &dose_error);
}

/* Decides the outcome of one unresolved session from what the pump runs. */
static ThecalProgrammingOutcome
reconcile_outcome (const ThecalProgrammingSession *session, const ThecalMsgPrescription *active, char **note)
{
  ThecalPrescription rx;
  ThecalChecksum sent;
  ThecalProtoError proto_error;
  g_autofree char *hex = checksum_hex (&active->checksum);

  if (rx_from_json (session->new_prescription_json, &rx) && thecal_prescription_checksum (&rx, &sent, &proto_error) && memcmp (sent.bytes, active->checksum.bytes, sizeof sent.bytes) == 0)
    {
      *note = g_strdup_printf (_ ("Reconciled: the pump runs the prescription this session sent (checksum %s)."), hex);
      return THECAL_OUTCOME_CONFIRMED;
    }
  *note = g_strdup_printf (_ ("Reconciled: the pump does not run the prescription this session sent; it runs checksum %s "
                              "(review it)."),
                           hex);
  return THECAL_OUTCOME_FAILED;
}

/* Step loop: resolves op->unresolved one by one (op->step parity is not used: each resolve
 * comes back through reconcile_resolved). */
static void
on_reconcile_resolved (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Op *op = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalProgrammingSession) resolved = NULL;
  OpStep after = g_object_get_data (G_OBJECT (task), "thecal-after-reconcile");

  resolved = thecal_record_resolve_programming_finish (THECAL_RECORD (source), result, &error);
  if (resolved == NULL)
    {
      op_return_error (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED,
                                          _ ("The programming session could not be reconciled in the record: %s"), error->message));
      return;
    }
  op->self->sessions_reconciled++;
  add_finding (op->self, THECAL_VISIT_FINDING_WARNING, "reconciled",
               _ ("Programming session %" G_GINT64_FORMAT " (started by %s) was left unresolved; reconciled with the pump: %s. %s"),
               resolved->id, resolved->started_by, thecal_programming_outcome_name (resolved->outcome),
               resolved->outcome_note != NULL ? resolved->outcome_note : "");
  if (op->self->blocking_session_id == resolved->id)
    op->self->blocking_session_id = 0;
  reconcile_next (task, op, after);
}

static void
reconcile_next (GTask *task, Op *op, OpStep after)
{
  ThecalVisit *self = op->self;

  while (op->unresolved != NULL && op->next_unresolved < op->unresolved->len)
    {
      ThecalProgrammingSession *session = op->unresolved->pdata[op->next_unresolved++];
      g_autofree char *note = NULL;
      ThecalProgrammingOutcome outcome;

      if (g_strcmp0 (session->pump_serial, self->pump->serial) != 0)
        continue;
      outcome = reconcile_outcome (session, &op->active, &note);
      g_object_set_data (G_OBJECT (task), "thecal-after-reconcile", after);
      thecal_record_resolve_programming_async (self->record, thecal_record_session_get_user (self->session), session->id,
                                               outcome, note, thecal_visit_now_utc_ms (self), NULL, on_reconcile_resolved, task);
      return;
    }
  after (task, op);
}

/* Runs on the visit's context: one unresolved write was settled (or is still unresolved). */
static void settle_next_write (GTask *task, Op *op);

static void
on_write_settled (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Op *op = g_task_get_task_data (task);
  ThecalVisit *self = op->self;
  const ThecalPumpWrite *write = op->unresolved_writes->pdata[op->next_write - 1];
  const char *what = write->kind == THECAL_PUMP_WRITE_REFILL ? _ ("refill") : _ ("bolus");
  g_autoptr (GError) error = NULL;
  ThecalProgrammingOutcome outcome;

  (void) source;
  if (thecal_visit_settle_write_finish (self, result, &outcome, &error))
    {
      self->writes_settled++;
      add_finding (self, THECAL_VISIT_FINDING_WARNING, "reconciled",
                   _ ("The %s of pump write %" G_GINT64_FORMAT " (started by %s) was left %s; settled by reading the pump: %s."),
                   what, write->id, write->started_by, thecal_programming_outcome_name (write->outcome),
                   thecal_programming_outcome_name (outcome));
    }
  else
    add_finding (self, THECAL_VISIT_FINDING_ALARM, "unresolved_write",
                 _ ("The %s of pump write %" G_GINT64_FORMAT " (started by %s) is still %s: %s Every change on this pump "
                    "is blocked until a read of the pump settles it."),
                 what, write->id, write->started_by, thecal_programming_outcome_name (write->outcome), error->message);
  settle_next_write (task, op);
}

static void
settle_next_write (GTask *task, Op *op)
{
  ThecalVisit *self = op->self;

  if (op->next_write < op->unresolved_writes->len)
    {
      const ThecalPumpWrite *write = op->unresolved_writes->pdata[op->next_write++];

      if (write->kind == THECAL_PUMP_WRITE_REFILL)
        thecal_visit_settle_refill_write_async (self, write, TRUE, on_write_settled, task);
      else
        thecal_visit_settle_bolus_write_async (self, write, TRUE, on_write_settled, task);
      return;
    }
  op->after_writes (task, op);
}

/* Runs on the visit's context: the pump's unresolved writes, read from the record. */
static void
on_writes_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Op *op = g_task_get_task_data (task);
  ThecalVisit *self = op->self;
  g_autoptr (GError) error = NULL;

  op->unresolved_writes = thecal_record_list_pump_writes_finish (THECAL_RECORD (source), result, &error);
  if (op->unresolved_writes == NULL)
    {
      op_return_error (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED,
                                          _ ("The pump's unresolved refills and boluses could not be read from the record: %s"),
                                          error->message));
      return;
    }
  /* the record is the truth: the visit is blocked by exactly these until each is settled */
  g_ptr_array_set_size (self->writes, 0);
  for (guint i = 0; i < op->unresolved_writes->len; i++)
    thecal_visit_track_write (self, op->unresolved_writes->pdata[i]);
  op->next_write = 0;
  settle_next_write (task, op);
}

/* Settles every refill and bolus of the pump that the record holds PENDING or UNCERTAIN (an
 * earlier visit lost the answer or died), each by reading the pump, then runs @after. */
static void
settle_writes (GTask *task, Op *op, OpStep after)
{
  ThecalVisit *self = op->self;

  op->after_writes = after;
  g_clear_pointer (&op->unresolved_writes, g_ptr_array_unref);
  thecal_record_list_pump_writes_async (self->record, self->pump->serial, TRUE, NULL, on_writes_listed, task);
}

static void connect_after_reconcile (GTask *task, Op *op);

/* After the programming sessions: the refills and boluses. */
static void
connect_after_sessions (GTask *task, Op *op)
{
  settle_writes (task, op, connect_after_reconcile);
}

/* ---- findings at connect ----------------------------------------------------------------- */

static const char *
alarm_text (ThecalProtoAlarm kind)
{
  switch (kind)
    {
    case THECAL_PROTO_ALARM_LOW_RESERVOIR:
      return _ ("low reservoir");
    case THECAL_PROTO_ALARM_RESERVOIR_EMPTY:
      return _ ("reservoir empty");
    case THECAL_PROTO_ALARM_ERI:
      return _ ("elective replacement indicator (ERI)");
    case THECAL_PROTO_ALARM_EOS:
      return _ ("end of service (EOS)");
    case THECAL_PROTO_ALARM_MOTOR_STALL:
      return _ ("motor stall");
    case THECAL_PROTO_ALARM_MEMORY_ERROR:
      return _ ("critical memory error");
    case THECAL_PROTO_ALARM_N_KINDS:
    default:
      return "?";
    }
}

/* Parses the detail written by import_events: {"type":T,"code":C,"args":[a,b,c]}. */
static gboolean
parse_event_detail (const char *detail, gint64 *code, gint64 args[3])
{
  int type;

  return detail != NULL && sscanf (detail, "{\"type\":%d,\"code\":%" SCNd64 ",\"args\":[%" SCNd64 ",%" SCNd64 ",%" SCNd64 "]}", &type, code, &args[0], &args[1], &args[2]) == 5;
}

/* The pump's reported reservoir against the record's history (last fill, the prescriptions
 * since, boluses logged by the pump), with the dose core's refill check: a difference outside
 * max (accuracy × delivered, the model's threshold) is a finding. */
static int
history_check (ThecalVisit *self, gint64 measured_nl, ThecalRefillCheck *check, ThecalDoseError *dose_error)
{
  const ThecalPatientRecord *history = self->history;
  const ThecalRefill *fill = NULL;
  g_autoptr (GArray) plans = g_array_new (FALSE, TRUE, sizeof (ThecalDeliveryPlan));
  g_autoptr (GArray) intervals = g_array_new (FALSE, TRUE, sizeof (ThecalPlanInterval));
  g_autoptr (GArray) boluses = g_array_new (FALSE, TRUE, sizeof (ThecalLoggedBolus));
  ThecalRefillHistory h = { 0 };
  gint64 fill_local, now_local = self->interrogation->status.pump_ms;

  if (history == NULL)
    return -2;
  for (guint i = 0; i < history->refills->len; i++)
    {
      const ThecalRefill *r = history->refills->pdata[i];

      if (!r->superseded && g_strcmp0 (r->pump_serial, self->pump->serial) == 0)
        fill = r;
    }
  if (fill == NULL)
    return -1;
  fill_local = fill->performed_utc_ms + self->local_offset_ms;
  if (fill_local > now_local)
    return -2;
  for (guint i = 0; i < history->prescriptions->len; i++)
    {
      const ThecalRecordedPrescription *p = history->prescriptions->pdata[i];
      ThecalPrescription rx;
      ThecalDeliveryPlan plan;
      gint64 from, to;

      if (p->superseded || g_strcmp0 (p->pump_serial, self->pump->serial) != 0)
        continue;
      from = MAX (p->effective_from_utc_ms + self->local_offset_ms, fill_local);
      to = p->effective_to_utc_ms == G_MAXINT64 ? now_local : MIN (p->effective_to_utc_ms + self->local_offset_ms, now_local);
      if (to <= from || !rx_from_json (p->json, &rx))
        continue;
      thecal_dose_error_clear (dose_error);
      if (!thecal_delivery_plan_resolve (&rx, self->model, &plan, dose_error))
        continue;
      g_array_append_val (plans, plan);
    }
  /* intervals point into plans: fill them once plans no longer grows */
  for (guint i = 0, k = 0; i < history->prescriptions->len; i++)
    {
      const ThecalRecordedPrescription *p = history->prescriptions->pdata[i];
      ThecalPrescription rx;
      ThecalDeliveryPlan plan;
      ThecalPlanInterval interval;
      gint64 from, to;

      if (p->superseded || g_strcmp0 (p->pump_serial, self->pump->serial) != 0)
        continue;
      from = MAX (p->effective_from_utc_ms + self->local_offset_ms, fill_local);
      to = p->effective_to_utc_ms == G_MAXINT64 ? now_local : MIN (p->effective_to_utc_ms + self->local_offset_ms, now_local);
      if (to <= from || !rx_from_json (p->json, &rx))
        continue;
      thecal_dose_error_clear (dose_error);
      if (!thecal_delivery_plan_resolve (&rx, self->model, &plan, dose_error))
        continue;
      interval.plan = &g_array_index (plans, ThecalDeliveryPlan, k++);
      interval.from_local_ms = from;
      interval.to_local_ms = to;
      g_array_append_val (intervals, interval);
    }
  for (guint i = 0; i < history->events->len; i++)
    {
      const ThecalPumpEvent *e = history->events->pdata[i];
      gint64 code, args[3];

      if (g_strcmp0 (history->event_serials->pdata[i], self->pump->serial) != 0 || g_strcmp0 (e->kind, "bolus_end") != 0 || e->pump_time_ms < fill_local || e->pump_time_ms > now_local || !parse_event_detail (e->detail, &code, args))
        continue;
      /* periodic boluses are in the plan already */
      if (code == THECAL_PROTO_SOURCE_PERIODIC || code == THECAL_PROTO_SOURCE_BASAL)
        continue;
      g_array_append_val (boluses, ((ThecalLoggedBolus){ .at_local_ms = e->pump_time_ms, .volume_nl = args[0] }));
    }
  h.fill_volume_nl = fill->added_nl;
  h.fill_local_ms = fill_local;
  h.now_local_ms = now_local;
  h.intervals = (const ThecalPlanInterval *) (void *) intervals->data;
  h.n_intervals = (int32_t) intervals->len;
  h.boluses = (const ThecalLoggedBolus *) (void *) boluses->data;
  h.n_boluses = (int32_t) boluses->len;
  thecal_dose_error_clear (dose_error);
  return thecal_refill_check (self->model, &h, measured_nl, check, dose_error) ? 1 : 0;
}

int
thecal_visit_history_check (ThecalVisit *self, gint64 measured_nl, ThecalRefillCheck *check, ThecalDoseError *dose_error)
{
  return history_check (self, measured_nl, check, dose_error);
}

static void
validate_reservoir (ThecalVisit *self)
{
  ThecalRefillCheck check;
  ThecalDoseError dose_error;
  int found = history_check (self, MAX (self->interrogation->status.reservoir_estimate_nl, 0), &check, &dose_error);

  if (found == -2)
    return;
  if (found < 0)
    {
      add_finding (self, THECAL_VISIT_FINDING_INFO, "no_fill_recorded",
                   _ ("No refill of this pump is in the record: the reported reservoir cannot be checked against history."));
      return;
    }
  if (found == 0)
    {
      add_finding (self, THECAL_VISIT_FINDING_WARNING, "history_inconsistent",
                   _ ("The record's history of this pump could not be checked: %s"), dose_error.message);
      return;
    }
  if (check.flagged)
    {
      g_autofree char *expected = thecal_format_quantity (THECAL_QUANTITY_VOLUME, check.expected_residual_nl);
      g_autofree char *reported = thecal_format_quantity (THECAL_QUANTITY_VOLUME, self->interrogation->status.reservoir_estimate_nl);
      g_autofree char *threshold = thecal_format_quantity (THECAL_QUANTITY_VOLUME, check.threshold_nl);

      add_finding (self, THECAL_VISIT_FINDING_ALARM, "reservoir_mismatch",
                   _ ("The pump reports %s in the reservoir but the record's history predicts %s (band %s): possible %s. "
                      "Check the pump before relying on its alarms."),
                   reported, expected, threshold,
                   check.kind == THECAL_DISCREPANCY_LESS_BACK ? _ ("over-infusion or a refill not recorded")
                                                              : _ ("under-infusion, motor stall or catheter problem"));
    }
}

static void
report_findings (ThecalVisit *self)
{
  const ThecalProtoStatus *st = &self->interrogation->status;
  const ThecalDrug *drug = thecal_drug_library_find (self->library, st->reservoir_drug_id);
  gboolean baclofen = g_strcmp0 (st->reservoir_drug_id, "baclofen") == 0;
  gint64 drift = st->pump_ms - now_local_ms (self);
  gboolean therapy_at_risk = FALSE;

  (void) drug;
  for (int32_t i = 0; i < st->n_alarms && i < THECAL_PROTO_ALARMS_MAX; i++)
    {
      const ThecalProtoAlarmState *a = &st->alarms[i];
      g_autofree char *code = NULL;

      if (!a->condition && !a->raised)
        continue;
      code = g_strdup_printf ("alarm.%s", thecal_alarm_kind_name ((ThecalAlarmKind) a->kind));
      add_finding (self, a->critical ? THECAL_VISIT_FINDING_ALARM : THECAL_VISIT_FINDING_WARNING, code,
                   _ ("Alarm: %s%s%s."), alarm_text (a->kind), a->raised && !a->acknowledged ? _ (", not acknowledged") : "",
                   a->critical ? _ (" (critical: medication may no longer flow)") : "");
      if (a->kind != THECAL_PROTO_ALARM_LOW_RESERVOIR)
        therapy_at_risk = TRUE;
    }
  if (st->eri || st->eos)
    {
      g_autofree char *eos = thecal_format_instant (st->eos_pump_ms);

      add_finding (self, THECAL_VISIT_FINDING_ALARM, "replace_pump", _ ("Schedule the replacement of the pump: it stops at end of service, %s."),
                   eos);
      therapy_at_risk = TRUE;
    }
  if (baclofen && (therapy_at_risk || st->reservoir_estimate_nl <= self->model->low_reservoir_alarm_nl))
    add_finding (self, THECAL_VISIT_FINDING_ALARM, "baclofen_withdrawal",
                 _ ("Baclofen patient: an interruption of intrathecal baclofen can cause a life-threatening withdrawal; act "
                    "today (CLINICAL.md §1.7, §3.1)."));
  if (drift > THECAL_VISIT_CLOCK_DRIFT_MAX_MS || drift < -THECAL_VISIT_CLOCK_DRIFT_MAX_MS)
    {
      gint64 drift_abs = drift < 0 ? -drift : drift;
      gint64 shown_ms = drift_abs;
      g_autofree char *text = NULL;

      /* to the second: the drift is measured across the wand's round trip, so its milliseconds
       * are noise ("10 min", not "599957 ms") */
      if (!thecal_round_to_step_i64 (drift_abs, 1000, THECAL_ROUND_NEAREST_HALF_DOWN, &shown_ms))
        shown_ms = drift_abs;
      text = thecal_format_quantity (THECAL_QUANTITY_DURATION, shown_ms);

      add_finding (self, THECAL_VISIT_FINDING_WARNING, "clock_drift",
                   _ ("The pump's clock is %s %s the clinic's (more than 5 min): synchronise it so that schedules run at the "
                      "intended times."),
                   text, drift < 0 ? _ ("behind") : _ ("ahead of"));
    }
  if (self->interrogation->log_gap)
    add_finding (self, THECAL_VISIT_FINDING_WARNING, "log_gap",
                 _ ("The pump no longer holds some events since the last import: the record's copy of its log has a gap."));
  if (memcmp (st->active_checksum.bytes, self->interrogation->prescription.checksum.bytes, sizeof st->active_checksum.bytes) != 0)
    add_finding (self, THECAL_VISIT_FINDING_WARNING, "status_changed", _ ("The pump's prescription changed during the interrogation."));
  validate_reservoir (self);
}

/* ---- connect ----------------------------------------------------------------------------- */

static void connect_run (GTask *task, Op *op);

static void
connect_after_reconcile (GTask *task, Op *op)
{
  ThecalVisit *self = op->self;
  ThecalPumpInterrogation *in = self->interrogation;

  op->step = 10;
  if (in->events == NULL || in->events->len == 0 || !thecal_permission_check (thecal_record_session_get_user (self->session), THECAL_PERMISSION_EVENTS_IMPORT, NULL))
    {
      op->step = 11;
      connect_run (task, op);
      return;
    }
  op->event_inputs = g_array_new (FALSE, TRUE, sizeof (ThecalPumpEventInput));
  op->event_strings = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < in->events->len; i++)
    {
      const ThecalProtoEvent *e = &g_array_index (in->events, ThecalProtoEvent, i);
      ThecalPumpEventInput input;
      char *detail = g_strdup_printf ("{\"type\":%" PRId32 ",\"code\":%" PRId32 ",\"args\":[%" PRId64 ",%" PRId64 ",%" PRId64 "]}",
                                      e->type, e->code, e->args[0], e->args[1], e->args[2]);

      g_ptr_array_add (op->event_strings, detail);
      input.sequence = e->seq;
      input.pump_time_ms = e->pump_ms;
      input.kind = thecal_engine_event_type_name ((ThecalEngineEventType) e->type);
      input.detail = detail;
      g_array_append_val (op->event_inputs, input);
    }
  thecal_record_import_events_async (self->record, thecal_record_session_get_user (self->session), self->pump->serial,
                                     (const ThecalPumpEventInput *) (void *) op->event_inputs->data, op->event_inputs->len, NULL,
                                     on_step, task);
}

static void
connect_run (GTask *task, Op *op)
{
  ThecalVisit *self = op->self;
  g_autoptr (GError) error = NULL;

  switch (op->step)
    {
    case 0:
      if (!op_permit (task, op, THECAL_PERMISSION_PUMP_INTERROGATE))
        return;
      thecal_pump_link_identify_async (self->link, g_task_get_cancellable (task), on_step, task);
      return;
    case 1:
      if (!thecal_pump_link_identify_finish (self->link, op->result, &self->identity, &error))
        {
          op_return_error (task, link_failure (g_steal_pointer (&error), _ ("The interrogation")));
          return;
        }
      self->have_identity = TRUE;
      thecal_record_get_pump_async (self->record, self->identity.serial, NULL, on_step, task);
      return;
    case 2:
      {
        g_autoptr (ThecalPump) pump = thecal_record_get_pump_finish (self->record, op->result, &error);

        if (pump == NULL)
          {
            if (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_NOT_FOUND))
              op_return_error (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_UNKNOWN_PUMP,
                                                  _ ("Pump %s (%s) is not in the record: register it as a new implant first."),
                                                  self->identity.serial, self->identity.model_id));
            else
              op_return_error (task, g_steal_pointer (&error));
            return;
          }
        if (g_strcmp0 (pump->patient_mrn, op->patient_mrn) != 0)
          {
            /* loudly: the wrong patient's pump is the one in front of the wand */
            op_refuse (task, op, "visit.wrong_patient",
                       g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_WRONG_PATIENT,
                                    _ ("WRONG PATIENT: pump %s belongs to patient %s, not %s. Nothing was read or changed; "
                                       "check the patient in front of you."),
                                    pump->serial, pump->patient_mrn, op->patient_mrn));
            return;
          }
        if (pump->status != THECAL_PUMP_IMPLANTED)
          {
            op_return_error (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED,
                                                _ ("Pump %s is recorded as explanted."), pump->serial));
            return;
          }
        self->model = thecal_pump_model_set_find (self->models, pump->model_id);
        if (self->model == NULL || g_strcmp0 (pump->model_id, self->identity.model_id) != 0)
          {
            op_return_error (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED,
                                                _ ("Pump %s reports model %s; the record says %s (known models must match)."),
                                                pump->serial, self->identity.model_id, pump->model_id));
            return;
          }
        g_clear_pointer (&self->pump, thecal_pump_free);
        self->pump = g_steal_pointer (&pump);
        thecal_record_get_pairing_key_async (self->record, self->pump->serial, NULL, on_step, task);
        return;
      }
    case 3:
      {
        g_autoptr (GBytes) key = thecal_record_get_pairing_key_finish (self->record, op->result, &error);

        if (key == NULL || g_bytes_get_size (key) != THECAL_KEY_SIZE)
          {
            op_return_error (task, error != NULL ? g_steal_pointer (&error)
                                                 : g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED, _ ("The pairing key has the wrong size.")));
            return;
          }
        memcpy (self->key, g_bytes_get_data (key, NULL), THECAL_KEY_SIZE);
        self->have_key = TRUE;
        thecal_record_get_patient_record_async (self->record, op->patient_mrn, NULL, on_step, task);
        return;
      }
    case 4:
      {
        ThecalPatientRecord *history = thecal_record_get_patient_record_finish (self->record, op->result, &error);
        gint64 last_seq = 0;

        if (history == NULL)
          {
            op_return_error (task, g_steal_pointer (&error));
            return;
          }
        g_clear_pointer (&self->history, thecal_patient_record_free);
        self->history = history;
        g_clear_pointer (&self->patient, thecal_patient_free);
        self->patient = thecal_patient_copy (history->patient);
        for (guint i = 0; i < history->events->len; i++)
          if (g_strcmp0 (history->event_serials->pdata[i], self->pump->serial) == 0)
            last_seq = MAX (last_seq, ((ThecalPumpEvent *) history->events->pdata[i])->sequence);
        thecal_pump_link_interrogate_async (self->link, last_seq + 1, 0, 0, g_task_get_cancellable (task), on_step, task);
        return;
      }
    case 5:
      {
        ThecalPumpInterrogation *in = thecal_pump_link_interrogate_finish (self->link, op->result, &error);

        if (in == NULL)
          {
            op_return_error (task, link_failure (g_steal_pointer (&error), _ ("The interrogation")));
            return;
          }
        g_clear_pointer (&self->interrogation, thecal_pump_interrogation_free);
        self->interrogation = in;
        op->active = in->prescription;
        op->active_known = TRUE;
        thecal_record_list_unresolved_sessions_async (self->record, NULL, on_step, task);
        return;
      }
    case 6:
      op->unresolved = thecal_record_list_unresolved_sessions_finish (self->record, op->result, &error);
      if (op->unresolved == NULL)
        {
          op_return_error (task, g_steal_pointer (&error));
          return;
        }
      /* earlier sessions, refills and boluses first, before any change is allowed */
      reconcile_next (task, op, connect_after_sessions);
      return;
    case 11:
      if (op->result != NULL && op->event_inputs != NULL)
        {
          g_autofree ThecalEventImport *import = thecal_record_import_events_finish (self->record, op->result, &error);

          if (import == NULL)
            {
              op_return_error (task, g_steal_pointer (&error));
              return;
            }
          self->events_imported = import->inserted;
          if (import->conflicts > 0)
            add_finding (self, THECAL_VISIT_FINDING_WARNING, "log_conflict",
                         _ ("%u events of the pump's log differ from the copies already in the record (the first import is "
                            "kept; audited)."),
                         import->conflicts);
          /* the history now holds the new events (boluses since the fill) */
          thecal_record_get_patient_record_async (self->record, op->patient_mrn, NULL, on_step, task);
          return;
        }
      G_GNUC_FALLTHROUGH;
    case 12:
      if (op->step == 12)
        {
          ThecalPatientRecord *history = thecal_record_get_patient_record_finish (self->record, op->result, &error);

          if (history == NULL)
            {
              op_return_error (task, g_steal_pointer (&error));
              return;
            }
          g_clear_pointer (&self->history, thecal_patient_record_free);
          self->history = history;
        }
      self->connected = TRUE;
      report_findings (self);
      op_return_true (task);
      return;
    default:
      g_assert_not_reached ();
    }
}

void
thecal_visit_connect_async (ThecalVisit *self,
                            const char *patient_mrn,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  GTask *task;
  Op *op;

  g_return_if_fail (THECAL_IS_VISIT (self));
  g_return_if_fail (patient_mrn != NULL);
  task = op_start (self, connect_run, thecal_visit_connect_async, cancellable, callback, user_data);
  if (!op_begin (self, task, FALSE))
    return;
  op = g_task_get_task_data (task);
  op->patient_mrn = g_strdup (patient_mrn);
  self->connected = FALSE;
  self->events_imported = 0;
  g_ptr_array_set_size (self->findings, 0);
  connect_run (task, op);
}

gboolean
thecal_visit_connect_finish (ThecalVisit *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- reconcile --------------------------------------------------------------------------- */

static void
reconcile_done (GTask *task, Op *op)
{
  if (op->active_known && op->self->interrogation != NULL)
    op->self->interrogation->prescription = op->active;
  op_return_true (task);
}

static void
reconcile_after_sessions (GTask *task, Op *op)
{
  settle_writes (task, op, reconcile_done);
}

static void
reconcile_run (GTask *task, Op *op)
{
  ThecalVisit *self = op->self;
  g_autoptr (GError) error = NULL;

  switch (op->step)
    {
    case 0:
      thecal_pump_link_read_prescription_async (self->link, g_task_get_cancellable (task), on_step, task);
      return;
    case 1:
      {
        g_autofree ThecalMessage *reply = thecal_pump_link_request_finish (self->link, op->result, &error);

        if (reply == NULL)
          {
            op_return_error (task, link_failure (g_steal_pointer (&error), _ ("The reconciliation")));
            return;
          }
        op->active = reply->prescription;
        op->active_known = TRUE;
        thecal_record_list_unresolved_sessions_async (self->record, NULL, on_step, task);
        return;
      }
    case 2:
      op->unresolved = thecal_record_list_unresolved_sessions_finish (self->record, op->result, &error);
      if (op->unresolved == NULL)
        {
          op_return_error (task, g_steal_pointer (&error));
          return;
        }
      reconcile_next (task, op, reconcile_after_sessions);
      return;
    default:
      g_assert_not_reached ();
    }
}

void
thecal_visit_reconcile_async (ThecalVisit *self, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;

  g_return_if_fail (THECAL_IS_VISIT (self));
  task = op_start (self, reconcile_run, thecal_visit_reconcile_async, cancellable, callback, user_data);
  if (!op_begin (self, task, TRUE))
    return;
  reconcile_run (task, g_task_get_task_data (task));
}

gboolean
thecal_visit_reconcile_finish (ThecalVisit *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- change prescription ----------------------------------------------------------------- */

ThecalProgramReview *
thecal_visit_review_prescription (ThecalVisit *self, const ThecalPrescription *new_rx, GError **error)
{
  g_autoptr (ThecalProgramReview) review = NULL;
  ThecalPatientContext patient = { 0 };
  ThecalDoseError dose_error;
  const ThecalDrug *drug;
  gint64 volume, now;

  g_return_val_if_fail (THECAL_IS_VISIT (self), NULL);
  g_return_val_if_fail (new_rx != NULL, NULL);
  if (!self->connected)
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_NOT_CONNECTED, _ ("Not connected to a pump: interrogate it first."));
      return NULL;
    }
  review = g_new0 (ThecalProgramReview, 1);
  review->old_rx = self->interrogation->prescription.rx;
  review->new_rx = *new_rx;
  review->reviewed_active = self->interrogation->prescription.checksum;
  patient.opioid_tolerant = self->patient != NULL && self->patient->opioid_tolerance == THECAL_OPIOID_TOLERANT;
  thecal_check_prescription (new_rx, &review->old_rx, &patient, self->model, self->library, &review->check);
  thecal_dose_error_clear (&dose_error);
  review->old_plan_valid = thecal_delivery_plan_resolve (&review->old_rx, self->model, &review->old_plan, &dose_error);
  volume = MAX (self->interrogation->status.reservoir_estimate_nl, 0);
  now = self->interrogation->status.pump_ms;
  drug = thecal_drug_library_find (self->library, new_rx->drug_id);
  if (review->old_plan_valid && review->check.plan_valid)
    {
      const ThecalDrug *old_drug = thecal_drug_library_find (self->library, review->old_rx.drug_id);

      thecal_dose_error_clear (&dose_error);
      review->have_projections = thecal_project_reservoir (self->model, &review->old_plan, volume, now, old_drug != NULL ? old_drug->stability_days : 0,
                                                           &review->old_projection, &dose_error)
                                 && thecal_project_reservoir (self->model, &review->check.plan, volume, now, drug != NULL ? drug->stability_days : 0,
                                                              &review->new_projection, &dose_error);
    }
  review->changes = thecal_prescription_diff (&review->old_rx, new_rx);
  return g_steal_pointer (&review);
}

static void
program_record_outcome (GTask *task, Op *op, ThecalProgrammingOutcome outcome, const char *note)
{
  ThecalVisit *self = op->self;

  thecal_record_resolve_programming_async (self->record, thecal_record_session_get_user (self->session), op->programming->id,
                                           outcome, note, thecal_visit_now_utc_ms (self), NULL, on_step, task);
}

static void
program_run (GTask *task, Op *op)
{
  ThecalVisit *self = op->self;
  g_autoptr (GError) error = NULL;

  switch (op->step)
    {
    case 0:
      {
        gboolean needs_override = op->review->check.worst == THECAL_FINDING_OVERRIDE;
        g_autoptr (GArray) changes = NULL;
        ThecalProgrammingInput input = { 0 };

        if (!op_permit (task, op, THECAL_PERMISSION_PRESCRIPTION_CHANGE))
          return;
        if (self->writes->len > 0)
          {
            op_return_error (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_BLOCKED,
                                                thecal_visit_get_any_unresolved_write (self)->kind == THECAL_PUMP_WRITE_BOLUS
                                                    ? _ ("A bolus on pump %s is UNCERTAIN (its answer was lost, or an earlier "
                                                         "session ended before it): settle it by reading the pump before any "
                                                         "other change.")
                                                    : _ ("A refill of pump %s is UNCERTAIN (its answer was lost, or an earlier "
                                                         "session ended before it): settle it by reading the pump before any "
                                                         "other change."),
                                                self->pump->serial));
            return;
          }
        if (self->blocking_session_id != 0)
          {
            op_return_error (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_BLOCKED,
                                                _ ("Programming session %" G_GINT64_FORMAT " on pump %s is UNCERTAIN: the pump may or "
                                                   "may not run the new prescription. Read the pump (reconcile) before any "
                                                   "other change."),
                                                self->blocking_session_id, self->pump->serial));
            return;
          }
        if (op->review->check.worst == THECAL_FINDING_REFUSED)
          {
            const ThecalFinding *f = &op->review->check.findings[0];

            op_return_error (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED,
                                                _ ("The prescription is refused: %s"), f->message));
            return;
          }
        if (needs_override)
          {
            if (op->override_reason == NULL || g_utf8_strlen (g_strstrip (op->override_reason), -1) < 10)
              {
                op_return_error (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_NEEDS_REASON,
                                                    _ ("A soft limit is exceeded (%s): give an override reason of at least 10 "
                                                       "characters, or change the prescription."),
                                                    op->review->check.findings[0].message));
                return;
              }
            if (!op_permit (task, op, THECAL_PERMISSION_LIMIT_OVERRIDE))
              return;
          }
        if (memcmp (op->review->reviewed_active.bytes, self->interrogation->prescription.checksum.bytes,
                    sizeof op->review->reviewed_active.bytes)
            != 0)
          {
            op_return_error (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED,
                                                _ ("The pump's prescription changed since this review: review again.")));
            return;
          }
        if (op->review->changes->len == 0)
          {
            op_return_error (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_FAILED,
                                                _ ("The new prescription is the one the pump runs: nothing to change.")));
            return;
          }
        changes = g_array_new (FALSE, TRUE, sizeof (ThecalProgrammingChangeInput));
        for (guint i = 0; i < op->review->changes->len; i++)
          {
            const ThecalVisitChange *c = op->review->changes->pdata[i];
            ThecalProgrammingChangeInput ci = { c->field, c->old_value, c->new_value, needs_override ? op->override_reason : NULL };

            g_array_append_val (changes, ci);
          }
        input.pump_serial = self->pump->serial;
        input.old_prescription_id = 0;
        for (guint i = 0; self->history != NULL && i < self->history->prescriptions->len; i++)
          {
            const ThecalRecordedPrescription *p = self->history->prescriptions->pdata[i];

            if (!p->superseded && p->effective_to_utc_ms == G_MAXINT64 && g_strcmp0 (p->pump_serial, self->pump->serial) == 0)
              input.old_prescription_id = p->id;
          }
        input.new_rx = &op->review->new_rx;
        input.reason = op->reason;
        input.changes = (const ThecalProgrammingChangeInput *) (void *) changes->data;
        input.n_changes = changes->len;
        /* intent before action: PENDING is committed before the first byte goes to the pump */
        thecal_record_begin_programming_async (self->record, thecal_record_session_get_user (self->session), &input, NULL, on_step,
                                               task);
        return;
      }
    case 1:
      op->programming = thecal_record_begin_programming_finish (self->record, op->result, &error);
      if (op->programming == NULL)
        {
          op_return_error (task, g_steal_pointer (&error));
          return;
        }
      /* not cancellable: a write, once started, runs to its outcome */
      thecal_pump_link_program_async (self->link, &op->review->new_rx, &op->review->reviewed_active, NULL, on_step, task);
      return;
    case 2:
      {
        g_autofree char *note = NULL;
        ThecalProgrammingOutcome outcome;

        op->program_ran = thecal_pump_link_program_finish (self->link, op->result, &op->report, &error);
        if (!op->program_ran)
          {
            op->program_error = g_strdup (error->message);
            note = g_strdup_printf (_ ("Nothing was sent: %s"), error->message);
            outcome = THECAL_OUTCOME_FAILED;
          }
        else
          switch (op->report.outcome)
            {
            case THECAL_PROGRAM_CONFIRMED:
              note = g_strdup (_ ("Read back: the pump runs the new prescription."));
              outcome = THECAL_OUTCOME_CONFIRMED;
              break;
            case THECAL_PROGRAM_UNCERTAIN:
              note = g_strdup_printf (_ ("COMMIT was sent and its answer was lost (%s): the pump may run either prescription."),
                                      op->report.error.reason);
              outcome = THECAL_OUTCOME_UNCERTAIN;
              break;
            case THECAL_PROGRAM_CONFLICT:
              note = g_strdup_printf (_ ("Conflict: the pump runs neither the reviewed nor the new prescription (%s)."),
                                      op->report.error.reason);
              outcome = THECAL_OUTCOME_FAILED;
              break;
            case THECAL_PROGRAM_FAILED:
            case THECAL_PROGRAM_NONE:
            default:
              note = g_strdup_printf (_ ("Not applied; the pump runs the previous prescription (%s)."), op->report.error.reason);
              outcome = THECAL_OUTCOME_FAILED;
              break;
            }
        program_record_outcome (task, op, outcome, note);
        return;
      }
    case 3:
      {
        g_autoptr (ThecalProgrammingSession) resolved = thecal_record_resolve_programming_finish (self->record, op->result, &error);

        if (resolved == NULL)
          {
            /* the pump's state is known, the record's is not: block and say so */
            self->blocking_session_id = op->programming->id;
            op_return_error (task, g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_BLOCKED,
                                                _ ("The outcome could not be recorded (%s): the session stays unresolved and "
                                                   "will be reconciled at the next connection."),
                                                error->message));
            return;
          }
        g_clear_pointer (&op->programming, thecal_programming_session_free);
        op->programming = g_steal_pointer (&resolved);
        if (op->programming->outcome == THECAL_OUTCOME_UNCERTAIN)
          self->blocking_session_id = op->programming->id;
        if (op->programming->outcome == THECAL_OUTCOME_CONFIRMED)
          {
            self->interrogation->prescription.rx = op->review->new_rx;
            self->interrogation->prescription.checksum = op->report.target;
          }
        else if (op->program_ran && op->report.active_known)
          self->interrogation->prescription.checksum = op->report.active;
        op->self->busy = FALSE;
        {
          gint64 *answer = g_new (gint64, 2);

          answer[0] = op->programming->outcome;
          answer[1] = op->programming->id;
          g_task_return_pointer (task, answer, g_free);
        }
        g_object_unref (task);
        return;
      }
    default:
      g_assert_not_reached ();
    }
}

void
thecal_visit_program_async (ThecalVisit *self,
                            const ThecalProgramReview *review,
                            const char *reason,
                            const char *override_reason,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  GTask *task;
  Op *op;

  g_return_if_fail (THECAL_IS_VISIT (self));
  g_return_if_fail (review != NULL);
  task = op_start (self, program_run, thecal_visit_program_async, cancellable, callback, user_data);
  if (!op_begin (self, task, TRUE))
    return;
  op = g_task_get_task_data (task);
  op->review = g_new0 (ThecalProgramReview, 1);
  *op->review = *review;
  op->review->changes = g_ptr_array_ref (review->changes);
  op->reason = g_strdup (reason != NULL && *reason != '\0' ? reason : _ ("Prescription change"));
  op->override_reason = g_strdup (override_reason);
  program_run (task, op);
}

gboolean
thecal_visit_program_finish (ThecalVisit *self,
                             GAsyncResult *result,
                             ThecalProgrammingOutcome *outcome,
                             gint64 *session_id,
                             GError **error)
{
  g_autofree gint64 *answer = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  answer = g_task_propagate_pointer (G_TASK (result), error);
  if (answer == NULL)
    return FALSE;
  if (outcome != NULL)
    *outcome = (ThecalProgrammingOutcome) answer[0];
  if (session_id != NULL)
    *session_id = answer[1];
  return TRUE;
}
