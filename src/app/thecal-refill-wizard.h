/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-refill-wizard.h: the refill of a connected pump, one page per step (docs/gui.md
 * "Refill wizard"; docs/workflows.md "Refill"): the aspirated volume against the expected residual
 * (thecal_visit_refill_preview; a flagged discrepancy needs an acknowledgement), the new fill (drug,
 * concentration, lot, expiry, volume added; checked by src/dose and thecal_visit_review_refill),
 * for a drug or concentration change the review with the bridge bolus (and an override reason when
 * a soft limit applies), the second person, the summary, then thecal_visit_refill_async with a
 * progress view and its outcome (confirmed, UNCERTAIN: blocking, or the refusal). Nothing is
 * computed here: every check and number comes from src/workflow and src/dose.
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "thecal-visit.h"

G_BEGIN_DECLS

#define THECAL_TYPE_REFILL_WIZARD (thecal_refill_wizard_get_type ())
G_DECLARE_FINAL_TYPE (ThecalRefillWizard, thecal_refill_wizard, THECAL, REFILL_WIZARD, AdwWindow)

/* A wizard for @visit (connected; referenced). @library: the drug library (copied). */
ThecalRefillWizard *thecal_refill_wizard_new (ThecalVisit *visit, const ThecalDrugLibrary *library);

/* The page shown: "aspirate", "fill", "review", "verifier", "summary", "progress", "outcome". */
const char *thecal_refill_wizard_get_page (ThecalRefillWizard *self);
/* Next is sensitive (the page's input is complete and accepted). */
gboolean thecal_refill_wizard_can_go_next (ThecalRefillWizard *self);
/* The Next (or Refill, or Done) button; Back. */
void thecal_refill_wizard_next (ThecalRefillWizard *self);
void thecal_refill_wizard_back (ThecalRefillWizard *self);

/* Types @text into a field, as a person would: "aspirated", "acknowledgement", "concentration",
 * "lot", "expiry", "added", "override", "verifier_name", "verifier_password". */
void thecal_refill_wizard_set_field (ThecalRefillWizard *self, const char *field, const char *text);
/* What a field holds now (the names of thecal_refill_wizard_set_field); a new string. */
char *thecal_refill_wizard_dup_field (ThecalRefillWizard *self, const char *field);
/* Chooses the drug by library id. FALSE when not in the library. */
gboolean thecal_refill_wizard_set_drug (ThecalRefillWizard *self, const char *drug_id);

/* What a label shows: "expected", "check", "discrepancy" (the warning), the error next to a field
 * by the field's name ("aspirated", "concentration", "lot", "expiry", "added", "fill" (the whole
 * fill), "override", "verifier"), "review" (every line of the change's review), "summary",
 * "outcome". A new string ("" when empty; NULL for an unknown key). */
char *thecal_refill_wizard_dup_text (ThecalRefillWizard *self, const char *key);

/* TRUE once the refill ran (whatever the outcome); the outcome (THECAL_OUTCOME_CONFIRMED or
 * UNCERTAIN) when it returned a report, else FAILED (a refusal). */
gboolean thecal_refill_wizard_get_finished (ThecalRefillWizard *self, ThecalProgrammingOutcome *outcome);

G_END_DECLS
