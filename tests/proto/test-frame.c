/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-frame.c: the frame codec: layout, CRC, boundaries, every malformed frame.
 */
#include "config.h"

#include "thecal-frame.h"
#include "thecal-test.h"

#include <string.h>

static uint8_t buffer[THECAL_FRAME_MAX + 64];
static uint8_t payload[THECAL_FRAME_MAX];

START_TEST (test_crc32_check_value)
{
  /* the standard check value of CRC-32/ISO-HDLC (zlib's crc32): "123456789" → 0xCBF43926 */
  ck_assert_uint_eq (thecal_crc32 ((const uint8_t *) "123456789", 9), 0xCBF43926u);
  ck_assert_uint_eq (thecal_crc32 (NULL, 0), 0x00000000u);
  /* one byte 0x00: 0xD202EF8D (zlib) */
  ck_assert_uint_eq (thecal_crc32 ((const uint8_t *) "\0", 1), 0xD202EF8Du);
}
END_TEST

START_TEST (test_layout_byte_by_byte)
{
  const uint8_t body[3] = { 0x01, 0xAB, 0xCD };
  size_t length = 0;
  uint32_t crc;

  ck_assert (thecal_frame_encode (THECAL_MSG_READ_STATUS, THECAL_FRAME_FLAG_RESPONSE, 0x04030201u, body, sizeof body, buffer,
                                  sizeof buffer, &length));
  ck_assert_uint_eq (length, 11 + 3 + 4);
  ck_assert_uint_eq (buffer[0], 0x54); /* 'T' */
  ck_assert_uint_eq (buffer[1], 0x48); /* 'H' */
  ck_assert_uint_eq (buffer[2], 1);    /* version */
  ck_assert_uint_eq (buffer[3], 0x10); /* READ_STATUS */
  ck_assert_uint_eq (buffer[4], 0x02); /* RESPONSE */
  ck_assert_uint_eq (buffer[5], 0x01); /* sequence, little-endian */
  ck_assert_uint_eq (buffer[6], 0x02);
  ck_assert_uint_eq (buffer[7], 0x03);
  ck_assert_uint_eq (buffer[8], 0x04);
  ck_assert_uint_eq (buffer[9], 3); /* length, little-endian */
  ck_assert_uint_eq (buffer[10], 0);
  ck_assert_mem_eq (buffer + 11, body, 3);
  crc = thecal_crc32 (buffer, 14);
  ck_assert_uint_eq (buffer[14], crc & 0xFF);
  ck_assert_uint_eq (buffer[15], (crc >> 8) & 0xFF);
  ck_assert_uint_eq (buffer[16], (crc >> 16) & 0xFF);
  ck_assert_uint_eq (buffer[17], crc >> 24);
}
END_TEST

START_TEST (test_documented_vector)
{
  /* docs/protocol.md "Test vectors": IDENTIFY request, sequence 1 */
  static const uint8_t identify[16] = { 0x54, 0x48, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00,
                                        0x00, 0x01, 0x00, 0x01, 0xde, 0x71, 0x28, 0x00 };
  size_t length = 0;

  ck_assert (thecal_frame_encode (THECAL_MSG_IDENTIFY, 0, 1, (const uint8_t *) "\x01", 1, buffer, sizeof buffer, &length));
  ck_assert_uint_eq (length, sizeof identify);
  ck_assert_mem_eq (buffer, identify, sizeof identify);
}
END_TEST

START_TEST (test_round_trip)
{
  ThecalFrame frame;
  size_t length = 0;

  for (size_t i = 0; i < 1000; i++)
    payload[i] = (uint8_t) (i * 7);
  ck_assert (thecal_frame_encode (THECAL_MSG_STAGE, 0, 77, payload, 1000, buffer, sizeof buffer, &length));
  ck_assert_int_eq (thecal_frame_decode (buffer, length, &frame), THECAL_FRAME_OK);
  ck_assert_uint_eq (frame.version, THECAL_PROTO_VERSION);
  ck_assert_uint_eq (frame.type, THECAL_MSG_STAGE);
  ck_assert_uint_eq (frame.flags, 0);
  ck_assert_uint_eq (frame.seq, 77);
  ck_assert_uint_eq (frame.length, 1000);
  ck_assert_uint_eq (frame.size, length);
  ck_assert_ptr_eq (frame.header, buffer);
  ck_assert_ptr_eq (frame.payload, buffer + 11);
  ck_assert_mem_eq (frame.payload, payload, 1000);

  /* empty payload, highest sequence */
  ck_assert (thecal_frame_encode (THECAL_MSG_IDENTIFY, 0, UINT32_MAX, NULL, 0, buffer, sizeof buffer, &length));
  ck_assert_uint_eq (length, THECAL_FRAME_OVERHEAD);
  ck_assert_int_eq (thecal_frame_decode (buffer, length, &frame), THECAL_FRAME_OK);
  ck_assert_uint_eq (frame.seq, UINT32_MAX);
  ck_assert_uint_eq (frame.length, 0);
}
END_TEST

START_TEST (test_maximum_size)
{
  ThecalFrame frame;
  size_t length = 0, size = 0;

  /* exactly the maximum: accepted */
  ck_assert (thecal_frame_encode (THECAL_MSG_READ_LOG, THECAL_FRAME_FLAG_RESPONSE, 5, payload, THECAL_FRAME_PAYLOAD_MAX, buffer,
                                  sizeof buffer, &length));
  ck_assert_uint_eq (length, THECAL_FRAME_MAX);
  ck_assert_int_eq (thecal_frame_decode (buffer, length, &frame), THECAL_FRAME_OK);
  /* one byte more: refused by the encoder */
  ck_assert (!thecal_frame_encode (THECAL_MSG_READ_LOG, THECAL_FRAME_FLAG_RESPONSE, 5, payload, THECAL_FRAME_PAYLOAD_MAX + 1,
                                   buffer, sizeof buffer, &length));
  ck_assert_uint_eq (length, 0);
  /* a header announcing one byte more: refused before anything else, from the header alone */
  thecal_frame_write_header (THECAL_MSG_READ_LOG, 0, 5, THECAL_FRAME_PAYLOAD_MAX + 1, buffer);
  ck_assert_int_eq (thecal_frame_peek_size (buffer, THECAL_FRAME_HEADER_SIZE, &size), THECAL_FRAME_TOO_LONG);
  ck_assert_int_eq (thecal_frame_decode (buffer, THECAL_FRAME_HEADER_SIZE, &frame), THECAL_FRAME_TOO_LONG);
  /* the largest length field, 65535 */
  thecal_frame_write_header (THECAL_MSG_READ_LOG, 0, 5, UINT16_MAX, buffer);
  ck_assert_int_eq (thecal_frame_decode (buffer, sizeof buffer, &frame), THECAL_FRAME_TOO_LONG);
  /* too small a buffer for the encoder */
  ck_assert (!thecal_frame_encode (THECAL_MSG_IDENTIFY, 0, 1, NULL, 0, buffer, THECAL_FRAME_OVERHEAD - 1, &length));
}
END_TEST

START_TEST (test_peek_size)
{
  size_t size = 99, length = 0;

  ck_assert (thecal_frame_encode (THECAL_MSG_COMMIT, 0, 9, payload, 20, buffer, sizeof buffer, &length));
  for (size_t n = 0; n < THECAL_FRAME_HEADER_SIZE; n++)
    ck_assert_int_eq (thecal_frame_peek_size (buffer, n, &size), THECAL_FRAME_NEED_MORE);
  ck_assert_int_eq (thecal_frame_peek_size (buffer, THECAL_FRAME_HEADER_SIZE, &size), THECAL_FRAME_OK);
  ck_assert_uint_eq (size, 11 + 20 + 4);
  ck_assert_uint_eq (size, length);
  /* a wrong first byte is known at once */
  buffer[0] = 0x00;
  ck_assert_int_eq (thecal_frame_peek_size (buffer, 1, &size), THECAL_FRAME_BAD_MAGIC);
  buffer[0] = 0x54;
  buffer[1] = 0x00;
  ck_assert_int_eq (thecal_frame_peek_size (buffer, 2, &size), THECAL_FRAME_BAD_MAGIC);
  ck_assert_int_eq (thecal_frame_peek_size (NULL, 0, &size), THECAL_FRAME_NEED_MORE);
}
END_TEST

START_TEST (test_truncated_at_every_length)
{
  ThecalFrame frame;
  size_t length = 0;

  ck_assert (thecal_frame_encode (THECAL_MSG_READ_STAGED, 0, 3, payload, 40, buffer, sizeof buffer, &length));
  for (size_t n = 0; n < length; n++)
    ck_assert_int_eq (thecal_frame_decode (buffer, n, &frame), THECAL_FRAME_NEED_MORE);
  ck_assert_int_eq (thecal_frame_decode (buffer, length, &frame), THECAL_FRAME_OK);
  ck_assert_int_eq (thecal_frame_decode (buffer, length + 1, &frame), THECAL_FRAME_TRAILING_BYTES);
}
END_TEST

START_TEST (test_every_bit_flip_is_caught)
{
  ThecalFrame frame;
  size_t length = 0;

  for (size_t i = 0; i < 64; i++)
    payload[i] = (uint8_t) (i * 13 + 1);
  ck_assert (thecal_frame_encode (THECAL_MSG_STAGE, 0, 1234, payload, 64, buffer, sizeof buffer, &length));
  for (size_t byte = 0; byte < length; byte++)
    for (int bit = 0; bit < 8; bit++)
      {
        ThecalFrameStatus status;

        buffer[byte] ^= (uint8_t) (1u << bit);
        status = thecal_frame_decode (buffer, length, &frame);
        /* magic and length bits show as such; everything else is a CRC failure */
        ck_assert_msg (status != THECAL_FRAME_OK, "flip of byte %zu bit %d passed", byte, bit);
        if (byte >= 2 && byte != 9 && byte != 10)
          ck_assert_int_eq (status, THECAL_FRAME_BAD_CRC);
        buffer[byte] ^= (uint8_t) (1u << bit);
      }
  ck_assert_int_eq (thecal_frame_decode (buffer, length, &frame), THECAL_FRAME_OK);
}
END_TEST

START_TEST (test_bad_magic)
{
  ThecalFrame frame;
  size_t length = 0;

  ck_assert (thecal_frame_encode (THECAL_MSG_IDENTIFY, 0, 1, NULL, 0, buffer, sizeof buffer, &length));
  buffer[1] = 'X';
  thecal_frame_write_crc (buffer, length - 4); /* even with a matching CRC */
  ck_assert_int_eq (thecal_frame_decode (buffer, length, &frame), THECAL_FRAME_BAD_MAGIC);
}
END_TEST

/* A frame with a valid CRC around a header we forge. */
static size_t
forge (uint8_t version, uint8_t type, uint8_t flags)
{
  thecal_frame_write_header (type, flags, 42, 1, buffer);
  buffer[2] = version;
  buffer[11] = 1;
  thecal_frame_write_crc (buffer, 12);
  return 16;
}

START_TEST (test_unknown_version)
{
  ThecalFrame frame;

  ck_assert_int_eq (thecal_frame_decode (buffer, forge (2, THECAL_MSG_IDENTIFY, 0), &frame), THECAL_FRAME_BAD_VERSION);
  /* the header is still there, so a responder can answer with the right sequence */
  ck_assert_uint_eq (frame.version, 2);
  ck_assert_uint_eq (frame.seq, 42);
  ck_assert_uint_eq (frame.type, THECAL_MSG_IDENTIFY);
  ck_assert_int_eq (thecal_frame_decode (buffer, forge (0, THECAL_MSG_IDENTIFY, 0), &frame), THECAL_FRAME_BAD_VERSION);
  ck_assert_int_eq (thecal_frame_decode (buffer, forge (255, THECAL_MSG_IDENTIFY, 0), &frame), THECAL_FRAME_BAD_VERSION);
}
END_TEST

START_TEST (test_unknown_type)
{
  ThecalFrame frame;
  int known = 0;

  for (int type = 0; type < 256; type++)
    {
      ThecalFrameStatus status = thecal_frame_decode (buffer, forge (1, (uint8_t) type, type == THECAL_MSG_ERROR ? 0x06 : 0), &frame);

      if (thecal_msg_type_is_known ((uint8_t) type))
        {
          ck_assert_int_eq (status, THECAL_FRAME_OK);
          known++;
        }
      else
        {
          ck_assert_int_eq (status, THECAL_FRAME_BAD_TYPE);
          ck_assert_uint_eq (frame.type, type);
        }
    }
  ck_assert_int_eq (known, 21); /* the catalogue of docs/protocol.md */
  ck_assert (!thecal_frame_encode (0x55, 0, 1, NULL, 0, buffer, sizeof buffer, NULL));
}
END_TEST

START_TEST (test_flags)
{
  ThecalFrame frame;

  /* reserved bits */
  for (int bit = 3; bit < 8; bit++)
    ck_assert_int_eq (thecal_frame_decode (buffer, forge (1, THECAL_MSG_READ_STATUS, (uint8_t) (1u << bit)), &frame),
                      THECAL_FRAME_BAD_FLAGS);
  /* ERROR flag without the ERROR type, and the type without the flag */
  ck_assert_int_eq (thecal_frame_decode (buffer, forge (1, THECAL_MSG_READ_STATUS, 0x06), &frame), THECAL_FRAME_BAD_FLAGS);
  ck_assert_int_eq (thecal_frame_decode (buffer, forge (1, THECAL_MSG_ERROR, 0x02), &frame), THECAL_FRAME_BAD_FLAGS);
  /* an ERROR is always an answer */
  ck_assert_int_eq (thecal_frame_decode (buffer, forge (1, THECAL_MSG_ERROR, 0x04), &frame), THECAL_FRAME_BAD_FLAGS);
  ck_assert_int_eq (thecal_frame_decode (buffer, forge (1, THECAL_MSG_ERROR, 0x06), &frame), THECAL_FRAME_OK);
  ck_assert_int_eq (thecal_frame_decode (buffer, forge (1, THECAL_MSG_ERROR, 0x07), &frame), THECAL_FRAME_OK);
  ck_assert (!thecal_frame_encode (THECAL_MSG_READ_STATUS, 0x80, 1, NULL, 0, buffer, sizeof buffer, NULL));
  ck_assert (!thecal_frame_encode (THECAL_MSG_ERROR, 0x00, 1, NULL, 0, buffer, sizeof buffer, NULL));
}
END_TEST

START_TEST (test_status_names)
{
  ck_assert_str_eq (thecal_frame_status_name (THECAL_FRAME_BAD_CRC), "BAD_CRC");
  ck_assert_str_eq (thecal_frame_status_name (THECAL_FRAME_TOO_LONG), "TOO_LONG");
  ck_assert_str_eq (thecal_frame_status_name ((ThecalFrameStatus) 99), "?");
  ck_assert_str_eq (thecal_msg_type_name (THECAL_MSG_COMMIT), "COMMIT");
  ck_assert_str_eq (thecal_msg_type_name (0x99), "?");
}
END_TEST

static Suite *
frame_suite (void)
{
  Suite *s = suite_create ("frame");

  THECAL_TEST_TCASE (s, "codec", NULL, NULL, 0,
                     test_crc32_check_value,
                     test_layout_byte_by_byte,
                     test_documented_vector,
                     test_round_trip,
                     test_maximum_size,
                     test_peek_size,
                     test_truncated_at_every_length,
                     test_every_bit_flip_is_caught,
                     test_bad_magic,
                     test_unknown_version,
                     test_unknown_type,
                     test_flags,
                     test_status_names);
  return s;
}

THECAL_TEST_MAIN (frame_suite)
