//! Credentials: what the caller configures ([`Auth`]) and the checked form requests are
//! authenticated with ([`Credentials`]).

use http::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use http::Method;

use super::secret::Secret;
use super::{oauth1, request, Endpoints};
use crate::error::{config_error, Error};
use crate::text::Redactor;

/// How OAuth 2.0 client credentials are sent to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuthMethod {
    /// In the form body (`client_id`, `client_secret`): the default.
    #[default]
    Body,
    /// As HTTP Basic (`Authorization: Basic ...`), for older server versions.
    Basic,
}

/// The credentials.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Auth {
    /// OAuth 2.0 client credentials against `POST {url}/iso/oauth2/token`.
    OAuth2 {
        /// Client id.
        client_id: String,
        /// Client secret.
        client_secret: Secret,
        /// Where the credentials go.
        method: ClientAuthMethod,
    },
    /// OAuth 1.0a, HMAC-SHA1 (RFC 5849).
    OAuth1 {
        /// Consumer key.
        consumer_key: String,
        /// Consumer secret.
        consumer_secret: Secret,
        /// Token.
        token: String,
        /// Token secret.
        token_secret: Secret,
    },
    /// A ready bearer token obtained elsewhere.
    Bearer(Secret),
}

impl Auth {
    /// Registers every secret with `redactor`, in the forms a request carries it.
    pub fn register_secrets(&self, redactor: &Redactor) {
        match self {
            Auth::OAuth2 {
                client_id,
                client_secret,
                ..
            } => {
                // Both forms: a refused body form is retried once with Basic.
                redactor.add_basic(client_id, client_secret.expose());
            }
            Auth::OAuth1 {
                consumer_secret,
                token_secret,
                ..
            } => {
                redactor.add(consumer_secret.expose());
                redactor.add(token_secret.expose());
            }
            Auth::Bearer(token) => redactor.add(token.expose()),
        }
    }
}

/// Checked credentials: how each request is authenticated.
#[derive(Clone)]
pub struct Credentials {
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    OAuth2 {
        client_id: String,
        client_secret: Secret,
        method: ClientAuthMethod,
    },
    OAuth1 {
        consumer_key: String,
        consumer_secret: Secret,
        token: String,
        token_secret: Secret,
    },
    Bearer(HeaderValue),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self.kind {
            Kind::OAuth2 { .. } => "OAuth2",
            Kind::OAuth1 { .. } => "OAuth1",
            Kind::Bearer(_) => "Bearer",
        };
        f.debug_struct("Credentials")
            .field("kind", &name)
            .finish_non_exhaustive()
    }
}

/// A header value that holds a secret: marked sensitive, so that `Debug` hides it.
/// `refusal` is the configuration error's message when the value cannot be a header.
pub fn sensitive_header(value: String, refusal: &str) -> Result<HeaderValue, Error> {
    let mut header = HeaderValue::try_from(value).map_err(|_| config_error(refusal))?;
    header.set_sensitive(true);
    Ok(header)
}

/// `Authorization: Bearer {token}` for an access token.
pub fn bearer_header(access_token: &str) -> Result<HeaderValue, Error> {
    let mut header = HeaderValue::try_from(format!("Bearer {access_token}")).map_err(|_| {
        Error::InvalidResponse {
            message: "the access token from the token endpoint is not a valid header value".into(),
            offset: 0,
            path: Some("access_token".into()),
            sessions_before: 0,
            truncated: false,
        }
    })?;
    header.set_sensitive(true);
    Ok(header)
}

impl Credentials {
    /// Checks `auth`: no empty id or secret, a bearer token a header can carry.
    pub fn new(auth: &Auth) -> Result<Self, Error> {
        let kind = match auth {
            Auth::OAuth2 {
                client_id,
                client_secret,
                method,
            } => {
                if client_id.trim().is_empty() {
                    return Err(config_error("the OAuth 2.0 client id is empty"));
                }
                if client_secret.expose().is_empty() {
                    return Err(config_error("the OAuth 2.0 client secret is empty"));
                }
                Kind::OAuth2 {
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                    method: *method,
                }
            }
            Auth::OAuth1 {
                consumer_key,
                consumer_secret,
                token,
                token_secret,
            } => {
                if consumer_key.trim().is_empty() || consumer_secret.expose().is_empty() {
                    return Err(config_error(
                        "the OAuth 1.0a consumer key and consumer secret must not be empty",
                    ));
                }
                Kind::OAuth1 {
                    consumer_key: consumer_key.clone(),
                    consumer_secret: consumer_secret.clone(),
                    token: token.clone(),
                    token_secret: token_secret.clone(),
                }
            }
            Auth::Bearer(token) => {
                let value = token.expose().trim();
                if value.is_empty() {
                    return Err(config_error("the bearer token is empty"));
                }
                Kind::Bearer(sensitive_header(
                    format!("Bearer {value}"),
                    "the bearer token contains characters a header cannot carry",
                )?)
            }
        };
        Ok(Self { kind })
    }

    /// Whether calls need an OAuth 2.0 access token from the token endpoint.
    pub fn uses_token_endpoint(&self) -> bool {
        matches!(self.kind, Kind::OAuth2 { .. })
    }

    /// Whether requests are signed with OAuth 1.0a (then a 401 refuses the client's
    /// credentials themselves).
    pub fn is_oauth1(&self) -> bool {
        matches!(self.kind, Kind::OAuth1 { .. })
    }

    /// `POST {base}/iso/oauth2/token` with the client credentials in the form body or as
    /// HTTP Basic (RFC 6749 section 2.3.1), or an error without OAuth 2.0 credentials.
    pub fn token_request(
        &self,
        endpoints: &Endpoints,
    ) -> Result<http::Request<bytes::Bytes>, Error> {
        self.token_request_to(&endpoints.token()?, None)
    }

    /// The configured way of sending the client credentials, if these are OAuth 2.0
    /// credentials.
    pub fn client_auth_method(&self) -> Option<ClientAuthMethod> {
        match &self.kind {
            Kind::OAuth2 { method, .. } => Some(*method),
            _ => None,
        }
    }

    /// `POST {url}` with the client credentials sent as `method` (the configured way
    /// when `None`), or an error without OAuth 2.0 credentials.
    pub fn token_request_to(
        &self,
        url: &url::Url,
        method: Option<ClientAuthMethod>,
    ) -> Result<http::Request<bytes::Bytes>, Error> {
        let Kind::OAuth2 {
            client_id,
            client_secret,
            method: configured,
        } = &self.kind
        else {
            return Err(config_error(
                "a token request without OAuth 2.0 credentials",
            ));
        };
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials");
        let mut basic = None;
        match method.unwrap_or(*configured) {
            ClientAuthMethod::Body => {
                form.append_pair("client_id", client_id);
                form.append_pair("client_secret", client_secret.expose());
            }
            ClientAuthMethod::Basic => {
                use base64::Engine as _;
                // RFC 6749 section 2.3.1: both parts form-encoded before base64.
                let enc = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                let pair = format!("{}:{}", enc(client_id), enc(client_secret.expose()));
                let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
                basic = Some(sensitive_header(
                    format!("Basic {encoded}"),
                    "the client credentials cannot be sent as a header",
                )?);
            }
        }
        let mut request = request::build(Method::POST, url, form.finish().into())?;
        request.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        if let Some(value) = basic {
            request.headers_mut().insert(AUTHORIZATION, value);
        }
        Ok(request)
    }

    /// Authenticates an API request: with `access_token` (the `Bearer` header of an
    /// OAuth 2.0 token), the bearer token, or an OAuth 1.0a signature made with `nonce`
    /// and `timestamp` (seconds since the Unix epoch).
    pub fn authorize(
        &self,
        request: &mut http::Request<bytes::Bytes>,
        access_token: Option<&HeaderValue>,
        nonce: &str,
        timestamp: u64,
    ) -> Result<(), Error> {
        let value = match &self.kind {
            Kind::OAuth2 { .. } => match access_token {
                Some(v) => v.clone(),
                None => return Err(config_error("an OAuth 2.0 call without an access token")),
            },
            Kind::Bearer(v) => v.clone(),
            Kind::OAuth1 {
                consumer_key,
                consumer_secret,
                token,
                token_secret,
            } => {
                let signer = oauth1::Signer {
                    consumer_key,
                    consumer_secret: consumer_secret.expose(),
                    token,
                    token_secret: token_secret.expose(),
                };
                let url = url::Url::parse(&request.uri().to_string())
                    .map_err(|e| config_error(format!("cannot sign the request URL: {e}")))?;
                sensitive_header(
                    signer.header_with(request.method().as_str(), &url, nonce, timestamp),
                    "the OAuth 1.0a credentials cannot be sent as a header",
                )?
            }
        };
        request.headers_mut().insert(AUTHORIZATION, value);
        Ok(())
    }
}
