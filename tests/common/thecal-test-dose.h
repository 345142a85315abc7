/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-test-dose.h: what the test binaries of src/dose share: the assertion on a
 * ThecalDoseError, and the prescriptions and drug-library limits they build by hand.
 */
#pragma once

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "thecal-drug.h"
#include "thecal-prescription.h"

/* @error holds @code on @field, with a message that says something (more than 10 bytes) and was
 * not cut off at THECAL_ERROR_MESSAGE_MAX. */
static inline void
thecal_test_expect_error (const ThecalDoseError *error, ThecalDoseStatus code, const char *field)
{
  ck_assert_int_eq (error->code, code);
  ck_assert_str_eq (error->field, field);
  ck_assert_uint_gt (strlen (error->message), 10);
  ck_assert_uint_lt (strlen (error->message), THECAL_ERROR_MESSAGE_MAX - 1); /* not truncated */
}

/* @call, an expression that reports into @err, must fail with @code on @field (@err is cleared
 * first: only the first error of a ThecalDoseError is kept). */
#define thecal_test_expect_fails(err, call, code, field)  \
  do                                                      \
    {                                                     \
      thecal_dose_error_clear (&(err));                   \
      ck_assert (!(call));                                \
      thecal_test_expect_error (&(err), (code), (field)); \
    }                                                     \
  while (0)

/* A continuous prescription of @drug_id at @concentration_ng_per_ml, written as a daily dose. */
static inline ThecalPrescription
thecal_test_continuous_dose (const char *drug_id, int64_t concentration_ng_per_ml, int64_t dose_ng_per_day)
{
  ThecalPrescription rx;

  thecal_prescription_init (&rx);
  snprintf (rx.drug_id, sizeof rx.drug_id, "%s", drug_id);
  rx.concentration_ng_per_ml = concentration_ng_per_ml;
  rx.mode = THECAL_MODE_CONTINUOUS;
  rx.continuous.basis = THECAL_BASIS_DOSE;
  rx.continuous.dose_ng_per_day = dose_ng_per_day;
  return rx;
}

/* The same, written as a volume rate. */
static inline ThecalPrescription
thecal_test_continuous_rate (const char *drug_id, int64_t concentration_ng_per_ml, int64_t rate_nl_per_day)
{
  ThecalPrescription rx = thecal_test_continuous_dose (drug_id, concentration_ng_per_ml, 0);

  rx.continuous.basis = THECAL_BASIS_RATE;
  rx.continuous.rate_nl_per_day = rate_nl_per_day;
  return rx;
}

/* Appends a limit to @drug (which must have room for it). */
static inline void
thecal_test_add_limit (ThecalDrug *drug,
                       ThecalLimitKind kind,
                       ThecalLimitSeverity severity,
                       ThecalLimitApplies applies_to,
                       int64_t value,
                       bool confirmed,
                       const char *source)
{
  ThecalDrugLimit *limit = &drug->limits[drug->n_limits++];

  limit->kind = kind;
  limit->severity = severity;
  limit->applies_to = applies_to;
  limit->value = value;
  limit->confirmed = confirmed;
  snprintf (limit->source, sizeof limit->source, "%s", source);
}

/* Appends a periodic bolus of @dose_ng over @duration_ms at @start_min after midnight. */
static inline void
thecal_test_add_bolus (ThecalPrescription *rx, int32_t start_min, int64_t dose_ng, int64_t duration_ms)
{
  ThecalPeriodicBolus *bolus = &rx->periodic_boluses[rx->n_periodic_boluses++];

  bolus->start_min = start_min;
  bolus->dose_ng = dose_ng;
  bolus->duration_ms = duration_ms;
}

/* Enables PTM boluses of @dose_ng over @duration_ms, @lockout_ms apart, at most @max_per_24h. */
static inline void
thecal_test_set_ptm (ThecalPrescription *rx, int64_t dose_ng, int64_t duration_ms, int64_t lockout_ms, int32_t max_per_24h)
{
  rx->ptm.enabled = true;
  rx->ptm.dose_ng = dose_ng;
  rx->ptm.duration_ms = duration_ms;
  rx->ptm.lockout_ms = lockout_ms;
  rx->ptm.max_per_24h = max_per_24h;
}
