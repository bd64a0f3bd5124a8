"""What the terminal shows: progress, tables, quiet frameworks."""
