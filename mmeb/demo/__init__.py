"""The offline demo (``mmeb demo``): the whole product on one CPU machine with no network.

    scenes.py      renders coloured-shape scenes, crops and small text documents
    tasks.py       declares the 11 synthetic tasks (benchmark "synthetic"; MMEB instruction strings)
    generators.py  one example generator per task (query, positive, negatives as MMEB strings)
    benchmark.py   generates the benchmark from a seed and writes the MMEB-eval and MMEB-train layouts
    model.py       the small reference Qwen2-VL, the two-tower baseline and the training recipe
    pipeline.py    the steps: data -> models -> train -> evaluate -> leaderboard, each reused on rerun
"""
