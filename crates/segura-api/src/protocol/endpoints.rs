//! The base URL and the URLs of each endpoint under it.

use crate::error::{config_error as config, Error};
use url::Url;

/// The two path families of the list and get endpoints: the vendor's pages print
/// either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiPrefix {
    /// `/api/session/…` (the default, tried first).
    Session,
    /// `/api/pam/session/…`.
    Pam,
}

impl ApiPrefix {
    /// The other family.
    pub fn other(self) -> Self {
        match self {
            ApiPrefix::Session => ApiPrefix::Pam,
            ApiPrefix::Pam => ApiPrefix::Session,
        }
    }

    /// The path the family starts with, with slashes (`/api/session/`).
    pub fn as_path(self) -> &'static str {
        match self {
            ApiPrefix::Session => "/api/session/",
            ApiPrefix::Pam => "/api/pam/session/",
        }
    }

    fn segments(self) -> &'static [&'static str] {
        match self {
            ApiPrefix::Session => &["api", "session"],
            ApiPrefix::Pam => &["api", "pam", "session"],
        }
    }

    /// Reads a profile's `api_prefix`: `/api/session`, `/api/pam/session` (slashes
    /// optional), or the short names `session` and `pam`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        match text.trim().trim_matches('/') {
            "api/session" | "session" => Ok(ApiPrefix::Session),
            "api/pam/session" | "pam" => Ok(ApiPrefix::Pam),
            other => Err(config(format!(
                "unknown API prefix {other:?}: use /api/session or /api/pam/session"
            ))),
        }
    }
}

/// Where the OAuth 2.0 token endpoint is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TokenUrl {
    /// `{base}/iso/oauth2/token` first, then `{base}/api/oauth2/token` if it answers 404.
    #[default]
    Auto,
    /// `{base}/iso/oauth2/token` only.
    Iso,
    /// `{base}/api/oauth2/token` only (the 3.33 "first steps" page).
    Api,
    /// This URL only (a profile's `token_url`); checked like the base URL.
    Url(String),
}

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

    /// `POST {base}/api/oauth2/token` (the 3.33 "first steps" page).
    pub fn api_token(&self) -> Result<Url, Error> {
        self.join(&["api", "oauth2", "token"])
    }

    /// The token URLs to try, in order, for `choice`: a full URL is checked like a base
    /// URL (https or http, a host, no credentials, no query or fragment).
    pub fn token_urls(&self, choice: &TokenUrl) -> Result<Vec<Url>, Error> {
        Ok(match choice {
            TokenUrl::Auto => vec![self.token()?, self.api_token()?],
            TokenUrl::Iso => vec![self.token()?],
            TokenUrl::Api => vec![self.api_token()?],
            TokenUrl::Url(text) => {
                let checked = Endpoints::parse(text).map_err(|e| match e {
                    Error::Config { message } => config(format!("token_url: {message}")),
                    other => other,
                })?;
                let mut url = checked.base.clone();
                let path = checked.base.path().trim_end_matches('/').to_owned();
                url.set_path(if path.is_empty() { "/" } else { &path });
                vec![url]
            }
        })
    }

    /// `GET {base}/api/session/remotesessions`.
    pub fn list(&self) -> Result<Url, Error> {
        self.list_at(ApiPrefix::Session)
    }

    /// `GET {base}{prefix}remotesessions`.
    pub fn list_at(&self, prefix: ApiPrefix) -> Result<Url, Error> {
        let mut segments = prefix.segments().to_vec();
        segments.push("remotesessions");
        self.join(&segments)
    }

    /// `GET {base}/api/session/remotesessions/{id}`.
    pub fn get(&self, id: &str) -> Result<Url, Error> {
        self.get_at(ApiPrefix::Session, id)
    }

    /// `GET {base}{prefix}remotesessions/{id}`.
    pub fn get_at(&self, prefix: ApiPrefix, id: &str) -> Result<Url, Error> {
        let mut segments = prefix.segments().to_vec();
        segments.extend(["remotesessions", id]);
        self.join(&segments)
    }

    /// `DELETE {base}/iso/session/drop/{session_id}`: the older drop (3.32).
    pub fn legacy_drop_session(&self, hash: &str) -> Result<Url, Error> {
        self.join(&["iso", "session", "drop", hash])
    }

    /// `POST {base}/api/pam/remote/session` or `POST {base}/api/remote/session`: a web
    /// proxy session.
    pub fn web_session_at(&self, path: super::WebSessionPath) -> Result<Url, Error> {
        self.join(path.segments())
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
    fn path_families_token_urls_and_the_older_drop() {
        let e = Endpoints::parse("https://host/p").unwrap_or_else(|e| panic!("{e}"));
        let s = |u: Result<Url, Error>| u.map(|u| u.to_string()).unwrap_or_default();
        assert_eq!(
            s(e.list_at(ApiPrefix::Pam)),
            "https://host/p/api/pam/session/remotesessions"
        );
        assert_eq!(
            s(e.get_at(ApiPrefix::Pam, "7")),
            "https://host/p/api/pam/session/remotesessions/7"
        );
        assert_eq!(s(e.list_at(ApiPrefix::Session)), s(e.list()));
        assert_eq!(
            s(e.legacy_drop_session("ab/c")),
            "https://host/p/iso/session/drop/ab%2Fc"
        );
        let urls = |c: &TokenUrl| {
            e.token_urls(c)
                .map(|v| v.iter().map(Url::to_string).collect::<Vec<_>>())
                .unwrap_or_else(|e| vec![e.to_string()])
        };
        assert_eq!(
            urls(&TokenUrl::Auto),
            [
                "https://host/p/iso/oauth2/token",
                "https://host/p/api/oauth2/token"
            ]
        );
        assert_eq!(urls(&TokenUrl::Api), ["https://host/p/api/oauth2/token"]);
        assert_eq!(
            urls(&TokenUrl::Url("https://sso.example/oauth/token/".into())),
            ["https://sso.example/oauth/token"]
        );
        let bad = urls(&TokenUrl::Url("https://u:pw@sso/".into()));
        assert!(
            bad[0].contains("token_url") && !bad[0].contains("pw"),
            "{bad:?}"
        );
        for (text, want) in [
            ("/api/session", ApiPrefix::Session),
            ("api/pam/session/", ApiPrefix::Pam),
            ("pam", ApiPrefix::Pam),
        ] {
            assert_eq!(ApiPrefix::parse(text).ok(), Some(want), "{text}");
        }
        assert!(ApiPrefix::parse("/api/other").is_err());
        assert_eq!(ApiPrefix::Session.other(), ApiPrefix::Pam);
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
