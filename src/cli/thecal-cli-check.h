/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-check.h: "thecal-cli check": a prescription against the drug library and the pump.
 */
#pragma once

#include "thecal-cli-common.h"

G_BEGIN_DECLS

typedef enum
{
  THECAL_CLI_VERDICT_OK = 0,       /* no finding stops it */
  THECAL_CLI_VERDICT_OVERRIDDEN,   /* soft limits only, and a reason was given */
  THECAL_CLI_VERDICT_NEEDS_REASON, /* soft limits and no reason: exit 1 */
  THECAL_CLI_VERDICT_REFUSED,      /* a hard limit or an impossible prescription: exit 1 */
} ThecalCliVerdict;

gboolean thecal_cli_check (ThecalCliOutput *out, int argc, char **argv, GError **error);

/* Runs the check and writes the plan, every finding and the verdict (text and @json).
 * @override_reason may be NULL. The verdict's explanation for stderr goes to *@why. */
ThecalCliVerdict thecal_cli_check_report (ThecalCliOutput *out,
                                          cJSON *json,
                                          const ThecalPrescription *rx,
                                          const ThecalPrescription *current,
                                          const ThecalPatientContext *patient,
                                          const ThecalPumpModel *model,
                                          gboolean model_is_default,
                                          const ThecalDrugLibrary *library,
                                          const char *override_reason,
                                          char **why);

/* Checks an override reason: valid UTF-8 and at least THECAL_CLI_OVERRIDE_REASON_MIN characters
 * once spaces are trimmed. Returns the trimmed reason or NULL with a usage error. */
char *thecal_cli_check_override_reason (const char *text, GError **error);

G_END_DECLS
