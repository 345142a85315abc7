/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-units.h: the quantities of Thecal and exact, overflow-checked arithmetic on them.
 *
 * Every safety quantity is an int64_t integer whose unit is in its name (DESIGN.md):
 *   volume          nL            (1 mL = 1 000 000 nL)
 *   drug amount     ng            (1 mg = 1 000 000 ng, 1 mcg = 1 000 ng)
 *   concentration   ng per mL     (25 mg/mL = 25 000 000)
 *   volume rate     nL per day
 *   dose rate       ng per day
 *   time            ms (UTC instants, or durations); schedule times are minutes after local midnight
 *   ratio           basis points  (1 % = 100 bp)
 *
 * This layer is pure C17: no GLib, no heap, no I/O. Errors are reported through ThecalDoseError,
 * a fixed-size struct the caller owns.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C"
{
#endif

#define THECAL_NL_PER_ML INT64_C (1000000)
#define THECAL_NL_PER_UL INT64_C (1000)
#define THECAL_NG_PER_MG INT64_C (1000000)
#define THECAL_NG_PER_MCG INT64_C (1000)
#define THECAL_MS_PER_SECOND INT64_C (1000)
#define THECAL_MS_PER_MINUTE INT64_C (60000)
#define THECAL_MS_PER_HOUR INT64_C (3600000)
#define THECAL_MS_PER_DAY INT64_C (86400000)
#define THECAL_MINUTES_PER_DAY 1440
#define THECAL_BP_PER_PERCENT INT64_C (100)
#define THECAL_BP_WHOLE INT64_C (10000)

  /* What went wrong. Codes are stable: the CLI maps them to exit codes. */
  typedef enum
  {
    THECAL_DOSE_OK = 0,
    THECAL_DOSE_ERROR_PARSE,    /* text could not be read as the quantity asked for */
    THECAL_DOSE_ERROR_UNIT,     /* a unit is missing, unknown or of the wrong kind */
    THECAL_DOSE_ERROR_RANGE,    /* a value is outside the range the field allows */
    THECAL_DOSE_ERROR_OVERFLOW, /* the arithmetic would leave int64_t */
    THECAL_DOSE_ERROR_INVALID,  /* a structure is inconsistent (e.g. flex steps overlap) */
    THECAL_DOSE_ERROR_CAPACITY, /* a fixed-size table is full */
  } ThecalDoseStatus;

#define THECAL_ERROR_FIELD_MAX 64
#define THECAL_ERROR_MESSAGE_MAX 256

  /* field: the name of the input that is wrong ("concentration", "flex[3].start");
   * message: one sentence a clinician can read, naming the offending text and the limit. */
  typedef struct
  {
    ThecalDoseStatus code;
    char field[THECAL_ERROR_FIELD_MAX];
    char message[THECAL_ERROR_MESSAGE_MAX];
  } ThecalDoseError;

  /* Fills @error (if not NULL) and returns false, so callers can write
   * `return thecal_dose_error_set (error, ...);`. The message is printf-formatted and truncated
   * to fit. Only the first error is kept: an error that is already set is left alone. */
  bool thecal_dose_error_set (ThecalDoseError *error,
                              ThecalDoseStatus code,
                              const char *field,
                              const char *format,
                              ...) __attribute__ ((format (printf, 4, 5)));

  void thecal_dose_error_clear (ThecalDoseError *error);

  /* The one rounding rule of Thecal (docs/dosing.md): round to the nearest multiple, and when the
   * value lies exactly half-way, toward zero (the smaller magnitude: less drug). */
  typedef enum
  {
    THECAL_ROUND_NEAREST_HALF_DOWN = 0, /* the rule */
    THECAL_ROUND_DOWN,                  /* toward zero: only for ceilings ("never above") */
    THECAL_ROUND_UP,                    /* away from zero: only for floors and "no later than" times */
  } ThecalRounding;

  /* Checked arithmetic. Each returns false on overflow or division by zero and leaves *out alone. */
  bool thecal_add_i64 (int64_t a, int64_t b, int64_t *out);
  bool thecal_sub_i64 (int64_t a, int64_t b, int64_t *out);
  bool thecal_mul_i64 (int64_t a, int64_t b, int64_t *out);

  /* *out = a × b / c rounded by @rounding, computed exactly with a 128-bit intermediate;
   * false if c == 0 or the result does not fit in int64_t. Signs are handled; rounding is
   * symmetric around zero. */
  bool thecal_muldiv_i64 (int64_t a, int64_t b, int64_t c, ThecalRounding rounding, int64_t *out);

  /* *out = value rounded to a multiple of @step (step > 0) by @rounding. */
  bool thecal_round_to_step_i64 (int64_t value, int64_t step, ThecalRounding rounding, int64_t *out);

  /* Dose ↔ volume for a concentration (ng/mL). Exact, then rounded by @rounding to 1 ng / 1 nL. */
  bool thecal_dose_ng_from_volume_nl (int64_t volume_nl,
                                      int64_t concentration_ng_per_ml,
                                      ThecalRounding rounding,
                                      int64_t *dose_ng);
  bool thecal_volume_nl_from_dose_ng (int64_t dose_ng,
                                      int64_t concentration_ng_per_ml,
                                      ThecalRounding rounding,
                                      int64_t *volume_nl);

#ifdef __cplusplus
}
#endif
