/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-message.c: message bodies, encoded and decoded through one description per message.
 *
 * Each body has a writer (put_*), a reader (get_*) and a validator (valid_*). The encoder
 * validates the struct, then writes; the decoder reads (refusing any byte the writer would not
 * produce: booleans 0/1, texts printable, counts within their maxima), checks that every byte was
 * consumed, then runs the same validator on the result. So the two accept exactly the same
 * messages, which is what makes the encoding canonical.
 */
#include "config.h"

#include "thecal-message.h"
#include "thecal-proto-private.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* ---- prescription ---------------------------------------------------------------------------- */

static bool
valid_amount (const ThecalDailyAmount *amount, const char *field, ThecalProtoError *error)
{
  if (amount->basis != THECAL_BASIS_DOSE && amount->basis != THECAL_BASIS_RATE)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "%s.basis %d is not dose (0) or rate (1)",
                                   field, (int) amount->basis);
  return true;
}

static bool
valid_prescription (const ThecalPrescription *rx, ThecalProtoError *error)
{
  if (!_thecal_text_valid (rx->drug_id, sizeof rx->drug_id))
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0,
                                   "drug_id is not printable ASCII of at most %d characters", THECAL_ID_MAX - 1);
  if ((int) rx->mode < 0 || rx->mode >= THECAL_MODE_N_MODES)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "mode %d is unknown", (int) rx->mode);
  if (!valid_amount (&rx->continuous, "continuous", error))
    return false;
  if (rx->n_flex_steps < 0 || rx->n_flex_steps > THECAL_FLEX_STEPS_MAX)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "n_flex_steps %d is not 0..%d",
                                   (int) rx->n_flex_steps, THECAL_FLEX_STEPS_MAX);
  for (int32_t i = 0; i < rx->n_flex_steps; i++)
    {
      char field[32];

      snprintf (field, sizeof field, "flex_steps[%d]", (int) i);
      if (!valid_amount (&rx->flex_steps[i].amount, field, error))
        return false;
    }
  if (rx->n_periodic_boluses < 0 || rx->n_periodic_boluses > THECAL_PERIODIC_BOLUSES_MAX)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "n_periodic_boluses %d is not 0..%d",
                                   (int) rx->n_periodic_boluses, THECAL_PERIODIC_BOLUSES_MAX);
  return true;
}

static void
put_amount (ThecalWriter *w, const ThecalDailyAmount *amount)
{
  _thecal_put_u8 (w, (uint8_t) amount->basis);
  _thecal_put_i64 (w, amount->dose_ng_per_day);
  _thecal_put_i64 (w, amount->rate_nl_per_day);
}

static void
get_amount (ThecalReader *r, ThecalDailyAmount *amount)
{
  uint8_t basis = _thecal_get_u8 (r);

  if (basis > THECAL_BASIS_RATE)
    r->ok = false;
  amount->basis = basis == THECAL_BASIS_RATE ? THECAL_BASIS_RATE : THECAL_BASIS_DOSE;
  amount->dose_ng_per_day = _thecal_get_i64 (r);
  amount->rate_nl_per_day = _thecal_get_i64 (r);
}

/* The caller validated @rx. */
static void
put_prescription (ThecalWriter *w, const ThecalPrescription *rx)
{
  _thecal_put_u8 (w, THECAL_PRESCRIPTION_ENCODING_VERSION);
  _thecal_put_text (w, rx->drug_id);
  _thecal_put_i64 (w, rx->concentration_ng_per_ml);
  _thecal_put_u8 (w, (uint8_t) rx->mode);
  put_amount (w, &rx->continuous);
  _thecal_put_u8 (w, (uint8_t) rx->n_flex_steps);
  for (int32_t i = 0; i < rx->n_flex_steps; i++)
    {
      _thecal_put_i32 (w, rx->flex_steps[i].start_min);
      _thecal_put_i32 (w, rx->flex_steps[i].duration_min);
      put_amount (w, &rx->flex_steps[i].amount);
    }
  _thecal_put_u8 (w, (uint8_t) rx->n_periodic_boluses);
  for (int32_t i = 0; i < rx->n_periodic_boluses; i++)
    {
      _thecal_put_i32 (w, rx->periodic_boluses[i].start_min);
      _thecal_put_i64 (w, rx->periodic_boluses[i].dose_ng);
      _thecal_put_i64 (w, rx->periodic_boluses[i].duration_ms);
    }
  _thecal_put_bool (w, rx->ptm.enabled);
  _thecal_put_i64 (w, rx->ptm.dose_ng);
  _thecal_put_i64 (w, rx->ptm.duration_ms);
  _thecal_put_i64 (w, rx->ptm.lockout_ms);
  _thecal_put_i32 (w, rx->ptm.max_per_24h);
}

/* Reads one prescription; a version other than 1 sets *@bad_version. */
static void
get_prescription (ThecalReader *r, ThecalPrescription *rx, bool *bad_version)
{
  uint8_t mode, n;

  memset (rx, 0, sizeof *rx);
  rx->mode = THECAL_MODE_STOPPED;
  if (_thecal_get_u8 (r) != THECAL_PRESCRIPTION_ENCODING_VERSION)
    {
      if (r->ok && bad_version != NULL)
        *bad_version = true;
      r->ok = false;
      return;
    }
  _thecal_get_text (r, rx->drug_id, sizeof rx->drug_id);
  rx->concentration_ng_per_ml = _thecal_get_i64 (r);
  mode = _thecal_get_u8 (r);
  if (mode >= THECAL_MODE_N_MODES)
    r->ok = false;
  else
    rx->mode = (ThecalMode) mode;
  get_amount (r, &rx->continuous);
  n = _thecal_get_u8 (r);
  if (n > THECAL_FLEX_STEPS_MAX)
    {
      r->ok = false;
      return;
    }
  rx->n_flex_steps = n;
  for (int32_t i = 0; i < rx->n_flex_steps && r->ok; i++)
    {
      rx->flex_steps[i].start_min = _thecal_get_i32 (r);
      rx->flex_steps[i].duration_min = _thecal_get_i32 (r);
      get_amount (r, &rx->flex_steps[i].amount);
    }
  n = _thecal_get_u8 (r);
  if (n > THECAL_PERIODIC_BOLUSES_MAX)
    {
      r->ok = false;
      return;
    }
  rx->n_periodic_boluses = n;
  for (int32_t i = 0; i < rx->n_periodic_boluses && r->ok; i++)
    {
      rx->periodic_boluses[i].start_min = _thecal_get_i32 (r);
      rx->periodic_boluses[i].dose_ng = _thecal_get_i64 (r);
      rx->periodic_boluses[i].duration_ms = _thecal_get_i64 (r);
    }
  rx->ptm.enabled = _thecal_get_bool (r);
  rx->ptm.dose_ng = _thecal_get_i64 (r);
  rx->ptm.duration_ms = _thecal_get_i64 (r);
  rx->ptm.lockout_ms = _thecal_get_i64 (r);
  rx->ptm.max_per_24h = _thecal_get_i32 (r);
}

bool
thecal_prescription_encode (const ThecalPrescription *rx,
                            uint8_t *out,
                            size_t capacity,
                            size_t *out_length,
                            ThecalProtoError *error)
{
  ThecalWriter w;

  if (out_length != NULL)
    *out_length = 0;
  if (rx == NULL)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "no prescription");
  if (!valid_prescription (rx, error))
    return false;
  _thecal_writer_init (&w, out, capacity);
  put_prescription (&w, rx);
  if (!w.ok)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "the prescription needs more than %zu bytes",
                                   capacity);
  if (out_length != NULL)
    *out_length = w.length;
  return true;
}

bool
thecal_prescription_decode (const uint8_t *data, size_t length, ThecalPrescription *rx, ThecalProtoError *error)
{
  ThecalReader r;
  bool bad_version = false;

  _thecal_reader_init (&r, data, length);
  get_prescription (&r, rx, &bad_version);
  if (bad_version)
    {
      thecal_prescription_init (rx);
      return thecal_proto_error_set (error, THECAL_PROTO_ERROR_UNSUPPORTED_VERSION, 0,
                                     "prescription encoding version %u is not supported", (unsigned) data[0]);
    }
  if (!_thecal_reader_done (&r) || !valid_prescription (rx, NULL))
    {
      thecal_prescription_init (rx);
      return thecal_proto_error_set (error, THECAL_PROTO_ERROR_BAD_REQUEST, 0,
                                     "the prescription encoding is malformed (byte %zu of %zu)", r.offset, length);
    }
  return true;
}

bool
thecal_prescription_checksum (const ThecalPrescription *rx, ThecalChecksum *checksum, ThecalProtoError *error)
{
  uint8_t buffer[THECAL_PRESCRIPTION_ENCODING_MAX];
  size_t length = 0;

  memset (checksum, 0, sizeof *checksum);
  if (!thecal_prescription_encode (rx, buffer, sizeof buffer, &length, error))
    return false;
  crypto_generichash (checksum->bytes, sizeof checksum->bytes, buffer, length, NULL, 0);
  return true;
}

bool
thecal_prescription_equal (const ThecalPrescription *a, const ThecalPrescription *b)
{
  uint8_t ea[THECAL_PRESCRIPTION_ENCODING_MAX], eb[THECAL_PRESCRIPTION_ENCODING_MAX];
  size_t la = 0, lb = 0;

  if (!thecal_prescription_encode (a, ea, sizeof ea, &la, NULL) || !thecal_prescription_encode (b, eb, sizeof eb, &lb, NULL))
    return false;
  return la == lb && memcmp (ea, eb, la) == 0;
}

/* ---- shared pieces --------------------------------------------------------------------------- */

static void
put_checksum (ThecalWriter *w, const ThecalChecksum *checksum)
{
  _thecal_put_bytes (w, checksum->bytes, sizeof checksum->bytes);
}

static void
get_checksum (ThecalReader *r, ThecalChecksum *checksum)
{
  _thecal_get_bytes (r, checksum->bytes, sizeof checksum->bytes);
}

static bool
checksum_is_zero (const ThecalChecksum *checksum)
{
  static const ThecalChecksum zero;

  return memcmp (checksum->bytes, zero.bytes, sizeof zero.bytes) == 0;
}

static bool
valid_text (const char *text, size_t capacity, const char *field, bool non_empty, ThecalProtoError *error)
{
  if (!_thecal_text_valid (text, capacity))
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0,
                                   "%s is not printable ASCII of at most %zu characters", field, capacity - 1);
  if (non_empty && text[0] == '\0')
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "%s is empty", field);
  return true;
}

/* ---- identity, handshake --------------------------------------------------------------------- */

static bool
valid_identity (const ThecalProtoIdentity *identity, ThecalProtoError *error)
{
  if (!valid_text (identity->serial, sizeof identity->serial, "serial", true, error)
      || !valid_text (identity->model_id, sizeof identity->model_id, "model_id", true, error))
    return false;
  if (identity->protocol_version == 0)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "protocol_version is 0");
  return true;
}

static void
put_identity (ThecalWriter *w, const ThecalProtoIdentity *identity)
{
  _thecal_put_text (w, identity->serial);
  _thecal_put_text (w, identity->model_id);
  _thecal_put_u8 (w, identity->protocol_version);
}

static void
get_identity (ThecalReader *r, ThecalProtoIdentity *identity)
{
  _thecal_get_text (r, identity->serial, sizeof identity->serial);
  _thecal_get_text (r, identity->model_id, sizeof identity->model_id);
  identity->protocol_version = _thecal_get_u8 (r);
}

/* ---- status ---------------------------------------------------------------------------------- */

static bool
valid_status (const ThecalProtoStatus *s, ThecalProtoError *error)
{
  if ((int) s->mode < 0 || s->mode >= THECAL_MODE_N_MODES)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "mode %d is unknown", (int) s->mode);
  if (!valid_text (s->reservoir_drug_id, sizeof s->reservoir_drug_id, "reservoir_drug_id", false, error))
    return false;
  if ((int) s->bolus_source < 0 || s->bolus_source >= THECAL_PROTO_SOURCE_N_SOURCES)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "bolus_source %d is unknown",
                                   (int) s->bolus_source);
  if (s->n_alarms < 0 || s->n_alarms > THECAL_PROTO_ALARMS_MAX)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "n_alarms %d is not 0..%d", (int) s->n_alarms,
                                   THECAL_PROTO_ALARMS_MAX);
  for (int32_t i = 0; i < s->n_alarms; i++)
    {
      if ((int) s->alarms[i].kind < 0 || s->alarms[i].kind >= THECAL_PROTO_ALARM_N_KINDS)
        return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "alarms[%d].kind %d is unknown", (int) i,
                                       (int) s->alarms[i].kind);
      if (i > 0 && s->alarms[i].kind <= s->alarms[i - 1].kind)
        return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0,
                                       "alarms[%d].kind is not above the one before (one entry per kind, ascending)", (int) i);
    }
  if (!s->has_staged && !checksum_is_zero (&s->staged_checksum))
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "staged_checksum is set but has_staged is not");
  return true;
}

static void
put_status (ThecalWriter *w, const ThecalProtoStatus *s)
{
  _thecal_put_i64 (w, s->pump_ms);
  _thecal_put_u8 (w, (uint8_t) s->mode);
  _thecal_put_bool (w, s->delivering);
  _thecal_put_i64 (w, s->reservoir_estimate_nl);
  _thecal_put_i64 (w, s->reservoir_set_nl);
  _thecal_put_text (w, s->reservoir_drug_id);
  _thecal_put_i64 (w, s->reservoir_concentration_ng_per_ml);
  _thecal_put_i32 (w, s->battery_bp);
  _thecal_put_bool (w, s->eri);
  _thecal_put_bool (w, s->eos);
  _thecal_put_i64 (w, s->eri_pump_ms);
  _thecal_put_i64 (w, s->eos_pump_ms);
  _thecal_put_bool (w, s->bolus_active);
  _thecal_put_u8 (w, (uint8_t) s->bolus_source);
  _thecal_put_i64 (w, s->bolus_planned_nl);
  _thecal_put_i64 (w, s->bolus_done_nl);
  _thecal_put_bool (w, s->ptm_active);
  _thecal_put_i32 (w, s->ptm_grants_24h);
  _thecal_put_i64 (w, s->ptm_next_allowed_pump_ms);
  _thecal_put_u8 (w, (uint8_t) s->n_alarms);
  for (int32_t i = 0; i < s->n_alarms; i++)
    {
      const ThecalProtoAlarmState *a = &s->alarms[i];

      _thecal_put_u8 (w, (uint8_t) a->kind);
      _thecal_put_bool (w, a->condition);
      _thecal_put_bool (w, a->raised);
      _thecal_put_bool (w, a->acknowledged);
      _thecal_put_bool (w, a->critical);
      _thecal_put_i64 (w, a->raised_at_pump_ms);
      _thecal_put_i64 (w, a->count);
    }
  _thecal_put_i64 (w, s->log_oldest_seq);
  _thecal_put_i64 (w, s->log_next_seq);
  put_checksum (w, &s->active_checksum);
  _thecal_put_bool (w, s->has_staged);
  put_checksum (w, &s->staged_checksum);
}

static void
get_status (ThecalReader *r, ThecalProtoStatus *s)
{
  uint8_t n;

  s->pump_ms = _thecal_get_i64 (r);
  s->mode = (ThecalMode) _thecal_get_u8 (r);
  s->delivering = _thecal_get_bool (r);
  s->reservoir_estimate_nl = _thecal_get_i64 (r);
  s->reservoir_set_nl = _thecal_get_i64 (r);
  _thecal_get_text (r, s->reservoir_drug_id, sizeof s->reservoir_drug_id);
  s->reservoir_concentration_ng_per_ml = _thecal_get_i64 (r);
  s->battery_bp = _thecal_get_i32 (r);
  s->eri = _thecal_get_bool (r);
  s->eos = _thecal_get_bool (r);
  s->eri_pump_ms = _thecal_get_i64 (r);
  s->eos_pump_ms = _thecal_get_i64 (r);
  s->bolus_active = _thecal_get_bool (r);
  s->bolus_source = (ThecalProtoSource) _thecal_get_u8 (r);
  s->bolus_planned_nl = _thecal_get_i64 (r);
  s->bolus_done_nl = _thecal_get_i64 (r);
  s->ptm_active = _thecal_get_bool (r);
  s->ptm_grants_24h = _thecal_get_i32 (r);
  s->ptm_next_allowed_pump_ms = _thecal_get_i64 (r);
  n = _thecal_get_u8 (r);
  if (n > THECAL_PROTO_ALARMS_MAX)
    {
      r->ok = false;
      return;
    }
  s->n_alarms = n;
  for (int32_t i = 0; i < s->n_alarms && r->ok; i++)
    {
      ThecalProtoAlarmState *a = &s->alarms[i];

      a->kind = (ThecalProtoAlarm) _thecal_get_u8 (r);
      a->condition = _thecal_get_bool (r);
      a->raised = _thecal_get_bool (r);
      a->acknowledged = _thecal_get_bool (r);
      a->critical = _thecal_get_bool (r);
      a->raised_at_pump_ms = _thecal_get_i64 (r);
      a->count = _thecal_get_i64 (r);
    }
  s->log_oldest_seq = _thecal_get_i64 (r);
  s->log_next_seq = _thecal_get_i64 (r);
  get_checksum (r, &s->active_checksum);
  s->has_staged = _thecal_get_bool (r);
  get_checksum (r, &s->staged_checksum);
}

/* ---- log ------------------------------------------------------------------------------------- */

static bool
valid_log (const ThecalMsgLog *log, ThecalProtoError *error)
{
  if (log->oldest_seq < 1 || log->next_seq < log->oldest_seq)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0,
                                   "oldest_seq %lld and next_seq %lld are not 1 <= oldest <= next",
                                   (long long) log->oldest_seq, (long long) log->next_seq);
  if (log->n_events < 0 || log->n_events > THECAL_PROTO_LOG_BATCH_MAX)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "n_events %d is not 0..%d",
                                   (int) log->n_events, THECAL_PROTO_LOG_BATCH_MAX);
  for (int32_t i = 0; i < log->n_events; i++)
    {
      int64_t seq = log->events[i].seq;

      if (seq < log->oldest_seq || seq >= log->next_seq)
        return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0,
                                       "events[%d].seq %lld is outside oldest_seq .. next_seq - 1", (int) i, (long long) seq);
      if (i > 0 && seq != log->events[i - 1].seq + 1)
        return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0,
                                       "events[%d].seq %lld does not follow the one before", (int) i, (long long) seq);
    }
  return true;
}

static void
put_log (ThecalWriter *w, const ThecalMsgLog *log)
{
  _thecal_put_i64 (w, log->oldest_seq);
  _thecal_put_i64 (w, log->next_seq);
  _thecal_put_u16 (w, (uint16_t) log->n_events);
  for (int32_t i = 0; i < log->n_events; i++)
    {
      const ThecalProtoEvent *e = &log->events[i];

      _thecal_put_i64 (w, e->seq);
      _thecal_put_i64 (w, e->pump_ms);
      _thecal_put_i32 (w, e->type);
      _thecal_put_i32 (w, e->code);
      for (int k = 0; k < 3; k++)
        _thecal_put_i64 (w, e->args[k]);
    }
}

static void
get_log (ThecalReader *r, ThecalMsgLog *log)
{
  uint16_t n;

  log->oldest_seq = _thecal_get_i64 (r);
  log->next_seq = _thecal_get_i64 (r);
  n = _thecal_get_u16 (r);
  if (n > THECAL_PROTO_LOG_BATCH_MAX)
    {
      r->ok = false;
      return;
    }
  log->n_events = n;
  for (int32_t i = 0; i < log->n_events && r->ok; i++)
    {
      ThecalProtoEvent *e = &log->events[i];

      e->seq = _thecal_get_i64 (r);
      e->pump_ms = _thecal_get_i64 (r);
      e->type = _thecal_get_i32 (r);
      e->code = _thecal_get_i32 (r);
      for (int k = 0; k < 3; k++)
        e->args[k] = _thecal_get_i64 (r);
    }
}

/* ---- bolus, PTM ------------------------------------------------------------------------------ */

static bool
valid_start_bolus (const ThecalMsgStartBolus *b, ThecalProtoError *error)
{
  if (b->kind != THECAL_PROTO_BOLUS_CLINICIAN && b->kind != THECAL_PROTO_BOLUS_PRIMING && b->kind != THECAL_PROTO_BOLUS_BRIDGE)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "kind %d is not 1..3", (int) b->kind);
  if (b->plan.n_phases < 0 || b->plan.n_phases > THECAL_BOLUS_PHASES_MAX)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "plan.n_phases %d is not 0..%d",
                                   (int) b->plan.n_phases, THECAL_BOLUS_PHASES_MAX);
  for (int32_t i = 0; i < b->plan.n_phases; i++)
    {
      ThecalPhaseKind kind = b->plan.phases[i].kind;

      if (kind != THECAL_PHASE_PRIMING && kind != THECAL_PHASE_BRIDGE && kind != THECAL_PHASE_PRESCRIPTION)
        return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "plan.phases[%d].kind %d is unknown",
                                       (int) i, (int) kind);
    }
  return true;
}

static void
put_start_bolus (ThecalWriter *w, const ThecalMsgStartBolus *b)
{
  put_checksum (w, &b->active);
  _thecal_put_u8 (w, (uint8_t) b->kind);
  _thecal_put_i64 (w, b->dose_ng);
  _thecal_put_i64 (w, b->duration_ms);
  _thecal_put_i64 (w, b->plan.dead_space_nl);
  _thecal_put_i64 (w, b->plan.catheter_volume_nl);
  _thecal_put_i64 (w, b->plan.target_dose_rate_ng_per_day);
  _thecal_put_u8 (w, (uint8_t) b->plan.n_phases);
  for (int32_t i = 0; i < b->plan.n_phases; i++)
    {
      const ThecalBolusPhase *p = &b->plan.phases[i];

      _thecal_put_u8 (w, (uint8_t) p->kind);
      _thecal_put_i64 (w, p->volume_nl);
      _thecal_put_i64 (w, p->rate_nl_per_day);
      _thecal_put_i64 (w, p->duration_ms);
      _thecal_put_i64 (w, p->concentration_ng_per_ml);
      _thecal_put_i64 (w, p->dose_ng);
      _thecal_put_i64 (w, p->dose_rate_ng_per_day);
    }
  _thecal_put_bool (w, b->plan.rate_capped);
}

static void
get_start_bolus (ThecalReader *r, ThecalMsgStartBolus *b)
{
  uint8_t n;

  get_checksum (r, &b->active);
  b->kind = (ThecalProtoBolusKind) _thecal_get_u8 (r);
  b->dose_ng = _thecal_get_i64 (r);
  b->duration_ms = _thecal_get_i64 (r);
  b->plan.dead_space_nl = _thecal_get_i64 (r);
  b->plan.catheter_volume_nl = _thecal_get_i64 (r);
  b->plan.target_dose_rate_ng_per_day = _thecal_get_i64 (r);
  n = _thecal_get_u8 (r);
  if (n > THECAL_BOLUS_PHASES_MAX)
    {
      r->ok = false;
      return;
    }
  b->plan.n_phases = n;
  for (int32_t i = 0; i < b->plan.n_phases && r->ok; i++)
    {
      ThecalBolusPhase *p = &b->plan.phases[i];

      p->kind = (ThecalPhaseKind) _thecal_get_u8 (r);
      p->volume_nl = _thecal_get_i64 (r);
      p->rate_nl_per_day = _thecal_get_i64 (r);
      p->duration_ms = _thecal_get_i64 (r);
      p->concentration_ng_per_ml = _thecal_get_i64 (r);
      p->dose_ng = _thecal_get_i64 (r);
      p->dose_rate_ng_per_day = _thecal_get_i64 (r);
    }
  b->plan.rate_capped = _thecal_get_bool (r);
}

static void
put_ptm (ThecalWriter *w, const ThecalPtmSettings *ptm)
{
  _thecal_put_bool (w, ptm->enabled);
  _thecal_put_i64 (w, ptm->dose_ng);
  _thecal_put_i64 (w, ptm->duration_ms);
  _thecal_put_i64 (w, ptm->lockout_ms);
  _thecal_put_i32 (w, ptm->max_per_24h);
}

static void
get_ptm (ThecalReader *r, ThecalPtmSettings *ptm)
{
  ptm->enabled = _thecal_get_bool (r);
  ptm->dose_ng = _thecal_get_i64 (r);
  ptm->duration_ms = _thecal_get_i64 (r);
  ptm->lockout_ms = _thecal_get_i64 (r);
  ptm->max_per_24h = _thecal_get_i32 (r);
}

/* ---- the bodies ------------------------------------------------------------------------------ */

/* Which body a (type, direction) pair carries. */
typedef enum
{
  BODY_NONE = 0, /* not a message */
  BODY_EMPTY,
  BODY_IDENTITY,
  BODY_HELLO,
  BODY_HELLO_REPLY,
  BODY_AUTH_REPLY,
  BODY_STATUS,
  BODY_PRESCRIPTION,
  BODY_STAGED,
  BODY_READ_LOG,
  BODY_LOG,
  BODY_STAGE,
  BODY_CHECKSUM,
  BODY_COMMIT_REPLY,
  BODY_CANCEL_STAGED_REPLY,
  BODY_SET_RESERVOIR,
  BODY_REFILL_COMMIT,
  BODY_START_BOLUS,
  BODY_SET_PTM,
  BODY_SET_CLOCK,
  BODY_CLOCK_REPLY,
  BODY_ACK_ALARM,
  BODY_WAND_INFO,
  BODY_WAND_LINK,
  BODY_ERROR,
} Body;

static Body
body_of (uint8_t type, bool response)
{
  switch ((ThecalMsgType) type)
    {
    case THECAL_MSG_IDENTIFY:
      return response ? BODY_IDENTITY : BODY_EMPTY;
    case THECAL_MSG_HELLO:
      return response ? BODY_HELLO_REPLY : BODY_HELLO;
    case THECAL_MSG_AUTH:
      return response ? BODY_AUTH_REPLY : BODY_EMPTY;
    case THECAL_MSG_CLOSE:
      return BODY_EMPTY;
    case THECAL_MSG_READ_STATUS:
      return response ? BODY_STATUS : BODY_EMPTY;
    case THECAL_MSG_READ_PRESCRIPTION:
      return response ? BODY_PRESCRIPTION : BODY_EMPTY;
    case THECAL_MSG_READ_STAGED:
      return response ? BODY_STAGED : BODY_EMPTY;
    case THECAL_MSG_READ_LOG:
      return response ? BODY_LOG : BODY_READ_LOG;
    case THECAL_MSG_STAGE:
      return response ? BODY_CHECKSUM : BODY_STAGE;
    case THECAL_MSG_COMMIT:
      return response ? BODY_COMMIT_REPLY : BODY_CHECKSUM;
    case THECAL_MSG_CANCEL_STAGED:
      return response ? BODY_CANCEL_STAGED_REPLY : BODY_EMPTY;
    case THECAL_MSG_REFILL_COMMIT:
      return response ? BODY_COMMIT_REPLY : BODY_REFILL_COMMIT;
    case THECAL_MSG_SET_RESERVOIR:
      return response ? BODY_EMPTY : BODY_SET_RESERVOIR;
    case THECAL_MSG_START_BOLUS:
      return response ? BODY_EMPTY : BODY_START_BOLUS;
    case THECAL_MSG_CANCEL_BOLUS:
      return BODY_EMPTY;
    case THECAL_MSG_SET_PTM:
      return response ? BODY_CHECKSUM : BODY_SET_PTM;
    case THECAL_MSG_SET_CLOCK:
      return response ? BODY_CLOCK_REPLY : BODY_SET_CLOCK;
    case THECAL_MSG_ACK_ALARM:
      return response ? BODY_EMPTY : BODY_ACK_ALARM;
    case THECAL_MSG_WAND_INFO:
      return response ? BODY_WAND_INFO : BODY_EMPTY;
    case THECAL_MSG_WAND_LINK:
      return response ? BODY_WAND_LINK : BODY_EMPTY;
    case THECAL_MSG_ERROR:
      return response ? BODY_ERROR : BODY_NONE;
    default:
      return BODY_NONE;
    }
}

static bool
valid_body (Body body, const ThecalMessage *m, ThecalProtoError *error)
{
  switch (body)
    {
    case BODY_NONE:
      return thecal_proto_error_set (error, THECAL_PROTO_ERROR_UNKNOWN_TYPE, 0, "no such message");
    case BODY_EMPTY:
    case BODY_HELLO:
    case BODY_CHECKSUM:
    case BODY_COMMIT_REPLY:
    case BODY_CANCEL_STAGED_REPLY:
    case BODY_SET_CLOCK:
    case BODY_CLOCK_REPLY:
      return true;
    case BODY_IDENTITY:
      return valid_identity (&m->identity, error);
    case BODY_HELLO_REPLY:
      return valid_identity (&m->hello_reply.identity, error);
    case BODY_AUTH_REPLY:
      if (m->auth_reply.session_timeout_ms == 0)
        return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "session_timeout_ms is 0");
      return true;
    case BODY_STATUS:
      return valid_status (&m->status, error);
    case BODY_PRESCRIPTION:
      {
        ThecalChecksum hash;

        if (!valid_prescription (&m->prescription.rx, error) || !thecal_prescription_checksum (&m->prescription.rx, &hash, error))
          return false;
        if (!thecal_checksum_equal (&hash, &m->prescription.checksum))
          return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "checksum is not the prescription's");
        return true;
      }
    case BODY_STAGED:
      {
        ThecalChecksum hash;

        if (!valid_prescription (&m->staged.rx, error) || !thecal_prescription_checksum (&m->staged.rx, &hash, error))
          return false;
        if (!thecal_checksum_equal (&hash, &m->staged.checksum))
          return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "checksum is not the prescription's");
        return true;
      }
    case BODY_READ_LOG:
      if (m->read_log.from_seq < 1)
        return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "from_seq %lld is below 1",
                                       (long long) m->read_log.from_seq);
      return true;
    case BODY_LOG:
      return valid_log (&m->log, error);
    case BODY_STAGE:
      return valid_prescription (&m->stage.rx, error);
    case BODY_SET_RESERVOIR:
      return valid_text (m->set_reservoir.drug_id, sizeof m->set_reservoir.drug_id, "drug_id", false, error);
    case BODY_REFILL_COMMIT:
      return valid_text (m->refill_commit.fill.drug_id, sizeof m->refill_commit.fill.drug_id, "fill.drug_id", false, error);
    case BODY_START_BOLUS:
      return valid_start_bolus (&m->start_bolus, error);
    case BODY_SET_PTM:
      return true;
    case BODY_ACK_ALARM:
      if ((int) m->ack_alarm.alarm < 0 || m->ack_alarm.alarm >= THECAL_PROTO_ALARM_N_KINDS)
        return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "alarm %d is unknown", (int) m->ack_alarm.alarm);
      return true;
    case BODY_WAND_INFO:
      if (!valid_text (m->wand_info.serial, sizeof m->wand_info.serial, "serial", true, error)
          || !valid_text (m->wand_info.firmware_version, sizeof m->wand_info.firmware_version, "firmware_version", true, error))
        return false;
      return true;
    case BODY_WAND_LINK:
      if (m->wand_link.quality_percent > 100)
        return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "quality_percent %u is above 100",
                                       (unsigned) m->wand_link.quality_percent);
      return true;
    case BODY_ERROR:
      if (m->error.error.code < THECAL_PROTO_ERROR_BAD_FRAME || m->error.error.code > THECAL_PROTO_ERROR_WIRE_MAX)
        return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "error code %d is not a wire code 1..%d",
                                       (int) m->error.error.code, THECAL_PROTO_ERROR_WIRE_MAX);
      return valid_text (m->error.error.reason, sizeof m->error.error.reason, "reason", false, error);
    default:
      return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "no such body");
    }
}

static void
put_body (ThecalWriter *w, Body body, const ThecalMessage *m)
{
  _thecal_put_u8 (w, THECAL_MSG_VERSION);
  switch (body)
    {
    case BODY_NONE:
    case BODY_EMPTY:
      break;
    case BODY_IDENTITY:
      put_identity (w, &m->identity);
      break;
    case BODY_HELLO:
      _thecal_put_bytes (w, m->hello.nonce, sizeof m->hello.nonce);
      break;
    case BODY_HELLO_REPLY:
      _thecal_put_bytes (w, m->hello_reply.nonce, sizeof m->hello_reply.nonce);
      put_identity (w, &m->hello_reply.identity);
      break;
    case BODY_AUTH_REPLY:
      _thecal_put_u32 (w, m->auth_reply.session_timeout_ms);
      break;
    case BODY_STATUS:
      put_status (w, &m->status);
      break;
    case BODY_PRESCRIPTION:
      put_checksum (w, &m->prescription.checksum);
      put_prescription (w, &m->prescription.rx);
      break;
    case BODY_STAGED:
      put_checksum (w, &m->staged.replaces);
      put_checksum (w, &m->staged.checksum);
      put_prescription (w, &m->staged.rx);
      break;
    case BODY_READ_LOG:
      _thecal_put_i64 (w, m->read_log.from_seq);
      _thecal_put_u16 (w, m->read_log.max_events);
      break;
    case BODY_LOG:
      put_log (w, &m->log);
      break;
    case BODY_STAGE:
      put_checksum (w, &m->stage.replaces);
      put_prescription (w, &m->stage.rx);
      break;
    case BODY_CHECKSUM:
      put_checksum (w, &m->checksum.checksum);
      break;
    case BODY_COMMIT_REPLY:
      put_checksum (w, &m->commit_reply.active);
      put_checksum (w, &m->commit_reply.previous);
      break;
    case BODY_CANCEL_STAGED_REPLY:
      _thecal_put_bool (w, m->cancel_staged_reply.had_staged);
      break;
    case BODY_SET_RESERVOIR:
      _thecal_put_i64 (w, m->set_reservoir.volume_nl);
      _thecal_put_text (w, m->set_reservoir.drug_id);
      _thecal_put_i64 (w, m->set_reservoir.concentration_ng_per_ml);
      break;
    case BODY_REFILL_COMMIT:
      _thecal_put_i64 (w, m->refill_commit.fill.volume_nl);
      _thecal_put_text (w, m->refill_commit.fill.drug_id);
      _thecal_put_i64 (w, m->refill_commit.fill.concentration_ng_per_ml);
      put_checksum (w, &m->refill_commit.staged);
      break;
    case BODY_START_BOLUS:
      put_start_bolus (w, &m->start_bolus);
      break;
    case BODY_SET_PTM:
      put_checksum (w, &m->set_ptm.active);
      put_ptm (w, &m->set_ptm.ptm);
      break;
    case BODY_SET_CLOCK:
      _thecal_put_i64 (w, m->set_clock.pump_local_ms);
      break;
    case BODY_CLOCK_REPLY:
      _thecal_put_i64 (w, m->clock_reply.previous_pump_ms);
      _thecal_put_i64 (w, m->clock_reply.pump_ms);
      break;
    case BODY_ACK_ALARM:
      _thecal_put_u8 (w, (uint8_t) m->ack_alarm.alarm);
      break;
    case BODY_WAND_INFO:
      _thecal_put_text (w, m->wand_info.serial);
      _thecal_put_text (w, m->wand_info.firmware_version);
      _thecal_put_u8 (w, m->wand_info.protocol_version);
      break;
    case BODY_WAND_LINK:
      _thecal_put_i16 (w, m->wand_link.rssi_dbm);
      _thecal_put_u8 (w, m->wand_link.quality_percent);
      _thecal_put_bool (w, m->wand_link.pump_in_range);
      break;
    case BODY_ERROR:
      _thecal_put_u8 (w, m->error.request_type);
      _thecal_put_u8 (w, (uint8_t) m->error.error.code);
      _thecal_put_u16 (w, m->error.error.detail);
      _thecal_put_text (w, m->error.error.reason);
      break;
    default:
      w->ok = false;
      break;
    }
}

/* Reads the body after the version byte. */
static void
get_body (ThecalReader *r, Body body, ThecalMessage *m, bool *bad_version)
{
  switch (body)
    {
    case BODY_NONE:
      r->ok = false;
      break;
    case BODY_EMPTY:
      break;
    case BODY_IDENTITY:
      get_identity (r, &m->identity);
      break;
    case BODY_HELLO:
      _thecal_get_bytes (r, m->hello.nonce, sizeof m->hello.nonce);
      break;
    case BODY_HELLO_REPLY:
      _thecal_get_bytes (r, m->hello_reply.nonce, sizeof m->hello_reply.nonce);
      get_identity (r, &m->hello_reply.identity);
      break;
    case BODY_AUTH_REPLY:
      m->auth_reply.session_timeout_ms = _thecal_get_u32 (r);
      break;
    case BODY_STATUS:
      get_status (r, &m->status);
      break;
    case BODY_PRESCRIPTION:
      /* the validator checks the checksum against the canonical re-encoding */
      get_checksum (r, &m->prescription.checksum);
      get_prescription (r, &m->prescription.rx, bad_version);
      break;
    case BODY_STAGED:
      get_checksum (r, &m->staged.replaces);
      get_checksum (r, &m->staged.checksum);
      get_prescription (r, &m->staged.rx, bad_version);
      break;
    case BODY_READ_LOG:
      m->read_log.from_seq = _thecal_get_i64 (r);
      m->read_log.max_events = _thecal_get_u16 (r);
      break;
    case BODY_LOG:
      get_log (r, &m->log);
      break;
    case BODY_STAGE:
      get_checksum (r, &m->stage.replaces);
      get_prescription (r, &m->stage.rx, bad_version);
      break;
    case BODY_CHECKSUM:
      get_checksum (r, &m->checksum.checksum);
      break;
    case BODY_COMMIT_REPLY:
      get_checksum (r, &m->commit_reply.active);
      get_checksum (r, &m->commit_reply.previous);
      break;
    case BODY_CANCEL_STAGED_REPLY:
      m->cancel_staged_reply.had_staged = _thecal_get_bool (r);
      break;
    case BODY_SET_RESERVOIR:
      m->set_reservoir.volume_nl = _thecal_get_i64 (r);
      _thecal_get_text (r, m->set_reservoir.drug_id, sizeof m->set_reservoir.drug_id);
      m->set_reservoir.concentration_ng_per_ml = _thecal_get_i64 (r);
      break;
    case BODY_REFILL_COMMIT:
      m->refill_commit.fill.volume_nl = _thecal_get_i64 (r);
      _thecal_get_text (r, m->refill_commit.fill.drug_id, sizeof m->refill_commit.fill.drug_id);
      m->refill_commit.fill.concentration_ng_per_ml = _thecal_get_i64 (r);
      get_checksum (r, &m->refill_commit.staged);
      break;
    case BODY_START_BOLUS:
      get_start_bolus (r, &m->start_bolus);
      break;
    case BODY_SET_PTM:
      get_checksum (r, &m->set_ptm.active);
      get_ptm (r, &m->set_ptm.ptm);
      break;
    case BODY_SET_CLOCK:
      m->set_clock.pump_local_ms = _thecal_get_i64 (r);
      break;
    case BODY_CLOCK_REPLY:
      m->clock_reply.previous_pump_ms = _thecal_get_i64 (r);
      m->clock_reply.pump_ms = _thecal_get_i64 (r);
      break;
    case BODY_ACK_ALARM:
      m->ack_alarm.alarm = (ThecalProtoAlarm) _thecal_get_u8 (r);
      break;
    case BODY_WAND_INFO:
      _thecal_get_text (r, m->wand_info.serial, sizeof m->wand_info.serial);
      _thecal_get_text (r, m->wand_info.firmware_version, sizeof m->wand_info.firmware_version);
      m->wand_info.protocol_version = _thecal_get_u8 (r);
      break;
    case BODY_WAND_LINK:
      m->wand_link.rssi_dbm = _thecal_get_i16 (r);
      m->wand_link.quality_percent = _thecal_get_u8 (r);
      m->wand_link.pump_in_range = _thecal_get_bool (r);
      break;
    case BODY_ERROR:
      m->error.request_type = _thecal_get_u8 (r);
      m->error.error.code = (ThecalProtoErrorCode) _thecal_get_u8 (r);
      m->error.error.detail = _thecal_get_u16 (r);
      _thecal_get_text (r, m->error.error.reason, sizeof m->error.error.reason);
      break;
    default:
      r->ok = false;
      break;
    }
}

void
thecal_message_init (ThecalMessage *msg, ThecalMsgType type, bool response)
{
  memset (msg, 0, sizeof *msg);
  msg->type = type;
  msg->response = response;
  if (body_of (type, response) == BODY_PRESCRIPTION)
    thecal_prescription_init (&msg->prescription.rx);
}

bool
thecal_message_encode (const ThecalMessage *msg,
                       uint8_t *out,
                       size_t capacity,
                       size_t *out_length,
                       ThecalProtoError *error)
{
  ThecalWriter w;
  Body body;

  if (out_length != NULL)
    *out_length = 0;
  if (msg == NULL)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "no message");
  body = body_of ((uint8_t) msg->type, msg->response);
  if (body == BODY_NONE)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "%s %s is not a message",
                                   thecal_msg_type_name ((uint8_t) msg->type), msg->response ? "answer" : "request");
  if (!valid_body (body, msg, error))
    return false;
  _thecal_writer_init (&w, out, capacity);
  put_body (&w, body, msg);
  if (!w.ok)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "%s needs more than %zu bytes",
                                   thecal_msg_type_name ((uint8_t) msg->type), capacity);
  if (out_length != NULL)
    *out_length = w.length;
  return true;
}

bool
thecal_message_decode (uint8_t type,
                       bool response,
                       const uint8_t *data,
                       size_t length,
                       ThecalMessage *msg,
                       ThecalProtoError *error)
{
  ThecalReader r;
  ThecalProtoError inner;
  Body body = body_of (type, response);
  bool bad_version = false;
  uint8_t version;

  memset (msg, 0, sizeof *msg);
  if (body == BODY_NONE)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_UNKNOWN_TYPE, 0, "message type 0x%02x (%s) is not known",
                                   (unsigned) type, response ? "answer" : "request");
  msg->type = (ThecalMsgType) type;
  msg->response = response;
  _thecal_reader_init (&r, data, length);
  version = _thecal_get_u8 (&r);
  if (!r.ok)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_BAD_REQUEST, 0, "%s: empty body", thecal_msg_type_name (type));
  if (version != THECAL_MSG_VERSION)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_UNSUPPORTED_VERSION, 0,
                                   "%s: message version %u is not supported (1 is)", thecal_msg_type_name (type),
                                   (unsigned) version);
  get_body (&r, body, msg, &bad_version);
  if (bad_version)
    {
      thecal_message_init (msg, (ThecalMsgType) type, response);
      return thecal_proto_error_set (error, THECAL_PROTO_ERROR_UNSUPPORTED_VERSION, 0,
                                     "%s: prescription encoding version is not supported (1 is)", thecal_msg_type_name (type));
    }
  if (!r.ok)
    {
      thecal_message_init (msg, (ThecalMsgType) type, response);
      return thecal_proto_error_set (error, THECAL_PROTO_ERROR_BAD_REQUEST, 0,
                                     "%s: malformed or truncated body at byte %zu of %zu", thecal_msg_type_name (type),
                                     r.offset, length);
    }
  if (r.offset != length)
    {
      thecal_message_init (msg, (ThecalMsgType) type, response);
      return thecal_proto_error_set (error, THECAL_PROTO_ERROR_BAD_REQUEST, 0, "%s: %zu bytes after the body",
                                     thecal_msg_type_name (type), length - r.offset);
    }
  thecal_proto_error_clear (&inner);
  if (!valid_body (body, msg, &inner))
    {
      thecal_message_init (msg, (ThecalMsgType) type, response);
      return thecal_proto_error_set (error, THECAL_PROTO_ERROR_BAD_REQUEST, 0, "%s: %s", thecal_msg_type_name (type),
                                     inner.reason);
    }
  return true;
}
