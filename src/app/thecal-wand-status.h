/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-wand-status.h: the wand's status in the header bar (docs/gui.md "Demo mode", "Wand
 * status"): absent, present, a pump in range, the link quality.
 *
 *  - Demo mode: the simulated wand of the demo world (plugged in or not; the pump of the live
 *    link in range, with the quality its WAND_LINK answer carries).
 *  - Otherwise: the USB wand through ThecalUsbMonitor (libusb hotplug: its thread only queues,
 *    the signals arrive on the main loop, nothing blocks). Without hotplug support the status
 *    says "absent" and why. Every 2 s the wand is asked WAND_LINK (thecal_pump_link_read_wand_link
 *    _async: the wand answers itself over USB, nothing reaches the pump, no operation is held up):
 *    through the link of the visit that uses the wand (thecal_wand_status_follow_link), else
 *    through a link of its own, opened while the wand is present and nobody else uses it, and
 *    closed (thecal_wand_status_release_wand) before a visit opens the wand (libusb: one claim at
 *    a time). The pump's serial is shown once it identified itself through the followed link.
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "thecal-demo.h"
#include "thecal-pump-link.h"

G_BEGIN_DECLS

#define THECAL_TYPE_WAND_STATUS (thecal_wand_status_get_type ())
G_DECLARE_FINAL_TYPE (ThecalWandStatus, thecal_wand_status, THECAL, WAND_STATUS, GtkBox)

GtkWidget *thecal_wand_status_new (void);

/* Demo mode: follow @world's simulated wand (NULL: none). */
void thecal_wand_status_set_world (ThecalWandStatus *self, ThecalDemoWorld *world);
/* Outside demo mode: watch the USB wand @vid:@pid (non-blocking hotplug). */
void thecal_wand_status_watch_usb (ThecalWandStatus *self, guint16 vid, guint16 pid);

/* Outside demo mode, before opening the USB wand for a visit: closes the status's own link to it
 * (the status asks no more until thecal_wand_status_follow_link). */
void thecal_wand_status_release_wand (ThecalWandStatus *self);
/* Outside demo mode: the wand is used through @link (a visit's; referenced), so the status asks
 * the wand through it; NULL: the visit let go of the wand (the status opens its own link again). */
void thecal_wand_status_follow_link (ThecalWandStatus *self, ThecalPumpLink *link);
/* Asks the wand now rather than at the next poll (the tests; a changed link). */
void thecal_wand_status_ask_now (ThecalWandStatus *self);

/* The text shown ("Wand absent", "Wand present, no pump in range", "Pump TR20-000124 in range,
 * link 100 %"). A new string. */
char *thecal_wand_status_dup_text (ThecalWandStatus *self);

G_END_DECLS
