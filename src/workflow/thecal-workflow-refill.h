/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-workflow-refill.h: the refill of a connected visit (docs/workflows.md "Refill";
 * CLINICAL.md §1.5-1.6). Steps: permission `refill` → expected residual from the record's history
 * (dose core) → the aspirated volume checked (a flagged discrepancy needs an acknowledgement) →
 * drug, concentration, lot, expiry (not expired), volume added (never above capacity) → a second
 * user's own credentials (`refill.verify`, not the performer; a refusal is audited) → "refill.pending"
 * audited FIRST → SET_RESERVOIR → read back → the refill recorded → new alarm and refill-by dates.
 */
#pragma once

#include "thecal-visit.h"

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
} ThecalRefillReport;

/* The expected residual and the discrepancy of @aspirated_nl, without I/O (for the screen before
 * the refill; thecal_visit_refill_async checks it again). */
gboolean thecal_visit_refill_preview (ThecalVisit *self,
                                      gint64 aspirated_nl,
                                      ThecalRefillCheck *check,
                                      gboolean *history_known,
                                      GError **error);

/* The refill (see above). Refusals: permission (audited), BLOCKED, NEEDS_REASON (flagged without
 * an acknowledgement), REFUSED (over capacity, expired, unknown drug, a drug or concentration
 * change: "a concentration change needs a bridge bolus: not available yet"), VERIFIER (audited),
 * PAUSED (the wand or the pump went away before the pump took it: nothing applied, audited
 * "refill.not_applied"). TRUE with @report when the pump took it or may have (UNCERTAIN). */
void thecal_visit_refill_async (ThecalVisit *self,
                                const ThecalRefillRequest *request,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
gboolean thecal_visit_refill_finish (ThecalVisit *self, GAsyncResult *result, ThecalRefillReport *report, GError **error);

/* Settles an UNCERTAIN refill with READ_STATUS: the pump reports the requested drug and
 * concentration and a volume within the model's discrepancy threshold under the requested one →
 * CONFIRMED (the refill is recorded); otherwise FAILED (audited "refill.not_applied"). Unblocks. */
void thecal_visit_settle_refill_async (ThecalVisit *self,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
gboolean thecal_visit_settle_refill_finish (ThecalVisit *self,
                                            GAsyncResult *result,
                                            ThecalProgrammingOutcome *outcome,
                                            GError **error);

G_END_DECLS
