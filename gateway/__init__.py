"""Aduana: a data-governance gateway between a company's support systems and its outsourced vendors."""

import os as _os

__version__ = "0.1.0"

# Presidio's email and URL recognizers use tldextract, which downloads the public suffix list on first
# use unless this is empty; then it uses the snapshot it ships. Aduana makes no connection at run time
# except to configured upstreams, so this must be set before tldextract is first imported.
_os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
