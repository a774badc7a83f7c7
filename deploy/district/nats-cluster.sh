#!/usr/bin/env bash
# A local 3-node NATS cluster (JetStream + MQTT) for the district broker: tests, demos and
# failover drills. Not a production deployment: every listener is on 127.0.0.1 (override with
# NATS_HOST) and anonymous clients are allowed; production uses TLS with client certificates
# (see README.md beside this file), which NATS_MQTT_TLS_DIR turns on for the MQTT listeners.
#
#   nats-cluster.sh start DIR [BASE_PORT]     start n1..n3 (those not running), wait until ready
#   nats-cluster.sh stop DIR                  stop every node (SIGTERM, then SIGKILL); idempotent
#   nats-cluster.sh status DIR                one line per node; exit 1 unless all three are ready
#   nats-cluster.sh kill DIR nK               SIGKILL one node (a crash), for failover tests
#   nats-cluster.sh stop-node DIR nK          stop one node cleanly (SIGTERM)
#   nats-cluster.sh start-node DIR nK         start one node again with its existing config and store
#
# Ports from BASE_PORT (default 14222), for node K = 1..3:
#   client BASE+K-1, cluster BASE+10+K-1, MQTT BASE+20+K-1, HTTP monitor BASE+30+K-1.
# BASE_PORT is remembered in DIR/base_port, so later commands need only DIR.
# Files: DIR/nK.conf, DIR/nK/ (JetStream store), DIR/nK.log, DIR/nK.pid.
# Environment: NATS_HOST (127.0.0.1), NATS_SERVER (nats-server on PATH or /usr/sbin),
# START_TIMEOUT (30 seconds).
# TLS mode: NATS_MQTT_TLS_DIR=TLS, a directory holding ca.pem, server.pem, server-key.pem
# and a client certificate probe.pem, probe-key.pem (subject CN=nats-cluster-probe, for the
# readiness check), and NATS_MQTT_SITES="site-a site-b" (the estates). Every MQTT listener then
# takes TLS only, requires a certificate signed by ca.pem and maps its subject to a user:
# CN=site-a may publish and subscribe under gatehouse/site-a/ only (NATS subjects
# gatehouse.site-a.>, and $MQTT.sub.> for QoS 1 subscriptions); any other certificate is
# refused. The client port stays as it is (anonymous, full rights: the user `office`). Read
# when a node's configuration is written (start always writes them); needs python3.
set -euo pipefail

NODES=(n1 n2 n3)
CLUSTER_NAME=gatehouse-district
HOST=${NATS_HOST:-127.0.0.1}
START_TIMEOUT=${START_TIMEOUT:-30}
TLS_DIR=${NATS_MQTT_TLS_DIR:-}
SITES=${NATS_MQTT_SITES:-}

die() { echo "nats-cluster: $*" >&2; exit 1; }

# Absolute, for the nodes' configurations (a missing directory fails when one is written).
if [ -n "$TLS_DIR" ] && [ -d "$TLS_DIR" ]; then TLS_DIR=$(cd "$TLS_DIR" && pwd); fi

usage() {
  sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# Debian puts nats-server in /usr/sbin, which is not on a normal user's PATH.
find_server() {
  if [ -n "${NATS_SERVER:-}" ]; then
    [ -x "$NATS_SERVER" ] || die "NATS_SERVER=$NATS_SERVER is not an executable"
    return
  fi
  PATH="$PATH:/usr/sbin:/sbin"
  if ! command -v nats-server >/dev/null 2>&1; then
    echo "nats-server not found: installing Debian's package" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y nats-server >&2 || {
      $sudo apt-get update >&2
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y nats-server >&2
    } || die "could not install nats-server with apt-get"
    command -v nats-server >/dev/null 2>&1 || die "nats-server still not found after installing it"
  fi
  NATS_SERVER=$(command -v nats-server)
}

node_index() {
  case "$1" in
    n1) echo 0 ;; n2) echo 1 ;; n3) echo 2 ;;
    *) die "unknown node '$1' (expected n1, n2 or n3)" ;;
  esac
}

load_base() {
  if [ -f "$DIR/base_port" ]; then BASE=$(cat "$DIR/base_port"); else BASE=14222; fi
}

ports_of() {
  local i; i=$(node_index "$1")
  CLIENT_PORT=$((BASE + i)); ROUTE_PORT=$((BASE + 10 + i))
  MQTT_PORT=$((BASE + 20 + i)); HTTP_PORT=$((BASE + 30 + i))
}

write_config() {
  local node=$1 other routes=""
  for other in "${NODES[@]}"; do
    [ "$other" = "$node" ] && continue
    ports_of "$other"
    routes+="    nats-route://$HOST:$ROUTE_PORT"$'\n'
  done
  ports_of "$node"
  mkdir -p "$DIR/$node"
  local what="anonymous access, no TLS" mqtt_tls=""
  if [ -n "$TLS_DIR" ]; then
    what="MQTT over TLS with client certificates mapped to estate users"
    mqtt_tls=$(tls_block)
  fi
  cat >"$DIR/$node.conf" <<EOF
# Written by nats-cluster.sh: local test node, $what.
server_name: $node
listen: "$HOST:$CLIENT_PORT"
http: "$HOST:$HTTP_PORT"
log_file: "$DIR/$node.log"
logtime: true

jetstream {
  store_dir: "$DIR/$node"
  max_mem: 256MB
  max_file: 2GB
}

cluster {
  name: $CLUSTER_NAME
  listen: "$HOST:$ROUTE_PORT"
  routes: [
$routes  ]
}

mqtt {
  listen: "$HOST:$MQTT_PORT"
  # The \$MQTT_ streams (sessions, messages, retained) replicated on all three nodes.
  # Takes effect only when those streams are first created.
  stream_replicas: 3
  # QoS 1 subscriptions are JetStream consumers: replicated too, so that a session whose
  # consumer sat on a killed node can be taken up on another.
  consumer_replicas: 3$mqtt_tls
}
EOF
  [ -z "$TLS_DIR" ] || users_block >>"$DIR/$node.conf"
}

# TLS mode: the mqtt {} block's tls {}, each line after a newline.
tls_block() {
  local f
  for f in ca.pem server.pem server-key.pem probe.pem probe-key.pem; do
    [ -f "$TLS_DIR/$f" ] || die "NATS_MQTT_TLS_DIR=$TLS_DIR has no $f"
  done
  cat <<EOF

  # Only TLS, only with a client certificate signed by ca.pem; the certificate's subject
  # (RFC 2253, e.g. CN=river-estate) is the user name (authorization below).
  tls {
    cert_file: "$TLS_DIR/server.pem"
    key_file: "$TLS_DIR/server-key.pem"
    ca_file: "$TLS_DIR/ca.pem"
    verify_and_map: true
    timeout: 5
  }
EOF
}

# TLS mode: the users. An estate's certificate (CN=<site>) may publish and subscribe under
# gatehouse/<site>/ only (MQTT's / is NATS's .), and to $MQTT.sub.>, the delivery subjects of
# QoS 1 subscriptions. Clients of the client port carry no credentials: no_auth_user makes them
# `office`, with every right, as without TLS mode.
users_block() {
  local site
  cat <<EOF

authorization {
  users: [
    { user: office, allowed_connection_types: ["STANDARD"] }
    # The readiness probe of nats-cluster.sh: connects, nothing more.
    { user: "CN=nats-cluster-probe", allowed_connection_types: ["MQTT"],
      permissions: { publish: { deny: ">" }, subscribe: { deny: ">" } } }
EOF
  for site in ${SITES//,/ }; do
    [[ "$site" =~ ^[a-z0-9-]+$ ]] || die "NATS_MQTT_SITES: '$site' is not a site id (a-z, 0-9, -)"
    cat <<EOF
    { user: "CN=$site", allowed_connection_types: ["MQTT"],
      permissions: {
        publish: ["gatehouse.$site.>"]
        subscribe: ["gatehouse.$site.>", "\$MQTT.sub.>"]
      } }
EOF
  done
  cat <<EOF
  ]
}
no_auth_user: office
EOF
}

pid_of() { # prints the pid of a running node, or nothing
  local f="$DIR/$1.pid" pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  # Guard against a recycled pid: it must be nats-server with this node's config.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$DIR/$1.conf" || return 0
  echo "$pid"
}

http_get() { # URL -> body on stdout; fails when unreachable
  if command -v curl >/dev/null 2>&1; then
    curl -fsS --max-time 2 "$1" 2>/dev/null
  else
    python3 -c 'import sys,urllib.request;sys.stdout.write(urllib.request.urlopen(sys.argv[1],timeout=2).read().decode())' "$1" 2>/dev/null
  fi
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

meta_leader() { # the JetStream meta leader as node $1 sees it, or nothing
  ports_of "$1"
  http_get "http://$HOST:$HTTP_PORT/jsz" | tr -d '\n' |
    grep -o '"meta_cluster": *{[^}]*}' | grep -o '"leader": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/' || true
}

# An MQTT 3.1.1 CONNECT (clean session, client id nc-probe-nK) answered by CONNACK 0.
# NATS answers it only once the $MQTT_sess stream has a leader: until then (a few seconds
# after a cluster start or after its leader's node died) it closes the connection after 4 s.
mqtt_probe() {
  local id="nc-probe-$1" pkt reply
  ports_of "$1"
  printf -v pkt '\\x10\\x%02x\\x00\\x04MQTT\\x04\\x02\\x00\\x1e\\x00\\x%02x%s' $((12 + ${#id})) ${#id} "$id"
  if [ -n "$TLS_DIR" ]; then
    [ "$(tls_probe "$pkt")" = "20020000" ]
    return
  fi
  reply=$(
    exec 3<>"/dev/tcp/$HOST/$MQTT_PORT" || exit 1
    printf "$pkt" >&3
    timeout 5 head -c 4 <&3 | od -An -tx1 | tr -d ' \n'
    printf '\xe0\x00' >&3 # DISCONNECT
  ) 2>/dev/null || true
  [ "$reply" = "20020000" ]
}

# TLS mode: sends the CONNECT ($1, a printf format) over TLS with the probe's certificate and
# prints the answer's first 4 bytes in hex (nothing when the handshake or the CONNECT fails).
tls_probe() {
  python3 - "$HOST" "$MQTT_PORT" "$TLS_DIR" "$1" 2>/dev/null <<'PY' || true
import socket, ssl, sys
host, port, tls, fmt = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False  # the chain is checked; the server's name may not be NATS_HOST
ctx.load_verify_locations(tls + "/ca.pem")
ctx.load_cert_chain(tls + "/probe.pem", tls + "/probe-key.pem")
pkt = fmt.encode().decode("unicode_escape").encode("latin-1")
with socket.create_connection((host, port), timeout=5) as raw:
    with ctx.wrap_socket(raw) as s:
        s.sendall(pkt)
        reply = b""
        while len(reply) < 4:
            chunk = s.recv(4 - len(reply))
            if not chunk:
                break
            reply += chunk
        s.sendall(b"\xe0\x00")  # DISCONNECT
        sys.stdout.write(reply.hex())
PY
}

# Ready: client port open, JetStream enabled, a JetStream meta leader known, and an MQTT
# CONNECT accepted. Not the full /healthz: on 2.9.10 a restarted node can stay "unavailable"
# for minutes with "JetStream consumer '$G > $MQTT_rmsgs > ...' is not current" although it
# serves clients (see README.md); `status` shows the full /healthz answer.
node_healthy() {
  ports_of "$1"
  port_open "$CLIENT_PORT" && port_open "$MQTT_PORT" || return 1
  http_get "http://$HOST:$HTTP_PORT/healthz?js-enabled-only=true" | grep -q '"status": *"ok"' || return 1
  [ -n "$(meta_leader "$1")" ] || return 1
  mqtt_probe "$1"
}

full_health() { # the full /healthz answer (also when it is 503), on one line
  local body
  ports_of "$1"
  if command -v curl >/dev/null 2>&1; then
    body=$(curl -sS --max-time 2 "http://$HOST:$HTTP_PORT/healthz" 2>/dev/null) || body=""
  else
    body=$(python3 -c 'import sys,urllib.request,urllib.error
try: r=urllib.request.urlopen(sys.argv[1],timeout=2)
except urllib.error.HTTPError as e: r=e
sys.stdout.write(r.read().decode())' "http://$HOST:$HTTP_PORT/healthz" 2>/dev/null) || body=""
  fi
  [ -n "$body" ] || body="(no answer)"
  printf '%s' "$body" | tr -d '\n' | sed 's/\\u003e/>/g'
}

launch() {
  local node=$1 pid
  pid=$(pid_of "$node")
  if [ -n "$pid" ]; then echo "$node already running (pid $pid)"; return; fi
  [ -f "$DIR/$node.conf" ] || write_config "$node"
  ports_of "$node"
  for p in $CLIENT_PORT $ROUTE_PORT $MQTT_PORT $HTTP_PORT; do
    if port_open "$p"; then
      die "$node: port $HOST:$p is already in use (another cluster? choose another BASE_PORT)"
    fi
  done
  # Early errors (bad config) go to stderr before log_file is opened: same log file.
  nohup "$NATS_SERVER" -c "$DIR/$node.conf" >>"$DIR/$node.log" 2>&1 </dev/null &
  echo $! >"$DIR/$node.pid"
  for _ in 1 2 3 4 5 6 7 8 9 10; do # until the fork has exec'd nats-server
    [ -n "$(pid_of "$node")" ] && break
    sleep 0.1
  done
  echo "$node started (pid $!, client $CLIENT_PORT, MQTT $MQTT_PORT, monitor $HTTP_PORT)"
}

wait_healthy() {
  local deadline=$((SECONDS + START_TIMEOUT)) node pending
  while :; do
    pending=()
    for node in "$@"; do
      if [ -z "$(pid_of "$node")" ]; then
        echo "nats-cluster: $node exited during start-up; see $DIR/$node.log:" >&2
        tail -n 15 "$DIR/$node.log" >&2 || true
        exit 1
      fi
      node_healthy "$node" || pending+=("$node")
    done
    [ ${#pending[@]} -eq 0 ] && break
    if [ $SECONDS -ge $deadline ]; then
      for node in "${pending[@]}"; do
        echo "nats-cluster: $node not ready after ${START_TIMEOUT}s (client port, JetStream meta leader, MQTT CONNECT); see $DIR/$node.log" >&2
      done
      exit 1
    fi
    sleep 0.5
  done
  echo "ready: $* (JetStream meta leader: $(meta_leader "$1"))"
}

signal_node() { # node signal wait_seconds
  local node=$1 sig=$2 wait=$3 pid i
  pid=$(pid_of "$node")
  if [ -z "$pid" ]; then rm -f "$DIR/$node.pid"; echo "$node not running"; return; fi
  kill "-$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < wait * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$node (pid $pid) still running after ${wait}s: SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  rm -f "$DIR/$node.pid"
  echo "$node stopped ($sig, pid $pid)"
}

status() {
  local node pid ok=0 health
  for node in "${NODES[@]}"; do
    ports_of "$node"
    pid=$(pid_of "$node")
    if [ -z "$pid" ]; then
      echo "$node stopped   client $CLIENT_PORT MQTT $MQTT_PORT monitor $HTTP_PORT"; ok=1; continue
    fi
    if node_healthy "$node"; then health=ready; else health=not-ready; ok=1; fi
    echo "$node $health pid $pid client $CLIENT_PORT MQTT $MQTT_PORT monitor $HTTP_PORT meta-leader=$(meta_leader "$node") healthz=$(full_health "$node")"
  done
  return $ok
}

[ $# -ge 2 ] || usage
cmd=$1
case "$cmd" in
  start) mkdir -p "$2" ;;
  *) [ -d "$2" ] || { [ "$cmd" = stop ] && { echo "$2 does not exist: nothing to stop"; exit 0; }; die "$2 does not exist"; } ;;
esac
DIR=$(cd "$2" && pwd)

case "$cmd" in
  start)
    if [ $# -ge 3 ]; then
      [[ "$3" =~ ^[0-9]+$ ]] && [ "$3" -gt 0 ] && [ "$3" -lt 65500 ] || die "BASE_PORT must be a port number"
      if [ -f "$DIR/base_port" ] && [ "$(cat "$DIR/base_port")" != "$3" ]; then
        [ -z "$(pid_of n1)$(pid_of n2)$(pid_of n3)" ] || die "$DIR is running on base port $(cat "$DIR/base_port"); stop it first"
        rm -f "$DIR"/n?.conf
      fi
      echo "$3" >"$DIR/base_port"
    fi
    load_base
    [ -f "$DIR/base_port" ] || echo "$BASE" >"$DIR/base_port"
    find_server
    for node in "${NODES[@]}"; do write_config "$node"; done
    for node in "${NODES[@]}"; do launch "$node"; done
    wait_healthy "${NODES[@]}"
    ;;
  start-node)
    [ $# -eq 3 ] || usage
    node_index "$3" >/dev/null
    load_base
    find_server
    launch "$3"
    wait_healthy "$3"
    ;;
  kill)
    [ $# -eq 3 ] || usage
    node_index "$3" >/dev/null
    signal_node "$3" KILL 5
    ;;
  stop-node)
    [ $# -eq 3 ] || usage
    node_index "$3" >/dev/null
    signal_node "$3" TERM 10
    ;;
  stop)
    for node in "${NODES[@]}"; do signal_node "$node" TERM 10; done
    ;;
  status)
    load_base
    status
    ;;
  *) usage ;;
esac
