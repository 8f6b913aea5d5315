#!/usr/bin/env python3
"""Writes server/engine/command_meta_table.inc: the key specifications and tips of every Redis
command Keyward implements, as Redis 7.0 reports them in COMMAND INFO, and the fields of its
COMMAND DOCS entry (summary ... history, arguments; without subcommands, which Keyward lists from
its own table) as raw RESP3 and RESP2 bytes.

Redis generates the same data (src/commands.def) from its JSON command files; Keyward takes it
from the oracle instead of copying the JSON. Run it when a command is added:

    redis-server --port 7000 --save '' --daemonize yes      # Debian's redis-server 7.0.15
    build/bin/keyward-server --port 7001 --save '' --daemonize yes
    tools/gen_command_meta.py --redis-port 7000 --keyward-port 7001

Commands Redis does not have (LOCK.*) get their metadata by hand in command_meta.cc.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "support"))
from keyward_harness import RawClient, decode  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server", "engine",
                   "command_meta_table.inc")


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def pairs(flat):
    """A RESP2 flat array of pairs (or RESP3 map already as tuples) as a dict."""
    if flat and isinstance(flat[0], tuple):
        return {text(k): v for k, v in flat}
    return {text(flat[i]): flat[i + 1] for i in range(0, len(flat), 2)}


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def c_bytes(raw):
    """Raw protocol bytes as a C string literal (text plus escaped CR/LF and control bytes)."""
    out = []
    for b in raw:
        ch = chr(b)
        if ch == "\\" or ch == '"':
            out.append("\\" + ch)
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\n":
            out.append("\\n")
        elif 32 <= b < 127:
            out.append(ch)
        else:
            out.append("\\%03o" % b)
    return '"' + "".join(out) + '"'


def resp_span(raw, pos):
    """The end of the RESP3 value starting at `pos` (maps count two values per entry)."""
    eol = raw.index(b"\r\n", pos)
    t, head, p = raw[pos:pos + 1], raw[pos + 1:eol], eol + 2
    if t in b"+-:_,#(":
        return p
    n = int(head)
    if t in b"$!=":
        return p if n < 0 else p + n + 2
    count = 2 * n if t in b"%|" else n
    for _ in range(max(count, 0)):
        p = resp_span(raw, p)
    return p


def to_resp2(raw):
    """RESP3 bytes (maps, sets, arrays, bulks, integers, simple strings) in RESP2: a map is a
    flat array of twice its length, a set an array."""
    out, pos = [], 0
    while pos < len(raw):
        eol = raw.index(b"\r\n", pos)
        t, head = raw[pos:pos + 1], raw[pos + 1:eol]
        if t == b"%":
            out.append(b"*%d\r\n" % (2 * int(head)))
            pos = eol + 2
        elif t == b"~":
            out.append(b"*" + head + b"\r\n")
            pos = eol + 2
        elif t in (b"*", b"+", b":"):
            out.append(raw[pos:eol + 2])
            pos = eol + 2
        elif t == b"$":
            end = resp_span(raw, pos)
            out.append(raw[pos:end])
            pos = end
        else:
            raise ValueError("unexpected RESP3 type %r in COMMAND DOCS" % t)
    return b"".join(out)


def doc_fields(redis3, name):
    """(field count, RESP3 bytes, RESP2 bytes) of Redis's COMMAND DOCS entry for `name`, the
    subcommands field left out."""
    raw = redis3.call("COMMAND", "DOCS", name)
    if raw.startswith(b"%0"):
        return 0, b"", b""
    pos = raw.index(b"\r\n") + 2       # %1
    pos = resp_span(raw, pos)            # the name
    eol = raw.index(b"\r\n", pos)
    n = int(raw[pos + 1:eol])            # %N: the entry
    pos = eol + 2
    kept, count = [], 0
    for _ in range(n):
        key_end = resp_span(raw, pos)
        value_end = resp_span(raw, key_end)
        if raw[pos:key_end] != b"$11\r\nsubcommands\r\n":
            kept.append(raw[pos:value_end])
            count += 1
        pos = value_end
    fields = b"".join(kept)
    return count, fields, to_resp2(fields)


def spec_entry(spec):
    spec = pairs(spec)
    begin = pairs(spec["begin_search"])
    find = pairs(spec["find_keys"])
    begin_type, find_type = text(begin["type"]), text(find["type"])
    bspec = pairs(begin["spec"]) if begin["spec"] else {}
    fspec = pairs(find["spec"]) if find["spec"] else {}
    if begin_type == "index":
        b = (bspec["index"], "", 0)
    elif begin_type == "keyword":
        b = (0, text(bspec["keyword"]), bspec["startfrom"])
    else:
        b = (0, "", 0)
    if find_type == "range":
        f = (fspec["lastkey"], fspec["keystep"], fspec["limit"])
    elif find_type == "keynum":
        f = (fspec["keynumidx"], fspec["firstkey"], fspec["keystep"])
    else:
        f = (0, 0, 0)
    return "{%s, %s, %s, %d, %s, %d, %s, %d, %d, %d}" % (
        c_string(text(spec.get("notes", b""))), c_string(" ".join(text(x) for x in spec["flags"])),
        c_string(begin_type), b[0], c_string(b[1]), b[2], c_string(find_type), f[0], f[1], f[2])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--redis-port", type=int, required=True)
    p.add_argument("--keyward-port", type=int, required=True)
    args = p.parse_args()
    keyward = RawClient(port=args.keyward_port)
    redis = RawClient(port=args.redis_port)
    redis3 = RawClient(port=args.redis_port)
    redis3.call("HELLO", "3")
    names = sorted(text(n) for n in decode(keyward.call("COMMAND", "LIST")))
    lines = ["// Generated by tools/gen_command_meta.py from Redis 7.0.15's COMMAND INFO and COMMAND DOCS:",
             "// do not edit.",
             "// {name, tips, {notes, flags, begin_type, index, keyword, startfrom, find_type, a, b, c}...,",
             "//  doc field count, doc fields in RESP3, doc fields in RESP2}"]
    for name in names:
        (entry,) = decode(redis.call("COMMAND", "INFO", name))
        if entry is None:
            continue  # Keyward's own (LOCK.*): command_meta.cc
        tips = " ".join(text(t) for t in entry[7])
        specs = [spec_entry(s) for s in entry[8]]
        count, resp3, resp2 = doc_fields(redis3, name)
        lines.append("{%s, %s, {%s}, %d,\n %s,\n %s}," % (
            c_string(name), c_string(tips), ", ".join(specs), count, c_bytes(resp3),
            c_bytes(resp2)))
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %d commands to %s" % (len(lines) - 4, OUT))


if __name__ == "__main__":
    main()
