/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-stall.c: what keeps the main loop free (DESIGN.md: never blocked > 16 ms; docs/gui.md
 * "Conventions", docs/benchmarks.md "Main-loop stalls"), in process on the demo record:
 *  - the history window hands its 1 002 entries to the list in chunks, one per frame: the first
 *    is FILL_FIRST_CHUNK (8), each at most twice the last, in order, contiguous; it is loading until
 *    the last; a filter changed meanwhile applies to what follows; reloading or closing the window
 *    in the middle of it leaves the entries whole (no duplicate) or nothing behind (ASan);
 *  - the patient list shows a page read in chunks, one per idle: the first 16 items, each chunk at
 *    most twice the last, contiguous, loading until the last; a search typed meanwhile removes only
 *    what was shown; a reader of the last chunk's rows (a view) fetches the next page; the list
 *    dropped meanwhile leaves nothing behind;
 *  - the callbacks of ours time themselves (thecal-callback-timing.h): the longest is kept with its
 *    name, and a reset clears it.
 * No timing is asserted (DESIGN.md: bench/ measures); only the order and sizes of the changes.
 */
#include "config.h"

#include <string.h>

#include "app-fixture.h"
#include "thecal-callback-timing.h"
#include "thecal-history-page.h"
#include "thecal-patient-list.h"
#include "thecal-record-fill.h"

/* ---- helpers ------------------------------------------------------------------------------- */

typedef struct
{
  GArray *added; /* guint: how many each items-changed added */
  guint next;    /* where the next addition must start (contiguous, at the end) */
  guint removed; /* how many the changes removed in all */
  gboolean in_order;
} Changes;

/* Runs on the main thread: the model changed; additions must come at the end, in order. */
static void
on_items_changed (GListModel *model, guint position, guint removed, guint added, gpointer user_data)
{
  Changes *changes = user_data;

  (void) model;
  if (removed > 0)
    {
      changes->removed += removed;
      changes->next -= removed;
    }
  if (added > 0)
    {
      if (position != changes->next)
        changes->in_order = FALSE;
      changes->next += added;
      g_array_append_val (changes->added, added);
    }
}

static void
changes_init (Changes *changes)
{
  changes->added = g_array_new (FALSE, TRUE, sizeof (guint));
  changes->next = 0;
  changes->removed = 0;
  changes->in_order = TRUE;
}

/* Each chunk after the first at most twice the one before; the first is @first (or fewer, when
 * that is all there is). */
static void
assert_chunks (const Changes *changes, guint first, guint total)
{
  guint sum = 0;

  ck_assert (changes->in_order);
  ck_assert_uint_ge (changes->added->len, 2);
  ck_assert_uint_eq (g_array_index (changes->added, guint, 0), MIN (first, total));
  for (guint i = 0; i < changes->added->len; i++)
    {
      guint n = g_array_index (changes->added, guint, i);

      ck_assert_uint_gt (n, 0);
      if (i > 0)
        ck_assert_uint_le (n, 2 * g_array_index (changes->added, guint, i - 1));
      sum += n;
    }
  ck_assert_uint_eq (sum, total);
}

static gboolean
history_loaded (gpointer page)
{
  return !thecal_history_page_get_loading (page);
}

/* Some entries are in the list, not all: the fill is under way. */
static gboolean
history_filling (gpointer page)
{
  guint n = g_list_model_get_n_items (thecal_history_page_get_all (page));

  ck_assert_msg (n == 0 || thecal_history_page_get_loading (page) || n == 1002, "%u entries, not loading", n);
  return n > 0 && n < 1002 && thecal_history_page_get_loading (page);
}

static char *
row_summary (ThecalHistoryPage *page, guint index)
{
  g_autoptr (ThecalHistoryEntry) e = g_list_model_get_item (thecal_history_page_get_shown (page), index);

  return g_strdup (thecal_history_entry_get_summary (e));
}

/* ---- the history --------------------------------------------------------------------------- */

START_TEST (test_history_fills_in_chunks)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  g_autoptr (ThecalRecordSession) session = import_thousand_events (record);
  ThecalHistoryPage *page = thecal_history_page_new (session, "DEMO-0002", NULL, models, library);
  Changes changes;
  g_autofree char *first = NULL;
  g_autofree char *last = NULL;
  g_autofree char *count = NULL;

  changes_init (&changes);
  g_signal_connect (thecal_history_page_get_all (page), "items-changed", G_CALLBACK (on_items_changed), &changes);
  gtk_window_present (GTK_WINDOW (page));
  ck_assert (wait_for (history_filling, page));
  ck_assert_ptr_null (thecal_history_page_get_error (page));
  /* a filter changed in the middle applies to the entries still to come */
  thecal_history_page_set_kind_shown (page, THECAL_HISTORY_BOLUS, FALSE);
  ck_assert (wait_for (history_loaded, page));
  ck_assert_uint_eq (g_list_model_get_n_items (thecal_history_page_get_all (page)), 1002);
  ck_assert_uint_eq (g_list_model_get_n_items (thecal_history_page_get_shown (page)), 2);
  count = thecal_history_page_dup_text (page, "count");
  ck_assert_str_eq (count, "2 of 1002 entries shown");
  thecal_history_page_set_kind_shown (page, THECAL_HISTORY_BOLUS, TRUE);
  ck_assert_uint_eq (g_list_model_get_n_items (thecal_history_page_get_shown (page)), 1002);
  /* one chunk a frame: 8 first, at most doubling, at the end each time, none removed */
  assert_chunks (&changes, 8, 1002);
  ck_assert_uint_eq (changes.removed, 0);
  /* newest first, the whole log: the registrations, then the last bolus … the first */
  first = row_summary (page, 2);
  last = row_summary (page, 1001);
  ck_assert_str_eq (first, "Patient (PTM) bolus granted: 0.05 mL (4 in 24 h)");
  ck_assert_str_eq (last, "Patient (PTM) bolus granted: 0.05 mL (1 in 24 h)");
  g_signal_handlers_disconnect_by_data (thecal_history_page_get_all (page), &changes);
  g_array_unref (changes.added);
  gtk_window_destroy (GTK_WINDOW (page));
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* Reloading in the middle of the fill: the old chunks stop, the entries are there once each. */
START_TEST (test_history_reload_while_filling)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  g_autoptr (ThecalRecordSession) session = import_thousand_events (record);
  ThecalHistoryPage *page = thecal_history_page_new (session, "DEMO-0002", NULL, models, library);

  gtk_window_present (GTK_WINDOW (page));
  ck_assert (wait_for (history_filling, page));
  thecal_history_page_reload (page);
  ck_assert (thecal_history_page_get_loading (page));
  ck_assert (wait_for (history_loaded, page));
  ck_assert_uint_eq (g_list_model_get_n_items (thecal_history_page_get_all (page)), 1002);
  settle (200); /* no chunk of the first fill left to come */
  ck_assert_uint_eq (g_list_model_get_n_items (thecal_history_page_get_all (page)), 1002);
  gtk_window_destroy (GTK_WINDOW (page));
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* Closing the window in the middle of the fill: nothing is left running (ASan would say). */
START_TEST (test_history_closed_while_filling)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  g_autoptr (ThecalRecordSession) session = import_thousand_events (record);
  ThecalHistoryPage *page = thecal_history_page_new (session, "DEMO-0002", NULL, models, library);
  GWeakRef gone;

  g_weak_ref_init (&gone, page);
  gtk_window_present (GTK_WINDOW (page));
  ck_assert (wait_for (history_filling, page));
  gtk_window_destroy (GTK_WINDOW (page));
  settle (300);
  {
    g_autoptr (GObject) still = g_weak_ref_get (&gone);

    ck_assert_ptr_null (still);
  }
  g_weak_ref_clear (&gone);
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* ---- the patient list ---------------------------------------------------------------------- */

static void
on_filled (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  *(gint64 **) user_data = _thecal_record_fill_patients_finish (THECAL_RECORD (source), result, &error);
  ck_assert_msg (*(gint64 **) user_data != NULL, "%s", error != NULL ? error->message : "");
}

static gboolean
filled (gpointer data)
{
  return *(gint64 **) data != NULL;
}

/* The demo record and 250 generated patients; a session of the demo user (who may read them). */
static ThecalRecordSession *
many_patients (ThecalRecord *record)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecordSession) admin = thecal_record_session_login_sync (record, THECAL_DEMO_ADMIN_NAME, THECAL_DEMO_ADMIN_PASSWORD, NULL, &error);
  ThecalRecordSession *session;
  gint64 *done = NULL;

  ck_assert_msg (admin != NULL, "%s", error != NULL ? error->message : "");
  _thecal_record_fill_patients_async (record, thecal_record_session_get_user (admin), 0, 250, NULL, on_filled, &done);
  ck_assert (wait_for (filled, &done));
  g_free (done);
  session = thecal_record_session_login_sync (record, THECAL_DEMO_USER_NAME, THECAL_DEMO_USER_PASSWORD, NULL, &error);
  ck_assert_msg (session != NULL, "%s", error != NULL ? error->message : "");
  return session;
}

static gboolean
list_loaded (gpointer list)
{
  return !thecal_patient_list_get_loading (list);
}

/* Some of the page is shown, not all. */
static gboolean
list_showing (gpointer list)
{
  guint n = g_list_model_get_n_items (list);

  return n > 0 && n < THECAL_PATIENT_LIST_PAGE && thecal_patient_list_get_loading (list);
}

START_TEST (test_patient_list_shows_in_chunks)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  g_autoptr (ThecalRecordSession) session = many_patients (record);
  g_autoptr (ThecalPatientList) list = thecal_patient_list_new (session);
  Changes changes;
  g_autofree char *family = NULL;

  changes_init (&changes);
  g_signal_connect (list, "items-changed", G_CALLBACK (on_items_changed), &changes);
  ck_assert (thecal_patient_list_get_loading (list));
  ck_assert (wait_for (list_loaded, list));
  /* the first page, 100 of 256 patients by MRN: 16 first, at most doubling, in order */
  ck_assert_uint_eq (g_list_model_get_n_items (G_LIST_MODEL (list)), THECAL_PATIENT_LIST_PAGE);
  assert_chunks (&changes, 16, THECAL_PATIENT_LIST_PAGE);
  /* the next page the same way, after the first */
  g_array_set_size (changes.added, 0);
  thecal_patient_list_load_more (list);
  ck_assert (thecal_patient_list_get_loading (list));
  ck_assert (wait_for (list_loaded, list));
  ck_assert_uint_eq (g_list_model_get_n_items (G_LIST_MODEL (list)), 2 * THECAL_PATIENT_LIST_PAGE);
  assert_chunks (&changes, 16, THECAL_PATIENT_LIST_PAGE);
  ck_assert_uint_eq (changes.removed, 0);

  /* a search typed while a page is being shown removes what was shown, no more */
  thecal_patient_list_set_search (list, NULL);
  ck_assert_uint_eq (changes.removed, 2 * THECAL_PATIENT_LIST_PAGE);
  ck_assert (wait_for (list_showing, list));
  {
    guint shown = g_list_model_get_n_items (G_LIST_MODEL (list));
    g_autofree char *name = _thecal_record_fill_name (17);

    family = g_strndup (name, strcspn (name, ","));
    thecal_patient_list_set_search (list, family);
    ck_assert_uint_eq (changes.removed, 2 * THECAL_PATIENT_LIST_PAGE + shown);
    ck_assert_uint_eq (g_list_model_get_n_items (G_LIST_MODEL (list)), 0);
  }
  ck_assert (wait_for (list_loaded, list));
  ck_assert (changes.in_order);
  ck_assert_uint_gt (g_list_model_get_n_items (G_LIST_MODEL (list)), 0);
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (list)); i++)
    {
      g_autoptr (ThecalPatientItem) item = g_list_model_get_item (G_LIST_MODEL (list), i);

      ck_assert_msg (strstr (thecal_patient_item_get_patient (item)->name, family) != NULL, "%s has no %s",
                     thecal_patient_item_get_patient (item)->name, family);
    }
  /* past what is shown: nothing */
  ck_assert_ptr_null (g_list_model_get_item (G_LIST_MODEL (list), g_list_model_get_n_items (G_LIST_MODEL (list))));
  g_signal_handlers_disconnect_by_data (list, &changes);
  g_array_unref (changes.added);
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* Runs on the main thread: reads the last item added, as a list view binding its new rows does. */
static void
on_items_added_read_last (GListModel *model, guint position, guint removed, guint added, gpointer user_data)
{
  (void) removed;
  (void) user_data;
  if (added > 0)
    g_object_unref (g_list_model_get_item (model, position + added - 1));
}

static gboolean
list_has_all (gpointer list)
{
  return !thecal_patient_list_get_loading (list) && g_list_model_get_n_items (list) == 256;
}

/* A view reading the rows of the last chunk of a page fetches the next page (what the chunks must
 * not hide): the 256 patients arrive page after page with nobody asking but the reader. */
START_TEST (test_patient_list_reader_fetches_next)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  g_autoptr (ThecalRecordSession) session = many_patients (record);
  g_autoptr (ThecalPatientList) list = thecal_patient_list_new (session);

  g_signal_connect (list, "items-changed", G_CALLBACK (on_items_added_read_last), NULL);
  ck_assert (wait_for (list_has_all, list));
  g_signal_handlers_disconnect_by_func (list, on_items_added_read_last, NULL);
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* The list dropped while a page is being shown: nothing is left running (ASan would say). */
START_TEST (test_patient_list_dropped_while_showing)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  g_autoptr (ThecalRecordSession) session = many_patients (record);
  ThecalPatientList *list = thecal_patient_list_new (session);
  GWeakRef gone;

  g_weak_ref_init (&gone, list);
  ck_assert (wait_for (list_showing, list));
  g_object_unref (list);
  settle (200);
  {
    g_autoptr (GObject) still = g_weak_ref_get (&gone);

    ck_assert_ptr_null (still);
  }
  g_weak_ref_clear (&gone);
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* ---- the callbacks' timing ----------------------------------------------------------------- */

START_TEST (test_callback_timing)
{
  const char *name = "unset";

  thecal_callback_timing_reset ();
  ck_assert_int_eq (thecal_callback_timing_get_longest (&name), 0);
  ck_assert_ptr_null (name);
  {
    g_auto (ThecalCallbackTiming) timing = thecal_callback_timing_begin ("slow");

    g_usleep (3000);
  }
  {
    g_auto (ThecalCallbackTiming) timing = thecal_callback_timing_begin ("quick");
  }
  /* the longest is kept, whatever came after; at least the 3 ms slept */
  ck_assert_int_ge (thecal_callback_timing_get_longest (&name), 3000);
  ck_assert_str_eq (name, "slow");
  ck_assert_int_ge (thecal_callback_timing_get_longest (NULL), 3000);
  thecal_callback_timing_reset ();
  ck_assert_int_eq (thecal_callback_timing_get_longest (&name), 0);
  ck_assert_ptr_null (name);
  {
    /* ended by hand: the cleanup at the end of the scope does nothing more */
    g_auto (ThecalCallbackTiming) timing = thecal_callback_timing_begin ("by hand");

    g_usleep (1000);
    thecal_callback_timing_end (&timing);
    ck_assert_ptr_null (timing.name);
  }
  ck_assert_int_ge (thecal_callback_timing_get_longest (&name), 1000);
  ck_assert_str_eq (name, "by hand");
}
END_TEST

static Suite *
stall_suite (void)
{
  Suite *suite = suite_create ("stall");

  THECAL_TEST_TCASE (suite, "timing", setup, teardown, 30, test_callback_timing);
  THECAL_TEST_TCASE (suite, "history", setup, teardown, 120, test_history_fills_in_chunks, test_history_reload_while_filling,
                     test_history_closed_while_filling);
  THECAL_TEST_TCASE (suite, "patients", setup, teardown, 120, test_patient_list_shows_in_chunks, test_patient_list_reader_fetches_next,
                     test_patient_list_dropped_while_showing);
  return suite;
}

int
main (void)
{
  return app_test_main (stall_suite ());
}
