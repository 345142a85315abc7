/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-record-crash.c: durability under SIGKILL (DESIGN.md "Patient record": WAL, synchronous =
 * FULL, one transaction per write; docs/record.md "Durability").
 *
 * A child process (crash-writer.c) writes programming sessions, their confirmations and refills
 * in a loop and prints a line for every write the record reported as committed. The parent kills
 * it with SIGKILL after a random delay (fixed seed, so every run kills at the same moments of the
 * child's life, give or take the machine's speed), THECAL_CRASH_KILLS times (at least 200). After
 * each kill the record must open, its audit chain must verify, and every write the child
 * reported must be there; a session reported as begun but not confirmed must be either pending
 * (the kill came first) or confirmed (the kill came between the commit and the line).
 */
#include "config.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "thecal-test-random.h"
#include "thecal-test-record.h"
#include "thecal-test.h"

#define CRASH_SEED UINT64_C (0x74686563616c3031) /* "thecal01" */
#define CRASH_KILLS_DEFAULT 200
#define DELAY_MIN_US 1000
#define DELAY_SPAN_US 60000

typedef struct
{
  GHashTable *begun;     /* session id → TRUE */
  GHashTable *confirmed; /* session id → prescription id */
  GHashTable *refills;   /* refill id → TRUE */
} Facts;

static void
facts_init (Facts *facts)
{
  facts->begun = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  facts->confirmed = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  facts->refills = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
}

static void
facts_clear (Facts *facts)
{
  g_clear_pointer (&facts->begun, g_hash_table_unref);
  g_clear_pointer (&facts->confirmed, g_hash_table_unref);
  g_clear_pointer (&facts->refills, g_hash_table_unref);
}

static gint64 *
id_new (gint64 id)
{
  return g_memdup2 (&id, sizeof id);
}

/* Reads every complete line of @text into @facts (a line cut by the kill would have no "\n";
 * a line is written with one write (), so there is none, but it would be ignored). */
static void
parse_output (const char *text, Facts *all, Facts *round)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  guint n = g_strv_length (lines);

  for (guint i = 0; i + 1 < n; i++) /* the last piece follows the last "\n": not a line */
    {
      gint64 a = 0;
      gint64 b = 0;

      if (sscanf (lines[i], "begun %" G_GINT64_FORMAT, &a) == 1)
        {
          g_hash_table_add (all->begun, id_new (a));
          g_hash_table_add (round->begun, id_new (a));
        }
      else if (sscanf (lines[i], "confirmed %" G_GINT64_FORMAT " %" G_GINT64_FORMAT, &a, &b) == 2)
        {
          g_hash_table_insert (all->confirmed, id_new (a), id_new (b));
          g_hash_table_insert (round->confirmed, id_new (a), id_new (b));
        }
      else if (sscanf (lines[i], "refill %" G_GINT64_FORMAT, &a) == 1)
        {
          g_hash_table_add (all->refills, id_new (a));
          g_hash_table_add (round->refills, id_new (a));
        }
      else
        ck_abort_msg ("the child printed “%s”", lines[i]);
    }
}

static void
check_facts (ThecalRecord *record, const Facts *facts, int kill)
{
  GHashTableIter iter;
  gpointer key;
  gpointer value;

  g_hash_table_iter_init (&iter, facts->begun);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      g_autoptr (GError) error = NULL;
      gint64 id = *(gint64 *) key;
      g_autoptr (ThecalProgrammingSession) session = SYNC (thecal_record_get_programming_session, record, &error, id);

      ck_assert_msg (session != NULL, "kill %d: session %" G_GINT64_FORMAT " was reported begun but is lost: %s", kill,
                     id, error != NULL ? error->message : "?");
      ck_assert_msg (session->outcome == THECAL_OUTCOME_PENDING || session->outcome == THECAL_OUTCOME_CONFIRMED,
                     "kill %d: session %" G_GINT64_FORMAT " is %s", kill, id,
                     thecal_programming_outcome_name (session->outcome));
      ck_assert_uint_eq (session->changes->len, 1);
      if (g_hash_table_contains (facts->confirmed, key))
        {
          gint64 prescription = *(gint64 *) g_hash_table_lookup (facts->confirmed, key);

          ck_assert_msg (session->outcome == THECAL_OUTCOME_CONFIRMED,
                         "kill %d: session %" G_GINT64_FORMAT " was reported confirmed but is %s", kill, id,
                         thecal_programming_outcome_name (session->outcome));
          ck_assert_int_eq (session->prescription_id, prescription);
        }
      else if (session->outcome == THECAL_OUTCOME_CONFIRMED)
        ck_assert_int_ne (session->prescription_id, 0); /* committed just before the kill */
    }
  g_hash_table_iter_init (&iter, facts->confirmed);
  while (g_hash_table_iter_next (&iter, &key, &value))
    ck_assert_msg (g_hash_table_contains (facts->begun, key), "kill %d: confirmed without begun", kill);
  g_hash_table_iter_init (&iter, facts->refills);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      g_autoptr (GError) error = NULL;
      gint64 id = *(gint64 *) key;
      g_autoptr (ThecalRefill) refill = SYNC (thecal_record_get_refill, record, &error, id);

      ck_assert_msg (refill != NULL, "kill %d: refill %" G_GINT64_FORMAT " was reported but is lost: %s", kill, id,
                     error != NULL ? error->message : "?");
      ck_assert_str_eq (refill->verified_by, "nina");
    }
}

/* Runs the child for @delay_us, kills it, returns what it printed (and fails if it died alone). */
static char *
run_and_kill (const char *writer, const char *path, gint64 delay_us)
{
  const char *argv[] = { writer, path, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GString) err = g_string_new (NULL);
  GPid pid = 0;
  int out_fd = -1;
  int err_fd = -1;
  int status = 0;
  gint64 deadline;
  char buffer[4096];

  ck_assert_msg (g_spawn_async_with_pipes (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                                           NULL, &out_fd, &err_fd, &error),
                 "cannot run %s: %s", writer, error != NULL ? error->message : "?");
  deadline = g_get_monotonic_time () + delay_us;
  for (;;)
    {
      gint64 left = deadline - g_get_monotonic_time ();
      struct pollfd fds = { out_fd, POLLIN, 0 };
      ssize_t got;

      if (left <= 0)
        break;
      if (poll (&fds, 1, (int) ((left + 999) / 1000)) <= 0)
        continue;
      got = read (out_fd, buffer, sizeof buffer);
      if (got <= 0)
        break; /* the child ended by itself: see below */
      g_string_append_len (out, buffer, got);
    }
  kill (pid, SIGKILL);
  ck_assert_int_eq (waitpid (pid, &status, 0), pid);
  g_spawn_close_pid (pid);
  /* What was written before the kill is still in the pipe. */
  for (ssize_t got; (got = read (out_fd, buffer, sizeof buffer)) > 0;)
    g_string_append_len (out, buffer, got);
  for (ssize_t got; (got = read (err_fd, buffer, sizeof buffer)) > 0;)
    g_string_append_len (err, buffer, got);
  close (out_fd);
  close (err_fd);
  ck_assert_msg (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL, "the writer ended by itself (%d): %s", status,
                 err->str);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

START_TEST (test_sigkill_many_times)
{
  const char *writer = g_getenv ("THECAL_CRASH_WRITER");
  const char *kills_text = g_getenv ("THECAL_CRASH_KILLS");
  int n_kills = kills_text != NULL ? atoi (kills_text) : CRASH_KILLS_DEFAULT;
  g_autofree char *path = test_path ("record.sqlite");
  uint64_t rng = CRASH_SEED;
  Facts all;
  gint64 started = g_get_monotonic_time ();

  ck_assert_msg (writer != NULL, "THECAL_CRASH_WRITER is not set: run the tests through meson test");
  ck_assert_int_ge (n_kills, 1);
  {
    g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_CREATE);
    g_autoptr (ThecalUser) admin = first_admin (record);
    g_autoptr (ThecalUser) physician = add_user (record, admin, "paula", "Dr Paula Physician", THECAL_ROLE_PHYSICIAN);
    g_autoptr (ThecalUser) nurse = add_user (record, admin, "nina", "Nina Nurse", THECAL_ROLE_NURSE);
    g_autoptr (ThecalPatient) patient = add_patient (record, physician, "MRN-1", "DOE, Jane");
    g_autoptr (ThecalPump) pump = add_pump (record, physician, "SN-1", "MRN-1");
  }
  facts_init (&all);
  for (int kill = 0; kill < n_kills; kill++)
    {
      gint64 delay_us = DELAY_MIN_US + thecal_test_rnd_below (&rng, DELAY_SPAN_US);
      g_autofree char *out = run_and_kill (writer, path, delay_us);
      Facts round;

      facts_init (&round);
      parse_output (out, &all, &round);
      {
        g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_DEFAULT);
        g_autoptr (ThecalAuditVerification) verification = verify_audit (record, 0, NULL);

        ck_assert_msg (verification->problem == THECAL_AUDIT_INTACT, "kill %d (after %" G_GINT64_FORMAT " µs): %s",
                       kill, delay_us, verification->message);
        check_facts (record, &round, kill);
      }
      facts_clear (&round);
    }
  /* Everything reported over all the runs is still there at the end. */
  {
    g_autoptr (ThecalRecord) record = open_record (path, THECAL_RECORD_OPEN_DEFAULT);
    g_autoptr (ThecalAuditVerification) verification = verify_audit (record, 0, NULL);

    ck_assert_msg (verification->problem == THECAL_AUDIT_INTACT, "%s", verification->message);
    check_facts (record, &all, n_kills);
    /* The kills fell while it was writing, not only before it started. */
    ck_assert_msg (g_hash_table_size (all.refills) >= (guint) n_kills / 4, "only %u refills in %d runs",
                   g_hash_table_size (all.refills), n_kills);
    fprintf (stderr, "# %d kills in %.1f s: %u sessions, %u confirmed, %u refills, %" G_GINT64_FORMAT " audit entries\n",
             n_kills, (double) (g_get_monotonic_time () - started) / 1e6, g_hash_table_size (all.begun),
             g_hash_table_size (all.confirmed), g_hash_table_size (all.refills), verification->n_entries);
  }
  facts_clear (&all);
}
END_TEST

static Suite *
record_crash_suite (void)
{
  Suite *suite = suite_create ("record-crash");
  TCase *crash = tcase_create ("crash");

  tcase_add_checked_fixture (crash, record_test_setup, record_test_teardown);
  tcase_set_timeout (crash, 600);
  tcase_add_test (crash, test_sigkill_many_times);
  suite_add_tcase (suite, crash);
  return suite;
}

THECAL_TEST_MAIN (record_crash_suite)
