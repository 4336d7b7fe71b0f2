"""A tiny Kubernetes client for tests, on the Python standard library only.

HTTPS with the control plane's CA and the admin client certificate; JSON in and out;
resource names found through API discovery (refreshed on a miss, so CRDs work right after
they are installed). Server-side apply is a PATCH with ``application/apply-patch+yaml``
(JSON is valid YAML) and a field manager; ``dry_run=True`` adds ``dryRun=All``.
"""

from __future__ import annotations

import http.client
import json
import ssl
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Object = dict[str, Any]

FIELD_MANAGER = "lattice-tests"


class ApiError(Exception):
    """A response with status >= 400; ``status`` and the decoded ``body`` are kept."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.body = body
        message = body.get("message") if isinstance(body, dict) else body
        super().__init__(f"{method} {path}: HTTP {status}: {message}")

    @property
    def reason(self) -> str:
        """The Status reason (NotFound, Invalid, AlreadyExists, ...), if any."""
        return str(self.body.get("reason", "")) if isinstance(self.body, dict) else ""


@dataclass(frozen=True)
class Resource:
    """Where a kind lives in the API."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool


class KubeClient:
    """Minimal client: raw requests, discovery, get/list/create/apply/delete/wait."""

    def __init__(
        self,
        server: str,
        ca_file: Path,
        cert_file: Path | None = None,
        key_file: Path | None = None,
        token: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        parsed = urllib.parse.urlsplit(server)
        if parsed.scheme != "https" or not parsed.hostname:
            raise ValueError(f"expected an https:// server URL, got {server!r}")
        self.server = server
        self._host = parsed.hostname
        self._port = parsed.port or 443
        self._token = token
        self._timeout = timeout
        self._context = ssl.create_default_context(cafile=str(ca_file))
        if cert_file is not None and key_file is not None:
            self._context.load_cert_chain(str(cert_file), str(key_file))
        self._resources: dict[tuple[str, str], Resource] = {}
        self._discovered: set[str] = set()

    # -- raw HTTP -----------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Any:
        """Send one request; return the decoded JSON (or text); raise ApiError on >= 400."""
        if params:
            path = f"{path}?{urllib.parse.urlencode(params)}"
        headers = {"Accept": "application/json", "User-Agent": "lattice-tests"}
        payload: bytes | None = None
        if body is not None:
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        connection = http.client.HTTPSConnection(
            self._host, self._port, context=self._context, timeout=self._timeout
        )
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            status = response.status
        finally:
            connection.close()
        try:
            decoded: Any = json.loads(raw) if raw else None
        except ValueError:
            decoded = raw.decode(errors="replace")
        if status >= 400:
            raise ApiError(method, path, status, decoded)
        return decoded

    def get_text(self, path: str) -> str:
        """GET a non-JSON endpoint such as /readyz or /version."""
        result = self.request("GET", path)
        return result if isinstance(result, str) else json.dumps(result)

    # -- discovery ------------------------------------------------------------------------

    def _discover(self, api_version: str) -> None:
        path = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
        listing = self.request("GET", path)
        for entry in listing.get("resources", []):
            if "/" in entry["name"]:  # subresources such as deployments/status
                continue
            self._resources[(api_version, entry["kind"])] = Resource(
                api_version, entry["kind"], entry["name"], bool(entry["namespaced"])
            )
        self._discovered.add(api_version)

    def resource(self, api_version: str, kind: str) -> Resource:
        """Find the plural and scope of a kind, asking the server again on a miss."""
        key = (api_version, kind)
        if key not in self._resources:
            try:
                self._discover(api_version)
            except ApiError as error:
                if error.status != 404:
                    raise
            if key not in self._resources:
                raise LookupError(f"the server does not serve {kind} in {api_version}")
        return self._resources[key]

    def path(
        self, api_version: str, kind: str, name: str | None = None, namespace: str | None = None
    ) -> str:
        """REST path of a collection or an object."""
        resource = self.resource(api_version, kind)
        base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
        if resource.namespaced:
            base += f"/namespaces/{namespace or 'default'}"
        base += f"/{resource.plural}"
        return f"{base}/{name}" if name else base

    def _object_path(self, obj: Mapping[str, Any]) -> str:
        metadata = obj.get("metadata", {})
        return self.path(
            obj["apiVersion"], obj["kind"], metadata["name"], metadata.get("namespace")
        )

    # -- objects --------------------------------------------------------------------------

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> Object:
        """GET one object."""
        result: Object = self.request("GET", self.path(api_version, kind, name, namespace))
        return result

    def find(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> Object | None:
        """GET one object, or None when it does not exist."""
        try:
            return self.get(api_version, kind, name, namespace)
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
    ) -> list[Object]:
        """List objects of a kind (in one namespace, or all namespaces when None)."""
        resource = self.resource(api_version, kind)
        if resource.namespaced and namespace is None:
            base = "/api" if "/" not in api_version else "/apis"
            path = f"{base}/{api_version}/{resource.plural}"
        else:
            path = self.path(api_version, kind, namespace=namespace)
        params = {"labelSelector": label_selector} if label_selector else None
        items: list[Object] = self.request("GET", path, params=params).get("items", [])
        return items

    def create(self, obj: Mapping[str, Any]) -> Object:
        """POST an object to its collection."""
        metadata = obj.get("metadata", {})
        path = self.path(obj["apiVersion"], obj["kind"], namespace=metadata.get("namespace"))
        result: Object = self.request("POST", path, dict(obj))
        return result

    def apply(
        self,
        obj: Mapping[str, Any],
        *,
        field_manager: str = FIELD_MANAGER,
        force: bool = True,
        dry_run: bool = False,
    ) -> Object:
        """Server-side apply one object; ``dry_run`` validates and admits without storing."""
        params = {"fieldManager": field_manager}
        if force:
            params["force"] = "true"
        if dry_run:
            params["dryRun"] = "All"
        result: Object = self.request(
            "PATCH",
            self._object_path(obj),
            dict(obj),
            params=params,
            content_type="application/apply-patch+yaml",
        )
        return result

    def apply_all(self, objects: Iterable[Mapping[str, Any]], **options: Any) -> list[Object]:
        """Server-side apply several objects in order."""
        return [self.apply(obj, **options) for obj in objects]

    def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        propagation: str = "Background",
    ) -> bool:
        """DELETE one object; False when it was already gone."""
        try:
            self.request(
                "DELETE",
                self.path(api_version, kind, name, namespace),
                {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation},
            )
        except ApiError as error:
            if error.status == 404:
                return False
            raise
        return True

    # -- waiting --------------------------------------------------------------------------

    def wait_for(
        self,
        check: Callable[[], Any],
        timeout: float = 30.0,
        interval: float = 0.2,
        what: str = "condition",
    ) -> Any:
        """Poll ``check`` until it returns a truthy value; raise TimeoutError with ``what``."""
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                result = check()
            except (ApiError, LookupError, OSError) as error:
                last_error = error
            else:
                if result:
                    return result
            time.sleep(interval)
        raise TimeoutError(f"timed out after {timeout}s waiting for {what}: {last_error}")

    def wait_gone(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        """Wait until an object no longer exists."""
        self.wait_for(
            lambda: self.find(api_version, kind, name, namespace) is None,
            timeout=timeout,
            what=f"{kind} {namespace or ''}/{name} to be deleted",
        )


def condition_true(obj: Mapping[str, Any], condition: str) -> bool:
    """Whether ``status.conditions`` has ``condition`` with status True."""
    for entry in obj.get("status", {}).get("conditions", []) or []:
        if entry.get("type") == condition:
            return bool(entry.get("status") == "True")
    return False
