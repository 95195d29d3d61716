//! Network plumbing shared by the probes: name resolution with overrides, and TLS client setup.
//!
//! Nothing here judges what it sees; it only connects and records.

pub mod resolve;
pub mod tls;

pub use resolve::{ConnectOverride, Resolver, ResolverSetupError};
pub use tls::{TrustAnchors, TrustError};
