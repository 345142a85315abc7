/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * fuzz-pump-models.c: libFuzzer target for the pump model loader (thecal-dose-json.h).
 *
 * Invariants (abort () if broken):
 *  - success: the count is within the table, every model passes thecal_pump_model_validate,
 *    every id is found again by thecal_pump_model_set_find (ids are unique), and rounding the
 *    model's own limits to its resolution changes nothing;
 *  - failure: the set is left untouched (still all zero) and the error is explained.
 */
#include "config.h"

#include "thecal-dose-json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static ThecalPumpModelSet models;
static const ThecalPumpModelSet zero_models;

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  ThecalDoseError error;

  memset (&models, 0, sizeof models);
  memset (&error, 0, sizeof error);

  if (!thecal_pump_models_load_json ((const char *) data, size, &models, &error))
    {
      if (error.code == THECAL_DOSE_OK || error.message[0] == '\0'
          || memchr (error.message, '\0', sizeof error.message) == NULL)
        abort ();
      if (memcmp (&models, &zero_models, sizeof models) != 0)
        abort ();
      return 0;
    }

  if (error.code != THECAL_DOSE_OK || models.n_models < 1 || models.n_models > THECAL_PUMP_MODELS_MAX)
    abort ();
  for (int32_t i = 0; i < models.n_models; i++)
    {
      const ThecalPumpModel *model = &models.models[i];
      ThecalDoseError inner = { 0 };
      int64_t rounded = 0;

      if (!thecal_pump_model_validate (model, &inner))
        abort ();
      if (thecal_pump_model_set_find (&models, model->id) != model)
        abort ();
      if (!thecal_pump_model_round_rate (model, model->rate_max_nl_per_day, THECAL_ROUND_NEAREST_HALF_DOWN, &rounded)
          || rounded != model->rate_max_nl_per_day)
        abort ();
    }
  return 0;
}
