/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-cli-visit-crash.c: crash recovery of a change of prescription (docs/workflows.md
 * "Failure behaviour", docs/hazards.md). "thecal-cli visit MRN --sim program" runs against a
 * simulated pump whose state persists between runs (--sim-state) and is killed with SIGKILL
 * after a delay swept finely over the duration of an uninterrupted run (fixed seeds jitter each
 * delay inside its step), so the kills land everywhere: before the PENDING session, between it
 * and the write, during the two-phase write, after the read-back, after the outcome. After each
 * kill the next "visit MRN --sim interrogate" reconciles, and then:
 *   - no programming session of the pump is PENDING or UNCERTAIN;
 *   - the record's current prescription of the pump has the checksum of what the persisted
 *     simulated pump runs;
 *   - "thecal-cli audit verify" verifies the hash chain.
 * The simulated pump keeps its state only when a run ends (the state file is replaced
 * atomically), so a kill before that is a pump that never took the change, and a kill after it
 * is a pump that runs it: both must be reconciled to the truth.
 */
#include "config.h"

#include <signal.h>
#include <sys/types.h>

#include "thecal-dose-json.h"
#include "thecal-sim-pump.h"
#include "thecal-test-cli.h"
#include "thecal-test.h"

#define ADMIN_PW "admin password one"
#define PAULA_PW "physician password"
#define OVERRIDE "concentration above PACC soft limit, reviewed"
#define SERIAL "TR20-000123"

/* kill points per seed, and the seeds: 3 × 32 = 96 kill points. The first seed sweeps the whole run;
 * the others sweep, as finely, the window from just before the earliest kill that left a session
 * in the record to the end: the write itself (pending, STAGE, COMMIT, read-back, outcome). */
#define STEPS 32
static const guint32 seeds[] = { 17, 4242, 90210 };

static char *dir = NULL;
static char *db = NULL;
static char *state = NULL;

static CliResult *
run_as (const char *password, const char *new_password, const char *const *args)
{
  g_autofree char *login = g_strdup_printf ("THECAL_PASSWORD=%s", password != NULL ? password : "");
  g_autofree char *fresh = g_strdup_printf ("THECAL_NEW_PASSWORD=%s", new_password != NULL ? new_password : "");
  const char *env[] = { "THECAL_PWHASH_LIMITS=min", login, fresh, NULL };

  return cli_run_argv (env, args);
}

#define RUN(password, ...) run_as ((password), NULL, (const char *const[]){ __VA_ARGS__, NULL })
#define RUN_NEW(password, new_password, ...) run_as ((password), (new_password), (const char *const[]){ __VA_ARGS__, NULL })

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

/* admin, paula (physician), patient MRN-0001 with the demo pump TR20-000123 paired. */
static void
clinic_setup (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *key_file = NULL;
  g_autoptr (GString) hex = g_string_new (NULL);
  guint8 key[THECAL_KEY_SIZE];

  dir = g_dir_make_tmp ("thecal-cli-crash-XXXXXX", &error);
  ck_assert_msg (dir != NULL, "%s", error != NULL ? error->message : "?");
  db = g_build_filename (dir, "record.sqlite", NULL);
  state = g_build_filename (dir, "pump.state", NULL);
  key_file = g_build_filename (dir, "pump.key", NULL);
  thecal_sim_pump_demo_key (SERIAL, key);
  for (gsize i = 0; i < sizeof key; i++)
    g_string_append_printf (hex, "%02x", key[i]);
  g_string_append_c (hex, '\n');
  ck_assert (g_file_set_contents (key_file, hex->str, -1, NULL));
  {
    g_autoptr (CliResult) admin = RUN_NEW (NULL, ADMIN_PW, "--db", db, "user", "add", "admin", "--full-name", "Ada Admin");
    g_autoptr (CliResult) paula = RUN_NEW (ADMIN_PW, PAULA_PW, "--db", db, "user", "add", "paula", "--role", "physician",
                                           "--full-name", "Dr Paula Physician", "--user", "admin");
    g_autoptr (CliResult) jane = RUN (PAULA_PW, "--db", db, "patient", "add", "--user", "paula", "--mrn", "MRN-0001",
                                      "--name", "DOE, Jane", "--born", "1961-04-12", "--opioid", "tolerant");
    g_autoptr (CliResult) pump = RUN (PAULA_PW, "--db", db, "pump", "add", "--user", "paula", "--serial", SERIAL,
                                      "--patient", "MRN-0001", "--pump", "TR-20", "--implanted", "2025-06-01",
                                      "--catheter-length", "45.5 cm", "--pairing-key-file", key_file);

    status_is (admin, 0);
    status_is (paula, 0);
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
  g_clear_pointer (&state, g_free);
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

/* The argv of the killed run (NULL-terminated, in @argv). */
static void
program_argv (GPtrArray *argv, const char *rx)
{
  g_ptr_array_add (argv, g_strdup (g_getenv ("THECAL_CLI")));
  for (const char *const *a = (const char *const[]){ "--db", db, "visit", "MRN-0001", "--sim", "--user", "paula", "--sim-state",
                                                     state, "program", "--prescription", rx, "--override-reason", OVERRIDE, NULL };
       *a != NULL; a++)
    g_ptr_array_add (argv, g_strdup (*a));
  g_ptr_array_add (argv, NULL);
}

/* Runs the program step and kills it with SIGKILL after @delay_us (no kill when it ended
 * before). TRUE when it was killed. */
static gboolean
program_killed_after (const char *rx, gint64 delay_us)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) envp = g_get_environ ();
  g_autoptr (GError) error = NULL;
  GPid pid;
  int wait_status = 0;
  gboolean killed;

  program_argv (argv, rx);
  envp = g_environ_setenv (envp, "LC_ALL", "C", TRUE);
  envp = g_environ_setenv (envp, "THECAL_PWHASH_LIMITS", "min", TRUE);
  envp = g_environ_setenv (envp, "THECAL_PASSWORD", PAULA_PW, TRUE);
  ck_assert_msg (g_spawn_async (NULL, (char **) argv->pdata, envp,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                                NULL, &pid, &error),
                 "%s", error != NULL ? error->message : "?");
  if (delay_us > 0)
    g_usleep ((gulong) delay_us);
  kill (pid, SIGKILL);
  ck_assert (waitpid (pid, &wait_status, 0) == pid);
  killed = WIFSIGNALED (wait_status) && WTERMSIG (wait_status) == SIGKILL;
  g_spawn_close_pid (pid);
  return killed;
}

/* The checksum of what the persisted simulated pump runs. */
static void
pump_checksum (ThecalChecksum *checksum)
{
  g_autofree char *data = NULL;
  gsize length;
  ThecalSimPump *pump = g_new0 (ThecalSimPump, 1);

  ck_assert (g_file_get_contents (state, &data, &length, NULL));
  ck_assert_uint_gt (length, sizeof *pump);
  /* the file is a header, then the pump as a raw copy (src/cli/thecal-cli-visit.c) */
  memcpy (pump, data + (length - sizeof *pump), sizeof *pump);
  ck_assert (thecal_sim_pump_active_checksum (pump, checksum));
  g_free (pump);
}

static cJSON *
export_json (void)
{
  g_autoptr (CliResult) result = RUN (PAULA_PW, "--db", db, "export", "MRN-0001", "--format", "json", "--user", "paula");
  cJSON *root;

  status_is (result, 0);
  root = cJSON_Parse (result->out);
  ck_assert_msg (root != NULL, "%s", oneline (result->out));
  return root;
}

/* How many sessions of the pump are PENDING or UNCERTAIN; *@total: how many sessions. */
static guint
unresolved_sessions (const cJSON *root, guint *total)
{
  const cJSON *session;
  guint n = 0;

  *total = 0;
  cJSON_ArrayForEach (session, cJSON_GetObjectItem (root, "programming_sessions"))
  {
    const char *outcome = cJSON_GetStringValue (cJSON_GetObjectItem (session, "outcome"));

    ck_assert_ptr_nonnull (outcome);
    (*total)++;
    if (g_str_equal (outcome, "pending") || g_str_equal (outcome, "uncertain"))
      n++;
  }
  return n;
}

/* The checksum of the record's current prescription of the pump (the newest one in force). */
static void
record_checksum (const cJSON *root, ThecalChecksum *checksum)
{
  const cJSON *item, *current = NULL;
  double best = -1;
  g_autofree char *text = NULL;
  ThecalPrescription rx;
  ThecalDoseError dose_error;

  cJSON_ArrayForEach (item, cJSON_GetObjectItem (root, "prescriptions"))
  {
    const cJSON *id = cJSON_GetObjectItem (item, "id");

    if (cJSON_IsTrue (cJSON_GetObjectItem (item, "superseded")) || cJSON_GetObjectItem (item, "effective_to_utc_ms") != NULL)
      continue;
    if (g_strcmp0 (cJSON_GetStringValue (cJSON_GetObjectItem (item, "pump")), SERIAL) != 0)
      continue;
    if (cJSON_GetNumberValue (id) > best)
      {
        best = cJSON_GetNumberValue (id);
        current = item;
      }
  }
  ck_assert_msg (current != NULL, "no current prescription of %s in the record", SERIAL);
  text = cJSON_PrintUnformatted (cJSON_GetObjectItem (current, "prescription"));
  thecal_dose_error_clear (&dose_error);
  ck_assert_msg (thecal_prescription_load_json (text, strlen (text), &rx, &dose_error), "%s: %s", text, dose_error.message);
  ck_assert (thecal_prescription_checksum (&rx, checksum, NULL));
}

START_TEST (test_kill_program_everywhere)
{
  static const char *const doses[] = { "6 mg/day", "6.5 mg/day", "7 mg/day" };
  gint64 started, duration_us;
  guint points = 0, killed = 0, left_unresolved = 0, took = 0, not_taken = 0;
  gint64 window_us = 0, first_session_us = -1;

  /* the first interrogation makes the state file; then three uninterrupted changes measure how
   * long a run lasts (the shortest: the sweep must not end after the runs do) */
  {
    g_autoptr (CliResult) first = RUN (PAULA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "paula", "--sim-state",
                                       state, "interrogate");

    status_is (first, 0);
    duration_us = G_MAXINT64;
    for (guint i = 0; i < 3; i++)
      {
        g_autofree char *rx = write_rx (i % 2 == 0 ? "5.5 mg/day" : "5 mg/day");
        g_autoptr (CliResult) program = NULL;

        started = g_get_monotonic_time ();
        program = RUN (PAULA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "paula", "--sim-state", state, "program",
                       "--prescription", rx, "--override-reason", OVERRIDE);
        duration_us = MIN (duration_us, g_get_monotonic_time () - started);
        status_is (program, 0);
      }
  }
  printf ("# an uninterrupted program run: %" G_GINT64_FORMAT " ms\n", duration_us / 1000);
  fflush (stdout);

  for (guint s = 0; s < G_N_ELEMENTS (seeds); s++)
    {
      g_autoptr (GRand) rand = g_rand_new_with_seed (seeds[s]);

      for (guint step = 0; step < STEPS; step++)
        {
          g_autofree char *rx = write_rx (doses[points % G_N_ELEMENTS (doses)]);
          /* step k of STEPS covers [k, k+1) × width / STEPS from the window's start, up to a little
           * after the run's end */
          gint64 width_us = (gint64) (1.1 * (double) duration_us) - window_us;
          gint64 delay_us = window_us + (gint64) ((step + g_rand_double (rand)) * (double) width_us / STEPS);
          guint before_total, total, unresolved;
          ThecalChecksum on_pump, in_record;
          g_autoptr (cJSON) before = NULL;
          g_autoptr (cJSON) after = NULL;
          g_autoptr (CliResult) reconnect = NULL;
          g_autoptr (CliResult) verify = NULL;

          {
            g_autoptr (cJSON) root = export_json ();
            (void) unresolved_sessions (root, &before_total);
          }
          points++;
          if (program_killed_after (rx, delay_us))
            killed++;
          before = export_json ();
          unresolved = unresolved_sessions (before, &total);
          left_unresolved += unresolved;

          /* the next start reconciles */
          reconnect = RUN (PAULA_PW, "--db", db, "visit", "MRN-0001", "--sim", "--user", "paula", "--sim-state", state,
                           "interrogate");
          status_is (reconnect, 0);
          after = export_json ();
          ck_assert_msg (unresolved_sessions (after, &total) == 0, "seed %u step %u (%" G_GINT64_FORMAT " us): a session "
                                                                   "is still pending or uncertain after reconciliation; %s",
                         seeds[s], step, delay_us,
                         oneline (reconnect->out));
          pump_checksum (&on_pump);
          record_checksum (after, &in_record);
          ck_assert_msg (thecal_checksum_equal (&on_pump, &in_record), "seed %u step %u (%" G_GINT64_FORMAT " us): the record's "
                                                                       "prescription is not what the pump runs; reconnect: %s; sessions: %s",
                         seeds[s], step, delay_us,
                         oneline (reconnect->out), oneline (cJSON_PrintUnformatted (cJSON_GetObjectItem (after, "programming_sessions"))));
          verify = RUN (PAULA_PW, "--db", db, "audit", "verify", "--user", "paula");
          status_is (verify, 0);
          if (total > before_total)
            {
              if (first_session_us < 0 || delay_us < first_session_us)
                first_session_us = delay_us;
              const cJSON *last = cJSON_GetArrayItem (cJSON_GetObjectItem (after, "programming_sessions"), (int) total - 1);

              if (g_str_equal (cJSON_GetStringValue (cJSON_GetObjectItem (last, "outcome")), "confirmed"))
                took++;
              else
                not_taken++;
            }
        }
      if (first_session_us >= 0)
        window_us = MAX (0, first_session_us - (gint64) (1.1 * (double) duration_us / STEPS));
    }
  printf ("# the write's window: from %" G_GINT64_FORMAT " us of %" G_GINT64_FORMAT " us\n", window_us, duration_us);
  printf ("# kill points: %u (%u seeds x %u), killed by SIGKILL: %u; sessions left pending/uncertain by the kill: %u; "
          "change confirmed: %u, change failed (pump kept the old one): %u, killed before a session: %u\n",
          points, (guint) G_N_ELEMENTS (seeds), STEPS, killed, left_unresolved, took, not_taken, points - took - not_taken);
  fflush (stdout);
  ck_assert_uint_ge (points, 50);
  /* at least a quarter of the points killed a running program: the sweep covers the run (on a
   * loaded machine runs last longer than measured, so fewer kills land after the end, or more
   * runs end early; 40 was seen failing with 38 under load, so a quarter keeps a margin) */
  ck_assert_uint_ge (killed, points / 4);
  /* the sweep did reach the write: some kills left a pending session behind */
  ck_assert_uint_gt (left_unresolved, 0);
}
END_TEST

static Suite *
cli_visit_crash_suite (void)
{
  Suite *s = suite_create ("cli-visit-crash");
  TCase *tc = tcase_create ("crash");

  tcase_add_checked_fixture (tc, clinic_setup, clinic_teardown);
  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_kill_program_everywhere);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (cli_visit_crash_suite)
