/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * proto-make-corpus.c: writes the seed corpora of the protocol fuzz targets.
 *
 *   build/tests/proto/proto-make-corpus tests/fuzz/corpus
 *
 * fills tests/fuzz/corpus/frame/, message/ and pump-role/ with valid and invalid inputs named for
 * what they exercise (seeds only: the replay tests feed them to the targets on every run).
 */
#include "config.h"

#include "thecal-fake-pump.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char root[1024];
static uint8_t buffer[THECAL_FRAME_MAX * 2];
static uint8_t body[THECAL_FRAME_MAX];
static ThecalMessage msg;
static int written;

static void
write_file (const char *dir, const char *name, const uint8_t *data, size_t length)
{
  char path[2048];
  FILE *file;

  snprintf (path, sizeof path, "%s/%s", root, dir);
  if (mkdir (path, 0755) != 0 && errno != EEXIST)
    {
      perror (path);
      exit (EXIT_FAILURE);
    }
  snprintf (path, sizeof path, "%s/%s/%s", root, dir, name);
  file = fopen (path, "wb");
  if (file == NULL || fwrite (data, 1, length, file) != length || fclose (file) != 0)
    {
      perror (path);
      exit (EXIT_FAILURE);
    }
  written++;
}

static size_t
encode_body (const ThecalMessage *m)
{
  size_t length = 0;
  ThecalProtoError error;

  if (!thecal_message_encode (m, body, sizeof body, &length, &error))
    {
      fprintf (stderr, "cannot encode %s: %s\n", thecal_msg_type_name ((uint8_t) m->type), error.reason);
      exit (EXIT_FAILURE);
    }
  return length;
}

/* ---- frame corpus ------------------------------------------------------------------------------ */

static size_t
clear_frame (uint8_t *out, ThecalMsgType type, uint8_t flags, uint32_t seq)
{
  size_t body_length = encode_body (&msg), length = 0;

  if (!thecal_frame_encode ((uint8_t) type, flags, seq, body, body_length, out, THECAL_FRAME_MAX, &length))
    exit (EXIT_FAILURE);
  return length;
}

static void
frame_corpus (void)
{
  uint8_t key[THECAL_KEY_SIZE];
  size_t length, total;

  thecal_message_init (&msg, THECAL_MSG_IDENTIFY, false);
  length = clear_frame (buffer, THECAL_MSG_IDENTIFY, 0, 1);
  write_file ("frame", "valid-identify-request", buffer, length);

  thecal_message_init (&msg, THECAL_MSG_HELLO, false);
  memset (msg.hello.nonce, 0xAA, sizeof msg.hello.nonce);
  length = clear_frame (buffer, THECAL_MSG_HELLO, 0, 2);
  write_file ("frame", "valid-hello-request", buffer, length);

  thecal_message_init (&msg, THECAL_MSG_ERROR, true);
  msg.error.request_type = THECAL_MSG_COMMIT;
  thecal_proto_error_set (&msg.error.error, THECAL_PROTO_ERROR_NOT_AUTHENTICATED, 0, "no session");
  length = clear_frame (buffer, THECAL_MSG_ERROR, THECAL_FRAME_FLAG_RESPONSE | THECAL_FRAME_FLAG_ERROR, 9);
  write_file ("frame", "valid-error-answer", buffer, length);

  thecal_test_key (key, FAKE_KEY_BYTE);
  thecal_message_init (&msg, THECAL_MSG_READ_STATUS, false);
  if (!thecal_session_seal (key, THECAL_DIRECTION_TO_PUMP, THECAL_MSG_READ_STATUS, 0, 2, body, encode_body (&msg), buffer,
                            THECAL_FRAME_MAX, &length))
    exit (EXIT_FAILURE);
  write_file ("frame", "valid-encrypted-request", buffer, length);

  memset (body, 0x33, 4000);
  if (!thecal_frame_encode (THECAL_MSG_READ_LOG, THECAL_FRAME_FLAG_RESPONSE | THECAL_FRAME_FLAG_ENCRYPTED, 3, body, 4000, buffer,
                            THECAL_FRAME_MAX, &length))
    exit (EXIT_FAILURE);
  write_file ("frame", "valid-large", buffer, length);

  /* a stream: junk, two frames, junk, a frame, half a frame */
  total = 0;
  memcpy (buffer, "\x00TH\x54junk", 8);
  total += 8;
  thecal_message_init (&msg, THECAL_MSG_IDENTIFY, false);
  total += clear_frame (buffer + total, THECAL_MSG_IDENTIFY, 0, 1);
  thecal_message_init (&msg, THECAL_MSG_WAND_LINK, false);
  total += clear_frame (buffer + total, THECAL_MSG_WAND_LINK, 0, 2);
  memcpy (buffer + total, "TT", 2);
  total += 2;
  thecal_message_init (&msg, THECAL_MSG_CLOSE, true);
  total += clear_frame (buffer + total, THECAL_MSG_CLOSE, THECAL_FRAME_FLAG_RESPONSE, 3);
  length = clear_frame (buffer + total, THECAL_MSG_CLOSE, THECAL_FRAME_FLAG_RESPONSE, 4);
  total += length / 2;
  write_file ("frame", "valid-stream-with-junk", buffer, total);

  thecal_message_init (&msg, THECAL_MSG_IDENTIFY, false);
  length = clear_frame (buffer, THECAL_MSG_IDENTIFY, 0, 1);
  buffer[length - 1] ^= 0xFF;
  write_file ("frame", "bad-crc", buffer, length);
  length = clear_frame (buffer, THECAL_MSG_IDENTIFY, 0, 1);
  write_file ("frame", "bad-truncated", buffer, length - 3);
  write_file ("frame", "bad-header-only", buffer, THECAL_FRAME_HEADER_SIZE);

  thecal_frame_write_header (0x55, 0, 7, 1, buffer);
  buffer[11] = 1;
  thecal_frame_write_crc (buffer, 12);
  write_file ("frame", "bad-unknown-type", buffer, 16);
  thecal_frame_write_header (THECAL_MSG_IDENTIFY, 0, 7, 1, buffer);
  buffer[2] = 2;
  thecal_frame_write_crc (buffer, 12);
  write_file ("frame", "bad-unknown-version", buffer, 16);
  thecal_frame_write_header (THECAL_MSG_READ_STATUS, 0xF0, 7, 1, buffer);
  thecal_frame_write_crc (buffer, 12);
  write_file ("frame", "bad-flags", buffer, 16);
  thecal_frame_write_header (THECAL_MSG_READ_LOG, 0, 7, UINT16_MAX, buffer);
  write_file ("frame", "bad-too-long", buffer, THECAL_FRAME_HEADER_SIZE + 8);
}

/* ---- message corpus ---------------------------------------------------------------------------- */

static void
message_file (const char *name)
{
  static ThecalMessage check;
  size_t length = encode_body (&msg);

  buffer[0] = (uint8_t) msg.type;
  buffer[1] = msg.response ? 1 : 0;
  memcpy (buffer + 2, body, length);
  /* a valid seed must decode */
  if (!thecal_message_decode (buffer[0], msg.response, buffer + 2, length, &check, NULL))
    {
      fprintf (stderr, "%s does not decode\n", name);
      exit (EXIT_FAILURE);
    }
  write_file ("message", name, buffer, length + 2);
}

/* Fills the body of msg (type and direction set, body zero) with a valid sample. */
static void
fill (const ThecalPrescription *full, const ThecalPrescription *morphine)
{
  bool response = msg.response;

  switch (msg.type)
    {
    case THECAL_MSG_IDENTIFY:
      if (response)
        thecal_test_identity (&msg.identity);
      break;
    case THECAL_MSG_HELLO:
      if (response)
        {
          memset (msg.hello_reply.nonce, 0xBB, sizeof msg.hello_reply.nonce);
          thecal_test_identity (&msg.hello_reply.identity);
        }
      else
        memset (msg.hello.nonce, 0xAA, sizeof msg.hello.nonce);
      break;
    case THECAL_MSG_AUTH:
      if (response)
        msg.auth_reply.session_timeout_ms = 60000;
      break;
    case THECAL_MSG_READ_STATUS:
      if (response)
        {
          msg.status.mode = THECAL_MODE_CONTINUOUS;
          msg.status.n_alarms = 2;
          msg.status.alarms[0].kind = THECAL_PROTO_ALARM_LOW_RESERVOIR;
          msg.status.alarms[0].raised = true;
          msg.status.alarms[1].kind = THECAL_PROTO_ALARM_ERI;
          msg.status.log_oldest_seq = 1;
          msg.status.log_next_seq = 3001;
        }
      break;
    case THECAL_MSG_READ_PRESCRIPTION:
      if (response)
        {
          msg.prescription.rx = *full;
          thecal_prescription_checksum (full, &msg.prescription.checksum, NULL);
        }
      break;
    case THECAL_MSG_READ_STAGED:
      if (response)
        {
          msg.staged.rx = *morphine;
          thecal_prescription_checksum (morphine, &msg.staged.checksum, NULL);
        }
      break;
    case THECAL_MSG_READ_LOG:
      if (response)
        {
          msg.log.oldest_seq = 1;
          msg.log.next_seq = 11;
          msg.log.n_events = 4;
          for (int32_t e = 0; e < 4; e++)
            thecal_fake_pump_event (3 + e, &msg.log.events[e]);
        }
      else
        msg.read_log.from_seq = 1;
      break;
    case THECAL_MSG_STAGE:
      if (!response)
        msg.stage.rx = *full;
      break;
    case THECAL_MSG_SET_RESERVOIR:
      if (!response)
        {
          msg.set_reservoir.volume_nl = 20000000;
          strcpy (msg.set_reservoir.drug_id, "morphine");
          msg.set_reservoir.concentration_ng_per_ml = 25000000;
        }
      break;
    case THECAL_MSG_REFILL_COMMIT:
      if (!response)
        {
          msg.refill_commit.fill.volume_nl = 20000000;
          strcpy (msg.refill_commit.fill.drug_id, "morphine");
          msg.refill_commit.fill.concentration_ng_per_ml = 50000000;
          thecal_prescription_checksum (morphine, &msg.refill_commit.staged, NULL);
        }
      break;
    case THECAL_MSG_START_BOLUS:
      if (!response)
        {
          msg.start_bolus.kind = THECAL_PROTO_BOLUS_PRIMING;
          msg.start_bolus.plan.n_phases = 2;
          msg.start_bolus.plan.phases[1].kind = THECAL_PHASE_PRESCRIPTION;
        }
      break;
    case THECAL_MSG_SET_PTM:
      if (!response)
        msg.set_ptm.ptm = full->ptm;
      break;
    case THECAL_MSG_WAND_INFO:
      if (response)
        {
          strcpy (msg.wand_info.serial, "WAND-0001");
          strcpy (msg.wand_info.firmware_version, "1.4.2");
          msg.wand_info.protocol_version = 1;
        }
      break;
    case THECAL_MSG_WAND_LINK:
      if (response)
        {
          msg.wand_link.rssi_dbm = -67;
          msg.wand_link.quality_percent = 88;
        }
      break;
    case THECAL_MSG_ERROR:
      msg.error.request_type = THECAL_MSG_STAGE;
      thecal_proto_error_set (&msg.error.error, THECAL_PROTO_ERROR_REFUSED_BY_PUMP_LIMIT, THECAL_PUMP_LIMIT_RATE_ABOVE_MAX,
                              "rate 28 mL/day is above 24 mL/day");
      break;
    case THECAL_MSG_CLOSE:
    case THECAL_MSG_COMMIT:
    case THECAL_MSG_CANCEL_STAGED:
    case THECAL_MSG_CANCEL_BOLUS:
    case THECAL_MSG_SET_CLOCK:
    case THECAL_MSG_ACK_ALARM:
    default:
      break; /* a zero body is valid */
    }
}

static void
message_corpus (void)
{
  static const uint8_t types[] = {
    THECAL_MSG_IDENTIFY,
    THECAL_MSG_HELLO,
    THECAL_MSG_AUTH,
    THECAL_MSG_CLOSE,
    THECAL_MSG_READ_STATUS,
    THECAL_MSG_READ_PRESCRIPTION,
    THECAL_MSG_READ_STAGED,
    THECAL_MSG_READ_LOG,
    THECAL_MSG_STAGE,
    THECAL_MSG_COMMIT,
    THECAL_MSG_CANCEL_STAGED,
    THECAL_MSG_REFILL_COMMIT,
    THECAL_MSG_SET_RESERVOIR,
    THECAL_MSG_START_BOLUS,
    THECAL_MSG_CANCEL_BOLUS,
    THECAL_MSG_SET_PTM,
    THECAL_MSG_SET_CLOCK,
    THECAL_MSG_ACK_ALARM,
    THECAL_MSG_WAND_INFO,
    THECAL_MSG_WAND_LINK,
    THECAL_MSG_ERROR,
  };
  ThecalPrescription full, morphine;
  char name[128];
  size_t length;

  thecal_test_rx_full (&full);
  thecal_test_rx_morphine (&morphine, 5);
  for (size_t i = 0; i < sizeof types; i++)
    for (int response = 0; response < 2; response++)
      {
        if (types[i] == THECAL_MSG_ERROR && !response)
          continue;
        thecal_message_init (&msg, (ThecalMsgType) types[i], response);
        fill (&full, &morphine);
        snprintf (name, sizeof name, "valid-%s-%s", thecal_msg_type_name (types[i]), response ? "answer" : "request");
        for (char *c = name; *c != '\0'; c++)
          *c = *c == '_' ? '-' : (char) (*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
        message_file (name);
      }

  /* bare prescriptions (flag bit 1) */
  if (!thecal_prescription_encode (&morphine, buffer + 2, THECAL_PRESCRIPTION_ENCODING_MAX, &length, NULL))
    exit (EXIT_FAILURE);
  buffer[0] = 0;
  buffer[1] = 2;
  write_file ("message", "valid-prescription-morphine-5mg", buffer, length + 2);
  if (!thecal_prescription_encode (&full, buffer + 2, THECAL_PRESCRIPTION_ENCODING_MAX, &length, NULL))
    exit (EXIT_FAILURE);
  write_file ("message", "valid-prescription-full", buffer, length + 2);
  buffer[2] = 2;
  write_file ("message", "bad-prescription-version", buffer, length + 2);
  buffer[2] = 1;
  write_file ("message", "bad-prescription-truncated", buffer, length);

  /* invalid bodies */
  thecal_message_init (&msg, THECAL_MSG_READ_STATUS, false);
  length = encode_body (&msg);
  buffer[0] = THECAL_MSG_READ_STATUS;
  buffer[1] = 0;
  buffer[2] = 2;
  write_file ("message", "bad-message-version", buffer, 3);
  buffer[2] = 1;
  buffer[3] = 0;
  write_file ("message", "bad-trailing-byte", buffer, 4);
  buffer[0] = THECAL_MSG_ERROR;
  write_file ("message", "bad-error-request", buffer, 3);
  buffer[0] = 0x42;
  write_file ("message", "bad-unknown-type", buffer, 3);
  thecal_message_init (&msg, THECAL_MSG_ACK_ALARM, false);
  length = encode_body (&msg);
  buffer[0] = THECAL_MSG_ACK_ALARM;
  buffer[1] = 0;
  memcpy (buffer + 2, body, length);
  buffer[3] = 9;
  write_file ("message", "bad-alarm-kind", buffer, length + 2);
}

/* ---- pump-role corpus -------------------------------------------------------------------------- */

static size_t script_length;

static void
record (uint8_t op, const uint8_t *bytes, size_t length)
{
  buffer[script_length++] = op;
  buffer[script_length++] = (uint8_t) length;
  buffer[script_length++] = (uint8_t) (length >> 8);
  memcpy (buffer + script_length, bytes, length);
  script_length += length;
}

/* op 1: msg sealed with @seq */
static void
sealed (uint32_t seq)
{
  static uint8_t r[THECAL_FRAME_MAX];
  size_t length = encode_body (&msg);

  r[0] = (uint8_t) msg.type;
  r[1] = (uint8_t) seq;
  r[2] = (uint8_t) (seq >> 8);
  r[3] = (uint8_t) (seq >> 16);
  r[4] = (uint8_t) (seq >> 24);
  memcpy (r + 5, body, length);
  record (1, r, length + 5);
}

static void
simple (ThecalMsgType type, uint32_t seq)
{
  thecal_message_init (&msg, type, false);
  sealed (seq);
}

/* STAGE of @rx in place of the prescription of checksum @replaces, sealed with @seq */
static void
stage (const ThecalPrescription *rx, const ThecalChecksum *replaces, uint32_t seq)
{
  thecal_message_init (&msg, THECAL_MSG_STAGE, false);
  msg.stage.replaces = *replaces;
  msg.stage.rx = *rx;
  sealed (seq);
}

/* COMMIT of the staged prescription of checksum @staged, sealed with @seq */
static void
commit (const ThecalChecksum *staged, uint32_t seq)
{
  thecal_message_init (&msg, THECAL_MSG_COMMIT, false);
  msg.checksum.checksum = *staged;
  sealed (seq);
}

static void
pump_role_corpus (void)
{
  ThecalPrescription rx5, rx6;
  ThecalChecksum rx5_sum, rx6_sum;
  uint8_t raw[THECAL_FRAME_MAX];
  size_t length;

  thecal_test_rx_morphine (&rx5, 5);
  thecal_test_rx_morphine (&rx6, 6);
  thecal_prescription_checksum (&rx5, &rx5_sum, NULL);
  thecal_prescription_checksum (&rx6, &rx6_sum, NULL);

  script_length = 0;
  simple (THECAL_MSG_READ_STATUS, 2);
  simple (THECAL_MSG_READ_PRESCRIPTION, 3);
  write_file ("pump-role", "valid-status", buffer, script_length);

  script_length = 0;
  stage (&rx6, &rx5_sum, 2);
  simple (THECAL_MSG_READ_STAGED, 3);
  commit (&rx6_sum, 4);
  sealed (4); /* retransmitted: answered from the cache */
  simple (THECAL_MSG_READ_PRESCRIPTION, 5);
  write_file ("pump-role", "valid-two-phase-commit-retransmitted", buffer, script_length);

  script_length = 0;
  stage (&rx6, &rx5_sum, 2);
  record (2, (const uint8_t *) "\xBC\x02", 2); /* 70 s */
  commit (&rx6_sum, 3);
  write_file ("pump-role", "valid-timeout-before-commit", buffer, script_length);

  /* a drug or concentration change: a prescription staged for the new fill (50 mg/mL), refused
   * by a plain COMMIT, then the fill and the prescription in one REFILL_COMMIT (retransmitted:
   * applied once) */
  {
    ThecalPrescription rx50;
    ThecalChecksum rx50_sum;

    thecal_test_rx_morphine (&rx50, 5);
    rx50.concentration_ng_per_ml = 50000000;
    thecal_prescription_checksum (&rx50, &rx50_sum, NULL);
    script_length = 0;
    stage (&rx50, &rx5_sum, 2);
    simple (THECAL_MSG_READ_STAGED, 3);
    commit (&rx50_sum, 4);
    thecal_message_init (&msg, THECAL_MSG_REFILL_COMMIT, false);
    msg.refill_commit.fill.volume_nl = 18000000;
    strcpy (msg.refill_commit.fill.drug_id, "morphine");
    msg.refill_commit.fill.concentration_ng_per_ml = 50000000;
    msg.refill_commit.staged = rx50_sum;
    sealed (5);
    sealed (5); /* retransmitted: answered from the cache */
    simple (THECAL_MSG_READ_PRESCRIPTION, 6);
    simple (THECAL_MSG_READ_STATUS, 7);
    write_file ("pump-role", "valid-refill-commit", buffer, script_length);
  }

  script_length = 0;
  thecal_message_init (&msg, THECAL_MSG_SET_CLOCK, false);
  msg.set_clock.pump_local_ms = 5000;
  sealed (5);
  msg.set_clock.pump_local_ms = 6000;
  sealed (3); /* replay */
  sealed (5); /* same sequence, other content */
  write_file ("pump-role", "valid-replays", buffer, script_length);

  script_length = 0;
  thecal_message_init (&msg, THECAL_MSG_SET_RESERVOIR, false);
  msg.set_reservoir.volume_nl = 20000000;
  strcpy (msg.set_reservoir.drug_id, "morphine");
  msg.set_reservoir.concentration_ng_per_ml = 25000000;
  sealed (2);
  thecal_message_init (&msg, THECAL_MSG_START_BOLUS, false);
  msg.start_bolus.active = rx5_sum;
  msg.start_bolus.kind = THECAL_PROTO_BOLUS_CLINICIAN;
  msg.start_bolus.dose_ng = 500000;
  msg.start_bolus.duration_ms = 1800000;
  sealed (3);
  simple (THECAL_MSG_CANCEL_BOLUS, 4);
  thecal_message_init (&msg, THECAL_MSG_SET_PTM, false);
  msg.set_ptm.active = rx5_sum;
  msg.set_ptm.ptm.enabled = true;
  msg.set_ptm.ptm.dose_ng = 100000;
  msg.set_ptm.ptm.duration_ms = 600000;
  msg.set_ptm.ptm.lockout_ms = 10800000;
  msg.set_ptm.ptm.max_per_24h = 3;
  sealed (5);
  thecal_message_init (&msg, THECAL_MSG_ACK_ALARM, false);
  msg.ack_alarm.alarm = THECAL_PROTO_ALARM_ERI;
  sealed (6);
  thecal_message_init (&msg, THECAL_MSG_READ_LOG, false);
  msg.read_log.from_seq = 2990;
  msg.read_log.max_events = 20;
  sealed (7);
  simple (THECAL_MSG_CANCEL_STAGED, 8);
  simple (THECAL_MSG_CLOSE, 9);
  simple (THECAL_MSG_READ_STATUS, 10);
  write_file ("pump-role", "valid-every-request", buffer, script_length);

  script_length = 0;
  record (3, (const uint8_t *) "\xBB", 1);
  thecal_message_init (&msg, THECAL_MSG_READ_LOG, false);
  msg.read_log.from_seq = 1;
  sealed (2);
  write_file ("pump-role", "valid-new-session-log", buffer, script_length);

  script_length = 0;
  thecal_message_init (&msg, THECAL_MSG_IDENTIFY, false);
  length = clear_frame (raw, THECAL_MSG_IDENTIFY, 0, 1);
  record (0, raw, length);
  thecal_message_init (&msg, THECAL_MSG_HELLO, false);
  length = clear_frame (raw, THECAL_MSG_HELLO, 0, 2);
  record (0, raw, length);
  record (0, raw, length); /* the same HELLO again */
  thecal_message_init (&msg, THECAL_MSG_WAND_INFO, false);
  length = clear_frame (raw, THECAL_MSG_WAND_INFO, 0, 3);
  record (0, raw, length);
  thecal_message_init (&msg, THECAL_MSG_COMMIT, false);
  length = clear_frame (raw, THECAL_MSG_COMMIT, 0, 4); /* in clear: refused */
  record (0, raw, length);
  record (0, (const uint8_t *) "garbage", 7);
  thecal_frame_write_header (0x55, 0, 7, 1, raw);
  raw[11] = 1;
  thecal_frame_write_crc (raw, 12);
  record (0, raw, 16);
  write_file ("pump-role", "valid-clear-frames", buffer, script_length);

  script_length = 0;
  thecal_message_init (&msg, THECAL_MSG_STAGE, false);
  msg.stage.replaces = rx5_sum;
  thecal_test_rx_morphine (&msg.stage.rx, 700); /* above the pump's limit */
  sealed (2);
  simple (THECAL_MSG_COMMIT, 3);
  record (1, (const uint8_t *) "\x10\x04\x00\x00\x00\x02", 6); /* READ_STATUS, message version 2 */
  write_file ("pump-role", "bad-refusals", buffer, script_length);
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    {
      fprintf (stderr, "usage: %s CORPUS_DIR (tests/fuzz/corpus)\n", argv[0]);
      return 2;
    }
  if (!thecal_proto_init ())
    return 1;
  snprintf (root, sizeof root, "%s", argv[1]);
  frame_corpus ();
  message_corpus ();
  pump_role_corpus ();
  printf ("%d files written under %s\n", written, root);
  return 0;
}
