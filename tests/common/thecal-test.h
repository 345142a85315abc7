/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * thecal-test.h: the one main () of every Check test binary.
 *
 * srunner_run_all (sr, CK_ENV) with CK_TAP_LOG_FILE_NAME=- and CK_VERBOSITY=silent (set by
 * tests/meson.build) makes Check print TAP, so Meson counts every check by name (TESTING.md).
 * Fork mode (the default) isolates each check: a crash or sanitizer report fails that check only.
 */
#pragma once

#include <check.h>
#include <stdlib.h>

#define THECAL_TEST_MAIN(suite_function)                  \
  int                                                     \
  main (void)                                             \
  {                                                       \
    SRunner *runner = srunner_create (suite_function ()); \
    int failed;                                           \
                                                          \
    srunner_run_all (runner, CK_ENV);                     \
    failed = srunner_ntests_failed (runner);              \
    srunner_free (runner);                                \
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;     \
  }
