# shellcheck shell=bash
# Real servers for end-to-end tests and benchmarks: a throwaway CA, nginx and an authoritative
# knotd, all on loopback, all state in one directory. Sourced by scripts/e2e.sh and
# bench/compare.sh; it defines functions and variables only, and starts nothing by itself.
#
#   e2e_require_tools        install missing Debian packages (root) or explain and return 1
#   e2e_make_pki DIR         lab CA and the leaves of every site (DIR/pki)
#   e2e_start_nginx DIR [SITE...]
#                            one nginx master serving the named sites (default: all)
#   e2e_start_dns DIR        knotd serving the signed lab zone e2e.test (DIR/trust-anchor.txt)
#   e2e_stop DIR             stop exactly the processes started above, by their recorded PIDs
#   e2e_connect_args SITE... `--connect` arguments a non-standard port layout needs
#   e2e_host SITE, e2e_addr SITE
#
# Every server listens on 127.0.0.0/8 only; the zone and every name in it are under the
# reserved `.test` TLD, so no query or connection can leave the machine.
#
# Sites (address = ${E2E_NET}.N; HTTPS on $E2E_HTTPS_PORT, HTTP on $E2E_HTTP_PORT):
#
#   site          host name                         N   what it serves
#   modern        modern.e2e.test                   10  TLS 1.3 only, ECDSA; 80→443, HSTS, good headers
#   intermediate  intermediate.e2e.test             11  TLS 1.2+1.3, Mozilla intermediate suites, ECDSA+RSA; 80→443, HSTS
#   legacy        legacy.e2e.test                   12  TLS 1.0–1.3, ALL:@SECLEVEL=0, RSA key, 1024-bit DHE; 80→443
#   expired       expired.e2e.test                  13  expired leaf (otherwise good)
#   wronghost     wronghost.e2e.test                14  leaf for other.e2e.test (otherwise good)
#   badheaders    badheaders.e2e.test               15  no HSTS, weak CSP, bad X-Frame-Options, version in Server
#   cookies       cookies.e2e.test                  16  Set-Cookie without Secure/HttpOnly/SameSite (and one good cookie)
#   noredirect    noredirect.e2e.test               17  port 80 serves the page (no redirect), HTTPS has HSTS
#   mtasts        mta-sts.good.e2e.test             18  MTA-STS policy of good.e2e.test; 404 for
#                 mta-sts.bad.e2e.test                  bad.e2e.test's policy
#   (dns)         ns.e2e.test                       2   knotd on $E2E_DNS_PORT (UDP and TCP)
#   (mx)          mx.good.e2e.test, mx.bad.e2e.test 25  A records only: nothing listens there
#
# Mail domains in the zone: good.e2e.test (SPF -all, DMARC p=reject with rua, DKIM key at
# selector `e2e`, MTA-STS enforce with its policy, TLS-RPT, MX) and bad.e2e.test (SPF +all,
# DMARC p=none, DKIM record with a broken key, MTA-STS record whose policy is 404, no TLS-RPT).
#
# Environment (all optional):
#   E2E_NET         first three octets of the loopback addresses (default 127.77.0)
#   E2E_HTTPS_PORT  default 443 as root, else 8443
#   E2E_HTTP_PORT   default 80 as root, else 8080
#   E2E_DNS_PORT    default 5300
#   E2E_EXEC        command prefix for the servers, e.g. `ip netns exec NS` (word-split)

E2E_NET=${E2E_NET:-127.77.0}
if [ "$(id -u)" = 0 ]; then
  E2E_HTTPS_PORT=${E2E_HTTPS_PORT:-443}
  E2E_HTTP_PORT=${E2E_HTTP_PORT:-80}
else
  E2E_HTTPS_PORT=${E2E_HTTPS_PORT:-8443}
  E2E_HTTP_PORT=${E2E_HTTP_PORT:-8080}
fi
E2E_DNS_PORT=${E2E_DNS_PORT:-5300}
E2E_ZONE=e2e.test
E2E_SITES=(modern intermediate legacy expired wronghost badheaders cookies noredirect mtasts)

# Debian packages the servers (and e2e.sh's checks) need: command → package.
E2E_PACKAGES=(openssl:openssl nginx:nginx-light knotd:knot kdig:knot-dnsutils jq:jq)

e2e_log() { printf 'e2e: %s\n' "$*" >&2; }

# The host octet of a site's address.
e2e_octet() {
  case "$1" in
    dns) echo 2 ;;
    modern) echo 10 ;;
    intermediate) echo 11 ;;
    legacy) echo 12 ;;
    expired) echo 13 ;;
    wronghost) echo 14 ;;
    badheaders) echo 15 ;;
    cookies) echo 16 ;;
    noredirect) echo 17 ;;
    mtasts) echo 18 ;;
    mx) echo 25 ;;
    *)
      e2e_log "unknown site: $1"
      return 1
      ;;
  esac
}

# The IPv4 address of a site.
e2e_addr() {
  local octet
  octet=$(e2e_octet "$1") || return 1
  echo "${E2E_NET}.${octet}"
}

# The host name audited for a site (mtasts: the good domain's policy host).
e2e_host() {
  case "$1" in
    mtasts) echo "mta-sts.good.${E2E_ZONE}" ;;
    dns) echo "ns.${E2E_ZONE}" ;;
    *) echo "$1.${E2E_ZONE}" ;;
  esac
}

# Every host name a site answers for.
e2e_site_names() {
  case "$1" in
    mtasts) echo "mta-sts.good.${E2E_ZONE} mta-sts.bad.${E2E_ZONE}" ;;
    *) e2e_host "$1" ;;
  esac
}

# `--connect HOST:PORT=IP:PORT` for every name of the sites, when the ports are not 443/80
# (with the standard ports the names resolve through the lab DNS server alone).
e2e_connect_args() {
  local site name addr
  [ "$E2E_HTTPS_PORT" = 443 ] && [ "$E2E_HTTP_PORT" = 80 ] && return 0
  for site in "$@"; do
    addr=$(e2e_addr "$site") || return 1
    for name in $(e2e_site_names "$site"); do
      printf -- '--connect\n%s:443=%s:%s\n' "$name" "$addr" "$E2E_HTTPS_PORT"
      printf -- '--connect\n%s:80=%s:%s\n' "$name" "$addr" "$E2E_HTTP_PORT"
    done
  done
}

# The E2E_EXEC prefix as an array, in the named array variable.
e2e_exec_prefix() {
  local -n _prefix=$1
  # shellcheck disable=SC2206 # word splitting of the prefix is intended
  _prefix=(${E2E_EXEC:-})
}

# Installs missing packages with apt-get as root; otherwise names them and returns 1.
e2e_require_tools() {
  local entry missing=()
  for entry in "${E2E_PACKAGES[@]}"; do
    command -v "${entry%%:*}" >/dev/null 2>&1 || missing+=("${entry#*:}")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  # shellcheck disable=SC2207 # package names have no spaces
  missing=($(printf '%s\n' "${missing[@]}" | sort -u))
  if [ "$(id -u)" != 0 ]; then
    e2e_log "missing packages ${missing[*]} and not root"
    return 1
  fi
  e2e_log "installing ${missing[*]}"
  apt-get update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null || return 1
  # Debian's package starts its own nginx (and knot) on install: ours must not meet them.
  # Stop only the system services, through their service manager, never by process name.
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl stop nginx.service knot.service >/dev/null 2>&1 || true
  elif command -v service >/dev/null 2>&1; then
    service nginx stop >/dev/null 2>&1 || true
  fi
}

# A date `openssl ca` accepts, relative to now (GNU date syntax: "-400 days").
e2e_date() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

# Signs DIR/pki/NAME.csr with the lab CA for the DNS names given.
_e2e_sign() {
  local dir=$1 name=$2 start=$3 end=$4
  shift 4
  local san="" host
  for host in "$@"; do san="${san:+$san,}DNS:$host"; done
  cat >"$dir/pki/$name.ext" <<EOF
[ leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $san
EOF
  openssl ca -batch -notext -config "$dir/pki/ca.cnf" -extfile "$dir/pki/$name.ext" \
    -extensions leaf -startdate "$start" -enddate "$end" \
    -in "$dir/pki/$name.csr" -out "$dir/pki/$name.crt" 2>"$dir/pki/$name.log" || {
    cat "$dir/pki/$name.log" >&2
    return 1
  }
  # nginx serves the leaf followed by the CA's intermediates: here the leaf alone.
}

# A key (ec or rsa) and a CSR for NAME.
_e2e_key() {
  local dir=$1 name=$2 type=$3 cn=$4
  case "$type" in
    ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/pki/$name.key" 2>/dev/null ;;
    rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/pki/$name.key" 2>/dev/null ;;
  esac || return 1
  openssl req -new -key "$dir/pki/$name.key" -subj "/CN=$cn" -out "$dir/pki/$name.csr" || return 1
}

# e2e_make_pki DIR: DIR/pki/ca.pem (the lab CA, for --ca-file) and, per site, SITE.crt/.key
# (ECDSA P-256), plus RSA leaves for the sites that need RSA key exchange
# (intermediate-rsa, legacy), the expired leaf, the wrong-host leaf and a 1024-bit DH group.
e2e_make_pki() {
  local dir=$1 site now later
  mkdir -p "$dir/pki/new" || return 1
  : >"$dir/pki/index.txt"
  echo 1000 >"$dir/pki/serial"
  cat >"$dir/pki/ca.cnf" <<EOF
[ ca ]
default_ca = lab
[ lab ]
database = $dir/pki/index.txt
new_certs_dir = $dir/pki/new
serial = $dir/pki/serial
certificate = $dir/pki/ca.pem
private_key = $dir/pki/ca.key
default_md = sha256
policy = anything
unique_subject = no
email_in_dn = no
[ anything ]
commonName = supplied
[ req ]
distinguished_name = dn
[ dn ]
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/pki/ca.key" 2>/dev/null &&
    openssl req -x509 -new -key "$dir/pki/ca.key" -config "$dir/pki/ca.cnf" -extensions ca_ext \
      -subj "/CN=secaudit e2e lab CA" -days 30 -out "$dir/pki/ca.pem" || return 1

  now=$(e2e_date "-1 day")
  later=$(e2e_date "+90 days")
  local names
  for site in modern intermediate badheaders cookies noredirect mtasts; do
    read -ra names <<<"$(e2e_site_names "$site")"
    _e2e_key "$dir" "$site" ec "$(e2e_host "$site")" &&
      _e2e_sign "$dir" "$site" "$now" "$later" "${names[@]}" || return 1
  done
  _e2e_key "$dir" intermediate-rsa rsa "$(e2e_host intermediate)" &&
    _e2e_sign "$dir" intermediate-rsa "$now" "$later" "$(e2e_host intermediate)" || return 1
  _e2e_key "$dir" legacy rsa "$(e2e_host legacy)" &&
    _e2e_sign "$dir" legacy "$now" "$later" "$(e2e_host legacy)" || return 1
  _e2e_key "$dir" expired ec "$(e2e_host expired)" &&
    _e2e_sign "$dir" expired "$(e2e_date "-400 days")" "$(e2e_date "-35 days")" \
      "$(e2e_host expired)" || return 1
  _e2e_key "$dir" wronghost ec "other.$E2E_ZONE" &&
    _e2e_sign "$dir" wronghost "$now" "$later" "other.$E2E_ZONE" || return 1
  # A 1024-bit group for the legacy site's DHE suites (Logjam-weak on purpose).
  openssl dhparam -out "$dir/pki/dh1024.pem" 1024 2>/dev/null || return 1
  # DKIM keys: a good one, published at e2e._domainkey.good.e2e.test.
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/pki/dkim.key" 2>/dev/null &&
    openssl pkey -in "$dir/pki/dkim.key" -pubout -outform DER 2>/dev/null |
    base64 -w0 >"$dir/pki/dkim.pub.b64" || return 1
}

# Security headers of the good sites.
_e2e_good_headers() {
  cat <<'EOF'
        add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;
        add_header Content-Security-Policy "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'" always;
        add_header X-Content-Type-Options "nosniff" always;
        add_header X-Frame-Options "DENY" always;
        add_header Referrer-Policy "no-referrer" always;
        add_header Permissions-Policy "camera=(), microphone=(), geolocation=()" always;
        add_header Cross-Origin-Opener-Policy "same-origin" always;
EOF
}

# The nginx server blocks of one site.
_e2e_site_conf() {
  local dir=$1 site=$2 addr names tls headers body redirect=yes tokens=off
  addr=$(e2e_addr "$site") || return 1
  names=$(e2e_site_names "$site")
  headers=$(_e2e_good_headers)
  body="<!doctype html><html lang=en><head><meta charset=utf-8><title>$site</title></head><body><p>secaudit e2e: $site</p></body></html>"
  # Per-site TLS: protocols, suites, certificates.
  case "$site" in
    modern)
      tls="ssl_protocols TLSv1.3;
        ssl_certificate $dir/pki/modern.crt;
        ssl_certificate_key $dir/pki/modern.key;"
      ;;
    intermediate)
      # Mozilla server-side TLS, intermediate profile (version 5.7).
      tls="ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305;
        ssl_prefer_server_ciphers off;
        ssl_certificate $dir/pki/intermediate.crt;
        ssl_certificate_key $dir/pki/intermediate.key;
        ssl_certificate $dir/pki/intermediate-rsa.crt;
        ssl_certificate_key $dir/pki/intermediate-rsa.key;"
      ;;
    legacy)
      # OpenSSL 3 refuses TLS 1.0/1.1 below security level 0; MinProtocol undoes any
      # system-wide floor from openssl.cnf.
      tls="ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
        ssl_ciphers ALL:@SECLEVEL=0;
        ssl_conf_command MinProtocol TLSv1;
        ssl_prefer_server_ciphers on;
        ssl_dhparam $dir/pki/dh1024.pem;
        ssl_certificate $dir/pki/legacy.crt;
        ssl_certificate_key $dir/pki/legacy.key;"
      headers="        add_header Strict-Transport-Security \"max-age=31536000\" always;"
      ;;
    *)
      tls="ssl_protocols TLSv1.2 TLSv1.3;
        ssl_certificate $dir/pki/$site.crt;
        ssl_certificate_key $dir/pki/$site.key;"
      ;;
  esac
  case "$site" in
    badheaders)
      headers="        add_header Content-Security-Policy \"default-src * 'unsafe-inline' 'unsafe-eval'\" always;
        add_header X-Frame-Options \"ALLOWALL\" always;
        add_header Referrer-Policy \"unsafe-url\" always;
        add_header Server-Timing \"e2e\" always;"
      tokens=on
      ;;
    cookies)
      headers="$headers
        add_header Set-Cookie \"sessionid=e2e-insecure; Path=/\" always;
        add_header Set-Cookie \"__Host-good=1; Path=/; Secure; HttpOnly; SameSite=Strict\" always;"
      ;;
    noredirect) redirect=no ;;
  esac
  cat <<EOF
    server {
        listen $addr:$E2E_HTTP_PORT;
        server_name $names;
        server_tokens $tokens;
EOF
  if [ "$redirect" = yes ]; then
    # shellcheck disable=SC2016 # nginx variables
    echo '        return 301 https://$host$request_uri;'
  else
    echo "        location = / { default_type text/html; return 200 '$body'; }"
    echo '        location / { return 404; }'
  fi
  cat <<EOF
    }
    server {
        listen $addr:$E2E_HTTPS_PORT ssl http2;
        server_name $names;
        server_tokens $tokens;
        $tls
$headers
EOF
  if [ "$site" = mtasts ]; then
    cat <<EOF
        location = /.well-known/mta-sts.txt {
            default_type text/plain;
            if (\$host != "mta-sts.good.$E2E_ZONE") { return 404; }
            return 200 "version: STSv1\\nmode: enforce\\nmx: mx.good.$E2E_ZONE\\nmax_age: 604800\\n";
        }
EOF
  fi
  cat <<EOF
        location = / { default_type text/html; return 200 '$body'; }
        location / { return 404; }
    }
EOF
}

# e2e_start_nginx DIR [SITE...]: writes DIR/nginx/nginx.conf for the sites (default: all) and
# starts one nginx master in the foreground of a background job (`daemon off`), under
# $E2E_EXEC when set. Its PID goes to DIR/pids/nginx; returns once the sockets are bound.
e2e_start_nginx() {
  local dir=$1 site prefix=() pid i
  shift
  local sites=("$@")
  [ "${#sites[@]}" -gt 0 ] || sites=("${E2E_SITES[@]}")
  mkdir -p "$dir/nginx/tmp" "$dir/pids" || return 1
  {
    cat <<EOF
# secaudit e2e: generated by scripts/e2e/lib.sh; nothing of /etc/nginx is used.
daemon off;
master_process on;
worker_processes 1;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log notice;
events { worker_connections 512; }
http {
    access_log $dir/nginx/access.log;
    client_body_temp_path $dir/nginx/tmp/body;
    proxy_temp_path $dir/nginx/tmp/proxy;
    fastcgi_temp_path $dir/nginx/tmp/fastcgi;
    uwsgi_temp_path $dir/nginx/tmp/uwsgi;
    scgi_temp_path $dir/nginx/tmp/scgi;
    types { text/html html; text/plain txt; }
    default_type text/plain;
    server_tokens off;
    ssl_session_cache off;
EOF
    for site in "${sites[@]}"; do
      _e2e_site_conf "$dir" "$site" || return 1
    done
    echo '}'
  } >"$dir/nginx/nginx.conf" || return 1
  e2e_exec_prefix prefix
  "${prefix[@]}" nginx -t -q -p "$dir/nginx" -e "$dir/nginx/error.log" -c "$dir/nginx/nginx.conf" || {
    e2e_log "nginx rejects its configuration ($dir/nginx/nginx.conf)"
    return 1
  }
  "${prefix[@]}" nginx -p "$dir/nginx" -e "$dir/nginx/error.log" -c "$dir/nginx/nginx.conf" \
    </dev/null >>"$dir/nginx/stdout.log" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/pids/nginx"
  # nginx writes its pid file once every socket is bound.
  for ((i = 0; i < 100; i++)); do
    [ -s "$dir/nginx/nginx.pid" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  e2e_log "nginx did not start; see $dir/nginx/error.log"
  tail -n 20 "$dir/nginx/error.log" >&2 2>/dev/null
  return 1
}

# A long TXT value as quoted character-strings of at most 255 bytes.
_e2e_txt_chunks() {
  local value=$1
  while [ -n "$value" ]; do
    printf '"%s" ' "${value:0:255}"
    value=${value:255}
  done
}

# The lab zone file (unsigned; knotd signs it).
_e2e_zone() {
  local dir=$1 site dkim
  dkim=$(cat "$dir/pki/dkim.pub.b64") || return 1
  cat <<EOF
\$ORIGIN $E2E_ZONE.
\$TTL 300
@       SOA   ns hostmaster 1 3600 600 86400 300
@       NS    ns
ns      A     $(e2e_addr dns)
@       CAA   0 issue "e2e-lab-ca.test"
@       CAA   0 iodef "mailto:security@$E2E_ZONE"
EOF
  for site in "${E2E_SITES[@]}"; do
    [ "$site" = mtasts ] && continue
    printf '%-24s A %s\n' "$site" "$(e2e_addr "$site")"
  done
  printf '%-24s A %s\n' other "$(e2e_addr wronghost)"
  cat <<EOF
; good.e2e.test: a mail domain that does everything right
good                     A     $(e2e_addr modern)
good                     MX    10 mx.good
mx.good                  A     $(e2e_addr mx)
good                     TXT   "v=spf1 ip4:$(e2e_addr mx) -all"
_dmarc.good              TXT   "v=DMARC1; p=reject; sp=reject; adkim=s; aspf=s; rua=mailto:dmarc@good.$E2E_ZONE"
e2e._domainkey.good      TXT   "v=DKIM1; k=rsa; " $(_e2e_txt_chunks "p=$dkim")
_mta-sts.good            TXT   "v=STSv1; id=20240601T000000"
mta-sts.good             A     $(e2e_addr mtasts)
_smtp._tls.good          TXT   "v=TLSRPTv1; rua=mailto:tlsrpt@good.$E2E_ZONE"
; bad.e2e.test: a mail domain that gets it wrong
bad                      A     $(e2e_addr badheaders)
bad                      MX    10 mx.bad
mx.bad                   A     $(e2e_addr mx)
bad                      TXT   "v=spf1 +all"
_dmarc.bad               TXT   "v=DMARC1; p=none"
e2e._domainkey.bad       TXT   "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC-broken-key"
_mta-sts.bad             TXT   "v=STSv1; id=20240601T000000"
mta-sts.bad              A     $(e2e_addr mtasts)
EOF
}

# e2e_start_dns DIR: knotd, authoritative for e2e.test (signed automatically with one ECDSA
# P-256 key) on
# $(e2e_addr dns):$E2E_DNS_PORT, under $E2E_EXEC when set. PID in DIR/pids/knotd; the zone's
# KSK as a trust anchor (for --trust-anchor) in DIR/trust-anchor.txt. Needs e2e_make_pki first
# (the DKIM key).
e2e_start_dns() {
  local dir=$1 prefix=() pid i addr
  addr=$(e2e_addr dns)
  mkdir -p "$dir/knot/run" "$dir/knot/storage" "$dir/pids" || return 1
  _e2e_zone "$dir" >"$dir/knot/storage/$E2E_ZONE.zone" || return 1
  cat >"$dir/knot/knot.conf" <<EOF
# secaudit e2e: generated by scripts/e2e/lib.sh
server:
    rundir: "$dir/knot/run"
    listen: $addr@$E2E_DNS_PORT
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$dir/knot/storage"
log:
  - target: "$dir/knot/knot.log"
    any: info
policy:
    # The usual split: a KSK signs the DNSKEY set, a ZSK the zone. Only the KSK is anchored
    # (trust-anchor.txt), so the audit must trust the ZSK through the KSK's signature.
  - id: split
    single-type-signing: off
template:
  - id: default
    storage: "$dir/knot/storage"
    file: "%s.zone"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: $E2E_ZONE
    dnssec-signing: on
    dnssec-policy: split
EOF
  e2e_exec_prefix prefix
  "${prefix[@]}" knotd -c "$dir/knot/knot.conf" </dev/null >>"$dir/knot/stdout.log" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/pids/knotd"
  for ((i = 0; i < 100; i++)); do
    if "${prefix[@]}" kdig +short +timeout=1 +retry=0 -p "$E2E_DNS_PORT" "@$addr" \
      "$E2E_ZONE" DNSKEY 2>/dev/null | grep -q '^257 '; then
      "${prefix[@]}" kdig +short -p "$E2E_DNS_PORT" "@$addr" "$E2E_ZONE" DNSKEY |
        awk -v zone="$E2E_ZONE." '$1 == 257 { print zone, "IN DNSKEY", $0 }' >"$dir/trust-anchor.txt"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  e2e_log "knotd did not start; see $dir/knot/knot.log"
  tail -n 20 "$dir/knot/knot.log" >&2 2>/dev/null
  return 1
}

# Stops one recorded process and its direct children (nginx workers), only if its command line
# still names DIR (so a recycled PID is never touched).
_e2e_stop_pid() {
  local dir=$1 name=$2 pid children i
  pid=$(cat "$dir/pids/$name" 2>/dev/null) || return 0
  [ -n "$pid" ] || return 0
  if ! tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "$dir"; then
    rm -f "$dir/pids/$name"
    return 0
  fi
  children=$(pgrep -P "$pid" 2>/dev/null || true)
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  # Workers left behind by a killed master (their title is `nginx: worker process`).
  for pid in $children; do
    if tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q '^nginx: '; then
      kill -KILL "$pid" 2>/dev/null
    fi
  done
  rm -f "$dir/pids/$name"
}

# e2e_stop DIR: stops the nginx and knotd started with DIR, by their recorded PIDs.
e2e_stop() {
  local dir=$1
  [ -d "$dir/pids" ] || return 0
  _e2e_stop_pid "$dir" nginx
  _e2e_stop_pid "$dir" knotd
  return 0
}
