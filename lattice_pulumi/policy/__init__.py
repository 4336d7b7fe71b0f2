"""Cedar authorization for lattice: schema, policy sources, request builders, the authorizer.

One ``CedarAuthorizer`` (behind the ``Authorizer`` protocol) answers for the service compiler
(secret paths, security overrides, shared volumes), the cluster API proxy and the operator
(cluster access). Everything is denied unless a permit matches and no forbid does.

Modules: ``schema`` (the shipped ``lattice.cedarschema``), ``sources`` (PolicySource, order,
inheritance, reading files), ``statements`` (statement positions), ``policyset`` (parse,
validate, merge), ``requests`` (requests and entities per path, permit suggestions),
``decision`` (allow/deny with reasons), ``authorizer`` (the shared object), ``problems``.
This package imports neither pulumi nor the spec or compile layers.
"""

from lattice_pulumi.policy.authorizer import Authorizer, CedarAuthorizer
from lattice_pulumi.policy.decision import Decision
from lattice_pulumi.policy.policyset import LoadReport, PolicyInfo
from lattice_pulumi.policy.problems import PolicyError, PolicyProblem
from lattice_pulumi.policy.requests import (
    ClusterContext,
    Request,
    denial_message,
    format_permit,
)
from lattice_pulumi.policy.sources import (
    PolicySource,
    effective_policies,
    load_policy_files,
    order_sources,
)

__all__ = [
    "Authorizer",
    "CedarAuthorizer",
    "ClusterContext",
    "Decision",
    "LoadReport",
    "PolicyError",
    "PolicyInfo",
    "PolicyProblem",
    "PolicySource",
    "Request",
    "denial_message",
    "effective_policies",
    "format_permit",
    "load_policy_files",
    "order_sources",
]
