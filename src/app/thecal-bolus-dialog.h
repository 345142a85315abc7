/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-bolus-dialog.h: a clinician or priming bolus on a connected pump (docs/gui.md "Boluses,
 * clock, alarms, implant"; src/workflow/thecal-workflow-bolus.h): the request (dose and duration,
 * or the priming rate; parsed exactly by src/dose), the workflow's review (volume, duration, the
 * drug reaching the patient, the day's worst case with the bolus added, the priming warning, a
 * reason when a soft daily limit is passed), then thecal_visit_bolus_async with a progress view
 * and its outcome: confirmed, refused (the workflow's sentence), or UNCERTAIN, which blocks until
 * "Read the Pump Again" (thecal_visit_settle_bolus_async) settles it. Nothing is computed here.
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "thecal-workflow-bolus.h"

G_BEGIN_DECLS

#define THECAL_TYPE_BOLUS_DIALOG (thecal_bolus_dialog_get_type ())
G_DECLARE_FINAL_TYPE (ThecalBolusDialog, thecal_bolus_dialog, THECAL, BOLUS_DIALOG, AdwWindow)

/* A dialog for @visit (connected; referenced), starting on @kind (CLINICIAN or PRIMING).
 * @library: the drug library (copied). */
ThecalBolusDialog *thecal_bolus_dialog_new (ThecalVisit *visit, const ThecalDrugLibrary *library, ThecalVisitBolusKind kind);

/* The page shown: "request", "review", "progress", "outcome". */
const char *thecal_bolus_dialog_get_page (ThecalBolusDialog *self);
/* The kind chosen (the drop-down); FALSE for a kind the dialog does not offer (BRIDGE). */
gboolean thecal_bolus_dialog_set_kind (ThecalBolusDialog *self, ThecalVisitBolusKind kind);
/* Types @text into a field as a person would: "dose", "duration", "priming_rate", "reason". */
void thecal_bolus_dialog_set_field (ThecalBolusDialog *self, const char *field, const char *text);
/* Next is sensitive. */
gboolean thecal_bolus_dialog_can_go_next (ThecalBolusDialog *self);
/* The header bar's buttons: Review / Give Bolus / Close; Cancel / Back. */
void thecal_bolus_dialog_next (ThecalBolusDialog *self);
void thecal_bolus_dialog_back (ThecalBolusDialog *self);
/* The outcome page's "Read the Pump Again" (UNCERTAIN only): settles the bolus. */
void thecal_bolus_dialog_read_again (ThecalBolusDialog *self);

/* What a label shows: the error next to a field ("dose", "duration", "priming_rate", "reason"),
 * "request" (the workflow's refusal of the request), "volume", "duration_value", "drug_dose",
 * "day", "summary", "warning", "outcome" (title and description). A new string ("" when empty;
 * NULL for an unknown key). */
char *thecal_bolus_dialog_dup_text (ThecalBolusDialog *self, const char *key);

/* TRUE once the write returned (whatever the outcome); *@outcome: CONFIRMED, UNCERTAIN, or FAILED
 * (refused, or the pump did not take it), updated when "Read the Pump Again" settles it. */
gboolean thecal_bolus_dialog_get_finished (ThecalBolusDialog *self, ThecalProgrammingOutcome *outcome);
/* TRUE while a write or a settle runs. */
gboolean thecal_bolus_dialog_get_busy (ThecalBolusDialog *self);

G_END_DECLS
