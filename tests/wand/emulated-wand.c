/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * emulated-wand.c: the USB telemetry wand, emulated with umockdev's ioctl handler
 * (TESTING.md; the pattern of libusb's tests/umockdev.c).
 *
 * Threads: emulated_wand_* run on the test's thread; plug_handle_ioctl runs on umockdev's
 * thread. Everything they share is under wand->mutex.
 */
#include "config.h"

#include "emulated-wand.h"

#include <errno.h>
#include <linux/ioctl.h>
#include <linux/usbdevice_fs.h>
#include <string.h>
#include <umockdev.h>

#include "thecal-frame.h"
#include "thecal-wand-local.h"

#define EMU_MAX_PACKET 512 /* bulk, high speed */
#define EMU_BUS 1

typedef struct
{
  UMockdevIoctlData *urb;    /* the client's struct usbdevfs_urb, resolved */
  UMockdevIoctlData *buffer; /* its buffer, resolved */
  guint8 endpoint;
  int status;        /* at reap */
  int actual_length; /* at reap */
} EmuUrb;

typedef struct _Plug Plug;

struct _EmulatedWand
{
  UMockdevTestbed *testbed;
  guint16 vid;
  guint16 pid;
  char *serial;
  guint n_plugs;
  GPtrArray *plugs; /* Plug*: every plug so far (old nodes stay answered with ENODEV) */
  Plug *current;    /* NULL when unplugged */

  GMutex mutex; /* everything below, and every Plug's queues */
  EmulatedWandRelay relay;
  gpointer relay_data;
  ThecalWandInfo info;
  ThecalWandLink link;
  int claim_errno;
  gboolean hold_out;
  GByteArray *out_stream; /* OUT bytes not yet a whole frame */
  GQueue answers;         /* GBytes*: frames for the host */
  gsize answer_offset;    /* bytes of the head answer already sent */
  EmulatedWandStats stats;
  guint8 scratch[THECAL_FRAME_MAX];
};

struct _Plug
{
  EmulatedWand *wand;
  UMockdevIoctlBase *handler;
  char *devnode;
  char *syspath;
  gboolean unplugged;
  GQueue in_pending; /* EmuUrb*: IN URBs waiting for data */
  GQueue out_held;   /* EmuUrb*: OUT URBs not taken (hold_out) */
  GQueue done;       /* EmuUrb*: ready to reap, in order */
};

static void
emu_urb_free (EmuUrb *urb)
{
  g_clear_object (&urb->urb);
  g_clear_object (&urb->buffer);
  g_free (urb);
}

static void
plug_free (Plug *plug)
{
  g_queue_clear_full (&plug->in_pending, (GDestroyNotify) emu_urb_free);
  g_queue_clear_full (&plug->out_held, (GDestroyNotify) emu_urb_free);
  g_queue_clear_full (&plug->done, (GDestroyNotify) emu_urb_free);
  g_clear_object (&plug->handler);
  g_free (plug->devnode);
  g_free (plug->syspath);
  g_free (plug);
}

/* ---- the wand's own logic (umockdev's thread, wand->mutex held) -------------------------- */

static void
wand_queue_answer (EmulatedWand *wand, const guint8 *frame, gsize length)
{
  g_queue_push_tail (&wand->answers, g_bytes_new (frame, length));
  wand->stats.frames_answered++;
}

/* One whole frame from the host: the wand answers it or relays it to the pump. */
static void
wand_handle_frame (EmulatedWand *wand, const guint8 *frame, gsize length)
{
  size_t out_length = 0;

  if (thecal_wand_local_answer (frame, length, &wand->info, &wand->link, wand->scratch, sizeof wand->scratch, &out_length))
    {
      wand->stats.frames_local++;
      if (out_length > 0)
        wand_queue_answer (wand, wand->scratch, out_length);
      return;
    }
  wand->stats.frames_relayed++;
  if (wand->relay != NULL)
    {
      g_autoptr (GPtrArray) answers = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

      wand->relay (frame, length, answers, wand->relay_data);
      for (guint i = 0; i < answers->len; i++)
        {
          gsize size = 0;
          const guint8 *data = g_bytes_get_data (g_ptr_array_index (answers, i), &size);

          wand_queue_answer (wand, data, size);
        }
    }
}

/* Bytes of one OUT transfer: frames are found with thecal_frame_peek_size, like the host does. */
static void
wand_take_out_bytes (EmulatedWand *wand, const guint8 *data, gsize length)
{
  g_byte_array_append (wand->out_stream, data, (guint) length);
  for (;;)
    {
      size_t size = 0;
      ThecalFrameStatus status = thecal_frame_peek_size (wand->out_stream->data, wand->out_stream->len, &size);

      if (status == THECAL_FRAME_NEED_MORE || (status == THECAL_FRAME_OK && size > wand->out_stream->len))
        return;
      if (status != THECAL_FRAME_OK)
        {
          g_byte_array_remove_range (wand->out_stream, 0, 1);
          wand->stats.bytes_discarded++;
          continue;
        }
      wand_handle_frame (wand, wand->out_stream->data, size);
      g_byte_array_remove_range (wand->out_stream, 0, (guint) size);
    }
}

static void
wand_complete_out (EmulatedWand *wand, EmuUrb *urb)
{
  struct usbdevfs_urb *u = (struct usbdevfs_urb *) urb->urb->data;
  gsize length = (gsize) MAX (u->buffer_length, 0);

  wand->stats.out_transfers++;
  wand->stats.out_bytes += length;
  if ((u->flags & USBDEVFS_URB_ZERO_PACKET) != 0)
    wand->stats.out_zero_length++;
  else if (length > 0 && length % EMU_MAX_PACKET == 0)
    wand->stats.out_missing_zlp++;
  if (length > 0)
    wand_take_out_bytes (wand, urb->buffer->data, length);
  urb->status = 0;
  urb->actual_length = (int) length;
}

/* Fills waiting IN URBs with answer bytes: one frame per transfer (a transfer ends at the end
 * of a frame, with a short packet or a zero-length packet), a frame longer than the URB goes on
 * in the next one. */
static void
plug_fill_in (Plug *plug)
{
  EmulatedWand *wand = plug->wand;

  while (!g_queue_is_empty (&plug->in_pending) && !g_queue_is_empty (&wand->answers))
    {
      EmuUrb *urb = g_queue_pop_head (&plug->in_pending);
      struct usbdevfs_urb *u = (struct usbdevfs_urb *) urb->urb->data;
      GBytes *answer = g_queue_peek_head (&wand->answers);
      gsize size = 0;
      const guint8 *data = g_bytes_get_data (answer, &size);
      gsize chunk = MIN (size - wand->answer_offset, (gsize) MAX (u->buffer_length, 0));

      if (chunk > 0)
        memcpy (urb->buffer->data, data + wand->answer_offset, chunk);
      urb->status = 0;
      urb->actual_length = (int) chunk;
      wand->answer_offset += chunk;
      wand->stats.in_transfers++;
      wand->stats.in_bytes += chunk;
      if (wand->answer_offset == size)
        {
          if (size % EMU_MAX_PACKET == 0)
            wand->stats.in_zero_length++;
          g_bytes_unref (g_queue_pop_head (&wand->answers));
          wand->answer_offset = 0;
        }
      g_queue_push_tail (&plug->done, urb);
    }
}

/* GET_DESCRIPTOR (string) on the control endpoint: the serial for the host's describe (). */
static void
plug_control (Plug *plug, EmuUrb *urb)
{
  EmulatedWand *wand = plug->wand;
  struct usbdevfs_urb *u = (struct usbdevfs_urb *) urb->urb->data;
  guint8 *buf = urb->buffer->data;
  guint8 reply[256];
  gsize n = 0;

  wand->stats.control_transfers++;
  urb->status = 0;
  urb->actual_length = 0;
  if (u->buffer_length < 8)
    {
      urb->status = -EPIPE;
      return;
    }
  /* setup: bmRequestType, bRequest, wValue, wIndex, wLength */
  if (buf[0] == 0x80 && buf[1] == 0x06 && buf[3] == 0x03)
    {
      guint8 index = buf[2];
      const char *text = NULL;

      if (index == 0)
        {
          reply[0] = 4;
          reply[1] = 0x03;
          reply[2] = 0x09; /* en-US */
          reply[3] = 0x04;
          n = 4;
        }
      else
        {
          text = index == 1 ? "Thecal" : index == 2 ? "Thecal telemetry wand (emulated)"
                                     : index == 3   ? wand->serial
                                                    : NULL;
          if (text != NULL)
            {
              gsize len = MIN (strlen (text), (sizeof reply - 2) / 2);

              reply[0] = (guint8) (2 + 2 * len);
              reply[1] = 0x03;
              for (gsize i = 0; i < len; i++)
                {
                  reply[2 + 2 * i] = (guint8) text[i];
                  reply[3 + 2 * i] = 0;
                }
              n = 2 + 2 * len;
            }
        }
    }
  if (n == 0)
    {
      urb->status = -EPIPE; /* stall: not supported */
      return;
    }
  n = MIN (n, (gsize) (buf[6] | (buf[7] << 8)));
  n = MIN (n, (gsize) u->buffer_length - 8);
  memcpy (buf + 8, reply, n);
  urb->actual_length = (int) n; /* data only, without the setup packet */
}

/* ---- the usbfs ioctl handler (umockdev's thread) ----------------------------------------- */

static void
plug_complete (UMockdevIoctlClient *client, long result, int errno_value)
{
  umockdev_ioctl_client_complete (client, result, errno_value);
}

static gboolean
plug_submit (Plug *plug, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
  EmulatedWand *wand = plug->wand;
  g_autoptr (GError) error = NULL;
  /* resolve () returns a new reference (libusb's tests/umockdev.c frees it with g_autoptr) */
  g_autoptr (UMockdevIoctlData) urb_data = umockdev_ioctl_data_resolve (arg, 0, sizeof (struct usbdevfs_urb), &error);
  struct usbdevfs_urb *u;
  EmuUrb *urb;

  if (urb_data == NULL)
    {
      plug_complete (client, -1, EFAULT);
      return TRUE;
    }
  u = (struct usbdevfs_urb *) urb_data->data;
  urb = g_new0 (EmuUrb, 1);
  urb->urb = g_object_ref (urb_data);
  urb->endpoint = u->endpoint;
  if (u->buffer_length > 0)
    {
      g_autoptr (UMockdevIoctlData) buffer = umockdev_ioctl_data_resolve (urb_data, G_STRUCT_OFFSET (struct usbdevfs_urb, buffer),
                                                                          (gsize) u->buffer_length, &error);

      if (buffer == NULL)
        {
          emu_urb_free (urb);
          plug_complete (client, -1, EFAULT);
          return TRUE;
        }
      urb->buffer = g_object_ref (buffer);
    }

  if (u->type == USBDEVFS_URB_TYPE_CONTROL && u->endpoint == 0)
    {
      plug_control (plug, urb);
      g_queue_push_tail (&plug->done, urb);
    }
  else if (u->type == USBDEVFS_URB_TYPE_BULK && u->endpoint == 0x01)
    {
      if (wand->hold_out)
        g_queue_push_tail (&plug->out_held, urb);
      else
        {
          wand_complete_out (wand, urb);
          g_queue_push_tail (&plug->done, urb);
          plug_fill_in (plug);
        }
    }
  else if (u->type == USBDEVFS_URB_TYPE_BULK && u->endpoint == 0x81)
    {
      g_queue_push_tail (&plug->in_pending, urb);
      plug_fill_in (plug);
    }
  else
    {
      emu_urb_free (urb);
      plug_complete (client, -1, EINVAL);
      return TRUE;
    }
  plug_complete (client, 0, 0);
  return TRUE;
}

static gboolean
plug_reap (Plug *plug, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
  EmuUrb *urb = g_queue_pop_head (&plug->done);
  struct usbdevfs_urb *u;
  g_autoptr (UMockdevIoctlData) ptr = NULL;

  if (urb == NULL)
    {
      plug_complete (client, -1, EAGAIN);
      return TRUE;
    }
  u = (struct usbdevfs_urb *) urb->urb->data;
  u->status = urb->status;
  u->actual_length = urb->actual_length;
  ptr = umockdev_ioctl_data_resolve (arg, 0, sizeof (gpointer), NULL);
  if (ptr == NULL)
    {
      g_queue_push_head (&plug->done, urb);
      plug_complete (client, -1, EFAULT);
      return TRUE;
    }
  /* the client gets its own URB back, written back with status, length and IN data */
  umockdev_ioctl_data_set_ptr (ptr, 0, urb->urb);
  plug_complete (client, 0, 0);
  emu_urb_free (urb);
  return TRUE;
}

static gboolean
plug_discard_from (GQueue *queue, Plug *plug, gulong address)
{
  for (GList *l = queue->head; l != NULL; l = l->next)
    {
      EmuUrb *urb = l->data;

      if (urb->urb->client_addr == address)
        {
          g_queue_delete_link (queue, l);
          urb->status = -ENOENT; /* how libusb's cancellations and timeouts complete */
          urb->actual_length = 0;
          g_queue_push_tail (&plug->done, urb);
          plug->wand->stats.discarded_urbs++;
          return TRUE;
        }
    }
  return FALSE;
}

/* Runs on umockdev's thread for every ioctl on this plug's node. */
static gboolean
plug_handle_ioctl (UMockdevIoctlBase *handler, UMockdevIoctlClient *client, gpointer user_data)
{
  Plug *plug = user_data;
  EmulatedWand *wand = plug->wand;
  gulong request = umockdev_ioctl_client_get_request (client);
  UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg (client);
  gboolean handled = TRUE;

  (void) handler;
  g_mutex_lock (&wand->mutex);
  if (plug->unplugged && request != USBDEVFS_REAPURB && request != USBDEVFS_REAPURBNDELAY)
    {
      plug_complete (client, -1, ENODEV);
      g_mutex_unlock (&wand->mutex);
      return TRUE;
    }
  switch (request)
    {
    case USBDEVFS_GET_CAPABILITIES:
      {
        g_autoptr (UMockdevIoctlData) caps = umockdev_ioctl_data_resolve (arg, 0, sizeof (guint32), NULL);

        if (caps == NULL)
          plug_complete (client, -1, EFAULT);
        else
          {
            /* One URB per transfer (scatter-gather), zero-length packets, reap after removal. */
            *(guint32 *) caps->data = USBDEVFS_CAP_ZERO_PACKET | USBDEVFS_CAP_BULK_CONTINUATION
                                      | USBDEVFS_CAP_NO_PACKET_SIZE_LIM | USBDEVFS_CAP_REAP_AFTER_DISCONNECT
                                      | USBDEVFS_CAP_BULK_SCATTER_GATHER;
            plug_complete (client, 0, 0);
          }
      }
      break;
    case USBDEVFS_CLAIMINTERFACE:
    case USBDEVFS_DISCONNECT_CLAIM:
      if (wand->claim_errno != 0)
        {
          plug_complete (client, -1, wand->claim_errno);
          wand->claim_errno = 0;
        }
      else
        plug_complete (client, 0, 0);
      break;
    case USBDEVFS_RELEASEINTERFACE:
    case USBDEVFS_CLEAR_HALT:
    case USBDEVFS_RESET:
    case USBDEVFS_RESETEP:
    case USBDEVFS_SETINTERFACE:
      plug_complete (client, 0, 0);
      break;
    case USBDEVFS_GETDRIVER:
    case USBDEVFS_IOCTL:
      plug_complete (client, -1, ENODATA); /* no kernel driver bound */
      break;
    case USBDEVFS_SUBMITURB:
      handled = plug_submit (plug, client, arg);
      break;
    case USBDEVFS_REAPURB:
    case USBDEVFS_REAPURBNDELAY:
      handled = plug_reap (plug, client, arg);
      break;
    case USBDEVFS_DISCARDURB:
      {
        gulong address = arg != NULL && arg->data_len >= (gint) sizeof (gpointer) ? *(gulong *) arg->data : 0;

        if (plug_discard_from (&plug->in_pending, plug, address) || plug_discard_from (&plug->out_held, plug, address))
          plug_complete (client, 0, 0);
        else
          plug_complete (client, -1, EINVAL); /* already done: libusb expects this */
      }
      break;
    default:
      g_debug ("emulated wand: unexpected ioctl 0x%lx", request);
      plug_complete (client, -1, ENOTTY);
      break;
    }
  g_mutex_unlock (&wand->mutex);
  return handled;
}

/* ---- the test's side --------------------------------------------------------------------- */

EmulatedWand *
emulated_wand_new (guint16 vid, guint16 pid, const char *serial, GError **error)
{
  EmulatedWand *wand = g_new0 (EmulatedWand, 1);

  /* The testbed sets $UMOCKDEV_DIR; only then does the preload library redirect /sys, which is
   * what umockdev_in_mock_environment () looks at (and caches): ask after, never before. */
  wand->testbed = umockdev_testbed_new ();
  if (!umockdev_in_mock_environment ())
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           "not running under umockdev: link libumockdev-preload first (TESTING.md)");
      g_clear_object (&wand->testbed);
      g_free (wand);
      return NULL;
    }
  wand->vid = vid;
  wand->pid = pid;
  wand->serial = g_strdup (serial);
  wand->plugs = g_ptr_array_new_with_free_func ((GDestroyNotify) plug_free);
  g_mutex_init (&wand->mutex);
  wand->out_stream = g_byte_array_new ();
  g_queue_init (&wand->answers);
  g_strlcpy (wand->info.serial, serial, sizeof wand->info.serial);
  g_strlcpy (wand->info.firmware_version, "emulated-1.0", sizeof wand->info.firmware_version);
  wand->info.protocol_version = 1;
  wand->link.rssi_dbm = -48;
  wand->link.quality_percent = 92;
  wand->link.pump_in_range = TRUE;
  return wand;
}

void
emulated_wand_free (EmulatedWand *wand)
{
  if (wand == NULL)
    return;
  /* every libusb context is gone by now (libusb_exit before the testbed goes) */
  g_ptr_array_unref (wand->plugs);
  g_clear_object (&wand->testbed);
  g_queue_clear_full (&wand->answers, (GDestroyNotify) g_bytes_unref);
  g_byte_array_unref (wand->out_stream);
  g_mutex_clear (&wand->mutex);
  g_free (wand->serial);
  g_free (wand);
}

void
emulated_wand_set_relay (EmulatedWand *wand, EmulatedWandRelay relay, gpointer user_data)
{
  g_mutex_lock (&wand->mutex);
  wand->relay = relay;
  wand->relay_data = user_data;
  g_mutex_unlock (&wand->mutex);
}

void
emulated_wand_set_link (EmulatedWand *wand, const ThecalWandLink *link)
{
  g_mutex_lock (&wand->mutex);
  wand->link = *link;
  g_mutex_unlock (&wand->mutex);
}

/* The device and configuration descriptors, in hex, as sysfs's "descriptors" holds them. */
static char *
emulated_wand_descriptors (guint16 vid, guint16 pid)
{
  /* device (18 bytes): USB 2.00, class per interface, EP0 64 bytes, VID, PID, bcdDevice 1.00,
   * strings 1 2 3, one configuration; configuration (9): 32 bytes in all, one interface, value 1,
   * bus powered, 100 mA; interface 0 (9): two endpoints, class 0xFF; endpoints (7 each): bulk
   * OUT 0x01 and bulk IN 0x81 of 512 bytes */
  return g_strdup_printf ("1201000200000040%02x%02x%02x%02x000101020301" /* device */
                          "090220000101008032"                           /* configuration */
                          "0904000002ff000000"                           /* interface */
                          "07050102000200"                               /* bulk OUT 0x01 */
                          "07058102000200",                              /* bulk IN 0x81 */
                          vid & 0xFF, vid >> 8, pid & 0xFF, pid >> 8);
}

gboolean
emulated_wand_plug (EmulatedWand *wand, GError **error)
{
  g_autofree char *descriptors = NULL;
  g_autofree char *record = NULL;
  Plug *plug;
  guint port;
  guint devnum;

  g_return_val_if_fail (wand->current == NULL, FALSE);
  port = ++wand->n_plugs;
  devnum = port + 1; /* 1 is the root hub's */
  plug = g_new0 (Plug, 1);
  plug->wand = wand;
  plug->devnode = g_strdup_printf ("/dev/bus/usb/%03u/%03u", EMU_BUS, devnum);
  plug->syspath = g_strdup_printf ("/sys/devices/usb%u/%u-%u", EMU_BUS, EMU_BUS, port);
  g_queue_init (&plug->in_pending);
  g_queue_init (&plug->out_held);
  g_queue_init (&plug->done);
  plug->handler = umockdev_ioctl_base_new ();
  g_signal_connect_after (plug->handler, "handle-ioctl", G_CALLBACK (plug_handle_ioctl), plug);
  g_ptr_array_add (wand->plugs, plug);

  /* the handler first, then the device (TESTING.md): the "add" uevent may open it at once */
  if (!umockdev_testbed_attach_ioctl (wand->testbed, plug->devnode, plug->handler, error))
    return FALSE;
  descriptors = emulated_wand_descriptors (wand->vid, wand->pid);
  record = g_strdup_printf ("P: /devices/usb%u/%u-%u\n"
                            "N: bus/usb/%03u/%03u\n"
                            "E: SUBSYSTEM=usb\n"
                            "E: DEVTYPE=usb_device\n"
                            "E: BUSNUM=%03u\n"
                            "E: DEVNUM=%03u\n"
                            "E: DEVNAME=%s\n"
                            "E: PRODUCT=%x/%x/100\n"
                            "A: busnum=%u\\n\n"
                            "A: devnum=%u\\n\n"
                            "A: bConfigurationValue=1\\n\n"
                            "A: speed=480\\n\n"
                            "A: idVendor=%04x\\n\n"
                            "A: idProduct=%04x\\n\n"
                            "A: serial=%s\\n\n"
                            "H: descriptors=%s\n",
                            EMU_BUS, EMU_BUS, port, EMU_BUS, devnum, EMU_BUS, devnum, plug->devnode, wand->vid,
                            wand->pid, EMU_BUS, devnum, wand->vid, wand->pid, wand->serial, descriptors);
  if (!umockdev_testbed_add_from_string (wand->testbed, record, error))
    return FALSE;
  g_mutex_lock (&wand->mutex);
  wand->current = plug;
  g_byte_array_set_size (wand->out_stream, 0);
  g_queue_clear_full (&wand->answers, (GDestroyNotify) g_bytes_unref);
  wand->answer_offset = 0;
  g_mutex_unlock (&wand->mutex);
  return TRUE;
}

static void
plug_shutdown_queue (Plug *plug, GQueue *queue)
{
  EmuUrb *urb;

  while ((urb = g_queue_pop_head (queue)) != NULL)
    {
      /* libusb maps -ESHUTDOWN to NO_DEVICE for every transfer type (TESTING.md) */
      urb->status = -ESHUTDOWN;
      urb->actual_length = 0;
      g_queue_push_tail (&plug->done, urb);
    }
}

void
emulated_wand_unplug (EmulatedWand *wand)
{
  Plug *plug = wand->current;

  g_return_if_fail (plug != NULL);
  g_mutex_lock (&wand->mutex);
  plug->unplugged = TRUE;
  plug_shutdown_queue (plug, &plug->in_pending);
  plug_shutdown_queue (plug, &plug->out_held);
  wand->current = NULL;
  g_mutex_unlock (&wand->mutex);
  /* "remove" BEFORE remove_device: that is what libusb's hotplug sees (TESTING.md) */
  umockdev_testbed_uevent (wand->testbed, plug->syspath, "remove");
  umockdev_testbed_remove_device (wand->testbed, plug->syspath);
}

gboolean
emulated_wand_is_plugged (EmulatedWand *wand)
{
  return wand->current != NULL;
}

void
emulated_wand_fail_next_claim (EmulatedWand *wand, int errno_value)
{
  g_mutex_lock (&wand->mutex);
  wand->claim_errno = errno_value;
  g_mutex_unlock (&wand->mutex);
}

void
emulated_wand_hold_out (EmulatedWand *wand, gboolean hold)
{
  g_mutex_lock (&wand->mutex);
  wand->hold_out = hold;
  if (!hold && wand->current != NULL)
    {
      EmuUrb *urb;

      while ((urb = g_queue_pop_head (&wand->current->out_held)) != NULL)
        {
          wand_complete_out (wand, urb);
          g_queue_push_tail (&wand->current->done, urb);
        }
      plug_fill_in (wand->current);
    }
  g_mutex_unlock (&wand->mutex);
}

guint64
emulated_wand_relayed (EmulatedWand *wand)
{
  guint64 n;

  g_mutex_lock (&wand->mutex);
  n = wand->stats.frames_relayed;
  g_mutex_unlock (&wand->mutex);
  return n;
}

/* The URBs the wand holds: the IN ones waiting for data (@in), or the OUT ones held back. */
static guint
pending_urbs (EmulatedWand *wand, gboolean in)
{
  guint n = 0;

  g_mutex_lock (&wand->mutex);
  if (wand->current != NULL)
    n = g_queue_get_length (in ? &wand->current->in_pending : &wand->current->out_held);
  g_mutex_unlock (&wand->mutex);
  return n;
}

guint
emulated_wand_pending_in (EmulatedWand *wand)
{
  return pending_urbs (wand, TRUE);
}

guint
emulated_wand_pending_out (EmulatedWand *wand)
{
  return pending_urbs (wand, FALSE);
}

void
emulated_wand_get_stats (EmulatedWand *wand, EmulatedWandStats *stats)
{
  g_mutex_lock (&wand->mutex);
  *stats = wand->stats;
  g_mutex_unlock (&wand->mutex);
}

const char *
emulated_wand_get_syspath (EmulatedWand *wand)
{
  return wand->current != NULL ? wand->current->syspath : NULL;
}
