/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-quantity.c: exact, locale-independent parsing and ISMP-style formatting of quantities.
 *
 * Nothing here calls strtod, strtol, printf-style number conversion or anything else that reads
 * the locale: digits are read and written by hand, every step overflow-checked with the helpers
 * of thecal-units.h. A number is never rounded on input: text that is finer than the integer unit
 * of its kind ("0.0000001 mL", below 1 nL) is refused, so the value stored is the value typed.
 *
 * Text in (thecal-quantity.h lists every spelling):
 *   [spaces] digits [ "." digits ] [spaces] unit [spaces]
 *   [spaces] HH ":" MM [spaces]        time of day, and (hours of any length) a duration
 */
#include "config.h"

#include "thecal-quantity.h"

#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Units
 * ------------------------------------------------------------------------------------------- */

/* One spelling of a unit: how many integer units of its kind one of it is, and how it is shown.
 * "display" differs from "spelling" only where ISMP asks for another form (µg and ug are shown
 * as mcg, ml as mL). */
typedef struct
{
  const char *spelling;
  int64_t factor;
  const char *display;
} ThecalUnit;

#define N_ELEMENTS(array) (sizeof (array) / sizeof ((array)[0]))

/* U+00B5 MICRO SIGN and U+03BC GREEK SMALL LETTER MU both read as "micro". */
#define MICRO_SIGN "\xc2\xb5"
#define GREEK_MU "\xce\xbc"

static const ThecalUnit amount_units[] = {
  { "mg", THECAL_NG_PER_MG, "mg" },
  { "mcg", THECAL_NG_PER_MCG, "mcg" },
  { MICRO_SIGN "g", THECAL_NG_PER_MCG, "mcg" },
  { GREEK_MU "g", THECAL_NG_PER_MCG, "mcg" },
  { "ug", THECAL_NG_PER_MCG, "mcg" },
  { "ng", 1, "ng" },
};

static const ThecalUnit volume_units[] = {
  { "mL", THECAL_NL_PER_ML, "mL" },
  { "ml", THECAL_NL_PER_ML, "mL" },
  { MICRO_SIGN "L", THECAL_NL_PER_UL, MICRO_SIGN "L" },
  { GREEK_MU "L", THECAL_NL_PER_UL, MICRO_SIGN "L" },
  { "uL", THECAL_NL_PER_UL, "uL" },
  { "ul", THECAL_NL_PER_UL, "uL" },
  { "nL", 1, "nL" },
};

/* The denominator of a concentration: per millilitre. */
static const ThecalUnit per_volume_units[] = {
  { "mL", 1, "mL" },
  { "ml", 1, "mL" },
};

/* The denominator of a rate, as a multiplier to "per day": per hour is exactly × 24. */
static const ThecalUnit per_time_units[] = {
  { "day", 1, "day" },
  { "d", 1, "d" },
  { "24h", 1, "24h" },
  { "h", 24, "h" },
};

static const ThecalUnit duration_units[] = {
  { "ms", 1, "ms" },
  { "s", THECAL_MS_PER_SECOND, "s" },
  { "sec", THECAL_MS_PER_SECOND, "sec" },
  { "min", THECAL_MS_PER_MINUTE, "min" },
  { "h", THECAL_MS_PER_HOUR, "h" },
  { "hr", THECAL_MS_PER_HOUR, "hr" },
  { "day", THECAL_MS_PER_DAY, "day" },
  { "days", THECAL_MS_PER_DAY, "days" },
  { "d", THECAL_MS_PER_DAY, "d" },
};

static const ThecalUnit ratio_units[] = {
  { "%", THECAL_BP_PER_PERCENT, "%" },
};

static const ThecalUnit length_units[] = {
  { "mm", 1, "mm" },
  { "cm", 10, "cm" },
};

/* What a kind is called in messages, an example, the units to suggest, and its smallest step. */
typedef struct
{
  const char *name;     /* "dose rate" */
  const char *a_name;   /* "a dose rate" */
  const char *example;  /* "0.5 mcg/day" */
  const char *hint;     /* "mg/day, mcg/day, mg/h or mcg/h" */
  const char *smallest; /* "1 ng/day" */
} ThecalKindInfo;

static const ThecalKindInfo kind_info[THECAL_QUANTITY_N_KINDS] = {
  [THECAL_QUANTITY_AMOUNT] = { "amount", "an amount", "5 mg", "mg, mcg or ng", "1 ng" },
  [THECAL_QUANTITY_VOLUME] = { "volume", "a volume", "1.5 mL", "mL, uL or nL", "1 nL" },
  [THECAL_QUANTITY_CONCENTRATION] = { "concentration", "a concentration", "25 mg/mL",
                                      "mg/mL, mcg/mL or ng/mL", "1 ng/mL" },
  [THECAL_QUANTITY_DOSE_RATE] = { "dose rate", "a dose rate", "0.5 mcg/day",
                                  "mg/day, mcg/day, mg/h or mcg/h", "1 ng/day" },
  [THECAL_QUANTITY_VOLUME_RATE] = { "volume rate", "a volume rate", "0.2 mL/day",
                                    "mL/day, mL/h or uL/h", "1 nL/day" },
  [THECAL_QUANTITY_DURATION] = { "duration", "a duration", "90 min", "ms, s, min, h or days (or H:MM)",
                                 "1 ms" },
  [THECAL_QUANTITY_TIME_OF_DAY] = { "time of day", "a time of day", "08:30", "HH:MM from 00:00 to 23:59",
                                    "1 minute" },
  [THECAL_QUANTITY_RATIO] = { "ratio", "a ratio", "14.5 %", "%", "0.01 %" },
  [THECAL_QUANTITY_LENGTH] = { "length", "a length", "45 cm", "mm or cm", "1 mm" },
};

/* What a parse accepts: one kind, or (thecal_quantity_parse_rate) either rate. */
typedef struct
{
  ThecalQuantityKind kinds[2];
  size_t n_kinds;
  const char *name;
  const char *a_name;
  const char *example;
  const char *hint;
} ThecalExpect;

static bool
kind_is_valid (ThecalQuantityKind kind)
{
  return (unsigned) kind < (unsigned) THECAL_QUANTITY_N_KINDS;
}

static const ThecalUnit *
table_find (const ThecalUnit *table, size_t n, const char *unit, size_t len)
{
  for (size_t i = 0; i < n; i++)
    {
      if (strlen (table[i].spelling) == len && memcmp (table[i].spelling, unit, len) == 0)
        return &table[i];
    }
  return NULL;
}

/* A resolved unit: its factor to the integer unit of the kind and how to show it
 * (numerator, and for quotients the denominator). */
typedef struct
{
  int64_t factor;
  const char *display;
  const char *per_display; /* NULL unless the unit is a quotient */
} ThecalResolvedUnit;

/* The simple (non-quotient) unit table of @kind, or NULL. */
static const ThecalUnit *
simple_table (ThecalQuantityKind kind, size_t *n)
{
  switch (kind)
    {
    case THECAL_QUANTITY_AMOUNT:
      *n = N_ELEMENTS (amount_units);
      return amount_units;
    case THECAL_QUANTITY_VOLUME:
      *n = N_ELEMENTS (volume_units);
      return volume_units;
    case THECAL_QUANTITY_DURATION:
      *n = N_ELEMENTS (duration_units);
      return duration_units;
    case THECAL_QUANTITY_RATIO:
      *n = N_ELEMENTS (ratio_units);
      return ratio_units;
    case THECAL_QUANTITY_LENGTH:
      *n = N_ELEMENTS (length_units);
      return length_units;
    case THECAL_QUANTITY_CONCENTRATION:
    case THECAL_QUANTITY_DOSE_RATE:
    case THECAL_QUANTITY_VOLUME_RATE:
    case THECAL_QUANTITY_TIME_OF_DAY:
    case THECAL_QUANTITY_N_KINDS:
    default:
      *n = 0;
      return NULL;
    }
}

/* Resolves the unit text @unit (@len bytes, not NUL-terminated) for @kind. */
static bool
unit_resolve (ThecalQuantityKind kind, const char *unit, size_t len, ThecalResolvedUnit *out)
{
  const ThecalUnit *numerators = NULL;
  const ThecalUnit *denominators = NULL;
  size_t n_numerators = 0;
  size_t n_denominators = 0;
  const ThecalUnit *num;
  const ThecalUnit *den;
  const char *slash;
  size_t num_len;

  switch (kind)
    {
    case THECAL_QUANTITY_AMOUNT:
    case THECAL_QUANTITY_VOLUME:
    case THECAL_QUANTITY_DURATION:
    case THECAL_QUANTITY_RATIO:
    case THECAL_QUANTITY_LENGTH:
      {
        size_t n;
        const ThecalUnit *table = simple_table (kind, &n);
        const ThecalUnit *u = table_find (table, n, unit, len);

        if (u == NULL)
          return false;
        out->factor = u->factor;
        out->display = u->display;
        out->per_display = NULL;
        return true;
      }
    case THECAL_QUANTITY_CONCENTRATION:
      numerators = amount_units;
      n_numerators = N_ELEMENTS (amount_units);
      denominators = per_volume_units;
      n_denominators = N_ELEMENTS (per_volume_units);
      break;
    case THECAL_QUANTITY_DOSE_RATE:
      numerators = amount_units;
      n_numerators = N_ELEMENTS (amount_units);
      denominators = per_time_units;
      n_denominators = N_ELEMENTS (per_time_units);
      break;
    case THECAL_QUANTITY_VOLUME_RATE:
      numerators = volume_units;
      n_numerators = N_ELEMENTS (volume_units);
      denominators = per_time_units;
      n_denominators = N_ELEMENTS (per_time_units);
      break;
    case THECAL_QUANTITY_TIME_OF_DAY: /* written HH:MM, without a unit */
    case THECAL_QUANTITY_N_KINDS:
    default:
      return false;
    }

  slash = memchr (unit, '/', len);
  if (slash == NULL)
    return false;
  num_len = (size_t) (slash - unit);
  num = table_find (numerators, n_numerators, unit, num_len);
  den = table_find (denominators, n_denominators, slash + 1, len - num_len - 1);
  if (num == NULL || den == NULL)
    return false;
  /* at most 1 000 000 × 24: cannot overflow */
  out->factor = num->factor * den->factor;
  out->display = num->display;
  out->per_display = den->display;
  return true;
}

/* ---------------------------------------------------------------------------------------------
 * Messages
 * ------------------------------------------------------------------------------------------- */

#define QUOTE_MAX 64

/* Copies @text (@len bytes) for quoting in a message: control bytes become '?', and text longer
 * than the message can hold is cut at a character boundary and ends in "...". */
static void
quote (const char *text, size_t len, char out[QUOTE_MAX])
{
  const size_t keep_max = QUOTE_MAX - 4; /* room for "..." and the NUL */
  size_t n = len;
  size_t i;

  if (n > keep_max)
    {
      n = keep_max;
      /* do not cut a UTF-8 sequence: back off over continuation bytes */
      while (n > 0 && ((unsigned char) text[n] & 0xC0) == 0x80)
        n--;
    }
  for (i = 0; i < n; i++)
    {
      unsigned char c = (unsigned char) text[i];

      out[i] = (c < 0x20 || c == 0x7F) ? '?' : (char) c;
    }
  if (n < len)
    {
      memcpy (out + i, "...", 3);
      i += 3;
    }
  out[i] = '\0';
}

/* ---------------------------------------------------------------------------------------------
 * Parsing
 * ------------------------------------------------------------------------------------------- */

static bool
is_digit (char c)
{
  return c >= '0' && c <= '9';
}

/* Reads @len decimal digits exactly; false if the value leaves int64_t. */
static bool
digits_to_i64 (const char *digits, size_t len, int64_t *out)
{
  int64_t v = 0;

  for (size_t i = 0; i < len; i++)
    {
      if (!thecal_mul_i64 (v, 10, &v) || !thecal_add_i64 (v, digits[i] - '0', &v))
        return false;
    }
  *out = v;
  return true;
}

/* The largest value of the expected kind, for overflow messages. */
static void
largest_text (const ThecalExpect *expect, char out[THECAL_QUANTITY_TEXT_MAX])
{
  thecal_quantity_format (expect->kinds[0], INT64_MAX, out, THECAL_QUANTITY_TEXT_MAX);
}

/* "H:MM" (duration) and "HH:MM" (time of day). @s/@len is the text without outer spaces. */
static bool
parse_clock (const ThecalExpect *expect,
             ThecalQuantityKind kind,
             const char *s,
             size_t len,
             const char *field,
             const char *quoted,
             int64_t *value,
             ThecalDoseError *error)
{
  const char *colon = memchr (s, ':', len);
  size_t hours_len = colon != NULL ? (size_t) (colon - s) : len;
  size_t minutes_len = colon != NULL ? len - hours_len - 1 : 0;
  int64_t hours = 0;
  int64_t minutes = 0;
  int64_t ms_hours;
  bool digits_ok = colon != NULL && hours_len > 0 && minutes_len == 2;

  for (size_t i = 0; digits_ok && i < hours_len; i++)
    digits_ok = is_digit (s[i]);
  for (size_t i = 0; digits_ok && i < minutes_len; i++)
    digits_ok = is_digit (colon[1 + i]);

  if (kind == THECAL_QUANTITY_TIME_OF_DAY)
    {
      if (!digits_ok || hours_len != 2)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_PARSE, field,
                                      "%s \"%s\" is not a time of day: write HH:MM with two digits each, from 00:00 to 23:59 (e.g. \"08:30\")",
                                      field, quoted);
      hours = (s[0] - '0') * 10 + (s[1] - '0');
      minutes = (colon[1] - '0') * 10 + (colon[2] - '0');
      if (hours > 23 || minutes > 59)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field,
                                      "%s \"%s\" is not a time of day: it must lie between 00:00 and 23:59",
                                      field, quoted);
      *value = hours * 60 + minutes;
      return true;
    }

  if (!digits_ok)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_PARSE, field,
                                  "%s \"%s\" is not a duration: write H:MM with two-digit minutes (e.g. \"1:30\") or a number and a unit (e.g. \"90 min\")",
                                  field, quoted);
  minutes = (colon[1] - '0') * 10 + (colon[2] - '0');
  if (minutes > 59)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field,
                                  "%s \"%s\" is not a duration: in H:MM the minutes must lie between 00 and 59",
                                  field, quoted);
  if (!digits_to_i64 (s, hours_len, &hours)
      || !thecal_mul_i64 (hours, THECAL_MS_PER_HOUR, &ms_hours)
      || !thecal_add_i64 (ms_hours, minutes * THECAL_MS_PER_MINUTE, value))
    {
      char largest[THECAL_QUANTITY_TEXT_MAX];

      largest_text (expect, largest);
      return thecal_dose_error_set (error, THECAL_DOSE_ERROR_OVERFLOW, field,
                                    "%s \"%s\" is too large: the largest duration Thecal can hold is %s",
                                    field, quoted, largest);
    }
  return true;
}

/* Which kind, other than the expected ones, the unit text belongs to (N_KINDS if none). */
static ThecalQuantityKind
kind_of_unit (const ThecalExpect *expect, const char *unit, size_t len)
{
  for (int k = 0; k < (int) THECAL_QUANTITY_N_KINDS; k++)
    {
      ThecalResolvedUnit resolved;
      bool expected = false;

      for (size_t i = 0; i < expect->n_kinds; i++)
        expected = expected || expect->kinds[i] == (ThecalQuantityKind) k;
      if (!expected && unit_resolve ((ThecalQuantityKind) k, unit, len, &resolved))
        return (ThecalQuantityKind) k;
    }
  return THECAL_QUANTITY_N_KINDS;
}

static bool
parse_expect (const ThecalExpect *expect,
              const char *text,
              const char *field_in,
              ThecalQuantityKind *kind_out,
              int64_t *value,
              ThecalDoseError *error)
{
  const char *field = field_in != NULL && field_in[0] != '\0' ? field_in : expect->name;
  char quoted[QUOTE_MAX];
  const char *s;
  size_t len;
  size_t pos = 0;
  size_t int_start, int_len, frac_start = 0, frac_len = 0;
  size_t unit_start, unit_len;
  bool accepts_clock = false;
  bool accepts_time_of_day = false;
  ThecalQuantityKind kind = expect->kinds[0];
  ThecalResolvedUnit unit = { 0 };
  int64_t int_value, int_scaled, frac_value = 0, result;

  if (text == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_PARSE, field,
                                  "%s is missing: enter %s such as \"%s\"", field, expect->a_name,
                                  expect->example);

  /* outer ASCII spaces are ignored */
  s = text;
  while (*s == ' ')
    s++;
  len = strlen (s);
  while (len > 0 && s[len - 1] == ' ')
    len--;
  quote (text, strlen (text), quoted);

  for (size_t i = 0; i < expect->n_kinds; i++)
    {
      accepts_clock = accepts_clock || expect->kinds[i] == THECAL_QUANTITY_DURATION
                      || expect->kinds[i] == THECAL_QUANTITY_TIME_OF_DAY;
      accepts_time_of_day = accepts_time_of_day || expect->kinds[i] == THECAL_QUANTITY_TIME_OF_DAY;
    }

  if (len == 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_PARSE, field,
                                  "%s \"%s\" is empty: enter %s such as \"%s\"", field, quoted,
                                  expect->a_name, expect->example);

  if (accepts_time_of_day)
    {
      if (!parse_clock (expect, THECAL_QUANTITY_TIME_OF_DAY, s, len, field, quoted, &result, error))
        return false;
      if (kind_out != NULL)
        *kind_out = THECAL_QUANTITY_TIME_OF_DAY;
      *value = result;
      return true;
    }

  /* the number */
  if (s[0] == '-' || (len >= 3 && memcmp (s, "\xe2\x88\x92", 3) == 0)) /* '-' or U+2212 MINUS SIGN */
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field,
                                  "%s \"%s\" is negative: %s cannot be below zero", field, quoted,
                                  expect->a_name);
  if (s[0] == '+')
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_PARSE, field,
                                  "%s \"%s\" starts with a sign: write the number alone, e.g. \"%s\"",
                                  field, quoted, expect->example);
  if (s[0] == '.' || s[0] == ',')
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_PARSE, field,
                                  "%s \"%s\" has no digit before the decimal point: write a leading zero (e.g. \"0.5\")",
                                  field, quoted);
  if (!is_digit (s[0]))
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_PARSE, field,
                                  "%s \"%s\" does not start with a number: enter %s such as \"%s\"",
                                  field, quoted, expect->a_name, expect->example);

  int_start = pos;
  while (pos < len && is_digit (s[pos]))
    pos++;
  int_len = pos - int_start;

  if (pos < len && s[pos] == ':')
    {
      if (!accepts_clock)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_PARSE, field,
                                      "%s \"%s\" is written as a time, not as %s: use a number and %s (e.g. \"%s\")",
                                      field, quoted, expect->a_name, expect->hint, expect->example);
      if (!parse_clock (expect, THECAL_QUANTITY_DURATION, s, len, field, quoted, &result, error))
        return false;
      if (kind_out != NULL)
        *kind_out = THECAL_QUANTITY_DURATION;
      *value = result;
      return true;
    }

  if (pos < len && s[pos] == ',' && pos + 1 < len && is_digit (s[pos + 1]))
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_PARSE, field,
                                  "%s \"%s\" has a comma in the number: use a point as the decimal separator (e.g. \"%s\") and no thousands separator",
                                  field, quoted, expect->example);

  if (pos < len && s[pos] == '.')
    {
      pos++;
      frac_start = pos;
      while (pos < len && is_digit (s[pos]))
        pos++;
      frac_len = pos - frac_start;
      if (frac_len == 0)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_PARSE, field,
                                      "%s \"%s\" has no digit after the decimal point: write \"%.*s\" without the point",
                                      field, quoted, (int) int_len, s + int_start);
    }

  if (pos < len && (s[pos] == '.' || s[pos] == ','))
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_PARSE, field,
                                  "%s \"%s\" is not a number: use at most one decimal point and no thousands separator (e.g. \"%s\")",
                                  field, quoted, expect->example);

  if (pos < len && (s[pos] == 'e' || s[pos] == 'E') && pos + 1 < len
      && (is_digit (s[pos + 1]) || s[pos + 1] == '-' || s[pos + 1] == '+'))
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_PARSE, field,
                                  "%s \"%s\" uses an exponent: write the number out in full (e.g. \"%s\")",
                                  field, quoted, expect->example);

  /* the unit: one run of non-space characters */
  while (pos < len && s[pos] == ' ')
    pos++;
  unit_start = pos;
  while (pos < len && s[pos] != ' ')
    pos++;
  unit_len = pos - unit_start;

  if (unit_len == 0)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_UNIT, field,
                                  "%s \"%s\" has no unit: write the unit after the number, %s (e.g. \"%s\")",
                                  field, quoted, expect->hint, expect->example);

  if (is_digit (s[unit_start]) || s[unit_start] == '.' || s[unit_start] == '-' || s[unit_start] == '+')
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_PARSE, field,
                                  "%s \"%s\" contains two numbers: enter one number and its unit, %s (e.g. \"%s\")",
                                  field, quoted, expect->hint, expect->example);

  {
    bool found = false;

    for (size_t i = 0; i < expect->n_kinds && !found; i++)
      {
        if (unit_resolve (expect->kinds[i], s + unit_start, unit_len, &unit))
          {
            kind = expect->kinds[i];
            found = true;
          }
      }
    if (!found)
      {
        ThecalQuantityKind other = kind_of_unit (expect, s + unit_start, unit_len);
        char unit_quoted[QUOTE_MAX];

        quote (s + unit_start, unit_len, unit_quoted);
        if (kind_is_valid (other))
          return thecal_dose_error_set (error, THECAL_DOSE_ERROR_UNIT, field,
                                        "%s \"%s\" is %s (%s), not %s: use %s (e.g. \"%s\")",
                                        field, quoted, kind_info[other].a_name, unit_quoted,
                                        expect->a_name, expect->hint, expect->example);
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_UNIT, field,
                                      "%s \"%s\" has an unknown unit \"%s\": use %s (e.g. \"%s\")",
                                      field, quoted, unit_quoted, expect->hint, expect->example);
      }
  }

  while (pos < len && s[pos] == ' ')
    pos++;
  if (pos < len)
    {
      char rest_quoted[QUOTE_MAX];

      quote (s + pos, len - pos, rest_quoted);
      return thecal_dose_error_set (error, THECAL_DOSE_ERROR_PARSE, field,
                                    "%s \"%s\" has unexpected text \"%s\" after the unit: enter one number and its unit (e.g. \"%s\")",
                                    field, quoted, rest_quoted, kind_info[kind].example);
    }

  /* the value: integer part × factor + fraction × factor / 10^decimals, exactly.
   * Trailing zeros of the fraction carry nothing and are dropped first. */
  while (frac_len > 0 && s[frac_start + frac_len - 1] == '0')
    frac_len--;
  if (frac_len > 0)
    {
      int64_t frac_digits, ten_power = 1, lo, hi;

      /* Once trailing zeros are gone the last digit is not 0, so the fraction is odd or not a
       * multiple of 5; an exact result then needs 2^decimals or 5^decimals to divide the factor,
       * and no factor (at most 86 400 000 = 2^10 × 3^3 × 5^5) has more than 10 of either.
       * Over 18 decimals is therefore always finer than the unit, and 10^18 still fits. */
      if (frac_len > 18)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field,
                                      "%s \"%s\" is finer than %s, the smallest step Thecal stores: enter fewer decimals (input is never rounded)",
                                      field, quoted, kind_info[kind].smallest);
      for (size_t i = 0; i < frac_len; i++)
        ten_power *= 10; /* at most 10^18: fits */
      /* DOWN and UP are used only to test exactness: they agree iff the division leaves no
       * remainder. Nothing is rounded: an inexact value is refused here. (≤ 18 digits always
       * fit in int64_t, so digits_to_i64 cannot fail.) */
      if (!digits_to_i64 (s + frac_start, frac_len, &frac_digits)
          || !thecal_muldiv_i64 (frac_digits, unit.factor, ten_power, THECAL_ROUND_DOWN, &lo)
          || !thecal_muldiv_i64 (frac_digits, unit.factor, ten_power, THECAL_ROUND_UP, &hi) || lo != hi)
        return thecal_dose_error_set (error, THECAL_DOSE_ERROR_RANGE, field,
                                      "%s \"%s\" is finer than %s, the smallest step Thecal stores: enter fewer decimals (input is never rounded)",
                                      field, quoted, kind_info[kind].smallest);
      frac_value = lo;
    }

  if (!digits_to_i64 (s + int_start, int_len, &int_value)
      || !thecal_mul_i64 (int_value, unit.factor, &int_scaled)
      || !thecal_add_i64 (int_scaled, frac_value, &result))
    {
      char largest[THECAL_QUANTITY_TEXT_MAX];
      ThecalExpect one = *expect;

      one.kinds[0] = kind;
      largest_text (&one, largest);
      return thecal_dose_error_set (error, THECAL_DOSE_ERROR_OVERFLOW, field,
                                    "%s \"%s\" is too large: the largest %s Thecal can hold is %s",
                                    field, quoted, kind_info[kind].name, largest);
    }

  if (kind_out != NULL)
    *kind_out = kind;
  *value = result;
  return true;
}

bool
thecal_quantity_parse (ThecalQuantityKind kind,
                       const char *text,
                       const char *field,
                       int64_t *value,
                       ThecalDoseError *error)
{
  ThecalExpect expect = { { kind, kind }, 1, NULL, NULL, NULL, NULL };

  if (!kind_is_valid (kind))
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, field,
                                  "%s: unknown quantity kind %d", field != NULL ? field : "quantity",
                                  (int) kind);
  expect.name = kind_info[kind].name;
  expect.a_name = kind_info[kind].a_name;
  expect.example = kind_info[kind].example;
  expect.hint = kind_info[kind].hint;
  return parse_expect (&expect, text, field, NULL, value, error);
}

bool
thecal_quantity_parse_rate (const char *text,
                            const char *field,
                            ThecalQuantityKind *kind_out,
                            int64_t *value,
                            ThecalDoseError *error)
{
  static const ThecalExpect expect = {
    { THECAL_QUANTITY_DOSE_RATE, THECAL_QUANTITY_VOLUME_RATE },
    2,
    "rate",
    "a dose rate or a volume rate",
    "5 mg/day",
    "mg/day, mcg/day, mL/day or the same per h",
  };

  return parse_expect (&expect, text, field, kind_out, value, error);
}

/* ---------------------------------------------------------------------------------------------
 * Formatting
 * ------------------------------------------------------------------------------------------- */

/* Writes the decimal digits of @v at @dst; returns how many. */
static size_t
put_u64 (char *dst, uint64_t v)
{
  char digits[20];
  size_t n = 0;

  do
    {
      digits[n++] = (char) ('0' + v % 10);
      v /= 10;
    }
  while (v != 0);
  for (size_t i = 0; i < n; i++)
    dst[i] = digits[n - 1 - i];
  return n;
}

static size_t
put_str (char *dst, const char *s)
{
  size_t n = strlen (s);

  memcpy (dst, s, n);
  return n;
}

/* Copies @src into @buf, truncated to @buf_size (which must be > 0). */
static char *
copy_out (const char *src, char *buf, size_t buf_size)
{
  size_t n = strlen (src);

  if (n >= buf_size)
    n = buf_size - 1;
  memcpy (buf, src, n);
  buf[n] = '\0';
  return buf;
}

/* |value| without overflow, also for INT64_MIN. */
static uint64_t
magnitude_of (int64_t value)
{
  return value < 0 ? (uint64_t) (-(value + 1)) + 1u : (uint64_t) value;
}

/* "[-]int[.frac] unit[/per]": @value divided by @factor, with every significant digit and no
 * trailing zero. False if the quotient has no finite decimal expansion of ≤ 24 digits. */
static bool
format_scaled (int64_t value,
               int64_t factor,
               const char *unit,
               const char *per,
               char *buf,
               size_t buf_size)
{
  char tmp[96];
  size_t n = 0;
  uint64_t magnitude = magnitude_of (value);
  uint64_t f = (uint64_t) factor;
  uint64_t q = magnitude / f;
  uint64_t r = magnitude % f;

  if (value < 0)
    tmp[n++] = '-';
  n += put_u64 (tmp + n, q);
  if (r != 0)
    {
      tmp[n++] = '.';
      for (int i = 0; i < 24 && r != 0; i++)
        {
          r *= 10; /* r < factor ≤ 86 400 000: cannot overflow */
          tmp[n++] = (char) ('0' + r / f);
          r %= f;
        }
      if (r != 0)
        return false;
    }
  if (unit != NULL)
    {
      tmp[n++] = ' ';
      n += put_str (tmp + n, unit);
      if (per != NULL)
        {
          tmp[n++] = '/';
          n += put_str (tmp + n, per);
        }
    }
  tmp[n] = '\0';
  copy_out (tmp, buf, buf_size);
  return true;
}

char *
thecal_quantity_format (ThecalQuantityKind kind, int64_t value, char *buf, size_t buf_size)
{
  bool at_least_mg = magnitude_of (value) >= (uint64_t) THECAL_NG_PER_MG;

  if (buf == NULL || buf_size == 0)
    return buf;
  buf[0] = '\0';

  /* every factor below is a power of ten (or divides the value): the expansion is finite */
  switch (kind)
    {
    case THECAL_QUANTITY_AMOUNT:
      format_scaled (value, at_least_mg ? THECAL_NG_PER_MG : THECAL_NG_PER_MCG, at_least_mg ? "mg" : "mcg",
                     NULL, buf, buf_size);
      break;
    case THECAL_QUANTITY_VOLUME:
      format_scaled (value, THECAL_NL_PER_ML, "mL", NULL, buf, buf_size);
      break;
    case THECAL_QUANTITY_CONCENTRATION:
      format_scaled (value, at_least_mg ? THECAL_NG_PER_MG : THECAL_NG_PER_MCG, at_least_mg ? "mg" : "mcg",
                     "mL", buf, buf_size);
      break;
    case THECAL_QUANTITY_DOSE_RATE:
      format_scaled (value, at_least_mg ? THECAL_NG_PER_MG : THECAL_NG_PER_MCG, at_least_mg ? "mg" : "mcg",
                     "day", buf, buf_size);
      break;
    case THECAL_QUANTITY_VOLUME_RATE:
      format_scaled (value, THECAL_NL_PER_ML, "mL", "day", buf, buf_size);
      break;
    case THECAL_QUANTITY_DURATION:
      {
        /* the largest unit that shows the duration as a whole number: "90 min", not "1.5 h" */
        static const ThecalUnit steps[] = {
          { "days", THECAL_MS_PER_DAY, "days" },
          { "h", THECAL_MS_PER_HOUR, "h" },
          { "min", THECAL_MS_PER_MINUTE, "min" },
          { "s", THECAL_MS_PER_SECOND, "s" },
          { "ms", 1, "ms" },
        };
        uint64_t magnitude = magnitude_of (value);

        if (value == 0)
          {
            copy_out ("0 min", buf, buf_size);
            break;
          }
        for (size_t i = 0; i < N_ELEMENTS (steps); i++)
          {
            uint64_t f = (uint64_t) steps[i].factor;

            if (magnitude % f == 0)
              {
                const char *unit = steps[i].display;

                if (f == (uint64_t) THECAL_MS_PER_DAY && magnitude == f)
                  unit = "day";
                format_scaled (value, steps[i].factor, unit, NULL, buf, buf_size);
                break;
              }
          }
        break;
      }
    case THECAL_QUANTITY_TIME_OF_DAY:
      if (value >= 0 && value < THECAL_MINUTES_PER_DAY)
        {
          char tmp[6];
          int h = (int) (value / 60);
          int m = (int) (value % 60);

          tmp[0] = (char) ('0' + h / 10);
          tmp[1] = (char) ('0' + h % 10);
          tmp[2] = ':';
          tmp[3] = (char) ('0' + m / 10);
          tmp[4] = (char) ('0' + m % 10);
          tmp[5] = '\0';
          copy_out (tmp, buf, buf_size);
        }
      else
        copy_out ("--:--", buf, buf_size); /* not a time of day: never parses back */
      break;
    case THECAL_QUANTITY_RATIO:
      format_scaled (value, THECAL_BP_PER_PERCENT, "%", NULL, buf, buf_size);
      break;
    case THECAL_QUANTITY_LENGTH:
      format_scaled (value, 10, "cm", NULL, buf, buf_size);
      break;
    case THECAL_QUANTITY_N_KINDS:
    default:
      break;
    }
  return buf;
}

char *
thecal_quantity_format_in (ThecalQuantityKind kind,
                           int64_t value,
                           const char *unit,
                           char *buf,
                           size_t buf_size)
{
  ThecalResolvedUnit resolved;

  if (buf == NULL || buf_size == 0)
    return NULL;
  buf[0] = '\0';
  if (!kind_is_valid (kind) || unit == NULL || !unit_resolve (kind, unit, strlen (unit), &resolved))
    return NULL;
  if (!format_scaled (value, resolved.factor, resolved.display, resolved.per_display, buf, buf_size))
    {
      buf[0] = '\0';
      return NULL;
    }
  return buf;
}

const char *
thecal_quantity_kind_name (ThecalQuantityKind kind)
{
  switch (kind)
    {
    case THECAL_QUANTITY_AMOUNT:
    case THECAL_QUANTITY_VOLUME:
    case THECAL_QUANTITY_CONCENTRATION:
    case THECAL_QUANTITY_DOSE_RATE:
    case THECAL_QUANTITY_VOLUME_RATE:
    case THECAL_QUANTITY_DURATION:
    case THECAL_QUANTITY_TIME_OF_DAY:
    case THECAL_QUANTITY_RATIO:
    case THECAL_QUANTITY_LENGTH:
      return kind_info[kind].name;
    case THECAL_QUANTITY_N_KINDS:
    default:
      return "unknown quantity";
    }
}
