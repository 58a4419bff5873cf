//! OAuth 1.0a request signing with HMAC-SHA1 (RFC 5849, sections 3.4 and 3.5.1).
//!
//! Pure functions: the nonce and the timestamp are inputs ([`Signer::header_with`]), so
//! a signature is a function of the request alone and tests are deterministic. The
//! generic client draws them (random nonce, current time) for each attempt.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha1::Sha1;
use url::Url;

/// RFC 5849 section 3.6: everything but `ALPHA / DIGIT / "-" / "." / "_" / "~"`.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes as RFC 5849 section 3.6 requires (UTF-8, upper-case hex).
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// The base string URI (section 3.4.1.2): lower-case scheme and host, the port only when
/// it is not the scheme's default, the path; no query, no fragment.
pub fn base_string_uri(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let mut out = format!("{}://{host}", url.scheme());
    // `Url::port` is `None` for the scheme's default port.
    if let Some(port) = url.port() {
        out.push(':');
        out.push_str(&port.to_string());
    }
    out.push_str(url.path());
    out
}

/// The signature base string (section 3.4.1): the method, the base string URI, and the
/// normalised parameters: the URL's query, `extra` (a form body's parameters) and the
/// protocol parameters `oauth` (without `oauth_signature` and `realm`).
pub fn signature_base_string(
    method: &str,
    url: &Url,
    oauth: &[(&str, &str)],
    extra: &[(&str, &str)],
) -> String {
    let mut params: Vec<(String, String)> = url
        .query_pairs()
        .map(|(n, v)| (encode(&n), encode(&v)))
        .chain(
            oauth
                .iter()
                .chain(extra)
                .map(|(n, v)| (encode(n), encode(v))),
        )
        .collect();
    params.sort();
    let normalized = params
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        encode(&method.to_ascii_uppercase()),
        encode(&base_string_uri(url)),
        encode(&normalized)
    )
}

/// The HMAC-SHA1 signature of a base string, base64 (section 3.4.2).
pub fn hmac_sha1(base_string: &str, consumer_secret: &str, token_secret: &str) -> String {
    let key = format!("{}&{}", encode(consumer_secret), encode(token_secret));
    // HMAC takes keys of any length: `new_from_slice` cannot fail here.
    let mut mac = match Hmac::<Sha1>::new_from_slice(key.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(base_string.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The credentials of one OAuth 1.0a client, borrowed for signing.
#[derive(Clone, Copy)]
pub struct Signer<'a> {
    /// `oauth_consumer_key`.
    pub consumer_key: &'a str,
    /// The consumer secret (half of the HMAC key).
    pub consumer_secret: &'a str,
    /// `oauth_token`; empty for none.
    pub token: &'a str,
    /// The token secret (the other half of the HMAC key).
    pub token_secret: &'a str,
}

impl std::fmt::Debug for Signer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("consumer_key", &self.consumer_key)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl Signer<'_> {
    /// The `Authorization` header value for one request, with the given nonce and
    /// timestamp (section 3.5.1).
    pub fn header_with(&self, method: &str, url: &Url, nonce: &str, timestamp: u64) -> String {
        let timestamp = timestamp.to_string();
        let mut oauth: Vec<(&str, &str)> = vec![
            ("oauth_consumer_key", self.consumer_key),
            ("oauth_nonce", nonce),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", &timestamp),
            ("oauth_version", "1.0"),
        ];
        if !self.token.is_empty() {
            oauth.push(("oauth_token", self.token));
        }
        let base = signature_base_string(method, url, &oauth, &[]);
        let signature = hmac_sha1(&base, self.consumer_secret, self.token_secret);
        oauth.push(("oauth_signature", &signature));
        oauth.sort();
        let fields = oauth
            .iter()
            .map(|(n, v)| format!("{n}=\"{}\"", encode(v)))
            .collect::<Vec<_>>()
            .join(", ");
        format!("OAuth {fields}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    /// RFC 5849 section 1.2, the protected resource request.
    #[test]
    fn rfc5849_section_1_2_resource_request() {
        let u = url("http://photos.example.net/photos?file=vacation.jpg&size=original");
        let oauth = [
            ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
            ("oauth_token", "nnch734d00sl2jdk"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131202"),
            ("oauth_nonce", "chapoH"),
        ];
        let base = signature_base_string("GET", &u, &oauth, &[]);
        assert_eq!(
            base,
            "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26\
             oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3DchapoH%26\
             oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131202%26\
             oauth_token%3Dnnch734d00sl2jdk%26size%3Doriginal"
        );
        assert_eq!(
            hmac_sha1(&base, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00"),
            "MdpQcU8iPSUjWoN/UDMsK2sui9I="
        );
    }

    /// RFC 5849 section 1.2, the temporary credentials request (no token yet).
    #[test]
    fn rfc5849_section_1_2_temporary_credentials() {
        let u = url("https://photos.example.net/initiate");
        let oauth = [
            ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131200"),
            ("oauth_nonce", "wIjqoS"),
            ("oauth_callback", "http://printer.example.com/ready"),
        ];
        let base = signature_base_string("POST", &u, &oauth, &[]);
        assert_eq!(
            hmac_sha1(&base, "kd94hf93k423kf44", ""),
            "74KNZJeDHnMBp0EMJ9ZHt/XKycU="
        );
    }

    /// RFC 5849 section 3.4.1.1: the example's signature base string, query and form
    /// parameters included, encoded twice where the RFC says so.
    #[test]
    fn rfc5849_section_3_4_1_base_string() {
        let u = url("http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b");
        let oauth = [
            ("oauth_consumer_key", "9djdj82h48djs9d2"),
            ("oauth_token", "kkk9d7dh3k39sjv7"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131201"),
            ("oauth_nonce", "7d8f3e4a"),
        ];
        let form = [("c2", ""), ("a3", "2 q")];
        assert_eq!(
            signature_base_string("POST", &u, &oauth, &form),
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q\
             %26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_\
             key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m\
             ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk\
             9d7dh3k39sjv7"
        );
    }

    /// RFC 5849 section 3.4.1.2: the base string URI examples.
    #[test]
    fn rfc5849_section_3_4_1_2_base_string_uri() {
        assert_eq!(
            base_string_uri(&url("HTTP://EXAMPLE.COM:80/r%20v/X?id=123")),
            "http://example.com/r%20v/X"
        );
        assert_eq!(
            base_string_uri(&url("https://www.example.net:8080/?q=1")),
            "https://www.example.net:8080/"
        );
    }

    #[test]
    fn encoding_follows_section_3_6() {
        assert_eq!(encode("Ladies + Gentlemen"), "Ladies%20%2B%20Gentlemen");
        assert_eq!(encode("An encoded string!"), "An%20encoded%20string%21");
        assert_eq!(encode("Dogs, Cats & Mice"), "Dogs%2C%20Cats%20%26%20Mice");
        assert_eq!(encode("☃"), "%E2%98%83");
        assert_eq!(encode("-._~"), "-._~");
    }

    #[test]
    fn header_carries_every_mandatory_parameter() {
        let signer = Signer {
            consumer_key: "ck",
            consumer_secret: "cs",
            token: "tok",
            token_secret: "ts",
        };
        let u = url("https://127.0.0.1:8443/api/session/remotesessions");
        let h = signer.header_with("GET", &u, "abc", 1_700_000_000);
        let base = signature_base_string(
            "GET",
            &u,
            &[
                ("oauth_consumer_key", "ck"),
                ("oauth_nonce", "abc"),
                ("oauth_signature_method", "HMAC-SHA1"),
                ("oauth_timestamp", "1700000000"),
                ("oauth_version", "1.0"),
                ("oauth_token", "tok"),
            ],
            &[],
        );
        let sig = encode(&hmac_sha1(&base, "cs", "ts"));
        assert_eq!(
            h,
            format!(
                "OAuth oauth_consumer_key=\"ck\", oauth_nonce=\"abc\", \
                 oauth_signature=\"{sig}\", oauth_signature_method=\"HMAC-SHA1\", \
                 oauth_timestamp=\"1700000000\", oauth_token=\"tok\", oauth_version=\"1.0\""
            )
        );
        // The nonce and the time are inputs: a new nonce, a new signature.
        assert_ne!(h, signer.header_with("GET", &u, "abd", 1_700_000_000));
    }
}
