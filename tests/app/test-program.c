/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-program.c: the prescription editor (ThecalProgramDialog, docs/gui.md "Program") in process,
 * under Xvfb, on the demo record and its simulated pumps, through the real overview:
 *
 *  - the editor filled in with what the pump runs; bad text named next to its field with the form
 *    expected; the dose core's refusal (a rate above the pump's maximum) next to the field its
 *    path names; a soft limit (a step increase above 30 %) as a warning; boundary values of the
 *    parsers (times of day, amounts finer than the unit, the PTM count) and of the tables;
 *  - a change confirmed: the review's diff (exact old → new strings), the dates, the chart's
 *    points, the progress steps, CONFIRMED, and the overview showing the new therapy;
 *  - a flex schedule (KOE, Kim: baclofen, two steps) given a third step with a soft-limit
 *    override: Program insensitive until the reason has 10 characters, then confirmed;
 *  - a hard-limit refusal on the review page: Program stays insensitive;
 *  - a nurse refused by the workflow (prescription.change), nothing written;
 *  - FAILED: the pump leaves the wand's range at STAGE: unchanged, not blocked;
 *  - UNCERTAIN: the pump leaves the wand's range after COMMIT (the read-back is lost): the visit
 *    blocks further changes (a new editor says so and cannot go on), then "Read the Pump Again"
 *    with the pump back in range resolves it CONFIRMED and the overview shows the new therapy.
 *
 * Screenshots: program-edit.png, program-findings.png, program-flex.png, program-review.png,
 * program-progress.png, program-confirmed.png, program-uncertain.png.
 */
#include "config.h"

#include "app-fixture.h"

#include <adwaita.h>
#include <string.h>

#include "thecal-overview-page.h"
#include "thecal-program-dialog.h"
#include "thecal-projection-chart.h"

/* ---- helpers ---------------------------------------------------------------------------------- */

/* Signs in as the demo user and connects to the demo patient at @index of the list (@mrn). */
static ThecalOverviewPage *
connect_patient (ThecalWindow *window, guint index, const char *mrn)
{
  ThecalPatientsPage *patients = thecal_window_get_patients_page (window);
  ThecalOverviewPage *overview = thecal_window_get_overview_page (window);

  thecal_sign_in_page_submit (thecal_window_get_sign_in_page (window)); /* the demo user, as offered */
  ck_assert (wait_for (signed_in, window));
  ck_assert (wait_for (list_has_six, window));
  thecal_patients_page_select (patients, index);
  ck_assert_str_eq (thecal_overview_page_get_mrn (overview), mrn);
  ck_assert_ptr_null (thecal_overview_page_open_program (overview)); /* not connected yet */
  thecal_overview_page_connect (overview);
  ck_assert (wait_for (overview_connected, overview));
  ck_assert_ptr_nonnull (thecal_overview_page_get_visit (overview));
  return overview;
}

static ThecalProgramDialog *
open_dialog (ThecalOverviewPage *overview)
{
  ThecalProgramDialog *dialog = THECAL_PROGRAM_DIALOG (thecal_overview_page_open_program (overview));

  ck_assert_ptr_nonnull (dialog);
  gtk_window_set_default_size (GTK_WINDOW (dialog), 800, 900);
  ck_assert_str_eq (thecal_program_dialog_get_page (dialog), "edit");
  return dialog;
}

static gboolean
check_done (gpointer dialog)
{
  return !thecal_program_dialog_get_check_pending (dialog);
}

static gboolean
dialog_finished (gpointer dialog)
{
  return thecal_program_dialog_get_finished (dialog, NULL) && !thecal_program_dialog_get_busy (dialog);
}

static gboolean
progress_at_commit (gpointer dialog)
{
  g_autofree char *progress = thecal_program_dialog_dup_text (dialog, "progress", NULL);

  return strstr (progress, "→ Commit") != NULL || thecal_program_dialog_get_finished (dialog, NULL);
}

static gboolean
dialog_idle (gpointer dialog)
{
  return !thecal_program_dialog_get_busy (dialog);
}

/* Types into a field and waits for the debounced check. */
static void
type (ThecalProgramDialog *dialog, const char *field, const char *text)
{
  ck_assert_msg (thecal_program_dialog_set_text (dialog, field, text), "no field %s", field);
  ck_assert (thecal_program_dialog_get_check_pending (dialog)); /* debounced, not at once */
  ck_assert (wait_for (check_done, dialog));
}

static char *
text_of (ThecalProgramDialog *dialog, const char *key, const char **css_class)
{
  char *text = thecal_program_dialog_dup_text (dialog, key, css_class);

  ck_assert_msg (text != NULL, "no text %s", key);
  return text;
}

static void
assert_text_has (ThecalProgramDialog *dialog, const char *key, const char *needle, const char *css_class)
{
  const char *css = NULL;
  g_autofree char *text = text_of (dialog, key, &css);

  ck_assert_msg (strstr (text, needle) != NULL, "%s: \"%s\" lacks \"%s\"", key, text, needle);
  if (css_class != NULL)
    ck_assert_msg (g_strcmp0 (css, css_class) == 0, "%s: class \"%s\", not \"%s\" (%s)", key, css, css_class, text);
}

static void
assert_text_empty (ThecalProgramDialog *dialog, const char *key)
{
  g_autofree char *text = text_of (dialog, key, NULL);

  ck_assert_msg (text[0] == '\0', "%s: \"%s\"", key, text);
}

static void
assert_field (ThecalProgramDialog *dialog, const char *field, const char *expected)
{
  g_autofree char *text = thecal_program_dialog_dup_field (dialog, field);

  ck_assert_ptr_nonnull (text);
  ck_assert_str_eq (text, expected);
}

static void
assert_overview (ThecalOverviewPage *overview, const char *key, const char *expected)
{
  g_autofree char *text = thecal_overview_page_dup_text (overview, key);

  ck_assert_str_eq (text, expected);
}

/* ---- the editor: fields, validation next to them, boundaries ------------------------------------ */

START_TEST (test_program_editor_validation)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalOverviewPage *overview = connect_patient (window, 1, "DEMO-0002");
  ThecalProgramDialog *dialog = open_dialog (overview);

  /* what the pump runs, filled in: morphine 25 mg/mL, 5 mg/day; nothing changed yet */
  ck_assert_int_eq (thecal_program_dialog_get_mode (dialog), THECAL_MODE_CONTINUOUS);
  assert_field (dialog, "continuous", "5 mg/day");
  assert_text_has (dialog, "daily", "5 mg/day (0.2 mL/day)", NULL);
  assert_text_has (dialog, "daily", "No change yet", NULL);
  ck_assert (!thecal_program_dialog_can_go_next (dialog));
  /* the dose core's standing finding: 25 mg/mL is above morphine's 20 mg/mL soft limit, next to
   * the drug and concentration (path "concentration") */
  assert_text_has (dialog, "drug", "Needs an override reason: Concentration 25 mg/mL", "warning");
  assert_text_empty (dialog, "general");
  ck_assert (thecal_overview_page_open_program (overview) == GTK_WIDGET (dialog)); /* one at a time */
  screenshot (GTK_WIDGET (dialog), "program-edit.png");

  /* bad text: the field named, the dose core's message, the form expected; nothing reviewed */
  type (dialog, "continuous", "5 mg/dya");
  assert_text_has (dialog, "continuous", "Continuous dose or rate", "error");
  assert_text_has (dialog, "continuous", "expected: a dose per day", "error");
  ck_assert (!thecal_program_dialog_can_go_next (dialog));
  type (dialog, "continuous", "");
  assert_text_has (dialog, "continuous", "Continuous dose or rate: expected a dose per day", "error");
  type (dialog, "continuous", "5.5.5 mg/day");
  assert_text_has (dialog, "continuous", "Continuous dose or rate", "error");
  /* finer than a nanolitre a day: refused, never rounded */
  type (dialog, "continuous", "0.0000001 mL/day");
  assert_text_has (dialog, "continuous", "Continuous dose or rate", "error");
  ck_assert (!thecal_program_dialog_can_go_next (dialog));

  /* a hard limit of the dose core next to the field its path names (continuous.rate) */
  type (dialog, "continuous", "25 mL/day");
  assert_text_has (dialog, "continuous", "Refused:", "error");
  assert_text_has (dialog, "continuous", "24 mL/day", "error");
  assert_text_has (dialog, "daily", "625 mg/day (25 mL/day)", NULL);
  screenshot (GTK_WIDGET (dialog), "program-findings.png");
  /* the lowest programmable rate is accepted, below it refused */
  type (dialog, "continuous", "0.048 mL/day");
  assert_text_has (dialog, "continuous", "", NULL);
  {
    const char *css = NULL;
    g_autofree char *text = text_of (dialog, "continuous", &css);

    ck_assert_msg (g_strcmp0 (css, "error") != 0, "0.048 mL/day: %s", text);
  }
  type (dialog, "continuous", "0.047 mL/day");
  assert_text_has (dialog, "continuous", "Refused:", "error");

  /* a soft limit: 5 → 7 mg/day is +40 %, above the 30 % per-step limit: on the daily dose */
  type (dialog, "continuous", "7 mg/day");
  assert_text_empty (dialog, "continuous");
  assert_text_has (dialog, "general", "Needs an override reason:", "warning");
  assert_text_has (dialog, "general", "30 %", "warning");
  assert_text_has (dialog, "daily", "7 mg/day (0.28 mL/day)", NULL);
  ck_assert (thecal_program_dialog_can_go_next (dialog));

  /* within the step limit: no message but the concentration's */
  type (dialog, "continuous", "6 mg/day");
  assert_text_empty (dialog, "continuous");
  assert_text_empty (dialog, "general");
  assert_text_has (dialog, "drug", "20 mg/mL", "warning");
  ck_assert (thecal_program_dialog_can_go_next (dialog));

  /* PTM: the count is a whole number from 1 to 1000, exactly */
  thecal_program_dialog_set_ptm_enabled (dialog, TRUE);
  ck_assert (wait_for (check_done, dialog));
  assert_text_has (dialog, "ptm.dose", "PTM bolus dose: expected", "error");
  assert_text_has (dialog, "ptm.max_per_24h", "PTM maximum per 24 h", "error");
  ck_assert (!thecal_program_dialog_can_go_next (dialog));
  type (dialog, "ptm.dose", "0.1 mg");
  type (dialog, "ptm.duration", "10 min");
  type (dialog, "ptm.lockout", "3 h");
  {
    const char *bad[] = { "0", "1001", "4.5", "-1", "four", "4 boluses" };

    for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        type (dialog, "ptm.max_per_24h", bad[i]);
        assert_text_has (dialog, "ptm.max_per_24h", "is not a whole number from 1 to 1000", "error");
      }
  }
  /* 1000 parses; the dose core then refuses it next to the field: a 3 h lockout allows 8 */
  type (dialog, "ptm.max_per_24h", "1000");
  assert_text_has (dialog, "ptm.max_per_24h", "Refused:", "error");
  assert_text_has (dialog, "ptm.max_per_24h", "1 to 8", "error");
  type (dialog, "ptm.max_per_24h", "8");
  assert_text_empty (dialog, "ptm.max_per_24h");
  type (dialog, "ptm.max_per_24h", "1");
  assert_text_empty (dialog, "ptm.max_per_24h");
  assert_text_empty (dialog, "ptm.dose");
  /* the duration needs a unit */
  type (dialog, "ptm.lockout", "3");
  assert_text_has (dialog, "ptm.lockout", "PTM lockout", "error");
  thecal_program_dialog_set_ptm_enabled (dialog, FALSE);
  ck_assert (wait_for (check_done, dialog));
  assert_text_empty (dialog, "ptm.lockout");

  /* periodic boluses: the time of day 00:00 to 23:59 */
  ck_assert (thecal_program_dialog_add_periodic_bolus (dialog));
  ck_assert (wait_for (check_done, dialog));
  type (dialog, "periodic_boluses[0].start", "24:00");
  type (dialog, "periodic_boluses[0].dose", "0.5 mg");
  type (dialog, "periodic_boluses[0].duration", "30 min");
  assert_text_has (dialog, "periodic_boluses[0]", "Periodic bolus 1 start", "error");
  assert_text_has (dialog, "periodic_boluses[0]", "HH:MM", "error");
  type (dialog, "periodic_boluses[0].start", "23:59");
  {
    const char *css = NULL;
    g_autofree char *text = text_of (dialog, "periodic_boluses[0]", &css);

    ck_assert_msg (g_strcmp0 (css, "error") != 0, "23:59: %s", text);
  }
  type (dialog, "periodic_boluses[0].start", "00:00");
  ck_assert (thecal_program_dialog_can_go_next (dialog));
  ck_assert (thecal_program_dialog_remove_periodic_bolus (dialog, 0));
  ck_assert_uint_eq (thecal_program_dialog_get_n_periodic_boluses (dialog), 0);
  ck_assert (!thecal_program_dialog_remove_periodic_bolus (dialog, 0));
  for (int i = 0; i < THECAL_PERIODIC_BOLUSES_MAX; i++)
    ck_assert (thecal_program_dialog_add_periodic_bolus (dialog));
  ck_assert (!thecal_program_dialog_add_periodic_bolus (dialog)); /* 12 at most */

  gtk_window_destroy (GTK_WINDOW (dialog));
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* ---- a change confirmed --------------------------------------------------------------------- */

START_TEST (test_program_confirmed)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalOverviewPage *overview = connect_patient (window, 1, "DEMO-0002");
  ThecalProgramDialog *dialog = open_dialog (overview);
  ThecalProjectionChart *chart = THECAL_PROJECTION_CHART (thecal_program_dialog_get_chart (dialog));
  ThecalProgrammingOutcome outcome = THECAL_OUTCOME_PENDING;
  gint64 t = 0, v = 0, previous_v = G_MAXINT64, previous_t = G_MININT64;

  type (dialog, "continuous", "6 mg/day");
  ck_assert (thecal_program_dialog_can_go_next (dialog));
  /* live: the new dates beside the daily dose (1.8 mL at 0.24 mL/day: empty on the 8th) */
  assert_text_has (dialog, "daily", "6 mg/day (0.24 mL/day)\nLow-reservoir alarm 2026-01-05 ", NULL);
  assert_text_has (dialog, "daily", ", empty 2026-01-08 ", NULL);
  thecal_program_dialog_next (dialog);
  ck_assert_str_eq (thecal_program_dialog_get_page (dialog), "review");

  /* the diff, exactly; the daily dose and the dates old → new */
  {
    g_autofree char *changes = text_of (dialog, "changes", NULL);

    ck_assert_str_eq (changes, "Continuous dose or rate: 5 mg/day → 6 mg/day");
  }
  assert_text_has (dialog, "dates", "Daily dose: 5 mg/day → 6 mg/day", NULL);
  assert_text_has (dialog, "dates", "Daily volume: 0.2 mL/day → 0.24 mL/day", NULL);
  assert_text_has (dialog, "dates", "Low-reservoir alarm: ", NULL);
  assert_text_has (dialog, "dates", "Refill by: ", NULL);
  /* morphine 25 mg/mL is above the 20 mg/mL soft limit: every change needs an override reason */
  assert_text_has (dialog, "findings", "Needs an override reason: Concentration 25 mg/mL is above the 20 mg/mL soft limit", "warning");
  ck_assert (!thecal_program_dialog_can_go_next (dialog));
  thecal_program_dialog_set_text (dialog, "override", "Concentration as supplied by the pharmacy");
  ck_assert (thecal_program_dialog_can_go_next (dialog));

  /* the chart: both curves from the reservoir now (1.8 mL), never rising, the new one lower */
  ck_assert_uint_eq (thecal_projection_chart_get_n_points (chart, THECAL_PROJECTION_CHART_OLD), THECAL_PROJECTION_CHART_STEPS + 1);
  ck_assert_uint_eq (thecal_projection_chart_get_n_points (chart, THECAL_PROJECTION_CHART_NEW), THECAL_PROJECTION_CHART_STEPS + 1);
  ck_assert (thecal_projection_chart_get_point (chart, THECAL_PROJECTION_CHART_NEW, 0, &t, &v));
  ck_assert_int_eq (v, 1800000);
  for (guint i = 0; i <= THECAL_PROJECTION_CHART_STEPS; i++)
    {
      gint64 old_v = 0;

      ck_assert (thecal_projection_chart_get_point (chart, THECAL_PROJECTION_CHART_NEW, i, &t, &v));
      ck_assert (thecal_projection_chart_get_point (chart, THECAL_PROJECTION_CHART_OLD, i, NULL, &old_v));
      ck_assert_int_le (v, previous_v);
      ck_assert_int_gt (t, previous_t);
      ck_assert_int_le (v, old_v);
      ck_assert_int_ge (v, 0);
      previous_v = v;
      previous_t = t;
    }
  /* the horizon reaches past the empty date: the curve ends at or below the model's empty level */
  ck_assert_int_le (v, thecal_visit_get_model (thecal_overview_page_get_visit (overview))->empty_nl);
  /* 0.24 mL/day: each point is 1.8 mL less 240 000 nL × elapsed / 1 day, to the nanolitre (the
   * dose core rounds once), until the reservoir is empty */
  {
    gint64 t0 = 0;

    ck_assert (thecal_projection_chart_get_point (chart, THECAL_PROJECTION_CHART_NEW, 0, &t0, NULL));
    for (guint i = 0; i <= THECAL_PROJECTION_CHART_STEPS; i++)
      {
        gint64 expected;

        ck_assert (thecal_projection_chart_get_point (chart, THECAL_PROJECTION_CHART_NEW, i, &t, &v));
        expected = MAX (1800000 - 240000 * (t - t0) / 86400000, 0);
        ck_assert_msg (ABS (v - expected) <= 1, "point %u: %" G_GINT64_FORMAT " nL, expected %" G_GINT64_FORMAT, i, v, expected);
      }
  }
  ck_assert (!thecal_projection_chart_get_point (chart, THECAL_PROJECTION_CHART_NEW, THECAL_PROJECTION_CHART_STEPS + 1, NULL, NULL));
  {
    g_autofree char *summary = thecal_projection_chart_dup_summary (chart);

    ck_assert_msg (strstr (summary, "from 1.8 mL") != NULL && strstr (summary, "New prescription: 6 mg/day, empty ") != NULL,
                   "%s", summary);
  }
  thecal_program_dialog_set_text (dialog, "reason", "Pain not controlled in the evening");
  screenshot (GTK_WIDGET (dialog), "program-review.png");

  /* Program: the progress view, the window cannot be closed meanwhile (a slower wand, 200 ms each
   * way, so the steps can be seen) */
  thecal_loopback_transport_set_latency_ms (thecal_demo_link_get_loopback (thecal_overview_page_get_demo_link (overview)), 200);
  thecal_program_dialog_next (dialog);
  ck_assert_str_eq (thecal_program_dialog_get_page (dialog), "progress");
  ck_assert (thecal_program_dialog_get_busy (dialog));
  gtk_window_close (GTK_WINDOW (dialog));
  ck_assert (gtk_widget_get_visible (GTK_WIDGET (dialog)));
  assert_text_has (dialog, "progress", "→ Record the change as pending", NULL);
  ck_assert (wait_for (progress_at_commit, dialog));
  assert_text_has (dialog, "progress", "✓ Stage the new prescription on the pump\n✓ Read the staged copy back and compare\n→ Commit", NULL);
  screenshot_after (GTK_WIDGET (dialog), "program-progress.png", FALSE, 50);
  gtk_window_close (GTK_WINDOW (dialog));
  ck_assert (gtk_widget_get_visible (GTK_WIDGET (dialog)));
  ck_assert (wait_for (dialog_finished, dialog));
  ck_assert (thecal_program_dialog_get_finished (dialog, &outcome));
  ck_assert_int_eq (outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert_str_eq (thecal_program_dialog_get_page (dialog), "outcome");
  assert_text_has (dialog, "outcome", "Change Confirmed", NULL);
  assert_text_has (dialog, "outcome", "The pump runs: morphine 25 mg/mL, Continuous, 6 mg/day (0.24 mL/day).", NULL);
  {
    g_autofree char *progress = text_of (dialog, "progress", NULL);

    ck_assert_str_eq (progress, "✓ Record the change as pending\n"
                                "✓ Stage the new prescription on the pump\n"
                                "✓ Read the staged copy back and compare\n"
                                "✓ Commit: the pump switches to it\n"
                                "✓ Verify: read the running prescription back\n"
                                "✓ Record the outcome\n");
  }
  ck_assert (!thecal_program_dialog_can_read_again (dialog));
  screenshot (GTK_WIDGET (dialog), "program-confirmed.png");

  /* the overview reads the pump again and shows the new therapy */
  ck_assert (wait_for (overview_connected, overview));
  ck_assert_ptr_nonnull (thecal_overview_page_get_visit (overview));
  assert_overview (overview, "dose", "6 mg/day");
  assert_overview (overview, "rate", "0.24 mL/day");
  ck_assert (thecal_program_dialog_can_go_next (dialog)); /* Close */
  thecal_program_dialog_next (dialog);
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* ---- a flex schedule with a soft-limit override ------------------------------------------------ */

START_TEST (test_program_flex_override)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalOverviewPage *overview = connect_patient (window, 5, "DEMO-0006");
  ThecalProgramDialog *dialog = open_dialog (overview);
  ThecalProgrammingOutcome outcome = THECAL_OUTCOME_PENDING;

  /* baclofen 2000 mcg/mL, flex: 300 mcg/day from 06:00, 150 mcg/day from 22:00 */
  ck_assert_int_eq (thecal_program_dialog_get_mode (dialog), THECAL_MODE_FLEX);
  ck_assert_uint_eq (thecal_program_dialog_get_n_flex_steps (dialog), 2);
  assert_field (dialog, "flex_steps[0].start", "06:00");
  assert_field (dialog, "flex_steps[0].amount", "300 mcg/day");
  assert_field (dialog, "flex_steps[1].start", "22:00");
  assert_field (dialog, "flex_steps[1].amount", "150 mcg/day");
  assert_text_empty (dialog, "flex_steps[0]");

  /* a third step at noon; a rate above the pump's maximum is refused next to that row */
  ck_assert (thecal_program_dialog_add_flex_step (dialog));
  ck_assert_uint_eq (thecal_program_dialog_get_n_flex_steps (dialog), 3);
  ck_assert (wait_for (check_done, dialog));
  assert_text_has (dialog, "flex_steps[2]", "Flex step 3 start: expected", "error");
  type (dialog, "flex_steps[2].start", "12:00");
  type (dialog, "flex_steps[2].amount", "30 mL/day");
  assert_text_has (dialog, "flex_steps[2]", "Refused:", "error");
  assert_text_empty (dialog, "flex_steps[0]");
  /* steps out of order: the dose core names the step */
  type (dialog, "flex_steps[2].start", "04:00");
  type (dialog, "flex_steps[2].amount", "600 mcg/day");
  assert_text_has (dialog, "flex_steps[2]", "ascending order", "error");
  /* in order, the steps are rows 2 and 3; noon to 22:00 at 600 mcg/day: the daily dose rises
   * above the 30 % per-step limit (soft) */
  type (dialog, "flex_steps[1].start", "12:00");
  type (dialog, "flex_steps[1].amount", "600 mcg/day");
  type (dialog, "flex_steps[2].start", "22:00");
  type (dialog, "flex_steps[2].amount", "150 mcg/day");
  assert_text_empty (dialog, "flex_steps[1]");
  assert_text_empty (dialog, "flex_steps[2]");
  assert_text_has (dialog, "general", "Needs an override reason:", "warning");
  screenshot (GTK_WIDGET (dialog), "program-flex.png");
  ck_assert (thecal_program_dialog_can_go_next (dialog));
  thecal_program_dialog_next (dialog);
  ck_assert_str_eq (thecal_program_dialog_get_page (dialog), "review");
  {
    g_autofree char *changes = text_of (dialog, "changes", NULL);

    ck_assert_str_eq (changes, "Flex step 1 duration: 16 h → 6 h\n"
                               "Flex step 2 start: 22:00 → 12:00\n"
                               "Flex step 2 duration: 8 h → 10 h\n"
                               "Flex step 2 dose or rate: 150 mcg/day → 600 mcg/day\n"
                               "Flex step 3 start: none → 22:00\n"
                               "Flex step 3 duration: none → 8 h\n"
                               "Flex step 3 dose or rate: none → 150 mcg/day");
  }
  assert_text_has (dialog, "findings", "Needs an override reason:", "warning");
  /* Program waits for the override reason: at least 10 characters */
  ck_assert (!thecal_program_dialog_can_go_next (dialog));
  thecal_program_dialog_set_text (dialog, "override", "too short");
  ck_assert (!thecal_program_dialog_can_go_next (dialog));
  assert_text_has (dialog, "override", "at least 10 characters (9 so far)", NULL);
  thecal_program_dialog_set_text (dialog, "override", "          ");
  ck_assert (!thecal_program_dialog_can_go_next (dialog));
  thecal_program_dialog_set_text (dialog, "override", "Spasticity at midday, agreed with the team");
  ck_assert (thecal_program_dialog_can_go_next (dialog));
  assert_text_empty (dialog, "override");
  /* Back keeps what was typed */
  thecal_program_dialog_back (dialog);
  ck_assert_str_eq (thecal_program_dialog_get_page (dialog), "edit");
  assert_field (dialog, "flex_steps[1].amount", "600 mcg/day");
  thecal_program_dialog_next (dialog);
  ck_assert (thecal_program_dialog_can_go_next (dialog));
  thecal_program_dialog_next (dialog);
  ck_assert (wait_for (dialog_finished, dialog));
  ck_assert (thecal_program_dialog_get_finished (dialog, &outcome));
  {
    g_autofree char *text = text_of (dialog, "outcome", NULL);

    ck_assert_msg (outcome == THECAL_OUTCOME_CONFIRMED, "%s", text);
  }
  assert_text_has (dialog, "outcome", "The pump runs: baclofen 2 mg/mL, Flex schedule, 375 mcg/day (0.1875 mL/day).", NULL);
  ck_assert (wait_for (overview_connected, overview));
  assert_overview (overview, "mode", "Flex schedule, 3 steps");
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* The flex table's boundaries: 13 steps at most, one at least; a mode change. */
START_TEST (test_program_flex_table)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalOverviewPage *overview = connect_patient (window, 1, "DEMO-0002");
  ThecalProgramDialog *dialog = open_dialog (overview);

  /* continuous → flex starts as one step all day at the continuous amount: the same delivery */
  thecal_program_dialog_set_mode (dialog, THECAL_MODE_FLEX);
  ck_assert (wait_for (check_done, dialog));
  ck_assert_uint_eq (thecal_program_dialog_get_n_flex_steps (dialog), 1);
  assert_field (dialog, "flex_steps[0].start", "00:00");
  assert_field (dialog, "flex_steps[0].amount", "5 mg/day");
  assert_text_has (dialog, "daily", "5 mg/day (0.2 mL/day)", NULL);
  ck_assert (thecal_program_dialog_can_go_next (dialog));          /* the mode changes */
  ck_assert (!thecal_program_dialog_remove_flex_step (dialog, 0)); /* one step at least */
  for (int i = 1; i < THECAL_FLEX_STEPS_MAX; i++)
    {
      g_autofree char *start = g_strdup_printf ("flex_steps[%d].start", i);
      g_autofree char *amount = g_strdup_printf ("flex_steps[%d].amount", i);
      g_autofree char *at = g_strdup_printf ("%02d:00", i);

      ck_assert (thecal_program_dialog_add_flex_step (dialog));
      thecal_program_dialog_set_text (dialog, start, at);
      thecal_program_dialog_set_text (dialog, amount, "5 mg/day");
    }
  ck_assert (!thecal_program_dialog_add_flex_step (dialog)); /* 13 at most */
  ck_assert (wait_for (check_done, dialog));
  ck_assert_uint_eq (thecal_program_dialog_get_n_flex_steps (dialog), THECAL_FLEX_STEPS_MAX);
  assert_text_empty (dialog, "flex_steps[12]");
  assert_text_has (dialog, "daily", "5 mg/day (0.2 mL/day)", NULL);
  ck_assert (thecal_program_dialog_can_go_next (dialog));
  ck_assert (thecal_program_dialog_remove_flex_step (dialog, 12));
  ck_assert (!thecal_program_dialog_remove_flex_step (dialog, 12));
  ck_assert (wait_for (check_done, dialog));
  ck_assert_uint_eq (thecal_program_dialog_get_n_flex_steps (dialog), 12);
  /* a finding for step 12 is next to its row (the rows renumbered) */
  type (dialog, "flex_steps[11].amount", "30 mL/day");
  assert_text_has (dialog, "flex_steps[11]", "Refused:", "error");
  /* the minimum-rate and stopped modes need no amount */
  thecal_program_dialog_set_mode (dialog, THECAL_MODE_MINIMUM_RATE);
  ck_assert (wait_for (check_done, dialog));
  assert_text_has (dialog, "daily", "0.006 mL/day", NULL);
  thecal_program_dialog_set_mode (dialog, THECAL_MODE_STOPPED);
  ck_assert (wait_for (check_done, dialog));
  assert_text_has (dialog, "daily", "0 mcg/day", NULL);
  ck_assert (thecal_program_dialog_can_go_next (dialog));
  gtk_window_destroy (GTK_WINDOW (dialog));
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* A hard limit reaches the review page, which says so and cannot program. */
START_TEST (test_program_refused)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalOverviewPage *overview = connect_patient (window, 1, "DEMO-0002");
  ThecalProgramDialog *dialog = open_dialog (overview);

  type (dialog, "continuous", "25 mL/day");
  ck_assert (thecal_program_dialog_can_go_next (dialog));
  thecal_program_dialog_next (dialog);
  ck_assert_str_eq (thecal_program_dialog_get_page (dialog), "review");
  assert_text_has (dialog, "refusal", "cannot be programmed", NULL);
  assert_text_has (dialog, "findings", "Refused:", "error");
  ck_assert (!thecal_program_dialog_can_go_next (dialog));
  thecal_program_dialog_set_text (dialog, "override", "I really want this change");
  ck_assert (!thecal_program_dialog_can_go_next (dialog));
  thecal_program_dialog_next (dialog); /* does nothing */
  ck_assert_str_eq (thecal_program_dialog_get_page (dialog), "review");
  ck_assert (!thecal_visit_is_blocked (thecal_overview_page_get_visit (overview), NULL));
  gtk_window_destroy (GTK_WINDOW (dialog));
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* ---- UNCERTAIN, blocking, resolved by reading the pump again ------------------------------------- */

typedef struct
{
  ThecalLoopbackTransport *loopback;
  gboolean out;
} OutOfRange;

/* Runs on the main thread: the link entered a step; at the read-back the pump leaves the wand's
 * range (COMMIT was answered: the pump runs the new prescription, but nobody can tell). */
static void
leave_range_at_read_back (ThecalPumpLink *link, guint step, gpointer user_data)
{
  OutOfRange *state = user_data;

  (void) link;
  if (step == THECAL_PROGRAM_STEP_READ_BACK && !state->out)
    {
      thecal_loopback_transport_set_pump_in_range (state->loopback, FALSE);
      state->out = TRUE;
    }
}

START_TEST (test_program_uncertain)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalOverviewPage *overview = connect_patient (window, 1, "DEMO-0002");
  ThecalVisit *visit = thecal_overview_page_get_visit (overview);
  ThecalProgramDialog *dialog = open_dialog (overview);
  OutOfRange state = { thecal_demo_link_get_loopback (thecal_overview_page_get_demo_link (overview)), FALSE };
  ThecalProgrammingOutcome outcome = THECAL_OUTCOME_PENDING;
  ThecalProgramDialog *second;
  gulong handler;

  handler = g_signal_connect (thecal_visit_get_link (visit), "program-step", G_CALLBACK (leave_range_at_read_back), &state);
  type (dialog, "continuous", "6 mg/day");
  thecal_program_dialog_next (dialog);
  thecal_program_dialog_set_text (dialog, "override", "Concentration as supplied by the pharmacy");
  ck_assert (thecal_program_dialog_can_go_next (dialog));
  thecal_program_dialog_next (dialog); /* Program */
  ck_assert (wait_for (dialog_finished, dialog));
  g_signal_handler_disconnect (thecal_visit_get_link (visit), handler);
  ck_assert (state.out);
  ck_assert (thecal_program_dialog_get_finished (dialog, &outcome));
  {
    g_autofree char *text = text_of (dialog, "outcome", NULL);

    ck_assert_msg (outcome == THECAL_OUTCOME_UNCERTAIN, "%d: %s", outcome, text);
  }
  assert_text_has (dialog, "outcome", "Outcome UNCERTAIN", NULL);
  assert_text_has (dialog, "outcome", "Every change to this pump is blocked", NULL);
  assert_text_has (dialog, "progress", "✓ Commit: the pump switches to it", NULL);
  assert_text_has (dialog, "progress", "✗ Verify: read the running prescription back\n✓ Record the outcome", NULL);
  ck_assert (thecal_program_dialog_can_read_again (dialog));
  ck_assert (thecal_visit_is_blocked (visit, NULL));
  screenshot (GTK_WIDGET (dialog), "program-uncertain.png");

  /* blocked: another editor on the same visit says so and cannot go on, whatever is typed */
  second = thecal_program_dialog_new (visit, library);
  assert_text_has (second, "blocked", "UNCERTAIN", NULL);
  type (second, "continuous", "4 mg/day");
  ck_assert (!thecal_program_dialog_can_go_next (second));
  gtk_window_destroy (GTK_WINDOW (second));

  /* still out of range: reading again fails, still UNCERTAIN */
  thecal_program_dialog_read_again (dialog);
  ck_assert (thecal_program_dialog_get_busy (dialog));
  ck_assert (wait_for (dialog_idle, dialog));
  ck_assert (thecal_visit_is_blocked (visit, NULL));
  assert_text_has (dialog, "outcome_error", "Still UNCERTAIN", NULL);
  ck_assert (thecal_program_dialog_can_read_again (dialog));

  /* back in range: resolved from what the pump runs (the new prescription) */
  thecal_loopback_transport_set_pump_in_range (state.loopback, TRUE);
  thecal_program_dialog_read_again (dialog);
  ck_assert (wait_for (dialog_idle, dialog));
  ck_assert (thecal_program_dialog_get_finished (dialog, &outcome));
  {
    g_autofree char *text = text_of (dialog, "outcome", NULL);

    ck_assert_msg (outcome == THECAL_OUTCOME_CONFIRMED, "%d: %s", outcome, text);
  }
  assert_text_has (dialog, "outcome", "Resolved CONFIRMED", NULL);
  ck_assert (!thecal_visit_is_blocked (visit, NULL));
  ck_assert (!thecal_program_dialog_can_read_again (dialog));
  /* the overview reads the pump again and shows the new therapy */
  ck_assert (wait_for (overview_connected, overview));
  ck_assert_ptr_nonnull (thecal_overview_page_get_visit (overview));
  assert_overview (overview, "dose", "6 mg/day");
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* Runs on the main thread: at STAGE the pump leaves the wand's range: nothing that changes it
 * arrives, and the write fails before COMMIT. */
static void
leave_range_at_stage (ThecalPumpLink *link, guint step, gpointer user_data)
{
  OutOfRange *state = user_data;

  (void) link;
  if (step == THECAL_PROGRAM_STEP_STAGE && !state->out)
    {
      thecal_loopback_transport_set_pump_in_range (state->loopback, FALSE);
      state->out = TRUE;
    }
}

/* FAILED: the pump is unchanged, the visit not blocked; the overview reads it again. */
START_TEST (test_program_failed)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalOverviewPage *overview = connect_patient (window, 1, "DEMO-0002");
  ThecalVisit *visit = thecal_overview_page_get_visit (overview);
  ThecalProgramDialog *dialog = open_dialog (overview);
  OutOfRange state = { thecal_demo_link_get_loopback (thecal_overview_page_get_demo_link (overview)), FALSE };
  ThecalProgrammingOutcome outcome = THECAL_OUTCOME_PENDING;
  gulong handler;

  handler = g_signal_connect (thecal_visit_get_link (visit), "program-step", G_CALLBACK (leave_range_at_stage), &state);
  type (dialog, "continuous", "6 mg/day");
  thecal_program_dialog_next (dialog);
  thecal_program_dialog_set_text (dialog, "override", "Concentration as supplied by the pharmacy");
  thecal_program_dialog_next (dialog); /* Program */
  ck_assert (wait_for (dialog_finished, dialog));
  g_signal_handler_disconnect (thecal_visit_get_link (visit), handler);
  /* back in range: the overview's read after the outcome gets through on its retransmissions */
  thecal_loopback_transport_set_pump_in_range (state.loopback, TRUE);
  ck_assert (state.out);
  ck_assert (thecal_program_dialog_get_finished (dialog, &outcome));
  {
    g_autofree char *text = text_of (dialog, "outcome", NULL);

    ck_assert_msg (outcome == THECAL_OUTCOME_FAILED, "%d: %s", outcome, text);
  }
  assert_text_has (dialog, "outcome", "Not Programmed", NULL);
  assert_text_has (dialog, "outcome", "it is unchanged", NULL);
  assert_text_has (dialog, "outcome", "The pump runs: morphine 25 mg/mL, Continuous, 5 mg/day (0.2 mL/day).", NULL);
  assert_text_has (dialog, "progress", "✗ Stage the new prescription on the pump", NULL);
  ck_assert (!thecal_program_dialog_can_read_again (dialog));
  ck_assert (!thecal_visit_is_blocked (visit, NULL));
  ck_assert (wait_for (overview_connected, overview));
  ck_assert_ptr_nonnull (thecal_overview_page_get_visit (overview));
  assert_overview (overview, "dose", "5 mg/day");
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* A nurse may not change a prescription: the workflow refuses (prescription.change) and the
 * outcome page shows its message; nothing is written. */
START_TEST (test_program_by_nurse_refused)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = NULL;
  ThecalOverviewPage *overview = connect_as_nurse (&window, &record);
  ThecalProgramDialog *dialog;
  ThecalProgrammingOutcome outcome = THECAL_OUTCOME_PENDING;

  dialog = open_dialog (overview);
  type (dialog, "continuous", "6 mg/day");
  thecal_program_dialog_next (dialog);
  thecal_program_dialog_set_text (dialog, "override", "Concentration as supplied by the pharmacy");
  thecal_program_dialog_next (dialog); /* Program */
  ck_assert (wait_for (dialog_finished, dialog));
  ck_assert (thecal_program_dialog_get_finished (dialog, &outcome));
  ck_assert_int_eq (outcome, THECAL_OUTCOME_FAILED);
  assert_text_has (dialog, "outcome", "Not Programmed", NULL);
  assert_text_has (dialog, "outcome", "prescription.change", NULL);
  assert_text_has (dialog, "outcome", "Nothing was changed on the pump.", NULL);
  assert_text_has (dialog, "outcome", "5 mg/day (0.2 mL/day)", NULL);
  ck_assert (wait_for (overview_connected, overview));
  assert_overview (overview, "dose", "5 mg/day");
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* ---- the chart's horizon and points, on plans made here ------------------------------------------ */

#define DAY_MS G_GINT64_CONSTANT (86400000)

static void
continuous_plan (const ThecalPumpModel *model, ThecalMode mode, gint64 rate_nl_per_day, ThecalDeliveryPlan *plan)
{
  ThecalPrescription rx;
  ThecalDoseError error;

  thecal_prescription_init (&rx);
  g_strlcpy (rx.drug_id, "morphine", sizeof rx.drug_id);
  rx.concentration_ng_per_ml = 25000000;
  rx.mode = mode;
  rx.continuous.basis = THECAL_BASIS_RATE;
  rx.continuous.rate_nl_per_day = rate_nl_per_day;
  thecal_dose_error_clear (&error);
  ck_assert_msg (thecal_delivery_plan_resolve (&rx, model, plan, &error), "%s", error.message);
}

static gint64
horizon_ms (ThecalProjectionChart *chart, gint64 now)
{
  gint64 t = 0;

  ck_assert (thecal_projection_chart_get_point (chart, THECAL_PROJECTION_CHART_OLD, THECAL_PROJECTION_CHART_STEPS, &t, NULL));
  return t - now;
}

START_TEST (test_projection_chart_horizon)
{
  const ThecalPumpModel *model = thecal_pump_model_set_find (models, "TR-20");
  const gint64 now = 20458 * DAY_MS + 9 * 3600000; /* 2026-01-05 09:00 */
  GtkWidget *widget = g_object_ref_sink (thecal_projection_chart_new ());
  ThecalProjectionChart *chart = THECAL_PROJECTION_CHART (widget);
  ThecalDeliveryPlan slow, fast, stopped;
  ThecalProjection slow_p, fast_p, stopped_p;
  ThecalDoseError error;
  gint64 v = -1;

  ck_assert_ptr_nonnull (model);
  continuous_plan (model, THECAL_MODE_CONTINUOUS, 48000, &slow);    /* the TR-20's lowest rate: 1.2 mg/day */
  continuous_plan (model, THECAL_MODE_CONTINUOUS, 24000000, &fast); /* its highest */
  continuous_plan (model, THECAL_MODE_STOPPED, 0, &stopped);
  thecal_dose_error_clear (&error);
  ck_assert (thecal_project_reservoir (model, &slow, 20000000, now, 0, &slow_p, &error));
  ck_assert (thecal_project_reservoir (model, &fast, 1800000, now, 0, &fast_p, &error));
  ck_assert (thecal_project_reservoir (model, &stopped, 1800000, now, 0, &stopped_p, &error));

  /* nothing yet */
  ck_assert_uint_eq (thecal_projection_chart_get_n_points (chart, THECAL_PROJECTION_CHART_OLD), 0);
  {
    g_autofree char *summary = thecal_projection_chart_dup_summary (chart);

    ck_assert_str_eq (summary, "Reservoir projection: nothing to show");
  }

  /* 20 mL at 0.048 mL/day lasts more than a year: the horizon stops at 180 days; the last point
   * is 20 mL − 180 × 0.048 mL, exactly */
  ck_assert (thecal_projection_chart_set_data (chart, model, 20000000, now, &slow, &slow_p, NULL, NULL, NULL));
  ck_assert_uint_eq (thecal_projection_chart_get_n_points (chart, THECAL_PROJECTION_CHART_OLD), THECAL_PROJECTION_CHART_STEPS + 1);
  ck_assert_uint_eq (thecal_projection_chart_get_n_points (chart, THECAL_PROJECTION_CHART_NEW), 0);
  ck_assert_int_eq (horizon_ms (chart, now), 180 * DAY_MS);
  ck_assert (thecal_projection_chart_get_point (chart, THECAL_PROJECTION_CHART_OLD, THECAL_PROJECTION_CHART_STEPS, NULL, &v));
  ck_assert_int_eq (v, 20000000 - 180 * 48000);
  {
    g_autofree char *summary = thecal_projection_chart_dup_summary (chart);

    ck_assert_msg (strstr (summary, "from 20 mL") != NULL && strstr (summary, "Running prescription: 1.2 mg/day, empty ") != NULL
                       && strstr (summary, "New prescription") == NULL,
                   "%s", summary);
  }

  /* 1.8 mL at 24 mL/day is gone within the day: at least 7 days are shown, the curve at 0 */
  ck_assert (thecal_projection_chart_set_data (chart, model, 1800000, now, &fast, &fast_p, &slow, &slow_p, NULL));
  ck_assert_int_eq (horizon_ms (chart, now), 180 * DAY_MS); /* the later empty date rules: the slow one */
  ck_assert (thecal_projection_chart_set_data (chart, model, 1800000, now, &fast, &fast_p, NULL, NULL, NULL));
  ck_assert_int_eq (horizon_ms (chart, now), 7 * DAY_MS);
  ck_assert (thecal_projection_chart_get_point (chart, THECAL_PROJECTION_CHART_OLD, THECAL_PROJECTION_CHART_STEPS, NULL, &v));
  ck_assert_int_eq (v, 0);

  /* stopped: never empty; no dates known: 30 days, the volume unchanged */
  ck_assert (thecal_projection_chart_set_data (chart, model, 1800000, now, &stopped, &stopped_p, NULL, NULL, NULL));
  ck_assert_int_eq (horizon_ms (chart, now), 30 * DAY_MS);
  ck_assert (thecal_projection_chart_get_point (chart, THECAL_PROJECTION_CHART_OLD, THECAL_PROJECTION_CHART_STEPS, NULL, &v));
  ck_assert_int_eq (v, 1800000);
  ck_assert (thecal_projection_chart_set_data (chart, model, 1800000, now, &slow, NULL, NULL, NULL, NULL));
  ck_assert_int_eq (horizon_ms (chart, now), 30 * DAY_MS);
  {
    g_autofree char *summary = thecal_projection_chart_dup_summary (chart);

    ck_assert_msg (strstr (summary, "dates not known") != NULL, "%s", summary);
  }

  thecal_projection_chart_clear (chart);
  ck_assert_uint_eq (thecal_projection_chart_get_n_points (chart, THECAL_PROJECTION_CHART_OLD), 0);
  ck_assert (!thecal_projection_chart_get_point (chart, THECAL_PROJECTION_CHART_OLD, 0, NULL, NULL));
  g_object_unref (widget);
}
END_TEST

static Suite *
program_suite (void)
{
  Suite *suite = suite_create ("program");

  THECAL_TEST_TCASE (suite, "chart", setup, teardown, 60, test_projection_chart_horizon);
  THECAL_TEST_TCASE (suite, "editor", setup, teardown, 120, test_program_editor_validation, test_program_flex_table, test_program_refused);
  THECAL_TEST_TCASE (suite, "write", setup, teardown, 120, test_program_confirmed, test_program_flex_override, test_program_uncertain,
                     test_program_failed, test_program_by_nurse_refused);
  return suite;
}

int
main (void)
{
  return app_test_main (program_suite ());
}
