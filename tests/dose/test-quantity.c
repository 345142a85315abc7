/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-quantity.c: exact parsing and ISMP formatting of quantities (src/dose/thecal-quantity.c).
 *
 * Every accepted spelling, the boundaries of every kind (0, the smallest step, the largest value
 * that fits and the first that does not), every error with a check that its message quotes the
 * offending text, the round trip parse (format (x)) == x over a deterministic sweep, and a locale
 * test proving that a German or French locale changes nothing. Integers only: no floating point.
 */
#include "config.h"

#include "thecal-quantity.h"
#include "thecal-test-random.h"
#include "thecal-test.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#define MICRO_SIGN "\xc2\xb5" /* U+00B5 */
#define GREEK_MU "\xce\xbc"   /* U+03BC */

/* ---------------------------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------------------------- */

static int64_t
parse_ok (ThecalQuantityKind kind, const char *text)
{
  ThecalDoseError error = { 0 };
  int64_t value = -12345;

  ck_assert_msg (thecal_quantity_parse (kind, text, "field", &value, &error),
                 "\"%s\" as %s should parse, got: %s", text, thecal_quantity_kind_name (kind), error.message);
  ck_assert_int_eq (error.code, THECAL_DOSE_OK);
  return value;
}

#define ck_assert_parses(kind, text, expected) ck_assert_int_eq (parse_ok ((kind), (text)), (expected))

/* Parsing must fail with @code; the message must name the field and quote the whole text. */
static void
check_parse_error (ThecalQuantityKind kind,
                   const char *text,
                   ThecalDoseStatus code,
                   const char *also_contains)
{
  ThecalDoseError error = { 0 };
  int64_t value = -777;
  char quoted[256];

  ck_assert_msg (!thecal_quantity_parse (kind, text, "dose_field", &value, &error),
                 "\"%s\" as %s should fail, got %lld", text, thecal_quantity_kind_name (kind), (long long) value);
  ck_assert_int_eq (value, -777); /* left alone */
  ck_assert_msg (error.code == code, "\"%s\": code %d, expected %d (%s)", text, (int) error.code, (int) code,
                 error.message);
  ck_assert_str_eq (error.field, "dose_field");
  snprintf (quoted, sizeof quoted, "\"%s\"", text);
  ck_assert_msg (strstr (error.message, quoted) != NULL, "message does not quote %s: %s", quoted, error.message);
  ck_assert_msg (strstr (error.message, "dose_field") != NULL, "message does not name the field: %s",
                 error.message);
  if (also_contains != NULL)
    ck_assert_msg (strstr (error.message, also_contains) != NULL, "message lacks \"%s\": %s", also_contains,
                   error.message);
}

static const char *
fmt (ThecalQuantityKind kind, int64_t value, char buf[THECAL_QUANTITY_TEXT_MAX])
{
  return thecal_quantity_format (kind, value, buf, THECAL_QUANTITY_TEXT_MAX);
}

#define ck_assert_formats(kind, value, expected)                  \
  do                                                              \
    {                                                             \
      char buf_[THECAL_QUANTITY_TEXT_MAX];                        \
      ck_assert_str_eq (fmt ((kind), (value), buf_), (expected)); \
    }                                                             \
  while (0)

/* A non-negative value spread over every magnitude: the high bits of the LCG (its best bits),
 * shifted right by a random amount so that small values are as common as large ones. */
static int64_t
lcg_value (uint64_t *state)
{
  uint64_t r = thecal_test_lcg_next (state) >> 1;                   /* 63 bits */
  unsigned shift = (unsigned) (thecal_test_lcg_next (state) >> 58); /* 0..63 */

  return (int64_t) (shift >= 63 ? 0 : r >> shift);
}

/* ---------------------------------------------------------------------------------------------
 * Worked examples (issue 2, CLINICAL.md, checked by hand)
 * ------------------------------------------------------------------------------------------- */

START_TEST (test_worked_examples)
{
  /* 25 mg/mL = 25 × 1 000 000 ng/mL = 25 000 000 ng/mL */
  ck_assert_parses (THECAL_QUANTITY_CONCENTRATION, "25 mg/mL", 25000000);
  /* 0.5 mcg/day = 0.5 × 1 000 ng/day = 500 ng/day */
  ck_assert_parses (THECAL_QUANTITY_DOSE_RATE, "0.5 mcg/day", 500);
  /* 0.048 mL/day (lowest rate of the reference pump, CLINICAL §1.3) = 0.048 × 1 000 000 = 48 000 nL/day */
  ck_assert_parses (THECAL_QUANTITY_VOLUME_RATE, "0.048 mL/day", 48000);
  /* 1.5 mL = 1 500 000 nL */
  ck_assert_parses (THECAL_QUANTITY_VOLUME, "1.5 mL", 1500000);
  /* 90 min = 90 × 60 000 ms = 5 400 000 ms */
  ck_assert_parses (THECAL_QUANTITY_DURATION, "90 min", 5400000);
  /* 2 h = 2 × 3 600 000 ms = 7 200 000 ms */
  ck_assert_parses (THECAL_QUANTITY_DURATION, "2 h", 7200000);
  /* 08:30 = 8 × 60 + 30 = 510 minutes after midnight */
  ck_assert_parses (THECAL_QUANTITY_TIME_OF_DAY, "08:30", 510);
  /* 0.1 mcg/h = 100 ng/h × 24 h/day = 2 400 ng/day, exactly */
  ck_assert_parses (THECAL_QUANTITY_DOSE_RATE, "0.1 mcg/h", 2400);
  /* 45 cm = 450 mm */
  ck_assert_parses (THECAL_QUANTITY_LENGTH, "45 cm", 450);
  /* the shared worked example: 25 mg/mL, 5 mg/day → 0.2 mL/day */
  ck_assert_parses (THECAL_QUANTITY_DOSE_RATE, "5 mg/day", 5000000);
  ck_assert_parses (THECAL_QUANTITY_VOLUME_RATE, "0.2 mL/day", 200000);
  /* ziconotide label maximum 19.2 mcg/day (CLINICAL §3.1) = 19 200 ng/day */
  ck_assert_parses (THECAL_QUANTITY_DOSE_RATE, "19.2 mcg/day", 19200);
  /* accuracy ±14.5 % (CLINICAL §1.5) = 1 450 bp */
  ck_assert_parses (THECAL_QUANTITY_RATIO, "14.5 %", 1450);
  /* reference pump: minimum rate 0.006 mL/day, max 24 mL/day, bolus 1 mL/h = 24 mL/day,
   * stroke 0.25 µL = 250 nL, catheter 0.0026 mL/cm → 2 600 nL per cm */
  ck_assert_parses (THECAL_QUANTITY_VOLUME_RATE, "0.006 mL/day", 6000);
  ck_assert_parses (THECAL_QUANTITY_VOLUME_RATE, "24 mL/day", 24000000);
  ck_assert_parses (THECAL_QUANTITY_VOLUME_RATE, "1 mL/h", 24000000);
  ck_assert_parses (THECAL_QUANTITY_VOLUME, "0.25 " MICRO_SIGN "L", 250);
  ck_assert_parses (THECAL_QUANTITY_VOLUME, "0.0026 mL", 2600);
  /* morphine stability 90 days (CLINICAL §1.5) = 90 × 86 400 000 ms = 7 776 000 000 ms */
  ck_assert_parses (THECAL_QUANTITY_DURATION, "90 days", INT64_C (7776000000));

  /* and back, the ISMP way */
  ck_assert_formats (THECAL_QUANTITY_CONCENTRATION, 25000000, "25 mg/mL");
  ck_assert_formats (THECAL_QUANTITY_DOSE_RATE, 500, "0.5 mcg/day");
  ck_assert_formats (THECAL_QUANTITY_VOLUME_RATE, 48000, "0.048 mL/day");
  ck_assert_formats (THECAL_QUANTITY_VOLUME, 1500000, "1.5 mL");
  ck_assert_formats (THECAL_QUANTITY_DURATION, 5400000, "90 min");
  ck_assert_formats (THECAL_QUANTITY_DURATION, 7200000, "2 h");
  ck_assert_formats (THECAL_QUANTITY_TIME_OF_DAY, 510, "08:30");
  ck_assert_formats (THECAL_QUANTITY_DOSE_RATE, 2400, "2.4 mcg/day");
  ck_assert_formats (THECAL_QUANTITY_LENGTH, 450, "45 cm");
  ck_assert_formats (THECAL_QUANTITY_DOSE_RATE, 5000000, "5 mg/day");
  ck_assert_formats (THECAL_QUANTITY_VOLUME_RATE, 200000, "0.2 mL/day");
  ck_assert_formats (THECAL_QUANTITY_RATIO, 1450, "14.5 %");
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Every unit and spelling
 * ------------------------------------------------------------------------------------------- */

START_TEST (test_amount_spellings)
{
  ck_assert_parses (THECAL_QUANTITY_AMOUNT, "5 mg", 5000000);
  ck_assert_parses (THECAL_QUANTITY_AMOUNT, "5 mcg", 5000);
  ck_assert_parses (THECAL_QUANTITY_AMOUNT, "5 " MICRO_SIGN "g", 5000);
  ck_assert_parses (THECAL_QUANTITY_AMOUNT, "5 " GREEK_MU "g", 5000);
  ck_assert_parses (THECAL_QUANTITY_AMOUNT, "5 ug", 5000);
  ck_assert_parses (THECAL_QUANTITY_AMOUNT, "5 ng", 5);
  /* spaces: optional between number and unit, ignored around */
  ck_assert_parses (THECAL_QUANTITY_AMOUNT, "5mg", 5000000);
  ck_assert_parses (THECAL_QUANTITY_AMOUNT, "  5   mg  ", 5000000);
  ck_assert_parses (THECAL_QUANTITY_AMOUNT, "0.5mcg", 500);
  /* leading zeros and trailing zeros of the fraction carry nothing */
  ck_assert_parses (THECAL_QUANTITY_AMOUNT, "005.500 mg", 5500000);
  ck_assert_parses (THECAL_QUANTITY_AMOUNT, "1.000000000000000000000000000000 ng", 1);
}
END_TEST

START_TEST (test_volume_spellings)
{
  ck_assert_parses (THECAL_QUANTITY_VOLUME, "2 mL", 2000000);
  ck_assert_parses (THECAL_QUANTITY_VOLUME, "2 ml", 2000000);
  ck_assert_parses (THECAL_QUANTITY_VOLUME, "2 " MICRO_SIGN "L", 2000);
  ck_assert_parses (THECAL_QUANTITY_VOLUME, "2 " GREEK_MU "L", 2000);
  ck_assert_parses (THECAL_QUANTITY_VOLUME, "2 uL", 2000);
  ck_assert_parses (THECAL_QUANTITY_VOLUME, "2 ul", 2000);
  ck_assert_parses (THECAL_QUANTITY_VOLUME, "2 nL", 2);
  ck_assert_parses (THECAL_QUANTITY_VOLUME, "20 mL", 20000000); /* TR-20 reservoir */
  ck_assert_parses (THECAL_QUANTITY_VOLUME, "40mL", 40000000);  /* TR-40 reservoir */
}
END_TEST

START_TEST (test_concentration_spellings)
{
  static const struct
  {
    const char *unit;
    int64_t ng;
  } amounts[] = {
    { "mg", 1000000 },
    { "mcg", 1000 },
    { MICRO_SIGN "g", 1000 },
    { GREEK_MU "g", 1000 },
    { "ug", 1000 },
    { "ng", 1 },
  };
  static const char *const per_ml[] = { "mL", "ml" };

  for (size_t i = 0; i < sizeof amounts / sizeof amounts[0]; i++)
    for (size_t j = 0; j < 2; j++)
      {
        char text[64];

        snprintf (text, sizeof text, "3 %s/%s", amounts[i].unit, per_ml[j]);
        ck_assert_parses (THECAL_QUANTITY_CONCENTRATION, text, 3 * amounts[i].ng);
      }
  ck_assert_parses (THECAL_QUANTITY_CONCENTRATION, "100 mcg/mL", 100000);
  ck_assert_parses (THECAL_QUANTITY_CONCENTRATION, "2.5 mg/mL", 2500000);
}
END_TEST

START_TEST (test_rate_spellings)
{
  static const struct
  {
    const char *unit;
    int64_t base;
  } amounts[] = {
    { "mg", 1000000 },
    { "mcg", 1000 },
    { MICRO_SIGN "g", 1000 },
    { GREEK_MU "g", 1000 },
    { "ug", 1000 },
    { "ng", 1 },
  },
    volumes[] = {
      { "mL", 1000000 },
      { "ml", 1000000 },
      { MICRO_SIGN "L", 1000 },
      { GREEK_MU "L", 1000 },
      { "uL", 1000 },
      { "ul", 1000 },
      { "nL", 1 },
    },
    per[] = {
      { "day", 1 }, { "d", 1 }, { "24h", 1 }, { "h", 24 }, /* per hour is exactly × 24 per day */
    };

  for (size_t i = 0; i < sizeof amounts / sizeof amounts[0]; i++)
    for (size_t j = 0; j < sizeof per / sizeof per[0]; j++)
      {
        char text[64];

        snprintf (text, sizeof text, "7 %s/%s", amounts[i].unit, per[j].unit);
        ck_assert_parses (THECAL_QUANTITY_DOSE_RATE, text, 7 * amounts[i].base * per[j].base);
      }
  for (size_t i = 0; i < sizeof volumes / sizeof volumes[0]; i++)
    for (size_t j = 0; j < sizeof per / sizeof per[0]; j++)
      {
        char text[64];

        snprintf (text, sizeof text, "7 %s/%s", volumes[i].unit, per[j].unit);
        ck_assert_parses (THECAL_QUANTITY_VOLUME_RATE, text, 7 * volumes[i].base * per[j].base);
      }
  /* per hour, exactly: 0.001 mL/h = 1 000 nL/h = 24 000 nL/day; 1 ng/h = 24 ng/day */
  ck_assert_parses (THECAL_QUANTITY_VOLUME_RATE, "0.001 mL/h", 24000);
  ck_assert_parses (THECAL_QUANTITY_DOSE_RATE, "1 ng/h", 24);
  /* 0.125 ng/h = 3 ng/day exactly; 0.1 ng/h = 2.4 ng/day is finer than 1 ng/day */
  ck_assert_parses (THECAL_QUANTITY_DOSE_RATE, "0.125 ng/h", 3);
  check_parse_error (THECAL_QUANTITY_DOSE_RATE, "0.1 ng/h", THECAL_DOSE_ERROR_RANGE, "1 ng/day");
  /* 1 nL/day per hour: 1/24 nL/h is not exact */
  check_parse_error (THECAL_QUANTITY_VOLUME_RATE, "0.00000001 mL/h", THECAL_DOSE_ERROR_RANGE, "1 nL/day");
}
END_TEST

START_TEST (test_parse_rate_either_kind)
{
  ThecalDoseError error = { 0 };
  ThecalQuantityKind kind = THECAL_QUANTITY_N_KINDS;
  int64_t value = 0;

  ck_assert (thecal_quantity_parse_rate ("5 mg/day", "rate", &kind, &value, &error));
  ck_assert_int_eq (kind, THECAL_QUANTITY_DOSE_RATE);
  ck_assert_int_eq (value, 5000000);
  ck_assert (thecal_quantity_parse_rate ("0.2 mL/day", "rate", &kind, &value, &error));
  ck_assert_int_eq (kind, THECAL_QUANTITY_VOLUME_RATE);
  ck_assert_int_eq (value, 200000);
  ck_assert (thecal_quantity_parse_rate ("0.1 mL/h", "rate", &kind, &value, &error));
  ck_assert_int_eq (kind, THECAL_QUANTITY_VOLUME_RATE);
  ck_assert_int_eq (value, 2400000);
  ck_assert (thecal_quantity_parse_rate ("0.1 mcg/h", NULL, NULL, &value, &error));
  ck_assert_int_eq (value, 2400);

  value = 99;
  ck_assert (!thecal_quantity_parse_rate ("5 mg", "rate", &kind, &value, &error));
  ck_assert_int_eq (value, 99);
  ck_assert_int_eq (error.code, THECAL_DOSE_ERROR_UNIT);
  ck_assert_str_eq (error.field, "rate");
  ck_assert_ptr_nonnull (strstr (error.message, "\"5 mg\""));
  ck_assert_ptr_nonnull (strstr (error.message, "an amount"));

  thecal_dose_error_clear (&error);
  ck_assert (!thecal_quantity_parse_rate ("5 mg/week", "rate", &kind, &value, &error));
  ck_assert_int_eq (error.code, THECAL_DOSE_ERROR_UNIT);
  ck_assert_ptr_nonnull (strstr (error.message, "\"mg/week\""));
  ck_assert_ptr_nonnull (strstr (error.message, "mL/day"));

  thecal_dose_error_clear (&error);
  ck_assert (!thecal_quantity_parse_rate ("-0.2 mL/day", "rate", &kind, &value, &error));
  ck_assert_int_eq (error.code, THECAL_DOSE_ERROR_RANGE);
}
END_TEST

START_TEST (test_duration_spellings)
{
  ck_assert_parses (THECAL_QUANTITY_DURATION, "250 ms", 250);
  ck_assert_parses (THECAL_QUANTITY_DURATION, "3 s", 3000);
  ck_assert_parses (THECAL_QUANTITY_DURATION, "3 sec", 3000);
  ck_assert_parses (THECAL_QUANTITY_DURATION, "3 min", 180000);
  ck_assert_parses (THECAL_QUANTITY_DURATION, "3 h", 10800000);
  ck_assert_parses (THECAL_QUANTITY_DURATION, "3 hr", 10800000);
  ck_assert_parses (THECAL_QUANTITY_DURATION, "1 day", 86400000);
  ck_assert_parses (THECAL_QUANTITY_DURATION, "3 days", 259200000);
  ck_assert_parses (THECAL_QUANTITY_DURATION, "3 d", 259200000);
  ck_assert_parses (THECAL_QUANTITY_DURATION, "1.5 h", 5400000);
  ck_assert_parses (THECAL_QUANTITY_DURATION, "0.001 s", 1);
  /* 1/3 min = 20 s exactly, but 0.3 min = 18 s: decimals of a non-decimal unit are exact too */
  ck_assert_parses (THECAL_QUANTITY_DURATION, "0.3 min", 18000);
  /* H:MM: hours of any length, two-digit minutes */
  ck_assert_parses (THECAL_QUANTITY_DURATION, "1:30", 5400000);
  ck_assert_parses (THECAL_QUANTITY_DURATION, "0:05", 300000);
  ck_assert_parses (THECAL_QUANTITY_DURATION, "00:00", 0);
  ck_assert_parses (THECAL_QUANTITY_DURATION, "25:00", 90000000);
  ck_assert_parses (THECAL_QUANTITY_DURATION, " 2:59 ", 10740000);
  check_parse_error (THECAL_QUANTITY_DURATION, "1:5", THECAL_DOSE_ERROR_PARSE, "H:MM");
  check_parse_error (THECAL_QUANTITY_DURATION, "1:60", THECAL_DOSE_ERROR_RANGE, "59");
  check_parse_error (THECAL_QUANTITY_DURATION, "1:", THECAL_DOSE_ERROR_PARSE, NULL);
  check_parse_error (THECAL_QUANTITY_DURATION, ":30", THECAL_DOSE_ERROR_PARSE, NULL);
  check_parse_error (THECAL_QUANTITY_DURATION, "1:30 h", THECAL_DOSE_ERROR_PARSE, NULL);
  check_parse_error (THECAL_QUANTITY_DURATION, "1:30:00", THECAL_DOSE_ERROR_PARSE, NULL);
  check_parse_error (THECAL_QUANTITY_DURATION, "0.0001 s", THECAL_DOSE_ERROR_RANGE, "1 ms");
  check_parse_error (THECAL_QUANTITY_DURATION, "0.00001 min", THECAL_DOSE_ERROR_RANGE, "1 ms");
  check_parse_error (THECAL_QUANTITY_DURATION, "3 hours", THECAL_DOSE_ERROR_UNIT, "hours");
}
END_TEST

START_TEST (test_time_of_day)
{
  ck_assert_parses (THECAL_QUANTITY_TIME_OF_DAY, "00:00", 0);
  ck_assert_parses (THECAL_QUANTITY_TIME_OF_DAY, "00:01", 1);
  ck_assert_parses (THECAL_QUANTITY_TIME_OF_DAY, "12:00", 720);
  ck_assert_parses (THECAL_QUANTITY_TIME_OF_DAY, "23:59", 1439);
  ck_assert_parses (THECAL_QUANTITY_TIME_OF_DAY, "  07:05  ", 425);

  check_parse_error (THECAL_QUANTITY_TIME_OF_DAY, "24:00", THECAL_DOSE_ERROR_RANGE, "23:59");
  check_parse_error (THECAL_QUANTITY_TIME_OF_DAY, "23:60", THECAL_DOSE_ERROR_RANGE, "23:59");
  check_parse_error (THECAL_QUANTITY_TIME_OF_DAY, "99:99", THECAL_DOSE_ERROR_RANGE, NULL);
  check_parse_error (THECAL_QUANTITY_TIME_OF_DAY, "7:5", THECAL_DOSE_ERROR_PARSE, "HH:MM");
  check_parse_error (THECAL_QUANTITY_TIME_OF_DAY, "7:05", THECAL_DOSE_ERROR_PARSE, "HH:MM");
  check_parse_error (THECAL_QUANTITY_TIME_OF_DAY, "07:5", THECAL_DOSE_ERROR_PARSE, "HH:MM");
  check_parse_error (THECAL_QUANTITY_TIME_OF_DAY, "007:05", THECAL_DOSE_ERROR_PARSE, NULL);
  check_parse_error (THECAL_QUANTITY_TIME_OF_DAY, "0830", THECAL_DOSE_ERROR_PARSE, NULL);
  check_parse_error (THECAL_QUANTITY_TIME_OF_DAY, "08.30", THECAL_DOSE_ERROR_PARSE, NULL);
  check_parse_error (THECAL_QUANTITY_TIME_OF_DAY, "08:30 h", THECAL_DOSE_ERROR_PARSE, NULL);
  check_parse_error (THECAL_QUANTITY_TIME_OF_DAY, "8 h", THECAL_DOSE_ERROR_PARSE, NULL);
  check_parse_error (THECAL_QUANTITY_TIME_OF_DAY, "-01:00", THECAL_DOSE_ERROR_PARSE, NULL);
  check_parse_error (THECAL_QUANTITY_TIME_OF_DAY, "", THECAL_DOSE_ERROR_PARSE, "empty");
  check_parse_error (THECAL_QUANTITY_TIME_OF_DAY, "noon", THECAL_DOSE_ERROR_PARSE, NULL);
}
END_TEST

START_TEST (test_ratio_and_length)
{
  ck_assert_parses (THECAL_QUANTITY_RATIO, "14.5%", 1450);
  ck_assert_parses (THECAL_QUANTITY_RATIO, "100 %", 10000);
  ck_assert_parses (THECAL_QUANTITY_RATIO, "0.01 %", 1);
  ck_assert_parses (THECAL_QUANTITY_RATIO, "0 %", 0);
  ck_assert_parses (THECAL_QUANTITY_RATIO, "300 %", 30000);
  check_parse_error (THECAL_QUANTITY_RATIO, "0.001 %", THECAL_DOSE_ERROR_RANGE, "0.01 %");
  check_parse_error (THECAL_QUANTITY_RATIO, "14.5", THECAL_DOSE_ERROR_UNIT, "%");

  ck_assert_parses (THECAL_QUANTITY_LENGTH, "455 mm", 455);
  ck_assert_parses (THECAL_QUANTITY_LENGTH, "45.5 cm", 455);
  ck_assert_parses (THECAL_QUANTITY_LENGTH, "0.1 cm", 1);
  ck_assert_parses (THECAL_QUANTITY_LENGTH, "0 cm", 0);
  check_parse_error (THECAL_QUANTITY_LENGTH, "0.05 cm", THECAL_DOSE_ERROR_RANGE, "1 mm");
  check_parse_error (THECAL_QUANTITY_LENGTH, "0.5 mm", THECAL_DOSE_ERROR_RANGE, "1 mm");
  check_parse_error (THECAL_QUANTITY_LENGTH, "1 m", THECAL_DOSE_ERROR_UNIT, "mm or cm");
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Boundaries: 0, the smallest step, the largest value, one beyond
 * ------------------------------------------------------------------------------------------- */

START_TEST (test_zero_and_smallest_step)
{
  ck_assert_parses (THECAL_QUANTITY_AMOUNT, "0 mg", 0);
  ck_assert_parses (THECAL_QUANTITY_VOLUME, "0 mL", 0);
  ck_assert_parses (THECAL_QUANTITY_VOLUME, "0.0 mL", 0);
  ck_assert_parses (THECAL_QUANTITY_CONCENTRATION, "0 mg/mL", 0);
  ck_assert_parses (THECAL_QUANTITY_DOSE_RATE, "0 mcg/day", 0);
  ck_assert_parses (THECAL_QUANTITY_VOLUME_RATE, "0 mL/day", 0);
  ck_assert_parses (THECAL_QUANTITY_DURATION, "0 min", 0);

  /* 1 ng and 1 nL, in every unit that can show them */
  ck_assert_parses (THECAL_QUANTITY_AMOUNT, "0.000001 mg", 1);
  ck_assert_parses (THECAL_QUANTITY_AMOUNT, "0.001 mcg", 1);
  ck_assert_parses (THECAL_QUANTITY_AMOUNT, "1 ng", 1);
  ck_assert_parses (THECAL_QUANTITY_VOLUME, "0.000001 mL", 1);
  ck_assert_parses (THECAL_QUANTITY_VOLUME, "0.001 uL", 1);
  ck_assert_parses (THECAL_QUANTITY_VOLUME, "1 nL", 1);
  ck_assert_parses (THECAL_QUANTITY_CONCENTRATION, "0.000001 mg/mL", 1);
  ck_assert_parses (THECAL_QUANTITY_DOSE_RATE, "0.000001 mg/day", 1);
  ck_assert_parses (THECAL_QUANTITY_VOLUME_RATE, "0.000001 mL/day", 1);
  ck_assert_parses (THECAL_QUANTITY_DURATION, "1 ms", 1);

  /* one digit more: finer than the integer unit, refused (never rounded) */
  check_parse_error (THECAL_QUANTITY_VOLUME, "0.0000001 mL", THECAL_DOSE_ERROR_RANGE, "1 nL");
  check_parse_error (THECAL_QUANTITY_VOLUME, "0.0000005 mL", THECAL_DOSE_ERROR_RANGE, "1 nL");
  check_parse_error (THECAL_QUANTITY_VOLUME, "1.0000001 mL", THECAL_DOSE_ERROR_RANGE, "1 nL");
  check_parse_error (THECAL_QUANTITY_VOLUME, "0.5 nL", THECAL_DOSE_ERROR_RANGE, "1 nL");
  check_parse_error (THECAL_QUANTITY_AMOUNT, "0.0000001 mg", THECAL_DOSE_ERROR_RANGE, "1 ng");
  check_parse_error (THECAL_QUANTITY_AMOUNT, "0.0001 mcg", THECAL_DOSE_ERROR_RANGE, "1 ng");
  check_parse_error (THECAL_QUANTITY_CONCENTRATION, "0.0000001 mg/mL", THECAL_DOSE_ERROR_RANGE, "1 ng/mL");
  check_parse_error (THECAL_QUANTITY_DOSE_RATE, "0.0001 mcg/day", THECAL_DOSE_ERROR_RANGE, "1 ng/day");
  check_parse_error (THECAL_QUANTITY_VOLUME_RATE, "0.0000001 mL/day", THECAL_DOSE_ERROR_RANGE, "1 nL/day");
  check_parse_error (THECAL_QUANTITY_DURATION, "0.5 ms", THECAL_DOSE_ERROR_RANGE, "1 ms");
  /* more decimals than any exact value can have */
  check_parse_error (THECAL_QUANTITY_VOLUME, "0.0000000000000000000000000001 mL", THECAL_DOSE_ERROR_RANGE, NULL);
  check_parse_error (THECAL_QUANTITY_VOLUME, "1.0000000000000000001 mL", THECAL_DOSE_ERROR_RANGE, NULL);
}
END_TEST

START_TEST (test_largest_values)
{
  /* INT64_MAX = 9 223 372 036 854 775 807 of the integer unit */
  ck_assert_parses (THECAL_QUANTITY_AMOUNT, "9223372036854775807 ng", INT64_MAX);
  ck_assert_parses (THECAL_QUANTITY_AMOUNT, "9223372036854.775807 mg", INT64_MAX);
  ck_assert_parses (THECAL_QUANTITY_AMOUNT, "9223372036854775.807 mcg", INT64_MAX);
  check_parse_error (THECAL_QUANTITY_AMOUNT, "9223372036854775808 ng", THECAL_DOSE_ERROR_OVERFLOW, "9223372036854.775807 mg");
  check_parse_error (THECAL_QUANTITY_AMOUNT, "9223372036854.775808 mg", THECAL_DOSE_ERROR_OVERFLOW, NULL);
  check_parse_error (THECAL_QUANTITY_AMOUNT, "9223372036855 mg", THECAL_DOSE_ERROR_OVERFLOW, NULL);
  check_parse_error (THECAL_QUANTITY_AMOUNT, "99999999999999999999999999999999 mg", THECAL_DOSE_ERROR_OVERFLOW, NULL);

  ck_assert_parses (THECAL_QUANTITY_VOLUME, "9223372036854.775807 mL", INT64_MAX);
  check_parse_error (THECAL_QUANTITY_VOLUME, "9223372036854.775808 mL", THECAL_DOSE_ERROR_OVERFLOW, "9223372036854.775807 mL");
  ck_assert_parses (THECAL_QUANTITY_CONCENTRATION, "9223372036854.775807 mg/mL", INT64_MAX);
  check_parse_error (THECAL_QUANTITY_CONCENTRATION, "9223372036854.775808 mg/mL", THECAL_DOSE_ERROR_OVERFLOW, NULL);
  ck_assert_parses (THECAL_QUANTITY_DOSE_RATE, "9223372036854.775807 mg/day", INT64_MAX);
  check_parse_error (THECAL_QUANTITY_DOSE_RATE, "9223372036854.775808 mg/day", THECAL_DOSE_ERROR_OVERFLOW, NULL);
  ck_assert_parses (THECAL_QUANTITY_VOLUME_RATE, "9223372036854.775807 mL/day", INT64_MAX);
  check_parse_error (THECAL_QUANTITY_VOLUME_RATE, "9223372036854.775808 mL/day", THECAL_DOSE_ERROR_OVERFLOW, NULL);

  /* per hour: INT64_MAX = 384 307 168 202 282 325 × 24 + 7, so
   * 384 307 168 202 282 325 ng/h = 9 223 372 036 854 775 800 ng/day fits, +0.25 ng/h (6) still
   * fits (…806), +0.375 ng/h (9) does not (…809), and +1 ng/h does not. */
  ck_assert_parses (THECAL_QUANTITY_DOSE_RATE, "384307168202282325 ng/h", INT64_C (9223372036854775800));
  ck_assert_parses (THECAL_QUANTITY_DOSE_RATE, "384307168202282325.25 ng/h", INT64_C (9223372036854775806));
  check_parse_error (THECAL_QUANTITY_DOSE_RATE, "384307168202282325.375 ng/h", THECAL_DOSE_ERROR_OVERFLOW, NULL);
  check_parse_error (THECAL_QUANTITY_DOSE_RATE, "384307168202282326 ng/h", THECAL_DOSE_ERROR_OVERFLOW, NULL);
  ck_assert_parses (THECAL_QUANTITY_VOLUME_RATE, "384307168202.282325 mL/h", INT64_C (9223372036854775800));
  check_parse_error (THECAL_QUANTITY_VOLUME_RATE, "384307168202.282326 mL/h", THECAL_DOSE_ERROR_OVERFLOW, NULL);

  /* durations: INT64_MAX ms = 106 751 991 167 days + a remainder; 2 562 047 788 015 h + 775 807 ms
   * (12 min = 720 000 ms fits, 13 min = 780 000 ms does not) */
  ck_assert_parses (THECAL_QUANTITY_DURATION, "9223372036854775807 ms", INT64_MAX);
  check_parse_error (THECAL_QUANTITY_DURATION, "9223372036854775808 ms", THECAL_DOSE_ERROR_OVERFLOW, NULL);
  ck_assert_parses (THECAL_QUANTITY_DURATION, "106751991167 days", INT64_C (106751991167) * 86400000);
  check_parse_error (THECAL_QUANTITY_DURATION, "106751991168 days", THECAL_DOSE_ERROR_OVERFLOW, NULL);
  ck_assert_parses (THECAL_QUANTITY_DURATION, "2562047788015:12", INT64_C (2562047788015) * 3600000 + 720000);
  check_parse_error (THECAL_QUANTITY_DURATION, "2562047788015:13", THECAL_DOSE_ERROR_OVERFLOW, NULL);
  check_parse_error (THECAL_QUANTITY_DURATION, "99999999999999999999:00", THECAL_DOSE_ERROR_OVERFLOW, NULL);

  ck_assert_parses (THECAL_QUANTITY_RATIO, "92233720368547758.07 %", INT64_MAX);
  check_parse_error (THECAL_QUANTITY_RATIO, "92233720368547758.08 %", THECAL_DOSE_ERROR_OVERFLOW, NULL);
  ck_assert_parses (THECAL_QUANTITY_LENGTH, "922337203685477580.7 cm", INT64_MAX);
  check_parse_error (THECAL_QUANTITY_LENGTH, "922337203685477580.8 cm", THECAL_DOSE_ERROR_OVERFLOW, NULL);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Errors: each quotes the text and says what is expected
 * ------------------------------------------------------------------------------------------- */

START_TEST (test_errors_syntax)
{
  /* empty, blank */
  check_parse_error (THECAL_QUANTITY_CONCENTRATION, "", THECAL_DOSE_ERROR_PARSE, "25 mg/mL");
  check_parse_error (THECAL_QUANTITY_CONCENTRATION, "   ", THECAL_DOSE_ERROR_PARSE, "empty");
  /* no unit */
  check_parse_error (THECAL_QUANTITY_CONCENTRATION, "25", THECAL_DOSE_ERROR_UNIT, "mg/mL");
  check_parse_error (THECAL_QUANTITY_VOLUME, "0.5", THECAL_DOSE_ERROR_UNIT, "mL");
  check_parse_error (THECAL_QUANTITY_DURATION, "90", THECAL_DOSE_ERROR_UNIT, "min");
  /* no number */
  check_parse_error (THECAL_QUANTITY_AMOUNT, "mg", THECAL_DOSE_ERROR_PARSE, "5 mg");
  check_parse_error (THECAL_QUANTITY_AMOUNT, "five mg", THECAL_DOSE_ERROR_PARSE, NULL);
  /* signs: nothing here is negative on input */
  check_parse_error (THECAL_QUANTITY_AMOUNT, "-5 mg", THECAL_DOSE_ERROR_RANGE, "zero");
  check_parse_error (THECAL_QUANTITY_AMOUNT, "-0 mg", THECAL_DOSE_ERROR_RANGE, NULL);
  check_parse_error (THECAL_QUANTITY_VOLUME, " -1.5 mL", THECAL_DOSE_ERROR_RANGE, NULL);
  check_parse_error (THECAL_QUANTITY_VOLUME, "\xe2\x88\x92"
                                             "1.5 mL",
                     THECAL_DOSE_ERROR_RANGE, NULL); /* U+2212 */
  check_parse_error (THECAL_QUANTITY_AMOUNT, "+5 mg", THECAL_DOSE_ERROR_PARSE, "sign");
  /* decimal points */
  check_parse_error (THECAL_QUANTITY_AMOUNT, ".5 mg", THECAL_DOSE_ERROR_PARSE, "leading zero");
  check_parse_error (THECAL_QUANTITY_AMOUNT, "5. mg", THECAL_DOSE_ERROR_PARSE, NULL);
  check_parse_error (THECAL_QUANTITY_AMOUNT, "5.mg", THECAL_DOSE_ERROR_PARSE, NULL);
  check_parse_error (THECAL_QUANTITY_AMOUNT, "1.2.3 mg", THECAL_DOSE_ERROR_PARSE, NULL);
  check_parse_error (THECAL_QUANTITY_AMOUNT, "1..2 mg", THECAL_DOSE_ERROR_PARSE, NULL);
  /* the comma: a decimal separator in much of the world, refused with a hint */
  check_parse_error (THECAL_QUANTITY_CONCENTRATION, "2,5 mg/mL", THECAL_DOSE_ERROR_PARSE, "point");
  check_parse_error (THECAL_QUANTITY_AMOUNT, "1,000 mg", THECAL_DOSE_ERROR_PARSE, "point");
  check_parse_error (THECAL_QUANTITY_AMOUNT, ",5 mg", THECAL_DOSE_ERROR_PARSE, NULL);
  check_parse_error (THECAL_QUANTITY_AMOUNT, "1.5,0 mg", THECAL_DOSE_ERROR_PARSE, NULL);
  /* exponents */
  check_parse_error (THECAL_QUANTITY_AMOUNT, "1e3 mg", THECAL_DOSE_ERROR_PARSE, "exponent");
  check_parse_error (THECAL_QUANTITY_VOLUME, "1E-3 mL", THECAL_DOSE_ERROR_PARSE, "exponent");
  check_parse_error (THECAL_QUANTITY_VOLUME, "2.5e+1 mL", THECAL_DOSE_ERROR_PARSE, "exponent");
  /* two numbers, trailing text */
  check_parse_error (THECAL_QUANTITY_AMOUNT, "5 5 mg", THECAL_DOSE_ERROR_PARSE, "two numbers");
  check_parse_error (THECAL_QUANTITY_AMOUNT, "5 0.5 mg", THECAL_DOSE_ERROR_PARSE, "two numbers");
  check_parse_error (THECAL_QUANTITY_AMOUNT, "5 mg 5", THECAL_DOSE_ERROR_PARSE, "\"5\"");
  check_parse_error (THECAL_QUANTITY_AMOUNT, "5 mg daily", THECAL_DOSE_ERROR_PARSE, "\"daily\"");
  check_parse_error (THECAL_QUANTITY_AMOUNT, "5 mg mg", THECAL_DOSE_ERROR_PARSE, NULL);
  /* whitespace other than spaces is not a separator (control bytes are quoted as '?') */
  {
    ThecalDoseError error = { 0 };
    int64_t value;

    ck_assert (!thecal_quantity_parse (THECAL_QUANTITY_AMOUNT, "5\tmg", "dose", &value, &error));
    ck_assert_int_eq (error.code, THECAL_DOSE_ERROR_UNIT);
    ck_assert_ptr_nonnull (strstr (error.message, "\"5?mg\""));
  }
  /* a time where a number is expected */
  check_parse_error (THECAL_QUANTITY_AMOUNT, "08:30", THECAL_DOSE_ERROR_PARSE, "time");
}
END_TEST

START_TEST (test_errors_units)
{
  /* unknown units: the message quotes the unit and lists what is accepted */
  check_parse_error (THECAL_QUANTITY_CONCENTRATION, "25 mg/l", THECAL_DOSE_ERROR_UNIT, "\"mg/l\"");
  check_parse_error (THECAL_QUANTITY_CONCENTRATION, "25 mg/l", THECAL_DOSE_ERROR_UNIT, "mg/mL, mcg/mL");
  check_parse_error (THECAL_QUANTITY_CONCENTRATION, "25 mg / mL", THECAL_DOSE_ERROR_UNIT, NULL);
  check_parse_error (THECAL_QUANTITY_CONCENTRATION, "25 mg/", THECAL_DOSE_ERROR_UNIT, NULL);
  check_parse_error (THECAL_QUANTITY_CONCENTRATION, "25 /mL", THECAL_DOSE_ERROR_UNIT, NULL);
  check_parse_error (THECAL_QUANTITY_CONCENTRATION, "25 mg/mL/mL", THECAL_DOSE_ERROR_UNIT, NULL);
  check_parse_error (THECAL_QUANTITY_AMOUNT, "5 g", THECAL_DOSE_ERROR_UNIT, "\"g\"");
  check_parse_error (THECAL_QUANTITY_AMOUNT, "5 MG", THECAL_DOSE_ERROR_UNIT, NULL); /* case carries meaning */
  check_parse_error (THECAL_QUANTITY_AMOUNT, "5 Mg", THECAL_DOSE_ERROR_UNIT, NULL);
  check_parse_error (THECAL_QUANTITY_AMOUNT, "5 MCG", THECAL_DOSE_ERROR_UNIT, NULL);
  check_parse_error (THECAL_QUANTITY_AMOUNT, "5 " MICRO_SIGN " g", THECAL_DOSE_ERROR_UNIT, NULL);
  check_parse_error (THECAL_QUANTITY_AMOUNT, "5 units", THECAL_DOSE_ERROR_UNIT, NULL);
  check_parse_error (THECAL_QUANTITY_VOLUME, "5 cc", THECAL_DOSE_ERROR_UNIT, NULL);
  check_parse_error (THECAL_QUANTITY_VOLUME, "5 ML", THECAL_DOSE_ERROR_UNIT, NULL);
  check_parse_error (THECAL_QUANTITY_DOSE_RATE, "5 mg/week", THECAL_DOSE_ERROR_UNIT, "mg/day");
  check_parse_error (THECAL_QUANTITY_DOSE_RATE, "5 mg/min", THECAL_DOSE_ERROR_UNIT, NULL);
  check_parse_error (THECAL_QUANTITY_DURATION, "5 weeks", THECAL_DOSE_ERROR_UNIT, "min");

  /* a unit of another kind: the message says which kind it is and what is expected */
  check_parse_error (THECAL_QUANTITY_CONCENTRATION, "5 mg", THECAL_DOSE_ERROR_UNIT, "an amount");
  check_parse_error (THECAL_QUANTITY_CONCENTRATION, "5 mg", THECAL_DOSE_ERROR_UNIT, "mg/mL");
  check_parse_error (THECAL_QUANTITY_DOSE_RATE, "5 mg", THECAL_DOSE_ERROR_UNIT, "an amount");
  check_parse_error (THECAL_QUANTITY_DOSE_RATE, "0.2 mL/day", THECAL_DOSE_ERROR_UNIT, "a volume rate");
  check_parse_error (THECAL_QUANTITY_VOLUME_RATE, "5 mg/day", THECAL_DOSE_ERROR_UNIT, "a dose rate");
  check_parse_error (THECAL_QUANTITY_VOLUME_RATE, "0.2 mL", THECAL_DOSE_ERROR_UNIT, "a volume");
  check_parse_error (THECAL_QUANTITY_AMOUNT, "25 mg/mL", THECAL_DOSE_ERROR_UNIT, "a concentration");
  check_parse_error (THECAL_QUANTITY_VOLUME, "5 mg", THECAL_DOSE_ERROR_UNIT, "an amount");
  check_parse_error (THECAL_QUANTITY_DURATION, "5 mL", THECAL_DOSE_ERROR_UNIT, "a volume");
  check_parse_error (THECAL_QUANTITY_LENGTH, "5 ms", THECAL_DOSE_ERROR_UNIT, "a duration");
  check_parse_error (THECAL_QUANTITY_RATIO, "5 mm", THECAL_DOSE_ERROR_UNIT, "a length");
  check_parse_error (THECAL_QUANTITY_AMOUNT, "5 %", THECAL_DOSE_ERROR_UNIT, "a ratio");
}
END_TEST

START_TEST (test_errors_api)
{
  ThecalDoseError error = { 0 };
  int64_t value = 5;
  char long_text[400];

  /* NULL text */
  ck_assert (!thecal_quantity_parse (THECAL_QUANTITY_AMOUNT, NULL, "dose", &value, &error));
  ck_assert_int_eq (error.code, THECAL_DOSE_ERROR_PARSE);
  ck_assert_int_eq (value, 5);
  /* an unknown kind */
  thecal_dose_error_clear (&error);
  ck_assert (!thecal_quantity_parse (THECAL_QUANTITY_N_KINDS, "5 mg", "dose", &value, &error));
  ck_assert_int_eq (error.code, THECAL_DOSE_ERROR_INVALID);
  ck_assert (!thecal_quantity_parse ((ThecalQuantityKind) 1000, "5 mg", "dose", &value, NULL));
  /* a NULL field: the message names the kind instead */
  thecal_dose_error_clear (&error);
  ck_assert (!thecal_quantity_parse (THECAL_QUANTITY_VOLUME, "5 mg", NULL, &value, &error));
  ck_assert_ptr_nonnull (strstr (error.message, "volume"));
  /* no error struct: still false, nothing written */
  ck_assert (!thecal_quantity_parse (THECAL_QUANTITY_VOLUME, "5 mg", "v", &value, NULL));
  ck_assert_int_eq (value, 5);

  /* a very long text is quoted in part and the message stays a bounded sentence */
  memset (long_text, '7', sizeof long_text - 1);
  long_text[sizeof long_text - 1] = '\0';
  thecal_dose_error_clear (&error);
  ck_assert (!thecal_quantity_parse (THECAL_QUANTITY_VOLUME, long_text, "volume", &value, &error));
  ck_assert_int_eq (error.code, THECAL_DOSE_ERROR_UNIT);
  ck_assert_ptr_nonnull (strstr (error.message, "77777777..."));
  ck_assert_uint_lt (strlen (error.message), THECAL_ERROR_MESSAGE_MAX);
  /* control bytes are not copied into a message */
  thecal_dose_error_clear (&error);
  ck_assert (!thecal_quantity_parse (THECAL_QUANTITY_VOLUME, "5 m\x1b[2J", "volume", &value, &error));
  ck_assert_ptr_null (strchr (error.message, '\x1b'));
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Formatting
 * ------------------------------------------------------------------------------------------- */

START_TEST (test_format_units)
{
  /* amounts and dose rates: mg from 1 mg up, mcg below; leading zero, no trailing zero */
  ck_assert_formats (THECAL_QUANTITY_AMOUNT, 0, "0 mcg");
  ck_assert_formats (THECAL_QUANTITY_AMOUNT, 1, "0.001 mcg");
  ck_assert_formats (THECAL_QUANTITY_AMOUNT, 500, "0.5 mcg");
  ck_assert_formats (THECAL_QUANTITY_AMOUNT, 999999, "999.999 mcg");
  ck_assert_formats (THECAL_QUANTITY_AMOUNT, 1000000, "1 mg");
  ck_assert_formats (THECAL_QUANTITY_AMOUNT, 1000001, "1.000001 mg");
  ck_assert_formats (THECAL_QUANTITY_AMOUNT, 1500000, "1.5 mg");
  ck_assert_formats (THECAL_QUANTITY_AMOUNT, INT64_MAX, "9223372036854.775807 mg");
  ck_assert_formats (THECAL_QUANTITY_DOSE_RATE, 19200, "19.2 mcg/day");
  ck_assert_formats (THECAL_QUANTITY_DOSE_RATE, 15000000, "15 mg/day");
  /* concentrations */
  ck_assert_formats (THECAL_QUANTITY_CONCENTRATION, 100000, "100 mcg/mL");
  ck_assert_formats (THECAL_QUANTITY_CONCENTRATION, 2500000, "2.5 mg/mL");
  ck_assert_formats (THECAL_QUANTITY_CONCENTRATION, 999999, "999.999 mcg/mL");
  /* volumes and volume rates in mL */
  ck_assert_formats (THECAL_QUANTITY_VOLUME, 0, "0 mL");
  ck_assert_formats (THECAL_QUANTITY_VOLUME, 1, "0.000001 mL");
  ck_assert_formats (THECAL_QUANTITY_VOLUME, 20000000, "20 mL");
  ck_assert_formats (THECAL_QUANTITY_VOLUME, 250, "0.00025 mL");
  ck_assert_formats (THECAL_QUANTITY_VOLUME_RATE, 6000, "0.006 mL/day");
  ck_assert_formats (THECAL_QUANTITY_VOLUME_RATE, 24000000, "24 mL/day");
  /* durations: the largest unit that shows a whole number */
  ck_assert_formats (THECAL_QUANTITY_DURATION, 0, "0 min");
  ck_assert_formats (THECAL_QUANTITY_DURATION, 1, "1 ms");
  ck_assert_formats (THECAL_QUANTITY_DURATION, 1500, "1500 ms");
  ck_assert_formats (THECAL_QUANTITY_DURATION, 30000, "30 s");
  ck_assert_formats (THECAL_QUANTITY_DURATION, 600000, "10 min");
  ck_assert_formats (THECAL_QUANTITY_DURATION, 3600000, "1 h");
  ck_assert_formats (THECAL_QUANTITY_DURATION, 86400000, "1 day");
  ck_assert_formats (THECAL_QUANTITY_DURATION, 172800000, "2 days");
  ck_assert_formats (THECAL_QUANTITY_DURATION, 90000000, "25 h");
  ck_assert_formats (THECAL_QUANTITY_DURATION, INT64_MAX, "9223372036854775807 ms");
  /* times of day */
  ck_assert_formats (THECAL_QUANTITY_TIME_OF_DAY, 0, "00:00");
  ck_assert_formats (THECAL_QUANTITY_TIME_OF_DAY, 425, "07:05");
  ck_assert_formats (THECAL_QUANTITY_TIME_OF_DAY, 1439, "23:59");
  ck_assert_formats (THECAL_QUANTITY_TIME_OF_DAY, 1440, "--:--"); /* not a time: never parses */
  ck_assert_formats (THECAL_QUANTITY_TIME_OF_DAY, -1, "--:--");
  /* ratios and lengths */
  ck_assert_formats (THECAL_QUANTITY_RATIO, 1, "0.01 %");
  ck_assert_formats (THECAL_QUANTITY_RATIO, 10000, "100 %");
  ck_assert_formats (THECAL_QUANTITY_LENGTH, 455, "45.5 cm");
  ck_assert_formats (THECAL_QUANTITY_LENGTH, 1, "0.1 cm");
  /* negative values (discrepancies) */
  ck_assert_formats (THECAL_QUANTITY_VOLUME, -200000, "-0.2 mL");
  ck_assert_formats (THECAL_QUANTITY_VOLUME, -2000000, "-2 mL");
  ck_assert_formats (THECAL_QUANTITY_AMOUNT, -500, "-0.5 mcg");
  ck_assert_formats (THECAL_QUANTITY_AMOUNT, -1000000, "-1 mg");
  ck_assert_formats (THECAL_QUANTITY_DURATION, -86400000, "-1 day");
  ck_assert_formats (THECAL_QUANTITY_RATIO, -1450, "-14.5 %");
  ck_assert_formats (THECAL_QUANTITY_VOLUME, INT64_MIN, "-9223372036854.775808 mL");
  ck_assert_formats (THECAL_QUANTITY_DURATION, INT64_MIN, "-9223372036854775808 ms");
  /* an unknown kind writes "" */
  ck_assert_formats (THECAL_QUANTITY_N_KINDS, 5, "");
}
END_TEST

START_TEST (test_format_small_buffer)
{
  char buf[8];

  memset (buf, 'x', sizeof buf);
  ck_assert_ptr_eq (thecal_quantity_format (THECAL_QUANTITY_VOLUME, 1500000, buf, 4), buf);
  ck_assert_str_eq (buf, "1.5"); /* truncated, always terminated */
  ck_assert_int_eq (buf[5], 'x');
  ck_assert_ptr_eq (thecal_quantity_format (THECAL_QUANTITY_VOLUME, 1500000, buf, 0), buf);
  ck_assert_ptr_null (thecal_quantity_format_in (THECAL_QUANTITY_VOLUME, 1500000, "mL", buf, 0));
}
END_TEST

START_TEST (test_format_in)
{
  char buf[THECAL_QUANTITY_TEXT_MAX];

  /* 2 400 ng/day = 100 ng/h = 0.1 mcg/h */
  ck_assert_str_eq (thecal_quantity_format_in (THECAL_QUANTITY_DOSE_RATE, 2400, "mcg/h", buf, sizeof buf), "0.1 mcg/h");
  /* µg and ug are shown as mcg (ISMP) */
  ck_assert_str_eq (thecal_quantity_format_in (THECAL_QUANTITY_AMOUNT, 500, MICRO_SIGN "g", buf, sizeof buf), "0.5 mcg");
  ck_assert_str_eq (thecal_quantity_format_in (THECAL_QUANTITY_AMOUNT, 500, "ug", buf, sizeof buf), "0.5 mcg");
  ck_assert_str_eq (thecal_quantity_format_in (THECAL_QUANTITY_DOSE_RATE, 500, GREEK_MU "g/day", buf, sizeof buf),
                    "0.5 mcg/day");
  ck_assert_str_eq (thecal_quantity_format_in (THECAL_QUANTITY_AMOUNT, 1, "mg", buf, sizeof buf), "0.000001 mg");
  ck_assert_str_eq (thecal_quantity_format_in (THECAL_QUANTITY_AMOUNT, 5000000, "ng", buf, sizeof buf), "5000000 ng");
  ck_assert_str_eq (thecal_quantity_format_in (THECAL_QUANTITY_VOLUME, 250, "uL", buf, sizeof buf), "0.25 uL");
  ck_assert_str_eq (thecal_quantity_format_in (THECAL_QUANTITY_VOLUME, 250, "ml", buf, sizeof buf), "0.00025 mL");
  ck_assert_str_eq (thecal_quantity_format_in (THECAL_QUANTITY_CONCENTRATION, 25000000, "mcg/mL", buf, sizeof buf),
                    "25000 mcg/mL");
  /* 240 000 nL/day = 10 000 nL/h = 0.01 mL/h */
  ck_assert_str_eq (thecal_quantity_format_in (THECAL_QUANTITY_VOLUME_RATE, 240000, "mL/h", buf, sizeof buf), "0.01 mL/h");
  ck_assert_str_eq (thecal_quantity_format_in (THECAL_QUANTITY_VOLUME_RATE, 24000000, "mL/h", buf, sizeof buf), "1 mL/h");
  ck_assert_str_eq (thecal_quantity_format_in (THECAL_QUANTITY_DURATION, 5400000, "h", buf, sizeof buf), "1.5 h");
  ck_assert_str_eq (thecal_quantity_format_in (THECAL_QUANTITY_DURATION, 18000, "min", buf, sizeof buf), "0.3 min");
  ck_assert_str_eq (thecal_quantity_format_in (THECAL_QUANTITY_DURATION, 43200000, "days", buf, sizeof buf), "0.5 days");
  ck_assert_str_eq (thecal_quantity_format_in (THECAL_QUANTITY_RATIO, 1450, "%", buf, sizeof buf), "14.5 %");
  ck_assert_str_eq (thecal_quantity_format_in (THECAL_QUANTITY_LENGTH, 450, "mm", buf, sizeof buf), "450 mm");
  ck_assert_str_eq (thecal_quantity_format_in (THECAL_QUANTITY_VOLUME, -200000, "mL", buf, sizeof buf), "-0.2 mL");

  /* not exact in that unit: NULL and "" (200 000 nL/day = 8 333.33… nL/h; 1 ms = 1/60 000 min) */
  ck_assert_ptr_null (thecal_quantity_format_in (THECAL_QUANTITY_VOLUME_RATE, 200000, "mL/h", buf, sizeof buf));
  ck_assert_str_eq (buf, "");
  ck_assert_ptr_null (thecal_quantity_format_in (THECAL_QUANTITY_DURATION, 1, "min", buf, sizeof buf));
  ck_assert_ptr_null (thecal_quantity_format_in (THECAL_QUANTITY_DOSE_RATE, 1, "ng/h", buf, sizeof buf));
  /* unknown unit, or a unit of another kind, or no unit */
  ck_assert_ptr_null (thecal_quantity_format_in (THECAL_QUANTITY_CONCENTRATION, 5, "mg/l", buf, sizeof buf));
  ck_assert_str_eq (buf, "");
  ck_assert_ptr_null (thecal_quantity_format_in (THECAL_QUANTITY_AMOUNT, 5, "mL", buf, sizeof buf));
  ck_assert_ptr_null (thecal_quantity_format_in (THECAL_QUANTITY_AMOUNT, 5, "", buf, sizeof buf));
  ck_assert_ptr_null (thecal_quantity_format_in (THECAL_QUANTITY_AMOUNT, 5, NULL, buf, sizeof buf));
  ck_assert_ptr_null (thecal_quantity_format_in (THECAL_QUANTITY_TIME_OF_DAY, 5, "min", buf, sizeof buf));
  ck_assert_ptr_null (thecal_quantity_format_in (THECAL_QUANTITY_N_KINDS, 5, "mg", buf, sizeof buf));
}
END_TEST

START_TEST (test_kind_names)
{
  ck_assert_str_eq (thecal_quantity_kind_name (THECAL_QUANTITY_AMOUNT), "amount");
  ck_assert_str_eq (thecal_quantity_kind_name (THECAL_QUANTITY_VOLUME), "volume");
  ck_assert_str_eq (thecal_quantity_kind_name (THECAL_QUANTITY_CONCENTRATION), "concentration");
  ck_assert_str_eq (thecal_quantity_kind_name (THECAL_QUANTITY_DOSE_RATE), "dose rate");
  ck_assert_str_eq (thecal_quantity_kind_name (THECAL_QUANTITY_VOLUME_RATE), "volume rate");
  ck_assert_str_eq (thecal_quantity_kind_name (THECAL_QUANTITY_DURATION), "duration");
  ck_assert_str_eq (thecal_quantity_kind_name (THECAL_QUANTITY_TIME_OF_DAY), "time of day");
  ck_assert_str_eq (thecal_quantity_kind_name (THECAL_QUANTITY_RATIO), "ratio");
  ck_assert_str_eq (thecal_quantity_kind_name (THECAL_QUANTITY_LENGTH), "length");
  ck_assert_str_eq (thecal_quantity_kind_name (THECAL_QUANTITY_N_KINDS), "unknown quantity");
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Round trip: parse (format (x)) == x
 * ------------------------------------------------------------------------------------------- */

/* Checks one value; uses ck_abort_msg only on failure (ck_assert marks every call, which would
 * make the sweep slow). Also checks the ISMP rules on the text. */
static void
round_trip_one (ThecalQuantityKind kind, int64_t x)
{
  char text[THECAL_QUANTITY_TEXT_MAX];
  ThecalDoseError error = { 0 };
  int64_t back = -1;
  const char *space;

  thecal_quantity_format (kind, x, text, sizeof text);
  if (!thecal_quantity_parse (kind, text, "x", &back, &error))
    ck_abort_msg ("%s %lld formats as \"%s\", which does not parse: %s", thecal_quantity_kind_name (kind),
                  (long long) x, text, error.message);
  if (back != x)
    ck_abort_msg ("%s %lld formats as \"%s\", which parses as %lld", thecal_quantity_kind_name (kind), (long long) x,
                  text, (long long) back);
  if (kind == THECAL_QUANTITY_TIME_OF_DAY)
    return;
  /* ISMP: a leading zero, no trailing zero after a point, a space then a unit, never µ */
  space = strchr (text, ' ');
  if (text[0] == '.' || space == NULL || space[1] == '\0' || strstr (text, MICRO_SIGN) != NULL
      || (memchr (text, '.', (size_t) (space - text)) != NULL && space[-1] == '0')
      || space[-1] == '.')
    ck_abort_msg ("%s %lld formats as \"%s\", which breaks the ISMP rules", thecal_quantity_kind_name (kind),
                  (long long) x, text);
}

/* The same through format_in, when the value is exact in @unit. */
static void
round_trip_in (ThecalQuantityKind kind, int64_t x, const char *unit)
{
  char text[THECAL_QUANTITY_TEXT_MAX];
  int64_t back = -1;

  if (thecal_quantity_format_in (kind, x, unit, text, sizeof text) == NULL)
    return;
  if (!thecal_quantity_parse (kind, text, "x", &back, NULL) || back != x)
    ck_abort_msg ("%s %lld in %s is \"%s\", which parses as %lld", thecal_quantity_kind_name (kind), (long long) x,
                  unit, text, (long long) back);
}

static const int64_t edge_values[] = {
  0,
  1,
  2,
  5,
  9,
  10,
  11,
  24,
  59,
  60,
  99,
  100,
  101,
  999,
  1000,
  1001,
  1439,
  1440,
  9999,
  10000,
  59999,
  60000,
  60001,
  99999,
  100000,
  999999,
  1000000,
  1000001,
  3599999,
  3600000,
  3600001,
  9999999,
  24000000,
  86399999,
  86400000,
  86400001,
  INT64_C (999999999999),
  INT64_C (1000000000000),
  INT64_C (9223372036854000000),
  INT64_C (9223372036854775800),
  INT64_MAX - 1,
  INT64_MAX,
};

START_TEST (test_round_trip_sweep)
{
  ThecalQuantityKind kind = (ThecalQuantityKind) _i;
  uint64_t state = UINT64_C (0x9E3779B97F4A7C15) ^ (uint64_t) _i;
  int64_t x;

  /* edge values, powers of ten and their neighbours */
  for (size_t i = 0; i < sizeof edge_values / sizeof edge_values[0]; i++)
    if (kind != THECAL_QUANTITY_TIME_OF_DAY || edge_values[i] < THECAL_MINUTES_PER_DAY)
      round_trip_one (kind, edge_values[i]);
  x = 1;
  for (int p = 0; p <= 18 && kind != THECAL_QUANTITY_TIME_OF_DAY; p++)
    {
      round_trip_one (kind, x);
      round_trip_one (kind, x - 1);
      round_trip_one (kind, x + 1);
      if (p < 18)
        x *= 10; /* 10^18 is the last power of ten below INT64_MAX */
    }

  if (kind == THECAL_QUANTITY_TIME_OF_DAY)
    {
      /* the whole domain, then 100 000 draws from it */
      for (int64_t m = 0; m < THECAL_MINUTES_PER_DAY; m++)
        round_trip_one (kind, m);
      for (int i = 0; i < 100000; i++)
        round_trip_one (kind, (int64_t) (thecal_test_lcg_next (&state) >> 33) % THECAL_MINUTES_PER_DAY);
      return;
    }

  for (int i = 0; i < 100000; i++)
    {
      x = lcg_value (&state);
      round_trip_one (kind, x);
      /* values on the grid of the display units too (whole mg, whole minutes, ...) */
      if (kind == THECAL_QUANTITY_DURATION)
        round_trip_one (kind, (x % INT64_C (100000000000)) * 60000);
    }
}
END_TEST

START_TEST (test_round_trip_format_in)
{
  static const struct
  {
    ThecalQuantityKind kind;
    const char *unit;
  } units[] = {
    { THECAL_QUANTITY_AMOUNT, "mg" },
    { THECAL_QUANTITY_AMOUNT, "mcg" },
    { THECAL_QUANTITY_AMOUNT, "ng" },
    { THECAL_QUANTITY_VOLUME, "uL" },
    { THECAL_QUANTITY_VOLUME, MICRO_SIGN "L" },
    { THECAL_QUANTITY_VOLUME, "nL" },
    { THECAL_QUANTITY_CONCENTRATION, "mcg/mL" },
    { THECAL_QUANTITY_DOSE_RATE, "mg/h" },
    { THECAL_QUANTITY_DOSE_RATE, "mcg/h" },
    { THECAL_QUANTITY_DOSE_RATE, "ng/d" },
    { THECAL_QUANTITY_VOLUME_RATE, "mL/h" },
    { THECAL_QUANTITY_VOLUME_RATE, "uL/24h" },
    { THECAL_QUANTITY_DURATION, "h" },
    { THECAL_QUANTITY_DURATION, "min" },
    { THECAL_QUANTITY_DURATION, "s" },
    { THECAL_QUANTITY_DURATION, "days" },
    { THECAL_QUANTITY_LENGTH, "mm" },
  };
  uint64_t state = 42;

  for (size_t u = 0; u < sizeof units / sizeof units[0]; u++)
    {
      for (size_t i = 0; i < sizeof edge_values / sizeof edge_values[0]; i++)
        round_trip_in (units[u].kind, edge_values[i], units[u].unit);
      for (int i = 0; i < 20000; i++)
        {
          int64_t x = lcg_value (&state);

          round_trip_in (units[u].kind, x, units[u].unit);
          round_trip_in (units[u].kind, (x / 24) * 24, units[u].unit); /* exact per hour more often */
        }
    }
}
END_TEST

START_TEST (test_negative_never_parses)
{
  uint64_t state = 7;

  for (int k = 0; k < (int) THECAL_QUANTITY_N_KINDS; k++)
    for (int i = 0; i < 2000; i++)
      {
        char text[THECAL_QUANTITY_TEXT_MAX];
        int64_t x = lcg_value (&state);
        int64_t back = 0;

        if (x == 0)
          continue;
        thecal_quantity_format ((ThecalQuantityKind) k, -x, text, sizeof text);
        if (thecal_quantity_parse ((ThecalQuantityKind) k, text, "x", &back, NULL))
          ck_abort_msg ("\"%s\" parsed as %lld", text, (long long) back);
      }
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Locale: text in and out ignores LC_NUMERIC (libsigrok's test_locale, STYLE.md §6)
 * ------------------------------------------------------------------------------------------- */

#define LOCALE_SAMPLES 3000

typedef struct
{
  char formatted[THECAL_QUANTITY_TEXT_MAX];
  bool parsed;
  int64_t value;
  char message[THECAL_ERROR_MESSAGE_MAX];
} LocaleSample;

static const char *const locale_texts[] = {
  "25 mg/mL",
  "0.5 mcg/day",
  "0.048 mL/day",
  "1.5 mL",
  "90 min",
  "2 h",
  "08:30",
  "0.1 mcg/h",
  "45 cm",
  "14.5 %",
  "2,5 mg/mL",
  "1.000 mg",
  "1,000 mg",
  "-5 mg",
  "0.0000001 mL",
  "5 mg",
  "9223372036854.775808 mg",
};

/* Everything the locale could change: formatting, parsing and messages. */
static void
locale_run (LocaleSample *samples, size_t n)
{
  uint64_t state = 2024;
  size_t i = 0;

  for (size_t t = 0; t < sizeof locale_texts / sizeof locale_texts[0] && i < n; t++)
    for (int k = 0; k < (int) THECAL_QUANTITY_N_KINDS && i < n; k++, i++)
      {
        ThecalDoseError error = { 0 };

        samples[i].formatted[0] = '\0';
        samples[i].value = 0;
        samples[i].parsed = thecal_quantity_parse ((ThecalQuantityKind) k, locale_texts[t], "f", &samples[i].value, &error);
        memcpy (samples[i].message, error.message, sizeof error.message);
      }
  for (; i < n; i++)
    {
      ThecalQuantityKind kind = (ThecalQuantityKind) (i % THECAL_QUANTITY_N_KINDS);
      int64_t x = lcg_value (&state);
      ThecalDoseError error = { 0 };

      if (kind == THECAL_QUANTITY_TIME_OF_DAY)
        x %= THECAL_MINUTES_PER_DAY;
      thecal_quantity_format (kind, x, samples[i].formatted, sizeof samples[i].formatted);
      samples[i].value = 0;
      samples[i].parsed = thecal_quantity_parse (kind, samples[i].formatted, "f", &samples[i].value, &error);
      memcpy (samples[i].message, error.message, sizeof error.message);
    }
}

START_TEST (test_locale_independent)
{
  static LocaleSample in_c[LOCALE_SAMPLES];
  static LocaleSample in_locale[LOCALE_SAMPLES];
  const char *name;
  struct lconv *conv;

  ck_assert_ptr_nonnull (setlocale (LC_ALL, "C"));
  locale_run (in_c, LOCALE_SAMPLES);

  name = setlocale (LC_ALL, "de_DE.UTF-8");
  if (name == NULL)
    name = setlocale (LC_ALL, "fr_FR.UTF-8");
  ck_assert_msg (name != NULL,
                 "neither de_DE.UTF-8 nor fr_FR.UTF-8 is installed: run "
                 "`localedef -i de_DE -f UTF-8 de_DE.UTF-8` (or fr_FR) and run the test again");
  /* the locale really is active: its decimal separator is a comma */
  conv = localeconv ();
  ck_assert_str_eq (conv->decimal_point, ",");

  locale_run (in_locale, LOCALE_SAMPLES);
  for (size_t i = 0; i < LOCALE_SAMPLES; i++)
    {
      if (strcmp (in_c[i].formatted, in_locale[i].formatted) != 0 || in_c[i].parsed != in_locale[i].parsed
          || in_c[i].value != in_locale[i].value || strcmp (in_c[i].message, in_locale[i].message) != 0)
        ck_abort_msg ("sample %zu differs under %s: \"%s\" %d %lld \"%s\" vs \"%s\" %d %lld \"%s\"", i, name,
                      in_c[i].formatted, (int) in_c[i].parsed, (long long) in_c[i].value, in_c[i].message,
                      in_locale[i].formatted, (int) in_locale[i].parsed, (long long) in_locale[i].value,
                      in_locale[i].message);
    }
  /* and in that locale too: the worked example parses, the comma is refused */
  ck_assert_parses (THECAL_QUANTITY_CONCENTRATION, "25 mg/mL", 25000000);
  check_parse_error (THECAL_QUANTITY_CONCENTRATION, "2,5 mg/mL", THECAL_DOSE_ERROR_PARSE, "point");
  ck_assert_formats (THECAL_QUANTITY_VOLUME_RATE, 200000, "0.2 mL/day");
  setlocale (LC_ALL, "C");
}
END_TEST

static Suite *
quantity_suite (void)
{
  Suite *s = suite_create ("quantity");
  TCase *tc;

  tc = tcase_create ("parse");
  tcase_add_test (tc, test_worked_examples);
  tcase_add_test (tc, test_amount_spellings);
  tcase_add_test (tc, test_volume_spellings);
  tcase_add_test (tc, test_concentration_spellings);
  tcase_add_test (tc, test_rate_spellings);
  tcase_add_test (tc, test_parse_rate_either_kind);
  tcase_add_test (tc, test_duration_spellings);
  tcase_add_test (tc, test_time_of_day);
  tcase_add_test (tc, test_ratio_and_length);
  suite_add_tcase (s, tc);

  tc = tcase_create ("boundaries");
  tcase_add_test (tc, test_zero_and_smallest_step);
  tcase_add_test (tc, test_largest_values);
  suite_add_tcase (s, tc);

  tc = tcase_create ("errors");
  tcase_add_test (tc, test_errors_syntax);
  tcase_add_test (tc, test_errors_units);
  tcase_add_test (tc, test_errors_api);
  suite_add_tcase (s, tc);

  tc = tcase_create ("format");
  tcase_add_test (tc, test_format_units);
  tcase_add_test (tc, test_format_small_buffer);
  tcase_add_test (tc, test_format_in);
  tcase_add_test (tc, test_kind_names);
  suite_add_tcase (s, tc);

  tc = tcase_create ("round-trip");
  tcase_set_timeout (tc, 120);
  tcase_add_loop_test (tc, test_round_trip_sweep, 0, THECAL_QUANTITY_N_KINDS);
  tcase_add_test (tc, test_round_trip_format_in);
  tcase_add_test (tc, test_negative_never_parses);
  suite_add_tcase (s, tc);

  tc = tcase_create ("locale");
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_locale_independent);
  suite_add_tcase (s, tc);

  return s;
}

THECAL_TEST_MAIN (quantity_suite)
