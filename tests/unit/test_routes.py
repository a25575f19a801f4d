"""Route resolution and raw-path checks."""

from __future__ import annotations

import pytest

from gateway.config import Config
from gateway.errors import BadRequestError, ForbiddenError, NotFoundError
from gateway.proxy.routes import Router, check_raw_path


def config() -> Config:
    route = {"name": "hd", "prefix": "/helpdesk", "upstream": "http://127.0.0.1:1", "methods": ["GET", "POST"],
             "paths": ["/api/tickets", "/api/tickets/{id}", "/api/tickets/{id}/comments"]}
    return Config.model_validate({"contracts": {
        "acme": {"vendor": "A", "policy_packs": ["gdpr"], "routes": [route]},
        "globex": {"vendor": "G", "policy_packs": ["gdpr"], "routes": [{**route, "prefix": "/globex", "paths": []}]},
    }})


@pytest.mark.parametrize(
    ("path", "method", "contract", "template", "params"),
    [
        ("/helpdesk/api/tickets", "GET", "acme", "/helpdesk/api/tickets", ()),
        ("/helpdesk/api/tickets/17", "GET", "acme", "/helpdesk/api/tickets/{id}", (2,)),
        ("/helpdesk/api/tickets/ana@x.es/comments", "POST", "acme", "/helpdesk/api/tickets/{id}/comments", (2,)),
        ("/globex/anything/at/all", "GET", "globex", "/globex/*", ()),
    ],
)
def test_templates_never_hold_values(
    path: str, method: str, contract: str, template: str, params: tuple[int, ...]
) -> None:
    match = Router(config()).resolve(path, method, contract)
    assert match.template == template and match.param_segments == params


@pytest.mark.parametrize(
    ("path", "method", "contract", "error", "reason"),
    [
        ("/helpdesk/api/tickets", "GET", "globex", ForbiddenError, "wrong_contract"),
        ("/helpdesk/api/tickets", "DELETE", "acme", ForbiddenError, "method_not_allowed"),
        ("/helpdesk/api/users", "GET", "acme", ForbiddenError, "path_not_allowed"),
        ("/helpdesk/api/tickets/1/comments/2", "GET", "acme", ForbiddenError, "path_not_allowed"),
        ("/helpdeskx/api/tickets", "GET", "acme", NotFoundError, "no_route"),
    ],
)
def test_refusals(path: str, method: str, contract: str, error: type[Exception], reason: str) -> None:
    with pytest.raises(error) as info:
        Router(config()).resolve(path, method, contract)
    assert info.value.reason == reason  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "raw",
    ["/helpdesk/../admin", "/helpdesk/%2e%2e/admin", "/helpdesk/%2E%2E/admin", "/helpdesk/a%2fb",
     "/helpdesk/a%252fb", "/helpdesk/a%5cb", "/helpdesk/a\\b", "/helpdesk//x", "/helpdesk/./x", "/h/%0d%0aX: y"],
)
def test_traversal_and_encoded_separators_are_refused(raw: str) -> None:
    with pytest.raises(BadRequestError):
        check_raw_path(raw)


def test_ordinary_encoding_is_decoded() -> None:
    assert check_raw_path("/helpdesk/api/tickets/Jos%C3%A9") == "/helpdesk/api/tickets/José"
