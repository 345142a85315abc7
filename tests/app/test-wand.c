/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-wand.c: the overview connecting to a pump through the USB wand (docs/gui.md "Pump
 * overview"), in process under Xvfb, with the wand emulated by umockdev (tests/wand/emulated-wand.c,
 * TESTING.md) relaying to a simulated pump in this process:
 *
 *  - a patient who is not a demo patient (added to a demo record with the demo world's spare
 *    pump implanted and paired), so the overview takes the USB path: the real libusb transport,
 *    the pump link and the visit, as `thecal-cli visit MRN --wand` does; connect, and the
 *    overview shows what the pump runs, read through the wand;
 *  - without a wand: the wand's own message, nothing connected, the page usable again.
 *
 * Exits 77 without a display. libumockdev-preload is linked first (tests/app/meson.build), so
 * libusb only ever sees the emulated device.
 */
#include "config.h"

#include "app-fixture.h"

#include <string.h>
#include <umockdev.h>

#include "emulated-wand.h"
#include "test-usb-util.h"

#define WAND_MRN "WAND-0001"

/* A patient of no demo pump, with the world's spare pump implanted and paired (its demo key). */
static void
add_wand_patient (ThecalRecord *record, const char *serial)
{
  g_autoptr (GError) error = NULL;
  /* a clinical user adds patients and pumps (an administrator may not: permission patient.create) */
  g_autoptr (ThecalRecordSession) clinician = thecal_record_session_login_sync (record, THECAL_DEMO_USER_NAME, THECAL_DEMO_USER_PASSWORD,
                                                                                NULL, &error);
  guint8 key[THECAL_KEY_SIZE];
  ThecalPatientInput patient = { .mrn = WAND_MRN, .name = "WAND, Walter", .date_of_birth = "1970-01-01", .opioid_tolerance = THECAL_OPIOID_TOLERANT };
  ThecalPumpInput pump = { .serial = serial, .model_id = THECAL_DEMO_SPARE_MODEL, .patient_mrn = WAND_MRN, .implant_date = "2025-06-01", .catheter_length_mm = THECAL_DEMO_SPARE_CATHETER_MM, .pairing_key = key };
  g_autoptr (ThecalPatient) added = NULL;
  g_autoptr (ThecalPump) implanted = NULL;

  ck_assert_msg (clinician != NULL, "%s", error != NULL ? error->message : "");
  thecal_sim_pump_demo_key (serial, key);
  added = thecal_record_session_add_patient_sync (clinician, &patient, NULL, &error);
  ck_assert_msg (added != NULL, "%s", error != NULL ? error->message : "");
  implanted = thecal_record_session_add_pump_sync (clinician, &pump, NULL, &error);
  ck_assert_msg (implanted != NULL, "%s", error != NULL ? error->message : "");
}

static gboolean
list_has_seven (gpointer window)
{
  ThecalPatientList *list = thecal_patients_page_get_list (thecal_window_get_patients_page (window));

  return list != NULL && !thecal_patient_list_get_loading (list) && g_list_model_get_n_items (G_LIST_MODEL (list)) == 7;
}

static gboolean
row_status_read (gpointer window)
{
  g_autofree char *row = thecal_patients_page_dup_row_status (thecal_window_get_patients_page (window), WAND_MRN);

  return row != NULL && row[0] != '\0';
}

typedef struct
{
  ThecalWindow *window;
  const char *text;
} WandText;

/* The header's wand status says @text (asking the wand now rather than at the next poll). */
static gboolean
wand_status_says (gpointer user_data)
{
  WandText *want = user_data;
  ThecalWandStatus *status = thecal_window_get_wand_status (want->window);
  g_autofree char *text = thecal_wand_status_dup_text (status);

  if (g_strcmp0 (text, want->text) == 0)
    return TRUE;
  thecal_wand_status_ask_now (status);
  return FALSE;
}

static void
assert_wand_status (ThecalWindow *window, const char *text)
{
  WandText want = { window, text };
  g_autofree char *shown = NULL;

  if (wait_for (wand_status_says, &want))
    return;
  shown = thecal_wand_status_dup_text (thecal_window_get_wand_status (window));
  ck_abort_msg ("the wand status says “%s”, not “%s”", shown, text);
}

static gboolean
connect_done (gpointer page)
{
  return !thecal_overview_page_get_busy (page);
}

static void
assert_page_text (ThecalOverviewPage *page, const char *key, const char *part)
{
  g_autofree char *text = thecal_overview_page_dup_text (page, key);

  ck_assert_msg (text != NULL && strstr (text, part) != NULL, "%s: “%s” has no “%s”", key, text, part);
}

/* A record (the demo's, which the fixture's helpers make) with the wand patient; a clinic window
 * (not demo mode) on it, signed in as the demo user, the wand patient selected. */
static ThecalOverviewPage *
wand_patient_window (const char *serial, ThecalRecord **record_out, ThecalWindow **window_out)
{
  g_autofree char *path = g_build_filename (tmp_dir, "record.sqlite", NULL);
  g_autoptr (GError) error = NULL;
  ThecalRecord *record = thecal_demo_record_create_sync (path, THECAL_RECORD_OPEN_FAST_HASH, NULL, NULL, &error);
  ThecalWindow *window;
  ThecalPatientsPage *patients;
  ThecalOverviewPage *overview;

  ck_assert_msg (record != NULL, "%s", error != NULL ? error->message : "");
  add_wand_patient (record, serial);
  window = thecal_window_new (NULL, FALSE, models, library);
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 760);
  thecal_window_set_record (window, record);
  gtk_window_present (GTK_WINDOW (window));
  thecal_sign_in_page_set_credentials (thecal_window_get_sign_in_page (window), THECAL_DEMO_USER_NAME, THECAL_DEMO_USER_PASSWORD);
  thecal_sign_in_page_submit (thecal_window_get_sign_in_page (window));
  ck_assert (wait_for (signed_in, window));
  ck_assert (wait_for (list_has_seven, window));
  patients = thecal_window_get_patients_page (window);
  thecal_patients_page_select (patients, 6); /* by MRN: DEMO-0001 … DEMO-0006, WAND-0001 */
  overview = thecal_window_get_overview_page (window);
  ck_assert_str_eq (thecal_overview_page_get_mrn (overview), WAND_MRN);
  *record_out = record;
  *window_out = window;
  return overview;
}

/* Connect through the emulated USB wand to the spare pump: identified, paired with the key the
 * record holds, interrogated; the overview shows what the pump runs. */
START_TEST (test_wand_connect)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalDemoWorld) world = thecal_demo_world_new (models);
  const char *serial = thecal_demo_world_get_spare_serial (world);
  ThecalSimPump *pump = thecal_demo_world_get_pump (world, serial, &error);
  g_autoptr (EmulatedWand) wand = NULL;
  g_autofree UsbTestPump *side = NULL;
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = NULL;
  ThecalOverviewPage *overview;

  ck_assert_msg (pump != NULL, "%s", error != NULL ? error->message : "");
  wand = emulated_wand_new (0x1209, 0x0001, USB_TEST_SERIAL, &error);
  ck_assert_msg (wand != NULL, "%s", error != NULL ? error->message : "");
  ck_assert (umockdev_in_mock_environment ()); /* asked after the testbed exists (emulated-wand.c) */
  ck_assert_msg (emulated_wand_plug (wand, &error), "%s", error != NULL ? error->message : "");
  side = usb_test_pump_new_sim (pump);
  emulated_wand_set_relay (wand, usb_test_pump_relay, side);

  overview = wand_patient_window (serial, &record, &window);
  /* before connecting, the header asks the wand through a link of its own: a pump in range, not
   * identified yet (WAND_LINK reaches only the wand) */
  assert_wand_status (window, "Pump in range, link 92 %");
  ck_assert_int_eq (usb_test_pump_frames (side), 0);
  thecal_overview_page_connect (overview);
  ck_assert (wait_for (connect_done, overview));
  assert_page_text (overview, "status", "Connected");
  /* connected: the header asks through the visit's link, which knows the pump's serial */
  {
    g_autofree char *text = g_strdup_printf ("Pump %s in range, link 92 %%", serial);

    assert_wand_status (window, text);
  }
  /* the wand reports a weaker link, then loses the pump */
  {
    ThecalWandLink weak = { .rssi_dbm = -85, .quality_percent = 40, .pump_in_range = TRUE };
    ThecalWandLink lost = { .rssi_dbm = -127, .quality_percent = 0, .pump_in_range = FALSE };
    g_autofree char *text = g_strdup_printf ("Pump %s in range, link 40 %%", serial);
    const char *tooltip;

    emulated_wand_set_link (wand, &weak);
    assert_wand_status (window, text);
    tooltip = gtk_widget_get_tooltip_text (GTK_WIDGET (thecal_window_get_wand_status (window)));
    ck_assert_msg (tooltip != NULL && strstr (tooltip, "-85 dBm") != NULL, "%s", tooltip);
    screenshot (GTK_WIDGET (window), "wand-status-weak-link.png");
    emulated_wand_set_link (wand, &lost);
    assert_wand_status (window, "Wand present, no pump in range");
    emulated_wand_set_link (wand, &weak);
    assert_wand_status (window, text);
  }
  ck_assert_ptr_nonnull (thecal_overview_page_get_visit (overview));
  ck_assert_ptr_null (thecal_overview_page_get_demo_link (overview));
  ck_assert_str_eq (thecal_visit_get_pump (thecal_overview_page_get_visit (overview))->serial, serial);
  ck_assert_int_gt (usb_test_pump_frames (side), 4); /* handshake, status, prescription, log… */
  assert_page_text (overview, "reservoir", "of 20 mL");
  /* the spare pump was never programmed: no drug, no concentration (not "0 mcg/mL") */
  assert_page_text (overview, "drug", "None programmed");
  assert_page_text (overview, "concentration", "—");
  /* a clinic window: the row's status comes from the record (no refill of this pump yet) */
  ck_assert (wait_for (row_status_read, window));
  {
    g_autofree char *row = thecal_patients_page_dup_row_status (thecal_window_get_patients_page (window), WAND_MRN);

    ck_assert_str_eq (row, "No refill in the record");
  }
  screenshot (GTK_WIDGET (window), "wand-connected.png");
  gtk_window_destroy (GTK_WINDOW (window));
  settle (100);
}
END_TEST

/* No wand plugged in: the wand's message, no visit, Connect usable again. */
START_TEST (test_wand_absent)
{
  g_autoptr (ThecalDemoWorld) world = thecal_demo_world_new (models);
  /* an empty testbed: libusb sees the emulated /sys with no device at all, never the real one */
  g_autoptr (UMockdevTestbed) testbed = umockdev_testbed_new ();
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = NULL;
  ThecalOverviewPage *overview;

  ck_assert (umockdev_in_mock_environment ());
  overview = wand_patient_window (thecal_demo_world_get_spare_serial (world), &record, &window);
  assert_wand_status (window, "Wand absent");
  thecal_overview_page_connect (overview);
  ck_assert (wait_for (connect_done, overview));
  assert_page_text (overview, "status", "No wand connected");
  ck_assert_ptr_null (thecal_overview_page_get_visit (overview));
  ck_assert (!thecal_overview_page_get_busy (overview));
  screenshot (GTK_WIDGET (window), "wand-absent.png");
  gtk_window_destroy (GTK_WINDOW (window));
  settle (100);
}
END_TEST

static Suite *
wand_suite (void)
{
  Suite *suite = suite_create ("wand");

  THECAL_TEST_TCASE (suite, "wand", setup, teardown, 120, test_wand_connect, test_wand_absent);
  return suite;
}

int
main (void)
{
  return app_test_main (wand_suite ());
}
