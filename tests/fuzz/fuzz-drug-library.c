/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * fuzz-drug-library.c: libFuzzer target for the drug library loader (thecal-dose-json.h).
 *
 * Invariants (abort () if broken):
 *  - success: the count is within the table, every drug passes thecal_drug_validate, and every
 *    id is found again by thecal_drug_library_find (ids are unique);
 *  - failure: the library is left untouched (still all zero) and the error is explained.
 */
#include "config.h"

#include "thecal-dose-json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* about 250 kB each: static, not on the stack */
static ThecalDrugLibrary library;
static const ThecalDrugLibrary zero_library;

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  ThecalDoseError error;

  memset (&library, 0, sizeof library);
  memset (&error, 0, sizeof error);

  if (!thecal_drug_library_load_json ((const char *) data, size, &library, &error))
    {
      if (error.code == THECAL_DOSE_OK || error.message[0] == '\0'
          || memchr (error.message, '\0', sizeof error.message) == NULL)
        abort ();
      if (memcmp (&library, &zero_library, sizeof library) != 0)
        abort ();
      return 0;
    }

  if (error.code != THECAL_DOSE_OK || library.n_drugs < 1 || library.n_drugs > THECAL_DRUGS_MAX)
    abort ();
  for (int32_t i = 0; i < library.n_drugs; i++)
    {
      ThecalDoseError inner = { 0 };

      if (!thecal_drug_validate (&library.drugs[i], &inner))
        abort ();
      if (thecal_drug_library_find (&library, library.drugs[i].id) != &library.drugs[i])
        abort ();
    }
  return 0;
}
