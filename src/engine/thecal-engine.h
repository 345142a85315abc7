/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-engine.h: the reference pump-delivery engine (DESIGN.md "The reference pump").
 *
 * One implanted pump of a model from data/pump-models.json: reservoir (the pump's estimate and
 * the actual volume), the fluid in the internal and catheter volumes, the active prescription,
 * boluses, PTM lockout and 24 h counters, battery, clock, alarms, faults and an event log.
 * docs/engine.md gives every formula; the short version:
 *
 * - Time. The engine keeps an internal monotonic clock (the pump's oscillator, "clock ms") and
 *   the pump clock = clock ms + an offset that only a clock set changes. Schedules follow the pump
 *   clock (pump-local ms: multiples of 86 400 000 are pump-local midnights); durations, lockouts
 *   and the battery follow the oscillator. The caller advances the engine with the *true* local
 *   time; a clock-drift fault maps true time to oscillator time:
 *     clock = clock_at_sync + (true − true_at_sync) × (1 000 000 + ppm) / 1 000 000  (rule rounding)
 * - Delivery in strokes. Basal: strokes = floor (demand / (stroke × 86 400 000)) where the demand
 *   is Σ rate (nL/day) × ms, carried exactly. A bolus of n strokes over D has made
 *   floor (n × elapsed / D) strokes, the rule of thecal_delivery_plan_volume_between.
 * - Event-driven: between events the state advances in closed form; threshold crossings are
 *   solved arithmetically. Cost grows with schedule changes, boluses and alarms, not with strokes
 *   or seconds (except for per-stroke noise and stroke-level output, which need each stroke).
 *
 * Pure C17 like src/dose: no GLib, no heap, no I/O, no threads, no floating point. The caller owns
 * the ThecalEngine (about 250 KiB, the event ring is inside it); its fields are private: read them
 * through thecal_engine_get_status () and the log functions. Errors are ThecalDoseError (one
 * sentence naming the field, the value and the limit).
 */
#pragma once

#include "thecal-bolus.h"
#include "thecal-prescription.h"
#include "thecal-rng.h"

#ifdef __cplusplus
extern "C"
{
#endif

#define THECAL_ENGINE_LOG_CAPACITY 4096           /* event ring entries: the oldest are overwritten */
#define THECAL_ENGINE_PARCELS_MAX 32              /* fluid parcels in the dead space */
#define THECAL_ENGINE_DRUGS_MAX 8                 /* drug slots; slot 0 is non-drug fluid */
#define THECAL_ENGINE_PTM_HISTORY_MAX 96          /* PTM grants remembered: the dose core's maximum per 24 h */
#define THECAL_ENGINE_NOISE_MAX_DIVISOR 2         /* per-stroke noise at most stroke / 2 */
#define THECAL_ENGINE_BIAS_MIN_BP INT64_C (-5000) /* systematic flow error: −50 % ... */
#define THECAL_ENGINE_BIAS_MAX_BP INT64_C (10000) /* ... +100 % */
#define THECAL_ENGINE_DRIFT_MAX_PPM INT64_C (100000)
#define THECAL_ENGINE_DRAIN_MAX_BP INT64_C (1000000) /* battery drain at most 100 × nominal */

/* Battery model (docs/engine.md "Battery"): energy units drained per ms at any time and per nL
 * of nominal stroke volume, calibrated so that EOS comes after service_life_days at 0 mL/day and
 * after 5 years (1 825 days) at 1 mL/day:
 *   per ms = 9 125, per nL = 432 × (service_life_days − 1 825) (0 when the life is ≤ 5 years),
 *   capacity = 9 125 × 86 400 000 × service_life_days. */
#define THECAL_ENGINE_BATTERY_PER_MS INT64_C (9125)
#define THECAL_ENGINE_BATTERY_NL_FACTOR INT64_C (432)
#define THECAL_ENGINE_BATTERY_REFERENCE_DAYS INT64_C (1825)

  typedef enum
  {
    THECAL_ALARM_LOW_RESERVOIR = 0, /* non-critical: the *estimate* reached the low-reservoir volume */
    THECAL_ALARM_RESERVOIR_EMPTY,   /* critical: the *actual* volume reached the empty volume */
    THECAL_ALARM_ERI,               /* non-critical: elective replacement indicator */
    THECAL_ALARM_EOS,               /* critical: end of service, delivery stopped for good */
    THECAL_ALARM_MOTOR_STALL,       /* critical: the motor stopped */
    THECAL_ALARM_MEMORY_ERROR,      /* critical: delivery stopped until reprogrammed */
    THECAL_ALARM_N_KINDS
  } ThecalAlarmKind;

  /* Where a stroke came from. The basal source comes first so that the bolus kinds follow. */
  typedef enum
  {
    THECAL_SOURCE_BASAL = 0,
    THECAL_SOURCE_PERIODIC,  /* a periodic bolus of the prescription */
    THECAL_SOURCE_PTM,       /* a patient (PTM) bolus */
    THECAL_SOURCE_CLINICIAN, /* a clinician bolus: suspends basal and periodic delivery */
    THECAL_SOURCE_PRIMING,   /* a priming phase: suspends basal and periodic delivery */
    THECAL_SOURCE_BRIDGE,    /* a bridge phase: suspends basal and periodic delivery */
    THECAL_SOURCE_N_SOURCES
  } ThecalSource;

  typedef enum
  {
    THECAL_PTM_GRANTED = 0,
    THECAL_PTM_REFUSED_DISABLED,          /* PTM not enabled in the prescription */
    THECAL_PTM_REFUSED_LOCKOUT,           /* less than the lockout since the last granted start */
    THECAL_PTM_REFUSED_DAILY_MAX,         /* max_per_24h granted in the preceding 24 h */
    THECAL_PTM_REFUSED_RESERVOIR_EMPTY,   /* the reservoir is empty */
    THECAL_PTM_REFUSED_NOT_DELIVERING,    /* stopped, stalled or memory error */
    THECAL_PTM_REFUSED_BOLUS_IN_PROGRESS, /* a clinician, priming or bridge bolus is running */
    THECAL_PTM_N_OUTCOMES
  } ThecalPtmOutcome;

  typedef enum
  {
    THECAL_FAULT_FLOW_BIAS = 0, /* value: systematic flow error in bp (+2000 = 20 % over-infusion) */
    THECAL_FAULT_STROKE_NOISE,  /* value: ± nL per stroke, uniform, 0 .. stroke / 2 */
    THECAL_FAULT_MOTOR_STALL,   /* at_pump_ms; duration_ms (0: permanent) */
    THECAL_FAULT_OCCLUSION,     /* at_pump_ms; duration_ms (0: permanent) */
    THECAL_FAULT_BATTERY_DRAIN, /* value: drain in bp of nominal (20000 = twice as fast) */
    THECAL_FAULT_CLOCK_DRIFT,   /* value: ppm, signed (+100 = the pump clock gains 8.64 s a day) */
    THECAL_FAULT_MEMORY_ERROR,  /* at_pump_ms */
    THECAL_FAULT_N_KINDS
  } ThecalFaultKind;

  typedef enum
  {
    THECAL_EVENT_ENGINE_START = 0,   /* args: reservoir volume nL, dead space nL, battery bp */
    THECAL_EVENT_PRESCRIPTION_SET,   /* code: ThecalMode; args: basal nL/day, periodic nL/day, concentration */
    THECAL_EVENT_BOLUS_START,        /* code: ThecalSource; args: planned nL, duration ms, index */
    THECAL_EVENT_BOLUS_END,          /* code: ThecalSource; args: delivered nL (nominal), planned nL, 1 completed / 0 stopped */
    THECAL_EVENT_PTM_GRANTED,        /* args: volume nL, grants in the last 24 h (this one included), duration ms */
    THECAL_EVENT_PTM_REFUSED,        /* code: ThecalPtmOutcome; args: ms until allowed (−1 unknown), grants in 24 h */
    THECAL_EVENT_ALARM_RAISED,       /* code: ThecalAlarmKind; args: estimate nL, actual nL, battery bp */
    THECAL_EVENT_ALARM_CLEARED,      /* code: ThecalAlarmKind */
    THECAL_EVENT_ALARM_ACKNOWLEDGED, /* code: ThecalAlarmKind */
    THECAL_EVENT_RESERVOIR_SET,      /* code: drug slot; args: volume nL, concentration ng/mL, actual nL */
    THECAL_EVENT_CLOCK_SET,          /* args: old pump ms, new pump ms */
    THECAL_EVENT_FAULT_INJECTED,     /* code: ThecalFaultKind; args: value, at pump ms, duration ms */
    THECAL_EVENT_MOTOR_RESTARTED,    /* a transient stall ended */
    THECAL_EVENT_N_TYPES
  } ThecalEngineEventType;

  /* One log entry: 48 bytes, no padding. */
  typedef struct
  {
    int64_t seq;     /* strictly increasing from 1 */
    int64_t pump_ms; /* pump-local ms when it happened */
    int32_t type;    /* ThecalEngineEventType */
    int32_t code;    /* see the type */
    int64_t args[3];
  } ThecalEngineEvent;

  /* What the caller reads for each stroke instant when stroke-level output is on. */
  typedef struct
  {
    int64_t pump_ms;
    int64_t strokes[THECAL_SOURCE_N_SOURCES]; /* strokes made at this ms, by source */
    int64_t nominal_nl;                       /* strokes × stroke volume */
    int64_t moved_nl;                         /* actual volume that left the reservoir (0 if occluded) */
    int64_t tip_ng;                           /* drug that left the catheter tip */
  } ThecalEngineStroke;

  typedef void (*ThecalEngineStrokeFunc) (void *user_data, const ThecalEngineStroke *stroke);

  /* ---- private state (read it through the functions below) ----------------------------------- */

  typedef struct
  {
    int64_t volume_nl;
    int64_t concentration_ng_per_ml;
    int32_t drug; /* slot */
    int32_t reserved;
  } ThecalEngineParcel;

  typedef struct
  {
    char id[THECAL_ID_MAX]; /* "" for slot 0, non-drug fluid */
    int64_t delivered_nl;   /* out of the catheter tip */
    int64_t delivered_ng;   /* floor (Σ volume × concentration / 10^6) */
    int64_t delivered_rem;  /* the remainder, in nL·ng/mL (0 .. 999 999) */
  } ThecalEngineDrug;

  typedef struct
  {
    int64_t start_clock_ms;
    int64_t duration_ms;
    int64_t strokes; /* planned */
    int64_t done;    /* made so far */
    int32_t source;  /* ThecalSource */
    int32_t active;
    int64_t index; /* phase or periodic index, for the log */
  } ThecalEngineBolus;

  typedef struct
  {
    int32_t condition;    /* the cause is present now */
    int32_t raised;       /* indicated (critical: latched until acknowledged) */
    int32_t acknowledged; /* the current raise was acknowledged */
    int32_t reserved;
    int64_t raised_at_pump_ms; /* last raise */
    int64_t count;             /* raises so far */
  } ThecalEngineAlarmState;

  typedef struct
  {
    int32_t n_segments;
    int32_t n_boluses;
    int64_t seg_start_ms[THECAL_DAY_SEGMENTS_MAX + 1]; /* seg_start_ms[n_segments] = 86 400 000 */
    int64_t seg_rate_nl_per_day[THECAL_DAY_SEGMENTS_MAX];
    int64_t seg_prefix[THECAL_DAY_SEGMENTS_MAX + 1]; /* Σ rate × ms from midnight (nL/day × ms) */
    int64_t bolus_start_ms[THECAL_PERIODIC_BOLUSES_MAX];
    int64_t bolus_duration_ms[THECAL_PERIODIC_BOLUSES_MAX];
    int64_t bolus_strokes[THECAL_PERIODIC_BOLUSES_MAX];
    int64_t stroke_volume_nl;
  } ThecalEngineSchedule;

  typedef struct
  {
    /* model and physical constants */
    ThecalPumpModel model;
    int64_t dead_space_nl;
    int64_t stroke_day; /* stroke × 86 400 000: one stroke of basal demand */
    int64_t battery_capacity;
    int64_t battery_per_nl;

    /* time */
    int64_t clock_ms;       /* oscillator ms, monotonic */
    int64_t pump_offset_ms; /* pump-local ms = clock ms + offset */
    int64_t true_ms;        /* the caller's true local time at the last advance */
    int64_t sync_true_ms;
    int64_t sync_clock_ms;
    int64_t drift_ppm;

    /* prescription */
    ThecalPrescription rx;
    ThecalDeliveryPlan plan;
    ThecalEngineSchedule sched;
    int64_t daily_nominal_nl; /* basal + periodic per day of the prescription (0 when stopped) */

    /* regime: the span since the last change of what delivers */
    int32_t basal_on;
    int32_t periodic_on;
    int64_t regime_pump_ms;                                   /* pump time at the regime start */
    int64_t basal_carry;                                      /* demand carried into the regime, 0 ≤ carry < stroke_day */
    int64_t basal_done;                                       /* basal strokes of this regime */
    int64_t periodic_origin[THECAL_PERIODIC_BOLUSES_MAX];     /* per bolus count at the regime start */
    int64_t periodic_done;                                    /* periodic strokes of this regime */
    int64_t periodic_open_count[THECAL_PERIODIC_BOLUSES_MAX]; /* per bolus count at its logged start */
    int32_t periodic_open_mask;                               /* bit i: occurrence of bolus i logged open */
    int32_t regime_reserved;
    int64_t periodic_next_edge_clock_ms; /* INT64_MAX when none */

    /* boluses */
    ThecalEngineBolus exclusive; /* clinician, priming or bridge */
    ThecalEngineBolus ptm_bolus;
    int32_t n_phases; /* phases still queued after the running one */
    int32_t next_phase;
    ThecalEngineBolus phases[THECAL_BOLUS_PHASES_MAX];

    /* PTM grants (oscillator ms), oldest first */
    int32_t ptm_n_grants;
    int32_t ptm_reserved;
    int64_t ptm_grants[THECAL_ENGINE_PTM_HISTORY_MAX];

    /* reservoir */
    int64_t reservoir_set_nl; /* volume entered at the last set: the estimate starts here */
    int64_t estimate_strokes; /* nominal strokes since the set */
    int64_t actual_nl;        /* what is really in the reservoir */
    int64_t moved_strokes;    /* strokes that moved fluid since the bias last changed */
    int64_t reservoir_concentration_ng_per_ml;
    int32_t reservoir_drug; /* slot */
    int32_t occluded;

    /* fluid path: parcels[0] is at the catheter tip */
    int32_t n_drugs;
    int32_t n_parcels;
    ThecalEngineDrug drugs[THECAL_ENGINE_DRUGS_MAX];
    ThecalEngineParcel parcels[THECAL_ENGINE_PARCELS_MAX];

    /* counters */
    int64_t strokes_total;
    int64_t nominal_nl[THECAL_SOURCE_N_SOURCES];
    int64_t moved_nl;
    int64_t tip_nl;
    int64_t ptm_granted_total;
    int64_t ptm_refused_total;

    /* battery */
    int64_t battery_remaining;
    int64_t battery_carry; /* 0 .. 9 999: the drain multiplier's remainder */
    int64_t battery_clock_ms;
    int64_t drain_bp;
    int64_t eri_threshold;

    /* faults */
    int64_t bias_bp;
    int64_t noise_nl;
    int64_t stall_at_clock_ms; /* INT64_MAX: none pending */
    int64_t stall_duration_ms;
    int64_t stall_end_clock_ms;    /* INT64_MAX: permanent or none */
    int64_t occlusion_at_clock_ms; /* INT64_MAX: none pending */
    int64_t occlusion_duration_ms;
    int64_t occlusion_end_clock_ms;   /* INT64_MAX: permanent or none */
    int64_t memory_error_at_clock_ms; /* INT64_MAX: none pending */
    int32_t stalled;
    int32_t memory_error;
    int32_t eos;
    int32_t reserved;
    ThecalRng rng;

    /* alarms */
    ThecalEngineAlarmState alarms[THECAL_ALARM_N_KINDS];

    /* stroke-level output */
    ThecalEngineStrokeFunc stroke_func;
    void *stroke_data;

    /* event ring */
    int64_t log_next_seq;
    int64_t log_count;
    ThecalEngineEvent log[THECAL_ENGINE_LOG_CAPACITY];
  } ThecalEngine;

  /* ---- set-up --------------------------------------------------------------------------------- */

  typedef struct
  {
    const ThecalPumpModel *model; /* copied */
    ThecalCatheter catheter;      /* dead space = internal volume + length × volume per cm */
    uint64_t seed;                /* for the per-stroke noise */
    int64_t start_local_ms;       /* true local time at start = the pump clock at start */
    int64_t battery_bp;           /* battery left at start, 1 .. 10 000 (10 000 = new) */
    int64_t reservoir_nl;         /* reservoir at start (0: empty) */
    const char *drug_id;          /* its drug ("" or NULL: non-drug fluid) */
    int64_t concentration_ng_per_ml;
    bool path_primed; /* the dead space already holds the reservoir's fluid; otherwise
                         non-drug fluid (a new implant, before the priming bolus) */
  } ThecalEngineConfig;

  /* Defaults: no model, 0 catheter, seed 0, start 0, battery new, empty reservoir, not primed. */
  void thecal_engine_config_init (ThecalEngineConfig *config);

  /* Starts a pump in the stopped mode. Fails when the model or the configuration is out of range. */
  bool thecal_engine_init (ThecalEngine *engine, const ThecalEngineConfig *config, ThecalDoseError *error);

  /* ---- time ------------------------------------------------------------------------------------ */

  /* Runs the pump up to @true_local_ms (not before the last time). */
  bool thecal_engine_advance_to (ThecalEngine *engine, int64_t true_local_ms, ThecalDoseError *error);

  /* The pump clock now, and the pump clock an instant of true time maps to (or will map to, at the
   * current drift). */
  int64_t thecal_engine_pump_ms (const ThecalEngine *engine);
  int64_t thecal_engine_true_ms (const ThecalEngine *engine);

  /* The earliest true time at which the pump clock reads at least @pump_ms (at the current drift
   * and offset); the current true time when @pump_ms is already past. */
  int64_t thecal_engine_true_for_pump_ms (const ThecalEngine *engine, int64_t pump_ms);

  /* ---- commands (each at the current time; each fails with a clear error) -------------------- */

  /* Resolves @rx through the dose core and switches delivery to it at once. Refuses what the model
   * cannot do: a basal rate outside the programmable range, a bolus faster than the bolus ceiling.
   * Refused while a clinician, priming or bridge bolus runs (cancel it first) and after EOS. */
  bool thecal_engine_set_prescription (ThecalEngine *engine, const ThecalPrescription *rx, ThecalDoseError *error);

  /* A refill: the reservoir now holds @volume_nl of @drug_id at @concentration. The pump's estimate
   * restarts from @volume_nl. @actual_nl ≥ 0 sets a different actual volume (e.g. a partial pocket
   * fill); −1: the actual volume is @volume_nl. */
  bool thecal_engine_set_reservoir (ThecalEngine *engine,
                                    int64_t volume_nl,
                                    const char *drug_id,
                                    int64_t concentration_ng_per_ml,
                                    int64_t actual_nl,
                                    ThecalDoseError *error);

  /* A clinician bolus of @dose_ng over @duration_ms at the prescription's concentration, rounded to
   * whole strokes by the rule: basal and periodic delivery are suspended for its duration, then the
   * prescription resumes. */
  bool thecal_engine_start_clinician_bolus (ThecalEngine *engine,
                                            int64_t dose_ng,
                                            int64_t duration_ms,
                                            ThecalDoseError *error);

  /* Runs the PRIMING and BRIDGE phases of @plan (thecal-bolus.h) one after the other, each as a
   * bolus of its volume over its duration that suspends basal and periodic delivery; the
   * prescription (set beforehand) resumes after the last phase. */
  bool thecal_engine_start_phase_bolus (ThecalEngine *engine, const ThecalBolusPlan *plan, ThecalDoseError *error);

  /* Stops a running clinician, priming or bridge bolus (and the phases after it). */
  bool thecal_engine_cancel_bolus (ThecalEngine *engine, ThecalDoseError *error);

  /* A PTM request now: granted or refused (the reason in *@outcome); logged either way. Fails (not
   * a refusal) only after EOS, when the pump cannot answer. */
  bool thecal_engine_ptm_request (ThecalEngine *engine, ThecalPtmOutcome *outcome, ThecalDoseError *error);

  /* The earliest pump time at which a PTM request would pass the lockout and the 24 h maximum
   * (INT64_MAX when PTM is not enabled); other reasons may still refuse it. */
  int64_t thecal_engine_ptm_next_allowed_pump_ms (const ThecalEngine *engine);

  /* Acknowledges a raised alarm. Fails when @alarm is not raised or already acknowledged. */
  bool thecal_engine_acknowledge (ThecalEngine *engine, ThecalAlarmKind alarm, ThecalDoseError *error);

  /* Sets the pump clock to @pump_local_ms now (a clock sync): schedules follow the new clock; the
   * drift mapping restarts from here. Logged with the old and the new time. */
  bool thecal_engine_set_clock (ThecalEngine *engine, int64_t pump_local_ms, ThecalDoseError *error);

  typedef struct
  {
    ThecalFaultKind kind;
    int32_t reserved;
    int64_t value;       /* bias bp, noise nL, drain bp, drift ppm */
    int64_t at_pump_ms;  /* stall, occlusion, memory error: when (≥ now) */
    int64_t duration_ms; /* stall, occlusion: 0 permanent */
  } ThecalEngineFault;

  /* Sets a fault (replacing the one of the same kind that has not started yet). Logged. */
  bool thecal_engine_inject_fault (ThecalEngine *engine, const ThecalEngineFault *fault, ThecalDoseError *error);

  /* Stroke-level output: @func is called for every instant at which the motor strokes (NULL turns
   * it off). The cost then grows with the number of strokes. @func runs inside the advance: it
   * must not call the engine's commands. */
  void thecal_engine_set_stroke_func (ThecalEngine *engine, ThecalEngineStrokeFunc func, void *user_data);

  /* ---- reading --------------------------------------------------------------------------------- */

  typedef struct
  {
    bool condition;
    bool raised;
    bool acknowledged;
    bool critical;
    int64_t raised_at_pump_ms; /* INT64_MIN: never */
    int64_t count;
  } ThecalAlarmStatus;

  typedef struct
  {
    int64_t pump_ms;
    int64_t true_ms;
    ThecalMode mode;
    bool delivering;   /* basal or periodic delivery of the prescription runs now */
    bool bolus_active; /* clinician, priming or bridge */
    ThecalSource bolus_source;
    int64_t bolus_planned_nl;
    int64_t bolus_done_nl;
    bool ptm_active;
    int64_t ptm_done_nl;

    int64_t reservoir_estimate_nl; /* the pump's estimate: may go below 0 */
    int64_t reservoir_actual_nl;
    int64_t reservoir_set_nl;
    char reservoir_drug_id[THECAL_ID_MAX];
    int64_t reservoir_concentration_ng_per_ml;
    int64_t dead_space_nl;
    char tip_drug_id[THECAL_ID_MAX]; /* the fluid at the catheter tip now */
    int64_t tip_concentration_ng_per_ml;

    int64_t strokes_total;
    int64_t nominal_nl[THECAL_SOURCE_N_SOURCES]; /* strokes × stroke volume, by source */
    int64_t pumped_nl;                           /* Σ of the above */
    int64_t moved_nl;                            /* actual volume drawn from the reservoir */
    int64_t delivered_nl;                        /* fluid out of the catheter tip */
    int64_t delivered_ng;                        /* drug out of the catheter tip, every drug */

    int64_t ptm_granted_total;
    int64_t ptm_refused_total;
    int32_t ptm_grants_24h;
    int64_t ptm_next_allowed_pump_ms;

    int64_t battery_remaining;
    int64_t battery_capacity;
    int64_t battery_bp;            /* remaining, basis points of a new battery (rounded down) */
    int64_t battery_drain_per_day; /* at the current prescription and drain fault */
    int64_t battery_days_left;     /* remaining / drain per day (rounded down) */
    bool eri;
    bool eos;

    int64_t bias_bp;
    int64_t noise_nl;
    int64_t drain_bp;
    int64_t drift_ppm;
    bool stalled;
    bool occluded;
    bool memory_error;

    ThecalAlarmStatus alarms[THECAL_ALARM_N_KINDS];

    int64_t log_oldest_seq; /* oldest entry still in the ring */
    int64_t log_next_seq;   /* the seq the next entry will get */
  } ThecalEngineStatus;

  void thecal_engine_get_status (const ThecalEngine *engine, ThecalEngineStatus *status);

  /* Drug out of the catheter tip for one drug id ("" for non-drug fluid): false if unknown. */
  bool thecal_engine_delivered_drug (const ThecalEngine *engine,
                                     const char *drug_id,
                                     int64_t *delivered_nl,
                                     int64_t *delivered_ng);

  /* The drug id of drug slot @slot (the code of a RESERVOIR_SET event): "" is non-drug fluid; NULL
   * when there is no such slot. */
  const char *thecal_engine_drug_id (const ThecalEngine *engine, int32_t slot);

  /* The fluid path from the catheter tip inward: parcel @index (0 at the tip), false past the end. */
  bool thecal_engine_path_parcel (const ThecalEngine *engine,
                                  int32_t index,
                                  int64_t *volume_nl,
                                  const char **drug_id,
                                  int64_t *concentration_ng_per_ml);

  /* ---- event log --------------------------------------------------------------------------------- */

  int64_t thecal_engine_log_oldest_seq (const ThecalEngine *engine); /* == next when empty */
  int64_t thecal_engine_log_next_seq (const ThecalEngine *engine);

  /* The entry with @seq, if still in the ring. */
  bool thecal_engine_log_get (const ThecalEngine *engine, int64_t seq, ThecalEngineEvent *event);

  /* ---- names ------------------------------------------------------------------------------------ */

  const char *thecal_alarm_kind_name (ThecalAlarmKind kind); /* "low_reservoir" */
  bool thecal_alarm_kind_is_critical (ThecalAlarmKind kind);
  bool thecal_alarm_kind_from_name (const char *name, ThecalAlarmKind *kind);
  const char *thecal_source_name (ThecalSource source);           /* "basal", "ptm" ... */
  const char *thecal_ptm_outcome_name (ThecalPtmOutcome outcome); /* "granted", "lockout" ... */
  const char *thecal_fault_kind_name (ThecalFaultKind kind);      /* "flow_bias" ... */
  bool thecal_fault_kind_from_name (const char *name, ThecalFaultKind *kind);
  const char *thecal_engine_event_type_name (ThecalEngineEventType type); /* "bolus_start" ... */

#ifdef __cplusplus
}
#endif
