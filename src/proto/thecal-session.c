/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-session.c: key derivation, the AEAD nonce, sealing and opening frames.
 */
#include "config.h"

#include "thecal-proto-private.h"
#include "thecal-session.h"

#include <sodium.h>
#include <string.h>

_Static_assert(THECAL_AEAD_TAG_SIZE == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag size");
_Static_assert(THECAL_AEAD_NONCE_SIZE == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce size");
_Static_assert(THECAL_KEY_SIZE == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key size");
_Static_assert(sizeof THECAL_SESSION_LABEL == THECAL_SESSION_LABEL_SIZE + 1, "label size");

void
thecal_session_derive_key (const uint8_t pump_key[THECAL_KEY_SIZE],
                           const uint8_t *hello_body,
                           size_t hello_length,
                           const uint8_t *reply_body,
                           size_t reply_length,
                           uint8_t session_key[THECAL_KEY_SIZE])
{
  crypto_generichash_state state;
  uint8_t length[2];

  crypto_generichash_init (&state, pump_key, THECAL_KEY_SIZE, THECAL_KEY_SIZE);
  crypto_generichash_update (&state, (const uint8_t *) THECAL_SESSION_LABEL, THECAL_SESSION_LABEL_SIZE);
  _thecal_store_u16 (length, (uint16_t) hello_length);
  crypto_generichash_update (&state, length, sizeof length);
  crypto_generichash_update (&state, hello_body, hello_length);
  _thecal_store_u16 (length, (uint16_t) reply_length);
  crypto_generichash_update (&state, length, sizeof length);
  crypto_generichash_update (&state, reply_body, reply_length);
  crypto_generichash_final (&state, session_key, THECAL_KEY_SIZE);
  sodium_memzero (&state, sizeof state);
}

void
thecal_session_nonce (ThecalDirection direction, uint32_t seq, uint8_t nonce[THECAL_AEAD_NONCE_SIZE])
{
  memset (nonce, 0, THECAL_AEAD_NONCE_SIZE);
  nonce[0] = (uint8_t) direction;
  _thecal_store_u32 (nonce + 1, seq);
}

bool
thecal_session_seal (const uint8_t key[THECAL_KEY_SIZE],
                     ThecalDirection direction,
                     uint8_t type,
                     uint8_t flags,
                     uint32_t seq,
                     const uint8_t *plain,
                     size_t plain_length,
                     uint8_t *out,
                     size_t capacity,
                     size_t *out_length)
{
  uint8_t nonce[THECAL_AEAD_NONCE_SIZE];
  unsigned long long cipher_length = 0;
  size_t payload_length, size;

  if (out_length != NULL)
    *out_length = 0;
  flags |= THECAL_FRAME_FLAG_ENCRYPTED;
  if (out == NULL || (plain == NULL && plain_length > 0))
    return false;
  if (plain_length > THECAL_FRAME_PAYLOAD_MAX - THECAL_AEAD_TAG_SIZE)
    return false;
  payload_length = plain_length + THECAL_AEAD_TAG_SIZE;
  size = THECAL_FRAME_OVERHEAD + payload_length;
  if (size > capacity || !thecal_msg_type_is_known (type) || !thecal_frame_flags_valid (type, flags))
    return false;

  thecal_frame_write_header (type, flags, seq, (uint16_t) payload_length, out);
  thecal_session_nonce (direction, seq, nonce);
  crypto_aead_xchacha20poly1305_ietf_encrypt (out + THECAL_FRAME_HEADER_SIZE, &cipher_length, plain, plain_length, out,
                                              THECAL_FRAME_HEADER_SIZE, NULL, nonce, key);
  if (cipher_length != payload_length)
    return false;
  thecal_frame_write_crc (out, THECAL_FRAME_HEADER_SIZE + payload_length);
  if (out_length != NULL)
    *out_length = size;
  return true;
}

bool
thecal_session_open (const uint8_t key[THECAL_KEY_SIZE],
                     ThecalDirection direction,
                     const ThecalFrame *frame,
                     uint8_t *plain,
                     size_t capacity,
                     size_t *plain_length)
{
  uint8_t nonce[THECAL_AEAD_NONCE_SIZE];
  unsigned long long length = 0;

  if (plain_length != NULL)
    *plain_length = 0;
  if (frame == NULL || frame->header == NULL || plain == NULL)
    return false;
  if ((frame->flags & THECAL_FRAME_FLAG_ENCRYPTED) == 0 || frame->length < THECAL_AEAD_TAG_SIZE)
    return false;
  if ((size_t) frame->length - THECAL_AEAD_TAG_SIZE > capacity)
    return false;
  thecal_session_nonce (direction, frame->seq, nonce);
  /* TESTING.md: on failure (-1) the output is garbage: check the result before anything else. */
  if (crypto_aead_xchacha20poly1305_ietf_decrypt (plain, &length, NULL, frame->payload, frame->length, frame->header,
                                                  THECAL_FRAME_HEADER_SIZE, nonce, key)
      != 0)
    {
      sodium_memzero (plain, (size_t) frame->length - THECAL_AEAD_TAG_SIZE);
      return false;
    }
  if (plain_length != NULL)
    *plain_length = (size_t) length;
  return true;
}

ThecalSeqOrder
thecal_session_seq_order (uint32_t last_processed, uint32_t seq)
{
  if (seq > last_processed)
    return THECAL_SEQ_FRESH;
  if (seq == last_processed)
    return THECAL_SEQ_SAME;
  return THECAL_SEQ_OLD;
}
