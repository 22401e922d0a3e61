#!/usr/bin/python3
"""Writes a lit4j model folder with random weights, for benchmarks:

    /usr/bin/python3 bench/peers/make_random_model.py --config CONFIG.json --out DIR [--seed 0]

CONFIG.json is a lit4j config (models/README.md: {"image": {...}, "text": {...}, "loss": ...}), or a
bare tower config (a ViT if it has "image_size", else a text tower). DIR gets config.json (the full
lit4j config) and model.safetensors (float32, every parameter of models/README.md's table; `t` =
log 10 and, for the sigmoid loss, `b` = -10 when there are two towers). The parameter list is
written out here independently of torch_peer.py, so that loading these files also checks the peer's
naming. Needs only numpy. Same config and seed, same bytes.

Weights: dense kernels N(0, 1/fan_in), biases N(0, 0.02^2), LayerNorm scales 1 + N(0, 0.05^2) and
biases N(0, 0.02^2), embeddings (tokens, positions, types, CLS) N(0, 0.1^2). These are not trained
weights; they only keep activations in a realistic range (no overflow in bf16).
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np


def expected_params(conf):
    """[(name, shape)] for a full lit4j config, in models/README.md's naming."""
    out = []
    for tower in ("image", "text"):
        cfg = conf.get(tower)
        if not cfg:
            continue
        t = "img" if tower == "image" else "txt"
        d, m, e = cfg["width"], cfg["mlp_dim"], cfg.get("head_dim", 0)
        bert = tower == "text" and cfg.get("kind", "transformer") == "bert"
        if tower == "image":
            p, c = cfg["patch_size"], cfg.get("channels", 3)
            out += [("img.patch.kernel", (p * p * c, d)), ("img.patch.bias", (d,))]
            if cfg.get("pool", "tok") == "tok":
                out.append(("img.cls", (d,)))
            out.append(("img.pos", ((cfg["image_size"] // p) ** 2, d)))
        else:
            out.append(("txt.tok", (cfg["vocab_size"], d)))
            if bert:
                out += [("txt.pos", (cfg.get("max_position", 512), d)),
                        ("txt.type", (cfg.get("type_vocab_size", 2), d)),
                        ("txt.emb_norm.scale", (d,)), ("txt.emb_norm.bias", (d,))]
            else:
                out.append(("txt.pos", (cfg["context_length"], d)))
        for i in range(cfg["depth"]):
            q = f"{t}.blocks.{i}."
            out += [(q + "ln1.scale", (d,)), (q + "ln1.bias", (d,)),
                    (q + "attn.qkv.kernel", (d, 3 * d)), (q + "attn.qkv.bias", (3 * d,)),
                    (q + "attn.out.kernel", (d, d)), (q + "attn.out.bias", (d,)),
                    (q + "ln2.scale", (d,)), (q + "ln2.bias", (d,)),
                    (q + "mlp.fc1.kernel", (d, m)), (q + "mlp.fc1.bias", (m,)),
                    (q + "mlp.fc2.kernel", (m, d)), (q + "mlp.fc2.bias", (d,))]
        if not bert:
            out += [(t + ".norm.scale", (d,)), (t + ".norm.bias", (d,))]
        if e:
            out += [(t + ".head.kernel", (d, e)), (t + ".head.bias", (e,))]
    if conf.get("image") and conf.get("text"):
        out.append(("t", (1,)))
        if conf.get("loss", "softmax") == "sigmoid":
            out.append(("b", (1,)))
    return out


def random_param(rng, name, shape):
    if name == "t":
        return np.array([math.log(10.0)], np.float32)
    if name == "b":
        return np.array([-10.0], np.float32)
    leaf = name.rsplit(".", 1)[-1]
    if leaf == "kernel":
        return (rng.standard_normal(shape, dtype=np.float32) / np.float32(math.sqrt(shape[0])))
    if leaf == "scale":
        return 1 + np.float32(0.05) * rng.standard_normal(shape, dtype=np.float32)
    if leaf == "bias":
        return np.float32(0.02) * rng.standard_normal(shape, dtype=np.float32)
    return np.float32(0.1) * rng.standard_normal(shape, dtype=np.float32)  # embeddings


def write_random_safetensors(path, params, seed, tensors=None):
    """Streams float32 tensors (name order) to `path`; `tensors` (name -> array) overrides the
    random values for some names."""
    rng = np.random.default_rng(seed)
    header, off = {}, 0
    for name, shape in sorted(params):
        n = 4 * math.prod(shape)
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [off, off + n]}
        off += n
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for name, shape in sorted(params):
            a = random_param(rng, name, shape)
            if tensors and name in tensors:
                a = tensors[name]
            assert a.shape == tuple(shape) and a.dtype == np.float32, name
            f.write(np.ascontiguousarray(a, dtype="<f4").tobytes())


def full_config(conf):
    if "image" not in conf and "text" not in conf:
        conf = {"image": conf} if "image_size" in conf else {"text": conf}
    out = {"format": "lit4j", "version": 1}
    for k in ("image", "text"):
        if conf.get(k):
            out[k] = conf[k]
    out["loss"] = conf.get("loss", "softmax")
    return out


def main(argv):
    ap = argparse.ArgumentParser(description="Write a lit4j model folder with random weights.")
    ap.add_argument("--config", required=True, help="lit4j config.json (or a bare tower config)")
    ap.add_argument("--out", required=True, help="output folder (created)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    try:
        with open(a.config, encoding="utf-8") as f:
            conf = full_config(json.load(f))
        params = expected_params(conf)
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"make_random_model: {a.config}: {e!r}", file=sys.stderr)
        return 2
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "config.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(conf, indent=2) + "\n")
    write_random_safetensors(os.path.join(a.out, "model.safetensors"), params, a.seed)
    n = sum(math.prod(s) for _, s in params)
    print(f"{a.out}: {len(params)} tensors, {n / 1e6:.2f}M parameters", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
