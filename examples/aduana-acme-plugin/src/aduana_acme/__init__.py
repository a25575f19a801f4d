"""ACME Corp's Aduana plugin: ACME order and customer numbers, and an audit webhook.

Installed next to Aduana (``pip install aduana-acme``), it is found through the ``aduana`` entry point;
``aduana plugins list`` shows it as ``acme``.
"""

__version__ = "1.0.0"
