#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# tests/app/with-xvfb.sh COMMAND [ARG…]: runs COMMAND with DISPLAY set to an Xvfb of its own and
# exits with COMMAND's status. Xvfb picks a free display number itself (-displayfd) and writes it
# once it accepts connections, so parallel runs never race for a number (xvfb-run -a does: two
# runs once chose the same display and one failed with "cannot open display").
set -u

dir=$(mktemp -d) || exit 99
mkfifo "$dir/display" || exit 99
# -noreset: each Check test runs in a child of its own, so the last client leaves between tests;
# a server that resets then refuses the next test's connection for a moment ("cannot open display")
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp -noreset 3>"$dir/display" 2>"$dir/xvfb.log" &
xvfb=$!
# the number arrives when the server is ready; a server that dies closes the pipe empty
read -r number <"$dir/display" || number=
if [ -z "$number" ]; then
  echo "with-xvfb.sh: Xvfb did not start:" >&2
  cat "$dir/xvfb.log" >&2
  kill "$xvfb" 2>/dev/null
  rm -rf "$dir"
  exit 99
fi
DISPLAY=":$number"
export DISPLAY
"$@"
status=$?
kill "$xvfb" 2>/dev/null
wait "$xvfb" 2>/dev/null
rm -rf "$dir"
exit "$status"
