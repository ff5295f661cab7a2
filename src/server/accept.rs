//! The server's threads: an accept loop per listener, the thread that answers refused
//! connections, and each connection's own: TLS, the request, then the handler or the
//! plain-HTTP callback.

use std::io::{self, Read};
use std::net::{Shutdown, SocketAddr, TcpStream};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
#[cfg(unix)]
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;
use std::thread;
use std::time::{Duration, Instant};

use super::response::{HttpResponse, LINGER, answer_and_close};
use super::stream::{Lifeline, Listener, Socket};
use super::{Refuse, ServerStream, Shared};
use crate::conn::Conn;
use crate::error::{Error, Result};
use crate::handshake::is_websocket_upgrade;
use crate::http::Request;
use crate::stream::SavedTimeouts;

/// How to wake an accept loop blocked in `accept`: connect to it.
pub(super) enum Wake {
    Tcp(SocketAddr),
    #[cfg(unix)]
    Unix(PathBuf),
}

impl Wake {
    pub(super) fn wake(&self) {
        match self {
            Wake::Tcp(addr) => {
                let _ = TcpStream::connect_timeout(addr, Duration::from_secs(1));
            }
            #[cfg(unix)]
            Wake::Unix(path) => {
                let _ = UnixStream::connect(path);
            }
        }
    }
}

/// The accept loop of one listener, until the server stops.
pub(super) fn accept_all(shared: &Arc<Shared>, listener: Listener) {
    // Back off on errors that more connections would repeat (out of descriptors or
    // memory), as Go does: 5 ms, doubling to 1 s; at once on a failed connection.
    let mut backoff = Duration::ZERO;
    loop {
        let socket = match listener.accept() {
            Ok(socket) => {
                backoff = Duration::ZERO;
                socket
            }
            Err(e) => {
                if shared.stopping() {
                    return;
                }
                let retry_at_once = matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::ConnectionReset
                        | io::ErrorKind::Interrupted
                );
                shared.report(&Error::Io(e), None);
                if !retry_at_once {
                    backoff = (backoff * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
                    thread::sleep(backoff);
                }
                continue;
            }
        };
        let (id, lifeline) = match shared.register(&socket) {
            Ok(registered) => registered,
            Err(Refuse::Stopping) => return,
            Err(Refuse::Full) => {
                shared.refuse(socket);
                continue;
            }
        };
        let on_thread = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name("wsio-conn".into())
            .stack_size(shared.stack_size)
            .spawn(move || {
                let _registered = Registered {
                    shared: &on_thread,
                    id,
                };
                serve(&on_thread, socket, lifeline);
            });
        match spawned {
            Ok(_) => {
                shared.counters.accepted.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                // The connection went with the closure; so must its registration.
                shared.unregister(id);
                shared.counters.refused.fetch_add(1, Ordering::Relaxed);
                shared.report(&Error::Io(e), None);
                thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// Unregisters a connection when its thread ends, however it ends (a handler's panic
/// included).
struct Registered<'a> {
    shared: &'a Shared,
    id: u64,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.shared.unregister(self.id);
    }
}

/// One connection, on its own thread: TLS, the request, then the handler or the HTTP
/// callback.
fn serve(shared: &Shared, socket: Socket, lifeline: Arc<Lifeline>) {
    let peer = socket.peer();
    let deadline = shared
        .upgrader
        .settings()
        .handshake_timeout()
        .map(|t| Instant::now() + t);
    let stream = ServerStream::new(socket, Arc::clone(&lifeline));
    match handshake(shared, stream, peer, deadline) {
        Ok(Some(conn)) => (shared.handler)(conn),
        Ok(None) => {}
        // Cut short by a shutdown: not a failure of the client's.
        Err(_) if lifeline.is_going_away() => {}
        Err(e) => {
            shared
                .counters
                .failed_handshakes
                .fetch_add(1, Ordering::Relaxed);
            shared.report(&e, peer);
        }
    }
}

/// TLS if the server has it, then the request: upgraded to a connection, or answered by
/// the HTTP callback (`None`). One deadline bounds it all.
fn handshake(
    shared: &Shared,
    stream: ServerStream,
    peer: Option<SocketAddr>,
    deadline: Option<Instant>,
) -> Result<Option<Conn<ServerStream>>> {
    #[cfg(feature = "rustls")]
    let stream = match &shared.tls {
        Some(acceptor) => {
            let saved = SavedTimeouts::take(&stream);
            let mut tls = stream.tls(acceptor, deadline)?;
            saved.restore(&mut tls);
            tls
        }
        None => stream,
    };
    let mut stream = stream;
    let saved = SavedTimeouts::take(&stream);
    let read = shared.upgrader.read_request(&mut stream, deadline);
    saved.restore(&mut stream);
    let (request, leftover) = read?;
    if let Some(respond) = &shared.http {
        if !is_websocket_upgrade(&request) {
            shared
                .counters
                .http_requests
                .fetch_add(1, Ordering::Relaxed);
            let response = respond(&request, peer);
            answer_http(shared, stream, &request, &response, peer);
            return Ok(None);
        }
    }
    let saved = SavedTimeouts::take(&stream);
    shared
        .upgrader
        .answer(stream, &request, &leftover, deadline, saved)
        .map(Some)
}

/// Sends the HTTP callback's response (a 500 if it cannot be sent as it is), within the
/// handshake timeout from now, and closes the connection.
fn answer_http(
    shared: &Shared,
    mut stream: ServerStream,
    request: &Request,
    response: &HttpResponse,
    peer: Option<SocketAddr>,
) {
    let head_only = request.method() == "HEAD";
    let bytes = match response.to_bytes(shared.upgrader.server_name(), head_only) {
        Ok(bytes) => bytes,
        Err(e) => {
            shared.report(&Error::InvalidInput(e), peer);
            HttpResponse::new(500)
                .with_header("Content-Type", "text/plain; charset=utf-8")
                .with_body("internal server error")
                .to_bytes(None, head_only)
                .unwrap_or_default()
        }
    };
    let timeout = shared
        .upgrader
        .settings()
        .handshake_timeout()
        .unwrap_or(Duration::from_secs(10));
    let sent = answer_and_close(&mut stream, &bytes, Some(Instant::now() + timeout), |s| {
        let _ = s.shutdown_write();
    });
    if let Err(e) = sent {
        shared.report(&Error::Io(e), peer);
    }
}

/// The refusing thread: answers each refused connection 503, briefly, until the server
/// stops (then the ones still queued are closed unanswered).
pub(super) fn refuse_all(shared: &Shared, refused: Receiver<Socket>, busy: &[u8]) {
    for mut socket in refused {
        if shared.stopping() {
            continue;
        }
        socket.set_timeouts(Some(LINGER));
        // The request first (most of it has arrived), then the answer.
        let mut request = [0u8; 4096];
        let _ = socket.read(&mut request);
        let _ = answer_and_close(&mut socket, busy, Some(Instant::now() + LINGER), |s| {
            s.shutdown_how(Shutdown::Write)
        });
    }
}
