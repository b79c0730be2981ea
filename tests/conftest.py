"""Test-wide settings: a non-interactive matplotlib backend, and one core's threads per parallel test worker."""

import os

import matplotlib
import torch

matplotlib.use("Agg")

# `make unit` runs the tests in one pytest-xdist worker per core; a worker that also spread torch over every core
# would make the workers fight over them (slower than running the tests one after another).
if "PYTEST_XDIST_WORKER_COUNT" in os.environ:
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])))
