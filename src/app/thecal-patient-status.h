/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-patient-status.h: a patient's pump at a glance, from the record alone (the patient list's
 * rows of a clinic record, docs/gui.md "Patients"): the last refill of the implanted pump, the
 * refill-by date the dose core projects from it under the prescriptions the record holds since,
 * and the alarms the last interrogation saw.
 *
 * The projection is the record's view, not the pump's: delivery between the refill and now is
 * what the recorded prescriptions deliver (patient boluses that were given are not known, so they
 * are not subtracted; from now on every allowed one is counted, as thecal_project_reservoir does).
 * The pump's own estimate at the next interrogation is what counts; the row says "from the record".
 *
 * Threads: any (no GTK, no I/O).
 */
#pragma once

#include <glib.h>

#include "thecal-pump-model.h"
#include "thecal-record-types.h"

G_BEGIN_DECLS

/* One line for the patient list ("Refilled 2026-01-05: refill by 2026-03-21 09:00 (from the
 * record); at the last reading: Low reservoir"), or NULL when the record holds no implanted pump.
 * @now_utc_ms: the clinic's clock; pump-local time is UTC (as the visits use it). */
char *thecal_patient_status_from_record (const ThecalPatientRecord *record, const ThecalPumpModelSet *models, gint64 now_utc_ms);

G_END_DECLS
