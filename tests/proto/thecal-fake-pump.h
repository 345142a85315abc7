/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-fake-pump.h: an in-test pump behind ThecalPumpOps, and the helpers the protocol tests
 * and the pump-role fuzzer share (deterministic randomness, sample prescriptions, a link that
 * connects a programmer to a pump role and loses frames on request).
 *
 * No Check in here: the fuzz targets use it too.
 */
#pragma once

#include "thecal-programmer.h"
#include "thecal-pump-role.h"

#define FAKE_KEY_BYTE 0x5A /* the paired key: 32 bytes of this */
#define FAKE_SERIAL "TR20-000123"
#define FAKE_MODEL "TR-20"

typedef struct
{
  ThecalPrescription active;
  int32_t check_calls;
  int32_t apply_calls;
  int64_t rate_max_nl_per_day; /* the pump's own limit: 24 mL/day */
  int64_t capacity_nl;         /* 20 mL */
  int64_t reservoir_nl;
  char reservoir_drug[THECAL_ID_MAX];
  int64_t reservoir_concentration;
  int64_t clock_ms;
  bool alarm_raised[THECAL_PROTO_ALARM_N_KINDS];
  bool alarm_acknowledged[THECAL_PROTO_ALARM_N_KINDS];
  bool bolus_active;
  int32_t bolus_calls;
  ThecalMsgStartBolus last_bolus;
  int32_t set_reservoir_calls;
  int32_t check_refill_calls;
  int32_t refill_apply_calls; /* refill_and_apply calls that applied (REFILL_COMMIT) */
  int64_t log_oldest_seq;     /* synthesised events oldest .. next − 1 */
  int64_t log_next_seq;
  bool fail_get_status;      /* get_status fails without a code: the role must say INTERNAL */
  bool apply_something_else; /* a broken pump: applies the prescription with another PTM dose */
  bool refuse_apply_busy;    /* apply refuses BUSY (a bolus runs) */
} ThecalFakePump;

extern const ThecalPumpOps thecal_fake_pump_ops;

/* Reservoir 15 mL of morphine 25 mg/mL, running @active (or a stopped prescription when NULL),
 * log 1 .. 3000 with the oldest at 1. */
void thecal_fake_pump_init (ThecalFakePump *pump, const ThecalPrescription *active);

/* The event the fake pump logs with @seq. */
void thecal_fake_pump_event (int64_t seq, ThecalProtoEvent *event);

/* Deterministic bytes: @user_data points to a uint64_t state (splitmix64). */
void thecal_test_random (void *user_data, uint8_t *buffer, size_t length);

void thecal_test_key (uint8_t key[THECAL_KEY_SIZE], uint8_t byte);

/* Morphine 25 mg/mL continuous @mg_per_day mg/day (5 mg/day → 0.2 mL/day). */
void thecal_test_rx_morphine (ThecalPrescription *rx, int64_t mg_per_day);
/* Every field used: flex 13 steps, 12 periodic boluses, PTM. Valid for the dose core. */
void thecal_test_rx_full (ThecalPrescription *rx);

void thecal_test_identity (ThecalProtoIdentity *identity);

/* ---- a link between a programmer and a pump role ---------------------------------------------- */

typedef enum
{
  LINK_DELIVER = 0,
  LINK_DROP,
  LINK_CORRUPT, /* flips one bit in the middle of the frame */
  LINK_DUPLICATE,
} LinkAction;

typedef struct Link Link;
/* @index counts every frame put on the link, both directions, from 1. @to_pump tells the
 * direction; @type is the frame's type byte. */
typedef LinkAction (*LinkPolicy) (Link *link, int64_t index, bool to_pump, uint8_t type, bool response);

struct Link
{
  ThecalProgrammer *programmer;
  ThecalPumpRole *role;
  ThecalFakePump *pump;
  int64_t now_ms;
  int64_t frames;
  LinkPolicy policy;
  void *policy_data;
  int64_t drop_index; /* for the stock policies */
  int64_t dead_from;  /* link_policy_dead_from: every frame from this index on is lost */
  uint8_t drop_type;  /* link_policy_drop_type */
  bool drop_response;
  int32_t drops_left;
  uint8_t scratch[THECAL_FRAME_MAX];
};

void link_init (Link *link, ThecalProgrammer *programmer, ThecalPumpRole *role, ThecalFakePump *pump);

/* Runs until the programmer is idle (or @max_steps loop turns). False if it did not settle. */
bool link_run (Link *link, int32_t max_steps);

LinkAction link_policy_deliver (Link *link, int64_t index, bool to_pump, uint8_t type, bool response);
/* Drops frame number drop_index only. */
LinkAction link_policy_drop_one (Link *link, int64_t index, bool to_pump, uint8_t type, bool response);
/* Drops every frame from dead_from on. */
LinkAction link_policy_dead_from (Link *link, int64_t index, bool to_pump, uint8_t type, bool response);
/* Drops frames of drop_type in the direction drop_response, drops_left times (−1: always). */
LinkAction link_policy_drop_type (Link *link, int64_t index, bool to_pump, uint8_t type, bool response);

/* The config of a pump role in front of @pump: its ops, the test identity, the paired key
 * (FAKE_KEY_BYTE), a 60 s session, nonces from thecal_test_random (@seed). */
void thecal_test_role_config (ThecalPumpRoleConfig *config, ThecalFakePump *pump, uint64_t *seed);

/* A programmer and a pump role with the fake pump, paired (same key) unless @paired is false. */
void thecal_test_setup (ThecalProgrammer *programmer,
                        ThecalPumpRole *role,
                        ThecalFakePump *pump,
                        const ThecalPrescription *active,
                        bool paired,
                        uint64_t *programmer_seed,
                        uint64_t *pump_seed);
