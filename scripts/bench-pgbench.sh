#!/usr/bin/env bash
# pgbench against one PostgreSQL server four ways, interleaved, and the figures as ratios to direct:
#   direct     pgbench -> PostgreSQL
#   warden     pgbench -> Warden (full pipeline: classification, policy, ledger at default durability) -> PostgreSQL
#   pgbouncer  pgbench -> PgBouncer (session pool) -> PostgreSQL
#   socat      pgbench -> socat (bare TCP forwarder, nodelay on both sides) -> PostgreSQL
# Workloads: select-only (-S) and TPC-B-like; 1 and 16 clients; protocols simple, extended, prepared.
# Every round runs each target once per case (A B C D, A B C D, ...); the table shows medians over the rounds.
#
# Usage: scripts/bench-pgbench.sh [--rounds N] [--seconds S] [--scale N] [--workloads "select tpcb"] [--tls] [--quick]
#   --quick: 1 round of 5 s, select-only only (a smoke test, not a measurement)
#   --tls: every client connects with TLS (sslmode=require, a self-signed certificate made with openssl); Warden and
#     PgBouncer also connect to the server with TLS; socat forwards the client's TLS to the server unchanged.
# Environment: TARGETS, CLIENTS, MODES narrow the run; WARMUP_SECONDS (15) of pgbench per mode against each Warden
#   before measuring; WARDEN_JAVA_OPTS go to Warden's JVM; BASELINE_APP=<dir holding
#   warden-app.jar and lib/> adds a target 'baseline': a second Warden from that (earlier) build, same configuration,
#   interleaved with the others, to compare a change before/after in one run.
# Needs: Debian's postgresql (server binaries), postgresql-client (pgbench), pgbouncer, socat; installed when missing
# (as root). The PostgreSQL server and PgBouncer run as the 'postgres' system user when started as root.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/scripts/lib.sh"

ROUNDS=3
SECONDS_PER_RUN=10
SCALE=10
WORKLOADS="select tpcb"
TLS=
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --quick) ROUNDS=1; SECONDS_PER_RUN=5; WORKLOADS="select"; shift ;;
    --workloads) WORKLOADS=$2; shift 2 ;;
    --tls) TLS=1; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
CLIENTS=${CLIENTS:-"1 16"}
MODES=${MODES:-"simple extended prepared"}
TARGETS=${TARGETS:-"direct warden pgbouncer socat"}

warden_find_jdk || exit 2
warden_ensure_packages postgresql postgresql-client pgbouncer socat libpg-query-dev openssl || exit 2
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

work=$(mktemp -d /tmp/warden-bench.XXXXXX)
chmod 755 "$work"
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # runuser does not pass the signal on: stop PgBouncer by its own pid file.
  [ -f "$work/pgbouncer.pid" ] && kill "$(cat "$work/pgbouncer.pid")" 2>/dev/null || true
  as_pg "$PGBIN/pg_ctl" -D "$work/pg" -m fast stop >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
P_DIRECT=$(free_port); P_WARDEN=$(free_port); P_BOUNCER=$(free_port); P_SOCAT=$(free_port); P_BASE=$(free_port)
[ -n "${BASELINE_APP:-}" ] && case " $TARGETS " in *" baseline "*) ;; *) TARGETS="$TARGETS baseline" ;; esac

echo "bench: PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$P_DIRECT, data in $work" >&2
mkdir -p "$work/pg"
[ "$(id -u)" -eq 0 ] && chown postgres "$work" "$work/pg"
as_pg "$PGBIN/initdb" -D "$work/pg" -U postgres -A trust --no-sync >/dev/null
cat >> "$work/pg/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $P_DIRECT
unix_socket_directories = '$work'
max_connections = 200
shared_buffers = 256MB
fsync = on
synchronous_commit = on
EOF
if [ -n "$TLS" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null
  chmod 600 "$work/tls.key"
  # Warden reads its copy as the invoking user; PostgreSQL and PgBouncer theirs as 'postgres' (mode 600 either way).
  cp -p "$work/tls.key" "$work/warden-tls.key"
  [ "$(id -u)" -eq 0 ] && chown postgres "$work/tls.key" "$work/tls.crt"
  printf "ssl = on\nssl_cert_file = '%s'\nssl_key_file = '%s'\n" "$work/tls.crt" "$work/tls.key" >> "$work/pg/postgresql.conf"
  export PGSSLMODE=require
fi
as_pg "$PGBIN/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w start >/dev/null
psql -X -q -h 127.0.0.1 -p "$P_DIRECT" -U postgres -c "CREATE ROLE bench LOGIN PASSWORD 'bench-upstream'" \
  -c "CREATE DATABASE bench OWNER bench" postgres
PGPASSWORD=bench-upstream pgbench -q -i -s "$SCALE" -h 127.0.0.1 -p "$P_DIRECT" -U bench bench 2>&1 | tail -1 >&2

# Warden: the full pipeline with the real configuration path.
echo "bench: building Warden" >&2
(cd "$root" && ./mvnw -q -B -DskipTests package -pl app -am) >&2
cat > "$work/policy.yaml" <<'EOF'
rules:
  - name: reads
    match: {kind: [read]}
    action: allow
  - name: pgbench-writes
    match: {kind: [write], objects: ["public.pgbench_*"]}
    action: allow
EOF
if [ -n "${BENCH_ALLOW_UNKNOWN:-}" ]; then
  # Only for builds without the PostgreSQL classifier, where every statement is 'unknown'.
  printf '  - name: bench-unknown\n    match: {kind: [unknown]}\n    action: allow\n' >> "$work/policy.yaml"
fi
cat > "$work/warden.yaml" <<EOF
data_dir: data
policy: policy.yaml
agents:
  - name: bench
    secret: bench-agent
databases:
  - name: bench
    engine: postgres
    listen: 127.0.0.1:$P_WARDEN
    max_connections_per_agent: 100
    upstream: {host: 127.0.0.1, port: $P_DIRECT, database: bench, user: bench, password: bench-upstream}
EOF
if [ -n "$TLS" ]; then
  printf '    tls: {mode: required, cert: %s, key: %s}\n' "$work/tls.crt" "$work/warden-tls.key" >> "$work/warden.yaml"
  sed -i 's/password: bench-upstream}$/password: bench-upstream, tls: {mode: require}}/' "$work/warden.yaml"
fi
app="$root/app/target"
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED ${WARDEN_JAVA_OPTS:-} -cp "$app/warden-app.jar:$app/lib/*" \
  dev.warden.app.Main proxy --config "$work/warden.yaml" 2>"$work/warden.log" &
pids+=($!); PID_WARDEN=$!
if [ -n "${BASELINE_APP:-}" ]; then
  mkdir -p "$work/base"
  sed -e "s/127.0.0.1:$P_WARDEN/127.0.0.1:$P_BASE/" -e "s|policy: policy.yaml|policy: ../policy.yaml|" "$work/warden.yaml" > "$work/base/warden.yaml"
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED ${BASELINE_JAVA_OPTS:-} -cp "$BASELINE_APP/warden-app.jar:$BASELINE_APP/lib/*" \
    dev.warden.app.Main proxy --config "$work/base/warden.yaml" 2>"$work/base/warden.log" &
  pids+=($!); PID_BASE=$!
fi

# PgBouncer, session pooling.
cat > "$work/pgbouncer.ini" <<EOF
[databases]
bench = host=127.0.0.1 port=$P_DIRECT dbname=bench user=bench password=bench-upstream
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $P_BOUNCER
unix_socket_dir =
auth_type = trust
auth_file = $work/userlist.txt
pool_mode = session
max_client_conn = 200
default_pool_size = 40
logfile = $work/pgbouncer.log
pidfile = $work/pgbouncer.pid
EOF
if [ -n "$TLS" ]; then
  printf 'client_tls_sslmode = require\nclient_tls_cert_file = %s\nclient_tls_key_file = %s\nserver_tls_sslmode = require\n' \
    "$work/tls.crt" "$work/tls.key" >> "$work/pgbouncer.ini"
fi
echo '"bench" ""' > "$work/userlist.txt"
[ "$(id -u)" -eq 0 ] && chown postgres "$work/pgbouncer.ini" "$work/userlist.txt"
as_pg pgbouncer "$work/pgbouncer.ini" >/dev/null 2>&1 &
pids+=($!)

socat TCP-LISTEN:"$P_SOCAT",bind=127.0.0.1,fork,reuseaddr,nodelay TCP:127.0.0.1:"$P_DIRECT",nodelay &
pids+=($!); PID_SOCAT=$!

# CPU time (user+system, clock ticks) of each proxy process, to report CPU per transaction: less noisy than throughput
# on a shared machine.
# socat forks per connection: its children's time reaches the parent's cutime/cstime once they exit and are reaped.
cpu_of() {
  case $1 in
    warden) awk '{print $14+$15}' "/proc/$PID_WARDEN/stat";;
    baseline) awk '{print $14+$15}' "/proc/$PID_BASE/stat";;
    pgbouncer) awk '{print $14+$15}' "/proc/$(cat "$work/pgbouncer.pid")/stat";;
    socat) sleep 0.3; awk '{print $14+$15+$16+$17}' "/proc/$PID_SOCAT/stat";;
    *) echo 0;;
  esac
}
TICK=$(getconf CLK_TCK)
# The server's CPU time too: what a proxy costs PostgreSQL itself (its wake-ups, its pacing) shows here. The
# postmaster's own and its reaped children's time, plus every live backend's (PgBouncer keeps its backends open).
PG_PID=$(head -1 "$work/pg/postmaster.pid")
pg_cpu() {
  sleep 0.3
  local total c
  total=$(awk '{print $14+$15+$16+$17}' "/proc/$PG_PID/stat")
  for c in $(ps -o pid= --ppid "$PG_PID"); do
    total=$((total + $(awk '{print $14+$15}' "/proc/$c/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
port_of() { case $1 in direct) echo "$P_DIRECT";; warden) echo "$P_WARDEN";; pgbouncer) echo "$P_BOUNCER";; socat) echo "$P_SOCAT";; baseline) echo "$P_BASE";; esac; }
pass_of() { case $1 in warden|baseline) echo bench-agent;; *) echo bench-upstream;; esac; }

for t in $TARGETS; do
  for i in $(seq 1 50); do
    if PGPASSWORD=$(pass_of "$t") psql -X -q -h 127.0.0.1 -p "$(port_of "$t")" -U bench -c "SELECT 1 FROM pgbench_branches LIMIT 1" bench >/dev/null 2>&1; then break; fi
    [ "$i" -eq 50 ] && { echo "bench: $t does not answer; see $work" >&2; KEEP=1; exit 1; }
    sleep 0.2
  done
done

# Warm-up: the JVM compiles its hot paths in the first seconds; measure the steady state, not the JIT.
for t in $TARGETS; do
  case $t in warden|baseline) ;; *) continue ;; esac
  for m in $MODES; do
    PGPASSWORD=$(pass_of "$t") pgbench -n -S -M "$m" -c 4 -j 2 -T "${WARMUP_SECONDS:-15}" -h 127.0.0.1 -p "$(port_of "$t")" -U bench bench >/dev/null 2>&1 || true
  done
done

results="$work/results.tsv"
: > "$results"
echo "bench: $ROUNDS round(s) x $SECONDS_PER_RUN s per run; workloads: $WORKLOADS; clients: $CLIENTS; modes: $MODES${TLS:+; TLS}" >&2
for round in $(seq 1 "$ROUNDS"); do
  for w in $WORKLOADS; do
    for c in $CLIENTS; do
      for m in $MODES; do
        for t in $TARGETS; do
          flags=()
          [ "$w" = select ] && flags+=(-S)
          j=$(( c < 2 ? 1 : 2 ))
          cpu0=$(cpu_of "$t")
          pg0=$(pg_cpu)
          out=$(PGPASSWORD=$(pass_of "$t") pgbench -n "${flags[@]}" -M "$m" -c "$c" -j "$j" -T "$SECONDS_PER_RUN" \
                 -h 127.0.0.1 -p "$(port_of "$t")" -U bench bench 2>&1) || { echo "$out" >&2; echo "bench: pgbench failed for $t" >&2; KEEP=1; exit 1; }
          tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p')
          cpu1=$(cpu_of "$t")
          pg1=$(pg_cpu)
          txs=$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
          cpu=$(python3 -c "print(f'{($cpu1-$cpu0)*1e6/$TICK/max(1,${txs:-0}):.1f}')")
          pgcpu=$(python3 -c "print(f'{($pg1-$pg0)*1e6/$TICK/max(1,${txs:-0}):.1f}')")
          lat=$(echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
          failed=$(echo "$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
          printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$w" "$c" "$m" "$t" "$tps" "$lat" "${failed:-0}" "$cpu" "$pgcpu" >> "$results"
          printf 'bench: round %s %-6s c=%-2s %-8s %-9s tps=%-10s lat=%sms cpu=%sus/tx postgres=%sus/tx\n' "$round" "$w" "$c" "$m" "$t" "$tps" "$lat" "$cpu" "$pgcpu" >&2
        done
      done
    done
  done
done

python3 - "$results" <<'EOF'
import sys, statistics, collections
rows = [l.rstrip('\n').split('\t') for l in open(sys.argv[1]) if l.strip()]
d = collections.defaultdict(lambda: ([], [], 0))
cpu = collections.defaultdict(list)
pgcpu = collections.defaultdict(list)
for r, w, c, m, t, tps, lat, failed, cp, pc in rows:
    k = (w, int(c), m, t)
    tl, ll, f = d[k]
    tl.append(float(tps)); ll.append(float(lat)); d[k] = (tl, ll, f + int(failed))
    cpu[k].append(float(cp))
    pgcpu[k].append(float(pc))
targets = []
for k in d:
    if k[3] not in targets: targets.append(k[3])
print(f"{'workload':8} {'clients':>7} {'mode':9} {'target':9} {'tps(median)':>12} {'x direct':>9} {'x bouncer':>9} {'x socat':>8} {'lat ms':>8} {'+us vs direct':>14} {'+us vs socat':>13} {'failed':>6} {'cpu us/tx':>9} {'pg us/tx':>8}")
for (w, c, m) in sorted({(k[0], k[1], k[2]) for k in d}):
    base = d.get((w, c, m, 'direct'))
    sock = d.get((w, c, m, 'socat'))
    bouncer = d.get((w, c, m, 'pgbouncer'))
    for t in targets:
        if (w, c, m, t) not in d: continue
        tl, ll, f = d[(w, c, m, t)]
        tps = statistics.median(tl); lat = statistics.median(ll)
        ratio = tps / statistics.median(base[0]) if base else float('nan')
        rb = tps / statistics.median(bouncer[0]) if bouncer else float('nan')
        rs = tps / statistics.median(sock[0]) if sock else float('nan')
        add = (lat - statistics.median(base[1])) * 1000 if base else float('nan')
        adds = (lat - statistics.median(sock[1])) * 1000 if sock else float('nan')
        cp = statistics.median(cpu[(w, c, m, t)]) if t != 'direct' else float('nan')
        pc = statistics.median(pgcpu[(w, c, m, t)])
        print(f"{w:8} {c:>7} {m:9} {t:9} {tps:>12.0f} {ratio:>9.3f} {rb:>9.3f} {rs:>8.3f} {lat:>8.3f} {add:>14.0f} {adds:>13.0f} {f:>6} {cp:>9.1f} {pc:>8.1f}")
EOF
grep -c "INFO decision" "$work/warden.log" | sed 's/^/bench: decisions logged by Warden: /' >&2
grep -m3 -E "WARN|warning|action=deny" "$work/warden.log" >&2 || true
