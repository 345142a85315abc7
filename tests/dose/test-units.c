/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-units.c: the checked arithmetic and the one rounding rule.
 */
#include "config.h"

#include "thecal-test.h"
#include "thecal-units.h"

#include <string.h>

START_TEST (test_add_sub_mul_overflow)
{
  int64_t out = 42;

  ck_assert (thecal_add_i64 (1, 2, &out));
  ck_assert_int_eq (out, 3);
  ck_assert (thecal_add_i64 (INT64_MAX - 1, 1, &out));
  ck_assert_int_eq (out, INT64_MAX);
  out = 7;
  ck_assert (!thecal_add_i64 (INT64_MAX, 1, &out));
  ck_assert_int_eq (out, 7); /* left alone on overflow */
  ck_assert (!thecal_sub_i64 (INT64_MIN, 1, &out));
  ck_assert (thecal_sub_i64 (0, INT64_MAX, &out));
  ck_assert_int_eq (out, -INT64_MAX);
  ck_assert (thecal_mul_i64 (3037000499, 3037000499, &out)); /* floor (sqrt (2^63 − 1)) */
  ck_assert (!thecal_mul_i64 (3037000500, 3037000500, &out));
  ck_assert (!thecal_mul_i64 (INT64_MIN, -1, &out));
  ck_assert (thecal_mul_i64 (0, INT64_MAX, &out));
  ck_assert_int_eq (out, 0);
}
END_TEST

START_TEST (test_rounding_rule)
{
  int64_t out;

  /* nearest, ties toward zero */
  ck_assert (thecal_muldiv_i64 (5, 1, 2, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, 2); /* 2.5 → 2 */
  ck_assert (thecal_muldiv_i64 (7, 1, 2, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, 3); /* 3.5 → 3 */
  ck_assert (thecal_muldiv_i64 (8, 1, 3, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, 3); /* 2.67 → 3 */
  ck_assert (thecal_muldiv_i64 (7, 1, 3, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, 2); /* 2.33 → 2 */
  ck_assert (thecal_muldiv_i64 (-5, 1, 2, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, -2); /* symmetric: −2.5 → −2 */
  ck_assert (thecal_muldiv_i64 (-8, 1, 3, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, -3);
  ck_assert (thecal_muldiv_i64 (5, -1, 2, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, -2);

  ck_assert (thecal_muldiv_i64 (7, 1, 3, THECAL_ROUND_DOWN, &out));
  ck_assert_int_eq (out, 2);
  ck_assert (thecal_muldiv_i64 (7, 1, 3, THECAL_ROUND_UP, &out));
  ck_assert_int_eq (out, 3);
  ck_assert (thecal_muldiv_i64 (6, 1, 3, THECAL_ROUND_UP, &out));
  ck_assert_int_eq (out, 2);
  ck_assert (thecal_muldiv_i64 (0, 1, 3, THECAL_ROUND_UP, &out));
  ck_assert_int_eq (out, 0);
}
END_TEST

START_TEST (test_muldiv_exact_beyond_int64)
{
  int64_t out = 99;

  /* a × b exceeds int64_t but the quotient fits: exact thanks to the 128-bit intermediate */
  ck_assert (thecal_muldiv_i64 (INT64_MAX, 1000000, 1000000, THECAL_ROUND_DOWN, &out));
  ck_assert_int_eq (out, INT64_MAX);
  ck_assert (thecal_muldiv_i64 (INT64_MAX, INT64_MAX, INT64_MAX, THECAL_ROUND_DOWN, &out));
  ck_assert_int_eq (out, INT64_MAX);
  /* the quotient does not fit */
  out = 99;
  ck_assert (!thecal_muldiv_i64 (INT64_MAX, 2, 1, THECAL_ROUND_DOWN, &out));
  ck_assert_int_eq (out, 99);
  ck_assert (!thecal_muldiv_i64 (INT64_MIN, -1, 1, THECAL_ROUND_DOWN, &out));
  /* division by zero */
  ck_assert (!thecal_muldiv_i64 (1, 1, 0, THECAL_ROUND_DOWN, &out));
  ck_assert_int_eq (out, 99);
}
END_TEST

START_TEST (test_round_to_step)
{
  int64_t out;

  /* a rate resolution of 1 000 nL/day (0.001 mL/day) */
  ck_assert (thecal_round_to_step_i64 (200000, 1000, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, 200000);
  ck_assert (thecal_round_to_step_i64 (200500, 1000, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, 200000); /* exactly half: down */
  ck_assert (thecal_round_to_step_i64 (200501, 1000, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, 201000);
  ck_assert (thecal_round_to_step_i64 (499, 1000, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, 0);
  ck_assert (thecal_round_to_step_i64 (1, 1000, THECAL_ROUND_UP, &out));
  ck_assert_int_eq (out, 1000);
  ck_assert (!thecal_round_to_step_i64 (1, 0, THECAL_ROUND_UP, &out));
  ck_assert (!thecal_round_to_step_i64 (1, -5, THECAL_ROUND_UP, &out));
  ck_assert (!thecal_round_to_step_i64 (INT64_MAX, 1000, THECAL_ROUND_UP, &out));
}
END_TEST

START_TEST (test_dose_volume_conversion)
{
  int64_t out;

  /* 0.2 mL of 25 mg/mL = 5 mg */
  ck_assert (thecal_dose_ng_from_volume_nl (200000, 25000000, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, 5000000);
  /* 5 mg at 25 mg/mL = 0.2 mL */
  ck_assert (thecal_volume_nl_from_dose_ng (5000000, 25000000, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, 200000);
  /* 1 nL of 1 ng/mL = 0.000001 ng → 0 ng by the rule */
  ck_assert (thecal_dose_ng_from_volume_nl (1, 1, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert_int_eq (out, 0);
  /* a zero or negative concentration has no volume */
  ck_assert (!thecal_volume_nl_from_dose_ng (5000000, 0, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  ck_assert (!thecal_volume_nl_from_dose_ng (5000000, -1, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
  /* overflow is reported, not wrapped */
  ck_assert (!thecal_volume_nl_from_dose_ng (INT64_MAX, 1, THECAL_ROUND_NEAREST_HALF_DOWN, &out));
}
END_TEST

START_TEST (test_error_first_wins)
{
  ThecalDoseError error;

  thecal_dose_error_clear (&error);
  ck_assert_int_eq (error.code, THECAL_DOSE_OK);
  ck_assert (!thecal_dose_error_set (&error, THECAL_DOSE_ERROR_RANGE, "rate", "rate %d above %d", 5, 4));
  ck_assert_int_eq (error.code, THECAL_DOSE_ERROR_RANGE);
  ck_assert_str_eq (error.field, "rate");
  ck_assert_str_eq (error.message, "rate 5 above 4");
  /* a second error does not overwrite the first */
  thecal_dose_error_set (&error, THECAL_DOSE_ERROR_PARSE, "dose", "other");
  ck_assert_str_eq (error.field, "rate");
  /* NULL is allowed */
  ck_assert (!thecal_dose_error_set (NULL, THECAL_DOSE_ERROR_PARSE, "x", "y"));
  /* a long message is truncated, never overflows */
  thecal_dose_error_clear (&error);
  char long_text[1024];
  memset (long_text, 'a', sizeof long_text - 1);
  long_text[sizeof long_text - 1] = '\0';
  thecal_dose_error_set (&error, THECAL_DOSE_ERROR_PARSE, long_text, "%s", long_text);
  ck_assert_uint_eq (strlen (error.message), THECAL_ERROR_MESSAGE_MAX - 1);
  ck_assert_uint_eq (strlen (error.field), THECAL_ERROR_FIELD_MAX - 1);
}
END_TEST

static Suite *
units_suite (void)
{
  Suite *suite = suite_create ("units");
  TCase *tc = tcase_create ("arithmetic");

  tcase_add_test (tc, test_add_sub_mul_overflow);
  tcase_add_test (tc, test_rounding_rule);
  tcase_add_test (tc, test_muldiv_exact_beyond_int64);
  tcase_add_test (tc, test_round_to_step);
  tcase_add_test (tc, test_dose_volume_conversion);
  tcase_add_test (tc, test_error_first_wins);
  suite_add_tcase (suite, tc);
  return suite;
}

THECAL_TEST_MAIN (units_suite)
