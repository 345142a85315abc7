/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-check.c: the prescription check (thecal-check.h).
 *
 * Every finding code; every limit exactly at the limit (no finding) and one resolution step above
 * it (a finding); hard against soft; opioid-naive against opioid-tolerant; PTM; the 30 % step
 * boundary; ziconotide's 19.2 mcg/day hard maximum; the worked example of CLINICAL.md and the
 * brief (morphine 25 mg/mL, 5 mg/day → 0.2 mL/day) with the shipped data; ordering; dropping.
 *
 * Boundaries of one ng/day need a pump that can be programmed in steps that fine: most tests use
 * a test model with a rate resolution of 1 nL/day and strokes of 1 nL, and a concentration of
 * 1 mg/mL, so that 1 nL = 1 ng and every dose is exact. The reference TR-20 is used where its
 * resolution is the point (rate range, rounding, the worked examples).
 */
#include "config.h"

#include "thecal-check.h"
#include "thecal-dose-json.h"
#include "thecal-test-dose.h"
#include "thecal-test-models.h"
#include "thecal-test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MG INT64_C (1000000)        /* ng */
#define MCG INT64_C (1000)          /* ng */
#define ML INT64_C (1000000)        /* nL */
#define MG_PER_ML INT64_C (1000000) /* ng/mL */
#define MCG_PER_ML INT64_C (1000)   /* ng/mL */
#define MIN_MS INT64_C (60000)
#define HOUR_MS INT64_C (3600000)

/* ------------------------------------------------------------------------------------------ */
/* Fixtures                                                                                     */

/* TR-20 programmable in steps of 1 nL/day and strokes of 1 nL: at 1 mg/mL, 1 nL = 1 ng. */
static ThecalPumpModel
fine_model (void)
{
  ThecalPumpModel m = thecal_test_tr20 ();

  strcpy (m.id, "FINE");
  m.rate_resolution_nl_per_day = 1;
  m.stroke_volume_nl = 1;
  return m;
}

static ThecalDrug *
add_drug (ThecalDrugLibrary *library, const char *id, const char *name, bool opioid, bool ptm, bool ptm_confirmed)
{
  ThecalDrug *drug = &library->drugs[library->n_drugs++];

  snprintf (drug->id, sizeof drug->id, "%s", id);
  snprintf (drug->display_name, sizeof drug->display_name, "%s", name);
  drug->opioid = opioid;
  drug->ptm_permitted = ptm;
  drug->ptm_permitted_confirmed = ptm_confirmed;
  snprintf (drug->ptm_source, sizeof drug->ptm_source, "test: PTM of %s", id);
  return drug;
}

/* A library with the figures of the shipped one (so the messages read the same) plus a test drug
 * that has every other kind of limit. */
static const ThecalDrugLibrary *
test_library (void)
{
  static ThecalDrugLibrary library;
  ThecalDrug *d;

  memset (&library, 0, sizeof library);
  strcpy (library.version, "test-1");

  d = add_drug (&library, "morphine", "morphine", true, true, true);
  d->n_labeled_concentrations = 2;
  d->labeled_concentrations_ng_per_ml[0] = 10 * MG_PER_ML;
  d->labeled_concentrations_ng_per_ml[1] = 25 * MG_PER_ML;
  thecal_test_add_limit (d, THECAL_LIMIT_MAX_CONCENTRATION, THECAL_LIMIT_SOFT, THECAL_APPLIES_ALL, 20 * MG_PER_ML, false, "PACC 2017: max concentration");
  thecal_test_add_limit (d, THECAL_LIMIT_MAX_DAILY_DOSE, THECAL_LIMIT_SOFT, THECAL_APPLIES_ALL, 15 * MG, false, "PACC 2017: max daily dose");
  thecal_test_add_limit (d, THECAL_LIMIT_MAX_DAILY_DOSE, THECAL_LIMIT_SOFT, THECAL_APPLIES_OPIOID_TOLERANT, 20 * MG, true, "Infumorph label: caution above 20 mg/day");
  thecal_test_add_limit (d, THECAL_LIMIT_MAX_DAILY_DOSE, THECAL_LIMIT_SOFT, THECAL_APPLIES_OPIOID_NAIVE, 1 * MG, true, "Infumorph label: opioid-naive up to 1 mg/day");
  thecal_test_add_limit (d, THECAL_LIMIT_MAX_INCREASE_PERCENT, THECAL_LIMIT_SOFT, THECAL_APPLIES_ALL, 3000, false, "Deer 2007: up to 30 % per step");

  d = add_drug (&library, "ziconotide", "ziconotide", false, false, false);
  d->n_labeled_concentrations = 2;
  d->labeled_concentrations_ng_per_ml[0] = 25 * MCG_PER_ML;
  d->labeled_concentrations_ng_per_ml[1] = 100 * MCG_PER_ML;
  thecal_test_add_limit (d, THECAL_LIMIT_MAX_CONCENTRATION, THECAL_LIMIT_SOFT, THECAL_APPLIES_ALL, 100 * MCG_PER_ML, false, "PACC 2017: max concentration");
  thecal_test_add_limit (d, THECAL_LIMIT_MAX_DAILY_DOSE, THECAL_LIMIT_HARD, THECAL_APPLIES_ALL, 19200, true, "Prialt label: maximum 19.2 mcg/day");
  thecal_test_add_limit (d, THECAL_LIMIT_MAX_INCREASE_ABSOLUTE, THECAL_LIMIT_HARD, THECAL_APPLIES_ALL, 2400, true, "Prialt label: titrate by at most 2.4 mcg/day");

  d = add_drug (&library, "baclofen", "baclofen", false, false, true);
  d->n_labeled_concentrations = 3;
  d->labeled_concentrations_ng_per_ml[0] = 50 * MCG_PER_ML;
  d->labeled_concentrations_ng_per_ml[1] = 500 * MCG_PER_ML;
  d->labeled_concentrations_ng_per_ml[2] = 2000 * MCG_PER_ML;
  thecal_test_add_limit (d, THECAL_LIMIT_MAX_DAILY_DOSE, THECAL_LIMIT_SOFT, THECAL_APPLIES_ALL, 2000 * MCG, true, "Expert panel: up to 2000 mcg/day");

  d = add_drug (&library, "hydromorphone", "HYDROmorphone", true, false, false);

  /* a non-opioid with PTM permitted by an unconfirmed source, a hard maximum concentration, a
   * minimum concentration, a PTM dose ceiling and a limit for tolerant patients only */
  d = add_drug (&library, "testdrug", "TESTdrug", false, true, false);
  thecal_test_add_limit (d, THECAL_LIMIT_MAX_CONCENTRATION, THECAL_LIMIT_HARD, THECAL_APPLIES_ALL, 50 * MG_PER_ML, true, "Test label: max concentration");
  thecal_test_add_limit (d, THECAL_LIMIT_MIN_CONCENTRATION, THECAL_LIMIT_SOFT, THECAL_APPLIES_ALL, 1 * MG_PER_ML, true, "Test label: min concentration");
  thecal_test_add_limit (d, THECAL_LIMIT_MAX_PTM_DOSE, THECAL_LIMIT_SOFT, THECAL_APPLIES_ALL, 500000, false, "Test clinic: 0.5 mg per PTM bolus");
  thecal_test_add_limit (d, THECAL_LIMIT_MAX_DAILY_DOSE, THECAL_LIMIT_HARD, THECAL_APPLIES_OPIOID_TOLERANT, 10 * MG, true, "Test label: tolerant only");
  return &library;
}

static void
set_ptm (ThecalPrescription *rx, int64_t dose_ng, int32_t max_per_24h)
{
  /* 30 min: 0.5 mL in 30 min is the TR-20's fastest bolus, 1 mL/h; a 3 h lockout: at most 8 a day */
  thecal_test_set_ptm (rx, dose_ng, 30 * MIN_MS, 3 * HOUR_MS, max_per_24h);
}

/* Every result: ordered by severity, `worst` right, no drop, every text NUL-terminated. */
static void
assert_well_formed (const ThecalCheckResult *result)
{
  ThecalFindingSeverity worst = THECAL_FINDING_NOTE;

  ck_assert_int_ge (result->n_findings, 0);
  ck_assert_int_le (result->n_findings, THECAL_FINDINGS_MAX);
  ck_assert_int_eq (result->n_dropped, 0);
  for (int32_t i = 0; i < result->n_findings; i++)
    {
      const ThecalFinding *f = &result->findings[i];

      ck_assert (memchr (f->field, '\0', sizeof f->field) != NULL);
      ck_assert (memchr (f->value, '\0', sizeof f->value) != NULL);
      ck_assert (memchr (f->limit, '\0', sizeof f->limit) != NULL);
      ck_assert (memchr (f->message, '\0', sizeof f->message) != NULL);
      ck_assert (memchr (f->source, '\0', sizeof f->source) != NULL);
      ck_assert_msg (f->field[0] != '\0' && f->message[0] != '\0', "finding %d without field or message", i);
      if (i > 0)
        ck_assert_msg (result->findings[i - 1].severity >= f->severity, "finding %d is more severe than the one before", i);
      if (f->severity > worst)
        worst = f->severity;
    }
  ck_assert_int_eq (result->worst, worst);
}

/* The check of @rx on @model with the test library; every result is asserted well formed. */
static ThecalCheckResult *
run_check (const ThecalPrescription *rx,
           const ThecalPrescription *current,
           bool tolerant,
           const ThecalPumpModel *model)
{
  static ThecalCheckResult result;
  ThecalPatientContext patient = { .opioid_tolerant = tolerant };

  memset (&result, 0x5A, sizeof result); /* the check must set every field it reports */
  thecal_check_prescription (rx, current, &patient, model, test_library (), &result);
  assert_well_formed (&result);
  return &result;
}

static int
count_code (const ThecalCheckResult *result, ThecalFindingCode code)
{
  int n = 0;

  for (int32_t i = 0; i < result->n_findings; i++)
    n += result->findings[i].code == code;
  return n;
}

static int
count_severity (const ThecalCheckResult *result, ThecalFindingSeverity severity)
{
  int n = 0;

  for (int32_t i = 0; i < result->n_findings; i++)
    n += result->findings[i].severity == severity;
  return n;
}

/* The @index-th finding with @code (asserted to exist). */
static const ThecalFinding *
nth_finding (const ThecalCheckResult *result, ThecalFindingCode code, int index)
{
  for (int32_t i = 0; i < result->n_findings; i++)
    if (result->findings[i].code == code && index-- == 0)
      return &result->findings[i];
  ck_abort_msg ("no finding %s", thecal_finding_code_name (code));
  return NULL;
}

static const ThecalFinding *
the_finding (const ThecalCheckResult *result, ThecalFindingCode code)
{
  ck_assert_msg (count_code (result, code) == 1, "%d findings %s, expected one", count_code (result, code),
                 thecal_finding_code_name (code));
  return nth_finding (result, code, 0);
}

/* The one finding of @result with @code: of @severity, and with @field, @value, @limit and
 * @message where they are not NULL. Returns it (valid until the next check). */
static const ThecalFinding *
expect_finding (const ThecalCheckResult *result,
                ThecalFindingCode code,
                ThecalFindingSeverity severity,
                const char *field,
                const char *value,
                const char *limit,
                const char *message)
{
  const ThecalFinding *f = the_finding (result, code);

  ck_assert_int_eq (f->severity, severity);
  if (field != NULL)
    ck_assert_str_eq (f->field, field);
  if (value != NULL)
    ck_assert_str_eq (f->value, value);
  if (limit != NULL)
    ck_assert_str_eq (f->limit, limit);
  if (message != NULL)
    ck_assert_str_eq (f->message, message);
  return f;
}

/* ------------------------------------------------------------------------------------------ */
/* The worked examples, with the shipped data                                                   */

typedef struct
{
  ThecalDrugLibrary library;
  ThecalPumpModelSet models;
} ShippedData;

static const ShippedData *
shipped (void)
{
  static ShippedData data;
  static const char *const names[] = { "drug-library.json", "pump-models.json" };
  const char *dir = getenv ("THECAL_DATA_DIR");

  ck_assert_msg (dir != NULL, "THECAL_DATA_DIR is not set (tests/meson.build sets it)");
  for (int i = 0; i < 2; i++)
    {
      char path[4096];
      char *text;
      FILE *file;
      long size;
      ThecalDoseError error;
      bool ok;

      snprintf (path, sizeof path, "%s/%s", dir, names[i]);
      file = fopen (path, "rb");
      ck_assert_msg (file != NULL, "cannot open %s", path);
      ck_assert (fseek (file, 0, SEEK_END) == 0);
      size = ftell (file);
      ck_assert (size > 0 && fseek (file, 0, SEEK_SET) == 0);
      text = malloc ((size_t) size);
      ck_assert (text != NULL && fread (text, 1, (size_t) size, file) == (size_t) size);
      fclose (file);
      ok = i == 0 ? thecal_drug_library_load_json (text, (size_t) size, &data.library, &error)
                  : thecal_pump_models_load_json (text, (size_t) size, &data.models, &error);
      ck_assert_msg (ok, "%s: %s: %s", names[i], error.field, error.message);
      free (text);
    }
  return &data;
}

static ThecalCheckResult *
run_shipped (const ThecalPrescription *rx, const ThecalPrescription *current, bool tolerant)
{
  static ThecalCheckResult result;
  const ShippedData *data = shipped ();
  const ThecalPumpModel *model = thecal_pump_model_set_find (&data->models, "TR-20");
  ThecalPatientContext patient = { .opioid_tolerant = tolerant };

  ck_assert (model != NULL);
  thecal_check_prescription (rx, current, &patient, model, &data->library, &result);
  assert_well_formed (&result);
  return &result;
}

START_TEST (test_worked_example_morphine)
{
  /* morphine 25 mg/mL, 5 mg/day: 5 / 25 = 0.2 mL/day = 200 000 nL/day, a multiple of TR-20's
   * 0.001 mL/day, so the pump delivers exactly 5 mg/day. 25 mg/mL is a labeled concentration
   * (Infumorph 500) but above PACC's 20 mg/mL: the one finding needs an override reason. */
  ThecalPrescription rx = thecal_test_continuous_dose ("morphine", 25 * MG_PER_ML, 5 * MG);
  ThecalCheckResult *result = run_shipped (&rx, NULL, true);
  const ThecalFinding *f;

  ck_assert (result->plan_valid);
  ck_assert_int_eq (result->plan.segments[0].basal_rate_nl_per_day, 200000);
  ck_assert_int_eq (result->plan.total_worst_ng_per_day, 5 * MG);
  ck_assert_int_eq (result->n_findings, 1);
  ck_assert_int_eq (result->worst, THECAL_FINDING_OVERRIDE);
  f = expect_finding (result, THECAL_FINDING_CONCENTRATION, THECAL_FINDING_OVERRIDE,
                      "concentration", "25 mg/mL", "20 mg/mL maximum (soft limit, PACC 2017, source unconfirmed)",
                      "Concentration 25 mg/mL is above the 20 mg/mL soft limit for morphine.");
  ck_assert (strstr (f->source, "CLINICAL.md §3.2") != NULL);

  /* the same for an opioid-naive patient: 5 mg/day is also above the label's 1 mg/day */
  result = run_shipped (&rx, NULL, false);
  ck_assert_int_eq (result->n_findings, 2);
  f = expect_finding (result, THECAL_FINDING_DAILY_DOSE, THECAL_FINDING_OVERRIDE,
                      "daily dose", "5 mg/day", "1 mg/day (soft limit, Infumorph label)",
                      "Daily dose 5 mg/day is above the 1 mg/day soft limit for morphine in opioid-naive patients.");

  /* 10 mg/mL, 5 mg/day = 0.5 mL/day: nothing to say */
  rx = thecal_test_continuous_dose ("morphine", 10 * MG_PER_ML, 5 * MG);
  result = run_shipped (&rx, NULL, true);
  ck_assert_int_eq (result->n_findings, 0);
  ck_assert_int_eq (result->worst, THECAL_FINDING_NOTE);
  ck_assert_int_eq (result->plan.segments[0].basal_rate_nl_per_day, 500000);
}
END_TEST

START_TEST (test_worked_example_ptm)
{
  /* The brief's message: basal 14 mg/day (25 mg/mL → 0.56 mL/day) plus 4 PTM boluses of 0.5 mg
   * (20 µL = 80 strokes each) = 2 mg/day: worst case 16 mg/day, above PACC's 15 mg/day. */
  ThecalPrescription rx = thecal_test_continuous_dose ("morphine", 25 * MG_PER_ML, 14 * MG);
  ThecalCheckResult *result;

  set_ptm (&rx, 500000, 4);
  result = run_shipped (&rx, NULL, true);
  ck_assert_int_eq (result->plan.ptm_worst_ng_per_day, 2 * MG);
  ck_assert_int_eq (result->plan.total_worst_ng_per_day, 16 * MG);
  expect_finding (result, THECAL_FINDING_DAILY_DOSE, THECAL_FINDING_OVERRIDE,
                  NULL, "16 mg/day", "15 mg/day (soft limit, PACC 2017, source unconfirmed)",
                  "Worst-case daily dose 16 mg/day (basal 14 mg/day + PTM 2 mg/day) is above the 15 mg/day soft limit for morphine.");
  ck_assert_int_eq (count_code (result, THECAL_FINDING_PTM_OPIOID_NAIVE), 0);
}
END_TEST

START_TEST (test_worked_example_ziconotide)
{
  /* Prialt label maximum 19.2 mcg/day: hard. At 100 mcg/mL, 19.2 mcg/day = 0.192 mL/day (exact
   * on TR-20); 19.3 mcg/day = 0.193 mL/day is one TR-20 step (100 ng/day) above and refused. */
  ThecalPrescription rx = thecal_test_continuous_dose ("ziconotide", 100 * MCG_PER_ML, 19200);
  ThecalCheckResult *result = run_shipped (&rx, NULL, true);
  const ThecalFinding *f;

  ck_assert_int_eq (result->plan.total_worst_ng_per_day, 19200);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_DAILY_DOSE), 0);
  ck_assert_int_eq (result->n_findings, 0);

  rx = thecal_test_continuous_dose ("ziconotide", 100 * MCG_PER_ML, 19300);
  result = run_shipped (&rx, NULL, true);
  f = the_finding (result, THECAL_FINDING_DAILY_DOSE);
  ck_assert_int_eq (f->severity, THECAL_FINDING_REFUSED);
  ck_assert_int_eq (result->worst, THECAL_FINDING_REFUSED);
  ck_assert_str_eq (f->limit, "19.2 mcg/day (hard limit, Prialt label)");
  ck_assert_str_eq (f->message, "Daily dose 19.3 mcg/day is above the 19.2 mcg/day hard limit for ziconotide.");

  /* titration: from 2.4 to 4.8 mcg/day is the label's largest step; 4.9 mcg/day is refused */
  {
    ThecalPrescription current = thecal_test_continuous_dose ("ziconotide", 100 * MCG_PER_ML, 2400);

    rx = thecal_test_continuous_dose ("ziconotide", 100 * MCG_PER_ML, 4800);
    result = run_shipped (&rx, &current, true);
    ck_assert_int_eq (result->n_findings, 0);
    rx = thecal_test_continuous_dose ("ziconotide", 100 * MCG_PER_ML, 4900);
    result = run_shipped (&rx, &current, true);
    f = expect_finding (result, THECAL_FINDING_STEP_INCREASE, THECAL_FINDING_REFUSED,
                        NULL, NULL, "2.4 mcg/day per step (hard limit, Prialt label)",
                        "Daily dose rises from 2.4 mcg/day to 4.9 mcg/day (+2.5 mcg/day), above the 2.4 mcg/day per-step hard limit for ziconotide.");
  }
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Limits: boundaries, hard and soft, patient groups                                           */

START_TEST (test_daily_dose_boundaries)
{
  ThecalPumpModel model = fine_model ();
  ThecalPrescription rx;
  ThecalCheckResult *result;
  const ThecalFinding *f;

  /* opioid-tolerant: PACC 15 mg/day soft; label 20 mg/day soft (tolerant only) */
  rx = thecal_test_continuous_dose ("morphine", 1 * MG_PER_ML, 15 * MG);
  result = run_check (&rx, NULL, true, &model);
  ck_assert_int_eq (result->plan.total_worst_ng_per_day, 15 * MG);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_DAILY_DOSE), 0);

  rx = thecal_test_continuous_dose ("morphine", 1 * MG_PER_ML, 15 * MG + 1); /* one ng/day over */
  result = run_check (&rx, NULL, true, &model);
  ck_assert_int_eq (result->plan.total_worst_ng_per_day, 15 * MG + 1);
  f = expect_finding (result, THECAL_FINDING_DAILY_DOSE, THECAL_FINDING_OVERRIDE,
                      NULL, "15.000001 mg/day", "15 mg/day (soft limit, PACC 2017, source unconfirmed)",
                      NULL);
  ck_assert_str_eq (f->source, "PACC 2017: max daily dose");

  rx = thecal_test_continuous_dose ("morphine", 1 * MG_PER_ML, 20 * MG);
  result = run_check (&rx, NULL, true, &model);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_DAILY_DOSE), 1);
  rx = thecal_test_continuous_dose ("morphine", 1 * MG_PER_ML, 20 * MG + 1);
  result = run_check (&rx, NULL, true, &model);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_DAILY_DOSE), 2);
  ck_assert_str_eq (nth_finding (result, THECAL_FINDING_DAILY_DOSE, 1)->limit, "20 mg/day (soft limit, Infumorph label)");
  ck_assert_str_eq (nth_finding (result, THECAL_FINDING_DAILY_DOSE, 1)->message,
                    "Daily dose 20.000001 mg/day is above the 20 mg/day soft limit for morphine in opioid-tolerant patients.");

  /* opioid-naive: label 1 mg/day; it does not apply to a tolerant patient */
  rx = thecal_test_continuous_dose ("morphine", 1 * MG_PER_ML, 1 * MG);
  result = run_check (&rx, NULL, false, &model);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_DAILY_DOSE), 0);
  rx = thecal_test_continuous_dose ("morphine", 1 * MG_PER_ML, 1 * MG + 1);
  result = run_check (&rx, NULL, false, &model);
  f = the_finding (result, THECAL_FINDING_DAILY_DOSE);
  ck_assert_str_eq (f->limit, "1 mg/day (soft limit, Infumorph label)");
  result = run_check (&rx, NULL, true, &model);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_DAILY_DOSE), 0);

  /* a naive patient is not spared the 15 mg/day for everyone, nor held to the tolerant 20 */
  rx = thecal_test_continuous_dose ("morphine", 1 * MG_PER_ML, 20 * MG + 1);
  result = run_check (&rx, NULL, false, &model);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_DAILY_DOSE), 2); /* 1 mg/day and 15 mg/day */
  ck_assert_str_eq (nth_finding (result, THECAL_FINDING_DAILY_DOSE, 0)->limit, "15 mg/day (soft limit, PACC 2017, source unconfirmed)");
  ck_assert_str_eq (nth_finding (result, THECAL_FINDING_DAILY_DOSE, 1)->limit, "1 mg/day (soft limit, Infumorph label)");

  /* a hard limit for tolerant patients only (test drug, 10 mg/day) */
  rx = thecal_test_continuous_dose ("testdrug", 1 * MG_PER_ML, 10 * MG + 1);
  result = run_check (&rx, NULL, true, &model);
  ck_assert_int_eq (the_finding (result, THECAL_FINDING_DAILY_DOSE)->severity, THECAL_FINDING_REFUSED);
  result = run_check (&rx, NULL, false, &model);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_DAILY_DOSE), 0);

  /* ziconotide's hard 19.2 mcg/day at 1-ng resolution: 25 mcg/mL, 0.76804 mL/day = 19.201 mcg/day */
  rx = thecal_test_continuous_dose ("ziconotide", 25 * MCG_PER_ML, 19200);
  result = run_check (&rx, NULL, true, &model);
  ck_assert_int_eq (result->n_findings, 0);
  rx = thecal_test_continuous_dose ("ziconotide", 25 * MCG_PER_ML, 19201);
  result = run_check (&rx, NULL, true, &model);
  ck_assert_int_eq (result->plan.segments[0].basal_rate_nl_per_day, 768040);
  ck_assert_int_eq (the_finding (result, THECAL_FINDING_DAILY_DOSE)->severity, THECAL_FINDING_REFUSED);
  ck_assert_int_eq (result->n_findings, 1);
}
END_TEST

START_TEST (test_daily_dose_counts_boluses)
{
  /* 14 mg/day basal + a periodic bolus of 0.5 mg + 2 PTM boluses of 0.25 mg = 15 mg/day: at the
   * limit. One more ng in the periodic bolus makes it 15.000001 mg/day. */
  ThecalPumpModel model = fine_model ();
  ThecalPrescription rx = thecal_test_continuous_dose ("morphine", 1 * MG_PER_ML, 14 * MG);
  ThecalCheckResult *result;
  const ThecalFinding *f;

  thecal_test_add_bolus (&rx, 12 * 60, 500000, 60 * MIN_MS);
  set_ptm (&rx, 250000, 2);
  result = run_check (&rx, NULL, true, &model);
  ck_assert_int_eq (result->plan.total_worst_ng_per_day, 15 * MG);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_DAILY_DOSE), 0);

  rx.periodic_boluses[0].dose_ng = 500001;
  result = run_check (&rx, NULL, true, &model);
  f = the_finding (result, THECAL_FINDING_DAILY_DOSE);
  ck_assert_str_eq (f->message,
                    "Worst-case daily dose 15.000001 mg/day (basal 14 mg/day + periodic boluses 500.001 mcg/day + PTM 500 mcg/day) is above the 15 mg/day soft limit for morphine.");
}
END_TEST

START_TEST (test_concentration_limits)
{
  /* Each limit at its value (no finding) and one ng/mL beyond it (a finding of its severity). */
  static const struct
  {
    const char *drug;
    int64_t at_limit_ng_per_ml;
    int64_t beyond_ng_per_ml;
    ThecalFindingSeverity severity;
    const char *limit;
    const char *message;
  } cases[] = {
    /* soft maximum: morphine 20 mg/mL */
    { "morphine", 20 * MG_PER_ML, 20 * MG_PER_ML + 1, THECAL_FINDING_OVERRIDE,
      "20 mg/mL maximum (soft limit, PACC 2017, source unconfirmed)",
      "Concentration 20.000001 mg/mL is above the 20 mg/mL soft limit for morphine." },
    /* hard maximum: test drug 50 mg/mL */
    { "testdrug", 50 * MG_PER_ML, 50 * MG_PER_ML + 1, THECAL_FINDING_REFUSED,
      "50 mg/mL maximum (hard limit, Test label)",
      "Concentration 50.000001 mg/mL is above the 50 mg/mL hard limit for TESTdrug." },
    /* soft minimum: test drug 1 mg/mL */
    { "testdrug", 1 * MG_PER_ML, 1 * MG_PER_ML - 1, THECAL_FINDING_OVERRIDE,
      "1 mg/mL minimum (soft limit, Test label)",
      "Concentration 999.999 mcg/mL is below the 1 mg/mL soft limit for TESTdrug." },
  };
  ThecalPumpModel model = fine_model ();

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      ThecalPrescription at_limit = thecal_test_continuous_dose (cases[i].drug, cases[i].at_limit_ng_per_ml, 5 * MG);
      ThecalPrescription beyond = thecal_test_continuous_dose (cases[i].drug, cases[i].beyond_ng_per_ml, 5 * MG);

      ck_assert_int_eq (count_code (run_check (&at_limit, NULL, true, &model), THECAL_FINDING_CONCENTRATION), 0);
      expect_finding (run_check (&beyond, NULL, true, &model), THECAL_FINDING_CONCENTRATION, cases[i].severity,
                      "concentration", NULL, cases[i].limit, cases[i].message);
    }
}
END_TEST

START_TEST (test_unlabeled_concentration)
{
  ThecalPumpModel model = thecal_test_tr20 ();
  ThecalPrescription rx;
  ThecalCheckResult *result;
  const ThecalFinding *f;

  /* labeled: no note */
  rx = thecal_test_continuous_dose ("morphine", 10 * MG_PER_ML, 5 * MG);
  result = run_check (&rx, NULL, true, &model);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_UNLABELED_CONCENTRATION), 0);

  /* 20 mg/mL: within PACC, but no labeled product has it */
  rx = thecal_test_continuous_dose ("morphine", 20 * MG_PER_ML, 5 * MG);
  result = run_check (&rx, NULL, true, &model);
  f = expect_finding (result, THECAL_FINDING_UNLABELED_CONCENTRATION, THECAL_FINDING_NOTE,
                      "concentration", NULL, "labeled: 10 mg/mL, 25 mg/mL",
                      "20 mg/mL is not a labeled concentration of morphine (labeled: 10 mg/mL, 25 mg/mL); unapproved concentrations raise the risk of a pump motor stall.");
  ck_assert (strstr (f->source, "Dec 2012") != NULL && strstr (f->source, "§1.7") != NULL && strstr (f->source, "§4.1") != NULL);

  /* a drug with no labeled product at all */
  rx = thecal_test_continuous_dose ("hydromorphone", 2 * MG_PER_ML, 1 * MG);
  result = run_check (&rx, NULL, true, &model);
  f = the_finding (result, THECAL_FINDING_UNLABELED_CONCENTRATION);
  ck_assert_str_eq (f->limit, "no labeled concentration");
  ck_assert (strstr (f->message, "HYDROmorphone has no labeled concentration") == f->message);
}
END_TEST

START_TEST (test_unknown_drug)
{
  ThecalPumpModel model = thecal_test_tr20 ();
  ThecalPrescription rx = thecal_test_continuous_dose ("oxycodone", 10 * MG_PER_ML, 5 * MG);
  ThecalPatientContext patient = { .opioid_tolerant = true };
  static ThecalCheckResult no_library;
  ThecalCheckResult *result = run_check (&rx, NULL, true, &model);
  const ThecalFinding *f;

  f = expect_finding (result, THECAL_FINDING_UNKNOWN_DRUG, THECAL_FINDING_REFUSED,
                      "drug", "oxycodone", NULL,
                      "Drug \"oxycodone\" is not in the drug library (version test-1), so its limits cannot be checked.");
  ck_assert (result->plan_valid); /* the rates are still checked */

  /* no library at all */
  thecal_check_prescription (&rx, NULL, &patient, &model, NULL, &no_library);
  assert_well_formed (&no_library);
  ck_assert_int_eq (the_finding (&no_library, THECAL_FINDING_UNKNOWN_DRUG)->severity, THECAL_FINDING_REFUSED);

  /* a stopped pump must never be refused for its drug: the finding is a note */
  rx.mode = THECAL_MODE_STOPPED;
  result = run_check (&rx, NULL, true, &model);
  f = the_finding (result, THECAL_FINDING_UNKNOWN_DRUG);
  ck_assert_int_eq (f->severity, THECAL_FINDING_NOTE);
  ck_assert (strstr (f->message, "the pump is stopped") != NULL);
  ck_assert_int_eq (result->worst, THECAL_FINDING_NOTE);

  /* stopped, above a hard concentration maximum: a note too */
  rx = thecal_test_continuous_dose ("testdrug", 60 * MG_PER_ML, 5 * MG);
  rx.mode = THECAL_MODE_STOPPED;
  result = run_check (&rx, NULL, true, &model);
  ck_assert_int_eq (the_finding (result, THECAL_FINDING_CONCENTRATION)->severity, THECAL_FINDING_NOTE);

  /* stopped with no drug at all (thecal_prescription_init): nothing to say */
  thecal_prescription_init (&rx);
  result = run_check (&rx, NULL, true, &model);
  ck_assert_int_eq (result->n_findings, 0);
  ck_assert (result->plan_valid);
}
END_TEST

START_TEST (test_structure)
{
  ThecalPumpModel model = thecal_test_tr20 ();
  ThecalPrescription rx = thecal_test_continuous_dose ("morphine", 10 * MG_PER_ML, 5 * MG);
  ThecalPatientContext patient = { .opioid_tolerant = true };
  static ThecalCheckResult result;
  ThecalCheckResult *r;
  const ThecalFinding *f;

  /* flex steps with a gap (06:00-08:00): refused by the validator, reported as a finding */
  rx.mode = THECAL_MODE_FLEX;
  rx.n_flex_steps = 2;
  rx.flex_steps[0].start_min = 0;
  rx.flex_steps[0].duration_min = 6 * 60;
  rx.flex_steps[0].amount.dose_ng_per_day = 4 * MG;
  rx.flex_steps[1].start_min = 8 * 60;
  rx.flex_steps[1].duration_min = 16 * 60;
  rx.flex_steps[1].amount.dose_ng_per_day = 6 * MG;
  r = run_check (&rx, NULL, true, &model);
  f = expect_finding (r, THECAL_FINDING_STRUCTURE, THECAL_FINDING_REFUSED,
                      "flex_steps[0].duration", NULL, NULL,
                      NULL);
  ck_assert (strstr (f->message, "without a gap") != NULL);
  ck_assert (!r->plan_valid);

  /* overlapping steps */
  rx.flex_steps[1].start_min = 5 * 60;
  rx.flex_steps[1].duration_min = 19 * 60;
  r = run_check (&rx, NULL, true, &model);
  ck_assert_str_eq (the_finding (r, THECAL_FINDING_STRUCTURE)->field, "flex_steps[1].start");

  /* no prescription, no model, no result */
  thecal_check_prescription (NULL, NULL, &patient, &model, test_library (), &result);
  assert_well_formed (&result);
  ck_assert_int_eq (the_finding (&result, THECAL_FINDING_STRUCTURE)->severity, THECAL_FINDING_REFUSED);
  rx = thecal_test_continuous_dose ("morphine", 10 * MG_PER_ML, 5 * MG);
  thecal_check_prescription (&rx, NULL, &patient, NULL, test_library (), &result);
  assert_well_formed (&result);
  ck_assert_str_eq (the_finding (&result, THECAL_FINDING_STRUCTURE)->field, "pump model");
  ck_assert (!result.plan_valid);
  thecal_check_prescription (&rx, NULL, &patient, &model, test_library (), NULL);

  /* a bolus that rounds to no stroke at all: the plan refuses it */
  thecal_test_add_bolus (&rx, 0, 1, MIN_MS); /* 1 ng at 10 mg/mL = 0.0001 nL */
  r = run_check (&rx, NULL, true, &model);
  ck_assert_str_eq (the_finding (r, THECAL_FINDING_STRUCTURE)->field, "periodic_boluses[0].dose");
  ck_assert (!r->plan_valid);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Rates and boluses on the pump model                                                          */

START_TEST (test_rate_range)
{
  ThecalPumpModel model = thecal_test_tr20 ();
  ThecalPrescription rx;
  ThecalCheckResult *result;
  const ThecalFinding *f;

  /* exactly the range: nothing */
  rx = thecal_test_continuous_rate ("morphine", 25 * MG_PER_ML, 48000);
  result = run_check (&rx, NULL, true, &model);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_RATE_RANGE), 0);
  rx = thecal_test_continuous_rate ("morphine", 10 * MCG_PER_ML, 24 * ML);
  result = run_check (&rx, NULL, true, &model);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_RATE_RANGE), 0);

  /* one resolution step outside */
  rx = thecal_test_continuous_rate ("morphine", 25 * MG_PER_ML, 47000);
  result = run_check (&rx, NULL, true, &model);
  f = expect_finding (result, THECAL_FINDING_RATE_RANGE, THECAL_FINDING_REFUSED,
                      "continuous.rate", "0.047 mL/day", "0.048 mL/day (minimum rate of pump model TR-20)",
                      "The continuous rate runs at 0.047 mL/day, below the 0.048 mL/day minimum programmable rate of pump model TR-20.");
  ck_assert_str_eq (f->source, "");
  rx = thecal_test_continuous_rate ("morphine", 10 * MCG_PER_ML, 24 * ML + 1000);
  result = run_check (&rx, NULL, true, &model);
  f = the_finding (result, THECAL_FINDING_RATE_RANGE);
  ck_assert_str_eq (f->limit, "24 mL/day (maximum rate of pump model TR-20)");

  /* written as a dose: 1 mg/day at 25 mg/mL = 0.04 mL/day */
  rx = thecal_test_continuous_dose ("morphine", 25 * MG_PER_ML, 1 * MG);
  result = run_check (&rx, NULL, true, &model);
  ck_assert_str_eq (the_finding (result, THECAL_FINDING_RATE_RANGE)->field, "continuous.dose");

  /* flex: each step on its own; the last step wraps past midnight (two plan segments) and is
   * reported once */
  rx = thecal_test_continuous_dose ("morphine", 25 * MG_PER_ML, 5 * MG);
  rx.mode = THECAL_MODE_FLEX;
  rx.n_flex_steps = 3;
  rx.flex_steps[0] = (ThecalFlexStep){ .start_min = 6 * 60, .duration_min = 8 * 60, .amount = { .basis = THECAL_BASIS_DOSE, .dose_ng_per_day = 5 * MG } };
  rx.flex_steps[1] = (ThecalFlexStep){ .start_min = 14 * 60, .duration_min = 8 * 60, .amount = { .basis = THECAL_BASIS_RATE, .rate_nl_per_day = 30000 } };
  rx.flex_steps[2] = (ThecalFlexStep){ .start_min = 22 * 60, .duration_min = 8 * 60, .amount = { .basis = THECAL_BASIS_DOSE, .dose_ng_per_day = 1 * MG } };
  result = run_check (&rx, NULL, true, &model);
  ck_assert_int_eq (result->plan.n_segments, 4);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_RATE_RANGE), 2);
  f = nth_finding (result, THECAL_FINDING_RATE_RANGE, 0);
  ck_assert_str_eq (f->field, "flex_steps[1].rate");
  ck_assert_str_eq (f->message, "Flex step 2 (14:00) runs at 0.03 mL/day, below the 0.048 mL/day minimum programmable rate of pump model TR-20.");
  ck_assert_str_eq (nth_finding (result, THECAL_FINDING_RATE_RANGE, 1)->field, "flex_steps[2].dose");

  /* minimum-rate mode runs the model's own minimum rate: no range finding */
  rx = thecal_test_continuous_dose ("morphine", 25 * MG_PER_ML, 5 * MG);
  rx.mode = THECAL_MODE_MINIMUM_RATE;
  result = run_check (&rx, NULL, true, &model);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_RATE_RANGE), 0);
  ck_assert_int_eq (result->plan.segments[0].basal_rate_nl_per_day, 6000);
}
END_TEST

START_TEST (test_bolus_rate)
{
  ThecalPumpModel model = fine_model ();
  ThecalPrescription rx = thecal_test_continuous_dose ("morphine", 1 * MG_PER_ML, 5 * MG);
  ThecalCheckResult *result;
  const ThecalFinding *f;

  /* 0.5 mg at 1 mg/mL = 0.5 mL over 30 min = 1 mL/h: exactly the model's fastest bolus */
  thecal_test_add_bolus (&rx, 12 * 60, 500000, 30 * MIN_MS);
  result = run_check (&rx, NULL, true, &model);
  ck_assert (result->plan_valid);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_BOLUS_RATE), 0);

  /* one ms shorter: too fast. Reported once, as a bolus-rate finding (not also as structure). */
  rx.periodic_boluses[0].duration_ms = 30 * MIN_MS - 1;
  result = run_check (&rx, NULL, true, &model);
  ck_assert (!result->plan_valid);
  f = expect_finding (result, THECAL_FINDING_BOLUS_RATE, THECAL_FINDING_REFUSED,
                      "periodic_boluses[0].duration", NULL, "1 mL/h (maximum bolus rate of pump model FINE)",
                      NULL);
  ck_assert (strstr (f->message, "Periodic bolus 1 (12:00) needs ") == f->message);
  ck_assert (strstr (f->message, "lengthen its duration") != NULL);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_STRUCTURE), 0);

  /* PTM: 0.5 mL over 10 min = 3 mL/h */
  rx.periodic_boluses[0].duration_ms = 30 * MIN_MS;
  set_ptm (&rx, 500000, 2);
  rx.ptm.duration_ms = 10 * MIN_MS;
  result = run_check (&rx, NULL, true, &model);
  f = expect_finding (result, THECAL_FINDING_BOLUS_RATE, THECAL_FINDING_REFUSED,
                      "ptm.duration", "3 mL/h", NULL,
                      "The PTM bolus needs 3 mL/h, faster than the 1 mL/h maximum bolus rate of pump model FINE: lengthen its duration.");
  ck_assert_int_eq (count_code (result, THECAL_FINDING_STRUCTURE), 0);
}
END_TEST

START_TEST (test_rounding)
{
  ThecalPumpModel model = thecal_test_tr20 ();
  ThecalPrescription rx;
  ThecalCheckResult *result;
  const ThecalFinding *f;

  /* 5.001 mg/day at 10 mg/mL = 0.5001 mL/day → 0.5 mL/day (nearest 0.001) → 5 mg/day */
  rx = thecal_test_continuous_dose ("morphine", 10 * MG_PER_ML, 5001000);
  result = run_check (&rx, NULL, true, &model);
  f = expect_finding (result, THECAL_FINDING_ROUNDING, THECAL_FINDING_NOTE,
                      "continuous.dose", "5 mg/day (written 5.001 mg/day)", NULL,
                      "The continuous rate delivers 5 mg/day for the written 5.001 mg/day, because the rate is rounded to 0.5 mL/day (steps of 0.001 mL/day).");
  /* the plan, and so the daily-dose check, uses what is delivered */
  ck_assert_int_eq (result->plan.total_worst_ng_per_day, 5 * MG);

  /* written as a rate: 0.2004 mL/day → 0.2 mL/day */
  rx = thecal_test_continuous_rate ("morphine", 25 * MG_PER_ML, 200400);
  result = run_check (&rx, NULL, true, &model);
  f = expect_finding (result, THECAL_FINDING_ROUNDING, THECAL_FINDING_NOTE,
                      "continuous.rate", "0.2 mL/day (written 0.2004 mL/day)", NULL,
                      "The continuous rate runs at 0.2 mL/day for the written 0.2004 mL/day (steps of 0.001 mL/day), which delivers 5 mg/day.");

  /* exact: no note */
  rx = thecal_test_continuous_dose ("morphine", 25 * MG_PER_ML, 5 * MG);
  result = run_check (&rx, NULL, true, &model);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_ROUNDING), 0);

  /* periodic bolus: 0.5001 mg at 25 mg/mL = 20.004 µL → 80 strokes of 0.25 µL = 0.5 mg; PTM
   * 0.1001 mg = 4.004 µL → 16 strokes = 0.1 mg */
  thecal_test_add_bolus (&rx, 12 * 60, 500100, 30 * MIN_MS);
  set_ptm (&rx, 100100, 4);
  result = run_check (&rx, NULL, true, &model);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_ROUNDING), 2);
  f = nth_finding (result, THECAL_FINDING_ROUNDING, 0);
  ck_assert_str_eq (f->field, "periodic_boluses[0].dose");
  ck_assert_str_eq (f->value, "500 mcg (written 500.1 mcg)");
  ck_assert_str_eq (f->message, "Periodic bolus 1 (12:00) delivers 500 mcg for the written 500.1 mcg, because the pump moves whole strokes of 0.00025 mL.");
  f = nth_finding (result, THECAL_FINDING_ROUNDING, 1);
  ck_assert_str_eq (f->field, "ptm.dose");
  ck_assert_str_eq (f->value, "100 mcg (written 100.1 mcg)");

  /* flex: the note names the step */
  rx = thecal_test_continuous_dose ("morphine", 10 * MG_PER_ML, 5 * MG);
  rx.mode = THECAL_MODE_FLEX;
  rx.n_flex_steps = 2;
  rx.flex_steps[0] = (ThecalFlexStep){ .start_min = 0, .duration_min = 12 * 60, .amount = { .basis = THECAL_BASIS_DOSE, .dose_ng_per_day = 5 * MG } };
  rx.flex_steps[1] = (ThecalFlexStep){ .start_min = 12 * 60, .duration_min = 12 * 60, .amount = { .basis = THECAL_BASIS_DOSE, .dose_ng_per_day = 5001000 } };
  result = run_check (&rx, NULL, true, &model);
  ck_assert_str_eq (the_finding (result, THECAL_FINDING_ROUNDING)->field, "flex_steps[1].dose");
  ck_assert (strstr (the_finding (result, THECAL_FINDING_ROUNDING)->message, "Flex step 2 (12:00) delivers 5 mg/day") != NULL);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* PTM                                                                                          */

START_TEST (test_ptm)
{
  ThecalPumpModel model = fine_model ();
  ThecalPrescription rx;
  ThecalCheckResult *result;
  ThecalPatientContext unknown = { 0 };
  static ThecalCheckResult no_patient;
  const ThecalFinding *f;

  /* morphine PTM for an opioid-tolerant patient: permitted */
  rx = thecal_test_continuous_dose ("morphine", 1 * MG_PER_ML, 1 * MG);
  set_ptm (&rx, 100000, 4);
  result = run_check (&rx, NULL, true, &model);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_PTM_OPIOID_NAIVE) + count_code (result, THECAL_FINDING_PTM_NOT_PERMITTED), 0);

  /* ... refused for an opioid-naive patient (CLINICAL.md §1.8) */
  result = run_check (&rx, NULL, false, &model);
  f = expect_finding (result, THECAL_FINDING_PTM_OPIOID_NAIVE, THECAL_FINDING_REFUSED,
                      "ptm", NULL, NULL,
                      "PTM boluses of morphine, an opioid, are contraindicated in an opioid-naive patient.");
  ck_assert (strstr (f->source, "§1.8") != NULL);

  /* ... and for a patient whose status is not known (no context: naive, the safe default) */
  thecal_check_prescription (&rx, NULL, NULL, &model, test_library (), &no_patient);
  ck_assert_int_eq (count_code (&no_patient, THECAL_FINDING_PTM_OPIOID_NAIVE), 1);
  thecal_check_prescription (&rx, NULL, &unknown, &model, test_library (), &no_patient);
  ck_assert_int_eq (count_code (&no_patient, THECAL_FINDING_PTM_OPIOID_NAIVE), 1);

  /* baclofen: not permitted (confirmed) */
  rx = thecal_test_continuous_dose ("baclofen", 500 * MCG_PER_ML, 400 * MCG);
  set_ptm (&rx, 50 * MCG, 2);
  result = run_check (&rx, NULL, true, &model);
  f = expect_finding (result, THECAL_FINDING_PTM_NOT_PERMITTED, THECAL_FINDING_REFUSED,
                      NULL, NULL, "not permitted for baclofen",
                      "PTM boluses are not permitted for baclofen.");
  ck_assert_str_eq (f->source, "test: PTM of baclofen");
  ck_assert_int_eq (count_code (result, THECAL_FINDING_PTM_OPIOID_NAIVE), 0); /* not an opioid */

  /* HYDROmorphone: not permitted by an unconfirmed decision, and an opioid for a naive patient */
  rx = thecal_test_continuous_dose ("hydromorphone", 2 * MG_PER_ML, 1 * MG);
  set_ptm (&rx, 50 * MCG, 2);
  result = run_check (&rx, NULL, false, &model);
  ck_assert_str_eq (the_finding (result, THECAL_FINDING_PTM_NOT_PERMITTED)->limit, "not permitted for HYDROmorphone (source unconfirmed)");
  ck_assert_int_eq (count_code (result, THECAL_FINDING_PTM_OPIOID_NAIVE), 1);

  /* test drug: permitted, but only by an unconfirmed source → a note */
  rx = thecal_test_continuous_dose ("testdrug", 1 * MG_PER_ML, 1 * MG);
  set_ptm (&rx, 500000, 2);
  result = run_check (&rx, NULL, true, &model);
  f = expect_finding (result, THECAL_FINDING_UNCONFIRMED_SOURCE, THECAL_FINDING_NOTE,
                      "ptm", NULL, NULL,
                      NULL);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_PTM_DOSE), 0); /* 0.5 mg: at the limit */

  /* PTM dose limit 0.5 mg (soft): one ng above */
  rx.ptm.dose_ng = 500001;
  result = run_check (&rx, NULL, true, &model);
  f = expect_finding (result, THECAL_FINDING_PTM_DOSE, THECAL_FINDING_OVERRIDE,
                      "ptm.dose", "500.001 mcg", "500 mcg per PTM bolus (soft limit, Test clinic, source unconfirmed)",
                      "A PTM bolus of 500.001 mcg is above the 500 mcg soft limit per PTM bolus for TESTdrug.");
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Per-step increase and drug change                                                            */

START_TEST (test_step_increase)
{
  ThecalPumpModel model = fine_model ();
  ThecalPrescription current = thecal_test_continuous_dose ("morphine", 1 * MG_PER_ML, 10 * MG);
  ThecalPrescription rx;
  ThecalCheckResult *result;
  const ThecalFinding *f;

  /* +30 % exactly: (13 − 10) × 10 000 = 30 000 = 3 000 × 10: not above */
  rx = thecal_test_continuous_dose ("morphine", 1 * MG_PER_ML, 13 * MG);
  result = run_check (&rx, &current, true, &model);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_STEP_INCREASE), 0);

  /* one ng/day more: 30 000 010 000 > 30 000 000 000 */
  rx = thecal_test_continuous_dose ("morphine", 1 * MG_PER_ML, 13 * MG + 1);
  result = run_check (&rx, &current, true, &model);
  f = expect_finding (result, THECAL_FINDING_STEP_INCREASE, THECAL_FINDING_OVERRIDE,
                      "daily dose", "13.000001 mg/day (+30 %)",
                      "30 % per step (soft limit, Deer 2007, source unconfirmed)",
                      "Daily dose rises from 10 mg/day to 13.000001 mg/day (+30 %), above the 30 % per-step soft limit for morphine.");

  /* decreases are never limited */
  rx = thecal_test_continuous_dose ("morphine", 1 * MG_PER_ML, 1 * MG);
  result = run_check (&rx, &current, true, &model);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_STEP_INCREASE), 0);

  /* the comparison is worst case against worst case: adding 4 PTM boluses of 0.5 mg to the same
   * basal is +20 % (no finding), 8 of them +40 % */
  rx = thecal_test_continuous_dose ("morphine", 1 * MG_PER_ML, 10 * MG);
  set_ptm (&rx, 500000, 4);
  result = run_check (&rx, &current, true, &model);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_STEP_INCREASE), 0);
  rx.ptm.max_per_24h = 8;
  result = run_check (&rx, &current, true, &model);
  f = the_finding (result, THECAL_FINDING_STEP_INCREASE);
  ck_assert_str_eq (f->message,
                    "Worst-case daily dose rises from 10 mg/day to 14 mg/day (+40 %), above the 30 % per-step soft limit for morphine.");

  /* absolute, hard: ziconotide +2.4 mcg/day at 1-ng resolution (25 mcg/mL) */
  current = thecal_test_continuous_dose ("ziconotide", 25 * MCG_PER_ML, 2400);
  rx = thecal_test_continuous_dose ("ziconotide", 25 * MCG_PER_ML, 4800);
  result = run_check (&rx, &current, true, &model);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_STEP_INCREASE), 0);
  rx = thecal_test_continuous_dose ("ziconotide", 25 * MCG_PER_ML, 4801);
  result = run_check (&rx, &current, true, &model);
  f = expect_finding (result, THECAL_FINDING_STEP_INCREASE, THECAL_FINDING_REFUSED,
                      NULL, "4.801 mcg/day (+2.401 mcg/day)", NULL,
                      NULL);

  /* the current pump is stopped: nothing to compare with → a note */
  current = thecal_test_continuous_dose ("morphine", 1 * MG_PER_ML, 10 * MG);
  current.mode = THECAL_MODE_STOPPED;
  rx = thecal_test_continuous_dose ("morphine", 1 * MG_PER_ML, 13 * MG + 1);
  result = run_check (&rx, &current, true, &model);
  f = expect_finding (result, THECAL_FINDING_STEP_INCREASE, THECAL_FINDING_NOTE,
                      NULL, NULL, NULL,
                      "There is no current daily dose of morphine to compare with, so the per-step limit was not applied.");

  /* no current prescription given: no step finding */
  result = run_check (&rx, NULL, true, &model);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_STEP_INCREASE), 0);

  /* the current prescription cannot be resolved: fail closed with the strictest step limit */
  current = thecal_test_continuous_dose ("morphine", 1 * MG_PER_ML, 0);
  result = run_check (&rx, &current, true, &model);
  f = the_finding (result, THECAL_FINDING_STEP_INCREASE);
  ck_assert_int_eq (f->severity, THECAL_FINDING_OVERRIDE);
  ck_assert (strstr (f->message, "cannot be resolved") != NULL);
  current = thecal_test_continuous_dose ("ziconotide", 25 * MCG_PER_ML, 0);
  rx = thecal_test_continuous_dose ("ziconotide", 25 * MCG_PER_ML, 2400);
  result = run_check (&rx, &current, true, &model);
  ck_assert_int_eq (the_finding (result, THECAL_FINDING_STEP_INCREASE)->severity, THECAL_FINDING_REFUSED);
}
END_TEST

START_TEST (test_drug_change)
{
  ThecalPumpModel model = thecal_test_tr20 ();
  ThecalPrescription current = thecal_test_continuous_dose ("morphine", 10 * MG_PER_ML, 10 * MG);
  ThecalPrescription rx;
  ThecalCheckResult *result;
  const ThecalFinding *f;

  /* another drug: a note; doses of different drugs are not compared */
  rx = thecal_test_continuous_dose ("hydromorphone", 2 * MG_PER_ML, 8 * MG);
  result = run_check (&rx, &current, true, &model);
  f = expect_finding (result, THECAL_FINDING_DRUG_CHANGE, THECAL_FINDING_NOTE,
                      "drug", "HYDROmorphone 2 mg/mL", "current: morphine 10 mg/mL",
                      "The drug changes from morphine 10 mg/mL to HYDROmorphone 2 mg/mL: the pump needs a refill and a bridge bolus so the old drug in the pump and catheter is delivered at the new rate.");
  ck_assert (strstr (f->message, "bridge bolus") != NULL);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_STEP_INCREASE), 0);

  /* same drug, another concentration: a note on the concentration, and the step is compared
   * (10 → 14 mg/day is +40 %) */
  rx = thecal_test_continuous_dose ("morphine", 25 * MG_PER_ML, 14 * MG);
  result = run_check (&rx, &current, true, &model);
  f = expect_finding (result, THECAL_FINDING_DRUG_CHANGE, THECAL_FINDING_NOTE,
                      "concentration", "25 mg/mL", "current: 10 mg/mL",
                      "The concentration of morphine changes from 10 mg/mL to 25 mg/mL: the pump needs a refill and a bridge bolus so the old solution in the pump and catheter is delivered at the new rate.");
  ck_assert_int_eq (count_code (result, THECAL_FINDING_STEP_INCREASE), 1);

  /* the same drug and concentration: no note */
  rx = thecal_test_continuous_dose ("morphine", 10 * MG_PER_ML, 11 * MG);
  result = run_check (&rx, &current, true, &model);
  ck_assert_int_eq (count_code (result, THECAL_FINDING_DRUG_CHANGE), 0);
  ck_assert_int_eq (result->n_findings, 0);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Ordering, names, every code                                                                  */

START_TEST (test_ordering)
{
  /* morphine 25 mg/mL, 1.0001 mg/day for an opioid-naive patient with PTM 0.1 mg × 4 on TR-20:
   *   continuous.dose: 1.0001 mg/day = 0.040004 mL/day → 0.04 mL/day (1 mg/day): below 0.048
   *     → refused (rate_range), and a rounding note
   *   ptm: opioid for an opioid-naive patient → refused
   *   concentration 25 > 20 mg/mL → override
   *   daily dose 1 + 0.4 = 1.4 mg/day > 1 mg/day (naive) → override
   * Most severe first, then in the order of the fields. */
  ThecalPumpModel model = thecal_test_tr20 ();
  ThecalPrescription rx = thecal_test_continuous_dose ("morphine", 25 * MG_PER_ML, 1000100);
  static const ThecalFindingCode expected[] = {
    THECAL_FINDING_RATE_RANGE,
    THECAL_FINDING_PTM_OPIOID_NAIVE,
    THECAL_FINDING_CONCENTRATION,
    THECAL_FINDING_DAILY_DOSE,
    THECAL_FINDING_ROUNDING,
  };
  ThecalCheckResult *result;

  set_ptm (&rx, 100000, 4);
  result = run_check (&rx, NULL, false, &model);
  ck_assert_int_eq (result->n_findings, (int) (sizeof expected / sizeof expected[0]));
  for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
    ck_assert_msg (result->findings[i].code == expected[i], "finding %zu is %s, expected %s", i,
                   thecal_finding_code_name (result->findings[i].code), thecal_finding_code_name (expected[i]));
  ck_assert_int_eq (count_severity (result, THECAL_FINDING_REFUSED), 2);
  ck_assert_int_eq (count_severity (result, THECAL_FINDING_OVERRIDE), 2);
  ck_assert_int_eq (count_severity (result, THECAL_FINDING_NOTE), 1);
  ck_assert_int_eq (result->worst, THECAL_FINDING_REFUSED);
  ck_assert_int_eq (result->plan.total_worst_ng_per_day, 1400000);
}
END_TEST

START_TEST (test_names)
{
  static const char *const codes[] = {
    [THECAL_FINDING_STRUCTURE] = "structure",
    [THECAL_FINDING_UNKNOWN_DRUG] = "unknown_drug",
    [THECAL_FINDING_CONCENTRATION] = "concentration",
    [THECAL_FINDING_UNLABELED_CONCENTRATION] = "unlabeled_concentration",
    [THECAL_FINDING_RATE_RANGE] = "rate_range",
    [THECAL_FINDING_BOLUS_RATE] = "bolus_rate",
    [THECAL_FINDING_DAILY_DOSE] = "daily_dose",
    [THECAL_FINDING_STEP_INCREASE] = "step_increase",
    [THECAL_FINDING_PTM_NOT_PERMITTED] = "ptm_not_permitted",
    [THECAL_FINDING_PTM_OPIOID_NAIVE] = "ptm_opioid_naive",
    [THECAL_FINDING_PTM_DOSE] = "ptm_dose",
    [THECAL_FINDING_DRUG_CHANGE] = "drug_change",
    [THECAL_FINDING_ROUNDING] = "rounding",
    [THECAL_FINDING_UNCONFIRMED_SOURCE] = "unconfirmed_source",
  };

  ck_assert_int_eq (sizeof codes / sizeof codes[0], THECAL_FINDING_N_CODES);
  for (int code = 0; code < THECAL_FINDING_N_CODES; code++)
    ck_assert_str_eq (thecal_finding_code_name ((ThecalFindingCode) code), codes[code]);
  ck_assert_str_eq (thecal_finding_code_name (THECAL_FINDING_N_CODES), "unknown");
  ck_assert_str_eq (thecal_finding_severity_name (THECAL_FINDING_REFUSED), "refused");
  ck_assert_str_eq (thecal_finding_severity_name (THECAL_FINDING_OVERRIDE), "override");
  ck_assert_str_eq (thecal_finding_severity_name (THECAL_FINDING_NOTE), "note");
  ck_assert_str_eq (thecal_finding_severity_name ((ThecalFindingSeverity) 42), "unknown");
}
END_TEST

/* Each code is produced by at least one test above; this gathers them to prove none is missed. */
START_TEST (test_every_code_reachable)
{
  ThecalPumpModel tr = thecal_test_tr20 (), fine = fine_model ();
  bool seen[THECAL_FINDING_N_CODES] = { false };
  ThecalPrescription rx, current;
  ThecalCheckResult *result;

#define SEE(r)                                     \
  for (int32_t i_ = 0; i_ < (r)->n_findings; i_++) \
  seen[(r)->findings[i_].code] = true

  rx = thecal_test_continuous_dose ("morphine", 10 * MG_PER_ML, 5 * MG);
  rx.mode = THECAL_MODE_FLEX; /* no steps: structure */
  result = run_check (&rx, NULL, true, &tr);
  SEE (result);
  rx = thecal_test_continuous_dose ("oxycodone", 10 * MG_PER_ML, 5 * MG);
  result = run_check (&rx, NULL, true, &tr);
  SEE (result);
  /* concentration, unlabeled, rate range, rounding, ptm naive, daily dose, drug change */
  current = thecal_test_continuous_dose ("morphine", 10 * MG_PER_ML, 1 * MG);
  rx = thecal_test_continuous_dose ("morphine", 25 * MG_PER_ML, 1000100);
  set_ptm (&rx, 100000, 4);
  result = run_check (&rx, &current, false, &tr);
  SEE (result);
  rx = thecal_test_continuous_dose ("morphine", 20 * MG_PER_ML, 1 * MG);
  result = run_check (&rx, NULL, true, &tr);
  SEE (result);
  /* step increase */
  rx = thecal_test_continuous_dose ("morphine", 10 * MG_PER_ML, 5 * MG);
  result = run_check (&rx, &current, true, &tr);
  SEE (result);
  /* bolus rate */
  thecal_test_add_bolus (&rx, 0, 10 * MG, MIN_MS); /* 1 mL over 1 min */
  result = run_check (&rx, NULL, true, &tr);
  SEE (result);
  /* PTM not permitted */
  rx = thecal_test_continuous_dose ("baclofen", 500 * MCG_PER_ML, 400 * MCG);
  set_ptm (&rx, 50 * MCG, 2);
  result = run_check (&rx, NULL, true, &tr);
  SEE (result);
  /* PTM dose and unconfirmed source */
  rx = thecal_test_continuous_dose ("testdrug", 1 * MG_PER_ML, 1 * MG);
  set_ptm (&rx, 600000, 2);
  result = run_check (&rx, NULL, true, &fine);
  SEE (result);
#undef SEE

  for (int code = 0; code < THECAL_FINDING_N_CODES; code++)
    ck_assert_msg (seen[code], "finding %s never produced", thecal_finding_code_name ((ThecalFindingCode) code));
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Dropping: white-box                                                                          */

/* No prescription produces more than THECAL_FINDINGS_MAX findings with the present checks (each
 * limit gives at most one, each flex step and bolus at most two), so the dropping rule is tested
 * on the check's own insertion function: thecal-check.c is compiled into this test once more,
 * with its public functions renamed so that they do not clash with the library's. */
void white_box_check_prescription (const ThecalPrescription *rx,
                                   const ThecalPrescription *current,
                                   const ThecalPatientContext *patient,
                                   const ThecalPumpModel *model,
                                   const ThecalDrugLibrary *library,
                                   ThecalCheckResult *result);
const char *white_box_finding_severity_name (ThecalFindingSeverity severity);
const char *white_box_finding_code_name (ThecalFindingCode code);
#define thecal_check_prescription white_box_check_prescription
#define thecal_finding_severity_name white_box_finding_severity_name
#define thecal_finding_code_name white_box_finding_code_name
#include "../../src/dose/thecal-check.c"
#undef thecal_check_prescription
#undef thecal_finding_severity_name
#undef thecal_finding_code_name

START_TEST (test_drop_count)
{
  static ThecalCheckResult result;

  memset (&result, 0, sizeof result);
  result.worst = THECAL_FINDING_NOTE;

  /* 70 notes: the first 64 are kept in order, 6 dropped */
  for (int i = 0; i < 70; i++)
    finding_add (&result, THECAL_FINDING_NOTE, THECAL_FINDING_ROUNDING, "f", "", "", "", "note %d", i);
  ck_assert_int_eq (result.n_findings, THECAL_FINDINGS_MAX);
  ck_assert_int_eq (result.n_dropped, 6);
  ck_assert_int_eq (result.worst, THECAL_FINDING_NOTE);
  ck_assert_str_eq (result.findings[0].message, "note 0");
  ck_assert_str_eq (result.findings[63].message, "note 63");

  /* a refusal arriving into a full table takes the place of the last note */
  finding_add (&result, THECAL_FINDING_REFUSED, THECAL_FINDING_DAILY_DOSE, "daily dose", "", "", "", "refused %d", 0);
  ck_assert_int_eq (result.n_findings, THECAL_FINDINGS_MAX);
  ck_assert_int_eq (result.n_dropped, 7);
  ck_assert_int_eq (result.worst, THECAL_FINDING_REFUSED);
  ck_assert_str_eq (result.findings[0].message, "refused 0");
  ck_assert_str_eq (result.findings[1].message, "note 0");
  ck_assert_str_eq (result.findings[63].message, "note 62");

  /* an override goes after the refusal and before the notes */
  finding_add (&result, THECAL_FINDING_OVERRIDE, THECAL_FINDING_CONCENTRATION, "concentration", "", "", "", "override %d", 0);
  ck_assert_int_eq (result.n_dropped, 8);
  ck_assert_str_eq (result.findings[1].message, "override 0");
  ck_assert_str_eq (result.findings[2].message, "note 0");

  /* 69 more refusals: they fill the table in their order, pushing out the 62 notes and the
   * override (63 drops); the last 6 find no room (6 drops) */
  for (int i = 1; i < 70; i++)
    finding_add (&result, THECAL_FINDING_REFUSED, THECAL_FINDING_DAILY_DOSE, "daily dose", "", "", "", "refused %d", i);
  ck_assert_int_eq (result.n_findings, THECAL_FINDINGS_MAX);
  ck_assert_int_eq (result.n_dropped, 8 + 69);
  for (int i = 0; i < THECAL_FINDINGS_MAX; i++)
    {
      char expected[32];

      snprintf (expected, sizeof expected, "refused %d", i);
      ck_assert_str_eq (result.findings[i].message, expected);
    }
  /* a note into a table full of refusals is dropped; worst stays refused */
  finding_add (&result, THECAL_FINDING_NOTE, THECAL_FINDING_ROUNDING, "f", "", "", "", "late note");
  ck_assert_int_eq (result.n_dropped, 8 + 69 + 1);
  ck_assert_int_eq (result.worst, THECAL_FINDING_REFUSED);

  /* long texts are cut to their fields, never overflow */
  {
    char longer[1024];

    memset (&result, 0, sizeof result);
    memset (longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    finding_add (&result, THECAL_FINDING_NOTE, THECAL_FINDING_ROUNDING, longer, longer, longer, longer, "%s", longer);
    ck_assert_uint_eq (strlen (result.findings[0].field), THECAL_ERROR_FIELD_MAX - 1);
    ck_assert_uint_eq (strlen (result.findings[0].value), THECAL_FINDING_VALUE_MAX - 1);
    ck_assert_uint_eq (strlen (result.findings[0].limit), THECAL_FINDING_VALUE_MAX - 1);
    ck_assert_uint_eq (strlen (result.findings[0].source), THECAL_SOURCE_MAX - 1);
    ck_assert_uint_eq (strlen (result.findings[0].message), THECAL_FINDING_TEXT_MAX - 1);
  }
}
END_TEST

START_TEST (test_source_label)
{
  char label[48];

  source_label ("PACC 2017: Deer et al.", label, sizeof label);
  ck_assert_str_eq (label, "PACC 2017");
  source_label ("https://example.org/x: y", label, sizeof label); /* "://" is not ": " */
  ck_assert_str_eq (label, "https://example.org/x");
  source_label ("no label here", label, sizeof label);
  ck_assert_str_eq (label, "");
  source_label ("a label that is far too long to be shown in a limit text: x", label, sizeof label);
  ck_assert_str_eq (label, "");
  source_label (": empty label", label, sizeof label);
  ck_assert_str_eq (label, "");
}
END_TEST

static Suite *
check_suite (void)
{
  Suite *suite = suite_create ("check");
  TCase *tc;

  tc = tcase_create ("worked-examples");
  tcase_add_test (tc, test_worked_example_morphine);
  tcase_add_test (tc, test_worked_example_ptm);
  tcase_add_test (tc, test_worked_example_ziconotide);
  suite_add_tcase (suite, tc);

  tc = tcase_create ("limits");
  tcase_add_test (tc, test_daily_dose_boundaries);
  tcase_add_test (tc, test_daily_dose_counts_boluses);
  tcase_add_test (tc, test_concentration_limits);
  tcase_add_test (tc, test_unlabeled_concentration);
  tcase_add_test (tc, test_unknown_drug);
  tcase_add_test (tc, test_structure);
  suite_add_tcase (suite, tc);

  tc = tcase_create ("model");
  tcase_add_test (tc, test_rate_range);
  tcase_add_test (tc, test_bolus_rate);
  tcase_add_test (tc, test_rounding);
  suite_add_tcase (suite, tc);

  tc = tcase_create ("ptm");
  tcase_add_test (tc, test_ptm);
  suite_add_tcase (suite, tc);

  tc = tcase_create ("current");
  tcase_add_test (tc, test_step_increase);
  tcase_add_test (tc, test_drug_change);
  suite_add_tcase (suite, tc);

  tc = tcase_create ("result");
  tcase_add_test (tc, test_ordering);
  tcase_add_test (tc, test_names);
  tcase_add_test (tc, test_every_code_reachable);
  tcase_add_test (tc, test_drop_count);
  tcase_add_test (tc, test_source_label);
  suite_add_tcase (suite, tc);
  return suite;
}

THECAL_TEST_MAIN (check_suite)
