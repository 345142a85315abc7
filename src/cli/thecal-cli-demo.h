/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-demo.h: "thecal-cli demo": every calculator on a worked example.
 */
#pragma once

#include "thecal-cli-common.h"

G_BEGIN_DECLS

gboolean thecal_cli_demo (ThecalCliOutput *out, int argc, char **argv, GError **error);

G_END_DECLS
