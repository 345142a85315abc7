/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-engine-projection.h: running the engine over days with a PTM press pattern, as a series
 * of periods (a day or an hour each): delivered volume and dose, reservoir (estimate and actual),
 * PTM grants and refusals, alarms and events. Used by `thecal-cli simulate` and by the validation
 * of docs/engine.md ("Projection"). No heap: the caller gives the sample array.
 */
#pragma once

#include "thecal-engine.h"

#ifdef __cplusplus
extern "C"
{
#endif

#define THECAL_PTM_PATTERN_TIMES_MAX 24

  typedef enum
  {
    THECAL_PTM_PATTERN_NONE = 0,   /* no presses */
    THECAL_PTM_PATTERN_TIMES,      /* a press at each listed time of every day (true local time) */
    THECAL_PTM_PATTERN_WORST_CASE, /* a press whenever the lockout and the 24 h maximum allow one */
  } ThecalPtmPatternKind;

  typedef struct
  {
    ThecalPtmPatternKind kind;
    int32_t n_times;
    int32_t minutes[THECAL_PTM_PATTERN_TIMES_MAX]; /* minutes after local midnight, ascending */
  } ThecalPtmPattern;

  /* One period [start, end) of true local time. Volumes and doses are what happened in it; the
   * reservoir and battery are at its end. */
  typedef struct
  {
    int64_t start_true_ms;
    int64_t end_true_ms;
    int64_t end_pump_ms;
    int64_t delivered_nl; /* fluid out of the catheter tip */
    int64_t delivered_ng; /* drug out of the catheter tip */
    int64_t pumped_nl;    /* nominal stroke volume the motor moved */
    int64_t reservoir_estimate_nl;
    int64_t reservoir_actual_nl;
    int64_t battery_bp;
    int32_t ptm_granted;
    int32_t ptm_refused;
    uint32_t alarms_raised; /* bit (1 << ThecalAlarmKind) for each alarm raised in the period */
    uint32_t alarms_active; /* raised (indicated) at the end of the period */
    int64_t first_seq;      /* the events of the period are first_seq .. next_seq − 1 */
    int64_t next_seq;
  } ThecalEngineSample;

  typedef struct
  {
    int64_t first_raised_pump_ms[THECAL_ALARM_N_KINDS]; /* first raise during the run; INT64_MAX: none */
    int64_t delivered_nl;
    int64_t delivered_ng;
    int64_t pumped_nl;
    int64_t ptm_granted;
    int64_t ptm_refused;
  } ThecalEngineRunSummary;

  /* Parses "08:00,12:30,20:00" (ascending, distinct), "worst" or "none". */
  bool thecal_ptm_pattern_parse (const char *text, ThecalPtmPattern *pattern, ThecalDoseError *error);

  /* Runs @engine from its current true time for @n_periods periods of @period_ms, pressing PTM
   * requests by @pattern (NULL: none). @samples (may be NULL) receives @n_periods entries; the
   * engine is left at the end. */
  bool thecal_engine_run (ThecalEngine *engine,
                          int64_t period_ms,
                          int32_t n_periods,
                          const ThecalPtmPattern *pattern,
                          ThecalEngineSample *samples,
                          ThecalEngineRunSummary *summary,
                          ThecalDoseError *error);

#ifdef __cplusplus
}
#endif
