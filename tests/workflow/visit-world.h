/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * visit-world.h: the world of the visit tests (tests/workflow/test-visit*.c): a real patient
 * record with an administrator, a physician (paula) and a nurse (nina), two patients (MRN-1,
 * MRN-2), the dose core's data, a simulated demo pump on a virtual clock behind the loopback
 * transport and a fault injector whose policy drops the frames the test asks it to, and the link.
 * One world per test process (the fixture of each test case). Header only: the record test helpers
 * it uses keep their state in statics of the including file.
 */
#pragma once

#include "thecal-dose-json.h"
#include "thecal-fault-transport.h"
#include "thecal-loopback-transport.h"
#include "thecal-sim-pump-demo.h"
#include "thecal-test-record.h"
#include "thecal-test.h"
#include "thecal-visit.h"

#define MG INT64_C (1000000)
#define ML INT64_C (1000000)
#define HOUR_MS INT64_C (3600000)

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
  ThecalPumpLink *link;
  /* The demo pump world_setup () makes (thecal_sim_pump_demo_find ()); default TR20-000123. */
  const char *demo_serial;
  /* How far the clinic's clock runs ahead of the pump's (the visit's time function). */
  gint64 clinic_ahead_ms;
  /* Frames the fault injector drops while set: "answer" is the pump's answer (the pump took the
   * request), "request" the request itself (the pump never hears it). */
  gboolean drop_commit_answer;
  gboolean drop_bolus_answer;
  gboolean drop_bolus_request;
  gboolean drop_reservoir_answer;
  gboolean drop_reservoir_request;
  gboolean drop_status_answer;
  gint status_answers; /* READ_STATUS answers still delivered, then dropped; < 0: all (the default) */
  /* a drug change: the answers to STAGE, to REFILL_COMMIT (with _and_reads also every READ_STATUS
   * and READ_PRESCRIPTION answer after it), or the REFILL_COMMIT requests */
  gboolean drop_stage_answer;
  gboolean drop_refill_commit_answer;
  gboolean drop_refill_commit_and_reads;
  gboolean refill_commit_dropped;
  gboolean drop_refill_commit_request;
} World;

static World world;

static inline gboolean
load_data (const char *name, char **text, gsize *length)
{
  g_autofree char *path = g_build_filename (g_getenv ("THECAL_DATA_DIR"), name, NULL);

  return g_file_get_contents (path, text, length, NULL);
}

static inline gint64
world_pump_time (gpointer user_data)
{
  (void) user_data;
  return thecal_loopback_transport_pump_time_ms (world.loopback) + world.clinic_ahead_ms;
}

static inline gboolean
is_message (GBytes *frame, ThecalMsgType type)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (frame, &size);

  return size > 3 && data[3] == type;
}

/* Runs on the test's context: drops what the world's flags ask for. */
static inline ThecalFaultAction
policy (ThecalFaultTransport *fault, ThecalFaultDirection direction, guint64 index, GBytes *frame, gpointer user_data)
{
  gboolean answer = direction == THECAL_FAULT_FROM_PUMP;

  (void) fault;
  (void) index;
  (void) user_data;
  if ((answer && world.drop_commit_answer && is_message (frame, THECAL_MSG_COMMIT))
      || (answer && world.drop_bolus_answer && is_message (frame, THECAL_MSG_START_BOLUS))
      || (!answer && world.drop_bolus_request && is_message (frame, THECAL_MSG_START_BOLUS))
      || (answer && world.drop_reservoir_answer && is_message (frame, THECAL_MSG_SET_RESERVOIR))
      || (!answer && world.drop_reservoir_request && is_message (frame, THECAL_MSG_SET_RESERVOIR))
      || (answer && world.drop_status_answer && is_message (frame, THECAL_MSG_READ_STATUS))
      || (answer && world.drop_stage_answer && is_message (frame, THECAL_MSG_STAGE))
      || (answer && world.drop_refill_commit_answer && is_message (frame, THECAL_MSG_REFILL_COMMIT))
      || (!answer && world.drop_refill_commit_request && is_message (frame, THECAL_MSG_REFILL_COMMIT)))
    return THECAL_FAULT_ACTION_DROP;
  if (answer && world.drop_refill_commit_and_reads
      && (is_message (frame, THECAL_MSG_REFILL_COMMIT)
          || (world.refill_commit_dropped
              && (is_message (frame, THECAL_MSG_READ_STATUS) || is_message (frame, THECAL_MSG_READ_PRESCRIPTION)))))
    {
      world.refill_commit_dropped = TRUE;
      return THECAL_FAULT_ACTION_DROP;
    }
  if (answer && world.status_answers >= 0 && is_message (frame, THECAL_MSG_READ_STATUS))
    {
      if (world.status_answers == 0)
        return THECAL_FAULT_ACTION_DROP;
      world.status_answers--;
    }
  return THECAL_FAULT_ACTION_DELIVER;
}

static inline void
register_pump (ThecalRecordSession *session, const char *serial, const char *mrn)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalPump) pump = NULL;
  g_autoptr (ThecalRecordedPrescription) rx = NULL;
  guint8 key[THECAL_KEY_SIZE];
  ThecalPumpInput input = { serial, "TR-20", mrn, "2025-06-01", 455, key };

  thecal_sim_pump_demo_key (serial, key);
  pump = thecal_record_session_add_pump_sync (session, &input, NULL, &error);
  ck_assert_msg (pump != NULL, "%s", error != NULL ? error->message : "?");
  rx = SYNC (thecal_record_add_prescription, world.record, &error, thecal_record_session_get_user (session), serial,
             thecal_sim_pump_active (world.pump), world_pump_time (NULL) - 86400000, THECAL_RX_SOURCE_ENTERED, 0, NULL);
  ck_assert_msg (rx != NULL, "%s", error != NULL ? error->message : "?");
}

static inline void
world_setup (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalRecordSession) admin = NULL;
  g_autoptr (ThecalUser) physician = NULL;
  g_autoptr (ThecalUser) nurse = NULL;
  g_autoptr (ThecalPatient) patient = NULL;
  g_autoptr (ThecalPatient) other = NULL;
  g_autofree char *text = NULL;
  const char *demo_serial = world.demo_serial != NULL ? world.demo_serial : "TR20-000123";
  gint64 clinic_ahead_ms = world.clinic_ahead_ms;
  gsize length;
  ThecalDoseError dose_error;
  ThecalPatientInput p1 = { "MRN-1", "DOE, Jane", "1960-01-01", THECAL_OPIOID_TOLERANT, NULL };
  ThecalPatientInput p2 = { "MRN-2", "ROE, Richard", "1950-01-01", THECAL_OPIOID_TOLERANT, NULL };

  memset (&world, 0, sizeof world);
  world.status_answers = -1;
  world.demo_serial = demo_serial;
  world.clinic_ahead_ms = clinic_ahead_ms;
  record_test_setup ();
  ck_assert (load_data ("pump-models.json", &text, &length));
  ck_assert (thecal_pump_models_load_json (text, length, &world.models, &dose_error));
  g_clear_pointer (&text, g_free);
  ck_assert (load_data ("drug-library.json", &text, &length));
  ck_assert (thecal_drug_library_load_json (text, length, &world.library, &dose_error));

  world.clock = thecal_clock_new_virtual (0);
  world.pump = g_new0 (ThecalSimPump, 1);
  ck_assert (thecal_sim_pump_demo_init (world.pump, thecal_sim_pump_demo_find (demo_serial),
                                        thecal_pump_model_set_find (&world.models, "TR-20"), &dose_error));
  world.loopback = thecal_loopback_transport_new (world.pump, NULL, world.clock);
  world.fault = thecal_fault_transport_new (THECAL_TRANSPORT (world.loopback), &(ThecalFaultConfig){ .seed = 1 }, world.clock);
  thecal_fault_transport_set_policy (world.fault, policy, NULL, NULL);
  world.link = thecal_pump_link_new (THECAL_TRANSPORT (world.fault), world.clock);

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
  patient = thecal_record_session_add_patient_sync (world.physician, &p1, NULL, &error);
  ck_assert_msg (patient != NULL, "%s", error != NULL ? error->message : "?");
  other = thecal_record_session_add_patient_sync (world.physician, &p2, NULL, &error);
  ck_assert_ptr_nonnull (other);
}

static inline void
world_teardown (void)
{
  g_clear_object (&world.link);
  g_clear_object (&world.fault);
  g_clear_object (&world.loopback);
  g_clear_pointer (&world.pump, g_free);
  g_clear_object (&world.clock);
  g_clear_object (&world.physician);
  g_clear_object (&world.nurse);
  g_clear_object (&world.record);
  g_clear_pointer (&world.path, g_free);
  record_test_teardown ();
}

static inline ThecalVisit *
new_visit (ThecalRecordSession *session)
{
  ThecalVisit *visit = thecal_visit_new (session, world.link, &world.models, &world.library);

  thecal_visit_set_time_func (visit, world_pump_time, NULL);
  return visit;
}

/* Runs on the test's context. */
static inline void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  (void) source;
  *out = g_object_ref (result);
}

static inline GAsyncResult *
wait_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    if (!thecal_clock_iterate (world.clock, NULL))
      g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static inline gboolean
visit_connect (ThecalVisit *visit, const char *mrn, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  thecal_visit_connect_async (visit, mrn, NULL, on_done, &result);
  return thecal_visit_connect_finish (visit, wait_result (&result), error);
}

static inline gboolean
visit_reconcile (ThecalVisit *visit, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  thecal_visit_reconcile_async (visit, NULL, on_done, &result);
  return thecal_visit_reconcile_finish (visit, wait_result (&result), error);
}

/* TRUE when the visit has a finding of @code. */
static inline gboolean
has_finding (ThecalVisit *visit, const char *code)
{
  GPtrArray *findings = thecal_visit_get_findings (visit);

  for (guint i = 0; i < findings->len; i++)
    if (g_strcmp0 (((ThecalVisitFinding *) findings->pdata[i])->code, code) == 0)
      return TRUE;
  return FALSE;
}

/* The refills the record holds for MRN-1. */
static inline guint
count_refills (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ThecalPatientRecord) history = SYNC (thecal_record_get_patient_record, world.record, &error, "MRN-1");

  ck_assert_msg (history != NULL, "%s", error != NULL ? error->message : "?");
  return history->refills->len;
}
