//! The typed payloads of the application's own events, which the [`Receiver`](super::Receiver)
//! handles itself before it hands them on: `ONAPPINSTALL` and `ONAPPUNINSTALL`
//! (`api-reference/common/events/`).

use serde::Deserialize;

use crate::event::Event;

/// `ONAPPINSTALL`: the application was installed (its `data`). A handler runs after the portal
/// is stored, with the new portal's client: the place to bind events or set the portal up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub struct AppInstall {
    /// The installed version.
    #[serde(default)]
    pub version: Option<String>,
    /// `Y` when active.
    #[serde(default)]
    pub active: Option<String>,
    /// `Y` when ready for use, `N` when the installation is not finished.
    #[serde(default)]
    pub installed: Option<String>,
    /// The portal's language (`en`, `de`, …).
    #[serde(default)]
    pub language_id: Option<String>,
}

impl Event for AppInstall {
    const NAME: &'static str = "ONAPPINSTALL";
}

/// `ONAPPUNINSTALL`: the application was removed (its `data`). A handler runs before the portal
/// is forgotten; the portal no longer accepts the application's tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub struct AppUninstall {
    /// The portal's language.
    #[serde(default)]
    pub language_id: Option<String>,
    /// `1` when the user asked to clear the application's data, `0` otherwise.
    #[serde(default)]
    pub clean: Option<String>,
}

impl Event for AppUninstall {
    const NAME: &'static str = "ONAPPUNINSTALL";
}
