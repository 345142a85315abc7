/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-usb-util.h: what the USB suite and the USB bench share: an emulated wand relaying to an
 * in-process pump, and a programmer driven over a ThecalTransport on the default main context.
 *
 * The pump is either the simulated implant of src/pump (ThecalSimPump: the test suite), or the
 * protocol's pump role with the in-test fake pump of tests/proto (thecal-fake-pump.c: serial
 * TR20-000123, key 32 × 0x5A, log 1 .. 3000, 15 mL of morphine 25 mg/mL: the bench, which needs
 * no Check). It runs on umockdev's thread, inside the wand's relay.
 */
#pragma once

#include <gio/gio.h>

#include "emulated-wand.h"
#include "thecal-fake-pump.h"
#include "thecal-sim-pump.h"
#include "thecal-usb-transport.h"

G_BEGIN_DECLS

#define USB_TEST_SERIAL "EMU-0001"

typedef struct
{
  /* the simulated pump (when not NULL; owned by the caller) */
  ThecalSimPump *sim;
  gint64 sim_start_ms;       /* monotonic ms when the pump's true time was ... */
  gint64 sim_start_local_ms; /* ... this: the relay advances it in real time */
  /* else the fake pump behind a pump role */
  ThecalPumpRole role;
  ThecalFakePump pump;
  uint64_t pump_seed;
  gint silent; /* atomic: answer nothing (no pump in range) */
  gint frames; /* atomic: frames the pump got */
} UsbTestPump;

/* Called on umockdev's thread: hands the frame to the pump role, returns its answer. */
void usb_test_pump_relay (const guint8 *frame, gsize length, GPtrArray *answers, gpointer user_data);

/* A fake pump running @active (NULL: stopped), its role ready. g_free () it. */
UsbTestPump *usb_test_pump_new (const ThecalPrescription *active);
/* The relay side of @sim, a started ThecalSimPump (its clock then follows real time). */
UsbTestPump *usb_test_pump_new_sim (ThecalSimPump *sim);
void usb_test_pump_set_silent (UsbTestPump *side, gboolean silent);
gint usb_test_pump_frames (UsbTestPump *side);

/* A programmer paired by @key (32 bytes), expecting @serial ("" any), with short retries (three
 * transmissions @retry_timeout_ms apart). */
void usb_test_programmer_init (ThecalProgrammer *programmer,
                               uint64_t *seed,
                               gint64 retry_timeout_ms,
                               const uint8_t *key,
                               const char *serial);

gint64 usb_test_now_ms (void);

/* Iterates the default main context until *@done or @timeout_ms passed. FALSE on timeout. */
gboolean usb_test_wait (const gboolean *done, guint timeout_ms);

/* What an async call of the transport gave: usb_test_send_cb and usb_test_receive_cb (the
 * callbacks of thecal_transport_send_async and _receive_async) fill it and set @done. */
typedef struct
{
  gboolean done;
  gboolean ok;   /* send */
  GBytes *frame; /* receive */
  GError *error;
} UsbTestCall;

void usb_test_send_cb (GObject *source, GAsyncResult *result, gpointer data);
void usb_test_receive_cb (GObject *source, GAsyncResult *result, gpointer data);

/* Blocking wrappers of the async calls, on the default main context (not on a private one:
 * that path is thecal_transport_*_sync's). */
gboolean usb_test_send (ThecalTransport *transport, GBytes *frame, GError **error);
GBytes *usb_test_receive (ThecalTransport *transport, gint timeout_ms, GError **error);

/* Runs the programmer's current operation over @transport until it is idle: sends what it
 * gives, receives until its deadline, ticks on "No pump in range". FALSE (and @error) only
 * when the transport fails otherwise (unplugged, closed). */
gboolean usb_test_run_programmer (ThecalTransport *transport, ThecalProgrammer *programmer, GError **error);

G_END_DECLS
