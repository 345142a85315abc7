/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-oral.c: "thecal-cli oral-estimate --oral DOSE [--ratio N]".
 *
 * Oral : intrathecal morphine is classically 300:1 (Krames), but one patient was observed at
 * 12:1 and a commercial program used 90:1 (CLINICAL.md §3.3): the result is always labelled an
 * estimate for clinician judgement, shown with the whole spread, and never programmed.
 */
#include "config.h"

#include "thecal-cli-oral.h"

#include <glib/gi18n.h>
#include <string.h>

/* The published ratios of CLINICAL.md §3.3, from the most to the least potent assumption. */
static const int32_t spread_ratios[] = { 12, 90, 300 };

const char *
thecal_cli_oral_label (void)
{
  return _ ("estimate for clinician judgement — never programmed automatically");
}

gboolean
thecal_cli_oral_report (ThecalCliOutput *out, cJSON *json, int64_t oral_ng_per_day, int32_t ratio, GError **error)
{
  ThecalDoseError dose_error = { 0 };
  int64_t estimate_ng_per_day = 0;
  cJSON *spread;

  if (!thecal_oral_to_intrathecal_estimate (oral_ng_per_day, ratio, &estimate_ng_per_day, &dose_error))
    return thecal_cli_dose_error (&dose_error, NULL, error);

  /* The label comes first, before any number. */
  thecal_cli_print (out, _ ("ORAL → INTRATHECAL MORPHINE: an %s.\n"), thecal_cli_oral_label ());
  thecal_cli_print (out, _ ("Intrathecal morphine: %s (%s), from oral morphine %s at %d:1\n"),
                    thecal_cli_q (out, THECAL_QUANTITY_DOSE_RATE, estimate_ng_per_day),
                    thecal_cli_oral_label (),
                    thecal_cli_q (out, THECAL_QUANTITY_DOSE_RATE, oral_ng_per_day), (int) ratio);
  thecal_cli_json_string (json, "label", thecal_cli_oral_label ());
  thecal_cli_json_bool (json, "programmable", FALSE);
  thecal_cli_json_quantity (json, "oral_dose", THECAL_QUANTITY_DOSE_RATE, oral_ng_per_day);
  thecal_cli_json_int (json, "ratio", ratio);
  thecal_cli_json_quantity (json, "estimate", THECAL_QUANTITY_DOSE_RATE, estimate_ng_per_day);

  thecal_cli_print (out, _ ("Published oral:intrathecal ratios range from 12:1 to 300:1 (CLINICAL.md §3.3); the same oral dose gives:\n"));
  spread = thecal_cli_json_array (json, "spread");
  for (gsize i = 0; i < G_N_ELEMENTS (spread_ratios); i++)
    {
      int64_t value_ng_per_day = 0;
      cJSON *object;

      thecal_dose_error_clear (&dose_error);
      if (!thecal_oral_to_intrathecal_estimate (oral_ng_per_day, spread_ratios[i], &value_ng_per_day, &dose_error))
        return thecal_cli_dose_error (&dose_error, NULL, error);
      thecal_cli_print (out, "  %3d:1  %s\n", (int) spread_ratios[i],
                        thecal_cli_q (out, THECAL_QUANTITY_DOSE_RATE, value_ng_per_day));
      object = thecal_cli_json_append_object (spread);
      thecal_cli_json_int (object, "ratio", spread_ratios[i]);
      thecal_cli_json_quantity (object, "estimate", THECAL_QUANTITY_DOSE_RATE, value_ng_per_day);
    }
  thecal_cli_print (out, _ ("A 25-fold spread: the conversion is uncertain. Infumorph labeling gives intrathecal "
                            "doses of 0.2–1 mg/day for opioid-naive and 1–10 mg/day for opioid-tolerant patients "
                            "(CLINICAL.md §3.1). Start low, observe, and titrate.\n"));
  return TRUE;
}

static gboolean
parse_ratio (const char *text, int32_t *ratio, GError **error)
{
  g_autofree char *number = g_strstrip (g_strdup (text));
  guint64 value = 0;

  /* "300" or "300:1". */
  if (g_str_has_suffix (number, ":1"))
    number[strlen (number) - 2] = '\0';
  if (!g_ascii_string_to_unsigned (number, 10, 1, 1000, &value, NULL))
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("--ratio: “%s” is not a ratio from 1 to 1000 (e.g. 300 for 300:1)"), text);
      return FALSE;
    }
  *ratio = (int32_t) value;
  return TRUE;
}

gboolean
thecal_cli_oral_estimate (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_autofree char *oral_text = NULL;
  g_autofree char *ratio_text = NULL;
  int64_t oral_ng_per_day = 0;
  int32_t ratio = THECAL_ORAL_TO_IT_RATIO_DEFAULT;
  const GOptionEntry entries[] = {
    { "oral", 0, 0, G_OPTION_ARG_FILENAME, &oral_text,
      N_ ("Oral morphine per day"), N_ ("\"120 mg/day\"") },
    { "ratio", 0, 0, G_OPTION_ARG_FILENAME, &ratio_text,
      N_ ("Oral:intrathecal ratio N:1, 1 to 1000 (default 300)"), N_ ("N") },
    G_OPTION_ENTRY_NULL
  };

  if (!thecal_cli_parse_command_line (NULL,
                                      _ ("Intrathecal morphine starting-dose estimate from an oral dose."),
                                      _ ("intrathecal = oral ÷ ratio (default 300:1, Krames), rounded down. "
                                         "Always an estimate for clinician judgement, never programmed "
                                         "automatically: published ratios range from 12:1 to 300:1 "
                                         "(CLINICAL.md §3.3), and the whole spread is printed.\n\n"
                                         "Example:\n"
                                         "  thecal-cli oral-estimate --oral \"120 mg/day\""),
                                      entries, out, argc, argv, NULL, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (!thecal_cli_require ("oral", oral_text, "\"120 mg/day\"", error))
    return FALSE;
  if (!thecal_cli_parse_quantity ("oral", oral_text, THECAL_QUANTITY_DOSE_RATE, &oral_ng_per_day, error))
    return FALSE;
  if (ratio_text != NULL && !parse_ratio (ratio_text, &ratio, error))
    return FALSE;

  return thecal_cli_oral_report (out, out->json, oral_ng_per_day, ratio, error);
}
