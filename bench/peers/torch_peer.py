#!/usr/bin/python3
"""PyTorch peer of lit4j's benchmark harness: one measurement per process.

Builds lit4j's towers (big_vision ViT, big_vision text transformer, BERT) as torch nn.Modules with
exactly the semantics of java/src/test/reference/make_golden.py, loads a lit4j model folder
(config.json + model.safetensors, parameter names as in models/README.md), and times inference or
one LiT tuning step. Prints ONE JSON object on stdout; everything else goes to stderr.

    /usr/bin/python3 bench/peers/torch_peer.py --model DIR --tower image|text --batch B \
        --tokens 16 --dtype fp32|bf16 --threads 2 --warmup 2 --iters 5 [--train] \
        [--export-onnx OUT.onnx] [--dump-output OUT.npy] [--dump-input IN.npy] [--seed 0] \
        [--device cpu|cuda] [--sdpa] [--compile]

--device cuda runs on the GPU (each timed call ends with torch.cuda.synchronize()); --sdpa uses
F.scaled_dot_product_attention (torch >= 2.0) instead of the written-out softmax(q k^T) v, and
--compile wraps the tower in torch.compile (torch >= 2.0); bench/gpu's comparison uses them.

Needs only Debian's torch (1.13) and numpy; `onnx` (python3-onnx) is used to check exports when
it is importable. See bench/peers/README.md.
"""

import argparse
import contextlib
import json
import math
import os
import resource
import statistics
import struct
import sys
import time


def _openblas_core():
    """`--openblas-core NAME` sets OPENBLAS_CORETYPE=NAME before numpy and torch load OpenBLAS.
    Without it the environment decides: OpenBLAS detects the CPU unless OPENBLAS_CORETYPE is set.
    (The VM of bench/peers/README.md sets OPENBLAS_CORETYPE=Haswell in its environment, which
    forces AVX2 kernels on an AVX-512 CPU that OpenBLAS would run on its Cooperlake kernels:
    fp32 towers 1.7-1.9x slower.)"""
    argv = sys.argv[1:]
    for i, arg in enumerate(argv):
        if arg == "--openblas-core" and i + 1 < len(argv):
            os.environ["OPENBLAS_CORETYPE"] = argv[i + 1]
        elif arg.startswith("--openblas-core="):
            os.environ["OPENBLAS_CORETYPE"] = arg.split("=", 1)[1]


if __name__ == "__main__":
    _openblas_core()
import numpy as np  # noqa: E402  (after _openblas_core)
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


class PeerError(Exception):
    """A usage or model error: reported as one line on stderr, exit code 2."""


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------------
# safetensors (read by hand: u64 LE header length, JSON header, raw little-endian data)
# ------------------------------------------------------------------------------------------------

ST_FLOAT = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "BF16": "<u2"}
ST_INT = {"I32": "<i4", "I64": "<i8", "I16": "<i2", "I8": "i1", "U8": "u1"}
ST_SIZE = {"F32": 4, "F16": 2, "F64": 8, "BF16": 2, "I32": 4, "I64": 8, "I16": 2, "I8": 1, "U8": 1}


def read_header(path):
    """Returns (tensor infos, data start offset, metadata). Checks the offsets against the file."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            raw = f.read(8)
            if len(raw) != 8:
                raise PeerError(f"{path}: not a safetensors file (shorter than 8 bytes)")
            (n,) = struct.unpack("<Q", raw)
            if n > min(size - 8, 100 << 20):
                raise PeerError(f"{path}: not a safetensors file (header length {n})")
            header = json.loads(f.read(n).decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PeerError(f"{path}: cannot read safetensors header: {e}") from None
    if not isinstance(header, dict):
        raise PeerError(f"{path}: safetensors header is not a JSON object")
    meta = header.pop("__metadata__", None)
    base = 8 + n
    for name, info in header.items():
        try:
            dt, shape, (b, e) = info["dtype"], info["shape"], info["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise PeerError(f"{path}: bad header entry for '{name}'") from None
        if dt not in ST_SIZE:
            raise PeerError(f"{path}: tensor '{name}' has unsupported dtype {dt}")
        if e - b != ST_SIZE[dt] * math.prod(shape) or b < 0 or base + e > size:
            raise PeerError(f"{path}: tensor '{name}' has bad data offsets {[b, e]} for {dt} {shape}")
    return header, base, meta


def read_tensor(f, base, info, name, path):
    """One tensor as a numpy array: floats (F32, F16, BF16, F64) as float32, ints as int64."""
    b, e = info["data_offsets"]
    f.seek(base + b)
    buf = f.read(e - b)
    if len(buf) != e - b:
        raise PeerError(f"{path}: tensor '{name}' is truncated")
    dt, shape = info["dtype"], info["shape"]
    if dt == "BF16":
        a = (np.frombuffer(buf, "<u2").astype(np.uint32) << 16).view(np.float32)
    elif dt in ST_FLOAT:
        a = np.frombuffer(buf, ST_FLOAT[dt]).astype(np.float32)
    else:
        a = np.frombuffer(buf, ST_INT[dt]).astype(np.int64)
    return a.reshape(shape)


def read_safetensors(path):
    header, base, meta = read_header(path)
    with open(path, "rb") as f:
        return {k: read_tensor(f, base, v, k, path) for k, v in header.items()}, meta


# ------------------------------------------------------------------------------------------------
# Config (models/README.md; defaults as lit4j's ViTConfig / TextTransformerConfig / BertConfig)
# ------------------------------------------------------------------------------------------------

IMAGE_KEYS = {"image_size", "patch_size", "channels", "width", "depth", "heads", "mlp_dim", "pool",
              "ln_eps", "gelu", "head_dim"}
TEXT_KEYS = {"kind", "vocab_size", "context_length", "width", "depth", "heads", "mlp_dim", "pool",
             "ln_eps", "gelu", "head_dim"}
BERT_KEYS = TEXT_KEYS | {"max_position", "type_vocab_size"}


def _tower_cfg(c, where, keys, defaults, required):
    if not isinstance(c, dict):
        raise PeerError(f"{where}: not a JSON object")
    unknown = sorted(set(c) - keys)
    if unknown:
        raise PeerError(f"{where}: unknown key(s) {unknown}")
    missing = [k for k in required if k not in c]
    if missing:
        raise PeerError(f"{where}: missing key(s) {missing}")
    cfg = dict(defaults)
    cfg.update(c)
    if cfg["gelu"] not in ("tanh", "erf"):
        raise PeerError(f"{where}: gelu '{cfg['gelu']}' (tanh or erf)")
    if cfg["width"] % cfg["heads"]:
        raise PeerError(f"{where}: width {cfg['width']} is not a multiple of heads {cfg['heads']}")
    return cfg


def parse_config(conf, where):
    if not isinstance(conf, dict):
        raise PeerError(f"{where}: not a JSON object")
    unknown = sorted(set(conf) - {"format", "version", "image", "text", "loss"})
    if unknown:
        raise PeerError(f"{where}: unknown key(s) {unknown}")
    if conf.get("format", "lit4j") != "lit4j":
        raise PeerError(f"{where}: format is '{conf.get('format')}', expected 'lit4j'")
    out = {"image": None, "text": None, "loss": conf.get("loss", "softmax")}
    if out["loss"] not in ("softmax", "sigmoid"):
        raise PeerError(f"{where}: loss '{out['loss']}' (softmax or sigmoid)")
    common = ("width", "depth", "heads", "mlp_dim")
    if conf.get("image") is not None:
        c = _tower_cfg(conf["image"], where + ": image", IMAGE_KEYS,
                       {"channels": 3, "pool": "tok", "ln_eps": 1e-6, "gelu": "tanh", "head_dim": 0},
                       ("image_size", "patch_size") + common)
        if c["pool"] == "mean":
            c["pool"] = "gap"
        if c["pool"] not in ("tok", "gap"):
            raise PeerError(f"{where}: image pool '{c['pool']}' (tok or gap)")
        if c["image_size"] % c["patch_size"]:
            raise PeerError(f"{where}: image_size is not a multiple of patch_size")
        out["image"] = c
    if conf.get("text") is not None:
        t = conf["text"]
        kind = t.get("kind", "transformer") if isinstance(t, dict) else None
        if kind == "bert":
            c = _tower_cfg(t, where + ": text", BERT_KEYS,
                           {"kind": "bert", "max_position": 512, "type_vocab_size": 2, "pool": "first",
                            "ln_eps": 1e-12, "gelu": "erf", "head_dim": 0},
                           ("vocab_size", "context_length") + common)
            if c["pool"] != "first":
                raise PeerError(f"{where}: BERT pools its first ([CLS]) token; pool '{c['pool']}'")
        elif kind == "transformer":
            c = _tower_cfg(t, where + ": text", TEXT_KEYS,
                           {"kind": "transformer", "pool": "last", "ln_eps": 1e-6, "gelu": "tanh",
                            "head_dim": 0},
                           ("vocab_size", "context_length") + common)
            if c["pool"] == "gap":
                c["pool"] = "mean"
            if c["pool"] not in ("last", "first", "mean"):
                raise PeerError(f"{where}: text pool '{c['pool']}' (last, first or mean)")
        else:
            raise PeerError(f"{where}: unknown text tower kind '{kind}' (transformer or bert)")
        out["text"] = c
    if out["image"] is None and out["text"] is None:
        raise PeerError(f"{where}: neither an image nor a text tower")
    if out["image"] and out["text"] and out_dim(out["image"]) != out_dim(out["text"]):
        raise PeerError(f"{where}: the towers output {out_dim(out['image'])} and "
                        f"{out_dim(out['text'])} dimensions")
    return out


def out_dim(cfg):
    return cfg["head_dim"] or cfg["width"]


# ------------------------------------------------------------------------------------------------
# The towers as nn.Modules. Submodule paths are lit4j's parameter names: an nn.Linear `x.y` holds
# `x.y.kernel` (transposed: torch keeps [out, in]) and `x.y.bias`, an nn.LayerNorm holds
# `x.y.scale` and `x.y.bias`, and plain Parameters (img.cls, img.pos, txt.tok, ...) keep their path.
# ------------------------------------------------------------------------------------------------

def l2_normalize(z):
    return z / (z.norm(p=2, dim=-1, keepdim=True) + 1e-8)


# --sdpa: F.scaled_dot_product_attention (PyTorch's fused kernels) instead of the written-out form
USE_SDPA = False


class Attention(nn.Module):
    """Multi-head self-attention; q, k, v side by side in one [D, 3D] projection, head-major."""

    def __init__(self, d, heads, dd):
        super().__init__()
        self.qkv = nn.Linear(d, 3 * d, **dd)
        self.out = nn.Linear(d, d, **dd)
        self.heads = heads
        self.scale = 1.0 / math.sqrt(d // heads)

    def forward(self, x, bias=None):
        b, t, d = x.shape[0], x.shape[1], x.shape[2]
        h = self.heads
        qkv = self.qkv(x).reshape(b, t, 3, h, d // h).permute(2, 0, 3, 1, 4)  # [3, B, H, T, dh]
        q, k, v = qkv[0], qkv[1], qkv[2]
        if USE_SDPA:  # the same scale 1/sqrt(dh); bias is added to the scores as below
            o = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
            return self.out(o.transpose(1, 2).reshape(b, t, d))
        s = torch.matmul(q * self.scale, k.transpose(-1, -2))  # [B, H, T, T]
        if bias is not None:
            s = s + bias  # [B, 1, 1, T]: 0 to attend, -inf to ignore
        p = torch.softmax(s, dim=-1)
        o = torch.matmul(p, v).transpose(1, 2).reshape(b, t, d)
        return self.out(o)


class Mlp(nn.Module):
    def __init__(self, d, m, gelu, dd):
        super().__init__()
        self.fc1 = nn.Linear(d, m, **dd)
        self.fc2 = nn.Linear(m, d, **dd)
        self.approximate = "tanh" if gelu == "tanh" else "none"

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x), approximate=self.approximate))


class Block(nn.Module):
    """Pre-LN (ViT, text transformer) or post-LN (BERT) encoder block."""

    def __init__(self, cfg, post_ln, dd):
        super().__init__()
        d, eps = cfg["width"], cfg["ln_eps"]
        self.ln1 = nn.LayerNorm(d, eps=eps, **dd)
        self.attn = Attention(d, cfg["heads"], dd)
        self.ln2 = nn.LayerNorm(d, eps=eps, **dd)
        self.mlp = Mlp(d, cfg["mlp_dim"], cfg["gelu"], dd)
        self.post_ln = post_ln

    def forward(self, x, bias=None):
        if self.post_ln:
            x = self.ln1(x + self.attn(x, bias))
            return self.ln2(x + self.mlp(x))
        x = x + self.attn(self.ln1(x), bias)
        return x + self.mlp(self.ln2(x))


def _param(dd, *shape):
    return nn.Parameter(torch.empty(*shape, **dd))


class ViT(nn.Module):
    """big_vision ViT: NHWC images -> L2-normalised embeddings."""

    def __init__(self, cfg, dd):
        super().__init__()
        self.cfg = cfg
        p, c, d = cfg["patch_size"], cfg["channels"], cfg["width"]
        n = (cfg["image_size"] // p) ** 2
        self.patch = nn.Linear(p * p * c, d, **dd)
        if cfg["pool"] == "tok":
            self.cls = _param(dd, d)
        self.pos = _param(dd, n, d)
        self.blocks = nn.ModuleList(Block(cfg, False, dd) for _ in range(cfg["depth"]))
        self.norm = nn.LayerNorm(d, eps=cfg["ln_eps"], **dd)
        self.head = nn.Linear(d, cfg["head_dim"], **dd) if cfg["head_dim"] else None

    def forward(self, images):  # [B, S, S, C]
        cfg = self.cfg
        p, c, d = cfg["patch_size"], cfg["channels"], cfg["width"]
        g = cfg["image_size"] // p
        b = images.shape[0]
        # row-major patches, each flattened in (row, column, channel) order
        x = images.reshape(b, g, p, g, p, c).permute(0, 1, 3, 2, 4, 5).reshape(b, g * g, p * p * c)
        x = self.patch(x) + self.pos
        if cfg["pool"] == "tok":
            x = torch.cat([self.cls.expand(b, 1, d), x], dim=1)
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)
        z = x[:, 0] if cfg["pool"] == "tok" else x.mean(dim=1)
        if self.head is not None:
            z = self.head(z)
        return l2_normalize(z)


class TextTransformer(nn.Module):
    """big_vision text transformer (pre-LN, no attention mask): tokens -> embeddings."""

    def __init__(self, cfg, dd):
        super().__init__()
        self.cfg = cfg
        d = cfg["width"]
        self.tok = _param(dd, cfg["vocab_size"], d)
        self.pos = _param(dd, cfg["context_length"], d)
        self.blocks = nn.ModuleList(Block(cfg, False, dd) for _ in range(cfg["depth"]))
        self.norm = nn.LayerNorm(d, eps=cfg["ln_eps"], **dd)
        self.head = nn.Linear(d, cfg["head_dim"], **dd) if cfg["head_dim"] else None

    def forward(self, tokens):  # [B, T] int64
        t = tokens.shape[1]
        x = F.embedding(tokens, self.tok) + self.pos[:t]
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)
        pool = self.cfg["pool"]
        z = x[:, -1] if pool == "last" else x[:, 0] if pool == "first" else x.mean(dim=1)
        if self.head is not None:
            z = self.head(z)
        return l2_normalize(z)


class Bert(nn.Module):
    """BERT (post-LN, key mask token != 0, token type 0, pools [CLS]): tokens -> embeddings."""

    def __init__(self, cfg, dd):
        super().__init__()
        self.cfg = cfg
        d = cfg["width"]
        self.tok = _param(dd, cfg["vocab_size"], d)
        self.pos = _param(dd, cfg["max_position"], d)
        self.type_ = _param(dd, cfg["type_vocab_size"], d)  # lit4j `txt.type`
        self.emb_norm = nn.LayerNorm(d, eps=cfg["ln_eps"], **dd)
        self.blocks = nn.ModuleList(Block(cfg, True, dd) for _ in range(cfg["depth"]))
        self.head = nn.Linear(d, cfg["head_dim"], **dd) if cfg["head_dim"] else None

    def forward(self, tokens):  # [B, T] int64
        t = tokens.shape[1]
        x = self.emb_norm(F.embedding(tokens, self.tok) + self.pos[:t] + self.type_[0])
        # the key mask is computed from the tokens (also inside an exported ONNX graph)
        bias = torch.zeros_like(tokens, dtype=x.dtype).masked_fill(tokens == 0, float("-inf"))
        bias = bias[:, None, None, :]
        for blk in self.blocks:
            x = blk(x, bias)
        z = x[:, 0]
        if self.head is not None:
            z = self.head(z)
        return l2_normalize(z)


class LiT(nn.Module):
    """A lit4j model: `img` and/or `txt` tower, plus `t` (and `b`) when there are two towers.
    Towers not named in `materialize` are built on the meta device: they only provide the
    expected names and shapes for the file check, and take no memory."""

    def __init__(self, conf, materialize):
        super().__init__()
        dd = lambda t: {"device": "cpu" if t in materialize else "meta", "dtype": torch.float32}
        self.img = ViT(conf["image"], dd("img")) if conf["image"] else None
        tc = conf["text"]
        if tc is None:
            self.txt = None
        elif tc["kind"] == "bert":
            self.txt = Bert(tc, dd("txt"))
        else:
            self.txt = TextTransformer(tc, dd("txt"))
        if conf["image"] and conf["text"]:
            self.t = _param(dd("t"), 1)
            if conf["loss"] == "sigmoid":
                self.b = _param(dd("t"), 1)


def lit4j_params(model):
    """lit4j name -> (torch parameter, transposed?) for every parameter of the model."""
    out = {}
    for mname, mod in model.named_modules():
        for pname, p in mod.named_parameters(recurse=False):
            if isinstance(mod, nn.Linear):
                name, tr = f"{mname}.{'kernel' if pname == 'weight' else 'bias'}", pname == "weight"
            elif isinstance(mod, nn.LayerNorm):
                name, tr = f"{mname}.{'scale' if pname == 'weight' else 'bias'}", False
            else:  # `type` is taken by nn.Module.type: the attribute is `type_`
                pname = pname.rstrip("_")
                name, tr = (f"{mname}.{pname}" if mname else pname), False
            assert name not in out, name
            out[name] = (p, tr)
    return out


def load_model(folder, materialize):
    """Reads DIR/config.json and DIR/model.safetensors; every name in the file must be expected
    and every expected name present with its shape. Loads the materialised parts only."""
    if not os.path.isdir(folder):
        raise PeerError(f"{folder}: not a folder")
    cpath = os.path.join(folder, "config.json")
    try:
        with open(cpath, encoding="utf-8") as f:
            conf = parse_config(json.load(f), cpath)
    except (OSError, json.JSONDecodeError) as e:
        raise PeerError(f"{cpath}: {e}") from None
    wpath = os.path.join(folder, "model.safetensors")
    header, base, _ = read_header(wpath)
    model = LiT(conf, materialize)
    want = lit4j_params(model)
    problems = []
    for k in sorted(set(header) - set(want)):
        problems.append(f"unused tensor '{k}' {header[k]['shape']}")
    for k in sorted(set(want) - set(header)):
        p, tr = want[k]
        problems.append(f"missing tensor '{k}' {list(p.shape)[::-1] if tr else list(p.shape)}")
    for k in sorted(set(want) & set(header)):
        p, tr = want[k]
        shape = list(p.shape)[::-1] if tr else list(p.shape)
        if header[k]["shape"] != shape:
            problems.append(f"tensor '{k}' has shape {header[k]['shape']}, expected {shape}")
        elif header[k]["dtype"] not in ST_FLOAT:
            problems.append(f"tensor '{k}' has dtype {header[k]['dtype']}, expected a float type")
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise PeerError(f"{wpath}: " + "; ".join(problems[:3]) + more)
    with open(wpath, "rb") as f, torch.no_grad():
        for k, (p, tr) in want.items():
            if p.is_meta:
                continue
            a = torch.from_numpy(read_tensor(f, base, header[k], k, wpath))
            p.copy_(a.T if tr else a)
    return model, conf


# ------------------------------------------------------------------------------------------------
# Inputs
# ------------------------------------------------------------------------------------------------

def random_images(seed, b, cfg):
    rng = np.random.default_rng(seed)
    s, c = cfg["image_size"], cfg["channels"]
    return rng.uniform(-1.0, 1.0, (b, s, s, c)).astype(np.float32)


def random_tokens(seed, b, t, cfg):
    rng = np.random.default_rng(seed)
    tok = rng.integers(1, cfg["vocab_size"], (b, t)).astype(np.int64)
    if cfg["kind"] == "bert":
        tok[:, 0] = min(101, cfg["vocab_size"] - 1)  # [CLS]; no padding
    return tok


def random_unit_vectors(seed, b, e):
    z = np.random.default_rng(seed).standard_normal((b, e))
    return (z / np.linalg.norm(z, axis=1, keepdims=True)).astype(np.float32)


def input_from(path, tower):
    """The `input` array of a golden safetensors file (`img_input` / `txt_input` in two-tower
    goldens), or a .npy file."""
    if path.endswith(".npy"):
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise PeerError(f"{path}: {e}") from None
    arrays, _ = read_safetensors(path)
    for k in ("input", "img_input" if tower == "image" else "txt_input"):
        if k in arrays:
            return arrays[k]
    raise PeerError(f"{path}: no 'input' tensor (keys: {sorted(arrays)})")


# ------------------------------------------------------------------------------------------------
# Measurements
# ------------------------------------------------------------------------------------------------

def runq_wait_s():
    """Seconds this process's threads have spent runnable but waiting for a CPU (schedstat)."""
    total = 0
    try:
        for t in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{t}/schedstat") as f:
                total += int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return float("nan")
    return total / 1e9


def others_cpu_s():
    """CPU seconds used since boot by everything but this process: /proc/stat's busy time (user,
    nice, system, irq, softirq, steal) less this process's utime and stime (proc(5), USER_HZ = 100),
    as lit4j's Worker.othersCpuS; nan where unreadable."""
    try:
        with open("/proc/stat") as f:
            cpu = f.readline().split()
        busy = sum(int(cpu[i]) for i in (1, 2, 3, 6, 7, 8))
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()  # fields[0] is field 3, state
        return (busy - int(fields[11]) - int(fields[12])) / 100.0
    except (OSError, ValueError, IndexError):
        return float("nan")


def _sync():
    """Waits for the GPU (no-op on the CPU), so a timed call includes its device work."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def timed(fn, warmup, iters, stats=None):
    """Wall time of each of `iters` calls after `warmup` untimed ones. `stats` gets, over the
    timed calls, the process CPU time per wall second (about --threads on an idle machine; note
    that OpenMP threads spin while they wait for a descheduled sibling, so it stays high under
    contention), the time its threads waited for a CPU (runq_wait_s, its own threads' queueing
    included) and the CPU time other processes used (others_cpu_s; near 0 when idle), which
    decides `contended`."""
    for _ in range(warmup):
        fn()
    _sync()
    times = []
    cpu0, wait0, others0 = time.process_time(), runq_wait_s(), others_cpu_s()
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        _sync()
        times.append(time.perf_counter() - t0)
    if stats is not None:
        stats["cpu_per_wall"] = round((time.process_time() - cpu0) / sum(times), 3)
        stats["runq_wait_s"] = round(runq_wait_s() - wait0, 3)
        stats["others_cpu_s"] = round(others_cpu_s() - others0, 3)
        # other processes used more than 5% of this one's thread-time
        stats["contended"] = stats["others_cpu_s"] > 0.05 * torch.get_num_threads() * sum(times)
    return times


def blas_info():
    import ctypes
    for lib in ("libblas.so.3", "libopenblas.so.0"):
        try:
            f = ctypes.CDLL(lib).openblas_get_corename
            f.restype = ctypes.c_char_p
            return "OpenBLAS " + f().decode()
        except (OSError, AttributeError):
            continue
    # not OpenBLAS: name the BLAS library this process mapped (Debian's reference BLAS, libblas3,
    # lives in /usr/lib/<arch>/blas/ and multiplies fp32 40-50x slower than OpenBLAS)
    with open("/proc/self/maps") as maps:
        libs = sorted({line.split()[-1] for line in maps if "libblas" in line and "/" in line})
    if any("/blas/" in lib for lib in libs):
        return "reference BLAS (" + ", ".join(libs) + ")"
    return "unknown"


def refuse_reference_blas():
    """A CPU fp32 row on the reference BLAS is not PyTorch's speed but a packaging accident
    (python3-torch depends on libblas3 | libblas.so.3, so apt may install the reference one)."""
    blas = blas_info()
    if blas.startswith("reference BLAS"):
        raise PeerError("PyTorch's fp32 products would run on " + blas + ", 40-50x slower than OpenBLAS: "
                        "sudo apt install libopenblas0-openmp")


def run_inference(tower, x, dtype, warmup, iters, compile_=False):
    tower.eval()
    if dtype == "bf16":
        # autocast under no_grad / inference_mode fails in torch 1.13 on CPU; converting the
        # tower (and the float inputs) to bfloat16 works.
        tower.bfloat16()
        if x.is_floating_point():
            x = x.bfloat16()
    if compile_:
        tower = torch.compile(tower)
    result = {}

    def fwd():
        with torch.no_grad():
            result["out"] = tower(x)

    stats = {}
    times = timed(fwd, warmup, iters, stats)
    return times, result["out"].float(), stats


def lit_loss(zimg, ztxt, t, b=None):
    """LiT loss of a batch of matching pairs: logits = exp(t) * zimg . ztxt^T (+ b); softmax:
    0.5 * (CE(logits, arange) + CE(logits^T, arange)); sigmoid (with b): -(1/N) * sum_ij
    log sigmoid(z_ij * logits_ij), z = 2I - 1."""
    n = zimg.shape[0]
    logits = torch.exp(t[0]) * (zimg @ ztxt.T)  # rows: images, columns: texts
    if b is not None:
        logits = logits + b[0]
        z = 2 * torch.eye(n, device=zimg.device) - 1
        return -F.logsigmoid(z * logits).sum() / n
    labels = torch.arange(n, device=zimg.device)
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))


def run_train(model, conf, tokens, dtype, warmup, iters, seed, device=None):
    device = device or torch.device("cpu")
    txt = model.txt
    txt.train()
    params = list(txt.parameters())
    extra = {}
    if getattr(model, "t", None) is not None:
        t_param = model.t
        extra["t_from"] = "model"
    else:  # text-only model: a fresh log-temperature, log(10) as lit4j's Init
        t_param = nn.Parameter(torch.tensor([math.log(10.0)], device=device))
        extra["t_from"] = "init log(10)"
    params.append(t_param)
    sigmoid = conf["loss"] == "sigmoid" and getattr(model, "b", None) is not None
    if sigmoid:
        params.append(model.b)
    extra["loss"] = "sigmoid" if sigmoid else "softmax"
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=1e-4)
    b = tokens.shape[0]
    zimg = torch.from_numpy(random_unit_vectors(seed + 1, b, out_dim(conf["text"]))).to(device)
    ctx = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if dtype == "bf16" else contextlib.nullcontext
    losses, first = [], {}

    def step():
        opt.zero_grad(set_to_none=True)
        with ctx():
            ztxt = txt(tokens)
            loss = lit_loss(zimg, ztxt, t_param, model.b if sigmoid else None)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if "out" not in first:
            first["out"] = ztxt.detach().float()

    times = timed(step, warmup, iters, extra)
    extra["losses"] = losses
    return times, first["out"], extra


def export_onnx(tower, kind, x, path, opset):
    tower.eval()
    name = "images" if kind == "image" else "tokens"
    with torch.no_grad():
        torch.onnx.export(tower, (x,), path, input_names=[name], output_names=["embeddings"],
                          dynamic_axes={name: {0: "batch"}, "embeddings": {0: "batch"}},
                          opset_version=opset, do_constant_folding=True)
    res = {"exported": path, "ok": True, "opset": opset, "checked": False}
    try:
        import onnx
    except ImportError:
        log("onnx is not importable: the exported graph was not checked")
        return res
    onnx.checker.check_model(path)
    m = onnx.load(path, load_external_data=False)
    ins = [(i.name, [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim])
           for i in m.graph.input]
    outs = [(o.name, [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim])
            for o in m.graph.output]
    if len(ins) != 1 or ins[0][0] != name or ins[0][1][0] != "batch" or outs[0][0] != "embeddings":
        raise RuntimeError(f"unexpected ONNX signature: inputs {ins}, outputs {outs}")
    res.update(checked=True, onnx=onnx.__version__, inputs=dict(ins), outputs=dict(outs))
    return res


def tune_malloc():
    """Keeps freed memory in glibc's heap instead of returning it to the kernel. By default glibc
    serves blocks over 32 MiB (activations, gradients, AdamW temporaries of base-size models) by
    mmap and unmaps them on free, so every iteration page-faults them in again; in this VM a fault
    costs ~13 us per 4 KiB page (a fresh 94 MB tensor: ~300 ms to touch, 8 ms to compute).
    jemalloc / tcmalloc, usual in PyTorch deployments, avoid this too. Returns a description."""
    import ctypes
    try:
        libc = ctypes.CDLL("libc.so.6")
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
        ok = libc.mallopt(M_MMAP_THRESHOLD, 1 << 30) == 1 and libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1) == 1
    except (OSError, AttributeError):
        ok = False
    if not ok:
        log("mallopt failed: glibc malloc defaults stay")
        return "glibc default (mallopt failed)"
    return "glibc mallopt mmap_threshold=1GiB trim_threshold=2GiB"


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="lit4j model folder (config.json + model.safetensors)")
    ap.add_argument("--tower", required=True, choices=("image", "text"))
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--tokens", type=int, default=None, help="tokens per text (default: context_length)")
    ap.add_argument("--dtype", choices=("fp32", "bf16"), default="fp32")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--train", action="store_true", help="time LiT tuning steps of the text tower")
    ap.add_argument("--export-onnx", metavar="OUT.onnx", help="export the tower (fp32) and exit")
    ap.add_argument("--opset", type=int, default=17, help="ONNX opset for --export-onnx (default 17)")
    ap.add_argument("--dump-output", metavar="FILE.npy", help="save the first 2 output embeddings")
    ap.add_argument("--dump-input", metavar="FILE.npy", help="save the input batch (images or tokens)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default 0)")
    ap.add_argument("--default-malloc", action="store_true",
                    help="keep glibc's malloc settings (default: mallopt, see tune_malloc)")
    ap.add_argument("--openblas-core", metavar="NAME",
                    help="set OPENBLAS_CORETYPE for this run (e.g. SkylakeX, Cooperlake, Haswell); "
                         "default: the environment's, else OpenBLAS detects the CPU")
    ap.add_argument("--input-from", metavar="FILE", help=argparse.SUPPRESS)  # golden .safetensors or .npy
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where to run (default cpu)")
    ap.add_argument("--sdpa", action="store_true", help="attention through F.scaled_dot_product_attention")
    ap.add_argument("--compile", action="store_true", help="torch.compile the tower (inference only)")
    a = ap.parse_args(argv)
    for k in ("batch", "threads", "iters"):
        if getattr(a, k) < 1:
            ap.error(f"--{k} must be at least 1")
    if a.warmup < 0 or (a.tokens is not None and a.tokens < 1):
        ap.error("--warmup must be >= 0 and --tokens >= 1")
    if a.train and a.tower != "text":
        ap.error("--train needs --tower text")
    if a.export_onnx and (a.train or a.dtype != "fp32"):
        ap.error("--export-onnx exports fp32 inference only")
    if a.compile and a.train:
        ap.error("--compile times inference only")
    return a


def main(argv):
    a = parse_args(argv)
    global USE_SDPA
    USE_SDPA = a.sdpa
    if a.device == "cuda" and not torch.cuda.is_available():
        raise PeerError("--device cuda: torch.cuda.is_available() is False")
    if (a.sdpa and not hasattr(F, "scaled_dot_product_attention")) or (a.compile and not hasattr(torch, "compile")):
        raise PeerError(f"--sdpa and --compile need torch >= 2.0 (this is {torch.__version__})")
    if a.device == "cpu":
        refuse_reference_blas()
    device = torch.device(a.device)
    malloc = "glibc default" if a.default_malloc else tune_malloc()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    t = "img" if a.tower == "image" else "txt"
    model, conf = load_model(a.model, {t, "t"} if a.train else {t})
    cfg = conf[a.tower]
    if cfg is None:
        raise PeerError(f"{a.model}: the model has no {a.tower} tower")
    tower = getattr(model, t)
    if a.train:  # the other tower only existed (on the meta device) for the name check
        model.img = None
    else:
        model.img = model.txt = None

    if a.input_from:
        x = input_from(a.input_from, a.tower)
        batch = x.shape[0]
    elif a.tower == "image":
        x = random_images(a.seed, a.batch, cfg)
        batch = a.batch
    else:
        x = random_tokens(a.seed, a.batch, a.tokens or cfg["context_length"], cfg)
        batch = a.batch
    if a.tower == "image":
        s, c = cfg["image_size"], cfg["channels"]
        if x.ndim != 4 or x.shape[1:] != (s, s, c) or not np.issubdtype(x.dtype, np.floating):
            raise PeerError(f"input images {x.dtype} {list(x.shape)}, expected float [B, {s}, {s}, {c}]")
        x = x.astype(np.float32)
    else:
        if x.ndim != 2 or not np.issubdtype(x.dtype, np.integer):
            raise PeerError(f"input tokens {x.dtype} {list(x.shape)}, expected integer [B, T]")
        x = x.astype(np.int64)
        limit = cfg["max_position"] if cfg["kind"] == "bert" else cfg["context_length"]
        if x.shape[1] > limit:
            raise PeerError(f"{x.shape[1]} tokens per text, but the position table has {limit}")
        if x.min() < 0 or x.max() >= cfg["vocab_size"]:
            raise PeerError(f"token ids outside [0, {cfg['vocab_size']})")
    if a.dump_input:
        np.save(a.dump_input, x)
    xt = torch.from_numpy(x).to(device)
    tower.to(device)
    if a.train and getattr(model, "t", None) is not None:
        model.t.data = model.t.data.to(device)
        if getattr(model, "b", None) is not None:
            model.b.data = model.b.data.to(device)
    n_params = sum(p.numel() for p in tower.parameters())
    log(f"torch {torch.__version__}, {a.threads} thread(s); {a.tower} tower "
        f"({n_params / 1e6:.2f}M parameters), input {list(x.shape)}, {a.dtype}"
        + (", train" if a.train else ""))

    load1 = os.getloadavg()[0]
    if a.export_onnx:
        res = export_onnx(tower, a.tower, xt, a.export_onnx, a.opset)
        print(json.dumps(res), flush=True)
        return 0

    if a.train:
        times, out, extra = run_train(model, conf, xt, a.dtype, a.warmup, a.iters, a.seed, device)
    else:
        times, out, extra = run_inference(tower, xt, a.dtype, a.warmup, a.iters, a.compile)
    out = out.cpu()
    if a.dump_output:
        np.save(a.dump_output, out[:2].numpy().astype(np.float32))
    res = {"peer": "pytorch", "torch": torch.__version__, "threads": a.threads, "tower": a.tower,
           "batch": batch, "tokens": None if a.tower == "image" else int(x.shape[1]),
           "dtype": a.dtype, "train": a.train, "times_s": times,
           "median_s": statistics.median(times), "min_s": min(times),
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           "embedding_checksum": float(out[0].double().sum()),
           "model": a.model, "warmup": a.warmup, "iters": a.iters, "params": n_params,
           "embed_dim": int(out.shape[1]),
           "input": a.input_from or f"random seed {a.seed}", "load_avg_1m": load1,
           "malloc": malloc, "blas": blas_info(), "device": a.device, "sdpa": a.sdpa, "compile": a.compile}
    if a.device == "cuda":
        res["gpu"] = torch.cuda.get_device_name(0)
        res["gpu_peak_mb"] = torch.cuda.max_memory_allocated() / 2 ** 20
    res.update(extra)
    print(json.dumps(res), flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except PeerError as e:
        print(f"torch_peer: {e}", file=sys.stderr, flush=True)
        sys.exit(2)
