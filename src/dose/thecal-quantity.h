/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-quantity.h: exact, locale-independent parsing and ISMP-style formatting of quantities.
 *
 * Text in: a decimal number (digits, at most one '.', no sign unless stated, no exponent, no
 * thousands separator), optional spaces, then a unit. The number is converted exactly: a value
 * finer than the integer unit (e.g. "0.0000001 mL", below 1 nL) is an error, never rounded.
 * Leading and trailing ASCII spaces are ignored. Units are case-sensitive where case carries
 * meaning (mg vs Mg do not exist; "mL" and "ml" are both accepted for millilitre).
 *
 * Accepted spellings (docs/dosing.md lists them all):
 *   amount          mg, mcg, µg, ug (µg and ug are read as mcg), ng
 *   volume          mL, ml, µL, uL, ul (microlitres), nL
 *   concentration   <amount>/mL        e.g. "25 mg/mL", "100 mcg/mL"
 *   dose rate       <amount>/day, <amount>/d, <amount>/24h, <amount>/h
 *   volume rate     mL/day, mL/d, mL/h, µL/day, µL/h (and the spellings above)
 *   duration        ms, s, sec, min, h, hr, day, days, d  (e.g. "90 min", "2 h"); also "H:MM"
 *   time of day     "HH:MM" 00:00–23:59
 *   ratio           "14.5 %" / "14.5%" → basis points
 *   length          mm, cm         e.g. "45 cm", "455 mm" → mm
 *
 * Text out, the ISMP way: leading zero ("0.5"), no trailing zero ("5", not "5.0"), "mcg" (never
 * "µg"), a space between number and unit, the unit always. Formatting uses every significant
 * digit, so parse (format (x)) == x for every value.
 */
#pragma once

#include "thecal-units.h"

#ifdef __cplusplus
extern "C"
{
#endif

/* Big enough for any formatted quantity: 20 digits, a point, a space and the longest unit. */
#define THECAL_QUANTITY_TEXT_MAX 48

  typedef enum
  {
    THECAL_QUANTITY_AMOUNT = 0,    /* ng */
    THECAL_QUANTITY_VOLUME,        /* nL */
    THECAL_QUANTITY_CONCENTRATION, /* ng/mL */
    THECAL_QUANTITY_DOSE_RATE,     /* ng/day */
    THECAL_QUANTITY_VOLUME_RATE,   /* nL/day */
    THECAL_QUANTITY_DURATION,      /* ms */
    THECAL_QUANTITY_TIME_OF_DAY,   /* minutes after midnight, 0..1439 */
    THECAL_QUANTITY_RATIO,         /* basis points */
    THECAL_QUANTITY_LENGTH,        /* mm (catheter lengths) */
    THECAL_QUANTITY_N_KINDS
  } ThecalQuantityKind;

  /* Parses @text as a quantity of @kind. On success stores the value in its integer unit.
   * On failure returns false and fills @error with the field name @field and a message that
   * quotes the offending text (e.g. `unknown unit "mg/l" in "25 mg/l": use mg/mL or mcg/mL`). */
  bool thecal_quantity_parse (ThecalQuantityKind kind,
                              const char *text,
                              const char *field,
                              int64_t *value,
                              ThecalDoseError *error);

  /* Parses text that may be either a dose rate or a volume rate ("5 mg/day" or "0.2 mL/day"),
   * reporting which in *@kind_out. */
  bool thecal_quantity_parse_rate (const char *text,
                                   const char *field,
                                   ThecalQuantityKind *kind_out,
                                   int64_t *value,
                                   ThecalDoseError *error);

  /* Formats @value of @kind into @buf (at least THECAL_QUANTITY_TEXT_MAX bytes) in the unit a
   * clinician expects: amounts and dose rates in mg when ≥ 1 mg, otherwise mcg; concentrations in
   * mg/mL when ≥ 1 mg/mL, otherwise mcg/mL; volumes in mL; volume rates in mL/day; durations in the
   * largest of day/h/min/s/ms that shows them exactly; times of day as HH:MM; ratios in %; lengths in cm.
   * Negative values (discrepancies) get a leading '-'. Returns @buf. */
  char *thecal_quantity_format (ThecalQuantityKind kind, int64_t value, char *buf, size_t buf_size);

  /* Formats in a unit chosen by the caller ("mcg/day", "mL/h", ...); the unit must be one the
   * parser accepts for @kind. Returns NULL (and writes "") if the unit is not known for @kind
   * or the value cannot be shown exactly in it. */
  char *thecal_quantity_format_in (ThecalQuantityKind kind,
                                   int64_t value,
                                   const char *unit,
                                   char *buf,
                                   size_t buf_size);

  /* The name of a kind for messages ("dose rate"). */
  const char *thecal_quantity_kind_name (ThecalQuantityKind kind);

#ifdef __cplusplus
}
#endif
