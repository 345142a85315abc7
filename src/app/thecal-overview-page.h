/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-overview-page.h: the pump overview of the selected patient. "Connect and Interrogate"
 * runs thecal_visit_connect_async (progress shown, cancellable); the page then shows what the
 * pump runs (drug in tall-man letters, concentration, mode, daily dose and rate), the reservoir
 * (gauge, low-reservoir alarm, empty and refill-by dates, from the visit's review of the active
 * prescription), the battery and its replacement (ERI) date, the active alarms with what to do,
 * and the findings of the interrogation. In demo mode the pump is a pump of the session's demo
 * world (thecal-demo.h: by default the patient's own, persistent, on the demo clock) on the
 * loopback transport; without a world (set_demo_world), the patient's demo pump afresh from the
 * demo instant at each connection.
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "thecal-wand-status.h"

#include "thecal-demo.h"
#include "thecal-patient-list.h"
#include "thecal-visit.h"
#include "thecal-workflow-bolus.h"

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
/* Opens the prescription editor (thecal-program-dialog.h) on the connected visit, transient for
 * the window; when its write settles (any outcome) the page interrogates the pump again through
 * the same visit, so the therapy shown is the one the pump runs. The dialog (not a new
 * reference), or NULL when not connected. */
GtkWidget *thecal_overview_page_open_program (ThecalOverviewPage *self);
/* Opens the bolus dialog (thecal-bolus-dialog.h) on @kind on the connected visit; once a bolus was
 * written and the dialog is closed, the page reads the pump again. The dialog (not a new
 * reference), or NULL when not connected or while another of the page's dialogs is open (that one
 * is shown again; the same holds for the clock, alarm and implant dialogs below). */
GtkWidget *thecal_overview_page_open_bolus (ThecalOverviewPage *self, ThecalVisitBolusKind kind);
/* Opens the clock synchronisation's confirmation (an AdwMessageDialog: the pump's clock at the
 * interrogation and the visit's "clock_drift" finding; responses "cancel", "sync"); "sync" runs
 * thecal_visit_sync_clock_async, the status says what it did and the pump is read again. NULL when
 * not connected. */
GtkWidget *thecal_overview_page_open_clock_sync (ThecalOverviewPage *self);
/* An alarm row's "Acknowledge": for a critical alarm a confirmation (an AdwMessageDialog,
 * responses "cancel", "acknowledge") is returned; otherwise thecal_visit_ack_alarm_async starts at
 * once and NULL is returned. The status then says what the workflow answered (a refusal) and the
 * pump is read again. */
GtkWidget *thecal_overview_page_acknowledge_alarm (ThecalOverviewPage *self, ThecalProtoAlarm kind);
/* When the connection answered THECAL_VISIT_ERROR_UNKNOWN_PUMP ("Register This Pump…" shown; in
 * demo mode the pump's key is the demo's, through the USB wand the dialog asks for the key
 * delivered with the pump), opens the registration of the new implant for the
 * selected patient (thecal-implant-dialog.h) through the same visit; once it ran and the dialog
 * is closed, the page reads the pump again. The dialog (not a new reference), or NULL. */
GtkWidget *thecal_overview_page_open_implant (ThecalOverviewPage *self);
/* Interrogates the connected pump again through the same visit. */
void thecal_overview_page_read_again (ThecalOverviewPage *self);
/* Opens the patient's history (thecal-history-page.h), with or without a connected pump (the
 * record alone; a connected visit's findings and alarms go into its session report), transient
 * for the window. The new window (owned by GTK), or NULL when no patient is selected. */
GtkWidget *thecal_overview_page_open_history (ThecalOverviewPage *self);
/* Demo mode: the link to the patient's simulated pump (its loopback transport takes the demo's
 * faults, e.g. the pump out of range), or NULL. */
ThecalDemoLink *thecal_overview_page_get_demo_link (ThecalOverviewPage *self);
/* Demo mode: the session's demo world (thecal-demo.h): Connect opens a link to its pump chosen in
 * "Simulated pump near the wand" (default the patient's own; another patient's pump shows the
 * workflow's WRONG_PATIENT refusal; the spare is unknown to the record), and the connected pump
 * is read again every 2 s of real time while the demo runs faster than real time (every minute
 * at 1×; at once after a fault or the wand changed), unless a dialog is open over the page. */
/* The header's wand status (not referenced: the window holds both): told when a visit opens the
 * USB wand and when it lets go, so that it asks the wand through the visit's link
 * (thecal-wand-status.h). */
void thecal_overview_page_set_wand_status (ThecalOverviewPage *self, ThecalWandStatus *wand_status);
void thecal_overview_page_set_demo_world (ThecalOverviewPage *self, ThecalDemoWorld *world);
ThecalDemoWorld *thecal_overview_page_get_demo_world (ThecalOverviewPage *self);
/* The serial chosen as near the wand (NULL: no choice, not demo mode); choosing one (FALSE when
 * it is not offered). */
const char *thecal_overview_page_get_demo_pump (ThecalOverviewPage *self);
gboolean thecal_overview_page_set_demo_pump (ThecalOverviewPage *self, const char *serial);
/* Reads the connected pump again now, quietly (what is shown stays until the answer); FALSE when
 * it cannot now (not connected, a connection or re-read in flight, the page not shown, a dialog
 * open, the link busy). */
gboolean thecal_overview_page_refresh (ThecalOverviewPage *self);
gboolean thecal_overview_page_get_refreshing (ThecalOverviewPage *self);
/* The connected visit, or NULL. */
ThecalVisit *thecal_overview_page_get_visit (ThecalOverviewPage *self);

/* What a value label shows, by key: "drug", "concentration", "mode", "dose", "rate", "reservoir",
 * "low_date", "empty_date", "refill_by", "battery", "eri", "status" (the connection's state);
 * "alarms" and "findings": every row's text, one a line. NULL for an unknown key. A new string. */
char *thecal_overview_page_dup_text (ThecalOverviewPage *self, const char *key);

G_END_DECLS
