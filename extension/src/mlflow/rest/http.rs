//! HTTP for the REST backend: one `ureq` agent with timeouts, credentials
//! from the environment, and retries with exponential backoff that never
//! apply a write twice. It knows MLflow only as far as error bodies and the
//! artifacts proxy go; the endpoints are the caller's ([`super::RestStore`]).
//!
//! Retry policy, per attempt:
//! * connection refused / DNS failure, 429, 503: the server did not act on
//!   the request, so it is re-sent (after `backoff * 2^n` seconds);
//! * other 5xx, a timeout or a connection dropped mid-exchange: the server
//!   *may* have acted. A request marked [`Replay::Safe`] (reads, idempotent
//!   writes) is re-sent; one marked [`Replay::Check`] is re-sent only after
//!   its check says the first attempt did not land (metric appends: see
//!   rest/mod.rs); one marked [`Replay::Never`] fails at once (run creation);
//! * 4xx (except 429): never retried; MLflow's `error_code` and `message`
//!   are reported.
//!
//! Credentials: `MLFLOW_TRACKING_TOKEN` (Bearer) or `MLFLOW_TRACKING_USERNAME`
//! and `MLFLOW_TRACKING_PASSWORD` (Basic), read from the environment as
//! MLflow's clients do. They go into the `Authorization` header only; no
//! message ever includes them.

use std::io::Read;
use std::time::Duration;

use crate::mlflow::tracking::{Failure, FailureKind, Outcome};

/// The artifacts proxy of `mlflow server --serve-artifacts`: listings at
/// this path, files below it.
pub const ARTIFACTS: &str = "/api/2.0/mlflow-artifacts/artifacts";

/// Timeouts and retries, from the `mlflow_http_request_*` settings.
#[derive(Debug, Clone, Copy)]
pub struct HttpOptions {
    pub timeout: Duration,
    pub max_retries: u32,
    /// Seconds before the first retry; doubled for each further one.
    pub backoff: f64,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            max_retries: 3,
            backoff: 0.5,
        }
    }
}

/// May a request be sent again when the first attempt may have landed?
pub enum Replay<'a> {
    /// Yes: reads, and writes that are idempotent.
    Safe,
    /// Only if this check (run after the failure) says it did not land.
    Check(&'a dyn Fn() -> Outcome<bool>),
    /// No: fail, saying the server may have applied it.
    Never,
}

/// A request body.
pub enum Body<'a> {
    Empty,
    Json(&'a serde_json::Value),
    File(&'a std::path::Path),
    Bytes(&'a [u8]),
}

/// What came back: JSON, or raw bytes written to a sink by the caller.
pub enum Answer {
    Json(serde_json::Value),
    /// The first attempt had landed (found by a [`Replay::Check`]).
    AlreadyApplied,
    Stream(Box<dyn Read>),
}

pub struct Http {
    agent: ureq::Agent,
    base: String,
    auth: Option<String>,
    options: HttpOptions,
}

impl Http {
    pub fn new(base: &str, options: HttpOptions) -> Self {
        let config = ureq::Agent::config_builder()
            // Every phase gets the timeout, but a long download or upload
            // that keeps moving is not cut off: no global limit.
            .timeout_resolve(Some(options.timeout))
            .timeout_connect(Some(options.timeout))
            .timeout_send_request(Some(options.timeout))
            .timeout_recv_response(Some(options.timeout))
            .timeout_per_read(Some(options.timeout))
            .timeout_per_write(Some(options.timeout))
            .http_status_as_error(false)
            .user_agent(concat!("medallion/", env!("CARGO_PKG_VERSION")))
            .build();
        Self {
            agent: config.into(),
            base: base.to_string(),
            auth: credentials(),
            options,
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// A 2xx answer we cannot use (no id, not JSON): what was attempted, at
    /// which server, and what came instead.
    pub fn unexpected(&self, what: &str, got: &str) -> Failure {
        Failure::rejected(format!(
            "{what} failed ({}): the server sent {got}",
            self.base
        ))
    }

    /// Sends `method path` (path starts with `/api/...`; query pairs are
    /// escaped here) under the retry policy; `what` says what it is for, in
    /// messages.
    pub fn call(
        &self,
        what: &str,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Body<'_>,
        replay: Replay<'_>,
    ) -> Outcome<Answer> {
        let place = format!("{method} {}{path}", self.base);
        let mut attempt = 0u32;
        loop {
            let (failure, maybe_applied) = match self.send_once(method, path, query, &body) {
                Ok(Ok(answer)) => return Ok(answer),
                Ok(Err((status, text))) => {
                    let detail = mlflow_error(&text);
                    let failure = |kind| {
                        Failure::new(
                            kind,
                            format!("{what} failed ({place}): HTTP {status}{detail}"),
                        )
                    };
                    match status {
                        429 | 503 => (failure(FailureKind::Server), false),
                        500..=599 => (failure(FailureKind::Server), true),
                        _ => return Err(failure(FailureKind::Rejected)),
                    }
                }
                Err(e) => transport_failure(what, &place, e, self.options.timeout),
            };
            if attempt >= self.options.max_retries {
                let tries = attempt + 1;
                let mut failure = failure;
                failure.message.push_str(&format!(
                    " (gave up after {tries} attempt{})",
                    if tries == 1 { "" } else { "s" }
                ));
                return Err(failure);
            }
            if maybe_applied {
                match &replay {
                    Replay::Safe => {}
                    Replay::Check(check) => {
                        if check()? {
                            return Ok(Answer::AlreadyApplied);
                        }
                    }
                    Replay::Never => {
                        let mut failure = failure;
                        failure.message.push_str(
                            " (not retried: the server may have applied it, and doing it \
                             again would duplicate it)",
                        );
                        return Err(failure);
                    }
                }
            }
            let delay = self.options.backoff * f64::powi(2.0, attempt as i32);
            std::thread::sleep(Duration::from_secs_f64(delay.clamp(0.0, 60.0)));
            attempt += 1;
        }
    }

    /// One exchange: `Ok(Ok(answer))` on 2xx, `Ok(Err((status, body)))` on
    /// another status, `Err` when no answer came.
    #[allow(clippy::type_complexity)]
    fn send_once(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: &Body<'_>,
    ) -> Result<Result<Answer, (u16, String)>, ureq::Error> {
        let mut url = format!("{}{path}", self.base);
        for (i, (k, v)) in query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&format!("{}={}", escape(k), escape(v)));
        }
        let request = ureq::http::Request::builder().method(method).uri(&url);
        let request = match &self.auth {
            Some(auth) => request.header("Authorization", auth),
            None => request,
        };
        let request = match body {
            Body::Json(_) => request.header("Content-Type", "application/json"),
            _ => request,
        };
        let response = match body {
            Body::Empty => self.agent.run(request.body(())?)?,
            Body::Json(v) => self.agent.run(request.body(v.to_string())?)?,
            Body::Bytes(b) => self.agent.run(request.body(b.to_vec())?)?,
            Body::File(p) => {
                let file = std::fs::File::open(p)?;
                self.agent.run(request.body(file)?)?
            }
        };
        let status = response.status().as_u16();
        // A file download (GET under the artifacts proxy) is passed on as raw
        // bytes whatever its content type: a model's config.json must arrive
        // byte for byte, not re-serialised.
        let download = method == "GET"
            && path
                .strip_prefix(ARTIFACTS)
                .is_some_and(|rest| rest.starts_with('/'));
        let mut body = response.into_body();
        if !(200..300).contains(&status) {
            let text = body
                .with_config()
                .limit(64 * 1024)
                .read_to_string()
                .unwrap_or_default();
            return Ok(Err((status, text)));
        }
        if !download {
            let text = body.with_config().limit(256 << 20).read_to_string()?;
            let value = if text.trim().is_empty() {
                serde_json::Value::Null
            } else {
                serde_json::from_str(&text).map_err(|e| ureq::Error::Other(Box::new(e)))?
            };
            return Ok(Ok(Answer::Json(value)));
        }
        Ok(Ok(Answer::Stream(Box::new(body.into_reader()))))
    }
}

/// Turns a transport error into a message and whether the server may have
/// acted on the request.
fn transport_failure(
    what: &str,
    place: &str,
    e: ureq::Error,
    timeout: Duration,
) -> (Failure, bool) {
    use std::io::ErrorKind as K;
    let (kind, why, maybe_applied) = match &e {
        ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => (
            FailureKind::Unreachable,
            format!("cannot connect: {e}"),
            false,
        ),
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                K::ConnectionRefused | K::AddrNotAvailable | K::NotFound
            ) =>
        {
            (
                FailureKind::Unreachable,
                format!("cannot connect: {io}"),
                false,
            )
        }
        ureq::Error::Timeout(t) => {
            let connecting = matches!(t, ureq::Timeout::Connect | ureq::Timeout::Resolve);
            let kind = if connecting {
                FailureKind::Unreachable
            } else {
                FailureKind::Server
            };
            let why = format!(
                "no answer within {:.1} s (mlflow_http_request_timeout; {t:?})",
                timeout.as_secs_f64()
            );
            (kind, why, !connecting)
        }
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => {
            (FailureKind::Rejected, format!("bad request: {e}"), false)
        }
        _ => (FailureKind::Server, format!("{e}"), true),
    };
    let retryable = kind != FailureKind::Rejected;
    let failure = Failure::new(kind, format!("{what} failed ({place}): {why}"));
    (failure, maybe_applied && retryable)
}

/// ` <error_code>: <message>` from an MLflow error body, else `: ` and a
/// short excerpt of the body.
fn mlflow_error(text: &str) -> String {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        let code = v.get("error_code").and_then(|c| c.as_str()).unwrap_or("");
        let message = v.get("message").and_then(|c| c.as_str()).unwrap_or("");
        if !code.is_empty() {
            return format!(" {code}: {message}");
        }
        if !message.is_empty() {
            return format!(": {message}");
        }
    }
    let excerpt: String = text.trim().chars().take(200).collect();
    if excerpt.is_empty() {
        String::new()
    } else {
        format!(": {excerpt}")
    }
}

/// Escapes a URL path segment or query value.
pub fn escape(text: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(text, KEEP).to_string()
}

/// Escapes a `/`-separated path, keeping the slashes.
pub fn escape_path(path: &str) -> String {
    path.split('/').map(escape).collect::<Vec<_>>().join("/")
}

/// The `Authorization` header value from the environment, if any.
fn credentials() -> Option<String> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let Some(token) = env("MLFLOW_TRACKING_TOKEN") {
        return Some(format!("Bearer {token}"));
    }
    let user = env("MLFLOW_TRACKING_USERNAME")?;
    let password = env("MLFLOW_TRACKING_PASSWORD").unwrap_or_default();
    Some(format!(
        "Basic {}",
        base64(format!("{user}:{password}").as_bytes())
    ))
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_encoding() {
        assert_eq!(base64(b"alice:pw"), "YWxpY2U6cHc=");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
    }

    #[test]
    fn mlflow_errors_are_summarised() {
        let body = r#"{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Run 'x' not found"}"#;
        assert_eq!(
            mlflow_error(body),
            " RESOURCE_DOES_NOT_EXIST: Run 'x' not found"
        );
        assert_eq!(mlflow_error(""), "");
        assert_eq!(
            mlflow_error("<html>bad gateway</html>"),
            ": <html>bad gateway</html>"
        );
    }

    #[test]
    fn paths_are_escaped_per_segment() {
        assert_eq!(escape_path("a b/c%d.json"), "a%20b/c%25d.json");
    }
}
