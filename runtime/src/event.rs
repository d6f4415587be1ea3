//! Incoming events: what a typed event payload is.

/// An incoming event's payload type: the `data` part of what Bitrix24 POSTs to a handler.
pub trait Event: serde::de::DeserializeOwned + Send + 'static {
    /// The event's name as Bitrix24 sends it in `event`, upper case (e.g. `ONSESSIONSTART`).
    const NAME: &'static str;
}
