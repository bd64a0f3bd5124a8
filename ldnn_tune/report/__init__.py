"""The study as pictures and tables: plots, trials.csv, the run description, the report file."""
