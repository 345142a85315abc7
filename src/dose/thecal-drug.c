/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-drug.c: finding and checking drugs of the drug library.
 *
 * Every limit of the library protects a patient, so a drug whose entry contradicts itself (a
 * limit of zero, a percentage over 1000 %, a limit without a source, two limits of the same kind
 * for the same patients, a minimum concentration above the maximum) is refused as a whole:
 * validation names the first field that is wrong, its value and the rule it broke.
 */
#include "config.h"

#include "thecal-drug.h"

#include "thecal-dose-private.h"
#include "thecal-quantity.h"

#include <stdio.h>
#include <string.h>

/* The largest percentage a "max_increase_percent" limit may hold: 1000 % (100 000 bp). */
#define THECAL_LIMIT_PERCENT_MAX_BP INT64_C (100000)

const ThecalDrug *
thecal_drug_library_find (const ThecalDrugLibrary *library, const char *id)
{
  if (library == NULL || id == NULL)
    return NULL;
  for (int32_t i = 0; i < library->n_drugs && i < THECAL_DRUGS_MAX; i++)
    {
      const ThecalDrug *drug = &library->drugs[i];

      if (memchr (drug->id, '\0', sizeof drug->id) != NULL && strcmp (drug->id, id) == 0)
        return drug;
    }
  return NULL;
}

const char *
thecal_limit_kind_name (ThecalLimitKind kind)
{
  switch (kind)
    {
    case THECAL_LIMIT_MAX_CONCENTRATION:
      return "max_concentration";
    case THECAL_LIMIT_MIN_CONCENTRATION:
      return "min_concentration";
    case THECAL_LIMIT_MAX_DAILY_DOSE:
      return "max_daily_dose";
    case THECAL_LIMIT_MAX_INCREASE_PERCENT:
      return "max_increase_percent";
    case THECAL_LIMIT_MAX_INCREASE_ABSOLUTE:
      return "max_increase_absolute";
    case THECAL_LIMIT_MAX_PTM_DOSE:
      return "max_ptm_dose";
    case THECAL_LIMIT_N_KINDS:
    default:
      return "unknown";
    }
}

const char *
thecal_limit_severity_name (ThecalLimitSeverity s)
{
  switch (s)
    {
    case THECAL_LIMIT_SOFT:
      return "soft";
    case THECAL_LIMIT_HARD:
      return "hard";
    default:
      return "unknown";
    }
}

ThecalQuantityKind
thecal_limit_value_kind (ThecalLimitKind kind)
{
  switch (kind)
    {
    case THECAL_LIMIT_MAX_CONCENTRATION:
    case THECAL_LIMIT_MIN_CONCENTRATION:
      return THECAL_QUANTITY_CONCENTRATION;
    case THECAL_LIMIT_MAX_DAILY_DOSE:
    case THECAL_LIMIT_MAX_INCREASE_ABSOLUTE:
      return THECAL_QUANTITY_DOSE_RATE;
    case THECAL_LIMIT_MAX_INCREASE_PERCENT:
      return THECAL_QUANTITY_RATIO;
    case THECAL_LIMIT_MAX_PTM_DOSE:
      return THECAL_QUANTITY_AMOUNT;
    case THECAL_LIMIT_N_KINDS:
    default:
      return THECAL_QUANTITY_N_KINDS;
    }
}

static bool
limit_kind_is_valid (ThecalLimitKind kind)
{
  return (unsigned) kind < (unsigned) THECAL_LIMIT_N_KINDS;
}

static bool
severity_is_valid (ThecalLimitSeverity s)
{
  return s == THECAL_LIMIT_SOFT || s == THECAL_LIMIT_HARD;
}

static bool
applies_is_valid (ThecalLimitApplies a)
{
  return a == THECAL_APPLIES_ALL || a == THECAL_APPLIES_OPIOID_NAIVE || a == THECAL_APPLIES_OPIOID_TOLERANT;
}

/* Two limits concern the same patients when either applies to all, or both to the same group. */
static bool
applies_overlap (ThecalLimitApplies a, ThecalLimitApplies b)
{
  return a == THECAL_APPLIES_ALL || b == THECAL_APPLIES_ALL || a == b;
}

/* A text field must be NUL-terminated inside its array (and, when @required, not empty). */
static bool
check_text (const char *id,
            const char *field,
            const char *text,
            size_t size,
            bool required,
            ThecalDoseError *error)
{
  if (memchr (text, '\0', size) == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field,
                                  "drug \"%s\": %s is longer than %zu bytes", id, field, size - 1);
  if (required && text[0] == '\0')
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field,
                                  "drug \"%s\": %s is empty, but it is required", id, field);
  return true;
}

bool
thecal_drug_validate (const ThecalDrug *drug, ThecalDoseError *error)
{
  char field[THECAL_ERROR_FIELD_MAX];
  char shown[THECAL_QUANTITY_TEXT_MAX];
  const char *id;

  if (drug == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "drug", "drug is missing");

  /* id: lower-case ASCII letters, digits and '-', stable across versions of the library */
  if (!check_text ("", "id", drug->id, sizeof drug->id, true, error))
    return false;
  id = drug->id;
  for (const char *c = id; *c != '\0'; c++)
    {
      if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "id",
                                      "drug id \"%s\" may only contain lower-case letters a-z, digits and '-'",
                                      id);
    }
  if (!check_text (id, "display_name", drug->display_name, sizeof drug->display_name, true, error)
      || !check_text (id, "ptm_source", drug->ptm_source, sizeof drug->ptm_source, false, error)
      || !check_text (id, "stability_source", drug->stability_source, sizeof drug->stability_source, false, error))
    return false;

  if (drug->stability_days < 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "stability_days",
                                  "drug \"%s\": stability_days is %d, but it cannot be below zero (0: not stated)",
                                  id, (int) drug->stability_days);

  /* labeled concentrations */
  if (drug->n_labeled_concentrations < 0 || drug->n_labeled_concentrations > THECAL_DRUG_CONCENTRATIONS_MAX)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_CAPACITY, "labeled_concentrations",
                                  "drug \"%s\": %d labeled concentrations, but the library holds 0 to %d",
                                  id, (int) drug->n_labeled_concentrations, THECAL_DRUG_CONCENTRATIONS_MAX);
  for (int32_t i = 0; i < drug->n_labeled_concentrations; i++)
    {
      int64_t c = drug->labeled_concentrations_ng_per_ml[i];

      if (c <= 0)
        {
          snprintf (field, sizeof field, "labeled_concentrations[%d]", (int) i);
          return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field,
                                        "drug \"%s\": %s is %s, but a concentration must be greater than zero",
                                        id, field, _thecal_qtext (THECAL_QUANTITY_CONCENTRATION, c, shown));
        }
    }

  /* limits */
  if (drug->n_limits < 0 || drug->n_limits > THECAL_DRUG_LIMITS_MAX)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_CAPACITY, "limits",
                                  "drug \"%s\": %d limits, but the library holds 0 to %d",
                                  id, (int) drug->n_limits, THECAL_DRUG_LIMITS_MAX);
  for (int32_t i = 0; i < drug->n_limits; i++)
    {
      const ThecalDrugLimit *limit = &drug->limits[i];

      if (!limit_kind_is_valid (limit->kind))
        {
          snprintf (field, sizeof field, "limits[%d].kind", (int) i);
          return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field,
                                        "drug \"%s\": %s is %d, which is not a known kind of limit",
                                        id, field, (int) limit->kind);
        }
      if (!severity_is_valid (limit->severity))
        {
          snprintf (field, sizeof field, "limits[%d].severity", (int) i);
          return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field,
                                        "drug \"%s\": %s is %d, but it must be soft or hard",
                                        id, field, (int) limit->severity);
        }
      if (!applies_is_valid (limit->applies_to))
        {
          snprintf (field, sizeof field, "limits[%d].applies_to", (int) i);
          return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field,
                                        "drug \"%s\": %s is %d, which is not a known patient group",
                                        id, field, (int) limit->applies_to);
        }
      if (limit->value <= 0)
        {
          snprintf (field, sizeof field, "limits[%d].value", (int) i);
          return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field,
                                        "drug \"%s\": %s (%s) is %s, but a limit must be greater than zero",
                                        id, field, thecal_limit_kind_name (limit->kind),
                                        _thecal_qtext (thecal_limit_value_kind (limit->kind), limit->value, shown));
        }
      if (limit->kind == THECAL_LIMIT_MAX_INCREASE_PERCENT && limit->value > THECAL_LIMIT_PERCENT_MAX_BP)
        {
          snprintf (field, sizeof field, "limits[%d].value", (int) i);
          return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field,
                                        "drug \"%s\": %s (max_increase_percent) is %s, but it may be at most 1000 %%",
                                        id, field,
                                        _thecal_qtext (THECAL_QUANTITY_RATIO, limit->value, shown));
        }
      snprintf (field, sizeof field, "limits[%d].source", (int) i);
      if (!check_text (id, field, limit->source, sizeof limit->source, true, error))
        return false;

      /* contradictions with an earlier limit */
      for (int32_t j = 0; j < i; j++)
        {
          const ThecalDrugLimit *other = &drug->limits[j];

          if (other->kind == limit->kind && other->severity == limit->severity
              && other->applies_to == limit->applies_to)
            {
              snprintf (field, sizeof field, "limits[%d]", (int) i);
              return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field,
                                            "drug \"%s\": %s repeats the %s %s limit of limits[%d] for the same patients",
                                            id, field, thecal_limit_severity_name (limit->severity),
                                            thecal_limit_kind_name (limit->kind), (int) j);
            }
          if (applies_overlap (other->applies_to, limit->applies_to)
              && ((limit->kind == THECAL_LIMIT_MIN_CONCENTRATION && other->kind == THECAL_LIMIT_MAX_CONCENTRATION
                   && limit->value > other->value)
                  || (limit->kind == THECAL_LIMIT_MAX_CONCENTRATION && other->kind == THECAL_LIMIT_MIN_CONCENTRATION
                      && other->value > limit->value)))
            {
              snprintf (field, sizeof field, "limits[%d]", (int) i);
              return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field,
                                            "drug \"%s\": %s and limits[%d] contradict each other: the minimum concentration is above the maximum",
                                            id, field, (int) j);
            }
        }
    }
  return true;
}
