/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-pump-model.c: finding, checking and using the description of a pump model.
 *
 * A pump model comes from a file (data/pump-models.json) and every rate, alarm and refill date
 * of Thecal is computed from it, so a model that contradicts itself is refused as a whole:
 * validation names the first field that is wrong, its value and the limit it broke.
 */
#include "config.h"

#include "thecal-pump-model.h"

#include "thecal-dose-private.h"
#include "thecal-quantity.h"

#include <string.h>

const ThecalPumpModel *
thecal_pump_model_set_find (const ThecalPumpModelSet *set, const char *id)
{
  if (set == NULL || id == NULL)
    return NULL;
  for (int32_t i = 0; i < set->n_models && i < THECAL_PUMP_MODELS_MAX; i++)
    {
      const ThecalPumpModel *model = &set->models[i];

      /* ids are NUL-terminated within their array (thecal_pump_model_validate checks it) */
      if (memchr (model->id, '\0', sizeof model->id) != NULL && strcmp (model->id, id) == 0)
        return model;
    }
  return NULL;
}

/* @value must be > 0. */
static bool
check_positive (const char *id,
                const char *field,
                ThecalQuantityKind kind,
                int64_t value,
                ThecalDoseError *error)
{
  char shown[THECAL_QUANTITY_TEXT_MAX];

  if (value > 0)
    return true;
  return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field,
                                "pump model \"%s\": %s is %s, but it must be greater than zero",
                                id, field, _thecal_qtext (kind, value, shown));
}

/* @value must be ≤ @limit (or < @limit when @strict). */
static bool
check_below (const char *id,
             const char *field,
             ThecalQuantityKind kind,
             int64_t value,
             const char *limit_field,
             int64_t limit,
             bool strict,
             ThecalDoseError *error)
{
  char shown_value[THECAL_QUANTITY_TEXT_MAX];
  char shown_limit[THECAL_QUANTITY_TEXT_MAX];

  if (strict ? value < limit : value <= limit)
    return true;
  return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field,
                                "pump model \"%s\": %s (%s) must be %s %s (%s)",
                                id, field, _thecal_qtext (kind, value, shown_value),
                                strict ? "below" : "at most", limit_field,
                                _thecal_qtext (kind, limit, shown_limit));
}

/* @value must be a whole multiple of the rate resolution (> 0, checked before). */
static bool
check_resolution (const ThecalPumpModel *model,
                  const char *field,
                  int64_t value,
                  ThecalDoseError *error)
{
  char shown_value[THECAL_QUANTITY_TEXT_MAX];
  char shown_step[THECAL_QUANTITY_TEXT_MAX];

  if (value % model->rate_resolution_nl_per_day == 0)
    return true;
  return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field,
                                "pump model \"%s\": %s (%s) is not a multiple of the rate resolution (%s)",
                                model->id, field,
                                _thecal_qtext (THECAL_QUANTITY_VOLUME_RATE, value, shown_value),
                                _thecal_qtext (THECAL_QUANTITY_VOLUME_RATE, model->rate_resolution_nl_per_day, shown_step));
}

/* A text field must be NUL-terminated inside its array and not empty. */
static bool
check_text (const char *id, const char *field, const char *text, size_t size, ThecalDoseError *error)
{
  if (memchr (text, '\0', size) == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field,
                                  "pump model: %s is longer than %zu bytes", field, size - 1);
  if (text[0] == '\0')
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field,
                                  "pump model \"%s\": %s is empty", id, field);
  return true;
}

bool
thecal_pump_model_validate (const ThecalPumpModel *m, ThecalDoseError *error)
{
  const char *id;

  if (m == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "model", "pump model is missing");

  if (!check_text ("", "id", m->id, sizeof m->id, error))
    return false;
  id = m->id;
  if (!check_text (id, "name", m->name, sizeof m->name, error))
    return false;

  /* quantities that only make sense above zero */
  if (!check_positive (id, "reservoir_capacity", THECAL_QUANTITY_VOLUME, m->reservoir_capacity_nl, error)
      || !check_positive (id, "rate_resolution", THECAL_QUANTITY_VOLUME_RATE, m->rate_resolution_nl_per_day, error)
      || !check_positive (id, "rate_min", THECAL_QUANTITY_VOLUME_RATE, m->rate_min_nl_per_day, error)
      || !check_positive (id, "rate_max", THECAL_QUANTITY_VOLUME_RATE, m->rate_max_nl_per_day, error)
      || !check_positive (id, "minimum_rate", THECAL_QUANTITY_VOLUME_RATE, m->minimum_rate_nl_per_day, error)
      || !check_positive (id, "bolus_rate_max", THECAL_QUANTITY_VOLUME_RATE, m->bolus_rate_max_nl_per_day, error)
      || !check_positive (id, "stroke_volume", THECAL_QUANTITY_VOLUME, m->stroke_volume_nl, error)
      || !check_positive (id, "internal_volume", THECAL_QUANTITY_VOLUME, m->internal_volume_nl, error)
      || !check_positive (id, "low_reservoir_alarm", THECAL_QUANTITY_VOLUME, m->low_reservoir_alarm_nl, error)
      || !check_positive (id, "refill_threshold", THECAL_QUANTITY_VOLUME, m->refill_threshold_nl, error)
      || !check_positive (id, "discrepancy_threshold", THECAL_QUANTITY_VOLUME, m->discrepancy_threshold_nl, error))
    return false;

  /* the rate range: minimum-rate mode ≤ lowest delivering rate ≤ highest rate */
  if (!check_below (id, "rate_min", THECAL_QUANTITY_VOLUME_RATE, m->rate_min_nl_per_day,
                    "rate_max", m->rate_max_nl_per_day, false, error)
      || !check_below (id, "minimum_rate", THECAL_QUANTITY_VOLUME_RATE, m->minimum_rate_nl_per_day,
                       "rate_min", m->rate_min_nl_per_day, false, error))
    return false;

  /* every programmable rate is a multiple of the resolution, so the limits must be too */
  if (!check_resolution (m, "rate_min", m->rate_min_nl_per_day, error)
      || !check_resolution (m, "rate_max", m->rate_max_nl_per_day, error)
      || !check_resolution (m, "minimum_rate", m->minimum_rate_nl_per_day, error))
    return false;

  /* reservoir thresholds: 0 ≤ empty < low-reservoir alarm ≤ refill threshold < capacity */
  if (m->empty_nl < 0)
    {
      char shown[THECAL_QUANTITY_TEXT_MAX];

      return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "empty",
                                    "pump model \"%s\": empty is %s, but it cannot be below zero",
                                    id, _thecal_qtext (THECAL_QUANTITY_VOLUME, m->empty_nl, shown));
    }
  if (!check_below (id, "empty", THECAL_QUANTITY_VOLUME, m->empty_nl,
                    "low_reservoir_alarm", m->low_reservoir_alarm_nl, true, error)
      || !check_below (id, "low_reservoir_alarm", THECAL_QUANTITY_VOLUME, m->low_reservoir_alarm_nl,
                       "refill_threshold", m->refill_threshold_nl, false, error)
      || !check_below (id, "refill_threshold", THECAL_QUANTITY_VOLUME, m->refill_threshold_nl,
                       "reservoir_capacity", m->reservoir_capacity_nl, true, error)
      || !check_below (id, "discrepancy_threshold", THECAL_QUANTITY_VOLUME, m->discrepancy_threshold_nl,
                       "reservoir_capacity", m->reservoir_capacity_nl, true, error))
    return false;

  /* flow accuracy: a fraction of the rate, 0 % .. 100 % */
  if (m->accuracy_bp < 0 || m->accuracy_bp > THECAL_BP_WHOLE)
    {
      char shown[THECAL_QUANTITY_TEXT_MAX];

      return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "accuracy",
                                    "pump model \"%s\": accuracy is %s, but it must lie between 0 %% and 100 %%",
                                    id, _thecal_qtext (THECAL_QUANTITY_RATIO, m->accuracy_bp, shown));
    }

  /* battery: the replacement indicator comes before the end of service */
  if (m->service_life_days <= 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "service_life_days",
                                  "pump model \"%s\": service_life_days is %lld, but it must be greater than zero",
                                  id, (long long) m->service_life_days);
  if (m->eri_days_before_eos <= 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "eri_days_before_eos",
                                  "pump model \"%s\": eri_days_before_eos is %lld, but it must be greater than zero",
                                  id, (long long) m->eri_days_before_eos);
  if (m->eri_days_before_eos >= m->service_life_days)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "eri_days_before_eos",
                                  "pump model \"%s\": eri_days_before_eos (%lld days) must be below service_life_days (%lld days)",
                                  id, (long long) m->eri_days_before_eos, (long long) m->service_life_days);
  return true;
}

bool
thecal_pump_model_round_rate (const ThecalPumpModel *model,
                              int64_t rate_nl_per_day,
                              ThecalRounding rounding,
                              int64_t *rounded_nl_per_day)
{
  if (model == NULL || rounded_nl_per_day == NULL || model->rate_resolution_nl_per_day <= 0)
    return false;
  return thecal_round_to_step_i64 (rate_nl_per_day, model->rate_resolution_nl_per_day, rounding,
                                   rounded_nl_per_day);
}
