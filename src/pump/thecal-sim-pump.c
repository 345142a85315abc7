/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-sim-pump.c: the simulated implant: the pump role's ThecalPumpOps on the reference
 * engine, with the pump's own hard limits (thecal-sim-pump.h lists them).
 *
 * Every op either changes the pump or refuses with a ThecalProtoError and changes nothing
 * (docs/protocol.md §9). "Would the engine accept it?" is answered on a scratch copy of the
 * engine, so a refusal never leaves a half-applied change and a staged prescription that passed
 * the check is one the engine will run.
 */
#include "config.h"

#include "thecal-sim-pump.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "thecal-quantity.h"

#define DAY_MS INT64_C (86400000)

/* ---- errors ----------------------------------------------------------------------------------- */

/* A refusal: the code, the limit (REFUSED_BY_PUMP_LIMIT) and a short reason. Counted. */
static bool
refuse (ThecalSimPump *pump,
        ThecalProtoError *error,
        ThecalProtoErrorCode code,
        ThecalPumpLimit limit,
        const char *format,
        ...) __attribute__ ((format (printf, 5, 6)));

static bool
refuse (ThecalSimPump *pump, ThecalProtoError *error, ThecalProtoErrorCode code, ThecalPumpLimit limit, const char *format, ...)
{
  char reason[THECAL_PROTO_REASON_MAX * 2];
  va_list args;

  va_start (args, format);
  vsnprintf (reason, sizeof reason, format, args);
  va_end (args);
  if (code == THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT)
    pump->stats.refused_limit++;
  else if (code == THECAL_PROTO_ERROR_BUSY)
    pump->stats.refused_busy++;
  else if (code == THECAL_PROTO_ERROR_PUMP_FAULT)
    pump->stats.refused_fault++;
  return thecal_proto_error_set (error, code, code == THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT ? (uint16_t) limit : 0, "%s",
                                 reason);
}

/* The engine's refusal of something the explicit checks let through: the first words of its
 * sentence (the reason has 63 characters). */
static bool
refuse_engine (ThecalSimPump *pump, ThecalProtoError *error, const ThecalDoseError *dose_error)
{
  return refuse (pump, error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_OTHER, "%s",
                 dose_error->message[0] != '\0' ? dose_error->message : "the pump cannot do this");
}

static const char *
q (ThecalQuantityKind kind, int64_t value, char buf[THECAL_QUANTITY_TEXT_MAX])
{
  return thecal_quantity_format (kind, value, buf, THECAL_QUANTITY_TEXT_MAX);
}

/* Copies the engine to the scratch engine, without the stroke callback: a trial run. */
static ThecalEngine *
scratch_engine (ThecalSimPump *pump)
{
  memcpy (&pump->scratch, &pump->engine, sizeof pump->scratch);
  thecal_engine_set_stroke_func (&pump->scratch, NULL, NULL);
  return &pump->scratch;
}

/* The engine's status, for an op that changes the pump: refused (PUMP_FAULT) after end of
 * service. */
static bool
get_status_alive (ThecalSimPump *pump, ThecalEngineStatus *status, ThecalProtoError *error)
{
  thecal_engine_get_status (&pump->engine, status);
  if (status->eos)
    return refuse (pump, error, THECAL_PROTO_ERROR_PUMP_FAULT, THECAL_PUMP_LIMIT_NONE,
                   "end of service: the pump no longer delivers; replace it");
  return true;
}

/* A change of the engine: @request is the op's own. */
typedef bool (*EngineChange) (ThecalEngine *engine, const void *request, ThecalDoseError *error);

/* Makes @change on the scratch copy first, then on the engine: a refusal never leaves half a
 * change. */
static bool
change_engine (ThecalSimPump *pump, EngineChange change, const void *request, ThecalProtoError *error)
{
  ThecalDoseError dose_error;

  thecal_dose_error_clear (&dose_error);
  if (!change (scratch_engine (pump), request, &dose_error))
    return refuse_engine (pump, error, &dose_error);
  thecal_dose_error_clear (&dose_error);
  if (!change (&pump->engine, request, &dose_error))
    return refuse_engine (pump, error, &dose_error);
  return true;
}

/* ---- reading ---------------------------------------------------------------------------------- */

static int32_t
clamp_i32 (int64_t value)
{
  return value > INT32_MAX ? INT32_MAX : value < INT32_MIN ? INT32_MIN
                                                           : (int32_t) value;
}

static bool
sim_get_status (void *user_data, ThecalProtoStatus *status, ThecalProtoError *error)
{
  ThecalSimPump *pump = user_data;
  ThecalEngineStatus st;
  int64_t days_ms, eos, eri;

  (void) error;
  thecal_engine_get_status (&pump->engine, &st);
  status->pump_ms = st.pump_ms;
  status->mode = st.mode;
  status->delivering = st.delivering;
  status->reservoir_estimate_nl = st.reservoir_estimate_nl;
  status->reservoir_set_nl = st.reservoir_set_nl;
  memcpy (status->reservoir_drug_id, st.reservoir_drug_id, sizeof status->reservoir_drug_id);
  status->reservoir_concentration_ng_per_ml = st.reservoir_concentration_ng_per_ml;
  status->battery_bp = clamp_i32 (st.battery_bp);
  status->eri = st.eri;
  status->eos = st.eos;

  /* End of service: when it was reached, or now + the whole days left at the current drain
   * (rounded down by the engine: the date shown is never later than the real one). */
  if (st.eos)
    eos = st.alarms[THECAL_ALARM_EOS].count > 0 ? st.alarms[THECAL_ALARM_EOS].raised_at_pump_ms : st.pump_ms;
  else if (!thecal_mul_i64 (st.battery_days_left, DAY_MS, &days_ms) || !thecal_add_i64 (st.pump_ms, days_ms, &eos))
    eos = INT64_MAX;
  if (st.eri)
    eri = st.alarms[THECAL_ALARM_ERI].count > 0 ? st.alarms[THECAL_ALARM_ERI].raised_at_pump_ms : st.pump_ms;
  else if (eos == INT64_MAX)
    eri = INT64_MAX;
  else
    {
      eri = eos - pump->model.eri_days_before_eos * DAY_MS;
      if (eri < st.pump_ms)
        eri = st.pump_ms;
    }
  status->eri_pump_ms = eri;
  status->eos_pump_ms = eos;

  status->bolus_active = st.bolus_active;
  status->bolus_source = st.bolus_active ? (ThecalProtoSource) st.bolus_source : THECAL_PROTO_SOURCE_BASAL;
  status->bolus_planned_nl = st.bolus_active ? st.bolus_planned_nl : 0;
  status->bolus_done_nl = st.bolus_active ? st.bolus_done_nl : 0;
  status->ptm_active = st.ptm_active;
  status->ptm_grants_24h = st.ptm_grants_24h;
  status->ptm_next_allowed_pump_ms = st.ptm_next_allowed_pump_ms;

  status->n_alarms = 0;
  for (int32_t kind = 0; kind < THECAL_ALARM_N_KINDS && status->n_alarms < THECAL_PROTO_ALARMS_MAX; kind++)
    {
      const ThecalAlarmStatus *alarm = &st.alarms[kind];
      ThecalProtoAlarmState *out;

      if (!alarm->condition && !alarm->raised)
        continue;
      out = &status->alarms[status->n_alarms++];
      out->kind = (ThecalProtoAlarm) kind;
      out->condition = alarm->condition;
      out->raised = alarm->raised;
      out->acknowledged = alarm->acknowledged;
      out->critical = alarm->critical;
      out->raised_at_pump_ms = alarm->raised_at_pump_ms;
      out->count = alarm->count;
    }
  status->log_oldest_seq = st.log_oldest_seq;
  status->log_next_seq = st.log_next_seq;
  return true;
}

static bool
sim_get_prescription (void *user_data, ThecalPrescription *rx, ThecalProtoError *error)
{
  ThecalSimPump *pump = user_data;

  (void) error;
  *rx = pump->active;
  return true;
}

static bool
sim_read_log (void *user_data,
              int64_t from_seq,
              int32_t max_events,
              ThecalProtoEvent *events,
              int32_t *n_events,
              int64_t *oldest_seq,
              int64_t *next_seq,
              ThecalProtoError *error)
{
  ThecalSimPump *pump = user_data;
  int64_t oldest = thecal_engine_log_oldest_seq (&pump->engine);
  int64_t next = thecal_engine_log_next_seq (&pump->engine);
  int64_t seq = from_seq > oldest ? from_seq : oldest;

  *n_events = 0;
  *oldest_seq = oldest;
  *next_seq = next;
  for (; seq < next && *n_events < max_events; seq++)
    {
      ThecalEngineEvent event;
      ThecalProtoEvent *out = &events[*n_events];

      if (!thecal_engine_log_get (&pump->engine, seq, &event))
        return refuse (pump, error, THECAL_PROTO_ERROR_INTERNAL, THECAL_PUMP_LIMIT_NONE, "log entry %lld is missing",
                       (long long) seq);
      /* field for field: the protocol carries the engine's entries unchanged (docs/protocol.md §4.7) */
      out->seq = event.seq;
      out->pump_ms = event.pump_ms;
      out->type = event.type;
      out->code = event.code;
      out->args[0] = event.args[0];
      out->args[1] = event.args[1];
      out->args[2] = event.args[2];
      (*n_events)++;
    }
  return true;
}

/* ---- prescriptions ------------------------------------------------------------------------------ */

/* A bolus of @volume_nl over @duration_ms against the model's ceiling. ROUND_UP: the exact rate
 * is above the ceiling exactly when its ceiling is. */
static bool
check_bolus_rate (ThecalSimPump *pump, const char *what, int64_t volume_nl, int64_t duration_ms, ThecalProtoError *error)
{
  char a[THECAL_QUANTITY_TEXT_MAX], b[THECAL_QUANTITY_TEXT_MAX];
  int64_t rate;

  if (volume_nl <= 0 || duration_ms <= 0)
    return true; /* the shape is the dose core's and the engine's to refuse */
  if (!thecal_muldiv_i64 (volume_nl, DAY_MS, duration_ms, THECAL_ROUND_UP, &rate))
    rate = INT64_MAX;
  if (rate > pump->model.bolus_rate_max_nl_per_day)
    return refuse (pump, error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_BOLUS_RATE,
                   "%s at %s is above the bolus maximum %s", what,
                   rate == INT64_MAX ? "?" : q (THECAL_QUANTITY_VOLUME_RATE, rate, a),
                   q (THECAL_QUANTITY_VOLUME_RATE, pump->model.bolus_rate_max_nl_per_day, b));
  return true;
}

/* The volume of a dose at a concentration in whole strokes (the rule, as the resolver). */
static int64_t
dose_volume_nl (const ThecalSimPump *pump, int64_t dose_ng, int64_t concentration_ng_per_ml)
{
  int64_t volume, strokes;

  if (concentration_ng_per_ml <= 0 || dose_ng <= 0
      || !thecal_volume_nl_from_dose_ng (dose_ng, concentration_ng_per_ml, THECAL_ROUND_NEAREST_HALF_DOWN, &volume)
      || !thecal_round_to_step_i64 (volume, pump->model.stroke_volume_nl, THECAL_ROUND_NEAREST_HALF_DOWN, &strokes))
    return 0;
  return strokes;
}

static bool
check_rate (ThecalSimPump *pump, int64_t rate, ThecalProtoError *error)
{
  char a[THECAL_QUANTITY_TEXT_MAX], b[THECAL_QUANTITY_TEXT_MAX];

  if (rate < pump->model.rate_min_nl_per_day)
    return refuse (pump, error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_RATE_BELOW_MIN,
                   "rate %s is below the minimum %s", q (THECAL_QUANTITY_VOLUME_RATE, rate, a),
                   q (THECAL_QUANTITY_VOLUME_RATE, pump->model.rate_min_nl_per_day, b));
  if (rate > pump->model.rate_max_nl_per_day)
    return refuse (pump, error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_RATE_ABOVE_MAX,
                   "rate %s is above the maximum %s", q (THECAL_QUANTITY_VOLUME_RATE, rate, a),
                   q (THECAL_QUANTITY_VOLUME_RATE, pump->model.rate_max_nl_per_day, b));
  return true;
}

static bool engine_set_reservoir (ThecalEngine *engine, const void *request, ThecalDoseError *error);

/* The fill a refill brings, before the engine sees it: a volume within the capacity (a volume
 * below 0 is not known yet and not checked) and a concentration that fits the drug. */
static bool
check_fill (ThecalSimPump *pump, const ThecalMsgSetReservoir *fill, bool volume_known, ThecalProtoError *error)
{
  char a[THECAL_QUANTITY_TEXT_MAX], b[THECAL_QUANTITY_TEXT_MAX];

  if (volume_known && fill->volume_nl < 0)
    return refuse (pump, error, THECAL_PROTO_ERROR_BAD_REQUEST, THECAL_PUMP_LIMIT_NONE, "volume %lld nL is below 0",
                   (long long) fill->volume_nl);
  if (volume_known && fill->volume_nl > pump->model.reservoir_capacity_nl)
    return refuse (pump, error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_RESERVOIR_CAPACITY,
                   "%s is above the reservoir capacity %s", q (THECAL_QUANTITY_VOLUME, fill->volume_nl, a),
                   q (THECAL_QUANTITY_VOLUME, pump->model.reservoir_capacity_nl, b));
  if (fill->drug_id[0] == '\0' ? fill->concentration_ng_per_ml != 0 : fill->concentration_ng_per_ml <= 0)
    return refuse (pump, error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_CONCENTRATION,
                   "concentration %lld ng/mL does not fit drug \"%.20s\"", (long long) fill->concentration_ng_per_ml,
                   fill->drug_id);
  return true;
}

/* Would the pump run @rx with @drug_id at @concentration in its reservoir: the reservoir's now
 * (@fill NULL), or @fill, set on the scratch engine before the trial? */
static bool
check_rx (ThecalSimPump *pump, const ThecalPrescription *rx, const ThecalMsgSetReservoir *fill, ThecalProtoError *error)
{
  ThecalEngineStatus st;
  ThecalDeliveryPlan plan;
  ThecalDoseError dose_error;
  ThecalEngine *trial;
  char a[THECAL_QUANTITY_TEXT_MAX], b[THECAL_QUANTITY_TEXT_MAX];
  char what[32];
  const char *drug_id;
  int64_t concentration;

  if (!get_status_alive (pump, &st, error))
    return false;
  if (st.bolus_active)
    return refuse (pump, error, THECAL_PROTO_ERROR_BUSY, THECAL_PUMP_LIMIT_NONE,
                   "a %s bolus runs: cancel it or wait for its end", thecal_source_name (st.bolus_source));
  drug_id = fill != NULL ? fill->drug_id : st.reservoir_drug_id;
  concentration = fill != NULL ? fill->concentration_ng_per_ml : st.reservoir_concentration_ng_per_ml;

  if (rx->mode != THECAL_MODE_STOPPED)
    {
      /* The pump delivers what is in its reservoir: a prescription for anything else would give
       * another dose than the one prescribed. */
      if (strcmp (rx->drug_id, drug_id) != 0)
        return refuse (pump, error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_DRUG,
                       "the %s holds %.20s, not %.20s", fill != NULL ? "fill" : "reservoir",
                       drug_id[0] != '\0' ? drug_id : "no drug", rx->drug_id);
      if (rx->concentration_ng_per_ml != concentration)
        return refuse (pump, error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_CONCENTRATION,
                       "the %s holds %s, not %s", fill != NULL ? "fill" : "reservoir",
                       q (THECAL_QUANTITY_CONCENTRATION, concentration, a),
                       q (THECAL_QUANTITY_CONCENTRATION, rx->concentration_ng_per_ml, b));
    }

  /* Boluses of the prescription against the bolus ceiling, before the resolver refuses them in a
   * sentence that names no limit. */
  for (int32_t i = 0; rx->mode != THECAL_MODE_STOPPED && i < rx->n_periodic_boluses && i < THECAL_PERIODIC_BOLUSES_MAX; i++)
    {
      const ThecalPeriodicBolus *bolus = &rx->periodic_boluses[i];

      snprintf (what, sizeof what, "periodic bolus %d", (int) i + 1);
      if (!check_bolus_rate (pump, what, dose_volume_nl (pump, bolus->dose_ng, rx->concentration_ng_per_ml), bolus->duration_ms,
                             error))
        return false;
    }
  if (rx->mode != THECAL_MODE_STOPPED && rx->ptm.enabled)
    {
      if (!check_bolus_rate (pump, "PTM bolus", dose_volume_nl (pump, rx->ptm.dose_ng, rx->concentration_ng_per_ml),
                             rx->ptm.duration_ms, error))
        return false;
      if (rx->ptm.max_per_24h > THECAL_ENGINE_PTM_HISTORY_MAX)
        return refuse (pump, error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_OTHER,
                       "PTM maximum %d a day is above the pump's %d", (int) rx->ptm.max_per_24h, THECAL_ENGINE_PTM_HISTORY_MAX);
    }

  thecal_dose_error_clear (&dose_error);
  memset (&plan, 0, sizeof plan);
  if (!thecal_delivery_plan_resolve (rx, &pump->model, &plan, &dose_error))
    return refuse (pump, error, THECAL_PROTO_ERROR_BAD_REQUEST, THECAL_PUMP_LIMIT_NONE, "%s", dose_error.message);

  /* The basal rates the pump would really run (rounded to its resolution). */
  switch (rx->mode)
    {
    case THECAL_MODE_CONTINUOUS:
    case THECAL_MODE_FLEX:
      for (int32_t i = 0; i < plan.n_segments; i++)
        if (!check_rate (pump, plan.segments[i].basal_rate_nl_per_day, error))
          return false;
      break;
    case THECAL_MODE_STOPPED:
    case THECAL_MODE_MINIMUM_RATE: /* the model's own minimum rate, below the range by design */
      break;
    case THECAL_MODE_N_MODES:
    default:
      return refuse (pump, error, THECAL_PROTO_ERROR_BAD_REQUEST, THECAL_PUMP_LIMIT_NONE, "mode %d is unknown", (int) rx->mode);
    }

  /* Anything else the engine would refuse (a trial on the scratch copy, after the fill). */
  trial = scratch_engine (pump);
  thecal_dose_error_clear (&dose_error);
  if (fill != NULL && !engine_set_reservoir (trial, fill, &dose_error))
    return refuse_engine (pump, error, &dose_error);
  thecal_dose_error_clear (&dose_error);
  if (!thecal_engine_set_prescription (trial, rx, &dose_error))
    return refuse_engine (pump, error, &dose_error);
  return true;
}

static bool
sim_check (void *user_data, const ThecalPrescription *rx, ThecalProtoError *error)
{
  return check_rx (user_data, rx, NULL, error);
}

static bool
sim_apply (void *user_data, const ThecalPrescription *rx, ThecalProtoError *error)
{
  ThecalSimPump *pump = user_data;
  ThecalDoseError dose_error;

  /* The role checked it just before; the pump checks again at the instant it switches. */
  if (!sim_check (pump, rx, error))
    return false;
  thecal_dose_error_clear (&dose_error);
  if (!thecal_engine_set_prescription (&pump->engine, rx, &dose_error))
    return refuse_engine (pump, error, &dose_error);
  pump->active = *rx;
  pump->stats.prescriptions_set++;
  return true;
}

/* ---- other changes ------------------------------------------------------------------------------ */

static bool
engine_set_reservoir (ThecalEngine *engine, const void *request, ThecalDoseError *error)
{
  const ThecalMsgSetReservoir *refill = request;

  return thecal_engine_set_reservoir (engine, refill->volume_nl, refill->drug_id, refill->concentration_ng_per_ml, -1, error);
}

static bool
sim_set_reservoir (void *user_data, const ThecalMsgSetReservoir *request, ThecalProtoError *error)
{
  ThecalSimPump *pump = user_data;
  ThecalEngineStatus st;

  if (!get_status_alive (pump, &st, error))
    return false;
  if (!check_fill (pump, request, true, error))
    return false;
  /* A delivering prescription is a rate computed for its drug and concentration: another fluid
   * under it would deliver another dose. A drug or concentration change sets the fill and the
   * prescription for it together (REFILL_COMMIT). */
  if (pump->active.mode != THECAL_MODE_STOPPED && strcmp (pump->active.drug_id, request->drug_id) != 0)
    return refuse (pump, error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_DRUG,
                   "use REFILL_COMMIT with a prescription staged for the new fill");
  if (pump->active.mode != THECAL_MODE_STOPPED && pump->active.concentration_ng_per_ml != request->concentration_ng_per_ml)
    return refuse (pump, error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_CONCENTRATION,
                   "use REFILL_COMMIT with a prescription staged for the new fill");
  if (!change_engine (pump, engine_set_reservoir, request, error))
    return false;
  pump->stats.reservoir_sets++;
  return true;
}

/* The fill @fill and @rx on it: every check of the fill, then of @rx against the fill (a trial on
 * the scratch engine with the fill set). A volume below 0 (STAGE: not known yet) is tried as the
 * pump's current estimate, clamped to the capacity. */
static bool
sim_check_refill (void *user_data, const ThecalMsgSetReservoir *fill, const ThecalPrescription *rx, ThecalProtoError *error)
{
  ThecalSimPump *pump = user_data;
  ThecalEngineStatus st;
  ThecalMsgSetReservoir trial = *fill;

  if (!get_status_alive (pump, &st, error))
    return false;
  if (!check_fill (pump, fill, fill->volume_nl >= 0, error))
    return false;
  if (trial.volume_nl < 0)
    trial.volume_nl = st.reservoir_estimate_nl < 0                                   ? 0
                      : st.reservoir_estimate_nl > pump->model.reservoir_capacity_nl ? pump->model.reservoir_capacity_nl
                                                                                     : st.reservoir_estimate_nl;
  return check_rx (pump, rx, &trial, error);
}

static bool
engine_refill_and_apply (ThecalEngine *engine, const ThecalMsgSetReservoir *fill, const ThecalPrescription *rx, ThecalDoseError *error)
{
  /* one engine instant: nothing is delivered between the two (the engine moves only in
   * thecal_engine_advance_to) */
  return engine_set_reservoir (engine, fill, error) && thecal_engine_set_prescription (engine, rx, error);
}

static bool
sim_refill_and_apply (void *user_data, const ThecalMsgSetReservoir *fill, const ThecalPrescription *rx, ThecalProtoError *error)
{
  ThecalSimPump *pump = user_data;
  ThecalDoseError dose_error;

  /* The role checked it just before; the pump checks again at the instant it switches, then
   * makes both changes on the scratch copy first: a refusal never leaves a fill without its
   * prescription. */
  if (fill->volume_nl < 0)
    return refuse (pump, error, THECAL_PROTO_ERROR_BAD_REQUEST, THECAL_PUMP_LIMIT_NONE, "volume %lld nL is below 0",
                   (long long) fill->volume_nl);
  if (!sim_check_refill (pump, fill, rx, error))
    return false;
  thecal_dose_error_clear (&dose_error);
  if (!engine_refill_and_apply (scratch_engine (pump), fill, rx, &dose_error))
    return refuse_engine (pump, error, &dose_error);
  thecal_dose_error_clear (&dose_error);
  if (!engine_refill_and_apply (&pump->engine, fill, rx, &dose_error))
    return refuse_engine (pump, error, &dose_error); /* not reached: the scratch copy is the same engine */
  pump->active = *rx;
  pump->stats.reservoir_sets++;
  pump->stats.prescriptions_set++;
  return true;
}

/* Refuses a bolus of @volume_nl the reservoir cannot give: the pump's estimate minus the volume
 * below which it cannot draw (the model's empty volume). */
static bool
check_bolus_volume (ThecalSimPump *pump, const ThecalEngineStatus *st, int64_t volume_nl, ThecalProtoError *error)
{
  char a[THECAL_QUANTITY_TEXT_MAX], b[THECAL_QUANTITY_TEXT_MAX];
  int64_t available = st->reservoir_estimate_nl - pump->model.empty_nl;

  if (available < 0)
    available = 0;
  if (volume_nl > available)
    return refuse (pump, error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_VOLUME,
                   "bolus %s is more than the %s the reservoir can give", q (THECAL_QUANTITY_VOLUME, volume_nl, a),
                   q (THECAL_QUANTITY_VOLUME, available, b));
  return true;
}

static bool
engine_start_bolus (ThecalEngine *engine, const void *request, ThecalDoseError *error)
{
  const ThecalMsgStartBolus *bolus = request;

  if (bolus->kind == THECAL_PROTO_BOLUS_CLINICIAN)
    return thecal_engine_start_clinician_bolus (engine, bolus->dose_ng, bolus->duration_ms, error);
  return thecal_engine_start_phase_bolus (engine, &bolus->plan, error);
}

static bool
sim_start_bolus (void *user_data, const ThecalMsgStartBolus *request, ThecalProtoError *error)
{
  ThecalSimPump *pump = user_data;
  ThecalEngineStatus st;
  char a[THECAL_QUANTITY_TEXT_MAX], b[THECAL_QUANTITY_TEXT_MAX];
  char what[32];
  int64_t total = 0;

  if (!get_status_alive (pump, &st, error))
    return false;
  if (st.stalled)
    return refuse (pump, error, THECAL_PROTO_ERROR_PUMP_FAULT, THECAL_PUMP_LIMIT_NONE, "the motor is stalled: no bolus");
  if (st.memory_error)
    return refuse (pump, error, THECAL_PROTO_ERROR_PUMP_FAULT, THECAL_PUMP_LIMIT_NONE, "memory error: reprogram before a bolus");
  if (st.bolus_active)
    return refuse (pump, error, THECAL_PROTO_ERROR_BUSY, THECAL_PUMP_LIMIT_NONE, "a %s bolus already runs",
                   thecal_source_name (st.bolus_source));

  switch (request->kind)
    {
    case THECAL_PROTO_BOLUS_CLINICIAN:
      if (request->dose_ng <= 0 || request->duration_ms <= 0)
        return refuse (pump, error, THECAL_PROTO_ERROR_BAD_REQUEST, THECAL_PUMP_LIMIT_NONE,
                       "clinician bolus dose and duration must be above 0");
      if (pump->active.concentration_ng_per_ml <= 0)
        return refuse (pump, error, THECAL_PROTO_ERROR_REFUSED, THECAL_PUMP_LIMIT_NONE,
                       "no programmed concentration: program the pump first");
      if (pump->active.concentration_ng_per_ml != st.reservoir_concentration_ng_per_ml
          || strcmp (pump->active.drug_id, st.reservoir_drug_id) != 0)
        return refuse (pump, error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_CONCENTRATION,
                       "the reservoir holds %s, not the programmed %s",
                       q (THECAL_QUANTITY_CONCENTRATION, st.reservoir_concentration_ng_per_ml, a),
                       q (THECAL_QUANTITY_CONCENTRATION, pump->active.concentration_ng_per_ml, b));
      total = dose_volume_nl (pump, request->dose_ng, pump->active.concentration_ng_per_ml);
      if (!check_bolus_rate (pump, "clinician bolus", total, request->duration_ms, error))
        return false;
      break;
    case THECAL_PROTO_BOLUS_PRIMING:
    case THECAL_PROTO_BOLUS_BRIDGE:
      if (request->plan.n_phases < 1 || request->plan.n_phases > THECAL_BOLUS_PHASES_MAX)
        return refuse (pump, error, THECAL_PROTO_ERROR_BAD_REQUEST, THECAL_PUMP_LIMIT_NONE, "the plan has %d phases",
                       (int) request->plan.n_phases);
      /* A plan computed for another catheter would push the wrong volume. */
      if (request->plan.dead_space_nl != st.dead_space_nl)
        return refuse (pump, error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_OTHER,
                       "plan for dead space %s; the pump's is %s", q (THECAL_QUANTITY_VOLUME, request->plan.dead_space_nl, a),
                       q (THECAL_QUANTITY_VOLUME, st.dead_space_nl, b));
      for (int32_t i = 0; i < request->plan.n_phases; i++)
        {
          const ThecalBolusPhase *phase = &request->plan.phases[i];
          bool kind_ok = phase->kind == THECAL_PHASE_PRESCRIPTION
                         || phase->kind == (request->kind == THECAL_PROTO_BOLUS_PRIMING ? THECAL_PHASE_PRIMING : THECAL_PHASE_BRIDGE);

          if (!kind_ok)
            return refuse (pump, error, THECAL_PROTO_ERROR_BAD_REQUEST, THECAL_PUMP_LIMIT_NONE,
                           "phase %d is not a phase of this bolus kind", (int) i + 1);
          if (phase->kind == THECAL_PHASE_PRESCRIPTION)
            continue;
          snprintf (what, sizeof what, "phase %d", (int) i + 1);
          if (phase->rate_nl_per_day > pump->model.bolus_rate_max_nl_per_day)
            return refuse (pump, error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_BOLUS_RATE,
                           "%s at %s is above the bolus maximum %s", what,
                           q (THECAL_QUANTITY_VOLUME_RATE, phase->rate_nl_per_day, a),
                           q (THECAL_QUANTITY_VOLUME_RATE, pump->model.bolus_rate_max_nl_per_day, b));
          if (!check_bolus_rate (pump, what, phase->volume_nl, phase->duration_ms, error))
            return false;
          if (phase->volume_nl > 0 && !thecal_add_i64 (total, phase->volume_nl, &total))
            total = INT64_MAX;
        }
      break;
    default:
      return refuse (pump, error, THECAL_PROTO_ERROR_BAD_REQUEST, THECAL_PUMP_LIMIT_NONE, "bolus kind %d is unknown",
                     (int) request->kind);
    }
  if (!check_bolus_volume (pump, &st, total, error))
    return false;

  if (!change_engine (pump, engine_start_bolus, request, error))
    return false;
  pump->stats.boluses_started++;
  return true;
}

static bool
sim_cancel_bolus (void *user_data, ThecalProtoError *error)
{
  ThecalSimPump *pump = user_data;
  ThecalEngineStatus st;
  ThecalDoseError dose_error;

  if (!get_status_alive (pump, &st, error))
    return false;
  if (!st.bolus_active)
    return refuse (pump, error, THECAL_PROTO_ERROR_REFUSED, THECAL_PUMP_LIMIT_NONE,
                   "no clinician, priming or bridge bolus runs");
  thecal_dose_error_clear (&dose_error);
  if (!thecal_engine_cancel_bolus (&pump->engine, &dose_error))
    return refuse_engine (pump, error, &dose_error);
  return true;
}

static bool
sim_set_clock (void *user_data, int64_t pump_local_ms, ThecalMsgClockReply *reply, ThecalProtoError *error)
{
  ThecalSimPump *pump = user_data;
  ThecalEngineStatus st;
  ThecalDoseError dose_error;

  if (!get_status_alive (pump, &st, error))
    return false;
  if (pump_local_ms < THECAL_SIM_PUMP_CLOCK_MIN_MS || pump_local_ms >= THECAL_SIM_PUMP_CLOCK_MAX_MS)
    return refuse (pump, error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_CLOCK,
                   "clock %lld ms is outside the years 2000 to 2099", (long long) pump_local_ms);
  thecal_dose_error_clear (&dose_error);
  if (!thecal_engine_set_clock (&pump->engine, pump_local_ms, &dose_error))
    return refuse_engine (pump, error, &dose_error);
  reply->previous_pump_ms = st.pump_ms;
  reply->pump_ms = thecal_engine_pump_ms (&pump->engine);
  pump->stats.clock_sets++;
  return true;
}

static bool
sim_acknowledge (void *user_data, ThecalProtoAlarm alarm, ThecalProtoError *error)
{
  ThecalSimPump *pump = user_data;
  ThecalEngineStatus st;
  ThecalDoseError dose_error;

  thecal_engine_get_status (&pump->engine, &st);
  if ((int) alarm < 0 || alarm >= THECAL_PROTO_ALARM_N_KINDS)
    return refuse (pump, error, THECAL_PROTO_ERROR_BAD_REQUEST, THECAL_PUMP_LIMIT_NONE, "alarm %d is unknown", (int) alarm);
  if (!st.alarms[alarm].raised || st.alarms[alarm].acknowledged)
    return refuse (pump, error, THECAL_PROTO_ERROR_REFUSED, THECAL_PUMP_LIMIT_NONE, "alarm %s is not raised or already acknowledged",
                   thecal_alarm_kind_name ((ThecalAlarmKind) alarm));
  thecal_dose_error_clear (&dose_error);
  if (!thecal_engine_acknowledge (&pump->engine, (ThecalAlarmKind) alarm, &dose_error))
    return refuse (pump, error, st.eos ? THECAL_PROTO_ERROR_PUMP_FAULT : THECAL_PROTO_ERROR_REFUSED, THECAL_PUMP_LIMIT_NONE,
                   "%s", dose_error.message);
  pump->stats.alarms_acknowledged++;
  return true;
}

const ThecalPumpOps thecal_sim_pump_ops = {
  .get_status = sim_get_status,
  .get_prescription = sim_get_prescription,
  .read_log = sim_read_log,
  .check_prescription = sim_check,
  .apply_prescription = sim_apply,
  .set_reservoir = sim_set_reservoir,
  .check_refill = sim_check_refill,
  .refill_and_apply = sim_refill_and_apply,
  .start_bolus = sim_start_bolus,
  .cancel_bolus = sim_cancel_bolus,
  .set_clock = sim_set_clock,
  .acknowledge_alarm = sim_acknowledge,
};

/* ---- the pump --------------------------------------------------------------------------------- */

/* The pump's nonces without a random source: a splitmix64 stream (reproducible; a real pump has
 * a hardware random generator). */
static void
seeded_random (void *user_data, uint8_t *buffer, size_t length)
{
  uint64_t *state = user_data;

  for (size_t i = 0; i < length; i += 8)
    {
      uint64_t word = thecal_splitmix64_next (state);

      for (size_t j = 0; j < 8 && i + j < length; j++)
        buffer[i + j] = (uint8_t) (word >> (8 * j));
    }
}

void
thecal_sim_pump_config_init (ThecalSimPumpConfig *config)
{
  memset (config, 0, sizeof *config);
  config->battery_bp = 10000;
}

bool
thecal_sim_pump_init (ThecalSimPump *pump, const ThecalSimPumpConfig *config, ThecalDoseError *error)
{
  ThecalEngineConfig engine_config;
  ThecalPumpRoleConfig role_config;
  ThecalProtoError proto_error;

  if (pump == NULL || config == NULL || config->model == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "model", "no pump or pump model was given.");
  memset (pump, 0, sizeof *pump);
  pump->model = *config->model;
  memcpy (pump->key, config->key, sizeof pump->key);
  pump->nonce_state = config->seed ^ UINT64_C (0x54484543414c5055); /* "THECALPU": not the engine's stream */
  pump->session_timeout_ms = config->session_timeout_ms;

  if (memchr (config->serial, '\0', sizeof config->serial) == NULL || config->serial[0] == '\0')
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "serial", "the serial must have 1 to %d characters.",
                                  THECAL_PROTO_TEXT_MAX - 1);
  snprintf (pump->identity.serial, sizeof pump->identity.serial, "%s", config->serial);
  snprintf (pump->identity.model_id, sizeof pump->identity.model_id, "%s", pump->model.id);
  pump->identity.protocol_version = THECAL_PROTO_VERSION;

  thecal_engine_config_init (&engine_config);
  engine_config.model = &pump->model;
  engine_config.catheter = config->catheter;
  engine_config.seed = config->seed;
  engine_config.start_local_ms = config->start_local_ms;
  engine_config.battery_bp = config->battery_bp > 0 ? config->battery_bp : 10000;
  engine_config.reservoir_nl = config->reservoir_nl;
  engine_config.drug_id = config->drug_id;
  engine_config.concentration_ng_per_ml = config->concentration_ng_per_ml;
  engine_config.path_primed = config->path_primed;
  if (!thecal_engine_init (&pump->engine, &engine_config, error))
    return false;
  thecal_prescription_init (&pump->active);

  if (config->has_prescription)
    {
      thecal_proto_error_clear (&proto_error);
      if (!sim_apply (pump, &config->prescription, &proto_error))
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, "prescription", "the pump refuses the prescription: %s.",
                                      proto_error.reason);
      memset (&pump->stats, 0, sizeof pump->stats);
    }

  memset (&role_config, 0, sizeof role_config);
  role_config.ops = &thecal_sim_pump_ops;
  role_config.ops_data = pump;
  role_config.identity = pump->identity;
  memcpy (role_config.pump_key, pump->key, sizeof role_config.pump_key);
  role_config.session_timeout_ms = config->session_timeout_ms;
  role_config.random = config->random != NULL ? config->random : seeded_random;
  role_config.random_data = config->random != NULL ? config->random_data : &pump->nonce_state;
  if (!thecal_pump_role_init (&pump->role, &role_config))
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "identity",
                                  "the pump's telemetry cannot start (libsodium, or serial \"%s\" is not printable text).",
                                  pump->identity.serial);
  return true;
}

bool
thecal_sim_pump_advance_to (ThecalSimPump *pump, int64_t true_local_ms, ThecalDoseError *error)
{
  if (true_local_ms > thecal_engine_true_ms (&pump->engine)
      && !thecal_engine_advance_to (&pump->engine, true_local_ms, error))
    return false;
  thecal_pump_role_tick (&pump->role, thecal_engine_true_ms (&pump->engine));
  return true;
}

int64_t
thecal_sim_pump_now_ms (const ThecalSimPump *pump)
{
  return thecal_engine_true_ms (&pump->engine);
}

int64_t
thecal_sim_pump_pump_ms (const ThecalSimPump *pump)
{
  return thecal_engine_pump_ms (&pump->engine);
}

bool
thecal_sim_pump_handle_frame (ThecalSimPump *pump,
                              const uint8_t *frame,
                              size_t frame_length,
                              const uint8_t **answer,
                              size_t *answer_length)
{
  bool answered;

  pump->stats.frames++;
  answered = thecal_pump_role_handle (&pump->role, thecal_engine_true_ms (&pump->engine), frame, frame_length, answer,
                                      answer_length);
  if (answered)
    pump->stats.answers++;
  return answered;
}

const ThecalPrescription *
thecal_sim_pump_active (const ThecalSimPump *pump)
{
  return &pump->active;
}

bool
thecal_sim_pump_active_checksum (const ThecalSimPump *pump, ThecalChecksum *checksum)
{
  return thecal_prescription_checksum (&pump->active, checksum, NULL);
}

const ThecalProtoIdentity *
thecal_sim_pump_identity (const ThecalSimPump *pump)
{
  return &pump->identity;
}

const ThecalPumpModel *
thecal_sim_pump_model (const ThecalSimPump *pump)
{
  return &pump->model;
}

const uint8_t *
thecal_sim_pump_key (const ThecalSimPump *pump)
{
  return pump->key;
}

const ThecalEngine *
thecal_sim_pump_engine (const ThecalSimPump *pump)
{
  return &pump->engine;
}

ThecalPumpRole *
thecal_sim_pump_role (ThecalSimPump *pump)
{
  return &pump->role;
}

const ThecalSimPumpStats *
thecal_sim_pump_stats (const ThecalSimPump *pump)
{
  return &pump->stats;
}

bool
thecal_sim_pump_inject_fault (ThecalSimPump *pump, const ThecalEngineFault *fault, ThecalDoseError *error)
{
  return thecal_engine_inject_fault (&pump->engine, fault, error);
}

bool
thecal_sim_pump_ptm_request (ThecalSimPump *pump, ThecalPtmOutcome *outcome, ThecalDoseError *error)
{
  return thecal_engine_ptm_request (&pump->engine, outcome, error);
}

void
thecal_sim_pump_end_session (ThecalSimPump *pump)
{
  thecal_pump_role_end_session (&pump->role);
}

/* ---- demo serials and keys ---------------------------------------------------------------------- */

#define DEMO_KEY_LABEL "THECAL-DEMO-KEY-1"

void
thecal_sim_pump_demo_key (const char *serial, uint8_t key[THECAL_KEY_SIZE])
{
  crypto_generichash_state state;
  size_t length = strnlen (serial, THECAL_PROTO_TEXT_MAX - 1);
  uint8_t length_byte = (uint8_t) length;

  (void) thecal_proto_init ();
  crypto_generichash_init (&state, NULL, 0, THECAL_KEY_SIZE);
  crypto_generichash_update (&state, (const uint8_t *) DEMO_KEY_LABEL, strlen (DEMO_KEY_LABEL));
  crypto_generichash_update (&state, &length_byte, 1);
  crypto_generichash_update (&state, (const uint8_t *) serial, length);
  crypto_generichash_final (&state, key, THECAL_KEY_SIZE);
}

bool
thecal_sim_pump_demo_serial (const char *model_id, uint64_t seed, char serial[THECAL_PROTO_TEXT_MAX])
{
  char prefix[16]; /* + "-" + 6 digits fits a serial */
  size_t n = 0;
  uint64_t state = seed;
  unsigned digits = (unsigned) (thecal_splitmix64_next (&state) % UINT64_C (1000000));

  for (const char *p = model_id; *p != '\0'; p++)
    {
      if (*p == '-')
        continue;
      if (n + 1 >= sizeof prefix || *p < 0x21 || *p > 0x7E)
        return false;
      prefix[n++] = *p;
    }
  if (n == 0)
    return false;
  prefix[n] = '\0';
  snprintf (serial, THECAL_PROTO_TEXT_MAX, "%s-%06u", prefix, digits);
  return true;
}
