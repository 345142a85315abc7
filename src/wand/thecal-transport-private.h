/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-transport-private.h: what the transports of src/wand share: the inbound frame queue with
 * its waiting receivers (timeouts on a ThecalClock, cancellation through the owning context).
 *
 * Threads: every function runs on the thread that owns the transport's GMainContext.
 */
#pragma once

#include "thecal-clock.h"
#include "thecal-transport.h"

G_BEGIN_DECLS

/* Frames that arrive while nobody receives wait here; beyond this the oldest is dropped. */
#define THECAL_TRANSPORT_QUEUE_MAX 64

/* Called with @hold TRUE when a receive starts waiting for a frame on @context (its task's
 * context), FALSE when it stops waiting. */
typedef void (*ThecalFrameQueueHoldFunc) (GMainContext *context, gboolean hold, gpointer user_data);

typedef struct
{
  ThecalClock *clock; /* borrowed from the transport */
  GQueue frames;      /* GBytes *, oldest first */
  GQueue waiters;     /* ThecalFrameWaiter *, oldest first */
  guint max_frames;
  guint64 dropped;               /* frames dropped because the queue was full */
  const char *no_pump_message;   /* THECAL_WAND_ERROR_NO_PUMP's message after a timeout (translated) */
  ThecalFrameQueueHoldFunc hold; /* NULL, or set before the first receive */
  gpointer hold_data;
} ThecalFrameQueue;

void _thecal_frame_queue_init (ThecalFrameQueue *queue, ThecalClock *clock);
/* Fails every waiter with @error (a copy each); the queued frames stay. */
void _thecal_frame_queue_fail_waiters (ThecalFrameQueue *queue, const GError *error);
/* Drops every queued frame, then fails every waiter with @error (a copy each). */
void _thecal_frame_queue_clear (ThecalFrameQueue *queue, const GError *error);
/* A frame arrived: the oldest waiter gets it, or it is queued (taking a reference). */
void _thecal_frame_queue_push (ThecalFrameQueue *queue, GBytes *frame);
/* Completes @task (a receive_async task: its result is a GBytes *) with the next frame, now or
 * when one arrives; THECAL_WAND_ERROR_NO_PUMP after @timeout_ms (< 0: no limit); cancelled
 * through the task's cancellable. Takes over @task. */
void _thecal_frame_queue_receive (ThecalFrameQueue *queue, GTask *task, gint timeout_ms);

/* The error of a transport that is closed. */
GError *_thecal_transport_closed_error (void);

/* send_finish and receive_finish of a transport whose operations are GTasks of the transport
 * (a boolean, and a GBytes * frame). */
gboolean _thecal_transport_task_send_finish (ThecalTransport *self, GAsyncResult *result, GError **error);
GBytes *_thecal_transport_task_receive_finish (ThecalTransport *self, GAsyncResult *result, GError **error);

G_END_DECLS
