/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-usb-monitor.h: tells the main loop when a telemetry wand is plugged in or pulled out
 * (libusb hotplug), so that the interface can say "plug in the wand" and go on by itself once it
 * is there (docs/usb-wand.md "Hotplug").
 *
 * Signals, on the owner context (the thread-default context of the thread that created the
 * monitor), never on libusb's thread:
 *   "wand-added"   (ThecalUsbMonitor *self, guint bus, guint address)
 *   "wand-removed" (ThecalUsbMonitor *self, guint bus, guint address)
 * Wands already present at creation are announced as added too (from the first iteration of
 * the owner context on, never from inside thecal_usb_monitor_new ()).
 *
 * The monitor's libusb event thread only queues (libusb/hotplug.c: a hotplug callback calls no
 * synchronous libusb function); opening a wand is thecal_usb_transport_new ()'s business.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define THECAL_TYPE_USB_MONITOR (thecal_usb_monitor_get_type ())
G_DECLARE_FINAL_TYPE (ThecalUsbMonitor, thecal_usb_monitor, THECAL, USB_MONITOR, GObject)

/* Watches for wands with @vid:@pid. THECAL_WAND_ERROR_IO when this system's libusb has no
 * hotplug support (the interface then lists wands with thecal_usb_transport_list ()). */
ThecalUsbMonitor *thecal_usb_monitor_new (guint16 vid, guint16 pid, GError **error);

/* How many matching wands are plugged in, as far as the signals delivered so far tell. */
guint thecal_usb_monitor_get_count (ThecalUsbMonitor *self);

G_END_DECLS
