# SPDX-License-Identifier: GPL-3.0-or-later
# build-aux/common.sh: shared by run-tests, run-demo and run-bench. Sourced, not run.
#
# Installs what is missing (Debian 12 / Ubuntu, apt), never what is already there, and uses
# sudo only when not root. Safe to run again and again.

THECAL_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Everything a build and every test suite needs. Later layers add to this list.
THECAL_PACKAGES=(
  build-essential
  pkg-config
  meson
  ninja-build
  gettext
  locales
  python3
  libglib2.0-dev
  libglib2.0-bin
  libcjson-dev
  check
  libsodium-dev
  libcairo2-dev
  # the USB wand (src/wand) and its emulation in the tests: libumockdev-preload.so comes from
  # "umockdev", not from the -dev package (TESTING.md)
  libusb-1.0-0-dev
  umockdev
  libumockdev-dev
  # the patient record (src/record); the sqlite3 shell tampers with records in the tests
  libsqlite3-dev
  sqlite3
)

# The GTK app (src/app, Meson option gui=auto): what it builds with. run-demo and run-tests both
# install them, so CI builds and tests the app (docs/gui.md).
THECAL_GUI_PACKAGES=(
  libgtk-4-dev
  libadwaita-1-dev
)

# What the app's tests need besides (run-tests): an X server of their own (Xvfb), a session bus
# and the accessibility bus for the AT-SPI test with Python's GObject bindings, fonts and icons
# to draw the screenshots, and the validators of the data/ suite.
THECAL_GUI_TEST_PACKAGES=(
  xvfb
  xauth
  dbus-daemon
  at-spi2-core
  python3-gi
  gir1.2-atspi-2.0
  fonts-dejavu-core
  adwaita-icon-theme
  desktop-file-utils
  appstream
  # the session report's PDF is read back by the history test (pdftotext, pdfinfo)
  poppler-utils
)

# Locales the locale tests switch to, to prove text in and out ignores the locale.
THECAL_TEST_LOCALES=(de_DE fr_FR)

# Each step says how long the script has run so far, so a slow CI run shows where the time went.
THECAL_STARTED=${THECAL_STARTED:-$(date +%s)}

# Every step, with the seconds since the start, also kept for thecal_say_timings.
THECAL_TIMINGS=()

thecal_say () {
  local elapsed=$(( $(date +%s) - THECAL_STARTED ))
  THECAL_TIMINGS+=("${elapsed}s $*")
  printf '\033[1m==> [%ss] %s\033[0m\n' "$elapsed" "$*" >&2
}

# Where the time went, in one block (for the end of a long CI log).
thecal_say_timings () {
  local line
  printf 'Timings (seconds since the start when each step began):\n' >&2
  for line in "${THECAL_TIMINGS[@]}"; do
    printf '  %s\n' "${line:0:120}" >&2
  done
}

thecal_as_root () {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "error: '$*' needs root and sudo is not installed; run this script as root." >&2
    return 1
  fi
}

thecal_missing_packages () {
  local pkg status
  for pkg in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    case "$status" in
      *"install ok installed"*) ;;
      *) printf '%s\n' "$pkg" ;;
    esac
  done
}

# thecal_ensure_packages [extra packages...]
thecal_ensure_packages () {
  local missing
  if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "warning: not a Debian-like system; install these yourself: ${THECAL_PACKAGES[*]} $*" >&2
    return 0
  fi
  mapfile -t missing < <(thecal_missing_packages "${THECAL_PACKAGES[@]}" "$@")
  if [ "${#missing[@]}" -eq 0 ]; then
    return 0
  fi
  thecal_say "Installing ${missing[*]}"
  local update_options=(-q -o Acquire::Languages=none)
  local install_options=(-y -q --no-install-recommends)
  if [ "${CI:-}" = true ]; then
    # A CI machine is thrown away after the run: dpkg need not sync every file to disk, and the
    # manual page index (man-db's trigger, slow with a few hundred packages) is never read.
    install_options+=(-o Dpkg::Options::=--force-unsafe-io)
    if [ -e /var/lib/man-db/auto-update ]; then
      thecal_as_root rm -f /var/lib/man-db/auto-update
    fi
  fi
  thecal_as_root env DEBIAN_FRONTEND=noninteractive apt-get update "${update_options[@]}"
  thecal_as_root env DEBIAN_FRONTEND=noninteractive apt-get install "${install_options[@]}" "${missing[@]}"
  thecal_say "Installed ${#missing[@]} packages (and what they need)"
}

thecal_ensure_locales () {
  local loc have
  have=$(locale -a 2>/dev/null | tr 'A-Z' 'a-z' | sed 's/utf-8/utf8/')
  for loc in "${THECAL_TEST_LOCALES[@]}"; do
    if ! printf '%s\n' "$have" | grep -qx "$(printf '%s.utf8' "$loc" | tr 'A-Z' 'a-z')"; then
      thecal_say "Generating the $loc.UTF-8 locale for the locale tests"
      thecal_as_root localedef -i "$loc" -f UTF-8 "$loc.UTF-8"
    fi
  done
}

# thecal_configure BUILDDIR [meson options...]: sets up once, reconfigures after.
thecal_configure () {
  local dir=$1
  shift
  if [ -f "$THECAL_TOP/$dir/build.ninja" ]; then
    meson configure "$THECAL_TOP/$dir" "$@" >/dev/null
  else
    rm -rf "${THECAL_TOP:?}/$dir"
    meson setup "$THECAL_TOP/$dir" "$THECAL_TOP" "$@"
  fi
}
