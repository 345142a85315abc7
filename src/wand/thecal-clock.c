/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-clock.c: real and virtual time for src/wand (thecal-clock.h).
 *
 * A virtual timeout is a GSource whose prepare () says "ready" once the clock reads its deadline
 * and otherwise asks the main loop to sleep without limit (-1): only thecal_clock_advance_to ()
 * (through thecal_clock_iterate ()) moves it. The clock keeps a plain list of its live virtual
 * sources to find the next deadline; each source holds a reference on the clock and leaves the
 * list when it is finalized.
 */
#include "config.h"

#include "thecal-clock.h"

struct _ThecalClock
{
  GObject parent_instance;

  gboolean is_virtual;
  gint64 now_ms;  /* virtual */
  GList *sources; /* VirtualSource *, not referenced */
};

G_DEFINE_FINAL_TYPE (ThecalClock, thecal_clock, G_TYPE_OBJECT)

typedef struct
{
  GSource source;
  ThecalClock *clock; /* referenced */
  gint64 deadline_ms;
} VirtualSource;

static void
thecal_clock_finalize (GObject *object)
{
  ThecalClock *self = THECAL_CLOCK (object);

  /* every source holds a reference: none is left */
  g_warn_if_fail (self->sources == NULL);
  G_OBJECT_CLASS (thecal_clock_parent_class)->finalize (object);
}

static void
thecal_clock_class_init (ThecalClockClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = thecal_clock_finalize;
}

static void
thecal_clock_init (ThecalClock *self)
{
  (void) self;
}

ThecalClock *
thecal_clock_new_real (void)
{
  return g_object_new (THECAL_TYPE_CLOCK, NULL);
}

ThecalClock *
thecal_clock_new_virtual (gint64 start_ms)
{
  ThecalClock *self = g_object_new (THECAL_TYPE_CLOCK, NULL);

  self->is_virtual = TRUE;
  self->now_ms = start_ms;
  return self;
}

gboolean
thecal_clock_is_virtual (ThecalClock *self)
{
  g_return_val_if_fail (THECAL_IS_CLOCK (self), FALSE);
  return self->is_virtual;
}

gint64
thecal_clock_now_ms (ThecalClock *self)
{
  g_return_val_if_fail (THECAL_IS_CLOCK (self), 0);
  return self->is_virtual ? self->now_ms : g_get_monotonic_time () / 1000;
}

/* ---- virtual sources -------------------------------------------------------------------------- */

/* Runs on the thread iterating the source's context (as do check and dispatch). */
static gboolean
virtual_prepare (GSource *source, gint *timeout)
{
  VirtualSource *vs = (VirtualSource *) source;

  *timeout = -1; /* virtual time does not pass while the loop sleeps */
  return vs->clock->now_ms >= vs->deadline_ms;
}

static gboolean
virtual_check (GSource *source)
{
  VirtualSource *vs = (VirtualSource *) source;

  return vs->clock->now_ms >= vs->deadline_ms;
}

static gboolean
virtual_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  (void) source;
  if (callback == NULL)
    return G_SOURCE_REMOVE;
  /* one-shot (thecal-clock.h): the callbacks return G_SOURCE_REMOVE */
  callback (user_data);
  return G_SOURCE_REMOVE;
}

static void
virtual_finalize (GSource *source)
{
  VirtualSource *vs = (VirtualSource *) source;

  vs->clock->sources = g_list_remove (vs->clock->sources, vs);
  g_clear_object (&vs->clock);
}

static GSourceFuncs virtual_funcs = {
  .prepare = virtual_prepare,
  .check = virtual_check,
  .dispatch = virtual_dispatch,
  .finalize = virtual_finalize,
};

GSource *
thecal_clock_timeout_source_new (ThecalClock *self, gint64 delay_ms)
{
  VirtualSource *vs;
  GSource *source;

  g_return_val_if_fail (THECAL_IS_CLOCK (self), NULL);
  if (delay_ms < 0)
    delay_ms = 0;
  if (!self->is_virtual)
    {
      source = g_timeout_source_new ((guint) MIN (delay_ms, (gint64) G_MAXUINT));
      g_source_set_static_name (source, "ThecalClock real timeout");
      return source;
    }
  source = g_source_new (&virtual_funcs, sizeof (VirtualSource));
  vs = (VirtualSource *) source;
  vs->clock = g_object_ref (self);
  vs->deadline_ms = delay_ms > G_MAXINT64 - self->now_ms ? G_MAXINT64 : self->now_ms + delay_ms;
  self->sources = g_list_prepend (self->sources, vs);
  g_source_set_static_name (source, "ThecalClock virtual timeout");
  return source;
}

GSource *
thecal_clock_add_timeout (ThecalClock *self,
                          GMainContext *context,
                          gint64 delay_ms,
                          GSourceFunc func,
                          gpointer data,
                          GDestroyNotify notify)
{
  GSource *source = thecal_clock_timeout_source_new (self, delay_ms);

  g_source_set_callback (source, func, data, notify);
  g_source_attach (source, context != NULL ? context : g_main_context_get_thread_default ());
  g_source_unref (source); /* the context holds it */
  return source;
}

void
thecal_clock_advance_to (ThecalClock *self, gint64 ms)
{
  g_return_if_fail (THECAL_IS_CLOCK (self));
  if (self->is_virtual && ms > self->now_ms)
    self->now_ms = ms;
}

gint64
thecal_clock_next_deadline (ThecalClock *self)
{
  gint64 next = G_MAXINT64;

  g_return_val_if_fail (THECAL_IS_CLOCK (self), G_MAXINT64);
  for (GList *l = self->sources; l != NULL; l = l->next)
    {
      VirtualSource *vs = l->data;
      GSource *source = (GSource *) vs;

      if (g_source_is_destroyed (source) || g_source_get_context (source) == NULL)
        continue;
      if (vs->deadline_ms < next)
        next = vs->deadline_ms;
    }
  return next;
}

gboolean
thecal_clock_iterate (ThecalClock *self, GMainContext *context)
{
  gint64 next;

  g_return_val_if_fail (THECAL_IS_CLOCK (self), FALSE);
  if (context == NULL)
    context = g_main_context_get_thread_default ();
  if (context == NULL)
    context = g_main_context_default ();
  if (g_main_context_iteration (context, FALSE))
    return TRUE;
  if (!self->is_virtual)
    {
      g_main_context_iteration (context, TRUE);
      return TRUE;
    }
  next = thecal_clock_next_deadline (self);
  if (next == G_MAXINT64)
    return FALSE;
  thecal_clock_advance_to (self, next);
  return TRUE;
}

gboolean
thecal_clock_run_until (ThecalClock *self, GMainContext *context, const gboolean *done)
{
  while (!*done)
    if (!thecal_clock_iterate (self, context))
      return FALSE;
  return TRUE;
}
