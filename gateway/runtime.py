"""The long-lived parts one gateway process (or one CLI command) works with, opened from the config.

``open_runtime`` is the single place that turns a config into an open store, a checked key ring and a
loaded plugin manager, in an order that fails before anything is written: the master key is read before
the store is opened, a missing SQLite file is not created, the schema and the keys are checked by
reading only. A wrong or missing key therefore stops start-up with a clear error and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.config import Config
from gateway.errors import ConfigError
from gateway.keys.keyring import KeyRing
from gateway.keys.provider import KeyProvider
from gateway.pluginmanager import Plugins, load_plugins
from gateway.store import Database, open_database
from gateway.store.migrations import check_current


@dataclass
class Runtime:
    config: Config
    plugins: Plugins
    db: Database
    keyring: KeyRing

    def close(self) -> None:
        self.db.close()


def key_provider(config: Config, plugins: Plugins) -> KeyProvider:
    """The master-key provider the config names (built-in schemes are plugins too)."""
    source = config.keys.master_key
    scheme, _, rest = source.partition(":")
    if scheme == "file":
        source = "file:" + str(config.resolve(rest))
    provider = plugins.key_provider(source)
    if provider is None:
        raise ConfigError(f"keys.master_key: no key provider handles {scheme!r} (built in: file:, env:)")
    return provider


def open_runtime(config: Config, *, plugins: Plugins | None = None, check_schema: bool = True) -> Runtime:
    """Open store and keys for ``config``; raise a clear error and touch nothing if either is wrong."""
    plugins = plugins or load_plugins(config.plugins)
    provider = key_provider(config, plugins)
    master = provider.master_key()
    db = open_database(config.store_url, create=not check_schema, sqlite_synchronous=config.store.sqlite.synchronous)
    try:
        if check_schema:
            check_current(db)
        # The provider is re-read only when the store's master changed under a running gateway.
        keyring = KeyRing(db, master, source=provider.master_key)
        if check_schema:
            keyring.check()
    except BaseException:
        db.close()
        raise
    return Runtime(config=config, plugins=plugins, db=db, keyring=keyring)
