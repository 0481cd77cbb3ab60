"""A complete mmeb plug-in: any object with ``encode(inputs, **context) -> array [len(inputs), dim]``.

    mmeb data synth --out mmeb-data
    mmeb run --model examples/my_model.py:MyModel --data-dir mmeb-data
    mmeb leaderboard --include-unofficial
"""

import hashlib

import numpy as np


class MyModel:
    name, revision = "my-org/bag-of-words", "v1"
    settings = {"text": "hashed bag of words, 256 buckets", "image": "4x4 RGB thumbnail"}  # saved with results

    def encode(self, inputs, **context):
        # each input (mmeb.ModelInput): .instruction, .text (the payload), .image (PIL.Image or None);
        # context: task_name, role ("query" | "candidate"), batch_size, device
        return np.stack([self.embed_one(x.text, x.image) for x in inputs])

    def embed_one(self, text, image):
        vector = np.zeros(256 + 48 + 1, dtype=np.float32)
        for word in text.lower().split():
            vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % 256] += 1.0
        if image is not None:
            vector[256:304] = np.asarray(image.convert("RGB").resize((4, 4)), dtype=np.float32).ravel() / 255
        vector[-1] = 1e-3  # never the zero vector: cosine similarity stays defined
        return vector
