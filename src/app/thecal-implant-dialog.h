/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-implant-dialog.h: the registration of a new implant (docs/gui.md "Boluses, clock,
 * alarms, implant"; src/workflow/thecal-workflow-implant.h), offered by the overview when the
 * connection answered THECAL_VISIT_ERROR_UNKNOWN_PUMP: the pump's serial and model as it
 * identified itself, the patient, then what the workflow needs: the implant date, the catheter
 * length, the initial (continuous) prescription (drug, concentration, daily dose or rate), an
 * override reason when a soft limit applies, and the priming bolus (offered, on by default; its
 * rate or the pump's bolus maximum). Every number is parsed exactly by src/dose; every check is
 * the workflow's and the dose core's. Then thecal_visit_register_implant_async with a progress
 * view and its outcome.
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "thecal-workflow-implant.h"

G_BEGIN_DECLS

#define THECAL_TYPE_IMPLANT_DIALOG (thecal_implant_dialog_get_type ())
G_DECLARE_FINAL_TYPE (ThecalImplantDialog, thecal_implant_dialog, THECAL, IMPLANT_DIALOG, AdwWindow)

/* A registration through @visit (not connected: its connection answered UNKNOWN_PUMP; referenced)
 * of the pump @identity identified (serial, model) as @model's, for the existing patient @mrn
 * (@patient_name for people), paired with @pairing_key (THECAL_PAIRING_KEY_BYTES, copied, wiped
 * when the dialog goes: a demo pump's). @pairing_key NULL (a real pump): the form has a "Pairing
 * key" field (a password entry, typed, pasted or loaded from the key file delivered with the pump;
 * parsed by thecal_pairing_key_parse), whose text is cleared and every copy wiped when the dialog
 * goes. @library: the drug library (copied). */
ThecalImplantDialog *thecal_implant_dialog_new (ThecalVisit *visit,
                                                const ThecalDrugLibrary *library,
                                                const ThecalPumpModel *model,
                                                const char *serial,
                                                const char *mrn,
                                                const char *patient_name,
                                                const guint8 *pairing_key);

/* TRUE when the form asks for the pairing key (the caller gave none: a real pump). */
gboolean thecal_implant_dialog_has_key_field (ThecalImplantDialog *self);
/* Reads the pairing key from @file (what "Load from File…" does with the file chosen),
 * asynchronously: a valid key fills the field (as 64 lower-case digits), anything else puts the
 * parser's message, naming the file, next to it. Nothing without the key field. */
void thecal_implant_dialog_load_key_file (ThecalImplantDialog *self, GFile *file);
/* TRUE while a key file is read. */
gboolean thecal_implant_dialog_get_loading_key (ThecalImplantDialog *self);

/* The page shown: "form", "progress", "outcome". */
const char *thecal_implant_dialog_get_page (ThecalImplantDialog *self);
/* Types @text into a field: "implant_date", "catheter", "pairing_key" (with the key field only),
 * "concentration", "dose" (a daily dose or rate), "override", "priming_rate". */
void thecal_implant_dialog_set_field (ThecalImplantDialog *self, const char *field, const char *text);
/* Chooses the drug by library id. FALSE when not in the library. */
gboolean thecal_implant_dialog_set_drug (ThecalImplantDialog *self, const char *drug_id);
/* The "Give the priming bolus" switch. */
void thecal_implant_dialog_set_priming (ThecalImplantDialog *self, gboolean priming);
/* The header bar's Register (on the form) or Close (on the outcome). */
void thecal_implant_dialog_next (ThecalImplantDialog *self);

/* What a label shows: the error next to a field (the names of set_field), "form" (the workflow's
 * refusal of the whole request), "outcome" (title and description). A new string ("" when empty;
 * NULL for an unknown key). */
char *thecal_implant_dialog_dup_text (ThecalImplantDialog *self, const char *key);

/* TRUE once the registration ran (the outcome page): *@ok TRUE with *@report filled, FALSE when a
 * step after the registration failed. A refusal (nothing written) leaves the form and FALSE. */
gboolean thecal_implant_dialog_get_finished (ThecalImplantDialog *self, gboolean *ok, ThecalImplantReport *report);
/* TRUE while the registration runs. */
gboolean thecal_implant_dialog_get_busy (ThecalImplantDialog *self);

G_END_DECLS
