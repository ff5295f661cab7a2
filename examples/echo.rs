//! An echo server: every message comes back as it arrived, one thread per connection, any
//! origin accepted, the first subprotocol a client offers agreed to (a test server).
//!
//! ```text
//! cargo run --example echo -- [--addr HOST:PORT] [--deflate] [--stream]   # default 127.0.0.1:9001
//! cargo run --example echo -- --cert CERT.pem --key KEY.pem             # wss://
//! ```
//!
//! With `--cert` and `--key` (a PEM certificate chain, the server's own first, and its
//! private key) it serves `wss://`; the TLS handshake and the upgrade together must end
//! within the handshake timeout (10 s by default).
//!
//! Whole messages by default, which every client can talk to. `--stream` echoes each message
//! as it arrives, through a 64 KiB buffer whatever its size; a client that writes a large
//! message whole before reading (a single-threaded one) then blocks with this server (see
//! `common::echo`).

mod common;

use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use wsio::{Config, Conn, DeflateConfig, Error, FlushPolicy, Split, Stream, TlsAcceptor, Upgrader};

const USAGE: &str =
    "echo [--addr HOST:PORT] [--deflate] [--stream] [--cert CERT.pem --key KEY.pem]";

fn main() -> ExitCode {
    let args = common::Args::parse(
        USAGE,
        &["--deflate", "--stream"],
        &["--addr", "--cert", "--key"],
    );
    let addr = args
        .value("--addr")
        .unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    let tls = match (args.value("--cert"), args.value("--key")) {
        (Some(cert), Some(key)) => match TlsAcceptor::from_pem_files(&cert, &key) {
            Ok(acceptor) => Some(acceptor),
            Err(e) => {
                eprintln!("echo: {e}");
                return ExitCode::FAILURE;
            }
        },
        (None, None) => None,
        _ => {
            eprintln!("--cert and --key go together\nusage: {USAGE}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind(&addr) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("echo: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    match listener.local_addr() {
        Ok(local) => println!("wsio echo server listening on {scheme}://{local}/"),
        Err(e) => eprintln!("echo: {e}"),
    }

    // Batched writes: echoes of pipelined messages leave in one write, flushed whenever the
    // connection is about to wait for more input. Messages up to 64 MiB, the default limit.
    let mut config = Config::builder().flush_policy(FlushPolicy::Batched);
    if args.flag("--deflate") {
        config = config.deflate(DeflateConfig::new());
    }
    let upgrader = Upgrader::new()
        .allow_any_origin()
        .config(config.build())
        .check_request(|request, accept| {
            // A test server speaks whatever the client wants: its first choice. Clients
            // that offer subprotocols (browsers' and Node's among them) refuse a response
            // that names none.
            if let Some(protocol) = request.subprotocols().next() {
                accept.set_subprotocol(protocol);
            }
            Ok(())
        });
    let upgrader = Arc::new(upgrader);
    let tls = tls.map(Arc::new);
    let stream = args.flag("--stream");
    for connection in listener.incoming() {
        let connection = match connection {
            Ok(connection) => connection,
            Err(e) => {
                // Out of file descriptors, say: wait a little rather than spin.
                eprintln!("accept: {e}");
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let upgrader = Arc::clone(&upgrader);
        let tls = tls.clone();
        std::thread::spawn(move || {
            let peer = connection
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_default();
            let _ = connection.set_nodelay(true);
            let result = match &tls {
                Some(acceptor) => upgrader
                    .upgrade_tls(connection, acceptor)
                    .and_then(|conn| echo(conn, stream)),
                None => upgrader
                    .upgrade(connection)
                    .and_then(|conn| echo(conn, stream)),
            };
            if let Err(e) = result {
                eprintln!("{peer}: {e}");
            }
        });
    }
    ExitCode::SUCCESS
}

/// Echoes until the peer closes: whole messages, or streamed.
fn echo<S: Stream + Split>(mut conn: Conn<S>, stream: bool) -> wsio::Result<()> {
    if stream {
        return common::echo(conn);
    }
    let mut buf = Vec::new();
    loop {
        match conn.read_message_into(&mut buf) {
            Ok(kind) => conn.write_message(kind, &buf)?,
            Err(Error::Closed(_)) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}
