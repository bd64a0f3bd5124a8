"""Search spaces: knobs, YAML loading and validation."""
