#!/bin/sh
# End-to-end test of pfexpose on a real FreeBSD 14 or 15 host with pf, run as root:
#   sh test/e2e/freebsd.sh
# It loads a test /etc/pf.conf with the anchor hooks (the existing one is backed up and put back),
# makes a loopback alias 10.13.37.10 on lo1 as the "container", listens there with nc, applies
# examples/ and then a manifest publishing lo0 port 18080 -> 10.13.37.10:8080, checks the rdr in
# `pfctl -a pfexpose -sn`, connects through the published port with nc, lets `pfexpose watch`
# move the port, and cleans everything up on exit (also on failure or ^C).
# The test pf.conf blocks every connection to the container's port after the anchor: only the
# anchor's `pass ... tagged pfexpose` rule can let the redirected connection through, so the
# connections through the published port prove that `tag` and `tagged` work, and a direct
# connection to the container's address and port must fail.
# Needs node >= 20.19 and npm (pkg install -y node22 npm-node22), nc(1) and the repository.
set -eu

ANCHOR=pfexpose
CONTAINER_IP=10.13.37.10
CONTAINER_PORT=8080
PUBLISHED_PORT=18080
MOVED_PORT=18081
PAYLOAD="hello-from-the-container-$$"

say() { printf '==> %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

[ "$(uname -s)" = FreeBSD ] || fail "this test needs FreeBSD (uname says $(uname -s))"
[ "$(id -u)" -eq 0 ] || fail "run it as root: it loads pf rules and creates a loopback interface"
command -v node >/dev/null 2>&1 || fail "node is missing: pkg install -y node22 npm-node22"
command -v npm >/dev/null 2>&1 || fail "npm is missing: pkg install -y npm-node22"
command -v nc >/dev/null 2>&1 || fail "nc is missing"

REPO=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/pfexpose-e2e.XXXXXX)
PFCONF_BACKUP="$WORK/pf.conf.orig"
PF_WAS_ENABLED=no
CREATED_LO1=no
LISTENER_PID=
WATCH_PID=

cleanup() {
	status=$?
	set +e
	say "cleaning up"
	[ -n "$WATCH_PID" ] && kill "$WATCH_PID" 2>/dev/null && wait "$WATCH_PID" 2>/dev/null
	[ -n "$LISTENER_PID" ] && kill "$LISTENER_PID" 2>/dev/null
	pfctl -a "$ANCHOR" -F all >/dev/null 2>&1
	if [ -f "$PFCONF_BACKUP" ]; then
		cp -p "$PFCONF_BACKUP" /etc/pf.conf
	else
		rm -f /etc/pf.conf
	fi
	if [ "$PF_WAS_ENABLED" = yes ]; then
		pfctl -f /etc/pf.conf >/dev/null 2>&1 || printf 'warning: could not reload the original /etc/pf.conf\n' >&2
	else
		pfctl -F all >/dev/null 2>&1
		pfctl -d >/dev/null 2>&1
	fi
	ifconfig lo1 inet "$CONTAINER_IP" -alias >/dev/null 2>&1
	[ "$CREATED_LO1" = yes ] && ifconfig lo1 destroy >/dev/null 2>&1
	rm -rf "$WORK"
	if [ "$status" -eq 0 ]; then say "PASS"; else printf 'FAIL (exit %s)\n' "$status" >&2; fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "FreeBSD $(freebsd-version), node $(node --version)"

say "installing pfexpose (npm ci)"
cd "$REPO"
npm ci --no-audit --no-fund >"$WORK/npm.log" 2>&1 || { cat "$WORK/npm.log" >&2; fail "npm ci failed"; }
PFEXPOSE="node $REPO/bin/pfexpose.js"

say "loading pf with a test pf.conf carrying the anchor hooks"
kldload -n pf
if pfctl -s info 2>/dev/null | grep -q 'Status: Enabled'; then PF_WAS_ENABLED=yes; fi
[ -f /etc/pf.conf ] && cp -p /etc/pf.conf "$PFCONF_BACKUP"
# lo0 is not skipped: the test connects to 127.0.0.1 and the rdr happens as the packet comes in
# on lo0. After the anchor, connections to the container's port are refused on every interface
# (it is reached over lo0 when redirected, over the loopback interfaces when asked directly): a
# redirected one is let through only by the anchor's `pass in quick ... tagged pfexpose` rule,
# which ends the evaluation before the block. `return` answers with a reset, so a refused
# connection fails at once. Everything else passes, so the test cannot cut the VM off.
cat >/etc/pf.conf <<EOF
# pfexpose end-to-end test ruleset (the original is restored when the test ends)
rdr-anchor "$ANCHOR"
anchor "$ANCHOR"
block return in quick proto tcp from any to $CONTAINER_IP port $CONTAINER_PORT
pass all
EOF
pfctl -f /etc/pf.conf
pfctl -e >/dev/null 2>&1 || true
pfctl -s info | grep -q 'Status: Enabled' || fail "pf did not enable"

say "making the container address $CONTAINER_IP on lo1"
if ! ifconfig lo1 >/dev/null 2>&1; then
	ifconfig lo1 create
	CREATED_LO1=yes
fi
ifconfig lo1 inet "$CONTAINER_IP/32" alias
ifconfig lo1 up

start_listener() {
	# -N: close the connection once the payload is sent, so the client sees the end.
	printf '%s\n' "$PAYLOAD" | nc -N -l "$CONTAINER_IP" "$CONTAINER_PORT" &
	LISTENER_PID=$!
	sleep 1
}

connect() {
	timeout 15 nc -w 5 "${2:-127.0.0.1}" "$1" </dev/null || true
}

# Only pfexpose's tagged pass rule admits traffic to the container: asked directly, with the
# listener up (the connection through the published port that follows proves it is), it must fail.
connect_direct_fails() {
	got=$(connect "$CONTAINER_PORT" "$CONTAINER_IP")
	[ -z "$got" ] || fail "a direct connection to $CONTAINER_IP:$CONTAINER_PORT got \"$got\": the test pf.conf must block it"
}

say "applying examples/ (they must load into a real pf)"
mkdir -p "$WORK/examples"
cp "$REPO"/examples/*.yaml "$WORK/examples/"
$PFEXPOSE apply "$WORK/examples" --state-dir "$WORK/state"
pfctl -a "$ANCHOR" -sn | grep -q '^rdr ' || fail "examples/: no rdr rule in anchor $ANCHOR"
pfctl -a "$ANCHOR" -sn

say "applying a manifest that publishes lo0 port $PUBLISHED_PORT -> $CONTAINER_IP:$CONTAINER_PORT"
mkdir -p "$WORK/manifests"
write_manifest() {
	cat >"$WORK/manifests/web.yaml.tmp" <<EOF
version: 1
containers:
  web:
    ip: $CONTAINER_IP
    ports:
      - "lo0:$1:$CONTAINER_PORT"
EOF
	mv "$WORK/manifests/web.yaml.tmp" "$WORK/manifests/web.yaml"
}
write_manifest "$PUBLISHED_PORT"
$PFEXPOSE apply "$WORK/manifests" --state-dir "$WORK/state"
rules=$(pfctl -a "$ANCHOR" -sn)
printf '%s\n' "$rules"
printf '%s\n' "$rules" | grep "rdr" | grep "$CONTAINER_IP" | grep -q "$PUBLISHED_PORT" ||
	fail "pfctl -a $ANCHOR -sn shows no rdr of port $PUBLISHED_PORT to $CONTAINER_IP"

say "connecting to $CONTAINER_IP:$CONTAINER_PORT directly (must fail), then through 127.0.0.1:$PUBLISHED_PORT"
start_listener
connect_direct_fails
got=$(connect "$PUBLISHED_PORT")
[ "$got" = "$PAYLOAD" ] || fail "expected \"$PAYLOAD\" through port $PUBLISHED_PORT, got \"$got\""
wait "$LISTENER_PID" 2>/dev/null || true
LISTENER_PID=

say "running pfexpose watch and moving the port to $MOVED_PORT"
$PFEXPOSE watch "$WORK/manifests" --state-dir "$WORK/state" --debounce 200ms --interval 2s >"$WORK/watch.log" 2>&1 &
WATCH_PID=$!
sleep 3
write_manifest "$MOVED_PORT"
i=0
until pfctl -a "$ANCHOR" -sn 2>/dev/null | grep -q "$MOVED_PORT"; do
	i=$((i + 1))
	[ "$i" -le 60 ] || { cat "$WORK/watch.log" >&2; fail "the agent did not apply port $MOVED_PORT within 30 s"; }
	sleep 0.5
done
start_listener
connect_direct_fails
got=$(connect "$MOVED_PORT")
[ "$got" = "$PAYLOAD" ] || fail "expected \"$PAYLOAD\" through port $MOVED_PORT, got \"$got\""
wait "$LISTENER_PID" 2>/dev/null || true
LISTENER_PID=

say "flushing the anchor behind the agent's back: it must repair it"
pfctl -a "$ANCHOR" -F all >/dev/null 2>&1
i=0
until pfctl -a "$ANCHOR" -sn 2>/dev/null | grep -q "$MOVED_PORT"; do
	i=$((i + 1))
	[ "$i" -le 60 ] || { cat "$WORK/watch.log" >&2; fail "the agent did not repair the flushed anchor within 30 s"; }
	sleep 0.5
done

say "stopping the agent with SIGTERM (exit status must be 0)"
kill -TERM "$WATCH_PID"
watch_status=0
wait "$WATCH_PID" || watch_status=$?
WATCH_PID=
[ "$watch_status" -eq 0 ] || { cat "$WORK/watch.log" >&2; fail "pfexpose watch exited $watch_status after SIGTERM"; }
cat "$WORK/watch.log"
