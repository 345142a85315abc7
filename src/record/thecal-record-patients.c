/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-record-patients.c: patients (with the search index) and pumps.
 *
 * A patient is an identity (the MRN, never changed) and versions of the details; a correction is
 * a new version that supersedes the current one. Pumps are the same: an identity (serial, model,
 * patient, wrapped pairing key) and versions (implant date, catheter length, status).
 */
#include "config.h"

#include <glib/gi18n.h>
#include <sodium.h>
#include <string.h>

#include "thecal-record-fill.h"
#include "thecal-record-private.h"

#define NAME_MAX_BYTES 200
#define NOTES_MAX_BYTES 4000
#define REASON_MAX_BYTES 1000
#define CATHETER_MAX_MM 2000 /* 2 m: far beyond any implanted length (about 110 cm, CLINICAL.md §2.1) */

/* ---- Rows ----------------------------------------------------------------------------------- */

/* Columns of PATIENT_COLUMNS (thecal-record-db.c). */
static gpointer
patient_from_row (sqlite3_stmt *stmt)
{
  ThecalPatient *patient = g_new0 (ThecalPatient, 1);
  g_autofree char *tolerance = _thecal_record_column_text (stmt, 6);

  patient->id = sqlite3_column_int64 (stmt, 0);
  patient->version_id = sqlite3_column_int64 (stmt, 1);
  patient->supersedes = sqlite3_column_int64 (stmt, 2);
  patient->mrn = _thecal_record_column_text (stmt, 3);
  patient->name = _thecal_record_column_text (stmt, 4);
  patient->date_of_birth = _thecal_record_column_text (stmt, 5);
  if (!thecal_opioid_tolerance_from_name (tolerance, &patient->opioid_tolerance))
    patient->opioid_tolerance = THECAL_OPIOID_NAIVE; /* unreachable: CHECK constraint; the safe side */
  patient->notes = _thecal_record_column_text (stmt, 7);
  if (patient->notes == NULL)
    patient->notes = g_strdup ("");
  patient->reason = _thecal_record_column_text (stmt, 8);
  patient->created_utc_ms = sqlite3_column_int64 (stmt, 9);
  patient->recorded_utc_ms = sqlite3_column_int64 (stmt, 10);
  patient->recorded_by = _thecal_record_column_text (stmt, 11);
  return patient;
}

/* Columns of PUMP_COLUMNS (thecal-record-db.c). */
static gpointer
pump_from_row (sqlite3_stmt *stmt)
{
  ThecalPump *pump = g_new0 (ThecalPump, 1);
  g_autofree char *status = _thecal_record_column_text (stmt, 9);

  pump->id = sqlite3_column_int64 (stmt, 0);
  pump->version_id = sqlite3_column_int64 (stmt, 1);
  pump->supersedes = sqlite3_column_int64 (stmt, 2);
  pump->serial = _thecal_record_column_text (stmt, 3);
  pump->model_id = _thecal_record_column_text (stmt, 4);
  pump->patient_id = sqlite3_column_int64 (stmt, 5);
  pump->patient_mrn = _thecal_record_column_text (stmt, 6);
  pump->implant_date = _thecal_record_column_text (stmt, 7);
  pump->catheter_length_mm = sqlite3_column_int64 (stmt, 8);
  if (!thecal_pump_status_from_name (status, &pump->status))
    pump->status = THECAL_PUMP_IMPLANTED;
  pump->explant_date = _thecal_record_column_text (stmt, 10);
  pump->reason = _thecal_record_column_text (stmt, 11);
  pump->created_utc_ms = sqlite3_column_int64 (stmt, 12);
  pump->recorded_utc_ms = sqlite3_column_int64 (stmt, 13);
  pump->recorded_by = _thecal_record_column_text (stmt, 14);
  return pump;
}

/* NULL with NOT_FOUND ("There is no patient with the medical record number …") when unknown;
 * NULL without error when @quiet and unknown. */
static ThecalPatient *
patient_by_mrn (ThecalRecordDb *db, const char *mrn, gboolean quiet, GError **error)
{
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_PATIENT_BY_MRN, error);
  g_autofree char *missing = NULL;

  if (stmt == NULL)
    return NULL;
  if (!quiet)
    missing = g_strdup_printf (_ ("There is no patient with the medical record number %s."), mrn);
  sqlite3_bind_text (stmt, 1, mrn, -1, SQLITE_TRANSIENT);
  return _thecal_record_one_row (db, stmt, patient_from_row, missing, error);
}

static ThecalPatient *
patient_by_id (ThecalRecordDb *db, gint64 id, GError **error)
{
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_PATIENT_BY_ID, error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  return _thecal_record_one_row (db, stmt, patient_from_row, _ ("The patient is not in the record."), error);
}

ThecalPump *
_thecal_record_pump_by_serial (ThecalRecordDb *db, const char *serial, gboolean quiet, GError **error)
{
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_PUMP_BY_SERIAL, error);
  g_autofree char *missing = NULL;

  if (stmt == NULL)
    return NULL;
  if (!quiet)
    missing = g_strdup_printf (_ ("There is no pump with the serial number %s."), serial);
  sqlite3_bind_text (stmt, 1, serial, -1, SQLITE_TRANSIENT);
  return _thecal_record_one_row (db, stmt, pump_from_row, missing, error);
}

static char *
patient_json (const ThecalPatient *patient)
{
  cJSON *object = cJSON_CreateObject ();

  _thecal_record_json_text (object, "mrn", patient->mrn);
  _thecal_record_json_text (object, "name", patient->name);
  _thecal_record_json_text (object, "date_of_birth", patient->date_of_birth);
  _thecal_record_json_text (object, "opioid_tolerance", thecal_opioid_tolerance_name (patient->opioid_tolerance));
  _thecal_record_json_text (object, "notes", patient->notes);
  return _thecal_record_json_print (object);
}

static char *
pump_json (const ThecalPump *pump)
{
  cJSON *object = cJSON_CreateObject ();

  _thecal_record_json_text (object, "serial", pump->serial);
  _thecal_record_json_text (object, "model", pump->model_id);
  _thecal_record_json_text (object, "patient_mrn", pump->patient_mrn);
  _thecal_record_json_text (object, "implant_date", pump->implant_date);
  _thecal_record_json_int (object, "catheter_length_mm", pump->catheter_length_mm);
  _thecal_record_json_text (object, "status", thecal_pump_status_name (pump->status));
  _thecal_record_json_text (object, "explant_date", pump->explant_date);
  return _thecal_record_json_print (object);
}

/* ---- Patients ------------------------------------------------------------------------------- */

typedef struct
{
  ThecalUser *actor;
  char *mrn; /* the patient to correct */
  char *input_mrn;
  char *name;
  char *date_of_birth;
  ThecalOpioidTolerance opioid_tolerance;
  char *notes;
  char *reason;
  gint64 offset;
  gint64 limit;
} PatientData;

static void
patient_data_free (gpointer user_data)
{
  PatientData *data = user_data;

  g_clear_pointer (&data->actor, thecal_user_free);
  g_free (data->mrn);
  g_free (data->input_mrn);
  g_free (data->name);
  g_free (data->date_of_birth);
  g_free (data->notes);
  g_free (data->reason);
  g_free (data);
}

static PatientData *
patient_data_new (const ThecalUser *actor, const char *mrn, const ThecalPatientInput *input, const char *reason)
{
  PatientData *data = g_new0 (PatientData, 1);

  data->actor = actor != NULL ? thecal_user_copy (actor) : NULL;
  data->mrn = g_strdup (mrn);
  if (input != NULL)
    {
      data->input_mrn = g_strdup (input->mrn);
      data->name = g_strdup (input->name);
      data->date_of_birth = g_strdup (input->date_of_birth);
      data->opioid_tolerance = input->opioid_tolerance;
      data->notes = g_strdup (input->notes != NULL ? input->notes : "");
    }
  data->reason = g_strdup (reason);
  return data;
}

gboolean
thecal_record_check_patient_field (const char *field, const char *value, GError **error)
{
  g_return_val_if_fail (field != NULL, FALSE);

  if (g_str_equal (field, "mrn"))
    return _thecal_record_check_code (_ ("medical record number"), value, error);
  if (g_str_equal (field, "name"))
    return _thecal_record_check_text (_ ("patient's name"), value, NAME_MAX_BYTES, TRUE, error);
  if (g_str_equal (field, "date_of_birth"))
    return _thecal_record_check_date (_ ("date of birth"), value, TRUE, error);
  if (g_str_equal (field, "notes"))
    return _thecal_record_check_text (_ ("notes"), value, NOTES_MAX_BYTES, FALSE, error);
  if (g_str_equal (field, "reason"))
    return _thecal_record_check_text (_ ("reason for the correction"), value, REASON_MAX_BYTES, TRUE, error);
  g_return_val_if_reached (FALSE);
}

static gboolean
check_patient_details (const PatientData *data, GError **error)
{
  return thecal_record_check_patient_field ("name", data->name, error)
         && thecal_record_check_patient_field ("date_of_birth", data->date_of_birth, error)
         && (data->opioid_tolerance == THECAL_OPIOID_NAIVE || data->opioid_tolerance == THECAL_OPIOID_TOLERANT
             || (g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID, _ ("The opioid tolerance is not valid.")),
                 FALSE))
         && thecal_record_check_patient_field ("notes", data->notes, error);
}

/* The search index holds the folded words of the current name (one row per patient). */
static gboolean
index_name (ThecalRecordDb *db, gint64 patient_id, const char *name, GError **error)
{
  g_autoptr (GPtrArray) words = _thecal_record_search_tokens (name);
  g_autoptr (GString) text = g_string_new (NULL);
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_SEARCH_DELETE, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, patient_id);
  if (!_thecal_record_step_done (db, stmt, error))
    return FALSE;
  for (guint i = 0; i < words->len; i++)
    g_string_append_printf (text, "%s%s", i > 0 ? " " : "", (const char *) words->pdata[i]);
  stmt = _thecal_record_stmt (db, STMT_SEARCH_INSERT, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, patient_id);
  sqlite3_bind_text (stmt, 2, text->str, -1, SQLITE_TRANSIENT);
  return _thecal_record_step_done (db, stmt, error);
}

static gboolean
insert_patient_version (ThecalRecordDb *db,
                        const PatientData *data,
                        gint64 patient_id,
                        gint64 supersedes,
                        GError **error)
{
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_PATIENT_VERSION_INSERT, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, patient_id);
  _thecal_record_bind_id (stmt, 2, supersedes);
  sqlite3_bind_text (stmt, 3, data->name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, data->date_of_birth, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, thecal_opioid_tolerance_name (data->opioid_tolerance), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, data->notes != NULL ? data->notes : "", -1, SQLITE_TRANSIENT);
  _thecal_record_bind_text (stmt, 7, supersedes != 0 ? data->reason : NULL);
  sqlite3_bind_int64 (stmt, 8, _thecal_record_now_utc_ms ());
  sqlite3_bind_int64 (stmt, 9, data->actor->id);
  return _thecal_record_step_done (db, stmt, error) && index_name (db, patient_id, data->name, error);
}

static gpointer
op_add_patient (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  PatientData *data = user_data;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (ThecalPatient) existing = NULL;
  g_autoptr (ThecalPatient) patient = NULL;
  g_autofree char *after = NULL;
  sqlite3_stmt *stmt;
  gint64 patient_id;

  if (!thecal_record_check_patient_field ("mrn", data->input_mrn, error)
      || !check_patient_details (data, error))
    return NULL;
  existing = patient_by_mrn (db, data->input_mrn, TRUE, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (existing != NULL)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_EXISTS,
                   _ ("A patient with the medical record number %s is already in the record (%s): nothing was saved."),
                   existing->mrn, existing->name);
      return NULL;
    }
  stmt = _thecal_record_stmt (db, STMT_PATIENT_INSERT, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, data->input_mrn, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, _thecal_record_now_utc_ms ());
  sqlite3_bind_int64 (stmt, 3, data->actor->id);
  if (!_thecal_record_step_done (db, stmt, error))
    return NULL;
  patient_id = sqlite3_last_insert_rowid (db->db);
  if (!insert_patient_version (db, data, patient_id, 0, error))
    return NULL;
  patient = patient_by_id (db, patient_id, error);
  if (patient == NULL)
    return NULL;
  after = patient_json (patient);
  if (!_thecal_record_audit_change (db, data->actor, "patient.create", "patient", patient_id, patient_id, NULL, after, NULL, error))
    return NULL;
  return g_steal_pointer (&patient);
}

void
thecal_record_add_patient_async (ThecalRecord *self,
                                 const ThecalUser *actor,
                                 const ThecalPatientInput *input,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  g_return_if_fail (THECAL_IS_RECORD (self));
  g_return_if_fail (actor != NULL && input != NULL);

  _thecal_record_submit (self, op_add_patient, patient_data_new (actor, NULL, input, NULL), patient_data_free,
                         (GDestroyNotify) thecal_patient_free, THECAL_TXN_WRITE, thecal_record_add_patient_async,
                         cancellable, callback, user_data);
}

ThecalPatient *
thecal_record_add_patient_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_add_patient_async, error);
}

static gpointer
op_correct_patient (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  PatientData *data = user_data;
  g_autoptr (ThecalPatient) current = NULL;
  g_autoptr (ThecalPatient) corrected = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  if (!thecal_record_check_patient_field ("reason", data->reason, error))
    return NULL;
  current = patient_by_mrn (db, data->mrn != NULL ? data->mrn : "", FALSE, error);
  if (current == NULL)
    return NULL;
  if (data->input_mrn != NULL && !g_str_equal (data->input_mrn, current->mrn))
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                   _ ("The medical record number %s cannot be corrected: register the patient under the right "
                      "number, and note the error in this one's notes."),
                   current->mrn);
      return NULL;
    }
  if (!check_patient_details (data, error))
    return NULL;
  if (g_str_equal (data->name, current->name) && g_str_equal (data->date_of_birth, current->date_of_birth)
      && data->opioid_tolerance == current->opioid_tolerance && g_str_equal (data->notes, current->notes))
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                   _ ("The correction of patient %s changes nothing: nothing was saved."), current->mrn);
      return NULL;
    }
  if (!insert_patient_version (db, data, current->id, current->version_id, error))
    return NULL;
  corrected = patient_by_id (db, current->id, error);
  if (corrected == NULL)
    return NULL;
  before = patient_json (current);
  after = patient_json (corrected);
  if (!_thecal_record_audit_change (db, data->actor, "patient.correct", "patient", current->id, current->id, before, after,
                                    data->reason, error))
    return NULL;
  return g_steal_pointer (&corrected);
}

void
thecal_record_correct_patient_async (ThecalRecord *self,
                                     const ThecalUser *actor,
                                     const char *mrn,
                                     const ThecalPatientInput *input,
                                     const char *reason,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  g_return_if_fail (THECAL_IS_RECORD (self));
  g_return_if_fail (actor != NULL && mrn != NULL && input != NULL);

  _thecal_record_submit (self, op_correct_patient, patient_data_new (actor, mrn, input, reason), patient_data_free,
                         (GDestroyNotify) thecal_patient_free, THECAL_TXN_WRITE, thecal_record_correct_patient_async,
                         cancellable, callback, user_data);
}

ThecalPatient *
thecal_record_correct_patient_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_correct_patient_async, error);
}

static gpointer
op_get_patient (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  PatientData *data = user_data;

  return patient_by_mrn (db, data->mrn != NULL ? data->mrn : "", FALSE, error);
}

void
thecal_record_get_patient_async (ThecalRecord *self,
                                 const char *mrn,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  g_return_if_fail (THECAL_IS_RECORD (self));

  _thecal_record_submit (self, op_get_patient, patient_data_new (NULL, mrn, NULL, NULL), patient_data_free,
                         (GDestroyNotify) thecal_patient_free, THECAL_TXN_READ, thecal_record_get_patient_async,
                         cancellable, callback, user_data);
}

ThecalPatient *
thecal_record_get_patient_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_get_patient_async, error);
}

static gpointer
op_list_patients (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  PatientData *data = user_data;
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_PATIENT_LIST, error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, data->limit);
  sqlite3_bind_int64 (stmt, 2, data->offset);
  return _thecal_record_all_rows (db, stmt, patient_from_row, (GDestroyNotify) thecal_patient_free, error);
}

void
thecal_record_list_patients_async (ThecalRecord *self,
                                   gint64 offset,
                                   gint64 limit,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data)
{
  PatientData *data;

  g_return_if_fail (THECAL_IS_RECORD (self));

  data = patient_data_new (NULL, NULL, NULL, NULL);
  data->offset = MAX (offset, 0);
  data->limit = MAX (limit, 1);
  _thecal_record_submit (self, op_list_patients, data, patient_data_free, (GDestroyNotify) g_ptr_array_unref,
                         THECAL_TXN_READ, thecal_record_list_patients_async, cancellable, callback, user_data);
}

GPtrArray *
thecal_record_list_patients_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_list_patients_async, error);
}

/* [@prefix, @prefix + 0xFF): every text that starts with @prefix, as a range of the index
 * (SQLite compares TEXT bytewise under BINARY; 0xFF never occurs in UTF-8). */
static void
bind_prefix_range (sqlite3_stmt *stmt, int first, const char *prefix)
{
  g_autofree char *upper = g_strconcat (prefix, "\xff", NULL);

  sqlite3_bind_text (stmt, first, prefix, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, first + 1, upper, -1, SQLITE_TRANSIENT);
}

/* Search (docs/record.md "Search"): MRN prefixes first (a range of the UNIQUE index), then the
 * patients with, for every word typed, a word of the name that starts with it (FTS5 prefix
 * queries, "w1"* AND "w2"*; the words are Thecal's folded letters and digits, quoted anyway). */
static gpointer
op_search_patients (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  PatientData *data = user_data;
  g_autoptr (GPtrArray) results = g_ptr_array_new_with_free_func ((GDestroyNotify) thecal_patient_free);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree char *text = g_strstrip (g_strdup (data->name != NULL ? data->name : ""));
  g_autoptr (GPtrArray) query = _thecal_record_search_tokens (text);
  g_autoptr (GError) code_error = NULL;
  int rc = 0;

  if (text[0] == '\0' || !g_utf8_validate (text, -1, NULL))
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                   _ ("Type the start of a name or of a medical record number to search."));
      return NULL;
    }
  if (_thecal_record_check_code ("mrn", text, &code_error))
    {
      sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_SEARCH_MRN_RANGE, error);

      if (stmt == NULL)
        return NULL;
      bind_prefix_range (stmt, 1, text);
      sqlite3_bind_int64 (stmt, 3, data->limit);
      while ((rc = _thecal_record_step (db, stmt, error)) == 1)
        {
          gint64 id = sqlite3_column_int64 (stmt, 0);

          g_array_append_val (ids, id);
          g_hash_table_add (seen, g_memdup2 (&id, sizeof id));
        }
      if (rc < 0)
        return NULL;
    }
  if (query->len > 0 && (gint64) ids->len < data->limit)
    {
      g_autoptr (GString) match = g_string_new (NULL);
      sqlite3_stmt *stmt;

      for (guint q = 0; q < query->len; q++)
        {
          g_auto (GStrv) pieces = g_strsplit (query->pdata[q], "\"", -1);
          g_autofree char *quoted = g_strjoinv ("\"\"", pieces);

          g_string_append_printf (match, "%s\"%s\"*", q > 0 ? " AND " : "", quoted);
        }
      stmt = _thecal_record_stmt (db, STMT_SEARCH_MATCH, error);
      if (stmt == NULL)
        return NULL;
      sqlite3_bind_text (stmt, 1, match->str, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 2, data->limit);
      while ((gint64) ids->len < data->limit && (rc = _thecal_record_step (db, stmt, error)) == 1)
        {
          gint64 id = sqlite3_column_int64 (stmt, 0);

          if (g_hash_table_contains (seen, &id))
            continue;
          g_array_append_val (ids, id);
          g_hash_table_add (seen, g_memdup2 (&id, sizeof id));
        }
      if (rc < 0)
        return NULL;
      sqlite3_reset (stmt);
    }
  for (guint i = 0; i < ids->len; i++)
    {
      ThecalPatient *patient = patient_by_id (db, g_array_index (ids, gint64, i), error);

      if (patient == NULL)
        return NULL;
      g_ptr_array_add (results, patient);
    }
  return g_steal_pointer (&results);
}

void
thecal_record_search_patients_async (ThecalRecord *self,
                                     const char *text,
                                     gint64 limit,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  PatientData *data;

  g_return_if_fail (THECAL_IS_RECORD (self));

  data = patient_data_new (NULL, NULL, NULL, NULL);
  data->name = g_strdup (text);
  data->limit = MAX (limit, 1);
  _thecal_record_submit (self, op_search_patients, data, patient_data_free, (GDestroyNotify) g_ptr_array_unref,
                         THECAL_TXN_READ, thecal_record_search_patients_async, cancellable, callback, user_data);
}

GPtrArray *
thecal_record_search_patients_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_search_patients_async, error);
}

GPtrArray *
_thecal_record_patient_versions (ThecalRecordDb *db, gint64 patient_id, GError **error)
{
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_PATIENT_VERSIONS, error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, patient_id);
  return _thecal_record_all_rows (db, stmt, patient_from_row, (GDestroyNotify) thecal_patient_free, error);
}

ThecalPatient *
_thecal_record_patient_by_mrn (ThecalRecordDb *db, const char *mrn, GError **error)
{
  return patient_by_mrn (db, mrn, FALSE, error);
}

GPtrArray *
_thecal_record_pump_versions_of_patient (ThecalRecordDb *db, gint64 patient_id, GError **error)
{
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_PUMP_VERSIONS_OF_PATIENT, error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, patient_id);
  return _thecal_record_all_rows (db, stmt, pump_from_row, (GDestroyNotify) thecal_pump_free, error);
}

/* ---- Pumps ---------------------------------------------------------------------------------- */

typedef struct
{
  ThecalUser *actor;
  char *serial;
  char *model_id;
  char *patient_mrn;
  char *implant_date;
  gint64 catheter_length_mm;
  ThecalPumpStatus status;
  char *explant_date;
  char *reason;
  guint8 key[THECAL_PAIRING_KEY_BYTES];
  gboolean have_key;
} PumpData;

static void
pump_data_free (gpointer user_data)
{
  PumpData *data = user_data;

  g_clear_pointer (&data->actor, thecal_user_free);
  g_free (data->serial);
  g_free (data->model_id);
  g_free (data->patient_mrn);
  g_free (data->implant_date);
  g_free (data->explant_date);
  g_free (data->reason);
  sodium_memzero (data->key, sizeof data->key);
  g_free (data);
}

static gboolean
check_pump_details (const char *implant_date,
                    gint64 catheter_length_mm,
                    ThecalPumpStatus status,
                    const char *explant_date,
                    GError **error)
{
  if (!_thecal_record_check_date (_ ("implant date"), implant_date, TRUE, error))
    return FALSE;
  if (catheter_length_mm <= 0 || catheter_length_mm > CATHETER_MAX_MM)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                   _ ("The implanted catheter length %" G_GINT64_FORMAT " mm is not valid: it is more than 0 and at most %d mm."),
                   catheter_length_mm, CATHETER_MAX_MM);
      return FALSE;
    }
  if (status == THECAL_PUMP_IMPLANTED && explant_date != NULL)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                   _ ("An implanted pump has no explant date."));
      return FALSE;
    }
  if (status == THECAL_PUMP_EXPLANTED)
    {
      if (!_thecal_record_check_date (_ ("explant date"), explant_date, TRUE, error))
        return FALSE;
      if (strcmp (explant_date, implant_date) < 0)
        {
          g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                       _ ("The explant date %s is before the implant date %s."), explant_date, implant_date);
          return FALSE;
        }
    }
  else if (status != THECAL_PUMP_IMPLANTED)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID, _ ("The pump status is not valid."));
      return FALSE;
    }
  return TRUE;
}

static gboolean
insert_pump_version (ThecalRecordDb *db, const PumpData *data, gint64 pump_id, gint64 supersedes, GError **error)
{
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_PUMP_VERSION_INSERT, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, pump_id);
  _thecal_record_bind_id (stmt, 2, supersedes);
  sqlite3_bind_text (stmt, 3, data->implant_date, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 4, data->catheter_length_mm);
  sqlite3_bind_text (stmt, 5, thecal_pump_status_name (data->status), -1, SQLITE_STATIC);
  _thecal_record_bind_text (stmt, 6, data->status == THECAL_PUMP_EXPLANTED ? data->explant_date : NULL);
  _thecal_record_bind_text (stmt, 7, supersedes != 0 ? data->reason : NULL);
  sqlite3_bind_int64 (stmt, 8, _thecal_record_now_utc_ms ());
  sqlite3_bind_int64 (stmt, 9, data->actor->id);
  return _thecal_record_step_done (db, stmt, error);
}

static gpointer
op_add_pump (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  PumpData *data = user_data;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (ThecalPatient) patient = NULL;
  g_autoptr (ThecalPump) existing = NULL;
  g_autoptr (ThecalPump) pump = NULL;
  g_autoptr (GBytes) wrapped = NULL;
  g_autofree char *after = NULL;
  guint8 key[THECAL_PAIRING_KEY_BYTES];
  sqlite3_stmt *stmt;
  gint64 pump_id;

  if (!_thecal_record_check_code (_ ("pump serial number"), data->serial, error)
      || !_thecal_record_check_code (_ ("pump model"), data->model_id, error)
      || !check_pump_details (data->implant_date, data->catheter_length_mm, THECAL_PUMP_IMPLANTED, NULL, error))
    return NULL;
  patient = patient_by_mrn (db, data->patient_mrn != NULL ? data->patient_mrn : "", FALSE, error);
  if (patient == NULL)
    return NULL;
  existing = _thecal_record_pump_by_serial (db, data->serial, TRUE, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (existing != NULL)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_EXISTS,
                   _ ("A pump with the serial number %s is already in the record (patient %s): nothing was saved."),
                   existing->serial, existing->patient_mrn);
      return NULL;
    }
  if (data->have_key)
    memcpy (key, data->key, sizeof key);
  else
    randombytes_buf (key, sizeof key);
  wrapped = _thecal_record_wrap_key (db, data->serial, key, error);
  sodium_memzero (key, sizeof key);
  if (wrapped == NULL)
    return NULL;

  stmt = _thecal_record_stmt (db, STMT_PUMP_INSERT, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, data->serial, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, data->model_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, patient->id);
  sqlite3_bind_blob (stmt, 4, g_bytes_get_data (wrapped, NULL), (int) g_bytes_get_size (wrapped), SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 5, _thecal_record_now_utc_ms ());
  sqlite3_bind_int64 (stmt, 6, data->actor->id);
  if (!_thecal_record_step_done (db, stmt, error))
    return NULL;
  pump_id = sqlite3_last_insert_rowid (db->db);
  data->status = THECAL_PUMP_IMPLANTED;
  if (!insert_pump_version (db, data, pump_id, 0, error))
    return NULL;
  pump = _thecal_record_pump_by_serial (db, data->serial, FALSE, error);
  if (pump == NULL)
    return NULL;
  after = pump_json (pump);
  if (!_thecal_record_audit_change (db, data->actor, "pump.create", "pump", pump_id, patient->id, NULL, after, NULL, error))
    return NULL;
  return g_steal_pointer (&pump);
}

void
thecal_record_add_pump_async (ThecalRecord *self,
                              const ThecalUser *actor,
                              const ThecalPumpInput *input,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  PumpData *data;

  g_return_if_fail (THECAL_IS_RECORD (self));
  g_return_if_fail (actor != NULL && input != NULL);

  data = g_new0 (PumpData, 1);
  data->actor = thecal_user_copy (actor);
  data->serial = g_strdup (input->serial);
  data->model_id = g_strdup (input->model_id);
  data->patient_mrn = g_strdup (input->patient_mrn);
  data->implant_date = g_strdup (input->implant_date);
  data->catheter_length_mm = input->catheter_length_mm;
  if (input->pairing_key != NULL)
    {
      memcpy (data->key, input->pairing_key, THECAL_PAIRING_KEY_BYTES);
      data->have_key = TRUE;
    }
  _thecal_record_submit (self, op_add_pump, data, pump_data_free, (GDestroyNotify) thecal_pump_free,
                         THECAL_TXN_WRITE, thecal_record_add_pump_async, cancellable, callback, user_data);
}

ThecalPump *
thecal_record_add_pump_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_add_pump_async, error);
}

static gpointer
op_change_pump (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  PumpData *data = user_data;
  g_autoptr (ThecalPump) current = NULL;
  g_autoptr (ThecalPump) changed = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  const char *action;

  if (!_thecal_record_check_text (_ ("reason for the change"), data->reason, REASON_MAX_BYTES, TRUE, error))
    return NULL;
  current = _thecal_record_pump_by_serial (db, data->serial != NULL ? data->serial : "", FALSE, error);
  if (current == NULL)
    return NULL;
  if (!check_pump_details (data->implant_date, data->catheter_length_mm, data->status, data->explant_date, error))
    return NULL;
  if (g_str_equal (data->implant_date, current->implant_date) && data->catheter_length_mm == current->catheter_length_mm
      && data->status == current->status && g_strcmp0 (data->explant_date, current->explant_date) == 0)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_INVALID,
                   _ ("The change of pump %s changes nothing: nothing was saved."), current->serial);
      return NULL;
    }
  if (!insert_pump_version (db, data, current->id, current->version_id, error))
    return NULL;
  changed = _thecal_record_pump_by_serial (db, current->serial, FALSE, error);
  if (changed == NULL)
    return NULL;
  before = pump_json (current);
  after = pump_json (changed);
  action = current->status == THECAL_PUMP_IMPLANTED && changed->status == THECAL_PUMP_EXPLANTED ? "pump.explant"
                                                                                                : "pump.correct";
  if (!_thecal_record_audit_change (db, data->actor, action, "pump", current->id, current->patient_id, before, after, data->reason, error))
    return NULL;
  return g_steal_pointer (&changed);
}

void
thecal_record_change_pump_async (ThecalRecord *self,
                                 const ThecalUser *actor,
                                 const char *serial,
                                 const ThecalPumpDetails *details,
                                 const char *reason,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  PumpData *data;

  g_return_if_fail (THECAL_IS_RECORD (self));
  g_return_if_fail (actor != NULL && serial != NULL && details != NULL);

  data = g_new0 (PumpData, 1);
  data->actor = thecal_user_copy (actor);
  data->serial = g_strdup (serial);
  data->implant_date = g_strdup (details->implant_date);
  data->catheter_length_mm = details->catheter_length_mm;
  data->status = details->status;
  data->explant_date = g_strdup (details->explant_date);
  data->reason = g_strdup (reason);
  _thecal_record_submit (self, op_change_pump, data, pump_data_free, (GDestroyNotify) thecal_pump_free,
                         THECAL_TXN_WRITE, thecal_record_change_pump_async, cancellable, callback, user_data);
}

ThecalPump *
thecal_record_change_pump_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_change_pump_async, error);
}

static gpointer
op_get_pump (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  PumpData *data = user_data;

  return _thecal_record_pump_by_serial (db, data->serial != NULL ? data->serial : "", FALSE, error);
}

void
thecal_record_get_pump_async (ThecalRecord *self,
                              const char *serial,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  PumpData *data;

  g_return_if_fail (THECAL_IS_RECORD (self));

  data = g_new0 (PumpData, 1);
  data->serial = g_strdup (serial);
  _thecal_record_submit (self, op_get_pump, data, pump_data_free, (GDestroyNotify) thecal_pump_free,
                         THECAL_TXN_READ, thecal_record_get_pump_async, cancellable, callback, user_data);
}

ThecalPump *
thecal_record_get_pump_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_get_pump_async, error);
}

static gpointer
op_list_pumps (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  PumpData *data = user_data;
  sqlite3_stmt *stmt;

  if (data->patient_mrn != NULL)
    {
      g_autoptr (ThecalPatient) patient = patient_by_mrn (db, data->patient_mrn, FALSE, error);

      if (patient == NULL)
        return NULL;
      stmt = _thecal_record_stmt (db, STMT_PUMP_LIST_PATIENT, error);
      if (stmt == NULL)
        return NULL;
      sqlite3_bind_int64 (stmt, 1, patient->id);
    }
  else
    {
      stmt = _thecal_record_stmt (db, STMT_PUMP_LIST_ALL, error);
      if (stmt == NULL)
        return NULL;
    }
  return _thecal_record_all_rows (db, stmt, pump_from_row, (GDestroyNotify) thecal_pump_free, error);
}

void
thecal_record_list_pumps_async (ThecalRecord *self,
                                const char *patient_mrn,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  PumpData *data;

  g_return_if_fail (THECAL_IS_RECORD (self));

  data = g_new0 (PumpData, 1);
  data->patient_mrn = g_strdup (patient_mrn);
  _thecal_record_submit (self, op_list_pumps, data, pump_data_free, (GDestroyNotify) g_ptr_array_unref,
                         THECAL_TXN_READ, thecal_record_list_pumps_async, cancellable, callback, user_data);
}

GPtrArray *
thecal_record_list_pumps_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_list_pumps_async, error);
}

static gpointer
op_get_pairing_key (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  PumpData *data = user_data;
  sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_PUMP_KEY, error);
  GBytes *key;
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, data->serial, -1, SQLITE_TRANSIENT);
  rc = _thecal_record_step (db, stmt, error);
  if (rc < 0)
    return NULL;
  if (rc == 0)
    {
      g_set_error (error, THECAL_DB_ERROR, THECAL_DB_ERROR_NOT_FOUND,
                   _ ("There is no pump with the serial number %s."), data->serial);
      return NULL;
    }
  key = _thecal_record_unwrap_key (db, data->serial, sqlite3_column_blob (stmt, 0),
                                   (gsize) sqlite3_column_bytes (stmt, 0), error);
  sqlite3_reset (stmt);
  return key;
}

void
thecal_record_get_pairing_key_async (ThecalRecord *self,
                                     const char *serial,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  PumpData *data;

  g_return_if_fail (THECAL_IS_RECORD (self));
  g_return_if_fail (serial != NULL);

  data = g_new0 (PumpData, 1);
  data->serial = g_strdup (serial);
  _thecal_record_submit (self, op_get_pairing_key, data, pump_data_free, (GDestroyNotify) g_bytes_unref,
                         THECAL_TXN_READ, thecal_record_get_pairing_key_async, cancellable, callback, user_data);
}

GBytes *
thecal_record_get_pairing_key_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, thecal_record_get_pairing_key_async, error);
}

/* ---- Filling (benchmarks, tests) ------------------------------------------------------------- */

static const char *const fill_family[] = {
  "MARTIN",
  "BERNARD",
  "THOMAS",
  "PETIT",
  "ROBERT",
  "RICHARD",
  "DURAND",
  "DUBOIS",
  "MOREAU",
  "LAURENT",
  "SIMON",
  "MICHEL",
  "LEFEBVRE",
  "LEROY",
  "ROUX",
  "DAVID",
  "BERTRAND",
  "MOREL",
  "FOURNIER",
  "GIRARD",
  "SMITH",
  "JOHNSON",
  "WILLIAMS",
  "BROWN",
  "JONES",
  "GARCIA",
  "MILLER",
  "DAVIS",
  "RODRIGUEZ",
  "MARTINEZ",
  "HERNANDEZ",
  "LOPEZ",
  "GONZALEZ",
  "WILSON",
  "ANDERSON",
  "TAYLOR",
  "MOORE",
  "JACKSON",
  "WHITE",
  "HARRIS",
  "MÜLLER",
  "SCHMIDT",
  "SCHNEIDER",
  "FISCHER",
  "WEBER",
  "MEYER",
  "WAGNER",
  "BECKER",
  "SCHULZ",
  "HOFFMANN",
  "ROSSI",
  "RUSSO",
  "FERRARI",
  "ESPOSITO",
  "BIANCHI",
  "ROMANO",
  "COLOMBO",
  "RICCI",
  "MARINO",
  "GRECO",
  "NOWAK",
  "KOWALSKI",
  "WIŚNIEWSKI",
  "WÓJCIK",
  "KOWALCZYK",
  "KAMIŃSKI",
  "LEWANDOWSKI",
  "ZIELIŃSKI",
  "SZYMAŃSKI",
  "DE JONG",
  "JANSEN",
  "DE VRIES",
  "VAN DEN BERG",
  "VAN DIJK",
  "BAKKER",
  "JANSSEN",
  "VISSER",
  "SMIT",
  "MEIJER",
  "O'BRIEN",
  "MURPHY",
  "KELLY",
  "SULLIVAN",
  "WALSH",
  "NGUYEN",
  "TRAN",
  "LE",
  "PHAM",
  "HOANG",
  "KIM",
  "LEE",
  "PARK",
  "CHOI",
  "JUNG",
  "WANG",
  "LI",
  "ZHANG",
  "LIU",
  "CHEN",
};
static const char *const fill_given[] = {
  "Jane",
  "John",
  "Louise",
  "Pierre",
  "Anna",
  "Hans",
  "Maria",
  "Giulia",
  "Olga",
  "Piotr",
  "Sven",
  "Ingrid",
  "Aoife",
  "Sean",
  "Minh",
  "Linh",
  "Ji-woo",
  "Wei",
  "Fatima",
  "Omar",
  "Lucía",
  "José",
  "Emma",
  "Noah",
  "Olivia",
  "Liam",
  "Amélie",
  "Zoë",
  "Björn",
  "Ærin",
  "Chloé",
  "Mateo",
  "Sofia",
  "Lukas",
  "Mia",
  "Élodie",
};

char *
_thecal_record_fill_name (gint64 index)
{
  guint64 i = (guint64) index;

  return g_strdup_printf ("%s, %s", fill_family[(i * 7919u) % G_N_ELEMENTS (fill_family)],
                          fill_given[(i * 104729u + i / 97u) % G_N_ELEMENTS (fill_given)]);
}

typedef struct
{
  ThecalUser *actor;
  gint64 first;
  gint64 count;
} FillData;

static void
fill_data_free (gpointer user_data)
{
  FillData *data = user_data;

  g_clear_pointer (&data->actor, thecal_user_free);
  g_free (data);
}

static gpointer
op_fill_patients (ThecalRecordDb *db, gpointer user_data, GError **error)
{
  FillData *fill = user_data;
  gint64 done = 0;

  for (gint64 i = fill->first; i < fill->first + fill->count; i++)
    {
      g_autofree char *mrn = g_strdup_printf ("B%07" G_GINT64_FORMAT, i);
      g_autofree char *name = _thecal_record_fill_name (i);
      g_autofree char *born = g_strdup_printf ("%04d-%02d-%02d", 1930 + (int) (i % 80), 1 + (int) (i % 12),
                                               1 + (int) (i % 28));
      PatientData data = {
        .actor = fill->actor,
        .input_mrn = mrn,
        .name = name,
        .date_of_birth = born,
        .opioid_tolerance = i % 3 == 0 ? THECAL_OPIOID_NAIVE : THECAL_OPIOID_TOLERANT,
        .notes = (char *) "",
      };
      g_autoptr (ThecalPatient) patient = NULL;
      g_autofree char *after = NULL;
      sqlite3_stmt *stmt = _thecal_record_stmt (db, STMT_PATIENT_INSERT, error);
      gint64 patient_id;

      if (stmt == NULL)
        return NULL;
      sqlite3_bind_text (stmt, 1, mrn, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 2, _thecal_record_now_utc_ms ());
      sqlite3_bind_int64 (stmt, 3, fill->actor->id);
      if (!_thecal_record_step_done (db, stmt, error))
        return NULL;
      patient_id = sqlite3_last_insert_rowid (db->db);
      if (!insert_patient_version (db, &data, patient_id, 0, error))
        return NULL;
      patient = patient_by_id (db, patient_id, error);
      if (patient == NULL)
        return NULL;
      after = patient_json (patient);
      if (!_thecal_record_audit_change (db, fill->actor, "patient.create", "patient", patient_id, patient_id, NULL,
                                        after, NULL, error))
        return NULL;
      done++;
    }
  return g_memdup2 (&done, sizeof done);
}

void
_thecal_record_fill_patients_async (ThecalRecord *self,
                                    const ThecalUser *actor,
                                    gint64 first,
                                    gint64 count,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  FillData *data = g_new0 (FillData, 1);

  data->actor = thecal_user_copy (actor);
  data->first = first;
  data->count = count;
  _thecal_record_submit (self, op_fill_patients, data, fill_data_free, g_free, THECAL_TXN_WRITE,
                         _thecal_record_fill_patients_async, cancellable, callback, user_data);
}

gint64 *
_thecal_record_fill_patients_finish (ThecalRecord *self, GAsyncResult *result, GError **error)
{
  return _thecal_record_propagate (self, result, _thecal_record_fill_patients_async, error);
}
