#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# test-atspi.py THECAL: drives the real `thecal --demo` through AT-SPI, as a person (or a screen
# reader) would (TESTING.md): signs in as the demo user the sign-in page offers, selects the
# patient low on drug in the patient list, connects to the simulated pump and reads the overview;
# refills it with a discrepancy warning; changes KOE, Kim's flex schedule with a soft-limit
# override, sees it confirmed and in the history; then, with the demo's fault "Unplug Wand After
# Commit" armed, sees a change end UNCERTAIN (blocking), plugs the wand in and has a new
# connection settle it. Every wait polls the tree (THECAL_ATSPI_TIMEOUT_S, default 90 s, per
# wait); the only fixed sleep is the 0.4 s after a press.
# Run under `tests/app/with-xvfb.sh dbus-run-session --` (tests/app/meson.build). Prints TAP; exits 77 (skip)
# with --skip or without python3-gi/Atspi, except when CI=true.
import os
import shutil
import subprocess
import sys
import tempfile
import time

TIMEOUT_S = int(os.environ.get("THECAL_ATSPI_TIMEOUT_S", "90"))


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
    check_names(app, "the refill wizard")
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


def named_twice(label):
    """TRUE for a name GTK 4.8 made by joining a label property with a labelled-by relation:
    "Mode Mode", "Reason for the change Reason for the change (recorded with it)"."""
    for i, c in enumerate(label):
        if c == " " and i >= 3 and label[i + 1:].startswith(label[:i]):
            return True
    return False


def check_names(root, where):
    """Every control under @root is named, and none twice."""
    controls = ("push button", "toggle button", "text", "password text", "entry", "combo box", "check box", "list item",
                "spin button", "radio button")
    found = [n for n in walk(root) if role(n) in controls]
    bad = [f"{role(n)} {name(n)!r}" for n in found if named_twice(name(n)) or (not name(n) and role(n) != "list item")]
    check(found and not bad, f"every control of {where} has one name", repr(bad))


def text_with(root, part):
    """The first label whose text contains @part."""
    return has_label(root, lambda t: part in t)


def step_states(root):
    """The progress steps of a write, as a screen reader reads them: the icon's state (Done,
    Failed, In progress, Waiting) before each step's name."""
    steps = find(root, lambda n: name(n) == "Steps of the write")
    if steps is None:
        return {}
    states = {}
    for i in range(steps.get_child_count()):
        row = steps.get_child_at_index(i)
        parts = [row.get_child_at_index(j) for j in range(row.get_child_count())]
        if len(parts) == 2:
            states[text(parts[1])] = name(parts[0])
    return states


def open_patient(app, patients, rows, prefix, therapy):
    """Selects the patient whose row starts with @prefix and connects to the pump; waits for
    @therapy (the mode as the overview shows it)."""
    index = next((i for i, r in enumerate(rows) if r.startswith(prefix)), None)
    check(index is not None and Atspi.Selection.select_child(patients, index), f"{prefix} selected in the list", repr(rows))
    wait_for(f"the overview of {prefix}", lambda: find(app, lambda n: role(n) == "label" and text(n) == prefix))
    press(app, "Connect and Interrogate")
    return wait_for(f"{prefix}'s therapy", lambda: has_label(app, lambda t: t == therapy))


def flex_change(app, patients, rows):
    """KOE, Kim (baclofen 2 mg/mL, flex: 300 mcg/day from 06:00, 150 mcg/day from 22:00) gets a
    third step, 600 mcg/day from noon: a soft limit, so the override reason; the change is
    confirmed, the overview shows it, and the history lists the session with its override."""
    check(open_patient(app, patients, rows, "KOE, Kim", "Flex schedule, 2 steps"), "KOE, Kim is on a flex schedule of 2 steps")
    overview = wait_for("the main window", lambda: window_named(app, "Thecal"))
    press(overview, "Program…")
    dialog = wait_for("the prescription editor", lambda: window_named(app, "Change Prescription"))
    start = wait_for("the flex table", lambda: entry(dialog, "Flex step 2 start (HH:MM)"))
    check(text(start) == "22:00" and text(entry(dialog, "Flex step 1 dose or rate per day")) == "300 mcg/day",
          "the editor shows the running steps", f"{text(start)!r}")
    check_names(overview, "the overview")
    check_names(dialog, "the prescription editor")
    press(dialog, "Add Step")
    type_into(dialog, "Flex step 2 start (HH:MM)", "12:00")
    type_into(dialog, "Flex step 2 dose or rate per day", "600 mcg/day")
    type_into(dialog, "Flex step 3 start (HH:MM)", "22:00")
    type_into(dialog, "Flex step 3 dose or rate per day", "150 mcg/day")
    finding = wait_for("the soft-limit finding", lambda: text_with(dialog, "Needs an override reason:"))
    check(finding is not None, "the editor names the soft limit", text(finding))
    press(dialog, "Next", "Next after the flex steps")
    changes = wait_for("the review", lambda: text_with(dialog, "Flex step 2 dose or rate:"))
    check("Flex step 2 dose or rate: 150 mcg/day → 600 mcg/day" in text(changes)
          and "Flex step 3 start: none → 22:00" in text(changes), "the review lists the change step by step", repr(text(changes)))
    program = button(dialog, "Program")
    check(program is not None and not sensitive(program), "Program waits for the override reason")
    check_names(dialog, "the review")
    override = "Reason to override the soft limit (at least 10 characters)"
    type_into(dialog, override, "too short")
    short = wait_for("the reason's length", lambda: text_with(dialog, "at least 10 characters (9 so far)"))
    check(short is not None and not sensitive(button(dialog, "Program")), "a 9-character reason is refused next to its field")
    type_into(dialog, override, "Spasticity at midday, agreed with the team")
    press(dialog, "Program", "Program after the override reason")
    confirmed = wait_for("the outcome", lambda: has_label(dialog, lambda t: t == "Change Confirmed"))
    check(confirmed is not None, "the change is confirmed")
    runs = text_with(dialog, "The pump runs:")
    check(runs is not None and "baclofen 2 mg/mL, Flex schedule, 375 mcg/day (0.1875 mL/day)" in text(runs),
          "the outcome says what the pump runs now", runs and text(runs))
    press(dialog, "Close", "Close on the outcome")
    mode = wait_for("the overview read again", lambda: has_label(overview, lambda t: t == "Flex schedule, 3 steps"))
    check(mode is not None and has_label(overview, lambda t: t == "375 mcg/day"), "the overview shows 3 steps, 375 mcg/day")

    press(overview, "History…")
    history = wait_for("the history", lambda: window_named(app, "History"))
    session = wait_for("the session in the timeline",
                       lambda: has_label(history, lambda t: t.startswith("Pump TR40-000128 programmed, confirmed:")))
    check(session is not None and "600 mcg/day" in text(session), "the history lists the confirmed change", session and text(session))
    detail = text_with(history, "Soft limit overridden for")
    check(detail is not None and "Spasticity at midday, agreed with the team" in text(detail) and text(detail).startswith("By demo"),
          "the history shows who and the override reason", detail and text(detail))
    audit = wait_for("the audit status", lambda: has_label(history, lambda t: t.startswith("Audit chain verified")))
    check(audit is not None, "the audit chain is verified")
    check_names(history, "the history")
    press(history, "Close", "Close the history")
    wait_for("the history closed", lambda: window_named(app, "History") is None)


def uncertain(app):
    """The wand pulled out right after the pump took COMMIT ("Unplug Wand After Commit", the demo's
    fault button): the outcome is UNCERTAIN and blocks; reading again with the wand out stays
    UNCERTAIN; closed, the wand plugged in, a new connection settles it, and the history shows the
    session settled."""
    overview = wait_for("the main window", lambda: window_named(app, "Thecal"))
    press(overview, "Unplug Wand After Commit")
    armed = wait_for("the armed fault", lambda: text_with(overview, "Armed: the wand will be pulled out"))
    check(armed is not None, "the fault is armed")
    press(overview, "Program…")
    dialog = wait_for("the prescription editor", lambda: window_named(app, "Change Prescription"))
    type_into(dialog, "Flex step 3 dose or rate per day", "180 mcg/day")
    press(dialog, "Next", "Next after the change")
    wait_for("the review", lambda: text_with(dialog, "Flex step 3 dose or rate: 150 mcg/day → 180 mcg/day"))
    press(dialog, "Program", "Program (the wand will be pulled out)")
    outcome = wait_for("the outcome", lambda: has_label(dialog, lambda t: t == "Outcome UNCERTAIN"))
    check(outcome is not None, "the outcome is UNCERTAIN")
    check(text_with(dialog, "Every change to this pump is blocked") is not None, "the dialog says every change is blocked")
    states = step_states(dialog)
    check(states.get("Commit: the pump switches to it") == "Done" and states.get("Verify: read the running prescription back") == "Failed",
          "the steps show COMMIT done and the read-back failed", repr(states))
    check(find(overview, lambda n: role(n) == "status bar" and name(n) == "Wand absent") is not None,
          "the header says the wand is absent")
    check(text_with(overview, "pulled out right after the pump took the commit") is not None, "the demo bar says what happened")
    press(dialog, "Read the Pump Again")
    still = wait_for("the read", lambda: text_with(dialog, "Still UNCERTAIN"))
    check(still is not None and "Wand unplugged" in text(still), "read with the wand out: still UNCERTAIN", still and text(still))
    press(dialog, "Close", "Close on UNCERTAIN")
    wait_for("the dialog closed", lambda: window_named(app, "Change Prescription") is None)
    failed = wait_for("the overview's read", lambda: text_with(overview, "Wand unplugged"))
    check(failed is not None, "the overview cannot read the pump with the wand out", failed and text(failed))
    press(overview, "Plug In Wand")
    wait_for("the wand plugged in", lambda: button(overview, "Unplug Wand"))
    press(overview, "Connect and Interrogate")
    settled = wait_for("the settled write", lambda: text_with(overview, "was left unresolved; reconciled with the pump"))
    check(settled is not None and "the pump runs the prescription this session sent" in text(settled),
          "a new connection settles it: the pump runs the new prescription", settled and text(settled))
    # 6 h × 300 + 10 h × 600 + 8 h × 180 mcg/day
    dose = wait_for("the new therapy", lambda: has_label(overview, lambda t: t == "385 mcg/day"))
    check(dose is not None, "the overview shows what the pump runs: 385 mcg/day")

    press(overview, "History…")
    history = wait_for("the history", lambda: window_named(app, "History"))
    session = wait_for("the settled session",
                       lambda: has_label(history, lambda t: t.startswith("Pump TR40-000128 programmed, confirmed:") and "180 mcg/day" in t))
    reconciled = text_with(history, "Reconciled: the pump runs the prescription this session sent")
    check(session is not None and reconciled is not None, "the history shows the session settled by reading the pump",
          reconciled and text(reconciled))
    press(history, "Close", "Close the history")
    wait_for("the history closed", lambda: window_named(app, "History") is None)

    # no longer blocked: a new editor goes on
    press(overview, "Program…")
    dialog = wait_for("a new editor", lambda: window_named(app, "Change Prescription"))
    blocked = text_with(dialog, "Blocked:")
    type_into(dialog, "Flex step 3 dose or rate per day", "150 mcg/day")
    check(blocked is None and wait_for("Next", lambda: (lambda b: b if b is not None and sensitive(b) else None)(button(dialog, "Next"))),
          "a new editor is not blocked: Next after a change", blocked and text(blocked))
    press(dialog, "Cancel")
    wait_for("the editor closed", lambda: window_named(app, "Change Prescription") is None)


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
        flex_change(app, patients, rows)
        uncertain(app)

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
