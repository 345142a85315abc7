/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-app.c: the GTK app in process, under Xvfb (TESTING.md "GTK 4 without a display";
 * GDK_BACKEND=x11, GTK_A11Y=none). A demo record (thecal-demo.h, MIN Argon2id limits) in a
 * temporary directory, the real window and pages:
 *
 *  - sign-in: the demo user is offered; a wrong password is refused inline; then signed in;
 *  - patients: the six demo patients listed; a search finds the low-reservoir patient;
 *  - overview: connect (demo pump, real clock) and the labels: morphine 25 mg/mL, continuous,
 *    5 mg/day, 0.2 mL/day, 1.8 mL of 20 mL, the low-reservoir alarm with what to do;
 *  - the refill wizard on the low-reservoir patient: a flagged discrepancy and its
 *    acknowledgement, field errors, the verifier, confirmed and the overview at 18 mL; a wrong
 *    verifier password; UNCERTAIN when the pump leaves the wand's range; a concentration change's
 *    review with the bridge, refused for a nurse;
 *  - the patient list pages through the record (THECAL_PATIENT_LIST_PAGE at a time);
 *  - first run: a record without users offers to create the first administrator.
 *
 * With THECAL_SCREENSHOT_DIR set, each page is saved there as a PNG (docs/gui.md).
 * Exits 77 (skip) without a display: meson runs it on an Xvfb of its own (with-xvfb.sh) when Xvfb exists.
 */
#include "config.h"

#include "app-fixture.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>

#include "thecal-dose-json.h"
#include "thecal-format.h"
#include "thecal-refill-wizard.h"

/* The whole path a clinician takes in the demo: sign in, find the patient low on drug, connect,
 * read the overview. */
START_TEST (test_demo_overview)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalSignInPage *sign_in = thecal_window_get_sign_in_page (window);
  ThecalPatientsPage *patients = thecal_window_get_patients_page (window);
  ThecalOverviewPage *overview = thecal_window_get_overview_page (window);
  ThecalPatientList *list;
  g_autoptr (ThecalPatientItem) item = NULL;
  const char *expected[][2] = {
    { "drug", "morphine" },
    { "concentration", "25 mg/mL" },
    { "mode", "Continuous" },
    { "dose", "5 mg/day" },
    { "rate", "0.2 mL/day" },
    { "reservoir", "1.8 mL of 20 mL" },
    { "battery", "68.73 %" },
    { "eri", "2030-03-21 09:00" },
  };

  /* sign-in: the demo user is offered; a wrong password is refused inline */
  screenshot (GTK_WIDGET (window), "sign-in.png");
  thecal_sign_in_page_set_credentials (sign_in, THECAL_DEMO_USER_NAME, "not the password");
  thecal_sign_in_page_submit (sign_in);
  ck_assert (wait_for (sign_in_error_shown, sign_in));
  ck_assert_ptr_null (thecal_window_get_session (window));
  screenshot (GTK_WIDGET (window), "sign-in-error.png");
  thecal_sign_in_page_set_credentials (sign_in, THECAL_DEMO_USER_NAME, THECAL_DEMO_USER_PASSWORD);
  thecal_sign_in_page_submit (sign_in);
  ck_assert (wait_for (signed_in, window));
  ck_assert_str_eq (thecal_record_session_get_user (thecal_window_get_session (window))->name, THECAL_DEMO_USER_NAME);

  /* patients: the six demo patients, by MRN; a search finds ROE, Richard */
  ck_assert (wait_for (list_has_six, window));
  list = thecal_patients_page_get_list (patients);
  item = g_list_model_get_item (G_LIST_MODEL (list), 0);
  ck_assert_str_eq (thecal_patient_item_get_mrn (item), "DEMO-0001");
  ck_assert_ptr_nonnull (strstr (thecal_patient_item_get_status (item), "morphine 25 mg/mL"));
  g_clear_object (&item);
  screenshot (GTK_WIDGET (window), "patients.png");
  thecal_patients_page_set_search (patients, "roe");
  ck_assert (wait_for (search_found_roe, window));
  item = g_list_model_get_item (G_LIST_MODEL (list), 0);
  ck_assert_str_eq (thecal_patient_item_get_mrn (item), "DEMO-0002");
  ck_assert_ptr_nonnull (strstr (thecal_patient_item_get_status (item), "low reservoir"));
  thecal_patients_page_select (patients, 0);
  ck_assert_str_eq (thecal_overview_page_get_mrn (overview), "DEMO-0002");
  screenshot (GTK_WIDGET (window), "overview-before-connect.png");

  /* overview: connect to the simulated pump and read what it runs */
  thecal_overview_page_connect (overview);
  ck_assert (thecal_overview_page_get_busy (overview));
  ck_assert (wait_for (overview_connected, overview));
  {
    g_autofree char *status = thecal_overview_page_dup_text (overview, "status");

    ck_assert_msg (thecal_overview_page_get_visit (overview) != NULL, "not connected: %s", status);
  }
  for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autofree char *text = thecal_overview_page_dup_text (overview, expected[i][0]);

      ck_assert_msg (g_strcmp0 (text, expected[i][1]) == 0, "%s: “%s”, expected “%s”", expected[i][0], text, expected[i][1]);
    }
  {
    g_autofree char *low = thecal_overview_page_dup_text (overview, "low_date");
    g_autofree char *empty = thecal_overview_page_dup_text (overview, "empty_date");
    g_autofree char *alarms = thecal_overview_page_dup_text (overview, "alarms");
    g_autofree char *findings = thecal_overview_page_dup_text (overview, "findings");

    /* 1.8 mL at 0.2 mL/day, at or under the TR-20's low-reservoir level: the alarm is now, the
     * pump is empty within days of the demo instant (2026-01-05) */
    ck_assert_msg (g_str_has_prefix (low, "2026-01-"), "low-reservoir alarm: %s", low);
    ck_assert_msg (g_str_has_prefix (empty, "2026-01-"), "empty: %s", empty);
    ck_assert_msg (strstr (alarms, "Low reservoir (not acknowledged): Refill the pump") != NULL, "alarms: %s", alarms);
    ck_assert_msg (strstr (findings, "No refill of this pump is in the record") != NULL, "findings: %s", findings);
  }
  screenshot (GTK_WIDGET (window), "overview.png");
  /* the whole overview, as far as it scrolls */
  screenshot_full (find_descendant (GTK_WIDGET (overview), ADW_TYPE_CLAMP), "overview-full.png", TRUE);

  /* a narrow window folds the leaflet: the overview alone, with a back button */
  gtk_window_set_default_size (GTK_WINDOW (window), 420, 760);
  settle (300);
  screenshot (GTK_WIDGET (window), "overview-narrow.png");

  thecal_window_sign_out (window);
  ck_assert_ptr_null (thecal_window_get_session (window));
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* The stalled pump: a critical alarm with what to do. */
START_TEST (test_demo_motor_stall)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalSignInPage *sign_in = thecal_window_get_sign_in_page (window);
  ThecalPatientsPage *patients = thecal_window_get_patients_page (window);
  ThecalOverviewPage *overview = thecal_window_get_overview_page (window);
  g_autofree char *alarms = NULL;

  thecal_sign_in_page_submit (sign_in); /* the demo user, as offered */
  ck_assert (wait_for (signed_in, window));
  ck_assert (wait_for (list_has_six, window));
  thecal_patients_page_select (patients, 4); /* DEMO-0005 LOE, Linda */
  ck_assert_str_eq (thecal_overview_page_get_mrn (overview), "DEMO-0005");
  thecal_overview_page_connect (overview);
  ck_assert (wait_for (overview_connected, overview));
  ck_assert_ptr_nonnull (thecal_overview_page_get_visit (overview));
  alarms = thecal_overview_page_dup_text (overview, "alarms");
  ck_assert_msg (strstr (alarms, "Motor stall (not acknowledged): Medication may no longer flow") != NULL, "alarms: %s", alarms);
  screenshot (GTK_WIDGET (window), "overview-motor-stall.png");
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* Cancelling a connection reads nothing and says so. */
START_TEST (test_connect_cancel)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalOverviewPage *overview = thecal_window_get_overview_page (window);
  g_autofree char *status = NULL;

  thecal_sign_in_page_submit (thecal_window_get_sign_in_page (window));
  ck_assert (wait_for (signed_in, window));
  ck_assert (wait_for (list_has_six, window));
  thecal_patients_page_select (thecal_window_get_patients_page (window), 0);
  thecal_overview_page_connect (overview);
  ck_assert (thecal_overview_page_get_busy (overview));
  thecal_overview_page_cancel (overview);
  ck_assert (wait_for (overview_connected, overview));
  ck_assert_ptr_null (thecal_overview_page_get_visit (overview));
  status = thecal_overview_page_dup_text (overview, "status");
  ck_assert_msg (g_str_has_prefix (status, "Cancelled"), "status: %s", status);
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

static guint wanted_items;

static gboolean
list_has_wanted_items (gpointer list)
{
  return !thecal_patient_list_get_loading (list) && g_list_model_get_n_items (list) == wanted_items;
}

static gboolean
list_not_loading (gpointer list)
{
  return !thecal_patient_list_get_loading (list);
}

/* The list never loads the whole record: one page, then the next when the view reads near the
 * end of what it holds. */
START_TEST (test_patient_list_pages)
{
  g_autofree char *path = g_build_filename (tmp_dir, "many.sqlite", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecord) record = NULL;
  g_autoptr (ThecalRecordSession) session = NULL;
  g_autoptr (ThecalPatientList) list = NULL;
  const guint n_patients = THECAL_PATIENT_LIST_PAGE * 2 + 20;

  record = thecal_record_open_sync (path, THECAL_RECORD_OPEN_CREATE | THECAL_RECORD_OPEN_FAST_HASH, NULL, &error);
  ck_assert_msg (record != NULL, "%s", error != NULL ? error->message : "");
  session = thecal_record_session_first_run_sync (record, "admin", "Ada Admin", "admin password", NULL, &error);
  ck_assert_msg (session != NULL, "%s", error != NULL ? error->message : "");
  {
    g_autoptr (ThecalUser) paula = thecal_record_session_add_user_sync (session, "paula", "Dr Paula Physician", THECAL_ROLE_PHYSICIAN,
                                                                        "physician password", NULL, &error);

    ck_assert_msg (paula != NULL, "%s", error != NULL ? error->message : "");
    g_clear_object (&session);
    session = thecal_record_session_login_sync (record, "paula", "physician password", NULL, &error);
    ck_assert_msg (session != NULL, "%s", error != NULL ? error->message : "");
  }
  for (guint i = 0; i < n_patients; i++)
    {
      g_autofree char *mrn = g_strdup_printf ("MRN-%05u", i);
      g_autofree char *name = g_strdup_printf ("PATIENT, Number %u", i);
      ThecalPatientInput input = { .mrn = mrn, .name = name, .date_of_birth = "1970-01-01", .opioid_tolerance = THECAL_OPIOID_TOLERANT };
      g_autoptr (ThecalPatient) patient = thecal_record_session_add_patient_sync (session, &input, NULL, &error);

      ck_assert_msg (patient != NULL, "%s", error != NULL ? error->message : "");
    }

  list = thecal_patient_list_new (session);
  ck_assert (thecal_patient_list_get_loading (list));
  ck_assert (wait_for (list_not_loading, list));
  ck_assert_uint_eq (g_list_model_get_n_items (G_LIST_MODEL (list)), THECAL_PATIENT_LIST_PAGE);
  /* reading an early row fetches nothing more */
  g_object_unref (g_list_model_get_item (G_LIST_MODEL (list), 0));
  settle (200);
  ck_assert_uint_eq (g_list_model_get_n_items (G_LIST_MODEL (list)), THECAL_PATIENT_LIST_PAGE);
  /* reading near the end fetches the next page, then the last, shorter one */
  g_object_unref (g_list_model_get_item (G_LIST_MODEL (list), THECAL_PATIENT_LIST_PAGE - 1));
  wanted_items = THECAL_PATIENT_LIST_PAGE * 2;
  ck_assert (wait_for (list_has_wanted_items, list));
  g_object_unref (g_list_model_get_item (G_LIST_MODEL (list), THECAL_PATIENT_LIST_PAGE * 2 - 1));
  wanted_items = n_patients;
  ck_assert (wait_for (list_has_wanted_items, list));
  /* the end: nothing more is asked for */
  g_object_unref (g_list_model_get_item (G_LIST_MODEL (list), n_patients - 1));
  settle (200);
  ck_assert (!thecal_patient_list_get_loading (list));
  ck_assert_uint_eq (g_list_model_get_n_items (G_LIST_MODEL (list)), n_patients);
  {
    g_autoptr (ThecalPatientItem) last = g_list_model_get_item (G_LIST_MODEL (list), n_patients - 1);

    ck_assert_str_eq (thecal_patient_item_get_mrn (last), "MRN-00219");
    ck_assert_ptr_null (thecal_patient_item_get_status (last)); /* not a demo record: no status known */
  }
  /* a search replaces the list with its matches */
  thecal_patient_list_set_search (list, "MRN-0021");
  ck_assert_uint_eq (g_list_model_get_n_items (G_LIST_MODEL (list)), 0);
  ck_assert (wait_for (list_not_loading, list));
  ck_assert_uint_eq (g_list_model_get_n_items (G_LIST_MODEL (list)), 10);
  ck_assert (!thecal_patient_list_get_truncated (list));
}
END_TEST

static gboolean
first_run_offered (gpointer page)
{
  return thecal_sign_in_page_get_first_run (page);
}

/* A new record: the sign-in page offers the first-run path, and it creates the administrator. */
START_TEST (test_first_run)
{
  g_autofree char *path = g_build_filename (tmp_dir, "new.sqlite", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecord) record = thecal_record_open_sync (path, THECAL_RECORD_OPEN_CREATE | THECAL_RECORD_OPEN_FAST_HASH, NULL, &error);
  ThecalWindow *window;
  ThecalSignInPage *sign_in;
  const ThecalUser *user;

  ck_assert_msg (record != NULL, "%s", error != NULL ? error->message : "");
  window = thecal_window_new (NULL, FALSE, models, library);
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 760);
  thecal_window_set_record (window, record);
  gtk_window_present (GTK_WINDOW (window));
  sign_in = thecal_window_get_sign_in_page (window);
  ck_assert (wait_for (first_run_offered, sign_in));
  screenshot (GTK_WIDGET (window), "first-run.png");
  /* the confirmation must match: refused inline, before anything is sent */
  thecal_sign_in_page_set_credentials (sign_in, "ada", "a long admin password");
  thecal_sign_in_page_set_first_run_details (sign_in, "Ada Admin", "another password");
  thecal_sign_in_page_submit (sign_in);
  ck_assert_str_eq (thecal_sign_in_page_get_error (sign_in), "Confirm password: the two passwords differ.");
  ck_assert (!thecal_overview_page_get_busy (thecal_window_get_overview_page (window)));
  thecal_sign_in_page_set_credentials (sign_in, "ada", "a long admin password");
  thecal_sign_in_page_set_first_run_details (sign_in, "Ada Admin", "a long admin password");
  thecal_sign_in_page_submit (sign_in);
  ck_assert (wait_for (signed_in, window));
  user = thecal_record_session_get_user (thecal_window_get_session (window));
  ck_assert_str_eq (user->name, "ada");
  ck_assert_int_eq (user->role, THECAL_ROLE_ADMINISTRATOR);
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* What the pages show: tall-man names from the library, ISMP quantities, pump-local instants. */
START_TEST (test_format)
{
  const struct
  {
    ThecalQuantityKind kind;
    gint64 value;
    const char *text;
  } quantities[] = {
    { THECAL_QUANTITY_CONCENTRATION, 25000000, "25 mg/mL" },
    { THECAL_QUANTITY_DOSE_RATE, 1500000, "1.5 mg/day" },
    { THECAL_QUANTITY_VOLUME, 500000, "0.5 mL" }, /* a leading zero, no trailing one */
    { THECAL_QUANTITY_DOSE_RATE, 300000, "300 mcg/day" },
    { THECAL_QUANTITY_VOLUME_RATE, 200000, "0.2 mL/day" },
    { THECAL_QUANTITY_VOLUME, 1800000, "1.8 mL" },
    { THECAL_QUANTITY_VOLUME, 20000000, "20 mL" },
    { THECAL_QUANTITY_RATIO, 6873, "68.73 %" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (quantities); i++)
    {
      g_autofree char *text = thecal_format_quantity (quantities[i].kind, quantities[i].value);

      ck_assert_str_eq (text, quantities[i].text);
    }
  ck_assert_str_eq (thecal_format_drug (library, "hydromorphone"), "HYDROmorphone");
  ck_assert_str_eq (thecal_format_drug (library, "fentanyl"), "fentaNYL");
  ck_assert_str_eq (thecal_format_drug (library, "morphine"), "morphine");
  ck_assert_str_eq (thecal_format_drug (library, "not-in-the-library"), "not-in-the-library");
  {
    g_autofree char *demo_instant = thecal_format_instant (THECAL_SIM_PUMP_DEMO_INSTANT_MS);
    g_autofree char *never = thecal_format_instant (G_MAXINT64);
    g_autofree char *before_1970 = thecal_format_instant (-1); /* floor: 1969-12-31 23:59 */

    ck_assert_str_eq (demo_instant, "2026-01-05 09:00");
    ck_assert_str_eq (never, "never");
    ck_assert_str_eq (before_1970, "1969-12-31 23:59");
  }
  for (int kind = 0; kind < THECAL_PROTO_ALARM_N_KINDS; kind++)
    ck_assert (strlen (thecal_format_alarm_action ((ThecalProtoAlarm) kind)) > 10);
}
END_TEST

/* ---- the refill wizard (docs/gui.md "Refill wizard") ------------------------------------------ */

static gboolean
wizard_finished (gpointer wizard)
{
  return thecal_refill_wizard_get_finished (wizard, NULL);
}

typedef struct
{
  ThecalOverviewPage *overview;
  const char *reservoir;
} Reread;

/* The overview read the pump again after the refill and shows @reservoir. */
static gboolean
overview_reread (gpointer data)
{
  Reread *r = data;
  g_autofree char *reservoir = NULL;

  if (thecal_overview_page_get_busy (r->overview) || thecal_overview_page_get_visit (r->overview) == NULL)
    return FALSE;
  reservoir = thecal_overview_page_dup_text (r->overview, "reservoir");
  return g_strcmp0 (reservoir, r->reservoir) == 0;
}

static void
assert_text_has (ThecalRefillWizard *wizard, const char *key, const char *part)
{
  g_autofree char *text = thecal_refill_wizard_dup_text (wizard, key);

  ck_assert_msg (text != NULL && strstr (text, part) != NULL, "%s: “%s” has no “%s”", key, text, part);
}

/* The whole refill of the patient low on drug, with a discrepancy: 1.8 mL expected, 0.6 mL back. */
START_TEST (test_refill_wizard)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalOverviewPage *overview = connect_low_reservoir (window);
  ThecalRefillWizard *wizard = THECAL_REFILL_WIZARD (thecal_overview_page_open_refill (overview));
  ThecalProgrammingOutcome outcome = THECAL_OUTCOME_PENDING;
  Reread reread = { overview, "18 mL of 20 mL" };

  ck_assert_ptr_nonnull (wizard);
  gtk_window_set_default_size (GTK_WINDOW (wizard), 640, 720);
  ck_assert_str_eq (thecal_refill_wizard_get_page (wizard), "aspirate");
  assert_text_has (wizard, "expected", "1.8 mL");
  ck_assert (!thecal_refill_wizard_can_go_next (wizard));

  /* step 1: the aspirated volume, parsed exactly; a bad text is named */
  thecal_refill_wizard_set_field (wizard, "aspirated", "0.6 ml/h");
  assert_text_has (wizard, "aspirated", "aspirated volume");
  ck_assert (!thecal_refill_wizard_can_go_next (wizard));
  thecal_refill_wizard_set_field (wizard, "aspirated", "1.7 mL");
  assert_text_has (wizard, "check", "Within the band");
  ck_assert (thecal_refill_wizard_can_go_next (wizard));
  thecal_refill_wizard_set_field (wizard, "aspirated", "0.6 mL");
  assert_text_has (wizard, "discrepancy", "0.6 mL aspirated, 1.8 mL expected");
  assert_text_has (wizard, "discrepancy", "pocket fill");
  ck_assert (!thecal_refill_wizard_can_go_next (wizard));
  thecal_refill_wizard_set_field (wizard, "acknowledgement", "checked"); /* 7 characters */
  ck_assert (!thecal_refill_wizard_can_go_next (wizard));
  assert_text_has (wizard, "acknowledgement", "at least 10 characters");
  screenshot (GTK_WIDGET (wizard), "refill-aspirate.png");
  thecal_refill_wizard_set_field (wizard, "acknowledgement", "Patient checked: alert, no signs of overdose");
  ck_assert (thecal_refill_wizard_can_go_next (wizard));
  thecal_refill_wizard_next (wizard);

  /* step 2: the new fill; morphine 25 mg/mL offered; a bad expiry and too much volume named */
  ck_assert_str_eq (thecal_refill_wizard_get_page (wizard), "fill");
  ck_assert (!thecal_refill_wizard_can_go_next (wizard));
  thecal_refill_wizard_set_field (wizard, "lot", "MO-2611-A");
  thecal_refill_wizard_set_field (wizard, "expiry", "2027-13-40");
  thecal_refill_wizard_set_field (wizard, "added", "21 mL");
  assert_text_has (wizard, "added", "20 mL");
  ck_assert (!thecal_refill_wizard_can_go_next (wizard));
  thecal_refill_wizard_set_field (wizard, "added", "18 mL");
  assert_text_has (wizard, "expiry", "expiry date");
  ck_assert (!thecal_refill_wizard_can_go_next (wizard));
  thecal_refill_wizard_set_field (wizard, "expiry", "2020-01-31");
  assert_text_has (wizard, "expiry", "expired");
  ck_assert (!thecal_refill_wizard_can_go_next (wizard));
  thecal_refill_wizard_set_field (wizard, "added", "21 mL");
  /* every wrong field says so at once, next to itself */
  assert_text_has (wizard, "expiry", "expired");
  assert_text_has (wizard, "added", "20 mL");
  ck_assert (!thecal_refill_wizard_can_go_next (wizard));
  screenshot (GTK_WIDGET (wizard), "refill-fill-errors.png");
  thecal_refill_wizard_set_field (wizard, "added", "18 mL");
  thecal_refill_wizard_set_field (wizard, "expiry", "2030-06-30");
  ck_assert (thecal_refill_wizard_can_go_next (wizard));
  screenshot (GTK_WIDGET (wizard), "refill-fill.png");
  thecal_refill_wizard_next (wizard);

  /* no change of drug or concentration: straight to the second person */
  ck_assert_str_eq (thecal_refill_wizard_get_page (wizard), "verifier");
  ck_assert (!thecal_refill_wizard_can_go_next (wizard));
  thecal_refill_wizard_set_field (wizard, "verifier_name", THECAL_DEMO_PHYSICIAN_NAME);
  thecal_refill_wizard_set_field (wizard, "verifier_password", THECAL_DEMO_PHYSICIAN_PASSWORD);
  ck_assert (thecal_refill_wizard_can_go_next (wizard));
  screenshot (GTK_WIDGET (wizard), "refill-verifier.png");
  thecal_refill_wizard_next (wizard);

  /* the summary, old → new, the new dates */
  ck_assert_str_eq (thecal_refill_wizard_get_page (wizard), "summary");
  assert_text_has (wizard, "summary", "Reservoir: 1.8 mL → 18 mL");
  assert_text_has (wizard, "summary", "Concentration: 25 mg/mL → 25 mg/mL");
  assert_text_has (wizard, "summary", "Verified by: paula");
  assert_text_has (wizard, "summary", "Refill by: 2026-");
  screenshot (GTK_WIDGET (wizard), "refill-summary.png");
  thecal_refill_wizard_next (wizard);

  /* the write runs without blocking the main loop; the password is gone at once */
  ck_assert_str_eq (thecal_refill_wizard_get_page (wizard), "progress");
  ck_assert (!thecal_refill_wizard_can_go_next (wizard));
  ck_assert (!thecal_refill_wizard_get_finished (wizard, NULL));
  {
    g_autofree char *password = thecal_refill_wizard_dup_field (wizard, "verifier_password");
    g_autofree char *name = thecal_refill_wizard_dup_field (wizard, "verifier_name");

    /* the second person's password is not kept once the refill started */
    ck_assert_str_eq (password, "");
    ck_assert_str_eq (name, THECAL_DEMO_PHYSICIAN_NAME);
    /* the wizard stays open while the pump is written (its outcome must be seen) */
    gtk_window_close (GTK_WINDOW (wizard));
    ck_assert (gtk_widget_get_visible (GTK_WIDGET (wizard)));
    thecal_refill_wizard_back (wizard); /* nothing to go back to while running */
    ck_assert_str_eq (thecal_refill_wizard_get_page (wizard), "progress");
  }
  /* at once: the write takes a few round trips of the simulated wand */
  screenshot_after (GTK_WIDGET (wizard), "refill-progress.png", FALSE, 20);
  ck_assert (wait_for (wizard_finished, wizard));
  ck_assert (thecal_refill_wizard_get_finished (wizard, &outcome));
  {
    g_autofree char *text = thecal_refill_wizard_dup_text (wizard, "outcome");

    ck_assert_msg (outcome == THECAL_OUTCOME_CONFIRMED, "outcome: %s", text);
  }
  assert_text_has (wizard, "outcome", "Refill Confirmed");
  assert_text_has (wizard, "outcome", "18 mL");
  assert_text_has (wizard, "outcome", "Refill by: 2026-");
  ck_assert_str_eq (thecal_refill_wizard_get_page (wizard), "outcome");
  screenshot (GTK_WIDGET (wizard), "refill-confirmed.png");

  /* the overview read the pump again: the gauge shows the new volume */
  ck_assert (wait_for (overview_reread, &reread));
  screenshot (GTK_WIDGET (window), "refill-overview-after.png");
  thecal_refill_wizard_next (wizard); /* Close */
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* A wrong verifier password: the workflow's refusal, nothing sent, the reservoir as it was. */
START_TEST (test_refill_wrong_verifier)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalOverviewPage *overview = connect_low_reservoir (window);
  ThecalRefillWizard *wizard = THECAL_REFILL_WIZARD (thecal_overview_page_open_refill (overview));
  ThecalProgrammingOutcome outcome = THECAL_OUTCOME_PENDING;
  Reread reread = { overview, "1.8 mL of 20 mL" };

  thecal_refill_wizard_set_field (wizard, "aspirated", "1.8 mL");
  ck_assert (thecal_refill_wizard_can_go_next (wizard));
  thecal_refill_wizard_next (wizard);
  thecal_refill_wizard_set_field (wizard, "lot", "MO-2611-A");
  thecal_refill_wizard_set_field (wizard, "expiry", "2030-06-30");
  thecal_refill_wizard_set_field (wizard, "added", "18 mL");
  thecal_refill_wizard_next (wizard);
  ck_assert_str_eq (thecal_refill_wizard_get_page (wizard), "verifier");
  thecal_refill_wizard_set_field (wizard, "verifier_name", THECAL_DEMO_PHYSICIAN_NAME);
  thecal_refill_wizard_set_field (wizard, "verifier_password", "not the password");
  thecal_refill_wizard_next (wizard);
  thecal_refill_wizard_next (wizard); /* Refill */
  ck_assert (wait_for (wizard_finished, wizard));
  ck_assert (thecal_refill_wizard_get_finished (wizard, &outcome));
  ck_assert_int_eq (outcome, THECAL_OUTCOME_FAILED);
  assert_text_has (wizard, "outcome", "Not Refilled");
  screenshot (GTK_WIDGET (wizard), "refill-refused.png");
  ck_assert (wait_for (overview_reread, &reread));
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* The pump goes out of the wand's range as the refill is written: the workflow cannot know
 * whether the pump took it, so the outcome is UNCERTAIN, shown as a blocking state; the overview
 * cannot read the pump until it is back; then a connection settles the refill from what the pump
 * reports (this simulated pump never got it: the reservoir as it was, the visit not blocked). */
START_TEST (test_refill_uncertain)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalOverviewPage *overview = connect_low_reservoir (window);
  ThecalRefillWizard *wizard = THECAL_REFILL_WIZARD (thecal_overview_page_open_refill (overview));
  ThecalLoopbackTransport *loopback = thecal_demo_link_get_loopback (thecal_overview_page_get_demo_link (overview));
  ThecalProgrammingOutcome outcome = THECAL_OUTCOME_PENDING;
  g_autofree char *reservoir = NULL;
  g_autofree char *status = NULL;

  gtk_window_set_default_size (GTK_WINDOW (wizard), 640, 720);
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
  {
    g_autofree char *text = thecal_refill_wizard_dup_text (wizard, "outcome");

    ck_assert_msg (outcome == THECAL_OUTCOME_UNCERTAIN, "outcome %d: %s", outcome, text);
  }
  assert_text_has (wizard, "outcome", "Outcome UNCERTAIN");
  assert_text_has (wizard, "outcome", "blocked until the pump is read again");
  screenshot (GTK_WIDGET (wizard), "refill-uncertain.png");
  /* the overview tried to read the pump again and could not */
  ck_assert (wait_for (overview_connected, overview));
  ck_assert_ptr_null (thecal_overview_page_get_visit (overview));
  status = thecal_overview_page_dup_text (overview, "status");
  ck_assert_msg (strstr (status, "pump") != NULL, "status: %s", status);
  /* the pump back in range (the failed connection dropped its link; a new one starts in range):
   * the connection settles the refill from what the pump reports */
  ck_assert_ptr_null (thecal_overview_page_get_demo_link (overview));
  thecal_overview_page_connect (overview);
  ck_assert (wait_for (overview_connected, overview));
  ck_assert_ptr_nonnull (thecal_overview_page_get_visit (overview));
  ck_assert (!thecal_visit_is_blocked (thecal_overview_page_get_visit (overview), NULL));
  reservoir = thecal_overview_page_dup_text (overview, "reservoir");
  ck_assert_str_eq (reservoir, "1.8 mL of 20 mL");
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* A nurse may refill but not change the concentration: the review says a physician must do it
 * and the workflow's refusal is shown; nothing changes. */
START_TEST (test_refill_change_by_nurse_refused)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = NULL;
  ThecalOverviewPage *overview = connect_as_nurse (&window, &record);
  ThecalRefillWizard *wizard;
  ThecalProgrammingOutcome outcome = THECAL_OUTCOME_PENDING;
  Reread reread = { NULL, "1.8 mL of 20 mL" };

  reread.overview = overview;
  wizard = THECAL_REFILL_WIZARD (thecal_overview_page_open_refill (overview));
  refill_wizard_type_change (wizard);
  thecal_refill_wizard_next (wizard); /* Refill */
  ck_assert (wait_for (wizard_finished, wizard));
  ck_assert (thecal_refill_wizard_get_finished (wizard, &outcome));
  ck_assert_int_eq (outcome, THECAL_OUTCOME_FAILED);
  assert_text_has (wizard, "outcome", "Not Refilled");
  assert_text_has (wizard, "outcome", "prescription.change");
  ck_assert (wait_for (overview_reread, &reread));
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* A concentration change 25 → 50 mg/mL: the review with the bridge bolus. */
START_TEST (test_refill_concentration_change)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalOverviewPage *overview = connect_low_reservoir (window);
  ThecalRefillWizard *wizard = THECAL_REFILL_WIZARD (thecal_overview_page_open_refill (overview));

  gtk_window_set_default_size (GTK_WINDOW (wizard), 640, 720);
  thecal_refill_wizard_set_field (wizard, "aspirated", "1.8 mL");
  thecal_refill_wizard_next (wizard);
  ck_assert (thecal_refill_wizard_set_drug (wizard, "morphine"));
  ck_assert (!thecal_refill_wizard_set_drug (wizard, "no such drug"));
  thecal_refill_wizard_set_field (wizard, "concentration", "50 mg/mL");
  thecal_refill_wizard_set_field (wizard, "lot", "MO-2611-B");
  thecal_refill_wizard_set_field (wizard, "expiry", "2030-06-30");
  thecal_refill_wizard_set_field (wizard, "added", "18 mL");
  {
    g_autofree char *fill = thecal_refill_wizard_dup_text (wizard, "fill");

    ck_assert_msg (thecal_refill_wizard_can_go_next (wizard), "fill: %s", fill);
  }
  thecal_refill_wizard_next (wizard);
  ck_assert_str_eq (thecal_refill_wizard_get_page (wizard), "review");
  assert_text_has (wizard, "review", "Concentration: 25 mg/mL → 50 mg/mL");
  assert_text_has (wizard, "review", "Basal daily dose: 5 mg/day → 5 mg/day");
  assert_text_has (wizard, "review", "Basal rate: 0.2 mL/day → 0.1 mL/day");
  assert_text_has (wizard, "review", "Bridge bolus: ");
  ck_assert (!thecal_refill_wizard_can_go_next (wizard)); /* 50 mg/mL is above the soft limit */
  thecal_refill_wizard_set_field (wizard, "override", "Fewer refills: agreed with the pain team");
  ck_assert (thecal_refill_wizard_can_go_next (wizard));
  assert_text_has (wizard, "review", "Refill by: ");
  screenshot (GTK_WIDGET (wizard), "refill-review.png");
  thecal_refill_wizard_back (wizard);
  ck_assert_str_eq (thecal_refill_wizard_get_page (wizard), "fill");
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

static Suite *
app_suite (void)
{
  Suite *suite = suite_create ("app");

  THECAL_TEST_TCASE (suite, "demo", setup, teardown, 120, test_demo_overview, test_demo_motor_stall, test_connect_cancel);
  THECAL_TEST_TCASE (suite, "refill", setup, teardown, 120, test_refill_wizard, test_refill_wrong_verifier,
                     test_refill_uncertain,
                     test_refill_change_by_nurse_refused, test_refill_concentration_change);
  THECAL_TEST_TCASE (suite, "patient-list", setup, teardown, 120, test_patient_list_pages);
  THECAL_TEST_TCASE (suite, "first-run", setup, teardown, 60, test_first_run);
  THECAL_TEST_TCASE (suite, "format", setup, teardown, 60, test_format);
  return suite;
}

int
main (void)
{
  return app_test_main (app_suite ());
}
