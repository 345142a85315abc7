/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-session.h: the secure session's primitives (docs/protocol.md "Security").
 *
 * Each pump holds a 256-bit key paired with the clinic (CLINICAL.md §4.2: telemetry without
 * authentication let anyone replay a bolus, CVE-2018-14781, or change settings, CVE-2019-10964).
 *
 *   session key = BLAKE2b-256, keyed with the pump key, over
 *                 "THECAL-SESSION-1" (16 ASCII bytes)
 *                 ‖ u16 LE length of the HELLO body ‖ the HELLO body (holds the programmer nonce)
 *                 ‖ u16 LE length of the HELLO answer body ‖ that body (the pump nonce, identity)
 *   AEAD        = XChaCha20-Poly1305-IETF (libsodium crypto_aead_xchacha20poly1305_ietf), the
 *                 11 header bytes as associated data, the 16-byte tag after the ciphertext
 *   AEAD nonce  = 24 bytes: direction (0x01 programmer → pump, 0x02 pump → programmer),
 *                 sequence u32 LE, 19 zero bytes. Never sent; both sides compute it.
 *
 * A nonce is never used twice with different plaintexts under one session key: each side seals
 * at most one frame per (direction, sequence), and resends that same frame byte for byte when it
 * has to repeat itself. Each session has fresh nonces from both sides, hence its own key.
 */
#pragma once

#include "thecal-frame.h"
#include "thecal-proto.h"

#ifdef __cplusplus
extern "C"
{
#endif

#define THECAL_AEAD_TAG_SIZE 16
#define THECAL_AEAD_NONCE_SIZE 24
#define THECAL_SESSION_LABEL "THECAL-SESSION-1"
#define THECAL_SESSION_LABEL_SIZE 16

  typedef enum
  {
    THECAL_DIRECTION_TO_PUMP = 0x01,
    THECAL_DIRECTION_TO_PROGRAMMER = 0x02,
  } ThecalDirection;

  /* The session key from the pump key and the two handshake bodies, exactly as above. */
  void thecal_session_derive_key (const uint8_t pump_key[THECAL_KEY_SIZE],
                                  const uint8_t *hello_body,
                                  size_t hello_length,
                                  const uint8_t *reply_body,
                                  size_t reply_length,
                                  uint8_t session_key[THECAL_KEY_SIZE]);

  void thecal_session_nonce (ThecalDirection direction, uint32_t seq, uint8_t nonce[THECAL_AEAD_NONCE_SIZE]);

  /* Builds a whole encrypted frame (@flags gains THECAL_FRAME_FLAG_ENCRYPTED): header with the
   * ciphertext length, ciphertext + tag, CRC. False when it would not fit @capacity or the
   * frame maximum, or @type/@flags break the frame rules. */
  bool thecal_session_seal (const uint8_t key[THECAL_KEY_SIZE],
                            ThecalDirection direction,
                            uint8_t type,
                            uint8_t flags,
                            uint32_t seq,
                            const uint8_t *plain,
                            size_t plain_length,
                            uint8_t *out,
                            size_t capacity,
                            size_t *out_length);

  /* Authenticates and decrypts a decoded frame into @plain. False when the frame is not marked
   * encrypted, is shorter than a tag, does not fit @capacity, or fails authentication (wrong key,
   * wrong direction or sequence, any changed byte of header or payload); @plain is then zeroed. */
  bool thecal_session_open (const uint8_t key[THECAL_KEY_SIZE],
                            ThecalDirection direction,
                            const ThecalFrame *frame,
                            uint8_t *plain,
                            size_t capacity,
                            size_t *plain_length);

  /* Where a request's sequence stands against the last one processed in the session. */
  typedef enum
  {
    THECAL_SEQ_FRESH = 0, /* higher: process it */
    THECAL_SEQ_SAME,      /* equal: a retransmission (answer it from the cache) */
    THECAL_SEQ_OLD,       /* lower: a replay or a reordering (refuse it) */
  } ThecalSeqOrder;

  ThecalSeqOrder thecal_session_seq_order (uint32_t last_processed, uint32_t seq);

#ifdef __cplusplus
}
#endif
