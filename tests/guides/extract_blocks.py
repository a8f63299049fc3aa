#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Extracts the shell blocks of a guide in docs/guides/ for tests/guides/run_guides.sh.

Every ```bash (or ```sh) block of a guide must be preceded by a marker comment:

    <!-- test: run -->             run it (blocks of one guide run in order, in one shell)
    <!-- test: skip REASON -->     do not run it; REASON is required and printed

A bash block without a marker is an error, so no command can slip out of the test. Blocks of
other languages (```text outputs, ```yaml, ```js) are not commands and need no marker.

Usage: extract_blocks.py GUIDE.md > script.sh   (exit 1 with a message on a missing marker)
The script has one `__guide_block N LINE` call before each block, for the runner's messages.
"""
import re
import sys

MARKER = re.compile(r"^<!--\s*test:\s*(run|skip)(?:\s+(.*?))?\s*-->\s*$")
FENCE_OPEN = re.compile(r"^```\s*([A-Za-z0-9_+-]*)\s*$")


def main() -> int:
    path = sys.argv[1]
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out = []
    errors = []
    pending = None  # (kind, reason, line) of the last marker not yet used
    i = 0
    runs = skips = 0
    while i < len(lines):
        line = lines[i]
        m = MARKER.match(line.strip())
        if m:
            pending = (m.group(1), m.group(2) or "", i + 1)
            i += 1
            continue
        fence = FENCE_OPEN.match(line)
        if fence:
            lang = fence.group(1).lower()
            start = i + 1
            j = start
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            if j >= len(lines):
                errors.append(f"{path}:{i + 1}: unterminated code block")
                break
            body = lines[start:j]
            if lang in ("bash", "sh", "shell"):
                if pending is None:
                    errors.append(f"{path}:{i + 1}: ```{lang} block without <!-- test: run --> "
                                  "or <!-- test: skip REASON -->")
                elif pending[0] == "skip":
                    if not pending[1]:
                        errors.append(f"{path}:{pending[2]}: test: skip needs a reason")
                    skips += 1
                    out.append(f"__guide_skip {i + 1} {quote(pending[1])}")
                else:
                    runs += 1
                    out.append(f"__guide_block {runs} {i + 1}")
                    out.extend(body)
            elif pending is not None:
                errors.append(f"{path}:{pending[2]}: a test marker must precede a ```bash block, "
                              f"not ```{lang or 'text'}")
            pending = None
            i = j + 1
            continue
        if line.strip() and pending is not None:
            errors.append(f"{path}:{pending[2]}: a test marker must be followed by a ```bash block")
            pending = None
        i += 1
    if runs == 0 and not errors:
        errors.append(f"{path}: no <!-- test: run --> block")
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    print("\n".join(out))
    print(f"__guide_done {runs} {skips}")
    return 0


def quote(s: str) -> str:
    return "'" + s.replace("'", "'\\''") + "'"


if __name__ == "__main__":
    sys.exit(main())
