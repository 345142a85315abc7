/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-engine-accuracy.c: the trumpet analysis (CLINICAL.md §5.1 scaled to mL/day). A fault-free
 * pump shows only the stroke quantisation; a pump with a known bias shows that bias.
 *
 * At 0.2 mL/day a 1 h window holds 33 or 34 strokes against 8 333.3 nL programmed (8 333 or 8 334
 * nL once the cumulative programmed volume is rounded to whole nL):
 *   33 strokes = 8 250 nL → −99.6 or −100.8 bp;  34 strokes = 8 500 nL → +200.0 or +200.4 bp.
 */
#include "config.h"

#include "engine-test-util.h"
#include "thecal-engine-accuracy.h"
#include "thecal-test.h"

static ThecalPumpModel model;
static ThecalAccuracyResult result;

static void
setup (void)
{
  model = thecal_test_tr_model (20);
  memset (&result, 0, sizeof result);
}

static ThecalEngine *
pump (int64_t rate_nl_per_day)
{
  ThecalEngine *engine = test_engine_new (&model);
  ThecalPrescription rx;

  test_rx_continuous_rate (&rx, CONC, rate_nl_per_day);
  test_set_rx (engine, &rx);
  return engine;
}

static void
analyse (ThecalEngine *engine)
{
  ThecalDoseError error;

  memset (&error, 0, sizeof error);
  if (!thecal_engine_accuracy (engine, NULL, &result, &error))
    ck_abort_msg ("accuracy: %s", error.message);
}

START_TEST (test_config)
{
  ThecalAccuracyConfig c;
  ThecalEngine *engine = pump (200000);
  ThecalDoseError error;

  thecal_accuracy_config_init (&c);
  ck_assert_int_eq (c.sample_ms, 15 * MINUTE);
  ck_assert_int_eq (c.startup_ms, 24 * HOUR);
  ck_assert_int_eq (c.analysis_ms, 48 * HOUR);
  ck_assert_int_eq (c.n_windows, 6);
  ck_assert_int_eq (c.window_ms[0], HOUR);
  ck_assert_int_eq (c.window_ms[5], 24 * HOUR);
  c.window_ms[2] = 4 * HOUR + 1; /* not a multiple of Δt */
  memset (&error, 0, sizeof error);
  ck_assert (!thecal_engine_accuracy (engine, &c, &result, &error));
  thecal_accuracy_config_init (&c);
  c.window_ms[5] = 49 * HOUR; /* longer than the analysis */
  ck_assert (!thecal_engine_accuracy (engine, &c, &result, NULL));
  thecal_accuracy_config_init (&c);
  c.sample_ms = MINUTE; /* 4 320 samples: too many */
  memset (&error, 0, sizeof error);
  ck_assert (!thecal_engine_accuracy (engine, &c, &result, &error));
  ck_assert_int_eq (error.code, THECAL_DOSE_ERROR_CAPACITY);
  thecal_accuracy_config_init (&c);
  c.n_windows = 0;
  ck_assert (!thecal_engine_accuracy (engine, &c, &result, NULL));
  free (engine);
}
END_TEST

START_TEST (test_fault_free)
{
  ThecalEngine *engine = pump (200000);

  analyse (engine);
  ck_assert_int_eq (result.n_samples, 96 + 192);
  /* 48 h at 0.2 mL/day: 1 600 strokes, exactly as programmed */
  ck_assert_int_eq (result.programmed_nl, 400000);
  ck_assert_int_eq (result.delivered_nl, 400000);
  ck_assert (result.has_mean);
  ck_assert_int_eq (result.mean_error_bp, 0);
  /* 1 h: the quantisation of 33 or 34 strokes */
  ck_assert_int_eq (result.windows[0].window_ms, HOUR);
  ck_assert_int_eq (result.windows[0].n_positions, 192 - 4 + 1);
  ck_assert_int_eq (result.windows[0].max_bp, 200);
  ck_assert_int_eq (result.windows[0].min_bp, -101);
  /* the trumpet narrows as the window grows; at 24 h it is closed */
  for (int w = 1; w < result.n_windows; w++)
    {
      ck_assert_int_le (result.windows[w].max_bp, result.windows[w - 1].max_bp);
      ck_assert_int_ge (result.windows[w].min_bp, result.windows[w - 1].min_bp);
    }
  ck_assert_int_eq (result.windows[5].max_bp, 0);
  ck_assert_int_eq (result.windows[5].min_bp, 0);
  ck_assert_int_eq (result.windows[5].n_positions, 192 - 96 + 1);
  free (engine);
}
END_TEST

START_TEST (test_known_bias_shows)
{
  ThecalEngine *engine = pump (200000);

  test_fault (engine, THECAL_FAULT_FLOW_BIAS, 2000, 0, 0); /* +20 % */
  analyse (engine);
  ck_assert_int_eq (result.mean_error_bp, 2000);
  ck_assert_int_eq (result.delivered_nl, 480000);
  ck_assert_int_eq (result.windows[5].max_bp, 2000);
  ck_assert_int_eq (result.windows[5].min_bp, 2000);
  /* 1 h: 33 × 300 = 9 900 nL → +1 879 bp (against 8 334); 34 × 300 = 10 200 → +2 240 bp */
  ck_assert_int_eq (result.windows[0].max_bp, 2240);
  ck_assert_int_eq (result.windows[0].min_bp, 1879);
  free (engine);
  /* and an under-infusing pump shows its bias too */
  engine = pump (200000);
  test_fault (engine, THECAL_FAULT_FLOW_BIAS, -1000, 0, 0);
  analyse (engine);
  ck_assert_int_eq (result.mean_error_bp, -1000);
  free (engine);
}
END_TEST

/* The flex prescription of test_flex_with_boluses: 0.4 mL/day 06:00–18:00, 0.1 mL/day 18:00–06:00,
 * 1 mg (40 µL) over 30 min at 12:00: 290 000 nL = 1 160 strokes a day. */
static void
flex_rx (ThecalPrescription *rx)
{
  thecal_prescription_init (rx);
  strcpy (rx->drug_id, "morphine");
  rx->concentration_ng_per_ml = CONC;
  rx->mode = THECAL_MODE_FLEX;
  rx->n_flex_steps = 2;
  rx->flex_steps[0] = (ThecalFlexStep){ 360, 720, { THECAL_BASIS_RATE, 0, 400000 } };
  rx->flex_steps[1] = (ThecalFlexStep){ 1080, 720, { THECAL_BASIS_RATE, 0, 100000 } };
  rx->n_periodic_boluses = 1;
  rx->periodic_boluses[0] = (ThecalPeriodicBolus){ 720, MG, 30 * MINUTE };
}

/* Issue 3: "a pump with a known bias must show that bias". For every bias the engine accepts
 * (−50 % to +100 %), on a continuous and on a flex prescription with a periodic bolus:
 *  - A, the error over T2, is the bias: each stroke moves s × (10 000 + bias) / 10 000 nL,
 *    counted cumulatively (docs/engine.md "Reservoir"), and T2 holds whole programmed strokes
 *    (1 600 and 2 320), so A = bias to the rounding of R (m), at most ±1 bp;
 *  - every window brackets it: Ep(min) ≤ A ≤ Ep(max), because T2 (48 h) is a whole number of every
 *    window (1, 2, 4, 6, 12 and 24 h) and A is the programmed-volume-weighted mean of the errors of
 *    those back-to-back windows, each of which is a position (each rounded by ±0.5 bp);
 *  - on the continuous prescription a window of 6 h or more holds a whole number of strokes
 *    (200 at 6 h), so Ep(max) = Ep(min) = the bias. */
START_TEST (test_bias_shows_at_every_window)
{
  static const int64_t biases_bp[] = { -5000, -1000, -1, 1, 700, 1450, 2000, 3333, 10000 };

  for (int flex = 0; flex <= 1; flex++)
    for (size_t i = 0; i < sizeof biases_bp / sizeof biases_bp[0]; i++)
      {
        int64_t bias = biases_bp[i];
        ThecalEngine *engine = test_engine_new (&model);
        ThecalPrescription rx;

        if (flex)
          flex_rx (&rx);
        else
          test_rx_continuous_rate (&rx, CONC, 200000);
        test_set_rx (engine, &rx);
        test_fault (engine, THECAL_FAULT_FLOW_BIAS, bias, T0, 0);
        analyse (engine);
        ck_assert_int_eq (result.programmed_nl, flex ? 580000 : 400000);
        ck_assert_msg (result.mean_error_bp >= bias - 1 && result.mean_error_bp <= bias + 1,
                       "bias %lld bp (flex %d): A = %lld bp", (long long) bias, flex, (long long) result.mean_error_bp);
        for (int w = 0; w < result.n_windows; w++)
          {
            ck_assert_int_gt (result.windows[w].n_positions, 0);
            ck_assert_msg (result.windows[w].min_bp <= result.mean_error_bp + 1
                               && result.windows[w].max_bp >= result.mean_error_bp - 1,
                           "bias %lld bp (flex %d), window %d: [%lld, %lld] does not bracket A = %lld", (long long) bias,
                           flex, w, (long long) result.windows[w].min_bp, (long long) result.windows[w].max_bp,
                           (long long) result.mean_error_bp);
            if (!flex && result.windows[w].window_ms >= 6 * HOUR)
              {
                ck_assert_int_eq (result.windows[w].max_bp, bias);
                ck_assert_int_eq (result.windows[w].min_bp, bias);
              }
          }
        free (engine);
      }
}
END_TEST

/* A bias under per-stroke noise still shows: the noise is zero-mean, so A stays near the bias
 * (1 mL/day: 8 000 strokes over T2 with ±50 nL uniform noise, a standard deviation of about
 * 2 600 nL against 2 mL, 13 bp), and the same seed gives the same figures. */
START_TEST (test_bias_shows_under_noise)
{
  ThecalAccuracyResult first;

  for (int run = 0; run < 2; run++)
    {
      ThecalEngine *engine = test_engine_new (&model);
      ThecalPrescription rx;

      test_rx_continuous_rate (&rx, CONC, 1000000);
      test_set_rx (engine, &rx);
      test_fault (engine, THECAL_FAULT_FLOW_BIAS, 1000, T0, 0);
      test_fault (engine, THECAL_FAULT_STROKE_NOISE, 50, T0, 0);
      analyse (engine);
      ck_assert_int_ge (result.mean_error_bp, 1000 - 60);
      ck_assert_int_le (result.mean_error_bp, 1000 + 60);
      ck_assert_int_ge (result.windows[5].min_bp, 1000 - 60);
      ck_assert_int_le (result.windows[5].max_bp, 1000 + 60);
      if (run == 0)
        first = result;
      else
        {
          /* the same seed: the same figures, sample by sample (compared field by field: the
           * struct's padding is not part of the result) */
          ck_assert_int_eq (first.mean_error_bp, result.mean_error_bp);
          ck_assert_int_eq (first.n_samples, result.n_samples);
          ck_assert (memcmp (first.sample_delivered_nl, result.sample_delivered_nl,
                             sizeof result.sample_delivered_nl[0] * (size_t) result.n_samples)
                     == 0);
          ck_assert (memcmp (first.windows, result.windows, sizeof result.windows) == 0);
        }
      free (engine);
    }
}
END_TEST

START_TEST (test_noise_widens_the_trumpet)
{
  ThecalEngine *engine = pump (1000000); /* 1 mL/day: 4 000 strokes a day */

  test_fault (engine, THECAL_FAULT_STROKE_NOISE, 125, 0, 0);
  analyse (engine);
  /* zero-mean noise of ±50 % a stroke: the mean stays near 0, narrow windows spread */
  ck_assert_int_lt (result.mean_error_bp, 100);
  ck_assert_int_gt (result.mean_error_bp, -100);
  ck_assert_int_gt (result.windows[0].max_bp - result.windows[0].min_bp,
                    result.windows[5].max_bp - result.windows[5].min_bp);
  free (engine);
}
END_TEST

START_TEST (test_clock_drift_counts)
{
  ThecalEngine *engine = pump (200000);

  test_fault (engine, THECAL_FAULT_CLOCK_DRIFT, 1000, 0, 0); /* the pump runs 0.1 % fast */
  analyse (engine);
  /* 48 h × 1.001: 1 601.6 strokes' worth, 1 601 or 1 602 made: +6 or +12 bp */
  ck_assert_int_ge (result.mean_error_bp, 6);
  ck_assert_int_le (result.mean_error_bp, 13);
  free (engine);
}
END_TEST

START_TEST (test_stall_in_analysis)
{
  ThecalEngine *engine = pump (200000);

  test_fault (engine, THECAL_FAULT_MOTOR_STALL, 0, T0 + 40 * HOUR, 4 * HOUR);
  analyse (engine);
  ck_assert_int_eq (result.windows[0].min_bp, -10000); /* an hour with nothing */
  ck_assert_int_eq (result.windows[1].min_bp, -10000);
  ck_assert_int_lt (result.mean_error_bp, -700); /* 4 h of 48 lost: −833 bp, give or take a stroke */
  ck_assert_int_gt (result.mean_error_bp, -900);
  free (engine);
}
END_TEST

START_TEST (test_flex_with_boluses)
{
  ThecalEngine *engine = test_engine_new (&model);
  ThecalPrescription rx;

  flex_rx (&rx);
  test_set_rx (engine, &rx);
  analyse (engine);
  /* the programmed reference follows the schedule: a fault-free pump is within quantisation */
  ck_assert_int_eq (result.mean_error_bp, 0);
  ck_assert_int_eq (result.windows[5].max_bp, 0);
  ck_assert_int_eq (result.windows[5].min_bp, 0);
  free (engine);
}
END_TEST

START_TEST (test_stopped_pump)
{
  ThecalEngine *engine = test_engine_new (&model);

  analyse (engine);
  ck_assert (!result.has_mean);
  ck_assert_int_eq (result.programmed_nl, 0);
  for (int w = 0; w < result.n_windows; w++)
    ck_assert_int_eq (result.windows[w].n_positions, 0);
  free (engine);
}
END_TEST

static Suite *
accuracy_suite (void)
{
  Suite *s = suite_create ("engine-accuracy");
  TCase *tc = tcase_create ("accuracy");

  tcase_add_checked_fixture (tc, setup, NULL);
  tcase_add_test (tc, test_config);
  tcase_add_test (tc, test_fault_free);
  tcase_add_test (tc, test_known_bias_shows);
  tcase_add_test (tc, test_bias_shows_at_every_window);
  tcase_add_test (tc, test_bias_shows_under_noise);
  tcase_add_test (tc, test_noise_widens_the_trumpet);
  tcase_add_test (tc, test_clock_drift_counts);
  tcase_add_test (tc, test_stall_in_analysis);
  tcase_add_test (tc, test_flex_with_boluses);
  tcase_add_test (tc, test_stopped_pump);
  suite_add_tcase (s, tc);
  return s;
}

THECAL_TEST_MAIN (accuracy_suite)
