/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-visit-soak.c: 1 000 full clinic visits (src/workflow) on 20 simulated pumps over the fault
 * injector (docs/workflows.md "Failure behaviour", docs/hazards.md H1-H3, H21, H24): each visit
 * interrogates, refills (the physician, verified by a nurse), changes the prescription and gives a
 * clinician bolus while the injector drops (3 %), corrupts (1 %) and disconnects (0.3 %) frames
 * with fixed seeds, on simulated time (no sleeps). A step that pauses is retried on a new transport;
 * an UNCERTAIN outcome is settled by reading first. After every visit the record and the pump
 * agree: no programming session is left PENDING or UNCERTAIN, the record's current prescription is
 * the one the pump runs, the refills recorded are the refills the pump took, and the boluses the
 * record confirmed are the boluses the pumps started (none settled FAILED that a pump ran). The
 * audit chain verifies at the end. The outcome counts are printed as TAP diagnostics.
 *
 * the one the pump runs, the refills recorded are the refills the pump took, and the boluses the
 * record confirmed are the boluses the pumps started (none settled FAILED that a pump ran).
 *
 * The same 1 000 visits run under AddressSanitizer (about as fast: 20 short histories).
 */
#include "config.h"

#include "thecal-dose-json.h"
#include "thecal-fault-transport.h"
#include "thecal-loopback-transport.h"
#include "thecal-sim-pump-demo.h"
#include "thecal-test-record.h"
#include "thecal-test.h"
#include "thecal-visit.h"
#include "thecal-workflow-bolus.h"
#include "thecal-workflow-refill.h"

/* 20 patients, each with a pump of its own (the demo pump TR20-000123's settings under a serial of
 * its own), 50 visits each: one pump's history grows with its visits, and 1 000 visits of one pump
 * would spend most of the time re-reading that history. */
#define SOAK_PUMPS 20
#define SOAK_VISITS_PER_PUMP 50
#define SOAK_VISITS (SOAK_PUMPS * SOAK_VISITS_PER_PUMP)

#define MG INT64_C (1000000)
#define ML INT64_C (1000000)
#define HOUR_MS INT64_C (3600000)
#define OVERRIDE "concentration above PACC soft limit, reviewed"
#define DEMO_SERIAL "TR20-000123"
/* a step is retried at most this often before the visit gives it up (counted) */
#define ATTEMPTS 8

static const ThecalFaultConfig soak_faults = { .seed = 6001, .drop_ppm = 30000, .corrupt_ppm = 10000, .disconnect_ppm = 3000 };

typedef struct
{
  char *path;
  ThecalRecord *record;
  ThecalRecordSession *physician;
  ThecalRecordSession *nurse;
  ThecalPumpModelSet models;
  ThecalDrugLibrary library;
  ThecalClock *clock;
  ThecalSimPump *pump;
  ThecalLoopbackTransport *loopback;
  ThecalFaultTransport *fault;
  GPtrArray *old;   /* transports replaced after a disconnect, links of earlier pumps */
  GPtrArray *pumps; /* every simulated pump (freed last) */
  char serial[32];
  char mrn[32];
  guint64 seed;
  ThecalPumpLink *link;
} World;

static World world;

/* what happened, by step */
typedef struct
{
  guint visits, connect_retries, reconnects;
  guint rx_confirmed, rx_failed, rx_uncertain, rx_paused, rx_settled_confirmed, rx_settled_failed;
  guint refill_confirmed, refill_uncertain, refill_paused, refill_settled_confirmed, refill_settled_failed;
  guint bolus_confirmed, bolus_failed, bolus_uncertain, bolus_paused, bolus_settled_confirmed, bolus_settled_failed;
  guint gave_up_refill, gave_up_change, gave_up_bolus;
  guint64 frames, dropped, corrupted, disconnects;
} Counts;

static Counts counts;
static char *first_bolus_failure = NULL; /* the first refusal of a bolus, for the diagnostics */

static gboolean
load_data (const char *name, char **text, gsize *length)
{
  g_autofree char *path = g_build_filename (g_getenv ("THECAL_DATA_DIR"), name, NULL);

  return g_file_get_contents (path, text, length, NULL);
}

static gint64
pump_time (gpointer user_data)
{
  (void) user_data;
  return thecal_loopback_transport_pump_time_ms (world.loopback);
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
new_transport (void)
{
  ThecalFaultConfig config = soak_faults;

  if (world.fault != NULL)
    {
      /* the implant went on delivering since the last frame: the next wand starts from there */
      thecal_loopback_transport_advance_pump (world.loopback);
      add_fault_stats (world.fault);
      g_ptr_array_add (world.old, world.fault);
      g_ptr_array_add (world.old, world.loopback);
    }
  config.seed = world.seed++;
  world.loopback = thecal_loopback_transport_new (world.pump, NULL, world.clock);
  thecal_loopback_transport_set_latency_ms (world.loopback, 20);
  world.fault = thecal_fault_transport_new (THECAL_TRANSPORT (world.loopback), &config, world.clock);
  thecal_fault_transport_set_record_trace (world.fault, FALSE);
}

static void
world_setup (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecordSession) admin = NULL;
  g_autoptr (ThecalUser) physician = NULL;
  g_autoptr (ThecalUser) nurse = NULL;
  g_autofree char *text = NULL;
  gsize length;
  ThecalDoseError dose_error;

  memset (&counts, 0, sizeof counts);
  record_test_setup ();
  ck_assert (load_data ("pump-models.json", &text, &length));
  ck_assert (thecal_pump_models_load_json (text, length, &world.models, &dose_error));
  g_clear_pointer (&text, g_free);
  ck_assert (load_data ("drug-library.json", &text, &length));
  ck_assert (thecal_drug_library_load_json (text, length, &world.library, &dose_error));

  world.clock = thecal_clock_new_virtual (0);
  world.old = g_ptr_array_new_with_free_func (g_object_unref);
  world.pumps = g_ptr_array_new_with_free_func (g_free);
  world.seed = soak_faults.seed;

  world.path = test_path ("record.sqlite");
  world.record = open_record (world.path, THECAL_RECORD_OPEN_CREATE);
  admin = thecal_record_session_first_run_sync (world.record, "admin", "Ada Admin", TEST_PASSWORD, NULL, &error);
  ck_assert_ptr_nonnull (admin);
  physician = thecal_record_session_add_user_sync (admin, "paula", "Dr Paula Physician", THECAL_ROLE_PHYSICIAN, TEST_PASSWORD, NULL, &error);
  ck_assert_ptr_nonnull (physician);
  nurse = thecal_record_session_add_user_sync (admin, "nina", "Nina Nurse", THECAL_ROLE_NURSE, TEST_PASSWORD, NULL, &error);
  ck_assert_ptr_nonnull (nurse);
  world.physician = thecal_record_session_login_sync (world.record, "paula", TEST_PASSWORD, NULL, &error);
  world.nurse = thecal_record_session_login_sync (world.record, "nina", TEST_PASSWORD, NULL, &error);
  ck_assert_ptr_nonnull (world.physician);
  ck_assert_ptr_nonnull (world.nurse);
}

/* Patient @p with a pump of its own, registered, paired, its prescription recorded; the link to it. */
static void
start_pump (guint p)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalPatient) patient = NULL;
  g_autoptr (ThecalPump) pump = NULL;
  g_autoptr (ThecalRecordedPrescription) rx = NULL;
  ThecalSimPumpDemo demo = *thecal_sim_pump_demo_find (DEMO_SERIAL);
  ThecalDoseError dose_error;
  guint8 key[THECAL_KEY_SIZE];
  ThecalPatientInput patient_input = { world.mrn, "DOE, Jane", "1960-01-01", THECAL_OPIOID_TOLERANT, NULL };
  ThecalPumpInput input = { world.serial, "TR-20", world.mrn, "2025-06-01", 455, key };

  g_snprintf (world.serial, sizeof world.serial, "TR20-9%05u", p);
  g_snprintf (world.mrn, sizeof world.mrn, "MRN-SOAK-%02u", p);
  demo.serial = world.serial;
  if (world.link != NULL)
    {
      g_ptr_array_add (world.old, world.link);
      world.link = NULL;
    }
  world.pump = g_new0 (ThecalSimPump, 1);
  g_ptr_array_add (world.pumps, world.pump);
  ck_assert (thecal_sim_pump_demo_init (world.pump, &demo, thecal_pump_model_set_find (&world.models, "TR-20"), &dose_error));
  new_transport ();
  world.link = thecal_pump_link_new (THECAL_TRANSPORT (world.fault), world.clock);

  patient = thecal_record_session_add_patient_sync (world.physician, &patient_input, NULL, &error);
  ck_assert_msg (patient != NULL, "%s", error != NULL ? error->message : "?");
  thecal_sim_pump_demo_key (world.serial, key);
  pump = thecal_record_session_add_pump_sync (world.physician, &input, NULL, &error);
  ck_assert_msg (pump != NULL, "%s", error != NULL ? error->message : "?");
  rx = SYNC (thecal_record_add_prescription, world.record, &error, thecal_record_session_get_user (world.physician),
             world.serial, thecal_sim_pump_active (world.pump), pump_time (NULL) - 86400000, THECAL_RX_SOURCE_ENTERED, 0, NULL);
  ck_assert_msg (rx != NULL, "%s", error != NULL ? error->message : "?");
}

static void
world_teardown (void)
{
  g_clear_object (&world.link);
  g_clear_object (&world.fault);
  g_clear_object (&world.loopback);
  g_clear_pointer (&world.old, g_ptr_array_unref);
  g_clear_pointer (&world.pumps, g_ptr_array_unref);
  world.pump = NULL;
  g_clear_object (&world.clock);
  g_clear_object (&world.physician);
  g_clear_object (&world.nurse);
  g_clear_object (&world.record);
  g_clear_pointer (&world.path, g_free);
  record_test_teardown ();
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  (void) source;
  *out = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    if (!thecal_clock_iterate (world.clock, NULL))
      g_main_context_iteration (NULL, TRUE);
  return *slot;
}

/* The wand comes back after a disconnect: a new transport to the same pump (the next seed). */
static void
reconnect_if_needed (ThecalVisit *visit)
{
  g_autoptr (GError) error = NULL;

  if (thecal_pump_link_is_connected (world.link))
    return;
  counts.reconnects++;
  new_transport ();
  ck_assert_msg (thecal_visit_set_transport (visit, THECAL_TRANSPORT (world.fault), &error), "%s",
                 error != NULL ? error->message : "?");
}

static gboolean
visit_connect (ThecalVisit *visit, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  thecal_visit_connect_async (visit, world.mrn, NULL, on_done, &result);
  return thecal_visit_connect_finish (visit, wait_result (&result), error);
}

static gboolean
visit_reconcile (ThecalVisit *visit, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  thecal_visit_reconcile_async (visit, NULL, on_done, &result);
  return thecal_visit_reconcile_finish (visit, wait_result (&result), error);
}

/* Connects, retrying on a new transport when the link is lost. */
static void
connect_with_retries (ThecalVisit *visit)
{
  for (guint attempt = 0;; attempt++)
    {
      g_autoptr (GError) error = NULL;

      reconnect_if_needed (visit);
      if (visit_connect (visit, &error))
        return;
      ck_assert_msg (attempt < 50 && (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED) || g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_NOT_CONNECTED) || error->domain != THECAL_VISIT_ERROR),
                     "connect: %s", error->message);
      counts.connect_retries++;
    }
}

/* ---- refill ---------------------------------------------------------------------------------- */

static void
settle_refill (ThecalVisit *visit)
{
  for (guint attempt = 0;; attempt++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GAsyncResult) result = NULL;
      ThecalProgrammingOutcome outcome = THECAL_OUTCOME_UNCERTAIN;

      reconnect_if_needed (visit);
      thecal_visit_settle_refill_async (visit, NULL, on_done, &result);
      if (thecal_visit_settle_refill_finish (visit, wait_result (&result), &outcome, &error)
          && outcome != THECAL_OUTCOME_UNCERTAIN)
        {
          if (outcome == THECAL_OUTCOME_CONFIRMED)
            counts.refill_settled_confirmed++;
          else
            counts.refill_settled_failed++;
          return;
        }
      ck_assert_msg (attempt < 100, "the refill could not be settled: %s", error != NULL ? error->message : "?");
    }
}

static void
refill (ThecalVisit *visit, guint n)
{
  for (guint attempt = 0; attempt < ATTEMPTS; attempt++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GAsyncResult) result = NULL;
      ThecalRefillRequest request = { 0 };
      ThecalRefillReport report;
      ThecalRefillCheck check;

      reconnect_if_needed (visit);
      ck_assert_msg (thecal_visit_refill_preview (visit, 0, &check, NULL, &error), "%s", error != NULL ? error->message : "?");
      request.aspirated_nl = check.expected_residual_nl; /* what the record expects: no discrepancy */
      request.drug_id = "morphine";
      request.concentration_ng_per_ml = 25 * MG;
      request.lot = "LOT-SOAK";
      request.expiry_date = "2099-12-31";
      /* 18 and 15 mL by turns: 3 mL apart, over the TR-20's 1 mL threshold, so a lost SET_RESERVOIR
       * cannot be settled as taken from a reservoir that happens to hold about the same volume */
      request.added_nl = n % 2 == 0 ? 18 * ML : 15 * ML;
      request.verifier_name = "nina";
      request.verifier_password = TEST_PASSWORD;
      thecal_visit_refill_async (visit, &request, NULL, on_done, &result);
      if (thecal_visit_refill_finish (visit, wait_result (&result), &report, &error))
        {
          if (report.outcome == THECAL_OUTCOME_UNCERTAIN)
            {
              counts.refill_uncertain++;
              settle_refill (visit);
            }
          else
            counts.refill_confirmed++;
          return;
        }
      ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED), "refill: %s", error->message);
      counts.refill_paused++;
      if (thecal_visit_is_blocked (visit, NULL))
        {
          counts.refill_uncertain++;
          settle_refill (visit);
          return;
        }
    }
  counts.gave_up_refill++;
}

/* ---- change of prescription ------------------------------------------------------------------ */

static void
reconcile_all (ThecalVisit *visit)
{
  for (guint attempt = 0; thecal_visit_is_blocked (visit, NULL); attempt++)
    {
      g_autoptr (GError) error = NULL;

      reconnect_if_needed (visit);
      if (visit_reconcile (visit, &error) && !thecal_visit_is_blocked (visit, NULL))
        break;
      ck_assert_msg (attempt < 100, "could not reconcile: %s", error != NULL ? error->message : "?");
    }
}

static void
change (ThecalVisit *visit, guint n)
{
  ThecalPrescription rx = *thecal_sim_pump_active (world.pump);

  /* 5 ↔ 6 mg/day, alternating with the visit */
  rx.continuous.basis = THECAL_BASIS_DOSE;
  rx.continuous.dose_ng_per_day = n % 2 == 0 ? 6 * MG : 5 * MG;
  rx.continuous.rate_nl_per_day = 0;
  for (guint attempt = 0; attempt < ATTEMPTS; attempt++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GAsyncResult) result = NULL;
      g_autoptr (ThecalProgramReview) review = NULL;
      ThecalProgrammingOutcome outcome = THECAL_OUTCOME_FAILED;
      gint64 session_id = 0;

      reconnect_if_needed (visit);
      review = thecal_visit_review_prescription (visit, &rx, &error);
      ck_assert_msg (review != NULL, "%s", error != NULL ? error->message : "?");
      if (review->changes->len == 0)
        return; /* the pump runs it already (an earlier attempt took it) */
      thecal_visit_program_async (visit, review, "soak", OVERRIDE, NULL, on_done, &result);
      if (!thecal_visit_program_finish (visit, wait_result (&result), &outcome, &session_id, &error))
        {
          ck_assert_msg (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED), "program: %s", error->message);
          counts.rx_paused++;
          reconcile_all (visit);
          continue;
        }
      switch (outcome)
        {
        case THECAL_OUTCOME_CONFIRMED:
          counts.rx_confirmed++;
          return;
        case THECAL_OUTCOME_UNCERTAIN:
          counts.rx_uncertain++;
          reconcile_all (visit);
          if (thecal_prescription_equal (thecal_sim_pump_active (world.pump), &rx))
            {
              counts.rx_settled_confirmed++;
              return;
            }
          counts.rx_settled_failed++;
          break;
        case THECAL_OUTCOME_FAILED:
          counts.rx_failed++;
          break;
        case THECAL_OUTCOME_PENDING:
        default:
          ck_abort_msg ("program: outcome %d", (int) outcome);
          break;
        }
    }
  counts.gave_up_change++;
}

/* ---- clinician bolus ------------------------------------------------------------------------- */

static void
settle_bolus (ThecalVisit *visit)
{
  for (guint attempt = 0; thecal_visit_bolus_uncertain (visit); attempt++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GAsyncResult) result = NULL;
      ThecalProgrammingOutcome outcome = THECAL_OUTCOME_UNCERTAIN;

      reconnect_if_needed (visit);
      thecal_visit_settle_bolus_async (visit, NULL, on_done, &result);
      if (thecal_visit_settle_bolus_finish (visit, wait_result (&result), &outcome, &error) && outcome != THECAL_OUTCOME_UNCERTAIN)
        {
          if (outcome == THECAL_OUTCOME_CONFIRMED)
            counts.bolus_settled_confirmed++;
          else
            counts.bolus_settled_failed++;
          return;
        }
      ck_assert_msg (attempt < 100, "the bolus could not be settled: %s", error != NULL ? error->message : "?");
    }
}

static void
bolus (ThecalVisit *visit)
{
  ThecalBolusRequest request = { .kind = THECAL_VISIT_BOLUS_CLINICIAN, .dose_ng = 250000, .duration_ms = 30 * 60000 };

  for (guint attempt = 0; attempt < ATTEMPTS; attempt++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GAsyncResult) result = NULL;
      g_autoptr (ThecalBolusReview) review = NULL;
      ThecalProgrammingOutcome outcome = THECAL_OUTCOME_FAILED;

      reconnect_if_needed (visit);
      review = thecal_visit_review_bolus (visit, &request, &error);
      ck_assert_msg (review != NULL, "bolus review: %s", error != NULL ? error->message : "?");
      thecal_visit_bolus_async (visit, review, "soak: clinician bolus", NULL, on_done, &result);
      if (thecal_visit_bolus_finish (visit, wait_result (&result), &outcome, &error))
        {
          if (outcome == THECAL_OUTCOME_UNCERTAIN)
            {
              counts.bolus_uncertain++;
              settle_bolus (visit);
            }
          else
            counts.bolus_confirmed++;
          return;
        }
      if (g_error_matches (error, THECAL_VISIT_ERROR, THECAL_VISIT_ERROR_PAUSED))
        counts.bolus_paused++;
      else
        {
          counts.bolus_failed++;
          if (first_bolus_failure == NULL)
            first_bolus_failure = g_strdup (error->message);
        }
      if (thecal_visit_bolus_uncertain (visit))
        {
          counts.bolus_uncertain++;
          settle_bolus (visit);
          return;
        }
    }
  counts.gave_up_bolus++;
}

/* ---- agreement ------------------------------------------------------------------------------- */

static void
check_agreement (guint n)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) unresolved = SYNC (thecal_record_list_unresolved_sessions, world.record, &error);
  g_autoptr (ThecalPatientRecord) history = SYNC (thecal_record_get_patient_record, world.record, &error, world.mrn);
  const ThecalRecordedPrescription *current = NULL;
  ThecalPrescription rx;
  ThecalDoseError dose_error;
  gint64 refills = 0, started = 0;

  ck_assert_ptr_nonnull (unresolved);
  ck_assert_msg (unresolved->len == 0, "visit %u: %u sessions left pending or uncertain", n, unresolved->len);
  ck_assert_ptr_nonnull (history);
  for (guint i = 0; i < history->prescriptions->len; i++)
    {
      const ThecalRecordedPrescription *r = history->prescriptions->pdata[i];

      if (!r->superseded && r->effective_to_utc_ms == G_MAXINT64 && g_strcmp0 (r->pump_serial, world.serial) == 0)
        current = r;
    }
  ck_assert_msg (current != NULL, "visit %u: no current prescription", n);
  thecal_dose_error_clear (&dose_error);
  ck_assert (thecal_prescription_load_json (current->json, strlen (current->json), &rx, &dose_error));
  ck_assert_msg (thecal_prescription_equal (&rx, thecal_sim_pump_active (world.pump)), "visit %u: the record's prescription "
                                                                                       "%s is not what the pump runs",
                 n, current->json);
  for (guint i = 0; i < history->refills->len; i++)
    if (!((const ThecalRefill *) history->refills->pdata[i])->superseded)
      refills++;
  ck_assert_msg (refills == thecal_sim_pump_stats (world.pump)->reservoir_sets, "visit %u: %" G_GINT64_FORMAT " refills "
                                                                                "recorded, the pump took %" G_GINT64_FORMAT,
                 n, refills, thecal_sim_pump_stats (world.pump)->reservoir_sets);
  for (guint i = 0; i < world.pumps->len; i++)
    started += thecal_sim_pump_stats (world.pumps->pdata[i])->boluses_started;
  ck_assert_msg (started == (gint64) (counts.bolus_confirmed + counts.bolus_settled_confirmed),
                 "visit %u: the pumps started %" G_GINT64_FORMAT " boluses, the record confirmed %u", n, started,
                 counts.bolus_confirmed + counts.bolus_settled_confirmed);
}

START_TEST (test_soak_visits)
{
  gint64 started = g_get_monotonic_time ();
  g_autoptr (ThecalAuditVerification) verification = NULL;

  for (guint n = 0; n < SOAK_VISITS; n++)
    {
      g_autoptr (ThecalVisit) visit = NULL;

      if (n % SOAK_VISITS_PER_PUMP == 0)
        start_pump (n / SOAK_VISITS_PER_PUMP);
      visit = thecal_visit_new (world.physician, world.link, &world.models, &world.library);

      thecal_visit_set_time_func (visit, pump_time, NULL);
      connect_with_retries (visit);
      reconcile_all (visit);
      refill (visit, n);
      change (visit, n);
      bolus (visit);
      reconcile_all (visit);
      counts.visits++;
      check_agreement (n);
      /* the next visit an hour later: the bolus (30 min) is over */
      thecal_clock_advance_to (world.clock, thecal_clock_now_ms (world.clock) + HOUR_MS);
    }
  add_fault_stats (world.fault);
  verification = verify_audit (world.record, 0, NULL);
  ck_assert_msg (verification->problem == THECAL_AUDIT_INTACT, "%s", verification->message);
  printf ("# soak: %u visits (%d planned: %d pumps x %d), seed %u: frames %" G_GUINT64_FORMAT ", dropped %" G_GUINT64_FORMAT
          ", corrupted %" G_GUINT64_FORMAT ", disconnects %" G_GUINT64_FORMAT " (%u reconnects, %u connect retries)\n",
          counts.visits, SOAK_VISITS, SOAK_PUMPS, SOAK_VISITS_PER_PUMP, (guint) soak_faults.seed, counts.frames, counts.dropped, counts.corrupted,
          counts.disconnects, counts.reconnects, counts.connect_retries);
  printf ("# refill: confirmed %u, uncertain %u (settled: confirmed %u, failed %u), paused %u\n", counts.refill_confirmed,
          counts.refill_uncertain, counts.refill_settled_confirmed, counts.refill_settled_failed, counts.refill_paused);
  printf ("# change: confirmed %u, failed %u, uncertain %u (settled: confirmed %u, failed %u), paused %u\n", counts.rx_confirmed,
          counts.rx_failed, counts.rx_uncertain, counts.rx_settled_confirmed, counts.rx_settled_failed, counts.rx_paused);
  printf ("# bolus: confirmed %u, failed %u, uncertain %u (settled: confirmed %u, failed %u), paused %u\n",
          counts.bolus_confirmed, counts.bolus_failed, counts.bolus_uncertain, counts.bolus_settled_confirmed,
          counts.bolus_settled_failed, counts.bolus_paused);
  printf ("# steps given up after %d attempts (the record and the pump still agree): refill %u, change %u, bolus %u; %.1f s\n",
          ATTEMPTS, counts.gave_up_refill, counts.gave_up_change, counts.gave_up_bolus,
          (double) (g_get_monotonic_time () - started) / 1e6);
  printf ("# the first bolus not given: %s\n", first_bolus_failure != NULL ? first_bolus_failure : "none");
  g_clear_pointer (&first_bolus_failure, g_free);
  fflush (stdout);
  ck_assert_uint_eq (counts.visits, SOAK_VISITS);
  ck_assert_uint_gt (counts.dropped, 0);
  ck_assert_uint_gt (counts.corrupted, 0);
  ck_assert_uint_gt (counts.disconnects, 0);
}
END_TEST

static Suite *
visit_soak_suite (void)
{
  Suite *s = suite_create ("visit-soak");
  TCase *tc = tcase_create ("soak");

  tcase_add_checked_fixture (tc, world_setup, world_teardown);
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_soak_visits);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (visit_soak_suite)
