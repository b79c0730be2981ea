"""One module per lecture, named after it: the figures, measurements and widgets each chapter shows.

Fourth layer: imports the science, ``utils.models`` and ``utils.zoo``, and only
*earlier* chapters (chapter 4 builds on chapter 3's pyramid, never the other
way round). ``lectures/NN_name.ipynb`` <-> ``utils/chapters/name.py``; ``CHAPTERS``
lists them in the book's order.
"""

#: The chapters in the book's order: ``lectures/NN_name.ipynb`` is taught with ``utils/chapters/name.py``.
CHAPTERS = ("segmentation_tasks", "patches_to_fcn", "multiscale", "iterative_refinement",
            "upsampling_skip_connections", "deconvolution_arithmetic", "instance_segmentation", "attention",
            "your_own_data")
