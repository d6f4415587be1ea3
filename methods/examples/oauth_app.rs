//! An OAuth 2.0 application whose tokens survive restarts: a `TokenStore` that keeps the
//! latest pair in a JSON file. The client renews an expired access token by itself (once for
//! all concurrent calls), saves the new pair to the file before using it, and a client made
//! later from the file carries on.
//!
//! ```sh
//! cargo run --example oauth_app                           # on the embedded emulated portal
//! B24_PORTAL=https://<portal> B24_CLIENT_ID=… B24_CLIENT_SECRET=… \
//!     B24_ACCESS_TOKEN=… B24_REFRESH_TOKEN=… \
//!     cargo run --example oauth_app                       # on a real portal (scope crm)
//! ```
//!
//! The token file is `B24_TOKEN_FILE` (default: `b24-tokens.json` in the temporary directory);
//! once it exists, it wins over `B24_ACCESS_TOKEN`/`B24_REFRESH_TOKEN`.

use std::path::PathBuf;
use std::sync::Arc;

use b24::crm::LeadList;
use b24::exports::futures::future::BoxFuture;
use b24::exports::serde_json::{self, json, Value};
use b24::oauth::StoreError;
use b24::{Client, OAuthApp, TokenPair, TokenStore};
use b24_emulator::{Emulator, Portal, DEMO_IDS};

/// Keeps the latest token pair in a JSON file, readable by its owner only.
struct JsonFileStore {
    path: PathBuf,
}

impl JsonFileStore {
    /// The pair saved last, if any.
    fn load(&self) -> anyhow::Result<Option<TokenPair>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let saved: Value = serde_json::from_str(&text)?;
        let (Some(access), Some(refresh)) = (
            saved["access_token"].as_str(),
            saved["refresh_token"].as_str(),
        ) else {
            anyhow::bail!("{} has no token pair", self.path.display());
        };
        let mut pair = TokenPair::new(access, refresh);
        if let Some(expires) = saved["expires"].as_i64() {
            pair = pair.expires_at(expires);
        }
        Ok(Some(pair))
    }

    fn write(&self, tokens: &TokenPair) -> std::io::Result<()> {
        let text = json!({
            "access_token": tokens.expose_access_token(),
            "refresh_token": tokens.expose_refresh_token(),
            "expires": tokens.expires,
        })
        .to_string();
        // Write a new file and rename it over the old one: a crash leaves one or the other.
        let tmp = self.path.with_extension("tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        std::io::Write::write_all(&mut options.open(&tmp)?, text.as_bytes())?;
        std::fs::rename(&tmp, &self.path)
    }
}

impl TokenStore for JsonFileStore {
    fn save<'a>(&'a self, tokens: &'a TokenPair) -> BoxFuture<'a, Result<(), StoreError>> {
        // A small local file: writing it in place is fine; a database would be awaited here.
        Box::pin(async move { self.write(tokens).map_err(StoreError::from) })
    }
}

/// The portal, the application and the first token pair: from the environment, or an emulator.
struct Setup {
    portal: String,
    app: OAuthApp,
    tokens: Option<TokenPair>,
    emulator: Option<Emulator>,
}

async fn setup() -> anyhow::Result<Setup> {
    if let Ok(portal) = std::env::var("B24_PORTAL") {
        let var = |name: &str| std::env::var(name).map_err(|_| anyhow::anyhow!("set {name}"));
        let app = OAuthApp::new(var("B24_CLIENT_ID")?, var("B24_CLIENT_SECRET")?);
        let tokens = match (var("B24_ACCESS_TOKEN"), var("B24_REFRESH_TOKEN")) {
            (Ok(access), Ok(refresh)) => Some(TokenPair::new(access, refresh)),
            _ => None,
        };
        return Ok(Setup {
            portal,
            app,
            tokens,
            emulator: None,
        });
    }
    let mut portal = Portal::demo();
    portal.seed_leads(10);
    portal.add_oauth_app("local.example", "example-secret");
    let (access, refresh) = portal.issue_tokens(DEMO_IDS.admin_user, "local.example");
    let emu = Emulator::start(portal).await?;
    println!(
        "No B24_PORTAL: using the embedded emulated portal at {}",
        emu.base_url()
    );
    // The emulator is its own OAuth server: renew there instead of at oauth.bitrix.info.
    let app = OAuthApp::new("local.example", "example-secret").token_url(&emu.token_url())?;
    Ok(Setup {
        portal: emu.base_url(),
        app,
        tokens: Some(TokenPair::new(access, refresh)),
        emulator: Some(emu),
    })
}

fn client(setup: &Setup, store: &Arc<JsonFileStore>, tokens: TokenPair) -> anyhow::Result<Client> {
    Ok(Client::builder()
        .oauth_renewing(&setup.portal, tokens, setup.app.clone())
        .token_store(store.clone())
        .build()?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let setup = setup().await?;
    let path = std::env::var_os("B24_TOKEN_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("b24-tokens.json"));
    let store = Arc::new(JsonFileStore { path });
    // In emulator mode the portal is new on every run: start from its tokens, not an old file.
    let saved = if setup.emulator.is_some() {
        None
    } else {
        store.load()?
    };
    let tokens = match saved {
        Some(tokens) => tokens,
        None => {
            let tokens = setup.tokens.clone().ok_or_else(|| {
                anyhow::anyhow!("no token file yet: set B24_ACCESS_TOKEN and B24_REFRESH_TOKEN")
            })?;
            store.write(&tokens)?;
            tokens
        }
    };

    let first = client(&setup, &store, tokens)?;
    let leads = first.call(LeadList::new()).await?;
    println!("crm.lead.list -> {} leads", leads.len());

    if let Some(emu) = &setup.emulator {
        // Let the access token expire on the portal: the next call meets `expired_token`,
        // renews (one request to the token endpoint), saves the new pair, and is replayed.
        let issued = setup
            .tokens
            .as_ref()
            .map(|t| t.expose_access_token().to_owned());
        if let Some(token) = issued {
            emu.portal().lock().expire_access_token(&token);
        }
        let leads = first.call(LeadList::new()).await?;
        println!(
            "after expiry: crm.lead.list -> {} leads; token renewals: {}",
            leads.len(),
            emu.token_renewals()
        );
    }

    // A restart: a new client from the file alone.
    let saved = store
        .load()?
        .ok_or_else(|| anyhow::anyhow!("the store saved nothing"))?;
    println!("{} holds {saved:?}", store.path.display());
    let restarted = client(&setup, &store, saved)?;
    let leads = restarted.call(LeadList::new()).await?;
    println!(
        "restarted from the file: crm.lead.list -> {} leads",
        leads.len()
    );
    Ok(())
}
