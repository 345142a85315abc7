/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-engine-private.h: what the files of src/engine share and nobody else sees.
 */
#pragma once

#include "thecal-engine.h"

/* The dose core's own helpers, private to the safety core's layers (src/dose and src/engine; the
 * dose source folder is on the engine's include path through dose_dep): _thecal_qtext for error
 * messages, _thecal_split_day, and the 128-bit intermediates ThecalWide and _thecal_wide_div: a
 * rate integrated over years (nL/day × ms) leaves int64_t; every narrowing back is checked or
 * bounded by a comment. */
#include "thecal-dose-private.h"
#include "thecal-wide-private.h"

#ifdef __cplusplus
extern "C"
{
#endif

#define THECAL_ENGINE_DAY_MS THECAL_MS_PER_DAY
#define THECAL_ENGINE_RULE THECAL_ROUND_NEAREST_HALF_DOWN
#define THECAL_ENGINE_NEVER INT64_MAX

  /* ---- schedule (thecal-engine-schedule.c): pure functions of the resolved plan ---------------- */

  /* Builds the day tables of @plan. Fails (OVERFLOW) when one day of basal demand does not fit. */
  bool _thecal_schedule_build (ThecalEngineSchedule *sched, const ThecalDeliveryPlan *plan, ThecalDoseError *error);

  /* Σ rate × ms over pump time [p0, p1), p0 ≤ p1 (nL/day × ms). */
  ThecalWide _thecal_schedule_basal_between (const ThecalEngineSchedule *sched, int64_t p0, int64_t p1);

  /* The first pump ms p ≥ p0 with basal_between (p0, p) ≥ @demand (> 0); NEVER if none. */
  int64_t _thecal_schedule_basal_time (const ThecalEngineSchedule *sched, int64_t p0, ThecalWide demand);

  /* Strokes of periodic bolus @i made by pump time @p, counted from an arbitrary origin (use
   * differences): day × n + f (day + x) − n + f (x), exactly as thecal_delivery_plan_volume_between. */
  int64_t _thecal_schedule_periodic_count (const ThecalEngineSchedule *sched, int32_t i, int64_t p);

  /* Is pump time @p inside an occurrence of periodic bolus @i ([start, start + duration))? */
  bool _thecal_schedule_periodic_inside (const ThecalEngineSchedule *sched, int32_t i, int64_t p);

  /* The first start or end of an occurrence of any periodic bolus strictly after @p; NEVER if none. */
  int64_t _thecal_schedule_periodic_next_edge (const ThecalEngineSchedule *sched, int64_t p);

  /* The first pump ms strictly after @p at which periodic bolus @i makes a stroke. */
  int64_t _thecal_schedule_periodic_next_stroke (const ThecalEngineSchedule *sched, int32_t i, int64_t p);

  /* Strokes of a bolus of @strokes over @duration_ms made @elapsed_ms after its start:
   * floor (strokes × elapsed / duration), 0 before, all after. */
  int64_t _thecal_bolus_strokes_at (int64_t strokes, int64_t duration_ms, int64_t elapsed_ms);

  /* The elapsed ms at which stroke number @k (1-based) of such a bolus is made:
   * ceil (k × duration / strokes). */
  int64_t _thecal_bolus_stroke_elapsed (int64_t strokes, int64_t duration_ms, int64_t k);

  /* ---- event log (thecal-engine-log.c) ----------------------------------------------------------- */

  void _thecal_engine_log (ThecalEngine *engine,
                           ThecalEngineEventType type,
                           int32_t code,
                           int64_t a0,
                           int64_t a1,
                           int64_t a2);

  /* ---- battery (thecal-engine-battery.c) ------------------------------------------------------ */

  bool _thecal_battery_setup (ThecalEngine *engine, int64_t battery_bp, ThecalDoseError *error);

  /* Raw energy of @ms of time and @strokes strokes (before the drain multiplier). */
  ThecalWide _thecal_battery_raw (const ThecalEngine *engine, int64_t ms, int64_t strokes);

  /* Energy used for @raw at the current multiplier and carry (what _consume would take). */
  ThecalWide _thecal_battery_used (const ThecalEngine *engine, ThecalWide raw);

  void _thecal_battery_consume (ThecalEngine *engine, ThecalWide raw);

  /* Drain per day at the current prescription (basal + periodic per day) and multiplier. */
  int64_t _thecal_battery_drain_per_day (const ThecalEngine *engine);

  /* Recomputes the ERI threshold: eri_days_before_eos days of the current drain. */
  void _thecal_battery_update_eri_threshold (ThecalEngine *engine);

  /* ---- fluid (thecal-engine-fluid.c) -------------------------------------------------------------- */

  /* The slot of @drug_id ("" = slot 0), adding it if needed (a slot with no fluid left anywhere is
   * reused when the table is full). -1 when the table is full. */
  int32_t _thecal_fluid_drug_slot (ThecalEngine *engine, const char *drug_id);

  /* Fills the dead space with @drug at @concentration (start-up). */
  void _thecal_fluid_fill_path (ThecalEngine *engine, int32_t drug, int64_t concentration_ng_per_ml);

  /* @volume_nl enters the path from the reservoir; the same volume leaves at the tip, credited to
   * the drugs it holds. Returns the drug (ng) that left the tip. */
  int64_t _thecal_fluid_push (ThecalEngine *engine, int64_t volume_nl);

  /* Volume the fluid removal of @k more moving strokes takes (flow bias only, no noise):
   * R (m + k) − R (m), R (m) = m × stroke × (10 000 + bias) / 10 000 by the rule. */
  int64_t _thecal_fluid_bias_removal (const ThecalEngine *engine, int64_t k);

  /* ---- engine internals (thecal-engine.c) ------------------------------------------------------ */

  int64_t _thecal_engine_estimate_nl (const ThecalEngine *engine);

#ifdef __cplusplus
}
#endif
