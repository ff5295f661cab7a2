//! A chat: a page, the hub's JavaScript client and the hub on one port. Open
//! `http://127.0.0.1:8080/?room=ROOM&name=NICK` in two browsers.
//!
//! ```text
//! cargo run --example chat -- [--addr 127.0.0.1:8080] [--redis redis://HOST:PORT]
//! ```
//!
//! With `--redis`, chat processes that share one Redis form one chat: a page on one
//! process talks with pages on the others, room by room.
//!
//! The page joins its room through the client (`hub.join`) and emits `chat` events
//! `{room, name, text}`; the hub relays each one to the members of its room, the sender
//! included, if the sender is one. Ctrl-C or SIGTERM stops the server gracefully (close
//! 1001 to every page; the pages reconnect to the next server on the port and rejoin their
//! rooms).

use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use wsio::{HttpResponse, Server};
use wsio_hub::{Hub, RedisExchange};

/// A chat message, as the page sends it and as the hub relays it.
#[derive(Serialize, Deserialize)]
struct Chat {
    room: String,
    name: String,
    text: String,
}

/// The longest nick and message the chat relays, in bytes.
const MAX_NAME: usize = 64;
const MAX_TEXT: usize = 4096;

const PAGE: &str = include_str!("chat.html");
const USAGE: &str = "chat [--addr HOST:PORT] [--redis redis://HOST:PORT]";

fn main() -> ExitCode {
    let mut addr = "127.0.0.1:8080".to_owned();
    let mut redis = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--addr", Some(value)) => addr = value,
            ("--redis", Some(url)) => redis = Some(url),
            _ => {
                eprintln!("usage: {USAGE}");
                return ExitCode::from(2);
            }
        }
    }

    let mut builder = Hub::builder();
    if let Some(url) = &redis {
        match RedisExchange::new(url) {
            Ok(exchange) => builder = builder.exchange(exchange),
            Err(e) => {
                eprintln!("chat: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let hub = builder
        .on_connection(|conn| {
            let me = conn.clone();
            conn.on("chat", move |chat: Chat| {
                // Only members speak in a room; nicks and messages have a length.
                if me.is_joined(&chat.room)
                    && !chat.name.is_empty()
                    && chat.name.len() <= MAX_NAME
                    && chat.text.len() <= MAX_TEXT
                {
                    let _ = me.to(&chat.room).emit("chat", &chat);
                }
            });
            conn.on_error(|e| eprintln!("chat: {e}"));
        })
        .http(|request, _| match request.path() {
            "/" => HttpResponse::ok("text/html; charset=utf-8", PAGE),
            _ => HttpResponse::not_found(),
        })
        .build();

    let builder = match Server::builder().bind(addr.as_str()) {
        Ok(builder) => builder,
        Err(e) => {
            eprintln!("chat: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let server = match hub.serve(builder) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("chat: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("chat: listening on http://{}/", server.local_addrs()[0]);

    let (stop, stopped) = mpsc::channel();
    if let Err(e) = ctrlc::set_handler(move || {
        let _ = stop.send(());
    }) {
        eprintln!("chat: cannot handle signals: {e}");
        return ExitCode::FAILURE;
    }
    let _ = stopped.recv();
    server.shutdown(Duration::from_secs(5));
    ExitCode::SUCCESS
}
