/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-engine.c: the reference pump's state machine: set-up, commands, alarms and the
 * event-driven advance (docs/engine.md).
 *
 * The advance works between *events*: a periodic bolus edge, the end of a bolus, a fault onset
 * or end, and the caller's target time. Between two events what delivers is fixed, so the strokes
 * made by any instant t are a closed-form function S (t) (thecal-engine-schedule.c). The only
 * other things that can happen are threshold crossings (the estimate reaching the low-reservoir
 * volume, the actual volume reaching the empty volume, the battery reaching ERI or EOS); each is
 * a monotone function of t, so the first ms it holds is found by bisection on S (t) — about 40
 * evaluations for a century, never a step per stroke or per second. With no crossing the whole
 * span is committed at once. Per-stroke noise and stroke-level output are the exceptions: they
 * need every stroke (the draws, the callbacks), and cost that much.
 */
#include "config.h"

#include "thecal-engine-private.h"

#include "thecal-quantity.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define DAY_MS THECAL_ENGINE_DAY_MS
#define RULE THECAL_ENGINE_RULE
#define NEVER THECAL_ENGINE_NEVER

static int64_t
pump_now (const ThecalEngine *engine)
{
  return engine->clock_ms + engine->pump_offset_ms;
}

static int64_t
min64 (int64_t a, int64_t b)
{
  return a < b ? a : b;
}

int64_t
_thecal_engine_estimate_nl (const ThecalEngine *engine)
{
  /* the strokes of any real run times 250 nL stay far inside int64_t */
  return engine->reservoir_set_nl - engine->estimate_strokes * engine->model.stroke_volume_nl;
}

static int64_t
battery_bp_left (const ThecalEngine *engine)
{
  int64_t bp = 0;

  (void) thecal_muldiv_i64 (engine->battery_remaining, THECAL_BP_WHOLE, engine->battery_capacity, THECAL_ROUND_DOWN, &bp);
  return bp;
}

/* ---- alarms ------------------------------------------------------------------------------------ */

bool
thecal_alarm_kind_is_critical (ThecalAlarmKind kind)
{
  switch (kind)
    {
    case THECAL_ALARM_RESERVOIR_EMPTY:
    case THECAL_ALARM_EOS:
    case THECAL_ALARM_MOTOR_STALL:
    case THECAL_ALARM_MEMORY_ERROR:
      return true;
    case THECAL_ALARM_LOW_RESERVOIR:
    case THECAL_ALARM_ERI:
    case THECAL_ALARM_N_KINDS:
    default:
      return false;
    }
}

/* A cause appears or goes. Rising: raised (again), unacknowledged, logged. Falling: a
 * non-critical alarm clears; a critical one stays latched until acknowledged. */
static void
set_condition (ThecalEngine *engine, ThecalAlarmKind kind, bool condition)
{
  ThecalEngineAlarmState *alarm = &engine->alarms[kind];

  if (condition && !alarm->condition)
    {
      alarm->condition = 1;
      alarm->raised = 1;
      alarm->acknowledged = 0;
      alarm->raised_at_pump_ms = pump_now (engine);
      alarm->count++;
      _thecal_engine_log (engine, THECAL_EVENT_ALARM_RAISED, (int32_t) kind, _thecal_engine_estimate_nl (engine),
                          engine->actual_nl, battery_bp_left (engine));
    }
  else if (!condition && alarm->condition)
    {
      alarm->condition = 0;
      if (!thecal_alarm_kind_is_critical (kind) || alarm->acknowledged)
        {
          alarm->raised = 0;
          alarm->acknowledged = 0;
          _thecal_engine_log (engine, THECAL_EVENT_ALARM_CLEARED, (int32_t) kind, 0, 0, 0);
        }
    }
}

static void
update_conditions (ThecalEngine *engine)
{
  set_condition (engine, THECAL_ALARM_LOW_RESERVOIR,
                 _thecal_engine_estimate_nl (engine) <= engine->model.low_reservoir_alarm_nl);
  set_condition (engine, THECAL_ALARM_RESERVOIR_EMPTY, engine->actual_nl <= engine->model.empty_nl);
  if (engine->battery_remaining <= engine->eri_threshold)
    set_condition (engine, THECAL_ALARM_ERI, true); /* never falls: the battery does not recover */
  if (engine->battery_remaining <= 0 && !engine->eos)
    {
      engine->eos = 1;
      set_condition (engine, THECAL_ALARM_EOS, true);
    }
  set_condition (engine, THECAL_ALARM_MOTOR_STALL, engine->stalled != 0);
  set_condition (engine, THECAL_ALARM_MEMORY_ERROR, engine->memory_error != 0);
}

/* ---- strokes ------------------------------------------------------------------------------------ */

/* Cumulative strokes by instant t (oscillator ms) in the bases of the *_done counters. */
typedef struct
{
  int64_t basal;
  int64_t periodic;
  int64_t exclusive;
  int64_t ptm;
} Totals;

static void
totals_at (const ThecalEngine *engine, int64_t t, Totals *out)
{
  int64_t p = t + engine->pump_offset_ms;

  memset (out, 0, sizeof *out);
  if (engine->basal_on)
    {
      ThecalWide demand = (ThecalWide) engine->basal_carry
                          + _thecal_schedule_basal_between (&engine->sched, engine->regime_pump_ms, p);

      out->basal = (int64_t) (demand / engine->stroke_day); /* < 2^101 / 2^34: fits */
    }
  if (engine->periodic_on)
    {
      int64_t sum = 0;

      for (int32_t i = 0; i < engine->sched.n_boluses; i++)
        sum += _thecal_schedule_periodic_count (&engine->sched, i, p) - engine->periodic_origin[i];
      out->periodic = sum;
    }
  if (engine->exclusive.active)
    out->exclusive = _thecal_bolus_strokes_at (engine->exclusive.strokes, engine->exclusive.duration_ms,
                                               t - engine->exclusive.start_clock_ms);
  if (engine->ptm_bolus.active)
    out->ptm = _thecal_bolus_strokes_at (engine->ptm_bolus.strokes, engine->ptm_bolus.duration_ms,
                                         t - engine->ptm_bolus.start_clock_ms);
}

/* Strokes by t that are not committed yet. */
static int64_t
totals_new (const ThecalEngine *engine, const Totals *totals)
{
  int64_t n = (totals->basal - engine->basal_done) + (totals->periodic - engine->periodic_done);

  if (engine->exclusive.active)
    n += totals->exclusive - engine->exclusive.done;
  if (engine->ptm_bolus.active)
    n += totals->ptm - engine->ptm_bolus.done;
  return n;
}

/* Σ of @k uniform draws in [−noise, +noise], in stroke order. */
static int64_t
noise_sum (ThecalRng *rng, int64_t noise_nl, int64_t k)
{
  int64_t sum = 0;

  for (int64_t i = 0; i < k; i++)
    sum += thecal_rng_range (rng, -noise_nl, noise_nl);
  return sum;
}

/* Makes everything up to @t happen: the strokes S (t) − done, the battery drain of the time and
 * the strokes, the fluid they move. Fills @report (may be NULL) with what this instant did. */
static void
commit (ThecalEngine *engine, int64_t t, const Totals *totals, ThecalEngineStroke *report)
{
  int64_t by_source[THECAL_SOURCE_N_SOURCES] = { 0 };
  int64_t n = 0, moved = 0, tip_ng = 0, s = engine->model.stroke_volume_nl;

  by_source[THECAL_SOURCE_BASAL] = totals->basal - engine->basal_done;
  by_source[THECAL_SOURCE_PERIODIC] = totals->periodic - engine->periodic_done;
  if (engine->exclusive.active)
    by_source[engine->exclusive.source] += totals->exclusive - engine->exclusive.done;
  if (engine->ptm_bolus.active)
    by_source[THECAL_SOURCE_PTM] += totals->ptm - engine->ptm_bolus.done;
  for (int32_t i = 0; i < THECAL_SOURCE_N_SOURCES; i++)
    {
      n += by_source[i];
      engine->nominal_nl[i] += by_source[i] * s;
    }

  if (!engine->eos)
    _thecal_battery_consume (engine, _thecal_battery_raw (engine, t - engine->battery_clock_ms, n));
  engine->battery_clock_ms = t;

  engine->strokes_total += n;
  engine->estimate_strokes += n;
  if (n > 0 && !engine->occluded)
    {
      moved = _thecal_fluid_bias_removal (engine, n);
      if (engine->noise_nl > 0)
        moved += noise_sum (&engine->rng, engine->noise_nl, n);
      if (moved > engine->actual_nl)
        moved = engine->actual_nl; /* a dry reservoir gives what it has */
      if (moved < 0)
        moved = 0;
      engine->moved_strokes += n;
      engine->actual_nl -= moved;
      engine->moved_nl += moved;
      tip_ng = _thecal_fluid_push (engine, moved);
    }

  engine->basal_done = totals->basal;
  engine->periodic_done = totals->periodic;
  if (engine->exclusive.active)
    engine->exclusive.done = totals->exclusive;
  if (engine->ptm_bolus.active)
    engine->ptm_bolus.done = totals->ptm;
  engine->clock_ms = t;

  if (report != NULL)
    {
      memset (report, 0, sizeof *report);
      report->pump_ms = pump_now (engine);
      memcpy (report->strokes, by_source, sizeof by_source);
      report->nominal_nl = n * s;
      report->moved_nl = moved;
      report->tip_ng = tip_ng;
    }
}

/* ---- threshold crossings ------------------------------------------------------------------------- */

/* The first t in (now, t_end] with at least @k new strokes; the caller knows S (t_end) ≥ k. */
static int64_t
first_time_strokes (const ThecalEngine *engine, int64_t t_end, int64_t k)
{
  int64_t lo = engine->clock_ms, hi = t_end;
  Totals totals;

  while (hi - lo > 1)
    {
      int64_t mid = lo + (hi - lo) / 2;

      totals_at (engine, mid, &totals);
      if (totals_new (engine, &totals) >= k)
        hi = mid;
      else
        lo = mid;
    }
  return hi;
}

/* How many more strokes bring the actual volume to the empty volume; 0 if not within @n_max. */
static int64_t
strokes_to_empty (const ThecalEngine *engine, int64_t n_max)
{
  int64_t need = engine->actual_nl - engine->model.empty_nl;
  int64_t s = engine->model.stroke_volume_nl;

  if (need <= 0)
    return 1;
  if (engine->noise_nl == 0)
    {
      int64_t lo = 0, hi = n_max;

      if (_thecal_fluid_bias_removal (engine, n_max) < need)
        return 0;
      while (hi - lo > 1)
        {
          int64_t mid = lo + (hi - lo) / 2;

          if (_thecal_fluid_bias_removal (engine, mid) >= need)
            hi = mid;
          else
            lo = mid;
        }
      return hi;
    }
  else
    {
      /* each stroke moves at most stroke × (1 + bias) + 1 + noise: skip the scan when even that
       * cannot reach the empty volume */
      ThecalWide most = (ThecalWide) n_max * (s + s * engine->bias_bp / THECAL_BP_WHOLE + 1 + engine->noise_nl);
      ThecalRng rng = engine->rng;
      int64_t noise = 0;

      if (most < need)
        return 0;
      for (int64_t k = 1; k <= n_max; k++)
        {
          noise += thecal_rng_range (&rng, -engine->noise_nl, engine->noise_nl);
          if (_thecal_fluid_bias_removal (engine, k) + noise >= need)
            return k;
        }
      return 0;
    }
}

/* Energy used by t at the current drain (what commit would take). */
static ThecalWide
battery_used_at (const ThecalEngine *engine, int64_t t, const Totals *totals)
{
  return _thecal_battery_used (engine,
                               _thecal_battery_raw (engine, t - engine->battery_clock_ms, totals_new (engine, totals)));
}

static int64_t
battery_first_time (const ThecalEngine *engine, int64_t t_end, ThecalWide need)
{
  int64_t lo = engine->clock_ms, hi = t_end;
  Totals totals;

  while (hi - lo > 1)
    {
      int64_t mid = lo + (hi - lo) / 2;

      totals_at (engine, mid, &totals);
      if (battery_used_at (engine, mid, &totals) >= need)
        hi = mid;
      else
        lo = mid;
    }
  return hi;
}

/* The first instant in (now, t_end] at which a threshold is crossed; NEVER if none. */
static int64_t
find_crossing (const ThecalEngine *engine, int64_t t_end, const Totals *end_totals)
{
  int64_t best = NEVER, n_end = totals_new (engine, end_totals), s = engine->model.stroke_volume_nl;

  if (n_end > 0)
    {
      if (!engine->alarms[THECAL_ALARM_LOW_RESERVOIR].condition)
        {
          int64_t above = _thecal_engine_estimate_nl (engine) - engine->model.low_reservoir_alarm_nl;
          int64_t k = above / s + (above % s != 0 ? 1 : 0); /* ROUND_UP: the first stroke at or below */

          if (k <= n_end)
            best = min64 (best, first_time_strokes (engine, t_end, k));
        }
      if (!engine->alarms[THECAL_ALARM_RESERVOIR_EMPTY].condition && !engine->occluded)
        {
          int64_t k = strokes_to_empty (engine, n_end);

          if (k > 0)
            best = min64 (best, first_time_strokes (engine, t_end, k));
        }
    }
  if (!engine->eos)
    {
      ThecalWide used = battery_used_at (engine, t_end, end_totals);

      if (!engine->alarms[THECAL_ALARM_ERI].condition
          && used >= (ThecalWide) engine->battery_remaining - engine->eri_threshold)
        best = min64 (best, battery_first_time (engine, t_end,
                                                (ThecalWide) engine->battery_remaining - engine->eri_threshold));
      if (used >= engine->battery_remaining)
        best = min64 (best, battery_first_time (engine, t_end, engine->battery_remaining));
    }
  return best;
}

/* ---- regimes -------------------------------------------------------------------------------------- */

static bool
delivery_allowed (const ThecalEngine *engine)
{
  return !engine->eos && !engine->stalled && !engine->memory_error
         && !engine->alarms[THECAL_ALARM_RESERVOIR_EMPTY].condition;
}

static bool
want_basal (const ThecalEngine *engine)
{
  return delivery_allowed (engine) && !engine->exclusive.active && engine->rx.mode != THECAL_MODE_STOPPED
         && engine->sched.seg_prefix[engine->sched.n_segments] > 0;
}

static bool
want_periodic (const ThecalEngine *engine)
{
  return delivery_allowed (engine) && !engine->exclusive.active && engine->rx.mode != THECAL_MODE_STOPPED
         && engine->sched.n_boluses > 0;
}

static void
log_periodic_end (ThecalEngine *engine, int32_t i, int64_t p)
{
  int64_t n = engine->sched.bolus_strokes[i];
  int64_t done = _thecal_schedule_periodic_count (&engine->sched, i, p) - engine->periodic_open_count[i];
  int64_t s = engine->sched.stroke_volume_nl;

  _thecal_engine_log (engine, THECAL_EVENT_BOLUS_END, THECAL_SOURCE_PERIODIC, done * s, n * s, done >= n ? 1 : 0);
  engine->periodic_open_mask &= ~(INT32_C (1) << i);
}

static void
log_periodic_start (ThecalEngine *engine, int32_t i, int64_t p)
{
  engine->periodic_open_count[i] = _thecal_schedule_periodic_count (&engine->sched, i, p);
  engine->periodic_open_mask |= INT32_C (1) << i;
  _thecal_engine_log (engine, THECAL_EVENT_BOLUS_START, THECAL_SOURCE_PERIODIC,
                      engine->sched.bolus_strokes[i] * engine->sched.stroke_volume_nl, engine->sched.bolus_duration_ms[i],
                      i);
}

/* Ends the current regime at now (everything committed up to now): the fraction of a basal
 * stroke is carried, open periodic occurrences are logged as ended. */
static void
close_regime (ThecalEngine *engine)
{
  int64_t p = pump_now (engine);

  if (engine->basal_on)
    {
      ThecalWide demand = (ThecalWide) engine->basal_carry
                          + _thecal_schedule_basal_between (&engine->sched, engine->regime_pump_ms, p);

      engine->basal_carry = (int64_t) (demand - (ThecalWide) engine->basal_done * engine->stroke_day);
    }
  for (int32_t i = 0; i < engine->sched.n_boluses; i++)
    if (engine->periodic_open_mask & (INT32_C (1) << i))
      log_periodic_end (engine, i, p);
  engine->periodic_open_mask = 0;
  engine->basal_on = 0;
  engine->periodic_on = 0;
  engine->basal_done = 0;
  engine->periodic_done = 0;
  engine->periodic_next_edge_clock_ms = NEVER;
}

static void
open_regime (ThecalEngine *engine)
{
  int64_t p = pump_now (engine);

  engine->basal_on = want_basal (engine) ? 1 : 0;
  engine->periodic_on = want_periodic (engine) ? 1 : 0;
  engine->regime_pump_ms = p;
  engine->basal_done = 0;
  engine->periodic_done = 0;
  engine->periodic_next_edge_clock_ms = NEVER;
  if (engine->periodic_on)
    {
      int64_t edge = _thecal_schedule_periodic_next_edge (&engine->sched, p);

      for (int32_t i = 0; i < engine->sched.n_boluses; i++)
        {
          engine->periodic_origin[i] = _thecal_schedule_periodic_count (&engine->sched, i, p);
          if (_thecal_schedule_periodic_inside (&engine->sched, i, p))
            log_periodic_start (engine, i, p);
        }
      engine->periodic_next_edge_clock_ms = edge == NEVER ? NEVER : edge - engine->pump_offset_ms;
    }
}

static void
end_bolus (ThecalEngine *engine, ThecalEngineBolus *bolus, bool completed)
{
  int64_t s = engine->model.stroke_volume_nl;

  _thecal_engine_log (engine, THECAL_EVENT_BOLUS_END, bolus->source, bolus->done * s, bolus->strokes * s,
                      completed ? 1 : 0);
  bolus->active = 0;
}

static void
abort_boluses (ThecalEngine *engine)
{
  if (engine->exclusive.active)
    end_bolus (engine, &engine->exclusive, false);
  engine->n_phases = 0;
  engine->next_phase = 0;
  if (engine->ptm_bolus.active)
    end_bolus (engine, &engine->ptm_bolus, false);
}

/* Keeps what delivers in line with the state: stops boluses when delivery must stop, and starts a
 * new regime when the basal or periodic delivery turns on or off. */
static void
sync_regime (ThecalEngine *engine)
{
  if (!delivery_allowed (engine))
    abort_boluses (engine);
  if ((engine->basal_on != 0) != want_basal (engine) || (engine->periodic_on != 0) != want_periodic (engine))
    {
      close_regime (engine);
      open_regime (engine);
    }
}

static void
start_exclusive (ThecalEngine *engine, const ThecalEngineBolus *bolus)
{
  engine->exclusive = *bolus;
  engine->exclusive.start_clock_ms = engine->clock_ms;
  engine->exclusive.done = 0;
  engine->exclusive.active = 1;
  _thecal_engine_log (engine, THECAL_EVENT_BOLUS_START, bolus->source, bolus->strokes * engine->model.stroke_volume_nl,
                      bolus->duration_ms, bolus->index);
}

/* ---- events at an instant --------------------------------------------------------------------- */

static void
handle_periodic_edges (ThecalEngine *engine)
{
  int64_t p = pump_now (engine);

  for (int32_t i = 0; i < engine->sched.n_boluses; i++)
    {
      int64_t start = engine->sched.bolus_start_ms[i];
      int64_t end = start + engine->sched.bolus_duration_ms[i];

      if ((engine->periodic_open_mask & (INT32_C (1) << i)) && (p - end) % DAY_MS == 0)
        log_periodic_end (engine, i, p);
    }
  for (int32_t i = 0; i < engine->sched.n_boluses; i++)
    if ((p - engine->sched.bolus_start_ms[i]) % DAY_MS == 0)
      log_periodic_start (engine, i, p);
  engine->periodic_next_edge_clock_ms = _thecal_schedule_periodic_next_edge (&engine->sched, p) - engine->pump_offset_ms;
}

static int64_t
next_event_clock (const ThecalEngine *engine)
{
  int64_t t = NEVER;

  if (engine->periodic_on)
    t = min64 (t, engine->periodic_next_edge_clock_ms);
  if (engine->exclusive.active)
    t = min64 (t, engine->exclusive.start_clock_ms + engine->exclusive.duration_ms);
  if (engine->ptm_bolus.active)
    t = min64 (t, engine->ptm_bolus.start_clock_ms + engine->ptm_bolus.duration_ms);
  t = min64 (t, engine->stall_at_clock_ms);
  if (engine->stalled)
    t = min64 (t, engine->stall_end_clock_ms);
  t = min64 (t, engine->occlusion_at_clock_ms);
  if (engine->occluded)
    t = min64 (t, engine->occlusion_end_clock_ms);
  t = min64 (t, engine->memory_error_at_clock_ms);
  return t;
}

/* Handles everything due at now, until nothing is: alarms first, then scheduled events in a
 * fixed order, each followed by the alarms and the regime again. */
static void
process_due (ThecalEngine *engine)
{
  int64_t now = engine->clock_ms;

  for (;;)
    {
      update_conditions (engine);
      sync_regime (engine);
      if (engine->eos)
        return;
      if (engine->periodic_on && engine->periodic_next_edge_clock_ms <= now)
        handle_periodic_edges (engine);
      else if (engine->exclusive.active && engine->exclusive.start_clock_ms + engine->exclusive.duration_ms <= now)
        {
          end_bolus (engine, &engine->exclusive, true);
          if (engine->next_phase < engine->n_phases)
            start_exclusive (engine, &engine->phases[engine->next_phase++]);
          else
            engine->n_phases = engine->next_phase = 0;
        }
      else if (engine->ptm_bolus.active && engine->ptm_bolus.start_clock_ms + engine->ptm_bolus.duration_ms <= now)
        end_bolus (engine, &engine->ptm_bolus, true);
      else if (engine->stall_at_clock_ms <= now)
        {
          engine->stalled = 1;
          engine->stall_end_clock_ms = engine->stall_duration_ms > 0 ? now + engine->stall_duration_ms : NEVER;
          engine->stall_at_clock_ms = NEVER;
        }
      else if (engine->stalled && engine->stall_end_clock_ms <= now)
        {
          engine->stalled = 0;
          engine->stall_end_clock_ms = NEVER;
          _thecal_engine_log (engine, THECAL_EVENT_MOTOR_RESTARTED, 0, 0, 0, 0);
        }
      else if (engine->occlusion_at_clock_ms <= now)
        {
          engine->occluded = 1;
          engine->occlusion_end_clock_ms = engine->occlusion_duration_ms > 0 ? now + engine->occlusion_duration_ms : NEVER;
          engine->occlusion_at_clock_ms = NEVER;
        }
      else if (engine->occluded && engine->occlusion_end_clock_ms <= now)
        {
          engine->occluded = 0;
          engine->occlusion_end_clock_ms = NEVER;
        }
      else if (engine->memory_error_at_clock_ms <= now)
        {
          engine->memory_error = 1;
          engine->memory_error_at_clock_ms = NEVER;
        }
      else
        return;
    }
}

/* ---- stroke-level output ------------------------------------------------------------------------ */

static int64_t
next_stroke_clock (const ThecalEngine *engine)
{
  int64_t p = pump_now (engine), t = NEVER, offset = engine->pump_offset_ms;

  if (engine->basal_on)
    {
      ThecalWide demand = (ThecalWide) (engine->basal_done + 1) * engine->stroke_day - engine->basal_carry;
      int64_t at = _thecal_schedule_basal_time (&engine->sched, engine->regime_pump_ms, demand);

      if (at != NEVER)
        t = min64 (t, at - offset);
    }
  if (engine->periodic_on)
    for (int32_t i = 0; i < engine->sched.n_boluses; i++)
      t = min64 (t, _thecal_schedule_periodic_next_stroke (&engine->sched, i, p) - offset);
  if (engine->exclusive.active && engine->exclusive.done < engine->exclusive.strokes)
    t = min64 (t, engine->exclusive.start_clock_ms
                      + _thecal_bolus_stroke_elapsed (engine->exclusive.strokes, engine->exclusive.duration_ms,
                                                      engine->exclusive.done + 1));
  if (engine->ptm_bolus.active && engine->ptm_bolus.done < engine->ptm_bolus.strokes)
    t = min64 (t, engine->ptm_bolus.start_clock_ms
                      + _thecal_bolus_stroke_elapsed (engine->ptm_bolus.strokes, engine->ptm_bolus.duration_ms,
                                                      engine->ptm_bolus.done + 1));
  return t;
}

static void
step_strokes (ThecalEngine *engine, int64_t t)
{
  for (;;)
    {
      int64_t at = next_stroke_clock (engine);
      ThecalEngineStroke report;
      Totals totals;

      if (at > t)
        return;
      totals_at (engine, at, &totals);
      commit (engine, at, &totals, &report);
      if (report.nominal_nl > 0)
        engine->stroke_func (engine->stroke_data, &report);
    }
}

/* ---- the advance ----------------------------------------------------------------------------------- */

static void
run_until (ThecalEngine *engine, int64_t target)
{
  process_due (engine);
  while (engine->clock_ms < target)
    {
      int64_t t_event, t;
      Totals totals;

      if (engine->eos)
        {
          /* a dead pump: nothing more happens */
          engine->clock_ms = target;
          engine->battery_clock_ms = target;
          return;
        }
      t_event = min64 (next_event_clock (engine), target);
      totals_at (engine, t_event, &totals);
      t = min64 (t_event, find_crossing (engine, t_event, &totals));
      if (t != t_event)
        totals_at (engine, t, &totals);
      if (engine->stroke_func != NULL)
        step_strokes (engine, t);
      commit (engine, t, &totals, NULL);
      process_due (engine);
    }
}

static bool
clock_for_true (const ThecalEngine *engine, int64_t true_ms, int64_t *clock_ms)
{
  int64_t span, scaled;

  if (!thecal_sub_i64 (true_ms, engine->sync_true_ms, &span)
      || !thecal_muldiv_i64 (span, 1000000 + engine->drift_ppm, 1000000, RULE, &scaled)
      || !thecal_add_i64 (engine->sync_clock_ms, scaled, clock_ms))
    return false;
  return true;
}

bool
thecal_engine_advance_to (ThecalEngine *engine, int64_t true_local_ms, ThecalDoseError *error)
{
  int64_t target;

  if (engine == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "engine", "no engine was given.");
  if (true_local_ms < engine->true_ms)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "time",
                                  "time %" PRId64 " ms is before the engine's time %" PRId64 " ms: time only moves forward.",
                                  true_local_ms, engine->true_ms);
  if (!clock_for_true (engine, true_local_ms, &target) || target > INT64_MAX / 2 || target < engine->clock_ms)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_OVERFLOW, "time",
                                  "time %" PRId64 " ms is too far away to simulate.", true_local_ms);
  run_until (engine, target);
  engine->true_ms = true_local_ms;
  return true;
}

int64_t
thecal_engine_pump_ms (const ThecalEngine *engine)
{
  return pump_now (engine);
}

int64_t
thecal_engine_true_ms (const ThecalEngine *engine)
{
  return engine->true_ms;
}

int64_t
thecal_engine_true_for_pump_ms (const ThecalEngine *engine, int64_t pump_ms)
{
  int64_t clock = pump_ms - engine->pump_offset_ms, t;
  ThecalWide num;

  if (clock <= engine->clock_ms)
    return engine->true_ms;
  /* ROUND_UP: the first true ms whose clock reads at least @pump_ms (rule rounding of a value at
   * or above an integer never falls below it) */
  num = (ThecalWide) (clock - engine->sync_clock_ms) * 1000000;
  t = (int64_t) _thecal_wide_div (num, 1000000 + engine->drift_ppm, THECAL_ROUND_UP);
  return engine->sync_true_ms + t;
}

/* ---- set-up ------------------------------------------------------------------------------------- */

void
thecal_engine_config_init (ThecalEngineConfig *config)
{
  if (config == NULL)
    return;
  memset (config, 0, sizeof *config);
  config->battery_bp = THECAL_BP_WHOLE;
  config->drug_id = "";
}

static bool
check_reservoir_fluid (const ThecalEngine *engine,
                       int64_t volume_nl,
                       const char *drug_id,
                       int64_t concentration_ng_per_ml,
                       int64_t actual_nl,
                       ThecalDoseError *error)
{
  char a[THECAL_QUANTITY_TEXT_MAX], b[THECAL_QUANTITY_TEXT_MAX];
  const char *id = drug_id != NULL ? drug_id : "";

  if (volume_nl < 0 || volume_nl > engine->model.reservoir_capacity_nl)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "volume",
                                  "reservoir volume %s is outside 0 to the %s reservoir: do not overfill.",
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME, volume_nl, a),
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME, engine->model.reservoir_capacity_nl, b));
  if (actual_nl < -1 || actual_nl > engine->model.reservoir_capacity_nl)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "actual",
                                  "actual reservoir volume %s is outside 0 to the %s reservoir.",
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME, actual_nl, a),
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME, engine->model.reservoir_capacity_nl, b));
  if (strlen (id) >= THECAL_ID_MAX)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "drug_id", "drug_id is longer than %d characters.",
                                  THECAL_ID_MAX - 1);
  if (id[0] == '\0' && concentration_ng_per_ml != 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "concentration",
                                  "concentration %s is given without a drug: non-drug fluid has concentration 0.",
                                  _thecal_qtext (THECAL_QUANTITY_CONCENTRATION, concentration_ng_per_ml, a));
  if (id[0] != '\0' && concentration_ng_per_ml <= 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "concentration",
                                  "concentration %s of %s is not above 0.",
                                  _thecal_qtext (THECAL_QUANTITY_CONCENTRATION, concentration_ng_per_ml, a), id);
  return true;
}

/* The plan of a stopped pump, built here so that start-up does not depend on the resolver. */
static void
stopped_plan (const ThecalPumpModel *model, ThecalDeliveryPlan *plan)
{
  memset (plan, 0, sizeof *plan);
  plan->mode = THECAL_MODE_STOPPED;
  plan->stroke_volume_nl = model->stroke_volume_nl;
  plan->n_segments = 1;
  plan->segments[0].start_ms_of_day = 0;
  plan->segments[0].end_ms_of_day = DAY_MS;
  plan->segments[0].basal_rate_nl_per_day = 0;
}

bool
thecal_engine_init (ThecalEngine *engine, const ThecalEngineConfig *config, ThecalDoseError *error)
{
  char a[THECAL_QUANTITY_TEXT_MAX];
  int64_t catheter_nl = 0, bp;
  int32_t slot;

  if (engine == NULL || config == NULL || config->model == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "model", "no engine, configuration or pump model was given.");
  if (!thecal_pump_model_validate (config->model, error))
    return false;
  if (config->model->stroke_volume_nl <= 0 || config->model->internal_volume_nl < 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "model.stroke_volume",
                                  "the pump model's stroke volume must be above 0 and its internal volume 0 or more.");
  if (config->catheter.catheter_length_mm < 0 || config->catheter.catheter_volume_nl_per_cm < 0
      || !thecal_muldiv_i64 (config->catheter.catheter_length_mm, config->catheter.catheter_volume_nl_per_cm, 10, RULE,
                             &catheter_nl)
      || catheter_nl > THECAL_NL_PER_ML * 100)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "catheter",
                                  "catheter length %d mm at %" PRId64 " nL/cm is out of range (0 to 100 mL of catheter volume).",
                                  (int) config->catheter.catheter_length_mm, config->catheter.catheter_volume_nl_per_cm);
  bp = config->battery_bp;
  if (bp < 1 || bp > THECAL_BP_WHOLE)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "battery",
                                  "battery %s is outside 0.01 %% to 100 %%.", _thecal_qtext (THECAL_QUANTITY_RATIO, bp, a));

  memset (engine, 0, sizeof *engine);
  engine->model = *config->model; /* strings then int64_t: no padding */
  if (!check_reservoir_fluid (engine, config->reservoir_nl, config->drug_id, config->concentration_ng_per_ml, -1, error))
    return false;
  if (!thecal_mul_i64 (engine->model.stroke_volume_nl, DAY_MS, &engine->stroke_day)
      || engine->model.stroke_volume_nl > THECAL_NL_PER_ML)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "model.stroke_volume",
                                  "the pump model's stroke volume %s is above 1 mL.",
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME, engine->model.stroke_volume_nl, a));
  engine->dead_space_nl = engine->model.internal_volume_nl + catheter_nl;

  engine->clock_ms = config->start_local_ms;
  engine->true_ms = config->start_local_ms;
  engine->sync_true_ms = config->start_local_ms;
  engine->sync_clock_ms = config->start_local_ms;

  thecal_prescription_init (&engine->rx);
  stopped_plan (&engine->model, &engine->plan);
  if (!_thecal_schedule_build (&engine->sched, &engine->plan, error))
    return false;

  engine->stall_at_clock_ms = NEVER;
  engine->stall_end_clock_ms = NEVER;
  engine->occlusion_at_clock_ms = NEVER;
  engine->occlusion_end_clock_ms = NEVER;
  engine->memory_error_at_clock_ms = NEVER;
  engine->periodic_next_edge_clock_ms = NEVER;
  for (int32_t i = 0; i < THECAL_ALARM_N_KINDS; i++)
    engine->alarms[i].raised_at_pump_ms = INT64_MIN;
  thecal_rng_seed (&engine->rng, config->seed);
  engine->log_next_seq = 1;

  engine->n_drugs = 1; /* slot 0: non-drug fluid, id "" */
  slot = _thecal_fluid_drug_slot (engine, config->drug_id);
  if (!_thecal_battery_setup (engine, bp, error))
    return false;
  engine->reservoir_drug = slot;
  engine->reservoir_concentration_ng_per_ml = config->concentration_ng_per_ml;
  engine->reservoir_set_nl = config->reservoir_nl;
  engine->actual_nl = config->reservoir_nl;
  if (config->path_primed)
    _thecal_fluid_fill_path (engine, slot, config->concentration_ng_per_ml);
  else
    _thecal_fluid_fill_path (engine, 0, 0);
  _thecal_battery_update_eri_threshold (engine);

  _thecal_engine_log (engine, THECAL_EVENT_ENGINE_START, 0, config->reservoir_nl, engine->dead_space_nl, bp);
  _thecal_engine_log (engine, THECAL_EVENT_RESERVOIR_SET, slot, config->reservoir_nl, config->concentration_ng_per_ml,
                      config->reservoir_nl);
  open_regime (engine);
  process_due (engine);
  return true;
}

/* ---- commands ------------------------------------------------------------------------------------ */

static bool
refuse_after_eos (const ThecalEngine *engine, ThecalDoseError *error)
{
  if (engine->eos)
    return !thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "pump",
                                   "the pump has reached end of service (EOS): it no longer answers or delivers; replace it.");
  return false;
}

static bool
check_rate_in_range (const ThecalEngine *engine, int64_t rate_nl_per_day, const char *field, ThecalDoseError *error)
{
  char a[THECAL_QUANTITY_TEXT_MAX], b[THECAL_QUANTITY_TEXT_MAX], c[THECAL_QUANTITY_TEXT_MAX];

  if (rate_nl_per_day < engine->model.rate_min_nl_per_day || rate_nl_per_day > engine->model.rate_max_nl_per_day)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field,
                                  "%s %s is outside the pump's programmable range %s to %s: the pump cannot deliver it.",
                                  field, _thecal_qtext (THECAL_QUANTITY_VOLUME_RATE, rate_nl_per_day, a),
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME_RATE, engine->model.rate_min_nl_per_day, b),
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME_RATE, engine->model.rate_max_nl_per_day, c));
  return true;
}

/* What the model cannot do: basal rates outside the programmable range (the dose core reports
 * them as findings; a pump refuses them). Bolus ceilings are refused by the resolver already. */
static bool
check_plan_for_model (const ThecalEngine *engine,
                      const ThecalPrescription *rx,
                      const ThecalDeliveryPlan *plan,
                      ThecalDoseError *error)
{
  char field[THECAL_ERROR_FIELD_MAX];

  if (plan->ptm_enabled && (plan->ptm_max_per_24h < 1 || plan->ptm_max_per_24h > THECAL_ENGINE_PTM_HISTORY_MAX))
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "ptm.max_per_24h",
                                  "ptm.max_per_24h %d is outside 1 to %d.", (int) plan->ptm_max_per_24h,
                                  THECAL_ENGINE_PTM_HISTORY_MAX);
  switch (rx->mode)
    {
    case THECAL_MODE_CONTINUOUS:
      return check_rate_in_range (engine, plan->segments[0].basal_rate_nl_per_day,
                                  rx->continuous.basis == THECAL_BASIS_DOSE ? "continuous dose rate" : "continuous.rate",
                                  error);
    case THECAL_MODE_FLEX:
      for (int32_t i = 0; i < rx->n_flex_steps; i++)
        {
          int64_t start = rx->flex_steps[i].start_min * THECAL_MS_PER_MINUTE;

          for (int32_t j = 0; j < plan->n_segments; j++)
            if (plan->segments[j].start_ms_of_day == start)
              {
                snprintf (field, sizeof field, "flex_steps[%d] rate", (int) i);
                if (!check_rate_in_range (engine, plan->segments[j].basal_rate_nl_per_day, field, error))
                  return false;
              }
        }
      return true;
    case THECAL_MODE_STOPPED:
    case THECAL_MODE_MINIMUM_RATE:
      return true;
    case THECAL_MODE_N_MODES:
    default:
      return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "mode", "mode %d is not known.", (int) rx->mode);
    }
}

/* Field-by-field copies into zeroed structs: padding bytes stay 0, so two engines fed the same
 * inputs are byte-identical (memcmp) whatever the caller's structs held in their padding. */
static void
copy_amount (ThecalDailyAmount *dst, const ThecalDailyAmount *src)
{
  dst->basis = src->basis;
  dst->dose_ng_per_day = src->dose_ng_per_day;
  dst->rate_nl_per_day = src->rate_nl_per_day;
}

static void
copy_prescription (ThecalPrescription *dst, const ThecalPrescription *src)
{
  memset (dst, 0, sizeof *dst);
  memcpy (dst->drug_id, src->drug_id, sizeof dst->drug_id);
  dst->concentration_ng_per_ml = src->concentration_ng_per_ml;
  dst->mode = src->mode;
  copy_amount (&dst->continuous, &src->continuous);
  dst->n_flex_steps = src->n_flex_steps;
  for (int32_t i = 0; i < src->n_flex_steps && i < THECAL_FLEX_STEPS_MAX; i++)
    {
      dst->flex_steps[i].start_min = src->flex_steps[i].start_min;
      dst->flex_steps[i].duration_min = src->flex_steps[i].duration_min;
      copy_amount (&dst->flex_steps[i].amount, &src->flex_steps[i].amount);
    }
  dst->n_periodic_boluses = src->n_periodic_boluses;
  for (int32_t i = 0; i < src->n_periodic_boluses && i < THECAL_PERIODIC_BOLUSES_MAX; i++)
    {
      dst->periodic_boluses[i].start_min = src->periodic_boluses[i].start_min;
      dst->periodic_boluses[i].dose_ng = src->periodic_boluses[i].dose_ng;
      dst->periodic_boluses[i].duration_ms = src->periodic_boluses[i].duration_ms;
    }
  dst->ptm.enabled = src->ptm.enabled;
  dst->ptm.dose_ng = src->ptm.dose_ng;
  dst->ptm.duration_ms = src->ptm.duration_ms;
  dst->ptm.lockout_ms = src->ptm.lockout_ms;
  dst->ptm.max_per_24h = src->ptm.max_per_24h;
}

static void
copy_planned_bolus (ThecalPlannedBolus *dst, const ThecalPlannedBolus *src)
{
  dst->start_ms_of_day = src->start_ms_of_day;
  dst->duration_ms = src->duration_ms;
  dst->volume_nl = src->volume_nl;
  dst->dose_ng = src->dose_ng;
}

static void
copy_plan (ThecalDeliveryPlan *dst, const ThecalDeliveryPlan *src)
{
  memset (dst, 0, sizeof *dst);
  dst->mode = src->mode;
  dst->concentration_ng_per_ml = src->concentration_ng_per_ml;
  dst->stroke_volume_nl = src->stroke_volume_nl;
  dst->n_segments = src->n_segments;
  for (int32_t i = 0; i < src->n_segments && i < THECAL_DAY_SEGMENTS_MAX; i++)
    dst->segments[i] = src->segments[i]; /* three int64_t: no padding */
  dst->n_boluses = src->n_boluses;
  for (int32_t i = 0; i < src->n_boluses && i < THECAL_PERIODIC_BOLUSES_MAX; i++)
    copy_planned_bolus (&dst->boluses[i], &src->boluses[i]);
  dst->ptm_enabled = src->ptm_enabled;
  copy_planned_bolus (&dst->ptm, &src->ptm);
  dst->ptm_lockout_ms = src->ptm_lockout_ms;
  dst->ptm_max_per_24h = src->ptm_max_per_24h;
  dst->basal_nl_per_day = src->basal_nl_per_day;
  dst->basal_ng_per_day = src->basal_ng_per_day;
  dst->periodic_nl_per_day = src->periodic_nl_per_day;
  dst->periodic_ng_per_day = src->periodic_ng_per_day;
  dst->ptm_worst_nl_per_day = src->ptm_worst_nl_per_day;
  dst->ptm_worst_ng_per_day = src->ptm_worst_ng_per_day;
  dst->total_worst_nl_per_day = src->total_worst_nl_per_day;
  dst->total_worst_ng_per_day = src->total_worst_ng_per_day;
}

bool
thecal_engine_set_prescription (ThecalEngine *engine, const ThecalPrescription *rx, ThecalDoseError *error)
{
  ThecalDeliveryPlan plan;
  ThecalEngineSchedule sched;

  if (engine == NULL || rx == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "prescription", "no engine or prescription was given.");
  if (refuse_after_eos (engine, error))
    return false;
  if (engine->exclusive.active)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "prescription",
                                  "a %s bolus is running: cancel it before changing the prescription.",
                                  thecal_source_name ((ThecalSource) engine->exclusive.source));
  memset (&plan, 0, sizeof plan);
  if (!thecal_delivery_plan_resolve (rx, &engine->model, &plan, error) || !check_plan_for_model (engine, rx, &plan, error)
      || !_thecal_schedule_build (&sched, &plan, error))
    return false;
  if (plan.stroke_volume_nl != engine->model.stroke_volume_nl)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "plan",
                                  "the delivery plan was resolved for another stroke volume.");

  close_regime (engine);
  copy_prescription (&engine->rx, rx);
  copy_plan (&engine->plan, &plan);
  memcpy (&engine->sched, &sched, sizeof engine->sched); /* int64_t and int32_t pairs: no padding */
  engine->daily_nominal_nl = rx->mode == THECAL_MODE_STOPPED ? 0 : plan.basal_nl_per_day + plan.periodic_nl_per_day;
  engine->memory_error = 0; /* reprogramming restores a pump stopped by a memory error */
  _thecal_battery_update_eri_threshold (engine);
  _thecal_engine_log (engine, THECAL_EVENT_PRESCRIPTION_SET, (int32_t) rx->mode, plan.basal_nl_per_day,
                      plan.periodic_nl_per_day, plan.concentration_ng_per_ml);
  open_regime (engine);
  process_due (engine);
  return true;
}

bool
thecal_engine_set_reservoir (ThecalEngine *engine,
                             int64_t volume_nl,
                             const char *drug_id,
                             int64_t concentration_ng_per_ml,
                             int64_t actual_nl,
                             ThecalDoseError *error)
{
  int32_t slot;

  if (engine == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "engine", "no engine was given.");
  if (refuse_after_eos (engine, error)
      || !check_reservoir_fluid (engine, volume_nl, drug_id, concentration_ng_per_ml, actual_nl, error))
    return false;
  slot = _thecal_fluid_drug_slot (engine, drug_id);
  if (slot < 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_CAPACITY, "drug_id",
                                  "the pump already tracks %d drugs still in its reservoir or catheter: no room for %s.",
                                  THECAL_ENGINE_DRUGS_MAX, drug_id != NULL ? drug_id : "");
  engine->reservoir_set_nl = volume_nl;
  engine->estimate_strokes = 0;
  engine->actual_nl = actual_nl >= 0 ? actual_nl : volume_nl;
  engine->moved_strokes = 0;
  engine->reservoir_drug = slot;
  engine->reservoir_concentration_ng_per_ml = concentration_ng_per_ml;
  _thecal_engine_log (engine, THECAL_EVENT_RESERVOIR_SET, slot, volume_nl, concentration_ng_per_ml, engine->actual_nl);
  process_due (engine);
  return true;
}

static bool
check_can_bolus (const ThecalEngine *engine, ThecalDoseError *error)
{
  if (refuse_after_eos (engine, error))
    return false;
  if (engine->exclusive.active)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "bolus",
                                  "a %s bolus is already running: cancel it first.",
                                  thecal_source_name ((ThecalSource) engine->exclusive.source));
  if (engine->stalled)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "bolus", "the motor is stalled: the pump cannot deliver a bolus.");
  if (engine->memory_error)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "bolus",
                                  "the pump stopped on a memory error: reprogram it before a bolus.");
  if (engine->alarms[THECAL_ALARM_RESERVOIR_EMPTY].condition)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "bolus", "the reservoir is empty: refill before a bolus.");
  return true;
}

/* A bolus of @volume_nl over @duration_ms: whole strokes, above 0, no faster than the ceiling. */
static bool
check_bolus_shape (const ThecalEngine *engine, int64_t volume_nl, int64_t duration_ms, const char *field, ThecalDoseError *error)
{
  char a[THECAL_QUANTITY_TEXT_MAX], b[THECAL_QUANTITY_TEXT_MAX], c[THECAL_QUANTITY_TEXT_MAX];
  int64_t rate;

  if (duration_ms <= 0 || duration_ms > 30 * DAY_MS)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field, "%s duration %s is outside 1 ms to 30 days.", field,
                                  _thecal_qtext (THECAL_QUANTITY_DURATION, duration_ms, a));
  if (volume_nl <= 0 || volume_nl % engine->model.stroke_volume_nl != 0
      || volume_nl > engine->model.reservoir_capacity_nl)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field,
                                  "%s volume %s is not a whole number of %s strokes between one stroke and the reservoir capacity.",
                                  field, _thecal_qtext (THECAL_QUANTITY_VOLUME, volume_nl, a),
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME, engine->model.stroke_volume_nl, b));
  /* ROUND_UP: the exact rate is above the ceiling exactly when its ceiling is */
  if (!thecal_muldiv_i64 (volume_nl, DAY_MS, duration_ms, THECAL_ROUND_UP, &rate)
      || rate > engine->model.bolus_rate_max_nl_per_day)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field,
                                  "%s of %s over %s is faster than the pump's maximum bolus rate %s.", field,
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME, volume_nl, a), _thecal_qtext (THECAL_QUANTITY_DURATION, duration_ms, b),
                                  _thecal_qtext (THECAL_QUANTITY_VOLUME_RATE, engine->model.bolus_rate_max_nl_per_day, c));
  return true;
}

static void
begin_exclusive (ThecalEngine *engine, const ThecalEngineBolus *first)
{
  close_regime (engine);
  start_exclusive (engine, first);
  open_regime (engine);
  process_due (engine);
}

bool
thecal_engine_start_clinician_bolus (ThecalEngine *engine, int64_t dose_ng, int64_t duration_ms, ThecalDoseError *error)
{
  char a[THECAL_QUANTITY_TEXT_MAX];
  ThecalEngineBolus bolus;
  int64_t conc, s, strokes;
  ThecalWide num, den;

  if (engine == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "engine", "no engine was given.");
  if (!check_can_bolus (engine, error))
    return false;
  conc = engine->rx.concentration_ng_per_ml;
  s = engine->model.stroke_volume_nl;
  if (conc <= 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "concentration",
                                  "the pump has no programmed concentration: set a prescription before a clinician bolus.");
  if (dose_ng <= 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "dose", "clinician bolus dose %s is not above 0.",
                                  _thecal_qtext (THECAL_QUANTITY_AMOUNT, dose_ng, a));
  /* strokes = dose × 10^6 / (concentration × stroke), one rounding by the rule (as the resolver) */
  num = (ThecalWide) dose_ng * THECAL_NL_PER_ML;
  den = (ThecalWide) conc * s;
  strokes = (int64_t) _thecal_wide_div (num, den, RULE);
  if (strokes <= 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "dose",
                                  "clinician bolus dose %s rounds to 0 strokes: the smallest bolus is one stroke.",
                                  _thecal_qtext (THECAL_QUANTITY_AMOUNT, dose_ng, a));
  if (strokes > engine->model.reservoir_capacity_nl / s + 1)
    strokes = engine->model.reservoir_capacity_nl / s + 1; /* refused just below, with the volume named */
  if (!check_bolus_shape (engine, strokes * s, duration_ms, "clinician bolus", error))
    return false;
  memset (&bolus, 0, sizeof bolus);
  bolus.duration_ms = duration_ms;
  bolus.strokes = strokes;
  bolus.source = THECAL_SOURCE_CLINICIAN;
  begin_exclusive (engine, &bolus);
  return true;
}

bool
thecal_engine_start_phase_bolus (ThecalEngine *engine, const ThecalBolusPlan *plan, ThecalDoseError *error)
{
  char field[THECAL_ERROR_FIELD_MAX];
  ThecalEngineBolus phases[THECAL_BOLUS_PHASES_MAX];
  int32_t n = 0;

  if (engine == NULL || plan == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "plan", "no engine or bolus plan was given.");
  if (!check_can_bolus (engine, error))
    return false;
  if (plan->n_phases < 1 || plan->n_phases > THECAL_BOLUS_PHASES_MAX)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "phases", "the bolus plan has %d phases: 1 to %d.",
                                  (int) plan->n_phases, THECAL_BOLUS_PHASES_MAX);
  memset (phases, 0, sizeof phases);
  for (int32_t i = 0; i < plan->n_phases; i++)
    {
      const ThecalBolusPhase *phase = &plan->phases[i];
      ThecalSource source;

      switch (phase->kind)
        {
        case THECAL_PHASE_PRIMING:
          source = THECAL_SOURCE_PRIMING;
          break;
        case THECAL_PHASE_BRIDGE:
          source = THECAL_SOURCE_BRIDGE;
          break;
        case THECAL_PHASE_PRESCRIPTION:
          continue; /* the prescription, already set, resumes after the phases */
        default:
          snprintf (field, sizeof field, "phases[%d].kind", (int) i);
          return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field, "%s %d is not a phase kind.", field,
                                        (int) phase->kind);
        }
      if (phase->volume_nl == 0)
        continue; /* nothing to push in this phase */
      snprintf (field, sizeof field, "phases[%d]", (int) i);
      if (!check_bolus_shape (engine, phase->volume_nl, phase->duration_ms, field, error))
        return false;
      phases[n].duration_ms = phase->duration_ms;
      phases[n].strokes = phase->volume_nl / engine->model.stroke_volume_nl;
      phases[n].source = source;
      phases[n].index = i;
      n++;
    }
  if (n == 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "phases",
                                  "the bolus plan has no priming or bridge phase with a volume to deliver.");
  memcpy (engine->phases, phases, sizeof phases);
  engine->n_phases = n;
  engine->next_phase = 1;
  begin_exclusive (engine, &engine->phases[0]);
  return true;
}

bool
thecal_engine_cancel_bolus (ThecalEngine *engine, ThecalDoseError *error)
{
  if (engine == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "engine", "no engine was given.");
  if (refuse_after_eos (engine, error))
    return false;
  if (!engine->exclusive.active)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "bolus", "no clinician, priming or bridge bolus is running.");
  end_bolus (engine, &engine->exclusive, false);
  engine->n_phases = engine->next_phase = 0;
  process_due (engine);
  return true;
}

/* Drops PTM grants older than 24 h (oscillator time: a clock set does not move them). */
static void
prune_grants (ThecalEngine *engine)
{
  int32_t keep = 0;

  while (keep < engine->ptm_n_grants && engine->clock_ms - engine->ptm_grants[keep] >= DAY_MS)
    keep++;
  if (keep > 0)
    {
      memmove (engine->ptm_grants, engine->ptm_grants + keep, (size_t) (engine->ptm_n_grants - keep) * sizeof (int64_t));
      memset (engine->ptm_grants + engine->ptm_n_grants - keep, 0, (size_t) keep * sizeof (int64_t));
      engine->ptm_n_grants -= keep;
    }
}

/* Grants within (now − 24 h, now]. */
static int32_t
grants_in_24h (const ThecalEngine *engine)
{
  int32_t n = 0;

  for (int32_t i = 0; i < engine->ptm_n_grants; i++)
    if (engine->clock_ms - engine->ptm_grants[i] < DAY_MS)
      n++;
  return n;
}

/* The first oscillator ms that passes the lockout and the 24 h maximum. */
static int64_t
ptm_allowed_clock (const ThecalEngine *engine)
{
  int32_t count = grants_in_24h (engine), first = engine->ptm_n_grants - count;
  int64_t t = engine->clock_ms;

  if (!engine->plan.ptm_enabled)
    return NEVER;
  if (engine->ptm_n_grants > 0)
    t = engine->ptm_grants[engine->ptm_n_grants - 1] + engine->plan.ptm_lockout_ms > t
            ? engine->ptm_grants[engine->ptm_n_grants - 1] + engine->plan.ptm_lockout_ms
            : t;
  if (count >= engine->plan.ptm_max_per_24h)
    {
      /* the grant that has to leave the window for one more to fit */
      int64_t expires = engine->ptm_grants[first + count - engine->plan.ptm_max_per_24h] + DAY_MS;

      if (expires > t)
        t = expires;
    }
  return t;
}

int64_t
thecal_engine_ptm_next_allowed_pump_ms (const ThecalEngine *engine)
{
  int64_t t = ptm_allowed_clock (engine);

  return t == NEVER ? NEVER : t + engine->pump_offset_ms;
}

bool
thecal_engine_ptm_request (ThecalEngine *engine, ThecalPtmOutcome *outcome, ThecalDoseError *error)
{
  ThecalPtmOutcome result;
  int64_t allowed;
  int32_t count;

  if (engine == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "engine", "no engine was given.");
  if (refuse_after_eos (engine, error))
    return false;
  prune_grants (engine);
  count = grants_in_24h (engine);
  allowed = ptm_allowed_clock (engine);
  if (!engine->plan.ptm_enabled || engine->rx.mode == THECAL_MODE_STOPPED)
    result = THECAL_PTM_REFUSED_DISABLED;
  else if (engine->ptm_n_grants > 0
           && engine->clock_ms - engine->ptm_grants[engine->ptm_n_grants - 1] < engine->plan.ptm_lockout_ms)
    result = THECAL_PTM_REFUSED_LOCKOUT;
  else if (count >= engine->plan.ptm_max_per_24h)
    result = THECAL_PTM_REFUSED_DAILY_MAX;
  else if (engine->alarms[THECAL_ALARM_RESERVOIR_EMPTY].condition)
    result = THECAL_PTM_REFUSED_RESERVOIR_EMPTY;
  else if (engine->stalled || engine->memory_error)
    result = THECAL_PTM_REFUSED_NOT_DELIVERING;
  else if (engine->exclusive.active || engine->ptm_bolus.active)
    result = THECAL_PTM_REFUSED_BOLUS_IN_PROGRESS;
  else
    result = THECAL_PTM_GRANTED;

  if (result == THECAL_PTM_GRANTED)
    {
      int64_t s = engine->model.stroke_volume_nl;

      engine->ptm_grants[engine->ptm_n_grants++] = engine->clock_ms; /* < max ≤ 96 after pruning */
      memset (&engine->ptm_bolus, 0, sizeof engine->ptm_bolus);
      engine->ptm_bolus.start_clock_ms = engine->clock_ms;
      engine->ptm_bolus.duration_ms = engine->plan.ptm.duration_ms;
      engine->ptm_bolus.strokes = engine->plan.ptm.volume_nl / s;
      engine->ptm_bolus.source = THECAL_SOURCE_PTM;
      engine->ptm_bolus.active = 1;
      engine->ptm_granted_total++;
      _thecal_engine_log (engine, THECAL_EVENT_PTM_GRANTED, 0, engine->plan.ptm.volume_nl, count + 1,
                          engine->plan.ptm.duration_ms);
      _thecal_engine_log (engine, THECAL_EVENT_BOLUS_START, THECAL_SOURCE_PTM, engine->plan.ptm.volume_nl,
                          engine->plan.ptm.duration_ms, engine->ptm_granted_total);
      process_due (engine);
    }
  else
    {
      int64_t wait = -1;

      if ((result == THECAL_PTM_REFUSED_LOCKOUT || result == THECAL_PTM_REFUSED_DAILY_MAX) && allowed != NEVER)
        wait = allowed - engine->clock_ms;
      engine->ptm_refused_total++;
      _thecal_engine_log (engine, THECAL_EVENT_PTM_REFUSED, (int32_t) result, wait, count, 0);
    }
  if (outcome != NULL)
    *outcome = result;
  return true;
}

bool
thecal_engine_acknowledge (ThecalEngine *engine, ThecalAlarmKind alarm, ThecalDoseError *error)
{
  ThecalEngineAlarmState *state;

  if (engine == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "engine", "no engine was given.");
  if ((int) alarm < 0 || alarm >= THECAL_ALARM_N_KINDS)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "alarm", "alarm %d is not known.", (int) alarm);
  state = &engine->alarms[alarm];
  if (!state->raised)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "alarm", "the %s alarm is not raised: nothing to acknowledge.",
                                  thecal_alarm_kind_name (alarm));
  if (state->acknowledged)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "alarm", "the %s alarm is already acknowledged.",
                                  thecal_alarm_kind_name (alarm));
  state->acknowledged = 1;
  _thecal_engine_log (engine, THECAL_EVENT_ALARM_ACKNOWLEDGED, (int32_t) alarm, 0, 0, 0);
  if (thecal_alarm_kind_is_critical (alarm) && !state->condition)
    {
      /* the cause is gone: the latched critical alarm now clears */
      state->raised = 0;
      state->acknowledged = 0;
      _thecal_engine_log (engine, THECAL_EVENT_ALARM_CLEARED, (int32_t) alarm, 0, 0, 0);
    }
  return true;
}

bool
thecal_engine_set_clock (ThecalEngine *engine, int64_t pump_local_ms, ThecalDoseError *error)
{
  int64_t old = 0;

  if (engine == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "engine", "no engine was given.");
  if (refuse_after_eos (engine, error))
    return false;
  if (pump_local_ms < -(INT64_MAX / 4) || pump_local_ms > INT64_MAX / 4)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "clock", "clock %" PRId64 " ms is out of range.", pump_local_ms);
  old = pump_now (engine);
  close_regime (engine);
  engine->pump_offset_ms = pump_local_ms - engine->clock_ms;
  engine->sync_true_ms = engine->true_ms;
  engine->sync_clock_ms = engine->clock_ms;
  _thecal_engine_log (engine, THECAL_EVENT_CLOCK_SET, 0, old, pump_local_ms, 0);
  open_regime (engine);
  process_due (engine);
  return true;
}

static bool
fault_time (const ThecalEngine *engine, const ThecalEngineFault *fault, int64_t *at_clock_ms, ThecalDoseError *error)
{
  char a[THECAL_QUANTITY_TEXT_MAX];

  if (fault->at_pump_ms < pump_now (engine) || fault->at_pump_ms > INT64_MAX / 4)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "at",
                                  "fault time %" PRId64 " ms is before the pump's time %" PRId64 " ms: a fault starts now or later.",
                                  fault->at_pump_ms, pump_now (engine));
  if (fault->duration_ms < 0 || fault->duration_ms > INT64_MAX / 4)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "duration",
                                  "fault duration %s is negative or too long (0 means permanent).",
                                  _thecal_qtext (THECAL_QUANTITY_DURATION, fault->duration_ms, a));
  *at_clock_ms = fault->at_pump_ms - engine->pump_offset_ms;
  return true;
}

bool
thecal_engine_inject_fault (ThecalEngine *engine, const ThecalEngineFault *fault, ThecalDoseError *error)
{
  char a[THECAL_QUANTITY_TEXT_MAX], b[THECAL_QUANTITY_TEXT_MAX];
  int64_t at = 0;

  if (engine == NULL || fault == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "fault", "no engine or fault was given.");
  if (refuse_after_eos (engine, error))
    return false;
  switch (fault->kind)
    {
    case THECAL_FAULT_FLOW_BIAS:
      if (fault->value < THECAL_ENGINE_BIAS_MIN_BP || fault->value > THECAL_ENGINE_BIAS_MAX_BP)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "bias", "flow bias %s is outside %s to %s.",
                                      _thecal_qtext (THECAL_QUANTITY_RATIO, fault->value, a),
                                      _thecal_qtext (THECAL_QUANTITY_RATIO, THECAL_ENGINE_BIAS_MIN_BP, b), "100 %");
      engine->moved_strokes = 0; /* the removal formula restarts from here */
      engine->bias_bp = fault->value;
      break;
    case THECAL_FAULT_STROKE_NOISE:
      if (fault->value < 0 || fault->value > engine->model.stroke_volume_nl / THECAL_ENGINE_NOISE_MAX_DIVISOR)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "noise",
                                      "stroke noise %s is outside 0 to half a stroke (%s).",
                                      _thecal_qtext (THECAL_QUANTITY_VOLUME, fault->value, a),
                                      _thecal_qtext (THECAL_QUANTITY_VOLUME, engine->model.stroke_volume_nl / 2, b));
      engine->noise_nl = fault->value;
      break;
    case THECAL_FAULT_MOTOR_STALL:
      if (!fault_time (engine, fault, &at, error))
        return false;
      engine->stall_at_clock_ms = at;
      engine->stall_duration_ms = fault->duration_ms;
      break;
    case THECAL_FAULT_OCCLUSION:
      if (!fault_time (engine, fault, &at, error))
        return false;
      engine->occlusion_at_clock_ms = at;
      engine->occlusion_duration_ms = fault->duration_ms;
      break;
    case THECAL_FAULT_BATTERY_DRAIN:
      if (fault->value < 1 || fault->value > THECAL_ENGINE_DRAIN_MAX_BP)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "drain",
                                      "battery drain %s is outside 0.01 %% to 10000 %% of nominal.",
                                      _thecal_qtext (THECAL_QUANTITY_RATIO, fault->value, a));
      engine->drain_bp = fault->value;
      _thecal_battery_update_eri_threshold (engine);
      break;
    case THECAL_FAULT_CLOCK_DRIFT:
      if (fault->value < -THECAL_ENGINE_DRIFT_MAX_PPM || fault->value > THECAL_ENGINE_DRIFT_MAX_PPM)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "drift",
                                      "clock drift %" PRId64 " ppm is outside -%" PRId64 " to %" PRId64 " ppm.",
                                      fault->value, THECAL_ENGINE_DRIFT_MAX_PPM, THECAL_ENGINE_DRIFT_MAX_PPM);
      engine->sync_true_ms = engine->true_ms;
      engine->sync_clock_ms = engine->clock_ms;
      engine->drift_ppm = fault->value;
      break;
    case THECAL_FAULT_MEMORY_ERROR:
      if (!fault_time (engine, fault, &at, error))
        return false;
      engine->memory_error_at_clock_ms = at;
      break;
    case THECAL_FAULT_N_KINDS:
    default:
      return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "fault", "fault kind %d is not known.", (int) fault->kind);
    }
  _thecal_engine_log (engine, THECAL_EVENT_FAULT_INJECTED, (int32_t) fault->kind, fault->value, fault->at_pump_ms,
                      fault->duration_ms);
  process_due (engine);
  return true;
}

void
thecal_engine_set_stroke_func (ThecalEngine *engine, ThecalEngineStrokeFunc func, void *user_data)
{
  if (engine == NULL)
    return;
  engine->stroke_func = func;
  engine->stroke_data = func != NULL ? user_data : NULL;
}

/* ---- reading --------------------------------------------------------------------------------------- */

void
thecal_engine_get_status (const ThecalEngine *engine, ThecalEngineStatus *status)
{
  const ThecalEngineDrug *reservoir_drug;
  int64_t s;

  if (engine == NULL || status == NULL)
    return;
  memset (status, 0, sizeof *status);
  s = engine->model.stroke_volume_nl;
  status->pump_ms = pump_now (engine);
  status->true_ms = engine->true_ms;
  status->mode = engine->rx.mode;
  status->delivering = engine->basal_on || engine->periodic_on;
  status->bolus_active = engine->exclusive.active != 0;
  status->bolus_source = (ThecalSource) engine->exclusive.source;
  status->bolus_planned_nl = engine->exclusive.active ? engine->exclusive.strokes * s : 0;
  status->bolus_done_nl = engine->exclusive.active ? engine->exclusive.done * s : 0;
  status->ptm_active = engine->ptm_bolus.active != 0;
  status->ptm_done_nl = engine->ptm_bolus.active ? engine->ptm_bolus.done * s : 0;

  status->reservoir_estimate_nl = _thecal_engine_estimate_nl (engine);
  status->reservoir_actual_nl = engine->actual_nl;
  status->reservoir_set_nl = engine->reservoir_set_nl;
  reservoir_drug = &engine->drugs[engine->reservoir_drug];
  memcpy (status->reservoir_drug_id, reservoir_drug->id, sizeof status->reservoir_drug_id);
  status->reservoir_concentration_ng_per_ml = engine->reservoir_concentration_ng_per_ml;
  status->dead_space_nl = engine->dead_space_nl;
  if (engine->n_parcels > 0)
    {
      memcpy (status->tip_drug_id, engine->drugs[engine->parcels[0].drug].id, sizeof status->tip_drug_id);
      status->tip_concentration_ng_per_ml = engine->parcels[0].concentration_ng_per_ml;
    }
  else
    {
      memcpy (status->tip_drug_id, reservoir_drug->id, sizeof status->tip_drug_id);
      status->tip_concentration_ng_per_ml = engine->reservoir_concentration_ng_per_ml;
    }

  status->strokes_total = engine->strokes_total;
  for (int32_t i = 0; i < THECAL_SOURCE_N_SOURCES; i++)
    {
      status->nominal_nl[i] = engine->nominal_nl[i];
      status->pumped_nl += engine->nominal_nl[i];
    }
  status->moved_nl = engine->moved_nl;
  status->delivered_nl = engine->tip_nl;
  for (int32_t i = 0; i < engine->n_drugs; i++)
    status->delivered_ng += engine->drugs[i].delivered_ng;

  status->ptm_granted_total = engine->ptm_granted_total;
  status->ptm_refused_total = engine->ptm_refused_total;
  status->ptm_grants_24h = grants_in_24h (engine);
  status->ptm_next_allowed_pump_ms = thecal_engine_ptm_next_allowed_pump_ms (engine);

  status->battery_remaining = engine->battery_remaining;
  status->battery_capacity = engine->battery_capacity;
  status->battery_bp = battery_bp_left (engine);
  status->battery_drain_per_day = _thecal_battery_drain_per_day (engine);
  status->battery_days_left = status->battery_drain_per_day > 0 ? engine->battery_remaining / status->battery_drain_per_day : 0;
  status->eri = engine->alarms[THECAL_ALARM_ERI].condition != 0;
  status->eos = engine->eos != 0;

  status->bias_bp = engine->bias_bp;
  status->noise_nl = engine->noise_nl;
  status->drain_bp = engine->drain_bp;
  status->drift_ppm = engine->drift_ppm;
  status->stalled = engine->stalled != 0;
  status->occluded = engine->occluded != 0;
  status->memory_error = engine->memory_error != 0;

  for (int32_t i = 0; i < THECAL_ALARM_N_KINDS; i++)
    {
      const ThecalEngineAlarmState *a = &engine->alarms[i];

      status->alarms[i].condition = a->condition != 0;
      status->alarms[i].raised = a->raised != 0;
      status->alarms[i].acknowledged = a->acknowledged != 0;
      status->alarms[i].critical = thecal_alarm_kind_is_critical ((ThecalAlarmKind) i);
      status->alarms[i].raised_at_pump_ms = a->raised_at_pump_ms;
      status->alarms[i].count = a->count;
    }
  status->log_oldest_seq = thecal_engine_log_oldest_seq (engine);
  status->log_next_seq = engine->log_next_seq;
}

bool
thecal_engine_delivered_drug (const ThecalEngine *engine, const char *drug_id, int64_t *delivered_nl, int64_t *delivered_ng)
{
  const char *id = drug_id != NULL ? drug_id : "";

  if (engine == NULL)
    return false;
  for (int32_t i = 0; i < engine->n_drugs; i++)
    if (strcmp (engine->drugs[i].id, id) == 0)
      {
        if (delivered_nl != NULL)
          *delivered_nl = engine->drugs[i].delivered_nl;
        if (delivered_ng != NULL)
          *delivered_ng = engine->drugs[i].delivered_ng;
        return true;
      }
  return false;
}

const char *
thecal_engine_drug_id (const ThecalEngine *engine, int32_t slot)
{
  if (engine == NULL || slot < 0 || slot >= engine->n_drugs)
    return NULL;
  return engine->drugs[slot].id;
}

bool
thecal_engine_path_parcel (const ThecalEngine *engine,
                           int32_t index,
                           int64_t *volume_nl,
                           const char **drug_id,
                           int64_t *concentration_ng_per_ml)
{
  const ThecalEngineParcel *parcel;

  if (engine == NULL || index < 0 || index >= engine->n_parcels)
    return false;
  parcel = &engine->parcels[index];
  if (volume_nl != NULL)
    *volume_nl = parcel->volume_nl;
  if (drug_id != NULL)
    *drug_id = engine->drugs[parcel->drug].id;
  if (concentration_ng_per_ml != NULL)
    *concentration_ng_per_ml = parcel->concentration_ng_per_ml;
  return true;
}

/* ---- names ---------------------------------------------------------------------------------------- */

const char *
thecal_alarm_kind_name (ThecalAlarmKind kind)
{
  switch (kind)
    {
    case THECAL_ALARM_LOW_RESERVOIR:
      return "low_reservoir";
    case THECAL_ALARM_RESERVOIR_EMPTY:
      return "reservoir_empty";
    case THECAL_ALARM_ERI:
      return "eri";
    case THECAL_ALARM_EOS:
      return "eos";
    case THECAL_ALARM_MOTOR_STALL:
      return "motor_stall";
    case THECAL_ALARM_MEMORY_ERROR:
      return "memory_error";
    case THECAL_ALARM_N_KINDS:
    default:
      return "unknown";
    }
}

bool
thecal_alarm_kind_from_name (const char *name, ThecalAlarmKind *kind)
{
  if (name == NULL || kind == NULL)
    return false;
  for (int i = 0; i < THECAL_ALARM_N_KINDS; i++)
    if (strcmp (name, thecal_alarm_kind_name ((ThecalAlarmKind) i)) == 0)
      {
        *kind = (ThecalAlarmKind) i;
        return true;
      }
  return false;
}

const char *
thecal_source_name (ThecalSource source)
{
  switch (source)
    {
    case THECAL_SOURCE_BASAL:
      return "basal";
    case THECAL_SOURCE_PERIODIC:
      return "periodic";
    case THECAL_SOURCE_PTM:
      return "ptm";
    case THECAL_SOURCE_CLINICIAN:
      return "clinician";
    case THECAL_SOURCE_PRIMING:
      return "priming";
    case THECAL_SOURCE_BRIDGE:
      return "bridge";
    case THECAL_SOURCE_N_SOURCES:
    default:
      return "unknown";
    }
}

const char *
thecal_ptm_outcome_name (ThecalPtmOutcome outcome)
{
  switch (outcome)
    {
    case THECAL_PTM_GRANTED:
      return "granted";
    case THECAL_PTM_REFUSED_DISABLED:
      return "disabled";
    case THECAL_PTM_REFUSED_LOCKOUT:
      return "lockout";
    case THECAL_PTM_REFUSED_DAILY_MAX:
      return "daily_max";
    case THECAL_PTM_REFUSED_RESERVOIR_EMPTY:
      return "reservoir_empty";
    case THECAL_PTM_REFUSED_NOT_DELIVERING:
      return "not_delivering";
    case THECAL_PTM_REFUSED_BOLUS_IN_PROGRESS:
      return "bolus_in_progress";
    case THECAL_PTM_N_OUTCOMES:
    default:
      return "unknown";
    }
}

const char *
thecal_fault_kind_name (ThecalFaultKind kind)
{
  switch (kind)
    {
    case THECAL_FAULT_FLOW_BIAS:
      return "flow_bias";
    case THECAL_FAULT_STROKE_NOISE:
      return "stroke_noise";
    case THECAL_FAULT_MOTOR_STALL:
      return "motor_stall";
    case THECAL_FAULT_OCCLUSION:
      return "occlusion";
    case THECAL_FAULT_BATTERY_DRAIN:
      return "battery_drain";
    case THECAL_FAULT_CLOCK_DRIFT:
      return "clock_drift";
    case THECAL_FAULT_MEMORY_ERROR:
      return "memory_error";
    case THECAL_FAULT_N_KINDS:
    default:
      return "unknown";
    }
}

bool
thecal_fault_kind_from_name (const char *name, ThecalFaultKind *kind)
{
  if (name == NULL || kind == NULL)
    return false;
  for (int i = 0; i < THECAL_FAULT_N_KINDS; i++)
    if (strcmp (name, thecal_fault_kind_name ((ThecalFaultKind) i)) == 0)
      {
        *kind = (ThecalFaultKind) i;
        return true;
      }
  return false;
}

const char *
thecal_engine_event_type_name (ThecalEngineEventType type)
{
  switch (type)
    {
    case THECAL_EVENT_ENGINE_START:
      return "engine_start";
    case THECAL_EVENT_PRESCRIPTION_SET:
      return "prescription_set";
    case THECAL_EVENT_BOLUS_START:
      return "bolus_start";
    case THECAL_EVENT_BOLUS_END:
      return "bolus_end";
    case THECAL_EVENT_PTM_GRANTED:
      return "ptm_granted";
    case THECAL_EVENT_PTM_REFUSED:
      return "ptm_refused";
    case THECAL_EVENT_ALARM_RAISED:
      return "alarm_raised";
    case THECAL_EVENT_ALARM_CLEARED:
      return "alarm_cleared";
    case THECAL_EVENT_ALARM_ACKNOWLEDGED:
      return "alarm_acknowledged";
    case THECAL_EVENT_RESERVOIR_SET:
      return "reservoir_set";
    case THECAL_EVENT_CLOCK_SET:
      return "clock_set";
    case THECAL_EVENT_FAULT_INJECTED:
      return "fault_injected";
    case THECAL_EVENT_MOTOR_RESTARTED:
      return "motor_restarted";
    case THECAL_EVENT_N_TYPES:
    default:
      return "unknown";
    }
}
