/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-lock-page.h: the lock screen the window shows after inactivity (docs/gui.md "Lock after
 * inactivity"): who is signed in, their password to unlock, or another person's name and password
 * to sign in instead (which signs the first one out). Both are logins through src/workflow
 * (thecal_record_session_login_async): the record checks the password on its thread, audits
 * "login" or "login.failed", and counts failures toward the lock-out like any sign-in. No patient
 * data is on this page.
 *
 * Signals: "unlocked" (the signed-in user typed their password), "switch-requested" (another
 * person asks to sign in: the window says whether that may happen now, then calls
 * thecal_lock_page_switch_user or thecal_lock_page_set_switch_error), "signed-in" (another
 * person's session).
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "thecal-record-session.h"

G_BEGIN_DECLS

#define THECAL_TYPE_LOCK_PAGE (thecal_lock_page_get_type ())
G_DECLARE_FINAL_TYPE (ThecalLockPage, thecal_lock_page, THECAL, LOCK_PAGE, AdwBin)

/* Shows the lock for @session's user (every field cleared). */
void thecal_lock_page_set_session (ThecalLockPage *self, ThecalRecordSession *session);
/* Types @text into "password", "other_name" or "other_password". */
void thecal_lock_page_set_field (ThecalLockPage *self, const char *field, const char *text);
char *thecal_lock_page_dup_field (ThecalLockPage *self, const char *field);
/* The Unlock button; Sign In as Another User. */
void thecal_lock_page_unlock (ThecalLockPage *self);
void thecal_lock_page_request_switch (ThecalLockPage *self);
/* The window's answers to "switch-requested". */
void thecal_lock_page_switch_user (ThecalLockPage *self);
void thecal_lock_page_set_switch_error (ThecalLockPage *self, const char *message);
/* "who", "error", "other_error": what the label shows ("" when hidden). A new string. */
char *thecal_lock_page_dup_text (ThecalLockPage *self, const char *key);
/* TRUE while a password is being checked. */
gboolean thecal_lock_page_get_busy (ThecalLockPage *self);
void thecal_lock_page_focus (ThecalLockPage *self);

G_END_DECLS
