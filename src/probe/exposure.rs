//! The path probe: `security.txt` (RFC 9116) and a short, fixed list of artefact paths that
//! should never be served (VCS metadata, `.env`, debug pages, admin panels), requested on the
//! origin of the site's final URL.
//!
//! One GET per path, one at a time and at most [`PATH_REQUESTS_PER_SECOND`] per second, after a
//! canary request for a path that cannot exist (so a site that answers every path with the same
//! page is recognised later). Bodies are kept up to [`ARTEFACT_TEXT_BYTES`] whatever their type.
//! Nothing here judges: which body is a real `.git/HEAD` is decided in `facts::exposure`.

use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior};
use url::Url;

use super::http::HttpProbe;
use crate::evidence::exposure::{PathFetch, PathsEvidence};
use crate::evidence::{ChainEnd, FailureKind, HttpEvidence, ProbeError};

/// Most path requests sent per second (one at a time, each waiting for the previous answer:
/// 18 requests are over in under half a second on a fast site, never a burst).
pub const PATH_REQUESTS_PER_SECOND: u32 = 40;

/// Most body bytes read and kept from one artefact response.
pub const ARTEFACT_TEXT_BYTES: usize = 4096;

/// A path no real site serves; its answer is how the site treats unknown paths.
pub const CANARY_PATH: &str = "/secaudit-not-found-7f3c9a2e";

/// The RFC 9116 location first, the legacy top-level one second.
pub const SECURITY_TXT_PATHS: [&str; 2] = ["/.well-known/security.txt", "/security.txt"];

/// Every artefact path requested, in order (documented in the README).
pub const ARTEFACT_PATHS: [&str; 15] = [
    "/.git/HEAD",
    "/.git/config",
    "/.svn/entries",
    "/.hg/requires",
    "/.env",
    "/.DS_Store",
    "/server-status",
    "/phpinfo.php",
    "/admin/",
    "/administrator/",
    "/wp-admin/",
    "/wp-login.php",
    "/phpmyadmin/",
    "/adminer.php",
    "/manager/html",
];

/// The origin to probe: the final HTTPS URL's, else the final plain-HTTP URL's.
pub fn origin_of(http: &HttpEvidence) -> Result<Url, String> {
    let final_url = |chain: Option<&crate::evidence::FetchChain>| {
        chain
            .filter(|c| matches!(c.end, ChainEnd::Final))
            .and_then(|c| c.hops.last())
            .and_then(|hop| Url::parse(&hop.url).ok())
    };
    let url = final_url(http.secure.as_ref())
        .or_else(|| final_url(http.plain.as_ref()))
        .ok_or_else(|| "neither HTTPS nor HTTP gave a final response".to_string())?;
    let mut origin = url;
    origin.set_path("/");
    origin.set_query(None);
    origin.set_fragment(None);
    Ok(origin)
}

/// Requests `security.txt` and every artefact path on `origin`, paced.
pub async fn probe_paths(http: &HttpProbe<'_>, origin: &Url) -> PathsEvidence {
    let mut pace = tokio::time::interval(Duration::from_secs(1) / PATH_REQUESTS_PER_SECOND);
    pace.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut security_txt = Vec::new();
    for path in SECURITY_TXT_PATHS {
        pace.tick().await;
        security_txt.push(http.fetch_chain(join(origin, path)).await);
    }
    pace.tick().await;
    let canary = fetch_path(http, origin, CANARY_PATH).await;
    let mut artefacts = Vec::new();
    for path in ARTEFACT_PATHS {
        pace.tick().await;
        artefacts.push(fetch_path(http, origin, path).await);
    }
    PathsEvidence {
        origin: origin.as_str().trim_end_matches('/').to_string(),
        security_txt,
        canary,
        artefacts,
    }
}

/// Whether the pacing interval would still let every path request finish before `deadline`;
/// used to say why the probe was skipped instead of sending half of it.
pub fn fits_before(deadline: Instant) -> bool {
    let requests = (SECURITY_TXT_PATHS.len() + 1 + ARTEFACT_PATHS.len()) as u32;
    Instant::now() + Duration::from_secs(1) / PATH_REQUESTS_PER_SECOND * requests < deadline
}

fn join(origin: &Url, path: &str) -> String {
    let mut url = origin.clone();
    url.set_path(path);
    url.to_string()
}

async fn fetch_path(http: &HttpProbe<'_>, origin: &Url, path: &str) -> PathFetch {
    let result = match Url::parse(&join(origin, path)) {
        Ok(url) => http.fetch_sample(&url, ARTEFACT_TEXT_BYTES).await,
        Err(e) => Err(ProbeError::new(FailureKind::Other, e.to_string())),
    };
    match result {
        Ok(hop) => PathFetch {
            path: path.to_string(),
            response: Some(hop),
            error: None,
        },
        Err(error) => PathFetch {
            path: path.to_string(),
            response: None,
            error: Some(error),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{BodySample, FetchChain, HttpHop};

    fn chain(url: &str, end: ChainEnd) -> FetchChain {
        FetchChain {
            start_url: url.into(),
            hops: vec![HttpHop {
                url: url.into(),
                peer: None,
                status: 200,
                http_version: "HTTP/1.1".into(),
                headers: Vec::new(),
                certificate_error: None,
                body: BodySample::default(),
            }],
            end,
        }
    }

    #[test]
    fn origin_is_the_final_https_url_without_path() {
        let http = HttpEvidence {
            plain: Some(chain("http://a.test/", ChainEnd::Final)),
            secure: Some(chain("https://www.a.test:8443/shop?x=1", ChainEnd::Final)),
            cors: None,
            compression: None,
        };
        assert_eq!(
            origin_of(&http).unwrap().as_str(),
            "https://www.a.test:8443/"
        );
        assert_eq!(
            join(&origin_of(&http).unwrap(), "/.git/HEAD"),
            "https://www.a.test:8443/.git/HEAD"
        );
    }

    #[test]
    fn origin_falls_back_to_plain_http_and_fails_without_any() {
        let failed = ChainEnd::TooManyRedirects { limit: 10 };
        let http = HttpEvidence {
            plain: Some(chain("http://a.test/", ChainEnd::Final)),
            secure: Some(chain("https://a.test/", failed.clone())),
            cors: None,
            compression: None,
        };
        assert_eq!(origin_of(&http).unwrap().as_str(), "http://a.test/");
        let none = HttpEvidence {
            plain: Some(chain("http://a.test/", failed)),
            secure: None,
            cors: None,
            compression: None,
        };
        assert!(origin_of(&none).is_err());
    }
}
