/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-units.c: errors and exact, overflow-checked integer arithmetic for the dose core.
 */
#include "config.h"

#include "thecal-units.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* 128-bit intermediates keep a × b exact before the division. GCC and clang both provide
 * __int128 on every 64-bit target Thecal builds for; __extension__ keeps -Wpedantic quiet. */
__extension__ typedef __int128 thecal_i128;

bool
thecal_dose_error_set (ThecalDoseError *error,
                       ThecalDoseStatus code,
                       const char *field,
                       const char *format,
                       ...)
{
  va_list args;

  if (error == NULL || error->code != THECAL_DOSE_OK)
    return false;

  error->code = code;
  snprintf (error->field, sizeof error->field, "%s", field != NULL ? field : "");
  va_start (args, format);
  vsnprintf (error->message, sizeof error->message, format, args);
  va_end (args);
  return false;
}

void
thecal_dose_error_clear (ThecalDoseError *error)
{
  if (error != NULL)
    memset (error, 0, sizeof *error);
}

bool
thecal_add_i64 (int64_t a, int64_t b, int64_t *out)
{
  int64_t r;

  if (__builtin_add_overflow (a, b, &r))
    return false;
  *out = r;
  return true;
}

bool
thecal_sub_i64 (int64_t a, int64_t b, int64_t *out)
{
  int64_t r;

  if (__builtin_sub_overflow (a, b, &r))
    return false;
  *out = r;
  return true;
}

bool
thecal_mul_i64 (int64_t a, int64_t b, int64_t *out)
{
  int64_t r;

  if (__builtin_mul_overflow (a, b, &r))
    return false;
  *out = r;
  return true;
}

/* Divides a non-negative numerator by a positive denominator with the rounding asked for. */
static thecal_i128
divide_magnitude (thecal_i128 num, thecal_i128 den, ThecalRounding rounding)
{
  thecal_i128 q = num / den;
  thecal_i128 r = num % den;

  switch (rounding)
    {
    case THECAL_ROUND_DOWN:
      return q;
    case THECAL_ROUND_UP:
      return r != 0 ? q + 1 : q;
    case THECAL_ROUND_NEAREST_HALF_DOWN:
      /* strictly more than half rounds up; exactly half stays down (toward zero) */
      return (2 * r > den) ? q + 1 : q;
    default:
      return q;
    }
}

bool
thecal_muldiv_i64 (int64_t a, int64_t b, int64_t c, ThecalRounding rounding, int64_t *out)
{
  thecal_i128 num, den, mag;
  bool negative;

  if (c == 0)
    return false;

  num = (thecal_i128) a * (thecal_i128) b; /* |a·b| < 2^126: cannot overflow */
  den = c;
  negative = (num < 0) != (den < 0) && num != 0;
  if (num < 0)
    num = -num;
  if (den < 0)
    den = -den;

  mag = divide_magnitude (num, den, rounding);
  if (negative)
    mag = -mag;
  if (mag > INT64_MAX || mag < INT64_MIN)
    return false;
  *out = (int64_t) mag;
  return true;
}

bool
thecal_round_to_step_i64 (int64_t value, int64_t step, ThecalRounding rounding, int64_t *out)
{
  int64_t steps;

  if (step <= 0)
    return false;
  if (!thecal_muldiv_i64 (value, 1, step, rounding, &steps))
    return false;
  return thecal_mul_i64 (steps, step, out);
}

bool
thecal_dose_ng_from_volume_nl (int64_t volume_nl,
                               int64_t concentration_ng_per_ml,
                               ThecalRounding rounding,
                               int64_t *dose_ng)
{
  /* ng = nL × (ng/mL) / (nL/mL) */
  return thecal_muldiv_i64 (volume_nl, concentration_ng_per_ml, THECAL_NL_PER_ML, rounding, dose_ng);
}

bool
thecal_volume_nl_from_dose_ng (int64_t dose_ng,
                               int64_t concentration_ng_per_ml,
                               ThecalRounding rounding,
                               int64_t *volume_nl)
{
  /* nL = ng × (nL/mL) / (ng/mL) */
  if (concentration_ng_per_ml <= 0)
    return false;
  return thecal_muldiv_i64 (dose_ng, THECAL_NL_PER_ML, concentration_ng_per_ml, rounding, volume_nl);
}
