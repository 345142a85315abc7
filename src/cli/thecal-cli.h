/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli.h: the thecal-cli program: finds the command, runs it, prints what it collected
 * and returns the exit code (docs/cli.md). main.c only sets up the locale and calls this.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

int thecal_cli_main (int argc, char **argv);

G_END_DECLS
