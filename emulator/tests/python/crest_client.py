#!/usr/bin/env python3
"""A client of the b24-emulator binary written without Rust: Python's urllib, posting JSON and
PHP-style form bodies as CRest (Bitrix24's PHP SDK) does, plus the OAuth token endpoint.

Started by emulator/tests/python_client.rs with the URLs the binary printed, in the environment:
B24_WEBHOOK (user 10's webhook, from seed.json), B24_REST (the REST root), B24_TOKEN_URL,
B24_CLIENT_ID, B24_CLIENT_SECRET, B24_REFRESH_TOKEN. The binary runs with seed.json and
`--fault bad-gateway --every 3 --method imopenlines.dialog.get`. Exits non-zero on the first
check that fails. Standard library only.
"""

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

WEBHOOK = os.environ["B24_WEBHOOK"]
REST = os.environ["B24_REST"]


def http_build_query(params, prefix=None):
    """PHP's http_build_query: nested dicts and lists become key[sub]=value pairs."""
    pairs = []
    items = params.items() if isinstance(params, dict) else enumerate(params)
    for key, value in items:
        name = f"{prefix}[{key}]" if prefix is not None else str(key)
        if isinstance(value, (dict, list)):
            pairs.extend(http_build_query(value, name))
        elif isinstance(value, bool):
            pairs.append((name, "1" if value else "0"))
        else:
            pairs.append((name, str(value)))
    return pairs


def send(url, body, content_type):
    """POSTs; returns (HTTP status, body text)."""
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def call_json(base, method, params):
    status, text = send(base + method, json.dumps(params).encode(), "application/json")
    return status, json.loads(text)


def call_form(base, method, params):
    body = urllib.parse.urlencode(http_build_query(params)).encode()
    status, text = send(base + method + ".json", body, "application/x-www-form-urlencoded")
    return status, json.loads(text)


def check(what, condition, detail=""):
    if not condition:
        print(f"FAILED: {what} {detail}")
        sys.exit(1)
    print(f"ok: {what}")


# JSON body: start a session in the seeded open line chat, as its operator.
status, answer = call_json(WEBHOOK, "imopenlines.session.start", {"CHAT_ID": 300})
check("JSON imopenlines.session.start on seeded chat 300", status == 200 and answer["result"] is True, answer)
check("the answer has the time block", isinstance(answer.get("time", {}).get("duration"), (int, float)), answer)

# The error envelope: an ordinary chat is not an open line.
status, answer = call_json(WEBHOOK, "imopenlines.session.start", {"CHAT_ID": 301})
check("JSON error envelope CHAT_TYPE with HTTP 400", status == 400 and answer.get("error") == "CHAT_TYPE", (status, answer))

# PHP-style form body with nested arrays, as CRest's http_build_query sends it.
status, answer = call_form(WEBHOOK, "crm.lead.list", {
    "order": {"ID": "ASC"},
    "filter": {">ID": 1},
    "select": ["ID", "TITLE", "OPPORTUNITY"],
})
titles = [row["TITLE"] for row in answer.get("result", [])]
check("form-encoded crm.lead.list with filter[>ID] over seeded leads",
      status == 200 and titles == ["Second order", "Big order"] and answer.get("total") == 2, (status, answer))
check("numbers come back as strings, as from PHP", answer["result"][0]["ID"] == "2", answer)

# CRest's callBatch: cmd[key]=method?query, halt=0, with a $result reference.
status, answer = call_form(WEBHOOK, "batch", {
    "halt": 0,
    "cmd": {
        "open": "imopenlines.session.open?" + urllib.parse.urlencode({"USER_CODE": "livechat|3|300|11"}),
        "dialog": "imopenlines.dialog.get?CHAT_ID=$result[open][chatId]",
    },
})
results = answer.get("result", {}).get("result", {})
check("form-encoded batch with a $result reference",
      status == 200 and str(results.get("open", {}).get("chatId")) == "300"
      and str(results.get("dialog", {}).get("id")) == "300", (status, answer))

# The injected fault: every 3rd call of imopenlines.dialog.get gets nginx's HTML 502 page.
statuses = [send(WEBHOOK + "imopenlines.dialog.get", b'{"CHAT_ID": 300}', "application/json")[0]
            for _ in range(6)]
check("--fault bad-gateway --every 3 --method imopenlines.dialog.get", statuses == [200, 200, 502, 200, 200, 502], statuses)

# A method the emulator has no handler for answers its docs page: the success example, or the
# page's error for a missing required parameter.
status, answer = call_form(WEBHOOK, "imconnector.activate", {"CONNECTOR": "py", "LINE": 3, "ACTIVE": 1})
check("documented answer of imconnector.activate", status == 200 and answer.get("result") is True, (status, answer))
status, answer = call_form(WEBHOOK, "imconnector.activate", {"LINE": 3, "ACTIVE": 1})
check("the page's error for a missing CONNECTOR",
      status == 400 and answer.get("error") == "ERROR_ARGUMENT"
      and answer.get("error_description") == "Argument 'CONNECTOR' is null or empty", (status, answer))

# OAuth: renew the printed refresh token at the token endpoint (GET with a query, as CRest).
query = urllib.parse.urlencode({
    "grant_type": "refresh_token",
    "client_id": os.environ["B24_CLIENT_ID"],
    "client_secret": os.environ["B24_CLIENT_SECRET"],
    "refresh_token": os.environ["B24_REFRESH_TOKEN"],
})
with urllib.request.urlopen(os.environ["B24_TOKEN_URL"] + "?" + query, timeout=10) as answer:
    tokens = json.loads(answer.read())
check("refresh_token grant at the token endpoint", tokens.get("client_endpoint") == REST and tokens.get("access_token"), tokens)

# The new access token in the form body's `auth`, as CRest sends it.
status, answer = call_form(REST, "imopenlines.session.open", {"auth": tokens["access_token"], "USER_CODE": "livechat|1|101|3"})
check("OAuth call with auth in a form body", status == 200 and str(answer.get("result", {}).get("chatId")) == "101", (status, answer))
status, answer = call_form(REST, "imopenlines.session.open", {"auth": "not-a-token", "USER_CODE": "x"})
check("an unknown token gets 401 NO_AUTH_FOUND", status == 401 and answer.get("error") == "NO_AUTH_FOUND", (status, answer))

# A seeded access token works as well.
status, answer = call_json(REST, "imopenlines.dialog.get?auth=anna0token", {"CHAT_ID": 300})
check("a seeded access token in the query string (7th dialog.get: no fault)", status == 200 and str(answer["result"]["id"]) == "300", (status, answer))

print("all checks passed")
