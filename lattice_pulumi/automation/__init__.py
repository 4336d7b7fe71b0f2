"""Pulumi Automation API for Lattice: local stacks, inline programs from specs, live progress.

``settings`` decides where state lives and how secrets are encrypted (local file backend,
passphrase; nothing external); ``program`` turns spec files into an inline program;
``stacks`` runs up/preview/destroy/refresh/outputs; ``progress`` renders engine events.
The CLI (``lattice up``, ``preview``, ``destroy``, ``stacks``) drives these modules.
"""

from lattice_pulumi.automation.program import Deployment, Target, build_program, load_deployment
from lattice_pulumi.automation.progress import LiveProgress, Progress, apply_event
from lattice_pulumi.automation.settings import StackSettings, stack_settings
from lattice_pulumi.automation.stacks import (
    OperationResult,
    destroy,
    get_stacks,
    outputs,
    preview,
    refresh,
    up,
)

__all__ = [
    "Deployment",
    "LiveProgress",
    "OperationResult",
    "Progress",
    "StackSettings",
    "Target",
    "apply_event",
    "build_program",
    "destroy",
    "get_stacks",
    "load_deployment",
    "outputs",
    "preview",
    "refresh",
    "stack_settings",
    "up",
]
