//! The Autobahn|Testsuite `fuzzingclient` target: a streaming echo server.
//!
//! ```text
//! cargo run --release --example autobahn_server -- [--addr HOST:PORT] [--deflate | --no-deflate]
//!     [--cert CERT.pem --key KEY.pem]
//! # defaults: 127.0.0.1:9001, deflate on, ws:// (wss:// with --cert and --key)
//! ```

mod common;

use std::net::TcpListener;
use std::sync::Arc;

use wsio::{Config, DeflateConfig, FlushPolicy, TlsAcceptor, Upgrader};

const USAGE: &str = "autobahn_server [--addr HOST:PORT] [--deflate | --no-deflate] [--verbose] \
                     [--cert CERT.pem --key KEY.pem]";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = common::Args::parse(
        USAGE,
        &["--deflate", "--no-deflate", "--verbose"],
        &["--addr", "--cert", "--key"],
    );
    let addr = args
        .value("--addr")
        .unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    let verbose = args.flag("--verbose");
    let tls = match (args.value("--cert"), args.value("--key")) {
        (Some(cert), Some(key)) => Some(Arc::new(TlsAcceptor::from_pem_files(cert, key)?)),
        (None, None) => None,
        _ => return Err(format!("--cert and --key go together\nusage: {USAGE}").into()),
    };
    let listener = TcpListener::bind(&addr)?;
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    println!(
        "autobahn_server listening on {scheme}://{}/",
        listener.local_addr()?
    );

    // permessage-deflate is on unless --no-deflate: sections 12 and 13 need it.
    let mut config = Config::builder().flush_policy(FlushPolicy::Batched);
    if !args.flag("--no-deflate") {
        config = config.deflate(DeflateConfig::new());
    }
    let config = config.build();
    let upgrader = Arc::new(Upgrader::new().allow_any_origin().config(config));
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let upgrader = Arc::clone(&upgrader);
        let tls = tls.clone();
        std::thread::spawn(move || {
            let _ = stream.set_nodelay(true);
            let result = match &tls {
                Some(acceptor) => upgrader
                    .upgrade_tls(stream, acceptor)
                    .and_then(common::echo),
                None => upgrader.upgrade(stream).and_then(common::echo),
            };
            if let (Err(e), true) = (result, verbose) {
                eprintln!("{e}");
            }
        });
    }
    Ok(())
}
