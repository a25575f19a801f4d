"""Secrets pasted into tickets: passwords, API keys and tokens, PEM private keys.

A secret is never personal data a vendor needs, so these are broad on purpose: the value after
"password:"/"contraseña:", the published shapes of common provider keys, any long high-entropy token
after "api key"/"token"/"secret", and a whole ``-----BEGIN … PRIVATE KEY-----`` block.
Regexes here are case-sensitive unless marked: key prefixes (``AKIA``, ``ghp_``) are exact.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from presidio_analyzer import Pattern

from gateway.hookspecs import hookimpl

from .recognizers_common import AduanaPatternRecognizer, per_language, shannon_entropy

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer

_CREDENTIAL_LABELS = (
    r"(?i:password|passwd|pass|pwd|pw|passcode|passphrase|contrase(?:ñ|n)a|clave(?:\s+de\s+acceso)?|"
    r"clave\s+temporal|nueva\s+clave|new\s+password|temporary\s+password)"
)
_NB = r"(?<![^\W\d_])"
# Trailing sentence punctuation and a closing quote are not part of the value ("password: hunter2.").
_VALUE_END = r"(?=[\"']?[.,;:)\]}]*(?:\s|\Z))"


class PasswordRecognizer(AduanaPatternRecognizer):
    """PASSWORD: the value after "password:", "pwd=", "contraseña:", "clave:", or "… es/is <value>"."""

    ENTITY = "PASSWORD"
    REPLACEMENT_PAIRS = ()
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "value after password: / password=",
            rf"(?<={_NB}{_CREDENTIAL_LABELS}[\"']?[ \t]*[:=][ \t]*[\"']?)[^\s\"']+?" + _VALUE_END,
            0.8,
        ),
        Pattern(
            "value after password is / contraseña es",
            rf"(?<={_NB}{_CREDENTIAL_LABELS}(?:[ \t]+(?i:nueva|new|temporal|temporary|actual|current))?"
            r"[ \t]+(?i:is|es|era|was|ser[aá]|will\s+be)[ \t]+[\"']?)"
            r"(?=\S*[\d!@#$%^&*_+=?~<>|\\])[^\s\"']{6,}?" + _VALUE_END,
            0.6,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = ["password", "contraseña", "clave", "pwd", "passcode"]


_KNOWN_KEYS = (
    r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}",  # Stripe secret / restricted keys
    r"(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}",  # AWS access key ids
    r"gh[pousr]_[A-Za-z0-9]{36,255}",  # GitHub tokens
    r"github_pat_[A-Za-z0-9_]{22,255}",
    r"glpat-[A-Za-z0-9_\-]{20,}",  # GitLab
    r"xox[abposr]-[A-Za-z0-9\-]{10,}",  # Slack
    r"AIza[0-9A-Za-z_\-]{35}",  # Google API keys
    r"sk-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_\-]{20,}",  # OpenAI / Anthropic
    r"SG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{16,64}",  # SendGrid
    r"npm_[A-Za-z0-9]{36}",
    r"shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}",  # Shopify
)
_KEY_LABELS = (
    r"(?i:api[ _\-]?key|apikey|api[ _\-]?token|access[ _\-]?token|auth[ _\-]?token|refresh[ _\-]?token|"
    r"token|secret(?:[ _\-]?key)?|client[ _\-]?secret|access[ _\-]?key|private[ _\-]?token|bearer|"
    r"authorization|x-api-key|clave\s+(?:de\s+(?:la\s+)?)?api|clave\s+secreta|secreto)"
)
#: Below this many bits per character a "token" is a word, a UUID-like id or a placeholder.
MIN_TOKEN_ENTROPY = 3.0


class ApiKeyRecognizer(AduanaPatternRecognizer):
    """API_KEY: provider key shapes (Stripe, AWS, GitHub, Slack, Google…), JWTs, and long
    high-entropy tokens after "api key", "token", "secret", "Bearer".
    """

    ENTITY = "API_KEY"
    REPLACEMENT_PAIRS = ()
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "known provider key",
            r"(?<![\w\-])(?-i:" + "|".join(_KNOWN_KEYS) + r")(?![\w\-])",
            0.85,
        ),
        Pattern(
            "JSON Web Token",
            r"(?<![\w\-])(?-i:eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,})(?![\w\-])",
            0.85,
        ),
        Pattern(
            "token after context",
            rf"(?<={_NB}{_KEY_LABELS}[\"']?(?:[ \t]*[:=][ \t]*|[ \t]+(?i:is|es)[ \t]+|[ \t]+)"
            r"(?i:bearer[ \t]+|token[ \t]+|basic[ \t]+)?[\"']?)"
            r"(?-i:[A-Za-z0-9_\-+/=.~]{20,})(?![\w\-+/=.~])",
            0.6,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = ["apikey", "api", "token", "secret", "bearer"]

    def invalidate_result(self, pattern_text: str) -> bool | None:
        """Drop low-entropy values ("xxxxxxxxxxxxxxxxxxxxxxxx", "my-very-long-variable-name")."""
        return shannon_entropy(pattern_text) < MIN_TOKEN_ENTROPY


class PrivateKeyRecognizer(AduanaPatternRecognizer):
    """PRIVATE_KEY: a PEM/PGP private key block, BEGIN line to END line, or to where a pasted
    block was cut off.
    """

    ENTITY = "PRIVATE_KEY"
    REPLACEMENT_PAIRS = ()
    _BEGIN = r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "private key block",
            r"(?-i:" + _BEGIN + r"(?s:.*?)-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----)",
            1.0,
        ),
        Pattern(
            "truncated private key block",
            r"(?-i:" + _BEGIN
            + r"(?:[ \t]*(?:\r?\n|\\n)(?:[A-Za-z\-]+:[^\n]*|[ \t]*[A-Za-z0-9+/]{16,}={0,2}|[ \t]*))+)",
            0.9,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = ["private", "privada", "pem", "ssh", "rsa"]


@hookimpl(trylast=True)
def aduana_register_recognizers() -> list[EntityRecognizer]:
    """Register the password, API key and private key recognizers, once per language."""
    return per_language(
        (
            PasswordRecognizer,
            ApiKeyRecognizer,
            PrivateKeyRecognizer,
        )
    )
