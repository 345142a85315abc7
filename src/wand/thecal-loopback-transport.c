/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-loopback-transport.c: the in-process wand and pump (thecal-loopback-transport.h).
 */
#include "config.h"

#include "thecal-loopback-transport.h"

#include <glib/gi18n-lib.h>

#include "thecal-frame.h"
#include "thecal-transport-private.h"
#include "thecal-wand-local.h"

struct _ThecalLoopbackTransport
{
  GObject parent_instance;

  ThecalSimPump *pump;
  GDestroyNotify pump_free;
  ThecalClock *clock;
  GMainContext *context; /* owning */
  guint latency_ms;
  guint time_scale;
  gboolean pump_in_range;
  gint64 pump_origin_ms;  /* pump true time ... */
  gint64 clock_origin_ms; /* ... at this clock time */
  gboolean closed;
  GError *closed_reason; /* the unplug's error; NULL: closed by the caller */
  ThecalLoopbackTimeFunc time_func;
  gpointer time_data;
  GDestroyNotify time_destroy;
  ThecalFrameQueue inbound;
  GList *in_flight; /* InFlight *: frames on their way, either direction */
  ThecalWandInfo wand_info;
  ThecalWandLink wand_link;
  ThecalLoopbackStats stats;
  char *description;
};

static void thecal_loopback_transport_iface_init (ThecalTransportInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ThecalLoopbackTransport,
                               thecal_loopback_transport,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (THECAL_TYPE_TRANSPORT, thecal_loopback_transport_iface_init))

enum
{
  PROP_0,
  PROP_LATENCY_MS,
  PROP_TIME_SCALE,
  PROP_PUMP_IN_RANGE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef enum
{
  TO_PUMP,
  TO_PROGRAMMER,
} Direction;

typedef struct
{
  ThecalLoopbackTransport *self; /* not referenced: dispose destroys every source first */
  GSource *source;               /* referenced */
  Direction direction;
  GBytes *frame;
} InFlight;

static void
in_flight_free (InFlight *flight)
{
  g_bytes_unref (flight->frame);
  g_source_unref (flight->source);
  g_free (flight);
}

/* ---- time ------------------------------------------------------------------------------------ */

gint64
thecal_loopback_transport_pump_time_ms (ThecalLoopbackTransport *self)
{
  gint64 elapsed, scaled;

  g_return_val_if_fail (THECAL_IS_LOOPBACK_TRANSPORT (self), 0);
  if (self->time_func != NULL)
    return self->time_func (self->time_data);
  elapsed = thecal_clock_now_ms (self->clock) - self->clock_origin_ms;
  if (elapsed < 0)
    elapsed = 0;
  if (__builtin_mul_overflow (elapsed, (gint64) self->time_scale, &scaled))
    scaled = G_MAXINT64 / 2;
  return self->pump_origin_ms + scaled;
}

/* Runs on the owning context. */
void
thecal_loopback_transport_advance_pump (ThecalLoopbackTransport *self)
{
  ThecalDoseError error;

  g_return_if_fail (THECAL_IS_LOOPBACK_TRANSPORT (self));
  thecal_dose_error_clear (&error);
  if (!thecal_sim_pump_advance_to (self->pump, thecal_loopback_transport_pump_time_ms (self), &error))
    g_warning ("The simulated pump cannot advance: %s", error.message);
}

static void
rebase_time (ThecalLoopbackTransport *self)
{
  self->pump_origin_ms = thecal_loopback_transport_pump_time_ms (self);
  self->clock_origin_ms = thecal_clock_now_ms (self->clock);
}

/* ---- frames on the link ------------------------------------------------------------------------ */

static void schedule (ThecalLoopbackTransport *self, Direction direction, GBytes *frame);

/* Runs on the owning context: a frame reaches the wand. */
static void
reach_wand (ThecalLoopbackTransport *self, GBytes *frame)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (frame, &size);
  guint8 answer[256];
  size_t answer_length = 0;
  const uint8_t *pump_answer;
  size_t pump_answer_length;

  /* The wand answers its own messages and relays the rest unchanged (docs/protocol.md §9). */
  if (thecal_wand_local_answer (data, size, &self->wand_info, &self->wand_link, answer, sizeof answer, &answer_length))
    {
      g_autoptr (GBytes) reply = g_bytes_new (answer, answer_length);

      self->stats.frames_to_wand++;
      schedule (self, TO_PROGRAMMER, reply);
      return;
    }
  if (!self->pump_in_range)
    {
      self->stats.dropped_out_of_range++;
      return;
    }
  thecal_loopback_transport_advance_pump (self);
  self->stats.frames_to_pump++;
  if (thecal_sim_pump_handle_frame (self->pump, data, size, &pump_answer, &pump_answer_length))
    {
      g_autoptr (GBytes) reply = g_bytes_new (pump_answer, pump_answer_length);

      schedule (self, TO_PROGRAMMER, reply);
    }
}

/* Runs on the owning context: one frame's idle or latency timeout. */
static gboolean
in_flight_arrived (gpointer user_data)
{
  InFlight *flight = user_data;
  ThecalLoopbackTransport *self = flight->self;

  self->in_flight = g_list_remove (self->in_flight, flight);
  if (!self->closed)
    {
      if (flight->direction == TO_PUMP)
        reach_wand (self, flight->frame);
      else
        {
          self->stats.answers++;
          self->stats.bytes_received += g_bytes_get_size (flight->frame);
          _thecal_frame_queue_push (&self->inbound, flight->frame);
        }
    }
  in_flight_free (flight);
  return G_SOURCE_REMOVE;
}

/* Every frame travels in its own source, after the latency (an idle when there is none). */
static void
schedule (ThecalLoopbackTransport *self, Direction direction, GBytes *frame)
{
  InFlight *flight = g_new0 (InFlight, 1);

  flight->self = self;
  flight->direction = direction;
  flight->frame = g_bytes_ref (frame);
  if (self->latency_ms > 0)
    flight->source = thecal_clock_timeout_source_new (self->clock, self->latency_ms);
  else
    {
      flight->source = g_idle_source_new ();
      g_source_set_static_name (flight->source, "ThecalLoopbackTransport frame");
    }
  g_source_set_callback (flight->source, in_flight_arrived, flight, NULL);
  g_source_attach (flight->source, self->context);
  self->in_flight = g_list_prepend (self->in_flight, flight);
}

/* ---- the interface ---------------------------------------------------------------------------- */

static void
loopback_send_async (ThecalTransport *transport,
                     GBytes *frame,
                     GCancellable *cancellable,
                     GAsyncReadyCallback callback,
                     gpointer user_data)
{
  ThecalLoopbackTransport *self = THECAL_LOOPBACK_TRANSPORT (transport);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  gsize size = g_bytes_get_size (frame);

  g_task_set_source_tag (task, loopback_send_async);
  if (self->closed)
    {
      g_task_return_error (task, self->closed_reason != NULL ? g_error_copy (self->closed_reason) : _thecal_transport_closed_error ());
      return;
    }
  if (size == 0 || size > THECAL_FRAME_MAX)
    {
      g_task_return_new_error (task, THECAL_WAND_ERROR, THECAL_WAND_ERROR_FRAME,
                               _ ("A frame of %" G_GSIZE_FORMAT " bytes cannot be sent (at most %d)"), size, THECAL_FRAME_MAX);
      return;
    }
  self->stats.bytes_sent += size;
  schedule (self, TO_PUMP, frame);
  /* the frame has left: it is on the link */
  g_task_return_boolean (task, TRUE);
}

static void
loopback_receive_async (ThecalTransport *transport,
                        gint timeout_ms,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data)
{
  ThecalLoopbackTransport *self = THECAL_LOOPBACK_TRANSPORT (transport);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, loopback_receive_async);
  if (self->closed)
    {
      g_task_return_error (task, self->closed_reason != NULL ? g_error_copy (self->closed_reason) : _thecal_transport_closed_error ());
      g_object_unref (task);
      return;
    }
  _thecal_frame_queue_receive (&self->inbound, task, timeout_ms);
}

static void
drop_in_flight (ThecalLoopbackTransport *self)
{
  while (self->in_flight != NULL)
    {
      InFlight *flight = self->in_flight->data;

      self->in_flight = g_list_delete_link (self->in_flight, self->in_flight);
      g_source_destroy (flight->source);
      in_flight_free (flight);
    }
}

static void
loopback_close (ThecalTransport *transport)
{
  ThecalLoopbackTransport *self = THECAL_LOOPBACK_TRANSPORT (transport);
  g_autoptr (GError) error = NULL;

  if (self->closed)
    return;
  self->closed = TRUE;
  drop_in_flight (self);
  error = _thecal_transport_closed_error ();
  _thecal_frame_queue_clear (&self->inbound, error);
}

static const char *
loopback_describe (ThecalTransport *transport)
{
  return THECAL_LOOPBACK_TRANSPORT (transport)->description;
}

static GMainContext *
loopback_get_context (ThecalTransport *transport)
{
  return THECAL_LOOPBACK_TRANSPORT (transport)->context;
}

static void
thecal_loopback_transport_iface_init (ThecalTransportInterface *iface)
{
  iface->send_async = loopback_send_async;
  iface->send_finish = _thecal_transport_task_send_finish;
  iface->receive_async = loopback_receive_async;
  iface->receive_finish = _thecal_transport_task_receive_finish;
  iface->close = loopback_close;
  iface->describe = loopback_describe;
  iface->get_context = loopback_get_context;
}

/* ---- the object ------------------------------------------------------------------------------- */

static void
thecal_loopback_transport_dispose (GObject *object)
{
  ThecalLoopbackTransport *self = THECAL_LOOPBACK_TRANSPORT (object);

  loopback_close (THECAL_TRANSPORT (self));
  G_OBJECT_CLASS (thecal_loopback_transport_parent_class)->dispose (object);
}

static void
thecal_loopback_transport_finalize (GObject *object)
{
  ThecalLoopbackTransport *self = THECAL_LOOPBACK_TRANSPORT (object);

  if (self->pump_free != NULL)
    self->pump_free (self->pump);
  if (self->time_destroy != NULL)
    self->time_destroy (self->time_data);
  g_clear_error (&self->closed_reason);
  g_clear_object (&self->clock);
  g_main_context_unref (self->context);
  g_free (self->description);
  G_OBJECT_CLASS (thecal_loopback_transport_parent_class)->finalize (object);
}

static void
thecal_loopback_transport_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  ThecalLoopbackTransport *self = THECAL_LOOPBACK_TRANSPORT (object);

  switch (prop_id)
    {
    case PROP_LATENCY_MS:
      g_value_set_uint (value, self->latency_ms);
      break;
    case PROP_TIME_SCALE:
      g_value_set_uint (value, self->time_scale);
      break;
    case PROP_PUMP_IN_RANGE:
      g_value_set_boolean (value, self->pump_in_range);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
thecal_loopback_transport_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  ThecalLoopbackTransport *self = THECAL_LOOPBACK_TRANSPORT (object);

  switch (prop_id)
    {
    case PROP_LATENCY_MS:
      thecal_loopback_transport_set_latency_ms (self, g_value_get_uint (value));
      break;
    case PROP_TIME_SCALE:
      thecal_loopback_transport_set_time_scale (self, g_value_get_uint (value));
      break;
    case PROP_PUMP_IN_RANGE:
      thecal_loopback_transport_set_pump_in_range (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
thecal_loopback_transport_class_init (ThecalLoopbackTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = thecal_loopback_transport_dispose;
  object_class->finalize = thecal_loopback_transport_finalize;
  object_class->get_property = thecal_loopback_transport_get_property;
  object_class->set_property = thecal_loopback_transport_set_property;

  properties[PROP_LATENCY_MS] = g_param_spec_uint ("latency-ms", NULL, NULL, 0, 60000, 0,
                                                   G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TIME_SCALE] = g_param_spec_uint ("time-scale", NULL, NULL, 1, 1000000, 1,
                                                   G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PUMP_IN_RANGE] = g_param_spec_boolean ("pump-in-range", NULL, NULL, TRUE,
                                                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
thecal_loopback_transport_init (ThecalLoopbackTransport *self)
{
  self->time_scale = 1;
  self->pump_in_range = TRUE;
  self->context = g_main_context_ref_thread_default ();
}

ThecalLoopbackTransport *
thecal_loopback_transport_new (ThecalSimPump *pump, GDestroyNotify pump_free, ThecalClock *clock)
{
  ThecalLoopbackTransport *self;

  g_return_val_if_fail (pump != NULL, NULL);
  self = g_object_new (THECAL_TYPE_LOOPBACK_TRANSPORT, NULL);
  self->pump = pump;
  self->pump_free = pump_free;
  self->clock = clock != NULL ? g_object_ref (clock) : thecal_clock_new_real ();
  self->pump_origin_ms = thecal_sim_pump_now_ms (pump);
  self->clock_origin_ms = thecal_clock_now_ms (self->clock);
  _thecal_frame_queue_init (&self->inbound, self->clock);
  g_strlcpy (self->wand_info.serial, "SIM-WAND-0001", sizeof self->wand_info.serial);
  g_strlcpy (self->wand_info.firmware_version, "loopback-" PACKAGE_VERSION, sizeof self->wand_info.firmware_version);
  self->wand_info.protocol_version = THECAL_PROTO_VERSION;
  self->wand_link.rssi_dbm = -40;
  self->wand_link.quality_percent = 100;
  self->wand_link.pump_in_range = TRUE;
  self->description = g_strdup_printf (_ ("Simulated pump %s (loopback)"), thecal_sim_pump_identity (pump)->serial);
  return self;
}

ThecalSimPump *
thecal_loopback_transport_get_pump (ThecalLoopbackTransport *self)
{
  g_return_val_if_fail (THECAL_IS_LOOPBACK_TRANSPORT (self), NULL);
  return self->pump;
}

ThecalClock *
thecal_loopback_transport_get_clock (ThecalLoopbackTransport *self)
{
  g_return_val_if_fail (THECAL_IS_LOOPBACK_TRANSPORT (self), NULL);
  return self->clock;
}

void
thecal_loopback_transport_set_latency_ms (ThecalLoopbackTransport *self, guint latency_ms)
{
  g_return_if_fail (THECAL_IS_LOOPBACK_TRANSPORT (self));
  if (self->latency_ms == latency_ms)
    return;
  self->latency_ms = latency_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LATENCY_MS]);
}

guint
thecal_loopback_transport_get_latency_ms (ThecalLoopbackTransport *self)
{
  g_return_val_if_fail (THECAL_IS_LOOPBACK_TRANSPORT (self), 0);
  return self->latency_ms;
}

void
thecal_loopback_transport_set_time_scale (ThecalLoopbackTransport *self, guint time_scale)
{
  g_return_if_fail (THECAL_IS_LOOPBACK_TRANSPORT (self));
  g_return_if_fail (time_scale >= 1);
  if (self->time_scale == time_scale)
    return;
  if (self->clock != NULL)
    rebase_time (self);
  self->time_scale = time_scale;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIME_SCALE]);
}

guint
thecal_loopback_transport_get_time_scale (ThecalLoopbackTransport *self)
{
  g_return_val_if_fail (THECAL_IS_LOOPBACK_TRANSPORT (self), 1);
  return self->time_scale;
}

void
thecal_loopback_transport_set_pump_in_range (ThecalLoopbackTransport *self, gboolean in_range)
{
  g_return_if_fail (THECAL_IS_LOOPBACK_TRANSPORT (self));
  in_range = !!in_range;
  if (self->pump_in_range == in_range)
    return;
  self->pump_in_range = in_range;
  self->wand_link.pump_in_range = in_range;
  self->wand_link.quality_percent = in_range ? 100 : 0;
  self->wand_link.rssi_dbm = in_range ? -40 : -127;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PUMP_IN_RANGE]);
}

gboolean
thecal_loopback_transport_get_pump_in_range (ThecalLoopbackTransport *self)
{
  g_return_val_if_fail (THECAL_IS_LOOPBACK_TRANSPORT (self), FALSE);
  return self->pump_in_range;
}

void
thecal_loopback_transport_set_time_func (ThecalLoopbackTransport *self,
                                         ThecalLoopbackTimeFunc func,
                                         gpointer user_data,
                                         GDestroyNotify destroy)
{
  g_return_if_fail (THECAL_IS_LOOPBACK_TRANSPORT (self));
  /* leaving a time function: the clock takes over from the pump's time now */
  if (func == NULL && self->time_func != NULL)
    {
      self->pump_origin_ms = self->time_func (self->time_data);
      self->clock_origin_ms = thecal_clock_now_ms (self->clock);
    }
  if (self->time_destroy != NULL)
    self->time_destroy (self->time_data);
  self->time_func = func;
  self->time_data = user_data;
  self->time_destroy = destroy;
}

/* Runs on the owning context. */
void
thecal_loopback_transport_unplug (ThecalLoopbackTransport *self)
{
  g_autoptr (GError) error = NULL;

  g_return_if_fail (THECAL_IS_LOOPBACK_TRANSPORT (self));
  if (self->closed)
    return;
  self->closed = TRUE;
  self->closed_reason = g_error_new_literal (THECAL_WAND_ERROR, THECAL_WAND_ERROR_UNPLUGGED, _ ("Wand unplugged"));
  drop_in_flight (self);
  _thecal_frame_queue_clear (&self->inbound, self->closed_reason);
  error = g_error_copy (self->closed_reason);
  thecal_transport_emit_disconnected (THECAL_TRANSPORT (self), error);
}

gboolean
thecal_loopback_transport_get_unplugged (ThecalLoopbackTransport *self)
{
  g_return_val_if_fail (THECAL_IS_LOOPBACK_TRANSPORT (self), FALSE);
  return self->closed_reason != NULL;
}

const ThecalWandLink *
thecal_loopback_transport_get_wand_link (ThecalLoopbackTransport *self)
{
  g_return_val_if_fail (THECAL_IS_LOOPBACK_TRANSPORT (self), NULL);
  return &self->wand_link;
}

const ThecalLoopbackStats *
thecal_loopback_transport_get_stats (ThecalLoopbackTransport *self)
{
  g_return_val_if_fail (THECAL_IS_LOOPBACK_TRANSPORT (self), NULL);
  return &self->stats;
}
