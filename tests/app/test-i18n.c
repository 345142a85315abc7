/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-i18n.c: the GTK app in German, in process, under Xvfb (docs/gui.md "Translations").
 *
 * main () sets LANGUAGE=de and LC_ALL=de_DE.UTF-8 (build-aux/common.sh generates the locale) and
 * binds the text domain to THECAL_LOCALEDIR, the build's po/ (tests/app/meson.build), as
 * thecal's main () does, before the fixture starts GTK. Then:
 *
 *  - the catalog is found and the locale really is German (its decimal separator is ","), yet
 *    the dose core formats every quantity the ISMP way, unchanged: "0.2 mL/day", never "0,2 mL/Tag";
 *  - the sign-in page speaks German ("Anmelden"), the demo user is still offered;
 *  - the patient list: the demo pumps' summaries in German, their quantities as they were;
 *  - the overview of ROE, Richard connected: German labels, alarm and what to do, while drug
 *    names (the drug library's), numbers, units and instants stay exactly what the dose core
 *    writes ("25 mg/mL", "5 mg/day", "0.2 mL/day", "1.8 mL von 20 mL", "68.73 %",
 *    "2030-03-21 09:00").
 *
 *  - the refill wizard: German steps; the workflow's refusals translated and still shown under
 *    the field they name (the expiry).
 *
 * Screenshots: sign-in-de.png, patients-de.png, overview-de.png, overview-full-de.png,
 * refill-aspirate-de.png,
 * refill-fill-errors-de.png.
 * Exits 77 (skip) without a display.
 */
#include "config.h"

#include "app-fixture.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <string.h>

#include "thecal-format.h"
#include "thecal-refill-wizard.h"

/* The catalog and the locale: German text, ISMP numbers. */
START_TEST (test_catalog_and_numbers)
{
  g_autofree char *rate = thecal_format_quantity (THECAL_QUANTITY_VOLUME_RATE, 200000);
  g_autofree char *concentration = thecal_format_quantity (THECAL_QUANTITY_CONCENTRATION, 25000000);
  g_autofree char *dose = thecal_format_quantity (THECAL_QUANTITY_DOSE_RATE, 5000000);
  g_autofree char *volume = thecal_format_quantity (THECAL_QUANTITY_VOLUME, 1800000);
  g_autofree char *instant = thecal_format_instant (INT64_C (1767603600000));
  g_autofree char *never = thecal_format_instant (G_MAXINT64);

  /* the locale is German: printf would write a decimal comma */
  ck_assert_str_eq (localeconv ()->decimal_point, ",");
  /* the catalog of the build (THECAL_LOCALEDIR) is the one in use */
  ck_assert_str_eq (_ ("Connect and Interrogate"), "Verbinden und abfragen");
  ck_assert_str_eq (_ ("Daily dose"), "Tagesdosis");
  ck_assert_str_eq (thecal_format_mode (THECAL_MODE_CONTINUOUS), "Kontinuierlich");
  ck_assert_str_eq (thecal_format_alarm_name (THECAL_PROTO_ALARM_LOW_RESERVOIR), "Reservoir fast leer");
  ck_assert_str_eq (thecal_format_role (THECAL_ROLE_NURSE), "Pflegekraft");
  ck_assert_str_eq (never, "nie");
  /* numbers and units: exactly what the dose core writes, whatever the locale */
  ck_assert_str_eq (rate, "0.2 mL/day");
  ck_assert_str_eq (concentration, "25 mg/mL");
  ck_assert_str_eq (dose, "5 mg/day");
  ck_assert_str_eq (volume, "1.8 mL");
  ck_assert_str_eq (instant, "2026-01-05 09:00");
}
END_TEST

static const char *
status_page_title (GtkWidget *widget)
{
  GtkWidget *status_page = find_descendant (widget, ADW_TYPE_STATUS_PAGE);

  return status_page != NULL ? adw_status_page_get_title (ADW_STATUS_PAGE (status_page)) : NULL;
}

static const char *
first_group_title (GtkWidget *widget)
{
  GtkWidget *group = find_descendant (widget, ADW_TYPE_PREFERENCES_GROUP);

  return group != NULL ? adw_preferences_group_get_title (ADW_PREFERENCES_GROUP (group)) : NULL;
}

/* Sign in, the patient list and the overview of the patient low on drug, in German. */
START_TEST (test_demo_in_german)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalSignInPage *sign_in = thecal_window_get_sign_in_page (window);
  ThecalPatientsPage *patients = thecal_window_get_patients_page (window);
  ThecalOverviewPage *overview = thecal_window_get_overview_page (window);
  ThecalPatientList *list;
  g_autoptr (ThecalPatientItem) item = NULL;
  const char *expected[][2] = {
    { "drug", "morphine" }, /* the drug library's name: data, not translated */
    { "concentration", "25 mg/mL" },
    { "mode", "Kontinuierlich" },
    { "dose", "5 mg/day" },
    { "rate", "0.2 mL/day" },
    { "reservoir", "1.8 mL von 20 mL" },
    { "battery", "68.73 %" },
    { "eri", "2030-03-21 09:00" },
    { "status", "Verbunden: die Pumpe wurde abgefragt." },
  };

  /* sign-in: German, the demo user still offered (the user name is data) */
  ck_assert_str_eq (status_page_title (GTK_WIDGET (sign_in)), "Anmelden");
  screenshot (GTK_WIDGET (window), "sign-in-de.png");
  thecal_sign_in_page_set_credentials (sign_in, "", "");
  thecal_sign_in_page_submit (sign_in);
  ck_assert_str_eq (thecal_sign_in_page_get_error (sign_in), "Benutzername: den eigenen Benutzernamen eingeben.");
  thecal_sign_in_page_set_credentials (sign_in, THECAL_DEMO_USER_NAME, THECAL_DEMO_USER_PASSWORD);
  thecal_sign_in_page_submit (sign_in);
  ck_assert (wait_for (signed_in, window));

  /* patients: the demo pumps' summaries in German, their quantities unchanged */
  ck_assert (wait_for (list_has_six, window));
  list = thecal_patients_page_get_list (patients);
  item = g_list_model_get_item (G_LIST_MODEL (list), 1);
  ck_assert_str_eq (thecal_patient_item_get_mrn (item), "DEMO-0002");
  ck_assert_str_eq (thecal_patient_item_get_status (item),
                    "Reservoir fast leer: morphine 25 mg/mL, 5 mg/day, noch 1.8 mL (Alarm „Reservoir fast leer“)");
  g_clear_object (&item);
  item = g_list_model_get_item (G_LIST_MODEL (list), 5);
  ck_assert_str_eq (thecal_patient_item_get_status (item), "baclofen 2000 mcg/mL, Flex: tagsüber 300 mcg/day, nachts 150 mcg/day, 30 mL");
  g_clear_object (&item);
  settle (300);
  ck_assert_str_eq (status_page_title (GTK_WIDGET (overview)), "Kein Patient ausgewählt");
  screenshot (GTK_WIDGET (window), "patients-de.png");

  /* the overview, connected */
  thecal_patients_page_select (patients, 1);
  ck_assert_str_eq (thecal_overview_page_get_mrn (overview), "DEMO-0002");
  thecal_overview_page_connect (overview);
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
    g_autofree char *alarms = thecal_overview_page_dup_text (overview, "alarms");
    g_autofree char *findings = thecal_overview_page_dup_text (overview, "findings");

    /* instants as ISO dates in every locale: no "05.01.2026" */
    ck_assert_msg (g_str_has_prefix (low, "2026-01-"), "low-reservoir alarm: %s", low);
    ck_assert_msg (strstr (alarms, "Reservoir fast leer (nicht quittiert): Die Pumpe vor dem Leer-Datum nachfüllen.") != NULL, "alarms: %s",
                   alarms);
    /* the workflow's findings are translated too */
    ck_assert_msg (strstr (findings, "Die Akte enthält keine Nachfüllung dieser Pumpe") != NULL, "findings: %s", findings);
  }
  ck_assert_str_eq (first_group_title (GTK_WIDGET (overview)), "Aktive Alarme");
  screenshot (GTK_WIDGET (window), "overview-de.png");
  screenshot_full (find_descendant (GTK_WIDGET (overview), ADW_TYPE_CLAMP), "overview-full-de.png", TRUE);
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

static void
assert_text_has (ThecalRefillWizard *wizard, const char *key, const char *part)
{
  g_autofree char *text = thecal_refill_wizard_dup_text (wizard, key);

  ck_assert_msg (text != NULL && strstr (text, part) != NULL, "%s: “%s” has no “%s”", key, text, part);
}

/* The refill wizard in German: its own text, the workflow's refusals translated and still shown
 * under the field they are about (the wizard finds the field by the translation's word too). */
START_TEST (test_refill_wizard_in_german)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalOverviewPage *overview = thecal_window_get_overview_page (window);
  ThecalRefillWizard *wizard;
  g_autofree char *fill_error = NULL;

  thecal_sign_in_page_submit (thecal_window_get_sign_in_page (window)); /* the demo user, as offered */
  ck_assert (wait_for (signed_in, window));
  ck_assert (wait_for (list_has_six, window));
  thecal_patients_page_select (thecal_window_get_patients_page (window), 1);
  thecal_overview_page_connect (overview);
  ck_assert (wait_for (overview_connected, overview));
  wizard = THECAL_REFILL_WIZARD (thecal_overview_page_open_refill (overview));
  ck_assert_ptr_nonnull (wizard);
  gtk_window_set_default_size (GTK_WINDOW (wizard), 640, 720);

  /* step 1: the discrepancy in German, the volumes as the dose core writes them */
  assert_text_has (wizard, "expected", "Erwartetes Restvolumen: 1.8 mL");
  thecal_refill_wizard_set_field (wizard, "aspirated", "0.6 mL");
  assert_text_has (wizard, "discrepancy", "Abweichung: 0.6 mL aspiriert, 1.8 mL erwartet");
  assert_text_has (wizard, "discrepancy", "Tascheninjektion");
  thecal_refill_wizard_set_field (wizard, "acknowledgement", "geprüft"); /* 7 characters */
  assert_text_has (wizard, "acknowledgement", "mindestens 10 Zeichen");
  ck_assert (!thecal_refill_wizard_can_go_next (wizard));
  screenshot (GTK_WIDGET (wizard), "refill-aspirate-de.png");
  thecal_refill_wizard_set_field (wizard, "acknowledgement", "Patient untersucht: wach, keine Zeichen einer Überdosierung");
  ck_assert (thecal_refill_wizard_can_go_next (wizard));
  thecal_refill_wizard_next (wizard);

  /* step 2: the workflow's refusals, in German, under the expiry field */
  ck_assert_str_eq (thecal_refill_wizard_get_page (wizard), "fill");
  thecal_refill_wizard_set_field (wizard, "lot", "MO-2611-A");
  thecal_refill_wizard_set_field (wizard, "added", "18 mL");
  thecal_refill_wizard_set_field (wizard, "expiry", "2027-13-40");
  assert_text_has (wizard, "expiry", "Das Verfallsdatum „2027-13-40“ ist kein Datum (JJJJ-MM-TT).");
  thecal_refill_wizard_set_field (wizard, "expiry", "2020-01-31");
  assert_text_has (wizard, "expiry", "Das Medikament ist am 2020-01-31 verfallen");
  fill_error = thecal_refill_wizard_dup_text (wizard, "fill");
  ck_assert_str_eq (fill_error, ""); /* not left in the page's general error */
  ck_assert (!thecal_refill_wizard_can_go_next (wizard));
  screenshot (GTK_WIDGET (wizard), "refill-fill-errors-de.png");
  thecal_refill_wizard_set_field (wizard, "expiry", "2030-06-30");
  ck_assert (thecal_refill_wizard_can_go_next (wizard));
  gtk_window_destroy (GTK_WINDOW (wizard));
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

static Suite *
i18n_suite (void)
{
  Suite *suite = suite_create ("i18n");
  TCase *tc = tcase_create ("de");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_catalog_and_numbers);
  tcase_add_test (tc, test_demo_in_german);
  tcase_add_test (tc, test_refill_wizard_in_german);
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (void)
{
  const char *localedir = g_getenv ("THECAL_LOCALEDIR");

  /* as thecal's main () does, in German; GTK's own setlocale (LC_ALL, "") in gtk_init () keeps it */
  g_setenv ("LANGUAGE", "de", TRUE);
  g_setenv ("LC_ALL", "de_DE.UTF-8", TRUE);
  if (setlocale (LC_ALL, "") == NULL)
    {
      g_printerr ("the locale de_DE.UTF-8 is missing (build-aux/common.sh generates it with localedef)\n");
      return EXIT_FAILURE;
    }
  if (localedir == NULL || localedir[0] == '\0')
    {
      g_printerr ("THECAL_LOCALEDIR is not set (tests/app/meson.build sets it to <build>/po)\n");
      return EXIT_FAILURE;
    }
  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  return app_test_main (i18n_suite ());
}
