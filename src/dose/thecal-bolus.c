/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-bolus.c: priming and bridge boluses through the dead space (CLINICAL.md §1.4, §2.1)
 * and the oral morphine → intrathecal estimate (CLINICAL.md §3.3). docs/dosing.md has the
 * formulas and worked examples.
 */
#include "config.h"

#include "thecal-bolus.h"

#include "thecal-dose-private.h"
#include "thecal-quantity.h"
#include "thecal-wide-private.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define DAY_MS THECAL_MS_PER_DAY
#define RULE THECAL_ROUND_NEAREST_HALF_DOWN
#define MM_PER_CM 10

static bool
check_model (const ThecalPumpModel *model, ThecalDoseError *error)
{
  return _thecal_dose_check_model (model, "no pump model was given.", error);
}

static bool
check_plan (const ThecalDeliveryPlan *plan, const char *name, ThecalDoseError *error)
{
  char field[THECAL_ERROR_FIELD_MAX];
  char a[THECAL_QUANTITY_TEXT_MAX];

  if (plan == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, name, "%s is missing.", name);
  snprintf (field, sizeof field, "%s.mode", name);
  if (plan->mode == THECAL_MODE_STOPPED)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field,
                                  "%s is stopped: nothing would move the fluid through the dead space; program a delivering mode.",
                                  name);
  snprintf (field, sizeof field, "%s.concentration", name);
  if (plan->concentration_ng_per_ml <= 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field, "%s %s is not above 0.", field,
                                  _thecal_qtext (THECAL_QUANTITY_CONCENTRATION, plan->concentration_ng_per_ml, a));
  return true;
}

/* Dead space = internal volume + implanted catheter length × volume per cm (CLINICAL.md §1.4,
 * §2.1): length in mm × nL/cm / 10, rounded by the rule. */
static bool
dead_space (const ThecalPumpModel *model,
            const ThecalCatheter *catheter,
            ThecalBolusPlan *result,
            ThecalDoseError *error)
{
  char a[THECAL_QUANTITY_TEXT_MAX];

  if (catheter == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "catheter", "no catheter was given.");
  if (catheter->catheter_length_mm < 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "catheter.length",
                                  "catheter.length %s is negative.",
                                  _thecal_qtext (THECAL_QUANTITY_LENGTH, catheter->catheter_length_mm, a));
  if (catheter->catheter_volume_nl_per_cm <= 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "catheter.volume_per_cm",
                                  "catheter.volume_per_cm %s per cm is not above 0.",
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME, catheter->catheter_volume_nl_per_cm, a));
  if (!thecal_muldiv_i64 (catheter->catheter_length_mm, catheter->catheter_volume_nl_per_cm, MM_PER_CM, RULE,
                          &result->catheter_volume_nl)
      || !thecal_add_i64 (model->internal_volume_nl, result->catheter_volume_nl, &result->dead_space_nl))
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_OVERFLOW, "catheter.volume_per_cm",
                                  "the catheter volume is too large to compute.");
  if (result->dead_space_nl == 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "catheter.length",
                                  "the dead space is 0 mL (no internal volume, no catheter): check the pump model and the catheter length.");
  return true;
}

/* The volume a dead-space bolus moves. ROUND_UP to whole strokes: the pump moves whole strokes,
 * and stopping one stroke short would leave the old fluid's last fraction in the catheter, so
 * the phase is a floor ("no less than the dead space") that makes sure the new drug's front
 * reaches the catheter tip before the next phase starts. */
static bool
phase_volume (const ThecalPumpModel *model, int64_t dead_space_nl, int64_t *volume_nl, ThecalDoseError *error)
{
  if (!thecal_round_to_step_i64 (dead_space_nl, model->stroke_volume_nl, THECAL_ROUND_UP, volume_nl))
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_OVERFLOW, "catheter.length",
                                  "the dead space is too large to compute.");
  return true;
}

/* How long @volume_nl takes at @rate_nl_per_day. ROUND_UP: the phase lasts no less than the
 * exact time, so the next phase never starts before the volume has been moved. */
static bool
phase_duration (int64_t volume_nl, int64_t rate_nl_per_day, int64_t *duration_ms, ThecalDoseError *error)
{
  if (!thecal_muldiv_i64 (volume_nl, DAY_MS, rate_nl_per_day, THECAL_ROUND_UP, duration_ms))
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_OVERFLOW, "rate",
                                  "the phase duration is too long to compute.");
  return true;
}

/* The ongoing new prescription: its basal rate (the daily mean for a flex plan) and dose rate. */
static void
prescription_phase (const ThecalDeliveryPlan *plan, ThecalBolusPhase *phase)
{
  memset (phase, 0, sizeof *phase);
  phase->kind = THECAL_PHASE_PRESCRIPTION;
  phase->rate_nl_per_day = plan->basal_nl_per_day;
  phase->concentration_ng_per_ml = plan->concentration_ng_per_ml;
  phase->dose_rate_ng_per_day = plan->basal_ng_per_day;
}

bool
thecal_priming_bolus (const ThecalPumpModel *model,
                      const ThecalCatheter *catheter,
                      const ThecalDeliveryPlan *new_plan,
                      int64_t priming_rate_nl_per_day,
                      ThecalBolusPlan *result,
                      ThecalDoseError *error)
{
  char a[THECAL_QUANTITY_TEXT_MAX], b[THECAL_QUANTITY_TEXT_MAX], c[THECAL_QUANTITY_TEXT_MAX];
  ThecalBolusPlan r;
  ThecalBolusPhase *prime;
  int64_t rate;

  if (!check_model (model, error) || !check_plan (new_plan, "new_plan", error))
    return false;
  if (result == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "result", "no place for the result was given.");
  memset (&r, 0, sizeof r);
  if (!dead_space (model, catheter, &r, error))
    return false;

  /* The priming rate: the model's bolus ceiling, or the lower rate the caller asks for.
   * ROUND_DOWN to the resolution: a ceiling, never above what was asked. */
  if (priming_rate_nl_per_day < 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "priming_rate",
                                  "priming_rate %s is negative: give 0 for the pump's maximum bolus rate.",
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME_RATE, priming_rate_nl_per_day, a));
  if (priming_rate_nl_per_day > model->bolus_rate_max_nl_per_day)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "priming_rate",
                                  "priming_rate %s is above the pump's maximum bolus rate %s.",
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME_RATE, priming_rate_nl_per_day, a),
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME_RATE, model->bolus_rate_max_nl_per_day, b));
  rate = priming_rate_nl_per_day > 0 ? priming_rate_nl_per_day : model->bolus_rate_max_nl_per_day;
  (void) thecal_round_to_step_i64 (rate, model->rate_resolution_nl_per_day, THECAL_ROUND_DOWN, &rate);
  if (rate <= 0 || rate < model->rate_min_nl_per_day)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "priming_rate",
                                  "priming_rate %s (%s at the pump's resolution) is below the pump's lowest rate %s.",
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME_RATE, priming_rate_nl_per_day, a),
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME_RATE, rate, b),
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME_RATE, model->rate_min_nl_per_day, c));

  prime = &r.phases[0];
  prime->kind = THECAL_PHASE_PRIMING;
  prime->rate_nl_per_day = rate;
  /* The dead space holds no drug (sterile water or CSF): no drug reaches the patient in this
   * phase, in theory. At priming flow rates drug and non-drug fluid mix (CLINICAL.md §1.4), so
   * some drug may arrive before the end and at a reduced concentration after it: the CLI and
   * the GUI show that warning with the plan. */
  prime->concentration_ng_per_ml = 0;
  prime->dose_ng = 0;
  prime->dose_rate_ng_per_day = 0;
  if (!phase_volume (model, r.dead_space_nl, &prime->volume_nl, error)
      || !phase_duration (prime->volume_nl, rate, &prime->duration_ms, error))
    return false;

  prescription_phase (new_plan, &r.phases[1]);
  r.n_phases = 2;
  r.target_dose_rate_ng_per_day = new_plan->basal_ng_per_day;
  r.rate_capped = false;
  *result = r;
  return true;
}

bool
thecal_bridge_bolus (const ThecalPumpModel *model,
                     const ThecalCatheter *catheter,
                     const ThecalDeliveryPlan *old_plan,
                     const char *old_drug_id,
                     const ThecalDeliveryPlan *new_plan,
                     const char *new_drug_id,
                     ThecalBolusPlan *result,
                     ThecalDoseError *error)
{
  char a[THECAL_QUANTITY_TEXT_MAX], b[THECAL_QUANTITY_TEXT_MAX], c[THECAL_QUANTITY_TEXT_MAX];
  char d[THECAL_QUANTITY_TEXT_MAX];
  ThecalBolusPlan r;
  ThecalBolusPhase *bridge;
  int64_t target, rate, cap, old_conc;
  ThecalWide steps;

  if (!check_model (model, error) || !check_plan (old_plan, "old_plan", error)
      || !check_plan (new_plan, "new_plan", error))
    return false;
  if (old_drug_id == NULL || old_drug_id[0] == '\0')
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "old_drug_id", "old_drug_id is empty.");
  if (new_drug_id == NULL || new_drug_id[0] == '\0')
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "new_drug_id", "new_drug_id is empty.");
  if (result == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "result", "no place for the result was given.");
  memset (&r, 0, sizeof r);
  if (!dead_space (model, catheter, &r, error))
    return false;

  /* The target dose rate: the old drug must not reach the patient faster than the lower of the
   * two prescriptions' basal daily doses (same drug), or than the old basal daily dose (a
   * different drug: the new prescription's dose says nothing about the old drug). */
  old_conc = old_plan->concentration_ng_per_ml;
  target = old_plan->basal_ng_per_day;
  if (strcmp (old_drug_id, new_drug_id) == 0 && new_plan->basal_ng_per_day < target)
    target = new_plan->basal_ng_per_day;

  /* bridge rate = target × 10^6 / old concentration, ROUND_DOWN to the resolution in one
   * rounding: a ceiling, so the old drug's dose rate is never above the target. */
  steps = _thecal_wide_div ((ThecalWide) target * THECAL_NL_PER_ML,
                            (ThecalWide) old_conc * model->rate_resolution_nl_per_day, THECAL_ROUND_DOWN);
  if (steps > INT64_MAX / model->rate_resolution_nl_per_day)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_OVERFLOW, "old_plan",
                                  "the bridge rate for %s at %s is too large to compute.",
                                  _thecal_qtext (THECAL_QUANTITY_DOSE_RATE, target, a),
                                  _thecal_qtext (THECAL_QUANTITY_CONCENTRATION, old_conc, b));
  rate = (int64_t) steps * model->rate_resolution_nl_per_day;
  /* ... and no faster than the pump's bolus ceiling (ROUND_DOWN: a ceiling too) */
  (void) thecal_round_to_step_i64 (model->bolus_rate_max_nl_per_day, model->rate_resolution_nl_per_day,
                                   THECAL_ROUND_DOWN, &cap);
  if (rate > cap)
    {
      rate = cap;
      r.rate_capped = true;
    }
  if (rate <= 0 || rate < model->rate_min_nl_per_day)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "bridge_rate",
                                  "bridge rate %s (%s of the old drug at %s) is below the pump's lowest rate %s: the old drug cannot be pushed out at or below the target; plan the change another way (e.g. a lower old concentration).",
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME_RATE, rate, a), _thecal_qtext (THECAL_QUANTITY_DOSE_RATE, target, b),
                                  _thecal_qtext (THECAL_QUANTITY_CONCENTRATION, old_conc, c),
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME_RATE, model->rate_min_nl_per_day, d));

  bridge = &r.phases[0];
  bridge->kind = THECAL_PHASE_BRIDGE;
  bridge->rate_nl_per_day = rate;
  bridge->concentration_ng_per_ml = old_conc;
  if (!phase_volume (model, r.dead_space_nl, &bridge->volume_nl, error)
      || !phase_duration (bridge->volume_nl, rate, &bridge->duration_ms, error))
    return false;
  /* The dose of the old drug pushed out, and its dose rate: rate ≤ target × 10^6 / conc exactly,
   * so rounding rate × conc / 10^6 to the nearest ng cannot pass the (whole-ng) target. */
  if (!thecal_dose_ng_from_volume_nl (bridge->volume_nl, old_conc, RULE, &bridge->dose_ng)
      || !thecal_dose_ng_from_volume_nl (rate, old_conc, RULE, &bridge->dose_rate_ng_per_day))
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_OVERFLOW, "old_plan.concentration",
                                  "the bridge dose at %s is too large to compute.",
                                  _thecal_qtext (THECAL_QUANTITY_CONCENTRATION, old_conc, a));

  prescription_phase (new_plan, &r.phases[1]);
  r.n_phases = 2;
  r.target_dose_rate_ng_per_day = target;
  *result = r;
  return true;
}

bool
thecal_oral_to_intrathecal_estimate (int64_t oral_ng_per_day,
                                     int32_t ratio,
                                     int64_t *intrathecal_ng_per_day,
                                     ThecalDoseError *error)
{
  char a[THECAL_QUANTITY_TEXT_MAX];

  if (oral_ng_per_day < 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "oral",
                                  "oral dose %s is negative.", _thecal_qtext (THECAL_QUANTITY_DOSE_RATE, oral_ng_per_day, a));
  if (ratio < 1 || ratio > 1000)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "ratio",
                                  "ratio %d:1 is out of range: it must be 1:1 to 1000:1 (default %d:1).", (int) ratio,
                                  THECAL_ORAL_TO_IT_RATIO_DEFAULT);
  if (intrathecal_ng_per_day == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "intrathecal",
                                  "no place for the estimate was given.");
  /* ROUND_DOWN: a starting-dose estimate is a ceiling; it is never rounded up to more drug. */
  *intrathecal_ng_per_day = oral_ng_per_day / ratio;
  return true;
}
