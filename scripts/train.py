"""Train the Rasa model only when its inputs changed: the model file is named after a hash of them."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INPUTS = [ROOT / "config.yml", ROOT / "domain.yml", *sorted((ROOT / "data").rglob("*.yml"))]
MODELS = ROOT / "models"
KEEP_OLDER_MODELS = 5


def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in INPUTS:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    digest.update(b"rasa==3.6.21")
    return digest.hexdigest()[:16]


def model_path() -> Path:
    return MODELS / f"hortense-{fingerprint()}.tar.gz"


def train_command(target: Path, out_dir: Path, *, force: bool = False, rasa: str | None = None) -> list[str]:
    """`rasa train` of this project's data, config and domain, run from ROOT: writes `out_dir / target.name`.

    Without Rasa's own validation pass: it only warns, and took about 20 s of every training (story conflict
    analysis). `make validate` runs the same checks with `--fail-on-warnings`, and `make test` runs it."""
    return [
        rasa or str(Path(sys.executable).parent / "rasa"),
        "train",
        "--skip-validation",
        *(["--force"] if force else []),
        "--fixed-model-name",
        target.name[: -len(".tar.gz")],
        "--out",
        str(out_dir),
        "--data",
        "data",
        "--config",
        "config.yml",
        "--domain",
        "domain.yml",
    ]


def main() -> int:
    target = model_path()
    if "--print" in sys.argv:
        print(target)
        return 0
    if target.exists():
        print(f"model up to date: {target.relative_to(ROOT)}")
        return 0
    MODELS.mkdir(exist_ok=True)
    result = subprocess.run(train_command(target, MODELS), cwd=ROOT)
    if result.returncode != 0 or not target.exists():
        print("training failed", file=sys.stderr)
        return result.returncode or 1
    # Keep a few recent models: several checkouts (branches, CI) may share this folder.
    older = sorted((m for m in MODELS.glob("hortense-*.tar.gz") if m != target), key=lambda m: m.stat().st_mtime)
    for old in older[:-KEEP_OLDER_MODELS]:
        old.unlink(missing_ok=True)
    print(f"trained {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
