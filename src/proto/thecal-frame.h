/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-frame.h: the frame codec (docs/protocol.md "Frames").
 *
 *   offset  size  field
 *   0       2     magic 0x54 0x48 ("TH")
 *   2       1     version (THECAL_PROTO_VERSION)
 *   3       1     type (ThecalMsgType)
 *   4       1     flags (THECAL_FRAME_FLAG_*)
 *   5       4     sequence, u32 little-endian
 *   9       2     payload length, u16 little-endian
 *   11      n     payload (a message body, or its AEAD ciphertext and tag)
 *   11+n    4     CRC-32 (IEEE 802.3), little-endian, over bytes 0 .. 11+n−1
 *
 * A frame is at most THECAL_FRAME_MAX bytes; the decoder checks that before anything else, and
 * checks every length against the buffer before it reads.
 */
#pragma once

#include "thecal-proto.h"

#ifdef __cplusplus
extern "C"
{
#endif

#define THECAL_FRAME_MAGIC_0 0x54 /* 'T' */
#define THECAL_FRAME_MAGIC_1 0x48 /* 'H' */
#define THECAL_FRAME_HEADER_SIZE 11
#define THECAL_FRAME_CRC_SIZE 4
#define THECAL_FRAME_OVERHEAD (THECAL_FRAME_HEADER_SIZE + THECAL_FRAME_CRC_SIZE)
/* 64 KiB: one frame carries a full interrogation's log batch (DESIGN.md performance targets:
 * one round trip per message type). */
#define THECAL_FRAME_MAX 65536
#define THECAL_FRAME_PAYLOAD_MAX (THECAL_FRAME_MAX - THECAL_FRAME_OVERHEAD)

#define THECAL_FRAME_FLAG_ENCRYPTED 0x01 /* payload = AEAD ciphertext + 16-byte tag */
#define THECAL_FRAME_FLAG_RESPONSE 0x02  /* an answer (the responder never answers one) */
#define THECAL_FRAME_FLAG_ERROR 0x04     /* set exactly when the type is ERROR */
#define THECAL_FRAME_FLAGS_KNOWN 0x07

  typedef enum
  {
    THECAL_FRAME_OK = 0,
    THECAL_FRAME_NEED_MORE,      /* fewer bytes than the header, or than its length announces */
    THECAL_FRAME_TOO_LONG,       /* the length announces a frame above THECAL_FRAME_MAX */
    THECAL_FRAME_BAD_MAGIC,      /* not the start of a frame */
    THECAL_FRAME_TRAILING_BYTES, /* the buffer is longer than the frame */
    THECAL_FRAME_BAD_CRC,        /* corrupted */
    /* The header below is intact (CRC good) and filled in, so a responder can answer it. */
    THECAL_FRAME_BAD_VERSION, /* a version this codec does not speak */
    THECAL_FRAME_BAD_TYPE,    /* a message type this codec does not know */
    THECAL_FRAME_BAD_FLAGS,   /* unknown flag bits, or ERROR flag and type disagree */
  } ThecalFrameStatus;

  typedef struct
  {
    uint8_t version;
    uint8_t type;
    uint8_t flags;
    uint32_t seq;
    uint16_t length;        /* payload bytes */
    const uint8_t *header;  /* the 11 header bytes in the caller's buffer: the AEAD associated data */
    const uint8_t *payload; /* @length bytes in the caller's buffer */
    size_t size;            /* the whole frame: header + payload + CRC */
  } ThecalFrame;

  /* How long the frame starting at @data is, once its header is there: a transport finds frame
   * boundaries in a byte stream with this. OK: *@frame_size is set (it may exceed @length: read
   * more). NEED_MORE: fewer than THECAL_FRAME_HEADER_SIZE bytes. TOO_LONG, BAD_MAGIC: not a frame
   * start (a stream transport drops one byte and looks again). */
  ThecalFrameStatus thecal_frame_peek_size (const uint8_t *data, size_t length, size_t *frame_size);

  /* Decodes exactly one frame occupying all of @data[0 .. @length). Order of the checks: header
   * present, magic, maximum size, length against the buffer, no trailing bytes, CRC, version,
   * type, flags. @frame is zeroed first and filled from BAD_VERSION on. */
  ThecalFrameStatus thecal_frame_decode (const uint8_t *data, size_t length, ThecalFrame *frame);

  /* Writes a frame around @payload into @out. False (nothing usable written) when the frame
   * would exceed THECAL_FRAME_MAX or @capacity, or @type/@flags break the rules. */
  bool thecal_frame_encode (uint8_t type,
                            uint8_t flags,
                            uint32_t seq,
                            const uint8_t *payload,
                            size_t payload_length,
                            uint8_t *out,
                            size_t capacity,
                            size_t *out_length);

  /* The 11 header bytes for a payload of @payload_length (the session module needs them as
   * associated data before it encrypts). @out holds THECAL_FRAME_HEADER_SIZE bytes. */
  void thecal_frame_write_header (uint8_t type, uint8_t flags, uint32_t seq, uint16_t payload_length, uint8_t *out);

  /* Appends the CRC of @frame[0 .. @length_without_crc) at @frame[@length_without_crc]. */
  void thecal_frame_write_crc (uint8_t *frame, size_t length_without_crc);

  /* CRC-32 as in IEEE 802.3 / zlib: reflected polynomial 0xEDB88320, initial value and final
   * XOR 0xFFFFFFFF. thecal_crc32 ("123456789") == 0xCBF43926. */
  uint32_t thecal_crc32 (const uint8_t *data, size_t length);

  /* The flags rule for a type: unknown bits refused; ERROR flag iff type ERROR; ERROR only as a
   * response. (Whether a type must be encrypted is the roles' rule: they answer it.) */
  bool thecal_frame_flags_valid (uint8_t type, uint8_t flags);

  const char *thecal_frame_status_name (ThecalFrameStatus status); /* "BAD_CRC" */

#ifdef __cplusplus
}
#endif
