/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-transport.c: the clock, the transport interface (queue, timeouts, cancellation, close,
 * the sync helpers) and the loopback to a simulated pump, frame by frame.
 */
#include "config.h"

#include "thecal-frame.h"
#include "thecal-test.h"
#include "thecal-wand-enums.h"
#include "wand-test-util.h"

static Bench bench;
static ThecalPrescription rx5;

static void
setup (void)
{
  test_rx_morphine (&rx5, 5);
  bench_init_pump (&bench, &rx5);
}

static void
teardown (void)
{
  bench_clear (&bench);
}

/* An IDENTIFY request frame (docs/protocol.md §10: 16 bytes). */
static GBytes *
identify_frame (guint32 seq)
{
  return bench_request_frame (THECAL_MSG_IDENTIFY, seq);
}

static void
send_frame (ThecalTransport *transport, GBytes *frame)
{
  bench_send (&bench, transport, frame);
}

static GBytes *
receive_frame (ThecalTransport *transport, gint timeout_ms, GCancellable *cancellable, GError **error)
{
  return bench_receive (&bench, transport, timeout_ms, cancellable, error);
}

/* ---- the clock --------------------------------------------------------------------------------- */

static gboolean
count_fired (gpointer user_data)
{
  (*(int *) user_data)++;
  return G_SOURCE_REMOVE;
}

START_TEST (test_virtual_clock)
{
  int fired = 0;
  gboolean never = FALSE;

  ck_assert (thecal_clock_is_virtual (bench.clock));
  ck_assert_int_eq (thecal_clock_now_ms (bench.clock), 1000);
  ck_assert_int_eq (thecal_clock_next_deadline (bench.clock), G_MAXINT64);
  thecal_clock_add_timeout (bench.clock, bench.context, 5000, count_fired, &fired, NULL);
  thecal_clock_add_timeout (bench.clock, bench.context, 2000, count_fired, &fired, NULL);
  ck_assert_int_eq (thecal_clock_next_deadline (bench.clock), 3000);
  /* nothing is ready: the clock jumps to the next deadline, then it fires */
  ck_assert (thecal_clock_iterate (bench.clock, bench.context));
  ck_assert_int_eq (thecal_clock_now_ms (bench.clock), 3000);
  ck_assert (thecal_clock_iterate (bench.clock, bench.context));
  ck_assert_int_eq (fired, 1);
  ck_assert (thecal_clock_iterate (bench.clock, bench.context));
  ck_assert (thecal_clock_iterate (bench.clock, bench.context));
  ck_assert_int_eq (fired, 2);
  ck_assert_int_eq (thecal_clock_now_ms (bench.clock), 6000);
  /* nothing left: the loop says so instead of hanging */
  ck_assert (!thecal_clock_run_until (bench.clock, bench.context, &never));
  /* never backwards */
  thecal_clock_advance_to (bench.clock, 10);
  ck_assert_int_eq (thecal_clock_now_ms (bench.clock), 6000);
}
END_TEST

START_TEST (test_real_clock)
{
  g_autoptr (ThecalClock) clock = thecal_clock_new_real ();
  int fired = 0;
  gint64 start = thecal_clock_now_ms (clock);

  ck_assert (!thecal_clock_is_virtual (clock));
  thecal_clock_advance_to (clock, start + 100000); /* ignored */
  ck_assert_int_lt (thecal_clock_now_ms (clock) - start, 1000);
  thecal_clock_add_timeout (clock, bench.context, 20, count_fired, &fired, NULL);
  while (fired == 0)
    ck_assert (thecal_clock_iterate (clock, bench.context));
  ck_assert_int_ge (thecal_clock_now_ms (clock) - start, 19);
}
END_TEST

/* ---- the loopback -------------------------------------------------------------------------------- */

START_TEST (test_loopback_identify)
{
  ThecalTransport *transport = THECAL_TRANSPORT (bench.loopback);
  g_autoptr (GBytes) request = identify_frame (1);
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (GError) error = NULL;
  static const guint8 expected[] = { 0x54, 0x48, 0x01, 0x01, 0x02, 0x01, 0x00, 0x00, 0x00, 0x14, 0x00, 0x01, 0x0b };

  /* docs/protocol.md §10: the IDENTIFY request, sequence 1 */
  ck_assert_int_eq (g_bytes_get_size (request), 16);
  send_frame (transport, request);
  answer = receive_frame (transport, 1000, NULL, &error);
  ck_assert_msg (answer != NULL, "%s", error->message);
  /* the answer's header and the start of its body, then the serial of this pump */
  ck_assert_mem_eq (g_bytes_get_data (answer, NULL), expected, sizeof expected);
  ck_assert (memcmp ((const guint8 *) g_bytes_get_data (answer, NULL) + 13, TEST_SERIAL, 11) == 0);
  ck_assert_int_eq (thecal_loopback_transport_get_stats (bench.loopback)->frames_to_pump, 1);
  ck_assert_str_eq (thecal_transport_describe (transport), "Simulated pump " TEST_SERIAL " (loopback)");
  ck_assert_ptr_eq (thecal_transport_get_context (transport), bench.context);
}
END_TEST

START_TEST (test_loopback_drops_garbage)
{
  ThecalTransport *transport = THECAL_TRANSPORT (bench.loopback);
  g_autoptr (GBytes) garbage = g_bytes_new_static ("not a frame at all", 18);
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start = thecal_clock_now_ms (bench.clock);

  send_frame (transport, garbage);
  /* the pump drops what is not a frame: nothing comes back; the receive times out */
  answer = receive_frame (transport, 500, NULL, &error);
  ck_assert_ptr_null (answer);
  ck_assert (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_NO_PUMP));
  ck_assert_int_eq (thecal_clock_now_ms (bench.clock) - start, 500);
}
END_TEST

START_TEST (test_loopback_frame_size)
{
  ThecalTransport *transport = THECAL_TRANSPORT (bench.loopback);
  g_autofree guint8 *big = g_malloc0 (THECAL_FRAME_MAX + 1);
  g_autoptr (GBytes) too_big = g_bytes_new_take (g_steal_pointer (&big), THECAL_FRAME_MAX + 1);
  g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) error2 = NULL;

  thecal_transport_send_async (transport, too_big, NULL, bench_done, bench_cb (&bench));
  ck_assert (!thecal_transport_send_finish (transport, bench_wait (&bench), &error));
  ck_assert (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_FRAME));
  thecal_transport_send_async (transport, empty, NULL, bench_done, bench_cb (&bench));
  ck_assert (!thecal_transport_send_finish (transport, bench_wait (&bench), &error2));
  ck_assert (g_error_matches (error2, THECAL_WAND_ERROR, THECAL_WAND_ERROR_FRAME));
}
END_TEST

START_TEST (test_loopback_latency)
{
  ThecalTransport *transport = THECAL_TRANSPORT (bench.loopback);
  g_autoptr (GBytes) request = identify_frame (1);
  g_autoptr (GBytes) answer = NULL;
  gint64 start = thecal_clock_now_ms (bench.clock);

  g_object_set (bench.loopback, "latency-ms", 25u, NULL);
  ck_assert_int_eq (thecal_loopback_transport_get_latency_ms (bench.loopback), 25);
  send_frame (transport, request);
  answer = receive_frame (transport, -1, NULL, NULL);
  ck_assert_ptr_nonnull (answer);
  ck_assert_int_eq (thecal_clock_now_ms (bench.clock) - start, 50); /* there and back */
}
END_TEST

START_TEST (test_loopback_pump_time)
{
  gint64 pump_start = thecal_sim_pump_now_ms (bench.pump);
  g_autoptr (GBytes) request = identify_frame (1);
  g_autoptr (GBytes) answer = NULL;

  /* a minute of simulated time at 60 ×: an hour for the pump, applied when a frame arrives */
  thecal_loopback_transport_set_time_scale (bench.loopback, 60);
  thecal_clock_advance_to (bench.clock, thecal_clock_now_ms (bench.clock) + 60000);
  ck_assert_int_eq (thecal_loopback_transport_pump_time_ms (bench.loopback), pump_start + 3600000);
  ck_assert_int_eq (thecal_sim_pump_now_ms (bench.pump), pump_start);
  send_frame (THECAL_TRANSPORT (bench.loopback), request);
  answer = receive_frame (THECAL_TRANSPORT (bench.loopback), -1, NULL, NULL);
  ck_assert_int_eq (thecal_sim_pump_now_ms (bench.pump), pump_start + 3600000);
}
END_TEST

/* A new wand over the same implant: the time the implant ran without any frame is not lost. */
START_TEST (test_loopback_advance_pump_before_handover)
{
  gint64 pump_start = thecal_sim_pump_now_ms (bench.pump);
  g_autoptr (ThecalLoopbackTransport) next = NULL;

  thecal_clock_advance_to (bench.clock, thecal_clock_now_ms (bench.clock) + 3600000);
  ck_assert_int_eq (thecal_sim_pump_now_ms (bench.pump), pump_start); /* no frame yet */
  thecal_loopback_transport_advance_pump (bench.loopback);
  ck_assert_int_eq (thecal_sim_pump_now_ms (bench.pump), pump_start + 3600000);
  /* twice at the same instant: nothing more */
  thecal_loopback_transport_advance_pump (bench.loopback);
  ck_assert_int_eq (thecal_sim_pump_now_ms (bench.pump), pump_start + 3600000);
  next = thecal_loopback_transport_new (bench.pump, NULL, bench.clock);
  ck_assert_int_eq (thecal_loopback_transport_pump_time_ms (next), pump_start + 3600000);
  thecal_clock_advance_to (bench.clock, thecal_clock_now_ms (bench.clock) + 1000);
  ck_assert_int_eq (thecal_loopback_transport_pump_time_ms (next), pump_start + 3601000);
}
END_TEST

START_TEST (test_loopback_out_of_range)
{
  ThecalTransport *transport = THECAL_TRANSPORT (bench.loopback);
  g_autoptr (GBytes) request = identify_frame (1);
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (GError) error = NULL;

  ck_assert (thecal_loopback_transport_get_wand_link (bench.loopback)->pump_in_range);
  ck_assert_int_eq (thecal_loopback_transport_get_wand_link (bench.loopback)->quality_percent, 100);
  thecal_loopback_transport_set_pump_in_range (bench.loopback, FALSE);
  ck_assert (!thecal_loopback_transport_get_wand_link (bench.loopback)->pump_in_range);
  ck_assert_int_eq (thecal_loopback_transport_get_wand_link (bench.loopback)->quality_percent, 0);
  send_frame (transport, request);
  answer = receive_frame (transport, 1000, NULL, &error);
  ck_assert_ptr_null (answer);
  ck_assert (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_NO_PUMP));
  ck_assert_int_eq (thecal_loopback_transport_get_stats (bench.loopback)->dropped_out_of_range, 1);
}
END_TEST

START_TEST (test_receive_cancelled)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) error2 = NULL;
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (GBytes) request = identify_frame (1);

  thecal_transport_receive_async (THECAL_TRANSPORT (bench.loopback), -1, cancellable, bench_done, bench_cb (&bench));
  g_cancellable_cancel (cancellable);
  answer = thecal_transport_receive_finish (THECAL_TRANSPORT (bench.loopback), bench_wait (&bench), &error);
  ck_assert_ptr_null (answer);
  ck_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  /* already cancelled: at once */
  answer = receive_frame (THECAL_TRANSPORT (bench.loopback), -1, cancellable, &error2);
  ck_assert (g_error_matches (error2, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  /* the transport still works, and no frame was swallowed by the cancelled receives */
  send_frame (THECAL_TRANSPORT (bench.loopback), request);
  answer = receive_frame (THECAL_TRANSPORT (bench.loopback), -1, NULL, NULL);
  ck_assert_ptr_nonnull (answer);
}
END_TEST

START_TEST (test_queue_keeps_frames_in_order_and_bounded)
{
  ThecalTransport *transport = THECAL_TRANSPORT (bench.loopback);

  /* 70 IDENTIFY requests with sequences 1..70: answers queue up, the oldest 6 are dropped */
  for (guint32 seq = 1; seq <= 70; seq++)
    {
      g_autoptr (GBytes) request = identify_frame (seq);

      send_frame (transport, request);
    }
  while (thecal_loopback_transport_get_stats (bench.loopback)->answers < 70)
    ck_assert (thecal_clock_iterate (bench.clock, bench.context));
  for (guint32 seq = 7; seq <= 70; seq++)
    {
      g_autoptr (GBytes) answer = receive_frame (transport, 0, NULL, NULL);
      const guint8 *data;

      ck_assert_ptr_nonnull (answer);
      data = g_bytes_get_data (answer, NULL);
      ck_assert_int_eq (data[5], seq & 0xff); /* the answer echoes the request's sequence */
    }
}
END_TEST

START_TEST (test_close_fails_pending)
{
  ThecalTransport *transport = THECAL_TRANSPORT (bench.loopback);
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) error2 = NULL;
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (GBytes) request = identify_frame (1);

  thecal_transport_receive_async (transport, -1, NULL, bench_done, bench_cb (&bench));
  thecal_transport_close (transport);
  thecal_transport_close (transport); /* idempotent */
  answer = thecal_transport_receive_finish (transport, bench_wait (&bench), &error);
  ck_assert_ptr_null (answer);
  ck_assert (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_DISCONNECTED));
  thecal_transport_send_async (transport, request, NULL, bench_done, bench_cb (&bench));
  ck_assert (!thecal_transport_send_finish (transport, bench_wait (&bench), &error2));
  ck_assert (g_error_matches (error2, THECAL_WAND_ERROR, THECAL_WAND_ERROR_DISCONNECTED));
}
END_TEST

static void
on_disconnected (ThecalTransport *transport, const GError *reason, gpointer user_data)
{
  (void) transport;
  *(int *) user_data = reason->code;
}

START_TEST (test_disconnected_signal)
{
  int code = -1;
  g_autoptr (GError) reason = g_error_new_literal (THECAL_WAND_ERROR, THECAL_WAND_ERROR_UNPLUGGED, "Wand unplugged");

  g_signal_connect (bench.loopback, "disconnected", G_CALLBACK (on_disconnected), &code);
  thecal_transport_emit_disconnected (THECAL_TRANSPORT (bench.loopback), reason);
  ck_assert_int_eq (code, THECAL_WAND_ERROR_UNPLUGGED);
}
END_TEST

static gint64 owned_time_ms;

static gint64
owned_time (gpointer user_data)
{
  (*(int *) user_data)++;
  return owned_time_ms;
}

/* The pump's time from the caller's function (the demo world's clock): the clock and the
 * time-scale no longer count; without it the clock takes over from the pump's time then. */
START_TEST (test_loopback_time_func)
{
  gint64 pump_start = thecal_sim_pump_now_ms (bench.pump);
  g_autoptr (GBytes) request = identify_frame (1);
  g_autoptr (GBytes) answer = NULL;
  int calls = 0;

  owned_time_ms = pump_start + 7 * 86400000;
  thecal_loopback_transport_set_time_func (bench.loopback, owned_time, &calls, NULL);
  thecal_loopback_transport_set_time_scale (bench.loopback, 60);
  thecal_clock_advance_to (bench.clock, thecal_clock_now_ms (bench.clock) + 60000);
  ck_assert_int_eq (thecal_loopback_transport_pump_time_ms (bench.loopback), pump_start + 7 * 86400000);
  send_frame (THECAL_TRANSPORT (bench.loopback), request);
  answer = receive_frame (THECAL_TRANSPORT (bench.loopback), -1, NULL, NULL);
  ck_assert_ptr_nonnull (answer);
  ck_assert_int_eq (thecal_sim_pump_now_ms (bench.pump), pump_start + 7 * 86400000);
  ck_assert_int_gt (calls, 0);
  thecal_loopback_transport_set_time_func (bench.loopback, NULL, NULL, NULL);
  ck_assert_int_eq (thecal_loopback_transport_pump_time_ms (bench.loopback), pump_start + 7 * 86400000);
  thecal_clock_advance_to (bench.clock, thecal_clock_now_ms (bench.clock) + 1000);
  ck_assert_int_eq (thecal_loopback_transport_pump_time_ms (bench.loopback), pump_start + 7 * 86400000 + 60000);
}
END_TEST

/* Unplugged: what is pending and everything after fails with "Wand unplugged", and the link is
 * told; idempotent. */
START_TEST (test_loopback_unplug)
{
  ThecalTransport *transport = THECAL_TRANSPORT (bench.loopback);
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) error2 = NULL;
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (GBytes) request = identify_frame (1);
  int code = -1;

  g_signal_connect (bench.loopback, "disconnected", G_CALLBACK (on_disconnected), &code);
  ck_assert (!thecal_loopback_transport_get_unplugged (bench.loopback));
  thecal_transport_receive_async (transport, -1, NULL, bench_done, bench_cb (&bench));
  thecal_loopback_transport_unplug (bench.loopback);
  thecal_loopback_transport_unplug (bench.loopback);
  ck_assert (thecal_loopback_transport_get_unplugged (bench.loopback));
  ck_assert_int_eq (code, THECAL_WAND_ERROR_UNPLUGGED);
  answer = thecal_transport_receive_finish (transport, bench_wait (&bench), &error);
  ck_assert_ptr_null (answer);
  ck_assert (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_UNPLUGGED));
  ck_assert_str_eq (error->message, "Wand unplugged");
  thecal_transport_send_async (transport, request, NULL, bench_done, bench_cb (&bench));
  ck_assert (!thecal_transport_send_finish (transport, bench_wait (&bench), &error2));
  ck_assert (g_error_matches (error2, THECAL_WAND_ERROR, THECAL_WAND_ERROR_UNPLUGGED));
}
END_TEST

START_TEST (test_sync_helpers)
{
  g_autoptr (ThecalClock) real = thecal_clock_new_real ();
  g_autoptr (ThecalLoopbackTransport) loopback = thecal_loopback_transport_new (bench.pump, NULL, real);
  g_autoptr (GBytes) request = identify_frame (3);
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (GBytes) nothing = NULL;
  g_autoptr (GError) error = NULL;

  /* no latency: nothing needs time to pass, so the blocking helpers complete */
  ck_assert (thecal_transport_send_sync (THECAL_TRANSPORT (loopback), request, NULL, &error));
  answer = thecal_transport_receive_sync (THECAL_TRANSPORT (loopback), 1000, NULL, &error);
  ck_assert_msg (answer != NULL, "%s", error->message);
  ck_assert_int_eq (((const guint8 *) g_bytes_get_data (answer, NULL))[5], 3);
  /* a real timeout: 20 ms */
  nothing = thecal_transport_receive_sync (THECAL_TRANSPORT (loopback), 20, NULL, &error);
  ck_assert_ptr_null (nothing);
  ck_assert (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_NO_PUMP));
}
END_TEST

START_TEST (test_error_quarks)
{
  ck_assert_str_eq (g_quark_to_string (THECAL_WAND_ERROR), "thecal-wand-error-quark");
  ck_assert_str_eq (g_quark_to_string (THECAL_PROTO_ERROR), "thecal-proto-error-quark");
}
END_TEST

/* The codes of both error domains are registered enums (glib-mkenums, STYLE.md §8): every code
 * has its name and nick, so a GError can be named in logs and bindings. */
START_TEST (test_error_enum_types)
{
  GEnumClass *wand = g_type_class_ref (THECAL_TYPE_WAND_ERROR);
  GEnumClass *proto = g_type_class_ref (THECAL_TYPE_PROTO_ERROR_CODE);
  GEnumClass *limit = g_type_class_ref (THECAL_TYPE_PUMP_LIMIT);
  GEnumClass *msg = g_type_class_ref (THECAL_TYPE_MSG_TYPE);

  ck_assert_uint_eq (wand->n_values, THECAL_WAND_ERROR_IO + 1);
  ck_assert_str_eq (g_enum_get_value (wand, THECAL_WAND_ERROR_UNPLUGGED)->value_nick, "unplugged");
  ck_assert_str_eq (g_enum_get_value (wand, THECAL_WAND_ERROR_NO_PUMP)->value_name, "THECAL_WAND_ERROR_NO_PUMP");
  ck_assert_str_eq (g_enum_get_value (proto, THECAL_PROTO_ERROR_STALE_CHECKSUM)->value_nick, "error-stale-checksum");
  ck_assert_str_eq (g_enum_get_value (proto, THECAL_PROTO_ERROR_NO_KEY)->value_name, "THECAL_PROTO_ERROR_NO_KEY");
  ck_assert_ptr_null (g_enum_get_value (proto, 0x7F));
  ck_assert_str_eq (g_enum_get_value (limit, THECAL_PUMP_LIMIT_RATE_ABOVE_MAX)->value_nick, "rate-above-max");
  ck_assert_str_eq (g_enum_get_value (msg, THECAL_MSG_COMMIT)->value_nick, "commit");
  g_type_class_unref (msg);
  g_type_class_unref (limit);
  g_type_class_unref (proto);
  g_type_class_unref (wand);
}
END_TEST

static Suite *
transport_suite (void)
{
  Suite *suite = suite_create ("transport");

  THECAL_TEST_TCASE (suite, "clock", setup, teardown, 0,
                     test_virtual_clock,
                     test_real_clock);
  THECAL_TEST_TCASE (suite, "loopback", setup, teardown, 0,
                     test_loopback_identify,
                     test_loopback_drops_garbage,
                     test_loopback_frame_size,
                     test_loopback_latency,
                     test_loopback_pump_time,
                     test_loopback_advance_pump_before_handover,
                     test_loopback_out_of_range,
                     test_receive_cancelled,
                     test_queue_keeps_frames_in_order_and_bounded,
                     test_close_fails_pending,
                     test_disconnected_signal,
                     test_loopback_time_func,
                     test_loopback_unplug,
                     test_sync_helpers,
                     test_error_quarks,
                     test_error_enum_types);
  return suite;
}

THECAL_TEST_MAIN (transport_suite)
