"""Rule documents compiled for the core (the plan's bits, horizons, key groups and stored
fields) and their expressions checked by the ``cel`` package; the core runs the rules."""
