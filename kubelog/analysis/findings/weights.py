"""The ranking weights of every finding, in one table.

Findings are ranked by score (higher first), then by severity. A unit names its row with
``ctx.add(..., weight="<row>")``; a few rows are adjustments added to another row (``bonus``).
The bands: 100+ the failure and what explains it; 80–99 critical signatures and a cause that
accounts for the failure exactly; 50–70 errors and likely causes; 30–49 warnings; below 30
context (what the apiserver did in the window, long-running traces).
"""

WEIGHTS: dict[str, float] = {
    # failure (failure.py): fatal failures first, in the order found (minus their index)
    "failure.fatal": 100,
    "failure.nonfatal": 74,  # logged by a run whose final status is Success (e.g. cl2 cleanup errors)
    "failure.wait_bonus": 5,  # a wait/SLO failure (timeout, pods lost, SLO miss …): the likely first cause
    "failure.infra_penalty": -20,  # a failure of the measurement machinery (SSH, metrics), not the cluster
    "failure.with_cause": 101,  # the failure with the stuck pods that explain it folded in
    # clock (clock.py)
    "clock.offset_explains": 110,  # the reported pod-startup latency is the clock offset: above the failure
    "clock.offset_unmeasured": 108,  # a latency of hours with no anchor to measure the offset
    "clock.offset_hours": 62,  # an offset of an hour or more that explains nothing reported
    "clock.offset": 48,
    # pods (stuck_pods.py)
    "stuck_pods.explains": 99,  # exactly the pods the failure misses, or the controller it names
    "stuck_pods.concentrated": 70,  # on at most half of the nodes
    "stuck_pods": 55,
    "failed_pods": 47,
    # apiserver in the window (apiserver.py)
    "apiserver_errors.window_many": 64,  # ≥ 5 error responses in the window
    "apiserver_errors.window_few": 52,
    "apiserver_errors.run": 50,  # no window: the error responses of the whole run
    "apiserver_latency.slow": 55,
    "apiserver_latency.same": 22,
    "apiserver_overview": 24,
    "silent_kubelets": 67,
    "silent_clients.work_left": 66,  # controllers silent while pods were still to be created/bound
    "silent_clients.idle": 20,  # nothing left for them to do
    "watch_restarts": 42,
    # traces (traces.py)
    "traces.error": 60,  # longest ≥ 30 s
    "traces.warning": 44,  # longest ≥ 5 s
    "traces.info": 32,
    "traces_long_running": 14,
    # cluster (events.py, nodes.py)
    "events.error": 50,  # NodeNotReady, Evicted, FailedScheduling, OOMKilling among them
    "events.warning": 40,
    "nodes_notready": 63,
    # known signatures (signatures.py): by severity, plus up to 6 for the number of matching lines
    "signature.critical": 86,
    "signature.error": 68,
    "signature.warning": 46,
    "signature.info": 30,
    "signature.count_bonus_max": 6,
    "apiserver_403.unregistered": 60,  # a kubelet refused on its own objects: its Node never registered
    "apiserver_403": 45,
    # log templates (templates.py)
    "templates.window": 36,
    "templates.errors": 34,
    # what the test itself reported (test_reported.py)
    "test_reported_api.over": 58,  # an API-call group the test reported over the SLO threshold
    "test_reported_api.flagged": 40,  # printed as a warning by the test, under the SLO threshold
    "test_reported_pod_startup.over": 57,
    "test_reported_pod_startup.offset": 26,  # hours: the clock finding explains it
    # an analysis that raised
    "internal_error": 0,
}
