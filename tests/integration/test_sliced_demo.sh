#!/usr/bin/env bash
# The demo topology (conf/demo/topology.yaml, what scripts/demo runs) is
# valid and runs, as root and unprivileged: the web slice answers over HTTP
# on its passed socket. The test runs a copy with the port moved to one of
# its own (the declared 8080 may be taken, and root and unprivileged runs
# may overlap) and relative mount sources made absolute (the copy lives
# elsewhere).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/sliced_lib.sh"

demo_dir=$SLICED_SOURCE_DIR/conf/demo
demo=$demo_dir/topology.yaml

if ! [ -f "$demo" ]; then
        t_skip "conf/demo/topology.yaml is not there yet" "the demo topology"
        t_done
fi

t_begin "sliced --check accepts the demo topology"
assert_exit 0 "$SLICED" --check -t "$demo"
assert_contains "$OUT" "is valid" "sliced --check's stdout"

# the copy: our port; ./X mount sources relative to conf/demo
port=$(sd_port)
declared=$(grep -oE 'tcp:[^:"]*:[0-9]+' "$demo" | head -1)
declared_port=${declared##*:}
"$PY" - "$demo" "$T_TMP/demo.yaml" "$demo_dir" "$port" <<'EOF'
import re, sys
src, dst, base, port = sys.argv[1:5]
text = open(src).read()
text = re.sub(r'(tcp:[^:"\s]*:)[0-9]+', lambda m: m.group(1) + port, text)
text = re.sub(r'(src:\s*)\./', lambda m: m.group(1) + base + "/", text)
open(dst, "w").write(text)
EOF

t_begin "the demo runs: /web answers over HTTP on its passed socket (declared port ${declared_port:-?} moved to $port)"
if [ -z "$declared_port" ]; then
        t_fail "no tcp:HOST:PORT listen spec found in $demo"
else
        sd_start "$T_TMP/demo.yaml"
        fetch() {
                "$PY" -c '
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
    sys.stdout.write(r.read().decode())
' "http://127.0.0.1:$port/index.html" 2>/dev/null
        }
        if sd_wait_cmd 20 "an HTTP answer on port $port" fetch >/dev/null; then
                assert_eq "$(cat "$demo_dir/www/index.html")" "$(fetch)" "GET /index.html"
                assert_match "$(sd_get /web pid)" '^[0-9]+$' "/web's pid"
        fi
fi

t_begin "the demo's slices come up: /web ready, /shop/api then /shop/worker ready, /flaky backs off"
if [ -n "$declared_port" ]; then
        sd_wait 10 /web state ready
        sd_wait 20 /shop/api state ready
        sd_wait 20 /shop/worker state ready
        order=$(grep -oE '^sliced: info: /shop/(api|worker): ready$' "$SD_LOG" | sed 's/^sliced: info: //' | tr '\n' ' ')
        assert_eq "/shop/api: ready /shop/worker: ready " "$order" "ready order in the log"
        sd_wait_cmd 20 "/flaky crashed and backs off" sd_log_has "/flaky: back-off: exited (code 3)"
        sd_stop
        assert_eq 0 "$RC" "sliced's exit status"
fi

t_done
