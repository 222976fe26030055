#!/usr/bin/env bash
# scripts/get_data.sh against a local HTTP server (CI has no internet): a copy with the right checksum
# is accepted, a corrupted copy is refused and leaves nothing behind, a good file is not fetched again.
set -euo pipefail
python=${2:-python3}
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d)
server_pid=
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$dir"' EXIT

# The real corpus is not in the repository; a server that answers with bytes whose checksum the
# script knows is needed, so the test serves a file and points the script's expected checksum at it
# through a copy of the script with that one line changed.
mkdir -p "$dir/www"
printf 'First Citizen:\nBefore we proceed any further, hear me speak.\n' > "$dir/www/input.txt"
printf 'First Citizen:\nBefore we proceed any further, hear me SPEAK.\n' > "$dir/www/corrupt.txt"
good_sha=$(sha256sum "$dir/www/input.txt" | cut -d' ' -f1)
mkdir -p "$dir/repo/scripts"
sed "s/^sha256=.*/sha256=$good_sha/" "$root/scripts/get_data.sh" > "$dir/repo/scripts/get_data.sh"
grep -q "^sha256=$good_sha\$" "$dir/repo/scripts/get_data.sh" || { echo "could not set the checksum line"; exit 1; }

port_file="$dir/port"
"$python" - "$dir/www" "$port_file" <<'PY' &
import functools, http.server, sys
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=sys.argv[1]))
open(sys.argv[2], "w").write(str(server.server_port))
server.serve_forever()
PY
server_pid=$!
for _ in $(seq 1 50); do [ -s "$port_file" ] && break; sleep 0.1; done
port=$(cat "$port_file")
cd "$dir/repo"

bash scripts/get_data.sh --url "http://127.0.0.1:$port/input.txt" > "$dir/out" 2>&1 || { cat "$dir/out"; echo "FAIL: good download refused"; exit 1; }
cmp datasets/tinyshakespeare.txt "$dir/www/input.txt" || { echo "FAIL: downloaded bytes differ"; exit 1; }
grep -q "checksum verified" "$dir/out" || { echo "FAIL: no verification message"; exit 1; }

# Already there: kept, no download (the server is asked for a missing file; success proves no fetch).
bash scripts/get_data.sh --url "http://127.0.0.1:$port/missing.txt" > "$dir/out" 2>&1 || { cat "$dir/out"; echo "FAIL: re-download"; exit 1; }
grep -q "already there" "$dir/out" || { echo "FAIL: expected 'already there'"; cat "$dir/out"; exit 1; }

# Corrupted download into a new place: exit 1, one error line naming the checksum, no file left.
set +e
bash scripts/get_data.sh --url "http://127.0.0.1:$port/corrupt.txt" --out datasets/other.txt > "$dir/out" 2>&1
status=$?
set -e
[ "$status" = 1 ] || { echo "FAIL: corrupted download exited $status"; cat "$dir/out"; exit 1; }
grep -q "SHA-256 .*expected $good_sha" "$dir/out" || { echo "FAIL: message"; cat "$dir/out"; exit 1; }
[ ! -e datasets/other.txt ] && [ ! -e datasets/other.txt.download ] || { echo "FAIL: corrupted file left behind"; exit 1; }
echo "get_data: good, cached and corrupted downloads behave"
