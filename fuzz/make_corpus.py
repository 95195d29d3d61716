#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/).

Run from the repository root: `python3 fuzz/make_corpus.py`. Seeds are small valid (and a few
broken) inputs of each parser; the mutation driver and cargo-fuzz start from them. Files under
fuzz/corpus/*/crash-* are inputs that once crashed a target and are never regenerated here.
"""

import os
import struct
import subprocess
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def u16(n):
    return struct.pack(">H", n)


def u24(n):
    return struct.pack(">I", n)[1:]


def record(ct, body, version=0x0303):
    return bytes([ct]) + u16(version) + u16(len(body)) + body


def handshake(t, body):
    return bytes([t]) + u24(len(body)) + body


def ext(i, data):
    return u16(i) + u16(len(data)) + data


def server_hello(version, suite, random, exts=b"", session=b""):
    body = u16(version) + random + bytes([len(session)]) + session + u16(suite) + b"\x00"
    if exts:
        body += u16(len(exts)) + exts
    return handshake(2, body)


HRR = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


def der_certs():
    out = []
    here = os.path.dirname(os.path.abspath(__file__))
    for pem in ("rsa1024.pem", "sha1.pem"):
        path = os.path.join(here, "..", "fixtures", "certs", pem)
        out.append(subprocess.run(["openssl", "x509", "-outform", "der", "-in", path],
                                  capture_output=True, check=True).stdout)
    # An EC certificate with SANs, and one with an (unverifiable) embedded SCT list.
    sct = (b"\x00" + b"\x11" * 32 + struct.pack(">Q", 1700000000000) + u16(0)
           + b"\x04\x03" + u16(8) + b"\x30\x06\x02\x01\x01\x02\x01\x01")
    sct_list = u16(len(sct) + 2) + u16(len(sct)) + sct
    octet = b"\x04" + bytes([len(sct_list)]) + sct_list
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra in (("ec", []),
                            ("sct", ["-addext", "1.3.6.1.4.1.11129.2.4.2=DER:" + octet.hex()])):
            key = os.path.join(tmp, name + ".key")
            subprocess.run(["openssl", "ecparam", "-genkey", "-name", "prime256v1", "-out", key],
                           check=True, capture_output=True)
            out.append(subprocess.run(
                ["openssl", "req", "-x509", "-new", "-key", key, "-subj", "/CN=www.example.test",
                 "-days", "90", "-addext", "subjectAltName=DNS:www.example.test,DNS:*.example.test",
                 "-outform", "der"] + extra,
                capture_output=True, check=True).stdout)
    return out


def main():
    certs = der_certs()
    for i, der in enumerate(certs):
        put("certificate", f"cert-{i}.der", der)
    put("certificate", "truncated.der", certs[0][: len(certs[0]) // 2])
    put("certificate", "chain.der", certs[2] + certs[0])

    alpn = ext(16, u16(3) + b"\x02h2")
    sh12 = server_hello(0x0303, 0xC02F, b"\x07" * 32, ext(0xFF01, b"\x00") + ext(23, b"") + alpn)
    put("server_hello", "tls12.bin", record(22, sh12))
    random = b"\x09" * 24 + b"DOWNGRD\x01"
    put("server_hello", "downgrade.bin", record(22, server_hello(0x0303, 0xC030, random)))
    sh13 = server_hello(0x0303, 0x1301, b"\x01" * 32,
                        ext(43, b"\x03\x04") + ext(51, u16(0x1D) + u16(32) + b"\x05" * 32),
                        session=b"\x02" * 32)
    put("server_hello", "tls13.bin", record(22, sh13))
    put("server_hello", "hrr.bin",
        record(22, server_hello(0x0303, 0x1302, HRR, ext(43, b"\x03\x04") + ext(51, u16(0x17)))))
    put("server_hello", "alert.bin", record(21, b"\x02\x46"))
    put("server_hello", "alerts.bin", record(21, b"\x01\x5a") * 50)
    cert_list = b"".join(u24(len(c)) + c for c in certs[:2])
    certificate = handshake(11, u24(len(cert_list)) + cert_list)
    ske = handshake(12, b"\x03" + u16(0x17) + b"\x41" + b"\x04" * 65)
    flight = sh12 + certificate + ske + handshake(14, b"")
    put("server_hello", "flight.bin",
        b"".join(record(22, flight[i:i + 16384]) for i in range(0, len(flight), 16384)))
    prime = b"\x00" + b"\xff" * 256
    dhe = server_hello(0x0303, 0x009E, b"\x02" * 32) + handshake(12, u16(len(prime)) + prime)
    put("server_hello", "dhe.bin", record(22, dhe))
    status = handshake(22, b"\x01" + u24(5) + b"\x30\x03\x0a\x01\x00")
    put("server_hello", "staple.bin", record(22, sh12 + status + handshake(14, b"")))
    put("server_hello", "not-tls.bin", b"HTTP/1.1 400 Bad Request\r\n\r\n")
    put("server_hello", "lying-length.bin", b"\x16\x03\x03\x40\x00" + sh12)

    v2 = (b"\x04\x00\x01" + u16(2) + u16(5) + u16(6) + u16(16) + b"\x30\x03\x02\x01\x00"
          + b"\x01\x00\x80\x07\x00\xc0" + b"\x11" * 16)
    put("sslv2_reply", "server-hello.bin", u16(0x8000 | len(v2)) + v2)
    put("sslv2_reply", "error.bin", u16(0x8003) + b"\x00\x00\x01")
    put("sslv2_reply", "short.bin", b"\x80\x05\x04\xff")

    for i, value in enumerate([
        "max-age=31536000; includeSubDomains; preload",
        "max-age=0",
        'max-age="300"; includesubdomains',
        "max-age=31536000, max-age=1",
        "includeSubDomains; max-age=-1; ;;",
        "max-age=99999999999999999999999",
    ]):
        put("hsts", f"seed-{i}", value)

    for i, value in enumerate([
        "default-src 'self'; script-src 'self' 'nonce-abc' 'strict-dynamic'; object-src 'none'; base-uri 'none'",
        "script-src * 'unsafe-inline' 'unsafe-eval' http: data:; frame-ancestors 'none'",
        "default-src https:; upgrade-insecure-requests; report-uri /csp",
        "<html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\"></head></html>",
        "script-src 'sha256-abc=' 'unsafe-hashes'; style-src 'self' 'unsafe-inline', img-src *",
    ]):
        put("csp", f"seed-{i}", value)

    for i, value in enumerate([
        "__Host-sid=abc; Path=/; Secure; HttpOnly; SameSite=Strict",
        "__Secure-token=1; Domain=example.test; Secure; SameSite=None",
        "session=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Max-Age=-1",
        "=; ;;; Path",
        'x="quoted; value"; HttpOnly; Partitioned',
    ]):
        put("cookie", f"seed-{i}", value)

    for i, value in enumerate([
        "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_spf.example.test mx a:mail.example.test -all",
        "v=spf1 redirect=_spf.example.test",
        "v=spf1 exists:%{i}._spf.%{d} ptr ~all exp=explain.%{d}",
        "v=spf1 a/24//64 mx:example.test/30 ?all +all",
        "v=spf1 include: ip4:999.1.1.1/33 -all unknown=%{z}",
    ]):
        put("spf", f"seed-{i}", value)

    for i, value in enumerate([
        "v=DMARC1; p=reject; sp=quarantine; np=reject; pct=100; rua=mailto:d@example.test,mailto:x@other.test!10m; ruf=mailto:f@example.test; adkim=s; aspf=r; fo=1:d:s; ri=86400; rf=afrf; psd=n; t=y",
        "v=DMARC1; p=none",
        "v=DMARC1; p=block; pct=200; p=none; rua=https://x",
        "v=DMARC1;;; ; p = quarantine ;",
    ]):
        put("dmarc", f"seed-{i}", value)

    for i, value in enumerate([
        "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYtIxN2SnFCjxOCKG9v3b4jYfcTNh5ijSsq631uBItLa7od+v/RtdC2UzJ1lWT947qR+Rcac2gbto/NMqJ0fzfVjH4OuKhitdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2QIDAQAB",
        "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
        "v=DKIM1; p=",
        "v=DKIM1; k=rsa; t=y:s; h=sha256; s=email; p=AAAA",
    ]):
        put("dkim", f"seed-{i}", value)

    for i, value in enumerate([
        "version: STSv1\nmode: enforce\nmx: mail.example.test\nmx: *.example.test\nmax_age: 604800\n",
        "version: STSv1\r\nmode: testing\r\nmx: *.mail.example.test\r\nmax_age: 86400\r\n",
        "version: STSv2\nmode: bogus\nmax_age: 99999999999\nmx:\n",
        "v=STSv1; id=20240101T000000;",
    ]):
        put("mta_sts", f"seed-{i}", value)

    rules_dir = os.path.join(os.path.dirname(ROOT), "..", "rules")
    for name in sorted(os.listdir(rules_dir)):
        if name.endswith(".yaml"):
            with open(os.path.join(rules_dir, name), "rb") as f:
                put("rules", name, f.read())
    for name in ("bad-rules.yaml", "bad-syntax.yaml"):
        with open(os.path.join(rules_dir, "..", "fixtures", "rules", name), "rb") as f:
            put("rules", name, f.read())
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        bomb.append(f"{cur}: &{cur} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]")
    bomb.append("pack: { id: bomb, title: *j }\nrules: []")
    put("rules", "alias-bomb.yaml", "\n".join(bomb) + "\n")
    put("rules", "alias-bomb-maps.yaml", "\n".join(
        ["a: &a {k0: x, k1: x, k2: x, k3: x, k4: x, k5: x, k6: x, k7: x, k8: x}"]
        + [f"{chr(ord('a') + i)}: &{chr(ord('a') + i)} {{"
           + ", ".join(f"k{k}: *{chr(ord('a') + i - 1)}" for k in range(9)) + "}"
           for i in range(1, 10)]
        + ["pack: { id: bomb, title: t }", "rules:", "  - { id: B-1, title: *j }"]) + "\n")
    put("rules", "alias-self.yaml", "a: &a [x, *a]\npack: &p { id: p, title: *p }\nrules: []\n")
    put("rules", "alias-shared.yaml",
        "pack: { id: shared, title: Shared anchors }\nrules:\n"
        + "".join(f"  - id: S-{i:02}\n    title: TLS 1.2\n    category: tls\n    severity: low\n"
                  "    remediation: r\n"
                  + ("    source: &src { doc: policy.txt, section: TLS, quote: \"Only TLS 1.2.\" }\n"
                     "    require: &tls12 { fact: tls.protocols.tls1_2, is: true }\n" if i == 0 else
                     "    source: *src\n    require: { all: [*tls12, *tls12] }\n")
                  for i in range(20)))
    put("rules", "deep-flow.yaml", "pack: " + "[" * 5000 + "]" * 5000 + "\n")
    put("rules", "deep-block.yaml", "".join("  " * i + "k:\n" for i in range(300)))
    put("rules", "deep-condition.yaml",
        "pack: { id: deep, title: deep }\nrules:\n  - id: DEEP-01\n    title: t\n    category: tls\n"
        "    severity: low\n    remediation: r\n    require: " + "{ not: " * 3000
        + "{ fact: tls.protocols.tls1_2, is: true }" + " }" * 3000 + "\n")


if __name__ == "__main__":
    main()
