/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-cli.c: thecal-cli run as a person (or a script) would run it: the built binary, its
 * stdout, stderr and exit code (docs/cli.md).
 *
 * How a run is made and read (the environment, LC_ALL=C unless a test says otherwise) is in
 * tests/common/thecal-test-cli.h, shared with test-cli-engine.c.
 *
 * Worked numbers, checked by hand:
 *  - 25 mg/mL, 5 mg/day: 5 000 000 ng/day × 1 000 000 / 25 000 000 ng/mL = 200 000 nL/day.
 *  - Refill, TR-20 (20 mL, accuracy 14.5 %, threshold 1 mL): 20 mL filled, 0.2 mL/day for
 *    30 days = 6 mL delivered, 14 mL expected; band 14.5 % × 6 mL = 0.87 mL, so the threshold
 *    is max (0.87 mL, 1 mL) = 1 mL; flagged only when |expected − aspirated| > 1 mL.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <locale.h>

#include "thecal-test-cli.h"
#include "thecal-test.h"

/* The start of a refill-calc command line: @rx (a file of tests/cli/data) ran since @fill was
 * filled on 2026-11-01T09:00, and the residual is aspirated 30 days later, on 2026-12-01T09:00.
 * The options that differ (--aspirated, --added, ...) follow it. */
#define REFILL_CALC(rx, fill) \
  "refill-calc", "--prescription", data_file (rx), "--fill", (fill), "--filled-at", "2026-11-01T09:00", "--at", "2026-12-01T09:00"
/* Morphine 25 mg/mL at 5 mg/day (0.2 mL/day), 20 mL filled: 30 days later 6 mL were delivered
 * and 14 mL come back, exactly the expected residual (no discrepancy). */
#define REFILL_AS_EXPECTED REFILL_CALC ("morphine-25.json", "20 mL"), "--aspirated", "14 mL"

/* ---------------------------------------------------------------------------------------- */
/* dose                                                                                       */

START_TEST (test_dose_worked_example)
{
  g_autoptr (CliResult) result = cli_run ("dose", "--concentration", "25 mg/mL", "--dose", "5 mg/day");
  g_autofree char *line = NULL;

  assert_status (result, 0);
  line = first_line (result->out);
  /* 5 mg/day ÷ 25 mg/mL = 0.2 mL/day: the answer is on the first line. */
  assert_contains (line, "0.2 mL/day");
  assert_contains (result->out, "Delivered dose after rounding: 5 mg/day");
  /* The default model is said in the output, with its resolution. */
  assert_contains (result->out, "TR-20");
  assert_contains (result->out, "default");
  assert_contains (result->out, "0.001 mL/day");
  ck_assert_str_eq (result->err, "");
}
END_TEST

START_TEST (test_dose_from_rate)
{
  g_autoptr (CliResult) result = cli_run ("dose", "--concentration", "25 mg/mL", "--rate", "0.2 mL/day");
  g_autofree char *line = NULL;

  assert_status (result, 0);
  line = first_line (result->out);
  /* 0.2 mL/day × 25 mg/mL = 5 mg/day. */
  assert_contains (line, "5 mg/day");
  ck_assert_str_eq (result->err, "");
}
END_TEST

START_TEST (test_dose_micrograms_any_locale)
{
  /* "µg" is read as mcg even under LC_ALL=C (option text is bytes, not locale text). */
  g_autoptr (CliResult) result = cli_run ("dose", "--concentration", "25000 µg/mL", "--dose", "5000 ug/day");
  g_autofree char *line = NULL;

  assert_status (result, 0);
  line = first_line (result->out);
  assert_contains (line, "0.2 mL/day");
}
END_TEST

START_TEST (test_dose_json)
{
  g_autoptr (CliResult) result = cli_run ("dose", "--concentration", "25 mg/mL", "--dose", "5 mg/day", "--json");
  g_autoptr (cJSON) root = NULL;

  assert_status (result, 0);
  root = parse_json (result);
  ck_assert_str_eq (json_str (root, "command"), "dose");
  ck_assert_int_eq (json_int (root, "rate_nl_per_day"), 200000);
  ck_assert_str_eq (json_str (root, "rate"), "0.2 mL/day");
  ck_assert_int_eq (json_int (root, "delivered_dose_ng_per_day"), 5000000);
  ck_assert_str_eq (json_str (root, "delivered_dose"), "5 mg/day");
  ck_assert_int_eq (json_int (root, "concentration_ng_per_ml"), 25000000);
  ck_assert_int_eq (json_int (root, "requested_dose_ng_per_day"), 5000000);
  ck_assert_str_eq (json_str (root, "pump_model"), "TR-20");
  ck_assert (json_bool (root, "pump_model_default"));
  ck_assert (json_bool (root, "in_range"));
  ck_assert_int_eq (json_int (root, "exit_code"), 0);
}
END_TEST

START_TEST (test_dose_rounding_half_down)
{
  /* 5.0125 mg/day ÷ 25 mg/mL = 0.2005 mL/day: exactly half-way between 0.2 and 0.201 mL/day,
   * so the rule (nearest, halves toward zero) gives 0.2 mL/day, delivering 5 mg/day. */
  g_autoptr (CliResult) half = cli_run ("dose", "--concentration", "25 mg/mL", "--dose", "5.0125 mg/day", "--json");
  /* 5.0126 mg/day → 0.200504 mL/day, past half-way: 0.201 mL/day = 5.025 mg/day. */
  g_autoptr (CliResult) above = cli_run ("dose", "--concentration", "25 mg/mL", "--dose", "5.0126 mg/day", "--json");
  g_autoptr (CliResult) text = cli_run ("dose", "--concentration", "25 mg/mL", "--dose", "5.0125 mg/day");
  g_autoptr (cJSON) half_json = NULL;
  g_autoptr (cJSON) above_json = NULL;

  assert_status (half, 0);
  assert_status (above, 0);
  half_json = parse_json (half);
  above_json = parse_json (above);
  ck_assert_int_eq (json_int (half_json, "rate_nl_per_day"), 200000);
  ck_assert_int_eq (json_int (half_json, "delivered_dose_ng_per_day"), 5000000);
  ck_assert_int_eq (json_int (above_json, "rate_nl_per_day"), 201000);
  ck_assert_int_eq (json_int (above_json, "delivered_dose_ng_per_day"), 5025000);
  /* The text says that the delivered dose differs from the one asked for. */
  assert_contains (text->out, "asked for 5.0125 mg/day");
}
END_TEST

START_TEST (test_dose_rate_range)
{
  /* TR-20 programs 0.048 to 24 mL/day. At 25 mg/mL: 1.2 mg/day = 0.048 mL/day (the minimum),
   * 1.175 mg/day = 0.047 mL/day (one step below), 600 mg/day = 24 mL/day (the maximum),
   * 600.025 mg/day = 24.001 mL/day (one step above). */
  g_autoptr (CliResult) at_min = cli_run ("dose", "--concentration", "25 mg/mL", "--dose", "1.2 mg/day");
  g_autoptr (CliResult) below_min = cli_run ("dose", "--concentration", "25 mg/mL", "--dose", "1.175 mg/day");
  g_autoptr (CliResult) at_max = cli_run ("dose", "--concentration", "25 mg/mL", "--dose", "600 mg/day");
  g_autoptr (CliResult) above_max = cli_run ("dose", "--concentration", "25 mg/mL", "--dose", "600.025 mg/day");
  g_autoptr (CliResult) zero = cli_run ("dose", "--concentration", "25 mg/mL", "--rate", "0 mL/day");

  assert_status (at_min, 0);
  assert_contains (at_min->out, "0.048 mL/day");
  assert_status (below_min, 1);
  assert_contains (below_min->out, "0.047 mL/day");
  assert_contains (below_min->out, "lowest programmable rate");
  assert_contains (below_min->err, "TR-20");
  assert_status (at_max, 0);
  assert_contains (at_max->out, "24 mL/day");
  assert_status (above_max, 1);
  assert_contains (above_max->out, "highest programmable rate");
  assert_status (zero, 1);
}
END_TEST

START_TEST (test_dose_pump_models)
{
  g_autoptr (CliResult) tr40 = cli_run ("dose", "--concentration", "25 mg/mL", "--dose", "5 mg/day",
                                        "--pump", "TR-40", "--json");
  g_autoptr (CliResult) unknown = cli_run ("dose", "--concentration", "25 mg/mL", "--dose", "5 mg/day",
                                           "--pump", "TR-99");
  g_autoptr (cJSON) root = NULL;

  assert_status (tr40, 0);
  root = parse_json (tr40);
  ck_assert_str_eq (json_str (root, "pump_model"), "TR-40");
  ck_assert (!json_bool (root, "pump_model_default"));
  ck_assert_int_eq (json_int (root, "rate_nl_per_day"), 200000);
  assert_failed (unknown, 2, "TR-99");
  assert_contains (unknown->err, "--pump");
}
END_TEST

START_TEST (test_dose_bad_input)
{
  g_autoptr (CliResult) bad_unit = cli_run ("dose", "--concentration", "25 mg/mL", "--dose", "5 mg/dya");
  g_autoptr (CliResult) no_unit = cli_run ("dose", "--concentration", "25", "--dose", "5 mg/day");
  g_autoptr (CliResult) wrong_kind = cli_run ("dose", "--concentration", "25 mg/mL", "--dose", "0.2 mL/day");
  g_autoptr (CliResult) comma = cli_run ("dose", "--concentration", "25 mg/mL", "--dose", "0,5 mg/day");
  g_autoptr (CliResult) missing = cli_run ("dose", "--dose", "5 mg/day");
  g_autoptr (CliResult) neither = cli_run ("dose", "--concentration", "25 mg/mL");
  g_autoptr (CliResult) both = cli_run ("dose", "--concentration", "25 mg/mL", "--dose", "5 mg/day",
                                        "--rate", "0.2 mL/day");
  g_autoptr (CliResult) unknown_option = cli_run ("dose", "--concentration", "25 mg/mL", "--dosis", "5 mg/day");
  g_autoptr (CliResult) extra = cli_run ("dose", "--concentration", "25 mg/mL", "--dose", "5 mg/day", "extra");
  g_autoptr (CliResult) bad_json = cli_run ("dose", "--concentration", "25 mg/mL", "--dose", "5 mg/dya", "--json");
  /* The same option twice is refused, not "the last one wins". */
  g_autoptr (CliResult) twice = cli_run ("dose", "--concentration", "25 mg/mL", "--dose", "5 mg/day",
                                         "--dose=50 mg/day");
  g_autoptr (CliResult) twice_short = cli_run ("dose", "-c", "25 mg/mL", "--concentration", "10 mg/mL",
                                               "--dose", "5 mg/day");
  g_autoptr (CliResult) equals_form = cli_run ("dose", "--concentration=25 mg/mL", "--dose=5 mg/day");

  /* The message names the option and quotes the offending text. */
  assert_failed (bad_unit, 2, "--dose");
  assert_contains (bad_unit->err, "mg/dya");
  assert_failed (no_unit, 2, "--concentration");
  assert_failed (wrong_kind, 2, "--dose");
  assert_failed (comma, 2, "--dose");
  assert_failed (missing, 2, "--concentration");
  assert_failed (neither, 2, "--dose");
  assert_failed (both, 2, "not both");
  assert_failed (unknown_option, 2, "--dosis");
  assert_failed (extra, 2, "extra");
  /* --json changes nothing for errors: text on stderr, nothing on stdout. */
  assert_failed (bad_json, 2, "mg/dya");
  assert_failed (twice, 2, "--dose");
  assert_contains (twice->err, "more than once");
  assert_failed (twice_short, 2, "--concentration");
  assert_status (equals_form, 0);
  assert_contains (equals_form->out, "0.2 mL/day");
}
END_TEST

START_TEST (test_usage_errors)
{
  g_autoptr (CliResult) none = cli_run ("");
  g_autoptr (CliResult) unknown = cli_run ("dosage");
  const char *no_args[] = { NULL };
  g_autoptr (CliResult) empty = cli_run_argv (NULL, no_args);

  assert_failed (none, 2, "unknown command");
  assert_failed (unknown, 2, "dosage");
  assert_failed (empty, 2, "command");
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* Locale                                                                                     */

START_TEST (test_locale_independent)
{
  const char *de[] = { "LC_ALL=de_DE.UTF-8", NULL };
  g_autoptr (CliResult) c_text = NULL;
  g_autoptr (CliResult) de_text = NULL;
  g_autoptr (CliResult) c_json = NULL;
  g_autoptr (CliResult) de_json = NULL;
  g_autoptr (CliResult) de_comma = NULL;
  g_autoptr (CliResult) de_refill = NULL;
  g_autoptr (CliResult) de_oral = NULL;

  /* The German locale writes 0,2 and reads "0,2": the CLI must do neither. Generate it with
   * "localedef -i de_DE -f UTF-8 de_DE.UTF-8" (build-aux/run-tests does). */
  ck_assert_msg (setlocale (LC_ALL, "de_DE.UTF-8") != NULL,
                 "the de_DE.UTF-8 locale is missing: run localedef -i de_DE -f UTF-8 de_DE.UTF-8");
  setlocale (LC_ALL, "C");

  c_text = cli_run ("dose", "--concentration", "25 mg/mL", "--dose", "5 mg/day");
  de_text = cli_run_env (de, "dose", "--concentration", "25 mg/mL", "--dose", "5 mg/day");
  assert_status (de_text, 0);
  assert_contains (de_text->out, "0.2 mL/day");
  assert_not_contains (de_text->out, "0,2");
  assert_contains (de_text->out, "0.001 mL/day");

  /* The JSON (keys, integers and ISMP text) is byte for byte the same in both locales. */
  c_json = cli_run ("dose", "--concentration", "25 mg/mL", "--dose", "5.0126 mg/day", "--json");
  de_json = cli_run_env (de, "dose", "--concentration", "25 mg/mL", "--dose", "5.0126 mg/day", "--json");
  assert_status (de_json, 0);
  ck_assert_str_eq (de_json->out, c_json->out);
  assert_contains (de_json->out, "\"5.025 mg/day\"");

  /* Input too: the German decimal comma is not a number. */
  de_comma = cli_run_env (de, "dose", "--concentration", "25 mg/mL", "--dose", "0,5 mg/day");
  assert_failed (de_comma, 2, "--dose");

  /* Dates, volumes and percentages in the refill report. */
  de_refill = cli_run_env (de, REFILL_CALC ("morphine-25.json", "20 mL"), "--aspirated", "12.5 mL", "--added", "20 mL");
  assert_status (de_refill, 0);
  assert_contains (de_refill->out, "14 mL");
  assert_contains (de_refill->out, "1.5 mL");
  assert_contains (de_refill->out, "0.87 mL");
  assert_contains (de_refill->out, "14.5 %");
  assert_contains (de_refill->out, "2026-12-01T09:00");
  assert_not_contains (de_refill->out, "1,5");
  assert_not_contains (de_refill->out, "0,87");

  de_oral = cli_run_env (de, "oral-estimate", "--oral", "120 mg/day");
  assert_status (de_oral, 0);
  assert_contains (de_oral->out, "400 mcg/day");
  assert_not_contains (de_oral->out, "0,4");
  assert_contains (de_oral->out, "1.333333 mg/day");
  assert_not_contains (de_oral->out, "1,333333");
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* check                                                                                      */

START_TEST (test_check_hard_limit)
{
  /* Ziconotide 24 mcg/day is above the label maximum of 19.2 mcg/day, a hard limit. */
  g_autoptr (CliResult) result = cli_run ("check", data_file ("ziconotide-hard.json"));
  g_autoptr (CliResult) with_reason = cli_run ("check", data_file ("ziconotide-hard.json"),
                                               "--override-reason", "patient tolerates it well");

  assert_status (result, 1);
  assert_contains (result->out, "19.2 mcg/day");
  assert_contains (result->out, "REFUSED");
  assert_contains (result->out, "24 mcg/day");
  assert_contains (result->err, "refused");
  assert_contains (result->err, "19.2 mcg/day");
  /* A hard limit cannot be overridden. */
  assert_status (with_reason, 1);
  assert_contains (with_reason->out, "REFUSED");
}
END_TEST

START_TEST (test_check_at_hard_limit)
{
  /* Exactly 19.2 mcg/day is allowed by the hard limit (the limit itself is not above it). */
  g_autoptr (CliResult) result = cli_run ("check", data_file ("ziconotide-at-limit.json"), "--json");
  g_autoptr (cJSON) root = NULL;
  const cJSON *findings;
  const cJSON *finding;

  root = parse_json (result);
  ck_assert_int_eq (json_int (root, "plan.total_worst_dose_ng_per_day"), 19200);
  findings = json_at (root, "findings");
  cJSON_ArrayForEach (finding, findings)
  {
    const cJSON *code = cJSON_GetObjectItemCaseSensitive (finding, "code");
    const cJSON *severity = cJSON_GetObjectItemCaseSensitive (finding, "severity");

    ck_assert_msg (!(g_strcmp0 (cJSON_GetStringValue (code), "daily_dose") == 0
                     && g_strcmp0 (cJSON_GetStringValue (severity), "refused") == 0),
                   "19.2 mcg/day must not be refused: %s", oneline (result->out));
  }
}
END_TEST

START_TEST (test_check_json)
{
  g_autoptr (CliResult) result = cli_run ("check", data_file ("ziconotide-hard.json"), "--json");
  g_autoptr (cJSON) root = NULL;
  const cJSON *findings;
  const cJSON *finding;
  gboolean found = FALSE;

  assert_status (result, 1);
  root = parse_json (result);
  ck_assert_str_eq (json_str (root, "command"), "check");
  ck_assert_str_eq (json_str (root, "verdict"), "refused");
  ck_assert_str_eq (json_str (root, "library_version"), "2026.11-1");
  ck_assert_int_eq (json_int (root, "exit_code"), 1);
  ck_assert (!json_bool (root, "opioid_tolerant"));
  /* 24 mcg/day at 100 mcg/mL = 0.24 mL/day. */
  ck_assert_int_eq (json_int (root, "plan.total_worst_dose_ng_per_day"), 24000);
  ck_assert_int_eq (json_int (root, "plan.basal_rate_nl_per_day"), 240000);
  ck_assert_str_eq (json_str (root, "plan.basal_rate"), "0.24 mL/day");
  ck_assert_int_eq (json_int (root, "plan.segments[0].rate_nl_per_day"), 240000);
  findings = json_at (root, "findings");
  ck_assert (cJSON_IsArray (findings));
  cJSON_ArrayForEach (finding, findings)
  {
    if (g_strcmp0 (cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (finding, "severity")), "refused") == 0
        && strstr (cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (finding, "limit")), "19.2 mcg/day") != NULL)
      found = TRUE;
  }
  ck_assert_msg (found, "no refused finding with the 19.2 mcg/day limit: %s", oneline (result->out));
}
END_TEST

START_TEST (test_check_soft_limit)
{
  const char *rx = data_file ("morphine-soft.json");
  g_autoptr (CliResult) no_reason = cli_run ("check", rx, "--opioid-tolerant");
  g_autoptr (CliResult) reason = cli_run ("check", rx, "--opioid-tolerant",
                                          "--override-reason", "cancer pain, palliative");
  /* The minimum is 10 characters, spaces trimmed: "1234567890" passes, "123456789" does not. */
  g_autoptr (CliResult) ten = cli_run ("check", rx, "--opioid-tolerant", "--override-reason", "1234567890");
  g_autoptr (CliResult) nine = cli_run ("check", rx, "--opioid-tolerant", "--override-reason", "123456789");
  g_autoptr (CliResult) padded = cli_run ("check", rx, "--opioid-tolerant", "--override-reason", "   short    ");
  g_autoptr (CliResult) reason_json = cli_run ("check", rx, "--opioid-tolerant", "--json",
                                               "--override-reason", "cancer pain, palliative");
  g_autoptr (cJSON) root = NULL;

  assert_status (no_reason, 1);
  assert_contains (no_reason->out, "NEEDS AN OVERRIDE REASON");
  assert_not_contains (no_reason->out, "REFUSED  ");
  /* The message says which findings need a reason. */
  assert_contains (no_reason->err, "override reason");
  assert_contains (no_reason->err, "15 mg/day");

  assert_status (reason, 0);
  assert_contains (reason->out, "cancer pain, palliative");
  ck_assert_str_eq (reason->err, "");
  assert_status (ten, 0);
  assert_failed (nine, 2, "--override-reason");
  assert_failed (padded, 2, "--override-reason");

  root = parse_json (reason_json);
  ck_assert_str_eq (json_str (root, "verdict"), "overridden");
  ck_assert_str_eq (json_str (root, "override_reason"), "cancer pain, palliative");
  ck_assert_int_eq (json_int (root, "exit_code"), 0);
}
END_TEST

START_TEST (test_check_opioid_naive_default)
{
  /* PTM morphine: refused for an opioid-naive patient, the default (CLINICAL.md §1.8). */
  g_autoptr (CliResult) naive = cli_run ("check", data_file ("flex-ptm.json"), "--json");
  g_autoptr (CliResult) tolerant = cli_run ("check", data_file ("flex-ptm.json"), "--opioid-tolerant", "--json");
  g_autoptr (CliResult) text = cli_run ("check", data_file ("flex-ptm.json"));
  g_autoptr (cJSON) naive_json = NULL;
  g_autoptr (cJSON) tolerant_json = NULL;
  const cJSON *finding;
  gboolean ptm_refused = FALSE;

  assert_status (naive, 1);
  naive_json = parse_json (naive);
  ck_assert (!json_bool (naive_json, "opioid_tolerant"));
  cJSON_ArrayForEach (finding, json_at (naive_json, "findings"))
  {
    if (g_strcmp0 (cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (finding, "code")), "ptm_opioid_naive") == 0
        && g_strcmp0 (cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (finding, "severity")), "refused") == 0)
      ptm_refused = TRUE;
  }
  ck_assert_msg (ptm_refused, "PTM opioid for an opioid-naive patient must be refused: %s", oneline (naive->out));
  assert_contains (text->out, "opioid-naive");

  /* Flex plan, checked by hand at 10 mg/mL: 4 mg/day for 8 h, 6 for 12 h, 5 for 4 h
   * = (32 + 72 + 20) / 24 = 5.1666… mg/day of basal, from 0.4 / 0.6 / 0.5 mL/day;
   * PTM 0.2 mg × 4 = 0.8 mg/day worst case. */
  tolerant_json = parse_json (tolerant);
  ck_assert (json_bool (tolerant_json, "opioid_tolerant"));
  ck_assert_str_eq (json_str (tolerant_json, "plan.mode"), "flex");
  ck_assert_int_eq (json_int (tolerant_json, "plan.segments[0].rate_nl_per_day"), 400000);
  ck_assert_int_eq (json_int (tolerant_json, "plan.segments[1].rate_nl_per_day"), 600000);
  ck_assert_int_eq (json_int (tolerant_json, "plan.segments[2].rate_nl_per_day"), 500000);
  ck_assert_str_eq (json_str (tolerant_json, "plan.segments[1].start"), "08:00");
  ck_assert_str_eq (json_str (tolerant_json, "plan.segments[2].end"), "24:00");
  ck_assert_int_eq (json_int (tolerant_json, "plan.ptm_worst_dose_ng_per_day"), 800000);
  ck_assert_int_eq (json_int (tolerant_json, "plan.ptm.max_per_24h"), 4);
  ck_assert_int_eq (json_int (tolerant_json, "plan.ptm.lockout_ms"), 4 * 3600000);
}
END_TEST

START_TEST (test_check_bad_input)
{
  g_autoptr (CliResult) malformed = cli_run ("check", data_file ("malformed.json"));
  g_autoptr (CliResult) bad_unit = cli_run ("check", data_file ("bad-unit.json"));
  g_autoptr (CliResult) no_file = cli_run ("check");
  g_autoptr (CliResult) two_files = cli_run ("check", data_file ("morphine-25.json"), data_file ("morphine-10.json"));
  g_autoptr (CliResult) bad_current = cli_run ("check", data_file ("morphine-25.json"),
                                               "--current", data_file ("malformed.json"));
  g_autoptr (CliResult) bad_library = cli_run ("check", data_file ("morphine-25.json"),
                                               "--library", data_file ("morphine-25.json"));

  assert_failed (malformed, 2, "malformed.json");
  assert_failed (bad_unit, 2, "mg/l");
  assert_contains (bad_unit->err, "concentration");
  assert_failed (no_file, 2, "prescription");
  assert_failed (two_files, 2, "morphine-10.json");
  assert_failed (bad_current, 2, "malformed.json");
  assert_failed (bad_library, 2, "morphine-25.json");
}
END_TEST

START_TEST (test_check_io_errors)
{
  g_autoptr (CliResult) missing = cli_run ("check", "/nonexistent/prescription.json");
  g_autoptr (CliResult) directory = cli_run ("check", data_file (""));
  g_autoptr (CliResult) missing_library = cli_run ("check", data_file ("morphine-25.json"),
                                                   "--library", "/nonexistent/library.json");
  const char *no_data[] = { "THECAL_DATA_DIR=/nonexistent", NULL };
  g_autoptr (CliResult) no_data_dir = cli_run_env (no_data, "check", data_file ("morphine-25.json"));

  assert_failed (missing, 3, "/nonexistent/prescription.json");
  assert_failed (directory, 3, "data");
  assert_failed (missing_library, 3, "/nonexistent/library.json");
  assert_failed (no_data_dir, 3, "/nonexistent/");
}
END_TEST

START_TEST (test_check_too_large)
{
  g_autofree char *path = NULL;
  g_autoptr (GString) big = g_string_new ("{\"format\": \"thecal-prescription\", \"pad\": \"");
  g_autoptr (CliResult) result = NULL;

  /* One byte over 1 MiB (THECAL_JSON_MAX_BYTES) is refused before parsing. */
  while (big->len < 1024 * 1024 - 1)
    g_string_append_c (big, 'x');
  g_string_append (big, "\"}");
  path = cli_temp_file ("big.json", big->str, (gssize) big->len);
  result = cli_run ("check", path);
  cli_temp_file_remove (path);
  assert_failed (result, 2, "larger than");
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* refill-calc                                                                                */

/* refill-calc on morphine 25 mg/mL at 5 mg/day (0.2 mL/day), aspirated 30 days after the fill. */
static CliResult *
refill (const char *aspirated, const char *pump, const char *fill)
{
  return cli_run (REFILL_CALC ("morphine-25.json", fill), "--aspirated", aspirated, "--pump", pump, "--json");
}

static void
assert_refill (const char *aspirated, const char *pump, const char *fill, gboolean flagged, const char *kind)
{
  g_autoptr (CliResult) result = refill (aspirated, pump, fill);
  g_autoptr (cJSON) root = NULL;

  assert_status (result, 0); /* flagged or not, refill-calc only calculates */
  root = parse_json (result);
  ck_assert_msg (json_bool (root, "flagged") == flagged, "aspirated %s on %s: flagged must be %d: %s",
                 aspirated, pump, flagged, oneline (result->out));
  ck_assert_str_eq (json_str (root, "kind"), kind);
  ck_assert (json_bool (root, "needs_acknowledgement") == flagged);
}

START_TEST (test_refill_boundaries_20ml)
{
  /* Expected 14 mL, threshold 1 mL (TR-20). */
  assert_refill ("14 mL", "TR-20", "20 mL", FALSE, "none");
  assert_refill ("13 mL", "TR-20", "20 mL", FALSE, "none");         /* discrepancy 1 mL: at the limit */
  assert_refill ("12.999 mL", "TR-20", "20 mL", TRUE, "less_back"); /* 1.001 mL: beyond */
  assert_refill ("15 mL", "TR-20", "20 mL", FALSE, "none");         /* −1 mL */
  assert_refill ("15.001 mL", "TR-20", "20 mL", TRUE, "more_back"); /* −1.001 mL */
}
END_TEST

START_TEST (test_refill_boundaries_40ml)
{
  /* TR-40: 40 mL filled, 6 mL delivered, 34 mL expected; threshold max (0.87 mL, 2 mL) = 2 mL. */
  assert_refill ("32 mL", "TR-40", "40 mL", FALSE, "none");
  assert_refill ("31.999 mL", "TR-40", "40 mL", TRUE, "less_back");
  assert_refill ("36 mL", "TR-40", "40 mL", FALSE, "none");
  assert_refill ("36.001 mL", "TR-40", "40 mL", TRUE, "more_back");
}
END_TEST

START_TEST (test_refill_figures)
{
  g_autoptr (CliResult) result = refill ("12.2 mL", "TR-20", "20 mL");
  g_autoptr (CliResult) text = cli_run (REFILL_CALC ("morphine-25.json", "20 mL"), "--aspirated", "12.2 mL");
  g_autoptr (cJSON) root = NULL;

  root = parse_json (result);
  ck_assert_int_eq (json_int (root, "delivered_nl"), 6000000);
  ck_assert_int_eq (json_int (root, "expected_residual_nl"), 14000000);
  ck_assert_str_eq (json_str (root, "expected_residual"), "14 mL");
  ck_assert_int_eq (json_int (root, "aspirated_nl"), 12200000);
  ck_assert_int_eq (json_int (root, "discrepancy_nl"), 1800000);
  ck_assert_int_eq (json_int (root, "band_nl"), 870000); /* 14.5 % × 6 mL */
  ck_assert_int_eq (json_int (root, "threshold_nl"), 1000000);
  ck_assert_int_eq (json_int (root, "filled_at_local_ms"), G_GINT64_CONSTANT (1793523600000));
  ck_assert_str_eq (json_str (root, "filled_at"), "2026-11-01T09:00");
  ck_assert (!json_bool (root, "empty_refill"));

  /* The text: the clinical meaning and the warning line. */
  assert_status (text, 0);
  assert_contains (text->out, "over-infusion");
  assert_contains (text->out, "pocket fill");
  assert_contains (text->out, "incomplete aspiration");
  assert_contains (text->out, "needs acknowledgement");
  ck_assert_str_eq (text->err, "");
}
END_TEST

START_TEST (test_refill_band_above_threshold)
{
  /* TR-40, 10 mg/mL at 1 mL/day, 40 mL filled, 30 days: 30 mL delivered, 10 mL expected; band
   * 14.5 % × 30 mL = 4.35 mL > 2 mL, so the threshold is the band. */
  g_autoptr (CliResult) inside = cli_run (REFILL_CALC ("morphine-1ml.json", "40 mL"), "--aspirated", "5.65 mL",
                                          "--pump", "TR-40", "--json");
  g_autoptr (CliResult) beyond = cli_run (REFILL_CALC ("morphine-1ml.json", "40 mL"), "--aspirated", "5.649 mL",
                                          "--pump", "TR-40", "--json");
  g_autoptr (cJSON) inside_json = NULL;
  g_autoptr (cJSON) beyond_json = NULL;

  inside_json = parse_json (inside);
  beyond_json = parse_json (beyond);
  ck_assert_int_eq (json_int (inside_json, "band_nl"), 4350000);
  ck_assert_int_eq (json_int (inside_json, "threshold_nl"), 4350000);
  ck_assert (!json_bool (inside_json, "flagged")); /* 4.35 mL: at the band */
  ck_assert (json_bool (beyond_json, "flagged"));  /* 4.351 mL: beyond */
}
END_TEST

START_TEST (test_refill_bolus_and_empty)
{
  /* A logged 0.5 mL bolus: 6.5 mL delivered, 13.5 mL expected. */
  g_autoptr (CliResult) bolus = cli_run (REFILL_CALC ("morphine-25.json", "20 mL"), "--aspirated", "13.5 mL",
                                         "--bolus", "0.5 mL@2026-11-10T08:00", "--json");
  /* Nothing aspirated: no residual confirms the needle placement (pocket-fill risk). */
  g_autoptr (CliResult) empty = cli_run (REFILL_CALC ("morphine-25.json", "20 mL"), "--aspirated", "0 mL");
  g_autoptr (cJSON) root = NULL;

  root = parse_json (bolus);
  ck_assert_int_eq (json_int (root, "delivered_nl"), 6500000);
  ck_assert_int_eq (json_int (root, "expected_residual_nl"), 13500000);
  ck_assert_int_eq (json_int (root, "discrepancy_nl"), 0);
  ck_assert_int_eq (json_int (root, "boluses[0].volume_nl"), 500000);
  ck_assert_str_eq (json_str (root, "boluses[0].at"), "2026-11-10T08:00");

  assert_status (empty, 0);
  assert_contains (empty->out, "empty refill");
  assert_contains (empty->out, "pocket-fill");
  assert_contains (empty->out, "less came back than expected");
  assert_contains (empty->out, "needs acknowledgement");
}
END_TEST

START_TEST (test_refill_new_fill)
{
  /* 20 mL into a TR-20 at 0.2 mL/day from 2026-12-01T09:00 (checked by hand):
   *   refill threshold 3 mL after 17 mL = 85 days → 2027-02-24T09:00
   *   low-reservoir alarm 2 mL after 18 mL = 90 days → 2027-03-01T09:00
   *   empty 1 mL after 19 mL = 95 days → 2027-03-06T09:00
   *   morphine stability 90 days → 2027-03-01T09:00; refill by the earlier: 2027-02-24T09:00. */
  g_autoptr (CliResult) result = cli_run (REFILL_AS_EXPECTED, "--added", "20 mL", "--json");
  g_autoptr (CliResult) text = cli_run (REFILL_AS_EXPECTED, "--added", "20 mL");
  g_autoptr (cJSON) root = NULL;

  assert_status (result, 0);
  root = parse_json (result);
  ck_assert (!json_bool (root, "new_fill.refused"));
  ck_assert_int_eq (json_int (root, "new_fill.new_volume_nl"), 20000000);
  ck_assert_str_eq (json_str (root, "new_fill.projection.refill_threshold_worst"), "2027-02-24T09:00");
  ck_assert_str_eq (json_str (root, "new_fill.projection.low_alarm"), "2027-03-01T09:00");
  ck_assert_str_eq (json_str (root, "new_fill.projection.empty"), "2027-03-06T09:00");
  ck_assert_str_eq (json_str (root, "new_fill.projection.stability_limit"), "2027-03-01T09:00");
  ck_assert_str_eq (json_str (root, "new_fill.projection.refill_by"), "2027-02-24T09:00");

  assert_status (text, 0);
  assert_contains (text->out, "Low-reservoir alarm");
  assert_contains (text->out, "Recommended refill by: 2027-02-24T09:00");
  assert_contains (text->out, "90 days");
}
END_TEST

START_TEST (test_refill_new_prescription)
{
  /* The new fill under 10 mg/mL at 1 mL/day: 20 mL reach the 3 mL threshold after 17 days. */
  g_autoptr (CliResult) result = cli_run (REFILL_AS_EXPECTED, "--added", "20 mL", "--new-prescription", data_file ("morphine-1ml.json"),
                                          "--json");
  g_autoptr (CliResult) without_added = cli_run (REFILL_AS_EXPECTED, "--new-prescription", data_file ("morphine-1ml.json"));
  g_autoptr (cJSON) root = NULL;

  assert_status (result, 0);
  root = parse_json (result);
  ck_assert_str_eq (json_str (root, "new_fill.projection.refill_threshold_worst"), "2026-12-18T09:00");
  ck_assert_str_eq (json_str (root, "new_fill.projection.refill_by"), "2026-12-18T09:00");
  assert_failed (without_added, 2, "--added");
}
END_TEST

START_TEST (test_refill_over_capacity)
{
  /* TR-20 holds 20 mL: 20 mL is accepted, one nanolitre more is refused (exit 1). */
  g_autoptr (CliResult) at_capacity = cli_run (REFILL_AS_EXPECTED, "--added", "20 mL");
  g_autoptr (CliResult) over = cli_run (REFILL_AS_EXPECTED, "--added", "20.000001 mL");
  g_autoptr (CliResult) over_json = cli_run (REFILL_AS_EXPECTED, "--added", "21 mL", "--json");
  g_autoptr (CliResult) tr40 = cli_run (REFILL_AS_EXPECTED, "--added", "21 mL", "--pump", "TR-40");
  g_autoptr (cJSON) root = NULL;

  assert_status (at_capacity, 0);
  assert_status (over, 1);
  assert_contains (over->out, "REFUSED");
  assert_contains (over->err, "refused");
  assert_contains (over->err, "20 mL");
  assert_status (over_json, 1);
  root = parse_json (over_json);
  ck_assert (json_bool (root, "new_fill.refused"));
  ck_assert_int_eq (json_int (root, "exit_code"), 1);
  assert_status (tr40, 0);
}
END_TEST

START_TEST (test_refill_bad_input)
{
  /* Dates are pump-local, YYYY-MM-DDTHH:MM[:SS], without a time zone, and --at is not before
   * --filled-at. */
  static const struct
  {
    const char *filled_at;
    const char *at;
    int status;
    const char *needle; /* what stderr names */
  } dates[] = {
    { "2026-11-01T09:00Z", "2026-12-01T09:00", 2, "--filled-at" },     /* a time zone */
    { "2026-02-30T09:00", "2026-12-01T09:00", 2, "2026-02-30T09:00" }, /* no such day */
    { "2026-12-01T09:00", "2026-11-01T09:00", 2, "--at" },             /* backwards */
    { "2026-11-01T09:00:00", "2026-12-01T09:00:00", 0, NULL },         /* with seconds: fine */
  };
  g_autoptr (CliResult) missing = cli_run (REFILL_CALC ("morphine-25.json", "20 mL"));
  g_autoptr (CliResult) bad_bolus = cli_run (REFILL_AS_EXPECTED, "--bolus", "0.5 mL");
  g_autoptr (CliResult) zero_added = cli_run (REFILL_AS_EXPECTED, "--added", "0 mL");

  for (gsize i = 0; i < G_N_ELEMENTS (dates); i++)
    {
      g_autoptr (CliResult) result = cli_run ("refill-calc", "--prescription", data_file ("morphine-25.json"),
                                              "--fill", "20 mL", "--filled-at", dates[i].filled_at,
                                              "--at", dates[i].at, "--aspirated", "14 mL");

      if (dates[i].status == 0)
        assert_status (result, 0);
      else
        assert_failed (result, dates[i].status, dates[i].needle);
    }
  assert_failed (missing, 2, "--aspirated");
  assert_failed (bad_bolus, 2, "--bolus");
  assert_failed (zero_added, 2, "--added");
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* bolus-calc                                                                                 */

START_TEST (test_bolus_priming)
{
  /* Dead space = 0.25 mL internal + 45 cm × 0.0026 mL/cm (0.117 mL) = 0.367 mL. */
  g_autoptr (CliResult) text = cli_run ("bolus-calc", "priming", "--prescription", data_file ("morphine-25.json"),
                                        "--catheter-length", "45 cm");
  g_autoptr (CliResult) json = cli_run ("bolus-calc", "priming", "--prescription", data_file ("morphine-25.json"),
                                        "--catheter-length", "45 cm", "--json");
  g_autoptr (cJSON) root = NULL;

  assert_status (text, 0);
  assert_contains (text->out, "0.367 mL");
  /* The label's mixing warning, always (CLINICAL.md §1.4). */
  assert_contains (text->out, "mix");
  assert_contains (text->out, "medical supervision");
  assert_status (json, 0);
  root = parse_json (json);
  ck_assert_int_eq (json_int (root, "dead_space_nl"), 367000);
  ck_assert_int_eq (json_int (root, "catheter_volume_nl"), 117000);
  ck_assert_int_eq (json_int (root, "catheter_length_mm"), 450);
  ck_assert_str_eq (json_str (root, "phases[0].kind"), "priming");
  ck_assert_int_eq (json_int (root, "phases[0].dose_ng"), 0);
  ck_assert (cJSON_IsString (json_at (root, "warning")));
}
END_TEST

START_TEST (test_bolus_bridge)
{
  /* 10 → 25 mg/mL at 5 mg/day: the old 10 mg/mL drug is pushed at 5 mg/day ÷ 10 mg/mL
   * = 0.5 mL/day; 0.367 mL of it hold 3.67 mg, delivered at no more than 5 mg/day. */
  g_autoptr (CliResult) result = cli_run ("bolus-calc", "bridge",
                                          "--old-prescription", data_file ("morphine-10.json"),
                                          "--prescription", data_file ("morphine-25.json"),
                                          "--catheter-length", "45 cm", "--json");
  g_autoptr (CliResult) text = cli_run ("bolus-calc", "bridge",
                                        "--old-prescription", data_file ("morphine-10.json"),
                                        "--prescription", data_file ("morphine-25.json"),
                                        "--catheter-length", "45 cm");
  g_autoptr (cJSON) root = NULL;
  const cJSON *phase;

  assert_status (result, 0);
  root = parse_json (result);
  ck_assert_int_eq (json_int (root, "target_dose_rate_ng_per_day"), 5000000);
  ck_assert_str_eq (json_str (root, "phases[0].kind"), "bridge");
  ck_assert_int_eq (json_int (root, "phases[0].rate_nl_per_day"), 500000);
  ck_assert_int_eq (json_int (root, "phases[0].concentration_ng_per_ml"), 10000000);
  ck_assert_int_eq (json_int (root, "phases[0].volume_nl"), 367000);
  ck_assert_int_eq (json_int (root, "phases[0].dose_ng"), 3670000);
  cJSON_ArrayForEach (phase, json_at (root, "phases"))
      ck_assert_int_le ((gint64) cJSON_GetObjectItemCaseSensitive (phase, "dose_rate_ng_per_day")->valuedouble, 5000000);
  assert_status (text, 0);
  assert_contains (text->out, "bridge");
  assert_contains (text->out, "10 mg/mL");
}
END_TEST

START_TEST (test_bolus_bad_input)
{
  g_autoptr (CliResult) no_sub = cli_run ("bolus-calc");
  g_autoptr (CliResult) bad_sub = cli_run ("bolus-calc", "flush");
  g_autoptr (CliResult) no_length = cli_run ("bolus-calc", "priming", "--prescription", data_file ("morphine-25.json"));
  g_autoptr (CliResult) bad_length = cli_run ("bolus-calc", "priming", "--prescription", data_file ("morphine-25.json"),
                                              "--catheter-length", "45 in");
  g_autoptr (CliResult) no_old = cli_run ("bolus-calc", "bridge", "--prescription", data_file ("morphine-25.json"),
                                          "--catheter-length", "45 cm");
  g_autoptr (CliResult) missing = cli_run ("bolus-calc", "priming", "--prescription", "/nonexistent.json",
                                           "--catheter-length", "45 cm");

  assert_failed (no_sub, 2, "priming");
  assert_failed (bad_sub, 2, "flush");
  assert_failed (no_length, 2, "--catheter-length");
  assert_failed (bad_length, 2, "--catheter-length");
  assert_failed (no_old, 2, "--old-prescription");
  assert_failed (missing, 3, "/nonexistent.json");
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* oral-estimate                                                                              */

START_TEST (test_oral_estimate)
{
  /* 120 mg/day oral ÷ 300 = 0.4 mg/day (shown as 400 mcg/day); ÷ 12 = 10 mg/day. */
  g_autoptr (CliResult) text = cli_run ("oral-estimate", "--oral", "120 mg/day");
  g_autoptr (CliResult) ratio = cli_run ("oral-estimate", "--oral", "120 mg/day", "--ratio", "12");
  g_autoptr (CliResult) json = cli_run ("oral-estimate", "--oral", "120 mg/day", "--json");
  g_autoptr (cJSON) root = NULL;
  g_autofree char *line = NULL;

  assert_status (text, 0);
  line = first_line (text->out);
  assert_contains (line, "estimate for clinician judgement");
  assert_contains (line, "never programmed automatically");
  assert_contains (text->out, "400 mcg/day");
  assert_contains (text->out, "12:1");
  assert_contains (text->out, "300:1");
  assert_contains (text->out, "10 mg/day");
  assert_status (ratio, 0);
  assert_contains (ratio->out, "estimate for clinician judgement");
  assert_contains (ratio->out, "Intrathecal morphine: 10 mg/day");
  assert_contains (ratio->out, "from oral morphine 120 mg/day at 12:1");

  root = parse_json (json);
  ck_assert_int_eq (json_int (root, "estimate_ng_per_day"), 400000);
  ck_assert_int_eq (json_int (root, "ratio"), 300);
  ck_assert (strstr (json_str (root, "label"), "estimate for clinician judgement") != NULL);
  ck_assert (!json_bool (root, "programmable"));
  ck_assert_int_eq (json_int (root, "spread[0].ratio"), 12);
  ck_assert_int_eq (json_int (root, "spread[0].estimate_ng_per_day"), 10000000);
}
END_TEST

START_TEST (test_oral_bad_input)
{
  g_autoptr (CliResult) zero = cli_run ("oral-estimate", "--oral", "120 mg/day", "--ratio", "0");
  g_autoptr (CliResult) too_big = cli_run ("oral-estimate", "--oral", "120 mg/day", "--ratio", "1001");
  g_autoptr (CliResult) max = cli_run ("oral-estimate", "--oral", "120 mg/day", "--ratio", "1000:1");
  g_autoptr (CliResult) no_oral = cli_run ("oral-estimate");
  g_autoptr (CliResult) volume = cli_run ("oral-estimate", "--oral", "120 mL/day");

  assert_failed (zero, 2, "--ratio");
  assert_failed (too_big, 2, "--ratio");
  assert_status (max, 0);
  assert_contains (max->out, "estimate for clinician judgement");
  assert_failed (no_oral, 2, "--oral");
  assert_failed (volume, 2, "--oral");
}
END_TEST

/* ---------------------------------------------------------------------------------------- */
/* --help, --version, demo                                                                    */

START_TEST (test_help)
{
  static const char *const commands[][2] = {
    { "dose", NULL },
    { "check", NULL },
    { "refill-calc", NULL },
    { "bolus-calc", NULL },
    { "bolus-calc", "priming" },
    { "bolus-calc", "bridge" },
    { "oral-estimate", NULL },
    { "demo", NULL },
  };
  g_autoptr (CliResult) top = cli_run ("--help");
  g_autoptr (CliResult) help_check = cli_run ("help", "check");
  g_autoptr (CliResult) check = cli_run ("check", "--help");

  assert_status (top, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autoptr (CliResult) result = NULL;
      g_autofree char *usage = NULL;

      /* The usage line names the command: "  thecal-cli bolus-calc priming [OPTION…]". */
      if (commands[i][1] == NULL)
        {
          result = cli_run (commands[i][0], "--help");
          usage = g_strdup_printf ("  thecal-cli %s ", commands[i][0]);
        }
      else
        {
          result = cli_run (commands[i][0], commands[i][1], "--help");
          usage = g_strdup_printf ("  thecal-cli %s %s ", commands[i][0], commands[i][1]);
        }

      assert_status (result, 0);
      assert_contains (result->out, "Usage:");
      assert_contains (result->out, usage);
      assert_contains (result->out, "Exit status:");
      ck_assert_str_eq (result->err, "");
      if (commands[i][1] == NULL)
        assert_contains (top->out, commands[i][0]);
    }
  assert_contains (top->out, "--version");
  assert_contains (check->out, "opioid-naive");
  assert_contains (check->out, "--override-reason");
  ck_assert_str_eq (help_check->out, check->out);
}
END_TEST

START_TEST (test_version)
{
  g_autoptr (CliResult) result = cli_run ("--version");
  g_autofree char *expected = g_strdup_printf ("thecal-cli %s\n", PACKAGE_VERSION);

  assert_status (result, 0);
  ck_assert_str_eq (result->out, expected);
}
END_TEST

/* thecal-cli demo: the demo record, the interrogations, the scripted visit and the refill with a
 * concentration change, each under its heading; every write confirmed and the audit chain intact
 * at the end. */
START_TEST (test_demo)
{
  static const char *const env[] = { "THECAL_PWHASH_LIMITS=min", NULL };
  g_autoptr (CliResult) result = cli_run_argv (env, (const char *const[]){ "demo", NULL });
  g_autoptr (CliResult) json = cli_run_argv (env, (const char *const[]){ "demo", "--json", NULL });
  g_autoptr (CliResult) calculators_options = cli_run ("demo", "--library", "x.json");
  g_autoptr (cJSON) root = NULL;

  assert_status (result, 0);
  ck_assert_str_eq (result->err, "");
  assert_contains (result->out, "== 1. A demo record ==");
  assert_contains (result->out, "== 2. Sign in ==");
  assert_contains (result->out, "Connect and interrogate every patient's pump");
  assert_contains (result->out, "TR20-000124");
  assert_contains (result->out, "alarm.low_reservoir");
  assert_contains (result->out, "alarm.motor_stall");
  assert_contains (result->out, "near ERI");
  /* TR40-000125: its battery reaches ERI three days after the demo instant (2026-01-05T09:00) */
  assert_contains (result->out, "ERI expected 2026-01-08T09:00");
  assert_contains (result->out, "over-infusing");
  assert_contains (result->out, "baclofen");
  assert_contains (result->out, "== 5. Refill: a flagged discrepancy, acknowledged, and a second person ==");
  assert_contains (result->out, "Refused until acknowledged: Discrepancy");
  assert_contains (result->out, "Refill confirmed, verified by paula");
  assert_contains (result->out, "== 6. Change of prescription");
  assert_contains (result->out, "continuous: 5 mg/day → 6 mg/day");
  assert_contains (result->out, "  new: low-reservoir alarm ");
  assert_contains (result->out, "Programming session 1: confirmed");
  assert_contains (result->out, "== 7. A clinician bolus ==");
  assert_contains (result->out, "Bolus confirmed.");
  assert_contains (result->out, "== 9. Refill with a concentration change: morphine 25 → 50 mg/mL");
  assert_contains (result->out, "concentration: 25 mg/mL → 50 mg/mL");
  assert_contains (result->out, "new prescription: 5 mg/day at 0.1 mL/day (the pump delivered 5 mg/day of the old fill at 0.2 mL/day)");
  assert_contains (result->out, "Bridge bolus: A bridge bolus of 0.3685 mL");
  assert_contains (result->out, "the pump never stopped, and the bridge bolus runs.");
  assert_contains (result->out, "== 10. The audit chain, verified ==");
  assert_contains (result->out, "(intact)");
  assert_status (json, 0);
  root = parse_json (json);
  ck_assert (json_bool (root, "steps[4].flagged"));
  ck_assert_str_eq (json_str (root, "steps[5].outcome"), "confirmed");
  ck_assert_str_eq (json_str (root, "steps[8].outcome"), "confirmed");
  ck_assert (json_bool (root, "steps[8].changed"));
  ck_assert_str_eq (json_str (root, "steps[9].problem"), "intact");
  assert_status (calculators_options, 2);
  assert_contains (calculators_options->err, "--calculators");
}
END_TEST

/* thecal-cli demo --calculators: the calculators on worked examples. */
START_TEST (test_demo_calculators)
{
  g_autoptr (CliResult) result = cli_run ("demo", "--calculators");
  g_autoptr (CliResult) json = cli_run ("demo", "--calculators", "--json");
  g_autoptr (cJSON) root = NULL;

  assert_status (result, 0);
  ck_assert_str_eq (result->err, "");
  assert_contains (result->out, "Drug library 2026.11-1 ");
  assert_contains (result->out, "== 1.");
  assert_contains (result->out, "0.2 mL/day");
  assert_contains (result->out, "19.2 mcg/day");
  assert_contains (result->out, "needs acknowledgement");
  assert_contains (result->out, "bridge");
  assert_contains (result->out, "estimate for clinician judgement");
  assert_status (json, 0);
  root = parse_json (json);
  ck_assert_str_eq (json_str (root, "library_version"), "2026.11-1");
  ck_assert_int_eq (json_int (root, "steps[0].rate_nl_per_day"), 200000);
  ck_assert (json_bool (root, "steps[4].flagged"));
}
END_TEST

static Suite *
cli_suite (void)
{
  Suite *suite = suite_create ("cli");
  TCase *tc;

  tc = tcase_create ("dose");
  tcase_add_test (tc, test_dose_worked_example);
  tcase_add_test (tc, test_dose_from_rate);
  tcase_add_test (tc, test_dose_micrograms_any_locale);
  tcase_add_test (tc, test_dose_json);
  tcase_add_test (tc, test_dose_rounding_half_down);
  tcase_add_test (tc, test_dose_rate_range);
  tcase_add_test (tc, test_dose_pump_models);
  tcase_add_test (tc, test_dose_bad_input);
  tcase_add_test (tc, test_usage_errors);
  suite_add_tcase (suite, tc);

  tc = tcase_create ("locale");
  tcase_add_test (tc, test_locale_independent);
  suite_add_tcase (suite, tc);

  tc = tcase_create ("check");
  tcase_add_test (tc, test_check_hard_limit);
  tcase_add_test (tc, test_check_at_hard_limit);
  tcase_add_test (tc, test_check_json);
  tcase_add_test (tc, test_check_soft_limit);
  tcase_add_test (tc, test_check_opioid_naive_default);
  tcase_add_test (tc, test_check_bad_input);
  tcase_add_test (tc, test_check_io_errors);
  tcase_add_test (tc, test_check_too_large);
  suite_add_tcase (suite, tc);

  tc = tcase_create ("refill-calc");
  tcase_add_test (tc, test_refill_boundaries_20ml);
  tcase_add_test (tc, test_refill_boundaries_40ml);
  tcase_add_test (tc, test_refill_figures);
  tcase_add_test (tc, test_refill_band_above_threshold);
  tcase_add_test (tc, test_refill_bolus_and_empty);
  tcase_add_test (tc, test_refill_new_fill);
  tcase_add_test (tc, test_refill_new_prescription);
  tcase_add_test (tc, test_refill_over_capacity);
  tcase_add_test (tc, test_refill_bad_input);
  suite_add_tcase (suite, tc);

  tc = tcase_create ("bolus-calc");
  tcase_add_test (tc, test_bolus_priming);
  tcase_add_test (tc, test_bolus_bridge);
  tcase_add_test (tc, test_bolus_bad_input);
  suite_add_tcase (suite, tc);

  tc = tcase_create ("oral-estimate");
  tcase_add_test (tc, test_oral_estimate);
  tcase_add_test (tc, test_oral_bad_input);
  suite_add_tcase (suite, tc);

  tc = tcase_create ("help-demo");
  tcase_add_test (tc, test_help);
  tcase_add_test (tc, test_version);
  tcase_add_test (tc, test_demo);
  tcase_add_test (tc, test_demo_calculators);
  suite_add_tcase (suite, tc);

  return suite;
}

THECAL_TEST_MAIN (cli_suite)
