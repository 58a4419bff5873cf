//! Building answers: the content type, the canned refusals, and the context of a
//! routed request, which applies the plan's delay and body faults to what it sends.

use std::sync::Arc;

use bytes::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};

use crate::body::{full, Body, ConnInfo, Producer, Source};
use crate::envelope;
use crate::fault::FaultPlan;
use crate::state::{bump, Shared};

pub(super) fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: Body,
) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

pub(super) fn json(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    respond(status, "application/json", full(body))
}

pub(super) fn no_route(shared: &Shared) -> Response<Body> {
    bump(&shared.counters.no_route);
    json(StatusCode::NOT_FOUND, envelope::NO_ROUTE)
}

pub(super) fn unauthorized(shared: &Shared) -> Response<Body> {
    bump(&shared.counters.unauthorized);
    let mut response = json(StatusCode::UNAUTHORIZED, envelope::INVALID_TOKEN);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    response
}

/// One request's context once routed.
pub(super) struct Ctx {
    pub(super) shared: Arc<Shared>,
    pub(super) conn: Arc<ConnInfo>,
    pub(super) plan: FaultPlan,
}

impl Ctx {
    /// Sends a small body, applying the plan's body faults.
    pub(super) async fn finish(
        &self,
        status: StatusCode,
        content_type: &'static str,
        data: Bytes,
    ) -> Response<Body> {
        if let Some(delay) = self.plan.delay {
            tokio::time::sleep(delay).await;
        }
        if !self.plan.shapes_body() {
            return respond(status, content_type, full(data));
        }
        let end = match self.plan.cut {
            Some(_) => data.len() / 2,
            None => data.len(),
        };
        let body = Producer::spawn(
            Source::Bytes { data, end },
            &self.plan,
            false,
            self.conn.clone(),
            self.shared.clone(),
        );
        respond(status, content_type, body)
    }

    pub(super) async fn finish_json(
        &self,
        status: StatusCode,
        data: impl Into<Bytes>,
    ) -> Response<Body> {
        self.finish(status, "application/json", data.into()).await
    }
}
