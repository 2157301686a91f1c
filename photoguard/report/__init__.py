"""Stage 6, report: JSON, CSV and HTML built from PhotoResult values only."""
