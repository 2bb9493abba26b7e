"""How the stateful property tests run: one seed, one size, printed so a run replays.

`LAUNCH_PROPERTY_SEED` replays a run; `LAUNCH_PROPERTY_SEQUENCES` and
`LAUNCH_PROPERTY_STEPS` scale it (`make test-property`)."""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, seed, settings
from hypothesis.stateful import run_state_machine_as_test

SEED = int(os.environ.get("LAUNCH_PROPERTY_SEED", "20261128"))
SEQUENCES = int(os.environ.get("LAUNCH_PROPERTY_SEQUENCES", "25"))
STEPS = int(os.environ.get("LAUNCH_PROPERTY_STEPS", "25"))


def run_seeded(
    machine: type,
    *,
    name: str,
    capsys: Any,
    sequences: int | None = None,
    steps: int | None = None,
) -> None:
    """Run `machine` with the session's seed and size, saying the seed first; a machine
    whose steps are costly caps the size (`sequences`, `steps`: at most the session's)."""
    with capsys.disabled():
        print(f"\n{name} property: seed {SEED} (replay with LAUNCH_PROPERTY_SEED={SEED})")
    run_state_machine_as_test(
        seed(SEED)(machine),
        settings=settings(
            max_examples=min(SEQUENCES, sequences or SEQUENCES),
            stateful_step_count=min(STEPS, steps or STEPS),
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
