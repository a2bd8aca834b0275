"""What the Python tests make of a finished `wiretally ctl` run, wherever it ran (locally, over SSH in the box)."""
import json


def ctl_answer(p, json_out):
    """A CompletedProcess of `wiretally ctl ... [--json]` as (rc, parsed JSON or None, stdout+stderr): JSON only
    when it was asked for and ctl exited 0."""
    doc = None
    if json_out and p.returncode == 0:
        try:
            doc = json.loads(p.stdout)
        except ValueError:
            doc = None
    return p.returncode, doc, (p.stdout or "") + (p.stderr or "")
