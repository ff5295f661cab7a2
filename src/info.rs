//! What a connection knows of how it was opened: its role and settings, what the opening
//! handshake agreed, and, on a server, what it kept of the request ([`RequestInfo`]) and
//! the value the request callback attached. Every face reads it; nothing changes it.

use std::any::Any;
use std::fmt;

use crate::config::Config;
use crate::deflate::DeflateParams;
use crate::http::Headers;
use crate::proto::Role;

/// What a connection knows of how it was opened.
#[derive(Debug)]
pub(crate) struct Info {
    pub(crate) role: Role,
    pub(crate) config: Config,
    pub(crate) subprotocol: Option<String>,
    pub(crate) deflate: Option<DeflateParams>,
    /// On a server: the request, as far as it was kept. Boxed: an idle client connection
    /// pays one pointer for it.
    pub(crate) request: Option<Box<RequestInfo>>,
}

impl Info {
    /// A connection whose handshake wsio did not see.
    pub(crate) fn raw(role: Role, config: Config) -> Info {
        Info {
            role,
            config,
            subprotocol: None,
            deflate: None,
            request: None,
        }
    }

    /// The value the request callback attached, if it is a `T`.
    pub(crate) fn value<T: Any>(&self) -> Option<&T> {
        self.request.as_ref()?.value()
    }
}

/// What a server kept of the request that opened a connection (Voss's `ResourceName` and
/// `Origin`): its target, its `Origin`, the headers named in
/// [`Upgrader::keep_headers`](crate::Upgrader::keep_headers), and the value the request
/// callback attached ([`Accept::set_value`](crate::Accept::set_value)).
pub struct RequestInfo {
    pub(crate) target: String,
    pub(crate) origin: Option<String>,
    pub(crate) headers: Headers,
    pub(crate) value: Option<Box<dyn Any + Send + Sync>>,
}

impl RequestInfo {
    /// The request target: path and query, e.g. `/chat?room=1`.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The path part of the target.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// The query part of the target, without the `?`.
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }

    /// The `Origin` header, which browsers send.
    pub fn origin(&self) -> Option<&str> {
        self.origin.as_deref()
    }

    /// The first value of a header the server kept.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// The headers the server kept.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The value the request callback attached with
    /// [`Accept::set_value`](crate::Accept::set_value), if there is one and it is a `T`.
    pub fn value<T: Any>(&self) -> Option<&T> {
        self.value.as_ref()?.downcast_ref()
    }
}

impl fmt::Debug for RequestInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestInfo")
            .field("target", &self.target)
            .field("origin", &self.origin)
            .field("headers", &self.headers)
            .field("value", &self.value.as_ref().map(|_| ".."))
            .finish()
    }
}
