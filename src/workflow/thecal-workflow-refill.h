/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-workflow-refill.h: the refill of a connected visit (docs/workflows.md "Refill";
 * CLINICAL.md §1.5-1.6). Steps: permission `refill` → expected residual from the record's history
 * (dose core) → the aspirated volume checked (a flagged discrepancy needs an acknowledgement) →
 * drug, concentration, lot, expiry (not expired), volume added (never above capacity) → a second
 * user's own credentials (`refill.verify`, not the performer; a refusal is audited) → "refill.pending"
 * audited FIRST → SET_RESERVOIR → read back → the refill recorded → new alarm and refill-by dates.
 *
 * A fill of another drug or concentration than the delivering prescription's is a drug change
 * (docs/workflows.md "Refill with a drug or concentration change"): permission
 * `prescription.change` too; the new prescription and the bridge bolus are checked before any
 * write; then "refill.change.pending" → the programming session of the new prescription and the
 * refill, both PENDING → the fill and the new prescription set together by the pump
 * (STAGE → READ_STAGED → REFILL_COMMIT → read back: the pump never stops) → both recorded with one
 * outcome → the bridge bolus (thecal-workflow-bolus.h) → "refill.change.done". An interruption
 * after REFILL_COMMIT (or an unknown outcome) leaves an `alarm` finding "drug_change_incomplete"
 * saying what the pump holds and runs, audited "refill.change.interrupted".
 */
#pragma once

#include "thecal-visit.h"
#include "thecal-workflow-bolus.h"

G_BEGIN_DECLS

typedef struct
{
  gint64 aspirated_nl;         /* what came back out of the reservoir */
  const char *acknowledgement; /* required (≥ 10 characters) when the discrepancy is flagged */
  const char *drug_id;
  gint64 concentration_ng_per_ml;
  const char *lot;
  const char *expiry_date; /* YYYY-MM-DD, the last day of use: not before today */
  gint64 added_nl;         /* the new reservoir volume (the reservoir was emptied) */
  const char *verifier_name;
  const char *verifier_password;
  /* A drug or concentration change (the fill differs from what the running prescription is for;
   * docs/workflows.md "Refill with a drug or concentration change"): */
  const ThecalPrescription *new_rx; /* the prescription for the new fill (its drug and concentration) */
  gint64 new_dose_ng_per_day;       /* new_rx NULL: > 0 gives a continuous prescription of this daily
                                     * dose; 0 keeps the running prescription's daily doses at the new
                                     * concentration (the same drug only) */
  const char *override_reason;      /* soft limits of the new prescription or the bridge (≥ 10 characters) */
} ThecalRefillRequest;

typedef struct
{
  ThecalProgrammingOutcome outcome; /* CONFIRMED or UNCERTAIN (then the visit is blocked) */
  gboolean history_known;           /* a fill was recorded: expected from history, else the pump's estimate */
  ThecalRefillCheck check;          /* the discrepancy check of the aspirated volume */
  gint64 new_volume_nl;
  gint64 refill_id; /* the record's row; 0 while UNCERTAIN */
  gboolean have_projection;
  ThecalProjection projection; /* low-alarm, empty and refill-by dates from the new volume */
  /* a drug or concentration change (all 0 otherwise) */
  gboolean changed;          /* the pump runs the new prescription and the bridge bolus was started */
  gint64 program_session_id; /* the programming session of the new prescription (set with the fill) */
} ThecalRefillReport;

/* The review of a refill (no I/O): every check of thecal_visit_refill_async that needs no pump or
 * record, and for a drug or concentration change everything that will change, for one screen. */
typedef struct
{
  ThecalRefillCheck check; /* the aspirated volume against the expected residual */
  gboolean history_known;
  gint64 new_volume_nl;
  gboolean change;             /* the drug or the concentration changes: the fields below are set */
  ThecalPrescription old_rx;   /* what the pump runs */
  ThecalPrescription new_rx;   /* what it will run on the new fill */
  GPtrArray *changes;          /* ThecalVisitChange: every field of old_rx → new_rx */
  ThecalCheckResult rx_check;  /* the dose core: new_rx against old_rx, the library, the model (its plan: new_rx's) */
  ThecalDeliveryPlan old_plan; /* what old_rx delivers on this pump (rates, daily totals) */
  ThecalBolusReview *bridge;   /* the bridge bolus through the dead space (thecal-workflow-bolus.h) */
  gboolean needs_override;     /* a soft limit (rx_check, or the bridge's day): override_reason needed */
  gboolean have_projection;
  ThecalProjection projection; /* the new fill under new_rx, after the bridge (pump-local); a plain
                                * refill: under the running prescription from now, as the report's */
} ThecalRefillReview;

void thecal_refill_review_free (ThecalRefillReview *review);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ThecalRefillReview, thecal_refill_review_free)

/* The review of @request (see above). NULL with the refusal: NOT_CONNECTED, BLOCKED, REFUSED (the
 * request's checks; a drug change without new_rx or new_dose_ng_per_day; a hard limit of the new
 * prescription; a bridge the dose core cannot plan). A flagged discrepancy or a soft limit is not
 * refused here: check.flagged and needs_override say what the write will ask for. */
ThecalRefillReview *thecal_visit_review_refill (ThecalVisit *self, const ThecalRefillRequest *request, GError **error);

/* The expected residual and the discrepancy of @aspirated_nl, without I/O (for the screen before
 * the refill; thecal_visit_refill_async checks it again). */
gboolean thecal_visit_refill_preview (ThecalVisit *self,
                                      gint64 aspirated_nl,
                                      ThecalRefillCheck *check,
                                      gboolean *history_known,
                                      GError **error);

/* The refill (see above). Refusals: permission (audited), BLOCKED, NEEDS_REASON (flagged without
 * an acknowledgement, or a drug change's soft limit without override_reason), REFUSED (over
 * capacity, expired, unknown drug; a drug change's hard limit or impossible bridge), VERIFIER
 * (audited), PAUSED (the wand or the pump went away before the pump took it: nothing applied,
 * the write recorded FAILED, audited "refill.failed"). A lost answer is never FAILED: the reads
 * that follow settle it at once (TRUE with @report CONFIRMED, or FAILED when the pump shows it
 * was not taken); when they cannot, PAUSED with the write recorded UNCERTAIN and the visit
 * blocked (thecal_visit_is_blocked) until a read settles it. A drug change interrupted after its
 * first write: BLOCKED, FAILED or PAUSED with the sentence of its finding. TRUE with @report when
 * the pump took it; for a drug change, when REFILL_COMMIT and the bridge bolus were confirmed. */
void thecal_visit_refill_async (ThecalVisit *self,
                                const ThecalRefillRequest *request,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
gboolean thecal_visit_refill_finish (ThecalVisit *self, GAsyncResult *result, ThecalRefillReport *report, GError **error);

/* Settles the visit's UNCERTAIN (or PENDING) refill, as the record holds it (a pump write, also
 * one an earlier visit left): READ_STATUS reports the requested drug and concentration and a
 * volume within the model's discrepancy threshold under the requested one, and READ_LOG from the
 * sequence before the write holds its RESERVOIR_SET → CONFIRMED (the refill recorded with the
 * confirmation, "refill.confirmed"); otherwise FAILED ("refill.failed"); the pump or its log
 * cannot be read → still unresolved (PAUSED). Unblocks when settled; nothing to settle: CONFIRMED. */
void thecal_visit_settle_refill_async (ThecalVisit *self,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
gboolean thecal_visit_settle_refill_finish (ThecalVisit *self,
                                            GAsyncResult *result,
                                            ThecalProgrammingOutcome *outcome,
                                            GError **error);

G_END_DECLS
