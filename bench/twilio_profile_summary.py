"""Where the hub's time goes, from a py-spy recording (``--format raw``, collapsed stacks).

    python bench/twilio_profile_summary.py /tmp/prof/hub-throughput.txt [--top 40] [--match hub/]

Prints, per function, the share of samples it was on the stack (inclusive) and at the top of
it (self). Stacks of the event loop's other threads (aiosqlite's) are counted apart.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")


def short(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    file = match["file"]
    for marker in ("site-packages/", "/work/main/"):
        if marker in file:
            file = file.split(marker, 1)[1]
    return f"{match['func']} ({file})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", type=Path)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--match", default="", help="only functions whose file contains this")
    args = parser.parse_args()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in args.path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        frames = [short(f) for f in stack.split(";")]
        thread = frames[0] if frames and frames[0].startswith(("thread", "process")) else ""
        threads[thread.split(" (")[0]] += samples
        total += samples
        for frame in set(frames):
            inclusive[frame] += samples
        own[frames[-1]] += samples
    print(f"{total} samples")
    for name, samples in threads.most_common():
        print(f"  {samples / total:6.1%}  {name or '(main)'}")
    print("\ninclusive  self  function")
    shown = 0
    for frame, samples in inclusive.most_common():
        if args.match not in frame:
            continue
        print(f"{samples / total:8.1%} {own[frame] / total:6.1%}  {frame}")
        shown += 1
        if shown >= args.top:
            break


if __name__ == "__main__":
    main()
