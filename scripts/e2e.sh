#!/usr/bin/env bash
# End-to-end tests against real servers: nginx (OpenSSL) sites and an authoritative knotd on
# loopback, audited by name with the secaudit binary, the facts compared with
# scripts/e2e/expected.tsv. Run by .ci/run after `cargo test --locked`.
#
#   bash scripts/e2e.sh
#
# Environment:
#   E2E_PROFILE=release  audit with a release build (default: the debug build `cargo test` makes)
#   SECAUDIT_BIN=PATH    audit with this binary instead of building one
#   E2E_KEEP=1           keep the work directory (reports, evidence, server logs) for a look
#   plus the address and port variables of scripts/e2e/lib.sh (E2E_NET, E2E_HTTPS_PORT, ...).
#
# Exit status: 0 when every expectation holds (or the servers cannot be installed: SKIP), 1
# otherwise. Wall times are printed, never judged.
#
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/e2e/lib.sh
. scripts/e2e/lib.sh

expected_file=scripts/e2e/expected.tsv

if ! e2e_require_tools; then
  echo "SKIP: end-to-end tests need nginx, knot, knot-dnsutils, openssl and jq (install them, or run as root)"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/secaudit-e2e.XXXXXX")
cleanup() {
  e2e_stop "$work"
  if [ -n "${E2E_KEEP:-}" ]; then
    echo "kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
chmod 755 "$work"

echo "== build"
if [ -n "${SECAUDIT_BIN:-}" ]; then
  bin=$SECAUDIT_BIN
elif [ "${E2E_PROFILE:-debug}" = release ]; then
  cargo build --release --locked --quiet
  bin="${CARGO_TARGET_DIR:-target}/release/secaudit"
else
  cargo build --locked --quiet
  bin="${CARGO_TARGET_DIR:-target}/debug/secaudit"
fi
"$bin" --version

echo "== servers ($work)"
e2e_make_pki "$work"
e2e_start_dns "$work"
e2e_start_nginx "$work"
printf '%-13s %-24s %s\n' site host address
for site in "${E2E_SITES[@]}"; do
  printf '%-13s %-24s %s:%s (http :%s)\n' "$site" "$(e2e_host "$site")" "$(e2e_addr "$site")" \
    "$E2E_HTTPS_PORT" "$E2E_HTTP_PORT"
done
printf '%-13s %-24s %s:%s\n' dns "$(e2e_host dns)" "$(e2e_addr dns)" "$E2E_DNS_PORT"

# Extra arguments of each audit: the mail domains are judged alongside two of the sites.
audit_args() {
  case "$1" in
    modern) echo "--mail-domain good.$E2E_ZONE --dkim-selector e2e" ;;
    badheaders) echo "--mail-domain bad.$E2E_ZONE --dkim-selector e2e" ;;
  esac
}

echo "== audits"
mkdir -p "$work/out"
mapfile -t connect < <(e2e_connect_args "${E2E_SITES[@]}")
declare -A wall
audit_failed=0
for site in "${E2E_SITES[@]}"; do
  host=$(e2e_host "$site")
  # shellcheck disable=SC2207 # the extra arguments have no spaces
  extra=($(audit_args "$site"))
  start=$(date +%s%N)
  rc=0
  "$bin" audit "$host" \
    --resolver "$(e2e_addr dns):$E2E_DNS_PORT" \
    --trust-anchor "$work/trust-anchor.txt" \
    --ca-file "$work/pki/ca.pem" \
    "${connect[@]}" "${extra[@]}" \
    --format "json=$work/out/$site.json" \
    --save-evidence "$work/out/$site.evidence.json" \
    >"$work/out/$site.stdout" 2>"$work/out/$site.stderr" || rc=$?
  end=$(date +%s%N)
  wall[$site]=$(awk -v ns=$((end - start)) 'BEGIN { printf "%.2f", ns / 1e9 }')
  printf 'audit %-13s %-24s exit %s  %6s s\n' "$site" "$host" "$rc" "${wall[$site]}"
  # 0 and 1 (a gate) mean the audit ran; anything else is a failure of the run itself.
  if [ "$rc" -gt 1 ] || [ ! -s "$work/out/$site.json" ]; then
    echo "FAIL audit $site: exit $rc" >&2
    sed 's/^/    /' "$work/out/$site.stderr" >&2
    audit_failed=$((audit_failed + 1))
  fi
done

# The jq program for a path: facts by default (`tls.protocols.tls1_3`, with `[]` to collect
# over a list), or `rule:ID` for the rule's outcomes over every pack that has it.
jq_program() {
  case "$1" in
    rule:*) printf '[.packs[].findings[]? | select(.rule_id == "%s") | .outcome] | unique' "${1#rule:}" ;;
    *\[\]*) printf '[.facts.%s]' "${1//\[\]/[]?}" ;;
    *) printf '.facts.%s' "$1" ;;
  esac
}

echo "== expectations ($expected_file)"
pass=0
fail=0
line_no=0
while IFS=$'\t' read -r site path expected || [ -n "$site" ]; do
  line_no=$((line_no + 1))
  case "$site" in '' | '#'*) continue ;; esac
  report="$work/out/$site.json"
  if [ ! -s "$report" ]; then
    echo "FAIL $site $path: no report"
    fail=$((fail + 1))
    continue
  fi
  if ! actual=$(jq -c "$(jq_program "$path")" "$report" 2>&1); then
    echo "FAIL $site $path: $expected_file:$line_no: bad path ($actual)"
    fail=$((fail + 1))
    continue
  fi
  # `has V`: the list contains V; `lacks V`: it does not; otherwise the JSON value itself.
  case "$expected" in
    has\ *) ok=$(jq -n --argjson a "$actual" --argjson v "${expected#has }" '$a | index([$v]) != null') ;;
    lacks\ *) ok=$(jq -n --argjson a "$actual" --argjson v "${expected#lacks }" '$a | index([$v]) == null') ;;
    *) ok=$(jq -n --argjson a "$actual" --argjson v "$expected" '$a == $v') ;;
  esac
  if [ "$ok" = true ]; then
    echo "PASS $site $path = $expected"
    pass=$((pass + 1))
  else
    echo "FAIL $site $path: expected $expected, observed $actual"
    fail=$((fail + 1))
  fi
done <"$expected_file"

echo "== wall time per audit ($(basename "$(dirname "$bin")") build; measured, not judged)"
for site in "${E2E_SITES[@]}"; do
  printf '  %-13s %6s s\n' "$site" "${wall[$site]}"
done
total=$((pass + fail))
echo "== summary: $pass of $total expectations passed, $fail failed; $audit_failed audits failed to run"
[ "$fail" -eq 0 ] && [ "$audit_failed" -eq 0 ]
