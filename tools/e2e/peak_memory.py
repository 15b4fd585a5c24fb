"""Runs a command and checks its peak resident memory against a multiple of a file's size.

    python3 tools/e2e/peak_memory.py --file CHECKPOINT --at-most 1.6 [--expect-failure] -- vitscope convert ...

Prints the peak (the kernel's high-water mark of the child, file-backed pages included) and its
ratio to the file, and fails when the ratio passes --at-most or the command's exit is not the
expected one (0, or 1 with --expect-failure: a refusal, never a panic's 101 or a signal).
"""

import argparse
import os
import resource
import subprocess
import sys


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--file", required=True)
    ap.add_argument("--at-most", type=float, required=True)
    ap.add_argument("--expect-failure", action="store_true")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    done = subprocess.run(command, capture_output=True, text=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    size = os.path.getsize(args.file)
    ratio = peak / size
    name = os.path.basename(args.file)
    print(f"{name}: {size / 1e6:.0f} MB, peak {peak / 1e6:.0f} MB ({ratio:.2f}×), exit {done.returncode}")
    expected = 1 if args.expect_failure else 0
    if done.returncode != expected:
        print(f"expected exit {expected}; stderr:\n{done.stderr}", file=sys.stderr)
        return 1
    if args.expect_failure and not done.stderr.startswith("error: "):
        print(f"a refusal should be one `error: ` sentence; stderr:\n{done.stderr}", file=sys.stderr)
        return 1
    if ratio > args.at_most:
        print(f"peak memory {ratio:.2f}× the file, more than {args.at_most}×", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
