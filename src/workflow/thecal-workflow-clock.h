/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-workflow-clock.h: clock synchronisation and alarm acknowledgement of a connected visit
 * (docs/workflows.md "Clock", "Alarms"). They need permission `pump.clock` or `alarm.acknowledge`
 * (nurse and physician; a refusal is audited) and are refused while a write is UNCERTAIN (BLOCKED).
 */
#pragma once

#include "thecal-visit.h"

G_BEGIN_DECLS

/* READ_STATUS; when the pump's clock differs from the clinic's (pump-local) by more than
 * THECAL_VISIT_CLOCK_DRIFT_MAX_MS, SET_CLOCK to the clinic's time and audit "clock.sync" with
 * the drift. Within the bound nothing is changed (*@synced FALSE). *@drift_ms: pump − clinic,
 * before. A lost answer: PAUSED (the clock may or may not be set: read it again). */
void thecal_visit_sync_clock_async (ThecalVisit *self,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data);
gboolean thecal_visit_sync_clock_finish (ThecalVisit *self,
                                         GAsyncResult *result,
                                         gint64 *drift_ms,
                                         gboolean *synced,
                                         GError **error);

/* ACK_ALARM @alarm, then "alarm seen" recorded (thecal_record_add_alarm_seen) with the pump's
 * time. The pump refusing (no such alarm raised): FAILED. */
void thecal_visit_ack_alarm_async (ThecalVisit *self,
                                   ThecalProtoAlarm alarm,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
gboolean thecal_visit_ack_alarm_finish (ThecalVisit *self, GAsyncResult *result, GError **error);

G_END_DECLS
