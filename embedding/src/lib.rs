//! wsio inside rouille, through rouille's `Upgrade` trait: rouille reads every request; for
//! a WebSocket upgrade, wsio decides it and gives the 101's headers
//! ([`wsio::Upgrader::accept`]), rouille sends them and hands the stream to an [`Upgrade`]
//! that wraps it in a wsio connection. Ordinary requests get a page. `src/bin/rouille.rs`
//! runs it; `tests/rouille.rs` checks it with wsio's client.

use std::sync::Arc;
use std::thread;

use rouille::{ReadWrite, Response, Upgrade};
use wsio::{Accepted, Request, Upgrader};

/// The page ordinary requests get: it opens a WebSocket and shows the echo.
pub const PAGE: &str = r#"<!doctype html>
<title>wsio in rouille</title>
<p id="out">connecting...</p>
<script>
  const ws = new WebSocket(`ws://${location.host}/ws`, ["chat"]);
  ws.onopen = () => ws.send("hello from the page");
  ws.onmessage = (e) => { document.getElementById("out").textContent = "echo: " + e.data; };
</script>
"#;

/// rouille's handler: a page, or a WebSocket echo.
pub fn handler(upgrader: Arc<Upgrader>) -> impl Fn(&rouille::Request) -> Response {
    move |request| {
        let wsio_request = request.headers().fold(
            Request::new(request.method(), request.raw_url()),
            |r, (name, value)| r.with_header(name, value),
        );
        if !wsio::is_websocket_upgrade(&wsio_request) {
            return Response::html(PAGE);
        }
        match upgrader.accept(&wsio_request) {
            Ok(accepted) => {
                let mut response = Response::empty_204().with_status_code(101);
                // rouille takes `Upgrade` for tiny_http, which adds `Connection: upgrade`.
                response
                    .headers
                    .push(("Upgrade".into(), "websocket".into()));
                for (name, value) in accepted.headers().iter() {
                    response
                        .headers
                        .push((name.to_owned().into(), value.to_owned().into()));
                }
                response.upgrade = Some(Box::new(Echo(Some(accepted))));
                response
            }
            Err(refusal) => {
                // wsio's answer (403 for a foreign origin, 426 for a wrong version, ...).
                let rejection = refusal.response();
                let mut response =
                    Response::text(rejection.body()).with_status_code(rejection.status());
                for (name, value) in rejection.headers().iter() {
                    response
                        .headers
                        .push((name.to_owned().into(), value.to_owned().into()));
                }
                response
            }
        }
    }
}

/// What rouille hands the upgraded stream to: an echo on a thread of its own (rouille's
/// request thread goes back to its pool).
struct Echo(Option<Accepted>);

impl Upgrade for Echo {
    fn build(&mut self, socket: Box<dyn ReadWrite + Send>) {
        let Some(accepted) = self.0.take() else {
            return;
        };
        let mut conn = accepted.into_raw_conn(socket, &[]);
        thread::spawn(move || {
            while let Ok(message) = conn.read_message() {
                if conn
                    .write_message(message.kind(), message.as_bytes())
                    .is_err()
                {
                    break;
                }
            }
        });
    }
}
