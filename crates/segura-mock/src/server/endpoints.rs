//! The four endpoints: the OAuth 2.0 token, the streamed list, one session by id, and
//! the drop.

use base64::Engine as _;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};

use super::reply::{json, respond, Ctx};
use crate::body::{full, Body, Producer, Source};
use crate::config::TokenAuth;
use crate::envelope;
use crate::generator::ListSource;
use crate::oauth1;
use crate::state::{bump, Shared};

/// Largest token request body read.
const MAX_FORM_BYTES: usize = 64 * 1024;

pub(super) fn accepts_gzip(req: &Request<Incoming>) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                let p = p.trim().replace(' ', "");
                p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000"
            });
            coding.eq_ignore_ascii_case("gzip") && !refused
        })
}

pub(super) fn list(ctx: &Ctx, gzip: bool, if_none_match: Option<&HeaderValue>) -> Response<Body> {
    let shared = &ctx.shared;
    let count = shared.session_count();
    let ended = shared.ended();
    // A function of the dataset: the count and the ended sessions (which only grow).
    let etag = shared
        .variants
        .etags
        .then(|| format!("\"{count:x}-{:x}-{:x}\"", ended.below, ended.indexes.len()));
    if let Some(tag) = &etag {
        let matches = if_none_match
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
        if matches {
            bump(&shared.counters.not_modified);
            let mut response = respond(StatusCode::NOT_MODIFIED, "application/json", full(""));
            response.headers_mut().remove(header::CONTENT_TYPE);
            if let Ok(value) = HeaderValue::from_str(tag) {
                response.headers_mut().insert(header::ETAG, value);
            }
            return response;
        }
    }
    let plan = &ctx.plan;
    let shaped = plan.delay.is_some() || plan.drip.is_some() || plan.cut.is_some() || plan.stall;
    let ahead = (gzip && !shaped && !shared.variants.nested_envelope)
        .then(|| shared.gzip_ahead_body())
        .flatten();
    if let Some(body) = ahead {
        bump(&shared.counters.gzip_responses);
        shared
            .counters
            .sessions_streamed
            .fetch_add(shared.session_count(), std::sync::atomic::Ordering::Relaxed);
        let body = Producer::spawn(
            Source::Ahead(body),
            plan,
            false,
            ctx.conn.clone(),
            shared.clone(),
        );
        let mut response = respond(StatusCode::OK, "application/json", body);
        if let Some(value) = etag.as_deref().and_then(|t| HeaderValue::from_str(t).ok()) {
            response.headers_mut().insert(header::ETAG, value);
        }
        return gzip_headers(response);
    }
    let source = ListSource::new(
        shared.generator.clone(),
        &shared.tenant,
        count,
        ended,
        ctx.plan.cut.map(|(n, _)| n),
    )
    .nested(shared.variants.nested_envelope);
    if gzip {
        bump(&shared.counters.gzip_responses);
    }
    let body = Producer::spawn(
        Source::List {
            list: source,
            delay: ctx.plan.delay,
        },
        &ctx.plan,
        gzip,
        ctx.conn.clone(),
        shared.clone(),
    );
    let mut response = respond(StatusCode::OK, "application/json", body);
    if let Some(value) = etag.and_then(|t| HeaderValue::from_str(&t).ok()) {
        response.headers_mut().insert(header::ETAG, value);
    }
    if gzip {
        gzip_headers(response)
    } else {
        response
    }
}

fn gzip_headers(mut response: Response<Body>) -> Response<Body> {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

pub(super) async fn get(ctx: &Ctx, id: &str) -> Response<Body> {
    let shared = &ctx.shared;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return ctx
            .finish_json(
                StatusCode::BAD_REQUEST,
                envelope::unexpected_identifier(&shared.tenant),
            )
            .await;
    }
    let index = id
        .parse::<u64>()
        .ok()
        .and_then(|id| shared.generator.index_of_id(id))
        .filter(|index| *index < shared.session_count());
    let Some(index) = index else {
        return ctx
            .finish_json(
                StatusCode::BAD_REQUEST,
                envelope::session_not_found(&shared.tenant),
            )
            .await;
    };
    let mut session = Vec::with_capacity(512);
    let ended = shared.ended().contains(index);
    shared.generator.write_session(index, ended, &mut session);
    ctx.finish_json(
        StatusCode::OK,
        envelope::one_session(&shared.tenant, &session),
    )
    .await
}

pub(super) async fn drop_session(ctx: &Ctx, hash: &str, legacy: bool) -> Response<Body> {
    let shared = &ctx.shared;
    if hash.len() != 40 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return ctx
            .finish_json(
                StatusCode::BAD_REQUEST,
                envelope::unexpected_identifier(&shared.tenant),
            )
            .await;
    }
    let found = shared
        .generator
        .index_of_hash(hash)
        .filter(|index| shared.end_index(*index));
    if found.is_none() {
        return ctx
            .finish_json(
                StatusCode::BAD_REQUEST,
                envelope::session_not_found(&shared.tenant),
            )
            .await;
    }
    bump(&shared.counters.sessions_dropped);
    let body = if legacy {
        envelope::LEGACY_DROPPED.as_bytes().to_vec()
    } else {
        envelope::dropped(&shared.tenant)
    };
    ctx.finish_json(StatusCode::OK, body).await
}

/// The keys of a web proxy session request the API requires, in the order they are
/// checked.
const WEB_SESSION_REQUIRED: [&str; 4] = ["user", "credential", "device", "protocol"];

/// `POST /api/pam/remote/session` (or the older `/api/remote/session`, `legacy`): checks
/// the JSON body as the API does (the four required keys present and non-empty strings,
/// `port` and `remoteapp` integers, `screensize` `WIDTHxHEIGHT`), answering 400 with the
/// error envelope naming the first wrong key; else creates a session with a fresh
/// opaque URL and token.
pub(super) async fn web_session(ctx: &Ctx, req: Request<Incoming>, legacy: bool) -> Response<Body> {
    let shared = &ctx.shared;
    let scheme = if ctx.conn.tls { "https" } else { "http" };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost")
        .to_owned();
    let refuse = |message: String| envelope::error_envelope(&shared.tenant, 400, &message, None);
    let body = match Limited::new(req.into_body(), MAX_FORM_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return ctx
                .finish_json(
                    StatusCode::BAD_REQUEST,
                    refuse("The request body could not be read".into()),
                )
                .await
        }
    };
    let fields = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => {
            return ctx
                .finish_json(
                    StatusCode::BAD_REQUEST,
                    refuse("The request body must be a JSON object".into()),
                )
                .await
        }
    };
    let problem = WEB_SESSION_REQUIRED
        .iter()
        .find(|k| {
            fields
                .get(**k)
                .and_then(serde_json::Value::as_str)
                .is_none_or(|v| v.trim().is_empty())
        })
        .map(|k| format!("The field {k} is required"))
        .or_else(|| {
            ["port", "remoteapp"]
                .iter()
                .find(|k| fields.get(**k).is_some_and(|v| !v.is_u64()))
                .map(|k| format!("The field {k} must be an integer"))
        })
        .or_else(|| {
            let size = fields.get("screensize")?;
            let ok = size
                .as_str()
                .and_then(|s| s.split_once('x'))
                .is_some_and(|(w, h)| {
                    [w, h]
                        .iter()
                        .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                });
            (!ok).then(|| "The field screensize must be WIDTHxHEIGHT".to_owned())
        });
    if let Some(message) = problem {
        return ctx
            .finish_json(StatusCode::BAD_REQUEST, refuse(message))
            .await;
    }
    bump(&shared.counters.web_sessions_created);
    let url = format!(
        "{scheme}://{host}/modulos/auth?_sr={}",
        crate::state::random_hex(32)
    );
    let token = crate::state::random_hex(32);
    *crate::state::lock(&shared.last_web_session) = Some((url.clone(), token.clone()));
    ctx.finish_json(
        StatusCode::OK,
        envelope::web_session_created(&shared.tenant, &url, &token, legacy),
    )
    .await
}

/// `(client_id, client_secret)` from an HTTP Basic header, decoding the
/// form-urlencoding RFC 6749 section 2.3.1 asks clients to apply.
fn basic_credentials(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("Basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

fn form_decode(s: &str) -> String {
    oauth1::parse_form(format!("x={s}").as_bytes())
        .pop()
        .map(|(_, v)| v)
        .unwrap_or_default()
}

fn token_error(
    shared: &Shared,
    status: StatusCode,
    error: &str,
    description: &str,
) -> Response<Body> {
    bump(&shared.counters.token_rejections);
    let body = serde_json::json!({
        "error": error,
        "error_description": description,
        "message": description,
    });
    json(status, body.to_string())
}

pub(super) async fn token(ctx: &Ctx, req: Request<Incoming>) -> Response<Body> {
    let shared = &ctx.shared;
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(basic_credentials);
    let body = match Limited::new(req.into_body(), MAX_FORM_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return token_error(
                shared,
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The request body could not be read",
            )
        }
    };
    let form = oauth1::parse_form(&body);
    let field = |name: &str| {
        form.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    match field("grant_type") {
        Some("client_credentials") => {}
        None => {
            return token_error(
                shared,
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The grant type was not specified in the request",
            )
        }
        Some(_) => {
            return token_error(
                shared,
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
            )
        }
    }
    let used_basic = basic.is_some();
    let accepted = match &basic {
        Some((id, secret)) => {
            let exact = *id == shared.client_id && *secret == shared.client_secret;
            exact
                || (form_decode(id) == shared.client_id
                    && form_decode(secret) == shared.client_secret)
        }
        None if shared.variants.token_auth == TokenAuth::BasicOnly => false,
        None => {
            field("client_id") == Some(shared.client_id.as_str())
                && field("client_secret") == Some(shared.client_secret.as_str())
        }
    };
    if !accepted {
        bump(&shared.counters.token_rejections);
        let mut response = json(StatusCode::UNAUTHORIZED, envelope::INVALID_CLIENT);
        if used_basic {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"segura\""),
            );
        }
        return response;
    }
    let token = shared.issue_token();
    let lifetime = shared.token_lifetime;
    let expires_in = lifetime.as_secs() + u64::from(lifetime.subsec_nanos() > 0);
    let body = format!(
        "{{\"token_type\":\"Bearer\",\"expires_in\":{expires_in},\"access_token\":\"{token}\"}}"
    );
    let mut response = ctx.finish_json(StatusCode::OK, body).await;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_decoded() {
        let header = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("my%20id:s%3Acret")
        );
        let (id, secret) = basic_credentials(&header).unwrap_or_default();
        assert_eq!(
            (form_decode(&id), form_decode(&secret)),
            ("my id".into(), "s:cret".into())
        );
        assert_eq!(basic_credentials("Bearer x"), None);
    }
}
