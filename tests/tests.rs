//! Integration tests, compiled into one binary so the link happens once.
//!
//! Every test that needs a network peer starts its own on 127.0.0.1 (the lab HTTPS site, a
//! hickory DNS server) and runs the real `secaudit` binary against it.

mod attestations;
mod audit;
mod bulk;
mod cert;
mod cli;
mod dnssec;
mod exposure;
mod guidelines;
mod hostile;
mod http_depth;
mod mail;
mod observatory;
mod packs;
mod reports;
mod starttls;
mod tls;
mod util;
mod vendors;
mod vulns;
