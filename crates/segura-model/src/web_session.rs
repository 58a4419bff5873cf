//! Web proxy sessions: the request of `POST /api/pam/remote/session` and its answer.
//!
//! The answer's `session_url` and `token` each open a session on the appliance without
//! any further login: they are credentials. [`WebSession`]'s `Debug` never shows them.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::envelope::Envelope;

/// The body of `POST /api/pam/remote/session`, with the API's own key names.
///
/// `user`, `credential`, `device` and `protocol` are required by the API; the optional
/// keys are left out of the JSON when unset.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebSessionRequest {
    /// The PAM user the session is opened for (`user`).
    pub user: String,
    /// The credential's username (`credential`).
    pub credential: String,
    /// The device: a hostname or an IP address (`device`).
    pub device: String,
    /// The protocol, e.g. `ssh` or `RDP` (`protocol`).
    pub protocol: String,
    /// The remote device, for domain credentials (`remotedevice`).
    #[serde(
        rename = "remotedevice",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub remote_device: Option<String>,
    /// The user's IP address, used for the whole session (`remoteAddr`).
    #[serde(
        rename = "remoteAddr",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub remote_addr: Option<String>,
    /// The port on the device (`port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The RemoteApp id (`remoteapp`).
    #[serde(rename = "remoteapp", default, skip_serializing_if = "Option::is_none")]
    pub remote_app: Option<u64>,
    /// The screen size, `1920x1080` by the API's default (`screensize`).
    #[serde(
        rename = "screensize",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub screen_size: Option<String>,
}

impl WebSessionRequest {
    /// A request with the four required values and no optional one.
    pub fn new(
        user: impl Into<String>,
        credential: impl Into<String>,
        device: impl Into<String>,
        protocol: impl Into<String>,
    ) -> Self {
        Self {
            user: user.into(),
            credential: credential.into(),
            device: device.into(),
            protocol: protocol.into(),
            ..Self::default()
        }
    }
}

/// The `session` object of the answer: the URL that starts the session in a browser,
/// and its token. Both are secrets: `Debug` shows neither.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebSession {
    /// The URL that starts the session (`session_url`).
    #[serde(default)]
    pub session_url: String,
    /// The session's token (`token`).
    #[serde(default)]
    pub token: String,
}

impl WebSession {
    /// A session URL and its token.
    pub fn new(session_url: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            session_url: session_url.into(),
            token: token.into(),
        }
    }
}

impl fmt::Debug for WebSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSession")
            .field("session_url", &"[redacted]")
            .field("token", &"[redacted]")
            .finish()
    }
}

/// The body of `POST /api/pam/remote/session`: the envelope, with `message` "Session
/// created successfully" on success, and the `session`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebSessionResponse {
    /// The envelope.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The session URL and its token (`session`).
    #[serde(default)]
    pub session: Option<WebSession>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_uses_the_api_key_names_and_leaves_out_what_is_unset() {
        let mut r = WebSessionRequest::new("alice", "root", "10.0.0.5", "ssh");
        assert_eq!(
            serde_json::to_string(&r).unwrap_or_default(),
            r#"{"user":"alice","credential":"root","device":"10.0.0.5","protocol":"ssh"}"#
        );
        r.remote_device = Some("dc01".into());
        r.remote_addr = Some("192.0.2.7".into());
        r.port = Some(22);
        r.remote_app = Some(3);
        r.screen_size = Some("1280x720".into());
        assert_eq!(
            serde_json::to_string(&r).unwrap_or_default(),
            r#"{"user":"alice","credential":"root","device":"10.0.0.5","protocol":"ssh","remotedevice":"dc01","remoteAddr":"192.0.2.7","port":22,"remoteapp":3,"screensize":"1280x720"}"#
        );
    }

    #[test]
    fn the_answer_reads_and_debug_hides_the_secrets() {
        let body = r#"{"code":200,"response":{"status":200,"message":"Session created successfully"},"tenant":"Segura","session":{"session_url":"https://pam/modulos/auth?_sr=abc","token":"tok123"}}"#;
        let a: WebSessionResponse = serde_json::from_str(body).unwrap_or_default();
        let s = a.session.clone().unwrap_or_default();
        assert_eq!(s.session_url, "https://pam/modulos/auth?_sr=abc");
        assert_eq!(s.token, "tok123");
        let debug = format!("{a:?}");
        assert!(
            !debug.contains("tok123") && !debug.contains("_sr=abc"),
            "{debug}"
        );
    }
}
