/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-check.h: the prescription check. Every finding names the field, the value, the limit
 * and its source in words a clinician reads at a glance.
 */
#pragma once

#include "thecal-prescription.h"
#include "thecal-quantity.h"

#ifdef __cplusplus
extern "C"
{
#endif

#define THECAL_FINDINGS_MAX 64
#define THECAL_FINDING_TEXT_MAX 320
#define THECAL_FINDING_VALUE_MAX 96

  typedef enum
  {
    THECAL_FINDING_NOTE = 0, /* for information; nothing to do */
    THECAL_FINDING_OVERRIDE, /* a soft limit: needs an override reason to go ahead */
    THECAL_FINDING_REFUSED,  /* a hard limit or an impossible prescription: cannot go ahead */
  } ThecalFindingSeverity;

  typedef enum
  {
    THECAL_FINDING_STRUCTURE = 0,           /* the prescription itself is invalid */
    THECAL_FINDING_UNKNOWN_DRUG,            /* drug not in the library */
    THECAL_FINDING_CONCENTRATION,           /* outside the drug's concentration limits */
    THECAL_FINDING_UNLABELED_CONCENTRATION, /* not one of the labeled product concentrations */
    THECAL_FINDING_RATE_RANGE,              /* a rate outside the model's programmable range */
    THECAL_FINDING_BOLUS_RATE,              /* a bolus faster than the model can deliver */
    THECAL_FINDING_DAILY_DOSE,              /* worst-case daily dose above a limit */
    THECAL_FINDING_STEP_INCREASE,           /* increase over the current prescription above the limit */
    THECAL_FINDING_PTM_NOT_PERMITTED,       /* PTM for a drug that does not allow it */
    THECAL_FINDING_PTM_OPIOID_NAIVE,        /* PTM opioid for an opioid-naive patient */
    THECAL_FINDING_PTM_DOSE,                /* one PTM bolus above a limit */
    THECAL_FINDING_DRUG_CHANGE,             /* drug or concentration differs from the current one */
    THECAL_FINDING_ROUNDING,                /* the pump will deliver a different dose than written */
    THECAL_FINDING_UNCONFIRMED_SOURCE,      /* a limit that applied comes from an unconfirmed source */
    THECAL_FINDING_N_CODES
  } ThecalFindingCode;

  typedef struct
  {
    ThecalFindingSeverity severity;
    ThecalFindingCode code;
    char field[THECAL_ERROR_FIELD_MAX];    /* "daily dose", "flex_steps[2].rate", "ptm.dose" */
    char value[THECAL_FINDING_VALUE_MAX];  /* "16 mg/day" */
    char limit[THECAL_FINDING_VALUE_MAX];  /* "15 mg/day (soft)" */
    char message[THECAL_FINDING_TEXT_MAX]; /* one sentence */
    char source[THECAL_SOURCE_MAX];        /* where the limit comes from, "" if the model */
  } ThecalFinding;

  typedef struct
  {
    bool opioid_tolerant; /* false: opioid-naive (the safe default) */
  } ThecalPatientContext;

  typedef struct
  {
    int32_t n_findings; /* findings stored (at most THECAL_FINDINGS_MAX) */
    int32_t n_dropped;  /* findings that did not fit; the worst severity still counts them */
    ThecalFindingSeverity worst;
    ThecalFinding findings[THECAL_FINDINGS_MAX];
    ThecalDeliveryPlan plan; /* valid when plan_valid */
    bool plan_valid;
  } ThecalCheckResult;

  /* Checks @rx for @patient on @model against @library. @current (may be NULL) is the prescription
   * it replaces, for the per-step change limits and the drug-change note. Never fails: every
   * problem, including an invalid prescription, is a finding. Findings are ordered most severe
   * first, then in the order of the fields. */
  void thecal_check_prescription (const ThecalPrescription *rx,
                                  const ThecalPrescription *current,
                                  const ThecalPatientContext *patient,
                                  const ThecalPumpModel *model,
                                  const ThecalDrugLibrary *library,
                                  ThecalCheckResult *result);

  const char *thecal_finding_severity_name (ThecalFindingSeverity severity); /* "refused" ... */
  const char *thecal_finding_code_name (ThecalFindingCode code);             /* "daily_dose" ... */

#ifdef __cplusplus
}
#endif
