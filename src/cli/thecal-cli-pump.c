/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-cli-pump.c: "thecal-cli pump interrogate|program|log" (docs/telemetry.md "thecal-cli
 * pump").
 *
 * --sim [SERIAL] talks to a demo pump (src/pump) through the loopback transport on a virtual
 * clock: the pump's clock starts at the demo instant (2026-01-05T09:00) and everything is
 * deterministic; retransmissions cost no waiting. --wand [VID:PID] talks to a USB wand on the
 * real clock. Both go through the same ThecalPumpLink, iterated here on a private GMainContext
 * until each operation ends (the CLI is the only place that waits like this).
 *
 * Exit codes as every command: 1 when the pump refuses or the change is not confirmed (FAILED,
 * CONFLICT, UNCERTAIN), or the dose-core check refuses before anything is sent; 2 for bad input;
 * 3 when the wand or the pump cannot be reached.
 */
#include "config.h"

#include "thecal-cli-pump.h"

#include <glib/gi18n.h>
#include <string.h>

#include "thecal-cli-check.h"
#include "thecal-engine.h"
#include "thecal-fault-transport.h"
#include "thecal-loopback-transport.h"
#include "thecal-pump-link.h"
#include "thecal-record-types.h"
#include "thecal-sim-pump-demo.h"
#ifdef THECAL_HAVE_USB_TRANSPORT
#include "thecal-usb-transport.h"
#endif

#define DEFAULT_WAND_VID 0x1209 /* DESIGN.md "Names": pid.codes, the test PID */
#define DEFAULT_WAND_PID 0x0001
#define SHOWN_EVENTS_DEFAULT 10

/* ---- --sim and --wand (optional values: a GOption callback, so state is file-wide) -------------- */

typedef struct
{
  gboolean sim;
  char *sim_serial;
  gboolean wand;
  char *wand_id;
} LinkOptions;

static LinkOptions link_options;

static void
link_options_clear (void)
{
  g_clear_pointer (&link_options.sim_serial, g_free);
  g_clear_pointer (&link_options.wand_id, g_free);
  link_options.sim = FALSE;
  link_options.wand = FALSE;
}

/* --sim [SERIAL] and --wand [VID:PID]: which one, and its value (NULL when none follows). */
static gboolean
on_link_option (const char *name, const char *value, gpointer data, GError **error)
{
  gboolean sim = g_str_equal (name, "--sim");
  char **target = sim ? &link_options.sim_serial : &link_options.wand_id;

  (void) data;
  (void) error;
  if (sim)
    link_options.sim = TRUE;
  else
    link_options.wand = TRUE;
  g_free (*target);
  *target = g_strdup (value);
  return TRUE;
}

/* The options every pump command takes. */
typedef struct
{
  char *key_file;
  char *models_path;
  char *link_faults;
} CommonOptions;

static void
common_options_clear (CommonOptions *common)
{
  g_clear_pointer (&common->key_file, g_free);
  g_clear_pointer (&common->models_path, g_free);
  g_clear_pointer (&common->link_faults, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CommonOptions, common_options_clear)

#define PUMP_LINK_ENTRIES(common)                                                                            \
  { "sim", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, (gpointer) on_link_option,                  \
    N_ ("A simulated demo pump (default " THECAL_SIM_PUMP_DEMO_DEFAULT_SERIAL "; the serial may follow)"),   \
    N_ ("SERIAL") },                                                                                         \
      { "wand", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, (gpointer) on_link_option,             \
        N_ ("A pump through the USB wand (default 1209:0001)"), N_ ("VID:PID") },                            \
      { "key-file", 0, 0, G_OPTION_ARG_FILENAME, &(common)->key_file,                                        \
        N_ ("The pump's pairing key: 64 hexadecimal digits (demo pumps need none)"), N_ ("FILE") },          \
      { "link-faults", 0, 0, G_OPTION_ARG_STRING, &(common)->link_faults,                                    \
        N_ ("With --sim: a bad link (none, lossy, commit-answer-lost, silent-after-commit)"), N_ ("KIND") }, \
      THECAL_CLI_OPTION_MODELS (&(common)->models_path)

/* ---- the connection --------------------------------------------------------------------------- */

typedef enum
{
  FAULTS_NONE = 0,
  FAULTS_LOSSY,               /* 20 % drops, 5 % corruption: retransmissions recover */
  FAULTS_COMMIT_ANSWER_LOST,  /* every answer to COMMIT lost: UNCERTAIN, then resolved */
  FAULTS_SILENT_AFTER_COMMIT, /* nothing comes back once COMMIT went: UNCERTAIN stays */
} LinkFaults;

typedef struct
{
  const char *command;
  GMainContext *context;
  ThecalClock *clock;
  ThecalLoopbackTransport *loopback; /* --sim */
  ThecalTransport *transport;        /* what the link talks to */
  ThecalPumpLink *link;
  ThecalPumpModelSet *models;
  gboolean have_key;
  guint8 key[THECAL_KEY_SIZE];
  gboolean commit_seen; /* FAULTS_SILENT_AFTER_COMMIT */
  gboolean done;
  GAsyncResult *result;
} Connection;

static void
connection_free (Connection *c)
{
  g_clear_object (&c->result);
  g_clear_object (&c->link);
  g_clear_object (&c->transport);
  g_clear_object (&c->loopback);
  if (c->context != NULL)
    {
      while (g_main_context_iteration (c->context, FALSE))
        ;
      g_main_context_pop_thread_default (c->context);
      g_main_context_unref (c->context);
    }
  g_clear_object (&c->clock);
  g_free (c->models);
  memset (c->key, 0, sizeof c->key);
  g_free (c);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Connection, connection_free)

/* Runs on the connection's context: the key of the pump that answered IDENTIFY. */
static gboolean
key_for_pump (const char *serial, const char *model_id, guint8 key[THECAL_KEY_SIZE], gpointer user_data)
{
  Connection *c = user_data;

  (void) model_id;
  if (c->have_key)
    {
      memcpy (key, c->key, THECAL_KEY_SIZE);
      return TRUE;
    }
  /* demo pumps derive their key from the serial (real pumps are paired: --key-file) */
  if (thecal_sim_pump_demo_find (serial) != NULL)
    {
      thecal_sim_pump_demo_key (serial, key);
      return TRUE;
    }
  return FALSE;
}

/* Runs on the connection's context. */
static ThecalFaultAction
cli_fault_policy (ThecalFaultTransport *fault, ThecalFaultDirection direction, guint64 index, GBytes *frame, gpointer user_data)
{
  Connection *c = user_data;
  gsize size;
  const guint8 *data = g_bytes_get_data (frame, &size);
  guint8 type = size > 3 ? data[3] : 0;
  LinkFaults kind = (LinkFaults) GPOINTER_TO_INT (g_object_get_data (G_OBJECT (fault), "thecal-cli-faults"));

  (void) index;
  if (kind == FAULTS_COMMIT_ANSWER_LOST)
    return direction == THECAL_FAULT_FROM_PUMP && type == THECAL_MSG_COMMIT ? THECAL_FAULT_ACTION_DROP : THECAL_FAULT_ACTION_DELIVER;
  if (kind == FAULTS_SILENT_AFTER_COMMIT)
    {
      if (direction == THECAL_FAULT_TO_PUMP && type == THECAL_MSG_COMMIT)
        c->commit_seen = TRUE;
      return direction == THECAL_FAULT_FROM_PUMP && c->commit_seen ? THECAL_FAULT_ACTION_DROP : THECAL_FAULT_ACTION_DELIVER;
    }
  return THECAL_FAULT_ACTION_RANDOM;
}

static gboolean
parse_link_faults (const char *text, LinkFaults *faults, GError **error)
{
  static const char *const names[] = { "none", "lossy", "commit-answer-lost", "silent-after-commit" };

  *faults = FAULTS_NONE;
  if (text == NULL)
    return TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_str_equal (text, names[i]))
      {
        *faults = (LinkFaults) i;
        return TRUE;
      }
  g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
               _ ("--link-faults: “%s” is not one of none, lossy, commit-answer-lost, silent-after-commit"), text);
  return FALSE;
}

/* The key file: the pairing key's text as thecal_pairing_key_parse reads it (src/record). */
static gboolean
read_key_file (const char *path, guint8 key[THECAL_KEY_SIZE], GError **error)
{
  g_autofree char *contents = NULL;
  g_autoptr (GError) local_error = NULL;
  gsize length = 0;
  gboolean ok;

  G_STATIC_ASSERT (THECAL_KEY_SIZE == THECAL_PAIRING_KEY_BYTES);
  if (!thecal_cli_read_file (path, &contents, &length, error))
    return FALSE;
  ok = thecal_pairing_key_parse (contents, key, &local_error);
  memset (contents, 0, length);
  if (!ok)
    g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("--key-file %s: %s"), path, local_error->message);
  return ok;
}

static gboolean
parse_wand_id (const char *text, guint16 *vid, guint16 *pid, GError **error)
{
  g_auto (GStrv) parts = NULL;
  guint64 v, p;

  *vid = DEFAULT_WAND_VID;
  *pid = DEFAULT_WAND_PID;
  if (text == NULL)
    return TRUE;
  parts = g_strsplit (text, ":", -1);
  if (g_strv_length (parts) != 2 || strlen (parts[0]) != 4 || strlen (parts[1]) != 4
      || !g_ascii_string_to_unsigned (parts[0], 16, 0, 0xFFFF, &v, NULL)
      || !g_ascii_string_to_unsigned (parts[1], 16, 0, 0xFFFF, &p, NULL))
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("--wand: “%s” is not VID:PID in hexadecimal (e.g. 1209:0001)"), text);
      return FALSE;
    }
  *vid = (guint16) v;
  *pid = (guint16) p;
  return TRUE;
}

/* What the link failed with → the CLI's error: the wand and the pump out of reach are I/O (exit 3);
 * a missing or wrong key is bad input (exit 2). */
static gboolean
link_error (Connection *c, GError *error, GError **out)
{
  ThecalCliError code = THECAL_CLI_ERROR_IO;

  if (error->domain == THECAL_PROTO_ERROR
      && (error->code == THECAL_PROTO_ERROR_NO_KEY || error->code == THECAL_PROTO_ERROR_WRONG_KEY || error->code == THECAL_PROTO_ERROR_WRONG_PUMP))
    code = THECAL_CLI_ERROR_USAGE;
  g_set_error (out, THECAL_CLI_ERROR, code, "%s: %s", c->command, error->message);
  g_error_free (error);
  return FALSE;
}

/* Starts the transport and the link. Options were checked. */
static Connection *
connect_pump (const char *command, const CommonOptions *common, GError **error)
{
  g_autoptr (Connection) c = g_new0 (Connection, 1);
  LinkFaults faults;
  ThecalProgrammerConfig config;

  c->command = command;
  if (!parse_link_faults (common->link_faults, &faults, error))
    return NULL;
  if (faults != FAULTS_NONE && !link_options.sim)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("%s: --link-faults needs --sim"), command);
      return NULL;
    }
  if (common->key_file != NULL)
    {
      if (!read_key_file (common->key_file, c->key, error))
        return NULL;
      c->have_key = TRUE;
    }
  c->models = g_new0 (ThecalPumpModelSet, 1);
  if (!thecal_cli_load_models (common->models_path, c->models, error))
    return NULL;

  c->context = g_main_context_new ();
  g_main_context_push_thread_default (c->context);
  memset (&config, 0, sizeof config);

  if (link_options.sim)
    {
      const char *serial = link_options.sim_serial != NULL ? link_options.sim_serial : THECAL_SIM_PUMP_DEMO_DEFAULT_SERIAL;
      const ThecalSimPumpDemo *demo = thecal_sim_pump_demo_find (serial);
      const ThecalPumpModel *model;
      ThecalSimPump *pump;
      ThecalDoseError dose_error;

      if (demo == NULL)
        {
          g_autoptr (GString) known = g_string_new (NULL);

          for (int32_t i = 0; i < thecal_sim_pump_demo_count (); i++)
            g_string_append_printf (known, "%s%s", i > 0 ? ", " : "", thecal_sim_pump_demo_get (i)->serial);
          g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("%s: --sim: no demo pump “%s” (the demo pumps: %s)"),
                       command, serial, known->str);
          return NULL;
        }
      model = thecal_cli_find_model (c->models, demo->model_id, error);
      if (model == NULL)
        return NULL;
      /* simulated time: no waiting, the same output every run */
      c->clock = thecal_clock_new_virtual (0);
      pump = g_new0 (ThecalSimPump, 1);
      thecal_dose_error_clear (&dose_error);
      if (!thecal_sim_pump_demo_init (pump, demo, model, &dose_error))
        {
          g_free (pump);
          thecal_cli_dose_error (&dose_error, command, error);
          return NULL;
        }
      c->loopback = thecal_loopback_transport_new (pump, g_free, c->clock);
      if (faults != FAULTS_NONE)
        {
          ThecalFaultConfig fault_config = { .seed = 1 };
          ThecalFaultTransport *fault;

          if (faults == FAULTS_LOSSY)
            {
              fault_config.drop_ppm = 200000;
              fault_config.corrupt_ppm = 50000;
            }
          fault = thecal_fault_transport_new (THECAL_TRANSPORT (c->loopback), &fault_config, c->clock);
          g_object_set_data (G_OBJECT (fault), "thecal-cli-faults", GINT_TO_POINTER (faults));
          thecal_fault_transport_set_policy (fault, cli_fault_policy, c, NULL);
          c->transport = THECAL_TRANSPORT (fault);
        }
      else
        c->transport = THECAL_TRANSPORT (g_object_ref (c->loopback));
    }
  else
    {
      guint16 vid, pid;

      if (!parse_wand_id (link_options.wand_id, &vid, &pid, error))
        return NULL;
      c->clock = thecal_clock_new_real ();
#ifdef THECAL_HAVE_USB_TRANSPORT
      {
        g_autoptr (GError) usb_error = NULL;
        ThecalUsbTransport *usb = thecal_usb_transport_new (vid, pid, &usb_error);

        if (usb == NULL)
          {
            link_error (c, g_steal_pointer (&usb_error), error);
            return NULL;
          }
        c->transport = THECAL_TRANSPORT (usb);
      }
#else
      /* this build has no USB wand */
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO, _ ("%s: No wand connected (this build has no USB wand support; %04x:%04x)"),
                   command, vid, pid);
      return NULL;
#endif
    }
  c->link = thecal_pump_link_new_full (c->transport, c->clock, &config);
  thecal_pump_link_set_key_func (c->link, key_for_pump, c, NULL);
  return g_steal_pointer (&c);
}

/* Runs on the connection's context: an operation ended. */
static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Connection *c = user_data;

  (void) source;
  g_clear_object (&c->result);
  c->result = g_object_ref (result);
  c->done = TRUE;
}

static gpointer
begin (Connection *c)
{
  c->done = FALSE;
  return c;
}

/* Iterates until the operation ends (simulated time jumps; real time waits). FALSE if nothing
 * can happen any more (a virtual clock with nothing scheduled: cannot happen while the
 * programmer waits for a deadline, but never hang on it). */
static gboolean
wait_result (Connection *c, GError **error)
{
  while (!c->done)
    if (!thecal_clock_iterate (c->clock, c->context))
      {
        g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_IO, _ ("%s: the telemetry loop stopped before the pump answered"),
                     c->command);
        return FALSE;
      }
  return TRUE;
}

/* ---- printing what the pump says ------------------------------------------------------------------- */

static const char *
alarm_label (ThecalProtoAlarm kind)
{
  return thecal_alarm_kind_name ((ThecalAlarmKind) kind);
}

/* One event of the pump's log in words (the engine's event types, docs/engine.md "Event log"). */
static char *
describe_event (ThecalCliOutput *out, const ThecalProtoEvent *event)
{
  const int64_t *a = event->args;

  switch ((ThecalEngineEventType) event->type)
    {
    case THECAL_EVENT_ENGINE_START:
      return g_strdup_printf (_ ("pump started: reservoir %s, dead space %s, battery %s"), thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[0]),
                              thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[1]), thecal_cli_q (out, THECAL_QUANTITY_RATIO, a[2]));
    case THECAL_EVENT_PRESCRIPTION_SET:
      return g_strdup_printf (_ ("prescription set: %s, basal %s, periodic %s, %s"),
                              event->code >= 0 && event->code < THECAL_MODE_N_MODES ? thecal_mode_name ((ThecalMode) event->code) : "?",
                              thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, a[0]), thecal_cli_q (out, THECAL_QUANTITY_VOLUME_RATE, a[1]),
                              thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, a[2]));
    case THECAL_EVENT_BOLUS_START:
      return g_strdup_printf (_ ("%s bolus started: %s over %s"), thecal_source_name ((ThecalSource) event->code),
                              thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[0]), thecal_cli_duration (out, a[1]));
    case THECAL_EVENT_BOLUS_END:
      return g_strdup_printf (_ ("%s bolus %s: %s of %s"), thecal_source_name ((ThecalSource) event->code),
                              a[2] != 0 ? _ ("completed") : _ ("stopped"), thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[0]),
                              thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[1]));
    case THECAL_EVENT_PTM_GRANTED:
      return g_strdup_printf (_ ("PTM bolus granted: %s (%" G_GINT64_FORMAT " in 24 h)"), thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[0]),
                              a[1]);
    case THECAL_EVENT_PTM_REFUSED:
      return g_strdup_printf (_ ("PTM request refused: %s"), thecal_ptm_outcome_name ((ThecalPtmOutcome) event->code));
    case THECAL_EVENT_ALARM_RAISED:
      return g_strdup_printf (_ ("alarm raised: %s (reservoir estimate %s)"), thecal_alarm_kind_name ((ThecalAlarmKind) event->code),
                              thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[0]));
    case THECAL_EVENT_ALARM_CLEARED:
      return g_strdup_printf (_ ("alarm cleared: %s"), thecal_alarm_kind_name ((ThecalAlarmKind) event->code));
    case THECAL_EVENT_ALARM_ACKNOWLEDGED:
      return g_strdup_printf (_ ("alarm acknowledged: %s"), thecal_alarm_kind_name ((ThecalAlarmKind) event->code));
    case THECAL_EVENT_RESERVOIR_SET:
      return g_strdup_printf (_ ("reservoir set: %s at %s"), thecal_cli_q (out, THECAL_QUANTITY_VOLUME, a[0]),
                              thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, a[1]));
    case THECAL_EVENT_CLOCK_SET:
      return g_strdup_printf (_ ("clock set: %s → %s"), thecal_cli_instant (out, a[0]), thecal_cli_instant (out, a[1]));
    case THECAL_EVENT_FAULT_INJECTED:
      return g_strdup_printf (_ ("simulated fault: %s"), thecal_fault_kind_name ((ThecalFaultKind) event->code));
    case THECAL_EVENT_MOTOR_RESTARTED:
      return g_strdup (_ ("motor restarted"));
    case THECAL_EVENT_N_TYPES:
    default:
      return g_strdup_printf (_ ("event type %d, code %d"), (int) event->type, (int) event->code);
    }
}

static void
report_events (ThecalCliOutput *out, cJSON *array, const ThecalProtoEvent *events, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      const ThecalProtoEvent *event = &events[i];
      g_autofree char *text = describe_event (out, event);
      cJSON *object = thecal_cli_json_append_object (array);
      cJSON *args = cJSON_CreateArray ();

      thecal_cli_print (out, "  #%-6" G_GINT64_FORMAT " %s  %s\n", event->seq, thecal_cli_instant (out, event->pump_ms), text);
      thecal_cli_json_int (object, "seq", event->seq);
      thecal_cli_json_instant (object, "time", event->pump_ms);
      thecal_cli_json_string (object, "type",
                              event->type >= 0 && event->type < THECAL_EVENT_N_TYPES ? thecal_engine_event_type_name ((ThecalEngineEventType) event->type)
                                                                                     : NULL);
      thecal_cli_json_int (object, "type_code", event->type);
      thecal_cli_json_int (object, "code", event->code);
      cJSON_AddItemToObject (object, "args", args);
      for (int j = 0; j < 3; j++)
        {
          g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, event->args[j]);

          cJSON_AddItemToArray (args, cJSON_CreateRaw (number));
        }
      thecal_cli_json_string (object, "text", text);
    }
}

static void
report_identity (ThecalCliOutput *out, Connection *c, const ThecalProtoIdentity *identity)
{
  cJSON *json = thecal_cli_json_object (out->json, "pump");

  thecal_cli_print (out, _ ("Pump: %s (%s), protocol %d, through %s\n"), identity->serial, identity->model_id,
                    (int) identity->protocol_version, thecal_transport_describe (c->transport));
  thecal_cli_json_string (json, "serial", identity->serial);
  thecal_cli_json_string (json, "model_id", identity->model_id);
  thecal_cli_json_int (json, "protocol_version", identity->protocol_version);
  thecal_cli_json_string (json, "transport", thecal_transport_describe (c->transport));
  thecal_cli_json_bool (json, "simulated", link_options.sim);
}

static void
report_checksum (cJSON *json, const char *key, const ThecalChecksum *checksum)
{
  char hex[2 * THECAL_CHECKSUM_SIZE + 1];

  thecal_checksum_to_hex (checksum, hex);
  thecal_cli_json_string (json, key, hex);
}

static const char *
checksum_text (ThecalCliOutput *out, const ThecalChecksum *checksum)
{
  char hex[2 * THECAL_CHECKSUM_SIZE + 1];

  thecal_checksum_to_hex (checksum, hex);
  return thecal_cli_strdup (out, hex);
}

static void
report_status (ThecalCliOutput *out, const ThecalProtoStatus *st)
{
  cJSON *json = thecal_cli_json_object (out->json, "status");
  cJSON *alarms = thecal_cli_json_array (json, "alarms");

  thecal_cli_print (out, _ ("Pump clock: %s\n"), thecal_cli_instant (out, st->pump_ms));
  thecal_cli_json_instant (json, "pump_clock", st->pump_ms);
  thecal_cli_print (out, _ ("Mode: %s, %s\n"), thecal_mode_name (st->mode), st->delivering ? _ ("delivering") : _ ("NOT DELIVERING"));
  thecal_cli_json_string (json, "mode", thecal_mode_name (st->mode));
  thecal_cli_json_bool (json, "delivering", st->delivering);
  thecal_cli_print (out, _ ("Reservoir: %s by the pump's estimate (%s at the last refill), %s %s\n"),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, st->reservoir_estimate_nl),
                    thecal_cli_q (out, THECAL_QUANTITY_VOLUME, st->reservoir_set_nl),
                    st->reservoir_drug_id[0] != '\0' ? st->reservoir_drug_id : _ ("no drug"),
                    thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, st->reservoir_concentration_ng_per_ml));
  thecal_cli_json_quantity (json, "reservoir_estimate", THECAL_QUANTITY_VOLUME, st->reservoir_estimate_nl);
  thecal_cli_json_quantity (json, "reservoir_at_refill", THECAL_QUANTITY_VOLUME, st->reservoir_set_nl);
  thecal_cli_json_string (json, "reservoir_drug_id", st->reservoir_drug_id);
  thecal_cli_json_quantity (json, "reservoir_concentration", THECAL_QUANTITY_CONCENTRATION, st->reservoir_concentration_ng_per_ml);
  thecal_cli_print (out, _ ("Battery: %s of a new one; elective replacement (ERI) %s%s; end of service %s%s\n"),
                    thecal_cli_q (out, THECAL_QUANTITY_RATIO, st->battery_bp), st->eri ? _ ("REACHED ") : "",
                    thecal_cli_instant (out, st->eri_pump_ms), st->eos ? _ ("REACHED ") : "", thecal_cli_instant (out, st->eos_pump_ms));
  thecal_cli_json_int (json, "battery_bp", st->battery_bp);
  thecal_cli_json_bool (json, "eri", st->eri);
  thecal_cli_json_bool (json, "eos", st->eos);
  thecal_cli_json_instant (json, "eri_date", st->eri_pump_ms);
  thecal_cli_json_instant (json, "eos_date", st->eos_pump_ms);
  if (st->bolus_active)
    thecal_cli_print (out, _ ("Bolus: %s, %s of %s done\n"), thecal_source_name ((ThecalSource) st->bolus_source),
                      thecal_cli_q (out, THECAL_QUANTITY_VOLUME, st->bolus_done_nl), thecal_cli_q (out, THECAL_QUANTITY_VOLUME, st->bolus_planned_nl));
  else
    thecal_cli_print (out, _ ("Bolus: none\n"));
  thecal_cli_json_bool (json, "bolus_active", st->bolus_active);
  thecal_cli_json_string (json, "bolus_source", st->bolus_active ? thecal_source_name ((ThecalSource) st->bolus_source) : NULL);
  thecal_cli_json_quantity (json, "bolus_planned", THECAL_QUANTITY_VOLUME, st->bolus_planned_nl);
  thecal_cli_json_quantity (json, "bolus_done", THECAL_QUANTITY_VOLUME, st->bolus_done_nl);
  thecal_cli_json_int (json, "ptm_grants_24h", st->ptm_grants_24h);
  thecal_cli_json_instant (json, "ptm_next_allowed", st->ptm_next_allowed_pump_ms);
  if (st->n_alarms == 0)
    thecal_cli_print (out, _ ("Alarms: none\n"));
  else
    thecal_cli_print (out, _ ("Alarms:\n"));
  for (int32_t i = 0; i < st->n_alarms; i++)
    {
      const ThecalProtoAlarmState *alarm = &st->alarms[i];
      cJSON *object = thecal_cli_json_append_object (alarms);

      thecal_cli_print (out, _ ("  %s%s: %s%s%s\n"), alarm_label (alarm->kind), alarm->critical ? _ (" (CRITICAL)") : "",
                        alarm->raised ? _ ("raised ") : _ ("cause present, not raised"),
                        alarm->raised ? thecal_cli_instant (out, alarm->raised_at_pump_ms) : "",
                        alarm->raised ? (alarm->acknowledged ? _ (", acknowledged") : _ (", not acknowledged")) : "");
      thecal_cli_json_string (object, "kind", alarm_label (alarm->kind));
      thecal_cli_json_bool (object, "critical", alarm->critical);
      thecal_cli_json_bool (object, "condition", alarm->condition);
      thecal_cli_json_bool (object, "raised", alarm->raised);
      thecal_cli_json_bool (object, "acknowledged", alarm->acknowledged);
      thecal_cli_json_instant (object, "raised_at", alarm->raised ? alarm->raised_at_pump_ms : INT64_MAX);
      thecal_cli_json_int (object, "count", alarm->count);
    }
  thecal_cli_print (out, _ ("Staged prescription: %s\n"), st->has_staged ? checksum_text (out, &st->staged_checksum) : _ ("none"));
  thecal_cli_json_bool (json, "has_staged", st->has_staged);
  report_checksum (json, "active_checksum", &st->active_checksum);
}

static void
report_prescription (ThecalCliOutput *out, Connection *c, const ThecalProtoIdentity *identity, const ThecalMsgPrescription *rx)
{
  cJSON *json = thecal_cli_json_object (out->json, "prescription");
  const ThecalPumpModel *model = thecal_pump_model_set_find (c->models, identity->model_id);
  g_autofree ThecalDeliveryPlan *plan = g_new0 (ThecalDeliveryPlan, 1);
  ThecalDoseError dose_error;

  thecal_cli_print (out, _ ("\nActive prescription (checksum %s): %s %s\n"), checksum_text (out, &rx->checksum),
                    rx->rx.drug_id[0] != '\0' ? rx->rx.drug_id : _ ("no drug"),
                    thecal_cli_q (out, THECAL_QUANTITY_CONCENTRATION, rx->rx.concentration_ng_per_ml));
  report_checksum (json, "checksum", &rx->checksum);
  thecal_cli_json_string (json, "drug_id", rx->rx.drug_id);
  thecal_cli_json_quantity (json, "concentration", THECAL_QUANTITY_CONCENTRATION, rx->rx.concentration_ng_per_ml);
  thecal_dose_error_clear (&dose_error);
  if (model != NULL && thecal_delivery_plan_resolve (&rx->rx, model, plan, &dose_error))
    thecal_cli_report_plan (out, thecal_cli_json_object (json, "plan"), plan);
  else
    {
      thecal_cli_print (out, _ ("  Mode: %s (no delivery plan: %s)\n"), thecal_mode_name (rx->rx.mode),
                        model == NULL ? _ ("unknown pump model") : dose_error.message);
      thecal_cli_json_string (json, "mode", thecal_mode_name (rx->rx.mode));
    }
}

static void
report_link (ThecalCliOutput *out, Connection *c)
{
  const ThecalPumpLinkStats *stats = thecal_pump_link_get_stats (c->link);
  cJSON *json = thecal_cli_json_object (out->json, "telemetry");

  thecal_cli_print (out, _ ("\nTelemetry: %" G_GUINT64_FORMAT " round trips, %" G_GUINT64_FORMAT " bytes sent, %" G_GUINT64_FORMAT " bytes received, %" G_GUINT64_FORMAT " retransmissions\n"),
                    stats->round_trips, stats->bytes_sent, stats->bytes_received, stats->retransmissions);
  thecal_cli_json_int (json, "round_trips", (int64_t) stats->round_trips);
  thecal_cli_json_int (json, "bytes_sent", (int64_t) stats->bytes_sent);
  thecal_cli_json_int (json, "bytes_received", (int64_t) stats->bytes_received);
  thecal_cli_json_int (json, "retransmissions", (int64_t) stats->retransmissions);
}

/* ---- the commands ------------------------------------------------------------------------------ */

/* The shared start: options parsed; exactly one of --sim and --wand; the serial of --sim may
 * be the one positional argument (it belongs to --sim: the usage line names no argument). */
static gboolean
parse (const char *summary, const char *description, const GOptionEntry *entries, ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (GStrv) positional = NULL;
  guint used = 0; /* positional arguments taken */

  link_options_clear ();
  if (!thecal_cli_parse_command_line ("", summary, description, entries, out, argc, argv, &positional, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (link_options.sim && link_options.sim_serial == NULL && positional[0] != NULL)
    link_options.sim_serial = g_strdup (positional[used++]);
  if (positional[used] != NULL)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("%s: unexpected argument “%s”"), argv[0], positional[used]);
      return FALSE;
    }
  if (link_options.sim == link_options.wand)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE,
                   _ ("%s: give either --sim [SERIAL] (a simulated demo pump) or --wand (a pump through the USB wand)"), argv[0]);
      return FALSE;
    }
  return TRUE;
}

#define LINK_DESCRIPTION                                                                                         \
  N_ ("--sim talks to a simulated demo pump through the loopback (its clock starts at the demo instant "         \
      "2026-01-05T09:00; demo pumps: TR20-000123 morphine 5 mg/day, TR20-000124 low reservoir, TR40-000125 "     \
      "near ERI, TR20-000126 over-infusing +20 %, TR20-000127 motor stall, TR40-000128 baclofen). --wand talks " \
      "to a pump through the USB wand (VID:PID, default 1209:0001) and needs the pump's pairing key (--key-file).")

static gboolean
interrogate (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (CommonOptions) common = { 0 };
  int shown = SHOWN_EVENTS_DEFAULT;
  const GOptionEntry entries[] = {
    PUMP_LINK_ENTRIES (&common),
    { "events", 0, 0, G_OPTION_ARG_INT, &shown, N_ ("How many of the newest log events to show (default 10)"), N_ ("N") },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (Connection) c = NULL;
  g_autoptr (ThecalPumpInterrogation) in = NULL;
  GError *link_failure = NULL;
  cJSON *log;
  guint first;

  if (!parse (_ ("Read a pump: status, active prescription and event log."),
              _ ("Opens a session (the key of a demo pump is derived from its serial), reads the status, the "
                 "active prescription and the whole event log, and prints them with the newest events.\n\n"
                 "Example:\n  thecal-cli pump interrogate --sim TR20-000124"),
              entries, out, argc, argv, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (shown < 0)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("%s: --events %d is below 0"), argv[0], shown);
      return FALSE;
    }
  c = connect_pump (argv[0], &common, error);
  if (c == NULL)
    return FALSE;
  thecal_pump_link_interrogate_async (c->link, 1, 0, 0, NULL, on_done, begin (c));
  if (!wait_result (c, error))
    return FALSE;
  in = thecal_pump_link_interrogate_finish (c->link, c->result, &link_failure);
  if (in == NULL)
    return link_error (c, link_failure, error);
  report_identity (out, c, &in->identity);
  report_status (out, &in->status);
  report_prescription (out, c, &in->identity, &in->prescription);

  log = thecal_cli_json_object (out->json, "log");
  thecal_cli_json_int (log, "oldest_seq", in->log_oldest_seq);
  thecal_cli_json_int (log, "next_seq", in->log_next_seq);
  thecal_cli_json_int (log, "events_read", in->events->len);
  first = in->events->len > (guint) shown ? in->events->len - (guint) shown : 0;
  thecal_cli_print (out, _ ("\nEvent log: %u events (%" G_GINT64_FORMAT " to %" G_GINT64_FORMAT "); the newest %u:\n"), in->events->len,
                    in->log_oldest_seq, in->log_next_seq - 1, in->events->len - first);
  report_events (out, thecal_cli_json_array (log, "events"), &g_array_index (in->events, ThecalProtoEvent, first),
                 in->events->len - first);
  report_link (out, c);
  return TRUE;
}

static gboolean
log_command (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (CommonOptions) common = { 0 };
  g_autofree char *from_text = NULL;
  int max_events = 0;
  const GOptionEntry entries[] = {
    PUMP_LINK_ENTRIES (&common),
    { "from", 0, 0, G_OPTION_ARG_STRING, &from_text, N_ ("The first sequence number to read (default 1)"), N_ ("SEQ") },
    { "max", 0, 0, G_OPTION_ARG_INT, &max_events, N_ ("Read at most N events (default: all)"), N_ ("N") },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (Connection) c = NULL;
  g_autoptr (ThecalPumpInterrogation) in = NULL;
  GError *link_failure = NULL;
  guint64 from = 1;
  cJSON *log;

  if (!parse (_ ("Read a pump's event log from a sequence number."),
              _ ("Reads the events from --from on (the pump keeps the newest 4 096; older ones are reported as a "
                 "gap), in one request per 1 364 events, and prints each one.\n\n"
                 "Example:\n  thecal-cli pump log --sim --from 2"),
              entries, out, argc, argv, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (from_text != NULL && !g_ascii_string_to_unsigned (from_text, 10, 1, G_MAXINT64, &from, NULL))
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("%s: --from “%s” is not a sequence number (1 or more)"), argv[0],
                   from_text);
      return FALSE;
    }
  if (max_events < 0)
    {
      g_set_error (error, THECAL_CLI_ERROR, THECAL_CLI_ERROR_USAGE, _ ("%s: --max %d is below 0"), argv[0], max_events);
      return FALSE;
    }
  c = connect_pump (argv[0], &common, error);
  if (c == NULL)
    return FALSE;
  thecal_pump_link_read_log_async (c->link, (gint64) from, (guint) max_events, 0, NULL, on_done, begin (c));
  if (!wait_result (c, error))
    return FALSE;
  in = thecal_pump_link_read_log_finish (c->link, c->result, &link_failure);
  if (in == NULL)
    return link_error (c, link_failure, error);
  report_identity (out, c, thecal_pump_link_get_identity (c->link));
  log = thecal_cli_json_object (out->json, "log");
  thecal_cli_json_int (log, "from_seq", (int64_t) from);
  thecal_cli_json_int (log, "oldest_seq", in->log_oldest_seq);
  thecal_cli_json_int (log, "next_seq", in->log_next_seq);
  thecal_cli_json_bool (log, "gap", in->log_gap);
  thecal_cli_print (out, _ ("Event log from %" G_GUINT64_FORMAT ": %u events (the pump holds %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT ")\n"),
                    from, in->events->len, in->log_oldest_seq, in->log_next_seq - 1);
  if (in->log_gap)
    thecal_cli_print (out, _ ("Note: events before %" G_GINT64_FORMAT " are no longer held by the pump.\n"), in->log_oldest_seq);
  report_events (out, thecal_cli_json_array (log, "events"), (const ThecalProtoEvent *) (gpointer) in->events->data, in->events->len);
  report_link (out, c);
  return TRUE;
}

static void
report_program (cJSON *json, const ThecalProgramReport *report)
{
  thecal_cli_json_string (json, "outcome", thecal_program_outcome_name (report->outcome));
  thecal_cli_json_bool (json, "commit_sent", report->commit_sent);
  thecal_cli_json_bool (json, "commit_acknowledged", report->commit_acknowledged);
  report_checksum (json, "previous_checksum", &report->previous);
  report_checksum (json, "target_checksum", &report->target);
  if (report->active_known)
    report_checksum (json, "active_checksum", &report->active);
  else
    thecal_cli_json_string (json, "active_checksum", NULL);
  thecal_cli_json_string (json, "error_code", report->error.code != THECAL_PROTO_OK ? thecal_proto_error_code_name (report->error.code) : NULL);
  thecal_cli_json_string (json, "error", report->error.code != THECAL_PROTO_OK ? report->error.reason : NULL);
  if (report->error.code == THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT)
    thecal_cli_json_string (json, "pump_limit", thecal_pump_limit_name ((ThecalPumpLimit) report->error.detail));
}

/* The text of an outcome; refuses (exit 1) unless CONFIRMED. */
static void
print_outcome (ThecalCliOutput *out, const char *command, const ThecalProgramReport *report, gboolean final)
{
  const char *previous = checksum_text (out, &report->previous);
  const char *target = checksum_text (out, &report->target);

  switch (report->outcome)
    {
    case THECAL_PROGRAM_CONFIRMED:
      thecal_cli_print (out, _ ("Outcome: CONFIRMED: the pump runs the new prescription (checksum %s), read back and compared "
                                "byte for byte.\n"),
                        target);
      break;
    case THECAL_PROGRAM_FAILED:
      thecal_cli_print (out, _ ("Outcome: FAILED: the pump did not take the change; it still runs the previous prescription "
                                "(checksum %s). Reason: %s.\n"),
                        previous, report->error.reason[0] != '\0' ? report->error.reason : "?");
      if (final)
        thecal_cli_refuse (out, _ ("%s: FAILED: the pump still runs the previous prescription: %s"), command, report->error.reason);
      break;
    case THECAL_PROGRAM_CONFLICT:
      thecal_cli_print (out, _ ("Outcome: CONFLICT: the pump runs NEITHER the previous nor the new prescription%s%s. Someone else "
                                "changed it: interrogate it and review before anything else.\n"),
                        report->active_known ? _ (": it runs checksum ") : "", report->active_known ? checksum_text (out, &report->active) : "");
      if (final)
        thecal_cli_refuse (out, _ ("%s: CONFLICT: the pump runs a prescription nobody here reviewed: interrogate it"), command);
      break;
    case THECAL_PROGRAM_UNCERTAIN:
      thecal_cli_print (out, _ ("Outcome: UNCERTAIN: COMMIT was sent and no answer came back%s. The pump runs EITHER the previous "
                                "prescription (checksum %s) OR the new one (checksum %s).\n"),
                        report->commit_acknowledged ? _ (" after the pump acknowledged it (the read-back was lost)") : "", previous,
                        target);
      if (final)
        {
          thecal_cli_print (out, _ ("\n*** THE PUMP'S STATE IS UNKNOWN until it is read again. Do not program it again and do not assume "
                                    "either prescription: run “thecal-cli pump interrogate” until it answers. ***\n"));
          thecal_cli_refuse (out, _ ("%s: UNCERTAIN: THE PUMP'S STATE IS UNKNOWN until it is read again (it runs either %s or %s); do "
                                     "not program it again before “thecal-cli pump interrogate” answers"),
                             command, previous, target);
        }
      break;
    case THECAL_PROGRAM_NONE:
    default:
      thecal_cli_refuse (out, _ ("%s: the programming procedure did not report"), command);
      break;
    }
}

static gboolean
program (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  g_auto (CommonOptions) common = { 0 };
  g_autofree char *rx_path = NULL;
  g_autofree char *library_path = NULL;
  g_autofree char *reason_text = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *why = NULL;
  gboolean opioid_tolerant = FALSE;
  const GOptionEntry entries[] = {
    PUMP_LINK_ENTRIES (&common),
    { "prescription", 0, 0, G_OPTION_ARG_FILENAME, &rx_path, N_ ("The new prescription (JSON, as for “thecal-cli check”)"), N_ ("FILE") },
    THECAL_CLI_OPTION_LIBRARY (&library_path),
    THECAL_CLI_OPTION_OPIOID_TOLERANT (&opioid_tolerant),
    THECAL_CLI_OPTION_OVERRIDE_REASON (&reason_text),
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (Connection) c = NULL;
  g_autofree ThecalDrugLibrary *library = g_new0 (ThecalDrugLibrary, 1);
  g_autofree ThecalPrescription *rx = g_new0 (ThecalPrescription, 1);
  g_autofree ThecalMessage *current = NULL;
  ThecalPatientContext patient = { 0 };
  const ThecalProtoIdentity *identity;
  const ThecalPumpModel *model;
  ThecalProgramReport report;
  ThecalProgramReport resolved;
  ThecalCliVerdict verdict;
  GError *link_failure = NULL;

  if (!parse (_ ("Program a pump: the dose-core check, then the two-phase write."),
              _ ("Reads the prescription the pump runs, checks the new one against it, the drug library and the pump "
                 "model exactly as “thecal-cli check” does (a hard limit refuses; a soft limit needs --override-reason), "
                 "then writes it in two phases: STAGE with the checksum of the prescription it replaces, read the staged "
                 "copy back, COMMIT (one atomic switch: therapy never stops), read the active prescription back and "
                 "compare. The outcome is CONFIRMED (exit 0), FAILED (the pump still runs the previous prescription), "
                 "CONFLICT (it runs neither) or UNCERTAIN: COMMIT was sent and no answer came back; the pump is then read "
                 "once more, and if that fails too the pump's state is unknown until it is read again (exit 1).\n\n"
                 "Example:\n  thecal-cli pump program --sim --prescription morphine-6.json --opioid-tolerant "
                 "--override-reason \"titration agreed with the pain team\""),
              entries, out, argc, argv, error))
    return FALSE;
  if (out->help_shown)
    return TRUE;
  if (!thecal_cli_require ("prescription", rx_path, "--prescription morphine.json", error))
    return FALSE;
  if (reason_text != NULL && (reason = thecal_cli_check_override_reason (reason_text, error)) == NULL)
    return FALSE;
  if (!thecal_cli_load_library (library_path, library, error) || !thecal_cli_load_prescription (rx_path, rx, error))
    return FALSE;
  patient.opioid_tolerant = opioid_tolerant;

  c = connect_pump (argv[0], &common, error);
  if (c == NULL)
    return FALSE;
  /* what runs now: the prescription the new one is checked against and replaces */
  thecal_pump_link_read_prescription_async (c->link, NULL, on_done, begin (c));
  if (!wait_result (c, error))
    return FALSE;
  current = thecal_pump_link_request_finish (c->link, c->result, &link_failure);
  if (current == NULL)
    return link_error (c, link_failure, error);
  identity = thecal_pump_link_get_identity (c->link);
  model = thecal_cli_find_model (c->models, identity->model_id, error);
  if (model == NULL)
    return FALSE;
  report_identity (out, c, identity);
  thecal_cli_print (out, _ ("Runs now: checksum %s\n"), checksum_text (out, &current->prescription.checksum));
  report_checksum (thecal_cli_json_object (out->json, "pump"), "active_checksum", &current->prescription.checksum);
  thecal_cli_print (out, _ ("New prescription: %s\n"), rx_path);
  thecal_cli_json_string (out->json, "prescription_file", rx_path);

  /* the dose-core check first: nothing goes to the pump unless it passes */
  verdict = thecal_cli_check_report (out, thecal_cli_json_object (out->json, "check"), rx, &current->prescription.rx, &patient, model, FALSE,
                                     library, reason, &why);
  if (verdict == THECAL_CLI_VERDICT_REFUSED || verdict == THECAL_CLI_VERDICT_NEEDS_REASON)
    {
      thecal_cli_print (out, _ ("Nothing was sent to the pump: it still runs checksum %s.\n"), checksum_text (out, &current->prescription.checksum));
      thecal_cli_json_string (out->json, "outcome", "not_sent");
      thecal_cli_refuse (out, "%s: %s", argv[0], why);
      report_link (out, c);
      return TRUE;
    }

  thecal_cli_print (out, _ ("\nWriting to the pump (two phases)...\n"));
  thecal_pump_link_program_async (c->link, rx, &current->prescription.checksum, NULL, on_done, begin (c));
  if (!wait_result (c, error))
    return FALSE;
  /* FALSE: it did not start, and nothing that changes the pump was sent */
  if (!thecal_pump_link_program_finish (c->link, c->result, &report, &link_failure))
    return link_error (c, link_failure, error);
  report_program (thecal_cli_json_object (out->json, "program"), &report);
  print_outcome (out, argv[0], &report, report.outcome != THECAL_PROGRAM_UNCERTAIN);
  resolved = report;
  if (report.outcome == THECAL_PROGRAM_UNCERTAIN)
    {
      /* the one thing that settles it: read the active prescription again */
      thecal_cli_print (out, _ ("Reading the pump again to settle it...\n"));
      thecal_pump_link_resolve_async (c->link, NULL, on_done, begin (c));
      if (!wait_result (c, error))
        return FALSE;
      if (!thecal_pump_link_resolve_finish (c->link, c->result, &resolved, &link_failure))
        {
          g_clear_error (&link_failure);
          resolved = report;
        }
      report_program (thecal_cli_json_object (out->json, "resolved"), &resolved);
      print_outcome (out, argv[0], &resolved, TRUE);
    }
  thecal_cli_json_string (out->json, "outcome", thecal_program_outcome_name (resolved.outcome));
  report_link (out, c);
  return TRUE;
}

static const ThecalCliSubcommand pump_commands[] = {
  { "interrogate", N_ ("status, active prescription and event log (--sim [SERIAL] | --wand [VID:PID])"), interrogate },
  { "program", N_ ("the dose-core check, then the two-phase write (--prescription FILE)"), program },
  { "log", N_ ("the event log from a sequence number (--from SEQ)"), log_command },
};

gboolean
thecal_cli_pump (ThecalCliOutput *out, int argc, char **argv, GError **error)
{
  gboolean ok = thecal_cli_dispatch ("pump", _ ("A pump over telemetry: what it says, and two-phase programming."),
                                     _ (LINK_DESCRIPTION), pump_commands, G_N_ELEMENTS (pump_commands), out, argc, argv, error);

  link_options_clear ();
  return ok;
}
