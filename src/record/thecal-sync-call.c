/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-sync-call.c: a blocking call made of an _async/_finish pair (command line, tests).
 */
#include "config.h"

#include "thecal-sync-call.h"

struct _ThecalSyncCall
{
  GMainContext *context;
  GAsyncResult *result;
};

ThecalSyncCall *
thecal_sync_call_new (void)
{
  ThecalSyncCall *call = g_new0 (ThecalSyncCall, 1);

  call->context = g_main_context_new ();
  g_main_context_push_thread_default (call->context);
  return call;
}

/* Runs on the thread that made @call, from its private context. */
void
thecal_sync_call_callback (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ThecalSyncCall *call = user_data;

  (void) source;
  g_assert (call->result == NULL);
  call->result = g_object_ref (result);
}

GAsyncResult *
thecal_sync_call_wait (ThecalSyncCall *call)
{
  while (call->result == NULL)
    g_main_context_iteration (call->context, TRUE);
  return call->result;
}

void
thecal_sync_call_free (ThecalSyncCall *call)
{
  if (call == NULL)
    return;
  g_main_context_pop_thread_default (call->context);
  g_clear_object (&call->result);
  g_main_context_unref (call->context);
  g_free (call);
}
