//! wsio inside a real threaded HTTP server, tiny_http: one port serves an ordinary page and
//! WebSocket. tiny_http reads every request; for an upgrade, wsio checks the request and
//! gives the 101's headers ([`Upgrader::accept`]), tiny_http sends them and hands over the
//! stream ([`tiny_http::Request::upgrade`]), and wsio wraps it.
//!
//! ```text
//! cargo run --example tiny_http    # then open http://127.0.0.1:8080/
//! ```
//!
//! tiny_http's upgraded stream is only `Read + Write`, so the connection has no deadlines,
//! keepalive or close timeout (wsio cannot set its timeouts); for those, serve WebSocket
//! with [`wsio::Server`], whose plain-HTTP callback serves pages too.

use std::sync::Arc;
use std::thread;

use tiny_http::{Header, Response};
use wsio::{Request, Upgrader};

const PAGE: &str = r#"<!doctype html>
<title>wsio in tiny_http</title>
<p id="out">connecting...</p>
<script>
  const ws = new WebSocket(`ws://${location.host}/ws`, ["chat"]);
  ws.onopen = () => ws.send("hello from the page");
  ws.onmessage = (e) => { document.getElementById("out").textContent = "echo: " + e.data; };
</script>
"#;

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let server = tiny_http::Server::http("127.0.0.1:8080")?;
    println!("http://{}/", server.server_addr());
    serve(server, Arc::new(Upgrader::new().subprotocols(["chat"])));
    Ok(())
}

/// Answers every request on tiny_http's thread; each WebSocket connection gets its own.
pub fn serve(server: tiny_http::Server, upgrader: Arc<Upgrader>) {
    for request in server.incoming_requests() {
        let wsio_request = request_of(&request);
        if !wsio::is_websocket_upgrade(&wsio_request) {
            let page = Response::from_string(PAGE).with_header(header("Content-Type", "text/html"));
            let _ = request.respond(page);
            continue;
        }
        match upgrader.accept(&wsio_request) {
            Ok(accepted) => {
                let mut response = Response::empty(101);
                for (name, value) in accepted.headers().iter() {
                    response.add_header(header(name, value));
                }
                let stream = request.upgrade("websocket", response);
                let conn = accepted.into_raw_conn(stream, &[]);
                thread::spawn(move || echo(conn));
            }
            Err(refusal) => {
                // wsio's answer (403 for a foreign origin, 426 for a wrong version, ...).
                let rejection = refusal.response();
                let mut response =
                    Response::from_string(rejection.body()).with_status_code(rejection.status());
                for (name, value) in rejection.headers().iter() {
                    response.add_header(header(name, value));
                }
                let _ = request.respond(response);
            }
        }
    }
}

/// The request as wsio sees it.
fn request_of(request: &tiny_http::Request) -> Request {
    request.headers().iter().fold(
        Request::new(request.method().as_str(), request.url()),
        |r, h| r.with_header(h.field.as_str().as_str(), h.value.as_str()),
    )
}

/// A tiny_http header; wsio checked every name and value it produces.
fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name, value).expect("a header wsio checked")
}

fn echo<S: std::io::Read + std::io::Write>(mut conn: wsio::Conn<S>) {
    while let Ok(message) = conn.read_message() {
        if conn
            .write_message(message.kind(), message.as_bytes())
            .is_err()
        {
            break;
        }
    }
}
