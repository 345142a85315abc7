/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-record-clinical.c: prescriptions, programming sessions, refills, pump events, alarms
 * seen, and a patient's whole record.
 *
 * Intent before action (DESIGN.md "Patient record"): a programming session and its PENDING
 * outcome are committed before the first byte goes to the pump; the outcome is resolved later by
 * a row that supersedes it, and a CONFIRMED outcome writes the new prescription version in the
 * same transaction. Nothing here is ever updated or deleted.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

#include "thecal-dose-json.h"
#include "thecal-record-private.h"

#define REASON_MAX_BYTES 1000
#define LOT_MAX_BYTES 64
#define KIND_MAX_BYTES 64
#define DETAIL_MAX_BYTES 4000
#define FIELD_MAX_BYTES 200

/* ---- Rows ----------------------------------------------------------------------------------- */

/* Columns of RX_COLUMNS (thecal-record-db.c). */
static gpointer
prescription_from_row (sqlite3_stmt *stmt)
{
  ThecalRecordedPrescription *rx = g_new0 (ThecalRecordedPrescription, 1);
  g_autofree char *source = _thecal_record_column_text (stmt, 8);

  rx->id = sqlite3_column_int64 (stmt, 0);
  rx->pump_id = sqlite3_column_int64 (stmt, 1);
  rx->pump_serial = _thecal_record_column_text (stmt, 2);
  rx->version = sqlite3_column_int (stmt, 3);
  rx->supersedes = sqlite3_column_int64 (stmt, 4);
  rx->effective_from_utc_ms = sqlite3_column_int64 (stmt, 5);
  rx->effective_to_utc_ms = sqlite3_column_type (stmt, 6) == SQLITE_NULL ? G_MAXINT64 : sqlite3_column_int64 (stmt, 6);
  rx->superseded = sqlite3_column_int (stmt, 7) != 0;
  if (!thecal_prescription_source_from_name (source, &rx->source))
    rx->source = THECAL_RX_SOURCE_ENTERED;
  rx->session_id = sqlite3_column_int64 (stmt, 9);
  rx->json = _thecal_record_column_text (stmt, 10);
  rx->reason = _thecal_record_column_text (stmt, 11);
  rx->recorded_utc_ms = sqlite3_column_int64 (stmt, 12);
  rx->recorded_by = _thecal_record_column_text (stmt, 13);
  return rx;
}

/* Columns of REFILL_COLUMNS (thecal-record-db.c). */
static gpointer
refill_from_row (sqlite3_stmt *stmt)
{
  ThecalRefill *refill = g_new0 (ThecalRefill, 1);

  refill->id = sqlite3_column_int64 (stmt, 0);
  refill->pump_id = sqlite3_column_int64 (stmt, 1);
  refill->pump_serial = _thecal_record_column_text (stmt, 2);
  refill->supersedes = sqlite3_column_int64 (stmt, 3);
  refill->superseded = sqlite3_column_int (stmt, 4) != 0;
  refill->performed_utc_ms = sqlite3_column_int64 (stmt, 5);
  refill->expected_nl = sqlite3_column_int64 (stmt, 6);
  refill->aspirated_nl = sqlite3_column_int64 (stmt, 7);
  refill->discrepancy_nl = sqlite3_column_int64 (stmt, 8);
  refill->discrepancy_flagged = sqlite3_column_int (stmt, 9) != 0;
  refill->added_nl = sqlite3_column_int64 (stmt, 10);
  refill->drug_id = _thecal_record_column_text (stmt, 11);
  refill->concentration_ng_per_ml = sqlite3_column_int64 (stmt, 12);
  refill->lot = _thecal_record_column_text (stmt, 13);
  refill->expiry_date = _thecal_record_column_text (stmt, 14);
  refill->performed_by = _thecal_record_column_text (stmt, 15);
  refill->verified_by = _thecal_record_column_text (stmt, 16);
  refill->reason = _thecal_record_column_text (stmt, 17);
  refill->recorded_utc_ms = sqlite3_column_int64 (stmt, 18);
  return refill;
}

/* Columns of STMT_EVENT_LIST_PATIENT. */
static gpointer
event_from_row (sqlite3_stmt *stmt)
{
  ThecalPumpEvent *event = g_new0 (ThecalPumpEvent, 1);

  event->id = sqlite3_column_int64 (stmt, 0);
  event->sequence = sqlite3_column_int64 (stmt, 1);
  event->pump_time_ms = sqlite3_column_int64 (stmt, 2);
  event->kind = _thecal_record_column_text (stmt, 3);
  event->detail = _thecal_record_column_text (stmt, 4);
  event->imported_utc_ms = sqlite3_column_int64 (stmt, 5);
  event->imported_by = _thecal_record_column_text (stmt, 6);
  return event;
}

/* Columns of ALARM_COLUMNS. */
static gpointer
alarm_from_row (sqlite3_stmt *stmt)
{
  ThecalAlarmSeen *alarm = g_new0 (ThecalAlarmSeen, 1);

  alarm->id = sqlite3_column_int64 (stmt, 0);
  alarm->pump_serial = _thecal_record_column_text (stmt, 1);
  alarm->kind = _thecal_record_column_text (stmt, 2);
  alarm->pump_time_ms = sqlite3_column_type (stmt, 3) == SQLITE_NULL ? G_MININT64 : sqlite3_column_int64 (stmt, 3);
  alarm->seen_utc_ms = sqlite3_column_int64 (stmt, 4);
  alarm->seen_by = _thecal_record_column_text (stmt, 5);
  return alarm;
}

static gpointer
change_from_row (sqlite3_stmt *stmt)
{
  ThecalProgrammingChange *change = g_new0 (ThecalProgrammingChange, 1);

  change->id = sqlite3_column_int64 (stmt, 0);
  change->field = _thecal_record_column_text (stmt, 1);
  change->old_value = _thecal_record_column_text (stmt, 2);
  change->new_value = _thecal_record_column_text (stmt, 3);
  change->override_reason = _thecal_record_column_text (stmt, 4);
  return change;
}

static ThecalRecordedPrescription *
prescription_by_id (ThecalRecordDb *db, gint64 id, GError **error)
{
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_RX_BY_ID, error);
  g_autofree char *missing = g_strdup_printf (_ ("There is no prescription %" G_GINT64_FORMAT " in the record."), id);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  return _thecal_record_one_row (db, stmt, prescription_from_row, missing, error);
}

static ThecalRefill *
refill_by_id (ThecalRecordDb *db, gint64 id, GError **error)
{
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_REFILL_BY_ID, error);
  g_autofree char *missing = g_strdup_printf (_ ("There is no refill %" G_GINT64_FORMAT " in the record."), id);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  return _thecal_record_one_row (db, stmt, refill_from_row, missing, error);
}

/* The id of the row that supersedes @id by @which (0: none, -1: error). */
static gint64
superseded_by (ThecalRecordDb *db, ThecalStmt which, gint64 id, GError **error)
{
  sqlite3_stmt *stmt = _thecal_record_stmt (db, which, error);
  gint64 by = 0;
  int rc;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_int64 (stmt, 1, id);
  rc = _thecal_record_step (db, stmt, error);
  if (rc < 0)
    return -1;
  if (rc == 1)
    {
      by = sqlite3_column_int64 (stmt, 0);
      sqlite3_reset (stmt);
    }
  return by;
}

/* The current outcome of programming session or pump write @id (@statement: STMT_SESSION_OUTCOME
 * or STMT_WRITE_OUTCOME, whose first six columns are id, outcome, note, time, by, count) into the
 * out-parameters. Returns the statement on its row, for further columns; the caller resets it.
 * NULL with *@rc < 0 on an error (@error set), with *@rc == 0 when there is no outcome row. */
static sqlite3_stmt *
current_outcome (ThecalRecordDb *db,
                 ThecalStmt statement,
                 gint64 id,
                 gint64 *outcome_id,
                 ThecalProgrammingOutcome *outcome,
                 char **note,
                 gint64 *utc_ms,
                 char **by,
                 gint *n_outcomes,
                 int *rc,
                 GError **error)
{
  sqlite3_stmt *stmt = _thecal_record_stmt (db, statement, error);
  g_autofree char *name = NULL;

  *rc = -1;
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  *rc = _thecal_record_step (db, stmt, error);
  if (*rc <= 0)
    return NULL;
  *outcome_id = sqlite3_column_int64 (stmt, 0);
  name = _thecal_record_column_text (stmt, 1);
  if (!thecal_programming_outcome_from_name (name, outcome))
    *outcome = THECAL_OUTCOME_UNCERTAIN; /* unreachable (CHECK); the safe reading */
  *note = _thecal_record_column_text (stmt, 2);
  *utc_ms = sqlite3_column_int64 (stmt, 3);
  *by = _thecal_record_column_text (stmt, 4);
  *n_outcomes = sqlite3_column_int (stmt, 5);
  return stmt;
}

static ThecalProgrammingSession *
session_by_id (ThecalRecordDb *db, gint64 id, GError **error)
{
  g_autoptr (ThecalProgrammingSession) session = NULL;
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_SESSION_BY_ID, error);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  rc = _thecal_record_step (db, stmt, error);
  if (rc < 0)
    return NULL;
  if (rc == 0)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_NOT_FOUND,
                   _ ("There is no programming session %" G_GINT64_FORMAT " in the record."), id);
      return NULL;
    }
  session = g_new0 (ThecalProgrammingSession, 1);
  session->id = sqlite3_column_int64 (stmt, 0);
  session->pump_id = sqlite3_column_int64 (stmt, 1);
  session->pump_serial = _thecal_record_column_text (stmt, 2);
  session->started_utc_ms = sqlite3_column_int64 (stmt, 3);
  session->started_by = _thecal_record_column_text (stmt, 4);
  session->reason = _thecal_record_column_text (stmt, 5);
  session->old_prescription_id = sqlite3_column_int64 (stmt, 6);
  session->new_prescription_json = _thecal_record_column_text (stmt, 7);
  sqlite3_reset (stmt);

  stmt = _thecal_record_stmt (db, STMT_SESSION_CHANGES, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  session->changes = _thecal_record_all_rows (db, stmt, change_from_row, (GDestroyNotify) thecal_programming_change_free, error);
  if (session->changes == NULL)
    return NULL;

  stmt = current_outcome (db, STMT_SESSION_OUTCOME, id, &session->outcome_id, &session->outcome, &session->outcome_note,
                          &session->outcome_utc_ms, &session->outcome_by, &session->n_outcomes, &rc, error);
  if (stmt == NULL && rc == 0)
    g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_CORRUPT,
                 _ ("Programming session %" G_GINT64_FORMAT " has no outcome: the record is damaged."), id);
  if (stmt == NULL)
    return NULL;
  sqlite3_reset (stmt);

  session->prescription_id = superseded_by (db, STMT_SESSION_PRESCRIPTION, id, error);
  if (session->prescription_id < 0)
    return NULL;
  return g_steal_pointer (&session);
}

/* ---- Prescriptions -------------------------------------------------------------------------- */

static char *
prescription_json (const ThecalRecordedPrescription *rx)
{
  cJSON *object = cJSON_CreateObject ();

  _thecal_record_json_text (object, "pump", rx->pump_serial);
  _thecal_record_json_int (object, "version", rx->version);
  if (rx->supersedes != 0)
    _thecal_record_json_int (object, "supersedes", rx->supersedes);
  _thecal_record_json_int (object, "effective_from_utc_ms", rx->effective_from_utc_ms);
  _thecal_record_json_text (object, "source", thecal_prescription_source_name (rx->source));
  if (rx->session_id != 0)
    _thecal_record_json_int (object, "session", rx->session_id);
  cJSON_AddItemToObject (object, "prescription", cJSON_CreateRaw (rx->json));
  return _thecal_record_json_print (object);
}

static ThecalRecordedPrescription *
insert_prescription (ThecalRecordDb *db,
                     const ThecalUser *actor,
                     const ThecalPump *pump,
                     const char *json,
                     gint64 effective_from_utc_ms,
                     ThecalPrescriptionSource source,
                     gint64 session_id,
                     gint64 supersedes,
                     const char *reason,
                     GError **error)
{
  g_autoptr (ThecalRecordedPrescription) rx = NULL;
  g_autofree char *after = NULL;
  sqlite3_stmt *stmt;
  gint64 version;
  int rc;

  if (supersedes != 0)
    {
      g_autoptr (ThecalRecordedPrescription) old = prescription_by_id (db, supersedes, error);
      gint64 by;

      if (old == NULL)
        return NULL;
      if (old->pump_id != pump->id)
        {
          g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                       _ ("Prescription %" G_GINT64_FORMAT " belongs to pump %s, not to pump %s."), supersedes,
                       old->pump_serial, pump->serial);
          return NULL;
        }
      by = superseded_by (db, STMT_RX_IS_SUPERSEDED, supersedes, error);
      if (by < 0)
        return NULL;
      if (by > 0)
        {
          g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_STATE,
                       _ ("Prescription version %d of pump %s was already corrected: correct the correction instead."),
                       old->version, pump->serial);
          return NULL;
        }
      if (!_thecal_record_check_text (_ ("reason for the correction"), reason, REASON_MAX_BYTES, TRUE, error))
        return NULL;
    }
  stmt = _thecal_record_stmt (db, STMT_RX_NEXT_VERSION, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, pump->id);
  rc = _thecal_record_step (db, stmt, error);
  if (rc < 0)
    return NULL;
  g_assert (rc == 1); /* an aggregate always returns its row */
  version = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);

  stmt = _thecal_record_stmt (db, STMT_RX_INSERT, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, pump->id);
  sqlite3_bind_int64 (stmt, 2, version);
  _thecal_record_bind_id (stmt, 3, supersedes);
  sqlite3_bind_int64 (stmt, 4, effective_from_utc_ms);
  sqlite3_bind_text (stmt, 5, thecal_prescription_source_name (source), -1, SQLITE_STATIC);
  _thecal_record_bind_id (stmt, 6, session_id);
  sqlite3_bind_text (stmt, 7, json, -1, SQLITE_TRANSIENT);
  _thecal_record_bind_text (stmt, 8, reason != NULL && reason[0] != '\0' ? reason : NULL);
  sqlite3_bind_int64 (stmt, 9, _thecal_record_now_utc_ms ());
  sqlite3_bind_int64 (stmt, 10, actor->id);
  if (!_thecal_record_step_done (db, stmt, error))
    return NULL;
  rx = prescription_by_id (db, sqlite3_last_insert_rowid (db->db), error);
  if (rx == NULL)
    return NULL;
  after = prescription_json (rx);
  if (!_thecal_record_audit_change (db, actor, supersedes != 0 ? "prescription.correct" : "prescription.create",
                                    "prescription", rx->id, pump->patient_id, NULL, after, reason, error))
    return NULL;
  return g_steal_pointer (&rx);
}

typedef struct
{
  ThecalUser *actor;
  char *serial;
  char *json;
  char *json_error; /* the prescription did not validate (set on the caller's thread) */
  gint64 effective_from_utc_ms;
  ThecalPrescriptionSource source;
  gint64 supersedes;
  char *reason;
} PrescriptionData;

static void
prescription_data_free (gpointer user_data)
{
  PrescriptionData *data = user_data;

  g_clear_pointer (&data->actor, thecal_user_free);
  g_free (data->serial);
  g_free (data->json);
  g_free (data->json_error);
  g_free (data->reason);
  g_free (data);
}

/* Canonical JSON of @rx (on the caller's thread: the dose core is pure), or why it is refused. */
static void
serialize_prescription (const ThecalPrescription *rx, char **json, char **json_error)
{
  ThecalDoseError dose_error = { 0 };
  char *text;

  if (rx == NULL)
    {
      *json_error = g_strdup (_ ("The prescription is missing."));
      return;
    }
  if (!thecal_prescription_validate (rx, &dose_error))
    {
      *json_error = g_strdup_printf (_ ("The prescription is not valid: %s%s%s"), dose_error.field,
                                     dose_error.field[0] != '\0' ? ": " : "", dose_error.message);
      return;
    }
  text = thecal_prescription_to_json (rx);
  if (text == NULL)
    {
      *json_error = g_strdup (_ ("Out of memory: the prescription cannot be written."));
      return;
    }
  *json = g_strdup (text);
  free (text);
}

static gpointer
op_add_prescription (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  PrescriptionData *data = user_data;
  g_autoptr (ThecalPump) pump = NULL;

  if (data->json_error != NULL)
    {
      g_set_error_literal (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID, data->json_error);
      return NULL;
    }
  if (data->source == THECAL_RX_SOURCE_PROGRAMMED)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                   _ ("A programmed prescription is recorded by its programming session when it is confirmed."));
      return NULL;
    }
  if (data->source != THECAL_RX_SOURCE_INTERROGATED && data->source != THECAL_RX_SOURCE_ENTERED)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID, _ ("The prescription's source is not valid."));
      return NULL;
    }
  pump = _thecal_record_pump_by_serial (db, data->serial != NULL ? data->serial : "", FALSE, error);
  if (pump == NULL)
    return NULL;
  return insert_prescription (db, data->actor, pump, data->json, data->effective_from_utc_ms, data->source, 0,
                              data->supersedes, data->reason, error);
}

void
thecal_record_add_prescription_async (ThecalRecord *self,
                                      const ThecalUser *actor,
                                      const char *pump_serial,
                                      const ThecalPrescription *rx,
                                      gint64 effective_from_utc_ms,
                                      ThecalPrescriptionSource source,
                                      gint64 supersedes,
                                      const char *reason,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  PrescriptionData *data;

  g_return_if_fail (THECAL_IS_RECORD (self));
  g_return_if_fail (actor != NULL);

  data = g_new0 (PrescriptionData, 1);
  data->actor = thecal_user_copy (actor);
  data->serial = g_strdup (pump_serial);
  serialize_prescription (rx, &data->json, &data->json_error);
  data->effective_from_utc_ms = effective_from_utc_ms;
  data->source = source;
  data->supersedes = supersedes;
  data->reason = g_strdup (reason);
  _thecal_record_submit (self, op_add_prescription, data, prescription_data_free,
                         (GDestroyNotify) thecal_recorded_prescription_free, THECAL_TXN_WRITE,
                         thecal_record_add_prescription_async, cancellable, callback, user_data);
}

ThecalRecordedPrescription *
thecal_record_add_prescription_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_add_prescription_async, error);
}

static gpointer
op_list_prescriptions (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  PrescriptionData *data = user_data;
  g_autoptr (ThecalPump) pump = _thecal_record_pump_by_serial (db, data->serial != NULL ? data->serial : "", FALSE, error);
  sqlite3_stmt *stmt;

  if (pump == NULL)
    return NULL;
  stmt = _thecal_record_stmt (db, STMT_RX_LIST_PUMP, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, pump->id);
  return _thecal_record_all_rows (db, stmt, prescription_from_row, (GDestroyNotify) thecal_recorded_prescription_free,
                                  error);
}

void
thecal_record_list_prescriptions_async (ThecalRecord *self,
                                        const char *pump_serial,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  PrescriptionData *data;

  g_return_if_fail (THECAL_IS_RECORD (self));

  data = g_new0 (PrescriptionData, 1);
  data->serial = g_strdup (pump_serial);
  _thecal_record_submit (self, op_list_prescriptions, data, prescription_data_free, (GDestroyNotify) g_ptr_array_unref,
                         THECAL_TXN_READ, thecal_record_list_prescriptions_async, cancellable, callback, user_data);
}

GPtrArray *
thecal_record_list_prescriptions_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_list_prescriptions_async, error);
}

/* ---- Programming sessions ------------------------------------------------------------------- */

typedef struct
{
  char *field;
  char *old_value;
  char *new_value;
  char *override_reason;
} ChangeCopy;

typedef struct
{
  ThecalUser *actor;
  char *serial;
  gint64 old_prescription_id;
  char *json;
  char *json_error;
  char *reason;
  GArray *changes; /* ChangeCopy */
  gint64 session_id;
  ThecalProgrammingOutcome outcome;
  char *note;
  gint64 effective_from_utc_ms;
} ProgrammingData;

static void
change_copy_clear (gpointer user_data)
{
  ChangeCopy *change = user_data;

  g_free (change->field);
  g_free (change->old_value);
  g_free (change->new_value);
  g_free (change->override_reason);
}

static void
programming_data_free (gpointer user_data)
{
  ProgrammingData *data = user_data;

  g_clear_pointer (&data->actor, thecal_user_free);
  g_free (data->serial);
  g_free (data->json);
  g_free (data->json_error);
  g_free (data->reason);
  g_clear_pointer (&data->changes, g_array_unref);
  g_free (data->note);
  g_free (data);
}

static char *
session_json (const ThecalProgrammingSession *session)
{
  cJSON *object = cJSON_CreateObject ();
  cJSON *changes = cJSON_AddArrayToObject (object, "changes");

  _thecal_record_json_text (object, "pump", session->pump_serial);
  if (session->old_prescription_id != 0)
    _thecal_record_json_int (object, "old_prescription", session->old_prescription_id);
  cJSON_AddItemToObject (object, "new_prescription", cJSON_CreateRaw (session->new_prescription_json));
  for (guint i = 0; i < session->changes->len; i++)
    {
      const ThecalProgrammingChange *change = session->changes->pdata[i];
      cJSON *item = cJSON_CreateObject ();

      _thecal_record_json_text (item, "field", change->field);
      _thecal_record_json_text (item, "old", change->old_value);
      _thecal_record_json_text (item, "new", change->new_value);
      if (change->override_reason != NULL)
        _thecal_record_json_text (item, "override_reason", change->override_reason);
      cJSON_AddItemToArray (changes, item);
    }
  _thecal_record_json_text (object, "outcome", thecal_programming_outcome_name (session->outcome));
  return _thecal_record_json_print (object);
}

static gboolean
insert_outcome (ThecalRecordDb *db,
                const ThecalUser *actor,
                gint64 session_id,
                gint64 supersedes,
                ThecalProgrammingOutcome outcome,
                const char *note,
                GError **error)
{
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_OUTCOME_INSERT, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, session_id);
  _thecal_record_bind_id (stmt, 2, supersedes);
  sqlite3_bind_text (stmt, 3, thecal_programming_outcome_name (outcome), -1, SQLITE_STATIC);
  _thecal_record_bind_text (stmt, 4, note != NULL && note[0] != '\0' ? note : NULL);
  sqlite3_bind_int64 (stmt, 5, _thecal_record_now_utc_ms ());
  sqlite3_bind_int64 (stmt, 6, actor->id);
  return _thecal_record_step_done (db, stmt, error);
}

static gpointer
op_begin_programming (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  ProgrammingData *data = user_data;
  g_autoptr (ThecalPump) pump = NULL;
  g_autoptr (ThecalProgrammingSession) session = NULL;
  g_autofree char *after = NULL;
  sqlite3_stmt *stmt;
  gint64 session_id;

  if (data->json_error != NULL)
    {
      g_set_error_literal (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID, data->json_error);
      return NULL;
    }
  if (!_thecal_record_check_text (_ ("reason for the change"), data->reason, REASON_MAX_BYTES, TRUE, error))
    return NULL;
  pump = _thecal_record_pump_by_serial (db, data->serial != NULL ? data->serial : "", FALSE, error);
  if (pump == NULL)
    return NULL;
  if (pump->status != THECAL_PUMP_IMPLANTED)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_STATE,
                   _ ("Pump %s is recorded as explanted: it cannot be programmed."), pump->serial);
      return NULL;
    }
  if (data->old_prescription_id != 0)
    {
      g_autoptr (ThecalRecordedPrescription) old = prescription_by_id (db, data->old_prescription_id, error);

      if (old == NULL)
        return NULL;
      if (old->pump_id != pump->id)
        {
          g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                       _ ("Prescription %" G_GINT64_FORMAT " belongs to pump %s, not to pump %s."),
                       data->old_prescription_id, old->pump_serial, pump->serial);
          return NULL;
        }
    }
  for (guint i = 0; i < data->changes->len; i++)
    {
      const ChangeCopy *change = &g_array_index (data->changes, ChangeCopy, i);

      if (!_thecal_record_check_text (_ ("changed field"), change->field, FIELD_MAX_BYTES, TRUE, error)
          || !_thecal_record_check_text (_ ("old value"), change->old_value, FIELD_MAX_BYTES, FALSE, error)
          || !_thecal_record_check_text (_ ("new value"), change->new_value, FIELD_MAX_BYTES, FALSE, error)
          || (change->override_reason != NULL
              && !_thecal_record_check_text (_ ("override reason"), change->override_reason, REASON_MAX_BYTES, TRUE, error)))
        return NULL;
    }

  stmt = _thecal_record_stmt (db, STMT_SESSION_INSERT, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, pump->id);
  sqlite3_bind_int64 (stmt, 2, _thecal_record_now_utc_ms ());
  sqlite3_bind_int64 (stmt, 3, data->actor->id);
  sqlite3_bind_text (stmt, 4, data->reason, -1, SQLITE_TRANSIENT);
  _thecal_record_bind_id (stmt, 5, data->old_prescription_id);
  sqlite3_bind_text (stmt, 6, data->json, -1, SQLITE_TRANSIENT);
  if (!_thecal_record_step_done (db, stmt, error))
    return NULL;
  session_id = sqlite3_last_insert_rowid (db->db);
  for (guint i = 0; i < data->changes->len; i++)
    {
      const ChangeCopy *change = &g_array_index (data->changes, ChangeCopy, i);

      stmt = _thecal_record_stmt (db, STMT_CHANGE_INSERT, error);
      if (stmt == NULL)
        return NULL;
      sqlite3_bind_int64 (stmt, 1, session_id);
      sqlite3_bind_text (stmt, 2, change->field, -1, SQLITE_TRANSIENT);
      _thecal_record_bind_text (stmt, 3, change->old_value);
      _thecal_record_bind_text (stmt, 4, change->new_value);
      _thecal_record_bind_text (stmt, 5, change->override_reason);
      if (!_thecal_record_step_done (db, stmt, error))
        return NULL;
    }
  if (!insert_outcome (db, data->actor, session_id, 0, THECAL_OUTCOME_PENDING, NULL, error))
    return NULL;
  session = session_by_id (db, session_id, error);
  if (session == NULL)
    return NULL;
  after = session_json (session);
  if (!_thecal_record_audit_change (db, data->actor, "programming.begin", "programming_session", session_id,
                                    pump->patient_id, NULL, after, data->reason, error))
    return NULL;
  for (guint i = 0; i < session->changes->len; i++)
    {
      const ThecalProgrammingChange *change = session->changes->pdata[i];
      g_autofree char *what = NULL;
      cJSON *object;

      if (change->override_reason == NULL)
        continue;
      object = cJSON_CreateObject ();
      _thecal_record_json_int (object, "session", session_id);
      _thecal_record_json_text (object, "field", change->field);
      _thecal_record_json_text (object, "old", change->old_value);
      _thecal_record_json_text (object, "new", change->new_value);
      what = _thecal_record_json_print (object);
      if (!_thecal_record_audit_change (db, data->actor, "override", "programming_change", change->id,
                                        pump->patient_id, NULL, what, change->override_reason, error))
        return NULL;
    }
  return g_steal_pointer (&session);
}

void
thecal_record_begin_programming_async (ThecalRecord *self,
                                       const ThecalUser *actor,
                                       const ThecalProgrammingInput *input,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data)
{
  ProgrammingData *data;

  g_return_if_fail (THECAL_IS_RECORD (self));
  g_return_if_fail (actor != NULL && input != NULL);
  g_return_if_fail (input->n_changes == 0 || input->changes != NULL);

  data = g_new0 (ProgrammingData, 1);
  data->actor = thecal_user_copy (actor);
  data->serial = g_strdup (input->pump_serial);
  data->old_prescription_id = input->old_prescription_id;
  serialize_prescription (input->new_rx, &data->json, &data->json_error);
  data->reason = g_strdup (input->reason);
  data->changes = g_array_sized_new (FALSE, TRUE, sizeof (ChangeCopy), input->n_changes);
  g_array_set_clear_func (data->changes, change_copy_clear);
  for (guint i = 0; i < input->n_changes; i++)
    {
      ChangeCopy copy = {
        .field = g_strdup (input->changes[i].field),
        .old_value = g_strdup (input->changes[i].old_value),
        .new_value = g_strdup (input->changes[i].new_value),
        .override_reason = g_strdup (input->changes[i].override_reason),
      };

      g_array_append_val (data->changes, copy);
    }
  _thecal_record_submit (self, op_begin_programming, data, programming_data_free,
                         (GDestroyNotify) thecal_programming_session_free, THECAL_TXN_WRITE,
                         thecal_record_begin_programming_async, cancellable, callback, user_data);
}

ThecalProgrammingSession *
thecal_record_begin_programming_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_begin_programming_async, error);
}

static gpointer
op_resolve_programming (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  ProgrammingData *data = user_data;
  g_autoptr (ThecalProgrammingSession) session = NULL;
  g_autoptr (ThecalProgrammingSession) resolved = NULL;
  g_autoptr (ThecalPump) pump = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  cJSON *object;

  if (data->outcome != THECAL_OUTCOME_CONFIRMED && data->outcome != THECAL_OUTCOME_FAILED
      && data->outcome != THECAL_OUTCOME_UNCERTAIN)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                   _ ("A programming session is resolved as confirmed, failed or uncertain."));
      return NULL;
    }
  if (!_thecal_record_check_text (_ ("note"), data->note, REASON_MAX_BYTES, FALSE, error))
    return NULL;
  session = session_by_id (db, data->session_id, error);
  if (session == NULL)
    return NULL;
  if (session->outcome == THECAL_OUTCOME_CONFIRMED || session->outcome == THECAL_OUTCOME_FAILED)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_STATE,
                   _ ("Programming session %" G_GINT64_FORMAT " is already %s: its outcome is final."), session->id,
                   thecal_programming_outcome_name (session->outcome));
      return NULL;
    }
  if (!insert_outcome (db, data->actor, session->id, session->outcome_id, data->outcome, data->note, error))
    return NULL;
  pump = _thecal_record_pump_by_serial (db, session->pump_serial, FALSE, error);
  if (pump == NULL)
    return NULL;
  if (data->outcome == THECAL_OUTCOME_CONFIRMED)
    {
      g_autoptr (ThecalRecordedPrescription) rx = insert_prescription (db, data->actor, pump,
                                                                       session->new_prescription_json,
                                                                       data->effective_from_utc_ms,
                                                                       THECAL_RX_SOURCE_PROGRAMMED, session->id, 0,
                                                                       NULL, error);

      if (rx == NULL)
        return NULL;
    }
  resolved = session_by_id (db, session->id, error);
  if (resolved == NULL)
    return NULL;
  object = cJSON_CreateObject ();
  _thecal_record_json_text (object, "outcome", thecal_programming_outcome_name (session->outcome));
  before = _thecal_record_json_print (object);
  object = cJSON_CreateObject ();
  _thecal_record_json_text (object, "outcome", thecal_programming_outcome_name (resolved->outcome));
  if (resolved->prescription_id != 0)
    _thecal_record_json_int (object, "prescription", resolved->prescription_id);
  after = _thecal_record_json_print (object);
  if (!_thecal_record_audit_change (db, data->actor, "programming.resolve", "programming_session", session->id,
                                    pump->patient_id, before, after, data->note, error))
    return NULL;
  return g_steal_pointer (&resolved);
}

void
thecal_record_resolve_programming_async (ThecalRecord *self,
                                         const ThecalUser *actor,
                                         gint64 session_id,
                                         ThecalProgrammingOutcome outcome,
                                         const char *note,
                                         gint64 effective_from_utc_ms,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  ProgrammingData *data;

  g_return_if_fail (THECAL_IS_RECORD (self));
  g_return_if_fail (actor != NULL);

  data = g_new0 (ProgrammingData, 1);
  data->actor = thecal_user_copy (actor);
  data->session_id = session_id;
  data->outcome = outcome;
  data->note = g_strdup (note);
  data->effective_from_utc_ms = effective_from_utc_ms;
  _thecal_record_submit (self, op_resolve_programming, data, programming_data_free,
                         (GDestroyNotify) thecal_programming_session_free, THECAL_TXN_WRITE,
                         thecal_record_resolve_programming_async, cancellable, callback, user_data);
}

ThecalProgrammingSession *
thecal_record_resolve_programming_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_resolve_programming_async, error);
}

static gpointer
op_get_programming_session (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  ProgrammingData *data = user_data;

  return session_by_id (db, data->session_id, error);
}

void
thecal_record_get_programming_session_async (ThecalRecord *self,
                                             gint64 session_id,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data)
{
  ProgrammingData *data;

  g_return_if_fail (THECAL_IS_RECORD (self));

  data = g_new0 (ProgrammingData, 1);
  data->session_id = session_id;
  _thecal_record_submit (self, op_get_programming_session, data, programming_data_free,
                         (GDestroyNotify) thecal_programming_session_free, THECAL_TXN_READ,
                         thecal_record_get_programming_session_async, cancellable, callback, user_data);
}

ThecalProgrammingSession *
thecal_record_get_programming_session_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_get_programming_session_async, error);
}

/* Sessions by the ids @stmt returns (first column). */
static GPtrArray *
sessions_of (ThecalRecordDb *db, sqlite3_stmt *stmt, GError **error)
{
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GPtrArray) sessions = g_ptr_array_new_with_free_func ((GDestroyNotify) thecal_programming_session_free);
  int rc;

  while ((rc = _thecal_record_step (db, stmt, error)) == 1)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (ids, id);
    }
  if (rc < 0)
    return NULL;
  for (guint i = 0; i < ids->len; i++)
    {
      ThecalProgrammingSession *session = session_by_id (db, g_array_index (ids, gint64, i), error);

      if (session == NULL)
        return NULL;
      g_ptr_array_add (sessions, session);
    }
  return g_steal_pointer (&sessions);
}

static gpointer
op_list_unresolved_sessions (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_SESSION_UNRESOLVED, error);

  (void) user_data;
  if (stmt == NULL)
    return NULL;
  return sessions_of (db, stmt, error);
}

void
thecal_record_list_unresolved_sessions_async (ThecalRecord *self,
                                              GCancellable *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer user_data)
{
  g_return_if_fail (THECAL_IS_RECORD (self));

  _thecal_record_submit (self, op_list_unresolved_sessions, NULL, NULL, (GDestroyNotify) g_ptr_array_unref,
                         THECAL_TXN_READ, thecal_record_list_unresolved_sessions_async, cancellable, callback,
                         user_data);
}

GPtrArray *
thecal_record_list_unresolved_sessions_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_list_unresolved_sessions_async, error);
}

/* ---- Refills -------------------------------------------------------------------------------- */

typedef struct
{
  ThecalUser *actor;
  char *serial;
  gint64 performed_utc_ms;
  gint64 expected_nl;
  gint64 aspirated_nl;
  gboolean discrepancy_flagged;
  gint64 added_nl;
  char *drug_id;
  gint64 concentration_ng_per_ml;
  char *lot;
  char *expiry_date;
  char *verified_by;
  gint64 supersedes;
  char *reason;
  gint64 refill_id;
  gint64 performer_id; /* who performed it, when not @actor (a refill write settled later) */
} RefillData;

static void
refill_data_free (gpointer user_data)
{
  RefillData *data = user_data;

  g_clear_pointer (&data->actor, thecal_user_free);
  g_free (data->serial);
  g_free (data->drug_id);
  g_free (data->lot);
  g_free (data->expiry_date);
  g_free (data->verified_by);
  g_free (data->reason);
  g_free (data);
}

static char *
refill_json (const ThecalRefill *refill)
{
  cJSON *object = cJSON_CreateObject ();

  _thecal_record_json_text (object, "pump", refill->pump_serial);
  if (refill->supersedes != 0)
    _thecal_record_json_int (object, "supersedes", refill->supersedes);
  _thecal_record_json_int (object, "performed_utc_ms", refill->performed_utc_ms);
  _thecal_record_json_int (object, "expected_nl", refill->expected_nl);
  _thecal_record_json_int (object, "aspirated_nl", refill->aspirated_nl);
  _thecal_record_json_int (object, "discrepancy_nl", refill->discrepancy_nl);
  _thecal_record_json_bool (object, "discrepancy_flagged", refill->discrepancy_flagged);
  _thecal_record_json_int (object, "added_nl", refill->added_nl);
  _thecal_record_json_text (object, "drug", refill->drug_id);
  _thecal_record_json_int (object, "concentration_ng_per_ml", refill->concentration_ng_per_ml);
  _thecal_record_json_text (object, "lot", refill->lot);
  _thecal_record_json_text (object, "expiry_date", refill->expiry_date);
  _thecal_record_json_text (object, "performed_by", refill->performed_by);
  _thecal_record_json_text (object, "verified_by", refill->verified_by);
  return _thecal_record_json_print (object);
}

/* Checks the refill of @data and inserts it with its audit entry, in the current write
 * transaction (a refill added by hand, or the one a confirmed refill write records). */
static ThecalRefill *
insert_refill (ThecalRecordDb *db, RefillData *data, GError **error)
{
  g_autoptr (ThecalPump) pump = NULL;
  g_autoptr (ThecalUser) verifier = NULL;
  g_autoptr (ThecalRefill) refill = NULL;
  g_autofree char *after = NULL;
  sqlite3_stmt *stmt;
  gint64 discrepancy_nl;

  pump = _thecal_record_pump_by_serial (db, data->serial != NULL ? data->serial : "", FALSE, error);
  if (pump == NULL)
    return NULL;
  if (data->aspirated_nl < 0 || data->added_nl < 0 || data->concentration_ng_per_ml <= 0)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                   _ ("The refill's volumes cannot be negative and its concentration must be above 0."));
      return NULL;
    }
  if (__builtin_sub_overflow (data->expected_nl, data->aspirated_nl, &discrepancy_nl))
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                   _ ("The refill's expected and aspirated volumes are out of range."));
      return NULL;
    }
  if (!_thecal_record_check_code (_ ("drug"), data->drug_id, error)
      || !_thecal_record_check_text (_ ("lot number"), data->lot, LOT_MAX_BYTES, TRUE, error)
      || !_thecal_record_check_date (_ ("expiry date"), data->expiry_date, FALSE, error))
    return NULL;
  verifier = _thecal_record_user_by_name (db, data->verified_by != NULL ? data->verified_by : "", error);
  if (verifier == NULL)
    return NULL;
  if (verifier->id == (data->performer_id != 0 ? data->performer_id : data->actor->id))
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                   _ ("A refill is verified by a second person, not by %s who performed it."), verifier->name);
      return NULL;
    }
  if (data->supersedes != 0)
    {
      g_autoptr (ThecalRefill) old = refill_by_id (db, data->supersedes, error);
      gint64 by;

      if (old == NULL)
        return NULL;
      if (old->pump_id != pump->id)
        {
          g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                       _ ("Refill %" G_GINT64_FORMAT " belongs to pump %s, not to pump %s."), old->id, old->pump_serial,
                       pump->serial);
          return NULL;
        }
      by = superseded_by (db, STMT_REFILL_IS_SUPERSEDED, old->id, error);
      if (by < 0)
        return NULL;
      if (by > 0)
        {
          g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_STATE,
                       _ ("Refill %" G_GINT64_FORMAT " was already corrected by refill %" G_GINT64_FORMAT
                          ": correct that one instead."),
                       old->id, by);
          return NULL;
        }
      if (!_thecal_record_check_text (_ ("reason for the correction"), data->reason, REASON_MAX_BYTES, TRUE, error))
        return NULL;
    }

  stmt = _thecal_record_stmt (db, STMT_REFILL_INSERT, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, pump->id);
  _thecal_record_bind_id (stmt, 2, data->supersedes);
  sqlite3_bind_int64 (stmt, 3, data->performed_utc_ms);
  sqlite3_bind_int64 (stmt, 4, data->expected_nl);
  sqlite3_bind_int64 (stmt, 5, data->aspirated_nl);
  sqlite3_bind_int64 (stmt, 6, discrepancy_nl);
  sqlite3_bind_int (stmt, 7, data->discrepancy_flagged ? 1 : 0);
  sqlite3_bind_int64 (stmt, 8, data->added_nl);
  sqlite3_bind_text (stmt, 9, data->drug_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 10, data->concentration_ng_per_ml);
  sqlite3_bind_text (stmt, 11, data->lot, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 12, data->expiry_date, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 13, data->performer_id != 0 ? data->performer_id : data->actor->id);
  sqlite3_bind_int64 (stmt, 14, verifier->id);
  _thecal_record_bind_text (stmt, 15, data->supersedes != 0 ? data->reason : NULL);
  sqlite3_bind_int64 (stmt, 16, _thecal_record_now_utc_ms ());
  if (!_thecal_record_step_done (db, stmt, error))
    return NULL;
  refill = refill_by_id (db, sqlite3_last_insert_rowid (db->db), error);
  if (refill == NULL)
    return NULL;
  after = refill_json (refill);
  if (!_thecal_record_audit_change (db, data->actor, data->supersedes != 0 ? "refill.correct" : "refill.create",
                                    "refill", refill->id, pump->patient_id, NULL, after,
                                    data->supersedes != 0 ? data->reason : NULL, error))
    return NULL;
  return g_steal_pointer (&refill);
}

static gpointer
op_add_refill (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  return insert_refill (db, user_data, error);
}

/* A copy of @input for the record's thread. */
static RefillData *
refill_data_new (const ThecalUser *actor, const ThecalRefillInput *input)
{
  RefillData *data = g_new0 (RefillData, 1);

  data->actor = thecal_user_copy (actor);
  data->serial = g_strdup (input->pump_serial);
  data->performed_utc_ms = input->performed_utc_ms;
  data->expected_nl = input->expected_nl;
  data->aspirated_nl = input->aspirated_nl;
  data->discrepancy_flagged = input->discrepancy_flagged;
  data->added_nl = input->added_nl;
  data->drug_id = g_strdup (input->drug_id);
  data->concentration_ng_per_ml = input->concentration_ng_per_ml;
  data->lot = g_strdup (input->lot);
  data->expiry_date = g_strdup (input->expiry_date);
  data->verified_by = g_strdup (input->verified_by);
  data->supersedes = input->supersedes;
  data->reason = g_strdup (input->reason);
  return data;
}

void
thecal_record_add_refill_async (ThecalRecord *self,
                                const ThecalUser *actor,
                                const ThecalRefillInput *input,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  RefillData *data;

  g_return_if_fail (THECAL_IS_RECORD (self));
  g_return_if_fail (actor != NULL && input != NULL);

  data = refill_data_new (actor, input);
  _thecal_record_submit (self, op_add_refill, data, refill_data_free, (GDestroyNotify) thecal_refill_free,
                         THECAL_TXN_WRITE, thecal_record_add_refill_async, cancellable, callback, user_data);
}

ThecalRefill *
thecal_record_add_refill_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_add_refill_async, error);
}

static gpointer
op_get_refill (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  RefillData *data = user_data;

  return refill_by_id (db, data->refill_id, error);
}

void
thecal_record_get_refill_async (ThecalRecord *self,
                                gint64 refill_id,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  RefillData *data;

  g_return_if_fail (THECAL_IS_RECORD (self));

  data = g_new0 (RefillData, 1);
  data->refill_id = refill_id;
  _thecal_record_submit (self, op_get_refill, data, refill_data_free, (GDestroyNotify) thecal_refill_free,
                         THECAL_TXN_READ, thecal_record_get_refill_async, cancellable, callback, user_data);
}

ThecalRefill *
thecal_record_get_refill_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_get_refill_async, error);
}

/* ---- Pump writes: refills and boluses ------------------------------------------------------ */

#define REQUEST_MAX_BYTES 8000

typedef struct
{
  ThecalUser *actor;
  char *serial;
  ThecalPumpWriteKind kind;
  char *reason;
  char *request_json;
  gint64 write_id;
  ThecalProgrammingOutcome outcome;
  char *note;
  RefillData *refill; /* a refill confirmed: its row */
  gboolean unresolved_only;
} WriteData;

static void
write_data_free (gpointer user_data)
{
  WriteData *data = user_data;

  g_clear_pointer (&data->actor, thecal_user_free);
  g_free (data->serial);
  g_free (data->reason);
  g_free (data->request_json);
  g_free (data->note);
  g_clear_pointer (&data->refill, refill_data_free);
  g_free (data);
}

static ThecalPumpWrite *
write_by_id (ThecalRecordDb *db, gint64 id, GError **error)
{
  g_autoptr (ThecalPumpWrite) write = NULL;
  g_autofree char *kind = NULL;
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_WRITE_BY_ID, error);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  rc = _thecal_record_step (db, stmt, error);
  if (rc < 0)
    return NULL;
  if (rc == 0)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_NOT_FOUND,
                   _ ("There is no pump write %" G_GINT64_FORMAT " in the record."), id);
      return NULL;
    }
  write = g_new0 (ThecalPumpWrite, 1);
  write->id = sqlite3_column_int64 (stmt, 0);
  write->pump_id = sqlite3_column_int64 (stmt, 1);
  write->pump_serial = _thecal_record_column_text (stmt, 2);
  kind = _thecal_record_column_text (stmt, 3);
  if (!thecal_pump_write_kind_from_name (kind, &write->kind))
    write->kind = THECAL_PUMP_WRITE_REFILL; /* unreachable (CHECK) */
  write->started_utc_ms = sqlite3_column_int64 (stmt, 4);
  write->started_by = _thecal_record_column_text (stmt, 5);
  write->reason = _thecal_record_column_text (stmt, 6);
  write->request_json = _thecal_record_column_text (stmt, 7);
  sqlite3_reset (stmt);

  stmt = current_outcome (db, STMT_WRITE_OUTCOME, id, &write->outcome_id, &write->outcome, &write->outcome_note,
                          &write->outcome_utc_ms, &write->outcome_by, &write->n_outcomes, &rc, error);
  if (stmt == NULL && rc == 0)
    g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_CORRUPT,
                 _ ("Pump write %" G_GINT64_FORMAT " has no outcome: the record is damaged."), id);
  if (stmt == NULL)
    return NULL;
  write->refill_id = sqlite3_column_int64 (stmt, 6);
  sqlite3_reset (stmt);
  return g_steal_pointer (&write);
}

static gboolean
insert_write_outcome (ThecalRecordDb *db,
                      const ThecalUser *actor,
                      gint64 write_id,
                      gint64 supersedes,
                      ThecalProgrammingOutcome outcome,
                      gint64 refill_id,
                      const char *note,
                      GError **error)
{
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_WRITE_OUTCOME_INSERT, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, write_id);
  _thecal_record_bind_id (stmt, 2, supersedes);
  sqlite3_bind_text (stmt, 3, thecal_programming_outcome_name (outcome), -1, SQLITE_STATIC);
  _thecal_record_bind_id (stmt, 4, refill_id);
  _thecal_record_bind_text (stmt, 5, note != NULL && note[0] != '\0' ? note : NULL);
  sqlite3_bind_int64 (stmt, 6, _thecal_record_now_utc_ms ());
  sqlite3_bind_int64 (stmt, 7, actor->id);
  return _thecal_record_step_done (db, stmt, error);
}

/* "refill.pending", "bolus.confirmed", ... */
static char *
write_action (ThecalPumpWriteKind kind, ThecalProgrammingOutcome outcome)
{
  return g_strdup_printf ("%s.%s", thecal_pump_write_kind_name (kind), thecal_programming_outcome_name (outcome));
}

static gpointer
op_begin_pump_write (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  WriteData *data = user_data;
  g_autoptr (ThecalPump) pump = NULL;
  g_autoptr (ThecalPumpWrite) write = NULL;
  g_autofree char *after = NULL;
  g_autofree char *action = NULL;
  cJSON *request;
  cJSON *object;
  sqlite3_stmt *stmt;
  gint64 write_id;

  if (data->kind != THECAL_PUMP_WRITE_REFILL && data->kind != THECAL_PUMP_WRITE_BOLUS)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID, _ ("A pump write is a refill or a bolus."));
      return NULL;
    }
  if (!_thecal_record_check_text (_ ("reason for the write"), data->reason, REASON_MAX_BYTES, TRUE, error)
      || !_thecal_record_check_text (_ ("request"), data->request_json, REQUEST_MAX_BYTES, TRUE, error))
    return NULL;
  request = cJSON_Parse (data->request_json);
  if (request == NULL || !cJSON_IsObject (request))
    {
      cJSON_Delete (request);
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID, _ ("The request of a pump write must be a JSON object."));
      return NULL;
    }
  cJSON_Delete (request);
  pump = _thecal_record_pump_by_serial (db, data->serial != NULL ? data->serial : "", FALSE, error);
  if (pump == NULL)
    return NULL;
  if (pump->status != THECAL_PUMP_IMPLANTED)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_STATE,
                   _ ("Pump %s is recorded as explanted: nothing can be written to it."), pump->serial);
      return NULL;
    }
  stmt = _thecal_record_stmt (db, STMT_WRITE_INSERT, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, pump->id);
  sqlite3_bind_text (stmt, 2, thecal_pump_write_kind_name (data->kind), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, _thecal_record_now_utc_ms ());
  sqlite3_bind_int64 (stmt, 4, data->actor->id);
  sqlite3_bind_text (stmt, 5, data->reason, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 6, data->request_json, -1, SQLITE_TRANSIENT);
  if (!_thecal_record_step_done (db, stmt, error))
    return NULL;
  write_id = sqlite3_last_insert_rowid (db->db);
  if (!insert_write_outcome (db, data->actor, write_id, 0, THECAL_OUTCOME_PENDING, 0, NULL, error))
    return NULL;
  write = write_by_id (db, write_id, error);
  if (write == NULL)
    return NULL;
  object = cJSON_CreateObject ();
  _thecal_record_json_text (object, "pump", pump->serial);
  _thecal_record_json_text (object, "kind", thecal_pump_write_kind_name (write->kind));
  cJSON_AddItemToObject (object, "request", cJSON_CreateRaw (write->request_json));
  _thecal_record_json_text (object, "outcome", thecal_programming_outcome_name (write->outcome));
  after = _thecal_record_json_print (object);
  action = write_action (write->kind, THECAL_OUTCOME_PENDING);
  if (!_thecal_record_audit_change (db, data->actor, action, "pump_write", write_id, pump->patient_id, NULL, after,
                                    data->reason, error))
    return NULL;
  return g_steal_pointer (&write);
}

void
thecal_record_begin_pump_write_async (ThecalRecord *self,
                                      const ThecalUser *actor,
                                      const ThecalPumpWriteInput *input,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  WriteData *data;

  g_return_if_fail (THECAL_IS_RECORD (self));
  g_return_if_fail (actor != NULL && input != NULL);

  data = g_new0 (WriteData, 1);
  data->actor = thecal_user_copy (actor);
  data->serial = g_strdup (input->pump_serial);
  data->kind = input->kind;
  data->reason = g_strdup (input->reason);
  data->request_json = g_strdup (input->request_json);
  _thecal_record_submit (self, op_begin_pump_write, data, write_data_free, (GDestroyNotify) thecal_pump_write_free,
                         THECAL_TXN_WRITE, thecal_record_begin_pump_write_async, cancellable, callback, user_data);
}

ThecalPumpWrite *
thecal_record_begin_pump_write_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_begin_pump_write_async, error);
}

static gpointer
op_resolve_pump_write (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  WriteData *data = user_data;
  g_autoptr (ThecalPumpWrite) write = NULL;
  g_autoptr (ThecalPumpWrite) resolved = NULL;
  g_autoptr (ThecalPump) pump = NULL;
  g_autoptr (ThecalRefill) refill = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *action = NULL;
  cJSON *object;

  if (data->outcome != THECAL_OUTCOME_CONFIRMED && data->outcome != THECAL_OUTCOME_FAILED
      && data->outcome != THECAL_OUTCOME_UNCERTAIN)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                   _ ("A pump write is resolved as confirmed, failed or uncertain."));
      return NULL;
    }
  if (!_thecal_record_check_text (_ ("note"), data->note, REASON_MAX_BYTES, FALSE, error))
    return NULL;
  write = write_by_id (db, data->write_id, error);
  if (write == NULL)
    return NULL;
  if (data->serial != NULL && g_strcmp0 (data->serial, write->pump_serial) != 0)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                   _ ("Pump write %" G_GINT64_FORMAT " belongs to pump %s, not to pump %s."), write->id, write->pump_serial,
                   data->serial);
      return NULL;
    }
  if (write->outcome == THECAL_OUTCOME_CONFIRMED || write->outcome == THECAL_OUTCOME_FAILED)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_STATE,
                   _ ("Pump write %" G_GINT64_FORMAT " is already %s: its outcome is final."), write->id,
                   thecal_programming_outcome_name (write->outcome));
      return NULL;
    }
  if ((data->refill != NULL) != (write->kind == THECAL_PUMP_WRITE_REFILL && data->outcome == THECAL_OUTCOME_CONFIRMED))
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                   data->refill != NULL ? _ ("Only a refill write resolved as confirmed records a refill.")
                                        : _ ("A refill write resolved as confirmed records the refill: it is missing."));
      return NULL;
    }
  if (data->refill != NULL)
    {
      if (g_strcmp0 (data->refill->serial, write->pump_serial) != 0 || data->refill->supersedes != 0)
        {
          g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                       _ ("The refill recorded by pump write %" G_GINT64_FORMAT " must be a new refill of pump %s."), write->id,
                       write->pump_serial);
          return NULL;
        }
      {
        /* performed by whoever started the write, whoever settles it */
        g_autoptr (ThecalUser) performer = _thecal_record_user_by_name (db, write->started_by, error);

        if (performer == NULL)
          return NULL;
        data->refill->performer_id = performer->id;
      }
      refill = insert_refill (db, data->refill, error);
      if (refill == NULL)
        return NULL;
    }
  if (!insert_write_outcome (db, data->actor, write->id, write->outcome_id, data->outcome, refill != NULL ? refill->id : 0,
                             data->note, error))
    return NULL;
  pump = _thecal_record_pump_by_serial (db, write->pump_serial, FALSE, error);
  if (pump == NULL)
    return NULL;
  resolved = write_by_id (db, write->id, error);
  if (resolved == NULL)
    return NULL;
  object = cJSON_CreateObject ();
  _thecal_record_json_text (object, "outcome", thecal_programming_outcome_name (write->outcome));
  before = _thecal_record_json_print (object);
  object = cJSON_CreateObject ();
  _thecal_record_json_text (object, "outcome", thecal_programming_outcome_name (resolved->outcome));
  if (resolved->refill_id != 0)
    _thecal_record_json_int (object, "refill", resolved->refill_id);
  after = _thecal_record_json_print (object);
  action = write_action (resolved->kind, resolved->outcome);
  if (!_thecal_record_audit_change (db, data->actor, action, "pump_write", write->id, pump->patient_id, before, after,
                                    data->note, error))
    return NULL;
  return g_steal_pointer (&resolved);
}

void
thecal_record_resolve_pump_write_async (ThecalRecord *self,
                                        const ThecalUser *actor,
                                        gint64 write_id,
                                        const char *pump_serial,
                                        ThecalProgrammingOutcome outcome,
                                        const char *note,
                                        const ThecalRefillInput *refill,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  WriteData *data;

  g_return_if_fail (THECAL_IS_RECORD (self));
  g_return_if_fail (actor != NULL);

  data = g_new0 (WriteData, 1);
  data->actor = thecal_user_copy (actor);
  data->write_id = write_id;
  data->serial = g_strdup (pump_serial);
  data->outcome = outcome;
  data->note = g_strdup (note);
  if (refill != NULL)
    data->refill = refill_data_new (actor, refill);
  _thecal_record_submit (self, op_resolve_pump_write, data, write_data_free, (GDestroyNotify) thecal_pump_write_free,
                         THECAL_TXN_WRITE, thecal_record_resolve_pump_write_async, cancellable, callback, user_data);
}

ThecalPumpWrite *
thecal_record_resolve_pump_write_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_resolve_pump_write_async, error);
}

static gpointer
op_list_pump_writes (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  WriteData *data = user_data;
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GPtrArray) writes = g_ptr_array_new_with_free_func ((GDestroyNotify) thecal_pump_write_free);
  g_autoptr (ThecalPump) pump = NULL;
  sqlite3_stmt *stmt;
  int rc;

  if (data->serial != NULL)
    {
      pump = _thecal_record_pump_by_serial (db, data->serial, FALSE, error);
      if (pump == NULL)
        return NULL;
      stmt = _thecal_record_stmt (db, data->unresolved_only ? STMT_WRITE_IDS_UNRESOLVED_PUMP : STMT_WRITE_IDS_PUMP, error);
      if (stmt == NULL)
        return NULL;
      sqlite3_bind_int64 (stmt, 1, pump->id);
    }
  else
    {
      stmt = _thecal_record_stmt (db, data->unresolved_only ? STMT_WRITE_IDS_UNRESOLVED_ALL : STMT_WRITE_IDS_ALL, error);
      if (stmt == NULL)
        return NULL;
    }
  while ((rc = _thecal_record_step (db, stmt, error)) == 1)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (ids, id);
    }
  if (rc < 0)
    return NULL;
  for (guint i = 0; i < ids->len; i++)
    {
      ThecalPumpWrite *write = write_by_id (db, g_array_index (ids, gint64, i), error);

      if (write == NULL)
        return NULL;
      g_ptr_array_add (writes, write);
    }
  return g_steal_pointer (&writes);
}

void
thecal_record_list_pump_writes_async (ThecalRecord *self,
                                      const char *pump_serial,
                                      gboolean unresolved_only,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  WriteData *data;

  g_return_if_fail (THECAL_IS_RECORD (self));

  data = g_new0 (WriteData, 1);
  data->serial = g_strdup (pump_serial);
  data->unresolved_only = unresolved_only;
  _thecal_record_submit (self, op_list_pump_writes, data, write_data_free, (GDestroyNotify) g_ptr_array_unref,
                         THECAL_TXN_READ, thecal_record_list_pump_writes_async, cancellable, callback, user_data);
}

GPtrArray *
thecal_record_list_pump_writes_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_list_pump_writes_async, error);
}

/* ---- Pump events and alarms seen ------------------------------------------------------------ */

typedef struct
{
  gint64 sequence;
  gint64 pump_time_ms;
  char *kind;
  char *detail;
} EventCopy;

typedef struct
{
  ThecalUser *actor;
  char *serial;
  GArray *events; /* EventCopy */
  char *kind;
  gint64 pump_time_ms;
} EventData;

static void
event_copy_clear (gpointer user_data)
{
  EventCopy *event = user_data;

  g_free (event->kind);
  g_free (event->detail);
}

static void
event_data_free (gpointer user_data)
{
  EventData *data = user_data;

  g_clear_pointer (&data->actor, thecal_user_free);
  g_free (data->serial);
  g_clear_pointer (&data->events, g_array_unref);
  g_free (data->kind);
  g_free (data);
}

static gpointer
op_import_events (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  EventData *data = user_data;
  g_autoptr (ThecalPump) pump = NULL;
  g_autofree ThecalEventImport *result = g_new0 (ThecalEventImport, 1);
  g_autoptr (GString) conflicting = g_string_new (NULL);
  g_autofree char *after = NULL;
  gint64 first_sequence = G_MAXINT64;
  gint64 last_sequence = G_MININT64;
  gint64 now_utc_ms = _thecal_record_now_utc_ms ();
  cJSON *object;

  pump = _thecal_record_pump_by_serial (db, data->serial != NULL ? data->serial : "", FALSE, error);
  if (pump == NULL)
    return NULL;
  for (guint i = 0; i < data->events->len; i++)
    {
      const EventCopy *event = &g_array_index (data->events, EventCopy, i);
      const char *detail = event->detail != NULL ? event->detail : "";
      sqlite3_stmt *stmt;
      int rc;

      if (event->sequence < 0)
        {
          g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                       _ ("Pump event %u has a negative sequence number (%" G_GINT64_FORMAT "): nothing was imported."),
                       i, event->sequence);
          return NULL;
        }
      if (!_thecal_record_check_text (_ ("event kind"), event->kind, KIND_MAX_BYTES, TRUE, error)
          || !_thecal_record_check_text (_ ("event detail"), detail, DETAIL_MAX_BYTES, FALSE, error))
        return NULL;
      first_sequence = MIN (first_sequence, event->sequence);
      last_sequence = MAX (last_sequence, event->sequence);

      stmt = _thecal_record_stmt (db, STMT_EVENT_GET, error);
      if (stmt == NULL)
        return NULL;
      sqlite3_bind_int64 (stmt, 1, pump->id);
      sqlite3_bind_int64 (stmt, 2, event->sequence);
      rc = _thecal_record_step (db, stmt, error);
      if (rc < 0)
        return NULL;
      if (rc == 1)
        {
          gboolean same = sqlite3_column_int64 (stmt, 0) == event->pump_time_ms
                          && g_strcmp0 ((const char *) sqlite3_column_text (stmt, 1), event->kind) == 0
                          && g_strcmp0 ((const char *) sqlite3_column_text (stmt, 2), detail) == 0;

          sqlite3_reset (stmt);
          if (same)
            result->duplicates++;
          else
            {
              result->conflicts++;
              if (conflicting->len < 1000)
                g_string_append_printf (conflicting, "%s%" G_GINT64_FORMAT, conflicting->len > 0 ? "," : "",
                                        event->sequence);
            }
          continue;
        }
      stmt = _thecal_record_stmt (db, STMT_EVENT_INSERT, error);
      if (stmt == NULL)
        return NULL;
      sqlite3_bind_int64 (stmt, 1, pump->id);
      sqlite3_bind_int64 (stmt, 2, event->sequence);
      sqlite3_bind_int64 (stmt, 3, event->pump_time_ms);
      sqlite3_bind_text (stmt, 4, event->kind, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 5, detail, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 6, now_utc_ms);
      sqlite3_bind_int64 (stmt, 7, data->actor->id);
      if (!_thecal_record_step_done (db, stmt, error))
        return NULL;
      result->inserted++;
    }
  object = cJSON_CreateObject ();
  _thecal_record_json_text (object, "pump", pump->serial);
  _thecal_record_json_int (object, "inserted", result->inserted);
  _thecal_record_json_int (object, "duplicates", result->duplicates);
  _thecal_record_json_int (object, "conflicts", result->conflicts);
  if (data->events->len > 0)
    {
      _thecal_record_json_int (object, "first_sequence", first_sequence);
      _thecal_record_json_int (object, "last_sequence", last_sequence);
    }
  if (result->conflicts > 0)
    _thecal_record_json_text (object, "conflicting_sequences", conflicting->str);
  after = _thecal_record_json_print (object);
  if (!_thecal_record_audit_change (db, data->actor, "events.import", "pump", pump->id, pump->patient_id, NULL, after,
                                    result->conflicts > 0 ? "events already imported with other content were kept as "
                                                            "first imported"
                                                          : NULL,
                                    error))
    return NULL;
  return g_steal_pointer (&result);
}

void
thecal_record_import_events_async (ThecalRecord *self,
                                   const ThecalUser *actor,
                                   const char *pump_serial,
                                   const ThecalPumpEventInput *events,
                                   guint n_events,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data)
{
  EventData *data;

  g_return_if_fail (THECAL_IS_RECORD (self));
  g_return_if_fail (actor != NULL);
  g_return_if_fail (n_events == 0 || events != NULL);

  data = g_new0 (EventData, 1);
  data->actor = thecal_user_copy (actor);
  data->serial = g_strdup (pump_serial);
  data->events = g_array_sized_new (FALSE, TRUE, sizeof (EventCopy), n_events);
  g_array_set_clear_func (data->events, event_copy_clear);
  for (guint i = 0; i < n_events; i++)
    {
      EventCopy copy = {
        .sequence = events[i].sequence,
        .pump_time_ms = events[i].pump_time_ms,
        .kind = g_strdup (events[i].kind),
        .detail = g_strdup (events[i].detail),
      };

      g_array_append_val (data->events, copy);
    }
  _thecal_record_submit (self, op_import_events, data, event_data_free, g_free, THECAL_TXN_WRITE,
                         thecal_record_import_events_async, cancellable, callback, user_data);
}

ThecalEventImport *
thecal_record_import_events_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_import_events_async, error);
}

static gpointer
op_add_alarm_seen (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  EventData *data = user_data;
  g_autoptr (ThecalPump) pump = NULL;
  g_autoptr (ThecalAlarmSeen) alarm = NULL;
  g_autofree char *after = NULL;
  sqlite3_stmt *stmt;
  cJSON *object;

  if (!_thecal_record_check_text (_ ("alarm"), data->kind, KIND_MAX_BYTES, TRUE, error))
    return NULL;
  pump = _thecal_record_pump_by_serial (db, data->serial != NULL ? data->serial : "", FALSE, error);
  if (pump == NULL)
    return NULL;
  stmt = _thecal_record_stmt (db, STMT_ALARM_INSERT, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, pump->id);
  sqlite3_bind_text (stmt, 2, data->kind, -1, SQLITE_TRANSIENT);
  if (data->pump_time_ms == G_MININT64)
    sqlite3_bind_null (stmt, 3);
  else
    sqlite3_bind_int64 (stmt, 3, data->pump_time_ms);
  sqlite3_bind_int64 (stmt, 4, _thecal_record_now_utc_ms ());
  sqlite3_bind_int64 (stmt, 5, data->actor->id);
  if (!_thecal_record_step_done (db, stmt, error))
    return NULL;
  stmt = _thecal_record_stmt (db, STMT_ALARM_BY_ID, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, sqlite3_last_insert_rowid (db->db));
  alarm = _thecal_record_one_row (db, stmt, alarm_from_row, _ ("The alarm is not in the record."), error);
  if (alarm == NULL)
    return NULL;
  object = cJSON_CreateObject ();
  _thecal_record_json_text (object, "pump", pump->serial);
  _thecal_record_json_text (object, "alarm", alarm->kind);
  if (alarm->pump_time_ms != G_MININT64)
    _thecal_record_json_int (object, "pump_time_ms", alarm->pump_time_ms);
  after = _thecal_record_json_print (object);
  if (!_thecal_record_audit_change (db, data->actor, "alarm.seen", "alarm", alarm->id, pump->patient_id, NULL, after,
                                    NULL, error))
    return NULL;
  return g_steal_pointer (&alarm);
}

void
thecal_record_add_alarm_seen_async (ThecalRecord *self,
                                    const ThecalUser *actor,
                                    const char *pump_serial,
                                    const char *kind,
                                    gint64 pump_time_ms,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  EventData *data;

  g_return_if_fail (THECAL_IS_RECORD (self));
  g_return_if_fail (actor != NULL);

  data = g_new0 (EventData, 1);
  data->actor = thecal_user_copy (actor);
  data->serial = g_strdup (pump_serial);
  data->kind = g_strdup (kind);
  data->pump_time_ms = pump_time_ms;
  _thecal_record_submit (self, op_add_alarm_seen, data, event_data_free, (GDestroyNotify) thecal_alarm_seen_free,
                         THECAL_TXN_WRITE, thecal_record_add_alarm_seen_async, cancellable, callback, user_data);
}

ThecalAlarmSeen *
thecal_record_add_alarm_seen_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_add_alarm_seen_async, error);
}

/* ---- A patient's whole record ----------------------------------------------------------------- */

static gpointer
op_get_patient_record (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  const char *mrn = user_data;
  g_autoptr (ThecalPatientRecord) record = g_new0 (ThecalPatientRecord, 1);
  sqlite3_stmt *stmt;
  int rc;

  record->patient = _thecal_record_patient_by_mrn (db, mrn, error);
  if (record->patient == NULL)
    return NULL;
  record->patient_versions = _thecal_record_patient_versions (db, record->patient->id, error);
  if (record->patient_versions == NULL)
    return NULL;
  record->pumps = _thecal_record_pump_versions_of_patient (db, record->patient->id, error);
  if (record->pumps == NULL)
    return NULL;

  stmt = _thecal_record_stmt (db, STMT_RX_LIST_PATIENT, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, record->patient->id);
  record->prescriptions = _thecal_record_all_rows (db, stmt, prescription_from_row,
                                                   (GDestroyNotify) thecal_recorded_prescription_free, error);
  if (record->prescriptions == NULL)
    return NULL;

  stmt = _thecal_record_stmt (db, STMT_SESSION_IDS_OF_PATIENT, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, record->patient->id);
  record->sessions = sessions_of (db, stmt, error);
  if (record->sessions == NULL)
    return NULL;

  stmt = _thecal_record_stmt (db, STMT_REFILL_LIST_PATIENT, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, record->patient->id);
  record->refills = _thecal_record_all_rows (db, stmt, refill_from_row, (GDestroyNotify) thecal_refill_free, error);
  if (record->refills == NULL)
    return NULL;

  stmt = _thecal_record_stmt (db, STMT_EVENT_LIST_PATIENT, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, record->patient->id);
  record->events = g_ptr_array_new_with_free_func ((GDestroyNotify) thecal_pump_event_free);
  record->event_serials = g_ptr_array_new_with_free_func (g_free);
  while ((rc = _thecal_record_step (db, stmt, error)) == 1)
    {
      g_ptr_array_add (record->events, event_from_row (stmt));
      g_ptr_array_add (record->event_serials, _thecal_record_column_text (stmt, 7));
    }
  if (rc < 0)
    return NULL;

  stmt = _thecal_record_stmt (db, STMT_ALARM_LIST_PATIENT, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, record->patient->id);
  record->alarms = _thecal_record_all_rows (db, stmt, alarm_from_row, (GDestroyNotify) thecal_alarm_seen_free, error);
  if (record->alarms == NULL)
    return NULL;
  return g_steal_pointer (&record);
}

void
thecal_record_get_patient_record_async (ThecalRecord *self,
                                        const char *mrn,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  g_return_if_fail (THECAL_IS_RECORD (self));
  g_return_if_fail (mrn != NULL);

  _thecal_record_submit (self, op_get_patient_record, g_strdup (mrn), g_free,
                         (GDestroyNotify) thecal_patient_record_free, THECAL_TXN_READ,
                         thecal_record_get_patient_record_async, cancellable, callback, user_data);
}

ThecalPatientRecord *
thecal_record_get_patient_record_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_get_patient_record_async, error);
}
