#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# po/check-translations.py: the `po` test suite (docs/gui.md "Translations").
#
#   check-translations.py SRCDIR LANG [LANG...]
#
# For each LANG (po/LANG.po):
#  - `msgfmt --check --statistics` passes (header, plural forms, format specifiers and their order);
#  - every message of the app's own files (the src/app, ui and data entries of po/POTFILES.in, and
#    the demo pumps' summaries in src/pump, which the app shows) is extracted afresh with xgettext
#    (Meson's "glib" preset keywords), so a string added to the app and not yet translated is
#    caught before anyone runs update-po; each must be in LANG.po, translated, not fuzzy;
#  - in those messages every quantity ("0.2 mL/day", "25 mg/mL", "1.8 mL", "+20 %") is kept
#    exactly: units are not translated and the decimal point stays "." (ISMP; the dose core formats
#    every number the app shows, the same in every locale).
# The other messages (workflow, record, CLI) are counted and reported, not required.
# Before that, once: every ui/*.ui and every src/app/*.c that marks a string is listed in
# po/POTFILES.in (else xgettext never sees it), and no user-facing text is left unmarked: in the
# templates a text property (label, title, tooltip-text...) without translatable="yes", in
# src/app a string literal with words given straight to a widget's text setter
# (gtk_label_set_text, adw_..._set_title, gtk_accessible_update_property...) outside _().
# Exits 0 when all holds, 1 otherwise, 77 (skip) without xgettext or msgfmt.
import os
import re
import shutil
import subprocess
import sys
import tempfile

APP_PREFIXES = ("src/app/", "ui/", "data/", "src/pump/thecal-sim-pump-demo.c")

# Meson's i18n "glib" preset (mesonbuild/modules/i18n.py), as `meson compile thecal-pot` runs it.
XGETTEXT_ARGS = [
    "--from-code=UTF-8",
    "--add-comments",
    "--keyword=_",
    "--keyword=N_",
    "--keyword=C_:1c,2",
    "--keyword=NC_:1c,2",
    "--keyword=g_dcgettext:2",
    "--keyword=g_dngettext:2,3",
    "--keyword=g_dpgettext2:2c,3",
    "--flag=N_:1:pass-c-format",
    "--flag=C_:2:pass-c-format",
    "--flag=NC_:2:pass-c-format",
    "--flag=g_dngettext:2:pass-c-format",
    "--flag=g_strdup_printf:1:c-format",
    "--flag=g_string_printf:2:c-format",
    "--flag=g_string_append_printf:2:c-format",
    "--flag=g_error_new:3:c-format",
    "--flag=g_set_error:4:c-format",
    "--flag=g_markup_printf_escaped:1:c-format",
    "--flag=g_log:3:c-format",
    "--flag=g_print:1:c-format",
    "--flag=g_printerr:1:c-format",
    "--flag=g_printf:1:c-format",
    "--flag=g_fprintf:2:c-format",
    "--flag=g_sprintf:2:c-format",
    "--flag=g_snprintf:3:c-format",
]

# A number with its unit, as src/dose writes it (thecal_quantity_format), or a percentage.
QUANTITY = re.compile(r"[+-]?\d+(?:\.\d+)?(?: ?(?:mL/day|mg/day|mcg/day|mg/mL|mcg/mL|mL|mg|mcg|ms|min|%))")


def unquote(text):
    out = []
    i = 0
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append(escapes.get(text[i + 1], text[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_po(path):
    """Returns {(msgctxt, msgid): {"plural": str|None, "msgstr": [str], "fuzzy": bool}}, obsolete
    entries (#~) left out."""
    entries = {}
    entry = None
    field = None

    def finish():
        if entry is not None and "msgid" in entry:
            key = (entry.get("msgctxt"), entry["msgid"])
            entries[key] = {
                "plural": entry.get("msgid_plural"),
                "msgstr": [entry[k] for k in sorted(k for k in entry if k.startswith("msgstr"))],
                "fuzzy": entry.get("fuzzy", False),
            }

    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            if line.startswith("#~"):
                continue
            if line == "":
                finish()
                entry, field = None, None
                continue
            if entry is None:
                entry = {}
            if line.startswith("#,"):
                entry["fuzzy"] = "fuzzy" in [flag.strip() for flag in line[2:].split(",")]
                continue
            if line.startswith("#"):
                continue
            m = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+"(.*)"$', line)
            if m:
                field = m.group(1)
                if field.startswith("msgstr["):
                    field = "msgstr%03d" % int(field[7:-1])
                entry[field] = unquote(m.group(2))
                continue
            m = re.match(r'^"(.*)"$', line)
            if m and field is not None:
                entry[field] += unquote(m.group(1))
                continue
            raise SystemExit("%s: cannot parse line: %s" % (path, raw.rstrip()))
    finish()
    entries.pop((None, ""), None)  # the header
    return entries


def app_files(srcdir):
    with open(os.path.join(srcdir, "po", "POTFILES.in"), encoding="utf-8") as f:
        names = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    return [n for n in names if n.startswith(APP_PREFIXES)]


def extract(srcdir, files, tmp):
    listing = os.path.join(tmp, "files")
    pot = os.path.join(tmp, "app.pot")
    with open(listing, "w", encoding="utf-8") as f:
        f.write("\n".join(files) + "\n")
    subprocess.run(["xgettext", "--package-name=thecal", "-f", listing, "-D", srcdir, "-o", pot] + XGETTEXT_ARGS,
                   check=True, stderr=subprocess.DEVNULL)
    return parse_po(pot)


# Template properties that people read (or hear, as accessible names).
UI_TEXT_PROPERTIES = {"label", "title", "subtitle", "description", "tooltip-text", "tooltip-markup",
                      "placeholder-text", "text", "heading", "body", "secondary-text", "primary-text"}
UI_PROPERTY = re.compile(r'<(property|item|response)\b([^>]*)>([^<]*)</\1>')
# Widget text setters in C: a string literal with a word given straight to one of them is text
# people read.
C_SETTER = re.compile(r"\b((?:gtk|adw)_[a-z0-9_]*?(?:set_(?:text|label|markup|title|subtitle|description|heading|body|"
                      r"placeholder_text|tooltip_text|tooltip_markup)|_new_with_label|_new_with_mnemonic|label_new|toast_new|"
                      r"add_response|update_property))\s*\(")
MARKERS = {"_", "N_", "C_", "NC_", "g_dngettext", "ngettext", "gettext", "g_dgettext", "g_dpgettext2", "dgettext"}
WORD = re.compile(r"[A-Za-z]{2,}")


def unmarked_in_c(path, text):
    """String literals with words given to a widget's text setter outside a marking call."""
    found = []
    for m in C_SETTER.finditer(text):
        i = m.end()
        stack = [m.group(1)]  # the function of each open parenthesis
        name = ""
        while i < len(text) and stack:
            c = text[i]
            if c == '"':
                j = i + 1
                while j < len(text) and text[j] != '"':
                    j += 2 if text[j] == "\\" else 1
                literal = text[i + 1:j]
                if WORD.search(literal) and not any(f in MARKERS for f in stack):
                    found.append("%s:%d: unmarked text %r in %s ()" % (path, text.count("\n", 0, i) + 1, literal, m.group(1)))
                i = j + 1
                name = ""
                continue
            if c == "(":
                stack.append(name)
                name = ""
            elif c == ")":
                stack.pop()
                name = ""
            elif c.isalnum() or c == "_":
                name += c
            elif not c.isspace():
                name = ""
            i += 1
    return found


def check_marked(srcdir):
    problems = []
    listed = set(line.strip() for line in open(os.path.join(srcdir, "po", "POTFILES.in"), encoding="utf-8")
                 if line.strip() and not line.startswith("#"))
    for folder, suffix in (("ui", ".ui"), (os.path.join("src", "app"), ".c")):
        for name in sorted(os.listdir(os.path.join(srcdir, folder))):
            if not name.endswith(suffix):
                continue
            rel = folder.replace(os.sep, "/") + "/" + name
            with open(os.path.join(srcdir, folder, name), encoding="utf-8") as f:
                text = f.read()
            if suffix == ".ui":
                for m in UI_PROPERTY.finditer(text):
                    attributes, value = m.group(2), m.group(3)
                    prop = re.search(r'name="([^"]*)"', attributes)
                    if m.group(1) == "property" and (prop is None or prop.group(1) not in UI_TEXT_PROPERTIES):
                        continue
                    if WORD.search(value) and 'translatable="yes"' not in attributes:
                        problems.append("%s:%d: %s %r is not translatable=\"yes\"" % (
                            rel, text.count("\n", 0, m.start()) + 1, prop.group(1) if prop else m.group(1), value))
                marks = 'translatable="yes"' in text
            else:
                problems += unmarked_in_c(rel, text)
                marks = re.search(r"\b(?:N?C?_|g_dngettext)\s*\(", text) is not None
            if marks and rel not in listed:
                problems.append("%s marks strings but is not in po/POTFILES.in" % rel)
    print("the app's files: %d unmarked text(s) or unlisted file(s)" % len(problems))
    for p in problems:
        print(p)
    return not problems


def check_language(srcdir, lang, app):
    po_path = os.path.join(srcdir, "po", lang + ".po")
    problems = []
    result = subprocess.run(["msgfmt", "--check", "--statistics", "-o", os.devnull, po_path],
                            capture_output=True, text=True)
    print("%s.po: msgfmt --check --statistics: %s" % (lang, result.stderr.strip()))
    if result.returncode != 0:
        problems.append("msgfmt --check failed")
    po = parse_po(po_path)
    for key, pot_entry in app.items():
        ctx, msgid = key
        name = ("%s|" % ctx if ctx else "") + msgid
        entry = po.get(key)
        if entry is None:
            problems.append("missing (run meson compile -C build thecal-update-po): %r" % name)
        elif entry["fuzzy"]:
            problems.append("fuzzy: %r" % name)
        elif not entry["msgstr"] or any(s == "" for s in entry["msgstr"]):
            problems.append("untranslated: %r" % name)
        else:
            for source in [msgid] + ([pot_entry["plural"]] if pot_entry["plural"] else []):
                for quantity in QUANTITY.findall(source):
                    if not any(quantity in s for s in entry["msgstr"]):
                        problems.append("quantity %r not kept as it is (ISMP) in %r" % (quantity, name))
    others = [e for k, e in po.items() if k not in app]
    done = sum(1 for e in others if not e["fuzzy"] and e["msgstr"] and all(e["msgstr"]))
    print("%s.po: the app's %d messages: %d problem(s); the other %d messages (workflow, record, CLI): %d translated"
          % (lang, len(app), len(problems), len(others), done))
    for p in problems:
        print("%s.po: %s" % (lang, p))
    return not problems


def main():
    if len(sys.argv) < 3:
        raise SystemExit("usage: check-translations.py SRCDIR LANG [LANG...]")
    srcdir = sys.argv[1]
    if shutil.which("xgettext") is None or shutil.which("msgfmt") is None:
        print("xgettext or msgfmt missing: skipped")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        app = extract(srcdir, app_files(srcdir), tmp)
    if len(app) == 0:
        print("no message extracted from the app's files")
        return 1
    ok = check_marked(srcdir)
    ok = all([check_language(srcdir, lang, app) for lang in sys.argv[2:]]) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
