"""Engine events to the progress table: a pure fold, tested event by event."""

from __future__ import annotations

from pulumi.automation import events

from lattice_pulumi.automation.progress import Progress, Row, apply_event, render

STACK = "urn:pulumi:dev::lattice::pulumi:pulumi:Stack::lattice-dev"
DEPLOY = (
    "urn:pulumi:dev::lattice::lattice:index:LatticeService$kubernetes:apps/v1:Deployment::api-api"
)
DEPLOY_TYPE = "kubernetes:apps/v1:Deployment"


def _meta(urn: str, type_: str, op: events.OpType) -> events.StepEventMetadata:
    return events.StepEventMetadata(op=op, urn=urn, type=type_, provider="")


def _event(**kinds: object) -> events.EngineEvent:
    return events.EngineEvent(sequence=1, timestamp=0, **kinds)  # type: ignore[arg-type]


def _pre(urn: str, op: events.OpType, planning: bool = False) -> events.EngineEvent:
    type_ = "pulumi:pulumi:Stack" if urn == STACK else DEPLOY_TYPE
    return _event(resource_pre_event=events.ResourcePreEvent(_meta(urn, type_, op), planning))


def _outputs(urn: str, op: events.OpType) -> events.EngineEvent:
    return _event(res_outputs_event=events.ResOutputsEvent(_meta(urn, DEPLOY_TYPE, op)))


def _fold(*items: events.EngineEvent) -> Progress:
    progress = Progress()
    for item in items:
        progress = apply_event(progress, item)
    return progress


def test_create_runs_then_completes() -> None:
    running = _fold(_pre(DEPLOY, events.OpType.CREATE))
    assert running.rows == (Row(DEPLOY, DEPLOY_TYPE, "api-api", "create", "running"),)
    done = apply_event(running, _outputs(DEPLOY, events.OpType.CREATE))
    assert done.rows[0].status == "done"
    assert running.rows[0].status == "running"  # the input is not changed
    assert done.completed == 1


def test_stack_resource_is_left_out() -> None:
    assert _fold(_pre(STACK, events.OpType.CREATE)).rows == ()


def test_unchanged_resource_is_done_at_once() -> None:
    assert _fold(_pre(DEPLOY, events.OpType.SAME)).rows[0].status == "done"


def test_preview_steps_are_planned() -> None:
    progress = _fold(_pre(DEPLOY, events.OpType.UPDATE, planning=True))
    assert (progress.rows[0].op, progress.rows[0].status) == ("update", "planned")


def test_failure_with_error_diagnostic() -> None:
    failed = events.ResOpFailedEvent(_meta(DEPLOY, DEPLOY_TYPE, events.OpType.CREATE), 1, 1)
    diagnostic = events.DiagnosticEvent(
        message="admission webhook denied\nmore detail",
        color="never",
        severity="error",
        urn=DEPLOY,
    )
    progress = _fold(
        _pre(DEPLOY, events.OpType.CREATE),
        _event(res_op_failed_event=failed),
        _event(diagnostic_event=diagnostic),
    )
    assert progress.rows[0].status == "failed"
    assert progress.rows[0].message == "admission webhook denied"
    assert progress.failed == 1
    assert progress.diagnostics == ("error: admission webhook denied\nmore detail",)


def test_info_diagnostics_are_ignored() -> None:
    info = events.DiagnosticEvent(message="hello", color="never", severity="info")
    assert _fold(_event(diagnostic_event=info)) == Progress()


def test_summary_finishes() -> None:
    summary = events.SummaryEvent(
        maybe_corrupt=False,
        duration_seconds=3,
        resource_changes={events.OpType.CREATE: 10, events.OpType.SAME: 2},
        policy_packs={},
    )
    progress = _fold(_event(summary_event=summary))
    assert progress.finished
    assert progress.summary == {"create": 10, "same": 2}


def test_render_shows_rows_and_counts() -> None:
    from rich.console import Console

    console = Console(width=160, record=True, color_system=None)
    console.print(render(_fold(_pre(DEPLOY, events.OpType.CREATE)), "up dev"))
    text = console.export_text()
    assert "api-api" in text
    assert "0/1 resources" in text
