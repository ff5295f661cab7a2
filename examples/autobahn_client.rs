//! The Autobahn|Testsuite `fuzzingserver` target: runs every case as a streaming echo client,
//! then asks the suite to write its report.
//!
//! ```text
//! cargo run --release --example autobahn_client -- [--url URL] [--agent NAME] [--deflate | --no-deflate]
//!     [--ca CA.pem] [--nonblocking]
//! # defaults: ws://127.0.0.1:9001, wsio, deflate on; --ca: a CA to trust for wss://
//! ```
//!
//! With `--nonblocking` (ws:// only) each case runs over a non-blocking socket polled with
//! mio: the handshake with [`Dialer::start`], the echo with reads and writes that would
//! block, resumed when the socket is ready.

mod common;

use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::Instant;

use mio::unix::SourceFd;
use mio::{Events, Poll, Token};
use wsio::{CloseCode, Config, DeflateConfig, Dialer, Error, Interest};

const USAGE: &str = "autobahn_client [--url URL] [--agent NAME] [--deflate | --no-deflate] [--verbose] [--ca CA.pem] [--nonblocking]";

fn main() -> wsio::Result<()> {
    let args = common::Args::parse(
        USAGE,
        &["--deflate", "--no-deflate", "--verbose", "--nonblocking"],
        &["--url", "--agent", "--ca"],
    );
    let base = args
        .value("--url")
        .unwrap_or_else(|| "ws://127.0.0.1:9001".to_owned());
    let base = base.trim_end_matches('/');
    let agent = args.value("--agent").unwrap_or_else(|| "wsio".to_owned());
    let verbose = args.flag("--verbose");
    let nonblocking = args.flag("--nonblocking");
    if nonblocking && !base.starts_with("ws://") {
        eprintln!("--nonblocking takes a ws:// URL\nusage: {USAGE}");
        std::process::exit(2);
    }
    // permessage-deflate is on unless --no-deflate; the offer includes client_max_window_bits,
    // so the suite tests servers that limit our window too.
    let mut config = Config::builder();
    if !args.flag("--no-deflate") {
        config = config.deflate(DeflateConfig::new());
    }
    let mut dialer = Dialer::new().config(config.build());
    if let Some(ca) = args.value("--ca") {
        let roots = wsio::tls::certificates_from_pem_file(ca)?;
        dialer = dialer.tls_config(wsio::tls::client_config(roots)?);
    }

    let (mut conn, _) = dialer.dial(&format!("{base}/getCaseCount"))?;
    let count: u32 = conn
        .read_text(64)?
        .trim()
        .parse()
        .map_err(|_| Error::Io(std::io::Error::other("case count is not a number")))?;
    let _ = conn.close(CloseCode::NORMAL, "");
    println!("running {count} cases as agent {agent}");

    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        let result = match nonblocking {
            true => echo_nonblocking(&dialer, &url),
            false => dialer.dial(&url).and_then(|(conn, _)| common::echo(conn)),
        };
        if let (Err(e), true) = (result, verbose) {
            eprintln!("case {case}: {e}");
        }
    }

    let (mut conn, _) = dialer.dial(&format!("{base}/updateReports?agent={agent}"))?;
    let _ = conn.close(CloseCode::NORMAL, "");
    println!("done; report updated");
    Ok(())
}

/// One case over a non-blocking socket: the handshake and the echo, each call resumed when
/// mio says the socket is ready (or at the connection's next deadline).
fn echo_nonblocking(dialer: &Dialer, url: &str) -> wsio::Result<()> {
    let authority = url
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .unwrap_or_default()
        .replace("localhost", "127.0.0.1");
    let stream = TcpStream::connect(authority)?;
    stream.set_nonblocking(true)?;
    stream.set_nodelay(true)?;
    let mut poll = Poll::new()?;
    let fd = stream.as_raw_fd();
    poll.registry().register(
        &mut SourceFd(&fd),
        Token(0),
        mio::Interest::READABLE | mio::Interest::WRITABLE,
    )?;
    let mut events = Events::with_capacity(4);
    let mut wait = |deadline: Option<Instant>| -> wsio::Result<()> {
        let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        match poll.poll(&mut events, timeout) {
            Err(e) if e.kind() != std::io::ErrorKind::Interrupted => Err(e.into()),
            _ => Ok(()),
        }
    };
    let mut handshake = dialer.start(stream, url)?;
    let mut conn = loop {
        match handshake.resume() {
            Ok((conn, _)) => break conn,
            Err(e) if e.is_would_block() => wait(handshake.deadline())?,
            Err(e) => return Err(e),
        }
    };
    loop {
        loop {
            match conn.read_message() {
                Ok(message) => conn.write_message(message.kind(), message.as_bytes())?,
                Err(e) if e.is_would_block() => break,
                Err(Error::Closed(_)) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        match conn.flush() {
            Err(e) if !e.is_would_block() => return Err(e),
            _ => {}
        }
        if conn.interest() == Interest::Nothing {
            return Ok(());
        }
        wait(conn.next_deadline())?;
    }
}
