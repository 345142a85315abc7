/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * engine-test-util.h: what the engine's test binaries share beyond the reference models (TR-20 and
 * TR-40 come from tests/common/thecal-test-models.h, like the dose core's tests): prescription
 * builders, a heap-allocated engine (the engine itself never allocates; tests may), and readers
 * of its status and log.
 */
#pragma once

#include "thecal-engine.h"
#include "thecal-test-models.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define DAY THECAL_MS_PER_DAY
#define HOUR THECAL_MS_PER_HOUR
#define MINUTE THECAL_MS_PER_MINUTE
#define ML THECAL_NL_PER_ML
#define MG THECAL_NG_PER_MG
/* 2025-11-01 00:00 pump-local, a midnight (20 393 days after the epoch) */
#define T0 (INT64_C (20393) * DAY)
/* The worked example's concentration, 25 mg/mL: 5 mg/day is 0.2 mL/day, 800 strokes a day. */
#define CONC (25 * MG)

/* A primed pump of @model at T0 with @fill_nl of morphine at @conc, no catheter. */
static inline ThecalEngine *
test_engine_new_with (const ThecalPumpModel *model, int64_t fill_nl, int64_t conc, bool primed, uint64_t seed)
{
  ThecalEngine *engine = calloc (1, sizeof *engine);
  ThecalEngineConfig config;
  ThecalDoseError error;

  ck_assert_ptr_nonnull (engine);
  thecal_engine_config_init (&config);
  config.model = model;
  config.seed = seed;
  config.start_local_ms = T0;
  config.reservoir_nl = fill_nl;
  config.drug_id = "morphine";
  config.concentration_ng_per_ml = conc;
  config.path_primed = primed;
  memset (&error, 0, sizeof error);
  if (!thecal_engine_init (engine, &config, &error))
    ck_abort_msg ("engine init failed: %s", error.message);
  return engine;
}

/* The pump of most tests: @model primed with 20 mL of 25 mg/mL morphine, seed 1. */
static inline ThecalEngine *
test_engine_new (const ThecalPumpModel *model)
{
  return test_engine_new_with (model, 20 * ML, CONC, true, 1);
}

static inline void
test_rx_continuous_rate (ThecalPrescription *rx, int64_t conc, int64_t rate_nl_per_day)
{
  thecal_prescription_init (rx);
  strcpy (rx->drug_id, "morphine");
  rx->concentration_ng_per_ml = conc;
  rx->mode = THECAL_MODE_CONTINUOUS;
  rx->continuous.basis = THECAL_BASIS_RATE;
  rx->continuous.rate_nl_per_day = rate_nl_per_day;
}

static inline void
test_set_rx (ThecalEngine *engine, const ThecalPrescription *rx)
{
  ThecalDoseError error;

  memset (&error, 0, sizeof error);
  if (!thecal_engine_set_prescription (engine, rx, &error))
    ck_abort_msg ("set_prescription failed: %s: %s", error.field, error.message);
}

static inline void
test_advance (ThecalEngine *engine, int64_t true_ms)
{
  ThecalDoseError error;

  memset (&error, 0, sizeof error);
  if (!thecal_engine_advance_to (engine, true_ms, &error))
    ck_abort_msg ("advance failed: %s", error.message);
}

static inline void
test_fault (ThecalEngine *engine, ThecalFaultKind kind, int64_t value, int64_t at_pump_ms, int64_t duration_ms)
{
  ThecalEngineFault fault;
  ThecalDoseError error;

  memset (&fault, 0, sizeof fault);
  memset (&error, 0, sizeof error);
  fault.kind = kind;
  fault.value = value;
  fault.at_pump_ms = at_pump_ms;
  fault.duration_ms = duration_ms;
  if (!thecal_engine_inject_fault (engine, &fault, &error))
    ck_abort_msg ("inject_fault failed: %s", error.message);
}

static inline ThecalEngineStatus
test_status (const ThecalEngine *engine)
{
  ThecalEngineStatus status;

  thecal_engine_get_status (engine, &status);
  return status;
}

/* How many log entries of @type (and @code, if ≥ 0) the ring still holds. */
static inline int
test_count_events (const ThecalEngine *engine, ThecalEngineEventType type, int code)
{
  int n = 0;

  for (int64_t seq = thecal_engine_log_oldest_seq (engine); seq < thecal_engine_log_next_seq (engine); seq++)
    {
      ThecalEngineEvent event;

      ck_assert (thecal_engine_log_get (engine, seq, &event));
      if (event.type == (int32_t) type && (code < 0 || event.code == code))
        n++;
    }
  return n;
}

/* The last entry of @type (and @code if ≥ 0); false if none. */
static inline bool
test_last_event (const ThecalEngine *engine, ThecalEngineEventType type, int code, ThecalEngineEvent *out)
{
  for (int64_t seq = thecal_engine_log_next_seq (engine) - 1; seq >= thecal_engine_log_oldest_seq (engine); seq--)
    {
      ThecalEngineEvent event;

      ck_assert (thecal_engine_log_get (engine, seq, &event));
      if (event.type == (int32_t) type && (code < 0 || event.code == code))
        {
          *out = event;
          return true;
        }
    }
  return false;
}
