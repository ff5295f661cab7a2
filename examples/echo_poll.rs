//! An echo server on event loops: every message comes back as it arrived, like the echo
//! example, but thousands of connections share a few threads instead of a thread each.
//! Each thread polls its connections with mio and drives wsio over non-blocking sockets
//! (see the crate's "Non-blocking" topic); the keepalive, the handshake timeout and the
//! close timeout run on the loop's clock. Ctrl-C or SIGTERM stops it gracefully (close 1001
//! to every client, within the close timeout) and it exits 0.
//!
//! ```text
//! cargo run --release --example echo_poll -- [--addr HOST:PORT] [--deflate] [--threads N]
//! ```
//!
//! The default address is 127.0.0.1:9001, with 2 event loops. Unix only (mio's `SourceFd`
//! registers the sockets).

use std::collections::BTreeSet;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use mio::unix::SourceFd;
use mio::{Events, Poll, Token, Waker};
use wsio::{
    CloseCode, Config, Conn, DeflateConfig, FlushPolicy, Interest, ServerHandshake, Upgrader,
};

const USAGE: &str = "echo_poll [--addr HOST:PORT] [--deflate] [--threads N]";

const LISTENER: Token = Token(usize::MAX - 1);
const WAKER: Token = Token(usize::MAX - 2);

#[allow(dead_code)] // The tests include this file and call `serve` themselves.
fn main() -> ExitCode {
    let mut addr = "127.0.0.1:9001".to_owned();
    let mut deflate = false;
    let mut threads = 2;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let parsed = match arg.as_str() {
            "--addr" => args.next().map(|a| addr = a),
            "--deflate" => {
                deflate = true;
                Some(())
            }
            "--threads" => args
                .next()
                .and_then(|n| n.parse().ok())
                .filter(|&n| n > 0)
                .map(|n| threads = n),
            _ => None,
        };
        if parsed.is_none() {
            eprintln!("usage: {USAGE}");
            return ExitCode::from(2);
        }
    }
    let listener = match TcpListener::bind(&addr) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("echo_poll: cannot serve on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let loops = match EventLoops::start(listener, upgrader(deflate), threads) {
        Ok(loops) => loops,
        Err(e) => {
            eprintln!("echo_poll: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "wsio echo_poll server listening on ws://{}/ ({threads} event loops)",
        loops.local_addr
    );
    let stopper = loops.stopper();
    if let Err(e) = ctrlc::set_handler(move || stopper.stop()) {
        eprintln!("echo_poll: cannot handle signals: {e}");
        return ExitCode::FAILURE;
    }
    loops.join();
    ExitCode::SUCCESS
}

/// The echo server's upgrader: any origin, the client's first subprotocol, batched writes
/// (the echoes of one read leave in one write), permessage-deflate with `deflate`.
pub fn upgrader(deflate: bool) -> Upgrader {
    // Batched writes; each turn reads until WouldBlock, so the read after a short one can
    // be skipped.
    let mut config = Config::builder()
        .flush_policy(FlushPolicy::Batched)
        .skip_drained_reads(true);
    if deflate {
        config = config.deflate(DeflateConfig::new());
    }
    Upgrader::new()
        .allow_any_origin()
        .config(config.build())
        .check_request(|request, accept| {
            if let Some(protocol) = request.subprotocols().next() {
                accept.set_subprotocol(protocol);
            }
            Ok(())
        })
}

/// Running event loops, one thread each, sharing one listener.
pub struct EventLoops {
    pub local_addr: std::net::SocketAddr,
    threads: Vec<std::thread::JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    wakers: Vec<Arc<Waker>>,
}

/// Stops the loops from any thread (a signal handler's, say).
#[derive(Clone)]
pub struct Stopper {
    stop: Arc<AtomicBool>,
    wakers: Vec<Arc<Waker>>,
}

impl Stopper {
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        for waker in &self.wakers {
            let _ = waker.wake();
        }
    }
}

impl EventLoops {
    /// Starts `threads` loops accepting on `listener`.
    pub fn start(
        listener: TcpListener,
        upgrader: Upgrader,
        threads: usize,
    ) -> io::Result<EventLoops> {
        listener.set_nonblocking(true)?;
        let local_addr = listener.local_addr()?;
        let upgrader = Arc::new(upgrader);
        let stop = Arc::new(AtomicBool::new(false));
        let mut loops = EventLoops {
            local_addr,
            threads: Vec::new(),
            stop: Arc::clone(&stop),
            wakers: Vec::new(),
        };
        for i in 0..threads {
            let poll = Poll::new()?;
            let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
            let listener = listener.try_clone()?;
            let fd = listener.as_raw_fd();
            poll.registry()
                .register(&mut SourceFd(&fd), LISTENER, mio::Interest::READABLE)?;
            let event_loop = EventLoop {
                poll,
                listener,
                upgrader: Arc::clone(&upgrader),
                slots: Vec::new(),
                free: Vec::new(),
                timers: BTreeSet::new(),
                stopping: false,
                again: Vec::new(),
            };
            let stop = Arc::clone(&stop);
            let thread = std::thread::Builder::new()
                .name(format!("echo_poll-{i}"))
                .spawn(move || event_loop.run(&stop))?;
            loops.threads.push(thread);
            loops.wakers.push(waker);
        }
        Ok(loops)
    }

    pub fn stopper(&self) -> Stopper {
        Stopper {
            stop: Arc::clone(&self.stop),
            wakers: self.wakers.clone(),
        }
    }

    /// Waits for the loops, which end once stopped and their connections closed.
    pub fn join(self) {
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}

/// One connection: its handshake, then the connection (boxed: a slot stays small).
enum State {
    Handshake(Box<ServerHandshake<TcpStream>>),
    Open(Box<Conn<TcpStream>>),
}

struct Slot {
    state: State,
    fd: RawFd,
    /// The interest registered with the poller.
    registered: Interest,
    /// The moment in the loop's timers: no later than the connection's next deadline.
    deadline: Option<Instant>,
}

struct EventLoop {
    poll: Poll,
    listener: TcpListener,
    upgrader: Arc<Upgrader>,
    /// Connections by token.
    slots: Vec<Option<Slot>>,
    /// Tokens free for reuse.
    free: Vec<usize>,
    /// When each connection must be called even if its socket stays quiet.
    timers: BTreeSet<(Instant, usize)>,
    stopping: bool,
    /// Connections that used up their turn's share with more to read: an edge-triggered
    /// poller will not report them again, so they go on after the next poll.
    again: Vec<usize>,
}

impl EventLoop {
    fn run(mut self, stop: &AtomicBool) {
        let mut events = Events::with_capacity(1024);
        loop {
            if stop.load(Ordering::SeqCst) && !self.stopping {
                // Stop accepting; every connection closes with 1001 at its next turn.
                self.stopping = true;
                let fd = self.listener.as_raw_fd();
                let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
                for token in 0..self.slots.len() {
                    self.drive(token);
                }
            }
            if self.stopping && self.slots.iter().all(Option::is_none) {
                return;
            }
            let timeout = match self.again.is_empty() {
                false => Some(std::time::Duration::ZERO),
                true => self
                    .timers
                    .first()
                    .map(|&(at, _)| at.saturating_duration_since(Instant::now())),
            };
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    eprintln!("echo_poll: poll: {e}");
                    return;
                }
            }
            for event in &events {
                match event.token() {
                    LISTENER => self.accept(),
                    WAKER => {}
                    Token(token) => self.drive(token),
                }
            }
            for token in std::mem::take(&mut self.again) {
                self.drive(token);
            }
            let now = Instant::now();
            while let Some(&(at, token)) = self.timers.first() {
                if at > now {
                    break;
                }
                self.timers.pop_first();
                if let Some(slot) = self.slots.get_mut(token).and_then(Option::as_mut) {
                    slot.deadline = None;
                }
                self.drive(token);
            }
        }
    }

    /// Accepts every waiting client.
    fn accept(&mut self) {
        loop {
            let stream = match self.listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // Out of descriptors, say: the clients wait in the backlog.
                    eprintln!("echo_poll: accept: {e}");
                    return;
                }
            };
            if stream.set_nonblocking(true).is_err() {
                continue;
            }
            let _ = stream.set_nodelay(true);
            let fd = stream.as_raw_fd();
            let token = self.free.pop().unwrap_or(self.slots.len());
            let registered = self.poll.registry().register(
                &mut SourceFd(&fd),
                Token(token),
                mio::Interest::READABLE,
            );
            if registered.is_err() {
                continue;
            }
            let slot = Slot {
                state: State::Handshake(Box::new(self.upgrader.start(stream))),
                fd,
                registered: Interest::Read,
                deadline: None,
            };
            if token == self.slots.len() {
                self.slots.push(Some(slot));
            } else {
                self.slots[token] = Some(slot);
            }
            // The request may be there already.
            self.drive(token);
        }
    }

    /// Takes a connection as far as its socket allows, then registers what it waits for.
    fn drive(&mut self, token: usize) {
        let Some(slot) = self.slots.get_mut(token).and_then(Option::as_mut) else {
            return;
        };
        if let State::Handshake(handshake) = &mut slot.state {
            match handshake.resume(&self.upgrader) {
                Ok(conn) => slot.state = State::Open(Box::new(conn)),
                Err(e) if e.is_would_block() => {}
                Err(_) => return self.remove(token),
            }
        }
        let (interest, deadline) = match &mut slot.state {
            State::Handshake(handshake) => (handshake.interest(), handshake.deadline()),
            State::Open(conn) => {
                if self.stopping {
                    // Resumed at each turn until the peer answers or the close timeout.
                    let _ = conn.close(CloseCode::GOING_AWAY, "server shutting down");
                } else if echo(conn) == Turn::Again {
                    self.again.push(token);
                }
                (conn.interest(), conn.next_deadline())
            }
        };
        if interest == Interest::Nothing {
            return self.remove(token);
        }
        if interest != slot.registered {
            let want = match interest {
                Interest::Write => mio::Interest::WRITABLE,
                Interest::ReadWrite => mio::Interest::READABLE | mio::Interest::WRITABLE,
                _ => mio::Interest::READABLE,
            };
            let fd = slot.fd;
            if self
                .poll
                .registry()
                .reregister(&mut SourceFd(&fd), Token(token), want)
                .is_err()
            {
                return self.remove(token);
            }
            slot.registered = interest;
        }
        // The timer is moved only when the connection needs it earlier: the keepalive's
        // moment moves with every message, and a timer that fires early costs one call
        // (which then sets the timer anew), far less than moving it each time.
        let earlier = match (deadline, slot.deadline) {
            (Some(new), Some(old)) => new < old,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if earlier {
            if let Some(old) = slot.deadline {
                self.timers.remove(&(old, token));
            }
            if let Some(new) = deadline {
                self.timers.insert((new, token));
            }
            slot.deadline = deadline;
        }
    }

    /// Drops a connection (its socket closes with it).
    fn remove(&mut self, token: usize) {
        if let Some(slot) = self.slots[token].take() {
            let _ = self.poll.registry().deregister(&mut SourceFd(&slot.fd));
            if let Some(at) = slot.deadline {
                self.timers.remove(&(at, token));
            }
            self.free.push(token);
        }
    }
}

/// Echoes every message the socket has, then sends what is queued. A read that would block
/// ends the turn; so does the end of the connection, which `interest` then reports.
fn echo(conn: &mut Conn<TcpStream>) -> Turn {
    let mut turn = Turn::Done;
    for _ in 0..MESSAGES_PER_TURN {
        turn = Turn::Done;
        let Ok(message) = conn.read_message() else {
            break;
        };
        // Queued if the socket is full: never refused, never blocking.
        if conn
            .write_message(message.kind(), message.as_bytes())
            .is_err()
        {
            break;
        }
        turn = Turn::Again;
    }
    let _ = conn.flush();
    turn
}

/// How a connection's turn ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Turn {
    /// It read until it would block (or ended): the poller says when to go on.
    Done,
    /// It used up its share: it goes on after the others' turns.
    Again,
}

/// The most messages a connection echoes before the others get their turn.
const MESSAGES_PER_TURN: usize = 64;
