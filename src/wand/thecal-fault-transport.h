/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-fault-transport.h: a bad radio link around any transport (docs/telemetry.md "The fault
 * injector").
 *
 * Each frame, in either direction, is delivered, dropped, corrupted (1 to 3 bit flips), duplicated,
 * delayed, or the link is disconnected — decided by integer probabilities in parts per million and
 * a seeded generator (xoshiro256**, src/engine's thecal-rng.h), drawn in frame order, so a run on
 * a virtual clock is reproducible bit for bit from its seed. A policy callback can script the fate
 * of chosen frames (a loss at every step of two-phase programming).
 *
 * A disconnect closes the inner transport, fails what is pending with
 * THECAL_WAND_ERROR_DISCONNECTED and emits "disconnected"; the frame that triggered it is, by a
 * coin of the same generator, either delivered first or lost. The link does not come back: make a
 * new transport (a reconnect) and hand it to the pump link.
 *
 * Threads: as every transport (thecal-transport.h): the owning context is the thread-default
 * context of the thread that created it.
 */
#pragma once

#include "thecal-clock.h"
#include "thecal-transport.h"

G_BEGIN_DECLS

#define THECAL_TYPE_FAULT_TRANSPORT (thecal_fault_transport_get_type ())
G_DECLARE_FINAL_TYPE (ThecalFaultTransport, thecal_fault_transport, THECAL, FAULT_TRANSPORT, GObject)

#define THECAL_FAULT_PPM 1000000 /* probabilities are parts per million: 5 % = 50 000 */

typedef enum
{
  THECAL_FAULT_TO_PUMP = 0,   /* sent by the programmer */
  THECAL_FAULT_FROM_PUMP = 1, /* received by the programmer */
} ThecalFaultDirection;

typedef enum
{
  THECAL_FAULT_ACTION_RANDOM = 0, /* (policy only) decide by the probabilities */
  THECAL_FAULT_ACTION_DELIVER,
  THECAL_FAULT_ACTION_DROP,
  THECAL_FAULT_ACTION_CORRUPT,
  THECAL_FAULT_ACTION_DUPLICATE,
  THECAL_FAULT_ACTION_DELAY,
  THECAL_FAULT_ACTION_DISCONNECT,
  THECAL_FAULT_N_ACTIONS
} ThecalFaultAction;

typedef struct
{
  guint64 seed;
  guint32 drop_ppm;
  guint32 corrupt_ppm;
  guint32 duplicate_ppm;
  guint32 delay_ppm;
  guint32 disconnect_ppm;
  guint32 delay_min_ms; /* a delayed frame waits delay_min_ms .. delay_max_ms (uniform) */
  guint32 delay_max_ms;
} ThecalFaultConfig;

typedef struct
{
  guint64 frames[2]; /* by direction */
  guint64 delivered;
  guint64 dropped;
  guint64 corrupted;
  guint64 duplicated;
  guint64 delayed;
  guint64 disconnects;
} ThecalFaultStats;

/* One decision, for the trace. */
typedef struct
{
  ThecalFaultDirection direction;
  guint64 index; /* the frame's number in its direction, from 1 */
  guint8 type;   /* the frame's type byte (0 if shorter than a header) */
  ThecalFaultAction action;
} ThecalFaultEvent;

/* Decides the fate of frame @index (from 1, per direction) of @frame; RANDOM leaves it to the
 * probabilities. Runs on the owning context. */
typedef ThecalFaultAction (*ThecalFaultPolicy) (ThecalFaultTransport *self,
                                                ThecalFaultDirection direction,
                                                guint64 index,
                                                GBytes *frame,
                                                gpointer user_data);

/* Every probability 0 .. THECAL_FAULT_PPM, and their sum at most THECAL_FAULT_PPM. */
gboolean thecal_fault_config_valid (const ThecalFaultConfig *config);

/* Wraps @inner (referenced). @clock times the delays (NULL: a real clock). */
ThecalFaultTransport *thecal_fault_transport_new (ThecalTransport *inner, const ThecalFaultConfig *config, ThecalClock *clock);

ThecalTransport *thecal_fault_transport_get_inner (ThecalFaultTransport *self);
void thecal_fault_transport_set_policy (ThecalFaultTransport *self,
                                        ThecalFaultPolicy policy,
                                        gpointer user_data,
                                        GDestroyNotify destroy);
const ThecalFaultStats *thecal_fault_transport_get_stats (ThecalFaultTransport *self);

/* Records every decision (off by default); the array of ThecalFaultEvent belongs to @self. */
void thecal_fault_transport_set_record_trace (ThecalFaultTransport *self, gboolean record);
GArray *thecal_fault_transport_get_trace (ThecalFaultTransport *self);

const char *thecal_fault_action_name (ThecalFaultAction action); /* "drop" */

G_END_DECLS
