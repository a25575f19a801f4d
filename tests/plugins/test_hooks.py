"""Every hook through the :class:`Plugins` facade: order, first-result, failures and the guards.

Test names ``test_hook_<hook>`` are how ``test_plugin_docs.py`` knows each hook has a test.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from multidict import CIMultiDict
from presidio_analyzer import PatternRecognizer

from gateway import __version__
from gateway.errors import AuthenticationError, ConfigError, PluginError, PolicyBlockedError
from gateway.hookspecs import hookimpl
from gateway.inspect.document import Part
from gateway.inspect.findings import DROP, Finding
from gateway.plugin_guards import GuardedAction, GuardedHandler, reveals
from gateway.pluginmanager import DEFAULT_PLUGINS, Plugins, load_plugins
from gateway.policy.loader import PackError, PackLibrary
from gateway.proxy.message import Message, Principal
from plugin_fixtures import lifecycle


def with_objects(*objects: object, modules: tuple[str, ...] = ()) -> Plugins:
    """Built-ins, ``modules`` as a config names them, then ``objects`` registered as third-party plugins."""
    plugins = load_plugins(modules, entry_points=False)
    for i, obj in enumerate(objects):
        plugins.manager.register(obj, name=f"third-party-{i}")
    return plugins


def message(body: bytes = b'{"a": "b"}') -> Message:
    return Message("rid", "acme", "helpdesk", "request", "POST", "/api/tickets/{id}",
                   CIMultiDict({"Content-Type": "application/json"}), body, "application/json")


# --- registration hooks ---------------------------------------------------------------------------


class OrderRecognizers:
    @hookimpl
    def aduana_register_recognizers(self) -> list[Any]:
        return [PatternRecognizer(supported_entity="ORDER_ID", deny_list=["ORD-1"], name="OrderId")]


def test_hook_register_recognizers() -> None:
    recognizers = with_objects(OrderRecognizers()).recognizers()
    first = recognizers[0]
    assert first.name == "OrderId"  # a user's plugin comes before the built-ins
    assert first.aduana_plugin == "third-party-0"  # so a failure can name it
    assert recognizers[-1].aduana_plugin.startswith("gateway.plugins.")


class Action:
    def __init__(self, name: str, rank: int, result: Any = "<X>") -> None:
        self.name, self.rank, self.result = name, rank, result

    def check_params(self, params: Mapping[str, Any]) -> None:
        if params.get("explode"):
            raise RuntimeError("bug")

    def apply(self, value: str, finding: Finding, params: Mapping[str, Any], ctx: Any) -> Any:
        if isinstance(self.result, Exception):
            raise self.result
        return self.result(value) if callable(self.result) else self.result


class Actions:
    def __init__(self, *actions: Action) -> None:
        self.actions = actions

    @hookimpl
    def aduana_register_actions(self) -> list[Any]:
        return list(self.actions)


FINDING = Finding("PERSON", 0, 16, 0.9)


@pytest.mark.parametrize(
    ("action", "outcome"),
    [
        (Action("tokenize", 1, "⟦PERSON_0123456789ab⟧"), "⟦PERSON_0123456789ab⟧"),  # as strict: replaces
        (Action("tokenize", 6, DROP), DROP),  # stricter: replaces
        (Action("tokenize", 0), ConfigError),  # weaker than the built-in: start-up fails
        (Action("tokenize", 1, lambda v: v), PluginError),  # returns the value unchanged
        (Action("tokenize", 1, lambda v: f"<{v.upper()}>"), PluginError),  # ...or dressed up
        (Action("tokenize", 1, lambda v: v.replace(" ", "")), PluginError),  # ...or squeezed
        (Action("tokenize", 1, RuntimeError("bug")), PluginError),
        (Action("tokenize", 1, PolicyBlockedError()), PolicyBlockedError),  # a deliberate veto passes
        (Action("shout", 2, lambda v: "x" * len(v)), "x" * 16),  # a new action
    ],
)
def test_hook_register_actions(action: Action, outcome: Any) -> None:
    plugins = with_objects(Actions(action))
    if outcome is ConfigError:
        with pytest.raises(ConfigError, match="cannot weaken"):
            plugins.actions()
        return
    chosen = {a.name: a for a in plugins.actions()}
    assert len(chosen) == len(plugins.actions())  # one per name
    used = chosen[action.name]
    assert isinstance(used, GuardedAction) and used.inner is action
    if isinstance(outcome, type):
        with pytest.raises(outcome) as info:
            used.apply("Margaret Ellison", FINDING, {}, None)
        if outcome is PluginError:
            assert info.value.reason == "plugin_failed:third-party-0"
    else:
        assert used.apply("Margaret Ellison", FINDING, {}, None) == outcome


def test_action_parameter_check_failing_is_a_config_error() -> None:
    (used,) = [a for a in with_objects(Actions(Action("shout", 2))).actions() if a.name == "shout"]
    with pytest.raises(ConfigError):
        used.check_params({"explode": True})


@pytest.mark.parametrize(
    ("value", "output", "leaks"),
    [
        ("Margaret Ellison", "⟦PERSON_7f3a9c2e51d0⟧", False),
        ("Margaret Ellison", "MARGARET-ELLISON", True),
        ("4111 1111 1111 1111", "4111111111111111", True),
        ("4111 1111 1111 1111", "4111 11•• •••• 1111", False),
        ("Jo", "<Jo>", True),
        ("Jo", "<PERSON>", False),
        ("123", "⟦CARD_CVV_123abc456def⟧", False),  # a short value inside a token's hex is chance
        ("", "", False),
    ],
)
def test_reveals(value: str, output: str, leaks: bool) -> None:
    assert reveals(value, output) is leaks


class Doc:
    def __init__(self, parts: list[Part], body: bytes = b"", fail: bool = False) -> None:
        self.parts, self.body, self.fail, self.charset = parts, body, fail, "utf-8"

    def serialize(self) -> bytes:
        if self.fail:
            raise RuntimeError("bug")
        return self.body


class Handler:
    name = "fixture"
    media_types = ("application/vnd.acme+json", "application/json")

    def __init__(self, doc: Any) -> None:
        self.doc = doc

    def parse(self, body: bytes, *, media_type: str, charset: str | None) -> Any:
        if isinstance(self.doc, Exception):
            raise self.doc
        return self.doc


class Handlers:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    @hookimpl
    def aduana_content_handlers(self) -> list[Any]:
        return [self.handler]


@pytest.mark.parametrize(
    ("doc", "body", "ok"),
    [
        (Doc([Part("$.a", "Margaret")]), b'{"a": "Margaret"}', True),
        (Doc([]), b"{}", True),  # nothing to hide: no letters or digits
        (Doc([]), b'{"a": "Margaret"}', False),  # hides the body from inspection
        (Doc([Part("$.a", "   ")]), b'{"a": "Margaret"}', False),
        (Doc([Part("$.a", "Margaret", skip=True)]), b'{"a": "Margaret"}', False),  # only field rules skip
        (Doc([Part("$.a", "Margaret", meta={"scalar": "x"})]), b'{"a": "Margaret"}', False),
        (Doc([Part("$.n", "42", meta={"scalar": "json"}), Part("$.a", "Ann")]), b'{"n": 42, "a": "Ann"}', True),
        (object(), b"{}", False),  # not a document
        (RuntimeError("bug"), b"{}", False),
    ],
)
def test_hook_content_handlers(doc: Any, body: bytes, ok: bool) -> None:
    handlers = with_objects(Handlers(Handler(doc))).content_handlers()
    first = handlers[0]
    assert isinstance(first, GuardedHandler) and first.media_types == Handler.media_types  # user's first
    if not ok:
        with pytest.raises(PluginError) as info:
            first.parse(body, media_type="application/json", charset=None)
        assert info.value.reason == "plugin_failed:third-party-0"
        return
    parsed = first.parse(body, media_type="application/json", charset=None)
    assert parsed.parts is doc.parts and parsed.charset == "utf-8"


def test_a_handler_failing_to_write_back_is_named() -> None:
    (first, *_) = with_objects(Handlers(Handler(Doc([Part("$", "x")], fail=True)))).content_handlers()
    parsed = first.parse(b'"x"', media_type="application/json", charset=None)
    with pytest.raises(PluginError, match="content handler"):
        parsed.serialize()


def test_malformed_body_from_a_handler_stays_a_400() -> None:
    from gateway.errors import BadRequestError

    (first, *_) = with_objects(Handlers(Handler(BadRequestError(reason="malformed_body")))).content_handlers()
    with pytest.raises(BadRequestError):
        first.parse(b"{", media_type="application/json", charset=None)


def test_hook_policy_packs() -> None:
    plugins = load_plugins(["plugin_fixtures.shadow_baseline"], entry_points=False)
    files = plugins.policy_packs()
    assert files[0].name == "shadow_baseline.yaml"  # the plugin's pack is offered...
    with pytest.raises(PackError, match="also defined"):  # ...but cannot replace a shipped one
        PackLibrary(files)


def test_hook_key_provider() -> None:
    plugins = load_plugins(["plugin_fixtures.lifecycle"], entry_points=False)
    provider = plugins.key_provider("memory:")
    assert provider is not None and provider.master_key() == lifecycle.KEY
    assert plugins.key_provider("vault:x") is None  # nobody handles it: start-up reports it


# --- a message's trip ------------------------------------------------------------------------------


class Credentials:
    def verify(self, key: str) -> Any:
        return None


@pytest.mark.parametrize(
    ("headers", "authorization", "expected"),
    [
        ({"X-Test-Vendor": "acme-sso-assertion"}, None, "sso:test"),  # the plugin's answer wins
        ({"x-test-vendor": "wrong"}, None, AuthenticationError),  # the plugin refuses outright
        ({}, "Bearer unknown-key", AuthenticationError),  # the plugin passes; the built-in refuses
        ({}, None, None),  # nobody recognizes the caller
    ],
)
def test_hook_authenticate(headers: dict[str, str], authorization: str | None, expected: Any) -> None:
    plugins = load_plugins(["plugin_fixtures.header_auth"], entry_points=False)
    call = (authorization, CIMultiDict(headers), Credentials())
    if isinstance(expected, type):
        with pytest.raises(expected):
            plugins.authenticate(*call)  # type: ignore[arg-type]
        return
    principal = plugins.authenticate(*call)  # type: ignore[arg-type]
    assert (principal.credential_id if isinstance(principal, Principal) else principal) == expected


@pytest.fixture
def tamper() -> Iterator[Any]:
    from plugin_fixtures import tamper_message

    yield tamper_message
    tamper_message.MODE = None


@pytest.mark.parametrize(
    ("mode", "direction", "reason"),
    [
        (None, "request", None),
        ("request-body", "request", "plugin_failed:plugin_fixtures.tamper_message"),
        ("request-header", "request", "plugin_failed:plugin_fixtures.tamper_message"),
        ("response-body", "response", "plugin_failed:plugin_fixtures.tamper_message"),
        ("response-status", "response", "plugin_failed:plugin_fixtures.tamper_message"),
    ],
)
async def test_hook_before_upstream(tamper: Any, mode: str | None, direction: str, reason: str | None) -> None:
    plugins = load_plugins(["plugin_fixtures.annotate", "plugin_fixtures.tamper_message"], entry_points=False)
    tamper.MODE = mode
    msg = message()
    msg.direction = direction
    call = plugins.before_upstream if direction == "request" else plugins.after_upstream
    if reason is None:
        await call(msg)
        assert msg.annotations == {"fixture.request_seen": len(msg.body)}  # the async hook ran
        return
    with pytest.raises(PluginError) as info:
        await call(msg)
    assert info.value.reason == reason


@pytest.mark.parametrize(
    ("module", "body", "error", "reason"),
    [
        ("plugin_fixtures.veto", b"VETO", PolicyBlockedError, "policy_block"),
        ("plugin_fixtures.boom_before_upstream", b"x", PluginError,
         "plugin_failed:plugin_fixtures.boom_before_upstream"),
    ],
)
async def test_hook_before_upstream_veto_and_failure(module: str, body: bytes, error: type, reason: str) -> None:
    plugins = load_plugins([module], entry_points=False)
    with pytest.raises(error) as info:
        await plugins.before_upstream(message(body))
    assert info.value.reason == reason


async def test_hook_after_upstream() -> None:
    plugins = load_plugins(["plugin_fixtures.annotate"], entry_points=False)
    msg = message()
    msg.direction, msg.status = "response", 201
    await plugins.after_upstream(msg)
    assert msg.annotations == {"fixture.response_seen": 201}


# --- notifications ---------------------------------------------------------------------------------


class Sink:
    def __init__(self, fail: bool) -> None:
        self.fail, self.seen = fail, []

    @hookimpl
    def aduana_audit_record(self, record: dict[str, Any]) -> None:
        record["tampered"] = True  # its own copy: nobody else sees this
        self.seen.append(record)
        if self.fail:
            raise ConnectionError("down")


def test_hook_audit_record() -> None:
    broken, working = Sink(fail=True), Sink(fail=False)
    plugins = with_objects(working, broken)
    record = {"seq": 1, "entities": {"PERSON": {"tokenize": 1}}}
    failures = plugins.audit_record(record)
    assert [(f.plugin, f.as_dict()["error"]) for f in failures] == [("third-party-1", "ConnectionError")]
    assert working.seen and broken.seen  # the failing sink did not stop the other
    assert record == {"seq": 1, "entities": {"PERSON": {"tokenize": 1}}}


class NestedTamperer:
    @hookimpl(tryfirst=True)
    def aduana_audit_record(self, record: dict[str, Any]) -> None:
        record["entities"]["PERSON"]["tokenize"] = 99  # a deep change, in its own copy


def test_hook_audit_record_third_party_changes_reach_no_built_in(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from plugins.auditsink_jsonl import JSONL_ENV

    monkeypatch.setenv(JSONL_ENV, str(tmp_path / "audit.jsonl"))
    plugins = with_objects(NestedTamperer())
    record = {"seq": 1, "entities": {"PERSON": {"tokenize": 1}}}
    assert plugins.audit_record(record) == []
    written = json.loads((tmp_path / "audit.jsonl").read_text(encoding="utf-8"))
    assert written["entities"] == {"PERSON": {"tokenize": 1}}  # the built-in sink saw the original
    assert record == {"seq": 1, "entities": {"PERSON": {"tokenize": 1}}}


@pytest.fixture
def listeners() -> Iterator[Plugins]:
    lifecycle.CALLS.clear()
    yield load_plugins(["plugin_fixtures.lifecycle"], entry_points=False)
    lifecycle.CALLS.clear()
    lifecycle.BOOM = False


CERTIFICATE = {"statement": {"contract": "acme", "destroyed": {"vault": 3}}, "signature": "c2ln"}


@pytest.mark.parametrize("boom", [False, True])
@pytest.mark.parametrize(
    ("call", "args", "expected"),
    [
        ("contract_terminated", ("acme", CERTIFICATE), ("contract_terminated", ("acme", CERTIFICATE))),
        ("keys_rotated", ("acme", "data", 3, 4), ("keys_rotated", ("acme", "data", "3", "4"))),
        ("keys_rotated", (None, "master", "k1", "k2"), ("keys_rotated", (None, "master", "k1", "k2"))),
        ("retention_run", ("acme", {"vault": 12}), ("retention_run", ("acme", {"vault": 12}))),
        ("retention_run", (None, {"audit": 0}), ("retention_run", (None, {"audit": 0}))),
    ],
)
def test_hook_lifecycle(listeners: Plugins, boom: bool, call: str, args: tuple[Any, ...], expected: Any) -> None:
    lifecycle.BOOM = boom
    failures = getattr(listeners, call)(*args)
    assert [expected] == lifecycle.CALLS
    assert [f.plugin for f in failures] == (["plugin_fixtures.lifecycle"] if boom else [])


def test_hook_contract_terminated(listeners: Plugins) -> None:
    assert listeners.contract_terminated("acme", CERTIFICATE) == []
    assert lifecycle.CALLS[0][0] == "contract_terminated"


def test_hook_keys_rotated(listeners: Plugins) -> None:
    with pytest.raises(ValueError):
        listeners.keys_rotated("acme", "token", 1, 2)  # token keys never rotate
    assert lifecycle.CALLS == []


def test_hook_retention_run(listeners: Plugins) -> None:
    lifecycle.BOOM = True
    (failure,) = listeners.retention_run("acme", {"vault": 1})
    assert failure.as_dict() == {"plugin": "plugin_fixtures.lifecycle", "error": "RuntimeError"}


# --- loading ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "message"),
    [
        ("plugin_fixtures.misspelt_hook", "does not exist"),
        ("plugin_fixtures.wrapper_hook", "hook wrapper"),
        ("plugin_fixtures.async_auth", "must not be async"),
        ("plugin_fixtures.no_such_module", "cannot be imported"),
    ],
)
def test_bad_plugins_fail_loading(module: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_plugins([module], entry_points=False)


def test_list_names_sources_versions_and_hooks() -> None:
    infos = {i.name: i for i in load_plugins(["plugin_fixtures.veto"], entry_points=False).list()}
    assert [n for n in infos if n.startswith("gateway.")] == list(DEFAULT_PLUGINS)
    builtin = infos["gateway.plugins.auth_apikey"]
    assert (builtin.source, builtin.version, builtin.hooks) == ("built-in", __version__, ("aduana_authenticate",))
    assert (infos["plugin_fixtures.veto"].source, infos["plugin_fixtures.veto"].hooks) == (
        "config", ("aduana_before_upstream",))
