"""Run inside an app container by the deployment test: HTTP requests to the app process of
that container alone (127.0.0.1:8000). The requests come as JSON on standard input, the
answers go as JSON to standard output. Standard library only: the image has nothing else."""

import json
import sys
import urllib.error
import urllib.request

answers = []
for sent in json.load(sys.stdin):
    data = json.dumps(sent["json"]).encode() if "json" in sent else None
    request = urllib.request.Request(
        "http://127.0.0.1:8000" + sent["path"],
        data=data,
        method=sent.get("method", "POST" if data else "GET"),
        headers={"Content-Type": "application/json", **sent.get("headers", {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            status, body, headers = answer.status, answer.read(), answer.headers
    except urllib.error.HTTPError as refused:
        status, body, headers = refused.code, refused.read(), refused.headers
    answers.append(
        {"status": status, "body": body.decode(), "cookies": headers.get_all("set-cookie") or []}
    )
print(json.dumps(answers))
