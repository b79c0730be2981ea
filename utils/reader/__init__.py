"""What the reader meets around a chapter's figures (top layer: may import every layer below).

- ``glue``: computed numbers handed to the prose (every chapter).
- ``widgets``, ``twin``: the live widgets and their kernel-free twins in the book (every chapter).
- ``papers``: the published numbers ours are compared with (chapters 2 to 7).
- ``comparisons``: a compared pair with its scene interval, its training seeds' spread and its verdict (chapters 3 to 7).
- ``exercises``: the exercises' checkers (every chapter).
- ``colab``: the Colab copies of the chapters (``python -m utils.reader.colab``).
"""
