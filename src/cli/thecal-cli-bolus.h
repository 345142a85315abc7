/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-bolus.h: "thecal-cli bolus-calc priming|bridge": boluses through the dead space.
 */
#pragma once

#include "thecal-bolus.h"
#include "thecal-cli-common.h"

G_BEGIN_DECLS

gboolean thecal_cli_bolus_calc (ThecalCliOutput *out, int argc, char **argv, GError **error);

/* The priming report (with the label's mixing warning, always), shared with the demo. */
gboolean thecal_cli_priming_report (ThecalCliOutput *out,
                                    cJSON *json,
                                    const ThecalPumpModel *model,
                                    gboolean model_is_default,
                                    const ThecalDrugLibrary *library,
                                    const ThecalCatheter *catheter,
                                    const ThecalPrescription *rx,
                                    const char *rx_label,
                                    int64_t priming_rate_nl_per_day,
                                    GError **error);

/* The bridge report, shared with the demo. */
gboolean thecal_cli_bridge_report (ThecalCliOutput *out,
                                   cJSON *json,
                                   const ThecalPumpModel *model,
                                   gboolean model_is_default,
                                   const ThecalDrugLibrary *library,
                                   const ThecalCatheter *catheter,
                                   const ThecalPrescription *old_rx,
                                   const char *old_label,
                                   const ThecalPrescription *rx,
                                   const char *rx_label,
                                   GError **error);

/* The label's warning about mixing at priming flow rates (CLINICAL.md §1.4). */
const char *thecal_cli_priming_warning (void);

G_END_DECLS
