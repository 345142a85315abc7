/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * main.c: thecal, the clinician programmer (docs/gui.md).
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "thecal-application.h"

int
main (int argc, char **argv)
{
  g_autoptr (ThecalApplication) app = NULL;
  const char *localedir = g_getenv ("THECAL_LOCALEDIR");

  setlocale (LC_ALL, "");
  /* THECAL_LOCALEDIR: the build's po/ (meson devenv, build-aux/run-demo and the tests set it), which
   * holds <lang>/LC_MESSAGES/thecal.mo as an installed locale dir does; else the installed one */
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL && localedir[0] != '\0' ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = thecal_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
