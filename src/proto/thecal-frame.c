/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-frame.c: the frame codec. Every length is checked against the maximum and the buffer
 * before a byte is read through it.
 */
#include "config.h"

#include "thecal-frame.h"
#include "thecal-proto-private.h"

#include <string.h>

/* CRC-32 with a 16-entry (half-byte) table: small, and no table generation at run time.
 * crc_nibble[i] = CRC of the 4-bit value i through the reflected polynomial 0xEDB88320. */
static const uint32_t crc_nibble[16] = {
  0x00000000,
  0x1DB71064,
  0x3B6E20C8,
  0x26D930AC,
  0x76DC4190,
  0x6B6B51F4,
  0x4DB26158,
  0x5005713C,
  0xEDB88320,
  0xF00F9344,
  0xD6D6A3E8,
  0xCB61B38C,
  0x9B64C2B0,
  0x86D3D2D4,
  0xA00AE278,
  0xBDBDF21C,
};

uint32_t
thecal_crc32 (const uint8_t *data, size_t length)
{
  uint32_t crc = 0xFFFFFFFFu;

  for (size_t i = 0; i < length; i++)
    {
      crc ^= data[i];
      crc = (crc >> 4) ^ crc_nibble[crc & 0x0F];
      crc = (crc >> 4) ^ crc_nibble[crc & 0x0F];
    }
  return crc ^ 0xFFFFFFFFu;
}

bool
thecal_frame_flags_valid (uint8_t type, uint8_t flags)
{
  bool error_flag = (flags & THECAL_FRAME_FLAG_ERROR) != 0;

  if ((flags & ~THECAL_FRAME_FLAGS_KNOWN) != 0)
    return false;
  if (error_flag != (type == THECAL_MSG_ERROR))
    return false;
  if (type == THECAL_MSG_ERROR && (flags & THECAL_FRAME_FLAG_RESPONSE) == 0)
    return false;
  return true;
}

ThecalFrameStatus
thecal_frame_peek_size (const uint8_t *data, size_t length, size_t *frame_size)
{
  size_t size;

  if (frame_size != NULL)
    *frame_size = 0;
  if (data == NULL || length < THECAL_FRAME_HEADER_SIZE)
    {
      /* A wrong first byte is already known: say so at once, so a stream resynchronises early. */
      if (data != NULL && ((length >= 1 && data[0] != THECAL_FRAME_MAGIC_0) || (length >= 2 && data[1] != THECAL_FRAME_MAGIC_1)))
        return THECAL_FRAME_BAD_MAGIC;
      return THECAL_FRAME_NEED_MORE;
    }
  if (data[0] != THECAL_FRAME_MAGIC_0 || data[1] != THECAL_FRAME_MAGIC_1)
    return THECAL_FRAME_BAD_MAGIC;
  size = (size_t) THECAL_FRAME_OVERHEAD + _thecal_load_u16 (data + 9);
  if (size > THECAL_FRAME_MAX)
    return THECAL_FRAME_TOO_LONG;
  if (frame_size != NULL)
    *frame_size = size;
  return THECAL_FRAME_OK;
}

ThecalFrameStatus
thecal_frame_decode (const uint8_t *data, size_t length, ThecalFrame *frame)
{
  ThecalFrameStatus status;
  size_t size = 0;
  uint32_t crc;

  memset (frame, 0, sizeof *frame);
  status = thecal_frame_peek_size (data, length, &size);
  if (status != THECAL_FRAME_OK)
    return status;
  if (length < size)
    return THECAL_FRAME_NEED_MORE;
  if (length > size)
    return THECAL_FRAME_TRAILING_BYTES;
  crc = _thecal_load_u32 (data + size - THECAL_FRAME_CRC_SIZE);
  if (crc != thecal_crc32 (data, size - THECAL_FRAME_CRC_SIZE))
    return THECAL_FRAME_BAD_CRC;

  frame->version = data[2];
  frame->type = data[3];
  frame->flags = data[4];
  frame->seq = _thecal_load_u32 (data + 5);
  frame->length = _thecal_load_u16 (data + 9);
  frame->header = data;
  frame->payload = data + THECAL_FRAME_HEADER_SIZE;
  frame->size = size;

  if (frame->version != THECAL_PROTO_VERSION)
    return THECAL_FRAME_BAD_VERSION;
  if (!thecal_msg_type_is_known (frame->type))
    return THECAL_FRAME_BAD_TYPE;
  if (!thecal_frame_flags_valid (frame->type, frame->flags))
    return THECAL_FRAME_BAD_FLAGS;
  return THECAL_FRAME_OK;
}

void
thecal_frame_write_header (uint8_t type, uint8_t flags, uint32_t seq, uint16_t payload_length, uint8_t *out)
{
  out[0] = THECAL_FRAME_MAGIC_0;
  out[1] = THECAL_FRAME_MAGIC_1;
  out[2] = THECAL_PROTO_VERSION;
  out[3] = type;
  out[4] = flags;
  _thecal_store_u32 (out + 5, seq);
  _thecal_store_u16 (out + 9, payload_length);
}

void
thecal_frame_write_crc (uint8_t *frame, size_t length_without_crc)
{
  _thecal_store_u32 (frame + length_without_crc, thecal_crc32 (frame, length_without_crc));
}

bool
thecal_frame_encode (uint8_t type,
                     uint8_t flags,
                     uint32_t seq,
                     const uint8_t *payload,
                     size_t payload_length,
                     uint8_t *out,
                     size_t capacity,
                     size_t *out_length)
{
  size_t size;

  if (out_length != NULL)
    *out_length = 0;
  if (out == NULL || (payload == NULL && payload_length > 0))
    return false;
  if (payload_length > THECAL_FRAME_PAYLOAD_MAX)
    return false;
  size = THECAL_FRAME_OVERHEAD + payload_length;
  if (size > capacity)
    return false;
  if (!thecal_msg_type_is_known (type) || !thecal_frame_flags_valid (type, flags))
    return false;
  thecal_frame_write_header (type, flags, seq, (uint16_t) payload_length, out);
  if (payload_length > 0)
    memmove (out + THECAL_FRAME_HEADER_SIZE, payload, payload_length);
  thecal_frame_write_crc (out, THECAL_FRAME_HEADER_SIZE + payload_length);
  if (out_length != NULL)
    *out_length = size;
  return true;
}

const char *
thecal_frame_status_name (ThecalFrameStatus status)
{
  switch (status)
    {
    case THECAL_FRAME_OK:
      return "OK";
    case THECAL_FRAME_NEED_MORE:
      return "NEED_MORE";
    case THECAL_FRAME_TOO_LONG:
      return "TOO_LONG";
    case THECAL_FRAME_BAD_MAGIC:
      return "BAD_MAGIC";
    case THECAL_FRAME_TRAILING_BYTES:
      return "TRAILING_BYTES";
    case THECAL_FRAME_BAD_CRC:
      return "BAD_CRC";
    case THECAL_FRAME_BAD_VERSION:
      return "BAD_VERSION";
    case THECAL_FRAME_BAD_TYPE:
      return "BAD_TYPE";
    case THECAL_FRAME_BAD_FLAGS:
      return "BAD_FLAGS";
    default:
      return "?";
    }
}
