/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-usb-monitor.c: wand arrival and removal (libusb hotplug) delivered to the main loop.
 *
 * Threads: the owner thread owns the GObject and emits the signals; the monitor's libusb event
 * thread runs libusb_handle_events_timeout_completed, inside which libusb calls the hotplug
 * callback, which only queues an event and wakes the owner context with an idle source (fwupd's
 * fu-usb-backend.c pattern). The shared state is a plain refcounted struct, never a GObject.
 */
#include "config.h"

#include "thecal-usb-monitor.h"

#include <glib/gi18n-lib.h>
#include <libusb.h>

#include "thecal-transport.h"
#include "thecal-usb-transport.h"

typedef struct
{
  gboolean added;
  guint bus;
  guint address;
} MonitorEvent;

typedef struct
{
  gint ref_count;
  GMutex mutex;
  GQueue events; /* MonitorEvent*, under @mutex */
  GMainContext *context;
  ThecalUsbMonitor *owner; /* owner thread only */
  libusb_context *ctx;     /* set before the event thread starts, freed after it stopped */
  gint running;            /* atomic: the event thread loops while it is 1 */
} MonitorShared;

struct _ThecalUsbMonitor
{
  GObject parent_instance;

  GThread *owner_thread;
  MonitorShared *shared;
  libusb_hotplug_callback_handle hotplug;
  gboolean has_hotplug;
  GThread *thread;
  GHashTable *present; /* bus << 8 | address, of the wands announced */
};

G_DEFINE_FINAL_TYPE (ThecalUsbMonitor, thecal_usb_monitor, G_TYPE_OBJECT)

enum
{
  SIGNAL_WAND_ADDED,
  SIGNAL_WAND_REMOVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static MonitorShared *
monitor_shared_ref (MonitorShared *shared)
{
  g_atomic_int_inc (&shared->ref_count);
  return shared;
}

static void
monitor_shared_unref (gpointer data)
{
  MonitorShared *shared = data;

  if (!g_atomic_int_dec_and_test (&shared->ref_count))
    return;
  g_queue_clear_full (&shared->events, g_free);
  g_main_context_unref (shared->context);
  g_mutex_clear (&shared->mutex);
  g_free (shared);
}

/* Owner thread (an idle source on the owner context): emits the queued events in order. */
static gboolean
monitor_dispatch (gpointer data)
{
  MonitorShared *shared = data;

  for (;;)
    {
      g_autofree MonitorEvent *event = NULL;
      g_autoptr (ThecalUsbMonitor) self = NULL;
      guint key;

      g_mutex_lock (&shared->mutex);
      event = g_queue_pop_head (&shared->events);
      g_mutex_unlock (&shared->mutex);
      if (event == NULL)
        break;
      if (shared->owner == NULL)
        continue;
      self = g_object_ref (shared->owner);
      g_assert (self->owner_thread == g_thread_self ());
      key = event->bus << 8 | event->address;
      if (event->added && g_hash_table_add (self->present, GUINT_TO_POINTER (key)))
        g_signal_emit (self, signals[SIGNAL_WAND_ADDED], 0, event->bus, event->address);
      else if (!event->added && g_hash_table_remove (self->present, GUINT_TO_POINTER (key)))
        g_signal_emit (self, signals[SIGNAL_WAND_REMOVED], 0, event->bus, event->address);
    }
  return G_SOURCE_REMOVE;
}

/* Runs on the monitor's libusb event thread (or, for the wands already there, on the owner
 * thread inside libusb_hotplug_register_callback). Only queues: no synchronous libusb call. */
static int LIBUSB_CALL
monitor_hotplug_cb (libusb_context *ctx, libusb_device *device, libusb_hotplug_event event, void *user_data)
{
  MonitorShared *shared = user_data;
  MonitorEvent *item = g_new0 (MonitorEvent, 1);
  gboolean was_empty;

  (void) ctx;
  item->added = event == LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED;
  item->bus = libusb_get_bus_number (device);
  item->address = libusb_get_device_address (device);
  g_mutex_lock (&shared->mutex);
  was_empty = g_queue_is_empty (&shared->events);
  g_queue_push_tail (&shared->events, item);
  if (was_empty)
    {
      g_autoptr (GSource) source = g_idle_source_new ();

      g_source_set_callback (source, monitor_dispatch, monitor_shared_ref (shared), monitor_shared_unref);
      g_source_set_static_name (source, "[thecal] USB wand hotplug");
      g_source_attach (source, shared->context);
    }
  g_mutex_unlock (&shared->mutex);
  return 0;
}

/* The monitor's libusb event thread: touches the shared struct only, never the GObject. */
static gpointer
monitor_thread (gpointer data)
{
  MonitorShared *shared = data;

  while (g_atomic_int_get (&shared->running))
    {
      struct timeval tv = { 0, 100 * 1000 };

      (void) libusb_handle_events_timeout_completed (shared->ctx, &tv, NULL);
    }
  return NULL;
}

ThecalUsbMonitor *
thecal_usb_monitor_new (guint16 vid, guint16 pid, GError **error)
{
  g_autoptr (ThecalUsbMonitor) self = g_object_new (THECAL_TYPE_USB_MONITOR, NULL);
  int rc;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  rc = libusb_init (&self->shared->ctx);
  if (rc < 0)
    {
      self->shared->ctx = NULL;
      thecal_usb_error_to_gerror (rc, error);
      return NULL;
    }
  if (!libusb_has_capability (LIBUSB_CAP_HAS_HOTPLUG))
    {
      g_set_error_literal (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_IO,
                           _ ("This computer cannot tell when the wand is plugged in: choose it from the list"));
      return NULL;
    }
  rc = libusb_hotplug_register_callback (self->shared->ctx, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT,
                                         LIBUSB_HOTPLUG_ENUMERATE, vid, pid, LIBUSB_HOTPLUG_MATCH_ANY, monitor_hotplug_cb,
                                         self->shared, &self->hotplug);
  if (rc < 0)
    {
      thecal_usb_error_to_gerror (rc, error);
      return NULL;
    }
  self->has_hotplug = TRUE;
  g_atomic_int_set (&self->shared->running, 1);
  self->thread = g_thread_new ("thecal-usb-hotplug", monitor_thread, self->shared);
  return g_steal_pointer (&self);
}

guint
thecal_usb_monitor_get_count (ThecalUsbMonitor *self)
{
  g_return_val_if_fail (THECAL_IS_USB_MONITOR (self), 0);
  return g_hash_table_size (self->present);
}

static void
thecal_usb_monitor_dispose (GObject *object)
{
  ThecalUsbMonitor *self = THECAL_USB_MONITOR (object);

  if (self->thread != NULL)
    {
      g_atomic_int_set (&self->shared->running, 0);
      libusb_interrupt_event_handler (self->shared->ctx);
      g_thread_join (g_steal_pointer (&self->thread));
    }
  if (self->has_hotplug)
    {
      libusb_hotplug_deregister_callback (self->shared->ctx, self->hotplug);
      self->has_hotplug = FALSE;
    }
  if (self->shared != NULL)
    {
      g_clear_pointer (&self->shared->ctx, libusb_exit);
      self->shared->owner = NULL;
      g_clear_pointer (&self->shared, monitor_shared_unref);
    }
  G_OBJECT_CLASS (thecal_usb_monitor_parent_class)->dispose (object);
}

static void
thecal_usb_monitor_finalize (GObject *object)
{
  ThecalUsbMonitor *self = THECAL_USB_MONITOR (object);

  g_hash_table_unref (self->present);
  G_OBJECT_CLASS (thecal_usb_monitor_parent_class)->finalize (object);
}

static void
thecal_usb_monitor_class_init (ThecalUsbMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = thecal_usb_monitor_dispose;
  object_class->finalize = thecal_usb_monitor_finalize;

  signals[SIGNAL_WAND_ADDED] = g_signal_new ("wand-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                             G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_UINT);
  signals[SIGNAL_WAND_REMOVED] = g_signal_new ("wand-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                               NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_UINT);
}

static void
thecal_usb_monitor_init (ThecalUsbMonitor *self)
{
  self->owner_thread = g_thread_self ();
  self->present = g_hash_table_new (NULL, NULL);
  self->shared = g_new0 (MonitorShared, 1);
  self->shared->ref_count = 1;
  g_mutex_init (&self->shared->mutex);
  g_queue_init (&self->shared->events);
  self->shared->context = g_main_context_ref_thread_default ();
  self->shared->owner = self;
}
