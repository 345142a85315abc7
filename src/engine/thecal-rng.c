/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-rng.c: splitmix64 and xoshiro256** (public-domain reference algorithms by Sebastiano
 * Vigna, https://prng.di.unimi.it/), written from their published definitions.
 */
#include "config.h"

#include "thecal-rng.h"

__extension__ typedef unsigned __int128 UWide;

uint64_t
thecal_splitmix64_next (uint64_t *state)
{
  uint64_t z = (*state += UINT64_C (0x9e3779b97f4a7c15));

  z = (z ^ (z >> 30)) * UINT64_C (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

void
thecal_rng_seed (ThecalRng *rng, uint64_t seed)
{
  uint64_t state = seed;

  for (int i = 0; i < 4; i++)
    rng->s[i] = thecal_splitmix64_next (&state);
}

static uint64_t
rotl (uint64_t x, int k)
{
  return (x << k) | (x >> (64 - k));
}

uint64_t
thecal_rng_next (ThecalRng *rng)
{
  uint64_t *s = rng->s;
  uint64_t result = rotl (s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;

  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 45);
  return result;
}

uint64_t
thecal_rng_below (ThecalRng *rng, uint64_t bound)
{
  UWide m;
  uint64_t low;

  if (bound == 0)
    return 0;
  /* Lemire, "Fast random integer generation in an interval" (2019): the high word of x × bound
   * is uniform once the few low words below (2^64 mod bound) are rejected. */
  m = (UWide) thecal_rng_next (rng) * bound;
  low = (uint64_t) m;
  if (low < bound)
    {
      uint64_t threshold = (0 - bound) % bound;

      while (low < threshold)
        {
          m = (UWide) thecal_rng_next (rng) * bound;
          low = (uint64_t) m;
        }
    }
  return (uint64_t) (m >> 64);
}

int64_t
thecal_rng_range (ThecalRng *rng, int64_t lo, int64_t hi)
{
  uint64_t span;

  if (hi <= lo)
    return lo;
  span = (uint64_t) hi - (uint64_t) lo; /* hi − lo fits in uint64_t even for the full range */
  if (span == UINT64_MAX)
    return (int64_t) ((uint64_t) lo + thecal_rng_next (rng));
  return (int64_t) ((uint64_t) lo + thecal_rng_below (rng, span + 1));
}
