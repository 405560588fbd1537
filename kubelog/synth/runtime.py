"""The old hollow kubelets' fake Docker client: one mutex per node, the calls that take it, and the PLEG
relists that wait for it (eras 1.5 and 1.14) — a small discrete-event simulation.

From the source (Kubernetes 1.14; 1.5 alike):

* Kubemark's hollow kubelet ran on ``FakeDockerClient`` with its sleeps on until dockershim went
  (cmd/kubemark/hollow-node.go ``EnableSleep: true``; 1.5 ``dockertools.NewFakeDockerClient()`` with
  ``EnableSleep``).  Every call takes the client's one ``sync.Mutex`` and holds it to its return
  (pkg/kubelet/dockershim/libdocker/fake_client.go; 1.5 pkg/kubelet/dockertools/fake_docker_client.go):
  ``CreateContainer`` sleeps ``normalSleep(100, 25, 25)``, ``StartContainer`` and ``StopContainer``
  ``normalSleep(200, 50, 50)`` (``time.Duration(rand.NormFloat64()*sd + mean) * time.Millisecond``, the
  conversion truncating, at least the cut-off), the others (lists, inspections) do not sleep.
  ``StartContainer`` sets the container running and ``StartedAt`` as it takes the mutex, ``StopContainer``
  sets ``FinishedAt``; both then sleep.  So nothing else sees the change before the call returns.
* Go's ``sync.Mutex`` hands the lock to its waiters in arrival order once one has waited over 1 ms
  (starvation mode: sync/mutex.go), which every waiter behind a 100 ms sleep has: a FIFO queue.
* A pod start, 1.14 (kuberuntime_manager.go ``SyncPod``): dockershim ``RunPodSandbox`` (the sandbox
  image's ``InspectImageByRef``, ``CreateContainer``, ``StartContainer``, then ``InspectContainer`` for
  the ``ResolvConfPath`` it rewrites: docker_sandbox.go), the kubelet's ``PodSandboxStatus``
  (``InspectContainer``), then the container (kuberuntime_container.go ``startContainer``):
  ``EnsureImageExists`` (``InspectImageByRef``; the *Pulled* event), ``CreateContainer`` (the *Created*
  event), ``StartContainer`` (the *Started* event once it returned).  1.5's docker manager
  (pkg/kubelet/dockertools/docker_manager.go ``SyncPod``) makes the same calls in the same order with
  the infra container for the sandbox: ``createPodInfraContainer`` (``EnsureImageExists``, then
  ``runContainerInPod``: ``CreateContainer``, ``StartContainer``, and an ``InspectContainer`` for the OOM
  score and log path), ``SyncPod``'s ``InspectContainer`` of the infra container for the pod IP, then
  the container's ``EnsureImageExists`` and ``runContainerInPod`` — whose ``InspectContainer`` after the
  start is one call more, after the *Started* event.
* A pod kill: the container's ``StopContainer`` (1.14 kuberuntime ``killContainer``: the *Killing*
  event right before the call; 1.5 dockertools ``killContainer``: the *Killing* event once the call
  returned), then the sandbox's: 1.14 ``StopPodSandbox`` (``InspectContainer``, ``StopContainer``),
  1.5 ``killPodWithSyncResult``'s ``InspectContainer`` of the infra container (host network?) and its
  ``StopContainer``.
* The PLEG (pkg/kubelet/pleg/generic.go): ``wait.Until(g.relist, 1 s)`` — sliding: the next relist a
  second after the last returned.  A relist lists the runtime's pods (1.14: the sandboxes and the
  containers, two ``ListContainers`` on the client; 1.5 ``DockerManager.GetPods``: one), compares them
  with the last listing, and for each pod with a change (a container or sandbox created, started or
  stopped; in Go map order) updates the pod cache with ``GetPodStatus`` — 1.14 kuberuntime: a
  ``ListContainers`` of the pod's sandboxes, ``InspectContainer`` of the sandbox, a ``ListContainers`` of
  its containers and per container dockershim ``ContainerStatus`` (``InspectContainer``,
  ``InspectImageByID``); 1.5 dockertools: one ``ListContainers`` and an ``InspectContainer`` per
  container of the pod, the infra one included — and then sends that pod's events (the containers',
  then the sandbox's: ``getContainersFromPods``), which the sync loop logs as it takes them
  (``SyncLoop (PLEG)``).  A created container is an unknown state to the PLEG: no event, but its pod's
  status is fetched all the same.

Every one of those calls waits its turn at the mutex.  With a few pods starting on a node at once the
queue is long: a start waits for the calls before it, and a relist waits at each of its calls.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field

import numpy as np

MS = 1_000_000
S = 1_000_000_000

# the index in a chain of the call whose grant is the container's start / stop, and of the sandbox's; the
# calls after which the kubelet makes the Pulled and Created events (both eras)
START_CALL, SANDBOX_START_CALL = 7, 2
PULLED_CALL, CREATED_CALL = 5, 6
STOP_CALL, SANDBOX_STOP_CALL = 0, 2
ERAS = ("1.5", "1.14")


def normal_sleep(rng, mean: int, sd: int, cut: int) -> int:
    """``FakeDockerClient.normalSleep(mean, sd, cut)`` in ns."""
    return max(int(rng.standard_normal() * sd + mean), cut) * MS


def _quick(rng) -> int:
    """A call that takes the mutex without sleeping (a list, an inspection): tens to hundreds of µs."""
    return int(rng.integers(20_000, 300_000))


def _gap(rng, lo: int = 200_000, hi: int = 2 * MS) -> int:
    """The kubelet's own work between two calls."""
    return int(rng.integers(lo, hi))


def start_calls(rng, era: str) -> list:
    """A pod start's calls, in order, as (hold ns, gap ns before the next call): the sandbox image's
    inspection, the sandbox's create and start, two inspections of it (1.14: dockershim's for
    ``resolv.conf``, the kubelet's ``PodSandboxStatus``; 1.5: ``runContainerInPod``'s and ``SyncPod``'s),
    the container image's inspection (then the Pulled event), the container's create (then the Created
    event) and start (then the Started event); 1.5: ``runContainerInPod``'s inspection after it."""
    if era not in ERAS:
        raise ValueError(f"no fake Docker client in era {era}")
    calls = [
        (_quick(rng), _gap(rng)),
        (normal_sleep(rng, 100, 25, 25), _gap(rng, 500_000, 3 * MS)),
        (normal_sleep(rng, 200, 50, 50), _gap(rng, 200_000, 1 * MS)),
        (_quick(rng), _gap(rng, 1 * MS, 5 * MS)),
        (_quick(rng), _gap(rng)),
        (_quick(rng), _gap(rng, 50_000, 1 * MS)),
        (normal_sleep(rng, 100, 25, 25), _gap(rng, 50_000, 300_000)),
        (normal_sleep(rng, 200, 50, 50), 0),
    ]
    if era == "1.5":
        calls[START_CALL] = (calls[START_CALL][0], _gap(rng, 100_000, 1 * MS))
        calls.append((_quick(rng), 0))
    return calls


def stop_calls(rng) -> list:
    """A pod kill's calls: the container's stop, the sandbox's status and stop."""
    return [
        (normal_sleep(rng, 200, 50, 50), _gap(rng, 1 * MS, 5 * MS)),
        (_quick(rng), _gap(rng)),
        (normal_sleep(rng, 200, 50, 50), 0),
    ]


def lead_time(calls) -> int:
    """From a start chain's first call to its container start when nothing else holds the mutex."""
    return sum(h + g for h, g in calls[:START_CALL])


@dataclass
class Chain:
    """One pod's start or kill on a node's client: its first call arrives at ``arrive`` (true ns)."""

    pod: object
    kind: str  # "start" | "stop"
    arrive: int
    calls: list
    grants: list = field(default_factory=list)


# what a granted call makes visible to the next listing: (chain kind, call index) → change
_CHANGES = {
    ("start", 1): "sandbox_created",
    ("start", SANDBOX_START_CALL): "sandbox_started",
    ("start", CREATED_CALL): "container_created",
    ("start", START_CALL): "container_started",
    ("stop", STOP_CALL): "container_died",
    ("stop", SANDBOX_STOP_CALL): "sandbox_died",
}
# the changes the PLEG makes an event of, in the order it sends a pod's events (containers, then sandboxes)
RECORDED = ("container_started", "sandbox_started", "container_died", "sandbox_died")


def simulate_node(chains: list, first_relist: int, relist_work: int, rng, era: str, trace: list | None = None) -> dict:
    """Run one node's client: fills each chain's ``grants`` (the instant each call took the mutex) and
    returns ``{(pod id, change): instant}`` of the PLEG records (:data:`RECORDED`) — the instant the sync
    loop took the event.  ``first_relist``: the first relist's start; ``relist_work``: a relist's own work
    beside its calls (ns); ``rng``: the relists' draws (a stream of their own, so a rerun with more chains
    gives the same results up to their first call); ``era``: the kubelet's relist and status calls;
    ``trace``: if given, each relist call is appended to it as (relist number, what, pod id or None, grant)."""
    if era not in ERAS:
        raise ValueError(f"no fake Docker client in era {era}")
    changes: list = []  # (pod id, change) in the order made visible
    records: dict = {}
    created: dict = {}  # pod id → its containers created so far (the sandbox or infra container included)
    open_chains = [len(chains)]

    def chain_proc(ch):
        t = ch.arrive
        for i, (hold, gap) in enumerate(ch.calls):
            g = yield t, hold
            ch.grants.append(g)
            c = _CHANGES.get((ch.kind, i))
            if c is not None:
                changes.append((id(ch.pod), c))
            t = g + hold + gap
        open_chains[0] -= 1

    def relist_proc():
        t = first_relist
        seen = 0
        n = 0
        while True:
            n += 1
            if open_chains[0] == 0 and seen == len(changes):
                return
            if era == "1.14":
                h = _quick(rng)
                g = yield t, h  # the sandboxes' list
                _trace(n, "list", None, g)
                t = g + h + _gap(rng, 20_000, 200_000)
            h = _quick(rng)
            g = yield t, h  # the containers' list: what it shows is what this relist reports
            _trace(n, "list", None, g)
            new, seen = changes[seen:], len(changes)
            t = g + h + _gap(rng, 50_000, 500_000)
            per_pod: dict = {}
            for pid, c in new:
                per_pod.setdefault(pid, []).append(c)
                if c.endswith("_created"):
                    created[pid] = created.get(pid, 0) + 1
            order = list(per_pod)
            rng.shuffle(order)  # Go map order
            for pid in order:
                for _ in range(_status_calls(era, created.get(pid, 2))):  # GetPodStatus (a pod started before: both)
                    h = _quick(rng)
                    g = yield t, h
                    _trace(n, "status", pid, g)
                    t = g + h + _gap(rng, 20_000, 200_000)
                at = t
                for c in RECORDED:
                    if c in per_pod[pid]:
                        at += int(rng.integers(10_000, 60_000))
                        records[(pid, c)] = at
                t = at
            t += relist_work + S

    def _trace(n, what, pid, g):
        if trace is not None:
            trace.append((n, what, pid, g))

    procs = [chain_proc(ch) for ch in sorted(chains, key=lambda c: c.arrive)]
    procs.append(relist_proc())
    heap: list = []
    seq = itertools.count()

    def push(proc, step):
        heapq.heappush(heap, (step[0], next(seq), step[1], proc))

    for proc in procs:
        try:
            push(proc, next(proc))
        except StopIteration:
            pass
    free = -(1 << 62)
    while heap:
        arrive, _, hold, proc = heapq.heappop(heap)
        grant = max(arrive, free)
        free = grant + hold
        try:
            push(proc, proc.send(grant))
        except StopIteration:
            pass
    return records


def _status_calls(era: str, containers: int) -> int:
    """A relist's ``GetPodStatus`` calls for a pod with ``containers`` created (its sandbox or infra
    container one of them): 1.14 the two lists, the sandbox's inspection and two calls per container
    (``InspectContainer``, ``InspectImageByID``); 1.5 a list and an inspection per container."""
    if era == "1.14":
        return 3 + 2 * (containers - 1)
    return 1 + containers


def node_rng(seed: int, node_index: int):
    """The relists' draws of one node."""
    return np.random.default_rng([int(seed), 1707, int(node_index)])
