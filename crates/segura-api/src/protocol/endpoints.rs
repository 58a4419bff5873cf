//! The base URL and the URLs of each endpoint under it.

use crate::error::{config_error as config, Error};
use url::Url;

/// The appliance's base URL, checked once, and the endpoint URLs built from it.
///
/// The base may carry a path prefix (`https://host/prefix/`), with or without a trailing
/// slash; endpoint paths are appended to it. Credentials in the URL are refused, so that
/// URLs can appear in messages and logs.
#[derive(Debug, Clone)]
pub struct Endpoints {
    base: Url,
}

impl Endpoints {
    /// Checks and normalises a base URL.
    pub fn parse(base_url: &str) -> Result<Self, Error> {
        let text = base_url.trim();
        if text.is_empty() {
            return Err(config("the server URL is empty"));
        }
        let mut base = Url::parse(text).map_err(|e| match e {
            url::ParseError::RelativeUrlWithoutBase => config(format!(
                "the server URL {text:?} has no scheme: write it as https://{text}"
            )),
            e => config(format!("the server URL {text:?} is not valid: {e}")),
        })?;
        if !matches!(base.scheme(), "https" | "http") {
            return Err(config(format!(
                "the server URL must start with https:// (got {}://)",
                base.scheme()
            )));
        }
        if base.host_str().is_none_or(str::is_empty) || base.cannot_be_a_base() {
            return Err(config(format!("the server URL {text:?} has no host name")));
        }
        if !base.username().is_empty() || base.password().is_some() {
            // Never echo the URL here: it holds a secret.
            return Err(config(
                "the server URL must not contain credentials (user:password@); \
                 give them as client id and secret instead",
            ));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(config(format!(
                "the server URL must not have a query or fragment: {}",
                base.as_str()
            )));
        }
        // One trailing slash, whatever was typed: `prefix`, `prefix/` and `prefix//` alike.
        let path = format!("{}/", base.path().trim_end_matches('/'));
        base.set_path(&path);
        Ok(Self { base })
    }

    /// The normalised base URL (always ending with a slash).
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// Whether requests travel unencrypted.
    pub fn is_plain_http(&self) -> bool {
        self.base.scheme() == "http"
    }

    /// The base URL followed by `segments`, each percent-encoded as one path segment.
    fn join(&self, segments: &[&str]) -> Result<Url, Error> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| config(format!("{} cannot take a path", self.base)))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// `POST {base}/iso/oauth2/token`.
    pub fn token(&self) -> Result<Url, Error> {
        self.join(&["iso", "oauth2", "token"])
    }

    /// `GET {base}/api/session/remotesessions`.
    pub fn list(&self) -> Result<Url, Error> {
        self.join(&["api", "session", "remotesessions"])
    }

    /// `GET {base}/api/session/remotesessions/{id}`.
    pub fn get(&self, id: &str) -> Result<Url, Error> {
        self.join(&["api", "session", "remotesessions", id])
    }

    /// `DELETE {base}/api/pam/session/drop/{session_id}`.
    pub fn drop_session(&self, hash: &str) -> Result<Url, Error> {
        self.join(&["api", "pam", "session", "drop", hash])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(base: &str) -> String {
        match Endpoints::parse(base).and_then(|e| e.list()) {
            Ok(u) => u.to_string(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn base_with_or_without_slash_and_prefix() {
        let want = "https://pam.example.com/api/session/remotesessions";
        assert_eq!(list("https://pam.example.com"), want);
        assert_eq!(list("https://pam.example.com/"), want);
        assert_eq!(list("  https://pam.example.com/  "), want);
        assert_eq!(
            list("https://host:8443/prefix/"),
            "https://host:8443/prefix/api/session/remotesessions"
        );
        assert_eq!(
            list("https://host/prefix"),
            "https://host/prefix/api/session/remotesessions"
        );
        assert_eq!(
            list("https://host/a/b//"),
            "https://host/a/b/api/session/remotesessions"
        );
    }

    #[test]
    fn every_endpoint() {
        let e = Endpoints::parse("https://host/p").unwrap_or_else(|e| panic!("{e}"));
        let s = |u: Result<Url, Error>| u.map(|u| u.to_string()).unwrap_or_default();
        assert_eq!(s(e.token()), "https://host/p/iso/oauth2/token");
        assert_eq!(
            s(e.get("42")),
            "https://host/p/api/session/remotesessions/42"
        );
        assert_eq!(
            s(e.drop_session("0123456789abcdef0123456789abcdef01234567")),
            "https://host/p/api/pam/session/drop/0123456789abcdef0123456789abcdef01234567"
        );
        // A value from the server can never escape its path segment.
        assert_eq!(
            s(e.drop_session("../x?y#z")),
            "https://host/p/api/pam/session/drop/..%2Fx%3Fy%23z"
        );
    }

    #[test]
    fn bad_urls_are_configuration_errors() {
        for (url, needle) in [
            ("", "empty"),
            ("pam.example.com", "https://pam.example.com"),
            ("ftp://host/", "https://"),
            ("https://user:pw@host/", "must not contain credentials"),
            ("https://host/?a=b", "query"),
            ("https://", "not valid"),
        ] {
            match Endpoints::parse(url) {
                Err(Error::Config { message }) => {
                    assert!(message.contains(needle), "{url}: {message}");
                    assert!(!message.contains("pw"), "{url}: {message}");
                }
                other => panic!("{url}: {other:?}"),
            }
        }
    }
}
