"""The article's training recipe every task reuses."""
