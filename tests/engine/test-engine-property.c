/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-engine-property.c: the fault-free engine against the dose core's refill maths over 10 000
 * seeded random prescriptions (every mode, flex steps, periodic boluses, PTM settings), fills,
 * PTM press patterns and clinician boluses (docs/engine.md "Agreement with the dose core").
 *
 * Compared, for each case, with the dose core computing independently from the prescription:
 *  1. the reservoir: the engine's estimate at the end T equals
 *       fill − Σ thecal_delivery_plan_volume_between (each span the prescription ran)
 *            − the boluses the pump logged (PTM, clinician: BOLUS_END volumes, plus the strokes
 *              of one still running at T)
 *     within one stroke (250 nL). The basal is the only difference: the engine makes whole
 *     strokes (floor of the exact demand, the fraction carried), the dose core rounds the exact
 *     basal volume once per span; periodic boluses agree exactly (the same floor (n × e / D)).
 *     When the reservoir emptied first, the comparison is made at the empty instant (the
 *     estimate no longer moves after it).
 *  2. the low-reservoir and empty instants t (first raise): the dose core's remaining volume
 *     crosses the threshold at t within one stroke: remaining (t) ≤ threshold + stroke and
 *     remaining (t − 1) > threshold − stroke (checked when no PTM or clinician bolus runs across
 *     t, so that the logged volumes are whole).
 *  3. thecal_project_reservoir: its instants count every bolus at its start and the basal
 *     exactly, so they are the earliest possible: the engine's instants are never earlier (with
 *     PTM use the worst-case instants, every allowed activation front-loaded at midnight). With
 *     no bolus of any kind and a threshold a whole number of strokes below the fill, they are
 *     the same millisecond.
 */
#include "config.h"

#include "engine-test-util.h"
#include "thecal-refill.h"
#include "thecal-test.h"

#include <stdio.h>

#define CASES 10000
#define STROKE 250
#define PRESSES_MAX 40

static ThecalPumpModel models[2];

typedef struct
{
  int64_t cases;
  int64_t with_flex;
  int64_t with_periodic;
  int64_t with_ptm_granted;
  int64_t with_ptm_refused;
  int64_t with_clinician;
  int64_t emptied;
  int64_t low_raised;
  int64_t instant_checks;
  int64_t exact_low;
  int64_t exact_empty;
  int64_t projection_checks;
  int64_t max_diff;
  int64_t rejected;
} Stats;

static int64_t
rnd (ThecalRng *rng, int64_t lo, int64_t hi)
{
  return thecal_rng_range (rng, lo, hi);
}

static int64_t
pick_conc (ThecalRng *rng)
{
  static const int64_t labeled[] = { 1 * MG, 10 * MG, 25 * MG, 500000, 2 * MG, 2000000 };

  if (rnd (rng, 0, 3) == 0)
    return rnd (rng, 100000, 50 * MG);
  return labeled[rnd (rng, 0, 5)];
}

static void
pick_amount (ThecalRng *rng, int64_t conc, ThecalDailyAmount *amount)
{
  int64_t rate = rnd (rng, 48, 3000) * 1000;

  if (rnd (rng, 0, 1) == 0)
    {
      amount->basis = THECAL_BASIS_RATE;
      amount->rate_nl_per_day = rate + (rnd (rng, 0, 3) == 0 ? rnd (rng, -499, 499) : 0);
    }
  else
    {
      amount->basis = THECAL_BASIS_DOSE;
      amount->dose_ng_per_day = (int64_t) ((__int128) rate * conc / ML) + rnd (rng, 0, 999);
    }
}

/* a bolus of @strokes with a duration no faster than 24 mL/day (≥ 900 ms a stroke) */
static int64_t
bolus_dose (int64_t conc, int64_t strokes)
{
  return (int64_t) ((__int128) strokes * STROKE * conc / ML);
}

static void
random_prescription (ThecalRng *rng, ThecalPrescription *rx)
{
  int64_t conc = pick_conc (rng);
  int64_t kind = rnd (rng, 0, 19);

  thecal_prescription_init (rx);
  strcpy (rx->drug_id, "morphine");
  rx->concentration_ng_per_ml = conc;
  if (kind < 8)
    {
      rx->mode = THECAL_MODE_CONTINUOUS;
      pick_amount (rng, conc, &rx->continuous);
    }
  else if (kind < 17)
    {
      int32_t minutes[THECAL_FLEX_STEPS_MAX];
      int32_t n = (int32_t) rnd (rng, 1, THECAL_FLEX_STEPS_MAX);

      rx->mode = THECAL_MODE_FLEX;
      /* n distinct minutes in ascending order */
      for (int32_t i = 0; i < n;)
        {
          int32_t m = (int32_t) rnd (rng, 0, 1439);
          bool seen = false;

          for (int32_t j = 0; j < i; j++)
            seen = seen || minutes[j] == m;
          if (!seen)
            minutes[i++] = m;
        }
      for (int32_t i = 1; i < n; i++)
        for (int32_t j = i; j > 0 && minutes[j - 1] > minutes[j]; j--)
          {
            int32_t t = minutes[j];

            minutes[j] = minutes[j - 1];
            minutes[j - 1] = t;
          }
      rx->n_flex_steps = n;
      for (int32_t i = 0; i < n; i++)
        {
          rx->flex_steps[i].start_min = minutes[i];
          rx->flex_steps[i].duration_min = (i + 1 < n ? minutes[i + 1] : minutes[0] + 1440) - minutes[i];
          pick_amount (rng, conc, &rx->flex_steps[i].amount);
        }
    }
  else if (kind < 19)
    rx->mode = THECAL_MODE_MINIMUM_RATE;
  else
    {
      rx->mode = THECAL_MODE_STOPPED;
      return;
    }

  /* periodic boluses: distinct starts, each shorter than the gap to the next */
  {
    int32_t n = (int32_t) rnd (rng, 0, 3), starts[3];

    for (int32_t i = 0; i < n;)
      {
        int32_t m = (int32_t) rnd (rng, 0, 1439);
        bool seen = false;

        for (int32_t j = 0; j < i; j++)
          seen = seen || starts[j] == m;
        if (!seen)
          starts[i++] = m;
      }
    for (int32_t i = 1; i < n; i++)
      for (int32_t j = i; j > 0 && starts[j - 1] > starts[j]; j--)
        {
          int32_t t = starts[j];

          starts[j] = starts[j - 1];
          starts[j - 1] = t;
        }
    rx->n_periodic_boluses = n;
    for (int32_t i = 0; i < n; i++)
      {
        int64_t gap = ((i + 1 < n ? starts[i + 1] : starts[0] + 1440) - starts[i]) * MINUTE;
        int64_t strokes = rnd (rng, 1, 300);
        int64_t d_min = strokes * 900 > MINUTE ? strokes * 900 : MINUTE;
        int64_t d_max = gap < 3 * HOUR ? gap : 3 * HOUR;

        rx->periodic_boluses[i].start_min = starts[i];
        rx->periodic_boluses[i].duration_ms = rnd (rng, d_min, d_max > d_min ? d_max : d_min);
        rx->periodic_boluses[i].dose_ng = bolus_dose (conc, strokes);
      }
  }

  if (rnd (rng, 0, 1) == 0)
    {
      int64_t strokes = rnd (rng, 1, 120);
      int64_t duration = rnd (rng, strokes * 900 > MINUTE ? strokes * 900 : MINUTE, 2 * HOUR);
      int64_t lockout = rnd (rng, duration, rnd (rng, 0, 3) == 0 ? DAY : 6 * HOUR);
      int64_t most = DAY / lockout < 96 ? DAY / lockout : 96;

      rx->ptm.enabled = true;
      rx->ptm.dose_ng = bolus_dose (conc, strokes);
      rx->ptm.duration_ms = duration;
      rx->ptm.lockout_ms = lockout;
      rx->ptm.max_per_24h = (int32_t) rnd (rng, 1, most);
    }
}

/* What the pump logged: bolus intervals [start, end] and volumes, from the ring. */
typedef struct
{
  int64_t start_ms;
  int64_t end_ms;
  int64_t volume_nl;
  int32_t source;
} Logged;

static int32_t
logged_boluses (const ThecalEngine *engine, Logged *out, int32_t max)
{
  int32_t n = 0;
  int64_t open_start[THECAL_SOURCE_N_SOURCES];

  for (int i = 0; i < THECAL_SOURCE_N_SOURCES; i++)
    open_start[i] = INT64_MIN;
  for (int64_t seq = thecal_engine_log_oldest_seq (engine); seq < thecal_engine_log_next_seq (engine); seq++)
    {
      ThecalEngineEvent event;

      ck_assert (thecal_engine_log_get (engine, seq, &event));
      ck_assert_int_eq (event.seq, seq);
      if (event.code == THECAL_SOURCE_PERIODIC || event.code == THECAL_SOURCE_BASAL)
        continue;
      if (event.type == THECAL_EVENT_BOLUS_START && (event.code == THECAL_SOURCE_PTM || event.code == THECAL_SOURCE_CLINICIAN))
        open_start[event.code] = event.pump_ms;
      else if (event.type == THECAL_EVENT_BOLUS_END
               && (event.code == THECAL_SOURCE_PTM || event.code == THECAL_SOURCE_CLINICIAN))
        {
          ck_assert_int_lt (n, max);
          out[n].start_ms = open_start[event.code];
          out[n].end_ms = event.pump_ms;
          out[n].volume_nl = event.args[0];
          out[n].source = event.code;
          open_start[event.code] = INT64_MIN;
          n++;
        }
    }
  return n;
}

typedef struct
{
  const ThecalDeliveryPlan *plan;
  int64_t fill_nl;
  int64_t t0;
  int64_t suspend_from; /* a clinician bolus: the plan did not run in [from, to) */
  int64_t suspend_to;
  const Logged *logged;
  int32_t n_logged;
} Core;

/* The dose core's remaining volume at @t: fill − programmed delivery − logged boluses ended by t. */
static int64_t
core_remaining (const Core *core, int64_t t)
{
  ThecalDoseError error;
  int64_t used = 0, v;

  memset (&error, 0, sizeof error);
  if (core->suspend_from == INT64_MAX)
    {
      if (!thecal_delivery_plan_volume_between (core->plan, core->t0, t, &v, &error))
        ck_abort_msg ("volume_between: %s", error.message);
      used = v;
    }
  else
    {
      int64_t a = t < core->suspend_from ? t : core->suspend_from;

      if (!thecal_delivery_plan_volume_between (core->plan, core->t0, a, &v, &error))
        ck_abort_msg ("volume_between: %s", error.message);
      used = v;
      if (t > core->suspend_to)
        {
          if (!thecal_delivery_plan_volume_between (core->plan, core->suspend_to, t, &v, &error))
            ck_abort_msg ("volume_between: %s", error.message);
          used += v;
        }
    }
  for (int32_t i = 0; i < core->n_logged; i++)
    if (core->logged[i].end_ms <= t)
      used += core->logged[i].volume_nl;
  return core->fill_nl - used;
}

static bool
bolus_across (const Core *core, int64_t t)
{
  for (int32_t i = 0; i < core->n_logged; i++)
    if (core->logged[i].start_ms < t && core->logged[i].end_ms >= t - 1)
      return true;
  return false;
}

static void
check_instant (const Core *core, int64_t t, int64_t threshold, Stats *stats)
{
  if (bolus_across (core, t))
    return;
  stats->instant_checks++;
  ck_assert_msg (core_remaining (core, t) <= threshold + STROKE, "dose core at the engine's instant: %lld > %lld",
                 (long long) core_remaining (core, t), (long long) (threshold + STROKE));
  ck_assert_msg (core_remaining (core, t - 1) >= threshold - STROKE, "dose core one ms before: %lld < %lld",
                 (long long) core_remaining (core, t - 1), (long long) (threshold - STROKE));
}

static bool
run_case (ThecalEngine *engine, ThecalRng *rng, Stats *stats)
{
  const ThecalPumpModel *model = &models[rnd (rng, 0, 1)];
  ThecalPrescription rx;
  ThecalDeliveryPlan plan;
  ThecalProjection projection;
  ThecalEngineConfig config;
  ThecalDoseError error;
  ThecalEngineStatus st;
  Logged logged[PRESSES_MAX + 8];
  int64_t presses[PRESSES_MAX];
  int32_t n_presses, n_logged;
  int64_t t0, horizon, fill, clinician_at = INT64_MAX, end, remaining, diff, partial = 0;
  Core core;
  bool periodic, ptm_used = false, clinician = false;
  int64_t low_at, empty_at;

  random_prescription (rng, &rx);
  memset (&error, 0, sizeof error);
  if (!thecal_delivery_plan_resolve (&rx, model, &plan, &error))
    return false;
  fill = rnd (rng, 0, 3) == 0 ? rnd (rng, model->empty_nl, model->reservoir_capacity_nl)
                              : (model->reservoir_capacity_nl - rnd (rng, 0, 40) * STROKE);
  t0 = T0 + rnd (rng, 0, DAY - 1);
  horizon = rnd (rng, 0, 2) == 0 ? rnd (rng, HOUR, 3 * DAY) : rnd (rng, DAY, 60 * DAY);

  thecal_engine_config_init (&config);
  config.model = model;
  config.start_local_ms = t0;
  config.reservoir_nl = fill;
  config.drug_id = "morphine";
  config.concentration_ng_per_ml = rx.concentration_ng_per_ml > 0 ? rx.concentration_ng_per_ml : 1;
  config.path_primed = true;
  config.seed = (uint64_t) stats->cases;
  ck_assert (thecal_engine_init (engine, &config, NULL));
  if (!thecal_engine_set_prescription (engine, &rx, &error))
    {
      ck_assert_int_eq (error.code, THECAL_DOSE_ERROR_RANGE); /* a rate outside the range: redraw */
      return false;
    }

  /* presses at random instants, some inside the lockout */
  n_presses = rx.ptm.enabled ? (int32_t) rnd (rng, 0, PRESSES_MAX) : (int32_t) rnd (rng, 0, 2);
  for (int32_t i = 0; i < n_presses; i++)
    presses[i] = t0 + rnd (rng, 0, horizon - 1);
  for (int32_t i = 1; i < n_presses; i++)
    for (int32_t j = i; j > 0 && presses[j - 1] > presses[j]; j--)
      {
        int64_t t = presses[j];

        presses[j] = presses[j - 1];
        presses[j - 1] = t;
      }
  if (rx.concentration_ng_per_ml > 0 && horizon > 2 * DAY && rnd (rng, 0, 4) == 0)
    clinician_at = t0 + rnd (rng, 0, horizon - 2 * DAY);

  end = t0 + horizon;
  for (int32_t i = 0; i <= n_presses; i++)
    {
      int64_t next = i < n_presses ? presses[i] : end;

      if (clinician_at <= next)
        {
          int64_t strokes = rnd (rng, 1, 300);

          test_advance (engine, clinician_at);
          if (thecal_engine_start_clinician_bolus (engine, bolus_dose (rx.concentration_ng_per_ml, strokes),
                                                   rnd (rng, strokes * 900 > MINUTE ? strokes * 900 : MINUTE, 6 * HOUR),
                                                   NULL))
            clinician = true;
          clinician_at = INT64_MAX;
        }
      test_advance (engine, next);
      if (i < n_presses)
        {
          ThecalPtmOutcome outcome;

          ck_assert (thecal_engine_ptm_request (engine, &outcome, NULL));
          if (outcome == THECAL_PTM_GRANTED)
            ptm_used = true;
        }
    }
  thecal_engine_get_status (engine, &st);

  /* bookkeeping the engine keeps with itself (fault-free: what moved is what was pumped) */
  ck_assert_int_eq (st.pumped_nl, st.strokes_total * STROKE);
  ck_assert_int_eq (st.reservoir_estimate_nl, fill - st.pumped_nl);
  ck_assert_int_eq (st.reservoir_actual_nl, fill - st.moved_nl);
  ck_assert_int_eq (st.moved_nl, st.pumped_nl);
  ck_assert_int_eq (st.delivered_nl, st.moved_nl);

  n_logged = logged_boluses (engine, logged, PRESSES_MAX + 8);
  memset (&core, 0, sizeof core);
  core.plan = &plan;
  core.fill_nl = fill;
  core.t0 = t0;
  core.suspend_from = INT64_MAX;
  core.suspend_to = INT64_MAX;
  core.logged = logged;
  core.n_logged = n_logged;
  for (int32_t i = 0; i < n_logged; i++)
    {
      if (logged[i].source == THECAL_SOURCE_CLINICIAN)
        {
          core.suspend_from = logged[i].start_ms;
          core.suspend_to = logged[i].end_ms;
        }
      else if (logged[i].volume_nl == plan.ptm.volume_nl)
        ck_assert (logged[i].end_ms - logged[i].start_ms == plan.ptm.duration_ms); /* whole PTM boluses */
    }
  if (clinician && core.suspend_from == INT64_MAX)
    {
      /* still running at the end: suspended from its start to the end */
      ThecalEngineEvent event;

      ck_assert (test_last_event (engine, THECAL_EVENT_BOLUS_START, THECAL_SOURCE_CLINICIAN, &event));
      core.suspend_from = event.pump_ms;
      core.suspend_to = INT64_MAX;
    }
  if (st.ptm_active)
    partial += st.ptm_done_nl;
  if (st.bolus_active)
    partial += st.bolus_done_nl;

  low_at = st.alarms[THECAL_ALARM_LOW_RESERVOIR].count > 0 ? st.alarms[THECAL_ALARM_LOW_RESERVOIR].raised_at_pump_ms
                                                           : INT64_MAX;
  empty_at = st.alarms[THECAL_ALARM_RESERVOIR_EMPTY].count > 0
                 ? st.alarms[THECAL_ALARM_RESERVOIR_EMPTY].raised_at_pump_ms
                 : INT64_MAX;

  /* 1. the reservoir, at the end or at the empty instant */
  remaining = core_remaining (&core, empty_at < end ? empty_at : end) - partial;
  diff = st.reservoir_estimate_nl - remaining;
  if (diff < 0)
    diff = -diff;
  if (diff > stats->max_diff)
    stats->max_diff = diff;
  ck_assert_msg (diff <= STROKE, "case %lld: engine %lld vs dose core %lld (mode %d)", (long long) stats->cases,
                 (long long) st.reservoir_estimate_nl, (long long) remaining, (int) rx.mode);

  /* 2. the alarm instants */
  if (low_at != INT64_MAX && low_at > t0)
    {
      stats->low_raised++;
      check_instant (&core, low_at, model->low_reservoir_alarm_nl, stats);
    }
  if (empty_at != INT64_MAX && empty_at > t0)
    {
      stats->emptied++;
      check_instant (&core, empty_at, model->empty_nl, stats);
    }

  /* 3. the dose core's projection */
  periodic = plan.n_boluses > 0;
  memset (&error, 0, sizeof error);
  if (!clinician)
    {
      if (!thecal_project_reservoir (model, &plan, fill, t0, 0, &projection, &error))
        ck_abort_msg ("projection: %s", error.message);
      stats->projection_checks++;
      if (low_at != INT64_MAX)
        ck_assert_int_ge (low_at, ptm_used ? projection.low_alarm_worst_local_ms : projection.low_alarm_local_ms);
      if (empty_at != INT64_MAX)
        ck_assert_int_ge (empty_at, ptm_used ? projection.empty_worst_local_ms : projection.empty_local_ms);
      if (!periodic && !ptm_used)
        {
          if (low_at != INT64_MAX && low_at > t0 && (fill - model->low_reservoir_alarm_nl) % STROKE == 0)
            {
              ck_assert_int_eq (low_at, projection.low_alarm_local_ms);
              stats->exact_low++;
            }
          if (empty_at != INT64_MAX && empty_at > t0 && (fill - model->empty_nl) % STROKE == 0)
            {
              ck_assert_int_eq (empty_at, projection.empty_local_ms);
              stats->exact_empty++;
            }
        }
    }

  stats->with_flex += rx.mode == THECAL_MODE_FLEX;
  stats->with_periodic += periodic;
  stats->with_ptm_granted += st.ptm_granted_total > 0;
  stats->with_ptm_refused += st.ptm_refused_total > 0;
  stats->with_clinician += clinician;
  return true;
}

START_TEST (test_engine_agrees_with_dose_core)
{
  ThecalEngine *engine = calloc (1, sizeof *engine);
  ThecalRng rng;
  Stats stats;

  models[0] = thecal_test_tr_model (20);
  models[1] = thecal_test_tr_model (40);
  memset (&stats, 0, sizeof stats);
  thecal_rng_seed (&rng, 20261101);
  while (stats.cases < CASES)
    {
      if (run_case (engine, &rng, &stats))
        stats.cases++;
      else
        stats.rejected++;
      ck_assert_int_lt (stats.rejected, 10 * CASES);
    }
  printf ("# %lld cases (%lld redrawn): flex %lld, periodic %lld, PTM granted %lld / refused %lld, clinician %lld,\n"
          "# low raised %lld, emptied %lld, instant checks %lld, projection checks %lld (exact low %lld, exact empty %lld),\n"
          "# largest difference %lld nL\n",
          (long long) stats.cases, (long long) stats.rejected, (long long) stats.with_flex, (long long) stats.with_periodic,
          (long long) stats.with_ptm_granted, (long long) stats.with_ptm_refused, (long long) stats.with_clinician,
          (long long) stats.low_raised, (long long) stats.emptied, (long long) stats.instant_checks,
          (long long) stats.projection_checks, (long long) stats.exact_low, (long long) stats.exact_empty,
          (long long) stats.max_diff);
  /* the random cases really cover what they claim to */
  ck_assert_int_gt (stats.with_flex, 3000);
  ck_assert_int_gt (stats.with_periodic, 3000);
  ck_assert_int_gt (stats.with_ptm_granted, 2000);
  ck_assert_int_gt (stats.with_ptm_refused, 1000);
  ck_assert_int_gt (stats.with_clinician, 500);
  ck_assert_int_gt (stats.low_raised, 500);
  ck_assert_int_gt (stats.emptied, 300);
  ck_assert_int_gt (stats.exact_low, 50);
  ck_assert_int_gt (stats.exact_empty, 30);
  ck_assert_int_le (stats.max_diff, STROKE);
  free (engine);
}
END_TEST

static Suite *
property_suite (void)
{
  Suite *s = suite_create ("engine-property");
  TCase *tc = tcase_create ("property");

  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_engine_agrees_with_dose_core);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (property_suite)
