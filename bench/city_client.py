#!/usr/bin/env python3
"""Clients of bench/city.sh (standard library only).

    city_client.py search PORT STREET_SLUG ROUNDS
        The fixed query mix of GET /api/v1/search, one keep-alive connection, sequential: every query
        once to warm up, then ROUNDS rounds, city-wide and again scoped to one 街道 (community=SLUG).
        Prints each query's hits, p50 and p99, then p50/p99 of all against the targets.

    city_client.py mixed DATA_DIR TOKEN SECONDS DB_URL PORT_A:PID_A PORT_B:PID_B
        64 readers (4 processes × 16 threads) and 4 writers (one process) for SECONDS, every
        thread on one of the two nodes in turn. Meanwhile once a second: the search outbox's backlog
        (rows not delivered, psql), each node's RSS and the load average; after the load, until the
        backlog is empty. Prints requests, errors and p50/p99 per route, the backlog's maximum and
        how fast it drained, RSS per node.
"""
import http.client
import json
import multiprocessing
import os
import random
import subprocess
import sys
import threading
import time
import urllib.parse

TARGET_P50, TARGET_P99 = 5.0, 20.0

# Names (common and less common), surnames alone, pinyin, initials, traditional characters, deeds,
# and filtered queries: what people type into the search box.
MIX = [
    "q=王伟", "q=张建华", "q=陈志强", "q=刘海燕", "q=欧阳明", "q=李秀英", "q=王", "q=诸葛",
    "q=wangwei", "q=zhang%20jianhua", "q=czq", "q=陳志強", "q=智慧社区", "q=业委会", "q=接待参访",
    "q=垃圾分类", "q=楼道清洁", "q=加装电梯", "q=调解邻里纠纷", "q=垃圾分类&year=2020",
]


def enc(q):
    return urllib.parse.quote(q, safe="=&%")


def pct(sorted_ms, p):
    if not sorted_ms:
        return float("nan")
    return sorted_ms[min(len(sorted_ms) - 1, round((len(sorted_ms) - 1) * p))]


def search(port, street, rounds):
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)

    def get(q):
        t = time.perf_counter()
        conn.request("GET", "/api/v1/search?" + enc(q))
        r = conn.getresponse()
        body = r.read()
        ms = (time.perf_counter() - t) * 1000
        if r.status != 200:
            raise SystemExit(f"{q} answered {r.status}: {body[:200]!r}")
        return ms, json.loads(body).get("total", 0)

    summary = {}
    for label, suffix in [("city-wide", ""), (f"scoped to 街道 {street}", f"&community={street}")]:
        queries = [q + suffix for q in MIX]
        totals = [get(q)[1] for q in queries]
        times = [[] for _ in queries]
        for _ in range(rounds):
            for i, q in enumerate(queries):
                times[i].append(get(q)[0])
        print(f"-- search, {label}: {len(MIX)} queries × {rounds} rounds, one keep-alive connection")
        print(f"  {'hits':>7}  {'p50 ms':>7}  {'p99 ms':>7}  query")
        for q, n, t in zip(MIX, totals, times):
            t.sort()
            print(f"  {n:>7}  {pct(t, .5):>7.2f}  {pct(t, .99):>7.2f}  {urllib.parse.unquote(q)}")
        every = sorted(x for t in times for x in t)
        p50, p99 = pct(every, .5), pct(every, .99)
        print(f"search {label}: {len(every)} requests, p50 {p50:.2f} ms (target ≤ {TARGET_P50} ms: "
              f"{'met' if p50 <= TARGET_P50 else 'MISSED'}), p99 {p99:.2f} ms (target ≤ {TARGET_P99} ms: "
              f"{'met' if p99 <= TARGET_P99 else 'MISSED'}), mean {sum(every) / len(every):.2f} ms, "
              f"max {every[-1]:.2f} ms")
        summary[label] = (p50, p99)
    return summary


# ---- mixed load -------------------------------------------------------------------------------

def load_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def reader_route(rng, d):
    x = rng.random()
    if x < 0.40:
        return "/people/{slug}", "/people/" + rng.choice(d["slugs"])
    if x < 0.60:
        q = rng.choice(MIX)
        if rng.random() < 0.5:
            return "/api/v1/search (街道)", f"/api/v1/search?{enc(q)}&community={rng.choice(d['streets'])[1]}"
        return "/api/v1/search", "/api/v1/search?" + enc(q)
    if x < 0.70:
        return "/communities/{slug}", "/communities/" + rng.choice(d["streets"])[1]
    if x < 0.80:
        return ("/api/v1/residents?community_id", "/api/v1/residents?limit=20&community_id="
                + str(rng.choice(d["areas"])))
    if x < 0.90:
        rid = rng.randrange(d["n"] // 8) * 8 + rng.randrange(7) + 1  # (id - 1) % 8 != 7: public
        return "/api/v1/residents/{id}/summary", f"/api/v1/residents/{rid}/summary"
    if x < 0.95:
        return "/", "/"
    return "/api/v1/recognitions", "/api/v1/recognitions?limit=50"


def record(timings, route, t0, error):
    """One request of `route` begun at `t0`; `error` is its status or exception when it failed."""
    entry = timings.setdefault(route, {"ms": [], "errors": {}})
    entry["ms"].append((time.perf_counter() - t0) * 1000)
    if error is not None:
        entry["errors"][str(error)] = entry["errors"].get(str(error), 0) + 1


def merge(into, timings):
    """Add per-route timings and error counts to `into`."""
    for route, e in timings.items():
        r = into.setdefault(route, {"ms": [], "errors": {}})
        r["ms"].extend(e["ms"])
        for k, v in e["errors"].items():
            r["errors"][k] = r["errors"].get(k, 0) + v


def run_threads(work, threads, results, out):
    """Run `work(t)` on `threads` threads, then write what they merged into `results` to `out`."""
    ts = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    with open(out, "w") as f:
        json.dump(results, f)


def run_readers(idx, threads, ports, deadline, d, out):
    results = {}
    lock = threading.Lock()

    def work(t):
        rng = random.Random(idx * 1000 + t)
        port = ports[(idx * threads + t) % len(ports)]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = {}
        while time.monotonic() < deadline:
            route, path = reader_route(rng, d)
            t0 = time.perf_counter()
            try:
                conn.request("GET", path)
                r = conn.getresponse()
                r.read()
                ok = r.status == 200
                status = r.status
            except (OSError, http.client.HTTPException) as e:
                ok, status = False, type(e).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            record(mine, route, t0, None if ok else status)
        with lock:
            merge(results, mine)

    run_threads(work, threads, results, out)


def run_writers(threads, ports, deadline, d, token, out):
    results = {}
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def work(t):
        rng = random.Random(7000 + t)
        port = ports[t % len(ports)]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = {}

        def call(route, method, path, body=None, extra=None):
            nonlocal conn
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=None if body is None else json.dumps(body),
                             headers={**headers, **(extra or {})})
                r = conn.getresponse()
                data = r.read()
                status, etag = r.status, r.getheader("ETag")
            except (OSError, http.client.HTTPException) as e:
                status, etag, data = type(e).__name__, None, b""
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            failed = status not in (200, 201)
            record(mine, route, t0, status if failed else None)
            if failed:
                return None, None
            return (json.loads(data) if data else {}), etag

        n = 0
        while time.monotonic() < deadline:
            n += 1
            step = n % 4
            if step == 1:  # a new resident, consented and with a record: public, indexed
                surname = rng.choice("王李张刘陈杨黄赵吴周")
                made, _ = call("POST /api/v1/residents", "POST", "/api/v1/residents", {
                    "name": surname + rng.choice(["新民", "立华", "志诚", "慧琴", "国庆", "建英"]),
                    "community_id": rng.choice(d["areas"]), "citation": "压测写入：热心楼组事务。"})
                if made:
                    rid = made["id"]
                    call("POST …/consents", "POST", f"/api/v1/residents/{rid}/consents", {
                        "scope": "profile", "text_version": "v1", "signed_on": "2026-01-05",
                        "recorded_by": "居委会"})
            elif step == 2 or step == 3:  # a service record for an existing public resident
                rid = rng.randrange(d["n"] // 8) * 8 + rng.randrange(7) + 1
                call("POST …/service-records", "POST", f"/api/v1/residents/{rid}/service-records", {
                    "kind": "volunteer_hours", "title": "压测：社区夜间巡逻", "start": "2025",
                    "end": "2026", "unpaid": True})
            else:  # an edit of an existing public resident's citation
                rid = rng.randrange(d["n"] // 8) * 8 + rng.randrange(7) + 1
                got, etag = call("GET /api/v1/residents/{id} (staff)", "GET", f"/api/v1/residents/{rid}")
                if got and etag:
                    call("PUT /api/v1/residents/{id}", "PUT", f"/api/v1/residents/{rid}", {
                        "name": got["name"], "community_id": got["community_id"],
                        "citation": (got.get("citation") or "") + f"（压测修订{n}）"}, {"If-Match": etag})
        with lock:
            merge(results, mine)

    run_threads(work, threads, results, out)


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f)
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024
    except (OSError, KeyError, ValueError):
        return float("nan"), float("nan")


def backlog(db_url):
    out = subprocess.run(["psql", db_url, "-Atc",
                          "SELECT count(*) FROM search_outbox WHERE delivered_at IS NULL"],
                         capture_output=True, text=True)
    return int(out.stdout.strip() or -1)


def mixed(data, token, seconds, db_url, nodes):
    nodes = [tuple(map(int, n.split(":"))) for n in nodes]
    ports = [p for p, _ in nodes]
    d = {
        "slugs": [l[0] for l in load_lines(os.path.join(data, "public_slugs.txt"))],
        "streets": load_lines(os.path.join(data, "streets.tsv")),
        "areas": [int(l[0]) for l in load_lines(os.path.join(data, "communities.tsv"))
                  if l[2] == "residential_area"],
        "n": sum(1 for _ in open(os.path.join(data, "residents.tsv"), encoding="utf-8")),
    }
    idle = {p: rss_mb(pid)[0] for p, pid in nodes}
    deadline = time.monotonic() + seconds
    procs = [multiprocessing.Process(target=run_readers, args=(i, 16, ports, deadline, d,
                                                                f"{data}/readers-{i}.json"))
             for i in range(4)]
    procs.append(multiprocessing.Process(target=run_writers, args=(4, ports, deadline, d, token,
                                                                   f"{data}/writers.json")))
    t_start = time.monotonic()
    for p in procs:
        p.start()
    samples = []  # (t, backlog, {port: rss}, load1)
    max_rss = {p: 0.0 for p in ports}
    while any(p.is_alive() for p in procs):
        b = backlog(db_url)
        rss = {p: rss_mb(pid)[0] for p, pid in nodes}
        for p in ports:
            max_rss[p] = max(max_rss[p], rss[p])
        samples.append((time.monotonic() - t_start, b, rss, os.getloadavg()[0]))
        time.sleep(1)
    for p in procs:
        p.join()
    load_end = time.monotonic()
    end_backlog = backlog(db_url)
    drained_at = None
    while True:
        b = backlog(db_url)
        samples.append((time.monotonic() - t_start, b, {p: rss_mb(pid)[0] for p, pid in nodes},
                        os.getloadavg()[0]))
        if b == 0:
            drained_at = time.monotonic()
            break
        if time.monotonic() - load_end > 600:
            break
        time.sleep(0.25)

    merged = {}
    for f in [f"{data}/readers-{i}.json" for i in range(4)] + [f"{data}/writers.json"]:
        merge(merged, json.load(open(f)))
    total = sum(len(e["ms"]) for e in merged.values())
    errors = sum(sum(e["errors"].values()) for e in merged.values())
    elapsed = load_end - t_start
    print(f"-- mixed load: 64 readers + 4 writers, {seconds} s, two nodes (ports {ports[0]}, {ports[1]})")
    print(f"  {'route':42} {'requests':>9} {'req/s':>7} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8}")
    for route in sorted(merged, key=lambda r: -len(merged[r]["ms"])):
        e = merged[route]
        ms = sorted(e["ms"])
        errs = sum(e["errors"].values())
        detail = (" " + ",".join(f"{k}×{v}" for k, v in e["errors"].items())) if errs else ""
        print(f"  {route:42} {len(ms):>9} {len(ms) / elapsed:>7.1f} {errs:>7} {pct(ms, .5):>8.1f} "
              f"{pct(ms, .99):>8.1f}{detail}")
    print(f"mixed load: {total} requests in {elapsed:.0f} s ({total / elapsed:.0f}/s), {errors} errors "
          f"= {100 * errors / max(total, 1):.3f} % (target 0)")
    peak = max(samples, key=lambda s: s[1])
    print(f"search outbox backlog: max {peak[1]} rows (at {peak[0]:.0f} s); {end_backlog} when the load "
          f"stopped; " + (f"empty {drained_at - load_end:.1f} s after the load stopped"
                          + (f" ({end_backlog / max(drained_at - load_end, 0.001):.0f} rows/s)"
                             if end_backlog else "")
                          if drained_at else "NOT empty 600 s after the load stopped"))
    print("backlog during the load (every 10th sample, s:rows): "
          + " ".join(f"{s[0]:.0f}:{s[1]}" for s in samples[::10]))
    loads = [s[3] for s in samples]
    print(f"load average (1 min) during the mixed load: {min(loads):.1f}–{max(loads):.1f}")
    for p, pid in nodes:
        now, hwm = rss_mb(pid)
        print(f"node :{p} RSS: idle {idle[p]:.1f} MB, under load max {max_rss[p]:.1f} MB (sampled), "
              f"peak (VmHWM) {hwm:.1f} MB, after {now:.1f} MB (target < 300 MB: "
              f"{'met' if max(max_rss[p], hwm) < 300 else 'MISSED'})")


if __name__ == "__main__":
    if sys.argv[1] == "search":
        search(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "mixed":
        mixed(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6:])
    else:
        raise SystemExit(__doc__)
