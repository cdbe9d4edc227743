//! A real HTTP/1.1 server on 127.0.0.1 for the webhook tests, so they exercise the client, its
//! timeouts and its connection handling as they run in production, not a mock of them.
//!
//! The test decides each answer from the request's arrival number (a status, after a wait of
//! its choosing, or never), and the server reports every request on a channel *before*
//! answering it: once the sink has seen an answer, the test finds the request in the channel,
//! so tests wait on the sink or on the channel, never on the clock.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// The status to answer with, once the future resolves.
pub(crate) type Reply = Pin<Box<dyn Future<Output = StatusCode> + Send>>;

/// Answers `status` at once.
pub(crate) fn status(status: StatusCode) -> Reply {
    Box::pin(async move { status })
}

/// Never answers: the request hangs until the client gives up.
pub(crate) fn hang() -> Reply {
    Box::pin(std::future::pending())
}

/// One request, as the server received it.
#[derive(Debug)]
pub(crate) struct Received {
    /// Arrival order, from 0, across all connections.
    pub(crate) number: usize,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) alert_id: Option<String>,
    pub(crate) content_type: Option<String>,
    pub(crate) signature: Option<String>,
    pub(crate) body: Vec<u8>,
}

pub(crate) struct TestServer {
    /// `http://127.0.0.1:PORT/hook`.
    pub(crate) url: String,
    pub(crate) received: mpsc::UnboundedReceiver<Received>,
    /// The most requests that were being answered at the same time.
    pub(crate) most_concurrent: Arc<AtomicUsize>,
}

impl TestServer {
    /// Every request reported so far.
    pub(crate) fn drain(&mut self) -> Vec<Received> {
        let mut all = Vec::new();
        while let Ok(request) = self.received.try_recv() {
            all.push(request);
        }
        all
    }
}

struct State {
    reply: Box<dyn Fn(usize) -> Reply + Send + Sync>,
    arrivals: AtomicUsize,
    in_flight: AtomicUsize,
    most_concurrent: Arc<AtomicUsize>,
    report: mpsc::UnboundedSender<Received>,
}

/// Starts a server on a free port of 127.0.0.1; `reply` chooses the answer to request `n`.
pub(crate) async fn start(reply: impl Fn(usize) -> Reply + Send + Sync + 'static) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    serve(listener, reply)
}

/// Serves on `listener` (for a test that chooses the port before the server exists).
pub(crate) fn serve(
    listener: TcpListener,
    reply: impl Fn(usize) -> Reply + Send + Sync + 'static,
) -> TestServer {
    let url = format!("http://{}/hook", listener.local_addr().expect("bound"));
    let (report, received) = mpsc::unbounded_channel();
    let most_concurrent = Arc::new(AtomicUsize::new(0));
    let state = Arc::new(State {
        reply: Box::new(reply),
        arrivals: AtomicUsize::new(0),
        in_flight: AtomicUsize::new(0),
        most_concurrent: most_concurrent.clone(),
        report,
    });
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let state = state.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| answer(state.clone(), request));
                // A client that hangs up (after its timeout, say) is not the server's problem.
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    TestServer {
        url,
        received,
        most_concurrent,
    }
}

async fn answer(
    state: Arc<State>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let number = state.arrivals.fetch_add(1, Ordering::SeqCst);
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .map(|value| value.to_str().expect("ASCII header").to_owned())
    };
    let alert_id = header("x-portrait-alert-id");
    let content_type = header("content-type");
    let signature = header("x-portrait-signature");
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|collected| collected.to_bytes().to_vec())
        .unwrap_or_default();

    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.most_concurrent.fetch_max(now, Ordering::SeqCst);
    // The test may have stopped listening; the answer does not depend on it.
    let _ = state.report.send(Received {
        number,
        method,
        path,
        alert_id,
        content_type,
        signature,
        body,
    });
    let status = (state.reply)(number).await;
    state.in_flight.fetch_sub(1, Ordering::SeqCst);

    let text = if status.is_success() {
        "ok".to_owned()
    } else {
        format!("test server says {status}")
    };
    Ok(Response::builder()
        .status(status)
        .body(Full::new(Bytes::from(text)))
        .expect("a valid response"))
}
