/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-bolus.c: "thecal-cli bolus-calc priming" and "thecal-cli bolus-calc bridge".
 *
 * Dead space = the pump's internal volume + implanted catheter length × volume per cm
 * (CLINICAL.md §1.4, §2.1). A priming bolus pushes non-drug fluid out of it; a bridge bolus
 * pushes the old drug out at a rate that never exceeds the target dose rate.
 */
#include "config.h"

#include "thecal-cli-bolus.h"

#include <glib/gi18n.h>
#include <string.h>

/* Prometra labeling, CLINICAL.md §2.1: 0.0026 mL per cm of implanted catheter. */
#define DEFAULT_CATHETER_VOLUME_NL_PER_CM INT64_C (2600)

const char *
thecal_cli_priming_warning (void)
{
  return _ ("WARNING (pump labeling, CLINICAL.md §1.4): drug and non-drug fluid mix at the high flow rates of a "
            "priming bolus. The patient can receive drug before the priming bolus ends, and the drug "
            "concentration can be reduced for a while after it: risk of overdose, underdose or withdrawal. "
            "Give a priming bolus only under medical supervision.");
}

static const char *
phase_label (ThecalPhaseKind kind)
{
  switch (kind)
    {
    case THECAL_PHASE_PRIMING:
      return _ ("priming");
    case THECAL_PHASE_BRIDGE:
      return _ ("bridge");
    case THECAL_PHASE_PRESCRIPTION:
      return _ ("new prescription");
    default:
      return "?";
    }
}

static const char *
phase_name (ThecalPhaseKind kind)
{
  switch (kind)
    {
    case THECAL_PHASE_PRIMING:
      return "priming";
    case THECAL_PHASE_BRIDGE:
      return "bridge";
    case THECAL_PHASE_PRESCRIPTION:
      return "prescription";
    default:
      return "?";
    }
}

static void
report_bolus_plan (ThecalCliOutput *out,
                   cJSON *json,
                   const ThecalPumpModel *model,
                   const ThecalCatheter *catheter,
                   const ThecalBolusPlan *plan)
{
  cJSON *phases;

  thecal_cli_print (out, _ ("Dead space: %s = internal volume %s + catheter %s × %s/cm (%s)\n"),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, plan->dead_space_nl),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, model->internal_volume_nl),
                    thecal_cli_q (out, THECAL_QUANTITY_LENGTH, catheter->catheter_length_mm),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, catheter->catheter_volume_nl_per_cm),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, plan->catheter_volume_nl));
  thecal_cli_print (out, _ ("No phase delivers more than %s (the target dose rate).\n"),
                    thecal_cli_q (out, THECAL_QUANTITY_DOSE_RATE, plan->target_dose_rate_ng_per_day));
  thecal_cli_json_quantity (json, "dead_space", THECAL_QUANTITY_VOLUME, plan->dead_space_nl);
  thecal_cli_json_quantity (json, "internal_volume", THECAL_QUANTITY_VOLUME, model->internal_volume_nl);
  thecal_cli_json_quantity (json, "catheter_length", THECAL_QUANTITY_LENGTH, catheter->catheter_length_mm);
  thecal_cli_json_quantity (json, "catheter_volume_per_cm", THECAL_QUANTITY_VOLUME, catheter->catheter_volume_nl_per_cm);
  thecal_cli_json_quantity (json, "catheter_volume", THECAL_QUANTITY_VOLUME, plan->catheter_volume_nl);
  thecal_cli_json_quantity (json, "target_dose_rate", THECAL_QUANTITY_DOSE_RATE, plan->target_dose_rate_ng_per_day);
  thecal_cli_json_bool (json, "rate_capped", plan->rate_capped);

  phases = thecal_cli_json_array (json, "phases");
  for (int32_t i = 0; i < plan->n_phases; i++)
    {
      const ThecalBolusPhase *phase = &plan->phases[i];
      cJSON *object = thecal_cli_json_append_object (phases);

      if (phase->kind == THECAL_PHASE_PRESCRIPTION)
        thecal_cli_print (out, _ ("Phase %d, %s: %s at %s = %s, ongoing\n"), (int) i + 1, phase_label (phase->kind),
                          thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, phase->rate_nl_per_day),
                          thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, phase->concentration_ng_per_ml),
                          thecal_cli_q (out, THECAL_QUANTITY_DOSE_RATE, phase->dose_rate_ng_per_day));
      else if (phase->concentration_ng_per_ml == 0)
        thecal_cli_print (out, _ ("Phase %d, %s: %s at %s for %s; at the catheter tip: no drug (the fluid "
                                  "that filled the dead space)\n"),
                          (int) i + 1, phase_label (phase->kind),
                          thecal_cli_q (out, THECAL_QUANTITY_VOLUME, phase->volume_nl),
                          thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, phase->rate_nl_per_day),
                          thecal_cli_duration (out, phase->duration_ms));
      else
        thecal_cli_print (out, _ ("Phase %d, %s: %s at %s for %s; at the catheter tip %s; delivers %s at %s\n"),
                          (int) i + 1, phase_label (phase->kind),
                          thecal_cli_q (out, THECAL_QUANTITY_VOLUME, phase->volume_nl),
                          thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, phase->rate_nl_per_day),
                          thecal_cli_duration (out, phase->duration_ms),
                          thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, phase->concentration_ng_per_ml),
                          thecal_cli_q (out, THECAL_QUANTITY_AMOUNT, phase->dose_ng),
                          thecal_cli_q (out, THECAL_QUANTITY_DOSE_RATE, phase->dose_rate_ng_per_day));
      thecal_cli_json_string (object, "kind", phase_name (phase->kind));
      thecal_cli_json_quantity (object, "volume", THECAL_QUANTITY_VOLUME, phase->volume_nl);
      thecal_cli_json_quantity (object, "rate", THECAL_QUANTITY_VOLUME_RATE, phase->rate_nl_per_day);
      thecal_cli_json_quantity (object, "duration", THECAL_QUANTITY_DURATION, phase->duration_ms);
      thecal_cli_json_quantity (object, "concentration", THECAL_QUANTITY_CONCENTRATION, phase->concentration_ng_per_ml);
      thecal_cli_json_quantity (object, "dose", THECAL_QUANTITY_AMOUNT, phase->dose_ng);
      thecal_cli_json_quantity (object, "dose_rate", THECAL_QUANTITY_DOSE_RATE, phase->dose_rate_ng_per_day);
    }
  if (plan->rate_capped)
    thecal_cli_print (out, _ ("Note: the bridge rate is capped at %s's fastest bolus rate %s, so the bridge takes "
                              "longer than at the ideal rate.\n"),
                      model->id, thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, model->bolus_rate_max_nl_per_day));
}

gboolean
thecal_cli_priming_report (ThecalCliOutput *out,
                           cJSON *json,
                           const ThecalPumpModel *model,
                           gboolean model_is_default,
                           const ThecalDrugLibrary *library,
                           const ThecalCatheter *catheter,
                           const ThecalPrescription *rx,
                           const char *rx_label,
                           int64_t priming_rate_nl_per_day,
                           GError **error)
{
  g_autofree ThecalDeliveryPlan *plan = g_new0 (ThecalDeliveryPlan, 1);
  ThecalBolusPlan bolus = { 0 };
  ThecalDoseError dose_error = { 0 };

  if (!thecal_cli_resolve_plan (rx, model, rx_label, plan, error))
    return FALSE;
  if (!thecal_priming_bolus (model, catheter, plan, priming_rate_nl_per_day, &bolus, &dose_error))
    return thecal_cli_dose_error (&dose_error, NULL, error);

  thecal_cli_print (out, _ ("Priming bolus, then %s %s (prescription %s)\n"),
                    thecal_cli_drug_name (library, rx->drug_id),
                    thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, rx->concentration_ng_per_ml), rx_label);
  thecal_cli_json_string (json, "prescription_file", rx_label);
  thecal_cli_json_string (json, "drug_id", rx->drug_id);
  thecal_cli_json_string (json, "drug", thecal_cli_drug_name (library, rx->drug_id));
  thecal_cli_report_model (out, json, model, model_is_default);
  report_bolus_plan (out, json, model, catheter, &bolus);
  /* Always printed with a priming bolus (CLINICAL.md §1.4). */
  thecal_cli_print (out, "%s\n", thecal_cli_priming_warning ());
  thecal_cli_json_string (json, "warning", thecal_cli_priming_warning ());
  return TRUE;
}

gboolean
thecal_cli_bridge_report (ThecalCliOutput *out,
                          cJSON *json,
                          const ThecalPumpModel *model,
                          gboolean model_is_default,
                          const ThecalDrugLibrary *library,
                          const ThecalCatheter *catheter,
                          const ThecalPrescription *old_rx,
                          const char *old_label,
                          const ThecalPrescription *rx,
                          const char *rx_label,
                          GError **error)
{
  g_autofree ThecalDeliveryPlan *old_plan = g_new0 (ThecalDeliveryPlan, 1);
  g_autofree ThecalDeliveryPlan *plan = g_new0 (ThecalDeliveryPlan, 1);
  ThecalBolusPlan bolus = { 0 };
  ThecalDoseError dose_error = { 0 };

  if (!thecal_cli_resolve_plan (old_rx, model, old_label, old_plan, error))
    return FALSE;
  if (!thecal_cli_resolve_plan (rx, model, rx_label, plan, error))
    return FALSE;
  if (!thecal_bridge_bolus (model, catheter, old_plan, old_rx->drug_id, plan, rx->drug_id, &bolus, &dose_error))
    return thecal_cli_dose_error (&dose_error, NULL, error);

  thecal_cli_print (out, _ ("Bridge bolus from %s %s (%s) to %s %s (%s)\n"),
                    thecal_cli_drug_name (library, old_rx->drug_id),
                    thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, old_rx->concentration_ng_per_ml), old_label,
                    thecal_cli_drug_name (library, rx->drug_id),
                    thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, rx->concentration_ng_per_ml), rx_label);
  thecal_cli_json_string (json, "old_prescription_file", old_label);
  thecal_cli_json_string (json, "old_drug_id", old_rx->drug_id);
  thecal_cli_json_string (json, "prescription_file", rx_label);
  thecal_cli_json_string (json, "drug_id", rx->drug_id);
  thecal_cli_report_model (out, json, model, model_is_default);
  report_bolus_plan (out, json, model, catheter, &bolus);
  thecal_cli_print (out, _ ("The old drug in the dead space reaches the patient first; the new drug reaches the "
                            "catheter tip only when the bridge ends (CLINICAL.md §1.4).\n"));
  return TRUE;
}

/* What priming and bridge share: the catheter and data-file options, and what they load. */
typedef struct
{
  char *catheter_length;
  char *catheter_volume_per_cm;
  char *pump;
  char *models_path;
  char *library_path;
  ThecalPumpModelSet *models;
  ThecalDrugLibrary *library;
  ThecalCatheter catheter;
  const ThecalPumpModel *model;
} BolusCommon;

static void
bolus_common_clear (BolusCommon *common)
{
  g_free (common->catheter_length);
  g_free (common->catheter_volume_per_cm);
  g_free (common->pump);
  g_free (common->models_path);
  g_free (common->library_path);
  g_free (common->models);
  g_free (common->library);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (BolusCommon, bolus_common_clear)

/* The options priming and bridge share. */
#define N_COMMON_ENTRIES 5

/* Parses the command line of a calculator whose own @n_own options come first in @entries; the
 * shared ones are added after them (@entries has room for N_COMMON_ENTRIES more and the
 * terminating zero entry). As thecal_cli_parse_command_line: after --help, out->help_shown. */
static gboolean
bolus_parse_command_line (BolusCommon *common,
                          GOptionEntry *entries,
                          gsize n_own,
                          const char *summary,
                          const char *description,
                          ThecalCliOutput *out,
                          int argc,
                          char **argv,
                          GError **error)
{
  const GOptionEntry shared[N_COMMON_ENTRIES + 1] = {
    { "catheter-length", 0, 0, G_OPTION_ARG_FILENAME, &common->catheter_length,
      N_ ("Implanted catheter length (e.g. 110 cm − the trimmed length)"), N_ ("LENGTH") },
    { "catheter-volume-per-cm", 0, 0, G_OPTION_ARG_FILENAME, &common->catheter_volume_per_cm,
      N_ ("Catheter volume per cm (default 0.0026 mL, CLINICAL.md §2.1)"), N_ ("VOLUME") },
    THECAL_CLI_OPTION_PUMP (&common->pump),
    THECAL_CLI_OPTION_MODELS (&common->models_path),
    THECAL_CLI_OPTION_LIBRARY (&common->library_path),
    G_OPTION_ENTRY_NULL
  };

  memcpy (entries + n_own, shared, sizeof shared);
  return thecal_cli_parse_command_line (NULL, summary, description, entries, out, argc, argv, NULL, error);
}

/* Reads the catheter options and loads the models, the model and the library. */
static gboolean
bolus_common_load (BolusCommon *common, GError **error)
{
  int64_t length_mm = 0;
  int64_t per_cm_nl = DEFAULT_CATHETER_VOLUME_NL_PER_CM;

  if (!thecal_cli_require ("catheter-length", common->catheter_length, "\"45 cm\"", error))
    return FALSE;
  if (!thecal_cli_parse_quantity ("catheter-length", common->catheter_length, THECAL_QUANTITY_LENGTH,
                                  &length_mm, error))
    return FALSE;
  if (length_mm <= 0 || length_mm > G_MAXINT32)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("--catheter-length: “%s”: the implanted length must be more than 0 cm"),
                   common->catheter_length);
      return FALSE;
    }
  if (common->catheter_volume_per_cm != NULL)
    {
      /* "0.0026 mL" or "0.0026 mL/cm": the volume of one centimetre of catheter. */
      g_autofree char *text = g_strstrip (g_strdup (common->catheter_volume_per_cm));

      if (g_str_has_suffix (text, "/cm"))
        {
          text[strlen (text) - 3] = '\0';
          g_strstrip (text);
        }
      if (!thecal_cli_parse_quantity ("catheter-volume-per-cm", text, THECAL_QUANTITY_VOLUME, &per_cm_nl, error))
        return FALSE;
      if (per_cm_nl <= 0)
        {
          g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                       _ ("--catheter-volume-per-cm: “%s”: must be more than 0 mL"), common->catheter_volume_per_cm);
          return FALSE;
        }
    }
  common->catheter.catheter_length_mm = (int32_t) length_mm;
  common->catheter.catheter_volume_nl_per_cm = per_cm_nl;

  common->models = g_new0 (ThecalPumpModelSet, 1);
  common->library = g_new0 (ThecalDrugLibrary, 1);
  common->model = thecal_cli_load_model (common->models_path, common->pump, common->models, error);
  return common->model != NULL && thecal_cli_load_library (common->library_path, common->library, error);
}

static gboolean
priming (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (BolusCommon) common = { 0 };
  g_autofree char *rx_path = NULL;
  g_autofree char *rate_text = NULL;
  g_autofree ThecalPrescription *rx = g_new0 (ThecalPrescription, 1);
  int64_t priming_rate_nl_per_day = 0;
  /* Two of its own, the shared ones, and the terminating zero entry. */
  GOptionEntry entries[2 + N_COMMON_ENTRIES + 1] = {
    { "prescription", 0, 0, G_OPTION_ARG_FILENAME, &rx_path,
      N_ ("The prescription that starts after the priming bolus"), N_ ("FILE") },
    { "priming-rate", 0, 0, G_OPTION_ARG_FILENAME, &rate_text,
      N_ ("Priming rate (default and ceiling: the model's fastest bolus rate)"), N_ ("RATE") },
  };

  if (!bolus_parse_command_line (&common, entries, 2,
                                 _ ("Priming bolus after an implant or a catheter revision."),
                                 _ ("The dead space (the pump's internal volume + implanted catheter "
                                    "length × volume per cm) holds no drug: the priming bolus pushes it "
                                    "out at the priming rate, then the prescription starts. The label's "
                                    "warning about mixing at priming flow rates is always printed "
                                    "(CLINICAL.md §1.4).\n\n"
                                    "Example:\n"
                                    "  thecal-cli bolus-calc priming --prescription morphine.json "
                                    "--catheter-length \"45 cm\""),
                                 out, argc, argv, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (!thecal_cli_require ("prescription", rx_path, "morphine.json", error))
    return FALSE;
  if (rate_text != NULL)
    {
      if (!thecal_cli_parse_quantity ("priming-rate", rate_text, THECAL_QUANTITY_VOLUME_RATE,
                                      &priming_rate_nl_per_day, error))
        return FALSE;
      if (priming_rate_nl_per_day <= 0)
        {
          g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                       _ ("--priming-rate: “%s”: must be more than 0 mL/day"), rate_text);
          return FALSE;
        }
    }
  if (!bolus_common_load (&common, error) || !thecal_cli_load_prescription (rx_path, rx, error))
    return FALSE;

  return thecal_cli_priming_report (out, out->json, common.model, common.pump == NULL, common.library,
                                    &common.catheter, rx, rx_path, priming_rate_nl_per_day, error);
}

static gboolean
bridge (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (BolusCommon) common = { 0 };
  g_autofree char *old_path = NULL;
  g_autofree char *rx_path = NULL;
  g_autofree ThecalPrescription *old_rx = g_new0 (ThecalPrescription, 1);
  g_autofree ThecalPrescription *rx = g_new0 (ThecalPrescription, 1);
  GOptionEntry entries[2 + N_COMMON_ENTRIES + 1] = {
    { "old-prescription", 0, 0, G_OPTION_ARG_FILENAME, &old_path,
      N_ ("The prescription running now (its drug fills the dead space)"), N_ ("FILE") },
    { "prescription", 0, 0, G_OPTION_ARG_FILENAME, &rx_path,
      N_ ("The new prescription (new drug or concentration)"), N_ ("FILE") },
  };

  if (!bolus_parse_command_line (&common, entries, 2,
                                 _ ("Bridge bolus for a drug or concentration change."),
                                 _ ("The dead space still holds the old drug. The bridge pushes it out "
                                    "at the rate that delivers the old drug at the target dose rate "
                                    "(the lower of the old and new daily doses for the same drug, the "
                                    "old dose for another drug), rounded down so that no phase exceeds "
                                    "it; then the new prescription runs.\n\n"
                                    "Example:\n"
                                    "  thecal-cli bolus-calc bridge --old-prescription morphine-10.json "
                                    "--prescription morphine-25.json --catheter-length \"45 cm\""),
                                 out, argc, argv, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (!thecal_cli_require ("old-prescription", old_path, "morphine-10.json", error)
      || !thecal_cli_require ("prescription", rx_path, "morphine-25.json", error))
    return FALSE;
  if (!bolus_common_load (&common, error) || !thecal_cli_load_prescription (old_path, old_rx, error)
      || !thecal_cli_load_prescription (rx_path, rx, error))
    return FALSE;

  return thecal_cli_bridge_report (out, out->json, common.model, common.pump == NULL, common.library,
                                   &common.catheter, old_rx, old_path, rx, rx_path, error);
}

static const ThecalCliSubcommand bolus_calculators[] = {
  { "priming", N_ ("after an implant or a catheter revision (--prescription FILE --catheter-length LENGTH)"), priming },
  { "bridge", N_ ("for a drug or concentration change (--old-prescription FILE --prescription FILE "
                  "--catheter-length LENGTH)"),
    bridge },
};

gboolean
thecal_cli_bolus_calc (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  return thecal_cli_dispatch ("bolus-calc",
                              _ ("Priming and bridge boluses through the dead space (the pump's internal volume + "
                                 "implanted catheter length × volume per cm): the phases with volume, rate, duration, "
                                 "concentration and dose."),
                              NULL, bolus_calculators, G_N_ELEMENTS (bolus_calculators), out, argc, argv, error);
}
