#!/usr/bin/env python3
"""Helpers for `scripts/bench --cluster` (standard library only).

  cluster.py leader PORT...                   the HTTP port of the leader, as the nodes' /health/ready name it
  cluster.py seed URL TOKEN N OUT             N creates (8 at a time), their ids appended to OUT
  cluster.py failover PID PORT SURVIVOR...    kill -9 PID (the leader, serving HTTP on PORT) while 4 clients create
                                              through the survivors' HTTP ports; prints the milliseconds from the kill
                                              to the first 201 of a create sent after it, and the 503s meanwhile
"""
import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request

BODY = json.dumps({
    "partnerTenantId": "6d2b8ba4-0c5b-4b7e-9d4a-9a1c1f0e5a11", "partnerUserId": "0b6a4b5e-1d2c-4e3f-8a9b-7c6d5e4f3a21",
    "targetTenantId": "2f1e3d4c-5b6a-4798-8a7b-6c5d4e3f2a31", "managedTenantOperationId": "bench",
    "requestId": "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c41", "isSuccess": True, "exception": None,
    "executionInfo": None, "result": []}).encode()


def health(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as e:
        return json.load(e)
    except Exception:
        return None


def create(port, token):
    """(status, id or None) of one create; status 0 when the connection failed."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/managedTenantOperationResults", data=BODY, method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.load(answer)["id"]
    except urllib.error.HTTPError as e:
        return e.code, None
    except Exception:
        return 0, None


def leader(ports):
    deadline = time.time() + 30
    while time.time() < deadline:
        by_id = {}
        leader_id = None
        for port in ports:
            h = health(port)
            if h and h.get("nodeId"):
                by_id[h["nodeId"]] = port
                if h.get("status") == "UP" and h.get("leaderId"):
                    leader_id = h["leaderId"]
        if leader_id in by_id:
            return by_id[leader_id]
        time.sleep(0.1)
    sys.exit("no leader among " + " ".join(ports))


def seed(url_port, token, n, out):
    ids, lock = [], threading.Lock()
    remaining = iter(range(n))

    def work():
        for _ in remaining:
            status, created = create(url_port, token)
            if status == 201:
                with lock:
                    ids.append(created)
    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(out, "a") as f:
        f.writelines(i + "\n" for i in ids)


def failover(pid, survivors, token):
    stop = threading.Event()
    killed_at = [0.0]
    first_ok = [0.0]
    unavailable = [0]
    lock = threading.Lock()

    def work(port):
        while not stop.is_set():
            sent = time.monotonic()
            status, _ = create(port, token)
            with lock:
                if status == 201 and killed_at[0] and sent >= killed_at[0] and not first_ok[0]:
                    first_ok[0] = time.monotonic()
                elif status == 503 and killed_at[0]:
                    unavailable[0] += 1
    threads = [threading.Thread(target=work, args=(port,)) for port in survivors for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    with lock:
        killed_at[0] = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while not first_ok[0] and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    for t in threads:
        t.join()
    millis = round((first_ok[0] - killed_at[0]) * 1000) if first_ok[0] else -1
    print(millis, unavailable[0])


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "leader":
        print(leader(args))
    elif command == "seed":
        seed(args[0], args[1], int(args[2]), args[3])
    elif command == "failover":
        failover(int(args[0]), args[2:], os.environ["BENCH_TOKEN"])
    else:
        sys.exit(__doc__)
