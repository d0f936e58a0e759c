"""Running a paper's own code on this machine (``bench/paper_code.py``).

This folder is put first on the paper code's ``PYTHONPATH``. It holds stand-ins for the two
packages van de Ven & Tolias' code imports but lifelong does not install: ``torchvision`` (only
what that code uses: MNIST read from the local IDX files, ``Pad``/``ToTensor``/``Compose``/
``Lambda`` on tensors) and ``visdom`` (never used unless asked for). Nothing here is imported by
lifelong itself.
"""
