/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-test-units.h: short names for the integer units of src/dose in its tests (no floating
 * point in the tests of the dose core either): MG (5) is 5 mg in ng, 10 * MIN is 10 min in ms.
 */
#pragma once

#include "thecal-units.h"

#define D THECAL_MS_PER_DAY
#define H THECAL_MS_PER_HOUR
#define MIN THECAL_MS_PER_MINUTE
#define MG_PER_ML(x) ((int64_t) (x) *1000000) /* ng/mL */
#define MG(x) ((int64_t) (x) *1000000)        /* ng */
#define MCG(x) ((int64_t) (x) *1000)          /* ng */
#define ML(x) ((int64_t) (x) *1000000)        /* nL */
