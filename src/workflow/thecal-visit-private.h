/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-visit-private.h: what the workflows outside thecal-visit.c (thecal-workflow-*.c) need
 * of a visit's state. Not for the GUI or the CLI.
 */
#pragma once

#include "thecal-visit.h"

G_BEGIN_DECLS

/* Marks the visit busy (one workflow at a time): FALSE with BUSY or NOT_CONNECTED. */
gboolean thecal_visit_step_begin (ThecalVisit *self, GError **error);
void thecal_visit_step_end (ThecalVisit *self);

/* A write outside the programming sessions (SET_RESERVOIR, START_BOLUS) whose answer was lost:
 * it blocks every change (thecal_visit_is_blocked) until a read of the pump settles it, and the
 * refusal names which write it was. */
typedef enum
{
  THECAL_UNCERTAIN_WRITE_NONE = 0,
  THECAL_UNCERTAIN_WRITE_REFILL,
  THECAL_UNCERTAIN_WRITE_BOLUS,
} ThecalUncertainWrite;

ThecalUncertainWrite thecal_visit_get_uncertain_write (ThecalVisit *self);
void thecal_visit_set_uncertain_write (ThecalVisit *self, ThecalUncertainWrite write);

/* The status a workflow read after connect replaces the one read at connect. */
void thecal_visit_update_status (ThecalVisit *self, const ThecalProtoStatus *status);

const ThecalPatientRecord *thecal_visit_get_history (ThecalVisit *self);
gint64 thecal_visit_local_offset_ms (ThecalVisit *self);
const ThecalDrugLibrary *thecal_visit_get_library (ThecalVisit *self);

/* The record's history of the pump (the last recorded fill, the prescriptions since, the logged
 * boluses) through thecal_refill_check against @measured_nl at the interrogation's pump time:
 * 1 with @check; 0 when the history is inconsistent (@dose_error); -1 when no fill of this pump
 * is recorded; -2 when there is no history or the fill lies after the interrogation. */
int thecal_visit_history_check (ThecalVisit *self, gint64 measured_nl, ThecalRefillCheck *check, ThecalDoseError *dose_error);

G_END_DECLS
