"""Command-line words to typed settings, and the validated run."""
