//! A real HTTP server on 127.0.0.1 standing in for an operator's chat webhook: it answers 500
//! for a while (an outage), then 200, checks every signature, and reports each request on a
//! channel so the test can wait on requests instead of sleeping.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use sha2::Sha256;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// One request the server answered.
#[derive(Debug)]
pub struct Delivery {
    /// The `X-Portrait-Alert-Id` header.
    pub alert_id: String,
    pub body: Vec<u8>,
    /// Whether it was answered 200 (after the outage) rather than 500.
    pub accepted: bool,
    /// Whether `X-Portrait-Signature` was the HMAC-SHA256 of the body under the secret.
    pub signed: bool,
}

/// The server's address and the stream of what it answered.
pub struct Webhook {
    pub url: String,
    pub deliveries: mpsc::UnboundedReceiver<Delivery>,
}

struct Behaviour {
    secret: Vec<u8>,
    outage_until: Instant,
    sent: mpsc::UnboundedSender<Delivery>,
}

/// Starts the server; it answers 500 to everything for `outage` from now.
pub async fn start(secret: &str, outage: Duration) -> Webhook {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (sent, deliveries) = mpsc::unbounded_channel();
    let behaviour = Arc::new(Behaviour {
        secret: secret.as_bytes().to_vec(),
        outage_until: Instant::now() + outage,
        sent,
    });
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let behaviour = behaviour.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| answer(behaviour.clone(), request));
                // A client that hangs up mid-request is its business, not the test's.
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Webhook { url, deliveries }
}

async fn answer(
    behaviour: Arc<Behaviour>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let alert_id = header("x-portrait-alert-id");
    let signature = header("x-portrait-signature");
    let body = request.into_body().collect().await.unwrap().to_bytes();
    let mut mac = Hmac::<Sha256>::new_from_slice(&behaviour.secret).unwrap();
    mac.update(&body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let accepted = Instant::now() >= behaviour.outage_until;
    let _ = behaviour.sent.send(Delivery {
        alert_id,
        body: body.to_vec(),
        accepted,
        signed: signature == format!("sha256={expected}"),
    });
    let status = if accepted {
        StatusCode::OK
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    Ok(Response::builder()
        .status(status)
        .body(Full::new(Bytes::from_static(b"ok")))
        .unwrap())
}
