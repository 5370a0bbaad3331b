#!/usr/bin/env python3
"""The shape the code keeps (ctest "code shape"): in workers/ and common/, no file over 400 lines
and no function over 80, tests aside. Small files with one concern each, and functions that fit on
a screen, are what a newcomer can read; this keeps them from growing back unnoticed.

A function is counted from a line that starts in column 0 and ends with "{" after a parameter
list, to the next line starting with "}" in column 0 (the project's formatting).

    tests/scripts/code_shape.py [ROOT]
"""
import glob
import os
import re
import sys

MAX_FILE, MAX_FUNCTION = 400, 80
SIGNATURE = re.compile(r"^[A-Za-z].*\)\s*(const\s*)?(override\s*)?(noexcept\s*)?(->.*)?\{\s*$")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    problems = []
    files = sorted(glob.glob(os.path.join(root, "workers/**/*.[ch]pp"), recursive=True) +
                   glob.glob(os.path.join(root, "common/**/*.[ch]pp"), recursive=True))
    for path in files:
        if path.endswith("_test.cpp"):
            continue
        name = os.path.relpath(path, root)
        lines = open(path, encoding="utf-8").read().split("\n")
        if len(lines) - 1 > MAX_FILE:
            problems.append(f"{name}: {len(lines) - 1} lines (at most {MAX_FILE})")
        start = None
        for i, line in enumerate(lines):
            if start is None and SIGNATURE.match(line) and not line.startswith(("namespace", "struct", "class", "enum")):
                start = i
            elif start is not None and line.startswith("}"):
                if i - start + 1 > MAX_FUNCTION:
                    problems.append(f"{name}:{start + 1}: a function of {i - start + 1} lines (at most {MAX_FUNCTION}): {lines[start][:70]}")
                start = None
    for p in problems:
        print(p)
    print(f"code shape: {len(files)} files, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
