/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-record-fill.h: benchmarks and tests only: fills a record with generated patients fast
 * (@count per transaction instead of one), through the same code and the same audit entries as
 * thecal_record_add_patient_async (). Never used by Thecal itself.
 */
#pragma once

#include "thecal-record.h"

G_BEGIN_DECLS

/* Patients "B0000000"... numbered from @first, with names drawn deterministically from common
 * family and given names ("MARTIN, Louise"), all in one transaction. */
void _thecal_record_fill_patients_async (ThecalRecord *self,
                                         const ThecalUser *actor,
                                         gint64 first,
                                         gint64 count,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data);
gint64 *_thecal_record_fill_patients_finish (ThecalRecord *self, GAsyncResult *result, GError **error);

/* The name of generated patient @index (what _thecal_record_fill_patients_async wrote). */
char *_thecal_record_fill_name (gint64 index);

G_END_DECLS
