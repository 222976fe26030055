"""The checks of serve_limits.sh: python3 serve_limits_check.py URL WORK_DIR SERVER_PID.

WORK_DIR/runs holds a (2 layers, block_size 24) and big (4 layers x 4 heads, block_size 256). Standard
library only. Every socket has a timeout, so a server that stops answering fails the check instead of
hanging it; the only time bounds asserted are generous liveness bounds."""
import json
import select
import socket
import sys
import threading
import time
import urllib.parse

URL, WORK, PID = sys.argv[1], sys.argv[2], int(sys.argv[3])
HOST, PORT = urllib.parse.urlparse(URL).hostname, urllib.parse.urlparse(URL).port
failures = []
BROWSER = {  # what Chromium sends with a fetch() from the page
    "Accept": "*/*",
    "Accept-Encoding": "gzip, deflate, br, zstd",
    "Accept-Language": "en-US,en;q=0.9",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Origin": URL.rstrip("/"),
    "Referer": URL,
}


def check(condition, what):
    print(("ok: " if condition else "FAIL: ") + what)
    if not condition:
        failures.append(what)


def rss_mb():
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return -1


def exchange(raw, timeout=60, send_slowly=None):
    """Send raw bytes (or an iterable of chunks), read the whole answer: (status, headers, body bytes)."""
    s = socket.create_connection((HOST, PORT), timeout=timeout)
    try:
        for chunk in ([raw] if isinstance(raw, bytes) else raw):
            try:
                s.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server stopped reading (a refused body): its answer is what counts
        data = b""
        while True:
            try:
                part = s.recv(65536)
            except ConnectionResetError:
                break
            if not part:
                break
            data += part
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    if headers.get("transfer-encoding", "") == "chunked":
        out, rest = b"", body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            n = int(size_line.split(b";")[0], 16)
            if n == 0:
                break
            out, rest = out + rest[:n], rest[n + 2:]
        body = out
    return status, headers, body


def request(method, path, body=None, headers=None, timeout=60):
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else (body or b"")
    h = {"Host": f"{HOST}:{PORT}", "Connection": "close", **(headers or {})}
    if data or method == "POST":
        h.setdefault("Content-Type", "application/json")
        h["Content-Length"] = str(len(data))
    raw = f"{method} {path} HTTP/1.1\r\n".encode() + "".join(f"{k}: {v}\r\n" for k, v in h.items()).encode() + b"\r\n" + data
    status, headers_out, out = exchange(raw, timeout)
    try:
        return status, headers_out, json.loads(out)
    except ValueError:
        return status, headers_out, out


def error_of(answer):
    return answer[2].get("error", "") if isinstance(answer[2], dict) else str(answer[2])[:200]


def normal_request_ok(what):
    t0 = time.monotonic()
    status, _, f = request("POST", "/api/forward", {"run": "a", "prompt": "the quick"})
    check(status == 200 and isinstance(f, dict) and f.get("T") == 9,
          f"{what}: a normal forward request is answered correctly ({status}, {time.monotonic() - t0:.2f} s)")


# ---- browser headers: no compression, a quick answer ----
for path, body in (("/", None), ("/app.js", None), ("/api/runs", None)):
    t0 = time.monotonic()
    status, headers, out = request("GET", path, headers=BROWSER)
    check(status == 200 and "content-encoding" not in headers and time.monotonic() - t0 < 10,
          f"GET {path} with browser headers: {status}, Content-Encoding {headers.get('content-encoding')}, {time.monotonic() - t0:.3f} s")
prompt = "the quick brown fox"
t0 = time.monotonic()
status, headers, f = request("POST", "/api/forward", {"run": "a", "prompt": prompt}, headers=BROWSER)
elapsed = time.monotonic() - t0
check(status == 200 and "content-encoding" not in headers and isinstance(f, dict) and f["T"] == len(prompt) and elapsed < 10,
      f"POST /api/forward with Accept-Encoding {BROWSER['Accept-Encoding']!r}: {status}, uncompressed "
      f"{headers.get('content-length')} bytes in {elapsed:.3f} s")

# ---- compact numbers ----
if isinstance(f, dict):
    numbers = [v for layer in f["attention"] for head in layer for row in head for v in row] + \
              [v for layer in f["gelu"] for row in layer for v in row]
    digits = max(len(repr(v).split("e")[0].replace("-", "").replace(".", "").lstrip("0")) for v in numbers)
    check(digits <= 4, f"attention and GELU numbers carry at most 4 significant digits (most: {digits})")
    check(all(abs(sum(r) - 1) < 2e-3 for layer in f["attention"] for head in layer for r in head),
          "attention rows still sum to 1 (within the rounding)")

# ---- response bounds: layers/heads, and a refused oversized answer ----
status, _, part = request("POST", "/api/forward", {"run": "a", "prompt": prompt, "layers": [1], "heads": [0]})
check(status == 200 and part["attention"][0] is None and part["attention"][1][1] is None and len(part["attention"][1][0]) == len(prompt)
      and part["gelu"][0] is None and part["gelu"][1] is not None,
      "layers [1], heads [0]: only that layer's GELU and that head's attention are sent")
for bad, pattern in (({"layers": [2]}, "layers must hold integers in [0, 1]"), ({"heads": "all"}, "heads must be an array"),
                     ({"layers": [0, 0]}, "twice")):
    answer = request("POST", "/api/forward", {"run": "a", "prompt": "the", **bad})
    check(answer[0] == 400 and pattern in error_of(answer), f"{bad} -> {answer[0]} {error_of(answer)!r}")
long_prompt = (open(WORK + "/corpus.txt").read().replace("\n", " "))[:250]
before = rss_mb()
answer = request("POST", "/api/forward", {"run": "big", "prompt": long_prompt})
check(answer[0] == 413 and "8388608 bytes" in error_of(answer) and '"layers"' in error_of(answer),
      f"every head of 4 layers at 250 tokens -> {answer[0]} {error_of(answer)!r}")
status, headers, one = request("POST", "/api/forward", {"run": "big", "prompt": long_prompt, "layers": [3], "heads": [0, 1]})
check(status == 200 and int(headers.get("content-length", 0)) < 8 * 1024 * 1024 and len(one["attention"][3][1]) == 250,
      f"the same prompt for layer 3, heads 0-1: {status}, {headers.get('content-length')} bytes")
status, _, att_only = request("POST", "/api/forward", {"run": "big", "prompt": long_prompt, "layers": [0], "heads": [0],
                                                        "include": ["attention"]})
check(status == 200 and att_only["gelu"] == [None] * 4 and att_only["embeddings"] is None and len(att_only["attention"][0][0]) == 250,
      f"include [\"attention\"]: no GELU, no embeddings ({status})")
# "fit": true answers what fits instead of refusing: whole matrices, attention first (in layer and head
# order), then the MLP activations and embeddings, and says what it left out; a small answer is whole.
status, headers, fitted = request("POST", "/api/forward", {"run": "big", "prompt": long_prompt, "fit": True})
sent = [(l, h) for l, layer in enumerate(fitted.get("attention") or []) for h, m in enumerate(layer or []) if m is not None]
order = [(l, h) for l in range(4) for h in range(4)]
gelu_sent = [l for l, g in enumerate(fitted.get("gelu") or []) if g is not None]
check(status == 200 and int(headers.get("content-length", 0)) <= 8 * 1024 * 1024 and fitted["truncated"] is True and
      len(sent) > 0 and sent == order[:len(sent)] and all(len(fitted["attention"][l][h]) == 250 for l, h in sent) and
      (len(sent) < 16 or len(gelu_sent) < 4 or fitted["embeddings"] is None) and (not gelu_sent or len(sent) == 16),
      f"every head of 4 layers at 250 tokens with \"fit\": {status}, {headers.get('content-length')} bytes, "
      f"{len(sent)} of 16 heads sent in order, then GELU of layers {gelu_sent}, embeddings "
      f"{'sent' if fitted.get('embeddings') else 'left out'}, truncated {fitted.get('truncated')}")
status, _, whole = request("POST", "/api/forward", {"run": "a", "prompt": "the", "fit": True})
check(status == 200 and whole["truncated"] is False and all(m is not None for layer in whole["attention"] for m in layer) and
      all(g is not None for g in whole["gelu"]) and whole["embeddings"] is not None,
      f"a small answer with \"fit\" is whole and says so ({status}, truncated {whole.get('truncated')})")
answer = request("POST", "/api/forward", {"run": "a", "prompt": "the", "fit": "yes"})
check(answer[0] == 400 and "fit must be true or false" in error_of(answer), f"fit \"yes\" -> {answer[0]} {error_of(answer)!r}")
answer = request("POST", "/api/forward", {"run": "a", "prompt": "the", "include": ["everything"]})
check(answer[0] == 400 and "include must hold" in error_of(answer), f"include [everything] -> {answer[0]} {error_of(answer)!r}")
check(rss_mb() - before < 200, f"server memory after the large answers: {before:.0f} -> {rss_mb():.0f} MB")

# ---- request bodies, every framing ----
before = rss_mb()
chunk = b"x" * (1 << 20)
chunked = [b"POST /api/forward HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"]
chunked += [b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(2)] + [b"0\r\n\r\n"]
status, _, body = exchange(chunked)
check(status == 413 and b"65536" in body, f"a chunked 2 MiB body -> {status} {body[:120]!r}")
normal_request_ok("after the chunked body")
big_chunked = (b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(200))  # 200 MiB offered, lazily
status, _, body = exchange(iter([chunked[0], *big_chunked]))
check(status == 413, f"a chunked body of 200 x 1 MiB -> {status}, read only up to the limit")
status, _, body = exchange(b"POST /api/forward HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\r\n" + b"x" * 300000)
check(status in (400, 413), f"a body without a length (read until close) -> {status} {body[:100]!r}")
status, _, body = exchange(b"POST /api/forward HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n{}")
check(status == 413 and b"65536" in body, f"Content-Length 999999999 -> {status} {body[:120]!r}")
for method, path in (("PUT", "/api/forward"), ("DELETE", "/"), ("POST", "/nope"), ("POST", "/api/runs")):
    stream = iter([f"{method} {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode(),
                   *(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(50))])
    status, _, body = exchange(stream)
    check(status in (404, 405), f"{method} {path} with a chunked 50 MiB body -> {status}, never read: {body[:100]!r}")
status, _, body = exchange(b"POST /api/forward HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=z\r\nContent-Length: 10\r\n\r\n--z--\r\n\r\n")
check(status == 415, f"a multipart body -> {status} {body[:100]!r}")
check(rss_mb() - before < 100, f"server memory after the bodies: {before:.0f} -> {rss_mb():.0f} MB")
normal_request_ok("after the bodies")

# A request line or header lines that never end: httplib 0.11 keeps them in memory however long they are
# (400 MB sent -> 418 MB of server); the watchdog cuts a connection that sends more than 128 KiB before its
# request is read whole. The client stops after 100 MiB or when its sends block for 5 s.
for what, first, chunk in (("a request line without an end", b"", b"A" * (1 << 20)),
                           ("a million header lines", b"GET / HTTP/1.1\r\n", b"X-A: b\r\n" * 131072)):
    before = rss_mb()
    s = socket.create_connection((HOST, PORT), timeout=5)
    sent = 0
    try:
        s.sendall(first)
        while sent < 100:
            s.sendall(chunk)
            sent += 1
    except OSError:
        pass
    s.close()
    check(sent < 100 and rss_mb() - before < 50, f"{what}: cut off after {sent} MiB; server memory {before:.0f} -> {rss_mb():.0f} MB")
normal_request_ok("after the endless request lines")

# ---- deep JSON, sampling ranges, %00 ----
answer = request("POST", "/api/forward", b"[" * 60000 + b"]" * 60000)
check(answer[0] in (400, 413), f"60,000-deep JSON -> {answer[0]} {error_of(answer)[:100]!r}")
answer = request("POST", "/api/forward", ('{"run": "a", "x": ' + "[" * 100 + "]" * 100 + "}").encode())
check(answer[0] == 400 and "32 deep" in error_of(answer), f"a 100-deep field -> {answer[0]} {error_of(answer)!r}")
for field, value, pattern in (("repetition_penalty", 1e-45, "repetition_penalty must be in [0.01, 100]"),
                              ("temperature", 1e-30, "temperature must be 0 (greedy) or in [0.001, 1000]"),
                              ("top_p", 0, "top_p must be in (0, 1]")):
    for route in ("/api/forward", "/api/generate"):
        answer = request("POST", route, {"run": "a", "prompt": "the", field: value})
        check(answer[0] == 400 and pattern in error_of(answer), f"{route} {field} {value} -> {answer[0]} {error_of(answer)!r}")
answer = request("GET", "/api/metrics?run=a%00b")
check(answer[0] == 404 and "'a\\x00b'" in error_of(answer), f"a run name with %00 -> {answer[0]} {error_of(answer)!r}")
answer = request("GET", "/api/metrics?run=" + "z" * 5000)
check(answer[0] == 404 and len(error_of(answer)) < 200, f"a 5000-byte run name is quoted in {len(error_of(answer))} characters")

# ---- a bad metrics.jsonl line: skipped once, never duplicated ----
status, _, m = request("GET", "/api/metrics?run=a")
records = m["records"]
with open(WORK + "/runs/a/metrics.jsonl", "a") as out:
    out.write("{garbage\n" + json.dumps({"step": 21, "train_loss": 1.5}) + "\n")
polls = [request("GET", "/api/metrics?run=a") for _ in range(5)]
check(all(p[0] == 200 and p[2]["records"] == records + 1 and p[2]["skipped_lines"] == 1 for p in polls),
      f"a garbage line: 5 polls all 200 with {records} + 1 records, 1 line skipped ({[p[2].get('records') for p in polls]})")

# ---- a truncated checkpoint loaded by several worker threads at once: one line each, no HDF5 stack ----
import concurrent.futures  # noqa: E402
import shutil  # noqa: E402
shutil.copytree(WORK + "/runs/a", WORK + "/runs/trunc")
with open(WORK + "/runs/trunc/ckpt.h5", "r+b") as ckpt:
    ckpt.truncate(4096)
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    answers = list(pool.map(lambda _: request("GET", "/api/model?run=trunc"), range(8)))
check(all(a[0] == 500 and "ckpt.h5" in error_of(a) and "\n" not in error_of(a) for a in answers),
      f"a truncated checkpoint, 8 requests at once: {sorted(set(a[0] for a in answers))} {error_of(answers[0])[:120]!r}")
normal_request_ok("after the truncated checkpoint")

# ---- slow clients: 16 connections sending their headers one byte a second, one its body ----
# Each byte arrives within the read timeout, so only the request deadline (10 s from the connection)
# ends them; a normal request is answered meanwhile. Bounded: a client gives up after 60 s.
stop = threading.Event()
closed_after = {}


SLOW_HEADERS = b"GET /api/runs HTTP/1.1\r\nHost: slow\r\nX-Pad: " + b"a" * 100
SLOW_BODY = b"POST /api/forward HTTP/1.1\r\nHost: slow\r\nContent-Length: 200\r\n\r\n" + b" " * 200  # headers at once


def slow_client(k, payload=SLOW_HEADERS):
    start = time.monotonic()
    try:
        s = socket.create_connection((HOST, PORT), timeout=30)
        if payload is SLOW_BODY:
            s.send(payload[:payload.index(b"\r\n\r\n") + 4])
            payload = payload[payload.index(b"\r\n\r\n") + 4:]
        for byte in payload:
            if stop.is_set() or time.monotonic() - start > 60:
                break
            try:
                s.send(bytes([byte]))
                if select.select([s], [], [], 0)[0] and s.recv(1) == b"":  # closed by the server
                    closed_after[k] = time.monotonic() - start
                    break
            except OSError:
                closed_after[k] = time.monotonic() - start
                break
            stop.wait(1.0)
        s.close()
    except OSError:
        closed_after[k] = time.monotonic() - start


slow = [threading.Thread(target=slow_client, args=(k,), daemon=True) for k in range(16)]
slow.append(threading.Thread(target=slow_client, args=(16, SLOW_BODY), daemon=True))  # and one slow body
for t in slow:
    t.start()
time.sleep(2)
t0 = time.monotonic()
normal_request_ok("with 16 slow-header clients connected")
check(time.monotonic() - t0 < 10, f"answered within 10 s while they hold their connections ({time.monotonic() - t0:.2f} s)")
for t in slow:
    t.join(70)
stop.set()
check(len(closed_after) == 17 and max(closed_after.values()) < 60,
      f"the server closed all 16 slow-header connections and the slow body (request deadline 10 s): after {sorted(round(v) for v in closed_after.values())} s")
normal_request_ok("after the slow clients")

print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
