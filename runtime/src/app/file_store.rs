//! [`FilePortalStore`]: installations in one JSON file (see the type's docs).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::store::not_installed;
use super::{Installation, PortalStore};
use crate::oauth::{StoreError, TokenPair};

/// Installations kept in a JSON file, so that a restarted application keeps its portals.
///
/// Why a JSON file and not SQLite: no native library to build or link, a format a person can read
/// and back up, and the data is small (a few hundred bytes per portal). Every change rewrites the
/// whole file through a temporary file and a rename, so a crash leaves the old file or the new
/// one, never half of one; the file is readable by its owner only. It suits one process with up
/// to a few thousand portals; several replicas need a shared store (a database) instead.
///
/// Reads come from memory. A change is written (and synced) on tokio's blocking threads, one
/// write at a time, so that a slow disk never stalls the tasks of the runtime; the portals in
/// memory are locked only to read or change them, never during the write.
///
/// ```
/// use b24_runtime::app::{FilePortalStore, Installation, PortalStore};
/// use b24_runtime::TokenPair;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let path = std::env::temp_dir().join(format!("b24-doc-{}.json", std::process::id()));
/// let store = FilePortalStore::open(&path)?;
/// store.save(&Installation::new("a223c6", "x.bitrix24.com", "https://x.bitrix24.com/rest/",
///     TokenPair::new("access", "refresh"))).await?;
/// // Another process, or this one after a restart:
/// let again = FilePortalStore::open(&path)?;
/// assert_eq!(again.load("a223c6").await?.unwrap().domain, "x.bitrix24.com");
/// # std::fs::remove_file(&path)?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct FilePortalStore {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    path: PathBuf,
    portals: Mutex<BTreeMap<String, Record>>,
    /// Held (on a blocking thread) from a change to the end of its write: one at a time.
    writing: Mutex<()>,
}

type Portals = BTreeMap<String, Record>;

/// The file: a version and the portals by `member_id`.
#[derive(Serialize, Deserialize, Default)]
struct File {
    version: u32,
    portals: BTreeMap<String, Record>,
}

/// One installation as written to the file.
#[derive(Clone, Serialize, Deserialize)]
struct Record {
    domain: String,
    client_endpoint: String,
    access_token: String,
    refresh_token: String,
    #[serde(default)]
    expires: Option<i64>,
    #[serde(default)]
    user_id: Option<u64>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    application_token: Option<String>,
    #[serde(default)]
    installed_at: i64,
}

impl std::fmt::Debug for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Record")
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

impl Record {
    fn of(portal: &Installation) -> Self {
        Record {
            domain: portal.domain.clone(),
            client_endpoint: portal.client_endpoint.clone(),
            access_token: portal.tokens.expose_access_token().to_owned(),
            refresh_token: portal.tokens.expose_refresh_token().to_owned(),
            expires: portal.tokens.expires,
            user_id: portal.tokens.user_id,
            scope: portal.scope.clone(),
            status: portal.status.clone(),
            application_token: portal.expose_application_token().map(str::to_owned),
            installed_at: portal.installed_at,
        }
    }

    fn set_tokens(&mut self, tokens: &TokenPair) {
        self.access_token = tokens.expose_access_token().to_owned();
        self.refresh_token = tokens.expose_refresh_token().to_owned();
        self.expires = tokens.expires;
        self.user_id = tokens.user_id.or(self.user_id);
    }

    fn installation(&self, member_id: &str) -> Installation {
        let mut tokens = TokenPair::new(&self.access_token, &self.refresh_token);
        tokens.expires = self.expires;
        tokens.user_id = self.user_id;
        tokens.member_id = Some(member_id.to_owned());
        tokens.client_endpoint = Some(self.client_endpoint.clone());
        tokens.scope = self.scope.clone();
        let mut portal = Installation::new(member_id, &self.domain, &self.client_endpoint, tokens)
            .with_application_token(self.application_token.clone().unwrap_or_default());
        portal.scope = self.scope.clone();
        portal.status = self.status.clone();
        portal.installed_at = self.installed_at;
        portal
    }
}

impl FilePortalStore {
    /// The store in the file at `path`, read now if it exists (an unreadable or corrupt file is
    /// an error, never an empty store: that would forget every portal at the next save).
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let path = path.as_ref().to_owned();
        let portals = match std::fs::read(&path) {
            Ok(bytes) => {
                let file: File = serde_json::from_slice(&bytes).map_err(|e| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("{} is not a b24 portal store: {e}", path.display()),
                    )
                })?;
                file.portals
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e),
        };
        Ok(FilePortalStore {
            shared: Arc::new(Shared {
                path,
                portals: Mutex::new(portals),
                writing: Mutex::new(()),
            }),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    fn portals(&self) -> std::sync::MutexGuard<'_, Portals> {
        self.shared.portals()
    }

    /// Applies `change` to the portals and writes the file, on a blocking thread; on a failed
    /// write the change is undone in memory too, so memory and file agree.
    fn update<T: Send + 'static>(
        &self,
        change: impl FnOnce(&mut Portals) -> Result<T, StoreError> + Send + 'static,
    ) -> BoxFuture<'static, Result<T, StoreError>> {
        let shared = Arc::clone(&self.shared);
        Box::pin(async move {
            match tokio::task::spawn_blocking(move || shared.update(change)).await {
                Ok(outcome) => outcome,
                Err(e) => Err(StoreError::from(format!(
                    "the portal file's writer failed: {e}"
                ))),
            }
        })
    }
}

impl Shared {
    fn portals(&self) -> std::sync::MutexGuard<'_, Portals> {
        self.portals.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// [`FilePortalStore::update`] on this (blocking) thread.
    fn update<T>(
        &self,
        change: impl FnOnce(&mut Portals) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let _writing = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let (before, after, outcome) = {
            let mut portals = self.portals();
            let before = portals.clone();
            let outcome = change(&mut portals)?;
            (before, portals.clone(), outcome)
        };
        if let Err(e) = self.write(after) {
            // No other change came in between: they wait for `writing`.
            *self.portals() = before;
            return Err(e.into());
        }
        Ok(outcome)
    }

    /// Writes the file through a temporary file and a rename.
    fn write(&self, portals: Portals) -> std::io::Result<()> {
        let file = File {
            version: 1,
            portals,
        };
        let bytes = serde_json::to_vec_pretty(&file).map_err(std::io::Error::other)?;
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut out = options.open(&tmp)?;
        out.write_all(&bytes)?;
        out.sync_all()?;
        drop(out);
        std::fs::rename(&tmp, &self.path)
    }
}

impl PortalStore for FilePortalStore {
    fn load<'a>(
        &'a self,
        member_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Installation>, StoreError>> {
        let found = self
            .portals()
            .get(member_id)
            .map(|record| record.installation(member_id));
        Box::pin(async move { Ok(found) })
    }

    fn save<'a>(&'a self, portal: &'a Installation) -> BoxFuture<'a, Result<(), StoreError>> {
        let (member_id, record) = (portal.member_id.clone(), Record::of(portal));
        self.update(move |portals| {
            portals.insert(member_id, record);
            Ok(())
        })
    }

    fn delete<'a>(&'a self, member_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        let member_id = member_id.to_owned();
        self.update(move |portals| Ok(portals.remove(&member_id).is_some()))
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        let ids = self.portals().keys().cloned().collect();
        Box::pin(async move { Ok(ids) })
    }

    fn save_tokens<'a>(
        &'a self,
        member_id: &'a str,
        tokens: &'a TokenPair,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let (member_id, tokens) = (member_id.to_owned(), tokens.clone());
        self.update(move |portals| match portals.get_mut(&member_id) {
            Some(record) => {
                record.set_tokens(&tokens);
                Ok(())
            }
            None => Err(not_installed(&member_id)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("b24-file-store-{}-{name}.json", std::process::id()))
    }

    #[tokio::test]
    async fn survives_a_reopen_and_refuses_a_corrupt_file() {
        let path = temp("reopen");
        let store = FilePortalStore::open(&path).unwrap();
        let portal = Installation::new(
            "m1",
            "d.example",
            "https://d.example/rest/",
            TokenPair::new("a1", "r1"),
        )
        .with_application_token("app0token");
        store.save(&portal).await.unwrap();
        store
            .save_tokens("m1", &TokenPair::new("a2", "r2").expires_at(1_900_000_000))
            .await
            .unwrap();
        assert!(store
            .save_tokens("m2", &TokenPair::new("a", "r"))
            .await
            .is_err());

        let again = FilePortalStore::open(&path).unwrap();
        let loaded = again.load("m1").await.unwrap().unwrap();
        assert_eq!(loaded.tokens.expose_refresh_token(), "r2");
        assert_eq!(loaded.tokens.expires, Some(1_900_000_000));
        assert!(loaded.application_token_matches("app0token"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(again.delete("m1").await.unwrap());
        assert!(FilePortalStore::open(&path)
            .unwrap()
            .list()
            .await
            .unwrap()
            .is_empty());

        std::fs::write(&path, b"{not json").unwrap();
        assert!(FilePortalStore::open(&path).is_err());
        std::fs::remove_file(&path).unwrap();
    }

    fn portal(id: &str) -> Installation {
        Installation::new(
            id,
            "d.example",
            "https://d.example/rest/",
            TokenPair::new("a", "r"),
        )
    }

    /// Changes made at once (each written on a blocking thread) are written one at a time and
    /// none is lost: the file has them all.
    #[tokio::test]
    async fn concurrent_changes_all_reach_the_file() {
        let path = temp("concurrent");
        let store = FilePortalStore::open(&path).unwrap();
        let saves = (0..40).map(|i| {
            let portal = portal(&format!("m{i:02}"));
            let store = &store;
            async move { store.save(&portal).await }
        });
        for outcome in futures::future::join_all(saves).await {
            outcome.unwrap();
        }
        let ids = FilePortalStore::open(&path).unwrap().list().await.unwrap();
        assert_eq!(ids.len(), 40);
        assert_eq!((ids[0].as_str(), ids[39].as_str()), ("m00", "m39"));
        std::fs::remove_file(&path).unwrap();
    }

    /// A change whose write fails is undone in memory: memory and file agree.
    #[tokio::test]
    async fn a_failed_write_is_undone_in_memory() {
        let path = temp("no-dir").with_extension("d").join("portals.json");
        let store = FilePortalStore::open(&path).unwrap();
        assert!(store.save(&portal("m1")).await.is_err());
        assert!(store.load("m1").await.unwrap().is_none());
        assert!(store.list().await.unwrap().is_empty());
    }
}
