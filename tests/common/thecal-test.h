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

/* Adds to @suite the test case @name: the checked fixture @setup/@teardown (run in the forked
 * child of each check; both NULL: none), a timeout of @timeout_s seconds (0: CK_DEFAULT_TIMEOUT)
 * and the NULL-terminated @tests, in order. THECAL_TEST_TCASE lists the tests in place. */
static inline TCase *
thecal_test_add_tcase (Suite *suite,
                       const char *name,
                       SFun setup,
                       SFun teardown,
                       double timeout_s,
                       const TTest *const *tests)
{
  TCase *tc = tcase_create (name);

  if (setup != NULL || teardown != NULL)
    tcase_add_checked_fixture (tc, setup, teardown);
  if (timeout_s > 0)
    tcase_set_timeout (tc, timeout_s);
  for (; *tests != NULL; tests++)
    tcase_add_test (tc, *tests);
  suite_add_tcase (suite, tc);
  return tc;
}

#define THECAL_TEST_TCASE(suite, name, setup, teardown, timeout_s, ...) \
  thecal_test_add_tcase ((suite), (name), (setup), (teardown), (timeout_s), (const TTest *const[]){ __VA_ARGS__, NULL })

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
