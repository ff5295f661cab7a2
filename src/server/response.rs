//! [`HttpResponse`]: what the server's plain-HTTP callback answers with, and how it is
//! written: checked (no header the server sets itself, a real status), then the connection
//! closed without losing the answer.

use std::time::{Duration, Instant};

use crate::error::InvalidInput;
use crate::http::{HeadWriter, Headers};
use crate::stream::Stream;

/// An answer to a request that is not a WebSocket upgrade, from the server's plain-HTTP
/// callback ([`ServerBuilder::http`](super::ServerBuilder::http)): a page, a script, a
/// redirect. The connection closes after it (`Connection: close`); the server sets
/// `Content-Length` (and `Server` when the [`Upgrader`](crate::Upgrader) names one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    status: u16,
    headers: Headers,
    body: Vec<u8>,
}

impl HttpResponse {
    /// A response with this status (200 to 599), no headers and an empty body.
    pub fn new(status: u16) -> HttpResponse {
        HttpResponse {
            status,
            headers: Headers::new(),
            body: Vec::new(),
        }
    }

    /// 200 with `body` of this `Content-Type` (e.g. `text/html; charset=utf-8`).
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> HttpResponse {
        HttpResponse::new(200)
            .with_header("Content-Type", content_type)
            .with_body(body)
    }

    /// 404 with a short plain-text body.
    pub fn not_found() -> HttpResponse {
        HttpResponse::new(404)
            .with_header("Content-Type", "text/plain; charset=utf-8")
            .with_body("not found")
    }

    /// Adds a header. What is never written, and answered 500 instead (the error hook hears
    /// of it): a name that is not a token, a value with a control character, and the
    /// headers the server sets itself (`Content-Length`, `Transfer-Encoding`, `Connection`,
    /// `Server`, `Upgrade`).
    #[must_use]
    pub fn with_header(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> HttpResponse {
        self.headers.push(name, value);
        self
    }

    /// Sets the body (none is sent for 204, 304 and `HEAD` requests).
    #[must_use]
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> HttpResponse {
        self.body = body.into();
        self
    }

    /// The status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The response as sent: head, then the body unless `head_only` (a `HEAD` request) or
    /// the status has none.
    pub(crate) fn to_bytes(
        &self,
        server: Option<&str>,
        head_only: bool,
    ) -> Result<Vec<u8>, InvalidInput> {
        if !(200..600).contains(&self.status) {
            return Err(InvalidInput::HttpStatus(self.status));
        }
        if let Some((name, _)) = self.headers.iter().find(|(n, _)| is_server_header(n)) {
            return Err(InvalidInput::HandshakeHeader(name.to_owned()));
        }
        let no_body = head_only || self.status == 204 || self.status == 304;
        let mut head = HeadWriter::response(self.status);
        head.header("Connection", "close")?.headers(&self.headers)?;
        if self.status != 204 && self.status != 304 {
            head.header("Content-Length", &self.body.len().to_string())?;
        }
        if let Some(server) = server {
            head.header("Server", server)?;
        }
        let mut bytes = head.finish("").into_bytes();
        if !no_body {
            bytes.extend_from_slice(&self.body);
        }
        Ok(bytes)
    }
}

/// Headers the server writes itself, which a callback's response may not set.
fn is_server_header(name: &str) -> bool {
    [
        "Content-Length",
        "Transfer-Encoding",
        "Connection",
        "Server",
        "Upgrade",
    ]
    .iter()
    .any(|h| h.eq_ignore_ascii_case(name))
}

/// How long a closing connection is given to take the answer: the rest of the client's
/// request is read (and discarded) meanwhile, so that closing does not reset the
/// connection and destroy the answer before the client read it.
pub(crate) const LINGER: Duration = Duration::from_millis(200);

/// Writes `answer` within `deadline`, shuts the write direction down, and reads what the
/// client still sends for at most [`LINGER`] (at most 64 KiB), so that the close does not
/// reset the connection under the answer.
pub(crate) fn answer_and_close<S: Stream>(
    stream: &mut S,
    answer: &[u8],
    deadline: Option<Instant>,
    shutdown_write: impl FnOnce(&mut S),
) -> std::io::Result<()> {
    let sent = crate::stream::write_all_before(stream, deadline, answer);
    shutdown_write(stream);
    let until = Instant::now() + LINGER;
    let mut buf = [0u8; 4096];
    let mut drained = 0;
    while drained < 64 << 10 {
        let Some(left) = crate::stream::remaining(until) else {
            break;
        };
        if stream.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
    sent
}
