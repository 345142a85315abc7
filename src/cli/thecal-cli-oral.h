/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-oral.h: "thecal-cli oral-estimate": oral → intrathecal morphine, an estimate only.
 */
#pragma once

#include "thecal-bolus.h"
#include "thecal-cli-common.h"

G_BEGIN_DECLS

gboolean thecal_cli_oral_estimate (ThecalCliOutput *out, int argc, char **argv, GError **error);

/* The estimate report, always labelled as an estimate, shared with the demo. */
gboolean thecal_cli_oral_report (ThecalCliOutput *out,
                                 cJSON *json,
                                 int64_t oral_ng_per_day,
                                 int32_t ratio,
                                 GError **error);

/* "ESTIMATE for clinician judgement — never programmed automatically". */
const char *thecal_cli_oral_label (void);

G_END_DECLS
