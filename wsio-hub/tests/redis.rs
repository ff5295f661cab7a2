//! Rooms across processes through a real Redis (Debian's redis-server, started here on a
//! free loopback port). Each hub has its own exchange, node name and Redis connections, as
//! a process of its own would. Ignored by a plain `cargo test` (it needs redis-server):
//! `scripts/redis.sh` installs it and runs them.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Client, Served, eventually};
use wsio_hub::{Hub, HubBuilder, HubError, RedisExchange};

const NEEDS: &str = "needs redis-server: run scripts/redis.sh";
const QUIET: Duration = Duration::from_millis(200);

struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start() -> Redis {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Redis::start_on(port)
    }

    fn start_on(port: u16) -> Redis {
        let program = std::env::var("WSIO_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let child = Command::new(&program)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "no", "--protected-mode", "no"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e} ({NEEDS})"));
        let redis = Redis { child, port };
        assert!(
            eventually(Duration::from_secs(10), || redis.ping()),
            "redis-server did not answer on port {port}"
        );
        redis
    }

    fn ping(&self) -> bool {
        let Ok(mut tcp) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = tcp.set_read_timeout(Some(Duration::from_secs(1)));
        let mut answer = [0; 7];
        tcp.write_all(b"PING\r\n").is_ok()
            && tcp.read_exact(&mut answer).is_ok()
            && &answer == b"+PONG\r\n"
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A hub on the Redis at `url`, relaying "say" [room, text] to the room, serving on loopback;
/// once its subscription is up.
fn hub(url: &str) -> Served {
    hub_with(url, Hub::builder())
}

fn hub_with(url: &str, builder: HubBuilder) -> Served {
    let builder = builder
        .exchange(
            RedisExchange::new(url)
                .unwrap()
                .timeout(Duration::from_millis(500)),
        )
        .on_connection(|conn| {
            let me = conn.clone();
            conn.on("say", move |(room, text): (String, String)| {
                me.to(&room).emit("said", &text).unwrap();
            });
            let me = conn.clone();
            conn.on("all", move |text: String| {
                me.broadcast().emit("said", &text).unwrap();
            });
            conn.answer("name?", |_: Value| Ok::<_, String>("a client"));
        });
    let served = Served::start(builder);
    assert!(
        eventually(Duration::from_secs(10), || served
            .hub
            .stats()
            .exchange_subscribed),
        "the hub's subscription did not come up"
    );
    served
}

#[test]
#[ignore = "needs redis-server: run scripts/redis.sh"]
fn a_room_message_from_one_process_reaches_the_rooms_members_in_another_only() {
    let redis = Redis::start();
    let (a, b) = (hub(&redis.url()), hub(&redis.url()));
    let (mut red, mut blue) = (a.client(), a.client());
    red.join("red");
    blue.join("blue");
    let mut speaker = b.client();
    speaker.emit("say", json!(["red", "from b"]));
    assert_eq!(red.event(), ("said".to_owned(), json!("from b")));
    blue.nothing_for(QUIET);
    // Native messages and everyone, from the hub's API on the other process.
    b.hub.to("red").text("native text");
    assert_eq!(red.message(), wsio::Message::from("native text"));
    b.hub.to("red").binary(&[0, 1, 2]);
    assert_eq!(red.message(), wsio::Message::from(vec![0u8, 1, 2]));
    assert_eq!(b.hub.everyone().emit("news", &1).unwrap(), 1);
    assert_eq!(red.event(), ("news".to_owned(), json!(1)));
    assert_eq!(blue.event(), ("news".to_owned(), json!(1)));
    assert_eq!(speaker.event(), ("news".to_owned(), json!(1)));
    // All but the sender: the speaker is on b, the others on a.
    speaker.emit("all", json!("to the others"));
    assert_eq!(red.event().1, json!("to the others"));
    assert_eq!(blue.event().1, json!("to the others"));
    speaker.nothing_for(QUIET);
    assert!(b.hub.stats().exchange_published >= 5);
    assert!(a.hub.stats().exchange_received >= 5);
}

#[test]
#[ignore = "needs redis-server: run scripts/redis.sh"]
fn each_receiver_gets_a_message_once_in_three_processes() {
    let redis = Redis::start();
    let hubs: Vec<Served> = (0..3).map(|_| hub(&redis.url())).collect();
    let mut clients: Vec<Client> = hubs.iter().map(|h| h.client()).collect();
    for c in &mut clients {
        c.join("room");
    }
    // From each process in turn: every member, the sender's process included, once.
    for (n, h) in hubs.iter().enumerate() {
        assert_eq!(h.hub.to("room").emit("n", &n).unwrap(), 1);
        for c in &mut clients {
            assert_eq!(c.event(), ("n".to_owned(), json!(n)));
        }
    }
    for c in &mut clients {
        c.nothing_for(QUIET);
    }
    for h in &hubs {
        assert_eq!(h.hub.stats().exchange_missed, 0);
    }
}

#[test]
#[ignore = "needs redis-server: run scripts/redis.sh"]
fn disconnect_join_and_leave_by_id_across_processes() {
    let redis = Redis::start();
    let (a, b) = (hub(&redis.url()), hub(&redis.url()));
    let mut there = a.client();
    // b does not have it: it tells a.
    assert!(!b.hub.join(&there.id, "green").unwrap());
    assert!(eventually(Duration::from_secs(5), || a
        .hub
        .members("green")
        == [there.id.clone()]));
    b.hub.to("green").emit("g", &1).unwrap();
    assert_eq!(there.event(), ("g".to_owned(), json!(1)));
    assert!(!b.hub.leave(&there.id, "green"));
    assert!(eventually(Duration::from_secs(5), || a
        .hub
        .members("green")
        .is_empty()));
    b.hub.to("green").emit("g", &2).unwrap();
    there.nothing_for(QUIET);
    assert!(!b.hub.disconnect(&there.id));
    assert_eq!(there.close_code(), 1000);
    assert!(eventually(Duration::from_secs(5), || a.hub.is_empty()));
}

#[test]
#[ignore = "needs redis-server: run scripts/redis.sh"]
fn ask_across_processes_with_its_timeout() {
    let redis = Redis::start();
    let (a, b) = (hub(&redis.url()), hub(&redis.url()));
    let mut there = a.client();
    let id = there.id.clone();
    let hub_b = b.hub.clone();
    let asker = std::thread::spawn(move || {
        hub_b.ask::<_, String>(&id, "name?", &json!({"x": 1}), Duration::from_secs(5))
    });
    let frame = there.frame();
    assert_eq!(frame["event"], "name?");
    assert_eq!(frame["data"], json!({"x": 1}));
    there.send(json!({"reply": frame["ask"], "data": "alice"}));
    assert_eq!(asker.join().unwrap().unwrap(), "alice");
    // Unanswered: the asker's own timeout.
    let started = Instant::now();
    let unanswered = b
        .hub
        .ask::<_, String>(&there.id, "q", &(), Duration::from_millis(300));
    assert!(
        matches!(unanswered, Err(HubError::Timeout)),
        "{unanswered:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    // Nobody has this id.
    let nobody = b
        .hub
        .ask::<_, String>("nobody", "q", &(), Duration::from_millis(200));
    assert!(matches!(nobody, Err(HubError::Timeout)));
}

#[test]
#[ignore = "needs redis-server: run scripts/redis.sh"]
fn redis_restarted_delivery_resumes_and_the_loss_is_counted() {
    let mut redis = Redis::start();
    let port = redis.port;
    let (a, b) = (hub(&redis.url()), hub(&redis.url()));
    let mut here = a.client();
    let mut there = b.client();
    here.join("r");
    there.join("r");
    a.hub.to("r").emit("m", &0).unwrap();
    assert_eq!(here.event().1, json!(0));
    assert_eq!(there.event().1, json!(0));

    redis.stop();
    // Local delivery goes on; what a publishes is dropped and counted.
    for n in 1..=3 {
        a.hub.to("r").emit("m", &n).unwrap();
        assert_eq!(here.event().1, json!(n));
    }
    there.nothing_for(QUIET);
    assert!(eventually(Duration::from_secs(5), || a
        .hub
        .stats()
        .exchange_dropped
        >= 3));

    let _redis = Redis::start_on(port);
    for h in [&a, &b] {
        assert!(
            eventually(Duration::from_secs(15), || h
                .hub
                .stats()
                .exchange_subscribed),
            "no resubscription"
        );
    }
    // The publisher reconnects on its next publication (it may be dropped while it does).
    assert!(eventually(Duration::from_secs(15), || {
        a.hub.to("r").emit("m", &99).unwrap();
        here.event();
        there
            .conn
            .set_read_deadline(Some(Instant::now() + Duration::from_millis(200)))
            .unwrap();
        matches!(support::read_frame(&mut there.conn), Ok(f) if f["data"] == 99)
    }));
    let (sa, sb) = (a.hub.stats(), b.hub.stats());
    assert!(
        sa.exchange_reconnects >= 1 && sb.exchange_reconnects >= 1,
        "{sa:?} {sb:?}"
    );
    // b never got a's publications 1 to 3: it counts them from the gap.
    assert!(sb.exchange_missed >= 3, "{sb:?}");
}

#[test]
#[ignore = "needs redis-server: run scripts/redis.sh"]
fn a_redis_that_never_answers_blocks_nobody() {
    // A server that accepts and then says nothing, as a hung Redis would.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}/", silent.local_addr().unwrap());
    let held = std::thread::spawn(move || {
        let mut held = Vec::new();
        silent.set_nonblocking(true).unwrap();
        let until = Instant::now() + Duration::from_secs(8);
        while Instant::now() < until {
            if let Ok((s, _)) = silent.accept() {
                held.push(s);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    let served = Served::start(
        Hub::builder().exchange(
            RedisExchange::new(&url)
                .unwrap()
                .timeout(Duration::from_secs(1)),
        ),
    );
    let mut a = served.client();
    a.join("r");
    let started = Instant::now();
    for n in 0..200 {
        served.hub.to("r").emit("m", &n).unwrap();
    }
    // 200 broadcasts queue in a moment, whatever Redis does.
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    for n in 0..200 {
        assert_eq!(a.event().1, json!(n));
    }
    assert!(!served.hub.stats().exchange_subscribed);
    drop((a, served));
    held.join().unwrap();
}

#[test]
#[ignore = "needs redis-server: run scripts/redis.sh"]
fn nobody_joins_the_room_of_a_connection_in_another_process() {
    let redis = Redis::start();
    let (a, b) = (hub(&redis.url()), hub(&redis.url()));
    let mut victim = b.client();
    let mut spy = a.client();
    let refused = spy.ask(json!({"join": victim.id}));
    assert!(
        refused["error"].as_str().unwrap().contains("room name"),
        "{refused}"
    );
    assert!(matches!(
        a.hub.join(&spy.id, &victim.id),
        Err(HubError::RoomName(_))
    ));
    b.hub.to(&victim.id).emit("dm", &"secret").unwrap();
    assert_eq!(victim.event(), ("dm".to_owned(), json!("secret")));
    spy.nothing_for(QUIET);
}

#[test]
#[ignore = "needs redis-server: run scripts/redis.sh"]
fn concurrent_publishers_count_no_false_gaps() {
    let redis = Redis::start();
    let (a, b) = (hub(&redis.url()), hub(&redis.url()));
    let publishers: Vec<_> = (0..4)
        .map(|_| {
            let hub = a.hub.clone();
            std::thread::spawn(move || {
                for n in 0..1500 {
                    hub.to("nobody").emit("m", &n).unwrap();
                }
            })
        })
        .collect();
    for p in publishers {
        p.join().unwrap();
    }
    let sent = || 6000 - a.hub.stats().exchange_dropped;
    assert!(eventually(Duration::from_secs(20), || b
        .hub
        .stats()
        .exchange_received
        >= sent()));
    // Every gap b counts is a publication a really dropped.
    assert_eq!(
        b.hub.stats().exchange_missed,
        a.hub.stats().exchange_dropped
    );
}

#[test]
#[ignore = "needs redis-server: run scripts/redis.sh"]
fn a_panicking_callback_run_for_another_process_does_not_end_the_subscription() {
    let redis = Redis::start();
    let a = Served::start(
        Hub::builder()
            .exchange(RedisExchange::new(&redis.url()).unwrap())
            .on_connection(|conn| conn.on_leave(|_| panic!("a leave callback panicked"))),
    );
    assert!(eventually(Duration::from_secs(10), || a
        .hub
        .stats()
        .exchange_subscribed));
    let b = hub(&redis.url());
    let mut there = a.client();
    there.join("r");
    assert!(!b.hub.leave(&there.id, "r"));
    assert!(eventually(Duration::from_secs(5), || a
        .hub
        .stats()
        .exchange_panics
        == 1));
    b.hub.to(&there.id).emit("after", &1).unwrap();
    assert_eq!(there.event(), ("after".to_owned(), json!(1)));
}

#[test]
#[ignore = "needs redis-server: run scripts/redis.sh"]
fn a_half_open_subscription_is_noticed_and_made_again() {
    use std::sync::{Arc, Mutex};
    let redis = Redis::start();
    let upstream = format!("127.0.0.1:{}", redis.port);
    // A proxy in front of Redis, whose Redis side of each connection can be cut while the
    // hub's side stays open and silent, as after a partition.
    let proxy = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy_url = format!("redis://{}/", proxy.local_addr().unwrap());
    let pairs: Arc<Mutex<Vec<(TcpStream, TcpStream)>>> = Arc::default();
    {
        let pairs = pairs.clone();
        std::thread::spawn(move || {
            for down in proxy.incoming() {
                let Ok(down) = down else { continue };
                let Ok(up) = TcpStream::connect(&upstream) else {
                    continue;
                };
                for (mut from, mut to) in [
                    (down.try_clone().unwrap(), up.try_clone().unwrap()),
                    (up.try_clone().unwrap(), down.try_clone().unwrap()),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                    });
                }
                pairs.lock().unwrap().push((down, up));
            }
        });
    }
    let a = hub(&proxy_url);
    let b = hub(&redis.url());
    let mut here = a.client();
    here.join("r");
    b.hub.to("r").emit("m", &1).unwrap();
    assert_eq!(here.event().1, json!(1));
    // Cut the Redis side of every proxied connection; keep the hub's side open.
    let held: Vec<TcpStream> = pairs
        .lock()
        .unwrap()
        .drain(..)
        .map(|(down, up)| {
            let _ = up.shutdown(std::net::Shutdown::Both);
            down
        })
        .collect();
    let heard_again = eventually(Duration::from_secs(20), || {
        b.hub.to("r").emit("m", &2).unwrap();
        here.conn
            .set_read_deadline(Some(Instant::now() + Duration::from_millis(200)))
            .unwrap();
        matches!(support::read_frame(&mut here.conn), Ok(f) if f["data"] == 2)
    });
    assert!(heard_again, "a never heard b again: {:?}", a.hub.stats());
    assert!(a.hub.stats().exchange_reconnects >= 1);
    drop(held);
}
