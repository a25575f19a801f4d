"""A small PKI made by the tests with pyca/cryptography: a CA, the gateway's server certificate (SAN IP
127.0.0.1), client certificates per contract, a foreign CA's look-alike and an expired one."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from harness import gateway_config

NOW = dt.datetime.now(dt.UTC)



@dataclass
class Issued:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    cert_path: Path
    key_path: Path

    @property
    def sha256(self) -> str:
        return self.cert.fingerprint(hashes.SHA256()).hex()


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Aduana tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(folder: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Issued:
    cert_path, key_path = folder / f"{stem}.crt", folder / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return Issued(cert, key, cert_path, key_path)


def make_ca(folder: Path, stem: str) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder().subject_name(_name(stem)).issuer_name(_name(stem))
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return _write(folder, stem, cert, key)


def issue(ca: Issued, folder: Path, stem: str, cn: str, *, server: bool = False,
          valid: tuple[dt.datetime, dt.datetime] | None = None) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    start, end = valid or (NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=30))
    sans: list[x509.GeneralName] = (
        [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")] if server
        else [x509.DNSName(f"{cn}.vendor.example"), x509.RFC822Name(f"{cn}@vendor.example")]
    )
    cert = (
        x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(ca.cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server
                                              else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return _write(folder, stem, cert, key)


@dataclass
class Pki:
    ca: Issued
    server: Issued
    acme: Issued
    globex: Issued
    foreign: Issued  # acme's common name, from a CA the gateway does not trust
    expired: Issued  # from the trusted CA, bound to acme by fingerprint, out of date
    unbound: Issued  # from the trusted CA, bound to no contract

    def client(self, who: Issued | None = None) -> ssl.SSLContext:
        """What a vendor's client uses: trusts our CA for the server, presents ``who``'s certificate."""
        context = ssl.create_default_context(cafile=str(self.ca.cert_path))
        if who is not None:
            context.load_cert_chain(who.cert_path, who.key_path)
        return context


def make_pki(folder: Path) -> Pki:
    folder.mkdir(parents=True, exist_ok=True)
    ca = make_ca(folder, "aduana-test-ca")
    foreign_ca = make_ca(folder, "foreign-ca")
    return Pki(
        ca=ca,
        server=issue(ca, folder, "server", "gateway.test", server=True),
        acme=issue(ca, folder, "acme", "acme-agent"),
        globex=issue(ca, folder, "globex", "globex-agent"),
        foreign=issue(foreign_ca, folder, "foreign", "acme-agent"),
        expired=issue(ca, folder, "expired", "acme-old",
                      valid=(NOW - dt.timedelta(days=60), NOW - dt.timedelta(days=30))),
        unbound=issue(ca, folder, "unbound", "nobody"),
    )


def tls_config(upstream: str, pki: Pki, *, require: bool) -> dict[str, Any]:
    config = gateway_config(upstream)
    config["listeners"]["vendor"]["tls"] = {
        "cert_file": str(pki.server.cert_path), "key_file": str(pki.server.key_path),
        "client_ca_file": str(pki.ca.cert_path), "require_client_cert": require,
    }
    # acme binds one certificate by fingerprint (the expired one too); globex binds by common name.
    config["contracts"]["acme"]["client_certificates"] = [{"sha256": pki.acme.sha256},
                                                          {"sha256": pki.expired.sha256}]
    config["contracts"]["globex"]["client_certificates"] = [{"common_name": "globex-agent"}]
    return config
