/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-record-db.c: the connection's helpers on the record's thread: the cached statements
 * (their SQL, all in one table, so a reviewer reads every query the record makes in one place),
 * stepping, binding, PRAGMAs.
 */
#include "config.h"

#include <sodium.h>

#include "thecal-record-private.h"

/* The current (not superseded) version of a patient, and who wrote it. */
#define PATIENT_COLUMNS                                                                   \
  "SELECT p.id, v.id, v.supersedes, p.mrn, v.name, v.date_of_birth, v.opioid_tolerance, " \
  "v.notes, v.reason, p.created_utc_ms, v.recorded_utc_ms, u.name "                       \
  "FROM patients p JOIN patient_versions v ON v.patient_id = p.id JOIN users u ON u.id = v.recorded_by "
#define CURRENT_PATIENT_VERSION \
  "NOT EXISTS (SELECT 1 FROM patient_versions s WHERE s.supersedes = v.id)"

#define PUMP_COLUMNS                                                                                       \
  "SELECT p.id, v.id, v.supersedes, p.serial, p.model_id, p.patient_id, pt.mrn, v.implant_date, "          \
  "v.catheter_length_mm, v.status, v.explant_date, v.reason, p.created_utc_ms, v.recorded_utc_ms, u.name " \
  "FROM pumps p JOIN patients pt ON pt.id = p.patient_id JOIN pump_versions v ON v.pump_id = p.id "        \
  "JOIN users u ON u.id = v.recorded_by "
#define CURRENT_PUMP_VERSION \
  "NOT EXISTS (SELECT 1 FROM pump_versions s WHERE s.supersedes = v.id)"

/* effective_to: the start of the next valid (not superseded) version that starts later. */
#define RX_COLUMNS                                                                          \
  "SELECT r.id, r.pump_id, p.serial, r.version, r.supersedes, r.effective_from_utc_ms, "    \
  "(SELECT min (n.effective_from_utc_ms) FROM prescriptions n WHERE n.pump_id = r.pump_id " \
  "  AND n.effective_from_utc_ms > r.effective_from_utc_ms "                                \
  "  AND NOT EXISTS (SELECT 1 FROM prescriptions s WHERE s.supersedes = n.id)), "           \
  "EXISTS (SELECT 1 FROM prescriptions s WHERE s.supersedes = r.id), "                      \
  "r.source, r.session_id, r.prescription_json, r.reason, r.recorded_utc_ms, u.name "       \
  "FROM prescriptions r JOIN pumps p ON p.id = r.pump_id JOIN users u ON u.id = r.recorded_by "

#define REFILL_COLUMNS                                                                              \
  "SELECT r.id, r.pump_id, p.serial, r.supersedes, "                                                \
  "EXISTS (SELECT 1 FROM refills s WHERE s.supersedes = r.id), r.performed_utc_ms, r.expected_nl, " \
  "r.aspirated_nl, r.discrepancy_nl, r.discrepancy_flagged, r.added_nl, r.drug_id, "                \
  "r.concentration_ng_per_ml, r.lot, r.expiry_date, pu.name, vu.name, r.reason, r.recorded_utc_ms " \
  "FROM refills r JOIN pumps p ON p.id = r.pump_id JOIN users pu ON pu.id = r.performed_by "        \
  "JOIN users vu ON vu.id = r.verified_by "

#define USER_COLUMNS \
  "SELECT id, name, full_name, role, failed_attempts, created_utc_ms, password_changed_utc_ms, password_hash FROM users "

#define AUDIT_COLUMNS                                                                               \
  "SELECT seq, at_utc_ms, user_id, user_name, action, object_type, object_id, patient_id, before, " \
  "after, reason, prev_hash, hash FROM audit "

#define ALARM_COLUMNS                                                                        \
  "SELECT a.id, p.serial, a.kind, a.pump_time_ms, a.seen_utc_ms, u.name FROM alarms_seen a " \
  "JOIN pumps p ON p.id = a.pump_id JOIN users u ON u.id = a.seen_by "

static const char *const statement_sql[THECAL_N_STMTS] = {
  [STMT_INFO_GET] = "SELECT value FROM record_info WHERE key = ?1",
  [STMT_INFO_INSERT] = "INSERT INTO record_info (key, value) VALUES (?1, ?2)",

  [STMT_AUDIT_LAST] = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
  [STMT_AUDIT_INSERT] = "INSERT INTO audit (seq, at_utc_ms, user_id, user_name, action, object_type, "
                        "object_id, patient_id, before, after, reason, prev_hash, hash) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
  [STMT_AUDIT_WALK] = AUDIT_COLUMNS "WHERE seq >= ?1 ORDER BY seq LIMIT ?2",
  [STMT_AUDIT_FIND_HASH] = "SELECT seq FROM audit WHERE hash = ?1 LIMIT 1",
  [STMT_AUDIT_HASH_AT] = "SELECT hash FROM audit WHERE seq = ?1",

  [STMT_USER_COUNT] = "SELECT count (*) FROM users",
  [STMT_USER_BY_NAME] = USER_COLUMNS "WHERE name = ?1",
  [STMT_USER_BY_ID] = USER_COLUMNS "WHERE id = ?1",
  [STMT_USER_INSERT] = "INSERT INTO users (name, full_name, role, password_hash, failed_attempts, "
                       "created_utc_ms, password_changed_utc_ms) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?5)",
  [STMT_USER_LIST] = USER_COLUMNS "ORDER BY name",
  [STMT_USER_SET_FAILED] = "UPDATE users SET failed_attempts = ?2 WHERE id = ?1",
  [STMT_USER_SET_PASSWORD] = "UPDATE users SET password_hash = ?2, password_changed_utc_ms = ?3, "
                             "failed_attempts = 0 WHERE id = ?1",
  [STMT_USER_REHASH] = "UPDATE users SET password_hash = ?2 WHERE id = ?1",

  [STMT_PATIENT_BY_MRN] = PATIENT_COLUMNS "WHERE p.mrn = ?1 AND " CURRENT_PATIENT_VERSION,
  [STMT_PATIENT_BY_ID] = PATIENT_COLUMNS "WHERE p.id = ?1 AND " CURRENT_PATIENT_VERSION,
  [STMT_PATIENT_VERSIONS] = PATIENT_COLUMNS "WHERE p.id = ?1 ORDER BY v.id",
  [STMT_PATIENT_INSERT] = "INSERT INTO patients (mrn, created_utc_ms, created_by) VALUES (?1, ?2, ?3)",
  [STMT_PATIENT_VERSION_INSERT] = "INSERT INTO patient_versions (patient_id, supersedes, name, date_of_birth, "
                                  "opioid_tolerance, notes, reason, recorded_utc_ms, recorded_by) "
                                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
  [STMT_PATIENT_LIST] = PATIENT_COLUMNS "WHERE " CURRENT_PATIENT_VERSION " ORDER BY p.mrn LIMIT ?1 OFFSET ?2",
  [STMT_SEARCH_DELETE] = "DELETE FROM patient_search WHERE rowid = ?1",
  [STMT_SEARCH_INSERT] = "INSERT INTO patient_search (rowid, words) VALUES (?1, ?2)",
  [STMT_SEARCH_MATCH] = "SELECT rowid FROM patient_search WHERE patient_search MATCH ?1 LIMIT ?2",
  [STMT_SEARCH_MRN_RANGE] = "SELECT id FROM patients WHERE mrn >= ?1 AND mrn < ?2 ORDER BY mrn LIMIT ?3",

  [STMT_PUMP_BY_SERIAL] = PUMP_COLUMNS "WHERE p.serial = ?1 AND " CURRENT_PUMP_VERSION,
  [STMT_PUMP_LIST_ALL] = PUMP_COLUMNS "WHERE " CURRENT_PUMP_VERSION " ORDER BY p.serial",
  [STMT_PUMP_LIST_PATIENT] = PUMP_COLUMNS "WHERE p.patient_id = ?1 AND " CURRENT_PUMP_VERSION " ORDER BY p.serial",
  [STMT_PUMP_VERSIONS_OF_PATIENT] = PUMP_COLUMNS "WHERE p.patient_id = ?1 ORDER BY p.id, v.id",
  [STMT_PUMP_INSERT] = "INSERT INTO pumps (serial, model_id, patient_id, pairing_key_wrapped, created_utc_ms, "
                       "created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
  [STMT_PUMP_VERSION_INSERT] = "INSERT INTO pump_versions (pump_id, supersedes, implant_date, catheter_length_mm, "
                               "status, explant_date, reason, recorded_utc_ms, recorded_by) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
  [STMT_PUMP_KEY] = "SELECT pairing_key_wrapped FROM pumps WHERE serial = ?1",

  [STMT_RX_NEXT_VERSION] = "SELECT coalesce (max (version), 0) + 1 FROM prescriptions WHERE pump_id = ?1",
  [STMT_RX_INSERT] = "INSERT INTO prescriptions (pump_id, version, supersedes, effective_from_utc_ms, source, "
                     "session_id, prescription_json, reason, recorded_utc_ms, recorded_by) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
  [STMT_RX_BY_ID] = RX_COLUMNS "WHERE r.id = ?1",
  [STMT_RX_LIST_PUMP] = RX_COLUMNS "WHERE r.pump_id = ?1 ORDER BY r.version",
  [STMT_RX_LIST_PATIENT] = RX_COLUMNS "WHERE p.patient_id = ?1 ORDER BY p.id, r.version",
  [STMT_RX_IS_SUPERSEDED] = "SELECT id FROM prescriptions WHERE supersedes = ?1",

  [STMT_SESSION_INSERT] = "INSERT INTO programming_sessions (pump_id, started_utc_ms, started_by, reason, "
                          "old_prescription_id, new_prescription_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
  [STMT_CHANGE_INSERT] = "INSERT INTO programming_changes (session_id, field, old_value, new_value, "
                         "override_reason) VALUES (?1, ?2, ?3, ?4, ?5)",
  [STMT_OUTCOME_INSERT] = "INSERT INTO programming_outcomes (session_id, supersedes, outcome, note, "
                          "recorded_utc_ms, recorded_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
  [STMT_SESSION_BY_ID] = "SELECT s.id, s.pump_id, p.serial, s.started_utc_ms, u.name, s.reason, "
                         "s.old_prescription_id, s.new_prescription_json FROM programming_sessions s "
                         "JOIN pumps p ON p.id = s.pump_id JOIN users u ON u.id = s.started_by WHERE s.id = ?1",
  [STMT_SESSION_CHANGES] = "SELECT id, field, old_value, new_value, override_reason FROM programming_changes "
                           "WHERE session_id = ?1 ORDER BY id",
  [STMT_SESSION_OUTCOME] = "SELECT o.id, o.outcome, o.note, o.recorded_utc_ms, u.name, "
                           "(SELECT count (*) FROM programming_outcomes c WHERE c.session_id = o.session_id) "
                           "FROM programming_outcomes o JOIN users u ON u.id = o.recorded_by "
                           "WHERE o.session_id = ?1 "
                           "AND NOT EXISTS (SELECT 1 FROM programming_outcomes s WHERE s.supersedes = o.id)",
  [STMT_SESSION_PRESCRIPTION] = "SELECT id FROM prescriptions WHERE session_id = ?1",
  [STMT_SESSION_UNRESOLVED] = "SELECT o.session_id FROM programming_outcomes o "
                              "WHERE o.outcome IN ('pending', 'uncertain') "
                              "AND NOT EXISTS (SELECT 1 FROM programming_outcomes s WHERE s.supersedes = o.id) "
                              "ORDER BY o.session_id",
  [STMT_SESSION_IDS_OF_PATIENT] = "SELECT s.id FROM programming_sessions s JOIN pumps p ON p.id = s.pump_id "
                                  "WHERE p.patient_id = ?1 ORDER BY s.id",

  [STMT_WRITE_INSERT] = "INSERT INTO pump_writes (pump_id, kind, started_utc_ms, started_by, reason, request_json) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
  [STMT_WRITE_OUTCOME_INSERT] = "INSERT INTO pump_write_outcomes (write_id, supersedes, outcome, refill_id, note, "
                                "recorded_utc_ms, recorded_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
  [STMT_WRITE_BY_ID] = "SELECT w.id, w.pump_id, p.serial, w.kind, w.started_utc_ms, u.name, w.reason, w.request_json "
                       "FROM pump_writes w JOIN pumps p ON p.id = w.pump_id JOIN users u ON u.id = w.started_by "
                       "WHERE w.id = ?1",
  [STMT_WRITE_OUTCOME] = "SELECT o.id, o.outcome, o.note, o.recorded_utc_ms, u.name, "
                         "(SELECT count (*) FROM pump_write_outcomes c WHERE c.write_id = o.write_id), "
                         "(SELECT max (c.refill_id) FROM pump_write_outcomes c WHERE c.write_id = o.write_id) "
                         "FROM pump_write_outcomes o JOIN users u ON u.id = o.recorded_by "
                         "WHERE o.write_id = ?1 "
                         "AND NOT EXISTS (SELECT 1 FROM pump_write_outcomes s WHERE s.supersedes = o.id)",
  [STMT_WRITE_IDS_ALL] = "SELECT id FROM pump_writes ORDER BY id",
  [STMT_WRITE_IDS_PUMP] = "SELECT id FROM pump_writes WHERE pump_id = ?1 ORDER BY id",
  [STMT_WRITE_IDS_UNRESOLVED_ALL] = "SELECT o.write_id FROM pump_write_outcomes o "
                                    "WHERE o.outcome IN ('pending', 'uncertain') "
                                    "AND NOT EXISTS (SELECT 1 FROM pump_write_outcomes s WHERE s.supersedes = o.id) "
                                    "ORDER BY o.write_id",
  [STMT_WRITE_IDS_UNRESOLVED_PUMP] = "SELECT o.write_id FROM pump_write_outcomes o JOIN pump_writes w ON w.id = o.write_id "
                                     "WHERE w.pump_id = ?1 AND o.outcome IN ('pending', 'uncertain') "
                                     "AND NOT EXISTS (SELECT 1 FROM pump_write_outcomes s WHERE s.supersedes = o.id) "
                                     "ORDER BY o.write_id",

  [STMT_REFILL_INSERT] = "INSERT INTO refills (pump_id, supersedes, performed_utc_ms, expected_nl, aspirated_nl, "
                         "discrepancy_nl, discrepancy_flagged, added_nl, drug_id, concentration_ng_per_ml, lot, "
                         "expiry_date, performed_by, verified_by, reason, recorded_utc_ms) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
  [STMT_REFILL_BY_ID] = REFILL_COLUMNS "WHERE r.id = ?1",
  [STMT_REFILL_LIST_PATIENT] = REFILL_COLUMNS "WHERE p.patient_id = ?1 ORDER BY r.id",
  [STMT_REFILL_IS_SUPERSEDED] = "SELECT id FROM refills WHERE supersedes = ?1",

  [STMT_EVENT_GET] = "SELECT pump_time_ms, kind, detail FROM pump_events WHERE pump_id = ?1 AND sequence = ?2",
  [STMT_EVENT_INSERT] = "INSERT INTO pump_events (pump_id, sequence, pump_time_ms, kind, detail, imported_utc_ms, "
                        "imported_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
  [STMT_EVENT_LIST_PATIENT] = "SELECT e.id, e.sequence, e.pump_time_ms, e.kind, e.detail, e.imported_utc_ms, "
                              "u.name, p.serial FROM pump_events e JOIN pumps p ON p.id = e.pump_id "
                              "JOIN users u ON u.id = e.imported_by WHERE p.patient_id = ?1 "
                              "ORDER BY p.id, e.sequence",

  [STMT_ALARM_INSERT] = "INSERT INTO alarms_seen (pump_id, kind, pump_time_ms, seen_utc_ms, seen_by) "
                        "VALUES (?1, ?2, ?3, ?4, ?5)",
  [STMT_ALARM_BY_ID] = ALARM_COLUMNS "WHERE a.id = ?1",
  [STMT_ALARM_LIST_PATIENT] = ALARM_COLUMNS "WHERE p.patient_id = ?1 ORDER BY a.id",
};

void
_thecal_record_db_assert_owner (ThecalRecordDb *db)
{
  /* One connection, one thread (STYLE.md §5, §9.8): anything else is a programming error. */
  g_assert (db->owner == g_thread_self ());
}

sqlite3_stmt *
_thecal_record_stmt (ThecalRecordDb *db, ThecalStmt which, GError **error)
{
  sqlite3_stmt *stmt;
  int rc;

  _thecal_record_db_assert_owner (db);
  g_assert (which < THECAL_N_STMTS && statement_sql[which] != NULL);
  stmt = db->stmts[which];
  if (stmt != NULL)
    {
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
      return stmt;
    }
  rc = sqlite3_prepare_v3 (db->db, statement_sql[which], -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      _thecal_record_sqlite_error (db, rc, error);
      return NULL;
    }
  db->stmts[which] = stmt;
  return stmt;
}

void
_thecal_record_reset_statements (ThecalRecordDb *db)
{
  for (gsize i = 0; i < THECAL_N_STMTS; i++)
    if (db->stmts[i] != NULL)
      sqlite3_reset (db->stmts[i]);
}

void
_thecal_record_finalize_statements (ThecalRecordDb *db)
{
  for (gsize i = 0; i < THECAL_N_STMTS; i++)
    g_clear_pointer (&db->stmts[i], sqlite3_finalize);
}

gboolean
_thecal_record_exec (ThecalRecordDb *db, const char *sql, GError **error)
{
  int rc;

  _thecal_record_db_assert_owner (db);
  rc = sqlite3_exec (db->db, sql, NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return _thecal_record_sqlite_error (db, rc, error);
  return TRUE;
}

int
_thecal_record_step (ThecalRecordDb *db, sqlite3_stmt *stmt, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_ROW)
    return 1;
  if (rc == SQLITE_DONE)
    {
      sqlite3_reset (stmt);
      return 0;
    }
  /* sqlite3_reset () returns the same error; the connection's message is read before it. */
  _thecal_record_sqlite_error (db, rc, error);
  sqlite3_reset (stmt);
  return -1;
}

gboolean
_thecal_record_step_done (ThecalRecordDb *db, sqlite3_stmt *stmt, GError **error)
{
  int rc = _thecal_record_step (db, stmt, error);

  if (rc < 0)
    return FALSE;
  /* Only statements that return no row come here. */
  g_assert (rc == 0);
  return TRUE;
}

void
_thecal_record_bind_text (sqlite3_stmt *stmt, int index, const char *text)
{
  if (text == NULL)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
}

void
_thecal_record_bind_id (sqlite3_stmt *stmt, int index, gint64 id)
{
  if (id == 0)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_int64 (stmt, index, id);
}

char *
_thecal_record_column_text (sqlite3_stmt *stmt, int column)
{
  const unsigned char *text;

  if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
    return NULL;
  text = sqlite3_column_text (stmt, column);
  return g_strndup ((const char *) text, (gsize) sqlite3_column_bytes (stmt, column));
}

gint64
_thecal_record_now_utc_ms (void)
{
  return g_get_real_time () / 1000;
}

gboolean
_thecal_record_pragma_int (ThecalRecordDb *db, const char *name, gint64 *value, GError **error)
{
  g_autofree char *sql = g_strdup_printf ("PRAGMA %s", name);
  sqlite3_stmt *stmt = NULL;
  int rc;

  _thecal_record_db_assert_owner (db);
  rc = sqlite3_prepare_v2 (db->db, sql, -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    return _thecal_record_sqlite_error (db, rc, error);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      _thecal_record_sqlite_error (db, rc, error);
      sqlite3_finalize (stmt);
      return FALSE;
    }
  *value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return TRUE;
}

void
_thecal_record_db_free (ThecalRecordDb *db)
{
  if (db == NULL)
    return;
  _thecal_record_finalize_statements (db);
  if (db->db != NULL)
    sqlite3_close_v2 (db->db);
  sodium_memzero (db->kek, sizeof db->kek);
  g_free (db->key_problem);
  g_free (db->dummy_hash);
  g_free (db->path);
  g_free (db);
}

gpointer
_thecal_record_one_row (ThecalRecordDb *db, sqlite3_stmt *stmt, ThecalRowFunc from_row, const char *missing, GError **error)
{
  gpointer row;
  int rc = _thecal_record_step (db, stmt, error);

  if (rc < 0)
    return NULL;
  if (rc == 0)
    {
      if (missing != NULL)
        g_set_error_literal (error, THECAL_DB_ERROR, THECAL_DB_ERROR_NOT_FOUND, missing);
      return NULL;
    }
  row = from_row (stmt);
  sqlite3_reset (stmt);
  return row;
}

GPtrArray *
_thecal_record_all_rows (ThecalRecordDb *db, sqlite3_stmt *stmt, ThecalRowFunc from_row, GDestroyNotify free_func, GError **error)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (free_func);
  int rc;

  while ((rc = _thecal_record_step (db, stmt, error)) == 1)
    g_ptr_array_add (rows, from_row (stmt));
  if (rc < 0)
    return NULL;
  return g_steal_pointer (&rows);
}
