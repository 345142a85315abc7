/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-rng.h: the engine's small, seeded, integer-only pseudo-random generator.
 *
 * xoshiro256** (Blackman and Vigna, 2018) seeded through splitmix64, so any 64-bit seed, 0
 * included, gives a good state. Same seed, same sequence, on every platform: the faults of the
 * reference pump (per-stroke noise) are reproducible by seed (DESIGN.md "The reference pump").
 * Not for cryptography.
 */
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C"
{
#endif

  typedef struct
  {
    uint64_t s[4];
  } ThecalRng;

  /* One splitmix64 step: advances *@state and returns the next output. */
  uint64_t thecal_splitmix64_next (uint64_t *state);

  /* Seeds @rng from @seed: the four words are four splitmix64 outputs of @seed. */
  void thecal_rng_seed (ThecalRng *rng, uint64_t seed);

  /* The next 64 uniformly distributed bits. */
  uint64_t thecal_rng_next (ThecalRng *rng);

  /* Uniform in 0 .. @bound − 1 without modulo bias (Lemire's multiply-and-reject);
   * @bound 0 returns 0. */
  uint64_t thecal_rng_below (ThecalRng *rng, uint64_t bound);

  /* Uniform in @lo .. @hi inclusive; returns @lo when @hi ≤ @lo. */
  int64_t thecal_rng_range (ThecalRng *rng, int64_t lo, int64_t hi);

#ifdef __cplusplus
}
#endif
