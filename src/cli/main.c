/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * main.c: thecal-cli, the headless calculators of Thecal.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "thecal-cli.h"

int
main (int argc, char **argv)
{
  /* Messages follow the locale; quantities never do (thecal_quantity_format is locale-independent). */
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  return thecal_cli_main (argc, argv);
}
