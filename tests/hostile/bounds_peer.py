#!/usr/bin/python3
"""bounds_peer.py MODE ...: a hostile peer for test_bounds.py, one process.

Each mode is bounded in what it sends and in time, and stops by itself;
every report is one line on stdout, flushed. pyzmq (Debian's python3-zmq).

  subscribe ENDPOINT KIND COUNT SECONDS
      An XSUB on the sink's control socket sends COUNT distinct
      subscriptions: KIND 'long', random 1000-byte ones; 'short', every
      1-byte topic then distinct 2-byte ones (each one byte and a topic, so
      2 or 3 bytes, within DV_SUBSCRIPTION_CAP). Reports "sent N" and, at
      the end, "disconnects D" (how often the sink closed the connection:
      an XSUB reconnects and sends its subscriptions again).
  ids RESULTS CONTROL JOB COUNT
      A PUSH on the sink's result socket announces a range job of COUNT
      tasks (values 1..COUNT), then sends COUNT one-task batches, task i
      under worker id "i<i>". Reports "sent N".
  flood RESULTS CONTROL SIZE COUNT SECONDS
      A PUSH on the sink's result socket queues COUNT frames of SIZE bytes
      (a RESULTS header, then zeros: malformed once read), all sharing one
      buffer. Reports "queued N".
  Both wait (SECONDS, or 120 s) for the sink's KILL on CONTROL before they
  close: over ipc, libzmq 4.3.4 may lose what a sender still had queued
  when it closes (libzmq issue 4660).
  scatter RESULTS CONTROL JOB TASKS COUNT STRIDE
      A PUSH on the sink's result socket announces a range job of TASKS
      tasks (values 1..TASKS), once (no repeat: the sink abandons it after
      its --peer-timeout), then sends COUNT one-task batches, task
      k * STRIDE for k = 0 .. COUNT-1. Reports "sent N", then waits (120 s
      at most) for the sink's ABANDONED heartbeat before it closes.
  idle HOST PORT COUNT SECONDS
      Opens COUNT TCP connections that never send a byte, and notes when
      the peer closes each one. After SECONDS, or once every connection
      opened was closed, reports "connected C closed K first_s A last_s B"
      (seconds from connect to close).
"""

import os
import random
import selectors
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "faults"))

import zmq  # noqa: E402

from test_faults import announce, header, results  # noqa: E402


def say(text):
    print(text, flush=True)


def monitor_of(context, sock):
    sock.monitor("inproc://bounds-peer-monitor", zmq.EVENT_DISCONNECTED)
    monitor = context.socket(zmq.PAIR)
    monitor.connect("inproc://bounds-peer-monitor")
    return monitor


def count_events(monitor):
    count = 0
    while monitor.poll(0):
        frames = monitor.recv_multipart()
        event, = struct.unpack("<H", frames[0][:2])
        count += event == zmq.EVENT_DISCONNECTED
    return count


def subscriptions(kind, count):
    if kind == "long":
        rng = random.Random(9)
        return (b"\x01" + rng.randbytes(999) for _ in range(count))
    topics = [bytes([byte]) for byte in range(256)]
    topics += [struct.pack(">H", value) for value in range(count - len(topics))]
    return (b"\x01" + topic for topic in topics[:count])


def mode_subscribe(endpoint, kind, count, seconds):
    context = zmq.Context()
    xsub = context.socket(zmq.XSUB)
    xsub.setsockopt(zmq.LINGER, 0)
    monitor = monitor_of(context, xsub)
    xsub.connect(endpoint)
    deadline = time.monotonic() + float(seconds)
    sent = disconnects = 0
    for message in subscriptions(kind, int(count)):
        while time.monotonic() < deadline:
            try:
                xsub.send(message, zmq.NOBLOCK)
                sent += 1
                break
            except zmq.Again:
                time.sleep(0.001)  # the pipe is full: a bounded wait
        disconnects += count_events(monitor)
    say(f"sent {sent}")
    #  A moment for the sink to answer the last of them, then the tally.
    end = min(deadline, time.monotonic() + 1.0)
    while time.monotonic() < end:
        time.sleep(0.05)
        disconnects += count_events(monitor)
    say(f"disconnects {disconnects}")
    xsub.disable_monitor()
    monitor.close()
    xsub.close()
    context.term()


def wait_kill(context, control, seconds):
    sub = context.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, bytes([2, 4]))
    sub.connect(control)
    return sub, time.monotonic() + float(seconds)


def until_kill(sub, deadline):
    while time.monotonic() < deadline:
        if sub.poll(100):
            sub.recv()
            say("kill")
            break
    sub.close()


def mode_ids(endpoint, control, job, count):
    job, count = int(job), int(count)
    context = zmq.Context()
    sub, deadline = wait_kill(context, control, 120)
    push = context.socket(zmq.PUSH)
    push.setsockopt(zmq.LINGER, 60000)
    push.setsockopt(zmq.SNDHWM, 0)
    push.connect(endpoint)
    push.send(announce(job, count, start=1))
    for task in range(count):
        push.send(results(job, task, [task + 1], worker=f"i{task}".encode()))
    say(f"sent {count}")
    until_kill(sub, deadline)
    push.close()
    context.term()


def mode_scatter(endpoint, control, job, tasks, count, stride):
    job, tasks, count, stride = int(job), int(tasks), int(count), int(stride)
    context = zmq.Context()
    sub = context.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, bytes([2, 5]))  # heartbeats
    sub.connect(control)
    push = context.socket(zmq.PUSH)
    push.setsockopt(zmq.LINGER, 60000)
    push.setsockopt(zmq.SNDHWM, 0)
    push.connect(endpoint)
    push.send(announce(job, tasks, start=1))
    for index in range(count):
        task = index * stride
        push.send(results(job, task, [task + 1]))
    say(f"sent {count}")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if sub.poll(100):
            frame = sub.recv()
            if len(frame) > 16 and frame[16] == 3:
                say("abandoned")
                break
    sub.close()
    push.close()
    context.term()


def mode_flood(endpoint, control, size, count, seconds):
    size, count = int(size), int(count)
    frame = bytearray(size)
    frame[:16] = header(3, 65536, 1)
    frame = bytes(frame)
    context = zmq.Context()
    sub, deadline = wait_kill(context, control, seconds)
    push = context.socket(zmq.PUSH)
    push.setsockopt(zmq.LINGER, 0)
    push.setsockopt(zmq.SNDHWM, 0)
    push.connect(endpoint)
    for _ in range(count):
        push.send(frame, copy=False)  # one buffer for every message
    say(f"queued {count}")
    until_kill(sub, deadline)
    push.close()
    context.term()


def mode_idle(host, port, count, seconds):
    deadline = time.monotonic() + float(seconds)
    selector = selectors.DefaultSelector()
    pending = {}
    for _ in range(int(count)):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.connect_ex((host, int(port)))
        pending[sock] = None
        selector.register(sock, selectors.EVENT_WRITE)
    opened, closed = {}, {}
    while time.monotonic() < deadline and (pending or len(closed) < len(opened)):
        for key, _ in selector.select(timeout=0.05):
            sock = key.fileobj
            if sock in pending:
                del pending[sock]
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    selector.unregister(sock)
                    sock.close()
                    continue
                opened[sock] = time.monotonic()
                selector.modify(sock, selectors.EVENT_READ)
                continue
            try:
                data = sock.recv(4096)  # the ZMTP greeting, then the close
            except OSError:
                data = b""
            if not data:
                closed[sock] = time.monotonic() - opened[sock]
                selector.unregister(sock)
    times = sorted(closed.values())
    say(f"connected {len(opened)} closed {len(closed)} "
        f"first_s {times[0] if times else -1:.2f} last_s {times[-1] if times else -1:.2f}")
    for sock in list(opened) + list(pending):
        sock.close()


MODES = {"subscribe": (mode_subscribe, 4), "ids": (mode_ids, 4),
         "scatter": (mode_scatter, 6),
         "flood": (mode_flood, 5), "idle": (mode_idle, 4)}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in MODES or \
            len(sys.argv) - 2 != MODES[sys.argv[1]][1]:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    MODES[sys.argv[1]][0](*sys.argv[2:])
