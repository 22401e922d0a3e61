#!/usr/bin/python3
"""Independent numerical reference for lit4j: writes java/src/test/resources/golden/.

Run by hand, never by CI:

    sudo apt install python3-torch libopenblas0-openmp
    /usr/bin/python3 java/src/test/reference/make_golden.py

Needs only Debian's torch (1.13) and numpy (1.24). The three towers (ViT, big_vision text
transformer, BERT) are written here in plain torch and evaluated in float64 from float32 (or
float16-rounded) weights; every golden tensor is stored as float32. Weights and inputs come from
fixed seeds, every file is written by hand (safetensors writer, zip writer with fixed time stamps),
so two runs produce byte-identical files.

Self-checks (assert; a failure aborts before anything is trusted):
  * LayerNorm / GELU against torch.nn.functional, attention against torch.nn.MultiheadAttention,
    whole towers against an independent build from torch modules (conv2d patch embedding,
    nn.TransformerEncoderLayer stacks);
  * every written weight file is read back, converted to lit4j naming by separately written
    inverse converters (each key must be used exactly once), and the tower is recomputed: the
    outputs must be bit-identical to the goldens (float16 file: equal to the goldens computed from
    the independently rounded weights);
  * every golden file is read back and compared with the values it should hold.
"""

import io
import json
import math
import os
import struct
import sys
import zipfile

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(0)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "resources", "golden"))
B = 3
F64 = torch.float64

# --------------------------------------------------------------------------------------------
# Configurations (lit4j tower configs, exactly as models/README.md specifies them)
# --------------------------------------------------------------------------------------------

CFG = {
    "vit": {"image_size": 32, "patch_size": 8, "channels": 3, "width": 48, "depth": 2,
            "heads": 3, "mlp_dim": 96, "pool": "tok", "ln_eps": 1e-6, "gelu": "tanh",
            "head_dim": 40},
    "vit_gap": {"image_size": 32, "patch_size": 8, "channels": 3, "width": 48, "depth": 1,
                "heads": 3, "mlp_dim": 96, "pool": "gap", "ln_eps": 1e-12, "gelu": "erf",
                "head_dim": 0},
    "vit_hf": {"image_size": 32, "patch_size": 8, "channels": 3, "width": 48, "depth": 2,
               "heads": 3, "mlp_dim": 96, "pool": "tok", "ln_eps": 1e-12, "gelu": "erf",
               "head_dim": 0},
    "txt": {"kind": "transformer", "vocab_size": 101, "context_length": 11, "width": 48,
            "depth": 2, "heads": 4, "mlp_dim": 80, "pool": "last", "ln_eps": 1e-6,
            "gelu": "tanh", "head_dim": 40},
    "bert": {"kind": "bert", "vocab_size": 103, "max_position": 20, "type_vocab_size": 2,
             "context_length": 11, "width": 48, "depth": 2, "heads": 4, "mlp_dim": 80,
             "pool": "first", "ln_eps": 1e-12, "gelu": "erf", "head_dim": 40},
}
CFG["bert_bv"] = dict(CFG["bert"], gelu="tanh")
CFG["bert_hf"] = dict(CFG["bert"], head_dim=0)
TOWER = {"vit": "image", "vit_gap": "image", "vit_hf": "image",
         "txt": "text", "bert": "text", "bert_bv": "text", "bert_hf": "text"}

# --------------------------------------------------------------------------------------------
# File writers / readers
# --------------------------------------------------------------------------------------------

ST_DTYPES = {np.dtype("float32"): "F32", np.dtype("float16"): "F16",
             np.dtype("int32"): "I32", np.dtype("int64"): "I64"}
ST_NP = {v: k for k, v in ST_DTYPES.items()}


def write_safetensors(path, tensors, metadata=None):
    """safetensors: u64 LE header length, JSON header (8-byte aligned with spaces), raw LE data.
    Tensors are laid out in name order; `__metadata__` (string -> string) comes first."""
    header = {}
    if metadata is not None:
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
        header["__metadata__"] = metadata
    blobs, off = [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        dt = ST_DTYPES[a.dtype]
        raw = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for raw in blobs:
            f.write(raw)


def read_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", None)
    data = buf[8 + n:]
    out, ends = {}, []
    for name, info in header.items():
        b, e = info["data_offsets"]
        dt = ST_NP[info["dtype"]].newbyteorder("<")
        a = np.frombuffer(data[b:e], dtype=dt).reshape(info["shape"])
        out[name] = a.astype(a.dtype.newbyteorder("="))
        ends.append((b, e))
    ends.sort()
    pos = 0
    for b, e in ends:  # contiguous, no holes, no overlap
        assert b == pos, (path, b, pos)
        pos = e
    assert pos == len(data), (path, pos, len(data))
    return out, meta


def write_npz(path, arrays):
    """Like numpy.savez (stored, zip64 local headers, `.npy` members), but with a fixed time stamp
    and member order (sorted) so the bytes are reproducible."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key in sorted(arrays):
            a = np.ascontiguousarray(arrays[key])
            zi = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_STORED
            with zf.open(zi, "w", force_zip64=True) as fid:
                np.lib.format.write_array(fid, a, allow_pickle=False)


def read_npz(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(obj, indent=2) + "\n")


def cfg_json(cfg):
    return json.dumps(cfg, separators=(", ", ": "))


# --------------------------------------------------------------------------------------------
# The model, in plain torch (float64)
# --------------------------------------------------------------------------------------------

def T(a):
    return torch.from_numpy(np.ascontiguousarray(a)).to(F64)


def layer_norm(x, p, eps):
    scale, bias = p
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)  # biased
    return (x - mu) / torch.sqrt(var + eps) * scale + bias


def gelu(x, kind):
    if kind == "tanh":
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    if kind == "erf":
        return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    raise ValueError(kind)


def dense(x, p):
    kernel, bias = p
    return x @ kernel + bias


def attention(x, qkv, out, heads, key_mask=None):
    """x [B,T,D]; qkv = (kernel [D,3D], bias [3D]); key_mask [B,T] bool (True = attend)."""
    b, t, d = x.shape
    dh = d // heads
    y = dense(x, qkv)
    q, k, v = y[..., :d], y[..., d:2 * d], y[..., 2 * d:]

    def split(z):  # [B,T,D] -> [B,H,T,dh], head-major columns
        return z.reshape(b, t, heads, dh).permute(0, 2, 1, 3)

    s = split(q) @ split(k).transpose(-1, -2) / math.sqrt(dh)
    if key_mask is not None:
        s = s.masked_fill(~key_mask[:, None, None, :], float("-inf"))
    p = torch.softmax(s, dim=-1)
    o = (p @ split(v)).permute(0, 2, 1, 3).reshape(b, t, d)
    return dense(o, out)


def blk(P, t, i):
    g = lambda n: T(P[f"{t}.blocks.{i}.{n}"])
    return {n: (g(n + ".scale"), g(n + ".bias")) if n.startswith("ln")
            else (g(n + ".kernel"), g(n + ".bias"))
            for n in ("ln1", "attn.qkv", "attn.out", "ln2", "mlp.fc1", "mlp.fc2")}


def pre_ln_blocks(x, P, t, cfg, outs):
    for i in range(cfg["depth"]):
        w = blk(P, t, i)
        y = layer_norm(x, w["ln1"], cfg["ln_eps"])
        x = x + attention(y, w["attn.qkv"], w["attn.out"], cfg["heads"])
        y = layer_norm(x, w["ln2"], cfg["ln_eps"])
        x = x + dense(gelu(dense(y, w["mlp.fc1"]), cfg["gelu"]), w["mlp.fc2"])
        outs[f"block.{i}"] = x
    return x


def head_and_normalize(P, t, cfg, pooled, outs):
    outs["pooled"] = pooled
    z = pooled
    if cfg["head_dim"] > 0:
        z = outs["logits"] = dense(pooled, (T(P[f"{t}.head.kernel"]), T(P[f"{t}.head.bias"])))
    outs["embedding"] = z / (torch.linalg.vector_norm(z, dim=-1, keepdim=True) + 1e-8)
    return outs


def patchify(images, p):
    b, s, _, c = images.shape
    g = s // p
    x = images.reshape(b, g, p, g, p, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(b, g * g, p * p * c)  # row-major patches, each (row, column, channel)


def vit_forward(P, cfg, images):
    outs = {}
    x = dense(patchify(T(images), cfg["patch_size"]), (T(P["img.patch.kernel"]), T(P["img.patch.bias"])))
    x = x + T(P["img.pos"])
    if cfg["pool"] == "tok":
        cls = T(P["img.cls"]).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1)
    x = pre_ln_blocks(x, P, "img", cfg, outs)
    enc = outs["encoded"] = layer_norm(x, (T(P["img.norm.scale"]), T(P["img.norm.bias"])), cfg["ln_eps"])
    pooled = enc[:, 0] if cfg["pool"] == "tok" else enc.mean(dim=1)
    return head_and_normalize(P, "img", cfg, pooled, outs)


def txt_forward(P, cfg, tokens):
    outs = {}
    tok = torch.from_numpy(tokens.astype(np.int64))
    x = T(P["txt.tok"])[tok] + T(P["txt.pos"])
    x = pre_ln_blocks(x, P, "txt", cfg, outs)
    enc = outs["encoded"] = layer_norm(x, (T(P["txt.norm.scale"]), T(P["txt.norm.bias"])), cfg["ln_eps"])
    assert cfg["pool"] == "last"
    return head_and_normalize(P, "txt", cfg, enc[:, -1], outs)


def bert_forward(P, cfg, tokens):
    outs = {}
    tok = torch.from_numpy(tokens.astype(np.int64))
    L = tok.shape[1]
    x = T(P["txt.tok"])[tok] + T(P["txt.pos"])[:L] + T(P["txt.type"])[0]
    x = layer_norm(x, (T(P["txt.emb_norm.scale"]), T(P["txt.emb_norm.bias"])), cfg["ln_eps"])
    mask = tok != 0
    for i in range(cfg["depth"]):
        w = blk(P, "txt", i)
        a = attention(x, w["attn.qkv"], w["attn.out"], cfg["heads"], key_mask=mask)
        x = layer_norm(x + a, w["ln1"], cfg["ln_eps"])
        m = dense(gelu(dense(x, w["mlp.fc1"]), cfg["gelu"]), w["mlp.fc2"])
        x = layer_norm(x + m, w["ln2"], cfg["ln_eps"])
        outs[f"block.{i}"] = x
    outs["encoded"] = x
    return head_and_normalize(P, "txt", cfg, x[:, 0], outs)


def forward(P, cfg, inp):
    if "image_size" in cfg:
        return vit_forward(P, cfg, inp)
    return bert_forward(P, cfg, inp) if cfg["kind"] == "bert" else txt_forward(P, cfg, inp)


# --------------------------------------------------------------------------------------------
# Independent second implementation from torch modules (cross-check only)
# --------------------------------------------------------------------------------------------

def torch_act(kind):
    return (lambda x: F.gelu(x, approximate="tanh")) if kind == "tanh" else (lambda x: F.gelu(x))


def torch_layer(P, t, i, cfg, norm_first):
    d, m = cfg["width"], cfg["mlp_dim"]
    layer = torch.nn.TransformerEncoderLayer(
        d, cfg["heads"], dim_feedforward=m, dropout=0.0, activation=torch_act(cfg["gelu"]),
        layer_norm_eps=cfg["ln_eps"], batch_first=True, norm_first=norm_first, dtype=F64)
    layer.eval()
    g = lambda n: T(P[f"{t}.blocks.{i}.{n}"])
    with torch.no_grad():
        layer.self_attn.in_proj_weight.copy_(g("attn.qkv.kernel").T)
        layer.self_attn.in_proj_bias.copy_(g("attn.qkv.bias"))
        layer.self_attn.out_proj.weight.copy_(g("attn.out.kernel").T)
        layer.self_attn.out_proj.bias.copy_(g("attn.out.bias"))
        layer.norm1.weight.copy_(g("ln1.scale"))
        layer.norm1.bias.copy_(g("ln1.bias"))
        layer.norm2.weight.copy_(g("ln2.scale"))
        layer.norm2.bias.copy_(g("ln2.bias"))
        layer.linear1.weight.copy_(g("mlp.fc1.kernel").T)
        layer.linear1.bias.copy_(g("mlp.fc1.bias"))
        layer.linear2.weight.copy_(g("mlp.fc2.kernel").T)
        layer.linear2.bias.copy_(g("mlp.fc2.bias"))
    return layer


def torch_forward(P, cfg, inp):
    """Same towers from torch building blocks: F.conv2d on NCHW, nn.TransformerEncoderLayer,
    F.layer_norm, nn.functional.normalize. Grad stays enabled so that the layers never take their
    nested-tensor fast path (which would zero padded positions)."""
    outs = {}
    ln = lambda x, s, b: F.layer_norm(x, (x.shape[-1],), T(P[s]), T(P[b]), cfg["ln_eps"])
    if "image_size" in cfg:
        t = "img"
        p, c, d = cfg["patch_size"], cfg["channels"], cfg["width"]
        w = T(P["img.patch.kernel"]).reshape(p, p, c, d).permute(3, 2, 0, 1)  # OIHW
        x = F.conv2d(T(inp).permute(0, 3, 1, 2), w, T(P["img.patch.bias"]), stride=p)
        x = x.flatten(2).transpose(1, 2) + T(P["img.pos"])
        if cfg["pool"] == "tok":
            x = torch.cat([T(P["img.cls"]).expand(x.shape[0], 1, d), x], dim=1)
        mask, norm_first = None, True
    else:
        t = "txt"
        tok = torch.from_numpy(inp.astype(np.int64))
        if cfg["kind"] == "bert":
            x = F.embedding(tok, T(P["txt.tok"])) + F.embedding(
                torch.arange(tok.shape[1]).expand_as(tok), T(P["txt.pos"])) + F.embedding(
                torch.zeros_like(tok), T(P["txt.type"]))
            x = ln(x, "txt.emb_norm.scale", "txt.emb_norm.bias")
            mask, norm_first = tok == 0, False  # True = ignore this key
        else:
            x = F.embedding(tok, T(P["txt.tok"])) + T(P["txt.pos"])
            mask, norm_first = None, True
    for i in range(cfg["depth"]):
        x = torch_layer(P, t, i, cfg, norm_first)(x, src_key_padding_mask=mask).detach()
        outs[f"block.{i}"] = x
    if norm_first:
        x = ln(x, f"{t}.norm.scale", f"{t}.norm.bias")
    outs["encoded"] = x
    pool = cfg["pool"]
    outs["pooled"] = z = x[:, -1] if pool == "last" else x.mean(1) if pool == "gap" else x[:, 0]
    if cfg["head_dim"] > 0:
        z = outs["logits"] = F.linear(z, T(P[f"{t}.head.kernel"]).T, T(P[f"{t}.head.bias"]))
    outs["embedding"] = z / (z.norm(dim=-1, keepdim=True) + 1e-8)
    return outs


def check_primitives(rng):
    x = T(rng.standard_normal((3, 7, 48)) * 2.0)
    s, b = T(1 + 0.1 * rng.standard_normal(48)), T(0.1 * rng.standard_normal(48))
    for eps in (1e-6, 1e-12):
        assert torch.allclose(layer_norm(x, (s, b), eps), F.layer_norm(x, (48,), s, b, eps),
                              rtol=1e-13, atol=1e-13)
    assert torch.allclose(gelu(x, "tanh"), F.gelu(x, approximate="tanh"), rtol=1e-13, atol=1e-14)
    assert torch.allclose(gelu(x, "erf"), F.gelu(x), rtol=1e-13, atol=1e-14)
    for heads in (3, 4):
        d = 48
        qkv = (T(0.2 * rng.standard_normal((d, 3 * d))), T(0.1 * rng.standard_normal(3 * d)))
        out = (T(0.2 * rng.standard_normal((d, d))), T(0.1 * rng.standard_normal(d)))
        mask = torch.ones(3, 7, dtype=torch.bool)
        mask[1, 5:] = False
        mask[2, 2:] = False
        mha = torch.nn.MultiheadAttention(d, heads, batch_first=True, dtype=F64)
        with torch.no_grad():
            mha.in_proj_weight.copy_(qkv[0].T)
            mha.in_proj_bias.copy_(qkv[1])
            mha.out_proj.weight.copy_(out[0].T)
            mha.out_proj.bias.copy_(out[1])
        for m in (None, mask):
            ref = mha(x, x, x, key_padding_mask=None if m is None else ~m, need_weights=False)[0]
            got = attention(x, qkv, out, heads, key_mask=m)
            assert torch.allclose(got, ref.detach(), rtol=1e-11, atol=1e-11), (heads, m is None)


# --------------------------------------------------------------------------------------------
# Random weights (lit4j naming)
# --------------------------------------------------------------------------------------------

class Init:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def n(self, shape, scale, loc=0.0):
        return (loc + scale * self.rng.standard_normal(shape)).astype(np.float32)

    kernel = lambda self, *shape: self.n(shape, 0.2)
    bias = lambda self, n: self.n((n,), 0.1)
    embed = lambda self, *shape: self.n(shape, 0.5)

    def ln(self, P, name, d):
        P[name + ".scale"] = self.n((d,), 0.1, 1.0)
        P[name + ".bias"] = self.bias(d)

    def dense(self, P, name, i, o):
        P[name + ".kernel"] = self.kernel(i, o)
        P[name + ".bias"] = self.bias(o)

    def blocks(self, P, t, cfg):
        d, m = cfg["width"], cfg["mlp_dim"]
        for i in range(cfg["depth"]):
            p = f"{t}.blocks.{i}."
            self.ln(P, p + "ln1", d)
            self.dense(P, p + "attn.qkv", d, 3 * d)
            self.dense(P, p + "attn.out", d, d)
            self.ln(P, p + "ln2", d)
            self.dense(P, p + "mlp.fc1", d, m)
            self.dense(P, p + "mlp.fc2", m, d)


def init_vit(seed, cfg):
    """Returns (lit4j params, extras). extras["pos0"] is the CLS slot r of the position embedding
    of the old / HF layouts and extras["cls_file"] = cls - r; img.cls is defined as
    float32(cls_file + r), which is exactly what a model that adds the position embedding after
    concatenating CLS computes in float32."""
    it, P, X = Init(seed), {}, {}
    d, p, c = cfg["width"], cfg["patch_size"], cfg["channels"]
    n = (cfg["image_size"] // p) ** 2
    it.dense(P, "img.patch", p * p * c, d)
    if cfg["pool"] == "tok":
        cls = it.embed(d)
        X["pos0"] = it.embed(d)
        X["cls_file"] = (cls - X["pos0"]).astype(np.float32)
        P["img.cls"] = (X["cls_file"] + X["pos0"]).astype(np.float32)
    P["img.pos"] = it.embed(n, d)
    it.blocks(P, "img", cfg)
    it.ln(P, "img.norm", d)
    if cfg["head_dim"]:
        it.dense(P, "img.head", d, cfg["head_dim"])
    return P, X


def init_txt(seed, cfg):
    it, P = Init(seed), {}
    d = cfg["width"]
    P["txt.tok"] = it.embed(cfg["vocab_size"], d)
    P["txt.pos"] = it.embed(cfg["context_length"], d)
    it.blocks(P, "txt", cfg)
    it.ln(P, "txt.norm", d)
    it.dense(P, "txt.head", d, cfg["head_dim"])
    return P


def init_bert(seed, cfg):
    it, P = Init(seed), {}
    d = cfg["width"]
    P["txt.tok"] = it.embed(cfg["vocab_size"], d)
    P["txt.pos"] = it.embed(cfg["max_position"], d)
    P["txt.type"] = it.embed(cfg["type_vocab_size"], d)
    it.ln(P, "txt.emb_norm", d)
    it.blocks(P, "txt", cfg)
    it.dense(P, "txt.head", d, cfg["head_dim"])
    return P


def expected_names(cfg):
    """Every lit4j parameter name and shape for a tower config (models/README.md table)."""
    d, m, e = cfg["width"], cfg["mlp_dim"], cfg["head_dim"]
    S = {}
    if "image_size" in cfg:
        t, p, c = "img", cfg["patch_size"], cfg["channels"]
        S["img.patch.kernel"], S["img.patch.bias"] = (p * p * c, d), (d,)
        if cfg["pool"] == "tok":
            S["img.cls"] = (d,)
        S["img.pos"] = ((cfg["image_size"] // p) ** 2, d)
    else:
        t = "txt"
        S["txt.tok"] = (cfg["vocab_size"], d)
        if cfg["kind"] == "bert":
            S["txt.pos"] = (cfg["max_position"], d)
            S["txt.type"] = (cfg["type_vocab_size"], d)
            S["txt.emb_norm.scale"] = S["txt.emb_norm.bias"] = (d,)
        else:
            S["txt.pos"] = (cfg["context_length"], d)
    for i in range(cfg["depth"]):
        q = f"{t}.blocks.{i}."
        S[q + "ln1.scale"] = S[q + "ln1.bias"] = S[q + "ln2.scale"] = S[q + "ln2.bias"] = (d,)
        S[q + "attn.qkv.kernel"], S[q + "attn.qkv.bias"] = (d, 3 * d), (3 * d,)
        S[q + "attn.out.kernel"], S[q + "attn.out.bias"] = (d, d), (d,)
        S[q + "mlp.fc1.kernel"], S[q + "mlp.fc1.bias"] = (d, m), (m,)
        S[q + "mlp.fc2.kernel"], S[q + "mlp.fc2.bias"] = (m, d), (d,)
    if "image_size" in cfg or cfg["kind"] != "bert":
        S[t + ".norm.scale"] = S[t + ".norm.bias"] = (d,)
    if e:
        S[t + ".head.kernel"], S[t + ".head.bias"] = (d, e), (e,)
    return S


def check_names(P, cfg, what):
    S = expected_names(cfg)
    assert set(P) == set(S), (what, sorted(set(P) ^ set(S)))
    for k, shape in S.items():
        assert tuple(P[k].shape) == shape, (what, k, P[k].shape, shape)
        assert P[k].dtype == np.float32, (what, k, P[k].dtype)


def select(P, cfg):
    """The subset of P a tower config uses (e.g. drops the head for head_dim 0)."""
    return {k: P[k] for k in expected_names(cfg)}


# --------------------------------------------------------------------------------------------
# Layout converters: lit4j -> other formats
# --------------------------------------------------------------------------------------------

def split_qkv(P, pre, d):
    k, b = P[pre + "attn.qkv.kernel"], P[pre + "attn.qkv.bias"]
    return [(k[:, j * d:(j + 1) * d], b[j * d:(j + 1) * d]) for j in range(3)]


def bv_block(P, pre, cfg, names):
    """One big_vision ViT encoder block (flax MultiHeadDotProductAttention: q/k/v kernels
    [D,H,dh], out kernel [H,dh,D])."""
    d, h = cfg["width"], cfg["heads"]
    dh = d // h
    ln0, mha, ln1, mlp = names
    A = {f"{ln0}/scale": P[pre + "ln1.scale"], f"{ln0}/bias": P[pre + "ln1.bias"],
         f"{ln1}/scale": P[pre + "ln2.scale"], f"{ln1}/bias": P[pre + "ln2.bias"]}
    for j, (k, b) in zip(("query", "key", "value"), split_qkv(P, pre, d)):
        A[f"{mha}/{j}/kernel"] = k.reshape(d, h, dh)
        A[f"{mha}/{j}/bias"] = b.reshape(h, dh)
    A[f"{mha}/out/kernel"] = P[pre + "attn.out.kernel"].reshape(h, dh, d)
    A[f"{mha}/out/bias"] = P[pre + "attn.out.bias"]
    A[f"{mlp}/Dense_0/kernel"], A[f"{mlp}/Dense_0/bias"] = P[pre + "mlp.fc1.kernel"], P[pre + "mlp.fc1.bias"]
    A[f"{mlp}/Dense_1/kernel"], A[f"{mlp}/Dense_1/bias"] = P[pre + "mlp.fc2.kernel"], P[pre + "mlp.fc2.bias"]
    return A


OLD = ("LayerNorm_0", "MultiHeadDotProductAttention_1", "LayerNorm_2", "MlpBlock_3")
LINEN = ("LayerNorm_0", "MultiHeadDotProductAttention_0", "LayerNorm_1", "MlpBlock_0")


def vit_to_old(P, X, cfg):
    d, p, c = cfg["width"], cfg["patch_size"], cfg["channels"]
    A = {"img/embedding/kernel": P["img.patch.kernel"].reshape(p, p, c, d),
         "img/embedding/bias": P["img.patch.bias"],
         "img/cls": X["cls_file"].reshape(1, 1, d),
         "img/Transformer/posembed_input/pos_embedding":
             np.concatenate([X["pos0"][None], P["img.pos"]], 0)[None]}
    for i in range(cfg["depth"]):
        for k, v in bv_block(P, f"img.blocks.{i}.", cfg, OLD).items():
            A[f"img/Transformer/encoderblock_{i}/{k}"] = v
    A["img/Transformer/encoder_norm/scale"] = P["img.norm.scale"]
    A["img/Transformer/encoder_norm/bias"] = P["img.norm.bias"]
    A["img/head/kernel"], A["img/head/bias"] = P["img.head.kernel"], P["img.head.bias"]
    return A


def vit_to_scan(P, cfg):
    d, p, c = cfg["width"], cfg["patch_size"], cfg["channels"]
    A = {"img/embedding/kernel": P["img.patch.kernel"].reshape(p, p, c, d),
         "img/embedding/bias": P["img.patch.bias"],
         "img/cls": P["img.cls"].reshape(1, 1, d),
         "img/pos_embedding": P["img.pos"][None]}
    per = [bv_block(P, f"img.blocks.{i}.", cfg, LINEN) for i in range(cfg["depth"])]
    for k in per[0]:
        A[f"img/Transformer/encoderblock/{k}"] = np.stack([b[k] for b in per], 0)
    A["img/Transformer/encoder_norm/scale"] = P["img.norm.scale"]
    A["img/Transformer/encoder_norm/bias"] = P["img.norm.bias"]
    A["img/head/kernel"], A["img/head/bias"] = P["img.head.kernel"], P["img.head.bias"]
    return A


def txt_to_npz(P, cfg):
    A = {"txt/Embed_0/embedding": P["txt.tok"], "txt/pos_embedding": P["txt.pos"][None]}
    for i in range(cfg["depth"]):
        for k, v in bv_block(P, f"txt.blocks.{i}.", cfg, LINEN).items():
            A[f"txt/Encoder_0/encoderblock_{i}/{k}"] = v
    A["txt/Encoder_0/encoder_norm/scale"] = P["txt.norm.scale"]
    A["txt/Encoder_0/encoder_norm/bias"] = P["txt.norm.bias"]
    A["txt/head/kernel"], A["txt/head/bias"] = P["txt.head.kernel"], P["txt.head.bias"]
    return A


def bert_to_npz(P, cfg):
    """flaxformer BertEncoder naming. flaxformer's DenseGeneral stores flattened 2-D kernels
    (reshape_kernel=True): q/k/v [D, H*dh], out projection [H*dh, D], both head-major."""
    d = cfg["width"]
    r = "txt/BertEncoder_0/"
    A = {r + "embedder/embedders_token_ids/embedding": P["txt.tok"],
         r + "embedder/embedders_position_ids/embedding": P["txt.pos"],
         r + "embedder/embedders_segment_ids/embedding": P["txt.type"],
         r + "layer_norm/scale": P["txt.emb_norm.scale"],
         r + "layer_norm/bias": P["txt.emb_norm.bias"]}
    for i in range(cfg["depth"]):
        pre, q = f"txt.blocks.{i}.", f"{r}encoder_block/layer_sequence/layers_{i}/"
        for j, (k, b) in zip(("query", "key", "value"), split_qkv(P, pre, d)):
            A[f"{q}attention_block/attention_layer/{j}/kernel"] = k
            A[f"{q}attention_block/attention_layer/{j}/bias"] = b
        A[q + "attention_block/dense_layer/kernel"] = P[pre + "attn.out.kernel"]
        A[q + "attention_block/dense_layer/bias"] = P[pre + "attn.out.bias"]
        A[q + "attention_block/layer_norm/scale"] = P[pre + "ln1.scale"]
        A[q + "attention_block/layer_norm/bias"] = P[pre + "ln1.bias"]
        A[q + "mlp_block/mlp/dense_layer/kernel"] = P[pre + "mlp.fc1.kernel"]
        A[q + "mlp_block/mlp/dense_layer/bias"] = P[pre + "mlp.fc1.bias"]
        A[q + "mlp_block/dense_layer/kernel"] = P[pre + "mlp.fc2.kernel"]
        A[q + "mlp_block/dense_layer/bias"] = P[pre + "mlp.fc2.bias"]
        A[q + "mlp_block/layer_norm/scale"] = P[pre + "ln2.scale"]
        A[q + "mlp_block/layer_norm/bias"] = P[pre + "ln2.bias"]
    A["txt/head/kernel"], A["txt/head/bias"] = P["txt.head.kernel"], P["txt.head.bias"]
    return A


def vit_to_hf(P, X, cfg, extra_seed):
    d, p, c = cfg["width"], cfg["patch_size"], cfg["channels"]
    A = {"vit.embeddings.cls_token": X["cls_file"].reshape(1, 1, d),
         "vit.embeddings.position_embeddings":
             np.concatenate([X["pos0"][None], P["img.pos"]], 0)[None],
         # HWIO -> OIHW: weight[d, c, r, s] = kernel[(r*P + s)*C + c, d]
         "vit.embeddings.patch_embeddings.projection.weight":
             P["img.patch.kernel"].reshape(p, p, c, d).transpose(3, 2, 0, 1),
         "vit.embeddings.patch_embeddings.projection.bias": P["img.patch.bias"]}
    for i in range(cfg["depth"]):
        pre, q = f"img.blocks.{i}.", f"vit.encoder.layer.{i}."
        A[q + "layernorm_before.weight"], A[q + "layernorm_before.bias"] = P[pre + "ln1.scale"], P[pre + "ln1.bias"]
        for j, (k, b) in zip(("query", "key", "value"), split_qkv(P, pre, d)):
            A[f"{q}attention.attention.{j}.weight"] = k.T
            A[f"{q}attention.attention.{j}.bias"] = b
        A[q + "attention.output.dense.weight"] = P[pre + "attn.out.kernel"].T
        A[q + "attention.output.dense.bias"] = P[pre + "attn.out.bias"]
        A[q + "layernorm_after.weight"], A[q + "layernorm_after.bias"] = P[pre + "ln2.scale"], P[pre + "ln2.bias"]
        A[q + "intermediate.dense.weight"] = P[pre + "mlp.fc1.kernel"].T
        A[q + "intermediate.dense.bias"] = P[pre + "mlp.fc1.bias"]
        A[q + "output.dense.weight"] = P[pre + "mlp.fc2.kernel"].T
        A[q + "output.dense.bias"] = P[pre + "mlp.fc2.bias"]
    A["vit.layernorm.weight"], A["vit.layernorm.bias"] = P["img.norm.scale"], P["img.norm.bias"]
    it = Init(extra_seed)  # unused by LiT, present in real files
    A["vit.pooler.dense.weight"], A["vit.pooler.dense.bias"] = it.kernel(d, d), it.bias(d)
    return {k: np.ascontiguousarray(v) for k, v in A.items()}


def bert_to_hf(P, cfg, extra_seed):
    d = cfg["width"]
    A = {"bert.embeddings.word_embeddings.weight": P["txt.tok"],
         "bert.embeddings.position_embeddings.weight": P["txt.pos"],
         "bert.embeddings.token_type_embeddings.weight": P["txt.type"],
         "bert.embeddings.LayerNorm.weight": P["txt.emb_norm.scale"],
         "bert.embeddings.LayerNorm.bias": P["txt.emb_norm.bias"]}
    for i in range(cfg["depth"]):
        pre, q = f"txt.blocks.{i}.", f"bert.encoder.layer.{i}."
        for j, (k, b) in zip(("query", "key", "value"), split_qkv(P, pre, d)):
            A[f"{q}attention.self.{j}.weight"] = k.T
            A[f"{q}attention.self.{j}.bias"] = b
        A[q + "attention.output.dense.weight"] = P[pre + "attn.out.kernel"].T
        A[q + "attention.output.dense.bias"] = P[pre + "attn.out.bias"]
        A[q + "attention.output.LayerNorm.weight"] = P[pre + "ln1.scale"]
        A[q + "attention.output.LayerNorm.bias"] = P[pre + "ln1.bias"]
        A[q + "intermediate.dense.weight"] = P[pre + "mlp.fc1.kernel"].T
        A[q + "intermediate.dense.bias"] = P[pre + "mlp.fc1.bias"]
        A[q + "output.dense.weight"] = P[pre + "mlp.fc2.kernel"].T
        A[q + "output.dense.bias"] = P[pre + "mlp.fc2.bias"]
        A[q + "output.LayerNorm.weight"] = P[pre + "ln2.scale"]
        A[q + "output.LayerNorm.bias"] = P[pre + "ln2.bias"]
    it = Init(extra_seed)  # real-file extras, unused by LiT
    A["bert.pooler.dense.weight"], A["bert.pooler.dense.bias"] = it.kernel(d, d), it.bias(d)
    A["cls.predictions.bias"] = it.bias(cfg["vocab_size"])
    A["cls.predictions.transform.dense.weight"] = it.kernel(d, d)
    A["cls.predictions.transform.dense.bias"] = it.bias(d)
    A["cls.predictions.transform.LayerNorm.weight"] = it.n((d,), 0.1, 1.0)
    A["cls.predictions.transform.LayerNorm.bias"] = it.bias(d)
    A["bert.embeddings.position_ids"] = np.arange(cfg["max_position"], dtype=np.int64)[None]
    return {k: np.ascontiguousarray(v) for k, v in A.items()}


# --------------------------------------------------------------------------------------------
# Inverse converters: other formats -> lit4j (written independently, used for the round trip)
# --------------------------------------------------------------------------------------------

class Take:
    """Pops arrays by name, as float32; `done()` asserts every array was used."""

    def __init__(self, arrays):
        self.a = dict(arrays)

    def __call__(self, name, shape=None):
        v = self.a.pop(name)
        if shape is not None:
            assert tuple(v.shape) == tuple(shape), (name, v.shape, shape)
        return np.ascontiguousarray(v.astype(np.float32))

    def done(self, allowed=()):
        left = sorted(set(self.a) - set(allowed))
        assert not left, left


def from_bv_block(tk, base, cfg, names, P, pre, idx=None):
    d, h, m = cfg["width"], cfg["heads"], cfg["mlp_dim"]
    dh = d // h
    ln0, mha, ln1, mlp = names

    def g(n, s):
        if idx is None:  # per-block arrays: consume them
            return tk(f"{base}/{n}", s)
        a = tk.a[f"{base}/{n}"]  # scanned: slice block idx of the stacked array (popped later)
        assert tuple(a.shape) == (cfg["depth"],) + tuple(s), (n, a.shape, s)
        return np.ascontiguousarray(a[idx].astype(np.float32))
    P[pre + "ln1.scale"], P[pre + "ln1.bias"] = g(f"{ln0}/scale", (d,)), g(f"{ln0}/bias", (d,))
    P[pre + "ln2.scale"], P[pre + "ln2.bias"] = g(f"{ln1}/scale", (d,)), g(f"{ln1}/bias", (d,))
    qs = [g(f"{mha}/{j}/kernel", (d, h, dh)).reshape(d, d) for j in ("query", "key", "value")]
    bs = [g(f"{mha}/{j}/bias", (h, dh)).reshape(d) for j in ("query", "key", "value")]
    P[pre + "attn.qkv.kernel"] = np.ascontiguousarray(np.concatenate(qs, 1))
    P[pre + "attn.qkv.bias"] = np.concatenate(bs, 0)
    P[pre + "attn.out.kernel"] = np.ascontiguousarray(g(f"{mha}/out/kernel", (h, dh, d)).reshape(d, d))
    P[pre + "attn.out.bias"] = g(f"{mha}/out/bias", (d,))
    P[pre + "mlp.fc1.kernel"], P[pre + "mlp.fc1.bias"] = g(f"{mlp}/Dense_0/kernel", (d, m)), g(f"{mlp}/Dense_0/bias", (m,))
    P[pre + "mlp.fc2.kernel"], P[pre + "mlp.fc2.bias"] = g(f"{mlp}/Dense_1/kernel", (m, d)), g(f"{mlp}/Dense_1/bias", (d,))


def from_old_vit(tk, cfg):
    d, p, c = cfg["width"], cfg["patch_size"], cfg["channels"]
    n = (cfg["image_size"] // p) ** 2
    P = {"img.patch.kernel": tk("img/embedding/kernel", (p, p, c, d)).reshape(p * p * c, d),
         "img.patch.bias": tk("img/embedding/bias", (d,))}
    pos = tk("img/Transformer/posembed_input/pos_embedding", (1, n + 1, d))[0]
    P["img.cls"] = (tk("img/cls", (1, 1, d)).reshape(d) + pos[0]).astype(np.float32)
    P["img.pos"] = np.ascontiguousarray(pos[1:])
    for i in range(cfg["depth"]):
        from_bv_block(tk, f"img/Transformer/encoderblock_{i}", cfg, OLD, P, f"img.blocks.{i}.")
    P["img.norm.scale"] = tk("img/Transformer/encoder_norm/scale", (d,))
    P["img.norm.bias"] = tk("img/Transformer/encoder_norm/bias", (d,))
    P["img.head.kernel"] = tk("img/head/kernel", (d, cfg["head_dim"]))
    P["img.head.bias"] = tk("img/head/bias", (cfg["head_dim"],))
    return P


def from_scan_vit(tk, cfg):
    d, p, c, L = cfg["width"], cfg["patch_size"], cfg["channels"], cfg["depth"]
    n = (cfg["image_size"] // p) ** 2
    P = {"img.patch.kernel": tk("img/embedding/kernel", (p, p, c, d)).reshape(p * p * c, d),
         "img.patch.bias": tk("img/embedding/bias", (d,)),
         "img.cls": tk("img/cls", (1, 1, d)).reshape(d),
         "img.pos": tk("img/pos_embedding", (1, n, d))[0]}
    base = "img/Transformer/encoderblock"
    stacked = [k for k in tk.a if k.startswith(base + "/")]
    for k in stacked:
        assert tk.a[k].shape[0] == L, (k, tk.a[k].shape)
    for i in range(L):
        from_bv_block(tk, base, cfg, LINEN, P, f"img.blocks.{i}.", idx=i)
    for k in stacked:
        tk.a.pop(k)
    P["img.norm.scale"] = tk("img/Transformer/encoder_norm/scale", (d,))
    P["img.norm.bias"] = tk("img/Transformer/encoder_norm/bias", (d,))
    P["img.head.kernel"] = tk("img/head/kernel", (d, cfg["head_dim"]))
    P["img.head.bias"] = tk("img/head/bias", (cfg["head_dim"],))
    return {k: np.ascontiguousarray(v) for k, v in P.items()}


def from_txt_npz(tk, cfg):
    d = cfg["width"]
    P = {"txt.tok": tk("txt/Embed_0/embedding", (cfg["vocab_size"], d)),
         "txt.pos": tk("txt/pos_embedding", (1, cfg["context_length"], d))[0]}
    for i in range(cfg["depth"]):
        from_bv_block(tk, f"txt/Encoder_0/encoderblock_{i}", cfg, LINEN, P, f"txt.blocks.{i}.")
    P["txt.norm.scale"] = tk("txt/Encoder_0/encoder_norm/scale", (d,))
    P["txt.norm.bias"] = tk("txt/Encoder_0/encoder_norm/bias", (d,))
    P["txt.head.kernel"] = tk("txt/head/kernel", (d, cfg["head_dim"]))
    P["txt.head.bias"] = tk("txt/head/bias", (cfg["head_dim"],))
    return P


def from_bert_npz(tk, cfg):
    d, m = cfg["width"], cfg["mlp_dim"]
    r = "txt/BertEncoder_0/"
    P = {"txt.tok": tk(r + "embedder/embedders_token_ids/embedding", (cfg["vocab_size"], d)),
         "txt.pos": tk(r + "embedder/embedders_position_ids/embedding", (cfg["max_position"], d)),
         "txt.type": tk(r + "embedder/embedders_segment_ids/embedding", (cfg["type_vocab_size"], d)),
         "txt.emb_norm.scale": tk(r + "layer_norm/scale", (d,)),
         "txt.emb_norm.bias": tk(r + "layer_norm/bias", (d,))}
    for i in range(cfg["depth"]):
        pre, q = f"txt.blocks.{i}.", f"{r}encoder_block/layer_sequence/layers_{i}/"
        a = q + "attention_block/"
        P[pre + "attn.qkv.kernel"] = np.ascontiguousarray(np.concatenate(
            [tk(f"{a}attention_layer/{j}/kernel", (d, d)) for j in ("query", "key", "value")], 1))
        P[pre + "attn.qkv.bias"] = np.concatenate(
            [tk(f"{a}attention_layer/{j}/bias", (d,)) for j in ("query", "key", "value")])
        P[pre + "attn.out.kernel"] = tk(a + "dense_layer/kernel", (d, d))
        P[pre + "attn.out.bias"] = tk(a + "dense_layer/bias", (d,))
        P[pre + "ln1.scale"] = tk(a + "layer_norm/scale", (d,))
        P[pre + "ln1.bias"] = tk(a + "layer_norm/bias", (d,))
        P[pre + "mlp.fc1.kernel"] = tk(q + "mlp_block/mlp/dense_layer/kernel", (d, m))
        P[pre + "mlp.fc1.bias"] = tk(q + "mlp_block/mlp/dense_layer/bias", (m,))
        P[pre + "mlp.fc2.kernel"] = tk(q + "mlp_block/dense_layer/kernel", (m, d))
        P[pre + "mlp.fc2.bias"] = tk(q + "mlp_block/dense_layer/bias", (d,))
        P[pre + "ln2.scale"] = tk(q + "mlp_block/layer_norm/scale", (d,))
        P[pre + "ln2.bias"] = tk(q + "mlp_block/layer_norm/bias", (d,))
    P["txt.head.kernel"] = tk("txt/head/kernel", (d, cfg["head_dim"]))
    P["txt.head.bias"] = tk("txt/head/bias", (cfg["head_dim"],))
    return P


def from_hf_vit(tk, cfg):
    d, p, c, m = cfg["width"], cfg["patch_size"], cfg["channels"], cfg["mlp_dim"]
    n = (cfg["image_size"] // p) ** 2
    e = "vit.embeddings."
    w = tk(e + "patch_embeddings.projection.weight", (d, c, p, p))
    P = {"img.patch.kernel": np.ascontiguousarray(w.transpose(2, 3, 1, 0).reshape(p * p * c, d)),
         "img.patch.bias": tk(e + "patch_embeddings.projection.bias", (d,))}
    pos = tk(e + "position_embeddings", (1, n + 1, d))[0]
    P["img.cls"] = (tk(e + "cls_token", (1, 1, d)).reshape(d) + pos[0]).astype(np.float32)
    P["img.pos"] = np.ascontiguousarray(pos[1:])
    lin = lambda name, o, i: np.ascontiguousarray(tk(name, (o, i)).T)
    for i in range(cfg["depth"]):
        pre, q = f"img.blocks.{i}.", f"vit.encoder.layer.{i}."
        P[pre + "ln1.scale"] = tk(q + "layernorm_before.weight", (d,))
        P[pre + "ln1.bias"] = tk(q + "layernorm_before.bias", (d,))
        P[pre + "attn.qkv.kernel"] = np.ascontiguousarray(np.concatenate(
            [lin(f"{q}attention.attention.{j}.weight", d, d) for j in ("query", "key", "value")], 1))
        P[pre + "attn.qkv.bias"] = np.concatenate(
            [tk(f"{q}attention.attention.{j}.bias", (d,)) for j in ("query", "key", "value")])
        P[pre + "attn.out.kernel"] = lin(q + "attention.output.dense.weight", d, d)
        P[pre + "attn.out.bias"] = tk(q + "attention.output.dense.bias", (d,))
        P[pre + "ln2.scale"] = tk(q + "layernorm_after.weight", (d,))
        P[pre + "ln2.bias"] = tk(q + "layernorm_after.bias", (d,))
        P[pre + "mlp.fc1.kernel"] = lin(q + "intermediate.dense.weight", m, d)
        P[pre + "mlp.fc1.bias"] = tk(q + "intermediate.dense.bias", (m,))
        P[pre + "mlp.fc2.kernel"] = lin(q + "output.dense.weight", d, m)
        P[pre + "mlp.fc2.bias"] = tk(q + "output.dense.bias", (d,))
    P["img.norm.scale"] = tk("vit.layernorm.weight", (d,))
    P["img.norm.bias"] = tk("vit.layernorm.bias", (d,))
    return P


def from_hf_bert(tk, cfg):
    d, m = cfg["width"], cfg["mlp_dim"]
    e = "bert.embeddings."
    P = {"txt.tok": tk(e + "word_embeddings.weight", (cfg["vocab_size"], d)),
         "txt.pos": tk(e + "position_embeddings.weight", (cfg["max_position"], d)),
         "txt.type": tk(e + "token_type_embeddings.weight", (cfg["type_vocab_size"], d)),
         "txt.emb_norm.scale": tk(e + "LayerNorm.weight", (d,)),
         "txt.emb_norm.bias": tk(e + "LayerNorm.bias", (d,))}
    lin = lambda name, o, i: np.ascontiguousarray(tk(name, (o, i)).T)
    for i in range(cfg["depth"]):
        pre, q = f"txt.blocks.{i}.", f"bert.encoder.layer.{i}."
        P[pre + "attn.qkv.kernel"] = np.ascontiguousarray(np.concatenate(
            [lin(f"{q}attention.self.{j}.weight", d, d) for j in ("query", "key", "value")], 1))
        P[pre + "attn.qkv.bias"] = np.concatenate(
            [tk(f"{q}attention.self.{j}.bias", (d,)) for j in ("query", "key", "value")])
        P[pre + "attn.out.kernel"] = lin(q + "attention.output.dense.weight", d, d)
        P[pre + "attn.out.bias"] = tk(q + "attention.output.dense.bias", (d,))
        P[pre + "ln1.scale"] = tk(q + "attention.output.LayerNorm.weight", (d,))
        P[pre + "ln1.bias"] = tk(q + "attention.output.LayerNorm.bias", (d,))
        P[pre + "mlp.fc1.kernel"] = lin(q + "intermediate.dense.weight", m, d)
        P[pre + "mlp.fc1.bias"] = tk(q + "intermediate.dense.bias", (m,))
        P[pre + "mlp.fc2.kernel"] = lin(q + "output.dense.weight", d, m)
        P[pre + "mlp.fc2.bias"] = tk(q + "output.dense.bias", (d,))
        P[pre + "ln2.scale"] = tk(q + "output.LayerNorm.weight", (d,))
        P[pre + "ln2.bias"] = tk(q + "output.LayerNorm.bias", (d,))
    pid = tk.a.pop("bert.embeddings.position_ids")
    assert pid.dtype == np.int64 and np.array_equal(pid, np.arange(cfg["max_position"])[None])
    return P


HF_BERT_EXTRAS = ("bert.pooler.dense.weight", "bert.pooler.dense.bias", "cls.predictions.bias",
                  "cls.predictions.transform.dense.weight", "cls.predictions.transform.dense.bias",
                  "cls.predictions.transform.LayerNorm.weight",
                  "cls.predictions.transform.LayerNorm.bias")
HF_VIT_EXTRAS = ("vit.pooler.dense.weight", "vit.pooler.dense.bias")


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------

def make_images(seed, cfg):
    rng = np.random.default_rng(seed)
    s, c = cfg["image_size"], cfg["channels"]
    return rng.uniform(-1.0, 1.0, (B, s, s, c)).astype(np.float32)


def make_txt_tokens(seed, cfg):
    rng = np.random.default_rng(seed)
    L = cfg["context_length"]
    tok = rng.integers(1, cfg["vocab_size"], (B, L)).astype(np.int32)
    for b in range(B):
        if b:
            tok[b, L - b:] = 0  # padding; the text transformer applies no mask
    return tok


def make_bert_tokens(seed, cfg):
    rng = np.random.default_rng(seed)
    L = cfg["context_length"]
    tok = np.zeros((B, L), np.int32)
    for b in range(B):
        n = L - 3 * b
        tok[b, :n] = rng.integers(1, cfg["vocab_size"], n)
        tok[b, 0] = 101  # [CLS]
    return tok


# --------------------------------------------------------------------------------------------
# Golden writing and checks
# --------------------------------------------------------------------------------------------

def f32(outs):
    return {k: v.numpy().astype(np.float32) for k, v in outs.items()}


def assert_same(a, b, what):
    assert set(a) == set(b), (what, sorted(set(a) ^ set(b)))
    for k in a:
        assert torch.equal(a[k], b[k]), (what, k, (a[k] - b[k]).abs().max().item())


def assert_close(a, b, what, tol=1e-10):
    assert set(a) == set(b), (what, sorted(set(a) ^ set(b)))
    for k in a:
        err = (a[k] - b[k]).abs().max().item()
        assert err <= tol * max(1.0, b[k].abs().max().item()), (what, k, err)


def write_golden(name, cfg, inp, outs, tower):
    tensors = {"input": inp}
    tensors.update(f32(outs))
    path = os.path.join(OUT, name + ".safetensors")
    write_safetensors(path, tensors, {"config": cfg_json(cfg), "tower": tower})
    back, meta = read_safetensors(path)
    assert meta == {"config": cfg_json(cfg), "tower": tower}
    assert json.loads(meta["config"]) == cfg
    assert set(back) == set(tensors)
    for k in tensors:
        assert back[k].dtype == tensors[k].dtype and np.array_equal(back[k], tensors[k]), (name, k)


def write_lit4j(folder, cfg, P, tower):
    check_names(P, cfg, folder)
    conf = {"format": "lit4j", "version": 1, tower: cfg}
    write_json(os.path.join(OUT, folder, "config.json"), conf)
    path = os.path.join(OUT, folder, "model.safetensors")
    write_safetensors(path, P)
    back, meta = read_safetensors(path)
    assert meta is None
    with open(os.path.join(OUT, folder, "config.json"), encoding="utf-8") as f:
        assert json.load(f) == conf
    return back


def shapes_check(outs, cfg):
    d, b = cfg["width"], B
    if "image_size" in cfg:
        t = (cfg["image_size"] // cfg["patch_size"]) ** 2 + (cfg["pool"] == "tok")
    else:
        t = cfg["context_length"]
    for i in range(cfg["depth"]):
        assert tuple(outs[f"block.{i}"].shape) == (b, t, d)
    assert tuple(outs["encoded"].shape) == (b, t, d)
    assert tuple(outs["pooled"].shape) == (b, d)
    e = cfg["head_dim"] or d
    assert ("logits" in outs) == (cfg["head_dim"] > 0)
    assert tuple(outs["embedding"].shape) == (b, e)
    for k, v in outs.items():
        assert torch.isfinite(v).all(), k
    n = torch.linalg.vector_norm(outs["embedding"], dim=-1)
    assert torch.allclose(n, torch.ones_like(n), atol=1e-7)


def main():
    os.makedirs(OUT, exist_ok=True)
    check_primitives(np.random.default_rng(1234))

    # weights
    P_vit, X_vit = init_vit(1, CFG["vit"])
    P_gap, _ = init_vit(2, CFG["vit_gap"])
    P_txt = init_txt(3, CFG["txt"])
    P_bert = init_bert(4, CFG["bert"])
    params = {"vit": P_vit, "vit_gap": P_gap, "vit_hf": select(P_vit, CFG["vit_hf"]),
              "txt": P_txt, "bert": P_bert, "bert_bv": P_bert, "bert_hf": select(P_bert, CFG["bert_hf"])}
    # inputs
    img = make_images(11, CFG["vit"])
    inputs = {"vit": img, "vit_gap": make_images(12, CFG["vit_gap"]), "vit_hf": img,
              "txt": make_txt_tokens(13, CFG["txt"])}
    inputs["bert"] = inputs["bert_bv"] = inputs["bert_hf"] = make_bert_tokens(14, CFG["bert"])

    # goldens (a) + lit4j folders (b), with the independent torch-module cross-check
    outs = {}
    lit4j_folder = {n: n for n in CFG}
    lit4j_folder["vit_hf"] = "vit_hf_lit4j"  # golden/vit_hf/ holds the HuggingFace files
    lit4j_folder["bert_hf"] = "bert_hf_lit4j"
    for name, cfg in CFG.items():
        P, inp = params[name], inputs[name]
        check_names(P, cfg, name)
        o = outs[name] = forward(P, cfg, inp)
        shapes_check(o, cfg)
        with torch.enable_grad():
            assert_close(torch_forward(P, cfg, inp), o, name + " vs torch modules")
        write_golden(name, cfg, inp, o, TOWER[name])
        back = write_lit4j(lit4j_folder[name], cfg, P, TOWER[name])
        check_names(back, cfg, name + " lit4j file")
        assert_same(forward(back, cfg, inp), o, name + " from lit4j file")

    # sanity: the padding of the text inputs is real, and the configurations really differ
    assert (inputs["txt"][1:, -1] == 0).all() and (inputs["bert"][1:, -1] == 0).all()
    assert not torch.allclose(outs["bert"]["embedding"], outs["bert_bv"]["embedding"], atol=1e-4)
    assert not torch.allclose(outs["vit"]["pooled"], outs["vit_hf"]["pooled"], atol=1e-4)

    # (c) big_vision npz
    cv = CFG["vit"]
    A_old = vit_to_old(P_vit, X_vit, cv)
    write_npz(os.path.join(OUT, "vit_old.npz"), A_old)
    tk = Take(read_npz(os.path.join(OUT, "vit_old.npz")))
    assert_same(forward(from_old_vit(tk, cv), cv, img), outs["vit"], "vit_old.npz")
    tk.done()

    write_npz(os.path.join(OUT, "vit_scan.npz"), vit_to_scan(P_vit, cv))
    tk = Take(read_npz(os.path.join(OUT, "vit_scan.npz")))
    assert_same(forward(from_scan_vit(tk, cv), cv, img), outs["vit"], "vit_scan.npz")
    tk.done()

    # float16: expected values from independently rounded weights
    A16 = {k: v.astype("<f2") for k, v in A_old.items()}
    write_npz(os.path.join(OUT, "vit_f16.npz"), A16)
    r16 = lambda a: a.astype(np.float16).astype(np.float32)
    P16 = {k: r16(v) for k, v in P_vit.items()}
    P16["img.cls"] = (r16(X_vit["cls_file"]) + r16(X_vit["pos0"])).astype(np.float32)
    o16 = forward(P16, cv, img)
    write_golden("vit_f16", cv, img, o16, "image")
    raw16 = read_npz(os.path.join(OUT, "vit_f16.npz"))
    assert all(v.dtype == np.dtype("<f2") for v in raw16.values())
    tk = Take(raw16)
    assert_same(forward(from_old_vit(tk, cv), cv, img), o16, "vit_f16.npz")
    tk.done()
    d16 = (o16["embedding"] - outs["vit"]["embedding"]).abs().max().item()
    assert 1e-6 < d16 < 0.05, d16  # rounding changes the result, but not wildly

    ct = CFG["txt"]
    write_npz(os.path.join(OUT, "txt.npz"), txt_to_npz(P_txt, ct))
    tk = Take(read_npz(os.path.join(OUT, "txt.npz")))
    assert_same(forward(from_txt_npz(tk, ct), ct, inputs["txt"]), outs["txt"], "txt.npz")
    tk.done()

    write_npz(os.path.join(OUT, "bert.npz"), bert_to_npz(P_bert, CFG["bert"]))
    for name in ("bert", "bert_bv"):
        tk = Take(read_npz(os.path.join(OUT, "bert.npz")))
        assert_same(forward(from_bert_npz(tk, CFG[name]), CFG[name], inputs[name]), outs[name],
                    "bert.npz as " + name)
        tk.done()

    # two-tower LiT file
    A_lit = dict(A_old)
    A_lit.update(txt_to_npz(P_txt, ct))
    t = np.array([math.log(10.0)], dtype=np.float32)
    A_lit["t"] = t
    write_npz(os.path.join(OUT, "lit_tiny.npz"), A_lit)
    zi, zt = outs["vit"]["embedding"], outs["txt"]["embedding"]
    logits = torch.exp(T(t))[0] * zi @ zt.T
    lit_conf = {"format": "lit4j", "version": 1, "image": cv, "text": ct, "loss": "softmax"}
    lit_gold = {"img_input": img, "txt_input": inputs["txt"], "img_embedding": zi.numpy().astype(np.float32),
                "txt_embedding": zt.numpy().astype(np.float32), "logits": logits.numpy().astype(np.float32)}
    write_safetensors(os.path.join(OUT, "lit_tiny.safetensors"), lit_gold,
                      {"config": cfg_json(lit_conf), "t": repr(float(t[0]))})
    tk = Take(read_npz(os.path.join(OUT, "lit_tiny.npz")))
    oi = forward(from_old_vit(tk, cv), cv, img)
    ot = forward(from_txt_npz(tk, ct), ct, inputs["txt"])
    t_back = tk("t", (1,))
    tk.done()
    assert_same(oi, outs["vit"], "lit_tiny.npz img")
    assert_same(ot, outs["txt"], "lit_tiny.npz txt")
    assert torch.equal(torch.exp(T(t_back))[0] * oi["embedding"] @ ot["embedding"].T, logits)
    back, _ = read_safetensors(os.path.join(OUT, "lit_tiny.safetensors"))
    assert all(np.array_equal(back[k], v) and back[k].dtype == v.dtype for k, v in lit_gold.items())

    # (d) HuggingFace
    ch = CFG["vit_hf"]
    write_safetensors(os.path.join(OUT, "vit_hf", "model.safetensors"),
                      vit_to_hf(params["vit_hf"], X_vit, ch, 5), {"format": "pt"})
    write_json(os.path.join(OUT, "vit_hf", "config.json"), {
        "architectures": ["ViTModel"], "model_type": "vit", "hidden_size": ch["width"],
        "num_hidden_layers": ch["depth"], "num_attention_heads": ch["heads"],
        "intermediate_size": ch["mlp_dim"], "image_size": ch["image_size"],
        "patch_size": ch["patch_size"], "num_channels": ch["channels"],
        "layer_norm_eps": 1e-12, "hidden_act": "gelu"})
    hf, meta = read_safetensors(os.path.join(OUT, "vit_hf", "model.safetensors"))
    assert meta == {"format": "pt"}
    tk = Take(hf)
    P_back = from_hf_vit(tk, ch)
    tk.done(HF_VIT_EXTRAS)
    check_names(P_back, ch, "vit_hf safetensors")
    assert_same(forward(P_back, ch, img), outs["vit_hf"], "vit_hf/model.safetensors")
    # the conv layout: HF's Conv2d over NCHW equals patchify @ kernel
    w = T(hf["vit.embeddings.patch_embeddings.projection.weight"])
    conv = F.conv2d(T(img).permute(0, 3, 1, 2), w, T(hf["vit.embeddings.patch_embeddings.projection.bias"]),
                    stride=ch["patch_size"]).flatten(2).transpose(1, 2)
    ref = patchify(T(img), ch["patch_size"]) @ T(P_vit["img.patch.kernel"]) + T(P_vit["img.patch.bias"])
    assert torch.allclose(conv, ref, rtol=1e-12, atol=1e-12)

    cb = CFG["bert_hf"]
    write_safetensors(os.path.join(OUT, "bert_hf", "model.safetensors"),
                      bert_to_hf(params["bert_hf"], cb, 6), {"format": "pt"})
    write_json(os.path.join(OUT, "bert_hf", "config.json"), {
        "architectures": ["BertForMaskedLM"], "model_type": "bert", "vocab_size": cb["vocab_size"],
        "hidden_size": cb["width"], "num_hidden_layers": cb["depth"],
        "num_attention_heads": cb["heads"], "intermediate_size": cb["mlp_dim"],
        "max_position_embeddings": cb["max_position"], "type_vocab_size": cb["type_vocab_size"],
        "layer_norm_eps": 1e-12, "hidden_act": "gelu"})
    hf, meta = read_safetensors(os.path.join(OUT, "bert_hf", "model.safetensors"))
    assert meta == {"format": "pt"}
    assert hf["bert.embeddings.position_ids"].dtype == np.int64
    tk = Take(hf)
    P_back = from_hf_bert(tk, cb)
    tk.done(HF_BERT_EXTRAS)
    check_names(P_back, cb, "bert_hf safetensors")
    assert_same(forward(P_back, cb, inputs["bert_hf"]), outs["bert_hf"], "bert_hf/model.safetensors")

    total = 0
    for root, _, files in sorted(os.walk(OUT)):
        for f in sorted(files):
            p = os.path.join(root, f)
            total += os.path.getsize(p)
            print(f"{os.path.getsize(p):9d}  {os.path.relpath(p, OUT)}")
    print(f"{total:9d}  total; all self-checks passed")


if __name__ == "__main__":
    sys.exit(main())
