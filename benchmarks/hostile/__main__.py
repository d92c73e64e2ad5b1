"""Replay the hostile set: every attack in benchmarks/hostile/{files,net}.py, each in a child
process of its own, and print a table of attack, outcome, wall time and the child's peak memory.

    python -m benchmarks.hostile [--only SUBSTRING] [--limit-s 120]

Each attack runs as `python -m benchmarks.hostile --run MODULE INDEX` so that one attack's
memory cannot hide another's and a runaway one is killed at --limit-s. Loopback only.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import import_module

from benchmarks.common import machine

MODULES = ("files", "net")
Attack = tuple[str, Callable[[], str]]


def attacks(module: str) -> list[Attack]:
    found: list[Attack] = import_module(f"benchmarks.hostile.{module}").attacks()
    return found


def run_one(module: str, index: int) -> None:
    """The child: run one attack and print its outcome on the last line."""
    _, attack = attacks(module)[index]
    print(attack(), flush=True)


def replay(module: str, index: int, limit_s: float) -> tuple[str, float, float]:
    """Outcome, seconds and peak resident MiB of one attack run in a child process (its own
    rusage from wait4, so one attack's memory never shows in another's row)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.hostile", "--run", module, str(index)],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        killed = ""
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - started > limit_s:
                child.kill()
                _, status, usage = os.wait4(child.pid, 0)
                killed = f"KILLED after {limit_s:.0f} s"
                break
            time.sleep(0.05)
        child.returncode = os.waitstatus_to_exitcode(status)  # already reaped by wait4
        seconds = time.perf_counter() - started
        out.seek(0)
        lines = [line for line in out.read().splitlines() if line.strip()]
    outcome = killed or (lines[-1] if lines else "no output")
    if child.returncode and not killed:
        outcome = f"exit {child.returncode}: {outcome}"
    return outcome, seconds, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the attacks whose name contains this")
    parser.add_argument("--limit-s", type=float, default=120.0, help="per attack")
    parser.add_argument("--run", nargs=2, metavar=("MODULE", "INDEX"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_one(args.run[0], int(args.run[1]))
        return
    print(f"# {machine()}")
    print("| attack | outcome | time (s) | peak memory (MiB) |\n|---|---|---:|---:|")
    for module in MODULES:
        for index, (name, _) in enumerate(attacks(module)):
            if args.only not in name:
                continue
            outcome, seconds, peak = replay(module, index, args.limit_s)
            print(f"| {name} | {outcome} | {seconds:.1f} | {peak:.0f} |", flush=True)


if __name__ == "__main__":
    main()
