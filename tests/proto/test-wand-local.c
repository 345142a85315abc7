/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-wand-local.c: the wand answers WAND_INFO and WAND_LINK itself and relays the rest.
 */
#include "config.h"

#include "thecal-fake-pump.h"
#include "thecal-test.h"
#include "thecal-wand-local.h"

#include <string.h>

static ThecalWandInfo info;
static ThecalWandLink link_quality;
static uint8_t in[THECAL_FRAME_MAX];
static uint8_t out[THECAL_FRAME_MAX];
static ThecalMessage decoded;

static void
setup (void)
{
  memset (&info, 0, sizeof info);
  strcpy (info.serial, "WAND-0001");
  strcpy (info.firmware_version, "1.4.2");
  info.protocol_version = THECAL_PROTO_VERSION;
  link_quality.rssi_dbm = -67;
  link_quality.quality_percent = 88;
  link_quality.pump_in_range = true;
}

/* A clear request of @type with @body; the wand's answer decoded into `decoded`. */
static bool
ask (uint8_t type, uint8_t flags, const uint8_t *body, size_t body_length, ThecalFrame *answer)
{
  size_t in_length = 0, out_length = 0;

  ck_assert (thecal_frame_encode (type, flags, 314, body, body_length, in, sizeof in, &in_length));
  if (!thecal_wand_local_answer (in, in_length, &info, &link_quality, out, sizeof out, &out_length))
    {
      ck_assert_uint_eq (out_length, 0);
      return false;
    }
  ck_assert_int_eq (thecal_frame_decode (out, out_length, answer), THECAL_FRAME_OK);
  ck_assert_uint_eq (answer->seq, 314);
  ck_assert (answer->flags & THECAL_FRAME_FLAG_RESPONSE);
  ck_assert (!(answer->flags & THECAL_FRAME_FLAG_ENCRYPTED));
  ck_assert (thecal_message_decode (answer->type, true, answer->payload, answer->length, &decoded, NULL));
  return true;
}

START_TEST (test_wand_answers_its_own)
{
  ThecalFrame answer;

  ck_assert (ask (THECAL_MSG_WAND_INFO, 0, (const uint8_t *) "\x01", 1, &answer));
  ck_assert_uint_eq (answer.type, THECAL_MSG_WAND_INFO);
  ck_assert_str_eq (decoded.wand_info.serial, "WAND-0001");
  ck_assert_str_eq (decoded.wand_info.firmware_version, "1.4.2");
  ck_assert_uint_eq (decoded.wand_info.protocol_version, THECAL_PROTO_VERSION);
  ck_assert (ask (THECAL_MSG_WAND_LINK, 0, (const uint8_t *) "\x01", 1, &answer));
  ck_assert_uint_eq (answer.type, THECAL_MSG_WAND_LINK);
  ck_assert_int_eq (decoded.wand_link.rssi_dbm, -67);
  ck_assert_uint_eq (decoded.wand_link.quality_percent, 88);
  ck_assert (decoded.wand_link.pump_in_range);
}
END_TEST

START_TEST (test_wand_relays_the_rest)
{
  ThecalFrame answer;

  ck_assert (!ask (THECAL_MSG_READ_STATUS, THECAL_FRAME_FLAG_ENCRYPTED, (const uint8_t *) "0123456789abcdef0", 17, &answer));
  ck_assert (!ask (THECAL_MSG_HELLO, 0, in, 33, &answer));
  ck_assert (!ask (THECAL_MSG_IDENTIFY, 0, (const uint8_t *) "\x01", 1, &answer));
  /* answers and non-frames are not the wand's business either */
  ck_assert (!ask (THECAL_MSG_WAND_INFO, THECAL_FRAME_FLAG_RESPONSE, (const uint8_t *) "\x01", 1, &answer));
  ck_assert (!thecal_wand_local_answer ((const uint8_t *) "junk", 4, &info, &link_quality, out, sizeof out, NULL));
}
END_TEST

START_TEST (test_wand_malformed_requests)
{
  ThecalFrame answer;

  ck_assert (ask (THECAL_MSG_WAND_INFO, 0, (const uint8_t *) "\x01\x00", 2, &answer));
  ck_assert_uint_eq (answer.type, THECAL_MSG_ERROR);
  ck_assert_int_eq (decoded.error.error.code, THECAL_PROTO_ERROR_BAD_REQUEST);
  ck_assert_uint_eq (decoded.error.request_type, THECAL_MSG_WAND_INFO);
  ck_assert (ask (THECAL_MSG_WAND_LINK, THECAL_FRAME_FLAG_ENCRYPTED, (const uint8_t *) "\x01", 1, &answer));
  ck_assert_uint_eq (answer.type, THECAL_MSG_ERROR);
  ck_assert (ask (THECAL_MSG_WAND_LINK, 0, (const uint8_t *) "\x02", 1, &answer));
  ck_assert_uint_eq (answer.type, THECAL_MSG_ERROR);
  /* the wand's own data must be valid */
  info.serial[0] = '\0';
  ck_assert (!ask (THECAL_MSG_WAND_INFO, 0, (const uint8_t *) "\x01", 1, &answer));
  link_quality.quality_percent = 101;
  ck_assert (!ask (THECAL_MSG_WAND_LINK, 0, (const uint8_t *) "\x01", 1, &answer));
}
END_TEST

START_TEST (test_programmer_asks_the_wand)
{
  static ThecalProgrammer programmer;
  ThecalProgrammerConfig config;
  uint64_t seed = 5;
  const uint8_t *frame;
  size_t length = 0, answer_length = 0;

  memset (&config, 0, sizeof config);
  config.random = thecal_test_random;
  config.random_data = &seed;
  ck_assert (thecal_programmer_init (&programmer, &config));
  /* no key needed, no session opened */
  ck_assert (thecal_programmer_begin_simple (&programmer, 0, THECAL_MSG_WAND_LINK, NULL));
  frame = thecal_programmer_take_output (&programmer, &length);
  ck_assert_ptr_nonnull (frame);
  ck_assert (thecal_wand_local_answer (frame, length, &info, &link_quality, out, sizeof out, &answer_length));
  thecal_programmer_receive (&programmer, 1, out, answer_length);
  ck_assert (!thecal_programmer_busy (&programmer));
  ck_assert_int_eq (thecal_programmer_result (&programmer)->status, THECAL_EXCHANGE_OK);
  ck_assert_uint_eq (thecal_programmer_reply (&programmer)->wand_link.quality_percent, 88);
}
END_TEST

static Suite *
wand_local_suite (void)
{
  Suite *s = suite_create ("wand-local");

  THECAL_TEST_TCASE (s, "wand", setup, NULL, 0,
                     test_wand_answers_its_own,
                     test_wand_relays_the_rest,
                     test_wand_malformed_requests,
                     test_programmer_asks_the_wand);
  return s;
}

THECAL_TEST_MAIN (wand_local_suite)
