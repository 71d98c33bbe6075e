"""`make audit`: pip-audit over the project's installed environment, from an isolated pip-audit.

The installed distributions (``pip list --exclude-editable`` of this interpreter: the project itself, ``drskin``,
installed editable, is left out) are written as exact pins and checked by pip-audit's default service (PyPI's JSON
API, ``https://pypi.org/pypi/<name>/<version>/json``, which lists each release's known vulnerabilities). pip-audit
itself runs from its own virtual environment (``var/audit-venv``, made by the Makefile) so that its dependencies do
not change what is audited.

Exit status: 0 when every distribution was audited and none has a known vulnerability; 1 when some have; 2 when
some could not be audited (the vulnerability service was unreachable or did not know them): "no known
vulnerabilities" is only claimed for what was actually checked.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def installed_pins(python: str) -> list[str]:
    listed = subprocess.run([python, "-m", "pip", "list", "--format=json", "--exclude-editable",
                             "--disable-pip-version-check"], capture_output=True, text=True, check=True)
    return sorted(f"{item['name']}=={item['version']}" for item in json.loads(listed.stdout))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pip-audit", default=str(ROOT / "var" / "audit-venv" / "bin" / "pip-audit"))
    parser.add_argument("--python", default=sys.executable, help="the environment to audit (default: this one)")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "audit.json")
    args = parser.parse_args()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    requirements = args.out.with_suffix(".requirements.txt")
    pins = installed_pins(args.python)
    requirements.write_text("\n".join(pins) + "\n")
    # --no-deps: the list is already the whole environment; --disable-pip: nothing is resolved or installed.
    subprocess.run([args.pip_audit, "-r", str(requirements), "--no-deps", "--disable-pip", "--progress-spinner",
                    "off", "-f", "json", "-o", str(args.out)], check=False)
    try:
        report = json.loads(args.out.read_text())
    except (OSError, ValueError):
        print(f"pip-audit wrote no report to {args.out}", file=sys.stderr)
        return 2
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if "skip_reason" in d]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    audited = len(dependencies) - len(skipped)
    print(f"{len(pins)} installed distributions (editable ones left out); {audited} audited, {len(skipped)} could "
          f"not be audited, {len(vulnerable)} with known vulnerabilities. Report: {args.out}")
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release"
            print(f"  {dependency['name']} {dependency['version']}: {vuln['id']} (fixed in: {fixed})")
    if skipped:
        print(f"  not audited, e.g. {skipped[0]['skip_reason']}", file=sys.stderr)
    if vulnerable:
        return 1
    return 2 if skipped else 0


if __name__ == "__main__":
    sys.exit(main())
