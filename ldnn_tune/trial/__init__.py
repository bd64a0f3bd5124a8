"""One trial from start to finish: objective, training, callbacks, seeds."""
