/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-programmer.c: the programmer against the pump role and the fake pump over a lossy link:
 * requests, sessions, retransmission, and two-phase programming with a loss at every step,
 * comparing in every case the outcome the programmer reports with what the pump really runs.
 */
#include "config.h"

#include "thecal-fake-pump.h"
#include "thecal-test.h"

#include <stdint.h>
#include <string.h>

static ThecalProgrammer programmer;
static ThecalPumpRole role;
static ThecalFakePump pump;
static Link link;
static uint64_t programmer_seed, pump_seed;
static ThecalPrescription rx5, rx6; /* morphine 25 mg/mL at 5 and 6 mg/day */
static ThecalChecksum rx5_sum, rx6_sum;

static void
setup_paired (bool paired)
{
  programmer_seed = 11;
  pump_seed = 22;
  thecal_test_rx_morphine (&rx5, 5);
  thecal_test_rx_morphine (&rx6, 6);
  ck_assert (thecal_prescription_checksum (&rx5, &rx5_sum, NULL));
  ck_assert (thecal_prescription_checksum (&rx6, &rx6_sum, NULL));
  thecal_test_setup (&programmer, &role, &pump, &rx5, paired, &programmer_seed, &pump_seed);
  link_init (&link, &programmer, &role, &pump);
}

static void
setup (void)
{
  setup_paired (true);
}

static void
run (void)
{
  ck_assert_msg (link_run (&link, 100000), "the programmer did not settle");
  ck_assert (!thecal_programmer_busy (&programmer));
}

static const ThecalProgrammerResult *
request_simple (ThecalMsgType type)
{
  ThecalProtoError error;

  ck_assert (thecal_programmer_begin_simple (&programmer, link.now_ms, type, &error));
  run ();
  return thecal_programmer_result (&programmer);
}

static const ThecalProgramReport *
program (const ThecalPrescription *rx, const ThecalChecksum *active)
{
  ThecalProtoError error;

  memset (&error, 0, sizeof error);
  ck_assert_msg (thecal_programmer_begin_program (&programmer, link.now_ms, rx, active, &error), "%s", error.reason);
  run ();
  ck_assert_int_eq (thecal_programmer_result (&programmer)->operation, THECAL_OPERATION_PROGRAM);
  return thecal_programmer_program_report (&programmer);
}

/* program (&rx6, &rx5_sum) over a link that drops the frames of @type, the answers when
 * @response, @drops times (−1: every one). */
static const ThecalProgramReport *
program_dropping (ThecalMsgType type, bool response, int32_t drops)
{
  link.policy = link_policy_drop_type;
  link.drop_type = (uint8_t) type;
  link.drop_response = response;
  link.drops_left = drops;
  return program (&rx6, &rx5_sum);
}

static const ThecalProgramReport *
resolve (void)
{
  ThecalProtoError error;

  link.policy = link_policy_deliver;
  ck_assert (thecal_programmer_begin_resolve (&programmer, link.now_ms, &error));
  run ();
  ck_assert_int_eq (thecal_programmer_result (&programmer)->operation, THECAL_OPERATION_RESOLVE);
  return thecal_programmer_program_report (&programmer);
}

/* @report ended with @outcome at @step. */
static void
assert_report (const ThecalProgramReport *report, ThecalProgramOutcome outcome, ThecalProgramStep step)
{
  ck_assert_msg (report->outcome == outcome && report->step == step, "%s at step %d (%s); expected %s at step %d",
                 thecal_program_outcome_name (report->outcome), (int) report->step, report->error.reason,
                 thecal_program_outcome_name (outcome), (int) step);
}

/* What the programmer believes is what the pump runs. UNCERTAIN is settled by resolving over a
 * working link first. Returns the settled outcome. */
static ThecalProgramOutcome
belief_matches_truth (const ThecalPrescription *old_rx, const ThecalPrescription *new_rx)
{
  const ThecalProgramReport *report = thecal_programmer_program_report (&programmer);
  ThecalProgramOutcome outcome = report->outcome;

  if (outcome == THECAL_PROGRAM_UNCERTAIN)
    {
      ck_assert (report->commit_sent); /* uncertain only once COMMIT left */
      report = resolve ();
      outcome = report->outcome;
      ck_assert_int_ne (outcome, THECAL_PROGRAM_UNCERTAIN);
    }
  switch (outcome)
    {
    case THECAL_PROGRAM_CONFIRMED:
      ck_assert_msg (thecal_prescription_equal (&pump.active, new_rx), "CONFIRMED but the pump runs something else");
      break;
    case THECAL_PROGRAM_FAILED:
      ck_assert_msg (thecal_prescription_equal (&pump.active, old_rx), "FAILED but the pump changed");
      break;
    case THECAL_PROGRAM_CONFLICT:
      ck_assert (!thecal_prescription_equal (&pump.active, new_rx) && !thecal_prescription_equal (&pump.active, old_rx));
      break;
    case THECAL_PROGRAM_NONE:
    case THECAL_PROGRAM_UNCERTAIN:
    default:
      ck_abort_msg ("unsettled outcome");
    }
  ck_assert_int_le (pump.apply_calls, 1); /* never applied twice */
  return outcome;
}

/* ---- requests and sessions ------------------------------------------------------------------- */

START_TEST (test_request_opens_session)
{
  const ThecalProgrammerResult *result = request_simple (THECAL_MSG_READ_STATUS);

  ck_assert_int_eq (result->status, THECAL_EXCHANGE_OK);
  ck_assert (result->authenticated);
  ck_assert_int_eq (link.frames, 6); /* HELLO, AUTH, READ_STATUS and their answers */
  ck_assert (thecal_checksum_equal (&thecal_programmer_reply (&programmer)->status.active_checksum, &rx5_sum));
  ck_assert_ptr_nonnull (thecal_programmer_identity (&programmer));
  ck_assert_str_eq (thecal_programmer_identity (&programmer)->serial, FAKE_SERIAL);
  ck_assert (thecal_programmer_session_ready (&programmer, link.now_ms));
  /* the session is reused */
  result = request_simple (THECAL_MSG_READ_PRESCRIPTION);
  ck_assert_int_eq (result->status, THECAL_EXCHANGE_OK);
  ck_assert_int_eq (link.frames, 8);
  ck_assert (thecal_prescription_equal (&thecal_programmer_reply (&programmer)->prescription.rx, &rx5));
  /* and reopened after the pump's timeout */
  link.now_ms += 61000;
  ck_assert (!thecal_programmer_session_ready (&programmer, link.now_ms));
  result = request_simple (THECAL_MSG_READ_STATUS);
  ck_assert_int_eq (result->status, THECAL_EXCHANGE_OK);
  ck_assert_int_eq (link.frames, 14);
  ck_assert_int_eq (role.stats.sessions_opened, 2);
}
END_TEST

START_TEST (test_identify_without_key)
{
  ThecalProgrammerConfig config = programmer.config;
  const ThecalProgrammerResult *result;

  config.has_key = false;
  ck_assert (thecal_programmer_init (&programmer, &config));
  result = request_simple (THECAL_MSG_IDENTIFY);
  ck_assert_int_eq (result->status, THECAL_EXCHANGE_OK);
  ck_assert (!result->authenticated);
  ck_assert_str_eq (thecal_programmer_reply (&programmer)->identity.model_id, FAKE_MODEL);
  ck_assert_int_eq (link.frames, 2);
  /* anything more needs the key: the programmer stops after HELLO */
  result = request_simple (THECAL_MSG_READ_STATUS);
  ck_assert_int_eq (result->status, THECAL_EXCHANGE_FAILED);
  ck_assert_int_eq (result->error.code, THECAL_PROTO_ERROR_NO_KEY);
  ck_assert_int_eq (link.frames, 4);
  /* with the key looked up by serial, it works */
  {
    uint8_t key[THECAL_KEY_SIZE];

    thecal_test_key (key, FAKE_KEY_BYTE);
    thecal_programmer_set_key (&programmer, key);
  }
  result = request_simple (THECAL_MSG_READ_STATUS);
  ck_assert_int_eq (result->status, THECAL_EXCHANGE_OK);
}
END_TEST

START_TEST (test_wrong_key)
{
  const ThecalProgrammerResult *result;

  setup_paired (false);
  result = request_simple (THECAL_MSG_READ_STATUS);
  ck_assert_int_eq (result->status, THECAL_EXCHANGE_FAILED);
  ck_assert_int_eq (result->error.code, THECAL_PROTO_ERROR_WRONG_KEY);
  ck_assert_msg (strstr (result->error.reason, "wrong pairing key") != NULL, "%s", result->error.reason);
  ck_assert_int_eq (link.frames, 4); /* fails at once, not after timeouts */
  ck_assert (!thecal_pump_role_session_active (&role));
  /* a program never reaches STAGE */
  {
    const ThecalProgramReport *report = program (&rx6, &rx5_sum);

    assert_report (report, THECAL_PROGRAM_FAILED, THECAL_PROGRAM_STEP_HANDSHAKE);
    ck_assert_int_eq (pump.check_calls, 0);
  }
}
END_TEST

START_TEST (test_wrong_pump)
{
  const ThecalProgrammerResult *result;

  ck_assert (thecal_programmer_set_expected_serial (&programmer, "TR20-999999"));
  result = request_simple (THECAL_MSG_READ_STATUS);
  ck_assert_int_eq (result->status, THECAL_EXCHANGE_FAILED);
  ck_assert_int_eq (result->error.code, THECAL_PROTO_ERROR_WRONG_PUMP);
  ck_assert_int_eq (link.frames, 2);
  ck_assert (thecal_programmer_set_expected_serial (&programmer, FAKE_SERIAL));
  result = request_simple (THECAL_MSG_READ_STATUS);
  ck_assert_int_eq (result->status, THECAL_EXCHANGE_OK);
  ck_assert (!thecal_programmer_set_expected_serial (&programmer, "bad\nserial"));
}
END_TEST

START_TEST (test_retries_then_lost)
{
  const ThecalProgrammerResult *result;
  int64_t start = link.now_ms;

  link.policy = link_policy_dead_from;
  link.dead_from = 1;
  result = request_simple (THECAL_MSG_READ_STATUS);
  ck_assert_int_eq (result->status, THECAL_EXCHANGE_FAILED);
  ck_assert_int_eq (result->error.code, THECAL_PROTO_ERROR_TIMEOUT);
  /* HELLO sent 4 times, one second apart, given up one second after the last */
  ck_assert_int_eq (thecal_programmer_stats (&programmer)->frames_sent, 4);
  ck_assert_int_eq (thecal_programmer_stats (&programmer)->retransmissions, 3);
  ck_assert_int_eq (link.now_ms - start, 4000);

  /* once a session is open, a lost request ends LOST (not FAILED) */
  link.policy = link_policy_deliver;
  ck_assert_int_eq (request_simple (THECAL_MSG_READ_STATUS)->status, THECAL_EXCHANGE_OK);
  link.policy = link_policy_dead_from;
  link.dead_from = link.frames + 1;
  result = request_simple (THECAL_MSG_SET_CLOCK);
  ck_assert_int_eq (result->status, THECAL_EXCHANGE_LOST);
  ck_assert (thecal_msg_type_changes_pump (result->request_type)); /* so: effect unknown */
}
END_TEST

START_TEST (test_clear_error_is_not_a_refusal)
{
  const ThecalProgrammerResult *result;
  ThecalMessage *m = calloc (1, sizeof *m);

  ck_assert_int_eq (request_simple (THECAL_MSG_READ_STATUS)->status, THECAL_EXCHANGE_OK);
  /* the pump restarts and forgets the session; the programmer does not know yet */
  thecal_pump_role_end_session (&role);
  thecal_message_init (m, THECAL_MSG_SET_CLOCK, false);
  m->set_clock.pump_local_ms = 42;
  ck_assert (thecal_programmer_begin_request (&programmer, link.now_ms, m, NULL));
  run ();
  result = thecal_programmer_result (&programmer);
  /* the pump's clear NOT_AUTHENTICATED could be forged by anyone: LOST, not REFUSED */
  ck_assert_int_eq (result->status, THECAL_EXCHANGE_LOST);
  ck_assert (!result->authenticated);
  ck_assert_int_eq (result->error.code, THECAL_PROTO_ERROR_NOT_AUTHENTICATED);
  ck_assert (!thecal_programmer_session_ready (&programmer, link.now_ms));
  /* the next request opens a new session by itself */
  ck_assert (thecal_programmer_begin_request (&programmer, link.now_ms, m, NULL));
  run ();
  ck_assert_int_eq (thecal_programmer_result (&programmer)->status, THECAL_EXCHANGE_OK);
  ck_assert_int_eq (pump.clock_ms, 42);
  free (m);
}
END_TEST

/* The pump lost the session (timed out there first): a request that cannot change what it runs
 * goes again after a new handshake, once, and the caller sees only its answer. */
START_TEST (test_no_session_read_sent_again)
{
  const ThecalProgrammerResult *result;

  ck_assert_int_eq (request_simple (THECAL_MSG_READ_STATUS)->status, THECAL_EXCHANGE_OK);
  ck_assert_int_eq (role.stats.sessions_opened, 1);
  thecal_pump_role_end_session (&role);
  result = request_simple (THECAL_MSG_READ_STATUS);
  ck_assert_int_eq (result->status, THECAL_EXCHANGE_OK);
  ck_assert (result->authenticated);
  ck_assert_int_eq (role.stats.sessions_opened, 2);
  ck_assert (thecal_programmer_session_ready (&programmer, link.now_ms));
}
END_TEST

/* Runs in the link: the pump forgets the session before every @type request (a pump that keeps
 * saying it has none). */
static LinkAction
end_session_at_read_status (Link *l, int64_t index, bool to_pump, uint8_t type, bool response)
{
  (void) index;
  (void) response;
  if (to_pump && type == THECAL_MSG_READ_STATUS)
    thecal_pump_role_end_session (l->role);
  return LINK_DELIVER;
}

/* Sent again once only: a pump that still says it has no session leaves the request LOST. */
START_TEST (test_no_session_sent_again_once)
{
  const ThecalProgrammerResult *result;

  ck_assert_int_eq (request_simple (THECAL_MSG_READ_PRESCRIPTION)->status, THECAL_EXCHANGE_OK);
  link.policy = end_session_at_read_status;
  result = request_simple (THECAL_MSG_READ_STATUS);
  ck_assert_int_eq (result->status, THECAL_EXCHANGE_LOST);
  ck_assert_int_eq (result->error.code, THECAL_PROTO_ERROR_NOT_AUTHENTICATED);
  ck_assert_int_eq (role.stats.sessions_opened, 2); /* the first and the one new handshake */
  /* the next operation may try again */
  link.policy = link_policy_deliver;
  ck_assert_int_eq (request_simple (THECAL_MSG_READ_STATUS)->status, THECAL_EXCHANGE_OK);
}
END_TEST

/* STAGE changes only the staged copy: after the pump lost the session it is staged again in a
 * new one, and the write goes on to CONFIRMED. */
START_TEST (test_no_session_stage_sent_again)
{
  ck_assert_int_eq (request_simple (THECAL_MSG_READ_STATUS)->status, THECAL_EXCHANGE_OK);
  thecal_pump_role_end_session (&role);
  assert_report (program (&rx6, &rx5_sum), THECAL_PROGRAM_CONFIRMED, THECAL_PROGRAM_STEP_READ_BACK);
  ck_assert (thecal_prescription_equal (&pump.active, &rx6));
  ck_assert_int_eq (pump.apply_calls, 1);
  ck_assert_int_eq (role.stats.sessions_opened, 2);
}
END_TEST

START_TEST (test_refusal_is_authenticated)
{
  const ThecalProgrammerResult *result;

  result = request_simple (THECAL_MSG_READ_STAGED);
  ck_assert_int_eq (result->status, THECAL_EXCHANGE_REFUSED);
  ck_assert (result->authenticated);
  ck_assert_int_eq (result->error.code, THECAL_PROTO_ERROR_NOTHING_STAGED);
}
END_TEST

START_TEST (test_ignores_what_is_not_its_answer)
{
  const ThecalProgrammerResult *result;
  uint8_t junk[THECAL_FRAME_MAX];
  size_t length = 0;

  ck_assert_int_eq (request_simple (THECAL_MSG_READ_STATUS)->status, THECAL_EXCHANGE_OK);
  ck_assert (thecal_programmer_begin_simple (&programmer, link.now_ms, THECAL_MSG_READ_PRESCRIPTION, NULL));
  /* garbage, a frame with another sequence, a request, an answer of another type: ignored */
  thecal_programmer_receive (&programmer, link.now_ms, (const uint8_t *) "garbage", 7);
  ck_assert (thecal_frame_encode (THECAL_MSG_READ_PRESCRIPTION, THECAL_FRAME_FLAG_RESPONSE, 999, (const uint8_t *) "\x01", 1,
                                  junk, sizeof junk, &length));
  thecal_programmer_receive (&programmer, link.now_ms, junk, length);
  ck_assert (thecal_frame_encode (THECAL_MSG_READ_PRESCRIPTION, 0, 3, (const uint8_t *) "\x01", 1, junk, sizeof junk, &length));
  thecal_programmer_receive (&programmer, link.now_ms, junk, length);
  ck_assert (thecal_frame_encode (THECAL_MSG_IDENTIFY, THECAL_FRAME_FLAG_RESPONSE, 3, (const uint8_t *) "\x01", 1, junk,
                                  sizeof junk, &length));
  thecal_programmer_receive (&programmer, link.now_ms, junk, length);
  /* a clear, forged answer to an encrypted request */
  ck_assert (thecal_frame_encode (THECAL_MSG_READ_PRESCRIPTION, THECAL_FRAME_FLAG_RESPONSE, 3, (const uint8_t *) "\x01", 1,
                                  junk, sizeof junk, &length));
  thecal_programmer_receive (&programmer, link.now_ms, junk, length);
  ck_assert (thecal_programmer_busy (&programmer));
  ck_assert_int_eq (thecal_programmer_stats (&programmer)->frames_ignored, 5);
  run ();
  result = thecal_programmer_result (&programmer);
  ck_assert_int_eq (result->status, THECAL_EXCHANGE_OK);
}
END_TEST

START_TEST (test_api_misuse)
{
  ThecalProtoError error;
  ThecalPrescription bad = rx5;
  ThecalMessage *m = calloc (1, sizeof *m);

  ck_assert (!thecal_programmer_begin_resolve (&programmer, 0, &error)); /* nothing to resolve */
  ck_assert_int_eq (error.code, THECAL_PROTO_ERROR_INVALID);
  thecal_message_init (m, THECAL_MSG_HELLO, false);
  ck_assert (!thecal_programmer_begin_request (&programmer, 0, m, &error));
  thecal_message_init (m, THECAL_MSG_READ_STATUS, true);
  ck_assert (!thecal_programmer_begin_request (&programmer, 0, m, &error));
  bad.continuous.dose_ng_per_day = -1;
  ck_assert (!thecal_programmer_begin_program (&programmer, 0, &bad, &rx5_sum, &error));
  ck_assert_int_eq (error.code, THECAL_PROTO_ERROR_INVALID);
  ck_assert (!thecal_programmer_busy (&programmer));
  ck_assert (thecal_programmer_begin_simple (&programmer, 0, THECAL_MSG_READ_STATUS, &error));
  ck_assert (!thecal_programmer_begin_simple (&programmer, 0, THECAL_MSG_READ_STATUS, &error));
  ck_assert_int_eq (error.code, THECAL_PROTO_ERROR_BUSY_LOCAL);
  ck_assert (!thecal_programmer_forget_session (&programmer));
  ck_assert_ptr_nonnull (thecal_programmer_take_output (&programmer, NULL));
  ck_assert_ptr_null (thecal_programmer_take_output (&programmer, NULL)); /* once */
  free (m);
}
END_TEST

/* ---- two-phase programming ------------------------------------------------------------------- */

START_TEST (test_program_confirmed)
{
  const ThecalProgramReport *report = program (&rx6, &rx5_sum);

  assert_report (report, THECAL_PROGRAM_CONFIRMED, THECAL_PROGRAM_STEP_READ_BACK);
  ck_assert (report->commit_sent && report->commit_acknowledged && report->active_known);
  ck_assert (thecal_checksum_equal (&report->active, &rx6_sum));
  ck_assert (thecal_checksum_equal (&report->target, &rx6_sum));
  ck_assert (thecal_checksum_equal (&report->previous, &rx5_sum));
  ck_assert (thecal_prescription_equal (&pump.active, &rx6));
  ck_assert_int_eq (pump.apply_calls, 1);
  ck_assert_int_eq (link.frames, 12); /* HELLO AUTH STAGE READ_STAGED COMMIT READ_PRESCRIPTION */
  ck_assert_int_eq (thecal_programmer_result (&programmer)->status, THECAL_EXCHANGE_OK);
  ck_assert_str_eq (thecal_program_outcome_name (report->outcome), "confirmed");
}
END_TEST

START_TEST (test_program_refused_before_commit)
{
  const ThecalProgramReport *report;
  ThecalPrescription high;

  /* above the pump's own limit: refused at STAGE, the pump unchanged */
  thecal_test_rx_morphine (&high, 700);
  report = program (&high, &rx5_sum);
  assert_report (report, THECAL_PROGRAM_FAILED, THECAL_PROGRAM_STEP_STAGE);
  ck_assert_int_eq (report->error.code, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT);
  ck_assert_uint_eq (report->error.detail, THECAL_PUMP_LIMIT_RATE_ABOVE_MAX);
  ck_assert (!report->commit_sent);
  belief_matches_truth (&rx5, &high);
}
END_TEST

/* The clinician reviewed a prescription the pump no longer runs (someone else changed it): the
 * pump refuses STALE_CHECKSUM, and the programmer reads what it runs instead of assuming. */
START_TEST (test_stale_at_stage)
{
  const ThecalProgramReport *report;
  ThecalPrescription rx7;
  ThecalChecksum rx7_sum;

  thecal_test_rx_morphine (&rx7, 7);
  ck_assert (thecal_prescription_checksum (&rx7, &rx7_sum, NULL));
  /* reviewed 7 mg/day, the pump runs 5 mg/day */
  report = program (&rx6, &rx7_sum);
  assert_report (report, THECAL_PROGRAM_CONFLICT, THECAL_PROGRAM_STEP_STAGE);
  ck_assert_int_eq (report->error.code, THECAL_PROTO_ERROR_STALE_CHECKSUM);
  ck_assert (!report->commit_sent);
  ck_assert (report->active_known);
  ck_assert (thecal_checksum_equal (&report->active, &rx5_sum));
  ck_assert_int_eq (belief_matches_truth (&rx7, &rx6), THECAL_PROGRAM_CONFLICT);
  /* someone else already programmed the very same prescription: it runs, and that is what is said */
  pump.active = rx6;
  report = program (&rx6, &rx5_sum);
  ck_assert_int_eq (report->outcome, THECAL_PROGRAM_CONFIRMED);
  ck_assert_int_eq (pump.apply_calls, 0);
}
END_TEST

/* Someone else changes the pump between STAGE and COMMIT. */
static ThecalPrescription intruder_rx;

static LinkAction
intrude_at_commit (Link *l, int64_t index, bool to_pump, uint8_t type, bool response)
{
  (void) index;
  (void) response;
  if (to_pump && type == THECAL_MSG_COMMIT)
    l->pump->active = intruder_rx;
  if (l->dead_from != INT64_MAX && index >= l->dead_from)
    return LINK_DROP;
  return LINK_DELIVER;
}

START_TEST (test_stale_at_commit)
{
  const ThecalProgramReport *report;
  ThecalChecksum intruder_sum;

  thecal_test_rx_morphine (&intruder_rx, 7);
  ck_assert (thecal_prescription_checksum (&intruder_rx, &intruder_sum, NULL));
  link.policy = intrude_at_commit;
  report = program (&rx6, &rx5_sum);
  assert_report (report, THECAL_PROGRAM_CONFLICT, THECAL_PROGRAM_STEP_COMMIT);
  ck_assert_int_eq (report->error.code, THECAL_PROTO_ERROR_STALE_CHECKSUM);
  ck_assert (report->active_known);
  ck_assert (thecal_checksum_equal (&report->active, &intruder_sum));
  ck_assert_int_eq (pump.apply_calls, 0);
  ck_assert (!thecal_pump_role_has_staged (&role)); /* a stale copy is discarded */

  /* the same, and the read that follows is lost: still CONFLICT (the refusal proves the pump
   * does not run the reviewed prescription), with nothing claimed about what it runs */
  setup ();
  link.policy = intrude_at_commit;
  link.dead_from = 11; /* everything after the COMMIT answer */
  report = program (&rx6, &rx5_sum);
  ck_assert_int_eq (report->outcome, THECAL_PROGRAM_CONFLICT);
  ck_assert (!report->active_known);
  ck_assert (thecal_prescription_equal (&pump.active, &intruder_rx));
}
END_TEST

START_TEST (test_commit_refused_is_failed)
{
  const ThecalProgramReport *report;

  pump.refuse_apply_busy = true;
  report = program (&rx6, &rx5_sum);
  assert_report (report, THECAL_PROGRAM_FAILED, THECAL_PROGRAM_STEP_COMMIT);
  ck_assert (report->commit_sent);
  ck_assert_int_eq (report->error.code, THECAL_PROTO_ERROR_BUSY);
  /* read back after the refusal: verified, not assumed */
  ck_assert (report->active_known);
  ck_assert (thecal_checksum_equal (&report->active, &rx5_sum));
  belief_matches_truth (&rx5, &rx6);
}
END_TEST

START_TEST (test_loss_before_stage)
{
  const ThecalProgramReport *report;

  report = program_dropping (THECAL_MSG_STAGE, false, -1);
  assert_report (report, THECAL_PROGRAM_FAILED, THECAL_PROGRAM_STEP_STAGE);
  ck_assert_int_eq (report->error.code, THECAL_PROTO_ERROR_TIMEOUT);
  ck_assert (!report->commit_sent);
  ck_assert (!thecal_pump_role_has_staged (&role));
  ck_assert_int_eq (belief_matches_truth (&rx5, &rx6), THECAL_PROGRAM_FAILED);
}
END_TEST

START_TEST (test_loss_after_stage)
{
  const ThecalProgramReport *report;

  report = program_dropping (THECAL_MSG_STAGE, true, -1);
  assert_report (report, THECAL_PROGRAM_FAILED, THECAL_PROGRAM_STEP_STAGE);
  ck_assert (!report->commit_sent);
  /* the pump staged it (and answered every retransmission from its cache), but runs the old */
  ck_assert (thecal_pump_role_has_staged (&role));
  ck_assert_int_eq (pump.check_calls, 1);
  ck_assert_int_eq (belief_matches_truth (&rx5, &rx6), THECAL_PROGRAM_FAILED);
  /* and the staged copy dies with the session */
  thecal_pump_role_tick (&role, link.now_ms + 60000);
  ck_assert (!thecal_pump_role_has_staged (&role));
}
END_TEST

START_TEST (test_loss_after_commit)
{
  const ThecalProgramReport *report;

  /* COMMIT never reaches the pump: UNCERTAIN (the programmer cannot know), then resolved */
  report = program_dropping (THECAL_MSG_COMMIT, false, -1);
  assert_report (report, THECAL_PROGRAM_UNCERTAIN, THECAL_PROGRAM_STEP_COMMIT);
  ck_assert (report->commit_sent && !report->commit_acknowledged);
  ck_assert_int_eq (pump.apply_calls, 0);
  ck_assert_int_eq (belief_matches_truth (&rx5, &rx6), THECAL_PROGRAM_FAILED);
  ck_assert_int_eq (thecal_programmer_program_report (&programmer)->step, THECAL_PROGRAM_STEP_RESOLVE);
}
END_TEST

START_TEST (test_loss_of_commit_answer)
{
  const ThecalProgramReport *report;

  /* COMMIT applied, every answer lost: UNCERTAIN, resolved CONFIRMED, applied once */
  report = program_dropping (THECAL_MSG_COMMIT, true, -1);
  ck_assert_int_eq (report->outcome, THECAL_PROGRAM_UNCERTAIN);
  ck_assert_int_eq (pump.apply_calls, 1);
  ck_assert_int_eq (role.stats.retransmissions, 3); /* 3 retransmitted COMMITs, answered from the cache */
  ck_assert_int_eq (belief_matches_truth (&rx5, &rx6), THECAL_PROGRAM_CONFIRMED);
  ck_assert_int_eq (pump.apply_calls, 1);
}
END_TEST

START_TEST (test_loss_after_commit_ack)
{
  const ThecalProgramReport *report;

  /* COMMIT acknowledged, the read-back lost: still UNCERTAIN (CONFIRMED needs the read-back) */
  report = program_dropping (THECAL_MSG_READ_PRESCRIPTION, true, -1);
  assert_report (report, THECAL_PROGRAM_UNCERTAIN, THECAL_PROGRAM_STEP_READ_BACK);
  ck_assert (report->commit_acknowledged);
  ck_assert (report->active_known);
  ck_assert (thecal_checksum_equal (&report->active, &rx6_sum)); /* what the acknowledgement said */
  ck_assert_int_eq (belief_matches_truth (&rx5, &rx6), THECAL_PROGRAM_CONFIRMED);
}
END_TEST

START_TEST (test_retransmitted_commit_applied_once)
{
  const ThecalProgramReport *report;

  /* one answer lost: the retransmitted COMMIT gets the cached answer */
  report = program_dropping (THECAL_MSG_COMMIT, true, 1);
  ck_assert_int_eq (report->outcome, THECAL_PROGRAM_CONFIRMED);
  ck_assert_int_eq (pump.apply_calls, 1);
  ck_assert_int_eq (role.stats.retransmissions, 1);
  ck_assert_int_eq (role.stats.commits_applied, 1);
  ck_assert (thecal_prescription_equal (&pump.active, &rx6));
}
END_TEST

/* Applies the action in policy_data to frame drop_index only. */
static LinkAction
fault_one (Link *l, int64_t index, bool to_pump, uint8_t type, bool response)
{
  (void) to_pump;
  (void) type;
  (void) response;
  return index == l->drop_index ? (LinkAction) (uintptr_t) l->policy_data : LINK_DELIVER;
}

/* One frame lost, corrupted or duplicated anywhere: the retransmission recovers, and the pump
 * applies the change exactly once. */
START_TEST (test_single_fault_at_every_frame)
{
  static const LinkAction actions[] = { LINK_DROP, LINK_CORRUPT, LINK_DUPLICATE };

  for (size_t a = 0; a < sizeof actions / sizeof actions[0]; a++)
    for (int64_t k = 1; k <= 12; k++)
      {
        const ThecalProgramReport *report;

        setup ();
        link.policy = fault_one;
        link.policy_data = (void *) (uintptr_t) actions[a];
        link.drop_index = k;
        report = program (&rx6, &rx5_sum);
        ck_assert_msg (report->outcome == THECAL_PROGRAM_CONFIRMED, "fault %d at frame %lld: %s (%s)", (int) actions[a],
                       (long long) k, thecal_program_outcome_name (report->outcome), report->error.reason);
        ck_assert_int_eq (pump.apply_calls, 1);
        ck_assert (thecal_prescription_equal (&pump.active, &rx6));
      }
}
END_TEST

/* The link dies for good at frame k: every k, and the expected outcome of each loss point. */
START_TEST (test_link_dies_at_every_frame)
{
  /* frames: 1 HELLO 2 answer 3 AUTH 4 answer 5 STAGE 6 answer 7 READ_STAGED 8 answer
   *         9 COMMIT 10 answer 11 READ_PRESCRIPTION 12 answer */
  static const struct
  {
    ThecalProgramOutcome reported;
    ThecalProgramOutcome settled;
  } expected[14] = {
    [1] = { THECAL_PROGRAM_FAILED, THECAL_PROGRAM_FAILED },
    [2] = { THECAL_PROGRAM_FAILED, THECAL_PROGRAM_FAILED },
    [3] = { THECAL_PROGRAM_FAILED, THECAL_PROGRAM_FAILED },
    [4] = { THECAL_PROGRAM_FAILED, THECAL_PROGRAM_FAILED },
    [5] = { THECAL_PROGRAM_FAILED, THECAL_PROGRAM_FAILED },
    [6] = { THECAL_PROGRAM_FAILED, THECAL_PROGRAM_FAILED },
    [7] = { THECAL_PROGRAM_FAILED, THECAL_PROGRAM_FAILED },
    [8] = { THECAL_PROGRAM_FAILED, THECAL_PROGRAM_FAILED },
    [9] = { THECAL_PROGRAM_UNCERTAIN, THECAL_PROGRAM_FAILED },
    [10] = { THECAL_PROGRAM_UNCERTAIN, THECAL_PROGRAM_CONFIRMED },
    [11] = { THECAL_PROGRAM_UNCERTAIN, THECAL_PROGRAM_CONFIRMED },
    [12] = { THECAL_PROGRAM_UNCERTAIN, THECAL_PROGRAM_CONFIRMED },
    [13] = { THECAL_PROGRAM_CONFIRMED, THECAL_PROGRAM_CONFIRMED },
  };

  for (int64_t k = 1; k <= 13; k++)
    {
      const ThecalProgramReport *report;

      setup ();
      link.policy = link_policy_dead_from;
      link.dead_from = k;
      report = program (&rx6, &rx5_sum);
      ck_assert_msg (report->outcome == expected[k].reported, "link dead from frame %lld: reported %s", (long long) k,
                     thecal_program_outcome_name (report->outcome));
      ck_assert_msg (belief_matches_truth (&rx5, &rx6) == expected[k].settled, "link dead from frame %lld: settled wrong",
                     (long long) k);
    }
}
END_TEST

/* The pump loses the session just before COMMIT arrives: its clear NOT_AUTHENTICATED proves
 * nothing, so the outcome is UNCERTAIN, and resolving finds the pump unchanged. */
static LinkAction
end_session_at_commit (Link *l, int64_t index, bool to_pump, uint8_t type, bool response)
{
  (void) index;
  (void) response;
  if (to_pump && type == THECAL_MSG_COMMIT)
    thecal_pump_role_end_session (l->role);
  return LINK_DELIVER;
}

START_TEST (test_session_lost_at_commit)
{
  const ThecalProgramReport *report;

  link.policy = end_session_at_commit;
  report = program (&rx6, &rx5_sum);
  ck_assert_int_eq (report->outcome, THECAL_PROGRAM_UNCERTAIN);
  ck_assert_int_eq (report->error.code, THECAL_PROTO_ERROR_NOT_AUTHENTICATED);
  ck_assert_int_eq (belief_matches_truth (&rx5, &rx6), THECAL_PROGRAM_FAILED);
}
END_TEST

START_TEST (test_resolve_after_pump_timeout)
{
  const ThecalProgramReport *report;

  report = program_dropping (THECAL_MSG_COMMIT, true, -1);
  ck_assert_int_eq (report->outcome, THECAL_PROGRAM_UNCERTAIN);
  /* two minutes later (the pump dropped the session): resolving opens a new one */
  link.now_ms += 120000;
  report = resolve ();
  ck_assert_int_eq (report->outcome, THECAL_PROGRAM_CONFIRMED);
  ck_assert_int_eq (role.stats.sessions_opened, 2);
  /* resolving without an answer stays UNCERTAIN, never guesses */
  link.policy = link_policy_dead_from;
  link.dead_from = link.frames + 1;
  ck_assert (thecal_programmer_begin_resolve (&programmer, link.now_ms, NULL));
  run ();
  ck_assert_int_eq (thecal_programmer_program_report (&programmer)->outcome, THECAL_PROGRAM_UNCERTAIN);
}
END_TEST

START_TEST (test_conflict)
{
  const ThecalProgramReport *report;

  pump.apply_something_else = true; /* a broken pump runs another concentration */
  report = program (&rx6, &rx5_sum);
  ck_assert_int_eq (report->outcome, THECAL_PROGRAM_CONFLICT);
  ck_assert (!thecal_checksum_equal (&report->active, &rx6_sum));
  ck_assert_int_eq (belief_matches_truth (&rx5, &rx6), THECAL_PROGRAM_CONFLICT);
}
END_TEST

START_TEST (test_full_interrogation_wire_cost)
{
  ThecalMessage *m = calloc (1, sizeof *m);
  int64_t frames_before, bytes_before;

  ck_assert_int_eq (request_simple (THECAL_MSG_READ_STATUS)->status, THECAL_EXCHANGE_OK);
  /* 1 000 events in one round trip: 48 000 payload bytes, 48 089 on the wire (≤ 1.25 ×) */
  pump.log_next_seq = 1001;
  thecal_message_init (m, THECAL_MSG_READ_LOG, false);
  m->read_log.from_seq = 1;
  frames_before = link.frames;
  bytes_before = thecal_programmer_stats (&programmer)->bytes_received;
  ck_assert (thecal_programmer_begin_request (&programmer, link.now_ms, m, NULL));
  run ();
  ck_assert_int_eq (thecal_programmer_result (&programmer)->status, THECAL_EXCHANGE_OK);
  ck_assert_int_eq (thecal_programmer_reply (&programmer)->log.n_events, 1000);
  ck_assert_int_eq (link.frames - frames_before, 2);
  ck_assert_int_eq (thecal_programmer_stats (&programmer)->bytes_received - bytes_before, 15 + 16 + 19 + 48000);
  ck_assert_int_le ((thecal_programmer_stats (&programmer)->bytes_received - bytes_before) * 4, 48000 * 5);
  free (m);
}
END_TEST

/* ---- a lossy link, many programmings --------------------------------------------------------- */

typedef struct
{
  uint64_t state;
} Dice;

static Dice dice;

static uint32_t
roll (void)
{
  uint8_t b[4];

  thecal_test_random (&dice.state, b, sizeof b);
  return (uint32_t) b[0] | ((uint32_t) b[1] << 8) | ((uint32_t) b[2] << 16) | ((uint32_t) b[3] << 24);
}

/* A bad link: 25 % lost, 3 % corrupted, 2 % duplicated, in both directions. */
static LinkAction
lossy (Link *l, int64_t index, bool to_pump, uint8_t type, bool response)
{
  uint32_t r = roll () % 100;

  (void) l;
  (void) index;
  (void) to_pump;
  (void) type;
  (void) response;
  if (r < 25)
    return LINK_DROP;
  if (r < 28)
    return LINK_CORRUPT;
  if (r < 30)
    return LINK_DUPLICATE;
  return LINK_DELIVER;
}

START_TEST (test_property_lossy_link)
{
  int counts[5] = { 0 };
  ThecalPrescription current = rx5;
  ThecalChecksum current_sum = rx5_sum;

  /* two attempts per request on a bad link, so every outcome happens */
  programmer.config.max_attempts = 2;
  dice.state = 2026;
  for (int i = 0; i < 300; i++)
    {
      ThecalPrescription next;
      const ThecalProgramReport *report;
      ThecalProgramOutcome outcome;
      int32_t applied_before = pump.apply_calls;

      thecal_test_rx_morphine (&next, 4 + (i % 7)); /* 4 .. 10 mg/day */
      link.policy = lossy;
      report = program (&next, &current_sum);
      outcome = report->outcome;
      counts[outcome]++;
      /* UNCERTAIN: resolve over the same lossy link until it settles */
      for (int tries = 0; outcome == THECAL_PROGRAM_UNCERTAIN && tries < 100; tries++)
        {
          ck_assert (thecal_programmer_begin_resolve (&programmer, link.now_ms, NULL));
          run ();
          outcome = thecal_programmer_program_report (&programmer)->outcome;
        }
      ck_assert_int_ne (outcome, THECAL_PROGRAM_UNCERTAIN);
      /* never a belief the pump does not share */
      if (outcome == THECAL_PROGRAM_CONFIRMED)
        ck_assert (thecal_prescription_equal (&pump.active, &next));
      else
        {
          ck_assert_int_eq (outcome, THECAL_PROGRAM_FAILED);
          ck_assert (thecal_prescription_equal (&pump.active, &current));
        }
      ck_assert_int_le (pump.apply_calls - applied_before, 1);
      current = pump.active;
      ck_assert (thecal_prescription_checksum (&current, &current_sum, NULL));
      link.now_ms += 30000 * (i % 5); /* sometimes long enough for the session to end */
    }
  /* every reported outcome happened, so every path was checked (this seed: 71 confirmed, 175
   * failed, 54 uncertain), and never a conflict */
  ck_assert_int_gt (counts[THECAL_PROGRAM_CONFIRMED], 0);
  ck_assert_int_gt (counts[THECAL_PROGRAM_FAILED], 0);
  ck_assert_int_gt (counts[THECAL_PROGRAM_UNCERTAIN], 0);
  ck_assert_int_eq (counts[THECAL_PROGRAM_CONFLICT], 0);
}
END_TEST

/* ---- refill with a drug change: REFILL_COMMIT in the place of COMMIT ------------------------- */

static ThecalPrescription rx50; /* morphine 50 mg/mL at 5 mg/day: for the new fill */
static const ThecalMsgSetReservoir fill50 = { .volume_nl = 18000000, .drug_id = "morphine", .concentration_ng_per_ml = 50000000 };

typedef struct
{
  const char *name;
  uint8_t type;  /* the frames of this type ... */
  bool response; /* ... the answers (true) or the requests ... */
  int32_t drops; /* ... are lost this many times (−1: every one) */
  ThecalProgramOutcome reported;
  ThecalProgramStep step;
  ThecalProgramOutcome settled;
} RefillLoss;

static const RefillLoss refill_losses[] = {
  { "nothing lost", 0, false, 0, THECAL_PROGRAM_CONFIRMED, THECAL_PROGRAM_STEP_READ_BACK, THECAL_PROGRAM_CONFIRMED },
  { "STAGE lost", THECAL_MSG_STAGE, false, -1, THECAL_PROGRAM_FAILED, THECAL_PROGRAM_STEP_STAGE, THECAL_PROGRAM_FAILED },
  { "STAGE answer lost", THECAL_MSG_STAGE, true, -1, THECAL_PROGRAM_FAILED, THECAL_PROGRAM_STEP_STAGE, THECAL_PROGRAM_FAILED },
  { "READ_STAGED answer lost", THECAL_MSG_READ_STAGED, true, -1, THECAL_PROGRAM_FAILED, THECAL_PROGRAM_STEP_READ_STAGED,
    THECAL_PROGRAM_FAILED },
  { "REFILL_COMMIT lost", THECAL_MSG_REFILL_COMMIT, false, -1, THECAL_PROGRAM_UNCERTAIN, THECAL_PROGRAM_STEP_COMMIT,
    THECAL_PROGRAM_FAILED },
  { "REFILL_COMMIT answer lost", THECAL_MSG_REFILL_COMMIT, true, -1, THECAL_PROGRAM_UNCERTAIN, THECAL_PROGRAM_STEP_COMMIT,
    THECAL_PROGRAM_CONFIRMED },
  { "one REFILL_COMMIT answer lost", THECAL_MSG_REFILL_COMMIT, true, 1, THECAL_PROGRAM_CONFIRMED, THECAL_PROGRAM_STEP_READ_BACK,
    THECAL_PROGRAM_CONFIRMED },
  { "read-back lost", THECAL_MSG_READ_PRESCRIPTION, true, -1, THECAL_PROGRAM_UNCERTAIN, THECAL_PROGRAM_STEP_READ_BACK,
    THECAL_PROGRAM_CONFIRMED },
};

/* A loss at every step of a refill program (docs/protocol.md §7): the outcome is the program
 * path's, UNCERTAIN only once REFILL_COMMIT left, and the fill and the prescription always move
 * together (the fake pump sets both in one call, applied at most once). */
START_TEST (test_refill_program_loss_at_every_step)
{
  const RefillLoss *c = &refill_losses[_i];
  const ThecalProgramReport *report;
  ThecalProtoError error;
  ThecalProgramOutcome settled;

  thecal_test_rx_morphine (&rx50, 5);
  rx50.concentration_ng_per_ml = 50000000;
  link.policy = c->drops != 0 ? link_policy_drop_type : link_policy_deliver;
  link.drop_type = c->type;
  link.drop_response = c->response;
  link.drops_left = c->drops;
  memset (&error, 0, sizeof error);
  ck_assert_msg (thecal_programmer_begin_refill_program (&programmer, link.now_ms, &rx50, &rx5_sum, &fill50, &error), "%s",
                 error.reason);
  run ();
  report = thecal_programmer_program_report (&programmer);
  ck_assert_msg (report->outcome == c->reported && report->step == c->step, "%s: %s at step %d (%s)", c->name,
                 thecal_program_outcome_name (report->outcome), (int) report->step, report->error.reason);
  ck_assert_int_eq (report->commit_sent, c->reported != THECAL_PROGRAM_FAILED);
  /* a plain COMMIT is never sent for a refill */
  ck_assert_int_eq (pump.apply_calls, 0);
  settled = belief_matches_truth (&rx5, &rx50);
  ck_assert_msg (settled == c->settled, "%s: settled %s", c->name, thecal_program_outcome_name (settled));
  ck_assert_int_le (pump.refill_apply_calls, 1);
  if (settled == THECAL_PROGRAM_CONFIRMED)
    {
      ck_assert_int_eq (pump.refill_apply_calls, 1);
      ck_assert_int_eq (pump.reservoir_concentration, 50000000);
      ck_assert_int_eq (pump.reservoir_nl, 18000000);
    }
  else
    {
      ck_assert_int_eq (pump.refill_apply_calls, 0);
      ck_assert_int_eq (pump.reservoir_concentration, 25000000);
      ck_assert_int_eq (pump.set_reservoir_calls, 0);
    }
}
END_TEST

START_TEST (test_refill_program_misuse)
{
  ThecalProtoError error;
  ThecalMsgSetReservoir fill = fill50;

  thecal_test_rx_morphine (&rx50, 5);
  rx50.concentration_ng_per_ml = 50000000;
  /* no fill, a fill of another concentration or drug, a negative volume: nothing is sent */
  ck_assert (!thecal_programmer_begin_refill_program (&programmer, link.now_ms, &rx50, &rx5_sum, NULL, &error));
  ck_assert_int_eq (error.code, THECAL_PROTO_ERROR_INVALID);
  fill.concentration_ng_per_ml = 25000000;
  ck_assert (!thecal_programmer_begin_refill_program (&programmer, link.now_ms, &rx50, &rx5_sum, &fill, &error));
  ck_assert_int_eq (error.code, THECAL_PROTO_ERROR_INVALID);
  fill = fill50;
  strcpy (fill.drug_id, "baclofen");
  ck_assert (!thecal_programmer_begin_refill_program (&programmer, link.now_ms, &rx50, &rx5_sum, &fill, &error));
  fill = fill50;
  fill.volume_nl = -1;
  ck_assert (!thecal_programmer_begin_refill_program (&programmer, link.now_ms, &rx50, &rx5_sum, &fill, &error));
  ck_assert (!thecal_programmer_busy (&programmer));
  ck_assert_ptr_null (thecal_programmer_take_output (&programmer, NULL));
  /* a plain program of the prescription for the new fill: STAGE passes, COMMIT is refused, and
   * the pump still runs the old prescription on the old fill */
  {
    const ThecalProgramReport *report = program (&rx50, &rx5_sum);

    ck_assert_int_eq (report->outcome, THECAL_PROGRAM_FAILED);
    ck_assert_int_eq (report->error.detail, THECAL_PUMP_LIMIT_DRUG);
    ck_assert (thecal_prescription_equal (&pump.active, &rx5));
    ck_assert_int_eq (pump.reservoir_concentration, 25000000);
  }
}
END_TEST

static Suite *
programmer_suite (void)
{
  Suite *s = suite_create ("programmer");

  THECAL_TEST_TCASE (s, "requests", setup, NULL, 0,
                     test_request_opens_session,
                     test_identify_without_key,
                     test_wrong_key,
                     test_wrong_pump,
                     test_retries_then_lost,
                     test_clear_error_is_not_a_refusal,
                     test_no_session_read_sent_again,
                     test_no_session_sent_again_once,
                     test_no_session_stage_sent_again,
                     test_refusal_is_authenticated,
                     test_ignores_what_is_not_its_answer,
                     test_api_misuse,
                     test_full_interrogation_wire_cost);
  THECAL_TEST_TCASE (s, "two-phase", setup, NULL, 0,
                     test_program_confirmed,
                     test_program_refused_before_commit,
                     test_stale_at_stage,
                     test_stale_at_commit,
                     test_commit_refused_is_failed,
                     test_loss_before_stage,
                     test_loss_after_stage,
                     test_loss_after_commit,
                     test_loss_of_commit_answer,
                     test_loss_after_commit_ack,
                     test_retransmitted_commit_applied_once,
                     test_single_fault_at_every_frame,
                     test_link_dies_at_every_frame,
                     test_session_lost_at_commit,
                     test_resolve_after_pump_timeout,
                     test_conflict,
                     test_property_lossy_link);
  {
    TCase *tc = tcase_create ("refill program");

    tcase_add_checked_fixture (tc, setup, NULL);
    tcase_add_loop_test (tc, test_refill_program_loss_at_every_step, 0, (int) (sizeof refill_losses / sizeof refill_losses[0]));
    tcase_add_test (tc, test_refill_program_misuse);
    suite_add_tcase (s, tc);
  }
  return s;
}

THECAL_TEST_MAIN (programmer_suite)
