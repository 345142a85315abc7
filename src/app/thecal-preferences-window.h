/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-preferences-window.h: the Preferences window (docs/gui.md "Preferences"): the inactivity
 * timeout, the units shown (fixed, ISMP style: said, not chosen), the wand's USB ID and the drug
 * library file (administrators only: the permission is checked through src/workflow). Each value
 * is typed, then applied (Enter or the row's apply button): it is checked first
 * (thecal-settings.h) and a refusal is shown under its field, naming the field and the limit, and
 * changes nothing.
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "thecal-record-session.h"

G_BEGIN_DECLS

#define THECAL_TYPE_PREFERENCES_WINDOW (thecal_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (ThecalPreferencesWindow, thecal_preferences_window, THECAL, PREFERENCES_WINDOW, AdwPreferencesWindow)

/* @settings: the app's settings (thecal_settings_new ()), or NULL when the schema is missing (the
 * window then shows the defaults and saves nothing). @session: who is signed in, or NULL. */
ThecalPreferencesWindow *thecal_preferences_window_new (GSettings *settings, ThecalRecordSession *session);

/* Types @text into the field of @key ("inactivity-timeout-minutes", "wand-usb-id",
 * "drug-library-path") and applies it as the row's apply button does. TRUE when it was written. */
gboolean thecal_preferences_window_apply (ThecalPreferencesWindow *self, const char *key, const char *text);
/* What the field of @key shows now; the message under it ("" when none). New strings; NULL for an
 * unknown key. */
char *thecal_preferences_window_dup_text (ThecalPreferencesWindow *self, const char *key);
char *thecal_preferences_window_dup_error (ThecalPreferencesWindow *self, const char *key);

G_END_DECLS
