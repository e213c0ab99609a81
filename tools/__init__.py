"""The code generators, `make openapi` (openapi.py) and `make schemas` (samples.py), and the operator
tools (operations/: `python -m tools.operations`, `make dlq-list` and kin). They import the service's own
code as Lambda does (importing `infra` puts the core layer on the path)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
