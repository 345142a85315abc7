/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * wand-test-util.h: the bench the GLib tests of src/wand share: a private GMainContext pushed as
 * the thread-default context, a virtual clock (simulated time: a retransmission after 1 s of
 * silence costs nothing), a simulated pump behind a loopback transport, optionally the fault
 * injector, and a pump link; plus waiting for an async result by iterating that context.
 *
 * Static inline: each test binary includes it once.
 */
#pragma once

#include <gio/gio.h>

#include "../pump/sim-pump-test-util.h"
#include "thecal-fault-transport.h"
#include "thecal-loopback-transport.h"
#include "thecal-pump-link.h"

typedef struct
{
  GMainContext *context;
  ThecalClock *clock;
  ThecalSimPump *pump; /* owned */
  ThecalLoopbackTransport *loopback;
  ThecalFaultTransport *fault; /* NULL without faults */
  ThecalPumpLink *link;
  uint64_t nonce_seed;
  ThecalPumpModel model;
  /* the last async result */
  gboolean done;
  GAsyncResult *result;
} Bench;

/* Every test's key store: the demo key of any serial. Runs on the bench's context. */
static inline gboolean
bench_key_func (const char *serial, const char *model_id, guint8 key[THECAL_KEY_SIZE], gpointer user_data)
{
  (void) model_id;
  (void) user_data;
  thecal_sim_pump_demo_key (serial, key);
  return TRUE;
}

static inline void bench_fill_log (Bench *bench, int64_t events);

/* The pump (its log filled to @log_events entries first, 0: as it starts) and the loopback. */
static inline void
bench_init_pump_full (Bench *bench, const ThecalPrescription *rx, int64_t log_events)
{
  memset (bench, 0, sizeof *bench);
  bench->context = g_main_context_new ();
  g_main_context_push_thread_default (bench->context);
  bench->clock = thecal_clock_new_virtual (1000);
  bench->model = thecal_test_tr20 ();
  bench->pump = g_new0 (ThecalSimPump, 1);
  test_sim_pump_init (bench->pump, &bench->model, rx, 12 * THECAL_NL_PER_ML);
  if (log_events > 0)
    bench_fill_log (bench, log_events);
  bench->loopback = thecal_loopback_transport_new (bench->pump, g_free, bench->clock);
}

static inline void
bench_init_pump (Bench *bench, const ThecalPrescription *rx)
{
  bench_init_pump_full (bench, rx, 0);
}

/* The transport the link talks to: the fault injector when there is one. */
static inline ThecalTransport *
bench_transport (Bench *bench)
{
  return bench->fault != NULL ? THECAL_TRANSPORT (bench->fault) : THECAL_TRANSPORT (bench->loopback);
}

static inline void
bench_init_link (Bench *bench)
{
  ThecalProgrammerConfig config;

  memset (&config, 0, sizeof config);
  bench->nonce_seed = 99;
  config.random = test_random;
  config.random_data = &bench->nonce_seed;
  bench->link = thecal_pump_link_new_full (bench_transport (bench), bench->clock, &config);
  thecal_pump_link_set_key_func (bench->link, bench_key_func, NULL, NULL);
}

/* A pump running @rx (NULL: stopped) behind a loopback, and a link; no faults. */
static inline void
bench_init (Bench *bench, const ThecalPrescription *rx)
{
  bench_init_pump (bench, rx);
  bench_init_link (bench);
}

/* The same with the fault injector between the link and the loopback. */
static inline void
bench_init_faulty (Bench *bench, const ThecalPrescription *rx, const ThecalFaultConfig *faults)
{
  bench_init_pump (bench, rx);
  bench->fault = thecal_fault_transport_new (THECAL_TRANSPORT (bench->loopback), faults, bench->clock);
  thecal_fault_transport_set_record_trace (bench->fault, TRUE);
  bench_init_link (bench);
}

static inline void
bench_clear (Bench *bench)
{
  g_clear_object (&bench->result);
  g_clear_object (&bench->link);
  g_clear_object (&bench->fault);
  g_clear_object (&bench->loopback); /* frees the pump */
  /* let the sources of closed transports run out before the context goes */
  while (g_main_context_iteration (bench->context, FALSE))
    ;
  g_clear_object (&bench->clock);
  g_main_context_pop_thread_default (bench->context);
  g_main_context_unref (bench->context);
}

/* Runs on the bench's context: an async call ended. */
static inline void
bench_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Bench *bench = user_data;

  (void) source;
  g_clear_object (&bench->result);
  bench->result = g_object_ref (result);
  bench->done = TRUE;
}

/* Iterates (in simulated time) until the call started with bench_done ends; its result. */
static inline GAsyncResult *
bench_wait (Bench *bench)
{
  ck_assert_msg (thecal_clock_run_until (bench->clock, bench->context, &bench->done),
                 "nothing can happen any more and the call has not ended");
  bench->done = FALSE;
  return bench->result;
}

/* Prepares for the next call. */
static inline gpointer
bench_cb (Bench *bench)
{
  bench->done = FALSE;
  return bench;
}

/* ---- blocking wrappers for the tests ----------------------------------------------------------- */

/* A request frame of @type with a body of the message version alone, sequence @seq (IDENTIFY 1:
 * docs/protocol.md §10, 16 bytes). */
static inline GBytes *
bench_request_frame (ThecalMsgType type, guint32 seq)
{
  guint8 body[1] = { THECAL_MSG_VERSION };
  guint8 out[64];
  size_t length;

  ck_assert (thecal_frame_encode (type, 0, seq, body, sizeof body, out, sizeof out, &length));
  return g_bytes_new (out, length);
}

/* Sends @frame through @transport; the send must succeed. */
static inline void
bench_send (Bench *bench, ThecalTransport *transport, GBytes *frame)
{
  g_autoptr (GError) error = NULL;

  thecal_transport_send_async (transport, frame, NULL, bench_done, bench_cb (bench));
  ck_assert_msg (thecal_transport_send_finish (transport, bench_wait (bench), &error), "%s", error->message);
}

static inline GBytes *
bench_receive (Bench *bench, ThecalTransport *transport, gint timeout_ms, GCancellable *cancellable, GError **error)
{
  thecal_transport_receive_async (transport, timeout_ms, cancellable, bench_done, bench_cb (bench));
  return thecal_transport_receive_finish (transport, bench_wait (bench), error);
}

static inline ThecalPumpInterrogation *
bench_interrogate (Bench *bench, gint64 from_seq, guint max_events, guint batch, GError **error)
{
  thecal_pump_link_interrogate_async (bench->link, from_seq, max_events, batch, NULL, bench_done, bench_cb (bench));
  return thecal_pump_link_interrogate_finish (bench->link, bench_wait (bench), error);
}

static inline gboolean
bench_program (Bench *bench, const ThecalPrescription *rx, const ThecalChecksum *reviewed, ThecalProgramReport *report, GError **error)
{
  thecal_pump_link_program_async (bench->link, rx, reviewed, NULL, bench_done, bench_cb (bench));
  return thecal_pump_link_program_finish (bench->link, bench_wait (bench), report, error);
}

static inline gboolean
bench_resolve (Bench *bench, ThecalProgramReport *report, GError **error)
{
  thecal_pump_link_resolve_async (bench->link, NULL, bench_done, bench_cb (bench));
  return thecal_pump_link_resolve_finish (bench->link, bench_wait (bench), report, error);
}

static inline ThecalMessage *
bench_request (Bench *bench, const ThecalMessage *request, GError **error)
{
  thecal_pump_link_request_async (bench->link, request, NULL, bench_done, bench_cb (bench));
  return thecal_pump_link_request_finish (bench->link, bench_wait (bench), error);
}

static inline ThecalChecksum
bench_active_checksum (Bench *bench)
{
  ThecalChecksum checksum;

  ck_assert (thecal_sim_pump_active_checksum (bench->pump, &checksum));
  return checksum;
}

/* PTM requests a minute apart (granted or refused, each logged) until the pump's log holds
 * @events entries. The pump needs PTM enabled. */
static inline void
bench_fill_log (Bench *bench, int64_t events)
{
  for (int i = 0; thecal_engine_log_next_seq (thecal_sim_pump_engine (bench->pump)) <= events && i < 100000; i++)
    {
      ThecalPtmOutcome outcome;

      ck_assert (thecal_sim_pump_ptm_request (bench->pump, &outcome, NULL));
      ck_assert (thecal_sim_pump_advance_to (bench->pump, thecal_sim_pump_now_ms (bench->pump) + 60000, NULL));
    }
}
