//! Network plumbing shared by the probes: name resolution with overrides, DNSSEC validation,
//! TLS client setup, and the SSH transport layer.
//!
//! Nothing here judges what it sees; it only connects and records.

pub mod dnssec;
pub mod resolve;
pub mod scope;
pub mod ssh;
pub mod tls;

pub use dnssec::{DnssecAnchors, Validator};
pub use resolve::{ConnectOverride, Resolver, ResolverSetupError};
pub use tls::{TrustAnchors, TrustError};
