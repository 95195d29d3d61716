#!/usr/bin/env bash
# Side-by-side TLS scan benchmark: secaudit against sslyze, testssl.sh and nmap's
# ssl-enum-ciphers, each scanning the same real nginx servers (the e2e `legacy` and
# `intermediate` sites) in a private network namespace.
#
#   sudo bash bench/compare.sh            # RUNS=5 runs per tool (testssl.sh: TESTSSL_RUNS=3)
#
# For every server and tool it prints: median wall time, peak RSS (GNU time's maximum resident
# set size: of the process, or of its largest child for testssl.sh, which runs openssl), TCP
# connections opened (the namespace's /proc/net/snmp ActiveOpens before and after: nothing else
# runs there), and whether the tool found the same accepted versions and suites as secaudit
# (bench/suites.py reads each tool's output). The floor is one ClientHello per accepted suite plus
# one refusal per version probed (six: SSLv2 to TLS 1.3).
#
# Needs root (network namespace, apt-get). Installs what is missing: testssl.sh and nmap from
# Debian, sslyze from the Python package index into a venv ($BENCH_VENV). Nothing leaves the
# namespace: the servers and every tool run inside it, and it has only a loopback interface.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
RUNS=${RUNS:-5}
TESTSSL_RUNS=${TESTSSL_RUNS:-3}
BENCH_VENV=${BENCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/secaudit-bench/sslyze}

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: bench/compare.sh needs root (a network namespace and apt-get)"
  exit 0
fi

# shellcheck source=scripts/e2e/lib.sh
source scripts/e2e/lib.sh

echo "== tools" >&2
e2e_require_tools
missing=()
command -v testssl >/dev/null 2>&1 || missing+=(testssl.sh)
command -v nmap >/dev/null 2>&1 || missing+=(nmap)
[ -x /usr/bin/time ] || missing+=(time)
/usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ! -x "$BENCH_VENV/bin/sslyze" ]; then
  /usr/bin/python3 -m venv "$BENCH_VENV"
  "$BENCH_VENV/bin/pip" install -q sslyze
fi
cargo build --release --locked >&2
bin="${CARGO_TARGET_DIR:-$root/target}/release/secaudit"

ns="secaudit-bench-$$"
work=$(mktemp -d)
cleanup() {
  e2e_stop "$work" || true
  ip netns delete "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
export E2E_EXEC="ip netns exec $ns"
e2e_make_pki "$work"
e2e_start_nginx "$work" legacy intermediate

in_ns() { ip netns exec "$ns" "$@"; }
# shellcheck disable=SC2016 # awk's own $6
active_opens() { in_ns awk '/^Tcp:/ { n++; if (n == 2) print $6 }' /proc/net/snmp; }

# measure LABEL SITE OUTPUT CMD...: one timed run inside the namespace; appends
# "LABEL SITE WALL RSS_KB CONNECTIONS" to the results and keeps the tool's output file.
measure() {
  local label=$1 site=$2 output=$3 before after wall rss
  shift 3
  before=$(active_opens)
  /usr/bin/time -f '%e %M' -o "$work/time" ip netns exec "$ns" "$@" >"$work/stdout" 2>"$work/stderr" || true
  after=$(active_opens)
  # GNU time writes "Command exited with non-zero status N" first when the tool fails.
  read -r wall rss < <(tail -n 1 "$work/time")
  echo "$label $site $wall $rss $((after - before))" >>"$work/results"
  [ -s "$output" ] && cp "$output" "$work/$label.$site.out"
  return 0
}

for site in legacy intermediate; do
  host=$(e2e_host "$site")
  addr=$(e2e_addr "$site")
  port=$E2E_HTTPS_PORT
  echo "== $site ($host at $addr:$port)" >&2
  connect=(--no-dns --connect "$host:443=$addr:$port" --ca-file "$work/pki/ca.pem")
  for _ in $(seq "$RUNS"); do
    out="$work/secaudit.json"
    rm -f "$out"
    measure secaudit-tls "$site" "$out" "$bin" audit "$host" "${connect[@]}" --only tls \
      --format "json=$out"
    out="$work/secaudit-vulns.json"
    rm -f "$out"
    measure secaudit-tls+vulns "$site" "$out" "$bin" audit "$host" "${connect[@]}" \
      --only tls,vulns --format "json=$out"
    out="$work/sslyze.json"
    rm -f "$out"
    measure sslyze-same-scope "$site" "$out" "$BENCH_VENV/bin/sslyze" --quiet --json_out="$out" \
      --certinfo --sslv2 --sslv3 --tlsv1 --tlsv1_1 --tlsv1_2 --tlsv1_3 --elliptic_curves \
      "$host:$port{$addr}"
    out="$work/sslyze-all.json"
    rm -f "$out"
    measure sslyze-default "$site" "$out" "$BENCH_VENV/bin/sslyze" --quiet --json_out="$out" \
      "$host:$port{$addr}"
    out="$work/nmap.xml"
    rm -f "$out"
    measure nmap-ssl-enum-ciphers "$site" "$out" nmap -Pn -n -sT -p "$port" \
      --script ssl-enum-ciphers --script-args "tls.servername=$host" -oX "$out" "$addr"
  done
  for _ in $(seq "$TESTSSL_RUNS"); do
    out="$work/testssl.json"
    rm -f "$out"
    # Protocols, ciphers per protocol, server defaults (certificate), forward secrecy (groups).
    measure testssl.sh "$site" "$out" testssl --quiet --color 0 --warnings off \
      --ip "$addr" -p -E -S -f --jsonfile "$out" "https://$host:$port"
  done
done

echo "== results" >&2
date_line="$(date -u +%Y-%m-%d), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME")"
versions="secaudit $("$bin" --version | awk '{print $2}') · sslyze $("$BENCH_VENV/bin/pip" show sslyze 2>/dev/null | awk '/^Version/ {print $2}') · testssl.sh $(testssl --version 2>/dev/null | awk '/testssl.sh/ && /[0-9]/ {for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\./) {print $i; exit}}') · $(nmap --version | head -1) · $(nginx -v 2>&1 | sed 's/.*: //') · $(openssl version | awk '{print $1, $2}')"
echo "Measured $date_line; $versions; $RUNS runs per tool ($TESTSSL_RUNS for testssl.sh), loopback in a private network namespace."
echo
for site in legacy intermediate; do
  floor=$(python3 bench/suites.py secaudit "$work/secaudit-tls.$site.out" | wc -l)
  floor=$((floor + 6))
  echo "### $site ($(e2e_host "$site")) — enumeration floor: $floor connections"
  echo
  echo "| tool | median wall (s) | peak RSS (MB) | TCP connections | × floor | same versions and suites as secaudit |"
  echo "|---|---|---|---|---|---|"
  for label in secaudit-tls secaudit-tls+vulns sslyze-same-scope sslyze-default nmap-ssl-enum-ciphers testssl.sh; do
    awk -v l="$label" -v s="$site" '$1 == l && $2 == s' "$work/results" >"$work/rows"
    [ -s "$work/rows" ] || continue
    wall=$(sort -n -k3 "$work/rows" | awk '{ w[NR] = $3 } END { print (NR % 2) ? w[(NR + 1) / 2] : (w[NR / 2] + w[NR / 2 + 1]) / 2 }')
    rss=$(awk '{ if ($4 > m) m = $4 } END { printf "%.1f", m / 1024 }' "$work/rows")
    conns=$(sort -n -k5 "$work/rows" | awk '{ c[NR] = $5 } END { print c[int((NR + 1) / 2)] }')
    ratio=$(awk -v c="$conns" -v f="$floor" 'BEGIN { printf "%.2f", c / f }')
    tool=${label%%-*}
    [ "$label" = testssl.sh ] && tool=testssl
    [ "$label" = nmap-ssl-enum-ciphers ] && tool=nmap
    same="—"
    if [ -f "$work/$label.$site.out" ] && [ "$tool" != secaudit ]; then
      python3 bench/suites.py secaudit "$work/secaudit-tls.$site.out" >"$work/a"
      python3 bench/suites.py "$tool" "$work/$label.$site.out" >"$work/b" 2>/dev/null || true
      if [ ! -s "$work/b" ]; then
        same="no suite list in its output"
      elif cmp -s "$work/a" "$work/b"; then
        same="yes ($(wc -l <"$work/a") suites)"
      else
        only_ours=$(comm -23 "$work/a" "$work/b" | tr '\n' ',' | sed 's/,$//; s/,/, /g')
        only_theirs=$(comm -13 "$work/a" "$work/b" | tr '\n' ',' | sed 's/,$//; s/,/, /g')
        same="no: only secaudit: ${only_ours:-none}; only $tool: ${only_theirs:-none}"
      fi
    elif [ "$tool" = secaudit ]; then
      same="(reference: $(python3 bench/suites.py secaudit "$work/$label.$site.out" | wc -l) suites)"
    fi
    echo "| $label | $wall | $rss | $conns | $ratio | $same |"
  done
  echo
done
