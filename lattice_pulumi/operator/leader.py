"""Leader election with a coordination.k8s.io/v1 Lease, so one operator per cluster acts.

``LeaseElector.acquire`` waits until this process holds the Lease (it is absent, expired,
or already ours), taking it with an update that names the resourceVersion read, so two
candidates cannot both win. A waiting candidate looks every ``retry_every`` seconds (at
most one second), so it takes over at most that long after the holder's lease expired.
``hold`` renews it every ``renew_every`` seconds and returns
when a renewal fails or someone else holds it: the caller must stop working then.
``release`` clears the holder on a clean shutdown so a successor need not wait for expiry.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging

from lightkube import AsyncClient
from lightkube.models.coordination_v1 import LeaseSpec
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.coordination_v1 import Lease

from lattice_pulumi.kube import KubeError, NotFoundError, api_errors

__all__ = ["LeaseElector"]

_log = logging.getLogger(__name__)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class LeaseElector:
    """Holds Lease ``namespace/name`` for ``identity``."""

    def __init__(
        self,
        client: AsyncClient,
        *,
        name: str,
        namespace: str,
        identity: str,
        duration: float = 15.0,
        renew_every: float = 5.0,
        retry_every: float | None = None,
    ) -> None:
        self.client = client
        self.name = name
        self.namespace = namespace
        self.identity = identity
        self.duration = duration
        self.renew_every = renew_every
        self.retry_every = retry_every if retry_every is not None else min(renew_every, 1.0)

    async def acquire(self, stop: asyncio.Event) -> bool:
        """Wait until leading (True) or until ``stop`` is set (False)."""
        while not stop.is_set():
            try:
                if await self._try_take():
                    _log.info(
                        "leading as %s (lease %s/%s)", self.identity, self.namespace, self.name
                    )
                    return True
            except KubeError as exc:
                _log.warning("lease: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.retry_every)
        return False

    async def hold(self, stop: asyncio.Event) -> None:
        """Renew until a renewal fails or ``stop`` is set; returns then."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.renew_every)
                return
            except TimeoutError:
                pass
            try:
                if not await self._try_take():
                    _log.error("lease %s/%s is held by someone else", self.namespace, self.name)
                    return
            except KubeError as exc:
                _log.error("lease renewal failed: %s", exc)
                return

    async def release(self) -> None:
        """Give the lease up (best effort)."""
        try:
            with api_errors("release the lease"):
                lease = await self.client.get(Lease, self.name, namespace=self.namespace)
                if lease.spec is not None and lease.spec.holderIdentity == self.identity:
                    lease.spec.holderIdentity = None
                    lease.spec.renewTime = None
                    await self.client.replace(lease)
        except KubeError as exc:
            _log.warning("lease release: %s", exc)

    async def _try_take(self) -> bool:
        now = _now()
        try:
            with api_errors("read the lease"):
                lease = await self.client.get(Lease, self.name, namespace=self.namespace)
        except NotFoundError:
            return await self._create(now)
        spec = lease.spec or LeaseSpec()
        if (
            spec.holderIdentity
            and spec.holderIdentity != self.identity
            and not self._expired(spec, now)
        ):
            return False
        if spec.holderIdentity != self.identity:
            spec.leaseTransitions = (spec.leaseTransitions or 0) + 1
            spec.acquireTime = now
        spec.holderIdentity = self.identity
        spec.leaseDurationSeconds = int(self.duration)
        spec.renewTime = now
        lease.spec = spec
        try:
            with api_errors("take the lease"):
                await self.client.replace(lease)  # carries resourceVersion: 409 if it moved
        except KubeError as exc:
            if exc.status == 409:
                return False
            raise
        return True

    def _expired(self, spec: LeaseSpec, now: datetime.datetime) -> bool:
        renewed = spec.renewTime or spec.acquireTime
        if renewed is None:
            return True
        seconds = spec.leaseDurationSeconds or self.duration
        return now > renewed + datetime.timedelta(seconds=seconds)

    async def _create(self, now: datetime.datetime) -> bool:
        lease = Lease(
            metadata=ObjectMeta(name=self.name, namespace=self.namespace),
            spec=LeaseSpec(
                holderIdentity=self.identity,
                leaseDurationSeconds=int(self.duration),
                acquireTime=now,
                renewTime=now,
                leaseTransitions=0,
            ),
        )
        try:
            with api_errors("create the lease"):
                await self.client.create(lease)
        except KubeError as exc:
            if exc.status == 409:
                return False
            raise
        return True
