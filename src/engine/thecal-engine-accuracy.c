/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-engine-accuracy.c: the trumpet analysis (docs/engine.md "Accuracy", CLINICAL.md §5.1).
 *
 * IEC 60601-2-24 weighs the output of an external pump every 30 s for 2 h and slides windows of
 * 2 to 31 min over the second hour. An implanted pump delivers 0.048–24 mL/day in strokes of
 * 250 nL, so the same method is scaled by about 30: samples every 15 min, a 24 h start-up, a 48 h
 * analysis period and windows of 1 to 24 h (at 0.2 mL/day a 1 h window holds 33 strokes, so the
 * stroke quantisation shows at the narrow end of the trumpet, as the start-up does in IEC's).
 * Every figure is an integer in basis points, rounded by the rule.
 */
#include "config.h"

#include "thecal-engine-accuracy.h"

#include "thecal-engine-private.h"

#include <inttypes.h>
#include <string.h>

void
thecal_accuracy_config_init (ThecalAccuracyConfig *config)
{
  static const int64_t hours[] = { 1, 2, 4, 6, 12, 24 };

  if (config == NULL)
    return;
  memset (config, 0, sizeof *config);
  config->sample_ms = 15 * THECAL_MS_PER_MINUTE;
  config->startup_ms = 24 * THECAL_MS_PER_HOUR;
  config->analysis_ms = 48 * THECAL_MS_PER_HOUR;
  config->n_windows = (int32_t) (sizeof hours / sizeof hours[0]);
  for (int32_t i = 0; i < config->n_windows; i++)
    config->window_ms[i] = hours[i] * THECAL_MS_PER_HOUR;
}

static bool
check_config (const ThecalAccuracyConfig *c, ThecalDoseError *error)
{
  int64_t n;

  if (c->sample_ms <= 0 || c->startup_ms < 0 || c->analysis_ms <= 0 || c->startup_ms % c->sample_ms != 0
      || c->analysis_ms % c->sample_ms != 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "sample",
                                  "the sampling interval must be above 0 and divide the start-up and analysis periods.");
  n = c->startup_ms / c->sample_ms + c->analysis_ms / c->sample_ms;
  if (n > THECAL_ACCURACY_SAMPLES_MAX)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_CAPACITY, "sample",
                                  "%" PRId64 " samples are more than the %d an analysis holds: sample less often.", n,
                                  THECAL_ACCURACY_SAMPLES_MAX);
  if (c->n_windows < 1 || c->n_windows > THECAL_ACCURACY_WINDOWS_MAX)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "windows", "an analysis has 1 to %d windows, not %d.",
                                  THECAL_ACCURACY_WINDOWS_MAX, (int) c->n_windows);
  for (int32_t i = 0; i < c->n_windows; i++)
    if (c->window_ms[i] <= 0 || c->window_ms[i] % c->sample_ms != 0 || c->window_ms[i] > c->analysis_ms)
      return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "windows",
                                    "window %d of %" PRId64 " ms is not a multiple of the sampling interval within the analysis period.",
                                    (int) i, c->window_ms[i]);
  return true;
}

/* 10 000 × (delivered − programmed) / programmed, by the rule (programmed > 0). */
static bool
error_bp (int64_t delivered_nl, int64_t programmed_nl, int64_t *bp)
{
  return thecal_muldiv_i64 (delivered_nl - programmed_nl, THECAL_BP_WHOLE, programmed_nl, THECAL_ENGINE_RULE, bp);
}

bool
thecal_engine_accuracy (ThecalEngine *engine,
                        const ThecalAccuracyConfig *config,
                        ThecalAccuracyResult *result,
                        ThecalDoseError *error)
{
  int64_t n_startup, n_analysis, start_true, start_pump;
  int64_t cum_delivered[THECAL_ACCURACY_SAMPLES_MAX + 1], cum_programmed[THECAL_ACCURACY_SAMPLES_MAX + 1];
  ThecalAccuracyConfig c;

  if (engine == NULL || result == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "engine", "no engine or result was given.");
  if (config == NULL)
    thecal_accuracy_config_init (&c);
  else
    c = *config;
  if (!check_config (&c, error))
    return false;

  memset (result, 0, sizeof *result);
  result->config = c;
  n_startup = c.startup_ms / c.sample_ms;
  n_analysis = c.analysis_ms / c.sample_ms;
  result->n_samples = (int32_t) (n_startup + n_analysis);
  start_true = engine->true_ms;
  start_pump = thecal_engine_pump_ms (engine);

  /* cumulative volumes at each sample instant, from the start of the run */
  cum_delivered[0] = 0;
  cum_programmed[0] = 0;
  for (int32_t i = 1; i <= result->n_samples; i++)
    {
      int64_t before = engine->tip_nl, programmed;
      int64_t offset = (int64_t) i * c.sample_ms;

      if (!thecal_engine_advance_to (engine, start_true + offset, error))
        return false;
      /* the ideal clock: the pump clock as it would read without drift. The programmed volume
       * is taken from the start each time (one rounding per sample, not one per interval), so
       * that any window's programmed volume is the plan's to within 1 nL. */
      if (!thecal_delivery_plan_volume_between (&engine->plan, start_pump, start_pump + offset, &programmed, error))
        return false;
      cum_delivered[i] = cum_delivered[i - 1] + (engine->tip_nl - before);
      cum_programmed[i] = programmed;
      result->sample_delivered_nl[i - 1] = cum_delivered[i] - cum_delivered[i - 1];
      result->sample_programmed_nl[i - 1] = cum_programmed[i] - cum_programmed[i - 1];
    }

  /* the analysis period runs from sample n_startup to the end */
  result->delivered_nl = cum_delivered[result->n_samples] - cum_delivered[n_startup];
  result->programmed_nl = cum_programmed[result->n_samples] - cum_programmed[n_startup];
  if (result->programmed_nl > 0)
    {
      if (!error_bp (result->delivered_nl, result->programmed_nl, &result->mean_error_bp))
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_OVERFLOW, "accuracy", "the mean error is too large to compute.");
      result->has_mean = true;
    }

  result->n_windows = c.n_windows;
  for (int32_t w = 0; w < c.n_windows; w++)
    {
      ThecalAccuracyWindow *win = &result->windows[w];
      int64_t m = c.window_ms[w] / c.sample_ms;

      win->window_ms = c.window_ms[w];
      win->max_bp = 0;
      win->min_bp = 0;
      for (int64_t j = n_startup; j + m <= result->n_samples; j++)
        {
          int64_t v = cum_delivered[j + m] - cum_delivered[j];
          int64_t p = cum_programmed[j + m] - cum_programmed[j];
          int64_t e;

          if (p <= 0)
            continue; /* nothing programmed in this window: no percentage */
          if (!error_bp (v, p, &e))
            return thecal_dose_error_set (error, THECAL_DOSE_ERROR_OVERFLOW, "accuracy",
                                          "a window error is too large to compute.");
          if (win->n_positions == 0 || e > win->max_bp)
            win->max_bp = e;
          if (win->n_positions == 0 || e < win->min_bp)
            win->min_bp = e;
          win->n_positions++;
        }
    }
  return true;
}
