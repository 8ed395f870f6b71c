"""What drives it: tornado, Sobol' indices and the drivers of the worst outcomes.

- :func:`tornado`: each uncertain input (or group) held at its P10 and at its P90, everything
  else as drawn, paired by common random numbers (:mod:`.tornado`);
- :func:`sobol`: first-order and total Sobol' indices from SALib's design, the monthly shocks
  a factor of their own (:mod:`.sobol`);
- :func:`drivers`: from an existing run, which inputs separate the worst decile of gaps and
  the defaulted paths from the rest (:mod:`.drivers`); free, so ``runway run`` reports it.

Each returns a DataFrame in SALib's spirit: one row per (output, input), the index and its
interval in columns (docs/sensitivity.md).
"""

from runway.sensitivity.drivers import drivers
from runway.sensitivity.inputs import Group, make_groups, uncertain_inputs
from runway.sensitivity.sobol import sobol
from runway.sensitivity.tornado import tornado

__all__ = ["Group", "drivers", "make_groups", "sobol", "tornado", "uncertain_inputs"]
