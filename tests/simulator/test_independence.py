"""The simulator is a witness, not a mirror: no import of the client's rules or signer."""

from __future__ import annotations

import ast
from pathlib import Path

SIMULATOR = Path(__file__).resolve().parents[2] / "ecs_notebook" / "simulator"
#: Shared plain value types the simulator may use (ids and their shapes).
ALLOWED = {"ecs_notebook.model.ids", "ecs_notebook.secrets"}
FORBIDDEN = ("ecs_notebook.model", "ecs_notebook.auth", "ecs_notebook.client")


def _imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = ["ecs_notebook", "simulator"][: 2 - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found += [module] + [f"{module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return found


def test_no_import_of_client_validation_or_signing() -> None:
    offending = []
    for path in sorted(SIMULATOR.glob("*.py")):
        for module in _imports(path):
            if module in ALLOWED or any(module.startswith(a + ".") for a in ALLOWED):
                continue
            if module.startswith(FORBIDDEN):
                offending.append(f"{path.name}: {module}")
    assert offending == []


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from ..model import ReinstallRequest\nfrom ..auth.signing import sign\n")
    assert "ecs_notebook.model.ReinstallRequest" in _imports(bad)
    assert "ecs_notebook.auth.signing" in _imports(bad)


def test_every_refusal_cites_a_section_and_is_documented() -> None:
    from ecs_notebook.simulator import contract

    docs = (SIMULATOR.parents[1] / "docs" / "simulator.md").read_text(encoding="utf-8")
    refusals = [v for v in vars(contract).values() if isinstance(v, contract.Refusal)]
    assert len(refusals) >= 10
    for refusal in refusals:
        assert refusal.section and refusal.meaning, refusal
        assert f"{refusal.status} `{refusal.code}`" in docs, refusal
    assert all(field.section for field in contract.FIELDS)
