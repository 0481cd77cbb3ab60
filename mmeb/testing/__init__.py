"""Offline stand-ins in the real layouts: the synthetic data mirror writer (``mirror``) and the tiny
random-weight models of the real architectures (``models``). Tests, the demo, ``mmeb data`` and bench/ use them."""
