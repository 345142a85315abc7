/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-proto.c: shared helpers: errors, names, the little-endian writer and reader.
 */
#include "config.h"

#include "thecal-proto-private.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
thecal_proto_random_sodium (void *user_data, uint8_t *buffer, size_t length)
{
  (void) user_data;
  randombytes_buf (buffer, length);
}

bool
thecal_proto_init (void)
{
  /* 0: initialised now, 1: already initialised, -1: failure (TESTING.md) */
  return sodium_init () >= 0;
}

bool
thecal_proto_error_set (ThecalProtoError *error, ThecalProtoErrorCode code, uint16_t detail, const char *format, ...)
{
  va_list args;

  if (error == NULL)
    return false;
  error->code = code;
  error->detail = detail;
  va_start (args, format);
  vsnprintf (error->reason, sizeof error->reason, format, args);
  va_end (args);
  for (size_t i = 0; i < sizeof error->reason && error->reason[i] != '\0'; i++)
    if ((unsigned char) error->reason[i] < 0x20 || (unsigned char) error->reason[i] > 0x7E)
      error->reason[i] = '?';
  return false;
}

void
thecal_proto_error_clear (ThecalProtoError *error)
{
  if (error != NULL)
    memset (error, 0, sizeof *error);
}

bool
thecal_checksum_equal (const ThecalChecksum *a, const ThecalChecksum *b)
{
  return sodium_memcmp (a->bytes, b->bytes, sizeof a->bytes) == 0;
}

void
thecal_checksum_to_hex (const ThecalChecksum *checksum, char out[2 * THECAL_CHECKSUM_SIZE + 1])
{
  sodium_bin2hex (out, 2 * THECAL_CHECKSUM_SIZE + 1, checksum->bytes, sizeof checksum->bytes);
}

const char *
thecal_msg_type_name (uint8_t type)
{
  switch ((ThecalMsgType) type)
    {
    case THECAL_MSG_IDENTIFY:
      return "IDENTIFY";
    case THECAL_MSG_HELLO:
      return "HELLO";
    case THECAL_MSG_AUTH:
      return "AUTH";
    case THECAL_MSG_CLOSE:
      return "CLOSE";
    case THECAL_MSG_READ_STATUS:
      return "READ_STATUS";
    case THECAL_MSG_READ_PRESCRIPTION:
      return "READ_PRESCRIPTION";
    case THECAL_MSG_READ_STAGED:
      return "READ_STAGED";
    case THECAL_MSG_READ_LOG:
      return "READ_LOG";
    case THECAL_MSG_STAGE:
      return "STAGE";
    case THECAL_MSG_COMMIT:
      return "COMMIT";
    case THECAL_MSG_CANCEL_STAGED:
      return "CANCEL_STAGED";
    case THECAL_MSG_REFILL_COMMIT:
      return "REFILL_COMMIT";
    case THECAL_MSG_SET_RESERVOIR:
      return "SET_RESERVOIR";
    case THECAL_MSG_START_BOLUS:
      return "START_BOLUS";
    case THECAL_MSG_CANCEL_BOLUS:
      return "CANCEL_BOLUS";
    case THECAL_MSG_SET_PTM:
      return "SET_PTM";
    case THECAL_MSG_SET_CLOCK:
      return "SET_CLOCK";
    case THECAL_MSG_ACK_ALARM:
      return "ACK_ALARM";
    case THECAL_MSG_WAND_INFO:
      return "WAND_INFO";
    case THECAL_MSG_WAND_LINK:
      return "WAND_LINK";
    case THECAL_MSG_ERROR:
      return "ERROR";
    default:
      return "?";
    }
}

bool
thecal_msg_type_is_known (uint8_t type)
{
  return strcmp (thecal_msg_type_name (type), "?") != 0;
}

bool
thecal_msg_type_is_wand_local (uint8_t type)
{
  return type == THECAL_MSG_WAND_INFO || type == THECAL_MSG_WAND_LINK;
}

bool
thecal_msg_type_needs_session (uint8_t type)
{
  return thecal_msg_type_is_known (type) && type != THECAL_MSG_IDENTIFY && type != THECAL_MSG_HELLO
         && type != THECAL_MSG_ERROR && !thecal_msg_type_is_wand_local (type);
}

bool
thecal_msg_type_changes_pump (uint8_t type)
{
  switch ((ThecalMsgType) type)
    {
    case THECAL_MSG_COMMIT:
    case THECAL_MSG_REFILL_COMMIT:
    case THECAL_MSG_SET_RESERVOIR:
    case THECAL_MSG_START_BOLUS:
    case THECAL_MSG_CANCEL_BOLUS:
    case THECAL_MSG_SET_PTM:
    case THECAL_MSG_SET_CLOCK:
    case THECAL_MSG_ACK_ALARM:
      return true;
    /* STAGE and CANCEL_STAGED change the staged copy, never what runs. */
    case THECAL_MSG_IDENTIFY:
    case THECAL_MSG_HELLO:
    case THECAL_MSG_AUTH:
    case THECAL_MSG_CLOSE:
    case THECAL_MSG_READ_STATUS:
    case THECAL_MSG_READ_PRESCRIPTION:
    case THECAL_MSG_READ_STAGED:
    case THECAL_MSG_READ_LOG:
    case THECAL_MSG_STAGE:
    case THECAL_MSG_CANCEL_STAGED:
    case THECAL_MSG_WAND_INFO:
    case THECAL_MSG_WAND_LINK:
    case THECAL_MSG_ERROR:
    default:
      return false;
    }
}

const char *
thecal_proto_error_code_name (ThecalProtoErrorCode code)
{
  switch (code)
    {
    case THECAL_PROTO_OK:
      return "OK";
    case THECAL_PROTO_ERROR_BAD_FRAME:
      return "BAD_FRAME";
    case THECAL_PROTO_ERROR_UNSUPPORTED_VERSION:
      return "UNSUPPORTED_VERSION";
    case THECAL_PROTO_ERROR_UNKNOWN_TYPE:
      return "UNKNOWN_TYPE";
    case THECAL_PROTO_ERROR_BAD_REQUEST:
      return "BAD_REQUEST";
    case THECAL_PROTO_ERROR_NOT_AUTHENTICATED:
      return "NOT_AUTHENTICATED";
    case THECAL_PROTO_ERROR_WRONG_KEY:
      return "WRONG_KEY";
    case THECAL_PROTO_ERROR_REPLAYED:
      return "REPLAYED";
    case THECAL_PROTO_ERROR_SEQUENCE_REUSED:
      return "SEQUENCE_REUSED";
    case THECAL_PROTO_ERROR_STALE_CHECKSUM:
      return "STALE_CHECKSUM";
    case THECAL_PROTO_ERROR_NOTHING_STAGED:
      return "NOTHING_STAGED";
    case THECAL_PROTO_ERROR_STAGED_MISMATCH:
      return "STAGED_MISMATCH";
    case THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT:
      return "REFUSED_BY_PUMP_LIMIT";
    case THECAL_PROTO_ERROR_BUSY:
      return "BUSY";
    case THECAL_PROTO_ERROR_PUMP_FAULT:
      return "PUMP_FAULT";
    case THECAL_PROTO_ERROR_REFUSED:
      return "REFUSED";
    case THECAL_PROTO_ERROR_INTERNAL:
      return "INTERNAL";
    case THECAL_PROTO_ERROR_WRONG_DESTINATION:
      return "WRONG_DESTINATION";
    case THECAL_PROTO_ERROR_TIMEOUT:
      return "TIMEOUT";
    case THECAL_PROTO_ERROR_BAD_REPLY:
      return "BAD_REPLY";
    case THECAL_PROTO_ERROR_WRONG_PUMP:
      return "WRONG_PUMP";
    case THECAL_PROTO_ERROR_NO_KEY:
      return "NO_KEY";
    case THECAL_PROTO_ERROR_SESSION_LOST:
      return "SESSION_LOST";
    case THECAL_PROTO_ERROR_INVALID:
      return "INVALID";
    case THECAL_PROTO_ERROR_BUSY_LOCAL:
      return "BUSY_LOCAL";
    default:
      return "?";
    }
}

const char *
thecal_pump_limit_name (ThecalPumpLimit limit)
{
  switch (limit)
    {
    case THECAL_PUMP_LIMIT_NONE:
      return "none";
    case THECAL_PUMP_LIMIT_RATE_BELOW_MIN:
      return "rate_below_min";
    case THECAL_PUMP_LIMIT_RATE_ABOVE_MAX:
      return "rate_above_max";
    case THECAL_PUMP_LIMIT_BOLUS_RATE:
      return "bolus_rate";
    case THECAL_PUMP_LIMIT_RESERVOIR_CAPACITY:
      return "reservoir_capacity";
    case THECAL_PUMP_LIMIT_CONCENTRATION:
      return "concentration";
    case THECAL_PUMP_LIMIT_DRUG:
      return "drug";
    case THECAL_PUMP_LIMIT_CLOCK:
      return "clock";
    case THECAL_PUMP_LIMIT_VOLUME:
      return "volume";
    case THECAL_PUMP_LIMIT_OTHER:
      return "other";
    default:
      return "?";
    }
}

/* ---- writer ---------------------------------------------------------------------------------- */

void
_thecal_writer_init (ThecalWriter *writer, uint8_t *data, size_t capacity)
{
  writer->data = data;
  writer->capacity = data != NULL ? capacity : 0;
  writer->length = 0;
  writer->ok = true;
}

void
_thecal_put_bytes (ThecalWriter *writer, const uint8_t *bytes, size_t length)
{
  if (!writer->ok || length > writer->capacity - writer->length)
    {
      writer->ok = false;
      return;
    }
  if (length > 0)
    memcpy (writer->data + writer->length, bytes, length);
  writer->length += length;
}

void
_thecal_put_u8 (ThecalWriter *writer, uint8_t value)
{
  _thecal_put_bytes (writer, &value, 1);
}

void
_thecal_put_u16 (ThecalWriter *writer, uint16_t value)
{
  uint8_t b[2];

  _thecal_store_u16 (b, value);
  _thecal_put_bytes (writer, b, sizeof b);
}

void
_thecal_put_u32 (ThecalWriter *writer, uint32_t value)
{
  uint8_t b[4];

  _thecal_store_u32 (b, value);
  _thecal_put_bytes (writer, b, sizeof b);
}

void
_thecal_put_i16 (ThecalWriter *writer, int16_t value)
{
  _thecal_put_u16 (writer, (uint16_t) value); /* two's complement, C17 conversion is modular */
}

void
_thecal_put_i32 (ThecalWriter *writer, int32_t value)
{
  _thecal_put_u32 (writer, (uint32_t) value);
}

void
_thecal_put_i64 (ThecalWriter *writer, int64_t value)
{
  uint64_t u = (uint64_t) value;
  uint8_t b[8];

  for (int i = 0; i < 8; i++)
    b[i] = (uint8_t) (u >> (8 * i));
  _thecal_put_bytes (writer, b, sizeof b);
}

void
_thecal_put_bool (ThecalWriter *writer, bool value)
{
  _thecal_put_u8 (writer, value ? 1 : 0);
}

void
_thecal_put_text (ThecalWriter *writer, const char *text)
{
  size_t length = strlen (text);

  if (length > UINT8_MAX)
    {
      writer->ok = false;
      return;
    }
  _thecal_put_u8 (writer, (uint8_t) length);
  _thecal_put_bytes (writer, (const uint8_t *) text, length);
}

/* ---- reader ---------------------------------------------------------------------------------- */

void
_thecal_reader_init (ThecalReader *reader, const uint8_t *data, size_t length)
{
  reader->data = data;
  reader->length = data != NULL ? length : 0;
  reader->offset = 0;
  reader->ok = true;
}

void
_thecal_get_bytes (ThecalReader *reader, uint8_t *out, size_t length)
{
  if (!reader->ok || length > reader->length - reader->offset)
    {
      reader->ok = false;
      memset (out, 0, length);
      return;
    }
  if (length > 0)
    memcpy (out, reader->data + reader->offset, length);
  reader->offset += length;
}

uint8_t
_thecal_get_u8 (ThecalReader *reader)
{
  uint8_t b = 0;

  _thecal_get_bytes (reader, &b, 1);
  return b;
}

uint16_t
_thecal_get_u16 (ThecalReader *reader)
{
  uint8_t b[2];

  _thecal_get_bytes (reader, b, sizeof b);
  return _thecal_load_u16 (b);
}

uint32_t
_thecal_get_u32 (ThecalReader *reader)
{
  uint8_t b[4];

  _thecal_get_bytes (reader, b, sizeof b);
  return _thecal_load_u32 (b);
}

int16_t
_thecal_get_i16 (ThecalReader *reader)
{
  uint16_t u = _thecal_get_u16 (reader);

  /* two's complement without implementation-defined conversion */
  return u <= INT16_MAX ? (int16_t) u : (int16_t) (-(int32_t) (UINT16_MAX - u) - 1);
}

int32_t
_thecal_get_i32 (ThecalReader *reader)
{
  uint32_t u = _thecal_get_u32 (reader);

  return u <= INT32_MAX ? (int32_t) u : (int32_t) (-(int64_t) (UINT32_MAX - u) - 1);
}

int64_t
_thecal_get_i64 (ThecalReader *reader)
{
  uint8_t b[8];
  uint64_t u = 0;

  _thecal_get_bytes (reader, b, sizeof b);
  for (int i = 0; i < 8; i++)
    u |= (uint64_t) b[i] << (8 * i);
  return u <= INT64_MAX ? (int64_t) u : -(int64_t) (UINT64_MAX - u) - 1;
}

bool
_thecal_get_bool (ThecalReader *reader)
{
  uint8_t b = _thecal_get_u8 (reader);

  if (b > 1)
    reader->ok = false;
  return b == 1;
}

void
_thecal_get_text (ThecalReader *reader, char *out, size_t capacity)
{
  size_t length;

  memset (out, 0, capacity);
  length = _thecal_get_u8 (reader);
  if (!reader->ok || length >= capacity || length > reader->length - reader->offset)
    {
      reader->ok = false;
      return;
    }
  for (size_t i = 0; i < length; i++)
    {
      uint8_t c = reader->data[reader->offset + i];

      if (c < 0x20 || c > 0x7E)
        {
          reader->ok = false;
          memset (out, 0, capacity);
          return;
        }
      out[i] = (char) c;
    }
  reader->offset += length;
}

bool
_thecal_reader_done (const ThecalReader *reader)
{
  return reader->ok && reader->offset == reader->length;
}

bool
_thecal_text_valid (const char *text, size_t capacity)
{
  for (size_t i = 0; i < capacity; i++)
    {
      unsigned char c = (unsigned char) text[i];

      if (c == '\0')
        return true;
      if (c < 0x20 || c > 0x7E)
        return false;
    }
  return false; /* no NUL within the capacity */
}

void
_thecal_store_u16 (uint8_t *out, uint16_t value)
{
  out[0] = (uint8_t) value;
  out[1] = (uint8_t) (value >> 8);
}

void
_thecal_store_u32 (uint8_t *out, uint32_t value)
{
  for (int i = 0; i < 4; i++)
    out[i] = (uint8_t) (value >> (8 * i));
}

uint16_t
_thecal_load_u16 (const uint8_t *in)
{
  return (uint16_t) (in[0] | (in[1] << 8));
}

uint32_t
_thecal_load_u32 (const uint8_t *in)
{
  return (uint32_t) in[0] | ((uint32_t) in[1] << 8) | ((uint32_t) in[2] << 16) | ((uint32_t) in[3] << 24);
}

void
_thecal_digest16 (const uint8_t *data, size_t length, uint8_t out[16])
{
  crypto_generichash (out, 16, data, length, NULL, 0);
}
