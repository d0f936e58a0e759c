"""Reports: logs, plots, tables built from events or from saved results only."""
