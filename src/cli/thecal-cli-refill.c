/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-refill.c: "thecal-cli refill-calc": the refill maths of CLINICAL.md §1.5–1.6.
 *
 *   expected residual = fill − programmed delivery since − logged boluses
 *   discrepancy       = expected − aspirated, flagged above max (accuracy band, model threshold)
 *
 * The CLI only calculates: a flagged discrepancy prints a warning and exits 0; only a fill above
 * the reservoir's capacity is refused (exit 1).
 */
#include "config.h"

#include "thecal-cli-refill.h"

#include <glib/gi18n.h>
#include <string.h>

static const char *
kind_name (ThecalDiscrepancyKind kind)
{
  switch (kind)
    {
    case THECAL_DISCREPANCY_NONE:
      return "none";
    case THECAL_DISCREPANCY_LESS_BACK:
      return "less_back";
    case THECAL_DISCREPANCY_MORE_BACK:
      return "more_back";
    default:
      return "?";
    }
}

static const char *
kind_meaning (ThecalDiscrepancyKind kind)
{
  switch (kind)
    {
    case THECAL_DISCREPANCY_NONE:
      return _ ("within the threshold: the residual agrees with the programmed delivery");
    case THECAL_DISCREPANCY_LESS_BACK:
      return _ ("less came back than expected: possible over-infusion, an earlier pocket fill, or "
                "incomplete aspiration (CLINICAL.md §1.5–1.6)");
    case THECAL_DISCREPANCY_MORE_BACK:
      return _ ("more came back than expected: possible under-infusion, motor stall or catheter "
                "occlusion (CLINICAL.md §1.5)");
    default:
      return "?";
    }
}

static void
report_projection (ThecalCliOutput *out,
                   cJSON *json,
                   const ThecalPumpModel *model,
                   const ThecalDrug *drug,
                   const char *drug_name,
                   const ThecalProjection *projection)
{
  thecal_cli_print (out, _ ("  Low-reservoir alarm (%s), programmed delivery: %s\n"),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, model->low_reservoir_alarm_nl),
                    thecal_cli_instant (out, projection->low_alarm_local_ms));
  thecal_cli_print (out, _ ("  Low-reservoir alarm, worst-case PTM: %s\n"),
                    thecal_cli_instant (out, projection->low_alarm_worst_local_ms));
  thecal_cli_print (out, _ ("  Empty (%s), programmed delivery: %s\n"),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, model->empty_nl),
                    thecal_cli_instant (out, projection->empty_local_ms));
  thecal_cli_print (out, _ ("  Empty, worst-case PTM: %s\n"),
                    thecal_cli_instant (out, projection->empty_worst_local_ms));
  thecal_cli_print (out, _ ("  Refill threshold (%s), worst-case PTM: %s\n"),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, model->refill_threshold_nl),
                    thecal_cli_instant (out, projection->refill_threshold_worst_local_ms));
  if (drug != NULL && drug->stability_days > 0)
    thecal_cli_print (out, _ ("  Stability limit (%s, %d days in the reservoir): %s\n"), drug_name,
                      (int) drug->stability_days, thecal_cli_instant (out, projection->stability_limit_local_ms));
  else
    thecal_cli_print (out, _ ("  Stability limit: none stated for %s in the drug library\n"), drug_name);
  thecal_cli_print (out, _ ("  Recommended refill by: %s\n"), thecal_cli_instant (out, projection->refill_by_local_ms));
  thecal_cli_print (out, _ ("  The low-reservoir alarm is computed from the programmed delivery: it does not sound "
                            "early if the pump over-infuses (CLINICAL.md §1.5). Do not rely on it alone.\n"));

  thecal_cli_json_instant (json, "low_alarm", projection->low_alarm_local_ms);
  thecal_cli_json_instant (json, "low_alarm_worst", projection->low_alarm_worst_local_ms);
  thecal_cli_json_instant (json, "empty", projection->empty_local_ms);
  thecal_cli_json_instant (json, "empty_worst", projection->empty_worst_local_ms);
  thecal_cli_json_instant (json, "refill_threshold_worst", projection->refill_threshold_worst_local_ms);
  thecal_cli_json_instant (json, "stability_limit", projection->stability_limit_local_ms);
  thecal_cli_json_instant (json, "refill_by", projection->refill_by_local_ms);
}

gboolean
thecal_cli_refill_report (ThecalCliOutput *out,
                          cJSON *json,
                          const ThecalPumpModel *model,
                          gboolean model_is_default,
                          const ThecalDrugLibrary *library,
                          const ThecalCliRefillInput *input,
                          gboolean *fill_refused,
                          GError **error)
{
  g_autofree ThecalDeliveryPlan *plan = g_new0 (ThecalDeliveryPlan, 1);
  ThecalPlanInterval interval;
  ThecalRefillHistory history = { 0 };
  ThecalRefillCheck check = { 0 };
  ThecalDoseError dose_error = { 0 };
  cJSON *boluses;
  cJSON *new_fill;
  int64_t new_volume_nl = 0;

  *fill_refused = FALSE;
  if (!thecal_cli_resolve_plan (input->rx, model, input->rx_label, plan, error))
    return FALSE;

  interval.plan = plan;
  interval.from_local_ms = input->filled_at_local_ms;
  interval.to_local_ms = input->at_local_ms;
  history.fill_volume_nl = input->fill_volume_nl;
  history.fill_local_ms = input->filled_at_local_ms;
  history.now_local_ms = input->at_local_ms;
  history.intervals = &interval;
  history.n_intervals = 1;
  history.boluses = input->boluses;
  history.n_boluses = input->n_boluses;
  if (!thecal_refill_check (model, &history, input->aspirated_nl, &check, &dose_error))
    return thecal_cli_dose_error (&dose_error, NULL, error);

  thecal_cli_print (out, _ ("Drug: %s %s (prescription %s)\n"),
                    thecal_cli_drug_name (library, input->rx->drug_id),
                    thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, input->rx->concentration_ng_per_ml),
                    input->rx_label);
  thecal_cli_report_model (out, json, model, model_is_default);
  thecal_cli_print (out, _ ("Last fill: %s at %s\n"),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, input->fill_volume_nl),
                    thecal_cli_instant (out, input->filled_at_local_ms));
  thecal_cli_print (out, _ ("Now: %s (%s after the fill)\n"),
                    thecal_cli_instant (out, input->at_local_ms),
                    thecal_cli_duration (out, input->at_local_ms - input->filled_at_local_ms));
  thecal_cli_json_string (json, "prescription_file", input->rx_label);
  thecal_cli_json_string (json, "drug_id", input->rx->drug_id);
  thecal_cli_json_string (json, "drug", thecal_cli_drug_name (library, input->rx->drug_id));
  thecal_cli_json_quantity (json, "fill_volume", THECAL_QUANTITY_VOLUME, input->fill_volume_nl);
  thecal_cli_json_instant (json, "filled_at", input->filled_at_local_ms);
  thecal_cli_json_instant (json, "at", input->at_local_ms);

  boluses = thecal_cli_json_array (json, "boluses");
  for (int32_t i = 0; i < input->n_boluses; i++)
    {
      cJSON *object = thecal_cli_json_append_object (boluses);

      thecal_cli_print (out, _ ("Logged bolus: %s at %s\n"),
                        thecal_cli_q (out, THECAL_QUANTITY_VOLUME, input->boluses[i].volume_nl),
                        thecal_cli_instant (out, input->boluses[i].at_local_ms));
      thecal_cli_json_quantity (object, "volume", THECAL_QUANTITY_VOLUME, input->boluses[i].volume_nl);
      thecal_cli_json_instant (object, "at", input->boluses[i].at_local_ms);
    }

  thecal_cli_print (out, _ ("Delivered since the fill (programmed delivery and logged boluses): %s\n"),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, check.delivered_nl));
  thecal_cli_print (out, _ ("Expected residual: %s\n"),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, check.expected_residual_nl));
  if (check.expected_empty)
    thecal_cli_print (out, _ ("WARNING: the programmed delivery used up the fill at %s: the reservoir is expected to "
                              "be empty, and the patient may have been without drug since (withdrawal risk).\n"),
                      thecal_cli_instant (out, check.expected_empty_local_ms));
  thecal_cli_print (out, _ ("Aspirated: %s\n"), thecal_cli_q (out, THECAL_QUANTITY_VOLUME, check.aspirated_nl));
  thecal_cli_print (out, _ ("Discrepancy (expected − aspirated): %s\n"),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, check.discrepancy_nl));
  thecal_cli_print (out, _ ("Threshold: %s, the larger of the accuracy band %s (±%s of the volume delivered) "
                            "and the %s threshold %s (CLINICAL.md §1.6)\n"),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, check.threshold_nl),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, check.band_nl),
                    thecal_cli_q (out, THECAL_QUANTITY_RATIO, model->accuracy_bp),
                    model->id,
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, model->discrepancy_threshold_nl));
  thecal_cli_print (out, _ ("Flag: %s\n"), check.flagged ? kind_meaning (check.kind) : kind_meaning (THECAL_DISCREPANCY_NONE));
  if (check.flagged)
    thecal_cli_print (out, _ ("WARNING: the discrepancy of %s is beyond the threshold of %s: it needs "
                              "acknowledgement before the refill goes ahead.\n"),
                      thecal_cli_q (out, THECAL_QUANTITY_VOLUME, check.discrepancy_nl),
                      thecal_cli_q (out, THECAL_QUANTITY_VOLUME, check.threshold_nl));
  if (check.empty_refill)
    thecal_cli_print (out, _ ("WARNING: empty refill: nothing was aspirated, so no residual confirms that the needle "
                              "is in the reservoir: higher pocket-fill risk (CLINICAL.md §1.6). Confirm needle "
                              "placement before injecting.\n"));

  thecal_cli_json_quantity (json, "delivered", THECAL_QUANTITY_VOLUME, check.delivered_nl);
  thecal_cli_json_quantity (json, "expected_residual", THECAL_QUANTITY_VOLUME, check.expected_residual_nl);
  thecal_cli_json_bool (json, "expected_empty", check.expected_empty);
  thecal_cli_json_instant (json, "expected_empty_at", check.expected_empty ? check.expected_empty_local_ms : INT64_MAX);
  thecal_cli_json_quantity (json, "aspirated", THECAL_QUANTITY_VOLUME, check.aspirated_nl);
  thecal_cli_json_quantity (json, "discrepancy", THECAL_QUANTITY_VOLUME, check.discrepancy_nl);
  thecal_cli_json_quantity (json, "band", THECAL_QUANTITY_VOLUME, check.band_nl);
  thecal_cli_json_quantity (json, "threshold", THECAL_QUANTITY_VOLUME, check.threshold_nl);
  thecal_cli_json_quantity (json, "accuracy", THECAL_QUANTITY_RATIO, model->accuracy_bp);
  thecal_cli_json_string (json, "kind", kind_name (check.kind));
  thecal_cli_json_bool (json, "flagged", check.flagged);
  thecal_cli_json_bool (json, "needs_acknowledgement", check.flagged);
  thecal_cli_json_string (json, "meaning", check.flagged ? kind_meaning (check.kind) : kind_meaning (THECAL_DISCREPANCY_NONE));
  thecal_cli_json_bool (json, "empty_refill", check.empty_refill);

  if (!input->have_added)
    {
      cJSON_AddItemToObject (json, "new_fill", cJSON_CreateNull ());
      return TRUE;
    }

  new_fill = thecal_cli_json_object (json, "new_fill");
  thecal_cli_json_quantity (new_fill, "added", THECAL_QUANTITY_VOLUME, input->added_nl);
  thecal_cli_json_quantity (new_fill, "capacity", THECAL_QUANTITY_VOLUME, model->reservoir_capacity_nl);
  thecal_cli_print (out, "\n");
  thecal_dose_error_clear (&dose_error);
  if (!thecal_refill_new_volume (model, input->added_nl, &new_volume_nl, &dose_error))
    {
      *fill_refused = TRUE;
      thecal_cli_print (out, _ ("New fill: REFUSED: %s\n"), dose_error.message);
      thecal_cli_json_bool (new_fill, "refused", TRUE);
      thecal_cli_json_string (new_fill, "message", dose_error.message);
      thecal_cli_refuse (out, _ ("refill-calc: fill refused: %s"), dose_error.message);
      return TRUE;
    }
  thecal_cli_json_bool (new_fill, "refused", FALSE);
  thecal_cli_json_quantity (new_fill, "new_volume", THECAL_QUANTITY_VOLUME, new_volume_nl);
  thecal_cli_print (out, _ ("New fill: %s added to the emptied reservoir (capacity %s): %s in the reservoir\n"),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, input->added_nl),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, model->reservoir_capacity_nl),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, new_volume_nl));

  {
    const ThecalPrescription *next_rx = input->new_rx != NULL ? input->new_rx : input->rx;
    const char *next_label = input->new_rx != NULL ? input->new_rx_label : input->rx_label;
    const ThecalDrug *drug = thecal_drug_library_find (library, next_rx->drug_id);
    const char *drug_name = thecal_cli_drug_name (library, next_rx->drug_id);
    g_autofree ThecalDeliveryPlan *next_plan = g_new0 (ThecalDeliveryPlan, 1);
    ThecalProjection projection = { 0 };

    if (!thecal_cli_resolve_plan (next_rx, model, next_label, next_plan, error))
      return FALSE;
    thecal_dose_error_clear (&dose_error);
    if (!thecal_project_reservoir (model, next_plan, new_volume_nl, input->at_local_ms,
                                   drug != NULL ? drug->stability_days : 0, &projection, &dose_error))
      return thecal_cli_dose_error (&dose_error, next_label, error);

    if (input->new_rx != NULL)
      thecal_cli_print (out, _ ("Projection from %s under the new prescription %s (%s %s):\n"),
                        thecal_cli_instant (out, input->at_local_ms), next_label, drug_name,
                        thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, next_rx->concentration_ng_per_ml));
    else
      thecal_cli_print (out, _ ("Projection from %s under the same prescription (%s %s):\n"),
                        thecal_cli_instant (out, input->at_local_ms), drug_name,
                        thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, next_rx->concentration_ng_per_ml));
    thecal_cli_json_string (new_fill, "prescription_file", next_label);
    thecal_cli_json_string (new_fill, "drug_id", next_rx->drug_id);
    report_projection (out, thecal_cli_json_object (new_fill, "projection"), model, drug, drug_name, &projection);
  }
  return TRUE;
}

/* "0.5 mL@2026-11-10T08:00" → a logged bolus. */
static gboolean
parse_bolus (const char *text, ThecalLoggedBolus *bolus, GError **error)
{
  const char *at = strrchr (text, '@');
  g_autofree char *volume_text = NULL;
  g_autofree char *time_text = NULL;

  if (at == NULL)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("--bolus: “%s” is not VOLUME@DATETIME, e.g. --bolus \"0.5 mL@2026-11-10T08:00\""), text);
      return FALSE;
    }
  volume_text = g_strstrip (g_strndup (text, (gsize) (at - text)));
  time_text = g_strstrip (g_strdup (at + 1));
  if (!thecal_cli_parse_quantity ("bolus", volume_text, THECAL_QUANTITY_VOLUME, &bolus->volume_nl, error))
    return FALSE;
  return thecal_cli_parse_instant ("bolus", time_text, &bolus->at_local_ms, error);
}

gboolean
thecal_cli_refill_calc (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_autofree char *rx_path = NULL;
  g_autofree char *new_rx_path = NULL;
  g_autofree char *fill_text = NULL;
  g_autofree char *filled_at_text = NULL;
  g_autofree char *at_text = NULL;
  g_autofree char *aspirated_text = NULL;
  g_autofree char *added_text = NULL;
  g_autofree char *pump = NULL;
  g_autofree char *library_path = NULL;
  g_autofree char *models_path = NULL;
  g_auto (GStrv) bolus_texts = NULL;
  g_autoptr (GArray) boluses = g_array_new (FALSE, TRUE, sizeof (ThecalLoggedBolus));
  g_autofree ThecalPumpModelSet *models = g_new0 (ThecalPumpModelSet, 1);
  g_autofree ThecalDrugLibrary *library = g_new0 (ThecalDrugLibrary, 1);
  g_autofree ThecalPrescription *rx = g_new0 (ThecalPrescription, 1);
  g_autofree ThecalPrescription *new_rx = NULL;
  const ThecalPumpModel *model;
  ThecalCliRefillInput input = { 0 };
  gboolean fill_refused = FALSE;
  const GOptionEntry entries[] = {
    { "prescription", 0, 0, G_OPTION_ARG_FILENAME, &rx_path,
      N_ ("The prescription that ran since the last fill"), N_ ("FILE") },
    { "fill", 0, 0, G_OPTION_ARG_FILENAME, &fill_text,
      N_ ("Reservoir volume right after the last fill"), N_ ("VOLUME") },
    { "filled-at", 0, 0, G_OPTION_ARG_FILENAME, &filled_at_text,
      N_ ("When the last fill was done (pump-local time)"), N_ ("DATETIME") },
    { "at", 0, 0, G_OPTION_ARG_FILENAME, &at_text,
      N_ ("Now: when the residual was aspirated (pump-local time)"), N_ ("DATETIME") },
    { "aspirated", 0, 0, G_OPTION_ARG_FILENAME, &aspirated_text,
      N_ ("Volume aspirated from the reservoir"), N_ ("VOLUME") },
    { "bolus", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &bolus_texts,
      N_ ("A logged bolus since the fill (clinician, PTM, priming, bridge); repeat for each"),
      N_ ("VOLUME@DATETIME") },
    { "added", 0, 0, G_OPTION_ARG_FILENAME, &added_text,
      N_ ("Volume added to the emptied reservoir: prints the new volume and the projection"), N_ ("VOLUME") },
    { "new-prescription", 0, 0, G_OPTION_ARG_FILENAME, &new_rx_path,
      N_ ("The prescription for the new fill (default: the same one)"), N_ ("FILE") },
    THECAL_CLI_OPTION_PUMP (&pump),
    THECAL_CLI_OPTION_LIBRARY (&library_path),
    THECAL_CLI_OPTION_MODELS (&models_path),
    G_OPTION_ENTRY_NULL
  };

  if (!thecal_cli_parse_command_line (NULL,
                                      _ ("Expected residual, discrepancy and projection for a refill."),
                                      _ ("Expected residual = the last fill − the programmed delivery since − "
                                         "logged boluses. Discrepancy = expected − aspirated; it is flagged "
                                         "when it is beyond the larger of the pump's accuracy band and the "
                                         "model's threshold (1 mL for a 20 mL pump, 2 mL for a 40 mL pump; "
                                         "CLINICAL.md §1.5–1.6). Less back than expected: possible "
                                         "over-infusion, an earlier pocket fill or incomplete aspiration; more: "
                                         "possible under-infusion, motor stall or occlusion. A flagged "
                                         "discrepancy prints a warning that needs acknowledgement; the exit "
                                         "status stays 0 (this command only calculates).\n\n"
                                         "With --added, the new volume (refused above the reservoir's capacity: "
                                         "exit status 1) and the projection for the new fill: low-reservoir "
                                         "alarm, empty date (each without PTM and with worst-case PTM), "
                                         "stability limit and the recommended refill-by date.\n\n"
                                         "Dates and times are the pump's local time, written "
                                         "2026-11-01T09:00 or 2026-11-01T09:00:30.\n\n"
                                         "Example:\n"
                                         "  thecal-cli refill-calc --prescription morphine.json --fill \"20 mL\" \\\n"
                                         "    --filled-at 2026-11-01T09:00 --at 2026-12-01T09:00 --aspirated \"14 mL\" \\\n"
                                         "    --added \"20 mL\""),
                                      entries, out, argc, argv, NULL, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (!thecal_cli_require ("prescription", rx_path, "morphine.json", error)
      || !thecal_cli_require ("fill", fill_text, "\"20 mL\"", error)
      || !thecal_cli_require ("filled-at", filled_at_text, "2026-11-01T09:00", error)
      || !thecal_cli_require ("at", at_text, "2026-12-01T09:00", error)
      || !thecal_cli_require ("aspirated", aspirated_text, "\"14 mL\"", error))
    return FALSE;
  if (new_rx_path != NULL && added_text == NULL)
    {
      g_set_error_literal (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                           _ ("--new-prescription needs --added: the projection is for the new fill"));
      return FALSE;
    }

  if (!thecal_cli_parse_quantity ("fill", fill_text, THECAL_QUANTITY_VOLUME, &input.fill_volume_nl, error)
      || !thecal_cli_parse_instant ("filled-at", filled_at_text, &input.filled_at_local_ms, error)
      || !thecal_cli_parse_instant ("at", at_text, &input.at_local_ms, error)
      || !thecal_cli_parse_quantity ("aspirated", aspirated_text, THECAL_QUANTITY_VOLUME, &input.aspirated_nl, error))
    return FALSE;
  if (input.at_local_ms < input.filled_at_local_ms)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("--at: %s is before --filled-at %s"), at_text, filled_at_text);
      return FALSE;
    }
  for (gsize i = 0; bolus_texts != NULL && bolus_texts[i] != NULL; i++)
    {
      ThecalLoggedBolus bolus = { 0 };

      if (!parse_bolus (bolus_texts[i], &bolus, error))
        return FALSE;
      g_array_append_val (boluses, bolus);
    }
  if (boluses->len > G_MAXINT32)
    {
      g_set_error_literal (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("--bolus: too many boluses"));
      return FALSE;
    }
  if (added_text != NULL)
    {
      if (!thecal_cli_parse_quantity ("added", added_text, THECAL_QUANTITY_VOLUME, &input.added_nl, error))
        return FALSE;
      if (input.added_nl <= 0)
        {
          g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                       _ ("--added: “%s”: the added volume must be more than 0 mL"), added_text);
          return FALSE;
        }
      input.have_added = TRUE;
    }

  model = thecal_cli_load_model (models_path, pump, models, error);
  if (model == NULL || !thecal_cli_load_library (library_path, library, error)
      || !thecal_cli_load_prescription (rx_path, rx, error)
      || !thecal_cli_load_optional_prescription (new_rx_path, &new_rx, error))
    return FALSE;

  input.rx = rx;
  input.rx_label = rx_path;
  input.boluses = (const ThecalLoggedBolus *) (void *) boluses->data;
  input.n_boluses = (int32_t) boluses->len;
  input.new_rx = new_rx;
  input.new_rx_label = new_rx_path;

  return thecal_cli_refill_report (out, out->json, model, pump == NULL, library, &input, &fill_refused, error);
}
