"""Generated protobuf and gRPC stubs of ``proto/lattice/agent/v1/agent.proto``.

Do not edit the ``agent_pb2*`` modules: run ``scripts/gen-proto``. Import them through
:mod:`lattice_pulumi.protocol`.
"""

__all__: list[str] = []
