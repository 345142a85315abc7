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
 *  - without a wand: the wand's own message, nothing connected, the page usable again;
 *  - a new pump not in the record yet (REG-0001, no pump): connect answers UNKNOWN_PUMP, "Register
 *    This Pump…" is offered, the implant dialog asks for the pairing key delivered with the pump:
 *    a malformed key is named next to the field, a well-formed wrong one is refused by the
 *    workflow (the pump does not accept it), neither writes anything; the right key (loaded from
 *    its file) registers the pump and the overview reads it.
 *
 * Exits 77 without a display. libumockdev-preload is linked first (tests/app/meson.build), so
 * libusb only ever sees the emulated device.
 */
#include "config.h"

#include "app-fixture.h"

#include <string.h>
#include <umockdev.h>

#include "emulated-wand.h"
#include "thecal-settings.h"
#include "test-usb-util.h"
#include "thecal-implant-dialog.h"
#include "thecal-sync-call.h"

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
    /* the preferences' wand ID changed during the visit: the header watches the new ID (no such
     * wand) but the visit's working link still proves this one */
    {
      g_autoptr (GSettings) settings = thecal_settings_new ();

      ck_assert_ptr_nonnull (settings);
      ck_assert (g_settings_set_string (settings, "wand-usb-id", "1209:00ff"));
      settle (100);
      assert_wand_status (window, text);
      ck_assert (g_settings_set_string (settings, "wand-usb-id", "1209:0001"));
      settle (100);
      assert_wand_status (window, text);
    }
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

/* ---- a new pump registered through the wand -------------------------------------------------- */

#define NEW_MRN "REG-0001"

/* The audit entries of @action in @record. */
static guint
count_audit (ThecalRecord *record, const char *action)
{
  g_autoptr (ThecalSyncCall) call = thecal_sync_call_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  guint n = 0;

  thecal_record_list_audit_async (record, 1, 0, NULL, thecal_sync_call_callback, call);
  entries = thecal_record_list_audit_finish (record, thecal_sync_call_wait (call), &error);
  ck_assert_msg (entries != NULL, "%s", error != NULL ? error->message : "");
  for (guint i = 0; i < entries->len; i++)
    if (g_str_equal (((ThecalAuditEntry *) entries->pdata[i])->action, action))
      n++;
  return n;
}

static void
assert_audit_intact (ThecalRecord *record)
{
  g_autoptr (ThecalSyncCall) call = thecal_sync_call_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalAuditVerification) verification = NULL;

  thecal_record_verify_audit_async (record, 0, NULL, NULL, thecal_sync_call_callback, call);
  verification = thecal_record_verify_audit_finish (record, thecal_sync_call_wait (call), &error);
  ck_assert_msg (verification != NULL, "%s", error != NULL ? error->message : "");
  ck_assert_msg (verification->problem == THECAL_AUDIT_INTACT, "%s", verification->message);
}

/* TRUE when @serial is in the record (any patient's). */
static gboolean
pump_recorded (ThecalRecord *record, const char *serial)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecordSession) session = thecal_record_session_login_sync (record, THECAL_DEMO_USER_NAME, THECAL_DEMO_USER_PASSWORD,
                                                                              NULL, &error);
  g_autoptr (ThecalPump) pump = NULL;

  ck_assert_msg (session != NULL, "%s", error != NULL ? error->message : "");
  pump = thecal_record_session_get_pump_sync (session, serial, NULL, &error);
  if (pump == NULL)
    ck_assert_msg (g_error_matches (error, THECAL_DB_ERROR, THECAL_DB_ERROR_NOT_FOUND), "%s", error->message);
  return pump != NULL;
}

/* The implant dialog open (a toplevel), or NULL. */
static ThecalImplantDialog *
find_implant_dialog (void)
{
  g_autoptr (GListModel) toplevels = g_object_ref (gtk_window_get_toplevels ());

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GObject) window = g_list_model_get_item (toplevels, i);

      if (THECAL_IS_IMPLANT_DIALOG (window))
        return THECAL_IMPLANT_DIALOG (window);
    }
  return NULL;
}

static gboolean
dialog_open (gpointer unused)
{
  (void) unused;
  return find_implant_dialog () != NULL;
}

static gboolean
implant_idle (gpointer dialog)
{
  return !thecal_implant_dialog_get_busy (dialog) && !thecal_implant_dialog_get_loading_key (dialog);
}

static gboolean
window_gone (gpointer data)
{
  return *(GtkWidget **) data == NULL;
}

static gboolean
overview_idle_connected (gpointer page)
{
  return !thecal_overview_page_get_busy (page) && thecal_overview_page_get_visit (page) != NULL;
}

static void
assert_implant_has (ThecalImplantDialog *dialog, const char *key, const char *part)
{
  g_autofree char *text = thecal_implant_dialog_dup_text (dialog, key);

  ck_assert_msg (text != NULL && strstr (text, part) != NULL, "%s: “%s” has no “%s”", key, text, part);
}

/* A record (the demo's) with REG-0001, a patient with no pump yet; a clinic window on it, signed
 * in as the demo user (a clinical user may register implants), REG-0001 selected. */
static ThecalOverviewPage *
new_pump_patient_window (ThecalRecord **record_out, ThecalWindow **window_out)
{
  g_autofree char *path = g_build_filename (tmp_dir, "record.sqlite", NULL);
  g_autoptr (GError) error = NULL;
  ThecalRecord *record = thecal_demo_record_create_sync (path, THECAL_RECORD_OPEN_FAST_HASH, NULL, NULL, &error);
  ThecalPatientInput patient = { .mrn = NEW_MRN, .name = "REGAN, Rita", .date_of_birth = "1968-04-02", .opioid_tolerance = THECAL_OPIOID_TOLERANT };
  g_autoptr (ThecalRecordSession) clinician = NULL;
  g_autoptr (ThecalPatient) added = NULL;
  ThecalWindow *window;
  ThecalOverviewPage *overview;

  ck_assert_msg (record != NULL, "%s", error != NULL ? error->message : "");
  clinician = thecal_record_session_login_sync (record, THECAL_DEMO_USER_NAME, THECAL_DEMO_USER_PASSWORD, NULL, &error);
  ck_assert_msg (clinician != NULL, "%s", error != NULL ? error->message : "");
  added = thecal_record_session_add_patient_sync (clinician, &patient, NULL, &error);
  ck_assert_msg (added != NULL, "%s", error != NULL ? error->message : "");
  window = thecal_window_new (NULL, FALSE, models, library);
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 760);
  thecal_window_set_record (window, record);
  gtk_window_present (GTK_WINDOW (window));
  thecal_sign_in_page_set_credentials (thecal_window_get_sign_in_page (window), THECAL_DEMO_USER_NAME, THECAL_DEMO_USER_PASSWORD);
  thecal_sign_in_page_submit (thecal_window_get_sign_in_page (window));
  ck_assert (wait_for (signed_in, window));
  ck_assert (wait_for (list_has_seven, window));
  thecal_patients_page_select (thecal_window_get_patients_page (window), 6); /* by MRN: DEMO-0001 … DEMO-0006, REG-0001 */
  overview = thecal_window_get_overview_page (window);
  ck_assert_str_eq (thecal_overview_page_get_mrn (overview), NEW_MRN);
  *record_out = record;
  *window_out = window;
  return overview;
}

/* The pump through the wand is not in the record: registered from the app with the pairing key
 * delivered with it, after a malformed and a wrong key were refused with nothing written. */
START_TEST (test_wand_register_new_pump)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalDemoWorld) world = thecal_demo_world_new (models);
  const char *serial = thecal_demo_world_get_spare_serial (world);
  ThecalSimPump *pump = thecal_demo_world_get_pump (world, serial, &error);
  g_autoptr (EmulatedWand) wand = NULL;
  g_autofree UsbTestPump *side = NULL;
  g_autoptr (ThecalRecord) record = NULL;
  g_autofree char *key_path = g_build_filename (tmp_dir, "pairing-key.txt", NULL);
  g_autoptr (GFile) key_file = g_file_new_for_path (key_path);
  g_autofree char *key_text = NULL;
  GString *hex = g_string_new (NULL);
  ThecalWindow *window = NULL;
  ThecalOverviewPage *overview;
  GtkWidget *register_button;
  GtkWidget *widget;
  ThecalImplantDialog *dialog;
  ThecalImplantReport report = { 0 };
  gboolean ok = FALSE;
  guint8 key[THECAL_KEY_SIZE];
  guint refused;
  gint frames;

  ck_assert_msg (pump != NULL, "%s", error != NULL ? error->message : "");
  wand = emulated_wand_new (0x1209, 0x0001, USB_TEST_SERIAL, &error);
  ck_assert_msg (wand != NULL, "%s", error != NULL ? error->message : "");
  ck_assert (umockdev_in_mock_environment ());
  ck_assert_msg (emulated_wand_plug (wand, &error), "%s", error != NULL ? error->message : "");
  side = usb_test_pump_new_sim (pump);
  emulated_wand_set_relay (wand, usb_test_pump_relay, side);

  overview = new_pump_patient_window (&record, &window);
  register_button = find_button (GTK_WIDGET (overview), "Register This Pump…");
  ck_assert_ptr_nonnull (register_button);
  ck_assert (!gtk_widget_get_visible (register_button));
  thecal_overview_page_connect (overview);
  ck_assert (wait_for (connect_done, overview));
  assert_page_text (overview, "status", serial);
  assert_page_text (overview, "status", "not in the record");
  ck_assert_ptr_null (thecal_overview_page_get_visit (overview));
  ck_assert_ptr_null (thecal_overview_page_get_demo_link (overview));
  /* the wand's visit stays for the registration: the button is offered and opens the dialog */
  ck_assert (gtk_widget_get_visible (register_button));
  ck_assert (gtk_widget_activate (register_button));
  ck_assert (wait_for (dialog_open, NULL));
  dialog = find_implant_dialog ();
  widget = GTK_WIDGET (dialog);
  g_object_add_weak_pointer (G_OBJECT (widget), (gpointer *) &widget);
  gtk_window_set_default_size (GTK_WINDOW (widget), 620, 980);
  ck_assert (thecal_implant_dialog_has_key_field (dialog));
  ck_assert (thecal_implant_dialog_set_drug (dialog, "morphine"));
  thecal_implant_dialog_set_field (dialog, "implant_date", "2026-01-05");
  thecal_implant_dialog_set_field (dialog, "catheter", "45.5 cm");
  thecal_implant_dialog_set_field (dialog, "concentration", "25 mg/mL");
  thecal_implant_dialog_set_field (dialog, "dose", "4 mg/day");
  thecal_implant_dialog_set_field (dialog, "override", "25 mg/mL is the clinic's standard morphine strength");
  thecal_implant_dialog_set_priming (dialog, FALSE);
  settle (100);
  screenshot (widget, "implant-key.png");

  /* a malformed key: named next to its field with the limit; nothing sent, nothing written */
  frames = usb_test_pump_frames (side);
  refused = count_audit (record, "implant.refused");
  thecal_implant_dialog_set_field (dialog, "pairing_key", "0011 2233 4455 6677 8899 aabb ccdd eeff 0011 2233 4455 6677 8899 aabb ccdd eef");
  thecal_implant_dialog_next (dialog);
  ck_assert_str_eq (thecal_implant_dialog_get_page (dialog), "form");
  assert_implant_has (dialog, "pairing_key", "Pairing key: 64 hexadecimal digits, not 63");
  thecal_implant_dialog_set_field (dialog, "pairing_key", "zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  thecal_implant_dialog_next (dialog);
  assert_implant_has (dialog, "pairing_key", "“zz” is not a hexadecimal byte");
  ck_assert_int_eq (usb_test_pump_frames (side), frames);
  ck_assert (!pump_recorded (record, serial));

  /* a well-formed key the pump does not hold: the workflow's refusal next to the field, audited;
   * nothing written */
  thecal_implant_dialog_set_field (dialog, "pairing_key", "00112233445566778899AABBCCDDEEFF-00112233445566778899AABBCCDDEEFF");
  thecal_implant_dialog_next (dialog);
  ck_assert (wait_for (implant_idle, dialog));
  ck_assert_str_eq (thecal_implant_dialog_get_page (dialog), "form");
  ck_assert (!thecal_implant_dialog_get_finished (dialog, NULL, NULL));
  assert_implant_has (dialog, "pairing_key", "does not open a session with pump");
  assert_implant_has (dialog, "pairing_key", serial);
  ck_assert_int_gt (usb_test_pump_frames (side), frames); /* the handshake reached the pump */
  ck_assert_uint_eq (count_audit (record, "implant.refused"), refused + 1);
  ck_assert (!pump_recorded (record, serial));
  assert_audit_intact (record);
  settle (100);
  screenshot (widget, "implant-key-refused.png");

  /* the right key, from the file delivered with the pump (upper case, in groups, two lines) */
  thecal_sim_pump_demo_key (serial, key);
  for (gsize i = 0; i < sizeof key; i++)
    g_string_append_printf (hex, "%02X%s", key[i], i == 15 ? "\n" : i % 4 == 3 ? " "
                                                                               : "");
  key_text = g_string_free (hex, FALSE);
  ck_assert (g_file_set_contents (key_path, key_text, -1, NULL));
  thecal_implant_dialog_load_key_file (dialog, key_file);
  ck_assert (wait_for (implant_idle, dialog));
  {
    g_autofree char *message = thecal_implant_dialog_dup_text (dialog, "pairing_key");

    ck_assert_msg (g_strcmp0 (message, "") == 0, "%s", message);
  }
  thecal_implant_dialog_next (dialog); /* Register */
  ck_assert (wait_for (implant_idle, dialog));
  {
    g_autofree char *outcome = thecal_implant_dialog_dup_text (dialog, "outcome");
    g_autofree char *form = thecal_implant_dialog_dup_text (dialog, "form");
    g_autofree char *why = thecal_implant_dialog_dup_text (dialog, "pairing_key");

    ck_assert_msg (thecal_implant_dialog_get_finished (dialog, &ok, &report) && ok, "outcome: %s / form: %s / key: %s", outcome, form, why);
  }
  ck_assert_int_eq (report.program_outcome, THECAL_OUTCOME_CONFIRMED);
  assert_implant_has (dialog, "outcome", "Implant Registered");
  ck_assert (pump_recorded (record, serial));
  ck_assert_uint_eq (count_audit (record, "implant.refused"), refused + 1);
  thecal_implant_dialog_next (dialog); /* Close */
  ck_assert (wait_for (window_gone, &widget));
  /* the overview reads the newly registered pump through the same wand visit */
  ck_assert (wait_for (overview_idle_connected, overview));
  ck_assert_str_eq (thecal_visit_get_pump (thecal_overview_page_get_visit (overview))->serial, serial);
  assert_page_text (overview, "status", "The new implant is in the record.");
  assert_page_text (overview, "dose", "4 mg/day");
  ck_assert (!gtk_widget_get_visible (register_button));
  assert_audit_intact (record);
  memset (key, 0, sizeof key);
  screenshot (GTK_WIDGET (window), "wand-registered.png");
  gtk_window_destroy (GTK_WINDOW (window));
  settle (100);
}
END_TEST

static Suite *
wand_suite (void)
{
  Suite *suite = suite_create ("wand");

  THECAL_TEST_TCASE (suite, "wand", setup, teardown, 120, test_wand_connect, test_wand_absent, test_wand_register_new_pump);
  return suite;
}

int
main (void)
{
  return app_test_main (wand_suite ());
}
