/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-refill.h: refill maths (CLINICAL.md §1.5-1.6) and reservoir projections.
 *
 *   expected residual = volume after the last fill
 *                       − programmed delivery since (each prescription over its own interval)
 *                       − logged boluses (clinician, PTM, priming, bridge)
 *   discrepancy       = expected − aspirated     (> 0: less came back than expected)
 *   flagged when |discrepancy| > max (accuracy × delivered since fill, the model's threshold)
 *
 * Times are pump-local milliseconds (a UTC instant plus the pump's local offset), so that
 * multiples of 86 400 000 are local midnights, the origin of flex and periodic schedules.
 */
#pragma once

#include "thecal-prescription.h"

#ifdef __cplusplus
extern "C"
{
#endif

  /* A prescription that ran over [from, to). */
  typedef struct
  {
    const ThecalDeliveryPlan *plan;
    int64_t from_local_ms;
    int64_t to_local_ms;
  } ThecalPlanInterval;

  /* A bolus that was logged (delivered) with the volume the pump reported or the plan gives. */
  typedef struct
  {
    int64_t at_local_ms;
    int64_t volume_nl;
  } ThecalLoggedBolus;

  typedef struct
  {
    int64_t fill_volume_nl;              /* reservoir volume right after the last fill */
    int64_t fill_local_ms;               /* when it was filled */
    int64_t now_local_ms;                /* when the residual is expected (now) */
    const ThecalPlanInterval *intervals; /* in time order, not overlapping, inside [fill, now] */
    int32_t n_intervals;
    const ThecalLoggedBolus *boluses; /* inside [fill, now] */
    int32_t n_boluses;
  } ThecalRefillHistory;

  typedef enum
  {
    THECAL_DISCREPANCY_NONE = 0,  /* within the band */
    THECAL_DISCREPANCY_LESS_BACK, /* aspirated < expected: over-infusion, earlier pocket fill, or
                                     incomplete aspiration */
    THECAL_DISCREPANCY_MORE_BACK, /* aspirated > expected: under-infusion, motor stall, occlusion */
  } ThecalDiscrepancyKind;

  typedef struct
  {
    int64_t delivered_nl;            /* programmed delivery plus logged boluses since the fill */
    int64_t expected_residual_nl;    /* never below 0; see expected_empty */
    bool expected_empty;             /* the programmed delivery used up the fill before now */
    int64_t expected_empty_local_ms; /* when, if expected_empty */
    int64_t aspirated_nl;
    int64_t discrepancy_nl; /* expected − aspirated */
    int64_t band_nl;        /* accuracy × delivered */
    int64_t threshold_nl;   /* max (band, model threshold) */
    ThecalDiscrepancyKind kind;
    bool flagged;      /* needs an acknowledgement */
    bool empty_refill; /* nothing was aspirated: no residual to confirm placement */
  } ThecalRefillCheck;

  /* The refill discrepancy check. Fails on inconsistent history (intervals out of order, outside
   * [fill, now]) or a negative aspirated volume. */
  bool thecal_refill_check (const ThecalPumpModel *model,
                            const ThecalRefillHistory *history,
                            int64_t aspirated_nl,
                            ThecalRefillCheck *check,
                            ThecalDoseError *error);

  /* Volume after adding @added_nl to an emptied reservoir: refused (RANGE, naming the capacity)
   * when it exceeds the model's capacity, or is zero or negative. */
  bool thecal_refill_new_volume (const ThecalPumpModel *model,
                                 int64_t added_nl,
                                 int64_t *new_volume_nl,
                                 ThecalDoseError *error);

  typedef struct
  {
    /* Each instant is pump-local ms; INT64_MAX when it never happens (stopped pump). */
    int64_t low_alarm_local_ms;              /* programmed delivery, no PTM: when the pump will alarm */
    int64_t low_alarm_worst_local_ms;        /* with every allowed PTM activation used */
    int64_t empty_local_ms;                  /* reaches the model's empty volume, no PTM */
    int64_t empty_worst_local_ms;            /* with worst-case PTM */
    int64_t refill_threshold_worst_local_ms; /* reaches the refill threshold, worst-case PTM */
    int64_t stability_limit_local_ms;        /* fill + the drug's stability days; INT64_MAX if none */
    int64_t refill_by_local_ms;              /* recommended: the earlier of the two above */
  } ThecalProjection;

  /* Projects the reservoir from @volume_nl at @from_local_ms under @plan. Each bolus (periodic,
   * and in the worst case every allowed PTM activation, front-loaded at local midnight) is counted
   * the moment it starts, so every date is the earliest it can be. The cost does not grow with the
   * number of days projected. @stability_days 0: no stability limit. */
  bool thecal_project_reservoir (const ThecalPumpModel *model,
                                 const ThecalDeliveryPlan *plan,
                                 int64_t volume_nl,
                                 int64_t from_local_ms,
                                 int32_t stability_days,
                                 ThecalProjection *projection,
                                 ThecalDoseError *error);

#ifdef __cplusplus
}
#endif
