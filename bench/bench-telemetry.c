/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * bench-telemetry.c: a full interrogation (status, prescription, 1 000 log events) of a simulated
 * pump over the loopback: round trips, bytes on the wire against the payload bytes (DESIGN.md
 * target: one round trip per message type, ≤ 1.25 × the payload), and host-side time per exchange
 * (the pump link on a GMainContext, the loopback, the simulated pump; and the protocol alone,
 * programmer ↔ pump role without GLib). Run by build-aux/run-bench; figures go to
 * docs/telemetry.md.
 *
 * "Bytes on the wire": every byte of every frame, both ways (header, AEAD tag, CRC included).
 * "Payload": the message bodies those frames carry (plaintext, as thecal_message_encode writes
 * them), requests and answers. The USB wand's figures are bench/bench-telemetry-usb.c
 * (benchmark "telemetry-usb"), which shares these definitions.
 */
#include "config.h"

#include <gio/gio.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "thecal-dose-json.h"
#include "thecal-loopback-transport.h"
#include "thecal-pump-link.h"
#include "thecal-sim-pump.h"

#define EVENTS 1000
#define WARM_ROUNDS 200
#define EXCHANGES 2000
#define PROGRAMMINGS 200
#define DIRECT_EXCHANGES 20000

static ThecalSimPump pump;          /* ~800 KiB */
static ThecalProgrammer programmer; /* ~260 KiB, the direct loop */
static ThecalMessage scratch;
static uint8_t body[THECAL_FRAME_MAX];

static int64_t
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * INT64_C (1000000000) + ts.tv_nsec;
}

static void
die (const char *what, const char *why)
{
  fprintf (stderr, "bench-telemetry: %s: %s\n", what, why);
  exit (1);
}

static const ThecalPumpModel *
load_model (ThecalPumpModelSet *set)
{
  const char *dir = getenv ("THECAL_DATA_DIR");
  g_autofree char *path = g_build_filename (dir != NULL ? dir : "data", "pump-models.json", NULL);
  g_autofree char *text = NULL;
  gsize length;
  ThecalDoseError error;
  const ThecalPumpModel *model;

  if (!g_file_get_contents (path, &text, &length, NULL))
    die (path, "cannot read");
  thecal_dose_error_clear (&error);
  if (!thecal_pump_models_load_json (text, length, set, &error))
    die (path, error.message);
  model = thecal_pump_model_set_find (set, "TR-20");
  if (model == NULL)
    die (path, "no TR-20");
  return model;
}

static void
morphine (ThecalPrescription *rx, int64_t mg_per_day, bool ptm)
{
  thecal_prescription_init (rx);
  g_strlcpy (rx->drug_id, "morphine", sizeof rx->drug_id);
  rx->concentration_ng_per_ml = 25 * THECAL_NG_PER_MG;
  rx->mode = THECAL_MODE_CONTINUOUS;
  rx->continuous.basis = THECAL_BASIS_DOSE;
  rx->continuous.dose_ng_per_day = mg_per_day * THECAL_NG_PER_MG;
  if (ptm)
    rx->ptm = (ThecalPtmSettings){ .enabled = true, .dose_ng = 200000, .duration_ms = 600000, .lockout_ms = 3600000, .max_per_24h = 24 };
}

/* A TR-20 with morphine and PTM whose log holds more than 1 000 events (PTM requests a minute
 * apart: each is logged, granted or refused). */
static void
start_pump (const ThecalPumpModel *model)
{
  ThecalSimPumpConfig config;
  ThecalDoseError error;

  thecal_sim_pump_config_init (&config);
  config.model = model;
  g_strlcpy (config.serial, "TR20-000123", sizeof config.serial);
  thecal_sim_pump_demo_key (config.serial, config.key);
  config.catheter.catheter_length_mm = 455;
  config.catheter.catheter_volume_nl_per_cm = 2600;
  config.start_local_ms = INT64_C (1767603600000);
  config.reservoir_nl = 20 * THECAL_NL_PER_ML;
  g_strlcpy (config.drug_id, "morphine", sizeof config.drug_id);
  config.concentration_ng_per_ml = 25 * THECAL_NG_PER_MG;
  config.path_primed = true;
  config.has_prescription = true;
  morphine (&config.prescription, 5, true);
  thecal_dose_error_clear (&error);
  if (!thecal_sim_pump_init (&pump, &config, &error))
    die ("pump", error.message);
  while (thecal_engine_log_next_seq (thecal_sim_pump_engine (&pump)) <= EVENTS + 100)
    {
      ThecalPtmOutcome outcome;

      if (!thecal_sim_pump_ptm_request (&pump, &outcome, &error)
          || !thecal_sim_pump_advance_to (&pump, thecal_sim_pump_now_ms (&pump) + 60000, &error))
        die ("pump", error.message);
    }
}

/* ---- the pump link ------------------------------------------------------------------------------ */

typedef struct
{
  gboolean done;
  GAsyncResult *result;
} Wait;

/* Runs on the bench's context. */
static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Wait *wait = user_data;

  (void) source;
  wait->result = g_object_ref (result);
  wait->done = TRUE;
}

static GAsyncResult *
wait_for (Wait *wait, GMainContext *context)
{
  while (!wait->done)
    g_main_context_iteration (context, TRUE);
  wait->done = FALSE;
  return wait->result;
}

static gboolean
demo_key (const char *serial, const char *model_id, guint8 key[THECAL_KEY_SIZE], gpointer user_data)
{
  (void) model_id;
  (void) user_data;
  thecal_sim_pump_demo_key (serial, key);
  return TRUE;
}

static ThecalPumpInterrogation *
interrogate (ThecalPumpLink *link, GMainContext *context, Wait *wait, gint64 from)
{
  g_autoptr (GError) error = NULL;
  ThecalPumpInterrogation *in;

  thecal_pump_link_interrogate_async (link, from, EVENTS, 0, NULL, on_done, wait);
  in = thecal_pump_link_interrogate_finish (link, wait_for (wait, context), &error);
  g_clear_object (&wait->result);
  if (in == NULL)
    die ("interrogate", error->message);
  if (in->events->len != EVENTS)
    die ("interrogate", "not 1 000 events");
  return in;
}

/* The plaintext body of a message, in bytes. */
static size_t
body_size (const ThecalMessage *message)
{
  ThecalProtoError error;
  size_t length = 0;

  if (!thecal_message_encode (message, body, sizeof body, &length, &error))
    die ("encode", error.reason);
  return length;
}

/* What the three requests and their three answers carry. */
static size_t
interrogation_payload (const ThecalPumpInterrogation *in, gint64 from, size_t *answers_only)
{
  size_t total = 0, answers = 0;

  thecal_message_init (&scratch, THECAL_MSG_READ_STATUS, false);
  total += body_size (&scratch);
  thecal_message_init (&scratch, THECAL_MSG_READ_PRESCRIPTION, false);
  total += body_size (&scratch);
  thecal_message_init (&scratch, THECAL_MSG_READ_LOG, false);
  scratch.read_log.from_seq = from;
  scratch.read_log.max_events = EVENTS;
  total += body_size (&scratch);

  thecal_message_init (&scratch, THECAL_MSG_READ_STATUS, true);
  scratch.status = in->status;
  answers += body_size (&scratch);
  thecal_message_init (&scratch, THECAL_MSG_READ_PRESCRIPTION, true);
  scratch.prescription = in->prescription;
  answers += body_size (&scratch);
  thecal_message_init (&scratch, THECAL_MSG_READ_LOG, true);
  scratch.log.oldest_seq = in->log_oldest_seq;
  scratch.log.next_seq = in->log_next_seq;
  scratch.log.n_events = (int32_t) in->events->len;
  memcpy (scratch.log.events, in->events->data, in->events->len * sizeof (ThecalProtoEvent));
  answers += body_size (&scratch);
  *answers_only = answers;
  return total + answers;
}

/* "1.0234" from a ratio of integers, in ten-thousandths (no floating point in the figures). */
static void
print_ratio (const char *label, uint64_t wire, uint64_t payload)
{
  uint64_t ratio = (wire * 10000 + payload / 2) / payload;

  printf ("| %s | %" PRIu64 " | %" PRIu64 " | %" PRIu64 ".%04" PRIu64 " |\n", label, wire, payload, ratio / 10000, ratio % 10000);
}

/* ---- the protocol alone: programmer ↔ pump role, no GLib ---------------------------------------- */

static void
direct_random (void *user_data, uint8_t *buffer, size_t length)
{
  uint64_t *state = user_data;

  for (size_t i = 0; i < length; i++)
    buffer[i] = (uint8_t) (thecal_splitmix64_next (state) >> 56);
}

static int64_t
direct_exchanges (int n)
{
  ThecalProgrammerConfig config;
  ThecalProtoError error;
  uint8_t key[THECAL_KEY_SIZE];
  uint64_t seed = 7;
  int64_t t0, now = 1000;

  memset (&config, 0, sizeof config);
  config.random = direct_random;
  config.random_data = &seed;
  if (!thecal_programmer_init (&programmer, &config))
    die ("programmer", "init");
  thecal_sim_pump_demo_key ("TR20-000123", key);
  thecal_programmer_set_key (&programmer, key);
  t0 = now_ns ();
  for (int i = 0; i < n; i++)
    {
      if (!thecal_programmer_begin_simple (&programmer, now, THECAL_MSG_READ_STATUS, &error))
        die ("direct", error.reason);
      while (thecal_programmer_busy (&programmer))
        {
          const uint8_t *frame, *answer;
          size_t length, answer_length;

          frame = thecal_programmer_take_output (&programmer, &length);
          if (frame == NULL)
            die ("direct", "the programmer waits");
          if (thecal_sim_pump_handle_frame (&pump, frame, length, &answer, &answer_length))
            thecal_programmer_receive (&programmer, now, answer, answer_length);
        }
      if (thecal_programmer_result (&programmer)->status != THECAL_EXCHANGE_OK)
        die ("direct", "not answered");
    }
  return (now_ns () - t0) / n;
}

int
main (void)
{
  static ThecalPumpModelSet models;
  const ThecalPumpModel *model = load_model (&models);
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (ThecalClock) clock = NULL;
  g_autoptr (ThecalLoopbackTransport) loopback = NULL;
  g_autoptr (ThecalPumpLink) link = NULL;
  g_autoptr (ThecalPumpInterrogation) cold = NULL;
  g_autoptr (ThecalPumpInterrogation) warm = NULL;
  ThecalPrescription rx[2];
  Wait wait = { FALSE, NULL };
  size_t payload, answers;
  gint64 from;
  int64_t t0, cold_ns, warm_ns, exchange_ns, program_ns, direct_ns;

  start_pump (model);
  from = thecal_engine_log_next_seq (thecal_sim_pump_engine (&pump)) - EVENTS;
  g_main_context_push_thread_default (context);
  clock = thecal_clock_new_real ();
  loopback = thecal_loopback_transport_new (&pump, NULL, clock);
  link = thecal_pump_link_new (THECAL_TRANSPORT (loopback), clock);
  thecal_pump_link_set_key_func (link, demo_key, NULL, NULL);

  /* a cold interrogation: IDENTIFY, the handshake, then the three message types */
  t0 = now_ns ();
  cold = interrogate (link, context, &wait, from);
  cold_ns = now_ns () - t0;
  /* warm: the session is open */
  warm = interrogate (link, context, &wait, from);
  t0 = now_ns ();
  for (int i = 0; i < WARM_ROUNDS; i++)
    thecal_pump_interrogation_free (interrogate (link, context, &wait, from));
  warm_ns = (now_ns () - t0) / WARM_ROUNDS;

  /* one exchange (READ_STATUS) through the link, the loopback and the pump */
  t0 = now_ns ();
  for (int i = 0; i < EXCHANGES; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree ThecalMessage *reply = NULL;

      thecal_pump_link_read_status_async (link, NULL, on_done, &wait);
      reply = thecal_pump_link_request_finish (link, wait_for (&wait, context), &error);
      g_clear_object (&wait.result);
      if (reply == NULL)
        die ("read status", error->message);
    }
  exchange_ns = (now_ns () - t0) / EXCHANGES;

  /* two-phase programming: STAGE, READ_STAGED, COMMIT, READ_PRESCRIPTION */
  morphine (&rx[0], 6, true);
  morphine (&rx[1], 5, true);
  t0 = now_ns ();
  for (int i = 0; i < PROGRAMMINGS; i++)
    {
      g_autoptr (GError) error = NULL;
      ThecalChecksum active;
      ThecalProgramReport report;

      thecal_sim_pump_active_checksum (&pump, &active);
      thecal_pump_link_program_async (link, &rx[i % 2], &active, NULL, on_done, &wait);
      if (!thecal_pump_link_program_finish (link, wait_for (&wait, context), &report, &error) || report.outcome != THECAL_PROGRAM_CONFIRMED)
        die ("program", error != NULL ? error->message : thecal_program_outcome_name (report.outcome));
      g_clear_object (&wait.result);
    }
  program_ns = (now_ns () - t0) / PROGRAMMINGS;

  direct_ns = direct_exchanges (DIRECT_EXCHANGES);

  payload = interrogation_payload (warm, from, &answers);
  printf ("# bench-telemetry: a full interrogation (status, prescription, %d log events) over the loopback\n\n", EVENTS);
  printf ("| interrogation | round trips | retransmissions | bytes sent | bytes received |\n|---|---:|---:|---:|---:|\n");
  printf ("| cold (IDENTIFY, HELLO, AUTH, then the three) | %u | %u | %" PRIu64 " | %" PRIu64 " |\n", cold->round_trips,
          cold->retransmissions, cold->bytes_sent, cold->bytes_received);
  printf ("| warm (session open) | %u | %u | %" PRIu64 " | %" PRIu64 " |\n\n", warm->round_trips, warm->retransmissions,
          warm->bytes_sent, warm->bytes_received);
  printf ("| bytes | on the wire | payload | ratio (target ≤ 1.25) |\n|---|---:|---:|---:|\n");
  print_ratio ("warm: every frame both ways / every body", warm->bytes_sent + warm->bytes_received, payload);
  print_ratio ("warm: the three answers' frames / their bodies", warm->bytes_received, answers);
  print_ratio ("cold: every frame, handshake included / the three exchanges' bodies", cold->bytes_sent + cold->bytes_received, payload);
  printf ("\n| host-side time | µs |\n|---|---:|\n");
  printf ("| cold interrogation (1 000 events) | %" PRId64 ".%03" PRId64 " |\n", cold_ns / 1000, cold_ns % 1000);
  printf ("| warm interrogation (1 000 events), mean of %d | %" PRId64 ".%03" PRId64 " |\n", WARM_ROUNDS, warm_ns / 1000,
          warm_ns % 1000);
  printf ("| one exchange (READ_STATUS) through the pump link and the loopback, mean of %d | %" PRId64 ".%03" PRId64 " |\n", EXCHANGES,
          exchange_ns / 1000, exchange_ns % 1000);
  printf ("| two-phase programming (4 exchanges), mean of %d | %" PRId64 ".%03" PRId64 " |\n", PROGRAMMINGS, program_ns / 1000,
          program_ns % 1000);
  printf ("| one exchange, protocol alone (programmer ↔ pump role, no GLib), mean of %d | %" PRId64 ".%03" PRId64 " |\n",
          DIRECT_EXCHANGES, direct_ns / 1000, direct_ns % 1000);
  printf ("\nUSB wand figures: benchmark \"telemetry-usb\" (bench/bench-telemetry-usb.c).\n");

  if (warm->round_trips != 3)
    die ("target", "a warm interrogation is not one round trip per message type");
  if ((warm->bytes_sent + warm->bytes_received) * 4 > payload * 5)
    die ("target", "more than 1.25 × the payload on the wire");
  g_clear_object (&link);
  g_clear_object (&loopback);
  g_main_context_pop_thread_default (context);
  return 0;
}
