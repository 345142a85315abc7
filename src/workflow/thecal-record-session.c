/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-record-session.c: a person logged in to the record; every operation checked against
 * the permission table, every refusal audited.
 *
 * Threads: everything here runs on the caller's thread (its thread-default main context); the
 * record's own thread is reached only through the record's _async calls.
 */
#include "config.h"

#include "thecal-record-session.h"

#include <cjson/cJSON.h>
#include <glib/gi18n.h>

#include "thecal-sync-call.h"

/* {"key": "value", ...} from NULL-terminated key/value pairs (values may be NULL: skipped), with
 * every string escaped by cJSON. */
static char *
json_object_text (const char *first_key, ...)
{
  cJSON *object = cJSON_CreateObject ();
  char *printed;
  char *text;
  va_list args;

  va_start (args, first_key);
  for (const char *key = first_key; key != NULL; key = va_arg (args, const char *))
    {
      const char *value = va_arg (args, const char *);

      if (value != NULL)
        cJSON_AddItemToObject (object, key, cJSON_CreateString (value));
    }
  va_end (args);
  printed = cJSON_PrintUnformatted (object);
  text = g_strdup (printed);
  cJSON_free (printed);
  cJSON_Delete (object);
  return text;
}

struct _ThecalRecordSession
{
  GObject parent_instance;

  ThecalRecord *record;
  ThecalUser *user;
};

G_DEFINE_FINAL_TYPE (ThecalRecordSession, thecal_record_session, G_TYPE_OBJECT)

static void
thecal_record_session_finalize (GObject *object)
{
  ThecalRecordSession *self = THECAL_RECORD_SESSION (object);

  g_clear_object (&self->record);
  g_clear_pointer (&self->user, thecal_user_free);

  G_OBJECT_CLASS (thecal_record_session_parent_class)->finalize (object);
}

static void
thecal_record_session_class_init (ThecalRecordSessionClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = thecal_record_session_finalize;
}

static void
thecal_record_session_init (ThecalRecordSession *self)
{
  (void) self;
}

static ThecalRecordSession *
session_new (ThecalRecord *record, ThecalUser *user)
{
  ThecalRecordSession *self = g_object_new (THECAL_TYPE_RECORD_SESSION, NULL);

  self->record = g_object_ref (record);
  self->user = user;
  return self;
}

ThecalRecord *
thecal_record_session_get_record (ThecalRecordSession *self)
{
  g_return_val_if_fail (THECAL_IS_RECORD_SESSION (self), NULL);
  return self->record;
}

const ThecalUser *
thecal_record_session_get_user (ThecalRecordSession *self)
{
  g_return_val_if_fail (THECAL_IS_RECORD_SESSION (self), NULL);
  return self->user;
}

gboolean
thecal_record_session_may (ThecalRecordSession *self, ThecalPermission permission)
{
  g_return_val_if_fail (THECAL_IS_RECORD_SESSION (self), FALSE);
  return thecal_role_may (self->user->role, permission);
}

/* ---- Logging in ----------------------------------------------------------------------------- */

/* A read-only record cannot record a login: say so plainly rather than "nothing was saved". */
static GError *
login_error (GError *error)
{
  if (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_READONLY))
    {
      GError *clearer = g_error_new (THECAL_DB_ERROR, THECAL_DB_ERROR_READONLY,
                                     _ ("The record file is read-only: Thecal cannot record a login in it, so "
                                        "nobody can log in."));

      g_error_free (error);
      return clearer;
    }
  return error;
}

/* Runs on the caller's thread. */
static void
on_logged_in (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  ThecalRecord *record = THECAL_RECORD (source);
  GError *error = NULL;
  ThecalUser *user = thecal_record_login_finish (record, result, &error);

  if (user == NULL)
    g_task_return_error (task, login_error (error));
  else
    g_task_return_pointer (task, session_new (record, user), g_object_unref);
}

void
thecal_record_session_login_async (ThecalRecord *record,
                                   const char *name,
                                   const char *password,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data)
{
  GTask *task;

  g_return_if_fail (THECAL_IS_RECORD (record));

  task = g_task_new (record, cancellable, callback, user_data);
  g_task_set_source_tag (task, thecal_record_session_login_async);
  g_task_set_check_cancellable (task, FALSE); /* a login that happened was audited: report it */
  thecal_record_login_async (record, name, password, cancellable, on_logged_in, task);
}

ThecalRecordSession *
thecal_record_session_login_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == thecal_record_session_login_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

ThecalRecordSession *
thecal_record_session_login_sync (ThecalRecord *record,
                                  const char *name,
                                  const char *password,
                                  GCancellable *cancellable,
                                  GError **error)
{
  g_autoptr (ThecalSyncCall) call = thecal_sync_call_new ();

  thecal_record_session_login_async (record, name, password, cancellable, thecal_sync_call_callback, call);
  return thecal_record_session_login_finish (thecal_sync_call_wait (call), error);
}

/* Runs on the caller's thread. */
static void
on_needs_first_run (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  gboolean first_run = FALSE;

  if (!thecal_record_needs_first_administrator_finish (THECAL_RECORD (source), result, &first_run, &error))
    g_task_return_error (task, error);
  else
    g_task_return_int (task, first_run ? 1 : 0);
}

void
thecal_record_session_needs_first_run_async (ThecalRecord *record,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data)
{
  GTask *task;

  g_return_if_fail (THECAL_IS_RECORD (record));
  task = g_task_new (record, cancellable, callback, user_data);
  g_task_set_source_tag (task, thecal_record_session_needs_first_run_async);
  thecal_record_needs_first_administrator_async (record, cancellable, on_needs_first_run, task);
}

gboolean
thecal_record_session_needs_first_run_finish (GAsyncResult *result, gboolean *first_run, GError **error)
{
  gssize answer;

  g_return_val_if_fail (G_IS_TASK (result), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == thecal_record_session_needs_first_run_async, FALSE);
  answer = g_task_propagate_int (G_TASK (result), error);
  if (answer < 0)
    return FALSE;
  if (first_run != NULL)
    *first_run = answer == 1;
  return TRUE;
}

gboolean
thecal_record_session_needs_first_run_sync (ThecalRecord *record, gboolean *first_run, GCancellable *cancellable, GError **error)
{
  g_autoptr (ThecalSyncCall) call = thecal_sync_call_new ();

  thecal_record_session_needs_first_run_async (record, cancellable, thecal_sync_call_callback, call);
  return thecal_record_session_needs_first_run_finish (thecal_sync_call_wait (call), first_run, error);
}

/* Runs on the caller's thread. */
static void
on_first_administrator (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  ThecalRecord *record = THECAL_RECORD (source);
  GError *error = NULL;
  ThecalUser *user = thecal_record_create_first_administrator_finish (record, result, &error);

  if (user == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, session_new (record, user), g_object_unref);
}

void
thecal_record_session_first_run_async (ThecalRecord *record,
                                       const char *name,
                                       const char *full_name,
                                       const char *password,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data)
{
  GTask *task;

  g_return_if_fail (THECAL_IS_RECORD (record));

  task = g_task_new (record, cancellable, callback, user_data);
  g_task_set_source_tag (task, thecal_record_session_first_run_async);
  g_task_set_check_cancellable (task, FALSE);
  thecal_record_create_first_administrator_async (record, name, full_name, password, cancellable,
                                                  on_first_administrator, task);
}

ThecalRecordSession *
thecal_record_session_first_run_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == thecal_record_session_first_run_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

ThecalRecordSession *
thecal_record_session_first_run_sync (ThecalRecord *record,
                                      const char *name,
                                      const char *full_name,
                                      const char *password,
                                      GCancellable *cancellable,
                                      GError **error)
{
  g_autoptr (ThecalSyncCall) call = thecal_sync_call_new ();

  thecal_record_session_first_run_async (record, name, full_name, password, cancellable, thecal_sync_call_callback,
                                         call);
  return thecal_record_session_first_run_finish (thecal_sync_call_wait (call), error);
}

/* ---- The checked operations ------------------------------------------------------------------ */

static GTask *
session_task (ThecalRecordSession *self,
              gpointer source_tag,
              GCancellable *cancellable,
              GAsyncReadyCallback callback,
              gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  /* What the record did is what is reported, even when cancelled since. */
  g_task_set_check_cancellable (task, FALSE);
  return task;
}

typedef struct
{
  GTask *task;
  GError *refusal;
} Refusal;

/* Runs on the caller's thread: the refusal is in the audit trail (or could not be put there);
 * now it is reported. */
static void
on_refusal_audited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Refusal *refusal = user_data;
  g_autoptr (GError) audit_error = NULL;
  g_autoptr (ThecalAuditEntry) entry = thecal_record_append_audit_finish (THECAL_RECORD (source), result, &audit_error);
  GError *error = g_steal_pointer (&refusal->refusal);

  if (entry == NULL)
    {
      GError *with_note = g_error_new (error->domain, error->code, _ ("%s (The refusal could not be recorded: %s)"),
                                       error->message, audit_error->message);

      g_error_free (error);
      error = with_note;
    }
  g_task_return_error (refusal->task, error);
  g_object_unref (refusal->task);
  g_free (refusal);
}

/* TRUE when the session may; otherwise audits the refusal, completes @task with it (taking the
 * task) and returns FALSE. */
static gboolean
session_allow (ThecalRecordSession *self, ThecalPermission permission, GTask *task, const char *subject)
{
  GError *error = NULL;
  Refusal *refusal;
  g_autofree char *after = NULL;
  ThecalAuditInput input = { 0 };

  if (thecal_permission_check (self->user, permission, &error))
    return TRUE;
  after = json_object_text ("permission", thecal_permission_name (permission), "subject", subject, NULL);
  input.action = "permission.denied";
  input.after = after;
  input.reason = error->message;
  refusal = g_new0 (Refusal, 1);
  refusal->task = task;
  refusal->refusal = error;
  thecal_record_append_audit_async (self->record, self->user, &input, NULL, on_refusal_audited, refusal);
  return FALSE;
}

static gpointer
session_propagate (ThecalRecordSession *self, GAsyncResult *result, gpointer source_tag, GError **error)
{
  g_return_val_if_fail (THECAL_IS_RECORD_SESSION (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* A callback that hands the record's result of thecal_record_<op>_finish to the session's task. */
#define FORWARD(op, free_func)                                                             \
  static void                                                                              \
      forward_##op (GObject *source, GAsyncResult *result, gpointer user_data)             \
  {                                                                                        \
    g_autoptr (GTask) task = user_data;                                                    \
    GError *error = NULL;                                                                  \
    gpointer value = thecal_record_##op##_finish (THECAL_RECORD (source), result, &error); \
                                                                                           \
    if (value == NULL)                                                                     \
      g_task_return_error (task, error);                                                   \
    else                                                                                   \
      g_task_return_pointer (task, value, (GDestroyNotify) free_func);                     \
  }

FORWARD (add_user, thecal_user_free)
FORWARD (list_users, g_ptr_array_unref)
FORWARD (set_password, thecal_user_free)
FORWARD (unlock_user, thecal_user_free)
FORWARD (add_patient, thecal_patient_free)
FORWARD (correct_patient, thecal_patient_free)
FORWARD (get_patient, thecal_patient_free)
FORWARD (list_patients, g_ptr_array_unref)
FORWARD (search_patients, g_ptr_array_unref)
FORWARD (add_pump, thecal_pump_free)
FORWARD (change_pump, thecal_pump_free)
FORWARD (get_pump, thecal_pump_free)
FORWARD (list_pumps, g_ptr_array_unref)
FORWARD (get_patient_record, thecal_patient_record_free)
FORWARD (list_pump_writes, g_ptr_array_unref)
FORWARD (verify_audit, thecal_audit_verification_free)

/* The _finish and _sync of an operation whose _async is written out below. */
#define FINISH_AND_SYNC(ret, op, params, args)                                                              \
  ret thecal_record_session_##op##_finish (ThecalRecordSession *self, GAsyncResult *result, GError **error) \
  {                                                                                                         \
    return session_propagate (self, result, thecal_record_session_##op##_async, error);                     \
  }                                                                                                         \
  ret thecal_record_session_##op##_sync (ThecalRecordSession *self, params GCancellable *cancellable,       \
                                         GError **error)                                                    \
  {                                                                                                         \
    g_autoptr (ThecalSyncCall) call = thecal_sync_call_new ();                                              \
                                                                                                            \
    thecal_record_session_##op##_async (self, args cancellable, thecal_sync_call_callback, call);           \
    return thecal_record_session_##op##_finish (self, thecal_sync_call_wait (call), error);                 \
  }

#define BEGIN(op, permission, subject)                                                              \
  GTask *task;                                                                                      \
                                                                                                    \
  g_return_if_fail (THECAL_IS_RECORD_SESSION (self));                                               \
  task = session_task (self, thecal_record_session_##op##_async, cancellable, callback, user_data); \
  if (!session_allow (self, (permission), task, (subject)))                                         \
    return;

#define P(...) __VA_ARGS__

void
thecal_record_session_add_user_async (ThecalRecordSession *self,
                                      const char *name,
                                      const char *full_name,
                                      ThecalRole role,
                                      const char *password,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  BEGIN (add_user, THECAL_PERMISSION_USER_MANAGE, name)
  thecal_record_add_user_async (self->record, self->user, name, full_name, role, password, cancellable,
                                forward_add_user, task);
}
FINISH_AND_SYNC (ThecalUser *, add_user, P (const char *name, const char *full_name, ThecalRole role, const char *password, ), P (name, full_name, role, password, ))

void
thecal_record_session_list_users_async (ThecalRecordSession *self,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  BEGIN (list_users, THECAL_PERMISSION_USER_MANAGE, NULL)
  thecal_record_list_users_async (self->record, cancellable, forward_list_users, task);
}
FINISH_AND_SYNC (GPtrArray *, list_users, , )

void
thecal_record_session_set_password_async (ThecalRecordSession *self,
                                          const char *name,
                                          const char *password,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data)
{
  /* One's own password, or (an administrator) anyone's. User names are compared regardless of
   * case, as the record does. */
  gboolean own = name == NULL || g_ascii_strcasecmp (name, self->user->name) == 0;

  BEGIN (set_password, own ? THECAL_PERMISSION_OWN_PASSWORD : THECAL_PERMISSION_USER_MANAGE, name)
  thecal_record_set_password_async (self->record, self->user, own ? self->user->name : name, password, cancellable,
                                    forward_set_password, task);
}
FINISH_AND_SYNC (ThecalUser *, set_password, P (const char *name, const char *password, ), P (name, password, ))

void
thecal_record_session_unlock_user_async (ThecalRecordSession *self,
                                         const char *name,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  BEGIN (unlock_user, THECAL_PERMISSION_USER_MANAGE, name)
  thecal_record_unlock_user_async (self->record, self->user, name, cancellable, forward_unlock_user, task);
}
FINISH_AND_SYNC (ThecalUser *, unlock_user, P (const char *name, ), P (name, ))

void
thecal_record_session_add_patient_async (ThecalRecordSession *self,
                                         const ThecalPatientInput *input,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  BEGIN (add_patient, THECAL_PERMISSION_PATIENT_CREATE, input->mrn)
  thecal_record_add_patient_async (self->record, self->user, input, cancellable, forward_add_patient, task);
}
FINISH_AND_SYNC (ThecalPatient *, add_patient, P (const ThecalPatientInput *input, ), P (input, ))

void
thecal_record_session_correct_patient_async (ThecalRecordSession *self,
                                             const char *mrn,
                                             const ThecalPatientInput *input,
                                             const char *reason,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data)
{
  BEGIN (correct_patient, THECAL_PERMISSION_PATIENT_CORRECT, mrn)
  thecal_record_correct_patient_async (self->record, self->user, mrn, input, reason, cancellable,
                                       forward_correct_patient, task);
}
FINISH_AND_SYNC (ThecalPatient *, correct_patient, P (const char *mrn, const ThecalPatientInput *input, const char *reason, ), P (mrn, input, reason, ))

void
thecal_record_session_get_patient_async (ThecalRecordSession *self,
                                         const char *mrn,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  BEGIN (get_patient, THECAL_PERMISSION_PATIENT_READ, mrn)
  thecal_record_get_patient_async (self->record, mrn, cancellable, forward_get_patient, task);
}
FINISH_AND_SYNC (ThecalPatient *, get_patient, P (const char *mrn, ), P (mrn, ))

void
thecal_record_session_list_patients_async (ThecalRecordSession *self,
                                           gint64 offset,
                                           gint64 limit,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer user_data)
{
  BEGIN (list_patients, THECAL_PERMISSION_PATIENT_READ, NULL)
  thecal_record_list_patients_async (self->record, offset, limit, cancellable, forward_list_patients, task);
}
FINISH_AND_SYNC (GPtrArray *, list_patients, P (gint64 offset, gint64 limit, ), P (offset, limit, ))

void
thecal_record_session_search_patients_async (ThecalRecordSession *self,
                                             const char *text,
                                             gint64 limit,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data)
{
  BEGIN (search_patients, THECAL_PERMISSION_PATIENT_READ, NULL)
  thecal_record_search_patients_async (self->record, text, limit, cancellable, forward_search_patients, task);
}
FINISH_AND_SYNC (GPtrArray *, search_patients, P (const char *text, gint64 limit, ), P (text, limit, ))

void
thecal_record_session_add_pump_async (ThecalRecordSession *self,
                                      const ThecalPumpInput *input,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  BEGIN (add_pump, THECAL_PERMISSION_PUMP_CREATE, input->serial)
  thecal_record_add_pump_async (self->record, self->user, input, cancellable, forward_add_pump, task);
}
FINISH_AND_SYNC (ThecalPump *, add_pump, P (const ThecalPumpInput *input, ), P (input, ))

void
thecal_record_session_change_pump_async (ThecalRecordSession *self,
                                         const char *serial,
                                         const ThecalPumpDetails *details,
                                         const char *reason,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  BEGIN (change_pump, THECAL_PERMISSION_PUMP_CHANGE, serial)
  thecal_record_change_pump_async (self->record, self->user, serial, details, reason, cancellable,
                                   forward_change_pump, task);
}
FINISH_AND_SYNC (ThecalPump *, change_pump, P (const char *serial, const ThecalPumpDetails *details, const char *reason, ), P (serial, details, reason, ))

void
thecal_record_session_get_pump_async (ThecalRecordSession *self,
                                      const char *serial,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  BEGIN (get_pump, THECAL_PERMISSION_PUMP_READ, serial)
  thecal_record_get_pump_async (self->record, serial, cancellable, forward_get_pump, task);
}
FINISH_AND_SYNC (ThecalPump *, get_pump, P (const char *serial, ), P (serial, ))

void
thecal_record_session_list_pumps_async (ThecalRecordSession *self,
                                        const char *patient_mrn,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  BEGIN (list_pumps, THECAL_PERMISSION_PUMP_READ, patient_mrn)
  thecal_record_list_pumps_async (self->record, patient_mrn, cancellable, forward_list_pumps, task);
}
FINISH_AND_SYNC (GPtrArray *, list_pumps, P (const char *patient_mrn, ), P (patient_mrn, ))

void
thecal_record_session_get_patient_record_async (ThecalRecordSession *self,
                                                const char *mrn,
                                                GCancellable *cancellable,
                                                GAsyncReadyCallback callback,
                                                gpointer user_data)
{
  BEGIN (get_patient_record, THECAL_PERMISSION_HISTORY_READ, mrn)
  thecal_record_get_patient_record_async (self->record, mrn, cancellable, forward_get_patient_record, task);
}
FINISH_AND_SYNC (ThecalPatientRecord *, get_patient_record, P (const char *mrn, ), P (mrn, ))

void
thecal_record_session_list_pump_writes_async (ThecalRecordSession *self,
                                              const char *pump_serial,
                                              GCancellable *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer user_data)
{
  g_return_if_fail (pump_serial != NULL);
  {
    BEGIN (list_pump_writes, THECAL_PERMISSION_HISTORY_READ, pump_serial)
    thecal_record_list_pump_writes_async (self->record, pump_serial, FALSE, cancellable, forward_list_pump_writes, task);
  }
}
FINISH_AND_SYNC (GPtrArray *, list_pump_writes, P (const char *pump_serial, ), P (pump_serial, ))

/* Exports: the data is read first, then the export is audited, and only then handed over. */
typedef struct
{
  GTask *task;
  gpointer data;
  GDestroyNotify data_free;
} Export;

/* Runs on the caller's thread. */
static void
on_export_audited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Export *export = user_data;
  GError *error = NULL;
  g_autoptr (ThecalAuditEntry) entry = thecal_record_append_audit_finish (THECAL_RECORD (source), result, &error);

  if (entry == NULL)
    {
      g_prefix_error (&error, _ ("The export was not made because it could not be recorded in the audit trail: "));
      g_task_return_error (export->task, error);
      export->data_free (export->data);
    }
  else
    g_task_return_pointer (export->task, export->data, export->data_free);
  g_object_unref (export->task);
  g_free (export);
}

static void
audit_export (ThecalRecordSession *self,
              GTask *task,
              gpointer data,
              GDestroyNotify data_free,
              const char *action,
              const char *object_type,
              gint64 object_id,
              gint64 patient_id,
              const char *after)
{
  Export *export = g_new0 (Export, 1);
  ThecalAuditInput input = {
    .action = action,
    .object_type = object_type,
    .object_id = object_id,
    .patient_id = patient_id,
    .after = after,
  };

  export->task = task;
  export->data = data;
  export->data_free = data_free;
  thecal_record_append_audit_async (self->record, self->user, &input, NULL, on_export_audited, export);
}

/* Runs on the caller's thread. */
static void
on_patient_record_for_export (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  ThecalRecordSession *self = g_task_get_source_object (task);
  const char *format = g_task_get_task_data (task);
  GError *error = NULL;
  ThecalPatientRecord *record = thecal_record_get_patient_record_finish (THECAL_RECORD (source), result, &error);
  g_autofree char *after = NULL;

  if (record == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  after = json_object_text ("mrn", record->patient->mrn, "format", format, NULL);
  audit_export (self, task, record, (GDestroyNotify) thecal_patient_record_free, "export", "patient",
                record->patient->id, record->patient->id, after);
}

void
thecal_record_session_export_patient_async (ThecalRecordSession *self,
                                            const char *mrn,
                                            const char *format,
                                            GCancellable *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer user_data)
{
  BEGIN (export_patient, THECAL_PERMISSION_PATIENT_EXPORT, mrn)
  g_task_set_task_data (task, g_strdup (format != NULL ? format : "json"), g_free);
  thecal_record_get_patient_record_async (self->record, mrn, cancellable, on_patient_record_for_export, task);
}
FINISH_AND_SYNC (ThecalPatientRecord *, export_patient, P (const char *mrn, const char *format, ), P (mrn, format, ))

void
thecal_record_session_verify_audit_async (ThecalRecordSession *self,
                                          gint64 anchor_seq,
                                          const guint8 *anchor_hash,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data)
{
  BEGIN (verify_audit, THECAL_PERMISSION_AUDIT_VERIFY, NULL)
  thecal_record_verify_audit_async (self->record, anchor_seq, anchor_hash, cancellable, forward_verify_audit, task);
}
FINISH_AND_SYNC (ThecalAuditVerification *, verify_audit, P (gint64 anchor_seq, const guint8 *anchor_hash, ), P (anchor_seq, anchor_hash, ))

/* Runs on the caller's thread. */
static void
on_audit_for_export (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  ThecalRecordSession *self = g_task_get_source_object (task);
  const char *format = g_task_get_task_data (task);
  GError *error = NULL;
  GPtrArray *entries = thecal_record_list_audit_finish (THECAL_RECORD (source), result, &error);
  g_autofree char *after = NULL;
  gint64 first = 0;
  gint64 last = 0;

  if (entries == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  if (entries->len > 0)
    {
      first = ((ThecalAuditEntry *) entries->pdata[0])->seq;
      last = ((ThecalAuditEntry *) entries->pdata[entries->len - 1])->seq;
    }
  {
    g_autofree char *first_text = g_strdup_printf ("%" G_GINT64_FORMAT, first);
    g_autofree char *last_text = g_strdup_printf ("%" G_GINT64_FORMAT, last);

    after = json_object_text ("format", format, "first_seq", first_text, "last_seq", last_text, NULL);
  }
  audit_export (self, task, entries, (GDestroyNotify) g_ptr_array_unref, "audit.export", "audit", 0, 0, after);
}

void
thecal_record_session_export_audit_async (ThecalRecordSession *self,
                                          gint64 from_seq,
                                          gint64 limit,
                                          const char *format,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data)
{
  BEGIN (export_audit, THECAL_PERMISSION_AUDIT_EXPORT, NULL)
  g_task_set_task_data (task, g_strdup (format != NULL ? format : "json"), g_free);
  thecal_record_list_audit_async (self->record, from_seq, limit, cancellable, on_audit_for_export, task);
}
FINISH_AND_SYNC (GPtrArray *, export_audit, P (gint64 from_seq, gint64 limit, const char *format, ), P (from_seq, limit, format, ))
