"""The zoo: the shipped demo models in use (third layer: imports the science and ``utils.models``).

- ``checkpoints``: verified weights and their manifest (every chapter loads with it).
- ``inference``: a model over many images, a few at a time; label maps (chapters 2 to 5).
- ``scoring``: mIoU, per-pass scores, mask AP: what ``python -m utils.evaluate`` reports (chapters 3 to 7).
- ``losses``, ``training``: how every model learns: ``python -m utils.train`` (chapter 2 trains live for seconds).
- ``instances``, ``instance_training``: chapter 7's instance methods and their losses.
- ``model_card``: the model card's tables; ``bench``: the speed table (``python -m utils.zoo.bench``);
  ``archive``: a retrained zoo moved between machines (``python -m utils.zoo.archive``).
"""
