/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-test-models.h: the reference pump models TR-20 and TR-40 (the shared decisions of
 * issue 2; every figure and its source in docs/formats.md), built by hand for the tests of
 * src/dose, so that they do not depend on the pump-model loader.
 *
 * thecal_test_expect_models_match_data_file () checks, through the real loader, that these
 * hand-built models are the ones data/pump-models.json ships: the tests cannot drift from the
 * shipped numbers. The test binaries of the calculators (prescription, refill, bolus) run it.
 */
#pragma once

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "thecal-dose-json.h"
#include "thecal-pump-model.h"

/* The reference pump with a reservoir of @capacity_ml (20 or 40). */
static inline ThecalPumpModel
thecal_test_tr_model (int capacity_ml)
{
  ThecalPumpModel m;

  memset (&m, 0, sizeof m);
  snprintf (m.id, sizeof m.id, "TR-%d", capacity_ml);
  snprintf (m.name, sizeof m.name, "Thecal reference pump, %d mL", capacity_ml);
  m.reservoir_capacity_nl = (int64_t) capacity_ml * 1000000; /* 20 or 40 mL, CLINICAL §1.1 */
  m.rate_min_nl_per_day = 48000;                             /* 0.048 mL/day, CLINICAL §1.3 (unconfirmed) */
  m.rate_max_nl_per_day = 24000000;                          /* 24 mL/day, CLINICAL §1.3 (unconfirmed) */
  m.minimum_rate_nl_per_day = 6000;                          /* 0.006 mL/day, CLINICAL §1.3 (unconfirmed) */
  m.rate_resolution_nl_per_day = 1000;                       /* 0.001 mL/day, design value */
  m.bolus_rate_max_nl_per_day = 24000000;                    /* 1 mL/h = 24 mL/day, design value */
  m.stroke_volume_nl = 250;                                  /* 0.25 microlitre, design value */
  m.internal_volume_nl = 250000;                             /* 0.25 mL, design value */
  m.accuracy_bp = 1450;                                      /* ±14.5 %, CLINICAL §1.5 */
  m.low_reservoir_alarm_nl = 2000000;                        /* 2 mL, CLINICAL §2.3 */
  m.refill_threshold_nl = 3000000;                           /* 3 mL, CLINICAL §1.5/§2.1 */
  m.empty_nl = 1000000;                                      /* 1 mL, CLINICAL §2.3 */
  /* Maino 2017, CLINICAL §1.6: 1 mL for a 20 mL pump, 2 mL for a 40 mL pump */
  m.discrepancy_threshold_nl = capacity_ml == 40 ? 2000000 : 1000000;
  m.service_life_days = 2555; /* 7 years, CLINICAL §1.7 */
  m.eri_days_before_eos = 90; /* CLINICAL §1.7 */
  return m;
}

static inline ThecalPumpModel
thecal_test_tr20 (void)
{
  return thecal_test_tr_model (20);
}

static inline ThecalPumpModel
thecal_test_tr40 (void)
{
  return thecal_test_tr_model (40);
}

/* @hand must be the model of the same id in data/pump-models.json, field by field, and sound. */
static inline void
thecal_test_expect_model_matches_data_file (const ThecalPumpModel *hand)
{
  const char *dir = getenv ("THECAL_DATA_DIR");
  static char text[THECAL_JSON_MAX_BYTES];
  static ThecalPumpModelSet set;
  const ThecalPumpModel *file;
  char path[4096];
  ThecalDoseError err;
  size_t length;
  FILE *f;

  ck_assert_msg (dir != NULL, "THECAL_DATA_DIR is not set (tests/meson.build sets it)");
  snprintf (path, sizeof path, "%s/pump-models.json", dir);
  f = fopen (path, "rb");
  ck_assert_msg (f != NULL, "cannot open %s", path);
  length = fread (text, 1, sizeof text, f);
  fclose (f);
  thecal_dose_error_clear (&err);
  ck_assert_msg (thecal_pump_models_load_json (text, length, &set, &err), "%s: %s", err.field, err.message);
  file = thecal_pump_model_set_find (&set, hand->id);
  ck_assert_ptr_nonnull (file);
  ck_assert_str_eq (hand->name, file->name);
  ck_assert_int_eq (hand->reservoir_capacity_nl, file->reservoir_capacity_nl);
  ck_assert_int_eq (hand->rate_min_nl_per_day, file->rate_min_nl_per_day);
  ck_assert_int_eq (hand->rate_max_nl_per_day, file->rate_max_nl_per_day);
  ck_assert_int_eq (hand->minimum_rate_nl_per_day, file->minimum_rate_nl_per_day);
  ck_assert_int_eq (hand->rate_resolution_nl_per_day, file->rate_resolution_nl_per_day);
  ck_assert_int_eq (hand->bolus_rate_max_nl_per_day, file->bolus_rate_max_nl_per_day);
  ck_assert_int_eq (hand->stroke_volume_nl, file->stroke_volume_nl);
  ck_assert_int_eq (hand->internal_volume_nl, file->internal_volume_nl);
  ck_assert_int_eq (hand->accuracy_bp, file->accuracy_bp);
  ck_assert_int_eq (hand->low_reservoir_alarm_nl, file->low_reservoir_alarm_nl);
  ck_assert_int_eq (hand->refill_threshold_nl, file->refill_threshold_nl);
  ck_assert_int_eq (hand->empty_nl, file->empty_nl);
  ck_assert_int_eq (hand->discrepancy_threshold_nl, file->discrepancy_threshold_nl);
  ck_assert_int_eq (hand->service_life_days, file->service_life_days);
  ck_assert_int_eq (hand->eri_days_before_eos, file->eri_days_before_eos);
  ck_assert_msg (thecal_pump_model_validate (hand, &err), "%s: %s", err.field, err.message);
}

/* Both reference models are the shipped ones. */
static inline void
thecal_test_expect_models_match_data_file (void)
{
  ThecalPumpModel tr20 = thecal_test_tr20 ();
  ThecalPumpModel tr40 = thecal_test_tr40 ();

  thecal_test_expect_model_matches_data_file (&tr20);
  thecal_test_expect_model_matches_data_file (&tr40);
}
