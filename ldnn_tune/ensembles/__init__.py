"""Ensembles of a study's best trials: combining, logging, bundles."""
