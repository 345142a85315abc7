/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-application.h: the application (org.thecal.Programmer). `thecal` opens the clinic's
 * record (thecal_record_default_path (), created on first use: the sign-in page then offers the
 * first-run path); `thecal --demo` builds a separate demo record in a temporary directory
 * (thecal-demo.h: six patients on simulated pumps), shows the "Demo — simulated pumps" banner,
 * and removes the directory when it quits.
 */
#pragma once

#include <adwaita.h>

#include "thecal-drug.h"
#include "thecal-pump-model.h"

G_BEGIN_DECLS

#define THECAL_TYPE_APPLICATION (thecal_application_get_type ())
G_DECLARE_FINAL_TYPE (ThecalApplication, thecal_application, THECAL, APPLICATION, AdwApplication)

ThecalApplication *thecal_application_new (void);

/* Registers the app's GResource (templates, CSS, icons) once; tests call it too. */
void thecal_application_register_resources (void);

/* Loads the drug library and the pump models from $THECAL_DATA_DIR (or the installed data
 * directory); the error names the file. */
gboolean thecal_application_load_data (ThecalPumpModelSet *models, ThecalDrugLibrary *library, GError **error);

G_END_DECLS
