/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-sim-pump-demo.h: the named demo pumps of `thecal-cli pump ... --sim SERIAL` and of the
 * demo mode (docs/telemetry.md "Demo pumps").
 *
 * Each demo pump has run for history_days before the demo instant (so its log has entries and its
 * reservoir and battery have moved) and reaches, at the demo instant, the state its summary
 * gives. Its key is thecal_sim_pump_demo_key (serial): demo pumps only; real pumps are paired.
 */
#pragma once

#include "thecal-sim-pump.h"

#ifdef __cplusplus
extern "C"
{
#endif

/* The demo instant: 2026-01-05T09:00 pump-local (a Monday morning clinic). Every demo pump's
 * clock reads this when it is created. */
#define THECAL_SIM_PUMP_DEMO_INSTANT_MS INT64_C (1767603600000)
#define THECAL_SIM_PUMP_DEMO_DEFAULT_SERIAL "TR20-000123"

  typedef struct
  {
    const char *serial;   /* "TR20-000123" */
    const char *model_id; /* "TR-20" */
    const char *summary;  /* one line for people */
    const char *drug_id;
    int64_t concentration_ng_per_ml;
    ThecalMode mode;               /* CONTINUOUS or FLEX (two steps: day and night) */
    int64_t dose_ng_per_day;       /* continuous; the day step of flex */
    int64_t night_dose_ng_per_day; /* flex: 22:00–06:00 */
    int64_t reservoir_nl;          /* the pump's estimate at the demo instant */
    int64_t battery_bp;            /* at the start of the history */
    int64_t history_days;          /* how long it ran before the demo instant */
    int32_t catheter_length_mm;
    bool has_fault;
    ThecalFaultKind fault_kind;
    int64_t fault_value;       /* flow bias bp ... */
    int64_t fault_days_before; /* stall and the like: this many days before the demo instant */
  } ThecalSimPumpDemo;

  int32_t thecal_sim_pump_demo_count (void);
  const ThecalSimPumpDemo *thecal_sim_pump_demo_get (int32_t index);
  /* NULL when @serial is not a demo pump. */
  const ThecalSimPumpDemo *thecal_sim_pump_demo_find (const char *serial);

  /* Fills @config for @demo on @model (the model of demo->model_id, from data/pump-models.json):
   * serial, derived key, catheter, reservoir, battery and prescription at the start of its
   * history. */
  bool thecal_sim_pump_demo_config (const ThecalSimPumpDemo *demo,
                                    const ThecalPumpModel *model,
                                    ThecalSimPumpConfig *config,
                                    ThecalDoseError *error);

  /* Starts @pump as @demo and runs it to THECAL_SIM_PUMP_DEMO_INSTANT_MS (faults injected on the
   * way). The caller then advances it as it likes. */
  bool thecal_sim_pump_demo_init (ThecalSimPump *pump,
                                  const ThecalSimPumpDemo *demo,
                                  const ThecalPumpModel *model,
                                  ThecalDoseError *error);

#ifdef __cplusplus
}
#endif
