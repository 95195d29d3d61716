#!/usr/bin/env python3
"""Accepted protocol versions and cipher suites from one TLS scanner's output file.

Usage: suites.py TOOL FILE, TOOL one of secaudit, sslyze, nmap, testssl. Prints one line per
accepted suite, `VERSION IANA_NAME` (VERSION: ssl2 ssl3 tls1_0 tls1_1 tls1_2 tls1_3), sorted, so
that two tools' answers compare with `diff`. Used by bench/compare.sh; reads only the file.
"""

import json
import re
import sys
import xml.etree.ElementTree as ET

VERSIONS = {
    "SSLv2": "ssl2", "SSLv3": "ssl3", "TLSv1.0": "tls1_0", "TLSv1.1": "tls1_1",
    "TLSv1.2": "tls1_2", "TLSv1.3": "tls1_3",
}


def secaudit(path):
    report = json.load(open(path))
    # One JSON report, or a list of them.
    if isinstance(report, list):
        report = report[0]
    suites = report["facts"]["tls"]["suites"]
    for version, listed in suites.items():
        for suite in listed or []:
            yield version, suite["name"]


def sslyze(path):
    result = json.load(open(path))["server_scan_results"][0]["scan_result"]
    keys = {
        "ssl_2_0_cipher_suites": "ssl2", "ssl_3_0_cipher_suites": "ssl3",
        "tls_1_0_cipher_suites": "tls1_0", "tls_1_1_cipher_suites": "tls1_1",
        "tls_1_2_cipher_suites": "tls1_2", "tls_1_3_cipher_suites": "tls1_3",
    }
    for key, version in keys.items():
        attempt = result.get(key) or {}
        for accepted in (attempt.get("result") or {}).get("accepted_cipher_suites", []):
            yield version, accepted["cipher_suite"]["name"]


def nmap(path):
    root = ET.parse(path).getroot()
    for script in root.iter("script"):
        if script.get("id") != "ssl-enum-ciphers":
            continue
        for table in script.findall("table"):
            version = VERSIONS.get(table.get("key"))
            ciphers = [t for t in table.findall("table") if t.get("key") == "ciphers"]
            for cipher in ciphers[0].findall("table") if ciphers else []:
                for elem in cipher.findall("elem"):
                    if elem.get("key") == "name" and version:
                        # Nmap 7.93 names TLS 1.3 suites by their draft names.
                        yield version, elem.text.replace("TLS_AKE_WITH_", "TLS_")


def testssl(path):
    findings = json.load(open(path))
    if isinstance(findings, dict):
        findings = findings.get("scanResult", [{}])[0].get("cipherSuites", findings)
    for finding in findings:
        match = re.match(r"cipher-(ssl2|ssl3|tls1|tls1_1|tls1_2|tls1_3)_x", finding.get("id", ""))
        if not match:
            continue
        version = {"tls1": "tls1_0"}.get(match.group(1), match.group(1))
        # The finding ends with the IANA (RFC) name of the suite.
        name = finding.get("finding", "").split()[-1]
        if name.startswith(("TLS_", "SSL_")):
            yield version, name


def main():
    tool, path = sys.argv[1], sys.argv[2]
    reader = {"secaudit": secaudit, "sslyze": sslyze, "nmap": nmap, "testssl": testssl}[tool]
    for version, name in sorted(set(reader(path))):
        print(version, name)


if __name__ == "__main__":
    main()
