"""``modular-nn validate``, ``summary`` and ``schema`` through the real console script."""

import json
from pathlib import Path
from typing import Any

GOOD = {
    "input_shape": [4],
    "layers": [{"type": "dense", "units": 8, "activation": "relu"}, {"type": "dense", "units": 2}],
}
BAD = {"input_shape": [4], "layers": [{"type": "dense2", "units": -1}]}


def write(tmp_path: Path, name: str, data: dict) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def test_validate_ok_and_errors(cli: Any, tmp_path: Path) -> None:
    good = write(tmp_path, "good.json", GOOD)
    bad = write(tmp_path, "bad.json", BAD)
    ok = cli("validate", good)
    assert ok.returncode == 0 and "OK" in ok.stdout
    failed = cli("validate", good, bad)
    assert failed.returncode == 1
    assert "layers[0]" in failed.stderr and "did you mean 'dense'" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_summary_prints_the_layer_table(cli: Any, tmp_path: Path) -> None:
    result = cli("summary", write(tmp_path, "good.json", GOOD))
    assert result.returncode == 0
    assert "dense_1" in result.stdout and "(None, 2)" in result.stdout
    assert "Total params: 58" in result.stdout


def test_summary_of_missing_file_is_one_clean_error(cli: Any) -> None:
    result = cli("summary", "missing.json")
    assert result.returncode == 1
    assert result.stderr.startswith("error:") and "missing.json" in result.stderr
    assert "Traceback" not in result.stderr


def test_schema_prints_json_schema(cli: Any, tmp_path: Path) -> None:
    result = cli("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].endswith("2020-12/schema")
    out = tmp_path / "schema.json"
    assert cli("schema", "--builtins-only", "-o", str(out)).returncode == 0
    assert json.loads(out.read_text())["title"] == "modular_nn model spec"


def test_schema_to_a_path_it_cannot_write_is_one_clean_error(cli: Any, tmp_path: Path) -> None:
    result = cli("schema", "-o", str(tmp_path / "missing" / "dir" / "s.json"))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: cannot write ")
