/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-cli-pump.c: "thecal-cli pump interrogate|program|log" run as a person would run them,
 * against the simulated demo pumps (--sim, loopback, simulated time) and, for --wand, against
 * no wand at all (docs/telemetry.md "thecal-cli pump").
 *
 * Worked numbers, checked by hand:
 *  - TR20-000123 runs morphine 25 mg/mL at 5 mg/day = 0.2 mL/day: its active checksum is the
 *    worked example of docs/protocol.md §4.2, ddf1fb9084f89f845f98fb4f0a1bac2c; it started 30 days
 *    before the demo instant (2026-01-05T09:00) with 12 + 30 × 0.2 = 18 mL and holds 12 mL.
 *  - 6 mg/day at 25 mg/mL is 0.24 mL/day; 30 mL/day is above the TR-20's 24 mL/day.
 */
#include "config.h"

#include <glib/gstdio.h>

#include "thecal-test-cli.h"
#include "thecal-test.h"

#define DEMO_CHECKSUM "ddf1fb9084f89f845f98fb4f0a1bac2c"
#define OVERRIDE "--override-reason", "titration agreed with the pain team"

static char *tmp_dir;

/* A prescription file in the test's temporary folder (the path lives until teardown). */
static const char *
rx_file (const char *name, const char *drug, const char *concentration, const char *dose)
{
  g_autofree char *json = g_strdup_printf ("{ \"format\": \"thecal-prescription\", \"version\": 1, \"drug\": \"%s\", "
                                           "\"concentration\": \"%s\", \"mode\": \"continuous\", \"continuous\": { %s } }",
                                           drug, concentration, dose);
  g_autofree char *path = g_build_filename (tmp_dir, name, NULL);

  ck_assert (g_file_set_contents (path, json, -1, NULL));
  return oneline (path); /* a copy kept alive by oneline's store */
}

/* 6 mg/day of morphine 25 mg/mL (0.24 mL/day): what the program tests write to TR20-000123. */
static const char *
m6_file (void)
{
  return rx_file ("m6.json", "morphine", "25 mg/mL", "\"dose\": \"6 mg/day\"");
}

/* "pump program --sim" of m6_file () for an opioid-tolerant patient with an override reason,
 * over the bad link @faults (NULL: none), with --json when @json. */
static CliResult *
program_m6 (const char *faults, gboolean json)
{
  const char *args[12] = { "pump", "program", "--sim", "--prescription", m6_file (), "--opioid-tolerant", OVERRIDE };
  gsize n = 8;

  if (faults != NULL)
    {
      args[n++] = "--link-faults";
      args[n++] = faults;
    }
  if (json)
    args[n++] = "--json";
  return cli_run_argv (NULL, args);
}

static void
setup (void)
{
  tmp_dir = g_dir_make_tmp ("thecal-cli-pump-XXXXXX", NULL);
  ck_assert_ptr_nonnull (tmp_dir);
}

static void
teardown (void)
{
  g_autoptr (GDir) dir = g_dir_open (tmp_dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (tmp_dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
}

/* ---- interrogate -------------------------------------------------------------------------------- */

START_TEST (test_interrogate_default_demo)
{
  g_autoptr (CliResult) result = cli_run ("pump", "interrogate", "--sim");

  assert_status (result, 0);
  ck_assert_str_eq (result->err, "");
  assert_contains (result->out, "Pump: TR20-000123 (TR-20), protocol 1, through Simulated pump TR20-000123 (loopback)");
  assert_contains (result->out, "Pump clock: 2026-01-05T09:00");
  assert_contains (result->out, "Mode: continuous, delivering");
  assert_contains (result->out, "Reservoir: 12 mL by the pump's estimate (18 mL at the last refill), morphine 25 mg/mL");
  assert_contains (result->out, "Alarms: none");
  assert_contains (result->out, "Active prescription (checksum " DEMO_CHECKSUM "): morphine 25 mg/mL");
  assert_contains (result->out, "Rate: 0.2 mL/day (5 mg/day), all day");
  assert_contains (result->out, "prescription set: continuous, basal 0.2 mL/day");
  /* IDENTIFY, HELLO, AUTH, READ_STATUS, READ_PRESCRIPTION, READ_LOG */
  assert_contains (result->out, "Telemetry: 6 round trips");
}
END_TEST

START_TEST (test_interrogate_json)
{
  g_autoptr (CliResult) result = cli_run ("pump", "interrogate", "--sim", "TR20-000124", "--json");
  g_autoptr (cJSON) root = NULL;

  assert_status (result, 0);
  root = parse_json (result);
  ck_assert_str_eq (json_str (root, "command"), "pump interrogate");
  ck_assert_str_eq (json_str (root, "pump.serial"), "TR20-000124");
  ck_assert (json_bool (root, "pump.simulated"));
  ck_assert_int_eq (json_int (root, "status.reservoir_estimate_nl"), 1800000);
  ck_assert_str_eq (json_str (root, "status.alarms[0].kind"), "low_reservoir");
  ck_assert (json_bool (root, "status.alarms[0].raised"));
  ck_assert_str_eq (json_str (root, "prescription.checksum"), DEMO_CHECKSUM);
  ck_assert_int_eq (json_int (root, "prescription.plan.segments[0].rate_nl_per_day"), 200000);
  ck_assert_str_eq (json_str (root, "log.events[0].type"), "engine_start");
  ck_assert_int_eq (json_int (root, "log.next_seq"), json_int (root, "log.events_read") + 1);
  ck_assert_int_eq (json_int (root, "telemetry.round_trips"), 6);
  ck_assert_int_eq (json_int (root, "exit_code"), 0);
}
END_TEST

START_TEST (test_interrogate_every_demo)
{
  static const struct
  {
    const char *serial;
    const char *line;
  } demos[] = {
    { "TR20-000123", "Alarms: none" },
    { "--sim=TR20-000124", "low_reservoir: raised 2026-01-04T09:00, not acknowledged" },
    { "TR40-000125", "elective replacement (ERI) 2026-01-08T09:00" },
    { "TR20-000126", "simulated fault: flow_bias" },
    { "TR20-000127", "motor_stall (CRITICAL): raised 2026-01-03T09:00, not acknowledged" },
    { "TR40-000128", "baclofen 2 mg/mL" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (demos); i++)
    {
      g_autoptr (CliResult) result = g_str_has_prefix (demos[i].serial, "--")
                                         ? cli_run ("pump", "interrogate", demos[i].serial)
                                         : cli_run ("pump", "interrogate", "--sim", demos[i].serial);

      assert_status (result, 0);
      assert_contains (result->out, demos[i].line);
    }
}
END_TEST

START_TEST (test_interrogate_is_deterministic)
{
  g_autoptr (CliResult) a = cli_run ("pump", "interrogate", "--sim", "TR20-000127", "--json");
  g_autoptr (CliResult) b = cli_run ("pump", "interrogate", "--sim", "TR20-000127", "--json");

  assert_status (a, 0);
  ck_assert_str_eq (a->out, b->out);
}
END_TEST

START_TEST (test_stalled_pump_not_delivering)
{
  g_autoptr (CliResult) result = cli_run ("pump", "interrogate", "--sim", "TR20-000127");

  assert_status (result, 0);
  assert_contains (result->out, "Mode: continuous, NOT DELIVERING");
}
END_TEST

/* ---- log ----------------------------------------------------------------------------------------- */

START_TEST (test_log)
{
  g_autoptr (CliResult) all = cli_run ("pump", "log", "--sim", "TR20-000127");
  g_autoptr (CliResult) from = cli_run ("pump", "log", "--sim", "TR20-000127", "--from", "4", "--json");
  g_autoptr (CliResult) past = cli_run ("pump", "log", "--sim", "--from", "99");
  g_autoptr (cJSON) root = NULL;

  assert_status (all, 0);
  assert_contains (all->out, "Event log from 1: 5 events (the pump holds 1 to 5)");
  assert_contains (all->out, "#1      2025-12-06T09:00  pump started: reservoir 19.6 mL");
  assert_contains (all->out, "#5      2026-01-03T09:00  alarm raised: motor_stall");
  assert_status (from, 0);
  root = parse_json (from);
  ck_assert_int_eq (json_int (root, "log.from_seq"), 4);
  ck_assert_int_eq (json_int (root, "log.events[0].seq"), 4);
  ck_assert_str_eq (json_str (root, "log.events[0].type"), "fault_injected");
  ck_assert_str_eq (json_str (root, "log.events[1].type"), "alarm_raised");
  ck_assert_int_eq (json_int (root, "log.events[1].time_local_ms"), INT64_C (1767603600000) - 2 * INT64_C (86400000));
  assert_status (past, 0);
  assert_contains (past->out, "Event log from 99: 0 events");
}
END_TEST

START_TEST (test_log_bad_options)
{
  g_autoptr (CliResult) zero = cli_run ("pump", "log", "--sim", "--from", "0");
  g_autoptr (CliResult) text = cli_run ("pump", "log", "--sim", "--from", "ten");
  g_autoptr (CliResult) max = cli_run ("pump", "log", "--sim", "--max", "-1");

  assert_failed (zero, 2, "--from “0” is not a sequence number");
  assert_failed (text, 2, "--from “ten”");
  assert_failed (max, 2, "--max -1 is below 0");
}
END_TEST

/* ---- program ------------------------------------------------------------------------------------- */

START_TEST (test_program_confirmed)
{
  g_autoptr (CliResult) result = program_m6 (NULL, FALSE);

  assert_status (result, 0);
  assert_contains (result->out, "Runs now: checksum " DEMO_CHECKSUM);
  assert_contains (result->out, "Verdict: ACCEPTED WITH AN OVERRIDE");
  assert_contains (result->out, "Outcome: CONFIRMED: the pump runs the new prescription");
  /* READ_PRESCRIPTION first (with IDENTIFY, HELLO, AUTH), then STAGE, READ_STAGED, COMMIT, READ_PRESCRIPTION */
  assert_contains (result->out, "Telemetry: 8 round trips");
}
END_TEST

START_TEST (test_program_json)
{
  g_autoptr (CliResult) result = program_m6 (NULL, TRUE);
  g_autoptr (cJSON) root = NULL;

  assert_status (result, 0);
  root = parse_json (result);
  ck_assert_str_eq (json_str (root, "outcome"), "confirmed");
  ck_assert_str_eq (json_str (root, "program.previous_checksum"), DEMO_CHECKSUM);
  ck_assert_str_eq (json_str (root, "program.active_checksum"), json_str (root, "program.target_checksum"));
  ck_assert (json_bool (root, "program.commit_acknowledged"));
  ck_assert_str_eq (json_str (root, "check.verdict"), "overridden");
  ck_assert_int_eq (json_int (root, "check.plan.segments[0].rate_nl_per_day"), 240000);
}
END_TEST

START_TEST (test_program_needs_override_reason)
{
  g_autoptr (CliResult) result = cli_run ("pump", "program", "--sim", "--prescription", m6_file ());

  /* opioid-naive by default: 6 mg/day is above 1 mg/day, and 25 mg/mL above 20 mg/mL (soft) */
  assert_status (result, 1);
  assert_contains (result->out, "Verdict: NOT ACCEPTED");
  assert_contains (result->out, "Nothing was sent to the pump: it still runs checksum " DEMO_CHECKSUM);
  assert_not_contains (result->out, "Writing to the pump");
  assert_contains (result->err, "thecal-cli: pump program: these findings need an override reason");
}
END_TEST

START_TEST (test_program_refused_by_hard_limit)
{
  /* 30 mL/day: outside the TR-20's programmable range, a finding the check refuses outright */
  const char *rx = rx_file ("fast.json", "morphine", "25 mg/mL", "\"rate\": \"30 mL/day\"");
  g_autoptr (CliResult) result = cli_run ("pump", "program", "--sim", "--prescription", rx, "--opioid-tolerant", OVERRIDE);

  assert_status (result, 1);
  assert_contains (result->out, "Verdict: REFUSED");
  assert_contains (result->out, "Nothing was sent to the pump");
}
END_TEST

START_TEST (test_program_refused_by_pump)
{
  /* hydromorphone in a pump filled with morphine: the check lets it through with an override
   * (a drug change); the pump stages it only for a REFILL_COMMIT with that fill and refuses the
   * plain COMMIT (its own limit, drug): FAILED, nothing changed */
  const char *rx = rx_file ("hm.json", "hydromorphone", "2 mg/mL", "\"dose\": \"1 mg/day\"");
  g_autoptr (CliResult) result = cli_run ("pump", "program", "--sim", "--prescription", rx, "--opioid-tolerant", OVERRIDE, "--json");
  g_autoptr (cJSON) root = NULL;

  assert_status (result, 1);
  root = parse_json (result);
  ck_assert_str_eq (json_str (root, "outcome"), "failed");
  ck_assert_str_eq (json_str (root, "program.error_code"), "REFUSED_BY_PUMP_LIMIT");
  ck_assert_str_eq (json_str (root, "program.pump_limit"), "drug");
  ck_assert (json_bool (root, "program.commit_sent")); /* refused by an authenticated ERROR, then read back */
  assert_contains (result->err, "FAILED: the pump still runs the previous prescription");
}
END_TEST

START_TEST (test_program_over_a_lossy_link)
{
  g_autoptr (CliResult) result = program_m6 ("lossy", TRUE);
  g_autoptr (cJSON) root = NULL;

  assert_status (result, 0);
  root = parse_json (result);
  ck_assert_str_eq (json_str (root, "outcome"), "confirmed");
  ck_assert_int_gt (json_int (root, "telemetry.retransmissions"), 0);
}
END_TEST

START_TEST (test_program_uncertain_then_resolved)
{
  g_autoptr (CliResult) result = program_m6 ("commit-answer-lost", FALSE);

  /* the COMMIT was applied, its answers lost: UNCERTAIN; read again: CONFIRMED */
  assert_status (result, 0);
  assert_contains (result->out, "Outcome: UNCERTAIN: COMMIT was sent and no answer came back");
  assert_contains (result->out, "Reading the pump again to settle it");
  assert_contains (result->out, "Outcome: CONFIRMED");
}
END_TEST

START_TEST (test_program_uncertain_stays)
{
  g_autoptr (CliResult) result = program_m6 ("silent-after-commit", TRUE);
  g_autoptr (cJSON) root = NULL;

  assert_status (result, 1);
  root = parse_json (result);
  ck_assert_str_eq (json_str (root, "outcome"), "uncertain");
  ck_assert_str_eq (json_str (root, "resolved.outcome"), "uncertain");
  ck_assert (json_bool (root, "program.commit_sent"));
  assert_contains (result->err, "THE PUMP'S STATE IS UNKNOWN until it is read again");
}
END_TEST

START_TEST (test_program_bad_usage)
{
  g_autoptr (CliResult) no_rx = cli_run ("pump", "program", "--sim");
  g_autoptr (CliResult) short_reason = cli_run ("pump", "program", "--sim", "--prescription", "x.json", "--override-reason", "ok");
  g_autoptr (CliResult) missing = cli_run ("pump", "program", "--sim", "--prescription", "/nonexistent/rx.json");

  assert_failed (no_rx, 2, "--prescription is required");
  assert_failed (short_reason, 2, "--override-reason");
  assert_failed (missing, 3, "/nonexistent/rx.json");
}
END_TEST

/* ---- choosing the pump ----------------------------------------------------------------------------- */

START_TEST (test_link_choice)
{
  g_autoptr (CliResult) neither = cli_run ("pump", "interrogate");
  g_autoptr (CliResult) both = cli_run ("pump", "interrogate", "--sim", "--wand");
  g_autoptr (CliResult) unknown = cli_run ("pump", "interrogate", "--sim", "TR20-999999");
  g_autoptr (CliResult) faults_on_wand = cli_run ("pump", "interrogate", "--wand", "--link-faults", "lossy");
  g_autoptr (CliResult) bad_faults = cli_run ("pump", "interrogate", "--sim", "--link-faults", "terrible");
  g_autoptr (CliResult) extra = cli_run ("pump", "interrogate", "--sim", "TR20-000123", "TR20-000124");
  g_autoptr (CliResult) bad_wand = cli_run ("pump", "interrogate", "--wand=12:34");

  assert_failed (neither, 2, "give either --sim");
  assert_failed (both, 2, "give either --sim");
  assert_failed (unknown, 2, "no demo pump “TR20-999999” (the demo pumps: TR20-000123");
  assert_failed (faults_on_wand, 2, "--link-faults needs --sim");
  assert_failed (bad_faults, 2, "“terrible”");
  assert_failed (extra, 2, "unexpected argument “TR20-000124”");
  assert_failed (bad_wand, 2, "“12:34” is not VID:PID");
}
END_TEST

START_TEST (test_wand_absent)
{
  /* no wand on this machine (and the build may have no USB support): I/O, exit 3 */
  g_autoptr (CliResult) result = cli_run ("pump", "interrogate", "--wand");

  assert_failed (result, 3, "pump interrogate: ");
  ck_assert_msg (strstr (result->err, "wand") != NULL || strstr (result->err, "Wand") != NULL, "%s", oneline (result->err));
}
END_TEST

START_TEST (test_key_file)
{
  g_autofree char *good = g_build_filename (tmp_dir, "key.hex", NULL);
  g_autofree char *bad = g_build_filename (tmp_dir, "bad.hex", NULL);
  g_autoptr (CliResult) wrong = NULL;
  g_autoptr (CliResult) malformed = NULL;

  /* a key that is not the demo pump's: the handshake fails with WRONG_KEY (bad input, exit 2) */
  ck_assert (g_file_set_contents (good, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", -1, NULL));
  ck_assert (g_file_set_contents (bad, "0011", -1, NULL));
  wrong = cli_run ("pump", "interrogate", "--sim", "--key-file", good);
  malformed = cli_run ("pump", "interrogate", "--sim", "--key-file", bad);
  assert_failed (wrong, 2, "WRONG_KEY");
  assert_failed (malformed, 2, "64 hexadecimal digits");
}
END_TEST

START_TEST (test_help)
{
  g_autoptr (CliResult) pump = cli_run ("pump", "--help");
  g_autoptr (CliResult) interrogate = cli_run ("pump", "interrogate", "--help");
  g_autoptr (CliResult) program = cli_run ("pump", "program", "--help");
  g_autoptr (CliResult) none = cli_run ("pump");
  g_autoptr (CliResult) unknown = cli_run ("pump", "reboot");
  g_autoptr (CliResult) top = cli_run ("--help");

  assert_status (pump, 0);
  assert_contains (pump->out, "interrogate  status, active prescription and event log (--sim [SERIAL] | --wand [VID:PID])");
  assert_contains (pump->out, "The pumps of the patient record:");
  assert_contains (pump->out, "TR20-000127 motor stall");
  assert_status (interrogate, 0);
  assert_contains (interrogate->out, "--sim=SERIAL");
  assert_contains (interrogate->out, "--link-faults");
  assert_status (program, 0);
  assert_contains (program->out, "UNCERTAIN");
  assert_failed (none, 2, "give a subcommand first: interrogate, program, log");
  assert_failed (unknown, 2, "unknown subcommand “reboot”");
  assert_contains (top->out, "pump ");
}
END_TEST

static Suite *
cli_pump_suite (void)
{
  Suite *suite = suite_create ("cli-pump");

  THECAL_TEST_TCASE (suite, "interrogate", setup, teardown, 0,
                     test_interrogate_default_demo,
                     test_interrogate_json,
                     test_interrogate_every_demo,
                     test_interrogate_is_deterministic,
                     test_stalled_pump_not_delivering);
  THECAL_TEST_TCASE (suite, "log", setup, teardown, 0,
                     test_log,
                     test_log_bad_options);
  THECAL_TEST_TCASE (suite, "program", setup, teardown, 0,
                     test_program_confirmed,
                     test_program_json,
                     test_program_needs_override_reason,
                     test_program_refused_by_hard_limit,
                     test_program_refused_by_pump,
                     test_program_over_a_lossy_link,
                     test_program_uncertain_then_resolved,
                     test_program_uncertain_stays,
                     test_program_bad_usage);
  THECAL_TEST_TCASE (suite, "links", setup, teardown, 0,
                     test_link_choice,
                     test_wand_absent,
                     test_key_file,
                     test_help);
  return suite;
}

THECAL_TEST_MAIN (cli_pump_suite)
