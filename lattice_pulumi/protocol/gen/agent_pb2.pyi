from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ClusterState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLUSTER_STATE_UNSPECIFIED: _ClassVar[ClusterState]
    CLUSTER_STATE_PROVISIONING: _ClassVar[ClusterState]
    CLUSTER_STATE_PIVOTING: _ClassVar[ClusterState]
    CLUSTER_STATE_READY: _ClassVar[ClusterState]
    CLUSTER_STATE_DEGRADED: _ClassVar[ClusterState]
    CLUSTER_STATE_FAILED: _ClassVar[ClusterState]
    CLUSTER_STATE_DELETING: _ClassVar[ClusterState]
CLUSTER_STATE_UNSPECIFIED: ClusterState
CLUSTER_STATE_PROVISIONING: ClusterState
CLUSTER_STATE_PIVOTING: ClusterState
CLUSTER_STATE_READY: ClusterState
CLUSTER_STATE_DEGRADED: ClusterState
CLUSTER_STATE_FAILED: ClusterState
CLUSTER_STATE_DELETING: ClusterState

class ProtocolVersion(_message.Message):
    __slots__ = ("major", "minor")
    MAJOR_FIELD_NUMBER: _ClassVar[int]
    MINOR_FIELD_NUMBER: _ClassVar[int]
    major: int
    minor: int
    def __init__(self, major: _Optional[int] = ..., minor: _Optional[int] = ...) -> None: ...

class AgentMessage(_message.Message):
    __slots__ = ("cluster", "sequence", "hello", "heartbeat", "subtree", "event", "reply", "proxy")
    CLUSTER_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    HELLO_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    SUBTREE_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    REPLY_FIELD_NUMBER: _ClassVar[int]
    PROXY_FIELD_NUMBER: _ClassVar[int]
    cluster: str
    sequence: int
    hello: Hello
    heartbeat: Heartbeat
    subtree: SubtreeState
    event: Event
    reply: CommandReply
    proxy: ProxyFrame
    def __init__(self, cluster: _Optional[str] = ..., sequence: _Optional[int] = ..., hello: _Optional[_Union[Hello, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., subtree: _Optional[_Union[SubtreeState, _Mapping]] = ..., event: _Optional[_Union[Event, _Mapping]] = ..., reply: _Optional[_Union[CommandReply, _Mapping]] = ..., proxy: _Optional[_Union[ProxyFrame, _Mapping]] = ...) -> None: ...

class Hello(_message.Message):
    __slots__ = ("protocol", "agent_version", "kubernetes_version", "session_id", "provider", "role", "labels")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    AGENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    KUBERNETES_VERSION_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    protocol: ProtocolVersion
    agent_version: str
    kubernetes_version: str
    session_id: str
    provider: str
    role: str
    labels: _containers.ScalarMap[str, str]
    def __init__(self, protocol: _Optional[_Union[ProtocolVersion, _Mapping]] = ..., agent_version: _Optional[str] = ..., kubernetes_version: _Optional[str] = ..., session_id: _Optional[str] = ..., provider: _Optional[str] = ..., role: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class NodeCounts(_message.Message):
    __slots__ = ("ready", "total")
    READY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    ready: int
    total: int
    def __init__(self, ready: _Optional[int] = ..., total: _Optional[int] = ...) -> None: ...

class Condition(_message.Message):
    __slots__ = ("type", "status", "reason", "message", "last_transition_unix")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    LAST_TRANSITION_UNIX_FIELD_NUMBER: _ClassVar[int]
    type: str
    status: str
    reason: str
    message: str
    last_transition_unix: int
    def __init__(self, type: _Optional[str] = ..., status: _Optional[str] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ..., last_transition_unix: _Optional[int] = ...) -> None: ...

class NodePool(_message.Message):
    __slots__ = ("name", "nodes", "instance_type")
    NAME_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    nodes: NodeCounts
    instance_type: str
    def __init__(self, name: _Optional[str] = ..., nodes: _Optional[_Union[NodeCounts, _Mapping]] = ..., instance_type: _Optional[str] = ...) -> None: ...

class ClusterHealth(_message.Message):
    __slots__ = ("control_plane", "workers", "conditions", "pools")
    CONTROL_PLANE_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    POOLS_FIELD_NUMBER: _ClassVar[int]
    control_plane: NodeCounts
    workers: NodeCounts
    conditions: _containers.RepeatedCompositeFieldContainer[Condition]
    pools: _containers.RepeatedCompositeFieldContainer[NodePool]
    def __init__(self, control_plane: _Optional[_Union[NodeCounts, _Mapping]] = ..., workers: _Optional[_Union[NodeCounts, _Mapping]] = ..., conditions: _Optional[_Iterable[_Union[Condition, _Mapping]]] = ..., pools: _Optional[_Iterable[_Union[NodePool, _Mapping]]] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("state", "health", "sent_unix_ms")
    STATE_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    SENT_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    state: ClusterState
    health: ClusterHealth
    sent_unix_ms: int
    def __init__(self, state: _Optional[_Union[ClusterState, str]] = ..., health: _Optional[_Union[ClusterHealth, _Mapping]] = ..., sent_unix_ms: _Optional[int] = ...) -> None: ...

class SubtreeCluster(_message.Message):
    __slots__ = ("name", "parent", "state", "health", "last_heartbeat_unix_ms", "connected", "kubernetes_version", "provider", "role", "agent_version", "first_seen_unix_ms", "labels")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARTBEAT_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    KUBERNETES_VERSION_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    AGENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEEN_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    name: str
    parent: str
    state: ClusterState
    health: ClusterHealth
    last_heartbeat_unix_ms: int
    connected: bool
    kubernetes_version: str
    provider: str
    role: str
    agent_version: str
    first_seen_unix_ms: int
    labels: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., parent: _Optional[str] = ..., state: _Optional[_Union[ClusterState, str]] = ..., health: _Optional[_Union[ClusterHealth, _Mapping]] = ..., last_heartbeat_unix_ms: _Optional[int] = ..., connected: _Optional[bool] = ..., kubernetes_version: _Optional[str] = ..., provider: _Optional[str] = ..., role: _Optional[str] = ..., agent_version: _Optional[str] = ..., first_seen_unix_ms: _Optional[int] = ..., labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class SubtreeState(_message.Message):
    __slots__ = ("clusters",)
    CLUSTERS_FIELD_NUMBER: _ClassVar[int]
    clusters: _containers.RepeatedCompositeFieldContainer[SubtreeCluster]
    def __init__(self, clusters: _Optional[_Iterable[_Union[SubtreeCluster, _Mapping]]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("severity", "reason", "message", "object", "occurred_unix_ms", "dropped_before")
    class Severity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        SEVERITY_UNSPECIFIED: _ClassVar[Event.Severity]
        SEVERITY_NORMAL: _ClassVar[Event.Severity]
        SEVERITY_WARNING: _ClassVar[Event.Severity]
    SEVERITY_UNSPECIFIED: Event.Severity
    SEVERITY_NORMAL: Event.Severity
    SEVERITY_WARNING: Event.Severity
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    DROPPED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    severity: Event.Severity
    reason: str
    message: str
    object: str
    occurred_unix_ms: int
    dropped_before: int
    def __init__(self, severity: _Optional[_Union[Event.Severity, str]] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ..., object: _Optional[str] = ..., occurred_unix_ms: _Optional[int] = ..., dropped_before: _Optional[int] = ...) -> None: ...

class CommandReply(_message.Message):
    __slots__ = ("request_id", "ok", "error", "status", "apply")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    APPLY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    ok: bool
    error: str
    status: StatusReply
    apply: ApplyResult
    def __init__(self, request_id: _Optional[str] = ..., ok: _Optional[bool] = ..., error: _Optional[str] = ..., status: _Optional[_Union[StatusReply, _Mapping]] = ..., apply: _Optional[_Union[ApplyResult, _Mapping]] = ...) -> None: ...

class StatusReply(_message.Message):
    __slots__ = ("heartbeat", "subtree")
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    SUBTREE_FIELD_NUMBER: _ClassVar[int]
    heartbeat: Heartbeat
    subtree: SubtreeState
    def __init__(self, heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., subtree: _Optional[_Union[SubtreeState, _Mapping]] = ...) -> None: ...

class ApplyResult(_message.Message):
    __slots__ = ("applied", "unchanged", "deleted", "problems")
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    applied: int
    unchanged: int
    deleted: int
    problems: _containers.RepeatedCompositeFieldContainer[SyncProblem]
    def __init__(self, applied: _Optional[int] = ..., unchanged: _Optional[int] = ..., deleted: _Optional[int] = ..., problems: _Optional[_Iterable[_Union[SyncProblem, _Mapping]]] = ...) -> None: ...

class SyncProblem(_message.Message):
    __slots__ = ("kind", "namespace", "name", "reason", "message")
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    kind: str
    namespace: str
    name: str
    reason: str
    message: str
    def __init__(self, kind: _Optional[str] = ..., namespace: _Optional[str] = ..., name: _Optional[str] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class CellCommand(_message.Message):
    __slots__ = ("request_id", "welcome", "status_request", "apply_manifests", "sync_resources", "proxy")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    WELCOME_FIELD_NUMBER: _ClassVar[int]
    STATUS_REQUEST_FIELD_NUMBER: _ClassVar[int]
    APPLY_MANIFESTS_FIELD_NUMBER: _ClassVar[int]
    SYNC_RESOURCES_FIELD_NUMBER: _ClassVar[int]
    PROXY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    welcome: Welcome
    status_request: StatusRequest
    apply_manifests: ApplyManifests
    sync_resources: SyncResources
    proxy: ProxyFrame
    def __init__(self, request_id: _Optional[str] = ..., welcome: _Optional[_Union[Welcome, _Mapping]] = ..., status_request: _Optional[_Union[StatusRequest, _Mapping]] = ..., apply_manifests: _Optional[_Union[ApplyManifests, _Mapping]] = ..., sync_resources: _Optional[_Union[SyncResources, _Mapping]] = ..., proxy: _Optional[_Union[ProxyFrame, _Mapping]] = ...) -> None: ...

class Welcome(_message.Message):
    __slots__ = ("protocol", "cell_version")
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    CELL_VERSION_FIELD_NUMBER: _ClassVar[int]
    protocol: ProtocolVersion
    cell_version: str
    def __init__(self, protocol: _Optional[_Union[ProtocolVersion, _Mapping]] = ..., cell_version: _Optional[str] = ...) -> None: ...

class StatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ApplyManifests(_message.Message):
    __slots__ = ("manifests", "field_manager")
    MANIFESTS_FIELD_NUMBER: _ClassVar[int]
    FIELD_MANAGER_FIELD_NUMBER: _ClassVar[int]
    manifests: _containers.RepeatedScalarFieldContainer[bytes]
    field_manager: str
    def __init__(self, manifests: _Optional[_Iterable[bytes]] = ..., field_manager: _Optional[str] = ...) -> None: ...

class SyncResources(_message.Message):
    __slots__ = ("resources", "kind")
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    resources: _containers.RepeatedScalarFieldContainer[bytes]
    kind: str
    def __init__(self, resources: _Optional[_Iterable[bytes]] = ..., kind: _Optional[str] = ...) -> None: ...

class RenewRequest(_message.Message):
    __slots__ = ("csr_pem",)
    CSR_PEM_FIELD_NUMBER: _ClassVar[int]
    csr_pem: bytes
    def __init__(self, csr_pem: _Optional[bytes] = ...) -> None: ...

class RenewResponse(_message.Message):
    __slots__ = ("certificate_pem", "ca_bundle_pem")
    CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    CA_BUNDLE_PEM_FIELD_NUMBER: _ClassVar[int]
    certificate_pem: bytes
    ca_bundle_pem: bytes
    def __init__(self, certificate_pem: _Optional[bytes] = ..., ca_bundle_pem: _Optional[bytes] = ...) -> None: ...

class GetFleetRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class FleetView(_message.Message):
    __slots__ = ("cell", "clusters", "generated_unix_ms", "cell_version")
    CELL_FIELD_NUMBER: _ClassVar[int]
    CLUSTERS_FIELD_NUMBER: _ClassVar[int]
    GENERATED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    CELL_VERSION_FIELD_NUMBER: _ClassVar[int]
    cell: SubtreeCluster
    clusters: _containers.RepeatedCompositeFieldContainer[SubtreeCluster]
    generated_unix_ms: int
    cell_version: str
    def __init__(self, cell: _Optional[_Union[SubtreeCluster, _Mapping]] = ..., clusters: _Optional[_Iterable[_Union[SubtreeCluster, _Mapping]]] = ..., generated_unix_ms: _Optional[int] = ..., cell_version: _Optional[str] = ...) -> None: ...

class ProxyFrame(_message.Message):
    __slots__ = ("stream_id", "start", "head", "data", "end", "cancel", "credit", "last")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    HEAD_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    start: ProxyStart
    head: ProxyHead
    data: bytes
    end: ProxyEnd
    cancel: ProxyCancel
    credit: int
    last: bool
    def __init__(self, stream_id: _Optional[str] = ..., start: _Optional[_Union[ProxyStart, _Mapping]] = ..., head: _Optional[_Union[ProxyHead, _Mapping]] = ..., data: _Optional[bytes] = ..., end: _Optional[_Union[ProxyEnd, _Mapping]] = ..., cancel: _Optional[_Union[ProxyCancel, _Mapping]] = ..., credit: _Optional[int] = ..., last: _Optional[bool] = ...) -> None: ...

class ProxyHeader(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class ProxyStart(_message.Message):
    __slots__ = ("cluster", "method", "path", "headers", "user", "groups", "window", "timeout_ms", "upgrade")
    CLUSTER_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    UPGRADE_FIELD_NUMBER: _ClassVar[int]
    cluster: str
    method: str
    path: str
    headers: _containers.RepeatedCompositeFieldContainer[ProxyHeader]
    user: str
    groups: _containers.RepeatedScalarFieldContainer[str]
    window: int
    timeout_ms: int
    upgrade: str
    def __init__(self, cluster: _Optional[str] = ..., method: _Optional[str] = ..., path: _Optional[str] = ..., headers: _Optional[_Iterable[_Union[ProxyHeader, _Mapping]]] = ..., user: _Optional[str] = ..., groups: _Optional[_Iterable[str]] = ..., window: _Optional[int] = ..., timeout_ms: _Optional[int] = ..., upgrade: _Optional[str] = ...) -> None: ...

class ProxyHead(_message.Message):
    __slots__ = ("status", "headers", "body")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    status: int
    headers: _containers.RepeatedCompositeFieldContainer[ProxyHeader]
    body: bytes
    def __init__(self, status: _Optional[int] = ..., headers: _Optional[_Iterable[_Union[ProxyHeader, _Mapping]]] = ..., body: _Optional[bytes] = ...) -> None: ...

class ProxyEnd(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ProxyCancel(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...
