/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-engine-log.c: the event log, a bounded ring like a real pump's memory.
 *
 * Every entry gets the next sequence number (strictly increasing from 1, never reused, so an
 * importer can skip what it already has: DESIGN.md "An event log with a monotonically increasing
 * sequence number, for idempotent import"). When the ring is full the oldest entry is
 * overwritten; the oldest sequence number still held is reported so a reader knows what it missed.
 */
#include "config.h"

#include "thecal-engine-private.h"

#include <string.h>

void
_thecal_engine_log (ThecalEngine *engine,
                    ThecalEngineEventType type,
                    int32_t code,
                    int64_t a0,
                    int64_t a1,
                    int64_t a2)
{
  int64_t seq = engine->log_next_seq;
  ThecalEngineEvent *event = &engine->log[(seq - 1) % THECAL_ENGINE_LOG_CAPACITY];

  event->seq = seq;
  event->pump_ms = engine->clock_ms + engine->pump_offset_ms;
  event->type = (int32_t) type;
  event->code = code;
  event->args[0] = a0;
  event->args[1] = a1;
  event->args[2] = a2;
  engine->log_next_seq = seq + 1;
  if (engine->log_count < THECAL_ENGINE_LOG_CAPACITY)
    engine->log_count++;
}

int64_t
thecal_engine_log_oldest_seq (const ThecalEngine *engine)
{
  return engine->log_next_seq - engine->log_count;
}

int64_t
thecal_engine_log_next_seq (const ThecalEngine *engine)
{
  return engine->log_next_seq;
}

bool
thecal_engine_log_get (const ThecalEngine *engine, int64_t seq, ThecalEngineEvent *event)
{
  if (engine == NULL || event == NULL || seq < thecal_engine_log_oldest_seq (engine) || seq >= engine->log_next_seq
      || seq < 1)
    return false;
  *event = engine->log[(seq - 1) % THECAL_ENGINE_LOG_CAPACITY];
  return true;
}
