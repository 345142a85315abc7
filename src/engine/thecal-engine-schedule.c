/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-engine-schedule.c: the delivery plan as functions of pump time, in closed form.
 *
 * Basal demand over [p0, p1) is (days × day integral + P (x1) − P (x0)) where P (x) is the
 * integral from midnight to ms x of the day (a prefix table over the segments, searched in
 * O(log segments)), so its cost does not depend on how many days lie between. Periodic boluses
 * are counted in whole strokes as the pump makes them: floor (n × elapsed / duration), the rule
 * of thecal_delivery_plan_volume_between (docs/engine.md "Delivery").
 */
#include "config.h"

#include "thecal-engine-private.h"

#include <string.h>

#define DAY_MS THECAL_ENGINE_DAY_MS
/* Strokes of one periodic bolus: at most 2^24 (4 L at 250 nL), so that day × strokes stays far
 * inside int64_t for any pump time (|day| < 2^37). */
#define PERIODIC_STROKES_MAX (INT64_C (1) << 24)

/* The ms of day of @t_ms, in 0 .. 86 399 999 even before the epoch. */
static int64_t
mod_day (int64_t t_ms)
{
  int64_t day, ms_of_day;

  _thecal_split_day (t_ms, &day, &ms_of_day);
  return ms_of_day;
}

bool
_thecal_schedule_build (ThecalEngineSchedule *sched, const ThecalDeliveryPlan *plan, ThecalDoseError *error)
{
  int64_t at = 0, sum = 0, part;

  memset (sched, 0, sizeof *sched);
  if (plan->n_segments < 1 || plan->n_segments > THECAL_DAY_SEGMENTS_MAX || plan->n_boluses < 0
      || plan->n_boluses > THECAL_PERIODIC_BOLUSES_MAX || plan->stroke_volume_nl <= 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "plan",
                                  "the delivery plan has %d segments and %d boluses: it was not resolved.",
                                  (int) plan->n_segments, (int) plan->n_boluses);
  sched->n_segments = plan->n_segments;
  sched->n_boluses = plan->n_boluses;
  sched->stroke_volume_nl = plan->stroke_volume_nl;
  for (int32_t i = 0; i < plan->n_segments; i++)
    {
      const ThecalDaySegment *seg = &plan->segments[i];

      if (seg->start_ms_of_day != at || seg->end_ms_of_day <= seg->start_ms_of_day || seg->end_ms_of_day > DAY_MS
          || seg->basal_rate_nl_per_day < 0)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "plan",
                                      "the delivery plan's segment %d does not continue the day profile.", (int) i);
      sched->seg_start_ms[i] = seg->start_ms_of_day;
      sched->seg_rate_nl_per_day[i] = seg->basal_rate_nl_per_day;
      sched->seg_prefix[i] = sum;
      if (!thecal_mul_i64 (seg->basal_rate_nl_per_day, seg->end_ms_of_day - seg->start_ms_of_day, &part)
          || !thecal_add_i64 (sum, part, &sum))
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_OVERFLOW, "plan",
                                      "one day of the plan's basal delivery is too large to compute.");
      at = seg->end_ms_of_day;
    }
  if (at != DAY_MS)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "plan",
                                  "the delivery plan's segments do not cover the whole day.");
  sched->seg_start_ms[plan->n_segments] = DAY_MS;
  sched->seg_prefix[plan->n_segments] = sum;

  for (int32_t i = 0; i < plan->n_boluses; i++)
    {
      const ThecalPlannedBolus *b = &plan->boluses[i];

      if (b->start_ms_of_day < 0 || b->start_ms_of_day >= DAY_MS || b->duration_ms <= 0 || b->duration_ms > DAY_MS
          || b->volume_nl <= 0 || b->volume_nl % plan->stroke_volume_nl != 0
          || b->volume_nl / plan->stroke_volume_nl > PERIODIC_STROKES_MAX)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "plan",
                                      "the delivery plan's bolus %d is not a whole number of strokes (at most 2^24) inside one day.",
                                      (int) i);
      sched->bolus_start_ms[i] = b->start_ms_of_day;
      sched->bolus_duration_ms[i] = b->duration_ms;
      sched->bolus_strokes[i] = b->volume_nl / plan->stroke_volume_nl;
    }
  return true;
}

/* P (x): Σ rate × ms from midnight to ms @x of the day (0 ≤ x ≤ 86 400 000). */
static int64_t
prefix_to (const ThecalEngineSchedule *sched, int64_t x)
{
  int32_t lo = 0, hi = sched->n_segments; /* the segment i with start_i ≤ x < start_{i+1} */

  if (x >= DAY_MS)
    return sched->seg_prefix[sched->n_segments];
  while (hi - lo > 1)
    {
      int32_t mid = (lo + hi) / 2;

      if (sched->seg_start_ms[mid] <= x)
        lo = mid;
      else
        hi = mid;
    }
  /* ≤ the day integral, which fits (checked when built) */
  return sched->seg_prefix[lo] + sched->seg_rate_nl_per_day[lo] * (x - sched->seg_start_ms[lo]);
}

ThecalWide
_thecal_schedule_basal_between (const ThecalEngineSchedule *sched, int64_t p0, int64_t p1)
{
  int64_t d0, x0, d1, x1;

  _thecal_split_day (p0, &d0, &x0);
  _thecal_split_day (p1, &d1, &x1);
  /* |d1 − d0| < 2^38 and the day integral < 2^63: the product is below 2^101 */
  return (ThecalWide) (d1 - d0) * sched->seg_prefix[sched->n_segments] + prefix_to (sched, x1) - prefix_to (sched, x0);
}

int64_t
_thecal_schedule_basal_time (const ThecalEngineSchedule *sched, int64_t p0, ThecalWide demand)
{
  int64_t d0, x0, day_integral = sched->seg_prefix[sched->n_segments];
  ThecalWide target, days, rest, result;
  int32_t lo, hi;
  int64_t x, rate, need;

  if (demand <= 0)
    return p0;
  if (day_integral <= 0)
    return THECAL_ENGINE_NEVER;
  _thecal_split_day (p0, &d0, &x0);
  /* F (y) = (y / day) × day integral + P (y mod day), y in ms since the midnight of d0, is
   * non-decreasing; the wanted y is the least with F (y) ≥ P (x0) + demand. Its day is the first
   * whose end reaches the target: k = ceil (target / day integral) − 1. */
  target = (ThecalWide) prefix_to (sched, x0) + demand;
  days = (target - 1) / day_integral;
  rest = target - days * day_integral; /* 0 < rest ≤ day integral */
  /* the first segment end whose prefix reaches rest: prefix[lo] < rest ≤ prefix[lo + 1], so the
   * segment's rate is above 0 */
  lo = 0;
  hi = sched->n_segments;
  while (hi - lo > 1)
    {
      int32_t mid = (lo + hi) / 2;

      if (sched->seg_prefix[mid] < rest)
        lo = mid;
      else
        hi = mid;
    }
  rate = sched->seg_rate_nl_per_day[lo];
  need = (int64_t) (rest - sched->seg_prefix[lo]); /* ≤ rate × segment length: fits */
  /* ROUND_UP: the first whole ms at which the demand is reached; one ms earlier it is not. */
  x = sched->seg_start_ms[lo] + need / rate + (need % rate != 0 ? 1 : 0);
  result = ((ThecalWide) d0 + days) * DAY_MS + x;
  if (result > INT64_MAX)
    return THECAL_ENGINE_NEVER;
  return (int64_t) result;
}

int64_t
_thecal_bolus_strokes_at (int64_t strokes, int64_t duration_ms, int64_t elapsed_ms)
{
  if (elapsed_ms <= 0 || strokes <= 0)
    return 0;
  if (elapsed_ms >= duration_ms)
    return strokes;
  /* ROUND_DOWN: a stroke counts only once the pump has made it (as in the dose core). The
   * quotient is below @strokes. */
  return (int64_t) _thecal_wide_div ((ThecalWide) strokes * elapsed_ms, duration_ms, THECAL_ROUND_DOWN);
}

int64_t
_thecal_bolus_stroke_elapsed (int64_t strokes, int64_t duration_ms, int64_t k)
{
  /* ROUND_UP: the first whole ms at which floor (strokes × elapsed / duration) ≥ k. */
  return (int64_t) _thecal_wide_div ((ThecalWide) k * duration_ms, strokes, THECAL_ROUND_UP);
}

int64_t
_thecal_schedule_periodic_count (const ThecalEngineSchedule *sched, int32_t i, int64_t p)
{
  int64_t day, x, n = sched->bolus_strokes[i];
  int64_t s = sched->bolus_start_ms[i], d = sched->bolus_duration_ms[i];

  _thecal_split_day (p, &day, &x);
  /* today's occurrence, plus yesterday's if it wraps past midnight (it contributes f (day + x) − n) */
  return day * n + _thecal_bolus_strokes_at (n, d, DAY_MS + x - s) - n + _thecal_bolus_strokes_at (n, d, x - s);
}

bool
_thecal_schedule_periodic_inside (const ThecalEngineSchedule *sched, int32_t i, int64_t p)
{
  return mod_day (p - sched->bolus_start_ms[i]) < sched->bolus_duration_ms[i];
}

/* The first instant strictly after @p that is ≡ @a (mod one day). */
static int64_t
next_after (int64_t p, int64_t a)
{
  int64_t gap = mod_day (a - p);

  return p + (gap == 0 ? DAY_MS : gap);
}

int64_t
_thecal_schedule_periodic_next_edge (const ThecalEngineSchedule *sched, int64_t p)
{
  int64_t best = THECAL_ENGINE_NEVER;

  for (int32_t i = 0; i < sched->n_boluses; i++)
    {
      int64_t start = next_after (p, sched->bolus_start_ms[i]);
      int64_t end = next_after (p, sched->bolus_start_ms[i] + sched->bolus_duration_ms[i]);

      if (start < best)
        best = start;
      if (end < best)
        best = end;
    }
  return best;
}

int64_t
_thecal_schedule_periodic_next_stroke (const ThecalEngineSchedule *sched, int32_t i, int64_t p)
{
  int64_t n = sched->bolus_strokes[i], d = sched->bolus_duration_ms[i];
  int64_t elapsed = mod_day (p - sched->bolus_start_ms[i]);
  int64_t occurrence = p - elapsed; /* the last start at or before p */

  if (elapsed < d)
    {
      int64_t done = _thecal_bolus_strokes_at (n, d, elapsed);

      if (done < n)
        return occurrence + _thecal_bolus_stroke_elapsed (n, d, done + 1);
    }
  return occurrence + DAY_MS + _thecal_bolus_stroke_elapsed (n, d, 1);
}
