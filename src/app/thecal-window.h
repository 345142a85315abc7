/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-window.h: the main window: the header (who is signed in, sign out), the demo banner, and
 * the pages: sign-in, then the patients beside the pump overview (an AdwLeaflet that folds on a
 * narrow window).
 */
#pragma once

#include <adwaita.h>

#include "thecal-demo-controls.h"
#include "thecal-overview-page.h"
#include "thecal-patients-page.h"
#include "thecal-sign-in-page.h"
#include "thecal-wand-status.h"

G_BEGIN_DECLS

#define THECAL_TYPE_WINDOW (thecal_window_get_type ())
G_DECLARE_FINAL_TYPE (ThecalWindow, thecal_window, THECAL, WINDOW, AdwApplicationWindow)

ThecalWindow *thecal_window_new (AdwApplication *application,
                                 gboolean demo,
                                 const ThecalPumpModelSet *models,
                                 const ThecalDrugLibrary *library);

/* The record, once open (NULL: still opening; @status says what happens meanwhile). */
void thecal_window_set_record (ThecalWindow *self, ThecalRecord *record);
void thecal_window_set_status (ThecalWindow *self, const char *status, gboolean error);

ThecalSignInPage *thecal_window_get_sign_in_page (ThecalWindow *self);
ThecalPatientsPage *thecal_window_get_patients_page (ThecalWindow *self);
ThecalOverviewPage *thecal_window_get_overview_page (ThecalWindow *self);
/* Demo mode: the demo world (its simulated pumps and wand, its clock), the demo bar under the
 * banner (time control, fault buttons); NULL / hidden otherwise. The wand status in the header. */
ThecalDemoWorld *thecal_window_get_demo_world (ThecalWindow *self);
/* Demo mode: replaces the demo world (tests: one on an injected real time source) before a
 * patient is connected. */
void thecal_window_set_demo_world (ThecalWindow *self, ThecalDemoWorld *world);
ThecalDemoControls *thecal_window_get_demo_controls (ThecalWindow *self);
ThecalWandStatus *thecal_window_get_wand_status (ThecalWindow *self);
/* The signed-in session, or NULL. */
ThecalRecordSession *thecal_window_get_session (ThecalWindow *self);
void thecal_window_sign_out (ThecalWindow *self);

G_END_DECLS
