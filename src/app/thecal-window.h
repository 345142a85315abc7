/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-window.h: the main window: the header (who is signed in, sign out), the demo banner, and
 * the pages: sign-in, then the patients beside the pump overview (an AdwLeaflet that folds on a
 * narrow window).
 */
#pragma once

#include <adwaita.h>

#include "thecal-lock-page.h"
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

/* Every accelerator of the app ({ "win.lock", "<Control>l" }, ...; ends with { NULL, NULL }). */
typedef struct
{
  const char *action;
  const char *accel;
} ThecalWindowAccel;
const ThecalWindowAccel *thecal_window_get_accels (void);

/* The lock after inactivity (docs/gui.md): win.lock, or no input for the timeout of the settings
 * (thecal_window_set_lock_timeout_ms > 0 overrides it, for the tests). Nothing happens while
 * nobody is signed in. */
void thecal_window_lock (ThecalWindow *self);
gboolean thecal_window_get_locked (ThecalWindow *self);
void thecal_window_set_lock_timeout_ms (ThecalWindow *self, gint64 timeout_ms);
/* What every key press, click, pointer motion, scroll or touch in the window or a dialog over it
 * does: the timeout starts again. */
void thecal_window_note_activity (ThecalWindow *self);
ThecalLockPage *thecal_window_get_lock_page (ThecalWindow *self);
/* win.preferences: the Preferences window, transient for this one (NULL while locked). */
GtkWidget *thecal_window_open_preferences (ThecalWindow *self);

G_END_DECLS
