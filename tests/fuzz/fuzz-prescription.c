/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * fuzz-prescription.c: libFuzzer target for the prescription loader and writer
 * (thecal-dose-json.h).
 *
 * Invariants (abort () if broken):
 *  - success: the prescription passes thecal_prescription_validate, and writing it with
 *    thecal_prescription_to_json and loading that text again gives the identical struct
 *    (both loaded into zeroed structs, compared with memcmp);
 *  - failure: the prescription is left untouched (still all zero) and the error is explained.
 */
#include "config.h"

#include "thecal-dose-json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static ThecalPrescription first;
static ThecalPrescription second;
static const ThecalPrescription zero_rx;

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  ThecalDoseError error;
  char *json;

  memset (&first, 0, sizeof first);
  memset (&second, 0, sizeof second);
  memset (&error, 0, sizeof error);

  if (!thecal_prescription_load_json ((const char *) data, size, &first, &error))
    {
      if (error.code == THECAL_DOSE_OK || error.message[0] == '\0'
          || memchr (error.message, '\0', sizeof error.message) == NULL)
        abort ();
      if (memcmp (&first, &zero_rx, sizeof first) != 0)
        abort ();
      return 0;
    }
  if (error.code != THECAL_DOSE_OK)
    abort ();

  {
    ThecalDoseError inner = { 0 };

    if (!thecal_prescription_validate (&first, &inner))
      abort ();
  }

  json = thecal_prescription_to_json (&first);
  if (json == NULL)
    return 0; /* out of memory: not a finding */
  memset (&error, 0, sizeof error);
  if (!thecal_prescription_load_json (json, strlen (json), &second, &error))
    abort ();
  if (memcmp (&first, &second, sizeof first) != 0)
    abort ();
  free (json);
  return 0;
}
