/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-cli-record.c: thecal-cli's patient-record commands run as a person or a script would
 * (src/cli/thecal-cli-record.c; docs/cli.md, docs/record.md, docs/security.md): the first run,
 * logins, the permission table with its refusals (exit 1, audited), patients, pumps, history,
 * exports, and the audit verifier against a record tampered with the sqlite3 shell.
 *
 * Every run sets THECAL_PWHASH_LIMITS=min (Argon2id MIN limits, TESTING.md) and gives passwords
 * through THECAL_PASSWORD / THECAL_NEW_PASSWORD, as scripts do.
 */
#include "config.h"

#include <sys/stat.h>
#include <unistd.h>

#include "thecal-test-cli.h"
#include "thecal-test.h"

#define ADMIN_PW "admin password one"
#define PAULA_PW "physician password"
#define NINA_PW "the nurse's password"

static char *dir = NULL;
static char *db = NULL;

static void
dir_setup (void)
{
  g_autoptr (GError) error = NULL;

  dir = g_dir_make_tmp ("thecal-cli-record-XXXXXX", &error);
  ck_assert_msg (dir != NULL, "%s", error != NULL ? error->message : "?");
  db = g_build_filename (dir, "record.sqlite", NULL);
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

static void
dir_teardown (void)
{
  remove_all (dir);
  g_clear_pointer (&dir, g_free);
  g_clear_pointer (&db, g_free);
}

/* thecal-cli with the record's environment: @password for the login, @new_password for a new one. */
static CliResult *
run_as (const char *password, const char *new_password, const char *const *args)
{
  g_autofree char *login = g_strdup_printf ("THECAL_PASSWORD=%s", password != NULL ? password : "");
  g_autofree char *fresh = g_strdup_printf ("THECAL_NEW_PASSWORD=%s", new_password != NULL ? new_password : "");
  const char *env[] = { "THECAL_PWHASH_LIMITS=min", login, fresh, NULL };

  return cli_run_argv (env, args);
}

#define RUN(password, ...) run_as ((password), NULL, (const char *const[]){ __VA_ARGS__, NULL })
#define RUN_NEW(password, new_password, ...) \
  run_as ((password), (new_password), (const char *const[]){ __VA_ARGS__, NULL })

/* A record with an administrator, a physician (paula) and a nurse (nina). */
static void
clinic_setup (void)
{
  dir_setup ();
  {
    g_autoptr (CliResult) admin = RUN_NEW (NULL, ADMIN_PW, "--db", db, "user", "add", "admin", "--full-name", "Ada Admin");
    g_autoptr (CliResult) paula = RUN_NEW (ADMIN_PW, PAULA_PW, "--db", db, "user", "add", "paula", "--role", "physician",
                                           "--full-name", "Dr Paula Physician", "--user", "admin");
    g_autoptr (CliResult) nina = RUN_NEW (ADMIN_PW, NINA_PW, "--db", db, "user", "add", "nina", "--role", "nurse",
                                          "--full-name", "Nina Nurse", "--user", "admin");

    assert_status (admin, 0);
    assert_status (paula, 0);
    assert_status (nina, 0);
  }
}

static void
add_jane (void)
{
  g_autoptr (CliResult) result = RUN (NINA_PW, "--db", db, "patient", "add", "--user", "nina", "--mrn", "MRN-0001",
                                      "--name", "DOE, Jane", "--born", "1961-04-12", "--opioid", "tolerant");

  assert_status (result, 0);
}

static void
add_pump (void)
{
  g_autoptr (CliResult) result = RUN (PAULA_PW, "--db", db, "pump", "add", "--user", "paula", "--serial", "SN-0001",
                                      "--patient", "MRN-0001", "--pump", "TR-40", "--implanted", "2024-03-01",
                                      "--catheter-length", "45 cm");

  assert_status (result, 0);
}

/* The audit trail as the administrator exports it (JSON). */
static cJSON *
audit_json (void)
{
  g_autoptr (CliResult) result = RUN (ADMIN_PW, "--db", db, "audit", "export", "--user", "admin");

  assert_status (result, 0);
  return parse_json (result);
}

static int
count_action (const cJSON *trail, const char *action)
{
  const cJSON *entries = cJSON_GetObjectItemCaseSensitive (trail, "entries");
  const cJSON *entry;
  int n = 0;

  cJSON_ArrayForEach (entry, entries) if (g_strcmp0 (json_str (entry, "action"), action) == 0)
      n++;
  return n;
}

/* ---- First run and users ---------------------------------------------------------------------- */

START_TEST (test_first_run)
{
  g_autoptr (CliResult) created = RUN_NEW (NULL, ADMIN_PW, "--db", db, "user", "add", "admin", "--full-name", "Ada Admin");
  g_autoptr (CliResult) again = NULL;
  g_autoptr (CliResult) nurse_first = NULL;
  g_autofree char *key = g_strconcat (db, ".key", NULL);
  struct stat st;

  assert_status (created, 0);
  assert_contains (created->out, "Created the first administrator admin (Ada Admin)");
  ck_assert_str_eq (created->err, "");
  ck_assert_int_eq (stat (db, &st), 0);
  ck_assert_int_eq (st.st_mode & 0777, 0600);
  ck_assert_int_eq (stat (key, &st), 0);
  ck_assert_int_eq (st.st_mode & 0777, 0600);
  /* Afterwards, adding a user needs a logged-in administrator. */
  again = RUN_NEW (NULL, ADMIN_PW, "--db", db, "user", "add", "mallory");
  assert_failed (again, 2, "--user is required");
  /* On a new record, the first user is an administrator. */
  {
    g_autofree char *other = g_build_filename (dir, "other.sqlite", NULL);

    nurse_first = RUN_NEW (NULL, NINA_PW, "--db", other, "user", "add", "nina", "--role", "nurse");
    assert_failed (nurse_first, 2, "the first user is an administrator");
  }
}
END_TEST

START_TEST (test_no_record)
{
  g_autoptr (CliResult) result = RUN (NINA_PW, "--db", db, "patient", "list", "--user", "nina");

  assert_failed (result, 3, "There is no patient record");
  assert_contains (result->err, "user add NAME");
  ck_assert (!g_file_test (db, G_FILE_TEST_EXISTS));
}
END_TEST

START_TEST (test_users_and_login)
{
  g_autoptr (CliResult) list = RUN (ADMIN_PW, "--db", db, "user", "list", "--user", "admin");
  g_autoptr (CliResult) wrong = RUN ("not the password", "--db", db, "patient", "list", "--user", "nina");
  g_autoptr (CliResult) unknown = RUN (NINA_PW, "--db", db, "patient", "list", "--user", "nobody");
  g_autoptr (CliResult) db_after = RUN (NINA_PW, "patient", "list", "--user", "nina", "--db", db);
  g_autoptr (CliResult) list_by_nurse = RUN (NINA_PW, "--db", db, "user", "list", "--user", "nina");
  g_autoptr (cJSON) trail = NULL;

  assert_status (list, 0);
  assert_contains (list->out, "paula            physician      active   Dr Paula Physician");
  assert_contains (list->out, "nina             nurse          active   Nina Nurse");
  /* A failed login is a refusal (exit 1), the same words for a wrong password and an unknown name. */
  assert_status (wrong, 1);
  assert_contains (wrong->err, "Unknown user or wrong password.");
  ck_assert_str_eq (wrong->out, "");
  assert_status (unknown, 1);
  assert_contains (unknown->err, "Unknown user or wrong password.");
  /* --db after the command works as well as before it. */
  assert_status (db_after, 0);
  assert_contains (db_after->out, "No patients.");
  /* Refused permission: exit 1, the reason on stderr, and audited. */
  assert_status (list_by_nurse, 1);
  assert_contains (list_by_nurse->err, "Nina Nurse (nurse) may not manage users: only an administrator may "
                                       "(permission user.manage).");
  trail = audit_json ();
  ck_assert_int_eq (count_action (trail, "login.failed"), 2);
  ck_assert_int_eq (count_action (trail, "permission.denied"), 1);
}
END_TEST

START_TEST (test_lockout_and_unlock)
{
  g_autoptr (CliResult) locked = NULL;
  g_autoptr (CliResult) unlock = NULL;
  g_autoptr (CliResult) after = NULL;

  for (int i = 0; i < 5; i++)
    {
      g_autoptr (CliResult) wrong = RUN ("not the password", "--db", db, "patient", "list", "--user", "nina");

      assert_status (wrong, 1);
      if (i == 4)
        assert_contains (wrong->err, "is now locked after 5 failed logins");
    }
  locked = RUN (NINA_PW, "--db", db, "patient", "list", "--user", "nina");
  assert_status (locked, 1);
  assert_contains (locked->err, "thecal-cli user unlock nina");
  unlock = RUN (ADMIN_PW, "--db", db, "user", "unlock", "nina", "--user", "admin");
  assert_status (unlock, 0);
  assert_contains (unlock->out, "The account nina is unlocked.");
  after = RUN (NINA_PW, "--db", db, "patient", "list", "--user", "nina");
  assert_status (after, 0);
}
END_TEST

START_TEST (test_passwd)
{
  g_autoptr (CliResult) own = RUN_NEW (NINA_PW, "nina's second password", "--db", db, "user", "passwd", "--user", "nina");
  g_autoptr (CliResult) old = RUN (NINA_PW, "--db", db, "patient", "list", "--user", "nina");
  g_autoptr (CliResult) fresh = RUN ("nina's second password", "--db", db, "patient", "list", "--user", "nina");
  g_autoptr (CliResult) other = RUN_NEW ("nina's second password", "paula was here!", "--db", db, "user", "passwd",
                                         "paula", "--user", "nina");
  g_autoptr (CliResult) short_one = RUN_NEW ("nina's second password", "short", "--db", db, "user", "passwd", "--user",
                                             "nina");

  assert_status (own, 0);
  assert_contains (own->out, "The password of nina was changed.");
  assert_status (old, 1);
  assert_status (fresh, 0);
  assert_status (other, 1);
  assert_contains (other->err, "permission user.manage");
  assert_failed (short_one, 2, "too short");
  assert_not_contains (short_one->err, "short\n");
}
END_TEST

START_TEST (test_no_terminal_no_password)
{
  /* Neither $THECAL_PASSWORD nor a terminal (a new session has no controlling terminal): a usage
   * error that says what to do, instead of waiting for input. */
  const char *binary = g_getenv ("THECAL_CLI");
  const char *argv[] = { "setsid", binary, "--db", db, "patient", "list", "--user", "nina", NULL };
  g_auto (GStrv) envp = g_environ_unsetenv (g_get_environ (), "THECAL_PASSWORD");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  envp = g_environ_setenv (envp, "LC_ALL", "C", TRUE);
  ck_assert (g_spawn_sync (NULL, (char **) argv, envp, G_SPAWN_SEARCH_PATH | G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL,
                           &out, &err, &status, NULL));
  ck_assert_int_eq (WEXITSTATUS (status), 2);
  ck_assert_msg (strstr (err, "THECAL_PASSWORD") != NULL, "%s", err);
}
END_TEST

START_TEST (test_demo_record)
{
  g_autofree char *demo = g_build_filename (dir, "demo.sqlite", NULL);
  g_autoptr (CliResult) created = RUN_NEW (NULL, ADMIN_PW, "--db", demo, "user", "add", "admin", "--demo");
  g_autoptr (CliResult) demo_user = RUN_NEW (ADMIN_PW, "demo password", "--db", demo, "user", "add", "demo", "--role",
                                             "demo", "--user", "admin");
  g_autoptr (CliResult) demo_here = RUN_NEW (ADMIN_PW, "demo password", "--db", db, "user", "add", "demo", "--role",
                                             "demo", "--user", "admin");
  g_autoptr (CliResult) too_late = RUN_NEW (ADMIN_PW, ADMIN_PW, "--db", db, "user", "add", "x", "--demo", "--user",
                                            "admin");
  g_autoptr (CliResult) demo_works = RUN ("demo password", "--db", demo, "patient", "add", "--user", "demo", "--mrn",
                                          "DEMO-1", "--name", "DEMO, Patient", "--born", "1970-01-01", "--json");
  g_autoptr (cJSON) json = NULL;

  assert_status (created, 0);
  assert_contains (created->out, "a demo record");
  assert_status (demo_user, 0);
  assert_failed (demo_here, 2, "demo user can only be added to a demo record");
  assert_failed (too_late, 2, "--demo makes a new record a demo record");
  assert_status (demo_works, 0);
  json = parse_json (demo_works);
  ck_assert (json_bool (json, "demo"));
}
END_TEST

/* ---- Patients, pumps, history, exports ----------------------------------------------------------- */

START_TEST (test_patients)
{
  g_autoptr (CliResult) duplicate = NULL;
  g_autoptr (CliResult) bad_date = NULL;
  g_autoptr (CliResult) missing = NULL;
  g_autoptr (CliResult) list = NULL;
  g_autoptr (CliResult) search = NULL;
  g_autoptr (CliResult) show = NULL;
  g_autoptr (CliResult) correct = NULL;
  g_autoptr (CliResult) no_reason = NULL;
  g_autoptr (CliResult) by_admin = NULL;
  g_autoptr (cJSON) json = NULL;

  add_jane ();
  {
    g_autoptr (CliResult) hans = RUN (NINA_PW, "--db", db, "patient", "add", "--user", "nina", "--mrn", "MRN-0002",
                                      "--name", "MÜLLER, Hans", "--born", "1955-11-30");

    assert_status (hans, 0);
    /* Opioid tolerance not given: naive, the safe side, and said. */
    assert_contains (hans->out, "opioid-naive");
  }
  duplicate = RUN (NINA_PW, "--db", db, "patient", "add", "--user", "nina", "--mrn", "MRN-0001", "--name", "ROE, Rita",
                   "--born", "1970-01-01");
  assert_failed (duplicate, 2, "MRN-0001 is already in the record");
  bad_date = RUN (NINA_PW, "--db", db, "patient", "add", "--user", "nina", "--mrn", "MRN-0003", "--name", "ROE, Rita",
                  "--born", "1970-02-30");
  assert_failed (bad_date, 2, "is not a date");
  missing = RUN (NINA_PW, "--db", db, "patient", "add", "--user", "nina", "--mrn", "MRN-0003");
  assert_failed (missing, 2, "--name is required");

  list = RUN (NINA_PW, "--db", db, "patient", "list", "--user", "nina", "--json");
  assert_status (list, 0);
  json = parse_json (list);
  ck_assert_str_eq (json_str (json, "patients[0].mrn"), "MRN-0001");
  ck_assert_str_eq (json_str (json, "patients[1].name"), "MÜLLER, Hans");
  ck_assert_str_eq (json_str (json, "user"), "nina");
  search = RUN (NINA_PW, "--db", db, "patient", "search", "mull", "--user", "nina");
  assert_status (search, 0);
  assert_contains (search->out, "MRN-0002");
  assert_not_contains (search->out, "MRN-0001");
  show = RUN (NINA_PW, "--db", db, "patient", "show", "MRN-0001", "--user", "nina");
  assert_status (show, 0);
  assert_contains (show->out, "Patient MRN-0001: DOE, Jane");
  assert_contains (show->out, "opioid-tolerant");

  correct = RUN (NINA_PW, "--db", db, "patient", "correct", "MRN-0001", "--name", "DOE, Janet", "--reason",
                 "misspelt at registration", "--user", "nina");
  assert_status (correct, 0);
  assert_contains (correct->out, "the earlier version is kept");
  assert_contains (correct->out, "DOE, Janet");
  no_reason = RUN (NINA_PW, "--db", db, "patient", "correct", "MRN-0001", "--name", "X", "--user", "nina");
  assert_failed (no_reason, 2, "--reason is required");
  by_admin = RUN (ADMIN_PW, "--db", db, "patient", "show", "MRN-0001", "--user", "admin");
  assert_status (by_admin, 1);
  assert_contains (by_admin->err, "permission patient.read");
}
END_TEST

START_TEST (test_pumps)
{
  g_autofree char *key_file = g_build_filename (dir, "pairing.key", NULL);
  g_autoptr (CliResult) by_nurse = NULL;
  g_autoptr (CliResult) with_key = NULL;
  g_autoptr (CliResult) bad_model = NULL;
  g_autoptr (CliResult) bad_key = NULL;
  g_autoptr (CliResult) list = NULL;
  g_autoptr (CliResult) show = NULL;
  g_autoptr (CliResult) explant = NULL;
  g_autoptr (CliResult) help = NULL;
  g_autoptr (cJSON) json = NULL;

  add_jane ();
  by_nurse = RUN (NINA_PW, "--db", db, "pump", "add", "--user", "nina", "--serial", "SN-0001", "--patient", "MRN-0001",
                  "--implanted", "2024-03-01", "--catheter-length", "45 cm");
  assert_status (by_nurse, 1);
  assert_contains (by_nurse->err, "may not register an implanted pump: only a physician or a demo user may");
  add_pump ();
  ck_assert (g_file_set_contents (key_file, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", -1,
                                  NULL));
  with_key = RUN (PAULA_PW, "--db", db, "pump", "add", "--user", "paula", "--serial", "SN-0002", "--patient", "MRN-0001",
                  "--implanted", "2020-01-15", "--catheter-length", "1100 mm", "--pairing-key-file", key_file);
  assert_status (with_key, 0);
  assert_contains (with_key->out, "TR-20"); /* the default model, said */
  bad_model = RUN (PAULA_PW, "--db", db, "pump", "add", "--user", "paula", "--serial", "SN-0003", "--patient",
                   "MRN-0001", "--pump", "XYZ", "--implanted", "2024-03-01", "--catheter-length", "45 cm");
  assert_failed (bad_model, 2, "XYZ");
  ck_assert (g_file_set_contents (key_file, "00112233", -1, NULL));
  bad_key = RUN (PAULA_PW, "--db", db, "pump", "add", "--user", "paula", "--serial", "SN-0003", "--patient",
                 "MRN-0001", "--implanted", "2024-03-01", "--catheter-length", "45 cm", "--pairing-key-file", key_file);
  assert_failed (bad_key, 2, "64 hexadecimal digits");

  list = RUN (NINA_PW, "--db", db, "pump", "list", "--patient", "MRN-0001", "--user", "nina", "--json");
  assert_status (list, 0);
  json = parse_json (list);
  ck_assert_str_eq (json_str (json, "pumps[0].serial"), "SN-0001");
  ck_assert_str_eq (json_str (json, "pumps[0].model"), "TR-40");
  ck_assert_int_eq (json_int (json, "pumps[0].catheter_length_mm"), 450);
  ck_assert_str_eq (json_str (json, "pumps[1].serial"), "SN-0002");
  show = RUN (NINA_PW, "--db", db, "pump", "show", "SN-0001", "--user", "nina");
  assert_status (show, 0);
  assert_contains (show->out, "Pump SN-0001 (TR-40) of patient MRN-0001");
  assert_contains (show->out, "catheter 45 cm implanted");
  explant = RUN (PAULA_PW, "--db", db, "pump", "explant", "SN-0002", "--date", "2024-02-01", "--reason", "end of service",
                 "--user", "paula");
  assert_status (explant, 0);
  assert_contains (explant->out, "explanted on 2024-02-01");
  /* "pump" is shared with the telemetry commands: --help shows both. */
  help = RUN (NULL, "pump", "--help");
  assert_status (help, 0);
  assert_contains (help->out, "interrogate");
  assert_contains (help->out, "explant");
}
END_TEST

START_TEST (test_history_and_export)
{
  g_autofree char *output = g_build_filename (dir, "export.json", NULL);
  g_autoptr (CliResult) history = NULL;
  g_autoptr (CliResult) csv = NULL;
  g_autoptr (CliResult) json_out = NULL;
  g_autoptr (CliResult) again = NULL;
  g_autoptr (CliResult) no_format = NULL;
  g_autoptr (cJSON) exported = NULL;
  g_autoptr (cJSON) trail = NULL;
  g_autofree char *contents = NULL;
  g_auto (GStrv) rows = NULL;
  struct stat st;

  add_jane ();
  add_pump ();
  history = RUN (NINA_PW, "--db", db, "history", "MRN-0001", "--user", "nina");
  assert_status (history, 0);
  assert_contains (history->out, "History (UTC):");
  assert_contains (history->out, "patient registered: DOE, Jane, born 1961-04-12, tolerant (nina)");
  assert_contains (history->out, "pump SN-0001 (TR-40) registered, implanted 2024-03-01, catheter 45 cm (paula)");

  csv = RUN (NINA_PW, "--db", db, "export", "MRN-0001", "--format", "csv", "--user", "nina");
  assert_status (csv, 0);
  rows = g_strsplit (csv->out, "\r\n", -1);
  ck_assert_str_eq (rows[0], "time_utc,utc_ms,mrn,kind,id,supersedes,by,what");
  ck_assert (g_str_has_suffix (rows[1], ",MRN-0001,patient,1,,nina,\"patient registered: DOE, Jane, born 1961-04-12, "
                                        "tolerant\""));

  json_out = RUN (NINA_PW, "--db", db, "export", "MRN-0001", "--format", "json", "--output", output, "--user", "nina");
  assert_status (json_out, 0);
  assert_contains (json_out->out, "Exported to");
  ck_assert_int_eq (stat (output, &st), 0);
  ck_assert_int_eq (st.st_mode & 0777, 0600);
  ck_assert (g_file_get_contents (output, &contents, NULL, NULL));
  exported = cJSON_Parse (contents);
  ck_assert_ptr_nonnull (exported);
  ck_assert_str_eq (json_str (exported, "format"), "thecal-patient-export");
  ck_assert_str_eq (json_str (exported, "patient.name"), "DOE, Jane");
  ck_assert_str_eq (json_str (exported, "pump_versions[0].serial"), "SN-0001");
  /* Never over an existing file. */
  again = RUN (NINA_PW, "--db", db, "export", "MRN-0001", "--format", "json", "--output", output, "--user", "nina");
  assert_failed (again, 2, "never overwrites");
  no_format = RUN (NINA_PW, "--db", db, "export", "MRN-0001", "--user", "nina");
  assert_failed (no_format, 2, "--format is required");
  /* Each export is in the audit trail; an export of the trail is audited after it was read, so
   * it shows in the next one. */
  trail = audit_json ();
  ck_assert_int_eq (count_action (trail, "export"), 2);
  ck_assert_int_eq (count_action (trail, "audit.export"), 0);
  g_clear_pointer (&trail, cJSON_Delete);
  trail = audit_json ();
  ck_assert_int_eq (count_action (trail, "audit.export"), 1);
}
END_TEST

/* ---- Audit ----------------------------------------------------------------------------------- */

START_TEST (test_audit_verify_finds_tampering)
{
  g_autoptr (CliResult) intact = NULL;
  g_autoptr (CliResult) anchored = NULL;
  g_autoptr (CliResult) broken = NULL;
  g_autoptr (CliResult) by_json = NULL;
  g_autoptr (cJSON) json = NULL;
  g_autofree char *anchor = NULL;
  g_autofree char *shell_out = NULL;
  const char *shell[] = { "sqlite3", db,
                          "DROP TRIGGER audit_append_only_update; UPDATE audit SET reason = 'edited' WHERE seq = 4",
                          NULL };
  int status = 0;

  add_jane ();
  intact = RUN (NINA_PW, "--db", db, "audit", "verify", "--user", "nina");
  assert_status (intact, 0);
  assert_contains (intact->out, "The audit trail is intact:");
  anchor = line_starting (intact->out, "Keep this anchor");
  anchored = RUN (NINA_PW, "--db", db, "audit", "verify", "--user", "nina", "--anchor", strstr (anchor, "--anchor ") + 9);
  assert_status (anchored, 0);

  /* An attacker with the sqlite3 shell changes entry 4 (the administrator's login). */
  ck_assert (g_spawn_sync (NULL, (char **) shell, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &shell_out, NULL, &status, NULL));
  ck_assert_int_eq (status, 0);
  broken = RUN (NINA_PW, "--db", db, "audit", "verify", "--user", "nina");
  assert_status (broken, 1);
  assert_contains (broken->out, "Entry 4 was altered");
  assert_contains (broken->err, "Entry 4 was altered");
  by_json = RUN (NINA_PW, "--db", db, "audit", "verify", "--user", "nina", "--json");
  assert_status (by_json, 1);
  json = parse_json (by_json);
  ck_assert (!json_bool (json, "intact"));
  ck_assert_str_eq (json_str (json, "result"), "altered");
  ck_assert_int_eq (json_int (json, "bad_seq"), 4);
}
END_TEST

START_TEST (test_usage)
{
  g_autoptr (CliResult) none = RUN (NULL, "patient");
  g_autoptr (CliResult) unknown = RUN (NULL, "patient", "delete");
  g_autoptr (CliResult) help = RUN (NULL, "user", "--help");
  g_autoptr (CliResult) sub_help = RUN (NULL, "patient", "add", "--help");
  g_autoptr (CliResult) top = RUN (NULL, "--help");
  g_autoptr (CliResult) bad_anchor = RUN (NINA_PW, "--db", db, "audit", "verify", "--anchor", "x", "--user", "nina");

  assert_failed (none, 2, "give a subcommand first: add, list, show, search, correct");
  assert_failed (unknown, 2, "unknown subcommand “delete”");
  assert_status (help, 0);
  assert_contains (help->out, "unlock");
  assert_status (sub_help, 0);
  assert_contains (sub_help->out, "thecal-cli patient add");
  assert_contains (sub_help->out, "THECAL_PASSWORD");
  assert_status (top, 0);
  assert_contains (top->out, "history");
  assert_failed (bad_anchor, 2, "--anchor");
}
END_TEST

static Suite *
cli_record_suite (void)
{
  Suite *suite = suite_create ("cli-record");
  TCase *fresh = tcase_create ("fresh");
  TCase *clinic = tcase_create ("clinic");

  tcase_add_checked_fixture (fresh, dir_setup, dir_teardown);
  tcase_add_test (fresh, test_first_run);
  tcase_add_test (fresh, test_no_record);
  suite_add_tcase (suite, fresh);

  tcase_add_checked_fixture (clinic, clinic_setup, dir_teardown);
  tcase_add_test (clinic, test_users_and_login);
  tcase_add_test (clinic, test_lockout_and_unlock);
  tcase_add_test (clinic, test_passwd);
  tcase_add_test (clinic, test_no_terminal_no_password);
  tcase_add_test (clinic, test_demo_record);
  tcase_add_test (clinic, test_patients);
  tcase_add_test (clinic, test_pumps);
  tcase_add_test (clinic, test_history_and_export);
  tcase_add_test (clinic, test_audit_verify_finds_tampering);
  tcase_add_test (clinic, test_usage);
  suite_add_tcase (suite, clinic);
  return suite;
}

THECAL_TEST_MAIN (cli_record_suite)
