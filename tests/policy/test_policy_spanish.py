"""Spanish is first-class: language detected per field, Spanish identifiers, names in Spanish contexts."""

from __future__ import annotations

import pytest

from gateway.policy.loader import PackLibrary
from gateway.policy.merge import EffectivePolicy
from gateway.policy.sandbox import Sandbox


@pytest.fixture(scope="module")
def policy(library: PackLibrary) -> EffectivePolicy:
    return library.effective(["gdpr", "hipaa", "pci-dss"])


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("Me llamo Andrés Gómez Pardo y tengo un problema con mi pedido.", ["Andrés", "Gómez", "Pardo"]),
        ("Estimado Sr. Ramírez: le escribimos por su pedido.", ["Ramírez"]),
        ("Buenas tardes, soy Dña. Pilar Ortega Ruiz.", ["Pilar", "Ortega", "Ruiz"]),
        ("Atentamente,\nD. José Luis Medina", ["José Luis", "Medina"]),
        ("Un saludo,\nMaría del Carmen Vidal", ["María", "Carmen", "Vidal"]),
        ("Saludos cordiales,\nIñaki Etxeberria", ["Iñaki", "Etxeberria"]),
        ("Hola, me llamo Feliciana Cantón Amaya y soy cliente desde hace años.", ["Feliciana", "Cantón", "Amaya"]),
        ("Mi DNI es 12345678Z y mi NIE Y2345678Z.", ["12345678Z", "Y2345678Z"]),
        ("Mi número de la Seguridad Social es 28 12345678 40.", ["12345678"]),
        ("CIF de la empresa: B12345674.", ["B12345674"]),
        ("Llámeme al 612 345 678 o al +34 91 123 45 67.", ["612 345 678", "123 45 67"]),
        ("La cuenta es ES91 2100 0418 4502 0005 1332.", ["2100 0418", "0005 1332"]),
        ("Vivo en Calle Mayor 12, 3º B, 28013 Madrid.", ["Calle Mayor", "28013"]),
        ("Nací el 3 de marzo de 1985.", ["3 de marzo"]),
        ("Escríbanme a lucia.fernandez@example.org por favor.", ["lucia.fernandez"]),
    ],
)
def test_spanish_personal_data_is_hidden(sandbox: Sandbox, policy: EffectivePolicy, text: str,
                                        hidden: list[str]) -> None:
    result = sandbox.protect_text(policy, text)
    assert result.languages == {"body": "es"}
    assert result.output is not None
    for value in hidden:
        assert value not in result.output, (value, result.output)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hola, me llamo Rocío y necesito ayuda con mi pedido.", "es"),
        ("Buenos días: ¿pueden cambiar la dirección de envío?", "es"),
        ("Customer called about the delivery, she was polite.", "en"),
        ("Hi team, the order never arrived. Thanks!", "en"),
    ],
)
def test_language_per_field_in_a_json_body(sandbox: Sandbox, policy: EffectivePolicy, text: str,
                                           expected: str) -> None:
    body = {"subject": "Ticket 1042", "comments": [{"body": text}]}
    result = sandbox.protect_json(policy, body)
    assert result.languages["$.comments[0].body"] == expected


def test_mixed_ticket_gets_both_languages(sandbox: Sandbox, policy: EffectivePolicy) -> None:
    body = {"description": "Hola, me llamo Rocío Vázquez y mi DNI es 12345678Z.",
            "internal_note": "Customer Rocío Vázquez called twice about her refund."}
    result = sandbox.protect_json(policy, body)
    assert result.languages == {"$.description": "es", "$.internal_note": "en"}
    out = result.output_json
    assert "Vázquez" not in out["description"] and "12345678Z" not in out["description"]
    assert "Vázquez" not in out["internal_note"]


@pytest.mark.parametrize("text", ["Hola Marta,\n\nGracias por escribirnos.", "Buenas tardes, ¿me pueden ayudar?"])
def test_spanish_greeting_words_are_not_names(sandbox: Sandbox, policy: EffectivePolicy, text: str) -> None:
    result = sandbox.protect_text(policy, text)
    for word in ("Gracias", "Buenas"):
        assert all(f.text != word for f in result.findings)
