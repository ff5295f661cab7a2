//! A hub served on loopback, and a client that speaks the hub protocol over wsio's own
//! client, frame by frame, as the protocol document describes it.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wsio::{Conn, Dialer, Error, Message, MessageKind, Server};
use wsio_hub::{Hub, HubBuilder};

/// A hub served on a free loopback port; shut down when dropped.
pub struct Served {
    pub hub: Hub,
    pub server: Server,
    pub addr: SocketAddr,
}

impl Served {
    pub fn start(builder: HubBuilder) -> Served {
        let hub = builder.check_origin(|_| true).build();
        let server = hub
            .serve(Server::builder().bind("127.0.0.1:0").unwrap())
            .unwrap();
        let addr = server.local_addrs()[0];
        Served { hub, server, addr }
    }

    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// A client that speaks the hub protocol, after its welcome.
    pub fn client(&self) -> Client {
        Client::connect(&self.url())
    }

    /// A client that does not offer the hub subprotocol.
    pub fn native_client(&self) -> Conn<wsio::MaybeTlsStream> {
        Dialer::new().dial(&self.url()).unwrap().0
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.server.shutdown(Duration::from_secs(2));
    }
}

pub struct Client {
    pub conn: Conn<wsio::MaybeTlsStream>,
    pub id: String,
    next_ask: u64,
}

impl Client {
    pub fn connect(url: &str) -> Client {
        let (mut conn, response) = Dialer::new()
            .subprotocols(["wsio-hub.1"])
            .dial(url)
            .unwrap();
        assert_eq!(
            response.header("Sec-WebSocket-Protocol"),
            Some("wsio-hub.1")
        );
        conn.set_read_deadline(Some(Instant::now() + Duration::from_secs(5)))
            .unwrap();
        let welcome = read_frame(&mut conn).expect("a welcome");
        assert_eq!(welcome["hub"], 1, "{welcome}");
        let id = welcome["id"].as_str().expect("an id").to_owned();
        Client {
            conn,
            id,
            next_ask: 1,
        }
    }

    /// Sends a hub frame: U+001E and the JSON.
    pub fn send(&mut self, frame: Value) {
        self.conn.write_text(&format!("\u{1e}{frame}")).unwrap();
    }

    pub fn emit(&mut self, event: &str, data: Value) {
        self.send(json!({"event": event, "data": data}));
    }

    /// Sends a request and returns the reply frame (other frames before it are dropped).
    pub fn ask(&mut self, frame: Value) -> Value {
        let n = self.next_ask;
        self.next_ask += 1;
        let mut frame = frame;
        frame["ask"] = json!(n);
        self.send(frame);
        loop {
            let reply = self.frame();
            if reply["reply"] == n {
                return reply;
            }
        }
    }

    pub fn join(&mut self, room: &str) {
        let reply = self.ask(json!({"join": room}));
        assert_eq!(reply["data"], Value::Null, "join {room}: {reply}");
        assert!(reply.get("error").is_none(), "join {room}: {reply}");
    }

    pub fn leave(&mut self, room: &str) {
        let reply = self.ask(json!({"leave": room}));
        assert!(reply.get("error").is_none(), "leave {room}: {reply}");
    }

    /// The next message, within 5 s.
    pub fn message(&mut self) -> Message {
        self.conn
            .set_read_deadline(Some(Instant::now() + Duration::from_secs(5)))
            .unwrap();
        self.conn.read_message().expect("a message within 5 s")
    }

    /// The next hub frame, within 5 s.
    pub fn frame(&mut self) -> Value {
        self.conn
            .set_read_deadline(Some(Instant::now() + Duration::from_secs(5)))
            .unwrap();
        read_frame(&mut self.conn).expect("a hub frame within 5 s")
    }

    /// The next event frame's name and data.
    pub fn event(&mut self) -> (String, Value) {
        let frame = self.frame();
        let name = frame["event"]
            .as_str()
            .unwrap_or_else(|| panic!("not an event: {frame}"));
        (name.to_owned(), frame["data"].clone())
    }

    /// Asserts nothing arrives for `wait`.
    pub fn nothing_for(&mut self, wait: Duration) {
        self.conn
            .set_read_deadline(Some(Instant::now() + wait))
            .unwrap();
        match self.conn.read_message() {
            Err(Error::Timeout) => {}
            other => panic!("expected nothing, got {other:?}"),
        }
    }

    /// Reads until the connection ends; the close code the hub sent.
    pub fn close_code(&mut self) -> u16 {
        self.conn
            .set_read_deadline(Some(Instant::now() + Duration::from_secs(10)))
            .unwrap();
        loop {
            match self.conn.read_message() {
                Ok(_) => continue,
                Err(Error::Closed(status)) => return status.code.as_u16(),
                Err(e) => panic!("expected a close, got {e:?}"),
            }
        }
    }
}

/// Reads messages until a hub frame, and decodes it.
pub fn read_frame<S: wsio::Stream>(conn: &mut Conn<S>) -> Result<Value, Error> {
    loop {
        let message = conn.read_message()?;
        if message.kind() != MessageKind::Text {
            continue;
        }
        let text = message.as_text().unwrap();
        if let Some(json) = text.strip_prefix('\u{1e}') {
            return Ok(serde_json::from_str(json).expect("a hub frame is JSON"));
        }
    }
}

/// Waits up to `limit` for `f` to hold; whether it did.
pub fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    while !f() {
        if Instant::now() > until {
            return false;
        }
        thread::sleep(Duration::from_millis(5));
    }
    true
}

/// A raw TCP connection to the hub, for peers that misbehave below WebSocket.
pub fn tcp(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).unwrap()
}
