/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-pump-role.c: the pump side against hand-made frames: the handshake, what needs a session,
 * replays and retransmissions, malformed and foreign frames, the two-phase rules and every
 * request, against the in-test fake pump.
 */
#include "config.h"

#include "thecal-fake-pump.h"
#include "thecal-test.h"

#include <sodium.h>
#include <string.h>

static ThecalPumpRole role;
static ThecalFakePump pump;
static uint64_t pump_seed;
static uint8_t session_key[THECAL_KEY_SIZE];
static ThecalMessage request;
static ThecalMessage answer;
static ThecalFrame answer_frame;
static uint8_t frame_bytes[THECAL_FRAME_MAX];
static size_t frame_length;
static uint8_t answer_bytes[THECAL_FRAME_MAX];
static size_t answer_length;
static uint8_t plain[THECAL_FRAME_MAX];
static ThecalPrescription rx5; /* morphine 25 mg/mL, 5 mg/day: what the pump runs */
static ThecalChecksum rx5_sum;
static int64_t last_now; /* the time of the last frame handed to the role */

static void
setup (void)
{
  ThecalPumpRoleConfig config;

  thecal_test_rx_morphine (&rx5, 5);
  ck_assert (thecal_prescription_checksum (&rx5, &rx5_sum, NULL));
  thecal_fake_pump_init (&pump, &rx5);
  thecal_test_role_config (&config, &pump, &pump_seed);
  pump_seed = 1;
  ck_assert (thecal_pump_role_init (&role, &config));
}

/* Hands frame_bytes to the role at @now. True if it answered; the answer is decoded (and
 * opened with session_key when encrypted) into answer_frame / answer. */
static bool
send_frame (int64_t now)
{
  const uint8_t *out = NULL;
  size_t out_length = 0;
  const uint8_t *body;
  size_t body_length;
  ThecalProtoError error;

  last_now = now;
  if (!thecal_pump_role_handle (&role, now, frame_bytes, frame_length, &out, &out_length))
    {
      ck_assert_ptr_null (out);
      return false;
    }
  memcpy (answer_bytes, out, out_length);
  answer_length = out_length;
  ck_assert_int_eq (thecal_frame_decode (answer_bytes, answer_length, &answer_frame), THECAL_FRAME_OK);
  ck_assert (answer_frame.flags & THECAL_FRAME_FLAG_RESPONSE);
  body = answer_frame.payload;
  body_length = answer_frame.length;
  if (answer_frame.flags & THECAL_FRAME_FLAG_ENCRYPTED)
    {
      ck_assert (thecal_session_open (session_key, THECAL_DIRECTION_TO_PROGRAMMER, &answer_frame, plain, sizeof plain, &body_length));
      body = plain;
    }
  ck_assert (thecal_message_decode (answer_frame.type, true, body, body_length, &answer, &error));
  return true;
}

static void
clear_request (ThecalMsgType type, uint32_t seq)
{
  uint8_t body[128];
  size_t length = 0;

  ck_assert (thecal_message_encode (&request, body, sizeof body, &length, NULL));
  ck_assert (thecal_frame_encode (type, 0, seq, body, length, frame_bytes, sizeof frame_bytes, &frame_length));
}

static void
sealed_request (uint32_t seq, const uint8_t key[THECAL_KEY_SIZE])
{
  static uint8_t body[THECAL_FRAME_MAX];
  size_t length = 0;

  ck_assert (thecal_message_encode (&request, body, sizeof body, &length, NULL));
  ck_assert (thecal_session_seal (key, THECAL_DIRECTION_TO_PUMP, (uint8_t) request.type, 0, seq, body, length, frame_bytes,
                                  sizeof frame_bytes, &frame_length));
}

/* An encrypted request in the session; the answer must be encrypted too. */
static void
call (uint32_t seq, int64_t now)
{
  sealed_request (seq, session_key);
  ck_assert (send_frame (now));
  ck_assert_uint_eq (answer_frame.seq, seq);
  /* an answer that is not an ERROR is always encrypted in a session */
  if (answer_frame.type != THECAL_MSG_ERROR)
    ck_assert (answer_frame.flags & THECAL_FRAME_FLAG_ENCRYPTED);
}

static void
expect_error (ThecalProtoErrorCode code, bool encrypted)
{
  ck_assert_uint_eq (answer_frame.type, THECAL_MSG_ERROR);
  ck_assert_msg (answer.error.error.code == code, "expected %s, got %s: %s", thecal_proto_error_code_name (code),
                 thecal_proto_error_code_name (answer.error.error.code), answer.error.error.reason);
  ck_assert_int_eq ((answer_frame.flags & THECAL_FRAME_FLAG_ENCRYPTED) != 0, encrypted);
  ck_assert (answer.error.error.reason[0] != '\0');
}

static void
simple (ThecalMsgType type)
{
  thecal_message_init (&request, type, false);
}

static void
set_clock_request (int64_t pump_local_ms)
{
  thecal_message_init (&request, THECAL_MSG_SET_CLOCK, false);
  request.set_clock.pump_local_ms = pump_local_ms;
}

/* HELLO (nonce 0xAA…) then AUTH: session_key ends up as the pump's. */
static void
handshake (int64_t now, uint8_t nonce_byte)
{
  uint8_t hello_body[64], auth_key[THECAL_KEY_SIZE], pump_key[THECAL_KEY_SIZE];
  size_t hello_length = 0;

  thecal_message_init (&request, THECAL_MSG_HELLO, false);
  memset (request.hello.nonce, nonce_byte, sizeof request.hello.nonce);
  ck_assert (thecal_message_encode (&request, hello_body, sizeof hello_body, &hello_length, NULL));
  clear_request (THECAL_MSG_HELLO, 500);
  ck_assert (send_frame (now));
  ck_assert_uint_eq (answer_frame.type, THECAL_MSG_HELLO);
  ck_assert_uint_eq (answer_frame.seq, 500);
  ck_assert_str_eq (answer.hello_reply.identity.serial, FAKE_SERIAL);
  thecal_test_key (pump_key, FAKE_KEY_BYTE);
  thecal_session_derive_key (pump_key, hello_body, hello_length, answer_frame.payload, answer_frame.length, auth_key);
  memcpy (session_key, auth_key, sizeof session_key);
  simple (THECAL_MSG_AUTH);
  call (1, now);
  ck_assert_uint_eq (answer_frame.type, THECAL_MSG_AUTH);
  ck_assert_uint_eq (answer.auth_reply.session_timeout_ms, 60000);
  ck_assert (thecal_pump_role_session_active (&role));
}

START_TEST (test_identify_needs_no_key)
{
  simple (THECAL_MSG_IDENTIFY);
  clear_request (THECAL_MSG_IDENTIFY, 9);
  ck_assert (send_frame (0));
  ck_assert_uint_eq (answer_frame.type, THECAL_MSG_IDENTIFY);
  ck_assert_uint_eq (answer_frame.flags, THECAL_FRAME_FLAG_RESPONSE);
  ck_assert_uint_eq (answer_frame.seq, 9);
  ck_assert_str_eq (answer.identity.serial, FAKE_SERIAL);
  ck_assert_str_eq (answer.identity.model_id, FAKE_MODEL);
  ck_assert_uint_eq (answer.identity.protocol_version, THECAL_PROTO_VERSION);
  ck_assert (!thecal_pump_role_session_active (&role));
  /* IDENTIFY is never encrypted */
  ck_assert (thecal_frame_encode (THECAL_MSG_IDENTIFY, THECAL_FRAME_FLAG_ENCRYPTED, 9, (const uint8_t *) "\x01", 1,
                                  frame_bytes, sizeof frame_bytes, &frame_length));
  ck_assert (send_frame (0));
  expect_error (THECAL_PROTO_ERROR_BAD_FRAME, false);
  /* a malformed body */
  ck_assert (thecal_frame_encode (THECAL_MSG_IDENTIFY, 0, 9, (const uint8_t *) "\x01\x00", 2, frame_bytes, sizeof frame_bytes,
                                  &frame_length));
  ck_assert (send_frame (0));
  expect_error (THECAL_PROTO_ERROR_BAD_REQUEST, false);
}
END_TEST

START_TEST (test_handshake)
{
  handshake (1000, 0xAA);
  ck_assert_int_eq (role.stats.sessions_opened, 1);
  /* the session works */
  simple (THECAL_MSG_READ_STATUS);
  call (2, 1001);
  ck_assert_uint_eq (answer_frame.type, THECAL_MSG_READ_STATUS);
  ck_assert (thecal_checksum_equal (&answer.status.active_checksum, &rx5_sum));
  ck_assert (!answer.status.has_staged);
  ck_assert_int_eq (answer.status.log_next_seq, 3001);
}
END_TEST

START_TEST (test_hello_retransmission_same_answer)
{
  uint8_t first[256];
  size_t first_length;
  uint64_t seed_after;

  thecal_message_init (&request, THECAL_MSG_HELLO, false);
  memset (request.hello.nonce, 0xAA, sizeof request.hello.nonce);
  clear_request (THECAL_MSG_HELLO, 1);
  ck_assert (send_frame (0));
  memcpy (first, answer_bytes, answer_length);
  first_length = answer_length;
  seed_after = pump_seed;
  ck_assert (send_frame (10)); /* the same HELLO again */
  ck_assert_uint_eq (answer_length, first_length);
  ck_assert_mem_eq (answer_bytes, first, first_length); /* same pump nonce: same key on both sides */
  ck_assert_uint_eq (pump_seed, seed_after);            /* no new nonce drawn */
  /* another HELLO (another nonce) gets a fresh pump nonce */
  memset (request.hello.nonce, 0xAB, sizeof request.hello.nonce);
  clear_request (THECAL_MSG_HELLO, 2);
  ck_assert (send_frame (20));
  ck_assert (memcmp (answer.hello_reply.nonce, first + 12, 32) != 0);
  /* HELLO is never encrypted */
  ck_assert (thecal_frame_encode (THECAL_MSG_HELLO, THECAL_FRAME_FLAG_ENCRYPTED, 9, frame_bytes + 11, 33, frame_bytes,
                                  sizeof frame_bytes, &frame_length));
  ck_assert (send_frame (30));
  expect_error (THECAL_PROTO_ERROR_BAD_FRAME, false);
}
END_TEST

START_TEST (test_wrong_key)
{
  uint8_t wrong[THECAL_KEY_SIZE], hello_body[64], key[THECAL_KEY_SIZE];
  size_t hello_length = 0;

  thecal_message_init (&request, THECAL_MSG_HELLO, false);
  ck_assert (thecal_message_encode (&request, hello_body, sizeof hello_body, &hello_length, NULL));
  clear_request (THECAL_MSG_HELLO, 1);
  ck_assert (send_frame (0));
  thecal_test_key (wrong, 0x33);
  thecal_session_derive_key (wrong, hello_body, hello_length, answer_frame.payload, answer_frame.length, key);
  simple (THECAL_MSG_AUTH);
  sealed_request (1, key);
  ck_assert (send_frame (0));
  expect_error (THECAL_PROTO_ERROR_WRONG_KEY, false);
  ck_assert (!thecal_pump_role_session_active (&role));
  ck_assert_int_eq (role.stats.failed_auth, 1);
  /* nothing a wrong key sends gets through */
  memcpy (session_key, key, sizeof session_key);
  thecal_message_init (&request, THECAL_MSG_COMMIT, false);
  sealed_request (2, key);
  ck_assert (send_frame (0));
  expect_error (THECAL_PROTO_ERROR_NOT_AUTHENTICATED, false);
  ck_assert_int_eq (pump.apply_calls, 0);
  /* AUTH without HELLO, and AUTH with a sequence other than 1 */
  thecal_pump_role_tick (&role, 1000000); /* the pending handshake expires */
  simple (THECAL_MSG_AUTH);
  sealed_request (1, key);
  ck_assert (send_frame (1000000));
  expect_error (THECAL_PROTO_ERROR_NOT_AUTHENTICATED, false);
  thecal_message_init (&request, THECAL_MSG_HELLO, false);
  clear_request (THECAL_MSG_HELLO, 3);
  ck_assert (send_frame (1000000));
  simple (THECAL_MSG_AUTH);
  sealed_request (2, key);
  ck_assert (send_frame (1000000));
  expect_error (THECAL_PROTO_ERROR_BAD_FRAME, false);
}
END_TEST

START_TEST (test_no_frame_changes_therapy_without_session)
{
  uint8_t key[THECAL_KEY_SIZE];
  const ThecalMsgType changes[] = { THECAL_MSG_STAGE, THECAL_MSG_COMMIT, THECAL_MSG_SET_RESERVOIR,
                                    THECAL_MSG_START_BOLUS, THECAL_MSG_CANCEL_BOLUS, THECAL_MSG_SET_PTM,
                                    THECAL_MSG_SET_CLOCK, THECAL_MSG_ACK_ALARM, THECAL_MSG_READ_STATUS };

  memset (key, 0x5A, sizeof key); /* the pump key itself is not a session key */
  pump.alarm_raised[THECAL_PROTO_ALARM_ERI] = true;
  for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++)
    {
      thecal_message_init (&request, changes[i], false);
      if (changes[i] == THECAL_MSG_STAGE)
        {
          request.stage.rx = rx5;
          request.stage.replaces = rx5_sum;
        }
      if (changes[i] == THECAL_MSG_SET_RESERVOIR)
        strcpy (request.set_reservoir.drug_id, "morphine");
      if (changes[i] == THECAL_MSG_START_BOLUS)
        request.start_bolus.kind = THECAL_PROTO_BOLUS_CLINICIAN;
      if (changes[i] == THECAL_MSG_ACK_ALARM)
        request.ack_alarm.alarm = THECAL_PROTO_ALARM_ERI;
      /* in clear */
      clear_request (changes[i], 2);
      ck_assert (send_frame (0));
      expect_error (THECAL_PROTO_ERROR_NOT_AUTHENTICATED, false);
      ck_assert_uint_eq (answer.error.request_type, changes[i]);
      /* encrypted without a session */
      sealed_request (2, key);
      ck_assert (send_frame (0));
      expect_error (THECAL_PROTO_ERROR_NOT_AUTHENTICATED, false);
    }
  ck_assert_int_eq (pump.apply_calls, 0);
  ck_assert_int_eq (pump.check_calls, 0);
  ck_assert_int_eq (pump.set_reservoir_calls, 0);
  ck_assert_int_eq (pump.bolus_calls, 0);
  ck_assert (!pump.alarm_acknowledged[THECAL_PROTO_ALARM_ERI]);
}
END_TEST

START_TEST (test_replay_and_retransmission)
{
  uint8_t old_frame[THECAL_FRAME_MAX];
  size_t old_length;
  uint8_t first_answer[THECAL_FRAME_MAX];
  size_t first_answer_length;

  handshake (0, 0xAA);
  set_clock_request (5000);
  call (2, 10);
  memcpy (old_frame, frame_bytes, frame_length);
  old_length = frame_length;
  ck_assert_int_eq (pump.clock_ms, 5000);
  set_clock_request (7000);
  call (3, 20);
  memcpy (first_answer, answer_bytes, answer_length);
  first_answer_length = answer_length;
  ck_assert_int_eq (pump.clock_ms, 7000);

  /* the seq-2 frame replayed: refused, not applied (CVE-2018-14781) */
  memcpy (frame_bytes, old_frame, old_length);
  frame_length = old_length;
  ck_assert (send_frame (30));
  expect_error (THECAL_PROTO_ERROR_REPLAYED, false);
  ck_assert_int_eq (pump.clock_ms, 7000);
  ck_assert_int_eq (role.stats.refused_replays, 1);

  /* the seq-3 frame again: the cached answer, byte for byte, not applied again */
  set_clock_request (7000);
  pump.clock_ms = 7777; /* so a second application would show */
  sealed_request (3, session_key);
  ck_assert (send_frame (40));
  ck_assert_uint_eq (answer_length, first_answer_length);
  ck_assert_mem_eq (answer_bytes, first_answer, answer_length);
  ck_assert_int_eq (pump.clock_ms, 7777);
  ck_assert_int_eq (role.stats.retransmissions, 1);

  /* seq 3 with other content: refused */
  request.set_clock.pump_local_ms = 9000;
  sealed_request (3, session_key);
  ck_assert (send_frame (50));
  expect_error (THECAL_PROTO_ERROR_SEQUENCE_REUSED, false);
  ck_assert_int_eq (pump.clock_ms, 7777);

  /* gaps are fine */
  call (100, 60);
  ck_assert_uint_eq (answer_frame.type, THECAL_MSG_SET_CLOCK);
  ck_assert_int_eq (pump.clock_ms, 9000);
}
END_TEST

START_TEST (test_bad_tag_refused)
{
  handshake (0, 0xAA);
  set_clock_request (5000);
  sealed_request (2, session_key);
  frame_bytes[frame_length - 4 - 1] ^= 0x80; /* last tag byte */
  thecal_frame_write_crc (frame_bytes, frame_length - 4);
  ck_assert (send_frame (10));
  expect_error (THECAL_PROTO_ERROR_NOT_AUTHENTICATED, false);
  ck_assert (pump.clock_ms != 5000);
  ck_assert (thecal_pump_role_session_active (&role)); /* a forged frame does not end the session */
  call (2, 20);                                        /* and the real one still works */
  ck_assert_int_eq (pump.clock_ms, 5000);
}
END_TEST

START_TEST (test_unknown_type_and_version)
{
  /* unknown type: a clear ERROR naming it, same sequence */
  thecal_frame_write_header (0x55, 0, 77, 1, frame_bytes);
  frame_bytes[11] = 1;
  thecal_frame_write_crc (frame_bytes, 12);
  frame_length = 16;
  ck_assert (send_frame (0));
  expect_error (THECAL_PROTO_ERROR_UNKNOWN_TYPE, false);
  ck_assert_uint_eq (answer.error.request_type, 0x55);
  ck_assert_uint_eq (answer_frame.seq, 77);
  /* unknown version */
  thecal_frame_write_header (THECAL_MSG_IDENTIFY, 0, 78, 1, frame_bytes);
  frame_bytes[2] = 9;
  thecal_frame_write_crc (frame_bytes, 12);
  ck_assert (send_frame (0));
  expect_error (THECAL_PROTO_ERROR_UNSUPPORTED_VERSION, false);
  ck_assert_uint_eq (answer_frame.seq, 78);
  ck_assert_uint_eq (answer_frame.version, THECAL_PROTO_VERSION); /* answered in our version */
  /* bad flags */
  thecal_frame_write_header (THECAL_MSG_IDENTIFY, 0x40, 79, 1, frame_bytes);
  thecal_frame_write_crc (frame_bytes, 12);
  ck_assert (send_frame (0));
  expect_error (THECAL_PROTO_ERROR_BAD_FRAME, false);
  /* a message version the pump does not speak, inside a session */
  handshake (0, 0xAA);
  {
    static const uint8_t body[] = { 2 };

    ck_assert (thecal_session_seal (session_key, THECAL_DIRECTION_TO_PUMP, THECAL_MSG_READ_STATUS, 0, 2, body, 1, frame_bytes,
                                    sizeof frame_bytes, &frame_length));
  }
  ck_assert (send_frame (0));
  expect_error (THECAL_PROTO_ERROR_UNSUPPORTED_VERSION, true);
  /* a wand-local message that reached the pump */
  simple (THECAL_MSG_WAND_INFO);
  clear_request (THECAL_MSG_WAND_INFO, 5);
  ck_assert (send_frame (0));
  expect_error (THECAL_PROTO_ERROR_WRONG_DESTINATION, false);
}
END_TEST

START_TEST (test_not_frames_are_dropped)
{
  simple (THECAL_MSG_IDENTIFY);
  clear_request (THECAL_MSG_IDENTIFY, 1);
  /* truncated, trailing bytes, bad CRC, bad magic, too long: no answer at all */
  frame_length--;
  ck_assert (!send_frame (0));
  frame_length += 2;
  ck_assert (!send_frame (0));
  frame_length--;
  frame_bytes[12] ^= 1;
  ck_assert (!send_frame (0));
  frame_bytes[12] ^= 1;
  frame_bytes[0] = 'X';
  ck_assert (!send_frame (0));
  thecal_frame_write_header (THECAL_MSG_IDENTIFY, 0, 1, UINT16_MAX, frame_bytes);
  frame_length = THECAL_FRAME_MAX;
  ck_assert (!send_frame (0));
  ck_assert (!thecal_pump_role_handle (&role, 0, NULL, 0, &(const uint8_t *){ NULL }, &(size_t){ 0 }));
  /* an answer is never answered (two pumps cannot ping-pong errors) */
  ck_assert (thecal_frame_encode (THECAL_MSG_IDENTIFY, THECAL_FRAME_FLAG_RESPONSE, 1, (const uint8_t *) "\x01", 1, frame_bytes,
                                  sizeof frame_bytes, &frame_length));
  ck_assert (!send_frame (0));
  thecal_frame_write_header (0x55, THECAL_FRAME_FLAG_RESPONSE, 77, 1, frame_bytes);
  thecal_frame_write_crc (frame_bytes, 12);
  frame_length = 16;
  ck_assert (!send_frame (0));
  ck_assert_int_eq (role.stats.dropped, 8);
  ck_assert_int_eq (role.stats.answered, 0);
}
END_TEST

/* STAGE rx; the answer is the staged checksum. */
static void
stage (uint32_t seq, const ThecalPrescription *rx, const ThecalChecksum *replaces)
{
  thecal_message_init (&request, THECAL_MSG_STAGE, false);
  request.stage.rx = *rx;
  request.stage.replaces = *replaces;
  call (seq, last_now + 1);
}

static void
commit (uint32_t seq, const ThecalChecksum *checksum)
{
  thecal_message_init (&request, THECAL_MSG_COMMIT, false);
  request.checksum.checksum = *checksum;
  call (seq, last_now + 1);
}

START_TEST (test_two_phase_rules)
{
  ThecalPrescription rx6;
  ThecalChecksum rx6_sum;
  uint8_t commit_answer[THECAL_FRAME_MAX];
  size_t commit_answer_length;

  thecal_test_rx_morphine (&rx6, 6);
  ck_assert (thecal_prescription_checksum (&rx6, &rx6_sum, NULL));
  handshake (0, 0xAA);

  /* STAGE changes nothing that runs */
  stage (2, &rx6, &rx5_sum);
  ck_assert_uint_eq (answer_frame.type, THECAL_MSG_STAGE);
  ck_assert (thecal_checksum_equal (&answer.checksum.checksum, &rx6_sum));
  ck_assert (thecal_prescription_equal (&pump.active, &rx5));
  ck_assert_int_eq (pump.apply_calls, 0);
  ck_assert (thecal_pump_role_has_staged (&role));

  /* READ_STAGED gives it back with both checksums */
  simple (THECAL_MSG_READ_STAGED);
  call (3, 110);
  ck_assert (thecal_checksum_equal (&answer.staged.checksum, &rx6_sum));
  ck_assert (thecal_checksum_equal (&answer.staged.replaces, &rx5_sum));
  ck_assert (thecal_prescription_equal (&answer.staged.rx, &rx6));

  /* status shows both */
  simple (THECAL_MSG_READ_STATUS);
  call (4, 120);
  ck_assert (answer.status.has_staged);
  ck_assert (thecal_checksum_equal (&answer.status.staged_checksum, &rx6_sum));
  ck_assert (thecal_checksum_equal (&answer.status.active_checksum, &rx5_sum));

  /* COMMIT naming another checksum: refused, nothing changes */
  commit (5, &rx5_sum);
  expect_error (THECAL_PROTO_ERROR_STAGED_MISMATCH, true);
  ck_assert_int_eq (pump.apply_calls, 0);

  /* COMMIT switches once */
  commit (6, &rx6_sum);
  ck_assert_uint_eq (answer_frame.type, THECAL_MSG_COMMIT);
  ck_assert (thecal_checksum_equal (&answer.commit_reply.active, &rx6_sum));
  ck_assert (thecal_checksum_equal (&answer.commit_reply.previous, &rx5_sum));
  ck_assert (thecal_prescription_equal (&pump.active, &rx6));
  ck_assert_int_eq (pump.apply_calls, 1);
  ck_assert (!thecal_pump_role_has_staged (&role));
  memcpy (commit_answer, answer_bytes, answer_length);
  commit_answer_length = answer_length;

  /* the retransmitted COMMIT is answered from the cache and not applied twice */
  pump.active = rx5; /* (so a second application would show) */
  commit (6, &rx6_sum);
  ck_assert_uint_eq (answer_length, commit_answer_length);
  ck_assert_mem_eq (answer_bytes, commit_answer, answer_length);
  ck_assert_int_eq (pump.apply_calls, 1);
  ck_assert (thecal_prescription_equal (&pump.active, &rx5));
  pump.active = rx6;

  /* nothing staged any more */
  commit (7, &rx6_sum);
  expect_error (THECAL_PROTO_ERROR_NOTHING_STAGED, true);
  simple (THECAL_MSG_READ_STAGED);
  call (8, 300);
  expect_error (THECAL_PROTO_ERROR_NOTHING_STAGED, true);

  /* a STAGE naming the old active prescription: stale */
  stage (9, &rx5, &rx5_sum);
  expect_error (THECAL_PROTO_ERROR_STALE_CHECKSUM, true);
  ck_assert (!thecal_pump_role_has_staged (&role));

  /* the active prescription changes between STAGE and COMMIT (SET_PTM here): stale at COMMIT */
  stage (10, &rx5, &rx6_sum);
  ck_assert (thecal_pump_role_has_staged (&role));
  thecal_message_init (&request, THECAL_MSG_SET_PTM, false);
  request.set_ptm.active = rx6_sum;
  request.set_ptm.ptm.enabled = true;
  request.set_ptm.ptm.dose_ng = 100 * THECAL_NG_PER_MCG;
  request.set_ptm.ptm.duration_ms = 10 * THECAL_MS_PER_MINUTE;
  request.set_ptm.ptm.lockout_ms = 3 * THECAL_MS_PER_HOUR;
  request.set_ptm.ptm.max_per_24h = 3;
  call (11, 400);
  ck_assert_uint_eq (answer_frame.type, THECAL_MSG_SET_PTM);
  ck_assert_int_eq (pump.apply_calls, 2);
  ck_assert (pump.active.ptm.enabled);
  {
    ThecalChecksum now_sum;

    ck_assert (thecal_prescription_checksum (&pump.active, &now_sum, NULL));
    ck_assert (thecal_checksum_equal (&answer.checksum.checksum, &now_sum));
  }
  {
    ThecalChecksum rx5_staged;

    ck_assert (thecal_prescription_checksum (&rx5, &rx5_staged, NULL));
    commit (12, &rx5_staged);
    expect_error (THECAL_PROTO_ERROR_STALE_CHECKSUM, true);
    ck_assert_int_eq (pump.apply_calls, 2);
    ck_assert (!thecal_pump_role_has_staged (&role)); /* a stale copy can never be committed */
  }

  /* CANCEL_STAGED */
  {
    ThecalChecksum sum;

    ck_assert (thecal_prescription_checksum (&pump.active, &sum, NULL));
    stage (13, &rx5, &sum);
    simple (THECAL_MSG_CANCEL_STAGED);
    call (14, 500);
    ck_assert (answer.cancel_staged_reply.had_staged);
    ck_assert (!thecal_pump_role_has_staged (&role));
    simple (THECAL_MSG_CANCEL_STAGED);
    call (15, 510);
    ck_assert (!answer.cancel_staged_reply.had_staged);
  }
}
END_TEST

START_TEST (test_stage_refusals)
{
  ThecalPrescription rx;

  handshake (0, 0xAA);
  /* above the pump's own limit: 25 mg/mL at 700 mg/day = 28 mL/day > 24 mL/day */
  thecal_test_rx_morphine (&rx, 700);
  stage (2, &rx, &rx5_sum);
  expect_error (THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, true);
  ck_assert_uint_eq (answer.error.error.detail, THECAL_PUMP_LIMIT_RATE_ABOVE_MAX);
  ck_assert (!thecal_pump_role_has_staged (&role));
  /* a drug the reservoir does not hold: staged for the fill a drug change brings, checked
   * against that fill (not against the reservoir), never committed by a plain COMMIT
   * (test_refill_commit) */
  thecal_test_rx_morphine (&rx, 5);
  strcpy (rx.drug_id, "baclofen");
  stage (3, &rx, &rx5_sum);
  ck_assert_uint_eq (answer_frame.type, THECAL_MSG_STAGE);
  ck_assert_int_eq (pump.check_refill_calls, 1);
  ck_assert (thecal_pump_role_has_staged (&role));
  /* structurally invalid for the dose core: refused before the pump sees it */
  thecal_test_rx_morphine (&rx, 5);
  rx.continuous.dose_ng_per_day = 0;
  {
    int32_t checks = pump.check_calls;

    stage (4, &rx, &rx5_sum);
    expect_error (THECAL_PROTO_ERROR_BAD_REQUEST, true);
    ck_assert_int_eq (pump.check_calls, checks);
  }
  /* the pump cannot apply now: COMMIT refused BUSY, the old prescription runs, staged kept */
  thecal_test_rx_morphine (&rx, 6);
  stage (5, &rx, &rx5_sum);
  pump.refuse_apply_busy = true;
  commit (6, &answer.checksum.checksum);
  expect_error (THECAL_PROTO_ERROR_BUSY, true);
  ck_assert (thecal_prescription_equal (&pump.active, &rx5));
  ck_assert (thecal_pump_role_has_staged (&role));
  ck_assert_int_eq (role.stats.commits_applied, 0);
}
END_TEST

/* REFILL_COMMIT (docs/protocol.md §6.5): a prescription staged for another fill is refused by a
 * plain COMMIT; REFILL_COMMIT checks like COMMIT, then the fill against the staged prescription,
 * then the pump's limits, and sets the reservoir and the prescription at once, applied once. */
START_TEST (test_refill_commit)
{
  ThecalPrescription rx50, rx50_high;
  ThecalChecksum rx50_sum, wrong;
  uint8_t first_answer[THECAL_FRAME_MAX];
  size_t first_length;

  thecal_test_rx_morphine (&rx50, 5);
  rx50.concentration_ng_per_ml = 50 * THECAL_NG_PER_MG;
  ck_assert (thecal_prescription_checksum (&rx50, &rx50_sum, NULL));
  handshake (0, 0xAA);

  /* nothing staged */
  thecal_message_init (&request, THECAL_MSG_REFILL_COMMIT, false);
  request.refill_commit.fill = (ThecalMsgSetReservoir){ .volume_nl = 18 * THECAL_NL_PER_ML, .drug_id = "morphine", .concentration_ng_per_ml = 50 * THECAL_NG_PER_MG };
  request.refill_commit.staged = rx50_sum;
  call (2, 1);
  expect_error (THECAL_PROTO_ERROR_NOTHING_STAGED, true);

  /* a prescription for 50 mg/mL while the reservoir holds 25 mg/mL: staged, checked against the fill */
  rx50_high = rx50;
  rx50_high.continuous.dose_ng_per_day = 1400 * THECAL_NG_PER_MG; /* 28 mL/day at 50 mg/mL: above 24 */
  stage (3, &rx50_high, &rx5_sum);
  expect_error (THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, true);
  ck_assert_uint_eq (answer.error.error.detail, THECAL_PUMP_LIMIT_RATE_ABOVE_MAX);
  ck_assert_int_eq (pump.check_refill_calls, 1);
  stage (4, &rx50, &rx5_sum);
  ck_assert_uint_eq (answer_frame.type, THECAL_MSG_STAGE);
  ck_assert (thecal_checksum_equal (&answer.checksum.checksum, &rx50_sum));
  ck_assert_int_eq (pump.check_refill_calls, 2);

  /* a plain COMMIT cannot make it run on the old fill */
  commit (5, &rx50_sum);
  expect_error (THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, true);
  ck_assert_uint_eq (answer.error.error.detail, THECAL_PUMP_LIMIT_DRUG);
  ck_assert_msg (strstr (answer.error.error.reason, "use REFILL_COMMIT") != NULL, "%s", answer.error.error.reason);
  ck_assert (thecal_prescription_equal (&pump.active, &rx5));
  ck_assert (thecal_pump_role_has_staged (&role));

  /* another staged checksum */
  memset (wrong.bytes, 0x33, sizeof wrong.bytes);
  thecal_message_init (&request, THECAL_MSG_REFILL_COMMIT, false);
  request.refill_commit.fill = (ThecalMsgSetReservoir){ .volume_nl = 18 * THECAL_NL_PER_ML, .drug_id = "morphine", .concentration_ng_per_ml = 50 * THECAL_NG_PER_MG };
  request.refill_commit.staged = wrong;
  call (6, last_now + 1);
  expect_error (THECAL_PROTO_ERROR_STAGED_MISMATCH, true);
  /* a fill that is not the staged prescription's drug, or concentration */
  request.refill_commit.staged = rx50_sum;
  strcpy (request.refill_commit.fill.drug_id, "baclofen");
  call (7, last_now + 1);
  expect_error (THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, true);
  ck_assert_uint_eq (answer.error.error.detail, THECAL_PUMP_LIMIT_DRUG);
  strcpy (request.refill_commit.fill.drug_id, "morphine");
  request.refill_commit.fill.concentration_ng_per_ml = 25 * THECAL_NG_PER_MG;
  call (8, last_now + 1);
  expect_error (THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, true);
  ck_assert_uint_eq (answer.error.error.detail, THECAL_PUMP_LIMIT_CONCENTRATION);
  /* the pump's own limit on the fill: one nanolitre above the capacity */
  request.refill_commit.fill.concentration_ng_per_ml = 50 * THECAL_NG_PER_MG;
  request.refill_commit.fill.volume_nl = 20 * THECAL_NL_PER_ML + 1;
  call (9, last_now + 1);
  expect_error (THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, true);
  ck_assert_uint_eq (answer.error.error.detail, THECAL_PUMP_LIMIT_RESERVOIR_CAPACITY);
  /* the pump cannot apply now (a bolus runs) */
  request.refill_commit.fill.volume_nl = 20 * THECAL_NL_PER_ML;
  pump.refuse_apply_busy = true;
  call (10, last_now + 1);
  expect_error (THECAL_PROTO_ERROR_BUSY, true);
  pump.refuse_apply_busy = false;
  /* every refusal changed nothing: the old prescription on the old fill */
  ck_assert (thecal_prescription_equal (&pump.active, &rx5));
  ck_assert_str_eq (pump.reservoir_drug, "morphine");
  ck_assert_int_eq (pump.reservoir_concentration, 25 * THECAL_NG_PER_MG);
  ck_assert_int_eq (pump.refill_apply_calls, 0);
  ck_assert_int_eq (pump.set_reservoir_calls, 0);
  ck_assert (thecal_pump_role_has_staged (&role));

  /* the full capacity: both set at once; the answer names the new and the previous checksum */
  call (11, last_now + 1);
  ck_assert_uint_eq (answer_frame.type, THECAL_MSG_REFILL_COMMIT);
  ck_assert (thecal_checksum_equal (&answer.commit_reply.active, &rx50_sum));
  ck_assert (thecal_checksum_equal (&answer.commit_reply.previous, &rx5_sum));
  ck_assert (thecal_prescription_equal (&pump.active, &rx50));
  ck_assert_int_eq (pump.reservoir_nl, 20 * THECAL_NL_PER_ML);
  ck_assert_int_eq (pump.reservoir_concentration, 50 * THECAL_NG_PER_MG);
  ck_assert_int_eq (pump.refill_apply_calls, 1);
  ck_assert_int_eq (pump.apply_calls, 0);
  ck_assert_int_eq (role.stats.refill_commits_applied, 1);
  ck_assert_int_eq (role.stats.commits_applied, 0);
  ck_assert (!thecal_pump_role_has_staged (&role));
  memcpy (first_answer, answer_bytes, answer_length);
  first_length = answer_length;

  /* a retransmission: the cached answer, byte for byte, applied once */
  ck_assert (send_frame (last_now + 1000));
  ck_assert_uint_eq (answer_length, first_length);
  ck_assert_mem_eq (answer_bytes, first_answer, first_length);
  ck_assert_int_eq (pump.refill_apply_calls, 1);
  ck_assert_int_eq (role.stats.retransmissions, 1);
  /* sent again as a fresh request: nothing is staged any more */
  call (12, last_now + 1);
  expect_error (THECAL_PROTO_ERROR_NOTHING_STAGED, true);
  ck_assert_int_eq (pump.refill_apply_calls, 1);

  /* without a session: refused in clear, nothing applied */
  thecal_pump_role_end_session (&role);
  sealed_request (13, session_key);
  ck_assert (send_frame (last_now + 1));
  expect_error (THECAL_PROTO_ERROR_NOT_AUTHENTICATED, false);
  ck_assert_int_eq (pump.refill_apply_calls, 1);
}
END_TEST

/* A stale REFILL_COMMIT: the active prescription changed after STAGE (SET_PTM), so the staged
 * copy is discarded and nothing is applied. */
START_TEST (test_refill_commit_stale)
{
  ThecalPrescription rx50;
  ThecalChecksum rx50_sum;

  thecal_test_rx_morphine (&rx50, 5);
  rx50.concentration_ng_per_ml = 50 * THECAL_NG_PER_MG;
  ck_assert (thecal_prescription_checksum (&rx50, &rx50_sum, NULL));
  handshake (0, 0xAA);
  stage (2, &rx50, &rx5_sum);
  ck_assert_uint_eq (answer_frame.type, THECAL_MSG_STAGE);
  /* someone changes what runs meanwhile */
  pump.active.continuous.dose_ng_per_day += 1;
  thecal_message_init (&request, THECAL_MSG_REFILL_COMMIT, false);
  request.refill_commit.fill = (ThecalMsgSetReservoir){ .volume_nl = 18 * THECAL_NL_PER_ML, .drug_id = "morphine", .concentration_ng_per_ml = 50 * THECAL_NG_PER_MG };
  request.refill_commit.staged = rx50_sum;
  call (3, last_now + 1);
  expect_error (THECAL_PROTO_ERROR_STALE_CHECKSUM, true);
  ck_assert (!thecal_pump_role_has_staged (&role));
  ck_assert_int_eq (pump.refill_apply_calls, 0);
  ck_assert_int_eq (pump.reservoir_concentration, 25 * THECAL_NG_PER_MG);
}
END_TEST

START_TEST (test_session_timeout)
{
  ThecalPrescription rx6;
  ThecalChecksum rx6_sum;

  thecal_test_rx_morphine (&rx6, 6);
  ck_assert (thecal_prescription_checksum (&rx6, &rx6_sum, NULL));
  handshake (0, 0xAA);
  stage (2, &rx6, &rx5_sum); /* at 1 ms */
  /* 59 999 ms after the last request: still open */
  simple (THECAL_MSG_READ_STATUS);
  call (3, 1 + 59999);
  ck_assert_uint_eq (answer_frame.type, THECAL_MSG_READ_STATUS);
  /* 60 000 ms of silence: dropped; the staged copy with it; the old prescription runs */
  thecal_pump_role_tick (&role, 1 + 59999 + 60000);
  last_now = 1 + 59999 + 60000;
  ck_assert (!thecal_pump_role_session_active (&role));
  ck_assert (!thecal_pump_role_has_staged (&role));
  ck_assert_int_eq (role.stats.sessions_expired, 1);
  commit (4, &rx6_sum);
  expect_error (THECAL_PROTO_ERROR_NOT_AUTHENTICATED, false);
  ck_assert (thecal_prescription_equal (&pump.active, &rx5));
  ck_assert_int_eq (pump.apply_calls, 0);
  /* a new session starts with nothing staged */
  handshake (200000, 0xAC);
  commit (2, &rx6_sum);
  expect_error (THECAL_PROTO_ERROR_NOTHING_STAGED, true);
}
END_TEST

START_TEST (test_time_backwards_ends_session)
{
  handshake (10000, 0xAA);
  simple (THECAL_MSG_READ_STATUS);
  sealed_request (2, session_key);
  ck_assert (send_frame (9999));
  expect_error (THECAL_PROTO_ERROR_NOT_AUTHENTICATED, false);
  ck_assert (!thecal_pump_role_session_active (&role));
}
END_TEST

START_TEST (test_new_handshake_replaces_session)
{
  uint8_t old_key[THECAL_KEY_SIZE];
  ThecalPrescription rx6;
  ThecalChecksum rx6_sum;

  thecal_test_rx_morphine (&rx6, 6);
  ck_assert (thecal_prescription_checksum (&rx6, &rx6_sum, NULL));
  handshake (0, 0xAA);
  memcpy (old_key, session_key, sizeof old_key);
  stage (2, &rx6, &rx5_sum);

  /* a HELLO alone (anyone can send one) does not disturb the open session */
  thecal_message_init (&request, THECAL_MSG_HELLO, false);
  clear_request (THECAL_MSG_HELLO, 9);
  ck_assert (send_frame (300));
  ck_assert (thecal_pump_role_session_active (&role));
  simple (THECAL_MSG_READ_STAGED);
  call (3, 310);
  ck_assert_uint_eq (answer_frame.type, THECAL_MSG_READ_STAGED);

  /* a completed handshake does: the old key stops working, the staged copy is gone */
  handshake (400, 0xBB);
  ck_assert (memcmp (old_key, session_key, sizeof old_key) != 0);
  ck_assert (!thecal_pump_role_has_staged (&role));
  memcpy (session_key, old_key, sizeof session_key);
  simple (THECAL_MSG_READ_STATUS);
  sealed_request (4, old_key);
  ck_assert (send_frame (410));
  expect_error (THECAL_PROTO_ERROR_NOT_AUTHENTICATED, false);
  ck_assert_int_eq (role.stats.sessions_opened, 2);
}
END_TEST

START_TEST (test_close)
{
  uint8_t first[THECAL_FRAME_MAX];
  size_t first_length;

  handshake (0, 0xAA);
  simple (THECAL_MSG_CLOSE);
  call (2, 10);
  ck_assert_uint_eq (answer_frame.type, THECAL_MSG_CLOSE);
  ck_assert (!thecal_pump_role_session_active (&role));
  memcpy (first, answer_bytes, answer_length);
  first_length = answer_length;
  /* its answer lost, CLOSE again: the same answer (the cache outlives the session) */
  call (2, 20);
  ck_assert_mem_eq (answer_bytes, first, first_length);
  simple (THECAL_MSG_READ_STATUS);
  sealed_request (3, session_key);
  ck_assert (send_frame (30));
  expect_error (THECAL_PROTO_ERROR_NOT_AUTHENTICATED, false);
}
END_TEST

START_TEST (test_read_log_batches)
{
  handshake (0, 0xAA);
  thecal_message_init (&request, THECAL_MSG_READ_LOG, false);
  request.read_log.from_seq = 1;
  request.read_log.max_events = 0; /* as many as fit */
  call (2, 10);
  ck_assert_int_eq (answer.log.n_events, THECAL_PROTO_LOG_BATCH_MAX);
  ck_assert_int_eq (answer.log.events[0].seq, 1);
  ck_assert_int_eq (answer.log.events[THECAL_PROTO_LOG_BATCH_MAX - 1].seq, THECAL_PROTO_LOG_BATCH_MAX);
  ck_assert_int_eq (answer.log.oldest_seq, 1);
  ck_assert_int_eq (answer.log.next_seq, 3001);
  ck_assert_uint_le (answer_length, THECAL_FRAME_MAX);
  /* the last few */
  request.read_log.from_seq = 2990;
  request.read_log.max_events = 100;
  call (3, 20);
  ck_assert_int_eq (answer.log.n_events, 11);
  ck_assert_int_eq (answer.log.events[10].seq, 3000);
  /* past the newest: none */
  request.read_log.from_seq = 3001;
  call (4, 30);
  ck_assert_int_eq (answer.log.n_events, 0);
  /* before the oldest retained: from the oldest, and the answer says so */
  pump.log_oldest_seq = 500;
  request.read_log.from_seq = 1;
  request.read_log.max_events = 5;
  call (5, 40);
  ck_assert_int_eq (answer.log.oldest_seq, 500);
  ck_assert_int_eq (answer.log.n_events, 5);
  ck_assert_int_eq (answer.log.events[0].seq, 500);
  {
    ThecalProtoEvent expected;

    thecal_fake_pump_event (504, &expected);
    ck_assert_mem_eq (&answer.log.events[4], &expected, sizeof expected);
  }
}
END_TEST

START_TEST (test_other_requests)
{
  handshake (0, 0xAA);

  /* reservoir above the capacity: refused with the limit; then a refill */
  thecal_message_init (&request, THECAL_MSG_SET_RESERVOIR, false);
  request.set_reservoir.volume_nl = 20 * THECAL_NL_PER_ML + 1;
  strcpy (request.set_reservoir.drug_id, "morphine");
  request.set_reservoir.concentration_ng_per_ml = 25 * THECAL_NG_PER_MG;
  call (2, 10);
  expect_error (THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, true);
  ck_assert_uint_eq (answer.error.error.detail, THECAL_PUMP_LIMIT_RESERVOIR_CAPACITY);
  request.set_reservoir.volume_nl = 20 * THECAL_NL_PER_ML;
  call (3, 20);
  ck_assert_uint_eq (answer_frame.type, THECAL_MSG_SET_RESERVOIR);
  ck_assert_int_eq (pump.reservoir_nl, 20 * THECAL_NL_PER_ML);

  /* a bolus names the active prescription it was computed for */
  thecal_message_init (&request, THECAL_MSG_START_BOLUS, false);
  request.start_bolus.kind = THECAL_PROTO_BOLUS_CLINICIAN;
  request.start_bolus.dose_ng = 500 * THECAL_NG_PER_MCG;
  request.start_bolus.duration_ms = 30 * THECAL_MS_PER_MINUTE;
  memset (request.start_bolus.active.bytes, 1, THECAL_CHECKSUM_SIZE);
  call (4, 30);
  expect_error (THECAL_PROTO_ERROR_STALE_CHECKSUM, true);
  ck_assert_int_eq (pump.bolus_calls, 0);
  request.start_bolus.active = rx5_sum;
  call (5, 40);
  ck_assert_uint_eq (answer_frame.type, THECAL_MSG_START_BOLUS);
  ck_assert_int_eq (pump.bolus_calls, 1);
  ck_assert_int_eq (pump.last_bolus.dose_ng, 500 * THECAL_NG_PER_MCG);
  call (6, 50); /* a second one while the first runs */
  expect_error (THECAL_PROTO_ERROR_BUSY, true);
  simple (THECAL_MSG_CANCEL_BOLUS);
  call (7, 60);
  ck_assert_uint_eq (answer_frame.type, THECAL_MSG_CANCEL_BOLUS);
  ck_assert (!pump.bolus_active);
  call (8, 70);
  expect_error (THECAL_PROTO_ERROR_REFUSED, true);

  /* clock */
  set_clock_request (INT64_C (1767229200000));
  call (9, 80);
  ck_assert_int_eq (answer.clock_reply.previous_pump_ms, INT64_C (1767225600000));
  ck_assert_int_eq (answer.clock_reply.pump_ms, INT64_C (1767229200000));
  request.set_clock.pump_local_ms = -1;
  call (10, 90);
  expect_error (THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, true);
  ck_assert_uint_eq (answer.error.error.detail, THECAL_PUMP_LIMIT_CLOCK);

  /* alarms */
  thecal_message_init (&request, THECAL_MSG_ACK_ALARM, false);
  request.ack_alarm.alarm = THECAL_PROTO_ALARM_LOW_RESERVOIR;
  call (11, 100);
  expect_error (THECAL_PROTO_ERROR_REFUSED, true);
  pump.alarm_raised[THECAL_PROTO_ALARM_LOW_RESERVOIR] = true;
  call (12, 110);
  ck_assert_uint_eq (answer_frame.type, THECAL_MSG_ACK_ALARM);
  ck_assert (pump.alarm_acknowledged[THECAL_PROTO_ALARM_LOW_RESERVOIR]);
  simple (THECAL_MSG_READ_STATUS);
  call (13, 120);
  ck_assert_int_eq (answer.status.n_alarms, 1);
  ck_assert (answer.status.alarms[0].acknowledged);

  /* a pump that fails without saying why: INTERNAL, never a crash or silence */
  pump.fail_get_status = true;
  call (14, 130);
  expect_error (THECAL_PROTO_ERROR_INTERNAL, true);

  /* READ_PRESCRIPTION */
  simple (THECAL_MSG_READ_PRESCRIPTION);
  call (15, 140);
  ck_assert (thecal_checksum_equal (&answer.prescription.checksum, &rx5_sum));
  ck_assert (thecal_prescription_equal (&answer.prescription.rx, &rx5));
}
END_TEST

START_TEST (test_init_refuses_incomplete_config)
{
  ThecalPumpRoleConfig config;
  ThecalPumpOps ops = thecal_fake_pump_ops;

  memset (&config, 0, sizeof config);
  ck_assert (!thecal_pump_role_init (&role, &config)); /* no ops */
  config.ops = &ops;
  ck_assert (!thecal_pump_role_init (&role, &config)); /* no random source */
  config.random = thecal_test_random;
  config.random_data = &pump_seed;
  ck_assert (!thecal_pump_role_init (&role, &config)); /* no identity */
  thecal_test_identity (&config.identity);
  ck_assert (thecal_pump_role_init (&role, &config));
  ck_assert_int_eq (role.config.session_timeout_ms, THECAL_PROTO_SESSION_TIMEOUT_DEFAULT_MS);
  ops.read_log = NULL;
  ck_assert (!thecal_pump_role_init (&role, &config));
  ck_assert (!thecal_pump_role_init (&role, NULL));
}
END_TEST

static Suite *
pump_role_suite (void)
{
  Suite *s = suite_create ("pump-role");

  THECAL_TEST_TCASE (s, "role", setup, NULL, 0,
                     test_identify_needs_no_key,
                     test_handshake,
                     test_hello_retransmission_same_answer,
                     test_wrong_key,
                     test_no_frame_changes_therapy_without_session,
                     test_replay_and_retransmission,
                     test_bad_tag_refused,
                     test_unknown_type_and_version,
                     test_not_frames_are_dropped,
                     test_two_phase_rules,
                     test_stage_refusals,
                     test_refill_commit,
                     test_refill_commit_stale,
                     test_session_timeout,
                     test_time_backwards_ends_session,
                     test_new_handshake_replaces_session,
                     test_close,
                     test_read_log_batches,
                     test_other_requests,
                     test_init_refuses_incomplete_config);
  return s;
}

THECAL_TEST_MAIN (pump_role_suite)
