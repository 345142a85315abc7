/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-cli-visit-bolus.c: "thecal-cli visit PATIENT --sim bolus --kind clinician|priming|bridge"
 * (src/cli/thecal-cli-visit.c over src/workflow/thecal-workflow-bolus.h) end to end on a record
 * made with thecal-cli itself: a physician's clinician, priming and bridge boluses confirmed by
 * the simulated pump and audited, a day over a soft limit refused without a reason, a nurse's
 * bolus refused (exit 1), bad options refused (exit 2).
 */
#include "config.h"

#include "thecal-sim-pump.h"
#include "thecal-test-cli.h"
#include "thecal-test.h"

#define ADMIN_PW "admin password one"
#define PAULA_PW "physician password"
#define NINA_PW "the nurse's password"

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

  dir = g_dir_make_tmp ("thecal-cli-visit-bolus-XXXXXX", &error);
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

START_TEST (test_clinician_bolus)
{
  g_autoptr (CliResult) bolus = NULL;

  /* 0.5 mg of morphine 25 mg/mL is 0.02 mL */
  bolus = RUN (PAULA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "paula", "bolus", "--kind", "clinician",
               "--dose", "0.5 mg", "--duration", "30 min", "--reason", "breakthrough pain, reviewed");
  status_is (bolus, 0);
  ck_assert_msg (strstr (bolus->out, "Review: ") != NULL, "%s", oneline (bolus->out));
  ck_assert_msg (strstr (bolus->out, "Bolus CONFIRMED") != NULL || strstr (bolus->out, "Bolus confirmed") != NULL, "%s",
                 oneline (bolus->out));
  ck_assert_uint_eq (count_audit ("bolus.pending"), 1);
  ck_assert_uint_eq (count_audit ("bolus.confirmed"), 1);
}
END_TEST

START_TEST (test_priming_bolus)
{
  g_autoptr (CliResult) bolus = RUN (PAULA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "paula", "bolus",
                                     "--kind", "priming", "--reason", "catheter revision, reviewed");

  status_is (bolus, 0);
  ck_assert_msg (strstr (bolus->out, "Review: ") != NULL, "%s", oneline (bolus->out));
  ck_assert_msg (strstr (bolus->out, "Bolus CONFIRMED") != NULL || strstr (bolus->out, "Bolus confirmed") != NULL, "%s",
                 oneline (bolus->out));
  ck_assert_uint_eq (count_audit ("bolus.confirmed"), 1);
}
END_TEST

START_TEST (test_bridge_bolus)
{
  g_autofree char *old = g_build_filename (dir, "old.json", NULL);
  g_autoptr (CliResult) bolus = NULL;

  /* the pump now runs morphine 25 mg/mL; before the change it ran 10 mg/mL: the dead space (the
   * pump's 0.25 mL and 45.5 cm × 0.0026 mL/cm = 0.1183 mL: 0.3683 mL) still holds the old drug;
   * in whole 0.25 µL strokes that is 1 474 strokes = 0.3685 mL */
  ck_assert (g_file_set_contents (old,
                                  "{\"format\":\"thecal-prescription\",\"version\":1,\"drug\":\"morphine\","
                                  "\"concentration\":\"10 mg/mL\",\"mode\":\"continuous\",\"continuous\":{\"dose\":\"5 mg/day\"}}",
                                  -1, NULL));
  bolus = RUN (PAULA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "paula", "bolus", "--kind", "bridge",
               "--previous-prescription", old);
  status_is (bolus, 0);
  ck_assert_msg (strstr (bolus->out, "bridge bolus") != NULL, "%s", oneline (bolus->out));
  ck_assert_msg (strstr (bolus->out, "volume 0.3685 mL") != NULL, "%s", oneline (bolus->out));
  ck_assert_msg (strstr (bolus->out, "Bolus confirmed") != NULL || strstr (bolus->out, "Bolus CONFIRMED") != NULL, "%s",
                 oneline (bolus->out));
  ck_assert_uint_eq (count_audit ("bolus.confirmed"), 1);
}
END_TEST

START_TEST (test_soft_limit_needs_reason)
{
  /* 5 mg/day + 16 mg = 21 mg in the day, above the 20 mg/day soft limit for an opioid-tolerant
   * patient: refused without a reason (exit 1, nothing sent), confirmed with one */
  g_autoptr (CliResult) refused = RUN (PAULA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "paula", "bolus", "--kind",
                                       "clinician", "--dose", "16 mg", "--duration", "1 h");
  g_autoptr (CliResult) confirmed = NULL;

  status_is (refused, 1);
  ck_assert_msg (strstr (refused->err, "give a reason") != NULL, "%s", oneline (refused->err));
  ck_assert_msg (strstr (refused->out, "the day's worst case with it 21 mg") != NULL, "%s", oneline (refused->out));
  ck_assert_uint_eq (count_audit ("bolus.pending"), 0);
  confirmed = RUN (PAULA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "paula", "bolus", "--kind", "clinician", "--dose",
                   "16 mg", "--duration", "1 h", "--reason", "soft limit reviewed with the patient");
  status_is (confirmed, 0);
  ck_assert_uint_eq (count_audit ("bolus.confirmed"), 1);
}
END_TEST

START_TEST (test_nurse_bolus_refused)
{
  guint denied = count_audit ("permission.denied");
  g_autoptr (CliResult) bolus = RUN (NINA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "nina", "bolus", "--kind",
                                     "clinician", "--dose", "0.5 mg", "--duration", "30 min");

  status_is (bolus, 1);
  ck_assert_uint_eq (count_audit ("permission.denied"), denied + 1);
  ck_assert_uint_eq (count_audit ("bolus.confirmed"), 0);
}
END_TEST

START_TEST (test_bolus_usage)
{
  g_autoptr (CliResult) no_kind = RUN (PAULA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "paula", "bolus");
  g_autoptr (CliResult) bad_kind = RUN (PAULA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "paula", "bolus", "--kind", "big");
  g_autoptr (CliResult) no_dose = RUN (PAULA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "paula", "bolus", "--kind",
                                       "clinician", "--duration", "30 min");
  g_autoptr (CliResult) no_previous = RUN (PAULA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "paula", "bolus",
                                           "--kind", "bridge");

  status_is (no_kind, 2);
  ck_assert_msg (strstr (no_kind->err, "--kind") != NULL, "%s", oneline (no_kind->err));
  status_is (bad_kind, 2);
  ck_assert_msg (strstr (bad_kind->err, "“big”") != NULL, "%s", oneline (bad_kind->err));
  status_is (no_dose, 2);
  ck_assert_msg (strstr (no_dose->err, "--dose") != NULL, "%s", oneline (no_dose->err));
  status_is (no_previous, 2);
  ck_assert_msg (strstr (no_previous->err, "--previous-prescription") != NULL, "%s", oneline (no_previous->err));
  ck_assert_uint_eq (count_audit ("bolus.pending"), 0);
}
END_TEST

static Suite *
cli_visit_bolus_suite (void)
{
  Suite *s = suite_create ("cli-visit-bolus");
  TCase *tc = tcase_create ("bolus");

  tcase_add_checked_fixture (tc, clinic_setup, clinic_teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_clinician_bolus);
  tcase_add_test (tc, test_priming_bolus);
  tcase_add_test (tc, test_bridge_bolus);
  tcase_add_test (tc, test_soft_limit_needs_reason);
  tcase_add_test (tc, test_nurse_bolus_refused);
  tcase_add_test (tc, test_bolus_usage);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (cli_visit_bolus_suite)
