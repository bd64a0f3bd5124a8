"""The study as pictures and tables: plots, trials.csv, the run description, the report file."""

# what the end-of-run report (plots, trials.csv, description) takes: measured about 3 s on
# 2 cores for a 20-trial study; trials stop early enough to leave it this time
REPORT_RESERVE_SECONDS = 4.0
