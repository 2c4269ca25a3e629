#!/usr/bin/env python3
"""Staff writes at a steady rate while the page benchmark reads: half of them create residents
(without consent, as a roster import does), half edit public residents who do not appear on the
page being read. Runs for `seconds`, then prints the writes done and failed. First makes sure there
are 20 such public residents to edit (with rate 0, does only that).

    bench/write_load.py PORT TOKEN RATE SECONDS PAGE_PATH
"""
import http.client
import json
import sys
import threading
import time

port, token, rate, seconds, page = (
    int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
HEADERS = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def call(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=None if body is None else json.dumps(body),
                 headers={**HEADERS, **(headers or {})})
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, resp.getheader("ETag"), (json.loads(data) if data else None)


setup = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
shown = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
shown.request("GET", page)
page_html = shown.getresponse().read().decode()
_, _, residents = call(setup, "GET", "/api/v1/residents?limit=200")
community_id = residents["items"][0]["community_id"]
# Residents whose name is nowhere on the page: edits to them must leave it cached.
unrelated = [r for r in residents["items"] if r["name"] not in page_html]
for n in range(len(unrelated), 20):
    name = "王李张刘陈杨赵黄周吴"[n % 10] + "邻居" + "一二三四五六七八九十"[n // 10 * 5 + n % 5]
    status, _, made = call(setup, "POST", "/api/v1/residents", {
        "name": name, "community_id": community_id, "citation": "楼组长"})
    assert status == 201, (status, made)
    status, _, _ = call(setup, "POST", f"/api/v1/residents/{made['id']}/consents", {
        "scope": "profile", "text_version": "2026-01", "signed_on": "2026-01-05",
        "recorded_by": "居委会"})
    assert status == 201, status
    unrelated.append(made)
if rate <= 0:
    sys.exit(0)

workers = max(1, min(8, int(rate // 10) + 1))
done, failed = [0], [0]
lock = threading.Lock()
deadline = time.monotonic() + seconds


def work(index):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    mine = unrelated[index::workers] or unrelated
    etags = {}
    interval = workers / rate
    next_at = time.monotonic() + index * interval / workers
    n = 0
    while True:
        now = time.monotonic()
        if now >= deadline:
            return
        if next_at > now:
            time.sleep(next_at - now)
        next_at += interval
        n += 1
        try:
            if n % 2:
                status, _, _ = call(conn, "POST", "/api/v1/residents", {
                    "name": f"压测{index}号{n}", "community_id": community_id})
                ok = status == 201
            else:
                r = mine[(n // 2) % len(mine)]
                if r["id"] not in etags:
                    _, etags[r["id"]], _ = call(conn, "GET", f"/api/v1/residents/{r['id']}")
                status, etag, _ = call(conn, "PUT", f"/api/v1/residents/{r['id']}", {
                    "name": r["name"], "community_id": r["community_id"],
                    "citation": f"{r.get('citation') or ''}（第{n}次修订）"},
                    {"If-Match": etags[r["id"]]})
                ok = status == 200
                etags[r["id"]] = etag if ok else None
                if not ok:
                    etags.pop(r["id"], None)
        except (OSError, http.client.HTTPException):
            ok = False
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        with lock:
            (done if ok else failed)[0] += 1


threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"{done[0]} {failed[0]}")
