/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-wand-status.h: the wand's status in the header bar (docs/gui.md "Demo mode", "Wand
 * status"): absent, present, a pump in range, the link quality.
 *
 *  - Demo mode: the simulated wand of the demo world (plugged in or not; the pump of the live
 *    link in range, with the quality its WAND_LINK answer carries).
 *  - Otherwise: the USB wand through ThecalUsbMonitor (libusb hotplug: its thread only queues,
 *    the signals arrive on the main loop, nothing blocks). Without hotplug support the status
 *    says "absent" and why. Whether a pump is in range is known only once connected.
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "thecal-demo.h"

G_BEGIN_DECLS

#define THECAL_TYPE_WAND_STATUS (thecal_wand_status_get_type ())
G_DECLARE_FINAL_TYPE (ThecalWandStatus, thecal_wand_status, THECAL, WAND_STATUS, GtkBox)

GtkWidget *thecal_wand_status_new (void);

/* Demo mode: follow @world's simulated wand (NULL: none). */
void thecal_wand_status_set_world (ThecalWandStatus *self, ThecalDemoWorld *world);
/* Outside demo mode: watch the USB wand @vid:@pid (non-blocking hotplug). */
void thecal_wand_status_watch_usb (ThecalWandStatus *self, guint16 vid, guint16 pid);

/* The text shown ("Wand absent", "Wand present, no pump in range", "Pump TR20-000124 in range,
 * link 100 %"). A new string. */
char *thecal_wand_status_dup_text (ThecalWandStatus *self);

G_END_DECLS
