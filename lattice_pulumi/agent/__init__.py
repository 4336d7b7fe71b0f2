"""The child side of the agent channel: enrol once, then hold an outbound mTLS session.

Never listens on a port. Nothing here imports ``pulumi``; the in-cluster image runs it.
"""

from lattice_pulumi.agent.backoff import Backoff
from lattice_pulumi.agent.client import Agent, AgentError
from lattice_pulumi.agent.commands import CommandHandler
from lattice_pulumi.agent.config import AgentConfig
from lattice_pulumi.agent.credentials import AgentCredentials
from lattice_pulumi.agent.enrol import EnrolmentError, enrol
from lattice_pulumi.agent.events import EventBuffer
from lattice_pulumi.agent.health import HealthWatcher, health_from_nodes
from lattice_pulumi.agent.proxy import KubeProxy
from lattice_pulumi.agent.secret_store import BootstrapSecret, SecretCredentialStore
from lattice_pulumi.agent.status import StatusHolder, StatusSource

__all__ = [
    "Agent",
    "AgentConfig",
    "AgentCredentials",
    "AgentError",
    "Backoff",
    "BootstrapSecret",
    "CommandHandler",
    "EnrolmentError",
    "EventBuffer",
    "HealthWatcher",
    "KubeProxy",
    "SecretCredentialStore",
    "StatusHolder",
    "StatusSource",
    "enrol",
    "health_from_nodes",
]
