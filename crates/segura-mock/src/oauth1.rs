//! OAuth 1.0a HMAC-SHA1 request verification (RFC 5849), written from the RFC
//! so that a client's signing is checked by an implementation that shares no
//! code with it.
//!
//! The mock server runs [`verify`] on every API request that carries an
//! `Authorization: OAuth ...` header; other crates' tests can call it directly
//! on the header their signer produced:
//!
//! ```
//! use segura_mock::oauth1::{self, Oauth1Credentials, Oauth1Request};
//!
//! let credentials = Oauth1Credentials::new("key", "secret", "token", "token-secret");
//! let url = "https://pam.example.com/api/session/remotesessions?x=1";
//! let header = oauth1::authorization_header("GET", url, &credentials, 1_700_000_000, "n0nce")
//!     .unwrap();
//! let request = Oauth1Request { method: "GET", url, authorization: &header, form_body: None };
//! assert!(oauth1::verify(&request, &credentials).is_ok());
//! ```

use std::fmt;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha1::Sha1;

/// RFC 5849 section 3.6: everything but `ALPHA / DIGIT / "-" / "." / "_" / "~"`
/// is encoded, with uppercase hex.
const OAUTH_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The four OAuth 1.0a secrets and identifiers a Segura A2A authorization
/// hands out.
#[derive(Clone, PartialEq, Eq)]
pub struct Oauth1Credentials {
    /// `oauth_consumer_key`.
    pub consumer_key: String,
    /// The consumer secret (first half of the signing key).
    pub consumer_secret: String,
    /// `oauth_token`; empty when the request carries no token.
    pub token: String,
    /// The token secret (second half of the signing key).
    pub token_secret: String,
}

impl Oauth1Credentials {
    /// Credentials from their four parts.
    pub fn new(
        consumer_key: impl Into<String>,
        consumer_secret: impl Into<String>,
        token: impl Into<String>,
        token_secret: impl Into<String>,
    ) -> Self {
        Oauth1Credentials {
            consumer_key: consumer_key.into(),
            consumer_secret: consumer_secret.into(),
            token: token.into(),
            token_secret: token_secret.into(),
        }
    }
}

impl fmt::Debug for Oauth1Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Oauth1Credentials")
            .field("consumer_key", &self.consumer_key)
            .field("consumer_secret", &"<redacted>")
            .field("token", &self.token)
            .field("token_secret", &"<redacted>")
            .finish()
    }
}

/// One request as the verifier sees it.
#[derive(Debug, Clone, Copy)]
pub struct Oauth1Request<'a> {
    /// The HTTP method, e.g. `GET`.
    pub method: &'a str,
    /// The full request URL as the client addressed it, query included:
    /// `https://host[:port]/path?query`.
    pub url: &'a str,
    /// The value of the `Authorization` header (`OAuth realm="...", oauth_...`).
    pub authorization: &'a str,
    /// The body, when it is `application/x-www-form-urlencoded` (its
    /// parameters are signed too); `None` otherwise.
    pub form_body: Option<&'a [u8]>,
}

/// What a successfully verified request carried.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// `oauth_consumer_key`.
    pub consumer_key: String,
    /// `oauth_token`, if present.
    pub token: Option<String>,
    /// `oauth_timestamp`.
    pub timestamp: u64,
    /// `oauth_nonce`.
    pub nonce: String,
}

/// Why a request failed verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Oauth1Error {
    /// The `Authorization` header does not use the `OAuth` scheme.
    #[error("the Authorization header does not use the OAuth scheme")]
    NotOauth,
    /// The header or the URL could not be parsed.
    #[error("malformed OAuth request: {0}")]
    Malformed(String),
    /// A mandatory protocol parameter is absent.
    #[error("missing OAuth parameter {0}")]
    MissingParameter(&'static str),
    /// A protocol parameter appears twice in the header.
    #[error("duplicate OAuth parameter {0}")]
    DuplicateParameter(String),
    /// `oauth_signature_method` is not `HMAC-SHA1`.
    #[error("unsupported oauth_signature_method {0:?} (expected HMAC-SHA1)")]
    UnsupportedSignatureMethod(String),
    /// `oauth_version` is present and not `1.0`.
    #[error("unsupported oauth_version {0:?} (expected 1.0)")]
    UnsupportedVersion(String),
    /// `oauth_timestamp` is not a number of seconds.
    #[error("oauth_timestamp {0:?} is not a number")]
    BadTimestamp(String),
    /// `oauth_consumer_key` is not the expected one.
    #[error("unknown oauth_consumer_key")]
    UnknownConsumerKey,
    /// `oauth_token` is absent, or not the expected one.
    #[error("unknown or missing oauth_token")]
    UnknownToken,
    /// The signature does not match the request.
    #[error("oauth_signature does not match the request")]
    BadSignature,
}

/// Percent-encodes `s` as RFC 5849 section 3.6 requires.
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, OAUTH_ENCODE).to_string()
}

fn decode(s: &str) -> String {
    percent_decode(s.as_bytes())
        .decode_utf8_lossy()
        .into_owned()
}

/// Parses `application/x-www-form-urlencoded` pairs (`+` is a space),
/// as RFC 5849 section 3.4.1.3.1 requires for the query and the body.
pub fn parse_form(input: &[u8]) -> Vec<(String, String)> {
    input
        .split(|&b| b == b'&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let plus_decoded: Vec<u8> = part
                .iter()
                .map(|&b| if b == b'+' { b' ' } else { b })
                .collect();
            let (name, value) = match plus_decoded.iter().position(|&b| b == b'=') {
                Some(eq) => (&plus_decoded[..eq], &plus_decoded[eq + 1..]),
                None => (&plus_decoded[..], &[][..]),
            };
            (
                percent_decode(name).decode_utf8_lossy().into_owned(),
                percent_decode(value).decode_utf8_lossy().into_owned(),
            )
        })
        .collect()
}

/// Parses an `Authorization: OAuth ...` header value into its decoded
/// parameters, `realm` excluded (RFC 5849 section 3.5.1).
pub fn parse_authorization(header: &str) -> Result<Vec<(String, String)>, Oauth1Error> {
    let header = header.trim_start();
    let rest = match header.split_once(char::is_whitespace) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("OAuth") => rest,
        None if header.eq_ignore_ascii_case("OAuth") => "",
        _ => return Err(Oauth1Error::NotOauth),
    };
    let mut params: Vec<(String, String)> = Vec::new();
    for item in rest.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (name, value) = item
            .split_once('=')
            .ok_or_else(|| Oauth1Error::Malformed(format!("parameter without value: {item}")))?;
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .ok_or_else(|| Oauth1Error::Malformed(format!("unquoted value for {name}")))?;
        let name = decode(name.trim());
        if name == "realm" {
            continue;
        }
        if params.iter().any(|(n, _)| *n == name) {
            return Err(Oauth1Error::DuplicateParameter(name));
        }
        params.push((name, decode(value)));
    }
    Ok(params)
}

/// The base string URI of RFC 5849 section 3.4.1.2: lowercase scheme and
/// host, the port only when it is not the scheme's default, the path, no
/// query and no fragment.
pub fn base_string_uri(url: &str) -> Result<String, Oauth1Error> {
    let parsed = url::Url::parse(url).map_err(|e| Oauth1Error::Malformed(format!("{url}: {e}")))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| Oauth1Error::Malformed(format!("{url}: no host")))?;
    let mut out = format!("{}://{}", parsed.scheme(), host.to_ascii_lowercase());
    // `Url::port` is `None` for the scheme's default port.
    if let Some(port) = parsed.port() {
        out.push(':');
        out.push_str(&port.to_string());
    }
    out.push_str(parsed.path());
    Ok(out)
}

/// The normalized request parameters of RFC 5849 section 3.4.1.3.2: names
/// and values encoded, sorted by name then value, joined with `=` and `&`.
pub fn normalized_parameters(params: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> =
        params.iter().map(|(n, v)| (encode(n), encode(v))).collect();
    encoded.sort();
    let mut out = String::new();
    for (i, (n, v)) in encoded.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(n);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// The signature base string of RFC 5849 section 3.4.1. `params` are the
/// decoded protocol parameters (without `oauth_signature` and `realm`) plus
/// the form body's; the URL's query parameters are added here.
pub fn signature_base_string(
    method: &str,
    url: &str,
    params: &[(String, String)],
) -> Result<String, Oauth1Error> {
    let uri = base_string_uri(url)?;
    let mut all: Vec<(String, String)> = params.to_vec();
    let query = url::Url::parse(url)
        .map_err(|e| Oauth1Error::Malformed(format!("{url}: {e}")))?
        .query()
        .map(|q| parse_form(q.as_bytes()))
        .unwrap_or_default();
    all.extend(query);
    Ok(format!(
        "{}&{}&{}",
        encode(&method.to_ascii_uppercase()),
        encode(&uri),
        encode(&normalized_parameters(&all))
    ))
}

fn signing_key(consumer_secret: &str, token_secret: &str) -> String {
    format!("{}&{}", encode(consumer_secret), encode(token_secret))
}

fn mac(base_string: &str, consumer_secret: &str, token_secret: &str) -> Hmac<Sha1> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac =
        <Hmac<Sha1> as Mac>::new_from_slice(signing_key(consumer_secret, token_secret).as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(base_string.as_bytes());
    mac
}

/// The base64 HMAC-SHA1 signature of a base string (RFC 5849 section 3.4.2),
/// keyed with `encode(consumer_secret) & encode(token_secret)`.
pub fn hmac_sha1_signature(base_string: &str, consumer_secret: &str, token_secret: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(
        mac(base_string, consumer_secret, token_secret)
            .finalize()
            .into_bytes(),
    )
}

fn single<'p>(params: &'p [(String, String)], name: &'static str) -> Option<&'p str> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Verifies a request signed with HMAC-SHA1 against the expected
/// credentials: consumer key and token must match, the mandatory
/// parameters must be present, and the signature must match the signature
/// base string rebuilt from the method, URL, query, form body and protocol
/// parameters.
///
/// Timestamps and nonces are returned, not judged: replay protection is the
/// caller's business (the mock server rejects a nonce it has already seen).
pub fn verify(
    request: &Oauth1Request<'_>,
    credentials: &Oauth1Credentials,
) -> Result<Verified, Oauth1Error> {
    let mut params = parse_authorization(request.authorization)?;
    let signature = params
        .iter()
        .position(|(n, _)| n == "oauth_signature")
        .map(|at| params.remove(at).1)
        .ok_or(Oauth1Error::MissingParameter("oauth_signature"))?;
    let method = single(&params, "oauth_signature_method")
        .ok_or(Oauth1Error::MissingParameter("oauth_signature_method"))?;
    if method != "HMAC-SHA1" {
        return Err(Oauth1Error::UnsupportedSignatureMethod(method.to_owned()));
    }
    if let Some(version) = single(&params, "oauth_version") {
        if version != "1.0" {
            return Err(Oauth1Error::UnsupportedVersion(version.to_owned()));
        }
    }
    let consumer_key = single(&params, "oauth_consumer_key")
        .ok_or(Oauth1Error::MissingParameter("oauth_consumer_key"))?;
    if consumer_key != credentials.consumer_key {
        return Err(Oauth1Error::UnknownConsumerKey);
    }
    let token = single(&params, "oauth_token").filter(|t| !t.is_empty());
    if token.unwrap_or("") != credentials.token {
        return Err(Oauth1Error::UnknownToken);
    }
    let timestamp_text = single(&params, "oauth_timestamp")
        .ok_or(Oauth1Error::MissingParameter("oauth_timestamp"))?;
    let timestamp: u64 = timestamp_text
        .parse()
        .map_err(|_| Oauth1Error::BadTimestamp(timestamp_text.to_owned()))?;
    let nonce = single(&params, "oauth_nonce")
        .ok_or(Oauth1Error::MissingParameter("oauth_nonce"))?
        .to_owned();
    let verified = Verified {
        consumer_key: consumer_key.to_owned(),
        token: token.map(str::to_owned),
        timestamp,
        nonce,
    };

    let mut signed = params;
    if let Some(body) = request.form_body {
        signed.extend(parse_form(body));
    }
    let base = signature_base_string(request.method, request.url, &signed)?;
    let expected = base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .map_err(|_| Oauth1Error::BadSignature)?;
    mac(
        &base,
        &credentials.consumer_secret,
        &credentials.token_secret,
    )
    .verify_slice(&expected)
    .map_err(|_| Oauth1Error::BadSignature)?;
    Ok(verified)
}

/// Signs a request and returns the `Authorization` header value, for tests
/// that need a correctly signed request to send to the mock. Query
/// parameters of `url` are signed; a form body is not supported here.
pub fn authorization_header(
    method: &str,
    url: &str,
    credentials: &Oauth1Credentials,
    timestamp: u64,
    nonce: &str,
) -> Result<String, Oauth1Error> {
    let mut params = vec![
        (
            "oauth_consumer_key".to_owned(),
            credentials.consumer_key.clone(),
        ),
        ("oauth_nonce".to_owned(), nonce.to_owned()),
        ("oauth_signature_method".to_owned(), "HMAC-SHA1".to_owned()),
        ("oauth_timestamp".to_owned(), timestamp.to_string()),
        ("oauth_version".to_owned(), "1.0".to_owned()),
    ];
    if !credentials.token.is_empty() {
        params.push(("oauth_token".to_owned(), credentials.token.clone()));
    }
    let base = signature_base_string(method, url, &params)?;
    let signature = hmac_sha1_signature(
        &base,
        &credentials.consumer_secret,
        &credentials.token_secret,
    );
    params.push(("oauth_signature".to_owned(), signature));
    let fields: Vec<String> = params
        .iter()
        .map(|(n, v)| format!("{}=\"{}\"", encode(n), encode(v)))
        .collect();
    Ok(format!("OAuth {}", fields.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5849 section 3.4.1.1's example request.
    #[test]
    fn rfc5849_section_3_4_1_base_string() {
        let header = r#"OAuth realm="Example",
            oauth_consumer_key="9djdj82h48djs9d2",
            oauth_token="kkk9d7dh3k39sjv7",
            oauth_signature_method="HMAC-SHA1",
            oauth_timestamp="137131201",
            oauth_nonce="7d8f3e4a",
            oauth_signature="bYT5CMsGcbgUdFHObYMEfcx6bsw%3D""#;
        let mut params = parse_authorization(header).unwrap_or_default();
        params.retain(|(n, _)| n != "oauth_signature");
        params.extend(parse_form(b"c2&a3=2+q"));
        let base = signature_base_string(
            "POST",
            "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b",
            &params,
        );
        assert_eq!(
            base.as_deref(),
            Ok(
                "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q\
                %26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_\
                key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m\
                ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk\
                9d7dh3k39sjv7"
            )
        );
    }

    /// RFC 5849 section 3.4.1.2's base string URI examples.
    #[test]
    fn rfc5849_base_string_uri() {
        assert_eq!(
            base_string_uri("HTTP://EXAMPLE.COM:80/r%20v/X?id=123").as_deref(),
            Ok("http://example.com/r%20v/X")
        );
        assert_eq!(
            base_string_uri("https://www.example.net:8080/?q=1").as_deref(),
            Ok("https://www.example.net:8080/")
        );
    }

    /// RFC 5849 section 3.4.1.3.2's normalization example.
    #[test]
    fn rfc5849_normalized_parameters() {
        let mut params = parse_form(b"b5=%3D%253D&a3=a&c%40=&a2=r%20b");
        params.extend(parse_form(b"c2&a3=2+q"));
        params.extend([
            ("oauth_consumer_key".into(), "9djdj82h48djs9d2".into()),
            ("oauth_token".into(), "kkk9d7dh3k39sjv7".into()),
            ("oauth_signature_method".into(), "HMAC-SHA1".into()),
            ("oauth_timestamp".into(), "137131201".into()),
            ("oauth_nonce".into(), "7d8f3e4a".into()),
        ]);
        assert_eq!(
            normalized_parameters(&params),
            "a2=r%20b&a3=2%20q&a3=a&b5=%3D%253D&c%40=&c2=&oauth_consumer_key=9dj\
             dj82h48djs9d2&oauth_nonce=7d8f3e4a&oauth_signature_method=HMAC-SHA1\
             &oauth_timestamp=137131201&oauth_token=kkk9d7dh3k39sjv7"
        );
    }

    fn photos_client(token: &str, token_secret: &str) -> Oauth1Credentials {
        Oauth1Credentials::new("dpf43f3p2l4k3l03", "kd94hf93k423kf44", token, token_secret)
    }

    /// RFC 5849 section 1.2: the temporary credentials request (no token).
    #[test]
    fn rfc5849_section_1_2_initiate() {
        let authorization = r#"OAuth realm="Photos",
            oauth_consumer_key="dpf43f3p2l4k3l03",
            oauth_signature_method="HMAC-SHA1",
            oauth_timestamp="137131200",
            oauth_nonce="wIjqoS",
            oauth_callback="http%3A%2F%2Fprinter.example.com%2Fready",
            oauth_signature="74KNZJeDHnMBp0EMJ9ZHt%2FXKycU%3D""#;
        let request = Oauth1Request {
            method: "POST",
            url: "https://photos.example.net/initiate",
            authorization,
            form_body: None,
        };
        let verified = verify(&request, &photos_client("", ""));
        assert_eq!(verified.map(|v| v.nonce), Ok("wIjqoS".to_owned()));
    }

    /// RFC 5849 section 1.2: the token request, signed with the temporary
    /// token secret.
    #[test]
    fn rfc5849_section_1_2_token() {
        let authorization = r#"OAuth realm="Photos",
            oauth_consumer_key="dpf43f3p2l4k3l03",
            oauth_token="hh5s93j4hdidpola",
            oauth_signature_method="HMAC-SHA1",
            oauth_timestamp="137131201",
            oauth_nonce="walatlh",
            oauth_verifier="hfdp7dh39dks9884",
            oauth_signature="gKgrFCywp7rO0OXSjdot%2FIHF7IU%3D""#;
        let request = Oauth1Request {
            method: "POST",
            url: "https://photos.example.net/token",
            authorization,
            form_body: None,
        };
        let credentials = photos_client("hh5s93j4hdidpola", "hdhd0244k9j7ao03");
        assert!(verify(&request, &credentials).is_ok());
    }

    /// RFC 5849 section 1.2: the protected resource request.
    #[test]
    fn rfc5849_section_1_2_resource() {
        let authorization = r#"OAuth realm="Photos",
            oauth_consumer_key="dpf43f3p2l4k3l03",
            oauth_token="nnch734d00sl2jdk",
            oauth_signature_method="HMAC-SHA1",
            oauth_timestamp="137131202",
            oauth_nonce="chapoH",
            oauth_signature="MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D""#;
        let credentials = photos_client("nnch734d00sl2jdk", "pfkkdhi9sl3r4s00");
        let request = Oauth1Request {
            method: "GET",
            url: "http://photos.example.net/photos?file=vacation.jpg&size=original",
            authorization,
            form_body: None,
        };
        assert!(verify(&request, &credentials).is_ok());

        // Any change to what is signed breaks the signature.
        let tampered = Oauth1Request {
            url: "http://photos.example.net/photos?file=vacation.jpg&size=large",
            ..request
        };
        assert_eq!(
            verify(&tampered, &credentials),
            Err(Oauth1Error::BadSignature)
        );
        let wrong_secret = photos_client("nnch734d00sl2jdk", "other");
        assert_eq!(
            verify(&request, &wrong_secret),
            Err(Oauth1Error::BadSignature)
        );
        let wrong_token = photos_client("other", "pfkkdhi9sl3r4s00");
        assert_eq!(
            verify(&request, &wrong_token),
            Err(Oauth1Error::UnknownToken)
        );
    }

    #[test]
    fn rejects_other_methods_and_schemes() {
        let credentials = photos_client("t", "s");
        let request = Oauth1Request {
            method: "GET",
            url: "http://h/p",
            authorization: "Bearer abc",
            form_body: None,
        };
        assert_eq!(verify(&request, &credentials), Err(Oauth1Error::NotOauth));
        let plaintext = r#"OAuth oauth_consumer_key="dpf43f3p2l4k3l03", oauth_token="t",
            oauth_signature_method="PLAINTEXT", oauth_timestamp="1", oauth_nonce="n",
            oauth_signature="x""#;
        assert_eq!(
            verify(
                &Oauth1Request {
                    authorization: plaintext,
                    ..request
                },
                &credentials
            ),
            Err(Oauth1Error::UnsupportedSignatureMethod("PLAINTEXT".into()))
        );
    }

    #[test]
    fn signer_round_trips_with_odd_characters() {
        let credentials = Oauth1Credentials::new("c k", "s&e=c", "t+k", "ts/ä");
        let url = "https://[::1]:8443/api/session/remotesessions?a=%C3%A9&b=x+y&c";
        let header = authorization_header("get", url, &credentials, 42, "n o").unwrap_or_default();
        let request = Oauth1Request {
            method: "GET",
            url,
            authorization: &header,
            form_body: None,
        };
        let verified = verify(&request, &credentials);
        assert_eq!(
            verified.map(|v| (v.timestamp, v.nonce)),
            Ok((42, "n o".to_owned()))
        );
    }

    #[test]
    fn debug_redacts_secrets() {
        let credentials = Oauth1Credentials::new("ck", "cs", "tk", "ts");
        assert_eq!(
            format!("{credentials:?}"),
            "Oauth1Credentials { consumer_key: \"ck\", consumer_secret: \"<redacted>\", \
             token: \"tk\", token_secret: \"<redacted>\" }"
        );
    }
}
