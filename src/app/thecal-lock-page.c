/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-lock-page.c: see thecal-lock-page.h.
 */
#include "config.h"

#include "thecal-lock-page.h"

#include <glib/gi18n.h>

struct _ThecalLockPage
{
  AdwBin parent_instance;

  GtkWidget *who_label;
  GtkWidget *password_entry;
  GtkWidget *unlock_button;
  GtkWidget *error_label;
  GtkWidget *other_note;
  GtkWidget *other_name_entry;
  GtkWidget *other_password_entry;
  GtkWidget *switch_button;
  GtkWidget *other_error_label;

  ThecalRecordSession *session; /* who is signed in */
  GCancellable *cancellable;    /* a password being checked */
};

G_DEFINE_FINAL_TYPE (ThecalLockPage, thecal_lock_page, ADW_TYPE_BIN)

enum
{
  SIGNAL_UNLOCKED,
  SIGNAL_SWITCH_REQUESTED,
  SIGNAL_SIGNED_IN,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
show (GtkWidget *label, const char *text)
{
  gtk_label_set_text (GTK_LABEL (label), text != NULL ? text : "");
  gtk_widget_set_visible (label, text != NULL && text[0] != '\0');
}

static void
set_busy (ThecalLockPage *self, GCancellable *cancellable)
{
  gboolean busy = cancellable != NULL;

  g_clear_object (&self->cancellable);
  self->cancellable = cancellable;
  gtk_widget_set_sensitive (self->unlock_button, !busy);
  gtk_widget_set_sensitive (self->switch_button, !busy);
  gtk_widget_set_sensitive (self->password_entry, !busy);
  gtk_widget_set_sensitive (self->other_name_entry, !busy);
  gtk_widget_set_sensitive (self->other_password_entry, !busy);
}

static void
clear_fields (ThecalLockPage *self)
{
  gtk_editable_set_text (GTK_EDITABLE (self->password_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->other_name_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->other_password_entry), "");
  show (self->error_label, NULL);
  show (self->other_error_label, NULL);
}

void
thecal_lock_page_set_session (ThecalLockPage *self, ThecalRecordSession *session)
{
  const ThecalUser *user;
  g_autofree char *who = NULL;
  g_autofree char *note = NULL;

  g_return_if_fail (THECAL_IS_LOCK_PAGE (self));

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  set_busy (self, NULL);
  g_set_object (&self->session, session);
  clear_fields (self);
  user = session != NULL ? thecal_record_session_get_user (session) : NULL;
  if (user != NULL)
    {
      who = g_strdup_printf (_ ("%s (%s) is signed in. Type the password to go on."), user->full_name, user->name);
      note = g_strdup_printf (_ ("Signing in as another user signs %s out; not while a pump operation of theirs is under way."),
                              user->full_name);
    }
  show (self->who_label, who);
  show (self->other_note, note);
}

/* Runs on the main thread: the record checked a password (@user_data: a reference to the page; the
 * request's cancellable is in the page until the answer comes). */
static void
on_login_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (ThecalLockPage) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecordSession) session = thecal_record_session_login_finish (result, &error);
  gboolean unlocking;

  (void) source;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->session == NULL)
    return;
  set_busy (self, NULL);
  unlocking = g_strcmp0 (g_object_get_data (G_OBJECT (self), "thecal-request"), "unlock") == 0;
  if (session == NULL)
    {
      /* the password goes: a wrong one is typed again from scratch */
      gtk_editable_set_text (GTK_EDITABLE (unlocking ? self->password_entry : self->other_password_entry), "");
      show (unlocking ? self->error_label : self->other_error_label, error->message);
      return;
    }
  clear_fields (self);
  if (unlocking)
    {
      /* the same person: the window goes on with the session it had (and everything under way) */
      if (thecal_record_session_get_user (session)->id == thecal_record_session_get_user (self->session)->id)
        g_signal_emit (self, signals[SIGNAL_UNLOCKED], 0);
      return;
    }
  g_signal_emit (self, signals[SIGNAL_SIGNED_IN], 0, session);
}

static void
login (ThecalLockPage *self, const char *request, const char *name, const char *password)
{
  GCancellable *cancellable = g_cancellable_new ();

  g_object_set_data_full (G_OBJECT (self), "thecal-request", g_strdup (request), g_free);
  set_busy (self, cancellable);
  thecal_record_session_login_async (thecal_record_session_get_record (self->session), name, password, cancellable, on_login_done,
                                     g_object_ref (self));
}

void
thecal_lock_page_unlock (ThecalLockPage *self)
{
  g_return_if_fail (THECAL_IS_LOCK_PAGE (self));

  if (self->session == NULL || self->cancellable != NULL)
    return;
  show (self->error_label, NULL);
  login (self, "unlock", thecal_record_session_get_user (self->session)->name, gtk_editable_get_text (GTK_EDITABLE (self->password_entry)));
}

void
thecal_lock_page_request_switch (ThecalLockPage *self)
{
  g_return_if_fail (THECAL_IS_LOCK_PAGE (self));

  if (self->session == NULL || self->cancellable != NULL)
    return;
  show (self->other_error_label, NULL);
  if (gtk_editable_get_text (GTK_EDITABLE (self->other_name_entry))[0] == '\0')
    {
      show (self->other_error_label, _ ("Type the other user's name and password."));
      return;
    }
  g_signal_emit (self, signals[SIGNAL_SWITCH_REQUESTED], 0);
}

void
thecal_lock_page_switch_user (ThecalLockPage *self)
{
  g_return_if_fail (THECAL_IS_LOCK_PAGE (self));

  if (self->session == NULL || self->cancellable != NULL)
    return;
  login (self, "switch", gtk_editable_get_text (GTK_EDITABLE (self->other_name_entry)),
         gtk_editable_get_text (GTK_EDITABLE (self->other_password_entry)));
}

void
thecal_lock_page_set_switch_error (ThecalLockPage *self, const char *message)
{
  g_return_if_fail (THECAL_IS_LOCK_PAGE (self));
  gtk_editable_set_text (GTK_EDITABLE (self->other_password_entry), "");
  show (self->other_error_label, message);
}

/* Runs on the main thread: Unlock, or Enter in the password field. */
static void
on_unlock (ThecalLockPage *self)
{
  thecal_lock_page_unlock (self);
}

/* Runs on the main thread: Sign In as Another User, or Enter in its fields. */
static void
on_switch (ThecalLockPage *self)
{
  thecal_lock_page_request_switch (self);
}

static GtkWidget *
entry_of (ThecalLockPage *self, const char *field)
{
  if (g_strcmp0 (field, "password") == 0)
    return self->password_entry;
  if (g_strcmp0 (field, "other_name") == 0)
    return self->other_name_entry;
  if (g_strcmp0 (field, "other_password") == 0)
    return self->other_password_entry;
  return NULL;
}

void
thecal_lock_page_set_field (ThecalLockPage *self, const char *field, const char *text)
{
  GtkWidget *entry;

  g_return_if_fail (THECAL_IS_LOCK_PAGE (self));
  entry = entry_of (self, field);
  g_return_if_fail (entry != NULL);
  gtk_editable_set_text (GTK_EDITABLE (entry), text);
}

char *
thecal_lock_page_dup_field (ThecalLockPage *self, const char *field)
{
  GtkWidget *entry;

  g_return_val_if_fail (THECAL_IS_LOCK_PAGE (self), NULL);
  entry = entry_of (self, field);
  return entry != NULL ? g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry))) : NULL;
}

char *
thecal_lock_page_dup_text (ThecalLockPage *self, const char *key)
{
  GtkWidget *label = NULL;

  g_return_val_if_fail (THECAL_IS_LOCK_PAGE (self), NULL);
  if (g_strcmp0 (key, "who") == 0)
    label = self->who_label;
  else if (g_strcmp0 (key, "error") == 0)
    label = self->error_label;
  else if (g_strcmp0 (key, "other_error") == 0)
    label = self->other_error_label;
  if (label == NULL)
    return NULL;
  return g_strdup (gtk_widget_get_visible (label) ? gtk_label_get_text (GTK_LABEL (label)) : "");
}

gboolean
thecal_lock_page_get_busy (ThecalLockPage *self)
{
  g_return_val_if_fail (THECAL_IS_LOCK_PAGE (self), FALSE);
  return self->cancellable != NULL;
}

void
thecal_lock_page_focus (ThecalLockPage *self)
{
  g_return_if_fail (THECAL_IS_LOCK_PAGE (self));
  gtk_widget_grab_focus (self->password_entry);
}

static void
thecal_lock_page_dispose (GObject *object)
{
  ThecalLockPage *self = THECAL_LOCK_PAGE (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (thecal_lock_page_parent_class)->dispose (object);
}

static void
thecal_lock_page_class_init (ThecalLockPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = thecal_lock_page_dispose;

  signals[SIGNAL_UNLOCKED] = g_signal_new ("unlocked", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_SWITCH_REQUESTED] = g_signal_new ("switch-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                                   NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_SIGNED_IN] = g_signal_new ("signed-in", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                            G_TYPE_NONE, 1, THECAL_TYPE_RECORD_SESSION);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/thecal/Programmer/ui/thecal-lock-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ThecalLockPage, who_label);
  gtk_widget_class_bind_template_child (widget_class, ThecalLockPage, password_entry);
  gtk_widget_class_bind_template_child (widget_class, ThecalLockPage, unlock_button);
  gtk_widget_class_bind_template_child (widget_class, ThecalLockPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, ThecalLockPage, other_note);
  gtk_widget_class_bind_template_child (widget_class, ThecalLockPage, other_name_entry);
  gtk_widget_class_bind_template_child (widget_class, ThecalLockPage, other_password_entry);
  gtk_widget_class_bind_template_child (widget_class, ThecalLockPage, switch_button);
  gtk_widget_class_bind_template_child (widget_class, ThecalLockPage, other_error_label);
  gtk_widget_class_bind_template_callback (widget_class, on_unlock);
  gtk_widget_class_bind_template_callback (widget_class, on_switch);
}

static void
thecal_lock_page_init (ThecalLockPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
