/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-engine-projection.c: the engine run over periods with a PTM press pattern
 * (docs/engine.md "Projection").
 *
 * Each period advances the engine to every press inside it, asks for a PTM bolus there, then
 * advances to the end of the period and reads the counters. The worst case presses whenever the
 * lockout and the 24 h maximum allow (the earliest instants thecal_engine_ptm_next_allowed_pump_ms
 * gives), the way the refill date of CLINICAL.md §1.5 assumes every allowed bolus is used.
 */
#include "config.h"

#include "thecal-engine-projection.h"

#include "thecal-engine-private.h"
#include "thecal-quantity.h"

#include <string.h>

#define DAY_MS THECAL_ENGINE_DAY_MS

bool
thecal_ptm_pattern_parse (const char *text, ThecalPtmPattern *pattern, ThecalDoseError *error)
{
  ThecalPtmPattern p;
  const char *at;

  if (text == NULL || pattern == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "ptm_presses", "no PTM press pattern was given.");
  memset (&p, 0, sizeof p);
  while (*text == ' ')
    text++;
  if (strcmp (text, "none") == 0 || text[0] == '\0')
    p.kind = THECAL_PTM_PATTERN_NONE;
  else if (strcmp (text, "worst") == 0)
    p.kind = THECAL_PTM_PATTERN_WORST_CASE;
  else
    {
      p.kind = THECAL_PTM_PATTERN_TIMES;
      at = text;
      for (;;)
        {
          char token[THECAL_QUANTITY_TEXT_MAX];
          const char *comma = strchr (at, ',');
          size_t length = comma != NULL ? (size_t) (comma - at) : strlen (at);
          int64_t minute;

          if (length >= sizeof token)
            return thecal_dose_error_set (error, THECAL_DOSE_ERROR_PARSE, "ptm_presses",
                                          "PTM press time \"%.*s\" is too long: use HH:MM.", (int) (sizeof token - 1), at);
          memcpy (token, at, length);
          token[length] = '\0';
          if (!thecal_quantity_parse (THECAL_QUANTITY_TIME_OF_DAY, token, "ptm_presses", &minute, error))
            return false;
          if (p.n_times == THECAL_PTM_PATTERN_TIMES_MAX)
            return thecal_dose_error_set (error, THECAL_DOSE_ERROR_CAPACITY, "ptm_presses",
                                          "PTM press pattern \"%s\" has more than %d times a day.", text,
                                          THECAL_PTM_PATTERN_TIMES_MAX);
          if (p.n_times > 0 && minute <= p.minutes[p.n_times - 1])
            return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "ptm_presses",
                                          "PTM press time \"%s\" is not after the one before it: list the times of a day in order.",
                                          token);
          p.minutes[p.n_times++] = (int32_t) minute;
          if (comma == NULL)
            break;
          at = comma + 1;
        }
    }
  *pattern = p;
  return true;
}

/* The pump-local day that holds @t_ms (floor division, also before the epoch). */
static int64_t
day_of (int64_t t_ms)
{
  int64_t day, ms_of_day;

  _thecal_split_day (t_ms, &day, &ms_of_day);
  return day;
}

/* Notes the first raise of each alarm since the last look. */
static void
note_alarms (const ThecalEngine *engine, int64_t *counts, ThecalEngineRunSummary *summary, uint32_t *raised)
{
  for (int32_t k = 0; k < THECAL_ALARM_N_KINDS; k++)
    if (engine->alarms[k].count != counts[k])
      {
        /* within one advance an alarm rises at most once (a second rise needs a command), so the
         * last raise is the one that happened */
        if (summary->first_raised_pump_ms[k] == INT64_MAX)
          summary->first_raised_pump_ms[k] = engine->alarms[k].raised_at_pump_ms;
        counts[k] = engine->alarms[k].count;
        *raised |= UINT32_C (1) << k;
      }
}

static bool
press (ThecalEngine *engine,
       int64_t true_ms,
       int64_t *counts,
       ThecalEngineRunSummary *summary,
       ThecalEngineSample *sample,
       ThecalPtmOutcome *outcome,
       ThecalDoseError *error)
{
  if (!thecal_engine_advance_to (engine, true_ms, error))
    return false;
  note_alarms (engine, counts, summary, &sample->alarms_raised);
  if (engine->eos)
    {
      *outcome = THECAL_PTM_REFUSED_NOT_DELIVERING; /* a dead pump does not answer */
      return true;
    }
  if (!thecal_engine_ptm_request (engine, outcome, error))
    return false;
  if (*outcome == THECAL_PTM_GRANTED)
    sample->ptm_granted++;
  else
    sample->ptm_refused++;
  note_alarms (engine, counts, summary, &sample->alarms_raised);
  return true;
}

bool
thecal_engine_run (ThecalEngine *engine,
                   int64_t period_ms,
                   int32_t n_periods,
                   const ThecalPtmPattern *pattern,
                   ThecalEngineSample *samples,
                   ThecalEngineRunSummary *summary,
                   ThecalDoseError *error)
{
  ThecalEngineRunSummary sum;
  ThecalPtmPattern none;
  int64_t counts[THECAL_ALARM_N_KINDS];
  int64_t end_of_run;

  if (engine == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "engine", "no engine was given.");
  if (period_ms <= 0 || period_ms > 366 * DAY_MS || n_periods < 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "period",
                                  "a run needs a period of 1 ms to 366 days and 0 or more periods.");
  if (!thecal_mul_i64 (period_ms, n_periods, &end_of_run) || !thecal_add_i64 (engine->true_ms, end_of_run, &end_of_run)
      || end_of_run > INT64_MAX / 4)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_OVERFLOW, "period", "the run is too long to simulate.");
  if (pattern == NULL)
    {
      memset (&none, 0, sizeof none);
      pattern = &none;
    }
  if (pattern->n_times < 0 || pattern->n_times > THECAL_PTM_PATTERN_TIMES_MAX)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "ptm_presses", "the PTM press pattern has %d times.",
                                  (int) pattern->n_times);

  memset (&sum, 0, sizeof sum);
  for (int32_t k = 0; k < THECAL_ALARM_N_KINDS; k++)
    {
      sum.first_raised_pump_ms[k] = INT64_MAX;
      counts[k] = engine->alarms[k].count;
    }

  for (int32_t i = 0; i < n_periods; i++)
    {
      ThecalEngineSample sample;
      int64_t start = engine->true_ms, end = start + period_ms;
      int64_t tip_nl = engine->tip_nl, pumped = 0, ng = 0;
      ThecalPtmOutcome outcome;

      memset (&sample, 0, sizeof sample);
      sample.start_true_ms = start;
      sample.end_true_ms = end;
      sample.first_seq = engine->log_next_seq;
      for (int32_t k = 0; k < THECAL_SOURCE_N_SOURCES; k++)
        pumped -= engine->nominal_nl[k];
      for (int32_t k = 0; k < engine->n_drugs; k++)
        ng -= engine->drugs[k].delivered_ng;

      switch (pattern->kind)
        {
        case THECAL_PTM_PATTERN_TIMES:
          /* every listed time of every day that falls in [start, end), in order */
          for (int64_t day = day_of (start); day * DAY_MS < end; day++)
            for (int32_t j = 0; j < pattern->n_times; j++)
              {
                int64_t at = day * DAY_MS + (int64_t) pattern->minutes[j] * THECAL_MS_PER_MINUTE;

                if (at >= start && at < end && !engine->eos
                    && !press (engine, at, counts, &sum, &sample, &outcome, error))
                  return false;
              }
          break;
        case THECAL_PTM_PATTERN_WORST_CASE:
          for (;;)
            {
              int64_t allowed = thecal_engine_ptm_next_allowed_pump_ms (engine), at;

              if (allowed == INT64_MAX || engine->eos)
                break;
              at = thecal_engine_true_for_pump_ms (engine, allowed);
              if (at >= end)
                break;
              if (!press (engine, at, counts, &sum, &sample, &outcome, error))
                return false;
              /* refused for a reason the clock does not cure (empty, stalled...): try again next period */
              if (outcome != THECAL_PTM_GRANTED)
                break;
            }
          break;
        case THECAL_PTM_PATTERN_NONE:
        default:
          break;
        }

      if (!thecal_engine_advance_to (engine, end, error))
        return false;
      note_alarms (engine, counts, &sum, &sample.alarms_raised);

      sample.end_pump_ms = thecal_engine_pump_ms (engine);
      sample.delivered_nl = engine->tip_nl - tip_nl;
      for (int32_t k = 0; k < THECAL_SOURCE_N_SOURCES; k++)
        pumped += engine->nominal_nl[k];
      for (int32_t k = 0; k < engine->n_drugs; k++)
        ng += engine->drugs[k].delivered_ng;
      sample.pumped_nl = pumped;
      sample.delivered_ng = ng;
      sample.reservoir_estimate_nl = _thecal_engine_estimate_nl (engine);
      sample.reservoir_actual_nl = engine->actual_nl;
      {
        ThecalEngineStatus status;

        thecal_engine_get_status (engine, &status);
        sample.battery_bp = status.battery_bp;
        for (int32_t k = 0; k < THECAL_ALARM_N_KINDS; k++)
          if (status.alarms[k].raised)
            sample.alarms_active |= UINT32_C (1) << k;
      }
      sample.next_seq = engine->log_next_seq;

      sum.delivered_nl += sample.delivered_nl;
      sum.delivered_ng += sample.delivered_ng;
      sum.pumped_nl += sample.pumped_nl;
      sum.ptm_granted += sample.ptm_granted;
      sum.ptm_refused += sample.ptm_refused;
      if (samples != NULL)
        samples[i] = sample;
    }
  if (summary != NULL)
    *summary = sum;
  return true;
}
