/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-form.c: see thecal-form.h.
 */
#include "config.h"

#include "thecal-form.h"

#include <glib/gi18n.h>

GtkWidget *
thecal_form_add_text (GtkWidget *box, const char *text, const char *css_class)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  if (css_class != NULL)
    gtk_widget_add_css_class (label, css_class);
  gtk_box_append (GTK_BOX (box), label);
  return label;
}

void
thecal_form_set_error (GtkWidget *label, const char *text)
{
  gtk_label_set_text (GTK_LABEL (label), text != NULL ? text : "");
  gtk_widget_set_visible (label, text != NULL && text[0] != '\0');
}

/* Runs on the main thread: an entry changed; its error no longer holds. @user_data: the label. */
static void
on_entry_changed (GtkEditable *entry, gpointer user_data)
{
  (void) entry;
  thecal_form_set_error (user_data, NULL);
}

GtkWidget *
thecal_form_add_entry_full (GtkWidget *box,
                            const char *title,
                            const char *placeholder,
                            gboolean password,
                            const char *error_class,
                            GtkWidget **error)
{
  GtkWidget *label = thecal_form_add_text (box, title, "heading");
  GtkWidget *entry = password ? gtk_password_entry_new () : gtk_entry_new ();

  if (password)
    gtk_password_entry_set_show_peek_icon (GTK_PASSWORD_ENTRY (entry), TRUE);
  else if (placeholder != NULL)
    gtk_entry_set_placeholder_text (GTK_ENTRY (entry), placeholder);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_RELATION_LABELLED_BY, label, NULL, -1);
  gtk_box_append (GTK_BOX (box), entry);
  *error = thecal_form_add_text (box, "", error_class);
  gtk_widget_set_visible (*error, FALSE);
  g_signal_connect (entry, "changed", G_CALLBACK (on_entry_changed), *error);
  return entry;
}

GtkWidget *
thecal_form_add_entry (GtkWidget *box, const char *title, const char *placeholder, GtkWidget **error)
{
  return thecal_form_add_entry_full (box, title, placeholder, FALSE, "error", error);
}

const char *
thecal_form_entry_text (GtkWidget *entry)
{
  return gtk_editable_get_text (GTK_EDITABLE (entry));
}

gboolean
thecal_form_parse (GtkWidget *entry, GtkWidget *error_label, ThecalQuantityKind kind, const char *field, gint64 *value)
{
  ThecalDoseError dose_error = { 0 };
  int64_t v = 0;

  if (!thecal_quantity_parse (kind, thecal_form_entry_text (entry), field, &v, &dose_error))
    {
      g_autofree char *message = g_strdup_printf (_ ("%s: %s"), field, dose_error.message);

      thecal_form_set_error (error_label, message);
      return FALSE;
    }
  thecal_form_set_error (error_label, NULL);
  *value = v;
  return TRUE;
}

void
thecal_form_set_step_header (GtkWidget *back,
                             const char *back_label,
                             gboolean back_visible,
                             GtkWidget *next,
                             const char *next_label,
                             gboolean next_visible,
                             gboolean next_sensitive,
                             GtkWidget *title,
                             const char *page,
                             const char *const (*page_titles)[2],
                             gsize n_page_titles)
{
  gtk_button_set_label (GTK_BUTTON (next), next_label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (next), GTK_ACCESSIBLE_PROPERTY_LABEL, next_label, -1);
  gtk_button_set_label (GTK_BUTTON (back), back_label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (back), GTK_ACCESSIBLE_PROPERTY_LABEL, back_label, -1);
  gtk_widget_set_visible (back, back_visible);
  gtk_widget_set_visible (next, next_visible);
  gtk_widget_set_sensitive (next, next_sensitive);
  for (gsize i = 0; i < n_page_titles; i++)
    if (g_strcmp0 (page_titles[i][0], page) == 0)
      adw_window_title_set_subtitle (ADW_WINDOW_TITLE (title), _ (page_titles[i][1]));
}
