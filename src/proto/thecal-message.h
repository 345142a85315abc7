/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-message.h: the message bodies (docs/protocol.md "Messages").
 *
 * Every body starts with the message version byte (THECAL_MSG_VERSION), then its fields in a
 * fixed order, explicit little-endian: integers u8/u16/u32/i16/i32/i64, booleans one byte 0 or 1,
 * texts a u8 length then that many printable ASCII bytes (no NUL), checksums 16 raw bytes.
 *
 * Encodings are canonical: a decoder accepts exactly what the encoder writes (no ignored byte,
 * no trailing byte, booleans 0/1 only, enums known only, counts within their maxima), so
 * encode (decode (bytes)) == bytes for every accepted input, and the prescription checksum is a
 * property of the prescription, not of the way it was written.
 */
#pragma once

#include "thecal-frame.h"
#include "thecal-proto.h"

#include "thecal-bolus.h"
#include "thecal-prescription.h"

#ifdef __cplusplus
extern "C"
{
#endif

/* Largest plaintext body of an encrypted frame. */
#define THECAL_MSG_BODY_MAX (THECAL_FRAME_PAYLOAD_MAX - 16)
/* The canonical prescription encoding is at most this long (docs/protocol.md). */
#define THECAL_PRESCRIPTION_ENCODING_MAX 655
#define THECAL_PRESCRIPTION_ENCODING_VERSION 1
#define THECAL_PROTO_EVENT_SIZE 48
/* Events in one READ_LOG answer: as many as fit the largest encrypted frame. */
#define THECAL_PROTO_LOG_BATCH_MAX ((THECAL_MSG_BODY_MAX - 19) / THECAL_PROTO_EVENT_SIZE)
#define THECAL_PROTO_ALARMS_MAX 8

  /* Alarm kinds on the wire: the numbering of the reference engine's ThecalAlarmKind. */
  typedef enum
  {
    THECAL_PROTO_ALARM_LOW_RESERVOIR = 0,
    THECAL_PROTO_ALARM_RESERVOIR_EMPTY = 1,
    THECAL_PROTO_ALARM_ERI = 2,
    THECAL_PROTO_ALARM_EOS = 3,
    THECAL_PROTO_ALARM_MOTOR_STALL = 4,
    THECAL_PROTO_ALARM_MEMORY_ERROR = 5,
    THECAL_PROTO_ALARM_N_KINDS
  } ThecalProtoAlarm;

  /* Where delivery comes from: the numbering of the reference engine's ThecalSource. */
  typedef enum
  {
    THECAL_PROTO_SOURCE_BASAL = 0,
    THECAL_PROTO_SOURCE_PERIODIC = 1,
    THECAL_PROTO_SOURCE_PTM = 2,
    THECAL_PROTO_SOURCE_CLINICIAN = 3,
    THECAL_PROTO_SOURCE_PRIMING = 4,
    THECAL_PROTO_SOURCE_BRIDGE = 5,
    THECAL_PROTO_SOURCE_N_SOURCES
  } ThecalProtoSource;

  typedef enum
  {
    THECAL_PROTO_BOLUS_CLINICIAN = 1, /* dose_ng over duration_ms at the active concentration */
    THECAL_PROTO_BOLUS_PRIMING = 2,   /* the phases of plan (thecal_priming_bolus) */
    THECAL_PROTO_BOLUS_BRIDGE = 3,    /* the phases of plan (thecal_bridge_bolus) */
  } ThecalProtoBolusKind;

  /* IDENTIFY answer, and inside the HELLO answer: all a programmer without the key learns. */
  typedef struct
  {
    char serial[THECAL_PROTO_TEXT_MAX];
    char model_id[THECAL_ID_MAX]; /* "TR-20" */
    uint8_t protocol_version;     /* THECAL_PROTO_VERSION */
  } ThecalProtoIdentity;

  typedef struct
  {
    uint8_t nonce[THECAL_HELLO_NONCE_SIZE]; /* the programmer's */
  } ThecalMsgHello;

  typedef struct
  {
    uint8_t nonce[THECAL_HELLO_NONCE_SIZE]; /* the pump's */
    ThecalProtoIdentity identity;
  } ThecalMsgHelloReply;

  typedef struct
  {
    uint32_t session_timeout_ms; /* the pump drops the session after this long without a request */
  } ThecalMsgAuthReply;

  typedef struct
  {
    ThecalProtoAlarm kind;
    bool condition;    /* the cause is present now */
    bool raised;       /* indicated (a critical alarm stays raised until acknowledged) */
    bool acknowledged; /* the current raise was acknowledged */
    bool critical;
    int64_t raised_at_pump_ms; /* INT64_MIN: never raised */
    int64_t count;             /* raises so far */
  } ThecalProtoAlarmState;

  /* READ_STATUS answer. The pump (ThecalPumpOps.get_status) fills everything above the line;
   * the pump role fills the checksums itself. */
  typedef struct
  {
    int64_t pump_ms; /* the pump clock, pump-local ms */
    ThecalMode mode;
    bool delivering;               /* basal or periodic delivery runs now */
    int64_t reservoir_estimate_nl; /* the pump's estimate (may be below 0) */
    int64_t reservoir_set_nl;      /* the volume entered at the last refill */
    char reservoir_drug_id[THECAL_ID_MAX];
    int64_t reservoir_concentration_ng_per_ml;
    int32_t battery_bp; /* remaining, basis points of a new battery */
    bool eri;
    bool eos;
    int64_t eri_pump_ms; /* when the ERI was or will be reached; INT64_MAX: not known */
    int64_t eos_pump_ms; /* when end of service was or will be reached; INT64_MAX: not known */
    bool bolus_active;   /* a clinician, priming or bridge bolus runs */
    ThecalProtoSource bolus_source;
    int64_t bolus_planned_nl;
    int64_t bolus_done_nl;
    bool ptm_active;
    int32_t ptm_grants_24h;
    int64_t ptm_next_allowed_pump_ms; /* INT64_MAX: PTM not enabled */
    int32_t n_alarms;                 /* alarms with a condition or raised, by ascending kind */
    ThecalProtoAlarmState alarms[THECAL_PROTO_ALARMS_MAX];
    int64_t log_oldest_seq;
    int64_t log_next_seq;
    /* ---- filled by the pump role ---- */
    ThecalChecksum active_checksum;
    bool has_staged;
    ThecalChecksum staged_checksum; /* all zero when nothing is staged */
  } ThecalProtoStatus;

  /* READ_PRESCRIPTION answer. */
  typedef struct
  {
    ThecalChecksum checksum;
    ThecalPrescription rx;
  } ThecalMsgPrescription;

  /* READ_STAGED answer. */
  typedef struct
  {
    ThecalChecksum replaces; /* the active checksum the STAGE named */
    ThecalChecksum checksum; /* of rx */
    ThecalPrescription rx;
  } ThecalMsgStaged;

  typedef struct
  {
    int64_t from_seq;    /* first sequence wanted (≥ 1) */
    uint16_t max_events; /* 0: as many as fit a frame */
  } ThecalMsgReadLog;

  /* One event log entry: the reference engine's ThecalEngineEvent, field for field. */
  typedef struct
  {
    int64_t seq;
    int64_t pump_ms;
    int32_t type;
    int32_t code;
    int64_t args[3];
  } ThecalProtoEvent;

  /* READ_LOG answer: the events from max (from_seq, oldest_seq) on, in order, consecutive. */
  typedef struct
  {
    int64_t oldest_seq; /* the oldest entry the pump still holds */
    int64_t next_seq;   /* the sequence the next entry will get: the newest is next_seq − 1 */
    int32_t n_events;
    ThecalProtoEvent events[THECAL_PROTO_LOG_BATCH_MAX];
  } ThecalMsgLog;

  typedef struct
  {
    ThecalChecksum replaces; /* the checksum of the active prescription it replaces */
    ThecalPrescription rx;
  } ThecalMsgStage;

  /* STAGE answer (the staged checksum), COMMIT request (the staged checksum confirmed), SET_PTM
   * answer (the new active checksum). */
  typedef struct
  {
    ThecalChecksum checksum;
  } ThecalMsgChecksum;

  typedef struct
  {
    ThecalChecksum active;   /* what runs now */
    ThecalChecksum previous; /* what ran before */
  } ThecalMsgCommitReply;

  typedef struct
  {
    bool had_staged;
  } ThecalMsgCancelStagedReply;

  typedef struct
  {
    int64_t volume_nl;
    char drug_id[THECAL_ID_MAX];
    int64_t concentration_ng_per_ml;
  } ThecalMsgSetReservoir;

  /* REFILL_COMMIT request: the reservoir after a refill (as SET_RESERVOIR) and the checksum of the
   * staged prescription for that fill, confirmed; the pump sets both at the same instant. The
   * answer is a ThecalMsgCommitReply. */
  typedef struct
  {
    ThecalMsgSetReservoir fill;
    ThecalChecksum staged; /* the staged prescription read back (READ_STAGED) */
  } ThecalMsgRefillCommit;

  typedef struct
  {
    ThecalChecksum active; /* the active prescription the bolus was computed for */
    ThecalProtoBolusKind kind;
    int64_t dose_ng;      /* CLINICIAN */
    int64_t duration_ms;  /* CLINICIAN */
    ThecalBolusPlan plan; /* PRIMING, BRIDGE (n_phases 0 for CLINICIAN) */
  } ThecalMsgStartBolus;

  typedef struct
  {
    ThecalChecksum active; /* the active prescription whose PTM settings are replaced */
    ThecalPtmSettings ptm;
  } ThecalMsgSetPtm;

  typedef struct
  {
    int64_t pump_local_ms;
  } ThecalMsgSetClock;

  typedef struct
  {
    int64_t previous_pump_ms; /* the pump clock just before the set */
    int64_t pump_ms;          /* just after */
  } ThecalMsgClockReply;

  typedef struct
  {
    ThecalProtoAlarm alarm;
  } ThecalMsgAckAlarm;

  typedef struct
  {
    char serial[THECAL_PROTO_TEXT_MAX];
    char firmware_version[THECAL_PROTO_TEXT_MAX];
    uint8_t protocol_version;
  } ThecalWandInfo;

  typedef struct
  {
    int16_t rssi_dbm;
    uint8_t quality_percent; /* 0 .. 100 */
    bool pump_in_range;      /* the wand heard the pump recently */
  } ThecalWandLink;

  typedef struct
  {
    uint8_t request_type; /* the type of the request this answers (any byte: it may be unknown) */
    ThecalProtoError error;
  } ThecalMsgError;

  /* One message: its type, request or answer, and the body that goes with the pair:
   *
   *   type               request body        answer body
   *   IDENTIFY           —                   identity
   *   HELLO              hello               hello_reply
   *   AUTH               —                   auth_reply
   *   CLOSE              —                   —
   *   READ_STATUS        —                   status
   *   READ_PRESCRIPTION  —                   prescription
   *   READ_STAGED        —                   staged
   *   READ_LOG           read_log            log
   *   STAGE              stage               checksum
   *   COMMIT             checksum            commit_reply
   *   CANCEL_STAGED      —                   cancel_staged_reply
   *   REFILL_COMMIT      refill_commit       commit_reply
   *   SET_RESERVOIR      set_reservoir       —
   *   START_BOLUS        start_bolus         —
   *   CANCEL_BOLUS       —                   —
   *   SET_PTM            set_ptm             checksum
   *   SET_CLOCK          set_clock           clock_reply
   *   ACK_ALARM          ack_alarm           —
   *   WAND_INFO          —                   wand_info
   *   WAND_LINK          —                   wand_link
   *   ERROR              (never a request)   error
   *
   * "—" is a body of the version byte alone. The struct is large (a log batch is inside): keep
   * it in static storage or inside another caller-owned struct, not on a small stack. */
  typedef struct
  {
    ThecalMsgType type;
    bool response;
    union
    {
      ThecalProtoIdentity identity;
      ThecalMsgHello hello;
      ThecalMsgHelloReply hello_reply;
      ThecalMsgAuthReply auth_reply;
      ThecalProtoStatus status;
      ThecalMsgPrescription prescription;
      ThecalMsgStaged staged;
      ThecalMsgReadLog read_log;
      ThecalMsgLog log;
      ThecalMsgStage stage;
      ThecalMsgChecksum checksum;
      ThecalMsgCommitReply commit_reply;
      ThecalMsgCancelStagedReply cancel_staged_reply;
      ThecalMsgSetReservoir set_reservoir;
      ThecalMsgRefillCommit refill_commit;
      ThecalMsgStartBolus start_bolus;
      ThecalMsgSetPtm set_ptm;
      ThecalMsgSetClock set_clock;
      ThecalMsgClockReply clock_reply;
      ThecalMsgAckAlarm ack_alarm;
      ThecalWandInfo wand_info;
      ThecalWandLink wand_link;
      ThecalMsgError error;
    };
  } ThecalMessage;

  /* Zeroes @msg and sets its type and direction. */
  void thecal_message_init (ThecalMessage *msg, ThecalMsgType type, bool response);

  /* Encodes @msg's body (not the frame) into @out. Fails (INVALID, naming the field) when the
   * struct breaks a rule the decoder enforces, or @capacity is too small. */
  bool thecal_message_encode (const ThecalMessage *msg,
                              uint8_t *out,
                              size_t capacity,
                              size_t *out_length,
                              ThecalProtoError *error);

  /* Decodes the body of a (@type, @response) message. @msg is zeroed first. Fails with
   * UNKNOWN_TYPE (no such message), UNSUPPORTED_VERSION (message version) or BAD_REQUEST (any
   * other rule), the reason naming the field. */
  bool thecal_message_decode (uint8_t type,
                              bool response,
                              const uint8_t *data,
                              size_t length,
                              ThecalMessage *msg,
                              ThecalProtoError *error);

  /* The canonical prescription encoding (docs/protocol.md "Prescription"). Structural rules only
   * (counts, enums, the drug id's characters); the dose rules are thecal_prescription_validate's. */
  bool thecal_prescription_encode (const ThecalPrescription *rx,
                                   uint8_t *out,
                                   size_t capacity,
                                   size_t *out_length,
                                   ThecalProtoError *error);
  /* Decodes exactly @length bytes; @rx is reset first (unused slots zero). */
  bool thecal_prescription_decode (const uint8_t *data, size_t length, ThecalPrescription *rx, ThecalProtoError *error);

  /* BLAKE2b-128 (crypto_generichash, no key) of the canonical encoding. */
  bool thecal_prescription_checksum (const ThecalPrescription *rx, ThecalChecksum *checksum, ThecalProtoError *error);

  /* The same prescription, field for field, as the encoding sees it (unused slots ignored). */
  bool thecal_prescription_equal (const ThecalPrescription *a, const ThecalPrescription *b);

#ifdef __cplusplus
}
#endif
