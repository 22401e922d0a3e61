#!/usr/bin/python3
"""Independent training reference for lit4j: writes java/src/test/resources/golden/train_*.

Run by hand, never by CI (after make_golden.py, whose towers, weights, inputs and writers it
imports):

    sudo apt install python3-torch libopenblas0-openmp
    /usr/bin/python3 java/src/test/reference/make_train_golden.py

Two-tower LiT models built from make_golden's `vit` image tower and its `txt` (or `bert`) text
tower, with t = float32(log 10) (and, for the sigmoid loss, b = -10). Everything is computed in
float64 from the float32 weights, and stored as float32. Gradients come from torch autograd through
make_golden's plain-torch towers; the optimizer is a hand-written AdamW.

Semantics (what lit4j implements):
  * embeddings z / (|z| + 1e-8); logits = exp(t) * zimg @ ztxt^T (+ b for sigmoid);
  * softmax loss 0.5 * (CE(logits, arange N) + CE(logits^T, arange N)), each CE a mean over rows;
  * sigmoid loss -(1/N) * sum_ij log sigmoid(z_ij * logits_ij), z = 2I - 1;
  * AdamW (torch.optim.AdamW): betas (0.9, 0.999), eps 1e-8, decoupled decay p -= lr*wd*p before
    the Adam update, bias-corrected moments; decay only on names ending in `.kernel`;
  * lr(s) = base*(s+1)/W for s < W, else base*0.5*(1 + cos(pi*(s-W)/(S-W))); base 1e-2, W 3, S 10;
  * global-norm clipping (clip_grad_norm_): scale max_norm / (norm + 1e-6) when norm > max_norm;
  * the same batch at every step.

Self-checks (assert; a failure aborts):
  * weights and inputs are bit-identical to the existing goldens (golden/vit, golden/txt,
    golden/bert and their `input`s), and the initial logits match lit_tiny.safetensors;
  * the hand-written losses match F.cross_entropy / F.binary_cross_entropy_with_logits;
  * autograd gradients match central finite differences in float64 (step 1e-6), both for single
    entries of many parameters and along a random direction through all parameters at once;
  * each 10-step run is repeated with torch.optim.AdamW (param groups decay / no decay),
    LambdaLR and clip_grad_norm_: losses, norms, rates and final weights agree to 1e-12;
  * max_norm clips on some steps and not on others, with a margin;
  * every file is read back and compared with what it should hold.
"""

import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_golden as mg  # noqa: E402  (sets the seed and 2 threads on import)

torch.set_num_threads(2)
F64 = torch.float64
OUT = mg.OUT

# make_golden's towers read every parameter through T(numpy array). Let them take float64 torch
# tensors too (parameters that carry autograd), in this process only.
_T = mg.T
mg.T = lambda a: a if isinstance(a, torch.Tensor) else _T(a)

CV, CT, CB = mg.CFG["vit"], mg.CFG["txt"], mg.CFG["bert"]
BASE_LR, WARMUP, STEPS, WD = 1e-2, 3, 10, 0.1
BETA1, BETA2, EPS = 0.9, 0.999, 1e-8
T0 = np.array([math.log(10.0)], dtype=np.float32)
B0 = np.array([-10.0], dtype=np.float32)


# --------------------------------------------------------------------------------------------
# Model and losses
# --------------------------------------------------------------------------------------------

def embeddings(P, ctxt, img, tok):
    zi = mg.forward(P, CV, img)["embedding"]
    zt = mg.forward(P, ctxt, tok)["embedding"]
    return zi, zt


def logits_of(P, ctxt, img, tok, kind):
    zi, zt = embeddings(P, ctxt, img, tok)
    logits = torch.exp(P["t"][0]) * (zi @ zt.T)
    if kind == "sigmoid":
        logits = logits + P["b"][0]
    return logits


def softmax_loss(logits):
    def ce(x):  # mean over rows of -log softmax(x)[i, i]
        return (torch.logsumexp(x, dim=1) - torch.diagonal(x)).mean()
    return 0.5 * (ce(logits) + ce(logits.T))


def sigmoid_loss(logits):
    n = logits.shape[0]
    z = 2.0 * torch.eye(n, dtype=F64) - 1.0
    return -F.logsigmoid(z * logits).sum() / n


def make_loss(ctxt, img, tok, kind):
    fn = softmax_loss if kind == "softmax" else sigmoid_loss
    return lambda P: fn(logits_of(P, ctxt, img, tok, kind))


def check_losses(rng):
    x = torch.from_numpy(rng.standard_normal((5, 5)) * 3.0)
    lab = torch.arange(5)
    ref = 0.5 * (F.cross_entropy(x, lab) + F.cross_entropy(x.T, lab))
    assert abs(softmax_loss(x).item() - ref.item()) < 1e-13
    ref = F.binary_cross_entropy_with_logits(x, torch.eye(5, dtype=F64), reduction="sum") / 5
    assert abs(sigmoid_loss(x).item() - ref.item()) < 1e-12


# --------------------------------------------------------------------------------------------
# Parameters, gradients, finite differences
# --------------------------------------------------------------------------------------------

def as_f64(P32):
    return {k: torch.from_numpy(np.ascontiguousarray(v)).to(F64) for k, v in sorted(P32.items())}


def grads_of(loss_fn, P, names):
    Q = {k: (v.detach().clone().requires_grad_(True) if k in names else v.detach())
         for k, v in P.items()}
    loss = loss_fn(Q)
    g = torch.autograd.grad(loss, [Q[k] for k in names])
    out = dict(zip(names, g))
    for k, v in out.items():
        assert torch.isfinite(v).all(), k
    return loss.detach(), out


def fd_check(loss_fn, P, G, picks, rng, what, h=1e-6):
    """Central differences in float64, single entries and one random direction through all
    trainable parameters."""
    def at(changes):
        Q = dict(P)
        for k, d in changes.items():
            Q[k] = P[k] + d
        with torch.no_grad():
            return loss_fn(Q).item()

    worst = 0.0
    for k in picks:
        g = G[k].reshape(-1)
        idx = {int(torch.argmax(g.abs())), int(rng.integers(g.numel()))}
        for i in sorted(idx):
            e = torch.zeros(g.numel(), dtype=F64)
            e[i] = h
            e = e.reshape(P[k].shape)
            fd = (at({k: e}) - at({k: -e})) / (2 * h)
            err = abs(fd - g[i].item())
            assert err <= 1e-7 + 1e-6 * abs(g[i].item()), (what, k, i, fd, g[i].item())
            worst = max(worst, err)
    D = {k: torch.from_numpy(rng.standard_normal(tuple(P[k].shape))) for k in G}
    gd = sum((G[k] * D[k]).sum().item() for k in G)
    fd = (at({k: h * d for k, d in D.items()}) - at({k: -h * d for k, d in D.items()})) / (2 * h)
    assert abs(fd - gd) <= 1e-6 + 1e-6 * abs(gd), (what, "direction", fd, gd)
    print(f"  {what}: finite differences ok ({len(picks)} params, worst entry err {worst:.1e}, "
          f"direction {fd:.9f} vs {gd:.9f})")


# --------------------------------------------------------------------------------------------
# Schedule and AdamW: by hand, and with torch.optim
# --------------------------------------------------------------------------------------------

def lr_factor(s):
    if s < WARMUP:
        return (s + 1) / WARMUP
    return 0.5 * (1.0 + math.cos(math.pi * (s - WARMUP) / (STEPS - WARMUP)))


def lr_at(s):
    if s < WARMUP:
        return BASE_LR * (s + 1) / WARMUP
    return BASE_LR * 0.5 * (1.0 + math.cos(math.pi * (s - WARMUP) / (STEPS - WARMUP)))


def decays(name):
    return name.endswith(".kernel")


def train_by_hand(loss_fn, P0, names, max_norm):
    P = {k: v.clone() for k, v in P0.items()}
    m = {k: torch.zeros_like(P[k]) for k in names}
    v = {k: torch.zeros_like(P[k]) for k in names}
    losses, norms, lrs = [], [], []
    for s in range(STEPS):
        loss, G = grads_of(loss_fn, P, names)
        norm = math.sqrt(sum((g * g).sum().item() for g in G.values()))
        if norm > max_norm:
            c = max_norm / (norm + 1e-6)
            G = {k: g * c for k, g in G.items()}
        lr, n = lr_at(s), s + 1
        for k in names:
            p, g = P[k], G[k]
            if decays(k):
                p = p - lr * WD * p
            m[k] = BETA1 * m[k] + (1 - BETA1) * g
            v[k] = BETA2 * v[k] + (1 - BETA2) * g * g
            mhat = m[k] / (1 - BETA1 ** n)
            vhat = v[k] / (1 - BETA2 ** n)
            P[k] = p - lr * mhat / (torch.sqrt(vhat) + EPS)
        losses.append(loss.item())
        norms.append(norm)
        lrs.append(lr)
    return losses, norms, lrs, P


def train_with_torch(loss_fn, P0, names, max_norm):
    params = {k: torch.nn.Parameter(P0[k].clone()) for k in names}
    fixed = {k: v.clone() for k, v in P0.items() if k not in names}
    opt = torch.optim.AdamW(
        [{"params": [params[k] for k in names if decays(k)], "weight_decay": WD},
         {"params": [params[k] for k in names if not decays(k)], "weight_decay": 0.0}],
        lr=BASE_LR, betas=(BETA1, BETA2), eps=EPS)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    losses, norms, lrs = [], [], []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = loss_fn(dict(fixed, **params))
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_([params[k] for k in names], max_norm)
        lrs.append(opt.param_groups[0]["lr"])
        assert opt.param_groups[1]["lr"] == lrs[-1]
        opt.step()
        sched.step()
        losses.append(loss.item())
        norms.append(norm.item())
    # the optimizer holds state exactly for the trainable parameters
    assert len(opt.state) == len(names)
    final = dict(fixed)
    final.update({k: p.detach() for k, p in params.items()})
    return losses, norms, lrs, final


def close(a, b, tol=1e-12):
    a, b = torch.as_tensor(a, dtype=F64), torch.as_tensor(b, dtype=F64)
    return (a - b).abs().max().item() <= tol * max(1.0, b.abs().max().item())


def key_bias(name, ctxt):
    """The key slice of a qkv bias, or None. Attention is invariant to the key bias (it adds
    q . b_k to every score of a query), so its true gradient is exactly 0: autograd returns
    roundoff (~1e-17), which Adam divides by sqrt(v) + eps. The resulting moves are a few 1e-9 in
    float64 (none survives the float32 rounding of `final/`), differ between two evaluation
    orders by ~1e-12, and cannot change any output."""
    if not name.endswith(".attn.qkv.bias"):
        return None
    d = (CV if name.startswith("img.") else ctxt)["width"]
    return slice(d, 2 * d)


def run(loss_fn, P0, names, max_norm, what, ctxt):
    hand = train_by_hand(loss_fn, P0, names, max_norm)
    ref = train_with_torch(loss_fn, P0, names, max_norm)
    for i, part in enumerate(("losses", "norms", "lrs")):
        assert close(hand[i], ref[i]), (what, part, hand[i], ref[i])
    for k in P0:
        a, b = hand[3][k], ref[3][k]
        kb = key_bias(k, ctxt)
        if kb is not None:
            for x in (a, b):
                assert (x[kb] - P0[k][kb]).abs().max().item() < 1e-7, (what, k, "key bias moved")
            assert (a[kb] - b[kb]).abs().max().item() < 1e-9, (what, k)
            assert np.array_equal(f32(a[kb]), f32(P0[k][kb])), (what, k)  # stored unchanged
            a, b = a.clone(), b.clone()
            a[kb] = b[kb] = 0
        assert close(a, b), (what, k, (a - b).abs().max().item())
        if k not in names:
            assert torch.equal(hand[3][k], P0[k]) and torch.equal(ref[3][k], P0[k]), (what, k)
        else:
            assert not torch.equal(hand[3][k], P0[k]), (what, k, "did not move")
    return hand


def choose_max_norm(loss_fn, P0, names):
    """The median of the unclipped run's norms, rounded to a multiple of 1/64 (exact in float32)."""
    _, norms, _, _ = train_by_hand(loss_fn, P0, names, math.inf)
    med = float(np.median(norms))
    return round(med * 64) / 64, norms


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------

def f32(x):
    if isinstance(x, torch.Tensor):
        x = x.detach().numpy()
    return np.ascontiguousarray(np.asarray(x, dtype=np.float64).astype(np.float32))


def lit_conf(ctxt, kind):
    return {"format": "lit4j", "version": 1, "image": CV, "text": ctxt, "loss": kind}


def write_model(folder, ctxt, P32, kind):
    mg.check_names({k: v for k, v in P32.items() if k.startswith("img.")}, CV, folder)
    mg.check_names({k: v for k, v in P32.items() if k.startswith("txt.")}, ctxt, folder)
    extra = {"t"} | ({"b"} if kind == "sigmoid" else set())
    assert {k for k in P32 if not k.startswith(("img.", "txt."))} == extra, folder
    conf = lit_conf(ctxt, kind)
    mg.write_json(os.path.join(OUT, folder, "config.json"), conf)
    path = os.path.join(OUT, folder, "model.safetensors")
    mg.write_safetensors(path, P32)
    back, meta = mg.read_safetensors(path)
    assert meta is None and set(back) == set(P32)
    for k in P32:
        assert back[k].dtype == np.float32 and np.array_equal(back[k], P32[k]), (folder, k)
    with open(os.path.join(OUT, folder, "config.json"), encoding="utf-8") as f:
        assert json.load(f) == conf


def write_golden(name, tensors, meta):
    path = os.path.join(OUT, name + ".safetensors")
    mg.write_safetensors(path, tensors, meta)
    back, m = mg.read_safetensors(path)
    assert m == meta and set(back) == set(tensors), name
    for k, v in tensors.items():
        assert back[k].dtype == v.dtype and np.array_equal(back[k], v), (name, k)


def meta_of(ctxt, kind, setup, max_norm=None):
    m = {"config": mg.cfg_json(lit_conf(ctxt, kind)), "loss": kind, "setup": setup,
         "base_lr": repr(BASE_LR), "warmup": str(WARMUP), "steps": str(STEPS),
         "weight_decay": repr(WD), "beta1": repr(BETA1), "beta2": repr(BETA2), "eps": repr(EPS)}
    if max_norm is not None:
        m["max_norm"] = repr(max_norm)
    return m


# --------------------------------------------------------------------------------------------

def main():
    rng = np.random.default_rng(2024)
    check_losses(rng)

    # make_golden's weights and inputs, proven identical to the golden files already written
    P_vit, _ = mg.init_vit(1, CV)
    P_txt = mg.init_txt(3, CT)
    P_bert = mg.init_bert(4, CB)
    img = mg.make_images(11, CV)
    tok = mg.make_txt_tokens(13, CT)
    btok = mg.make_bert_tokens(14, CB)
    for name, P, inp in (("vit", P_vit, img), ("txt", P_txt, tok), ("bert", P_bert, btok)):
        back, _ = mg.read_safetensors(os.path.join(OUT, name, "model.safetensors"))
        assert set(back) == set(P) and all(np.array_equal(back[k], P[k]) for k in P), name
        g, _ = mg.read_safetensors(os.path.join(OUT, name + ".safetensors"))
        assert g["input"].dtype == inp.dtype and np.array_equal(g["input"], inp), name

    P32 = dict(P_vit, **P_txt, t=T0)
    P32_sig = dict(P32, b=B0)
    P32_bert = dict(P_vit, **P_bert, t=T0)
    P0, P0_sig, P0_bert = as_f64(P32), as_f64(P32_sig), as_f64(P32_bert)
    names_uu = sorted(P0)
    names_lu = [k for k in names_uu if not k.startswith("img.")]

    loss_sm = make_loss(CT, img, tok, "softmax")
    loss_sig = make_loss(CT, img, tok, "sigmoid")
    loss_bert = make_loss(CB, img, btok, "softmax")

    # the starting logits are lit_tiny's
    lt, _ = mg.read_safetensors(os.path.join(OUT, "lit_tiny.safetensors"))
    with torch.no_grad():
        lg = logits_of(P0, CT, img, tok, "softmax")
    assert np.array_equal(f32(lg), lt["logits"])

    # gradients at the initial weights, proven by finite differences
    print("gradients at the initial weights:")
    loss0, G = grads_of(loss_sm, P0, names_uu)
    fd_check(loss_sm, P0, G, ["t", "img.patch.kernel", "img.patch.bias", "img.cls", "img.pos",
                              "img.blocks.0.attn.qkv.kernel", "img.blocks.1.ln2.scale",
                              "img.norm.bias", "img.head.kernel", "txt.tok", "txt.pos",
                              "txt.blocks.0.ln1.bias", "txt.blocks.1.mlp.fc1.kernel",
                              "txt.blocks.1.attn.out.bias", "txt.norm.scale", "txt.head.bias"],
             rng, "softmax UU")
    loss0_lu, G_lu = grads_of(loss_sm, P0, names_lu)
    assert torch.equal(loss0_lu, loss0)
    assert all(torch.equal(G_lu[k], G[k]) for k in names_lu)  # locking changes nothing at step 0
    loss0_sig, G_sig = grads_of(loss_sig, P0_sig, names_uu + ["b"])
    fd_check(loss_sig, P0_sig, G_sig, ["t", "b", "img.blocks.1.mlp.fc2.kernel", "img.cls",
                                       "txt.tok", "txt.blocks.0.attn.qkv.bias", "txt.head.kernel"],
             rng, "sigmoid UU")
    loss0_bert, G_bert = grads_of(loss_bert, P0_bert, sorted(P0_bert))
    fd_check(loss_bert, P0_bert, G_bert, ["t", "img.blocks.0.mlp.fc1.bias", "txt.tok", "txt.pos",
                                          "txt.type", "txt.emb_norm.scale", "txt.emb_norm.bias",
                                          "txt.blocks.0.attn.qkv.kernel", "txt.blocks.1.ln2.scale",
                                          "txt.head.kernel"],
             rng, "bert UU")
    for Gx, ctxt in ((G, CT), (G_sig, CT), (G_bert, CB)):
        for k in Gx:
            kb = key_bias(k, ctxt)
            if kb is not None:
                assert Gx[k][kb].abs().max().item() < 1e-15, k  # zero up to roundoff
    # BERT: padded tokens and the unused type row get no gradient
    assert not G_bert["txt.type"][1].any() and not G_bert["txt.pos"][CB["context_length"]:].any()
    print(f"  loss0: softmax {loss0.item():.12f}  sigmoid {loss0_sig.item():.12f}  "
          f"bert {loss0_bert.item():.12f}")

    # max_norm from the unclipped UU run; it must clip some steps (not all) of both runs
    max_norm, free = choose_max_norm(loss_sm, P0, names_uu)
    print("unclipped UU norms:", " ".join(f"{n:.6f}" for n in free), f"-> max_norm {max_norm!r}")
    assert np.float32(max_norm) == max_norm

    runs = {}
    for setup, names in (("UU", names_uu), ("Lu", names_lu)):
        losses, norms, lrs, Pf = runs[setup] = run(loss_sm, P0, names, max_norm, setup, CT)
        clipped = [n > max_norm for n in norms]
        print(f"{setup}: losses", " ".join(f"{x:.9f}" for x in losses))
        print(f"{setup}: norms ", " ".join(f"{x:.6f}" for x in norms),
              f" clipped {sum(clipped)}/{STEPS}")
        assert 0 < sum(clipped) < STEPS, setup
        # float32 training must take the same decisions: no norm near the threshold
        assert min(abs(n - max_norm) for n in norms) > 1e-3 * max_norm, setup
        assert losses[-1] < losses[0], setup
    lrs = runs["UU"][2]
    print("lrs:", " ".join(f"{x:.9g}" for x in lrs))

    # files
    write_model("train_lit", CT, P32, "softmax")
    write_model("train_lit_sigmoid", CT, P32_sig, "sigmoid")
    write_model("train_lit_bert", CB, P32_bert, "softmax")

    for setup, names in (("UU", names_uu), ("Lu", names_lu)):
        losses, norms, lrs, Pf = runs[setup]
        g = {"img_input": img, "txt_input": tok, "loss0": f32([loss0.item()]),
             "losses": f32(losses), "lrs": f32(lrs), "grad_norms": f32(norms)}
        for k in names:
            g["grad/" + k] = f32(G[k])
            g["final/" + k] = f32(Pf[k])
        write_golden("train_softmax_" + setup, g, meta_of(CT, "softmax", setup, max_norm))

    g = {"img_input": img, "txt_input": tok, "loss0": f32([loss0_sig.item()])}
    g.update({"grad/" + k: f32(v) for k, v in G_sig.items()})
    write_golden("train_sigmoid", g, meta_of(CT, "sigmoid", "UU"))

    g = {"img_input": img, "txt_input": btok, "loss0": f32([loss0_bert.item()])}
    g.update({"grad/" + k: f32(v) for k, v in G_bert.items()})
    write_golden("train_bert", g, meta_of(CB, "softmax", "UU"))

    total = 0
    for root, _, files in sorted(os.walk(OUT)):
        for f in sorted(files):
            p = os.path.join(root, f)
            rel = os.path.relpath(p, OUT)
            if rel.startswith("train_"):
                total += os.path.getsize(p)
                print(f"{os.path.getsize(p):9d}  {rel}")
    print(f"{total:9d}  total; all self-checks passed")


if __name__ == "__main__":
    sys.exit(main())
