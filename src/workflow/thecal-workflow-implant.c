/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-workflow-implant.c: the registration of a new implant (thecal-workflow-implant.h,
 * docs/workflows.md "Register a new implant"). A GTask whose steps run one after the other on the
 * visit's context; the record is reached through the visit's record session, the pump through
 * the visit (connect, program) and the bolus workflow (priming).
 */
#include "config.h"

#include "thecal-workflow-implant.h"

#include <glib/gi18n.h>
#include <string.h>

#include "thecal-record-error.h"
#include "thecal-visit-private.h"
#include "thecal-workflow-bolus.h"

typedef struct
{
  ThecalVisit *self; /* borrowed: the task holds a reference */
  gint step;
  ThecalPatientInput new_patient;
  gboolean has_new_patient;
  char *mrn;
  char *serial;
  char *model_id;
  ThecalPumpModel model;
  char *implant_date;
  gint64 catheter_length_mm;
  guint8 key[THECAL_PAIRING_KEY_BYTES];
  ThecalPrescription rx;
  char *override_reason;
  gboolean priming;
  gint64 priming_rate_nl_per_day;
  gboolean opioid_tolerant;
  ThecalImplantReport report;
  ThecalProgramReview *review;
  ThecalBolusReview *bolus_review;
  GError *error; /* reported after its audit entry is written */
} Implant;

static void
implant_free (Implant *im)
{
  g_free ((char *) im->new_patient.mrn);
  g_free ((char *) im->new_patient.name);
  g_free ((char *) im->new_patient.date_of_birth);
  g_free ((char *) im->new_patient.notes);
  g_free (im->mrn);
  g_free (im->serial);
  g_free (im->model_id);
  g_free (im->implant_date);
  g_free (im->override_reason);
  memset (im->key, 0, sizeof im->key);
  g_clear_pointer (&im->review, thecal_program_review_free);
  g_clear_pointer (&im->bolus_review, thecal_bolus_review_free);
  g_clear_error (&im->error);
  g_free (im);
}

static ThecalRecordSession *
session_of (Implant *im)
{
  return thecal_visit_get_session (im->self);
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

static void
implant_return_error (GTask *task, GError *error)
{
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
on_failure_audited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Implant *im = g_task_get_task_data (task);
  g_autoptr (ThecalAuditEntry) entry = NULL;
  g_autoptr (GError) audit_error = NULL;

  entry = thecal_record_append_audit_finish (THECAL_RECORD (source), result, &audit_error);
  if (entry == NULL)
    g_warning ("An implant step could not be audited: %s", audit_error->message);
  implant_return_error (task, g_steal_pointer (&im->error));
}

static void
audit (GTask *task, const char *action, const char *message, gint64 pump_id, gint64 patient_id, GAsyncReadyCallback callback)
{
  Implant *im = g_task_get_task_data (task);
  g_autofree char *m = json_escape (message);
  g_autofree char *s = json_escape (im->serial);
  g_autofree char *p = json_escape (im->mrn);
  g_autofree char *after = g_strdup_printf ("{\"serial\":\"%s\",\"model\":\"%s\",\"patient\":\"%s\",\"catheter_length_mm\":%" G_GINT64_FORMAT
                                            ",\"message\":\"%s\"}",
                                            s, im->model_id != NULL ? im->model_id : "", p, im->catheter_length_mm, m);
  ThecalAuditInput input = { 0 };

  input.action = action;
  input.object_type = "pump";
  input.object_id = pump_id;
  input.patient_id = patient_id;
  input.after = after;
  input.reason = message;
  thecal_record_append_audit_async (thecal_record_session_get_record (session_of (im)),
                                    thecal_record_session_get_user (session_of (im)), &input, NULL, callback, task);
}

static void
refuse (GTask *task, const char *action, GError *error)
{
  Implant *im = g_task_get_task_data (task);

  im->error = error;
  audit (task, action, error->message, 0, 0, on_failure_audited);
}

static void implant_run (GTask *task, Implant *im, GAsyncResult *result);

static void
on_step (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Implant *im = g_task_get_task_data (task);

  (void) source;
  im->step++;
  implant_run (task, im, result);
}

/* The initial prescription through the dose core (no current one: nothing ran before). */
static gboolean
check_prescription (Implant *im, GError **error)
{
  ThecalVisit *self = im->self;
  ThecalPatientContext patient = { 0 };
  g_autofree ThecalCheckResult *check = g_new0 (ThecalCheckResult, 1);

  patient.opioid_tolerant = im->opioid_tolerant;
  thecal_check_prescription (&im->rx, NULL, &patient, &im->model, thecal_visit_get_library (self), check);
  if (check->worst == THECAL_FINDING_REFUSED)
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED, _ ("The initial prescription is refused: %s"),
                   check->n_findings > 0 ? check->findings[0].message : "");
      return FALSE;
    }
  if (check->worst == THECAL_FINDING_OVERRIDE && (im->override_reason == NULL || g_utf8_strlen (im->override_reason, -1) < 10))
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_NEEDS_REASON,
                   _ ("The initial prescription meets a soft limit (%s): give an override reason (at least 10 characters)."),
                   check->n_findings > 0 ? check->findings[0].message : "");
      return FALSE;
    }
  return TRUE;
}

static void
return_report (GTask *task, Implant *im)
{
  g_task_return_pointer (task, g_memdup2 (&im->report, sizeof im->report), g_free);
  g_object_unref (task);
}

/* A step after the registration failed: what was done stays recorded; say what is left. */
static void
fail_after_registration (GTask *task, const char *what, const GError *error)
{
  implant_return_error (task, g_error_new (THECAL_VISIT_ERROR, g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED) ? THECAL_VISIT_ERROR_PAUSED : THECAL_VISIT_ERROR_FAILED,
                                           _ ("The implant is registered, but %s failed: %s. Connect to the pump again and %s."), what,
                                           error->message, what));
}

static void
implant_run (GTask *task, Implant *im, GAsyncResult *result)
{
  ThecalVisit *self = im->self;
  ThecalRecordSession *session = session_of (im);
  g_autoptr (GError) error = NULL;

  switch (im->step)
    {
    case 0:
      thecal_record_session_get_pump_async (session, im->serial, NULL, on_step, task);
      return;
    case 1:
      {
        g_autoptr (ThecalPump) pump = thecal_record_session_get_pump_finish (session, result, &error);

        if (pump != NULL)
          {
            gboolean same = g_strcmp0 (pump->patient_mrn, im->mrn) == 0;

            refuse (task, "implant.refused",
                    g_error_new (THECAL_VISIT_ERROR, same ? THECAL_VISIT_ERROR_REFUSED : THECAL_VISIT_ERROR_WRONG_PATIENT,
                                 same ? _ ("Pump %s is already registered to patient %s: nothing was registered.")
                                      : _ ("Pump %s already belongs to another patient (%s): nothing was registered. Check "
                                           "the serial on the pump's label."),
                                 im->serial, pump->patient_mrn));
            return;
          }
        if (!g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_NOT_FOUND))
          {
            implant_return_error (task, g_steal_pointer (&error));
            return;
          }
        g_clear_error (&error);
        if (!im->has_new_patient)
          {
            thecal_record_session_get_patient_async (session, im->mrn, NULL, on_step, task);
            return;
          }
        im->step = 2;
        implant_run (task, im, NULL);
        return;
      }
    case 2:
      {
        GError *refusal = NULL;

        if (!im->has_new_patient)
          {
            g_autoptr (ThecalPatient) patient = thecal_record_session_get_patient_finish (session, result, &error);

            if (patient == NULL)
              {
                implant_return_error (task, g_steal_pointer (&error));
                return;
              }
            im->opioid_tolerant = patient->opioid_tolerance == THECAL_OPIOID_TOLERANT;
            im->report.patient_id = patient->id;
          }
        if (!check_prescription (im, &refusal))
          {
            refuse (task, "implant.refused", refusal);
            return;
          }
        /* the key proved before anything is written: a wrong one must never reach the record */
        thecal_visit_prove_key_async (self, im->serial, im->key, g_task_get_cancellable (task), on_step, task);
        return;
      }
    case 3:
      if (!thecal_visit_prove_key_finish (self, result, &error))
        {
          if (g_error_matches (error, THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_WRONG_KEY))
            {
              refuse (task, "implant.refused",
                      g_error_new (THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_WRONG_KEY,
                                   _ ("The pairing key does not open a session with pump %s: check the key delivered with the "
                                      "pump. Nothing was registered."),
                                   im->serial));
              return;
            }
          /* the wand, the pump or the link failed: nothing was written; the form can try again */
          g_prefix_error (&error, _ ("The pairing key could not be checked with pump %s (nothing was registered): "), im->serial);
          implant_return_error (task, g_steal_pointer (&error));
          return;
        }
      if (im->has_new_patient)
        {
          thecal_record_session_add_patient_async (session, &im->new_patient, NULL, on_step, task);
          return;
        }
      im->step = 4;
      implant_run (task, im, NULL);
      return;
    case 4:
      {
        ThecalPumpInput input = { 0 };

        if (im->has_new_patient)
          {
            g_autoptr (ThecalPatient) patient = thecal_record_session_add_patient_finish (session, result, &error);

            if (patient == NULL)
              {
                implant_return_error (task, g_steal_pointer (&error));
                return;
              }
            im->report.patient_id = patient->id;
          }
        input.serial = im->serial;
        input.model_id = im->model_id;
        input.patient_mrn = im->mrn;
        input.implant_date = im->implant_date;
        input.catheter_length_mm = im->catheter_length_mm;
        input.pairing_key = im->key;
        thecal_record_session_add_pump_async (session, &input, NULL, on_step, task);
        return;
      }
    case 5:
      {
        g_autoptr (ThecalPump) pump = thecal_record_session_add_pump_finish (session, result, &error);

        if (pump == NULL)
          {
            implant_return_error (task, g_steal_pointer (&error));
            return;
          }
        im->report.pump_id = pump->id;
        audit (task, "implant.register", _ ("New implant registered; the pump is about to be programmed."), pump->id,
               im->report.patient_id, on_step);
        return;
      }
    case 6:
      {
        g_autoptr (ThecalAuditEntry) entry = thecal_record_append_audit_finish (thecal_record_session_get_record (session), result, &error);

        if (entry == NULL)
          g_warning ("The implant registration could not be audited: %s", error->message);
        thecal_visit_connect_async (self, im->mrn, NULL, on_step, task);
        return;
      }
    case 7:
      if (!thecal_visit_connect_finish (self, result, &error))
        {
          fail_after_registration (task, _ ("the interrogation"), error);
          return;
        }
      im->review = thecal_visit_review_prescription (self, &im->rx, &error);
      if (im->review == NULL)
        {
          fail_after_registration (task, _ ("the initial prescription"), error);
          return;
        }
      thecal_visit_program_async (self, im->review, _ ("Initial prescription after implant."), im->override_reason, NULL, on_step,
                                  task);
      return;
    case 8:
      {
        ThecalBolusRequest request = { 0 };

        if (!thecal_visit_program_finish (self, result, &im->report.program_outcome, &im->report.programming_session_id, &error))
          {
            fail_after_registration (task, _ ("the initial prescription"), error);
            return;
          }
        if (im->report.program_outcome != THECAL_OUTCOME_CONFIRMED || !im->priming)
          {
            return_report (task, im);
            return;
          }
        request.kind = THECAL_VISIT_BOLUS_PRIMING;
        request.priming_rate_nl_per_day = im->priming_rate_nl_per_day;
        im->bolus_review = thecal_visit_review_bolus (self, &request, &error);
        if (im->bolus_review == NULL)
          {
            fail_after_registration (task, _ ("the priming bolus"), error);
            return;
          }
        thecal_visit_bolus_async (self, im->bolus_review, NULL, NULL, on_step, task);
        return;
      }
    case 9:
      if (!thecal_visit_bolus_finish (self, result, &im->report.priming_outcome, &error))
        {
          fail_after_registration (task, _ ("the priming bolus"), error);
          return;
        }
      im->report.priming_given = TRUE;
      return_report (task, im);
      return;
    default:
      g_assert_not_reached ();
    }
}

static gboolean
check_request (const ThecalImplantRequest *request, GError **error)
{
  if (request->serial == NULL || *request->serial == '\0' || request->model == NULL || request->implant_date == NULL
      || request->prescription == NULL || request->pairing_key == NULL
      || (request->new_patient == NULL && (request->patient_mrn == NULL || *request->patient_mrn == '\0')))
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED,
                   _ ("An implant needs the patient, the pump's serial, model, implant date, pairing key and the initial "
                      "prescription."));
      return FALSE;
    }
  if (request->catheter_length_mm <= 0)
    {
      g_set_error (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_REFUSED,
                   _ ("The implanted catheter length must be above 0 (it sets the priming volume)."));
      return FALSE;
    }
  return TRUE;
}

void
thecal_visit_register_implant_async (ThecalVisit *self,
                                     const ThecalImplantRequest *request,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  const ThecalPermission needed[] = { THECAL_PERMISSION_PATIENT_CREATE, THECAL_PERMISSION_PUMP_CREATE,
                                      THECAL_PERMISSION_PRESCRIPTION_CHANGE, THECAL_PERMISSION_BOLUS };
  const ThecalUser *user;
  GTask *task;
  Implant *im;
  GError *error = NULL;

  g_return_if_fail (THECAL_IS_VISIT (self));
  g_return_if_fail (request != NULL);
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, thecal_visit_register_implant_async);
  im = g_new0 (Implant, 1);
  im->self = self;
  g_task_set_task_data (task, im, (GDestroyNotify) implant_free);
  if (!check_request (request, &error))
    {
      implant_return_error (task, error);
      return;
    }
  im->has_new_patient = request->new_patient != NULL;
  if (im->has_new_patient)
    {
      im->new_patient = *request->new_patient;
      im->new_patient.mrn = g_strdup (request->new_patient->mrn);
      im->new_patient.name = g_strdup (request->new_patient->name);
      im->new_patient.date_of_birth = g_strdup (request->new_patient->date_of_birth);
      im->new_patient.notes = g_strdup (request->new_patient->notes);
      im->opioid_tolerant = request->new_patient->opioid_tolerance == THECAL_OPIOID_TOLERANT;
    }
  im->mrn = g_strdup (im->has_new_patient ? request->new_patient->mrn : request->patient_mrn);
  im->serial = g_strdup (request->serial);
  im->model = *request->model;
  im->model_id = g_strdup (request->model->id);
  im->implant_date = g_strdup (request->implant_date);
  im->catheter_length_mm = request->catheter_length_mm;
  memcpy (im->key, request->pairing_key, sizeof im->key);
  im->rx = *request->prescription;
  im->override_reason = g_strdup (request->override_reason);
  im->priming = request->priming;
  im->priming_rate_nl_per_day = request->priming_rate_nl_per_day;
  user = thecal_record_session_get_user (session_of (im));
  for (gsize i = 0; i < G_N_ELEMENTS (needed); i++)
    {
      if (needed[i] == THECAL_PERMISSION_PATIENT_CREATE && !im->has_new_patient)
        continue;
      if (needed[i] == THECAL_PERMISSION_BOLUS && !im->priming)
        continue;
      if (!thecal_permission_check (user, needed[i], &error))
        {
          refuse (task, "permission.denied", error);
          return;
        }
    }
  implant_run (task, im, NULL);
}

gboolean
thecal_visit_register_implant_finish (ThecalVisit *self, GAsyncResult *result, ThecalImplantReport *report, GError **error)
{
  g_autofree ThecalImplantReport *answer = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  answer = g_task_propagate_pointer (G_TASK (result), error);
  if (answer == NULL)
    return FALSE;
  if (report != NULL)
    *report = *answer;
  return TRUE;
}
