"""What the reader meets around a chapter's figures (top layer: may import every layer below).

- ``glue``: computed numbers handed to the prose (every chapter).
- ``widgets``, ``twin``: the live widgets and their kernel-free twins in the book (every chapter).
- ``papers``: the published numbers and the verdicts that compare ours with them (chapters 2 to 7).
- ``exercises``: the exercises' checkers (every chapter).
- ``colab``: the Colab copies of the chapters (``python -m utils.reader.colab``).
"""
