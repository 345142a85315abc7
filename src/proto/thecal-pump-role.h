/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-pump-role.h: the pump side of the protocol (docs/protocol.md "The pump side").
 *
 * One request frame in, at most one answer frame out:
 *
 *   ThecalPumpRole *role = ...;                  caller-owned, about 260 KiB: not on a small stack
 *   thecal_pump_role_init (role, &config);
 *   for each frame the transport delivers, at the pump's monotonic time now_ms:
 *     if (thecal_pump_role_handle (role, now_ms, frame, size, &answer, &answer_size))
 *       transmit (answer, answer_size);          valid until the next call on @role
 *   now and then (or before reading state): thecal_pump_role_tick (role, now_ms);
 *
 * The role enforces the session rules (handshake, AEAD, sequence numbers, timeout), keeps the
 * staged prescription and the checksums, caches the last answer for retransmissions, and calls
 * the pump through ThecalPumpOps for everything else. Rules it guarantees:
 *  - no frame changes therapy (or reservoir, clock, alarms) without an authenticated session;
 *  - a request is applied at most once: a retransmission (the same bytes) gets the cached
 *    answer; a lower sequence is refused;
 *  - STAGE changes nothing that runs; COMMIT calls apply_prescription once, which switches
 *    delivery atomically; REFILL_COMMIT calls refill_and_apply once, which sets the reservoir
 *    and switches delivery at the same instant; the staged copy dies with the session that
 *    staged it;
 *  - a prescription staged for another drug or concentration than the reservoir holds (a
 *    refill that changes the drug) can only be committed by REFILL_COMMIT with that fill;
 *  - an ERROR answer means the request changed nothing.
 * It never answers a frame marked RESPONSE, and silently drops frames that are not frames
 * (truncated, bad magic, bad CRC, too long): the programmer's retransmission recovers those.
 */
#pragma once

#include "thecal-message.h"
#include "thecal-session.h"

#ifdef __cplusplus
extern "C"
{
#endif

  /* The pump behind the role (src/pump implements it on the reference engine). Each operation
   * either succeeds, or returns false with @error filled and changes nothing. Use the codes
   * REFUSED_BY_PUMP_LIMIT (detail: ThecalPumpLimit), BUSY, PUMP_FAULT, REFUSED, BAD_REQUEST or
   * INTERNAL; the reason is short ASCII a clinician can read ("rate 30 mL/day is above the
   * maximum 24 mL/day"). Every call happens inside thecal_pump_role_handle, at the now_ms given
   * to it: advance the pump to that time before handing the frame over. */
  typedef struct
  {
    /* Everything above the line in ThecalProtoStatus (the role fills the checksums). */
    bool (*get_status) (void *user_data, ThecalProtoStatus *status, ThecalProtoError *error);

    /* The active prescription: what delivery follows now (thecal_prescription_init () for a pump
     * that was never programmed). */
    bool (*get_prescription) (void *user_data, ThecalPrescription *rx, ThecalProtoError *error);

    /* Up to @max_events consecutive events from max (@from_seq, oldest) on; *@oldest_seq and
     * *@next_seq as in ThecalMsgLog. */
    bool (*read_log) (void *user_data,
                      int64_t from_seq,
                      int32_t max_events,
                      ThecalProtoEvent *events,
                      int32_t *n_events,
                      int64_t *oldest_seq,
                      int64_t *next_seq,
                      ThecalProtoError *error);

    /* Would the pump run @rx? Its own hard limits (rate range, bolus rate, drug in the
     * reservoir...) whatever the programmer checked. Changes nothing. @rx already passed
     * thecal_prescription_validate. Called by STAGE, COMMIT (again, the pump may have changed)
     * and SET_PTM. */
    bool (*check_prescription) (void *user_data, const ThecalPrescription *rx, ThecalProtoError *error);

    /* Switch delivery to @rx now, atomically: on failure the old prescription keeps running
     * unchanged. Called by COMMIT and SET_PTM, only after check_prescription passed. */
    bool (*apply_prescription) (void *user_data, const ThecalPrescription *rx, ThecalProtoError *error);

    bool (*set_reservoir) (void *user_data, const ThecalMsgSetReservoir *request, ThecalProtoError *error);

    /* Would the pump accept the fill @fill (drug, concentration, and the volume unless
     * @fill->volume_nl < 0: not known yet) and run @rx on it, instead of what its reservoir holds
     * now? The limits of set_reservoir for the fill and of check_prescription for @rx, against
     * the fill. Changes nothing. @rx already passed thecal_prescription_validate and is for the
     * fill's drug and concentration. Called by STAGE for a prescription of another drug or
     * concentration than the reservoir's (volume −1), and by REFILL_COMMIT. */
    bool (*check_refill) (void *user_data, const ThecalMsgSetReservoir *fill, const ThecalPrescription *rx, ThecalProtoError *error);

    /* Set the reservoir to @fill AND switch delivery to @rx at the same instant, atomically:
     * nothing is delivered between the two, and on failure neither changes (the old prescription
     * keeps running on the old fill). Called by REFILL_COMMIT only after check_refill passed. */
    bool (*refill_and_apply) (void *user_data, const ThecalMsgSetReservoir *fill, const ThecalPrescription *rx, ThecalProtoError *error);

    /* The role checked that request->active names the active prescription. */
    bool (*start_bolus) (void *user_data, const ThecalMsgStartBolus *request, ThecalProtoError *error);
    bool (*cancel_bolus) (void *user_data, ThecalProtoError *error);

    bool (*set_clock) (void *user_data, int64_t pump_local_ms, ThecalMsgClockReply *reply, ThecalProtoError *error);
    bool (*acknowledge_alarm) (void *user_data, ThecalProtoAlarm alarm, ThecalProtoError *error);
  } ThecalPumpOps;

  typedef struct
  {
    const ThecalPumpOps *ops; /* every member set */
    void *ops_data;
    ThecalProtoIdentity identity; /* answered to anyone (IDENTIFY, HELLO) */
    uint8_t pump_key[THECAL_KEY_SIZE];
    int64_t session_timeout_ms; /* ≤ 0: THECAL_PROTO_SESSION_TIMEOUT_DEFAULT_MS; at most UINT32_MAX */
    ThecalRandomFunc random;    /* the pump's handshake nonces */
    void *random_data;
  } ThecalPumpRoleConfig;

  typedef struct
  {
    int64_t frames;          /* frames handed to the role */
    int64_t dropped;         /* not a frame (truncated, bad magic or CRC, too long) or a response */
    int64_t answered;        /* answers produced, errors included */
    int64_t errors;          /* ERROR answers */
    int64_t retransmissions; /* answered from the cache */
    int64_t refused_replays; /* lower sequence */
    int64_t failed_auth;     /* frames that did not authenticate */
    int64_t sessions_opened;
    int64_t sessions_expired;       /* dropped for inactivity */
    int64_t commits_applied;        /* apply_prescription calls that succeeded through COMMIT */
    int64_t refill_commits_applied; /* refill_and_apply calls that succeeded (REFILL_COMMIT) */
  } ThecalPumpRoleStats;

  typedef struct
  {
    ThecalPumpRoleConfig config;

    /* the established session */
    bool session_active;
    uint8_t session_key[THECAL_KEY_SIZE];
    uint32_t last_seq;
    int64_t last_activity_ms;

    /* the last processed encrypted request and its answer (kept after the session ends) */
    bool cache_valid;
    uint8_t cache_request_digest[16];
    size_t cache_length;
    uint8_t cache[THECAL_FRAME_MAX];

    /* a handshake in progress (does not disturb the established session until AUTH passes) */
    bool pending_active;
    uint8_t pending_key[THECAL_KEY_SIZE];
    int64_t pending_started_ms;
    uint8_t pending_hello_digest[16];
    size_t pending_reply_length;
    uint8_t pending_reply[160];

    /* the staged prescription */
    bool has_staged;
    ThecalPrescription staged;
    ThecalChecksum staged_checksum;
    ThecalChecksum staged_replaces;

    ThecalPumpRoleStats stats;

    /* scratch */
    size_t out_length;
    uint8_t out[256]; /* clear answers (IDENTIFY, HELLO, ERROR): at most 113 bytes */
    uint8_t plain[THECAL_FRAME_MAX];
    ThecalMessage request;
    ThecalMessage answer;
  } ThecalPumpRole;

  /* False when libsodium cannot start or the configuration is incomplete (no ops, an ops member
   * NULL, no random source, an invalid identity). */
  bool thecal_pump_role_init (ThecalPumpRole *role, const ThecalPumpRoleConfig *config);

  /* Handles one frame received at @now_ms. True when there is an answer: *@answer points to
   * *@answer_length bytes inside @role, valid until the next call on @role. */
  bool thecal_pump_role_handle (ThecalPumpRole *role,
                                int64_t now_ms,
                                const uint8_t *frame,
                                size_t frame_length,
                                const uint8_t **answer,
                                size_t *answer_length);

  /* Ends a session (and a pending handshake) idle for the timeout. Time going backwards ends
   * them too: a session is never stretched by a clock fault. */
  void thecal_pump_role_tick (ThecalPumpRole *role, int64_t now_ms);

  bool thecal_pump_role_session_active (const ThecalPumpRole *role);
  bool thecal_pump_role_has_staged (const ThecalPumpRole *role);

  /* Ends the session now (the pump's own decision, e.g. a magnet or a reset) and wipes its key. */
  void thecal_pump_role_end_session (ThecalPumpRole *role);

#ifdef __cplusplus
}
#endif
