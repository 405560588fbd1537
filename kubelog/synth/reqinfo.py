"""Independent RequestInfoFactory re-implementation for the generator's ground truth
(apiserver RequestInfoFactory and the current scope rule, docs/formats/access-log.md). Kept separate from kubelog.formats so that
truth.json does not inherit a parser bug."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote

LONG_SUB = {"exec", "attach", "portforward", "proxy"}


def classify(method: str, uri: str) -> dict:
    """→ {verb, resource, subresource, namespace, name, scope, long_running}."""
    path, _, query = uri.partition("?")
    q = parse_qs(query, keep_blank_values=True)
    parts = [p for p in path.strip("/").split("/") if p != ""] if path.strip("/") else []
    nonres = {
        "verb": method.lower(),
        "resource": "",
        "subresource": "",
        "namespace": "",
        "name": "",
        "scope": "nonresource",
        "long_running": False,
    }
    if len(parts) < 3 or parts[0] not in ("api", "apis"):
        return nonres
    if parts[0] == "apis":
        if len(parts) < 4:
            return nonres
        rest = parts[3:]
    else:
        rest = parts[2:]
    verb = None
    if rest and rest[0] in ("watch", "proxy"):
        verb = rest[0]
        rest = rest[1:]
    else:
        verb = {
            "POST": "create",
            "GET": "get",
            "HEAD": "get",
            "PUT": "update",
            "PATCH": "patch",
            "DELETE": "delete",
        }.get(method, "")
    ns = ""
    if len(rest) >= 2 and rest[0] == "namespaces":
        ns = rest[1]
        if len(rest) >= 3 and rest[2] not in ("status", "finalize"):
            rest = rest[2:]
    resource = rest[0] if rest else ""
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 and verb != "proxy" else ""
    watchq = any(v not in ("false", "0") for v in q.get("watch", []))
    if not name and verb == "get":
        verb = "watch" if watchq else "list"
    fs = q.get("fieldSelector", [""])[0]
    if verb in ("list", "watch") and fs:
        for term in unquote(fs).split(","):
            if term.startswith("metadata.name="):
                name = term[len("metadata.name=") :]
    if not name and verb == "delete":
        verb = "deletecollection"
    if name or verb == "create":
        scope = "resource"
    elif ns:
        scope = "namespace"
    else:
        scope = "cluster"
    long_running = (
        verb in ("watch", "proxy")
        or sub in LONG_SUB
        or (sub == "log" and any(v == "true" for v in q.get("follow", [])))
    )
    return {
        "verb": verb,
        "resource": resource,
        "subresource": sub,
        "namespace": ns,
        "name": name,
        "scope": scope,
        "long_running": long_running,
    }


def logged_verb_128(method: str, info: dict) -> str:
    """httplog ≥ 1.27 normalised verb (docs/formats/klog.md)."""
    if info["scope"] == "nonresource":
        return method
    if info["subresource"] in ("log", "exec", "portforward", "attach", "proxy"):
        return "CONNECT"
    if method in ("GET", "HEAD"):
        if info["verb"] == "watch":
            return "WATCH"
        if info["verb"] == "list":
            return "LIST"
    return method
