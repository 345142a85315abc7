/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-clock.h: the time the telemetry stack runs on (docs/telemetry.md "Time").
 *
 * Everything in src/wand that waits (the pump link's retransmission timer, the loopback's link
 * latency and its pump's clock, the fault injector's delays) asks a ThecalClock for "now" and for
 * timeout sources, never GLib directly, so the same code runs on:
 *
 *  - the real clock (monotonic time, g_timeout_source): the app, `--wand`;
 *  - a virtual clock: time moves only when the caller says so. thecal_clock_iterate () dispatches
 *    what is ready and, when nothing is, jumps to the earliest pending deadline. A retransmission
 *    after 1 s of silence then costs no waiting at all: the soak test runs 1 000 programming
 *    exchanges over a lossy link in simulated time, and `--sim` is instant and deterministic.
 *
 * Threads: a clock is used on the thread that owns the GMainContext its sources are attached to.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define THECAL_TYPE_CLOCK (thecal_clock_get_type ())
G_DECLARE_FINAL_TYPE (ThecalClock, thecal_clock, THECAL, CLOCK, GObject)

/* Monotonic ms (g_get_monotonic_time () / 1000). */
ThecalClock *thecal_clock_new_real (void);
/* A clock that reads @start_ms until it is advanced. */
ThecalClock *thecal_clock_new_virtual (gint64 start_ms);

gboolean thecal_clock_is_virtual (ThecalClock *self);
gint64 thecal_clock_now_ms (ThecalClock *self);

/* A one-shot source that becomes ready @delay_ms from now (≤ 0: at once). Set its callback and
 * attach it like any GSource; the callback must return G_SOURCE_REMOVE (a virtual timeout fires
 * once whatever it returns; a real one would repeat). */
GSource *thecal_clock_timeout_source_new (ThecalClock *self, gint64 delay_ms);

/* Adds a timeout on @context (NULL: the thread-default context); returns the source (owned by the
 * context: keep it only to destroy it). */
GSource *thecal_clock_add_timeout (ThecalClock *self,
                                   GMainContext *context,
                                   gint64 delay_ms,
                                   GSourceFunc func,
                                   gpointer data,
                                   GDestroyNotify notify);

/* Virtual clocks: moves time to @ms (never backwards). Real clocks: ignored. */
void thecal_clock_advance_to (ThecalClock *self, gint64 ms);

/* The earliest deadline of a pending (attached, not yet dispatched) timeout; G_MAXINT64 if none. */
gint64 thecal_clock_next_deadline (ThecalClock *self);

/* One step of a loop on @context (NULL: the thread-default context): dispatches what is ready;
 * otherwise a real clock blocks until something is, and a virtual clock jumps to the next
 * deadline. FALSE when a virtual clock has nothing ready and nothing scheduled: nothing can
 * happen any more (a test should fail rather than hang). */
gboolean thecal_clock_iterate (ThecalClock *self, GMainContext *context);

/* Iterates until *@done is TRUE. FALSE when thecal_clock_iterate () says nothing can happen. */
gboolean thecal_clock_run_until (ThecalClock *self, GMainContext *context, const gboolean *done);

G_END_DECLS
