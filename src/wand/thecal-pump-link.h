/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-pump-link.h: the programmer side of the protocol (src/proto's ThecalProgrammer) driven
 * over a ThecalTransport, asynchronously (docs/telemetry.md "The pump link").
 *
 * One operation at a time (a second one while one runs fails at once with
 * THECAL_PROTO_ERROR_BUSY_LOCAL); each is an _async/_finish pair with a GCancellable. Nothing
 * blocks: the link sends what the programmer gives, keeps one receive pending, and re-arms one
 * timeout source at thecal_programmer_deadline () for the retransmissions.
 *
 * Keys: operations that need a session first learn the pump's serial (IDENTIFY) and ask the key
 * function for its pairing key (the patient record in the app; thecal_sim_pump_demo_key for demo
 * pumps). A lost transport (disconnect, unplug) or a cancellation does not cut an operation short:
 * the link stops transmitting and lets the programmer run out its retransmission schedule (at most
 * max_attempts × retry_timeout_ms), so the outcome is always the programmer's (after COMMIT was
 * sent: UNCERTAIN, never "failed"). Then new operations fail until thecal_pump_link_set_transport
 * () gives a new transport (a reconnected wand); the session, if the pump still holds it, goes on.
 *
 * Threads: the owning context is the thread-default context of the thread that created the link;
 * every method is called there and every callback (the transport's, the timer's, the caller's)
 * runs there.
 */
#pragma once

#include "thecal-clock.h"
#include "thecal-programmer.h"
#include "thecal-transport.h"

G_BEGIN_DECLS

/* The protocol's own codes (ThecalProtoErrorCode) as a GError domain: the pump's refusals
 * (REFUSED_BY_PUMP_LIMIT, STALE_CHECKSUM...) and the programmer's findings (TIMEOUT, NO_KEY...). */
#define THECAL_PROTO_ERROR (thecal_proto_error_quark ())
GQuark thecal_proto_error_quark (void);

#define THECAL_TYPE_PUMP_LINK (thecal_pump_link_get_type ())
G_DECLARE_FINAL_TYPE (ThecalPumpLink, thecal_pump_link, THECAL, PUMP_LINK, GObject)

/* Fills @key with the pairing key of the pump @serial (model @model_id); FALSE when there is none.
 * Runs on the owning context. */
typedef gboolean (*ThecalPumpKeyFunc) (const char *serial, const char *model_id, guint8 key[THECAL_KEY_SIZE], gpointer user_data);

/* What an interrogation read: status, active prescription, and the log from a sequence. */
typedef struct
{
  ThecalProtoIdentity identity;
  ThecalProtoStatus status;
  ThecalMsgPrescription prescription; /* the active prescription and its checksum */
  GArray *events;                     /* ThecalProtoEvent, consecutive, oldest first */
  gint64 log_oldest_seq;              /* as the last READ_LOG answer said */
  gint64 log_next_seq;
  gboolean log_gap; /* the pump no longer held some events from the sequence asked for */
  /* cost on the wire (this interrogation only) */
  guint round_trips; /* requests sent (retransmissions not counted), handshake included */
  guint retransmissions;
  guint64 bytes_sent;
  guint64 bytes_received;
} ThecalPumpInterrogation;

void thecal_pump_interrogation_free (ThecalPumpInterrogation *interrogation);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ThecalPumpInterrogation, thecal_pump_interrogation_free)

typedef struct
{
  guint64 operations;
  guint64 round_trips; /* requests sent, retransmissions not counted */
  guint64 retransmissions;
  guint64 bytes_sent;
  guint64 bytes_received;
  guint64 frames_ignored;
  guint64 transports_lost;
} ThecalPumpLinkStats;

/* A link over @transport (referenced) on @clock (NULL: a real clock), with the default retries
 * (4 transmissions, 1 s apart) and random nonces from libsodium. */
ThecalPumpLink *thecal_pump_link_new (ThecalTransport *transport, ThecalClock *clock);
/* The same with @config for the programmer (retry timeout, attempts, random source; the key and
 * the expected serial are the link's business and ignored here). */
ThecalPumpLink *thecal_pump_link_new_full (ThecalTransport *transport, ThecalClock *clock, const ThecalProgrammerConfig *config);

void thecal_pump_link_set_key_func (ThecalPumpLink *self, ThecalPumpKeyFunc func, gpointer user_data, GDestroyNotify destroy);

/* A new transport (a reconnected wand): allowed while no operation runs. */
gboolean thecal_pump_link_set_transport (ThecalPumpLink *self, ThecalTransport *transport, GError **error);
ThecalTransport *thecal_pump_link_get_transport (ThecalPumpLink *self);
/* FALSE once the transport went away (until a new one is set). */
gboolean thecal_pump_link_is_connected (ThecalPumpLink *self);
gboolean thecal_pump_link_is_busy (ThecalPumpLink *self);
ThecalClock *thecal_pump_link_get_clock (ThecalPumpLink *self);

/* The pump's identity once known (NULL before). */
const ThecalProtoIdentity *thecal_pump_link_get_identity (ThecalPumpLink *self);
const ThecalPumpLinkStats *thecal_pump_link_get_stats (ThecalPumpLink *self);
/* The programmer itself (read-only): its last report, its stats. */
const ThecalProgrammer *thecal_pump_link_get_programmer (ThecalPumpLink *self);

/* IDENTIFY (clear, no key needed): serial, model, protocol version. */
void thecal_pump_link_identify_async (ThecalPumpLink *self,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data);
gboolean thecal_pump_link_identify_finish (ThecalPumpLink *self,
                                           GAsyncResult *result,
                                           ThecalProtoIdentity *identity,
                                           GError **error);

/* IDENTIFY, the key function, then a handshake (a new session). @expected_serial (NULL: any)
 * refuses another pump (THECAL_PROTO_ERROR_WRONG_PUMP). */
void thecal_pump_link_open_session_async (ThecalPumpLink *self,
                                          const char *expected_serial,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data);
gboolean thecal_pump_link_open_session_finish (ThecalPumpLink *self, GAsyncResult *result, GError **error);

/* Status, prescription, then the log from @from_seq (≥ 1; older events than the pump holds are
 * reported as a gap) in batches of at most @batch_max events (0: as many as fit one frame), up to
 * @max_events in all (0: every event up to the newest). */
void thecal_pump_link_interrogate_async (ThecalPumpLink *self,
                                         gint64 from_seq,
                                         guint max_events,
                                         guint batch_max,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data);
ThecalPumpInterrogation *thecal_pump_link_interrogate_finish (ThecalPumpLink *self, GAsyncResult *result, GError **error);

/* The log alone (the events, and the oldest/next sequences in the interrogation's fields; status
 * and prescription left zero). */
void thecal_pump_link_read_log_async (ThecalPumpLink *self,
                                      gint64 from_seq,
                                      guint max_events,
                                      guint batch_max,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data);
ThecalPumpInterrogation *thecal_pump_link_read_log_finish (ThecalPumpLink *self, GAsyncResult *result, GError **error);

/* Signal "program-step" (guint: a ThecalProgramStep), on the owning context: two-phase
 * programming (program or refill program) entered a step: HANDSHAKE (when a session is opened
 * first), STAGE, READ_STAGED, COMMIT, READ_BACK (CANCEL after a refused read-back); once per step,
 * in order, for a progress view. A handler must not call the link. */

/* Two-phase programming (docs/protocol.md §7) of @rx replacing the prescription @reviewed_active
 * (the checksum of the one the clinician reviewed). TRUE whenever the procedure ran, whatever its
 * outcome: *@report says CONFIRMED, FAILED, UNCERTAIN or CONFLICT. FALSE (nothing was sent) when
 * it could not start: busy, no transport, no key, an invalid @rx. */
void thecal_pump_link_program_async (ThecalPumpLink *self,
                                     const ThecalPrescription *rx,
                                     const ThecalChecksum *reviewed_active,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
gboolean thecal_pump_link_program_finish (ThecalPumpLink *self,
                                          GAsyncResult *result,
                                          ThecalProgramReport *report,
                                          GError **error);

/* The same two-phase procedure for a refill that changes the drug or its concentration
 * (docs/protocol.md §7 "Refill with a drug change"): @rx is for the fill @fill; STAGE → READ_STAGED
 * → REFILL_COMMIT (@fill and the staged checksum: the pump sets its reservoir and switches to @rx
 * at one instant) → the active prescription read back and compared. The report and its outcomes
 * are the program path's (CONFIRMED, FAILED, UNCERTAIN, CONFLICT; a lost answer after
 * REFILL_COMMIT left is UNCERTAIN, settled with thecal_pump_link_resolve_async). */
void thecal_pump_link_refill_program_async (ThecalPumpLink *self,
                                            const ThecalPrescription *rx,
                                            const ThecalChecksum *reviewed_active,
                                            const ThecalMsgSetReservoir *fill,
                                            GCancellable *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer user_data);
gboolean thecal_pump_link_refill_program_finish (ThecalPumpLink *self,
                                                 GAsyncResult *result,
                                                 ThecalProgramReport *report,
                                                 GError **error);

/* Settles the last UNCERTAIN report by reading the active prescription again: *@report is then
 * CONFIRMED, FAILED or CONFLICT (UNCERTAIN again if the read failed too). */
void thecal_pump_link_resolve_async (ThecalPumpLink *self,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
gboolean thecal_pump_link_resolve_finish (ThecalPumpLink *self,
                                          GAsyncResult *result,
                                          ThecalProgramReport *report,
                                          GError **error);

/* Any request (not HELLO, AUTH, ERROR); the answer (to g_free) or an error:
 *  - the pump refused: THECAL_PROTO_ERROR, the pump's code (detail in the message);
 *  - no answer to a request that changes nothing: THECAL_WAND_ERROR_NO_PUMP;
 *  - no answer to a change (thecal_msg_type_changes_pump): THECAL_PROTO_ERROR_TIMEOUT, whose
 *    message says the change may or may not have been applied: read the pump first;
 *  - no session (wrong key, another pump): THECAL_PROTO_ERROR with the programmer's code. */
void thecal_pump_link_request_async (ThecalPumpLink *self,
                                     const ThecalMessage *request,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
ThecalMessage *thecal_pump_link_request_finish (ThecalPumpLink *self, GAsyncResult *result, GError **error);

/* The wand's link quality (WAND_LINK: signal, quality, pump in range), for the header's wand
 * status. The wand answers it itself, so it never reaches the pump and needs no session: it goes
 * beside any operation, in turn with its frames, and never makes it busy. One query at a time (a
 * second fails with THECAL_PROTO_ERROR_BUSY_LOCAL, as does a query while an interrupted operation
 * drains); no retransmission: no answer within 1 s fails with THECAL_WAND_ERROR_IO. A cancelled
 * query ends at once. */
void thecal_pump_link_read_wand_link_async (ThecalPumpLink *self,
                                            GCancellable *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer user_data);
gboolean thecal_pump_link_read_wand_link_finish (ThecalPumpLink *self, GAsyncResult *result, ThecalWandLink *wand_link, GError **error);

/* The other requests, typed (each finishes with thecal_pump_link_request_finish and reads its
 * answer's field: status, prescription, checksum (SET_PTM), clock_reply (SET_CLOCK)). */
void thecal_pump_link_read_status_async (ThecalPumpLink *self, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
void thecal_pump_link_read_prescription_async (ThecalPumpLink *self, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
void thecal_pump_link_set_reservoir_async (ThecalPumpLink *self,
                                           const ThecalMsgSetReservoir *request,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer user_data);
void thecal_pump_link_start_bolus_async (ThecalPumpLink *self,
                                         const ThecalMsgStartBolus *request,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data);
void thecal_pump_link_cancel_bolus_async (ThecalPumpLink *self, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
void thecal_pump_link_set_ptm_async (ThecalPumpLink *self,
                                     const ThecalMsgSetPtm *request,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
void thecal_pump_link_set_clock_async (ThecalPumpLink *self,
                                       gint64 pump_local_ms,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
void thecal_pump_link_ack_alarm_async (ThecalPumpLink *self,
                                       ThecalProtoAlarm alarm,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);

G_END_DECLS
