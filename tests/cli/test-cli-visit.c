/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-cli-visit.c: "thecal-cli visit PATIENT --sim SUBCOMMAND" (src/cli/thecal-cli-visit.c)
 * end to end on a record made with thecal-cli itself: a nurse's refill verified by the
 * physician, a physician's change of prescription whose result the simulated pump keeps for the
 * next run (its state file beside the record), and a nurse's change refused (exit 1) and
 * audited; a refill that changes the concentration (the review with the bridge bolus, the
 * override reason it needs, the pump as it leaves it) and a nurse's such refill refused.
 */
#include "config.h"

#include "thecal-sim-pump.h"
#include "thecal-test-cli.h"
#include "thecal-test.h"

#define ADMIN_PW "admin password one"
#define PAULA_PW "physician password"
#define NINA_PW "the nurse's password"
#define OVERRIDE "concentration above PACC soft limit, reviewed"

static char *dir = NULL;
static char *db = NULL;

static CliResult *
run_as (const char *password, const char *new_password, const char *verifier_password, const char *const *args)
{
  g_autofree char *login = g_strdup_printf ("THECAL_PASSWORD=%s", password != NULL ? password : "");
  g_autofree char *fresh = g_strdup_printf ("THECAL_NEW_PASSWORD=%s", new_password != NULL ? new_password : "");
  g_autofree char *verifier = g_strdup_printf ("THECAL_VERIFIER_PASSWORD=%s", verifier_password != NULL ? verifier_password : "");
  const char *env[] = { "THECAL_PWHASH_LIMITS=min", login, fresh, verifier, NULL };

  return cli_run_argv (env, args);
}

#define RUN(password, ...) run_as ((password), NULL, NULL, (const char *const[]){ __VA_ARGS__, NULL })
#define RUN_NEW(password, new_password, ...) \
  run_as ((password), (new_password), NULL, (const char *const[]){ __VA_ARGS__, NULL })
#define RUN_VERIFIED(password, verifier_password, ...) \
  run_as ((password), NULL, (verifier_password), (const char *const[]){ __VA_ARGS__, NULL })

static void
status_is (const CliResult *result, int status)
{
  ck_assert_msg (result->status == status, "exit %d, expected %d; stdout: %s; stderr: %s", result->status, status,
                 oneline (result->out), oneline (result->err));
}

static void
remove_all (const char *path)
{
  g_autoptr (GDir) folder = g_dir_open (path, 0, NULL);
  const char *name;

  while (folder != NULL && (name = g_dir_read_name (folder)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_all (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

/* A record with admin, paula (physician), nina (nurse), patient MRN-0001 and the demo pump
 * TR20-000123 implanted, paired with the demo pump's key. */
static void
clinic_setup (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *key_file = NULL;
  g_autoptr (GString) hex = g_string_new (NULL);
  guint8 key[THECAL_KEY_SIZE];

  dir = g_dir_make_tmp ("thecal-cli-visit-XXXXXX", &error);
  ck_assert_msg (dir != NULL, "%s", error != NULL ? error->message : "?");
  db = g_build_filename (dir, "record.sqlite", NULL);
  key_file = g_build_filename (dir, "pump.key", NULL);
  thecal_sim_pump_demo_key ("TR20-000123", key);
  for (gsize i = 0; i < sizeof key; i++)
    g_string_append_printf (hex, "%02x", key[i]);
  g_string_append_c (hex, '\n');
  ck_assert (g_file_set_contents (key_file, hex->str, -1, NULL));
  {
    g_autoptr (CliResult) admin = RUN_NEW (NULL, ADMIN_PW, "--db", db, "user", "add", "admin", "--full-name", "Ada Admin");
    g_autoptr (CliResult) paula = RUN_NEW (ADMIN_PW, PAULA_PW, "--db", db, "user", "add", "paula", "--role", "physician",
                                           "--full-name", "Dr Paula Physician", "--user", "admin");
    g_autoptr (CliResult) nina = RUN_NEW (ADMIN_PW, NINA_PW, "--db", db, "user", "add", "nina", "--role", "nurse",
                                          "--full-name", "Nina Nurse", "--user", "admin");
    g_autoptr (CliResult) jane = RUN (NINA_PW, "--db", db, "patient", "add", "--user", "nina", "--mrn", "MRN-0001", "--name",
                                      "DOE, Jane", "--born", "1961-04-12", "--opioid", "tolerant");
    g_autoptr (CliResult) pump = RUN (PAULA_PW, "--db", db, "pump", "add", "--user", "paula", "--serial", "TR20-000123",
                                      "--patient", "MRN-0001", "--pump", "TR-20", "--implanted", "2025-06-01",
                                      "--catheter-length", "45.5 cm", "--pairing-key-file", key_file);

    status_is (admin, 0);
    status_is (paula, 0);
    status_is (nina, 0);
    status_is (jane, 0);
    status_is (pump, 0);
  }
}

static void
clinic_teardown (void)
{
  remove_all (dir);
  g_clear_pointer (&dir, g_free);
  g_clear_pointer (&db, g_free);
}

/* How many audit entries of @action the administrator's export holds. */
static guint
count_audit (const char *action)
{
  g_autoptr (CliResult) result = RUN (ADMIN_PW, "--db", db, "audit", "export", "--user", "admin");
  g_autofree char *needle = g_strdup_printf ("\"%s\"", action);
  guint n = 0;

  status_is (result, 0);
  for (const char *p = strstr (result->out, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

static char *
write_rx (const char *dose)
{
  g_autofree char *text = g_strdup_printf ("{\"format\":\"thecal-prescription\",\"version\":1,\"drug\":\"morphine\","
                                           "\"concentration\":\"25 mg/mL\",\"mode\":\"continuous\",\"continuous\":{\"dose\":\"%s\"}}",
                                           dose);
  char *path = g_build_filename (dir, "rx.json", NULL);

  ck_assert (g_file_set_contents (path, text, -1, NULL));
  return path;
}

START_TEST (test_nurse_refill)
{
  g_autoptr (CliResult) refill = NULL;
  g_autoptr (CliResult) again = NULL;
  g_autoptr (CliResult) history = NULL;
  g_autofree char *state = g_strdup_printf ("%s.sim-TR20-000123", db);

  refill = RUN_VERIFIED (NINA_PW, PAULA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "nina", "refill",
                         "--aspirated", "12 mL", "--added", "18 mL", "--drug", "morphine", "--concentration", "25 mg/mL",
                         "--lot", "LOT-42", "--expiry", "2099-12-31", "--verifier", "paula");
  status_is (refill, 0);
  ck_assert_msg (strstr (refill->out, "CONFIRMED") != NULL || strstr (refill->out, "confirmed") != NULL, "%s", oneline (refill->out));
  ck_assert_msg (strstr (refill->out, "18 mL") != NULL, "%s", oneline (refill->out));
  ck_assert (g_file_test (state, G_FILE_TEST_EXISTS));
  /* the next run finds the pump as the refill left it */
  again = RUN (NINA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "nina", "interrogate");
  status_is (again, 0);
  ck_assert_msg (strstr (again->out, "reservoir 18 mL") != NULL || strstr (again->out, "reservoir 17.9") != NULL,
                 "%s", oneline (again->out));
  history = RUN (NINA_PW, "--db", db, "history", "MRN-0001", "--user", "nina");
  status_is (history, 0);
  ck_assert_msg (strstr (history->out, "LOT-42") != NULL, "%s", oneline (history->out));
  /* the patient list's line, from the record (src/workflow/thecal-patient-status.h): the refill on
   * the simulated pump's clock; no prescription version recorded yet, so no refill-by date */
  ck_assert_msg (strstr (history->out, "\nPump status: Refilled 2026-01-05\n") != NULL, "%s", oneline (history->out));
}
END_TEST

START_TEST (test_physician_program_persists)
{
  g_autofree char *rx = write_rx ("6 mg/day");
  g_autoptr (CliResult) program = NULL;
  g_autoptr (CliResult) again = NULL;

  program = RUN (PAULA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "paula", "program", "--prescription", rx,
                 "--override-reason", OVERRIDE);
  status_is (program, 0);
  ck_assert_msg (strstr (program->out, "5 mg/day → 6 mg/day") != NULL, "%s", oneline (program->out));
  /* the second run: the pump already runs it, nothing to change (refused, exit 1) */
  again = RUN (PAULA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "paula", "program", "--prescription", rx,
               "--override-reason", OVERRIDE);
  status_is (again, 1);
  ck_assert_msg (strstr (again->err, "nothing to change") != NULL, "%s", oneline (again->err));
}
END_TEST

START_TEST (test_nurse_program_refused_and_audited)
{
  g_autofree char *rx = write_rx ("6 mg/day");
  g_autoptr (CliResult) program = NULL;
  guint denied = count_audit ("permission.denied");

  program = RUN (NINA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "nina", "program", "--prescription", rx,
                 "--override-reason", OVERRIDE);
  status_is (program, 1);
  ck_assert_msg (strstr (program->err, "nina") != NULL || strstr (program->err, "Nina") != NULL, "%s", oneline (program->err));
  ck_assert_uint_eq (count_audit ("permission.denied"), denied + 1);
}
END_TEST

START_TEST (test_foreign_state_refused)
{
  g_autofree char *state = g_build_filename (dir, "other.state", NULL);
  g_autoptr (CliResult) result = NULL;

  ck_assert (g_file_set_contents (state, "not a pump", -1, NULL));
  result = RUN (NINA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--sim-state", state, "--user", "nina", "interrogate");
  status_is (result, 2);
  ck_assert_msg (strstr (result->err, "another build") != NULL, "%s", oneline (result->err));
}
END_TEST

START_TEST (test_refill_discrepancy_needs_acknowledge)
{
  g_autoptr (CliResult) refused = NULL;
  g_autoptr (CliResult) acknowledged = NULL;

  /* 12 mL expected (the pump's estimate: no fill recorded yet), 10 mL back: 2 mL less, over the
   * TR-20's 1 mL threshold */
  refused = RUN_VERIFIED (NINA_PW, PAULA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "nina", "refill",
                          "--aspirated", "10 mL", "--added", "18 mL", "--drug", "morphine", "--concentration", "25 mg/mL",
                          "--lot", "LOT-42", "--expiry", "2099-12-31", "--verifier", "paula");
  status_is (refused, 1);
  ck_assert_msg (strstr (refused->err, "pocket fill") != NULL, "%s", oneline (refused->err));
  acknowledged = RUN_VERIFIED (NINA_PW, PAULA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "nina", "refill",
                               "--aspirated", "10 mL", "--added", "18 mL", "--drug", "morphine", "--concentration",
                               "25 mg/mL", "--lot", "LOT-42", "--expiry", "2099-12-31", "--verifier", "paula",
                               "--acknowledge", "patient examined, no overdose signs");
  status_is (acknowledged, 0);
  ck_assert_msg (strstr (acknowledged->out, "acknowledged") != NULL, "%s", oneline (acknowledged->out));
}
END_TEST

START_TEST (test_sync_clock_and_ack_alarm)
{
  g_autoptr (CliResult) clock = RUN (NINA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "nina", "sync-clock");
  g_autoptr (CliResult) alarms = RUN (NINA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "nina", "ack-alarm");

  /* simulated time: the clinic's clock is the pump's, within the bound */
  status_is (clock, 0);
  ck_assert_msg (strstr (clock->out, "not changed") != NULL, "%s", oneline (clock->out));
  status_is (alarms, 0);
  ck_assert_msg (strstr (alarms->out, "No raised alarm") != NULL || strstr (alarms->out, "acknowledged and recorded") != NULL,
                 "%s", oneline (alarms->out));
}
END_TEST

START_TEST (test_wand_absent)
{
  /* no wand on this machine (and the build may have no USB support): I/O, exit 3, before the
   * record is even opened; --sim and --wand together, or neither, is a usage error */
  g_autoptr (CliResult) wand = RUN (NINA_PW, "--db", db, "visit", "MRN-0001", "--wand", "--user", "nina", "interrogate");
  g_autoptr (CliResult) both = RUN (NINA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--wand", "--user", "nina", "interrogate");
  g_autoptr (CliResult) neither = RUN (NINA_PW, "--db", db, "visit", "MRN-0001", "--user", "nina", "interrogate");

  status_is (wand, 3);
  ck_assert_msg (strstr (wand->err, "No wand connected") != NULL, "%s", oneline (wand->err));
  status_is (both, 2);
  ck_assert_msg (strstr (both->err, "either --sim") != NULL, "%s", oneline (both->err));
  status_is (neither, 2);
  ck_assert_msg (strstr (neither->err, "either --sim") != NULL, "%s", oneline (neither->err));
}
END_TEST

START_TEST (test_refill_concentration_change)
{
  g_autoptr (CliResult) refused = NULL;
  g_autoptr (CliResult) changed = NULL;
  g_autoptr (CliResult) again = NULL;
  guint done = count_audit ("refill.change.done");

  /* 25 → 50 mg/mL: above morphine's 20 mg/mL soft limit, so an override reason is needed; the
   * review is shown before the refusal */
  refused = RUN_VERIFIED (PAULA_PW, NINA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "paula", "refill",
                          "--aspirated", "12 mL", "--added", "18 mL", "--drug", "morphine", "--concentration", "50 mg/mL",
                          "--lot", "LOT-43", "--expiry", "2099-12-31", "--verifier", "nina");
  status_is (refused, 1);
  ck_assert_msg (strstr (refused->out, "morphine 25 mg/mL → morphine 50 mg/mL") != NULL, "%s", oneline (refused->out));
  ck_assert_msg (strstr (refused->out, "phase 1, bridge: 0.3685 mL at 0.2 mL/day") != NULL, "%s", oneline (refused->out));
  ck_assert_msg (strstr (refused->out, "0.1 mL/day") != NULL, "%s", oneline (refused->out));
  ck_assert_msg (strstr (refused->err, "override reason") != NULL, "%s", oneline (refused->err));
  changed = RUN_VERIFIED (PAULA_PW, NINA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "paula", "refill",
                          "--aspirated", "12 mL", "--added", "18 mL", "--drug", "morphine", "--concentration", "50 mg/mL",
                          "--lot", "LOT-43", "--expiry", "2099-12-31", "--verifier", "nina", "--override-reason", OVERRIDE);
  status_is (changed, 0);
  ck_assert_msg (strstr (changed->out, "runs the bridge bolus") != NULL, "%s", oneline (changed->out));
  /* the fill and the new prescription in one step: the pump was never stopped */
  ck_assert_msg (strstr (changed->out, "filled with morphine 50 mg/mL and programmed in one step") != NULL, "%s",
                 oneline (changed->out));
  ck_assert_msg (strstr (changed->out, "never stopped") != NULL, "%s", oneline (changed->out));
  ck_assert_msg (strstr (changed->out, "was stopped") == NULL, "%s", oneline (changed->out));
  ck_assert_uint_eq (count_audit ("refill.change.interrupted"), 0);
  ck_assert_msg (strstr (changed->out, "refill by") != NULL, "%s", oneline (changed->out));
  ck_assert_uint_eq (count_audit ("refill.change.done"), done + 1);
  /* the next run finds the pump on the new fill: 50 mg/mL again is a plain refill, no change */
  again = RUN_VERIFIED (PAULA_PW, NINA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "paula", "refill",
                        "--aspirated", "18 mL", "--added", "18 mL", "--drug", "morphine", "--concentration", "50 mg/mL",
                        "--lot", "LOT-43", "--expiry", "2099-12-31", "--verifier", "nina", "--acknowledge",
                        "second fill in the same test run");
  status_is (again, 0);
  ck_assert_msg (strstr (again->out, "Review of the drug change") == NULL, "%s", oneline (again->out));
  ck_assert_msg (strstr (again->out, "Refill CONFIRMED") != NULL || strstr (again->out, "Refill confirmed") != NULL, "%s",
                 oneline (again->out));
}
END_TEST

START_TEST (test_refill_change_by_nurse_refused)
{
  g_autoptr (CliResult) refused = NULL;
  guint denied = count_audit ("permission.denied");

  refused = RUN_VERIFIED (NINA_PW, PAULA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "nina", "refill",
                          "--aspirated", "12 mL", "--added", "18 mL", "--drug", "morphine", "--concentration", "10 mg/mL",
                          "--lot", "LOT-43", "--expiry", "2099-12-31", "--verifier", "paula");
  status_is (refused, 1);
  ck_assert_msg (strstr (refused->err, "prescription.change") != NULL, "%s", oneline (refused->err));
  ck_assert_uint_eq (count_audit ("permission.denied"), denied + 1);
}
END_TEST

START_TEST (test_global_options_before_the_command)
{
  /* --db, --user and --json before the command are the same as after it */
  g_autoptr (CliResult) before = RUN (NINA_PW, "--db", db, "--user", "nina", "--json", "visit", "MRN-0001", "--sim", "interrogate");
  g_autofree char *db_equals = g_strdup_printf ("--db=%s", db);
  g_autoptr (CliResult) equals = RUN (NINA_PW, db_equals, "--user=nina", "visit", "MRN-0001", "--sim", "interrogate");
  g_autoptr (CliResult) twice = RUN (NINA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--db", db, "--user", "nina", "interrogate");
  g_autoptr (CliResult) after = RUN (NINA_PW, "visit", "MRN-0001", "--sim", "interrogate", "--db", db, "--user", "nina");
  g_autoptr (CliResult) help = RUN (NULL, "--help");

  status_is (before, 0);
  ck_assert_msg (strstr (before->out, "\"user\"") != NULL && strstr (before->out, "\"pump\"") != NULL, "%s", oneline (before->out));
  status_is (equals, 0);
  /* before and after: given twice, refused as it is after the command */
  status_is (twice, 2);
  ck_assert_msg (strstr (twice->err, "more than once") != NULL, "%s", oneline (twice->err));
  status_is (after, 0);
  ck_assert_msg (strstr (after->out, "Pump TR20-000123") != NULL, "%s", oneline (after->out));
  status_is (help, 0);
  ck_assert_msg (strstr (help->out, "before or after the command") != NULL, "%s", oneline (help->out));
}
END_TEST

static Suite *
cli_visit_suite (void)
{
  Suite *s = suite_create ("cli-visit");
  TCase *tc = tcase_create ("visit");

  tcase_add_checked_fixture (tc, clinic_setup, clinic_teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_nurse_refill);
  tcase_add_test (tc, test_physician_program_persists);
  tcase_add_test (tc, test_nurse_program_refused_and_audited);
  tcase_add_test (tc, test_foreign_state_refused);
  tcase_add_test (tc, test_refill_discrepancy_needs_acknowledge);
  tcase_add_test (tc, test_sync_clock_and_ack_alarm);
  tcase_add_test (tc, test_wand_absent);
  tcase_add_test (tc, test_refill_concentration_change);
  tcase_add_test (tc, test_refill_change_by_nurse_refused);
  tcase_add_test (tc, test_global_options_before_the_command);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (cli_visit_suite)
