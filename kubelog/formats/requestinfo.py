"""Classify requests as the apiserver's RequestInfoFactory does (docs/formats/klog.md).

:func:`classify` is vectorized over Arrow arrays of HTTP methods and request
URIs; :func:`classify_one` is the same logic for one request (used by tests and
as the readable reference).  Scope follows the current SIG-Scalability rule
(§4.2): ``resource`` if the request names one object (a name in the path, a
``fieldSelector=metadata.name=`` or any create), else ``namespace`` if a
namespace is in the path, else ``cluster``; ``nonresource`` for non-resource URLs.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

METHOD_VERB = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
NAMESPACE_SUBRESOURCES = {"status", "finalize"}
CONNECT_SUBRESOURCES = {"exec", "attach", "portforward", "proxy"}
# logged verbs of 1.22+ (normalised) mapped back to an HTTP method
LOGGED_VERB_METHOD = {
    "LIST": "GET",
    "WATCH": "GET",
    "WATCHLIST": "GET",
    "APPLY": "PATCH",
    "CONNECT": "GET",
    "CREATE": "POST",
    "UPDATE": "PUT",
    "DELETECOLLECTION": "DELETE",
}
# a RequestInfo verb (audit events, Trace names) back to the HTTP method of its request
VERB_METHOD = {
    "get": "GET",
    "list": "GET",
    "watch": "GET",
    "create": "POST",
    "update": "PUT",
    "patch": "PATCH",
    "delete": "DELETE",
    "deletecollection": "DELETE",
    "proxy": "GET",
    "connect": "GET",
}

_FIELDS = ("verb", "api_group", "api_version", "resource", "subresource", "namespace", "name", "scope", "long_running")


def go_query(query: str) -> dict[str, list[str]]:
    """Go's ``url.ParseQuery``: pairs split on ``&``; a pair with ``;`` or a bad ``%`` escape is skipped;
    ``+`` is a space."""
    out: dict[str, list[str]] = {}
    for pair in query.split("&"):
        if not pair or ";" in pair:
            continue
        k, _, v = pair.partition("=")
        try:
            k, v = _go_unescape(k), _go_unescape(v)
        except ValueError:
            continue
        out.setdefault(k, []).append(v)
    return out


_BAD_ESCAPE = re.compile(r"%(?![0-9a-fA-F]{2})")


def _go_unescape(s: str) -> str:
    """Go's ``url.QueryUnescape``: ``%XX`` decoded, ``+`` a space; a ``%`` without two hex digits is an error."""
    if "%" not in s:
        return s.replace("+", " ")
    if _BAD_ESCAPE.search(s):
        raise ValueError("bad escape")
    from urllib.parse import unquote_to_bytes

    return unquote_to_bytes(s.replace("+", " ")).decode("utf-8", errors="replace")


def _query_flag(q: dict, key: str) -> bool:
    """A bool list option as the apiserver decodes it: the first value; "0"/"false" (any case) is false."""
    v = q.get(key)
    return bool(v) and not (v[0] == "0" or v[0].lower() == "false")


def selector_exact_name(selector: str) -> str | None:
    """``fields.ParseSelector(s).RequiresExactMatch("metadata.name")`` with the path-segment check:
    the name, ``""`` for an unusable one, or None when the selector does not fix the name."""
    terms, cur, i = [], "", 0
    while i < len(selector):  # split on unescaped commas
        ch = selector[i]
        if ch == "\\" and i + 1 < len(selector):
            cur += selector[i : i + 2]
            i += 2
            continue
        if ch == ",":
            terms.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    terms.append(cur)
    for t in terms:
        k = 0
        while k < len(t):
            if t[k] == "\\" and k + 1 < len(t):
                k += 2
                continue
            if t.startswith("!=", k):
                break  # not an equality term
            if t.startswith("==", k) or t[k] == "=":
                lhs, rhs = t[:k], t[k + (2 if t.startswith("==", k) else 1) :]
                if lhs.strip(" ") == "metadata.name":
                    val, j = "", 0
                    while j < len(rhs):
                        if rhs[j] == "\\" and j + 1 < len(rhs) and rhs[j + 1] in "\\,=":
                            j += 1
                        val += rhs[j]
                        j += 1
                    if val in (".", "..") or "/" in val or "%" in val:
                        return ""
                    return val
                break
            k += 1
    return None


def classify_one(method: str, uri: str) -> dict:
    """RequestInfoFactory for one request: verb, api_group, ..., scope, long_running.

    >>> classify_one("GET", "/api/v1/namespaces/default/pods?watch=true")["verb"]
    'watch'
    """
    method = (method or "").upper()
    method = LOGGED_VERB_METHOD.get(method, method)
    path, _, query = (uri or "").partition("?")
    q = go_query(query)
    parts = [p for p in path.strip("/").split("/")] if path.strip("/") else []
    out = dict(
        verb=method.lower(),
        api_group="",
        api_version="",
        resource="",
        subresource="",
        namespace="",
        name="",
        scope="nonresource",
        long_running=False,
    )
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
            out["name"] = selector_exact_name(fs[0]) or ""
    if not out["name"] and verb == "delete":
        verb = "deletecollection"
    out["verb"] = verb
    if out["name"] or verb == "create":
        out["scope"] = "resource"
    elif ns:
        out["scope"] = "namespace"
    else:
        out["scope"] = "cluster"
    out["long_running"] = (
        verb in ("watch", "proxy")
        or out["subresource"] in CONNECT_SUBRESOURCES
        or (out["subresource"] == "log" and _query_flag(q, "follow"))
    )
    return out


def _map_dict(arr: pa.Array, fn) -> pa.Array:
    """Apply a Python function to the distinct values of a string array only."""
    enc = pc.dictionary_encode(arr)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    d = pa.array([fn(v) for v in enc.dictionary.to_pylist()], pa.string())
    return d.take(enc.indices)


def _np(b) -> np.ndarray:
    return np.asarray(b.to_numpy(zero_copy_only=False), dtype=bool)


NPAD = 9  # path parts looked at (prefix, group, version, watch/proxy, namespaces, ns, resource, name, sub)


def classify(method: pa.Array, uri: pa.Array) -> dict[str, pa.Array]:
    """Vectorized :func:`classify_one`; returns Arrow arrays keyed like its result.

    Distinct (method, URI) pairs are classified once.  All steps are Arrow kernels
    over at most nine path parts; only ``fieldSelector=metadata.name=`` queries,
    which are rare, go through :func:`classify_one`.
    """
    n = len(uri)
    if n == 0:
        return {k: pa.array([], pa.bool_() if k == "long_running" else pa.string()) for k in _FIELDS}
    method = _map_dict(pc.fill_null(method, ""), lambda m: LOGGED_VERB_METHOD.get((m or "").upper(), (m or "").upper()))
    uri = pc.fill_null(uri, "")
    key = pc.binary_join_element_wise(method, uri, " ")
    enc = pc.dictionary_encode(key)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    if len(enc.dictionary) < 0.8 * n:
        uk = enc.dictionary
        sp = pc.split_pattern(uk, " ", max_splits=1)
        res = _classify_unique(pc.list_element(sp, 0), pc.list_element(sp, 1))
        return {k: v.take(enc.indices) for k, v in res.items()}
    return _classify_unique(method, uri)


def _classify_unique(method: pa.Array, uri: pa.Array) -> dict[str, pa.Array]:
    n = len(uri)
    S = pa.string()
    q = pc.split_pattern(pc.binary_join_element_wise(uri, "?", ""), "?", max_splits=1)
    path = pc.utf8_trim(pc.list_element(q, 0), "/")
    query = pc.list_element(q, 1)
    query = pc.if_else(pc.ends_with(query, "?"), pc.utf8_slice_codeunits(query, 0, -1), query)  # the pad
    nparts = np.where(
        _np(pc.equal(path, "")), 0, pc.count_substring(path, "/").to_numpy(zero_copy_only=False).astype(np.int64) + 1
    )
    parts = pc.split_pattern(pc.binary_join_element_wise(path, "/" * NPAD, ""), "/")
    P = [pc.list_element(parts, k) for k in range(NPAD)]
    eq = lambda k, v: _np(pc.equal(P[k], v))
    is_api = eq(0, "api") & (nparts >= 3)
    is_apis = eq(0, "apis") & (nparts >= 4)
    res_req = is_api | is_apis
    i = np.where(is_apis, 2, 1).astype(np.int64)  # index of the version

    def part(idx: np.ndarray) -> pa.Array:
        """P[idx[row]][row], '' past the end of the path."""
        out = pc.if_else(pa.array(np.zeros(n, bool)), P[0], "")
        for k in np.unique(idx):
            if 0 <= k < NPAD:
                out = pc.if_else(pa.array(idx == k), P[k], out)
        return pc.if_else(pa.array(idx < nparts), out, "")

    def peq(idx, v) -> np.ndarray:
        return _np(pc.equal(part(idx), v))

    group = pc.if_else(pa.array(is_apis), P[1], "")
    version = pc.if_else(pa.array(res_req), part(i), "")
    i = i + 1
    is_watch_path = res_req & peq(i, "watch")
    is_proxy_path = res_req & peq(i, "proxy")
    special = is_watch_path | is_proxy_path
    base_verb = _map_dict(method, lambda m: METHOD_VERB.get(m, ""))
    i = i + special
    has_ns = res_req & peq(i, "namespaces") & (nparts - i >= 2)
    ns = pc.if_else(pa.array(has_ns), part(i + 1), "")
    third = part(i + 2)
    consume = has_ns & (nparts - i > 2) & ~_np(pc.is_in(third, pa.array(sorted(NAMESPACE_SUBRESOURCES))))
    i = i + 2 * consume
    resource = pc.if_else(pa.array(res_req), part(i), "")
    name = pc.if_else(pa.array(res_req), part(i + 1), "")
    sub = pc.if_else(pa.array(res_req & ~is_proxy_path), part(i + 2), "")
    watch_q = _flag(query, "watch")
    follow_q = _flag(query, "follow")
    noname = _np(pc.equal(name, ""))
    bv = base_verb
    verb = pc.if_else(pa.array(is_watch_path), "watch", pc.if_else(pa.array(is_proxy_path), "proxy", bv))
    is_get = _np(pc.equal(verb, "get"))
    verb = pc.if_else(
        pa.array(res_req & noname & is_get & watch_q),
        "watch",
        pc.if_else(pa.array(res_req & noname & is_get & ~watch_q), "list", verb),
    )
    # fieldSelector=metadata.name=x on list/watch names the object (rare: per row)
    lw = res_req & noname & (_np(pc.equal(verb, "list")) | _np(pc.equal(verb, "watch")))
    if lw.any():
        fs = lw & _np(pc.match_substring(query, "fieldSelector=")) & _np(pc.match_substring(query, "metadata.name"))
        if fs.any():
            names = name.to_pylist()
            ms, us = method.to_pylist(), uri.to_pylist()
            for k in np.flatnonzero(fs):
                names[k] = classify_one(ms[k], us[k])["name"]
            name = pa.array(names, S)
            noname = _np(pc.equal(name, ""))
    verb = pc.if_else(pa.array(res_req & noname & _np(pc.equal(verb, "delete"))), "deletecollection", verb)
    verb = pc.if_else(pa.array(res_req), verb, pc.utf8_lower(method))
    vv = lambda v: _np(pc.equal(verb, v))
    scope = np.where(
        ~res_req, "nonresource", np.where(~noname | vv("create"), "resource", np.where(has_ns, "namespace", "cluster"))
    )
    subs = _np(pc.is_in(sub, pa.array(sorted(CONNECT_SUBRESOURCES))))
    long_running = res_req & (vv("watch") | vv("proxy") | subs | (_np(pc.equal(sub, "log")) & follow_q))
    return {
        "verb": verb,
        "api_group": group,
        "api_version": version,
        "resource": resource,
        "subresource": sub,
        "namespace": ns,
        "name": name,
        "scope": pa.array(scope, S),
        "long_running": pa.array(long_running, pa.bool_()),
    }


def per_distinct(values: pa.Array, fn, memo: dict | None = None) -> pa.Array:
    """``fn`` (a function of a string array) applied once per distinct value of ``values``.

    A DictionaryArray (the C scanner's low-cardinality columns) gives a DictionaryArray with
    the mapped, de-duplicated dictionary; anything else a plain array of ``fn``'s type.  Nulls
    stay null.  With ``memo`` (a dict kept by the caller, for string results), a dictionary's
    values already mapped in an earlier block are not mapped again.
    """
    if isinstance(values, pa.DictionaryArray):
        if memo is not None and len(values.dictionary) <= 1000:
            keys = values.dictionary.to_pylist()
            todo = [k for k in keys if k not in memo]
            if todo:
                if len(memo) > 100_000:
                    memo.clear()
                memo.update(zip(todo, fn(pa.array(todo, values.dictionary.type)).to_pylist()))
            mapped = pc.dictionary_encode(pa.array([memo[k] for k in keys], pa.string()))
        else:
            mapped = pc.dictionary_encode(fn(values.dictionary))
        return pa.DictionaryArray.from_arrays(mapped.indices.take(values.indices), mapped.dictionary)
    enc = pc.dictionary_encode(values)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    return fn(enc.dictionary).take(enc.indices)


def logged_to_method(logged: pa.Array) -> pa.Array:
    """The HTTP method behind a logged verb (1.22+ logs LIST/WATCH/APPLY/CONNECT)."""
    return per_distinct(
        logged, lambda d: pa.array([LOGGED_VERB_METHOD.get(v, v) for v in d.to_pylist()], pa.string()), _METHOD_MEMO
    )


_METHOD_MEMO: dict = {}  # logged verb -> method, across blocks
_CLIENT_MEMO: dict = {}  # user agent -> client, across blocks


def _map(values: np.ndarray, mapping: dict, default) -> np.ndarray:
    u, inv = np.unique(values.astype(str), return_inverse=True)
    mapped = np.array([mapping.get(x, default) for x in u], dtype=object)
    return mapped[inv]


def _flag(query: pa.Array, key: str) -> np.ndarray:
    """True where the query has ``key`` with a value other than false/0, as :func:`_query_flag`
    reads it.  A pattern serves the plain queries; the few it could read differently from Go's
    ``ParseQuery`` go through :func:`go_query`: a pair whose name has an escape or ``+`` (it may
    decode to ``key``), a ``key=`` pair whose value has an escape, ``+`` or ``;`` (decoded, or the pair
    skipped), ``key`` without ``=``.  Escapes in the values of other pairs (``fieldSelector=spec.
    nodeName%3D…`` of every kubelet's watch) change nothing here."""
    query = pc.fill_null(query, "")
    v = pc.extract_regex(query, rf"(?:^|&){key}=(?P<v>[^&]*)")
    ok = pc.is_valid(v).to_numpy(zero_copy_only=False)
    if ok.any():
        vals = pc.utf8_lower(pc.fill_null(v.field("v"), "false"))
        ok &= ~pc.is_in(vals, pa.array(["false", "0"])).to_numpy(zero_copy_only=False)
    odd = pc.match_substring_regex(query, rf"(?:^|&)[^&=]*[%+]|(?:^|&){key}=[^&]*[%+;]|(?:^|&){key}(?:&|$)")
    odd = np.flatnonzero(odd.to_numpy(zero_copy_only=False))
    if len(odd):
        for i, q in zip(odd.tolist(), query.take(pa.array(odd)).to_pylist()):
            ok[i] = _query_flag(go_query(q), key)
    return ok


CLIENT_PATTERNS = [  # (substring of the user agent, client name): first match wins
    ("kube-controller-manager", "kube-controller-manager"),
    ("kube-scheduler", "kube-scheduler"),
    ("kube-apiserver", "kube-apiserver"),
    ("kubelet", "kubelet"),
    ("kube-proxy", "kube-proxy"),
    ("kubemark", "kubemark"),
    ("hollow", "kubemark"),
    ("clusterloader", "clusterloader"),
    ("e2e.test", "e2e"),
    ("kubectl", "kubectl"),
    ("kube-probe", "kube-probe"),
    ("heapster", "heapster"),
    ("metrics-server", "metrics-server"),
    ("coredns", "coredns"),
    ("kube-dns", "kube-dns"),
    ("cluster-autoscaler", "cluster-autoscaler"),
    ("kube-burner", "kube-burner"),
]


def client_of(user_agent: pa.Array) -> pa.Array:
    """Component name from the user agent (``kubelet/v1.28.0 (...)`` → ``kubelet``).

    Computed once per distinct user agent (there are few), then spread back.
    """

    def of(ua: pa.Array) -> pa.Array:
        low = pc.utf8_lower(ua)
        out = pc.extract_regex(ua, r"^(?P<c>[^/ ]*)").field("c")
        for pat, name in reversed(CLIENT_PATTERNS):
            out = pc.if_else(pc.match_substring(low, pat), name, out)
        return out

    if user_agent.null_count:  # no user agent: client ""
        user_agent = pc.fill_null(user_agent.cast(pa.string()), "")
    return per_distinct(user_agent, of, _CLIENT_MEMO)
