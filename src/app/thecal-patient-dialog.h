/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-patient-dialog.h: add a patient, or correct the details of one (docs/gui.md "Add and
 * edit patient"). A modal AdwWindow with the MRN, name, date of birth (YYYY-MM-DD), opioid
 * tolerance, notes and, for a correction, its reason. Save checks every field with the record's
 * own rules (thecal_record_check_patient_field: each refusal under its field, nothing sent), then
 * writes through src/workflow (thecal_record_session_add_patient_async or
 * _correct_patient_async: a correction is a new version that supersedes the old one, which stays
 * in the record; the MRN cannot be corrected). The workflow's refusal (a permission, an MRN
 * already in the record, a correction that changes nothing) is shown as it says it.
 *
 * Signal "saved" (const ThecalPatient *): the version written; the dialog then closes.
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "thecal-record-session.h"

G_BEGIN_DECLS

#define THECAL_TYPE_PATIENT_DIALOG (thecal_patient_dialog_get_type ())
G_DECLARE_FINAL_TYPE (ThecalPatientDialog, thecal_patient_dialog, THECAL, PATIENT_DIALOG, AdwWindow)

/* @patient NULL: a new patient; else a correction of @patient's current details (copied). */
ThecalPatientDialog *thecal_patient_dialog_new (ThecalRecordSession *session, const ThecalPatient *patient);

/* Types @text into "mrn", "name", "date_of_birth", "notes" or "reason", as a person would. */
void thecal_patient_dialog_set_field (ThecalPatientDialog *self, const char *field, const char *text);
char *thecal_patient_dialog_dup_field (ThecalPatientDialog *self, const char *field);
void thecal_patient_dialog_set_tolerance (ThecalPatientDialog *self, ThecalOpioidTolerance tolerance);
ThecalOpioidTolerance thecal_patient_dialog_get_tolerance (ThecalPatientDialog *self);
/* The message under a field (the names above), or "form" (the workflow's refusal); "" when none. */
char *thecal_patient_dialog_dup_error (ThecalPatientDialog *self, const char *field);
/* The Add (or Save) button: FALSE when a field was refused (nothing sent). */
gboolean thecal_patient_dialog_save (ThecalPatientDialog *self);
/* TRUE while the record writes. */
gboolean thecal_patient_dialog_get_busy (ThecalPatientDialog *self);

G_END_DECLS
