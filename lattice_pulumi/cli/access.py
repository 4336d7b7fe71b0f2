"""``lattice login``, ``logout``, ``use`` and ``token``: reaching clusters through a cell.

``login SERVER`` takes a bearer token (``--token-file``, or ``LATTICE_TOKEN``: a
ServiceAccount token for the cell's audience, or an identity provider's token), asks the
cell's API proxy which clusters that caller may reach (``GET /v1/clusters``, which also
proves the token works) and writes ``~/.lattice/kubeconfig`` (mode 0600) with one context
per cluster, and the token cache. ``token`` is the kubeconfig's exec plugin: it prints an
``ExecCredential`` from the cache until the token expires, then fails asking for a new
login. ``use`` switches the current context; ``logout`` removes the kubeconfig and the
cached token. Files and their formats: :mod:`lattice_pulumi.cli.access_files`.
"""

from __future__ import annotations

import json
import os
import ssl
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from ruamel.yaml import YAML

from lattice_pulumi.cli import access_files as files
from lattice_pulumi.cli import output
from lattice_pulumi.errors import LatticeError

__all__ = ["KUBECONFIG", "fetch_clusters", "register"]

KUBECONFIG = "kubeconfig"

Home = Annotated[
    Path | None, typer.Option("--home", envvar="LATTICE_HOME", help="Default ~/.lattice.")
]


def _home(home: Path | None) -> Path:
    return (home or files.lattice_home()).expanduser().resolve()


def _yaml() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    return yaml


def _read_kubeconfig(path: Path) -> dict[str, Any]:
    try:
        data = _yaml().load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LatticeError(f"no {path}: run 'lattice login SERVER' first") from None
    if not isinstance(data, dict):
        raise LatticeError(f"{path}: not a kubeconfig")
    return data


def _write_kubeconfig(path: Path, config: dict[str, Any]) -> None:
    from io import StringIO

    text = StringIO()
    _yaml().dump(config, text)
    files.write_private_atomically(path, text.getvalue())


def fetch_clusters(server: str, token: str, ca_pem: bytes) -> dict[str, Any]:
    """``GET SERVER/v1/clusters`` as the token's owner; a refusal is a one-line error."""
    context = ssl.create_default_context(cadata=ca_pem.decode())
    request = urllib.request.Request(
        f"{server.rstrip('/')}/v1/clusters", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            body: dict[str, Any] = json.loads(response.read())
            return body
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("message", "")
        except ValueError:
            message = ""
        raise LatticeError(f"{server} refused the login: HTTP {exc.code} {message}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise LatticeError(f"cannot reach {server}: {reason}") from None


def _read_token(token_file: Path | None) -> str:
    token = os.environ.get("LATTICE_TOKEN", "")
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise LatticeError(f"cannot read {token_file}: {exc.strerror}") from None
    if not token:
        raise LatticeError("no token: give --token-file or set LATTICE_TOKEN")
    return token


def login(
    server: Annotated[str, typer.Argument(help="The cell's API proxy, https://host:port.")],
    ca: Annotated[Path, typer.Option("--ca", help="CA bundle of the cell.")],
    token_file: Annotated[
        Path | None, typer.Option("--token-file", help="Bearer token (or LATTICE_TOKEN).")
    ] = None,
    ttl: Annotated[
        int, typer.Option("--ttl", help="Minutes an opaque (non-JWT) token is kept.")
    ] = 60,
    home: Home = None,
) -> None:
    """Log in to a cell: one kubeconfig context per cluster you may reach."""
    root = _home(home)
    try:
        token = _read_token(token_file)
        ca_pem = ca.read_bytes()
        listed = fetch_clusters(server, token, ca_pem)
    except OSError as exc:
        output.fail(LatticeError(f"cannot read {ca}: {exc.strerror}"))
    except LatticeError as exc:
        output.fail(exc)
    names = [str(c["name"]) for c in listed.get("clusters", [])]
    path = root / KUBECONFIG
    previous = None
    if path.exists():
        previous = _read_kubeconfig(path).get("current-context")
    now = datetime.now(UTC)
    cached = files.CachedToken(
        server.rstrip("/"), token, files.token_expiry(token, now, timedelta(minutes=ttl))
    )
    files.save_token(root, cached)
    _write_kubeconfig(path, files.build_kubeconfig(server, ca_pem, names, root, previous))
    output.err.print(
        f"logged in to {server} as {listed.get('user', '?')}; "
        f"{len(names)} cluster(s): {', '.join(names) or 'none'}; "
        f"token until {cached.expires:%Y-%m-%dT%H:%M:%SZ}",
        markup=False,
    )
    output.out.print(f"export KUBECONFIG={path}", markup=False)


def logout(home: Home = None) -> None:
    """Remove the kubeconfig written by login and every cached token."""
    root = _home(home)
    removed = 0
    for path in [root / KUBECONFIG, *sorted((root / "tokens").glob("*.json"))]:
        if path.exists():
            path.unlink()
            removed += 1
    output.err.print(f"logged out ({removed} file(s) removed from {root})", markup=False)


def use(
    cluster: Annotated[str, typer.Argument(help="A cluster of the kubeconfig.")],
    home: Home = None,
) -> None:
    """Make CLUSTER the current context of the lattice kubeconfig."""
    path = _home(home) / KUBECONFIG
    try:
        config = _read_kubeconfig(path)
    except LatticeError as exc:
        output.fail(exc)
    names = [c.get("name") for c in config.get("contexts") or []]
    if cluster not in names:
        known = ", ".join(str(n) for n in names) or "none"
        output.fail(LatticeError(f"no cluster {cluster!r} in {path} (known: {known})"))
    config["current-context"] = cluster
    _write_kubeconfig(path, config)
    output.err.print(f"now using {cluster}", markup=False)


def token(
    server: Annotated[str, typer.Option("--server", help="The cell logged in to.")],
    home: Home = None,
) -> None:
    """Print an ExecCredential (client.authentication.k8s.io/v1) for kubectl."""
    try:
        cached = files.load_token(_home(home), server.rstrip("/"))
    except LatticeError as exc:
        output.fail(exc)
    if cached.expired(datetime.now(UTC)):
        output.fail(
            LatticeError(
                f"the token for {server} expired at {cached.expires:%Y-%m-%dT%H:%M:%SZ}: "
                f"run 'lattice login {server}' again"
            )
        )
    # The plugin's one output: the credential on stdout, as kubectl expects.
    print(json.dumps(files.exec_credential(cached)))


def register(app: typer.Typer) -> None:
    """Add ``login``, ``logout``, ``use`` and ``token`` to ``app``."""
    app.command("login")(login)
    app.command("logout")(logout)
    app.command("use")(use)
    app.command("token")(token)
