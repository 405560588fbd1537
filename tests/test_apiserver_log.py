"""The kube-apiserver access log in every era, and klog records (issue: foundation).

Golden facts come from ../shared/real_logs/MANIFEST.md; example lines from
public issues and logs of 2015–2024 (each must parse to the values written next to it).
"""

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubelog.formats import requestinfo


def accounting_ok(e):
    return e["lines_read"] == e["record_lines"] + e["continuation_lines"] + sum(e["counted"].values())


def test_skykying_v1_19_golden(real_logs, ingest_to):
    run = ingest_to(real_logs / "apiserver_v1.19.4_arm64_skykying.log")
    e = run.inputs[0]
    assert e["format"] == "klog" and e["component"] == "kube-apiserver" and e["clock"] == "apiserver"
    # MANIFEST: 14839 lines, 14796 klog-header lines, 10343 httplog lines
    assert e["lines_read"] == 14839
    assert e["record_lines"] == 14796
    assert accounting_ok(e) and not e["counted"]
    r = run.table("requests")
    assert len(r) == 10343
    assert r.method.value_counts().to_dict() == {"GET": 8035, "PUT": 1850, "POST": 416, "PATCH": 42}
    assert r.code.value_counts().to_dict() == {200: 8393, 403: 1283, 201: 283, 0: 221, 404: 160, 409: 3}
    assert int(r.uri.str.contains("watch=true").sum()) == 192
    assert int((r.verb == "watch").sum()) == 192
    assert int(r.long_running.sum()) == 192
    # 857 GET /apis/storage.k8s.io/v1/csinodes/localhost rejected with 403
    assert int(((r.code == 403) & (r.uri == "/apis/storage.k8s.io/v1/csinodes/localhost")).sum()) == 857
    nonwatch = r[~r.long_running].sort_values("latency_s", ascending=False)
    top = nonwatch.iloc[0]
    assert top.method == "POST" and top.resource == "flowschemas" and abs(top.latency_s - 0.1387) < 0.0005
    assert nonwatch.iloc[1].uri == "/api/v1/secrets?limit=500&resourceVersion=0"
    ua = r.user_agent.str.split("/").str[0].value_counts()
    assert ua["kube-controller-manager"] == 5844 and ua["kube-scheduler"] == 2272
    assert ua["kubelet"] == 1287 and ua["kube-apiserver"] == 932
    # start = end - latency, exactly
    x = r.iloc[0]
    assert x.ts - x.start_ts == __import__("pandas").Timedelta(nanoseconds=round(x.latency_s * 1e9))
    assert run.rows("messages") == 14796 - 10343


def test_kubectl_logs_capture_with_prompt_and_error(real_logs, ingest_to):
    run = ingest_to(real_logs / "apiserver_v1.26.2_kubeadm_quangdaicaa.log")
    e = run.inputs[0]
    assert e["format"] == "klog" and accounting_ok(e)
    assert e["counted"] == {"shell prompt": 1, "kubectl/client error": 1}
    assert e["lines_read"] == 4244 or e["lines_read"] == 4243  # wc -l says 4243: the last line has no newline
    assert e["year"] == 2023 and e["year_source"] == "trace-date"
    m = run.table("messages")
    assert int((m.level == "E").sum()) == 78


@pytest.mark.parametrize(
    "name,host_lines",
    [
        ("openshift4.8_kube-apiserver_pod_aws_mustgather.log", None),
        ("openshift4.9_kube-apiserver_pod_metal_ipv6_mustgather.log", None),
        ("kubelet_v1.19.4_arm64_skykying.log", None),
        ("rancher_rke_kubelet.log", None),
        ("kubelet_windows_e2e_node_2019_pjh.log", None),
        (
            "openshift4.8_kubelet_journal_masters_aws_mustgather.log",
            {"node/ip-10-0-195-177": 6392, "node/ip-10-0-189-142": 3669, "node/ip-10-0-187-218": 3446},
        ),
    ],
)
def test_real_klog_files_account_for_every_line(real_logs, ingest_to, name, host_lines):
    run = ingest_to(real_logs / name)
    e = run.inputs[0]
    assert e["format"] == "klog"
    assert accounting_ok(e)
    assert "unaccounted (parser bug)" not in e["counted"]
    assert not e["errors"]


def test_year_anchors(real_logs, ingest_to):
    r = ingest_to(real_logs / "openshift4.8_kube-apiserver_pod_aws_mustgather.log")
    assert (r.inputs[0]["year"], r.inputs[0]["year_source"]) == (2021, "wrapper")
    r = ingest_to(real_logs / "kubelet_windows_e2e_node_2019_pjh.log")
    assert (r.inputs[0]["year"], r.inputs[0]["year_source"]) == (2019, "klog-file-header")
    m = r.table("messages")
    # the log crosses midnight Aug 20 → Aug 21 2019
    assert str(m.ts.min())[:10] == "2019-08-20" and str(m.ts.max())[:10] == "2019-08-21"
    r = ingest_to(real_logs / "apiserver_v1.19.4_arm64_skykying.log", year=2020)
    assert (r.inputs[0]["year"], r.inputs[0]["year_source"]) == (2020, "user")
    assert str(r.table("requests").ts.min())[:10] == "2020-11-19"


def test_journald_three_masters(real_logs, ingest_to):
    run = ingest_to(real_logs / "openshift4.8_kubelet_journal_masters_aws_mustgather.log")
    e = run.inputs[0]
    assert e["wrapper"] == "journald"
    m = run.table("messages")
    assert set(m.clock.unique()) == {"node/ip-10-0-195-177", "node/ip-10-0-189-142", "node/ip-10-0-187-218"}
    assert e["counted"]["journald marker line"] == 9  # 6 "-- Logs begin" + 3 "-- No entries --"? see MANIFEST


# -- real access-log lines of every era -------------------------------------------------------------

EXAMPLES = [
    # (line, method, uri, latency_s, code, user_agent, src, verb, resource, scope, long_running)
    (
        "I1005 14:07:55.671089       5 handlers.go:130] GET /api/v1/watch/pods?fieldSelector=spec.nodeName%21%3D&resourceVersion=768: (3m32.184678181s) 0 [[heapster/v1.0.3 (linux/amd64) kubernetes/$Format] 10.240.0.6:42100]",
        "GET",
        "/api/v1/watch/pods?fieldSelector=spec.nodeName%21%3D&resourceVersion=768",
        212.184678181,
        0,
        "heapster/v1.0.3 (linux/amd64) kubernetes/$Format",
        "10.240.0.6:42100",
        "watch",
        "pods",
        "cluster",
        True,
    ),
    (
        "Mar 28 13:23:04 dev-master-003 kube-apiserver: I0328 15:23:04.626514   15002 panics.go:76] PUT /api/v1/namespaces/kube-system/endpoints/kube-scheduler: (6.4732ms) 200 [[kube-scheduler/v1.5.5 (linux/amd64) kubernetes/894ff23/leader-election] 127.0.0.1:57902]",
        "PUT",
        "/api/v1/namespaces/kube-system/endpoints/kube-scheduler",
        0.0064732,
        200,
        "kube-scheduler/v1.5.5 (linux/amd64) kubernetes/894ff23/leader-election",
        "127.0.0.1:57902",
        "update",
        "endpoints",
        "resource",
        False,
    ),
    (
        "I0802 02:58:31.657224       1 wrap.go:75] GET /api/v1/namespaces/kube-system/pods/ke-logservice-f08fw/log?follow=true: (1m25.080670681s) 200 [[kubectl/v1.6.0 (linux/amd64) kubernetes/fff5156] 10.200.20.65:61803]",
        "GET",
        "/api/v1/namespaces/kube-system/pods/ke-logservice-f08fw/log?follow=true",
        85.080670681,
        200,
        "kubectl/v1.6.0 (linux/amd64) kubernetes/fff5156",
        "10.200.20.65:61803",
        "get",
        "pods",
        "resource",
        True,
    ),
    (
        "I0401 12:41:54.217262  172135 wrap.go:47] GET /api/v1/pods?timeout=100ms: (2.162959ms) 200 [podlist-error/v0.0.0 (linux/amd64) kubernetes/$Format [::1]:44860]",
        "GET",
        "/api/v1/pods?timeout=100ms",
        0.002162959,
        200,
        "podlist-error/v0.0.0 (linux/amd64) kubernetes/$Format",
        "[::1]:44860",
        "list",
        "pods",
        "cluster",
        False,
    ),
    (
        "I1227 02:16:10.904948       1 httplog.go:90] GET /api/v1/nodes/gce-scale-cluster-minion-group-2-vqmx:10250/proxy/stats/summary: (17.344309ms) 200 [clusterloader/v0.0.0 (linux/amd64) kubernetes/$Format 35.232.62.47:54342]",
        "GET",
        "/api/v1/nodes/gce-scale-cluster-minion-group-2-vqmx:10250/proxy/stats/summary",
        0.017344309,
        200,
        "clusterloader/v0.0.0 (linux/amd64) kubernetes/$Format",
        "35.232.62.47:54342",
        "get",
        "nodes",
        "resource",
        True,
    ),
    (
        'I0519 19:41:31.532593       1 httplog.go:90] verb="GET" URI="/healthz" latency=2.055089ms resp=200 UserAgent="kube-probe/1.18+" srcIP="10.0.142.32:49780": ',
        "GET",
        "/healthz",
        0.002055089,
        200,
        "kube-probe/1.18+",
        "10.0.142.32:49780",
        "get",
        "",
        "nonresource",
        False,
    ),
    (
        'I0328 10:49:47.017699       1 httplog.go:89] "HTTP" verb="GET" URI="/apis/custom.metrics.k8s.io/v1beta2?timeout=32s" latency="3.901543ms" userAgent="kube-controller-manager/v1.18.14 (linux/amd64) kubernetes/44dfef4/system:serviceaccount:kube-system:resourcequota-controller" srcIP="10.28.112.1:51876" resp=200',
        "GET",
        "/apis/custom.metrics.k8s.io/v1beta2?timeout=32s",
        0.003901543,
        200,
        "kube-controller-manager/v1.18.14 (linux/amd64) kubernetes/44dfef4/system:serviceaccount:kube-system:resourcequota-controller",
        "10.28.112.1:51876",
        "get",
        "",
        "nonresource",
        False,
    ),
    (
        'I1202 10:45:49.910704    2235 httplog.go:109] "HTTP" verb="WATCH" URI="/api/v1/namespaces?allowWatchBookmarks=true&resourceVersion=3&timeout=6m22s&timeoutSeconds=382&watch=true" latency="12.934394734s" userAgent="k3s/v1.22.4+k3s1 (linux/amd64) kubernetes/bec170b" audit-ID="db503351-40c4-4a62-b1ed-b871ef832ebe" srcIP="127.0.0.1:33694" resp=0',
        "GET",
        "/api/v1/namespaces?allowWatchBookmarks=true&resourceVersion=3&timeout=6m22s&timeoutSeconds=382&watch=true",
        12.934394734,
        0,
        "k3s/v1.22.4+k3s1 (linux/amd64) kubernetes/bec170b",
        "127.0.0.1:33694",
        "watch",
        "namespaces",
        "cluster",
        True,
    ),
    (
        'I0620 12:33:17.389016      11 httplog.go:132] "HTTP" verb="WATCH" URI="/api/v1/pods?allowWatchBookmarks=true&fieldSelector=status.phase%21%3DSucceeded%2Cstatus.phase%21%3DFailed&resourceVersion=97186&timeout=9m12s&timeoutSeconds=552&watch=true" latency="470.891µs" userAgent="kube-scheduler/v1.30.2 (linux/amd64) kubernetes/85fad5b/scheduler" audit-ID="2cf3b6d8-8c04-4065-8bb8-ccd209f24063" srcIP="[::1]:60566" apf_pl="workload-high" apf_fs="kube-scheduler" apf_iseats=1 apf_fseats=0 apf_additionalLatency="0s" apf_init_latency="252.569µs" apf_execution_time="253.277µs" resp=0',
        "GET",
        "/api/v1/pods?allowWatchBookmarks=true&fieldSelector=status.phase%21%3DSucceeded%2Cstatus.phase%21%3DFailed&resourceVersion=97186&timeout=9m12s&timeoutSeconds=552&watch=true",
        0.000470891,
        0,
        "kube-scheduler/v1.30.2 (linux/amd64) kubernetes/85fad5b/scheduler",
        "[::1]:60566",
        "watch",
        "pods",
        "cluster",
        True,
    ),
    (
        'I0923 11:07:57.876446       1 httplog.go:134] "HTTP" verb="GET" URI="/api" latency="1.534883ms" userAgent="kube-controller-manager/v1.31.0 (linux/amd64) kubernetes/9edcffc/system:serviceaccount:kube-system:generic-garbage-collector" audit-ID="10d2876d-1c4e-4bad-b7f5-b16cb5e35847" srcIP="172.18.0.3:44714" apf_pl="workload-high" apf_fs="kube-system-service-accounts" apf_iseats=1 apf_fseats=0 apf_additionalLatency="0s" apf_execution_time="646.149µs" resp=200',
        "GET",
        "/api",
        0.001534883,
        200,
        "kube-controller-manager/v1.31.0 (linux/amd64) kubernetes/9edcffc/system:serviceaccount:kube-system:generic-garbage-collector",
        "172.18.0.3:44714",
        "get",
        "",
        "nonresource",
        False,
    ),
    (
        '2025-03-05T22:40:41.977203895Z stderr F I0305 22:40:41.976983       1 httplog.go:134] "HTTP" verb="POST" URI="/api/v1/namespaces/e2e-tas-rayjob-lgmbj/pods" latency="11.586316ms" userAgent="kuberay-operator/v1.2.2" audit-ID="33e27fd2-d22d-4c4d-9b46-d4efeca06f05" srcIP="172.18.0.5:37344" apf_pl="workload-low" apf_fs="service-accounts" apf_iseats=1 apf_fseats=2 apf_additionalLatency="5ms" apf_execution_time="11.024848ms" resp=201',
        "POST",
        "/api/v1/namespaces/e2e-tas-rayjob-lgmbj/pods",
        0.011586316,
        201,
        "kuberay-operator/v1.2.2",
        "172.18.0.5:37344",
        "create",
        "pods",
        "resource",
        False,
    ),
]


@pytest.mark.parametrize("ex", EXAMPLES, ids=[e[0][:40] for e in EXAMPLES])
def test_formats_server_3_5_examples(tmp_path, ingest_to, ex):
    line, method, uri, lat, code, ua, src, verb, resource, scope, lr = ex
    p = tmp_path / "kube-apiserver.log"
    p.write_text(line + "\n")
    run = ingest_to(p, year=2020)
    r = run.table("requests")
    assert len(r) == 1, run.inputs[0]
    x = r.iloc[0]
    assert (x.method, x.uri, x.code, x.user_agent, x.src_ip) == (method, uri, code, ua, src)
    assert abs(x.latency_s - lat) < 1e-12
    assert (x.verb, x.resource, x.scope, bool(x.long_running)) == (verb, resource, scope, lr)
    assert x.line_no == 1


def test_multiline_value_block_1_28(tmp_path, ingest_to):
    text = (
        'I0807 09:09:16.419239       1 httplog.go:132] "HTTP" verb="GET" URI="/apis/batch/v1?timeout=32s" latency="214.666µs" userAgent="kubernetes-provider/v0.0.0 (linux/arm64) kubernetes/$Format" audit-ID="948ef6b2-474d-45a7-ad5f-894ce93d05f7" srcIP="192.168.139.202:35542" apf_pl="exempt" apf_fs="exempt" apf_execution_time="129.5µs" resp=200 addedInfo=<\n'
        "\n\t&{kubernetes-admin  [system:masters system:authenticated] map[]} is acting as &{foo  [system:authenticated] map[]}\n >\n"
        'I0807 09:09:16.500000       1 get.go:261] "Starting watch" path="/api/v1/pods" resourceVersion="135790"\n'
    )
    p = tmp_path / "apiserver.log"
    p.write_text(text)
    run = ingest_to(p, year=2023)
    e = run.inputs[0]
    assert (e["record_lines"], e["continuation_lines"]) == (2, 3)
    r = run.table("requests")
    assert len(r) == 1 and r.iloc[0].apf_pl == "exempt" and r.iloc[0].audit_id.startswith("948ef6b2")
    m = run.table("messages")
    assert m.iloc[0].msg == "Starting watch" and m.iloc[0].kv.startswith('path="/api/v1/pods"')


def test_error_record_with_stack_and_tail_on_last_line(tmp_path, ingest_to):
    text = (
        "I1211 02:49:53.636242   29967 wrap.go:42] GET /healthz: (340.401µs) 500\n"
        "goroutine 3961 [running]:\n"
        "k8s.io/kubernetes/vendor/k8s.io/apiserver/pkg/server/httplog.(*respLogger).recordStatus(0xc422fd4700, 0x1f4)\n"
        "\t/data/src/k8s.io/kubernetes/vendor/k8s.io/apiserver/pkg/server/httplog/httplog.go:207 +0xdd\n"
        "\n"
        'logging error output: "[+]ping ok\\nhealthz check failed\\n"\n'
        " [[hyperkube/v1.10.0 (linux/amd64) kubernetes/bb72237] 127.0.0.1:58754]\n"
    )
    p = tmp_path / "kube-apiserver.log"
    p.write_text(text)
    run = ingest_to(p, year=2017)
    r = run.table("requests")
    assert len(r) == 1
    x = r.iloc[0]
    assert x.code == 500 and x.user_agent == "hyperkube/v1.10.0 (linux/amd64) kubernetes/bb72237"
    assert x.src_ip == "127.0.0.1:58754"
    e = run.inputs[0]
    assert (e["record_lines"], e["continuation_lines"]) == (1, 6)


def test_hijacked_and_resp_forms(tmp_path, ingest_to):
    lines = [
        "I0101 00:00:01.000000       1 wrap.go:42] POST /api/v1/namespaces/d/pods/p/exec?command=sh: (5.2s) hijacked [[kubectl/v1.8.0 (linux/amd64) kubernetes/x] 10.0.0.1:1]",
        'I0101 00:00:02.000000       1 httplog.go:90] verb="POST" URI="/api/v1/namespaces/d/pods/p/attach" latency=3s UserAgent="kubectl" srcIP="10.0.0.1:2": hijacked',
        'I0101 00:00:03.000000       1 httplog.go:89] "HTTP" verb="POST" URI="/api/v1/namespaces/d/pods/p/portforward" latency="1m2.5s" userAgent="kubectl" srcIP="10.0.0.1:3" hijacked=true',
    ]
    p = tmp_path / "kube-apiserver.log"
    p.write_text("\n".join(lines) + "\n")
    r = ingest_to(p, year=2018).table("requests")
    assert len(r) == 3 and r.hijacked.all() and r.code.isna().all() and r.long_running.all()
    assert list(r.latency_s) == [5.2, 3.0, 62.5]
    assert list(r.subresource) == ["exec", "attach", "portforward"]


# -- RequestInfoFactory ---------------------------------------------------------------------------

RI = [
    (
        "GET",
        "/api/v1/namespaces/foo",
        dict(verb="get", resource="namespaces", name="foo", namespace="foo", scope="resource"),
    ),
    ("GET", "/api/v1/namespaces/foo/status", dict(verb="get", resource="namespaces", name="foo", subresource="status")),
    ("GET", "/api/v1/namespaces", dict(verb="list", resource="namespaces", namespace="", scope="cluster")),
    ("GET", "/api/v1/namespaces/ns/pods?watch=1", dict(verb="watch", scope="namespace", long_running=True)),
    ("GET", "/api/v1/namespaces/ns/pods?watch=false", dict(verb="list", scope="namespace", long_running=False)),
    ("DELETE", "/api/v1/namespaces/ns/pods", dict(verb="deletecollection", scope="namespace")),
    ("DELETE", "/api/v1/namespaces/ns/pods/p", dict(verb="delete", scope="resource", name="p")),
    ("POST", "/api/v1/namespaces/ns/pods", dict(verb="create", scope="resource")),
    ("POST", "/api/v1/namespaces/ns/pods/p/binding", dict(verb="create", subresource="binding", scope="resource")),
    ("PUT", "/api/v1/nodes/n1/status", dict(verb="update", resource="nodes", subresource="status", scope="resource")),
    (
        "PATCH",
        "/apis/apps/v1/namespaces/ns/deployments/d",
        dict(verb="patch", api_group="apps", api_version="v1", resource="deployments"),
    ),
    ("GET", "/api/v1/watch/namespaces/ns/pods", dict(verb="watch", resource="pods", namespace="ns", long_running=True)),
    (
        "GET",
        "/api/v1/proxy/nodes/n1/stats",
        dict(verb="proxy", resource="nodes", name="n1", subresource="", long_running=True),
    ),
    ("GET", "/api/v1/pods?fieldSelector=metadata.name%3Dp1", dict(verb="list", name="p1", scope="resource")),
    ("GET", "/apis/apps", dict(verb="get", scope="nonresource", resource="")),
    ("HEAD", "/healthz", dict(verb="head", scope="nonresource")),
    ("LIST", "/api/v1/pods", dict(verb="list", scope="cluster")),
    ("WATCH", "/api/v1/pods?watch=true", dict(verb="watch", long_running=True)),
    ("GET", "/api/v1/namespaces/ns/pods/p/log?follow=true", dict(verb="get", subresource="log", long_running=True)),
    ("GET", "/api/v1/namespaces/ns/pods/p/log", dict(verb="get", subresource="log", long_running=False)),
]


@pytest.mark.parametrize("method,uri,want", RI, ids=[f"{m} {u}" for m, u, _ in RI])
def test_requestinfo(method, uri, want):
    import pyarrow as pa

    one = requestinfo.classify_one(method, uri)
    vec = {k: v[0].as_py() for k, v in requestinfo.classify(pa.array([method]), pa.array([uri])).items()}
    assert one == vec
    for k, v in want.items():
        assert one[k] == v, (k, one)


def test_client_of_user_agent():
    import pyarrow as pa

    ua = pa.array(
        [
            "kubelet/v1.28.0 (linux/amd64) kubernetes/855e7c4",
            "hyperkube/v1.10.0 (linux/amd64) kubernetes/bb72237/kube-scheduler",
            None,
            "e2e.test/v1.8.0",
            "kube-controller-manager/v1.31.0 (linux/amd64) kubernetes/9edcffc/system:serviceaccount",
        ]
    )
    want = ["kubelet", "kube-scheduler", "", "e2e", "kube-controller-manager"]
    assert requestinfo.client_of(ua).to_pylist() == want
    # dictionary-encoded (the C scanner's columns): the same values, as a dictionary without duplicates
    enc = ua.dictionary_encode()
    assert requestinfo.client_of(enc).to_pylist() == want
    ua2 = pa.array(["kubelet/1", "kubelet/2", "kubectl/3", "kubelet/1"]).dictionary_encode()
    out = requestinfo.client_of(ua2)
    assert pa.types.is_dictionary(out.type) and out.dictionary.to_pylist() == ["kubelet", "kubectl"]
    assert out.to_pylist() == ["kubelet", "kubelet", "kubectl", "kubelet"]
    logged = pa.array(["LIST", "GET", "WATCH", "APPLY", "POST"]).dictionary_encode()
    assert requestinfo.logged_to_method(logged).to_pylist() == ["GET", "GET", "GET", "PATCH", "POST"]


QUERY_ODD = st.lists(
    st.sampled_from(
        [
            "watch=true",
            "watch=0",
            "watch=false",
            "watch",
            "wat%63h=1",
            "watch=fals%65",
            "watch=%ZZ",
            "a;watch=1",
            "watch=1;",
            "+watch=1",
            "watch=+",
            "follow",
            "follow=1",
            "fo%6Clow=true",
            "follow=0",
            "x=1",
            "fieldSelector=spec.nodeName%3Dn1",
            "x=%ZZ",
            "x=a+b",
            "x;y=1",
            "watch=tr%75e",
            "",
        ]
    ),
    max_size=4,
)


def test_escapes_in_other_pairs_stay_on_the_vectorized_path(monkeypatch):
    """Every kubelet's watch has ``fieldSelector=spec.nodeName%3D…``: an escape in another pair's value
    changes nothing for watch/follow, so such queries are read by the pattern, not one by one in Python."""
    calls = []
    go_query = requestinfo.go_query
    monkeypatch.setattr(requestinfo, "go_query", lambda q: calls.append(q) or go_query(q))
    uris = [f"/api/v1/pods?fieldSelector=spec.nodeName%3Dn{i}&resourceVersion={i}&watch=true" for i in range(50)]
    vec = requestinfo.classify(pa.array(["GET"] * 50), pa.array(uris))
    assert set(vec["verb"].to_pylist()) == {"watch"} and all(vec["long_running"].to_pylist())
    assert calls == []
    vec = requestinfo.classify(pa.array(["GET"]), pa.array(["/api/v1/pods?w%61tch=true"]))
    assert vec["verb"].to_pylist() == ["watch"] and set(calls) == {"w%61tch=true"}


@settings(max_examples=300, deadline=None)
@given(sub=st.sampled_from(["", "/log"]), query=QUERY_ODD)
def test_vectorized_classify_reads_query_flags_as_go(sub, query):
    """The Arrow path's classification (``requestinfo.classify``) reads watch/follow as Go's
    ParseQuery does (escaped keys and values, ``+``, ``;`` pairs, a key without ``=``)."""
    uris = [
        f"/api/v1/namespaces/n/pods{'/p' if sub else ''}{sub}?" + "&".join(query),
        "/api/v1/pods?" + "&".join(query),
    ]
    vec = requestinfo.classify(pa.array(["GET", "GET"]), pa.array(uris))
    for j, uri in enumerate(uris):
        one = requestinfo.classify_one("GET", uri)
        assert vec["verb"][j].as_py() == one["verb"], uri
        assert vec["long_running"][j].as_py() == one["long_running"], uri
