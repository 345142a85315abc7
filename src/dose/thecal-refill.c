/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-refill.c: the refill discrepancy check (CLINICAL.md §1.5, §1.6), the volume after a
 * refill, and the reservoir projection (low-reservoir alarm, empty and refill dates with
 * worst-case PTM use, CLINICAL.md §1.5 and §2.1). Formulas and examples: docs/dosing.md.
 */
#include "config.h"

#include "thecal-refill.h"

#include "thecal-dose-private.h"
#include "thecal-quantity.h"
#include "thecal-wide-private.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* A volume scaled by the day length (nL × ms/day) can exceed int64_t: it is a ThecalWide, and
 * every narrowing back is checked. */
#define DAY_MS THECAL_MS_PER_DAY
#define RULE THECAL_ROUND_NEAREST_HALF_DOWN

static bool
check_model (const ThecalPumpModel *model, ThecalDoseError *error)
{
  return _thecal_dose_check_model (model, "no pump model was given.", error);
}

/* ---- the refill check ----------------------------------------------------------------------- */

static bool
check_history (const ThecalPumpModel *model, const ThecalRefillHistory *h, ThecalDoseError *error)
{
  char field[THECAL_ERROR_FIELD_MAX];
  char a[THECAL_QUANTITY_TEXT_MAX], b[THECAL_QUANTITY_TEXT_MAX];

  if (h == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "history", "no refill history was given.");
  if (h->fill_volume_nl < 0 || h->fill_volume_nl > model->reservoir_capacity_nl)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "fill_volume",
                                  "fill_volume %s is negative or exceeds the %s reservoir.",
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME, h->fill_volume_nl, a),
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME, model->reservoir_capacity_nl, b));
  if (h->now_local_ms < h->fill_local_ms)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "now",
                                  "now (%" PRId64 " ms) is before the fill (%" PRId64 " ms): the residual is expected after the fill.",
                                  h->now_local_ms, h->fill_local_ms);
  if (h->n_intervals < 0 || (h->n_intervals > 0 && h->intervals == NULL))
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "intervals",
                                  "intervals has %d entries but no array.", (int) h->n_intervals);
  if (h->n_boluses < 0 || (h->n_boluses > 0 && h->boluses == NULL))
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "boluses", "boluses has %d entries but no array.",
                                  (int) h->n_boluses);

  for (int32_t i = 0; i < h->n_intervals; i++)
    {
      const ThecalPlanInterval *iv = &h->intervals[i];

      if (iv->plan == NULL)
        {
          snprintf (field, sizeof field, "intervals[%d].plan", (int) i);
          return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field, "%s is missing.", field);
        }
      snprintf (field, sizeof field, "intervals[%d].from", (int) i);
      if (iv->from_local_ms < h->fill_local_ms)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field,
                                      "%s (%" PRId64 " ms) is before the fill (%" PRId64 " ms): intervals must lie between the fill and now.",
                                      field, iv->from_local_ms, h->fill_local_ms);
      if (i > 0 && iv->from_local_ms < h->intervals[i - 1].to_local_ms)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field,
                                      "%s (%" PRId64 " ms) is before intervals[%d] ends (%" PRId64 " ms): intervals must be in time order and must not overlap.",
                                      field, iv->from_local_ms, (int) (i - 1), h->intervals[i - 1].to_local_ms);
      snprintf (field, sizeof field, "intervals[%d].to", (int) i);
      if (iv->to_local_ms < iv->from_local_ms)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field,
                                      "%s (%" PRId64 " ms) is before its start (%" PRId64 " ms).", field,
                                      iv->to_local_ms, iv->from_local_ms);
      if (iv->to_local_ms > h->now_local_ms)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field,
                                      "%s (%" PRId64 " ms) is after now (%" PRId64 " ms): intervals must lie between the fill and now.",
                                      field, iv->to_local_ms, h->now_local_ms);
    }

  for (int32_t i = 0; i < h->n_boluses; i++)
    {
      const ThecalLoggedBolus *bolus = &h->boluses[i];

      snprintf (field, sizeof field, "boluses[%d].at", (int) i);
      if (bolus->at_local_ms < h->fill_local_ms || bolus->at_local_ms > h->now_local_ms)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field,
                                      "%s (%" PRId64 " ms) is outside the fill (%" PRId64 " ms) to now (%" PRId64 " ms).",
                                      field, bolus->at_local_ms, h->fill_local_ms, h->now_local_ms);
      snprintf (field, sizeof field, "boluses[%d].volume", (int) i);
      if (bolus->volume_nl < 0)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field, "%s %s is negative.", field,
                                      _thecal_qtext (THECAL_QUANTITY_VOLUME, bolus->volume_nl, a));
    }
  return true;
}

/* Programmed delivery plus logged boluses from the fill up to @t_local_ms (each logged bolus
 * counted the moment it was logged). Non-decreasing in t. */
static bool
delivered_until (const ThecalRefillHistory *h, int64_t t_local_ms, int64_t *delivered_nl, ThecalDoseError *error)
{
  int64_t sum = 0, v;

  for (int32_t i = 0; i < h->n_intervals; i++)
    {
      const ThecalPlanInterval *iv = &h->intervals[i];
      int64_t end = iv->to_local_ms < t_local_ms ? iv->to_local_ms : t_local_ms;

      if (end <= iv->from_local_ms)
        continue;
      if (!thecal_delivery_plan_volume_between (iv->plan, iv->from_local_ms, end, &v, error))
        return false;
      if (!thecal_add_i64 (sum, v, &sum))
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_OVERFLOW, "intervals",
                                      "the programmed delivery since the fill is too large to compute.");
    }
  for (int32_t i = 0; i < h->n_boluses; i++)
    if (h->boluses[i].at_local_ms <= t_local_ms && !thecal_add_i64 (sum, h->boluses[i].volume_nl, &sum))
      return thecal_dose_error_set (error, THECAL_DOSE_ERROR_OVERFLOW, "boluses",
                                    "the logged bolus volume since the fill is too large to compute.");
  *delivered_nl = sum;
  return true;
}

bool
thecal_refill_check (const ThecalPumpModel *model,
                     const ThecalRefillHistory *history,
                     int64_t aspirated_nl,
                     ThecalRefillCheck *check,
                     ThecalDoseError *error)
{
  char a[THECAL_QUANTITY_TEXT_MAX];
  ThecalRefillCheck c;
  int64_t magnitude;

  if (!check_model (model, error) || !check_history (model, history, error))
    return false;
  if (check == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "check", "no place for the result was given.");
  if (aspirated_nl < 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "aspirated",
                                  "aspirated volume %s is negative: it must be 0 or more.",
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME, aspirated_nl, a));

  memset (&c, 0, sizeof c);
  c.aspirated_nl = aspirated_nl;
  if (!delivered_until (history, history->now_local_ms, &c.delivered_nl, error))
    return false;

  /* expected residual = fill − delivered, never below 0 (CLINICAL.md §1.5) */
  if (c.delivered_nl >= history->fill_volume_nl && c.delivered_nl > 0)
    {
      int64_t lo = history->fill_local_ms, hi = history->now_local_ms, v;

      /* The programmed delivery used the fill up: find the first ms at which it reached the
       * fill volume. delivered_until is non-decreasing, so a bisection over [fill, now] finds
       * it in at most 64 steps whatever the number of days. */
      while (lo < hi)
        {
          int64_t mid = lo + (int64_t) (((ThecalWide) hi - lo) / 2);

          if (!delivered_until (history, mid, &v, error))
            return false;
          if (v >= history->fill_volume_nl)
            hi = mid;
          else
            lo = mid + 1;
        }
      c.expected_empty = true;
      c.expected_empty_local_ms = lo;
      c.expected_residual_nl = 0;
    }
  else
    c.expected_residual_nl = history->fill_volume_nl - c.delivered_nl;

  /* discrepancy = expected − aspirated: > 0 less came back than expected (over-infusion,
   * earlier pocket fill, incomplete aspiration), < 0 more (under-infusion, stall, occlusion) */
  c.discrepancy_nl = c.expected_residual_nl - aspirated_nl; /* both in 0..2^63: cannot overflow */
  if (!thecal_muldiv_i64 (model->accuracy_bp, c.delivered_nl, THECAL_BP_WHOLE, RULE, &c.band_nl))
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_OVERFLOW, "model.accuracy",
                                  "the accuracy band over the delivered volume is too large to compute.");
  /* The flag floor of Maino 2017 (1 mL for a 20 mL pump, 2 mL for a 40 mL pump, CLINICAL.md §1.6)
   * or the pump's accuracy band over the delivered volume (§1.5), whichever is larger. */
  c.threshold_nl = c.band_nl > model->discrepancy_threshold_nl ? c.band_nl : model->discrepancy_threshold_nl;
  magnitude = c.discrepancy_nl < 0 ? -c.discrepancy_nl : c.discrepancy_nl;
  c.flagged = magnitude > c.threshold_nl;
  if (!c.flagged)
    c.kind = THECAL_DISCREPANCY_NONE;
  else if (c.discrepancy_nl > 0)
    c.kind = THECAL_DISCREPANCY_LESS_BACK;
  else
    c.kind = THECAL_DISCREPANCY_MORE_BACK;
  /* Nothing came back: no residual confirms the needle is in the reservoir (§1.6). */
  c.empty_refill = aspirated_nl == 0;

  *check = c;
  return true;
}

bool
thecal_refill_new_volume (const ThecalPumpModel *model,
                          int64_t added_nl,
                          int64_t *new_volume_nl,
                          ThecalDoseError *error)
{
  char a[THECAL_QUANTITY_TEXT_MAX], b[THECAL_QUANTITY_TEXT_MAX];

  if (!check_model (model, error))
    return false;
  if (new_volume_nl == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "volume", "no place for the volume was given.");
  if (added_nl <= 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "added",
                                  "added volume %s is not above 0: a refill adds drug.",
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME, added_nl, a));
  if (added_nl > model->reservoir_capacity_nl)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "added",
                                  "added volume %s exceeds the %s reservoir: do not overfill.",
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME, added_nl, a),
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME, model->reservoir_capacity_nl, b));
  *new_volume_nl = added_nl;
  return true;
}

/* ---- the projection ------------------------------------------------------------------------- */

/* Volumes are scaled by the day length (nL × 86 400 000) so that basal delivery over whole
 * milliseconds, rate × ms, adds exactly. */
typedef struct
{
  const ThecalDeliveryPlan *plan;
  int32_t order[THECAL_PERIODIC_BOLUSES_MAX]; /* periodic boluses by start time */
  ThecalWide need;                            /* scaled volume to deliver to reach the threshold */
} Projector;

/* Strokes of one bolus occurrence done @elapsed_ms after it started (0 < elapsed < duration).
 * ROUND_DOWN: a stroke counts once the pump has made it (as in the delivery plan). */
static int64_t
strokes_done (const ThecalPlannedBolus *bolus, int64_t n_strokes, int64_t elapsed_ms)
{
  int64_t done = 0;

  (void) thecal_muldiv_i64 (n_strokes, elapsed_ms, bolus->duration_ms, THECAL_ROUND_DOWN, &done);
  return done;
}

/* Walks one day of the plan from ms @x_start: each periodic bolus counted whole at its start,
 * basal delivery between events. Returns true with *@found_ms (ms of the day, up to 86 400 000)
 * when the scaled cumulative volume *@cum reaches the need; otherwise *@cum is the value at the
 * end of the day. */
static bool
walk_day (const Projector *pj, int64_t x_start, ThecalWide *cum, int64_t *found_ms)
{
  const ThecalDeliveryPlan *plan = pj->plan;
  int32_t bi = 0;
  int64_t x = x_start;

  while (bi < plan->n_boluses && plan->boluses[pj->order[bi]].start_ms_of_day < x_start)
    bi++;
  for (int32_t s = 0; s < plan->n_segments; s++)
    {
      const ThecalDaySegment *seg = &plan->segments[s];

      while (x < seg->end_ms_of_day)
        {
          int64_t next = seg->end_ms_of_day;
          ThecalWide gain;

          if (bi < plan->n_boluses)
            {
              const ThecalPlannedBolus *b = &plan->boluses[pj->order[bi]];

              if (b->start_ms_of_day == x)
                {
                  *cum += (ThecalWide) b->volume_nl * DAY_MS;
                  bi++;
                  if (*cum >= pj->need)
                    {
                      *found_ms = x;
                      return true;
                    }
                  continue;
                }
              if (b->start_ms_of_day < next)
                next = b->start_ms_of_day;
            }
          gain = (ThecalWide) seg->basal_rate_nl_per_day * (next - x);
          if (*cum + gain >= pj->need)
            {
              /* ROUND_UP: the first whole ms at which the threshold is reached; one ms earlier
               * it is not reached yet (need − cum > 0, and the rate > 0 since gain > 0). */
              *found_ms = x + (int64_t) _thecal_wide_div (pj->need - *cum, seg->basal_rate_nl_per_day, THECAL_ROUND_UP);
              return true;
            }
          *cum += gain;
          x = next;
        }
    }
  return false;
}

static int64_t
saturate (ThecalWide instant)
{
  return instant > INT64_MAX ? INT64_MAX : (int64_t) instant;
}

/* The earliest instant at which @volume_nl, drawn down by the plan from @from_local_ms, reaches
 * @threshold_nl. The cost is one day walk, then one division for any number of whole days, then
 * one more day walk: it does not depend on how far away the date is. */
static bool
project_one (const ThecalDeliveryPlan *plan,
             int64_t ptm_nl_per_day,
             int64_t volume_nl,
             int64_t threshold_nl,
             int64_t from_local_ms,
             int64_t *instant,
             ThecalDoseError *error)
{
  Projector pj;
  ThecalWide cum = 0, periodic_nl = 0, per_day, days, day_start;
  int64_t day0, x0, found;

  if (volume_nl <= threshold_nl)
    {
      *instant = from_local_ms;
      return true;
    }
  _thecal_split_day (from_local_ms, &day0, &x0);

  memset (&pj, 0, sizeof pj);
  pj.plan = plan;
  pj.need = (ThecalWide) (volume_nl - threshold_nl) * DAY_MS;
  /* insertion sort of at most 12 boluses by start */
  for (int32_t i = 0; i < plan->n_boluses; i++)
    {
      int32_t j = i;

      while (j > 0 && plan->boluses[pj.order[j - 1]].start_ms_of_day > plan->boluses[i].start_ms_of_day)
        {
          pj.order[j] = pj.order[j - 1];
          j--;
        }
      pj.order[j] = i;
    }

  /* At from: what is left of a bolus already running (today's, or yesterday's wrapping past
   * midnight) is counted at once, and in the worst case the whole day's PTM allowance too. */
  for (int32_t i = 0; i < plan->n_boluses; i++)
    {
      const ThecalPlannedBolus *b = &plan->boluses[i];
      int64_t n = b->volume_nl / plan->stroke_volume_nl;
      int64_t today = x0 - b->start_ms_of_day;
      int64_t yesterday = DAY_MS + x0 - b->start_ms_of_day;

      if (today > 0 && today < b->duration_ms)
        cum += (ThecalWide) (n - strokes_done (b, n, today)) * plan->stroke_volume_nl * DAY_MS;
      else if (today < 0 && yesterday < b->duration_ms)
        cum += (ThecalWide) (n - strokes_done (b, n, yesterday)) * plan->stroke_volume_nl * DAY_MS;
      periodic_nl += b->volume_nl;
    }
  cum += (ThecalWide) ptm_nl_per_day * DAY_MS;
  if (cum >= pj.need)
    {
      *instant = from_local_ms;
      return true;
    }

  /* the rest of the current day */
  if (walk_day (&pj, x0, &cum, &found))
    {
      *instant = saturate ((ThecalWide) day0 * DAY_MS + found);
      return true;
    }

  /* Whole days: each adds the basal integral, the periodic boluses and the worst-case PTM
   * front-loaded at its midnight. Day j after the current one is the first whose end reaches
   * the need: j = ceil ((need − cum) / per day). */
  per_day = (periodic_nl + ptm_nl_per_day) * DAY_MS;
  for (int32_t s = 0; s < plan->n_segments; s++)
    per_day += (ThecalWide) plan->segments[s].basal_rate_nl_per_day
               * (plan->segments[s].end_ms_of_day - plan->segments[s].start_ms_of_day);
  if (per_day == 0)
    {
      *instant = INT64_MAX; /* the plan delivers nothing: never */
      return true;
    }
  /* ROUND_UP: the first whole day whose end reaches the need (need − cum > 0, per day > 0). */
  days = _thecal_wide_div (pj.need - cum, per_day, THECAL_ROUND_UP);
  cum += (days - 1) * per_day;
  day_start = ((ThecalWide) day0 + days) * DAY_MS;
  cum += (ThecalWide) ptm_nl_per_day * DAY_MS;
  if (cum >= pj.need)
    {
      *instant = saturate (day_start);
      return true;
    }
  if (walk_day (&pj, 0, &cum, &found))
    {
      *instant = saturate (day_start + found);
      return true;
    }
  return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "plan",
                                "the projection did not converge: the delivery plan is inconsistent.");
}

bool
thecal_project_reservoir (const ThecalPumpModel *model,
                          const ThecalDeliveryPlan *plan,
                          int64_t volume_nl,
                          int64_t from_local_ms,
                          int32_t stability_days,
                          ThecalProjection *projection,
                          ThecalDoseError *error)
{
  char a[THECAL_QUANTITY_TEXT_MAX], b[THECAL_QUANTITY_TEXT_MAX];
  ThecalProjection p;
  int64_t unused, ptm, stability_ms;

  if (!check_model (model, error))
    return false;
  /* A zero-length interval reads nothing but checks the plan's shape (segments covering the
   * day, boluses of whole strokes) before the projection indexes into it. */
  if (!thecal_delivery_plan_volume_between (plan, 0, 0, &unused, error))
    return false;
  if (projection == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "projection",
                                  "no place for the projection was given.");
  if (volume_nl < 0 || volume_nl > model->reservoir_capacity_nl)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "volume",
                                  "reservoir volume %s is outside the %s reservoir.",
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME, volume_nl, a),
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME, model->reservoir_capacity_nl, b));
  if (stability_days < 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "stability_days",
                                  "stability_days %d is negative: 0 means no stability limit.", (int) stability_days);

  ptm = plan->ptm_enabled ? plan->ptm_worst_nl_per_day : 0;
  if (ptm < 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "plan", "the plan's worst-case PTM volume is negative.");

  memset (&p, 0, sizeof p);
  if (!project_one (plan, 0, volume_nl, model->low_reservoir_alarm_nl, from_local_ms, &p.low_alarm_local_ms, error)
      || !project_one (plan, ptm, volume_nl, model->low_reservoir_alarm_nl, from_local_ms, &p.low_alarm_worst_local_ms, error)
      || !project_one (plan, 0, volume_nl, model->empty_nl, from_local_ms, &p.empty_local_ms, error)
      || !project_one (plan, ptm, volume_nl, model->empty_nl, from_local_ms, &p.empty_worst_local_ms, error)
      || !project_one (plan, ptm, volume_nl, model->refill_threshold_nl, from_local_ms,
                       &p.refill_threshold_worst_local_ms, error))
    return false;

  p.stability_limit_local_ms = INT64_MAX;
  if (stability_days > 0)
    {
      if (!thecal_mul_i64 (stability_days, DAY_MS, &stability_ms)
          || !thecal_add_i64 (from_local_ms, stability_ms, &p.stability_limit_local_ms))
        p.stability_limit_local_ms = INT64_MAX;
    }
  p.refill_by_local_ms = p.refill_threshold_worst_local_ms < p.stability_limit_local_ms
                             ? p.refill_threshold_worst_local_ms
                             : p.stability_limit_local_ms;
  *projection = p;
  return true;
}
