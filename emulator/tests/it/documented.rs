//! Documented answers over HTTP: every method of the committed schema without a handler answers
//! its page's success example, a missing required parameter gets the page's error, and the
//! handler-backed methods keep their logic.
//!
//! The expectations are read here from the schema files themselves (`emulator/schema`, the link
//! to `methods/schema`), not through the emulator's own reading of them.

use std::collections::{BTreeMap, HashMap, HashSet};

use b24_emulator::{Registry, DEMO_IDS};
use serde_json::{json, Map, Value};

use crate::common::{admin, demo, post_json};

/// One page of the schema, as this test reads it.
struct Page {
    name: String,
    v3: bool,
    required: Vec<String>,
    request: Map<String, Value>,
    success: Option<Value>,
}

fn pages() -> Vec<Page> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/schema");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    let mut pages = Vec::new();
    for path in files {
        let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for method in file["methods"].as_array().unwrap() {
            let examples = &method["examples"];
            pages.push(Page {
                name: method["name"].as_str().unwrap().to_owned(),
                v3: method["rest_version"] == 3,
                required: method["params"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|p| p["required"] == true)
                    .map(|p| p["name"].as_str().unwrap().to_owned())
                    .filter(|name| name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
                    .collect(),
                request: examples["requests"][0]
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                success: examples["success"].get(0).cloned(),
            });
        }
    }
    pages
}

/// The parameters of a call that the page accepts: its request example, with every required
/// parameter it lacks (or leaves empty) set, and without `auth` (the webhook authenticates).
fn full_params(page: &Page) -> Value {
    let mut params = page.request.clone();
    params.remove("auth");
    for name in &page.required {
        let present = params
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .is_some_and(|(_, value)| !value.is_null() && *value != json!(""));
        if !present {
            params.insert(name.clone(), json!(1));
        }
    }
    Value::Object(params)
}

fn url(emu: &b24_emulator::Emulator, v3: bool, method: &str) -> String {
    let webhook = admin(emu);
    if v3 {
        format!("{}{method}", webhook.replacen("/rest/", "/rest/api/", 1))
    } else {
        format!("{webhook}{method}")
    }
}

#[tokio::test]
async fn every_documented_method_answers_its_pages_example() {
    let emu = demo().await;
    let builtins: HashSet<String> = Registry::with_builtins()
        .names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    // Every page of a name: its success example answers (a name on several pages answers one
    // of them).
    let mut by_name: BTreeMap<(bool, String), Vec<Page>> = BTreeMap::new();
    for page in pages() {
        let key = (page.v3, page.name.to_lowercase());
        if key.1 == "batch" || (!page.v3 && builtins.contains(&key.1)) {
            continue;
        }
        by_name.entry(key).or_default().push(page);
    }
    let (mut answered, mut not_found) = (0, 0);
    for ((v3, name), pages) in &by_name {
        let params = full_params(&pages[0]);
        let answer = post_json(&url(&emu, *v3, name), params.clone()).await;
        let examples: Vec<&Value> = pages.iter().filter_map(|p| p.success.as_ref()).collect();
        if examples.is_empty() {
            assert_eq!(answer.status, 404, "{name}: {}", answer.text);
            not_found += 1;
            continue;
        }
        assert_eq!(answer.status, 200, "{name} {params}: {}", answer.text);
        let matches = |example: &Value| {
            let result = example.get("result").unwrap_or(example);
            // `next` and `total` as the page gives them (a page's `"total": -1` is left out).
            let paging = |key: &str| example.get(key).filter(|v| v.is_u64());
            answer.body["result"] == *result
                && answer.body.get("next") == paging("next")
                && answer.body.get("total") == paging("total")
        };
        assert!(
            examples.iter().any(|example| matches(example)),
            "{name}: {} is none of the page's examples",
            answer.text
        );
        assert!(answer.body["time"]["duration"].is_number(), "{name}");
        answered += 1;
    }
    // The schema holds about 1,400 names; most pages have a success example.
    assert!(
        answered > 1_100,
        "{answered} answered, {not_found} without example"
    );
    assert!(
        not_found < 300,
        "{answered} answered, {not_found} without example"
    );
    println!("documented answers: {answered} methods answered their example, {not_found} pages have none");
}

#[tokio::test]
async fn a_missing_required_parameter_gets_the_pages_error() {
    let emu = demo().await;
    // (method, parameters, status, code, description): each from its page's error table or error
    // examples.
    let cases: &[(&str, Value, u16, &str, &str)] = &[
        (
            "imconnector.activate",
            json!({"LINE": 1, "ACTIVE": 1}),
            400,
            "ERROR_ARGUMENT",
            "Argument 'CONNECTOR' is null or empty",
        ),
        (
            "imconnector.activate",
            json!({"CONNECTOR": "my", "LINE": 1, "ACTIVE": ""}),
            400,
            "ERROR_ARGUMENT",
            "Argument 'ACTIVE' is null or empty",
        ),
        (
            "imopenlines.session.intercept",
            json!({}),
            400,
            "CHAT_ID_EMPTY",
            "Chat ID can't be empty",
        ),
        (
            "tasks.template.add",
            json!({"fields": null}),
            400,
            "100",
            "Could not find value for parameter {fields}",
        ),
        (
            "biconnector.connector.get",
            json!({}),
            400,
            "VALIDATION_ID_NOT_PROVIDED",
            "ID is missing.",
        ),
        (
            "catalog.product.get",
            json!({}),
            400,
            "100",
            "Parameter `id` not specified",
        ),
        (
            "lists.add",
            json!({"IBLOCK_TYPE_ID": "lists", "IBLOCK_CODE": "x"}),
            400,
            "ERROR_REQUIRED_PARAMETERS_MISSING",
            "Required parameter `FIELDS` is missing",
        ),
        (
            "imbot.register",
            json!({}),
            400,
            "CODE_ERROR",
            "Bot code isn't specified",
        ),
        // A page with nothing on it about the parameter: the core's null-argument error.
        (
            "crm.item.get",
            json!({"entityTypeId": 2}),
            400,
            "ERROR_ARGUMENT",
            "Argument 'id' is null or empty",
        ),
    ];
    for (method, params, status, code, description) in cases {
        let answer = post_json(&url(&emu, false, method), params.clone()).await;
        assert_eq!(
            answer.error(*status, code),
            *description,
            "{method} {params}"
        );
    }

    // Every page with a required parameter: a call without any parameter is refused, with a
    // code from the page or the core's, never answered with the example.
    let builtins: HashSet<String> = Registry::with_builtins()
        .names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let pages = pages();
    // A name whose pages all have a required parameter (the emulator answers from one of them).
    let mut all_required: HashMap<(bool, String), bool> = HashMap::new();
    for page in &pages {
        *all_required
            .entry((page.v3, page.name.to_lowercase()))
            .or_insert(true) &= !page.required.is_empty();
    }
    let mut refused = 0;
    for ((v3, name), all_required) in all_required {
        if !all_required || name == "batch" || (!v3 && builtins.contains(&name)) {
            continue;
        }
        let page = pages
            .iter()
            .find(|p| p.v3 == v3 && p.name.eq_ignore_ascii_case(&name))
            .unwrap();
        let answer = post_json(&url(&emu, page.v3, &name), json!({})).await;
        // (Some pages give their errors status 200: imconnector.register.)
        let refused_by_page =
            answer.body.get("error").is_some() && answer.body.get("result").is_none();
        assert!(
            refused_by_page,
            "{name} without {:?}: {}",
            page.required, answer.text
        );
        refused += 1;
    }
    assert!(refused > 800, "{refused}");
}

#[tokio::test]
async fn handler_backed_methods_keep_their_logic_and_documented_answers_can_be_turned_off() {
    let emu = demo().await;
    // session.start's page answers `true`; its handler knows chat 102 is no open line.
    let answer = post_json(
        &url(&emu, false, "imopenlines.session.start"),
        json!({"CHAT_ID": DEMO_IDS.group_chat_id}),
    )
    .await;
    answer.error(400, "CHAT_TYPE");
    // crm.lead.list answers the portal's (empty) leads, not the page's two.
    let answer = post_json(&url(&emu, false, "crm.lead.list"), json!({})).await;
    assert_eq!((answer.status, &answer.body["result"]), (200, &json!([])));

    // Inside a batch, as on their own.
    let answer = post_json(
        &url(&emu, false, "batch"),
        json!({"cmd": {"a": "imconnector.activate?CONNECTOR=my&LINE=1&ACTIVE=1", "b": "imconnector.activate?LINE=1"}}),
    )
    .await;
    assert_eq!(answer.result()["result"]["a"], true);
    assert_eq!(
        answer.result()["result_error"]["b"]["error"],
        "ERROR_ARGUMENT"
    );

    // A registered handler replaces the documented answer; unregistering turns the method off.
    emu.register("imconnector.activate", |_, _| Ok(json!("mine")));
    let params = json!({"CONNECTOR": "my", "LINE": 1, "ACTIVE": 1});
    let answer = post_json(&url(&emu, false, "imconnector.activate"), params.clone()).await;
    assert_eq!(answer.result(), "mine");
    assert!(emu.unregister("imconnector.activate"));
    let answer = post_json(&url(&emu, false, "imconnector.activate"), params.clone()).await;
    answer.error(404, "ERROR_METHOD_NOT_FOUND");

    // Off for all methods.
    emu.set_documented_answers(false);
    let answer = post_json(&url(&emu, false, "crm.deal.get"), json!({"id": 1})).await;
    answer.error(404, "ERROR_METHOD_NOT_FOUND");
    emu.set_documented_answers(true);
    let answer = post_json(&url(&emu, false, "crm.deal.get"), json!({"id": 1})).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    // An unknown method stays unknown.
    let answer = post_json(&url(&emu, false, "crm.no.such.method"), json!({})).await;
    answer.error(404, "ERROR_METHOD_NOT_FOUND");
}
