"""The shared loopback server and fault injector (used by the Shopify, Amazon, eBay sandboxes)."""

from __future__ import annotations

import httpx
import pytest

from aftershow.sandbox.loopback import FaultInjector, LoopbackServer, Response


def test_seeded_faults_repeat_and_keep_to_their_rate():
    first, second = FaultInjector(), FaultInjector()
    first.configure(rate=0.2, kinds=("429", "500", "timeout"), seed=4)
    second.configure(rate=0.2, kinds=("429", "500", "timeout"), seed=4)
    drawn = [first.draw() for _ in range(1000)]
    assert drawn == [second.draw() for _ in range(1000)]
    faults = [kind for kind in drawn if kind]
    assert 150 <= len(faults) <= 250
    assert set(faults) == {"429", "500", "timeout"}
    assert sum(first.injected.values()) == len(faults)


def test_queued_faults_come_after_the_calls_served_first():
    faults = FaultInjector()
    faults.fail_next(2, "500", after=1)
    assert [faults.draw() for _ in range(4)] == [None, "500", "500", None]


@pytest.mark.parametrize(
    "arguments", [{"rate": 1.5}, {"rate": 0.1, "kinds": ("503",)}, {"rate": 0.1, "kinds": ()}]
)
def test_configuration_is_checked(arguments):
    with pytest.raises(ValueError):
        FaultInjector().configure(**arguments)


def test_the_server_records_calls_and_a_dropped_answer_is_a_client_timeout():
    faults = FaultInjector()
    faults.configure(timeout_seconds=0.5)

    def handler(request):
        if request.path == "/slow":
            faults.stall()
            return None
        return Response.json(201, {"path": request.path, "q": request.param("q")})

    server = LoopbackServer(handler, name="test")
    base = server.start()
    try:
        answer = httpx.post(f"{base}/things/a%2Fb?q=1", json={"x": 1})
        assert (answer.status_code, answer.json()) == (201, {"path": "/things/a/b", "q": "1"})
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(f"{base}/slow", timeout=0.2)
        calls = server.calls
        assert [(c.method, c.raw_path, c.status) for c in calls[:1]] == [
            ("POST", "/things/a%2Fb", 201)
        ]
        assert calls[0].json_body() == {"x": 1}
        assert calls[0].json_response() == {"path": "/things/a/b", "q": "1"}
    finally:
        faults.release_stalled()
        server.stop()
