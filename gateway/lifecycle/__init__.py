"""A contract's life after it starts: retention, legal hold, and termination with a signed certificate.

- ``state``: the ``contract_state`` row (active / terminating / terminated, legal hold) and the per-request
  check that refuses a terminated contract;
- ``hold``: legal hold and its release;
- ``rules``: a contract's retention periods and packs, folded over its routes;
- ``sweeper``: the retention sweeper (in ``aduana serve`` and ``aduana sweep``);
- ``termination``: the resumable termination state machine;
- ``handover``: the encrypted token→value bundle for the company;
- ``certificate``: the signed destruction certificate and its checks.

docs/lifecycle.md describes them for operators and auditors.
"""
