//! The event-loop echo server (`examples/echo_poll.rs`, two threads) holds 10,000 loopback
//! connections at once: every client, itself non-blocking and driven by one mio loop,
//! completes its handshake, pings, gets its pong and the echo of a 128-byte message while
//! all the others are open, then closes, and every close is clean (1000, answered).
//!
//! The server runs in a child process (this test binary again), so that each side has its
//! own file limit; both raise their soft limit to what they need.

#[allow(dead_code)]
#[path = "../examples/echo_poll.rs"]
mod echo_poll;

/// Serves until its standard input ends, printing its address first.
fn serve_until_stdin_ends() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let loops = echo_poll::EventLoops::start(listener, echo_poll::upgrader(false), 2).unwrap();
    println!("listening {}", loops.local_addr);
    let stopper = loops.stopper();
    let mut line = String::new();
    while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {}
    stopper.stop();
    loops.join();
    println!("stopped");
}

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Poll, Token};
use wsio::{ClientHandshake, CloseCode, Conn, Dialer, Error, Initiator, Interest, Message};

const CONNECTIONS: usize = 10_000;
/// Connections opened before their handshakes are driven: the listen backlog never fills.
const BATCH: usize = 500;
/// The whole test's bound.
const LIMIT: Duration = Duration::from_secs(300);
const CHILD: &str = "WSIO_EVENT_LOOP_CHILD";

/// What the parent runs in its child process.
#[test]
#[ignore = "the server half of ten_thousand_connections, run in a child process"]
fn event_loop_server_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    raise_file_limit();
    serve_until_stdin_ends();
}

fn raise_file_limit() {
    let need = (CONNECTIONS + 200) as u64;
    let got = rlimit::increase_nofile_limit(need).unwrap();
    assert!(
        got >= need,
        "this test needs {need} open files per process; the hard limit allows {got} \
         (raise it, e.g. `ulimit -Hn {need}` as root)"
    );
}

enum State {
    Handshake(Box<ClientHandshake<TcpStream>>),
    Open(Box<Conn<TcpStream>>),
    Closed,
}

struct Client {
    state: State,
    echoed: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Talking,
    Closing,
}

#[test]
fn ten_thousand_connections() {
    raise_file_limit();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "event_loop_server_child",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr: SocketAddr = loop {
        let line = lines
            .next()
            .expect("the server child printed its address")
            .unwrap();
        if let Some(addr) = line.strip_prefix("listening ") {
            break addr.parse().unwrap();
        }
    };
    let start = Instant::now();
    let url = format!("ws://{addr}/");
    let dialer = Dialer::new();
    let pongs = Arc::new(AtomicUsize::new(0));
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(1024);
    let mut clients: Vec<Client> = Vec::with_capacity(CONNECTIONS);
    let payload = "x".repeat(128);

    // Open in batches; each batch's handshakes finish before the next batch connects.
    while clients.len() < CONNECTIONS {
        let first = clients.len();
        for token in first..(first + BATCH).min(CONNECTIONS) {
            let stream = TcpStream::connect(addr).unwrap();
            stream.set_nonblocking(true).unwrap();
            let fd = stream.as_raw_fd();
            poll.registry()
                .register(
                    &mut SourceFd(&fd),
                    Token(token),
                    mio::Interest::READABLE | mio::Interest::WRITABLE,
                )
                .unwrap();
            clients.push(Client {
                state: State::Handshake(Box::new(dialer.start(stream, &url).unwrap())),
                echoed: false,
            });
            drive(&mut clients[token], Phase::Talking, &pongs, &payload);
        }
        wait_until(
            &mut poll,
            &mut events,
            &mut clients,
            start,
            Phase::Talking,
            &pongs,
            &payload,
            |c| !matches!(c.state, State::Handshake(_)),
        );
    }
    // Everyone is connected at once; every echo and pong comes back.
    wait_until(
        &mut poll,
        &mut events,
        &mut clients,
        start,
        Phase::Talking,
        &pongs,
        &payload,
        |c| c.echoed,
    );
    let open = clients
        .iter()
        .filter(|c| matches!(c.state, State::Open(_)))
        .count();
    assert_eq!(open, CONNECTIONS, "connections open at once");
    wait_for_pongs(
        &mut poll,
        &mut events,
        &mut clients,
        start,
        &pongs,
        &payload,
    );

    // Everyone closes; each close is answered.
    for client in clients.iter_mut() {
        drive(client, Phase::Closing, &pongs, &payload);
    }
    wait_until(
        &mut poll,
        &mut events,
        &mut clients,
        start,
        Phase::Closing,
        &pongs,
        &payload,
        |c| matches!(c.state, State::Closed),
    );

    drop(child.stdin.take());
    let stopped = lines.next().map(|l| l.unwrap());
    assert_eq!(stopped.as_deref(), Some("stopped"));
    assert!(child.wait().unwrap().success());
}

/// Polls and drives clients until `done` holds for every one.
#[allow(clippy::too_many_arguments)]
fn wait_until(
    poll: &mut Poll,
    events: &mut Events,
    clients: &mut [Client],
    start: Instant,
    phase: Phase,
    pongs: &Arc<AtomicUsize>,
    payload: &str,
    done: impl Fn(&Client) -> bool,
) {
    let mut left = clients.iter().filter(|c| !done(c)).count();
    while left > 0 {
        assert!(
            start.elapsed() < LIMIT,
            "{left} clients not done after {LIMIT:?}"
        );
        poll.poll(events, Some(Duration::from_millis(100))).unwrap();
        for event in events.iter() {
            let client = &mut clients[event.token().0];
            let before = done(client);
            drive(client, phase, pongs, payload);
            if !before && done(client) {
                left -= 1;
            }
        }
    }
}

fn wait_for_pongs(
    poll: &mut Poll,
    events: &mut Events,
    clients: &mut [Client],
    start: Instant,
    pongs: &Arc<AtomicUsize>,
    payload: &str,
) {
    while pongs.load(Ordering::SeqCst) < CONNECTIONS {
        assert!(start.elapsed() < LIMIT, "pongs missing after {LIMIT:?}");
        poll.poll(events, Some(Duration::from_millis(100))).unwrap();
        for event in events.iter() {
            drive(
                &mut clients[event.token().0],
                Phase::Talking,
                pongs,
                payload,
            );
        }
    }
    assert_eq!(pongs.load(Ordering::SeqCst), CONNECTIONS);
}

/// Takes one client as far as its socket allows.
fn drive(client: &mut Client, phase: Phase, pongs: &Arc<AtomicUsize>, payload: &str) {
    if let State::Handshake(handshake) = &mut client.state {
        match handshake.resume() {
            Ok((mut conn, _)) => {
                let pongs = Arc::clone(pongs);
                conn.set_pong_handler(move |_| {
                    pongs.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                });
                conn.write_ping(b"are you there").unwrap();
                conn.write_text(payload).unwrap();
                client.state = State::Open(Box::new(conn));
            }
            Err(e) if e.is_would_block() => return,
            Err(e) => panic!("handshake: {e}"),
        }
    }
    let State::Open(conn) = &mut client.state else {
        return;
    };
    match phase {
        Phase::Talking => loop {
            match conn.read_message() {
                Ok(Message::Text(text)) => {
                    assert_eq!(text, payload);
                    client.echoed = true;
                }
                Ok(other) => panic!("unexpected {other:?}"),
                Err(e) if e.is_would_block() => break,
                Err(e) => panic!("read: {e}"),
            }
        },
        Phase::Closing => match conn.close(CloseCode::NORMAL, "done") {
            Ok(status) => {
                assert_eq!(status.code, CloseCode::NORMAL, "{status}");
                assert_eq!(status.initiator, Initiator::Local);
                assert_eq!(conn.interest(), Interest::Nothing);
                client.state = State::Closed;
                return;
            }
            Err(e) if e.is_would_block() => {}
            Err(e) => panic!("close: {e}"),
        },
    }
    match conn.flush() {
        Ok(()) | Err(Error::AlreadyClosed) => {}
        Err(e) if e.is_would_block() => {}
        Err(e) => panic!("flush: {e}"),
    }
}
