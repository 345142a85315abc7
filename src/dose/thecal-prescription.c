/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-prescription.c: dose ↔ rate, prescription validation, the delivery plan a pump model
 * really runs, and the volume that plan delivers between two instants (docs/dosing.md).
 *
 * Every value is an exact integer. Where a product can leave int64_t (a rate integrated over
 * milliseconds, a day count times a daily integral) the arithmetic is done in 128 bits and the
 * result is checked before it is narrowed: an overflow is an error, never a wrapped number.
 */
#include "config.h"

#include "thecal-prescription.h"

#include "thecal-dose-private.h"
#include "thecal-quantity.h"
#include "thecal-wide-private.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define DAY_MS THECAL_MS_PER_DAY
#define RULE THECAL_ROUND_NEAREST_HALF_DOWN
#define PTM_MAX_PER_24H 96

/* ---- messages ------------------------------------------------------------------------------- */

static bool
check_concentration (int64_t concentration_ng_per_ml, ThecalDoseError *error)
{
  char v[THECAL_QUANTITY_TEXT_MAX];

  if (concentration_ng_per_ml <= 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "concentration",
                                  "concentration %s is not above 0: a drug must have a positive concentration.",
                                  _thecal_qtext (THECAL_QUANTITY_CONCENTRATION, concentration_ng_per_ml, v));
  return true;
}

/* Every entry point that rounds to a model checks it first; the helpers below rely on that. */
static bool
check_model (const ThecalPumpModel *model, ThecalDoseError *error)
{
  return _thecal_dose_check_model (model, "no pump model was given: rates are rounded to the model's resolution.", error);
}

/* ---- dose ↔ rate ---------------------------------------------------------------------------- */

/* rate = dose × 1 000 000 / concentration, rounded once (by the rule) to a multiple of the
 * model's resolution: steps = round (dose × 10^6 / (concentration × resolution)). Both products
 * are below 2^126, so they are exact in 128 bits. @model was checked by the caller. */
static bool
rate_for_dose_field (const ThecalPumpModel *model,
                     int64_t concentration_ng_per_ml,
                     int64_t dose_ng_per_day,
                     const char *field,
                     int64_t *rate_nl_per_day,
                     int64_t *delivered_ng_per_day,
                     ThecalDoseError *error)
{
  char v[THECAL_QUANTITY_TEXT_MAX];
  int64_t steps, rate, delivered;
  ThecalWide steps_wide;

  if (!check_concentration (concentration_ng_per_ml, error))
    return false;
  if (dose_ng_per_day < 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field,
                                  "%s %s is negative: a dose must be 0 or more.", field,
                                  _thecal_qtext (THECAL_QUANTITY_DOSE_RATE, dose_ng_per_day, v));

  steps_wide = _thecal_wide_div ((ThecalWide) dose_ng_per_day * THECAL_NL_PER_ML,
                                 (ThecalWide) concentration_ng_per_ml * model->rate_resolution_nl_per_day, RULE);
  if (!_thecal_wide_to_i64 (steps_wide, &steps) || !thecal_mul_i64 (steps, model->rate_resolution_nl_per_day, &rate)
      || !thecal_dose_ng_from_volume_nl (rate, concentration_ng_per_ml, RULE, &delivered))
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_OVERFLOW, field,
                                  "%s %s is too large to compute a rate for.", field,
                                  _thecal_qtext (THECAL_QUANTITY_DOSE_RATE, dose_ng_per_day, v));
  if (rate_nl_per_day != NULL)
    *rate_nl_per_day = rate;
  if (delivered_ng_per_day != NULL)
    *delivered_ng_per_day = delivered;
  return true;
}

/* A rate written as a rate: rounded to the model's resolution by the rule (@model was checked
 * by the caller). */
static bool
round_rate_field (const ThecalPumpModel *model,
                  int64_t rate_nl_per_day,
                  const char *field,
                  int64_t *rounded_nl_per_day,
                  ThecalDoseError *error)
{
  char v[THECAL_QUANTITY_TEXT_MAX];

  if (rate_nl_per_day < 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field,
                                  "%s %s is negative: a rate must be 0 or more.", field,
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME_RATE, rate_nl_per_day, v));
  if (!thecal_round_to_step_i64 (rate_nl_per_day, model->rate_resolution_nl_per_day, RULE, rounded_nl_per_day))
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_OVERFLOW, field,
                                  "%s %s is too large to round to the pump's resolution.", field,
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME_RATE, rate_nl_per_day, v));
  return true;
}

bool
thecal_rate_for_dose (const ThecalPumpModel *model,
                      int64_t concentration_ng_per_ml,
                      int64_t dose_ng_per_day,
                      int64_t *rate_nl_per_day,
                      int64_t *delivered_ng_per_day,
                      ThecalDoseError *error)
{
  return check_model (model, error)
         && rate_for_dose_field (model, concentration_ng_per_ml, dose_ng_per_day, "dose", rate_nl_per_day,
                                 delivered_ng_per_day, error);
}

bool
thecal_dose_for_rate (const ThecalPumpModel *model,
                      int64_t concentration_ng_per_ml,
                      int64_t rate_nl_per_day,
                      int64_t *rounded_rate_nl_per_day,
                      int64_t *dose_ng_per_day,
                      ThecalDoseError *error)
{
  char v[THECAL_QUANTITY_TEXT_MAX];
  int64_t rate = rate_nl_per_day;
  int64_t dose;

  if (!check_concentration (concentration_ng_per_ml, error))
    return false;
  if (rate_nl_per_day < 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "rate",
                                  "rate %s is negative: a rate must be 0 or more.",
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME_RATE, rate_nl_per_day, v));
  if (model != NULL && (!check_model (model, error) || !round_rate_field (model, rate_nl_per_day, "rate", &rate, error)))
    return false;
  if (!thecal_dose_ng_from_volume_nl (rate, concentration_ng_per_ml, RULE, &dose))
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_OVERFLOW, "rate",
                                  "rate %s at %s is too large to compute a dose for.",
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME_RATE, rate_nl_per_day, v),
                                  _thecal_qtext (THECAL_QUANTITY_CONCENTRATION, concentration_ng_per_ml, v));
  if (rounded_rate_nl_per_day != NULL)
    *rounded_rate_nl_per_day = rate;
  if (dose_ng_per_day != NULL)
    *dose_ng_per_day = dose;
  return true;
}

/* ---- prescriptions ------------------------------------------------------------------------- */

void
thecal_prescription_init (ThecalPrescription *rx)
{
  if (rx == NULL)
    return;
  memset (rx, 0, sizeof *rx);
  rx->mode = THECAL_MODE_STOPPED;
  rx->continuous.basis = THECAL_BASIS_DOSE;
  rx->ptm.enabled = false;
}

static bool
validate_amount (const ThecalDailyAmount *amount, const char *prefix, ThecalDoseError *error)
{
  char field[THECAL_ERROR_FIELD_MAX];
  char v[THECAL_QUANTITY_TEXT_MAX];

  switch (amount->basis)
    {
    case THECAL_BASIS_DOSE:
      if (amount->dose_ng_per_day <= 0)
        {
          snprintf (field, sizeof field, "%s.dose", prefix);
          return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field,
                                        "%s %s is not above 0: use the stopped or minimum rate mode for no dose.",
                                        field, _thecal_qtext (THECAL_QUANTITY_DOSE_RATE, amount->dose_ng_per_day, v));
        }
      return true;
    case THECAL_BASIS_RATE:
      if (amount->rate_nl_per_day <= 0)
        {
          snprintf (field, sizeof field, "%s.rate", prefix);
          return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field,
                                        "%s %s is not above 0: use the stopped or minimum rate mode for no delivery.",
                                        field, _thecal_qtext (THECAL_QUANTITY_VOLUME_RATE, amount->rate_nl_per_day, v));
        }
      return true;
    default:
      snprintf (field, sizeof field, "%s.basis", prefix);
      return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field,
                                    "%s %d is neither a dose nor a rate.", field, (int) amount->basis);
    }
}

/* Formats a schedule minute that may lie past midnight (a step that wraps) as "HH:MM" plus
 * " the next day". */
#define MINUTE_TEXT_MAX (THECAL_QUANTITY_TEXT_MAX + 16)

static const char *
minute_text (int32_t minute, char *buf)
{
  char t[THECAL_QUANTITY_TEXT_MAX];

  _thecal_qtext (THECAL_QUANTITY_TIME_OF_DAY, minute % THECAL_MINUTES_PER_DAY, t);
  snprintf (buf, MINUTE_TEXT_MAX, "%s%s", t, minute >= THECAL_MINUTES_PER_DAY ? " the next day" : "");
  return buf;
}

/* Flex steps: each in range, in strictly ascending order of start, each ending exactly where
 * the next begins, and the last ending exactly where the first begins one day later (it may
 * wrap past midnight). Together they cover 1 440 minutes exactly, with no overlap and no gap. */
static bool
validate_flex (const ThecalPrescription *rx, ThecalDoseError *error)
{
  char field[THECAL_ERROR_FIELD_MAX];
  char a[MINUTE_TEXT_MAX], b[MINUTE_TEXT_MAX];
  int32_t n = rx->n_flex_steps;

  for (int32_t i = 0; i < n; i++)
    {
      const ThecalFlexStep *step = &rx->flex_steps[i];

      snprintf (field, sizeof field, "flex_steps[%d].start", (int) i);
      if (step->start_min < 0 || step->start_min >= THECAL_MINUTES_PER_DAY)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field,
                                      "%s %d min is outside the day: it must be 0 to 1439 minutes after midnight.",
                                      field, (int) step->start_min);
      snprintf (field, sizeof field, "flex_steps[%d].duration", (int) i);
      if (step->duration_min < 1 || step->duration_min > THECAL_MINUTES_PER_DAY)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field,
                                      "%s %d min is out of range: it must be 1 to 1440 minutes.", field,
                                      (int) step->duration_min);
      snprintf (field, sizeof field, "flex_steps[%d]", (int) i);
      if (!validate_amount (&step->amount, field, error))
        return false;

      if (i > 0)
        {
          const ThecalFlexStep *prev = &rx->flex_steps[i - 1];
          int32_t prev_end = prev->start_min + prev->duration_min;

          if (step->start_min <= prev->start_min)
            {
              snprintf (field, sizeof field, "flex_steps[%d].start", (int) i);
              return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field,
                                            "flex_steps[%d] starts at %s, not after flex_steps[%d] at %s: steps must be in ascending order of start time.",
                                            (int) i, minute_text (step->start_min, a), (int) (i - 1),
                                            minute_text (prev->start_min, b));
            }
          if (prev_end > step->start_min)
            {
              snprintf (field, sizeof field, "flex_steps[%d].start", (int) i);
              return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field,
                                            "flex_steps[%d] starts at %s, before flex_steps[%d] ends at %s: steps must not overlap.",
                                            (int) i, minute_text (step->start_min, a), (int) (i - 1),
                                            minute_text (prev_end, b));
            }
          if (prev_end < step->start_min)
            {
              snprintf (field, sizeof field, "flex_steps[%d].duration", (int) (i - 1));
              return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field,
                                            "flex_steps[%d] ends at %s but flex_steps[%d] starts at %s: the steps must cover the whole day without a gap.",
                                            (int) (i - 1), minute_text (prev_end, a), (int) i,
                                            minute_text (step->start_min, b));
            }
        }
    }

  if (n > 0)
    {
      const ThecalFlexStep *last = &rx->flex_steps[n - 1];
      int32_t last_end = last->start_min + last->duration_min;
      int32_t cycle_end = rx->flex_steps[0].start_min + THECAL_MINUTES_PER_DAY;

      snprintf (field, sizeof field, "flex_steps[%d].duration", (int) (n - 1));
      if (last_end > cycle_end)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field,
                                      "flex_steps[%d] ends at %s, after flex_steps[0] starts again at %s: steps must not overlap.",
                                      (int) (n - 1), minute_text (last_end, a), minute_text (cycle_end, b));
      if (last_end < cycle_end)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field,
                                      "flex_steps[%d] ends at %s but flex_steps[0] starts again at %s: the steps must cover the whole day without a gap.",
                                      (int) (n - 1), minute_text (last_end, a), minute_text (cycle_end, b));
    }
  return true;
}

/* (b − a) modulo one day, in 0..86 399 999. */
static int64_t
circular_gap_ms (int64_t a_ms, int64_t b_ms)
{
  int64_t d = (b_ms - a_ms) % DAY_MS;

  return d < 0 ? d + DAY_MS : d;
}

static bool
validate_periodic (const ThecalPrescription *rx, ThecalDoseError *error)
{
  char field[THECAL_ERROR_FIELD_MAX];
  char a[THECAL_QUANTITY_TEXT_MAX], b[THECAL_QUANTITY_TEXT_MAX], c[THECAL_QUANTITY_TEXT_MAX];

  for (int32_t i = 0; i < rx->n_periodic_boluses; i++)
    {
      const ThecalPeriodicBolus *bolus = &rx->periodic_boluses[i];

      snprintf (field, sizeof field, "periodic_boluses[%d].start", (int) i);
      if (bolus->start_min < 0 || bolus->start_min >= THECAL_MINUTES_PER_DAY)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field,
                                      "%s %d min is outside the day: it must be 0 to 1439 minutes after midnight.",
                                      field, (int) bolus->start_min);
      snprintf (field, sizeof field, "periodic_boluses[%d].dose", (int) i);
      if (bolus->dose_ng <= 0)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field, "%s %s is not above 0.", field,
                                      _thecal_qtext (THECAL_QUANTITY_AMOUNT, bolus->dose_ng, a));
      snprintf (field, sizeof field, "periodic_boluses[%d].duration", (int) i);
      if (bolus->duration_ms <= 0 || bolus->duration_ms > DAY_MS)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field,
                                      "%s %s is out of range: it must be above 0 and at most 24 h.", field,
                                      _thecal_qtext (THECAL_QUANTITY_DURATION, bolus->duration_ms, a));
    }

  /* Two arcs of the daily circle overlap exactly when the start of one lies inside the other
   * (each is half-open and not empty); this also catches a bolus that wraps past midnight. */
  for (int32_t j = 1; j < rx->n_periodic_boluses; j++)
    for (int32_t i = 0; i < j; i++)
      {
        const ThecalPeriodicBolus *bi = &rx->periodic_boluses[i];
        const ThecalPeriodicBolus *bj = &rx->periodic_boluses[j];
        int64_t si = bi->start_min * THECAL_MS_PER_MINUTE;
        int64_t sj = bj->start_min * THECAL_MS_PER_MINUTE;

        if (circular_gap_ms (si, sj) < bi->duration_ms || circular_gap_ms (sj, si) < bj->duration_ms)
          {
            snprintf (field, sizeof field, "periodic_boluses[%d].start", (int) j);
            return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field,
                                          "periodic_boluses[%d] at %s overlaps periodic_boluses[%d] (%s for %s): periodic boluses must not overlap.",
                                          (int) j, _thecal_qtext (THECAL_QUANTITY_TIME_OF_DAY, bj->start_min, a), (int) i,
                                          _thecal_qtext (THECAL_QUANTITY_TIME_OF_DAY, bi->start_min, b),
                                          _thecal_qtext (THECAL_QUANTITY_DURATION, bi->duration_ms, c));
          }
      }
  return true;
}

static bool
validate_ptm (const ThecalPtmSettings *ptm, ThecalDoseError *error)
{
  char a[THECAL_QUANTITY_TEXT_MAX], b[THECAL_QUANTITY_TEXT_MAX];
  int64_t limit;

  if (!ptm->enabled)
    return true;
  if (ptm->dose_ng <= 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "ptm.dose", "ptm.dose %s is not above 0.",
                                  _thecal_qtext (THECAL_QUANTITY_AMOUNT, ptm->dose_ng, a));
  if (ptm->duration_ms <= 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "ptm.duration",
                                  "ptm.duration %s is not above 0.", _thecal_qtext (THECAL_QUANTITY_DURATION, ptm->duration_ms, a));
  if (ptm->lockout_ms < ptm->duration_ms)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "ptm.lockout",
                                  "ptm.lockout %s is shorter than the bolus duration %s: the next bolus could start before the last one ends.",
                                  _thecal_qtext (THECAL_QUANTITY_DURATION, ptm->lockout_ms, a),
                                  _thecal_qtext (THECAL_QUANTITY_DURATION, ptm->duration_ms, b));
  if (ptm->lockout_ms > DAY_MS)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "ptm.lockout",
                                  "ptm.lockout %s is longer than 24 h: at most 24 h.",
                                  _thecal_qtext (THECAL_QUANTITY_DURATION, ptm->lockout_ms, a));
  /* At most as many boluses as whole lockouts fit in 24 h, and never more than one every
   * 15 minutes (96 a day). */
  limit = DAY_MS / ptm->lockout_ms;
  if (limit > PTM_MAX_PER_24H)
    limit = PTM_MAX_PER_24H;
  if (ptm->max_per_24h < 1 || ptm->max_per_24h > limit)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "ptm.max_per_24h",
                                  "ptm.max_per_24h %d is out of range: with a lockout of %s it must be 1 to %d.",
                                  (int) ptm->max_per_24h, _thecal_qtext (THECAL_QUANTITY_DURATION, ptm->lockout_ms, a),
                                  (int) limit);
  return true;
}

bool
thecal_prescription_validate (const ThecalPrescription *rx, ThecalDoseError *error)
{
  char v[THECAL_QUANTITY_TEXT_MAX];
  bool stopped = false;

  if (rx == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "prescription", "no prescription was given.");

  switch (rx->mode)
    {
    case THECAL_MODE_STOPPED:
      stopped = true;
      break;
    case THECAL_MODE_CONTINUOUS:
    case THECAL_MODE_FLEX:
    case THECAL_MODE_MINIMUM_RATE:
      break;
    case THECAL_MODE_N_MODES:
    default:
      return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "mode",
                                    "mode %d is not one of stopped, continuous, flex or minimum_rate.", (int) rx->mode);
    }

  if (memchr (rx->drug_id, '\0', sizeof rx->drug_id) == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "drug_id",
                                  "drug_id is longer than %d characters.", THECAL_ID_MAX - 1);
  if (!stopped && rx->drug_id[0] == '\0')
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "drug_id",
                                  "drug_id is empty: a delivering prescription must name its drug.");
  if (rx->concentration_ng_per_ml < 0 || (!stopped && rx->concentration_ng_per_ml == 0))
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "concentration",
                                  "concentration %s is not above 0: a delivering prescription needs the drug's concentration.",
                                  _thecal_qtext (THECAL_QUANTITY_CONCENTRATION, rx->concentration_ng_per_ml, v));

  if (rx->mode == THECAL_MODE_FLEX)
    {
      if (rx->n_flex_steps < 1 || rx->n_flex_steps > THECAL_FLEX_STEPS_MAX)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "flex_steps",
                                      "flex_steps has %d steps: a flex prescription has 1 to %d.",
                                      (int) rx->n_flex_steps, THECAL_FLEX_STEPS_MAX);
    }
  else if (rx->n_flex_steps != 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "flex_steps",
                                  "flex_steps has %d steps: only the flex mode has steps (0 here).",
                                  (int) rx->n_flex_steps);
  if (rx->n_periodic_boluses < 0 || rx->n_periodic_boluses > THECAL_PERIODIC_BOLUSES_MAX)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "periodic_boluses",
                                  "periodic_boluses has %d entries: at most %d.", (int) rx->n_periodic_boluses,
                                  THECAL_PERIODIC_BOLUSES_MAX);
  if (stopped && rx->n_periodic_boluses > 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "periodic_boluses",
                                  "periodic_boluses has %d entries but the pump is stopped: a stopped pump delivers nothing.",
                                  (int) rx->n_periodic_boluses);
  if (stopped && rx->ptm.enabled)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "ptm.enabled",
                                  "ptm.enabled is set but the pump is stopped: a stopped pump delivers no PTM bolus.");

  if (rx->mode == THECAL_MODE_CONTINUOUS && !validate_amount (&rx->continuous, "continuous", error))
    return false;
  if (rx->mode == THECAL_MODE_FLEX && !validate_flex (rx, error))
    return false;
  if (!validate_periodic (rx, error))
    return false;
  return validate_ptm (&rx->ptm, error);
}

/* ---- the delivery plan ---------------------------------------------------------------------- */

static bool
amount_rate (const ThecalPumpModel *model,
             int64_t concentration_ng_per_ml,
             const ThecalDailyAmount *amount,
             const char *prefix,
             int64_t *rate_nl_per_day,
             ThecalDoseError *error)
{
  char field[THECAL_ERROR_FIELD_MAX];

  switch (amount->basis)
    {
    case THECAL_BASIS_DOSE:
      snprintf (field, sizeof field, "%s.dose", prefix);
      return rate_for_dose_field (model, concentration_ng_per_ml, amount->dose_ng_per_day, field, rate_nl_per_day,
                                  NULL, error);
    case THECAL_BASIS_RATE:
      snprintf (field, sizeof field, "%s.rate", prefix);
      return round_rate_field (model, amount->rate_nl_per_day, field, rate_nl_per_day, error);
    default:
      snprintf (field, sizeof field, "%s.basis", prefix);
      return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field, "%s %d is neither a dose nor a rate.",
                                    field, (int) amount->basis);
    }
}

static void
add_segment (ThecalDeliveryPlan *plan, int64_t start_ms, int64_t end_ms, int64_t rate_nl_per_day)
{
  ThecalDaySegment *seg = &plan->segments[plan->n_segments++];

  seg->start_ms_of_day = start_ms;
  seg->end_ms_of_day = end_ms;
  seg->basal_rate_nl_per_day = rate_nl_per_day;
}

/* One bolus of @dose_ng over @duration_ms: the volume rounded to whole strokes by the rule (one
 * rounding from the exact dose × 10^6 / concentration), the dose that volume really holds, and
 * a refusal when it rounds to nothing or would run faster than the model's bolus ceiling. */
static bool
plan_bolus (const ThecalPumpModel *model,
            int64_t concentration_ng_per_ml,
            int64_t dose_ng,
            int64_t duration_ms,
            const char *prefix,
            ThecalPlannedBolus *out,
            ThecalDoseError *error)
{
  char field[THECAL_ERROR_FIELD_MAX];
  char a[THECAL_QUANTITY_TEXT_MAX], b[THECAL_QUANTITY_TEXT_MAX], c[THECAL_QUANTITY_TEXT_MAX];
  char d[THECAL_QUANTITY_TEXT_MAX];
  int64_t strokes, volume, dose, rate, min_duration, stroke_dose;
  ThecalWide strokes_wide;

  snprintf (field, sizeof field, "%s.dose", prefix);
  strokes_wide = _thecal_wide_div ((ThecalWide) dose_ng * THECAL_NL_PER_ML,
                                   (ThecalWide) concentration_ng_per_ml * model->stroke_volume_nl, RULE);
  if (!_thecal_wide_to_i64 (strokes_wide, &strokes) || !thecal_mul_i64 (strokes, model->stroke_volume_nl, &volume)
      || !thecal_dose_ng_from_volume_nl (volume, concentration_ng_per_ml, RULE, &dose))
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_OVERFLOW, field,
                                  "%s %s is too large to compute a volume for.", field,
                                  _thecal_qtext (THECAL_QUANTITY_AMOUNT, dose_ng, a));
  if (strokes == 0)
    {
      if (!thecal_dose_ng_from_volume_nl (model->stroke_volume_nl, concentration_ng_per_ml, RULE, &stroke_dose))
        stroke_dose = 0;
      return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field,
                                    "%s %s at %s rounds to 0 strokes of %s: the smallest bolus the pump can deliver is one stroke (%s).",
                                    field, _thecal_qtext (THECAL_QUANTITY_AMOUNT, dose_ng, a),
                                    _thecal_qtext (THECAL_QUANTITY_CONCENTRATION, concentration_ng_per_ml, b),
                                    _thecal_qtext (THECAL_QUANTITY_VOLUME, model->stroke_volume_nl, c),
                                    _thecal_qtext (THECAL_QUANTITY_AMOUNT, stroke_dose, d));
    }

  /* ROUND_UP: the exact bolus rate is above the ceiling exactly when its ceiling is, so
   * rounding up never lets a too-fast bolus through and never refuses one that fits. */
  snprintf (field, sizeof field, "%s.duration", prefix);
  if (!thecal_muldiv_i64 (volume, DAY_MS, duration_ms, THECAL_ROUND_UP, &rate)
      || rate > model->bolus_rate_max_nl_per_day)
    {
      /* ROUND_UP: the shortest duration that is no faster than the ceiling. */
      if (!thecal_muldiv_i64 (volume, DAY_MS, model->bolus_rate_max_nl_per_day, THECAL_ROUND_UP, &min_duration))
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_OVERFLOW, field,
                                      "%s is far too short for %s: the bolus cannot be delivered.", field,
                                      _thecal_qtext (THECAL_QUANTITY_VOLUME, volume, a));
      return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field,
                                    "%s %s is too short for %s: at the pump's maximum bolus rate of %s it needs at least %s.",
                                    field, _thecal_qtext (THECAL_QUANTITY_DURATION, duration_ms, a),
                                    _thecal_qtext (THECAL_QUANTITY_VOLUME, volume, b),
                                    _thecal_qtext (THECAL_QUANTITY_VOLUME_RATE, model->bolus_rate_max_nl_per_day, c),
                                    _thecal_qtext (THECAL_QUANTITY_DURATION, min_duration, d));
    }

  out->start_ms_of_day = 0;
  out->duration_ms = duration_ms;
  out->volume_nl = volume;
  out->dose_ng = dose;
  return true;
}

static bool
plan_overflow (ThecalDoseError *error)
{
  return thecal_dose_error_set (error, THECAL_DOSE_ERROR_OVERFLOW, "plan",
                                "the prescription's daily totals are too large to compute.");
}

/* Σ rate × segment length (nL/day × ms): the day's basal volume times 86 400 000, exact. */
static ThecalWide
day_basal_integral (const ThecalDeliveryPlan *plan)
{
  ThecalWide sum = 0;

  for (int32_t i = 0; i < plan->n_segments; i++)
    {
      const ThecalDaySegment *seg = &plan->segments[i];

      sum += (ThecalWide) seg->basal_rate_nl_per_day * (seg->end_ms_of_day - seg->start_ms_of_day);
    }
  return sum;
}

static bool
plan_totals (ThecalDeliveryPlan *plan, ThecalDoseError *error)
{
  const int64_t ng_den = DAY_MS * THECAL_NL_PER_ML; /* 8.64 × 10^13: fits */
  ThecalWide basal_integral = day_basal_integral (plan);
  ThecalWide value, extra_integral, total_integral;
  int64_t periodic = 0, extra;

  /* basal: the exact integral / 86 400 000, rounded once */
  if (!_thecal_wide_to_i64 (_thecal_wide_div (basal_integral, DAY_MS, RULE), &plan->basal_nl_per_day))
    return plan_overflow (error);
  if (!_thecal_wide_muldiv (basal_integral, plan->concentration_ng_per_ml, ng_den, RULE, &value)
      || !_thecal_wide_to_i64 (value, &plan->basal_ng_per_day))
    return plan_overflow (error);

  for (int32_t i = 0; i < plan->n_boluses; i++)
    if (!thecal_add_i64 (periodic, plan->boluses[i].volume_nl, &periodic))
      return plan_overflow (error);
  plan->periodic_nl_per_day = periodic;
  if (!thecal_dose_ng_from_volume_nl (periodic, plan->concentration_ng_per_ml, RULE, &plan->periodic_ng_per_day))
    return plan_overflow (error);

  plan->ptm_worst_nl_per_day = 0;
  plan->ptm_worst_ng_per_day = 0;
  if (plan->ptm_enabled)
    {
      if (!thecal_mul_i64 (plan->ptm.volume_nl, plan->ptm_max_per_24h, &plan->ptm_worst_nl_per_day)
          || !thecal_dose_ng_from_volume_nl (plan->ptm_worst_nl_per_day, plan->concentration_ng_per_ml, RULE,
                                             &plan->ptm_worst_ng_per_day))
        return plan_overflow (error);
    }

  /* The bolus volumes are whole nL, so the total volume is exactly the sum; the total dose is
   * the exact (basal integral + bolus volumes × 86 400 000) × concentration, rounded once. */
  if (!thecal_add_i64 (periodic, plan->ptm_worst_nl_per_day, &extra)
      || !thecal_add_i64 (plan->basal_nl_per_day, extra, &plan->total_worst_nl_per_day))
    return plan_overflow (error);
  extra_integral = (ThecalWide) extra * DAY_MS;
  if (basal_integral > THECAL_WIDE_MAX - extra_integral)
    return plan_overflow (error);
  total_integral = basal_integral + extra_integral;
  if (!_thecal_wide_muldiv (total_integral, plan->concentration_ng_per_ml, ng_den, RULE, &value)
      || !_thecal_wide_to_i64 (value, &plan->total_worst_ng_per_day))
    return plan_overflow (error);
  return true;
}

bool
thecal_delivery_plan_resolve (const ThecalPrescription *rx,
                              const ThecalPumpModel *model,
                              ThecalDeliveryPlan *plan,
                              ThecalDoseError *error)
{
  ThecalDeliveryPlan p;
  char prefix[THECAL_ERROR_FIELD_MAX];
  int64_t conc, rate;

  if (plan == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "plan", "no plan to fill was given.");
  if (!thecal_prescription_validate (rx, error) || !check_model (model, error))
    return false;

  memset (&p, 0, sizeof p);
  conc = rx->concentration_ng_per_ml;
  p.mode = rx->mode;
  p.concentration_ng_per_ml = conc;
  p.stroke_volume_nl = model->stroke_volume_nl;

  switch (rx->mode)
    {
    case THECAL_MODE_STOPPED:
      add_segment (&p, 0, DAY_MS, 0);
      break;
    case THECAL_MODE_CONTINUOUS:
      if (!amount_rate (model, conc, &rx->continuous, "continuous", &rate, error))
        return false;
      add_segment (&p, 0, DAY_MS, rate);
      break;
    case THECAL_MODE_MINIMUM_RATE:
      add_segment (&p, 0, DAY_MS, model->minimum_rate_nl_per_day);
      break;
    case THECAL_MODE_FLEX:
      {
        int64_t rates[THECAL_FLEX_STEPS_MAX];
        int32_t n = rx->n_flex_steps;
        const ThecalFlexStep *last = &rx->flex_steps[n - 1];
        int32_t wrap_min = last->start_min + last->duration_min - THECAL_MINUTES_PER_DAY;

        for (int32_t i = 0; i < n; i++)
          {
            snprintf (prefix, sizeof prefix, "flex_steps[%d]", (int) i);
            if (!amount_rate (model, conc, &rx->flex_steps[i].amount, prefix, &rates[i], error))
              return false;
          }
        /* The last step may wrap past midnight: its part after midnight opens the day (it ends
         * exactly where the first step starts, as validated). */
        if (wrap_min > 0)
          add_segment (&p, 0, wrap_min * THECAL_MS_PER_MINUTE, rates[n - 1]);
        for (int32_t i = 0; i < n; i++)
          {
            int32_t start = rx->flex_steps[i].start_min;
            int32_t end = start + rx->flex_steps[i].duration_min;

            if (end > THECAL_MINUTES_PER_DAY)
              end = THECAL_MINUTES_PER_DAY;
            add_segment (&p, start * THECAL_MS_PER_MINUTE, end * THECAL_MS_PER_MINUTE, rates[i]);
          }
      }
      break;
    case THECAL_MODE_N_MODES:
    default:
      return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "mode", "mode %d is not known.", (int) rx->mode);
    }

  for (int32_t i = 0; i < rx->n_periodic_boluses; i++)
    {
      const ThecalPeriodicBolus *bolus = &rx->periodic_boluses[i];

      snprintf (prefix, sizeof prefix, "periodic_boluses[%d]", (int) i);
      if (!plan_bolus (model, conc, bolus->dose_ng, bolus->duration_ms, prefix, &p.boluses[i], error))
        return false;
      p.boluses[i].start_ms_of_day = bolus->start_min * THECAL_MS_PER_MINUTE;
    }
  p.n_boluses = rx->n_periodic_boluses;

  if (rx->ptm.enabled)
    {
      if (!plan_bolus (model, conc, rx->ptm.dose_ng, rx->ptm.duration_ms, "ptm", &p.ptm, error))
        return false;
      p.ptm_enabled = true;
      p.ptm_lockout_ms = rx->ptm.lockout_ms;
      p.ptm_max_per_24h = rx->ptm.max_per_24h;
    }

  if (!plan_totals (&p, error))
    return false;
  *plan = p;
  return true;
}

/* ---- volume between two instants ------------------------------------------------------------ */

/* The plan is read from memory the caller owns: check its shape before indexing into it. */
static bool
check_plan_shape (const ThecalDeliveryPlan *plan, ThecalDoseError *error)
{
  int64_t at = 0;

  if (plan == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "plan", "no delivery plan was given.");
  if (plan->n_segments < 1 || plan->n_segments > THECAL_DAY_SEGMENTS_MAX || plan->n_boluses < 0
      || plan->n_boluses > THECAL_PERIODIC_BOLUSES_MAX)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "plan",
                                  "the delivery plan has %d segments and %d boluses: it was not resolved.",
                                  (int) plan->n_segments, (int) plan->n_boluses);
  for (int32_t i = 0; i < plan->n_segments; i++)
    {
      const ThecalDaySegment *seg = &plan->segments[i];

      if (seg->start_ms_of_day != at || seg->end_ms_of_day <= seg->start_ms_of_day || seg->basal_rate_nl_per_day < 0)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "plan",
                                      "the delivery plan's segment %d does not continue the day profile.", (int) i);
      at = seg->end_ms_of_day;
    }
  if (at != DAY_MS)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "plan",
                                  "the delivery plan's segments do not cover the whole day.");
  for (int32_t i = 0; i < plan->n_boluses; i++)
    {
      const ThecalPlannedBolus *b = &plan->boluses[i];

      if (plan->stroke_volume_nl <= 0 || b->start_ms_of_day < 0 || b->start_ms_of_day >= DAY_MS || b->duration_ms <= 0
          || b->duration_ms > DAY_MS || b->volume_nl <= 0 || b->volume_nl % plan->stroke_volume_nl != 0)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "plan",
                                      "the delivery plan's bolus %d is not a whole number of strokes inside one day.",
                                      (int) i);
    }
  return true;
}

/* Σ rate × overlap ([0, x), segment) in nL/day × ms, for x in 0..86 400 000. */
static ThecalWide
basal_integral_to (const ThecalDeliveryPlan *plan, int64_t x_ms)
{
  ThecalWide sum = 0;

  for (int32_t i = 0; i < plan->n_segments && plan->segments[i].start_ms_of_day < x_ms; i++)
    {
      const ThecalDaySegment *seg = &plan->segments[i];
      int64_t end = seg->end_ms_of_day < x_ms ? seg->end_ms_of_day : x_ms;

      sum += (ThecalWide) seg->basal_rate_nl_per_day * (end - seg->start_ms_of_day);
    }
  return sum;
}

/* Strokes of one occurrence of @bolus delivered by @tau_ms after the midnight of the day it
 * starts (tau in 0..2 days). ROUND_DOWN: a stroke counts only once the pump has made it, so
 * strokes × elapsed / duration is truncated, never rounded up. */
static ThecalWide
strokes_done (const ThecalPlannedBolus *bolus, int64_t n_strokes, int64_t tau_ms)
{
  int64_t elapsed = tau_ms - bolus->start_ms_of_day;
  int64_t done = 0;

  if (elapsed <= 0)
    return 0;
  if (elapsed >= bolus->duration_ms)
    return n_strokes;
  /* n × elapsed < 2^63 × 2^27 and the quotient is below n: cannot fail */
  (void) thecal_muldiv_i64 (n_strokes, elapsed, bolus->duration_ms, THECAL_ROUND_DOWN, &done);
  return done;
}

/* The strokes delivered by periodic boluses up to ms @x of a day, relative to the day's start
 * (so that C (day × D + x) = day × strokes per day + this). The occurrence of the day before
 * may still be running (a bolus that wraps past midnight): it contributes f (D + x) − n. */
static ThecalWide
bolus_strokes_to (const ThecalDeliveryPlan *plan, int64_t x_ms)
{
  ThecalWide sum = 0;

  for (int32_t i = 0; i < plan->n_boluses; i++)
    {
      const ThecalPlannedBolus *b = &plan->boluses[i];
      int64_t n = b->volume_nl / plan->stroke_volume_nl;

      sum += strokes_done (b, n, DAY_MS + x_ms) - n + strokes_done (b, n, x_ms);
    }
  return sum;
}

static bool
volume_overflow (ThecalDoseError *error)
{
  return thecal_dose_error_set (error, THECAL_DOSE_ERROR_OVERFLOW, "t1",
                                "the volume delivered over this interval is too large to compute.");
}

/* The basal volume from day 0, ms x0 to day @days, ms x1: (days × day integral + partial
 * integrals) / 86 400 000, rounded once by the rule. */
static bool
basal_between (const ThecalDeliveryPlan *plan, ThecalWide days, int64_t x0_ms, int64_t x1_ms, int64_t *basal_nl)
{
  ThecalWide day_part, head = basal_integral_to (plan, x1_ms), tail = basal_integral_to (plan, x0_ms);

  /* days < 2^37.7 and the day integral < 2^63 × 2^26.4: the product is checked, and so is the
   * sum (each partial integral is below 2^90). */
  if (!_thecal_wide_mul (days, day_basal_integral (plan), &day_part) || day_part > THECAL_WIDE_MAX - head)
    return false;
  return _thecal_wide_to_i64 (_thecal_wide_div (day_part + head - tail, DAY_MS, RULE), basal_nl);
}

/* The periodic bolus volume over the same span: C (t1) − C (t0) strokes, where C counts the
 * strokes the pump has made; whole strokes only, so the sum over adjacent intervals is exact. */
static bool
bolus_between (const ThecalDeliveryPlan *plan, ThecalWide days, int64_t x0_ms, int64_t x1_ms, int64_t *bolus_nl)
{
  ThecalWide per_day = 0, day_part, strokes, volume;

  for (int32_t i = 0; i < plan->n_boluses; i++)
    per_day += plan->boluses[i].volume_nl / plan->stroke_volume_nl;
  /* per_day < 12 × 2^63 and days < 2^37.7: far below 2^127, still checked */
  if (!_thecal_wide_mul (days, per_day, &day_part))
    return false;
  strokes = day_part + bolus_strokes_to (plan, x1_ms) - bolus_strokes_to (plan, x0_ms);
  if (strokes < 0 || !_thecal_wide_mul (strokes, plan->stroke_volume_nl, &volume))
    return false;
  return _thecal_wide_to_i64 (volume, bolus_nl);
}

bool
thecal_delivery_plan_volume_between (const ThecalDeliveryPlan *plan,
                                     int64_t t0_local_ms,
                                     int64_t t1_local_ms,
                                     int64_t *volume_nl,
                                     ThecalDoseError *error)
{
  int64_t day0, x0, day1, x1, basal, bolus_nl, total;

  if (!check_plan_shape (plan, error))
    return false;
  if (volume_nl == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "volume", "no place for the volume was given.");
  if (t1_local_ms < t0_local_ms)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "t1",
                                  "t1 %" PRId64 " ms is before t0 %" PRId64 " ms: an interval cannot end before it starts.",
                                  t1_local_ms, t0_local_ms);

  /* Whole days are skipped arithmetically: the cost does not depend on the interval's length. */
  _thecal_split_day (t0_local_ms, &day0, &x0);
  _thecal_split_day (t1_local_ms, &day1, &x1);
  if (!basal_between (plan, (ThecalWide) day1 - day0, x0, x1, &basal)
      || !bolus_between (plan, (ThecalWide) day1 - day0, x0, x1, &bolus_nl) || !thecal_add_i64 (basal, bolus_nl, &total))
    return volume_overflow (error);
  *volume_nl = total;
  return true;
}

/* ---- names --------------------------------------------------------------------------------- */

const char *
thecal_mode_name (ThecalMode mode)
{
  switch (mode)
    {
    case THECAL_MODE_STOPPED:
      return "stopped";
    case THECAL_MODE_CONTINUOUS:
      return "continuous";
    case THECAL_MODE_FLEX:
      return "flex";
    case THECAL_MODE_MINIMUM_RATE:
      return "minimum_rate";
    case THECAL_MODE_N_MODES:
    default:
      return "unknown";
    }
}

bool
thecal_mode_from_name (const char *name, ThecalMode *mode)
{
  if (name == NULL || mode == NULL)
    return false;
  for (int m = 0; m < THECAL_MODE_N_MODES; m++)
    if (strcmp (name, thecal_mode_name ((ThecalMode) m)) == 0)
      {
        *mode = (ThecalMode) m;
        return true;
      }
  return false;
}
