#!/usr/bin/env python3
"""check_man_pages - the man pages against the sources they document (issue 11).

1. mosquitto.conf(5): every keyword of the option table (src/conf_opts.c) has an entry (a .TP
   whose head starts with the keyword), and every entry is a keyword of the table, so a new
   option cannot ship undocumented and a removed one cannot linger. Each entry's text starts
   with its scope tag ([global], [listener], [listener only], [security], [bridge]); for a row
   with a target field the tag must match the row's scope macro (G, L, LO, S, B). Each entry
   says its default, or that it is refused, obsolete, or the same as another option.
2. mosquitto(8): the SIGNALS section names every signal src/main.c handles (its
   handled_signals table, SIGRTMIN, and SIGPIPE which it ignores), and the $SYS TOPICS section
   names every topic the broker publishes: the "$SYS/..." string literals of src/*.c (a literal
   ending in '/' is a prefix, such as a bridge's state topic) and the load topics of sys.c.
3. Every page in man/ renders without a groff or man warning, checked the way lintian does
   (man --warnings, UTF-8, 80 columns): a warning is an error.

Usage: check_man_pages.py [SOURCE_ROOT]. Exit status 1 lists every problem found."""

import os
import re
import subprocess
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SCOPE_TAGS = {"G": "global", "L": "listener", "LO": "listener only", "S": "security",
              "B": "bridge"}
ALL_TAGS = set(SCOPE_TAGS.values())


def read(*path):
    with open(os.path.join(ROOT, *path), encoding="utf-8") as f:
        return f.read()


def plain(groff):
    """Text of groff source lines without requests' names, font escapes and quotes."""
    out = []
    for line in groff.splitlines():
        if line.startswith(".\\\"") or line.startswith("'\\\""):
            continue
        line = re.sub(r"^\.(B|I|BI|IB|BR|RB|IR|RI)\s+", "", line)
        if line.startswith("."):
            continue
        line = re.sub(r"\\f[BIRP]|\\f\(..", "", line)
        line = line.replace("\\-", "-").replace("\\(dq", '"').replace("\\&", "")
        out.append(line.replace('"', ""))
    return "\n".join(out)


def option_rows(table):
    """(keyword, scope macro or None) for every row of conf_opts[]."""
    rows = []
    for mt in re.finditer(r'\{\s*"([^"]+)",\s*(T_\w+),\s*(\w+)', table):
        kw, macro = mt.group(1), mt.group(3)
        rows.append((kw, macro if macro in SCOPE_TAGS else None))
    return rows


# Sections of mosquitto.conf(5) whose .TP entries are not options.
NOT_OPTIONS = {"DESCRIPTION", "SCOPE", "FILES", "SEE ALSO"}


def entries(page):
    """{head word: [entry text]} for the .TP entries of a page outside NOT_OPTIONS."""
    out = {}
    lines = page.splitlines()
    current = ""
    for i, line in enumerate(lines):
        if line.startswith(".SH "):
            current = line[4:].strip().strip('"')
        if line.strip() != ".TP" or i + 1 >= len(lines) or current in NOT_OPTIONS:
            continue
        head = plain(lines[i + 1]).split()
        body = []
        for nxt in lines[i + 2:]:
            if re.match(r"\.(TP|SH|SS|PP|P|LP)\b", nxt):
                break
            body.append(nxt)
        if head:
            out.setdefault(head[0], []).append(plain("\n".join(body)).strip())
    return out


def check_conf_page(problems):
    rows = option_rows(read("src", "conf_opts.c"))
    if len(rows) < 100:
        problems.append("only %d rows found in conf_opts.c: has the table's layout changed?"
                        % len(rows))
        return
    ents = entries(read("man", "mosquitto.conf.5"))
    known = set()
    for kw, macro in rows:
        head = kw[:-1] if kw.endswith("*") else kw  # "plugin_opt_*" is documented as plugin_opt_
        known.add(head)
        if head not in ents:
            problems.append("mosquitto.conf.5: option '%s' has no entry" % kw)
            continue
        for text in ents[head]:
            tag = re.match(r"\[([a-z ]+)\]", text)
            if tag is None or tag.group(1) not in ALL_TAGS:
                problems.append("mosquitto.conf.5: entry '%s' does not start with a scope tag"
                                % kw)
            elif macro is not None and tag.group(1) != SCOPE_TAGS[macro]:
                problems.append("mosquitto.conf.5: entry '%s' says [%s], the table says %s (%s)"
                                % (kw, tag.group(1), macro, SCOPE_TAGS[macro]))
            if not re.search(r"default|Refused|Obsolete|The same as", text, re.I):
                problems.append("mosquitto.conf.5: entry '%s' gives no default" % kw)
    for head in sorted(set(ents) - known):
        problems.append("mosquitto.conf.5: entry '%s' is not an option of conf_opts.c" % head)
    return len(rows)


def section(page, title):
    mt = re.search(r"^\.SH \"?%s\"?\s*$(.*?)(?=^\.SH )" % re.escape(title), page, re.M | re.S)
    return plain(mt.group(1)) if mt else ""


def check_broker_page(problems):
    page = read("man", "mosquitto.8")
    main_c = read("src", "main.c")
    table = re.search(r"handled_signals\[\]\s*=\s*\{([^}]*)\}", main_c)
    signals = set(re.findall(r"SIG[A-Z0-9]+", table.group(1))) if table else set()
    if not signals:
        problems.append("main.c: handled_signals table not found")
    signals |= {s for s in ("SIGRTMIN", "SIGPIPE") if s in main_c}
    text = section(page, "SIGNALS")
    for sig in sorted(signals):
        if not re.search(r"\b%s\b" % sig, text):
            problems.append("mosquitto.8: signal %s (src/main.c) is not in SIGNALS" % sig)

    topics = set()
    for name in sorted(os.listdir(os.path.join(ROOT, "src"))):
        if name.endswith(".c"):
            for lit in re.findall(r'"(\$SYS/[^"%]*)"', read("src", name)):
                if lit != "$SYS/":  # the bare prefix, in checks of client topics
                    topics.add(lit)
    sys_c = read("src", "sys.c")
    loads = re.search(r"struct load loads\[\]\s*=\s*\{(.*?)\n\};", sys_c, re.S)
    spans = re.search(r"spans\[\d*\]\s*=\s*\{([^}]*)\}", sys_c)
    if loads is None or spans is None or "$SYS/broker/load/%s/%s" not in sys_c:
        problems.append("sys.c: load table or spans not found")
    text = section(page, "$SYS TOPICS")
    for t in sorted(topics):
        if t not in text:
            problems.append("mosquitto.8: topic %s is published but not in $SYS TOPICS" % t)
    if loads and spans:
        load_entry = text[text.find("$SYS/broker/load/"):]
        for what in re.findall(r'\{\s*"([^"]+)"', loads.group(1)):
            if what not in load_entry:
                problems.append("mosquitto.8: load topic $SYS/broker/load/%s/... not described"
                                % what)
        for span in re.findall(r'"([^"]+)"', spans.group(1)):
            if span not in load_entry:
                problems.append("mosquitto.8: load span %s not described" % span)
    return len(signals), len(topics)


def check_rendering(problems):
    env = dict(os.environ, LC_ALL="C.UTF-8", MANROFFSEQ="", MANWIDTH="80")
    pages = sorted(f for f in os.listdir(os.path.join(ROOT, "man")) if re.search(r"\.\d$", f))
    for name in pages:
        r = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z",
                            os.path.join(ROOT, "man", name)],
                           env=env, capture_output=True, text=True)
        if r.returncode != 0 or r.stderr.strip():
            problems.append("man/%s: man --warnings: %s" % (name, r.stderr.strip()
                                                              or "exit %d" % r.returncode))
    return len(pages)


def main():
    problems = []
    n_opts = check_conf_page(problems)
    n_sig, n_topics = check_broker_page(problems)
    n_pages = check_rendering(problems)
    for p in problems:
        print(p)
    print("check_man_pages: %s options, %d signals, %d $SYS topics, %d pages rendered; "
          "%d problems" % (n_opts, n_sig, n_topics, n_pages, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
