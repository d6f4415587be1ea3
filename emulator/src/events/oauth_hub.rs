//! One OAuth server for several emulated portals, as `oauth.bitrix.info` serves every portal:
//! [`Emulator::share_oauth_server`].

use crate::error::ApiError;
use crate::server::{Emulator, Shared};
use crate::state::{IssuedTokens, PortalHandle};

impl Emulator {
    /// Lets this emulator's token endpoint renew `other`'s tokens too (answering with `other`'s
    /// `client_endpoint` and `member_id`), as one OAuth server serves every portal: an
    /// application on both portals is configured with this emulator's
    /// [`token_url`](Emulator::token_url). Give the portals different
    /// [`member_id`](crate::Portal::set_member_id)s.
    pub fn share_oauth_server(&self, other: &Emulator) {
        let peer = (other.portal(), other.base_url());
        self.shared().portal.lock().events.oauth_peers.push(peer);
    }
}

/// Renews at the portals sharing this token endpoint: `None` when none knows the refresh token,
/// else what the one that knows it answers, with its base URL.
pub(crate) fn renew_at_peers(
    shared: &Shared,
    client_id: &str,
    client_secret: &str,
    refresh_token: &str,
) -> Option<Result<(IssuedTokens, String), ApiError>> {
    let peers: Vec<(PortalHandle, String)> = shared.portal.lock().events.oauth_peers.clone();
    for (portal, base_url) in peers {
        let mut portal = portal.lock();
        if portal.refresh_token_valid(refresh_token) {
            return Some(
                portal
                    .renew_tokens(client_id, client_secret, refresh_token)
                    .map(|issued| (issued, base_url)),
            );
        }
    }
    None
}
