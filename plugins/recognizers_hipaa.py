"""HIPAA Safe Harbor identifiers Presidio lacks, with English and Spanish context, and the hook.

Record, plan, licence, account and biometric identifiers have no common shape: a hospital's MRN and a
bank's customer number are both "some letters and digits". What makes them identifiers is the label in
front ("MRN:", "nº de historia clínica", "número de afiliado"), so each recognizer here is that label
plus a generic identifier value. Where a real checksum exists (the Spanish CCC bank account) it is
used instead. Vehicles and devices live in :mod:`recognizers_hipaa_devices`, dates of birth in
:mod:`recognizers_hipaa_dates`, names (A) and addresses (B) as English text writes them in
:mod:`recognizers_en_person` and :mod:`recognizers_en_address`; this module's hook registers them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from presidio_analyzer import Pattern

from gateway.hookspecs import hookimpl

from .recognizers_common import (
    AduanaPatternRecognizer,
    after_context,
    identifier,
    per_language,
)
from .recognizers_en_address import StreetAddressRecognizer, TownInProseRecognizer
from .recognizers_en_person import DialogueSpeakerRecognizer, EnglishPersonContextRecognizer
from .recognizers_hipaa_dates import DateOfBirthRecognizer
from .recognizers_hipaa_devices import (
    ImeiRecognizer,
    SerialNumberRecognizer,
    VehiclePlateRecognizer,
    VinRecognizer,
)

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer


class MedicalRecordNumberRecognizer(AduanaPatternRecognizer):
    """MEDICAL_RECORD_NUMBER after "MRN", "medical record", "historia clínica", "NHC"…"""

    ENTITY = "MEDICAL_RECORD_NUMBER"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "record number after context",
            after_context(
                [r"mrn", r"medical\s+record(?:\s+(?:number|no|num))?", r"patient\s+(?:id|number|no)",
                 r"chart\s+(?:number|no)", r"historia(?:\s+cl[ií]nica)?", r"nhc", r"hce",
                 r"n[uú]mero\s+de\s+historia", r"expediente\s+m[eé]dico", r"paciente\s+n[º°]"],
                3,
            )
            + identifier(4, 20),
            0.7,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = [
        "mrn", "medical", "patient", "historia", "clínica", "nhc", "paciente", "hospital",
    ]


_CIP_SHAPE = r"(?-i:[A-Z]{4})[ ]?\d{4}[ ]?\d{4}[ ]?\d{4}(?![\w\-])"


class HealthPlanIdRecognizer(AduanaPatternRecognizer):
    """HEALTH_PLAN_ID: member/policy/beneficiary numbers, Spanish health cards (CIP/TSI).

    A bare CIP-shaped code (4 letters + 12 digits, ``BBBB123456789012``) scores low on its own;
    "tarjeta sanitaria", "member ID", "póliza" and the like raise it.
    """

    ENTITY = "HEALTH_PLAN_ID"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern("Spanish health card (CIP/TSI) shape", r"(?<![\w\-])" + _CIP_SHAPE, 0.35),
        Pattern(
            "plan identifier after context",
            after_context(
                [r"member(?:\s*(?:id|number|no|#))?", r"beneficiary(?:\s+(?:id|number))?",
                 r"beneficiari[oa]", r"subscriber(?:\s+(?:id|number))?", r"suscriptor",
                 r"policy(?:\s+(?:number|no|id))?", r"p[oó]liza", r"health\s+plan(?:\s+(?:id|number))?",
                 r"plan\s+id", r"insurance(?:\s+(?:id|number|no))?", r"group\s+(?:number|no)",
                 r"afiliad[oa]", r"n[uú]mero\s+de\s+afiliad[oa]", r"tarjeta\s+sanitaria",
                 r"tarjeta\s+individual\s+sanitaria", r"cip(?:-sns)?", r"tsi", r"medicare",
                 r"medicaid", r"mutua", r"aseguradora", r"asegurad[oa]", r"seguro\s+m[eé]dico"],
                3,
            )
            + r"(?:" + _CIP_SHAPE + "|" + identifier(5, 20) + ")",
            0.7,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = [
        "member", "policy", "insurance", "beneficiary", "póliza", "afiliado", "sanitaria",
        "aseguradora", "mutua",
    ]


class FaxNumberRecognizer(AduanaPatternRecognizer):
    """FAX_NUMBER: a phone-shaped number after "fax"/"telefax"/"facsímil" (7–15 digits)."""

    ENTITY = "FAX_NUMBER"
    REPLACEMENT_PAIRS = ()
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "fax after context",
            after_context([r"fax", r"telefax", r"facs[ií]mil", r"e-?fax"], 2)
            + r"(?:\+|00)?\(?\d[\d ()./\-]{5,20}\d(?![\w\-])",
            0.7,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = ["fax", "telefax", "facsímil"]

    def checksum(self, value: str) -> bool | None:
        """Reject matches that have too few or too many digits to be a phone number."""
        return None if 7 <= sum(c.isdigit() for c in value) <= 15 else False


class LicenseNumberRecognizer(AduanaPatternRecognizer):
    """LICENSE_NUMBER: driver's licences, professional registrations ("nº de colegiado"), certificates."""

    ENTITY = "LICENSE_NUMBER"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "licence or certificate number after context",
            after_context(
                [r"driver'?s?\s+licen[cs]e", r"driving\s+licen[cs]e", r"licen[cs]e(?!\s+plate)",
                 r"licencia", r"permiso\s+de\s+conducir", r"carn[eé]t?\s+de\s+conducir",
                 r"colegiad[oa]", r"n[º°]\s*(?:de\s+)?colegiad[oa]", r"certificate",
                 r"certificado", r"cert\.?\s+(?:no|n[º°])", r"registration\s+(?:no|number)",
                 r"board\s+certification"],
                3,
            )
            + identifier(5, 20),
            0.6,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = [
        "license", "licence", "licencia", "conducir", "colegiado", "certificate", "certificado",
    ]


class AccountNumberRecognizer(AduanaPatternRecognizer):
    """ACCOUNT_NUMBER: bank or customer account numbers after "account", "cuenta", "nº de cliente"…

    An IBAN after "cuenta" is left to the IBAN recognizer (its checksum is stronger).
    """

    ENTITY = "ACCOUNT_NUMBER"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "account number after context",
            after_context(
                [r"account(?:\s+(?:number|no|num))?", r"acct", r"a/c", r"cuenta", r"cta",
                 r"n[º°]\s*de\s*cuenta", r"n[uú]mero\s+de\s+cuenta", r"customer(?:\s+(?:number|id|no))?",
                 r"client(?:e)?(?:\s+(?:number|id|n[º°]))?", r"n[º°]\s*de\s*cliente",
                 r"n[uú]mero\s+de\s+cliente", r"socio", r"abonado", r"contrato"],
                2,
            )
            + r"(?![A-Za-z]{2}[ ]?\d{2})"
            + identifier(5, 34),
            0.5,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = [
        "account", "acct", "cuenta", "cliente", "customer", "socio", "abonado", "contrato",
    ]


def _ccc_digit(digits: str) -> int:
    """Return one control digit of a Spanish CCC (weights 1, 2, 4, 8, 5, 10, 9, 7, 3, 6; mod 11)."""
    weights = (1, 2, 4, 8, 5, 10, 9, 7, 3, 6)
    remainder = 11 - sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    return {11: 0, 10: 1}.get(remainder, remainder)


class SpanishBankAccountRecognizer(AduanaPatternRecognizer):
    """ACCOUNT_NUMBER: a Spanish CCC (entity, branch, two control digits, account: 20 digits)."""

    ENTITY = "ACCOUNT_NUMBER"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "CCC",
            r"(?<![\w.,\-])(?<!\d[ .\-])\d{4}[ \-]?\d{4}[ \-]?"
            r"(?:\d{2}[ \-]?\d{10}|\d{4}[ \-]?\d{4}[ \-]?\d{4})(?![\w\-]|[ .,]\d)",
            0.5,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = ["cuenta", "ccc", "banco", "account", "bank"]

    def checksum(self, value: str) -> bool | None:
        """Check both control digits: one over entity and branch, one over the account number."""
        if len(value) != 20 or not value.isdigit():
            return False
        return (
            _ccc_digit("00" + value[:8]) == int(value[8])
            and _ccc_digit(value[10:]) == int(value[9])
        )


class BiometricIdRecognizer(AduanaPatternRecognizer):
    """BIOMETRIC_ID: template or record identifiers after "fingerprint", "iris", "huella"…"""

    ENTITY = "BIOMETRIC_ID"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "biometric identifier after context",
            after_context(
                [r"fingerprint", r"finger\s+print", r"retina", r"retinal", r"iris", r"voiceprint",
                 r"voice\s+print", r"huella(?:\s+(?:dactilar|digital|de\s+voz))?",
                 r"biometric", r"biom[eé]tric[oa]s?", r"face\s*id", r"facial", r"palm\s+print"],
                3,
            )
            + identifier(6, 128),
            0.6,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = [
        "fingerprint", "retina", "iris", "voiceprint", "huella", "biometric", "biométrico",
    ]


@hookimpl(trylast=True)
def aduana_register_recognizers() -> list[EntityRecognizer]:
    """Register the HIPAA Safe Harbor recognizers (identifiers, vehicles, devices, dates, names, places)."""
    return per_language(
        (
            MedicalRecordNumberRecognizer,
            HealthPlanIdRecognizer,
            FaxNumberRecognizer,
            LicenseNumberRecognizer,
            AccountNumberRecognizer,
            SpanishBankAccountRecognizer,
            BiometricIdRecognizer,
            VinRecognizer,
            VehiclePlateRecognizer,
            ImeiRecognizer,
            SerialNumberRecognizer,
            DateOfBirthRecognizer,
            StreetAddressRecognizer,
            TownInProseRecognizer,
            EnglishPersonContextRecognizer,
            DialogueSpeakerRecognizer,
        )
    )
