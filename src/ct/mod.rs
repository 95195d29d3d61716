//! Certificate transparency: the public CT log list, and verification of signed certificate
//! timestamps (RFC 6962) against it.
//!
//! Data and cryptography only: given a certificate, its issuer and the log list, say which SCTs
//! are valid. Whether that satisfies a CT policy is for the facts and the rules.

pub mod der;
pub mod loglist;
pub mod sct;

pub use loglist::{LogInfo, LogList, LogListError};
pub use sct::{
    SctCheck, SctSource, SctStatus, SignedEntry, check_delivered_scts, check_embedded_scts,
};
