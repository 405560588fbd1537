"""Classify requests as the apiserver's RequestInfoFactory does (formats-server.md §4).

:func:`classify` is vectorized over Arrow arrays of HTTP methods and request
URIs; :func:`classify_one` is the same logic for one request (used by tests and
as the readable reference).  Scope follows the current SIG-Scalability rule
(§4.2): ``resource`` if the request names one object (a name in the path, a
``fieldSelector=metadata.name=`` or any create), else ``namespace`` if a
namespace is in the path, else ``cluster``; ``nonresource`` for non-resource URLs.
"""
from __future__ import annotations

from urllib.parse import parse_qs, unquote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

METHOD_VERB = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update", "PATCH": "patch",
               "DELETE": "delete"}
NAMESPACE_SUBRESOURCES = {"status", "finalize"}
CONNECT_SUBRESOURCES = {"exec", "attach", "portforward", "proxy"}
# logged verbs of 1.22+ (normalised) mapped back to an HTTP method
LOGGED_VERB_METHOD = {"LIST": "GET", "WATCH": "GET", "WATCHLIST": "GET", "APPLY": "PATCH", "CONNECT": "GET",
                      "CREATE": "POST", "UPDATE": "PUT", "DELETECOLLECTION": "DELETE"}

_FIELDS = ("verb", "api_group", "api_version", "resource", "subresource", "namespace", "name", "scope",
           "long_running")


def _query_flag(q: dict, key: str) -> bool:
    v = q.get(key)
    return bool(v) and v[-1].lower() not in ("false", "0")


def classify_one(method: str, uri: str) -> dict:
    """RequestInfoFactory for one request: verb, api_group, ..., scope, long_running.

    >>> classify_one("GET", "/api/v1/namespaces/default/pods?watch=true")["verb"]
    'watch'
    """
    method = (method or "").upper()
    method = LOGGED_VERB_METHOD.get(method, method)
    path, _, query = (uri or "").partition("?")
    q = parse_qs(query, keep_blank_values=True)
    parts = [p for p in path.strip("/").split("/")] if path.strip("/") else []
    out = dict(verb=method.lower(), api_group="", api_version="", resource="", subresource="", namespace="",
               name="", scope="nonresource", long_running=False)
    if len(parts) < 3 or parts[0] not in ("api", "apis"):
        return out
    i = 1
    if parts[0] == "apis":
        if len(parts) < 4:
            return out
        out["api_group"] = parts[1]
        i = 2
    out["api_version"] = parts[i]
    i += 1
    rest = parts[i:]
    if rest and rest[0] in ("watch", "proxy"):
        verb = rest[0]
        rest = rest[1:]
    else:
        verb = METHOD_VERB.get(method, "")
    ns = ""
    if len(rest) >= 2 and rest[0] == "namespaces":
        ns = rest[1]
        if len(rest) > 2 and rest[2] not in NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    out["namespace"] = ns
    out["resource"] = rest[0] if len(rest) >= 1 else ""
    out["name"] = rest[1] if len(rest) >= 2 else ""
    if len(rest) >= 3 and verb != "proxy":
        out["subresource"] = rest[2]
    if not out["name"] and verb == "get":
        verb = "watch" if _query_flag(q, "watch") else "list"
    if verb in ("list", "watch") and not out["name"]:
        fs = q.get("fieldSelector")
        if fs:
            for term in unquote(fs[-1]).split(","):
                k, sep, v = term.partition("=")
                if sep and k == "metadata.name" and not v.startswith("="):
                    out["name"] = v
    if not out["name"] and verb == "delete":
        verb = "deletecollection"
    out["verb"] = verb
    if out["name"] or verb == "create":
        out["scope"] = "resource"
    elif ns:
        out["scope"] = "namespace"
    else:
        out["scope"] = "cluster"
    out["long_running"] = (verb in ("watch", "proxy") or out["subresource"] in CONNECT_SUBRESOURCES
                           or (out["subresource"] == "log" and _query_flag(q, "follow")))
    return out


def _s(a) -> np.ndarray:
    return np.asarray(a.to_numpy(zero_copy_only=False), dtype=object)


def classify(method: pa.Array, uri: pa.Array) -> dict[str, pa.Array]:
    """Vectorized :func:`classify_one`; returns Arrow arrays keyed like its result."""
    n = len(uri)
    if n == 0:
        return {k: pa.array([], pa.bool_() if k == "long_running" else pa.string()) for k in _FIELDS}
    method = pc.utf8_upper(pc.fill_null(method, ""))
    # map normalised logged verbs (1.22+) back to HTTP methods
    for lv, m in LOGGED_VERB_METHOD.items():
        method = pc.if_else(pc.equal(method, lv), m, method)
    uri = pc.fill_null(uri, "")
    pq = pc.extract_regex(uri, r"^(?P<path>[^?]*)(?:\?(?P<query>.*))?$")
    path = pc.utf8_trim(pq.field("path"), "/")
    query = pc.fill_null(pq.field("query"), "")
    parts = pc.split_pattern(path, "/")
    plen = pc.list_value_length(parts).to_numpy().astype(np.int64)
    flat = pc.list_flatten(parts)
    offs = parts.offsets.to_numpy().astype(np.int64)[:-1]
    flat_np = None

    def part(idx: np.ndarray) -> np.ndarray:
        """parts[row][idx[row]] or '' when out of range (object ndarray)."""
        nonlocal flat_np
        if flat_np is None:
            flat_np = _s(flat)
        ok = (idx >= 0) & (idx < plen)
        out = np.full(n, "", dtype=object)
        out[ok] = flat_np[offs[ok] + idx[ok]]
        return out

    p0 = part(np.zeros(n, np.int64))
    is_api = (p0 == "api") & (plen >= 3)
    is_apis = (p0 == "apis") & (plen >= 4)
    res_req = is_api | is_apis
    i = np.where(is_apis, 2, 1).astype(np.int64)
    group = np.where(is_apis, part(np.ones(n, np.int64)), "")
    version = np.where(res_req, part(i), "")
    i = i + 1
    cur = part(i)
    special = res_req & ((cur == "watch") | (cur == "proxy"))
    m_np = _s(method)
    verb = np.array([METHOD_VERB.get(m, "") for m in m_np], dtype=object) if n < 2048 else \
        _map(m_np, METHOD_VERB, "")
    verb = np.where(special, cur, verb)
    i = i + special
    cur = part(i)
    nxt = part(i + 1)
    has_ns = res_req & (cur == "namespaces") & (plen - i >= 2)
    ns = np.where(has_ns, nxt, "")
    third = part(i + 2)
    consume = has_ns & (plen - i > 2) & ~np.isin(third, list(NAMESPACE_SUBRESOURCES))
    i = i + 2 * consume
    resource = np.where(res_req, part(i), "")
    name = np.where(res_req, part(i + 1), "")
    sub = np.where(res_req & (verb != "proxy"), part(i + 2), "")
    q_np = _s(query)
    watch_q = _flag(query, "watch")
    follow_q = _flag(query, "follow")
    noname = name == ""
    verb = np.where(res_req & noname & (verb == "get"), np.where(watch_q, "watch", "list"), verb)
    # fieldSelector=metadata.name=x on list/watch names the object
    lw = res_req & noname & ((verb == "list") | (verb == "watch"))
    if lw.any():
        has_fs = np.array(["fieldSelector=" in q for q in q_np], dtype=bool) & lw
        for k in np.flatnonzero(has_fs):
            qs = parse_qs(q_np[k], keep_blank_values=True).get("fieldSelector")
            if qs:
                for term in unquote(qs[-1]).split(","):
                    kk, sep, v = term.partition("=")
                    if sep and kk == "metadata.name" and not v.startswith("="):
                        name[k] = v
    noname = name == ""
    verb = np.where(res_req & noname & (verb == "delete"), "deletecollection", verb)
    verb = np.where(res_req, verb, np.char.lower(m_np.astype(str)).astype(object) if n else verb)
    scope = np.where(~res_req, "nonresource",
                     np.where((name != "") | (verb == "create"), "resource",
                              np.where(ns != "", "namespace", "cluster")))
    long_running = res_req & ((verb == "watch") | (verb == "proxy") | np.isin(sub, list(CONNECT_SUBRESOURCES))
                              | ((sub == "log") & follow_q))
    S = pa.string()
    return {
        "verb": pa.array(verb, S), "api_group": pa.array(group, S), "api_version": pa.array(version, S),
        "resource": pa.array(resource, S), "subresource": pa.array(sub, S), "namespace": pa.array(ns, S),
        "name": pa.array(name, S), "scope": pa.array(scope, S), "long_running": pa.array(long_running, pa.bool_()),
    }


def _map(values: np.ndarray, mapping: dict, default) -> np.ndarray:
    u, inv = np.unique(values.astype(str), return_inverse=True)
    mapped = np.array([mapping.get(x, default) for x in u], dtype=object)
    return mapped[inv]


def _flag(query: pa.Array, key: str) -> np.ndarray:
    """True where the query has ``key`` with a value other than false/0."""
    v = pc.extract_regex(query, rf"(?:^|&){key}=(?P<v>[^&]*)")
    ok = pc.is_valid(v).to_numpy(zero_copy_only=False)
    if not ok.any():
        return ok
    vals = pc.utf8_lower(pc.fill_null(v.field("v"), "false"))
    bad = pc.is_in(vals, pa.array(["false", "0"])).to_numpy(zero_copy_only=False)
    return ok & ~bad


CLIENT_PATTERNS = [  # (substring of the user agent, client name): first match wins
    ("kube-controller-manager", "kube-controller-manager"), ("kube-scheduler", "kube-scheduler"),
    ("kube-apiserver", "kube-apiserver"), ("kubelet", "kubelet"), ("kube-proxy", "kube-proxy"),
    ("kubemark", "kubemark"), ("hollow", "kubemark"), ("clusterloader", "clusterloader"),
    ("e2e.test", "e2e"), ("kubectl", "kubectl"), ("kube-probe", "kube-probe"), ("heapster", "heapster"),
    ("metrics-server", "metrics-server"), ("coredns", "coredns"), ("kube-dns", "kube-dns"),
    ("cluster-autoscaler", "cluster-autoscaler"), ("kube-burner", "kube-burner"),
]


def client_of(user_agent: pa.Array) -> pa.Array:
    """Component name from the user agent (``kubelet/v1.28.0 (...)`` → ``kubelet``).

    Computed once per distinct user agent (there are few), then spread back.
    """
    enc = pc.dictionary_encode(pc.fill_null(user_agent, ""))
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    ua = enc.dictionary
    low = pc.utf8_lower(ua)
    out = pc.extract_regex(ua, r"^(?P<c>[^/ ]*)").field("c")
    for pat, name in reversed(CLIENT_PATTERNS):
        out = pc.if_else(pc.match_substring(low, pat), name, out)
    return out.take(enc.indices)
