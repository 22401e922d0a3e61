#!/usr/bin/python3
"""The harness's LiT tuning step as a user would run it: one PyTorch script, started from a shell.

Item 0 of the bf16-tuning issue: the harness's `PyTorch bf16` tuning row must match a standalone
PyTorch run of the same step within noise. This script is that standalone run. It imports nothing
from torch_peer.py and reads no model folder: it builds BERT-base as the harness's model has it
(post-LN, 12 x 768, 12 heads, MLP 3072, tanh GELU, LayerNorm eps 1e-12, [CLS] pooling, a 768 x 768
head, L2-normalised), draws random weights, and times the step the peer times: zero_grad, the text
tower forward and the softmax LiT loss against fixed random unit image embeddings (under
`torch.autocast("cpu", bfloat16)` at bf16), backward, AdamW(lr 1e-4, weight decay 1e-4) over
the tower and the log-temperature. Prints one JSON line on stdout (steps/s, median seconds, the
threads torch used, the OpenMP/BLAS environment it saw, and how long its threads waited for a CPU).

    /usr/bin/python3 bench/peers/torch_step_standalone.py --batch 64 --dtype bf16 [--threads 2]
        [--tokens 16] [--warmup 3] [--iters 5] [--mallopt]

Without --threads, torch keeps its default (one thread per core). --mallopt applies the peer's
malloc settings (torch_peer.py: tune_malloc), which a plain script does not have.
"""

import argparse
import contextlib
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    """A post-LN BERT block; attention written out as torch_peer.py's (softmax(q k^T / sqrt(dh) + mask) v)."""

    def __init__(self, d=768, heads=12, mlp=3072, eps=1e-12):
        super().__init__()
        self.qkv, self.out = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.ln1, self.ln2 = nn.LayerNorm(d, eps=eps), nn.LayerNorm(d, eps=eps)
        self.fc1, self.fc2 = nn.Linear(d, mlp), nn.Linear(mlp, d)
        self.heads, self.scale = heads, 1.0 / math.sqrt(d // heads)

    def forward(self, x, bias):
        b, t, d = x.shape
        h = self.heads
        q, k, v = self.qkv(x).reshape(b, t, 3, h, d // h).permute(2, 0, 3, 1, 4)
        p = torch.softmax(torch.matmul(q * self.scale, k.transpose(-1, -2)) + bias, dim=-1)
        x = self.ln1(x + self.out(torch.matmul(p, v).transpose(1, 2).reshape(b, t, d)))
        return self.ln2(x + self.fc2(F.gelu(self.fc1(x), approximate="tanh")))


class Bert(nn.Module):
    def __init__(self, vocab=30522, positions=512, d=768, depth=12):
        super().__init__()
        self.tok = nn.Parameter(torch.randn(vocab, d) * 0.02)
        self.pos = nn.Parameter(torch.randn(positions, d) * 0.02)
        self.type_ = nn.Parameter(torch.randn(2, d) * 0.02)
        self.emb_norm = nn.LayerNorm(d, eps=1e-12)
        self.blocks = nn.ModuleList(Block(d) for _ in range(depth))
        self.head = nn.Linear(d, d)

    def forward(self, tokens):
        t = tokens.shape[1]
        x = self.emb_norm(F.embedding(tokens, self.tok) + self.pos[:t] + self.type_[0])
        bias = torch.zeros_like(tokens, dtype=x.dtype).masked_fill(tokens == 0, float("-inf"))[:, None, None, :]
        for blk in self.blocks:
            x = blk(x, bias)
        z = self.head(x[:, 0])
        return z / (z.norm(dim=-1, keepdim=True) + 1e-8)


def lit_loss(zimg, ztxt, t):
    logits = torch.exp(t[0]) * (zimg @ ztxt.T)
    labels = torch.arange(zimg.shape[0])
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))


def runq_wait_s():
    total = 0
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/schedstat") as f:
                total += int(f.read().split()[1])
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e9


def others_cpu_s():
    """CPU seconds everything but this process used since boot (/proc/stat busy less own utime+stime), as torch_peer.py."""
    with open("/proc/stat") as f:
        cpu = f.readline().split()
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (sum(int(cpu[i]) for i in (1, 2, 3, 6, 7, 8)) - int(fields[11]) - int(fields[12])) / 100.0


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--tokens", type=int, default=16)
    ap.add_argument("--dtype", choices=("fp32", "bf16"), default="bf16")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's own)")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--mallopt", action="store_true", help="the peer's malloc settings (mmap/trim thresholds)")
    a = ap.parse_args(argv)
    if a.mallopt:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 2 ** 31 - 1)  # M_TRIM_THRESHOLD
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    txt = Bert()
    txt.train()
    t = nn.Parameter(torch.tensor([math.log(10.0)]))
    opt = torch.optim.AdamW(list(txt.parameters()) + [t], lr=1e-4, weight_decay=1e-4)
    g = torch.Generator().manual_seed(1)
    tokens = torch.randint(1, 30522, (a.batch, a.tokens), generator=g)
    tokens[:, 0] = 101
    zimg = torch.randn(a.batch, 768, generator=g)
    zimg = zimg / zimg.norm(dim=-1, keepdim=True)
    ctx = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if a.dtype == "bf16" else contextlib.nullcontext

    def step():
        opt.zero_grad(set_to_none=True)
        with ctx():
            loss = lit_loss(zimg, txt(tokens), t)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    times, cpu0, wait0, others0 = [], time.process_time(), runq_wait_s(), others_cpu_s()
    for _ in range(a.iters):
        t0 = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - t0)
    wait, others = runq_wait_s() - wait0, others_cpu_s() - others0
    env = {k: os.environ[k] for k in sorted(os.environ) if k.startswith(("OMP_", "GOMP_", "KMP_", "MKL_", "OPENBLAS_"))}
    print(json.dumps({
        "script": "torch_step_standalone", "torch": torch.__version__, "batch": a.batch, "tokens": a.tokens, "dtype": a.dtype,
        "threads": torch.get_num_threads(), "median_s": statistics.median(times), "steps_per_s": 1 / statistics.median(times),
        "times_s": times, "loss": loss, "cpu_per_wall": round((time.process_time() - cpu0) / sum(times), 3),
        "runq_wait_s": round(wait, 3), "others_cpu_s": round(others, 3),
        "contended": others > 0.05 * torch.get_num_threads() * sum(times),
        "mallopt": a.mallopt, "mkldnn": torch.backends.mkldnn.is_available(), "env": env,
        "load_avg_1m": os.getloadavg()[0]}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
