/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * bench-engine.c: simulated patient-years per second per core of the reference pump engine
 * (DESIGN.md target: ≥ 1 000 with flex dosing and PTM use), and the cost against the simulated
 * duration, which grows with the events (presses, boluses, refills, alarms), not with the strokes.
 * Run by build-aux/run-bench; figures go to docs/benchmarks.md and docs/engine.md.
 *
 *   (a) continuous 5 mg/day (0.2 mL/day of 25 mg/mL), a refill every 80 days
 *   (b) 13-step flex, 4 PTM presses a day (one inside the lockout, refused), a refill every 50 days
 *   (c) (b) with stroke-level output (a callback for every stroke instant)
 *   cost against duration: (a) and (b) over 1, 10 and 100 simulated years
 *
 * A "patient-year" includes everything a clinic does: refills on schedule, and a new pump (a new
 * engine) when the old one raises ERI. Timing uses CLOCK_MONOTONIC; every figure is an integer.
 */
#include "config.h"

#include "thecal-dose-json.h"
#include "thecal-engine.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY THECAL_MS_PER_DAY
#define HOUR THECAL_MS_PER_HOUR
#define ML THECAL_NL_PER_ML
#define MG THECAL_NG_PER_MG
#define T0 (INT64_C (20393) * DAY)
#define CONC (25 * MG)

typedef enum
{
  SCENARIO_CONTINUOUS,
  SCENARIO_FLEX_PTM,
} Scenario;

static int64_t
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * INT64_C (1000000000) + ts.tv_nsec;
}

static void
die (const char *what, const ThecalDoseError *error)
{
  fprintf (stderr, "bench-engine: %s: %s %s\n", what, error->field, error->message);
  exit (1);
}

static const ThecalPumpModel *
load_model (ThecalPumpModelSet *set)
{
  const char *dir = getenv ("THECAL_DATA_DIR");
  char path[4096];
  static char text[1 << 16];
  ThecalDoseError error;
  const ThecalPumpModel *model;
  FILE *file;
  size_t length;

  snprintf (path, sizeof path, "%s/pump-models.json", dir != NULL ? dir : THECAL_PKGDATADIR);
  file = fopen (path, "rb");
  if (file == NULL)
    {
      fprintf (stderr, "bench-engine: cannot open %s (set THECAL_DATA_DIR)\n", path);
      exit (3);
    }
  length = fread (text, 1, sizeof text - 1, file);
  fclose (file);
  memset (&error, 0, sizeof error);
  if (!thecal_pump_models_load_json (text, length, set, &error))
    die ("pump models", &error);
  model = thecal_pump_model_set_find (set, "TR-20");
  if (model == NULL)
    {
      fprintf (stderr, "bench-engine: no TR-20 model\n");
      exit (1);
    }
  return model;
}

static void
prescription (Scenario scenario, ThecalPrescription *rx)
{
  thecal_prescription_init (rx);
  snprintf (rx->drug_id, sizeof rx->drug_id, "morphine");
  rx->concentration_ng_per_ml = CONC;
  if (scenario == SCENARIO_CONTINUOUS)
    {
      rx->mode = THECAL_MODE_CONTINUOUS;
      rx->continuous.basis = THECAL_BASIS_DOSE;
      rx->continuous.dose_ng_per_day = 5 * MG;
      return;
    }
  /* 13 steps over the day (111 or 110 min each), 3 to 9 mg/day */
  rx->mode = THECAL_MODE_FLEX;
  rx->n_flex_steps = 13;
  for (int32_t i = 0, at = 0; i < 13; i++)
    {
      int32_t length = i < 10 ? 111 : 110;

      rx->flex_steps[i].start_min = at;
      rx->flex_steps[i].duration_min = length;
      rx->flex_steps[i].amount.basis = THECAL_BASIS_DOSE;
      rx->flex_steps[i].amount.dose_ng_per_day = (3 + (i * 5) % 7) * MG;
      at += length;
    }
  rx->ptm.enabled = true;
  rx->ptm.dose_ng = 250000; /* 0.25 mg = 10 µL */
  rx->ptm.duration_ms = 10 * THECAL_MS_PER_MINUTE;
  rx->ptm.lockout_ms = 3 * HOUR;
  rx->ptm.max_per_24h = 6;
}

typedef struct
{
  int64_t ns;
  int64_t events;  /* log entries written */
  int64_t strokes; /* strokes made */
  int64_t calls;   /* stroke-level callbacks */
  int64_t pumps;   /* pumps used (replaced at ERI) */
} Result;

static void
on_stroke (void *user_data, const ThecalEngineStroke *stroke)
{
  Result *result = user_data;

  result->calls += stroke->nominal_nl > 0;
}

static void
new_pump (ThecalEngine *engine,
          const ThecalPumpModel *model,
          const ThecalPrescription *rx,
          int64_t at_ms,
          bool stroke_level,
          Result *result)
{
  ThecalEngineConfig config;
  ThecalDoseError error;

  thecal_engine_config_init (&config);
  config.model = model;
  config.start_local_ms = at_ms;
  config.reservoir_nl = 20 * ML;
  config.drug_id = "morphine";
  config.concentration_ng_per_ml = CONC;
  config.path_primed = true;
  config.seed = (uint64_t) result->pumps;
  memset (&error, 0, sizeof error);
  if (!thecal_engine_init (engine, &config, &error))
    die ("init", &error);
  if (!thecal_engine_set_prescription (engine, rx, &error))
    die ("prescription", &error);
  if (stroke_level)
    thecal_engine_set_stroke_func (engine, on_stroke, result);
  result->pumps++;
}

static void
account (const ThecalEngine *engine, Result *result)
{
  ThecalEngineStatus status;

  thecal_engine_get_status (engine, &status);
  result->events += thecal_engine_log_next_seq (engine) - 1;
  result->strokes += status.strokes_total;
}

static Result
simulate (ThecalEngine *engine, const ThecalPumpModel *model, Scenario scenario, int64_t years, bool stroke_level)
{
  static const int32_t presses_min[] = { 8 * 60, 9 * 60, 13 * 60, 20 * 60 }; /* 09:00 is inside the lockout */
  const int64_t refill_every = scenario == SCENARIO_CONTINUOUS ? 80 : 50;
  const int64_t days = years * 365;
  ThecalPrescription rx;
  ThecalEngineStatus status;
  ThecalDoseError error;
  Result result;
  int64_t start;

  memset (&result, 0, sizeof result);
  memset (&error, 0, sizeof error);
  prescription (scenario, &rx);
  start = now_ns ();
  new_pump (engine, model, &rx, T0, stroke_level, &result);
  for (int64_t day = 0; day < days; day++)
    {
      int64_t midnight = T0 + day * DAY;

      if (scenario == SCENARIO_FLEX_PTM)
        for (size_t p = 0; p < sizeof presses_min / sizeof presses_min[0]; p++)
          {
            ThecalPtmOutcome outcome;

            if (!thecal_engine_advance_to (engine, midnight + presses_min[p] * THECAL_MS_PER_MINUTE, &error)
                || !thecal_engine_ptm_request (engine, &outcome, &error))
              die ("press", &error);
          }
      if (!thecal_engine_advance_to (engine, midnight + DAY, &error))
        die ("advance", &error);
      thecal_engine_get_status (engine, &status);
      if (status.eri)
        {
          account (engine, &result);
          new_pump (engine, model, &rx, midnight + DAY, stroke_level, &result);
        }
      else if ((day + 1) % refill_every == 0
               && !thecal_engine_set_reservoir (engine, 20 * ML, "morphine", CONC, -1, &error))
        die ("refill", &error);
    }
  result.ns = now_ns () - start;
  account (engine, &result);
  return result;
}

static void
report (const char *what, int64_t years, const Result *r)
{
  /* patient-years per second = years × 10^9 / ns */
  int64_t per_second = r->ns > 0 ? years * INT64_C (1000000000) / r->ns : 0;
  int64_t ns_per_year = r->ns / (years > 0 ? years : 1);
  int64_t ns_per_event = r->ns / (r->events > 0 ? r->events : 1);

  printf ("%-44s %5" PRId64 " y %12" PRId64 " ns %10" PRId64 " ns/y %8" PRId64 " py/s %9" PRId64 " events %6" PRId64
          " ns/event %12" PRId64 " strokes %3" PRId64 " pumps\n",
          what, years, r->ns, ns_per_year, per_second, r->events, ns_per_event, r->strokes, r->pumps);
}

int
main (void)
{
  static ThecalEngine engine; /* about 250 KiB: not on the stack */
  ThecalPumpModelSet set;
  const ThecalPumpModel *model = load_model (&set);
  Result r;

  /* warm-up */
  (void) simulate (&engine, model, SCENARIO_FLEX_PTM, 1, false);

  printf ("patient-years per second (one core):\n");
  r = simulate (&engine, model, SCENARIO_CONTINUOUS, 100, false);
  report ("(a) continuous", 100, &r);
  r = simulate (&engine, model, SCENARIO_FLEX_PTM, 100, false);
  report ("(b) 13-step flex + 4 PTM presses a day", 100, &r);
  r = simulate (&engine, model, SCENARIO_FLEX_PTM, 1, true);
  report ("(c) (b) at stroke-level output", 1, &r);
  printf ("    (c) made %" PRId64 " stroke callbacks\n", r.calls);

  printf ("cost against simulated duration:\n");
  for (int64_t years = 1; years <= 100; years *= 10)
    {
      r = simulate (&engine, model, SCENARIO_CONTINUOUS, years, false);
      report ("(a) continuous", years, &r);
    }
  for (int64_t years = 1; years <= 100; years *= 10)
    {
      r = simulate (&engine, model, SCENARIO_FLEX_PTM, years, false);
      report ("(b) flex + PTM", years, &r);
    }

  /* the closed form on its own: one advance over a century of a stopped pump, and over the
   * life of one pump in continuous delivery (no refill: it empties after 95 days) */
  {
    ThecalPrescription rx;
    ThecalDoseError error;
    int64_t start, calls = 10000;

    memset (&error, 0, sizeof error);
    prescription (SCENARIO_CONTINUOUS, &rx);
    start = now_ns ();
    for (int64_t i = 0; i < calls; i++)
      {
        Result unused;

        memset (&unused, 0, sizeof unused);
        new_pump (&engine, model, &rx, T0, false, &unused);
        if (!thecal_engine_advance_to (&engine, T0 + 90 * DAY, &error))
          die ("advance", &error);
      }
    printf ("one advance over 90 days of continuous delivery (72 000 strokes): %" PRId64 " ns per call (incl. init)\n",
            (now_ns () - start) / calls);
  }
  return 0;
}
