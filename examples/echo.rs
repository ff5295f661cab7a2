//! An echo server: every message comes back as it arrived, one thread per connection, any
//! origin accepted, the first subprotocol a client offers agreed to (a test server).
//!
//! ```text
//! cargo run --example echo -- [--addr HOST:PORT] [--deflate] [--stream]   # default 127.0.0.1:9001
//! ```
//!
//! Whole messages by default, which every client can talk to. `--stream` echoes each message
//! as it arrives, through a 64 KiB buffer whatever its size; a client that writes a large
//! message whole before reading (a single-threaded one) then blocks with this server (see
//! `common::echo`).

mod common;

use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use wsio::{Config, DeflateConfig, Error, FlushPolicy, Upgrader};

const USAGE: &str = "echo [--addr HOST:PORT] [--deflate] [--stream]";

fn main() -> std::io::Result<()> {
    let args = common::Args::parse(USAGE, &["--deflate", "--stream"], &["--addr"]);
    let addr = args
        .value("--addr")
        .unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    let listener = TcpListener::bind(&addr)?;
    println!(
        "wsio echo server listening on ws://{}/",
        listener.local_addr()?
    );

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
        std::thread::spawn(move || serve(&upgrader, connection, stream));
    }
    Ok(())
}

/// One connection, on its own thread: the handshake, then the echo until the peer closes.
fn serve(upgrader: &Upgrader, connection: TcpStream, stream: bool) {
    let peer = connection
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let _ = connection.set_nodelay(true);
    let result = upgrader.upgrade(connection).and_then(|mut conn| {
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
    });
    if let Err(e) = result {
        eprintln!("{peer}: {e}");
    }
}
