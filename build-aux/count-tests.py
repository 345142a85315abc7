#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Counts the tests of one or more Meson testlog.json files and prints one line,
"N passed, N failed" (", N skipped" when any were skipped). Each failure is named on stderr
first, so that the end of a long CI log says what failed.

A TAP test (every Check binary) counts each "ok"/"not ok" line; a TAP test that crashed or
timed out before finishing its plan adds one failure of its own. Any other test counts once by
its result. Exits 1 when anything failed or nothing ran at all.
"""
import json
import re
import sys

TAP_LINE = re.compile(r"^(not ok|ok)\b(.*)$")


def count(paths):
    passed = failed = skipped = 0
    for path in paths:
        with open(path, encoding="utf-8") as log:
            for line in log:
                if not line.strip():
                    continue
                test = json.loads(line)
                result = test.get("result", "")
                tap_pass = tap_fail = tap_skip = 0
                for out in (test.get("stdout") or "").splitlines():
                    m = TAP_LINE.match(out.strip())
                    if not m:
                        continue
                    rest = m.group(2)
                    if "# SKIP" in rest.upper():
                        tap_skip += 1
                    elif m.group(1) == "ok":
                        tap_pass += 1
                    else:
                        tap_fail += 1
                        print(f"failed in {path}: {test.get('name')}: {out.strip()}", file=sys.stderr)
                if tap_pass or tap_fail or tap_skip:
                    passed += tap_pass
                    failed += tap_fail
                    skipped += tap_skip
                    if result not in ("OK", "EXPECTEDFAIL", "SKIP") and tap_fail == 0:
                        failed += 1  # crashed, timed out or broke its plan
                        print(f"failed in {path}: {test.get('name')} ({result})", file=sys.stderr)
                elif result in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif result == "SKIP":
                    skipped += 1
                else:
                    failed += 1
                    print(f"failed in {path}: {test.get('name')} ({result})", file=sys.stderr)
    return passed, failed, skipped


def main():
    passed, failed, skipped = count(sys.argv[1:])
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
