/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-sign-in-page.c: see thecal-sign-in-page.h.
 */
#include "config.h"

#include "thecal-sign-in-page.h"

#include <glib/gi18n.h>

#include "thecal-demo.h"

struct _ThecalSignInPage
{
  AdwBin parent_instance;

  GtkWidget *status_page;
  GtkWidget *user_entry;
  GtkWidget *full_name_entry;
  GtkWidget *full_name_label;
  GtkWidget *password_entry;
  GtkWidget *confirm_entry;
  GtkWidget *confirm_label;
  GtkWidget *error_label;
  GtkWidget *hint_label;
  GtkWidget *sign_in_button;
  GtkWidget *spinner;

  ThecalRecord *record;
  GCancellable *cancellable; /* the sign-in in flight */
  gboolean first_run;
};

G_DEFINE_FINAL_TYPE (ThecalSignInPage, thecal_sign_in_page, ADW_TYPE_BIN)

enum
{
  SIGNAL_SIGNED_IN,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
update_sensitivity (ThecalSignInPage *self)
{
  gboolean busy = self->cancellable != NULL;
  gboolean ready = self->record != NULL && !busy;

  gtk_widget_set_sensitive (self->sign_in_button, ready);
  gtk_widget_set_sensitive (self->user_entry, !busy);
  gtk_widget_set_sensitive (self->password_entry, !busy);
  gtk_widget_set_sensitive (self->full_name_entry, !busy);
  gtk_widget_set_sensitive (self->confirm_entry, !busy);
  gtk_widget_set_visible (self->spinner, busy || self->record == NULL);
  gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), busy || self->record == NULL);
}

static void
set_first_run (ThecalSignInPage *self, gboolean first_run)
{
  self->first_run = first_run;
  gtk_widget_set_visible (self->full_name_label, first_run);
  gtk_widget_set_visible (self->full_name_entry, first_run);
  gtk_widget_set_visible (self->confirm_label, first_run);
  gtk_widget_set_visible (self->confirm_entry, first_run);
  adw_status_page_set_title (ADW_STATUS_PAGE (self->status_page), first_run ? _ ("Create the First Administrator") : _ ("Sign In"));
  adw_status_page_set_description (ADW_STATUS_PAGE (self->status_page),
                                   first_run ? _ ("This record has no user yet. The first user administers it: users, roles and the drug library.")
                                             : _ ("Sign in with your own user name and password."));
  gtk_button_set_label (GTK_BUTTON (self->sign_in_button), first_run ? _ ("Create and Sign In") : _ ("Sign In"));
}

void
thecal_sign_in_page_set_error (ThecalSignInPage *self, const char *message)
{
  g_return_if_fail (THECAL_IS_SIGN_IN_PAGE (self));

  gtk_label_set_text (GTK_LABEL (self->error_label), message != NULL ? message : "");
  gtk_widget_set_visible (self->error_label, message != NULL);
}

static void
offer_demo_user (ThecalSignInPage *self)
{
  gboolean demo = self->record != NULL && thecal_record_is_demo (self->record);

  gtk_widget_set_visible (self->hint_label, demo);
  if (!demo)
    return;
  /* a demo record holds no patient data and its passwords are printed in the docs: the demo
   * user is offered, ready to sign in */
  gtk_editable_set_text (GTK_EDITABLE (self->user_entry), THECAL_DEMO_USER_NAME);
  gtk_editable_set_text (GTK_EDITABLE (self->password_entry), THECAL_DEMO_USER_PASSWORD);
}

/* Runs on the main thread: the record answered a login or the first-run creation. */
static void
on_signed_in (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (ThecalSignInPage) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecordSession) session = NULL;

  (void) source;
  if (self->first_run)
    session = thecal_record_session_first_run_finish (result, &error);
  else
    session = thecal_record_session_login_finish (result, &error);
  g_clear_object (&self->cancellable);
  update_sensitivity (self);
  if (session == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      if (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_FIRST_RUN))
        {
          set_first_run (self, TRUE);
          thecal_sign_in_page_set_error (self, _ ("This record has no user yet: create the first administrator."));
          return;
        }
      thecal_sign_in_page_set_error (self, error->message);
      gtk_editable_set_text (GTK_EDITABLE (self->password_entry), "");
      gtk_editable_set_text (GTK_EDITABLE (self->confirm_entry), "");
      gtk_widget_grab_focus (self->password_entry);
      return;
    }
  thecal_sign_in_page_set_error (self, NULL);
  gtk_editable_set_text (GTK_EDITABLE (self->password_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->confirm_entry), "");
  g_signal_emit (self, signals[SIGNAL_SIGNED_IN], 0, session);
}

void
thecal_sign_in_page_submit (ThecalSignInPage *self)
{
  const char *user;
  const char *password;

  g_return_if_fail (THECAL_IS_SIGN_IN_PAGE (self));

  if (self->record == NULL || self->cancellable != NULL)
    return;
  user = gtk_editable_get_text (GTK_EDITABLE (self->user_entry));
  password = gtk_editable_get_text (GTK_EDITABLE (self->password_entry));
  /* only what a person must correct before anything is sent; the record validates the rest
   * (name rules, password length) and its message is shown as it is */
  if (user[0] == '\0')
    {
      thecal_sign_in_page_set_error (self, _ ("User name: enter your user name."));
      gtk_widget_grab_focus (self->user_entry);
      return;
    }
  if (password[0] == '\0')
    {
      thecal_sign_in_page_set_error (self, _ ("Password: enter your password."));
      gtk_widget_grab_focus (self->password_entry);
      return;
    }
  if (self->first_run && g_strcmp0 (password, gtk_editable_get_text (GTK_EDITABLE (self->confirm_entry))) != 0)
    {
      thecal_sign_in_page_set_error (self, _ ("Confirm password: the two passwords differ."));
      gtk_widget_grab_focus (self->confirm_entry);
      return;
    }
  thecal_sign_in_page_set_error (self, NULL);
  self->cancellable = g_cancellable_new ();
  update_sensitivity (self);
  if (self->first_run)
    thecal_record_session_first_run_async (self->record, user, gtk_editable_get_text (GTK_EDITABLE (self->full_name_entry)), password,
                                           self->cancellable, on_signed_in, g_object_ref (self));
  else
    thecal_record_session_login_async (self->record, user, password, self->cancellable, on_signed_in, g_object_ref (self));
}

/* Runs on the main thread: the button, or Enter in an entry. */
static void
on_submit (ThecalSignInPage *self)
{
  thecal_sign_in_page_submit (self);
}

/* Runs on the main thread: the record said whether it has a user yet. */
static void
on_first_run_checked (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (ThecalSignInPage) self = user_data;
  g_autoptr (GError) error = NULL;
  gboolean needed = FALSE;

  if (!thecal_record_session_needs_first_run_finish (result, &needed, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        thecal_sign_in_page_set_error (self, error->message);
      return;
    }
  if (THECAL_RECORD (source) == self->record && needed != self->first_run)
    set_first_run (self, needed);
}

void
thecal_sign_in_page_set_record (ThecalSignInPage *self, ThecalRecord *record)
{
  g_return_if_fail (THECAL_IS_SIGN_IN_PAGE (self));

  if (!g_set_object (&self->record, record))
    return;
  if (record != NULL)
    {
      thecal_sign_in_page_set_status (self, NULL);
      /* a read-only question to the record: a new record has no user yet, and the page then
       * offers the first-run path instead of a sign-in that cannot succeed */
      thecal_record_session_needs_first_run_async (record, NULL, on_first_run_checked, g_object_ref (self));
    }
  offer_demo_user (self);
  update_sensitivity (self);
}

void
thecal_sign_in_page_set_status (ThecalSignInPage *self, const char *status)
{
  g_return_if_fail (THECAL_IS_SIGN_IN_PAGE (self));

  if (status != NULL)
    adw_status_page_set_description (ADW_STATUS_PAGE (self->status_page), status);
  else
    set_first_run (self, self->first_run);
}

void
thecal_sign_in_page_reset (ThecalSignInPage *self)
{
  g_return_if_fail (THECAL_IS_SIGN_IN_PAGE (self));

  gtk_editable_set_text (GTK_EDITABLE (self->user_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->password_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->full_name_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->confirm_entry), "");
  thecal_sign_in_page_set_error (self, NULL);
  set_first_run (self, FALSE);
  offer_demo_user (self);
}

const char *
thecal_sign_in_page_get_error (ThecalSignInPage *self)
{
  g_return_val_if_fail (THECAL_IS_SIGN_IN_PAGE (self), NULL);
  return gtk_widget_get_visible (self->error_label) ? gtk_label_get_text (GTK_LABEL (self->error_label)) : NULL;
}

void
thecal_sign_in_page_set_credentials (ThecalSignInPage *self, const char *user, const char *password)
{
  g_return_if_fail (THECAL_IS_SIGN_IN_PAGE (self));
  gtk_editable_set_text (GTK_EDITABLE (self->user_entry), user != NULL ? user : "");
  gtk_editable_set_text (GTK_EDITABLE (self->password_entry), password != NULL ? password : "");
}

void
thecal_sign_in_page_set_first_run_details (ThecalSignInPage *self, const char *full_name, const char *confirm_password)
{
  g_return_if_fail (THECAL_IS_SIGN_IN_PAGE (self));
  gtk_editable_set_text (GTK_EDITABLE (self->full_name_entry), full_name != NULL ? full_name : "");
  gtk_editable_set_text (GTK_EDITABLE (self->confirm_entry), confirm_password != NULL ? confirm_password : "");
}

gboolean
thecal_sign_in_page_get_first_run (ThecalSignInPage *self)
{
  g_return_val_if_fail (THECAL_IS_SIGN_IN_PAGE (self), FALSE);
  return self->first_run;
}

static void
thecal_sign_in_page_dispose (GObject *object)
{
  ThecalSignInPage *self = THECAL_SIGN_IN_PAGE (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->record);
  G_OBJECT_CLASS (thecal_sign_in_page_parent_class)->dispose (object);
}

static void
thecal_sign_in_page_class_init (ThecalSignInPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = thecal_sign_in_page_dispose;

  signals[SIGNAL_SIGNED_IN] = g_signal_new ("signed-in", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                            G_TYPE_NONE, 1, THECAL_TYPE_RECORD_SESSION);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/thecal/Programmer/ui/thecal-sign-in-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ThecalSignInPage, status_page);
  gtk_widget_class_bind_template_child (widget_class, ThecalSignInPage, user_entry);
  gtk_widget_class_bind_template_child (widget_class, ThecalSignInPage, full_name_entry);
  gtk_widget_class_bind_template_child (widget_class, ThecalSignInPage, full_name_label);
  gtk_widget_class_bind_template_child (widget_class, ThecalSignInPage, password_entry);
  gtk_widget_class_bind_template_child (widget_class, ThecalSignInPage, confirm_entry);
  gtk_widget_class_bind_template_child (widget_class, ThecalSignInPage, confirm_label);
  gtk_widget_class_bind_template_child (widget_class, ThecalSignInPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, ThecalSignInPage, hint_label);
  gtk_widget_class_bind_template_child (widget_class, ThecalSignInPage, sign_in_button);
  gtk_widget_class_bind_template_child (widget_class, ThecalSignInPage, spinner);
  gtk_widget_class_bind_template_callback (widget_class, on_submit);
}

static void
thecal_sign_in_page_init (ThecalSignInPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  set_first_run (self, FALSE);
  update_sensitivity (self);
}

GtkWidget *
thecal_sign_in_page_new (void)
{
  return g_object_new (THECAL_TYPE_SIGN_IN_PAGE, NULL);
}
