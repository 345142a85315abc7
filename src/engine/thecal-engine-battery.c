/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-engine-battery.c: the battery model (docs/engine.md "Battery", CLINICAL.md §1.7).
 *
 * Energy is an integer number of units. It drains by a base amount per ms (electronics,
 * telemetry) and by an amount per nL of nominal stroke volume (the motor), calibrated on two
 * facts of CLINICAL.md §1.7: the pump shuts down after service_life_days at the least (7 years
 * at 0 mL/day) and lasts "typically 5–7 y depending on daily volume", taken as 5 years (1 825
 * days) at 1 mL/day:
 *   capacity = B × 86 400 000 × L            (L = service_life_days, B = 9 125 per ms)
 *   capacity = (B × 86 400 000 + N × 10^6) × 1 825   →   N = 432 × (L − 1 825) per nL
 * (B = 5 × 1 825 makes N an integer for every L.) A battery-drain fault multiplies every drain
 * by drain_bp / 10 000; the remainder is carried, so the drain is exact however the time is cut.
 * ERI is raised when the energy left is eri_days_before_eos days of the current drain, so it
 * comes that many days before EOS when the prescription does not change.
 */
#include "config.h"

#include "thecal-engine-private.h"

#include <inttypes.h>

#define DAY_MS THECAL_ENGINE_DAY_MS

bool
_thecal_battery_setup (ThecalEngine *engine, int64_t battery_bp, ThecalDoseError *error)
{
  const ThecalPumpModel *model = &engine->model;
  int64_t per_day, capacity, remaining;

  if (model->service_life_days <= 0 || model->eri_days_before_eos < 0
      || model->eri_days_before_eos >= model->service_life_days)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "model.service_life_days",
                                  "the pump model's service life of %" PRId64 " days and ERI lead of %" PRId64 " days are out of range: the life must be above 0 and above the lead.",
                                  model->service_life_days, model->eri_days_before_eos);
  if (!thecal_mul_i64 (THECAL_ENGINE_BATTERY_PER_MS, DAY_MS, &per_day)
      || !thecal_mul_i64 (per_day, model->service_life_days, &capacity))
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_OVERFLOW, "model.service_life_days",
                                  "the pump model's service life of %" PRId64 " days is too long for the battery model.",
                                  model->service_life_days);
  engine->battery_capacity = capacity;
  engine->battery_per_nl = model->service_life_days > THECAL_ENGINE_BATTERY_REFERENCE_DAYS
                               ? THECAL_ENGINE_BATTERY_NL_FACTOR
                                     * (model->service_life_days - THECAL_ENGINE_BATTERY_REFERENCE_DAYS)
                               : 0;
  /* ROUND_DOWN: a partly used battery never holds more than its share of a new one. */
  if (!thecal_muldiv_i64 (capacity, battery_bp, THECAL_BP_WHOLE, THECAL_ROUND_DOWN, &remaining) || remaining <= 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "battery",
                                  "battery %" PRId64 " bp leaves no energy: give 1 to 10000 bp.", battery_bp);
  engine->battery_remaining = remaining;
  engine->battery_carry = 0;
  engine->battery_clock_ms = engine->clock_ms;
  engine->drain_bp = THECAL_BP_WHOLE;
  return true;
}

ThecalWide
_thecal_battery_raw (const ThecalEngine *engine, int64_t ms, int64_t strokes)
{
  return (ThecalWide) THECAL_ENGINE_BATTERY_PER_MS * ms
         + (ThecalWide) engine->battery_per_nl * engine->model.stroke_volume_nl * strokes;
}

ThecalWide
_thecal_battery_used (const ThecalEngine *engine, ThecalWide raw)
{
  /* raw < 2^100 for any span of int64 ms and strokes; × drain (< 2^20) stays below 2^127 */
  return (raw * engine->drain_bp + engine->battery_carry) / THECAL_BP_WHOLE;
}

void
_thecal_battery_consume (ThecalEngine *engine, ThecalWide raw)
{
  ThecalWide total = raw * engine->drain_bp + engine->battery_carry;
  ThecalWide used = total / THECAL_BP_WHOLE;

  engine->battery_carry = (int64_t) (total % THECAL_BP_WHOLE);
  if (used >= engine->battery_remaining)
    engine->battery_remaining = 0;
  else
    engine->battery_remaining -= (int64_t) used;
}

static ThecalWide
raw_per_day (const ThecalEngine *engine)
{
  return (ThecalWide) THECAL_ENGINE_BATTERY_PER_MS * DAY_MS + (ThecalWide) engine->battery_per_nl * engine->daily_nominal_nl;
}

/* x / 10 000 by the rule, for x ≥ 0, saturated to int64_t */
static int64_t
bp_scale (ThecalWide x)
{
  ThecalWide q = _thecal_wide_div (x, THECAL_BP_WHOLE, THECAL_ENGINE_RULE);

  return q > INT64_MAX ? INT64_MAX : (int64_t) q;
}

int64_t
_thecal_battery_drain_per_day (const ThecalEngine *engine)
{
  return bp_scale (raw_per_day (engine) * engine->drain_bp);
}

void
_thecal_battery_update_eri_threshold (ThecalEngine *engine)
{
  /* eri days × the day's drain, rounded once by the rule */
  engine->eri_threshold = bp_scale (raw_per_day (engine) * engine->drain_bp * engine->model.eri_days_before_eos);
}
