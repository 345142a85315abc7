/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-transport.c: the ThecalTransport interface (thecal-transport.h): the error domain, the
 * "disconnected" signal, the public wrappers, the sync helpers, and the inbound frame queue the
 * transports share (thecal-transport-private.h).
 */
#include "config.h"

#include "thecal-transport-private.h"

#include <glib/gi18n-lib.h>

#include "thecal-frame.h"

/* The quark's name as written (clang-format would space its dashes). */
/* clang-format off */
G_DEFINE_QUARK (thecal-wand-error-quark, thecal_wand_error)
/* clang-format on */

G_DEFINE_INTERFACE (ThecalTransport, thecal_transport, G_TYPE_OBJECT)

enum
{
  SIGNAL_DISCONNECTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
thecal_transport_default_init (ThecalTransportInterface *iface)
{
  (void) iface;
  /* "disconnected" (ThecalTransport *self, const GError *reason): the link went away by itself.
   * Emitted on the transport's owning context. */
  signals[SIGNAL_DISCONNECTED] = g_signal_new ("disconnected", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                               NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

void
thecal_transport_send_async (ThecalTransport *self,
                             GBytes *frame,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  g_return_if_fail (THECAL_IS_TRANSPORT (self));
  g_return_if_fail (frame != NULL);
  THECAL_TRANSPORT_GET_IFACE (self)->send_async (self, frame, cancellable, callback, user_data);
}

gboolean
thecal_transport_send_finish (ThecalTransport *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (THECAL_IS_TRANSPORT (self), FALSE);
  return THECAL_TRANSPORT_GET_IFACE (self)->send_finish (self, result, error);
}

void
thecal_transport_receive_async (ThecalTransport *self,
                                gint timeout_ms,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_return_if_fail (THECAL_IS_TRANSPORT (self));
  THECAL_TRANSPORT_GET_IFACE (self)->receive_async (self, timeout_ms, cancellable, callback, user_data);
}

GBytes *
thecal_transport_receive_finish (ThecalTransport *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (THECAL_IS_TRANSPORT (self), NULL);
  return THECAL_TRANSPORT_GET_IFACE (self)->receive_finish (self, result, error);
}

void
thecal_transport_close (ThecalTransport *self)
{
  g_return_if_fail (THECAL_IS_TRANSPORT (self));
  THECAL_TRANSPORT_GET_IFACE (self)->close (self);
}

const char *
thecal_transport_describe (ThecalTransport *self)
{
  g_return_val_if_fail (THECAL_IS_TRANSPORT (self), NULL);
  return THECAL_TRANSPORT_GET_IFACE (self)->describe (self);
}

GMainContext *
thecal_transport_get_context (ThecalTransport *self)
{
  ThecalTransportInterface *iface;

  g_return_val_if_fail (THECAL_IS_TRANSPORT (self), NULL);
  iface = THECAL_TRANSPORT_GET_IFACE (self);
  return iface->get_context != NULL ? iface->get_context (self) : NULL;
}

void
thecal_transport_emit_disconnected (ThecalTransport *self, const GError *reason)
{
  g_return_if_fail (THECAL_IS_TRANSPORT (self));
  g_return_if_fail (reason != NULL);
  g_signal_emit (self, signals[SIGNAL_DISCONNECTED], 0, reason);
}

/* ---- the sync helpers ------------------------------------------------------------------------- */

typedef struct
{
  gboolean done;
  GAsyncResult *result;
} SyncCall;

/* Runs on the calling thread, inside the sync helper's loop. */
static void
sync_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  SyncCall *call = user_data;

  (void) source;
  call->result = g_object_ref (result);
  call->done = TRUE;
}

static GMainContext *
sync_begin (ThecalTransport *self, GError **error)
{
  GMainContext *context = thecal_transport_get_context (self);

  context = context != NULL ? g_main_context_ref (context) : g_main_context_ref_thread_default ();
  if (!g_main_context_acquire (context))
    {
      g_main_context_unref (context);
      g_set_error_literal (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_IO,
                           _ ("The wand cannot be used from this thread: its main context belongs to another thread"));
      return NULL;
    }
  g_main_context_push_thread_default (context);
  return context;
}

static void
sync_end (GMainContext *context, SyncCall *call)
{
  while (!call->done)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  g_main_context_release (context);
  g_main_context_unref (context);
}

gboolean
thecal_transport_send_sync (ThecalTransport *self, GBytes *frame, GCancellable *cancellable, GError **error)
{
  SyncCall call = { FALSE, NULL };
  GMainContext *context;
  gboolean ok;

  g_return_val_if_fail (THECAL_IS_TRANSPORT (self), FALSE);
  context = sync_begin (self, error);
  if (context == NULL)
    return FALSE;
  thecal_transport_send_async (self, frame, cancellable, sync_done, &call);
  sync_end (context, &call);
  ok = thecal_transport_send_finish (self, call.result, error);
  g_object_unref (call.result);
  return ok;
}

GBytes *
thecal_transport_receive_sync (ThecalTransport *self, gint timeout_ms, GCancellable *cancellable, GError **error)
{
  SyncCall call = { FALSE, NULL };
  GMainContext *context;
  GBytes *frame;

  g_return_val_if_fail (THECAL_IS_TRANSPORT (self), NULL);
  context = sync_begin (self, error);
  if (context == NULL)
    return NULL;
  thecal_transport_receive_async (self, timeout_ms, cancellable, sync_done, &call);
  sync_end (context, &call);
  frame = thecal_transport_receive_finish (self, call.result, error);
  g_object_unref (call.result);
  return frame;
}

/* ---- the inbound frame queue (thecal-transport-private.h) ------------------------------------- */

typedef struct
{
  ThecalFrameQueue *queue;
  GTask *task;
  GSource *timeout; /* attached; referenced here so it can be destroyed */
  GSource *cancel;
} ThecalFrameWaiter;

GError *
_thecal_transport_closed_error (void)
{
  return g_error_new_literal (THECAL_WAND_ERROR, THECAL_WAND_ERROR_DISCONNECTED, _ ("The link to the pump was closed"));
}

gboolean
_thecal_transport_task_send_finish (ThecalTransport *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

GBytes *
_thecal_transport_task_receive_finish (ThecalTransport *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
_thecal_frame_queue_init (ThecalFrameQueue *queue, ThecalClock *clock)
{
  g_queue_init (&queue->frames);
  g_queue_init (&queue->waiters);
  queue->clock = clock;
  queue->max_frames = THECAL_TRANSPORT_QUEUE_MAX;
  queue->dropped = 0;
  queue->no_pump_message = _ ("No pump in range: nothing answered within the time allowed");
  queue->hold = NULL;
  queue->hold_data = NULL;
}

/* Detaches @waiter from the queue and its sources; returns its task (to complete and unref). */
static GTask *
waiter_take (ThecalFrameWaiter *waiter)
{
  GTask *task = waiter->task;

  g_queue_remove (&waiter->queue->waiters, waiter);
  if (waiter->timeout != NULL)
    {
      g_source_destroy (waiter->timeout);
      g_source_unref (waiter->timeout);
    }
  if (waiter->cancel != NULL)
    {
      g_source_destroy (waiter->cancel);
      g_source_unref (waiter->cancel);
    }
  if (waiter->queue->hold != NULL)
    waiter->queue->hold (g_task_get_context (task), FALSE, waiter->queue->hold_data);
  g_free (waiter);
  return task;
}

void
_thecal_frame_queue_fail_waiters (ThecalFrameQueue *queue, const GError *error)
{
  ThecalFrameWaiter *waiter;

  while ((waiter = g_queue_peek_head (&queue->waiters)) != NULL)
    {
      GTask *task = waiter_take (waiter);

      g_task_return_error (task, g_error_copy (error));
      g_object_unref (task);
    }
}

void
_thecal_frame_queue_clear (ThecalFrameQueue *queue, const GError *error)
{
  GBytes *frame;

  while ((frame = g_queue_pop_head (&queue->frames)) != NULL)
    g_bytes_unref (frame);
  _thecal_frame_queue_fail_waiters (queue, error);
}

void
_thecal_frame_queue_push (ThecalFrameQueue *queue, GBytes *frame)
{
  ThecalFrameWaiter *waiter;

  /* a receiver cancelled a moment ago (its cancel source has not run yet) must not swallow the
   * frame: it ends now, and the frame goes to the next receiver or waits */
  while ((waiter = g_queue_peek_head (&queue->waiters)) != NULL && g_task_get_cancellable (waiter->task) != NULL
         && g_cancellable_is_cancelled (g_task_get_cancellable (waiter->task)))
    {
      GTask *task = waiter_take (waiter);

      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, _ ("Operation was cancelled"));
      g_object_unref (task);
    }
  if (waiter != NULL)
    {
      GTask *task = waiter_take (waiter);

      g_task_return_pointer (task, g_bytes_ref (frame), (GDestroyNotify) g_bytes_unref);
      g_object_unref (task);
      return;
    }
  if (g_queue_get_length (&queue->frames) >= queue->max_frames)
    {
      g_bytes_unref (g_queue_pop_head (&queue->frames));
      queue->dropped++;
    }
  g_queue_push_tail (&queue->frames, g_bytes_ref (frame));
}

/* Runs on the owning context when a receive waited too long. */
static gboolean
waiter_timed_out (gpointer user_data)
{
  ThecalFrameWaiter *waiter = user_data;
  const char *message = waiter->queue->no_pump_message;
  GTask *task;

  /* the source is being dispatched: drop our reference without destroying it twice */
  g_source_unref (waiter->timeout);
  waiter->timeout = NULL;
  task = waiter_take (waiter);
  g_task_return_error (task, g_error_new_literal (THECAL_WAND_ERROR, THECAL_WAND_ERROR_NO_PUMP, message));
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

/* Runs on the owning context (a GCancellable source) when the receive is cancelled. */
static gboolean
waiter_cancelled (GCancellable *cancellable, gpointer user_data)
{
  ThecalFrameWaiter *waiter = user_data;
  GTask *task;

  (void) cancellable;
  g_source_unref (waiter->cancel);
  waiter->cancel = NULL;
  task = waiter_take (waiter);
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, _ ("Operation was cancelled"));
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

void
_thecal_frame_queue_receive (ThecalFrameQueue *queue, GTask *task, gint timeout_ms)
{
  GCancellable *cancellable = g_task_get_cancellable (task);
  GBytes *frame = g_queue_pop_head (&queue->frames);
  ThecalFrameWaiter *waiter;

  if (frame != NULL)
    {
      g_task_return_pointer (task, frame, (GDestroyNotify) g_bytes_unref);
      g_object_unref (task);
      return;
    }
  if (cancellable != NULL && g_cancellable_is_cancelled (cancellable))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, _ ("Operation was cancelled"));
      g_object_unref (task);
      return;
    }
  waiter = g_new0 (ThecalFrameWaiter, 1);
  waiter->queue = queue;
  waiter->task = task;
  if (queue->hold != NULL)
    queue->hold (g_task_get_context (task), TRUE, queue->hold_data);
  if (timeout_ms >= 0)
    {
      waiter->timeout = thecal_clock_timeout_source_new (queue->clock, timeout_ms);
      g_source_set_callback (waiter->timeout, waiter_timed_out, waiter, NULL);
      g_source_attach (waiter->timeout, g_task_get_context (task));
    }
  if (cancellable != NULL)
    {
      waiter->cancel = g_cancellable_source_new (cancellable);
      g_source_set_callback (waiter->cancel, G_SOURCE_FUNC (waiter_cancelled), waiter, NULL);
      g_source_attach (waiter->cancel, g_task_get_context (task));
    }
  g_queue_push_tail (&queue->waiters, waiter);
}
