# shellcheck shell=bash
# shellcheck disable=SC2016 # single-quoted bash -c scripts expand their own arguments
# Shared code of infra/local/{up,down,status,restart,smoke}: configuration, process handling,
# and one install/start/ready function per service. Sourced, never run.
#
# Everything listens on 127.0.0.1 only. Nothing here contacts any address but 127.0.0.1 and
# the package registries (Debian, Maven Central, the Go module proxy) during installs.

set -euo pipefail

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SERVICES=(nats kafka ferretdb)

# ---------------------------------------------------------------------------------------------
# Configuration (environment overrides; documented in README.md)
# ---------------------------------------------------------------------------------------------
if [[ -n "${HOME:-}" ]]; then
  _default_cache="${XDG_CACHE_HOME:-$HOME/.cache}/civic-ledger-infra"
else
  _default_cache="$INFRA_DIR/.cache"
fi
CACHE_DIR="${CIVIC_LEDGER_INFRA_CACHE:-$_default_cache}"
RUN_DIR="${CIVIC_LEDGER_INFRA_RUN:-$INFRA_DIR/.run}"
READY_TIMEOUT="${CIVIC_LEDGER_INFRA_READY_TIMEOUT:-120}"
STOP_TIMEOUT="${CIVIC_LEDGER_INFRA_STOP_TIMEOUT:-30}"
HOST=127.0.0.1

NATS_PORT="${CIVIC_LEDGER_NATS_PORT:-4222}"
NATS_MONITOR_PORT="${CIVIC_LEDGER_NATS_MONITOR_PORT:-8222}"

KAFKA_VERSION="${CIVIC_LEDGER_KAFKA_VERSION:-4.1.2}"
KAFKA_PORT="${CIVIC_LEDGER_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${CIVIC_LEDGER_KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HEAP_OPTS="${CIVIC_LEDGER_KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}"

FERRETDB_VERSION="${CIVIC_LEDGER_FERRETDB_VERSION:-v1.24.2}"
FERRETDB_PORT="${CIVIC_LEDGER_FERRETDB_PORT:-27017}"
FERRETDB_DEBUG_PORT="${CIVIC_LEDGER_FERRETDB_DEBUG_PORT:-8088}"

ENV_FILE="$RUN_DIR/env"

for _v in NATS_PORT NATS_MONITOR_PORT KAFKA_PORT KAFKA_CONTROLLER_PORT FERRETDB_PORT FERRETDB_DEBUG_PORT; do
  if ! [[ "${!_v}" =~ ^[0-9]+$ ]] || ((${!_v} < 1 || ${!_v} > 65535)); then
    printf 'infra/local: error: CIVIC_LEDGER_%s=%s is not a TCP port (1-65535)\n' "$_v" "${!_v}" >&2
    exit 1
  fi
done
unset _v

# ---------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------
_prog="infra/local/$(basename "$0")"
info() { printf '%s: %s\n' "$_prog" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "$_prog" "$*" >&2
  exit 1
}

check_service_name() {
  local s
  for s in "${SERVICES[@]}"; do [[ "$1" == "$s" ]] && return 0; done
  die "unknown service '$1' (expected one of: ${SERVICES[*]}, all)"
}

# Sets TARGETS from the arguments: "all" or nothing is every service; others are checked.
expand_services() {
  TARGETS=()
  if [[ $# -eq 0 || ($# -eq 1 && "$1" == all) ]]; then
    TARGETS=("${SERVICES[@]}")
    return
  fi
  local s
  for s in "$@"; do
    [[ "$s" == all ]] && die "'all' cannot be combined with service names"
    check_service_name "$s"
    TARGETS+=("$s")
  done
}

now_s() { date +%s; }

# ---------------------------------------------------------------------------------------------
# Locks: one per run dir (start/stop) and one per cache dir (installs), so parallel callers
# (two test runners, two terminals) wait for each other instead of racing.
# ---------------------------------------------------------------------------------------------
lock_run() {
  mkdir -p "$RUN_DIR"
  exec 8>"$RUN_DIR/.lock"
  flock 8
}
lock_cache() {
  mkdir -p "$CACHE_DIR"
  exec 7>"$CACHE_DIR/.lock"
  flock 7
}
unlock_cache() { exec 7>&-; }

# ---------------------------------------------------------------------------------------------
# Network probes (bash /dev/tcp; no curl/nc needed)
# ---------------------------------------------------------------------------------------------
port_open() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$HOST" "$1" 2>/dev/null
}

# Prints the HTTP status code of GET http://127.0.0.1:<port><path>, or nothing.
http_status() {
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: %s:%s\r\nConnection: close\r\n\r\n" "$2" "$0" "$1" >&3
    IFS=" " read -r _ code _ <&3 && printf "%s" "$code"
  ' "$HOST" "$1" "$2" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------
# Processes. Each service runs detached (own session) with its pid in $RUN_DIR/<svc>/pid and
# its output appended to $RUN_DIR/<svc>/<svc>.log. A pid only counts as ours when the
# process's command line names the service's run folder (pids get reused).
# ---------------------------------------------------------------------------------------------
svc_dir() { printf '%s/%s' "$RUN_DIR" "$1"; }
svc_log() { printf '%s/%s/%s.log' "$RUN_DIR" "$1" "$1"; }
pid_file() { printf '%s/%s/pid' "$RUN_DIR" "$1"; }

pid_alive() {
  local pid=$1 state
  kill -0 "$pid" 2>/dev/null || return 1
  # An exited child that nobody reaped yet still answers kill -0.
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
  [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

# Prints the pid of the running service, or fails.
svc_pid() {
  local f pid
  f=$(pid_file "$1")
  [[ -f "$f" ]] || return 1
  pid=$(<"$f")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  pid_alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$(svc_dir "$1")/" || return 1
  printf '%s' "$pid"
}

# start_detached <svc> <command...>: runs the command in its own session (a Ctrl-C in the
# caller's terminal or the end of a test runner's process group does not reach it).
start_detached() {
  local svc=$1
  shift
  local log pidf
  log=$(svc_log "$svc")
  pidf=$(pid_file "$svc")
  rm -f "$pidf"
  printf '\n===== %s: started by %s =====\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$_prog" >>"$log"
  # The inner shell writes its own pid, then execs the service in place: the pid is the
  # service's whether or not setsid had to fork. The lock descriptors stay with us.
  DO_NOT_TRACK=1 setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidf" "$@" \
    >>"$log" 2>&1 </dev/null 7>&- 8>&- &
  local _
  for _ in $(seq 1 50); do
    [[ -s "$pidf" ]] && return 0
    sleep 0.1
  done
  die "$svc: could not start (no pid file after 5 s); see $log"
}

log_tail() {
  local log
  log=$(svc_log "$1")
  if [[ -f "$log" ]]; then
    printf -- '----- last 40 lines of %s -----\n' "$log" >&2
    tail -n 40 "$log" >&2
    printf -- '-----\n' >&2
  fi
}

# stop_pid <svc> <pid> <signal-first: TERM|KILL>
stop_pid() {
  local svc=$1 pid=$2 sig=$3 deadline
  kill "-$sig" "$pid" 2>/dev/null || true
  deadline=$(($(now_s) + STOP_TIMEOUT))
  while pid_alive "$pid"; do
    if (($(now_s) >= deadline)); then
      info "$svc: still running ${STOP_TIMEOUT}s after SIGTERM, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$(($(now_s) + 10))
      while pid_alive "$pid"; do
        (($(now_s) >= deadline)) && die "$svc: pid $pid survives SIGKILL"
        sleep 0.2
      done
      break
    fi
    sleep 0.2
  done
  rm -f "$(pid_file "$svc")"
}

# Fails with a clear message when someone else holds one of the service's ports.
ensure_ports_free() {
  local svc=$1 port
  shift
  for port in "$@"; do
    if port_open "$port"; then
      die "$svc: 127.0.0.1:$port is already in use by a process not started from $RUN_DIR" \
        "(see: ss -ltnp 'sport = :$port'); stop it or choose other ports with the" \
        "CIVIC_LEDGER_*_PORT variables (infra/local/README.md)"
    fi
  done
}

# wait_ready <svc> <pid> <probe function>: polls the probe until it succeeds, the process
# dies or READY_TIMEOUT passes; on failure stops the process and shows its log.
wait_ready() {
  local svc=$1 pid=$2 probe=$3 start deadline
  start=$(now_s)
  deadline=$((start + READY_TIMEOUT))
  while :; do
    if ! pid_alive "$pid"; then
      log_tail "$svc"
      rm -f "$(pid_file "$svc")"
      die "$svc: exited during start-up (log: $(svc_log "$svc"))"
    fi
    if "$probe"; then
      info "$svc: ready after $(($(now_s) - start)) s (pid $pid)"
      # What status and the env file report while it runs, whatever the environment says then.
      printf '%s\n' "$(svc_address "$svc")" >"$(svc_dir "$svc")/address"
      printf '%s\n' "$(svc_env_line "$svc")" >"$(svc_dir "$svc")/env"
      return 0
    fi
    if (($(now_s) >= deadline)); then
      log_tail "$svc"
      info "$svc: stopping the half-started process"
      stop_pid "$svc" "$pid" TERM
      die "$svc: not ready after ${READY_TIMEOUT}s (CIVIC_LEDGER_INFRA_READY_TIMEOUT); log: $(svc_log "$svc")"
    fi
    sleep 0.5
  done
}

# ---------------------------------------------------------------------------------------------
# Prerequisites
# ---------------------------------------------------------------------------------------------
apt_install() {
  command -v apt-get >/dev/null || die "need the Debian package(s) $*, and apt-get is not available: install them by hand"
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || die "need the Debian package(s) $*: run as root or install sudo (or: apt-get install -y $*)"
    sudo=(sudo)
  fi
  info "installing Debian package(s): $* (apt-get update && apt-get install -y $*)"
  local log
  log=$(mktemp)
  if ! { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    rm -f "$log"
    die "could not install $* with apt-get (output above)"
  fi
  rm -f "$log"
}

java_major() {
  local v
  v=$("$1" -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\).*/\1/p' | head -n 1)
  printf '%s' "${v:-0}"
}

ensure_java() {
  JAVA="${CIVIC_LEDGER_JAVA:-java}"
  if ! command -v "$JAVA" >/dev/null; then
    [[ -n "${CIVIC_LEDGER_JAVA:-}" ]] && die "CIVIC_LEDGER_JAVA=$JAVA is not executable"
    apt_install openjdk-17-jre-headless
  fi
  local major
  major=$(java_major "$JAVA")
  ((major >= 17)) || die "Kafka $KAFKA_VERSION needs Java >= 17, '$JAVA' is Java $major (apt-get install -y openjdk-17-jre-headless, or set CIVIC_LEDGER_JAVA)"
}

ensure_mvn() {
  command -v mvn >/dev/null || apt_install maven
}

# Go >= 1.24 for FerretDB v1.24. Debian 12's golang-go (1.19) is too old and cannot fetch a
# newer toolchain offline, so prefer the machine's /usr/local/go.
ensure_go() {
  if [[ -n "${CIVIC_LEDGER_GO:-}" ]]; then
    GO="$CIVIC_LEDGER_GO"
  elif [[ -x /usr/local/go/bin/go ]]; then
    GO=/usr/local/go/bin/go
  elif command -v go >/dev/null; then
    GO=$(command -v go)
  else
    die "FerretDB is built from source and needs Go >= 1.24 (none found; Debian's golang-go is too old). Install Go into /usr/local/go or set CIVIC_LEDGER_GO"
  fi
  local v major minor
  v=$(GOTOOLCHAIN=local "$GO" env GOVERSION 2>/dev/null) || die "'$GO env GOVERSION' failed"
  major=$(sed -n 's/^go\([0-9]*\)\.\([0-9]*\).*/\1/p' <<<"$v")
  minor=$(sed -n 's/^go\([0-9]*\)\.\([0-9]*\).*/\2/p' <<<"$v")
  if [[ -z "$major" ]] || ((major < 1 || (major == 1 && minor < 24))); then
    die "FerretDB $FERRETDB_VERSION needs Go >= 1.24, '$GO' is $v (set CIVIC_LEDGER_GO)"
  fi
}

# ---------------------------------------------------------------------------------------------
# NATS (JetStream)
# ---------------------------------------------------------------------------------------------
nats_install() {
  NATS_BIN="${CIVIC_LEDGER_NATS_SERVER:-}"
  if [[ -z "$NATS_BIN" ]]; then
    NATS_BIN=$(command -v nats-server || true)
    if [[ -z "$NATS_BIN" ]]; then
      apt_install nats-server
      NATS_BIN=$(command -v nats-server) || die "nats-server still missing after apt-get install"
    fi
  fi
  [[ -x "$NATS_BIN" ]] || die "nats-server '$NATS_BIN' is not executable"
}

nats_ready() {
  port_open "$NATS_PORT" && [[ "$(http_status "$NATS_MONITOR_PORT" '/healthz?js-enabled-only=true')" == 200 ]]
}

nats_start() {
  nats_install
  ensure_ports_free nats "$NATS_PORT" "$NATS_MONITOR_PORT"
  local dir
  dir=$(svc_dir nats)
  mkdir -p "$dir/data"
  # -a binds client and monitoring listeners to 127.0.0.1; no cluster, no leafnodes, no
  # gateways are configured, so it never dials out.
  start_detached nats "$NATS_BIN" \
    --name civic-ledger-local \
    -a "$HOST" -p "$NATS_PORT" -m "$NATS_MONITOR_PORT" \
    -js -sd "$dir/data"
  wait_ready nats "$(cat "$(pid_file nats)")" nats_ready
}

# ---------------------------------------------------------------------------------------------
# Kafka (KRaft, single node: broker and controller in one JVM)
# ---------------------------------------------------------------------------------------------
kafka_home() { printf '%s/kafka-%s' "$CACHE_DIR" "$KAFKA_VERSION"; }

kafka_install() {
  ensure_java
  local home pom_sum
  home=$(kafka_home)
  pom_sum=$(sha256sum "$INFRA_DIR/kafka/pom.xml" | cut -d' ' -f1)
  if [[ -f "$home/.complete" && "$(<"$home/.complete")" == "$pom_sum" ]]; then
    return 0
  fi
  lock_cache
  if [[ -f "$home/.complete" && "$(<"$home/.complete")" == "$pom_sum" ]]; then
    unlock_cache
    return 0
  fi
  ensure_mvn
  local t0
  t0=$(now_s)
  info "kafka: resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION and kafka-tools from Maven Central into $home/libs"
  rm -rf "$home"
  mkdir -p "$home"
  # A throwaway local repository: only the copied jars are kept.
  if ! (cd "$INFRA_DIR/kafka" && mvn -B -q -Dstyle.color=never \
    -Dmaven.repo.local="$home/m2" \
    -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$home/libs") >"$home/mvn.log" 2>&1; then
    tail -n 40 "$home/mvn.log" >&2
    die "kafka: Maven could not resolve the broker jars (output above, all of it in $home/mvn.log)"
  fi
  rm -rf "$home/m2" "$home/mvn.log"
  info "kafka: $(find "$home/libs" -name '*.jar' | wc -l) jars ($(du -sh "$home/libs" | cut -f1)) resolved in $(($(now_s) - t0)) s"
  [[ -f "$home/libs/kafka_2.13-$KAFKA_VERSION.jar" ]] || die "kafka: kafka_2.13-$KAFKA_VERSION.jar missing after resolution"
  printf '%s' "$pom_sum" >"$home/.complete"
  unlock_cache
}

# Admin/perf tools (warnings only, on stderr), bounded by KAFKA_TOOL_TIMEOUT seconds.
kafka_tool() {
  timeout "${KAFKA_TOOL_TIMEOUT:-120}" "$JAVA" -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$INFRA_DIR/kafka/tools-log4j2.xml" \
    -Xmx256m -XX:TieredStopAtLevel=1 -cp "$(kafka_home)/libs/*" "$@"
}

kafka_write_config() {
  local dir=$1
  cat >"$dir/server.properties" <<EOF
# Written by infra/local/up on every start (ports come from the environment); edit lib.sh.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data

# One node: every internal topic has replication factor 1, or consumer groups and
# transactions never find a coordinator.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1

# Tests create their topics explicitly: a typo must fail, not create a topic.
auto.create.topics.enable=false
num.partitions=1
# Consumer groups start at once instead of waiting 3 s for more members.
group.initial.rebalance.delay.ms=0
EOF
  # For the admin tools: fail fast instead of the default 60 s while the broker starts.
  cat >"$dir/admin.properties" <<EOF
request.timeout.ms=5000
default.api.timeout.ms=10000
EOF
}

kafka_ready() {
  port_open "$KAFKA_PORT" || return 1
  # Each admin-tool probe is a JVM: on 2 cores, polling with it before the broker says it has
  # started only slows the start down.
  tail -c +"$((KAFKA_LOG_OFFSET + 1))" "$(svc_log kafka)" | grep -q 'Kafka Server started' || return 1
  # A real metadata round trip through the broker's own admin client.
  KAFKA_TOOL_TIMEOUT=30 kafka_tool org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$(kafka_brokers)" --command-config "$(svc_dir kafka)/admin.properties" \
    --list >/dev/null 2>&1
}

kafka_start() {
  kafka_install
  ensure_ports_free kafka "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"
  local dir
  dir=$(svc_dir kafka)
  mkdir -p "$dir/data"
  kafka_write_config "$dir"
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    local id
    [[ -s "$dir/cluster.id" ]] ||
      kafka_tool kafka.tools.StorageTool random-uuid >"$dir/cluster.id"
    id=$(<"$dir/cluster.id")
    info "kafka: formatting storage (cluster id $id) in $dir/data"
    kafka_tool kafka.tools.StorageTool format --standalone --ignore-formatted \
      -t "$id" -c "$dir/server.properties" >>"$(svc_log kafka)" 2>&1 ||
      {
        log_tail kafka
        die "kafka: storage format failed"
      }
  fi
  KAFKA_LOG_OFFSET=$(stat -c %s "$(svc_log kafka)" 2>/dev/null || echo 0)
  # JVM flags as in Kafka's kafka-server-start.sh / kafka-run-class.sh.
  # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS is a list of flags
  start_detached kafka "$JAVA" $KAFKA_HEAP_OPTS \
    -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$INFRA_DIR/kafka/log4j2.xml" \
    -Dkafka.logs.dir="$dir" \
    -cp "$(kafka_home)/libs/*" kafka.Kafka "$dir/server.properties"
  wait_ready kafka "$(cat "$(pid_file kafka)")" kafka_ready
}

kafka_brokers() { printf '%s:%s' "$HOST" "$KAFKA_PORT"; }

# ---------------------------------------------------------------------------------------------
# FerretDB (MongoDB wire protocol on SQLite)
# ---------------------------------------------------------------------------------------------
ferretdb_home() { printf '%s/ferretdb-%s' "$CACHE_DIR" "$FERRETDB_VERSION"; }
ferretdb_bin() { printf '%s/bin/ferretdb' "$(ferretdb_home)"; }

ferretdb_install() {
  local home bin
  home=$(ferretdb_home)
  bin=$(ferretdb_bin)
  [[ -f "$home/.complete" && -x "$bin" ]] && return 0
  lock_cache
  if [[ -f "$home/.complete" && -x "$bin" ]]; then
    unlock_cache
    return 0
  fi
  ensure_go
  local t0
  t0=$(now_s)
  info "ferretdb: building github.com/FerretDB/FerretDB $FERRETDB_VERSION with $GO ($(GOTOOLCHAIN=local "$GO" env GOVERSION)); this takes a few minutes once"
  rm -rf "$home"
  mkdir -p "$home/bin"
  local work="$home/work"
  local -a goenv=(
    GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0
    GOPATH="$work/gopath" GOMODCACHE="$work/gomod" GOCACHE="$work/gocache"
    GOBIN="$home/bin"
    # No VCS stamping: the source copy may sit inside some other repository (a cache in the
    # checkout), and FerretDB compares a stamped revision with its commit.txt.
    GOFLAGS="${GOFLAGS:+$GOFLAGS }-buildvcs=false"
  )
  # `go install .../cmd/ferretdb@version` builds, but the binary panics at start: FerretDB
  # embeds build/version/version.txt, which its release process generates and the module zip
  # lacks. So: fetch the module through the module proxy, add that file, build in place.
  local json src log="$home/build.log"
  json=$(cd "$home" && env "${goenv[@]}" "$GO" mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" 2>"$log") || {
    tail -n 40 "$log" >&2
    die "ferretdb: go mod download github.com/FerretDB/FerretDB@$FERRETDB_VERSION failed (output above)"
  }
  src=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json" | head -n 1)
  [[ -d "$src" ]] || die "ferretdb: module source not found after download"
  cp -r "$src" "$work/src"
  chmod -R u+w "$work/src"
  printf '%s\n' "$FERRETDB_VERSION" >"$work/src/build/version/version.txt"
  printf 'civic-ledger-infra\n' >"$work/src/build/version/package.txt"
  (cd "$work/src" && env "${goenv[@]}" "$GO" build -trimpath -o "$bin" ./cmd/ferretdb) >>"$log" 2>&1 || {
    tail -n 40 "$log" >&2
    die "ferretdb: go build failed (output above, all of it in $log)"
  }
  "$bin" --version >/dev/null 2>&1 || die "ferretdb: the built binary does not run ($bin --version)"
  # The module and build caches are ~1 GB; the binary is all we need.
  if [[ "${CIVIC_LEDGER_INFRA_KEEP_GO_CACHE:-0}" != 1 ]]; then
    chmod -R u+w "$work" 2>/dev/null || true
    rm -rf "$work"
  fi
  rm -f "$log"
  : >"$home/.complete"
  info "ferretdb: built $bin ($(du -sh "$bin" | cut -f1)) in $(($(now_s) - t0)) s"
  unlock_cache
}

ferretdb_ready() {
  port_open "$FERRETDB_PORT" && [[ "$(http_status "$FERRETDB_DEBUG_PORT" /debug/readyz)" == 200 ]]
}

ferretdb_start() {
  ferretdb_install
  ensure_ports_free ferretdb "$FERRETDB_PORT" "$FERRETDB_DEBUG_PORT"
  local dir
  dir=$(svc_dir ferretdb)
  mkdir -p "$dir/data" "$dir/state"
  # Telemetry off three ways: the flag, DO_NOT_TRACK (set by start_detached), and a reporting
  # URL on the discard port of 127.0.0.1 in case a future version ignores both.
  start_detached ferretdb "$(ferretdb_bin)" \
    --handler=sqlite --sqlite-url="file:$dir/data/" \
    --listen-addr="$HOST:$FERRETDB_PORT" \
    --state-dir="$dir/state" \
    --debug-addr="$HOST:$FERRETDB_DEBUG_PORT" \
    --telemetry=disable --test-telemetry-url="http://$HOST:9/" \
    --log-level=info
  wait_ready ferretdb "$(cat "$(pid_file ferretdb)")" ferretdb_ready
}

# ---------------------------------------------------------------------------------------------
# Env file: the URLs of the services that are running now.
# ---------------------------------------------------------------------------------------------
svc_env_line() {
  case $1 in
    nats) printf 'CIVIC_LEDGER_TEST_NATS_URL=nats://%s:%s' "$HOST" "$NATS_PORT" ;;
    kafka) printf 'CIVIC_LEDGER_TEST_KAFKA_BROKERS=%s:%s' "$HOST" "$KAFKA_PORT" ;;
    ferretdb) printf 'CIVIC_LEDGER_TEST_MONGODB_URL=mongodb://%s:%s/' "$HOST" "$FERRETDB_PORT" ;;
  esac
}

# The env lines of the running services, as recorded when each became ready.
env_lines() {
  local svc
  for svc in "${SERVICES[@]}"; do
    if svc_pid "$svc" >/dev/null && [[ -f "$(svc_dir "$svc")/env" ]]; then
      cat "$(svc_dir "$svc")/env"
    fi
  done
}

write_env_file() {
  mkdir -p "$RUN_DIR"
  {
    printf '# Written by infra/local; URLs of the services running now. Load with:\n'
    printf '#   set -a; . %s; set +a\n' "$ENV_FILE"
    env_lines
  } >"$ENV_FILE.tmp"
  mv "$ENV_FILE.tmp" "$ENV_FILE"
}

# Address summary used by status.
svc_address() {
  case $1 in
    nats) printf '%s:%s (monitor :%s)' "$HOST" "$NATS_PORT" "$NATS_MONITOR_PORT" ;;
    kafka) printf '%s:%s (controller :%s)' "$HOST" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" ;;
    ferretdb) printf '%s:%s (debug :%s)' "$HOST" "$FERRETDB_PORT" "$FERRETDB_DEBUG_PORT" ;;
  esac
}

svc_stop() {
  local svc=$1 sig=$2 pid
  if pid=$(svc_pid "$svc"); then
    info "$svc: stopping pid $pid (SIG$sig)"
    stop_pid "$svc" "$pid" "$sig"
    info "$svc: stopped"
  else
    info "$svc: not running"
  fi
  rm -f "$(pid_file "$svc")" "$(svc_dir "$svc")/address" "$(svc_dir "$svc")/env"
}

svc_up() {
  local svc=$1 pid running_at
  if pid=$(svc_pid "$svc"); then
    running_at=$(cat "$(svc_dir "$svc")/address" 2>/dev/null || true)
    info "$svc: already running (pid $pid) on ${running_at:-$(svc_address "$svc")}"
    if [[ -n "$running_at" && "$running_at" != "$(svc_address "$svc")" ]]; then
      info "$svc: warning: not on the requested $(svc_address "$svc"); run infra/local/restart $svc to move it"
    fi
    return 0
  fi
  info "$svc: starting on $(svc_address "$svc")"
  "${svc}_start"
}
