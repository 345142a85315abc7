/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-proto.h: what every part of the telemetry protocol shares (docs/protocol.md).
 *
 * src/proto is sans-I/O (DESIGN.md "Telemetry"): its objects take bytes and the current time in
 * and give bytes and results out. Pure C17 + libsodium: no GLib, no heap, no I/O, no threads, no
 * floating point. Every struct is owned by the caller.
 *
 * Layers (each its own header):
 *   thecal-frame.h       the frame codec: header, payload, CRC-32
 *   thecal-message.h     the messages: explicit little-endian bodies, one per type
 *   thecal-session.h     the secure session: key derivation, AEAD, nonces, sequence rules
 *   thecal-pump-role.h   the pump side: one request frame in, at most one answer frame out
 *   thecal-programmer.h  the programmer side: requests, retransmission, two-phase programming
 *   thecal-wand-local.h  the wand side: answers the wand-local messages, relays the rest
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C"
{
#endif

/* The protocol version: the frame header's version byte. */
#define THECAL_PROTO_VERSION 1
/* The version byte that starts every message body. */
#define THECAL_MSG_VERSION 1

#define THECAL_KEY_SIZE 32         /* a pump key and a session key: 256 bits */
#define THECAL_HELLO_NONCE_SIZE 32 /* each side's handshake nonce */
#define THECAL_CHECKSUM_SIZE 16    /* prescription checksum: BLAKE2b-128 of the canonical encoding */
#define THECAL_PROTO_TEXT_MAX 32   /* serials, firmware versions: at most 31 characters */
#define THECAL_PROTO_REASON_MAX 64 /* an error's reason: at most 63 characters */
#define THECAL_PROTO_SESSION_TIMEOUT_DEFAULT_MS INT64_C (60000)

  /* Message types: the frame header's type byte. A request and its answer have the same type;
   * the answer has the RESPONSE flag. An error answer has the type ERROR. */
  typedef enum
  {
    THECAL_MSG_IDENTIFY = 0x01,          /* clear: who are you (serial, model, protocol version) */
    THECAL_MSG_HELLO = 0x02,             /* clear: handshake, both nonces */
    THECAL_MSG_AUTH = 0x03,              /* encrypted: key confirmation, opens the session */
    THECAL_MSG_CLOSE = 0x04,             /* encrypted: ends the session */
    THECAL_MSG_READ_STATUS = 0x10,       /* encrypted */
    THECAL_MSG_READ_PRESCRIPTION = 0x11, /* encrypted: the active prescription and its checksum */
    THECAL_MSG_READ_STAGED = 0x12,       /* encrypted */
    THECAL_MSG_READ_LOG = 0x13,          /* encrypted: a batch of events from a sequence number */
    THECAL_MSG_STAGE = 0x20,             /* encrypted: changes nothing that runs */
    THECAL_MSG_COMMIT = 0x21,            /* encrypted: switches delivery atomically */
    THECAL_MSG_CANCEL_STAGED = 0x22,     /* encrypted */
    THECAL_MSG_REFILL_COMMIT = 0x23,     /* encrypted: sets the reservoir and switches delivery to the
                                            staged prescription for that fill, atomically */
    THECAL_MSG_SET_RESERVOIR = 0x30,     /* encrypted: after a refill */
    THECAL_MSG_START_BOLUS = 0x31,       /* encrypted: clinician, priming or bridge bolus */
    THECAL_MSG_CANCEL_BOLUS = 0x32,      /* encrypted */
    THECAL_MSG_SET_PTM = 0x33,           /* encrypted: the PTM settings of the active prescription */
    THECAL_MSG_SET_CLOCK = 0x34,         /* encrypted */
    THECAL_MSG_ACK_ALARM = 0x35,         /* encrypted */
    THECAL_MSG_WAND_INFO = 0x60,         /* clear, wand-local: wand serial and firmware version */
    THECAL_MSG_WAND_LINK = 0x61,         /* clear, wand-local: link quality */
    THECAL_MSG_ERROR = 0x7F,             /* answers only: a typed error */
  } ThecalMsgType;

  /* Error codes. Below 0x80 they travel in ERROR messages; from 0x80 on they are the
   * programmer's own findings and never appear on the wire. */
  typedef enum
  {
    THECAL_PROTO_OK = 0,
    THECAL_PROTO_ERROR_BAD_FRAME = 1,              /* flags or fields that break the frame rules */
    THECAL_PROTO_ERROR_UNSUPPORTED_VERSION = 2,    /* frame or message version unknown */
    THECAL_PROTO_ERROR_UNKNOWN_TYPE = 3,           /* message type unknown */
    THECAL_PROTO_ERROR_BAD_REQUEST = 4,            /* a body that does not decode or is invalid */
    THECAL_PROTO_ERROR_NOT_AUTHENTICATED = 5,      /* no session, or not authentic in it */
    THECAL_PROTO_ERROR_WRONG_KEY = 6,              /* AUTH failed: the pairing keys differ */
    THECAL_PROTO_ERROR_REPLAYED = 7,               /* sequence lower than the last processed */
    THECAL_PROTO_ERROR_SEQUENCE_REUSED = 8,        /* same sequence as the last, different content */
    THECAL_PROTO_ERROR_STALE_CHECKSUM = 9,         /* the active prescription is not the one named */
    THECAL_PROTO_ERROR_NOTHING_STAGED = 10,        /* COMMIT or READ_STAGED with nothing staged */
    THECAL_PROTO_ERROR_STAGED_MISMATCH = 11,       /* COMMIT names another staged checksum */
    THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT = 12, /* detail: ThecalPumpLimit */
    THECAL_PROTO_ERROR_BUSY = 13,                  /* e.g. a bolus runs */
    THECAL_PROTO_ERROR_PUMP_FAULT = 14,            /* end of service, memory error: cannot act */
    THECAL_PROTO_ERROR_REFUSED = 15,               /* refused for the reason given (e.g. alarm not raised) */
    THECAL_PROTO_ERROR_INTERNAL = 16,              /* the pump failed to answer properly */
    THECAL_PROTO_ERROR_WRONG_DESTINATION = 17,     /* a wand-local message reached the pump */
    THECAL_PROTO_ERROR_WIRE_MAX = 17,

    THECAL_PROTO_ERROR_TIMEOUT = 0x80,      /* no usable answer after every retransmission */
    THECAL_PROTO_ERROR_BAD_REPLY = 0x81,    /* an authentic answer that does not fit the request */
    THECAL_PROTO_ERROR_WRONG_PUMP = 0x82,   /* the pump is not the one expected (serial) */
    THECAL_PROTO_ERROR_NO_KEY = 0x83,       /* no pairing key for this pump */
    THECAL_PROTO_ERROR_SESSION_LOST = 0x84, /* the session ended in the middle of a procedure */
    THECAL_PROTO_ERROR_INVALID = 0x85,      /* a message or call argument that cannot be encoded */
    THECAL_PROTO_ERROR_BUSY_LOCAL = 0x86,   /* the programmer already has an operation under way */
  } ThecalProtoErrorCode;

  /* Which pump limit refused a request: the detail of REFUSED_BY_PUMP_LIMIT. */
  typedef enum
  {
    THECAL_PUMP_LIMIT_NONE = 0,
    THECAL_PUMP_LIMIT_RATE_BELOW_MIN = 1,     /* a basal rate below the model's minimum */
    THECAL_PUMP_LIMIT_RATE_ABOVE_MAX = 2,     /* a basal rate above the model's maximum */
    THECAL_PUMP_LIMIT_BOLUS_RATE = 3,         /* a bolus faster than the model's bolus ceiling */
    THECAL_PUMP_LIMIT_RESERVOIR_CAPACITY = 4, /* a volume above the reservoir's capacity */
    THECAL_PUMP_LIMIT_CONCENTRATION = 5,      /* a concentration the pump cannot hold */
    THECAL_PUMP_LIMIT_DRUG = 6,               /* the drug is not the one in the reservoir */
    THECAL_PUMP_LIMIT_CLOCK = 7,              /* a clock value out of range */
    THECAL_PUMP_LIMIT_VOLUME = 8,             /* more volume than the reservoir holds */
    THECAL_PUMP_LIMIT_OTHER = 9,
    THECAL_PUMP_LIMIT_MAX = 9,
  } ThecalPumpLimit;

  /* An error: the code, a detail (the limit for REFUSED_BY_PUMP_LIMIT, else 0) and a short
   * reason in printable ASCII. The same struct travels in ERROR messages. */
  typedef struct
  {
    ThecalProtoErrorCode code;
    uint16_t detail;
    char reason[THECAL_PROTO_REASON_MAX];
  } ThecalProtoError;

  typedef struct
  {
    uint8_t bytes[THECAL_CHECKSUM_SIZE];
  } ThecalChecksum;

  /* The source of random bytes (handshake nonces). Production: thecal_proto_random_sodium.
   * Tests and fuzzers pass a deterministic one so any session can be replayed. */
  typedef void (*ThecalRandomFunc) (void *user_data, uint8_t *buffer, size_t length);

  /* randombytes_buf (); @user_data is unused. */
  void thecal_proto_random_sodium (void *user_data, uint8_t *buffer, size_t length);

  /* Initialises libsodium (sodium_init). Safe to call again and from several places. */
  bool thecal_proto_init (void);

  /* Fills @error (if not NULL) and returns false. The reason is printf-formatted, truncated to
   * 63 characters, and every byte outside printable ASCII becomes '?'. */
  bool thecal_proto_error_set (ThecalProtoError *error,
                               ThecalProtoErrorCode code,
                               uint16_t detail,
                               const char *format,
                               ...) __attribute__ ((format (printf, 4, 5)));
  void thecal_proto_error_clear (ThecalProtoError *error);

  bool thecal_checksum_equal (const ThecalChecksum *a, const ThecalChecksum *b);
  /* 32 lower-case hex digits and a NUL into @out (33 bytes). */
  void thecal_checksum_to_hex (const ThecalChecksum *checksum, char out[2 * THECAL_CHECKSUM_SIZE + 1]);

  const char *thecal_msg_type_name (uint8_t type); /* "READ_STATUS"; "?" when unknown */
  bool thecal_msg_type_is_known (uint8_t type);
  /* Types that need an authenticated session (everything but IDENTIFY, HELLO, the wand-local
   * messages and ERROR). */
  bool thecal_msg_type_needs_session (uint8_t type);
  /* Types that can change the pump (therapy, reservoir, clock, alarms): a lost answer to one of
   * them leaves its effect unknown. */
  bool thecal_msg_type_changes_pump (uint8_t type);
  bool thecal_msg_type_is_wand_local (uint8_t type);

  const char *thecal_proto_error_code_name (ThecalProtoErrorCode code); /* "STALE_CHECKSUM" */
  const char *thecal_pump_limit_name (ThecalPumpLimit limit);           /* "rate_above_max" */

#ifdef __cplusplus
}
#endif
