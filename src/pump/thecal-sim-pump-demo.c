/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-sim-pump-demo.c: the named demo pumps (docs/telemetry.md "Demo pumps").
 *
 * Morphine 25 mg/mL at 5 mg/day is 0.2 mL/day (the worked example of every layer); baclofen
 * 2 000 mcg/mL at 300 mcg/day is 0.15 mL/day (and 150 mcg/day 0.075 mL/day: 0.125 mL a day
 * with the night step, a whole number of strokes). Each pump started history_days before the demo
 * instant with reservoir = the demo's volume + what its prescription delivers over the history,
 * so the pump's estimate at the demo instant is the volume in the summary.
 */
#include "config.h"

#include "thecal-sim-pump-demo.h"

#include <stdio.h>
#include <string.h>

#define DAY_MS INT64_C (86400000)
#define MG INT64_C (1000000) /* ng */
#define MCG INT64_C (1000)   /* ng */
#define ML INT64_C (1000000) /* nL */

/* Marks a summary for xgettext (po/POTFILES.in); this layer has no gettext: the app translates the
 * summary when it shows it (thecal-patient-list.c). */
#define N_(text) text

/* What five of the demo pumps share: morphine 25 mg/mL at 5 mg/day (0.2 mL/day), 30 days of
 * history, a 45.5 cm catheter. Each entry then says what sets it apart. */
#define DEMO_MORPHINE_5_MG_A_DAY                                                             \
  .drug_id = "morphine", .concentration_ng_per_ml = 25 * MG, .mode = THECAL_MODE_CONTINUOUS, \
  .dose_ng_per_day = 5 * MG, .history_days = 30, .catheter_length_mm = 455

static const ThecalSimPumpDemo demos[] = {
  { .serial = "TR20-000123",
    .model_id = "TR-20",
    .summary = N_ ("morphine 25 mg/mL, 5 mg/day (0.2 mL/day), 12 mL in the reservoir"),
    DEMO_MORPHINE_5_MG_A_DAY,
    .reservoir_nl = 12 * ML,
    .battery_bp = 8000 },
  { .serial = "TR20-000124",
    .model_id = "TR-20",
    .summary = N_ ("low reservoir: morphine 25 mg/mL, 5 mg/day, 1.8 mL left (low-reservoir alarm)"),
    DEMO_MORPHINE_5_MG_A_DAY,
    .reservoir_nl = 1800000,
    .battery_bp = 7000 },
  { .serial = "TR40-000125",
    .model_id = "TR-40",
    .summary = N_ ("near ERI: morphine 25 mg/mL, 5 mg/day, battery reaches ERI in a few days"),
    DEMO_MORPHINE_5_MG_A_DAY,
    .reservoir_nl = 20 * ML,
    .battery_bp = 522 },
  { .serial = "TR20-000126",
    .model_id = "TR-20",
    .summary = N_ ("over-infusing +20 %: morphine 25 mg/mL, 5 mg/day; the estimate does not see it"),
    DEMO_MORPHINE_5_MG_A_DAY,
    .reservoir_nl = 10 * ML,
    .battery_bp = 9000,
    .has_fault = true,
    .fault_kind = THECAL_FAULT_FLOW_BIAS,
    .fault_value = 2000,
    .fault_days_before = 30 },
  { .serial = "TR20-000127",
    .model_id = "TR-20",
    .summary = N_ ("motor stall: morphine 25 mg/mL, 5 mg/day, stalled 2 days ago (critical alarm)"),
    DEMO_MORPHINE_5_MG_A_DAY,
    .reservoir_nl = 14 * ML,
    .battery_bp = 6000,
    .has_fault = true,
    .fault_kind = THECAL_FAULT_MOTOR_STALL,
    .fault_days_before = 2 },
  { .serial = "TR40-000128",
    .model_id = "TR-40",
    .summary = N_ ("baclofen 2000 mcg/mL, flex: 300 mcg/day by day, 150 mcg/day at night, 30 mL"),
    .drug_id = "baclofen",
    .concentration_ng_per_ml = 2000 * MCG,
    .mode = THECAL_MODE_FLEX,
    .dose_ng_per_day = 300 * MCG,
    .night_dose_ng_per_day = 150 * MCG,
    .reservoir_nl = 30 * ML,
    .battery_bp = 9500,
    .history_days = 30,
    .catheter_length_mm = 500 },
};

int32_t
thecal_sim_pump_demo_count (void)
{
  return (int32_t) (sizeof demos / sizeof demos[0]);
}

const ThecalSimPumpDemo *
thecal_sim_pump_demo_get (int32_t index)
{
  if (index < 0 || index >= thecal_sim_pump_demo_count ())
    return NULL;
  return &demos[index];
}

const ThecalSimPumpDemo *
thecal_sim_pump_demo_find (const char *serial)
{
  for (int32_t i = 0; serial != NULL && i < thecal_sim_pump_demo_count (); i++)
    if (strcmp (demos[i].serial, serial) == 0)
      return &demos[i];
  return NULL;
}

static void
demo_prescription (const ThecalSimPumpDemo *demo, ThecalPrescription *rx)
{
  thecal_prescription_init (rx);
  snprintf (rx->drug_id, sizeof rx->drug_id, "%s", demo->drug_id);
  rx->concentration_ng_per_ml = demo->concentration_ng_per_ml;
  rx->mode = demo->mode;
  if (demo->mode == THECAL_MODE_FLEX)
    {
      /* 06:00–22:00 the day dose, 22:00–06:00 the night dose */
      rx->n_flex_steps = 2;
      rx->flex_steps[0].start_min = 360;
      rx->flex_steps[0].duration_min = 960;
      rx->flex_steps[0].amount.basis = THECAL_BASIS_DOSE;
      rx->flex_steps[0].amount.dose_ng_per_day = demo->dose_ng_per_day;
      rx->flex_steps[1].start_min = 1320;
      rx->flex_steps[1].duration_min = 480;
      rx->flex_steps[1].amount.basis = THECAL_BASIS_DOSE;
      rx->flex_steps[1].amount.dose_ng_per_day = demo->night_dose_ng_per_day;
    }
  else
    {
      rx->continuous.basis = THECAL_BASIS_DOSE;
      rx->continuous.dose_ng_per_day = demo->dose_ng_per_day;
    }
}

bool
thecal_sim_pump_demo_config (const ThecalSimPumpDemo *demo,
                             const ThecalPumpModel *model,
                             ThecalSimPumpConfig *config,
                             ThecalDoseError *error)
{
  ThecalDeliveryPlan plan;
  int64_t history_nl, start_nl, delivering_days;

  if (demo == NULL || model == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "demo", "no demo pump or pump model was given.");
  if (strcmp (model->id, demo->model_id) != 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "model", "demo pump %s is a %s, not a %s.", demo->serial,
                                  demo->model_id, model->id);
  thecal_sim_pump_config_init (config);
  config->model = model;
  snprintf (config->serial, sizeof config->serial, "%s", demo->serial);
  thecal_sim_pump_demo_key (demo->serial, config->key);
  config->catheter.catheter_length_mm = demo->catheter_length_mm;
  config->catheter.catheter_volume_nl_per_cm = 2600; /* 0.0026 mL/cm, CLINICAL.md §2.1 */
  config->seed = 0;
  for (const char *p = demo->serial; *p != '\0'; p++)
    config->seed = config->seed * 31 + (uint8_t) *p;
  config->start_local_ms = THECAL_SIM_PUMP_DEMO_INSTANT_MS - demo->history_days * DAY_MS;
  config->battery_bp = demo->battery_bp;
  snprintf (config->drug_id, sizeof config->drug_id, "%s", demo->drug_id);
  config->concentration_ng_per_ml = demo->concentration_ng_per_ml;
  config->path_primed = true;
  config->has_prescription = true;
  demo_prescription (demo, &config->prescription);

  /* The estimate at the demo instant is the summary's volume: fill = volume + the programmed
   * delivery over the history (whole days: the daily volume is exact). */
  if (!thecal_delivery_plan_resolve (&config->prescription, model, &plan, error))
    return false;
  delivering_days = demo->history_days;
  if (demo->has_fault && demo->fault_kind == THECAL_FAULT_MOTOR_STALL)
    delivering_days -= demo->fault_days_before; /* a stalled motor makes no strokes */
  if (!thecal_mul_i64 (plan.basal_nl_per_day + plan.periodic_nl_per_day, delivering_days, &history_nl)
      || !thecal_add_i64 (demo->reservoir_nl, history_nl, &start_nl) || start_nl > model->reservoir_capacity_nl)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "reservoir",
                                  "demo pump %s would need more than its reservoir at the start of its history.", demo->serial);
  config->reservoir_nl = start_nl;
  return true;
}

bool
thecal_sim_pump_demo_init (ThecalSimPump *pump,
                           const ThecalSimPumpDemo *demo,
                           const ThecalPumpModel *model,
                           ThecalDoseError *error)
{
  ThecalSimPumpConfig config;

  if (!thecal_sim_pump_demo_config (demo, model, &config, error) || !thecal_sim_pump_init (pump, &config, error))
    return false;
  if (demo->has_fault)
    {
      ThecalEngineFault fault;
      int64_t at = THECAL_SIM_PUMP_DEMO_INSTANT_MS - demo->fault_days_before * DAY_MS;

      memset (&fault, 0, sizeof fault);
      fault.kind = demo->fault_kind;
      fault.value = demo->fault_value;
      fault.at_pump_ms = at;
      fault.duration_ms = 0; /* permanent */
      if (at > config.start_local_ms && !thecal_sim_pump_advance_to (pump, at, error))
        return false;
      if (!thecal_sim_pump_inject_fault (pump, &fault, error))
        return false;
    }
  return thecal_sim_pump_advance_to (pump, THECAL_SIM_PUMP_DEMO_INSTANT_MS, error);
}
