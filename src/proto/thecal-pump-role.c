/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-pump-role.c: the pump side: session rules, the staged prescription, the answer cache.
 *
 * The order in which a frame is judged (docs/protocol.md "The pump side"):
 *  1. not a frame (truncated, bad magic, too long, bad CRC)        → dropped, no answer
 *  2. marked RESPONSE                                              → dropped (never answer an answer)
 *  3. unknown version / unknown type / bad flags                   → clear ERROR
 *  4. wand-local type                                              → clear ERROR WRONG_DESTINATION
 *  5. IDENTIFY, HELLO                                              → clear answers
 *  6. a session type sent in clear                                 → clear ERROR NOT_AUTHENTICATED
 *  7. byte-identical to the last processed request                 → the cached answer again
 *  8. AUTH                                                         → opens a session (or WRONG_KEY)
 *  9. no session / does not authenticate                           → clear ERROR NOT_AUTHENTICATED
 * 10. sequence lower than the last / equal with other content      → clear ERROR REPLAYED / SEQUENCE_REUSED
 * 11. fresh: decoded, applied through ThecalPumpOps, answered encrypted, answer cached.
 * Clear errors are never encrypted: an encrypted frame for a (direction, sequence) is sealed at
 * most once, so a nonce is never reused.
 */
#include "config.h"

#include "thecal-proto-private.h"
#include "thecal-pump-role.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- helpers --------------------------------------------------------------------------------- */

static bool
elapsed_at_least (int64_t now_ms, int64_t since_ms, int64_t limit_ms)
{
  if (now_ms < since_ms)
    return true; /* time went backwards: treat as expired, never as fresh */
  return (uint64_t) now_ms - (uint64_t) since_ms >= (uint64_t) limit_ms;
}

static bool
answer_clear_error (ThecalPumpRole *role,
                    uint8_t request_type,
                    uint32_t seq,
                    ThecalProtoErrorCode code,
                    uint16_t detail,
                    const char *format,
                    ...) __attribute__ ((format (printf, 6, 7)));

/* A clear ERROR answer in role->out. */
static bool
answer_clear_error (ThecalPumpRole *role,
                    uint8_t request_type,
                    uint32_t seq,
                    ThecalProtoErrorCode code,
                    uint16_t detail,
                    const char *format,
                    ...)
{
  ThecalMessage *m = &role->answer;
  char reason[THECAL_PROTO_REASON_MAX];
  size_t body_length = 0;
  va_list args;

  va_start (args, format);
  vsnprintf (reason, sizeof reason, format, args);
  va_end (args);
  thecal_message_init (m, THECAL_MSG_ERROR, true);
  m->error.request_type = request_type;
  thecal_proto_error_set (&m->error.error, code, detail, "%s", reason);
  role->out_length = 0;
  if (!thecal_message_encode (m, role->plain, THECAL_MSG_BODY_MAX, &body_length, NULL)
      || !thecal_frame_encode (THECAL_MSG_ERROR, THECAL_FRAME_FLAG_RESPONSE | THECAL_FRAME_FLAG_ERROR, seq, role->plain,
                               body_length, role->out, sizeof role->out, &role->out_length))
    return false;
  role->stats.answered++;
  role->stats.errors++;
  return true;
}

static void
make_error (ThecalMessage *answer, uint8_t request_type, const ThecalProtoError *error)
{
  ThecalProtoErrorCode code = error->code;

  thecal_message_init (answer, THECAL_MSG_ERROR, true);
  answer->error.request_type = request_type;
  /* A pump op that refused without a wire code is the pump's own fault. */
  if (code < THECAL_PROTO_ERROR_BAD_FRAME || code > THECAL_PROTO_ERROR_WIRE_MAX)
    {
      thecal_proto_error_set (&answer->error.error, THECAL_PROTO_ERROR_INTERNAL, 0, "the pump refused without a valid code: %s",
                              error->reason);
      return;
    }
  thecal_proto_error_set (&answer->error.error, code, error->detail, "%s", error->reason);
}

/* An op returned false: make sure the error says something. */
static bool
op_failed (ThecalProtoError *error, const char *what)
{
  if (error->code == THECAL_PROTO_OK)
    thecal_proto_error_set (error, THECAL_PROTO_ERROR_INTERNAL, 0, "%s failed without a reason", what);
  else if (error->reason[0] == '\0')
    {
      ThecalProtoErrorCode code = error->code;
      uint16_t detail = error->detail;

      thecal_proto_error_set (error, code, detail, "%s refused", what);
    }
  return false;
}

/* The active prescription and its checksum. */
static bool
active_prescription (ThecalPumpRole *role, ThecalPrescription *rx, ThecalChecksum *checksum, ThecalProtoError *error)
{
  ThecalProtoError inner;

  thecal_prescription_init (rx);
  thecal_proto_error_clear (&inner);
  if (!role->config.ops->get_prescription (role->config.ops_data, rx, error))
    return op_failed (error, "reading the active prescription");
  if (!thecal_prescription_checksum (rx, checksum, &inner))
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INTERNAL, 0, "the active prescription cannot be encoded: %s",
                                   inner.reason);
  return true;
}

/* Checks @rx through the ops, then applies it; @checking and @applying name the steps in a
 * refusal. */
static bool
check_and_apply (ThecalPumpRole *role,
                 const ThecalPrescription *rx,
                 const char *checking,
                 const char *applying,
                 ThecalProtoError *error)
{
  if (!role->config.ops->check_prescription (role->config.ops_data, rx, error))
    return op_failed (error, checking);
  if (!role->config.ops->apply_prescription (role->config.ops_data, rx, error))
    return op_failed (error, applying);
  return true;
}

/* The checksum of what runs after a change was applied, read back from the pump; @expected when
 * it cannot be read (the change is made: the answer is no error any more). */
static ThecalChecksum
active_checksum_after_change (ThecalPumpRole *role, const ThecalChecksum *expected)
{
  ThecalPrescription rx;
  ThecalChecksum checksum;
  ThecalProtoError ignored;

  thecal_proto_error_clear (&ignored);
  if (active_prescription (role, &rx, &checksum, &ignored))
    return checksum;
  return *expected;
}

static bool
validate_rx (const ThecalPrescription *rx, ThecalProtoError *error)
{
  ThecalDoseError dose_error;

  memset (&dose_error, 0, sizeof dose_error);
  if (!thecal_prescription_validate (rx, &dose_error))
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_BAD_REQUEST, 0, "%s: %s", dose_error.field, dose_error.message);
  return true;
}

static bool
stale (ThecalProtoError *error)
{
  return thecal_proto_error_set (error, THECAL_PROTO_ERROR_STALE_CHECKSUM, 0,
                                 "the active prescription is not the one named: read it again");
}

/* ---- the requests ---------------------------------------------------------------------------- */

static bool
do_read_status (ThecalPumpRole *role, ThecalMessage *answer, ThecalProtoError *error)
{
  ThecalProtoStatus *status = &answer->status;
  ThecalPrescription rx;

  if (!role->config.ops->get_status (role->config.ops_data, status, error))
    return op_failed (error, "reading the status");
  if (!active_prescription (role, &rx, &status->active_checksum, error))
    return false;
  status->has_staged = role->has_staged;
  if (role->has_staged)
    status->staged_checksum = role->staged_checksum;
  else
    memset (&status->staged_checksum, 0, sizeof status->staged_checksum);
  return true;
}

static bool
do_read_log (ThecalPumpRole *role, const ThecalMsgReadLog *request, ThecalMessage *answer, ThecalProtoError *error)
{
  ThecalMsgLog *log = &answer->log;
  int32_t max = request->max_events == 0 || request->max_events > THECAL_PROTO_LOG_BATCH_MAX ? THECAL_PROTO_LOG_BATCH_MAX
                                                                                             : (int32_t) request->max_events;

  if (!role->config.ops->read_log (role->config.ops_data, request->from_seq, max, log->events, &log->n_events,
                                   &log->oldest_seq, &log->next_seq, error))
    return op_failed (error, "reading the log");
  if (log->n_events < 0 || log->n_events > max)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INTERNAL, 0, "the pump returned %d events for at most %d",
                                   (int) log->n_events, (int) max);
  if (log->n_events > 0 && log->events[0].seq < request->from_seq)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INTERNAL, 0, "the pump returned events before from_seq");
  return true;
}

/* Is @rx for another drug or concentration than the reservoir holds now (a delivering
 * prescription for the fill of a drug change)? A stopped prescription delivers nothing: never. */
static bool
for_other_fill (ThecalPumpRole *role, const ThecalPrescription *rx, bool *other, ThecalProtoError *error)
{
  ThecalProtoStatus status;

  *other = false;
  if (rx->mode == THECAL_MODE_STOPPED)
    return true;
  memset (&status, 0, sizeof status);
  if (!role->config.ops->get_status (role->config.ops_data, &status, error))
    return op_failed (error, "reading the reservoir");
  status.reservoir_drug_id[sizeof status.reservoir_drug_id - 1] = '\0';
  *other = strcmp (status.reservoir_drug_id, rx->drug_id) != 0
           || status.reservoir_concentration_ng_per_ml != rx->concentration_ng_per_ml;
  return true;
}

static bool
do_stage (ThecalPumpRole *role, const ThecalMsgStage *request, ThecalMessage *answer, ThecalProtoError *error)
{
  ThecalPrescription active;
  ThecalChecksum active_sum, staged_sum;
  bool other_fill = false;

  if (!validate_rx (&request->rx, error))
    return false;
  if (!active_prescription (role, &active, &active_sum, error))
    return false;
  if (!thecal_checksum_equal (&active_sum, &request->replaces))
    return stale (error);
  if (!for_other_fill (role, &request->rx, &other_fill, error))
    return false;
  if (other_fill)
    {
      /* A prescription for the fill a refill will bring (a drug or concentration change): checked
       * against that fill; only REFILL_COMMIT with that fill can make it run. */
      ThecalMsgSetReservoir fill;

      memset (&fill, 0, sizeof fill);
      fill.volume_nl = -1;
      memcpy (fill.drug_id, request->rx.drug_id, sizeof fill.drug_id);
      fill.concentration_ng_per_ml = request->rx.concentration_ng_per_ml;
      if (!role->config.ops->check_refill (role->config.ops_data, &fill, &request->rx, error))
        return op_failed (error, "checking the prescription for the new fill");
    }
  else if (!role->config.ops->check_prescription (role->config.ops_data, &request->rx, error))
    return op_failed (error, "checking the prescription");
  if (!thecal_prescription_checksum (&request->rx, &staged_sum, error))
    return false;
  /* Staging replaces any earlier staged copy. Nothing that runs changes. */
  role->staged = request->rx;
  role->staged_checksum = staged_sum;
  role->staged_replaces = active_sum;
  role->has_staged = true;
  answer->checksum.checksum = staged_sum;
  return true;
}

static bool
do_read_staged (ThecalPumpRole *role, ThecalMessage *answer, ThecalProtoError *error)
{
  if (!role->has_staged)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_NOTHING_STAGED, 0, "nothing is staged");
  answer->staged.replaces = role->staged_replaces;
  answer->staged.checksum = role->staged_checksum;
  answer->staged.rx = role->staged;
  return true;
}

static bool
do_commit (ThecalPumpRole *role, const ThecalMsgChecksum *request, ThecalMessage *answer, ThecalProtoError *error)
{
  ThecalPrescription active;
  ThecalChecksum active_sum;
  bool other_fill = false;

  if (!role->has_staged)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_NOTHING_STAGED, 0,
                                   "nothing is staged (a staged copy ends with its session)");
  if (!thecal_checksum_equal (&request->checksum, &role->staged_checksum))
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_STAGED_MISMATCH, 0,
                                   "the staged prescription is not the one confirmed");
  if (!active_prescription (role, &active, &active_sum, error))
    return false;
  if (!thecal_checksum_equal (&active_sum, &role->staged_replaces))
    {
      /* Something else changed the active prescription since STAGE: this copy can never be
       * committed. */
      role->has_staged = false;
      return thecal_proto_error_set (error, THECAL_PROTO_ERROR_STALE_CHECKSUM, 0,
                                     "the active prescription changed since STAGE: stage again");
    }
  if (!for_other_fill (role, &role->staged, &other_fill, error))
    return false;
  if (other_fill)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_DRUG,
                                   "the staged prescription is for another fill: use REFILL_COMMIT");
  if (!check_and_apply (role, &role->staged, "checking the prescription", "applying the prescription", error))
    return false;

  /* Applied: from here on the answer must not be an error (an error means "nothing changed"). */
  role->stats.commits_applied++;
  role->has_staged = false;
  answer->commit_reply.previous = active_sum;
  answer->commit_reply.active = active_checksum_after_change (role, &role->staged_checksum);
  return true;
}

/* REFILL_COMMIT: the refill and the staged prescription for it, at one instant. Checked in the
 * order of COMMIT (nothing staged, another checksum, stale), then the fill against the staged
 * prescription, then the pump's own limits for both; only then are both applied. */
static bool
do_refill_commit (ThecalPumpRole *role, const ThecalMsgRefillCommit *request, ThecalMessage *answer, ThecalProtoError *error)
{
  ThecalPrescription active;
  ThecalChecksum active_sum;

  if (!role->has_staged)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_NOTHING_STAGED, 0,
                                   "nothing is staged (a staged copy ends with its session)");
  if (!thecal_checksum_equal (&request->staged, &role->staged_checksum))
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_STAGED_MISMATCH, 0,
                                   "the staged prescription is not the one confirmed");
  if (!active_prescription (role, &active, &active_sum, error))
    return false;
  if (!thecal_checksum_equal (&active_sum, &role->staged_replaces))
    {
      role->has_staged = false;
      return thecal_proto_error_set (error, THECAL_PROTO_ERROR_STALE_CHECKSUM, 0,
                                     "the active prescription changed since STAGE: stage again");
    }
  if (strcmp (role->staged.drug_id, request->fill.drug_id) != 0)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_DRUG,
                                   "the staged prescription is for %.20s, not %.20s", role->staged.drug_id,
                                   request->fill.drug_id);
  if (role->staged.concentration_ng_per_ml != request->fill.concentration_ng_per_ml)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_CONCENTRATION,
                                   "the staged prescription is for another concentration than the fill");
  if (!role->config.ops->check_refill (role->config.ops_data, &request->fill, &role->staged, error))
    return op_failed (error, "checking the refill");
  if (!role->config.ops->refill_and_apply (role->config.ops_data, &request->fill, &role->staged, error))
    return op_failed (error, "applying the refill and the prescription");

  /* Applied: from here on the answer must not be an error (an error means "nothing changed"). */
  role->stats.refill_commits_applied++;
  role->has_staged = false;
  answer->commit_reply.previous = active_sum;
  answer->commit_reply.active = active_checksum_after_change (role, &role->staged_checksum);
  return true;
}

static bool
do_set_ptm (ThecalPumpRole *role, const ThecalMsgSetPtm *request, ThecalMessage *answer, ThecalProtoError *error)
{
  ThecalPrescription rx;
  ThecalChecksum active_sum, new_sum;

  if (!active_prescription (role, &rx, &active_sum, error))
    return false;
  if (!thecal_checksum_equal (&active_sum, &request->active))
    return stale (error);
  rx.ptm = request->ptm;
  if (!validate_rx (&rx, error))
    return false;
  if (!thecal_prescription_checksum (&rx, &new_sum, error))
    return false;
  if (!check_and_apply (role, &rx, "checking the PTM settings", "applying the PTM settings", error))
    return false;
  answer->checksum.checksum = active_checksum_after_change (role, &new_sum);
  return true;
}

static bool
do_start_bolus (ThecalPumpRole *role, const ThecalMsgStartBolus *request, ThecalProtoError *error)
{
  ThecalPrescription rx;
  ThecalChecksum active_sum;

  if (!active_prescription (role, &rx, &active_sum, error))
    return false;
  if (!thecal_checksum_equal (&active_sum, &request->active))
    return stale (error);
  if (!role->config.ops->start_bolus (role->config.ops_data, request, error))
    return op_failed (error, "starting the bolus");
  return true;
}

/* Fills role->answer for a decoded fresh request. */
static void
dispatch (ThecalPumpRole *role, const ThecalMessage *request)
{
  ThecalMessage *answer = &role->answer;
  const ThecalPumpOps *ops = role->config.ops;
  void *data = role->config.ops_data;
  ThecalProtoError error;
  bool ok = true;

  thecal_proto_error_clear (&error);
  thecal_message_init (answer, request->type, true);
  switch (request->type)
    {
    case THECAL_MSG_AUTH:
      answer->auth_reply.session_timeout_ms = (uint32_t) role->config.session_timeout_ms;
      break;
    case THECAL_MSG_CLOSE:
      break;
    case THECAL_MSG_READ_STATUS:
      ok = do_read_status (role, answer, &error);
      break;
    case THECAL_MSG_READ_PRESCRIPTION:
      ok = active_prescription (role, &answer->prescription.rx, &answer->prescription.checksum, &error);
      break;
    case THECAL_MSG_READ_STAGED:
      ok = do_read_staged (role, answer, &error);
      break;
    case THECAL_MSG_READ_LOG:
      ok = do_read_log (role, &request->read_log, answer, &error);
      break;
    case THECAL_MSG_STAGE:
      ok = do_stage (role, &request->stage, answer, &error);
      break;
    case THECAL_MSG_COMMIT:
      ok = do_commit (role, &request->checksum, answer, &error);
      break;
    case THECAL_MSG_REFILL_COMMIT:
      ok = do_refill_commit (role, &request->refill_commit, answer, &error);
      break;
    case THECAL_MSG_CANCEL_STAGED:
      answer->cancel_staged_reply.had_staged = role->has_staged;
      role->has_staged = false;
      break;
    case THECAL_MSG_SET_RESERVOIR:
      ok = ops->set_reservoir (data, &request->set_reservoir, &error) || op_failed (&error, "setting the reservoir");
      break;
    case THECAL_MSG_START_BOLUS:
      ok = do_start_bolus (role, &request->start_bolus, &error);
      break;
    case THECAL_MSG_CANCEL_BOLUS:
      ok = ops->cancel_bolus (data, &error) || op_failed (&error, "cancelling the bolus");
      break;
    case THECAL_MSG_SET_PTM:
      ok = do_set_ptm (role, &request->set_ptm, answer, &error);
      break;
    case THECAL_MSG_SET_CLOCK:
      ok = ops->set_clock (data, request->set_clock.pump_local_ms, &answer->clock_reply, &error)
           || op_failed (&error, "setting the clock");
      break;
    case THECAL_MSG_ACK_ALARM:
      ok = ops->acknowledge_alarm (data, request->ack_alarm.alarm, &error) || op_failed (&error, "acknowledging the alarm");
      break;
    case THECAL_MSG_IDENTIFY:
    case THECAL_MSG_HELLO:
    case THECAL_MSG_WAND_INFO:
    case THECAL_MSG_WAND_LINK:
    case THECAL_MSG_ERROR:
    default:
      ok = thecal_proto_error_set (&error, THECAL_PROTO_ERROR_BAD_REQUEST, 0, "%s is not a session request",
                                   thecal_msg_type_name ((uint8_t) request->type));
      break;
    }
  if (!ok)
    make_error (answer, (uint8_t) request->type, &error);
}

/* Seals role->answer for (@seq) into the cache, remembering the request's digest. */
static bool
answer_encrypted (ThecalPumpRole *role, const uint8_t digest[16], uint8_t request_type, uint32_t seq)
{
  ThecalMessage *answer = &role->answer;
  ThecalProtoError error;
  size_t body_length = 0;
  uint8_t flags = THECAL_FRAME_FLAG_RESPONSE;

  thecal_proto_error_clear (&error);
  if (!thecal_message_encode (answer, role->plain, THECAL_MSG_BODY_MAX, &body_length, &error))
    {
      /* Only read answers can fail here (data from the pump that breaks the encoding rules); an
       * answer to a change is made of checksums and integers and always encodes. */
      ThecalProtoError internal;

      thecal_proto_error_set (&internal, THECAL_PROTO_ERROR_INTERNAL, 0, "the pump's answer cannot be encoded: %s",
                              error.reason);
      make_error (answer, request_type, &internal);
      if (!thecal_message_encode (answer, role->plain, THECAL_MSG_BODY_MAX, &body_length, NULL))
        return false;
    }
  if (answer->type == THECAL_MSG_ERROR)
    {
      flags |= THECAL_FRAME_FLAG_ERROR;
      role->stats.errors++;
    }
  role->cache_valid = false;
  if (!thecal_session_seal (role->session_key, THECAL_DIRECTION_TO_PROGRAMMER, (uint8_t) answer->type, flags, seq,
                            role->plain, body_length, role->cache, sizeof role->cache, &role->cache_length))
    return false;
  memcpy (role->cache_request_digest, digest, 16);
  role->cache_valid = true;
  role->stats.answered++;
  return true;
}

/* ---- handshake ------------------------------------------------------------------------------- */

static bool
handle_hello (ThecalPumpRole *role, int64_t now_ms, const uint8_t *bytes, size_t length, const ThecalFrame *frame, const uint8_t **out)
{
  ThecalProtoError error;
  ThecalMessage *reply = &role->answer;
  uint8_t digest[16];
  uint8_t body[128];
  size_t body_length = 0;

  if (frame->flags & THECAL_FRAME_FLAG_ENCRYPTED)
    {
      if (!answer_clear_error (role, frame->type, frame->seq, THECAL_PROTO_ERROR_BAD_FRAME, 0, "HELLO is never encrypted"))
        return false;
      *out = role->out;
      return true;
    }
  _thecal_digest16 (bytes, length, digest);
  if (role->pending_active && sodium_memcmp (digest, role->pending_hello_digest, 16) == 0)
    {
      /* The same HELLO again: the same answer (same pump nonce), or the two sides would derive
       * different keys. */
      role->stats.retransmissions++;
      role->stats.answered++;
      role->out_length = role->pending_reply_length;
      memcpy (role->out, role->pending_reply, role->pending_reply_length);
      *out = role->out;
      return true;
    }
  thecal_proto_error_clear (&error);
  if (!thecal_message_decode (frame->type, false, frame->payload, frame->length, &role->request, &error))
    {
      if (!answer_clear_error (role, frame->type, frame->seq, error.code, 0, "%s", error.reason))
        return false;
      *out = role->out;
      return true;
    }

  thecal_message_init (reply, THECAL_MSG_HELLO, true);
  role->config.random (role->config.random_data, reply->hello_reply.nonce, sizeof reply->hello_reply.nonce);
  reply->hello_reply.identity = role->config.identity;
  if (!thecal_message_encode (reply, body, sizeof body, &body_length, NULL)
      || !thecal_frame_encode (THECAL_MSG_HELLO, THECAL_FRAME_FLAG_RESPONSE, frame->seq, body, body_length,
                               role->pending_reply, sizeof role->pending_reply, &role->pending_reply_length))
    return false;
  thecal_session_derive_key (role->config.pump_key, frame->payload, frame->length, body, body_length, role->pending_key);
  memcpy (role->pending_hello_digest, digest, 16);
  role->pending_active = true;
  role->pending_started_ms = now_ms;
  sodium_memzero (body, sizeof body);

  role->stats.answered++;
  role->out_length = role->pending_reply_length;
  memcpy (role->out, role->pending_reply, role->pending_reply_length);
  *out = role->out;
  return true;
}

static void
drop_pending (ThecalPumpRole *role)
{
  sodium_memzero (role->pending_key, sizeof role->pending_key);
  memset (role->pending_hello_digest, 0, sizeof role->pending_hello_digest);
  role->pending_active = false;
  role->pending_reply_length = 0;
}

/* ---- public ---------------------------------------------------------------------------------- */

bool
thecal_pump_role_init (ThecalPumpRole *role, const ThecalPumpRoleConfig *config)
{
  const ThecalPumpOps *ops;

  if (role == NULL)
    return false;
  memset (role, 0, sizeof *role);
  if (config == NULL || config->ops == NULL || config->random == NULL || !thecal_proto_init ())
    return false;
  ops = config->ops;
  if (ops->get_status == NULL || ops->get_prescription == NULL || ops->read_log == NULL || ops->check_prescription == NULL
      || ops->apply_prescription == NULL || ops->set_reservoir == NULL || ops->start_bolus == NULL
      || ops->cancel_bolus == NULL || ops->set_clock == NULL || ops->acknowledge_alarm == NULL || ops->check_refill == NULL
      || ops->refill_and_apply == NULL)
    return false;
  {
    ThecalMessage *probe = &role->answer;
    uint8_t body[128];

    /* the identity must be encodable, or no HELLO could ever be answered */
    thecal_message_init (probe, THECAL_MSG_IDENTIFY, true);
    probe->identity = config->identity;
    if (!thecal_message_encode (probe, body, sizeof body, NULL, NULL))
      return false;
  }
  role->config = *config;
  if (role->config.session_timeout_ms <= 0)
    role->config.session_timeout_ms = THECAL_PROTO_SESSION_TIMEOUT_DEFAULT_MS;
  if (role->config.session_timeout_ms > (int64_t) UINT32_MAX)
    role->config.session_timeout_ms = (int64_t) UINT32_MAX;
  return true;
}

void
thecal_pump_role_end_session (ThecalPumpRole *role)
{
  sodium_memzero (role->session_key, sizeof role->session_key);
  role->session_active = false;
  role->last_seq = 0;
  /* The staged copy belongs to the session: an incomplete programming session leaves nothing
   * half-done behind (CLINICAL.md §1.7); what runs is untouched. */
  role->has_staged = false;
  memset (&role->staged, 0, sizeof role->staged);
}

void
thecal_pump_role_tick (ThecalPumpRole *role, int64_t now_ms)
{
  if (role->session_active && elapsed_at_least (now_ms, role->last_activity_ms, role->config.session_timeout_ms))
    {
      role->stats.sessions_expired++;
      thecal_pump_role_end_session (role);
    }
  if (role->pending_active && elapsed_at_least (now_ms, role->pending_started_ms, role->config.session_timeout_ms))
    drop_pending (role);
}

bool
thecal_pump_role_session_active (const ThecalPumpRole *role)
{
  return role->session_active;
}

bool
thecal_pump_role_has_staged (const ThecalPumpRole *role)
{
  return role->has_staged;
}

static bool
handle_session_frame (ThecalPumpRole *role,
                      int64_t now_ms,
                      const uint8_t *bytes,
                      size_t length,
                      const ThecalFrame *frame,
                      const uint8_t **out,
                      size_t *out_length)
{
  ThecalProtoError error;
  uint8_t digest[16];
  size_t plain_length = 0;
  bool ok;

  _thecal_digest16 (bytes, length, digest);
  if (role->cache_valid && sodium_memcmp (digest, role->cache_request_digest, 16) == 0)
    {
      /* A retransmission of the last processed request: answered again, applied once. */
      role->stats.retransmissions++;
      role->stats.answered++;
      *out = role->cache;
      *out_length = role->cache_length;
      return true;
    }

  if (frame->type == THECAL_MSG_AUTH)
    {
      if (!role->pending_active)
        ok = answer_clear_error (role, frame->type, frame->seq, THECAL_PROTO_ERROR_NOT_AUTHENTICATED, 0,
                                 "no handshake in progress: send HELLO first");
      else if (frame->seq != 1)
        ok = answer_clear_error (role, frame->type, frame->seq, THECAL_PROTO_ERROR_BAD_FRAME, 0,
                                 "AUTH must carry sequence 1, not %u", (unsigned) frame->seq);
      else if (!thecal_session_open (role->pending_key, THECAL_DIRECTION_TO_PUMP, frame, role->plain, sizeof role->plain,
                                     &plain_length))
        {
          role->stats.failed_auth++;
          ok = answer_clear_error (role, frame->type, frame->seq, THECAL_PROTO_ERROR_WRONG_KEY, 0,
                                   "AUTH does not authenticate: wrong pairing key");
        }
      else
        {
          /* The programmer holds this pump's key: the new session replaces any other. */
          thecal_pump_role_end_session (role);
          memcpy (role->session_key, role->pending_key, sizeof role->session_key);
          drop_pending (role);
          role->session_active = true;
          role->last_seq = 1;
          role->last_activity_ms = now_ms;
          role->stats.sessions_opened++;
          thecal_proto_error_clear (&error);
          if (thecal_message_decode (frame->type, false, role->plain, plain_length, &role->request, &error))
            dispatch (role, &role->request);
          else
            make_error (&role->answer, frame->type, &error);
          if (!answer_encrypted (role, digest, frame->type, frame->seq))
            return false;
          *out = role->cache;
          *out_length = role->cache_length;
          return true;
        }
      if (!ok)
        return false;
      *out = role->out;
      *out_length = role->out_length;
      return true;
    }

  if (!role->session_active)
    ok = answer_clear_error (role, frame->type, frame->seq, THECAL_PROTO_ERROR_NOT_AUTHENTICATED, 0,
                             "no session is open (it may have timed out): handshake again");
  else if (!thecal_session_open (role->session_key, THECAL_DIRECTION_TO_PUMP, frame, role->plain, sizeof role->plain,
                                 &plain_length))
    {
      role->stats.failed_auth++;
      ok = answer_clear_error (role, frame->type, frame->seq, THECAL_PROTO_ERROR_NOT_AUTHENTICATED, 0,
                               "the frame does not authenticate in the current session");
    }
  else
    switch (thecal_session_seq_order (role->last_seq, frame->seq))
      {
      case THECAL_SEQ_OLD:
        role->stats.refused_replays++;
        ok = answer_clear_error (role, frame->type, frame->seq, THECAL_PROTO_ERROR_REPLAYED, 0,
                                 "sequence %u is below the last processed (%u): refused", (unsigned) frame->seq,
                                 (unsigned) role->last_seq);
        break;
      case THECAL_SEQ_SAME:
        role->stats.refused_replays++;
        ok = answer_clear_error (role, frame->type, frame->seq, THECAL_PROTO_ERROR_SEQUENCE_REUSED, 0,
                                 "sequence %u was already used by another request", (unsigned) frame->seq);
        break;
      case THECAL_SEQ_FRESH:
        role->last_seq = frame->seq;
        role->last_activity_ms = now_ms;
        thecal_proto_error_clear (&error);
        if (thecal_message_decode (frame->type, false, role->plain, plain_length, &role->request, &error))
          dispatch (role, &role->request);
        else
          make_error (&role->answer, frame->type, &error);
        if (!answer_encrypted (role, digest, frame->type, frame->seq))
          return false;
        if (frame->type == THECAL_MSG_CLOSE)
          thecal_pump_role_end_session (role);
        *out = role->cache;
        *out_length = role->cache_length;
        return true;
      default:
        ok = false;
        break;
      }
  if (!ok)
    return false;
  *out = role->out;
  *out_length = role->out_length;
  return true;
}

bool
thecal_pump_role_handle (ThecalPumpRole *role,
                         int64_t now_ms,
                         const uint8_t *bytes,
                         size_t length,
                         const uint8_t **answer,
                         size_t *answer_length)
{
  ThecalFrame frame;
  ThecalFrameStatus status;
  const uint8_t *out = NULL;
  size_t out_length = 0;
  bool ok = false;

  *answer = NULL;
  *answer_length = 0;
  role->stats.frames++;
  thecal_pump_role_tick (role, now_ms);

  status = thecal_frame_decode (bytes, length, &frame);
  switch (status)
    {
    case THECAL_FRAME_OK:
    case THECAL_FRAME_BAD_VERSION:
    case THECAL_FRAME_BAD_TYPE:
    case THECAL_FRAME_BAD_FLAGS:
      break;
    case THECAL_FRAME_NEED_MORE:
    case THECAL_FRAME_TOO_LONG:
    case THECAL_FRAME_BAD_MAGIC:
    case THECAL_FRAME_TRAILING_BYTES:
    case THECAL_FRAME_BAD_CRC:
    default:
      role->stats.dropped++;
      return false;
    }
  if (frame.flags & THECAL_FRAME_FLAG_RESPONSE)
    {
      role->stats.dropped++;
      return false;
    }

  switch (status)
    {
    case THECAL_FRAME_BAD_VERSION:
      ok = answer_clear_error (role, frame.type, frame.seq, THECAL_PROTO_ERROR_UNSUPPORTED_VERSION, 0,
                               "protocol version %u is not supported: this pump speaks %d", (unsigned) frame.version,
                               THECAL_PROTO_VERSION);
      break;
    case THECAL_FRAME_BAD_TYPE:
      ok = answer_clear_error (role, frame.type, frame.seq, THECAL_PROTO_ERROR_UNKNOWN_TYPE, 0,
                               "message type 0x%02x is unknown", (unsigned) frame.type);
      break;
    case THECAL_FRAME_BAD_FLAGS:
      ok = answer_clear_error (role, frame.type, frame.seq, THECAL_PROTO_ERROR_BAD_FRAME, 0,
                               "flags 0x%02x are not valid for %s", (unsigned) frame.flags, thecal_msg_type_name (frame.type));
      break;
    case THECAL_FRAME_OK:
      if (thecal_msg_type_is_wand_local (frame.type))
        ok = answer_clear_error (role, frame.type, frame.seq, THECAL_PROTO_ERROR_WRONG_DESTINATION, 0,
                                 "%s is answered by the wand, not the pump", thecal_msg_type_name (frame.type));
      else if (frame.type == THECAL_MSG_HELLO)
        {
          if (!handle_hello (role, now_ms, bytes, length, &frame, &out))
            return false;
          *answer = out;
          *answer_length = role->out_length;
          return true;
        }
      else if (frame.type == THECAL_MSG_IDENTIFY)
        {
          ThecalProtoError error;
          size_t body_length = 0;

          thecal_proto_error_clear (&error);
          if (frame.flags & THECAL_FRAME_FLAG_ENCRYPTED)
            ok = answer_clear_error (role, frame.type, frame.seq, THECAL_PROTO_ERROR_BAD_FRAME, 0, "IDENTIFY is never encrypted");
          else if (!thecal_message_decode (frame.type, false, frame.payload, frame.length, &role->request, &error))
            ok = answer_clear_error (role, frame.type, frame.seq, error.code, 0, "%s", error.reason);
          else
            {
              thecal_message_init (&role->answer, THECAL_MSG_IDENTIFY, true);
              role->answer.identity = role->config.identity;
              ok = thecal_message_encode (&role->answer, role->plain, THECAL_MSG_BODY_MAX, &body_length, NULL)
                   && thecal_frame_encode (THECAL_MSG_IDENTIFY, THECAL_FRAME_FLAG_RESPONSE, frame.seq, role->plain, body_length,
                                           role->out, sizeof role->out, &role->out_length);
              if (ok)
                role->stats.answered++;
            }
        }
      else if (!thecal_msg_type_needs_session (frame.type))
        ok = false; /* ERROR without RESPONSE cannot pass the codec; nothing else is left */
      else if ((frame.flags & THECAL_FRAME_FLAG_ENCRYPTED) == 0)
        ok = answer_clear_error (role, frame.type, frame.seq, THECAL_PROTO_ERROR_NOT_AUTHENTICATED, 0,
                                 "%s needs an authenticated session", thecal_msg_type_name (frame.type));
      else
        {
          if (!handle_session_frame (role, now_ms, bytes, length, &frame, &out, &out_length))
            return false;
          *answer = out;
          *answer_length = out_length;
          return true;
        }
      break;
    case THECAL_FRAME_NEED_MORE:
    case THECAL_FRAME_TOO_LONG:
    case THECAL_FRAME_BAD_MAGIC:
    case THECAL_FRAME_TRAILING_BYTES:
    case THECAL_FRAME_BAD_CRC:
    default:
      ok = false;
      break;
    }
  if (!ok)
    return false;
  *answer = role->out;
  *answer_length = role->out_length;
  return true;
}
