/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-wide-private.h: 128-bit integer helpers of the dose core (internal to the safety core:
 * src/dose and src/engine).
 *
 * Where a product can leave int64_t (a × b before a division, a rate integrated over
 * milliseconds, a day count times a daily integral) the dose core computes in 128 bits and checks
 * every narrowing back to int64_t: an overflow is an error, never a wrapped number. GCC and clang
 * provide __int128 on every 64-bit target Thecal builds for; __extension__ keeps -Wpedantic quiet.
 *
 * Rounding is the one rule of thecal-units.h (THECAL_ROUND_NEAREST_HALF_DOWN: nearest, exact
 * halves toward zero); THECAL_ROUND_DOWN truncates, THECAL_ROUND_UP rounds any remainder up.
 * Callers explain every use of DOWN and UP where they make it.
 */
#pragma once

#include "thecal-units.h"

/* Shared with src/engine (thecal-engine-private.h includes this header). */
__extension__ typedef __int128 ThecalWide;

#define THECAL_WIDE_MAX (__extension__((ThecalWide) (((unsigned __int128) 1 << 127) - 1)))

/* @num / @den for num ≥ 0 and den > 0, rounded by @rounding. */
static inline ThecalWide
_thecal_wide_div (ThecalWide num, ThecalWide den, ThecalRounding rounding)
{
  ThecalWide q = num / den;
  ThecalWide r = num % den;

  switch (rounding)
    {
    case THECAL_ROUND_DOWN:
      return q;
    case THECAL_ROUND_UP:
      return r != 0 ? q + 1 : q;
    case THECAL_ROUND_NEAREST_HALF_DOWN:
      /* strictly more than half rounds up; exactly half stays down (toward zero). Written as
       * r > den − r so that it cannot overflow whatever den is. */
      return r > den - r ? q + 1 : q;
    default:
      return q;
    }
}

/* *@out = @value when it fits in int64_t; false (and *@out untouched) otherwise. */
static inline bool
_thecal_wide_to_i64 (ThecalWide value, int64_t *out)
{
  if (value > INT64_MAX || value < INT64_MIN)
    return false;
  *out = (int64_t) value;
  return true;
}

/* *@out = @a × @b for a, b ≥ 0; false when a negative operand is given or the product leaves
 * 128 bits. (Written out because clang lowers __builtin_mul_overflow on __int128 to a
 * compiler-rt call that libgcc does not have.) */
static inline bool
_thecal_wide_mul (ThecalWide a, ThecalWide b, ThecalWide *out)
{
  if (a < 0 || b < 0)
    return false;
  if (a != 0 && b > THECAL_WIDE_MAX / a)
    return false;
  *out = a * b;
  return true;
}

/* *@out = @num × @mul / @den exactly, for num ≥ 0, mul ≥ 0, den > 0, even when num × mul does
 * not fit in 128 bits: with num = q·den + r, num·mul/den = q·mul + r·mul/den and r·mul < 2^126.
 * Only the remainder is rounded, so the result is the exact quotient rounded once. */
static inline bool
_thecal_wide_muldiv (ThecalWide num, int64_t mul, int64_t den, ThecalRounding rounding, ThecalWide *out)
{
  ThecalWide q, r, head, tail;

  if (num < 0 || mul < 0 || den <= 0)
    return false;
  q = num / den;
  r = num % den;
  if (q != 0 && mul != 0 && q > THECAL_WIDE_MAX / mul)
    return false;
  head = q * mul;
  tail = _thecal_wide_div (r * (ThecalWide) mul, den, rounding);
  if (head > THECAL_WIDE_MAX - tail)
    return false;
  *out = head + tail;
  return true;
}
