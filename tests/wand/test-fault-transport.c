/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-fault-transport.c: the fault injector: each action does what it says, the rates follow
 * the probabilities, and a run is reproducible from its seed (the same trace, the same outcomes,
 * the same pump), while another seed gives another run.
 */
#include "config.h"

#include "thecal-frame.h"
#include "thecal-test.h"
#include "wand-test-util.h"

static Bench bench;
static ThecalPrescription rx5;

static void
setup (void)
{
  test_rx_morphine (&rx5, 5);
}

static void
teardown (void)
{
}

static GBytes *
wand_info_frame (guint32 seq)
{
  return bench_request_frame (THECAL_MSG_WAND_INFO, seq);
}

static void
send_frame (GBytes *frame)
{
  bench_send (&bench, THECAL_TRANSPORT (bench.fault), frame);
}

static GBytes *
receive_frame (gint timeout_ms, GError **error)
{
  return bench_receive (&bench, THECAL_TRANSPORT (bench.fault), timeout_ms, NULL, error);
}

static ThecalFaultAction
always (ThecalFaultTransport *self, ThecalFaultDirection direction, guint64 index, GBytes *frame, gpointer user_data)
{
  (void) self;
  (void) index;
  (void) frame;
  return direction == THECAL_FAULT_FROM_PUMP ? (ThecalFaultAction) GPOINTER_TO_INT (user_data) : THECAL_FAULT_ACTION_DELIVER;
}

/* The clean answer to WAND_INFO, for comparison. */
static GBytes *
clean_answer (void)
{
  g_autoptr (GBytes) request = wand_info_frame (1);

  thecal_fault_transport_set_policy (bench.fault, NULL, NULL, NULL);
  send_frame (request);
  return receive_frame (-1, NULL);
}

START_TEST (test_config_valid)
{
  ThecalFaultConfig config = { .drop_ppm = 500000, .corrupt_ppm = 500000 };

  ck_assert (thecal_fault_config_valid (&config));
  config.duplicate_ppm = 1;
  ck_assert (!thecal_fault_config_valid (&config));
  config = (ThecalFaultConfig){ .delay_min_ms = 10, .delay_max_ms = 5 };
  ck_assert (!thecal_fault_config_valid (&config));
  ck_assert (!thecal_fault_config_valid (NULL));
  ck_assert_str_eq (thecal_fault_action_name (THECAL_FAULT_ACTION_CORRUPT), "corrupt");
}
END_TEST

START_TEST (test_actions)
{
  const ThecalFaultConfig config = { .seed = 3, .delay_min_ms = 700, .delay_max_ms = 700 };
  g_autoptr (GBytes) clean = NULL;
  g_autoptr (GBytes) request = wand_info_frame (1);
  g_autoptr (GError) error = NULL;
  gint64 start;

  bench_init_faulty (&bench, &rx5, &config);
  clean = clean_answer ();
  ck_assert_ptr_nonnull (clean);

  /* corrupt: 1 to 3 bits differ */
  {
    g_autoptr (GBytes) bad = NULL;
    const guint8 *a = g_bytes_get_data (clean, NULL), *b;
    int bits = 0;

    thecal_fault_transport_set_policy (bench.fault, always, GINT_TO_POINTER (THECAL_FAULT_ACTION_CORRUPT), NULL);
    send_frame (request);
    bad = receive_frame (-1, NULL);
    ck_assert_int_eq (g_bytes_get_size (bad), g_bytes_get_size (clean));
    b = g_bytes_get_data (bad, NULL);
    for (gsize i = 0; i < g_bytes_get_size (bad); i++)
      bits += __builtin_popcount ((unsigned) (a[i] ^ b[i]));
    ck_assert_int_ge (bits, 1);
    ck_assert_int_le (bits, 3);
  }
  /* duplicate: the same frame twice */
  {
    g_autoptr (GBytes) one = NULL;
    g_autoptr (GBytes) two = NULL;

    thecal_fault_transport_set_policy (bench.fault, always, GINT_TO_POINTER (THECAL_FAULT_ACTION_DUPLICATE), NULL);
    send_frame (request);
    one = receive_frame (-1, NULL);
    two = receive_frame (0, NULL);
    ck_assert (g_bytes_equal (one, clean) && g_bytes_equal (two, clean));
  }
  /* delay: 700 ms of simulated time */
  {
    g_autoptr (GBytes) late = NULL;

    thecal_fault_transport_set_policy (bench.fault, always, GINT_TO_POINTER (THECAL_FAULT_ACTION_DELAY), NULL);
    start = thecal_clock_now_ms (bench.clock);
    send_frame (request);
    late = receive_frame (-1, NULL);
    ck_assert (g_bytes_equal (late, clean));
    ck_assert_int_eq (thecal_clock_now_ms (bench.clock) - start, 700);
  }
  /* drop: nothing comes */
  {
    g_autoptr (GBytes) none = NULL;

    thecal_fault_transport_set_policy (bench.fault, always, GINT_TO_POINTER (THECAL_FAULT_ACTION_DROP), NULL);
    send_frame (request);
    none = receive_frame (2000, &error);
    ck_assert_ptr_null (none);
    ck_assert (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_NO_PUMP));
  }
  {
    const ThecalFaultStats *stats = thecal_fault_transport_get_stats (bench.fault);

    ck_assert_int_eq (stats->corrupted, 1);
    ck_assert_int_eq (stats->duplicated, 1);
    ck_assert_int_eq (stats->delayed, 1);
    ck_assert_int_eq (stats->dropped, 1);
    ck_assert_int_eq (stats->frames[THECAL_FAULT_TO_PUMP], 5);
    ck_assert_int_eq (stats->frames[THECAL_FAULT_FROM_PUMP], 5);
  }
  bench_clear (&bench);
}
END_TEST

static void
on_disconnected (ThecalTransport *transport, const GError *reason, gpointer user_data)
{
  (void) transport;
  *(int *) user_data = reason->code;
}

START_TEST (test_disconnect)
{
  const ThecalFaultConfig config = { .seed = 4 };
  g_autoptr (GBytes) request = wand_info_frame (1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) error2 = NULL;
  GBytes *answer;
  int code = -1;

  bench_init_faulty (&bench, &rx5, &config);
  g_signal_connect (bench.fault, "disconnected", G_CALLBACK (on_disconnected), &code);
  thecal_fault_transport_set_policy (bench.fault, always, GINT_TO_POINTER (THECAL_FAULT_ACTION_DISCONNECT), NULL);
  send_frame (request);
  /* the pending receive fails; the signal comes from an idle on the owning context */
  answer = receive_frame (-1, &error);
  if (answer != NULL)
    {
      /* the coin said the answer got out before the link went: the next receive fails */
      g_bytes_unref (answer);
      g_clear_error (&error);
      answer = receive_frame (-1, &error);
    }
  ck_assert_ptr_null (answer);
  ck_assert (g_error_matches (error, THECAL_WAND_ERROR, THECAL_WAND_ERROR_DISCONNECTED));
  while (code < 0)
    ck_assert (thecal_clock_iterate (bench.clock, bench.context));
  ck_assert_int_eq (code, THECAL_WAND_ERROR_DISCONNECTED);
  ck_assert_int_eq (thecal_fault_transport_get_stats (bench.fault)->disconnects, 1);
  /* the link does not come back */
  thecal_transport_send_async (THECAL_TRANSPORT (bench.fault), request, NULL, bench_done, bench_cb (&bench));
  ck_assert (!thecal_transport_send_finish (THECAL_TRANSPORT (bench.fault), bench_wait (&bench), &error2));
  ck_assert (g_error_matches (error2, THECAL_WAND_ERROR, THECAL_WAND_ERROR_DISCONNECTED));
  bench_clear (&bench);
}
END_TEST

/* 20 000 frames to the wand at 5 % drop, 1 % corruption, 2 % duplicates: the decisions on them
 * (the trace; the wand's answers are judged too, and counted apart) follow the probabilities. */
START_TEST (test_rates)
{
  const ThecalFaultConfig config = { .seed = 11, .drop_ppm = 50000, .corrupt_ppm = 10000, .duplicate_ppm = 20000 };
  g_autoptr (GBytes) request = wand_info_frame (1);
  GArray *trace;
  guint64 counts[THECAL_FAULT_N_ACTIONS] = { 0 };

  bench_init_faulty (&bench, &rx5, &config);
  for (int i = 0; i < 20000; i++)
    send_frame (request);
  ck_assert_int_eq (thecal_fault_transport_get_stats (bench.fault)->frames[THECAL_FAULT_TO_PUMP], 20000);
  trace = thecal_fault_transport_get_trace (bench.fault);
  for (guint i = 0; i < trace->len; i++)
    {
      const ThecalFaultEvent *event = &g_array_index (trace, ThecalFaultEvent, i);

      if (event->direction == THECAL_FAULT_TO_PUMP)
        counts[event->action]++;
    }
  /* expected 1 000, 200, 400; binomial standard deviations about 31, 14, 20: within 4 of them */
  ck_assert_int_ge (counts[THECAL_FAULT_ACTION_DROP], 1000 - 124);
  ck_assert_int_le (counts[THECAL_FAULT_ACTION_DROP], 1000 + 124);
  ck_assert_int_ge (counts[THECAL_FAULT_ACTION_CORRUPT], 200 - 56);
  ck_assert_int_le (counts[THECAL_FAULT_ACTION_CORRUPT], 200 + 56);
  ck_assert_int_ge (counts[THECAL_FAULT_ACTION_DUPLICATE], 400 - 80);
  ck_assert_int_le (counts[THECAL_FAULT_ACTION_DUPLICATE], 400 + 80);
  ck_assert_int_eq (counts[THECAL_FAULT_ACTION_DELAY] + counts[THECAL_FAULT_ACTION_DISCONNECT], 0);
  bench_clear (&bench);
}
END_TEST

/* ---- determinism ------------------------------------------------------------------------------- */

typedef struct
{
  GArray *trace;
  GArray *outcomes; /* ThecalProgramOutcome per exchange, resolutions included */
  ThecalChecksum final;
  ThecalFaultStats stats;
  gint64 final_clock_ms;
} Run;

static void
run_clear (Run *run)
{
  g_array_unref (run->trace);
  g_array_unref (run->outcomes);
}

/* Thirty programming exchanges over a bad link (10 % drop, 5 % corruption, 2 % duplicates,
 * 2 % delays), on a virtual clock; everything recorded. */
static Run
record_run (guint64 seed)
{
  const ThecalFaultConfig config = {
    .seed = seed, .drop_ppm = 100000, .corrupt_ppm = 50000, .duplicate_ppm = 20000, .delay_ppm = 20000, .delay_min_ms = 10, .delay_max_ms = 1500
  };
  Run run;

  run.outcomes = g_array_new (FALSE, FALSE, sizeof (ThecalProgramOutcome));
  bench_init_faulty (&bench, &rx5, &config);
  for (int i = 0; i < 30; i++)
    {
      ThecalPrescription rx;
      ThecalChecksum reviewed = bench_active_checksum (&bench);
      ThecalProgramReport report;

      test_rx_morphine (&rx, 3 + i % 5);
      if (!bench_program (&bench, &rx, &reviewed, &report, NULL))
        report.outcome = THECAL_PROGRAM_NONE;
      g_array_append_val (run.outcomes, report.outcome);
      for (int tries = 0; report.outcome == THECAL_PROGRAM_UNCERTAIN && tries < 50; tries++)
        {
          ck_assert (bench_resolve (&bench, &report, NULL));
          g_array_append_val (run.outcomes, report.outcome);
        }
    }
  run.trace = g_array_ref (thecal_fault_transport_get_trace (bench.fault));
  run.stats = *thecal_fault_transport_get_stats (bench.fault);
  run.final = bench_active_checksum (&bench);
  run.final_clock_ms = thecal_clock_now_ms (bench.clock);
  bench_clear (&bench);
  return run;
}

START_TEST (test_same_seed_same_run)
{
  Run a = record_run (2024);
  Run b = record_run (2024);
  Run c = record_run (2025);

  ck_assert_int_gt (a.trace->len, 300);
  ck_assert_int_gt (a.stats.dropped, 0);
  ck_assert_int_gt (a.stats.corrupted, 0);
  /* the same seed: byte for byte the same decisions, outcomes, time and pump */
  ck_assert_int_eq (a.trace->len, b.trace->len);
  ck_assert_mem_eq (a.trace->data, b.trace->data, a.trace->len * sizeof (ThecalFaultEvent));
  ck_assert_int_eq (a.outcomes->len, b.outcomes->len);
  ck_assert_mem_eq (a.outcomes->data, b.outcomes->data, a.outcomes->len * sizeof (ThecalProgramOutcome));
  ck_assert (thecal_checksum_equal (&a.final, &b.final));
  ck_assert_int_eq (a.final_clock_ms, b.final_clock_ms);
  ck_assert_mem_eq (&a.stats, &b.stats, sizeof a.stats);
  /* another seed: another run */
  ck_assert (c.trace->len != a.trace->len || memcmp (c.trace->data, a.trace->data, a.trace->len * sizeof (ThecalFaultEvent)) != 0);
  run_clear (&a);
  run_clear (&b);
  run_clear (&c);
}
END_TEST

static Suite *
fault_suite (void)
{
  Suite *suite = suite_create ("fault-transport");

  THECAL_TEST_TCASE (suite, "faults", setup, teardown, 0,
                     test_config_valid,
                     test_actions,
                     test_disconnect,
                     test_rates,
                     test_same_seed_same_run);
  return suite;
}

THECAL_TEST_MAIN (fault_suite)
