/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-workflow-implant.h: the registration of a new implant (docs/workflows.md "Register a
 * new implant"). Steps: permissions (pump.create, prescription.change, bolus and, for a new
 * patient, patient.create: a physician; a refusal is audited before anything is written) → the
 * serial must not be in the record yet (a serial of any patient is refused, audited
 * "implant.refused") → the initial prescription checked by the dose core (hard: refused; soft:
 * needs an override reason) → the pairing key proved: a handshake with the pump through the
 * visit's link with that key (a wrong key: THECAL_VISIT_ERROR_WRONG_KEY, audited
 * "implant.refused"; a link failure: its error, nothing audited; either way nothing is written)
 * → the patient (existing, or registered now) → the pump with its
 * catheter length and pairing key → "implant.register" audited → the visit connects (interrogates
 * the pump with the key just recorded) → the initial prescription through the visit's two-phase
 * write (PENDING first) → the priming bolus (thecal-workflow-bolus.h). Each step is recorded by
 * the record and audited.
 */
#pragma once

#include "thecal-visit.h"

G_BEGIN_DECLS

typedef struct
{
  const ThecalPatientInput *new_patient; /* register this patient; NULL: @patient_mrn exists */
  const char *patient_mrn;               /* the existing patient (ignored with @new_patient) */
  const char *serial;
  const ThecalPumpModel *model; /* of the caller's model set (data/pump-models.json) */
  const char *implant_date;     /* YYYY-MM-DD */
  gint64 catheter_length_mm;
  const guint8 *pairing_key; /* THECAL_PAIRING_KEY_BYTES */
  const ThecalPrescription *prescription;
  const char *override_reason;    /* required when the prescription meets a soft limit */
  gboolean priming;               /* give the priming bolus after the prescription */
  gint64 priming_rate_nl_per_day; /* 0: the model's bolus ceiling */
} ThecalImplantRequest;

typedef struct
{
  gint64 patient_id;
  gint64 pump_id;
  ThecalProgrammingOutcome program_outcome;
  gint64 programming_session_id;
  gboolean priming_given;
  ThecalProgrammingOutcome priming_outcome;
} ThecalImplantReport;

/* Registers the implant through @self (a visit not connected yet, whose session is the
 * physician's, whose link reaches the new pump). FALSE with the refusal (permission: audited;
 * a known serial: THECAL_VISIT_ERROR_WRONG_PATIENT or REFUSED, audited; the dose core: REFUSED or
 * NEEDS_REASON; a pairing key the pump does not accept: WRONG_KEY, audited; the key's proof not
 * possible: the link's error, prefixed, nothing written) or with the failure of a step (what was done before it stays recorded; the message
 * says what is left to do). TRUE with @report when every step ran (the outcomes say how they
 * ended: an UNCERTAIN write blocks the visit, and no priming bolus is given after it). */
void thecal_visit_register_implant_async (ThecalVisit *self,
                                          const ThecalImplantRequest *request,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data);
gboolean thecal_visit_register_implant_finish (ThecalVisit *self, GAsyncResult *result, ThecalImplantReport *report, GError **error);

G_END_DECLS
