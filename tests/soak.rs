//! Soak: many connections on loopback for a fixed time (half of them compressed), echoing
//! messages of every size, with pings from both sides (explicit ones from the client,
//! keepalive from both) and closes from both sides (client close, server close, client abort). Asserts that no message is lost or
//! altered, every ping is answered, every connection ends the way its client ended it, and
//! that threads, file descriptors and heap return to their baseline afterwards.
//!
//! By default a short run (2 s, 200 connections) so `cargo test` exercises it. For a long
//! run: `WSIO_SOAK_SECS=600 WSIO_SOAK_CONNS=4000 cargo test --release --test soak -- --nocapture`
//! (each connection costs two file descriptors and one server thread in this process).

#[path = "support/eventually.rs"]
mod eventually_support;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use std::collections::{BTreeMap, VecDeque};
use std::io::ErrorKind;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use eventually_support::eventually;
use wsio::{
    CloseCode, Config, Conn, DeflateConfig, Dialer, Error, Initiator, Keepalive, MaybeTlsStream,
    MessageKind, ServerStream, Upgrader,
};

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

/// How long each echo may take before the run counts as hung.
const ECHO_DEADLINE: Duration = Duration::from_secs(30);

fn env(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {v:?}"))
    })
}

fn count_dir(path: &str) -> usize {
    std::fs::read_dir(path).unwrap().count()
}

fn threads() -> usize {
    count_dir("/proc/self/task")
}

fn fds() -> usize {
    count_dir("/proc/self/fd")
}

fn open_file_limit() -> u64 {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    line.split_whitespace()
        .nth(3)
        .unwrap()
        .parse()
        .unwrap_or(u64::MAX)
}

/// A small deterministic generator, one per client worker, so a failing run can be replayed.
struct Rng(u64);

impl Rng {
    /// A generator for `seed`; nearby seeds give unrelated sequences (splitmix64 scrambles
    /// the seed, so workers 0 and 1 do not share one).
    fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

// ---- the server: thread per connection, echo, closes on request ----

#[derive(Default)]
struct ServerStats {
    echoed: AtomicU64,
    /// How each connection ended, by category.
    ends: Mutex<BTreeMap<String, u64>>,
}

const CLOSE_ME: &[u8] = b"server, close this connection";

fn serve(conn: &mut Conn<ServerStream>, stats: &ServerStats) -> String {
    let mut buf = Vec::new();
    loop {
        match conn.read_message_into(&mut buf) {
            Ok(MessageKind::Text) if buf == CLOSE_ME => {
                return match conn.close(CloseCode::NORMAL, "as you asked") {
                    Ok(status) if status.code == CloseCode::NORMAL => "server close".into(),
                    Ok(status) => format!("server close answered with {status}"),
                    Err(e) => format!("server close failed: {e}"),
                };
            }
            Ok(kind) => {
                if let Err(e) = conn.write_message(kind, &buf) {
                    return format!("write failed: {e}");
                }
                stats.echoed.fetch_add(1, Ordering::Relaxed);
            }
            Err(Error::Closed(status))
                if status.code == CloseCode::NORMAL && status.initiator == Initiator::Peer =>
            {
                return "client close".into();
            }
            Err(Error::Closed(status)) if status.code == CloseCode::ABNORMAL => {
                return "client abort".into();
            }
            Err(Error::Io(e))
                if matches!(
                    e.kind(),
                    ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
                ) =>
            {
                return "client abort".into();
            }
            Err(e) => return format!("read failed: {e}"),
        }
    }
}

fn keepalive() -> Option<Keepalive> {
    // Pings often, so keepalive runs all the time; a generous timeout, because under load a
    // client may leave a pooled connection unread for a while.
    Some(Keepalive::new(
        Duration::from_millis(100),
        Duration::from_secs(60),
    ))
}

/// The soak's server: a `wsio::Server` that records how each connection ended.
fn start_server(stats: Arc<ServerStats>) -> wsio::Server {
    let upgrader = Upgrader::new().allow_any_origin().config(
        Config::builder()
            .keepalive(keepalive())
            .deflate(DeflateConfig::new())
            .build(),
    );
    let failed = Arc::clone(&stats);
    wsio::Server::builder()
        .upgrader(upgrader)
        .on_error(move |e, _| {
            *failed
                .ends
                .lock()
                .unwrap()
                .entry(format!("handshake failed: {e}"))
                .or_default() += 1;
        })
        .bind("127.0.0.1:0")
        .unwrap()
        .start(move |mut conn| {
            let end = serve(&mut conn, &stats);
            *stats.ends.lock().unwrap().entry(end).or_default() += 1;
        })
        .unwrap()
}

// ---- the clients: workers that each keep a pool of connections busy ----

#[derive(Default, Debug, Clone, Copy)]
struct ClientStats {
    dialed: u64,
    echoed: u64,
    bytes: u64,
    pings: u64,
    keepalive_pongs: u64,
    client_closes: u64,
    server_closes: u64,
    aborts: u64,
    max_open: usize,
}

/// The pongs a client connection received. The test's own pings carry 8 random bytes;
/// the keepalive's pings are empty, and the keepalive pings whenever an echo takes longer
/// than its 100 ms interval (which a loaded machine often makes it), so their pongs are
/// counted apart. A pong must answer the oldest unanswered ping of the test: one that
/// answers nothing, comes twice, or comes out of order fails the run.
#[derive(Default)]
struct Pongs {
    /// Payloads of the test's pings not answered yet, oldest first.
    outstanding: VecDeque<[u8; 8]>,
    answered: u64,
    keepalive: u64,
    /// What was wrong with a pong, if anything.
    unexpected: Option<String>,
}

type SharedPongs = Arc<Mutex<Pongs>>;

impl Pongs {
    fn receive(&mut self, payload: &[u8]) {
        if payload.is_empty() {
            self.keepalive += 1;
            return;
        }
        match self.outstanding.pop_front() {
            Some(expected) if payload == expected => self.answered += 1,
            expected => {
                self.unexpected
                    .get_or_insert(format!("pong {payload:x?}, expected {expected:x?}"));
            }
        }
    }

    /// Every ping of the test answered, once, in order.
    fn check(&self, what: &str) {
        assert_eq!(self.unexpected, None, "{what}: unexpected pong");
        assert!(
            self.outstanding.is_empty(),
            "{what}: {} pings unanswered ({} answered)",
            self.outstanding.len(),
            self.answered
        );
    }
}

/// Half the connections offer permessage-deflate (the server accepts it).
fn dial(url: &str, deflate: bool) -> (Conn<MaybeTlsStream>, SharedPongs) {
    let mut config = Config::builder().keepalive(keepalive());
    if deflate {
        config = config.deflate(DeflateConfig::new());
    }
    let dialer = Dialer::new().config(config.build());
    let (mut conn, _) = dialer.dial(url).expect("dial");
    assert_eq!(conn.compression().is_some(), deflate);
    let pongs = SharedPongs::default();
    let seen = Arc::clone(&pongs);
    conn.set_pong_handler(move |payload| {
        seen.lock().unwrap().receive(payload);
        Ok(())
    });
    (conn, pongs)
}

fn payload(rng: &mut Rng, buf: &mut Vec<u8>) -> MessageKind {
    let len = match rng.below(100) {
        0 => 65_536 + rng.below(200_000),
        1..=20 => rng.below(16_384),
        _ => rng.below(256),
    } as usize;
    buf.clear();
    let text = rng.below(2) == 0;
    let seed = rng.next();
    buf.extend((0..len).map(|i| {
        let b = (seed as usize).wrapping_add(i.wrapping_mul(31)) as u8;
        if text { b'a' + b % 26 } else { b }
    }));
    if text {
        MessageKind::Text
    } else {
        MessageKind::Binary
    }
}

/// One round trip: a message out, its echo back, compared byte for byte.
fn echo(conn: &mut Conn<MaybeTlsStream>, rng: &mut Rng, out: &mut Vec<u8>, back: &mut Vec<u8>) {
    let kind = payload(rng, out);
    conn.write_message(kind, out).expect("write");
    conn.set_read_deadline(Some(Instant::now() + ECHO_DEADLINE))
        .unwrap();
    let got = conn.read_message_into(back).expect("echo");
    conn.set_read_deadline(None).unwrap();
    assert_eq!(got, kind, "echo came back as another kind");
    assert!(back == out, "echo of {} bytes came back altered", out.len());
}

fn worker(seed: u64, url: String, pool: usize, until: Instant) -> ClientStats {
    let mut rng = Rng::new(seed);
    let mut stats = ClientStats::default();
    let mut conns: Vec<(Conn<MaybeTlsStream>, SharedPongs)> = Vec::new();
    let (mut out, mut back) = (Vec::new(), Vec::new());
    for _ in 0..pool {
        conns.push(dial(&url, rng.below(2) == 0));
        stats.dialed += 1;
    }
    stats.max_open = conns.len();
    while Instant::now() < until {
        let i = rng.below(conns.len() as u64) as usize;
        match rng.below(100) {
            0 => {
                // The client closes.
                let (mut c, pongs) = conns.swap_remove(i);
                let status = c.close(CloseCode::NORMAL, "done").expect("client close");
                assert_eq!(status.code, CloseCode::NORMAL, "{status}");
                stats.keepalive_pongs += finished(&pongs, "client close");
                stats.client_closes += 1;
            }
            1 => {
                // The server closes, on request.
                let (mut c, pongs) = conns.swap_remove(i);
                c.write_text(std::str::from_utf8(CLOSE_ME).unwrap())
                    .unwrap();
                c.set_read_deadline(Some(Instant::now() + ECHO_DEADLINE))
                    .unwrap();
                match c.read_message() {
                    Err(Error::Closed(status)) => {
                        assert_eq!(status.code, CloseCode::NORMAL, "{status}");
                        assert_eq!(status.initiator, Initiator::Peer);
                    }
                    other => panic!("expected the server's close, got {other:?}"),
                }
                stats.keepalive_pongs += finished(&pongs, "server close");
                stats.server_closes += 1;
            }
            2 => {
                // The client vanishes without a close frame.
                drop(conns.swap_remove(i));
                stats.aborts += 1;
            }
            3..=12 => {
                // A ping, then an echo: the pong arrives before the echo does.
                let (c, pongs) = &mut conns[i];
                let payload = rng.next().to_be_bytes();
                pongs.lock().unwrap().outstanding.push_back(payload);
                c.write_ping(&payload).unwrap();
                stats.pings += 1;
                echo(c, &mut rng, &mut out, &mut back);
                pongs.lock().unwrap().check("ping, then an echo");
                stats.echoed += 1;
                stats.bytes += out.len() as u64;
            }
            _ => {
                echo(&mut conns[i].0, &mut rng, &mut out, &mut back);
                stats.echoed += 1;
                stats.bytes += out.len() as u64;
            }
        }
        while conns.len() < pool {
            conns.push(dial(&url, rng.below(2) == 0));
            stats.dialed += 1;
        }
    }
    for (mut c, pongs) in conns {
        c.close(CloseCode::NORMAL, "the end").expect("final close");
        stats.keepalive_pongs += finished(&pongs, "final close");
        stats.client_closes += 1;
    }
    stats
}

/// Checks a closed connection's pongs; returns how many answered keepalive pings.
fn finished(pongs: &SharedPongs, what: &str) -> u64 {
    let pongs = pongs.lock().unwrap();
    pongs.check(what);
    pongs.keepalive
}

/// Runs the whole soak once and returns what the clients did.
fn run(secs: u64, conns: usize, workers: usize) -> (ClientStats, Arc<ServerStats>) {
    let stats = Arc::new(ServerStats::default());
    let server = start_server(Arc::clone(&stats));
    let addr = server.local_addrs()[0];
    let url = format!("ws://{addr}/soak");
    let until = Instant::now() + Duration::from_secs(secs);
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let url = url.clone();
            let pool = conns / workers + usize::from(w < conns % workers);
            thread::spawn(move || worker(w as u64, url, pool.max(1), until))
        })
        .collect();
    let mut total = ClientStats::default();
    for h in handles {
        let s = h.join().expect("a client worker failed");
        total.dialed += s.dialed;
        total.echoed += s.echoed;
        total.bytes += s.bytes;
        total.pings += s.pings;
        total.keepalive_pongs += s.keepalive_pongs;
        total.client_closes += s.client_closes;
        total.server_closes += s.server_closes;
        total.aborts += s.aborts;
        total.max_open += s.max_open;
    }
    assert!(
        eventually(Duration::from_secs(30), || server.stats().live == 0),
        "{} server connections still live",
        server.stats().live
    );
    assert!(server.shutdown(Duration::from_secs(5)));
    server.wait();
    (total, stats)
}

#[test]
fn soak() {
    let secs = env("WSIO_SOAK_SECS").unwrap_or(2);
    let conns = env("WSIO_SOAK_CONNS").unwrap_or(200) as usize;
    let workers = (conns / 25).clamp(1, 64);
    let needed = 2 * conns as u64 + 64;
    assert!(
        open_file_limit() >= needed,
        "{conns} connections need {needed} file descriptors; raise `ulimit -n` or lower \
         WSIO_SOAK_CONNS"
    );

    // Warm up once, so lazily created process-wide state is in the baseline.
    run(0, 1, 1);
    assert!(eventually(Duration::from_secs(10), || threads() <= 2));
    let (threads0, fds0, heap0) = (threads(), fds(), counting_alloc::live());
    counting_alloc::reset_peak();

    let started = Instant::now();
    let (client, server) = run(secs, conns, workers);
    let took = started.elapsed();
    let peak = counting_alloc::peak() - heap0;

    // Every connection ended the way its client ended it, and nothing else happened.
    let ends = server.ends.lock().unwrap().clone();
    let count = |k: &str| ends.get(k).copied().unwrap_or(0);
    let expected: BTreeMap<String, u64> = [
        ("client close", client.client_closes),
        ("server close", client.server_closes),
        ("client abort", client.aborts),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .map(|(k, n)| (k.to_string(), n))
    .collect();
    assert_eq!(
        ends, expected,
        "server-side ends differ from what the clients did"
    );
    assert_eq!(
        client.dialed,
        count("client close") + count("server close") + count("client abort")
    );
    // No message lost: the server echoed exactly what the clients received and checked.
    assert_eq!(server.echoed.load(Ordering::SeqCst), client.echoed);

    // Threads, descriptors and heap return to the baseline.
    assert!(
        eventually(Duration::from_secs(10), || threads() <= threads0),
        "threads: {} now, {threads0} before",
        threads()
    );
    assert!(
        eventually(Duration::from_secs(10), || fds() <= fds0),
        "file descriptors: {} now, {fds0} before",
        fds()
    );
    let mut heap = 0;
    assert!(
        eventually(Duration::from_secs(10), || {
            heap = counting_alloc::live();
            heap <= heap0 + 16 * 1024
        }),
        "heap: {heap} bytes live now, {heap0} before"
    );

    eprintln!(
        "soak: {took:.1?}, {} connections ({} open at once), {} echoes ({:.1} MB), {} pings \
         (and {} keepalive pongs), \
         closes: {} by client, {} by server, {} aborts; peak heap {:.1} MB ({} B per open \
         connection, both ends); threads {threads0}->{}, fds {fds0}->{}, heap {heap0}->{heap}",
        client.dialed,
        client.max_open,
        client.echoed,
        client.bytes as f64 / 1e6,
        client.pings,
        client.keepalive_pongs,
        client.client_closes,
        client.server_closes,
        client.aborts,
        peak as f64 / 1e6,
        peak / client.max_open.max(1),
        threads(),
        fds(),
    );
}
