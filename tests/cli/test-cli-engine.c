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

#include <cjson/cJSON.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>

#include "thecal-test.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (cJSON, cJSON_Delete)

typedef struct
{
  int status;
  char *out;
  char *err;
} CliResult;

static void
cli_result_free (CliResult *result)
{
  g_free (result->out);
  g_free (result->err);
  g_free (result);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliResult, cli_result_free)

/* @text on one line for assertion messages (a newline would break the TAP output). */
static const char *
oneline (const char *text)
{
  static GPtrArray *keep = NULL;
  GString *line = g_string_new (NULL);

  if (keep == NULL)
    keep = g_ptr_array_new_with_free_func (g_free);
  for (const char *p = text != NULL ? text : "(null)"; *p != '\0' && line->len < 1500; p++)
    g_string_append_c (line, *p == '\n' || *p == '\r' || *p == '\t' ? ' ' : *p);
  g_ptr_array_add (keep, line->str);
  return g_string_free (line, FALSE);
}

static CliResult *
cli_run_argv (const char *const *args)
{
  const char *binary = g_getenv ("THECAL_CLI");
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_auto (GStrv) envp = g_get_environ ();
  g_autoptr (GError) error = NULL;
  CliResult *result = g_new0 (CliResult, 1);
  int wait_status = 0;

  ck_assert_msg (binary != NULL, "THECAL_CLI is not set: run the tests through meson test");
  g_ptr_array_add (argv, (gpointer) binary);
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  envp = g_environ_setenv (envp, "LC_ALL", "C", TRUE);
  envp = g_environ_unsetenv (envp, "LANGUAGE");
  ck_assert_msg (g_spawn_sync (NULL, (char **) argv->pdata, envp, G_SPAWN_DEFAULT, NULL, NULL, &result->out,
                               &result->err, &wait_status, &error),
                 "cannot run %s: %s", binary, error != NULL ? error->message : "?");
  result->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
  return result;
}

#define cli_run(...) cli_run_argv ((const char *const[]){ __VA_ARGS__, NULL })

static const char *
data_file (const char *name)
{
  static GHashTable *paths = NULL;
  const char *source = g_getenv ("THECAL_SOURCE_DIR");
  char *path;

  ck_assert_msg (source != NULL, "THECAL_SOURCE_DIR is not set: run the tests through meson test");
  if (paths == NULL)
    paths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  path = g_hash_table_lookup (paths, name);
  if (path == NULL)
    {
      path = g_build_filename (source, "tests", "cli", "data", name, NULL);
      g_hash_table_insert (paths, g_strdup (name), path);
    }
  return path;
}

static void
assert_status (const CliResult *result, int status)
{
  ck_assert_msg (result->status == status, "exit status %d, expected %d; stdout: %s; stderr: %s", result->status, status,
                 oneline (result->out), oneline (result->err));
}

static void
assert_failed (const CliResult *result, int status, const char *needle)
{
  assert_status (result, status);
  ck_assert_msg (result->out[0] == '\0', "stdout must be empty on an error, got: %s", oneline (result->out));
  ck_assert_msg (g_str_has_prefix (result->err, "thecal-cli: "), "stderr: %s", oneline (result->err));
  ck_assert_msg (strstr (result->err, needle) != NULL, "stderr does not name “%s”: %s", needle, oneline (result->err));
}

static void
assert_contains (const char *haystack, const char *needle)
{
  ck_assert_msg (strstr (haystack, needle) != NULL, "“%s” not found in: %s", needle, oneline (haystack));
}

/* The line of @text that starts with @prefix (owned by the caller); fails the test when none does. */
static char *
line_starting (const char *text, const char *prefix)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  for (gsize i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      return g_strdup (lines[i]);
  ck_abort_msg ("no line starts with “%s” in: %s", prefix, oneline (text));
  return NULL;
}

static const cJSON *
json_at (const cJSON *root, const char *path)
{
  g_auto (GStrv) parts = g_strsplit (path, ".", -1);
  const cJSON *item = root;

  for (gsize i = 0; parts[i] != NULL && item != NULL; i++)
    {
      char *bracket = strchr (parts[i], '[');

      if (bracket != NULL)
        {
          int index = atoi (bracket + 1);

          *bracket = '\0';
          item = cJSON_GetObjectItemCaseSensitive (item, parts[i]);
          item = cJSON_IsArray (item) ? cJSON_GetArrayItem (item, index) : NULL;
        }
      else
        item = cJSON_GetObjectItemCaseSensitive (item, parts[i]);
    }
  ck_assert_msg (item != NULL, "no “%s” in the JSON output", path);
  return item;
}

/* exact below 2^53, which every value here is */
static gint64
json_int (const cJSON *root, const char *path)
{
  const cJSON *item = json_at (root, path);

  ck_assert_msg (cJSON_IsNumber (item), "“%s” is not a number", path);
  return (gint64) item->valuedouble;
}

static const char *
json_str (const cJSON *root, const char *path)
{
  const cJSON *item = json_at (root, path);

  ck_assert_msg (cJSON_IsString (item), "“%s” is not a string", path);
  return item->valuestring;
}

static cJSON *
parse_json (const CliResult *result)
{
  cJSON *root = cJSON_Parse (result->out);

  ck_assert_msg (root != NULL, "stdout is not JSON: %s", oneline (result->out));
  return root;
}

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
}
END_TEST

START_TEST (test_simulate_refused_prescription)
{
  g_autofree char *dir = g_dir_make_tmp ("thecal-cli-engine-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "fast.json", NULL);
  g_autoptr (CliResult) result = NULL;

  ck_assert (g_file_set_contents (path,
                                  "{ \"format\": \"thecal-prescription\", \"version\": 1, \"drug\": \"morphine\", "
                                  "\"concentration\": \"25 mg/mL\", \"mode\": \"continuous\", "
                                  "\"continuous\": { \"rate\": \"30 mL/day\" } }",
                                  -1, NULL));
  result = cli_run ("simulate", "--prescription", path, "--fill", "20 mL", "--days", "1");
  assert_status (result, 1);
  assert_contains (result->out, "REFUSED");
  assert_contains (result->err, "programmable range");
  g_unlink (path);
  g_rmdir (dir);
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
  assert_status (accuracy, 0);
  assert_contains (accuracy->out, "trumpet");
  assert_contains (accuracy->out, "--plot");
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
  tcase_add_test (tc, test_simulate_refused_prescription);
  tcase_add_test (tc, test_simulate_usage_errors);
  tcase_add_test (tc, test_help_lists_the_commands);
  suite_add_tcase (s, tc);
  tc = tcase_create ("accuracy");
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_accuracy_fault_free);
  tcase_add_test (tc, test_accuracy_known_bias);
  tcase_add_test (tc, test_accuracy_plot);
  tcase_add_test (tc, test_accuracy_usage_errors);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (cli_engine_suite)
