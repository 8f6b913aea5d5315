#!/usr/bin/env python3
"""Keeps the code in the docs identical to the examples that the build compiles.

A doc marks a snippet with an HTML comment naming a file under examples/ and a region:

    <!-- snippet: client/sync_basics.cc#connect -->
    ```cpp
    ...
    ```

and the example file delimits the region with `// [connect]` lines. `--check` (used by the
test suite) fails when a block differs from its region; `--write` rewrites the blocks.

    tools/doc_snippets.py --check docs/client.md
    tools/doc_snippets.py --write docs/client.md
"""

import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARK = re.compile(r"<!-- snippet: (?P<file>[\w/.-]+)#(?P<region>\w+) -->\n```cpp\n(?P<code>.*?)```",
                  re.S)


def region(file, name):
    text = (ROOT / "examples" / file).read_text()
    m = re.search(r"^[ \t]*// \[%s\]\n(.*?)^[ \t]*// \[%s\]\n" % (name, name), text, re.S | re.M)
    if not m:
        raise SystemExit(f"examples/{file}: no region [{name}]")
    return textwrap.dedent(m.group(1))


def process(doc, write):
    text = doc.read_text()
    stale = []

    def replace(m):
        want = region(m.group("file"), m.group("region"))
        if m.group("code") != want:
            stale.append(f"{m.group('file')}#{m.group('region')}")
        return m.group(0).replace(m.group("code"), want) if write else m.group(0)

    new = MARK.sub(replace, text)
    if write and new != text:
        doc.write_text(new)
    return stale


def main(argv):
    if len(argv) < 2 or argv[0] not in ("--check", "--write"):
        print(__doc__)
        return 2
    status = 0
    for doc in argv[1:]:
        stale = process(Path(doc), argv[0] == "--write")
        if stale and argv[0] == "--check":
            print(f"{doc}: out of date with the examples: {', '.join(stale)}"
                  f" (run tools/doc_snippets.py --write {doc})")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
