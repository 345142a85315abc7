/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * bench-dose.c: how fast the dose core answers, and that its cost does not grow with the time
 * span asked about. Run by build-aux/run-bench; figures go to docs/benchmarks.md.
 *
 *   quantity parse / format        operations per second over a mix of real inputs
 *   prescription check             13-step flex + 4 periodic boluses + PTM, checks per second
 *   volume between two instants    1 day, 1 year, 10 years, 100 years: time per call
 *   reservoir projection           0.048 mL/day (833 days) vs 1 mL/day (20 days): time per call
 *
 * Timing uses CLOCK_MONOTONIC; every figure is integer nanoseconds (no floating point).
 */
#include "config.h"

#include "thecal-check.h"
#include "thecal-dose-json.h"
#include "thecal-quantity.h"
#include "thecal-refill.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * INT64_C (1000000000) + ts.tv_nsec;
}

static char *
read_data_file (const char *name, size_t *length)
{
  const char *dir = getenv ("THECAL_DATA_DIR");
  char path[4096];
  FILE *file;
  char *text;
  long size;

  snprintf (path, sizeof path, "%s/%s", dir != NULL ? dir : THECAL_PKGDATADIR, name);
  file = fopen (path, "rb");
  if (file == NULL)
    {
      fprintf (stderr, "bench-dose: cannot open %s (set THECAL_DATA_DIR)\n", path);
      exit (3);
    }
  fseek (file, 0, SEEK_END);
  size = ftell (file);
  fseek (file, 0, SEEK_SET);
  text = malloc ((size_t) size + 1);
  if (text == NULL || fread (text, 1, (size_t) size, file) != (size_t) size)
    {
      fprintf (stderr, "bench-dose: cannot read %s\n", path);
      exit (3);
    }
  text[size] = '\0';
  fclose (file);
  *length = (size_t) size;
  return text;
}

static void
report (const char *what, int64_t iterations, int64_t elapsed_ns)
{
  int64_t per_op = elapsed_ns / (iterations > 0 ? iterations : 1);
  int64_t per_second = elapsed_ns > 0 ? iterations * INT64_C (1000000000) / elapsed_ns : 0;

  printf ("%-48s %12" PRId64 " ns/op %14" PRId64 " op/s\n", what, per_op, per_second);
}

static void
bench_quantities (void)
{
  static const struct
  {
    ThecalQuantityKind kind;
    const char *text;
  } inputs[] = {
    { THECAL_QUANTITY_CONCENTRATION, "25 mg/mL" },
    { THECAL_QUANTITY_DOSE_RATE, "0.5 mcg/day" },
    { THECAL_QUANTITY_VOLUME_RATE, "0.048 mL/day" },
    { THECAL_QUANTITY_VOLUME, "1.5 mL" },
    { THECAL_QUANTITY_DURATION, "90 min" },
    { THECAL_QUANTITY_TIME_OF_DAY, "08:30" },
    { THECAL_QUANTITY_DOSE_RATE, "19.2 mcg/day" },
    { THECAL_QUANTITY_AMOUNT, "0.125 mg" },
  };
  const int64_t rounds = 200000;
  int64_t start, sink = 0;
  char buf[THECAL_QUANTITY_TEXT_MAX];

  start = now_ns ();
  for (int64_t i = 0; i < rounds; i++)
    for (size_t j = 0; j < sizeof inputs / sizeof inputs[0]; j++)
      {
        int64_t value = 0;

        if (!thecal_quantity_parse (inputs[j].kind, inputs[j].text, "bench", &value, NULL))
          {
            fprintf (stderr, "bench-dose: cannot parse %s\n", inputs[j].text);
            exit (1);
          }
        sink += value;
      }
  report ("quantity parse", rounds * 8, now_ns () - start);

  start = now_ns ();
  for (int64_t i = 0; i < rounds * 8; i++)
    sink += (int64_t) strlen (thecal_quantity_format (THECAL_QUANTITY_DOSE_RATE, 1000 + i, buf, sizeof buf));
  report ("quantity format", rounds * 8, now_ns () - start);

  if (sink == 42)
    puts ("");
}

static void
make_flex (ThecalPrescription *rx)
{
  thecal_prescription_init (rx);
  snprintf (rx->drug_id, sizeof rx->drug_id, "morphine");
  rx->concentration_ng_per_ml = 20 * THECAL_NG_PER_MG;
  rx->mode = THECAL_MODE_FLEX;
  rx->n_flex_steps = THECAL_FLEX_STEPS_MAX;
  for (int32_t i = 0; i < THECAL_FLEX_STEPS_MAX; i++)
    {
      int32_t start = i * 110;

      rx->flex_steps[i].start_min = start;
      rx->flex_steps[i].duration_min = (i == THECAL_FLEX_STEPS_MAX - 1) ? THECAL_MINUTES_PER_DAY - start : 110;
      rx->flex_steps[i].amount.basis = THECAL_BASIS_DOSE;
      rx->flex_steps[i].amount.dose_ng_per_day = (3 + i % 4) * THECAL_NG_PER_MG;
    }
  rx->n_periodic_boluses = 4;
  for (int32_t i = 0; i < 4; i++)
    {
      rx->periodic_boluses[i].start_min = 60 + i * 360;
      rx->periodic_boluses[i].dose_ng = 100 * THECAL_NG_PER_MCG;
      rx->periodic_boluses[i].duration_ms = 10 * THECAL_MS_PER_MINUTE;
    }
  rx->ptm.enabled = true;
  rx->ptm.dose_ng = 100 * THECAL_NG_PER_MCG;
  rx->ptm.duration_ms = 10 * THECAL_MS_PER_MINUTE;
  rx->ptm.lockout_ms = 3 * THECAL_MS_PER_HOUR;
  rx->ptm.max_per_24h = 4;
}

int
main (void)
{
  static ThecalDrugLibrary library;
  static ThecalPumpModelSet models;
  static ThecalCheckResult result;
  ThecalPrescription rx;
  ThecalPatientContext patient = { .opioid_tolerant = true };
  ThecalDoseError error = { 0 };
  const ThecalPumpModel *model;
  size_t length;
  char *text;
  int64_t start;
  const int64_t checks = 20000;

  text = read_data_file ("drug-library.json", &length);
  if (!thecal_drug_library_load_json (text, length, &library, &error))
    {
      fprintf (stderr, "bench-dose: drug library: %s: %s\n", error.field, error.message);
      return 1;
    }
  free (text);
  text = read_data_file ("pump-models.json", &length);
  if (!thecal_pump_models_load_json (text, length, &models, &error))
    {
      fprintf (stderr, "bench-dose: pump models: %s: %s\n", error.field, error.message);
      return 1;
    }
  free (text);
  model = thecal_pump_model_set_find (&models, "TR-40");
  if (model == NULL)
    {
      fprintf (stderr, "bench-dose: no TR-40 model\n");
      return 1;
    }

  bench_quantities ();

  make_flex (&rx);
  start = now_ns ();
  for (int64_t i = 0; i < checks; i++)
    thecal_check_prescription (&rx, NULL, &patient, model, &library, &result);
  report ("check: 13-step flex + 4 boluses + PTM", checks, now_ns () - start);
  if (!result.plan_valid)
    {
      fprintf (stderr, "bench-dose: the benchmark prescription did not resolve\n");
      return 1;
    }

  {
    static const struct
    {
      const char *what;
      int64_t days;
    } spans[] = {
      { "volume between: 1 day", 1 },
      { "volume between: 1 year", 365 },
      { "volume between: 10 years", 3652 },
      { "volume between: 100 years", 36524 },
    };
    const int64_t calls = 200000;

    for (size_t s = 0; s < sizeof spans / sizeof spans[0]; s++)
      {
        int64_t volume_nl = 0, sink = 0;

        start = now_ns ();
        for (int64_t i = 0; i < calls; i++)
          {
            int64_t t0 = (i % 1000) * 7 * THECAL_MS_PER_MINUTE;

            if (!thecal_delivery_plan_volume_between (&result.plan, t0, t0 + spans[s].days * THECAL_MS_PER_DAY + 12345, &volume_nl, &error))
              {
                fprintf (stderr, "bench-dose: %s\n", error.message);
                return 1;
              }
            sink += volume_nl;
          }
        report (spans[s].what, calls, now_ns () - start);
        if (sink == 42)
          puts ("");
      }
  }

  {
    static const struct
    {
      const char *what;
      int64_t rate_nl_per_day;
    } rates[] = {
      { "projection: 40 mL at 1 mL/day (~38 days)", 1000000 },
      { "projection: 40 mL at 0.048 mL/day (~2.2 years)", 48000 },
    };
    const int64_t calls = 200000;

    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++)
      {
        ThecalPrescription continuous;
        ThecalDeliveryPlan plan;
        ThecalProjection projection;

        thecal_prescription_init (&continuous);
        snprintf (continuous.drug_id, sizeof continuous.drug_id, "morphine");
        continuous.concentration_ng_per_ml = 10 * THECAL_NG_PER_MG;
        continuous.mode = THECAL_MODE_CONTINUOUS;
        continuous.continuous.basis = THECAL_BASIS_RATE;
        continuous.continuous.rate_nl_per_day = rates[r].rate_nl_per_day;
        if (!thecal_delivery_plan_resolve (&continuous, model, &plan, &error))
          {
            fprintf (stderr, "bench-dose: %s\n", error.message);
            return 1;
          }
        start = now_ns ();
        for (int64_t i = 0; i < calls; i++)
          if (!thecal_project_reservoir (model, &plan, 40 * THECAL_NL_PER_ML, i * 1000, 90, &projection, &error))
            {
              fprintf (stderr, "bench-dose: %s\n", error.message);
              return 1;
            }
        report (rates[r].what, calls, now_ns () - start);
      }
  }
  return 0;
}
