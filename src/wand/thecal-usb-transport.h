/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-usb-transport.h: the USB telemetry wand through libusb (DESIGN.md "Names" and
 * "Telemetry", docs/usb-wand.md).
 *
 * The wand is a vendor-specific USB device (VID 0x1209, pid.codes, with a test PID; both
 * configurable) whose one vendor interface (class 0xFF) has a bulk OUT endpoint 0x01 and a bulk
 * IN endpoint 0x81. Framing on USB: one protocol frame per bulk transfer in each direction; a
 * transfer ends with a short packet, or with a zero-length packet when the frame is a multiple
 * of the endpoint's maximum packet size. The host reassembles what it receives with
 * thecal_frame_peek_size, so a frame split over several transfers (or several frames in one)
 * are still found.
 *
 * Threads: the transport is a GObject of the thread that creates it (its owner context is the
 * thread-default GMainContext at construction). One libusb event thread per open wand runs
 * libusb_handle_events_timeout_completed; it never touches a GObject and only queues results
 * (received bytes, completed transfers, hotplug removal) for the owner thread. Every method must
 * be called on the owner thread, and every callback and signal runs there.
 *
 * Failures are THECAL_WAND_ERROR (thecal-transport.h): a wand removal fails every pending
 * operation at once with THECAL_WAND_ERROR_UNPLUGGED "Wand unplugged" and emits
 * "disconnected" once; a receive that times out fails with THECAL_WAND_ERROR_NO_PUMP "No pump
 * in range". A cancelled operation fails with G_IO_ERROR_CANCELLED (GLib convention).
 */
#pragma once

#include "thecal-transport.h"

G_BEGIN_DECLS

/* pid.codes (https://pid.codes): VID 0x1209 is shared by open-source hardware; 0x0001 is its
 * "Test PID", for development only. A production wand gets its own PID. */
#define THECAL_USB_WAND_VID 0x1209
#define THECAL_USB_WAND_PID 0x0001
#define THECAL_USB_WAND_INTERFACE_CLASS 0xFF /* vendor specific */
#define THECAL_USB_WAND_EP_OUT 0x01
#define THECAL_USB_WAND_EP_IN 0x81
/* How long the wand may take to accept one frame on the OUT endpoint. */
#define THECAL_USB_SEND_TIMEOUT_MS 5000
/* Frames received while nobody receives are kept up to this many; then the oldest is dropped. */
#define THECAL_USB_RX_QUEUE_MAX 64

/* One wand as thecal_usb_transport_list () sees it (for the UI: "choose a wand"). */
typedef struct
{
  guint16 vid;
  guint16 pid;
  guint8 bus;
  guint8 address;
  gboolean accessible; /* FALSE: it could not be opened (permission, in use): see @problem */
  char *serial;        /* NULL when it could not be read */
  char *problem;       /* NULL, or why it cannot be used, in a clinician's words */
  char *description;   /* "USB wand 1209:0001 (serial W123)" */
} ThecalUsbWandInfo;

void thecal_usb_wand_info_free (ThecalUsbWandInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ThecalUsbWandInfo, thecal_usb_wand_info_free)

/* What went over the wire, counted on the host (for the bench and the logs). */
typedef struct
{
  guint64 frames_sent;
  guint64 bytes_sent;       /* frame bytes in OUT transfers */
  guint64 zero_length_sent; /* OUT transfers that ended with a zero-length packet */
  guint64 packets_sent;     /* OUT bulk packets, zero-length ones included */
  guint64 frames_received;
  guint64 bytes_received;  /* bytes in IN transfers */
  guint64 in_transfers;    /* completed IN transfers that carried data */
  guint64 frames_dropped;  /* queue overflow: nobody received them */
  guint64 bytes_discarded; /* bytes that did not start a frame (resynchronisation) */
} ThecalUsbStats;

#define THECAL_TYPE_USB_TRANSPORT (thecal_usb_transport_get_type ())
G_DECLARE_FINAL_TYPE (ThecalUsbTransport, thecal_usb_transport, THECAL, USB_TRANSPORT, GObject)

/* Opens the first wand with @vid:@pid that can be opened, claims its vendor interface and starts
 * receiving. NOT_FOUND "No wand connected" when there is none; PERMISSION, BUSY, UNPLUGGED or
 * IO as the system says. */
ThecalUsbTransport *thecal_usb_transport_new (guint16 vid, guint16 pid, GError **error);

/* Every connected wand with @vid:@pid (possibly none: an empty array, not an error), each
 * opened briefly to read its serial. NULL and @error only when USB itself cannot be used. */
GPtrArray *thecal_usb_transport_list (guint16 vid, guint16 pid, GError **error);

/* The wand's serial number (string descriptor), or NULL. */
const char *thecal_usb_transport_get_serial (ThecalUsbTransport *self);
/* The maximum packet size of the bulk OUT endpoint (512 at high speed). */
guint thecal_usb_transport_get_max_packet_size (ThecalUsbTransport *self);
/* FALSE once the wand was unplugged or the transport closed. */
gboolean thecal_usb_transport_is_connected (ThecalUsbTransport *self);
void thecal_usb_transport_get_stats (ThecalUsbTransport *self, ThecalUsbStats *stats);

/* Translates a libusb return code (enum libusb_error; ≥ 0 is success) into THECAL_WAND_ERROR
 * with a message a clinician understands. Returns TRUE (and sets nothing) for success. This is
 * the one place where libusb errors are translated (STYLE.md §4, fwupd's pattern). */
gboolean thecal_usb_error_to_gerror (int libusb_rc, GError **error);

G_END_DECLS
