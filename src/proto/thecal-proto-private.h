/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-proto-private.h: the little-endian writer and reader every encoder and decoder uses.
 *
 * Both are bounds-checked cursors over a caller's buffer: a write past the capacity or a read
 * past the end sets ok = false and does nothing more, so an encoder or decoder checks once at
 * the end (and wherever a value steers what comes next).
 */
#pragma once

#include "thecal-proto.h"

typedef struct
{
  uint8_t *data;
  size_t capacity;
  size_t length;
  bool ok;
} ThecalWriter;

typedef struct
{
  const uint8_t *data;
  size_t length;
  size_t offset;
  bool ok;
} ThecalReader;

void _thecal_writer_init (ThecalWriter *writer, uint8_t *data, size_t capacity);
void _thecal_put_u8 (ThecalWriter *writer, uint8_t value);
void _thecal_put_u16 (ThecalWriter *writer, uint16_t value);
void _thecal_put_u32 (ThecalWriter *writer, uint32_t value);
void _thecal_put_i16 (ThecalWriter *writer, int16_t value);
void _thecal_put_i32 (ThecalWriter *writer, int32_t value);
void _thecal_put_i64 (ThecalWriter *writer, int64_t value);
void _thecal_put_bool (ThecalWriter *writer, bool value);
void _thecal_put_bytes (ThecalWriter *writer, const uint8_t *bytes, size_t length);
/* u8 length then the bytes, no NUL. The caller validated the text (_thecal_text_valid). */
void _thecal_put_text (ThecalWriter *writer, const char *text);

void _thecal_reader_init (ThecalReader *reader, const uint8_t *data, size_t length);
uint8_t _thecal_get_u8 (ThecalReader *reader);
uint16_t _thecal_get_u16 (ThecalReader *reader);
uint32_t _thecal_get_u32 (ThecalReader *reader);
int16_t _thecal_get_i16 (ThecalReader *reader);
int32_t _thecal_get_i32 (ThecalReader *reader);
int64_t _thecal_get_i64 (ThecalReader *reader);
/* A byte that must be 0 or 1: anything else clears ok. */
bool _thecal_get_bool (ThecalReader *reader);
void _thecal_get_bytes (ThecalReader *reader, uint8_t *out, size_t length);
/* u8 length (< @capacity), then that many printable ASCII bytes, copied with a NUL into @out
 * (zero-filled to @capacity). Anything else clears ok. */
void _thecal_get_text (ThecalReader *reader, char *out, size_t capacity);
/* The reader consumed every byte and never overran. */
bool _thecal_reader_done (const ThecalReader *reader);

/* NUL-terminated within @capacity, printable ASCII only (0x20..0x7E). */
bool _thecal_text_valid (const char *text, size_t capacity);

/* Little-endian stores and loads on raw bytes (frame headers). */
void _thecal_store_u16 (uint8_t *out, uint16_t value);
void _thecal_store_u32 (uint8_t *out, uint32_t value);
uint16_t _thecal_load_u16 (const uint8_t *in);
uint32_t _thecal_load_u32 (const uint8_t *in);

/* BLAKE2b-128 of @data: request digests (retransmission detection). */
void _thecal_digest16 (const uint8_t *data, size_t length, uint8_t out[16]);
