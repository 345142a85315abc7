/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-sign-in-page.h: the sign-in page: user name and password, or, on a record without any
 * user, the first-run path that creates the first administrator. Errors are shown inline. The
 * record's thread checks the password (Argon2id): every call is async, the main loop never waits.
 *
 * Signal "signed-in" (ThecalRecordSession *session): a person is signed in.
 */
#pragma once

#include <adwaita.h>

#include "thecal-record-session.h"

G_BEGIN_DECLS

#define THECAL_TYPE_SIGN_IN_PAGE (thecal_sign_in_page_get_type ())
G_DECLARE_FINAL_TYPE (ThecalSignInPage, thecal_sign_in_page, THECAL, SIGN_IN_PAGE, AdwBin)

GtkWidget *thecal_sign_in_page_new (void);

/* The record to sign in to (NULL while it is being opened: the page waits, @status says why). */
void thecal_sign_in_page_set_record (ThecalSignInPage *self, ThecalRecord *record);
void thecal_sign_in_page_set_status (ThecalSignInPage *self, const char *status);
/* Shows @message inline as an error (NULL: none). */
void thecal_sign_in_page_set_error (ThecalSignInPage *self, const char *message);
/* Back to an empty form after signing out (the demo user is offered again in a demo record). */
void thecal_sign_in_page_reset (ThecalSignInPage *self);
/* Starts signing in with what the form holds (the button's action). */
void thecal_sign_in_page_submit (ThecalSignInPage *self);
gboolean thecal_sign_in_page_get_first_run (ThecalSignInPage *self);
/* The error shown inline, or NULL. */
const char *thecal_sign_in_page_get_error (ThecalSignInPage *self);
/* What the form holds (tests fill it as a person would type). */
void thecal_sign_in_page_set_credentials (ThecalSignInPage *self, const char *user, const char *password);
void thecal_sign_in_page_set_first_run_details (ThecalSignInPage *self, const char *full_name, const char *confirm_password);

G_END_DECLS
