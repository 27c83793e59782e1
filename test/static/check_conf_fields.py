#!/usr/bin/env python3
"""check_conf_fields - every typed row of the option table (src/conf_opts.c) must land in a field
that the broker reads somewhere outside the config code: an option that is parsed and never read
(as set_tcp_nodelay and allow_duplicate_messages once were) is a silent lie to the user.

A row's target is G(f), L(f), LO(f) or S(f); T_UNSUPPORTED / T_IGNORED / T_OBSOLETE rows have
none. "Read" means `->f` or `.f` appears in a .c file of src/ other than conf.c and conf_opts.c
(those only parse and validate). Exit status 1 lists the unread fields."""

import os
import re
import sys

SRC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "src")
CONFIG_CODE = {"conf.c", "conf_opts.c"}
# Fields the config code itself acts on, with the reason. Listed ones that become read elsewhere
# are reported so the entry can go.
REFUSED_ENGINE = "OpenSSL engines: conf_validate() refuses every value but the engine-less " \
                 "default, so nothing outside the config code needs the field"
EXEMPT = {f: REFUSED_ENGINE for f in ("tls_engine", "tls_keyform")}


def rows(text):
    """(keyword, field) for each row with a target field."""
    for mt in re.finditer(r'\{\s*"([^"]+)",\s*(T_\w+),\s*(?:G|L|LO|S)\((\w+)\)', text):
        yield mt.group(1), mt.group(2), mt.group(3)


def main():
    with open(os.path.join(SRC, "conf_opts.c")) as f:
        table = f.read()
    others = ""
    for name in sorted(os.listdir(SRC)):
        if name.endswith(".c") and name not in CONFIG_CODE:
            with open(os.path.join(SRC, name)) as f:
                others += f.read()
    found = list(rows(table))
    if len(found) < 40:
        print("check_conf_fields: only %d typed rows found: has the table's layout changed?"
              % len(found))
        return 1
    def read(field):
        return re.search(r"(->|\.)%s\b" % re.escape(field), others) is not None
    for field in sorted(f for f in EXEMPT if read(f)):
        print("note: exempt field '%s' is read now: remove it from EXEMPT" % field)
    unread = [(kw, field) for kw, _, field in found if field not in EXEMPT and not read(field)]
    for kw, field in unread:
        print("option '%s': field '%s' is parsed but never read outside the config code"
              % (kw, field))
    print("check_conf_fields: %d typed options, %d unread" % (len(found), len(unread)))
    return 1 if unread else 0


if __name__ == "__main__":
    sys.exit(main())
