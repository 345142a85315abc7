/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * bench-telemetry-usb.c: host-side time per exchange and bytes on the wire over the USB wand
 * transport (src/wand/thecal-usb-transport.c, the real libusb code) against the wand emulated by
 * umockdev (tests/wand/emulated-wand.c) relaying to an in-process pump (the protocol's pump role
 * with the in-test fake pump of tests/proto). Run by build-aux/run-bench; figures go to
 * docs/benchmarks.md and docs/usb-wand.md.
 *
 * "Host-side time per exchange" is the wall time from thecal_programmer_begin_* to its result on
 * the main thread: the transport, the libusb event thread, the emulated usbfs (umockdev's socket
 * round trips, several per URB) and the pump. The pump's own share is measured apart (time in
 * the relay) so that the USB path can be told from the pump. A real wand adds the radio.
 *
 * "Bytes on the wire" are the bytes of the bulk transfers (whole frames: header, AEAD tag, CRC);
 * "payload" the message bodies inside them. USB packets count 512-byte bulk packets at high speed,
 * the zero-length packets that end frames of k × 512 bytes included; USB's own packet overhead
 * (tokens, CRC16, handshakes) is below this layer and not counted.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test-usb-util.h"

#define ROUNDS_SMALL 200
#define ROUNDS_LOG 40
#define MAX_PACKET 512

static ThecalProgrammer programmer; /* ~260 KiB */
static ThecalMessage scratch_message;
static uint8_t scratch_body[THECAL_FRAME_MAX];
static uint64_t programmer_seed = 42;

/* the pump's share, measured on umockdev's thread */
static GMutex relay_mutex;
static gint64 relay_ns;
static UsbTestPump *pump_side;

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

static void
timed_relay (const guint8 *frame, gsize length, GPtrArray *answers, gpointer user_data)
{
  gint64 t0 = now_ns ();

  usb_test_pump_relay (frame, length, answers, user_data);
  g_mutex_lock (&relay_mutex);
  relay_ns += now_ns () - t0;
  g_mutex_unlock (&relay_mutex);
}

static gint64
take_relay_ns (void)
{
  gint64 value;

  g_mutex_lock (&relay_mutex);
  value = relay_ns;
  relay_ns = 0;
  g_mutex_unlock (&relay_mutex);
  return value;
}

G_GNUC_NORETURN static void
die (const char *what, const char *detail)
{
  fprintf (stderr, "bench-telemetry-usb: %s: %s\n", what, detail != NULL ? detail : "?");
  exit (1);
}

/* One request over USB; its body length in and out (for the payload count). */
static void
exchange (ThecalTransport *transport, const ThecalMessage *request, gsize *body_out, gsize *body_in)
{
  ThecalProtoError perror;
  g_autoptr (GError) error = NULL;
  const ThecalProgrammerResult *result;
  size_t length = 0;

  if (!thecal_programmer_begin_request (&programmer, usb_test_now_ms (), request, &perror))
    die ("begin", perror.reason);
  if (!usb_test_run_programmer (transport, &programmer, &error))
    die ("transport", error->message);
  result = thecal_programmer_result (&programmer);
  if (result->status != THECAL_EXCHANGE_OK)
    die (thecal_msg_type_name (request->type), thecal_exchange_status_name (result->status));
  if (body_out != NULL && thecal_message_encode (request, scratch_body, sizeof scratch_body, &length, &perror))
    *body_out = length;
  if (body_in != NULL
      && thecal_message_encode (thecal_programmer_reply (&programmer), scratch_body, sizeof scratch_body, &length, &perror))
    *body_in = length;
}

static int
compare_i64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static guint64
usb_packets (guint64 frame_bytes)
{
  return (frame_bytes + MAX_PACKET - 1) / MAX_PACKET + (frame_bytes % MAX_PACKET == 0 ? 1 : 0);
}

typedef struct
{
  const char *name;
  ThecalMsgType type;
  int rounds;
} Kind;

static void
bench_exchanges (ThecalTransport *transport, ThecalUsbTransport *usb)
{
  static const Kind kinds[] = {
    { "IDENTIFY (clear)", THECAL_MSG_IDENTIFY, ROUNDS_SMALL },
    { "WAND_INFO (answered by the wand)", THECAL_MSG_WAND_INFO, ROUNDS_SMALL },
    { "READ_STATUS (encrypted)", THECAL_MSG_READ_STATUS, ROUNDS_SMALL },
    { "READ_PRESCRIPTION (encrypted)", THECAL_MSG_READ_PRESCRIPTION, ROUNDS_SMALL },
    { "READ_LOG, 1 000 events (encrypted)", THECAL_MSG_READ_LOG, ROUNDS_LOG },
  };

  printf ("| exchange | rounds | bytes out | bytes in | USB packets | median µs | p95 µs | pump µs |\n");
  printf ("|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (gsize k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      g_autofree gint64 *times = g_new0 (gint64, kinds[k].rounds);
      ThecalUsbStats before, after;
      gint64 pump_total;

      thecal_message_init (&scratch_message, kinds[k].type, false);
      if (kinds[k].type == THECAL_MSG_READ_LOG)
        {
          scratch_message.read_log.from_seq = 1;
          scratch_message.read_log.max_events = 1000;
        }
      exchange (transport, &scratch_message, NULL, NULL); /* warm (and the session) */
      take_relay_ns ();
      thecal_usb_transport_get_stats (usb, &before);
      for (int i = 0; i < kinds[k].rounds; i++)
        {
          gint64 t0 = now_ns ();

          exchange (transport, &scratch_message, NULL, NULL);
          times[i] = now_ns () - t0;
        }
      pump_total = take_relay_ns ();
      thecal_usb_transport_get_stats (usb, &after);
      qsort (times, (size_t) kinds[k].rounds, sizeof *times, compare_i64);
      {
        guint64 out = (after.bytes_sent - before.bytes_sent) / (guint64) kinds[k].rounds;
        guint64 in = (after.bytes_received - before.bytes_received) / (guint64) kinds[k].rounds;

        printf ("| %s | %d | %" G_GUINT64_FORMAT " | %" G_GUINT64_FORMAT " | %" G_GUINT64_FORMAT " | %" G_GINT64_FORMAT
                " | %" G_GINT64_FORMAT " | %" G_GINT64_FORMAT " |\n",
                kinds[k].name, kinds[k].rounds, out, in, usb_packets (out) + usb_packets (in), times[kinds[k].rounds / 2] / 1000,
                times[(kinds[k].rounds * 95) / 100] / 1000, pump_total / kinds[k].rounds / 1000);
      }
    }
}

/* The DESIGN.md interrogation: status, prescription, 1 000 log events, on an open session. */
static void
bench_interrogation (ThecalTransport *transport, ThecalUsbTransport *usb)
{
  static const ThecalMsgType types[] = { THECAL_MSG_READ_STATUS, THECAL_MSG_READ_PRESCRIPTION, THECAL_MSG_READ_LOG };
  ThecalUsbStats before, after;
  gsize payload = 0;
  guint64 packets = 0;
  guint64 wire;
  gint64 t0, elapsed;
  guint64 frames;

  thecal_message_init (&scratch_message, THECAL_MSG_READ_STATUS, false);
  exchange (transport, &scratch_message, NULL, NULL); /* the session is open */
  thecal_usb_transport_get_stats (usb, &before);
  t0 = now_ns ();
  for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
    {
      gsize out = 0, in = 0;
      ThecalUsbStats s0, s1;

      thecal_message_init (&scratch_message, types[i], false);
      if (types[i] == THECAL_MSG_READ_LOG)
        {
          scratch_message.read_log.from_seq = 1;
          scratch_message.read_log.max_events = 1000;
        }
      thecal_usb_transport_get_stats (usb, &s0);
      exchange (transport, &scratch_message, &out, &in);
      thecal_usb_transport_get_stats (usb, &s1);
      payload += out + in;
      packets += usb_packets (s1.bytes_sent - s0.bytes_sent) + usb_packets (s1.bytes_received - s0.bytes_received);
    }
  elapsed = now_ns () - t0;
  thecal_usb_transport_get_stats (usb, &after);
  wire = (after.bytes_sent - before.bytes_sent) + (after.bytes_received - before.bytes_received);
  frames = (after.frames_sent - before.frames_sent) + (after.frames_received - before.frames_received);
  printf ("\nFull interrogation (status, prescription, 1 000 log events; session open):\n");
  printf ("  round trips %" G_GUINT64_FORMAT ", frames %" G_GUINT64_FORMAT ", payload %" G_GSIZE_FORMAT
          " B, on the wire %" G_GUINT64_FORMAT " B, ratio %" G_GUINT64_FORMAT ".%03" G_GUINT64_FORMAT
          " (target <= 1.25), USB packets %" G_GUINT64_FORMAT ", host time %" G_GINT64_FORMAT " µs\n",
          (guint64) G_N_ELEMENTS (types), frames, payload, wire, wire / payload, (wire * 1000 / payload) % 1000, packets,
          elapsed / 1000);
  if (wire * 100 > payload * 125)
    die ("interrogation", "more than 1.25 × the payload on the wire");
}

int
main (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (EmulatedWand) wand = NULL;
  ThecalUsbTransport *usb;
  ThecalPrescription active;
  EmulatedWandStats wstats;

  wand = emulated_wand_new (THECAL_USB_WAND_VID, THECAL_USB_WAND_PID, "BENCH-0001", &error);
  if (wand == NULL)
    die ("umockdev", error->message);
  thecal_test_rx_full (&active); /* the largest prescription: 13 flex steps, 12 boluses, PTM */
  pump_side = usb_test_pump_new (&active);
  emulated_wand_set_relay (wand, timed_relay, pump_side);
  if (!emulated_wand_plug (wand, &error))
    die ("plug", error->message);
  usb = thecal_usb_transport_new (THECAL_USB_WAND_VID, THECAL_USB_WAND_PID, &error);
  if (usb == NULL)
    die ("open", error->message);
  {
    uint8_t key[THECAL_KEY_SIZE];

    thecal_test_key (key, FAKE_KEY_BYTE);
    usb_test_programmer_init (&programmer, &programmer_seed, 1000, key, FAKE_SERIAL);
  }

  printf ("USB wand over umockdev: %s, max packet %u B\n\n", thecal_transport_describe (THECAL_TRANSPORT (usb)),
          thecal_usb_transport_get_max_packet_size (usb));
  bench_exchanges (THECAL_TRANSPORT (usb), usb);
  bench_interrogation (THECAL_TRANSPORT (usb), usb);

  emulated_wand_get_stats (wand, &wstats);
  printf ("\nWand: %" G_GUINT64_FORMAT " OUT transfers (%" G_GUINT64_FORMAT " with a zero-length packet, %" G_GUINT64_FORMAT
          " missing one), %" G_GUINT64_FORMAT " IN transfers, %" G_GUINT64_FORMAT " frames relayed, %" G_GUINT64_FORMAT
          " answered by the wand\n",
          wstats.out_transfers, wstats.out_zero_length, wstats.out_missing_zlp, wstats.in_transfers, wstats.frames_relayed,
          wstats.frames_local);
  if (wstats.out_missing_zlp != 0)
    die ("framing", "a frame of k × 512 bytes went without a zero-length packet");

  g_object_unref (usb); /* libusb_exit before the testbed goes */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_pointer (&wand, emulated_wand_free);
  g_free (pump_side);
  return 0;
}
