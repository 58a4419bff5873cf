//! One request from arrival to answer: its route, the counters, the faults that apply
//! to it (from the header, else the queue and the standing ones), the gateway's
//! credential check, then the endpoint.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::auth::{authenticate, oauth1_rejected, Denied};
use super::endpoints::{accepts_gzip, drop_session, get, list, token, web_session};
use super::reply::{json, no_route, unauthorized, Ctx};
use crate::body::{Body, ConnInfo};
use crate::config::{PathFamilies, TokenPaths, Variants};
use crate::envelope;
use crate::fault::{parse_fault_list, Fault, FaultPlan, FaultTarget, FAULT_HEADER};
use crate::state::{bump, lock, random_hex, Shared};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Token,
    List,
    Get(String),
    /// The hash, and whether the older path (`/iso/session/drop/`) was used.
    Drop(String, bool),
    /// Whether the older path (`/api/remote/session`) was used.
    WebSession(bool),
    Unknown,
}

impl Route {
    fn target(&self) -> Option<FaultTarget> {
        match self {
            Route::Token => Some(FaultTarget::Token),
            Route::List => Some(FaultTarget::List),
            Route::Get(_) => Some(FaultTarget::Get),
            Route::Drop(..) => Some(FaultTarget::Drop),
            Route::WebSession(_) => Some(FaultTarget::WebSession),
            Route::Unknown => None,
        }
    }
}

fn last_segment<'p>(path: &'p str, prefixes: &[&str]) -> Option<&'p str> {
    prefixes
        .iter()
        .filter_map(|prefix| path.strip_prefix(prefix))
        .find(|rest| !rest.is_empty() && !rest.contains('/'))
}

fn decode_segment(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

fn route(method: &Method, path: &str, variants: &Variants) -> Route {
    let path = match path.strip_suffix('/') {
        Some(p) if !p.is_empty() => p,
        _ => path,
    };
    let families: &[&str] = match variants.paths {
        PathFamilies::Both => &["/api/session/", "/api/pam/session/"],
        PathFamilies::Session => &["/api/session/"],
        PathFamilies::Pam => &["/api/pam/session/"],
    };
    let tokens: &[&str] = match variants.token_paths {
        TokenPaths::Iso => &["/iso/oauth2/token"],
        TokenPaths::Api => &["/api/oauth2/token"],
        TokenPaths::Both => &["/iso/oauth2/token", "/api/oauth2/token"],
    };
    let under_family = |rest: &str| {
        families
            .iter()
            .filter_map(|f| path.strip_prefix(f))
            .find_map(|p| p.strip_prefix(rest))
    };
    if *method == Method::POST && tokens.contains(&path) {
        Route::Token
    } else if *method == Method::POST && path == "/api/remote/session" {
        Route::WebSession(true)
    } else if *method == Method::POST
        && path == "/api/pam/remote/session"
        && !variants.web_session_legacy_only
    {
        Route::WebSession(false)
    } else if *method == Method::GET && under_family("remotesessions") == Some("") {
        Route::List
    } else if *method == Method::GET {
        under_family("remotesessions/")
            .filter(|id| !id.is_empty() && !id.contains('/'))
            .map(|id| Route::Get(decode_segment(id)))
            .unwrap_or(Route::Unknown)
    } else if *method == Method::DELETE {
        let current = if variants.legacy_drop_only {
            None
        } else {
            last_segment(path, &["/api/pam/session/drop/"])
        };
        match current {
            Some(hash) => Route::Drop(decode_segment(hash), false),
            None => last_segment(path, &["/iso/session/drop/"])
                .map(|hash| Route::Drop(decode_segment(hash), true))
                .unwrap_or(Route::Unknown),
        }
    } else {
        Route::Unknown
    }
}

/// The response a status fault stands for.
fn status_fault_response(fault: &Fault, tenant: &str) -> Option<(StatusCode, &'static str, Bytes)> {
    const JSON: &str = "application/json";
    const HTML: &str = "text/html; charset=utf-8";
    let unexpected = || {
        Bytes::from(envelope::error_envelope(
            tenant,
            500,
            "Unexpected error.",
            None,
        ))
    };
    Some(match fault {
        Fault::InternalError => (StatusCode::INTERNAL_SERVER_ERROR, JSON, unexpected()),
        Fault::ErrorIn200 => (StatusCode::OK, JSON, unexpected()),
        Fault::BadGateway => (
            StatusCode::BAD_GATEWAY,
            HTML,
            Bytes::from_static(envelope::BAD_GATEWAY_HTML.as_bytes()),
        ),
        Fault::ServiceUnavailable => (
            StatusCode::SERVICE_UNAVAILABLE,
            JSON,
            Bytes::from_static(envelope::SERVICE_UNAVAILABLE.as_bytes()),
        ),
        Fault::GatewayTimeout => (
            StatusCode::GATEWAY_TIMEOUT,
            JSON,
            Bytes::from_static(envelope::GATEWAY_TIMEOUT.as_bytes()),
        ),
        Fault::RequestTimeout => (
            StatusCode::REQUEST_TIMEOUT,
            JSON,
            Bytes::from_static(envelope::REQUEST_TIMEOUT.as_bytes()),
        ),
        Fault::TooManyRequests { .. } | Fault::RateLimited { .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            JSON,
            Bytes::from_static(envelope::RATE_LIMITED.as_bytes()),
        ),
        Fault::Forbidden => (
            StatusCode::FORBIDDEN,
            JSON,
            Bytes::from(envelope::error_envelope(
                tenant,
                403,
                "You are not authorized to access this resource.",
                None,
            )),
        ),
        Fault::NotFound => (
            StatusCode::NOT_FOUND,
            JSON,
            Bytes::from(envelope::error_envelope(
                tenant,
                404,
                "Resource sub not found",
                None,
            )),
        ),
        Fault::NotJson => (
            StatusCode::OK,
            HTML,
            Bytes::from_static(envelope::NOT_JSON_HTML.as_bytes()),
        ),
        _ => return None,
    })
}

pub(super) async fn handle(
    shared: Arc<Shared>,
    conn: Arc<ConnInfo>,
    req: Request<Incoming>,
) -> Response<Body> {
    let request_ids = shared.variants.request_ids;
    let mut response = answer(shared, conn, req).await;
    if request_ids {
        if let Ok(value) = HeaderValue::from_str(&format!("req-{}", random_hex(16))) {
            response.headers_mut().insert(REQUEST_ID, value);
        }
    }
    response
}

/// The A2A v2 request id header.
const REQUEST_ID: &str = "x-request-id";

async fn answer(
    shared: Arc<Shared>,
    conn: Arc<ConnInfo>,
    req: Request<Incoming>,
) -> Response<Body> {
    bump(&shared.counters.requests);
    let route = route(req.method(), req.uri().path(), &shared.variants);
    let Some(target) = route.target() else {
        return no_route(&shared);
    };
    match &route {
        Route::Token => bump(&shared.counters.token_requests),
        Route::List => bump(&shared.counters.list_requests),
        Route::Get(_) => bump(&shared.counters.get_requests),
        Route::Drop(..) => bump(&shared.counters.drop_requests),
        Route::WebSession(_) => bump(&shared.counters.web_session_requests),
        Route::Unknown => {}
    }

    let header_faults = match req.headers().get(FAULT_HEADER) {
        None => None,
        Some(value) => match value
            .to_str()
            .map_err(|e| e.to_string())
            .and_then(|v| parse_fault_list(v).map_err(|e| e.to_string()))
        {
            Ok(faults) => Some(faults),
            Err(reason) => {
                let body = serde_json::json!({
                    "message": format!("segura-mock: bad {FAULT_HEADER} header: {reason}")
                });
                return json(StatusCode::BAD_REQUEST, body.to_string());
            }
        },
    };

    if target == FaultTarget::Token {
        let plan = plan_for(&shared, target, header_faults);
        let ctx = Ctx { shared, conn, plan };
        if let Some(response) = status_fault(&ctx).await {
            return response;
        }
        return token(&ctx, req).await;
    }

    // The gateway routes API calls on the presence of credentials.
    let Some(authorization) = req.headers().get(header::AUTHORIZATION).cloned() else {
        return no_route(&shared);
    };
    let bearer = match authenticate(&shared, &conn, &req, &authorization) {
        Ok(bearer) => bearer,
        Err(Denied::Token) => return unauthorized(&shared),
        Err(Denied::Signature(reason)) => return oauth1_rejected(&shared, &reason),
    };
    let plan = plan_for(&shared, target, header_faults);
    if plan.expire_token {
        if let Some(token) = &bearer {
            shared.revoke_token(token);
        }
        return unauthorized(&shared);
    }
    let ctx = Ctx { shared, conn, plan };
    if let Some(response) = status_fault(&ctx).await {
        return response;
    }
    let gzip = accepts_gzip(&req);
    match route {
        Route::List => list(&ctx, gzip, req.headers().get(header::IF_NONE_MATCH)),
        Route::Get(id) => get(&ctx, &id).await,
        Route::Drop(hash, legacy) => drop_session(&ctx, &hash, legacy).await,
        Route::WebSession(legacy) => web_session(&ctx, req, legacy).await,
        Route::Token | Route::Unknown => no_route(&ctx.shared),
    }
}

/// The faults for one request: the header's if it has one (queue and
/// standing faults then untouched), else the queue's and the standing ones.
fn plan_for(shared: &Shared, target: FaultTarget, header: Option<Vec<Fault>>) -> FaultPlan {
    let plan = match header {
        Some(faults) => {
            let mut plan = FaultPlan::default();
            for fault in faults.iter().filter(|f| f.applies_to(target)) {
                plan.add(fault);
            }
            plan
        }
        None => lock(&shared.faults).plan_for(target),
    };
    shared
        .counters
        .faults_served
        .fetch_add(plan.count, Ordering::Relaxed);
    plan
}

async fn status_fault(ctx: &Ctx) -> Option<Response<Body>> {
    let fault = ctx.plan.status.as_ref()?;
    let (status, content_type, body) = status_fault_response(fault, &ctx.shared.tenant)?;
    let mut response = ctx.finish(status, content_type, body).await;
    if let Fault::TooManyRequests { retry_after } = fault {
        if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    if let Fault::RateLimited { reset_in } = fault {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let headers = response.headers_mut();
        headers.insert("x-ratelimit-limit", HeaderValue::from_static("100"));
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        if let Ok(value) = HeaderValue::from_str(&now.saturating_add(*reset_in).to_string()) {
            headers.insert("x-ratelimit-reset", value);
        }
    }
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: &Method, path: &str) -> Route {
        super::route(method, path, &Variants::default())
    }

    #[test]
    fn variants_narrow_the_routes() {
        let pam = Variants {
            paths: PathFamilies::Pam,
            token_paths: TokenPaths::Api,
            legacy_drop_only: true,
            ..Variants::default()
        };
        let r = |m: &Method, p: &str| super::route(m, p, &pam);
        assert_eq!(
            r(&Method::GET, "/api/session/remotesessions"),
            Route::Unknown
        );
        assert_eq!(
            r(&Method::GET, "/api/pam/session/remotesessions"),
            Route::List
        );
        assert_eq!(
            r(&Method::GET, "/api/pam/session/remotesessions/7"),
            Route::Get("7".into())
        );
        assert_eq!(
            r(&Method::GET, "/api/session/remotesessions/7"),
            Route::Unknown
        );
        assert_eq!(r(&Method::POST, "/iso/oauth2/token"), Route::Unknown);
        assert_eq!(r(&Method::POST, "/api/oauth2/token"), Route::Token);
        assert_eq!(
            r(&Method::DELETE, "/api/pam/session/drop/ab"),
            Route::Unknown
        );
        assert_eq!(
            r(&Method::DELETE, "/iso/session/drop/ab"),
            Route::Drop("ab".into(), true)
        );
        let legacy = Variants {
            web_session_legacy_only: true,
            ..Variants::default()
        };
        let l = |m: &Method, p: &str| super::route(m, p, &legacy);
        assert_eq!(l(&Method::POST, "/api/pam/remote/session"), Route::Unknown);
        assert_eq!(
            l(&Method::POST, "/api/remote/session/"),
            Route::WebSession(true)
        );
    }

    #[test]
    fn routes() {
        let get = Method::GET;
        assert_eq!(route(&Method::POST, "/iso/oauth2/token"), Route::Token);
        assert_eq!(route(&get, "/iso/oauth2/token"), Route::Unknown);
        assert_eq!(route(&get, "/api/session/remotesessions"), Route::List);
        assert_eq!(route(&get, "/api/session/remotesessions/"), Route::List);
        assert_eq!(route(&get, "/api/pam/session/remotesessions"), Route::List);
        assert_eq!(
            route(&get, "/api/session/remotesessions/42"),
            Route::Get("42".into())
        );
        assert_eq!(
            route(&get, "/api/pam/session/remotesessions/a%20b"),
            Route::Get("a b".into())
        );
        assert_eq!(
            route(&get, "/api/session/remotesessions/1/2"),
            Route::Unknown
        );
        assert_eq!(
            route(&Method::DELETE, "/api/pam/session/drop/abc"),
            Route::Drop("abc".into(), false)
        );
        assert_eq!(
            route(&Method::DELETE, "/iso/session/drop/abc"),
            Route::Drop("abc".into(), true)
        );
        assert_eq!(
            route(&Method::DELETE, "/api/pam/session/drop/"),
            Route::Unknown
        );
        assert_eq!(route(&get, "/"), Route::Unknown);
        assert_eq!(
            route(&Method::POST, "/api/pam/remote/session"),
            Route::WebSession(false)
        );
        assert_eq!(
            route(&Method::POST, "/api/remote/session"),
            Route::WebSession(true)
        );
        assert_eq!(route(&get, "/api/pam/remote/session"), Route::Unknown);
    }
}
