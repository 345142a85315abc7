#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# test-atspi.py THECAL: drives the real `thecal --demo` through AT-SPI, as a person (or a screen
# reader) would (TESTING.md): signs in as the demo user the sign-in page offers, selects the
# patient low on drug in the patient list, connects to the simulated pump and reads the overview.
# Run under `tests/app/with-xvfb.sh dbus-run-session --` (tests/app/meson.build). Prints TAP; exits 77 (skip)
# with --skip or without python3-gi/Atspi, except when CI=true.
import os
import shutil
import subprocess
import sys
import tempfile
import time

TIMEOUT_S = 90


def skip(reason):
    if os.environ.get("CI") == "true":
        print(f"Bail out! cannot run: {reason}")
        sys.exit(1)
    print(f"1..0 # SKIP {reason}")
    sys.exit(77)


if len(sys.argv) < 2 or sys.argv[1] == "--skip":
    skip("Xvfb or dbus-run-session is missing")

try:
    import gi

    gi.require_version("Atspi", "2.0")
    from gi.repository import Atspi
except (ImportError, ValueError) as error:
    skip(f"no Atspi for python3: {error}")

checks = []


def check(ok, name, detail=""):
    checks.append((bool(ok), name, detail))
    print(f"{'ok' if ok else 'not ok'} {len(checks)} - {name}{' # ' + detail if detail and not ok else ''}", flush=True)
    return ok


def wait_for(what, func):
    end = time.monotonic() + TIMEOUT_S
    while time.monotonic() < end:
        try:
            result = func()
        except gi.repository.GLib.Error:
            result = None
        if result:
            return result
        time.sleep(0.2)
    raise TimeoutError(f"timed out waiting for {what}")


def walk(node):
    """Every accessible under @node, depth first, in the order a screen reader reads them."""
    if node is None:
        return
    yield node
    for i in range(node.get_child_count()):
        yield from walk(node.get_child_at_index(i))


def role(node):
    return node.get_role_name()


def name(node):
    node.clear_cache()
    return node.get_name() or ""


def text(node):
    iface = node.get_text_iface()
    if iface is None:
        return name(node)
    count = Atspi.Text.get_character_count(node)
    return Atspi.Text.get_text(node, 0, count) if count > 0 else ""


def find(root, predicate):
    for node in walk(root):
        try:
            if predicate(node):
                return node
        except gi.repository.GLib.Error:
            continue
    return None


def button(root, label):
    return find(root, lambda n: role(n) in ("push button", "button") and name(n) == label)


def sensitive(node):
    return node.get_state_set().contains(Atspi.StateType.SENSITIVE)


def app_named(prefix):
    desktop = Atspi.get_desktop(0)
    for i in range(desktop.get_child_count()):
        app = desktop.get_child_at_index(i)
        if app is not None and (app.get_name() or "").startswith(prefix):
            return app
    return None


def row_name(row):
    """A list row's name: its own, or its content's (GTK 4.8 names the row's child)."""
    return next((name(n) for n in walk(row) if name(n)), "")


def labels(root):
    return [text(n) for n in walk(root) if role(n) == "label"]


def entry(root, label):
    return find(root, lambda n: role(n) in ("text", "entry", "password text") and name(n) == label)


def type_into(root, label, value):
    """Types @value into the entry named @label (AT-SPI EditableText, as an on-screen keyboard does)."""
    field = wait_for(f"the field {label!r}", lambda: entry(root, label))
    return Atspi.EditableText.set_text_contents(field, value)


def press(root, label, what=None):
    """Presses the button named @label once it is there and usable."""
    found = wait_for(what or f"the {label!r} button", lambda: (lambda b: b if b is not None and sensitive(b) else None)(button(root, label)))
    done = found.do_action(0)
    # GTK merges activations less than 250 ms apart (TESTING.md): the next press must not be lost
    time.sleep(0.4)
    return done


def window_named(app, title):
    """The application's top-level window (or dialog) named @title."""
    for i in range(app.get_child_count()):
        child = app.get_child_at_index(i)
        if child is not None and name(child) == title:
            return child
    return None


def has_label(root, predicate):
    return find(root, lambda n: role(n) == "label" and predicate(text(n)))


def refill(app):
    """The refill wizard on ROE, Richard, as a nurse would: 0.6 mL back where 1.8 mL was expected (the
    discrepancy warning and its acknowledgement), 18 mL of the same morphine 25 mg/mL, paula verifies."""
    check(press(app, "Refill…"), "Refill… opens the wizard")
    overview = app
    app = wait_for("the refill window", lambda: window_named(overview, "Refill"))
    type_into(app, "Aspirated volume", "0.6 mL")
    warning = wait_for("the discrepancy warning", lambda: has_label(app, lambda t: "pocket fill" in t))
    check(warning is not None, "0.6 mL back of 1.8 mL expected: the possible pocket fill is named", text(warning))
    next_button = button(app, "Next")
    check(next_button is not None and not sensitive(next_button), "Next waits for the acknowledgement")
    type_into(app, "Acknowledgement (what you checked, at least 10 characters)", "Pocket checked, no swelling")
    press(app, "Next", "Next after the acknowledgement")
    type_into(app, "Lot", "LOT-4711")
    type_into(app, "Expiry (YYYY-MM-DD)", "2027-06-30")
    type_into(app, "Volume added (at most 20 mL)", "18 mL")
    press(app, "Next", "Next after the new fill")
    type_into(app, "Verifier user name", "paula")
    type_into(app, "Verifier password", "physician password")
    press(app, "Next", "Next after the verifier")
    summary = wait_for("the summary", lambda: button(app, "Refill"))
    check(summary is not None, "the summary offers Refill")
    press(app, "Refill")
    confirmed = wait_for("the outcome", lambda: has_label(app, lambda t: t == "Refill Confirmed"))
    check(confirmed is not None, "the refill is confirmed")
    press(app, "Close", "Close on the outcome")
    volume = wait_for("the overview read again", lambda: has_label(overview, lambda t: t == "18 mL of 20 mL"))
    check(volume is not None, "the overview shows 18 mL of 20 mL after the refill")


def main():
    thecal = sys.argv[1]
    env = dict(os.environ)
    env.setdefault("GDK_BACKEND", "x11")
    env.setdefault("THECAL_PWHASH_LIMITS", "min")
    env.pop("GTK_A11Y", None)
    # the demo record's temporary directory goes here, so the test can see it removed at the end
    tmp = tempfile.mkdtemp(prefix="thecal-test-atspi-")
    env["TMPDIR"] = tmp
    app_process = subprocess.Popen([thecal, "--demo"], env=env)
    try:
        def started():
            if app_process.poll() is not None:
                raise TimeoutError(f"thecal exited with status {app_process.returncode} before it showed a window")
            return app_named("thecal")

        app = wait_for("thecal on the accessibility bus", started)
        check(app is not None, "thecal --demo is on the accessibility bus")
        banner = wait_for("the demo banner", lambda: find(app, lambda n: role(n) == "label" and text(n) == "Demo — simulated pumps"))
        check(banner is not None, "the demo banner says “Demo — simulated pumps”")

        # sign in: the demo user is offered; the button becomes usable once the demo record exists
        sign_in = wait_for("the Sign In button", lambda: button(app, "Sign In"))
        wait_for("the demo record", lambda: sensitive(sign_in))
        user = find(app, lambda n: role(n) == "text" and name(n) == "User name")
        check(user is not None and text(user) == "demo", "the demo user is offered", f"user field: {user and text(user)!r}")
        sign_in.do_action(0)
        patients = wait_for("the patient list",
                            lambda: find(app, lambda n: name(n) == "Patients" and role(n) in ("list", "list box", "table", "tree table")
                                         and n.get_child_count() >= 6))
        rows = [row_name(patients.get_child_at_index(i)) for i in range(patients.get_child_count())]
        check(any(r.startswith("ROE, Richard") for r in rows), "the patient list shows ROE, Richard", repr(rows))
        check(any("low reservoir" in r for r in rows), "a row shows the pump's status at a glance", repr(rows))
        signed_out = wait_for("the Sign Out button",
                              lambda: find(app, lambda n: role(n) in ("push button", "button") and name(n) == "Sign Out"
))
        check(signed_out is not None, "signed in: the Sign Out button is shown")

        # find the patient low on drug and open the overview
        index = next((i for i, r in enumerate(rows) if r.startswith("ROE, Richard")), 1)
        check(Atspi.Selection.select_child(patients, index), "ROE, Richard selected in the list")
        connect = wait_for("the Connect button", lambda: button(app, "Connect and Interrogate"))
        heading = wait_for("the overview of ROE, Richard", lambda: find(app, lambda n: role(n) == "label" and text(n) == "ROE, Richard"))
        check(heading is not None, "the overview shows ROE, Richard")
        connect.do_action(0)
        wait_for("the interrogation", lambda: find(app, lambda n: role(n) == "label" and text(n).startswith("Connected")))

        # read the overview as a screen reader would: each value follows its name
        read = wait_for("the therapy values", lambda: (lambda t: t if "Daily dose" in t else None)(labels(app)))

        def after(title):
            return read[read.index(title) + 1] if title in read and read.index(title) + 1 < len(read) else None

        for title, value in [("Drug", "morphine"), ("Concentration", "25 mg/mL"), ("Mode", "Continuous"),
                             ("Daily dose", "5 mg/day"), ("Rate", "0.2 mL/day"), ("Volume", "1.8 mL of 20 mL"),
                             ("Remaining", "68.73 %")]:
            check(after(title) == value, f"{title}: {value}", f"read {after(title)!r}")
        check(after("Low-reservoir alarm") is not None and after("Low-reservoir alarm").startswith("2026-01-"),
              "the low-reservoir alarm date is shown", f"read {after('Low-reservoir alarm')!r}")
        check("Low reservoir (not acknowledged)" in read and "Refill the pump before the empty date." in read,
              "the active alarm and what to do", repr(read))
        check(len(os.listdir(tmp)) == 1, "the demo record is in a temporary directory", repr(os.listdir(tmp)))

        refill(app)

        # close the window as a person would: the app quits and removes the demo record
        close = button(app, "Close")
        check(close is not None and close.do_action(0), "the window's Close button")
        status = app_process.wait(timeout=TIMEOUT_S)
        check(status == 0, "thecal quits with status 0", f"status {status}")
        check(os.listdir(tmp) == [], "the demo record was removed", repr(os.listdir(tmp)))
    except (TimeoutError, subprocess.TimeoutExpired) as error:
        check(False, str(error))
    finally:
        if app_process.poll() is None:
            app_process.terminate()
            try:
                app_process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                app_process.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"1..{len(checks)}")
    return 0 if all(ok for ok, _, _ in checks) else 1


sys.exit(main())
