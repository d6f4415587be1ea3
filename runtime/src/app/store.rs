//! [`PortalStore`]: where an application keeps the portals it is installed on, and the in-memory
//! default, [`MemoryPortalStore`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;

use super::Installation;
use crate::oauth::{StoreError, TokenPair, TokenStore};

/// Where installations are kept, by `member_id`. Every method may be slow (a database): the
/// registry awaits them, never holding a lock of its own.
///
/// `save_tokens` is called with every token pair a portal's client renews, *before* the pair is
/// used (see [`TokenStore`]); its default loads the installation, replaces the pair and saves it
/// again, which a store shared by several processes should do atomically instead.
///
/// ```
/// use b24_runtime::app::{Installation, MemoryPortalStore, PortalStore};
/// use b24_runtime::TokenPair;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), b24_runtime::oauth::StoreError> {
/// let store = MemoryPortalStore::new();
/// let portal = Installation::new("a223c6", "x.bitrix24.com", "https://x.bitrix24.com/rest/",
///     TokenPair::new("access", "refresh"));
/// store.save(&portal).await?;
/// assert_eq!(store.list().await?, ["a223c6"]);
/// assert!(store.load("a223c6").await?.is_some());
/// assert!(store.delete("a223c6").await?);
/// # Ok(()) }
/// ```
pub trait PortalStore: Send + Sync + 'static {
    /// The installation of `member_id`, if stored.
    fn load<'a>(
        &'a self,
        member_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Installation>, StoreError>>;

    /// Stores `portal`, replacing any installation with its `member_id`.
    fn save<'a>(&'a self, portal: &'a Installation) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Removes the installation of `member_id`; `true` if there was one.
    fn delete<'a>(&'a self, member_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// The `member_id` of every stored installation.
    fn list(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>>;

    /// Replaces the token pair of `member_id`'s installation (an error if it is not stored: the
    /// portal was uninstalled while its client renewed).
    fn save_tokens<'a>(
        &'a self,
        member_id: &'a str,
        tokens: &'a TokenPair,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut portal = self
                .load(member_id)
                .await?
                .ok_or_else(|| not_installed(member_id))?;
            portal.tokens = tokens.clone();
            self.save(&portal).await
        })
    }
}

/// The error of a token save for a portal that is no longer stored.
pub(crate) fn not_installed(member_id: &str) -> StoreError {
    format!(
        "portal {} is not installed",
        crate::scrub::cut(member_id.to_owned(), 64)
    )
    .into()
}

/// The default store: installations in memory (lost when the process ends).
#[derive(Debug, Default)]
pub struct MemoryPortalStore {
    portals: Mutex<BTreeMap<String, Installation>>,
}

impl MemoryPortalStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Installation>> {
        self.portals.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl PortalStore for MemoryPortalStore {
    fn load<'a>(
        &'a self,
        member_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Installation>, StoreError>> {
        let found = self.lock().get(member_id).cloned();
        Box::pin(async move { Ok(found) })
    }

    fn save<'a>(&'a self, portal: &'a Installation) -> BoxFuture<'a, Result<(), StoreError>> {
        self.lock().insert(portal.member_id.clone(), portal.clone());
        Box::pin(async { Ok(()) })
    }

    fn delete<'a>(&'a self, member_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        let removed = self.lock().remove(member_id).is_some();
        Box::pin(async move { Ok(removed) })
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        let ids = self.lock().keys().cloned().collect();
        Box::pin(async move { Ok(ids) })
    }

    fn save_tokens<'a>(
        &'a self,
        member_id: &'a str,
        tokens: &'a TokenPair,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let outcome = match self.lock().get_mut(member_id) {
            Some(portal) => {
                portal.tokens = tokens.clone();
                Ok(())
            }
            None => Err(not_installed(member_id)),
        };
        Box::pin(async move { outcome })
    }
}

/// The [`TokenStore`] of one portal's client: renewed pairs go into its installation.
pub(crate) struct PortalTokens {
    pub(crate) member_id: String,
    pub(crate) store: Arc<dyn PortalStore>,
}

impl TokenStore for PortalTokens {
    fn save<'a>(&'a self, tokens: &'a TokenPair) -> BoxFuture<'a, Result<(), StoreError>> {
        self.store.save_tokens(&self.member_id, tokens)
    }

    /// The portal's pair as the store has it now: another replica sharing the store may have
    /// renewed it (see [`TokenStore::load`]).
    fn load(&self) -> BoxFuture<'_, Result<Option<TokenPair>, StoreError>> {
        Box::pin(async move {
            let portal = self.store.load(&self.member_id).await?;
            Ok(portal.map(|portal| portal.tokens))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::FilePortalStore;

    /// What every store does, the same way.
    async fn behaves(store: &dyn PortalStore) {
        let portal = |id: &str| {
            Installation::new(
                id,
                "d.example",
                "https://d.example/rest/",
                TokenPair::new("a", "r"),
            )
        };
        assert!(store.load("m1").await.unwrap().is_none());
        store.save(&portal("m2")).await.unwrap();
        store.save(&portal("m1")).await.unwrap();
        assert_eq!(store.list().await.unwrap(), ["m1", "m2"]);
        store
            .save_tokens("m1", &TokenPair::new("a2", "r2"))
            .await
            .unwrap();
        let loaded = store.load("m1").await.unwrap().unwrap();
        assert_eq!(loaded.tokens.expose_refresh_token(), "r2");
        assert!(store
            .save_tokens("m3", &TokenPair::new("a", "r"))
            .await
            .is_err());
        assert!(store.delete("m1").await.unwrap());
        assert!(!store.delete("m1").await.unwrap());
        assert_eq!(store.list().await.unwrap(), ["m2"]);
        // A save of a known portal replaces it.
        store
            .save(&portal("m2").with_application_token("t"))
            .await
            .unwrap();
        assert!(store
            .load("m2")
            .await
            .unwrap()
            .unwrap()
            .application_token_matches("t"));
    }

    #[tokio::test]
    async fn memory_and_file_stores_behave_alike() {
        behaves(&MemoryPortalStore::new()).await;
        let path =
            std::env::temp_dir().join(format!("b24-store-alike-{}.json", std::process::id()));
        let _ = std::fs::remove_file(&path);
        behaves(&crate::app::FilePortalStore::open(&path).unwrap()).await;
        assert_eq!(
            FilePortalStore::open(&path).unwrap().list().await.unwrap(),
            ["m2"]
        );
        std::fs::remove_file(&path).unwrap();
    }

    /// A portal's token store reads back what any client of the same portal store saved, as a
    /// replica does after another one renewed.
    #[tokio::test]
    async fn a_portals_token_store_loads_the_stored_pair() {
        let store: Arc<dyn PortalStore> = Arc::new(MemoryPortalStore::new());
        let portal = Installation::new(
            "m1",
            "d.example",
            "https://d.example/rest/",
            TokenPair::new("a", "r"),
        );
        store.save(&portal).await.unwrap();
        let tokens = |member_id: &str| PortalTokens {
            store: store.clone(),
            member_id: member_id.to_owned(),
        };
        tokens("m1")
            .save(&TokenPair::new("a2", "r2"))
            .await
            .unwrap();
        let loaded = tokens("m1").load().await.unwrap().expect("stored pair");
        assert_eq!(loaded.expose_refresh_token(), "r2");
        assert!(tokens("m2").load().await.unwrap().is_none());
    }
}
