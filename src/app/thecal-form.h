/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-form.h: the pieces the app's dialogs build their forms from (the bolus and implant
 * dialogs): wrapped labels, an entry with its title (which names it for assistive technologies)
 * and its error label under it, and the exact parse of a quantity with the error next to its
 * field, naming it (src/dose's parser: no floating point).
 *
 * Threads: main thread only.
 */
#pragma once

#include <gtk/gtk.h>

#include "thecal-quantity.h"

G_BEGIN_DECLS

/* A wrapped, left-aligned label of @text appended to @box (@css_class may be NULL). */
GtkWidget *thecal_form_add_text (GtkWidget *box, const char *text, const char *css_class);
/* A titled entry appended to @box, its error label (hidden while empty) under it in *@error;
 * editing the entry clears the error. */
GtkWidget *thecal_form_add_entry (GtkWidget *box, const char *title, const char *placeholder, GtkWidget **error);
/* Shows @text in @label (NULL or "": hidden). */
void thecal_form_set_error (GtkWidget *label, const char *text);
const char *thecal_form_entry_text (GtkWidget *entry);
/* Parses @entry as @kind (thecal_quantity_parse); on failure @error_label says "@field: why" and
 * FALSE is returned, else it is cleared. */
gboolean thecal_form_parse (GtkWidget *entry, GtkWidget *error_label, ThecalQuantityKind kind, const char *field, gint64 *value);

G_END_DECLS
