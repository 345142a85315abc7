/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-refill.h: "thecal-cli refill-calc": expected residual, discrepancy and projection.
 */
#pragma once

#include "thecal-cli-common.h"
#include "thecal-refill.h"

G_BEGIN_DECLS

typedef struct
{
  const ThecalPrescription *rx; /* what ran since the last fill */
  const char *rx_label;         /* its file, for the output */
  int64_t fill_volume_nl;
  int64_t filled_at_local_ms;
  int64_t at_local_ms;
  int64_t aspirated_nl;
  const ThecalLoggedBolus *boluses;
  int32_t n_boluses;
  gboolean have_added;
  int64_t added_nl;
  const ThecalPrescription *new_rx; /* NULL: the same prescription goes on */
  const char *new_rx_label;
} ThecalCliRefillInput;

gboolean thecal_cli_refill_calc (ThecalCliOutput *out, int argc, char **argv, GError **error);

/* The refill report, shared with the demo. *@fill_refused is set when the new fill exceeds the
 * reservoir's capacity (exit 1). */
gboolean thecal_cli_refill_report (ThecalCliOutput *out,
                                   cJSON *json,
                                   const ThecalPumpModel *model,
                                   gboolean model_is_default,
                                   const ThecalDrugLibrary *library,
                                   const ThecalCliRefillInput *input,
                                   gboolean *fill_refused,
                                   GError **error);

G_END_DECLS
