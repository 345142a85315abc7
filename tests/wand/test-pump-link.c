/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-pump-link.c: the pump link over the loopback to a simulated pump, in simulated time on a
 * private GMainContext: identify, sessions and keys, interrogation, a 1 000-event log, two-phase
 * programming, the other requests, and what goes wrong (no key, another pump, no pump in range,
 * busy, cancelled, a lost wand and a new one).
 */
#include "config.h"

#include "thecal-test.h"
#include "wand-test-util.h"

static Bench bench;
static ThecalPrescription rx5, rx6;

static void
setup (void)
{
  test_rx_morphine (&rx5, 5);
  test_rx_morphine (&rx6, 6);
  bench_init (&bench, &rx5);
}

static void
teardown (void)
{
  bench_clear (&bench);
}

START_TEST (test_identify)
{
  ThecalProtoIdentity identity;
  g_autoptr (GError) error = NULL;

  thecal_pump_link_identify_async (bench.link, NULL, bench_done, bench_cb (&bench));
  ck_assert (thecal_pump_link_identify_finish (bench.link, bench_wait (&bench), &identity, &error));
  ck_assert_str_eq (identity.serial, TEST_SERIAL);
  ck_assert_str_eq (identity.model_id, "TR-20");
  ck_assert_int_eq (identity.protocol_version, 1);
  ck_assert_str_eq (thecal_pump_link_get_identity (bench.link)->serial, TEST_SERIAL);
  /* one round trip, no session */
  ck_assert_int_eq (thecal_pump_link_get_stats (bench.link)->round_trips, 1);
  ck_assert (!thecal_pump_role_session_active (thecal_sim_pump_role (bench.pump)));
}
END_TEST

START_TEST (test_open_session)
{
  g_autoptr (GError) error = NULL;

  thecal_pump_link_open_session_async (bench.link, TEST_SERIAL, NULL, bench_done, bench_cb (&bench));
  ck_assert_msg (thecal_pump_link_open_session_finish (bench.link, bench_wait (&bench), &error), "%s", error->message);
  ck_assert (thecal_pump_role_session_active (thecal_sim_pump_role (bench.pump)));
  /* IDENTIFY, HELLO, AUTH */
  ck_assert_int_eq (thecal_pump_link_get_stats (bench.link)->round_trips, 3);
}
END_TEST

START_TEST (test_wrong_pump)
{
  g_autoptr (GError) error = NULL;

  thecal_pump_link_open_session_async (bench.link, "TR20-000999", NULL, bench_done, bench_cb (&bench));
  ck_assert (!thecal_pump_link_open_session_finish (bench.link, bench_wait (&bench), &error));
  ck_assert (g_error_matches (error, THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_WRONG_PUMP));
  ck_assert_msg (strstr (error->message, TEST_SERIAL) != NULL, "%s", error->message);
  ck_assert (!thecal_pump_role_session_active (thecal_sim_pump_role (bench.pump)));
}
END_TEST

static gboolean
no_key (const char *serial, const char *model_id, guint8 key[THECAL_KEY_SIZE], gpointer user_data)
{
  (void) serial;
  (void) model_id;
  (void) key;
  (void) user_data;
  return FALSE;
}

static gboolean
wrong_key (const char *serial, const char *model_id, guint8 key[THECAL_KEY_SIZE], gpointer user_data)
{
  (void) serial;
  (void) model_id;
  (void) user_data;
  memset (key, 0x33, THECAL_KEY_SIZE);
  return TRUE;
}

START_TEST (test_no_key_and_wrong_key)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) error2 = NULL;
  ThecalPumpInterrogation *interrogation;

  thecal_pump_link_set_key_func (bench.link, no_key, NULL, NULL);
  interrogation = bench_interrogate (&bench, 1, 0, 0, &error);
  ck_assert_ptr_null (interrogation);
  ck_assert (g_error_matches (error, THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_NO_KEY));
  ck_assert_msg (strstr (error->message, "not paired") != NULL, "%s", error->message);

  thecal_pump_link_set_key_func (bench.link, wrong_key, NULL, NULL);
  interrogation = bench_interrogate (&bench, 1, 0, 0, &error2);
  ck_assert_ptr_null (interrogation);
  ck_assert_msg (g_error_matches (error2, THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_WRONG_KEY), "%s", error2->message);
}
END_TEST

START_TEST (test_interrogate)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalPumpInterrogation) in = bench_interrogate (&bench, 1, 0, 0, &error);
  ThecalChecksum active = bench_active_checksum (&bench);

  ck_assert_msg (in != NULL, "%s", error->message);
  ck_assert_str_eq (in->identity.serial, TEST_SERIAL);
  ck_assert_int_eq (in->status.reservoir_estimate_nl, 12000000);
  ck_assert_int_eq (in->status.mode, THECAL_MODE_CONTINUOUS);
  ck_assert (thecal_checksum_equal (&in->status.active_checksum, &active));
  ck_assert (thecal_checksum_equal (&in->prescription.checksum, &active));
  ck_assert (thecal_prescription_equal (&in->prescription.rx, &rx5));
  ck_assert_int_eq (in->log_oldest_seq, 1);
  ck_assert_int_eq (in->events->len, in->log_next_seq - 1);
  ck_assert (!in->log_gap);
  /* IDENTIFY, HELLO, AUTH, READ_STATUS, READ_PRESCRIPTION, READ_LOG: one round trip each */
  ck_assert_int_eq (in->round_trips, 6);
  ck_assert_int_eq (in->retransmissions, 0);
}
END_TEST

START_TEST (test_log_of_1000_events)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalPumpInterrogation) all = NULL;
  g_autoptr (ThecalPumpInterrogation) batches = NULL;
  g_autoptr (ThecalPumpInterrogation) tail = NULL;
  ThecalPrescription rx;

  /* a pump with PTM, pressed until its log holds 1 000 events; then a new link to it */
  test_rx_morphine (&rx, 5);
  rx.ptm = (ThecalPtmSettings){ .enabled = true, .dose_ng = 200000, .duration_ms = 600000, .lockout_ms = 3600000, .max_per_24h = 24 };
  bench_clear (&bench);
  bench_init_pump_full (&bench, &rx, 1000);
  bench_init_link (&bench);

  all = bench_interrogate (&bench, 1, 1000, 0, &error);
  ck_assert_msg (all != NULL, "%s", error->message);
  ck_assert_int_eq (all->events->len, 1000);
  for (guint i = 0; i < all->events->len; i++)
    {
      const ThecalProtoEvent *event = &g_array_index (all->events, ThecalProtoEvent, i);
      ThecalEngineEvent truth;

      ck_assert_int_eq (event->seq, (gint64) i + 1);
      ck_assert (thecal_engine_log_get (thecal_sim_pump_engine (bench.pump), event->seq, &truth));
      ck_assert_int_eq (event->type, truth.type);
      ck_assert_int_eq (event->pump_ms, truth.pump_ms);
      ck_assert_int_eq (event->args[0], truth.args[0]);
    }
  /* one READ_LOG for the 1 000 events (they fit one frame): 6 round trips in all */
  ck_assert_int_eq (all->round_trips, 6);

  /* the same in batches of 100: 10 READ_LOG, and the session is reused */
  thecal_pump_link_read_log_async (bench.link, 1, 1000, 100, NULL, bench_done, bench_cb (&bench));
  batches = thecal_pump_link_read_log_finish (bench.link, bench_wait (&bench), &error);
  ck_assert_msg (batches != NULL, "%s", error->message);
  ck_assert_int_eq (batches->events->len, 1000);
  ck_assert_int_eq (batches->round_trips, 10);
  ck_assert_mem_eq (batches->events->data, all->events->data, 1000 * sizeof (ThecalProtoEvent));

  /* from a sequence to the newest */
  thecal_pump_link_read_log_async (bench.link, 990, 0, 0, NULL, bench_done, bench_cb (&bench));
  tail = thecal_pump_link_read_log_finish (bench.link, bench_wait (&bench), &error);
  ck_assert_msg (tail != NULL, "%s", error->message);
  ck_assert_int_eq (g_array_index (tail->events, ThecalProtoEvent, 0).seq, 990);
  ck_assert_int_eq (tail->events->len, tail->log_next_seq - 990);
}
END_TEST

START_TEST (test_program_confirmed)
{
  g_autoptr (GError) error = NULL;
  ThecalProgramReport report;
  ThecalChecksum before = bench_active_checksum (&bench);
  ThecalChecksum after;

  ck_assert_msg (bench_program (&bench, &rx6, &before, &report, &error), "%s", error->message);
  ck_assert_int_eq (report.outcome, THECAL_PROGRAM_CONFIRMED);
  ck_assert (report.commit_acknowledged);
  ck_assert (thecal_prescription_equal (thecal_sim_pump_active (bench.pump), &rx6));
  after = bench_active_checksum (&bench);
  ck_assert (thecal_checksum_equal (&report.target, &after));
  ck_assert (thecal_checksum_equal (&report.previous, &before));
}
END_TEST

START_TEST (test_program_refused_by_pump_limit)
{
  g_autoptr (GError) error = NULL;
  ThecalProgramReport report;
  ThecalChecksum before = bench_active_checksum (&bench);
  ThecalPrescription rx;

  test_rx_rate (&rx, 30000000); /* 30 mL/day: above the pump's 24 mL/day */
  ck_assert (bench_program (&bench, &rx, &before, &report, &error));
  ck_assert_int_eq (report.outcome, THECAL_PROGRAM_FAILED);
  ck_assert_int_eq (report.error.code, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT);
  ck_assert_int_eq (report.error.detail, THECAL_PUMP_LIMIT_RATE_ABOVE_MAX);
  ck_assert (thecal_prescription_equal (thecal_sim_pump_active (bench.pump), &rx5));
}
END_TEST

START_TEST (test_program_stale_is_conflict)
{
  g_autoptr (GError) error = NULL;
  ThecalProgramReport report;
  ThecalChecksum stale;

  /* the clinician reviewed another prescription than the one the pump runs */
  ck_assert (thecal_prescription_checksum (&rx6, &stale, NULL));
  ck_assert (bench_program (&bench, &rx6, &stale, &report, &error));
  ck_assert_int_eq (report.error.code, THECAL_PROTO_ERROR_STALE_CHECKSUM);
  ck_assert_int_eq (report.outcome, THECAL_PROGRAM_CONFLICT);
  ck_assert (thecal_prescription_equal (thecal_sim_pump_active (bench.pump), &rx5));
}
END_TEST

START_TEST (test_other_requests)
{
  g_autoptr (GError) error = NULL;
  ThecalMessage request;
  ThecalMessage *reply;
  ThecalEngineStatus st;

  /* refill to 18 mL */
  thecal_message_init (&request, THECAL_MSG_SET_RESERVOIR, FALSE);
  request.set_reservoir = (ThecalMsgSetReservoir){ .volume_nl = 18000000, .drug_id = "morphine", .concentration_ng_per_ml = 25000000 };
  reply = bench_request (&bench, &request, &error);
  ck_assert_msg (reply != NULL, "%s", error->message);
  g_free (reply);
  thecal_engine_get_status (thecal_sim_pump_engine (bench.pump), &st);
  ck_assert_int_eq (st.reservoir_set_nl, 18000000);

  /* a clinician bolus of 1 mg over 1 h, then cancel it */
  thecal_message_init (&request, THECAL_MSG_START_BOLUS, FALSE);
  request.start_bolus.active = bench_active_checksum (&bench);
  request.start_bolus.kind = THECAL_PROTO_BOLUS_CLINICIAN;
  request.start_bolus.dose_ng = THECAL_NG_PER_MG;
  request.start_bolus.duration_ms = 3600000;
  reply = bench_request (&bench, &request, &error);
  ck_assert_msg (reply != NULL, "%s", error->message);
  g_free (reply);
  thecal_engine_get_status (thecal_sim_pump_engine (bench.pump), &st);
  ck_assert (st.bolus_active);
  thecal_pump_link_cancel_bolus_async (bench.link, NULL, bench_done, bench_cb (&bench));
  g_free (thecal_pump_link_request_finish (bench.link, bench_wait (&bench), &error));
  ck_assert_ptr_null (error);
  thecal_engine_get_status (thecal_sim_pump_engine (bench.pump), &st);
  ck_assert (!st.bolus_active);

  /* PTM on: the answer is the new active checksum */
  thecal_message_init (&request, THECAL_MSG_SET_PTM, FALSE);
  request.set_ptm.active = bench_active_checksum (&bench);
  request.set_ptm.ptm = (ThecalPtmSettings){ .enabled = true, .dose_ng = 200000, .duration_ms = 600000, .lockout_ms = 3600000, .max_per_24h = 4 };
  reply = bench_request (&bench, &request, &error);
  ck_assert_msg (reply != NULL, "%s", error->message);
  {
    ThecalChecksum now = bench_active_checksum (&bench);

    ck_assert (thecal_checksum_equal (&reply->checksum.checksum, &now));
  }
  g_free (reply);
  ck_assert (thecal_sim_pump_active (bench.pump)->ptm.enabled);

  /* the clock, one minute on */
  thecal_pump_link_set_clock_async (bench.link, TEST_START_MS + 60000, NULL, bench_done, bench_cb (&bench));
  reply = thecal_pump_link_request_finish (bench.link, bench_wait (&bench), &error);
  ck_assert_msg (reply != NULL, "%s", error->message);
  ck_assert_int_eq (reply->clock_reply.pump_ms, TEST_START_MS + 60000);
  g_free (reply);

  /* an alarm that is not raised: refused, and the refusal says so */
  thecal_pump_link_ack_alarm_async (bench.link, THECAL_PROTO_ALARM_ERI, NULL, bench_done, bench_cb (&bench));
  reply = thecal_pump_link_request_finish (bench.link, bench_wait (&bench), &error);
  ck_assert_ptr_null (reply);
  ck_assert (g_error_matches (error, THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_REFUSED));
  g_clear_error (&error);

  /* a refill above the capacity: the pump's limit, named */
  thecal_message_init (&request, THECAL_MSG_SET_RESERVOIR, FALSE);
  request.set_reservoir = (ThecalMsgSetReservoir){ .volume_nl = 21000000, .drug_id = "morphine", .concentration_ng_per_ml = 25000000 };
  reply = bench_request (&bench, &request, &error);
  ck_assert_ptr_null (reply);
  ck_assert (g_error_matches (error, THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT));
  ck_assert_msg (strstr (error->message, "reservoir_capacity") != NULL, "%s", error->message);
}
END_TEST

START_TEST (test_read_status_typed)
{
  g_autoptr (GError) error = NULL;
  g_autofree ThecalMessage *reply = NULL;

  thecal_pump_link_read_status_async (bench.link, NULL, bench_done, bench_cb (&bench));
  reply = thecal_pump_link_request_finish (bench.link, bench_wait (&bench), &error);
  ck_assert_msg (reply != NULL, "%s", error->message);
  ck_assert_int_eq (reply->type, THECAL_MSG_READ_STATUS);
  ck_assert_int_eq (reply->status.reservoir_estimate_nl, 12000000);
}
END_TEST

START_TEST (test_wand_local)
{
  g_autoptr (GError) error = NULL;
  g_autofree ThecalMessage *info = NULL;
  g_autofree ThecalMessage *link_quality = NULL;
  ThecalMessage request;

  thecal_message_init (&request, THECAL_MSG_WAND_INFO, FALSE);
  info = bench_request (&bench, &request, &error);
  ck_assert_msg (info != NULL, "%s", error->message);
  ck_assert_str_eq (info->wand_info.serial, "SIM-WAND-0001");
  thecal_message_init (&request, THECAL_MSG_WAND_LINK, FALSE);
  link_quality = bench_request (&bench, &request, &error);
  ck_assert_msg (link_quality != NULL, "%s", error->message);
  ck_assert (link_quality->wand_link.pump_in_range);
  ck_assert_int_eq (thecal_loopback_transport_get_stats (bench.loopback)->frames_to_wand, 2);
  ck_assert_int_eq (thecal_loopback_transport_get_stats (bench.loopback)->frames_to_pump, 0);
}
END_TEST

START_TEST (test_no_pump_in_range)
{
  g_autoptr (GError) error = NULL;
  ThecalProtoIdentity identity;
  gint64 start = thecal_clock_now_ms (bench.clock);

  thecal_loopback_transport_set_pump_in_range (bench.loopback, FALSE);
  thecal_pump_link_identify_async (bench.link, NULL, bench_done, bench_cb (&bench));
  ck_assert (!thecal_pump_link_identify_finish (bench.link, bench_wait (&bench), &identity, &error));
  ck_assert (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_NO_PUMP));
  ck_assert_msg (strstr (error->message, "No pump in range") != NULL, "%s", error->message);
  /* 4 transmissions 1 s apart, then 1 s for the last: 4 s of simulated time, no waiting */
  ck_assert_int_eq (thecal_clock_now_ms (bench.clock) - start, 4000);
  ck_assert_int_eq (thecal_pump_link_get_stats (bench.link)->retransmissions, 3);
}
END_TEST

START_TEST (test_busy)
{
  g_autoptr (GError) error = NULL;
  Bench second;
  ThecalProtoIdentity identity;

  memset (&second, 0, sizeof second);
  second.clock = bench.clock;
  second.context = bench.context;
  thecal_pump_link_identify_async (bench.link, NULL, bench_done, bench_cb (&bench));
  thecal_pump_link_identify_async (bench.link, NULL, bench_done, bench_cb (&second));
  ck_assert (!thecal_pump_link_identify_finish (bench.link, bench_wait (&second), &identity, &error));
  ck_assert (g_error_matches (error, THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_BUSY_LOCAL));
  ck_assert (thecal_pump_link_is_busy (bench.link));
  ck_assert (thecal_pump_link_identify_finish (bench.link, bench_wait (&bench), &identity, NULL));
  ck_assert (!thecal_pump_link_is_busy (bench.link));
  g_clear_object (&second.result);
}
END_TEST

START_TEST (test_cancel)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  ThecalPumpInterrogation *in;

  thecal_loopback_transport_set_latency_ms (bench.loopback, 50);
  thecal_pump_link_interrogate_async (bench.link, 1, 0, 0, cancellable, bench_done, bench_cb (&bench));
  /* let the first frames go, then cancel */
  for (int i = 0; i < 3; i++)
    ck_assert (thecal_clock_iterate (bench.clock, bench.context));
  g_cancellable_cancel (cancellable);
  in = thecal_pump_link_interrogate_finish (bench.link, bench_wait (&bench), &error);
  ck_assert_ptr_null (in);
  ck_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  ck_assert (!thecal_pump_link_is_busy (bench.link));
  /* the link works afterwards */
  g_clear_error (&error);
  in = bench_interrogate (&bench, 1, 0, 0, &error);
  ck_assert_msg (in != NULL, "%s", error->message);
  thecal_pump_interrogation_free (in);
}
END_TEST

START_TEST (test_lost_wand_and_a_new_one)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalLoopbackTransport) second = NULL;
  ThecalPumpInterrogation *in;
  ThecalProtoIdentity identity;

  /* the wand goes during an operation: it fails, and so does the next one */
  thecal_pump_link_identify_async (bench.link, NULL, bench_done, bench_cb (&bench));
  {
    g_autoptr (GError) reason = g_error_new_literal (THECAL_WAND_ERROR, THECAL_WAND_ERROR_UNPLUGGED, "Wand unplugged");

    thecal_transport_emit_disconnected (THECAL_TRANSPORT (bench.loopback), reason);
  }
  ck_assert (!thecal_pump_link_identify_finish (bench.link, bench_wait (&bench), &identity, &error));
  ck_assert_msg (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_UNPLUGGED), "%s", error->message);
  ck_assert (!thecal_pump_link_is_connected (bench.link));
  g_clear_error (&error);
  in = bench_interrogate (&bench, 1, 0, 0, &error);
  ck_assert_ptr_null (in);
  ck_assert (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_UNPLUGGED));
  g_clear_error (&error);

  /* a new wand to the same pump */
  second = thecal_loopback_transport_new (bench.pump, NULL, bench.clock);
  ck_assert (thecal_pump_link_set_transport (bench.link, THECAL_TRANSPORT (second), NULL));
  ck_assert (thecal_pump_link_is_connected (bench.link));
  in = bench_interrogate (&bench, 1, 0, 0, &error);
  ck_assert_msg (in != NULL, "%s", error->message);
  thecal_pump_interrogation_free (in);
  /* the link must let go of the second transport before the pump is freed */
  g_clear_object (&bench.link);
}
END_TEST

START_TEST (test_latency_costs_simulated_time)
{
  g_autoptr (GError) error = NULL;
  ThecalProtoIdentity identity;
  gint64 start = thecal_clock_now_ms (bench.clock);

  thecal_loopback_transport_set_latency_ms (bench.loopback, 30);
  thecal_pump_link_identify_async (bench.link, NULL, bench_done, bench_cb (&bench));
  ck_assert (thecal_pump_link_identify_finish (bench.link, bench_wait (&bench), &identity, &error));
  ck_assert_int_eq (thecal_clock_now_ms (bench.clock) - start, 60);
}
END_TEST

/* ---- the wand's link quality, beside the operations ------------------------------------------- */

static gboolean
read_wand_link (Bench *b, ThecalWandLink *wand_link, GError **error)
{
  thecal_pump_link_read_wand_link_async (b->link, NULL, bench_done, bench_cb (b));
  return thecal_pump_link_read_wand_link_finish (b->link, bench_wait (b), wand_link, error);
}

/* Idle: the wand answers itself; nothing reaches the pump, the link is never busy. */
START_TEST (test_wand_link_idle)
{
  g_autoptr (GError) error = NULL;
  ThecalWandLink wand_link;

  ck_assert_msg (read_wand_link (&bench, &wand_link, &error), "%s", error->message);
  ck_assert_int_eq (wand_link.rssi_dbm, -40);
  ck_assert_int_eq (wand_link.quality_percent, 100);
  ck_assert (wand_link.pump_in_range);
  ck_assert_int_eq (thecal_loopback_transport_get_stats (bench.loopback)->frames_to_wand, 1);
  ck_assert_int_eq (thecal_loopback_transport_get_stats (bench.loopback)->frames_to_pump, 0);
  ck_assert_uint_eq (thecal_pump_link_get_stats (bench.link)->operations, 0);
  /* out of range: the wand says so, still without the pump */
  thecal_loopback_transport_set_pump_in_range (bench.loopback, FALSE);
  ck_assert_msg (read_wand_link (&bench, &wand_link, &error), "%s", error->message);
  ck_assert (!wand_link.pump_in_range);
  ck_assert_int_eq (wand_link.quality_percent, 0);
  ck_assert_int_eq (thecal_loopback_transport_get_stats (bench.loopback)->frames_to_pump, 0);
}
END_TEST

/* During an interrogation: the query goes in turn with its frames; both end well, and the
 * interrogation reads what it reads without the query. */
START_TEST (test_wand_link_during_operation)
{
  g_autoptr (GError) error = NULL;
  Bench second;
  ThecalWandLink wand_link;
  ThecalPumpInterrogation *in;

  memset (&second, 0, sizeof second);
  second.clock = bench.clock;
  second.context = bench.context;
  thecal_loopback_transport_set_latency_ms (bench.loopback, 20);
  thecal_pump_link_interrogate_async (bench.link, 1, 0, 0, NULL, bench_done, bench_cb (&bench));
  for (int i = 0; i < 3; i++)
    ck_assert (thecal_clock_iterate (bench.clock, bench.context));
  ck_assert (thecal_pump_link_is_busy (bench.link));
  thecal_pump_link_read_wand_link_async (bench.link, NULL, bench_done, bench_cb (&second));
  ck_assert_msg (thecal_pump_link_read_wand_link_finish (bench.link, bench_wait (&second), &wand_link, &error), "%s",
                 error->message);
  ck_assert_int_eq (wand_link.quality_percent, 100);
  ck_assert (thecal_pump_link_is_busy (bench.link)); /* the interrogation goes on */
  in = thecal_pump_link_interrogate_finish (bench.link, bench_wait (&bench), &error);
  ck_assert_msg (in != NULL, "%s", error->message);
  ck_assert_int_eq (in->retransmissions, 0);
  ck_assert_uint_eq (thecal_pump_link_get_stats (bench.link)->frames_ignored, 0);
  thecal_pump_interrogation_free (in);
  g_clear_object (&second.result);
}
END_TEST

/* One query at a time; a cancelled one ends at once, its late answer is nobody's and changes
 * nothing; the next query and the next operation work. */
START_TEST (test_wand_link_busy_and_cancel)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Bench second;
  ThecalWandLink wand_link;
  ThecalProtoIdentity identity;

  memset (&second, 0, sizeof second);
  second.clock = bench.clock;
  second.context = bench.context;
  thecal_loopback_transport_set_latency_ms (bench.loopback, 20);
  thecal_pump_link_read_wand_link_async (bench.link, cancellable, bench_done, bench_cb (&bench));
  thecal_pump_link_read_wand_link_async (bench.link, NULL, bench_done, bench_cb (&second));
  ck_assert (!thecal_pump_link_read_wand_link_finish (bench.link, bench_wait (&second), &wand_link, &error));
  ck_assert (g_error_matches (error, THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_BUSY_LOCAL));
  g_clear_error (&error);
  g_cancellable_cancel (cancellable);
  ck_assert (!thecal_pump_link_read_wand_link_finish (bench.link, bench_wait (&bench), &wand_link, &error));
  ck_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_clear_error (&error);
  /* the late answer arrives during the next operation, which ignores it */
  thecal_pump_link_identify_async (bench.link, NULL, bench_done, bench_cb (&bench));
  ck_assert_msg (thecal_pump_link_identify_finish (bench.link, bench_wait (&bench), &identity, &error), "%s", error->message);
  ck_assert_uint_eq (thecal_pump_link_get_stats (bench.link)->retransmissions, 0);
  ck_assert_msg (read_wand_link (&bench, &wand_link, &error), "%s", error->message);
  ck_assert_int_eq (thecal_loopback_transport_get_stats (bench.loopback)->frames_to_wand, 2);
  g_clear_object (&second.result);
}
END_TEST

/* Runs on the bench's context: a wand that relays but never answers WAND_LINK itself. */
static ThecalFaultAction
drop_wand_link (ThecalFaultTransport *fault, ThecalFaultDirection direction, guint64 index, GBytes *frame, gpointer user_data)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (frame, &size);

  (void) fault;
  (void) index;
  (void) user_data;
  return direction == THECAL_FAULT_TO_PUMP && size > 3 && data[3] == THECAL_MSG_WAND_LINK ? THECAL_FAULT_ACTION_DROP
                                                                                          : THECAL_FAULT_ACTION_DELIVER;
}

/* A silent wand: the query fails after 1 s of (simulated) time, once, without a retransmission;
 * the operations are not touched. */
START_TEST (test_wand_link_silent_wand)
{
  g_autoptr (GError) error = NULL;
  ThecalFaultConfig faults = { .seed = 1 };
  ThecalWandLink wand_link;
  ThecalPumpInterrogation *in;
  gint64 start;

  bench_clear (&bench);
  bench_init_faulty (&bench, &rx5, &faults);
  thecal_fault_transport_set_policy (bench.fault, drop_wand_link, NULL, NULL);
  start = thecal_clock_now_ms (bench.clock);
  ck_assert (!read_wand_link (&bench, &wand_link, &error));
  ck_assert_msg (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_IO), "%s", error->message);
  ck_assert_int_eq (thecal_clock_now_ms (bench.clock) - start, 1000);
  ck_assert_uint_eq (thecal_fault_transport_get_stats (bench.fault)->dropped, 1);
  g_clear_error (&error);
  in = bench_interrogate (&bench, 1, 0, 0, &error);
  ck_assert_msg (in != NULL, "%s", error->message);
  thecal_pump_interrogation_free (in);
}
END_TEST

/* The wand goes during a query: it fails with the wand's reason; so does the next one, until a
 * new wand is given. */
START_TEST (test_wand_link_unplugged)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) reason = g_error_new_literal (THECAL_WAND_ERROR, THECAL_WAND_ERROR_UNPLUGGED, "Wand unplugged");
  g_autoptr (ThecalLoopbackTransport) second = NULL;
  ThecalWandLink wand_link;

  thecal_loopback_transport_set_latency_ms (bench.loopback, 20);
  thecal_pump_link_read_wand_link_async (bench.link, NULL, bench_done, bench_cb (&bench));
  thecal_transport_emit_disconnected (THECAL_TRANSPORT (bench.loopback), reason);
  ck_assert (!thecal_pump_link_read_wand_link_finish (bench.link, bench_wait (&bench), &wand_link, &error));
  ck_assert_msg (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_UNPLUGGED), "%s", error->message);
  g_clear_error (&error);
  ck_assert (!read_wand_link (&bench, &wand_link, &error));
  ck_assert (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_UNPLUGGED));
  g_clear_error (&error);
  second = thecal_loopback_transport_new (bench.pump, NULL, bench.clock);
  ck_assert (thecal_pump_link_set_transport (bench.link, THECAL_TRANSPORT (second), NULL));
  ck_assert_msg (read_wand_link (&bench, &wand_link, &error), "%s", error->message);
  ck_assert (wand_link.pump_in_range);
  g_clear_object (&bench.link); /* lets go of the second transport before the pump is freed */
}
END_TEST

static Suite *
pump_link_suite (void)
{
  Suite *suite = suite_create ("pump-link");

  THECAL_TEST_TCASE (suite, "sessions", setup, teardown, 0,
                     test_identify,
                     test_open_session,
                     test_wrong_pump,
                     test_no_key_and_wrong_key);
  THECAL_TEST_TCASE (suite, "reading", setup, teardown, 0,
                     test_interrogate,
                     test_log_of_1000_events,
                     test_read_status_typed,
                     test_wand_local);
  THECAL_TEST_TCASE (suite, "changes", setup, teardown, 0,
                     test_program_confirmed,
                     test_program_refused_by_pump_limit,
                     test_program_stale_is_conflict,
                     test_other_requests);
  THECAL_TEST_TCASE (suite, "trouble", setup, teardown, 0,
                     test_no_pump_in_range,
                     test_busy,
                     test_cancel,
                     test_lost_wand_and_a_new_one,
                     test_latency_costs_simulated_time);
  THECAL_TEST_TCASE (suite, "wand", setup, teardown, 0,
                     test_wand_link_idle,
                     test_wand_link_during_operation,
                     test_wand_link_busy_and_cancel,
                     test_wand_link_silent_wand,
                     test_wand_link_unplugged);
  return suite;
}

THECAL_TEST_MAIN (pump_link_suite)
