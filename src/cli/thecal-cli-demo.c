/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-demo.c: "thecal-cli demo": what Thecal can do so far, on worked examples.
 *
 * Uses the shipped drug library and pump models (or --library / --models) and the same report
 * functions as the commands, so the demo shows exactly what the commands print. It only
 * calculates: refusals it shows are part of the demonstration, and it exits 0.
 */
#include "config.h"

#include "thecal-cli-demo.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

#include "thecal-cli-bolus.h"
#include "thecal-cli-check.h"
#include "thecal-cli-dose.h"
#include "thecal-cli-oral.h"
#include "thecal-cli-refill.h"
#include "thecal-dose-json.h"

#define MG(x) ((int64_t) (x) *THECAL_NG_PER_MG)
#define MCG(x) ((int64_t) (x) *THECAL_NG_PER_MCG)
#define ML(x) ((int64_t) (x) *THECAL_NL_PER_ML)

static void
prescription_new (ThecalPrescription *rx, const char *drug_id, int64_t concentration_ng_per_ml)
{
  memset (rx, 0, sizeof *rx);
  thecal_prescription_init (rx);
  g_strlcpy (rx->drug_id, drug_id, sizeof rx->drug_id);
  rx->concentration_ng_per_ml = concentration_ng_per_ml;
}

static void
continuous_dose (ThecalPrescription *rx, int64_t dose_ng_per_day)
{
  rx->mode = THECAL_MODE_CONTINUOUS;
  rx->continuous.basis = THECAL_BASIS_DOSE;
  rx->continuous.dose_ng_per_day = dose_ng_per_day;
}

static void
flex_step (ThecalPrescription *rx, int32_t start_min, int32_t duration_min, int64_t dose_ng_per_day)
{
  ThecalFlexStep *step = &rx->flex_steps[rx->n_flex_steps++];

  rx->mode = THECAL_MODE_FLEX;
  step->start_min = start_min;
  step->duration_min = duration_min;
  step->amount.basis = THECAL_BASIS_DOSE;
  step->amount.dose_ng_per_day = dose_ng_per_day;
}

static cJSON *
step_begin (ThecalCliOutput *out, cJSON *steps, int number, const char *title, const char *kind)
{
  cJSON *step = thecal_cli_json_append_object (steps);

  thecal_cli_print (out, "\n== %d. %s ==\n", number, title);
  thecal_cli_json_int (step, "step", number);
  thecal_cli_json_string (step, "title", title);
  thecal_cli_json_string (step, "kind", kind);
  return step;
}

static gboolean
parse_fixed_instant (const char *text, int64_t *local_ms, GError **error)
{
  return thecal_cli_parse_instant ("demo", text, local_ms, error);
}

gboolean
thecal_cli_demo (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_autofree char *library_path = NULL;
  g_autofree char *models_path = NULL;
  g_autofree ThecalPumpModelSet *models = g_new0 (ThecalPumpModelSet, 1);
  g_autofree ThecalDrugLibrary *library = g_new0 (ThecalDrugLibrary, 1);
  g_autofree ThecalPrescription *morphine_25 = g_new0 (ThecalPrescription, 1);
  g_autofree ThecalPrescription *morphine_10 = g_new0 (ThecalPrescription, 1);
  g_autofree ThecalPrescription *flex = g_new0 (ThecalPrescription, 1);
  g_autofree ThecalPrescription *ziconotide_current = g_new0 (ThecalPrescription, 1);
  g_autofree ThecalPrescription *ziconotide_new = g_new0 (ThecalPrescription, 1);
  char *flex_json = NULL;
  g_autofree char *why = NULL;
  const ThecalPumpModel *model;
  ThecalPatientContext tolerant = { .opioid_tolerant = true };
  ThecalPatientContext naive = { .opioid_tolerant = false };
  ThecalCliRefillInput refill = { 0 };
  ThecalCatheter catheter = { .catheter_length_mm = 450, .catheter_volume_nl_per_cm = 2600 };
  gboolean in_range = FALSE;
  gboolean fill_refused = FALSE;
  cJSON *steps;
  cJSON *step;
  const GOptionEntry entries[] = {
    THECAL_CLI_OPTION_LIBRARY (&library_path),
    THECAL_CLI_OPTION_MODELS (&models_path),
    G_OPTION_ENTRY_NULL
  };

  if (!thecal_cli_parse_command_line (NULL,
                                      _ ("Every calculator of thecal-cli on a worked example."),
                                      _ ("Morphine 25 mg/mL at 5 mg/day, a flex schedule with PTM, a "
                                         "ziconotide prescription over a soft and a hard limit, a refill "
                                         "with a flagged discrepancy, a bridge bolus from 10 to 25 mg/mL, a "
                                         "priming bolus and an oral-morphine estimate, each under a short "
                                         "heading. Uses the shipped drug library and pump models. The demo "
                                         "only calculates: the refusals it shows are part of it, and it "
                                         "exits with status 0."),
                                      entries, out, argc, argv, NULL, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  model = thecal_cli_load_model (models_path, NULL, models, error);
  if (model == NULL || !thecal_cli_load_library (library_path, library, error))
    return FALSE;

  thecal_cli_json_string (out->json, "library_version", library->version);
  thecal_cli_print (out, _ ("Thecal demo: the calculators of thecal-cli on worked examples.\n"));
  thecal_cli_print (out, _ ("Drug library %s and pump models from %s; pump model %s unless said otherwise.\n"),
                    library->version, library_path != NULL ? library_path : thecal_cli_data_dir (), model->id);
  steps = thecal_cli_json_array (out->json, "steps");

  /* 1. The worked example of DESIGN.md: 25 mg/mL, 5 mg/day → 0.2 mL/day, and back. */
  step = step_begin (out, steps, 1, _ ("Dose → rate: morphine 25 mg/mL at 5 mg/day"), "dose");
  thecal_cli_print (out, "$ thecal-cli dose --concentration \"25 mg/mL\" --dose \"5 mg/day\"\n");
  if (!thecal_cli_dose_report (out, step, model, TRUE, MG (25), TRUE, MG (5), &in_range, error))
    return FALSE;
  step = step_begin (out, steps, 2, _ ("Rate → dose: 0.2 mL/day of morphine 25 mg/mL"), "dose");
  thecal_cli_print (out, "$ thecal-cli dose --concentration \"25 mg/mL\" --rate \"0.2 mL/day\"\n");
  if (!thecal_cli_dose_report (out, step, model, TRUE, MG (25), FALSE, 200000, &in_range, error))
    return FALSE;

  /* 2. A flex day: 4 mg/day at night, 6 mg/day in the day, 5 mg/day in the evening, and PTM. */
  prescription_new (flex, "morphine", MG (10));
  flex_step (flex, 0, 8 * 60, MG (4));
  flex_step (flex, 8 * 60, 12 * 60, MG (6));
  flex_step (flex, 20 * 60, 4 * 60, MG (5));
  flex->ptm.enabled = true;
  flex->ptm.dose_ng = MCG (200);
  flex->ptm.duration_ms = 10 * THECAL_MS_PER_MINUTE;
  flex->ptm.lockout_ms = 4 * THECAL_MS_PER_HOUR;
  flex->ptm.max_per_24h = 4;
  step = step_begin (out, steps, 3,
                     _ ("A flex schedule with PTM: morphine 10 mg/mL, 4 / 6 / 5 mg/day, opioid-tolerant patient"),
                     "check");
  flex_json = thecal_prescription_to_json (flex);
  if (flex_json != NULL)
    thecal_cli_print (out, _ ("The prescription, as a file for “thecal-cli check”:\n%s\n"), flex_json);
  free (flex_json); /* thecal_prescription_to_json () allocates with malloc () */
  thecal_cli_check_report (out, step, flex, NULL, &tolerant, model, TRUE, library, NULL, &why);
  g_clear_pointer (&why, g_free);

  /* 3. Ziconotide compounded at 200 mcg/mL (above the 100 mcg/mL soft maximum) and raised from
   * 4.8 to 21.6 mcg/day: above the label maximum of 19.2 mcg/day and the titration step of
   * 2.4 mcg/day (both hard, CLINICAL.md §3.1). An override reason lifts the soft limit only. */
  prescription_new (ziconotide_current, "ziconotide", MCG (100));
  continuous_dose (ziconotide_current, MCG (48) / 10);
  prescription_new (ziconotide_new, "ziconotide", MCG (200));
  continuous_dose (ziconotide_new, MCG (216) / 10);
  step = step_begin (out, steps, 4,
                     _ ("A check over a soft and a hard limit: ziconotide 200 mcg/mL from 4.8 to 21.6 mcg/day, "
                        "with an override reason"),
                     "check");
  thecal_cli_print (out, _ ("(The override reason covers the soft limit; it cannot lift a hard one.)\n"));
  thecal_cli_check_report (out, step, ziconotide_new, ziconotide_current, &naive, model, TRUE, library,
                           _ ("compounded by the hospital pharmacy"), &why);
  g_clear_pointer (&why, g_free);

  /* 4. A refill: 20 mL on 1 November at 0.2 mL/day; 30 days later 14 mL are expected but only
   * 12.2 mL come back: 1.8 mL is beyond max (14.5 % × 6 mL = 0.87 mL, 1 mL). */
  prescription_new (morphine_25, "morphine", MG (25));
  continuous_dose (morphine_25, MG (5));
  refill.rx = morphine_25;
  refill.rx_label = _ ("continuous 5 mg/day");
  refill.fill_volume_nl = ML (20);
  refill.aspirated_nl = ML (122) / 10;
  refill.have_added = TRUE;
  refill.added_nl = ML (20);
  if (!parse_fixed_instant ("2026-11-01T09:00", &refill.filled_at_local_ms, error)
      || !parse_fixed_instant ("2026-12-01T09:00", &refill.at_local_ms, error))
    return FALSE;
  step = step_begin (out, steps, 5, _ ("A refill with a flagged discrepancy"), "refill-calc");
  if (!thecal_cli_refill_report (out, step, model, TRUE, library, &refill, &fill_refused, error))
    return FALSE;

  /* 5. Bridge: morphine 10 mg/mL → 25 mg/mL, 5 mg/day both, 45 cm of catheter. */
  prescription_new (morphine_10, "morphine", MG (10));
  continuous_dose (morphine_10, MG (5));
  step = step_begin (out, steps, 6, _ ("A bridge bolus: morphine 10 mg/mL → 25 mg/mL at 5 mg/day, 45 cm catheter"),
                     "bolus-calc bridge");
  if (!thecal_cli_bridge_report (out, step, model, TRUE, library, &catheter, morphine_10,
                                 _ ("continuous 5 mg/day"), morphine_25, _ ("continuous 5 mg/day"), error))
    return FALSE;

  /* 6. Priming after an implant, then 25 mg/mL at 5 mg/day. */
  step = step_begin (out, steps, 7, _ ("A priming bolus after an implant, 45 cm catheter"), "bolus-calc priming");
  if (!thecal_cli_priming_report (out, step, model, TRUE, library, &catheter, morphine_25,
                                  _ ("continuous 5 mg/day"), 0, error))
    return FALSE;

  /* 7. Oral morphine 120 mg/day: 0.4 mg/day at 300:1, 10 mg/day at 12:1. */
  step = step_begin (out, steps, 8, _ ("Oral → intrathecal morphine: an estimate only"), "oral-estimate");
  thecal_cli_print (out, "$ thecal-cli oral-estimate --oral \"120 mg/day\"\n");
  if (!thecal_cli_oral_report (out, step, MG (120), THECAL_ORAL_TO_IT_RATIO_DEFAULT, error))
    return FALSE;

  thecal_cli_print (out, _ ("\nEnd of the demo: every figure above is exact integer arithmetic "
                            "(nL, ng, ms), shown the ISMP way whatever the locale.\n"));
  return TRUE;
}
