/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-engine-log.c: the event ring: strictly increasing sequence numbers, the oldest retained
 * number, overwrite when full (a real pump's bounded memory).
 */
#include "config.h"

#include "engine-test-util.h"
#include "thecal-engine-private.h"
#include "thecal-test.h"

START_TEST (test_start_entries)
{
  ThecalPumpModel model;
  ThecalEngine *engine;
  ThecalEngineEvent event;

  model = thecal_test_tr_model (20);
  engine = test_engine_new (&model);
  ck_assert_int_eq (thecal_engine_log_oldest_seq (engine), 1);
  ck_assert_int_eq (thecal_engine_log_next_seq (engine), 3);
  ck_assert (thecal_engine_log_get (engine, 1, &event));
  ck_assert_int_eq (event.seq, 1);
  ck_assert_int_eq (event.type, THECAL_EVENT_ENGINE_START);
  ck_assert_int_eq (event.pump_ms, T0);
  ck_assert_int_eq (event.args[0], 20 * ML);
  ck_assert_int_eq (event.args[1], 250000); /* internal volume, no catheter */
  ck_assert_int_eq (event.args[2], 10000);
  ck_assert (thecal_engine_log_get (engine, 2, &event));
  ck_assert_int_eq (event.type, THECAL_EVENT_RESERVOIR_SET);
  ck_assert (!thecal_engine_log_get (engine, 0, &event));
  ck_assert (!thecal_engine_log_get (engine, 3, &event));
  ck_assert (!thecal_engine_log_get (engine, -1, &event));
  free (engine);
}
END_TEST

START_TEST (test_ring_wraps)
{
  ThecalPumpModel model;
  ThecalEngine *engine;
  ThecalEngineEvent event;
  const int64_t extra = 3 * THECAL_ENGINE_LOG_CAPACITY + 17;

  model = thecal_test_tr_model (20);
  engine = test_engine_new (&model);
  for (int64_t i = 0; i < extra; i++)
    _thecal_engine_log (engine, THECAL_EVENT_MOTOR_RESTARTED, 0, i, 0, 0);
  ck_assert_int_eq (thecal_engine_log_next_seq (engine), 3 + extra);
  /* capacity entries kept: the oldest is next − capacity */
  ck_assert_int_eq (thecal_engine_log_oldest_seq (engine), 3 + extra - THECAL_ENGINE_LOG_CAPACITY);
  ck_assert (!thecal_engine_log_get (engine, thecal_engine_log_oldest_seq (engine) - 1, &event));
  ck_assert (thecal_engine_log_get (engine, thecal_engine_log_oldest_seq (engine), &event));
  ck_assert_int_eq (event.seq, thecal_engine_log_oldest_seq (engine));
  ck_assert_int_eq (event.args[0], extra - THECAL_ENGINE_LOG_CAPACITY);
  /* every retained entry has its own number, strictly increasing */
  for (int64_t seq = thecal_engine_log_oldest_seq (engine); seq < thecal_engine_log_next_seq (engine); seq++)
    {
      ck_assert (thecal_engine_log_get (engine, seq, &event));
      ck_assert_int_eq (event.seq, seq);
    }
  ck_assert (thecal_engine_log_get (engine, 2 + extra, &event));
  ck_assert_int_eq (event.args[0], extra - 1);
  free (engine);
}
END_TEST

START_TEST (test_ring_boundary)
{
  ThecalPumpModel model;
  ThecalEngine *engine;
  ThecalEngineEvent event;

  model = thecal_test_tr_model (20);
  engine = test_engine_new (&model);
  /* exactly full: nothing lost yet */
  for (int64_t i = 2; i < THECAL_ENGINE_LOG_CAPACITY; i++)
    _thecal_engine_log (engine, THECAL_EVENT_MOTOR_RESTARTED, 0, i, 0, 0);
  ck_assert_int_eq (thecal_engine_log_oldest_seq (engine), 1);
  ck_assert_int_eq (thecal_engine_log_next_seq (engine), THECAL_ENGINE_LOG_CAPACITY + 1);
  ck_assert (thecal_engine_log_get (engine, 1, &event));
  ck_assert_int_eq (event.type, THECAL_EVENT_ENGINE_START);
  /* one more: the first is overwritten */
  _thecal_engine_log (engine, THECAL_EVENT_MOTOR_RESTARTED, 0, 0, 0, 0);
  ck_assert_int_eq (thecal_engine_log_oldest_seq (engine), 2);
  ck_assert (!thecal_engine_log_get (engine, 1, &event));
  ck_assert (thecal_engine_log_get (engine, THECAL_ENGINE_LOG_CAPACITY + 1, &event));
  ck_assert_int_eq (event.seq, THECAL_ENGINE_LOG_CAPACITY + 1);
  free (engine);
}
END_TEST

START_TEST (test_names)
{
  ThecalAlarmKind kind;
  ThecalFaultKind fault;

  for (int i = 0; i < THECAL_EVENT_N_TYPES; i++)
    ck_assert_str_ne (thecal_engine_event_type_name ((ThecalEngineEventType) i), "unknown");
  ck_assert_str_eq (thecal_engine_event_type_name (THECAL_EVENT_N_TYPES), "unknown");
  for (int i = 0; i < THECAL_ALARM_N_KINDS; i++)
    {
      ck_assert (thecal_alarm_kind_from_name (thecal_alarm_kind_name ((ThecalAlarmKind) i), &kind));
      ck_assert_int_eq (kind, i);
    }
  ck_assert (!thecal_alarm_kind_from_name ("loud", &kind));
  for (int i = 0; i < THECAL_FAULT_N_KINDS; i++)
    {
      ck_assert (thecal_fault_kind_from_name (thecal_fault_kind_name ((ThecalFaultKind) i), &fault));
      ck_assert_int_eq (fault, i);
    }
  ck_assert (!thecal_fault_kind_from_name ("gremlin", &fault));
  for (int i = 0; i < THECAL_SOURCE_N_SOURCES; i++)
    ck_assert_str_ne (thecal_source_name ((ThecalSource) i), "unknown");
  for (int i = 0; i < THECAL_PTM_N_OUTCOMES; i++)
    ck_assert_str_ne (thecal_ptm_outcome_name ((ThecalPtmOutcome) i), "unknown");
  ck_assert (thecal_alarm_kind_is_critical (THECAL_ALARM_RESERVOIR_EMPTY));
  ck_assert (thecal_alarm_kind_is_critical (THECAL_ALARM_EOS));
  ck_assert (thecal_alarm_kind_is_critical (THECAL_ALARM_MOTOR_STALL));
  ck_assert (thecal_alarm_kind_is_critical (THECAL_ALARM_MEMORY_ERROR));
  ck_assert (!thecal_alarm_kind_is_critical (THECAL_ALARM_LOW_RESERVOIR));
  ck_assert (!thecal_alarm_kind_is_critical (THECAL_ALARM_ERI));
  ck_assert_int_eq (sizeof (ThecalEngineEvent), 48);
}
END_TEST

static Suite *
log_suite (void)
{
  Suite *s = suite_create ("engine-log");
  TCase *tc = tcase_create ("log");

  tcase_add_test (tc, test_start_entries);
  tcase_add_test (tc, test_ring_wraps);
  tcase_add_test (tc, test_ring_boundary);
  tcase_add_test (tc, test_names);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (log_suite)
