/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-pump-model.h: the physical description of a pump model (data/pump-models.json).
 *
 * The reference pump of DESIGN.md is a generic programmable implanted pump built from public
 * facts, not a clone of any product. docs/formats.md describes every field and its source.
 */
#pragma once

#include "thecal-units.h"

#ifdef __cplusplus
extern "C"
{
#endif

#define THECAL_ID_MAX 32
#define THECAL_NAME_MAX 64
#define THECAL_SOURCE_MAX 320
#define THECAL_PUMP_MODELS_MAX 16

  typedef struct
  {
    char id[THECAL_ID_MAX];     /* "TR-20" */
    char name[THECAL_NAME_MAX]; /* "Thecal reference pump, 20 mL" */
    int64_t reservoir_capacity_nl;
    int64_t rate_min_nl_per_day;        /* lowest programmable rate of a delivering mode */
    int64_t rate_max_nl_per_day;        /* highest programmable basal rate */
    int64_t minimum_rate_nl_per_day;    /* rate of the "minimum rate" mode (keeps the catheter open) */
    int64_t rate_resolution_nl_per_day; /* every programmed rate is a multiple of this */
    int64_t bolus_rate_max_nl_per_day;  /* fastest delivery of any bolus (priming, bridge, PTM...) */
    int64_t stroke_volume_nl;           /* the pump moves fluid in strokes of this volume */
    int64_t internal_volume_nl;         /* reservoir outlet to catheter port (dead space) */
    int64_t accuracy_bp;                /* flow accuracy specification, ± basis points */
    int64_t low_reservoir_alarm_nl;     /* alarm when the *programmed* reservoir volume reaches this */
    int64_t refill_threshold_nl;        /* recommended refill: projected volume reaches this */
    int64_t empty_nl;                   /* below this the pump cannot keep delivering */
    int64_t discrepancy_threshold_nl;   /* refill discrepancy flag floor (1 mL / 2 mL, CLINICAL §1.6) */
    int64_t service_life_days;          /* battery end of service (EOS) at nominal drain */
    int64_t eri_days_before_eos;        /* elective replacement indicator lead time (90 days) */
  } ThecalPumpModel;

  typedef struct
  {
    int32_t n_models;
    ThecalPumpModel models[THECAL_PUMP_MODELS_MAX];
  } ThecalPumpModelSet;

  /* NULL if @id is not in @set. */
  const ThecalPumpModel *thecal_pump_model_set_find (const ThecalPumpModelSet *set, const char *id);

  /* Checks the model's own consistency (min ≤ max, resolution divides the limits, thresholds
   * below capacity, ...). A loaded model that fails this is refused. */
  bool thecal_pump_model_validate (const ThecalPumpModel *model, ThecalDoseError *error);

  /* Rounds a volume rate to the model's rate resolution by the rounding rule. */
  bool thecal_pump_model_round_rate (const ThecalPumpModel *model,
                                     int64_t rate_nl_per_day,
                                     ThecalRounding rounding,
                                     int64_t *rounded_nl_per_day);

#ifdef __cplusplus
}
#endif
