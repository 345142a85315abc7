/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-sync-call.h: a blocking call made of an _async/_finish pair, for the command line and
 * tests only (a GUI never blocks its main loop on the record).
 *
 *   g_autoptr (ThecalSyncCall) call = thecal_sync_call_new ();
 *   thecal_record_get_patient_async (record, mrn, NULL, thecal_sync_call_callback, call);
 *   patient = thecal_record_get_patient_finish (record, thecal_sync_call_wait (call), error);
 *
 * thecal_sync_call_new () pushes a private main context as the thread default, so the result is
 * delivered there and nothing else of the caller's main loop runs meanwhile;
 * thecal_sync_call_free () pops it.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _ThecalSyncCall ThecalSyncCall;

ThecalSyncCall *thecal_sync_call_new (void);
/* The GAsyncReadyCallback to pass with @call as user_data. */
void thecal_sync_call_callback (GObject *source, GAsyncResult *result, gpointer call);
/* Iterates the private context until the callback ran; the result is owned by @call. */
GAsyncResult *thecal_sync_call_wait (ThecalSyncCall *call);
void thecal_sync_call_free (ThecalSyncCall *call);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ThecalSyncCall, thecal_sync_call_free)

G_END_DECLS
