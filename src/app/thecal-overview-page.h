/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-overview-page.h: the pump overview of the selected patient. "Connect and Interrogate"
 * runs thecal_visit_connect_async (progress shown, cancellable); the page then shows what the
 * pump runs (drug in tall-man letters, concentration, mode, daily dose and rate), the reservoir
 * (gauge, low-reservoir alarm, empty and refill-by dates, from the visit's review of the active
 * prescription), the battery and its replacement (ERI) date, the active alarms with what to do,
 * and the findings of the interrogation. In demo mode the pump is the patient's simulated demo
 * pump (thecal-demo.h) on the loopback transport, its time running on from the demo instant.
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "thecal-demo.h"
#include "thecal-patient-list.h"
#include "thecal-visit.h"

G_BEGIN_DECLS

#define THECAL_TYPE_OVERVIEW_PAGE (thecal_overview_page_get_type ())
G_DECLARE_FINAL_TYPE (ThecalOverviewPage, thecal_overview_page, THECAL, OVERVIEW_PAGE, AdwBin)

GtkWidget *thecal_overview_page_new (void);

/* Who is signed in and the data the visits use (copied by each visit). NULL session: signed out
 * (the page empties and drops its pump). */
void thecal_overview_page_set_session (ThecalOverviewPage *self,
                                       ThecalRecordSession *session,
                                       const ThecalPumpModelSet *models,
                                       const ThecalDrugLibrary *library);
/* Shows @item's patient (NULL: none); any connection to the previous patient's pump is dropped. */
void thecal_overview_page_set_patient (ThecalOverviewPage *self, ThecalPatientItem *item);
const char *thecal_overview_page_get_mrn (ThecalOverviewPage *self);

/* The button's action; the cancel button's. */
void thecal_overview_page_connect (ThecalOverviewPage *self);
void thecal_overview_page_cancel (ThecalOverviewPage *self);
gboolean thecal_overview_page_get_busy (ThecalOverviewPage *self);
/* Opens the refill wizard (thecal-refill-wizard.h) on the connected visit, transient for the
 * window; when its refill returns (any outcome) the page interrogates the pump again through the
 * same visit, so the gauge shows the new volume. The wizard (not a new reference), or NULL when
 * not connected. */
GtkWidget *thecal_overview_page_open_refill (ThecalOverviewPage *self);
/* Opens the patient's history (thecal-history-page.h), with or without a connected pump (the
 * record alone; a connected visit's findings and alarms go into its session report), transient
 * for the window. The new window (owned by GTK), or NULL when no patient is selected. */
GtkWidget *thecal_overview_page_open_history (ThecalOverviewPage *self);
/* Demo mode: the link to the patient's simulated pump (its loopback transport takes the demo's
 * faults, e.g. the pump out of range), or NULL. */
ThecalDemoLink *thecal_overview_page_get_demo_link (ThecalOverviewPage *self);
/* The connected visit, or NULL. */
ThecalVisit *thecal_overview_page_get_visit (ThecalOverviewPage *self);

/* What a value label shows, by key: "drug", "concentration", "mode", "dose", "rate", "reservoir",
 * "low_date", "empty_date", "refill_by", "battery", "eri", "status" (the connection's state);
 * "alarms" and "findings": every row's text, one a line. NULL for an unknown key. A new string. */
char *thecal_overview_page_dup_text (ThecalOverviewPage *self, const char *key);

G_END_DECLS
