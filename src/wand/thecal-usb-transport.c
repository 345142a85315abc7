/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-usb-transport.c: ThecalTransport over a USB telemetry wand (libusb 1.0).
 *
 * Two threads, one rule: the owner thread (the one that created the transport, running its
 * GMainContext) owns every GObject, GTask and counter here; the libusb event thread started by
 * usb_link_start () runs libusb_handle_events_timeout_completed and its callbacks, which only
 * copy data and push UsbEvents on link->events (under link->mutex). Each push wakes the owner
 * thread through an idle source (usb_link_dispatch), which handles the events in order.
 *
 * The shared state is the UsbLink, a plain refcounted C struct (never a GObject), so that an
 * idle source that outlives the transport finds valid memory: the transport clears link->owner
 * when it goes away.
 *
 * Pattern: fwupd (fu-usb-backend.c: event thread, hotplug callbacks queue work for the main
 * thread; fu-usb-device.c: one function translates libusb errors) and libusb/hotplug.c rules
 * (a hotplug callback calls no synchronous libusb API).
 */
#include "config.h"

#include "thecal-usb-transport.h"

#include <glib/gi18n-lib.h>
#include <libusb.h>
#include <string.h>

#include "thecal-frame.h"
#include "thecal-transport-private.h"

/* ---- the one libusb error translation ---------------------------------------------------- */

gboolean
thecal_usb_error_to_gerror (int libusb_rc, GError **error)
{
  /* Put the code in libusb's enum so that -Wswitch-enum names any code a new libusb adds. */
  enum libusb_error rc = (enum libusb_error) libusb_rc;
  ThecalWandError code;
  const char *message;

  if (libusb_rc >= 0)
    return TRUE;

  switch (rc)
    {
    case LIBUSB_SUCCESS:
      return TRUE;
    case LIBUSB_ERROR_IO:
      code = THECAL_WAND_ERROR_IO;
      message = _ ("The wand stopped responding: unplug it and plug it in again");
      break;
    case LIBUSB_ERROR_INVALID_PARAM:
      code = THECAL_WAND_ERROR_IO;
      message = _ ("The wand could not be used (internal error: invalid request)");
      break;
    case LIBUSB_ERROR_ACCESS:
      code = THECAL_WAND_ERROR_PERMISSION;
      message = _ ("No permission to use the wand: the Thecal udev rule (60-thecal-wand.rules) is "
                   "missing; install it, then unplug the wand and plug it in again");
      break;
    case LIBUSB_ERROR_NO_DEVICE:
      code = THECAL_WAND_ERROR_UNPLUGGED;
      message = _ ("Wand unplugged");
      break;
    case LIBUSB_ERROR_NOT_FOUND:
      code = THECAL_WAND_ERROR_NOT_FOUND;
      message = _ ("No wand connected: plug the telemetry wand into a USB port");
      break;
    case LIBUSB_ERROR_BUSY:
      code = THECAL_WAND_ERROR_BUSY;
      message = _ ("The wand is in use by another program: close it and try again");
      break;
    case LIBUSB_ERROR_TIMEOUT:
      code = THECAL_WAND_ERROR_IO;
      message = _ ("The wand did not respond in time: unplug it and plug it in again");
      break;
    case LIBUSB_ERROR_OVERFLOW:
      code = THECAL_WAND_ERROR_FRAME;
      message = _ ("The wand sent more data than expected");
      break;
    case LIBUSB_ERROR_PIPE:
      code = THECAL_WAND_ERROR_IO;
      message = _ ("The wand refused the data: unplug it and plug it in again");
      break;
    case LIBUSB_ERROR_INTERRUPTED:
      code = THECAL_WAND_ERROR_IO;
      message = _ ("The transfer to the wand was interrupted: try again");
      break;
    case LIBUSB_ERROR_NO_MEM:
      code = THECAL_WAND_ERROR_IO;
      message = _ ("The computer ran out of memory while talking to the wand");
      break;
    case LIBUSB_ERROR_NOT_SUPPORTED:
      code = THECAL_WAND_ERROR_IO;
      message = _ ("This computer's USB system cannot drive the wand");
      break;
    case LIBUSB_ERROR_OTHER:
      code = THECAL_WAND_ERROR_IO;
      message = _ ("The wand could not be used (unknown USB error)");
      break;
    default:
      code = THECAL_WAND_ERROR_IO;
      message = _ ("The wand could not be used (unexpected USB error)");
      break;
    }
  g_debug ("libusb error %d (%s): %s", libusb_rc, libusb_error_name (libusb_rc), message);
  g_set_error_literal (error, THECAL_WAND_ERROR, (gint) code, message);
  return FALSE;
}

/* A transfer's status as a libusb error code, so that thecal_usb_error_to_gerror stays the one
 * translation. CANCELLED is the caller's to handle (it is G_IO_ERROR_CANCELLED or shutdown). */
static int
usb_transfer_status_to_rc (enum libusb_transfer_status status)
{
  switch (status)
    {
    case LIBUSB_TRANSFER_COMPLETED:
      return LIBUSB_SUCCESS;
    case LIBUSB_TRANSFER_ERROR:
      return LIBUSB_ERROR_IO;
    case LIBUSB_TRANSFER_TIMED_OUT:
      return LIBUSB_ERROR_TIMEOUT;
    case LIBUSB_TRANSFER_CANCELLED:
      return LIBUSB_ERROR_INTERRUPTED;
    case LIBUSB_TRANSFER_STALL:
      return LIBUSB_ERROR_PIPE;
    case LIBUSB_TRANSFER_NO_DEVICE:
      return LIBUSB_ERROR_NO_DEVICE;
    case LIBUSB_TRANSFER_OVERFLOW:
      return LIBUSB_ERROR_OVERFLOW;
    default:
      return LIBUSB_ERROR_OTHER;
    }
}

/* ---- the link: what the event thread and the owner thread share -------------------------- */

typedef enum
{
  USB_EVENT_DATA,      /* bytes from the IN endpoint */
  USB_EVENT_IN_FAILED, /* the IN transfer ended for good (rc) */
  USB_EVENT_OUT_DONE,  /* an OUT transfer completed (rc 0) or failed */
  USB_EVENT_LEFT,      /* hotplug: the wand left */
} UsbEventKind;

typedef struct
{
  UsbEventKind kind;
  int rc; /* a libusb error code; 0 success; CANCELLED is kept apart */
  gboolean cancelled;
  GBytes *data;   /* DATA */
  guint64 out_id; /* OUT_DONE */
} UsbEvent;

typedef struct
{
  GMainContext *context;
  guint users; /* pending operations that wait on it; G_MAXUINT for the owner context */
} UsbLinkContext;

typedef struct _UsbLink UsbLink;

typedef struct
{
  UsbLink *link;
  guint64 id;
} UsbOutTag;

struct _UsbLink
{
  gint ref_count;

  /* Set up before the event thread starts, torn down after it stopped. */
  libusb_context *ctx;
  libusb_device_handle *handle;
  libusb_device *device;
  int interface_number;
  gboolean interface_claimed;
  gboolean has_hotplug;
  libusb_hotplug_callback_handle hotplug;
  GThread *thread;
  gint running; /* atomic: the event thread loops while it is 1 */
  struct libusb_transfer *in_transfer;
  guint8 *in_buffer;

  /* Under @mutex. */
  GMutex mutex;
  GCond cond;
  gboolean stopping; /* no more submissions */
  gint in_flight;    /* transfers libusb has not called back yet */
  gboolean in_pending;
  GQueue events;    /* UsbEvent*, oldest first */
  GArray *contexts; /* UsbLinkContext: where to wake the owner thread */

  /* Owner thread only. */
  ThecalUsbTransport *owner;
};

static UsbLink *
usb_link_ref (UsbLink *link)
{
  g_atomic_int_inc (&link->ref_count);
  return link;
}

static void
usb_event_free (UsbEvent *event)
{
  g_clear_pointer (&event->data, g_bytes_unref);
  g_free (event);
}

static void
usb_link_unref (gpointer data)
{
  UsbLink *link = data;

  if (!g_atomic_int_dec_and_test (&link->ref_count))
    return;
  /* usb_link_stop () ran before the last reference went: nothing is left in libusb. */
  g_assert (link->thread == NULL);
  g_assert (link->ctx == NULL);
  g_queue_clear_full (&link->events, (GDestroyNotify) usb_event_free);
  for (guint i = 0; i < link->contexts->len; i++)
    g_main_context_unref (g_array_index (link->contexts, UsbLinkContext, i).context);
  g_array_unref (link->contexts);
  g_mutex_clear (&link->mutex);
  g_cond_clear (&link->cond);
  g_free (link);
}

static gboolean usb_link_dispatch (gpointer data);

/* Any thread; @link->mutex held. */
static void
usb_link_wake_locked (UsbLink *link, GMainContext *context)
{
  g_autoptr (GSource) source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, usb_link_dispatch, usb_link_ref (link), usb_link_unref);
  g_source_set_static_name (source, "[thecal] USB wand events");
  g_source_attach (source, context);
}

/* Any thread (the event thread, mostly); @link->mutex held. Takes @event. */
static void
usb_link_push_locked (UsbLink *link, UsbEvent *event)
{
  gboolean was_empty = g_queue_is_empty (&link->events);

  g_queue_push_tail (&link->events, event);
  if (was_empty)
    for (guint i = 0; i < link->contexts->len; i++)
      usb_link_wake_locked (link, g_array_index (link->contexts, UsbLinkContext, i).context);
}

/* Owner thread: @context will be iterated while an operation waits (e.g. the private context
 * of thecal_transport_receive_sync), so events must wake it too. */
static void
usb_link_context_acquire (UsbLink *link, GMainContext *context, gboolean owner)
{
  g_mutex_lock (&link->mutex);
  for (guint i = 0; i < link->contexts->len; i++)
    {
      UsbLinkContext *entry = &g_array_index (link->contexts, UsbLinkContext, i);

      if (entry->context == context)
        {
          if (entry->users != G_MAXUINT)
            entry->users = owner ? G_MAXUINT : entry->users + 1;
          g_mutex_unlock (&link->mutex);
          return;
        }
    }
  {
    UsbLinkContext entry = { g_main_context_ref (context), owner ? G_MAXUINT : 1 };

    g_array_append_val (link->contexts, entry);
    if (!g_queue_is_empty (&link->events))
      usb_link_wake_locked (link, context);
  }
  g_mutex_unlock (&link->mutex);
}

/* Owner thread. */
static void
usb_link_context_release (UsbLink *link, GMainContext *context)
{
  g_mutex_lock (&link->mutex);
  for (guint i = 0; i < link->contexts->len; i++)
    {
      UsbLinkContext *entry = &g_array_index (link->contexts, UsbLinkContext, i);

      if (entry->context != context || entry->users == G_MAXUINT)
        continue;
      if (--entry->users == 0)
        {
          g_main_context_unref (entry->context);
          g_array_remove_index_fast (link->contexts, i);
        }
      break;
    }
  g_mutex_unlock (&link->mutex);
}

/* ---- libusb callbacks: all on the libusb event thread ------------------------------------ */

/* Runs on the libusb event thread (inside libusb_handle_events_timeout_completed). Copies the
 * bytes, queues them for the owner thread and resubmits; touches no GObject. */
static void LIBUSB_CALL
usb_in_cb (struct libusb_transfer *transfer)
{
  UsbLink *link = transfer->user_data;
  UsbEvent *event = NULL;
  gboolean resubmit = FALSE;

  switch (transfer->status)
    {
    case LIBUSB_TRANSFER_COMPLETED:
    case LIBUSB_TRANSFER_TIMED_OUT: /* no timeout is set; keep what came */
      if (transfer->actual_length > 0)
        {
          event = g_new0 (UsbEvent, 1);
          event->kind = USB_EVENT_DATA;
          event->data = g_bytes_new (transfer->buffer, (gsize) transfer->actual_length);
        }
      resubmit = TRUE;
      break;
    case LIBUSB_TRANSFER_CANCELLED:
      break; /* usb_link_stop () */
    case LIBUSB_TRANSFER_ERROR:
    case LIBUSB_TRANSFER_STALL:
    case LIBUSB_TRANSFER_NO_DEVICE:
    case LIBUSB_TRANSFER_OVERFLOW:
    default:
      event = g_new0 (UsbEvent, 1);
      event->kind = USB_EVENT_IN_FAILED;
      event->rc = usb_transfer_status_to_rc (transfer->status);
      break;
    }

  g_mutex_lock (&link->mutex);
  if (event != NULL)
    usb_link_push_locked (link, event);
  if (resubmit && !link->stopping)
    {
      /* Resubmitted under the mutex: usb_link_stop () either sees it in flight and cancels
       * it, or has set stopping first. libusb_submit_transfer is asynchronous (allowed here). */
      int rc = libusb_submit_transfer (transfer);

      if (rc < 0)
        {
          UsbEvent *failed = g_new0 (UsbEvent, 1);

          failed->kind = USB_EVENT_IN_FAILED;
          failed->rc = rc;
          usb_link_push_locked (link, failed);
          resubmit = FALSE;
        }
    }
  else
    resubmit = FALSE;
  if (!resubmit)
    {
      link->in_pending = FALSE;
      link->in_flight--;
      g_cond_broadcast (&link->cond);
    }
  g_mutex_unlock (&link->mutex);
}

/* Runs on the libusb event thread. Queues the outcome; the owner thread frees the transfer. */
static void LIBUSB_CALL
usb_out_cb (struct libusb_transfer *transfer)
{
  UsbOutTag *tag = transfer->user_data;
  UsbLink *link = tag->link;
  UsbEvent *event = g_new0 (UsbEvent, 1);

  event->kind = USB_EVENT_OUT_DONE;
  event->out_id = tag->id;
  if (transfer->status == LIBUSB_TRANSFER_CANCELLED)
    event->cancelled = TRUE;
  else if (transfer->status == LIBUSB_TRANSFER_COMPLETED && transfer->actual_length != transfer->length)
    event->rc = LIBUSB_ERROR_IO; /* the wand took part of the frame only */
  else
    event->rc = usb_transfer_status_to_rc (transfer->status);

  g_mutex_lock (&link->mutex);
  usb_link_push_locked (link, event);
  link->in_flight--;
  g_cond_broadcast (&link->cond);
  g_mutex_unlock (&link->mutex);
}

/* Runs on the libusb event thread (hotplug callbacks are called from event handling). By the
 * rules of libusb/hotplug.c it calls no synchronous libusb function: it only queues. */
static int LIBUSB_CALL
usb_hotplug_cb (libusb_context *ctx, libusb_device *device, libusb_hotplug_event event, void *user_data)
{
  UsbLink *link = user_data;

  (void) ctx;
  if (event == LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT && device == link->device)
    {
      UsbEvent *left = g_new0 (UsbEvent, 1);

      left->kind = USB_EVENT_LEFT;
      left->rc = LIBUSB_ERROR_NO_DEVICE;
      g_mutex_lock (&link->mutex);
      usb_link_push_locked (link, left);
      g_mutex_unlock (&link->mutex);
    }
  return 0; /* stay registered: usb_link_stop () deregisters */
}

/* The libusb event thread: the only thread of ours that enters libusb's event handling. */
static gpointer
usb_event_thread (gpointer data)
{
  UsbLink *link = data;

  while (g_atomic_int_get (&link->running))
    {
      struct timeval tv = { 0, 100 * 1000 };
      int rc = libusb_handle_events_timeout_completed (link->ctx, &tv, NULL);

      if (rc < 0 && rc != LIBUSB_ERROR_INTERRUPTED && rc != LIBUSB_ERROR_TIMEOUT)
        {
          g_debug ("libusb event handling failed: %s", libusb_error_name (rc));
          g_usleep (10 * 1000); /* never spin on a persistent error */
        }
    }
  return NULL;
}

/* ---- the transport ----------------------------------------------------------------------- */

typedef enum
{
  USB_STATE_OPEN,
  USB_STATE_UNPLUGGED,
  USB_STATE_FAILED, /* the IN endpoint failed for good (not an unplug) */
  USB_STATE_CLOSED,
} UsbState;

typedef struct
{
  ThecalUsbTransport *self;
  guint64 id;
  GTask *task; /* NULL once answered (e.g. failed at an unplug before libusb called back) */
  GMainContext *context;
  struct libusb_transfer *transfer;
  UsbOutTag *tag;
  GSource *cancel;
} UsbSend;

struct _ThecalUsbTransport
{
  GObject parent_instance;

  GThread *owner_thread;
  GMainContext *owner_context;
  UsbLink *link;
  UsbState state;
  GError *failure; /* why it is not open (UNPLUGGED, FAILED, CLOSED) */
  gboolean disconnected_emitted;

  guint16 vid;
  guint16 pid;
  guint max_packet_size;
  char *serial;
  char *description;

  GByteArray *rx;
  ThecalClock *clock;       /* real time: the receive timeouts */
  ThecalFrameQueue inbound; /* complete frames nobody asked for yet, and the receives that wait */
  GHashTable *sends;        /* id → UsbSend* */
  guint64 next_send_id;
  ThecalUsbStats stats;
};

static void thecal_usb_transport_iface_init (ThecalTransportInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ThecalUsbTransport,
                               thecal_usb_transport,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (THECAL_TYPE_TRANSPORT, thecal_usb_transport_iface_init))

static void
usb_assert_owner (ThecalUsbTransport *self)
{
  /* Single owner (STYLE.md §9.8): methods, callbacks and signals all on one thread. */
  g_assert (self->owner_thread == g_thread_self ());
}

/* ---- opening and closing (owner thread) -------------------------------------------------- */

static UsbLink *
usb_link_new (void)
{
  UsbLink *link = g_new0 (UsbLink, 1);

  link->ref_count = 1;
  g_mutex_init (&link->mutex);
  g_cond_init (&link->cond);
  g_queue_init (&link->events);
  link->contexts = g_array_new (FALSE, FALSE, sizeof (UsbLinkContext));
  link->interface_number = -1;
  return link;
}

/* Finds the vendor interface with bulk OUT 0x01 and bulk IN 0x81; its OUT max packet size. */
static gboolean
usb_find_interface (libusb_device *device, int *interface_number, guint *max_packet_size, GError **error)
{
  struct libusb_config_descriptor *config = NULL;
  int rc = libusb_get_active_config_descriptor (device, &config);

  if (rc < 0)
    return thecal_usb_error_to_gerror (rc, error);
  for (guint8 i = 0; i < config->bNumInterfaces; i++)
    for (int a = 0; a < config->interface[i].num_altsetting; a++)
      {
        const struct libusb_interface_descriptor *alt = &config->interface[i].altsetting[a];
        guint out_size = 0;
        gboolean has_in = FALSE;

        if (alt->bInterfaceClass != THECAL_USB_WAND_INTERFACE_CLASS || alt->bAlternateSetting != 0)
          continue;
        for (guint8 e = 0; e < alt->bNumEndpoints; e++)
          {
            const struct libusb_endpoint_descriptor *ep = &alt->endpoint[e];
            gboolean bulk = (ep->bmAttributes & 0x03) == LIBUSB_ENDPOINT_TRANSFER_TYPE_BULK;

            if (bulk && ep->bEndpointAddress == THECAL_USB_WAND_EP_OUT)
              out_size = ep->wMaxPacketSize & 0x7FF;
            else if (bulk && ep->bEndpointAddress == THECAL_USB_WAND_EP_IN)
              has_in = TRUE;
          }
        if (out_size > 0 && has_in)
          {
            *interface_number = alt->bInterfaceNumber;
            *max_packet_size = out_size;
            libusb_free_config_descriptor (config);
            return TRUE;
          }
      }
  libusb_free_config_descriptor (config);
  g_set_error (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_NOT_FOUND,
               _ ("The connected device is not a telemetry wand (no vendor interface with bulk "
                  "endpoints 0x%02x and 0x%02x)"),
               THECAL_USB_WAND_EP_OUT, THECAL_USB_WAND_EP_IN);
  return FALSE;
}

/* The serial string descriptor, read synchronously (before the event thread starts). */
static char *
usb_read_serial (libusb_device_handle *handle, guint8 index)
{
  unsigned char buffer[128];
  int rc;

  if (index == 0)
    return NULL;
  rc = libusb_get_string_descriptor_ascii (handle, index, buffer, sizeof buffer - 1);
  if (rc <= 0)
    {
      g_debug ("cannot read the wand's serial: %s", libusb_error_name (rc));
      return NULL;
    }
  buffer[rc] = '\0';
  for (int i = 0; i < rc; i++)
    if (!g_ascii_isprint (buffer[i]))
      buffer[i] = '?';
  return g_strdup ((const char *) buffer);
}

static char *
usb_describe (guint16 vid, guint16 pid, const char *serial)
{
  if (serial != NULL)
    return g_strdup_printf ("USB wand %04x:%04x (serial %s)", vid, pid, serial);
  return g_strdup_printf ("USB wand %04x:%04x", vid, pid);
}

/* Owner thread. Ends every libusb activity of @link: cancels the IN transfer (the caller
 * cancels the OUT ones: it owns their table), waits until libusb has called every transfer back,
 * stops the event thread and the hotplug callback. The handle and the context stay open, so the
 * caller can still free its transfers (libusb_free_transfer reads the transfer's handle and
 * context): usb_link_close () comes after. Completes nothing itself. Safe to call twice. */
static void
usb_link_stop (UsbLink *link)
{
  gint64 deadline;

  if (link->ctx == NULL)
    return;

  g_mutex_lock (&link->mutex);
  link->stopping = TRUE;
  if (link->in_pending && link->in_transfer != NULL)
    libusb_cancel_transfer (link->in_transfer); /* under the mutex: see usb_in_cb */
  g_mutex_unlock (&link->mutex);

  /* the event thread is still running and handles the cancellations */
  deadline = g_get_monotonic_time () + 2 * G_TIME_SPAN_SECOND;
  g_mutex_lock (&link->mutex);
  while (link->in_flight > 0 && link->thread != NULL)
    if (!g_cond_wait_until (&link->cond, &link->mutex, deadline))
      {
        g_debug ("%d USB transfers did not end within 2 s", link->in_flight);
        break;
      }
  g_mutex_unlock (&link->mutex);

  if (link->thread != NULL)
    {
      g_atomic_int_set (&link->running, 0);
      libusb_interrupt_event_handler (link->ctx);
      g_thread_join (g_steal_pointer (&link->thread));
    }
  if (link->has_hotplug)
    {
      libusb_hotplug_deregister_callback (link->ctx, link->hotplug);
      link->has_hotplug = FALSE;
    }
}

/* Owner thread, after usb_link_stop () and after the caller freed its OUT transfers: frees the
 * IN transfer, releases the interface, closes the handle, ends the libusb context. */
static void
usb_link_close (UsbLink *link)
{
  if (link->ctx == NULL)
    return;
  g_assert (link->thread == NULL);
  if (link->in_transfer != NULL)
    {
      if (!link->in_pending)
        {
          g_clear_pointer (&link->in_transfer, libusb_free_transfer);
          g_clear_pointer (&link->in_buffer, g_free);
        }
      else
        {
          /* still in libusb's hands after 2 s: leaked with its buffer, never reused */
          link->in_transfer = NULL;
          link->in_buffer = NULL;
        }
    }
  g_clear_pointer (&link->in_buffer, g_free);
  if (link->handle != NULL)
    {
      if (link->interface_claimed)
        (void) libusb_release_interface (link->handle, link->interface_number); /* may be gone */
      libusb_close (g_steal_pointer (&link->handle));
    }
  link->device = NULL;
  libusb_exit (g_steal_pointer (&link->ctx));
}

/* Owner thread: opens @device into @link (not started yet). */
static gboolean
usb_link_open_device (UsbLink *link, libusb_device *device, guint *max_packet_size, char **serial, GError **error)
{
  struct libusb_device_descriptor desc;
  libusb_device_handle *handle = NULL;
  int rc;

  if (!usb_find_interface (device, &link->interface_number, max_packet_size, error))
    return FALSE;
  rc = libusb_open (device, &handle);
  if (rc < 0)
    return thecal_usb_error_to_gerror (rc, error);
  link->handle = handle;
  link->device = device;
  /* A vendor interface has no kernel driver normally; if one is bound, take it over for the
   * session and give it back at release (libusb's auto-detach; not on every platform). */
  (void) libusb_set_auto_detach_kernel_driver (handle, 1);
  rc = libusb_claim_interface (handle, link->interface_number);
  if (rc < 0)
    {
      libusb_close (g_steal_pointer (&link->handle));
      link->device = NULL;
      return thecal_usb_error_to_gerror (rc, error);
    }
  link->interface_claimed = TRUE;
  rc = libusb_get_device_descriptor (device, &desc);
  *serial = rc == 0 ? usb_read_serial (handle, desc.iSerialNumber) : NULL;
  return TRUE;
}

/* Owner thread: hotplug, the event thread, the first IN transfer. */
static gboolean
usb_link_start (UsbLink *link, guint16 vid, guint16 pid, GError **error)
{
  int rc;

  if (libusb_has_capability (LIBUSB_CAP_HAS_HOTPLUG))
    {
      rc = libusb_hotplug_register_callback (link->ctx, LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT, 0, vid, pid,
                                             LIBUSB_HOTPLUG_MATCH_ANY, usb_hotplug_cb, link, &link->hotplug);
      if (rc < 0)
        return thecal_usb_error_to_gerror (rc, error);
      link->has_hotplug = TRUE;
    }
  /* Without hotplug, a removal still ends the IN transfer with NO_DEVICE. */

  link->in_buffer = g_malloc0 (THECAL_FRAME_MAX); /* a multiple of every max packet size */
  link->in_transfer = libusb_alloc_transfer (0);
  libusb_fill_bulk_transfer (link->in_transfer, link->handle, THECAL_USB_WAND_EP_IN, link->in_buffer,
                             THECAL_FRAME_MAX, usb_in_cb, link, 0 /* no timeout */);

  g_atomic_int_set (&link->running, 1);
  link->thread = g_thread_new ("thecal-usb-events", usb_event_thread, link);

  g_mutex_lock (&link->mutex);
  rc = libusb_submit_transfer (link->in_transfer);
  if (rc == 0)
    {
      link->in_pending = TRUE;
      link->in_flight++;
    }
  g_mutex_unlock (&link->mutex);
  return thecal_usb_error_to_gerror (rc, error);
}

static gboolean
usb_matches (libusb_device *device, guint16 vid, guint16 pid)
{
  struct libusb_device_descriptor desc;

  return libusb_get_device_descriptor (device, &desc) == 0 && desc.idVendor == vid && desc.idProduct == pid;
}

ThecalUsbTransport *
thecal_usb_transport_new (guint16 vid, guint16 pid, GError **error)
{
  g_autoptr (ThecalUsbTransport) self = g_object_new (THECAL_TYPE_USB_TRANSPORT, NULL);
  g_autoptr (GError) first_error = NULL;
  UsbLink *link = self->link;
  libusb_device **devices = NULL;
  ssize_t n;
  int rc;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self->vid = vid;
  self->pid = pid;
  rc = libusb_init (&link->ctx);
  if (rc < 0)
    {
      link->ctx = NULL;
      thecal_usb_error_to_gerror (rc, error);
      return NULL;
    }
  n = libusb_get_device_list (link->ctx, &devices);
  if (n < 0)
    {
      thecal_usb_error_to_gerror ((int) n, error);
      return NULL;
    }
  for (ssize_t i = 0; i < n && link->handle == NULL; i++)
    {
      g_autoptr (GError) local = NULL;
      char *serial = NULL;

      if (!usb_matches (devices[i], vid, pid))
        continue;
      if (usb_link_open_device (link, devices[i], &self->max_packet_size, &serial, &local))
        self->serial = serial;
      else if (first_error == NULL)
        first_error = g_steal_pointer (&local);
    }
  libusb_free_device_list (devices, 1); /* the handle keeps its device */
  if (link->handle == NULL)
    {
      if (first_error != NULL)
        g_propagate_error (error, g_steal_pointer (&first_error));
      else
        thecal_usb_error_to_gerror (LIBUSB_ERROR_NOT_FOUND, error);
      return NULL;
    }
  self->description = usb_describe (vid, pid, self->serial);
  if (!usb_link_start (link, vid, pid, error))
    return NULL; /* dispose stops what started */
  self->state = USB_STATE_OPEN;
  g_debug ("opened %s, max packet %u", self->description, self->max_packet_size);
  return g_steal_pointer (&self);
}

void
thecal_usb_wand_info_free (ThecalUsbWandInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->serial);
  g_free (info->problem);
  g_free (info->description);
  g_free (info);
}

GPtrArray *
thecal_usb_transport_list (guint16 vid, guint16 pid, GError **error)
{
  g_autoptr (GPtrArray) wands = g_ptr_array_new_with_free_func ((GDestroyNotify) thecal_usb_wand_info_free);
  libusb_context *ctx = NULL;
  libusb_device **devices = NULL;
  ssize_t n;
  int rc;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  rc = libusb_init (&ctx);
  if (rc < 0)
    {
      thecal_usb_error_to_gerror (rc, error);
      return NULL;
    }
  n = libusb_get_device_list (ctx, &devices);
  if (n < 0)
    {
      libusb_exit (ctx);
      thecal_usb_error_to_gerror ((int) n, error);
      return NULL;
    }
  for (ssize_t i = 0; i < n; i++)
    {
      struct libusb_device_descriptor desc;
      ThecalUsbWandInfo *info;
      libusb_device_handle *handle = NULL;

      if (!usb_matches (devices[i], vid, pid) || libusb_get_device_descriptor (devices[i], &desc) != 0)
        continue;
      info = g_new0 (ThecalUsbWandInfo, 1);
      info->vid = vid;
      info->pid = pid;
      info->bus = libusb_get_bus_number (devices[i]);
      info->address = libusb_get_device_address (devices[i]);
      rc = libusb_open (devices[i], &handle);
      if (rc == 0)
        {
          info->accessible = TRUE;
          info->serial = usb_read_serial (handle, desc.iSerialNumber);
          libusb_close (handle);
        }
      else
        {
          g_autoptr (GError) local = NULL;

          thecal_usb_error_to_gerror (rc, &local);
          info->problem = g_strdup (local->message);
        }
      info->description = usb_describe (vid, pid, info->serial);
      g_ptr_array_add (wands, info);
    }
  libusb_free_device_list (devices, 1);
  libusb_exit (ctx);
  return g_steal_pointer (&wands);
}

/* ---- pending operations (owner thread) --------------------------------------------------- */

/* Owner thread (the inbound queue's hold function): a receive waits on @context, so the link's
 * events must wake it too (e.g. the private context of thecal_transport_receive_sync). */
static void
usb_hold_context (GMainContext *context, gboolean hold, gpointer data)
{
  ThecalUsbTransport *self = data;

  if (hold)
    usb_link_context_acquire (self->link, context, FALSE);
  else
    usb_link_context_release (self->link, context);
}

static void
usb_send_free (gpointer data)
{
  UsbSend *send = data;

  if (send->cancel != NULL)
    {
      g_source_destroy (send->cancel);
      g_source_unref (send->cancel);
    }
  if (send->context != NULL)
    {
      usb_link_context_release (send->self->link, send->context);
      g_main_context_unref (send->context);
    }
  g_clear_object (&send->task);
  /* The transfer is freed only once libusb called back (OUT_DONE) or stopped. */
  if (send->transfer != NULL)
    {
      g_free (send->transfer->buffer);
      libusb_free_transfer (send->transfer);
    }
  g_free (send->tag);
  g_free (send);
}

/* Takes @send's task (NULL when already answered) and stops waiting on its context. The entry
 * stays in the table until libusb is done with its transfer. Answer the task with
 * usb_task_return () only once nothing refers to @send any more: the callback may run at once
 * and do anything (close the transport, free the entry). */
static GTask *
usb_send_detach_task (UsbSend *send)
{
  if (send->cancel != NULL)
    {
      g_source_destroy (send->cancel);
      g_clear_pointer (&send->cancel, g_source_unref);
    }
  if (send->context != NULL)
    {
      usb_link_context_release (send->self->link, send->context);
      g_clear_pointer (&send->context, g_main_context_unref);
    }
  return g_steal_pointer (&send->task);
}

/* Detaches @send's task (as usb_send_detach_task) into @tasks, to be answered once the caller
 * is done with the table. */
static void
usb_send_collect_task (UsbSend *send, GPtrArray *tasks)
{
  GTask *task = usb_send_detach_task (send);

  if (task != NULL)
    g_ptr_array_add (tasks, task);
}

/* Answers a send task and drops it. Takes @error (NULL: sent). */
static void
usb_task_return (GTask *task, GError *error)
{
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

/* Fails every waiting operation with a copy of @error. */
static void
usb_fail_pending (ThecalUsbTransport *self, const GError *error)
{
  GHashTableIter iter;
  gpointer value;
  g_autoptr (GPtrArray) tasks = g_ptr_array_new ();

  _thecal_frame_queue_fail_waiters (&self->inbound, error);

  /* Sends: answered now; their transfers are cancelled (libusb calls back later). */
  g_hash_table_iter_init (&iter, self->sends);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      UsbSend *send = value;

      usb_send_collect_task (send, tasks);
      if (send->transfer != NULL && self->link->handle != NULL)
        libusb_cancel_transfer (send->transfer); /* NOT_FOUND when already done: fine */
    }
  /* answered outside the iteration, from tasks alone: a callback may do anything */
  for (guint i = 0; i < tasks->len; i++)
    usb_task_return (g_ptr_array_index (tasks, i), g_error_copy (error));
}

/* The wand left (hotplug) or the IN endpoint failed for good: fail everything, once, and tell. */
static void
usb_transport_lost (ThecalUsbTransport *self, UsbState state, GError *error)
{
  g_autoptr (GError) reason = error;

  if (self->state != USB_STATE_OPEN)
    return;
  self->state = state;
  self->failure = g_error_copy (reason);
  g_debug ("%s: %s", self->description, reason->message);
  usb_fail_pending (self, reason);
  if (!self->disconnected_emitted)
    {
      self->disconnected_emitted = TRUE;
      thecal_transport_emit_disconnected (THECAL_TRANSPORT (self), reason);
    }
}

/* Takes @frame. */
static void
usb_deliver_frame (ThecalUsbTransport *self, GBytes *frame)
{
  self->stats.frames_received++;
  _thecal_frame_queue_push (&self->inbound, frame);
  g_bytes_unref (frame);
}

/* Cuts whole frames out of the received bytes (thecal_frame_peek_size). */
static void
usb_reassemble (ThecalUsbTransport *self)
{
  for (;;)
    {
      size_t size = 0;
      ThecalFrameStatus status = thecal_frame_peek_size (self->rx->data, self->rx->len, &size);

      switch (status)
        {
        case THECAL_FRAME_OK:
          if (size > self->rx->len)
            return; /* the rest comes in the next transfer */
          {
            GBytes *frame = g_bytes_new (self->rx->data, size);

            g_byte_array_remove_range (self->rx, 0, (guint) size);
            usb_deliver_frame (self, frame);
          }
          break;
        case THECAL_FRAME_NEED_MORE:
          return;
        case THECAL_FRAME_TOO_LONG:
        case THECAL_FRAME_BAD_MAGIC:
        case THECAL_FRAME_TRAILING_BYTES:
        case THECAL_FRAME_BAD_CRC:
        case THECAL_FRAME_BAD_VERSION:
        case THECAL_FRAME_BAD_TYPE:
        case THECAL_FRAME_BAD_FLAGS:
        default:
          /* not the start of a frame: drop one byte and look again (docs/protocol.md §2) */
          g_byte_array_remove_range (self->rx, 0, 1);
          self->stats.bytes_discarded++;
          break;
        }
    }
}

static void
usb_handle_out_done (ThecalUsbTransport *self, const UsbEvent *event)
{
  UsbSend *send = g_hash_table_lookup (self->sends, &event->out_id);
  GError *error = NULL;
  GTask *task;

  if (send == NULL)
    return;
  /* libusb is done with the transfer: out of the table and freed before anybody is answered */
  g_hash_table_steal (self->sends, &event->out_id);
  task = usb_send_detach_task (send);
  if (task != NULL)
    {
      if (event->cancelled)
        {
          if (self->state == USB_STATE_OPEN)
            error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, _ ("The operation was cancelled"));
          else
            error = g_error_copy (self->failure);
        }
      else if (event->rc < 0)
        /* NO_DEVICE: "Wand unplugged", like everything else pending (hotplug may come later) */
        thecal_usb_error_to_gerror (event->rc, &error);
      else
        {
          gsize length = (gsize) send->transfer->length;
          guint mps = MAX (self->max_packet_size, 1);

          self->stats.frames_sent++;
          self->stats.bytes_sent += length;
          self->stats.packets_sent += (length + mps - 1) / mps;
          if (length % mps == 0)
            {
              self->stats.zero_length_sent++;
              self->stats.packets_sent++;
            }
        }
    }
  usb_send_free (send); /* frees the transfer */
  if (event->rc == LIBUSB_ERROR_NO_DEVICE)
    {
      GError *lost = NULL;

      thecal_usb_error_to_gerror (LIBUSB_ERROR_NO_DEVICE, &lost);
      usb_transport_lost (self, USB_STATE_UNPLUGGED, lost);
    }
  if (task != NULL)
    usb_task_return (task, error);
}

/* Owner thread: one event from the event thread. */
static void
usb_handle_event (ThecalUsbTransport *self, const UsbEvent *event)
{
  GError *error = NULL;

  switch (event->kind)
    {
    case USB_EVENT_DATA:
      {
        gsize size = 0;
        const guint8 *data = g_bytes_get_data (event->data, &size);

        self->stats.in_transfers++;
        self->stats.bytes_received += size;
        if (self->state == USB_STATE_CLOSED)
          return;
        g_byte_array_append (self->rx, data, (guint) size);
        usb_reassemble (self);
      }
      break;
    case USB_EVENT_OUT_DONE:
      usb_handle_out_done (self, event);
      break;
    case USB_EVENT_IN_FAILED:
      thecal_usb_error_to_gerror (event->rc, &error);
      usb_transport_lost (self, event->rc == LIBUSB_ERROR_NO_DEVICE ? USB_STATE_UNPLUGGED : USB_STATE_FAILED, error);
      break;
    case USB_EVENT_LEFT:
      thecal_usb_error_to_gerror (LIBUSB_ERROR_NO_DEVICE, &error);
      usb_transport_lost (self, USB_STATE_UNPLUGGED, error);
      break;
    default:
      g_assert_not_reached ();
    }
}

/* Owner thread (an idle source on the owner context, or on the context a pending operation
 * iterates): handles every queued event, in order. */
static gboolean
usb_link_dispatch (gpointer data)
{
  UsbLink *link = data;

  for (;;)
    {
      UsbEvent *event;
      ThecalUsbTransport *owner;

      g_mutex_lock (&link->mutex);
      event = g_queue_pop_head (&link->events);
      g_mutex_unlock (&link->mutex);
      if (event == NULL)
        break;
      owner = link->owner != NULL ? g_object_ref (link->owner) : NULL;
      if (owner != NULL)
        {
          usb_assert_owner (owner);
          usb_handle_event (owner, event);
          g_object_unref (owner);
        }
      usb_event_free (event);
    }
  return G_SOURCE_REMOVE;
}

/* Owner thread: stops libusb and settles whatever it left queued. */
static void
usb_transport_shutdown (ThecalUsbTransport *self)
{
  GHashTableIter iter;
  gpointer value;
  UsbEvent *event;
  g_autoptr (GPtrArray) tasks = g_ptr_array_new ();

  g_hash_table_iter_init (&iter, self->sends);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      UsbSend *send = value;

      if (send->transfer != NULL && self->link->handle != NULL)
        libusb_cancel_transfer (send->transfer);
    }
  usb_link_stop (self->link);

  /* Every transfer has called back (or been abandoned after 2 s): settle the queue here, and
   * free the OUT transfers while their handle still exists. */
  g_mutex_lock (&self->link->mutex);
  while ((event = g_queue_pop_head (&self->link->events)) != NULL)
    {
      g_mutex_unlock (&self->link->mutex);
      if (event->kind == USB_EVENT_OUT_DONE)
        usb_handle_out_done (self, event);
      usb_event_free (event);
      g_mutex_lock (&self->link->mutex);
    }
  g_mutex_unlock (&self->link->mutex);

  /* Sends whose transfer libusb never gave back: keep the memory (libusb may still write to
   * it), answer the tasks (after the table is empty: a callback may do anything). */
  g_hash_table_iter_init (&iter, self->sends);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      UsbSend *send = value;

      usb_send_collect_task (send, tasks);
      send->transfer = NULL; /* leaked on purpose */
      g_hash_table_iter_remove (&iter);
    }
  /* every transfer of ours is freed (or abandoned): the handle and the context can go */
  usb_link_close (self->link);
  for (guint i = 0; i < tasks->len; i++)
    usb_task_return (g_ptr_array_index (tasks, i), g_error_copy (self->failure));
}

/* ---- ThecalTransport --------------------------------------------------------------------- */

static GError *
usb_not_open_error (ThecalUsbTransport *self)
{
  if (self->failure != NULL)
    return g_error_copy (self->failure);
  return g_error_new_literal (THECAL_WAND_ERROR, THECAL_WAND_ERROR_DISCONNECTED, _ ("The connection to the wand is closed"));
}

/* Owner thread (a cancellable source on the operation's context). */
static gboolean
usb_send_cancelled_cb (GCancellable *cancellable, gpointer data)
{
  UsbSend *send = data;

  (void) cancellable;
  /* libusb calls back with CANCELLED (or COMPLETED if the frame had already gone): the task is
   * answered then, with the truth. */
  if (send->transfer != NULL && send->self->link->handle != NULL)
    libusb_cancel_transfer (send->transfer);
  g_clear_pointer (&send->cancel, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
thecal_usb_transport_send_async (ThecalTransport *transport,
                                 GBytes *frame,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  ThecalUsbTransport *self = THECAL_USB_TRANSPORT (transport);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  gsize length = 0;
  const guint8 *data = g_bytes_get_data (frame, &length);
  UsbSend *send;
  int rc;

  usb_assert_owner (self);
  g_task_set_source_tag (task, thecal_usb_transport_send_async);
  /* A frame that went out before the cancellation is reported as sent: the truth matters more
   * than the cancellation (CLINICAL.md §6). */
  g_task_set_check_cancellable (task, FALSE);

  if (self->state != USB_STATE_OPEN)
    {
      g_task_return_error (task, usb_not_open_error (self));
      return;
    }
  if (length == 0 || length > THECAL_FRAME_MAX)
    {
      g_task_return_new_error (task, THECAL_WAND_ERROR, THECAL_WAND_ERROR_FRAME,
                               _ ("A frame of %" G_GSIZE_FORMAT " bytes cannot be sent (1 to %d bytes)"), length,
                               THECAL_FRAME_MAX);
      return;
    }
  if (g_task_return_error_if_cancelled (task))
    return;

  send = g_new0 (UsbSend, 1);
  send->self = self;
  send->id = ++self->next_send_id;
  send->tag = g_new0 (UsbOutTag, 1);
  send->tag->link = self->link;
  send->tag->id = send->id;
  send->transfer = libusb_alloc_transfer (0);
  /* One frame, one bulk transfer: the host controller cuts it into max-packet-size packets;
   * a frame that fills its last packet exactly is closed by a zero-length packet. */
  libusb_fill_bulk_transfer (send->transfer, self->link->handle, THECAL_USB_WAND_EP_OUT, g_memdup2 (data, length),
                             (int) length, usb_out_cb, send->tag, THECAL_USB_SEND_TIMEOUT_MS);
  if (length % MAX (self->max_packet_size, 1) == 0)
    send->transfer->flags |= LIBUSB_TRANSFER_ADD_ZERO_PACKET;

  g_mutex_lock (&self->link->mutex);
  rc = libusb_submit_transfer (send->transfer);
  if (rc == 0)
    self->link->in_flight++;
  g_mutex_unlock (&self->link->mutex);
  if (rc < 0)
    {
      GError *error = NULL;

      thecal_usb_error_to_gerror (rc, &error);
      usb_send_free (send);
      g_task_return_error (task, error);
      if (rc == LIBUSB_ERROR_NO_DEVICE)
        {
          GError *lost = NULL;

          thecal_usb_error_to_gerror (rc, &lost);
          usb_transport_lost (self, USB_STATE_UNPLUGGED, lost);
        }
      return;
    }

  send->task = g_steal_pointer (&task);
  send->context = g_main_context_ref (g_task_get_context (send->task));
  usb_link_context_acquire (self->link, send->context, FALSE);
  if (cancellable != NULL)
    {
      send->cancel = g_cancellable_source_new (cancellable);
      g_source_set_callback (send->cancel, G_SOURCE_FUNC (usb_send_cancelled_cb), send, NULL);
      g_source_attach (send->cancel, send->context);
    }
  g_hash_table_insert (self->sends, &send->id, send);
}

static void
thecal_usb_transport_receive_async (ThecalTransport *transport,
                                    gint timeout_ms,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  ThecalUsbTransport *self = THECAL_USB_TRANSPORT (transport);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  usb_assert_owner (self);
  g_task_set_source_tag (task, thecal_usb_transport_receive_async);

  if (g_task_return_error_if_cancelled (task))
    return;
  /* Frames that arrived before the wand went away are still delivered. */
  if (self->state != USB_STATE_OPEN && g_queue_is_empty (&self->inbound.frames))
    {
      g_task_return_error (task, usb_not_open_error (self));
      return;
    }
  _thecal_frame_queue_receive (&self->inbound, g_steal_pointer (&task), timeout_ms);
}

static void
thecal_usb_transport_close (ThecalTransport *transport)
{
  ThecalUsbTransport *self = THECAL_USB_TRANSPORT (transport);
  g_autoptr (GError) closed = NULL;

  usb_assert_owner (self);
  if (self->state == USB_STATE_CLOSED)
    return;
  closed = g_error_new_literal (THECAL_WAND_ERROR, THECAL_WAND_ERROR_DISCONNECTED, _ ("The connection to the wand was closed"));
  self->state = USB_STATE_CLOSED;
  g_clear_error (&self->failure);
  self->failure = g_error_copy (closed);
  g_object_ref (self);
  usb_fail_pending (self, closed);
  usb_transport_shutdown (self);
  g_object_unref (self);
}

static const char *
thecal_usb_transport_describe (ThecalTransport *transport)
{
  ThecalUsbTransport *self = THECAL_USB_TRANSPORT (transport);

  return self->description != NULL ? self->description : "USB wand";
}

static GMainContext *
thecal_usb_transport_get_context (ThecalTransport *transport)
{
  return THECAL_USB_TRANSPORT (transport)->owner_context;
}

static void
thecal_usb_transport_iface_init (ThecalTransportInterface *iface)
{
  iface->send_async = thecal_usb_transport_send_async;
  iface->send_finish = _thecal_transport_task_send_finish;
  iface->receive_async = thecal_usb_transport_receive_async;
  iface->receive_finish = _thecal_transport_task_receive_finish;
  iface->close = thecal_usb_transport_close;
  iface->describe = thecal_usb_transport_describe;
  iface->get_context = thecal_usb_transport_get_context;
}

/* ---- GObject ----------------------------------------------------------------------------- */

static void
thecal_usb_transport_dispose (GObject *object)
{
  ThecalUsbTransport *self = THECAL_USB_TRANSPORT (object);

  if (self->link != NULL && self->link->ctx != NULL)
    {
      usb_assert_owner (self);
      if (self->state != USB_STATE_CLOSED)
        thecal_usb_transport_close (THECAL_TRANSPORT (self));
      usb_transport_shutdown (self); /* a transport that failed to open */
    }
  G_OBJECT_CLASS (thecal_usb_transport_parent_class)->dispose (object);
}

static void
thecal_usb_transport_finalize (GObject *object)
{
  ThecalUsbTransport *self = THECAL_USB_TRANSPORT (object);

  g_assert (g_queue_is_empty (&self->inbound.waiters));
  g_hash_table_unref (self->sends);
  _thecal_frame_queue_clear (&self->inbound, self->failure); /* the frames nobody took */
  g_clear_object (&self->clock);
  g_byte_array_unref (self->rx);
  if (self->link != NULL)
    {
      usb_link_context_release (self->link, self->owner_context);
      self->link->owner = NULL;
      usb_link_unref (self->link);
    }
  g_main_context_unref (self->owner_context);
  g_clear_error (&self->failure);
  g_free (self->serial);
  g_free (self->description);
  G_OBJECT_CLASS (thecal_usb_transport_parent_class)->finalize (object);
}

static void
thecal_usb_transport_class_init (ThecalUsbTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = thecal_usb_transport_dispose;
  object_class->finalize = thecal_usb_transport_finalize;
}

static void
thecal_usb_transport_init (ThecalUsbTransport *self)
{
  self->owner_thread = g_thread_self ();
  self->owner_context = g_main_context_ref_thread_default ();
  self->state = USB_STATE_CLOSED; /* until thecal_usb_transport_new opened it */
  self->failure = g_error_new_literal (THECAL_WAND_ERROR, THECAL_WAND_ERROR_DISCONNECTED, _ ("The wand is not open"));
  self->rx = g_byte_array_new ();
  self->clock = thecal_clock_new_real ();
  _thecal_frame_queue_init (&self->inbound, self->clock);
  self->inbound.max_frames = THECAL_USB_RX_QUEUE_MAX;
  self->inbound.no_pump_message = _ ("No pump in range: hold the wand over the pump");
  self->inbound.hold = usb_hold_context;
  self->inbound.hold_data = self;
  self->sends = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, usb_send_free);
  self->link = usb_link_new ();
  self->link->owner = self;
  usb_link_context_acquire (self->link, self->owner_context, TRUE);
}

/* ---- accessors --------------------------------------------------------------------------- */

const char *
thecal_usb_transport_get_serial (ThecalUsbTransport *self)
{
  g_return_val_if_fail (THECAL_IS_USB_TRANSPORT (self), NULL);
  return self->serial;
}

guint
thecal_usb_transport_get_max_packet_size (ThecalUsbTransport *self)
{
  g_return_val_if_fail (THECAL_IS_USB_TRANSPORT (self), 0);
  return self->max_packet_size;
}

gboolean
thecal_usb_transport_is_connected (ThecalUsbTransport *self)
{
  g_return_val_if_fail (THECAL_IS_USB_TRANSPORT (self), FALSE);
  return self->state == USB_STATE_OPEN;
}

void
thecal_usb_transport_get_stats (ThecalUsbTransport *self, ThecalUsbStats *stats)
{
  g_return_if_fail (THECAL_IS_USB_TRANSPORT (self));
  *stats = self->stats;
  stats->frames_dropped = self->inbound.dropped;
}
