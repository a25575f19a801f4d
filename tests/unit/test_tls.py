"""The vendor listener's TLS context and configuration: clear errors naming the field, the enforced floor
and client-certificate mode, and the peer certificate authentication sees (``gateway/server/tls.py``,
``gateway/proxy/peer.py``). The handshakes themselves are tested end to end in ``tests/e2e/test_tls.py``."""

from __future__ import annotations

import os
import ssl
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from pki import Pki, make_pki, tls_config

from gateway.cli import main
from gateway.config import TLSConfig, load_config
from gateway.errors import AuthenticationError, ConfigError
from gateway.proxy.peer import PeerCertificate
from gateway.server.tls import server_context


def test_peer_certificate_reads_names_and_fingerprint(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    peer = PeerCertificate.from_der(pki.acme.cert.public_bytes(serialization.Encoding.DER))
    assert peer.common_name == "acme-agent"
    assert peer.sans == ("acme-agent.vendor.example", "acme-agent@vendor.example")
    assert peer.sha256 == pki.acme.sha256 and len(peer.sha256) == 64 and peer.short == pki.acme.sha256[:16]
    with pytest.raises(AuthenticationError):
        PeerCertificate.from_der(b"\x30\x03\x02\x01\x00")


def test_a_connection_certificate_is_parsed_once_and_a_bad_one_refused_every_time(tmp_path: Path) -> None:
    from gateway.proxy.peer import _parsed

    der = make_pki(tmp_path).acme.cert.public_bytes(serialization.Encoding.DER)
    assert _parsed(der) is _parsed(bytes(der))  # the same certificate on the next request: no second parse
    for _ in range(2):  # a refusal is not remembered as anything else
        with pytest.raises(AuthenticationError):
            _parsed(b"\x30\x03\x02\x01\x00")


# --- clear errors for bad TLS configuration -----------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki-config"))


def _tls(pki: Pki, **fields: Any) -> TLSConfig:
    values = {"cert_file": str(pki.server.cert_path), "key_file": str(pki.server.key_path),
              "client_ca_file": str(pki.ca.cert_path), **fields}
    return TLSConfig.model_validate(values)


@pytest.mark.parametrize(
    ("what", "fields", "message"),
    [
        ("missing certificate", {"cert_file": "/nonexistent/server.crt"}, r"tls\.cert_file: .*no such file"),
        ("missing key", {"key_file": "/nonexistent/server.key"}, r"tls\.key_file: .*no such file"),
        ("missing CA bundle", {"client_ca_file": "/nonexistent/ca.crt"}, r"tls\.client_ca_file: .*no such file"),
        ("key of another certificate", {"key_file": "acme.key"}, r"tls\.key_file: .*does not match cert_file"),
        ("a key where the certificate goes", {"cert_file": "server.key"}, r"tls\.cert_file/key_file: .*not a PEM"),
        ("a key where the CA bundle goes", {"client_ca_file": "server.key"}, r"tls\.client_ca_file: "),
    ],
)
def test_bad_tls_files_stop_start_up_naming_the_field(pki: Pki, what: str, fields: dict[str, str],
                                                      message: str) -> None:
    folder = pki.ca.cert_path.parent
    resolved = {k: str(folder / v) if not v.startswith("/") else v for k, v in fields.items()}
    with pytest.raises(ConfigError, match=message):
        server_context(_tls(pki, **resolved), Path)


def test_an_unreadable_key_is_named(pki: Pki, tmp_path: Path) -> None:
    locked = tmp_path / "locked.key"
    locked.write_bytes(pki.server.key_path.read_bytes())
    locked.chmod(0)
    if os.geteuid() == 0:
        pytest.skip("root reads any file: nothing to refuse")
    with pytest.raises(ConfigError, match=r"tls\.key_file: .*cannot be read"):
        server_context(_tls(pki, key_file=str(locked)), Path)


def test_the_context_enforces_the_configured_floor_and_client_mode(pki: Pki) -> None:
    assert server_context(_tls(pki), Path).minimum_version == ssl.TLSVersion.TLSv1_2
    assert server_context(_tls(pki), Path).verify_mode == ssl.CERT_OPTIONAL
    strict = server_context(_tls(pki, require_client_cert=True, min_version="TLSv1.3"), Path)
    assert (strict.minimum_version, strict.verify_mode) == (ssl.TLSVersion.TLSv1_3, ssl.CERT_REQUIRED)
    assert server_context(_tls(pki, client_ca_file=None), Path).verify_mode == ssl.CERT_NONE


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["listeners"]["vendor"]["tls"].pop("client_ca_file"),
         r"listeners\.vendor\.tls: .*require_client_cert needs client_ca_file"),
        (lambda c: c["listeners"]["vendor"].pop("tls"), r"contracts acme, globex list client_certificates"),
        (lambda c: [c["contracts"][n].update(client_certificates=[{"sha256": "AB:" * 31 + "ab"}])
                    for n in ("acme", "globex")], r"client certificate (ab){32} is bound to both acme and globex"),
        (lambda c: c["contracts"]["acme"].update(client_certificates=[{"sha256": "zz"}]), r"expected 64 hex digits"),
        (lambda c: c["contracts"]["acme"].update(client_certificates=[{}]), r"exactly one of sha256 or common_name"),
        (lambda c: c["listeners"]["admin"].update(tls={"cert_file": "x", "key_file": "y"}), r"admin\.tls: unknown"),
    ],
)
def test_config_mistakes_name_the_field(pki: Pki, tmp_path: Path, change: Any, message: str) -> None:
    config = tls_config("http://127.0.0.1:9", pki, require=True)
    change(config)
    path = tmp_path / "aduana.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_serve_refuses_to_start_with_a_key_that_does_not_match(pki: Pki, tmp_path: Path) -> None:
    config = tls_config("http://127.0.0.1:9", pki, require=True)
    config["listeners"]["vendor"]["tls"]["key_file"] = str(pki.acme.key_path)
    path = tmp_path / "aduana.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = CliRunner().invoke(main, ["serve", "--check-only", "--config", str(path)])
    assert result.exit_code == 2, result.output
    assert "listeners.vendor.tls.key_file" in result.output and "does not match" in result.output
    # Refused before the store or the keys were touched.
    assert not (tmp_path / "state" / "aduana.db").exists() and not (tmp_path / "state" / "master.key").exists()
