/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-patients-page.h: the searchable patient list (a GtkListView over ThecalPatientList,
 * paged through the record). Each row shows the patient and, where known, the pump's status at a
 * glance (demo mode: the simulated pump's summary).
 *
 * Signal "patient-selected" (ThecalPatientItem *item): a row was selected or activated.
 */
#pragma once

#include <adwaita.h>

#include "thecal-demo.h"
#include "thecal-patient-list.h"

G_BEGIN_DECLS

#define THECAL_TYPE_PATIENTS_PAGE (thecal_patients_page_get_type ())
G_DECLARE_FINAL_TYPE (ThecalPatientsPage, thecal_patients_page, THECAL, PATIENTS_PAGE, AdwBin)

GtkWidget *thecal_patients_page_new (void);

/* The session whose record is listed (NULL: signed out, the list empties). */
void thecal_patients_page_set_session (ThecalPatientsPage *self, ThecalRecordSession *session);
ThecalPatientList *thecal_patients_page_get_list (ThecalPatientsPage *self);
/* What the search entry holds (as a person types it; the list follows after its short delay). */
void thecal_patients_page_set_search (ThecalPatientsPage *self, const char *text);
/* Selects the row at @position (the same as a click). */
void thecal_patients_page_select (ThecalPatientsPage *self, guint position);
/* The search field gets the keyboard focus (win.search, Ctrl+F). */
void thecal_patients_page_focus_search (ThecalPatientsPage *self);
/* Add Patient… and Edit… (the selected patient; NULL when none is selected or nobody is signed
 * in): a ThecalPatientDialog transient for the window; once it saved, the list reads the record
 * again. The dialog (not a new reference). */
GtkWidget *thecal_patients_page_open_add (ThecalPatientsPage *self);
GtkWidget *thecal_patients_page_open_edit (ThecalPatientsPage *self);

/* The pump models (copied) the rows' projections from the record use (thecal-patient-status.h). */
void thecal_patients_page_set_pump_models (ThecalPatientsPage *self, const ThecalPumpModelSet *models);
/* Demo mode: the rows of demo patients show their pump as @world runs it now (the reservoir, the
 * refill-by date projected from now, the raised alarms), refreshed every second and when the
 * world changes; the demo's description moves to the tooltip. NULL: the items' own status. */
void thecal_patients_page_set_demo_world (ThecalPatientsPage *self, ThecalDemoWorld *world);
/* What the row of @mrn shows as its status (refreshed first), while it is bound (on screen); NULL
 * otherwise. */
char *thecal_patients_page_dup_row_status (ThecalPatientsPage *self, const char *mrn);

G_END_DECLS
