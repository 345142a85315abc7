/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-pump-link.c: a ThecalProgrammer driven over a ThecalTransport (thecal-pump-link.h).
 *
 * The loop of docs/protocol.md §9, as callbacks on the owning context:
 *
 *   begin_* → run (): every frame the programmer gives goes to the send queue (one send at a
 *   time); one receive stays pending while the programmer is busy; one timeout source is armed at
 *   thecal_programmer_deadline (). A frame → thecal_programmer_receive → run (); the timer →
 *   thecal_programmer_tick → run (). When the programmer is idle, step_done () starts the next
 *   step of the operation (an interrogation is several requests) or completes its GTask.
 *
 * "Draining": after the transport is lost or the caller cancels, frames are no longer sent or
 * received, and the programmer is left to run out its retransmission schedule on the timer, so
 * the outcome it reports is the truth as far as anyone can know it.
 */
#include "config.h"

#include "thecal-pump-link.h"

#include <glib/gi18n-lib.h>
#include <sodium.h>

/* The quark's name as written (clang-format would space its dashes). */
/* clang-format off */
G_DEFINE_QUARK (thecal-proto-error-quark, thecal_proto_error)
/* clang-format on */

typedef enum
{
  OP_NONE = 0,
  OP_IDENTIFY,
  OP_OPEN_SESSION,
  OP_REQUEST,
  OP_INTERROGATE,
  OP_READ_LOG,
  OP_PROGRAM,
  OP_RESOLVE,
} OpKind;

typedef enum
{
  STEP_NONE = 0,
  STEP_IDENTIFY,  /* IDENTIFY: the serial, for the key */
  STEP_HANDSHAKE, /* open_session */
  STEP_REQUEST,   /* the caller's request */
  STEP_STATUS,    /* interrogation */
  STEP_PRESCRIPTION,
  STEP_LOG,
  STEP_PROGRAM,
  STEP_RESOLVE,
} Step;

struct _ThecalPumpLink
{
  GObject parent_instance;

  GMainContext *context; /* owning */
  ThecalClock *clock;
  gint64 last_now_ms;

  ThecalTransport *transport;
  gulong disconnected_id;
  gboolean connected;
  GError *lost_reason;

  ThecalProgrammer *programmer; /* about 260 KiB */
  ThecalProgrammerConfig config;
  gboolean key_set;
  ThecalPumpKeyFunc key_func;
  gpointer key_data;
  GDestroyNotify key_destroy;

  /* the operation */
  GTask *task;
  OpKind op;
  Step step;
  Step after_key; /* the step that follows IDENTIFY and the key lookup */
  gboolean cancelled;
  gboolean draining;
  GSource *cancel_source;
  char *expected_serial;
  ThecalMessage *request;
  ThecalPrescription rx;
  ThecalChecksum reviewed;
  gboolean has_fill; /* a refill program: REFILL_COMMIT with @fill in the place of COMMIT */
  ThecalMsgSetReservoir fill;
  ThecalPumpInterrogation *interrogation;
  gint64 log_from;
  guint log_max;
  guint log_batch;
  ThecalProgrammerStats stats_at_start;
  gboolean commit_handed;         /* a COMMIT (or REFILL_COMMIT) frame went to the transport in this operation */
  ThecalProgramStep program_step; /* the last "program-step" emitted in this operation */

  /* I/O */
  GSource *timer;
  gint64 timer_deadline;
  GCancellable *receive_cancellable;
  gboolean receiving;
  GQueue outgoing; /* GBytes * */
  gboolean sending;

  ThecalPumpLinkStats stats;

  /* the wand-local WAND_LINK query, beside any operation (thecal_pump_link_read_wand_link_async) */
  GTask *wand_task;
  guint32 wand_seq;
  GSource *wand_timer;
  GSource *wand_cancel_source;
};

G_DEFINE_FINAL_TYPE (ThecalPumpLink, thecal_pump_link, G_TYPE_OBJECT)

enum
{
  SIGNAL_PROGRAM_STEP,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void run (ThecalPumpLink *self);
static void step_done (ThecalPumpLink *self);
static gboolean wand_query_take (ThecalPumpLink *self, GBytes *frame);
static void wand_query_fail (ThecalPumpLink *self, GError *error);
static GError *busy_draining_error (void);

void
thecal_pump_interrogation_free (ThecalPumpInterrogation *interrogation)
{
  if (interrogation == NULL)
    return;
  g_clear_pointer (&interrogation->events, g_array_unref);
  g_free (interrogation);
}

static ThecalPumpInterrogation *
interrogation_new (void)
{
  ThecalPumpInterrogation *interrogation = g_new0 (ThecalPumpInterrogation, 1);

  interrogation->events = g_array_new (FALSE, FALSE, sizeof (ThecalProtoEvent));
  return interrogation;
}

/* ---- time ------------------------------------------------------------------------------------ */

/* The programmer's clock: the link's clock, never going backwards. */
static gint64
now_ms (ThecalPumpLink *self)
{
  gint64 now = thecal_clock_now_ms (self->clock);

  if (now < self->last_now_ms)
    now = self->last_now_ms;
  self->last_now_ms = now;
  return now;
}

/* ---- the transport ---------------------------------------------------------------------------- */

static void
drop_outgoing (ThecalPumpLink *self)
{
  GBytes *frame;

  while ((frame = g_queue_pop_head (&self->outgoing)) != NULL)
    g_bytes_unref (frame);
}

static void
stop_receive (ThecalPumpLink *self)
{
  if (self->receive_cancellable != NULL)
    g_cancellable_cancel (self->receive_cancellable);
}

/* The transport went away: what remains of the operation drains. */
static void
transport_lost (ThecalPumpLink *self, const GError *reason)
{
  if (!self->connected)
    return;
  self->connected = FALSE;
  self->stats.transports_lost++;
  g_clear_error (&self->lost_reason);
  self->lost_reason = g_error_copy (reason);
  self->draining = TRUE;
  drop_outgoing (self);
  stop_receive (self);
  wand_query_fail (self, g_error_copy (reason));
}

/* Runs on the owning context: the transport says it is gone. */
static void
on_transport_disconnected (ThecalTransport *transport, const GError *reason, gpointer user_data)
{
  (void) transport;
  transport_lost (THECAL_PUMP_LINK (user_data), reason);
}

static void flush_outgoing (ThecalPumpLink *self);

/* Runs on the owning context: the transport took the frame (or failed to). */
static void
on_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (ThecalPumpLink) self = user_data;
  g_autoptr (GError) error = NULL;

  self->sending = FALSE;
  if (!thecal_transport_send_finish (THECAL_TRANSPORT (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && THECAL_TRANSPORT (source) == self->transport)
        transport_lost (self, error);
      return;
    }
  flush_outgoing (self);
}

static void
flush_outgoing (ThecalPumpLink *self)
{
  g_autoptr (GBytes) frame = NULL;

  if (self->sending || !self->connected || self->draining)
    return;
  frame = g_queue_pop_head (&self->outgoing);
  if (frame == NULL)
    return;
  self->sending = TRUE;
  if (g_bytes_get_size (frame) > 3
      && (((const guint8 *) g_bytes_get_data (frame, NULL))[3] == THECAL_MSG_COMMIT
          || ((const guint8 *) g_bytes_get_data (frame, NULL))[3] == THECAL_MSG_REFILL_COMMIT))
    self->commit_handed = TRUE;
  thecal_transport_send_async (self->transport, frame, NULL, on_sent, g_object_ref (self));
}

static void ensure_receive (ThecalPumpLink *self);

/* Runs on the owning context: a frame from the pump (or the wand), or the end of a receive. */
static void
on_received (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (ThecalPumpLink) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) frame = thecal_transport_receive_finish (THECAL_TRANSPORT (source), result, &error);

  self->receiving = FALSE;
  g_clear_object (&self->receive_cancellable);
  if (frame == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || THECAL_TRANSPORT (source) != self->transport)
        {
          /* our own stop: receive again if an operation started meanwhile, or for the wand */
          if ((self->task != NULL && thecal_programmer_busy (self->programmer)) || self->wand_task != NULL)
            ensure_receive (self);
          if (self->draining)
            wand_query_fail (self, busy_draining_error ());
          return;
        }
      transport_lost (self, error);
      return;
    }
  if (wand_query_take (self, frame))
    {
      if (self->task != NULL && thecal_programmer_busy (self->programmer))
        ensure_receive (self);
      return;
    }
  if (self->draining)
    return;
  {
    gsize size;
    const guint8 *data = g_bytes_get_data (frame, &size);

    thecal_programmer_receive (self->programmer, now_ms (self), data, size);
  }
  if (self->task != NULL)
    run (self);
  else if (self->wand_task != NULL)
    ensure_receive (self);
}

static void
ensure_receive (ThecalPumpLink *self)
{
  if (self->receiving || !self->connected || self->draining)
    return;
  self->receiving = TRUE;
  self->receive_cancellable = g_cancellable_new ();
  thecal_transport_receive_async (self->transport, -1, self->receive_cancellable, on_received, g_object_ref (self));
}

/* ---- the timer -------------------------------------------------------------------------------- */

static void
disarm_timer (ThecalPumpLink *self)
{
  if (self->timer == NULL)
    return;
  g_source_destroy (self->timer);
  g_source_unref (self->timer);
  self->timer = NULL;
}

/* Runs on the owning context at the programmer's deadline. */
static gboolean
on_timer (gpointer user_data)
{
  ThecalPumpLink *self = user_data;

  g_source_unref (self->timer); /* being dispatched: the context still holds it */
  self->timer = NULL;
  thecal_programmer_tick (self->programmer, now_ms (self));
  run (self);
  return G_SOURCE_REMOVE;
}

static void
arm_timer (ThecalPumpLink *self, gint64 deadline_ms)
{
  if (self->timer != NULL && self->timer_deadline == deadline_ms)
    return;
  disarm_timer (self);
  if (deadline_ms == G_MAXINT64)
    return;
  self->timer_deadline = deadline_ms;
  self->timer = thecal_clock_timeout_source_new (self->clock, deadline_ms - now_ms (self));
  g_source_set_callback (self->timer, on_timer, self, NULL);
  g_source_attach (self->timer, self->context);
}

/* ---- the loop --------------------------------------------------------------------------------- */

/* The programmer's step as a step of two-phase programming (the handshake before it, the
 * verification read after a refusal counted as the read-back). */
static ThecalProgramStep
program_step_of (ThecalProgrammerStep step)
{
  switch (step)
    {
    case THECAL_PROGRAMMER_STEP_HELLO:
    case THECAL_PROGRAMMER_STEP_AUTH:
      return THECAL_PROGRAM_STEP_HANDSHAKE;
    case THECAL_PROGRAMMER_STEP_STAGE:
      return THECAL_PROGRAM_STEP_STAGE;
    case THECAL_PROGRAMMER_STEP_READ_STAGED:
      return THECAL_PROGRAM_STEP_READ_STAGED;
    case THECAL_PROGRAMMER_STEP_CANCEL:
      return THECAL_PROGRAM_STEP_CANCEL;
    case THECAL_PROGRAMMER_STEP_COMMIT:
      return THECAL_PROGRAM_STEP_COMMIT;
    case THECAL_PROGRAMMER_STEP_READ_BACK:
    case THECAL_PROGRAMMER_STEP_VERIFY:
      return THECAL_PROGRAM_STEP_READ_BACK;
    case THECAL_PROGRAMMER_STEP_RESOLVE:
      return THECAL_PROGRAM_STEP_RESOLVE;
    case THECAL_PROGRAMMER_STEP_IDLE:
    case THECAL_PROGRAMMER_STEP_USER:
    default:
      return THECAL_PROGRAM_STEP_NONE;
    }
}

/* Two-phase programming: "program-step" once per step entered, in order. */
static void
emit_program_step (ThecalPumpLink *self)
{
  ThecalProgramStep step;

  if (self->op != OP_PROGRAM)
    return;
  step = program_step_of (thecal_programmer_step (self->programmer));
  if (step == THECAL_PROGRAM_STEP_NONE || step == self->program_step)
    return;
  self->program_step = step;
  g_signal_emit (self, signals[SIGNAL_PROGRAM_STEP], 0, (guint) step);
}

static void
run (ThecalPumpLink *self)
{
  const uint8_t *frame;
  size_t length;

  emit_program_step (self);
  while ((frame = thecal_programmer_take_output (self->programmer, &length)) != NULL)
    if (!self->draining && self->connected)
      g_queue_push_tail (&self->outgoing, g_bytes_new (frame, length));
  flush_outgoing (self);
  if (thecal_programmer_busy (self->programmer))
    {
      ensure_receive (self);
      arm_timer (self, thecal_programmer_deadline (self->programmer));
      return;
    }
  /* the receive stays pending between the steps of one operation; complete () stops it */
  disarm_timer (self);
  step_done (self);
}

/* ---- completing ------------------------------------------------------------------------------- */

static void
update_stats (ThecalPumpLink *self)
{
  const ThecalProgrammerStats *now = thecal_programmer_stats (self->programmer);
  const ThecalProgrammerStats *then = &self->stats_at_start;

  self->stats.round_trips += (guint64) ((now->frames_sent - now->retransmissions) - (then->frames_sent - then->retransmissions));
  self->stats.retransmissions += (guint64) (now->retransmissions - then->retransmissions);
  self->stats.bytes_sent += (guint64) (now->bytes_sent - then->bytes_sent);
  self->stats.bytes_received += (guint64) (now->bytes_received - then->bytes_received);
  self->stats.frames_ignored += (guint64) (now->frames_ignored - then->frames_ignored);
}

/* Ends the operation: the state is clean before the task returns (its callback may start the next
 * operation at once). @result is handed to the task with @destroy; @error (taken) wins. */
static void
complete (ThecalPumpLink *self, gpointer result, GDestroyNotify destroy, GError *error)
{
  g_autoptr (GTask) task = g_steal_pointer (&self->task);

  update_stats (self);
  disarm_timer (self);
  stop_receive (self);
  if (self->cancel_source != NULL)
    {
      g_source_destroy (self->cancel_source);
      g_clear_pointer (&self->cancel_source, g_source_unref);
    }
  self->op = OP_NONE;
  self->step = STEP_NONE;
  self->cancelled = FALSE;
  self->draining = !self->connected;
  g_clear_pointer (&self->expected_serial, g_free);
  g_clear_pointer (&self->request, g_free);
  g_clear_pointer (&self->interrogation, thecal_pump_interrogation_free);
  if (error != NULL)
    {
      if (destroy != NULL && result != NULL)
        destroy (result);
      g_task_return_error (task, error);
    }
  else
    g_task_return_pointer (task, result, destroy);
}

static GError *
cancelled_error (void)
{
  return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, _ ("Operation was cancelled"));
}

/* The error of a request that did not end OK (docs/protocol.md §8, "Exchange statuses"). */
static GError *
exchange_error (ThecalPumpLink *self, const ThecalProgrammerResult *result)
{
  const char *type = thecal_msg_type_name (result->request_type);

  switch (result->status)
    {
    case THECAL_EXCHANGE_REFUSED:
      if (result->error.code == THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT)
        return g_error_new (THECAL_PROTO_ERROR, result->error.code, _ ("The pump refused %s (its limit %s): %s"), type,
                            thecal_pump_limit_name ((ThecalPumpLimit) result->error.detail), result->error.reason);
      return g_error_new (THECAL_PROTO_ERROR, result->error.code, _ ("The pump refused %s (%s): %s"), type,
                          thecal_proto_error_code_name (result->error.code), result->error.reason);
    case THECAL_EXCHANGE_LOST:
      if (thecal_msg_type_changes_pump (result->request_type))
        return g_error_new (THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_TIMEOUT,
                            _ ("No answer to %s%s%s: the change may or may not have been applied. Read the pump's "
                               "status and event log before doing anything else."),
                            type, self->lost_reason != NULL ? ": " : "",
                            self->lost_reason != NULL ? self->lost_reason->message : "");
      if (self->lost_reason != NULL)
        return g_error_copy (self->lost_reason);
      return g_error_new (THECAL_WAND_ERROR, THECAL_WAND_ERROR_NO_PUMP, _ ("No pump in range: no answer to %s"), type);
    case THECAL_EXCHANGE_FAILED:
      if (result->error.code == THECAL_PROTO_ERROR_TIMEOUT)
        {
          if (self->lost_reason != NULL)
            return g_error_copy (self->lost_reason);
          return g_error_new (THECAL_WAND_ERROR, THECAL_WAND_ERROR_NO_PUMP,
                              _ ("No pump in range: the pump did not answer the handshake"));
        }
      return g_error_new (THECAL_PROTO_ERROR, result->error.code, _ ("No session with the pump (%s): %s"),
                          thecal_proto_error_code_name (result->error.code), result->error.reason);
    case THECAL_EXCHANGE_OK:
    case THECAL_EXCHANGE_NONE:
    default:
      return g_error_new (THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_INTERNAL, _ ("The exchange ended without a result"));
    }
}

static GError *
begin_error (const ThecalProtoError *error)
{
  return g_error_new (THECAL_PROTO_ERROR, error->code, _ ("The request cannot start (%s): %s"),
                      thecal_proto_error_code_name (error->code), error->reason);
}

/* ---- the steps -------------------------------------------------------------------------------- */

static gboolean
needs_key (Step step)
{
  return step != STEP_IDENTIFY && step != STEP_NONE;
}

static void
begin_step (ThecalPumpLink *self, Step step)
{
  ThecalProtoError error;
  ThecalMessage *read_log;
  gboolean ok = FALSE;
  gint64 now = now_ms (self);

  /* a session needs the key: IDENTIFY and the key function first */
  if (needs_key (step) && !self->key_set && !(step == STEP_REQUEST && !thecal_msg_type_needs_session (self->request->type)))
    {
      self->after_key = step;
      step = STEP_IDENTIFY;
    }
  self->step = step;
  thecal_proto_error_clear (&error);
  switch (step)
    {
    case STEP_IDENTIFY:
      ok = thecal_programmer_begin_simple (self->programmer, now, THECAL_MSG_IDENTIFY, &error);
      break;
    case STEP_HANDSHAKE:
      ok = thecal_programmer_begin_handshake (self->programmer, now, &error);
      break;
    case STEP_REQUEST:
      ok = thecal_programmer_begin_request (self->programmer, now, self->request, &error);
      break;
    case STEP_STATUS:
      ok = thecal_programmer_begin_simple (self->programmer, now, THECAL_MSG_READ_STATUS, &error);
      break;
    case STEP_PRESCRIPTION:
      ok = thecal_programmer_begin_simple (self->programmer, now, THECAL_MSG_READ_PRESCRIPTION, &error);
      break;
    case STEP_LOG:
      {
        guint wanted = self->log_batch;
        guint have = self->interrogation->events->len;

        if (self->log_max > 0 && (wanted == 0 || self->log_max - have < wanted))
          wanted = self->log_max - have;
        if (wanted > THECAL_PROTO_LOG_BATCH_MAX)
          wanted = THECAL_PROTO_LOG_BATCH_MAX;
        read_log = g_new0 (ThecalMessage, 1);
        thecal_message_init (read_log, THECAL_MSG_READ_LOG, FALSE);
        read_log->read_log.from_seq = self->log_from;
        read_log->read_log.max_events = (uint16_t) wanted;
        ok = thecal_programmer_begin_request (self->programmer, now, read_log, &error);
        g_free (read_log);
      }
      break;
    case STEP_PROGRAM:
      if (self->has_fill)
        ok = thecal_programmer_begin_refill_program (self->programmer, now, &self->rx, &self->reviewed, &self->fill, &error);
      else
        ok = thecal_programmer_begin_program (self->programmer, now, &self->rx, &self->reviewed, &error);
      break;
    case STEP_RESOLVE:
      ok = thecal_programmer_begin_resolve (self->programmer, now, &error);
      break;
    case STEP_NONE:
    default:
      thecal_proto_error_set (&error, THECAL_PROTO_ERROR_INTERNAL, 0, "no step");
      break;
    }
  if (!ok)
    {
      complete (self, NULL, NULL, begin_error (&error));
      return;
    }
  run (self);
}

/* After IDENTIFY: the key of the pump that answered. */
static void
key_lookup (ThecalPumpLink *self)
{
  const ThecalProtoIdentity *identity = thecal_programmer_identity (self->programmer);
  guint8 key[THECAL_KEY_SIZE];

  if (self->expected_serial != NULL && g_strcmp0 (identity->serial, self->expected_serial) != 0)
    {
      complete (self, NULL, NULL,
                g_error_new (THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_WRONG_PUMP, _ ("The pump in range is %s, not %s"),
                             identity->serial, self->expected_serial));
      return;
    }
  if (self->key_func == NULL || !self->key_func (identity->serial, identity->model_id, key, self->key_data))
    {
      complete (self, NULL, NULL,
                g_error_new (THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_NO_KEY,
                             _ ("No pairing key for pump %s (%s): it is not paired with this clinic"), identity->serial,
                             identity->model_id));
      return;
    }
  thecal_programmer_set_key (self->programmer, key);
  sodium_memzero (key, sizeof key);
  if (!thecal_programmer_set_expected_serial (self->programmer, identity->serial))
    {
      complete (self, NULL, NULL, g_error_new (THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_BAD_REPLY, _ ("The pump's serial is not valid text")));
      return;
    }
  self->key_set = TRUE;
  begin_step (self, self->after_key);
}

static gpointer
copy_report (ThecalPumpLink *self)
{
  ThecalProgramReport *report = g_memdup2 (thecal_programmer_program_report (self->programmer), sizeof (ThecalProgramReport));

  /* The programmer counts COMMIT as sent when it gave the frame out; the link knows better when
   * the transport was gone (or the caller had cancelled) before any COMMIT frame reached it: the
   * pump cannot have switched (only COMMIT or REFILL_COMMIT switches), so the outcome is FAILED, not UNCERTAIN. A
   * COMMIT frame handed to the transport, even one whose send then failed, may have left: that
   * stays UNCERTAIN. (The programmer's own report stays as it is; resolving it still works.) */
  if (self->step == STEP_PROGRAM && report->outcome == THECAL_PROGRAM_UNCERTAIN && !self->commit_handed)
    {
      report->outcome = THECAL_PROGRAM_FAILED;
      report->commit_sent = FALSE;
      report->commit_acknowledged = FALSE;
      thecal_proto_error_set (&report->error, THECAL_PROTO_ERROR_SESSION_LOST, 0, "the link was lost before COMMIT left");
    }
  return report;
}

/* The programmer is idle: the step ended. */
static void
step_done (ThecalPumpLink *self)
{
  const ThecalProgrammerResult *result = thecal_programmer_result (self->programmer);
  const ThecalMessage *reply = thecal_programmer_reply (self->programmer);
  ThecalPumpInterrogation *in = self->interrogation;

  if (self->task == NULL)
    return;
  /* the outcome of programming is reported whatever happened to the link or the caller */
  if (self->step == STEP_PROGRAM || self->step == STEP_RESOLVE)
    {
      complete (self, copy_report (self), g_free, NULL);
      return;
    }
  if (self->cancelled)
    {
      complete (self, NULL, NULL, cancelled_error ());
      return;
    }
  if (result->status != THECAL_EXCHANGE_OK)
    {
      complete (self, NULL, NULL, exchange_error (self, result));
      return;
    }
  switch (self->step)
    {
    case STEP_IDENTIFY:
      if (self->op == OP_IDENTIFY)
        complete (self, g_memdup2 (&reply->identity, sizeof reply->identity), g_free, NULL);
      else
        key_lookup (self);
      return;
    case STEP_HANDSHAKE:
      complete (self, GINT_TO_POINTER (TRUE), NULL, NULL);
      return;
    case STEP_REQUEST:
      complete (self, g_memdup2 (reply, sizeof *reply), g_free, NULL);
      return;
    case STEP_STATUS:
      in->status = reply->status;
      begin_step (self, STEP_PRESCRIPTION);
      return;
    case STEP_PRESCRIPTION:
      in->prescription = reply->prescription;
      begin_step (self, STEP_LOG);
      return;
    case STEP_LOG:
      {
        const ThecalMsgLog *log = &reply->log;
        guint have;

        if (in->events->len == 0 && self->log_from < log->oldest_seq)
          in->log_gap = TRUE;
        g_array_append_vals (in->events, log->events, (guint) log->n_events);
        in->log_oldest_seq = log->oldest_seq;
        in->log_next_seq = log->next_seq;
        have = in->events->len;
        if (log->n_events > 0)
          self->log_from = log->events[log->n_events - 1].seq + 1;
        if (log->n_events > 0 && self->log_from < log->next_seq && (self->log_max == 0 || have < self->log_max))
          {
            begin_step (self, STEP_LOG);
            return;
          }
        in->identity = *thecal_programmer_identity (self->programmer);
        {
          const ThecalProgrammerStats *now = thecal_programmer_stats (self->programmer);
          const ThecalProgrammerStats *then = &self->stats_at_start;

          in->round_trips = (guint) ((now->frames_sent - now->retransmissions) - (then->frames_sent - then->retransmissions));
          in->retransmissions = (guint) (now->retransmissions - then->retransmissions);
          in->bytes_sent = (guint64) (now->bytes_sent - then->bytes_sent);
          in->bytes_received = (guint64) (now->bytes_received - then->bytes_received);
        }
        complete (self, g_steal_pointer (&self->interrogation), (GDestroyNotify) thecal_pump_interrogation_free, NULL);
      }
      return;
    case STEP_PROGRAM:
    case STEP_RESOLVE:
    case STEP_NONE:
    default:
      complete (self, NULL, NULL, g_error_new (THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_INTERNAL, _ ("Unknown step")));
      return;
    }
}

/* ---- the wand's own answer ------------------------------------------------------------------- */

/* The wand answers WAND_LINK itself over USB (docs/protocol.md "Wand-local messages"): one round
 * trip on the cable, no radio. A second is far more than it needs; there is no retransmission
 * (the caller asks again later). */
#define WAND_QUERY_TIMEOUT_MS 1000
/* The query's sequence numbers: a range of their own, far from the programmer's clear frames, so
 * that neither side can take the other's answer (the programmer ignores frames it did not ask
 * for, and this takes only an answer of its own type and number). */
#define WAND_QUERY_SEQ_FIRST 0x80000000u

/* Why a link without a transport cannot take a request: what took it away, else no wand. */
static GError *
not_connected_error (ThecalPumpLink *self)
{
  return self->lost_reason != NULL ? g_error_copy (self->lost_reason)
                                   : g_error_new_literal (THECAL_WAND_ERROR, THECAL_WAND_ERROR_NOT_FOUND, _ ("No wand connected"));
}

static GError *
busy_draining_error (void)
{
  return g_error_new_literal (THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_BUSY_LOCAL,
                              _ ("The link is finishing an interrupted operation: ask the wand again later"));
}

/* Ends the query (if one runs) with @result (to g_free) or @error (taken). */
static void
wand_query_complete (ThecalPumpLink *self, ThecalWandLink *result, GError *error)
{
  g_autoptr (GTask) task = g_steal_pointer (&self->wand_task);

  if (self->wand_timer != NULL)
    {
      g_source_destroy (self->wand_timer);
      g_clear_pointer (&self->wand_timer, g_source_unref);
    }
  if (self->wand_cancel_source != NULL)
    {
      g_source_destroy (self->wand_cancel_source);
      g_clear_pointer (&self->wand_cancel_source, g_source_unref);
    }
  if (task == NULL)
    {
      g_free (result);
      if (error != NULL)
        g_error_free (error);
      return;
    }
  if (error != NULL)
    {
      g_free (result);
      g_task_return_error (task, error);
    }
  else
    g_task_return_pointer (task, result, g_free);
}

static void
wand_query_fail (ThecalPumpLink *self, GError *error)
{
  wand_query_complete (self, NULL, error);
}

/* TRUE when @frame is the wand's answer to the query (taken: the query completes); FALSE for
 * anything else, which goes on to the programmer. */
static gboolean
wand_query_take (ThecalPumpLink *self, GBytes *frame)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (frame, &size);
  ThecalFrame decoded;
  ThecalProtoError proto_error;
  g_autofree ThecalMessage *answer = NULL;

  if (self->wand_task == NULL || thecal_frame_decode (data, size, &decoded) != THECAL_FRAME_OK
      || (decoded.flags & THECAL_FRAME_FLAG_RESPONSE) == 0 || decoded.seq != self->wand_seq
      || (decoded.flags & THECAL_FRAME_FLAG_ENCRYPTED) != 0
      || (decoded.type != THECAL_MSG_WAND_LINK && decoded.type != THECAL_MSG_ERROR))
    return FALSE;
  answer = g_new0 (ThecalMessage, 1);
  thecal_proto_error_clear (&proto_error);
  if (!thecal_message_decode (decoded.type, true, decoded.payload, decoded.length, answer, &proto_error))
    {
      wand_query_fail (self, g_error_new (THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_BAD_REPLY,
                                          _ ("The wand's answer to WAND_LINK does not decode: %s"), proto_error.reason));
      return TRUE;
    }
  if (decoded.type == THECAL_MSG_ERROR)
    {
      wand_query_fail (self, g_error_new (THECAL_PROTO_ERROR, answer->error.error.code, _ ("The wand refused WAND_LINK (%s): %s"),
                                          thecal_proto_error_code_name (answer->error.error.code), answer->error.error.reason));
      return TRUE;
    }
  wand_query_complete (self, g_memdup2 (&answer->wand_link, sizeof answer->wand_link), NULL);
  return TRUE;
}

/* Runs on the owning context: the wand did not answer in time. */
static gboolean
on_wand_timer (gpointer user_data)
{
  ThecalPumpLink *self = user_data;

  g_clear_pointer (&self->wand_timer, g_source_unref); /* being dispatched: the context still holds it */
  wand_query_fail (self, g_error_new_literal (THECAL_WAND_ERROR, THECAL_WAND_ERROR_IO,
                                              _ ("The wand did not answer: unplug it and plug it in again")));
  return G_SOURCE_REMOVE;
}

/* Runs on the owning context when the caller cancels the query: it ends now (a late answer is
 * then nobody's and goes to the programmer, which ignores it). */
static gboolean
on_wand_cancelled (GCancellable *cancellable, gpointer user_data)
{
  ThecalPumpLink *self = user_data;

  (void) cancellable;
  g_clear_pointer (&self->wand_cancel_source, g_source_unref);
  wand_query_fail (self, cancelled_error ());
  return G_SOURCE_REMOVE;
}

void
thecal_pump_link_read_wand_link_async (ThecalPumpLink *self, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  ThecalMessage request;
  uint8_t body[THECAL_MSG_BODY_MAX];
  size_t body_length = 0;
  uint8_t frame[THECAL_FRAME_MAX];
  size_t frame_length = 0;
  ThecalProtoError proto_error;

  g_return_if_fail (THECAL_IS_PUMP_LINK (self));
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, thecal_pump_link_read_wand_link_async);
  if (self->wand_task != NULL)
    {
      g_task_return_new_error (task, THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_BUSY_LOCAL, _ ("The wand is being asked already"));
      return;
    }
  if (!self->connected)
    {
      g_task_return_error (task, not_connected_error (self));
      return;
    }
  if (self->draining)
    {
      g_task_return_error (task, busy_draining_error ());
      return;
    }
  if (cancellable != NULL && g_cancellable_is_cancelled (cancellable))
    {
      g_task_return_error (task, cancelled_error ());
      return;
    }
  /* a number of its own each time: a late answer to an earlier query is not taken for this one */
  self->wand_seq = self->wand_seq < WAND_QUERY_SEQ_FIRST || self->wand_seq == G_MAXUINT32 ? WAND_QUERY_SEQ_FIRST : self->wand_seq + 1;
  thecal_message_init (&request, THECAL_MSG_WAND_LINK, false);
  thecal_proto_error_clear (&proto_error);
  if (!thecal_message_encode (&request, body, sizeof body, &body_length, &proto_error)
      || !thecal_frame_encode (THECAL_MSG_WAND_LINK, 0, self->wand_seq, body, body_length, frame, sizeof frame, &frame_length))
    {
      g_task_return_new_error (task, THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_INTERNAL, _ ("WAND_LINK cannot be encoded"));
      return;
    }
  self->wand_task = g_steal_pointer (&task);
  self->wand_timer = thecal_clock_timeout_source_new (self->clock, WAND_QUERY_TIMEOUT_MS);
  g_source_set_callback (self->wand_timer, on_wand_timer, self, NULL);
  g_source_attach (self->wand_timer, self->context);
  if (cancellable != NULL)
    {
      self->wand_cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (self->wand_cancel_source, G_SOURCE_FUNC (on_wand_cancelled), self, NULL);
      g_source_attach (self->wand_cancel_source, self->context);
    }
  /* in turn with the operation's frames (the wand answers it and relays nothing to the pump) */
  g_queue_push_tail (&self->outgoing, g_bytes_new (frame, frame_length));
  flush_outgoing (self);
  ensure_receive (self);
}

gboolean
thecal_pump_link_read_wand_link_finish (ThecalPumpLink *self, GAsyncResult *result, ThecalWandLink *wand_link, GError **error)
{
  g_autofree ThecalWandLink *found = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  found = g_task_propagate_pointer (G_TASK (result), error);
  if (found == NULL)
    return FALSE;
  if (wand_link != NULL)
    *wand_link = *found;
  return TRUE;
}

/* ---- starting an operation -------------------------------------------------------------------- */

/* Runs on the owning context when the caller cancels: stop talking, let the programmer drain. */
static gboolean
on_cancelled (GCancellable *cancellable, gpointer user_data)
{
  ThecalPumpLink *self = user_data;

  (void) cancellable;
  g_clear_pointer (&self->cancel_source, g_source_unref);
  self->cancelled = TRUE;
  self->draining = TRUE;
  drop_outgoing (self);
  stop_receive (self);
  return G_SOURCE_REMOVE;
}

/* The common start: FALSE (the task already failed) when the link cannot take an operation. */
static gboolean
start_op (ThecalPumpLink *self,
          OpKind op,
          GCancellable *cancellable,
          GAsyncReadyCallback callback,
          gpointer user_data,
          gpointer source_tag)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  /* the report of programming is returned even when the caller cancels (thecal-pump-link.h) */
  if (op == OP_PROGRAM || op == OP_RESOLVE)
    g_task_set_check_cancellable (task, FALSE);
  if (self->task != NULL)
    {
      g_task_return_new_error (task, THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_BUSY_LOCAL,
                               _ ("Another telemetry operation is under way"));
      return FALSE;
    }
  if (!self->connected)
    {
      g_task_return_error (task, not_connected_error (self));
      return FALSE;
    }
  if (cancellable != NULL && g_cancellable_is_cancelled (cancellable))
    {
      g_task_return_error (task, cancelled_error ());
      return FALSE;
    }
  self->task = g_steal_pointer (&task);
  self->op = op;
  self->cancelled = FALSE;
  self->draining = FALSE;
  self->stats.operations++;
  self->stats_at_start = *thecal_programmer_stats (self->programmer);
  self->commit_handed = FALSE;
  self->program_step = THECAL_PROGRAM_STEP_NONE;
  if (cancellable != NULL)
    {
      self->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (self->cancel_source, G_SOURCE_FUNC (on_cancelled), self, NULL);
      g_source_attach (self->cancel_source, self->context);
    }
  return TRUE;
}

void
thecal_pump_link_identify_async (ThecalPumpLink *self, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (THECAL_IS_PUMP_LINK (self));
  if (start_op (self, OP_IDENTIFY, cancellable, callback, user_data, thecal_pump_link_identify_async))
    begin_step (self, STEP_IDENTIFY);
}

gboolean
thecal_pump_link_identify_finish (ThecalPumpLink *self, GAsyncResult *result, ThecalProtoIdentity *identity, GError **error)
{
  g_autofree ThecalProtoIdentity *found = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  found = g_task_propagate_pointer (G_TASK (result), error);
  if (found == NULL)
    return FALSE;
  if (identity != NULL)
    *identity = *found;
  return TRUE;
}

void
thecal_pump_link_open_session_async (ThecalPumpLink *self,
                                     const char *expected_serial,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  g_return_if_fail (THECAL_IS_PUMP_LINK (self));
  if (!start_op (self, OP_OPEN_SESSION, cancellable, callback, user_data, thecal_pump_link_open_session_async))
    return;
  self->expected_serial = g_strdup (expected_serial);
  /* always identify: the key of the pump that is in range now */
  self->key_set = FALSE;
  begin_step (self, STEP_HANDSHAKE);
}

gboolean
thecal_pump_link_open_session_finish (ThecalPumpLink *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_pointer (G_TASK (result), error) != NULL;
}

static void
start_log (ThecalPumpLink *self,
           OpKind op,
           gint64 from_seq,
           guint max_events,
           guint batch_max,
           GCancellable *cancellable,
           GAsyncReadyCallback callback,
           gpointer user_data,
           gpointer tag)
{
  if (!start_op (self, op, cancellable, callback, user_data, tag))
    return;
  self->interrogation = interrogation_new ();
  self->log_from = from_seq < 1 ? 1 : from_seq;
  self->log_max = max_events;
  self->log_batch = batch_max;
  begin_step (self, op == OP_INTERROGATE ? STEP_STATUS : STEP_LOG);
}

void
thecal_pump_link_interrogate_async (ThecalPumpLink *self,
                                    gint64 from_seq,
                                    guint max_events,
                                    guint batch_max,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  g_return_if_fail (THECAL_IS_PUMP_LINK (self));
  start_log (self, OP_INTERROGATE, from_seq, max_events, batch_max, cancellable, callback, user_data,
             thecal_pump_link_interrogate_async);
}

ThecalPumpInterrogation *
thecal_pump_link_interrogate_finish (ThecalPumpLink *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
thecal_pump_link_read_log_async (ThecalPumpLink *self,
                                 gint64 from_seq,
                                 guint max_events,
                                 guint batch_max,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  g_return_if_fail (THECAL_IS_PUMP_LINK (self));
  start_log (self, OP_READ_LOG, from_seq, max_events, batch_max, cancellable, callback, user_data,
             thecal_pump_link_read_log_async);
}

ThecalPumpInterrogation *
thecal_pump_link_read_log_finish (ThecalPumpLink *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static gboolean
report_finish (ThecalPumpLink *self, GAsyncResult *result, ThecalProgramReport *report, GError **error)
{
  g_autofree ThecalProgramReport *found = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  found = g_task_propagate_pointer (G_TASK (result), error);
  if (found == NULL)
    return FALSE;
  if (report != NULL)
    *report = *found;
  return TRUE;
}

void
thecal_pump_link_program_async (ThecalPumpLink *self,
                                const ThecalPrescription *rx,
                                const ThecalChecksum *reviewed_active,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_return_if_fail (THECAL_IS_PUMP_LINK (self));
  g_return_if_fail (rx != NULL && reviewed_active != NULL);
  if (!start_op (self, OP_PROGRAM, cancellable, callback, user_data, thecal_pump_link_program_async))
    return;
  self->rx = *rx;
  self->reviewed = *reviewed_active;
  self->has_fill = FALSE;
  begin_step (self, STEP_PROGRAM);
}

gboolean
thecal_pump_link_program_finish (ThecalPumpLink *self, GAsyncResult *result, ThecalProgramReport *report, GError **error)
{
  return report_finish (self, result, report, error);
}

void
thecal_pump_link_refill_program_async (ThecalPumpLink *self,
                                       const ThecalPrescription *rx,
                                       const ThecalChecksum *reviewed_active,
                                       const ThecalMsgSetReservoir *fill,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data)
{
  g_return_if_fail (THECAL_IS_PUMP_LINK (self));
  g_return_if_fail (rx != NULL && reviewed_active != NULL && fill != NULL);
  /* the program path with another final step: the same outcome reporting */
  if (!start_op (self, OP_PROGRAM, cancellable, callback, user_data, thecal_pump_link_refill_program_async))
    return;
  self->rx = *rx;
  self->reviewed = *reviewed_active;
  self->has_fill = TRUE;
  self->fill = *fill;
  begin_step (self, STEP_PROGRAM);
}

gboolean
thecal_pump_link_refill_program_finish (ThecalPumpLink *self, GAsyncResult *result, ThecalProgramReport *report, GError **error)
{
  return report_finish (self, result, report, error);
}

void
thecal_pump_link_resolve_async (ThecalPumpLink *self, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (THECAL_IS_PUMP_LINK (self));
  if (start_op (self, OP_RESOLVE, cancellable, callback, user_data, thecal_pump_link_resolve_async))
    begin_step (self, STEP_RESOLVE);
}

gboolean
thecal_pump_link_resolve_finish (ThecalPumpLink *self, GAsyncResult *result, ThecalProgramReport *report, GError **error)
{
  return report_finish (self, result, report, error);
}

void
thecal_pump_link_request_async (ThecalPumpLink *self,
                                const ThecalMessage *request,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_return_if_fail (THECAL_IS_PUMP_LINK (self));
  g_return_if_fail (request != NULL);
  if (!start_op (self, OP_REQUEST, cancellable, callback, user_data, thecal_pump_link_request_async))
    return;
  self->request = g_memdup2 (request, sizeof *request);
  begin_step (self, STEP_REQUEST);
}

ThecalMessage *
thecal_pump_link_request_finish (ThecalPumpLink *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
request_type (ThecalPumpLink *self,
              ThecalMessage *request,
              GCancellable *cancellable,
              GAsyncReadyCallback callback,
              gpointer user_data)
{
  thecal_pump_link_request_async (self, request, cancellable, callback, user_data);
  g_free (request);
}

static ThecalMessage *
message_new (ThecalMsgType type)
{
  ThecalMessage *message = g_new0 (ThecalMessage, 1);

  thecal_message_init (message, type, FALSE);
  return message;
}

void
thecal_pump_link_read_status_async (ThecalPumpLink *self, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  request_type (self, message_new (THECAL_MSG_READ_STATUS), cancellable, callback, user_data);
}

void
thecal_pump_link_read_prescription_async (ThecalPumpLink *self, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  request_type (self, message_new (THECAL_MSG_READ_PRESCRIPTION), cancellable, callback, user_data);
}

void
thecal_pump_link_set_reservoir_async (ThecalPumpLink *self,
                                      const ThecalMsgSetReservoir *request,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  ThecalMessage *message = message_new (THECAL_MSG_SET_RESERVOIR);

  message->set_reservoir = *request;
  request_type (self, message, cancellable, callback, user_data);
}

void
thecal_pump_link_start_bolus_async (ThecalPumpLink *self,
                                    const ThecalMsgStartBolus *request,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  ThecalMessage *message = message_new (THECAL_MSG_START_BOLUS);

  message->start_bolus = *request;
  request_type (self, message, cancellable, callback, user_data);
}

void
thecal_pump_link_cancel_bolus_async (ThecalPumpLink *self, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  request_type (self, message_new (THECAL_MSG_CANCEL_BOLUS), cancellable, callback, user_data);
}

void
thecal_pump_link_set_ptm_async (ThecalPumpLink *self,
                                const ThecalMsgSetPtm *request,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  ThecalMessage *message = message_new (THECAL_MSG_SET_PTM);

  message->set_ptm = *request;
  request_type (self, message, cancellable, callback, user_data);
}

void
thecal_pump_link_set_clock_async (ThecalPumpLink *self,
                                  gint64 pump_local_ms,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  ThecalMessage *message = message_new (THECAL_MSG_SET_CLOCK);

  message->set_clock.pump_local_ms = pump_local_ms;
  request_type (self, message, cancellable, callback, user_data);
}

void
thecal_pump_link_ack_alarm_async (ThecalPumpLink *self,
                                  ThecalProtoAlarm alarm,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  ThecalMessage *message = message_new (THECAL_MSG_ACK_ALARM);

  message->ack_alarm.alarm = alarm;
  request_type (self, message, cancellable, callback, user_data);
}

/* ---- the object ------------------------------------------------------------------------------- */

static void
set_transport (ThecalPumpLink *self, ThecalTransport *transport)
{
  if (self->transport != NULL)
    {
      g_clear_signal_handler (&self->disconnected_id, self->transport);
      g_clear_object (&self->transport);
    }
  self->transport = g_object_ref (transport);
  self->disconnected_id = g_signal_connect (transport, "disconnected", G_CALLBACK (on_transport_disconnected), self);
  self->connected = TRUE;
  self->draining = FALSE;
  self->sending = FALSE;
  g_clear_error (&self->lost_reason);
}

gboolean
thecal_pump_link_set_transport (ThecalPumpLink *self, ThecalTransport *transport, GError **error)
{
  g_return_val_if_fail (THECAL_IS_PUMP_LINK (self), FALSE);
  g_return_val_if_fail (THECAL_IS_TRANSPORT (transport), FALSE);
  if (self->task != NULL)
    {
      g_set_error_literal (error, THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_BUSY_LOCAL,
                           _ ("The wand cannot change while a telemetry operation is under way"));
      return FALSE;
    }
  stop_receive (self);
  drop_outgoing (self);
  wand_query_fail (self, g_error_new_literal (THECAL_WAND_ERROR, THECAL_WAND_ERROR_DISCONNECTED, _ ("The wand was replaced")));
  set_transport (self, transport);
  return TRUE;
}

ThecalTransport *
thecal_pump_link_get_transport (ThecalPumpLink *self)
{
  g_return_val_if_fail (THECAL_IS_PUMP_LINK (self), NULL);
  return self->transport;
}

gboolean
thecal_pump_link_is_connected (ThecalPumpLink *self)
{
  g_return_val_if_fail (THECAL_IS_PUMP_LINK (self), FALSE);
  return self->connected;
}

gboolean
thecal_pump_link_is_busy (ThecalPumpLink *self)
{
  g_return_val_if_fail (THECAL_IS_PUMP_LINK (self), FALSE);
  return self->task != NULL;
}

ThecalClock *
thecal_pump_link_get_clock (ThecalPumpLink *self)
{
  g_return_val_if_fail (THECAL_IS_PUMP_LINK (self), NULL);
  return self->clock;
}

const ThecalProtoIdentity *
thecal_pump_link_get_identity (ThecalPumpLink *self)
{
  g_return_val_if_fail (THECAL_IS_PUMP_LINK (self), NULL);
  return thecal_programmer_identity (self->programmer);
}

const ThecalPumpLinkStats *
thecal_pump_link_get_stats (ThecalPumpLink *self)
{
  g_return_val_if_fail (THECAL_IS_PUMP_LINK (self), NULL);
  return &self->stats;
}

const ThecalProgrammer *
thecal_pump_link_get_programmer (ThecalPumpLink *self)
{
  g_return_val_if_fail (THECAL_IS_PUMP_LINK (self), NULL);
  return self->programmer;
}

void
thecal_pump_link_set_key_func (ThecalPumpLink *self, ThecalPumpKeyFunc func, gpointer user_data, GDestroyNotify destroy)
{
  g_return_if_fail (THECAL_IS_PUMP_LINK (self));
  if (self->key_destroy != NULL)
    self->key_destroy (self->key_data);
  self->key_func = func;
  self->key_data = user_data;
  self->key_destroy = destroy;
  self->key_set = FALSE;
}

static void
thecal_pump_link_dispose (GObject *object)
{
  ThecalPumpLink *self = THECAL_PUMP_LINK (object);

  disarm_timer (self);
  stop_receive (self);
  drop_outgoing (self);
  wand_query_fail (self, g_error_new_literal (THECAL_WAND_ERROR, THECAL_WAND_ERROR_DISCONNECTED, _ ("The link was closed")));
  if (self->transport != NULL)
    {
      g_clear_signal_handler (&self->disconnected_id, self->transport);
      g_clear_object (&self->transport);
    }
  if (self->key_destroy != NULL)
    self->key_destroy (self->key_data);
  self->key_destroy = NULL;
  self->key_func = NULL;
  G_OBJECT_CLASS (thecal_pump_link_parent_class)->dispose (object);
}

static void
thecal_pump_link_finalize (GObject *object)
{
  ThecalPumpLink *self = THECAL_PUMP_LINK (object);

  /* the programmer holds the pairing key and the session key */
  sodium_memzero (self->programmer, sizeof *self->programmer);
  g_free (self->programmer);
  g_clear_object (&self->receive_cancellable);
  g_clear_object (&self->clock);
  g_clear_error (&self->lost_reason);
  g_main_context_unref (self->context);
  G_OBJECT_CLASS (thecal_pump_link_parent_class)->finalize (object);
}

static void
thecal_pump_link_class_init (ThecalPumpLinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = thecal_pump_link_dispose;
  object_class->finalize = thecal_pump_link_finalize;

  /* ThecalPumpLink::program-step (guint step: a ThecalProgramStep): two-phase programming (a
   * program or a refill program) entered @step: HANDSHAKE, STAGE, READ_STAGED, CANCEL, COMMIT,
   * READ_BACK; once per step, in order, on the owning context. For a progress view: a handler
   * must not call the link. */
  signals[SIGNAL_PROGRAM_STEP] = g_signal_new ("program-step", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                               G_TYPE_NONE, 1, G_TYPE_UINT);
}

static void
thecal_pump_link_init (ThecalPumpLink *self)
{
  self->context = g_main_context_ref_thread_default ();
  g_queue_init (&self->outgoing);
  self->wand_seq = 0; /* none asked yet: the first query takes WAND_QUERY_SEQ_FIRST */
}

ThecalPumpLink *
thecal_pump_link_new_full (ThecalTransport *transport, ThecalClock *clock, const ThecalProgrammerConfig *config)
{
  ThecalPumpLink *self;

  g_return_val_if_fail (THECAL_IS_TRANSPORT (transport), NULL);
  self = g_object_new (THECAL_TYPE_PUMP_LINK, NULL);
  self->clock = clock != NULL ? g_object_ref (clock) : thecal_clock_new_real ();
  self->last_now_ms = thecal_clock_now_ms (self->clock);
  memset (&self->config, 0, sizeof self->config);
  if (config != NULL)
    {
      self->config.retry_timeout_ms = config->retry_timeout_ms;
      self->config.max_attempts = config->max_attempts;
      self->config.session_timeout_ms = config->session_timeout_ms;
      self->config.random = config->random;
      self->config.random_data = config->random_data;
    }
  if (self->config.random == NULL)
    self->config.random = thecal_proto_random_sodium;
  self->programmer = g_new0 (ThecalProgrammer, 1);
  if (!thecal_programmer_init (self->programmer, &self->config))
    g_critical ("The telemetry programmer cannot start (libsodium)");
  set_transport (self, transport);
  return self;
}

ThecalPumpLink *
thecal_pump_link_new (ThecalTransport *transport, ThecalClock *clock)
{
  return thecal_pump_link_new_full (transport, clock, NULL);
}
