//! Serving a hub: the [`Upgrader`] and HTTP answers it puts on a [`Server`], and the life of
//! one connection: registration, the reading loop on the server's thread for it, the writer
//! thread that drains its queue, and the one end that every way out goes through.

use std::io;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::value::RawValue;
use wsio::{
    CloseCode, Conn, Error, HttpResponse, Initiator, Message, MessageKind, ReadHalf, Request,
    Server, ServerBuilder, ServerStream, Upgrader, WriteHalf,
};

use crate::connection::Connection;
use crate::core::{bump, text_message};
use crate::error::{Disconnected, HubError};
use crate::hub::{Hub, HubInner};
use crate::protocol::{self, Frame, SUBPROTOCOL, null};
use crate::queue::{Outgoing, Wait};
use crate::shared::{ConnShared, Ending, Handlers, Outcome, lock};

/// The browser client, served at `/wsio-hub.js`.
pub const CLIENT_JS: &str = include_str!("../assets/wsio-hub.js");
/// Its TypeScript declarations, served at `/wsio-hub.d.ts`.
pub const CLIENT_TS: &str = include_str!("../assets/wsio-hub.d.ts");

impl Hub {
    /// Starts a [`Server`] for the hub on a builder that has its addresses (and TLS, stack
    /// size, connection cap and error hook, as you like): the hub sets its upgrader, its
    /// HTTP answers (the client script, then your [`http`](crate::HubBuilder::http)
    /// callback) and its handler. Stop it through the server's handle, as any server: live
    /// connections get close 1001 and their disconnect callbacks run.
    ///
    /// # Errors
    ///
    /// As [`ServerBuilder::start`].
    pub fn serve(&self, builder: ServerBuilder) -> io::Result<Server> {
        let http = self.clone();
        let hub = self.clone();
        builder
            .upgrader(self.upgrader())
            .http(move |request, peer| http.http_response(request, peer))
            .start(move |conn| hub.serve_connection(conn))
    }

    /// The upgrader the hub's server uses: the hub's [`Config`](wsio::Config), its
    /// subprotocol chosen when offered, the origin check and access callback. For a server
    /// assembled by hand that hands connections to
    /// [`serve_connection`](Self::serve_connection).
    pub fn upgrader(&self) -> Upgrader {
        let settings = &self.inner.settings;
        let mut upgrader = Upgrader::new()
            .config(settings.config.clone())
            .subprotocols([SUBPROTOCOL])
            .keep_headers(settings.keep_headers.clone());
        if let Some(check) = &settings.check_origin {
            let check = Arc::clone(check);
            upgrader = upgrader.check_origin(move |request| check(request));
        }
        if let Some(access) = &settings.access {
            let access = Arc::clone(access);
            upgrader = upgrader.check_request(move |request, accept| access(request, accept));
        }
        upgrader
    }

    /// The hub's answer to a plain HTTP request: the client at `/wsio-hub.js`, its
    /// declarations at `/wsio-hub.d.ts`, then the [`http`](crate::HubBuilder::http)
    /// callback, then 404.
    pub fn http_response(&self, request: &Request, peer: Option<SocketAddr>) -> HttpResponse {
        match request.path() {
            "/wsio-hub.js" => HttpResponse::ok("text/javascript; charset=utf-8", CLIENT_JS),
            "/wsio-hub.d.ts" => {
                HttpResponse::ok("application/typescript; charset=utf-8", CLIENT_TS)
            }
            _ => match &self.inner.settings.http {
                Some(respond) => respond(request, peer),
                None => HttpResponse::not_found(),
            },
        }
    }

    /// Runs one connection of the hub on this thread until it ends: registers it, starts
    /// its writer thread, runs the [`on_connection`](crate::HubBuilder::on_connection)
    /// callback and then its handlers, and, however it ends, takes it out of its rooms and
    /// runs its disconnect callback once. [`serve`](Self::serve) calls it for each
    /// connection; call it yourself from a handler of your own server, with a connection
    /// upgraded by [`upgrader`](Self::upgrader).
    pub fn serve_connection(&self, mut conn: Conn<ServerStream>) {
        let inner = &self.inner;
        let core = &inner.core;
        let request = conn.take_request();
        let id = match (&inner.settings.id, &request) {
            (Some(generate), Some(request)) => mark_id(generate(request)),
            _ => random_id(),
        };
        let shared = Arc::new(ConnShared::new(
            id,
            core.limits,
            request,
            conn.peer_addr().ok(),
            conn.get_ref().cutter(),
            conn.subprotocol() == Some(SUBPROTOCOL),
        ));
        // The welcome is queued before the connection is registered: nothing sent to it can
        // come first.
        if shared.speaks_hub {
            shared
                .queue
                .push(&text_message(protocol::welcome(&shared.id)));
        }
        if let Err(e) = core.insert(Arc::clone(&shared)) {
            hub_error(inner, &e, None);
            let _ = conn.close(CloseCode::INTERNAL_ERROR, "");
            return;
        }
        bump(&core.counters.connected);
        let (mut read, write) = match conn.split() {
            Ok(halves) => halves,
            Err(e) => return end(inner, &shared, None, Disconnected::Failed(e.into())),
        };
        let writer = {
            let shared = Arc::clone(&shared);
            let timeout = inner.settings.write_timeout;
            let close_timeout = inner
                .settings
                .config
                .close_timeout()
                .unwrap_or(Duration::from_secs(5));
            thread::Builder::new()
                .name("wsio-hub writer".into())
                .stack_size(inner.settings.writer_stack_size)
                .spawn(move || write_all(write, &shared, timeout, close_timeout))
        };
        let writer = match writer {
            Ok(writer) => writer,
            Err(e) => {
                let e = HubError::Ws(Error::Io(e));
                hub_error(inner, &e, Some(&shared.id));
                return end(inner, &shared, None, Disconnected::Failed(e));
            }
        };
        watch_control_frames(&mut read, &shared);
        let connection = Connection::new(Arc::clone(&shared), Arc::clone(core));
        let run = catch_unwind(AssertUnwindSafe(|| {
            if let Some(greet) = &inner.settings.on_connection {
                greet(&connection);
            }
            read_all(&mut read, &connection, inner)
        }));
        let reason = run.unwrap_or_else(|panic| {
            let e = HubError::Panicked(panic_text(panic.as_ref()));
            let _ = catch_unwind(AssertUnwindSafe(|| shared.report(&e)));
            shared.end_because(Ending::Failed(e));
            shared.queue.close(CloseCode::INTERNAL_ERROR, "", true);
            read_to_close(&mut read, &inner.settings.config);
            match shared.take_ending() {
                Some(Ending::Failed(e)) => Disconnected::Failed(e),
                _ => Disconnected::Failed(HubError::Panicked(String::new())),
            }
        });
        drop(read);
        end(inner, &shared, Some(writer), reason);
    }
}

/// An id as the hub keeps it: starting with [`ID_MARK`](crate::ID_MARK).
fn mark_id(id: String) -> String {
    if crate::core::is_id(&id) {
        id
    } else {
        format!("{}{id}", crate::core::ID_MARK)
    }
}

/// `@` and 16 random bytes, base64url: an id nobody can guess. A collision (vanishingly
/// unlikely with 128 random bits) is refused by the registry as any taken id is.
fn random_id() -> String {
    mark_id(crate::shared::random_name())
}

fn hub_error(inner: &HubInner, error: &HubError, id: Option<&str>) {
    if let Some(hook) = &inner.settings.on_error {
        hook(error, id);
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic".to_owned()
    }
}

/// The connection's ping and pong callbacks see control frames as they come; pings are
/// still answered.
fn watch_control_frames(read: &mut ReadHalf<ServerStream>, shared: &Arc<ConnShared>) {
    let on_ping = Arc::clone(shared);
    read.set_ping_handler(move |payload, replier| {
        let hook = lock(&on_ping.handlers).ping.clone();
        if let Some(hook) = hook {
            hook(payload);
        }
        replier.pong(payload)
    });
    let on_pong = Arc::clone(shared);
    read.set_pong_handler(move |payload| {
        let hook = lock(&on_pong.handlers).pong.clone();
        if let Some(hook) = hook {
            hook(payload);
        }
        Ok(())
    });
}

/// Reads and dispatches until the connection ends; why it ended.
fn read_all(
    read: &mut ReadHalf<ServerStream>,
    conn: &Connection,
    inner: &HubInner,
) -> Disconnected {
    let shared = &conn.shared;
    loop {
        let message = match read.read_message() {
            Ok(message) => message,
            Err(e) => {
                return match (shared.take_ending(), e) {
                    (Some(ending), _) => match ending {
                        Ending::ByServer => Disconnected::ByServer,
                        Ending::TooSlow => Disconnected::TooSlow,
                        Ending::Failed(e) => Disconnected::Failed(e),
                    },
                    (None, Error::Closed(status)) if status.initiator == Initiator::Peer => {
                        Disconnected::ByClient(status)
                    }
                    (None, Error::GoingAway) => Disconnected::ShuttingDown,
                    (None, e) => Disconnected::Failed(HubError::Ws(e)),
                };
            }
        };
        // Once the hub decided to end the connection, it only reads on to the close.
        if shared.is_ending() {
            continue;
        }
        if let Err(e) = dispatch(message, conn, inner) {
            bump(&inner.core.counters.malformed);
            shared.report(&e);
            if shared.end_because(Ending::Failed(e)) {
                shared
                    .queue
                    .close(CloseCode::INVALID_PAYLOAD, "malformed hub message", true);
            }
        }
    }
}

/// After a panic, reads on until the client answers the close frame, for at most the close
/// timeout.
fn read_to_close(read: &mut ReadHalf<ServerStream>, config: &wsio::Config) {
    let timeout = config.close_timeout().unwrap_or(Duration::from_secs(5));
    if read
        .set_read_deadline(Some(Instant::now() + timeout))
        .is_err()
    {
        return;
    }
    while read.read_message().is_ok() {}
}

/// Handles one message; an error is a malformed message, which ends the connection.
fn dispatch(message: Message, conn: &Connection, inner: &HubInner) -> Result<(), HubError> {
    let counters = &inner.core.counters;
    let text = match message.kind() {
        MessageKind::Text => message.as_text().unwrap_or_default(),
        MessageKind::Binary => "",
    };
    // A native client (no hub subprotocol) only ever sends native messages.
    if message.kind() == MessageKind::Binary
        || !conn.shared.speaks_hub
        || !protocol::is_hub_frame(text)
    {
        bump(&counters.native);
        return {
            native(conn, &message);
            Ok(())
        };
    }
    match protocol::decode(text)? {
        Frame::Event { event, data, ask } => {
            bump(&counters.events);
            event_frame(conn, inner, &event, data, ask)
        }
        Frame::Reply { reply, outcome } => {
            let waiting = lock(&conn.shared.asks).remove(reply);
            if let Some(waiting) = waiting {
                let answer = outcome.map(ToOwned::to_owned).map_err(|e| e.into_owned());
                let _ = waiting.try_send(answer);
            }
            Ok(())
        }
        Frame::Join { room, ask } => {
            let full = !conn.is_joined(&room) && conn.rooms().len() >= inner.settings.max_rooms;
            let joined = if full {
                Err(format!("at most {} rooms", inner.settings.max_rooms))
            } else if let Some(check) = &inner.settings.check_join {
                check(conn, &room)
            } else {
                Ok(())
            }
            .and_then(|()| conn.join(&room).map_err(|e| e.to_string()));
            answer(
                conn,
                ask,
                joined.as_ref().map(|()| null()).map_err(String::as_str),
            );
            Ok(())
        }
        Frame::Leave { room, ask } => {
            conn.leave(&room);
            answer(conn, ask, Ok(null()));
            Ok(())
        }
        Frame::Text(text) => {
            bump(&counters.native);
            native(conn, &Message::from(text.into_owned()));
            Ok(())
        }
        Frame::Welcome { .. } => Err(protocol::Malformed::MisplacedKey("hub").into()),
    }
}

fn native(conn: &Connection, message: &Message) {
    let hook = lock(&conn.shared.handlers).native.clone();
    if let Some(hook) = hook {
        hook(message);
    }
}

fn event_frame(
    conn: &Connection,
    inner: &HubInner,
    event: &str,
    data: &RawValue,
    ask: Option<u64>,
) -> Result<(), HubError> {
    let handler = lock(&conn.shared.handlers).events.get(event).cloned();
    let Some(handler) = handler else {
        bump(&inner.core.counters.unhandled);
        let why = format!("no handler for event {event}");
        answer(conn, ask, Err(&why));
        return Ok(());
    };
    match handler(data) {
        Outcome::Done => answer(conn, ask, Ok(null())),
        Outcome::Answer(Ok(reply)) => answer(conn, ask, Ok(&reply)),
        Outcome::Answer(Err(why)) => answer(conn, ask, Err(&why)),
        Outcome::Encode(e) => {
            answer(conn, ask, Err("the answer could not be encoded"));
            conn.shared.report(&HubError::Encode(e));
        }
        Outcome::BadData(error) => {
            return Err(HubError::BadData {
                event: event.to_owned(),
                error,
            });
        }
    }
    Ok(())
}

/// Replies to request `ask`, if it is one.
fn answer(conn: &Connection, ask: Option<u64>, outcome: Result<&RawValue, &str>) {
    if let Some(n) = ask {
        conn.core
            .send_to(&conn.shared, &text_message(protocol::reply(n, outcome)));
    }
}

/// The writer thread: sends what the queue holds until the queue ends, each write bounded
/// by `timeout`. The deadline is renewed while the connection is idle too: the reading side
/// writes through it (pongs, the answer to the client's close, the keepalive's pings), and
/// a stale deadline would fail those. A failed write cuts the connection, which ends the
/// reading loop too. After its close frame, the writer gives the client the close timeout to
/// answer, then cuts.
fn write_all(
    mut write: WriteHalf<ServerStream>,
    shared: &ConnShared,
    timeout: Duration,
    close_timeout: Duration,
) {
    let mut batch = Vec::new();
    let renew = |write: &mut WriteHalf<ServerStream>| {
        write.set_write_deadline(Some(Instant::now() + timeout))
    };
    if let Err(e) = renew(&mut write) {
        return write_failed(shared, e);
    }
    loop {
        match shared.queue.wait(&mut batch, timeout / 2) {
            Wait::Ended => return,
            Wait::Idle => {
                if let Err(e) = renew(&mut write) {
                    return write_failed(shared, e);
                }
                continue;
            }
            Wait::Items => {}
        }
        let mut closed = false;
        for item in batch.drain(..) {
            let sent = match &item {
                // A client dropped as too slow gets no more of what was taken for it.
                Outgoing::Message(_) if shared.is_too_slow() => continue,
                Outgoing::Message(message) => {
                    renew(&mut write).and_then(|()| write.write_prepared(message))
                }
                Outgoing::Close(code, reason) => {
                    closed = true;
                    renew(&mut write).and_then(|()| write.send_close(*code, reason))
                }
            };
            if let Err(e) = sent {
                return write_failed(shared, e);
            }
        }
        // With FlushPolicy::Batched (the hub's default), what the batch wrote leaves in as
        // few writes as the buffer allows.
        match write.flush() {
            Ok(()) => {}
            Err(Error::AlreadyClosed) if closed => {}
            Err(e) => return write_failed(shared, e),
        }
        if closed {
            // The reading side finishes the closing handshake; a client that never answers
            // is cut after the close timeout.
            if !shared.queue.wait_end(close_timeout) {
                shared.cutter.cut();
            }
            return;
        }
    }
}

/// A failed write: the connection is unusable; cutting it ends the reading loop too.
fn write_failed(shared: &ConnShared, e: Error) {
    if !matches!(
        e,
        Error::AlreadyClosed | Error::Closed(_) | Error::GoingAway
    ) {
        let e = HubError::Ws(e);
        shared.report(&e);
        shared.end_because(Ending::Failed(e));
    }
    shared.cutter.cut();
}

/// The one end of every connection: out of the registry and its rooms (leave callbacks),
/// writer stopped, pending requests failed, then the disconnect callback, once, and every
/// handler dropped.
fn end(
    inner: &HubInner,
    shared: &Arc<ConnShared>,
    writer: Option<thread::JoinHandle<()>>,
    reason: Disconnected,
) {
    let core = &inner.core;
    let rooms = core.remove(&shared.id);
    shared.queue.end();
    // The connection is over: a writer blocked on a client that does not read is freed now.
    shared.cutter.cut();
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    lock(&shared.asks).clear();
    let handlers = shared.take_handlers();
    lock(&shared.values).clear();
    bump(&core.counters.disconnected);
    let Handlers {
        leave, disconnect, ..
    } = handlers;
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if let Some(leave) = &leave {
            rooms.iter().for_each(|room| leave(room));
        }
    }));
    if let Some(disconnect) = disconnect {
        let _ = catch_unwind(AssertUnwindSafe(|| disconnect(&reason)));
    }
}
