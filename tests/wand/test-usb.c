/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-usb.c: the USB wand transport (src/wand/thecal-usb-transport.c) against a wand emulated
 * by umockdev (tests/wand/emulated-wand.c, TESTING.md), relaying to an in-process pump.
 *
 * Each check runs in its own process (Check's fork mode) with its own testbed: the testbed
 * exists before the first libusb context and outlives the last one (TESTING.md). No real /sys or
 * /dev is touched (umockdev_in_mock_environment () is asserted), no root is needed.
 *
 * Timeouts are short: a pending IN transfer makes libusb poll the emulated node in a loop.
 */
#include "config.h"

#include <errno.h>
#include <libusb.h>
#include <string.h>
#include <umockdev.h>

#include "test-usb-util.h"
#include "thecal-test.h"
#include "thecal-usb-monitor.h"
#include "wand-test-util.h" /* the simulated pump, the pump link, the demo key store */

/* ---- fixture ------------------------------------------------------------------------------- */

static EmulatedWand *wand;
static ThecalPumpModel model;  /* TR-20 (thecal-test-models.h) */
static ThecalSimPump sim_pump; /* ~800 KiB: static; runs on umockdev's thread during exchanges */
static UsbTestPump *pump_side;
static ThecalUsbTransport *usb;
static ThecalProgrammer programmer; /* ~260 KiB: static */
static uint64_t programmer_seed;

static void
setup_wand (void)
{
  g_autoptr (GError) error = NULL;
  ThecalPrescription active;

  /* never a skip (CI=true or not), never the real /sys: emulated_wand_new fails unless
   * umockdev is in charge */
  wand = emulated_wand_new (THECAL_USB_WAND_VID, THECAL_USB_WAND_PID, USB_TEST_SERIAL, &error);
  ck_assert_msg (wand != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert (umockdev_in_mock_environment ());
  /* the simulated TR-20 (src/pump): 15 mL of morphine 25 mg/mL at 5 mg/day → 0.2 mL/day */
  model = thecal_test_tr_model (20);
  test_rx_morphine (&active, 5);
  test_sim_pump_init (&sim_pump, &model, &active, 15 * THECAL_NL_PER_ML);
  pump_side = usb_test_pump_new_sim (&sim_pump);
  emulated_wand_set_relay (wand, usb_test_pump_relay, pump_side);
  programmer_seed = 0x1234;
  usb_test_programmer_init (&programmer, &programmer_seed, 300, thecal_sim_pump_key (&sim_pump), TEST_SERIAL);
}

/* A wand plugged in, not opened. */
static void
setup_plugged (void)
{
  g_autoptr (GError) error = NULL;

  setup_wand ();
  ck_assert_msg (emulated_wand_plug (wand, &error), "%s", error != NULL ? error->message : "?");
}

/* A wand plugged in and opened. */
static void
setup_open (void)
{
  g_autoptr (GError) error = NULL;

  setup_plugged ();
  usb = thecal_usb_transport_new (THECAL_USB_WAND_VID, THECAL_USB_WAND_PID, &error);
  ck_assert_msg (usb != NULL, "%s", error != NULL ? error->message : "?");
}

static void
teardown (void)
{
  /* every libusb context goes before the testbed */
  g_clear_object (&usb);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_pointer (&wand, emulated_wand_free);
  g_clear_pointer (&pump_side, g_free);
}

static ThecalTransport *
transport (void)
{
  return THECAL_TRANSPORT (usb);
}

/* The emulated wand (umockdev's thread) and the libusb event thread run on their own: the checks
 * poll. SPIN_WHILE runs the default main context without blocking, SLEEP_WHILE does not run it;
 * both while @cond holds, for @max_ms at most. */
#define SPIN_WHILE(cond, max_ms)                                                                              \
  for (gint64 spin_until_ms_ = usb_test_now_ms () + (max_ms); (cond) && usb_test_now_ms () < spin_until_ms_;) \
    {                                                                                                         \
      g_main_context_iteration (NULL, FALSE);                                                                 \
      g_usleep (500);                                                                                         \
    }
#define SLEEP_WHILE(cond, max_ms)                                                                               \
  for (gint64 sleep_until_ms_ = usb_test_now_ms () + (max_ms); (cond) && usb_test_now_ms () < sleep_until_ms_;) \
  g_usleep (500)

static guint64
frames_received (void)
{
  ThecalUsbStats stats;

  thecal_usb_transport_get_stats (usb, &stats);
  return stats.frames_received;
}

static guint64
wand_in_transfers (void)
{
  EmulatedWandStats stats;

  emulated_wand_get_stats (wand, &stats);
  return stats.in_transfers;
}

/* Runs the default main context for @ms: whatever was coming has come. */
static void
spin_for (guint ms)
{
  SPIN_WHILE (TRUE, ms);
}

/* Runs one simple request (no body) and returns the reply; fails the check otherwise. */
static const ThecalMessage *
request_simple (ThecalMsgType type)
{
  ThecalProtoError perror;
  g_autoptr (GError) error = NULL;
  const ThecalProgrammerResult *result;

  ck_assert (thecal_programmer_begin_simple (&programmer, usb_test_now_ms (), type, &perror));
  ck_assert_msg (usb_test_run_programmer (transport (), &programmer, &error), "%s", error != NULL ? error->message : "?");
  result = thecal_programmer_result (&programmer);
  ck_assert_msg (result->status == THECAL_EXCHANGE_OK, "%s: %s (%s)", thecal_msg_type_name (type),
                 thecal_exchange_status_name (result->status), result->error.reason);
  return thecal_programmer_reply (&programmer);
}

/* A frame the wand relays (IDENTIFY, sequence @seq) of exactly @size bytes: the payload is
 * padding the pump refuses, which does not matter to the USB layer. */
static GBytes *
make_frame (guint32 seq, gsize size)
{
  g_autofree guint8 *payload = g_malloc0 (size - THECAL_FRAME_OVERHEAD);
  g_autofree guint8 *out = g_malloc (size);
  size_t length = 0;

  payload[0] = THECAL_MSG_VERSION;
  ck_assert (thecal_frame_encode (THECAL_MSG_IDENTIFY, 0, seq, payload, size - THECAL_FRAME_OVERHEAD, out, size, &length));
  ck_assert_uint_eq (length, size);
  return g_bytes_new (out, length);
}

/* ---- open, list, describe --------------------------------------------------------------- */

START_TEST (test_open_claim)
{
  ThecalUsbStats stats;
  const char *description = thecal_transport_describe (transport ());

  ck_assert (thecal_usb_transport_is_connected (usb));
  ck_assert_str_eq (thecal_usb_transport_get_serial (usb), USB_TEST_SERIAL);
  ck_assert_str_eq (description, "USB wand 1209:0001 (serial EMU-0001)");
  ck_assert_uint_eq (thecal_usb_transport_get_max_packet_size (usb), 512);
  /* the host listens at once: one IN URB waits at the wand */
  SLEEP_WHILE (emulated_wand_pending_in (wand) == 0, 200);
  ck_assert_uint_eq (emulated_wand_pending_in (wand), 1);
  thecal_usb_transport_get_stats (usb, &stats);
  ck_assert_uint_eq (stats.frames_sent, 0);
  ck_assert_uint_eq (stats.frames_received, 0);
}
END_TEST

START_TEST (test_list)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) wands = thecal_usb_transport_list (THECAL_USB_WAND_VID, THECAL_USB_WAND_PID, &error);
  g_autoptr (GPtrArray) none = NULL;
  ThecalUsbWandInfo *info;

  ck_assert_msg (wands != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert_uint_eq (wands->len, 1);
  info = g_ptr_array_index (wands, 0);
  ck_assert (info->accessible);
  ck_assert_ptr_null (info->problem);
  ck_assert_str_eq (info->serial, USB_TEST_SERIAL);
  ck_assert_str_eq (info->description, "USB wand 1209:0001 (serial EMU-0001)");
  ck_assert_uint_eq (info->bus, 1);
  ck_assert_uint_eq (info->address, 2);

  none = thecal_usb_transport_list (THECAL_USB_WAND_VID, 0x0002, &error);
  ck_assert_ptr_nonnull (none);
  ck_assert_uint_eq (none->len, 0);
}
END_TEST

START_TEST (test_wrong_vid_pid)
{
  const guint16 ids[][2] = { { THECAL_USB_WAND_VID, 0x0002 }, { 0x1234, THECAL_USB_WAND_PID }, { 0x0000, 0x0000 } };

  for (gsize i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (ThecalUsbTransport) other = thecal_usb_transport_new (ids[i][0], ids[i][1], &error);

      ck_assert_ptr_null (other);
      ck_assert_msg (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_NOT_FOUND), "%04x:%04x: %s", ids[i][0],
                     ids[i][1], error != NULL ? error->message : "no error");
      ck_assert_str_eq (error->message, "No wand connected: plug the telemetry wand into a USB port");
    }
}
END_TEST

START_TEST (test_no_wand_plugged)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalUsbTransport) none = thecal_usb_transport_new (THECAL_USB_WAND_VID, THECAL_USB_WAND_PID, &error);
  g_autoptr (GPtrArray) wands = NULL;

  ck_assert_ptr_null (none);
  ck_assert (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_NOT_FOUND));
  g_clear_error (&error);
  wands = thecal_usb_transport_list (THECAL_USB_WAND_VID, THECAL_USB_WAND_PID, &error);
  ck_assert_ptr_nonnull (wands);
  ck_assert_uint_eq (wands->len, 0);
}
END_TEST

START_TEST (test_busy)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalUsbTransport) busy = NULL;

  /* another program holds the interface: the claim fails with EBUSY */
  emulated_wand_fail_next_claim (wand, EBUSY);
  busy = thecal_usb_transport_new (THECAL_USB_WAND_VID, THECAL_USB_WAND_PID, &error);
  ck_assert_ptr_null (busy);
  ck_assert_msg (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_BUSY), "%s",
                 error != NULL ? error->message : "no error");
  ck_assert_str_eq (error->message, "The wand is in use by another program: close it and try again");

  /* the next attempt works (the other program let go) */
  g_clear_error (&error);
  usb = thecal_usb_transport_new (THECAL_USB_WAND_VID, THECAL_USB_WAND_PID, &error);
  ck_assert_msg (usb != NULL, "%s", error != NULL ? error->message : "?");
}
END_TEST

/* ---- the protocol over USB ------------------------------------------------------------- */

START_TEST (test_identify)
{
  const ThecalMessage *reply = request_simple (THECAL_MSG_IDENTIFY);
  ThecalUsbStats stats;
  EmulatedWandStats wstats;

  ck_assert_int_eq (reply->type, THECAL_MSG_IDENTIFY);
  ck_assert_str_eq (reply->identity.serial, TEST_SERIAL);
  ck_assert_str_eq (reply->identity.model_id, "TR-20");
  ck_assert_uint_eq (reply->identity.protocol_version, THECAL_PROTO_VERSION);
  /* one frame each way, one transfer each way: 16 bytes out (docs/protocol.md §10), 35 in */
  thecal_usb_transport_get_stats (usb, &stats);
  emulated_wand_get_stats (wand, &wstats);
  ck_assert_uint_eq (stats.frames_sent, 1);
  ck_assert_uint_eq (stats.bytes_sent, 16);
  ck_assert_uint_eq (stats.packets_sent, 1);
  ck_assert_uint_eq (stats.frames_received, 1);
  ck_assert_uint_eq (stats.bytes_received, 35);
  ck_assert_uint_eq (wstats.out_transfers, 1);
  ck_assert_uint_eq (wstats.in_transfers, 1);
  ck_assert_uint_eq (wstats.frames_relayed, 1);
  ck_assert_int_eq (usb_test_pump_frames (pump_side), 1);
}
END_TEST

START_TEST (test_wand_local)
{
  const ThecalMessage *reply = request_simple (THECAL_MSG_WAND_INFO);
  EmulatedWandStats wstats;

  ck_assert_str_eq (reply->wand_info.serial, USB_TEST_SERIAL);
  ck_assert_str_eq (reply->wand_info.firmware_version, "emulated-1.0");
  reply = request_simple (THECAL_MSG_WAND_LINK);
  ck_assert_int_eq (reply->wand_link.rssi_dbm, -48);
  ck_assert_uint_eq (reply->wand_link.quality_percent, 92);
  ck_assert (reply->wand_link.pump_in_range);
  /* answered by the wand: nothing reached the pump */
  emulated_wand_get_stats (wand, &wstats);
  ck_assert_uint_eq (wstats.frames_local, 2);
  ck_assert_uint_eq (wstats.frames_relayed, 0);
  ck_assert_int_eq (usb_test_pump_frames (pump_side), 0);
}
END_TEST

START_TEST (test_interrogate)
{
  const ThecalMessage *reply;
  ThecalChecksum expected;
  ThecalProtoError perror;

  /* status (opens the session: HELLO, AUTH, READ_STATUS) */
  reply = request_simple (THECAL_MSG_READ_STATUS);
  ck_assert_int_eq (reply->status.mode, THECAL_MODE_CONTINUOUS);
  ck_assert (reply->status.delivering);
  ck_assert_int_eq (reply->status.reservoir_set_nl, 15 * THECAL_NL_PER_ML);
  /* real time since the start: at 0.2 mL/day, less than a stroke or two has gone */
  ck_assert_int_le (reply->status.reservoir_estimate_nl, 15 * THECAL_NL_PER_ML);
  ck_assert_int_gt (reply->status.reservoir_estimate_nl, 15 * THECAL_NL_PER_ML - 1000);
  ck_assert_str_eq (reply->status.reservoir_drug_id, "morphine");
  ck_assert_int_eq (reply->status.reservoir_concentration_ng_per_ml, 25 * THECAL_NG_PER_MG);
  ck_assert_int_eq (reply->status.log_oldest_seq, 1);
  ck_assert_int_ge (reply->status.log_next_seq, 3); /* engine start, prescription set */
  ck_assert (thecal_sim_pump_active_checksum (&sim_pump, &expected));
  ck_assert (thecal_checksum_equal (&reply->status.active_checksum, &expected));
  (void) perror;

  /* prescription: 25 mg/mL, 5 mg/day (0.2 mL/day), byte for byte the pump's */
  reply = request_simple (THECAL_MSG_READ_PRESCRIPTION);
  ck_assert (thecal_prescription_equal (&reply->prescription.rx, thecal_sim_pump_active (&sim_pump)));
  ck_assert (thecal_checksum_equal (&reply->prescription.checksum, &expected));
  ck_assert_int_eq (reply->prescription.rx.continuous.dose_ng_per_day, 5 * THECAL_NG_PER_MG);
  ck_assert_int_eq (thecal_sim_pump_role (&sim_pump)->stats.sessions_opened, 1);
}
END_TEST

START_TEST (test_program)
{
  ThecalPrescription new_rx;
  ThecalChecksum active;
  ThecalProtoError perror;
  g_autoptr (GError) error = NULL;
  const ThecalProgramReport *report;
  int64_t set_before = thecal_sim_pump_stats (&sim_pump)->prescriptions_set;

  /* what the clinician reviewed: the active prescription read from the pump */
  active = request_simple (THECAL_MSG_READ_PRESCRIPTION)->prescription.checksum;
  test_rx_morphine (&new_rx, 6); /* 5 → 6 mg/day: 0.24 mL/day */
  ck_assert (thecal_programmer_begin_program (&programmer, usb_test_now_ms (), &new_rx, &active, &perror));
  ck_assert_msg (usb_test_run_programmer (transport (), &programmer, &error), "%s", error != NULL ? error->message : "?");
  report = thecal_programmer_program_report (&programmer);
  ck_assert_msg (report->outcome == THECAL_PROGRAM_CONFIRMED, "%s: %s", thecal_program_outcome_name (report->outcome),
                 report->error.reason);
  ck_assert (report->commit_acknowledged);
  /* what the pump runs is what the programmer believes */
  ck_assert (thecal_prescription_equal (thecal_sim_pump_active (&sim_pump), &new_rx));
  ck_assert_int_eq (thecal_sim_pump_stats (&sim_pump)->prescriptions_set, set_before + 1);
  ck_assert_int_eq (thecal_sim_pump_role (&sim_pump)->stats.commits_applied, 1);
}
END_TEST

START_TEST (test_log_1000)
{
  ThecalMessage request;
  ThecalProtoError perror;
  g_autoptr (GError) error = NULL;
  const ThecalProgrammerResult *result;
  const ThecalMessage *reply;
  ThecalUsbStats before, after;
  EmulatedWandStats wstats;

  ThecalPrescription rx;
  int64_t next_seq;

  /* A pump whose patient pressed the PTM button 1 100 times, a minute apart: every press is
   * logged, granted or refused (lockout 4 h, at most 4 a day), so the log holds > 1 000 events.
   * Set up before any frame reaches the relay (umockdev's thread). */
  test_rx_morphine (&rx, 5);
  rx.ptm.enabled = true;
  rx.ptm.dose_ng = 250 * THECAL_NG_PER_MCG;
  rx.ptm.duration_ms = 15 * THECAL_MS_PER_MINUTE;
  rx.ptm.lockout_ms = 4 * THECAL_MS_PER_HOUR;
  rx.ptm.max_per_24h = 4;
  test_sim_pump_init (&sim_pump, &model, &rx, 15 * THECAL_NL_PER_ML);
  for (int i = 1; i <= 1100; i++)
    {
      ThecalPtmOutcome outcome;
      ThecalDoseError dose_error;

      ck_assert (thecal_sim_pump_advance_to (&sim_pump, TEST_START_MS + i * THECAL_MS_PER_MINUTE, NULL));
      ck_assert_msg (thecal_sim_pump_ptm_request (&sim_pump, &outcome, &dose_error), "%s", dose_error.message);
    }
  pump_side->sim_start_ms = usb_test_now_ms ();
  pump_side->sim_start_local_ms = thecal_sim_pump_now_ms (&sim_pump);

  next_seq = request_simple (THECAL_MSG_READ_STATUS)->status.log_next_seq; /* the session first */
  ck_assert_int_gt (next_seq, 1000);
  thecal_usb_transport_get_stats (usb, &before);
  thecal_message_init (&request, THECAL_MSG_READ_LOG, false);
  request.read_log.from_seq = 1;
  request.read_log.max_events = 1000;
  ck_assert (thecal_programmer_begin_request (&programmer, usb_test_now_ms (), &request, &perror));
  ck_assert_msg (usb_test_run_programmer (transport (), &programmer, &error), "%s", error != NULL ? error->message : "?");
  result = thecal_programmer_result (&programmer);
  ck_assert_int_eq (result->status, THECAL_EXCHANGE_OK);
  reply = thecal_programmer_reply (&programmer);
  ck_assert_int_eq (reply->log.n_events, 1000);
  ck_assert_int_eq (reply->log.oldest_seq, 1);
  ck_assert_int_eq (reply->log.next_seq, next_seq);
  for (int i = 0; i < 1000; i++)
    {
      ThecalEngineEvent expected;

      /* field for field the engine's log (docs/protocol.md §4.7) */
      ck_assert (thecal_engine_log_get (thecal_sim_pump_engine (&sim_pump), 1 + i, &expected));
      ck_assert_int_eq (reply->log.events[i].seq, expected.seq);
      ck_assert_int_eq (reply->log.events[i].pump_ms, expected.pump_ms);
      ck_assert_int_eq (reply->log.events[i].type, expected.type);
      ck_assert_int_eq (reply->log.events[i].code, expected.code);
      ck_assert_int_eq (reply->log.events[i].args[0], expected.args[0]);
      ck_assert_int_eq (reply->log.events[i].args[1], expected.args[1]);
      ck_assert_int_eq (reply->log.events[i].args[2], expected.args[2]);
    }
  /* one frame of 48 000 bytes of events + 19 of body + 16 of tag + 15 of frame = 48 050 bytes,
   * in ONE IN transfer (the wand's IN buffer is a whole frame) */
  thecal_usb_transport_get_stats (usb, &after);
  ck_assert_uint_eq (after.frames_received - before.frames_received, 1);
  ck_assert_uint_eq (after.bytes_received - before.bytes_received, 48050);
  ck_assert_uint_eq (after.in_transfers - before.in_transfers, 1);
  emulated_wand_get_stats (wand, &wstats);
  ck_assert_uint_eq (wstats.out_missing_zlp, 0);
}
END_TEST

/* ---- framing on USB -------------------------------------------------------------------- */

START_TEST (test_zero_length_packet)
{
  const gsize sizes[] = { 511, 512, 513, 1024, 4096 + 17 };
  EmulatedWandStats wstats;
  ThecalUsbStats stats;

  usb_test_pump_set_silent (pump_side, TRUE); /* the USB layer only */
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr (GBytes) frame = make_frame ((guint32) i + 1, sizes[i]);
      g_autoptr (GError) error = NULL;

      ck_assert_msg (usb_test_send (transport (), frame, &error), "%s", error != NULL ? error->message : "?");
    }
  /* 512 and 1024 are multiples of the max packet size: closed by a zero-length packet */
  emulated_wand_get_stats (wand, &wstats);
  ck_assert_uint_eq (wstats.out_transfers, G_N_ELEMENTS (sizes));
  ck_assert_uint_eq (wstats.out_zero_length, 2);
  ck_assert_uint_eq (wstats.out_missing_zlp, 0);
  ck_assert_uint_eq (wstats.frames_relayed, G_N_ELEMENTS (sizes));
  thecal_usb_transport_get_stats (usb, &stats);
  ck_assert_uint_eq (stats.zero_length_sent, 2);
  /* packets: 1 + (1 + ZLP) + 2 + (2 + ZLP) + 9 */
  ck_assert_uint_eq (stats.packets_sent, 1 + 2 + 2 + 3 + 9);
  ck_assert_uint_eq (stats.bytes_sent, 511 + 512 + 513 + 1024 + 4096 + 17);
}
END_TEST

START_TEST (test_frame_size_limits)
{
  g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);
  g_autofree guint8 *big = g_malloc0 (THECAL_FRAME_MAX + 1);
  g_autoptr (GBytes) too_big = g_bytes_new (big, THECAL_FRAME_MAX + 1);
  g_autoptr (GBytes) largest = make_frame (1, THECAL_FRAME_MAX);
  g_autoptr (GError) error = NULL;

  usb_test_pump_set_silent (pump_side, TRUE);
  ck_assert (!usb_test_send (transport (), empty, &error));
  ck_assert (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_FRAME));
  g_clear_error (&error);
  ck_assert (!usb_test_send (transport (), too_big, &error));
  ck_assert (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_FRAME));
  ck_assert_str_eq (error->message, "A frame of 65537 bytes cannot be sent (1 to 65536 bytes)");
  g_clear_error (&error);
  /* the largest frame goes, in one transfer (65 536 = 128 × 512: with a zero-length packet) */
  ck_assert_msg (usb_test_send (transport (), largest, &error), "%s", error != NULL ? error->message : "?");
  ck_assert (thecal_usb_transport_is_connected (usb));
}
END_TEST

/* Relays that shape what the wand sends back, on umockdev's thread. */
static void
relay_split (const guint8 *frame, gsize length, GPtrArray *answers, gpointer user_data)
{
  GPtrArray *pumped = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  usb_test_pump_relay (frame, length, pumped, user_data);
  for (guint i = 0; i < pumped->len; i++)
    {
      gsize size = 0;
      const guint8 *data = g_bytes_get_data (g_ptr_array_index (pumped, i), &size);
      static const guint8 noise[] = { 0x00, 0x54, 0xFF, 0x48, 0x54 }; /* not a frame start */

      /* garbage first, then the frame in three transfers: the host resynchronises and
       * reassembles */
      g_ptr_array_add (answers, g_bytes_new (noise, sizeof noise));
      g_ptr_array_add (answers, g_bytes_new (data, 5));
      g_ptr_array_add (answers, g_bytes_new (data + 5, 9));
      g_ptr_array_add (answers, g_bytes_new (data + 14, size - 14));
    }
  g_ptr_array_unref (pumped);
}

START_TEST (test_reassembly)
{
  const ThecalMessage *reply;
  ThecalUsbStats stats;

  emulated_wand_set_relay (wand, relay_split, pump_side);
  reply = request_simple (THECAL_MSG_IDENTIFY);
  ck_assert_str_eq (reply->identity.serial, TEST_SERIAL);
  reply = request_simple (THECAL_MSG_READ_STATUS);
  ck_assert_int_ge (reply->status.log_next_seq, 3);
  thecal_usb_transport_get_stats (usb, &stats);
  ck_assert_uint_eq (stats.bytes_discarded, 5 * 4); /* IDENTIFY, HELLO, AUTH, READ_STATUS */
  ck_assert_uint_eq (stats.frames_received, 4);
  ck_assert_uint_eq (stats.in_transfers, 4 * 4);
}
END_TEST

static void
relay_twice (const guint8 *frame, gsize length, GPtrArray *answers, gpointer user_data)
{
  usb_test_pump_relay (frame, length, answers, user_data);
  if (answers->len > 0)
    g_ptr_array_add (answers, g_bytes_ref (g_ptr_array_index (answers, 0)));
}

START_TEST (test_frames_queue)
{
  g_autoptr (GBytes) identify = make_frame (1, THECAL_FRAME_OVERHEAD + 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) first = NULL;
  g_autoptr (GBytes) second = NULL;
  g_autoptr (GBytes) none = NULL;

  /* frames that arrive while nobody receives wait, in order */
  emulated_wand_set_relay (wand, relay_twice, pump_side);
  ck_assert (usb_test_send (transport (), identify, &error));
  SPIN_WHILE (frames_received () != 2, 1000);
  ck_assert_uint_eq (frames_received (), 2);
  first = usb_test_receive (transport (), 0, &error);
  ck_assert_ptr_nonnull (first);
  second = usb_test_receive (transport (), 0, &error);
  ck_assert_ptr_nonnull (second);
  ck_assert (g_bytes_equal (first, second));
  ck_assert_uint_eq (g_bytes_get_size (first), 35);
  /* nothing more: "No pump in range" at once with a zero timeout */
  none = usb_test_receive (transport (), 0, &error);
  ck_assert_ptr_null (none);
  ck_assert (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_NO_PUMP));
}
END_TEST

/* ---- timeouts, cancellation, close ------------------------------------------------------ */

START_TEST (test_no_pump)
{
  g_autoptr (GBytes) identify = make_frame (1, THECAL_FRAME_OVERHEAD + 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) frame = NULL;
  ThecalProtoError perror;
  gint64 start;

  usb_test_pump_set_silent (pump_side, TRUE);
  ck_assert (usb_test_send (transport (), identify, &error));
  start = usb_test_now_ms ();
  frame = usb_test_receive (transport (), 150, &error);
  ck_assert_ptr_null (frame);
  ck_assert (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_NO_PUMP));
  ck_assert_str_eq (error->message, "No pump in range: hold the wand over the pump");
  ck_assert_int_ge (usb_test_now_ms () - start, 140);
  ck_assert (thecal_usb_transport_is_connected (usb));

  /* the programmer retries, then reports the request lost */
  g_clear_error (&error);
  ck_assert (thecal_programmer_begin_simple (&programmer, usb_test_now_ms (), THECAL_MSG_IDENTIFY, &perror));
  ck_assert (usb_test_run_programmer (transport (), &programmer, &error));
  ck_assert_int_eq (thecal_programmer_result (&programmer)->status, THECAL_EXCHANGE_LOST);
  ck_assert_int_eq (usb_test_pump_frames (pump_side), 1 + 3); /* three transmissions */
}
END_TEST

static void
on_receive_done (GObject *source, GAsyncResult *result, gpointer data)
{
  GError **error = data;
  g_autoptr (GBytes) frame = thecal_transport_receive_finish (THECAL_TRANSPORT (source), result, error);

  ck_assert_ptr_null (frame);
  ck_assert_ptr_nonnull (*error);
}

START_TEST (test_cancel_receive)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  GError *error = NULL;
  const ThecalMessage *reply;

  thecal_transport_receive_async (transport (), 5000, cancellable, on_receive_done, &error);
  g_cancellable_cancel (cancellable);
  SPIN_WHILE (error == NULL, 500);
  ck_assert_ptr_nonnull (error);
  ck_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_clear_error (&error);
  /* the transport still works */
  reply = request_simple (THECAL_MSG_IDENTIFY);
  ck_assert_str_eq (reply->identity.serial, TEST_SERIAL);
}
END_TEST

START_TEST (test_cancelled_receive_keeps_frame)
{
  g_autoptr (GBytes) identify = make_frame (1, THECAL_FRAME_OVERHEAD + 1);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  UsbTestCall sent = { 0 }, first = { 0 }, second = { 0 };

  /* the answer reaches the host (the event thread queues it) while the main loop does not run */
  thecal_transport_send_async (transport (), identify, NULL, usb_test_send_cb, &sent);
  SLEEP_WHILE (wand_in_transfers () == 0, 2000);
  ck_assert_uint_eq (wand_in_transfers (), 1);
  g_usleep (100 * 1000);
  /* a receive cancelled before its cancellation ran, then another: the frame goes to the second */
  thecal_transport_receive_async (transport (), 5000, cancellable, usb_test_receive_cb, &first);
  g_cancellable_cancel (cancellable);
  thecal_transport_receive_async (transport (), 5000, NULL, usb_test_receive_cb, &second);
  ck_assert (usb_test_wait (&second.done, 10000));
  ck_assert (usb_test_wait (&first.done, 10000));
  ck_assert_ptr_null (first.frame);
  ck_assert (g_error_matches (first.error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  ck_assert_msg (second.frame != NULL, "%s", second.error != NULL ? second.error->message : "?");
  ck_assert_uint_eq (g_bytes_get_size (second.frame), 35);
  ck_assert (usb_test_wait (&sent.done, 10000));
  ck_assert (sent.ok);
  g_clear_error (&first.error);
  g_clear_pointer (&second.frame, g_bytes_unref);
}
END_TEST

static void
on_disconnected (ThecalTransport *self, const GError *reason, gpointer data)
{
  int *count = data;

  (void) self;
  ck_assert (g_error_matches (reason, THECAL_WAND_ERROR, THECAL_WAND_ERROR_UNPLUGGED));
  ck_assert_str_eq (reason->message, "Wand unplugged");
  (*count)++;
}

START_TEST (test_close)
{
  GError *error = NULL;
  g_autoptr (GError) later = NULL;
  g_autoptr (GBytes) frame = make_frame (1, 16);
  int disconnected = 0;

  g_signal_connect (usb, "disconnected", G_CALLBACK (on_disconnected), &disconnected);
  thecal_transport_receive_async (transport (), 5000, NULL, on_receive_done, &error);
  thecal_transport_close (transport ());
  SPIN_WHILE (error == NULL, 1000);
  ck_assert (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_DISCONNECTED));
  g_clear_error (&error);
  thecal_transport_close (transport ()); /* idempotent */
  ck_assert (!thecal_usb_transport_is_connected (usb));
  ck_assert (!usb_test_send (transport (), frame, &later));
  ck_assert (g_error_matches (later, THECAL_WAND_ERROR, THECAL_WAND_ERROR_DISCONNECTED));
  /* a close is not a disconnection by itself */
  ck_assert_int_eq (disconnected, 0);
}
END_TEST

/* ---- unplug and replug ------------------------------------------------------------------ */

START_TEST (test_unplug_pending_receive)
{
  GError *error = NULL;
  g_autoptr (GError) later = NULL;
  g_autoptr (GBytes) frame = make_frame (7, 16);
  int disconnected = 0;
  gint64 start;
  g_autoptr (GBytes) none = NULL;

  request_simple (THECAL_MSG_IDENTIFY);
  g_signal_connect (usb, "disconnected", G_CALLBACK (on_disconnected), &disconnected);
  /* the pump is silent: the receive waits (IN URB pending at the wand) ... */
  usb_test_pump_set_silent (pump_side, TRUE);
  ck_assert (usb_test_send (transport (), frame, &later));
  thecal_transport_receive_async (transport (), 10000, NULL, on_receive_done, &error);
  SLEEP_WHILE (emulated_wand_pending_in (wand) == 0, 200);
  ck_assert_uint_eq (emulated_wand_pending_in (wand), 1);
  /* ... and the wand is pulled out mid-transfer */
  start = usb_test_now_ms ();
  emulated_wand_unplug (wand);
  SPIN_WHILE (error == NULL, 3000);
  ck_assert_ptr_nonnull (error);
  ck_assert_msg (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_UNPLUGGED), "%s", error->message);
  ck_assert_str_eq (error->message, "Wand unplugged");
  /* at once, not after the 10 s receive timeout */
  ck_assert_int_lt (usb_test_now_ms () - start, 2000);
  g_clear_error (&error);
  /* both the transfer's NO_DEVICE and the hotplug removal came: still one signal */
  spin_for (200);
  ck_assert_int_eq (disconnected, 1);
  ck_assert (!thecal_usb_transport_is_connected (usb));
  /* everything after fails the same way, at once */
  ck_assert (!usb_test_send (transport (), frame, &later));
  ck_assert (g_error_matches (later, THECAL_WAND_ERROR, THECAL_WAND_ERROR_UNPLUGGED));
  g_clear_error (&later);
  none = usb_test_receive (transport (), 5000, &later);
  ck_assert_ptr_null (none);
  ck_assert (g_error_matches (later, THECAL_WAND_ERROR, THECAL_WAND_ERROR_UNPLUGGED));
}
END_TEST

static void
on_send_done (GObject *source, GAsyncResult *result, gpointer data)
{
  GError **error = data;

  ck_assert (!thecal_transport_send_finish (THECAL_TRANSPORT (source), result, error));
}

START_TEST (test_unplug_pending_send)
{
  GError *error = NULL;
  g_autoptr (GBytes) frame = make_frame (1, 16);
  int disconnected = 0;
  gint64 start;

  g_signal_connect (usb, "disconnected", G_CALLBACK (on_disconnected), &disconnected);
  /* the wand does not take the frame (its OUT URB stays pending) ... */
  emulated_wand_hold_out (wand, TRUE);
  thecal_transport_send_async (transport (), frame, NULL, on_send_done, &error);
  SPIN_WHILE (emulated_wand_pending_out (wand) == 0, 500);
  ck_assert_uint_eq (emulated_wand_pending_out (wand), 1);
  /* ... when it is unplugged */
  start = usb_test_now_ms ();
  emulated_wand_unplug (wand);
  SPIN_WHILE (error == NULL, 3000);
  ck_assert_ptr_nonnull (error);
  ck_assert_msg (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_UNPLUGGED), "%s", error->message);
  ck_assert_int_lt (usb_test_now_ms () - start, 2000);
  g_clear_error (&error);
  spin_for (200);
  ck_assert_int_eq (disconnected, 1);
}
END_TEST

typedef struct
{
  int done;
  int unplugged;
} SendCount;

/* Runs on the owning context: the first failed send closes the transport from its callback. */
static void
on_send_close (GObject *source, GAsyncResult *result, gpointer data)
{
  SendCount *count = data;
  g_autoptr (GError) error = NULL;

  ck_assert (!thecal_transport_send_finish (THECAL_TRANSPORT (source), result, &error));
  if (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_UNPLUGGED))
    count->unplugged++;
  if (count->done++ == 0)
    thecal_transport_close (THECAL_TRANSPORT (source));
}

START_TEST (test_unplug_callback_closes)
{
  g_autoptr (GBytes) frame = make_frame (1, 16);
  SendCount count = { 0 };

  /* three sends held by the wand, then the wand goes; the first callback closes the transport
   * while the others are still being answered (under ASan: nothing freed twice or used after) */
  emulated_wand_hold_out (wand, TRUE);
  for (int i = 0; i < 3; i++)
    thecal_transport_send_async (transport (), frame, NULL, on_send_close, &count);
  SPIN_WHILE (emulated_wand_pending_out (wand) < 3, 500);
  ck_assert_uint_eq (emulated_wand_pending_out (wand), 3);
  emulated_wand_unplug (wand);
  SPIN_WHILE (count.done < 3, 1500);
  ck_assert_int_eq (count.done, 3);
  ck_assert_int_eq (count.unplugged, 3);
  ck_assert (!thecal_usb_transport_is_connected (usb));
}
END_TEST

START_TEST (test_unplug_during_program)
{
  ThecalPrescription new_rx;
  ThecalChecksum active;
  ThecalProtoError perror;
  g_autoptr (GError) error = NULL;
  int disconnected = 0;
  GError *receive_error = NULL;
  const ThecalProgramReport *report;

  g_signal_connect (usb, "disconnected", G_CALLBACK (on_disconnected), &disconnected);
  active = request_simple (THECAL_MSG_READ_PRESCRIPTION)->prescription.checksum;
  test_rx_morphine (&new_rx, 6);
  ck_assert (thecal_programmer_begin_program (&programmer, usb_test_now_ms (), &new_rx, &active, &perror));
  /* the pump stops answering after STAGE; the wand is pulled while the programmer waits */
  usb_test_pump_set_silent (pump_side, TRUE);
  {
    const uint8_t *out;
    size_t length = 0;

    while ((out = thecal_programmer_take_output (&programmer, &length)) != NULL)
      {
        g_autoptr (GBytes) bytes = g_bytes_new (out, length);

        ck_assert (usb_test_send (transport (), bytes, &error));
      }
  }
  thecal_transport_receive_async (transport (), 10000, NULL, on_receive_done, &receive_error);
  SLEEP_WHILE (emulated_wand_pending_in (wand) == 0, 200);
  emulated_wand_unplug (wand);
  SPIN_WHILE (receive_error == NULL, 1500);
  ck_assert (g_error_matches (receive_error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_UNPLUGGED));
  g_clear_error (&receive_error);
  /* the programmer gives up on its own clock: COMMIT was never sent, so FAILED (pump unchanged) */
  while (thecal_programmer_busy (&programmer))
    {
      g_usleep (50 * 1000);
      thecal_programmer_tick (&programmer, usb_test_now_ms ());
      size_t dropped = 0;

      while (thecal_programmer_take_output (&programmer, &dropped) != NULL)
        ; /* the wand is gone: retransmissions go nowhere */
    }
  report = thecal_programmer_program_report (&programmer);
  ck_assert_int_eq (report->outcome, THECAL_PROGRAM_FAILED);
  ck_assert (!report->commit_sent);
  ck_assert (!thecal_prescription_equal (thecal_sim_pump_active (&sim_pump), &new_rx));
  ck_assert_int_eq (disconnected, 1);
}
END_TEST

START_TEST (test_replug)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) wands = NULL;
  const ThecalMessage *reply;
  int disconnected = 0;

  request_simple (THECAL_MSG_IDENTIFY);
  g_signal_connect (usb, "disconnected", G_CALLBACK (on_disconnected), &disconnected);
  emulated_wand_unplug (wand);
  SPIN_WHILE (disconnected == 0, 1500);
  ck_assert_int_eq (disconnected, 1);
  g_clear_object (&usb);

  /* while unplugged: not found */
  usb = thecal_usb_transport_new (THECAL_USB_WAND_VID, THECAL_USB_WAND_PID, &error);
  ck_assert_ptr_null (usb);
  ck_assert (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_NOT_FOUND));
  g_clear_error (&error);

  /* plugged in again: a new device number, and it opens */
  ck_assert_msg (emulated_wand_plug (wand, &error), "%s", error != NULL ? error->message : "?");
  wands = thecal_usb_transport_list (THECAL_USB_WAND_VID, THECAL_USB_WAND_PID, &error);
  ck_assert_uint_eq (wands->len, 1);
  ck_assert_uint_eq (((ThecalUsbWandInfo *) g_ptr_array_index (wands, 0))->address, 3);
  usb = thecal_usb_transport_new (THECAL_USB_WAND_VID, THECAL_USB_WAND_PID, &error);
  ck_assert_msg (usb != NULL, "%s", error != NULL ? error->message : "?");
  /* the pump never noticed: the programmer goes on where it was */
  reply = request_simple (THECAL_MSG_IDENTIFY);
  ck_assert_str_eq (reply->identity.serial, TEST_SERIAL);
  reply = request_simple (THECAL_MSG_READ_STATUS);
  ck_assert_int_ge (reply->status.log_next_seq, 3);
}
END_TEST

/* ---- the whole stack: the pump link (src/wand) over USB ---------------------------------- */

typedef struct
{
  gboolean done;
  ThecalPumpInterrogation *interrogation;
  GError *error;
} LinkCall;

static void
on_interrogated (GObject *source, GAsyncResult *result, gpointer data)
{
  LinkCall *call = data;

  call->interrogation = thecal_pump_link_interrogate_finish (THECAL_PUMP_LINK (source), result, &call->error);
  call->done = TRUE;
}

START_TEST (test_pump_link_interrogate)
{
  ThecalProgrammerConfig config;
  g_autoptr (ThecalPumpLink) link = NULL;
  LinkCall call = { 0 };
  ThecalChecksum active;

  memset (&config, 0, sizeof config);
  config.retry_timeout_ms = 300;
  config.max_attempts = 3;
  config.random = thecal_proto_random_sodium;
  link = thecal_pump_link_new_full (transport (), NULL, &config);
  thecal_pump_link_set_key_func (link, bench_key_func, NULL, NULL); /* the demo key of the serial */
  /* what `thecal-cli pump interrogate --wand` does: identify, key, session, status, prescription,
   * the whole log */
  thecal_pump_link_interrogate_async (link, 1, 0, 0, NULL, on_interrogated, &call);
  ck_assert (usb_test_wait (&call.done, 20000));
  ck_assert_msg (call.interrogation != NULL, "%s", call.error != NULL ? call.error->message : "?");
  ck_assert_str_eq (call.interrogation->identity.serial, TEST_SERIAL);
  ck_assert_int_eq (call.interrogation->status.mode, THECAL_MODE_CONTINUOUS);
  ck_assert (thecal_sim_pump_active_checksum (&sim_pump, &active));
  ck_assert (thecal_checksum_equal (&call.interrogation->prescription.checksum, &active));
  ck_assert (thecal_prescription_equal (&call.interrogation->prescription.rx, thecal_sim_pump_active (&sim_pump)));
  ck_assert_int_eq (call.interrogation->events->len, call.interrogation->log_next_seq - 1);
  ck_assert (!call.interrogation->log_gap);
  ck_assert_uint_eq (call.interrogation->retransmissions, 0);
  thecal_pump_interrogation_free (call.interrogation);
}
END_TEST

/* ---- hotplug arrival and removal for the interface (ThecalUsbMonitor) ------------------ */

static void
on_wand_added (ThecalUsbMonitor *monitor, guint bus, guint address, gpointer data)
{
  (void) monitor;
  g_string_append_printf (data, "+%u-%u ", bus, address);
}

static void
on_wand_removed (ThecalUsbMonitor *monitor, guint bus, guint address, gpointer data)
{
  (void) monitor;
  g_string_append_printf (data, "-%u-%u ", bus, address);
}

/* Iterates the default context until @log reads @expected (or 3 s). */
static void
wait_for_log (GString *log, const char *expected)
{
  SPIN_WHILE (strcmp (log->str, expected) != 0, 3000);
  ck_assert_str_eq (log->str, expected);
}

START_TEST (test_monitor)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) log = g_string_new ("");
  g_autoptr (ThecalUsbMonitor) monitor = thecal_usb_monitor_new (THECAL_USB_WAND_VID, THECAL_USB_WAND_PID, &error);

  ck_assert_msg (monitor != NULL, "%s", error != NULL ? error->message : "?");
  g_signal_connect (monitor, "wand-added", G_CALLBACK (on_wand_added), log);
  g_signal_connect (monitor, "wand-removed", G_CALLBACK (on_wand_removed), log);
  spin_for (50);
  ck_assert_str_eq (log->str, "");
  ck_assert_uint_eq (thecal_usb_monitor_get_count (monitor), 0);

  /* plugged in, pulled out, plugged in again (a new device number): the main loop hears each */
  ck_assert (emulated_wand_plug (wand, &error));
  wait_for_log (log, "+1-2 ");
  ck_assert_uint_eq (thecal_usb_monitor_get_count (monitor), 1);
  emulated_wand_unplug (wand);
  wait_for_log (log, "+1-2 -1-2 ");
  ck_assert_uint_eq (thecal_usb_monitor_get_count (monitor), 0);
  ck_assert (emulated_wand_plug (wand, &error));
  wait_for_log (log, "+1-2 -1-2 +1-3 ");
  ck_assert_uint_eq (thecal_usb_monitor_get_count (monitor), 1);

  /* and the wand that arrived opens */
  usb = thecal_usb_transport_new (THECAL_USB_WAND_VID, THECAL_USB_WAND_PID, &error);
  ck_assert_msg (usb != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert_str_eq (request_simple (THECAL_MSG_IDENTIFY)->identity.serial, TEST_SERIAL);
  g_clear_object (&usb); /* before the monitor's libusb context and the testbed go */
}
END_TEST

START_TEST (test_monitor_present)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) log = g_string_new ("");
  g_autoptr (ThecalUsbMonitor) monitor = thecal_usb_monitor_new (THECAL_USB_WAND_VID, THECAL_USB_WAND_PID, &error);
  g_autoptr (ThecalUsbMonitor) other = thecal_usb_monitor_new (THECAL_USB_WAND_VID, 0x0002, &error);
  g_autoptr (GString) other_log = g_string_new ("");

  ck_assert_ptr_nonnull (monitor);
  ck_assert_ptr_nonnull (other);
  /* the wand already there is announced from the main loop, not from inside _new () */
  g_signal_connect (monitor, "wand-added", G_CALLBACK (on_wand_added), log);
  g_signal_connect (monitor, "wand-removed", G_CALLBACK (on_wand_removed), log);
  g_signal_connect (other, "wand-added", G_CALLBACK (on_wand_added), other_log);
  g_signal_connect (other, "wand-removed", G_CALLBACK (on_wand_removed), other_log);
  wait_for_log (log, "+1-2 ");
  emulated_wand_unplug (wand);
  wait_for_log (log, "+1-2 -1-2 ");
  /* a monitor for another PID hears nothing of it */
  ck_assert_str_eq (other_log->str, "");
}
END_TEST

/* ---- the sync helpers of thecal-transport.h (a private main context) -------------------- */

START_TEST (test_sync_helpers)
{
  static const guint8 identify[] = { 0x54, 0x48, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0xde, 0x71, 0x28, 0x00 };
  g_autoptr (GBytes) request = g_bytes_new_static (identify, sizeof identify);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (GBytes) none = NULL;
  ThecalFrame frame;

  /* docs/protocol.md §10: IDENTIFY, sequence 1 */
  ck_assert_msg (thecal_transport_send_sync (transport (), request, NULL, &error), "%s", error != NULL ? error->message : "?");
  answer = thecal_transport_receive_sync (transport (), 3000, NULL, &error);
  ck_assert_msg (answer != NULL, "%s", error != NULL ? error->message : "?");
  ck_assert_int_eq (thecal_frame_decode (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer), &frame), THECAL_FRAME_OK);
  ck_assert_uint_eq (frame.type, THECAL_MSG_IDENTIFY);
  ck_assert_uint_eq (frame.flags, THECAL_FRAME_FLAG_RESPONSE);
  ck_assert_uint_eq (g_bytes_get_size (answer), 35);
  none = thecal_transport_receive_sync (transport (), 100, NULL, &error);
  ck_assert_ptr_null (none);
  ck_assert (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_NO_PUMP));
}
END_TEST

/* ---- the one error translation ---------------------------------------------------------- */

START_TEST (test_error_mapping)
{
  static const struct
  {
    int rc;
    ThecalWandError code;
  } cases[] = {
    { LIBUSB_ERROR_IO, THECAL_WAND_ERROR_IO },
    { LIBUSB_ERROR_INVALID_PARAM, THECAL_WAND_ERROR_IO },
    { LIBUSB_ERROR_ACCESS, THECAL_WAND_ERROR_PERMISSION },
    { LIBUSB_ERROR_NO_DEVICE, THECAL_WAND_ERROR_UNPLUGGED },
    { LIBUSB_ERROR_NOT_FOUND, THECAL_WAND_ERROR_NOT_FOUND },
    { LIBUSB_ERROR_BUSY, THECAL_WAND_ERROR_BUSY },
    { LIBUSB_ERROR_TIMEOUT, THECAL_WAND_ERROR_IO },
    { LIBUSB_ERROR_OVERFLOW, THECAL_WAND_ERROR_FRAME },
    { LIBUSB_ERROR_PIPE, THECAL_WAND_ERROR_IO },
    { LIBUSB_ERROR_INTERRUPTED, THECAL_WAND_ERROR_IO },
    { LIBUSB_ERROR_NO_MEM, THECAL_WAND_ERROR_IO },
    { LIBUSB_ERROR_NOT_SUPPORTED, THECAL_WAND_ERROR_IO },
    { LIBUSB_ERROR_OTHER, THECAL_WAND_ERROR_IO },
    { -13, THECAL_WAND_ERROR_IO },   /* a code a later libusb may add */
    { -1000, THECAL_WAND_ERROR_IO }, /* nonsense */
  };
  g_autoptr (GHashTable) messages = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  /* every code of enum libusb_error, and more, gives a THECAL_WAND_ERROR with a message */
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;

      ck_assert (!thecal_usb_error_to_gerror (cases[i].rc, &error));
      ck_assert_ptr_nonnull (error);
      ck_assert_msg (error->domain == THECAL_WAND_ERROR, "%d", cases[i].rc);
      ck_assert_msg (error->code == (gint) cases[i].code, "%d: %d", cases[i].rc, error->code);
      ck_assert_msg (strlen (error->message) >= 10, "%d: '%s'", cases[i].rc, error->message);
      /* for people: no libusb jargon */
      ck_assert_msg (strstr (error->message, "LIBUSB") == NULL && strstr (error->message, "libusb") == NULL, "%s",
                     error->message);
      if (cases[i].rc >= LIBUSB_ERROR_OTHER && cases[i].rc != -13)
        g_hash_table_add (messages, g_strdup (error->message));
    }
  /* the thirteen libusb codes (LIBUSB_ERROR_OTHER = -99 apart) all say something different */
  ck_assert_uint_eq (g_hash_table_size (messages), 13);

  /* the messages the brief names */
  {
    g_autoptr (GError) error = NULL;

    thecal_usb_error_to_gerror (LIBUSB_ERROR_NO_DEVICE, &error);
    ck_assert_str_eq (error->message, "Wand unplugged");
  }
  /* success is not an error */
  {
    g_autoptr (GError) error = NULL;

    ck_assert (thecal_usb_error_to_gerror (LIBUSB_SUCCESS, &error));
    ck_assert (thecal_usb_error_to_gerror (5, &error)); /* a byte count */
    ck_assert_ptr_null (error);
    ck_assert (!thecal_usb_error_to_gerror (LIBUSB_ERROR_IO, NULL)); /* NULL error allowed */
  }
}
END_TEST

/* ---- the udev rule ---------------------------------------------------------------------- */

START_TEST (test_udev_rule)
{
  const char *source_dir = g_getenv ("THECAL_SOURCE_DIR");
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_autofree char *vid = g_strdup_printf ("ATTR{idVendor}==\"%04x\"", THECAL_USB_WAND_VID);
  g_autofree char *pid = g_strdup_printf ("ATTR{idProduct}==\"%04x\"", THECAL_USB_WAND_PID);
  g_autoptr (GError) error = NULL;

  ck_assert_ptr_nonnull (source_dir);
  path = g_build_filename (source_dir, "data", "60-thecal-wand.rules", NULL);
  ck_assert_msg (g_file_get_contents (path, &text, NULL, &error), "%s", error != NULL ? error->message : "?");
  /* the wand (VID/PID of thecal-usb-transport.h) is granted to the logged-in user; numbered
   * before 73-seat-late.rules, which turns the uaccess tag into an ACL */
  ck_assert_ptr_nonnull (strstr (text, "SUBSYSTEM==\"usb\""));
  ck_assert_ptr_nonnull (strstr (text, vid));
  ck_assert_ptr_nonnull (strstr (text, pid));
  ck_assert_ptr_nonnull (strstr (text, "TAG+=\"uaccess\""));
  ck_assert_ptr_null (strstr (text, "MODE=\"0666\""));
}
END_TEST

static Suite *
usb_suite (void)
{
  Suite *s = suite_create ("usb");

  THECAL_TEST_TCASE (s, "open", setup_open, teardown, 20,
                     test_open_claim);
  THECAL_TEST_TCASE (s, "plugged", setup_plugged, teardown, 20,
                     test_list,
                     test_wrong_vid_pid,
                     test_busy);
  THECAL_TEST_TCASE (s, "unplugged", setup_wand, teardown, 20,
                     test_no_wand_plugged);
  THECAL_TEST_TCASE (s, "protocol", setup_open, teardown, 30,
                     test_identify,
                     test_wand_local,
                     test_interrogate,
                     test_program,
                     test_log_1000,
                     test_sync_helpers,
                     test_pump_link_interrogate);
  THECAL_TEST_TCASE (s, "framing", setup_open, teardown, 30,
                     test_zero_length_packet,
                     test_frame_size_limits,
                     test_reassembly,
                     test_frames_queue);
  THECAL_TEST_TCASE (s, "failures", setup_open, teardown, 30,
                     test_no_pump,
                     test_cancel_receive,
                     test_cancelled_receive_keeps_frame,
                     test_close,
                     test_unplug_pending_receive,
                     test_unplug_pending_send,
                     test_unplug_callback_closes,
                     test_unplug_during_program,
                     test_replug);
  THECAL_TEST_TCASE (s, "hotplug", setup_wand, teardown, 30,
                     test_monitor);
  THECAL_TEST_TCASE (s, "hotplug-present", setup_plugged, teardown, 30,
                     test_monitor_present);
  THECAL_TEST_TCASE (s, "errors", NULL, NULL, 0,
                     test_error_mapping,
                     test_udev_rule);
  return s;
}

THECAL_TEST_MAIN (usb_suite)
