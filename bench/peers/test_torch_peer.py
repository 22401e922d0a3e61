#!/usr/bin/python3
"""Checks torch_peer.py and make_random_model.py against lit4j's golden files. Run by hand:

    /usr/bin/python3 bench/peers/test_torch_peer.py

Takes about a minute on 2 cores. Checks:
  1. every golden tower (vit, vit_gap, vit_hf_lit4j, txt, bert, bert_bv, bert_hf_lit4j, and both
     towers of train_lit against lit_tiny.safetensors) through the CLI with --input-from and
     --dump-output: max |peer - golden embedding| < 1e-4 (fp32); in-process on all rows too;
     bf16: cosine to the golden > 0.99;
  2. the LiT loss and the text-tower gradients (and those of t, b) against make_train_golden's
     loss0 and grad/* (train_softmax_UU, train_bert, train_sigmoid), relative error < 1e-4;
  3. --train (fp32 and bf16) on train_lit, train_lit_bert, train_lit_sigmoid: the loss falls at
     every one of 5 steps on the fixed batch;
  4. --export-onnx for the ViT (tok and gap), the text transformer and BERT: onnx.checker passes,
     and the graph, exported at batch 2 and evaluated here by a small numpy interpreter at the
     golden batch of 3 (BERT with padded rows: the mask is computed in the graph), matches the
     golden embeddings to 1e-4;
  5. errors (no folder, unused / missing / misshaped tensor, bad config) exit 2 with one line;
  6. make_random_model.py writes a model the peer loads (every name used), deterministically.
"""

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_random_model as mrm  # noqa: E402
import torch_peer as tp  # noqa: E402

import torch  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
GOLDEN = os.path.join(ROOT, "java", "src", "test", "resources", "golden")
PEER = os.path.join(HERE, "torch_peer.py")
PY = "/usr/bin/python3"
TMP = None  # set by main()
FAILED = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        FAILED.append(what)


def peer(*args, expect_rc=0):
    p = subprocess.run([PY, PEER, "--threads", "2", *args], capture_output=True, text=True)
    if p.returncode != expect_rc:
        print(p.stderr, file=sys.stderr)
        raise AssertionError(f"torch_peer {args}: exit {p.returncode}, expected {expect_rc}")
    if expect_rc:
        return p.stderr
    lines = p.stdout.strip().splitlines()
    assert len(lines) == 1, p.stdout
    return json.loads(lines[0])


def golden(name):
    return tp.read_safetensors(os.path.join(GOLDEN, name + ".safetensors"))[0]


def cosines(a, b):
    return (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)


# ------------------------------------------------------------------------------------------------
# A small numpy interpreter for the ONNX ops the exports use (no onnxruntime on this machine)
# ------------------------------------------------------------------------------------------------

def run_onnx(path, feeds):
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    env = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    env.update(feeds)
    np_type = onnx.mapping.TENSOR_TYPE_TO_NP_TYPE
    erf = np.vectorize(math.erf, otypes=[np.float64])
    for n in m.graph.node:
        at = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
        x = [env[i] if i else None for i in n.input]
        op = n.op_type
        if op == "Constant":
            y = numpy_helper.to_array(at["value"])
        elif op in ("Add", "Sub", "Mul", "Pow", "Equal"):
            y = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Pow": np.power,
                 "Equal": np.equal}[op](x[0], x[1])
            if op != "Equal":
                y = y.astype(x[0].dtype)
        elif op == "Div":
            y = (x[0] // x[1]) if x[0].dtype.kind == "i" else (x[0] / x[1]).astype(x[0].dtype)
        elif op == "MatMul":
            y = np.matmul(x[0], x[1])
        elif op == "Gemm":
            a = x[0].T if at.get("transA", 0) else x[0]
            b = x[1].T if at.get("transB", 0) else x[1]
            y = at.get("alpha", 1.0) * (a @ b)
            if len(x) > 2 and x[2] is not None:
                y = y + at.get("beta", 1.0) * x[2]
            y = y.astype(x[0].dtype)
        elif op == "Shape":
            y = np.array(x[0].shape, np.int64)
        elif op == "Gather":
            y = np.take(x[0], x[1], axis=at.get("axis", 0))
        elif op == "Unsqueeze":
            y = x[0]
            for ax in sorted(int(a) % (x[0].ndim + len(x[1])) for a in x[1]):
                y = np.expand_dims(y, ax)
        elif op == "Concat":
            y = np.concatenate([np.atleast_1d(v) for v in x], axis=at["axis"])
        elif op == "Reshape":
            shape = [x[0].shape[i] if s == 0 else s for i, s in enumerate(x[1].tolist())]
            y = x[0].reshape(shape)
        elif op == "Transpose":
            y = np.transpose(x[0], at.get("perm"))
        elif op == "LayerNormalization":
            ax = at.get("axis", -1) % x[0].ndim
            axes = tuple(range(ax, x[0].ndim))
            mu = x[0].mean(axis=axes, keepdims=True)
            var = ((x[0] - mu) ** 2).mean(axis=axes, keepdims=True)
            y = ((x[0] - mu) / np.sqrt(var + at.get("epsilon", 1e-5)) * x[1] + x[2]).astype(x[0].dtype)
        elif op == "Cast":
            y = x[0].astype(np_type[at["to"]])
        elif op == "Softmax":
            ax = at.get("axis", -1)
            e = np.exp(x[0] - x[0].max(axis=ax, keepdims=True))
            y = e / e.sum(axis=ax, keepdims=True)
        elif op == "Tanh":
            y = np.tanh(x[0])
        elif op == "Erf":
            y = erf(x[0]).astype(x[0].dtype)
        elif op == "Sqrt":
            y = np.sqrt(x[0])
        elif op == "ConstantOfShape":
            v = numpy_helper.to_array(at["value"]) if "value" in at else np.zeros(1, np.float32)
            y = np.full(x[0].tolist(), v.reshape(-1)[0], v.dtype)
        elif op == "Where":
            y = np.where(x[0], x[1], x[2])
        elif op == "Expand":
            y = x[0] * np.ones(x[1].tolist(), x[0].dtype)
        elif op in ("ReduceL2", "ReduceMean", "ReduceSum"):
            axes = tuple(at["axes"]) if "axes" in at else (tuple(x[1].tolist()) if len(x) > 1 else None)
            keep = bool(at.get("keepdims", 1))
            if op == "ReduceL2":
                y = np.sqrt((x[0] ** 2).sum(axis=axes, keepdims=keep))
            elif op == "ReduceMean":
                y = x[0].mean(axis=axes, keepdims=keep)
            else:
                y = x[0].sum(axis=axes, keepdims=keep)
            y = y.astype(x[0].dtype)
        elif op == "Slice":
            starts, ends = x[1].tolist(), x[2].tolist()
            axes = x[3].tolist() if len(x) > 3 and x[3] is not None else list(range(len(starts)))
            steps = x[4].tolist() if len(x) > 4 and x[4] is not None else [1] * len(starts)
            sl = [slice(None)] * x[0].ndim
            for s, e, a, st in zip(starts, ends, axes, steps):
                sl[a] = slice(s, e, st)
            y = x[0][tuple(sl)]
        else:
            raise NotImplementedError(op)
        env[n.output[0]] = np.asarray(y)
    return [env[o.name] for o in m.graph.output]


# ------------------------------------------------------------------------------------------------

TOWERS = [  # (model folder, golden file, tower)
    ("vit", "vit", "image"), ("vit_gap", "vit_gap", "image"), ("vit_hf_lit4j", "vit_hf", "image"),
    ("txt", "txt", "text"), ("bert", "bert", "text"), ("bert_bv", "bert_bv", "text"),
    ("bert_hf_lit4j", "bert_hf", "text"),
]


def test_towers():
    for folder, gname, tower in TOWERS:
        g = golden(gname)
        model_dir = os.path.join(GOLDEN, folder)
        dump = os.path.join(TMP, gname + ".npy")
        r = peer("--model", model_dir, "--tower", tower, "--warmup", "0", "--iters", "1",
                 "--input-from", os.path.join(GOLDEN, gname + ".safetensors"), "--dump-output", dump)
        out = np.load(dump)
        err = np.abs(out - g["embedding"][:2]).max()
        ok = out.shape == (2, g["embedding"].shape[1]) and err < 1e-4 and r["batch"] == 3 \
            and abs(r["embedding_checksum"] - float(g["embedding"][0].astype(np.float64).sum())) < 1e-4
        check(ok, f"{folder}: CLI fp32 vs golden {gname}: max abs err {err:.2e}")
        # in-process, all rows
        t = "img" if tower == "image" else "txt"
        model, _ = tp.load_model(model_dir, {t})
        x = torch.from_numpy(g["input"].astype(np.float32 if tower == "image" else np.int64))
        with torch.no_grad():
            full = getattr(model, t)(x).numpy()
        err = np.abs(full - g["embedding"]).max()
        check(err < 1e-4, f"{folder}: all {len(full)} rows vs golden: max abs err {err:.2e}")
        # bf16
        r = peer("--model", model_dir, "--tower", tower, "--warmup", "0", "--iters", "1",
                 "--dtype", "bf16", "--input-from", os.path.join(GOLDEN, gname + ".safetensors"),
                 "--dump-output", dump)
        c = cosines(np.load(dump), g["embedding"][:2]).min()
        check(c > 0.99 and r["dtype"] == "bf16", f"{folder}: CLI bf16 cosine to golden {c:.5f}")
    # both towers of the two-tower model against lit_tiny
    lt = os.path.join(GOLDEN, "lit_tiny.safetensors")
    g = golden("lit_tiny")
    for tower, key in (("image", "img_embedding"), ("text", "txt_embedding")):
        dump = os.path.join(TMP, "lit_" + tower + ".npy")
        peer("--model", os.path.join(GOLDEN, "train_lit"), "--tower", tower, "--warmup", "0",
             "--iters", "1", "--input-from", lt, "--dump-output", dump)
        err = np.abs(np.load(dump) - g[key][:2]).max()
        check(err < 1e-4, f"train_lit --tower {tower} vs lit_tiny {key}: max abs err {err:.2e}")


def test_loss_and_grads():
    for folder, gname in (("train_lit", "train_softmax_UU"), ("train_lit_bert", "train_bert"),
                          ("train_lit_sigmoid", "train_sigmoid")):
        g = golden(gname)
        model, conf = tp.load_model(os.path.join(GOLDEN, folder), {"img", "txt", "t"})
        with torch.no_grad():
            zimg = model.img(torch.from_numpy(g["img_input"]))
        ztxt = model.txt(torch.from_numpy(g["txt_input"].astype(np.int64)))
        b = model.b if conf["loss"] == "sigmoid" else None
        loss = tp.lit_loss(zimg, ztxt, model.t, b)
        loss.backward()
        lerr = abs(loss.item() - float(g["loss0"][0])) / abs(float(g["loss0"][0]))
        worst, worst_name = 0.0, None
        names = tp.lit4j_params(model)
        graded = [k for k in g if k.startswith("grad/") and not k.startswith("grad/img.")]
        for k in graded:
            p, tr = names[k[5:]]
            got = (p.grad.T if tr else p.grad).numpy()
            ref = g[k]
            e = np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-6)
            if e > worst:
                worst, worst_name = e, k
        check(lerr < 1e-5 and worst < 1e-4 and len(graded) > 10,
              f"{folder}: loss0 rel err {lerr:.1e}; {len(graded)} text/t/b gradients, worst rel err "
              f"{worst:.1e} ({worst_name})")


def test_train():
    for folder in ("train_lit", "train_lit_bert", "train_lit_sigmoid"):
        for dtype in ("fp32", "bf16"):
            r = peer("--model", os.path.join(GOLDEN, folder), "--tower", "text", "--train",
                     "--batch", "8", "--dtype", dtype, "--warmup", "0", "--iters", "5")
            ls = r["losses"]
            ok = len(ls) == 5 and all(b < a for a, b in zip(ls, ls[1:])) and r["train"] is True \
                and len(r["times_s"]) == 5 and r["tokens"] == 11
            check(ok, f"{folder} --train {dtype}: losses {[round(v, 4) for v in ls]}")


def test_onnx():
    for folder, gname in (("vit", "vit"), ("vit_gap", "vit_gap"), ("txt", "txt"), ("bert", "bert"),
                          ("bert_hf_lit4j", "bert_hf")):
        g = golden(gname)
        tower = "image" if "image_size" in json.load(open(os.path.join(GOLDEN, folder, "config.json"))).get("image", {}) else "text"
        out = os.path.join(TMP, folder + ".onnx")
        r = peer("--model", os.path.join(GOLDEN, folder), "--tower", tower, "--batch", "2",
                 "--tokens", str(g["input"].shape[1]) if tower == "text" else "16",
                 "--export-onnx", out)
        name = "images" if tower == "image" else "tokens"
        ok = r["ok"] and r["checked"] and r["inputs"][name][0] == "batch"
        x = g["input"].astype(np.float32 if tower == "image" else np.int64)
        (y,) = run_onnx(out, {name: x})
        err = np.abs(y - g["embedding"]).max()
        check(ok and y.shape == g["embedding"].shape and err < 1e-4,
              f"{folder}: ONNX export (opset {r['opset']}) checker ok; batch-3 numpy run vs golden: "
              f"max abs err {err:.2e}")


def test_errors():
    vit = os.path.join(GOLDEN, "vit")
    msg = peer("--model", os.path.join(TMP, "nope"), "--tower", "image", expect_rc=2)
    check(msg.count("\n") == 1 and "not a folder" in msg, "missing folder: exit 2, " + msg.strip())
    msg = peer("--model", vit, "--tower", "text", expect_rc=2)
    check(msg.count("\n") == 1 and "no text tower" in msg, "absent tower: exit 2, " + msg.strip())
    conf = json.load(open(os.path.join(vit, "config.json")))
    params = mrm.expected_params(conf)
    base, _ = tp.read_safetensors(os.path.join(vit, "model.safetensors"))
    cases = {
        "unused": (params + [("img.extra", (3,))], "unused tensor 'img.extra'"),
        "missing": ([p for p in params if p[0] != "img.cls"], "missing tensor 'img.cls'"),
        "shape": ([(n, (s[0] + 1,) + s[1:]) if n == "img.pos" else (n, s) for n, s in params],
                  "tensor 'img.pos' has shape [17, 48], expected [16, 48]"),
    }
    for what, (ps, expect) in cases.items():
        d = os.path.join(TMP, "bad_" + what)
        os.makedirs(d, exist_ok=True)
        shutil.copy(os.path.join(vit, "config.json"), d)
        mrm.write_random_safetensors(os.path.join(d, "model.safetensors"), ps, 0)
        msg = peer("--model", d, "--tower", "image", expect_rc=2)
        check(msg.count("\n") == 1 and expect in msg, f"{what} tensor: exit 2, " + msg.strip())
    d = os.path.join(TMP, "bad_config")
    os.makedirs(d, exist_ok=True)
    shutil.copy(os.path.join(vit, "model.safetensors"), d)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump({"image": dict(conf["image"], colour=1)}, f)
    msg = peer("--model", d, "--tower", "image", expect_rc=2)
    check(msg.count("\n") == 1 and "colour" in msg, "bad config: exit 2, " + msg.strip())


def test_random_model():
    cfg = {"image": {"image_size": 32, "patch_size": 8, "width": 32, "depth": 2, "heads": 2,
                     "mlp_dim": 64, "pool": "gap", "head_dim": 24},
           "text": {"kind": "bert", "vocab_size": 200, "max_position": 24, "context_length": 16,
                    "width": 32, "depth": 2, "heads": 4, "mlp_dim": 64, "head_dim": 24},
           "loss": "sigmoid"}
    cpath = os.path.join(TMP, "small.json")
    json.dump(cfg, open(cpath, "w"))
    outs = []
    for i in range(2):
        d = os.path.join(TMP, f"small{i}")
        subprocess.run([PY, os.path.join(HERE, "make_random_model.py"), "--config", cpath,
                        "--out", d, "--seed", "0"], check=True, capture_output=True)
        outs.append(open(os.path.join(d, "model.safetensors"), "rb").read())
    d = os.path.join(TMP, "small0")
    r1 = peer("--model", d, "--tower", "image", "--batch", "4", "--warmup", "1", "--iters", "2")
    r2 = peer("--model", d, "--tower", "text", "--batch", "4", "--tokens", "16", "--iters", "2")
    r3 = peer("--model", d, "--tower", "text", "--batch", "4", "--train", "--iters", "3")
    check(outs[0] == outs[1] and r1["embed_dim"] == 24 and r2["tokens"] == 16 and r3["loss"] == "sigmoid"
          and len(r1["times_s"]) == 2, "make_random_model: deterministic; image, text and train runs load it")


def main():
    global TMP
    TMP = tempfile.mkdtemp(prefix="torch_peer_test_")
    torch.set_num_threads(2)
    try:
        test_towers()
        test_loss_and_grads()
        test_train()
        test_onnx()
        test_errors()
        test_random_model()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    print(f"{len(FAILED)} failure(s)" if FAILED else "all checks passed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
