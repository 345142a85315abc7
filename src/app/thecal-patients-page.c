/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-patients-page.c: see thecal-patients-page.h.
 */
#include "config.h"

#include "thecal-patients-page.h"

#include <glib/gi18n.h>

#include "thecal-callback-timing.h"
#include "thecal-format.h"
#include "thecal-patient-dialog.h"
#include "thecal-patient-status.h"

struct _ThecalPatientsPage
{
  AdwBin parent_instance;

  GtkWidget *search_entry;
  GtkWidget *list_view;
  GtkWidget *state_label;
  GtkWidget *add_button;
  GtkWidget *edit_button;

  ThecalRecordSession *session;
  ThecalPatientList *list;
  GtkSingleSelection *selection;

  /* demo mode: each row's pump as the demo world runs it now (docs/gui.md "Patients") */
  ThecalDemoWorld *world;
  GPtrArray *bound_rows; /* the row boxes bound to a patient (not owned) */
  guint refresh_id;
  /* a clinic record's rows: each patient's status from the record (thecal-patient-status.h),
   * read once a session per patient shown, by MRN ("" when the record cannot say) */
  ThecalPumpModelSet *models;
  GHashTable *record_status;  /* MRN → status text ("" unknown) */
  GHashTable *record_read_us; /* MRN → gint64 *: when it was read (0: a read is running) */
};

G_DEFINE_FINAL_TYPE (ThecalPatientsPage, thecal_patients_page, ADW_TYPE_BIN)

enum
{
  SIGNAL_PATIENT_SELECTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Runs on the main thread: the list's loading, truncated or error state changed, or its items. */
static void
update_state (ThecalPatientsPage *self)
{
  const char *text = NULL;

  if (self->list == NULL)
    text = "";
  else if (thecal_patient_list_get_error (self->list) != NULL)
    text = thecal_patient_list_get_error (self->list);
  else if (thecal_patient_list_get_loading (self->list) && g_list_model_get_n_items (G_LIST_MODEL (self->list)) == 0)
    text = _ ("Reading the record…");
  else if (g_list_model_get_n_items (G_LIST_MODEL (self->list)) == 0)
    text = thecal_patient_list_get_search (self->list) != NULL ? _ ("No patient matches this search.") : _ ("The record has no patient yet.");
  else if (thecal_patient_list_get_truncated (self->list))
    text = _ ("Only the first matches are shown: type more of the name or the MRN.");
  gtk_label_set_text (GTK_LABEL (self->state_label), text != NULL ? text : "");
  gtk_widget_set_visible (self->state_label, text != NULL && text[0] != '\0');
}

/* Runs on the main thread: the list view makes a row. */
static void
on_setup_row (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *name = gtk_label_new (NULL);
  GtkWidget *detail = gtk_label_new (NULL);
  GtkWidget *status = gtk_label_new (NULL);

  (void) factory;
  (void) user_data;
  gtk_widget_set_margin_top (box, 8);
  gtk_widget_set_margin_bottom (box, 8);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  for (GtkWidget *label = name; label != NULL; label = label == name ? detail : label == detail ? status
                                                                                                : NULL)
    {
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
      gtk_box_append (GTK_BOX (box), label);
    }
  gtk_widget_add_css_class (name, "heading");
  gtk_widget_add_css_class (detail, "caption");
  gtk_widget_add_css_class (detail, "dim-label");
  gtk_widget_add_css_class (status, "caption");
  /* the pump's status at a glance: up to two lines */
  gtk_label_set_wrap (GTK_LABEL (status), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (status), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_lines (GTK_LABEL (status), 2);
  gtk_list_item_set_child (item, box);
}

static void on_refresh_mrn (ThecalPatientsPage *self, const char *mrn);

/* A row's status from the record is read again when it is older than this (30 s): a refill or an
 * interrogation recorded meanwhile shows without a restart. */
#define RECORD_STATUS_MAX_AGE_US (30 * G_TIME_SPAN_SECOND)

typedef struct
{
  ThecalPatientsPage *self;
  char *mrn;
} StatusRead;

/* Runs on the main thread: a patient's record arrived (or was refused: an administrator may not
 * read it, the row then shows nothing more). */
static void
on_record_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_auto (ThecalCallbackTiming) timing = thecal_callback_timing_begin ("patients: a row's record read");
  StatusRead *read = user_data;
  g_autoptr (ThecalPatientRecord) record = thecal_record_session_get_patient_record_finish (THECAL_RECORD_SESSION (source), result, NULL);
  ThecalPatientsPage *self = read->self;

  if (self->record_status != NULL && source == G_OBJECT (self->session))
    {
      char *text = record != NULL && self->models != NULL ? thecal_patient_status_from_record (record, self->models, g_get_real_time () / 1000)
                                                          : NULL;

      gint64 *read_us = g_new (gint64, 1);

      *read_us = g_get_monotonic_time ();
      g_hash_table_replace (self->record_status, g_strdup (read->mrn), text != NULL ? text : g_strdup (""));
      g_hash_table_replace (self->record_read_us, g_strdup (read->mrn), read_us);
      on_refresh_mrn (self, read->mrn);
    }
  g_object_unref (read->self);
  g_free (read->mrn);
  g_free (read);
}

/* The status the record gives @mrn's row: NULL while it is read (the read starts here), "" when
 * the record cannot say. Not for demo patients in demo mode (their rows are live). */
static const char *
record_status (ThecalPatientsPage *self, const char *mrn)
{
  const char *text = g_hash_table_lookup (self->record_status, mrn);
  gint64 *read_us = g_hash_table_lookup (self->record_read_us, mrn);
  StatusRead *read;

  if (self->session == NULL || self->models == NULL)
    return NULL;
  /* read again after RECORD_STATUS_MAX_AGE_US (a refill or a connection since changed it); the
   * last text stays meanwhile */
  if (read_us != NULL && (*read_us == 0 || g_get_monotonic_time () - *read_us < RECORD_STATUS_MAX_AGE_US))
    return text;
  read_us = g_new0 (gint64, 1); /* 0: being read */
  g_hash_table_replace (self->record_read_us, g_strdup (mrn), read_us);
  read = g_new0 (StatusRead, 1);
  read->self = g_object_ref (self);
  read->mrn = g_strdup (mrn);
  thecal_record_session_get_patient_record_async (self->session, mrn, NULL, on_record_read, read);
  return text;
}

/* Shows the row @box's patient's status: the live one in demo mode, with the demo's description
 * in the tooltip; else the item's own. */
static void
show_row_status (ThecalPatientsPage *self, GtkWidget *box)
{
  ThecalPatientItem *patient_item = g_object_get_data (G_OBJECT (box), "thecal-item");
  const ThecalPatient *patient = thecal_patient_item_get_patient (patient_item);
  const char *summary = thecal_patient_item_get_status (patient_item);
  GtkWidget *name = gtk_widget_get_first_child (box);
  GtkWidget *detail = gtk_widget_get_next_sibling (name);
  GtkWidget *status_label = gtk_widget_get_next_sibling (detail);
  g_autofree char *live = thecal_patient_status_from_demo (self->world, patient->mrn);
  const char *from_record = live == NULL ? record_status (self, patient->mrn) : NULL;
  const char *shown = live != NULL ? live : from_record != NULL && from_record[0] != '\0' ? from_record
                                                                                          : summary;
  g_autofree char *detail_text = g_strdup_printf (_ ("MRN %s · born %s"), patient->mrn, patient->date_of_birth);
  g_autofree char *accessible = g_strdup_printf ("%s, %s%s%s%s%s", patient->name, detail_text, shown != NULL ? ", " : "",
                                                 shown != NULL ? shown : "", live != NULL && summary != NULL ? ", " : "",
                                                 live != NULL && summary != NULL ? summary : "");

  gtk_label_set_text (GTK_LABEL (status_label), shown != NULL ? shown : "");
  gtk_widget_set_visible (status_label, shown != NULL);
  /* only when it changes: setting a tooltip asks the X server where the pointer is (a round trip
   * per row at every bind and every refresh: docs/benchmarks.md) */
  {
    const char *tooltip = gtk_widget_get_tooltip_text (status_label);

    if (g_strcmp0 (tooltip, summary != NULL && summary[0] != '\0' ? summary : NULL) != 0)
      gtk_widget_set_tooltip_text (status_label, summary);
  }
  gtk_accessible_update_property (GTK_ACCESSIBLE (box), GTK_ACCESSIBLE_PROPERTY_LABEL, accessible, -1);
}

/* Runs on the main thread: a row shows @item's patient. */
static void
on_bind_row (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  ThecalPatientsPage *self = user_data;
  ThecalPatientItem *patient_item = gtk_list_item_get_item (item);
  const ThecalPatient *patient = thecal_patient_item_get_patient (patient_item);
  GtkWidget *box = gtk_list_item_get_child (item);
  GtkWidget *name = gtk_widget_get_first_child (box);
  GtkWidget *detail = gtk_widget_get_next_sibling (name);
  g_autofree char *detail_text = g_strdup_printf (_ ("MRN %s · born %s"), patient->mrn, patient->date_of_birth);

  (void) factory;
  gtk_label_set_text (GTK_LABEL (name), patient->name);
  gtk_label_set_text (GTK_LABEL (detail), detail_text);
  g_object_set_data_full (G_OBJECT (box), "thecal-item", g_object_ref (patient_item), g_object_unref);
  show_row_status (self, box);
  g_ptr_array_add (self->bound_rows, box);
}

/* Runs on the main thread: a row no longer shows its patient. */
static void
on_unbind_row (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  ThecalPatientsPage *self = user_data;
  GtkWidget *box = gtk_list_item_get_child (item);

  (void) factory;
  g_ptr_array_remove (self->bound_rows, box);
  g_object_set_data (G_OBJECT (box), "thecal-item", NULL);
}

/* Runs on the main thread every second (and when the demo world changes): the rows of demo
 * patients follow the demo clock (a trainer at 1 day/s sees a reservoir run low); a clinic's rows
 * show a newer reading of the record. */
static gboolean
on_refresh_rows (gpointer user_data)
{
  g_auto (ThecalCallbackTiming) timing = thecal_callback_timing_begin ("patients: rows refreshed");
  ThecalPatientsPage *self = user_data;

  for (guint i = 0; i < self->bound_rows->len; i++)
    show_row_status (self, self->bound_rows->pdata[i]);
  return G_SOURCE_CONTINUE;
}

/* The row on screen showing @mrn (a patient has one row), or NULL. */
static GtkWidget *
bound_row (ThecalPatientsPage *self, const char *mrn)
{
  for (guint i = 0; i < self->bound_rows->len; i++)
    {
      GtkWidget *box = self->bound_rows->pdata[i];
      ThecalPatientItem *patient_item = g_object_get_data (G_OBJECT (box), "thecal-item");

      if (patient_item != NULL && g_strcmp0 (thecal_patient_item_get_mrn (patient_item), mrn) == 0)
        return box;
    }
  return NULL;
}

/* Runs on the main thread: the row of @mrn, if on screen, shows what is known now. */
static void
on_refresh_mrn (ThecalPatientsPage *self, const char *mrn)
{
  GtkWidget *box = bound_row (self, mrn);

  if (box != NULL)
    show_row_status (self, box);
}

void
thecal_patients_page_set_pump_models (ThecalPatientsPage *self, const ThecalPumpModelSet *models)
{
  g_return_if_fail (THECAL_IS_PATIENTS_PAGE (self));
  g_clear_pointer (&self->models, g_free);
  if (models != NULL)
    self->models = g_memdup2 (models, sizeof *models);
}

void
thecal_patients_page_set_demo_world (ThecalPatientsPage *self, ThecalDemoWorld *world)
{
  g_return_if_fail (THECAL_IS_PATIENTS_PAGE (self));
  if (self->world != NULL)
    g_signal_handlers_disconnect_by_data (self->world, self);
  g_set_object (&self->world, world);
  if (world != NULL)
    g_signal_connect_swapped (world, "changed", G_CALLBACK (on_refresh_rows), self);
  on_refresh_rows (self);
}

char *
thecal_patients_page_dup_row_status (ThecalPatientsPage *self, const char *mrn)
{
  GtkWidget *box;

  g_return_val_if_fail (THECAL_IS_PATIENTS_PAGE (self), NULL);
  box = bound_row (self, mrn);
  if (box == NULL)
    return NULL;
  show_row_status (self, box); /* as the next refresh would show it */
  return g_strdup (gtk_label_get_text (GTK_LABEL (gtk_widget_get_last_child (box))));
}

static void
emit_selected (ThecalPatientsPage *self, guint position)
{
  g_autoptr (ThecalPatientItem) item = NULL;

  if (self->list == NULL || position == GTK_INVALID_LIST_POSITION)
    return;
  item = g_list_model_get_item (G_LIST_MODEL (self->list), position);
  if (item != NULL)
    g_signal_emit (self, signals[SIGNAL_PATIENT_SELECTED], 0, item);
}

/* Runs on the main thread: a click, the keyboard or an assistive technology selected a row. */
static void
on_selection_changed (GtkSelectionModel *model, guint position, guint n_items, ThecalPatientsPage *self)
{
  (void) model;
  (void) position;
  (void) n_items;
  gtk_widget_set_sensitive (self->edit_button, gtk_single_selection_get_selected (self->selection) != GTK_INVALID_LIST_POSITION);
  emit_selected (self, gtk_single_selection_get_selected (self->selection));
}

/* Runs on the main thread: Enter or a double click on a row. */
static void
on_activate (GtkListView *view, guint position, ThecalPatientsPage *self)
{
  (void) view;
  emit_selected (self, position);
}

/* Runs on the main thread: the search entry's text settled. */
static void
on_search_changed (ThecalPatientsPage *self)
{
  g_auto (ThecalCallbackTiming) timing = thecal_callback_timing_begin ("patients: search changed");

  if (self->list != NULL)
    thecal_patient_list_set_search (self->list, gtk_editable_get_text (GTK_EDITABLE (self->search_entry)));
}

void
thecal_patients_page_set_session (ThecalPatientsPage *self, ThecalRecordSession *session)
{
  g_return_if_fail (THECAL_IS_PATIENTS_PAGE (self));

  if (self->list != NULL)
    g_signal_handlers_disconnect_by_data (self->list, self);
  if (self->selection != NULL)
    g_signal_handlers_disconnect_by_data (self->selection, self);
  gtk_list_view_set_model (GTK_LIST_VIEW (self->list_view), NULL);
  g_set_object (&self->session, session);
  /* another user may read other things: every row's status is read again */
  g_hash_table_remove_all (self->record_status);
  g_hash_table_remove_all (self->record_read_us);
  gtk_widget_set_sensitive (self->edit_button, FALSE);
  g_clear_object (&self->selection);
  g_clear_object (&self->list);
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
  if (session != NULL)
    {
      self->list = thecal_patient_list_new (session);
      self->selection = gtk_single_selection_new (G_LIST_MODEL (g_object_ref (self->list)));
      gtk_single_selection_set_autoselect (self->selection, FALSE);
      gtk_single_selection_set_can_unselect (self->selection, TRUE);
      gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
      g_signal_connect_swapped (self->list, "notify", G_CALLBACK (update_state), self);
      g_signal_connect_swapped (self->list, "items-changed", G_CALLBACK (update_state), self);
      g_signal_connect (self->selection, "selection-changed", G_CALLBACK (on_selection_changed), self);
      gtk_list_view_set_model (GTK_LIST_VIEW (self->list_view), GTK_SELECTION_MODEL (self->selection));
    }
  update_state (self);
}

ThecalPatientList *
thecal_patients_page_get_list (ThecalPatientsPage *self)
{
  g_return_val_if_fail (THECAL_IS_PATIENTS_PAGE (self), NULL);
  return self->list;
}

void
thecal_patients_page_set_search (ThecalPatientsPage *self, const char *text)
{
  g_return_if_fail (THECAL_IS_PATIENTS_PAGE (self));
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), text);
}

void
thecal_patients_page_select (ThecalPatientsPage *self, guint position)
{
  g_return_if_fail (THECAL_IS_PATIENTS_PAGE (self));
  if (self->selection != NULL)
    gtk_single_selection_set_selected (self->selection, position);
}

void
thecal_patients_page_focus_search (ThecalPatientsPage *self)
{
  g_return_if_fail (THECAL_IS_PATIENTS_PAGE (self));
  gtk_widget_grab_focus (self->search_entry);
}

/* Runs on the main thread: a patient was added or corrected: the list reads the record again. */
static void
on_patient_saved (ThecalPatientsPage *self, const ThecalPatient *patient)
{
  (void) patient;
  gtk_widget_set_sensitive (self->edit_button, FALSE);
  if (self->list != NULL)
    thecal_patient_list_set_search (self->list, gtk_editable_get_text (GTK_EDITABLE (self->search_entry)));
}

static GtkWidget *
open_dialog (ThecalPatientsPage *self, const ThecalPatient *patient)
{
  ThecalPatientDialog *dialog = thecal_patient_dialog_new (self->session, patient);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (GTK_IS_WINDOW (root))
    gtk_window_set_transient_for (GTK_WINDOW (dialog), GTK_WINDOW (root));
  g_signal_connect_object (dialog, "saved", G_CALLBACK (on_patient_saved), self, G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));
  return GTK_WIDGET (dialog);
}

GtkWidget *
thecal_patients_page_open_add (ThecalPatientsPage *self)
{
  g_return_val_if_fail (THECAL_IS_PATIENTS_PAGE (self), NULL);
  if (self->session == NULL)
    return NULL;
  return open_dialog (self, NULL);
}

GtkWidget *
thecal_patients_page_open_edit (ThecalPatientsPage *self)
{
  g_autoptr (ThecalPatientItem) item = NULL;
  guint position;

  g_return_val_if_fail (THECAL_IS_PATIENTS_PAGE (self), NULL);
  if (self->session == NULL || self->selection == NULL)
    return NULL;
  position = gtk_single_selection_get_selected (self->selection);
  if (position == GTK_INVALID_LIST_POSITION)
    return NULL;
  item = g_list_model_get_item (G_LIST_MODEL (self->list), position);
  return item != NULL ? open_dialog (self, thecal_patient_item_get_patient (item)) : NULL;
}

/* Runs on the main thread: the Add Patient… and Edit… buttons. */
static void
on_add_clicked (ThecalPatientsPage *self)
{
  thecal_patients_page_open_add (self);
}

static void
on_edit_clicked (ThecalPatientsPage *self)
{
  thecal_patients_page_open_edit (self);
}

static void
thecal_patients_page_dispose (GObject *object)
{
  ThecalPatientsPage *self = THECAL_PATIENTS_PAGE (object);

  if (self->list != NULL)
    g_signal_handlers_disconnect_by_data (self->list, self);
  if (self->selection != NULL)
    g_signal_handlers_disconnect_by_data (self->selection, self);
  g_clear_object (&self->selection);
  g_clear_object (&self->list);
  g_clear_object (&self->session);
  if (self->world != NULL)
    g_signal_handlers_disconnect_by_data (self->world, self);
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  g_clear_object (&self->world);
  G_OBJECT_CLASS (thecal_patients_page_parent_class)->dispose (object);
}

static void
thecal_patients_page_finalize (GObject *object)
{
  ThecalPatientsPage *self = THECAL_PATIENTS_PAGE (object);

  g_ptr_array_unref (self->bound_rows);
  g_hash_table_unref (self->record_status);
  g_hash_table_unref (self->record_read_us);
  g_free (self->models);
  G_OBJECT_CLASS (thecal_patients_page_parent_class)->finalize (object);
}

static void
thecal_patients_page_class_init (ThecalPatientsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = thecal_patients_page_finalize;
  object_class->dispose = thecal_patients_page_dispose;

  signals[SIGNAL_PATIENT_SELECTED] = g_signal_new ("patient-selected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                                   NULL, G_TYPE_NONE, 1, THECAL_TYPE_PATIENT_ITEM);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/thecal/Programmer/ui/thecal-patients-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientsPage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientsPage, list_view);
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientsPage, state_label);
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientsPage, add_button);
  gtk_widget_class_bind_template_child (widget_class, ThecalPatientsPage, edit_button);
  gtk_widget_class_bind_template_callback (widget_class, on_add_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_edit_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_search_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_activate);
}

static void
thecal_patients_page_init (ThecalPatientsPage *self)
{
  GtkListItemFactory *factory;

  gtk_widget_init_template (GTK_WIDGET (self));
  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (on_setup_row), NULL);
  self->bound_rows = g_ptr_array_new ();
  self->record_status = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->record_read_us = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  /* every second: the demo's rows follow the demo clock, a clinic's rows pick up a newer reading */
  self->refresh_id = g_timeout_add_seconds (1, on_refresh_rows, self);
  g_signal_connect (factory, "bind", G_CALLBACK (on_bind_row), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (on_unbind_row), self);
  gtk_list_view_set_factory (GTK_LIST_VIEW (self->list_view), factory);
  g_object_unref (factory);
  update_state (self);
}

GtkWidget *
thecal_patients_page_new (void)
{
  return g_object_new (THECAL_TYPE_PATIENTS_PAGE, NULL);
}
