/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-fault-transport.c: the fault injector (thecal-fault-transport.h).
 *
 * Outgoing frames go to the inner transport one at a time (a queue, so a duplicate or a delayed
 * frame never overlaps another send). Incoming frames come from one inner receive that is always
 * pending while the link is open; each is judged, then queued for our own receivers
 * (thecal-transport-private.h). Every callback runs on the owning context.
 */
#include "config.h"

#include "thecal-fault-transport.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "thecal-frame.h"
#include "thecal-rng.h"
#include "thecal-transport-private.h"

struct _ThecalFaultTransport
{
  GObject parent_instance;

  ThecalTransport *inner;
  gulong inner_disconnected_id;
  ThecalFaultConfig config;
  ThecalClock *clock;
  GMainContext *context;
  ThecalRng rng;
  ThecalFaultPolicy policy;
  gpointer policy_data;
  GDestroyNotify policy_destroy;

  gboolean closed;
  ThecalFrameQueue inbound;
  GCancellable *inner_cancellable; /* the pending inner receive */
  gboolean receiving;
  GQueue outgoing; /* GBytes *, waiting for the inner send */
  gboolean sending;
  GList *delayed; /* Delayed * */
  GSource *disconnect_idle;
  GError *disconnect_reason;

  ThecalFaultStats stats;
  gboolean record_trace;
  GArray *trace;
  char *description;
};

static void thecal_fault_transport_iface_init (ThecalTransportInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ThecalFaultTransport,
                               thecal_fault_transport,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (THECAL_TYPE_TRANSPORT, thecal_fault_transport_iface_init))

typedef struct
{
  ThecalFaultTransport *self; /* not referenced: destroyed with the transport */
  GSource *source;            /* referenced */
  ThecalFaultDirection direction;
  GBytes *frame;
} Delayed;

/* The callback data of inner operations: the transport may be gone when they complete. */
typedef struct
{
  GWeakRef self;
} WeakBox;

static WeakBox *
weak_box_new (ThecalFaultTransport *self)
{
  WeakBox *box = g_new0 (WeakBox, 1);

  g_weak_ref_init (&box->self, self);
  return box;
}

static ThecalFaultTransport *
weak_box_take (WeakBox *box)
{
  ThecalFaultTransport *self = g_weak_ref_get (&box->self);

  g_weak_ref_clear (&box->self);
  g_free (box);
  return self;
}

const char *
thecal_fault_action_name (ThecalFaultAction action)
{
  switch (action)
    {
    case THECAL_FAULT_ACTION_RANDOM:
      return "random";
    case THECAL_FAULT_ACTION_DELIVER:
      return "deliver";
    case THECAL_FAULT_ACTION_DROP:
      return "drop";
    case THECAL_FAULT_ACTION_CORRUPT:
      return "corrupt";
    case THECAL_FAULT_ACTION_DUPLICATE:
      return "duplicate";
    case THECAL_FAULT_ACTION_DELAY:
      return "delay";
    case THECAL_FAULT_ACTION_DISCONNECT:
      return "disconnect";
    case THECAL_FAULT_N_ACTIONS:
    default:
      return "?";
    }
}

gboolean
thecal_fault_config_valid (const ThecalFaultConfig *config)
{
  guint64 sum;

  if (config == NULL)
    return FALSE;
  sum = (guint64) config->drop_ppm + config->corrupt_ppm + config->duplicate_ppm + config->delay_ppm + config->disconnect_ppm;
  return sum <= THECAL_FAULT_PPM && config->delay_min_ms <= config->delay_max_ms;
}

/* ---- disconnecting ---------------------------------------------------------------------------- */

static void drop_delayed (ThecalFaultTransport *self);

/* Runs on the owning context: "disconnected" is emitted from an idle, never from inside the
 * caller's own call. */
static gboolean
emit_disconnected (gpointer user_data)
{
  ThecalFaultTransport *self = user_data;
  g_autoptr (GError) reason = g_steal_pointer (&self->disconnect_reason);

  self->disconnect_idle = NULL;
  if (reason != NULL)
    thecal_transport_emit_disconnected (THECAL_TRANSPORT (self), reason);
  return G_SOURCE_REMOVE;
}

static void
shut_down (ThecalFaultTransport *self, const GError *error)
{
  GBytes *frame;

  self->closed = TRUE;
  drop_delayed (self);
  while ((frame = g_queue_pop_head (&self->outgoing)) != NULL)
    g_bytes_unref (frame);
  g_cancellable_cancel (self->inner_cancellable);
  _thecal_frame_queue_clear (&self->inbound, error);
}

/* The link goes away by itself (an injected disconnect, or the inner transport's). */
static void
disconnect (ThecalFaultTransport *self, const GError *reason)
{
  if (self->closed)
    return;
  self->stats.disconnects++;
  shut_down (self, reason);
  thecal_transport_close (self->inner);
  self->disconnect_reason = g_error_copy (reason);
  self->disconnect_idle = g_idle_source_new ();
  g_source_set_callback (self->disconnect_idle, emit_disconnected, g_object_ref (self), g_object_unref);
  g_source_attach (self->disconnect_idle, self->context);
  g_source_unref (self->disconnect_idle);
}

static void
injected_disconnect (ThecalFaultTransport *self)
{
  g_autoptr (GError) reason = g_error_new_literal (THECAL_WAND_ERROR, THECAL_WAND_ERROR_DISCONNECTED,
                                                   _ ("The link to the pump was lost (injected fault)"));

  disconnect (self, reason);
}

/* Runs on the owning context: the inner transport went away. */
static void
inner_disconnected (ThecalTransport *inner, const GError *reason, gpointer user_data)
{
  (void) inner;
  disconnect (THECAL_FAULT_TRANSPORT (user_data), reason);
}

/* ---- deciding --------------------------------------------------------------------------------- */

static ThecalFaultAction
decide (ThecalFaultTransport *self, ThecalFaultDirection direction, GBytes *frame)
{
  guint64 index = ++self->stats.frames[direction];
  ThecalFaultAction action = THECAL_FAULT_ACTION_RANDOM;
  guint64 r = thecal_rng_below (&self->rng, THECAL_FAULT_PPM);
  guint64 edge = 0;

  /* One draw per frame whatever the policy says, so a policy does not shift the random stream. */
  if (self->policy != NULL)
    action = self->policy (self, direction, index, frame, self->policy_data);
  if (action == THECAL_FAULT_ACTION_RANDOM)
    {
      action = THECAL_FAULT_ACTION_DELIVER;
      if (r < (edge += self->config.drop_ppm))
        action = THECAL_FAULT_ACTION_DROP;
      else if (r < (edge += self->config.corrupt_ppm))
        action = THECAL_FAULT_ACTION_CORRUPT;
      else if (r < (edge += self->config.duplicate_ppm))
        action = THECAL_FAULT_ACTION_DUPLICATE;
      else if (r < (edge += self->config.delay_ppm))
        action = THECAL_FAULT_ACTION_DELAY;
      else if (r < (edge += self->config.disconnect_ppm))
        action = THECAL_FAULT_ACTION_DISCONNECT;
    }
  if (self->record_trace)
    {
      gsize size;
      const guint8 *data = g_bytes_get_data (frame, &size);
      ThecalFaultEvent event;

      memset (&event, 0, sizeof event); /* padding too: traces are compared byte for byte */
      event.direction = direction;
      event.index = index;
      event.type = size >= THECAL_FRAME_HEADER_SIZE ? data[3] : 0;
      event.action = action;
      g_array_append_val (self->trace, event);
    }
  return action;
}

/* 1 to 3 bit flips at positions of the generator. */
static GBytes *
corrupt (ThecalFaultTransport *self, GBytes *frame)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (frame, &size);
  guint8 *copy = g_memdup2 (data, size);
  guint64 flips = 1 + thecal_rng_below (&self->rng, 3);

  for (guint64 i = 0; i < flips && size > 0; i++)
    {
      guint64 bit = thecal_rng_below (&self->rng, (guint64) size * 8);

      copy[bit / 8] ^= (guint8) (1u << (bit % 8));
    }
  self->stats.corrupted++;
  return g_bytes_new_take (copy, size);
}

/* ---- the two directions ------------------------------------------------------------------------ */

static void pump_outgoing (ThecalFaultTransport *self);

static void
forward (ThecalFaultTransport *self, ThecalFaultDirection direction, GBytes *frame)
{
  if (self->closed)
    return;
  if (direction == THECAL_FAULT_TO_PUMP)
    {
      g_queue_push_tail (&self->outgoing, g_bytes_ref (frame));
      pump_outgoing (self);
    }
  else
    _thecal_frame_queue_push (&self->inbound, frame);
}

/* Runs on the owning context: a delayed frame's time has come. */
static gboolean
delayed_due (gpointer user_data)
{
  Delayed *delayed = user_data;
  ThecalFaultTransport *self = delayed->self;

  self->delayed = g_list_remove (self->delayed, delayed);
  forward (self, delayed->direction, delayed->frame);
  g_bytes_unref (delayed->frame);
  g_source_unref (delayed->source);
  g_free (delayed);
  return G_SOURCE_REMOVE;
}

static void
drop_delayed (ThecalFaultTransport *self)
{
  while (self->delayed != NULL)
    {
      Delayed *delayed = self->delayed->data;

      self->delayed = g_list_delete_link (self->delayed, self->delayed);
      g_source_destroy (delayed->source);
      g_source_unref (delayed->source);
      g_bytes_unref (delayed->frame);
      g_free (delayed);
    }
}

/* Applies the decision for @frame going in @direction. */
static void
judge (ThecalFaultTransport *self, ThecalFaultDirection direction, GBytes *frame)
{
  ThecalFaultAction action = decide (self, direction, frame);

  switch (action)
    {
    case THECAL_FAULT_ACTION_DROP:
      self->stats.dropped++;
      break;
    case THECAL_FAULT_ACTION_CORRUPT:
      {
        g_autoptr (GBytes) bad = corrupt (self, frame);

        forward (self, direction, bad);
      }
      break;
    case THECAL_FAULT_ACTION_DUPLICATE:
      self->stats.duplicated++;
      forward (self, direction, frame);
      forward (self, direction, frame);
      break;
    case THECAL_FAULT_ACTION_DELAY:
      {
        Delayed *delayed = g_new0 (Delayed, 1);
        guint64 span = (guint64) self->config.delay_max_ms - self->config.delay_min_ms + 1;

        self->stats.delayed++;
        delayed->self = self;
        delayed->direction = direction;
        delayed->frame = g_bytes_ref (frame);
        delayed->source = thecal_clock_timeout_source_new (self->clock,
                                                           self->config.delay_min_ms + (gint64) thecal_rng_below (&self->rng, span));
        g_source_set_callback (delayed->source, delayed_due, delayed, NULL);
        g_source_attach (delayed->source, self->context);
        self->delayed = g_list_prepend (self->delayed, delayed);
      }
      break;
    case THECAL_FAULT_ACTION_DISCONNECT:
      /* a coin of the same generator: did the frame get out before the link went? */
      if (thecal_rng_below (&self->rng, 2) == 1)
        {
          self->stats.delivered++;
          forward (self, direction, frame);
        }
      injected_disconnect (self);
      break;
    case THECAL_FAULT_ACTION_DELIVER:
    case THECAL_FAULT_ACTION_RANDOM:
    case THECAL_FAULT_N_ACTIONS:
    default:
      self->stats.delivered++;
      forward (self, direction, frame);
      break;
    }
}

/* Runs on the owning context: the inner transport took (or failed to take) the head frame. */
static void
inner_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (ThecalFaultTransport) self = weak_box_take (user_data);
  g_autoptr (GError) error = NULL;

  if (!thecal_transport_send_finish (THECAL_TRANSPORT (source), result, &error) && self != NULL && !self->closed)
    disconnect (self, error);
  if (self == NULL)
    return;
  self->sending = FALSE;
  pump_outgoing (self);
}

static void
pump_outgoing (ThecalFaultTransport *self)
{
  g_autoptr (GBytes) frame = NULL;

  if (self->sending || self->closed)
    return;
  frame = g_queue_pop_head (&self->outgoing);
  if (frame == NULL)
    return;
  self->sending = TRUE;
  thecal_transport_send_async (self->inner, frame, NULL, inner_sent, weak_box_new (self));
}

static void start_inner_receive (ThecalFaultTransport *self);

/* Runs on the owning context: a frame (or an error) from the inner transport. */
static void
inner_received (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (ThecalFaultTransport) self = weak_box_take (user_data);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) frame = thecal_transport_receive_finish (THECAL_TRANSPORT (source), result, &error);

  if (self == NULL)
    return;
  self->receiving = FALSE;
  if (self->closed)
    return;
  if (frame == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        disconnect (self, error);
      return;
    }
  judge (self, THECAL_FAULT_FROM_PUMP, frame);
  start_inner_receive (self);
}

static void
start_inner_receive (ThecalFaultTransport *self)
{
  if (self->receiving || self->closed)
    return;
  self->receiving = TRUE;
  thecal_transport_receive_async (self->inner, -1, self->inner_cancellable, inner_received, weak_box_new (self));
}

/* ---- the interface ---------------------------------------------------------------------------- */

static void
fault_send_async (ThecalTransport *transport,
                  GBytes *frame,
                  GCancellable *cancellable,
                  GAsyncReadyCallback callback,
                  gpointer user_data)
{
  ThecalFaultTransport *self = THECAL_FAULT_TRANSPORT (transport);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, fault_send_async);
  if (self->closed)
    {
      g_task_return_error (task, _thecal_transport_closed_error ());
      return;
    }
  start_inner_receive (self);
  judge (self, THECAL_FAULT_TO_PUMP, frame);
  /* a disconnect at this frame: whether it got out is unknown to the sender, as on a radio */
  if (self->closed)
    g_task_return_error (task, self->disconnect_reason != NULL ? g_error_copy (self->disconnect_reason)
                                                               : _thecal_transport_closed_error ());
  else
    g_task_return_boolean (task, TRUE);
}

static void
fault_receive_async (ThecalTransport *transport,
                     gint timeout_ms,
                     GCancellable *cancellable,
                     GAsyncReadyCallback callback,
                     gpointer user_data)
{
  ThecalFaultTransport *self = THECAL_FAULT_TRANSPORT (transport);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, fault_receive_async);
  if (self->closed)
    {
      g_task_return_error (task, _thecal_transport_closed_error ());
      g_object_unref (task);
      return;
    }
  start_inner_receive (self);
  _thecal_frame_queue_receive (&self->inbound, task, timeout_ms);
}

static void
fault_close (ThecalTransport *transport)
{
  ThecalFaultTransport *self = THECAL_FAULT_TRANSPORT (transport);
  g_autoptr (GError) error = NULL;

  if (self->closed)
    return;
  error = _thecal_transport_closed_error ();
  shut_down (self, error);
  thecal_transport_close (self->inner);
}

static const char *
fault_describe (ThecalTransport *transport)
{
  return THECAL_FAULT_TRANSPORT (transport)->description;
}

static GMainContext *
fault_get_context (ThecalTransport *transport)
{
  return THECAL_FAULT_TRANSPORT (transport)->context;
}

static void
thecal_fault_transport_iface_init (ThecalTransportInterface *iface)
{
  iface->send_async = fault_send_async;
  iface->send_finish = _thecal_transport_task_send_finish;
  iface->receive_async = fault_receive_async;
  iface->receive_finish = _thecal_transport_task_receive_finish;
  iface->close = fault_close;
  iface->describe = fault_describe;
  iface->get_context = fault_get_context;
}

/* ---- the object ------------------------------------------------------------------------------- */

static void
thecal_fault_transport_dispose (GObject *object)
{
  ThecalFaultTransport *self = THECAL_FAULT_TRANSPORT (object);

  if (self->inner != NULL)
    {
      fault_close (THECAL_TRANSPORT (self));
      g_clear_signal_handler (&self->inner_disconnected_id, self->inner);
    }
  if (self->disconnect_idle != NULL)
    {
      g_source_destroy (self->disconnect_idle);
      self->disconnect_idle = NULL;
    }
  if (self->policy_destroy != NULL)
    self->policy_destroy (self->policy_data);
  self->policy = NULL;
  self->policy_destroy = NULL;
  g_clear_object (&self->inner);
  G_OBJECT_CLASS (thecal_fault_transport_parent_class)->dispose (object);
}

static void
thecal_fault_transport_finalize (GObject *object)
{
  ThecalFaultTransport *self = THECAL_FAULT_TRANSPORT (object);

  g_clear_error (&self->disconnect_reason);
  g_clear_object (&self->inner_cancellable);
  g_clear_object (&self->clock);
  g_main_context_unref (self->context);
  g_array_unref (self->trace);
  g_free (self->description);
  G_OBJECT_CLASS (thecal_fault_transport_parent_class)->finalize (object);
}

static void
thecal_fault_transport_class_init (ThecalFaultTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = thecal_fault_transport_dispose;
  object_class->finalize = thecal_fault_transport_finalize;
}

static void
thecal_fault_transport_init (ThecalFaultTransport *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->inner_cancellable = g_cancellable_new ();
  self->trace = g_array_new (FALSE, FALSE, sizeof (ThecalFaultEvent));
  g_queue_init (&self->outgoing);
}

ThecalFaultTransport *
thecal_fault_transport_new (ThecalTransport *inner, const ThecalFaultConfig *config, ThecalClock *clock)
{
  ThecalFaultTransport *self;

  g_return_val_if_fail (THECAL_IS_TRANSPORT (inner), NULL);
  g_return_val_if_fail (thecal_fault_config_valid (config), NULL);
  self = g_object_new (THECAL_TYPE_FAULT_TRANSPORT, NULL);
  self->inner = g_object_ref (inner);
  self->config = *config;
  self->clock = clock != NULL ? g_object_ref (clock) : thecal_clock_new_real ();
  thecal_rng_seed (&self->rng, config->seed);
  _thecal_frame_queue_init (&self->inbound, self->clock);
  self->inner_disconnected_id = g_signal_connect (inner, "disconnected", G_CALLBACK (inner_disconnected), self);
  self->description = g_strdup_printf (_ ("%s through the fault injector (seed %" G_GUINT64_FORMAT ")"),
                                       thecal_transport_describe (inner), config->seed);
  return self;
}

ThecalTransport *
thecal_fault_transport_get_inner (ThecalFaultTransport *self)
{
  g_return_val_if_fail (THECAL_IS_FAULT_TRANSPORT (self), NULL);
  return self->inner;
}

void
thecal_fault_transport_set_policy (ThecalFaultTransport *self, ThecalFaultPolicy policy, gpointer user_data, GDestroyNotify destroy)
{
  g_return_if_fail (THECAL_IS_FAULT_TRANSPORT (self));
  if (self->policy_destroy != NULL)
    self->policy_destroy (self->policy_data);
  self->policy = policy;
  self->policy_data = user_data;
  self->policy_destroy = destroy;
}

const ThecalFaultStats *
thecal_fault_transport_get_stats (ThecalFaultTransport *self)
{
  g_return_val_if_fail (THECAL_IS_FAULT_TRANSPORT (self), NULL);
  return &self->stats;
}

void
thecal_fault_transport_set_record_trace (ThecalFaultTransport *self, gboolean record)
{
  g_return_if_fail (THECAL_IS_FAULT_TRANSPORT (self));
  self->record_trace = record;
}

GArray *
thecal_fault_transport_get_trace (ThecalFaultTransport *self)
{
  g_return_val_if_fail (THECAL_IS_FAULT_TRANSPORT (self), NULL);
  return self->trace;
}
