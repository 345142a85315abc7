/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-form.h: the pieces the app's dialogs build their forms from (the bolus and implant
 * dialogs): wrapped labels, an entry with its title (which names it for assistive technologies)
 * and its error label under it, and the exact parse of a quantity with the error next to its
 * field, naming it (src/dose's parser: no floating point); and the header of a dialog that goes
 * step by step (Back and Next, the step named under the title).
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "thecal-quantity.h"

G_BEGIN_DECLS

/* A wrapped, left-aligned label of @text appended to @box (@css_class may be NULL). */
GtkWidget *thecal_form_add_text (GtkWidget *box, const char *text, const char *css_class);
/* A titled entry appended to @box, its error label (hidden while empty, CSS class "error") under
 * it in *@error; editing the entry clears the error. The visible title is the entry's only
 * accessible name (GTK 4.8 would read a label property and a labelled-by relation both). */
GtkWidget *thecal_form_add_entry (GtkWidget *box, const char *title, const char *placeholder, GtkWidget **error);
/* The same with a password entry (its peek icon shown; no placeholder) when @password, and the
 * error label's CSS class @error_class (NULL: none, the caller colours it). */
GtkWidget *thecal_form_add_entry_full (GtkWidget *box,
                                       const char *title,
                                       const char *placeholder,
                                       gboolean password,
                                       const char *error_class,
                                       GtkWidget **error);
/* Shows @text in @label (NULL or "": hidden). */
void thecal_form_set_error (GtkWidget *label, const char *text);
const char *thecal_form_entry_text (GtkWidget *entry);
/* Parses @entry as @kind (thecal_quantity_parse); on failure @error_label says "@field: why" and
 * FALSE is returned, else it is cleared. */
gboolean thecal_form_parse (GtkWidget *entry, GtkWidget *error_label, ThecalQuantityKind kind, const char *field, gint64 *value);

/* The header of a step-by-step dialog: @back and @next labelled (and named) @back_label and
 * @next_label, each shown or not, Next sensitive when @next_sensitive; the subtitle of @title the
 * translated title of @page in @page_titles (pairs of page name and untranslated title). */
void thecal_form_set_step_header (GtkWidget *back,
                                  const char *back_label,
                                  gboolean back_visible,
                                  GtkWidget *next,
                                  const char *next_label,
                                  gboolean next_visible,
                                  gboolean next_sensitive,
                                  GtkWidget *title,
                                  const char *page,
                                  const char *const (*page_titles)[2],
                                  gsize n_page_titles);

G_END_DECLS
