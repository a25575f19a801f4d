"""The Aduana demo: a helpdesk, the gateway in front of it, a scripted vendor and an auditor.

Run with ``make demo``. Everything runs on loopback with an embedded SQLite store under ``.demo/``
(recreated on each run). The demo checks its own story: if any step does not behave as told, it says
which and exits non-zero.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

ROOT = Path(__file__).resolve().parents[2]
# Where the demo keeps its store, keys, logs and exports (recreated on each run).
STATE = Path(os.environ.get("ADUANA_DEMO_DIR", ROOT / ".demo")).resolve()
BIN = Path(sys.executable).parent
ADUANA = [str(BIN / "aduana")] if (BIN / "aduana").exists() else [sys.executable, "-m", "gateway.cli"]
HELPDESK_TOKEN = "helpdesk-demo-token"

console = Console(highlight=False, width=110)
failures: list[str] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def step(title: str) -> None:
    console.print()
    console.rule(f"[bold cyan]{title}")


def expect(condition: bool, what: str) -> None:
    mark = "[green]✔[/]" if condition else "[bold red]✘[/]"
    console.print(f"  {mark} {what}")
    if not condition:
        failures.append(what)


def aduana(*args: str, capture: bool = False) -> str:
    env = {**os.environ, "ADUANA_CONFIG": str(STATE / "aduana.yaml")}
    result = subprocess.run([*ADUANA, *args], env=env, capture_output=True, text=True)
    if result.returncode not in (0,):
        console.print(f"[red]$ aduana {' '.join(args)} failed ({result.returncode})[/]\n{result.stderr}")
        raise SystemExit(1)
    if not capture and result.stdout.strip():
        for line in result.stdout.strip().splitlines():
            console.print(f"  [dim]{line}[/]")
    return result.stdout


def http(method: str, url: str, *, key: str | None = None, body: Any = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    data = None
    hdrs = dict(headers or {})
    if key:
        hdrs["Authorization"] = f"Bearer {key}"
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            raw = resp.read()
            status, resp_headers = resp.status, dict(resp.headers)
    except urllib.error.HTTPError as err:
        raw, status, resp_headers = err.read(), err.code, dict(err.headers)
    try:
        return status, resp_headers, json.loads(raw)
    except ValueError:
        return status, resp_headers, raw.decode(errors="replace")


def wait_ready(url: str, proc: subprocess.Popen[bytes], what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited early with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise SystemExit(f"{what} did not become ready within {timeout:.0f}s")


def write_config(helpdesk_port: int, vendor_port: int, admin_port: int) -> None:
    paths = [
        "/api/tickets", "/api/tickets/{id}", "/api/tickets/{id}/comments", "/api/tickets/{id}/summary.txt",
        "/api/tickets/{id}/attachment", "/api/tickets/{id}/email", "/api/customers",
    ]
    route = {
        "name": "helpdesk", "prefix": "/helpdesk", "upstream": f"http://127.0.0.1:{helpdesk_port}",
        "methods": ["GET", "POST"], "paths": paths,
        # The helpdesk's own credential lives here (read from the environment), never with the vendor.
        "upstream_headers": {"Authorization": "Bearer ${HELPDESK_API_TOKEN}"},
    }
    config = {
        "listeners": {"vendor": {"host": "127.0.0.1", "port": vendor_port},
                      "admin": {"host": "127.0.0.1", "port": admin_port}},
        "store": {"url": "sqlite:///aduana.db"},
        "keys": {"master_key": "file:master.key"},
        "inspection": {"workers": 1, "timeout_seconds": 30},
        "logging": {"level": "info", "file": "aduana.log"},
        "contracts": {
            "acme-support": {"vendor": "Acme Contact Center", "policy_packs": ["hipaa", "pci-dss", "gdpr"],
                             "routes": [route]},
            "globex-billing": {"vendor": "Globex Outsourcing", "policy_packs": ["gdpr"],
                               "routes": [{**route, "name": "billing", "prefix": "/billing",
                                           "methods": ["GET"]}]},
        },
    }
    import yaml

    (STATE / "aduana.yaml").write_text(
        "# Written by the demo. See docs/configuration.md for every field.\n" + yaml.safe_dump(config, sort_keys=False),
        encoding="utf-8",
    )


def show_ticket(before: dict[str, Any], after: dict[str, Any]) -> None:
    table = Table("field", "the helpdesk holds", "the vendor sees", show_lines=True, width=110)
    rows = [
        ("requester.name", before["requester"]["name"], after["requester"]["name"]),
        ("requester.email", before["requester"]["email"], after["requester"]["email"]),
        ("requester.phone", before["requester"]["phone"], after["requester"]["phone"]),
        ("requester.national_id", before["requester"]["national_id"], after["requester"]["national_id"]),
        ("requester.address", before["requester"]["address"], after["requester"]["address"]),
        ("payment.card_number", before["payment"]["card_number"], after["payment"]["card_number"]),
        ("payment.iban", before["payment"]["iban"], after["payment"]["iban"]),
        ("body", before["body"], after["body"]),
    ]
    for name, a, b in rows:
        table.add_row(name, str(a), str(b))
    console.print(table)


def terminate_contract(gw: str, key: str, token: str) -> None:
    """6. The contract ends: access revoked, tokens handed over to the company, data destroyed, certified."""
    step("6. The contract ends: data destroyed, a signed certificate issued")
    private, public = STATE / "company-handover-private.pem", STATE / "company-handover-public.pem"
    bundle, certificate = STATE / "acme-support.handover", STATE / "acme-support.certificate.json"
    aduana("handover", "keygen", "--private-out", str(private), "--public-out", str(public))
    console.print("  the company made a key pair for the handover (its private key stays with the company)")
    done = aduana("contract", "terminate", "acme-support", "--yes", "--handover-to", str(public), "--handover-out",
                  str(bundle), "--certificate-out", str(certificate), capture=True)
    for line in done.splitlines():
        if line.startswith("  done:"):
            console.print(f"  [dim]{line.strip()}[/]")
    cert = json.loads(certificate.read_text(encoding="utf-8"))
    destroyed = cert["destroyed"]
    table = Table("destruction certificate", "", width=110)
    for label, value in (
        ("contract / vendor", f"{cert['contract']} / {cert['vendor']}"),
        ("terminated at", cert["time"]),
        ("API keys revoked", ", ".join(cert["revoked"]["credential_ids"])),
        ("keys destroyed", "\n".join(f"{k['key_id']} ({k['purpose']} key, version {k['version']})"
                                      for k in destroyed["keys"])),
        ("vault entries destroyed", str(destroyed["records"]["vault"])),
        ("handed over to the company",
         f"{cert['handover']['entries']} entries, encrypted to key {cert['handover']['recipient']}"),
        ("audit records kept (no values)", str(cert["retained"]["audit_records"])),
        ("audit head at that moment", f"record {cert['audit_head']['seq']}, hash {cert['audit_head']['hash'][:24]}…"),
        ("policy", ", ".join(f"{p['name']} {p['version']}" for p in cert["policy"]["packs"])),
        ("signed by audit key", cert["key_id"]),
    ):
        table.add_row(label, value)
    console.print(table)
    env = {**os.environ, "ADUANA_CONFIG": str(STATE / "aduana.yaml")}
    for what, extra in (("offline, with the audit public key", ["--public-key", str(STATE / "audit-public.pem")]),
                        ("against the store: none of those keys or entries exists", ["--store"])):
        result = subprocess.run([*ADUANA, "contract", "verify-certificate", str(certificate), *extra],
                                capture_output=True, text=True, env=env)
        for line in result.stdout.strip().splitlines():
            console.print(f"  [dim]{line}[/]")
        expect(result.returncode == 0, f"the certificate verifies {what}")
    status, _, body = http("GET", f"{gw}/helpdesk/api/tickets/1004", key=key)
    reason = body.get("error", {}).get("reason") if isinstance(body, dict) else None
    expect(status == 403 and reason == "contract_terminated",
           f"the vendor's next request is refused: HTTP {status} {reason}")
    table_out = aduana("handover", "open", str(bundle), "--private-key", str(private), capture=True)
    entries = {e["token"]: e["value"] for e in (json.loads(line) for line in table_out.splitlines() if line.strip())}
    expect(len(entries) == cert["handover"]["entries"],
           f"with its private key the company can still read all {len(entries)} of the vendor's old tokens")
    if token in entries:
        console.print(f"  e.g. the token {token} in the vendor's old reply stands for {entries[token]}")


def main() -> int:
    if STATE.exists():
        shutil.rmtree(STATE)
    STATE.mkdir()
    # The operator's secret for the helpdesk: read by the config through ${HELPDESK_API_TOKEN}.
    os.environ["HELPDESK_API_TOKEN"] = HELPDESK_TOKEN
    hd_port, vendor_port, admin_port = free_port(), free_port(), free_port()
    gw = f"http://127.0.0.1:{vendor_port}"
    helpdesk_url = f"http://127.0.0.1:{hd_port}"
    procs: list[subprocess.Popen[bytes]] = []
    pythonpath = os.pathsep.join(p for p in (str(ROOT / "examples"), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "HELPDESK_API_TOKEN": HELPDESK_TOKEN, "PYTHONPATH": pythonpath}
    logs = {name: (STATE / f"{name}.out").open("wb") for name in ("helpdesk", "gateway")}
    try:
        console.print(Panel.fit(
            "[bold]Aduana demo[/]\nA company's helpdesk holds tickets full of personal data (English and Spanish).\n"
            "An outsourced contact center (the vendor) works those tickets through Aduana, under a contract\n"
            "that applies the HIPAA, PCI-DSS and GDPR policy packs.", border_style="cyan"))

        step("1. The operator sets up the gateway")
        write_config(hd_port, vendor_port, admin_port)
        console.print(f"  config: {STATE / 'aduana.yaml'}")
        aduana("config", "check", str(STATE / "aduana.yaml"))
        aduana("keys", "init")
        aduana("store", "migrate")
        procs.append(subprocess.Popen([sys.executable, "-m", "helpdesk", "--port", str(hd_port)],
                                      env=env, stdout=logs["helpdesk"], stderr=subprocess.STDOUT))
        wait_ready(f"{helpdesk_url}/healthz", procs[-1], "the helpdesk")
        procs.append(subprocess.Popen([*ADUANA, "serve", "--config", str(STATE / "aduana.yaml")],
                                      env=env, stdout=logs["gateway"], stderr=subprocess.STDOUT))
        wait_ready(f"http://127.0.0.1:{admin_port}/readyz", procs[-1], "the gateway")
        console.print(f"  helpdesk on {helpdesk_url}, gateway on {gw} (admin on :{admin_port})")
        key = aduana("vendor", "issue-key", "acme-support", capture=True).strip()
        console.print(f"  issued the vendor an API key: {key[:14]}… (shown once; only a keyed hash is stored)")

        step("2. The vendor fetches tickets: personal data is tokenized or masked")
        for ticket_id in (1004, 1001):
            status, _, before = http("GET", f"{helpdesk_url}/api/tickets/{ticket_id}",
                                     headers={"Authorization": f"Bearer {HELPDESK_TOKEN}"})
            status, headers, after = http("GET", f"{gw}/helpdesk/api/tickets/{ticket_id}", key=key)
            rid = headers.get("X-Request-Id")
            expect(status == 200, f"ticket {ticket_id} via Aduana: HTTP {status} (request id {rid})")
            if status != 200:
                console.print(after)
                continue
            show_ticket(before, after)
            seen = json.dumps(after, ensure_ascii=False)
            for label, value in (("name", before["requester"]["name"]), ("email", before["requester"]["email"]),
                                 ("national id", before["requester"]["national_id"]),
                                 ("card number", before["payment"]["card_number"])):
                if value:
                    expect(value not in seen, f"the customer's {label} does not reach the vendor")

        step("3. The vendor replies using a token: the helpdesk stores the real name")
        _, _, after = http("GET", f"{gw}/helpdesk/api/tickets/1004", key=key)
        token = after["requester"]["name"]
        reply = {"author": "Agente 17 (Acme)",
                 "body": f"Hola {token}, hemos tramitado la devolución del cargo duplicado. Un saludo."}
        console.print(f"  vendor posts: {reply['body']}")
        status, _, _ = http("POST", f"{gw}/helpdesk/api/tickets/1004/comments", key=key, body=reply)
        expect(status == 201, f"reply accepted: HTTP {status}")
        _, _, company_view = http("GET", f"{helpdesk_url}/api/tickets/1004",
                                  headers={"Authorization": f"Bearer {HELPDESK_TOKEN}"})
        last = company_view["comments"][-1]["body"]
        console.print(f"  the helpdesk stored: {last}")
        expect("Lucía Fernández Ortega" in last and "⟦" not in last, "the customer will read her own name")

        step("4. The vendor tries what its contract does not allow")
        cases = [
            ("no API key", "GET", f"{gw}/helpdesk/api/tickets/1001", None, 401),
            ("a forged API key", "GET", f"{gw}/helpdesk/api/tickets/1001", "adu_k_000000000000_forged", 401),
            ("another contract's route", "GET", f"{gw}/billing/api/tickets/1001", key, 403),
            ("a method the route does not allow (DELETE)", "DELETE", f"{gw}/helpdesk/api/tickets/1001", key, 403),
            ("a path the route does not list", "GET", f"{gw}/helpdesk/admin/export", key, 403),
            ("an attachment the policy does not let through", "GET", f"{gw}/helpdesk/api/tickets/1001/attachment",
             key, 415),
        ]
        table = Table("attempt", "status", "reason", "request id")
        for what, method, url, k, want in cases:
            status, _, body = http(method, url, key=k)
            err = body.get("error", {}) if isinstance(body, dict) else {}
            table.add_row(what, str(status), str(err.get("reason")), str(err.get("request_id")))
            if status != want:
                failures.append(f"{what}: expected {want}, got {status}")
        console.print(table)
        expect(not any(f.startswith(tuple(c[0] for c in cases)) for f in failures), "every attempt refused and audited")

        step("5. The auditor exports the access log and verifies it offline")
        export = STATE / "audit-export.jsonl"
        aduana("audit", "checkpoint")
        aduana("audit", "export", "--format", "jsonl", "--out", str(export))
        aduana("audit", "public-key", "--out", str(STATE / "audit-public.pem"))
        result = subprocess.run([*ADUANA, "audit", "verify", str(export), "--public-key",
                                 str(STATE / "audit-public.pem")], capture_output=True, text=True,
                                env={**os.environ, "ADUANA_CONFIG": str(STATE / "aduana.yaml")})
        for line in result.stdout.strip().splitlines():
            console.print(f"  [dim]{line}[/]")
        expect(result.returncode == 0, "the exported audit trail verifies (hash chain and signed checkpoints)")
        records = [json.loads(line) for line in export.read_text().splitlines() if line.strip()]
        requests = [r for r in records if r.get("kind") == "request"]
        table = Table("seq", "vendor", "route", "method", "path template", "decision", "reason", "entities")
        for r in requests[-8:]:
            ents = ", ".join(f"{t}:{sum(a.values())}" for t, a in (r.get("entities") or {}).items())
            table.add_row(str(r.get("seq")), str(r.get("vendor")), str(r.get("route")), str(r.get("method")),
                          str(r.get("path_template")), str(r.get("decision")), str(r.get("reason")), ents or "-")
        console.print(table)
        console.print("  (records hold types and counts, never values)")

        terminate_contract(gw, key, token)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for fh in logs.values():
            fh.close()

    console.print()
    if failures:
        console.print(Panel("\n".join(failures), title="[bold red]the demo found problems", border_style="red"))
        return 1
    console.print(Panel.fit(f"[bold green]Demo complete.[/] State, logs and the audit export are in {STATE}",
                            border_style="green"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
