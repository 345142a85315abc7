/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-soak.c: 1 000 programming exchanges through the pump link, the fault injector (5 % drops,
 * 1 % corruption, random disconnects, fixed seeds) and the loopback to a simulated pump, in
 * simulated time (a virtual clock: the retransmission timeouts cost no waiting).
 *
 * The claims (issue 4, "A soak test"):
 *  - zero cases where the programmer believes a state the pump is not in: after every report,
 *    CONFIRMED means the pump's engine runs the new prescription and FAILED means it runs the
 *    old one, unchanged;
 *  - every exchange ends confirmed, failed (pump unchanged) or uncertain, and every uncertain one
 *    is resolved by reading the pump again (over the same bad link);
 *  - no change is applied twice: the pump applied exactly as many prescriptions as were
 *    confirmed.
 * The counts are printed as TAP diagnostics ("# soak: ...").
 */
#include "config.h"

#include <stdio.h>

#include "thecal-test-random.h"
#include "thecal-test.h"
#include "wand-test-util.h"

#define SOAK_EXCHANGES 1000
#define SOAK_SEED UINT64_C (20260105)

static Bench bench;

typedef struct
{
  int confirmed;          /* reported CONFIRMED at once */
  int failed;             /* reported FAILED at once (the procedure ran) */
  int not_started;        /* could not start (no answer to IDENTIFY, a disconnect): pump unchanged */
  int uncertain;          /* reported UNCERTAIN */
  int uncertain_acked;    /* ... with the COMMIT acknowledged (the read-back lost) */
  int resolved_confirmed; /* UNCERTAIN resolved by reading: the new prescription runs */
  int resolved_failed;    /* ... the old one runs */
  int resolve_reads;      /* resolve operations needed (some fail on the bad link too) */
  int conflicts;
  int mismatches; /* the programmer believed a state the pump was not in: must stay 0 */
  int reconnects;
  guint64 disconnects, dropped, corrupted, frames;
} SoakCounts;

static SoakCounts counts;
static guint64 fault_seed;
static ThecalFaultConfig soak_faults;
static GPtrArray *old_faults;

static void
setup (void)
{
  ThecalPrescription rx;

  memset (&counts, 0, sizeof counts);
  soak_faults = (ThecalFaultConfig){ .seed = SOAK_SEED, .drop_ppm = 50000, .corrupt_ppm = 10000, .disconnect_ppm = 2000 };
  fault_seed = SOAK_SEED;
  test_rx_morphine (&rx, 5);
  bench_init_faulty (&bench, &rx, &soak_faults);
  thecal_fault_transport_set_record_trace (bench.fault, FALSE);
  thecal_loopback_transport_set_latency_ms (bench.loopback, 20);
  old_faults = g_ptr_array_new_with_free_func (g_object_unref);
}

static void
add_fault_stats (ThecalFaultTransport *fault)
{
  const ThecalFaultStats *stats = thecal_fault_transport_get_stats (fault);

  counts.disconnects += stats->disconnects;
  counts.dropped += stats->dropped;
  counts.corrupted += stats->corrupted;
  counts.frames += stats->frames[0] + stats->frames[1];
}

static void
teardown (void)
{
  g_clear_pointer (&old_faults, g_ptr_array_unref);
  bench_clear (&bench);
}

/* The wand comes back: a new loopback to the same pump behind a new injector (the next seed). */
static void
reconnect_if_needed (void)
{
  g_autoptr (ThecalLoopbackTransport) loopback = NULL;
  ThecalFaultConfig config = soak_faults;

  if (thecal_pump_link_is_connected (bench.link))
    return;
  counts.reconnects++;
  loopback = thecal_loopback_transport_new (bench.pump, NULL, bench.clock);
  thecal_loopback_transport_set_latency_ms (loopback, 20);
  config.seed = ++fault_seed;
  add_fault_stats (bench.fault);
  g_ptr_array_add (old_faults, bench.fault);
  bench.fault = thecal_fault_transport_new (THECAL_TRANSPORT (loopback), &config, bench.clock);
  ck_assert (thecal_pump_link_set_transport (bench.link, THECAL_TRANSPORT (bench.fault), NULL));
}

/* The belief against the truth. */
static void
check_belief (ThecalProgramOutcome outcome, const ThecalPrescription *old_rx, const ThecalPrescription *new_rx, int exchange)
{
  const ThecalPrescription *truth = thecal_sim_pump_active (bench.pump);
  gboolean ok = TRUE;

  switch (outcome)
    {
    case THECAL_PROGRAM_CONFIRMED:
      ok = thecal_prescription_equal (truth, new_rx);
      break;
    case THECAL_PROGRAM_FAILED:
      ok = thecal_prescription_equal (truth, old_rx);
      break;
    case THECAL_PROGRAM_CONFLICT:
      ok = !thecal_prescription_equal (truth, new_rx) && !thecal_prescription_equal (truth, old_rx);
      break;
    case THECAL_PROGRAM_UNCERTAIN: /* believes nothing: nothing to contradict */
      break;
    case THECAL_PROGRAM_NONE:
    default:
      ok = FALSE;
      break;
    }
  if (!ok)
    {
      counts.mismatches++;
      ck_abort_msg ("exchange %d: the programmer says %s and the pump runs %s", exchange, thecal_program_outcome_name (outcome),
                    thecal_prescription_equal (truth, new_rx) ? "the new prescription" : "the old one");
    }
}

START_TEST (test_soak)
{
  ThecalPrescription believed;
  ThecalChecksum believed_checksum;
  guint64 gaps = SOAK_SEED;
  gint64 wall_start = g_get_monotonic_time ();
  gint64 sim_start = thecal_clock_now_ms (bench.clock);
  int confirmed_total;

  /* the clinician starts from what the pump runs (its checksum, as an interrogation shows) */
  believed = *thecal_sim_pump_active (bench.pump);
  ck_assert (thecal_prescription_checksum (&believed, &believed_checksum, NULL));

  for (int i = 0; i < SOAK_EXCHANGES; i++)
    {
      g_autoptr (GError) error = NULL;
      ThecalPrescription next;
      ThecalProgramReport report;
      ThecalProgramOutcome outcome;

      /* 0 to 90 s between exchanges: sessions (60 s) expire now and then */
      thecal_clock_advance_to (bench.clock, thecal_clock_now_ms (bench.clock) + (gint64) (thecal_test_lcg_bits (&gaps) % 90001));
      /* 3 to 8 mg/day, never the dose that runs */
      do
        test_rx_morphine (&next, 3 + (int64_t) (thecal_test_lcg_bits (&gaps) % 6));
      while (thecal_prescription_equal (&next, &believed));

      reconnect_if_needed ();
      if (!bench_program (&bench, &next, &believed_checksum, &report, &error))
        {
          /* nothing that changes the pump was sent */
          ck_assert_msg (!g_error_matches (error, THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_BUSY_LOCAL), "%s", error->message);
          counts.not_started++;
          check_belief (THECAL_PROGRAM_FAILED, &believed, &next, i);
          continue;
        }
      outcome = report.outcome;
      check_belief (outcome, &believed, &next, i);
      switch (outcome)
        {
        case THECAL_PROGRAM_CONFIRMED:
          counts.confirmed++;
          break;
        case THECAL_PROGRAM_FAILED:
          counts.failed++;
          break;
        case THECAL_PROGRAM_UNCERTAIN:
          counts.uncertain++;
          if (report.commit_acknowledged)
            counts.uncertain_acked++;
          ck_assert (report.commit_sent);
          /* resolved by reading the pump again, over the same bad link */
          for (int tries = 0; outcome == THECAL_PROGRAM_UNCERTAIN; tries++)
            {
              g_autoptr (GError) resolve_error = NULL;

              ck_assert_msg (tries < 100, "exchange %d: still uncertain after 100 reads", i);
              reconnect_if_needed ();
              counts.resolve_reads++;
              if (bench_resolve (&bench, &report, &resolve_error))
                outcome = report.outcome;
              check_belief (outcome, &believed, &next, i);
            }
          if (outcome == THECAL_PROGRAM_CONFIRMED)
            counts.resolved_confirmed++;
          else if (outcome == THECAL_PROGRAM_FAILED)
            counts.resolved_failed++;
          break;
        case THECAL_PROGRAM_CONFLICT:
        case THECAL_PROGRAM_NONE:
        default:
          counts.conflicts++;
          break;
        }
      if (outcome == THECAL_PROGRAM_CONFIRMED)
        {
          believed = next;
          ck_assert (thecal_prescription_checksum (&believed, &believed_checksum, NULL));
        }
    }
  add_fault_stats (bench.fault);

  confirmed_total = counts.confirmed + counts.resolved_confirmed;
  printf ("# soak: %d exchanges, seed %" G_GUINT64_FORMAT ", 5 %% drops, 1 %% corruption, 0.2 %% disconnects per frame\n",
          SOAK_EXCHANGES, SOAK_SEED);
  printf ("# soak: confirmed %d, failed %d (+%d not started), uncertain %d (%d after the COMMIT acknowledgement)\n",
          counts.confirmed, counts.failed, counts.not_started, counts.uncertain, counts.uncertain_acked);
  printf ("# soak: uncertain resolved by reading: %d confirmed, %d failed, in %d reads; conflicts %d; mismatches %d\n",
          counts.resolved_confirmed, counts.resolved_failed, counts.resolve_reads, counts.conflicts, counts.mismatches);
  printf ("# soak: frames %" G_GUINT64_FORMAT ", dropped %" G_GUINT64_FORMAT ", corrupted %" G_GUINT64_FORMAT
          ", disconnects %" G_GUINT64_FORMAT " (%d reconnects), retransmissions %" G_GUINT64_FORMAT "\n",
          counts.frames, counts.dropped, counts.corrupted, counts.disconnects, counts.reconnects,
          thecal_pump_link_get_stats (bench.link)->retransmissions);
  printf ("# soak: pump applied %" G_GINT64_FORMAT " prescriptions; %.1f h simulated in %.2f s\n",
          thecal_sim_pump_stats (bench.pump)->prescriptions_set, (double) (thecal_clock_now_ms (bench.clock) - sim_start) / 3.6e6,
          (double) (g_get_monotonic_time () - wall_start) / 1e6);
  fflush (stdout);

  ck_assert_int_eq (counts.mismatches, 0);
  ck_assert_int_eq (counts.conflicts, 0);
  ck_assert_int_eq (counts.confirmed + counts.failed + counts.not_started + counts.uncertain, SOAK_EXCHANGES);
  ck_assert_int_eq (counts.uncertain, counts.resolved_confirmed + counts.resolved_failed);
  /* every confirmed change applied once, nothing else applied */
  ck_assert_int_eq (thecal_sim_pump_stats (bench.pump)->prescriptions_set, confirmed_total);
  /* the link was bad enough to matter */
  ck_assert_int_gt (counts.uncertain, 0);
  ck_assert_int_gt (counts.failed + counts.not_started, 0);
  ck_assert_int_gt (counts.disconnects, 0);
}
END_TEST

static Suite *
soak_suite (void)
{
  Suite *suite = suite_create ("soak");

  THECAL_TEST_TCASE (suite, "soak", setup, teardown, 120,
                     test_soak);
  return suite;
}

THECAL_TEST_MAIN (soak_suite)
