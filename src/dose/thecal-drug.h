/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-drug.h: the drug library (data/drug-library.json, docs/formats.md).
 *
 * Each drug carries its limits, and each limit its severity, its source and whether that source
 * was confirmed (CLINICAL.md §3). A hard limit refuses; a soft limit needs an override reason.
 * PACC figures that CLINICAL.md marks unconfirmed are soft limits until confirmed.
 */
#pragma once

#include "thecal-pump-model.h"
#include "thecal-quantity.h"

#ifdef __cplusplus
extern "C"
{
#endif

#define THECAL_DRUGS_MAX 32
#define THECAL_DRUG_LIMITS_MAX 16
#define THECAL_DRUG_CONCENTRATIONS_MAX 8
#define THECAL_LIBRARY_VERSION_MAX 32

  typedef enum
  {
    THECAL_LIMIT_SOFT = 0, /* needs an override reason */
    THECAL_LIMIT_HARD,     /* refuses */
  } ThecalLimitSeverity;

  typedef enum
  {
    THECAL_LIMIT_MAX_CONCENTRATION = 0, /* value_ng_per_ml */
    THECAL_LIMIT_MIN_CONCENTRATION,     /* value_ng_per_ml */
    THECAL_LIMIT_MAX_DAILY_DOSE,        /* value_ng_per_day, worst case incl. PTM and boluses */
    THECAL_LIMIT_MAX_INCREASE_PERCENT,  /* value_bp: increase over the current daily dose */
    THECAL_LIMIT_MAX_INCREASE_ABSOLUTE, /* value_ng_per_day: increase over the current daily dose */
    THECAL_LIMIT_MAX_PTM_DOSE,          /* value_ng: one PTM bolus */
    THECAL_LIMIT_N_KINDS
  } ThecalLimitKind;

  /* Which patients a limit applies to. */
  typedef enum
  {
    THECAL_APPLIES_ALL = 0,
    THECAL_APPLIES_OPIOID_NAIVE,
    THECAL_APPLIES_OPIOID_TOLERANT,
  } ThecalLimitApplies;

  typedef struct
  {
    ThecalLimitKind kind;
    ThecalLimitSeverity severity;
    ThecalLimitApplies applies_to;
    int64_t value; /* in the unit of @kind, see above */
    bool confirmed;
    char source[THECAL_SOURCE_MAX];
  } ThecalDrugLimit;

  typedef struct
  {
    char id[THECAL_ID_MAX];             /* "hydromorphone": lower case, stable, used in files */
    char display_name[THECAL_NAME_MAX]; /* "HYDROmorphone": tall-man where drugs look alike */
    bool opioid;
    bool ptm_permitted;
    bool ptm_permitted_confirmed;
    char ptm_source[THECAL_SOURCE_MAX];
    int32_t stability_days; /* days the drug may stay in the reservoir (0: not stated) */
    char stability_source[THECAL_SOURCE_MAX];
    int32_t n_labeled_concentrations;
    int64_t labeled_concentrations_ng_per_ml[THECAL_DRUG_CONCENTRATIONS_MAX];
    int32_t n_limits;
    ThecalDrugLimit limits[THECAL_DRUG_LIMITS_MAX];
  } ThecalDrug;

  typedef struct
  {
    char version[THECAL_LIBRARY_VERSION_MAX]; /* the library's own version, e.g. "2026.11-1" */
    int32_t n_drugs;
    ThecalDrug drugs[THECAL_DRUGS_MAX];
  } ThecalDrugLibrary;

  /* NULL if @id is not in @library. Matching is exact on the lower-case id. */
  const ThecalDrug *thecal_drug_library_find (const ThecalDrugLibrary *library, const char *id);

  /* Checks one drug's consistency (limits positive, ids lower case, no duplicate kinds that
   * contradict, ...). The loader refuses a library with an inconsistent drug. */
  bool thecal_drug_validate (const ThecalDrug *drug, ThecalDoseError *error);

  const char *thecal_limit_kind_name (ThecalLimitKind kind);      /* "max_daily_dose" (file name) */
  const char *thecal_limit_severity_name (ThecalLimitSeverity s); /* "hard" / "soft" */

  /* The quantity kind of a limit's value (see ThecalLimitKind): a concentration, a dose rate, a
   * ratio or an amount. THECAL_QUANTITY_N_KINDS for a kind that is not valid: the caller decides
   * what that means (the validator refuses it, the loader never produces it). */
  ThecalQuantityKind thecal_limit_value_kind (ThecalLimitKind kind);

#ifdef __cplusplus
}
#endif
