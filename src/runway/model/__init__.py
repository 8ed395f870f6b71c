"""Turn a validated config into the flat arrays the kernel reads.

See :mod:`runway.model.inputs`.
"""

from runway.model.inputs import Inputs, build_inputs

__all__ = ["Inputs", "build_inputs"]
