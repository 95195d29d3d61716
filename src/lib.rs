//! secaudit: a command-line security compliance auditor.
//!
//! Data flows one way: [`target`] → [`probe`] (network) → [`evidence`] (raw, versioned) →
//! [`facts`] (derived, typed) → [`policy`] (rule files, evaluation) → [`grade`] → [`report`]
//! (renderers). A module never reaches back up that list: a renderer does not probe, a probe does
//! not grade. [`app`] wires the stages to the command line; [`lab`] and [`demo`] provide a local
//! site to audit without internet.

pub mod app;
pub mod bulk;
pub mod cli;
pub mod ct;
pub mod demo;
pub mod evidence;
pub mod facts;
pub mod fuzz;
pub mod grade;
pub mod lab;
pub mod net;
pub mod ocsp;
pub mod policy;
pub mod probe;
pub mod report;
pub mod target;
pub mod tls_registry;
