#!/usr/bin/env bash
# Downloads Tiny Shakespeare (Karpathy's char-rnn corpus, 1,115,394 bytes) into datasets/ (ignored by
# git) and verifies its SHA-256; the configs in configs/ refer to datasets/tinyshakespeare.txt.
#   bash scripts/get_data.sh [--url URL] [--out FILE]
# A download whose checksum differs is deleted and the script exits 1; an existing file with the right
# checksum is kept (nothing is downloaded again).
set -euo pipefail
cd "$(dirname "$0")/.."

url=https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt
out=datasets/tinyshakespeare.txt
sha256=86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed
while (($#)); do
    case "$1" in
        --url) url=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        *) echo "get_data: error: unknown argument '$1' (use --url URL, --out FILE)" >&2; exit 2 ;;
    esac
done

if [ -f "$out" ] && echo "$sha256  $out" | sha256sum --check --status; then
    echo "get_data: $out is already there (checksum verified)"
    exit 0
fi
mkdir -p "$(dirname "$out")"
tmp="$out.download"
trap 'rm -f "$tmp"' EXIT
if command -v curl >/dev/null; then
    curl --fail --location --silent --show-error --max-time 120 -o "$tmp" "$url"
elif command -v wget >/dev/null; then
    wget --quiet --timeout=120 -O "$tmp" "$url"
else
    echo "get_data: error: neither curl nor wget is installed (apt-get install curl)" >&2
    exit 1
fi
actual=$(sha256sum "$tmp" | cut -d' ' -f1)
if [ "$actual" != "$sha256" ]; then
    echo "get_data: error: $url: SHA-256 $actual, expected $sha256; the download was discarded" >&2
    exit 1
fi
mv "$tmp" "$out"
echo "get_data: $out ($(wc -c < "$out") bytes, checksum verified)"
