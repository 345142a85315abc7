/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-rng.c: the engine's seeded generator. Reference values come from an independent
 * big-integer implementation of the published splitmix64 and xoshiro256** definitions
 * (splitmix64 from 0 starts 0xe220a8397b1dcdaf, the value every port quotes).
 */
#include "config.h"

#include "thecal-rng.h"
#include "thecal-test.h"

#include <stdbool.h>
#include <string.h>

START_TEST (test_splitmix64_reference)
{
  uint64_t state = 0;

  ck_assert_uint_eq (thecal_splitmix64_next (&state), UINT64_C (0xe220a8397b1dcdaf));
  ck_assert_uint_eq (thecal_splitmix64_next (&state), UINT64_C (0x6e789e6aa1b965f4));
  ck_assert_uint_eq (thecal_splitmix64_next (&state), UINT64_C (0x06c45d188009454f));
}
END_TEST

START_TEST (test_xoshiro_reference)
{
  ThecalRng rng;

  thecal_rng_seed (&rng, 0);
  ck_assert_uint_eq (thecal_rng_next (&rng), UINT64_C (0x99ec5f36cb75f2b4));
  ck_assert_uint_eq (thecal_rng_next (&rng), UINT64_C (0xbf6e1f784956452a));
  ck_assert_uint_eq (thecal_rng_next (&rng), UINT64_C (0x1a5f849d4933e6e0));
  ck_assert_uint_eq (thecal_rng_next (&rng), UINT64_C (0x6aa594f1262d2d2c));
  thecal_rng_seed (&rng, 42);
  ck_assert_uint_eq (thecal_rng_next (&rng), UINT64_C (0x15780b2e0c2ec716));
  ck_assert_uint_eq (thecal_rng_next (&rng), UINT64_C (0x6104d9866d113a7e));
  ck_assert_uint_eq (thecal_rng_next (&rng), UINT64_C (0xae17533239e499a1));
  ck_assert_uint_eq (thecal_rng_next (&rng), UINT64_C (0xecb8ad4703b360a1));
}
END_TEST

START_TEST (test_same_seed_same_sequence)
{
  ThecalRng a, b, c;
  bool differs = false;

  thecal_rng_seed (&a, 12345);
  thecal_rng_seed (&b, 12345);
  thecal_rng_seed (&c, 12346);
  for (int i = 0; i < 1000; i++)
    {
      uint64_t x = thecal_rng_next (&a);

      ck_assert_uint_eq (x, thecal_rng_next (&b));
      differs = differs || x != thecal_rng_next (&c);
    }
  ck_assert (differs);
  ck_assert_int_eq (memcmp (&a, &b, sizeof a), 0);
}
END_TEST

START_TEST (test_below_bounds)
{
  ThecalRng rng;
  int64_t counts[7] = { 0 };

  thecal_rng_seed (&rng, 7);
  ck_assert_uint_eq (thecal_rng_below (&rng, 0), 0);
  ck_assert_uint_eq (thecal_rng_below (&rng, 1), 0);
  for (int i = 0; i < 70000; i++)
    {
      uint64_t x = thecal_rng_below (&rng, 7);

      ck_assert_uint_lt (x, 7);
      counts[x]++;
    }
  /* uniform: each of 7 values about 10 000 times; ±5 % is > 10 standard deviations */
  for (int i = 0; i < 7; i++)
    {
      ck_assert_int_gt (counts[i], 9500);
      ck_assert_int_lt (counts[i], 10500);
    }
  /* a bound just above 2^63 exercises the rejection path */
  for (int i = 0; i < 1000; i++)
    ck_assert_uint_lt (thecal_rng_below (&rng, (UINT64_C (1) << 63) + 3), (UINT64_C (1) << 63) + 3);
}
END_TEST

START_TEST (test_range_inclusive)
{
  ThecalRng rng;
  bool seen_lo = false, seen_hi = false;

  thecal_rng_seed (&rng, 99);
  for (int i = 0; i < 10000; i++)
    {
      int64_t x = thecal_rng_range (&rng, -3, 3);

      ck_assert_int_ge (x, -3);
      ck_assert_int_le (x, 3);
      seen_lo = seen_lo || x == -3;
      seen_hi = seen_hi || x == 3;
    }
  ck_assert (seen_lo && seen_hi);
  ck_assert_int_eq (thecal_rng_range (&rng, 5, 5), 5);
  ck_assert_int_eq (thecal_rng_range (&rng, 5, 4), 5); /* empty range: lo */
  /* the full int64_t range does not overflow */
  (void) thecal_rng_range (&rng, INT64_MIN, INT64_MAX);
  for (int i = 0; i < 100; i++)
    {
      int64_t x = thecal_rng_range (&rng, INT64_MAX - 1, INT64_MAX);

      ck_assert (x == INT64_MAX - 1 || x == INT64_MAX);
    }
}
END_TEST

static Suite *
rng_suite (void)
{
  Suite *s = suite_create ("rng");
  TCase *tc = tcase_create ("rng");

  tcase_add_test (tc, test_splitmix64_reference);
  tcase_add_test (tc, test_xoshiro_reference);
  tcase_add_test (tc, test_same_seed_same_sequence);
  tcase_add_test (tc, test_below_bounds);
  tcase_add_test (tc, test_range_inclusive);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (rng_suite)
