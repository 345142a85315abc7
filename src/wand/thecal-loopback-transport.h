/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-loopback-transport.h: a wand and a pump in the same process (the demo, the tests).
 *
 * Every frame sent is handed to a ThecalSimPump on the owning GMainContext, one source per frame
 * (an idle, or a timeout of the simulated link latency): first to the wand's own answers
 * (thecal_wand_local_answer: WAND_INFO, WAND_LINK), else to the pump, advanced first to the
 * current pump time. The pump's answer is queued for receive (after the latency again).
 *
 * Pump time = the pump's time when the transport was made + (clock now − clock then) ×
 * time-scale: real time (time-scale 1, a real ThecalClock), accelerated (time-scale > 1) or
 * simulated (a virtual ThecalClock). The pump is advanced only when a frame reaches it.
 *
 * Threads: the owning context is the thread-default context of the thread that created it;
 * every method is called there and every callback runs there.
 */
#pragma once

#include "thecal-clock.h"
#include "thecal-sim-pump.h"
#include "thecal-transport.h"

G_BEGIN_DECLS

#define THECAL_TYPE_LOOPBACK_TRANSPORT (thecal_loopback_transport_get_type ())
G_DECLARE_FINAL_TYPE (ThecalLoopbackTransport, thecal_loopback_transport, THECAL, LOOPBACK_TRANSPORT, GObject)

typedef struct
{
  guint64 frames_to_pump; /* frames handed to the pump */
  guint64 frames_to_wand; /* frames the wand answered itself */
  guint64 answers;        /* frames queued for receive */
  guint64 bytes_sent;     /* by the programmer */
  guint64 bytes_received; /* answers, in bytes */
  guint64 dropped_out_of_range;
} ThecalLoopbackStats;

/* A link to @pump (borrowed; @pump_free, if not NULL, frees it with the transport) on @clock
 * (NULL: a real clock). The pump must outlive the transport unless @pump_free is given. */
ThecalLoopbackTransport *thecal_loopback_transport_new (ThecalSimPump *pump, GDestroyNotify pump_free, ThecalClock *clock);

ThecalSimPump *thecal_loopback_transport_get_pump (ThecalLoopbackTransport *self);
ThecalClock *thecal_loopback_transport_get_clock (ThecalLoopbackTransport *self);

/* Properties "latency-ms" (each way, default 0), "time-scale" (default 1) and "pump-in-range"
 * (default TRUE; FALSE: frames for the pump are lost, the wand still answers its own). */
void thecal_loopback_transport_set_latency_ms (ThecalLoopbackTransport *self, guint latency_ms);
guint thecal_loopback_transport_get_latency_ms (ThecalLoopbackTransport *self);
void thecal_loopback_transport_set_time_scale (ThecalLoopbackTransport *self, guint time_scale);
guint thecal_loopback_transport_get_time_scale (ThecalLoopbackTransport *self);
void thecal_loopback_transport_set_pump_in_range (ThecalLoopbackTransport *self, gboolean in_range);
gboolean thecal_loopback_transport_get_pump_in_range (ThecalLoopbackTransport *self);

/* The pump's true time now (what it will be advanced to with the next frame). */
gint64 thecal_loopback_transport_pump_time_ms (ThecalLoopbackTransport *self);

/* The pump's true time in ms, from a clock the caller owns (the demo world's, thecal-demo.h). */
typedef gint64 (*ThecalLoopbackTimeFunc) (gpointer user_data);

/* Makes @func (@user_data; @destroy frees it with the transport or the next call) the pump's
 * true time instead of the clock × time-scale above: thecal_loopback_transport_pump_time_ms ()
 * returns what it returns (it must never go backwards). NULL: back to the clock, from now. */
void thecal_loopback_transport_set_time_func (ThecalLoopbackTransport *self,
                                              ThecalLoopbackTimeFunc func,
                                              gpointer user_data,
                                              GDestroyNotify destroy);

/* The wand is pulled out (the demo's fault button): like a USB wand's unplug, the link closes,
 * frames in flight are lost, what is pending and every later send or receive fails with
 * THECAL_WAND_ERROR_UNPLUGGED "Wand unplugged", and "disconnected" is emitted. Idempotent; the
 * link does not come back (a new transport does). */
void thecal_loopback_transport_unplug (ThecalLoopbackTransport *self);
/* TRUE after thecal_loopback_transport_unplug (). */
gboolean thecal_loopback_transport_get_unplugged (ThecalLoopbackTransport *self);
/* What the simulated wand answers WAND_LINK with now (signal, quality, pump in range). */
const ThecalWandLink *thecal_loopback_transport_get_wand_link (ThecalLoopbackTransport *self);

/* Advances the simulated pump to thecal_loopback_transport_pump_time_ms () now. Frames do this on
 * their own; call it before the pump is handed to another transport (a new wand, a reconnect),
 * whose clock starts from the pump's own time: an implant keeps delivering while no wand is near
 * it, so the time since the last frame must not be lost. */
void thecal_loopback_transport_advance_pump (ThecalLoopbackTransport *self);

const ThecalLoopbackStats *thecal_loopback_transport_get_stats (ThecalLoopbackTransport *self);

G_END_DECLS
