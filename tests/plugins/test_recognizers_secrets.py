"""Secret recognizers analysed directly, and every built-in pattern recognizer against benign text."""

from __future__ import annotations

import pytest
from presidio_analyzer import EntityRecognizer

from gateway.plugins import (
    recognizers_es,
    recognizers_hipaa,
    recognizers_pci,
    recognizers_secrets,
)
from gateway.plugins.recognizers_secrets import (
    ApiKeyRecognizer,
    PasswordRecognizer,
    PrivateKeyRecognizer,
)

THRESHOLD = 0.4

# Documentation example values only (AWS's published example key, Stripe's docs key, jwt.io's).
AWS_EXAMPLE = "AKIAIOSFODNN7EXAMPLE"
STRIPE_EXAMPLE = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
JWT_EXAMPLE = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
    "-----END RSA PRIVATE KEY-----"
)


def found(recognizer: EntityRecognizer, text: str) -> list[str]:
    results = recognizer.analyze(text, recognizer.supported_entities, None)
    return sorted(text[r.start : r.end] for r in results if r.score >= THRESHOLD)


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("password: hunter2.", ["hunter2"]),
        ("Password=S3cr3t!x", ["S3cr3t!x"]),
        ("pwd: Tr0ub4dor&3", ["Tr0ub4dor&3"]),
        ("mi contraseña: Perro_2024 y el usuario ana", ["Perro_2024"]),
        ("contraseña es Verano2024!", ["Verano2024!"]),
        ("clave: abc123", ["abc123"]),
        ('{"password": "p4ss-w0rd"}', ["p4ss-w0rd"]),
        ("my new password is Blue#Sky77", ["Blue#Sky77"]),
        ("la contraseña temporal es Xk9!mPq2", ["Xk9!mPq2"]),
    ],
)
def test_password_found(language: str, text: str, expected: list[str]) -> None:
    assert found(PasswordRecognizer(supported_language=language), text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "my password is expired",
        "olvidé la contraseña",
        "password reset link sent",
        "la contraseña es incorrecta",
        "password:",
    ],
)
def test_password_rejected(text: str) -> None:
    assert found(PasswordRecognizer(), text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"key {STRIPE_EXAMPLE}", [STRIPE_EXAMPLE]),
        (f"aws_access_key_id = {AWS_EXAMPLE}", [AWS_EXAMPLE]),
        ("token ghp_16C7e42F292c6912E7710c838347Ae178B4a", ["ghp_16C7e42F292c6912E7710c838347Ae178B4a"]),
        ("slack xoxb-123456789012-abcdefABCDEF1234", ["xoxb-123456789012-abcdefABCDEF1234"]),
        ("AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe", ["AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe"]),
        (f"Authorization: Bearer {JWT_EXAMPLE}", [JWT_EXAMPLE]),
        ("api key: 9f8e7d6c5b4a39281706f5e4d3c2b1a0", ["9f8e7d6c5b4a39281706f5e4d3c2b1a0"]),
        ("client_secret=Zq8vN2xR7tLw4Yp1Kc6Hs3Jd9Fg5Bm0", ["Zq8vN2xR7tLw4Yp1Kc6Hs3Jd9Fg5Bm0"]),
        ("la clave de la API es Qw3Er5Ty7Ui9Op1As2Df4", ["Qw3Er5Ty7Ui9Op1As2Df4"]),
    ],
)
def test_api_key_found(text: str, expected: list[str]) -> None:
    assert found(ApiKeyRecognizer(supported_language="es"), text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "token xxxxxxxxxxxxxxxxxxxxxxxxxxxx",  # no entropy
        "the token expired yesterday",
        "secret: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "akiaiosfodnn7example",  # AWS ids are upper case
        "sk_live_short",
        "pedido 123456789012345678901234",
    ],
)
def test_api_key_rejected(text: str) -> None:
    assert found(ApiKeyRecognizer(), text) == []


def test_private_key_block_is_taken_whole() -> None:
    text = f"Os paso la clave:\n{PEM}\nGracias"
    assert found(PrivateKeyRecognizer(), text) == [PEM]


def test_truncated_private_key_is_taken_to_where_it_stops() -> None:
    cut = PEM.rsplit("\n", 2)[0]  # BEGIN line and the first base64 line only
    found_spans = found(PrivateKeyRecognizer(), f"{cut}\nThanks")
    assert len(found_spans) == 1
    assert found_spans[0].strip() == cut


def test_public_key_is_not_a_private_key() -> None:
    text = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1Lf\n-----END PUBLIC KEY-----"
    assert found(PrivateKeyRecognizer(), text) == []


# --- every pattern recognizer against text with no personal data ----------------------------------------

BENIGN = [
    "Hola, buenos días. El pedido 123456 por 117,19 € llegó roto; el 612345 tampoco.",
    "Factura 2023-000123, importe 1.234,56 EUR (IVA 21%), vence el día 30.",
    "Versión 2.4.1 del software, build 20240312, incidencia INC-334960, 10:30 h.",
    "Pedido #1234567890123 enviado el 12/03 con seguimiento 1Z999AA10123456784.",
    "Order 987654321 shipped; total 45.90 USD; ticket 4455; room 12B.",
    "Compré 3 unidades a 39,99 € y 2 a 12,50 €; en total 5 artículos.",
    "Nos vemos a las 9. El código del descuento es VERANO y la talla 42.",
]
PATTERN_PLUGINS = (recognizers_es, recognizers_pci, recognizers_hipaa, recognizers_secrets)


@pytest.mark.parametrize("text", BENIGN)
def test_benign_text_yields_no_identifier(text: str) -> None:
    findings = []
    for plugin in PATTERN_PLUGINS:
        for recognizer in plugin.aduana_register_recognizers():
            if recognizer.supported_language != "es":
                continue
            for result in recognizer.analyze(text, recognizer.supported_entities, None):
                if result.score >= THRESHOLD:
                    findings.append((result.entity_type, text[result.start : result.end]))
    assert findings == []
