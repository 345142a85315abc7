/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-message.c: every message round-trips (request and answer), the canonical prescription
 * encoding and its checksum, and every kind of malformed body is refused.
 */
#include "config.h"

#include "thecal-engine.h" /* only for the numbering checks below (header only, no link) */
#include "thecal-fake-pump.h"
#include "thecal-message.h"
#include "thecal-test.h"

#include <sodium.h>
#include <string.h>

/* The wire numbering of alarms and delivery sources is the reference engine's: src/pump maps
 * one to the other by value. */
_Static_assert((int) THECAL_PROTO_ALARM_LOW_RESERVOIR == (int) THECAL_ALARM_LOW_RESERVOIR, "alarm numbering");
_Static_assert((int) THECAL_PROTO_ALARM_RESERVOIR_EMPTY == (int) THECAL_ALARM_RESERVOIR_EMPTY, "alarm numbering");
_Static_assert((int) THECAL_PROTO_ALARM_ERI == (int) THECAL_ALARM_ERI, "alarm numbering");
_Static_assert((int) THECAL_PROTO_ALARM_EOS == (int) THECAL_ALARM_EOS, "alarm numbering");
_Static_assert((int) THECAL_PROTO_ALARM_MOTOR_STALL == (int) THECAL_ALARM_MOTOR_STALL, "alarm numbering");
_Static_assert((int) THECAL_PROTO_ALARM_MEMORY_ERROR == (int) THECAL_ALARM_MEMORY_ERROR, "alarm numbering");
_Static_assert((int) THECAL_PROTO_ALARM_N_KINDS == (int) THECAL_ALARM_N_KINDS, "alarm numbering");
_Static_assert((int) THECAL_PROTO_SOURCE_BASAL == (int) THECAL_SOURCE_BASAL, "source numbering");
_Static_assert((int) THECAL_PROTO_SOURCE_PERIODIC == (int) THECAL_SOURCE_PERIODIC, "source numbering");
_Static_assert((int) THECAL_PROTO_SOURCE_PTM == (int) THECAL_SOURCE_PTM, "source numbering");
_Static_assert((int) THECAL_PROTO_SOURCE_CLINICIAN == (int) THECAL_SOURCE_CLINICIAN, "source numbering");
_Static_assert((int) THECAL_PROTO_SOURCE_PRIMING == (int) THECAL_SOURCE_PRIMING, "source numbering");
_Static_assert((int) THECAL_PROTO_SOURCE_BRIDGE == (int) THECAL_SOURCE_BRIDGE, "source numbering");
_Static_assert((int) THECAL_PROTO_SOURCE_N_SOURCES == (int) THECAL_SOURCE_N_SOURCES, "source numbering");
_Static_assert(sizeof (ThecalEngineEvent) == THECAL_PROTO_EVENT_SIZE, "one wire event per engine event");
_Static_assert(THECAL_PROTO_LOG_BATCH_MAX == 1364, "docs/protocol.md gives 1364 events per READ_LOG answer");

/* The checksum docs/protocol.md prints for the worked example. */
#define DOCS_MORPHINE_CHECKSUM "ddf1fb9084f89f845f98fb4f0a1bac2c"

static ThecalMessage built;
static ThecalMessage decoded;
static uint8_t bytes[THECAL_FRAME_MAX];
static uint8_t again[THECAL_FRAME_MAX];

/* encode → decode → same struct → encode → same bytes. Returns the encoded length. */
static size_t
round_trip (const ThecalMessage *m)
{
  ThecalProtoError error;
  size_t length = 0, length2 = 0;

  memset (&error, 0, sizeof error);
  ck_assert_msg (thecal_message_encode (m, bytes, sizeof bytes, &length, &error), "%s %s: %s",
                 thecal_msg_type_name ((uint8_t) m->type), m->response ? "answer" : "request", error.reason);
  ck_assert_uint_eq (bytes[0], THECAL_MSG_VERSION);
  ck_assert_msg (thecal_message_decode ((uint8_t) m->type, m->response, bytes, length, &decoded, &error), "%s %s: %s",
                 thecal_msg_type_name ((uint8_t) m->type), m->response ? "answer" : "request", error.reason);
  ck_assert_msg (memcmp (m, &decoded, sizeof decoded) == 0, "%s %s: decoded struct differs",
                 thecal_msg_type_name ((uint8_t) m->type), m->response ? "answer" : "request");
  ck_assert (thecal_message_encode (&decoded, again, sizeof again, &length2, &error));
  ck_assert_uint_eq (length, length2);
  ck_assert_mem_eq (bytes, again, length);

  /* every truncation is refused (for the largest bodies: the first and last 64 and every 97th,
   * which keeps the sanitizer run short), and so is one byte more */
  for (size_t n = 0; n < length; n++)
    if (length <= 4096 || n < 64 || n + 64 >= length || n % 97 == 0)
      ck_assert_msg (!thecal_message_decode ((uint8_t) m->type, m->response, bytes, n, &decoded, &error),
                     "%s truncated to %zu bytes was accepted", thecal_msg_type_name ((uint8_t) m->type), n);
  bytes[length] = 0;
  ck_assert (!thecal_message_decode ((uint8_t) m->type, m->response, bytes, length + 1, &decoded, &error));
  ck_assert_int_eq (error.code, THECAL_PROTO_ERROR_BAD_REQUEST);
  /* a message version other than 1 */
  bytes[0] = 2;
  ck_assert (!thecal_message_decode ((uint8_t) m->type, m->response, bytes, length, &decoded, &error));
  ck_assert_int_eq (error.code, THECAL_PROTO_ERROR_UNSUPPORTED_VERSION);
  bytes[0] = THECAL_MSG_VERSION;
  return length;
}

static ThecalMessage *
build (ThecalMsgType type, bool response)
{
  thecal_message_init (&built, type, response);
  return &built;
}

static void
sample_status (ThecalProtoStatus *s)
{
  s->pump_ms = INT64_C (1767225600000);
  s->mode = THECAL_MODE_FLEX;
  s->delivering = true;
  s->reservoir_estimate_nl = -1; /* an estimate may go below 0 */
  s->reservoir_set_nl = 20 * THECAL_NL_PER_ML;
  strcpy (s->reservoir_drug_id, "baclofen");
  s->reservoir_concentration_ng_per_ml = 2 * THECAL_NG_PER_MG;
  s->battery_bp = 10000;
  s->eri = true;
  s->eos = false;
  s->eri_pump_ms = INT64_MIN;
  s->eos_pump_ms = INT64_MAX;
  s->bolus_active = true;
  s->bolus_source = THECAL_PROTO_SOURCE_BRIDGE;
  s->bolus_planned_nl = 250000;
  s->bolus_done_nl = 1;
  s->ptm_active = false;
  s->ptm_grants_24h = INT32_MAX;
  s->ptm_next_allowed_pump_ms = INT64_MAX;
  s->n_alarms = THECAL_PROTO_ALARM_N_KINDS;
  for (int i = 0; i < THECAL_PROTO_ALARM_N_KINDS; i++)
    {
      s->alarms[i].kind = (ThecalProtoAlarm) i;
      s->alarms[i].condition = i % 2 == 0;
      s->alarms[i].raised = true;
      s->alarms[i].acknowledged = i == 3;
      s->alarms[i].critical = i >= 1;
      s->alarms[i].raised_at_pump_ms = INT64_MIN + i;
      s->alarms[i].count = i;
    }
  s->log_oldest_seq = 1;
  s->log_next_seq = 4097;
  memset (s->active_checksum.bytes, 0xA5, THECAL_CHECKSUM_SIZE);
  s->has_staged = true;
  memset (s->staged_checksum.bytes, 0x5A, THECAL_CHECKSUM_SIZE);
}

START_TEST (test_round_trip_every_message)
{
  ThecalMessage *m;
  ThecalPrescription rx;
  int pairs = 0;

  thecal_test_rx_full (&rx);

  /* bodies of the version byte alone */
  {
    static const struct
    {
      ThecalMsgType type;
      bool response;
    } empty[] = {
      { THECAL_MSG_IDENTIFY, false },
      { THECAL_MSG_AUTH, false },
      { THECAL_MSG_CLOSE, false },
      { THECAL_MSG_CLOSE, true },
      { THECAL_MSG_READ_STATUS, false },
      { THECAL_MSG_READ_PRESCRIPTION, false },
      { THECAL_MSG_READ_STAGED, false },
      { THECAL_MSG_CANCEL_STAGED, false },
      { THECAL_MSG_SET_RESERVOIR, true },
      { THECAL_MSG_START_BOLUS, true },
      { THECAL_MSG_CANCEL_BOLUS, false },
      { THECAL_MSG_CANCEL_BOLUS, true },
      { THECAL_MSG_ACK_ALARM, true },
      { THECAL_MSG_WAND_INFO, false },
      { THECAL_MSG_WAND_LINK, false },
    };

    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++, pairs++)
      ck_assert_uint_eq (round_trip (build (empty[i].type, empty[i].response)), 1);
  }

  m = build (THECAL_MSG_IDENTIFY, true);
  thecal_test_identity (&m->identity);
  ck_assert_uint_eq (round_trip (m), 1 + 1 + 11 + 1 + 5 + 1);
  pairs++;

  m = build (THECAL_MSG_HELLO, false);
  memset (m->hello.nonce, 0xEE, sizeof m->hello.nonce);
  ck_assert_uint_eq (round_trip (m), 33);
  pairs++;

  m = build (THECAL_MSG_HELLO, true);
  memset (m->hello_reply.nonce, 0x11, sizeof m->hello_reply.nonce);
  memset (m->hello_reply.identity.serial, 'S', THECAL_PROTO_TEXT_MAX - 1); /* the longest serial */
  strcpy (m->hello_reply.identity.model_id, "TR-40");
  m->hello_reply.identity.protocol_version = 255;
  ck_assert_uint_eq (round_trip (m), 1 + 32 + 32 + 6 + 1);
  pairs++;

  m = build (THECAL_MSG_AUTH, true);
  m->auth_reply.session_timeout_ms = UINT32_MAX;
  ck_assert_uint_eq (round_trip (m), 5);
  pairs++;

  m = build (THECAL_MSG_READ_STATUS, true);
  sample_status (&m->status);
  round_trip (m);
  pairs++;

  m = build (THECAL_MSG_READ_PRESCRIPTION, true);
  m->prescription.rx = rx;
  ck_assert (thecal_prescription_checksum (&rx, &m->prescription.checksum, NULL));
  ck_assert_uint_eq (round_trip (m), 1 + 16 + THECAL_PRESCRIPTION_ENCODING_MAX - 23); /* drug id 8 of 31 characters */
  pairs++;

  m = build (THECAL_MSG_READ_STAGED, true);
  m->staged.rx = rx;
  memset (m->staged.replaces.bytes, 7, THECAL_CHECKSUM_SIZE);
  ck_assert (thecal_prescription_checksum (&rx, &m->staged.checksum, NULL));
  round_trip (m);
  pairs++;

  m = build (THECAL_MSG_READ_LOG, false);
  m->read_log.from_seq = INT64_MAX;
  m->read_log.max_events = UINT16_MAX;
  ck_assert_uint_eq (round_trip (m), 11);
  pairs++;

  m = build (THECAL_MSG_READ_LOG, true);
  m->log.oldest_seq = 1;
  m->log.next_seq = 100000;
  m->log.n_events = THECAL_PROTO_LOG_BATCH_MAX;
  for (int32_t i = 0; i < m->log.n_events; i++)
    thecal_fake_pump_event (5000 + i, &m->log.events[i]);
  m->log.events[0].args[2] = INT64_MIN;
  m->log.events[1].type = INT32_MIN;
  /* the largest answer of all still fits one encrypted frame */
  ck_assert_uint_le (round_trip (m), THECAL_MSG_BODY_MAX);
  pairs++;

  m = build (THECAL_MSG_STAGE, false);
  m->stage.rx = rx;
  memset (m->stage.replaces.bytes, 0xFF, THECAL_CHECKSUM_SIZE);
  round_trip (m);
  pairs++;

  m = build (THECAL_MSG_STAGE, true);
  memset (m->checksum.checksum.bytes, 3, THECAL_CHECKSUM_SIZE);
  ck_assert_uint_eq (round_trip (m), 17);
  pairs++;

  m = build (THECAL_MSG_COMMIT, false);
  memset (m->checksum.checksum.bytes, 4, THECAL_CHECKSUM_SIZE);
  ck_assert_uint_eq (round_trip (m), 17);
  pairs++;

  m = build (THECAL_MSG_COMMIT, true);
  memset (m->commit_reply.active.bytes, 5, THECAL_CHECKSUM_SIZE);
  memset (m->commit_reply.previous.bytes, 6, THECAL_CHECKSUM_SIZE);
  ck_assert_uint_eq (round_trip (m), 33);
  pairs++;

  m = build (THECAL_MSG_CANCEL_STAGED, true);
  m->cancel_staged_reply.had_staged = true;
  ck_assert_uint_eq (round_trip (m), 2);
  pairs++;

  /* REFILL_COMMIT: SET_RESERVOIR's fields then the staged checksum; answered like COMMIT */
  m = build (THECAL_MSG_REFILL_COMMIT, false);
  m->refill_commit.fill.volume_nl = 20 * THECAL_NL_PER_ML;
  strcpy (m->refill_commit.fill.drug_id, "morphine");
  m->refill_commit.fill.concentration_ng_per_ml = 50 * THECAL_NG_PER_MG;
  memset (m->refill_commit.staged.bytes, 0x0C, THECAL_CHECKSUM_SIZE);
  ck_assert_uint_eq (round_trip (m), 1 + 8 + 9 + 8 + 16);
  /* byte by byte (docs/protocol.md §4.6) */
  {
    static const uint8_t expected[] = { 0x01,                                             /* message version */
                                        0x00, 0x5a, 0x62, 0x02, 0x00, 0x00, 0x00, 0x00,   /* 40 000 000 nL */
                                        0x08, 'm', 'o', 'r', 'p', 'h', 'i', 'n', 'e',     /* drug id */
                                        0x80, 0xf0, 0xfa, 0x02, 0x00, 0x00, 0x00, 0x00 }; /* 50 000 000 ng/mL */
    size_t length = 0;

    m->refill_commit.fill.volume_nl = 40 * THECAL_NL_PER_ML;
    ck_assert (thecal_message_encode (m, bytes, sizeof bytes, &length, NULL));
    ck_assert_uint_eq (length, sizeof expected + THECAL_CHECKSUM_SIZE);
    ck_assert_mem_eq (bytes, expected, sizeof expected);
    ck_assert_mem_eq (bytes + sizeof expected, m->refill_commit.staged.bytes, THECAL_CHECKSUM_SIZE);
  }
  /* the drug id follows the text rules: a non-printable byte is refused both ways */
  m->refill_commit.fill.drug_id[0] = '\x01';
  ck_assert (!thecal_message_encode (m, bytes, sizeof bytes, NULL, NULL));
  strcpy (m->refill_commit.fill.drug_id, "morphine");
  pairs++;

  m = build (THECAL_MSG_REFILL_COMMIT, true);
  memset (m->commit_reply.active.bytes, 0x0D, THECAL_CHECKSUM_SIZE);
  memset (m->commit_reply.previous.bytes, 0x0E, THECAL_CHECKSUM_SIZE);
  ck_assert_uint_eq (round_trip (m), 33);
  pairs++;

  m = build (THECAL_MSG_SET_RESERVOIR, false);
  m->set_reservoir.volume_nl = 20 * THECAL_NL_PER_ML;
  strcpy (m->set_reservoir.drug_id, "ziconotide");
  m->set_reservoir.concentration_ng_per_ml = 100 * THECAL_NG_PER_MCG;
  ck_assert_uint_eq (round_trip (m), 1 + 8 + 11 + 8);
  pairs++;

  m = build (THECAL_MSG_START_BOLUS, false);
  memset (m->start_bolus.active.bytes, 9, THECAL_CHECKSUM_SIZE);
  m->start_bolus.kind = THECAL_PROTO_BOLUS_BRIDGE;
  m->start_bolus.plan.dead_space_nl = 536000;
  m->start_bolus.plan.catheter_volume_nl = 286000;
  m->start_bolus.plan.target_dose_rate_ng_per_day = 5 * THECAL_NG_PER_MG;
  m->start_bolus.plan.n_phases = THECAL_BOLUS_PHASES_MAX;
  for (int32_t i = 0; i < THECAL_BOLUS_PHASES_MAX; i++)
    {
      m->start_bolus.plan.phases[i].kind = (ThecalPhaseKind) (i % 3);
      m->start_bolus.plan.phases[i].volume_nl = 1000 * i;
      m->start_bolus.plan.phases[i].rate_nl_per_day = 24000000;
      m->start_bolus.plan.phases[i].duration_ms = i;
      m->start_bolus.plan.phases[i].concentration_ng_per_ml = -i;
      m->start_bolus.plan.phases[i].dose_ng = INT64_MAX - i;
      m->start_bolus.plan.phases[i].dose_rate_ng_per_day = 42;
    }
  m->start_bolus.plan.rate_capped = true;
  ck_assert_uint_eq (round_trip (m), 1 + 16 + 1 + 8 + 8 + 24 + 1 + 4 * 49 + 1);
  pairs++;

  m = build (THECAL_MSG_START_BOLUS, false);
  m->start_bolus.kind = THECAL_PROTO_BOLUS_CLINICIAN;
  m->start_bolus.dose_ng = 500 * THECAL_NG_PER_MCG;
  m->start_bolus.duration_ms = 30 * THECAL_MS_PER_MINUTE;
  round_trip (m);

  m = build (THECAL_MSG_SET_PTM, false);
  m->set_ptm.active = built.start_bolus.active;
  m->set_ptm.ptm = rx.ptm;
  ck_assert_uint_eq (round_trip (m), 1 + 16 + 29);
  pairs++;

  m = build (THECAL_MSG_SET_PTM, true);
  memset (m->checksum.checksum.bytes, 0x77, THECAL_CHECKSUM_SIZE);
  round_trip (m);
  pairs++;

  m = build (THECAL_MSG_SET_CLOCK, false);
  m->set_clock.pump_local_ms = INT64_MIN;
  ck_assert_uint_eq (round_trip (m), 9);
  pairs++;

  m = build (THECAL_MSG_SET_CLOCK, true);
  m->clock_reply.previous_pump_ms = 1;
  m->clock_reply.pump_ms = -1;
  ck_assert_uint_eq (round_trip (m), 17);
  pairs++;

  m = build (THECAL_MSG_ACK_ALARM, false);
  m->ack_alarm.alarm = THECAL_PROTO_ALARM_MEMORY_ERROR;
  ck_assert_uint_eq (round_trip (m), 2);
  pairs++;

  m = build (THECAL_MSG_WAND_INFO, true);
  strcpy (m->wand_info.serial, "WAND-0001");
  strcpy (m->wand_info.firmware_version, "1.4.2");
  m->wand_info.protocol_version = 1;
  round_trip (m);
  pairs++;

  m = build (THECAL_MSG_WAND_LINK, true);
  m->wand_link.rssi_dbm = INT16_MIN;
  m->wand_link.quality_percent = 100;
  m->wand_link.pump_in_range = true;
  ck_assert_uint_eq (round_trip (m), 5);
  m->wand_link.rssi_dbm = -67;
  round_trip (m);
  pairs++;

  m = build (THECAL_MSG_ERROR, true);
  m->error.request_type = 0xEE; /* may be a type the answerer did not know */
  m->error.error.code = THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT;
  m->error.error.detail = THECAL_PUMP_LIMIT_RATE_ABOVE_MAX;
  memset (m->error.error.reason, 'r', THECAL_PROTO_REASON_MAX - 1);
  ck_assert_uint_eq (round_trip (m), 1 + 1 + 1 + 2 + 1 + 63);
  pairs++;

  /* 21 types; ERROR only as an answer: 41 pairs */
  ck_assert_int_eq (pairs, 41);
}
END_TEST

START_TEST (test_no_such_message)
{
  ThecalProtoError error;
  const uint8_t body[1] = { THECAL_MSG_VERSION };

  ck_assert (!thecal_message_decode (THECAL_MSG_ERROR, false, body, 1, &decoded, &error));
  ck_assert_int_eq (error.code, THECAL_PROTO_ERROR_UNKNOWN_TYPE);
  ck_assert (!thecal_message_decode (0x42, true, body, 1, &decoded, &error));
  ck_assert_int_eq (error.code, THECAL_PROTO_ERROR_UNKNOWN_TYPE);
  build (THECAL_MSG_ERROR, false);
  ck_assert (!thecal_message_encode (&built, bytes, sizeof bytes, NULL, &error));
  ck_assert_int_eq (error.code, THECAL_PROTO_ERROR_INVALID);
  ck_assert (!thecal_message_decode (THECAL_MSG_IDENTIFY, false, body, 0, &decoded, &error));
  ck_assert_int_eq (error.code, THECAL_PROTO_ERROR_BAD_REQUEST);
}
END_TEST

/* The worked example of CLINICAL/DESIGN, byte by byte as docs/protocol.md lays it out. */
static const uint8_t morphine_5mg[] = {
  0x01,                                           /* encoding version */
  0x08, 'm', 'o', 'r', 'p', 'h', 'i', 'n', 'e',   /* drug id */
  0x40, 0x78, 0x7D, 0x01, 0x00, 0x00, 0x00, 0x00, /* 25 000 000 ng/mL */
  0x01,                                           /* continuous */
  0x00,                                           /* basis: dose */
  0x40, 0x4B, 0x4C, 0x00, 0x00, 0x00, 0x00, 0x00, /* 5 000 000 ng/day */
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* rate: 0 */
  0x00,                                           /* no flex step */
  0x00,                                           /* no periodic bolus */
  0x00,                                           /* PTM off */
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* PTM dose */
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* PTM duration */
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* PTM lockout */
  0x00, 0x00, 0x00, 0x00,                         /* PTM max per 24 h */
};

START_TEST (test_prescription_encoding_known_answer)
{
  ThecalPrescription rx, back;
  ThecalChecksum checksum;
  uint8_t direct[THECAL_CHECKSUM_SIZE];
  uint8_t out[THECAL_PRESCRIPTION_ENCODING_MAX];
  char hex[2 * THECAL_CHECKSUM_SIZE + 1];
  size_t length = 0;

  thecal_test_rx_morphine (&rx, 5); /* 25 mg/mL, 5 mg/day → 0.2 mL/day */
  ck_assert (thecal_prescription_encode (&rx, out, sizeof out, &length, NULL));
  ck_assert_uint_eq (length, sizeof morphine_5mg);
  ck_assert_mem_eq (out, morphine_5mg, sizeof morphine_5mg);
  ck_assert (thecal_prescription_decode (morphine_5mg, sizeof morphine_5mg, &back, NULL));
  ck_assert_mem_eq (&back, &rx, sizeof rx);

  /* checksum = BLAKE2b-128 (no key) of those bytes, as libsodium computes it directly */
  ck_assert (thecal_prescription_checksum (&rx, &checksum, NULL));
  crypto_generichash (direct, sizeof direct, morphine_5mg, sizeof morphine_5mg, NULL, 0);
  ck_assert_mem_eq (checksum.bytes, direct, sizeof direct);
  /* and the value docs/protocol.md prints, so an encoding change cannot go unnoticed */
  thecal_checksum_to_hex (&checksum, hex);
  ck_assert_str_eq (hex, DOCS_MORPHINE_CHECKSUM);
}
END_TEST

START_TEST (test_prescription_encoding_rules)
{
  ThecalPrescription rx, other;
  ThecalChecksum a, b;
  ThecalProtoError error;
  uint8_t out[THECAL_PRESCRIPTION_ENCODING_MAX];
  size_t length = 0;

  /* the largest: a 31-character drug id and every table full */
  thecal_test_rx_full (&rx);
  memset (rx.drug_id, 'x', THECAL_ID_MAX - 1);
  ck_assert (thecal_prescription_encode (&rx, out, sizeof out, &length, NULL));
  ck_assert_uint_eq (length, THECAL_PRESCRIPTION_ENCODING_MAX);
  ck_assert (!thecal_prescription_encode (&rx, out, THECAL_PRESCRIPTION_ENCODING_MAX - 1, &length, &error));

  /* unused slots do not count: the checksum is the prescription's, not its memory's */
  thecal_test_rx_morphine (&rx, 5);
  other = rx;
  other.flex_steps[5].start_min = 99;
  other.periodic_boluses[0].dose_ng = 1;
  strcpy (other.drug_id + 9, "junk"); /* after the NUL */
  ck_assert (thecal_prescription_checksum (&rx, &a, NULL));
  ck_assert (thecal_prescription_checksum (&other, &b, NULL));
  ck_assert (thecal_checksum_equal (&a, &b));
  ck_assert (thecal_prescription_equal (&rx, &other));
  /* but every used field does */
  other.continuous.rate_nl_per_day = 1; /* encoded even though the basis is dose */
  ck_assert (thecal_prescription_checksum (&other, &b, NULL));
  ck_assert (!thecal_checksum_equal (&a, &b));
  ck_assert (!thecal_prescription_equal (&rx, &other));

  /* structural refusals */
  other = rx;
  other.n_flex_steps = THECAL_FLEX_STEPS_MAX + 1;
  ck_assert (!thecal_prescription_encode (&other, out, sizeof out, &length, &error));
  other = rx;
  other.n_periodic_boluses = -1;
  ck_assert (!thecal_prescription_encode (&other, out, sizeof out, &length, &error));
  other = rx;
  other.mode = THECAL_MODE_N_MODES;
  ck_assert (!thecal_prescription_encode (&other, out, sizeof out, &length, &error));
  other = rx;
  other.continuous.basis = (ThecalBasis) 2;
  ck_assert (!thecal_prescription_encode (&other, out, sizeof out, &length, &error));
  other = rx;
  other.drug_id[0] = '\n';
  ck_assert (!thecal_prescription_encode (&other, out, sizeof out, &length, &error));
  other = rx;
  memset (other.drug_id, 'a', sizeof other.drug_id); /* no NUL */
  ck_assert (!thecal_prescription_encode (&other, out, sizeof out, &length, &error));
  ck_assert (!thecal_prescription_checksum (&other, &a, &error));
  ck_assert_int_eq (error.code, THECAL_PROTO_ERROR_INVALID);
}
END_TEST

/* Copies the worked example, changes one byte, and expects a refusal. */
static void
expect_bad_prescription (size_t offset, uint8_t value, ThecalProtoErrorCode code)
{
  uint8_t copy[sizeof morphine_5mg];
  ThecalPrescription rx;
  ThecalProtoError error;

  memcpy (copy, morphine_5mg, sizeof copy);
  copy[offset] = value;
  memset (&error, 0, sizeof error);
  ck_assert_msg (!thecal_prescription_decode (copy, sizeof copy, &rx, &error), "byte %zu = 0x%02x accepted", offset, value);
  ck_assert_int_eq (error.code, code);
  /* the output is a reset prescription, not half a decode */
  ck_assert_int_eq (rx.mode, THECAL_MODE_STOPPED);
  ck_assert_str_eq (rx.drug_id, "");
}

START_TEST (test_prescription_malformed)
{
  ThecalPrescription rx;

  expect_bad_prescription (0, 2, THECAL_PROTO_ERROR_UNSUPPORTED_VERSION); /* encoding version */
  expect_bad_prescription (1, 32, THECAL_PROTO_ERROR_BAD_REQUEST);        /* drug id longer than 31 */
  expect_bad_prescription (1, 9, THECAL_PROTO_ERROR_BAD_REQUEST);         /* length past the text */
  expect_bad_prescription (2, 0x00, THECAL_PROTO_ERROR_BAD_REQUEST);      /* NUL inside the text */
  expect_bad_prescription (2, 0x7F, THECAL_PROTO_ERROR_BAD_REQUEST);      /* DEL */
  expect_bad_prescription (2, 0xC3, THECAL_PROTO_ERROR_BAD_REQUEST);      /* not ASCII */
  expect_bad_prescription (18, 4, THECAL_PROTO_ERROR_BAD_REQUEST);        /* mode 4 */
  expect_bad_prescription (19, 2, THECAL_PROTO_ERROR_BAD_REQUEST);        /* basis 2 */
  expect_bad_prescription (36, 14, THECAL_PROTO_ERROR_BAD_REQUEST);       /* 14 flex steps */
  expect_bad_prescription (36, 1, THECAL_PROTO_ERROR_BAD_REQUEST);        /* a step that is not there */
  expect_bad_prescription (37, 13, THECAL_PROTO_ERROR_BAD_REQUEST);       /* 13 periodic boluses */
  expect_bad_prescription (38, 2, THECAL_PROTO_ERROR_BAD_REQUEST);        /* boolean 2 */
  for (size_t n = 0; n < sizeof morphine_5mg; n++)
    ck_assert (!thecal_prescription_decode (morphine_5mg, n, &rx, NULL));
}
END_TEST

/* Encodes @m, changes byte @offset to @value, and expects the decoder to refuse. */
static void
expect_bad_body (const ThecalMessage *m, size_t offset, uint8_t value)
{
  ThecalProtoError error;
  size_t length = 0;

  ck_assert (thecal_message_encode (m, bytes, sizeof bytes, &length, NULL));
  ck_assert_uint_lt (offset, length);
  bytes[offset] = value;
  memset (&error, 0, sizeof error);
  ck_assert_msg (!thecal_message_decode ((uint8_t) m->type, m->response, bytes, length, &decoded, &error),
                 "%s: byte %zu = 0x%02x accepted", thecal_msg_type_name ((uint8_t) m->type), offset, value);
  ck_assert_int_eq (error.code, THECAL_PROTO_ERROR_BAD_REQUEST);
  ck_assert (error.reason[0] != '\0');
}

START_TEST (test_bodies_malformed)
{
  ThecalMessage *m;
  ThecalProtoError error;

  /* status: mode, a boolean, an alarm kind, alarms out of order, staged flag */
  m = build (THECAL_MSG_READ_STATUS, true);
  sample_status (&m->status);
  expect_bad_body (m, 9, 4);  /* mode */
  expect_bad_body (m, 10, 2); /* delivering */
  {
    /* offsets: 1 version, 8 pump_ms, 1 mode, 1 delivering, 8, 8, 1+8 drug, 8, 4, 1, 1, 8, 8, 1, 1, 8, 8, 1, 4, 8 */
    size_t n_alarms = 1 + 8 + 1 + 1 + 8 + 8 + 9 + 8 + 4 + 1 + 1 + 8 + 8 + 1 + 1 + 8 + 8 + 1 + 4 + 8;

    expect_bad_body (m, n_alarms, THECAL_PROTO_ALARMS_MAX + 1);
    expect_bad_body (m, n_alarms + 1, THECAL_PROTO_ALARM_N_KINDS); /* first alarm kind */
    expect_bad_body (m, n_alarms + 1 + 21, 0);                     /* second kind not above the first */
  }
  m->status.has_staged = false; /* with a staged checksum still set */
  ck_assert (!thecal_message_encode (m, bytes, sizeof bytes, NULL, &error));
  ck_assert_int_eq (error.code, THECAL_PROTO_ERROR_INVALID);

  /* READ_PRESCRIPTION answer whose checksum is not the prescription's */
  m = build (THECAL_MSG_READ_PRESCRIPTION, true);
  thecal_test_rx_morphine (&m->prescription.rx, 5);
  ck_assert (thecal_prescription_checksum (&m->prescription.rx, &m->prescription.checksum, NULL));
  expect_bad_body (m, 1, (uint8_t) (m->prescription.checksum.bytes[0] ^ 1));
  m->prescription.checksum.bytes[15] ^= 1;
  ck_assert (!thecal_message_encode (m, bytes, sizeof bytes, NULL, &error));

  /* log: not consecutive, outside [oldest, next), too many */
  m = build (THECAL_MSG_READ_LOG, true);
  m->log.oldest_seq = 10;
  m->log.next_seq = 20;
  m->log.n_events = 3;
  for (int32_t i = 0; i < 3; i++)
    thecal_fake_pump_event (12 + i, &m->log.events[i]);
  round_trip (m);
  expect_bad_body (m, 1 + 16 + 2 + 48, 99); /* events[1].seq */
  expect_bad_body (m, 1 + 16 + 2, 9);       /* events[0].seq below oldest */
  expect_bad_body (m, 1 + 8, 11);           /* next 11: events past the newest */
  expect_bad_body (m, 1 + 16, 0xFF);        /* n_events 0x??FF: more than there are */
  m->log.n_events = THECAL_PROTO_LOG_BATCH_MAX + 1;
  ck_assert (!thecal_message_encode (m, bytes, sizeof bytes, NULL, &error));
  m->log.n_events = 0;
  m->log.oldest_seq = 0;
  ck_assert (!thecal_message_encode (m, bytes, sizeof bytes, NULL, &error));

  /* READ_LOG from 0 */
  m = build (THECAL_MSG_READ_LOG, false);
  m->read_log.from_seq = 0;
  ck_assert (!thecal_message_encode (m, bytes, sizeof bytes, NULL, &error));

  /* bolus kind, phase count, phase kind */
  m = build (THECAL_MSG_START_BOLUS, false);
  m->start_bolus.kind = THECAL_PROTO_BOLUS_PRIMING;
  m->start_bolus.plan.n_phases = 1;
  expect_bad_body (m, 17, 0);
  expect_bad_body (m, 17, 4);
  expect_bad_body (m, 1 + 16 + 1 + 8 + 8 + 24, THECAL_BOLUS_PHASES_MAX + 1);
  expect_bad_body (m, 1 + 16 + 1 + 8 + 8 + 24 + 1, 3);

  /* alarm kind, link quality, error code, texts */
  m = build (THECAL_MSG_ACK_ALARM, false);
  expect_bad_body (m, 1, THECAL_PROTO_ALARM_N_KINDS);
  m = build (THECAL_MSG_WAND_LINK, true);
  expect_bad_body (m, 3, 101);
  expect_bad_body (m, 4, 2);
  m = build (THECAL_MSG_ERROR, true);
  m->error.error.code = THECAL_PROTO_ERROR_BUSY;
  strcpy (m->error.error.reason, "busy");
  round_trip (m);
  expect_bad_body (m, 2, 0);                               /* code 0 is not an error */
  expect_bad_body (m, 2, THECAL_PROTO_ERROR_WIRE_MAX + 1); /* unknown code */
  expect_bad_body (m, 2, THECAL_PROTO_ERROR_TIMEOUT);      /* a programmer-local code never travels */
  expect_bad_body (m, 6, '\t');                            /* control character in the reason */
  m->error.error.code = THECAL_PROTO_ERROR_TIMEOUT;
  ck_assert (!thecal_message_encode (m, bytes, sizeof bytes, NULL, &error));
  m = build (THECAL_MSG_IDENTIFY, true);
  thecal_test_identity (&m->identity);
  expect_bad_body (m, 1, 0);  /* empty serial */
  expect_bad_body (m, 1, 32); /* serial longer than 31 */
  expect_bad_body (m, 19, 0); /* protocol version 0 */
  m = build (THECAL_MSG_AUTH, true);
  ck_assert (!thecal_message_encode (m, bytes, sizeof bytes, NULL, &error)); /* timeout 0 */
  m = build (THECAL_MSG_CANCEL_STAGED, true);
  expect_bad_body (m, 1, 2);
  m = build (THECAL_MSG_SET_RESERVOIR, false);
  strcpy (m->set_reservoir.drug_id, "morphine");
  expect_bad_body (m, 10, 0x80);

  /* a capacity too small for the body */
  m = build (THECAL_MSG_READ_STATUS, true);
  sample_status (&m->status);
  ck_assert (!thecal_message_encode (m, bytes, 20, NULL, &error));
  ck_assert_int_eq (error.code, THECAL_PROTO_ERROR_INVALID);
}
END_TEST

START_TEST (test_type_classes)
{
  int session = 0, changes = 0, wand = 0;

  for (int t = 0; t < 256; t++)
    {
      session += thecal_msg_type_needs_session ((uint8_t) t);
      changes += thecal_msg_type_changes_pump ((uint8_t) t);
      wand += thecal_msg_type_is_wand_local ((uint8_t) t);
    }
  ck_assert_int_eq (session, 16); /* all but IDENTIFY, HELLO, WAND_INFO, WAND_LINK, ERROR */
  ck_assert_int_eq (changes, 8);
  /* a lost answer to REFILL_COMMIT leaves the fill and the prescription unknown: UNCERTAIN */
  ck_assert (thecal_msg_type_changes_pump (THECAL_MSG_REFILL_COMMIT));
  ck_assert (thecal_msg_type_needs_session (THECAL_MSG_REFILL_COMMIT));
  ck_assert_str_eq (thecal_msg_type_name (THECAL_MSG_REFILL_COMMIT), "REFILL_COMMIT");
  ck_assert_int_eq (wand, 2);
  ck_assert (!thecal_msg_type_changes_pump (THECAL_MSG_STAGE)); /* STAGE changes nothing that runs */
  ck_assert (thecal_msg_type_changes_pump (THECAL_MSG_COMMIT));
  ck_assert_str_eq (thecal_proto_error_code_name (THECAL_PROTO_ERROR_STALE_CHECKSUM), "STALE_CHECKSUM");
  ck_assert_str_eq (thecal_pump_limit_name (THECAL_PUMP_LIMIT_RATE_ABOVE_MAX), "rate_above_max");
}
END_TEST

START_TEST (test_error_reason_sanitised)
{
  ThecalProtoError error;

  ck_assert (!thecal_proto_error_set (&error, THECAL_PROTO_ERROR_REFUSED, 7, "caf\xc3\xa9\n%s", "ok"));
  ck_assert_str_eq (error.reason, "caf???ok");
  ck_assert_int_eq (error.detail, 7);
  /* truncated to 63 characters */
  ck_assert (!thecal_proto_error_set (&error, THECAL_PROTO_ERROR_REFUSED, 0, "%0100d", 1));
  ck_assert_uint_eq (strlen (error.reason), 63);
}
END_TEST

static Suite *
message_suite (void)
{
  Suite *s = suite_create ("message");

  THECAL_TEST_TCASE (s, "codec", NULL, NULL, 0,
                     test_round_trip_every_message,
                     test_no_such_message,
                     test_prescription_encoding_known_answer,
                     test_prescription_encoding_rules,
                     test_prescription_malformed,
                     test_bodies_malformed,
                     test_type_classes,
                     test_error_reason_sanitised);
  return s;
}

THECAL_TEST_MAIN (message_suite)
