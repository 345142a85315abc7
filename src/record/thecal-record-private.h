/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-record-private.h: what the files of src/record share and nobody else sees: the state
 * owned by the record's thread (the SQLite connection and its cached statements), the message
 * that carries one call to that thread, and the helpers every operation uses.
 *
 * Everything that takes a ThecalRecordDb runs on the record's thread and asserts it
 * (_thecal_record_db_assert_owner). Only src/record includes sqlite3.h (DESIGN.md "Layers").
 */
#pragma once

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "thecal-record.h"

G_BEGIN_DECLS

/* The persistent statements, prepared once with SQLITE_PREPARE_PERSISTENT on first use and reset
 * before each reuse (Epiphany's get_cached_statement). Their SQL is in thecal-record-db.c. */
typedef enum
{
  STMT_INFO_GET = 0,
  STMT_INFO_INSERT,

  STMT_AUDIT_LAST,
  STMT_AUDIT_INSERT,
  STMT_AUDIT_WALK,
  STMT_AUDIT_FIND_HASH,
  STMT_AUDIT_HASH_AT,

  STMT_USER_COUNT,
  STMT_USER_BY_NAME,
  STMT_USER_BY_ID,
  STMT_USER_INSERT,
  STMT_USER_LIST,
  STMT_USER_SET_FAILED,
  STMT_USER_SET_PASSWORD,
  STMT_USER_REHASH,

  STMT_PATIENT_BY_MRN,
  STMT_PATIENT_BY_ID,
  STMT_PATIENT_VERSIONS,
  STMT_PATIENT_INSERT,
  STMT_PATIENT_VERSION_INSERT,
  STMT_PATIENT_LIST,
  STMT_SEARCH_DELETE,
  STMT_SEARCH_INSERT,
  STMT_SEARCH_MATCH,
  STMT_SEARCH_MRN_RANGE,

  STMT_PUMP_BY_SERIAL,
  STMT_PUMP_LIST_ALL,
  STMT_PUMP_LIST_PATIENT,
  STMT_PUMP_VERSIONS_OF_PATIENT,
  STMT_PUMP_INSERT,
  STMT_PUMP_VERSION_INSERT,
  STMT_PUMP_KEY,

  STMT_RX_NEXT_VERSION,
  STMT_RX_INSERT,
  STMT_RX_BY_ID,
  STMT_RX_LIST_PUMP,
  STMT_RX_LIST_PATIENT,
  STMT_RX_IS_SUPERSEDED,

  STMT_SESSION_INSERT,
  STMT_CHANGE_INSERT,
  STMT_OUTCOME_INSERT,
  STMT_SESSION_BY_ID,
  STMT_SESSION_CHANGES,
  STMT_SESSION_OUTCOME,
  STMT_SESSION_PRESCRIPTION,
  STMT_SESSION_UNRESOLVED,
  STMT_SESSION_IDS_OF_PATIENT,

  STMT_WRITE_INSERT,
  STMT_WRITE_OUTCOME_INSERT,
  STMT_WRITE_BY_ID,
  STMT_WRITE_OUTCOME,
  STMT_WRITE_IDS_ALL,
  STMT_WRITE_IDS_PUMP,
  STMT_WRITE_IDS_UNRESOLVED_ALL,
  STMT_WRITE_IDS_UNRESOLVED_PUMP,

  STMT_REFILL_INSERT,
  STMT_REFILL_BY_ID,
  STMT_REFILL_LIST_PATIENT,
  STMT_REFILL_IS_SUPERSEDED,

  STMT_EVENT_GET,
  STMT_EVENT_INSERT,
  STMT_EVENT_LIST_PATIENT,

  STMT_ALARM_INSERT,
  STMT_ALARM_BY_ID,
  STMT_ALARM_LIST_PATIENT,

  THECAL_N_STMTS
} ThecalStmt;

/* Owned by the record's thread once it started; nobody else touches it. */
typedef struct
{
  GThread *owner;
  sqlite3 *db;
  sqlite3_stmt *stmts[THECAL_N_STMTS];
  char *path;
  ThecalRecordOpenFlags flags;
  gboolean read_only;
  gboolean demo;
  gboolean writing;          /* the message running now is a write */
  gboolean inspecting;       /* the file is being opened and is not accepted yet */
  GCancellable *cancellable; /* the message running now's (for the progress handler) */
  /* Argon2id limits for new password hashes (docs/security.md). */
  unsigned long long pwhash_opslimit;
  size_t pwhash_memlimit;
  /* The key-encryption key of the pairing keys (docs/security.md), when the key file fits. */
  gint schema_version;
  guint8 kek[32];
  gboolean have_kek;
  char *key_problem;
  /* A hash checked when a login names an unknown user, so that costs the time of a real one. */
  char *dummy_hash;
  /* Set by an operation that fails but whose audit entries must stay (a failed login): the
   * transaction is committed and the error still returned. */
  gboolean keep_on_error;
} ThecalRecordDb;

/* What an open found, handed back to the ThecalRecord on the caller's thread. */
typedef struct
{
  gint schema_version;
  gboolean demo;
  gboolean read_only;
  gboolean created;
  char *backup_path;
  char *key_problem;
} ThecalRecordOpenInfo;

void _thecal_record_open_info_free (ThecalRecordOpenInfo *info);

/* One call on the record's thread. Returns the result (freed with the message's result_free if
 * nobody takes it) or NULL with @error set. */
typedef gpointer (*ThecalRecordOp) (ThecalRecordDb *db, gpointer data, GError **error);

typedef enum
{
  THECAL_TXN_NONE = 0, /* the operation manages transactions itself (open) */
  THECAL_TXN_READ,     /* BEGIN (one consistent snapshot) … COMMIT */
  THECAL_TXN_WRITE,    /* BEGIN IMMEDIATE … COMMIT, ROLLBACK on any error */
} ThecalTxn;

/* Queues @op on the record's thread; @data is freed with @data_free on the caller's thread after
 * the result was delivered. */
void _thecal_record_submit (ThecalRecord *self,
                            ThecalRecordOp op,
                            gpointer data,
                            GDestroyNotify data_free,
                            GDestroyNotify result_free,
                            ThecalTxn txn,
                            gpointer source_tag,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data);
/* The result of a submitted call (NULL with @error set on failure). */
gpointer _thecal_record_propagate (ThecalRecord *self, GAsyncResult *result, gpointer source_tag, GError **error);

/* Tests only: the integer value of "PRAGMA @name" on the record's own connection (synchronous,
 * foreign_keys, journal_mode is text: not here). */
void _thecal_record_pragma_async (ThecalRecord *self,
                                  const char *name,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
gint64 *_thecal_record_pragma_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

/* ---- thecal-record-error.c: the one SQLite → GError mapping ------------------------------- */

/* Sets @error from SQLite result @rc of @db's connection; always returns FALSE. */
gboolean _thecal_record_sqlite_error (ThecalRecordDb *db, int rc, GError **error);
/* The same for a connection that is not (yet) a ThecalRecordDb's. */
typedef enum
{
  THECAL_SQLITE_READING = 0,
  THECAL_SQLITE_WRITING,    /* "nothing was saved" */
  THECAL_SQLITE_INSPECTING, /* a file being opened, not yet accepted: "Thecal did not change it" */
} ThecalSqliteAction;

gboolean _thecal_record_sqlite_error_full (sqlite3 *db, const char *path, int rc, ThecalSqliteAction action, GError **error);

/* ---- thecal-record-db.c: statements and steps --------------------------------------------- */

void _thecal_record_db_assert_owner (ThecalRecordDb *db);
sqlite3_stmt *_thecal_record_stmt (ThecalRecordDb *db, ThecalStmt which, GError **error);
void _thecal_record_reset_statements (ThecalRecordDb *db);
void _thecal_record_finalize_statements (ThecalRecordDb *db);
gboolean _thecal_record_exec (ThecalRecordDb *db, const char *sql, GError **error);
/* SQLITE_ROW: 1; SQLITE_DONE: 0 (and the statement is reset); anything else: -1 with @error. */
int _thecal_record_step (ThecalRecordDb *db, sqlite3_stmt *stmt, GError **error);
/* Steps a statement that returns no row. */
gboolean _thecal_record_step_done (ThecalRecordDb *db, sqlite3_stmt *stmt, GError **error);
void _thecal_record_bind_text (sqlite3_stmt *stmt, int index, const char *text); /* NULL: NULL */
void _thecal_record_bind_id (sqlite3_stmt *stmt, int index, gint64 id);          /* 0: NULL */
char *_thecal_record_column_text (sqlite3_stmt *stmt, int column);               /* NULL stays NULL */
gint64 _thecal_record_now_utc_ms (void);
/* Reads PRAGMA @name as an integer. */
gboolean _thecal_record_pragma_int (ThecalRecordDb *db, const char *name, gint64 *value, GError **error);
void _thecal_record_db_free (ThecalRecordDb *db);

/* A row of a statement turned into a result struct. */
typedef gpointer (*ThecalRowFunc) (sqlite3_stmt *stmt);
/* The one row of @stmt (already bound) or NULL; a missing row is NOT_FOUND with @missing as
 * the message, or no error at all when @missing is NULL. */
gpointer _thecal_record_one_row (ThecalRecordDb *db, sqlite3_stmt *stmt, ThecalRowFunc from_row, const char *missing, GError **error);
GPtrArray *_thecal_record_all_rows (ThecalRecordDb *db, sqlite3_stmt *stmt, ThecalRowFunc from_row, GDestroyNotify free_func, GError **error);

/* ---- thecal-record-schema.c: opening, checks, migrations, backup -------------------------- */

gpointer _thecal_record_op_open (ThecalRecordDb *db, gpointer data, GError **error);

/* A migration: @sql run in one transaction, then user_version = its index + 1. */
typedef struct
{
  const char *name;
  const char *sql;
} ThecalRecordMigration;

/* The names of the triggers that the schema of @version creates (the record's protections). */
GPtrArray *_thecal_record_expected_triggers (gint version);
/* Tests only: when set, one more migration after the newest (schema version + 1), so the
 * migration path (backup, one transaction, failure leaves the file as it was) can be tested
 * while the real schema has a single version. */
extern const ThecalRecordMigration *_thecal_record_test_migration;

/* ---- thecal-record-audit.c ---------------------------------------------------------------- */

/* Appends one entry in the current write transaction. @actor NULL: the record itself
 * (user_name "thecal") or nobody logged in (user_name @fallback_name). */
ThecalAuditEntry *_thecal_record_audit_append (ThecalRecordDb *db,
                                               const ThecalUser *actor,
                                               const char *fallback_name,
                                               const ThecalAuditInput *input,
                                               GError **error);
/* The same for a change of a row: one entry with the given fields. */
gboolean _thecal_record_audit_change (ThecalRecordDb *db,
                                      const ThecalUser *actor,
                                      const char *action,
                                      const char *object_type,
                                      gint64 object_id,
                                      gint64 patient_id,
                                      const char *before,
                                      const char *after,
                                      const char *reason,
                                      GError **error);
/* SHA-256 over the canonical encoding of @entry (docs/security.md). */
void _thecal_audit_entry_compute_hash (const ThecalAuditEntry *entry, guint8 hash[THECAL_AUDIT_HASH_BYTES]);
/* The canonical encoding itself (for tests and docs): domain tag, prev_hash, then the fields. */
GBytes *_thecal_audit_entry_encode (const ThecalAuditEntry *entry);

/* ---- thecal-record-keys.c: the clinic key and the pairing keys ---------------------------- */

/* Loads (or, when @create, creates) the clinic key beside the record and derives the KEK into
 * db->kek; on a problem sets db->key_problem (not an error: the record opens without it). */
gboolean _thecal_record_keys_load (ThecalRecordDb *db, gboolean create, GError **error);
/* The check value of db->kek, as lowercase hex (written in record_info at creation). */
char *_thecal_record_kek_check (ThecalRecordDb *db);
GBytes *_thecal_record_wrap_key (ThecalRecordDb *db, const char *serial, const guint8 *key, GError **error);
GBytes *_thecal_record_unwrap_key (ThecalRecordDb *db, const char *serial, const void *wrapped, gsize length, GError **error);

/* ---- thecal-record-patients.c ------------------------------------------------------------- */

/* NOT_FOUND when unknown, or NULL without error when @quiet. */
ThecalPump *_thecal_record_pump_by_serial (ThecalRecordDb *db, const char *serial, gboolean quiet, GError **error);
ThecalPatient *_thecal_record_patient_by_mrn (ThecalRecordDb *db, const char *mrn, GError **error);
GPtrArray *_thecal_record_patient_versions (ThecalRecordDb *db, gint64 patient_id, GError **error);
GPtrArray *_thecal_record_pump_versions_of_patient (ThecalRecordDb *db, gint64 patient_id, GError **error);

/* ---- thecal-record-users.c ---------------------------------------------------------------- */

ThecalUser *_thecal_record_user_by_name (ThecalRecordDb *db, const char *name, GError **error);
ThecalUser *_thecal_record_user_from_row (sqlite3_stmt *stmt);
/* "Usernames": 1–64 of A–Z a–z 0–9 . _ - */
gboolean _thecal_record_check_user_name (const char *name, GError **error);

/* ---- thecal-record-text.c: input checks and JSON for audit entries ------------------------- */

gboolean _thecal_record_check_code (const char *what, const char *value, GError **error); /* MRN, serial */
gboolean _thecal_record_check_text (const char *what, const char *value, gsize max_bytes, gboolean required, GError **error);
gboolean _thecal_record_check_date (const char *what, const char *value, gboolean not_future, GError **error);
/* Lower-case, accent-free words of @text, in order, without repeats. */
GPtrArray *_thecal_record_search_tokens (const char *text);

/* JSON for the before/after of audit entries: integers as exact digits, never through a
 * double; _print takes @object and returns compact text. */
void _thecal_record_json_int (cJSON *object, const char *key, gint64 value);
void _thecal_record_json_text (cJSON *object, const char *key, const char *text); /* NULL: null */
void _thecal_record_json_bool (cJSON *object, const char *key, gboolean value);
char *_thecal_record_json_print (cJSON *object);

G_END_DECLS
