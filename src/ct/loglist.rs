//! The public CT log list (v3 JSON, as published by Google for Chrome): logs by id, with key,
//! operator and state.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Deserialize;

/// One log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogInfo {
    /// Human description, e.g. "Google 'Argon2026h1'".
    pub description: String,
    /// Operator name.
    pub operator: String,
    /// The log's public key (SubjectPublicKeyInfo DER).
    pub key: Vec<u8>,
    /// State: `usable`, `qualified`, `readonly`, `retired`, `rejected`, `pending` or `unknown`.
    pub state: String,
}

/// A parsed log list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogList {
    /// The list's `version`.
    pub version: String,
    /// The list's `log_list_timestamp`.
    pub timestamp: String,
    /// Logs by their 32-byte id.
    pub logs: BTreeMap<[u8; 32], LogInfo>,
}

/// The log list could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LogListError {
    /// Reading failed.
    #[error("cannot read CT log list {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The JSON is not a v3 log list.
    #[error("{path} is not a CT log list (v3 JSON): {reason}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

#[derive(Deserialize)]
struct RawList {
    #[serde(default)]
    version: String,
    #[serde(default)]
    log_list_timestamp: String,
    operators: Vec<RawOperator>,
}

#[derive(Deserialize)]
struct RawOperator {
    name: String,
    #[serde(default)]
    logs: Vec<RawLog>,
    #[serde(default)]
    tiled_logs: Vec<RawLog>,
}

#[derive(Deserialize)]
struct RawLog {
    #[serde(default)]
    description: String,
    log_id: String,
    key: String,
    #[serde(default)]
    state: Option<BTreeMap<String, serde_json::Value>>,
}

impl LogList {
    /// Parses the v3 JSON. Logs whose id or key is not valid base64 are skipped.
    pub fn parse(json: &str, shown_as: &str) -> Result<Self, LogListError> {
        let raw: RawList = serde_json::from_str(json).map_err(|e| LogListError::Parse {
            path: shown_as.to_string(),
            reason: e.to_string(),
        })?;
        let engine = base64::engine::general_purpose::STANDARD;
        let mut logs = BTreeMap::new();
        for operator in raw.operators {
            for log in operator.logs.into_iter().chain(operator.tiled_logs) {
                let (Ok(id), Ok(key)) = (engine.decode(&log.log_id), engine.decode(&log.key))
                else {
                    continue;
                };
                let Ok(id) = <[u8; 32]>::try_from(id.as_slice()) else {
                    continue;
                };
                let state = log
                    .state
                    .and_then(|s| s.keys().next().cloned())
                    .unwrap_or_else(|| "unknown".to_string());
                logs.insert(
                    id,
                    LogInfo {
                        description: log.description,
                        operator: operator.name.clone(),
                        key,
                        state,
                    },
                );
            }
        }
        Ok(Self {
            version: raw.version,
            timestamp: raw.log_list_timestamp,
            logs,
        })
    }

    /// Reads and parses a log list file.
    pub fn load(path: &Path) -> Result<Self, LogListError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| LogListError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&text, &shown)
    }

    /// The log with this id.
    pub fn get(&self, id: &[u8; 32]) -> Option<&LogInfo> {
        self.logs.get(id)
    }
}

/// Where `secaudit ct update` stores the list, and where it is looked for by default:
/// `$XDG_CACHE_HOME/secaudit/log_list.json`, else `$HOME/.cache/secaudit/log_list.json`.
pub fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("secaudit").join("log_list.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_minimal_list_and_rejects_garbage() {
        let id = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let json = format!(
            r#"{{"version":"1.0","log_list_timestamp":"2026-01-01T00:00:00Z","operators":[{{"name":"Op","logs":[{{"description":"L","log_id":"{id}","key":"AAEC","state":{{"usable":{{}}}}}},{{"log_id":"!!","key":"x"}}]}}]}}"#
        );
        let list = LogList::parse(&json, "t").unwrap();
        assert_eq!(list.logs.len(), 1);
        let log = list.get(&[7; 32]).unwrap();
        assert_eq!(
            (
                log.operator.as_str(),
                log.state.as_str(),
                log.key.as_slice()
            ),
            ("Op", "usable", &[0, 1, 2][..])
        );
        assert!(LogList::parse("{}", "t").is_err());
        assert!(LogList::parse("not json", "t").is_err());
    }
}
