/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-history-page.c: see thecal-history-page.h.
 */
#include "config.h"

#include "thecal-history-page.h"

#include <glib/gi18n.h>

#include "thecal-callback-timing.h"

struct _ThecalHistoryPage
{
  AdwWindow parent_instance;

  GtkWidget *window_title;
  GtkWidget *print_button;
  GtkWidget *export_button;
  GtkWidget *toast_overlay;
  GtkWidget *stack;
  GtkWidget *spinner;
  GtkWidget *error_page;
  GtkWidget *audit_box;
  GtkWidget *audit_icon;
  GtkWidget *audit_label;
  GtkWidget *chart;
  GtkWidget *chart_note_label;
  GtkWidget *filter_box;
  GtkWidget *search_entry;
  GtkWidget *count_label;
  GtkWidget *selected_label;
  GtkSingleSelection *selection; /* of the shown entries; the selected one is shown whole */
  GtkWidget *list_view;
  GtkWidget *toggles[THECAL_HISTORY_N_KINDS];

  ThecalRecordSession *session;
  char *mrn;
  ThecalVisit *visit; /* may be NULL */
  ThecalPumpModelSet *models;
  ThecalDrugLibrary *library;
  GCancellable *cancellable;
  gboolean reading;
  gboolean verifying;
  gboolean audit_done;
  gboolean audit_intact;
  char *error;
  ThecalPatientRecord *record;
  GPtrArray *writes; /* ThecalPumpWrite of the patient's pumps */
  GListStore *all;
  GtkFilterListModel *shown;
  GtkCustomFilter *filter;
  guint kind_mask;
  char *search;
  GListModel *pending; /* the built entries still to be handed to the list, or NULL */
  guint pending_at;    /* the first of them not handed over yet */
  guint fill_chunk;    /* how many the next call of fill_chunk hands over */
  guint fill_id;       /* the idle that calls it (the list not on screen), or 0 */
  guint fill_tick_id;  /* the list view's tick callback that calls it (on screen), or 0 */
};

/* The main loop must not stall (DESIGN.md: never > 16 ms): the list view makes the rows of the
 * entries it is given at once and measures them in the next frame, a few hundred µs each, so the
 * entries are handed over in chunks, one per frame, each chunk grown or shrunk so that handing it
 * over takes about this long (bench-gui, docs/benchmarks.md). */
#define FILL_BUDGET_US 2000
#define FILL_FIRST_CHUNK 8
#define FILL_MAX_CHUNK 4096

G_DEFINE_FINAL_TYPE (ThecalHistoryPage, thecal_history_page, ADW_TYPE_WINDOW)

static void
update_count (ThecalHistoryPage *self)
{
  guint shown = g_list_model_get_n_items (G_LIST_MODEL (self->shown));
  guint all = g_list_model_get_n_items (G_LIST_MODEL (self->all));
  g_autofree char *text = NULL;

  if (shown == all)
    text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u entry", "%u entries", all), all);
  else
    text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u of %u entry shown", "%u of %u entries shown", all), shown, all);
  gtk_label_set_text (GTK_LABEL (self->count_label), text);
}

/* Runs on the main thread: the filter asks about one entry. */
static gboolean
filter_entry (gpointer item, gpointer user_data)
{
  ThecalHistoryPage *self = user_data;

  return thecal_history_entry_matches (item, self->kind_mask, self->search);
}

static void
refilter (ThecalHistoryPage *self)
{
  gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);
  update_count (self);
  /* the newest entry that matches comes first: show it (GtkListView's own action) */
  if (g_list_model_get_n_items (G_LIST_MODEL (self->shown)) > 0)
    gtk_widget_activate_action (self->list_view, "list.scroll-to-item", "u", 0);
}

/* ---- the rows --------------------------------------------------------------------------------- */

static gboolean on_row_query_tooltip (GtkWidget *row, int x, int y, gboolean keyboard, GtkTooltip *tooltip, gpointer user_data);

/* Runs on the main thread: a row is made (time, kind, who; the summary and its details). */
static void
on_setup_row (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *time = gtk_label_new (NULL);
  GtkWidget *kind = gtk_label_new (NULL);
  GtkWidget *text = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *summary = gtk_label_new (NULL);
  GtkWidget *detail = gtk_label_new (NULL);

  (void) factory;
  (void) user_data;
  gtk_widget_set_margin_top (row, 6);
  gtk_widget_set_margin_bottom (row, 6);
  gtk_widget_set_margin_start (row, 8);
  gtk_widget_set_margin_end (row, 8);
  gtk_label_set_xalign (GTK_LABEL (time), 0);
  gtk_label_set_yalign (GTK_LABEL (time), 0);
  gtk_label_set_width_chars (GTK_LABEL (time), 16);
  gtk_widget_add_css_class (time, "numeric");
  gtk_label_set_xalign (GTK_LABEL (kind), 0.5);
  gtk_widget_set_valign (kind, GTK_ALIGN_START);
  gtk_label_set_width_chars (GTK_LABEL (kind), 12);
  gtk_widget_add_css_class (kind, "history-kind");
  gtk_widget_set_hexpand (text, TRUE);
  gtk_label_set_xalign (GTK_LABEL (summary), 0);
  /* one line each: a list of a thousand wrapped rows costs GTK a third of a second of text
   * measuring on the main thread (bench-gui); the selected entry is shown whole under the list */
  gtk_label_set_ellipsize (GTK_LABEL (summary), PANGO_ELLIPSIZE_END);
  gtk_label_set_xalign (GTK_LABEL (detail), 0);
  gtk_label_set_ellipsize (GTK_LABEL (detail), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (detail, "dim-label");
  gtk_widget_add_css_class (detail, "caption");
  gtk_box_append (GTK_BOX (text), summary);
  gtk_box_append (GTK_BOX (text), detail);
  gtk_box_append (GTK_BOX (row), time);
  gtk_box_append (GTK_BOX (row), kind);
  gtk_box_append (GTK_BOX (row), text);
  gtk_widget_set_has_tooltip (row, TRUE);
  g_signal_connect (row, "query-tooltip", G_CALLBACK (on_row_query_tooltip), item);
  gtk_list_item_set_child (item, row);
}

/* Runs on the main thread: a row shows an entry. */
static void
on_bind_row (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  ThecalHistoryEntry *entry = gtk_list_item_get_item (item);
  GtkWidget *row = gtk_list_item_get_child (item);
  GtkWidget *time = gtk_widget_get_first_child (row);
  GtkWidget *kind = gtk_widget_get_next_sibling (time);
  GtkWidget *text = gtk_widget_get_next_sibling (kind);
  GtkWidget *summary = gtk_widget_get_first_child (text);
  GtkWidget *detail = gtk_widget_get_next_sibling (summary);
  const char *details = thecal_history_entry_get_detail (entry);
  g_autofree char *by = NULL;

  (void) factory;
  (void) user_data;
  gtk_label_set_text (GTK_LABEL (time), thecal_history_entry_get_time_text (entry));
  gtk_label_set_text (GTK_LABEL (kind), thecal_history_kind_label (thecal_history_entry_get_kind (entry)));
  for (int k = 0; k < THECAL_HISTORY_N_KINDS; k++)
    gtk_widget_remove_css_class (kind, thecal_history_kind_name ((ThecalHistoryKind) k));
  gtk_widget_add_css_class (kind, thecal_history_kind_name (thecal_history_entry_get_kind (entry)));
  gtk_label_set_text (GTK_LABEL (summary), thecal_history_entry_get_summary (entry));
  by = details[0] != '\0' ? g_strdup_printf (_ ("By %s · %s"), thecal_history_entry_get_who (entry), details)
                          : g_strdup_printf (_ ("By %s"), thecal_history_entry_get_who (entry));
  gtk_label_set_text (GTK_LABEL (detail), by);
}

/* Runs on the main thread: the pointer rests on a row: its tooltip is the entry's whole text
 * (made when asked: gtk_widget_set_tooltip_text at every bind asks the X server where the pointer
 * is, a round trip per row while the list fills). */
static gboolean
on_row_query_tooltip (GtkWidget *row, int x, int y, gboolean keyboard, GtkTooltip *tooltip, gpointer user_data)
{
  GtkListItem *item = user_data;
  ThecalHistoryEntry *entry = gtk_list_item_get_item (item);
  const char *details;
  g_autofree char *by = NULL;
  g_autofree char *whole = NULL;

  (void) row;
  (void) x;
  (void) y;
  (void) keyboard;
  if (entry == NULL)
    return FALSE;
  details = thecal_history_entry_get_detail (entry);
  by = details[0] != '\0' ? g_strdup_printf (_ ("By %s · %s"), thecal_history_entry_get_who (entry), details)
                          : g_strdup_printf (_ ("By %s"), thecal_history_entry_get_who (entry));
  whole = g_strdup_printf ("%s\n%s", thecal_history_entry_get_summary (entry), by);
  gtk_tooltip_set_text (tooltip, whole);
  return TRUE;
}

/* The selected entry in full (time, kind, summary, who and details), or "" without one. */
static char *
describe_selected (ThecalHistoryPage *self)
{
  ThecalHistoryEntry *entry = gtk_single_selection_get_selected_item (self->selection);
  const char *details;

  if (entry == NULL)
    return g_strdup ("");
  details = thecal_history_entry_get_detail (entry);
  return g_strdup_printf ("%s · %s · %s\n%s%s%s", thecal_history_entry_get_time_text (entry),
                          thecal_history_kind_label (thecal_history_entry_get_kind (entry)), thecal_history_entry_get_who (entry),
                          thecal_history_entry_get_summary (entry), details[0] != '\0' ? "\n" : "", details);
}

/* Runs on the main thread: another entry was selected (or none). */
static void
on_selection_changed (ThecalHistoryPage *self)
{
  g_autofree char *text = describe_selected (self);

  gtk_label_set_text (GTK_LABEL (self->selected_label), text[0] != '\0' ? text : _ ("Select an entry to read it whole."));
}

/* ---- reading ---------------------------------------------------------------------------------- */

static void
set_audit (ThecalHistoryPage *self, const char *text, const char *icon, const char *css)
{
  gtk_label_set_text (GTK_LABEL (self->audit_label), text);
  gtk_image_set_from_icon_name (GTK_IMAGE (self->audit_icon), icon);
  gtk_widget_remove_css_class (self->audit_box, "success");
  gtk_widget_remove_css_class (self->audit_box, "error");
  gtk_widget_remove_css_class (self->audit_box, "warning");
  if (css != NULL)
    gtk_widget_add_css_class (self->audit_box, css);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->audit_label), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text, -1);
}

/* Runs on the main thread: the record's thread walked the audit chain. @user_data: the page (a
 * reference). */
static void
on_verified (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_auto (ThecalCallbackTiming) timing = thecal_callback_timing_begin ("history: audit verified");
  g_autoptr (ThecalHistoryPage) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalAuditVerification) verification = thecal_record_session_verify_audit_finish (THECAL_RECORD_SESSION (source), result, &error);
  g_autofree char *text = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->all == NULL /* the window was closed */)
    return;
  self->verifying = FALSE;
  self->audit_done = TRUE;
  self->audit_intact = FALSE;
  if (verification == NULL)
    {
      text = g_strdup_printf (_ ("The audit chain could not be verified: %s"), error->message);
      set_audit (self, text, "dialog-warning-symbolic", "warning");
      return;
    }
  if (verification->problem == THECAL_AUDIT_INTACT)
    {
      self->audit_intact = TRUE;
      /* numbers go in as text: xgettext cannot read G_GINT64_FORMAT inside a message */
      g_autofree char *n_entries = g_strdup_printf ("%" G_GINT64_FORMAT, verification->n_entries);

      text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Audit chain verified: %s entry", "Audit chain verified: %s entries",
                                           (gulong) verification->n_entries),
                              n_entries);
      if (verification->clock_steps_back > 0)
        {
          g_autofree char *plain = g_steal_pointer (&text);
          g_autofree char *steps = g_strdup_printf ("%" G_GINT64_FORMAT, verification->clock_steps_back);

          text = g_strdup_printf (_ ("%s (%s entries are timed before the entry before them: the clock was set back)"), plain, steps);
        }
      set_audit (self, text, "emblem-ok-symbolic", "success");
      return;
    }
  if (verification->bad_seq > 0)
    {
      g_autofree char *seq = g_strdup_printf ("%" G_GINT64_FORMAT, verification->bad_seq);

      text = g_strdup_printf (_ ("AUDIT CHAIN BROKEN at entry %s (%s): %s Do not rely on this record; report it."), seq,
                              thecal_audit_problem_name (verification->problem), verification->message);
    }
  else
    text = g_strdup_printf (_ ("AUDIT CHAIN BROKEN (%s): %s Do not rely on this record; report it."), thecal_audit_problem_name (verification->problem),
                            verification->message);
  set_audit (self, text, "dialog-error-symbolic", "error");
}

/* The entries of a record, built on a worker thread (a record of years makes thousands). */
typedef struct
{
  ThecalPatientRecord *record;
  GPtrArray *writes;                /* ThecalPumpWrite, gathered pump by pump */
  GPtrArray *serials;               /* char *: the patient's pumps still to ask about */
  const ThecalDrugLibrary *library; /* the page's: it outlives the task (the task holds the page) */
} BuildData;

static void
build_data_free (BuildData *data)
{
  g_clear_pointer (&data->record, thecal_patient_record_free);
  g_clear_pointer (&data->writes, g_ptr_array_unref);
  g_clear_pointer (&data->serials, g_ptr_array_unref);
  g_free (data);
}

/* Runs on a worker thread of the GTask pool: only reads the record it owns. */
static void
build_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  BuildData *data = task_data;

  (void) source;
  (void) cancellable;
  g_task_return_pointer (task, thecal_history_build (data->record, data->writes, data->library), g_object_unref);
}

static void schedule_fill (ThecalHistoryPage *self);

/* Runs on the main thread: the next chunk of the built entries goes to the list (one change per
 * chunk); after the last, the count and the buttons. */
static void
fill_chunk (ThecalHistoryPage *self)
{
  g_auto (ThecalCallbackTiming) timing = thecal_callback_timing_begin ("history: a chunk of entries");
  guint n = g_list_model_get_n_items (self->pending);
  guint count = MIN (self->fill_chunk, n - self->pending_at);
  g_autoptr (GPtrArray) items = g_ptr_array_new_full (count, g_object_unref);
  gint64 started = g_get_monotonic_time (), took;

  for (guint i = 0; i < count; i++)
    g_ptr_array_add (items, g_list_model_get_item (self->pending, self->pending_at + i));
  g_list_store_splice (self->all, g_list_model_get_n_items (G_LIST_MODEL (self->all)), 0, items->pdata, items->len);
  self->pending_at += count;
  update_count (self);
  took = g_get_monotonic_time () - started;
  /* the next chunk in proportion to what this one cost: entries beyond the rows the view makes
   * cost little, so the chunk grows (at most doubling); it shrinks when slow */
  self->fill_chunk = (guint) CLAMP ((gint64) count * FILL_BUDGET_US / MAX (took, 1), 1, MIN ((gint64) count * 2, FILL_MAX_CHUNK));
  if (self->pending_at < n)
    {
      schedule_fill (self);
      return;
    }
  g_clear_object (&self->pending);
  self->reading = FALSE;
  gtk_widget_set_sensitive (self->print_button, TRUE);
  gtk_widget_set_sensitive (self->export_button, TRUE);
}

/* Runs on the main thread, in the update phase of a frame of the list (its layout and drawing of
 * the new rows follow in the same frame). Removed when the page is reloaded or disposed. */
static gboolean
on_fill_tick (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  ThecalHistoryPage *self = user_data;

  (void) widget;
  (void) clock;
  self->fill_tick_id = 0;
  fill_chunk (self);
  return G_SOURCE_REMOVE;
}

/* Runs on the main thread, in an idle (the list is not on screen: no frames). Removed when the
 * page is reloaded or disposed. */
static gboolean
on_fill_idle (gpointer user_data)
{
  ThecalHistoryPage *self = user_data;

  self->fill_id = 0;
  fill_chunk (self);
  return G_SOURCE_REMOVE;
}

/* The next chunk in the list's next frame, or in an idle while the list is not on screen. */
static void
schedule_fill (ThecalHistoryPage *self)
{
  if (gtk_widget_get_mapped (self->list_view))
    self->fill_tick_id = gtk_widget_add_tick_callback (self->list_view, on_fill_tick, self, NULL);
  else
    {
      self->fill_id = g_idle_add (on_fill_idle, self);
      g_source_set_static_name (g_main_context_find_source_by_id (NULL, self->fill_id), "ThecalHistoryPage fill");
    }
}

static void
stop_fill (ThecalHistoryPage *self)
{
  g_clear_handle_id (&self->fill_id, g_source_remove);
  if (self->fill_tick_id != 0)
    gtk_widget_remove_tick_callback (self->list_view, self->fill_tick_id);
  self->fill_tick_id = 0;
  g_clear_object (&self->pending);
}

/* Runs on the main thread: the entries are built; the page shows the chart and the first entries
 * (the rest follow in chunks, fill_chunk). */
static void
on_built (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_auto (ThecalCallbackTiming) timing = thecal_callback_timing_begin ("history: entries built");
  ThecalHistoryPage *self = THECAL_HISTORY_PAGE (source);
  BuildData *data = g_task_get_task_data (G_TASK (result));
  g_autoptr (GListStore) store = g_task_propagate_pointer (G_TASK (result), NULL);
  g_autofree char *title = NULL;
  ThecalPatientRecord *record;

  (void) user_data;
  if (store == NULL || self->all == NULL /* cancelled, or the window was closed */)
    return;
  record = g_steal_pointer (&data->record);
  g_clear_pointer (&self->writes, g_ptr_array_unref);
  self->writes = g_steal_pointer (&data->writes);
  gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), FALSE);
  g_clear_pointer (&self->record, thecal_patient_record_free);
  self->record = record;
  title = g_strdup_printf (_ ("%s · MRN %s"), record->patient->name, record->patient->mrn);
  adw_window_title_set_subtitle (ADW_WINDOW_TITLE (self->window_title), title);
  thecal_dose_history_chart_set_record (THECAL_DOSE_HISTORY_CHART (self->chart), record, self->models, self->library);
  {
    guint unresolved = thecal_dose_history_chart_get_n_unresolved (THECAL_DOSE_HISTORY_CHART (self->chart));
    g_autofree char *note = NULL;

    if (unresolved > 0)
      note = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "Steps: the pump's logged prescriptions and the record's versions. %u version could not be resolved for its pump and is left out.",
                                           "Steps: the pump's logged prescriptions and the record's versions. %u versions could not be resolved for their pump and are left out.",
                                           unresolved),
                              unresolved);
    else
      note = g_strdup (_ ("Steps: the pump's logged prescriptions and the record's versions (basal + periodic, as delivered). "
                          "Dashed lines: refills."));
    gtk_label_set_text (GTK_LABEL (self->chart_note_label), note);
  }
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "history");
  /* the entries follow in chunks (fill_chunk); the page is loading until the last is in */
  stop_fill (self);
  g_list_store_remove_all (self->all);
  self->pending = G_LIST_MODEL (g_steal_pointer (&store));
  self->pending_at = 0;
  self->fill_chunk = FILL_FIRST_CHUNK;
  schedule_fill (self);
  update_count (self);
}

static void
show_read_error (ThecalHistoryPage *self, const char *message)
{
  self->reading = FALSE;
  gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), FALSE);
  g_free (self->error);
  self->error = g_strdup (message);
  adw_status_page_set_description (ADW_STATUS_PAGE (self->error_page), message);
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "error");
}

/* The entries are built on a worker thread from what was read. */
static void
start_build (ThecalHistoryPage *self, BuildData *data /* owned */)
{
  g_autoptr (GTask) task = g_task_new (self, self->cancellable, on_built, NULL);

  g_task_set_source_tag (task, start_build);
  g_task_set_return_on_cancel (task, FALSE);
  g_task_set_task_data (task, data, (GDestroyNotify) build_data_free);
  g_task_run_in_thread (task, build_thread);
}

typedef struct
{
  ThecalHistoryPage *self; /* a reference */
  BuildData *data;
} ListStep;

static void list_next_pump_writes (ThecalHistoryPage *self, BuildData *data);

/* Runs on the main thread: the record listed one pump's writes. */
static void
on_pump_writes_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_auto (ThecalCallbackTiming) timing = thecal_callback_timing_begin ("history: writes listed");
  ListStep *step = user_data;
  g_autoptr (ThecalHistoryPage) self = step->self;
  BuildData *data = step->data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) writes = thecal_record_session_list_pump_writes_finish (THECAL_RECORD_SESSION (source), result, &error);

  g_free (step);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->all == NULL /* the window was closed */)
    {
      build_data_free (data);
      return;
    }
  if (writes == NULL)
    {
      /* the history without the writes would hide attempts that failed: say so instead */
      g_autofree char *message = g_strdup_printf (_ ("The refills and boluses written to the pump could not be read: %s"), error->message);

      build_data_free (data);
      show_read_error (self, message);
      return;
    }
  g_ptr_array_extend_and_steal (data->writes, g_steal_pointer (&writes));
  list_next_pump_writes (self, data);
}

/* Asks the record for the writes of the next pump of the patient, or builds when none is left. */
static void
list_next_pump_writes (ThecalHistoryPage *self, BuildData *data)
{
  ListStep *step;
  g_autofree char *serial = NULL;

  if (data->serials->len == 0)
    {
      start_build (self, data);
      return;
    }
  serial = g_ptr_array_steal_index (data->serials, 0);
  step = g_new0 (ListStep, 1);
  step->self = g_object_ref (self);
  step->data = data;
  thecal_record_session_list_pump_writes_async (self->session, serial, self->cancellable, on_pump_writes_listed, step);
}

/* Runs on the main thread: the record's thread read the patient's record. @user_data: the page (a
 * reference). */
static void
on_record_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_auto (ThecalCallbackTiming) timing = thecal_callback_timing_begin ("history: record read");
  g_autoptr (ThecalHistoryPage) self = user_data;
  g_autoptr (GError) error = NULL;
  ThecalPatientRecord *record = thecal_record_session_get_patient_record_finish (THECAL_RECORD_SESSION (source), result, &error);
  BuildData *data;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->all == NULL /* the window was closed */)
    {
      g_clear_pointer (&record, thecal_patient_record_free);
      return;
    }
  if (record == NULL)
    {
      show_read_error (self, error->message);
      return;
    }
  data = g_new0 (BuildData, 1);
  data->record = record;
  data->library = self->library;
  data->writes = g_ptr_array_new_with_free_func ((GDestroyNotify) thecal_pump_write_free);
  data->serials = g_ptr_array_new_with_free_func (g_free);
  /* each pump of the patient once (the record lists every version of every pump) */
  for (guint i = 0; i < record->pumps->len; i++)
    {
      const char *serial = ((const ThecalPump *) record->pumps->pdata[i])->serial;
      gboolean seen = FALSE;

      for (guint j = 0; j < data->serials->len && !seen; j++)
        seen = g_strcmp0 (data->serials->pdata[j], serial) == 0;
      if (!seen)
        g_ptr_array_add (data->serials, g_strdup (serial));
    }
  list_next_pump_writes (self, data);
}

void
thecal_history_page_reload (ThecalHistoryPage *self)
{
  g_return_if_fail (THECAL_IS_HISTORY_PAGE (self));

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  stop_fill (self);
  g_clear_pointer (&self->error, g_free);
  self->reading = TRUE;
  self->verifying = TRUE;
  self->audit_done = FALSE;
  gtk_widget_set_sensitive (self->print_button, FALSE);
  gtk_widget_set_sensitive (self->export_button, FALSE);
  gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), TRUE);
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "loading");
  set_audit (self, _ ("Verifying the audit chain…"), "content-loading-symbolic", NULL);
  thecal_record_session_get_patient_record_async (self->session, self->mrn, self->cancellable, on_record_read, g_object_ref (self));
  thecal_record_session_verify_audit_async (self->session, 0, NULL, self->cancellable, on_verified, g_object_ref (self));
}

/* ---- filters ---------------------------------------------------------------------------------- */

/* Runs on the main thread: a kind's toggle was pressed. */
static void
on_toggle (GtkToggleButton *button, gpointer user_data)
{
  ThecalHistoryPage *self = user_data;
  ThecalHistoryKind kind = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (button), "thecal-kind"));

  if (gtk_toggle_button_get_active (button))
    self->kind_mask |= 1u << kind;
  else
    self->kind_mask &= ~(1u << kind);
  refilter (self);
}

/* Runs on the main thread: the search field changed (after its short delay). */
static void
on_search_changed (ThecalHistoryPage *self)
{
  g_free (self->search);
  self->search = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->search_entry)));
  refilter (self);
}

void
thecal_history_page_set_kind_shown (ThecalHistoryPage *self, ThecalHistoryKind kind, gboolean shown)
{
  g_return_if_fail (THECAL_IS_HISTORY_PAGE (self));
  g_return_if_fail ((guint) kind < THECAL_HISTORY_N_KINDS);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->toggles[kind]), shown);
}

void
thecal_history_page_set_search (ThecalHistoryPage *self, const char *text)
{
  g_return_if_fail (THECAL_IS_HISTORY_PAGE (self));
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), text != NULL ? text : "");
  on_search_changed (self); /* at once, not after the entry's delay */
}

/* ---- the report ------------------------------------------------------------------------------- */

ThecalReport *
thecal_history_page_build_report (ThecalHistoryPage *self)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autoptr (GDateTime) midnight = NULL;
  ThecalReportInput input = { 0 };

  g_return_val_if_fail (THECAL_IS_HISTORY_PAGE (self), NULL);
  if (self->record == NULL)
    return NULL;
  midnight = g_date_time_new_local (g_date_time_get_year (now), g_date_time_get_month (now), g_date_time_get_day_of_month (now), 0, 0, 0);
  input.record = self->record;
  input.writes = self->writes;
  input.visit = self->visit != NULL && thecal_visit_is_connected (self->visit) ? self->visit : NULL;
  input.user = thecal_record_session_get_user (self->session);
  input.library = self->library;
  input.models = self->models;
  input.now_utc_ms = g_date_time_to_unix (now) * 1000 + g_date_time_get_microsecond (now) / 1000;
  input.since_utc_ms = g_date_time_to_unix (midnight) * 1000;
  input.audit_status = self->audit_done ? gtk_label_get_text (GTK_LABEL (self->audit_label)) : NULL;
  return thecal_report_gather (&input);
}

gboolean
thecal_history_page_export_pdf (ThecalHistoryPage *self, const char *path, GError **error)
{
  g_autoptr (ThecalReport) report = NULL;

  g_return_val_if_fail (THECAL_IS_HISTORY_PAGE (self), FALSE);
  report = thecal_history_page_build_report (self);
  if (report == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PENDING, _ ("The history is still being read."));
      return FALSE;
    }
  return thecal_report_export_pdf (report, path, error);
}

/* Runs on the main thread: "Print Report…". */
static void
on_print_clicked (ThecalHistoryPage *self)
{
  ThecalReport *report = thecal_history_page_build_report (self);

  if (report != NULL)
    thecal_report_print (report, GTK_WINDOW (self));
}

/* Runs on the main thread: the file chooser of "Export PDF…" answered. */
static void
on_export_response (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  ThecalHistoryPage *self = user_data;
  g_autoptr (GFile) file = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *message = NULL;

  if (response == GTK_RESPONSE_ACCEPT && self->all != NULL /* the window is still open */)
    {
      file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      path = file != NULL ? g_file_get_path (file) : NULL;
      if (path == NULL)
        message = g_strdup (_ ("The report can only be saved to a local file."));
      else if (thecal_history_page_export_pdf (self, path, &error))
        message = g_strdup_printf (_ ("Report saved to %s"), path);
      else
        message = g_strdup_printf (_ ("The report was not saved: %s"), error->message);
      adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (self->toast_overlay), adw_toast_new (message));
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
  g_object_unref (self);
}

/* Runs on the main thread: "Export PDF…". */
static void
on_export_clicked (ThecalHistoryPage *self)
{
  GtkFileChooserNative *chooser;
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *day = g_date_time_format (now, "%Y-%m-%d");
  g_autofree char *name = NULL;

  if (self->record == NULL)
    return;
  name = g_strdup_printf ("session-report-%s-%s.pdf", self->record->patient->mrn, day);
  chooser = gtk_file_chooser_native_new (_ ("Export the Session Report as PDF"), GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE, _ ("Save"),
                                         _ ("Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  g_signal_connect (chooser, "response", G_CALLBACK (on_export_response), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* ---- getters ---------------------------------------------------------------------------------- */

gboolean
thecal_history_page_get_loading (ThecalHistoryPage *self)
{
  g_return_val_if_fail (THECAL_IS_HISTORY_PAGE (self), FALSE);
  return self->reading || self->verifying;
}

const char *
thecal_history_page_get_error (ThecalHistoryPage *self)
{
  g_return_val_if_fail (THECAL_IS_HISTORY_PAGE (self), NULL);
  return self->error;
}

GListModel *
thecal_history_page_get_shown (ThecalHistoryPage *self)
{
  g_return_val_if_fail (THECAL_IS_HISTORY_PAGE (self), NULL);
  return G_LIST_MODEL (self->shown);
}

GListModel *
thecal_history_page_get_all (ThecalHistoryPage *self)
{
  g_return_val_if_fail (THECAL_IS_HISTORY_PAGE (self), NULL);
  return G_LIST_MODEL (self->all);
}

char *
thecal_history_page_dup_text (ThecalHistoryPage *self, const char *key)
{
  g_return_val_if_fail (THECAL_IS_HISTORY_PAGE (self), NULL);
  if (g_strcmp0 (key, "audit") == 0)
    return g_strdup (gtk_label_get_text (GTK_LABEL (self->audit_label)));
  if (g_strcmp0 (key, "count") == 0)
    return g_strdup (gtk_label_get_text (GTK_LABEL (self->count_label)));
  if (g_strcmp0 (key, "chart_note") == 0)
    return g_strdup (gtk_label_get_text (GTK_LABEL (self->chart_note_label)));
  if (g_strcmp0 (key, "selected") == 0)
    return describe_selected (self);
  return NULL;
}

void
thecal_history_page_select (ThecalHistoryPage *self, guint position)
{
  g_return_if_fail (THECAL_IS_HISTORY_PAGE (self));
  gtk_single_selection_set_selected (self->selection, position);
}

gboolean
thecal_history_page_get_audit_done (ThecalHistoryPage *self, gboolean *intact)
{
  g_return_val_if_fail (THECAL_IS_HISTORY_PAGE (self), FALSE);
  if (intact != NULL)
    *intact = self->audit_intact;
  return self->audit_done;
}

ThecalDoseHistoryChart *
thecal_history_page_get_chart (ThecalHistoryPage *self)
{
  g_return_val_if_fail (THECAL_IS_HISTORY_PAGE (self), NULL);
  return THECAL_DOSE_HISTORY_CHART (self->chart);
}

/* ---- the object ------------------------------------------------------------------------------- */

static void
thecal_history_page_dispose (GObject *object)
{
  ThecalHistoryPage *self = THECAL_HISTORY_PAGE (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  stop_fill (self);
  if (self->list_view != NULL)
    gtk_list_view_set_model (GTK_LIST_VIEW (self->list_view), NULL);
  if (self->selection != NULL)
    g_signal_handlers_disconnect_by_data (self->selection, self);
  g_clear_object (&self->selection);
  g_clear_object (&self->shown);
  g_clear_object (&self->all);
  g_clear_object (&self->session);
  g_clear_object (&self->visit);
  g_clear_pointer (&self->record, thecal_patient_record_free);
  g_clear_pointer (&self->writes, g_ptr_array_unref);
  G_OBJECT_CLASS (thecal_history_page_parent_class)->dispose (object);
}

static void
thecal_history_page_finalize (GObject *object)
{
  ThecalHistoryPage *self = THECAL_HISTORY_PAGE (object);

  g_free (self->mrn);
  g_free (self->models);
  g_free (self->library);
  g_free (self->error);
  g_free (self->search);
  G_OBJECT_CLASS (thecal_history_page_parent_class)->finalize (object);
}

/* Runs on the main thread: Ctrl+P. */
static void
on_print_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  (void) action_name;
  (void) parameter;
  if (gtk_widget_get_sensitive (THECAL_HISTORY_PAGE (widget)->print_button))
    on_print_clicked (THECAL_HISTORY_PAGE (widget));
}

static void
thecal_history_page_class_init (ThecalHistoryPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = thecal_history_page_dispose;
  object_class->finalize = thecal_history_page_finalize;

  g_type_ensure (THECAL_TYPE_DOSE_HISTORY_CHART);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/thecal/Programmer/ui/thecal-history-page.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, ThecalHistoryPage, name)
  BIND (window_title);
  BIND (print_button);
  BIND (export_button);
  BIND (toast_overlay);
  BIND (stack);
  BIND (spinner);
  BIND (error_page);
  BIND (audit_box);
  BIND (audit_icon);
  BIND (audit_label);
  BIND (chart);
  BIND (chart_note_label);
  BIND (filter_box);
  BIND (search_entry);
  BIND (count_label);
  BIND (selected_label);
  BIND (list_view);
#undef BIND
  gtk_widget_class_bind_template_callback (widget_class, on_print_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_export_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_search_changed);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
  gtk_widget_class_install_action (widget_class, "history.print", NULL, on_print_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_p, GDK_CONTROL_MASK, "history.print", NULL);
}

static void
thecal_history_page_init (ThecalHistoryPage *self)
{
  GtkListItemFactory *factory;

  gtk_widget_init_template (GTK_WIDGET (self));
  self->kind_mask = THECAL_HISTORY_ALL_KINDS;
  self->all = g_list_store_new (THECAL_TYPE_HISTORY_ENTRY);
  self->filter = gtk_custom_filter_new (filter_entry, self, NULL);
  self->shown = gtk_filter_list_model_new (G_LIST_MODEL (g_object_ref (self->all)), GTK_FILTER (self->filter));
  g_object_ref (self->shown);
  self->selection = gtk_single_selection_new (G_LIST_MODEL (g_object_ref (self->shown)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  g_signal_connect_swapped (self->selection, "selection-changed", G_CALLBACK (on_selection_changed), self);
  g_signal_connect_swapped (self->selection, "items-changed", G_CALLBACK (on_selection_changed), self);
  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (on_setup_row), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (on_bind_row), NULL);
  gtk_list_view_set_factory (GTK_LIST_VIEW (self->list_view), factory);
  g_object_unref (factory);
  gtk_list_view_set_model (GTK_LIST_VIEW (self->list_view), GTK_SELECTION_MODEL (self->selection));
  on_selection_changed (self);
  for (int k = 0; k < THECAL_HISTORY_N_KINDS; k++)
    {
      GtkWidget *toggle = gtk_toggle_button_new_with_label (thecal_history_kind_label ((ThecalHistoryKind) k));
      g_autofree char *tip = g_strdup_printf (_ ("Show or hide the entries of kind “%s”"), thecal_history_kind_label ((ThecalHistoryKind) k));

      gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (toggle), TRUE);
      gtk_widget_set_tooltip_text (toggle, tip);
      g_object_set_data (G_OBJECT (toggle), "thecal-kind", GINT_TO_POINTER (k));
      g_signal_connect (toggle, "toggled", G_CALLBACK (on_toggle), self);
      gtk_box_append (GTK_BOX (self->filter_box), toggle);
      self->toggles[k] = toggle;
    }
  update_count (self);
}

ThecalHistoryPage *
thecal_history_page_new (ThecalRecordSession *session,
                         const char *mrn,
                         ThecalVisit *visit,
                         const ThecalPumpModelSet *models,
                         const ThecalDrugLibrary *library)
{
  ThecalHistoryPage *self;

  g_return_val_if_fail (THECAL_IS_RECORD_SESSION (session), NULL);
  g_return_val_if_fail (mrn != NULL, NULL);
  g_return_val_if_fail (visit == NULL || THECAL_IS_VISIT (visit), NULL);

  self = g_object_new (THECAL_TYPE_HISTORY_PAGE, NULL);
  self->session = g_object_ref (session);
  self->mrn = g_strdup (mrn);
  self->visit = visit != NULL ? g_object_ref (visit) : NULL;
  self->models = models != NULL ? g_memdup2 (models, sizeof *models) : NULL;
  self->library = library != NULL ? g_memdup2 (library, sizeof *library) : NULL;
  thecal_history_page_reload (self);
  return self;
}
