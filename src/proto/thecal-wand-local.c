/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-wand-local.c: the wand's own answers.
 *
 * The bodies are small and written here directly (the layouts of docs/protocol.md, checked
 * against thecal_message_decode by tests/proto/test-wand-local.c), so this needs no
 * ThecalMessage: it can run on any thread with a small stack and keeps no state.
 */
#include "config.h"

#include "thecal-proto-private.h"
#include "thecal-wand-local.h"

#include <string.h>

bool
thecal_wand_local_answer (const uint8_t *frame,
                          size_t frame_length,
                          const ThecalWandInfo *info,
                          const ThecalWandLink *link,
                          uint8_t *out,
                          size_t capacity,
                          size_t *out_length)
{
  uint8_t body[128];
  ThecalWriter w;
  ThecalFrame decoded;
  uint8_t type, flags = THECAL_FRAME_FLAG_RESPONSE;

  if (out_length != NULL)
    *out_length = 0;
  if (thecal_frame_decode (frame, frame_length, &decoded) != THECAL_FRAME_OK
      || !thecal_msg_type_is_wand_local (decoded.type) || (decoded.flags & THECAL_FRAME_FLAG_RESPONSE) != 0)
    return false;

  _thecal_writer_init (&w, body, sizeof body);
  _thecal_put_u8 (&w, THECAL_MSG_VERSION);
  type = decoded.type;
  if ((decoded.flags & THECAL_FRAME_FLAG_ENCRYPTED) != 0 || decoded.length != 1 || decoded.payload[0] != THECAL_MSG_VERSION)
    {
      /* a malformed wand-local request is still the wand's to answer */
      const char *reason = decoded.type == THECAL_MSG_WAND_INFO ? "malformed WAND_INFO request" : "malformed WAND_LINK request";

      type = THECAL_MSG_ERROR;
      flags |= THECAL_FRAME_FLAG_ERROR;
      _thecal_put_u8 (&w, decoded.type);
      _thecal_put_u8 (&w, THECAL_PROTO_ERROR_BAD_REQUEST);
      _thecal_put_u16 (&w, 0);
      _thecal_put_text (&w, reason);
    }
  else if (decoded.type == THECAL_MSG_WAND_INFO)
    {
      if (info == NULL || !_thecal_text_valid (info->serial, sizeof info->serial) || info->serial[0] == '\0'
          || !_thecal_text_valid (info->firmware_version, sizeof info->firmware_version) || info->firmware_version[0] == '\0')
        return false;
      _thecal_put_text (&w, info->serial);
      _thecal_put_text (&w, info->firmware_version);
      _thecal_put_u8 (&w, info->protocol_version);
    }
  else
    {
      if (link == NULL || link->quality_percent > 100)
        return false;
      _thecal_put_i16 (&w, link->rssi_dbm);
      _thecal_put_u8 (&w, link->quality_percent);
      _thecal_put_bool (&w, link->pump_in_range);
    }
  if (!w.ok)
    return false;
  return thecal_frame_encode (type, flags, decoded.seq, body, w.length, out, capacity, out_length);
}
