/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-callback-timing.h: how long the app's own main-thread callbacks take (DESIGN.md: the main
 * loop never blocked > 16 ms by telemetry or the database). The callbacks that take the record's,
 * the visit's and the history's answers time themselves:
 *
 *   g_auto (ThecalCallbackTiming) timing = thecal_callback_timing_begin ("overview: connected");
 *
 * and the longest since the last reset is kept, with its name, for bench/bench-gui.c to report
 * beside the main loop's longest stall (which also holds GTK's own work: drawing, sizing windows).
 * It includes what GTK does synchronously inside the callback (a list view making the rows of the
 * items it was just given). Two monotonic clock reads per callback; main thread only.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  const char *name; /* static */
  gint64 started_us;
} ThecalCallbackTiming;

/* Starts timing the callback @name (a static string). */
ThecalCallbackTiming thecal_callback_timing_begin (const char *name);
/* Ends it: the longest is kept. Called by g_auto at the end of the callback's scope. */
void thecal_callback_timing_end (ThecalCallbackTiming *timing);
/* The longest callback since the last reset, in µs (0: none), and its name (NULL: none). */
gint64 thecal_callback_timing_get_longest (const char **name);
void thecal_callback_timing_reset (void);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ThecalCallbackTiming, thecal_callback_timing_end)

G_END_DECLS
