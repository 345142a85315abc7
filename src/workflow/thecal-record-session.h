/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-record-session.h: a person logged in to the patient record (DESIGN.md "Roles").
 *
 * A session is made by logging in (or, on a record without users, by the first-run path that
 * creates the first administrator). Every operation is checked against the permission table
 * (thecal-permissions.h) before it reaches the record; a refusal is appended to the audit trail
 * ("permission.denied") and then reported as THECAL_WORKFLOW_ERROR_PERMISSION_DENIED. What the
 * record does is audited by the record itself, in the same transaction.
 *
 * _async/_finish for the GUI; _sync wrappers for the command line only.
 */
#pragma once

#include <gio/gio.h>

#include "thecal-permissions.h"
#include "thecal-record.h"

G_BEGIN_DECLS

#define THECAL_TYPE_RECORD_SESSION (thecal_record_session_get_type ())
G_DECLARE_FINAL_TYPE (ThecalRecordSession, thecal_record_session, THECAL, RECORD_SESSION, GObject)

/* Logs @name in (record: thecal_record_login_async). A read-only record refuses every login: a
 * login that cannot be audited does not happen. */
void thecal_record_session_login_async (ThecalRecord *record,
                                        const char *name,
                                        const char *password,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data);
ThecalRecordSession *thecal_record_session_login_finish (GAsyncResult *result, GError **error);
ThecalRecordSession *thecal_record_session_login_sync (ThecalRecord *record,
                                                       const char *name,
                                                       const char *password,
                                                       GCancellable *cancellable,
                                                       GError **error);

/* Whether @record has no user yet, so that the first-run path below is the way in (*@first_run);
 * asked before anyone is logged in. FALSE with @error when the record cannot be read. */
void thecal_record_session_needs_first_run_async (ThecalRecord *record,
                                                  GCancellable *cancellable,
                                                  GAsyncReadyCallback callback,
                                                  gpointer user_data);
gboolean thecal_record_session_needs_first_run_finish (GAsyncResult *result, gboolean *first_run, GError **error);
gboolean thecal_record_session_needs_first_run_sync (ThecalRecord *record,
                                                     gboolean *first_run,
                                                     GCancellable *cancellable,
                                                     GError **error);

/* The first-run path: creates the first administrator of a record that has no user yet, and
 * logs them in. */
void thecal_record_session_first_run_async (ThecalRecord *record,
                                            const char *name,
                                            const char *full_name,
                                            const char *password,
                                            GCancellable *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer user_data);
ThecalRecordSession *thecal_record_session_first_run_finish (GAsyncResult *result, GError **error);
ThecalRecordSession *thecal_record_session_first_run_sync (ThecalRecord *record,
                                                           const char *name,
                                                           const char *full_name,
                                                           const char *password,
                                                           GCancellable *cancellable,
                                                           GError **error);

ThecalRecord *thecal_record_session_get_record (ThecalRecordSession *self);
const ThecalUser *thecal_record_session_get_user (ThecalRecordSession *self);
gboolean thecal_record_session_may (ThecalRecordSession *self, ThecalPermission permission);

/* Every operation below comes as _async, _finish and _sync; only the _sync form is declared
 * with its arguments spelled out for the ones the command line needs, the others follow the same
 * pattern. Permission in brackets. */

#define THECAL_SESSION_OP(ret, op, ...)                                                                      \
  void thecal_record_session_##op##_async (ThecalRecordSession *self, __VA_ARGS__ GCancellable *cancellable, \
                                           GAsyncReadyCallback callback, gpointer user_data);                \
  ret thecal_record_session_##op##_finish (ThecalRecordSession *self, GAsyncResult *result, GError **error); \
  ret thecal_record_session_##op##_sync (ThecalRecordSession *self, __VA_ARGS__ GCancellable *cancellable,   \
                                         GError **error);

/* [user.manage] */
THECAL_SESSION_OP (ThecalUser *, add_user, const char *name, const char *full_name, ThecalRole role, const char *password, )
/* [user.manage] */
THECAL_SESSION_OP (GPtrArray *, list_users, )
/* Own password [password.own], another user's [user.manage]; a new password also unlocks. */
THECAL_SESSION_OP (ThecalUser *, set_password, const char *name, const char *password, )
/* [user.manage] */
THECAL_SESSION_OP (ThecalUser *, unlock_user, const char *name, )

/* [patient.create] */
THECAL_SESSION_OP (ThecalPatient *, add_patient, const ThecalPatientInput *input, )
/* [patient.correct] */
THECAL_SESSION_OP (ThecalPatient *, correct_patient, const char *mrn, const ThecalPatientInput *input, const char *reason, )
/* [patient.read] */
THECAL_SESSION_OP (ThecalPatient *, get_patient, const char *mrn, )
/* [patient.read] */
THECAL_SESSION_OP (GPtrArray *, list_patients, gint64 offset, gint64 limit, )
/* [patient.read] */
THECAL_SESSION_OP (GPtrArray *, search_patients, const char *text, gint64 limit, )

/* [pump.create] */
THECAL_SESSION_OP (ThecalPump *, add_pump, const ThecalPumpInput *input, )
/* [pump.change] */
THECAL_SESSION_OP (ThecalPump *, change_pump, const char *serial, const ThecalPumpDetails *details, const char *reason, )
/* [pump.read] */
THECAL_SESSION_OP (ThecalPump *, get_pump, const char *serial, )
/* [pump.read]; @patient_mrn NULL: every pump */
THECAL_SESSION_OP (GPtrArray *, list_pumps, const char *patient_mrn, )

/* [history.read] */
THECAL_SESSION_OP (ThecalPatientRecord *, get_patient_record, const char *mrn, )
/* [history.read]: the refills and boluses written to @pump_serial, oldest first (GPtrArray of
 * ThecalPumpWrite, with their current outcome): the history's account of writes that a patient
 * record does not hold (requests, and attempts that failed or stayed uncertain). */
THECAL_SESSION_OP (GPtrArray *, list_pump_writes, const char *pump_serial, )
/* [patient.export]: the whole record, after the export ("export", with @format) was audited. An
 * export that cannot be audited is not made. */
THECAL_SESSION_OP (ThecalPatientRecord *, export_patient, const char *mrn, const char *format, )

/* [audit.verify] */
THECAL_SESSION_OP (ThecalAuditVerification *, verify_audit, gint64 anchor_seq, const guint8 *anchor_hash, )
/* [audit.export]: entries from @from_seq (at most @limit, ≤ 0: all), after "audit.export" was
 * audited. */
THECAL_SESSION_OP (GPtrArray *, export_audit, gint64 from_seq, gint64 limit, const char *format, )

#undef THECAL_SESSION_OP

G_END_DECLS
