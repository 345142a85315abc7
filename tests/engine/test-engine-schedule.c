/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-engine-schedule.c: the closed-form schedule functions against brute force and against the
 * dose core's thecal_delivery_plan_volume_between.
 */
#include "config.h"

#include "engine-test-util.h"
#include "thecal-engine-private.h"
#include "thecal-test.h"

/* A 3-step flex day with a zero-rate step, plus two periodic boluses, one wrapping midnight. */
static void
make_plan (ThecalDeliveryPlan *plan)
{
  memset (plan, 0, sizeof *plan);
  plan->mode = THECAL_MODE_FLEX;
  plan->stroke_volume_nl = 250;
  plan->n_segments = 4;
  plan->segments[0] = (ThecalDaySegment){ 0, 6 * HOUR, 100000 };
  plan->segments[1] = (ThecalDaySegment){ 6 * HOUR, 8 * HOUR, 0 };
  plan->segments[2] = (ThecalDaySegment){ 8 * HOUR, 20 * HOUR + 17, 333000 };
  plan->segments[3] = (ThecalDaySegment){ 20 * HOUR + 17, DAY, 48000 };
  plan->n_boluses = 2;
  plan->boluses[0] = (ThecalPlannedBolus){ 12 * HOUR, 90 * MINUTE, 7 * 250, 0 };
  plan->boluses[1] = (ThecalPlannedBolus){ 23 * HOUR, 3 * HOUR, 13 * 250, 0 };
}

static int64_t
floor_mod (int64_t a, int64_t b)
{
  int64_t m = a % b;

  return m < 0 ? m + b : m;
}

/* Reference: walk segment by segment from p0 to p1. */
static ThecalWide
ref_between (const ThecalDeliveryPlan *plan, int64_t p0, int64_t p1)
{
  ThecalWide sum = 0;
  int64_t t = p0;

  while (t < p1)
    {
      int64_t x = floor_mod (t, DAY), day_start = t - x;

      for (int32_t i = 0; i < plan->n_segments; i++)
        {
          const ThecalDaySegment *seg = &plan->segments[i];

          if (x >= seg->start_ms_of_day && x < seg->end_ms_of_day)
            {
              int64_t end = day_start + seg->end_ms_of_day;

              if (end > p1)
                end = p1;
              sum += (ThecalWide) seg->basal_rate_nl_per_day * (end - t);
              t = end;
              break;
            }
        }
    }
  return sum;
}

START_TEST (test_basal_between_matches_walk)
{
  ThecalDeliveryPlan plan;
  ThecalEngineSchedule sched;
  ThecalDoseError error;
  ThecalRng rng;

  make_plan (&plan);
  ck_assert (_thecal_schedule_build (&sched, &plan, &error));
  thecal_rng_seed (&rng, 1);
  ck_assert (_thecal_schedule_basal_between (&sched, T0, T0) == 0);
  ck_assert (_thecal_schedule_basal_between (&sched, T0, T0 + DAY) == sched.seg_prefix[4]);
  for (int i = 0; i < 2000; i++)
    {
      int64_t p0 = thecal_rng_range (&rng, -20 * DAY, 20 * DAY);
      int64_t p1 = p0 + thecal_rng_range (&rng, 0, 9 * DAY);

      ck_assert (_thecal_schedule_basal_between (&sched, p0, p1) == ref_between (&plan, p0, p1));
    }
}
END_TEST

START_TEST (test_basal_time_is_first_ms)
{
  ThecalDeliveryPlan plan;
  ThecalEngineSchedule sched;
  ThecalDoseError error;
  ThecalRng rng;

  make_plan (&plan);
  ck_assert (_thecal_schedule_build (&sched, &plan, &error));
  thecal_rng_seed (&rng, 2);
  for (int i = 0; i < 5000; i++)
    {
      int64_t p0 = thecal_rng_range (&rng, -5 * DAY, 5 * DAY);
      ThecalWide demand = thecal_rng_range (&rng, 1, 3 * sched.seg_prefix[4]);
      int64_t t = _thecal_schedule_basal_time (&sched, p0, demand);

      ck_assert_int_gt (t, p0);
      ck_assert (_thecal_schedule_basal_between (&sched, p0, t) >= demand);
      ck_assert (_thecal_schedule_basal_between (&sched, p0, t - 1) < demand);
    }
  /* exactly one day's integral from midnight ends at the last positive-rate ms of the day */
  ck_assert_int_eq (_thecal_schedule_basal_time (&sched, T0, sched.seg_prefix[4]), T0 + DAY);
  /* a plan that delivers nothing never reaches any demand */
  plan.n_segments = 1;
  plan.segments[0] = (ThecalDaySegment){ 0, DAY, 0 };
  ck_assert (_thecal_schedule_build (&sched, &plan, &error));
  ck_assert_int_eq (_thecal_schedule_basal_time (&sched, T0, 1), INT64_MAX);
}
END_TEST

START_TEST (test_periodic_count_matches_dose_core)
{
  ThecalDeliveryPlan plan;
  ThecalEngineSchedule sched;
  ThecalDoseError error;
  ThecalRng rng;

  make_plan (&plan);
  /* only the boluses: then volume_between is the periodic volume alone */
  plan.n_segments = 1;
  plan.segments[0] = (ThecalDaySegment){ 0, DAY, 0 };
  ck_assert (_thecal_schedule_build (&sched, &plan, &error));
  thecal_rng_seed (&rng, 3);
  for (int i = 0; i < 3000; i++)
    {
      int64_t p0 = thecal_rng_range (&rng, T0 - 3 * DAY, T0 + 3 * DAY);
      int64_t p1 = p0 + thecal_rng_range (&rng, 0, 4 * DAY);
      int64_t strokes = 0, volume;

      for (int32_t b = 0; b < sched.n_boluses; b++)
        strokes += _thecal_schedule_periodic_count (&sched, b, p1) - _thecal_schedule_periodic_count (&sched, b, p0);
      memset (&error, 0, sizeof error);
      if (!thecal_delivery_plan_volume_between (&plan, p0, p1, &volume, &error))
        ck_abort_msg ("volume_between: %s", error.message);
      ck_assert_int_eq (strokes * 250, volume);
    }
}
END_TEST

START_TEST (test_periodic_count_brute_force)
{
  ThecalDeliveryPlan plan;
  ThecalEngineSchedule sched;
  ThecalDoseError error;

  make_plan (&plan);
  ck_assert (_thecal_schedule_build (&sched, &plan, &error));
  /* bolus 1: 13 strokes over 3 h from 23:00: stroke k at 23:00 + ceil (k × 3 h / 13) */
  for (int64_t k = 1; k <= 13; k++)
    {
      int64_t at = T0 + 23 * HOUR + (k * 3 * HOUR + 12) / 13;
      int64_t c0 = _thecal_schedule_periodic_count (&sched, 1, T0 + 23 * HOUR);

      ck_assert_int_eq (_thecal_schedule_periodic_count (&sched, 1, at) - c0, k);
      ck_assert_int_eq (_thecal_schedule_periodic_count (&sched, 1, at - 1) - c0, k - 1);
    }
  /* a whole day holds every stroke of every bolus once */
  ck_assert_int_eq (_thecal_schedule_periodic_count (&sched, 0, T0 + 5 * DAY + 77)
                        - _thecal_schedule_periodic_count (&sched, 0, T0 + 4 * DAY + 77),
                    7);
  ck_assert (_thecal_schedule_periodic_inside (&sched, 1, T0 + 23 * HOUR));
  ck_assert (_thecal_schedule_periodic_inside (&sched, 1, T0 + DAY + 2 * HOUR - 1)); /* wrapped */
  ck_assert (!_thecal_schedule_periodic_inside (&sched, 1, T0 + DAY + 2 * HOUR));
  ck_assert (!_thecal_schedule_periodic_inside (&sched, 0, T0 + 12 * HOUR - 1));
}
END_TEST

START_TEST (test_next_edge_and_stroke)
{
  ThecalDeliveryPlan plan;
  ThecalEngineSchedule sched;
  ThecalDoseError error;
  ThecalRng rng;

  make_plan (&plan);
  ck_assert (_thecal_schedule_build (&sched, &plan, &error));
  ck_assert_int_eq (_thecal_schedule_periodic_next_edge (&sched, T0), T0 + 2 * HOUR); /* bolus 1 ends */
  ck_assert_int_eq (_thecal_schedule_periodic_next_edge (&sched, T0 + 2 * HOUR), T0 + 12 * HOUR);
  ck_assert_int_eq (_thecal_schedule_periodic_next_edge (&sched, T0 + 12 * HOUR), T0 + 13 * HOUR + 30 * MINUTE);
  ck_assert_int_eq (_thecal_schedule_periodic_next_edge (&sched, T0 + 13 * HOUR + 30 * MINUTE), T0 + 23 * HOUR);
  thecal_rng_seed (&rng, 4);
  for (int i = 0; i < 3000; i++)
    {
      int64_t p = thecal_rng_range (&rng, T0 - 2 * DAY, T0 + 2 * DAY);
      int32_t b = (int32_t) thecal_rng_range (&rng, 0, 1);
      int64_t next = _thecal_schedule_periodic_next_stroke (&sched, b, p);
      int64_t c = _thecal_schedule_periodic_count (&sched, b, p);

      ck_assert_int_gt (next, p);
      ck_assert_int_eq (_thecal_schedule_periodic_count (&sched, b, next - 1), c);
      ck_assert_int_eq (_thecal_schedule_periodic_count (&sched, b, next), c + 1);
    }
}
END_TEST

START_TEST (test_bolus_stroke_rule)
{
  ThecalRng rng;

  ck_assert_int_eq (_thecal_bolus_strokes_at (10, 1000, -5), 0);
  ck_assert_int_eq (_thecal_bolus_strokes_at (10, 1000, 0), 0);
  ck_assert_int_eq (_thecal_bolus_strokes_at (10, 1000, 99), 0);
  ck_assert_int_eq (_thecal_bolus_strokes_at (10, 1000, 100), 1);
  ck_assert_int_eq (_thecal_bolus_strokes_at (10, 1000, 999), 9);
  ck_assert_int_eq (_thecal_bolus_strokes_at (10, 1000, 1000), 10);
  ck_assert_int_eq (_thecal_bolus_strokes_at (10, 1000, INT64_MAX), 10);
  thecal_rng_seed (&rng, 5);
  for (int i = 0; i < 5000; i++)
    {
      int64_t n = thecal_rng_range (&rng, 1, 100000);
      int64_t d = thecal_rng_range (&rng, 1, 2 * DAY);
      int64_t k = thecal_rng_range (&rng, 1, n);
      int64_t e = _thecal_bolus_stroke_elapsed (n, d, k);

      ck_assert_int_ge (_thecal_bolus_strokes_at (n, d, e), k);
      ck_assert_int_lt (_thecal_bolus_strokes_at (n, d, e - 1), k);
    }
}
END_TEST

START_TEST (test_build_refuses_bad_plans)
{
  ThecalDeliveryPlan plan;
  ThecalEngineSchedule sched;
  ThecalDoseError error;

  make_plan (&plan);
  plan.segments[1].start_ms_of_day += 1; /* a gap */
  memset (&error, 0, sizeof error);
  ck_assert (!_thecal_schedule_build (&sched, &plan, &error));
  ck_assert_int_eq (error.code, THECAL_DOSE_ERROR_INVALID);
  make_plan (&plan);
  plan.boluses[0].volume_nl = 251; /* not whole strokes */
  memset (&error, 0, sizeof error);
  ck_assert (!_thecal_schedule_build (&sched, &plan, &error));
  make_plan (&plan);
  plan.segments[0].basal_rate_nl_per_day = INT64_MAX / 1000; /* a day's demand overflows */
  memset (&error, 0, sizeof error);
  ck_assert (!_thecal_schedule_build (&sched, &plan, &error));
  ck_assert_int_eq (error.code, THECAL_DOSE_ERROR_OVERFLOW);
  make_plan (&plan);
  plan.n_segments = 0;
  memset (&error, 0, sizeof error);
  ck_assert (!_thecal_schedule_build (&sched, &plan, &error));
}
END_TEST

static Suite *
schedule_suite (void)
{
  Suite *s = suite_create ("engine-schedule");
  TCase *tc = tcase_create ("schedule");

  tcase_add_test (tc, test_basal_between_matches_walk);
  tcase_add_test (tc, test_basal_time_is_first_ms);
  tcase_add_test (tc, test_periodic_count_matches_dose_core);
  tcase_add_test (tc, test_periodic_count_brute_force);
  tcase_add_test (tc, test_next_edge_and_stroke);
  tcase_add_test (tc, test_bolus_stroke_rule);
  tcase_add_test (tc, test_build_refuses_bad_plans);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (schedule_suite)
