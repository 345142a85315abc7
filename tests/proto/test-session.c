/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-session.c: key derivation, the AEAD nonce, sealing and opening, and what opening refuses
 * (bad tag, changed header, wrong key, wrong direction, wrong sequence).
 */
#include "config.h"

#include "thecal-message.h"
#include "thecal-session.h"
#include "thecal-test.h"

#include <sodium.h>
#include <string.h>

/* The test vector of docs/protocol.md "Key derivation". */
#define DOCS_SESSION_KEY "dbc74a7d6c89f6190d4616f9cc9a47a68fd4333089a06d3c0dd6ad45d7c835b3"

static uint8_t frame_bytes[THECAL_FRAME_MAX];
static uint8_t plain[THECAL_FRAME_MAX];

static void
setup (void)
{
  ck_assert (thecal_proto_init ());
}

START_TEST (test_derive_key_as_documented)
{
  uint8_t pump_key[THECAL_KEY_SIZE], key[THECAL_KEY_SIZE], expected[THECAL_KEY_SIZE];
  uint8_t hello[33], reply[52];
  uint8_t message[16 + 2 + 33 + 2 + 52];
  char hex[2 * THECAL_KEY_SIZE + 1];
  size_t at = 0;

  /* docs/protocol.md: pump key 00 01 .. 1f; HELLO body 01 then 32 × 0xAA; HELLO answer body 01,
   * 32 × 0xBB, then serial "TR20-000123", model "TR-20", version 1 */
  for (int i = 0; i < THECAL_KEY_SIZE; i++)
    pump_key[i] = (uint8_t) i;
  hello[0] = 1;
  memset (hello + 1, 0xAA, 32);
  {
    ThecalMessage *m = calloc (1, sizeof *m);
    size_t length = 0;

    thecal_message_init (m, THECAL_MSG_HELLO, true);
    memset (m->hello_reply.nonce, 0xBB, 32);
    strcpy (m->hello_reply.identity.serial, "TR20-000123");
    strcpy (m->hello_reply.identity.model_id, "TR-20");
    m->hello_reply.identity.protocol_version = 1;
    ck_assert (thecal_message_encode (m, reply, sizeof reply, &length, NULL));
    ck_assert_uint_eq (length, sizeof reply);
    free (m);
  }
  thecal_session_derive_key (pump_key, hello, sizeof hello, reply, sizeof reply, key);

  /* the same from the recipe, with libsodium directly: BLAKE2b-256 keyed by the pump key over
   * "THECAL-SESSION-1" ‖ u16 LE 33 ‖ hello ‖ u16 LE 52 ‖ reply */
  memcpy (message + at, "THECAL-SESSION-1", 16);
  at += 16;
  message[at++] = 33;
  message[at++] = 0;
  memcpy (message + at, hello, 33);
  at += 33;
  message[at++] = 52;
  message[at++] = 0;
  memcpy (message + at, reply, 52);
  at += 52;
  ck_assert_uint_eq (at, sizeof message);
  crypto_generichash (expected, sizeof expected, message, sizeof message, pump_key, sizeof pump_key);
  ck_assert_mem_eq (key, expected, sizeof key);

  sodium_bin2hex (hex, sizeof hex, key, sizeof key);
  ck_assert_str_eq (hex, DOCS_SESSION_KEY);

  /* and the AUTH frame of docs/protocol.md "Test vectors", sealed with that key */
  {
    static const uint8_t auth[32] = { 0x54, 0x48, 0x01, 0x03, 0x01, 0x01, 0x00, 0x00, 0x00, 0x11, 0x00,
                                      0xaf, 0x9e, 0x57, 0x69, 0xfd, 0xb9, 0x2b, 0xce, 0x8f, 0x52, 0xf4,
                                      0x08, 0x45, 0x1c, 0xdf, 0x7f, 0xda, 0xcb, 0xe0, 0x5d, 0x04 };
    uint8_t out[64];
    size_t out_length = 0;

    ck_assert (thecal_session_seal (key, THECAL_DIRECTION_TO_PUMP, THECAL_MSG_AUTH, 0, 1, (const uint8_t *) "\x01", 1, out,
                                    sizeof out, &out_length));
    ck_assert_uint_eq (out_length, sizeof auth);
    ck_assert_mem_eq (out, auth, sizeof auth);
  }

  /* every input matters */
  hello[5] ^= 1;
  thecal_session_derive_key (pump_key, hello, sizeof hello, reply, sizeof reply, expected);
  ck_assert (memcmp (key, expected, sizeof key) != 0);
  hello[5] ^= 1;
  reply[40] ^= 1; /* the identity too: a changed serial in transit gives another key */
  thecal_session_derive_key (pump_key, hello, sizeof hello, reply, sizeof reply, expected);
  ck_assert (memcmp (key, expected, sizeof key) != 0);
  reply[40] ^= 1;
  pump_key[31] ^= 1;
  thecal_session_derive_key (pump_key, hello, sizeof hello, reply, sizeof reply, expected);
  ck_assert (memcmp (key, expected, sizeof key) != 0);
}
END_TEST

START_TEST (test_nonce_layout)
{
  uint8_t nonce[THECAL_AEAD_NONCE_SIZE];
  static const uint8_t expected[THECAL_AEAD_NONCE_SIZE] = { 0x02, 0x78, 0x56, 0x34, 0x12 };

  thecal_session_nonce (THECAL_DIRECTION_TO_PROGRAMMER, 0x12345678u, nonce);
  ck_assert_mem_eq (nonce, expected, sizeof nonce);
  thecal_session_nonce (THECAL_DIRECTION_TO_PUMP, 1, nonce);
  ck_assert_uint_eq (nonce[0], 0x01);
  ck_assert_uint_eq (nonce[1], 0x01);
  for (int i = 2; i < THECAL_AEAD_NONCE_SIZE; i++)
    ck_assert_uint_eq (nonce[i], 0);
}
END_TEST

static size_t
seal_sample (const uint8_t key[THECAL_KEY_SIZE], uint32_t seq)
{
  static const uint8_t body[] = { 0x01, 'h', 'e', 'l', 'l', 'o' };
  size_t length = 0;

  ck_assert (thecal_session_seal (key, THECAL_DIRECTION_TO_PUMP, THECAL_MSG_READ_STATUS, 0, seq, body, sizeof body, frame_bytes,
                                  sizeof frame_bytes, &length));
  return length;
}

START_TEST (test_seal_open_round_trip)
{
  uint8_t key[THECAL_KEY_SIZE];
  ThecalFrame frame;
  size_t length, plain_length = 0;
  uint8_t nonce[THECAL_AEAD_NONCE_SIZE];
  uint8_t direct[6];
  unsigned long long direct_length = 0;

  memset (key, 0x42, sizeof key);
  length = seal_sample (key, 7);
  ck_assert_uint_eq (length, 11 + 6 + 16 + 4);
  ck_assert_int_eq (thecal_frame_decode (frame_bytes, length, &frame), THECAL_FRAME_OK);
  ck_assert_uint_eq (frame.flags, THECAL_FRAME_FLAG_ENCRYPTED);
  ck_assert_uint_eq (frame.seq, 7);
  ck_assert_uint_eq (frame.length, 6 + 16);
  ck_assert (memcmp (frame.payload, "\x01hello", 6) != 0); /* encrypted */
  ck_assert (thecal_session_open (key, THECAL_DIRECTION_TO_PUMP, &frame, plain, sizeof plain, &plain_length));
  ck_assert_uint_eq (plain_length, 6);
  ck_assert_mem_eq (plain, "\x01hello", 6);

  /* exactly the documented construction: XChaCha20-Poly1305-IETF, AD = 11 header bytes */
  thecal_session_nonce (THECAL_DIRECTION_TO_PUMP, 7, nonce);
  ck_assert_int_eq (crypto_aead_xchacha20poly1305_ietf_decrypt (direct, &direct_length, NULL, frame_bytes + 11, 22, frame_bytes,
                                                                11, nonce, key),
                    0);
  ck_assert_mem_eq (direct, "\x01hello", 6);

  /* the same inputs seal to the same bytes (a retransmission reuses the nonce with the same
   * plaintext only) */
  {
    uint8_t first[64];

    memcpy (first, frame_bytes, length);
    ck_assert_uint_eq (seal_sample (key, 7), length);
    ck_assert_mem_eq (first, frame_bytes, length);
  }
}
END_TEST

START_TEST (test_open_refuses_tampering)
{
  uint8_t key[THECAL_KEY_SIZE], other[THECAL_KEY_SIZE];
  ThecalFrame frame;
  size_t length, plain_length = 0;

  memset (key, 0x42, sizeof key);
  memset (other, 0x43, sizeof other);
  length = seal_sample (key, 7);

  /* any payload bit (ciphertext or tag), with a CRC recomputed so only the AEAD can notice */
  for (size_t byte = 11; byte < length - 4; byte++)
    {
      frame_bytes[byte] ^= 0x01;
      thecal_frame_write_crc (frame_bytes, length - 4);
      ck_assert_int_eq (thecal_frame_decode (frame_bytes, length, &frame), THECAL_FRAME_OK);
      ck_assert_msg (!thecal_session_open (key, THECAL_DIRECTION_TO_PUMP, &frame, plain, sizeof plain, &plain_length),
                     "a flipped bit in byte %zu passed", byte);
      ck_assert_uint_eq (plain_length, 0);
      frame_bytes[byte] ^= 0x01;
    }
  /* the header is associated data: a changed type or sequence is refused */
  frame_bytes[3] = THECAL_MSG_COMMIT;
  thecal_frame_write_crc (frame_bytes, length - 4);
  ck_assert_int_eq (thecal_frame_decode (frame_bytes, length, &frame), THECAL_FRAME_OK);
  ck_assert (!thecal_session_open (key, THECAL_DIRECTION_TO_PUMP, &frame, plain, sizeof plain, &plain_length));
  frame_bytes[3] = THECAL_MSG_READ_STATUS;
  frame_bytes[5] = 8; /* sequence 7 → 8 */
  thecal_frame_write_crc (frame_bytes, length - 4);
  ck_assert_int_eq (thecal_frame_decode (frame_bytes, length, &frame), THECAL_FRAME_OK);
  ck_assert (!thecal_session_open (key, THECAL_DIRECTION_TO_PUMP, &frame, plain, sizeof plain, &plain_length));
  frame_bytes[5] = 7;
  thecal_frame_write_crc (frame_bytes, length - 4);
  ck_assert_int_eq (thecal_frame_decode (frame_bytes, length, &frame), THECAL_FRAME_OK);
  /* wrong key, wrong direction */
  ck_assert (!thecal_session_open (other, THECAL_DIRECTION_TO_PUMP, &frame, plain, sizeof plain, &plain_length));
  ck_assert (!thecal_session_open (key, THECAL_DIRECTION_TO_PROGRAMMER, &frame, plain, sizeof plain, &plain_length));
  /* too small an output */
  ck_assert (!thecal_session_open (key, THECAL_DIRECTION_TO_PUMP, &frame, plain, 5, &plain_length));
  /* and intact, it opens */
  ck_assert (thecal_session_open (key, THECAL_DIRECTION_TO_PUMP, &frame, plain, sizeof plain, &plain_length));
}
END_TEST

START_TEST (test_open_refuses_clear_and_short)
{
  uint8_t key[THECAL_KEY_SIZE];
  ThecalFrame frame;
  size_t length = 0, plain_length = 0;
  uint8_t body[15] = { 1 };

  memset (key, 1, sizeof key);
  /* not marked encrypted */
  ck_assert (thecal_frame_encode (THECAL_MSG_READ_STATUS, 0, 3, body, 1, frame_bytes, sizeof frame_bytes, &length));
  ck_assert_int_eq (thecal_frame_decode (frame_bytes, length, &frame), THECAL_FRAME_OK);
  ck_assert (!thecal_session_open (key, THECAL_DIRECTION_TO_PUMP, &frame, plain, sizeof plain, &plain_length));
  /* marked encrypted but shorter than a tag */
  ck_assert (thecal_frame_encode (THECAL_MSG_READ_STATUS, THECAL_FRAME_FLAG_ENCRYPTED, 3, body, sizeof body, frame_bytes,
                                  sizeof frame_bytes, &length));
  ck_assert_int_eq (thecal_frame_decode (frame_bytes, length, &frame), THECAL_FRAME_OK);
  ck_assert (!thecal_session_open (key, THECAL_DIRECTION_TO_PUMP, &frame, plain, sizeof plain, &plain_length));
  /* seal refuses what cannot fit */
  ck_assert (!thecal_session_seal (key, THECAL_DIRECTION_TO_PUMP, THECAL_MSG_READ_STATUS, 0, 1, plain,
                                   THECAL_FRAME_PAYLOAD_MAX - 15, frame_bytes, sizeof frame_bytes, &length));
  ck_assert (thecal_session_seal (key, THECAL_DIRECTION_TO_PUMP, THECAL_MSG_READ_STATUS, 0, 1, plain,
                                  THECAL_FRAME_PAYLOAD_MAX - 16, frame_bytes, sizeof frame_bytes, &length));
  ck_assert_uint_eq (length, THECAL_FRAME_MAX);
  ck_assert (!thecal_session_seal (key, THECAL_DIRECTION_TO_PUMP, THECAL_MSG_READ_STATUS, 0, 1, plain, 10, frame_bytes, 40,
                                   &length));
  ck_assert (!thecal_session_seal (key, THECAL_DIRECTION_TO_PUMP, 0x99, 0, 1, plain, 10, frame_bytes, sizeof frame_bytes, &length));
}
END_TEST

START_TEST (test_sequence_order)
{
  ck_assert_int_eq (thecal_session_seq_order (5, 6), THECAL_SEQ_FRESH);
  ck_assert_int_eq (thecal_session_seq_order (5, 1000), THECAL_SEQ_FRESH); /* gaps are allowed */
  ck_assert_int_eq (thecal_session_seq_order (5, 5), THECAL_SEQ_SAME);
  ck_assert_int_eq (thecal_session_seq_order (5, 4), THECAL_SEQ_OLD);
  ck_assert_int_eq (thecal_session_seq_order (5, 0), THECAL_SEQ_OLD);
  ck_assert_int_eq (thecal_session_seq_order (UINT32_MAX - 1, UINT32_MAX), THECAL_SEQ_FRESH);
  ck_assert_int_eq (thecal_session_seq_order (UINT32_MAX, 0), THECAL_SEQ_OLD); /* no wrap-around */
}
END_TEST

static Suite *
session_suite (void)
{
  Suite *s = suite_create ("session");

  THECAL_TEST_TCASE (s, "crypto", setup, NULL, 0,
                     test_derive_key_as_documented,
                     test_nonce_layout,
                     test_seal_open_round_trip,
                     test_open_refuses_tampering,
                     test_open_refuses_clear_and_short,
                     test_sequence_order);
  return s;
}

THECAL_TEST_MAIN (session_suite)
