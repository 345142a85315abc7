/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * fuzz-message.c: libFuzzer target for the message decoders (thecal-message.h).
 *
 * Input: byte 0 = message type, byte 1 bit 0 = answer (1) or request (0), bit 1 = decode the rest
 * as a bare prescription encoding instead; the rest is the body.
 * Invariants (abort () if broken):
 *  - success: encoding the decoded message gives the identical bytes (the encoding is
 *    canonical), and decoding those again gives the identical struct;
 *  - a decoded prescription has a checksum, and survives the same round trip;
 *  - failure: an explained error.
 */
#include "config.h"

#include "thecal-message.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static ThecalMessage first;
static ThecalMessage second;
static uint8_t encoded[THECAL_FRAME_MAX];

static void
explained (const ThecalProtoError *error)
{
  if (error->code == THECAL_PROTO_OK || error->reason[0] == '\0' || memchr (error->reason, '\0', sizeof error->reason) == NULL)
    abort ();
}

static void
check_prescription (const uint8_t *body, size_t size)
{
  ThecalPrescription rx, rx2;
  ThecalProtoError error;
  ThecalChecksum checksum;
  uint8_t out[THECAL_PRESCRIPTION_ENCODING_MAX];
  size_t length = 0;

  memset (&error, 0, sizeof error);
  if (!thecal_prescription_decode (body, size, &rx, &error))
    {
      explained (&error);
      return;
    }
  if (!thecal_prescription_encode (&rx, out, sizeof out, &length, NULL) || length != size || memcmp (out, body, size) != 0)
    abort ();
  if (!thecal_prescription_decode (out, length, &rx2, NULL) || memcmp (&rx, &rx2, sizeof rx) != 0)
    abort ();
  if (!thecal_prescription_checksum (&rx, &checksum, NULL) || !thecal_prescription_equal (&rx, &rx2))
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  ThecalProtoError error;
  size_t length = 0;
  uint8_t type;
  bool response;

  if (size < 2)
    return 0;
  type = data[0];
  response = (data[1] & 1) != 0;
  if (data[1] & 2)
    {
      check_prescription (data + 2, size - 2);
      return 0;
    }
  memset (&error, 0, sizeof error);
  if (!thecal_message_decode (type, response, data + 2, size - 2, &first, &error))
    {
      explained (&error);
      return 0;
    }
  if (first.type != type || first.response != response)
    abort ();
  if (!thecal_message_encode (&first, encoded, sizeof encoded, &length, &error))
    abort ();
  if (length != size - 2 || memcmp (encoded, data + 2, length) != 0)
    abort ();
  if (!thecal_message_decode (type, response, encoded, length, &second, &error))
    abort ();
  if (memcmp (&first, &second, sizeof first) != 0)
    abort ();
  return 0;
}
