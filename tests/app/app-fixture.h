/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * app-fixture.h: what every in-process GTK test of tests/app shares (TESTING.md "GTK 4 without a
 * display"): the Check fixture (GTK, libadwaita, the app's resources and style, the drug library
 * and pump models from THECAL_DATA_DIR, a temporary directory), waiting on the main context,
 * screenshots to THECAL_SCREENSHOT_DIR, and the demo window signed in and connected.
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "thecal-application.h"
#include "thecal-demo.h"
#include "thecal-test.h"
#include "thecal-refill-wizard.h"
#include "thecal-window.h"

G_BEGIN_DECLS

/* How long wait_for () waits before it says the condition never held. */
#define WAIT_MS 60000

/* Set by setup (), cleared by teardown (). */
extern char *tmp_dir;
extern ThecalPumpModelSet *models;
extern ThecalDrugLibrary *library;

void remove_tree (const char *path);
/* The Check fixture of every tcase. */
void setup (void);
void teardown (void);
/* Iterates the main context until @check (@data) holds or WAIT_MS pass; FALSE on time out. */
gboolean wait_for (gboolean (*check) (gpointer data), gpointer data);
/* Lets GTK lay out and draw what changed for @ms. */
void settle (guint ms);
/* Saves @widget as THECAL_SCREENSHOT_DIR/@name (nothing without the variable), after @settle_ms;
 * @background paints a light background first (for windows without one of their own). */
void screenshot_after (GtkWidget *widget, const char *name, gboolean background, guint settle_ms);
void screenshot_full (GtkWidget *widget, const char *name, gboolean background);
void screenshot (GtkWidget *widget, const char *name);
/* The first mapped descendant of @widget of @type, or NULL. */
GtkWidget *find_descendant (GtkWidget *widget, GType type);
gboolean record_ready (gpointer data);
gboolean signed_in (gpointer window);
gboolean sign_in_error_shown (gpointer page);
gboolean list_has_six (gpointer window);
gboolean search_found_roe (gpointer window);
gboolean overview_connected (gpointer page);
/* A demo record in tmp_dir and a window on it, shown, its record set (*@record_out: a new ref). */
ThecalWindow *demo_window (ThecalRecord **record_out);
/* Signs in as the demo user and connects to DEMO-0002 ROE, Richard (1.8 mL of morphine 25 mg/mL
 * left in a TR-20); the overview. */
ThecalOverviewPage *connect_low_reservoir (ThecalWindow *window);
/* A demo record in tmp_dir with a nurse "nina" ("nurse password") added, a window on it, nina
 * signed in and connected to DEMO-0002 ROE, Richard; the overview (*@window_out, *@record_out: a
 * new ref). */
ThecalOverviewPage *connect_as_nurse (ThecalWindow **window_out, ThecalRecord **record_out);
/* The first descendant of @widget that is a button labelled @label, or NULL. */
GtkWidget *find_button (GtkWidget *widget, const char *label);
/* 1 000 PTM boluses imported into the log of ROE, Richard's pump (TR20-000124): his history then
 * has 1 002 entries; the demo user's session on @record (a new ref). */
ThecalRecordSession *import_thousand_events (ThecalRecord *record);
/* In the refill wizard of DEMO-0002 (1.8 mL of morphine 25 mg/mL left): 1.8 mL aspirated, 18 mL of
 * morphine 50 mg/mL added (lot MO-2611-B), the soft limit overridden with a reason, paula's
 * verification; it ends on the summary page, before Refill is pressed. */
void refill_wizard_type_change (ThecalRefillWizard *wizard);
/* main () of a test binary: skips (77) without a display, else runs @suite. */
int app_test_main (Suite *suite);

G_END_DECLS
