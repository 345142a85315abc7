/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-cli-engine.c: "thecal-cli simulate" and "thecal-cli accuracy" run as a person would run
 * them: the built binary, its stdout, stderr and exit code (docs/engine.md "thecal-cli").
 *
 * Worked numbers, checked by hand:
 *  - morphine-25.json: 25 mg/mL at 5 mg/day = 0.2 mL/day; a 20 mL fill reaches the low-reservoir
 *    volume (2 mL) after 90 days (2027-01-30T00:00 from 2026-11-01T00:00) and empty (1 mL) after
 *    95 days (2027-02-04T00:00).
 *  - With +20 % over-infusion each 250 nL stroke moves 300 nL: 19 mL above empty last 63 334
 *    strokes, 79.2 days: empty on 2027-01-19, before the computed low-reservoir date.
 *  - Trumpet at 0.2 mL/day: a 1 h window holds 33 or 34 strokes against 8 333 or 8 334 nL:
 *    +2 % at most, −1.01 % at least; +20 % bias: mean error exactly +20 %.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <locale.h>

#include "thecal-test-cli.h"
#include "thecal-test.h"

/* ---- simulate --------------------------------------------------------------------------------- */

START_TEST (test_simulate_table)
{
  g_autoptr (CliResult) result = cli_run ("simulate", "--prescription", data_file ("morphine-25.json"), "--fill", "20 mL",
                                          "--days", "5");
  g_autofree char *day1 = NULL;

  assert_status (result, 0);
  ck_assert_str_eq (result->err, "");
  assert_contains (result->out, "TR-20");
  day1 = line_starting (result->out, "1     2026-11-01T00:00");
  assert_contains (day1, " 0.2 mL ");
  assert_contains (day1, " 5 mg ");
  assert_contains (day1, " 19.8 mL ");
  assert_contains (result->out, "Summary: 1 mL (25 mg morphine) reached the catheter tip");
  /* the projection beside the dose core's: 90 days to the low-reservoir alarm, 95 to empty */
  assert_contains (result->out, "Low-reservoir alarm, engine:     2027-01-30T00:00");
  assert_contains (result->out, "Low-reservoir alarm, dose core:  2027-01-30T00:00");
  assert_contains (result->out, "Empty, engine:                   2027-02-04T00:00");
}
END_TEST

START_TEST (test_simulate_json)
{
  g_autoptr (CliResult) result = cli_run ("simulate", "--prescription", data_file ("morphine-25.json"), "--fill", "20 mL",
                                          "--days", "100", "--format", "json");
  g_autoptr (cJSON) root = NULL;

  assert_status (result, 0);
  root = parse_json (result);
  ck_assert_str_eq (json_str (root, "command"), "simulate");
  ck_assert_int_eq (json_int (root, "series[0].delivered_nl"), 200000);
  ck_assert_int_eq (json_int (root, "series[0].delivered_dose_ng"), 5000000);
  ck_assert_int_eq (json_int (root, "series[89].reservoir_estimate_nl"), 2000000);
  ck_assert_str_eq (json_str (root, "series[89].alarms_raised[0]"), "low_reservoir");
  ck_assert_str_eq (json_str (root, "series[94].alarms_raised[0]"), "reservoir_empty");
  ck_assert_int_eq (json_int (root, "series[99].delivered_nl"), 0);
  ck_assert_int_eq (json_int (root, "summary.delivered_nl"), 19000000);
  /* fault-free, no bolus, a threshold a whole number of strokes below the fill: the same ms */
  ck_assert_int_eq (json_int (root, "projection.engine.low_alarm_local_ms"),
                    json_int (root, "projection.dose_core.low_alarm_local_ms"));
  ck_assert_int_eq (json_int (root, "projection.engine.empty_local_ms"),
                    json_int (root, "projection.dose_core.empty_local_ms"));
  ck_assert_int_eq (json_int (root, "summary.first_alarm.low_reservoir_local_ms"),
                    json_int (root, "projection.dose_core.low_alarm_local_ms"));
  ck_assert_str_eq (json_str (root, "events[0].type"), "engine_start");
  ck_assert_int_eq (json_int (root, "events[0].seq"), 1);
  ck_assert_int_eq (json_int (root, "exit_code"), 0);
}
END_TEST

START_TEST (test_simulate_csv_and_hours)
{
  g_autoptr (CliResult) result = cli_run ("simulate", "--prescription", data_file ("morphine-25.json"), "--fill", "20 mL",
                                          "--hours", "24", "--format", "csv");
  g_auto (GStrv) lines = NULL;

  assert_status (result, 0);
  lines = g_strsplit (result->out, "\n", -1);
  ck_assert (g_str_has_prefix (lines[0], "period,start,end,delivered_nl,delivered_ng"));
  ck_assert_uint_eq (g_strv_length (lines), 1 + 24 + 1); /* header, 24 hours, the empty tail */
  /* 800 strokes a day: 33 in the first hour (floor (800 / 24)) */
  ck_assert (g_str_has_prefix (lines[1], "1,2026-11-01T00:00,2026-11-01T01:00,8250,206250,8250,0,0,"));
  ck_assert (g_str_has_prefix (lines[2], "2,2026-11-01T01:00,2026-11-01T02:00,8250,")); /* 66 − 33 */
  ck_assert (g_str_has_prefix (lines[3], "3,2026-11-01T02:00,2026-11-01T03:00,8500,")); /* 100 − 66 */
}
END_TEST

START_TEST (test_simulate_ptm_presses)
{
  g_autoptr (CliResult) result = cli_run ("simulate", "--prescription", data_file ("flex-ptm.json"), "--fill", "20 mL",
                                          "--days", "3", "--ptm-presses", "08:00,09:00,13:00", "--json");
  g_autoptr (cJSON) root = NULL;

  assert_status (result, 0);
  root = parse_json (result);
  /* a 4 h lockout: 08:00 granted, 09:00 refused, 13:00 granted, every day */
  for (int day = 0; day < 3; day++)
    {
      g_autofree char *granted = g_strdup_printf ("series[%d].ptm_granted", day);
      g_autofree char *refused = g_strdup_printf ("series[%d].ptm_refused", day);

      ck_assert_int_eq (json_int (root, granted), 2);
      ck_assert_int_eq (json_int (root, refused), 1);
    }
  ck_assert_int_eq (json_int (root, "summary.ptm_granted"), 6);
  ck_assert_int_eq (json_int (root, "summary.ptm_refused"), 3);
}
END_TEST

START_TEST (test_simulate_overinfusion)
{
  g_autoptr (CliResult) result = cli_run ("simulate", "--prescription", data_file ("morphine-25.json"), "--fill", "20 mL",
                                          "--days", "100", "--fault", "bias=+20%", "--json");
  g_autoptr (cJSON) root = NULL;
  gint64 empty, low_computed;

  assert_status (result, 0);
  root = parse_json (result);
  empty = json_int (root, "summary.first_alarm.reservoir_empty_local_ms");
  low_computed = json_int (root, "projection.dose_core.low_alarm_local_ms");
  /* 2026-11-01T00:00 + 63 334 × 108 000 ms */
  ck_assert_int_eq (empty, G_GINT64_CONSTANT (1793491200000) + G_GINT64_CONSTANT (63334) * 108000);
  ck_assert_int_lt (empty, low_computed);
  ck_assert (cJSON_IsNull (json_at (root, "summary.first_alarm.low_reservoir_local_ms")));
}
END_TEST

START_TEST (test_simulate_stall_and_events)
{
  g_autoptr (CliResult) result = cli_run ("simulate", "--prescription", data_file ("morphine-25.json"), "--fill", "20 mL",
                                          "--days", "4", "--fault", "stall@2 days/12 h");
  g_autofree char *day3 = NULL;

  assert_status (result, 0);
  assert_contains (result->out, "ALARM raised: motor stall, critical");
  assert_contains (result->out, "motor restarted by itself");
  assert_contains (result->out, "motor stall alarm first raised: 2026-11-03T00:00");
  /* the stall took half of day 3 */
  day3 = line_starting (result->out, "3     2026-11-03T00:00");
  assert_contains (day3, " 0.1 mL ");
  assert_contains (day3, " 2.5 mg ");
}
END_TEST

START_TEST (test_simulate_same_seed_same_output)
{
  g_autoptr (CliResult) a = cli_run ("simulate", "--prescription", data_file ("flex-ptm.json"), "--fill", "20 mL", "--days",
                                     "20", "--fault", "noise=100 nL", "--seed", "42", "--ptm-presses", "worst", "--json");
  g_autoptr (CliResult) b = cli_run ("simulate", "--prescription", data_file ("flex-ptm.json"), "--fill", "20 mL", "--days",
                                     "20", "--fault", "noise=100 nL", "--seed", "42", "--ptm-presses", "worst", "--json");
  g_autoptr (CliResult) c = cli_run ("simulate", "--prescription", data_file ("flex-ptm.json"), "--fill", "20 mL", "--days",
                                     "20", "--fault", "noise=100 nL", "--seed", "43", "--ptm-presses", "worst", "--json");

  assert_status (a, 0);
  ck_assert_str_eq (a->out, b->out);
  ck_assert_str_ne (a->out, c->out);
  /* every format, the hour-by-hour series too */
  for (int f = 0; f < 3; f++)
    {
      const char *format = f == 0 ? "table" : f == 1 ? "csv"
                                                     : "json";
      const char *period = f == 1 ? "--hours" : "--days";
      const char *n = f == 1 ? "72" : "5";
      g_autoptr (CliResult) x = cli_run ("simulate", "--prescription", data_file ("flex-ptm.json"), "--fill", "20 mL", period, n,
                                         "--fault", "noise=100 nL", "--fault", "bias=+5%", "--seed", "7", "--ptm-presses",
                                         "worst", "--format", format);
      g_autoptr (CliResult) y = cli_run ("simulate", "--prescription", data_file ("flex-ptm.json"), "--fill", "20 mL", period, n,
                                         "--fault", "noise=100 nL", "--fault", "bias=+5%", "--seed", "7", "--ptm-presses",
                                         "worst", "--format", format);
      g_autoptr (CliResult) z = cli_run ("simulate", "--prescription", data_file ("flex-ptm.json"), "--fill", "20 mL", period, n,
                                         "--fault", "noise=100 nL", "--fault", "bias=+5%", "--seed", "8", "--ptm-presses",
                                         "worst", "--format", format);

      assert_status (x, 0);
      ck_assert_msg (g_strcmp0 (x->out, y->out) == 0, "--format %s: the same seed gave different output", format);
      ck_assert_msg (g_strcmp0 (x->out, z->out) != 0, "--format %s: another seed gave the same output", format);
    }
}
END_TEST

START_TEST (test_simulate_csv_events)
{
  const char *rx = data_file ("flex-ptm.json");
  /* flex-ptm.json: a 4 h lockout, so the 09:00 press is refused every day; the stall starts at
   * 2026-11-03T00:00, the end of period 2 (an event at a period's end belongs to it) */
  g_autoptr (CliResult) notable = cli_run ("simulate", "--prescription", rx, "--fill", "20 mL", "--days", "3", "--format", "csv",
                                           "--ptm-presses", "08:00,09:00,13:00", "--fault", "stall@2 days/12 h");
  g_autoptr (CliResult) all = cli_run ("simulate", "--prescription", rx, "--fill", "20 mL", "--days", "1", "--format", "csv",
                                       "--ptm-presses", "08:00,09:00,13:00", "--events", "all");
  g_autoptr (CliResult) none = cli_run ("simulate", "--prescription", rx, "--fill", "20 mL", "--days", "1", "--format", "csv",
                                        "--ptm-presses", "08:00,09:00,13:00", "--events", "none");
  g_auto (GStrv) lines = NULL;

  assert_status (notable, 0);
  lines = g_strsplit (notable->out, "\n", -1);
  ck_assert_uint_eq (g_strv_length (lines), 1 + 3 + 1);
  ck_assert (g_str_has_suffix (lines[0], ",alarms_raised,alarms_active,events"));
  ck_assert (g_str_has_suffix (lines[1], ",,,ptm_refused:lockout"));
  ck_assert (g_str_has_suffix (lines[2], ",motor_stall,motor_stall,ptm_refused:lockout;alarm_raised:motor_stall"));
  /* stalled at 08:00 and 09:00, restarted at 12:00, granted at 13:00 (not a notable entry) */
  ck_assert (g_str_has_suffix (lines[3], ",motor_stall,ptm_refused:not_delivering;ptm_refused:not_delivering;motor_restarted"));
  assert_status (all, 0);
  assert_contains (all->out, ",,,ptm_granted;bolus_start:ptm;bolus_end:ptm;ptm_refused:lockout;ptm_granted;"
                             "bolus_start:ptm;bolus_end:ptm\n");
  assert_status (none, 0);
  g_strfreev (lines);
  lines = g_strsplit (none->out, "\n", -1);
  ck_assert (g_str_has_suffix (lines[1], ",,,"));
}
END_TEST

START_TEST (test_simulate_json_event_range)
{
  g_autoptr (CliResult) result = cli_run ("simulate", "--prescription", data_file ("morphine-25.json"), "--fill", "20 mL",
                                          "--days", "4", "--fault", "stall@2 days/12 h", "--json");
  g_autoptr (cJSON) root = NULL;
  gint64 first, next;

  assert_status (result, 0);
  root = parse_json (result);
  /* the start wrote 4 entries (start, reservoir, prescription, fault): the run starts at 5 */
  ck_assert_int_eq (json_int (root, "series[0].first_event_seq"), 5);
  ck_assert_int_eq (json_int (root, "series[0].next_event_seq"), 5);
  first = json_int (root, "series[1].first_event_seq");
  next = json_int (root, "series[1].next_event_seq");
  ck_assert_int_eq (next - first, 1);
  /* events[] is in sequence order from 1: the entry of period 2 is the stall alarm */
  ck_assert_int_eq (json_int (root, "events[4].seq"), first);
  ck_assert_str_eq (json_str (root, "events[4].type"), "alarm_raised");
  ck_assert_str_eq (json_str (root, "events[4].text"), "ALARM raised: motor stall, critical (pump estimate 19.6 mL, "
                                                       "actual 19.6 mL, battery 99.91 %)");
  ck_assert_int_eq (json_int (root, "series[2].first_event_seq"), next);
}
END_TEST

START_TEST (test_simulate_log_text)
{
  g_autoptr (CliResult) result = cli_run ("simulate", "--prescription", data_file ("flex-ptm.json"), "--fill", "20 mL",
                                          "--days", "1", "--ptm-presses", "08:00,09:00", "--events", "all", "--fault",
                                          "bias=-10%", "--fault", "drift=+100 ppm", "--fault", "battery-drain=200%");

  assert_status (result, 0);
  /* what a person reads: labels, not the engine's identifiers (those are in the JSON and CSV) */
  assert_contains (result->out, "fault set (simulation, not a pump entry): flow bias -10 %");
  assert_contains (result->out, "fault set (simulation, not a pump entry): clock drift +100 ppm");
  assert_contains (result->out, "fault set (simulation, not a pump entry): battery drain 200 % of nominal");
  assert_contains (result->out, "PTM bolus started: 0.02 mL over 10 min");
  assert_contains (result->out, "PTM refused: inside the lockout (allowed again in ");
  assert_contains (result->out, "for 1 day; PTM presses: 08:00,09:00; seed 0");
  assert_not_contains (result->out, "ptm bolus");
  assert_not_contains (result->out, "flow_bias");
}
END_TEST

START_TEST (test_simulate_drug_from_library)
{
  g_autofree char *path = cli_temp_file ("hydromorphone.json",
                                         "{ \"format\": \"thecal-prescription\", \"version\": 1, \"drug\": \"hydromorphone\", "
                                         "\"concentration\": \"10 mg/mL\", \"mode\": \"continuous\", "
                                         "\"continuous\": { \"dose\": \"2 mg/day\" } }",
                                         -1);
  g_autoptr (CliResult) result = NULL;
  g_autoptr (CliResult) missing = NULL;
  g_autoptr (cJSON) root = NULL;

  result = cli_run ("simulate", "--prescription", path, "--fill", "20 mL", "--days", "1", "--json");
  missing = cli_run ("accuracy", "--prescription", path, "--library", "/nonexistent/library.json");
  assert_status (result, 0);
  root = parse_json (result);
  /* the drug library's display name (tall-man), the id beside it */
  ck_assert_str_eq (json_str (root, "drug"), "HYDROmorphone");
  ck_assert_str_eq (json_str (root, "drug_id"), "hydromorphone");
  assert_failed (missing, 3, "/nonexistent/library.json");
  cli_temp_file_remove (path);
}
END_TEST

START_TEST (test_simulate_refused_prescription)
{
  g_autofree char *path = cli_temp_file ("fast.json",
                                         "{ \"format\": \"thecal-prescription\", \"version\": 1, \"drug\": \"morphine\", "
                                         "\"concentration\": \"25 mg/mL\", \"mode\": \"continuous\", "
                                         "\"continuous\": { \"rate\": \"30 mL/day\" } }",
                                         -1);
  g_autoptr (CliResult) result = NULL;

  result = cli_run ("simulate", "--prescription", path, "--fill", "20 mL", "--days", "1");
  assert_status (result, 1);
  assert_contains (result->out, "REFUSED");
  assert_contains (result->err, "programmable range");
  cli_temp_file_remove (path);
}
END_TEST

START_TEST (test_simulate_usage_errors)
{
  const char *rx = data_file ("morphine-25.json");
  g_autoptr (CliResult) a = cli_run ("simulate", "--prescription", rx, "--days", "5");
  g_autoptr (CliResult) b = cli_run ("simulate", "--prescription", rx, "--fill", "20 mL", "--days", "5", "--hours", "3");
  g_autoptr (CliResult) c = cli_run ("simulate", "--prescription", rx, "--fill", "20 mL", "--days", "5", "--fault", "gremlin=1");
  g_autoptr (CliResult) d = cli_run ("simulate", "--prescription", rx, "--fill", "20 mL", "--days", "5", "--format", "xml");
  g_autoptr (CliResult) e = cli_run ("simulate", "--prescription", "/nonexistent/rx.json", "--fill", "20 mL", "--days", "5");
  g_autoptr (CliResult) f = cli_run ("simulate", "--prescription", rx, "--fill", "20 mL", "--days", "5", "--ptm-presses",
                                     "12:00,08:00");
  g_autoptr (CliResult) g = cli_run ("simulate", "--prescription", rx, "--fill", "21 mL", "--days", "5");
  g_autoptr (CliResult) h = cli_run ("simulate", "--prescription", rx, "--fill", "20 mL", "--days", "5", "--fault",
                                     "bias=+300%");
  g_autoptr (CliResult) i = cli_run ("simulate", "--prescription", rx, "--fill", "20 mL", "--days", "5", "--fault",
                                     "stall@yesterday");

  assert_failed (a, 2, "--fill");
  assert_failed (b, 2, "--days");
  assert_failed (c, 2, "unknown fault");
  assert_failed (d, 2, "--format");
  assert_failed (e, 3, "/nonexistent/rx.json");
  assert_failed (f, 2, "ptm-presses");
  assert_failed (g, 2, "20 mL");
  assert_failed (h, 2, "bias");
  assert_failed (i, 2, "--fault");
}
END_TEST

START_TEST (test_help_lists_the_commands)
{
  g_autoptr (CliResult) top = cli_run ("--help");
  g_autoptr (CliResult) simulate = cli_run ("simulate", "--help");
  g_autoptr (CliResult) accuracy = cli_run ("accuracy", "--help");

  assert_status (top, 0);
  assert_contains (top->out, "simulate");
  assert_contains (top->out, "accuracy");
  assert_status (simulate, 0);
  assert_contains (simulate->out, "--ptm-presses");
  assert_contains (simulate->out, "--fault");
  assert_contains (simulate->out, "--format");
  assert_status (accuracy, 0);
  assert_contains (accuracy->out, "trumpet");
  assert_contains (accuracy->out, "--plot");
  /* the options every command spells the same (thecal-cli-common.h) */
  for (int i = 0; i < 2; i++)
    {
      const char *help = i == 0 ? simulate->out : accuracy->out;

      assert_contains (help, "Usage:\n  thecal-cli ");
      assert_contains (help, "--prescription=FILE");
      assert_contains (help, "--seed=S");
      assert_contains (help, "-p, --pump=MODEL");
      assert_contains (help, "--models=FILE");
      assert_contains (help, "--library=FILE");
      assert_contains (help, "--json");
      assert_contains (help, "Exit status:");
    }
}
END_TEST

/* ---- accuracy --------------------------------------------------------------------------------- */

START_TEST (test_accuracy_fault_free)
{
  g_autoptr (CliResult) result = cli_run ("accuracy", "--prescription", data_file ("morphine-25.json"), "--json");
  g_autoptr (cJSON) root = NULL;

  assert_status (result, 0);
  root = parse_json (result);
  ck_assert_int_eq (json_int (root, "mean_error_bp"), 0);
  ck_assert_int_eq (json_int (root, "programmed_nl"), 400000);
  ck_assert_int_eq (json_int (root, "windows[0].window_ms"), 3600000);
  ck_assert_int_eq (json_int (root, "windows[0].max_bp"), 200);
  ck_assert_int_eq (json_int (root, "windows[0].min_bp"), -101);
  ck_assert_int_eq (json_int (root, "windows[5].max_bp"), 0);
  ck_assert (cJSON_IsTrue (json_at (root, "within_specification")));
  ck_assert_int_eq (cJSON_GetArraySize (json_at (root, "samples")), 96 + 192);
}
END_TEST

START_TEST (test_accuracy_known_bias)
{
  g_autoptr (CliResult) result = cli_run ("accuracy", "--prescription", data_file ("morphine-25.json"), "--fault",
                                          "bias=+20%");

  assert_status (result, 0);
  assert_contains (result->out, "mean error A +20 %");
  assert_contains (result->out, "1 day         +20 %      +20 %");
  assert_contains (result->out, "OUTSIDE the TR-20 specification of ±14.5 %");
}
END_TEST

START_TEST (test_accuracy_under_infusion)
{
  /* −10 %: each 250 nL stroke moves 225 nL; over T2 1 600 strokes, 360 000 nL against 400 000 */
  g_autoptr (CliResult) result = cli_run ("accuracy", "--prescription", data_file ("morphine-25.json"), "--fault",
                                          "under-infusion=10%", "--json");
  g_autoptr (cJSON) root = NULL;

  assert_status (result, 0);
  root = parse_json (result);
  ck_assert_int_eq (json_int (root, "mean_error_bp"), -1000);
  ck_assert_int_eq (json_int (root, "delivered_nl"), 360000);
  /* from 6 h on every window shows the bias exactly; narrower ones bracket it */
  for (int w = 0; w < 6; w++)
    {
      g_autofree char *max = g_strdup_printf ("windows[%d].max_bp", w);
      g_autofree char *min = g_strdup_printf ("windows[%d].min_bp", w);

      ck_assert_int_ge (json_int (root, max), -1000);
      ck_assert_int_le (json_int (root, min), -1000);
      if (w >= 3)
        ck_assert_int_eq (json_int (root, max) - json_int (root, min), 0);
    }
  ck_assert (cJSON_IsTrue (json_at (root, "within_specification"))); /* −10 % is inside ±14.5 % */
}
END_TEST

START_TEST (test_accuracy_same_seed_same_output)
{
  g_autofree char *dir = g_dir_make_tmp ("thecal-cli-engine-XXXXXX", NULL);
  const char *rx = data_file ("flex-ptm.json");

  for (int f = 0; f < 2; f++)
    {
      const char *ext = f == 0 ? "svg" : "png";
      g_autofree char *p1 = g_strdup_printf ("%s/a.%s", dir, ext);
      g_autofree char *p2 = g_strdup_printf ("%s/b.%s", dir, ext);
      g_autofree char *p3 = g_strdup_printf ("%s/c.%s", dir, ext);
      g_autofree char *b1 = NULL, *b2 = NULL, *b3 = NULL;
      gsize n1 = 0, n2 = 0, n3 = 0;
      g_autoptr (CliResult) a = cli_run ("accuracy", "--prescription", rx, "--fault", "noise=60 nL", "--seed", "5", "--plot", p1);
      g_autoptr (CliResult) b = cli_run ("accuracy", "--prescription", rx, "--fault", "noise=60 nL", "--seed", "5", "--plot", p2);
      g_autoptr (CliResult) c = cli_run ("accuracy", "--prescription", rx, "--fault", "noise=60 nL", "--seed", "6", "--plot", p3);

      assert_status (a, 0);
      assert_status (b, 0);
      assert_status (c, 0);
      assert_contains (a->out, "; seed 5\n");
      ck_assert (g_file_get_contents (p1, &b1, &n1, NULL));
      ck_assert (g_file_get_contents (p2, &b2, &n2, NULL));
      ck_assert (g_file_get_contents (p3, &b3, &n3, NULL));
      /* the text differs only in the plot's file name; the plots are the same bytes */
      ck_assert_uint_eq (n1, n2);
      ck_assert_msg (memcmp (b1, b2, n1) == 0, "two %s plots of the same seed differ", ext);
      ck_assert_msg (n1 != n3 || memcmp (b1, b3, n1) != 0, "the %s plot of another seed is the same", ext);
      g_unlink (p1);
      g_unlink (p2);
      g_unlink (p3);
    }
  {
    g_autoptr (CliResult) a = cli_run ("accuracy", "--prescription", rx, "--fault", "noise=60 nL", "--seed", "5", "--json");
    g_autoptr (CliResult) b = cli_run ("accuracy", "--prescription", rx, "--fault", "noise=60 nL", "--seed", "5", "--json");
    g_autoptr (CliResult) c = cli_run ("accuracy", "--prescription", rx, "--fault", "noise=60 nL", "--seed", "6", "--json");

    ck_assert_str_eq (a->out, b->out);
    ck_assert_str_ne (a->out, c->out);
  }
  g_rmdir (dir);
}
END_TEST

/* Numbers never follow the locale: under de_DE (which writes 0,2) every format and the plot are
 * the same bytes as under C (no translation is installed, so the words are the same too). */
START_TEST (test_locale_independent)
{
  const char *de[] = { "LC_ALL=de_DE.UTF-8", NULL };
  const char *rx = data_file ("flex-ptm.json");
  g_autofree char *dir = g_dir_make_tmp ("thecal-cli-engine-XXXXXX", NULL);
  g_autofree char *c_svg = g_build_filename (dir, "c.svg", NULL);
  g_autofree char *de_svg = g_build_filename (dir, "de.svg", NULL);
  g_autofree char *c_bytes = NULL, *de_bytes = NULL;

  ck_assert_msg (setlocale (LC_ALL, "de_DE.UTF-8") != NULL,
                 "the de_DE.UTF-8 locale is missing: run localedef -i de_DE -f UTF-8 de_DE.UTF-8");
  setlocale (LC_ALL, "C");
  for (int f = 0; f < 3; f++)
    {
      const char *format = f == 0 ? "table" : f == 1 ? "csv"
                                                     : "json";
      g_autoptr (CliResult) c = cli_run ("simulate", "--prescription", rx, "--fill", "19.5 mL", "--days", "3", "--ptm-presses",
                                         "08:00,09:00", "--fault", "bias=+2.5%", "--format", format);
      g_autoptr (CliResult) d = cli_run_env (de, "simulate", "--prescription", rx, "--fill", "19.5 mL", "--days", "3",
                                             "--ptm-presses", "08:00,09:00", "--fault", "bias=+2.5%", "--format", format);

      assert_status (d, 0);
      ck_assert_str_eq (d->out, c->out);
    }
  {
    g_autoptr (CliResult) c = cli_run ("accuracy", "--prescription", rx, "--fault", "bias=+2.5%", "--plot", c_svg);
    g_autoptr (CliResult) d = cli_run_env (de, "accuracy", "--prescription", rx, "--fault", "bias=+2.5%", "--plot", de_svg);

    assert_status (d, 0);
    /* +2.5 % and the stroke quantisation: 4 134 strokes made against 4 133.3 programmed over T2 */
    assert_contains (d->out, "mean error A +2.52 %");
    assert_not_contains (d->out, "2,52");
    ck_assert (g_file_get_contents (c_svg, &c_bytes, NULL, NULL));
    ck_assert (g_file_get_contents (de_svg, &de_bytes, NULL, NULL));
    ck_assert_str_eq (de_bytes, c_bytes);
  }
  g_unlink (c_svg);
  g_unlink (de_svg);
  g_rmdir (dir);
}
END_TEST

START_TEST (test_accuracy_plot)
{
  g_autofree char *dir = g_dir_make_tmp ("thecal-cli-engine-XXXXXX", NULL);
  g_autofree char *svg = g_build_filename (dir, "trumpet.svg", NULL);
  g_autofree char *png = g_build_filename (dir, "trumpet.png", NULL);
  g_autofree char *svg_text = NULL;
  g_autofree char *png_bytes = NULL;
  gsize length = 0;
  g_autoptr (CliResult) a = cli_run ("accuracy", "--prescription", data_file ("flex-ptm.json"), "--plot", svg);
  g_autoptr (CliResult) b = cli_run ("accuracy", "--prescription", data_file ("flex-ptm.json"), "--plot", png);
  g_autoptr (CliResult) c = cli_run ("accuracy", "--prescription", data_file ("flex-ptm.json"), "--plot", "trumpet.pdf");
  g_autoptr (CliResult) d = cli_run ("accuracy", "--prescription", data_file ("flex-ptm.json"), "--plot",
                                     "/nonexistent/dir/trumpet.png");

  assert_status (a, 0);
  assert_status (b, 0);
  ck_assert (g_file_get_contents (svg, &svg_text, &length, NULL));
  ck_assert (strstr (svg_text, "<svg") != NULL);
  ck_assert (g_file_get_contents (png, &png_bytes, &length, NULL));
  ck_assert_uint_gt (length, 8);
  ck_assert_int_eq (memcmp (png_bytes, "\x89PNG\r\n\x1a\n", 8), 0);
  assert_failed (c, 2, ".svg or .png");
  assert_failed (d, 3, "/nonexistent/dir/trumpet.png");
  g_unlink (svg);
  g_unlink (png);
  g_rmdir (dir);
}
END_TEST

START_TEST (test_accuracy_usage_errors)
{
  g_autoptr (CliResult) a = cli_run ("accuracy");
  g_autoptr (CliResult) b = cli_run ("accuracy", "--prescription", data_file ("morphine-25.json"), "--windows", "1 h,7 min");
  g_autoptr (CliResult) c = cli_run ("accuracy", "--prescription", data_file ("morphine-25.json"), "--sample", "1 min");

  assert_failed (a, 2, "--prescription");
  assert_failed (b, 2, "window");
  assert_failed (c, 2, "samples");
}
END_TEST

static Suite *
cli_engine_suite (void)
{
  Suite *s = suite_create ("cli-engine");
  TCase *tc = tcase_create ("simulate");

  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_simulate_table);
  tcase_add_test (tc, test_simulate_json);
  tcase_add_test (tc, test_simulate_csv_and_hours);
  tcase_add_test (tc, test_simulate_ptm_presses);
  tcase_add_test (tc, test_simulate_overinfusion);
  tcase_add_test (tc, test_simulate_stall_and_events);
  tcase_add_test (tc, test_simulate_same_seed_same_output);
  tcase_add_test (tc, test_simulate_csv_events);
  tcase_add_test (tc, test_simulate_json_event_range);
  tcase_add_test (tc, test_simulate_log_text);
  tcase_add_test (tc, test_simulate_drug_from_library);
  tcase_add_test (tc, test_simulate_refused_prescription);
  tcase_add_test (tc, test_simulate_usage_errors);
  tcase_add_test (tc, test_help_lists_the_commands);
  suite_add_tcase (s, tc);
  tc = tcase_create ("accuracy");
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_accuracy_fault_free);
  tcase_add_test (tc, test_accuracy_known_bias);
  tcase_add_test (tc, test_accuracy_under_infusion);
  tcase_add_test (tc, test_accuracy_same_seed_same_output);
  tcase_add_test (tc, test_locale_independent);
  tcase_add_test (tc, test_accuracy_plot);
  tcase_add_test (tc, test_accuracy_usage_errors);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (cli_engine_suite)
