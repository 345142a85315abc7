/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-engine-accuracy.h: the accuracy ("trumpet") analysis of the reference pump, in the
 * manner of IEC 60601-2-24 (CLINICAL.md §5.1) scaled to implanted-pump rates (docs/engine.md
 * "Accuracy"): the delivered volume is sampled every Δt (15 min) over a start-up period (24 h)
 * and an analysis period (48 h); for each observation window P (1, 2, 4, 6, 12, 24 h) a window
 * slides across the analysis period by Δt and the percentage error of the volume delivered in it
 * against the volume the plan programs in it is taken at every position:
 *   E_j (P) = 10 000 × (V_j − Vprog_j) / Vprog_j   (basis points, rule rounding)
 *   Ep(max) = max_j E_j, Ep(min) = min_j E_j, A = 10 000 × (V_T2 − Vprog_T2) / Vprog_T2.
 */
#pragma once

#include "thecal-engine.h"

#ifdef __cplusplus
extern "C"
{
#endif

#define THECAL_ACCURACY_WINDOWS_MAX 8
#define THECAL_ACCURACY_SAMPLES_MAX 1024

  typedef struct
  {
    int64_t sample_ms;   /* Δt */
    int64_t startup_ms;  /* before the analysis period (a multiple of Δt) */
    int64_t analysis_ms; /* T2 (a multiple of Δt) */
    int32_t n_windows;
    int32_t reserved;
    int64_t window_ms[THECAL_ACCURACY_WINDOWS_MAX]; /* multiples of Δt, at most T2 */
  } ThecalAccuracyConfig;

  typedef struct
  {
    int64_t window_ms;
    int64_t max_bp;      /* Ep(max) */
    int64_t min_bp;      /* Ep(min) */
    int32_t n_positions; /* positions with a programmed volume above 0 (the others are skipped) */
    int32_t reserved;
  } ThecalAccuracyWindow;

  typedef struct
  {
    ThecalAccuracyConfig config;
    int64_t programmed_nl; /* over the analysis period */
    int64_t delivered_nl;
    int64_t mean_error_bp; /* A; 0 when nothing is programmed (has_mean false) */
    bool has_mean;
    int32_t n_windows;
    ThecalAccuracyWindow windows[THECAL_ACCURACY_WINDOWS_MAX];
    int32_t n_samples; /* intervals of Δt: start-up then analysis */
    int64_t sample_delivered_nl[THECAL_ACCURACY_SAMPLES_MAX];
    int64_t sample_programmed_nl[THECAL_ACCURACY_SAMPLES_MAX];
  } ThecalAccuracyResult;

  /* Δt 15 min, start-up 24 h, analysis 48 h, windows 1, 2, 4, 6, 12 and 24 h. */
  void thecal_accuracy_config_init (ThecalAccuracyConfig *config);

  /* Runs @engine (left at the end; give it a copy to keep the original) from its current time
   * through the start-up and analysis periods with no PTM presses, and fills @result. The programmed
   * volume of each interval is thecal_delivery_plan_volume_between of the engine's plan over the
   * pump-clock interval an ideal clock would show (clock drift therefore counts as error). */
  bool thecal_engine_accuracy (ThecalEngine *engine,
                               const ThecalAccuracyConfig *config,
                               ThecalAccuracyResult *result,
                               ThecalDoseError *error);

#ifdef __cplusplus
}
#endif
