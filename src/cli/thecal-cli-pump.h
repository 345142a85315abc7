/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-pump.h: "thecal-cli pump interrogate|program|log": a pump over telemetry, simulated
 * (--sim, the loopback to a demo pump) or through a USB wand (--wand) (docs/telemetry.md).
 */
#pragma once

#include "thecal-cli-common.h"

G_BEGIN_DECLS

gboolean thecal_cli_pump (ThecalCliOutput *out, int argc, char **argv, GError **error);

G_END_DECLS
