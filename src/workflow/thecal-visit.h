/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-visit.h: a clinic visit (docs/workflows.md): one person, logged in to the record, with
 * one pump through one ThecalPumpLink. The GUI and thecal-cli both drive this object, so every
 * rule below holds wherever a person clicks or types.
 *
 *   connect    IDENTIFY → the pump in the record (an unknown pump: THECAL_VISIT_ERROR_UNKNOWN_PUMP,
 *              the caller offers to register it; a pump of another patient:
 *              THECAL_VISIT_ERROR_WRONG_PATIENT, audited) → its pairing key → interrogation
 *              (status, active prescription, alarms, battery, the log since the last imported
 *              sequence) → reconciliation of every PENDING/UNCERTAIN programming session of the
 *              pump (CLINICAL.md §1.7, §6.3-6.4) and of every PENDING/UNCERTAIN refill and bolus
 *              the record holds for it (a read of the pump settles each; finding "reconciled",
 *              or "unresolved_write" and the visit stays blocked) → idempotent import of the log → findings
 *              (alarms, ERI/EOS, clock drift, the reported reservoir against the record's history).
 *   program    review (dose-core check, projections old and new, a field-by-field diff) → the
 *              PENDING session in the record FIRST → two-phase write → read back → the outcome
 *              recorded. UNCERTAIN blocks every further change on the pump until a read resolves
 *              it (thecal_visit_reconcile_async).
 *
 * Roles are enforced here (thecal-permissions.h): a refusal says why and is audited
 * ("permission.denied") before it is reported.
 *
 * Threads: a visit lives on the thread-default main context of the thread that created it (the
 * link's owning context): every method is called there and every callback runs there.
 */
#pragma once

#include <gio/gio.h>

#include "thecal-check.h"
#include "thecal-drug.h"
#include "thecal-pump-link.h"
#include "thecal-record-session.h"
#include "thecal-refill.h"

G_BEGIN_DECLS

#define THECAL_VISIT_ERROR (thecal_visit_error_quark ())
GQuark thecal_visit_error_quark (void);

typedef enum
{
  THECAL_VISIT_ERROR_FAILED = 0,
  THECAL_VISIT_ERROR_UNKNOWN_PUMP,  /* the pump is not in the record: offer to register it */
  THECAL_VISIT_ERROR_WRONG_PATIENT, /* the pump belongs to another patient (audited) */
  THECAL_VISIT_ERROR_NOT_CONNECTED, /* connect first (or the link was lost: reconnect) */
  THECAL_VISIT_ERROR_BUSY,          /* another workflow step is running */
  THECAL_VISIT_ERROR_BLOCKED,       /* an UNCERTAIN write on this pump: reconcile first */
  THECAL_VISIT_ERROR_REFUSED,       /* the dose core refused (hard limit) */
  THECAL_VISIT_ERROR_NEEDS_REASON,  /* a soft limit or a discrepancy needs a reason/acknowledgement */
  THECAL_VISIT_ERROR_VERIFIER,      /* the second person's credentials were refused */
  THECAL_VISIT_ERROR_PAUSED,        /* the wand or the pump went away: nothing was half-applied;
                                     * reconnect and resume (the message says what the pump may run) */
  THECAL_VISIT_ERROR_WRONG_KEY,     /* a new implant's pairing key does not open a session with the pump
                                     * (audited "implant.refused"; nothing was written) */
} ThecalVisitError;

/* The pump's clock may differ from the clinic's by at most this much before the visit says so
 * and offers a clock synchronisation (docs/workflows.md "Clock"): 5 minutes. Schedules (flex
 * steps, periodic boluses) are minutes after local midnight, so 5 min is one-twelfth of the
 * shortest meaningful flex step and well inside a clinic's tolerance. */
#define THECAL_VISIT_CLOCK_DRIFT_MAX_MS (5 * 60 * 1000)

typedef enum
{
  THECAL_VISIT_FINDING_INFO = 0,
  THECAL_VISIT_FINDING_WARNING, /* look at it */
  THECAL_VISIT_FINDING_ALARM,   /* act on it */
} ThecalVisitSeverity;

typedef struct
{
  ThecalVisitSeverity severity;
  char *code;    /* "reservoir_mismatch", "alarm.motor_stall", "clock_drift", "reconciled" ... */
  char *message; /* one sentence for people */
} ThecalVisitFinding;

void thecal_visit_finding_free (ThecalVisitFinding *finding);
const char *thecal_visit_severity_name (ThecalVisitSeverity severity); /* "alarm" */

/* One changed field of a review (the GUI's side-by-side Finish screen, the CLI's list). */
typedef struct
{
  char *field; /* "continuous.dose", "ptm.lockout", "flex_steps[2].start" ... */
  char *old_value;
  char *new_value;
} ThecalVisitChange;

void thecal_visit_change_free (ThecalVisitChange *change);

/* A change of prescription, reviewed (thecal_visit_review_prescription). */
typedef struct
{
  ThecalPrescription old_rx; /* what the pump runs (read at connect) */
  ThecalPrescription new_rx;
  ThecalChecksum reviewed_active; /* the checksum of old_rx as read from the pump */
  ThecalCheckResult check;        /* dose core: library, model, patient */
  gboolean old_plan_valid;
  ThecalDeliveryPlan old_plan;
  gboolean have_projections;       /* from the pump's reservoir estimate */
  ThecalProjection old_projection; /* the reservoir under the old prescription */
  ThecalProjection new_projection; /* and under the new one */
  GPtrArray *changes;              /* ThecalVisitChange, every field old → new */
} ThecalProgramReview;

void thecal_program_review_free (ThecalProgramReview *review);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ThecalProgramReview, thecal_program_review_free)

/* The diff alone: every field of @new_rx that differs from @old_rx (GPtrArray of
 * ThecalVisitChange; empty when they are equal). */
GPtrArray *thecal_prescription_diff (const ThecalPrescription *old_rx, const ThecalPrescription *new_rx);

/* The clinic's clock, UTC ms (default: the real time). The demo and the tests use the simulated
 * pump's time. Called on the visit's context. */
typedef gint64 (*ThecalVisitTimeFunc) (gpointer user_data);

#define THECAL_TYPE_VISIT (thecal_visit_get_type ())
G_DECLARE_FINAL_TYPE (ThecalVisit, thecal_visit, THECAL, VISIT, GObject)

/* A visit by @session's user over @link. @models and @library are copied. */
ThecalVisit *thecal_visit_new (ThecalRecordSession *session,
                               ThecalPumpLink *link,
                               const ThecalPumpModelSet *models,
                               const ThecalDrugLibrary *library);

void thecal_visit_set_time_func (ThecalVisit *self, ThecalVisitTimeFunc func, gpointer user_data);
/* Pump-local = UTC + this offset (the clinic's zone; default 0). */
void thecal_visit_set_local_offset_ms (ThecalVisit *self, gint64 offset_ms);
gint64 thecal_visit_now_utc_ms (ThecalVisit *self);

ThecalRecordSession *thecal_visit_get_session (ThecalVisit *self);
ThecalPumpLink *thecal_visit_get_link (ThecalVisit *self);

/* After connect (NULL/FALSE before). */
gboolean thecal_visit_is_connected (ThecalVisit *self);
const ThecalPump *thecal_visit_get_pump (ThecalVisit *self);
const ThecalPatient *thecal_visit_get_patient (ThecalVisit *self);
const ThecalPumpModel *thecal_visit_get_model (ThecalVisit *self);
const ThecalProtoIdentity *thecal_visit_get_identity (ThecalVisit *self); /* also after UNKNOWN_PUMP */
const ThecalProtoStatus *thecal_visit_get_status (ThecalVisit *self);
const ThecalMsgPrescription *thecal_visit_get_active (ThecalVisit *self);
/* ThecalVisitFinding, in the order found (connect, then each workflow). */
GPtrArray *thecal_visit_get_findings (ThecalVisit *self);
/* Events imported at connect (new ones; duplicates are not counted). */
guint thecal_visit_get_events_imported (ThecalVisit *self);
/* Sessions reconciled at connect or by thecal_visit_reconcile_async. */
guint thecal_visit_get_sessions_reconciled (ThecalVisit *self);
/* Refills and boluses left unresolved by an earlier visit (or this one) and settled at connect or
 * by thecal_visit_reconcile_async. */
guint thecal_visit_get_writes_settled (ThecalVisit *self);
/* TRUE while an UNCERTAIN programming session, or a refill or bolus the record holds PENDING or
 * UNCERTAIN, blocks changes; @session_id (may be NULL) names the session (0: a refill or bolus). */
gboolean thecal_visit_is_blocked (ThecalVisit *self, gint64 *session_id);

/* Connects to the pump of @patient_mrn (see above). */
void thecal_visit_connect_async (ThecalVisit *self,
                                 const char *patient_mrn,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
gboolean thecal_visit_connect_finish (ThecalVisit *self, GAsyncResult *result, GError **error);

/* Reads the active prescription again and resolves every PENDING or UNCERTAIN session of the
 * pump: CONFIRMED when the pump runs what the session sent, FAILED otherwise (the note says what
 * it runs); then settles every unresolved refill and bolus of the pump as connect does. Unblocks
 * the visit when nothing is left unresolved. */
void thecal_visit_reconcile_async (ThecalVisit *self,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
gboolean thecal_visit_reconcile_finish (ThecalVisit *self, GAsyncResult *result, GError **error);

/* A new transport after the wand was unplugged or the pump went out of range (the paused
 * workflow then resumes with reconcile: nothing is half-applied). */
gboolean thecal_visit_set_transport (ThecalVisit *self, ThecalTransport *transport, GError **error);

/* ---- change prescription ---------------------------------------------------------------- */

/* The review of @new_rx against what the pump runs. FALSE only when not connected. */
ThecalProgramReview *thecal_visit_review_prescription (ThecalVisit *self, const ThecalPrescription *new_rx, GError **error);

/* Writes a reviewed change: [prescription.change] ([limit.override] too when a soft limit needs
 * @override_reason); refused by the dose core: REFUSED; soft limits without a reason:
 * NEEDS_REASON; blocked: BLOCKED. Then PENDING, the two-phase write and the outcome. TRUE when
 * the write ran, whatever its outcome (*@outcome: CONFIRMED, FAILED or UNCERTAIN). */
void thecal_visit_program_async (ThecalVisit *self,
                                 const ThecalProgramReview *review,
                                 const char *reason,
                                 const char *override_reason,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
gboolean thecal_visit_program_finish (ThecalVisit *self,
                                      GAsyncResult *result,
                                      ThecalProgrammingOutcome *outcome,
                                      gint64 *session_id,
                                      GError **error);

G_END_DECLS
