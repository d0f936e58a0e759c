"""Data: dataset files (formats, download, checksums), scenarios (streams of tasks), and scenarios
from users' own tensors, Datasets and image folders (:mod:`lifelong.data.custom`) and texts
(:mod:`lifelong.data.custom_text`)."""
