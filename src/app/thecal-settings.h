/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-settings.h: the app's settings (GSettings org.thecal.Programmer,
 * data/org.thecal.Programmer.gschema.xml; docs/gui.md "Preferences") and the checks every value
 * passes before it is written: the inactivity timeout, the wand's USB ID and the drug library file.
 *
 * Threads: main thread only.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define THECAL_INACTIVITY_TIMEOUT_MIN_MINUTES 1u
#define THECAL_INACTIVITY_TIMEOUT_MAX_MINUTES 60u
#define THECAL_INACTIVITY_TIMEOUT_DEFAULT_MINUTES 5u
#define THECAL_WAND_USB_ID_DEFAULT "1209:0001"

/* The settings: the installed schema, else the one compiled into the build directory (an
 * uninstalled build: build/src/app/thecal, build-aux/run-demo, the tests). NULL when neither has
 * it: the app then runs on the defaults above and the Preferences window says why. */
GSettings *thecal_settings_new (void);

/* "5" → 5. FALSE with a message naming the field and the bounds unless @text is a whole number of
 * minutes from THECAL_INACTIVITY_TIMEOUT_MIN_MINUTES to _MAX_ (surrounding spaces ignored). */
gboolean thecal_settings_parse_timeout (const char *text, guint *minutes, GError **error);
/* "1209:0001" → 0x1209, 0x0001: four hexadecimal digits, a colon, four more; neither ID zero. */
gboolean thecal_settings_parse_wand_id (const char *text, guint16 *vid, guint16 *pid, GError **error);
/* "" (the installed library) or a file that loads as a drug library (src/dose); else FALSE with
 * the loader's message. */
gboolean thecal_settings_check_drug_library (const char *path, GError **error);

/* The inactivity timeout in minutes (@settings NULL: the default). */
guint thecal_settings_get_timeout_minutes (GSettings *settings);
/* The drug library file chosen in the preferences, or NULL for the installed one. */
char *thecal_settings_dup_drug_library_path (void);

G_END_DECLS
