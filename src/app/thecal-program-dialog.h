/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-program-dialog.h: a change of the prescription a connected pump runs (docs/gui.md
 * "Program"; docs/workflows.md "Change prescription"). Pages:
 *
 *   edit      the running prescription filled in, editable for every mode of the dose core
 *             (stopped, continuous, flex steps in a table, minimum rate; periodic boluses; PTM).
 *             Text is parsed exactly by src/dose; 250 ms after the last change the whole
 *             prescription is reviewed (thecal_visit_review_prescription) and each finding of the
 *             dose core is shown next to the field its path names ("flex_steps[2].dose" → the
 *             third row of the table): refused (red), needs an override (amber), note.
 *   review    every change old → new, the daily dose and the dates old → new, the projection
 *             chart (ThecalProjectionChart), the findings, the reason for the change and, when a
 *             soft limit applies, the override reason (at least 10 characters). A refusal of the
 *             dose core cannot go on.
 *   progress  thecal_visit_program_async: pending in the record, then the pump link's steps
 *             (STAGE → read back → COMMIT → verify, from its "program-step" signal), then the
 *             outcome recorded. The window cannot be closed meanwhile.
 *   outcome   CONFIRMED (what the pump runs now), FAILED (the pump is unchanged), or UNCERTAIN:
 *             the visit blocks every change; "Read the Pump Again" runs
 *             thecal_visit_reconcile_async and shows the resolved outcome.
 *
 * Nothing is computed here: every check and number comes from src/workflow and src/dose.
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "thecal-visit.h"

G_BEGIN_DECLS

/* The debounce of the live check, on the main loop. */
#define THECAL_PROGRAM_DIALOG_CHECK_DELAY_MS 250
/* The override reason's minimum (docs/workflows.md "Change prescription"). */
#define THECAL_PROGRAM_DIALOG_REASON_MIN_CHARS 10

#define THECAL_TYPE_PROGRAM_DIALOG (thecal_program_dialog_get_type ())
G_DECLARE_FINAL_TYPE (ThecalProgramDialog, thecal_program_dialog, THECAL, PROGRAM_DIALOG, AdwWindow)

/* A dialog for @visit (connected; referenced). @library: the drug library (copied). */
ThecalProgramDialog *thecal_program_dialog_new (ThecalVisit *visit, const ThecalDrugLibrary *library);

/* The page shown: "edit", "review", "progress", "outcome". */
const char *thecal_program_dialog_get_page (ThecalProgramDialog *self);
/* Next (or Program, or Close) is sensitive and visible. */
gboolean thecal_program_dialog_can_go_next (ThecalProgramDialog *self);
void thecal_program_dialog_next (ThecalProgramDialog *self);
void thecal_program_dialog_back (ThecalProgramDialog *self);
/* TRUE while a change waits for its debounced check. */
gboolean thecal_program_dialog_get_check_pending (ThecalProgramDialog *self);
/* Runs the pending check now (the timer's work). */
void thecal_program_dialog_check_now (ThecalProgramDialog *self);

/* The mode of the editor. */
void thecal_program_dialog_set_mode (ThecalProgramDialog *self, ThecalMode mode);
ThecalMode thecal_program_dialog_get_mode (ThecalProgramDialog *self);
/* Rows of the tables: adds one at the end (FALSE at the maximum), removes row @index. */
gboolean thecal_program_dialog_add_flex_step (ThecalProgramDialog *self);
gboolean thecal_program_dialog_remove_flex_step (ThecalProgramDialog *self, guint index);
guint thecal_program_dialog_get_n_flex_steps (ThecalProgramDialog *self);
gboolean thecal_program_dialog_add_periodic_bolus (ThecalProgramDialog *self);
gboolean thecal_program_dialog_remove_periodic_bolus (ThecalProgramDialog *self, guint index);
guint thecal_program_dialog_get_n_periodic_boluses (ThecalProgramDialog *self);
void thecal_program_dialog_set_ptm_enabled (ThecalProgramDialog *self, gboolean enabled);

/* Types @text into a field, as a person would. Fields: "continuous", "flex_steps[i].start",
 * "flex_steps[i].amount", "periodic_boluses[i].start", "periodic_boluses[i].dose",
 * "periodic_boluses[i].duration", "ptm.dose", "ptm.duration", "ptm.lockout", "ptm.max_per_24h",
 * "reason", "override". FALSE for an unknown field. */
gboolean thecal_program_dialog_set_text (ThecalProgramDialog *self, const char *field, const char *text);
/* What a field holds (the names above); NULL for an unknown field. A new string. */
char *thecal_program_dialog_dup_field (ThecalProgramDialog *self, const char *field);
/* What is shown: the message next to a field, by the field's path: "mode", "continuous",
 * "flex_steps[i]", "flex_steps", "periodic_boluses[i]", "periodic_boluses", "ptm", "ptm.dose",
 * "ptm.duration", "ptm.lockout", "ptm.max_per_24h", "drug" (the drug and its concentration),
 * "blocked" (the visit refuses changes), "outcome_error" (a failed "Read the Pump Again"), "general" (findings about the whole
 * prescription: the daily dose...), "daily" (the new daily dose); its severity class in
 * *@css_class ("error", "warning", "dim-label" or "" when empty; may be NULL). And the review:
 * "changes" (one "Field: old → new" a line), "dates", "findings", "refusal", "override" (the
 * reason's message), "progress" (one line a step, each "✓ ", "→ " or "  " first), "outcome"
 * (title, a newline, the description). "" when empty; NULL for an unknown key. A new string. */
char *thecal_program_dialog_dup_text (ThecalProgramDialog *self, const char *key, const char **css_class);
/* The chart of the review page. */
GtkWidget *thecal_program_dialog_get_chart (ThecalProgramDialog *self);
/* The outcome page's "Read the Pump Again" (UNCERTAIN only): runs the reconciliation. */
gboolean thecal_program_dialog_can_read_again (ThecalProgramDialog *self);
void thecal_program_dialog_read_again (ThecalProgramDialog *self);
/* TRUE while the write or the reconciliation runs. */
gboolean thecal_program_dialog_get_busy (ThecalProgramDialog *self);
/* TRUE once the write ran; its outcome (THECAL_OUTCOME_CONFIRMED, FAILED or UNCERTAIN; after
 * "Read the Pump Again" the resolved one), or FAILED for a refusal of the workflow. */
gboolean thecal_program_dialog_get_finished (ThecalProgramDialog *self, ThecalProgrammingOutcome *outcome);

G_END_DECLS
