/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * bench-record.c: the patient record at clinic scale (DESIGN.md "Performance targets": patient
 * search over 100 000 patients ≤ 5 ms). Run by build-aux/run-bench; figures go to
 * docs/benchmarks.md.
 *
 *   search       name-word and record-number prefixes over THECAL_BENCH_PATIENTS patients
 *                (default 100 000), each call through the record's thread as the GUI makes it
 *   append       one audit entry per transaction with synchronous = FULL (an fsync each)
 *   verify       the whole audit chain, and per 100 000 entries
 *   open         opening the large record (quick_check included)
 *
 * The record lives in a temporary folder on the file system of $TMPDIR: what it measures is that
 * disk's fsync. Times are integer microseconds from g_get_monotonic_time ().
 */
#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "thecal-record-fill.h"
#include "thecal-record.h"
#include "thecal-sync-call.h"

#define SYNC(op, record, error, ...)                                                 \
  ({                                                                                 \
    g_autoptr (ThecalSyncCall) sync_call_ = thecal_sync_call_new ();                 \
    op##_async (record, ##__VA_ARGS__, NULL, thecal_sync_call_callback, sync_call_); \
    op##_finish (record, thecal_sync_call_wait (sync_call_), error);                 \
  })

#define FILL_BATCH 1000
#define N_SEARCHES 1000
#define N_APPENDS 300
#define N_OPENS 5

static void
check (gconstpointer value, GError *error, const char *what)
{
  if (value == NULL)
    {
      fprintf (stderr, "bench-record: %s: %s\n", what, error != NULL ? error->message : "?");
      exit (3);
    }
}

static int
compare_i64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return x < y ? -1 : (x > y ? 1 : 0);
}

/* "median 812 µs, p99 1 930 µs, max 2 400 µs" */
static void
print_spread (const char *what, gint64 *us, gsize n, const char *extra)
{
  gint64 sum = 0;

  qsort (us, n, sizeof *us, compare_i64);
  for (gsize i = 0; i < n; i++)
    sum += us[i];
  printf ("| %s | %zu | %" G_GINT64_FORMAT " | %" G_GINT64_FORMAT " | %" G_GINT64_FORMAT " | %" G_GINT64_FORMAT
          " | %s |\n",
          what, n, sum / (gint64) n, us[n / 2], us[(n * 99) / 100], us[n - 1], extra);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      g_unlink (child);
    }
  g_rmdir (path);
}

/* A search text for call @i: the start of a generated name's word, or of a record number. */
static char *
search_text (guint i, guint64 *rng)
{
  g_autofree char *name = NULL;
  char *text;

  *rng = *rng * 6364136223846793005u + 1442695040888963407u;
  name = _thecal_record_fill_name ((gint64) (*rng >> 40) % 100000);
  switch (i % 6)
    {
    case 0: /* the first 2 letters of the family name: many matches */
      text = g_utf8_substring (name, 0, 2);
      break;
    case 1: /* 4 letters */
      text = g_utf8_substring (name, 0, 4);
      break;
    case 2: /* the given name's first 3 letters */
      text = g_utf8_substring (strchr (name, ',') + 2, 0, 3);
      break;
    case 3: /* family name and the start of the given name */
      {
        g_autofree char *given = g_utf8_substring (strchr (name, ',') + 2, 0, 2);

        text = g_strdup_printf ("%.*s %s", (int) (strchr (name, ',') - name), name, given);
      }
      break;
    case 4: /* the starts of two words, not as in the name: read the longest word's keys and filter */
      {
        g_autofree char *given = g_utf8_substring (strchr (name, ',') + 2, 0, 3);
        g_autofree char *family = g_utf8_substring (name, 0, 3);

        text = g_strdup_printf ("%s %s", given, family);
      }
      break;
    default: /* a record-number prefix */
      text = g_strdup_printf ("B0%04u", (guint) ((*rng >> 33) % 10000));
      break;
    }
  return text;
}

int
main (void)
{
  const char *patients_text = g_getenv ("THECAL_BENCH_PATIENTS");
  gint64 n_patients = patients_text != NULL ? g_ascii_strtoll (patients_text, NULL, 10) : 100000;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("thecal-bench-record-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autoptr (ThecalRecord) record = NULL;
  g_autoptr (ThecalUser) admin = NULL;
  g_autoptr (ThecalUser) nurse = NULL;
  g_autoptr (ThecalAuditVerification) verification = NULL;
  gint64 search_us[N_SEARCHES];
  gint64 append_us[N_APPENDS];
  gint64 open_us[N_OPENS];
  guint64 rng = 0x6265e5c8u;
  gint64 started;
  gint64 fill_us;
  gint64 verify_us;
  guint64 found = 0;
  GStatBuf st;

  check (dir, error, "temporary folder");
  if (n_patients < FILL_BATCH)
    n_patients = FILL_BATCH;
  path = g_build_filename (dir, "record.sqlite", NULL);
  record = thecal_record_open_sync (path, THECAL_RECORD_OPEN_CREATE | THECAL_RECORD_OPEN_FAST_HASH, NULL, &error);
  check (record, error, "create");
  admin = SYNC (thecal_record_create_first_administrator, record, &error, "admin", "Ada Admin", "bench password 1");
  check (admin, error, "administrator");
  nurse = SYNC (thecal_record_add_user, record, &error, admin, "nina", "Nina Nurse", THECAL_ROLE_NURSE,
                "bench password 2");
  check (nurse, error, "nurse");

  started = g_get_monotonic_time ();
  for (gint64 first = 0; first < n_patients; first += FILL_BATCH)
    {
      g_autofree gint64 *done = SYNC (_thecal_record_fill_patients, record, &error, nurse, first, FILL_BATCH);

      check (done, error, "fill");
    }
  fill_us = g_get_monotonic_time () - started;

  printf ("Patient record, %" G_GINT64_FORMAT " patients (filled in %" G_GINT64_FORMAT " ms, %" G_GINT64_FORMAT
          " per transaction, each with its audit entry)\n\n",
          n_patients, fill_us / 1000, (gint64) FILL_BATCH);
  printf ("| what | calls | mean µs | median µs | p99 µs | max µs | note |\n|---|---:|---:|---:|---:|---:|---|\n");

  for (guint i = 0; i < N_SEARCHES; i++)
    {
      g_autofree char *text = search_text (i, &rng);
      g_autoptr (GPtrArray) patients = NULL;

      started = g_get_monotonic_time ();
      patients = SYNC (thecal_record_search_patients, record, &error, text, 50);
      search_us[i] = g_get_monotonic_time () - started;
      check (patients, error, "search");
      found += patients->len;
    }
  {
    g_autofree char *note = g_strdup_printf ("name words and record numbers, at most 50 results (%" G_GUINT64_FORMAT
                                             " on average); target ≤ 5 000 µs",
                                             found / N_SEARCHES);

    print_spread ("patient search (round trip through the record's thread)", search_us, N_SEARCHES, note);
  }

  for (guint i = 0; i < N_APPENDS; i++)
    {
      ThecalAuditInput input = { "export", "patient", 1, 1, NULL, "{\"mrn\":\"B0000001\",\"format\":\"json\"}", NULL };
      g_autoptr (ThecalAuditEntry) entry = NULL;

      started = g_get_monotonic_time ();
      entry = SYNC (thecal_record_append_audit, record, &error, nurse, &input);
      append_us[i] = g_get_monotonic_time () - started;
      check (entry, error, "append");
    }
  print_spread ("audit entry appended (one transaction, synchronous = FULL)", append_us, N_APPENDS,
                "an fsync of the -wal per commit");

  started = g_get_monotonic_time ();
  verification = SYNC (thecal_record_verify_audit, record, &error, 0, NULL);
  verify_us = g_get_monotonic_time () - started;
  check (verification, error, "verify");
  if (verification->problem != THECAL_AUDIT_INTACT)
    {
      fprintf (stderr, "bench-record: %s\n", verification->message);
      return 1;
    }
  {
    gint64 per_100k = verify_us * 100000 / verification->n_entries;
    g_autofree char *note = g_strdup_printf ("%" G_GINT64_FORMAT " entries; %" G_GINT64_FORMAT
                                             " ms per 100 000 entries",
                                             verification->n_entries, per_100k / 1000);

    print_spread ("audit chain verified (whole trail)", &verify_us, 1, note);
  }

  g_clear_object (&record);
  g_stat (path, &st);
  for (guint i = 0; i < N_OPENS; i++)
    {
      started = g_get_monotonic_time ();
      record = thecal_record_open_sync (path, THECAL_RECORD_OPEN_FAST_HASH, NULL, &error);
      open_us[i] = g_get_monotonic_time () - started;
      check (record, error, "open");
      g_clear_object (&record);
    }
  {
    g_autofree char *note = g_strdup_printf ("%" G_GINT64_FORMAT " MiB file; PRAGMA quick_check included",
                                             (gint64) st.st_size / (1024 * 1024));

    print_spread ("open the large record", open_us, N_OPENS, note);
  }
  if (g_getenv ("THECAL_BENCH_KEEP") != NULL)
    fprintf (stderr, "bench-record: kept %s\n", path);
  else
    remove_tree (dir);
  return 0;
}
