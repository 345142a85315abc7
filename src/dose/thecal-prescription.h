/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-prescription.h: what a clinician prescribes, and what a pump of a given model will
 * really deliver for it (the delivery plan, after rounding to the model's resolution).
 *
 * Dose ↔ rate (docs/dosing.md):
 *   dose per day (ng/day) = rate (nL/day) × concentration (ng/mL) / 1 000 000
 *   rate (nL/day)         = dose (ng/day) × 1 000 000 / concentration (ng/mL)
 * A rate computed from a dose is rounded to the model's rate resolution by the rounding rule
 * (nearest, half toward zero). Bolus volumes are rounded to whole strokes by the same rule.
 * The dose shown and checked everywhere is the dose of the rounded rate/volume: what the pump
 * will really deliver.
 */
#pragma once

#include "thecal-drug.h"
#include "thecal-pump-model.h"

#ifdef __cplusplus
extern "C"
{
#endif

#define THECAL_FLEX_STEPS_MAX 13
#define THECAL_PERIODIC_BOLUSES_MAX 12
/* A day profile has at most one segment per flex step, plus two edges per periodic bolus and
 * one for a bolus that wraps past midnight. */
#define THECAL_DAY_SEGMENTS_MAX (THECAL_FLEX_STEPS_MAX + 2 * THECAL_PERIODIC_BOLUSES_MAX + 2)

  typedef enum
  {
    THECAL_MODE_STOPPED = 0,  /* no delivery */
    THECAL_MODE_CONTINUOUS,   /* one rate all day */
    THECAL_MODE_FLEX,         /* up to 13 time-of-day steps */
    THECAL_MODE_MINIMUM_RATE, /* the model's minimum rate (keeps the catheter open) */
    THECAL_MODE_N_MODES
  } ThecalMode;

  /* A step or a continuous rate is written either as a dose per day or as a volume rate. */
  typedef enum
  {
    THECAL_BASIS_DOSE = 0, /* dose_ng_per_day is set */
    THECAL_BASIS_RATE,     /* rate_nl_per_day is set */
  } ThecalBasis;

  typedef struct
  {
    ThecalBasis basis;
    int64_t dose_ng_per_day;
    int64_t rate_nl_per_day;
  } ThecalDailyAmount;

  typedef struct
  {
    int32_t start_min;    /* minutes after local midnight, 0..1439 */
    int32_t duration_min; /* 1..1440 */
    ThecalDailyAmount amount;
  } ThecalFlexStep;

  typedef struct
  {
    int32_t start_min;   /* minutes after local midnight, 0..1439; repeats every day */
    int64_t dose_ng;     /* drug per bolus */
    int64_t duration_ms; /* > 0 */
  } ThecalPeriodicBolus;

  /* Patient therapy manager: supplemental boluses the patient may request. */
  typedef struct
  {
    bool enabled;
    int64_t dose_ng;
    int64_t duration_ms;
    int64_t lockout_ms;  /* from the start of one granted bolus to the earliest next one */
    int32_t max_per_24h; /* granted boluses in any 24 h window */
  } ThecalPtmSettings;

  typedef struct
  {
    char drug_id[THECAL_ID_MAX];
    int64_t concentration_ng_per_ml;
    ThecalMode mode;
    ThecalDailyAmount continuous; /* THECAL_MODE_CONTINUOUS */
    int32_t n_flex_steps;         /* THECAL_MODE_FLEX: 1..13 steps covering the whole day */
    ThecalFlexStep flex_steps[THECAL_FLEX_STEPS_MAX];
    int32_t n_periodic_boluses; /* added on top of any mode but STOPPED */
    ThecalPeriodicBolus periodic_boluses[THECAL_PERIODIC_BOLUSES_MAX];
    ThecalPtmSettings ptm;
  } ThecalPrescription;

  /* One piece of the daily cycle with a constant volume rate (basal plus any periodic bolus). */
  typedef struct
  {
    int64_t start_ms_of_day; /* 0 ≤ start < end ≤ 86 400 000 */
    int64_t end_ms_of_day;
    int64_t basal_rate_nl_per_day; /* rounded to the model's resolution */
  } ThecalDaySegment;

  typedef struct
  {
    int64_t start_ms_of_day; /* may wrap past midnight: start + duration can exceed one day */
    int64_t duration_ms;
    int64_t volume_nl; /* whole strokes */
    int64_t dose_ng;   /* what the rounded volume really contains */
  } ThecalPlannedBolus;

  /* What a pump of @model will really deliver for a prescription: rates rounded to the model's
   * resolution, bolus volumes rounded to whole strokes, and the daily totals that follow. */
  typedef struct
  {
    ThecalMode mode;
    int64_t concentration_ng_per_ml;
    int64_t stroke_volume_nl;
    int32_t n_segments; /* the basal day profile, in order, covering 0..86 400 000 ms */
    ThecalDaySegment segments[THECAL_DAY_SEGMENTS_MAX];
    int32_t n_boluses;
    ThecalPlannedBolus boluses[THECAL_PERIODIC_BOLUSES_MAX];
    bool ptm_enabled;
    ThecalPlannedBolus ptm; /* start_ms_of_day unused */
    int64_t ptm_lockout_ms;
    int32_t ptm_max_per_24h;

    /* Daily totals, each rounded once by the rounding rule from the exact value. */
    int64_t basal_nl_per_day;
    int64_t basal_ng_per_day;
    int64_t periodic_nl_per_day;
    int64_t periodic_ng_per_day;
    int64_t ptm_worst_nl_per_day; /* every allowed activation used */
    int64_t ptm_worst_ng_per_day;
    int64_t total_worst_nl_per_day; /* basal + periodic + worst-case PTM */
    int64_t total_worst_ng_per_day;
  } ThecalDeliveryPlan;

  /* The rate a pump of @model delivers for @dose_ng_per_day at @concentration: rounded to the
   * model's resolution by the rounding rule. *@delivered_ng_per_day is the dose of that rate. */
  bool thecal_rate_for_dose (const ThecalPumpModel *model,
                             int64_t concentration_ng_per_ml,
                             int64_t dose_ng_per_day,
                             int64_t *rate_nl_per_day,
                             int64_t *delivered_ng_per_day,
                             ThecalDoseError *error);

  /* The dose per day of @rate_nl_per_day at @concentration. When @model is given, the rate is
   * first rounded to its resolution and *@rounded_rate_nl_per_day reports it (may be NULL). */
  bool thecal_dose_for_rate (const ThecalPumpModel *model,
                             int64_t concentration_ng_per_ml,
                             int64_t rate_nl_per_day,
                             int64_t *rounded_rate_nl_per_day,
                             int64_t *dose_ng_per_day,
                             ThecalDoseError *error);

  /* Resets @rx to a stopped prescription with no steps, boluses or PTM. */
  void thecal_prescription_init (ThecalPrescription *rx);

  /* Structural validation only (no drug limits: that is thecal-check.h): counts in range, flex
   * steps in order, not overlapping and covering the day, periodic boluses not overlapping,
   * positive values, concentration > 0 unless stopped. The error names the field, e.g.
   * "flex_steps[2].start". */
  bool thecal_prescription_validate (const ThecalPrescription *rx, ThecalDoseError *error);

  /* Resolves @rx for @model into @plan. Fails (error names the field and the limit) when the
   * prescription is structurally invalid or a rounded rate or bolus cannot be delivered by the
   * model at all (e.g. bolus faster than the model's maximum bolus rate). Rate limits of the model
   * are *not* refused here: thecal-check.h reports them as findings. */
  bool thecal_delivery_plan_resolve (const ThecalPrescription *rx,
                                     const ThecalPumpModel *model,
                                     ThecalDeliveryPlan *plan,
                                     ThecalDoseError *error);

  /* Volume the plan delivers between two instants, in pump-local milliseconds (UTC instant plus
   * the local offset, so that multiples of 86 400 000 are local midnights). Basal delivery is
   * exact (rounded once by the rule); periodic boluses count whole strokes as the pump delivers
   * them: floor (strokes × elapsed / duration). PTM boluses are not included: they are events the
   * caller adds. t1 ≥ t0. */
  bool thecal_delivery_plan_volume_between (const ThecalDeliveryPlan *plan,
                                            int64_t t0_local_ms,
                                            int64_t t1_local_ms,
                                            int64_t *volume_nl,
                                            ThecalDoseError *error);

  const char *thecal_mode_name (ThecalMode mode); /* "continuous" (file and CLI name) */
  bool thecal_mode_from_name (const char *name, ThecalMode *mode);

#ifdef __cplusplus
}
#endif
