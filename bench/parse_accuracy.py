"""Per-field accuracy of the ``rules`` reply parser on the labelled replies.

    python bench/parse_accuracy.py            # JSON: accuracy per field and set, counts, speed
    python bench/parse_accuracy.py --misses   # ... and every wrong field, to stderr
    python bench/parse_accuracy.py --file transcripts.jsonl   # other sets (repeatable)

Data, in tests/data (see its README): replies.jsonl, written before the parser and read while
writing its rules (a development set), replies_holdout.jsonl, written once the rules were
done and never used to change them, and replies_speak.jsonl, the harder replies of issue 15
(opt-out variants and traps, Spanish and Spanglish, emergencies by context, hard callback
windows, names, ZIP corrections, rambles), each line in a category scored on its own
(``by_category``). Every line is parsed with the catalog in services.json.
A callback start is right within 30 minutes of the label, or when both are null; every other
field must be equal. ``--file NAME`` scores other sets in tests/data instead (transcripts.jsonl:
voicemail transcripts, read through ``hub.speech.normalise`` first, as the hub reads them).

The baseline, scored in the same run on the same data, is what a hand-wired automation does:
the carrier keywords as the whole text, the first five-digit number as the ZIP, the first
catalog word found as the service, a few alarm words for urgency, and no callback or name.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hub.defaults.rules import read_reply
from hub.speech import normalise
from hub.types import Intent, ParseContext, ParsedReply

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
FIELDS = ("intent", "service", "zip", "urgency", "callback", "name")
TOLERANCE = timedelta(minutes=30)


SETS = (
    "replies.jsonl",
    "replies_holdout.jsonl",
    "replies_speak.jsonl",
    "replies_speak_holdout.jsonl",
)
#: The set scored per category (each of its lines names one), beside the baseline.
CATEGORIZED = "replies_speak.jsonl"
#: Sets of speech transcripts: the hub normalises spoken numbers before its parsers read them.
SPEECH_PREFIX = "transcripts"


def transcript_reply(text: str, context: ParseContext) -> ParsedReply:
    return read_reply(normalise(text), context)


def reader_for(name: str) -> Any:
    return transcript_reply if name.startswith(SPEECH_PREFIX) else read_reply


def load_services() -> dict[str, tuple[str, ...]]:
    services = json.loads((DATA / "services.json").read_text())
    return {name: tuple(synonyms) for name, synonyms in services.items()}


def load_rows(name: str) -> list[dict[str, Any]]:
    lines = (DATA / name).read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def context_for(row: dict[str, Any], services: dict[str, tuple[str, ...]]) -> ParseContext:
    received = datetime.fromisoformat(row["now"]).astimezone(ZoneInfo(row["timezone"]))
    return ParseContext("bench", row["timezone"], received, services)


_KEYWORDS = {
    Intent.OPT_OUT: {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"},
    Intent.OPT_IN: {"start", "unstop", "yes"},
    Intent.HELP: {"help", "info"},
}
_ALARM = ("emergency", "asap", "flood", "burst", "urgent")


def naive_reply(text: str, context: ParseContext) -> ParsedReply:
    """The baseline: keyword and substring matching, as a no-code automation would."""
    lowered = text.lower()
    word = lowered.strip().strip(".!")
    intent = next((i for i, words in _KEYWORDS.items() if word in words), None)
    zip_match = re.search(r"\b\d{5}\b", text)
    service = next(
        (name for name, words in context.services.items() for w in (name, *words) if w in lowered),
        None,
    )
    urgency = "emergency" if any(alarm in lowered for alarm in _ALARM) else None
    return ParsedReply(intent=intent, service=service, zip=zip_match.group() if zip_match else None,
                       urgency=urgency)  # fmt: skip


def got_fields(parsed: ParsedReply) -> dict[str, Any]:
    return {
        "intent": str(parsed.intent) if parsed.intent else "reply",
        "service": parsed.service,
        "zip": parsed.zip,
        "urgency": parsed.urgency,
        "callback": parsed.callback.start.isoformat() if parsed.callback else None,
        "name": parsed.name,
    }


def correct(field: str, want: Any, got: Any) -> bool:
    if field != "callback":
        return bool(want == got)
    if want is None or got is None:
        return want is None and got is None
    return abs(datetime.fromisoformat(want["start"]) - datetime.fromisoformat(got)) <= TOLERANCE


def score(
    rows: list[dict[str, Any]],
    services: dict[str, tuple[str, ...]],
    misses: bool,
    reader: Any = read_reply,
) -> dict[str, Any]:
    right = dict.fromkeys(FIELDS, 0)
    labelled = dict.fromkeys(FIELDS, 0)  # rows whose label is not null (nor a plain reply)
    for row in rows:
        got = got_fields(reader(row["text"], context_for(row, services)))
        for field in FIELDS:
            want = row["expected"][field]
            labelled[field] += want is not None and want != "reply"
            if correct(field, want, got[field]):
                right[field] += 1
            elif misses:
                shown = want["start"] if field == "callback" and want else want
                print(f"{field:>8}: want {shown!r} got {got[field]!r}  <- {row['text']!r}",
                      file=sys.stderr)  # fmt: skip
    return {
        "replies": len(rows),
        "accuracy": {field: round(right[field] / len(rows), 3) for field in FIELDS},
        "correct": right,
        "labelled_non_null": labelled,
        "intents": {
            intent: sum(row["expected"]["intent"] == intent for row in rows)
            for intent in ("reply", "opt_out", "opt_in", "help")
        },
    }


def by_category(rows: list[dict[str, Any]], services: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """Each category's accuracy per field, the rules beside the naive baseline."""
    categories: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        categories.setdefault(row["category"], []).append(row)
    return {
        name: {
            "replies": len(members),
            "rules": score(members, services, False)["accuracy"],
            "naive": score(members, services, False, reader=naive_reply)["accuracy"],
        }
        for name, members in categories.items()
    }


def microseconds_per_reply(
    rows: list[dict[str, Any]], services: dict[str, tuple[str, ...]]
) -> float:
    # Fresh text each time: the parser caches normalized texts.
    contexts = [context_for(row, services) for row in rows]
    began = time.perf_counter()
    for round_ in range(5):
        for row, context in zip(rows, contexts, strict=True):
            read_reply(row["text"] + " " * (round_ + 1), context)
    return (time.perf_counter() - began) / (5 * len(rows)) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="print every wrong field to stderr")
    parser.add_argument(
        "--file",
        action="append",
        metavar="NAME",
        help="score this set in tests/data instead of the default ones (repeatable)",
    )
    args = parser.parse_args()
    sets = tuple(args.file) if args.file else SETS

    services = load_services()
    report: dict[str, Any] = {}
    everything: list[dict[str, Any]] = []
    readers: dict[str, Any] = {}
    for name in sets:
        rows = load_rows(name)
        if args.misses:
            print(f"-- {name}", file=sys.stderr)
        report[name] = score(rows, services, args.misses, reader=reader_for(name))
        everything.extend(rows)
        readers.update({row["text"]: reader_for(name) for row in rows})

    def read(text: str, context: ParseContext) -> ParsedReply:
        reader: Any = readers.get(text, read_reply)
        parsed: ParsedReply = reader(text, context)
        return parsed

    report["combined"] = score(everything, services, False, reader=read)
    baseline = score(everything, services, False, reader=naive_reply)
    report["baseline_naive_combined"] = {"accuracy": baseline["accuracy"]}
    report["by_category"] = by_category(load_rows(CATEGORIZED), services)
    report["microseconds_per_reply"] = round(microseconds_per_reply(everything, services), 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
