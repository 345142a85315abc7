/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-history.c: the history window and the session report in process (docs/gui.md "History",
 * "Session report"), on the demo record:
 *  - without a pump read: the record alone (the patient's and the pump's registration), the audit
 *    chain verified, an empty chart;
 *  - after connecting to ROE, Richard (the pump's log imported) and a refill changing morphine
 *    25 → 50 mg/mL (a programming session, a prescription version, a refill, the bridge bolus):
 *    the timeline's rows, kinds and summaries exactly, newest first; each kind's toggle and the
 *    search changing the count; the dose chart's steps; the report's text, its PDF (exported
 *    directly and through GtkPrintOperation) read back with pdftotext, and a PNG of its first page;
 *  - an administrator refused by the workflow ([history.read]);
 *  - 1 000 imported pump events: all listed.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "app-fixture.h"
#include "thecal-dose-json.h"
#include "thecal-format.h"
#include "thecal-history-page.h"
#include "thecal-overview-page.h"
#include "thecal-refill-wizard.h"
#include "thecal-report.h"

static gboolean
history_loaded (gpointer page)
{
  return !thecal_history_page_get_loading (page);
}

/* Row @index of the timeline as shown: "kind | who | summary". */
static char *
row_text (ThecalHistoryPage *page, guint index)
{
  g_autoptr (ThecalHistoryEntry) e = g_list_model_get_item (thecal_history_page_get_shown (page), index);

  ck_assert_ptr_nonnull (e);
  return g_strdup_printf ("%s | %s | %s", thecal_history_kind_name (thecal_history_entry_get_kind (e)), thecal_history_entry_get_who (e),
                          thecal_history_entry_get_summary (e));
}

static void
assert_row (ThecalHistoryPage *page, guint index, const char *expected)
{
  g_autofree char *text = row_text (page, index);

  ck_assert_str_eq (text, expected);
}

static guint
n_shown (ThecalHistoryPage *page)
{
  return g_list_model_get_n_items (thecal_history_page_get_shown (page));
}

static void
assert_text (ThecalHistoryPage *page, const char *key, const char *expected)
{
  g_autofree char *text = thecal_history_page_dup_text (page, key);

  ck_assert_str_eq (text, expected);
}

/* The audit line says the chain is intact and how long it is. */
static void
assert_audit_intact (ThecalHistoryPage *page)
{
  g_autofree char *audit = thecal_history_page_dup_text (page, "audit");
  gboolean intact = FALSE;
  gint64 n;

  ck_assert (thecal_history_page_get_audit_done (page, &intact));
  ck_assert_msg (intact, "audit: %s", audit);
  ck_assert_msg (g_str_has_prefix (audit, "Audit chain verified: ") && g_str_has_suffix (audit, " entries"), "audit: %s", audit);
  n = g_ascii_strtoll (audit + strlen ("Audit chain verified: "), NULL, 10);
  ck_assert_int_gt (n, 10);
}

/* The newest entry is never older than the one after it. */
static void
assert_newest_first (ThecalHistoryPage *page)
{
  GListModel *all = thecal_history_page_get_all (page);

  for (guint i = 1; i < g_list_model_get_n_items (all); i++)
    {
      g_autoptr (ThecalHistoryEntry) a = g_list_model_get_item (all, i - 1);
      g_autoptr (ThecalHistoryEntry) b = g_list_model_get_item (all, i);

      ck_assert_int_ge (thecal_history_entry_get_time_ms (a), thecal_history_entry_get_time_ms (b));
    }
}

static ThecalHistoryPage *
open_history (ThecalOverviewPage *overview)
{
  ThecalHistoryPage *page = THECAL_HISTORY_PAGE (thecal_overview_page_open_history (overview));

  ck_assert_ptr_nonnull (page);
  gtk_window_set_default_size (GTK_WINDOW (page), 1000, 820);
  ck_assert (wait_for (history_loaded, page));
  return page;
}

/* The history of a patient whose pump was never read: what the record holds alone. */
START_TEST (test_history_record_only)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalOverviewPage *overview = thecal_window_get_overview_page (window);
  ThecalHistoryPage *page;

  thecal_sign_in_page_submit (thecal_window_get_sign_in_page (window));
  ck_assert (wait_for (signed_in, window));
  ck_assert (wait_for (list_has_six, window));
  thecal_patients_page_select (thecal_window_get_patients_page (window), 1);
  ck_assert_ptr_null (thecal_overview_page_get_visit (overview));
  /* closed before the record answered: the answer is dropped */
  page = THECAL_HISTORY_PAGE (thecal_overview_page_open_history (overview));
  ck_assert (thecal_history_page_get_loading (page));
  gtk_window_destroy (GTK_WINDOW (page));
  settle (300);
  page = open_history (overview);
  ck_assert_ptr_null (thecal_history_page_get_error (page));
  ck_assert_uint_eq (n_shown (page), 2);
  assert_row (page, 0, "record | demo | Pump TR20-000124 (TR-20) registered, implanted 2025-06-01, catheter 45.5 cm");
  assert_row (page, 1, "record | demo | Patient registered: ROE, Richard, MRN DEMO-0002, born 1958-09-30");
  assert_text (page, "count", "2 entries");
  assert_audit_intact (page);
  /* nothing the pump delivered is known yet: no step */
  ck_assert_uint_eq (thecal_dose_history_chart_get_n_steps (thecal_history_page_get_chart (page)), 0);
  ck_assert_uint_eq (thecal_dose_history_chart_get_n_refills (thecal_history_page_get_chart (page)), 0);
  /* the report says what it could not know */
  {
    g_autoptr (ThecalReport) report = thecal_history_page_build_report (page);
    g_autofree char *text = thecal_report_dup_text (report);

    ck_assert_msg (strstr (text, "Before today: no prescription in the record or the pump's log.\n") != NULL, "%s", text);
    ck_assert_msg (strstr (text, "After: no prescription in the record, and the pump was not read.\n") != NULL, "%s", text);
    ck_assert_msg (strstr (text, "The pump was not read for this report") != NULL, "%s", text);
    ck_assert_msg (strstr (text, "No refill today.\n") != NULL, "%s", text);
  }
  gtk_window_destroy (GTK_WINDOW (page));
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* @path is a PDF (it starts with %PDF) whose text has @a and @b (pdftotext, when installed). */
static void
assert_pdf (const char *path, const char *a, const char *b)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr (GError) error = NULL;
  g_autofree char *pdftotext = g_find_program_in_path ("pdftotext");

  ck_assert_msg (g_file_get_contents (path, &contents, &length, &error), "%s", error != NULL ? error->message : "");
  ck_assert_uint_gt (length, 4);
  ck_assert (memcmp (contents, "%PDF", 4) == 0);
  if (pdftotext != NULL)
    {
      const char *argv[] = { pdftotext, "-layout", path, "-", NULL };
      g_autofree char *text = NULL;
      g_autofree char *flat = NULL;
      int status = 0;

      ck_assert_msg (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &text, NULL, &status, &error), "%s",
                     error != NULL ? error->message : "");
      ck_assert_int_eq (status, 0);
      /* lines joined; the no-break spaces between numbers and units read as spaces, the word
       * joiners inside units as nothing */
      {
        g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
        g_autofree char *joined = g_strjoinv (" ", lines);
        g_auto (GStrv) parts = g_strsplit (joined, "\u00a0", -1);
        g_autofree char *spaced = g_strjoinv (" ", parts);
        g_auto (GStrv) words = g_strsplit (spaced, "\u2060", -1);

        flat = g_strjoinv ("", words);
      }
      ck_assert_msg (strstr (flat, a) != NULL, "%s has no “%s”", path, a);
      ck_assert_msg (strstr (flat, b) != NULL, "%s has no “%s”", path, b);
    }
  else
    g_print ("# pdftotext is not installed: the PDF's text was not read back\n");
}

static gboolean
print_dialog_shown (gpointer data)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GObject) window = g_list_model_get_item (toplevels, i);

      /* GTK's print dialog (a GtkDialog; its own header is not in gtk4's pkg-config module) */
      if (GTK_IS_DIALOG (window) && gtk_widget_get_visible (GTK_WIDGET (window)))
        {
          *(GtkWidget **) data = GTK_WIDGET (window);
          return TRUE;
        }
    }
  return FALSE;
}

/* "Print Report…" (Ctrl+P's action) shows the print dialog over the history; cancelling it
 * prints nothing and frees the operation and its report (LeakSanitizer checks under ASan). */
static void
print_dialog_cancelled (ThecalHistoryPage *page)
{
  GtkWidget *dialog = NULL;

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (page), "history.print", NULL));
  ck_assert (wait_for (print_dialog_shown, &dialog));
  ck_assert_ptr_eq (gtk_window_get_transient_for (GTK_WINDOW (dialog)), GTK_WINDOW (page));
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);
  settle (200);
  dialog = NULL;
  ck_assert (!print_dialog_shown (&dialog));
}

static gboolean
wizard_finished (gpointer wizard)
{
  return thecal_refill_wizard_get_finished (wizard, NULL);
}

static gboolean
overview_idle (gpointer overview)
{
  return !thecal_overview_page_get_busy (overview) && thecal_overview_page_get_visit (overview) != NULL;
}

/* The refill of ROE, Richard changing morphine 25 → 50 mg/mL, verified by paula, confirmed; then
 * the overview has read the pump again (its log imported). */
static void
refill_with_change (ThecalOverviewPage *overview)
{
  ThecalRefillWizard *wizard = THECAL_REFILL_WIZARD (thecal_overview_page_open_refill (overview));
  ThecalProgrammingOutcome outcome;

  refill_wizard_type_change (wizard);
  thecal_refill_wizard_next (wizard); /* Refill */
  ck_assert (wait_for (wizard_finished, wizard));
  ck_assert (thecal_refill_wizard_get_finished (wizard, &outcome));
  {
    g_autofree char *text = thecal_refill_wizard_dup_text (wizard, "outcome");

    ck_assert_msg (outcome == THECAL_OUTCOME_CONFIRMED, "outcome: %s", text);
  }
  settle (50);
  ck_assert (wait_for (overview_idle, overview));
  thecal_refill_wizard_next (wizard); /* Close */
}

/* Connected to ROE, Richard, refilled with a change of concentration: the whole timeline. */
START_TEST (test_history_after_refill)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalOverviewPage *overview = connect_low_reservoir (window);
  ThecalHistoryPage *page;

  refill_with_change (overview);
  screenshot (GTK_WIDGET (window), "overview-history-button.png");
  page = open_history (overview);
  ck_assert_ptr_null (thecal_history_page_get_error (page));
  assert_audit_intact (page);
  assert_newest_first (page);

  /* everything: the bridge bolus written with the change and the session (the record's clock) are
   * the newest; the registrations; then the refill day on the pump's clock and the pump's log
   * back to its start */
  ck_assert_uint_eq (n_shown (page), 14);
  assert_text (page, "count", "14 entries");
  assert_row (page, 0,
              "bolus | demo | Bolus on pump TR20-000124, confirmed: A bridge bolus of 0.3685 mL (9.2125 mg of morphine) over 1 day 20 h 13 "
              "min 12 s; the basal delivery pauses while it runs.");
  assert_row (page, 1, "session | demo | Pump TR20-000124 programmed, confirmed: concentration 25 mg/mL → 50 mg/mL");
  assert_row (page, 13, "event | pump TR20-000124 | Pump started with 7.8 mL in the reservoir");
  /* the rows are one line each; the selected entry is shown whole under the list */
  {
    g_autofree char *none = thecal_history_page_dup_text (page, "selected");
    g_autofree char *selected = NULL;

    ck_assert_str_eq (none, "");
    thecal_history_page_select (page, 1);
    selected = thecal_history_page_dup_text (page, "selected");
    ck_assert_msg (strstr (selected, "Pump TR20-000124 programmed, confirmed: concentration 25 mg/mL → 50 mg/mL") != NULL
                       && strstr (selected, "demo") != NULL,
                   "selected: %s", selected);
  }
  screenshot (GTK_WIDGET (page), "history.png");

  /* one kind at a time: exact rows, newest first */
  for (int k = 0; k < THECAL_HISTORY_N_KINDS; k++)
    thecal_history_page_set_kind_shown (page, (ThecalHistoryKind) k, FALSE);
  ck_assert_uint_eq (n_shown (page), 0);
  assert_text (page, "count", "0 of 14 entries shown");
  thecal_history_page_set_kind_shown (page, THECAL_HISTORY_SESSION, TRUE);
  ck_assert_uint_eq (n_shown (page), 1);
  thecal_history_page_set_kind_shown (page, THECAL_HISTORY_SESSION, FALSE);
  thecal_history_page_set_kind_shown (page, THECAL_HISTORY_PRESCRIPTION, TRUE);
  ck_assert_uint_eq (n_shown (page), 1);
  assert_row (page, 0, "prescription | demo | First recorded: morphine 50 mg/mL, Continuous 5 mg/day");
  thecal_history_page_set_kind_shown (page, THECAL_HISTORY_PRESCRIPTION, FALSE);
  thecal_history_page_set_kind_shown (page, THECAL_HISTORY_REFILL, TRUE);
  ck_assert_uint_eq (n_shown (page), 1);
  assert_row (page, 0, "refill | demo | 18 mL of morphine 50 mg/mL added; 1.8 mL aspirated of 1.8 mL expected; verified by paula");
  thecal_history_page_set_kind_shown (page, THECAL_HISTORY_REFILL, FALSE);
  thecal_history_page_set_kind_shown (page, THECAL_HISTORY_BOLUS, TRUE);
  /* the bridge bolus as written through Thecal; the pump's log has its start only (a pump event) */
  ck_assert_uint_eq (n_shown (page), 1);
  assert_row (page, 0,
              "bolus | demo | Bolus on pump TR20-000124, confirmed: A bridge bolus of 0.3685 mL (9.2125 mg of morphine) over 1 day 20 h 13 "
              "min 12 s; the basal delivery pauses while it runs.");
  thecal_history_page_set_kind_shown (page, THECAL_HISTORY_BOLUS, FALSE);
  thecal_history_page_set_kind_shown (page, THECAL_HISTORY_ALARM, TRUE);
  ck_assert_uint_eq (n_shown (page), 2);
  assert_row (page, 0, "alarm | pump TR20-000124 | Low reservoir alarm cleared");
  assert_row (page, 1, "alarm | pump TR20-000124 | Low reservoir alarm raised (reservoir estimate 2 mL)");
  thecal_history_page_set_kind_shown (page, THECAL_HISTORY_ALARM, FALSE);
  thecal_history_page_set_kind_shown (page, THECAL_HISTORY_EVENT, TRUE);
  ck_assert_uint_eq (n_shown (page), 6);
  assert_row (page, 0, "event | pump TR20-000124 | Bridge bolus started: 0.3685 mL planned");
  assert_row (page, 1, "event | pump TR20-000124 | Pump prescription set: Continuous, 5 mg/day (0.1 mL/day at 50 mg/mL)");
  assert_row (page, 2, "event | pump TR20-000124 | Reservoir set to 18 mL at 50 mg/mL");
  assert_row (page, 3, "event | pump TR20-000124 | Pump prescription set: Continuous, 5 mg/day (0.2 mL/day at 25 mg/mL)");
  assert_row (page, 4, "event | pump TR20-000124 | Reservoir set to 7.8 mL at 25 mg/mL");
  assert_row (page, 5, "event | pump TR20-000124 | Pump started with 7.8 mL in the reservoir");
  thecal_history_page_set_kind_shown (page, THECAL_HISTORY_RECORD, TRUE);
  ck_assert_uint_eq (n_shown (page), 8);
  /* every kind but the pump's own events, then a search */
  for (int k = 0; k < THECAL_HISTORY_N_KINDS; k++)
    thecal_history_page_set_kind_shown (page, (ThecalHistoryKind) k, k != THECAL_HISTORY_EVENT);
  ck_assert_uint_eq (n_shown (page), 8);
  assert_text (page, "count", "8 of 14 entries shown");
  screenshot (GTK_WIDGET (page), "history-filtered.png");
  thecal_history_page_set_search (page, "PAULA");
  ck_assert_uint_eq (n_shown (page), 1);
  assert_row (page, 0, "refill | demo | 18 mL of morphine 50 mg/mL added; 1.8 mL aspirated of 1.8 mL expected; verified by paula");
  thecal_history_page_set_search (page, "soft limit overridden"); /* in the session's details */
  ck_assert_uint_eq (n_shown (page), 1);
  assert_row (page, 0, "session | demo | Pump TR20-000124 programmed, confirmed: concentration 25 mg/mL → 50 mg/mL");
  thecal_history_page_set_search (page, "no such thing");
  ck_assert_uint_eq (n_shown (page), 0);
  thecal_history_page_set_search (page, "");
  thecal_history_page_set_kind_shown (page, THECAL_HISTORY_EVENT, TRUE);
  ck_assert_uint_eq (n_shown (page), 14);

  /* the chart: 5 mg/day of 25 mg/mL from the pump's start, 5 mg/day of morphine 50 mg/mL after the
   * refill (the record's version and the pump's log of it are one step), the refill marked */
  {
    ThecalDoseHistoryChart *chart = thecal_history_page_get_chart (page);
    const ThecalDoseStep *first, *second;
    g_autofree char *start = NULL;

    ck_assert_uint_eq (thecal_dose_history_chart_get_n_steps (chart), 2);
    first = thecal_dose_history_chart_get_step (chart, 0);
    second = thecal_dose_history_chart_get_step (chart, 1);
    start = thecal_format_instant (first->at_ms);
    ck_assert_str_eq (start, "2025-12-06 09:00");
    ck_assert_int_eq (first->dose_ng_per_day, 5000000);
    ck_assert_int_eq (first->concentration_ng_per_ml, 25000000);
    ck_assert (first->from_pump_log);
    ck_assert_int_eq (second->dose_ng_per_day, 5000000);
    ck_assert_int_eq (second->concentration_ng_per_ml, 50000000);
    ck_assert_str_eq (second->drug_id, "morphine");
    ck_assert_int_gt (second->at_ms, first->at_ms);
    ck_assert_uint_eq (thecal_dose_history_chart_get_n_refills (chart), 1);
    ck_assert_uint_eq (thecal_dose_history_chart_get_n_unresolved (chart), 0);
    ck_assert_msg (g_str_has_prefix (thecal_dose_history_chart_get_description (chart), "From 2025-12-06 09:00: 5 mg/day (25 mg/mL)\n"
                                                                                        "From 2026-01-05 09:00: 5 mg/day (morphine 50 mg/mL)\n"
                                                                                        "Refill 2026-01-05 09:00: 18 mL added\n"),
                   "%s", thecal_dose_history_chart_get_description (chart));
  }

  /* the session report: its text, the PDF (direct and through GtkPrintOperation), a PNG */
  {
    g_autoptr (ThecalReport) report = thecal_history_page_build_report (page);
    g_autofree char *text = thecal_report_dup_text (report);
    g_autofree char *pdf = g_build_filename (tmp_dir, "report.pdf", NULL);
    g_autofree char *printed = g_build_filename (tmp_dir, "report-printed.pdf", NULL);
    g_autoptr (GError) error = NULL;
    const char *lines[] = {
      "Session report: ROE, Richard\n",
      "by Demo Clinician (demo)",
      "MRN DEMO-0002 · born 1958-09-30 · opioid-tolerant\n",
      "TR20-000124 (TR-20), implanted 2025-06-01, catheter 45.5 cm\n",
      "reservoir 18 mL of 20 mL; battery 68.73 %",
      "Before today (no version in the record; the pump's log): 5 mg/day at 25 mg/mL\n",
      "(confirmed; reason: Refill with a drug or concentration change",
      "concentration 25 mg/mL → 50 mg/mL (soft limit overridden: Fewer refills: agreed with the pain team)\n",
      "Now, as read from the pump: morphine 50 mg/mL, Continuous 5 mg/day; daily dose 5 mg/day (0.1 mL/day)\n",
      "pump TR20-000124: 18 mL of morphine 50 mg/mL added (lot MO-2611-B, expires 2030-06-30); 1.8 mL aspirated of 1.8 mL expected; by "
      "demo, verified by paula\n",
      "Findings\nNo finding.\n",
      "Alarms\nNo active alarm at the pump.\n",
      ": Low reservoir alarm raised (reservoir estimate 2 mL)\n",
      ": Low reservoir alarm cleared\n",
      "Boluses today\n",
      " by demo: Bolus on pump TR20-000124, confirmed: A bridge bolus of 0.3685 mL",
      "Audit trail\nAudit chain verified: ",
    };

    for (gsize i = 0; i < G_N_ELEMENTS (lines); i++)
      ck_assert_msg (strstr (text, lines[i]) != NULL, "the report has no “%s”:\n%s", lines[i], text);
    ck_assert_int_eq (thecal_report_count_pages (report), 2); /* the text, the dose chart, then the rest */
    ck_assert_uint_eq (report->steps->len, 2);
    ck_assert_uint_eq (report->refills->len, 1);

    ck_assert_msg (thecal_history_page_export_pdf (page, pdf, &error), "%s", error != NULL ? error->message : "");
    assert_pdf (pdf, "ROE, Richard", "5 mg/day (0.1 mL/day)");
    ck_assert_msg (thecal_report_print_to_file (report, printed, &error), "%s", error != NULL ? error->message : "");
    print_dialog_cancelled (page);
    assert_pdf (printed, "ROE, Richard", "18 mL of morphine 50 mg/mL added");
    if (g_getenv ("THECAL_SCREENSHOT_DIR") != NULL)
      {
        g_autofree char *png = g_build_filename (g_getenv ("THECAL_SCREENSHOT_DIR"), "report.png", NULL);

        g_mkdir_with_parents (g_getenv ("THECAL_SCREENSHOT_DIR"), 0755);
        g_autofree char *png2 = g_build_filename (g_getenv ("THECAL_SCREENSHOT_DIR"), "report-page-2.png", NULL);

        ck_assert_msg (thecal_report_export_png (report, png, 0, 1.5, &error), "%s", error != NULL ? error->message : "");
        ck_assert_msg (thecal_report_export_png (report, png2, 1, 1.5, &error), "%s", error != NULL ? error->message : "");
      }
  }
  gtk_window_destroy (GTK_WINDOW (page));
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* A refill whose answer was lost (the pump out of range): UNCERTAIN, then settled FAILED by the
 * next connection. The record holds no refill, and the history shows the attempt. */
START_TEST (test_history_refill_not_done)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalOverviewPage *overview = connect_low_reservoir (window);
  ThecalRefillWizard *wizard = THECAL_REFILL_WIZARD (thecal_overview_page_open_refill (overview));
  ThecalLoopbackTransport *loopback = thecal_demo_link_get_loopback (thecal_overview_page_get_demo_link (overview));
  ThecalProgrammingOutcome outcome = THECAL_OUTCOME_PENDING;
  ThecalHistoryPage *page;

  thecal_refill_wizard_set_field (wizard, "aspirated", "1.8 mL");
  thecal_refill_wizard_next (wizard);
  thecal_refill_wizard_set_field (wizard, "lot", "MO-2611-A");
  thecal_refill_wizard_set_field (wizard, "expiry", "2030-06-30");
  thecal_refill_wizard_set_field (wizard, "added", "18 mL");
  thecal_refill_wizard_next (wizard);
  thecal_refill_wizard_set_field (wizard, "verifier_name", THECAL_DEMO_PHYSICIAN_NAME);
  thecal_refill_wizard_set_field (wizard, "verifier_password", THECAL_DEMO_PHYSICIAN_PASSWORD);
  thecal_refill_wizard_next (wizard);
  ck_assert_str_eq (thecal_refill_wizard_get_page (wizard), "summary");
  thecal_loopback_transport_set_pump_in_range (loopback, FALSE);
  thecal_refill_wizard_next (wizard); /* Refill */
  ck_assert (wait_for (wizard_finished, wizard));
  ck_assert (thecal_refill_wizard_get_finished (wizard, &outcome));
  ck_assert_int_eq (outcome, THECAL_OUTCOME_UNCERTAIN);
  ck_assert (wait_for (overview_connected, overview));
  ck_assert_ptr_null (thecal_overview_page_get_visit (overview));

  /* the history without a connection: the write still UNCERTAIN */
  page = open_history (overview);
  thecal_history_page_set_search (page, "Refill of pump");
  ck_assert_uint_eq (n_shown (page), 1);
  assert_row (page, 0, "refill | demo | Refill of pump TR20-000124 not confirmed: UNCERTAIN");
  gtk_window_destroy (GTK_WINDOW (page));

  /* a new connection settles it */
  thecal_overview_page_connect (overview);
  ck_assert (wait_for (overview_connected, overview));
  ck_assert_ptr_nonnull (thecal_overview_page_get_visit (overview));
  page = open_history (overview);
  for (int k = 0; k < THECAL_HISTORY_N_KINDS; k++)
    thecal_history_page_set_kind_shown (page, (ThecalHistoryKind) k, k == THECAL_HISTORY_REFILL);
  ck_assert_uint_eq (n_shown (page), 1);
  assert_row (page, 0, "refill | demo | Refill of pump TR20-000124 not done: FAILED");
  {
    g_autoptr (ThecalHistoryEntry) e = g_list_model_get_item (thecal_history_page_get_shown (page), 0);
    g_autoptr (ThecalReport) report = thecal_history_page_build_report (page);
    g_autofree char *text = thecal_report_dup_text (report);

    ck_assert_msg (strstr (thecal_history_entry_get_detail (e), "Outcome FAILED at ") != NULL, "%s", thecal_history_entry_get_detail (e));
    ck_assert_msg (strstr (text, "Refills today\n") != NULL && strstr (text, " by demo: Refill of pump TR20-000124 not done: FAILED (") != NULL,
                   "%s", text);
    ck_assert_msg (strstr (text, "No bolus asked for today.\n") != NULL, "%s", text);
  }
  gtk_window_destroy (GTK_WINDOW (page));
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* An administrator has no clinical data: the workflow refuses [history.read] and the window says
 * so; the audit chain may still be verified ([audit.verify]). */
START_TEST (test_history_refused)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecordSession) admin = thecal_record_session_login_sync (record, THECAL_DEMO_ADMIN_NAME, THECAL_DEMO_ADMIN_PASSWORD, NULL, &error);
  ThecalHistoryPage *page;

  ck_assert_msg (admin != NULL, "%s", error != NULL ? error->message : "");
  page = thecal_history_page_new (admin, "DEMO-0002", NULL, models, library);
  gtk_window_present (GTK_WINDOW (page));
  ck_assert (wait_for (history_loaded, page));
  ck_assert_ptr_nonnull (thecal_history_page_get_error (page));
  ck_assert_msg (strstr (thecal_history_page_get_error (page), "history") != NULL, "%s", thecal_history_page_get_error (page));
  ck_assert_uint_eq (n_shown (page), 0);
  ck_assert_ptr_null (thecal_history_page_build_report (page));
  ck_assert (!thecal_history_page_export_pdf (page, "/nonexistent/report.pdf", &error));
  assert_audit_intact (page);
  screenshot (GTK_WIDGET (page), "history-refused.png");
  /* Escape's action closes (destroys) the window */
  g_object_ref (page);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (page), "window.close", NULL));
  ck_assert (!gtk_widget_get_visible (GTK_WIDGET (page)));
  g_object_unref (page);
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* ---- the timeline and the chart from a record made by hand: every kind of entry ------------- */

#define DAY_MS INT64_C (86400000)
#define T0 INT64_C (1767225600000) /* 2026-01-01 00:00 */

static ThecalPumpEvent *
event (gint64 sequence, gint64 day, const char *kind, int type, int code, gint64 a0, gint64 a1, gint64 a2)
{
  ThecalPumpEvent *e = g_new0 (ThecalPumpEvent, 1);

  e->sequence = sequence;
  e->pump_time_ms = T0 + day * DAY_MS;
  e->kind = g_strdup (kind);
  e->detail = type < 0 ? g_strdup ("not json") : g_strdup_printf ("{\"type\":%d,\"code\":%d,\"args\":[%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT "]}", type, code, a0, a1, a2);
  e->imported_utc_ms = T0 + 40 * DAY_MS;
  e->imported_by = g_strdup ("nina");
  return e;
}

static ThecalRecordedPrescription *
version (const char *serial, int number, gint64 day, gint64 dose_ng_per_day, gint64 concentration, gboolean superseded)
{
  ThecalRecordedPrescription *r = g_new0 (ThecalRecordedPrescription, 1);
  ThecalPrescription rx;
  char *json;

  thecal_prescription_init (&rx);
  g_strlcpy (rx.drug_id, "hydromorphone", sizeof rx.drug_id);
  rx.concentration_ng_per_ml = concentration;
  rx.mode = THECAL_MODE_CONTINUOUS;
  rx.continuous.basis = THECAL_BASIS_DOSE;
  rx.continuous.dose_ng_per_day = dose_ng_per_day;
  json = thecal_prescription_to_json (&rx);
  r->pump_serial = g_strdup (serial);
  r->version = number;
  r->effective_from_utc_ms = T0 + day * DAY_MS;
  r->effective_to_utc_ms = G_MAXINT64;
  r->superseded = superseded;
  r->source = THECAL_RX_SOURCE_ENTERED;
  r->json = g_strdup (json);
  r->recorded_utc_ms = r->effective_from_utc_ms;
  r->recorded_by = g_strdup ("paula");
  free (json);
  return r;
}

static ThecalPatientRecord *
record_by_hand (void)
{
  ThecalPatientRecord *r = g_new0 (ThecalPatientRecord, 1);
  ThecalPump *pump = g_new0 (ThecalPump, 1);
  ThecalPump *other = g_new0 (ThecalPump, 1);
  ThecalRefill *refill = g_new0 (ThecalRefill, 1);
  ThecalAlarmSeen *seen = g_new0 (ThecalAlarmSeen, 1);
  ThecalProgrammingSession *session = g_new0 (ThecalProgrammingSession, 1);
  ThecalProgrammingChange *change = g_new0 (ThecalProgrammingChange, 1);
  struct
  {
    const char *kind;
    int type, code;
    gint64 a0, a1, a2;
  } events[] = {
    { "engine_start", 0, 0, 20000000, 0, 10000 },
    { "prescription_set", 1, 1, 100000, 0, 2000000 }, /* 0.1 mL/day at 2 mg/mL: 0.2 mg/day */
    { "bolus_end", 3, 3, 500000, 500000, 1 },         /* a clinician bolus, completed */
    { "bolus_end", 3, 4, 100000, 250000, 0 },         /* a priming bolus, stopped */
    { "bolus_end", 3, 1, 20000, 20000, 1 },           /* a periodic bolus: a pump event */
    { "ptm_refused", 5, 2, 3600000, 4, 0 },           /* lockout */
    { "alarm_acknowledged", 8, 0, 0, 0, 0 },          /* low reservoir */
    { "clock_set", 10, 0, T0 + 5 * DAY_MS, T0 + 5 * DAY_MS + 60000, 0 },
    { "fault_injected", 11, 2, 0, T0, 0 },
    { "motor_restarted", 12, 0, 0, 0, 0 },
    { "prescription_set", 1, 0, 0, 0, 2000000 }, /* stopped */
    { "mystery", -1, 0, 0, 0, 0 },               /* unreadable detail */
  };

  r->patient = g_new0 (ThecalPatient, 1);
  r->patient->mrn = g_strdup ("H-1");
  r->patient->name = g_strdup ("HAND, Made");
  r->patient->date_of_birth = g_strdup ("1970-01-01");
  r->patient->notes = g_strdup ("");
  r->patient->recorded_by = g_strdup ("nina");
  r->patient_versions = g_ptr_array_new_with_free_func ((GDestroyNotify) thecal_patient_free);
  g_ptr_array_add (r->patient_versions, thecal_patient_copy (r->patient));
  r->pumps = g_ptr_array_new_with_free_func ((GDestroyNotify) thecal_pump_free);
  pump->serial = g_strdup ("TR20-1");
  pump->model_id = g_strdup ("TR-20");
  pump->implant_date = g_strdup ("2025-12-31");
  pump->catheter_length_mm = 455;
  pump->recorded_by = g_strdup ("nina");
  pump->recorded_utc_ms = T0;
  g_ptr_array_add (r->pumps, pump);
  other->serial = g_strdup ("XX-1");
  other->model_id = g_strdup ("no such model");
  other->implant_date = g_strdup ("2025-12-31");
  other->supersedes = 1;
  other->status = THECAL_PUMP_EXPLANTED;
  other->explant_date = g_strdup ("2026-01-02");
  other->reason = g_strdup ("infection");
  other->recorded_by = g_strdup ("paula");
  other->recorded_utc_ms = T0 + DAY_MS;
  g_ptr_array_add (r->pumps, other);
  r->prescriptions = g_ptr_array_new_with_free_func ((GDestroyNotify) thecal_recorded_prescription_free);
  g_ptr_array_add (r->prescriptions, version ("TR20-1", 1, 20, 400000, 2000000, FALSE)); /* 0.4 mg/day */
  g_ptr_array_add (r->prescriptions, version ("TR20-1", 2, 21, 900000, 2000000, TRUE));  /* corrected: never took effect */
  g_ptr_array_add (r->prescriptions, version ("TR20-1", 3, 22, 600000, 2000000, FALSE)); /* 0.6 mg/day */
  g_ptr_array_add (r->prescriptions, version ("XX-1", 1, 23, 600000, 2000000, FALSE));   /* unknown model */
  r->sessions = g_ptr_array_new_with_free_func ((GDestroyNotify) thecal_programming_session_free);
  session->pump_serial = g_strdup ("TR20-1");
  session->started_utc_ms = T0 + 22 * DAY_MS;
  session->started_by = g_strdup ("paula");
  session->reason = g_strdup ("more pain at night");
  session->changes = g_ptr_array_new_with_free_func ((GDestroyNotify) thecal_programming_change_free);
  change->field = g_strdup ("continuous.dose");
  change->old_value = g_strdup ("0.4 mg/day");
  change->new_value = g_strdup ("0.6 mg/day");
  g_ptr_array_add (session->changes, change);
  session->outcome = THECAL_OUTCOME_UNCERTAIN;
  session->outcome_utc_ms = T0 + 22 * DAY_MS;
  session->outcome_by = g_strdup ("paula");
  g_ptr_array_add (r->sessions, session);
  r->refills = g_ptr_array_new_with_free_func ((GDestroyNotify) thecal_refill_free);
  refill->pump_serial = g_strdup ("TR20-1");
  refill->performed_utc_ms = T0 + 30 * DAY_MS;
  refill->expected_nl = 5000000;
  refill->aspirated_nl = 4500000;
  refill->discrepancy_nl = 500000;
  refill->added_nl = 20000000;
  refill->drug_id = g_strdup ("hydromorphone");
  refill->concentration_ng_per_ml = 2000000;
  refill->lot = g_strdup ("H-1");
  refill->expiry_date = g_strdup ("2027-01-01");
  refill->performed_by = g_strdup ("nina");
  refill->verified_by = g_strdup ("paula");
  g_ptr_array_add (r->refills, refill);
  r->events = g_ptr_array_new_with_free_func ((GDestroyNotify) thecal_pump_event_free);
  r->event_serials = g_ptr_array_new_with_free_func (g_free);
  for (gsize i = 0; i < G_N_ELEMENTS (events); i++)
    {
      g_ptr_array_add (r->events, event ((gint64) i + 1, (gint64) i, events[i].kind, events[i].type, events[i].code, events[i].a0, events[i].a1, events[i].a2));
      g_ptr_array_add (r->event_serials, g_strdup ("TR20-1"));
    }
  r->alarms = g_ptr_array_new_with_free_func ((GDestroyNotify) thecal_alarm_seen_free);
  seen->pump_serial = g_strdup ("TR20-1");
  seen->kind = g_strdup ("motor_stall");
  seen->pump_time_ms = G_MININT64;
  seen->seen_utc_ms = T0 + 31 * DAY_MS;
  seen->seen_by = g_strdup ("paula");
  g_ptr_array_add (r->alarms, seen);
  return r;
}

START_TEST (test_history_every_kind)
{
  g_autoptr (ThecalPatientRecord) record = record_by_hand ();
  g_autoptr (GListStore) store = thecal_history_build (record, NULL, library);
  g_autoptr (GArray) steps = g_array_new (FALSE, TRUE, sizeof (ThecalDoseStep));
  g_autoptr (GArray) refills = g_array_new (FALSE, TRUE, sizeof (ThecalDoseRefillMark));
  const char *expected[] = {
    "alarm | paula | Motor stall alarm seen and acknowledged on pump TR20-1",
    "refill | nina | 20 mL of HYDROmorphone 2 mg/mL added; 4.5 mL aspirated of 5 mL expected; verified by paula",
    "prescription | paula | First recorded: HYDROmorphone 2 mg/mL, Continuous 600 mcg/day", /* XX-1 */
    "session | paula | Pump TR20-1 programmed, UNCERTAIN: continuous.dose 0.4 mg/day → 0.6 mg/day",
    /* version 3 follows version 1: version 2 was corrected */
    "prescription | paula | HYDROmorphone 2 mg/mL, Continuous 400 mcg/day → HYDROmorphone 2 mg/mL, Continuous 600 mcg/day",
    "prescription | paula | HYDROmorphone 2 mg/mL, Continuous 400 mcg/day → HYDROmorphone 2 mg/mL, Continuous 900 mcg/day",
    "prescription | paula | First recorded: HYDROmorphone 2 mg/mL, Continuous 400 mcg/day",
    "event | pump TR20-1 | Pump event mystery",
    "event | pump TR20-1 | Pump prescription set: Stopped, 0 mcg/day (0 mL/day at 2 mg/mL)",
    "event | pump TR20-1 | Motor restarted after a transient stall",
    "event | pump TR20-1 | Simulated fault: motor_stall",
    "event | pump TR20-1 | Pump clock set: 2026-01-06 00:00 → 2026-01-06 00:01",
    "alarm | pump TR20-1 | Low reservoir alarm acknowledged at the pump",
    "bolus | pump TR20-1 | Patient (PTM) bolus refused: the lockout interval had not passed",
    "event | pump TR20-1 | Periodic bolus: 0.02 mL delivered of 0.02 mL planned", /* scheduled therapy, not a bolus row */
    "bolus | pump TR20-1 | Priming bolus stopped: 0.1 mL delivered of 0.25 mL planned",
    "bolus | pump TR20-1 | Clinician bolus: 0.5 mL delivered of 0.5 mL planned",
    "event | pump TR20-1 | Pump prescription set: Continuous, 200 mcg/day (0.1 mL/day at 2 mg/mL)",
    "record | paula | Pump XX-1 explanted on 2026-01-02 (infection)",
    "event | pump TR20-1 | Pump started with 20 mL in the reservoir",
    "record | nina | Pump TR20-1 (TR-20) registered, implanted 2025-12-31, catheter 45.5 cm",
    "record | nina | Patient registered: HAND, Made, MRN H-1, born 1970-01-01",
  };
  guint unresolved;
  gint64 end_ms = 0;

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (store)) && i < G_N_ELEMENTS (expected); i++)
    {
      g_autoptr (ThecalHistoryEntry) e = g_list_model_get_item (G_LIST_MODEL (store), i);
      g_autofree char *text = g_strdup_printf ("%s | %s | %s", thecal_history_kind_name (thecal_history_entry_get_kind (e)),
                                               thecal_history_entry_get_who (e), thecal_history_entry_get_summary (e));

      ck_assert_msg (g_strcmp0 (text, expected[i]) == 0, "row %u: “%s”, expected “%s”", i, text, expected[i]);
    }
  ck_assert_uint_eq (g_list_model_get_n_items (G_LIST_MODEL (store)), G_N_ELEMENTS (expected));

  /* the chart: the pump's 0.2 mg/day, stopped, then the record's 0.4 and 0.6 mg/day (the corrected
   * 0.9 never took effect; the pump of an unknown model cannot be resolved) */
  unresolved = thecal_dose_history_compute (record, models, steps, refills, &end_ms);
  ck_assert_uint_eq (unresolved, 1);
  ck_assert_uint_eq (steps->len, 4);
  ck_assert_int_eq (g_array_index (steps, ThecalDoseStep, 0).dose_ng_per_day, 200000);
  ck_assert_int_eq (g_array_index (steps, ThecalDoseStep, 0).at_ms, T0 + 1 * DAY_MS);
  ck_assert_int_eq (g_array_index (steps, ThecalDoseStep, 1).dose_ng_per_day, 0);
  ck_assert_int_eq (g_array_index (steps, ThecalDoseStep, 1).at_ms, T0 + 10 * DAY_MS);
  ck_assert_int_eq (g_array_index (steps, ThecalDoseStep, 2).dose_ng_per_day, 400000);
  ck_assert_str_eq (g_array_index (steps, ThecalDoseStep, 2).drug_id, "hydromorphone");
  ck_assert_int_eq (g_array_index (steps, ThecalDoseStep, 3).dose_ng_per_day, 600000);
  ck_assert_int_eq (g_array_index (steps, ThecalDoseStep, 3).at_ms, T0 + 22 * DAY_MS);
  ck_assert_uint_eq (refills->len, 1);
  ck_assert_int_eq (g_array_index (refills, ThecalDoseRefillMark, 0).added_nl, 20000000);
  ck_assert_int_eq (end_ms, T0 + 30 * DAY_MS);
}
END_TEST

/* A long report breaks into A4 pages, each with its footer; the PDF has as many pages. */
START_TEST (test_report_pages)
{
  g_autoptr (ThecalReport) report = g_new0 (ThecalReport, 1);
  ThecalReportSection *section = g_new0 (ThecalReportSection, 1);
  g_autofree char *pdf = g_build_filename (tmp_dir, "long.pdf", NULL);
  g_autofree char *pdfinfo = g_find_program_in_path ("pdfinfo");
  g_autoptr (GError) error = NULL;
  int pages;

  report->title = g_strdup ("Session report: LONG, Lisa");
  report->generated = g_strdup ("Printed today");
  report->sections = g_ptr_array_new_with_free_func ((GDestroyNotify) thecal_report_section_free);
  section->heading = g_strdup ("Refills today");
  section->lines = g_ptr_array_new_with_free_func (g_free);
  for (int i = 0; i < 120; i++)
    g_ptr_array_add (section->lines, g_strdup_printf ("Refill %d: 20 mL of morphine 25 mg/mL added; 1.8 mL aspirated of 1.8 mL expected; by nina, "
                                                      "verified by paula",
                                                      i + 1));
  g_ptr_array_add (report->sections, section);
  pages = thecal_report_count_pages (report);
  ck_assert_int_ge (pages, 3);
  ck_assert_msg (thecal_report_export_pdf (report, pdf, &error), "%s", error != NULL ? error->message : "");
  assert_pdf (pdf, "Refill 120: 20 mL", "page 1 of");
  if (pdfinfo != NULL)
    {
      const char *argv[] = { pdfinfo, pdf, NULL };
      g_autofree char *out = NULL;
      const char *line;
      int status = 0;

      ck_assert (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status, &error));
      line = strstr (out, "\nPages:");
      ck_assert_ptr_nonnull (line);
      ck_assert_int_eq (g_ascii_strtoll (line + strlen ("\nPages:"), NULL, 10), pages);
    }
  {
    g_autofree char *last = g_strdup_printf ("page %d of %d", pages, pages);

    assert_pdf (pdf, last, "Refill 1: 20 mL");
  }
}
END_TEST

/* Someone edits the record behind Thecal's back with the sqlite3 shell: the history says so,
 * clearly, naming the first entry altered. */
START_TEST (test_history_audit_broken)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalOverviewPage *overview = thecal_window_get_overview_page (window);
  g_autofree char *sqlite3 = g_find_program_in_path ("sqlite3");
  g_autofree char *db = g_build_filename (tmp_dir, "demo.sqlite", NULL);
  g_autofree char *audit = NULL;
  g_autoptr (GError) error = NULL;
  ThecalHistoryPage *page;
  gboolean intact = TRUE;
  int status = 0;

  if (sqlite3 == NULL)
    {
      g_print ("# sqlite3 is not installed: the broken chain is not shown\n");
      gtk_window_destroy (GTK_WINDOW (window));
      return;
    }
  {
    const char *argv[] = { sqlite3, db, "DROP TRIGGER audit_append_only_update; UPDATE audit SET reason = 'edited' WHERE seq = 4", NULL };

    ck_assert_msg (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, &error), "%s",
                   error != NULL ? error->message : "");
    ck_assert_int_eq (status, 0);
  }
  thecal_sign_in_page_submit (thecal_window_get_sign_in_page (window));
  ck_assert (wait_for (signed_in, window));
  ck_assert (wait_for (list_has_six, window));
  thecal_patients_page_select (thecal_window_get_patients_page (window), 1);
  page = open_history (overview);
  ck_assert (thecal_history_page_get_audit_done (page, &intact));
  ck_assert (!intact);
  audit = thecal_history_page_dup_text (page, "audit");
  ck_assert_msg (g_str_has_prefix (audit, "AUDIT CHAIN BROKEN at entry 4 (altered): Entry 4 was altered"), "audit: %s", audit);
  ck_assert_msg (g_str_has_suffix (audit, "Do not rely on this record; report it."), "audit: %s", audit);
  /* the history itself is still shown, and the report carries the same line */
  ck_assert_uint_eq (n_shown (page), 2);
  {
    g_autoptr (ThecalReport) report = thecal_history_page_build_report (page);
    g_autofree char *text = thecal_report_dup_text (report);

    ck_assert_msg (strstr (text, "Audit trail\nAUDIT CHAIN BROKEN at entry 4") != NULL, "%s", text);
  }
  screenshot (GTK_WIDGET (page), "history-audit-broken.png");
  gtk_window_destroy (GTK_WINDOW (page));
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* A patient with years of history: 1 000 pump events, every one listed (the view makes rows only
 * for what is on screen). */
START_TEST (test_history_thousand_events)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  g_autoptr (ThecalRecordSession) session = import_thousand_events (record);
  g_autoptr (GError) error = NULL;
  ThecalHistoryPage *page;
  gint64 start;

  start = g_get_monotonic_time ();
  page = thecal_history_page_new (session, "DEMO-0002", NULL, models, library);
  gtk_window_present (GTK_WINDOW (page));
  ck_assert (wait_for (history_loaded, page));
  /* a figure for people, not a timed assertion (DESIGN.md: bench/ measures) */
  g_print ("# 1 000 events read and listed in %" G_GINT64_FORMAT " ms\n", (g_get_monotonic_time () - start) / 1000);
  ck_assert_uint_eq (n_shown (page), 1002);
  {
    /* what the app's worker thread does with the answer: build the entries (a figure, not
     * asserted) */
    g_autoptr (ThecalPatientRecord) whole = thecal_record_session_get_patient_record_sync (session, "DEMO-0002", NULL, &error);
    g_autoptr (GListStore) store = NULL;
    gint64 built;

    ck_assert_msg (whole != NULL, "%s", error != NULL ? error->message : "");
    built = g_get_monotonic_time ();
    store = thecal_history_build (whole, NULL, library);
    g_print ("# the 1 002 entries built in %" G_GINT64_FORMAT " µs\n", g_get_monotonic_time () - built);
    ck_assert_uint_eq (g_list_model_get_n_items (G_LIST_MODEL (store)), 1002);
  }
  /* the registrations (the record's clock, today) are newer than the pump's log of 2023–2024 */
  assert_row (page, 0, "record | demo | Pump TR20-000124 (TR-20) registered, implanted 2025-06-01, catheter 45.5 cm");
  assert_row (page, 2, "bolus | pump TR20-000124 | Patient (PTM) bolus granted: 0.05 mL (4 in 24 h)");
  assert_row (page, 1001, "bolus | pump TR20-000124 | Patient (PTM) bolus granted: 0.05 mL (1 in 24 h)");
  thecal_history_page_set_kind_shown (page, THECAL_HISTORY_BOLUS, FALSE);
  ck_assert_uint_eq (n_shown (page), 2);
  gtk_window_destroy (GTK_WINDOW (page));
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

static Suite *
history_suite (void)
{
  Suite *suite = suite_create ("history");

  THECAL_TEST_TCASE (suite, "entries", setup, teardown, 60, test_history_every_kind, test_report_pages);
  THECAL_TEST_TCASE (suite, "history", setup, teardown, 120, test_history_record_only, test_history_after_refill, test_history_refill_not_done, test_history_refused, test_history_audit_broken,
                     test_history_thousand_events);
  return suite;
}

int
main (void)
{
  return app_test_main (history_suite ());
}
