"""The tap's settings and the checks of its inputs: config, state and catalog files."""
