"""Bootstrap tokens kept in a state file: shared between processes, hashes only, 0600."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lattice_pulumi import pki
from lattice_pulumi.cell import CellError, CellState, TokenFile


def test_a_token_issued_by_one_store_is_redeemed_and_burnt_through_another(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tokens.json"
    issued = TokenFile(path).issue("alpha")
    with TokenFile(path).redeeming(issued.token) as cluster:
        assert cluster == "alpha"
    with pytest.raises(pki.TokenReplayedError), TokenFile(path).redeeming(issued.token):
        pass


def test_the_file_holds_hashes_only_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    issued = TokenFile(path).issue("alpha")
    text = path.read_text()
    assert issued.token.split(".")[2] not in text
    assert issued.token_id in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_failed_enrolment_leaves_the_token_unused(tmp_path: Path) -> None:
    store = TokenFile(tmp_path / "tokens.json")
    issued = store.issue("alpha")
    with pytest.raises(RuntimeError), store.redeeming(issued.token):
        raise RuntimeError("signing failed")
    with store.redeeming(issued.token) as cluster:
        assert cluster == "alpha"


def test_expired_tokens_are_refused_and_pruned_on_the_next_issue(tmp_path: Path) -> None:
    now = [datetime.now(UTC)]
    store = TokenFile(tmp_path / "tokens.json", clock=lambda: now[0])
    old = store.issue("alpha", timedelta(minutes=5))
    now[0] += timedelta(minutes=6)
    with pytest.raises(pki.TokenInvalidError, match="has expired"), store.redeeming(old.token):
        pass
    store.issue("beta")
    assert old.token_id not in (tmp_path / "tokens.json").read_text()


def test_an_unreadable_store_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("{not json")
    with pytest.raises(CellError, match=r"token store .*tokens.json is unreadable"):
        TokenFile(path).issue("alpha")


def test_state_dir_is_created_once_and_reused(tmp_path: Path) -> None:
    first = CellState.open(tmp_path / "state", "root")
    second = CellState.open(tmp_path / "state", "root", create=False)
    assert first.ca.fingerprint == second.ca.fingerprint
    assert stat.S_IMODE((tmp_path / "state" / "ca.key").stat().st_mode) == 0o600
    with pytest.raises(CellError, match="no cell state in"):
        CellState.open(tmp_path / "missing", "root", create=False)
