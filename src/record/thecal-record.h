/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-record.h: the patient record (DESIGN.md "Patient record", docs/record.md).
 *
 * One SQLite file, one connection, owned by one thread that this object starts. Every call is a
 * message to that thread: it runs there in one transaction (BEGIN IMMEDIATE for writes) and its
 * result comes back through GTask on the caller's thread-default main context, so the main loop
 * never waits on the disk. Every write appends its audit entry (docs/security.md) in the same
 * transaction: a write and its audit entry are saved together or not at all.
 *
 * Cancelling a call that has not started yet leaves the record untouched (G_IO_ERROR_CANCELLED).
 * A write cancelled while it runs is rolled back. A write that committed is reported as done even
 * if its GCancellable was cancelled afterwards: the record never says "not saved" when it was.
 *
 * The record checks what it stores (formats, uniqueness, supersede chains, the demo rule) but
 * not who may do what: that is src/workflow (thecal-permissions.h), which every caller goes
 * through. The ThecalUser passed as @actor is whoever is logged in; it is written into the audit
 * trail.
 *
 * _async functions take a GCancellable; thecal_record_open_sync () is for the command line and
 * tests (thecal-sync-call.h turns any other pair into a blocking call for them).
 */
#pragma once

#include <gio/gio.h>

#include "thecal-prescription.h"
#include "thecal-record-error.h"
#include "thecal-record-types.h"

G_BEGIN_DECLS

/* PRAGMA user_version of the newest schema this build knows (docs/record.md). */
#define THECAL_RECORD_SCHEMA_VERSION 2
/* PRAGMA application_id of every Thecal record: "THEC" (0x54484543). */
#define THECAL_RECORD_APPLICATION_ID 0x54484543

typedef enum
{
  THECAL_RECORD_OPEN_DEFAULT = 0,
  THECAL_RECORD_OPEN_CREATE = 1 << 0,      /* create the record when the file does not exist */
  THECAL_RECORD_OPEN_CREATE_DEMO = 1 << 1, /* with CREATE: a new record is a demo record */
  /* Tests only: hash new passwords with Argon2id's MIN limits instead of INTERACTIVE (the limits
   * travel inside each hash, so verifying is unaffected; a MIN hash is upgraded at the next
   * login without this flag). docs/security.md. */
  THECAL_RECORD_OPEN_FAST_HASH = 1 << 2,
} ThecalRecordOpenFlags;

#define THECAL_TYPE_RECORD (thecal_record_get_type ())
G_DECLARE_FINAL_TYPE (ThecalRecord, thecal_record, THECAL, RECORD, GObject)

/* g_get_user_data_dir ()/thecal/record.sqlite (a new string). */
char *thecal_record_default_path (void);
/* The clinic key file beside a record: "<record>.key" (a new string; docs/security.md). */
char *thecal_record_key_path (const char *record_path);

/* Opens (or, with CREATE, creates) the record at @path. A file that is not a Thecal record, is
 * damaged, or was written by a newer Thecal is refused and left byte for byte as it was. An older
 * schema is migrated after a backup copy (thecal_record_get_backup_path ()). */
void thecal_record_open_async (const char *path,
                               ThecalRecordOpenFlags flags,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
ThecalRecord *thecal_record_open_finish (GAsyncResult *result, GError **error);
ThecalRecord *thecal_record_open_sync (const char *path,
                                       ThecalRecordOpenFlags flags,
                                       GCancellable *cancellable,
                                       GError **error);

/* Facts known once opened (read on the thread that opened it). */
const char *thecal_record_get_path (ThecalRecord *self);
gboolean thecal_record_is_demo (ThecalRecord *self);
gboolean thecal_record_is_read_only (ThecalRecord *self);
gboolean thecal_record_was_created (ThecalRecord *self); /* this open created the file */
gint thecal_record_get_schema_version (ThecalRecord *self);
const char *thecal_record_get_backup_path (ThecalRecord *self); /* NULL: no migration ran */
/* NULL when the clinic key file is there and fits; else why pairing keys cannot be read. */
const char *thecal_record_get_key_problem (ThecalRecord *self);

/* ---- Users ------------------------------------------------------------------------------- */

/* TRUE while the record has no user: the first-run path must create the first administrator. */
void thecal_record_needs_first_administrator_async (ThecalRecord *self,
                                                    GCancellable *cancellable,
                                                    GAsyncReadyCallback callback,
                                                    gpointer user_data);
gboolean thecal_record_needs_first_administrator_finish (ThecalRecord *self,
                                                         GAsyncResult *result,
                                                         gboolean *needed,
                                                         GError **error);

/* The first-run path: creates the first user, an administrator, only while there is no user
 * (THECAL_DB_ERROR_EXISTS otherwise). */
void thecal_record_create_first_administrator_async (ThecalRecord *self,
                                                     const char *name,
                                                     const char *full_name,
                                                     const char *password,
                                                     GCancellable *cancellable,
                                                     GAsyncReadyCallback callback,
                                                     gpointer user_data);
ThecalUser *thecal_record_create_first_administrator_finish (ThecalRecord *self,
                                                             GAsyncResult *result,
                                                             GError **error);

/* Checks @password for @name and appends "login" or "login.failed" (and "user.locked" at the
 * lock-out). THECAL_DB_ERROR_AUTH_FAILED ("Unknown user or wrong password": which one is not
 * said) or THECAL_DB_ERROR_LOCKED_OUT. An unknown name costs the time of a real check. */
void thecal_record_login_async (ThecalRecord *self,
                                const char *name,
                                const char *password,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
ThecalUser *thecal_record_login_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

void thecal_record_add_user_async (ThecalRecord *self,
                                   const ThecalUser *actor,
                                   const char *name,
                                   const char *full_name,
                                   ThecalRole role,
                                   const char *password,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
ThecalUser *thecal_record_add_user_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

/* Every user, by name (GPtrArray of ThecalUser). */
void thecal_record_list_users_async (ThecalRecord *self,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
GPtrArray *thecal_record_list_users_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

/* Sets @name's password (and clears its failed attempts, so it also unlocks). */
void thecal_record_set_password_async (ThecalRecord *self,
                                       const ThecalUser *actor,
                                       const char *name,
                                       const char *password,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
ThecalUser *thecal_record_set_password_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

void thecal_record_unlock_user_async (ThecalRecord *self,
                                      const ThecalUser *actor,
                                      const char *name,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data);
ThecalUser *thecal_record_unlock_user_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

/* ---- Patients ---------------------------------------------------------------------------- */

void thecal_record_add_patient_async (ThecalRecord *self,
                                      const ThecalUser *actor,
                                      const ThecalPatientInput *input,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data);
ThecalPatient *thecal_record_add_patient_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

/* Checks one field of a patient's details as add and correct do, without the database (no
 * thread, no I/O: the GUI shows each refusal under its field before it submits). @field: "mrn",
 * "name", "date_of_birth", "notes" or "reason" (of a correction). FALSE with THECAL_DB_ERROR_INVALID
 * and the record's own message, which names the field. */
gboolean thecal_record_check_patient_field (const char *field, const char *value, GError **error);

/* A correction: a new version of the details that supersedes the current one (the MRN stays). */
void thecal_record_correct_patient_async (ThecalRecord *self,
                                          const ThecalUser *actor,
                                          const char *mrn,
                                          const ThecalPatientInput *input,
                                          const char *reason,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data);
ThecalPatient *thecal_record_correct_patient_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

/* The current version (THECAL_DB_ERROR_NOT_FOUND for an unknown MRN). */
void thecal_record_get_patient_async (ThecalRecord *self,
                                      const char *mrn,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data);
ThecalPatient *thecal_record_get_patient_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

/* Current versions by MRN, @limit (≥ 1) from @offset. */
void thecal_record_list_patients_async (ThecalRecord *self,
                                        gint64 offset,
                                        gint64 limit,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data);
GPtrArray *thecal_record_list_patients_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

/* Patients whose MRN starts with @text, then those with a word of the name starting with each
 * word of @text (case and accents ignored: "mull" finds "Müller"), at most @limit. */
void thecal_record_search_patients_async (ThecalRecord *self,
                                          const char *text,
                                          gint64 limit,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data);
GPtrArray *thecal_record_search_patients_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

/* ---- Pumps ------------------------------------------------------------------------------- */

void thecal_record_add_pump_async (ThecalRecord *self,
                                   const ThecalUser *actor,
                                   const ThecalPumpInput *input,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
ThecalPump *thecal_record_add_pump_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

/* A correction or an explant: a new version that supersedes the current one. */
void thecal_record_change_pump_async (ThecalRecord *self,
                                      const ThecalUser *actor,
                                      const char *serial,
                                      const ThecalPumpDetails *details,
                                      const char *reason,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data);
ThecalPump *thecal_record_change_pump_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

void thecal_record_get_pump_async (ThecalRecord *self,
                                   const char *serial,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
ThecalPump *thecal_record_get_pump_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

/* Current versions by serial; @patient_mrn NULL: every pump. */
void thecal_record_list_pumps_async (ThecalRecord *self,
                                     const char *patient_mrn,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
GPtrArray *thecal_record_list_pumps_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

/* The pump's pairing key, unwrapped (THECAL_PAIRING_KEY_BYTES; the bytes are wiped when the
 * GBytes is freed). THECAL_DB_ERROR_KEY when the clinic key file is missing or does not fit. */
void thecal_record_get_pairing_key_async (ThecalRecord *self,
                                          const char *serial,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data);
GBytes *thecal_record_get_pairing_key_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

/* ---- Prescriptions ----------------------------------------------------------------------- */

/* A new version for the pump (stored as canonical JSON). @supersedes: the version this one
 * corrects (entered in error), 0 for a new prescription; a correction needs @reason. */
void thecal_record_add_prescription_async (ThecalRecord *self,
                                           const ThecalUser *actor,
                                           const char *pump_serial,
                                           const ThecalPrescription *rx,
                                           gint64 effective_from_utc_ms,
                                           ThecalPrescriptionSource source,
                                           gint64 supersedes,
                                           const char *reason,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer user_data);
ThecalRecordedPrescription *thecal_record_add_prescription_finish (ThecalRecord *self,
                                                                   GAsyncResult *result,
                                                                   GError **error);

/* Every version of the pump's prescription, oldest first. */
void thecal_record_list_prescriptions_async (ThecalRecord *self,
                                             const char *pump_serial,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data);
GPtrArray *thecal_record_list_prescriptions_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

/* ---- Programming sessions ---------------------------------------------------------------- */

typedef struct
{
  const char *pump_serial;
  gint64 old_prescription_id; /* what the pump ran (a version of this pump), 0 if unknown */
  const ThecalPrescription *new_rx;
  const char *reason; /* why the change: required */
  const ThecalProgrammingChangeInput *changes;
  guint n_changes;
} ThecalProgrammingInput;

/* Intent before action: the session, its changes and a PENDING outcome, committed before the
 * first byte goes to the pump. Each override reason is also audited as "override". */
void thecal_record_begin_programming_async (ThecalRecord *self,
                                            const ThecalUser *actor,
                                            const ThecalProgrammingInput *input,
                                            GCancellable *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer user_data);
ThecalProgrammingSession *thecal_record_begin_programming_finish (ThecalRecord *self,
                                                                  GAsyncResult *result,
                                                                  GError **error);

/* Resolves a PENDING or UNCERTAIN session with a row that supersedes its current outcome.
 * CONFIRMED also writes the new prescription version (effective from @effective_from_utc_ms).
 * CONFIRMED and FAILED are final (THECAL_DB_ERROR_STATE afterwards); PENDING cannot be set. */
void thecal_record_resolve_programming_async (ThecalRecord *self,
                                              const ThecalUser *actor,
                                              gint64 session_id,
                                              ThecalProgrammingOutcome outcome,
                                              const char *note,
                                              gint64 effective_from_utc_ms,
                                              GCancellable *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer user_data);
ThecalProgrammingSession *thecal_record_resolve_programming_finish (ThecalRecord *self,
                                                                    GAsyncResult *result,
                                                                    GError **error);

void thecal_record_get_programming_session_async (ThecalRecord *self,
                                                  gint64 session_id,
                                                  GCancellable *cancellable,
                                                  GAsyncReadyCallback callback,
                                                  gpointer user_data);
ThecalProgrammingSession *thecal_record_get_programming_session_finish (ThecalRecord *self,
                                                                        GAsyncResult *result,
                                                                        GError **error);

/* Sessions still PENDING or UNCERTAIN (what a start must reconcile with the pumps). */
void thecal_record_list_unresolved_sessions_async (ThecalRecord *self,
                                                   GCancellable *cancellable,
                                                   GAsyncReadyCallback callback,
                                                   gpointer user_data);
GPtrArray *thecal_record_list_unresolved_sessions_finish (ThecalRecord *self,
                                                          GAsyncResult *result,
                                                          GError **error);

/* ---- Pump writes: refills and boluses ----------------------------------------------------- */

/* Intent before action: the write and its PENDING outcome, committed before the first byte goes
 * to the pump ("refill.pending" or "bolus.pending" audited). THECAL_DB_ERROR_INVALID for a
 * missing reason or a request that is not a JSON object; NOT_FOUND for an unknown pump; STATE for
 * an explanted one. */
void thecal_record_begin_pump_write_async (ThecalRecord *self,
                                           const ThecalUser *actor,
                                           const ThecalPumpWriteInput *input,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer user_data);
ThecalPumpWrite *thecal_record_begin_pump_write_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

/* Resolves a PENDING or UNCERTAIN write with a row that supersedes its current outcome (audited
 * "refill.confirmed", "bolus.uncertain", ...). A refill resolved CONFIRMED needs @refill, the
 * refills row, written in the same transaction (for the write's pump; "refill.create" audited
 * too); every other resolution takes NULL. CONFIRMED and FAILED are final (THECAL_DB_ERROR_STATE
 * afterwards); PENDING cannot be set (INVALID); NOT_FOUND for an unknown write. @pump_serial: the
 * pump the caller is connected to; a write of another pump is refused (INVALID), NULL skips the
 * check. */
void thecal_record_resolve_pump_write_async (ThecalRecord *self,
                                             const ThecalUser *actor,
                                             gint64 write_id,
                                             const char *pump_serial,
                                             ThecalProgrammingOutcome outcome,
                                             const char *note,
                                             const ThecalRefillInput *refill,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data);
ThecalPumpWrite *thecal_record_resolve_pump_write_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

/* The writes of @pump_serial (NULL: of every pump), oldest first (GPtrArray of ThecalPumpWrite);
 * with @unresolved_only, those still PENDING or UNCERTAIN (what a connection must settle before
 * any change). */
void thecal_record_list_pump_writes_async (ThecalRecord *self,
                                           const char *pump_serial,
                                           gboolean unresolved_only,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer user_data);
GPtrArray *thecal_record_list_pump_writes_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

/* ---- Refills, events, alarms -------------------------------------------------------------- */

void thecal_record_add_refill_async (ThecalRecord *self,
                                     const ThecalUser *actor,
                                     const ThecalRefillInput *input,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
ThecalRefill *thecal_record_add_refill_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

void thecal_record_get_refill_async (ThecalRecord *self,
                                     gint64 refill_id,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
ThecalRefill *thecal_record_get_refill_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

/* Imports a pump's log: an event already there with the same (serial, sequence) is skipped
 * (counted as a duplicate, or as a conflict when its content differs: the first import is kept
 * and the conflict audited). */
void thecal_record_import_events_async (ThecalRecord *self,
                                        const ThecalUser *actor,
                                        const char *pump_serial,
                                        const ThecalPumpEventInput *events,
                                        guint n_events,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data);
ThecalEventImport *thecal_record_import_events_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

/* @pump_time_ms: G_MININT64 when the pump gave no time. */
void thecal_record_add_alarm_seen_async (ThecalRecord *self,
                                         const ThecalUser *actor,
                                         const char *pump_serial,
                                         const char *kind,
                                         gint64 pump_time_ms,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data);
ThecalAlarmSeen *thecal_record_add_alarm_seen_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

/* Everything recorded for one patient (history, export). */
void thecal_record_get_patient_record_async (ThecalRecord *self,
                                             const char *mrn,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data);
ThecalPatientRecord *thecal_record_get_patient_record_finish (ThecalRecord *self,
                                                              GAsyncResult *result,
                                                              GError **error);

/* ---- Audit trail -------------------------------------------------------------------------- */

/* Appends one entry for what the workflow did or refused (@actor NULL: nobody logged in). */
void thecal_record_append_audit_async (ThecalRecord *self,
                                       const ThecalUser *actor,
                                       const ThecalAuditInput *input,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
ThecalAuditEntry *thecal_record_append_audit_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

/* Walks the whole chain (docs/security.md) and names the first entry altered, removed or
 * reordered. With @anchor_seq > 0, also checks that entry @anchor_seq still has @anchor_hash (an
 * earlier head kept elsewhere), which catches a cut or rewritten tail. The result is never an
 * error for a broken chain: that is in the ThecalAuditVerification. */
void thecal_record_verify_audit_async (ThecalRecord *self,
                                       gint64 anchor_seq,
                                       const guint8 *anchor_hash,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
ThecalAuditVerification *thecal_record_verify_audit_finish (ThecalRecord *self,
                                                            GAsyncResult *result,
                                                            GError **error);

/* Entries from @from_seq on, at most @limit (GPtrArray of ThecalAuditEntry). */
void thecal_record_list_audit_async (ThecalRecord *self,
                                     gint64 from_seq,
                                     gint64 limit,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
GPtrArray *thecal_record_list_audit_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

G_END_DECLS
