/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-dose-private.h: what the calculators of src/dose share for their error messages and
 * their inputs (internal to the safety core: src/dose, and src/engine, which uses the same helpers).
 */
#pragma once

#include "thecal-pump-model.h"
#include "thecal-quantity.h"

#include <stdio.h>
#include <string.h>

/* @value of @kind as a clinician reads it ("0.2 mL/day"), written into @buf (at least
 * THECAL_QUANTITY_TEXT_MAX bytes, usually a local array of the message being built). Returns
 * @buf, so that it can stand as an argument of thecal_dose_error_set (). */
static inline const char *
_thecal_qtext (ThecalQuantityKind kind, int64_t value, char *buf)
{
  return thecal_quantity_format (kind, value, buf, THECAL_QUANTITY_TEXT_MAX);
}

/* A pump model a calculation can rely on: not NULL (otherwise an INVALID error on "model" with
 * @missing_message) and sound by thecal_pump_model_validate (), the one definition of a sound
 * model. Its error names the model's field as an input of the calculation ("model.stroke_volume").
 * Every calculator checks its model with this before using any of its fields. */
static inline bool
_thecal_dose_check_model (const ThecalPumpModel *model, const char *missing_message, ThecalDoseError *error)
{
  bool fresh = error != NULL && error->code == THECAL_DOSE_OK;
  char field[THECAL_ERROR_FIELD_MAX];

  if (model == NULL)
    return thecal_dose_error_set (error, THECAL_DOSE_ERROR_INVALID, "model", "%s", missing_message);
  if (thecal_pump_model_validate (model, error))
    return true;
  /* Only an error this call set is renamed: thecal_dose_error_set keeps the first error. */
  if (fresh && error->code != THECAL_DOSE_OK)
    {
      snprintf (field, sizeof field, "model.%.*s", (int) (sizeof field - sizeof "model."), error->field);
      memcpy (error->field, field, sizeof field);
    }
  return false;
}

/* Floor division of a pump-local instant into (day, ms of day), so that instants before the epoch
 * still map the ms of day into 0..86 399 999 (a local midnight is a multiple of 86 400 000). */
static inline void
_thecal_split_day (int64_t t_local_ms, int64_t *day, int64_t *ms_of_day)
{
  int64_t d = t_local_ms / THECAL_MS_PER_DAY;
  int64_t m = t_local_ms % THECAL_MS_PER_DAY;

  if (m < 0)
    {
      m += THECAL_MS_PER_DAY;
      d -= 1;
    }
  *day = d;
  *ms_of_day = m;
}
