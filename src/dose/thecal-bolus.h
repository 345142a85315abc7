/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-bolus.h: priming and bridge bolus calculators (CLINICAL.md §1.4, §2.1) and the oral
 * morphine → intrathecal starting-dose estimate (CLINICAL.md §3.3).
 *
 * Dead space = the pump's internal volume + implanted catheter length × volume per cm.
 */
#pragma once

#include "thecal-prescription.h"

#ifdef __cplusplus
extern "C"
{
#endif

#define THECAL_BOLUS_PHASES_MAX 4

  typedef enum
  {
    THECAL_PHASE_PRIMING = 0, /* non-drug fluid pushed out of the dead space at the priming rate */
    THECAL_PHASE_BRIDGE,      /* old drug pushed out of the dead space at a bridged rate */
    THECAL_PHASE_PRESCRIPTION /* the new prescription, with the new drug at the catheter tip */
  } ThecalPhaseKind;

  typedef struct
  {
    ThecalPhaseKind kind;
    int64_t volume_nl;               /* volume this phase moves (whole strokes); 0 for PRESCRIPTION */
    int64_t rate_nl_per_day;         /* programmed rate of the phase */
    int64_t duration_ms;             /* how long the phase lasts; 0 for PRESCRIPTION (ongoing) */
    int64_t concentration_ng_per_ml; /* of the fluid reaching the catheter tip in this phase */
    int64_t dose_ng;                 /* drug reaching the patient in this phase (0 for priming) */
    int64_t dose_rate_ng_per_day;    /* rate × concentration: never above the target dose rate */
  } ThecalBolusPhase;

  typedef struct
  {
    int64_t dead_space_nl; /* internal + catheter volume */
    int64_t catheter_volume_nl;
    int64_t target_dose_rate_ng_per_day; /* the ceiling every phase respects */
    int32_t n_phases;
    ThecalBolusPhase phases[THECAL_BOLUS_PHASES_MAX];
    bool rate_capped; /* the bridge rate hit the model's bolus ceiling: slower than ideal */
  } ThecalBolusPlan;

  typedef struct
  {
    int32_t catheter_length_mm;        /* implanted length (e.g. 110 cm − trimmed) */
    int64_t catheter_volume_nl_per_cm; /* e.g. 2 600 nL/cm (0.0026 mL/cm, CLINICAL.md §2.1) */
  } ThecalCatheter;

  /* Priming bolus after implant or catheter revision: the dead space holds no drug, so it is
   * pushed at the priming rate (the model's bolus ceiling, or @priming_rate_nl_per_day if > 0 and
   * lower), then the new prescription starts. The label warns that drug and non-drug fluid mix at
   * priming flow rates (CLINICAL.md §1.4): the CLI and GUI show that warning with the plan. */
  bool thecal_priming_bolus (const ThecalPumpModel *model,
                             const ThecalCatheter *catheter,
                             const ThecalDeliveryPlan *new_plan,
                             int64_t priming_rate_nl_per_day,
                             ThecalBolusPlan *result,
                             ThecalDoseError *error);

  /* Bridge bolus for a drug or concentration change: the dead space still holds the old drug at
   * @old_concentration; it is pushed at the rate that delivers the old drug at the target dose
   * rate — min (old, new daily dose) for the same drug, the old dose for a different drug — rounded
   * down to the model's resolution so no phase exceeds it; then the new prescription runs. */
  bool thecal_bridge_bolus (const ThecalPumpModel *model,
                            const ThecalCatheter *catheter,
                            const ThecalDeliveryPlan *old_plan,
                            const char *old_drug_id,
                            const ThecalDeliveryPlan *new_plan,
                            const char *new_drug_id,
                            ThecalBolusPlan *result,
                            ThecalDoseError *error);

#define THECAL_ORAL_TO_IT_RATIO_DEFAULT 300

  /* Oral morphine (ng/day) → intrathecal morphine estimate = oral / @ratio (default 300:1,
   * CLINICAL.md §3.3), rounded down. Always an estimate for clinician judgement: ratios from 12:1
   * to 300:1 are reported. @ratio must be 1..1000. */
  bool thecal_oral_to_intrathecal_estimate (int64_t oral_ng_per_day,
                                            int32_t ratio,
                                            int64_t *intrathecal_ng_per_day,
                                            ThecalDoseError *error);

#ifdef __cplusplus
}
#endif
