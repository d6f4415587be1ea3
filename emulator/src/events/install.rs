//! Installing and uninstalling an application.

use serde_json::json;

use super::deliver::{auth_block, domain_of, post, unix_now, EventDelivery, Prepared};
use super::InstalledApp;
use crate::server::Emulator;

/// What an installation sent and what the application answered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Installed {
    /// The status the application's URL answered, or `None` when it could not be reached.
    pub status: Option<u16>,
    /// The portal's `member_id`.
    pub member_id: String,
    /// The `application_token` the portal will send with every event.
    pub application_token: String,
    /// The access token sent.
    pub access_token: String,
    /// The refresh token sent.
    pub refresh_token: String,
}

/// Why an installation could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InstallError {
    /// No OAuth application with that `client_id` is registered ([`crate::Portal::add_oauth_app`]).
    #[error("no OAuth application {0} is registered on the portal")]
    UnknownApp(String),
    /// The portal has no administrator to install it.
    #[error("the portal has no administrator to install the application")]
    NoAdministrator,
}

impl Emulator {
    /// Installs the application `client_id` (registered with
    /// [`Portal::add_oauth_app`](crate::Portal::add_oauth_app)) as the portal's first
    /// administrator: a fresh `application_token` and token pair, and `ONAPPINSTALL` POSTed to
    /// `url` (`event`, `data[VERSION|ACTIVE|INSTALLED|LANGUAGE_ID]`, `ts`, `auth[…]` with
    /// `access_token`, `refresh_token`, `member_id`, `application_token`…), awaited.
    ///
    /// Installing again gives the application a new `application_token`.
    pub async fn install_app(&self, client_id: &str, url: &str) -> Result<Installed, InstallError> {
        self.install(client_id, url, false).await
    }

    /// [`Emulator::install_app`] through the installation page instead
    /// (`settings/oauth/simple-way.md`): `DOMAIN`, `PROTOCOL`, `LANG`, `APP_SID` in the query
    /// string, and `AUTH_ID`, `AUTH_EXPIRES`, `REFRESH_ID`, `SERVER_ENDPOINT`,
    /// `APPLICATION_TOKEN`, `APPLICATION_SCOPE`, `member_id`, `status`, `PLACEMENT` in the body.
    pub async fn install_app_page(
        &self,
        client_id: &str,
        url: &str,
    ) -> Result<Installed, InstallError> {
        self.install(client_id, url, true).await
    }

    async fn install(
        &self,
        client_id: &str,
        url: &str,
        page: bool,
    ) -> Result<Installed, InstallError> {
        let shared = self.shared();
        let (prepared, query, installed) = {
            let mut portal = shared.portal.lock();
            let app = portal
                .oauth_app(client_id)
                .cloned()
                .ok_or_else(|| InstallError::UnknownApp(client_id.to_owned()))?;
            let admin = portal
                .users()
                .find(|user| user.admin)
                .map(|user| user.id)
                .ok_or(InstallError::NoAdministrator)?;
            portal.events.next_process += 1;
            let application_token = super::fresh_token(portal.events.next_process);
            // An installation (of a new version too) starts without handlers: the installer
            // binds them again.
            portal.events.bindings.retain(|b| b.client_id != client_id);
            portal.events.apps.insert(
                client_id.to_owned(),
                InstalledApp {
                    client_id: client_id.to_owned(),
                    application_token: application_token.clone(),
                },
            );
            let auth = auth_block(&mut portal, &shared.base_url, client_id, Some(admin), true);
            let text = |key: &str| auth[key].as_str().unwrap_or_default().to_owned();
            let installed = Installed {
                status: None,
                member_id: portal.member_id().to_owned(),
                application_token,
                access_token: text("access_token"),
                refresh_token: text("refresh_token"),
            };
            let (form, query) = if page {
                let form = json!({
                    "AUTH_ID": installed.access_token,
                    "AUTH_EXPIRES": 3600,
                    "REFRESH_ID": installed.refresh_token,
                    "SERVER_ENDPOINT": auth["server_endpoint"],
                    "APPLICATION_TOKEN": installed.application_token,
                    "APPLICATION_SCOPE": app.scope,
                    "member_id": installed.member_id,
                    "status": app.status,
                    "PLACEMENT": "DEFAULT",
                });
                let query = super::form::encode(&json!({
                    "DOMAIN": domain_of(&shared.base_url),
                    "PROTOCOL": 0,
                    "LANG": "en",
                    "APP_SID": super::fresh_token(unix_now()),
                }));
                (form, Some(query))
            } else {
                let form = json!({
                    "event": "ONAPPINSTALL",
                    "data": {"VERSION": "1", "ACTIVE": "Y", "INSTALLED": "Y", "LANGUAGE_ID": "en"},
                    "ts": unix_now(),
                    "auth": auth,
                });
                (form, None)
            };
            let prepared = Prepared {
                event: if page { "INSTALL" } else { "ONAPPINSTALL" }.to_owned(),
                url: url.to_owned(),
                handler_id: 0,
                body: super::form::encode(&form),
            };
            (prepared, query, installed)
        };
        let delivery = post(shared.portal.clone(), prepared, query).await;
        Ok(Installed {
            status: delivery.status,
            ..installed
        })
    }

    /// Uninstalls the application `client_id`: `ONAPPUNINSTALL` (`data[LANGUAGE_ID]`,
    /// `data[CLEAN]`, and `auth[…]` without tokens) goes to its handlers of that event, then its
    /// handlers, offline queue and tokens are gone. Returns the deliveries, awaited.
    pub async fn uninstall_app(&self, client_id: &str) -> Vec<EventDelivery> {
        let shared = self.shared();
        let due: Vec<Prepared> = {
            let mut portal = shared.portal.lock();
            let targets: Vec<(u64, String)> = portal
                .events
                .bindings
                .iter()
                .filter(|b| b.client_id == client_id && b.event == "ONAPPUNINSTALL" && !b.offline)
                .map(|b| (b.id, b.handler.clone()))
                .collect();
            let auth = auth_block(&mut portal, &shared.base_url, client_id, None, false);
            let due = targets
                .into_iter()
                .map(|(id, url)| Prepared {
                    event: "ONAPPUNINSTALL".into(),
                    url,
                    handler_id: id,
                    body: super::form::encode(&json!({
                        "event": "ONAPPUNINSTALL",
                        "event_handler_id": id,
                        "data": {"LANGUAGE_ID": "en", "CLEAN": 0},
                        "ts": unix_now(),
                        "auth": auth,
                    })),
                })
                .collect();
            let events = &mut portal.events;
            events.apps.remove(client_id);
            events.bindings.retain(|b| b.client_id != client_id);
            events.queue.retain(|r| r.client_id != client_id);
            events.outbox.retain(|o| o.client_id != client_id);
            portal.revoke_app_tokens(client_id);
            due
        };
        let mut deliveries = Vec::with_capacity(due.len());
        for prepared in due {
            deliveries.push(post(shared.portal.clone(), prepared, None).await);
        }
        deliveries
    }
}
