/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-fake-pump.c: the in-test pump, deterministic randomness, sample prescriptions, a lossy
 * link.
 */
#include "config.h"

#include "thecal-fake-pump.h"

#include <stdio.h>
#include <string.h>

/* ---- the pump -------------------------------------------------------------------------------- */

static bool
fake_get_status (void *user_data, ThecalProtoStatus *status, ThecalProtoError *error)
{
  ThecalFakePump *pump = user_data;

  (void) error;
  if (pump->fail_get_status)
    return false; /* no code: the role must turn this into INTERNAL */
  status->pump_ms = pump->clock_ms;
  status->mode = pump->active.mode;
  status->delivering = pump->active.mode != THECAL_MODE_STOPPED;
  status->reservoir_estimate_nl = pump->reservoir_nl;
  status->reservoir_set_nl = pump->reservoir_nl;
  snprintf (status->reservoir_drug_id, sizeof status->reservoir_drug_id, "%s", pump->reservoir_drug);
  status->reservoir_concentration_ng_per_ml = pump->reservoir_concentration;
  status->battery_bp = 9000;
  status->eri_pump_ms = INT64_MAX;
  status->eos_pump_ms = INT64_MAX;
  status->bolus_active = pump->bolus_active;
  status->bolus_source = pump->bolus_active ? THECAL_PROTO_SOURCE_CLINICIAN : THECAL_PROTO_SOURCE_BASAL;
  status->ptm_next_allowed_pump_ms = pump->active.ptm.enabled ? pump->clock_ms : INT64_MAX;
  status->n_alarms = 0;
  for (int i = 0; i < THECAL_PROTO_ALARM_N_KINDS; i++)
    if (pump->alarm_raised[i])
      {
        ThecalProtoAlarmState *a = &status->alarms[status->n_alarms++];

        a->kind = (ThecalProtoAlarm) i;
        a->condition = true;
        a->raised = true;
        a->acknowledged = pump->alarm_acknowledged[i];
        a->critical = i != THECAL_PROTO_ALARM_LOW_RESERVOIR && i != THECAL_PROTO_ALARM_ERI;
        a->raised_at_pump_ms = 1000 * i;
        a->count = 1;
      }
  status->log_oldest_seq = pump->log_oldest_seq;
  status->log_next_seq = pump->log_next_seq;
  return true;
}

static bool
fake_get_prescription (void *user_data, ThecalPrescription *rx, ThecalProtoError *error)
{
  ThecalFakePump *pump = user_data;

  (void) error;
  *rx = pump->active;
  return true;
}

void
thecal_fake_pump_event (int64_t seq, ThecalProtoEvent *event)
{
  event->seq = seq;
  event->pump_ms = seq * 1000;
  event->type = (int32_t) (seq % 13);
  event->code = (int32_t) (seq % 7);
  event->args[0] = seq;
  event->args[1] = -seq;
  event->args[2] = seq * 3;
}

static bool
fake_read_log (void *user_data,
               int64_t from_seq,
               int32_t max_events,
               ThecalProtoEvent *events,
               int32_t *n_events,
               int64_t *oldest_seq,
               int64_t *next_seq,
               ThecalProtoError *error)
{
  ThecalFakePump *pump = user_data;
  int64_t from = from_seq < pump->log_oldest_seq ? pump->log_oldest_seq : from_seq;

  (void) error;
  *n_events = 0;
  for (int64_t seq = from; seq < pump->log_next_seq && *n_events < max_events; seq++)
    thecal_fake_pump_event (seq, &events[(*n_events)++]);
  *oldest_seq = pump->log_oldest_seq;
  *next_seq = pump->log_next_seq;
  return true;
}

static bool
amount_ok (ThecalFakePump *pump, const ThecalPrescription *rx, const ThecalDailyAmount *amount, ThecalProtoError *error)
{
  int64_t rate = amount->rate_nl_per_day;

  if (amount->basis == THECAL_BASIS_DOSE)
    {
      if (rx->concentration_ng_per_ml <= 0 || amount->dose_ng_per_day > INT64_MAX / 1000000)
        return thecal_proto_error_set (error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_CONCENTRATION,
                                       "dose and concentration out of range");
      rate = amount->dose_ng_per_day * 1000000 / rx->concentration_ng_per_ml;
    }
  if (rate > pump->rate_max_nl_per_day)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_RATE_ABOVE_MAX,
                                   "rate %lld nL/day is above the maximum %lld nL/day", (long long) rate,
                                   (long long) pump->rate_max_nl_per_day);
  return true;
}

static bool
fake_check_prescription (void *user_data, const ThecalPrescription *rx, ThecalProtoError *error)
{
  ThecalFakePump *pump = user_data;

  pump->check_calls++;
  if (rx->mode == THECAL_MODE_STOPPED)
    return true;
  if (pump->reservoir_drug[0] != '\0' && strcmp (pump->reservoir_drug, rx->drug_id) != 0)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_DRUG,
                                   "the reservoir holds %s, not %s", pump->reservoir_drug, rx->drug_id);
  if (rx->mode == THECAL_MODE_CONTINUOUS && !amount_ok (pump, rx, &rx->continuous, error))
    return false;
  for (int32_t i = 0; rx->mode == THECAL_MODE_FLEX && i < rx->n_flex_steps; i++)
    if (!amount_ok (pump, rx, &rx->flex_steps[i].amount, error))
      return false;
  return true;
}

static bool
fake_apply_prescription (void *user_data, const ThecalPrescription *rx, ThecalProtoError *error)
{
  ThecalFakePump *pump = user_data;

  if (pump->refuse_apply_busy)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_BUSY, 0, "a bolus runs: cancel it first");
  pump->apply_calls++;
  pump->active = *rx;
  if (pump->apply_something_else)
    pump->active.concentration_ng_per_ml += 1;
  return true;
}

static bool
fake_set_reservoir (void *user_data, const ThecalMsgSetReservoir *request, ThecalProtoError *error)
{
  ThecalFakePump *pump = user_data;

  if (request->volume_nl < 0)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_BAD_REQUEST, 0, "negative volume");
  if (request->volume_nl > pump->capacity_nl)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_RESERVOIR_CAPACITY,
                                   "%lld nL is above the capacity %lld nL", (long long) request->volume_nl,
                                   (long long) pump->capacity_nl);
  pump->set_reservoir_calls++;
  pump->reservoir_nl = request->volume_nl;
  snprintf (pump->reservoir_drug, sizeof pump->reservoir_drug, "%s", request->drug_id);
  pump->reservoir_concentration = request->concentration_ng_per_ml;
  return true;
}

static bool
fake_check_refill (void *user_data, const ThecalMsgSetReservoir *fill, const ThecalPrescription *rx, ThecalProtoError *error)
{
  ThecalFakePump *pump = user_data;

  pump->check_refill_calls++;
  if (fill->volume_nl > pump->capacity_nl)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_RESERVOIR_CAPACITY,
                                   "%lld nL is above the capacity %lld nL", (long long) fill->volume_nl,
                                   (long long) pump->capacity_nl);
  if (rx->mode == THECAL_MODE_STOPPED)
    return true;
  if (strcmp (fill->drug_id, rx->drug_id) != 0)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_DRUG,
                                   "the fill holds %s, not %s", fill->drug_id, rx->drug_id);
  if (rx->mode == THECAL_MODE_CONTINUOUS && !amount_ok (pump, rx, &rx->continuous, error))
    return false;
  for (int32_t i = 0; rx->mode == THECAL_MODE_FLEX && i < rx->n_flex_steps; i++)
    if (!amount_ok (pump, rx, &rx->flex_steps[i].amount, error))
      return false;
  return true;
}

static bool
fake_refill_and_apply (void *user_data, const ThecalMsgSetReservoir *fill, const ThecalPrescription *rx, ThecalProtoError *error)
{
  ThecalFakePump *pump = user_data;

  if (pump->refuse_apply_busy)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_BUSY, 0, "a bolus runs: cancel it first");
  if (fill->volume_nl < 0)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_BAD_REQUEST, 0, "negative volume");
  pump->refill_apply_calls++;
  pump->reservoir_nl = fill->volume_nl;
  snprintf (pump->reservoir_drug, sizeof pump->reservoir_drug, "%s", fill->drug_id);
  pump->reservoir_concentration = fill->concentration_ng_per_ml;
  pump->active = *rx;
  return true;
}

static bool
fake_start_bolus (void *user_data, const ThecalMsgStartBolus *request, ThecalProtoError *error)
{
  ThecalFakePump *pump = user_data;

  if (pump->bolus_active)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_BUSY, 0, "a bolus already runs");
  if (request->kind == THECAL_PROTO_BOLUS_CLINICIAN && (request->dose_ng <= 0 || request->duration_ms <= 0))
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_BAD_REQUEST, 0, "dose and duration must be above 0");
  pump->bolus_active = true;
  pump->bolus_calls++;
  pump->last_bolus = *request;
  return true;
}

static bool
fake_cancel_bolus (void *user_data, ThecalProtoError *error)
{
  ThecalFakePump *pump = user_data;

  if (!pump->bolus_active)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_REFUSED, 0, "no bolus runs");
  pump->bolus_active = false;
  return true;
}

static bool
fake_set_clock (void *user_data, int64_t pump_local_ms, ThecalMsgClockReply *reply, ThecalProtoError *error)
{
  ThecalFakePump *pump = user_data;

  if (pump_local_ms < 0)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_CLOCK,
                                   "clock before 1970");
  reply->previous_pump_ms = pump->clock_ms;
  pump->clock_ms = pump_local_ms;
  reply->pump_ms = pump_local_ms;
  return true;
}

static bool
fake_acknowledge_alarm (void *user_data, ThecalProtoAlarm alarm, ThecalProtoError *error)
{
  ThecalFakePump *pump = user_data;

  if (!pump->alarm_raised[alarm] || pump->alarm_acknowledged[alarm])
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_REFUSED, 0, "alarm %d is not raised", (int) alarm);
  pump->alarm_acknowledged[alarm] = true;
  return true;
}

const ThecalPumpOps thecal_fake_pump_ops = {
  .get_status = fake_get_status,
  .get_prescription = fake_get_prescription,
  .read_log = fake_read_log,
  .check_prescription = fake_check_prescription,
  .apply_prescription = fake_apply_prescription,
  .set_reservoir = fake_set_reservoir,
  .check_refill = fake_check_refill,
  .refill_and_apply = fake_refill_and_apply,
  .start_bolus = fake_start_bolus,
  .cancel_bolus = fake_cancel_bolus,
  .set_clock = fake_set_clock,
  .acknowledge_alarm = fake_acknowledge_alarm,
};

void
thecal_fake_pump_init (ThecalFakePump *pump, const ThecalPrescription *active)
{
  memset (pump, 0, sizeof *pump);
  if (active != NULL)
    pump->active = *active;
  else
    thecal_prescription_init (&pump->active);
  pump->rate_max_nl_per_day = 24 * THECAL_NL_PER_ML;
  pump->capacity_nl = 20 * THECAL_NL_PER_ML;
  pump->reservoir_nl = 15 * THECAL_NL_PER_ML;
  snprintf (pump->reservoir_drug, sizeof pump->reservoir_drug, "morphine");
  pump->reservoir_concentration = 25 * THECAL_NG_PER_MG;
  pump->clock_ms = INT64_C (1767225600000); /* 2026-01-01 00:00 local */
  pump->log_oldest_seq = 1;
  pump->log_next_seq = 3001;
}

/* ---- helpers --------------------------------------------------------------------------------- */

void
thecal_test_random (void *user_data, uint8_t *buffer, size_t length)
{
  uint64_t *state = user_data;

  for (size_t i = 0; i < length; i++)
    {
      uint64_t z;

      if (i % 8 == 0)
        *state += UINT64_C (0x9E3779B97F4A7C15);
      z = *state;
      z = (z ^ (z >> 30)) * UINT64_C (0xBF58476D1CE4E5B9);
      z = (z ^ (z >> 27)) * UINT64_C (0x94D049BB133111EB);
      z ^= z >> 31;
      buffer[i] = (uint8_t) (z >> (8 * (i % 8)));
    }
}

void
thecal_test_key (uint8_t key[THECAL_KEY_SIZE], uint8_t byte)
{
  memset (key, byte, THECAL_KEY_SIZE);
}

void
thecal_test_rx_morphine (ThecalPrescription *rx, int64_t mg_per_day)
{
  thecal_prescription_init (rx);
  snprintf (rx->drug_id, sizeof rx->drug_id, "morphine");
  rx->concentration_ng_per_ml = 25 * THECAL_NG_PER_MG;
  rx->mode = THECAL_MODE_CONTINUOUS;
  rx->continuous.basis = THECAL_BASIS_DOSE;
  rx->continuous.dose_ng_per_day = mg_per_day * THECAL_NG_PER_MG;
}

void
thecal_test_rx_full (ThecalPrescription *rx)
{
  thecal_prescription_init (rx);
  snprintf (rx->drug_id, sizeof rx->drug_id, "morphine");
  rx->concentration_ng_per_ml = 25 * THECAL_NG_PER_MG;
  rx->mode = THECAL_MODE_FLEX;
  rx->continuous.basis = THECAL_BASIS_RATE; /* unused by flex, still encoded */
  rx->continuous.rate_nl_per_day = 7;
  rx->n_flex_steps = THECAL_FLEX_STEPS_MAX;
  for (int32_t i = 0; i < THECAL_FLEX_STEPS_MAX; i++)
    {
      /* 13 steps covering the day: 12 of 110 min and a last one of 120 min */
      rx->flex_steps[i].start_min = i * 110;
      rx->flex_steps[i].duration_min = i == THECAL_FLEX_STEPS_MAX - 1 ? 1440 - 12 * 110 : 110;
      rx->flex_steps[i].amount.basis = i % 2 == 0 ? THECAL_BASIS_DOSE : THECAL_BASIS_RATE;
      if (i % 2 == 0)
        rx->flex_steps[i].amount.dose_ng_per_day = (4 + i) * THECAL_NG_PER_MG;
      else
        rx->flex_steps[i].amount.rate_nl_per_day = 200000 + 1000 * i;
    }
  rx->n_periodic_boluses = THECAL_PERIODIC_BOLUSES_MAX;
  for (int32_t i = 0; i < THECAL_PERIODIC_BOLUSES_MAX; i++)
    {
      rx->periodic_boluses[i].start_min = i * 120;
      rx->periodic_boluses[i].dose_ng = 100 * THECAL_NG_PER_MCG;
      rx->periodic_boluses[i].duration_ms = 10 * THECAL_MS_PER_MINUTE;
    }
  rx->ptm.enabled = true;
  rx->ptm.dose_ng = 250 * THECAL_NG_PER_MCG;
  rx->ptm.duration_ms = 15 * THECAL_MS_PER_MINUTE;
  rx->ptm.lockout_ms = 4 * THECAL_MS_PER_HOUR;
  rx->ptm.max_per_24h = 4;
}

void
thecal_test_identity (ThecalProtoIdentity *identity)
{
  memset (identity, 0, sizeof *identity);
  snprintf (identity->serial, sizeof identity->serial, "%s", FAKE_SERIAL);
  snprintf (identity->model_id, sizeof identity->model_id, "%s", FAKE_MODEL);
  identity->protocol_version = THECAL_PROTO_VERSION;
}

void
thecal_test_role_config (ThecalPumpRoleConfig *config, ThecalFakePump *pump, uint64_t *seed)
{
  memset (config, 0, sizeof *config);
  config->ops = &thecal_fake_pump_ops;
  config->ops_data = pump;
  thecal_test_identity (&config->identity);
  thecal_test_key (config->pump_key, FAKE_KEY_BYTE);
  config->session_timeout_ms = 60000;
  config->random = thecal_test_random;
  config->random_data = seed;
}

void
thecal_test_setup (ThecalProgrammer *programmer,
                   ThecalPumpRole *role,
                   ThecalFakePump *pump,
                   const ThecalPrescription *active,
                   bool paired,
                   uint64_t *programmer_seed,
                   uint64_t *pump_seed)
{
  ThecalPumpRoleConfig role_config;
  ThecalProgrammerConfig programmer_config;

  thecal_fake_pump_init (pump, active);
  thecal_test_role_config (&role_config, pump, pump_seed);
  thecal_pump_role_init (role, &role_config);

  memset (&programmer_config, 0, sizeof programmer_config);
  programmer_config.has_key = true;
  thecal_test_key (programmer_config.pump_key, paired ? FAKE_KEY_BYTE : 0x33);
  programmer_config.retry_timeout_ms = 1000;
  programmer_config.max_attempts = 4;
  programmer_config.random = thecal_test_random;
  programmer_config.random_data = programmer_seed;
  thecal_programmer_init (programmer, &programmer_config);
}

/* ---- the link -------------------------------------------------------------------------------- */

void
link_init (Link *link, ThecalProgrammer *programmer, ThecalPumpRole *role, ThecalFakePump *pump)
{
  memset (link, 0, sizeof *link);
  link->programmer = programmer;
  link->role = role;
  link->pump = pump;
  link->now_ms = 1000;
  link->policy = link_policy_deliver;
  link->drop_index = -1;
  link->dead_from = INT64_MAX;
  link->drops_left = -1;
}

static void transmit (Link *link, bool to_pump, const uint8_t *frame, size_t length);

static void
deliver (Link *link, bool to_pump, const uint8_t *frame, size_t length)
{
  if (to_pump)
    {
      const uint8_t *answer = NULL;
      size_t answer_length = 0;

      if (thecal_pump_role_handle (link->role, link->now_ms, frame, length, &answer, &answer_length))
        transmit (link, false, answer, answer_length);
    }
  else
    thecal_programmer_receive (link->programmer, link->now_ms, frame, length);
}

static void
transmit (Link *link, bool to_pump, const uint8_t *frame, size_t length)
{
  /* one buffer per direction: an answer travels while the request's copy is still needed (duplicate) */
  static uint8_t buffers[2][THECAL_FRAME_MAX];
  uint8_t *copy = buffers[to_pump ? 0 : 1];
  int64_t index = ++link->frames;
  uint8_t type = length > 3 ? frame[3] : 0;
  bool response = length > 4 && (frame[4] & THECAL_FRAME_FLAG_RESPONSE) != 0;
  LinkAction action = link->policy (link, index, to_pump, type, response);

  if (action == LINK_DROP || length > THECAL_FRAME_MAX)
    return;
  memcpy (copy, frame, length);
  if (action == LINK_CORRUPT && length > 0)
    copy[length / 2] ^= 0x10;
  deliver (link, to_pump, copy, length);
  if (action == LINK_DUPLICATE)
    deliver (link, to_pump, copy, length);
}

bool
link_run (Link *link, int32_t max_steps)
{
  for (int32_t step = 0; step < max_steps; step++)
    {
      const uint8_t *out;
      size_t length = 0;
      int64_t deadline;

      if (!thecal_programmer_busy (link->programmer))
        return true;
      out = thecal_programmer_take_output (link->programmer, &length);
      if (out != NULL)
        {
          transmit (link, true, out, length);
          continue;
        }
      deadline = thecal_programmer_deadline (link->programmer);
      if (deadline == INT64_MAX)
        return false; /* busy with nothing outstanding: stuck */
      if (deadline > link->now_ms)
        link->now_ms = deadline;
      thecal_programmer_tick (link->programmer, link->now_ms);
    }
  return !thecal_programmer_busy (link->programmer);
}

LinkAction
link_policy_deliver (Link *link, int64_t index, bool to_pump, uint8_t type, bool response)
{
  (void) link;
  (void) index;
  (void) to_pump;
  (void) type;
  (void) response;
  return LINK_DELIVER;
}

LinkAction
link_policy_drop_one (Link *link, int64_t index, bool to_pump, uint8_t type, bool response)
{
  (void) to_pump;
  (void) type;
  (void) response;
  return index == link->drop_index ? LINK_DROP : LINK_DELIVER;
}

LinkAction
link_policy_dead_from (Link *link, int64_t index, bool to_pump, uint8_t type, bool response)
{
  (void) to_pump;
  (void) type;
  (void) response;
  return index >= link->dead_from ? LINK_DROP : LINK_DELIVER;
}

LinkAction
link_policy_drop_type (Link *link, int64_t index, bool to_pump, uint8_t type, bool response)
{
  (void) index;
  (void) to_pump;
  if (type == link->drop_type && response == link->drop_response && link->drops_left != 0)
    {
      if (link->drops_left > 0)
        link->drops_left--;
      return LINK_DROP;
    }
  return LINK_DELIVER;
}
