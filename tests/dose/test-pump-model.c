/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-pump-model.c: pump models (find, validate, round_rate) and the drug-library entries
 * built on them (find, validate, limit names): src/dose/thecal-pump-model.c and thecal-drug.c.
 *
 * Each validation rule is tested at its limit (accepted) and one step beyond (refused, with a
 * message naming the field, the value and the limit). Integers only. The reference models TR-20
 * and TR-40 are the hand-built ones of tests/common/thecal-test-models.h.
 */
#include "config.h"

#include "thecal-drug.h"
#include "thecal-pump-model.h"
#include "thecal-test-dose.h"
#include "thecal-test-models.h"
#include "thecal-test.h"

#include <stdio.h>
#include <string.h>

static void
assert_valid (const ThecalPumpModel *m)
{
  ThecalDoseError error = { 0 };

  ck_assert_msg (thecal_pump_model_validate (m, &error), "should be valid: %s", error.message);
  ck_assert_int_eq (error.code, THECAL_DOSE_OK);
}

/* Refused with @field named in error.field, and the message naming the field and containing
 * @text (the value or the limit). */
static void
assert_invalid (const ThecalPumpModel *m, const char *field, const char *text)
{
  ThecalDoseError error = { 0 };

  ck_assert_msg (!thecal_pump_model_validate (m, &error), "should be refused for %s", field);
  ck_assert_int_ne (error.code, THECAL_DOSE_OK);
  ck_assert_str_eq (error.field, field);
  ck_assert_msg (strstr (error.message, field) != NULL, "message does not name %s: %s", field, error.message);
  if (text != NULL)
    ck_assert_msg (strstr (error.message, text) != NULL, "message lacks \"%s\": %s", text, error.message);
}

START_TEST (test_reference_models_valid)
{
  ThecalPumpModel tr20 = thecal_test_tr20 ();
  ThecalPumpModel tr40 = thecal_test_tr40 ();

  assert_valid (&tr20);
  assert_valid (&tr40);
}
END_TEST

START_TEST (test_find)
{
  ThecalPumpModelSet set;

  memset (&set, 0, sizeof set);
  ck_assert_ptr_null (thecal_pump_model_set_find (&set, "TR-20")); /* empty set */
  set.models[0] = thecal_test_tr20 ();
  set.models[1] = thecal_test_tr40 ();
  ck_assert_ptr_null (thecal_pump_model_set_find (&set, "TR-20")); /* n_models still 0 */
  set.n_models = 2;
  ck_assert_ptr_eq (thecal_pump_model_set_find (&set, "TR-20"), &set.models[0]);
  ck_assert_ptr_eq (thecal_pump_model_set_find (&set, "TR-40"), &set.models[1]);
  ck_assert_ptr_null (thecal_pump_model_set_find (&set, "TR-60"));
  ck_assert_ptr_null (thecal_pump_model_set_find (&set, "tr-20")); /* exact match */
  ck_assert_ptr_null (thecal_pump_model_set_find (&set, "TR-2"));
  ck_assert_ptr_null (thecal_pump_model_set_find (&set, ""));
  ck_assert_ptr_null (thecal_pump_model_set_find (&set, NULL));
  ck_assert_ptr_null (thecal_pump_model_set_find (NULL, "TR-20"));
  /* a corrupt count never reads past the table */
  set.n_models = 1000;
  ck_assert_ptr_eq (thecal_pump_model_set_find (&set, "TR-40"), &set.models[1]);
  ck_assert_ptr_null (thecal_pump_model_set_find (&set, "TR-60"));
  set.n_models = -3;
  ck_assert_ptr_null (thecal_pump_model_set_find (&set, "TR-20"));
  /* an id that fills its array without a terminator never matches */
  set.n_models = 2;
  memset (set.models[0].id, 'A', sizeof set.models[0].id);
  ck_assert_ptr_null (thecal_pump_model_set_find (&set, "AAAA"));
  /* the last slot */
  set.models[THECAL_PUMP_MODELS_MAX - 1] = thecal_test_tr20 ();
  snprintf (set.models[THECAL_PUMP_MODELS_MAX - 1].id, THECAL_ID_MAX, "LAST");
  set.n_models = THECAL_PUMP_MODELS_MAX;
  ck_assert_ptr_eq (thecal_pump_model_set_find (&set, "LAST"), &set.models[THECAL_PUMP_MODELS_MAX - 1]);
}
END_TEST

START_TEST (test_validate_text_fields)
{
  ThecalPumpModel m = thecal_test_tr20 ();
  ThecalDoseError error = { 0 };

  m.id[0] = '\0';
  assert_invalid (&m, "id", "empty");
  m = thecal_test_tr20 ();
  memset (m.id, 'X', sizeof m.id); /* not terminated */
  assert_invalid (&m, "id", NULL);
  m = thecal_test_tr20 ();
  m.name[0] = '\0';
  assert_invalid (&m, "name", "TR-20");
  m = thecal_test_tr20 ();
  memset (m.name, 'X', sizeof m.name);
  assert_invalid (&m, "name", NULL);

  ck_assert (!thecal_pump_model_validate (NULL, &error));
  ck_assert_int_ne (error.code, THECAL_DOSE_OK);
  m = thecal_test_tr20 ();
  m.stroke_volume_nl = 0;
  ck_assert (!thecal_pump_model_validate (&m, NULL)); /* no error struct: still refused */
}
END_TEST

/* Every field that must be > 0: 0 and -1 refused, 1 accepted where the other rules allow. */
START_TEST (test_validate_positive_fields)
{
  static const struct
  {
    const char *field;
    size_t offset;
  } fields[] = {
    { "reservoir_capacity", offsetof (ThecalPumpModel, reservoir_capacity_nl) },
    { "rate_resolution", offsetof (ThecalPumpModel, rate_resolution_nl_per_day) },
    { "rate_min", offsetof (ThecalPumpModel, rate_min_nl_per_day) },
    { "rate_max", offsetof (ThecalPumpModel, rate_max_nl_per_day) },
    { "minimum_rate", offsetof (ThecalPumpModel, minimum_rate_nl_per_day) },
    { "bolus_rate_max", offsetof (ThecalPumpModel, bolus_rate_max_nl_per_day) },
    { "stroke_volume", offsetof (ThecalPumpModel, stroke_volume_nl) },
    { "internal_volume", offsetof (ThecalPumpModel, internal_volume_nl) },
    { "low_reservoir_alarm", offsetof (ThecalPumpModel, low_reservoir_alarm_nl) },
    { "refill_threshold", offsetof (ThecalPumpModel, refill_threshold_nl) },
    { "discrepancy_threshold", offsetof (ThecalPumpModel, discrepancy_threshold_nl) },
  };

  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
    {
      ThecalPumpModel m = thecal_test_tr20 ();
      int64_t *value = (int64_t *) (void *) ((char *) &m + fields[i].offset);

      *value = 0;
      assert_invalid (&m, fields[i].field, "greater than zero");
      *value = -1;
      assert_invalid (&m, fields[i].field, "greater than zero");
      *value = INT64_MIN;
      assert_invalid (&m, fields[i].field, "greater than zero");
    }

  /* 1 is the limit for the fields no other rule constrains */
  {
    ThecalPumpModel m = thecal_test_tr20 ();

    m.stroke_volume_nl = 1;
    m.internal_volume_nl = 1;
    m.bolus_rate_max_nl_per_day = 1;
    m.discrepancy_threshold_nl = 1;
    assert_valid (&m);
    /* a resolution of 1 nL/day divides everything */
    m.rate_resolution_nl_per_day = 1;
    assert_valid (&m);
  }
}
END_TEST

START_TEST (test_validate_rate_range)
{
  ThecalPumpModel m;

  /* rate_min ≤ rate_max: equal is the limit, one resolution step beyond is refused */
  m = thecal_test_tr20 ();
  m.rate_max_nl_per_day = m.rate_min_nl_per_day;
  assert_valid (&m);
  m.rate_max_nl_per_day = m.rate_min_nl_per_day - m.rate_resolution_nl_per_day; /* 0.047 mL/day */
  assert_invalid (&m, "rate_min", "0.047 mL/day");
  ck_assert (!thecal_pump_model_validate (&m, NULL));

  /* minimum_rate ≤ rate_min */
  m = thecal_test_tr20 ();
  m.minimum_rate_nl_per_day = m.rate_min_nl_per_day;
  assert_valid (&m);
  m.minimum_rate_nl_per_day = m.rate_min_nl_per_day + m.rate_resolution_nl_per_day; /* 0.049 mL/day */
  assert_invalid (&m, "minimum_rate", "0.049 mL/day");

  /* the resolution divides rate_min, rate_max and minimum_rate */
  m = thecal_test_tr20 ();
  m.rate_min_nl_per_day += 1;
  assert_invalid (&m, "rate_min", "resolution");
  m = thecal_test_tr20 ();
  m.rate_max_nl_per_day -= 1;
  assert_invalid (&m, "rate_max", "0.001 mL/day");
  m = thecal_test_tr20 ();
  m.minimum_rate_nl_per_day += 500;
  assert_invalid (&m, "minimum_rate", "0.0065 mL/day");
  m = thecal_test_tr20 ();
  m.rate_resolution_nl_per_day = 6000; /* divides 6 000 and 48 000 and 24 000 000: fine */
  assert_valid (&m);
  m.rate_resolution_nl_per_day = 7000;
  assert_invalid (&m, "rate_min", "0.007 mL/day");
}
END_TEST

START_TEST (test_validate_thresholds)
{
  ThecalPumpModel m;

  /* empty ≥ 0 */
  m = thecal_test_tr20 ();
  m.empty_nl = 0;
  assert_valid (&m);
  m.empty_nl = -1;
  assert_invalid (&m, "empty", "-0.000001 mL");

  /* empty < low_reservoir_alarm */
  m = thecal_test_tr20 ();
  m.empty_nl = m.low_reservoir_alarm_nl - 1;
  assert_valid (&m);
  m.empty_nl = m.low_reservoir_alarm_nl;
  assert_invalid (&m, "empty", "low_reservoir_alarm");

  /* low_reservoir_alarm ≤ refill_threshold */
  m = thecal_test_tr20 ();
  m.low_reservoir_alarm_nl = m.refill_threshold_nl;
  assert_valid (&m);
  m.low_reservoir_alarm_nl = m.refill_threshold_nl + 1;
  assert_invalid (&m, "low_reservoir_alarm", "3 mL");

  /* refill_threshold < reservoir_capacity */
  m = thecal_test_tr20 ();
  m.refill_threshold_nl = m.reservoir_capacity_nl - 1;
  assert_valid (&m);
  m.refill_threshold_nl = m.reservoir_capacity_nl;
  assert_invalid (&m, "refill_threshold", "20 mL");

  /* discrepancy_threshold < reservoir_capacity */
  m = thecal_test_tr40 ();
  m.discrepancy_threshold_nl = m.reservoir_capacity_nl - 1;
  assert_valid (&m);
  m.discrepancy_threshold_nl = m.reservoir_capacity_nl;
  assert_invalid (&m, "discrepancy_threshold", "40 mL");
}
END_TEST

START_TEST (test_validate_accuracy_and_battery)
{
  ThecalPumpModel m;

  /* accuracy 0 .. 10 000 bp */
  m = thecal_test_tr20 ();
  m.accuracy_bp = 0;
  assert_valid (&m);
  m.accuracy_bp = 10000;
  assert_valid (&m);
  m.accuracy_bp = 10001;
  assert_invalid (&m, "accuracy", "100.01 %");
  m.accuracy_bp = -1;
  assert_invalid (&m, "accuracy", "-0.01 %");

  /* service life > 0, ERI > 0, ERI < service life */
  m = thecal_test_tr20 ();
  m.service_life_days = 0;
  assert_invalid (&m, "service_life_days", "greater than zero");
  m = thecal_test_tr20 ();
  m.eri_days_before_eos = 0;
  assert_invalid (&m, "eri_days_before_eos", "greater than zero");
  m = thecal_test_tr20 ();
  m.eri_days_before_eos = m.service_life_days - 1;
  assert_valid (&m);
  m.eri_days_before_eos = m.service_life_days;
  assert_invalid (&m, "eri_days_before_eos", "2555");
}
END_TEST

START_TEST (test_round_rate)
{
  ThecalPumpModel m = thecal_test_tr20 (); /* resolution 1 000 nL/day = 0.001 mL/day */
  ThecalPumpModel bad = thecal_test_tr20 ();
  int64_t out = 7;

  /* the shared worked example: 25 mg/mL, 5 mg/day → 200 000 nL/day, already on the grid */
  ck_assert (thecal_pump_model_round_rate (&m, 200000, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, 200000);
  /* exactly half-way: toward zero (less drug) */
  ck_assert (thecal_pump_model_round_rate (&m, 200500, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, 200000);
  ck_assert (thecal_pump_model_round_rate (&m, 500, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, 0);
  ck_assert (thecal_pump_model_round_rate (&m, -500, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, 0);
  /* one nL/day either side of the half */
  ck_assert (thecal_pump_model_round_rate (&m, 200501, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, 201000);
  ck_assert (thecal_pump_model_round_rate (&m, 200499, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, 200000);
  /* 1 mg/day at 3 mg/mL = 333 333.3 nL/day → 333 000 */
  ck_assert (thecal_pump_model_round_rate (&m, 333333, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, 333000);
  /* 0 and the limits stay */
  ck_assert (thecal_pump_model_round_rate (&m, 0, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, 0);
  ck_assert (thecal_pump_model_round_rate (&m, 24000000, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, 24000000);
  /* DOWN and UP when a caller needs a ceiling or a floor */
  ck_assert (thecal_pump_model_round_rate (&m, 200999, THECAL_ROUND_DOWN, &out));
  ck_assert_int_eq (out, 200000);
  ck_assert (thecal_pump_model_round_rate (&m, 200001, THECAL_ROUND_UP, &out));
  ck_assert_int_eq (out, 201000);
  /* a resolution of 1 changes nothing */
  bad.rate_resolution_nl_per_day = 1;
  ck_assert (thecal_pump_model_round_rate (&bad, 200501, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, 200501);

  /* overflow, a broken model, missing arguments: false, *out untouched */
  out = 7;
  ck_assert (!thecal_pump_model_round_rate (&m, INT64_MAX, THECAL_ROUND_UP, &out));
  ck_assert_int_eq (out, 7);
  ck_assert (thecal_pump_model_round_rate (&m, INT64_MAX, THECAL_ROUND_DOWN, &out));
  ck_assert_int_eq (out, INT64_MAX - INT64_MAX % 1000);
  out = 7;
  bad.rate_resolution_nl_per_day = 0;
  ck_assert (!thecal_pump_model_round_rate (&bad, 200000, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  bad.rate_resolution_nl_per_day = -1000;
  ck_assert (!thecal_pump_model_round_rate (&bad, 200000, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, 7);
  ck_assert (!thecal_pump_model_round_rate (NULL, 200000, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert (!thecal_pump_model_round_rate (&m, 200000, THECAL_ROUND_NEAREST_HALF_DOWN, NULL));
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Drug-library entries (thecal-drug.c)
 * ------------------------------------------------------------------------------------------- */

/* Ziconotide: label maximum 19.2 mcg/day (hard, CLINICAL §3.1); 25 and 100 mcg/mL vials. */
static ThecalDrug
make_ziconotide (void)
{
  ThecalDrug d;

  memset (&d, 0, sizeof d);
  snprintf (d.id, sizeof d.id, "ziconotide");
  snprintf (d.display_name, sizeof d.display_name, "ziconotide");
  d.n_labeled_concentrations = 2;
  d.labeled_concentrations_ng_per_ml[0] = 25000;  /* 25 mcg/mL */
  d.labeled_concentrations_ng_per_ml[1] = 100000; /* 100 mcg/mL */
  thecal_test_add_limit (&d, THECAL_LIMIT_MAX_DAILY_DOSE, THECAL_LIMIT_HARD, THECAL_APPLIES_ALL, 19200, true, "Prialt label, CLINICAL §3.1");
  thecal_test_add_limit (&d, THECAL_LIMIT_MAX_CONCENTRATION, THECAL_LIMIT_HARD, THECAL_APPLIES_ALL, 100000, true, "Prialt label");
  thecal_test_add_limit (&d, THECAL_LIMIT_MIN_CONCENTRATION, THECAL_LIMIT_SOFT, THECAL_APPLIES_ALL, 25000, true, "Prialt label");
  thecal_test_add_limit (&d, THECAL_LIMIT_MAX_INCREASE_PERCENT, THECAL_LIMIT_SOFT, THECAL_APPLIES_ALL, 10000, true, "design value");
  return d;
}

static void
assert_drug_invalid (const ThecalDrug *d, const char *field, const char *text)
{
  ThecalDoseError error = { 0 };

  ck_assert_msg (!thecal_drug_validate (d, &error), "should be refused for %s", field);
  ck_assert_int_ne (error.code, THECAL_DOSE_OK);
  ck_assert_str_eq (error.field, field);
  ck_assert_msg (strstr (error.message, d->id[0] != '\0' && memchr (d->id, '\0', sizeof d->id) != NULL ? d->id : "")
                     != NULL,
                 "message does not name the drug: %s", error.message);
  if (text != NULL)
    ck_assert_msg (strstr (error.message, text) != NULL, "message lacks \"%s\": %s", text, error.message);
}

START_TEST (test_drug_find_and_names)
{
  static ThecalDrugLibrary lib;

  memset (&lib, 0, sizeof lib);
  lib.drugs[0] = make_ziconotide ();
  snprintf (lib.drugs[1].id, THECAL_ID_MAX, "hydromorphone");
  ck_assert_ptr_null (thecal_drug_library_find (&lib, "ziconotide")); /* n_drugs = 0 */
  lib.n_drugs = 2;
  ck_assert_ptr_eq (thecal_drug_library_find (&lib, "ziconotide"), &lib.drugs[0]);
  ck_assert_ptr_eq (thecal_drug_library_find (&lib, "hydromorphone"), &lib.drugs[1]);
  ck_assert_ptr_null (thecal_drug_library_find (&lib, "HYDROmorphone")); /* exact, lower-case id */
  ck_assert_ptr_null (thecal_drug_library_find (&lib, "morphine"));
  ck_assert_ptr_null (thecal_drug_library_find (&lib, NULL));
  ck_assert_ptr_null (thecal_drug_library_find (NULL, "morphine"));
  lib.n_drugs = 100000; /* a corrupt count never reads past the table */
  ck_assert_ptr_null (thecal_drug_library_find (&lib, "morphine"));
  lib.n_drugs = -1;
  ck_assert_ptr_null (thecal_drug_library_find (&lib, "ziconotide"));

  ck_assert_str_eq (thecal_limit_kind_name (THECAL_LIMIT_MAX_CONCENTRATION), "max_concentration");
  ck_assert_str_eq (thecal_limit_kind_name (THECAL_LIMIT_MIN_CONCENTRATION), "min_concentration");
  ck_assert_str_eq (thecal_limit_kind_name (THECAL_LIMIT_MAX_DAILY_DOSE), "max_daily_dose");
  ck_assert_str_eq (thecal_limit_kind_name (THECAL_LIMIT_MAX_INCREASE_PERCENT), "max_increase_percent");
  ck_assert_str_eq (thecal_limit_kind_name (THECAL_LIMIT_MAX_INCREASE_ABSOLUTE), "max_increase_absolute");
  ck_assert_str_eq (thecal_limit_kind_name (THECAL_LIMIT_MAX_PTM_DOSE), "max_ptm_dose");
  ck_assert_str_eq (thecal_limit_kind_name (THECAL_LIMIT_N_KINDS), "unknown");
  ck_assert_str_eq (thecal_limit_severity_name (THECAL_LIMIT_SOFT), "soft");
  ck_assert_str_eq (thecal_limit_severity_name (THECAL_LIMIT_HARD), "hard");
  ck_assert_str_eq (thecal_limit_severity_name ((ThecalLimitSeverity) 9), "unknown");
}
END_TEST

START_TEST (test_drug_validate_identity)
{
  ThecalDrug d = make_ziconotide ();
  ThecalDoseError error = { 0 };

  ck_assert_msg (thecal_drug_validate (&d, &error), "%s", error.message);
  snprintf (d.id, sizeof d.id, "a-0-z9");
  ck_assert (thecal_drug_validate (&d, NULL));

  d = make_ziconotide ();
  snprintf (d.id, sizeof d.id, "HYDROmorphone");
  assert_drug_invalid (&d, "id", "lower-case");
  snprintf (d.id, sizeof d.id, "morphine sulfate");
  assert_drug_invalid (&d, "id", NULL);
  snprintf (d.id, sizeof d.id, "morphine_pf");
  assert_drug_invalid (&d, "id", NULL);
  snprintf (d.id, sizeof d.id, "bupivacaïne");
  assert_drug_invalid (&d, "id", NULL);
  d.id[0] = '\0';
  assert_drug_invalid (&d, "id", "empty");
  memset (d.id, 'a', sizeof d.id); /* not terminated */
  ck_assert (!thecal_drug_validate (&d, &error));

  d = make_ziconotide ();
  d.display_name[0] = '\0';
  assert_drug_invalid (&d, "display_name", "empty");
  d = make_ziconotide ();
  memset (d.ptm_source, 'x', sizeof d.ptm_source);
  assert_drug_invalid (&d, "ptm_source", NULL);

  d = make_ziconotide ();
  d.stability_days = 0; /* not stated */
  ck_assert (thecal_drug_validate (&d, NULL));
  d.stability_days = -1;
  assert_drug_invalid (&d, "stability_days", "-1");

  thecal_dose_error_clear (&error);
  ck_assert (!thecal_drug_validate (NULL, &error));
  ck_assert_int_ne (error.code, THECAL_DOSE_OK);
}
END_TEST

START_TEST (test_drug_validate_concentrations)
{
  ThecalDrug d = make_ziconotide ();

  d.labeled_concentrations_ng_per_ml[1] = 1; /* 1 ng/mL: the smallest positive value */
  ck_assert (thecal_drug_validate (&d, NULL));
  d.labeled_concentrations_ng_per_ml[1] = 0;
  assert_drug_invalid (&d, "labeled_concentrations[1]", "0 mcg/mL");
  d.labeled_concentrations_ng_per_ml[1] = -25000;
  assert_drug_invalid (&d, "labeled_concentrations[1]", "-25 mcg/mL");

  /* counts within the arrays: 0 and the maximum accepted, -1 and maximum + 1 refused */
  d = make_ziconotide ();
  d.n_labeled_concentrations = 0;
  ck_assert (thecal_drug_validate (&d, NULL));
  d.n_labeled_concentrations = THECAL_DRUG_CONCENTRATIONS_MAX;
  for (int i = 0; i < THECAL_DRUG_CONCENTRATIONS_MAX; i++)
    d.labeled_concentrations_ng_per_ml[i] = 1000 * (i + 1);
  ck_assert (thecal_drug_validate (&d, NULL));
  d.n_labeled_concentrations = THECAL_DRUG_CONCENTRATIONS_MAX + 1;
  assert_drug_invalid (&d, "labeled_concentrations", "8");
  d.n_labeled_concentrations = -1;
  assert_drug_invalid (&d, "labeled_concentrations", NULL);
}
END_TEST

START_TEST (test_drug_validate_limits)
{
  ThecalDrug d;

  /* values > 0: 1 accepted, 0 refused */
  d = make_ziconotide ();
  d.limits[0].value = 1;
  ck_assert (thecal_drug_validate (&d, NULL));
  d.limits[0].value = 0;
  assert_drug_invalid (&d, "limits[0].value", "max_daily_dose");
  d.limits[0].value = -19200;
  assert_drug_invalid (&d, "limits[0].value", "-19.2 mcg/day");

  /* percentages at most 1000 % = 100 000 bp */
  d = make_ziconotide ();
  d.limits[3].value = 100000;
  ck_assert (thecal_drug_validate (&d, NULL));
  d.limits[3].value = 100001;
  assert_drug_invalid (&d, "limits[3].value", "1000.01 %");
  /* the percent cap does not apply to amounts: 100 001 ng/day is fine as a daily dose */
  d = make_ziconotide ();
  d.limits[0].value = 100001;
  ck_assert (thecal_drug_validate (&d, NULL));

  /* every limit needs a source */
  d = make_ziconotide ();
  d.limits[2].source[0] = '\0';
  assert_drug_invalid (&d, "limits[2].source", "empty");
  memset (d.limits[2].source, 's', sizeof d.limits[2].source);
  assert_drug_invalid (&d, "limits[2].source", NULL);

  /* enums out of range */
  d = make_ziconotide ();
  d.limits[1].kind = THECAL_LIMIT_N_KINDS;
  assert_drug_invalid (&d, "limits[1].kind", NULL);
  d = make_ziconotide ();
  d.limits[1].severity = (ThecalLimitSeverity) 2;
  assert_drug_invalid (&d, "limits[1].severity", "soft or hard");
  d = make_ziconotide ();
  d.limits[1].applies_to = (ThecalLimitApplies) 3;
  assert_drug_invalid (&d, "limits[1].applies_to", NULL);

  /* counts within the array */
  d = make_ziconotide ();
  d.n_limits = 0;
  ck_assert (thecal_drug_validate (&d, NULL));
  d.n_limits = THECAL_DRUG_LIMITS_MAX + 1;
  assert_drug_invalid (&d, "limits", "16");
  d.n_limits = -1;
  assert_drug_invalid (&d, "limits", NULL);
  /* a full table of distinct limits: 3 kinds × 2 severities × 3 patient groups ≥ 16 */
  memset (&d, 0, sizeof d);
  snprintf (d.id, sizeof d.id, "full");
  snprintf (d.display_name, sizeof d.display_name, "Full");
  for (int i = 0; i < THECAL_DRUG_LIMITS_MAX; i++)
    {
      static const ThecalLimitKind kinds[] = { THECAL_LIMIT_MAX_DAILY_DOSE, THECAL_LIMIT_MAX_PTM_DOSE,
                                               THECAL_LIMIT_MAX_INCREASE_ABSOLUTE };

      thecal_test_add_limit (&d, kinds[i % 3], (ThecalLimitSeverity) ((i / 3) % 2), (ThecalLimitApplies) (i / 6), 1000 + i, true, "test");
    }
  ck_assert_int_eq (d.n_limits, THECAL_DRUG_LIMITS_MAX);
  ck_assert (thecal_drug_validate (&d, NULL));
}
END_TEST

START_TEST (test_drug_validate_contradictions)
{
  ThecalDrug d;

  /* the same kind, severity and group twice */
  d = make_ziconotide ();
  thecal_test_add_limit (&d, THECAL_LIMIT_MAX_DAILY_DOSE, THECAL_LIMIT_HARD, THECAL_APPLIES_ALL, 10000, true, "other");
  assert_drug_invalid (&d, "limits[4]", "limits[0]");
  /* a soft and a hard limit of one kind, or one per patient group, are fine */
  d = make_ziconotide ();
  thecal_test_add_limit (&d, THECAL_LIMIT_MAX_DAILY_DOSE, THECAL_LIMIT_SOFT, THECAL_APPLIES_ALL, 10000, true, "PACC");
  thecal_test_add_limit (&d, THECAL_LIMIT_MAX_DAILY_DOSE, THECAL_LIMIT_SOFT, THECAL_APPLIES_OPIOID_NAIVE, 5000, true, "PACC");
  ck_assert (thecal_drug_validate (&d, NULL));

  /* minimum concentration above the maximum: equal is the limit, 1 ng/mL more refused */
  d = make_ziconotide ();
  d.limits[2].value = d.limits[1].value;
  ck_assert (thecal_drug_validate (&d, NULL));
  d.limits[2].value = d.limits[1].value + 1;
  assert_drug_invalid (&d, "limits[2]", "minimum concentration");
  /* in the other order too */
  d = make_ziconotide ();
  d.limits[1].kind = THECAL_LIMIT_MIN_CONCENTRATION;
  d.limits[1].value = 200000;
  d.limits[2].kind = THECAL_LIMIT_MAX_CONCENTRATION;
  d.limits[2].value = 100000;
  assert_drug_invalid (&d, "limits[2]", "limits[1]");
  /* for different patient groups they do not contradict */
  d.limits[1].applies_to = THECAL_APPLIES_OPIOID_NAIVE;
  d.limits[2].applies_to = THECAL_APPLIES_OPIOID_TOLERANT;
  ck_assert (thecal_drug_validate (&d, NULL));
}
END_TEST

static Suite *
pump_model_suite (void)
{
  Suite *s = suite_create ("pump-model");
  TCase *tc;

  tc = tcase_create ("pump-model");
  tcase_add_test (tc, test_reference_models_valid);
  tcase_add_test (tc, test_find);
  tcase_add_test (tc, test_validate_text_fields);
  tcase_add_test (tc, test_validate_positive_fields);
  tcase_add_test (tc, test_validate_rate_range);
  tcase_add_test (tc, test_validate_thresholds);
  tcase_add_test (tc, test_validate_accuracy_and_battery);
  tcase_add_test (tc, test_round_rate);
  suite_add_tcase (s, tc);

  tc = tcase_create ("drug");
  tcase_add_test (tc, test_drug_find_and_names);
  tcase_add_test (tc, test_drug_validate_identity);
  tcase_add_test (tc, test_drug_validate_concentrations);
  tcase_add_test (tc, test_drug_validate_limits);
  tcase_add_test (tc, test_drug_validate_contradictions);
  suite_add_tcase (s, tc);

  return s;
}

THECAL_TEST_MAIN (pump_model_suite)
