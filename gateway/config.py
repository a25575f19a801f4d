"""The configuration file: one YAML document, validated by pydantic on load.

Errors name the file, the line, the field path and what was expected, e.g.::

    aduana.yaml:14: contracts.acme.routes.0.upstream: expected a URL starting with http:// or https://

Secrets never sit in the file: ``${VAR}`` in an upstream header or the master-key source is read from the
environment when the config is loaded.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gateway.errors import ConfigError
from gateway.yamlsource import YamlSyntaxError, load_yaml

_NAME = r"^[a-z0-9][a-z0-9_.-]{0,62}$"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Listener(_Model):
    """An address the gateway listens on."""

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8080


class TLSConfig(_Model):
    """TLS on the vendor listener, and optionally client certificates (mTLS). Paths are relative to the
    config file; the files are checked when the gateway starts (``gateway/server/tls.py``)."""

    #: PEM certificate chain the listener presents (leaf first).
    cert_file: str
    #: PEM private key of ``cert_file`` (keep it ``chmod 600``, owned by the gateway's user).
    key_file: str
    #: PEM bundle of the CAs whose client certificates are accepted; without it no client certificate is asked.
    client_ca_file: str | None = None
    #: Refuse the TLS handshake of a client without a certificate from ``client_ca_file``.
    require_client_cert: bool = False
    min_version: Literal["TLSv1.2", "TLSv1.3"] = "TLSv1.2"

    @model_validator(mode="after")
    def _client_ca_needed(self) -> TLSConfig:
        if self.require_client_cert and not self.client_ca_file:
            raise ValueError("require_client_cert needs client_ca_file (the CAs that issue client certificates)")
        return self


class VendorListener(Listener):
    """The listener vendors call; it may serve TLS and require client certificates."""

    tls: TLSConfig | None = None


class Listeners(_Model):
    vendor: VendorListener = VendorListener(port=8080)
    #: Health, readiness and metrics (and the admin API). Loopback by default: keep it off the vendor's network.
    admin: Listener = Listener(port=8081)


class SqliteOptions(_Model):
    """SQLite-only settings (docs/configuration.md, "store.sqlite")."""

    #: ``full`` (default): every commit is on disk before it returns, so an audited response survives a
    #: power loss. ``normal``: with WAL a commit survives a crash or kill of the process but the last
    #: commits may be lost on a power loss or OS crash; saves one fsync per request.
    synchronous: Literal["full", "normal"] = "full"


class StoreConfig(_Model):
    #: ``sqlite:///relative/or/absolute/path.db`` (relative to the config file) or ``postgresql://…``.
    url: str = "sqlite:///aduana.db"
    sqlite: SqliteOptions = SqliteOptions()

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("expected sqlite:///PATH or postgresql://…")
        return value


class KeysConfig(_Model):
    #: Where the master key comes from: ``file:PATH`` (made by ``aduana keys init``) or ``env:VARIABLE``.
    master_key: str = "file:master.key"

    @field_validator("master_key")
    @classmethod
    def _source(cls, value: str) -> str:
        if ":" not in value:
            raise ValueError("expected SCHEME:VALUE, e.g. file:master.key or env:ADUANA_MASTER_KEY")
        return value


_STREAM_THRESHOLD = 256 * 1024


class InspectionConfig(_Model):
    #: Detection runs in this many worker processes, off the event loop.
    workers: Annotated[int, Field(ge=1, le=64)] = 1
    #: Time budget for detecting personal data in one message; over it, the message is refused.
    timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 10.0
    #: How long a message may wait for a free worker; over it the message is refused (503 busy).
    queue_seconds: Annotated[float, Field(gt=0, le=600)] = 30.0
    #: Largest body inspected; a larger one is refused with 413.
    max_body_bytes: Annotated[int, Field(gt=0)] = 2 * 1024 * 1024
    #: A body whose content type the policy passes uninspected is streamed through, never buffered whole,
    #: when it is larger than this or has no declared length (docs/configuration.md, "Streaming").
    stream_threshold_bytes: Annotated[int, Field(ge=0)] = _STREAM_THRESHOLD
    #: Largest body streamed through uninspected; over it the transfer is cut off and audited.
    max_passthrough_bytes: Annotated[int, Field(gt=0)] = 1024 * 1024 * 1024

    @model_validator(mode="before")
    @classmethod
    def _default_threshold(cls, data: Any) -> Any:
        # Left at its default under a smaller max_body_bytes, the threshold follows it down.
        if isinstance(data, dict) and "stream_threshold_bytes" not in data and isinstance(
                data.get("max_body_bytes"), int) and data["max_body_bytes"] < _STREAM_THRESHOLD:
            return {**data, "stream_threshold_bytes": data["max_body_bytes"]}
        return data

    @model_validator(mode="after")
    def _stream_limits(self) -> InspectionConfig:
        if self.stream_threshold_bytes > self.max_body_bytes:
            raise ValueError("stream_threshold_bytes must not exceed max_body_bytes (smaller bodies are buffered)")
        if self.max_passthrough_bytes < self.stream_threshold_bytes:
            raise ValueError("max_passthrough_bytes must be at least stream_threshold_bytes")
        return self


class UpstreamTimeouts(_Model):
    connect_seconds: Annotated[float, Field(gt=0)] = 5.0
    read_seconds: Annotated[float, Field(gt=0)] = 30.0


class Route(_Model):
    """A path prefix a vendor may call and the upstream it maps to."""

    name: Annotated[str, Field(pattern=_NAME)]
    #: Path prefix on the gateway, e.g. ``/helpdesk``.
    prefix: Annotated[str, Field(pattern=r"^/[A-Za-z0-9._~/-]*$")]
    #: Base URL the prefix maps to; the rest of the path is appended.
    upstream: str
    methods: tuple[Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"], ...] = ("GET",)
    #: Path patterns below the prefix; ``{name}`` matches one segment. Empty means "any path".
    paths: tuple[str, ...] = ()
    #: Which way personal data is protected. ``response``: the vendor fetches company data (responses are
    #: protected, request bodies and query values restored). ``request``: company data is sent to the
    #: vendor's system (request body, path and query protected; responses restored).
    protect: Literal["response", "request"] = "response"
    #: Headers added to every upstream request (e.g. the helpdesk's own API token, as ``${ENV_VAR}``).
    upstream_headers: dict[str, str] = Field(default_factory=dict)
    #: Packs for this route instead of the contract's (e.g. a route that passes attachments uninspected).
    policy_packs: tuple[str, ...] | None = None
    timeouts: UpstreamTimeouts = UpstreamTimeouts()

    @field_validator("upstream")
    @classmethod
    def _upstream(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("expected a URL starting with http:// or https://")
        return value.rstrip("/")

    @field_validator("paths")
    @classmethod
    def _paths(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            if not pattern.startswith("/"):
                raise ValueError(f"path pattern {pattern!r} must start with /")
            if ".." in pattern or "%" in pattern:
                raise ValueError(f"path pattern {pattern!r} may not contain '..' or '%'")
            for segment in pattern.strip("/").split("/"):
                if "{" in segment and not re.fullmatch(r"\{[a-z_][a-z0-9_]*\}", segment):
                    raise ValueError(f"path pattern {pattern!r}: a parameter must be a whole segment like {{id}}")
        return value


class ClientCertificate(_Model):
    """A client certificate bound to a contract: by the SHA-256 fingerprint of its DER form (preferred:
    it names one certificate) or by its subject common name (any certificate the trusted CAs issue with
    that name, so renewals need no config change)."""

    sha256: str | None = None
    common_name: Annotated[str, Field(min_length=1)] | None = None

    @field_validator("sha256")
    @classmethod
    def _fingerprint(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = value.replace(":", "").lower()
        if not re.fullmatch(r"[0-9a-f]{64}", digits):
            raise ValueError("expected 64 hex digits (colons allowed), e.g. from `openssl x509 -fingerprint -sha256`")
        return digits

    @model_validator(mode="after")
    def _exactly_one(self) -> ClientCertificate:
        if (self.sha256 is None) == (self.common_name is None):
            raise ValueError("give exactly one of sha256 or common_name")
        return self


class Contract(_Model):
    """One engagement with one vendor: the tenant boundary."""

    vendor: Annotated[str, Field(min_length=1)]
    policy_packs: Annotated[tuple[str, ...], Field(min_length=1)]
    routes: Annotated[tuple[Route, ...], Field(min_length=1)]
    #: Client certificates this contract's callers must present (with their API key) on a TLS vendor
    #: listener. Empty: no certificate is required (docs/configuration.md, "TLS and client certificates").
    client_certificates: tuple[ClientCertificate, ...] = ()

    @model_validator(mode="after")
    def _unique_routes(self) -> Contract:
        names = [r.name for r in self.routes]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"route names must be unique, repeated: {', '.join(sorted(dupes))}")
        return self


class AuthConfig(_Model):
    """Vendor authentication (docs/configuration.md, "auth")."""

    #: How long a verified API key is answered from memory instead of the store (0: never). Revocation
    #: and termination still take effect on the next request: a remembered key is re-checked in the store
    #: before anything is forwarded. Used only when every authenticator is a built-in.
    credential_cache_seconds: Annotated[float, Field(ge=0, le=60)] = 2.0


class LoggingConfig(_Model):
    level: Literal["debug", "info", "warning", "error"] = "info"
    #: Also write the JSON log lines to this file (relative to the config file).
    file: str | None = None


class LifecycleConfig(_Model):
    """Retention and contract exit (docs/lifecycle.md)."""

    #: How often the gateway applies the contracts' retention periods (``aduana sweep`` does it on
    #: demand). ``0`` turns the in-server sweeper off.
    sweep_interval_seconds: Annotated[float, Field(ge=0)] = 3600.0


class Config(_Model):
    """The whole configuration file."""

    listeners: Listeners = Listeners()
    store: StoreConfig = StoreConfig()
    keys: KeysConfig = KeysConfig()
    inspection: InspectionConfig = InspectionConfig()
    auth: AuthConfig = AuthConfig()
    logging: LoggingConfig = LoggingConfig()
    lifecycle: LifecycleConfig = LifecycleConfig()
    #: Extra plugin modules to load (installed packages register through the ``aduana`` entry points).
    plugins: tuple[str, ...] = ()
    #: Extra folders holding policy pack YAML files (relative to the config file).
    policy_paths: tuple[str, ...] = ()
    contracts: Annotated[dict[Annotated[str, Field(pattern=_NAME)], Contract], Field(min_length=1)]

    #: Folder of the config file; relative paths in it are resolved against this.
    base_dir: Path = Field(default=Path("."), exclude=True)

    @model_validator(mode="after")
    def _prefixes_unique(self) -> Config:
        seen: dict[str, str] = {}
        for cname, contract in self.contracts.items():
            for route in contract.routes:
                if route.prefix in seen:
                    raise ValueError(
                        f"route prefix {route.prefix!r} is used by both {seen[route.prefix]} and {cname}/{route.name}"
                    )
                seen[route.prefix] = f"{cname}/{route.name}"
        return self

    @model_validator(mode="after")
    def _certificates_need_client_ca(self) -> Config:
        bound = sorted(c for c, contract in self.contracts.items() if contract.client_certificates)
        tls = self.listeners.vendor.tls
        if bound and (tls is None or tls.client_ca_file is None):
            raise ValueError(
                f"contracts {', '.join(bound)} list client_certificates, so listeners.vendor.tls.client_ca_file "
                "must be set (otherwise no client certificate is ever asked for)"
            )
        owner: dict[str, str] = {}
        for cname, contract in self.contracts.items():
            for cert in contract.client_certificates:
                ident = cert.sha256 or f"CN={cert.common_name}"
                if owner.setdefault(ident, cname) != cname:
                    raise ValueError(f"client certificate {ident} is bound to both {owner[ident]} and {cname}")
        return self

    def resolve(self, path: str) -> Path:
        """Resolve a path from the config against the config file's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    @property
    def store_url(self) -> str:
        """The store URL with a relative SQLite path made absolute."""
        url = self.store.url
        if url.startswith("sqlite:///"):
            return "sqlite:///" + str(self.resolve(url.removeprefix("sqlite:///")))
        return url


def _expand_env(value: object, loc: tuple[str | int, ...], missing: list[tuple[tuple[str | int, ...], str]]) -> object:
    if isinstance(value, str):
        def sub(m: re.Match[str]) -> str:
            var = m.group(1)
            if var not in os.environ:
                missing.append((loc, var))
                return ""
            return os.environ[var]

        return _ENV_REF.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand_env(v, (*loc, k), missing) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, (*loc, i), missing) for i, v in enumerate(value)]
    return value


def _describe(error: dict[str, object]) -> str:
    msg = str(error.get("msg", "invalid"))
    msg = msg.removeprefix("Value error, ")
    kind = str(error.get("type", ""))
    if kind == "extra_forbidden":
        return "unknown field (check the spelling; see docs/configuration.md)"
    if kind == "missing":
        return "required field is missing"
    if "input" in error and kind not in ("missing",) and not isinstance(error["input"], dict | list):
        return f"{msg} (got {error['input']!r})"
    return msg


def load_config(path: Path | str) -> Config:
    """Load and validate a config file; raise :class:`ConfigError` naming file, line and field."""
    path = Path(path)
    try:
        source = load_yaml(path)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such file") from exc
    except YamlSyntaxError as exc:
        raise ConfigError(str(exc)) from exc
    if not isinstance(source.data, dict):
        raise ConfigError(f"{path}:1: expected a mapping at the top of the file")
    missing: list[tuple[tuple[str | int, ...], str]] = []
    data = _expand_env(source.data, (), missing)
    if missing:
        loc, var = missing[0]
        raise ConfigError(
            f"{source.where(loc)}: {'.'.join(map(str, loc))}: environment variable {var} is not set"
        )
    assert isinstance(data, dict)
    data["base_dir"] = path.resolve().parent
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            lines.append(f"{source.where(loc)}: {'.'.join(map(str, loc)) or '(top)'}: {_describe(dict(err))}")
        raise ConfigError("\n".join(lines)) from exc
