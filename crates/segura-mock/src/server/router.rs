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
use super::endpoints::{accepts_gzip, drop_session, get, list, token};
use super::reply::{json, no_route, unauthorized, Ctx};
use crate::body::{Body, ConnInfo};
use crate::envelope;
use crate::fault::{parse_fault_list, Fault, FaultPlan, FaultTarget, FAULT_HEADER};
use crate::state::{bump, lock, Shared};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Token,
    List,
    Get(String),
    Drop(String),
    Unknown,
}

impl Route {
    fn target(&self) -> Option<FaultTarget> {
        match self {
            Route::Token => Some(FaultTarget::Token),
            Route::List => Some(FaultTarget::List),
            Route::Get(_) => Some(FaultTarget::Get),
            Route::Drop(_) => Some(FaultTarget::Drop),
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

fn route(method: &Method, path: &str) -> Route {
    let path = match path.strip_suffix('/') {
        Some(p) if !p.is_empty() => p,
        _ => path,
    };
    const LISTS: [&str; 2] = [
        "/api/session/remotesessions",
        "/api/pam/session/remotesessions",
    ];
    const GETS: [&str; 2] = [
        "/api/session/remotesessions/",
        "/api/pam/session/remotesessions/",
    ];
    const DROPS: [&str; 2] = ["/api/pam/session/drop/", "/iso/session/drop/"];
    if *method == Method::POST && path == "/iso/oauth2/token" {
        Route::Token
    } else if *method == Method::GET && LISTS.contains(&path) {
        Route::List
    } else if *method == Method::GET {
        last_segment(path, &GETS)
            .map(|id| Route::Get(decode_segment(id)))
            .unwrap_or(Route::Unknown)
    } else if *method == Method::DELETE {
        last_segment(path, &DROPS)
            .map(|hash| Route::Drop(decode_segment(hash)))
            .unwrap_or(Route::Unknown)
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
        Fault::TooManyRequests { .. } => (
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
    bump(&shared.counters.requests);
    let route = route(req.method(), req.uri().path());
    let Some(target) = route.target() else {
        return no_route(&shared);
    };
    match &route {
        Route::Token => bump(&shared.counters.token_requests),
        Route::List => bump(&shared.counters.list_requests),
        Route::Get(_) => bump(&shared.counters.get_requests),
        Route::Drop(_) => bump(&shared.counters.drop_requests),
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
        Route::List => list(&ctx, gzip),
        Route::Get(id) => get(&ctx, &id).await,
        Route::Drop(hash) => drop_session(&ctx, &hash).await,
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
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

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
            Route::Drop("abc".into())
        );
        assert_eq!(
            route(&Method::DELETE, "/iso/session/drop/abc"),
            Route::Drop("abc".into())
        );
        assert_eq!(
            route(&Method::DELETE, "/api/pam/session/drop/"),
            Route::Unknown
        );
        assert_eq!(route(&get, "/"), Route::Unknown);
    }
}
