/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-units.c: errors and exact, overflow-checked integer arithmetic for the dose core.
 */
#include "config.h"

#include "thecal-units.h"

#include "thecal-wide-private.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

bool
thecal_muldiv_i64 (int64_t a, int64_t b, int64_t c, ThecalRounding rounding, int64_t *out)
{
  ThecalWide num, den, mag;
  bool negative;

  if (c == 0)
    return false;

  /* 128 bits keep a × b exact before the division: |a·b| < 2^126 cannot overflow */
  num = (ThecalWide) a * (ThecalWide) b;
  den = c;
  negative = (num < 0) != (den < 0) && num != 0;
  if (num < 0)
    num = -num;
  if (den < 0)
    den = -den;

  /* the magnitude is rounded, so the rounding is symmetric around zero */
  mag = _thecal_wide_div (num, den, rounding);
  if (negative)
    mag = -mag;
  return _thecal_wide_to_i64 (mag, out);
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
