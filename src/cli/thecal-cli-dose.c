/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-dose.c: "thecal-cli dose --concentration C (--dose D | --rate R) [--pump MODEL]".
 *
 * The rate a pump delivers is rounded to its resolution (docs/dosing.md), so the dose that
 * reaches the patient is the dose of the rounded rate: that is the figure shown and checked.
 */
#include "config.h"

#include "thecal-cli-dose.h"

#include <glib/gi18n.h>

gboolean
thecal_cli_dose_report (ThecalCliOutput *out,
                        cJSON *json,
                        const ThecalPumpModel *model,
                        gboolean model_is_default,
                        int64_t concentration_ng_per_ml,
                        gboolean from_dose,
                        int64_t value,
                        gboolean *in_range,
                        GError **error)
{
  ThecalDoseError dose_error = { 0 };
  int64_t rate_nl_per_day = 0;
  int64_t dose_ng_per_day = 0;

  if (from_dose)
    {
      if (!thecal_rate_for_dose (model, concentration_ng_per_ml, value, &rate_nl_per_day,
                                 &dose_ng_per_day, &dose_error))
        return thecal_cli_dose_error (&dose_error, NULL, error);

      /* The first line carries the answer: the rate to program. */
      thecal_cli_print (out, _ ("Rate: %s\n"), thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, rate_nl_per_day));
      if (dose_ng_per_day == value)
        thecal_cli_print (out, _ ("Delivered dose after rounding: %s\n"),
                          thecal_cli_q (out, THECAL_QUANTITY_DOSE_RATE, dose_ng_per_day));
      else
        thecal_cli_print (out, _ ("Delivered dose after rounding: %s (asked for %s; the pump rounds the rate to %s)\n"),
                          thecal_cli_q (out, THECAL_QUANTITY_DOSE_RATE, dose_ng_per_day),
                          thecal_cli_q (out, THECAL_QUANTITY_DOSE_RATE, value),
                          thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, model->rate_resolution_nl_per_day));
      thecal_cli_json_quantity (json, "requested_dose", THECAL_QUANTITY_DOSE_RATE, value);
    }
  else
    {
      if (!thecal_dose_for_rate (model, concentration_ng_per_ml, value, &rate_nl_per_day,
                                 &dose_ng_per_day, &dose_error))
        return thecal_cli_dose_error (&dose_error, NULL, error);

      thecal_cli_print (out, _ ("Dose: %s\n"), thecal_cli_q (out, THECAL_QUANTITY_DOSE_RATE, dose_ng_per_day));
      if (rate_nl_per_day == value)
        thecal_cli_print (out, _ ("Rate: %s\n"), thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, rate_nl_per_day));
      else
        thecal_cli_print (out, _ ("Rate after rounding: %s (asked for %s; the pump rounds the rate to %s)\n"),
                          thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, rate_nl_per_day),
                          thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, value),
                          thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, model->rate_resolution_nl_per_day));
      thecal_cli_json_quantity (json, "requested_rate", THECAL_QUANTITY_VOLUME_RATE, value);
    }

  thecal_cli_print (out, _ ("Concentration: %s\n"),
                    thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, concentration_ng_per_ml));
  thecal_cli_report_model (out, json, model, model_is_default);
  thecal_cli_json_quantity (json, "concentration", THECAL_QUANTITY_CONCENTRATION, concentration_ng_per_ml);
  thecal_cli_json_quantity (json, "rate", THECAL_QUANTITY_VOLUME_RATE, rate_nl_per_day);
  thecal_cli_json_quantity (json, "delivered_dose", THECAL_QUANTITY_DOSE_RATE, dose_ng_per_day);

  /* The model's programmable range: a rate outside it cannot be programmed (CLINICAL.md §1.3). */
  *in_range = rate_nl_per_day >= model->rate_min_nl_per_day && rate_nl_per_day <= model->rate_max_nl_per_day;
  thecal_cli_json_bool (json, "in_range", *in_range);
  thecal_cli_json_quantity (json, "rate_min", THECAL_QUANTITY_VOLUME_RATE, model->rate_min_nl_per_day);
  thecal_cli_json_quantity (json, "rate_max", THECAL_QUANTITY_VOLUME_RATE, model->rate_max_nl_per_day);
  if (rate_nl_per_day < model->rate_min_nl_per_day)
    thecal_cli_print (out, _ ("REFUSED: %s is below the lowest programmable rate of %s, %s: the pump cannot deliver it.\n"),
                      thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, rate_nl_per_day), model->id,
                      thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, model->rate_min_nl_per_day));
  else if (rate_nl_per_day > model->rate_max_nl_per_day)
    thecal_cli_print (out, _ ("REFUSED: %s is above the highest programmable rate of %s, %s: the pump cannot deliver it.\n"),
                      thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, rate_nl_per_day), model->id,
                      thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, model->rate_max_nl_per_day));
  return TRUE;
}

gboolean
thecal_cli_dose (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_autofree char *concentration_text = NULL;
  g_autofree char *dose_text = NULL;
  g_autofree char *rate_text = NULL;
  g_autofree char *pump = NULL;
  g_autofree char *models_path = NULL;
  g_autofree ThecalPumpModelSet *models = g_new0 (ThecalPumpModelSet, 1);
  const ThecalPumpModel *model;
  int64_t concentration_ng_per_ml = 0;
  int64_t value = 0;
  gboolean in_range = FALSE;
  /* Option text is read as bytes (G_OPTION_ARG_FILENAME): "µg" must not depend on the locale. */
  const GOptionEntry entries[] = {
    { "concentration", 'c', 0, G_OPTION_ARG_FILENAME, &concentration_text,
      N_ ("Drug concentration in the reservoir"), N_ ("\"25 mg/mL\"") },
    { "dose", 'd', 0, G_OPTION_ARG_FILENAME, &dose_text,
      N_ ("Daily dose: prints the rate"), N_ ("\"5 mg/day\"") },
    { "rate", 'r', 0, G_OPTION_ARG_FILENAME, &rate_text,
      N_ ("Volume rate: prints the dose"), N_ ("\"0.2 mL/day\"") },
    THECAL_CLI_OPTION_PUMP (&pump),
    THECAL_CLI_OPTION_MODELS (&models_path),
    G_OPTION_ENTRY_NULL
  };

  if (!thecal_cli_parse_command_line (NULL,
                                      _ ("The rate a pump delivers for a daily dose at a concentration, "
                                         "or the dose of a rate."),
                                      _ ("Give exactly one of --dose and --rate. The rate is rounded to the "
                                         "pump model's resolution (nearest step, exact halves down); the "
                                         "dose shown is the dose of the rounded rate, what the pump will "
                                         "really deliver. Quantities are written as \"25 mg/mL\", "
                                         "\"5 mg/day\", \"500 mcg/day\", \"0.2 mL/day\" whatever the "
                                         "locale. A rate outside the model's programmable range exits "
                                         "with status 1.\n\n"
                                         "Example:\n"
                                         "  thecal-cli dose --concentration \"25 mg/mL\" --dose \"5 mg/day\""),
                                      entries, out, argc, argv, NULL, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (!thecal_cli_require ("concentration", concentration_text, "\"25 mg/mL\"", error))
    return FALSE;
  if ((dose_text == NULL) == (rate_text == NULL))
    {
      g_set_error_literal (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                           dose_text == NULL
                               ? _ ("dose: give one of --dose (e.g. --dose \"5 mg/day\") and --rate (e.g. --rate \"0.2 mL/day\")")
                               : _ ("dose: give --dose or --rate, not both"));
      return FALSE;
    }
  if (!thecal_cli_parse_quantity ("concentration", concentration_text, THECAL_QUANTITY_CONCENTRATION,
                                  &concentration_ng_per_ml, error))
    return FALSE;
  if (dose_text != NULL
      && !thecal_cli_parse_quantity ("dose", dose_text, THECAL_QUANTITY_DOSE_RATE, &value, error))
    return FALSE;
  if (rate_text != NULL
      && !thecal_cli_parse_quantity ("rate", rate_text, THECAL_QUANTITY_VOLUME_RATE, &value, error))
    return FALSE;

  model = thecal_cli_load_model (models_path, pump, models, error);
  if (model == NULL)
    return FALSE;

  if (!thecal_cli_dose_report (out, out->json, model, pump == NULL, concentration_ng_per_ml,
                               dose_text != NULL, value, &in_range, error))
    return FALSE;
  if (!in_range)
    thecal_cli_refuse (out, _ ("dose: the rate is outside the programmable range of %s"), model->id);
  return TRUE;
}
