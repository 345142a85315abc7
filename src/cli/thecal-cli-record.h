/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-record.h: the patient-record commands of thecal-cli (docs/cli.md, docs/record.md):
 *
 *   thecal-cli [--db FILE] user add|list|passwd|unlock
 *   thecal-cli [--db FILE] patient add|list|show|search|correct
 *   thecal-cli [--db FILE] pump add|list|show|explant   (and the telemetry subcommands of
 *                                                        thecal-cli-pump.c)
 *   thecal-cli [--db FILE] history MRN
 *   thecal-cli [--db FILE] audit verify|export
 *   thecal-cli [--db FILE] export MRN --format json|csv
 *
 * Every command logs in with --user NAME (the password from a prompt without echo, or from
 * $THECAL_PASSWORD for scripts) and goes through src/workflow (ThecalRecordSession), so the
 * permission table of docs/security.md applies exactly as in the GUI. A refused permission exits
 * 1 with the reason on stderr, and is audited.
 */
#pragma once

#include "thecal-cli-common.h"

G_BEGIN_DECLS

gboolean thecal_cli_user (ThecalCliOutput *out, int argc, char **argv, GError **error);
gboolean thecal_cli_patient (ThecalCliOutput *out, int argc, char **argv, GError **error);
/* "pump": the record's add|list|show|explant here, the telemetry subcommands of thecal-cli-pump.c
 * (interrogate|program|log) there. */
gboolean thecal_cli_pump_any (ThecalCliOutput *out, int argc, char **argv, GError **error);
gboolean thecal_cli_history (ThecalCliOutput *out, int argc, char **argv, GError **error);
gboolean thecal_cli_audit (ThecalCliOutput *out, int argc, char **argv, GError **error);
gboolean thecal_cli_export (ThecalCliOutput *out, int argc, char **argv, GError **error);

G_END_DECLS
