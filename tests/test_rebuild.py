"""`make tables` (rlef.analysis.rebuild): the committed tables are what the code computes from the
committed runs, and a manifest that names a missing input or an unknown tool is refused before any
file is rewritten."""
import csv
import shutil
from pathlib import Path

import pytest

from rlef.analysis.rebuild import MANIFEST, read_manifest, rebuild

ROOT = Path(__file__).resolve().parents[1]


def numbers(path: Path) -> list[dict]:
    """A CSV's rows, numeric cells only (text cells such as run paths name where a run lay, not what it gave)."""
    def number(value: str):
        try:
            return round(float(value), 9)
        except ValueError:
            return None
    with path.open() as f:
        return [{k: n for k, v in row.items() if (n := number(v)) is not None} for row in csv.DictReader(f)]


def written_csvs(manifest: Path) -> list[Path]:
    """Every CSV in the folders the manifest's commands name (summary writes into the folder it reads)."""
    folders = {Path(a) if argv[0] == "summary" else Path(a).parent
               for argv in read_manifest(manifest) for a in argv[1:] if a.startswith("results/")}
    return sorted(p for folder in folders for p in folder.glob("*.csv"))


def test_rebuilding_from_the_committed_runs_gives_the_committed_numbers(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "results", tmp_path / "results", symlinks=True)
    monkeypatch.chdir(ROOT)
    committed = {p: numbers(p) for p in written_csvs(MANIFEST)}
    assert len(committed) > 40
    before = {p: (tmp_path / p).stat().st_mtime_ns for p in committed}
    ran = rebuild(tmp_path)
    assert ran == len(read_manifest(MANIFEST))
    for path, rows in committed.items():
        assert numbers(tmp_path / path) == rows, f"{path} differs when rebuilt from the committed runs"
    assert sum((tmp_path / p).stat().st_mtime_ns != t for p, t in before.items()) > 40  # rewritten, not left


@pytest.mark.parametrize(("line", "message"), [
    ("compare results/nowhere/a results/nowhere/b results/x/out", "results/nowhere/a, results/nowhere/b"),
    ("compare outputs/eval/a results/base_model_eval results/x/out", "outputs/eval/a"),
    ("copy results/base_model_eval results/x", "unknown tool 'copy'")])
def test_a_manifest_line_that_reads_no_committed_file_is_refused_before_anything_runs(tmp_path, monkeypatch,
                                                                                       line, message):
    shutil.copytree(ROOT / "results" / "base_model_eval", tmp_path / "results" / "base_model_eval")
    summary = tmp_path / "results" / "base_model_eval" / "summary.csv"
    (tmp_path / "results" / "tables.yaml").write_text(f"- summary results/base_model_eval\n- {line}\n")
    summary.write_text("left as it was\n")
    with pytest.raises(ValueError, match=message):
        rebuild(tmp_path)
    assert summary.read_text() == "left as it was\n"  # the first line did not run either
