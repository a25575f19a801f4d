"""Messages queued behind a busy worker go to it together, and still cannot harm one another.

One real worker process with the ``fault_recognizer`` plugin (slow on ``SLOWNOW``, raises on ``BOOMNOW``,
hangs on ``HANGNOW``). A ``SLOWNOW`` message holds the worker while others queue; when it frees up, the
queued messages are sent as one call (``gateway/inspect/pool.py``, rule 3). Each must get exactly the
findings it gets alone; an error or a hang stays with the message that caused it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from fault_recognizer import SLOW_SECONDS

from gateway.errors import InspectionTimeout, PluginError
from gateway.inspect.analyzer import DetectRequest
from gateway.inspect.findings import Finding
from gateway.inspect.pool import BATCH_MESSAGES, Detector

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module"),
              pytest.mark.xdist_group("adversarial-batching")]

BUDGET = 5.0
assert BUDGET > SLOW_SECONDS  # the slow message must fit its budget, or these tests test nothing

ENTITIES = ("PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD")
TEXTS = (
    "Please write to margaret.ellison@example.com about the refund.",
    "Hi, my name is Daniel Okafor and my card 4111 1111 1111 1111 was charged twice.",
    "Call me back on (415) 555-0132 after 5pm.",
    "The printer on floor 3 is out of toner again.",
    "Hola, soy Lucía Fernández; mi correo es lucia.fernandez@example.es",
)


def request(text: str) -> list[DetectRequest]:
    language = "es" if text.startswith("Hola") else "en"
    return [DetectRequest(text, language, ENTITIES, dict.fromkeys(ENTITIES, 0.4))]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def detector() -> AsyncIterator[Detector]:
    d = Detector(["fault_recognizer"], workers=1, timeout=BUDGET, queue_timeout=120)
    await d.start()
    try:
        yield d
    finally:
        await d.close()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def alone(detector: Detector) -> dict[str, list[list[Finding]]]:
    """What each text gets when it is the only message in its call."""
    return {text: await detector.detect(request(text)) for text in TEXTS}


async def hold_the_worker(detector: Detector) -> asyncio.Task[list[list[Finding]]]:
    slow = asyncio.create_task(detector.detect(request("SLOWNOW a note for the agent")))
    await asyncio.sleep(0)  # the slow message is in the worker: what comes next queues
    return slow


async def test_queued_messages_go_in_one_call_and_find_what_they_find_alone(
        detector: Detector, alone: dict[str, list[list[Finding]]]) -> None:
    assert any(alone.values())  # the texts do hold findings, so the comparison means something
    calls, messages = detector.calls, detector.messages
    slow = await hold_the_worker(detector)
    waiting = [asyncio.create_task(detector.detect(request(t))) for t in TEXTS]
    await asyncio.sleep(0)
    held = detector.stats()  # what /metrics shows meanwhile
    assert (held.busy, held.queued) == (1, len(TEXTS))
    together = await asyncio.gather(*waiting)
    assert await slow == [[]]
    after = detector.stats()
    assert (after.busy, after.queued, after.calls, after.messages) == (0, 0, detector.calls, detector.messages)
    batches = -(-len(TEXTS) // BATCH_MESSAGES)
    assert batches < len(TEXTS)  # or nothing was batched
    assert (detector.calls - calls, detector.messages - messages) == (1 + batches, len(TEXTS) + 1)
    assert dict(zip(TEXTS, together, strict=True)) == alone


async def test_a_failing_message_in_a_batch_fails_alone(
        detector: Detector, alone: dict[str, list[list[Finding]]]) -> None:
    calls = detector.calls
    slow = await hold_the_worker(detector)
    first, boom, last = await asyncio.gather(
        detector.detect(request(TEXTS[0])), detector.detect(request("BOOMNOW and a name, Daniel Okafor")),
        detector.detect(request(TEXTS[1])), return_exceptions=True)
    await slow
    assert detector.calls - calls == 2
    assert isinstance(boom, PluginError) and boom.plugin == "fault_recognizer"
    assert (first, last) == (alone[TEXTS[0]], alone[TEXTS[1]])


async def test_a_caller_that_gives_up_while_queued_is_never_sent(detector: Detector) -> None:
    calls, messages = detector.calls, detector.messages
    slow = await hold_the_worker(detector)
    gone = asyncio.create_task(detector.detect(request(TEXTS[0])))
    await asyncio.sleep(0)
    gone.cancel()
    await detector.detect(request(TEXTS[2]))
    await slow
    assert gone.cancelled()
    assert (detector.calls - calls, detector.messages - messages) == (2, 2)


async def test_a_hang_in_a_batch_costs_only_the_hung_message(
        detector: Detector, alone: dict[str, list[list[Finding]]]) -> None:
    # The batch overruns the budget; nobody in it is charged: each runs again alone, in the
    # replacement worker, and only the hung one overruns alone.
    replaced = detector.stats().replacements
    slow = await hold_the_worker(detector)
    first, hung, last = await asyncio.gather(
        detector.detect(request(TEXTS[0])), detector.detect(request("HANGNOW write to margaret@example.com")),
        detector.detect(request(TEXTS[1])), return_exceptions=True)
    await slow
    assert isinstance(hung, InspectionTimeout)
    assert (first, last) == (alone[TEXTS[0]], alone[TEXTS[1]])
    assert detector.stats().replacements == replaced + 2  # the batch's overrun, then the hung one's alone
