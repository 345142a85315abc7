/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * fuzz-quantity.c: libFuzzer target for the quantity parser and formatter (thecal-quantity.h).
 *
 * The input, as a NUL-terminated string, is parsed as every kind of quantity and as a rate.
 * Invariants (abort () if broken, so the fuzzer and the replay test report it):
 *  - success: no error code, the value is not negative (no quantity is negative on input), a time
 *    of day lies in 00:00..23:59, and parse (format (x)) == x, also through format_in;
 *  - failure: the value is left alone and the error has a code, a field and a bounded message.
 */
#include "config.h"

#include "thecal-quantity.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define SENTINEL INT64_C (-4242)

/* Units each kind is also written in, for the format_in round trip. */
static const char *const units_of_kind[THECAL_QUANTITY_N_KINDS][6] = {
  [THECAL_QUANTITY_AMOUNT] = { "mg", "mcg", "ug", "ng", NULL },
  [THECAL_QUANTITY_VOLUME] = { "mL", "uL", "\xc2\xb5L", "nL", NULL },
  [THECAL_QUANTITY_CONCENTRATION] = { "mg/mL", "mcg/mL", "ng/ml", NULL },
  [THECAL_QUANTITY_DOSE_RATE] = { "mg/day", "mcg/h", "ng/h", "mg/24h", NULL },
  [THECAL_QUANTITY_VOLUME_RATE] = { "mL/day", "mL/h", "uL/h", "nL/d", NULL },
  [THECAL_QUANTITY_DURATION] = { "days", "h", "min", "s", "ms", NULL },
  [THECAL_QUANTITY_TIME_OF_DAY] = { NULL },
  [THECAL_QUANTITY_RATIO] = { "%", NULL },
  [THECAL_QUANTITY_LENGTH] = { "cm", "mm", NULL },
};

static void
check_error (const ThecalDoseError *error)
{
  if (error->code == THECAL_DOSE_OK || error->message[0] == '\0'
      || memchr (error->message, '\0', sizeof error->message) == NULL
      || memchr (error->field, '\0', sizeof error->field) == NULL)
    abort ();
}

static void
check_round_trip (ThecalQuantityKind kind, int64_t value)
{
  char text[THECAL_QUANTITY_TEXT_MAX];
  ThecalDoseError error = { 0 };
  int64_t back = SENTINEL;

  if (value < 0)
    abort ();
  if (kind == THECAL_QUANTITY_TIME_OF_DAY && value >= THECAL_MINUTES_PER_DAY)
    abort ();

  thecal_quantity_format (kind, value, text, sizeof text);
  if (memchr (text, '\0', sizeof text) == NULL)
    abort ();
  if (!thecal_quantity_parse (kind, text, "fuzz", &back, &error) || back != value)
    abort ();

  for (int i = 0; units_of_kind[kind][i] != NULL; i++)
    {
      back = SENTINEL;
      if (thecal_quantity_format_in (kind, value, units_of_kind[kind][i], text, sizeof text) == NULL)
        continue;
      if (!thecal_quantity_parse (kind, text, "fuzz", &back, NULL) || back != value)
        abort ();
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = malloc (size + 1);

  if (text == NULL)
    return 0;
  memcpy (text, data, size);
  text[size] = '\0';

  for (int k = 0; k < (int) THECAL_QUANTITY_N_KINDS; k++)
    {
      ThecalQuantityKind kind = (ThecalQuantityKind) k;
      ThecalDoseError error = { 0 };
      int64_t value = SENTINEL;

      if (thecal_quantity_parse (kind, text, "fuzz", &value, &error))
        {
          if (error.code != THECAL_DOSE_OK)
            abort ();
          check_round_trip (kind, value);
        }
      else
        {
          if (value != SENTINEL)
            abort ();
          check_error (&error);
        }
    }

  {
    ThecalDoseError error = { 0 };
    ThecalQuantityKind kind = THECAL_QUANTITY_N_KINDS;
    int64_t value = SENTINEL;

    if (thecal_quantity_parse_rate (text, "fuzz", &kind, &value, &error))
      {
        if (kind != THECAL_QUANTITY_DOSE_RATE && kind != THECAL_QUANTITY_VOLUME_RATE)
          abort ();
        check_round_trip (kind, value);
      }
    else
      {
        if (value != SENTINEL)
          abort ();
        check_error (&error);
      }
  }

  free (text);
  return 0;
}
