"""A CI job's history: many small Kubemark runs of one job, some with planted regressions.

Each build is one run of :func:`kubelog.synth.run.generate` (same job, a new seed, a later start)
laid out the way Prow uploads a job's builds and perfdash reads them::

    OUT/<job>/<build>/started.json      Prow's start record
    OUT/<job>/<build>/finished.json     Prow's end record (passed, result)
    OUT/<job>/<build>/artifacts/...     the run's logs (kube-apiserver.log, e2e.log, junit_01.xml ...)
    OUT/history_truth.json              what was planted, per build

``started.json``/``finished.json`` follow the testgrid metadata types that Prow's pod utilities write
(GoogleCloudPlatform/testgrid ``metadata/job.go``: ``Started{timestamp, node, repos, repo-version,
metadata}``, ``Finished{timestamp, passed, result, revision, metadata}``; ``timestamp`` in Unix
seconds) and the build directory is the build ID, as in ``gs://kubernetes-jenkins/logs/<job>/<build>/``.

Planted (all optional, build numbers are absolute build IDs):

* ``regress``: requests of one group (``"get pods"``, keys as :func:`kubelog.synth.run.generate`'s
  ``latency_factor``) take ``factor`` times as long from build ``regress_build`` on — every
  percentile of that group moves by ``factor``;
* ``startup_shift_s``: from build ``startup_build`` on every pod's container starts that much later
  (schedule→run and every phase that contains it move by about that much).  The delay sits where a
  real start-up regression sits: in the kubelet's ``SyncPod`` between its seeing the pod and the
  container running — the sandbox, the image pull (``EnsureImageExists``), ``startContainer``
  (``pkg/kubelet/kuberuntime/kuberuntime_manager.go``, ``kuberuntime_container.go``); pods are
  still created at the test's pace.  The generator's API latency grows with the test pods that
  exist (created, not yet deleted: objects in etcd and the watch cache), kubelog's load counts pods
  running, so from that build on more pods exist at each load level and the load buckets hold
  other requests: docs/history.md says what the detector reports then;
* ``skewed_build``: that one build's hollow-node clocks are ``skewed_by_s`` ahead of the master
  (a bad NTP sync on the test cluster).  Nothing about the cluster changed: phases that cross the
  apiserver→node clocks move, API latencies (one clock) do not.  A history tool must not call it a
  regression.

Everything else is the unmodified generator (its behaviours cite the Kubernetes source in
:mod:`kubelog.synth.run`); the clocks of a normal build carry a realistic NTP-level skew (tens of ms).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

DEFAULT_JOB = "ci-kubernetes-kubemark-synth"
FIRST_BUILD = 4101
BUILD_EVERY_S = 3 * 3600  # a periodic job every 3 h
NORMAL_SKEW = "test=0.04s,nodes=0.02s"


def _iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S")


def generate_history(
    out_dir,
    *,
    runs: int = 60,
    seed: int = 1,
    job: str = DEFAULT_JOB,
    era: str = "1.28",
    nodes: int = 4,
    pods_per_node: int = 10,
    first_build: int = FIRST_BUILD,
    start: str = "2023-08-01T00:00:00",
    regress: str | None = "get pods",
    regress_factor: float = 2.0,
    regress_build: int | None = None,
    startup_shift_s: float = 1.5,
    startup_build: int | None = None,
    skewed_build: int | None = None,
    skewed_by_s: float = 12.0,
    jobs: int = 1,
) -> dict:
    """Write ``runs`` builds of ``job`` under ``out_dir/job/`` and ``history_truth.json``.

    Defaults plant the three changes of issue #23 in a 60-run history: ``regress`` ×2 from build
    ``first_build + 0.4·runs``, a ``startup_shift_s`` pod start-up shift from ``first_build +
    0.7·runs``, and one clock-skewed build at ``first_build + 0.55·runs``; pass ``None``/``0`` to
    leave one out.  ``jobs`` > 1 writes builds in that many processes (same bytes).

    Returns the truth dictionary (also written): ``job``, ``builds`` (one dict per build: ``build``,
    ``dir``, ``seed``, ``t0``, ``latency_factor``, ``startup_delay_s``, ``skew``, ``passed``) and
    ``planted`` (``kind``, ``build`` where the change starts, and its size).
    """
    if runs < 1:
        raise ValueError("runs must be >= 1")
    out = Path(out_dir)
    jobdir = out / job
    jobdir.mkdir(parents=True, exist_ok=True)
    if regress and regress_build is None:
        regress_build = first_build + int(0.4 * runs)
    if startup_shift_s and startup_build is None:
        startup_build = first_build + int(0.7 * runs)
    if skewed_build is None and skewed_by_s:
        skewed_build = first_build + int(0.55 * runs)
    t_start = dt.datetime.fromisoformat(start)
    specs = []
    for i in range(runs):
        b = first_build + i
        factor = {regress: regress_factor} if regress and b >= regress_build else None
        delay = float(startup_shift_s) if startup_shift_s and b >= startup_build else 0.0
        skew = f"test=0.04s,nodes={skewed_by_s}s" if b == skewed_build else NORMAL_SKEW
        specs.append(
            dict(
                build=b,
                dir=str(jobdir / str(b)),
                seed=seed * 100_003 + b,
                t0=_iso(t_start + dt.timedelta(seconds=i * BUILD_EVERY_S)),
                latency_factor=factor,
                startup_delay_s=delay,
                skew=skew,
                era=era,
                nodes=nodes,
                pods_per_node=pods_per_node,
                job=job,
            )
        )
    if jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=jobs) as ex:
            done = list(ex.map(_one_build, specs))
    else:
        done = [_one_build(s) for s in specs]
    for s, passed in zip(specs, done):
        s["passed"] = passed
    planted = []
    if regress:
        planted.append({"kind": "latency", "group": regress, "build": regress_build, "factor": regress_factor})
    if startup_shift_s:
        planted.append(
            {
                "kind": "pod_startup",
                "phase": "schedule_to_run",
                "build": startup_build,
                "shift_s": float(startup_shift_s),
            }
        )
    if skewed_build is not None and skewed_by_s:
        planted.append(
            {
                "kind": "clock_skew",
                "build": skewed_build,
                "domain": "node/*",
                "offset_s": skewed_by_s,
                "note": "one run only; not a regression",
            }
        )
    truth = {
        "generator": "kubelog.synth.history",
        "job": job,
        "era": era,
        "runs": runs,
        "first_build": first_build,
        "builds": [{k: v for k, v in s.items() if k not in ("job",)} for s in specs],
        "planted": planted,
    }
    (out / "history_truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return truth


def _one_build(s: dict) -> bool:
    """Write one build directory; returns whether the run passed."""
    from .run import generate

    bdir = Path(s["dir"])
    art = bdir / "artifacts"
    if bdir.exists():
        shutil.rmtree(bdir)  # a build directory this generator wrote before (same name under OUT/<job>)
    truth = generate(
        art,
        seed=s["seed"],
        nodes=s["nodes"],
        pods_per_node=s["pods_per_node"],
        era=s["era"],
        skew=s["skew"],
        latency_factor=s["latency_factor"],
        startup_delay_s=s["startup_delay_s"],
        t0=s["t0"],
    )
    (art / "truth.json").rename(bdir / "truth.json")  # not an artifact CI keeps
    failed = [f for f in truth["failures"] if f["kind"] in ("timeout", "slo")]
    start_s = truth["t0_ns"] // 1_000_000_000
    end_s = -(-truth["end_ns"] // 1_000_000_000)
    ver = f"{'v1.28.0' if s['era'] == '1.28' else 'v' + s['era'] + '.0'}-{s['build'] - 4000}+synth"
    started = {
        "timestamp": start_s,
        "node": f"prow-build-{s['build'] % 7}",
        "repos": {"kubernetes/kubernetes": "master"},
        "repo-version": ver,
        "metadata": {"job": s["job"]},
    }
    finished = {
        "timestamp": end_s,
        "passed": not failed,
        "result": "FAILURE" if failed else "SUCCESS",
        "revision": ver,
        "metadata": {"job-version": ver},
    }
    (bdir / "started.json").write_text(json.dumps(started, indent=2) + "\n", encoding="utf-8")
    (bdir / "finished.json").write_text(json.dumps(finished, indent=2) + "\n", encoding="utf-8")
    return not failed
