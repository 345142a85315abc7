/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-patient-status.h: a patient's pump at a glance, one line for the patient list's rows
 * (docs/gui.md "Patients"), here in src/workflow so that every front end says the same:
 *
 *  - from the record alone (a clinic record): the last refill of the implanted pump, the
 *    refill-by date the dose core projects from it under the prescriptions the record holds
 *    since, and the alarms the last interrogation saw;
 *  - live, in demo mode: the demo pump's own estimate now, the dose core's refill-by projection
 *    from it under what the pump runs, and its raised alarms.
 *
 * The projection is the record's view, not the pump's: delivery between the refill and now is
 * what the recorded prescriptions deliver (patient boluses that were given are not known, so they
 * are not subtracted; from now on every allowed one is counted, as thecal_project_reservoir does).
 * The pump's own estimate at the next interrogation is what counts; the row says "from the record".
 *
 * Threads: from the record: any (no GTK, no I/O); live: the demo world's (the main thread).
 */
#pragma once

#include <glib.h>

#include "thecal-demo.h"
#include "thecal-pump-model.h"
#include "thecal-record-types.h"

G_BEGIN_DECLS

/* One line for the patient list ("Refilled 2026-01-05: refill by 2026-03-21 09:00 (from the
 * record); at the last reading: Low reservoir"), or NULL when the record holds no implanted pump.
 * @now_utc_ms: the clinic's clock; pump-local time is UTC (as the visits use it). */
char *thecal_patient_status_from_record (const ThecalPatientRecord *record, const ThecalPumpModelSet *models, gint64 now_utc_ms);

/* One line for a demo patient's pump now ("Now 1.6 mL left: refill now; Low reservoir", "Now
 * 12.4 mL left, refill by 2026-02-19 09:00"): the pump's estimate of its reservoir (as the pump
 * reports it: over-infusion is not seen), the refill-by date of the dose core's projection from
 * the demo clock's now under what the pump runs, and the raised alarms. NULL when @mrn is not a
 * demo patient or @world (NULL allowed) cannot say. */
char *thecal_patient_status_from_demo (ThecalDemoWorld *world, const char *mrn);

G_END_DECLS
