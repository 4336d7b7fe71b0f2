"""The kopf handlers: thin, each one call into the library (STYLE.md rule 7).

``build_registry(operator)`` returns a fresh ``kopf.OperatorRegistry`` whose handlers close
over one ``Operator``. Event handlers feed every watched kind into the state; for a
LatticeService that also queues the service itself when its generation is new, and its
dependents: every service reconcile runs from the operator's bounded queue (``runtime``
says why kopf's create/update handlers are not used for them), so kopf writes no
bookkeeping on LatticeServices. The CloudProvider and child LatticeCluster change handlers
turn the outcome into kopf's retry decision (``kopf.TemporaryError(delay=...)``, or
``kopf.PermanentError`` for an invalid or denied spec). No manifest logic lives here.

LatticeClusters dispatch on whose cluster they describe: the operator's own cluster
(``Operator.is_own_cluster``) goes to ``cluster_self.SelfCluster`` (self-management), any
other is a child this parent provisions, enrols and pivots (``operator.children``).
"""

from __future__ import annotations

import copy
from typing import Any

import kopf

from lattice_pulumi.errors import LatticeError
from lattice_pulumi.kube import KubeError
from lattice_pulumi.operator.cluster_self import DEFAULT_RESYNC_SECONDS, SelfCluster
from lattice_pulumi.operator.errors import NotYet
from lattice_pulumi.operator.runtime import Operator
from lattice_pulumi.spec.base import API_GROUP

__all__ = ["PREFIX", "build_registry", "configure"]

PREFIX = "operator.lattice.dev"
_VERSION = "v1alpha1"


def configure(settings: kopf.OperatorSettings) -> None:
    """Keep kopf's bookkeeping in our annotations; events are ours (posted by the reconciler)."""
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=PREFIX, key="last-handled-configuration"
    )
    settings.persistence.finalizer = f"{PREFIX}/finalizer"
    settings.posting.enabled = False
    settings.watching.server_timeout = 300
    settings.networking.request_timeout = 30


def _is_deleted(event: kopf.RawEvent) -> bool:
    return event.get("type") == "DELETED"


def _plain(body: kopf.Body) -> dict[str, Any]:
    """A mutable deep copy of a kopf body (the reconciler records its status writes in it)."""
    return copy.deepcopy(dict(body))


def build_registry(
    operator: Operator, *, cluster_resync: float = DEFAULT_RESYNC_SECONDS
) -> kopf.OperatorRegistry:
    """A registry with every handler of the operator bound to ``operator``."""
    registry = kopf.OperatorRegistry()
    own_cluster = SelfCluster(operator.catalog, operator.state.cluster.name, resync=cluster_resync)

    @kopf.on.login(registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        # kopf's own client: the kubeconfig in KUBECONFIG (runner), else the pod's account
        return kopf.login_with_kubeconfig(**kwargs) or kopf.login_with_service_account(**kwargs)

    @kopf.on.startup(registry=registry)
    async def prime(settings: kopf.OperatorSettings, **_: Any) -> None:
        configure(settings)
        try:
            await operator.prime()
        except KubeError as exc:  # the API server is starting or a CRD is new: soon
            raise kopf.TemporaryError(str(exc), delay=2) from exc

    @kopf.on.cleanup(registry=registry)
    async def stop(**_: Any) -> None:
        await own_cluster.stop()
        await operator.stop()

    @kopf.on.event(API_GROUP, _VERSION, "latticeservices", registry=registry)
    async def service_event(event: kopf.RawEvent, body: kopf.Body, **_: Any) -> None:
        if _is_deleted(event):
            await operator.forget_service(dict(body))
        else:
            operator.observe_service(dict(body))

    @kopf.on.event(API_GROUP, _VERSION, "latticeclusters", registry=registry)
    async def cluster_event(event: kopf.RawEvent, body: kopf.Body, **_: Any) -> None:
        if not operator.is_own_cluster(body):  # a child: its add-on health refresh
            if _is_deleted(event):
                operator.refresher.forget(dict(body))
            else:
                operator.refresher.observe(dict(body))
        elif _is_deleted(event):
            own_cluster.forget()
        else:
            own_cluster.observe(dict(body))

    @kopf.on.resume(API_GROUP, _VERSION, "latticeclusters", id="converge", registry=registry)
    @kopf.on.create(API_GROUP, _VERSION, "latticeclusters", id="converge", registry=registry)
    @kopf.on.update(API_GROUP, _VERSION, "latticeclusters", id="converge", registry=registry)
    async def converge_cluster(body: kopf.Body, logger: kopf.Logger, **_: Any) -> None:
        if operator.is_own_cluster(body):
            return  # self-management of this operator's own cluster: not a child
        try:
            phase = await operator.children.reconcile(_plain(body))
        except NotYet as exc:
            raise kopf.TemporaryError(str(exc), delay=exc.delay) from exc
        except KubeError as exc:
            raise kopf.TemporaryError(str(exc), delay=10) from exc
        except LatticeError as exc:
            raise kopf.PermanentError(str(exc)) from exc
        logger.info("cluster %s: %s", body["metadata"]["name"], phase)

    @kopf.on.event(API_GROUP, _VERSION, "latticeexternalservices", registry=registry)
    async def external_event(event: kopf.RawEvent, body: kopf.Body, **_: Any) -> None:
        if _is_deleted(event):
            operator.forget_external(dict(body))
        else:
            operator.observe_external(dict(body))

    @kopf.on.event(API_GROUP, _VERSION, "cedarpolicies", registry=registry)
    async def policy_event(event: kopf.RawEvent, body: kopf.Body, **_: Any) -> None:
        if _is_deleted(event):
            operator.forget_policy(dict(body))
        else:
            await operator.check_policy(dict(body))

    @kopf.on.event(API_GROUP, _VERSION, "secretproviders", registry=registry)
    async def secret_provider_event(event: kopf.RawEvent, body: kopf.Body, **_: Any) -> None:
        if _is_deleted(event):
            operator.forget_secret_provider(dict(body))
        else:
            await operator.check_secret_provider(dict(body))

    @kopf.on.resume(API_GROUP, _VERSION, "cloudproviders", id="check", registry=registry)
    @kopf.on.create(API_GROUP, _VERSION, "cloudproviders", id="check", registry=registry)
    @kopf.on.update(API_GROUP, _VERSION, "cloudproviders", id="check", registry=registry)
    async def check_cloud_provider(body: kopf.Body, **_: Any) -> None:
        checked = await operator.check_cloud_provider(dict(body))
        if checked.retry:
            raise kopf.TemporaryError(checked.status["message"], delay=30)

    return registry
