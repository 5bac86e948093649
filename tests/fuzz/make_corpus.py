#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets: tests/fuzz/corpus/{decoders,job}/.

Seeds are named seed-*; this script rewrites them all (and removes seed-*
files it no longer makes). Anything else in the corpus, such as a regress-*
input saved from a fuzzer finding, is left alone. Deterministic: running it
twice gives the same bytes.

decoders/: one frame per file, as the wire carries it (lib/protocol.c has the
layouts, protocol version 2). seed-ok-* are valid messages of every kind,
edges included (RANGE_TASKS and SQUARES, a range job's batches without
values, too); seed-bad-* are near misses, one field or one byte wrong.

job/: scripts for fuzz_job.c (its header comment has the format): a job and
operations (true batches, wrong squares, ids past the job, another job id,
wrong values, raw deltas), as RESULTS or as SQUARES.
"""
import pathlib
import struct

HERE = pathlib.Path(__file__).resolve().parent
U64_MAX = 2**64 - 1
I64_MAX = 2**63 - 1
I64_MIN = -(2**63)

ANNOUNCE, TASKS, RESULTS, KILL, HEARTBEAT, CREDIT, RESEND, WANT, REFUSE = range(1, 10)
LINES, LINE_RESULTS = 10, 11
RANGE_TASKS, SQUARES = 12, 13
VERSION = 2


def header(kind, count, job_id, version=VERSION, flags=0):
    return struct.pack("<BBHIQ", version, kind, flags, count, job_id)


#  A list job's tag key unless one is given (a range has none).
LIST_KEY = bytes(range(1, 17))


def announce(job_id, task_count, range_start=None, credit_step=1, expected_sum=0,
             options=None, pad=b"\0\0\0", count=0, input_digest=0, tag_key=None):
    if options is None:
        options = 0 if range_start is None else 1
    if tag_key is None:
        tag_key = LIST_KEY if range_start is None else bytes(16)
    body = struct.pack("<QB", task_count, options) + pad
    body += struct.pack("<Iq", credit_step, range_start or 0)
    body += expected_sum.to_bytes(32, "little") + struct.pack("<Q", input_digest)
    body += tag_key
    return header(ANNOUNCE, count, job_id) + body


def tasks(job_id, first, values, count=None, tag=0):
    count = len(values) if count is None else count
    return (header(TASKS, count, job_id) + struct.pack("<QQ", first, tag)
            + b"".join(struct.pack("<q", v) for v in values))


def entry(value, square=None):
    square = value * value if square is None else square
    return struct.pack("<q", value) + square.to_bytes(16, "little")


def results(job_id, first, values, worker=b"w", count=None, squares=None, id_length=None,
            tag=0):
    count = len(values) if count is None else count
    id_length = len(worker) if id_length is None else id_length
    squares = squares or [None] * len(values)
    return (header(RESULTS, count, job_id) + struct.pack("<QQB", first, tag, id_length)
            + worker
            + b"".join(entry(v, s) for v, s in zip(values, squares)))


def range_tasks(job_id, first, count, first_value, version=VERSION, flags=0):
    return (header(RANGE_TASKS, count, job_id, version=version, flags=flags)
            + struct.pack("<Qq", first, first_value))


def squares(job_id, first, values, worker=b"w", square_size=None, count=None,
            id_length=None, raw=None):
    """A range batch's squares of values; square_size as a worker picks it
    (8 when every square is below 2^64) unless given; raw replaces them."""
    count = len(values) if count is None else count
    id_length = len(worker) if id_length is None else id_length
    if square_size is None:
        square_size = 8 if all(v * v < 2**64 for v in values) else 16
    width = square_size if square_size in (8, 16) else 16
    body = raw if raw is not None else b"".join(
        (v * v).to_bytes(width, "little")[:square_size].ljust(square_size, b"\0")
        for v in values)
    return (header(SQUARES, count, job_id) + struct.pack("<QBB", first, square_size,
                                                         id_length) + worker + body)


def lines(job_id, first, texts, count=None, tags=None):
    count = len(texts) if count is None else count
    body = b"".join(struct.pack("<QI", (tags or [0] * len(texts))[i], len(t)) + t
                    for i, t in enumerate(texts))
    return header(LINES, count, job_id) + struct.pack("<Q", first) + body


def line_results(job_id, first, entries, worker=b"w", count=None):
    """entries: (status, tag, digest, bytes) each."""
    count = len(entries) if count is None else count
    body = b"".join(struct.pack("<BQQI", st, tag, dg, len(b)) + b for st, tag, dg, b in entries)
    return (header(LINE_RESULTS, count, job_id) + struct.pack("<QB", first, len(worker))
            + worker + body)


def heartbeat(job_id, state, received, total, shape=None, pad=bytes(7)):
    shape = (0 if state == 0 else 0x5A) if shape is None else shape
    return header(HEARTBEAT, 0, job_id) + bytes([state]) + pad + struct.pack(
        "<QQQ", received, total, shape)


def credit(job_id, received, first_missing, count=0, shape=0x5A):
    return header(CREDIT, count, job_id) + struct.pack("<QQQ", received, first_missing,
                                                       shape)


def want(batches, reset=0, job_id=0, pad=bytes(7)):
    return header(WANT, batches, job_id) + bytes([reset]) + pad


def resend(job_id, ranges, count=None):
    count = len(ranges) if count is None else count
    return header(RESEND, count, job_id) + b"".join(struct.pack("<QQ", f, n) for f, n in ranges)


def kill(job_id, count=0, shape=0x5A):
    return header(KILL, count, job_id) + struct.pack("<Q", shape)


def refuse(job_id, reason, detail=0, shape=0x5A, pad=bytes(7), count=0):
    return header(REFUSE, count, job_id) + bytes([reason]) + pad + struct.pack(
        "<QQ", detail, shape)


def decoder_seeds():
    #  64 printable bytes; no backslash or '=', which no worker id may hold.
    long_id = bytes(range(0x30, 0x30 + 64)).replace(b"\\", b"!").replace(b"=", b"-")
    extremes = [0, 1, -1, I64_MAX, I64_MIN, 3037000499, -3037000500]
    ok = {
        "announce-list": announce(7, 1000, credit_step=100, expected_sum=2**200 + 12345,
                                  input_digest=0xDA2BFB225E0D1F05),
        "announce-list-zero": announce(8, 1, expected_sum=0, input_digest=0),
        "announce-list-digest-max": announce(9, 3, expected_sum=14, input_digest=U64_MAX),
        "announce-range": announce(1, 10, range_start=-5),
        "announce-range-edge": announce(2, 1000, range_start=I64_MAX - 999),
        "announce-range-one-at-max": announce(3, 1, range_start=I64_MAX),
        "announce-range-widest": announce(U64_MAX, U64_MAX, range_start=I64_MIN),
        "tasks-one": tasks(1, 0, [42]),
        "tasks-extremes": tasks(9, 1000, extremes),
        "tasks-64": tasks(2, 64, list(range(-32, 32))),
        "tasks-last-ids": tasks(3, U64_MAX - 3, [5, 6, 7]),
        "tasks-tag": tasks(4, 10, [-1, 2], tag=0xFEDCBA9876543210),
        "tasks-tag-max": tasks(4, 0, [7], tag=U64_MAX),
        "results-tag": results(6, 10, [-1, 2], tag=0xFEDCBA9876543210),
        "announce-list-key-one-bit": announce(10, 5, expected_sum=55,
                                              tag_key=bytes(15) + b"\x80"),
        "announce-list-key-max": announce(11, 5, expected_sum=55, tag_key=b"\xff" * 16),
        "results-one": results(1, 0, [3]),
        "results-extremes": results(2, 17, extremes, worker=b"worker-1"),
        "results-long-id": results(3, 5, [10, -10, 0], worker=long_id),
        "results-wrong-square": results(4, 0, [2], squares=[5]),  # shape only
        "results-last-ids": results(5, U64_MAX - 2, [1, 2], worker=b"z~!"),
        "kill": kill(12),
        "kill-shape-max": kill(12, shape=U64_MAX),
        "heartbeat-idle": heartbeat(0, 0, 0, 0),
        "heartbeat-running": heartbeat(5, 1, 10, 1000),
        "heartbeat-done": heartbeat(5, 2, 1000, 1000),
        "heartbeat-abandoned": heartbeat(5, 3, 10, 1000, shape=U64_MAX),
        "heartbeat-done-ended-ago": heartbeat(5, 2, 1000, 1000, pad=bytes(3) + b"\xe8\x03\0\0"),
        "credit": credit(5, 640, 600),
        "credit-zero": credit(5, 0, 0),
        "refuse-too-large": refuse(5, 1, detail=2**32),
        "refuse-busy": refuse(6, 2, detail=5),
        "refuse-shape": refuse(5, 3, shape=1),
        "refuse-no-memory": refuse(7, 4, detail=U64_MAX, shape=U64_MAX),
        "want-one": want(1),
        "want-reset-zero": want(0, reset=1),
        "want-max": want(65536),
        "resend-one": resend(5, [(100, 28)]),
        "resend-last-id": resend(5, [(U64_MAX - 1, 1)]),
        "resend-64": resend(6, [(i * 10, 5) for i in range(64)]),
        "announce-lines": announce(13, 100, expected_sum=0, input_digest=0x1234,
                                   options=2),
        "lines-one": lines(1, 0, [b"hello"]),
        "lines-empty-line": lines(2, 5, [b"", b"a b\tc", b"\xff\xfe"], tags=[1, 2, 3]),
        "lines-last-ids": lines(3, U64_MAX - 2, [b"x", b"y"]),
        "line-results-one": line_results(1, 0, [(0, 7, 8, b"HELLO")]),
        "line-results-failed": line_results(2, 9, [(1, 1, 2, b"exit status 1"),
                                                   (0, 3, 4, b"")], worker=long_id),
        "range-tasks-one": range_tasks(1, 0, 1, 0),
        "range-tasks-full": range_tasks(2, 1000, 65536, -5),
        "range-tasks-one-at-max": range_tasks(3, 7, 1, I64_MAX),
        "range-tasks-edge": range_tasks(4, 0, 65536, I64_MAX - 65535),
        "range-tasks-min": range_tasks(5, 0, 65536, I64_MIN),
        "range-tasks-last-ids": range_tasks(U64_MAX, U64_MAX - 3, 3, -1),
        "squares-8-one": squares(1, 0, [3]),
        "squares-8-edge": squares(2, 10, [4294967295, -4294967295, 0]),
        "squares-8-max-bits": squares(2, 0, [0], raw=b"\xff" * 8),
        "squares-16": squares(3, 5, [I64_MIN, I64_MAX, 4294967296], worker=b"worker-1"),
        "squares-16-small": squares(3, 5, [1, 2], square_size=16),  # 16 always allowed
        "squares-long-id": squares(4, 0, [10, -10, 0], worker=long_id),
        "squares-last-ids": squares(5, U64_MAX - 2, [1, 2], worker=b"z~!"),
        "squares-wrong-square": squares(6, 0, [2], raw=struct.pack("<Q", 5)),  # shape only
    }
    bad = {
        "empty": b"",
        "short-header": header(KILL, 0, 1)[:15],
        "version-1-kill": header(KILL, 0, 1, version=1),  # a whole version 1 KILL
        "version-1-shaped": kill(1)[:1] + b"\1" + kill(1)[2:],  # kind byte intact
        "version-3": header(KILL, 0, 1, version=3) + struct.pack("<Q", 1),
        "flags": kill(1)[:2] + b"\1\0" + kill(1)[4:],
        "kind-0": header(0, 0, 1),
        "kind-10": header(10, 0, 1) + bytes(24),
        "kind-12": header(12, 1, 1) + bytes(24),
        "lines-count-more": lines(1, 0, [b"a"], count=2),
        "lines-count-less": lines(1, 0, [b"a", b"b"], count=1),
        "lines-nul": lines(1, 0, [b"a\0b"]),
        "lines-newline": lines(1, 0, [b"a\nb"]),
        "lines-length-past": lines(1, 0, [b"abc"])[:-1],
        "lines-job-0": lines(0, 0, [b"a"]),
        "line-results-status-2": line_results(1, 0, [(2, 0, 0, b"a")]),
        "line-results-nul": line_results(1, 0, [(0, 0, 0, b"a\0")]),
        "line-results-bad-id": line_results(1, 0, [(0, 0, 0, b"a")], worker=b"a b"),
        "line-results-trailing": line_results(1, 0, [(0, 0, 0, b"a")]) + b"z",
        "announce-lines-range": announce(13, 100, range_start=1, options=3),
        "announce-lines-sum": announce(13, 100, expected_sum=5, options=2),
        "announce-short": announce(1, 10)[:-1],
        "announce-long": announce(1, 10) + b"\0",
        "announce-count": announce(1, 10, count=1),
        "announce-job-0": announce(0, 10),
        "announce-tasks-0": announce(1, 0),
        "announce-options": announce(1, 10, options=4),  # 2 is lines now
        "announce-pad": announce(1, 10, pad=b"\0\1\0"),
        "announce-credit-0": announce(1, 10, credit_step=0),
        "announce-range-overflow": announce(1, 1001, range_start=I64_MAX - 999),
        "announce-range-widest-plus": announce(1, U64_MAX, range_start=I64_MIN + 2),
        "announce-version-1-size": announce(1, 10, range_start=0)[:72],
        "announce-untagged-size": announce(1, 10, range_start=0)[:80],
        "announce-list-key-0": announce(1, 10, tag_key=bytes(16)),
        "announce-range-key": announce(1, 10, range_start=0, tag_key=b"\1" + bytes(15)),
        "announce-range-key-top": announce(1, 10, range_start=0,
                                           tag_key=bytes(15) + b"\x80"),
        "tasks-untagged": tasks(1, 0, [1, 2])[:24] + tasks(1, 0, [1, 2])[32:],
        "results-untagged": results(1, 0, [3])[:24] + results(1, 0, [3])[32:],
        "announce-range-digest": announce(1, 10, range_start=0, input_digest=1),
        "announce-range-sum": announce(1, 10, range_start=0, expected_sum=1),
        "announce-range-sum-top": announce(1, 10, range_start=0, expected_sum=2**255),
        "tasks-count-0": tasks(1, 0, [], count=0),
        "tasks-count-huge": tasks(1, 0, [], count=65537),
        "tasks-size-minus": tasks(1, 0, [1, 2])[:-1],
        "tasks-size-plus": tasks(1, 0, [1, 2]) + b"\0",
        "tasks-count-more": tasks(1, 0, [1, 2], count=3),
        "tasks-wrap": tasks(1, U64_MAX - 1, [1, 2]),
        "tasks-job-0": tasks(0, 0, [1]),
        "results-id-0": results(1, 0, [3], worker=b""),
        "results-id-65": results(1, 0, [3], worker=long_id + b"x"),
        "results-id-space": results(1, 0, [3], worker=b"a b"),
        "results-id-quote": results(1, 0, [3], worker=b'a"b'),
        "results-id-backslash": results(1, 0, [3], worker=b"a\\b"),
        "results-id-del": results(1, 0, [3], worker=b"a\x7f"),
        "results-id-length-lies": results(1, 0, [3], worker=b"ab", id_length=3),
        "results-size-minus": results(1, 0, [3, 4])[:-1],
        "results-wrap": results(1, U64_MAX - 1, [3, 4]),
        "results-count-0": results(1, 0, [], count=0),
        "kill-count": kill(1, count=1),
        "kill-long": kill(1) + b"\0",
        "kill-job-0": kill(0),
        "kill-shape-0": kill(1, shape=0),
        "kill-header-only": kill(1)[:16],
        "heartbeat-idle-job": heartbeat(1, 0, 0, 0),
        "heartbeat-running-total-0": heartbeat(1, 1, 0, 0),
        "heartbeat-received-over": heartbeat(1, 2, 11, 10),
        "heartbeat-state-4": heartbeat(1, 4, 1, 10),
        "heartbeat-pad": heartbeat(1, 1, 1, 10, pad=b"\0\0\0\0\0\0\1"),
        "heartbeat-running-ended-ago": heartbeat(1, 1, 1, 10, pad=b"\0\0\0\1\0\0\0"),
        "heartbeat-idle-shape": heartbeat(0, 0, 0, 0, shape=1),
        "heartbeat-running-shape-0": heartbeat(1, 1, 1, 10, shape=0),
        "heartbeat-abandoned-shape-0": heartbeat(1, 3, 1, 10, shape=0),
        "heartbeat-version-1-size": heartbeat(1, 1, 1, 10)[:40],
        "credit-docs-size-24": credit(5, 640, 0)[:24],
        "credit-version-1-size": credit(5, 640, 0)[:32],
        "credit-shape-0": credit(5, 1, 1, shape=0),
        "credit-count": credit(5, 1, 1, count=1),
        "credit-job-0": credit(0, 1, 1),
        "want-job": want(1, job_id=1),
        "want-reset-2": want(1, reset=2),
        "want-zero": want(0),
        "want-over-max": want(65537),
        "want-pad": want(1, pad=b"\1" + bytes(6)),
        "resend-count-0": resend(5, [], count=0),
        "resend-65": resend(5, [(i, 1) for i in range(65)]),
        "resend-empty-range": resend(5, [(1, 0)]),
        "resend-wrap": resend(5, [(U64_MAX, 1)]),
        "resend-count-more": resend(5, [(1, 1)], count=2),
        "refuse-reason-0": refuse(1, 0),
        "refuse-reason-5": refuse(1, 5),
        "refuse-reason-255": refuse(1, 255),
        "refuse-pad": refuse(1, 2, pad=bytes(6) + b"\1"),
        "refuse-shape-0": refuse(1, 2, shape=0),
        "refuse-job-0": refuse(0, 2),
        "refuse-count": refuse(1, 2, count=1),
        "refuse-short": refuse(1, 2)[:-1],
        "refuse-long": refuse(1, 2) + b"\0",
        "kind-14": header(14, 1, 1) + bytes(16),
        "range-tasks-short": range_tasks(1, 0, 2, 0)[:-1],
        "range-tasks-long": range_tasks(1, 0, 2, 0) + b"\0",
        "range-tasks-with-a-value": range_tasks(1, 0, 1, 0) + struct.pack("<q", 0),
        "range-tasks-count-0": range_tasks(1, 0, 0, 0),
        "range-tasks-count-huge": range_tasks(1, 0, 65537, 0),
        "range-tasks-job-0": range_tasks(0, 0, 1, 0),
        "range-tasks-wrap": range_tasks(1, U64_MAX - 1, 2, 0),
        "range-tasks-at-u64-max": range_tasks(1, U64_MAX, 1, 0),
        "range-tasks-overflow": range_tasks(1, 0, 2, I64_MAX),
        "range-tasks-overflow-full": range_tasks(1, 0, 65536, I64_MAX - 65534),
        "range-tasks-flags": range_tasks(1, 0, 1, 0, flags=1),
        "range-tasks-version-1": range_tasks(1, 0, 1, 0, version=1),
        "range-tasks-as-tasks": tasks(1, 0, [1, 2])[:1] + bytes([RANGE_TASKS])
        + tasks(1, 0, [1, 2])[2:],
        "squares-size-0": squares(1, 0, [3], square_size=0),
        "squares-size-1": squares(1, 0, [3], square_size=1),
        "squares-size-15": squares(1, 0, [3], square_size=15),
        "squares-size-17": squares(1, 0, [3], square_size=17),
        "squares-size-24": squares(1, 0, [3], square_size=24),
        "squares-size-8-of-16": squares(1, 0, [3, 4], square_size=16)[:24] + b"\x08"
        + squares(1, 0, [3, 4], square_size=16)[25:],
        "squares-count-0": squares(1, 0, [], count=0),
        "squares-count-huge": squares(1, 0, [], count=65537),
        "squares-count-more": squares(1, 0, [1, 2], count=3),
        "squares-size-minus": squares(1, 0, [3, 4])[:-1],
        "squares-size-plus": squares(1, 0, [3, 4]) + b"\0",
        "squares-wrap": squares(1, U64_MAX - 1, [3, 4]),
        "squares-job-0": squares(0, 0, [3]),
        "squares-id-0": squares(1, 0, [3], worker=b""),
        "squares-id-65": squares(1, 0, [3], worker=long_id + b"x"),
        "squares-id-space": squares(1, 0, [3], worker=b"a b"),
        "squares-id-equals": squares(1, 0, [3], worker=b"a=b"),
        "squares-id-length-lies": squares(1, 0, [3], worker=b"ab", id_length=3),
        "squares-flags": squares(1, 0, [3])[:2] + b"\0\x80" + squares(1, 0, [3])[4:],
        "squares-version-3": b"\3" + squares(1, 0, [3])[1:],
        "squares-as-results": results(1, 0, [3])[:1] + bytes([SQUARES])
        + results(1, 0, [3])[2:],
    }
    seeds = {"seed-ok-" + name: data for name, data in ok.items()}
    seeds.update({"seed-bad-" + name: data for name, data in bad.items()})
    return seeds


def script(task_count, range_start=None, job_id=1, ops=(), salt=0):
    """A fuzz_job.c input: task_count 1..5000; range_start None for a list job,
    whose values that word (salt) seeds instead."""
    options = (job_id - 1) << 1 | (range_start is not None)
    data = struct.pack("<BHq", options, task_count - 1,
                       salt if range_start is None else range_start)
    for op in ops:
        data += op
    return data


#  Operation flags (fuzz_job.c's header comment).
FLIP_TAG, PREVIOUS_KEY, REKEY = 0x20, 0x40, 0x80
AS_SQUARES = PREVIOUS_KEY  # the same bit, for a range job


def op(kind, first=0, count=1, a=0, b=0, worker=0, raw=b"", flags=0):
    """One operation; count is the batch size wanted (stored as count - 1)."""
    return struct.pack("<BHHBB", kind | worker << 3 | flags, first, count - 1, a, b) + raw


def job_seeds():
    seeds = {
        "empty": b"",
        "range-one": script(1, 0, ops=[op(0)]),
        "range-small-complete": script(10, -5, ops=[op(0, 0, 4), op(1, 4, 6, worker=1),
                                                    op(2, 2, 4, worker=2)]),
        "list-5000-complete": script(5000, 77, job_id=9,
                                     ops=[op(0, i, 1000, worker=i // 1000 % 4)
                                          for i in range(0, 5000, 1000)] + [op(0, 4990, 10)]),
        "range-at-max-gaps": script(100, I64_MAX - 99,
                                    ops=[op(3, 0, 10, a=127, b=3), op(0, 0, 10), op(0, 20, 10),
                                         op(0, 50, 1), op(0, 99, 1)]),
        "range-at-min-gaps": script(3000, I64_MIN,
                                    ops=[op(0, i, 1, worker=i % 4) for i in range(0, 200, 2)]),
        "range-word-edges-64": script(64, 1000, ops=[op(0, 0, 63), op(0, 63, 1), op(0, 0, 64)]),
        "range-word-edges-65": script(65, -1000, ops=[op(0, 64, 1), op(0, 0, 64), op(0, 1, 2)]),
        "range-word-edges-128": script(128, 0, ops=[op(0, 0, 64), op(0, 65, 63), op(0, 64, 1)]),
        "list-wrong-values": script(7, 5, ops=[op(6, 0, 7, a=1, b=3), op(0, 0, 7)]),
        "range-wrong-values": script(7, 5, ops=[op(6, 0, 7, a=0, b=6), op(0, 0, 7)]),
        "past-the-job": script(50, 0, ops=[op(4, 0, 1), op(4, 0, 51), op(4, 0, 64, a=1),
                                          op(0, 0, 50)]),
        "other-job": script(20, None, job_id=3, ops=[op(5, 0, 20, a=0), op(5, 0, 20, a=255),
                                                     op(0, 0, 20)]),
        "raw-true-and-lies": script(
            8, 100, ops=[op(7, 0, 4, raw=bytes(96)),
                         op(7, 4, 4, raw=bytes(24) * 3 + b"\1" + bytes(23)),
                         op(7, 4, 4, raw=bytes(24) * 3 + bytes(8) + b"\1" + bytes(15)),
                         op(7, 4, 4, raw=bytes(96)), op(7, 8, 1, raw=bytes(24))]),
        "list-raw": script(8, None, ops=[op(7, 2, 3, raw=b"\5" + bytes(23) + bytes(48))]),
        #  Tags: flipped bits (a list refuses, a range ignores), a previous
        #  key before there is one, rekeys to new, same and earlier keys.
        "list-tag-flipped": script(16, None, ops=[op(0, 0, 8, a=a, flags=FLIP_TAG)
                                                  for a in (0, 31, 63)]
                                   + [op(0, 0, 16)]),
        "range-tag-flipped": script(16, 3, ops=[op(0, 0, 16, a=5, flags=FLIP_TAG)]),
        "list-rekey": script(40, None, job_id=5, ops=[
            op(0, 0, 5, flags=PREVIOUS_KEY),          # no previous key yet
            op(0, 0, 5, b=1, flags=REKEY),            # the new key
            op(0, 5, 5, flags=PREVIOUS_KEY),          # the first key, still held
            op(0, 10, 5, b=1, flags=REKEY),           # the same key again: nothing
            op(0, 15, 5, b=2, flags=REKEY),           # a third: the first is gone
            op(0, 20, 5, flags=PREVIOUS_KEY),         # key 1, held
            op(0, 25, 5, b=0, flags=REKEY | PREVIOUS_KEY),  # back to 0: 2 before it
            op(0, 25, 15, b=3, flags=REKEY)]),
        "range-rekey": script(10, -3, ops=[op(0, 0, 5, b=1, flags=REKEY),
                                           op(0, 5, 5, flags=PREVIOUS_KEY)]),
        "duplicates-everywhere": script(300, -150, ops=[op(0, 0, 300)] +
                                        [op(0, i, 50, worker=1) for i in range(0, 300, 25)]),
        #  SQUARES (kind 2, or any kind with AS_SQUARES on a range job).
        "range-squares-complete": script(100, -50, ops=[
            op(2, 0, 50), op(0, 50, 50, worker=1, flags=AS_SQUARES),
            op(2, 25, 50, worker=2)]),  # duplicates, as SQUARES
        "range-squares-mixed": script(40, 1000, ops=[
            op(0, 0, 20), op(2, 10, 20, worker=1), op(1, 30, 10, worker=3)]),
        #  At INT64_MIN every square needs 16 bytes: cut to 8 it is a lie.
        "range-squares-wide": script(20, I64_MIN, ops=[
            op(2, 0, 10, a=2), op(2, 0, 10), op(2, 10, 10, a=1)]),
        #  Small squares in 8 bytes or, as a worker may, in 16.
        "range-squares-narrow": script(20, -7, ops=[op(2, 0, 10, a=1), op(2, 10, 10, a=2)]),
        #  Squares whose 8 bytes are all used, and one past them.
        "range-squares-edge": script(4, 4294967294, ops=[op(2, 0, 4, a=2), op(2, 0, 4)]),
        "range-squares-lies": script(64, -30, ops=[
            op(3, 0, 10, a=5, b=2, flags=AS_SQUARES),
            op(3, 0, 10, a=100, b=9, flags=AS_SQUARES),  # a bit past 8 bytes: 16 sent
            op(6, 10, 10, a=0, b=4, flags=AS_SQUARES),
            op(4, 0, 5, flags=AS_SQUARES), op(4, 0, 5, a=1, flags=AS_SQUARES),
            op(5, 0, 5, a=3, flags=AS_SQUARES),
            op(7, 20, 2, flags=AS_SQUARES, raw=bytes(48)),
            op(7, 22, 2, flags=AS_SQUARES, raw=bytes(24) + b"\1" + bytes(23)),
            op(7, 22, 2, flags=AS_SQUARES, raw=bytes(32) + b"\1" + bytes(15)),
            op(0, 0, 64)]),
        #  A wrong value whose square is right (-3 for 3): SQUARES cannot
        #  tell, and need not.
        "range-squares-sign": script(7, -3, ops=[op(6, 0, 1, a=5, flags=AS_SQUARES),
                                                 op(2, 1, 6)]),
        #  A list job takes no SQUARES: it has no values to check them by.
        "list-squares": script(10, None, ops=[op(2, 0, 10), op(2, 0, 10, a=1),
                                              op(0, 0, 10)]),
        #  ... even when a value is its task id (task 7 of this salt is 7), so
        #  that the squares look right for a range starting at 0.
        "list-squares-value-is-id": script(8, None, salt=490, ops=[op(2, 7, 1), op(0, 0, 8)]),
    }
    return {"seed-" + name: data for name, data in seeds.items()}


def line_seeds():
    """Scripts for fuzz_lines.c: task count - 1, budget / 32 - 1, then ops of
    (first, count - 1, failed bits, flags, seed)."""
    def script(tasks, budget, ops):
        return bytes([tasks - 1, budget]) + b"".join(bytes(op) for op in ops)
    seeds = {
        "in-order": script(40, 10, [(i, 3, 0, 0, i) for i in range(0, 40, 4)]),
        "reverse": script(40, 255, [(i, 3, 0, 0x30, i) for i in range(36, -1, -4)]),
        "reverse-small-budget": script(40, 0, [(i, 3, 0, 0, i) for i in range(36, -1, -4)]
                                       + [(i, 3, 0, 0, i) for i in range(0, 40, 4)]),
        "failed-duplicates": script(20, 4, [(0, 7, 0x55, 0, 1), (4, 7, 0x0f, 0, 2),
                                            (8, 15, 0xff, 0, 3), (0, 15, 0, 0, 4),
                                            (16, 3, 0, 0, 5)]),
        "bad-tag-past-other": script(30, 8, [(3, 4, 0, 1, 7), (25, 9, 0, 2, 0),
                                             (0, 4, 0, 4, 0), (0, 15, 0, 0, 1),
                                             (15, 15, 0, 0, 2)]),
        "skip-ordered-check": script(50, 0, [(40, 9, 0, 8, 1), (20, 15, 3, 8, 2),
                                             (0, 15, 0, 0, 3), (15, 15, 0, 8, 4),
                                             (35, 15, 0, 0, 5)]),
        "one-task": script(1, 0, [(0, 0, 1, 0, 9), (0, 0, 0, 0, 9)]),
    }
    return {"seed-" + name: data for name, data in seeds.items()}


def write(folder, seeds):
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("seed-*"):
        if stale.name not in seeds:
            stale.unlink()
    for name, data in seeds.items():
        (folder / name).write_bytes(data)
    print(f"{folder}: {len(seeds)} seeds, {sum(map(len, seeds.values()))} bytes")


if __name__ == "__main__":
    write(HERE / "corpus" / "decoders", decoder_seeds())
    write(HERE / "corpus" / "job", job_seeds())
    write(HERE / "corpus" / "lines", line_seeds())
