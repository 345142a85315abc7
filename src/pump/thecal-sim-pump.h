/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-sim-pump.h: the simulated implant (DESIGN.md "Telemetry", docs/telemetry.md).
 *
 * A ThecalSimPump is the firmware of a virtual pump: the reference engine (src/engine) is its
 * hardware and its delivery, and the protocol's pump role (src/proto) is its radio. The
 * ThecalPumpOps of the role are implemented here on the engine, with the pump's OWN hard limits
 * checked before anything changes, whatever a programmer sends:
 *
 *   limit (ThecalPumpLimit)   refused when
 *   RATE_BELOW_MIN / _MAX     a continuous or flex basal rate (after rounding) is outside the
 *                             model's programmable range (0.048–24 mL/day for TR-20/TR-40)
 *   BOLUS_RATE                a periodic, PTM, clinician, priming or bridge bolus would run faster
 *                             than the model's bolus ceiling (1 mL/h)
 *   RESERVOIR_CAPACITY        a refill volume above the reservoir's capacity
 *   CONCENTRATION             a prescription whose concentration is not the reservoir's
 *   DRUG                      a prescription whose drug is not the one in the reservoir; a
 *                             SET_RESERVOIR of another drug or concentration under a delivering
 *                             prescription (a drug change is REFILL_COMMIT: the fill and the
 *                             prescription staged for it, set at one engine instant)
 *   VOLUME                    a bolus larger than what the pump estimates is in the reservoir
 *   CLOCK                     a clock outside 2000-01-01 .. 2100-01-01
 *   OTHER                     anything else the engine refuses (e.g. a PTM maximum above 96)
 * and BUSY while a clinician, priming or bridge bolus (which suspends the basal) runs: no
 * prescription, PTM change or second bolus until it ends or is cancelled; PUMP_FAULT after end of
 * service and, for boluses, while the motor is stalled or a memory error stopped the pump.
 *
 * Time. The caller owns the clock: thecal_sim_pump_advance_to (pump, true_ms) runs the pump up to
 * a true (pump-local) instant, at real speed or accelerated, as the caller likes;
 * thecal_sim_pump_handle_frame () handles one frame at the current instant. The role's session
 * timeout runs on the same true time (an accelerated demo shortens sessions in real time:
 * configure session_timeout_ms accordingly).
 *
 * Keys. A real pump's 256-bit key is paired with its clinic at implant and never derived. Demo
 * pumps (thecal-sim-pump-demo.h) derive theirs from the serial (thecal_sim_pump_demo_key) so the
 * demo and the tests need no key store: anybody who knows the serial knows a demo pump's key.
 *
 * Pure C17 like the engine: no GLib, no heap, no I/O, no threads, no floating point. The caller
 * owns the struct (about 800 KiB: two engines and the pump role; keep it off the stack).
 * Randomness: the pump's handshake nonces come from config.random, or from a splitmix64 stream of
 * the seed (reproducible demos and tests; a real pump uses a hardware random source).
 */
#pragma once

#include "thecal-engine.h"
#include "thecal-pump-role.h"

#ifdef __cplusplus
extern "C"
{
#endif

/* 2000-01-01T00:00 and 2100-01-01T00:00, pump-local ms: the clocks a pump accepts. */
#define THECAL_SIM_PUMP_CLOCK_MIN_MS INT64_C (946684800000)
#define THECAL_SIM_PUMP_CLOCK_MAX_MS INT64_C (4102444800000)

  typedef struct
  {
    const ThecalPumpModel *model;       /* copied; required */
    char serial[THECAL_PROTO_TEXT_MAX]; /* printable ASCII, 1..31 characters */
    uint8_t key[THECAL_KEY_SIZE];       /* the pairing key */
    ThecalCatheter catheter;            /* dead space = internal volume + catheter volume */
    uint64_t seed;                      /* the engine's per-stroke noise and the pump's nonces */
    int64_t start_local_ms;             /* the true time (= pump clock) at start */
    int64_t battery_bp;                 /* battery at start, 1..10 000; 0: new */
    int64_t reservoir_nl;               /* reservoir at start */
    char drug_id[THECAL_ID_MAX];        /* its drug ("" non-drug fluid) */
    int64_t concentration_ng_per_ml;
    bool path_primed;                /* the dead space already holds the reservoir's fluid */
    bool has_prescription;           /* run @prescription from the start (else stopped) */
    ThecalPrescription prescription; /* must pass the pump's own limits */
    int64_t session_timeout_ms;      /* ≤ 0: the protocol default (60 s) */
    ThecalRandomFunc random;         /* NULL: a splitmix64 stream of @seed */
    void *random_data;
  } ThecalSimPumpConfig;

  typedef struct
  {
    int64_t frames;            /* frames handled */
    int64_t answers;           /* answers produced */
    int64_t prescriptions_set; /* prescriptions applied (COMMIT, REFILL_COMMIT, SET_PTM) */
    int64_t refused_limit;     /* refusals REFUSED_BY_PUMP_LIMIT */
    int64_t refused_busy;      /* refusals BUSY */
    int64_t refused_fault;     /* refusals PUMP_FAULT */
    int64_t reservoir_sets;    /* SET_RESERVOIR and REFILL_COMMIT */
    int64_t boluses_started;
    int64_t clock_sets;
    int64_t alarms_acknowledged;
  } ThecalSimPumpStats;

  /* Caller-owned; fields are private: use the functions below. */
  typedef struct
  {
    ThecalPumpModel model;
    ThecalProtoIdentity identity;
    uint8_t key[THECAL_KEY_SIZE];
    uint64_t nonce_state;
    int64_t session_timeout_ms;
    ThecalPrescription active; /* what the engine runs: set only when the engine accepted it */
    ThecalSimPumpStats stats;
    ThecalEngine engine;
    ThecalEngine scratch; /* the trial copy: "would the engine run this?" without touching it */
    ThecalPumpRole role;
  } ThecalSimPump;

  /* The ops of the role, on a ThecalSimPump (ops_data). Tests call them directly too. */
  extern const ThecalPumpOps thecal_sim_pump_ops;

  /* Everything zero, battery new, no prescription, default session timeout. */
  void thecal_sim_pump_config_init (ThecalSimPumpConfig *config);

  /* Starts the pump: the engine at config->start_local_ms, the prescription (if any) set after the
   * pump's own limits passed, the role ready for frames. False with the reason (the engine's, or
   * the limit's) in @error. */
  bool thecal_sim_pump_init (ThecalSimPump *pump, const ThecalSimPumpConfig *config, ThecalDoseError *error);

  /* Runs the pump up to @true_local_ms; an instant at or before the current one changes nothing.
   * The role's session timeout is checked at the new instant too. */
  bool thecal_sim_pump_advance_to (ThecalSimPump *pump, int64_t true_local_ms, ThecalDoseError *error);

  /* The current true time (what advance_to reached) and the pump's own clock. */
  int64_t thecal_sim_pump_now_ms (const ThecalSimPump *pump);
  int64_t thecal_sim_pump_pump_ms (const ThecalSimPump *pump);

  /* One frame from the programmer (through a wand) at the current instant. True when there is an
   * answer: *@answer is valid until the next call on @pump. */
  bool thecal_sim_pump_handle_frame (ThecalSimPump *pump,
                                     const uint8_t *frame,
                                     size_t frame_length,
                                     const uint8_t **answer,
                                     size_t *answer_length);

  /* The active prescription (a stopped one when never programmed) and its checksum. */
  const ThecalPrescription *thecal_sim_pump_active (const ThecalSimPump *pump);
  bool thecal_sim_pump_active_checksum (const ThecalSimPump *pump, ThecalChecksum *checksum);

  const ThecalProtoIdentity *thecal_sim_pump_identity (const ThecalSimPump *pump);
  const ThecalPumpModel *thecal_sim_pump_model (const ThecalSimPump *pump);
  /* The pairing key (THECAL_KEY_SIZE bytes). */
  const uint8_t *thecal_sim_pump_key (const ThecalSimPump *pump);
  const ThecalEngine *thecal_sim_pump_engine (const ThecalSimPump *pump);
  ThecalPumpRole *thecal_sim_pump_role (ThecalSimPump *pump);
  const ThecalSimPumpStats *thecal_sim_pump_stats (const ThecalSimPump *pump);

  /* What happens to the implant outside telemetry: a fault (thecal_engine_inject_fault), a PTM
   * request by the patient, a reset that ends any session (its staged copy dies with it). */
  bool thecal_sim_pump_inject_fault (ThecalSimPump *pump, const ThecalEngineFault *fault, ThecalDoseError *error);
  bool thecal_sim_pump_ptm_request (ThecalSimPump *pump, ThecalPtmOutcome *outcome, ThecalDoseError *error);
  void thecal_sim_pump_end_session (ThecalSimPump *pump);

  /* ---- demo pumps: derived serials and keys (never for a real pump) ---------------------------- */

  /* The demo key of @serial: BLAKE2b-256 of "THECAL-DEMO-KEY-1" ‖ u8 length ‖ the serial. */
  void thecal_sim_pump_demo_key (const char *serial, uint8_t key[THECAL_KEY_SIZE]);

  /* A demo serial from a model id and a seed: "TR-20", 7 → "TR20-" and six digits of
   * splitmix64 (@seed) mod 1 000 000. False when the id does not fit. */
  bool thecal_sim_pump_demo_serial (const char *model_id, uint64_t seed, char serial[THECAL_PROTO_TEXT_MAX]);

#ifdef __cplusplus
}
#endif
