#![doc = include_str!("../PROTOCOL.md")]
//!
//! ## In this crate
//!
//! The constants below name the protocol's fixed values; decoding and encoding are the
//! crate's own business (pure functions of bytes and values: nothing here touches a
//! connection).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The subprotocol a client offers to speak version 1 of the hub protocol.
pub const SUBPROTOCOL: &str = "wsio-hub.1";

/// The protocol version the welcome frame announces.
pub const VERSION: u64 = 1;

/// The character that starts every hub frame: U+001E, RECORD SEPARATOR.
pub const MARK: char = '\u{1e}';

/// The longest room name, in bytes.
pub const MAX_ROOM_LEN: usize = 256;

/// The largest request number: 2^53 - 1, the largest integer JavaScript numbers hold exactly.
pub const MAX_ASK: u64 = (1 << 53) - 1;

/// A decoded hub frame, borrowing from the message it came from.
#[derive(Debug)]
pub(crate) enum Frame<'a> {
    /// `{"hub":1,"id":ID}`. Only clients receive it: the hub refuses it, and reads its
    /// fields in tests only.
    #[cfg_attr(not(test), allow(dead_code))]
    Welcome { version: u64, id: Cow<'a, str> },
    /// `{"event":NAME,"data":VALUE}`, a request when `ask` is set.
    Event {
        event: Cow<'a, str>,
        data: &'a RawValue,
        ask: Option<u64>,
    },
    /// `{"reply":N,"data":VALUE}` or `{"reply":N,"error":TEXT}`.
    Reply {
        reply: u64,
        outcome: Result<&'a RawValue, Cow<'a, str>>,
    },
    /// `{"join":ROOM}`, a request when `ask` is set.
    Join {
        room: Cow<'a, str>,
        ask: Option<u64>,
    },
    /// `{"leave":ROOM}`, a request when `ask` is set.
    Leave {
        room: Cow<'a, str>,
        ask: Option<u64>,
    },
    /// `{"text":TEXT}`: a native text message.
    Text(Cow<'a, str>),
}

/// The fields of every frame, as they come. Unknown keys are ignored; a repeated key is an
/// error (serde's derive refuses duplicates); a key other than `data` whose value is `null`
/// is a value of the wrong type, not an absent key.
#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(default, deserialize_with = "present")]
    hub: Option<u64>,
    #[serde(borrow, default, deserialize_with = "present")]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "present")]
    event: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(default, deserialize_with = "present")]
    ask: Option<u64>,
    #[serde(default, deserialize_with = "present")]
    reply: Option<u64>,
    #[serde(borrow, default, deserialize_with = "present")]
    error: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "present")]
    join: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "present")]
    leave: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "present")]
    text: Option<Cow<'a, str>>,
}

/// A key that is there has a value of its type: `null` is refused (an absent key is `None`
/// through `default`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// `null`, for a frame without `data`.
pub(crate) fn null() -> &'static RawValue {
    // A valid JSON literal: from_str cannot fail.
    static NULL: std::sync::OnceLock<Box<RawValue>> = std::sync::OnceLock::new();
    NULL.get_or_init(|| serde_json::value::to_raw_value(&()).expect("null is JSON"))
}

/// What makes a hub frame malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Malformed {
    /// The text after U+001E is not a JSON object of the protocol's shape: the parser's
    /// message says where.
    Json(String),
    /// The frame has none of `hub`, `event`, `reply`, `join`, `leave`, `text`, or several.
    Kind,
    /// A request number over 2^53 - 1.
    AskTooLarge(u64),
    /// `ask` on a frame that cannot be a request, or `error` or `data` where they do not
    /// belong.
    MisplacedKey(&'static str),
    /// A room name that is empty or longer than 256 bytes.
    RoomName(usize),
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Malformed::Json(e) => write!(f, "not a hub frame: {e}"),
            Malformed::Kind => f.write_str(
                "a hub frame needs exactly one of hub, event, reply, join, leave and text",
            ),
            Malformed::AskTooLarge(n) => write!(f, "request number {n} is over 2^53 - 1"),
            Malformed::MisplacedKey(key) => write!(f, "key {key:?} does not belong in this frame"),
            Malformed::RoomName(len) => {
                write!(
                    f,
                    "a room name of {len} bytes (1 to {MAX_ROOM_LEN} allowed)"
                )
            }
        }
    }
}

/// Whether a text message is a hub frame rather than native text.
pub(crate) fn is_hub_frame(text: &str) -> bool {
    text.starts_with(MARK)
}

/// Decodes a hub frame: `text` starts with U+001E.
pub(crate) fn decode(text: &str) -> Result<Frame<'_>, Malformed> {
    let json = text.strip_prefix(MARK).unwrap_or(text);
    // serde would take an array for a struct, field by field: only an object is a frame.
    if !json.trim_start().starts_with('{') {
        return Err(Malformed::Json("not a JSON object".to_owned()));
    }
    let wire: Wire<'_> = serde_json::from_str(json).map_err(|e| Malformed::Json(e.to_string()))?;
    let kinds = [
        wire.hub.is_some(),
        wire.event.is_some(),
        wire.reply.is_some(),
        wire.join.is_some(),
        wire.leave.is_some(),
        wire.text.is_some(),
    ];
    if kinds.iter().filter(|&&k| k).count() != 1 {
        return Err(Malformed::Kind);
    }
    if let Some(ask) = wire.ask.filter(|&n| n > MAX_ASK) {
        return Err(Malformed::AskTooLarge(ask));
    }
    let may_ask = wire.event.is_some() || wire.join.is_some() || wire.leave.is_some();
    if wire.ask.is_some() && !may_ask {
        return Err(Malformed::MisplacedKey("ask"));
    }
    if wire.error.is_some() && wire.reply.is_none() {
        return Err(Malformed::MisplacedKey("error"));
    }
    if wire.data.is_some() && wire.event.is_none() && wire.reply.is_none() {
        return Err(Malformed::MisplacedKey("data"));
    }
    let data: &RawValue = match wire.data {
        Some(data) => data,
        None => null(),
    };
    Ok(if let Some(version) = wire.hub {
        Frame::Welcome {
            version,
            id: wire.id.ok_or(Malformed::MisplacedKey("hub"))?,
        }
    } else if let Some(event) = wire.event {
        Frame::Event {
            event,
            data,
            ask: wire.ask,
        }
    } else if let Some(reply) = wire.reply {
        let outcome = match wire.error {
            Some(error) if wire.data.is_none() => Err(error),
            Some(_) => return Err(Malformed::MisplacedKey("error")),
            None => Ok(data),
        };
        Frame::Reply { reply, outcome }
    } else if let Some(room) = wire.join {
        Frame::Join {
            room: check_room(room)?,
            ask: wire.ask,
        }
    } else if let Some(room) = wire.leave {
        Frame::Leave {
            room: check_room(room)?,
            ask: wire.ask,
        }
    } else {
        Frame::Text(wire.text.unwrap_or_default())
    })
}

fn check_room(room: Cow<'_, str>) -> Result<Cow<'_, str>, Malformed> {
    if room.is_empty() || room.len() > MAX_ROOM_LEN {
        return Err(Malformed::RoomName(room.len()));
    }
    Ok(room)
}

/// A frame ready to send: U+001E and the JSON object, as the bytes of a text message.
fn frame(value: &impl Serialize) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(64);
    let mut mark = [0; 3];
    out.extend_from_slice(MARK.encode_utf8(&mut mark).as_bytes());
    serde_json::to_writer(&mut out, value)?;
    Ok(out)
}

#[derive(Serialize)]
struct EventOut<'a, T: ?Sized> {
    event: &'a str,
    data: &'a T,
    #[serde(skip_serializing_if = "Option::is_none")]
    ask: Option<u64>,
}

/// `{"event":NAME,"data":VALUE}`, with `ask` for a request.
pub(crate) fn event<T: Serialize + ?Sized>(
    name: &str,
    data: &T,
    ask: Option<u64>,
) -> serde_json::Result<Vec<u8>> {
    frame(&EventOut {
        event: name,
        data,
        ask,
    })
}

#[derive(Serialize)]
struct ReplyOut<'a> {
    reply: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

/// `{"reply":N,"data":VALUE}` (`data` already JSON) or `{"reply":N,"error":TEXT}`.
pub(crate) fn reply(n: u64, outcome: Result<&RawValue, &str>) -> Vec<u8> {
    let (data, error) = match outcome {
        Ok(data) => (Some(data), None),
        Err(error) => (None, Some(error)),
    };
    frame(&ReplyOut {
        reply: n,
        data,
        error,
    })
    // Strings and raw JSON always serialize.
    .expect("a reply serializes")
}

#[derive(Serialize)]
struct WelcomeOut<'a> {
    hub: u64,
    id: &'a str,
}

/// `{"hub":1,"id":ID}`.
pub(crate) fn welcome(id: &str) -> Vec<u8> {
    frame(&WelcomeOut { hub: VERSION, id }).expect("a welcome serializes")
}

#[derive(Serialize)]
struct TextOut<'a> {
    text: &'a str,
}

/// A native text message as it goes on the wire: itself, or `{"text":TEXT}` when it starts
/// with U+001E.
pub(crate) fn native_text(text: &str) -> Vec<u8> {
    if is_hub_frame(text) {
        frame(&TextOut { text }).expect("a string serializes")
    } else {
        text.as_bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn an_event_round_trips_any_payload() {
        let payload = "a;b\u{1e}c\"d\n\u{0}é";
        let wire = text(event("chat", &payload, Some(7)).unwrap());
        assert!(wire.starts_with(MARK));
        match decode(&wire).unwrap() {
            Frame::Event { event, data, ask } => {
                assert_eq!(event, "chat");
                assert_eq!(serde_json::from_str::<String>(data.get()).unwrap(), payload);
                assert_eq!(ask, Some(7));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn data_left_out_is_null() {
        match decode("\u{1e}{\"event\":\"tick\"}").unwrap() {
            Frame::Event { data, ask, .. } => {
                assert_eq!(data.get(), "null");
                assert_eq!(ask, None);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn replies_carry_data_or_an_error() {
        let ok = text(reply(
            3,
            Ok(&RawValue::from_string("[1,2]".into()).unwrap()),
        ));
        assert!(
            matches!(decode(&ok).unwrap(), Frame::Reply { reply: 3, outcome: Ok(d) } if d.get() == "[1,2]")
        );
        let err = text(reply(4, Err("no")));
        assert!(
            matches!(decode(&err).unwrap(), Frame::Reply { reply: 4, outcome: Err(e) } if e == "no")
        );
    }

    #[test]
    fn native_text_that_starts_with_the_mark_is_wrapped() {
        assert_eq!(native_text("plain"), b"plain");
        let wrapped = text(native_text("\u{1e}x"));
        assert!(matches!(decode(&wrapped).unwrap(), Frame::Text(t) if t == "\u{1e}x"));
    }

    #[test]
    fn welcome_join_leave() {
        assert!(
            matches!(decode(&text(welcome("abc"))).unwrap(), Frame::Welcome { version: 1, id } if id == "abc")
        );
        assert!(
            matches!(decode("\u{1e}{\"join\":\"r\",\"ask\":1}").unwrap(), Frame::Join { room, ask: Some(1) } if room == "r")
        );
        assert!(
            matches!(decode("\u{1e}{\"leave\":\"r\"}").unwrap(), Frame::Leave { room, ask: None } if room == "r")
        );
    }

    /// Mutations of valid frames and random text: decoding answers, never panics.
    #[test]
    fn arbitrary_input_never_panics() {
        let seeds = [
            text(event("chat", &serde_json::json!({"a": [1, "x\u{1e}"]}), Some(3)).unwrap()),
            text(reply(9, Err("no"))),
            text(welcome("id")),
            "\u{1e}{\"join\":\"r\",\"ask\":1}".to_owned(),
            "\u{1e}{\"text\":\"\\u001e\"}".to_owned(),
        ];
        let alphabet: Vec<char> = "{}[]\":,0123456789.-+eE truefalsnul\\/\u{1e}\u{0}é𝄞askjoinleavereplyerrordataeventtexthubid"
            .chars()
            .collect();
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for round in 0..50_000 {
            let mut chars: Vec<char> = seeds[round % seeds.len()].chars().collect();
            for _ in 0..1 + next(4) {
                let at = next(chars.len() + 1);
                match next(3) {
                    0 if at < chars.len() => {
                        chars.remove(at);
                    }
                    1 if at < chars.len() => chars[at] = alphabet[next(alphabet.len())],
                    _ => chars.insert(at, alphabet[next(alphabet.len())]),
                }
            }
            let input: String = chars.into_iter().collect();
            let _ = decode(&input);
        }
    }

    #[test]
    fn unknown_keys_are_ignored() {
        assert!(decode("\u{1e}{\"event\":\"e\",\"future\":[1]}").is_ok());
    }

    #[test]
    fn malformed_frames_say_why() {
        let cases: &[(&str, Malformed)] = &[
            ("\u{1e}{}", Malformed::Kind),
            ("\u{1e}{\"event\":\"a\",\"join\":\"r\"}", Malformed::Kind),
            (
                "\u{1e}{\"event\":\"a\",\"ask\":9007199254740992}",
                Malformed::AskTooLarge(1 << 53),
            ),
            (
                "\u{1e}{\"text\":\"a\",\"ask\":1}",
                Malformed::MisplacedKey("ask"),
            ),
            (
                "\u{1e}{\"event\":\"a\",\"error\":\"x\"}",
                Malformed::MisplacedKey("error"),
            ),
            (
                "\u{1e}{\"reply\":1,\"data\":1,\"error\":\"x\"}",
                Malformed::MisplacedKey("error"),
            ),
            ("\u{1e}{\"join\":\"\"}", Malformed::RoomName(0)),
        ];
        for (wire, want) in cases {
            assert_eq!(&decode(wire).unwrap_err(), want, "{wire:?}");
        }
        let long = format!("\u{1e}{{\"join\":\"{}\"}}", "r".repeat(MAX_ROOM_LEN + 1));
        assert_eq!(
            decode(&long).unwrap_err(),
            Malformed::RoomName(MAX_ROOM_LEN + 1)
        );
        for wire in [
            "\u{1e}{\"event\":\"x\",\"join\":null}",
            "\u{1e}{\"join\":\"r\",\"ask\":null}",
            "\u{1e}",
            "\u{1e}[1]",
            "\u{1e}{\"event\":1}",
            "\u{1e}{\"event\":\"a\"} x",
            "\u{1e}{\"event\":\"a\",\"event\":\"b\"}",
            "\u{1e}{\"reply\":-1}",
        ] {
            assert!(matches!(decode(wire), Err(Malformed::Json(_))), "{wire:?}");
        }
    }
}
