/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-test-random.h: the deterministic random numbers of the property tests (integers only,
 * no floating point): a failing seed replays exactly, on every platform.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* One step of a 64-bit linear congruential generator (Knuth's MMIX constants); returns the new
 * state. Its high bits are its best bits. */
static inline uint64_t
thecal_test_lcg_next (uint64_t *state)
{
  *state = *state * UINT64_C (6364136223846793005) + UINT64_C (1442695040888963407);
  return *state;
}

/* The 31 high bits of the next state. */
static inline uint32_t
thecal_test_lcg_bits (uint64_t *state)
{
  return (uint32_t) (thecal_test_lcg_next (state) >> 33);
}

/* A value in 0..n-1 for n > 0: 62 random bits modulo n, uniform enough while n is far below 2^62. */
static inline int64_t
thecal_test_rnd_below (uint64_t *state, int64_t n)
{
  uint64_t high = thecal_test_lcg_bits (state);
  uint64_t low = thecal_test_lcg_bits (state);

  return (int64_t) ((high << 31 | low) % (uint64_t) n);
}

/* @n distinct values of 0..range-1 (n ≤ range) into @out, in ascending order: each is drawn
 * until it differs from those drawn before, then inserted in its place. */
static inline void
thecal_test_rnd_sorted_distinct (uint64_t *state, int32_t *out, int n, int32_t range)
{
  int k = 0;

  while (k < n)
    {
      int32_t v = (int32_t) thecal_test_rnd_below (state, range);
      int j = k;
      bool dup = false;

      for (int i = 0; i < k; i++)
        dup = dup || out[i] == v;
      if (dup)
        continue;
      while (j > 0 && out[j - 1] > v)
        {
          out[j] = out[j - 1];
          j--;
        }
      out[j] = v;
      k++;
    }
}
