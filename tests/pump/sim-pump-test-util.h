/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * sim-pump-test-util.h: what the tests of src/pump and src/wand share: a simulated TR-20 with
 * morphine, sample prescriptions, a deterministic random source for the programmer, and a direct
 * in-process link (programmer ↔ sim pump, no GLib) on a simulated clock.
 *
 * Static inline: each test binary includes it once.
 */
#pragma once

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "thecal-programmer.h"
#include "thecal-sim-pump.h"
#include "thecal-test-dose.h"
#include "thecal-test-models.h"

#define TEST_SERIAL "TR20-009001"
#define TEST_START_MS INT64_C (1767603600000) /* 2026-01-05T09:00 pump-local */
#define TEST_DAY_MS INT64_C (86400000)

/* Morphine 25 mg/mL continuous @mg_per_day (5 mg/day → 0.2 mL/day). */
static inline void
test_rx_morphine (ThecalPrescription *rx, int64_t mg_per_day)
{
  *rx = thecal_test_continuous_dose ("morphine", 25 * THECAL_NG_PER_MG, mg_per_day * THECAL_NG_PER_MG);
}

/* Morphine 25 mg/mL at a volume rate. */
static inline void
test_rx_rate (ThecalPrescription *rx, int64_t rate_nl_per_day)
{
  *rx = thecal_test_continuous_rate ("morphine", 25 * THECAL_NG_PER_MG, rate_nl_per_day);
}

/* Deterministic bytes: @user_data points to a uint64_t state (splitmix64). */
static inline void
test_random (void *user_data, uint8_t *buffer, size_t length)
{
  uint64_t *state = user_data;

  for (size_t i = 0; i < length; i++)
    {
      uint64_t z = (*state += UINT64_C (0x9E3779B97F4A7C15));

      z = (z ^ (z >> 30)) * UINT64_C (0xBF58476D1CE4E5B9);
      z = (z ^ (z >> 27)) * UINT64_C (0x94D049BB133111EB);
      buffer[i] = (uint8_t) (z ^ (z >> 31));
    }
}

/* A TR-20 (the model from thecal-test-models.h) with @reservoir_nl of morphine 25 mg/mL running
 * @rx (NULL: stopped), started at TEST_START_MS, key = the demo key of TEST_SERIAL. */
static inline void
test_sim_pump_init (ThecalSimPump *pump, const ThecalPumpModel *model, const ThecalPrescription *rx, int64_t reservoir_nl)
{
  ThecalSimPumpConfig config;
  ThecalDoseError error;

  thecal_sim_pump_config_init (&config);
  config.model = model;
  snprintf (config.serial, sizeof config.serial, "%s", TEST_SERIAL);
  thecal_sim_pump_demo_key (TEST_SERIAL, config.key);
  config.catheter.catheter_length_mm = 455;
  config.catheter.catheter_volume_nl_per_cm = 2600;
  config.seed = 42;
  config.start_local_ms = TEST_START_MS;
  config.reservoir_nl = reservoir_nl;
  snprintf (config.drug_id, sizeof config.drug_id, "morphine");
  config.concentration_ng_per_ml = 25 * THECAL_NG_PER_MG;
  config.path_primed = true;
  if (rx != NULL)
    {
      config.has_prescription = true;
      config.prescription = *rx;
    }
  thecal_dose_error_clear (&error);
  ck_assert_msg (thecal_sim_pump_init (pump, &config, &error), "%s: %s", error.field, error.message);
}

/* ---- a direct link: the programmer's frames to the pump and back, on a simulated clock -------- */

typedef struct
{
  ThecalProgrammer *programmer;
  ThecalSimPump *pump;
  int64_t now_ms;         /* the programmer's clock (monotonic, simulated) */
  int64_t pump_offset_ms; /* pump true time = now + offset */
  int64_t frames;         /* frames either way */
  int64_t drop_from;      /* frames from this index on are lost (0: none) */
  uint8_t drop_type;      /* with drop_from: only frames of this type (0: any) */
} TestLink;

static inline void
test_link_init (TestLink *link, ThecalProgrammer *programmer, ThecalSimPump *pump)
{
  memset (link, 0, sizeof *link);
  link->programmer = programmer;
  link->pump = pump;
  link->now_ms = 1000;
  link->pump_offset_ms = thecal_sim_pump_now_ms (pump) - link->now_ms;
}

static inline bool
test_link_lost (TestLink *link, const uint8_t *frame)
{
  link->frames++;
  return link->drop_from > 0 && link->frames >= link->drop_from && (link->drop_type == 0 || frame[3] == link->drop_type);
}

/* Runs the programmer until idle. Time moves only to the programmer's deadlines. */
static inline void
test_link_run (TestLink *link)
{
  for (int i = 0; i < 100000 && thecal_programmer_busy (link->programmer); i++)
    {
      const uint8_t *frame;
      size_t length;
      bool sent = false;

      while ((frame = thecal_programmer_take_output (link->programmer, &length)) != NULL)
        {
          const uint8_t *answer;
          size_t answer_length;

          sent = true;
          if (test_link_lost (link, frame))
            continue;
          ck_assert (thecal_sim_pump_advance_to (link->pump, link->now_ms + link->pump_offset_ms, NULL));
          if (thecal_sim_pump_handle_frame (link->pump, frame, length, &answer, &answer_length)
              && !test_link_lost (link, answer))
            thecal_programmer_receive (link->programmer, link->now_ms, answer, answer_length);
        }
      if (!sent && thecal_programmer_busy (link->programmer))
        {
          int64_t deadline = thecal_programmer_deadline (link->programmer);

          ck_assert_msg (deadline != INT64_MAX, "the programmer waits for nothing");
          if (deadline > link->now_ms)
            link->now_ms = deadline;
          thecal_programmer_tick (link->programmer, link->now_ms);
        }
    }
  ck_assert_msg (!thecal_programmer_busy (link->programmer), "the programmer did not settle");
}

/* A programmer with the demo key of TEST_SERIAL and deterministic nonces. */
static inline void
test_programmer_init (ThecalProgrammer *programmer, uint64_t *seed)
{
  ThecalProgrammerConfig config;
  uint8_t key[THECAL_KEY_SIZE];

  memset (&config, 0, sizeof config);
  config.random = test_random;
  config.random_data = seed;
  ck_assert (thecal_programmer_init (programmer, &config));
  thecal_sim_pump_demo_key (TEST_SERIAL, key);
  thecal_programmer_set_key (programmer, key);
  ck_assert (thecal_programmer_set_expected_serial (programmer, TEST_SERIAL));
}
