/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * fuzz-pump-role.c: libFuzzer target for the pump's request handler (thecal-pump-role.h) with
 * the in-test fake pump (tests/proto/thecal-fake-pump.c).
 *
 * The harness opens a session first (as a programmer holding the key would), so the fuzzer
 * reaches the encrypted requests at once. The input is a script of records
 * [op u8][length u16 LE][length bytes]:
 *   op % 4 == 0  the bytes, as a raw frame, to the pump
 *   op % 4 == 1  [type u8][seq u32 LE][body...]: the body sealed in the harness's session
 *   op % 4 == 2  [ms u16 LE]: time passes, ms × 100
 *   op % 4 == 3  [nonce byte]: the harness opens a new session
 * Invariants (abort () if broken):
 *  - every answer is a frame marked RESPONSE; an encrypted one opens with the harness's key and
 *    decodes as the answer to its type (an ERROR or the type's own answer);
 *  - the pump's active prescription always passes thecal_prescription_validate;
 *  - it changes only through a sealed COMMIT, REFILL_COMMIT or SET_PTM record, at most once per
 *    record (COMMIT and REFILL_COMMIT never both);
 *  - nothing reaches the pump's set_reservoir, refill_and_apply, start_bolus, set_clock or ACK
 *    without a sealed record.
 */
#include "config.h"

#include "thecal-fake-pump.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static ThecalPumpRole role;
static ThecalFakePump pump;
static ThecalMessage msg;
static uint8_t session_key[THECAL_KEY_SIZE];
static bool have_session;
static uint8_t frame[THECAL_FRAME_MAX];
static uint8_t plain[THECAL_FRAME_MAX];
static int64_t now_ms;
static uint64_t pump_seed;

static void
check_answer (const uint8_t *answer, size_t length)
{
  ThecalFrame f;
  const uint8_t *body;
  size_t body_length;

  if (thecal_frame_decode (answer, length, &f) != THECAL_FRAME_OK || (f.flags & THECAL_FRAME_FLAG_RESPONSE) == 0)
    abort ();
  body = f.payload;
  body_length = f.length;
  if (f.flags & THECAL_FRAME_FLAG_ENCRYPTED)
    {
      if (!have_session || !thecal_session_open (session_key, THECAL_DIRECTION_TO_PROGRAMMER, &f, plain, sizeof plain, &body_length))
        abort ();
      body = plain;
    }
  if (!thecal_message_decode (f.type, true, body, body_length, &msg, NULL))
    abort ();
}

static bool
deliver (const uint8_t *bytes, size_t length)
{
  const uint8_t *answer = NULL;
  size_t answer_length = 0;

  if (!thecal_pump_role_handle (&role, now_ms, bytes, length, &answer, &answer_length))
    return false;
  check_answer (answer, answer_length);
  return true;
}

/* HELLO with a nonce of @nonce_byte, then AUTH: the harness's session. */
static void
open_session (uint8_t nonce_byte)
{
  uint8_t hello[64], key[THECAL_KEY_SIZE];
  size_t hello_length = 0, length = 0;
  const uint8_t *answer = NULL;
  size_t answer_length = 0;
  ThecalFrame f;

  have_session = false;
  thecal_message_init (&msg, THECAL_MSG_HELLO, false);
  memset (msg.hello.nonce, nonce_byte, sizeof msg.hello.nonce);
  if (!thecal_message_encode (&msg, hello, sizeof hello, &hello_length, NULL)
      || !thecal_frame_encode (THECAL_MSG_HELLO, 0, 1, hello, hello_length, frame, sizeof frame, &length))
    abort ();
  if (!thecal_pump_role_handle (&role, now_ms, frame, length, &answer, &answer_length)
      || thecal_frame_decode (answer, answer_length, &f) != THECAL_FRAME_OK || f.type != THECAL_MSG_HELLO)
    abort ();
  thecal_test_key (key, FAKE_KEY_BYTE);
  thecal_session_derive_key (key, hello, hello_length, f.payload, f.length, session_key);
  if (!thecal_session_seal (session_key, THECAL_DIRECTION_TO_PUMP, THECAL_MSG_AUTH, 0, 1, (const uint8_t *) "\x01", 1, frame,
                            sizeof frame, &length))
    abort ();
  have_session = true;
  if (!deliver (frame, length) || !thecal_pump_role_session_active (&role))
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  ThecalPumpRoleConfig config;
  ThecalPrescription rx;
  size_t at = 0;

  thecal_test_rx_morphine (&rx, 5);
  thecal_fake_pump_init (&pump, &rx);
  thecal_test_role_config (&config, &pump, &pump_seed);
  pump_seed = 7;
  now_ms = 1000;
  if (!thecal_pump_role_init (&role, &config))
    abort ();
  open_session (0xAA);

  while (at + 3 <= size)
    {
      uint8_t op = data[at];
      size_t length = (size_t) data[at + 1] | ((size_t) data[at + 2] << 8);
      const uint8_t *record = data + at + 3;
      int32_t applied = pump.apply_calls, refilled = pump.refill_apply_calls;
      int32_t reservoir = pump.set_reservoir_calls, boluses = pump.bolus_calls;
      int64_t clock = pump.clock_ms;
      bool sealed_change = false;

      if (length > size - at - 3)
        length = size - at - 3;
      at += 3 + length;
      switch (op % 4)
        {
        case 0:
          deliver (record, length);
          break;
        case 1:
          {
            size_t frame_length = 0;
            uint32_t seq;

            if (length < 5 || !have_session)
              break;
            seq = (uint32_t) record[1] | ((uint32_t) record[2] << 8) | ((uint32_t) record[3] << 16) | ((uint32_t) record[4] << 24);
            if (!thecal_session_seal (session_key, THECAL_DIRECTION_TO_PUMP, record[0], 0, seq, record + 5, length - 5, frame,
                                      sizeof frame, &frame_length))
              break; /* a type or size the codec refuses to build */
            sealed_change = true;
            deliver (frame, frame_length);
            break;
          }
        case 2:
          if (length >= 2)
            now_ms += 100 * (int64_t) (record[0] | (record[1] << 8));
          thecal_pump_role_tick (&role, now_ms);
          break;
        case 3:
          open_session (length >= 1 ? record[0] : 0);
          break;
        default:
          abort ();
        }

      if (pump.apply_calls > applied + 1 || (pump.apply_calls != applied && !sealed_change))
        abort ();
      if (pump.refill_apply_calls > refilled + 1 || (pump.refill_apply_calls != refilled && !sealed_change)
          || (pump.refill_apply_calls != refilled && pump.apply_calls != applied))
        abort ();
      if (!sealed_change
          && (pump.set_reservoir_calls != reservoir || pump.bolus_calls != boluses || pump.clock_ms != clock))
        abort ();
      {
        ThecalDoseError error;

        memset (&error, 0, sizeof error);
        if (!thecal_prescription_validate (&pump.active, &error))
          abort ();
      }
    }
  return 0;
}
