//! `batch`: encodings from the docs, references, halt, PHP's `[]`, the length limit, nesting, and
//! the accounting of commands.

use b24_emulator::{ApiError, Emulator, Portal, DEMO_IDS};
use serde_json::{json, Value};

use crate::common::*;

/// The demo portal with the two methods of batch.md's examples, and 120 leads.
async fn emulator(portal: Portal) -> Emulator {
    let mut portal = portal;
    portal.seed_leads(120);
    let emu = start(portal).await;
    emu.register("user.current", |ctx, _| {
        Ok(json!({"ID": ctx.user_id().to_string(), "NAME": "John", "UF_DEPARTMENT": [1]}))
    });
    emu.register("department.get", |ctx, params| {
        let id = params.int("ID").unwrap_or(0);
        if id != 1 {
            return Err(ApiError::new("ID", format!("No department {id}")));
        }
        ctx.set_total(1);
        Ok(json!([{"ID": "1", "NAME": "DEMO", "SORT": 500}]))
    });
    emu
}

fn batch_url(emu: &Emulator) -> String {
    format!("{}batch", admin(emu))
}

#[tokio::test]
async fn independent_calls_as_json() {
    let emu = emulator(Portal::demo()).await;
    let answer = post_json(
        &batch_url(&emu),
        json!({"halt": 0, "cmd": {"get_user": "user.current", "get_departments": "department.get?ID=1"}}),
    )
    .await;
    let result = answer.result();
    assert_eq!(result["result"]["get_user"]["NAME"], "John");
    assert_eq!(result["result"]["get_departments"][0]["NAME"], "DEMO");
    assert_eq!(result["result_total"], json!({"get_departments": 1}));
    // Empty maps are `[]`, as PHP's json_encode writes them.
    assert!(
        answer.text.contains("\"result_error\":[]"),
        "{}",
        answer.text
    );
    assert!(
        answer.text.contains("\"result_next\":[]"),
        "{}",
        answer.text
    );
    // Keys in the portal's order.
    let keys: Vec<&str> = result
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "result",
            "result_error",
            "result_total",
            "result_next",
            "result_time"
        ]
    );
    for key in ["get_user", "get_departments"] {
        let time = &result["result_time"][key];
        for field in ["start", "finish", "duration", "processing", "operating"] {
            assert!(time[field].is_number(), "{key}.{field}: {time}");
        }
        assert!(time["date_start"].is_string());
    }
}

#[tokio::test]
async fn linked_calls_with_references_json_and_form() {
    let emu = emulator(Portal::demo()).await;
    let cmd = json!({
        "get_user": "user.current",
        "get_department": "department.get?ID=$result[get_user][UF_DEPARTMENT][0]",
    });
    let answer = post_json(&batch_url(&emu), json!({"halt": 0, "cmd": cmd})).await;
    let result = answer.result();
    assert_eq!(
        result["result"]["get_department"][0]["ID"], "1",
        "{}",
        answer.text
    );
    assert_eq!(result["result_error"], json!([]));

    // The same batch form-encoded: the command text is URL-encoded once more.
    let form = "halt=0&cmd[get_user]=user.current&cmd[get_department]=department.get%3FID%3D%24result%5Bget_user%5D%5BUF_DEPARTMENT%5D%5B0%5D";
    let answer = post_form(&batch_url(&emu), form).await;
    let form_result = answer.result();
    assert_eq!(form_result["result"], result["result"]);
    assert_eq!(form_result["result_total"], result["result_total"]);

    // The journal: the batch, then its commands with their substituted parameters.
    let journal = emu.requests();
    assert_eq!(journal.len(), 6);
    assert_eq!(journal[3].method, "batch");
    assert_eq!(journal[3].batch_key, None);
    assert_eq!(journal[4].method, "user.current");
    assert_eq!(journal[4].batch_key.as_deref(), Some("get_user"));
    assert_eq!(journal[5].method, "department.get");
    assert_eq!(journal[5].params, json!({"ID": 1}));
    assert_eq!((journal[5].status, journal[5].user_id), (200, Some(1)));
}

#[tokio::test]
async fn numeric_keys_give_lists_and_cursor_chains_work() {
    let emu = emulator(Portal::demo()).await;
    // The fast export pattern: each page filters on the last id of the previous one.
    let mut cmd = serde_json::Map::new();
    cmd.insert(
        "0".into(),
        json!("crm.lead.list?order[ID]=ASC&filter[>ID]=0&select[]=ID&start=-1"),
    );
    for page in 1..3 {
        cmd.insert(
            page.to_string(),
            json!(format!(
                "crm.lead.list?order[ID]=ASC&filter[>ID]=$result[{}][49][ID]&select[]=ID&start=-1",
                page - 1
            )),
        );
    }
    let answer = post_json(&batch_url(&emu), json!({"cmd": cmd})).await;
    let result = answer.result();
    let pages = result["result"]
        .as_array()
        .expect("keys 0, 1, 2 make a list");
    let ids: Vec<&str> = pages
        .iter()
        .flat_map(|page| page.as_array().into_iter().flatten())
        .filter_map(|row| row["ID"].as_str())
        .collect();
    assert_eq!(ids.len(), 120);
    assert_eq!((ids[0], ids[50], ids[119]), ("1", "51", "120"));
    // start=-1: no totals, no next.
    assert_eq!(result["result_total"], json!([]));
    assert_eq!(result["result_next"], json!([]));
    assert!(result["result_time"].is_array());

    // With counting, result_total and result_next are keyed like the commands.
    let answer = post_json(
        &batch_url(&emu),
        json!({"cmd": ["crm.lead.list?start=0", "crm.lead.list?start=100"]}),
    )
    .await;
    let result = answer.result();
    assert_eq!(result["result_total"], json!([120, 120]));
    // Key 0 alone is sequential too: PHP writes a list.
    assert_eq!(result["result_next"], json!([50]));
}

#[tokio::test]
async fn halt_stops_at_the_first_error() {
    let emu = emulator(Portal::demo()).await;
    let cmd = json!({"a": "user.current", "b": "department.get?ID=7", "c": "user.current"});
    let go_on = post_json(&batch_url(&emu), json!({"halt": 0, "cmd": cmd})).await;
    let result = go_on.result();
    assert_eq!(
        result["result"]
            .as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["a".to_owned(), "c".to_owned()])
    );
    assert_eq!(
        result["result_error"],
        json!({"b": {"error": "ID", "error_description": "No department 7"}})
    );
    emu.clear_requests();

    let halted = post_json(&batch_url(&emu), json!({"halt": 1, "cmd": cmd})).await;
    let result = halted.result();
    assert_eq!(halted.status, 200);
    assert_eq!(result["result"]["a"]["NAME"], "John");
    assert!(result["result"].get("c").is_none());
    assert_eq!(result["result_error"]["b"]["error"], "ID");
    // `c` never ran.
    let keys: Vec<Option<String>> = emu.requests().into_iter().map(|r| r.batch_key).collect();
    assert_eq!(keys, [None, Some("a".into()), Some("b".into())]);

    // Only errors: `result` is `[]`.
    let failing = post_json(
        &batch_url(&emu),
        json!({"halt": 0, "cmd": {"x": "no.such.method", "y": "department.get"}}),
    )
    .await;
    assert!(
        failing.text.starts_with("{\"result\":{\"result\":[],"),
        "{}",
        failing.text
    );
    assert_eq!(
        failing.result()["result_error"]["x"]["error"],
        "ERROR_METHOD_NOT_FOUND"
    );
    assert_eq!(failing.result()["result_time"], json!([]));
}

#[tokio::test]
async fn more_than_fifty_commands() {
    let emu = emulator(Portal::demo()).await;
    let cmd: serde_json::Map<String, Value> = (0..52)
        .map(|i| (format!("k{i}"), json!("user.current")))
        .collect();
    let answer = post_json(&batch_url(&emu), json!({"halt": 0, "cmd": cmd})).await;
    let result = answer.result();
    assert_eq!(result["result"].as_object().map(|m| m.len()), Some(50));
    assert_eq!(
        result["result_error"],
        json!({
            "k50": {"error": "ERROR_BATCH_LENGTH_EXCEEDED", "error_description": "Max batch length exceeded"},
            "k51": {"error": "ERROR_BATCH_LENGTH_EXCEEDED", "error_description": "Max batch length exceeded"},
        })
    );
    // Commands past the limit are journaled but did not run.
    let journal = emu.requests();
    assert_eq!(journal.len(), 53);
    assert_eq!(journal[52].status, 400);
}

#[tokio::test]
async fn nested_batch_is_refused_for_that_command_only() {
    let emu = emulator(Portal::demo()).await;
    let answer = post_json(
        &batch_url(&emu),
        json!({"cmd": {"inner": "batch?cmd[a]=user.current", "me": "user.current", "odd": 5}}),
    )
    .await;
    let result = answer.result();
    assert_eq!(
        result["result_error"]["inner"],
        json!({"error": "ERROR_BATCH_METHOD_NOT_ALLOWED", "error_description": "Method is not allowed for batch usage"})
    );
    assert_eq!(result["result_error"]["odd"]["error"], "INVALID_REQUEST");
    assert_eq!(result["result"]["me"]["ID"], "1");
    assert_eq!(emu.requests()[1].status, 405);
}

#[tokio::test]
async fn commands_are_charged_to_their_own_methods() {
    let mut portal = Portal::demo();
    portal.set_operating_budget(Some(250.0));
    portal.set_method_cost("user.current", 100.0);
    let emu = emulator(portal).await;
    let cmd = json!([
        "user.current",
        "user.current",
        "user.current",
        "user.current",
        "department.get?ID=1"
    ]);
    let answer = post_json(&batch_url(&emu), json!({"cmd": cmd})).await;
    let result = answer.result();
    let operating: Vec<Option<f64>> = (0..3)
        .map(|i| result["result_time"][i.to_string()]["operating"].as_f64())
        .collect();
    assert_eq!(
        operating,
        [Some(100.0), Some(200.0), Some(300.0)],
        "{}",
        answer.text
    );
    // 300 > 250: the fourth is blocked, other methods are not.
    assert_eq!(result["result_error"]["3"]["error"], "OPERATION_TIME_LIMIT");
    assert_eq!(result["result"]["4"][0]["ID"], "1");
    // The outer batch is not charged.
    assert_eq!(answer.body["time"]["operating"].as_f64(), Some(0.0));
    // A plain call of the method is blocked too: same webhook, same method.
    post_json(&format!("{}user.current", admin(&emu)), json!({}))
        .await
        .error(429, "OPERATION_TIME_LIMIT");
}

#[tokio::test]
async fn batch_by_oauth_and_auth_errors() {
    let emu = emulator(Portal::demo()).await;
    let answer = post_json(
        &format!("{}batch", emu.rest_url()),
        json!({"cmd": {"me": "user.current?auth=ignored"}, "auth": DEMO_IDS.access_token}),
    )
    .await;
    assert_eq!(answer.result()["result"]["me"]["ID"], "1");
    let no_auth = post_json(
        &format!("{}batch", emu.rest_url()),
        json!({"cmd": {"me": "user.current"}}),
    )
    .await;
    no_auth.error(401, "NO_AUTH_FOUND");
    // No `cmd`: an empty batch.
    let empty = post_json(&batch_url(&emu), json!({})).await;
    assert_eq!(
        empty.result(),
        &json!({"result": [], "result_error": [], "result_total": [], "result_next": [], "result_time": []})
    );
}
