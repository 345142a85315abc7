/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * emulated-wand.h: a USB telemetry wand emulated by umockdev (TESTING.md "The USB wand against
 * an emulated device"), so that the real libusb code of src/wand/thecal-usb-transport.c runs
 * against it in-process, the way libusb's own tests/umockdev.c tests libusb.
 *
 * The wand has the descriptors of a real one (VID/PID as given, one vendor interface, bulk OUT
 * 0x01 and bulk IN 0x81 of 512 bytes at high speed, a serial string). Its ioctl handler runs on
 * umockdev's thread and serves usbfs: SUBMITURB, REAPURB/REAPURBNDELAY, DISCARDURB,
 * GET_CAPABILITIES, CLAIM/RELEASE/CLEAR_HALT/RESET/SETINTERFACE/DISCONNECT_CLAIM, GETDRIVER and
 * USBDEVFS_IOCTL (ENODATA), control transfers for string descriptors.
 *
 * Every frame the programmer sends goes first to thecal_wand_local_answer (WAND_INFO, WAND_LINK);
 * anything else goes to the relay callback, which returns the pump's answer frames. On the wire
 * the wand behaves like the real one (docs/usb-wand.md): one frame per bulk transfer each way.
 *
 * Create the wand (its testbed) before any libusb context, and free it after the last one
 * (libusb_exit): libusb's udev monitor is per process and bound to the testbed's directory.
 * The test binary links libumockdev-preload first (tests/wand/meson.build) and the wand checks
 * umockdev_in_mock_environment () so that no real /sys or /dev is ever touched.
 */
#pragma once

#include <glib.h>

#include "thecal-message.h"

G_BEGIN_DECLS

typedef struct _EmulatedWand EmulatedWand;

/* Called on umockdev's thread (never on the test's thread) with each frame the wand relays to
 * the pump; add the pump's answer frames (GBytes) to @answers, in order. With the wand's lock
 * held: do not call emulated_wand_* from here. */
typedef void (*EmulatedWandRelay) (const guint8 *frame, gsize length, GPtrArray *answers, gpointer user_data);

typedef struct
{
  guint64 out_transfers; /* bulk OUT URBs completed */
  guint64 out_bytes;
  guint64 out_zero_length; /* OUT URBs flagged ZERO_PACKET */
  guint64 out_missing_zlp; /* frames of k × max packet sent without ZERO_PACKET (a bug) */
  guint64 in_transfers;    /* bulk IN URBs completed with data */
  guint64 in_bytes;
  guint64 in_zero_length;  /* frames of k × max packet: the wand closes them with a ZLP */
  guint64 frames_relayed;  /* to the pump */
  guint64 frames_local;    /* answered by the wand itself */
  guint64 frames_answered; /* answer frames queued for the host */
  guint64 bytes_discarded; /* OUT bytes that did not start a frame */
  guint64 discarded_urbs;  /* DISCARDURB (cancellations, libusb timeouts) */
  guint64 control_transfers;
} EmulatedWandStats;

/* A testbed with no wand plugged yet; NULL (and @error) if umockdev is not in charge. */
EmulatedWand *emulated_wand_new (guint16 vid, guint16 pid, const char *serial, GError **error);
void emulated_wand_free (EmulatedWand *wand);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EmulatedWand, emulated_wand_free)

void emulated_wand_set_relay (EmulatedWand *wand, EmulatedWandRelay relay, gpointer user_data);
void emulated_wand_set_link (EmulatedWand *wand, const ThecalWandLink *link);

/* Plugs the wand in (a new device number every time: 1-2, 1-3, ...). After libusb_init this
 * sends the "add" uevent (hotplug arrival). */
gboolean emulated_wand_plug (EmulatedWand *wand, GError **error);
/* Unplugs it the way the kernel does: pending URBs complete with -ESHUTDOWN, the "remove"
 * uevent goes out (then libusb's hotplug sees DEVICE_LEFT), the device disappears, and every
 * later ioctl on the old node but REAP fails with ENODEV. */
void emulated_wand_unplug (EmulatedWand *wand);
gboolean emulated_wand_is_plugged (EmulatedWand *wand);

/* Makes the next CLAIM (or DISCONNECT_CLAIM) fail with @errno_value (EBUSY: another program
 * has the wand). 0 clears it. */
void emulated_wand_fail_next_claim (EmulatedWand *wand, int errno_value);
/* TRUE: OUT URBs stay pending (the wand does not take data) until unplug or discard. */
void emulated_wand_hold_out (EmulatedWand *wand, gboolean hold);
/* How many frames reached the relay so far (thread-safe). */
guint64 emulated_wand_relayed (EmulatedWand *wand);
/* How many IN URBs wait for data (thread-safe): 1 when the host listens. */
guint emulated_wand_pending_in (EmulatedWand *wand);
/* How many OUT URBs are held (emulated_wand_hold_out). */
guint emulated_wand_pending_out (EmulatedWand *wand);
void emulated_wand_get_stats (EmulatedWand *wand, EmulatedWandStats *stats);
/* "/sys/devices/..." of the plugged wand (NULL when unplugged). */
const char *emulated_wand_get_syspath (EmulatedWand *wand);

G_END_DECLS
