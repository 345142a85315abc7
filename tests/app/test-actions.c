/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-actions.c: boluses, clock synchronisation, alarm acknowledgement and the registration of
 * a new implant in the GTK app, in process under Xvfb (TESTING.md "GTK 4 without a display"), on
 * a demo record (thecal-demo.h) and its simulated pumps:
 *
 *  - a clinician bolus reviewed (exact volume, duration, the day's worst case) and confirmed;
 *    refused for too large a dose (the dose field named) and for a bad text; a nurse refused by
 *    the workflow (`bolus`); UNCERTAIN when the pump leaves the wand's range, blocking until
 *    "Read the Pump Again" settles it;
 *  - the pump's clock 10 min ahead (set on the simulated pump): the finding, the confirmation,
 *    the synchronisation and the finding gone;
 *  - the motor-stall pump's critical alarm acknowledged after its confirmation, and the
 *    low-reservoir alarm at once (by a nurse), a second acknowledgement refused by the pump;
 *  - a pump not in the record (a record without DEMO-0006's pump): "Register This Pump…", the
 *    form's fields named when wrong, the implant registered with its first prescription and the
 *    priming bolus, the overview then reading it; a nurse refused by the workflow.
 *
 * With THECAL_SCREENSHOT_DIR set, each page is saved there as a PNG (docs/gui.md). Exits 77
 * (skip) without a display.
 */
#include "config.h"

#include "app-fixture.h"

#include <adwaita.h>
#include <string.h>

#include "thecal-bolus-dialog.h"
#include "thecal-implant-dialog.h"
#include "thecal-sim-pump.h"

/* ---- helpers -------------------------------------------------------------------------------- */

static gboolean
bolus_finished (gpointer dialog)
{
  return thecal_bolus_dialog_get_finished (dialog, NULL) && !thecal_bolus_dialog_get_busy (dialog);
}

static gboolean
bolus_idle (gpointer dialog)
{
  return !thecal_bolus_dialog_get_busy (dialog);
}

static void
assert_bolus_has (ThecalBolusDialog *dialog, const char *key, const char *part)
{
  g_autofree char *text = thecal_bolus_dialog_dup_text (dialog, key);

  ck_assert_msg (text != NULL && strstr (text, part) != NULL, "%s: “%s” has no “%s”", key, text, part);
}

static void
assert_bolus_is (ThecalBolusDialog *dialog, const char *key, const char *expected)
{
  g_autofree char *text = thecal_bolus_dialog_dup_text (dialog, key);

  ck_assert_msg (g_strcmp0 (text, expected) == 0, "%s: “%s”, expected “%s”", key, text, expected);
}

static void
assert_overview_has (ThecalOverviewPage *overview, const char *key, const char *part)
{
  g_autofree char *text = thecal_overview_page_dup_text (overview, key);

  ck_assert_msg (text != NULL && strstr (text, part) != NULL, "%s: “%s” has no “%s”", key, text, part);
}

static void
assert_overview_lacks (ThecalOverviewPage *overview, const char *key, const char *part)
{
  g_autofree char *text = thecal_overview_page_dup_text (overview, key);

  ck_assert_msg (text != NULL && strstr (text, part) == NULL, "%s: “%s” has “%s”", key, text, part);
}

/* The overview is idle again and connected (after an action and the read that follows it). */
static gboolean
overview_idle_connected (gpointer page)
{
  return !thecal_overview_page_get_busy (page) && thecal_overview_page_get_visit (page) != NULL;
}

static gboolean
window_gone (gpointer data)
{
  return *(GtkWidget **) data == NULL;
}

/* Activates the response button labelled @label of a message dialog, as a person would: the
 * dialog emits "response" and closes itself. */
static void
respond (GtkWidget *dialog, const char *label)
{
  GtkWidget *button = find_button (dialog, label);

  ck_assert_msg (button != NULL, "no button “%s”", label);
  g_signal_emit_by_name (button, "clicked");
}

/* ---- boluses -------------------------------------------------------------------------------- */

/* A clinician bolus of 0.5 mg over 30 min on ROE, Richard (morphine 25 mg/mL, 5 mg/day):
 * reviewed with the exact volume and duration, given, confirmed; the overview reads the pump
 * again when the dialog closes. */
START_TEST (test_bolus_clinician)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalOverviewPage *overview = connect_low_reservoir (window);
  GtkWidget *widget = thecal_overview_page_open_bolus (overview, THECAL_VISIT_BOLUS_CLINICIAN);
  ThecalBolusDialog *dialog = THECAL_BOLUS_DIALOG (widget);
  ThecalProgrammingOutcome outcome = THECAL_OUTCOME_PENDING;

  ck_assert_ptr_nonnull (dialog);
  g_object_add_weak_pointer (G_OBJECT (widget), (gpointer *) &widget);
  ck_assert_str_eq (thecal_bolus_dialog_get_page (dialog), "request");
  ck_assert (!thecal_bolus_dialog_can_go_next (dialog)); /* nothing typed yet */
  thecal_bolus_dialog_set_field (dialog, "dose", "0.5 mg");
  thecal_bolus_dialog_set_field (dialog, "duration", "30 min");
  ck_assert (thecal_bolus_dialog_can_go_next (dialog));
  screenshot (widget, "bolus-request.png");
  thecal_bolus_dialog_next (dialog);
  {
    g_autofree char *errors = thecal_bolus_dialog_dup_text (dialog, "dose");

    ck_assert_msg (g_strcmp0 (thecal_bolus_dialog_get_page (dialog), "review") == 0, "still on the request: %s", errors);
  }
  /* 0.5 mg at 25 mg/mL: 0.02 mL, over the 30 min asked; the day's worst case 5 + 0.5 mg */
  assert_bolus_is (dialog, "volume", "0.02 mL");
  assert_bolus_is (dialog, "duration_value", "30 min");
  assert_bolus_is (dialog, "drug_dose", "500 mcg of morphine");
  assert_bolus_has (dialog, "day", "5.5 mg/day");
  assert_bolus_has (dialog, "summary", "0.02 mL");
  screenshot (widget, "bolus-review.png");
  assert_bolus_has (dialog, "day", "within the drug library's daily limits");
  ck_assert (thecal_bolus_dialog_can_go_next (dialog)); /* no reason needed */
  thecal_bolus_dialog_next (dialog);                    /* Give Bolus */
  ck_assert (wait_for (bolus_finished, dialog));
  ck_assert (thecal_bolus_dialog_get_finished (dialog, &outcome));
  {
    g_autofree char *text = thecal_bolus_dialog_dup_text (dialog, "outcome");

    ck_assert_msg (outcome == THECAL_OUTCOME_CONFIRMED, "outcome %d: %s", outcome, text);
  }
  assert_bolus_has (dialog, "outcome", "Bolus Confirmed");
  assert_bolus_has (dialog, "outcome", "0.02 mL");
  screenshot (widget, "bolus-confirmed.png");
  ck_assert (!thecal_visit_bolus_uncertain (thecal_overview_page_get_visit (overview)));
  /* Close: the overview reads the pump again */
  thecal_bolus_dialog_next (dialog);
  ck_assert (wait_for (window_gone, &widget));
  ck_assert (thecal_overview_page_get_busy (overview));
  ck_assert (wait_for (overview_idle_connected, overview));
  assert_overview_has (overview, "status", "Connected");
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* What the dose core or the workflow refuses is shown next to the dose field, naming it; nothing
 * is written. */
START_TEST (test_bolus_refused)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalOverviewPage *overview = connect_low_reservoir (window);
  ThecalBolusDialog *dialog = THECAL_BOLUS_DIALOG (thecal_overview_page_open_bolus (overview, THECAL_VISIT_BOLUS_CLINICIAN));

  /* not a dose: the parser's message, the field named */
  thecal_bolus_dialog_set_field (dialog, "dose", "0.5 mL");
  thecal_bolus_dialog_set_field (dialog, "duration", "30 min");
  thecal_bolus_dialog_next (dialog);
  ck_assert_str_eq (thecal_bolus_dialog_get_page (dialog), "request");
  assert_bolus_has (dialog, "dose", "Dose: ");
  /* a bad duration */
  thecal_bolus_dialog_set_field (dialog, "dose", "0.5 mg");
  thecal_bolus_dialog_set_field (dialog, "duration", "soon");
  thecal_bolus_dialog_next (dialog);
  ck_assert_str_eq (thecal_bolus_dialog_get_page (dialog), "request");
  assert_bolus_has (dialog, "duration", "Duration: ");
  /* too large a dose for the time: 50 mg is 2 mL, above the TR-20's 1 mL/h bolus maximum */
  thecal_bolus_dialog_set_field (dialog, "dose", "50 mg");
  thecal_bolus_dialog_set_field (dialog, "duration", "1 h");
  thecal_bolus_dialog_next (dialog);
  ck_assert_str_eq (thecal_bolus_dialog_get_page (dialog), "request");
  assert_bolus_has (dialog, "dose", "Dose: ");
  assert_bolus_has (dialog, "dose", "bolus maximum");
  screenshot (GTK_WIDGET (dialog), "bolus-refused.png");
  /* 11 mg over 1 h fits the pump but brings the day to 16 mg, above morphine's soft 15 mg/day:
   * the review asks a reason of at least 10 characters before Give Bolus */
  thecal_bolus_dialog_set_field (dialog, "dose", "11 mg");
  thecal_bolus_dialog_next (dialog);
  ck_assert_str_eq (thecal_bolus_dialog_get_page (dialog), "review");
  assert_bolus_is (dialog, "volume", "0.44 mL");
  assert_bolus_is (dialog, "duration_value", "1 h");
  assert_bolus_is (dialog, "day", "16 mg/day: above a soft daily limit of the drug library");
  ck_assert (!thecal_bolus_dialog_can_go_next (dialog));
  thecal_bolus_dialog_set_field (dialog, "reason", "too short");
  ck_assert (!thecal_bolus_dialog_can_go_next (dialog));
  assert_bolus_has (dialog, "reason", "at least 10 characters");
  thecal_bolus_dialog_set_field (dialog, "reason", "Agreed with the pain team for a procedure");
  ck_assert (thecal_bolus_dialog_can_go_next (dialog));
  assert_bolus_is (dialog, "reason", "");
  screenshot (GTK_WIDGET (dialog), "bolus-reason.png");
  thecal_bolus_dialog_back (dialog);
  ck_assert_str_eq (thecal_bolus_dialog_get_page (dialog), "request");
  /* the workflow wrote nothing */
  ck_assert (!thecal_bolus_dialog_get_finished (dialog, NULL));
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* A nurse may see the review, but the workflow refuses the bolus (permission `bolus`, audited):
 * the refusal is shown as the workflow says it. */
START_TEST (test_bolus_nurse_refused)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = NULL;
  ThecalOverviewPage *overview = connect_as_nurse (&window, &record);
  ThecalBolusDialog *dialog = THECAL_BOLUS_DIALOG (thecal_overview_page_open_bolus (overview, THECAL_VISIT_BOLUS_CLINICIAN));
  ThecalProgrammingOutcome outcome = THECAL_OUTCOME_PENDING;

  thecal_bolus_dialog_set_field (dialog, "dose", "0.5 mg");
  thecal_bolus_dialog_set_field (dialog, "duration", "30 min");
  thecal_bolus_dialog_next (dialog);
  ck_assert_str_eq (thecal_bolus_dialog_get_page (dialog), "review");
  ck_assert (thecal_bolus_dialog_can_go_next (dialog));
  thecal_bolus_dialog_next (dialog);
  ck_assert (wait_for (bolus_finished, dialog));
  ck_assert (thecal_bolus_dialog_get_finished (dialog, &outcome));
  ck_assert_int_eq (outcome, THECAL_OUTCOME_FAILED);
  assert_bolus_has (dialog, "outcome", "Bolus Not Given");
  assert_bolus_has (dialog, "outcome", "bolus");
  screenshot (GTK_WIDGET (dialog), "bolus-nurse-refused.png");
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* The pump leaves the wand's range as the bolus is sent: UNCERTAIN, blocking (Close insensitive,
 * the window does not close, the visit blocked); "Read the Pump Again" out of range leaves it
 * UNCERTAIN; back in range it settles it from what the pump reports (this pump never got it). */
START_TEST (test_bolus_uncertain)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalOverviewPage *overview = connect_low_reservoir (window);
  ThecalVisit *visit = thecal_overview_page_get_visit (overview);
  GtkWidget *widget = thecal_overview_page_open_bolus (overview, THECAL_VISIT_BOLUS_CLINICIAN);
  ThecalBolusDialog *dialog = THECAL_BOLUS_DIALOG (widget);
  ThecalLoopbackTransport *loopback = thecal_demo_link_get_loopback (thecal_overview_page_get_demo_link (overview));
  ThecalProgrammingOutcome outcome = THECAL_OUTCOME_PENDING;

  g_object_add_weak_pointer (G_OBJECT (widget), (gpointer *) &widget);
  thecal_bolus_dialog_set_field (dialog, "dose", "0.5 mg");
  thecal_bolus_dialog_set_field (dialog, "duration", "30 min");
  thecal_bolus_dialog_next (dialog);
  ck_assert_str_eq (thecal_bolus_dialog_get_page (dialog), "review");
  thecal_loopback_transport_set_pump_in_range (loopback, FALSE);
  thecal_bolus_dialog_next (dialog); /* Give Bolus */
  ck_assert (wait_for (bolus_finished, dialog));
  ck_assert (thecal_bolus_dialog_get_finished (dialog, &outcome));
  {
    g_autofree char *text = thecal_bolus_dialog_dup_text (dialog, "outcome");

    ck_assert_msg (outcome == THECAL_OUTCOME_UNCERTAIN, "outcome %d: %s", outcome, text);
  }
  assert_bolus_has (dialog, "outcome", "Outcome UNCERTAIN");
  assert_bolus_has (dialog, "outcome", "blocked until the pump is read again");
  ck_assert (thecal_visit_bolus_uncertain (visit));
  ck_assert (!thecal_bolus_dialog_can_go_next (dialog)); /* Close waits for the read */
  gtk_window_close (GTK_WINDOW (widget));                /* refused too */
  settle (50);
  ck_assert_ptr_nonnull (widget);
  screenshot (widget, "bolus-uncertain.png");
  /* one dialog at a time: no other bolus nor clock sync while this one waits for the read */
  ck_assert_ptr_null (thecal_overview_page_open_bolus (overview, THECAL_VISIT_BOLUS_CLINICIAN));
  ck_assert_ptr_null (thecal_overview_page_open_clock_sync (overview));

  /* still out of range: the read fails and the bolus stays UNCERTAIN */
  thecal_bolus_dialog_read_again (dialog);
  ck_assert (thecal_bolus_dialog_get_busy (dialog));
  ck_assert (wait_for (bolus_idle, dialog));
  thecal_bolus_dialog_get_finished (dialog, &outcome);
  ck_assert_int_eq (outcome, THECAL_OUTCOME_UNCERTAIN);
  assert_bolus_has (dialog, "outcome", "Outcome UNCERTAIN");
  ck_assert (thecal_visit_bolus_uncertain (visit));

  /* back in range: settled */
  thecal_loopback_transport_set_pump_in_range (loopback, TRUE);
  thecal_bolus_dialog_read_again (dialog);
  ck_assert (wait_for (bolus_idle, dialog));
  thecal_bolus_dialog_get_finished (dialog, &outcome);
  {
    g_autofree char *text = thecal_bolus_dialog_dup_text (dialog, "outcome");

    ck_assert_msg (outcome == THECAL_OUTCOME_FAILED || outcome == THECAL_OUTCOME_CONFIRMED, "outcome %d: %s", outcome, text);
  }
  assert_bolus_has (dialog, "outcome", "Settled by reading the pump");
  ck_assert (!thecal_visit_bolus_uncertain (visit));
  ck_assert (!thecal_visit_is_blocked (visit, NULL));
  screenshot (widget, "bolus-settled.png");
  ck_assert (thecal_bolus_dialog_can_go_next (dialog));
  thecal_bolus_dialog_next (dialog); /* Close */
  ck_assert (wait_for (window_gone, &widget));
  ck_assert (wait_for (overview_idle_connected, overview));
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* ---- clock ---------------------------------------------------------------------------------- */

/* The simulated pump's clock is set 10 min ahead (as a drifting oscillator would leave it): the
 * interrogation's finding offers the synchronisation; confirmed, the workflow sets the clock and
 * the finding is gone on the next read. */
START_TEST (test_clock_sync)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalOverviewPage *overview = connect_low_reservoir (window);
  ThecalLoopbackTransport *loopback = thecal_demo_link_get_loopback (thecal_overview_page_get_demo_link (overview));
  ThecalSimPump *pump = thecal_loopback_transport_get_pump (loopback);
  ThecalDoseError dose_error;
  GtkWidget *dialog;

  /* no drift at first: the dialog says so, and cancelling changes nothing */
  assert_overview_lacks (overview, "findings", "clock");
  dialog = thecal_overview_page_open_clock_sync (overview);
  ck_assert_ptr_nonnull (dialog);
  ck_assert_ptr_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (dialog)), "within 5 min"));
  respond (dialog, "Cancel");
  settle (50);
  ck_assert (!thecal_overview_page_get_busy (overview));

  /* the pump's clock 10 min ahead of the true (clinic's) time */
  thecal_dose_error_clear (&dose_error);
  thecal_loopback_transport_advance_pump (loopback);
  ck_assert_msg (thecal_engine_set_clock (&pump->engine, thecal_engine_pump_ms (&pump->engine) + 10 * 60 * 1000, &dose_error), "%s",
                 dose_error.message);
  thecal_overview_page_read_again (overview);
  ck_assert (wait_for (overview_idle_connected, overview));
  assert_overview_has (overview, "findings", "clock is 10 min ahead of the clinic's");
  screenshot_full (find_descendant (GTK_WIDGET (overview), ADW_TYPE_CLAMP), "clock-drift.png", TRUE);
  dialog = thecal_overview_page_open_clock_sync (overview);
  ck_assert_ptr_nonnull (dialog); /* the first one closed with its Cancel */
  ck_assert_ptr_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (dialog)), "ahead of the clinic's"));
  ck_assert_ptr_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (dialog)), "2026-01-05 09:1"));
  screenshot_after (dialog, "clock-sync.png", TRUE, 300);
  respond (dialog, "Sync Clock");
  ck_assert (thecal_overview_page_get_busy (overview));
  ck_assert (wait_for (overview_idle_connected, overview));
  assert_overview_has (overview, "status", "The pump's clock was 10 min ahead of the clinic's: it now reads the clinic's time.");
  assert_overview_lacks (overview, "findings", "clock");
  screenshot (GTK_WIDGET (window), "clock-synced.png");

  /* again: within the bound, nothing changed */
  dialog = thecal_overview_page_open_clock_sync (overview);
  ck_assert_ptr_nonnull (dialog);
  respond (dialog, "Sync Clock");
  ck_assert (wait_for (overview_idle_connected, overview));
  assert_overview_has (overview, "status", "within 5 min of the clinic's");
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* ---- alarms --------------------------------------------------------------------------------- */

/* The stalled pump: its critical alarm is acknowledged after a confirmation that says the stall
 * remains; the pump still reports the stall, acknowledged. */
START_TEST (test_alarm_ack_critical)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = demo_window (&record);
  ThecalOverviewPage *overview = thecal_window_get_overview_page (window);
  GtkWidget *dialog;

  thecal_sign_in_page_submit (thecal_window_get_sign_in_page (window)); /* the demo user, as offered */
  ck_assert (wait_for (signed_in, window));
  ck_assert (wait_for (list_has_six, window));
  thecal_patients_page_select (thecal_window_get_patients_page (window), 4); /* DEMO-0005 LOE, Linda */
  thecal_overview_page_connect (overview);
  ck_assert (wait_for (overview_connected, overview));
  ck_assert_ptr_nonnull (thecal_overview_page_get_visit (overview));
  assert_overview_has (overview, "alarms", "Motor stall (not acknowledged)");
  screenshot (GTK_WIDGET (window), "alarm-row.png");
  dialog = thecal_overview_page_acknowledge_alarm (overview, THECAL_PROTO_ALARM_MOTOR_STALL);
  ck_assert_ptr_nonnull (dialog);
  ck_assert_str_eq (adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (dialog)), "Acknowledge This Critical Alarm?");
  ck_assert_ptr_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (dialog)), "Motor stall: Medication may no longer flow"));
  ck_assert_ptr_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (dialog)), "It does not clear the cause"));
  screenshot_after (dialog, "alarm-ack.png", TRUE, 300);
  respond (dialog, "Acknowledge");
  ck_assert (thecal_overview_page_get_busy (overview));
  ck_assert (wait_for (overview_idle_connected, overview));
  assert_overview_has (overview, "status", "The alarm was acknowledged");
  assert_overview_has (overview, "alarms", "Motor stall: Medication may no longer flow");
  assert_overview_lacks (overview, "alarms", "not acknowledged");
  screenshot (GTK_WIDGET (window), "alarm-acknowledged.png");
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* The low-reservoir alarm (not critical) is acknowledged at once; a nurse may do it. */
START_TEST (test_alarm_ack_by_nurse)
{
  g_autoptr (ThecalRecord) record = NULL;
  ThecalWindow *window = NULL;
  ThecalOverviewPage *overview = connect_as_nurse (&window, &record);

  assert_overview_has (overview, "alarms", "Low reservoir (not acknowledged)");
  ck_assert_ptr_null (thecal_overview_page_acknowledge_alarm (overview, THECAL_PROTO_ALARM_LOW_RESERVOIR));
  ck_assert (thecal_overview_page_get_busy (overview));
  ck_assert (wait_for (overview_idle_connected, overview));
  assert_overview_has (overview, "status", "The alarm was acknowledged");
  assert_overview_has (overview, "alarms", "Low reservoir: Refill the pump");
  /* once acknowledged the pump refuses a second acknowledgement: the workflow's message */
  ck_assert_ptr_null (thecal_overview_page_acknowledge_alarm (overview, THECAL_PROTO_ALARM_LOW_RESERVOIR));
  ck_assert (wait_for (overview_connected, overview));
  {
    g_autofree char *status = thecal_overview_page_dup_text (overview, "status");

    ck_assert_msg (strstr (status, "acknowledge") != NULL, "status: %s", status);
  }
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* ---- a new implant -------------------------------------------------------------------------- */

/* A demo record like thecal_demo_record_create_sync ()'s, except that the sixth demo patient
 * (DEMO-0006 KOE, Kim) has no pump in it: her demo pump TR40-000128 plays a pump just implanted
 * and not registered yet. */
static ThecalRecord *
record_with_unregistered_pump (void)
{
  g_autofree char *path = g_build_filename (tmp_dir, "implant.sqlite", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecord) record = NULL;
  g_autoptr (ThecalRecordSession) admin = NULL;
  g_autoptr (ThecalRecordSession) clinician = NULL;
  g_autoptr (ThecalUser) demo_user = NULL;
  g_autoptr (ThecalUser) nurse = NULL;

  record = thecal_record_open_sync (path, THECAL_RECORD_OPEN_CREATE | THECAL_RECORD_OPEN_CREATE_DEMO | THECAL_RECORD_OPEN_FAST_HASH,
                                    NULL, &error);
  ck_assert_msg (record != NULL, "%s", error != NULL ? error->message : "");
  admin = thecal_record_session_first_run_sync (record, THECAL_DEMO_ADMIN_NAME, "Ada Admin", THECAL_DEMO_ADMIN_PASSWORD, NULL, &error);
  ck_assert_msg (admin != NULL, "%s", error != NULL ? error->message : "");
  demo_user = thecal_record_session_add_user_sync (admin, THECAL_DEMO_USER_NAME, "Demo Clinician", THECAL_ROLE_DEMO,
                                                   THECAL_DEMO_USER_PASSWORD, NULL, &error);
  ck_assert_msg (demo_user != NULL, "%s", error != NULL ? error->message : "");
  nurse = thecal_record_session_add_user_sync (admin, "nina", "Nina Nurse", THECAL_ROLE_NURSE, "nurse password", NULL, &error);
  ck_assert_msg (nurse != NULL, "%s", error != NULL ? error->message : "");
  clinician = thecal_record_session_login_sync (record, THECAL_DEMO_USER_NAME, THECAL_DEMO_USER_PASSWORD, NULL, &error);
  ck_assert_msg (clinician != NULL, "%s", error != NULL ? error->message : "");
  for (guint i = 0; i < thecal_demo_patient_count (); i++)
    {
      const ThecalDemoPatient *p = thecal_demo_patient_get (i);
      const ThecalSimPumpDemo *demo = thecal_sim_pump_demo_find (p->serial);
      ThecalPatientInput patient = { .mrn = p->mrn, .name = p->name, .date_of_birth = p->born, .opioid_tolerance = p->tolerance };
      guint8 key[THECAL_PAIRING_KEY_BYTES];
      ThecalPumpInput pump = { .serial = p->serial,
                               .model_id = demo->model_id,
                               .patient_mrn = p->mrn,
                               .implant_date = "2025-06-02",
                               .catheter_length_mm = demo->catheter_length_mm,
                               .pairing_key = key };
      g_autoptr (ThecalPatient) added = thecal_record_session_add_patient_sync (clinician, &patient, NULL, &error);
      g_autoptr (ThecalPump) implanted = NULL;

      ck_assert_msg (added != NULL, "%s", error != NULL ? error->message : "");
      if (g_strcmp0 (p->mrn, "DEMO-0006") == 0)
        continue; /* the new implant */
      thecal_sim_pump_demo_key (p->serial, key);
      implanted = thecal_record_session_add_pump_sync (clinician, &pump, NULL, &error);
      ck_assert_msg (implanted != NULL, "%s", error != NULL ? error->message : "");
    }
  return g_steal_pointer (&record);
}

/* Signs @user in on a window over @record and connects to DEMO-0006: the pump is not in the
 * record, "Register This Pump…" is offered. */
static ThecalOverviewPage *
connect_unregistered (ThecalRecord *record, const char *user, const char *password, ThecalWindow **window_out)
{
  ThecalWindow *window = thecal_window_new (NULL, TRUE, models, library);
  ThecalSignInPage *sign_in = thecal_window_get_sign_in_page (window);
  ThecalOverviewPage *overview = thecal_window_get_overview_page (window);

  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 760);
  thecal_window_set_record (window, record);
  gtk_window_present (GTK_WINDOW (window));
  ck_assert (wait_for (record_ready, NULL));
  thecal_sign_in_page_set_credentials (sign_in, user, password);
  thecal_sign_in_page_submit (sign_in);
  ck_assert (wait_for (signed_in, window));
  ck_assert (wait_for (list_has_six, window));
  thecal_patients_page_select (thecal_window_get_patients_page (window), 5);
  ck_assert_str_eq (thecal_overview_page_get_mrn (overview), "DEMO-0006");
  ck_assert_ptr_null (thecal_overview_page_open_implant (overview)); /* not before the pump answered */
  thecal_overview_page_connect (overview);
  ck_assert (wait_for (overview_connected, overview));
  ck_assert_ptr_null (thecal_overview_page_get_visit (overview));
  assert_overview_has (overview, "status", "TR40-000128");
  assert_overview_has (overview, "status", "not in the record");
  *window_out = window;
  return overview;
}

static gboolean
implant_idle (gpointer dialog)
{
  return !thecal_implant_dialog_get_busy (dialog);
}

static void
assert_implant_has (ThecalImplantDialog *dialog, const char *key, const char *part)
{
  g_autofree char *text = thecal_implant_dialog_dup_text (dialog, key);

  ck_assert_msg (text != NULL && strstr (text, part) != NULL, "%s: “%s” has no “%s”", key, text, part);
}

static void
assert_implant_is_empty (ThecalImplantDialog *dialog, const char *key)
{
  g_autofree char *text = thecal_implant_dialog_dup_text (dialog, key);

  ck_assert_msg (g_strcmp0 (text, "") == 0, "%s: “%s”", key, text);
}

/* The pump answers but is not in the record: registered as KOE, Kim's new implant (baclofen
 * 2000 mcg/mL, 300 mcg/day, the catheter 50 cm), the first prescription written and the priming
 * bolus given; the overview then shows the pump. Bad fields are named first. */
START_TEST (test_implant_register)
{
  g_autoptr (ThecalRecord) record = record_with_unregistered_pump ();
  ThecalWindow *window = NULL;
  ThecalOverviewPage *overview = connect_unregistered (record, THECAL_DEMO_USER_NAME, THECAL_DEMO_USER_PASSWORD, &window);
  GtkWidget *widget = thecal_overview_page_open_implant (overview);
  ThecalImplantDialog *dialog = THECAL_IMPLANT_DIALOG (widget);
  ThecalImplantReport report = { 0 };
  gboolean ok = FALSE;

  ck_assert_ptr_nonnull (dialog);
  g_object_add_weak_pointer (G_OBJECT (widget), (gpointer *) &widget);
  gtk_window_set_default_size (GTK_WINDOW (widget), 620, 900);
  /* every field wrong: each named next to itself, nothing sent */
  thecal_implant_dialog_set_field (dialog, "implant_date", "2026-02-30");
  thecal_implant_dialog_set_field (dialog, "catheter", "45 mL");
  thecal_implant_dialog_set_field (dialog, "concentration", "2000 mcg");
  thecal_implant_dialog_set_field (dialog, "dose", "300 mcg");
  thecal_implant_dialog_set_field (dialog, "priming_rate", "fast");
  thecal_implant_dialog_next (dialog);
  ck_assert_str_eq (thecal_implant_dialog_get_page (dialog), "form");
  assert_implant_has (dialog, "implant_date", "Implant date: ");
  assert_implant_has (dialog, "catheter", "Catheter length: ");
  assert_implant_has (dialog, "concentration", "Concentration: ");
  assert_implant_has (dialog, "dose", "Daily dose: ");
  assert_implant_has (dialog, "priming_rate", "Priming rate: ");
  screenshot (widget, "implant-errors.png");

  /* corrected */
  ck_assert (thecal_implant_dialog_set_drug (dialog, "baclofen"));
  thecal_implant_dialog_set_field (dialog, "implant_date", "2026-01-05");
  /* the catheter as implanted: the simulated pump knows its own (50 cm) and refuses a priming
   * plan for another dead space */
  ck_assert_int_eq (thecal_sim_pump_demo_find ("TR40-000128")->catheter_length_mm, 500);
  thecal_implant_dialog_set_field (dialog, "catheter", "50 cm");
  thecal_implant_dialog_set_field (dialog, "concentration", "2000 mcg/mL");
  thecal_implant_dialog_set_field (dialog, "dose", "300 mcg/day");
  thecal_implant_dialog_set_field (dialog, "priming_rate", "");
  thecal_implant_dialog_set_priming (dialog, TRUE);
  assert_implant_is_empty (dialog, "implant_date");
  assert_implant_is_empty (dialog, "catheter");
  screenshot (widget, "implant.png");
  thecal_implant_dialog_next (dialog); /* Register */
  ck_assert (wait_for (implant_idle, dialog));
  {
    g_autofree char *outcome = thecal_implant_dialog_dup_text (dialog, "outcome");
    g_autofree char *form = thecal_implant_dialog_dup_text (dialog, "form");
    g_autofree char *override = thecal_implant_dialog_dup_text (dialog, "override");

    ck_assert_msg (thecal_implant_dialog_get_finished (dialog, &ok, &report) && ok, "outcome: %s / form: %s / override: %s", outcome,
                   form, override);
  }
  ck_assert_int_eq (report.program_outcome, THECAL_OUTCOME_CONFIRMED);
  ck_assert (report.priming_given);
  ck_assert_int_eq (report.priming_outcome, THECAL_OUTCOME_CONFIRMED);
  assert_implant_has (dialog, "outcome", "Implant Registered");
  assert_implant_has (dialog, "outcome", "Pump TR40-000128 is registered to KOE, Kim");
  assert_implant_has (dialog, "outcome", "Priming bolus: confirmed");
  screenshot (widget, "implant-registered.png");
  thecal_implant_dialog_next (dialog); /* Close */
  ck_assert (wait_for (window_gone, &widget));
  /* the overview reads the newly registered pump */
  ck_assert (wait_for (overview_idle_connected, overview));
  {
    g_autofree char *drug = thecal_overview_page_dup_text (overview, "drug");
    g_autofree char *dose = thecal_overview_page_dup_text (overview, "dose");

    ck_assert_str_eq (drug, "baclofen");
    ck_assert_str_eq (dose, "300 mcg/day");
  }
  screenshot (GTK_WIDGET (window), "implant-overview.png");
  assert_overview_has (overview, "status", "The new implant is in the record.");
  /* a priming bolus again (e.g. after a catheter revision): reviewed with the mixing warning,
   * the volume and duration from the pump's dead space and the 50 cm catheter; not given */
  {
    GtkWidget *bolus = thecal_overview_page_open_bolus (overview, THECAL_VISIT_BOLUS_PRIMING);
    ThecalBolusDialog *priming = THECAL_BOLUS_DIALOG (bolus);

    ck_assert (!thecal_bolus_dialog_set_kind (priming, THECAL_VISIT_BOLUS_BRIDGE)); /* not offered alone */
    ck_assert (thecal_bolus_dialog_can_go_next (priming));
    thecal_bolus_dialog_next (priming);
    ck_assert_str_eq (thecal_bolus_dialog_get_page (priming), "review");
    assert_bolus_has (priming, "summary", "priming bolus");
    assert_bolus_has (priming, "warning", "mix");
    assert_bolus_is (priming, "volume", "0.38 mL");
    screenshot (bolus, "bolus-priming.png");
    thecal_bolus_dialog_back (priming);
    thecal_bolus_dialog_back (priming); /* Cancel */
    settle (50);
    ck_assert (!thecal_overview_page_get_busy (overview)); /* nothing written, nothing read */
  }
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

/* A nurse may not register an implant: the workflow's refusal is shown on the form and nothing is
 * registered (the next connection still finds the pump unknown). */
START_TEST (test_implant_nurse_refused)
{
  g_autoptr (ThecalRecord) record = record_with_unregistered_pump ();
  ThecalWindow *window = NULL;
  ThecalOverviewPage *overview = connect_unregistered (record, "nina", "nurse password", &window);
  ThecalImplantDialog *dialog = THECAL_IMPLANT_DIALOG (thecal_overview_page_open_implant (overview));

  ck_assert (thecal_implant_dialog_set_drug (dialog, "baclofen"));
  thecal_implant_dialog_set_field (dialog, "implant_date", "2026-01-05");
  thecal_implant_dialog_set_field (dialog, "catheter", "50 cm");
  thecal_implant_dialog_set_field (dialog, "concentration", "2000 mcg/mL");
  thecal_implant_dialog_set_field (dialog, "dose", "300 mcg/day");
  thecal_implant_dialog_next (dialog);
  ck_assert (wait_for (implant_idle, dialog));
  ck_assert_str_eq (thecal_implant_dialog_get_page (dialog), "form");
  ck_assert (!thecal_implant_dialog_get_finished (dialog, NULL, NULL));
  assert_implant_has (dialog, "form", "may not");
  gtk_window_destroy (GTK_WINDOW (dialog));
  thecal_overview_page_connect (overview);
  ck_assert (wait_for (overview_connected, overview));
  assert_overview_has (overview, "status", "not in the record");
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

static Suite *
actions_suite (void)
{
  Suite *suite = suite_create ("actions");

  THECAL_TEST_TCASE (suite, "bolus", setup, teardown, 120, test_bolus_clinician, test_bolus_refused, test_bolus_nurse_refused,
                     test_bolus_uncertain);
  THECAL_TEST_TCASE (suite, "clock", setup, teardown, 120, test_clock_sync);
  THECAL_TEST_TCASE (suite, "implant", setup, teardown, 120, test_implant_register, test_implant_nurse_refused);
  THECAL_TEST_TCASE (suite, "alarms", setup, teardown, 120, test_alarm_ack_critical, test_alarm_ack_by_nurse);
  return suite;
}

int
main (void)
{
  return app_test_main (actions_suite ());
}
