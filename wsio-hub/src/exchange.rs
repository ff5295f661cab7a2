//! How hubs in several processes reach each other's connections: the [`Exchange`] trait an
//! engine implements (Redis pub/sub with the `redis` feature), and the envelopes the hub
//! sends through it. The engine only moves bytes: to every other process, or to one.

use std::fmt;
use std::sync::Arc;

/// What an exchange hands the hub: the envelopes other processes published.
pub trait Inbox: Send + Sync {
    /// One envelope, as it was published.
    fn deliver(&self, envelope: &[u8]);
    /// Whether the hub is gone: the exchange's threads then stop.
    fn is_closed(&self) -> bool;
}

/// Carries a hub's messages to the hubs of other processes: a message to a room or to
/// everyone, a disconnect or join by id, a request and its reply. One exchange serves one
/// hub, with as many connections to its engine as it needs (the Redis exchange has two: one
/// subscription and one for publishing), never one per WebSocket connection.
///
/// Publishing never blocks: an exchange that cannot keep up, or whose engine is away,
/// drops what it cannot send and counts it ([`ExchangeStats::dropped`]).
pub trait Exchange: Send + Sync + 'static {
    /// Starts receiving: what other processes publish, and what they send to `node` (this
    /// process's name among them), goes to `inbox` until it is closed.
    ///
    /// # Errors
    ///
    /// When the exchange cannot start its threads. An engine that is away is not an error:
    /// the exchange keeps trying.
    fn start(&self, node: &str, inbox: Arc<dyn Inbox>) -> std::io::Result<()>;

    /// Publishes an envelope to every process (this one may get it back: the hub ignores
    /// its own). Never blocks.
    fn publish(&self, envelope: Vec<u8>);

    /// Sends an envelope to one process. Never blocks.
    fn send_to(&self, node: &str, envelope: Vec<u8>);

    /// What it has done so far.
    fn stats(&self) -> ExchangeStats;
}

/// An exchange's counters, part of [`HubStats`](crate::HubStats).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExchangeStats {
    /// Envelopes handed to the engine.
    pub published: u64,
    /// Envelopes that could not be handed to the engine (its queue full, the engine away),
    /// and so never reached the other processes.
    pub dropped: u64,
    /// Connections to the engine made again after it went away.
    pub reconnects: u64,
    /// Whether the subscription is up: what other processes publish now arrives.
    pub subscribed: bool,
}

impl ExchangeStats {
    /// Counters with these values, for an [`Exchange`] implemented outside this crate.
    pub fn new(published: u64, dropped: u64, reconnects: u64) -> ExchangeStats {
        ExchangeStats {
            published,
            dropped,
            reconnects,
            subscribed: false,
        }
    }
}

/// What one process tells the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command<'a> {
    /// A message for a room (`Some`) or everyone (`None`), except one connection.
    Emit {
        room: Option<&'a str>,
        except: Option<&'a str>,
        binary: bool,
        payload: &'a [u8],
    },
    Disconnect {
        id: &'a str,
    },
    Join {
        id: &'a str,
        room: &'a str,
    },
    Leave {
        id: &'a str,
        room: &'a str,
    },
    LeaveAll {
        id: &'a str,
    },
    /// A request for the connection `id`, answered to the sender's node with `key`.
    Ask {
        key: u64,
        id: &'a str,
        timeout_ms: u32,
        event: &'a str,
        data: &'a [u8],
    },
    /// The answer to request `key`: JSON, or an error text.
    Reply {
        key: u64,
        ok: bool,
        body: &'a [u8],
    },
}

/// A decoded envelope: who sent it, its place in the sender's stream of publications (0 for
/// one sent to a single process), and the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Envelope<'a> {
    pub(crate) origin: &'a str,
    pub(crate) seq: u64,
    pub(crate) command: Command<'a>,
}

const MAGIC: &[u8; 3] = b"WH1";

/// An envelope that is not one this version reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadEnvelope;

impl fmt::Display for BadEnvelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a hub envelope of version 1")
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    // Room names and ids are at most 256 bytes; events and node names are cut at 64 KiB.
    let bytes = &s.as_bytes()[..s.len().min(u16::MAX as usize)];
    out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
        None => out.push(0),
    }
}

impl Envelope<'_> {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(MAGIC);
        put_str(&mut out, self.origin);
        out.extend_from_slice(&self.seq.to_be_bytes());
        match &self.command {
            Command::Emit {
                room,
                except,
                binary,
                payload,
            } => {
                out.push(1);
                put_opt(&mut out, *room);
                put_opt(&mut out, *except);
                out.push(u8::from(*binary));
                out.extend_from_slice(payload);
            }
            Command::Disconnect { id } => {
                out.push(2);
                put_str(&mut out, id);
            }
            Command::Join { id, room } => {
                out.push(3);
                put_str(&mut out, id);
                put_str(&mut out, room);
            }
            Command::Leave { id, room } => {
                out.push(4);
                put_str(&mut out, id);
                put_str(&mut out, room);
            }
            Command::LeaveAll { id } => {
                out.push(5);
                put_str(&mut out, id);
            }
            Command::Ask {
                key,
                id,
                timeout_ms,
                event,
                data,
            } => {
                out.push(6);
                out.extend_from_slice(&key.to_be_bytes());
                put_str(&mut out, id);
                out.extend_from_slice(&timeout_ms.to_be_bytes());
                put_str(&mut out, event);
                out.extend_from_slice(data);
            }
            Command::Reply { key, ok, body } => {
                out.push(7);
                out.extend_from_slice(&key.to_be_bytes());
                out.push(u8::from(*ok));
                out.extend_from_slice(body);
            }
        }
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Envelope<'_>, BadEnvelope> {
        let mut r = Reader(bytes);
        if r.take(3)? != MAGIC {
            return Err(BadEnvelope);
        }
        let origin = r.str()?;
        let seq = r.u64()?;
        let command = match r.u8()? {
            1 => Command::Emit {
                room: r.opt()?,
                except: r.opt()?,
                binary: r.bool()?,
                payload: r.rest(),
            },
            2 => Command::Disconnect { id: r.str()? },
            3 => Command::Join {
                id: r.str()?,
                room: r.str()?,
            },
            4 => Command::Leave {
                id: r.str()?,
                room: r.str()?,
            },
            5 => Command::LeaveAll { id: r.str()? },
            6 => Command::Ask {
                key: r.u64()?,
                id: r.str()?,
                timeout_ms: r.u32()?,
                event: r.str()?,
                data: r.rest(),
            },
            7 => Command::Reply {
                key: r.u64()?,
                ok: r.bool()?,
                body: r.rest(),
            },
            _ => return Err(BadEnvelope),
        };
        Ok(Envelope {
            origin,
            seq,
            command,
        })
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], BadEnvelope> {
        if self.0.len() < n {
            return Err(BadEnvelope);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, BadEnvelope> {
        Ok(self.take(1)?[0])
    }

    fn bool(&mut self) -> Result<bool, BadEnvelope> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(BadEnvelope),
        }
    }

    fn u32(&mut self) -> Result<u32, BadEnvelope> {
        Ok(u32::from_be_bytes(
            self.take(4)?.try_into().map_err(|_| BadEnvelope)?,
        ))
    }

    fn u64(&mut self) -> Result<u64, BadEnvelope> {
        Ok(u64::from_be_bytes(
            self.take(8)?.try_into().map_err(|_| BadEnvelope)?,
        ))
    }

    fn str(&mut self) -> Result<&'a str, BadEnvelope> {
        let len = u16::from_be_bytes(self.take(2)?.try_into().map_err(|_| BadEnvelope)?);
        std::str::from_utf8(self.take(len.into())?).map_err(|_| BadEnvelope)
    }

    fn opt(&mut self) -> Result<Option<&'a str>, BadEnvelope> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.str()?)),
            _ => Err(BadEnvelope),
        }
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(command: Command<'_>) {
        let envelope = Envelope {
            origin: "node-1",
            seq: 42,
            command,
        };
        let bytes = envelope.encode();
        assert_eq!(Envelope::decode(&bytes).unwrap(), envelope);
        // Every strict prefix is refused or decodes to something shorter, never panics.
        for n in 0..bytes.len() {
            let _ = Envelope::decode(&bytes[..n]);
        }
    }

    #[test]
    fn every_command_round_trips() {
        round_trip(Command::Emit {
            room: Some("red"),
            except: Some("abc"),
            binary: true,
            payload: b"\x00\x01\xff",
        });
        round_trip(Command::Emit {
            room: None,
            except: None,
            binary: false,
            payload: "\u{1e}{\"event\":\"x\"}".as_bytes(),
        });
        round_trip(Command::Disconnect { id: "a" });
        round_trip(Command::Join { id: "a", room: "r" });
        round_trip(Command::Leave { id: "a", room: "r" });
        round_trip(Command::LeaveAll { id: "a" });
        round_trip(Command::Ask {
            key: 7,
            id: "a",
            timeout_ms: 1500,
            event: "q",
            data: b"[1,2]",
        });
        round_trip(Command::Reply {
            key: 7,
            ok: false,
            body: b"no",
        });
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(Envelope::decode(b""), Err(BadEnvelope));
        assert_eq!(Envelope::decode(b"XYZ"), Err(BadEnvelope));
        let mut bytes = Envelope {
            origin: "n",
            seq: 1,
            command: Command::Disconnect { id: "a" },
        }
        .encode();
        bytes[3 + 2 + 1 + 8] = 99;
        assert_eq!(Envelope::decode(&bytes), Err(BadEnvelope));
    }
}
