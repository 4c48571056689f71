#!/usr/bin/env bash
# A private etcd cluster on 127.0.0.1 for tests, benchmarks and the cluster demo.
#
#   scripts/etcd.sh start DIR [N [BASE_PORT]]  starts N members (default 1) and prints their client URLs
#                                              (comma-separated); member i listens for clients on
#                                              BASE_PORT+2i and for peers on BASE_PORT+2i+1 (default 23790)
#   scripts/etcd.sh endpoints DIR              prints the client URLs of the cluster in DIR
#   scripts/etcd.sh stop DIR                   stops every member by the PID in DIR/mI.pid
#   scripts/etcd.sh kill DIR I                 SIGKILLs member I (a crash)
#   scripts/etcd.sh restart DIR I              starts member I again on its data dir (it rejoins)
#   scripts/etcd.sh leader DIR                 prints the index of the member that is the Raft leader
#
# Each member keeps its data in DIR/mI/data, its log in DIR/mI.log and its PID
# in DIR/mI.pid; DIR/cluster.env records N and the ports, so `restart`,
# `endpoints` and a second `start` find the same cluster. Members run detached
# (setsid) and outlive this script. Safe to run twice: `start` on a running
# cluster prints its URLs again; `stop` on a stopped one does nothing.
set -euo pipefail
die() { printf 'etcd.sh: %s\n' "$*" >&2; exit 1; }

cmd=${1:-}
dir=${2:-}
case "$cmd" in start|stop|endpoints|kill|restart|leader) ;; *) die "usage: $0 start|stop|endpoints|kill|restart|leader DIR …" ;; esac
[ -n "$dir" ] || die "usage: $0 $cmd DIR (the folder that holds the cluster)"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)
env_file=$dir/cluster.env

alive() { # member $1 runs (the PID in its pidfile is an etcd of this folder)
  local f=$dir/m$1.pid pid
  [ -s "$f" ] || return 1
  pid=$(cat "$f")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "--data-dir $dir/m$1/data"
}

load() {
  [ -s "$env_file" ] || die "no cluster in $dir (start one with: $0 start $dir N)"
  # shellcheck disable=SC1090
  . "$env_file"
}
client_port() { echo $((BASE + 2 * $1)); }
peer_port() { echo $((BASE + 2 * $1 + 1)); }
urls() { local i out=''; for ((i = 0; i < N; i++)); do out+="${out:+,}http://127.0.0.1:$(client_port "$i")"; done; echo "$out"; }

launch() { # starts member $1 detached
  local i=$1 cluster='' j
  for ((j = 0; j < N; j++)); do cluster+="${cluster:+,}m$j=http://127.0.0.1:$(peer_port "$j")"; done
  mkdir -p "$dir/m$i"
  setsid etcd --name "m$i" --data-dir "$dir/m$i/data" \
    --listen-client-urls "http://127.0.0.1:$(client_port "$i")" --advertise-client-urls "http://127.0.0.1:$(client_port "$i")" \
    --listen-peer-urls "http://127.0.0.1:$(peer_port "$i")" --initial-advertise-peer-urls "http://127.0.0.1:$(peer_port "$i")" \
    --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "pv-$BASE" \
    --logger zap --log-outputs "$dir/m$i.log" </dev/null >>"$dir/m$i.out" 2>&1 &
  echo $! > "$dir/m$i.pid"
}

healthy() { # the cluster answers a linearizable read through any member
  ETCDCTL_API=3 etcdctl --endpoints "$(urls)" --command-timeout=2s get /polyvisor-health-probe >/dev/null 2>&1
}

# Why member $1 stopped, from its log: the bind error when its port was taken.
death_reason() {
  local log=$dir/m$1.log line
  line=$(grep -ho 'address already in use' "$log" "$dir/m$1.out" 2>/dev/null | head -n 1 || true)
  [ -n "$line" ] && { echo "port in use: $line"; return; }
  line=$(grep -h '"level":"fatal"' "$log" 2>/dev/null | tail -n 1 | cut -c1-300 || true)
  echo "${line:-no fatal line in $log}"
}

# Waits on the wall clock (a loaded host makes each etcdctl probe slow, so
# counting probes is not a time limit); a member that exits ends the wait at
# once with its reason, instead of probing a dead cluster until the deadline.
wait_healthy() {
  local limit=${POLYVISOR_ETCD_START_TIMEOUT:-45} i
  local deadline=$((SECONDS + limit))
  while ((SECONDS < deadline)); do
    healthy && return 0
    for ((i = 0; i < N; i++)); do
      alive "$i" || die "member m$i of $dir exited while starting ($(death_reason "$i"))"
    done
    sleep 0.2
  done
  die "the cluster in $dir did not become healthy in $limit s (logs: $dir/m*.log)"
}

stop_member() {
  local i=$1 pid
  alive "$i" || { rm -f "$dir/m$i.pid"; return 0; }
  pid=$(cat "$dir/m$i.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do [ -d "/proc/$pid" ] || break; sleep 0.05; done
  [ -d "/proc/$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$dir/m$i.pid"
}

member_index() {
  [[ ${1:-} =~ ^[0-9]+$ ]] && [ "$1" -lt "$N" ] || die "member index must be 0..$((N - 1)), not '${1:-}'"
}

case "$cmd" in
  start)
    n=${3:-1}
    base=${4:-23790}
    [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 9 ] || die "N must be 1..9, not '$n'"
    [[ $base =~ ^[0-9]+$ ]] && [ "$base" -ge 1024 ] && [ "$base" -le 65000 ] || die "BASE_PORT must be 1024..65000, not '$base'"
    command -v etcd >/dev/null || die "etcd is missing: apt-get install etcd-server etcd-client (scripts/setup.sh does)"
    if [ -s "$env_file" ]; then
      load
      [ "$N" = "$n" ] && [ "$BASE" = "$base" ] || die "$dir already holds a cluster of $N members on base port $BASE"
    else
      printf 'N=%s\nBASE=%s\n' "$n" "$base" > "$env_file"
      load
    fi
    for ((i = 0; i < N; i++)); do alive "$i" || launch "$i"; done
    wait_healthy
    urls
    ;;
  endpoints) load; urls ;;
  stop)
    [ -s "$env_file" ] || exit 0
    load
    for ((i = 0; i < N; i++)); do stop_member "$i"; done
    ;;
  kill)
    load; member_index "${3:-}"
    if alive "$3"; then kill -KILL "$(cat "$dir/m$3.pid")"; fi
    rm -f "$dir/m$3.pid"
    ;;
  restart)
    load; member_index "${3:-}"
    alive "$3" || launch "$3"
    ;;
  leader)
    load
    for ((i = 0; i < N; i++)); do
      alive "$i" || continue
      line=$(ETCDCTL_API=3 etcdctl --endpoints "http://127.0.0.1:$(client_port "$i")" --command-timeout=2s endpoint status -w json 2>/dev/null) || continue
      # member_id == leader in the status header means this member leads
      if printf '%s' "$line" | grep -q '"member_id":\([0-9]*\),.*"leader":\1[,}]'; then echo "$i"; exit 0; fi
    done
    die "no member of $dir reports itself leader"
    ;;
esac
