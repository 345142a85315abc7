/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-workflow-bolus.h: clinician, priming and bridge boluses on a connected visit
 * (docs/workflows.md "Bolus"; CLINICAL.md §1.4, §2.1, §6). Steps: permission `bolus` (a physician;
 * a refusal is audited) → the review (dose core: volume from the dose and the active
 * concentration, the model's bolus ceiling, the drug library's daily limit with the bolus added;
 * for priming and bridge the thecal-bolus.h calculators with the dead space of the pump model and
 * the recorded catheter length) → the pump write PENDING in the record FIRST ("bolus.pending") →
 * START_BOLUS → the outcome recorded ("bolus.confirmed", "bolus.failed", "bolus.uncertain"). A lost
 * answer is UNCERTAIN and blocks every change on the pump, in this visit and in every later one
 * (the record holds it), until thecal_visit_settle_bolus_async or the next connect reads the pump.
 */
#pragma once

#include "thecal-bolus.h"
#include "thecal-visit.h"

G_BEGIN_DECLS

/* Catheter volume per cm when nothing else is known: 0.0026 mL/cm (Prometra labeling, CLINICAL.md
 * §2.1). */
#define THECAL_VISIT_CATHETER_NL_PER_CM INT64_C (2600)

typedef enum
{
  THECAL_VISIT_BOLUS_CLINICIAN = 0, /* dose_ng over duration_ms at the active concentration */
  THECAL_VISIT_BOLUS_PRIMING,       /* after an implant or a catheter revision: the dead space holds no drug */
  THECAL_VISIT_BOLUS_BRIDGE,        /* after a drug or concentration change: the dead space holds the old drug */
} ThecalVisitBolusKind;

typedef struct
{
  ThecalVisitBolusKind kind;
  gint64 dose_ng;                        /* CLINICIAN */
  gint64 duration_ms;                    /* CLINICIAN */
  gint64 priming_rate_nl_per_day;        /* PRIMING: 0 = the model's bolus ceiling */
  const ThecalPrescription *previous_rx; /* BRIDGE: the prescription the pump ran before the change */
} ThecalBolusRequest;

/* What will be delivered, reviewed before the write. */
typedef struct
{
  ThecalVisitBolusKind kind;
  ThecalMsgStartBolus request; /* what goes to the pump */
  ThecalChecksum reviewed_active;
  gint64 volume_nl;         /* the volume the bolus moves (whole strokes) */
  gint64 duration_ms;       /* how long it lasts */
  gint64 dose_ng;           /* drug reaching the patient during the bolus */
  gint64 day_worst_ng;      /* the active prescription's worst day + this bolus */
  gboolean over_soft_limit; /* the day's worst case is above a soft daily limit: a reason is needed */
  char *summary;            /* one sentence: what will be delivered, over how long */
  char *warning;            /* priming: the mixing warning (CLINICAL.md §1.4); NULL otherwise */
} ThecalBolusReview;

void thecal_bolus_review_free (ThecalBolusReview *review);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ThecalBolusReview, thecal_bolus_review_free)

/* The review (no I/O). NULL with NOT_CONNECTED, BLOCKED or REFUSED (the dose core's sentence). */
ThecalBolusReview *thecal_visit_review_bolus (ThecalVisit *self, const ThecalBolusRequest *request, GError **error);

/* The bridge bolus that will follow a drug or concentration change from @old_rx to @new_rx, reviewed
 * before anything is written (the refill with a drug change, thecal-workflow-refill.h): the plan
 * thecal_visit_review_bolus computes for a BRIDGE once @new_rx runs, with the same checks (a
 * bridge of another drug adds nothing to the new drug's day). reviewed_active is not set: once
 * @new_rx runs, review the bridge again with thecal_visit_review_bolus. NULL with NOT_CONNECTED or
 * REFUSED. */
ThecalBolusReview *thecal_visit_review_bridge (ThecalVisit *self,
                                               const ThecalPrescription *old_rx,
                                               const ThecalPrescription *new_rx,
                                               GError **error);

/* The write of a reviewed bolus (see above). @reason is required when over_soft_limit
 * (NEEDS_REASON otherwise). TRUE when START_BOLUS was sent and answered or may have been taken:
 * *@outcome CONFIRMED or UNCERTAIN (the visit is then blocked); FALSE with the refusal, FAILED
 * (the pump refused: nothing runs) or PAUSED (the link went away before the pump took it). */
void thecal_visit_bolus_async (ThecalVisit *self,
                               const ThecalBolusReview *review,
                               const char *reason,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
gboolean thecal_visit_bolus_finish (ThecalVisit *self, GAsyncResult *result, ThecalProgrammingOutcome *outcome, GError **error);

/* TRUE while a bolus whose answer was lost (or that an earlier session left PENDING) blocks the
 * visit. */
gboolean thecal_visit_bolus_uncertain (ThecalVisit *self);

/* Settles an UNCERTAIN bolus: READ_STATUS shows a bolus of the kind and volume sent running →
 * CONFIRMED; otherwise READ_LOG from the sequence read before the write: its start logged at or
 * after the write → CONFIRMED (it ran and ended); none in a complete log → FAILED; the log cannot be
 * read or has a gap → still UNCERTAIN (PAUSED). Audited; unblocks when settled. */
void thecal_visit_settle_bolus_async (ThecalVisit *self, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
gboolean thecal_visit_settle_bolus_finish (ThecalVisit *self,
                                           GAsyncResult *result,
                                           ThecalProgrammingOutcome *outcome,
                                           GError **error);

G_END_DECLS
