"""The service's infrastructure: the catalog, the CDK stack (aws/) and the local cloud (local/).

Both read the service's own code (its HTTP contract, its handlers) as Lambda loads it, from the core
layer: it goes on the path here, once, for CDK synth, the local stack and the generators in tools/.
"""

import sys
from pathlib import Path

CORE_LAYER = str(Path(__file__).resolve().parents[1] / "layers" / "core" / "python")
if CORE_LAYER not in sys.path:
    sys.path.insert(0, CORE_LAYER)
