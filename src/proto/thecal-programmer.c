/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-programmer.c: requests, retransmission, sessions and two-phase programming.
 *
 * The outcome rules of two-phase programming (docs/protocol.md "Two-phase programming"); a refill
 * with a drug change is the same procedure with REFILL_COMMIT in the place of COMMIT:
 *   nothing that runs can change before COMMIT is sent  → any failure before it: FAILED
 *   STAGE refused STALE_CHECKSUM (the pump does not run
 *   the reviewed prescription), or COMMIT refused by an
 *   authenticated ERROR (which changes nothing)          → read what runs, then as below; if that
 *                                                          read fails: CONFLICT after a stale
 *                                                          refusal, FAILED after another
 *   COMMIT sent, no authenticated answer                → UNCERTAIN (never FAILED: CLINICAL.md §6.3)
 *   COMMIT acknowledged, read-back lost                 → UNCERTAIN (CONFIRMED needs the read-back)
 *   read-back (or resolve) = new, byte for byte         → CONFIRMED
 *   read-back (or resolve) = previous                   → FAILED
 *   read-back (or resolve) = anything else              → CONFLICT
 * A clear (unauthenticated) ERROR can be forged by anyone: it ends a request as LOST, never as
 * a refusal that would prove nothing changed.
 */
#include "config.h"

#include "thecal-programmer.h"
#include "thecal-proto-private.h"

#include <sodium.h>
#include <string.h>

/* ---- small helpers --------------------------------------------------------------------------- */

static int64_t
add_clamped (int64_t a, int64_t b)
{
  int64_t out;

  if (__builtin_add_overflow (a, b, &out))
    return b > 0 ? INT64_MAX : INT64_MIN;
  return out;
}

static bool
session_usable (const ThecalProgrammer *p, int64_t now_ms)
{
  int64_t margin, limit;

  if (!p->session_ready || p->next_seq == 0 || p->next_seq == UINT32_MAX)
    return false;
  /* Stop using a session a little before the pump would drop it (measured from the last fresh
   * request we sent, which reached the pump no earlier). */
  margin = p->session_timeout_ms / 8;
  limit = p->session_timeout_ms - margin;
  if (now_ms < p->last_fresh_send_ms)
    return false;
  return (uint64_t) now_ms - (uint64_t) p->last_fresh_send_ms < (uint64_t) limit;
}

static void
forget_session (ThecalProgrammer *p)
{
  sodium_memzero (p->session_key, sizeof p->session_key);
  p->session_ready = false;
  p->next_seq = 0;
}

static void
mark_sent (ThecalProgrammer *p, int64_t now_ms, uint8_t type, uint32_t seq, bool encrypted)
{
  p->outstanding = true;
  p->output_ready = true;
  p->out_type = type;
  p->out_seq = seq;
  p->out_encrypted = encrypted;
  p->attempts = 1;
  p->deadline_ms = add_clamped (now_ms, p->config.retry_timeout_ms);
}

static bool
send_clear (ThecalProgrammer *p, int64_t now_ms, uint8_t type, const uint8_t *body, size_t body_length)
{
  uint32_t seq = p->clear_seq++;

  if (!thecal_frame_encode (type, 0, seq, body, body_length, p->frame, sizeof p->frame, &p->frame_length))
    return false;
  mark_sent (p, now_ms, type, seq, false);
  return true;
}

static bool
send_sealed (ThecalProgrammer *p, int64_t now_ms, const uint8_t *key, uint8_t type, uint32_t seq, const uint8_t *body, size_t body_length)
{
  if (!thecal_session_seal (key, THECAL_DIRECTION_TO_PUMP, type, 0, seq, body, body_length, p->frame, sizeof p->frame,
                            &p->frame_length))
    return false;
  mark_sent (p, now_ms, type, seq, true);
  return true;
}

/* ---- finishing ------------------------------------------------------------------------------- */

static void
finish_exchange (ThecalProgrammer *p, ThecalExchangeStatus status, uint8_t type, bool authenticated, const ThecalProtoError *error)
{
  p->result.operation = p->operation;
  p->result.status = status;
  p->result.request_type = type;
  p->result.authenticated = authenticated;
  if (error != NULL)
    p->result.error = *error;
  else
    thecal_proto_error_clear (&p->result.error);
  p->operation = THECAL_OPERATION_NONE;
  p->step = THECAL_PROGRAMMER_STEP_IDLE;
  p->outstanding = false;
  p->output_ready = false;
}

static void
finish_program (ThecalProgrammer *p, ThecalProgramOutcome outcome, ThecalProgramStep step, const ThecalProtoError *error)
{
  p->report.outcome = outcome;
  p->report.step = step;
  if (outcome == THECAL_PROGRAM_CONFIRMED || error == NULL)
    thecal_proto_error_clear (&p->report.error);
  else
    p->report.error = *error;
  p->result.operation = p->operation;
  p->result.status = outcome == THECAL_PROGRAM_CONFIRMED ? THECAL_EXCHANGE_OK : THECAL_EXCHANGE_NONE;
  p->result.request_type = 0;
  p->result.authenticated = p->report.active_known;
  p->result.error = p->report.error;
  p->operation = THECAL_OPERATION_NONE;
  p->step = THECAL_PROGRAMMER_STEP_IDLE;
  p->outstanding = false;
  p->output_ready = false;
}

/* The step's request could not be sent (no usable session, or an encoding failure). */
static void step_failed_to_send (ThecalProgrammer *p, ThecalProgrammerStep step, const ThecalProtoError *error);

/* ---- steps ----------------------------------------------------------------------------------- */

static bool
step_may_handshake (ThecalProgrammerStep step)
{
  switch (step)
    {
    case THECAL_PROGRAMMER_STEP_USER:
    case THECAL_PROGRAMMER_STEP_STAGE:
    case THECAL_PROGRAMMER_STEP_READ_BACK:
    case THECAL_PROGRAMMER_STEP_RESOLVE:
    case THECAL_PROGRAMMER_STEP_VERIFY:
      return true;
    /* inside a procedure, before COMMIT: a new session would have discarded the staged copy */
    case THECAL_PROGRAMMER_STEP_READ_STAGED:
    case THECAL_PROGRAMMER_STEP_CANCEL:
    case THECAL_PROGRAMMER_STEP_COMMIT:
    case THECAL_PROGRAMMER_STEP_IDLE:
    case THECAL_PROGRAMMER_STEP_HELLO:
    case THECAL_PROGRAMMER_STEP_AUTH:
    default:
      return false;
    }
}

static void
start_hello (ThecalProgrammer *p, int64_t now_ms, ThecalProgrammerStep after)
{
  ThecalMessage *hello = &p->reply;
  ThecalProtoError error;

  forget_session (p);
  p->after_handshake = after;
  p->step = THECAL_PROGRAMMER_STEP_HELLO;
  thecal_message_init (hello, THECAL_MSG_HELLO, false);
  p->config.random (p->config.random_data, hello->hello.nonce, sizeof hello->hello.nonce);
  if (!thecal_message_encode (hello, p->hello_body, sizeof p->hello_body, &p->hello_body_length, &error)
      || !send_clear (p, now_ms, THECAL_MSG_HELLO, p->hello_body, p->hello_body_length))
    {
      thecal_proto_error_set (&error, THECAL_PROTO_ERROR_INVALID, 0, "HELLO could not be built");
      step_failed_to_send (p, after, &error);
    }
  thecal_message_init (hello, THECAL_MSG_HELLO, false); /* no nonce left lying around */
}

/* Builds and sends the request of @step (or opens a session first when the step allows it). */
static void
start_step (ThecalProgrammer *p, int64_t now_ms, ThecalProgrammerStep step)
{
  ThecalMessage *m = &p->reply; /* scratch: the reply is read before the next step starts */
  ThecalProtoError error;
  const uint8_t *body = p->scratch;
  size_t body_length = 0;
  uint8_t type;
  bool encoded;

  thecal_proto_error_clear (&error);
  p->step = step;
  switch (step)
    {
    case THECAL_PROGRAMMER_STEP_USER:
      type = p->user_type;
      body = p->user_body;
      body_length = p->user_body_length;
      encoded = true;
      break;
    case THECAL_PROGRAMMER_STEP_STAGE:
      type = THECAL_MSG_STAGE;
      thecal_message_init (m, THECAL_MSG_STAGE, false);
      m->stage.replaces = p->report.previous;
      m->stage.rx = p->program_rx;
      encoded = thecal_message_encode (m, p->scratch, sizeof p->scratch, &body_length, &error);
      break;
    case THECAL_PROGRAMMER_STEP_COMMIT:
      if (p->program_has_fill)
        {
          /* a refill: the fill and the staged prescription for it, at one instant */
          type = THECAL_MSG_REFILL_COMMIT;
          thecal_message_init (m, THECAL_MSG_REFILL_COMMIT, false);
          m->refill_commit.fill = p->program_fill;
          m->refill_commit.staged = p->report.target;
        }
      else
        {
          type = THECAL_MSG_COMMIT;
          thecal_message_init (m, THECAL_MSG_COMMIT, false);
          m->checksum.checksum = p->report.target;
        }
      encoded = thecal_message_encode (m, p->scratch, sizeof p->scratch, &body_length, &error);
      break;
    case THECAL_PROGRAMMER_STEP_READ_STAGED:
    case THECAL_PROGRAMMER_STEP_CANCEL:
    case THECAL_PROGRAMMER_STEP_READ_BACK:
    case THECAL_PROGRAMMER_STEP_RESOLVE:
    case THECAL_PROGRAMMER_STEP_VERIFY:
      type = step == THECAL_PROGRAMMER_STEP_READ_STAGED ? THECAL_MSG_READ_STAGED
             : step == THECAL_PROGRAMMER_STEP_CANCEL    ? THECAL_MSG_CANCEL_STAGED
                                                        : THECAL_MSG_READ_PRESCRIPTION;
      thecal_message_init (m, (ThecalMsgType) type, false);
      encoded = thecal_message_encode (m, p->scratch, sizeof p->scratch, &body_length, &error);
      break;
    case THECAL_PROGRAMMER_STEP_IDLE:
    case THECAL_PROGRAMMER_STEP_HELLO:
    case THECAL_PROGRAMMER_STEP_AUTH:
    default:
      thecal_proto_error_set (&error, THECAL_PROTO_ERROR_INVALID, 0, "no request for this step");
      step_failed_to_send (p, step, &error);
      return;
    }
  if (!encoded)
    {
      step_failed_to_send (p, step, &error);
      return;
    }

  if (!thecal_msg_type_needs_session (type))
    {
      if (!send_clear (p, now_ms, type, body, body_length))
        {
          thecal_proto_error_set (&error, THECAL_PROTO_ERROR_INVALID, 0, "the request does not fit a frame");
          step_failed_to_send (p, step, &error);
        }
      return;
    }
  if (!session_usable (p, now_ms))
    {
      if (step_may_handshake (step))
        {
          start_hello (p, now_ms, step);
          return;
        }
      thecal_proto_error_set (&error, THECAL_PROTO_ERROR_SESSION_LOST, 0, "the session ended before %s could be sent",
                              thecal_msg_type_name (type));
      step_failed_to_send (p, step, &error);
      return;
    }
  if (step == THECAL_PROGRAMMER_STEP_COMMIT)
    p->report.commit_sent = true; /* from here on, a loss makes the outcome uncertain */
  if (!send_sealed (p, now_ms, p->session_key, type, p->next_seq, body, body_length))
    {
      p->report.commit_sent = false;
      thecal_proto_error_set (&error, THECAL_PROTO_ERROR_INVALID, 0, "the request does not fit a frame");
      step_failed_to_send (p, step, &error);
      return;
    }
  p->next_seq++;
  p->last_fresh_send_ms = now_ms;
}

/* The read after a refusal (VERIFY) could not be done: what the refusal itself tells. A stale
 * refusal proves the pump does not run the reviewed prescription; any other authenticated
 * refusal proves nothing changed. */
static void
verify_unavailable (ThecalProgrammer *p)
{
  ThecalProgramOutcome outcome = p->program_saved_error.code == THECAL_PROTO_ERROR_STALE_CHECKSUM ? THECAL_PROGRAM_CONFLICT
                                                                                                  : THECAL_PROGRAM_FAILED;

  finish_program (p, outcome, p->program_refused_step, &p->program_saved_error);
}

static void
step_failed_to_send (ThecalProgrammer *p, ThecalProgrammerStep step, const ThecalProtoError *error)
{
  switch (step)
    {
    case THECAL_PROGRAMMER_STEP_VERIFY:
      verify_unavailable (p);
      break;
    case THECAL_PROGRAMMER_STEP_USER:
      finish_exchange (p, THECAL_EXCHANGE_FAILED, p->user_type, false, error);
      break;
    case THECAL_PROGRAMMER_STEP_STAGE:
      finish_program (p, THECAL_PROGRAM_FAILED, THECAL_PROGRAM_STEP_STAGE, error);
      break;
    case THECAL_PROGRAMMER_STEP_READ_STAGED:
      finish_program (p, THECAL_PROGRAM_FAILED, THECAL_PROGRAM_STEP_READ_STAGED, error);
      break;
    case THECAL_PROGRAMMER_STEP_CANCEL:
      finish_program (p, THECAL_PROGRAM_FAILED, THECAL_PROGRAM_STEP_CANCEL, &p->program_saved_error);
      break;
    case THECAL_PROGRAMMER_STEP_COMMIT:
      /* COMMIT never left: the pump cannot have switched */
      finish_program (p, THECAL_PROGRAM_FAILED, THECAL_PROGRAM_STEP_COMMIT, error);
      break;
    case THECAL_PROGRAMMER_STEP_READ_BACK:
      finish_program (p, THECAL_PROGRAM_UNCERTAIN, THECAL_PROGRAM_STEP_READ_BACK, error);
      break;
    case THECAL_PROGRAMMER_STEP_RESOLVE:
      finish_program (p, THECAL_PROGRAM_UNCERTAIN, THECAL_PROGRAM_STEP_RESOLVE, error);
      break;
    case THECAL_PROGRAMMER_STEP_IDLE:
    case THECAL_PROGRAMMER_STEP_HELLO:
    case THECAL_PROGRAMMER_STEP_AUTH:
    default:
      if (p->operation == THECAL_OPERATION_PROGRAM || p->operation == THECAL_OPERATION_RESOLVE)
        finish_program (p, THECAL_PROGRAM_UNCERTAIN, THECAL_PROGRAM_STEP_NONE, error);
      else
        finish_exchange (p, THECAL_EXCHANGE_FAILED, 0, false, error);
      break;
    }
}

/* The handshake did not open a session: the step waiting for it cannot run. */
static void
handshake_failed (ThecalProgrammer *p, const ThecalProtoError *error)
{
  forget_session (p);
  sodium_memzero (p->handshake_key, sizeof p->handshake_key);
  switch (p->after_handshake)
    {
    case THECAL_PROGRAMMER_STEP_STAGE:
      finish_program (p, THECAL_PROGRAM_FAILED, THECAL_PROGRAM_STEP_HANDSHAKE, error);
      break;
    case THECAL_PROGRAMMER_STEP_READ_BACK:
    case THECAL_PROGRAMMER_STEP_RESOLVE:
      finish_program (p, THECAL_PROGRAM_UNCERTAIN, THECAL_PROGRAM_STEP_HANDSHAKE, error);
      break;
    case THECAL_PROGRAMMER_STEP_VERIFY:
      verify_unavailable (p);
      break;
    case THECAL_PROGRAMMER_STEP_USER:
      finish_exchange (p, THECAL_EXCHANGE_FAILED, p->user_type, false, error);
      break;
    case THECAL_PROGRAMMER_STEP_IDLE:
    case THECAL_PROGRAMMER_STEP_HELLO:
    case THECAL_PROGRAMMER_STEP_AUTH:
    case THECAL_PROGRAMMER_STEP_READ_STAGED:
    case THECAL_PROGRAMMER_STEP_CANCEL:
    case THECAL_PROGRAMMER_STEP_COMMIT:
    default:
      finish_exchange (p, THECAL_EXCHANGE_FAILED, THECAL_MSG_HELLO, false, error);
      break;
    }
}

static void
session_opened (ThecalProgrammer *p, int64_t now_ms)
{
  ThecalProgrammerStep after = p->after_handshake;

  if (after == THECAL_PROGRAMMER_STEP_IDLE)
    {
      finish_exchange (p, THECAL_EXCHANGE_OK, THECAL_MSG_AUTH, true, NULL);
      return;
    }
  start_step (p, now_ms, after);
}

/* Reads the active prescription answer against the programmed one. @why (may be NULL) is the
 * refusal that led here, kept as the report's error. */
static void
classify (ThecalProgrammer *p, const ThecalMsgPrescription *active, ThecalProgramStep step, const ThecalProtoError *why)
{
  ThecalProtoError error;

  p->report.active_known = true;
  p->report.active = active->checksum;
  if (thecal_checksum_equal (&active->checksum, &p->report.target) && thecal_prescription_equal (&active->rx, &p->program_rx))
    finish_program (p, THECAL_PROGRAM_CONFIRMED, step, NULL);
  else if (thecal_checksum_equal (&active->checksum, &p->report.previous))
    {
      thecal_proto_error_set (&error, THECAL_PROTO_ERROR_REFUSED, 0, "the pump still runs the previous prescription");
      finish_program (p, THECAL_PROGRAM_FAILED, step, why != NULL ? why : &error);
    }
  else
    {
      thecal_proto_error_set (&error, THECAL_PROTO_ERROR_BAD_REPLY, 0,
                              "the pump runs neither the previous nor the new prescription");
      finish_program (p, THECAL_PROGRAM_CONFLICT, step, why != NULL ? why : &error);
    }
}

/* The pump refused @step with an authenticated error: it changed nothing. Read what it runs, so
 * that the report never assumes it. */
static void
verify_after_refusal (ThecalProgrammer *p, int64_t now_ms, ThecalProgramStep step, const ThecalProtoError *error)
{
  if (error != NULL)
    p->program_saved_error = *error;
  p->program_refused_step = step;
  start_step (p, now_ms, THECAL_PROGRAMMER_STEP_VERIFY);
}

/* What the pump staged is not what was sent (@reason): cancel the staged copy; the pump runs
 * the previous prescription. */
static void
cancel_staged (ThecalProgrammer *p, int64_t now_ms, const char *reason)
{
  thecal_proto_error_set (&p->program_saved_error, THECAL_PROTO_ERROR_BAD_REPLY, 0, "%s", reason);
  start_step (p, now_ms, THECAL_PROGRAMMER_STEP_CANCEL);
}

/* The outstanding request of the current step ended: OK (p->reply), REFUSED or LOST. */
static void
step_done (ThecalProgrammer *p, int64_t now_ms, ThecalExchangeStatus status, bool authenticated, const ThecalProtoError *error)
{
  const ThecalMessage *reply = &p->reply;
  ThecalProtoError local;
  uint8_t body[8];
  size_t body_length = 0;

  p->outstanding = false;
  p->output_ready = false;
  thecal_proto_error_clear (&local);
  /* The pump says, in clear, that it holds no session (it timed out there, or the pump restarted)
   * for a request that cannot change what it runs: a new handshake and the same request once
   * more. A forged error costs one handshake; a change (thecal_msg_type_changes_pump) is never
   * sent again this way: its answer was lost, and it stays LOST or UNCERTAIN. */
  if (status == THECAL_EXCHANGE_LOST && !authenticated && error != NULL && error->code == THECAL_PROTO_ERROR_NOT_AUTHENTICATED
      && !p->resent_after_no_session && step_may_handshake (p->step) && !thecal_msg_type_changes_pump (p->out_type))
    {
      p->resent_after_no_session = true;
      start_hello (p, now_ms, p->step);
      return;
    }
  switch (p->step)
    {
    case THECAL_PROGRAMMER_STEP_HELLO:
      if (status != THECAL_EXCHANGE_OK)
        {
          handshake_failed (p, error);
          return;
        }
      p->identity = reply->hello_reply.identity;
      p->identity_known = true;
      if (p->config.expected_serial[0] != '\0' && strcmp (p->config.expected_serial, p->identity.serial) != 0)
        {
          thecal_proto_error_set (&local, THECAL_PROTO_ERROR_WRONG_PUMP, 0, "the pump in range is %s, not %s",
                                  p->identity.serial, p->config.expected_serial);
          handshake_failed (p, &local);
          return;
        }
      if (!p->config.has_key)
        {
          thecal_proto_error_set (&local, THECAL_PROTO_ERROR_NO_KEY, 0, "no pairing key for pump %s", p->identity.serial);
          handshake_failed (p, &local);
          return;
        }
      {
        ThecalMessage *auth = &p->reply;

        thecal_message_init (auth, THECAL_MSG_AUTH, false);
        if (!thecal_message_encode (auth, body, sizeof body, &body_length, &local)
            || !send_sealed (p, now_ms, p->handshake_key, THECAL_MSG_AUTH, 1, body, body_length))
          {
            handshake_failed (p, &local);
            return;
          }
        p->step = THECAL_PROGRAMMER_STEP_AUTH;
        p->auth_sent_ms = now_ms;
      }
      return;

    case THECAL_PROGRAMMER_STEP_AUTH:
      if (status != THECAL_EXCHANGE_OK)
        {
          if (error != NULL && error->code == THECAL_PROTO_ERROR_WRONG_KEY)
            {
              thecal_proto_error_set (&local, THECAL_PROTO_ERROR_WRONG_KEY, 0,
                                      "wrong pairing key: pump %s is paired with another key", p->identity.serial);
              handshake_failed (p, &local);
            }
          else
            handshake_failed (p, error);
          return;
        }
      memcpy (p->session_key, p->handshake_key, sizeof p->session_key);
      sodium_memzero (p->handshake_key, sizeof p->handshake_key);
      p->session_ready = true;
      p->next_seq = 2;
      p->session_timeout_ms = reply->auth_reply.session_timeout_ms;
      p->last_fresh_send_ms = p->auth_sent_ms;
      session_opened (p, now_ms);
      return;

    case THECAL_PROGRAMMER_STEP_USER:
      if (status == THECAL_EXCHANGE_OK && p->user_type == THECAL_MSG_IDENTIFY)
        {
          p->identity = reply->identity;
          p->identity_known = true;
        }
      if (p->user_type == THECAL_MSG_CLOSE)
        forget_session (p);
      finish_exchange (p, status, p->user_type, authenticated, error);
      return;

    case THECAL_PROGRAMMER_STEP_STAGE:
      if (status == THECAL_EXCHANGE_REFUSED && authenticated && error != NULL
          && error->code == THECAL_PROTO_ERROR_STALE_CHECKSUM)
        {
          /* the pump does not run the prescription the clinician reviewed: find out what it runs */
          verify_after_refusal (p, now_ms, THECAL_PROGRAM_STEP_STAGE, error);
          return;
        }
      if (status != THECAL_EXCHANGE_OK)
        {
          /* any other refusal: the pump compared the active checksum first (docs/protocol.md
           * §6.5), so it runs the previous prescription */
          finish_program (p, THECAL_PROGRAM_FAILED, THECAL_PROGRAM_STEP_STAGE, error);
          return;
        }
      if (!thecal_checksum_equal (&reply->checksum.checksum, &p->report.target))
        cancel_staged (p, now_ms, "the pump staged a prescription with another checksum");
      else
        start_step (p, now_ms, THECAL_PROGRAMMER_STEP_READ_STAGED);
      return;

    case THECAL_PROGRAMMER_STEP_READ_STAGED:
      if (status != THECAL_EXCHANGE_OK)
        {
          finish_program (p, THECAL_PROGRAM_FAILED, THECAL_PROGRAM_STEP_READ_STAGED, error);
          return;
        }
      if (!thecal_checksum_equal (&reply->staged.checksum, &p->report.target)
          || !thecal_checksum_equal (&reply->staged.replaces, &p->report.previous)
          || !thecal_prescription_equal (&reply->staged.rx, &p->program_rx))
        cancel_staged (p, now_ms, "the staged copy read back differs from what was sent");
      else
        start_step (p, now_ms, THECAL_PROGRAMMER_STEP_COMMIT);
      return;

    case THECAL_PROGRAMMER_STEP_CANCEL:
      finish_program (p, THECAL_PROGRAM_FAILED, THECAL_PROGRAM_STEP_CANCEL, &p->program_saved_error);
      return;

    case THECAL_PROGRAMMER_STEP_COMMIT:
      if (status == THECAL_EXCHANGE_REFUSED && authenticated)
        {
          /* an authenticated ERROR: the pump changed nothing. Read what it runs (STALE means
           * someone else changed it), so the report never assumes it. */
          verify_after_refusal (p, now_ms, THECAL_PROGRAM_STEP_COMMIT, error);
          return;
        }
      if (status != THECAL_EXCHANGE_OK)
        {
          finish_program (p, THECAL_PROGRAM_UNCERTAIN, THECAL_PROGRAM_STEP_COMMIT, error);
          return;
        }
      p->report.commit_acknowledged = true;
      p->report.active_known = true;
      p->report.active = reply->commit_reply.active;
      start_step (p, now_ms, THECAL_PROGRAMMER_STEP_READ_BACK);
      return;

    case THECAL_PROGRAMMER_STEP_READ_BACK:
    case THECAL_PROGRAMMER_STEP_RESOLVE:
      {
        ThecalProgramStep step = p->step == THECAL_PROGRAMMER_STEP_READ_BACK ? THECAL_PROGRAM_STEP_READ_BACK
                                                                             : THECAL_PROGRAM_STEP_RESOLVE;

        if (status != THECAL_EXCHANGE_OK)
          finish_program (p, THECAL_PROGRAM_UNCERTAIN, step, error);
        else
          classify (p, &reply->prescription, step, NULL);
        return;
      }

    case THECAL_PROGRAMMER_STEP_VERIFY:
      if (status != THECAL_EXCHANGE_OK)
        verify_unavailable (p);
      else
        classify (p, &reply->prescription, p->program_refused_step, &p->program_saved_error);
      return;

    case THECAL_PROGRAMMER_STEP_IDLE:
    default:
      return;
    }
}

/* ---- public ---------------------------------------------------------------------------------- */

bool
thecal_programmer_init (ThecalProgrammer *p, const ThecalProgrammerConfig *config)
{
  if (p == NULL)
    return false;
  memset (p, 0, sizeof *p);
  if (config == NULL || config->random == NULL || !thecal_proto_init ())
    return false;
  if (!_thecal_text_valid (config->expected_serial, sizeof config->expected_serial))
    return false;
  p->config = *config;
  if (p->config.retry_timeout_ms <= 0)
    p->config.retry_timeout_ms = THECAL_PROGRAMMER_RETRY_TIMEOUT_DEFAULT_MS;
  if (p->config.max_attempts <= 0)
    p->config.max_attempts = THECAL_PROGRAMMER_MAX_ATTEMPTS_DEFAULT;
  if (p->config.session_timeout_ms <= 0)
    p->config.session_timeout_ms = THECAL_PROTO_SESSION_TIMEOUT_DEFAULT_MS;
  p->session_timeout_ms = p->config.session_timeout_ms;
  p->clear_seq = 1;
  thecal_message_init (&p->reply, THECAL_MSG_READ_STATUS, true);
  return true;
}

void
thecal_programmer_set_key (ThecalProgrammer *p, const uint8_t key[THECAL_KEY_SIZE])
{
  forget_session (p);
  memcpy (p->config.pump_key, key, THECAL_KEY_SIZE);
  p->config.has_key = true;
}

bool
thecal_programmer_set_expected_serial (ThecalProgrammer *p, const char *serial)
{
  if (serial == NULL || strlen (serial) >= sizeof p->config.expected_serial
      || !_thecal_text_valid (serial, sizeof p->config.expected_serial))
    return false;
  forget_session (p);
  memset (p->config.expected_serial, 0, sizeof p->config.expected_serial);
  memcpy (p->config.expected_serial, serial, strlen (serial));
  return true;
}

static bool
begin (ThecalProgrammer *p, ThecalOperation operation, ThecalProtoError *error)
{
  if (p->operation != THECAL_OPERATION_NONE)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_BUSY_LOCAL, 0, "another operation is under way");
  memset (&p->result, 0, sizeof p->result);
  p->operation = operation;
  p->resent_after_no_session = false;
  return true;
}

bool
thecal_programmer_begin_request (ThecalProgrammer *p, int64_t now_ms, const ThecalMessage *request, ThecalProtoError *error)
{
  if (p->operation != THECAL_OPERATION_NONE)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_BUSY_LOCAL, 0, "another operation is under way");
  if (request == NULL || request->response || request->type == THECAL_MSG_HELLO || request->type == THECAL_MSG_AUTH
      || request->type == THECAL_MSG_ERROR)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "%s cannot be sent as a request",
                                   request != NULL ? thecal_msg_type_name ((uint8_t) request->type) : "nothing");
  if (!thecal_message_encode (request, p->user_body, sizeof p->user_body, &p->user_body_length, error))
    return false;
  if (!begin (p, THECAL_OPERATION_REQUEST, error))
    return false;
  p->user_type = (uint8_t) request->type;
  start_step (p, now_ms, THECAL_PROGRAMMER_STEP_USER);
  return true;
}

bool
thecal_programmer_begin_simple (ThecalProgrammer *p, int64_t now_ms, ThecalMsgType type, ThecalProtoError *error)
{
  ThecalMessage *m = &p->reply;

  if (p->operation != THECAL_OPERATION_NONE)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_BUSY_LOCAL, 0, "another operation is under way");
  thecal_message_init (m, type, false);
  return thecal_programmer_begin_request (p, now_ms, m, error);
}

bool
thecal_programmer_begin_handshake (ThecalProgrammer *p, int64_t now_ms, ThecalProtoError *error)
{
  if (!begin (p, THECAL_OPERATION_HANDSHAKE, error))
    return false;
  start_hello (p, now_ms, THECAL_PROGRAMMER_STEP_IDLE);
  return true;
}

/* Two-phase programming of @rx; with @fill (not NULL) the final step is REFILL_COMMIT. */
static bool
begin_program (ThecalProgrammer *p,
               int64_t now_ms,
               const ThecalPrescription *rx,
               const ThecalChecksum *active,
               const ThecalMsgSetReservoir *fill,
               ThecalProtoError *error)
{
  ThecalDoseError dose_error;
  ThecalChecksum target;

  if (p->operation != THECAL_OPERATION_NONE)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_BUSY_LOCAL, 0, "another operation is under way");
  if (rx == NULL || active == NULL)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "no prescription or no active checksum");
  if (fill != NULL)
    {
      ThecalMessage *probe = &p->reply;

      if (strncmp (fill->drug_id, rx->drug_id, sizeof fill->drug_id) != 0
          || fill->concentration_ng_per_ml != rx->concentration_ng_per_ml)
        return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0,
                                       "the prescription is not for the fill's drug and concentration");
      if (fill->volume_nl < 0)
        return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "fill volume %lld nL is below 0",
                                       (long long) fill->volume_nl);
      /* the fill must encode, or REFILL_COMMIT could not be sent after STAGE */
      thecal_message_init (probe, THECAL_MSG_REFILL_COMMIT, false);
      probe->refill_commit.fill = *fill;
      if (!thecal_message_encode (probe, p->scratch, sizeof p->scratch, NULL, error))
        return false;
    }
  memset (&dose_error, 0, sizeof dose_error);
  if (!thecal_prescription_validate (rx, &dose_error))
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "%s: %s", dose_error.field, dose_error.message);
  if (!thecal_prescription_checksum (rx, &target, error))
    return false;
  if (!begin (p, THECAL_OPERATION_PROGRAM, error))
    return false;
  memset (&p->report, 0, sizeof p->report);
  thecal_proto_error_clear (&p->program_saved_error);
  {
    size_t length = 0;

    /* keep only what the encoding carries (unused slots zero): the prescription as the pump
     * will see it */
    if (!thecal_prescription_encode (rx, p->scratch, sizeof p->scratch, &length, error)
        || !thecal_prescription_decode (p->scratch, length, &p->program_rx, error))
      {
        p->operation = THECAL_OPERATION_NONE;
        return false;
      }
  }
  p->has_program = true;
  p->program_has_fill = fill != NULL;
  if (fill != NULL)
    p->program_fill = *fill;
  else
    memset (&p->program_fill, 0, sizeof p->program_fill);
  p->report.previous = *active;
  p->report.target = target;
  start_step (p, now_ms, THECAL_PROGRAMMER_STEP_STAGE);
  return true;
}

bool
thecal_programmer_begin_program (ThecalProgrammer *p,
                                 int64_t now_ms,
                                 const ThecalPrescription *rx,
                                 const ThecalChecksum *active,
                                 ThecalProtoError *error)
{
  return begin_program (p, now_ms, rx, active, NULL, error);
}

bool
thecal_programmer_begin_refill_program (ThecalProgrammer *p,
                                        int64_t now_ms,
                                        const ThecalPrescription *rx,
                                        const ThecalChecksum *active,
                                        const ThecalMsgSetReservoir *fill,
                                        ThecalProtoError *error)
{
  if (fill == NULL)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "no fill");
  return begin_program (p, now_ms, rx, active, fill, error);
}

bool
thecal_programmer_begin_resolve (ThecalProgrammer *p, int64_t now_ms, ThecalProtoError *error)
{
  if (p->operation != THECAL_OPERATION_NONE)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_BUSY_LOCAL, 0, "another operation is under way");
  if (!p->has_program)
    return thecal_proto_error_set (error, THECAL_PROTO_ERROR_INVALID, 0, "no programming to resolve");
  if (!begin (p, THECAL_OPERATION_RESOLVE, error))
    return false;
  start_step (p, now_ms, THECAL_PROGRAMMER_STEP_RESOLVE);
  return true;
}

bool
thecal_programmer_busy (const ThecalProgrammer *p)
{
  return p->operation != THECAL_OPERATION_NONE;
}

ThecalProgrammerStep
thecal_programmer_step (const ThecalProgrammer *p)
{
  return p->operation != THECAL_OPERATION_NONE ? p->step : THECAL_PROGRAMMER_STEP_IDLE;
}

const uint8_t *
thecal_programmer_take_output (ThecalProgrammer *p, size_t *length)
{
  if (!p->output_ready || !p->outstanding)
    {
      if (length != NULL)
        *length = 0;
      return NULL;
    }
  p->output_ready = false;
  p->stats.frames_sent++;
  p->stats.bytes_sent += (int64_t) p->frame_length;
  if (length != NULL)
    *length = p->frame_length;
  return p->frame;
}

void
thecal_programmer_tick (ThecalProgrammer *p, int64_t now_ms)
{
  ThecalProtoError error;

  if (!p->outstanding || now_ms < p->deadline_ms)
    return;
  if (p->attempts < p->config.max_attempts)
    {
      /* the same bytes again: same sequence, same nonce, same plaintext */
      p->attempts++;
      p->stats.retransmissions++;
      p->deadline_ms = add_clamped (now_ms, p->config.retry_timeout_ms);
      p->output_ready = true;
      return;
    }
  thecal_proto_error_set (&error, THECAL_PROTO_ERROR_TIMEOUT, 0, "no answer to %s after %d attempts",
                          thecal_msg_type_name (p->out_type), (int) p->attempts);
  step_done (p, now_ms, THECAL_EXCHANGE_LOST, false, &error);
}

/* An ERROR frame for the outstanding request. */
static void
receive_error (ThecalProgrammer *p, int64_t now_ms, const ThecalFrame *frame)
{
  ThecalProtoError error;
  const uint8_t *body = frame->payload;
  size_t body_length = frame->length;
  bool encrypted = (frame->flags & THECAL_FRAME_FLAG_ENCRYPTED) != 0;

  thecal_proto_error_clear (&error);
  if (encrypted)
    {
      const uint8_t *key = p->step == THECAL_PROGRAMMER_STEP_AUTH ? p->handshake_key : p->session_key;

      if (!p->out_encrypted
          || !thecal_session_open (key, THECAL_DIRECTION_TO_PROGRAMMER, frame, p->plain, sizeof p->plain, &body_length))
        {
          p->stats.frames_ignored++;
          return;
        }
      body = p->plain;
    }
  if (!thecal_message_decode (THECAL_MSG_ERROR, true, body, body_length, &p->reply, &error)
      || p->reply.error.request_type != p->out_type)
    {
      p->stats.frames_ignored++;
      return;
    }
  error = p->reply.error.error;
  if (encrypted || !p->out_encrypted)
    {
      /* authentic (or a clear request refused in clear, where nothing could change anyway) */
      step_done (p, now_ms, THECAL_EXCHANGE_REFUSED, encrypted, &error);
      return;
    }
  /* A clear ERROR to an encrypted request proves nothing: anyone could have sent it. The request
   * ends LOST (its effect unknown), and the session is not trusted any more. */
  if (p->step != THECAL_PROGRAMMER_STEP_AUTH)
    forget_session (p);
  step_done (p, now_ms, THECAL_EXCHANGE_LOST, false, &error);
}

void
thecal_programmer_receive (ThecalProgrammer *p, int64_t now_ms, const uint8_t *bytes, size_t length)
{
  ThecalFrame frame;
  ThecalProtoError error;
  const uint8_t *body;
  size_t body_length;
  bool encrypted;

  p->stats.bytes_received += (int64_t) length;
  if (!p->outstanding || thecal_frame_decode (bytes, length, &frame) != THECAL_FRAME_OK
      || (frame.flags & THECAL_FRAME_FLAG_RESPONSE) == 0 || frame.seq != p->out_seq)
    {
      p->stats.frames_ignored++;
      return;
    }
  if (frame.type == THECAL_MSG_ERROR)
    {
      receive_error (p, now_ms, &frame);
      return;
    }
  encrypted = (frame.flags & THECAL_FRAME_FLAG_ENCRYPTED) != 0;
  if (frame.type != p->out_type || encrypted != p->out_encrypted)
    {
      p->stats.frames_ignored++;
      return;
    }
  body = frame.payload;
  body_length = frame.length;
  if (encrypted)
    {
      const uint8_t *key = p->step == THECAL_PROGRAMMER_STEP_AUTH ? p->handshake_key : p->session_key;

      if (!thecal_session_open (key, THECAL_DIRECTION_TO_PROGRAMMER, &frame, p->plain, sizeof p->plain, &body_length))
        {
          p->stats.frames_ignored++; /* corrupt or forged: the retransmission timer goes on */
          return;
        }
      body = p->plain;
    }
  thecal_proto_error_clear (&error);
  if (!thecal_message_decode (frame.type, true, body, body_length, &p->reply, &error))
    {
      ThecalProtoError bad;

      /* Retransmitting would bring the same answer back: give up on this request. */
      thecal_proto_error_set (&bad, THECAL_PROTO_ERROR_BAD_REPLY, 0, "the answer to %s does not decode: %s",
                              thecal_msg_type_name (frame.type), error.reason);
      step_done (p, now_ms, THECAL_EXCHANGE_LOST, encrypted, &bad);
      return;
    }
  if (frame.type == THECAL_MSG_HELLO)
    thecal_session_derive_key (p->config.pump_key, p->hello_body, p->hello_body_length, frame.payload, frame.length,
                               p->handshake_key);
  step_done (p, now_ms, THECAL_EXCHANGE_OK, encrypted, NULL);
}

int64_t
thecal_programmer_deadline (const ThecalProgrammer *p)
{
  return p->outstanding ? p->deadline_ms : INT64_MAX;
}

const ThecalProgrammerResult *
thecal_programmer_result (const ThecalProgrammer *p)
{
  return &p->result;
}

const ThecalMessage *
thecal_programmer_reply (const ThecalProgrammer *p)
{
  return &p->reply;
}

const ThecalProgramReport *
thecal_programmer_program_report (const ThecalProgrammer *p)
{
  return &p->report;
}

const ThecalProtoIdentity *
thecal_programmer_identity (const ThecalProgrammer *p)
{
  return p->identity_known ? &p->identity : NULL;
}

const ThecalProgrammerStats *
thecal_programmer_stats (const ThecalProgrammer *p)
{
  return &p->stats;
}

bool
thecal_programmer_session_ready (const ThecalProgrammer *p, int64_t now_ms)
{
  return session_usable (p, now_ms);
}

bool
thecal_programmer_forget_session (ThecalProgrammer *p)
{
  if (p->operation != THECAL_OPERATION_NONE)
    return false;
  forget_session (p);
  return true;
}

const char *
thecal_program_outcome_name (ThecalProgramOutcome outcome)
{
  switch (outcome)
    {
    case THECAL_PROGRAM_NONE:
      return "none";
    case THECAL_PROGRAM_CONFIRMED:
      return "confirmed";
    case THECAL_PROGRAM_FAILED:
      return "failed";
    case THECAL_PROGRAM_UNCERTAIN:
      return "uncertain";
    case THECAL_PROGRAM_CONFLICT:
      return "conflict";
    default:
      return "?";
    }
}

const char *
thecal_exchange_status_name (ThecalExchangeStatus status)
{
  switch (status)
    {
    case THECAL_EXCHANGE_NONE:
      return "none";
    case THECAL_EXCHANGE_OK:
      return "ok";
    case THECAL_EXCHANGE_REFUSED:
      return "refused";
    case THECAL_EXCHANGE_LOST:
      return "lost";
    case THECAL_EXCHANGE_FAILED:
      return "failed";
    default:
      return "?";
    }
}
