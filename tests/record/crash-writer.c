/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * crash-writer.c: the child of test-record-crash.c. Opens the record given on the command line,
 * logs in as the physician, and writes in a loop, forever: a programming session (intent), its
 * confirmation, a refill. After each write that the record reports as committed it prints one
 * line on stdout, written with one write () so that a kill never leaves half a line:
 *
 *   begun SESSION_ID
 *   confirmed SESSION_ID PRESCRIPTION_ID
 *   refill REFILL_ID
 *
 * The parent kills it with SIGKILL at a random moment and checks that every line it read is true
 * of the record.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "thecal-dose-json.h"
#include "thecal-record.h"
#include "thecal-sync-call.h"

#define SYNC(op, record, error, ...)                                                 \
  ({                                                                                 \
    g_autoptr (ThecalSyncCall) sync_call_ = thecal_sync_call_new ();                 \
    op##_async (record, ##__VA_ARGS__, NULL, thecal_sync_call_callback, sync_call_); \
    op##_finish (record, thecal_sync_call_wait (sync_call_), error);                 \
  })

static void
report (const char *format, ...) G_GNUC_PRINTF (1, 2);

static void
report (const char *format, ...)
{
  g_autofree char *line = NULL;
  va_list args;

  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  if (write (STDOUT_FILENO, line, strlen (line)) != (ssize_t) strlen (line))
    exit (3);
}

static void
die (const char *what, GError *error)
{
  fprintf (stderr, "crash-writer: %s: %s\n", what, error != NULL ? error->message : "?");
  exit (2);
}

int
main (int argc, char **argv)
{
  static const char rx_json[] = "{\"format\":\"thecal-prescription\",\"version\":1,\"drug\":\"morphine\","
                                "\"concentration\":\"25 mg/mL\",\"mode\":\"continuous\","
                                "\"continuous\":{\"dose\":\"5 mg/day\"}}";
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecord) record = NULL;
  g_autoptr (ThecalUser) physician = NULL;
  ThecalPrescription rx;
  ThecalDoseError dose_error = { 0 };

  if (argc != 2)
    {
      fprintf (stderr, "usage: crash-writer RECORD\n");
      return 2;
    }
  if (!thecal_prescription_load_json (rx_json, sizeof rx_json - 1, &rx, &dose_error))
    return 2;
  record = thecal_record_open_sync (argv[1], THECAL_RECORD_OPEN_FAST_HASH, NULL, &error);
  if (record == NULL)
    die ("open", error);
  physician = SYNC (thecal_record_login, record, &error, "paula", "correct horse battery staple");
  if (physician == NULL)
    die ("login", error);

  for (gint64 round = 0;; round++)
    {
      g_autofree char *change = g_strdup_printf ("%" G_GINT64_FORMAT " mg/day", round % 10);
      ThecalProgrammingChangeInput changes[] = {
        { "continuous.dose", "5 mg/day", change, round % 3 == 0 ? "above the soft limit, discussed with the patient" : NULL },
      };
      ThecalProgrammingInput input = { "SN-1", 0, &rx, "titration", changes, 1 };
      ThecalRefillInput refill_input = {
        .pump_serial = "SN-1",
        .performed_utc_ms = round,
        .expected_nl = 14000000,
        .aspirated_nl = 13000000 + round % 1000,
        .discrepancy_flagged = FALSE,
        .added_nl = 20000000,
        .drug_id = "morphine",
        .concentration_ng_per_ml = 25000000,
        .lot = "LOT-1",
        .expiry_date = "2027-01-31",
        .verified_by = "nina",
      };
      g_autoptr (ThecalProgrammingSession) session = NULL;
      g_autoptr (ThecalProgrammingSession) confirmed = NULL;
      g_autoptr (ThecalRefill) refill = NULL;

      session = SYNC (thecal_record_begin_programming, record, &error, physician, &input);
      if (session == NULL)
        die ("begin", error);
      report ("begun %" G_GINT64_FORMAT "\n", session->id);
      confirmed = SYNC (thecal_record_resolve_programming, record, &error, physician, session->id,
                        THECAL_OUTCOME_CONFIRMED, "read back", round);
      if (confirmed == NULL)
        die ("confirm", error);
      report ("confirmed %" G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n", confirmed->id, confirmed->prescription_id);
      refill = SYNC (thecal_record_add_refill, record, &error, physician, &refill_input);
      if (refill == NULL)
        die ("refill", error);
      report ("refill %" G_GINT64_FORMAT "\n", refill->id);
    }
  return 0;
}
