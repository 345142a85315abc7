/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-programmer.h: the programmer side of the protocol (docs/protocol.md "The programmer
 * side").
 *
 * One operation at a time: a request, a handshake, a two-phase programming procedure, or the
 * resolution of an uncertain one. The programmer never does I/O and never reads a clock: the
 * caller moves the bytes and says what time it is (monotonic ms):
 *
 *   thecal_programmer_begin_... (p, now, ...);
 *   while (thecal_programmer_busy (p))
 *     {
 *       while ((frame = thecal_programmer_take_output (p, &size)) != NULL)
 *         transmit (frame, size);
 *       wait until a frame arrives or until thecal_programmer_deadline (p);
 *       if (a frame arrived) thecal_programmer_receive (p, now, bytes, size);
 *       else thecal_programmer_tick (p, now);
 *     }
 *   result = thecal_programmer_result (p);       reply = thecal_programmer_reply (p);
 *
 * Retransmission: a request with no usable answer is sent again, byte for byte, every
 * retry_timeout_ms, max_attempts times in all; then it ends LOST. A retransmission never moves
 * to another session: a request whose session is gone ends LOST, and a change whose answer was
 * lost is never sent again in a new session (it could be applied twice: CLINICAL.md §6.3).
 *
 * Sessions open by themselves: an operation that needs one and finds none (or one that may have
 * timed out at the pump) starts with HELLO and AUTH.
 */
#pragma once

#include "thecal-message.h"
#include "thecal-session.h"

#ifdef __cplusplus
extern "C"
{
#endif

#define THECAL_PROGRAMMER_RETRY_TIMEOUT_DEFAULT_MS INT64_C (1000)
#define THECAL_PROGRAMMER_MAX_ATTEMPTS_DEFAULT 4

  typedef struct
  {
    bool has_key;
    uint8_t pump_key[THECAL_KEY_SIZE];
    char expected_serial[THECAL_PROTO_TEXT_MAX]; /* "" accepts any pump */
    int64_t retry_timeout_ms;                    /* ≤ 0: THECAL_PROGRAMMER_RETRY_TIMEOUT_DEFAULT_MS */
    int32_t max_attempts;                        /* transmissions per request; ≤ 0: the default */
    int64_t session_timeout_ms;                  /* ≤ 0: the protocol default; AUTH then tells the pump's own */
    ThecalRandomFunc random;                     /* the programmer's handshake nonces */
    void *random_data;
  } ThecalProgrammerConfig;

  typedef enum
  {
    THECAL_OPERATION_NONE = 0,
    THECAL_OPERATION_REQUEST,   /* thecal_programmer_begin_request */
    THECAL_OPERATION_HANDSHAKE, /* thecal_programmer_begin_handshake */
    THECAL_OPERATION_PROGRAM,   /* thecal_programmer_begin_program: see the program report */
    THECAL_OPERATION_RESOLVE,   /* thecal_programmer_begin_resolve: see the program report */
  } ThecalOperation;

  /* How a request or a handshake ended. */
  typedef enum
  {
    THECAL_EXCHANGE_NONE = 0,
    THECAL_EXCHANGE_OK,      /* answered: thecal_programmer_reply () */
    THECAL_EXCHANGE_REFUSED, /* the pump answered ERROR: the request changed nothing */
    THECAL_EXCHANGE_LOST,    /* no usable answer: if the request changes the pump
                                (thecal_msg_type_changes_pump), its effect is UNKNOWN:
                                read the pump (status, log) before doing anything else */
    THECAL_EXCHANGE_FAILED,  /* not carried out: no session could be opened (wrong key, wrong
                                pump, no answer to the handshake); nothing that changes the
                                pump was sent */
  } ThecalExchangeStatus;

  typedef struct
  {
    ThecalOperation operation;
    ThecalExchangeStatus status; /* REQUEST and HANDSHAKE */
    uint8_t request_type;
    bool authenticated;     /* the answer or the ERROR came through the session */
    ThecalProtoError error; /* REFUSED: the pump's; LOST, FAILED: why */
  } ThecalProgrammerResult;

  /* The outcome of two-phase programming (DESIGN.md "Telemetry", CLINICAL.md §1.7, §6). */
  typedef enum
  {
    THECAL_PROGRAM_NONE = 0,
    THECAL_PROGRAM_CONFIRMED, /* the pump runs the new prescription: read back, byte for byte */
    THECAL_PROGRAM_FAILED,    /* the pump runs the previous prescription, unchanged: refused
                                 before COMMIT, lost before COMMIT was sent, COMMIT refused
                                 (then read back), or read back unchanged */
    THECAL_PROGRAM_UNCERTAIN, /* COMMIT was sent and its outcome is unknown: resolve (read the
                                 active prescription again); the UI blocks until then */
    THECAL_PROGRAM_CONFLICT,  /* the pump runs neither the previous nor the new prescription
                                 (changed by someone else: STALE_CHECKSUM, or the pump applied
                                 something else): read it and review */
  } ThecalProgramOutcome;

  typedef enum
  {
    THECAL_PROGRAM_STEP_NONE = 0,
    THECAL_PROGRAM_STEP_HANDSHAKE,
    THECAL_PROGRAM_STEP_STAGE,
    THECAL_PROGRAM_STEP_READ_STAGED,
    THECAL_PROGRAM_STEP_CANCEL,
    THECAL_PROGRAM_STEP_COMMIT, /* COMMIT, or REFILL_COMMIT for a refill */
    THECAL_PROGRAM_STEP_READ_BACK,
    THECAL_PROGRAM_STEP_RESOLVE,
  } ThecalProgramStep;

  typedef struct
  {
    ThecalProgramOutcome outcome;
    ThecalProgramStep step; /* the step the procedure ended in */
    bool commit_sent;
    bool commit_acknowledged;
    ThecalChecksum previous; /* the active prescription the change replaces */
    ThecalChecksum target;   /* the new prescription */
    bool active_known;       /* @active was read from the pump (authenticated) */
    ThecalChecksum active;   /* what the pump said it runs, last time it said so */
    ThecalProtoError error;  /* why it is not CONFIRMED */
  } ThecalProgramReport;

  typedef struct
  {
    int64_t frames_sent; /* retransmissions included */
    int64_t retransmissions;
    int64_t frames_ignored; /* corrupt, unauthentic, stale or unrelated frames */
    int64_t bytes_sent;
    int64_t bytes_received;
  } ThecalProgrammerStats;

  typedef enum
  {
    THECAL_PROGRAMMER_STEP_IDLE = 0,
    THECAL_PROGRAMMER_STEP_HELLO,
    THECAL_PROGRAMMER_STEP_AUTH,
    THECAL_PROGRAMMER_STEP_USER,
    THECAL_PROGRAMMER_STEP_STAGE,
    THECAL_PROGRAMMER_STEP_READ_STAGED,
    THECAL_PROGRAMMER_STEP_CANCEL,
    THECAL_PROGRAMMER_STEP_COMMIT,
    THECAL_PROGRAMMER_STEP_READ_BACK,
    THECAL_PROGRAMMER_STEP_RESOLVE,
    THECAL_PROGRAMMER_STEP_VERIFY, /* reads what runs after a refusal that leaves it in doubt */
  } ThecalProgrammerStep;

  /* Caller-owned, about 260 KiB: keep it in static storage or inside another struct. Fields are
   * private: use the functions below. */
  typedef struct
  {
    ThecalProgrammerConfig config;

    /* identity (IDENTIFY or HELLO) */
    bool identity_known;
    ThecalProtoIdentity identity;

    /* session */
    bool session_ready;
    uint8_t session_key[THECAL_KEY_SIZE];
    uint32_t next_seq;
    int64_t session_timeout_ms;
    int64_t last_fresh_send_ms;
    uint32_t clear_seq;

    /* handshake */
    uint8_t handshake_key[THECAL_KEY_SIZE];
    size_t hello_body_length;
    uint8_t hello_body[64];
    int64_t auth_sent_ms;
    ThecalProgrammerStep after_handshake;

    /* the outstanding frame */
    bool outstanding;
    bool output_ready;
    uint8_t out_type;
    uint32_t out_seq;
    bool out_encrypted;
    int32_t attempts;
    int64_t deadline_ms;
    size_t frame_length;
    uint8_t frame[THECAL_FRAME_MAX];

    /* the operation */
    ThecalOperation operation;
    bool resent_after_no_session; /* a request was sent again after the pump said it had no session */
    ThecalProgrammerStep step;
    uint8_t user_type;
    size_t user_body_length;
    uint8_t user_body[THECAL_MSG_BODY_MAX];

    /* two-phase programming */
    bool has_program;
    ThecalPrescription program_rx;
    bool program_has_fill; /* a refill: the final step is REFILL_COMMIT with program_fill */
    ThecalMsgSetReservoir program_fill;
    ThecalProtoError program_saved_error;
    ThecalProgramStep program_refused_step;
    ThecalProgramReport report;

    ThecalProgrammerResult result;
    ThecalProgrammerStats stats;
    ThecalMessage reply;
    uint8_t plain[THECAL_FRAME_MAX];
    uint8_t scratch[THECAL_PRESCRIPTION_ENCODING_MAX + 64];
  } ThecalProgrammer;

  /* False when libsodium cannot start, @config has no random source, or the expected serial is
   * not valid text. */
  bool thecal_programmer_init (ThecalProgrammer *p, const ThecalProgrammerConfig *config);

  /* The pairing key for the pump (e.g. after IDENTIFY, looked up by serial). Ends any session. */
  void thecal_programmer_set_key (ThecalProgrammer *p, const uint8_t key[THECAL_KEY_SIZE]);
  /* "" accepts any pump. Ends any session. False if @serial is not valid text. */
  bool thecal_programmer_set_expected_serial (ThecalProgrammer *p, const char *serial);

  /* One request and its answer. IDENTIFY and the wand-local messages go in clear without a
   * session; every other type opens a session first if needed. HELLO, AUTH and ERROR cannot be
   * sent this way. False (BUSY_LOCAL, INVALID) when it cannot start. */
  bool thecal_programmer_begin_request (ThecalProgrammer *p, int64_t now_ms, const ThecalMessage *request, ThecalProtoError *error);
  /* A request with a body of the version byte alone (READ_STATUS, READ_PRESCRIPTION, ...). */
  bool thecal_programmer_begin_simple (ThecalProgrammer *p, int64_t now_ms, ThecalMsgType type, ThecalProtoError *error);

  /* A new session, even if one is open. */
  bool thecal_programmer_begin_handshake (ThecalProgrammer *p, int64_t now_ms, ThecalProtoError *error);

  /* Two-phase programming of @rx, replacing the active prescription whose checksum is @active
   * (the one the clinician reviewed): STAGE → READ_STAGED (compared byte for byte) → COMMIT →
   * READ_PRESCRIPTION (compared byte for byte). @rx must pass thecal_prescription_validate. */
  bool thecal_programmer_begin_program (ThecalProgrammer *p,
                                        int64_t now_ms,
                                        const ThecalPrescription *rx,
                                        const ThecalChecksum *active,
                                        ThecalProtoError *error);

  /* The same procedure for a refill that changes the drug or its concentration: @rx is for the
   * fill @fill (its drug and concentration; refused INVALID otherwise), and the final step is
   * REFILL_COMMIT (@fill, the staged checksum) instead of COMMIT: the pump sets its reservoir and
   * switches to @rx at one instant, so it never runs without a prescription for what it holds.
   * The report reads the same way (the read-back and the resolve compare the active
   * prescription); commit_sent and commit_acknowledged are about REFILL_COMMIT. */
  bool thecal_programmer_begin_refill_program (ThecalProgrammer *p,
                                               int64_t now_ms,
                                               const ThecalPrescription *rx,
                                               const ThecalChecksum *active,
                                               const ThecalMsgSetReservoir *fill,
                                               ThecalProtoError *error);

  /* Reads the active prescription again (opening a session if needed) and settles the last
   * programming report: CONFIRMED, FAILED or CONFLICT; UNCERTAIN again if no answer. */
  bool thecal_programmer_begin_resolve (ThecalProgrammer *p, int64_t now_ms, ThecalProtoError *error);

  bool thecal_programmer_busy (const ThecalProgrammer *p);
  /* The step the operation is in (IDLE when none runs): what a progress view shows. */
  ThecalProgrammerStep thecal_programmer_step (const ThecalProgrammer *p);

  /* The frame to transmit now, once (NULL when none). Valid until the next call on @p. */
  const uint8_t *thecal_programmer_take_output (ThecalProgrammer *p, size_t *length);

  /* A frame from the pump (or the wand). Anything that is not the answer to the outstanding
   * request is ignored. */
  void thecal_programmer_receive (ThecalProgrammer *p, int64_t now_ms, const uint8_t *frame, size_t length);

  /* Retransmits or gives up once the deadline has passed. */
  void thecal_programmer_tick (ThecalProgrammer *p, int64_t now_ms);

  /* When to call tick next; INT64_MAX when nothing is outstanding. */
  int64_t thecal_programmer_deadline (const ThecalProgrammer *p);

  /* How the last operation ended (operation NONE while one runs). */
  const ThecalProgrammerResult *thecal_programmer_result (const ThecalProgrammer *p);
  /* The answer of the last request (result OK). */
  const ThecalMessage *thecal_programmer_reply (const ThecalProgrammer *p);
  /* The last programming report (program and resolve operations). */
  const ThecalProgramReport *thecal_programmer_program_report (const ThecalProgrammer *p);
  /* The pump's identity once IDENTIFY or HELLO was answered, else NULL. */
  const ThecalProtoIdentity *thecal_programmer_identity (const ThecalProgrammer *p);
  const ThecalProgrammerStats *thecal_programmer_stats (const ThecalProgrammer *p);

  /* A session is open and, as far as the programmer can tell, still open at the pump. */
  bool thecal_programmer_session_ready (const ThecalProgrammer *p, int64_t now_ms);
  /* Forgets the session (wipes its key). Not allowed while an operation runs (returns false). */
  bool thecal_programmer_forget_session (ThecalProgrammer *p);

  const char *thecal_program_outcome_name (ThecalProgramOutcome outcome); /* "uncertain" */
  const char *thecal_exchange_status_name (ThecalExchangeStatus status);  /* "lost" */

#ifdef __cplusplus
}
#endif
