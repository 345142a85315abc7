/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-visit.h: "thecal-cli visit PATIENT --sim SUBCOMMAND": a clinic visit
 * (src/workflow) from the command line: interrogate, program, refill, sync-clock, ack-alarm.
 */
#pragma once

#include "thecal-cli-common.h"

G_BEGIN_DECLS

gboolean thecal_cli_visit (ThecalCliOutput *out, int argc, char **argv, GError **error);

G_END_DECLS
