/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-dose-json.h: loaders for the JSON files of docs/formats.md (drug library, pump models,
 * prescriptions) and the writer for prescriptions.
 *
 * Every loader takes the file's bytes (no I/O here, so the fuzzers can feed them directly),
 * validates every field (type, unit, range; unknown keys are refused so a typo cannot silently
 * drop a limit) and either fills the output completely or leaves it untouched and returns false
 * with an error naming the field ("drugs[2].limits[0].value") and the limit it broke.
 */
#pragma once

#include "thecal-check.h"
#include "thecal-drug.h"
#include "thecal-prescription.h"
#include "thecal-pump-model.h"

#ifdef __cplusplus
extern "C"
{
#endif

/* Files larger than this are refused before parsing. */
#define THECAL_JSON_MAX_BYTES (1024 * 1024)

  bool thecal_drug_library_load_json (const char *text,
                                      size_t length,
                                      ThecalDrugLibrary *library,
                                      ThecalDoseError *error);

  bool thecal_pump_models_load_json (const char *text,
                                     size_t length,
                                     ThecalPumpModelSet *models,
                                     ThecalDoseError *error);

  bool thecal_prescription_load_json (const char *text,
                                      size_t length,
                                      ThecalPrescription *rx,
                                      ThecalDoseError *error);

  /* The prescription as JSON text in the format the loader reads (round trip exact).
   * Returns a string to free with free (), or NULL when out of memory. */
  char *thecal_prescription_to_json (const ThecalPrescription *rx);

#ifdef __cplusplus
}
#endif
