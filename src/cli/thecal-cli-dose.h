/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-dose.h: "thecal-cli dose": the rate for a dose or the dose for a rate.
 */
#pragma once

#include "thecal-cli-common.h"

G_BEGIN_DECLS

gboolean thecal_cli_dose (ThecalCliOutput *out, int argc, char **argv, GError **error);

/* The dose report, shared with the demo. With @from_dose, @value is a dose rate (ng/day) and the
 * rate is computed; otherwise @value is a volume rate (nL/day) and the dose is computed. Writes
 * text and @json; *@in_range tells whether the model can program the rounded rate. */
gboolean thecal_cli_dose_report (ThecalCliOutput *out,
                                 cJSON *json,
                                 const ThecalPumpModel *model,
                                 gboolean model_is_default,
                                 int64_t concentration_ng_per_ml,
                                 gboolean from_dose,
                                 int64_t value,
                                 gboolean *in_range,
                                 GError **error);

G_END_DECLS
