"""The sink's human summary on stderr, parsed: one definition for every suite
(integration, faults, hostile, docker). Scripts should read --json; the
tests that check the human text itself read it here.

The counts are grouped ("1,234,567 of 3,000,000 tasks", README "Output"),
and parsed strictly: a count of four digits or more without its commas
does not match, so a summary that stops grouping fails the tests. The job
id and the sum of squares are plain digits (values to copy and compare).

    sink: job 42 complete: 1,000,000 of 1,000,000 tasks, 0 duplicates, 0 malformed, 0 refused, 0 resends (0 tasks asked again)
    sink: 0.113 s, 8,824,100 tasks/s
    sink: sum of squares 333333833333500000 (verified)
    sink: 4 workers: w1=234,900 w2=259,000 w3=253,600 w4=252,500
"""
import re

#  A grouped count: 1 to 3 digits, then groups of three after commas.
COUNT = r"\d{1,3}(?:,\d{3})*"

HEAD = re.compile(
    rf"^sink: job (\d+) (\w+): ({COUNT}) of ({COUNT}) tasks, ({COUNT}) duplicates, "
    rf"({COUNT}) malformed, ({COUNT}) refused, ({COUNT}) resends "
    rf"\(({COUNT}) tasks asked again\)$", re.M)
#  Any first line, grouped or not: to tell "no summary" from "a summary in
#  another form".
ANY_HEAD = re.compile(r"^sink: job \d+ \w+: .* tasks\b.*$", re.M)
RATE = re.compile(rf"^sink: (\d+\.\d+) s, ({COUNT}) tasks/s$", re.M)
SUM = re.compile(r"^sink: sum of squares (\d+) \(([^)]*)\)$", re.M)
WORKERS = re.compile(rf"^sink: ({COUNT}) workers?:(.*)$", re.M)
WORKER = re.compile(rf"^(\S+)=({COUNT})$")


def grouped(number):
    """number as the human summary writes it: 1234567 -> '1,234,567'."""
    return f"{number:,}"


def count(text):
    """A grouped count -> int; '1,234' -> 1234."""
    return int(text.replace(",", ""))


def parse(stderr):
    """The one human summary in stderr -> dict, or None when there is none.
    Raises ValueError when there is more than one, or when one is there but
    not in the grouped form (its first line is quoted)."""
    heads = ANY_HEAD.findall(stderr)
    if not heads:
        return None
    if len(heads) > 1:
        raise ValueError(f"{len(heads)} human summaries: {heads}")
    head, rate, total, workers = (pattern.search(stderr)
                                  for pattern in (HEAD, RATE, SUM, WORKERS))
    for name, found in (("first line", head), ("rate line", rate), ("sum line", total),
                        ("workers line", workers)):
        if not found:
            raise ValueError(f"the human summary's {name} is missing or not in the "
                             f"grouped form: {heads[0]!r}\n{stderr[-2000:]}")
    counts = {}
    for item in workers.group(2).split():
        found = WORKER.match(item)
        if not found:
            raise ValueError(f"worker count {item!r} is not 'id=count' grouped")
        counts[found.group(1)] = count(found.group(2))
    if len(counts) != count(workers.group(1)):
        raise ValueError(f"the summary names {workers.group(1)} workers but lists "
                         f"{len(counts)}: {workers.group(0)!r}")
    keys = ("received", "tasks", "duplicates", "malformed", "refused", "resends",
            "asked_again")
    summary = {"job": head.group(1), "outcome": head.group(2)}
    summary.update((key, count(head.group(3 + index))) for index, key in enumerate(keys))
    summary.update(seconds=float(rate.group(1)), tasks_per_s=count(rate.group(2)),
                   sum=int(total.group(1)), verdict=total.group(2),
                   verified=total.group(2) == "verified", workers=counts,
                   workers_line=workers.group(0))
    return summary
