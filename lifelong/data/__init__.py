"""Data: dataset files (formats, download, checksums) and scenarios (streams of tasks)."""
