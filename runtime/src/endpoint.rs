//! The URLs a client posts to. A method's URL is parsed once and cloned for each call: handed
//! over as text, it would be parsed again by reqwest on every call (with the host's IDNA
//! processing, about a tenth of a small call's client-side work).

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::{Mutex, PoisonError};

use url::Url;

use crate::limits::operating::NameHasher;
use crate::method::ApiVersion;

/// The most method URLs kept per REST API and client. A program calls a bounded set of
/// methods; past this many (names made up at run time, say, through `call_raw`), the URLs of
/// names not kept yet are parsed on every call instead of growing the map without end.
const MAX_KEPT: usize = 1024;

type Urls = HashMap<String, Url, BuildHasherDefault<NameHasher>>;

/// The REST roots of a client and the method URLs parsed so far.
pub(crate) struct Endpoints {
    /// The REST root including the webhook code: never logged.
    v2: String,
    /// The REST 3.0 root including the webhook code: never logged.
    v3: String,
    /// The URLs parsed, per API (REST 2, REST 3.0).
    urls: Mutex<[Urls; 2]>,
}

/// A method's URL: parsed, or the text when it does not parse (reqwest then reports the
/// error as it does for any URL it cannot use).
pub(crate) enum MethodUrl {
    Parsed(Url),
    Text(String),
}

impl Endpoints {
    pub(crate) fn new(v2: String, v3: String) -> Self {
        Endpoints {
            v2,
            v3,
            urls: Mutex::new([Urls::default(), Urls::default()]),
        }
    }

    /// The URL of method `name` of the REST API `api`: the same as parsing the root followed by
    /// the name, on every call.
    pub(crate) fn url(&self, api: ApiVersion, name: &str) -> MethodUrl {
        let (root, which) = match api {
            ApiVersion::V3 => (&self.v3, 1),
            _ => (&self.v2, 0),
        };
        let mut urls = self.urls.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(url) = urls[which].get(name) {
            return MethodUrl::Parsed(url.clone());
        }
        let text = format!("{root}{name}");
        match Url::parse(&text) {
            Ok(url) => {
                if urls[which].len() < MAX_KEPT {
                    urls[which].insert(name.to_owned(), url.clone());
                }
                MethodUrl::Parsed(url)
            }
            Err(_) => MethodUrl::Text(text),
        }
    }
}

/// Never the roots (they hold the webhook code): how many URLs are kept.
impl std::fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let urls = self.urls.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("Endpoints")
            .field("urls_kept", &(urls[0].len() + urls[1].len()))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints() -> Endpoints {
        Endpoints::new(
            "https://example.bitrix24.com/rest/1/s3cret/".into(),
            "https://example.bitrix24.com/rest/api/1/s3cret/".into(),
        )
    }

    fn parsed(url: MethodUrl) -> Url {
        match url {
            MethodUrl::Parsed(url) => url,
            MethodUrl::Text(text) => panic!("not parsed: {text}"),
        }
    }

    /// A kept URL is the one parsing the text would give, per API, on every call.
    #[test]
    fn a_kept_url_is_the_parsed_text() {
        let endpoints = endpoints();
        for _ in 0..3 {
            for (api, root) in [
                (
                    ApiVersion::V2,
                    "https://example.bitrix24.com/rest/1/s3cret/",
                ),
                (
                    ApiVersion::V3,
                    "https://example.bitrix24.com/rest/api/1/s3cret/",
                ),
            ] {
                for name in ["crm.deal.list", "user.current", "tasks.task.getFields"] {
                    let expected = Url::parse(&format!("{root}{name}")).unwrap();
                    assert_eq!(parsed(endpoints.url(api, name)), expected);
                }
            }
        }
        assert!(!format!("{endpoints:?}").contains("s3cret"));
    }

    /// Past `MAX_KEPT` names, URLs are still right, and the map stays bounded.
    #[test]
    fn the_map_is_bounded() {
        let endpoints = endpoints();
        for i in 0..MAX_KEPT + 10 {
            let name = format!("a.m{i}");
            let url = parsed(endpoints.url(ApiVersion::V2, &name));
            assert_eq!(url.path(), format!("/rest/1/s3cret/{name}"));
        }
        let urls = endpoints.urls.lock().unwrap();
        assert_eq!((urls[0].len(), urls[1].len()), (MAX_KEPT, 0));
    }

    /// A root and name that do not make a URL are handed over as text.
    #[test]
    fn text_that_is_no_url_is_kept_as_text() {
        let endpoints = Endpoints::new("no root/".into(), "no root/".into());
        assert!(
            matches!(endpoints.url(ApiVersion::V2, "a.b"), MethodUrl::Text(t) if t == "no root/a.b")
        );
    }
}
