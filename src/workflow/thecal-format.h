/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-format.h: text the app shows, built from the dose core's ISMP formatting (leading zero,
 * no trailing zero, the unit always; src/dose/thecal-quantity.h) and the drug library's tall-man
 * names. No arithmetic on doses here: values are shown as the core formats them.
 */
#pragma once

#include <glib.h>

#include "thecal-drug.h"
#include "thecal-message.h"
#include "thecal-quantity.h"
#include "thecal-record-types.h"

G_BEGIN_DECLS

/* "0.5 mg/day": thecal_quantity_format () as a new string. */
char *thecal_format_quantity (ThecalQuantityKind kind, gint64 value);
/* A pump-local instant (ms) as "2026-01-08 09:00"; INT64_MAX: "never". */
char *thecal_format_instant (gint64 local_ms);
/* The drug as people must read it: the library's display name (tall-man letters where drugs look
 * alike, "HYDROmorphone"), else @drug_id as it is. */
const char *thecal_format_drug (const ThecalDrugLibrary *library, const char *drug_id);
/* "Continuous", "Flex" ... */
const char *thecal_format_mode (ThecalMode mode);
/* The alarm's name and what to do about it (CLINICAL.md §1.7). */
const char *thecal_format_alarm_name (ThecalProtoAlarm kind);
const char *thecal_format_alarm_action (ThecalProtoAlarm kind);
/* The role as people read it, translated ("physician"); thecal_role_name () is the stored value. */
const char *thecal_format_role (ThecalRole role);
/* A duration (ms, ≥ 0) as "1 h 20 min 5 s": whole units, each part in the dose core's duration
 * format, so every part can be typed back in. */
char *thecal_format_duration (gint64 ms);

G_END_DECLS
