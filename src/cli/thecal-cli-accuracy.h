/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-accuracy.h: "thecal-cli accuracy": the trumpet analysis of the reference pump
 * (CLINICAL.md §5.1 scaled to mL/day, docs/engine.md "Accuracy"), with an optional cairo plot.
 */
#pragma once

#include "thecal-cli-common.h"

G_BEGIN_DECLS

gboolean thecal_cli_accuracy (ThecalCliOutput *out, int argc, char **argv, GError **error);

G_END_DECLS
