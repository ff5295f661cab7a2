//! The Autobahn|Testsuite `fuzzingclient` target: a streaming echo server.
//!
//! ```text
//! cargo run --release --example autobahn_server -- [--addr HOST:PORT] [--deflate | --no-deflate]
//! # defaults: 127.0.0.1:9001, deflate on
//! ```

mod common;

use std::net::TcpListener;
use std::sync::Arc;

use wsio::{Config, DeflateConfig, FlushPolicy, Upgrader};

const USAGE: &str = "autobahn_server [--addr HOST:PORT] [--deflate | --no-deflate] [--verbose]";

fn main() -> std::io::Result<()> {
    let args = common::Args::parse(
        USAGE,
        &["--deflate", "--no-deflate", "--verbose"],
        &["--addr"],
    );
    let addr = args
        .value("--addr")
        .unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    let verbose = args.flag("--verbose");
    let listener = TcpListener::bind(&addr)?;
    println!(
        "autobahn_server listening on ws://{}/",
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
        std::thread::spawn(move || {
            let _ = stream.set_nodelay(true);
            let result = upgrader.upgrade(stream).and_then(common::echo);
            if let (Err(e), true) = (result, verbose) {
                eprintln!("{e}");
            }
        });
    }
    Ok(())
}
