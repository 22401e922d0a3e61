#!/usr/bin/python3
"""Independent reference for lit4j's perceptual hash: writes java/src/test/resources/golden/dedup/phash.tsv.

Run by hand, never by CI (Debian's python3-numpy and python3-pil; no scipy needed):

    /usr/bin/python3 java/src/test/reference/make_dedup_golden.py

Transcribes the DCT hash of the imagehash library (JohannesBuchner/imagehash,
imagehash/__init__.py, phash with hash_size=8, highfreq_factor=4: grey image shrunk to 32x32,
scipy.fftpack.dct along axis 0 then axis 1, the top-left 8x8, each bit "above the median"),
with the two changes lit4j makes so that the bits can be checked exactly (see
io.lit4j.dedup.PerceptualHash): the shrink is an exact area average (box filter with fractional
coverage) instead of PIL's Lanczos, and grey is 0.299 R + 0.587 G + 0.114 B in float64 instead of
PIL's rounded 'L'. scipy.fftpack.dct (type II, unnormalised) is written out as its definition,
y[k] = 2 sum_n x[n] cos(pi k (2n + 1) / (2N)), and checked against a direct 2-D sum.

Inputs: the shipped sample images (models/default/samples/*.png), read with PIL as stored (no
colour management), and three generated images of odd sizes, written as PNG beside the table.
"""

import os

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(ROOT, "..", "..", "..", ".."))
SAMPLES = os.path.join(REPO, "models", "default", "samples")
OUT = os.path.join(REPO, "java", "src", "test", "resources", "golden", "dedup")
SIDE, BLOCK = 32, 8


def coverage(n):
    """[SIDE, n]: the share of source pixel x in output cell j (each row sums to 1)."""
    w = np.zeros((SIDE, n))
    cell = n / SIDE
    for j in range(SIDE):
        lo, hi = j * cell, (j + 1) * cell
        for x in range(int(np.floor(lo)), min(n, int(np.ceil(hi)))):
            w[j, x] = (min(hi, x + 1) - max(lo, x)) / cell
    return w


def dct2(x, axis):
    """scipy.fftpack.dct(x, type=2, axis=axis), unnormalised."""
    n = x.shape[axis]
    k = np.arange(n)[:, None]
    c = 2 * np.cos(np.pi * k * (2 * np.arange(n)[None, :] + 1) / (2 * n))
    return np.moveaxis(np.tensordot(c, np.moveaxis(x, axis, 0), axes=1), 0, axis)


def phash(rgb):
    rgb = rgb.astype(np.float64)
    grey = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    h, w = grey.shape
    small = coverage(h) @ grey @ coverage(w).T
    low = dct2(dct2(small, 0), 1)[:BLOCK, :BLOCK]
    # the separable transform equals the direct 2-D sum
    y, x = np.arange(SIDE)[:, None], np.arange(SIDE)[None, :]
    for u, v in [(0, 0), (3, 5), (7, 7)]:
        direct = 4 * np.sum(small * np.cos(np.pi * u * (2 * y + 1) / (2 * SIDE)) * np.cos(np.pi * v * (2 * x + 1) / (2 * SIDE)))
        assert abs(direct - low[u, v]) < 1e-6 * max(1, abs(direct)), (u, v)
    bits = (low > np.median(low)).flatten()
    value = 0
    for b in bits:                      # row-major, the first coefficient the most significant bit
        value = (value << 1) | int(b)
    return "%016x" % value


def read(path):
    img = Image.open(path)
    if img.mode in ("L", "I;16", "LA"):
        a = np.asarray(img.convert("L")) if img.mode != "I;16" else np.asarray(img) / 257.0
        return np.stack([a, a, a], axis=-1)
    return np.asarray(img.convert("RGB"))


def main():
    os.makedirs(OUT, exist_ok=True)
    rows = []
    for name in sorted(f for f in os.listdir(SAMPLES) if f.endswith(".png")):
        rows.append(("samples/" + name, phash(read(os.path.join(SAMPLES, name)))))
    rng = np.random.default_rng(7)
    for i, (h, w) in enumerate([(23, 37), (70, 5), (45, 45)]):
        yy, xx = np.mgrid[0:h, 0:w]
        rgb = np.stack([(xx * 7 + yy * 3) % 256, (yy * 11) % 256, rng.integers(0, 256, (h, w))], axis=-1).astype(np.uint8)
        name = "generated-%d.png" % i
        Image.fromarray(rgb, "RGB").save(os.path.join(OUT, name))
        rows.append((name, phash(read(os.path.join(OUT, name)))))
    with open(os.path.join(OUT, "phash.tsv"), "w") as f:
        f.write("# image\tphash (make_dedup_golden.py)\n")
        for name, hx in rows:
            f.write("%s\t%s\n" % (name, hx))
    print("wrote %d hashes to %s" % (len(rows), OUT))


if __name__ == "__main__":
    main()
