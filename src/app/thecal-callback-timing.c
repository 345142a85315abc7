/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-callback-timing.c: see thecal-callback-timing.h.
 */
#include "config.h"

#include "thecal-callback-timing.h"

/* main thread only: no lock */
static gint64 longest_us;
static const char *longest_name;

ThecalCallbackTiming
thecal_callback_timing_begin (const char *name)
{
  return (ThecalCallbackTiming){ .name = name, .started_us = g_get_monotonic_time () };
}

void
thecal_callback_timing_end (ThecalCallbackTiming *timing)
{
  gint64 took;

  if (timing->name == NULL)
    return;
  took = g_get_monotonic_time () - timing->started_us;
  if (took > longest_us)
    {
      longest_us = took;
      longest_name = timing->name;
    }
  timing->name = NULL;
}

gint64
thecal_callback_timing_get_longest (const char **name)
{
  if (name != NULL)
    *name = longest_name;
  return longest_us;
}

void
thecal_callback_timing_reset (void)
{
  longest_us = 0;
  longest_name = NULL;
}
