/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * fuzz-frame.c: libFuzzer target for the frame codec (thecal-frame.h).
 *
 * The input is fed (1) as one frame to thecal_frame_decode and (2) as a byte stream to a
 * deframer built on thecal_frame_peek_size, the way a transport finds frame boundaries.
 * Invariants (abort () if broken):
 *  - decode OK: peek agrees on the size, the fields lie inside the input, and encoding the same
 *    fields again gives the identical bytes;
 *  - BAD_VERSION, BAD_TYPE, BAD_FLAGS: the header was filled in (a responder can answer it);
 *  - peek OK: the size is within [THECAL_FRAME_OVERHEAD, THECAL_FRAME_MAX];
 *  - the deframer always makes progress and ends.
 */
#include "config.h"

#include "thecal-frame.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static uint8_t again[THECAL_FRAME_MAX];

static void
check_one (const uint8_t *data, size_t size)
{
  ThecalFrame frame;
  ThecalFrameStatus status = thecal_frame_decode (data, size, &frame);
  size_t peeked = 0, length = 0;

  switch (status)
    {
    case THECAL_FRAME_OK:
      if (thecal_frame_peek_size (data, size, &peeked) != THECAL_FRAME_OK || peeked != size || frame.size != size)
        abort ();
      if (frame.header != data || frame.payload != data + THECAL_FRAME_HEADER_SIZE
          || (size_t) frame.length + THECAL_FRAME_OVERHEAD != size)
        abort ();
      if (!thecal_frame_encode (frame.type, frame.flags, frame.seq, frame.payload, frame.length, again, sizeof again, &length))
        abort ();
      if (length != size || memcmp (again, data, size) != 0)
        abort ();
      break;
    case THECAL_FRAME_BAD_VERSION:
    case THECAL_FRAME_BAD_TYPE:
    case THECAL_FRAME_BAD_FLAGS:
      if (frame.header != data || frame.size != size)
        abort ();
      break;
    case THECAL_FRAME_NEED_MORE:
    case THECAL_FRAME_TOO_LONG:
    case THECAL_FRAME_BAD_MAGIC:
    case THECAL_FRAME_TRAILING_BYTES:
    case THECAL_FRAME_BAD_CRC:
      if (frame.header != NULL || frame.payload != NULL)
        abort ();
      break;
    default:
      abort ();
    }
}

/* A stream deframer: drop a byte on BAD_MAGIC/TOO_LONG, stop on NEED_MORE, take a frame on OK. */
static void
check_stream (const uint8_t *data, size_t size)
{
  size_t at = 0, turns = 0;

  while (at < size)
    {
      size_t frame_size = 0;
      ThecalFrameStatus status = thecal_frame_peek_size (data + at, size - at, &frame_size);
      ThecalFrame frame;

      if (++turns > size + 1)
        abort (); /* no progress */
      if (status == THECAL_FRAME_NEED_MORE)
        break;
      if (status != THECAL_FRAME_OK)
        {
          if (status != THECAL_FRAME_BAD_MAGIC && status != THECAL_FRAME_TOO_LONG)
            abort ();
          at++;
          continue;
        }
      if (frame_size < THECAL_FRAME_OVERHEAD || frame_size > THECAL_FRAME_MAX)
        abort ();
      if (frame_size > size - at)
        break; /* wait for the rest */
      status = thecal_frame_decode (data + at, frame_size, &frame);
      if (status == THECAL_FRAME_NEED_MORE || status == THECAL_FRAME_TRAILING_BYTES || status == THECAL_FRAME_TOO_LONG)
        abort (); /* peek and decode disagree on the size */
      at += status == THECAL_FRAME_BAD_CRC || status == THECAL_FRAME_BAD_MAGIC ? 1 : frame_size;
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  check_one (data, size);
  check_stream (data, size);
  return 0;
}
