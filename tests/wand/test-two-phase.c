/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-two-phase.c: two-phase programming through the pump link, the fault injector and the
 * loopback to a simulated pump, with a loss at every step (docs/protocol.md §7 "Each loss
 * point"), a single fault at every frame, the link dying at every frame and a disconnect at every
 * frame. Every case compares the outcome the programmer reports with what the simulated pump
 * really runs (its engine), settles UNCERTAIN by reading the pump again over a working link, and
 * checks that no change was ever applied twice.
 */
#include "config.h"

#include "thecal-test.h"
#include "wand-test-util.h"

static Bench bench;
static ThecalPrescription rx5, rx6;
static const ThecalFaultConfig no_faults = { .seed = 1 };

static void
setup (void)
{
  test_rx_morphine (&rx5, 5);
  test_rx_morphine (&rx6, 6);
  bench_init_faulty (&bench, &rx5, &no_faults);
}

static void
teardown (void)
{
  bench_clear (&bench);
}

/* ---- policies ---------------------------------------------------------------------------------- */

typedef struct
{
  guint8 type;                    /* frames of this type ... */
  ThecalFaultDirection direction; /* ... in this direction ... */
  ThecalFaultAction action;       /* ... get this, every time */
} TypeRule;

static ThecalFaultAction
by_type (ThecalFaultTransport *self, ThecalFaultDirection direction, guint64 index, GBytes *frame, gpointer user_data)
{
  const TypeRule *rule = user_data;
  gsize size;
  const guint8 *data = g_bytes_get_data (frame, &size);

  (void) self;
  (void) index;
  if (size > 3 && data[3] == rule->type && direction == rule->direction)
    return rule->action;
  return THECAL_FAULT_ACTION_DELIVER;
}

typedef struct
{
  guint64 count; /* frames seen, both directions */
  guint64 at;    /* the frame to hit */
  gboolean from; /* every frame from @at on (the link dies) */
  ThecalFaultAction action;
} IndexRule;

static ThecalFaultAction
by_index (ThecalFaultTransport *self, ThecalFaultDirection direction, guint64 index, GBytes *frame, gpointer user_data)
{
  IndexRule *rule = user_data;

  (void) self;
  (void) direction;
  (void) index;
  (void) frame;
  rule->count++;
  if (rule->count == rule->at || (rule->from && rule->count > rule->at))
    return rule->action;
  return THECAL_FAULT_ACTION_DELIVER;
}

/* ---- the truth --------------------------------------------------------------------------------- */

/* A working link again: a new loopback and injector if the old one is gone, no faults either way. */
static void
heal (void)
{
  thecal_fault_transport_set_policy (bench.fault, NULL, NULL, NULL);
  if (!thecal_pump_link_is_connected (bench.link))
    {
      g_autoptr (ThecalLoopbackTransport) loopback = thecal_loopback_transport_new (bench.pump, NULL, bench.clock);
      ThecalFaultTransport *fault = thecal_fault_transport_new (THECAL_TRANSPORT (loopback), &no_faults, bench.clock);

      ck_assert (thecal_pump_link_set_transport (bench.link, THECAL_TRANSPORT (fault), NULL));
      /* the first loopback owns the pump: keep it; the injector is replaced */
      g_object_unref (bench.fault);
      bench.fault = fault;
    }
}

/* Checks @report against the pump, settles UNCERTAIN by resolving over a healed link, and returns
 * the settled outcome. The belief must always be the truth. */
static ThecalProgramOutcome
settle (const ThecalProgramReport *first, const ThecalPrescription *old_rx, const ThecalPrescription *new_rx)
{
  ThecalProgramReport report = *first;
  const ThecalPrescription *truth = thecal_sim_pump_active (bench.pump);

  if (report.outcome == THECAL_PROGRAM_UNCERTAIN)
    {
      g_autoptr (GError) error = NULL;

      ck_assert_msg (report.commit_sent, "UNCERTAIN before COMMIT was sent");
      heal ();
      ck_assert_msg (bench_resolve (&bench, &report, &error), "%s", error != NULL ? error->message : "?");
      ck_assert_int_ne (report.outcome, THECAL_PROGRAM_UNCERTAIN);
    }
  switch (report.outcome)
    {
    case THECAL_PROGRAM_CONFIRMED:
      ck_assert_msg (thecal_prescription_equal (truth, new_rx), "CONFIRMED, but the pump runs something else");
      break;
    case THECAL_PROGRAM_FAILED:
      ck_assert_msg (thecal_prescription_equal (truth, old_rx), "FAILED, but the pump changed");
      break;
    case THECAL_PROGRAM_CONFLICT:
      ck_assert (!thecal_prescription_equal (truth, new_rx) && !thecal_prescription_equal (truth, old_rx));
      break;
    case THECAL_PROGRAM_NONE:
    case THECAL_PROGRAM_UNCERTAIN:
    default:
      ck_abort_msg ("unsettled outcome %s", thecal_program_outcome_name (report.outcome));
    }
  ck_assert_int_le (thecal_sim_pump_stats (bench.pump)->prescriptions_set, 1); /* never applied twice */
  return report.outcome;
}

/* Programs rx6 over rx5. When the procedure cannot even start (the IDENTIFY before it is lost:
 * nothing that changes the pump was sent) the report says FAILED, as the caller would take it. */
static ThecalProgramReport
program_rx6 (void)
{
  g_autoptr (GError) error = NULL;
  ThecalProgramReport report;
  ThecalChecksum reviewed = bench_active_checksum (&bench);

  if (!bench_program (&bench, &rx6, &reviewed, &report, &error))
    {
      ck_assert_msg (!g_error_matches (error, THECAL_PROTO_ERROR, THECAL_PROTO_ERROR_BUSY_LOCAL), "%s", error->message);
      memset (&report, 0, sizeof report);
      report.outcome = THECAL_PROGRAM_FAILED;
    }
  return report;
}

/* ---- a loss at every step (every transmission of one frame lost) ------------------------------- */

typedef struct
{
  const char *name;
  TypeRule rule;
  ThecalProgramOutcome reported;
  ThecalProgramOutcome settled;
  gboolean commit_sent;
} LossCase;

static const LossCase loss_cases[] = {
  /* STAGE never arrives: the pump runs OLD, nothing staged */
  { "before stage", { THECAL_MSG_STAGE, THECAL_FAULT_TO_PUMP, THECAL_FAULT_ACTION_DROP }, THECAL_PROGRAM_FAILED, THECAL_PROGRAM_FAILED, FALSE },
  /* staged, every answer lost: the staged copy dies with the session */
  { "after stage", { THECAL_MSG_STAGE, THECAL_FAULT_FROM_PUMP, THECAL_FAULT_ACTION_DROP }, THECAL_PROGRAM_FAILED, THECAL_PROGRAM_FAILED, FALSE },
  /* the staged copy cannot be read back */
  { "read staged", { THECAL_MSG_READ_STAGED, THECAL_FAULT_FROM_PUMP, THECAL_FAULT_ACTION_DROP }, THECAL_PROGRAM_FAILED, THECAL_PROGRAM_FAILED, FALSE },
  /* COMMIT never arrives: uncertain, resolved by reading: OLD */
  { "commit lost", { THECAL_MSG_COMMIT, THECAL_FAULT_TO_PUMP, THECAL_FAULT_ACTION_DROP }, THECAL_PROGRAM_UNCERTAIN, THECAL_PROGRAM_FAILED, TRUE },
  /* COMMIT applied, every answer lost: uncertain, resolved: NEW (applied once) */
  { "commit answer lost", { THECAL_MSG_COMMIT, THECAL_FAULT_FROM_PUMP, THECAL_FAULT_ACTION_DROP }, THECAL_PROGRAM_UNCERTAIN, THECAL_PROGRAM_CONFIRMED, TRUE },
  /* acknowledged, the read-back lost: uncertain (commit acknowledged), resolved: NEW */
  { "after commit ack", { THECAL_MSG_READ_PRESCRIPTION, THECAL_FAULT_FROM_PUMP, THECAL_FAULT_ACTION_DROP }, THECAL_PROGRAM_UNCERTAIN, THECAL_PROGRAM_CONFIRMED, TRUE },
  /* corrupted COMMIT answers are as good as lost */
  { "commit answer corrupt", { THECAL_MSG_COMMIT, THECAL_FAULT_FROM_PUMP, THECAL_FAULT_ACTION_CORRUPT }, THECAL_PROGRAM_UNCERTAIN, THECAL_PROGRAM_CONFIRMED, TRUE },
  /* every STAGE duplicated: the pump answers the copy from its cache, nothing changes */
  { "stage duplicated", { THECAL_MSG_STAGE, THECAL_FAULT_TO_PUMP, THECAL_FAULT_ACTION_DUPLICATE }, THECAL_PROGRAM_CONFIRMED, THECAL_PROGRAM_CONFIRMED, TRUE },
  /* every COMMIT duplicated: applied once */
  { "commit duplicated", { THECAL_MSG_COMMIT, THECAL_FAULT_TO_PUMP, THECAL_FAULT_ACTION_DUPLICATE }, THECAL_PROGRAM_CONFIRMED, THECAL_PROGRAM_CONFIRMED, TRUE },
};

START_TEST (test_loss_at_every_step)
{
  const LossCase *c = &loss_cases[_i];
  ThecalProgramReport report;

  thecal_fault_transport_set_policy (bench.fault, by_type, (gpointer) &c->rule, NULL);
  report = program_rx6 ();
  ck_assert_msg (report.outcome == c->reported, "%s: reported %s, expected %s", c->name, thecal_program_outcome_name (report.outcome),
                 thecal_program_outcome_name (c->reported));
  ck_assert_msg (report.commit_sent == c->commit_sent, "%s: commit_sent %d", c->name, report.commit_sent);
  if (g_str_equal (c->name, "after commit ack"))
    ck_assert (report.commit_acknowledged);
  ck_assert_int_eq (settle (&report, &rx5, &rx6), c->settled);
}
END_TEST

/* ---- one fault at every frame: recovered by retransmission --------------------------------------- */

static guint64
frames_of_a_clean_programming (void)
{
  IndexRule rule = { .at = G_MAXUINT64, .action = THECAL_FAULT_ACTION_DELIVER };
  ThecalProgramReport report;

  thecal_fault_transport_set_policy (bench.fault, by_index, &rule, NULL);
  report = program_rx6 ();
  ck_assert_int_eq (report.outcome, THECAL_PROGRAM_CONFIRMED);
  thecal_fault_transport_set_policy (bench.fault, NULL, NULL, NULL);
  return rule.count;
}

static void
single_fault_everywhere (ThecalFaultAction action)
{
  guint64 frames = frames_of_a_clean_programming ();

  /* IDENTIFY, HELLO, AUTH, STAGE, READ_STAGED, COMMIT, READ_PRESCRIPTION: 7 round trips */
  ck_assert_int_eq (frames, 14);
  for (guint64 at = 1; at <= frames; at++)
    {
      IndexRule rule = { .at = at, .action = action };
      ThecalProgramReport report;

      bench_clear (&bench);
      bench_init_faulty (&bench, &rx5, &no_faults);
      thecal_fault_transport_set_policy (bench.fault, by_index, &rule, NULL);
      report = program_rx6 ();
      ck_assert_msg (report.outcome == THECAL_PROGRAM_CONFIRMED, "%s at frame %" G_GUINT64_FORMAT ": %s (%s)",
                     thecal_fault_action_name (action), at, thecal_program_outcome_name (report.outcome), report.error.reason);
      settle (&report, &rx5, &rx6);
    }
}

START_TEST (test_single_drop_at_every_frame)
{
  single_fault_everywhere (THECAL_FAULT_ACTION_DROP);
}
END_TEST

START_TEST (test_single_corruption_at_every_frame)
{
  single_fault_everywhere (THECAL_FAULT_ACTION_CORRUPT);
}
END_TEST

START_TEST (test_single_duplicate_at_every_frame)
{
  single_fault_everywhere (THECAL_FAULT_ACTION_DUPLICATE);
}
END_TEST

START_TEST (test_single_delay_at_every_frame)
{
  bench_clear (&bench);
  {
    /* delays shorter than the retry timeout: nothing is retransmitted */
    ThecalFaultConfig config = { .seed = 5, .delay_min_ms = 200, .delay_max_ms = 900 };

    bench_init_faulty (&bench, &rx5, &config);
  }
  single_fault_everywhere (THECAL_FAULT_ACTION_DELAY);
}
END_TEST

/* ---- the link dies at every frame, or disconnects --------------------------------------------- */

/* @certain_until: the last frame at which the outcome must be FAILED (the link was lost before
 * COMMIT could leave). */
static void
dies_everywhere (ThecalFaultAction action, gboolean from, guint64 certain_until)
{
  guint64 frames = frames_of_a_clean_programming ();
  int counts[THECAL_PROGRAM_CONFLICT + 1] = { 0 };

  for (guint64 at = 1; at <= frames; at++)
    {
      IndexRule rule = { .at = at, .from = from, .action = action };
      ThecalProgramReport report;
      ThecalProgramOutcome settled;

      bench_clear (&bench);
      bench_init_faulty (&bench, &rx5, &no_faults);
      thecal_fault_transport_set_policy (bench.fault, by_index, &rule, NULL);
      report = program_rx6 ();
      counts[report.outcome]++;
      /* frames 1..10 come before COMMIT (IDENTIFY … the READ_STAGED answer): a link lost there
       * never carried a COMMIT: FAILED, never UNCERTAIN; from COMMIT on it is UNCERTAIN unless
       * the read-back came through. A disconnect AT frame 10 races the COMMIT that its delivered
       * answer triggers: UNCERTAIN is then the honest answer. */
      if (at <= certain_until)
        ck_assert_msg (report.outcome == THECAL_PROGRAM_FAILED || report.outcome == THECAL_PROGRAM_CONFIRMED,
                       "frame %" G_GUINT64_FORMAT ": %s", at, thecal_program_outcome_name (report.outcome));
      settled = settle (&report, &rx5, &rx6);
      ck_assert_int_ne (settled, THECAL_PROGRAM_CONFLICT);
    }
  ck_assert_int_gt (counts[THECAL_PROGRAM_FAILED], 0);
  ck_assert_int_gt (counts[THECAL_PROGRAM_UNCERTAIN], 0);
}

START_TEST (test_link_dies_at_every_frame)
{
  dies_everywhere (THECAL_FAULT_ACTION_DROP, TRUE, 10);
}
END_TEST

START_TEST (test_disconnect_at_every_frame)
{
  dies_everywhere (THECAL_FAULT_ACTION_DISCONNECT, FALSE, 9);
}
END_TEST

/* ---- a refill with a drug change: REFILL_COMMIT through the link --------------------------------- */

static const ThecalMsgSetReservoir fill50 = { .volume_nl = 18000000, .drug_id = "morphine", .concentration_ng_per_ml = 50000000 };

static const LossCase refill_loss_cases[] = {
  { "nothing lost", { 0, THECAL_FAULT_TO_PUMP, THECAL_FAULT_ACTION_DELIVER }, THECAL_PROGRAM_CONFIRMED, THECAL_PROGRAM_CONFIRMED, TRUE },
  { "stage lost", { THECAL_MSG_STAGE, THECAL_FAULT_TO_PUMP, THECAL_FAULT_ACTION_DROP }, THECAL_PROGRAM_FAILED, THECAL_PROGRAM_FAILED, FALSE },
  { "stage answer lost", { THECAL_MSG_STAGE, THECAL_FAULT_FROM_PUMP, THECAL_FAULT_ACTION_DROP }, THECAL_PROGRAM_FAILED, THECAL_PROGRAM_FAILED, FALSE },
  { "refill commit lost", { THECAL_MSG_REFILL_COMMIT, THECAL_FAULT_TO_PUMP, THECAL_FAULT_ACTION_DROP }, THECAL_PROGRAM_UNCERTAIN, THECAL_PROGRAM_FAILED, TRUE },
  { "refill commit answer lost", { THECAL_MSG_REFILL_COMMIT, THECAL_FAULT_FROM_PUMP, THECAL_FAULT_ACTION_DROP }, THECAL_PROGRAM_UNCERTAIN, THECAL_PROGRAM_CONFIRMED, TRUE },
  { "refill commit duplicated", { THECAL_MSG_REFILL_COMMIT, THECAL_FAULT_TO_PUMP, THECAL_FAULT_ACTION_DUPLICATE }, THECAL_PROGRAM_CONFIRMED, THECAL_PROGRAM_CONFIRMED, TRUE },
  { "after refill commit ack", { THECAL_MSG_READ_PRESCRIPTION, THECAL_FAULT_FROM_PUMP, THECAL_FAULT_ACTION_DROP }, THECAL_PROGRAM_UNCERTAIN, THECAL_PROGRAM_CONFIRMED, TRUE },
};

/* thecal_pump_link_refill_program_async of morphine 50 mg/mL over the 25 mg/mL the pump runs,
 * with a loss at one step: the report is the program path's (a lost answer to REFILL_COMMIT is
 * UNCERTAIN, settled by reading), and the simulated pump never stops: it runs the old
 * prescription on the old fill or the new one on the new fill, never a mix. */
START_TEST (test_refill_program_loss_at_every_step)
{
  const LossCase *c = &refill_loss_cases[_i];
  g_autoptr (GError) error = NULL;
  ThecalPrescription rx50;
  ThecalProgramReport report;
  ThecalChecksum reviewed = bench_active_checksum (&bench);
  ThecalEngineStatus es;
  ThecalProgramOutcome settled;

  test_rx_morphine (&rx50, 5);
  rx50.concentration_ng_per_ml = 50000000;
  if (c->rule.type != 0)
    thecal_fault_transport_set_policy (bench.fault, by_type, (gpointer) &c->rule, NULL);
  thecal_pump_link_refill_program_async (bench.link, &rx50, &reviewed, &fill50, NULL, bench_done, bench_cb (&bench));
  ck_assert_msg (thecal_pump_link_refill_program_finish (bench.link, bench_wait (&bench), &report, &error), "%s",
                 error != NULL ? error->message : "?");
  ck_assert_msg (report.outcome == c->reported, "%s: reported %s (%s)", c->name, thecal_program_outcome_name (report.outcome),
                 report.error.reason);
  ck_assert_msg (report.commit_sent == c->commit_sent, "%s: commit_sent %d", c->name, report.commit_sent);
  thecal_engine_get_status (thecal_sim_pump_engine (bench.pump), &es);
  ck_assert_int_ne (es.mode, THECAL_MODE_STOPPED);
  settled = settle (&report, &rx5, &rx50);
  ck_assert_int_eq (settled, c->settled);
  thecal_engine_get_status (thecal_sim_pump_engine (bench.pump), &es);
  ck_assert_int_ne (es.mode, THECAL_MODE_STOPPED);
  ck_assert_int_eq (es.reservoir_concentration_ng_per_ml, thecal_sim_pump_active (bench.pump)->concentration_ng_per_ml);
  ck_assert_int_eq (thecal_sim_pump_stats (bench.pump)->reservoir_sets, settled == THECAL_PROGRAM_CONFIRMED ? 1 : 0);
  if (settled == THECAL_PROGRAM_CONFIRMED)
    ck_assert_int_eq (es.reservoir_set_nl, 18000000);
}
END_TEST

/* ---- the progress signal ---------------------------------------------------------------------- */

/* Runs on the bench's context: the link entered a step. */
static void
on_program_step (ThecalPumpLink *link, guint step, gpointer user_data)
{
  GArray *steps = user_data;

  (void) link;
  g_array_append_val (steps, step);
}

/* "program-step" marks every step of a confirmed program once, in order; nothing is emitted for
 * the requests of an interrogation. */
START_TEST (test_program_step_signal)
{
  g_autoptr (GArray) steps = g_array_new (FALSE, FALSE, sizeof (guint));
  const guint expected[] = { THECAL_PROGRAM_STEP_STAGE, THECAL_PROGRAM_STEP_READ_STAGED, THECAL_PROGRAM_STEP_COMMIT,
                             THECAL_PROGRAM_STEP_READ_BACK };
  ThecalProgramReport report = program_rx6 ();
  guint first;

  ck_assert_int_eq (report.outcome, THECAL_PROGRAM_CONFIRMED); /* opens the session: no step signal wanted yet */
  g_signal_connect (bench.link, "program-step", G_CALLBACK (on_program_step), steps);
  {
    g_autoptr (GError) error = NULL;
    ThecalChecksum reviewed = bench_active_checksum (&bench);

    ck_assert_msg (bench_program (&bench, &rx5, &reviewed, &report, &error), "%s", error != NULL ? error->message : "");
  }
  ck_assert_int_eq (report.outcome, THECAL_PROGRAM_CONFIRMED);
  /* a session may be opened again first (HANDSHAKE); then exactly the four steps */
  first = steps->len > 0 && g_array_index (steps, guint, 0) == THECAL_PROGRAM_STEP_HANDSHAKE ? 1 : 0;
  ck_assert_uint_eq (steps->len - first, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    ck_assert_uint_eq (g_array_index (steps, guint, first + i), expected[i]);
  g_signal_handlers_disconnect_by_data (bench.link, steps);
}
END_TEST

/* The first program of a link opens its session: HANDSHAKE comes first. */
START_TEST (test_program_step_signal_handshake)
{
  g_autoptr (GArray) steps = g_array_new (FALSE, FALSE, sizeof (guint));
  ThecalProgramReport report;

  g_signal_connect (bench.link, "program-step", G_CALLBACK (on_program_step), steps);
  report = program_rx6 ();
  ck_assert_int_eq (report.outcome, THECAL_PROGRAM_CONFIRMED);
  ck_assert_uint_ge (steps->len, 4);
  ck_assert_uint_eq (g_array_index (steps, guint, steps->len - 4), THECAL_PROGRAM_STEP_STAGE);
  ck_assert_uint_eq (g_array_index (steps, guint, steps->len - 1), THECAL_PROGRAM_STEP_READ_BACK);
  g_signal_handlers_disconnect_by_data (bench.link, steps);
}
END_TEST

static Suite *
two_phase_suite (void)
{
  Suite *suite = suite_create ("two-phase");
  TCase *tc;

  tc = tcase_create ("loss at every step");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_loop_test (tc, test_loss_at_every_step, 0, G_N_ELEMENTS (loss_cases));
  suite_add_tcase (suite, tc);

  tc = tcase_create ("refill program");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_loop_test (tc, test_refill_program_loss_at_every_step, 0, G_N_ELEMENTS (refill_loss_cases));
  suite_add_tcase (suite, tc);

  THECAL_TEST_TCASE (suite, "progress", setup, teardown, 0, test_program_step_signal, test_program_step_signal_handshake);
  THECAL_TEST_TCASE (suite, "faults at every frame", setup, teardown, 0,
                     test_single_drop_at_every_frame,
                     test_single_corruption_at_every_frame,
                     test_single_duplicate_at_every_frame,
                     test_single_delay_at_every_frame,
                     test_link_dies_at_every_frame,
                     test_disconnect_at_every_frame);
  return suite;
}

THECAL_TEST_MAIN (two_phase_suite)
