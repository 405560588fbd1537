"""The generator's fake Docker client (kubelog/synth/runtime.py): one mutex per node, FIFO, the calls of a
pod start and kill, and the PLEG relists that queue at it — each property from the Kubernetes source."""

from __future__ import annotations

import numpy as np
import pytest

from kubelog.synth import runtime as R

MS = 1_000_000
S = 1_000_000_000


def _run(chains, first_relist=0, work=5 * MS, seed=1, era="1.14", trace=None):
    return R.simulate_node(chains, first_relist, work, np.random.default_rng(seed), era, trace)


def _calls(chain):
    return [(g, g + h) for g, (h, _gap) in zip(chain.grants, chain.calls)]


def test_calls_take_the_mutex_one_at_a_time_in_arrival_order():
    """Every call holds the client's one mutex to its return (fake_client.go ``f.Lock(); defer f.Unlock()``),
    and Go's mutex hands it to its waiters in arrival order once one waited over 1 ms: no two calls of the
    node overlap, and of two calls waiting at once the earlier arrival goes first."""
    rng = np.random.default_rng(3)
    chains = [R.Chain(object(), "start", 10 * S + i * MS, R.start_calls(rng, "1.14")) for i in range(8)]
    _run(chains, first_relist=10 * S + 500 * MS)
    spans = sorted(s for ch in chains for s in _calls(ch))
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    # the first calls of the eight starts arrived 1 ms apart: granted in that order
    firsts = [ch.grants[0] for ch in chains]
    assert firsts == sorted(firsts)
    # each chain's calls follow each other, the next one after the last returned
    for ch in chains:
        for (_g0, e0), (g1, _e1) in zip(_calls(ch), _calls(ch)[1:]):
            assert g1 >= e0


@pytest.mark.parametrize("era", R.ERAS)
def test_a_lone_start_takes_its_lead_time_and_is_seen_after_startcontainer_returned(era):
    """Alone on the client, the container starts ``lead_time`` after the start's first call; the PLEG sees
    it at the first relist whose listing comes after StartContainer returned (the mutex held through the
    sleep), its sandbox in an earlier relist or the same one, and within a relist period (1 s) plus the
    relist's own calls."""
    rng = np.random.default_rng(5)
    for k in range(40):
        p = object()
        calls = R.start_calls(rng, era)
        ch = R.Chain(p, "start", 20 * S, calls)
        rec = _run([ch], first_relist=int(rng.integers(0, S)), seed=k, era=era)
        start = ch.grants[R.START_CALL]
        # (a relist's calls, microseconds each, may come in between)
        assert 0 <= start - (20 * S + R.lead_time(calls)) <= 2 * MS
        ret = start + calls[R.START_CALL][0]
        seen = rec[(id(p), "container_started")]
        assert ret <= seen <= ret + S + 50 * MS
        # an earlier relist, or the same one right after the container's (containers first, then sandboxes)
        assert rec[(id(p), "sandbox_started")] <= seen + MS


def test_relists_slide_a_second_after_the_last_returned_and_wait_at_the_mutex():
    """pkg/kubelet/pleg/generic.go ``wait.Until(g.relist, 1 s)``: the next relist starts a second after the
    last one returned.  While many pods start on a node, every call of a relist waits its turn behind the
    starts' sleeps, so the PLEG reports starts seconds late — and the later pods' starts queue too."""
    rng = np.random.default_rng(11)
    pods = [object() for _ in range(30)]
    chains = [R.Chain(p, "start", 5 * S + i * 400 * MS, R.start_calls(rng, "1.14")) for i, p in enumerate(pods)]
    rec = _run(chains, first_relist=300 * MS)
    lag = np.array([rec[(id(p), "container_started")] - ch.grants[R.START_CALL] for p, ch in zip(pods, chains)])
    assert lag.min() >= 50 * MS and lag.max() > 2 * S
    # the queue: a pod every 0.4 s, each start holding the mutex ~0.6 s — the last ones start seconds late
    late = [ch.grants[R.START_CALL] - (ch.arrive + R.lead_time(ch.calls)) for ch in chains]
    assert late[0] <= 2 * MS and max(late) > 3 * S
    # distinct relists' records are more than a second apart: sort the records, split at gaps over 1 s
    t = np.sort(np.array(list(rec.values())))
    assert (np.diff(t) < S).any() and (np.diff(t)[np.diff(t) >= S] >= S).all()


def test_a_kill_stops_the_container_when_stopcontainer_takes_the_mutex():
    """killContainer makes the Killing event, then StopContainer; the fake client sets FinishedAt as it
    takes the mutex: with other kills queued before it (a namespace teardown), that is later.  The
    ContainerDied records come after the sandbox's StopContainer too (the relist's status calls queue
    behind it)."""
    rng = np.random.default_rng(2)
    pods = [object() for _ in range(10)]
    chains = [R.Chain(p, "stop", 50 * S + i * 10 * MS, R.stop_calls(rng)) for i, p in enumerate(pods)]
    rec = _run(chains, first_relist=0)
    stops = [ch.grants[R.STOP_CALL] for ch in chains]
    assert stops[0] == chains[0].arrive and stops == sorted(stops)
    # ten container stops of ~200 ms each before the first sandbox's (it arrived after the first returned)
    assert stops[-1] - stops[0] >= 9 * 50 * MS
    for p, ch in zip(pods, chains):
        died = rec[(id(p), "container_died")]
        assert died >= ch.grants[R.SANDBOX_STOP_CALL] + ch.calls[R.SANDBOX_STOP_CALL][0]
        assert rec[(id(p), "sandbox_died")] >= died


def test_a_rerun_with_later_calls_changes_nothing_before_them():
    """The generator runs a node's client again when more calls are queued (the latency pods, the
    teardown): what was reported before those calls arrive must not change."""
    rng = np.random.default_rng(9)
    early = [R.Chain(object(), "start", 5 * S + i * 300 * MS, R.start_calls(rng, "1.14")) for i in range(10)]
    rec1 = _run(early, first_relist=100 * MS)
    g1 = [list(ch.grants) for ch in early]
    late = [R.Chain(object(), "stop", 200 * S + i * MS, R.stop_calls(rng)) for i in range(5)]
    for ch in early:
        ch.grants = []
    rec2 = _run(early + late, first_relist=100 * MS)
    assert [ch.grants for ch in early] == g1
    assert all(rec2[k] == v for k, v in rec1.items())


def test_a_start_makes_each_era_s_calls_in_the_source_s_order():
    """1.14 (dockershim RunPodSandbox, kuberuntime SyncPod/startContainer): image, create, start, the
    resolv.conf inspection, PodSandboxStatus, image, create, start.  1.5 (dockertools SyncPod): the infra
    container's image, create, start and runContainerInPod's inspection, SyncPod's inspection for the IP,
    then the container's image, create, start — and runContainerInPod's inspection after it.  Only
    CreateContainer (100 ms) and StartContainer (200 ms) sleep (fake_client.go normalSleep)."""
    rng = np.random.default_rng(4)
    for era, n in (("1.14", 8), ("1.5", 9)):
        for _ in range(50):
            calls = R.start_calls(rng, era)
            assert len(calls) == n
            slept = [i for i, (h, _g) in enumerate(calls) if h >= 25 * MS]
            assert slept == [1, R.SANDBOX_START_CALL, R.CREATED_CALL, R.START_CALL]
            assert all(calls[i][0] >= 50 * MS for i in (R.SANDBOX_START_CALL, R.START_CALL))
            assert calls[-1][1] == 0
    with pytest.raises(ValueError):
        R.start_calls(rng, "1.28")


@pytest.mark.parametrize(("era", "lists", "sandbox_only", "both"), [("1.14", 2, 3, 5), ("1.5", 1, 2, 3)])
def test_a_relist_lists_and_fetches_each_changed_pod_s_status_as_the_era_does(era, lists, sandbox_only, both):
    """A relist's calls: 1.14 lists sandboxes and containers, and per changed pod GetPodStatus makes a
    list of its sandboxes, the sandbox's InspectContainer, a list of its containers and per container
    ContainerStatus's InspectContainer and InspectImageByID; 1.5 lists once, and GetPodStatus lists and
    inspects each of the pod's containers (the infra container one of them)."""
    seen = {}
    for k in range(60):
        rng = np.random.default_rng(100 + k)
        p = object()
        trace = []
        _run(
            [R.Chain(p, "start", 3 * S, R.start_calls(rng, era))],
            first_relist=int(rng.integers(0, S)),
            seed=k,
            era=era,
            trace=trace,
        )
        relists = sorted({n for n, *_ in trace})
        for n in relists:
            calls = [w for m, w, *_ in trace if m == n]
            assert calls[:lists] == ["list"] * lists and "list" not in calls[lists:]
            seen.setdefault(len(calls) - lists, 0)
            seen[len(calls) - lists] += 1
    # a relist saw no change, the sandbox alone (created or started), or the container created or started
    assert set(seen) <= {0, sandbox_only, both} and seen.get(both) and seen.get(sandbox_only)
