# Shared by the gpt serve script tests (serve_api.sh, serve_browser.sh, serve_limits.sh), sourced after
# their own checks: a scratch folder WORK with a small corpus, and a server (started by the script into
# server_pid) stopped and the folder removed on every exit.
#   serve_workdir NAME
serve_workdir() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpt_$1.XXXXXX")
    server_pid=
    trap 'serve_cleanup' EXIT
    export OMP_NUM_THREADS=1
    for i in $(seq 1 60); do echo "the quick brown fox jumps over the lazy dog; a stitch in time saves nine."; done > "$WORK/corpus.txt"
}
serve_cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$WORK"
}
