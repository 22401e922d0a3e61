#!/usr/bin/python3
"""Independent reference for `lit4j convert --to hf` (HfExport): writes golden/hf_export.safetensors.

Run by hand, never by CI (after make_golden.py, whose file readers and writers it imports):

    flock /tmp/lit4j-build.lock mvn -q -o -B verify -pl java -am -Dtest=HfExportTest \
        -Dsurefire.failIfNoSpecifiedTests=false -DskipITs -Dlit4j.hfexport.keep=/tmp/lit4j-hf-export
    /usr/bin/python3 java/src/test/reference/make_hf_export_golden.py /tmp/lit4j-hf-export

(the first run's sha256 check fails until this script has recorded the new files; run the test
again afterwards). The test writes five HuggingFace folders with lit4j's converter, from the
committed tiny checkpoints golden/clip_hf (CLIPModel), golden/siglip_hf (SiglipModel),
golden/vit_hf (ViTModel), golden/bert_hf (BertModel) and golden/txt (lit4j's text transformer,
written as SiglipTextModel). This script reads only what the converter wrote (config.json and
model.safetensors, by the HF key names), runs transformers' forwards transcribed below in float64
from the float32 weights (Debian has no transformers; each function names the class of
transformers' src/transformers/models/<model>/modeling_<model>.py it follows), and records, per
case: the inputs, the L2-normalised embeddings, and the sha256 of both files read, so JUnit can
check that the converter still writes exactly these files.

Self-checks (assert): every array in every written file is used by the forward (the converter
wrote nothing transformers would not load), every shape is what the config says, and each
transcribed encoder layer of the CLIP/SigLIP kind equals torch.nn.TransformerEncoderLayer
(norm_first) to 1e-12 on the case's own weights.
"""

import hashlib
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import OUT, read_safetensors, write_safetensors  # noqa: E402

torch.set_num_threads(2)
F64 = torch.float64
CASES = ["clip", "siglip", "vit", "bert", "txt"]


class Weights:
    """The arrays of one model.safetensors, handed out as float64 tensors; remembers which were used."""

    def __init__(self, path):
        self.arrays, _ = read_safetensors(path)
        self.used = set()

    def __call__(self, key, shape=None):
        a = self.arrays[key]
        if shape is not None:
            assert list(a.shape) == list(shape), (key, a.shape, shape)
        self.used.add(key)
        return torch.from_numpy(a.astype(np.float64))

    def unused(self):
        return sorted(set(self.arrays) - self.used)


def act(name):
    """activations.ACT2FN: gelu (erf), gelu_pytorch_tanh (PytorchGELUTanh), quick_gelu (QuickGELUActivation)."""
    return {"gelu": F.gelu,
            "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
            "quick_gelu": lambda x: x * torch.sigmoid(1.702 * x)}[name]


def ln(W, pre, x, eps):
    return F.layer_norm(x, x.shape[-1:], W(pre + "weight"), W(pre + "bias"), eps)


def lin(W, pre, x, bias=True):
    return F.linear(x, W(pre + "weight"), W(pre + "bias") if bias else None)


def heads_split(x, heads):
    b, t, d = x.shape
    return x.view(b, t, heads, d // heads).transpose(1, 2)


def heads_merge(x):
    b, h, t, dh = x.shape
    return x.transpose(1, 2).reshape(b, t, h * dh)


def clip_layer(W, s, x, c, mask=None):
    """CLIPEncoderLayer.forward (modeling_clip.py) = SiglipEncoderLayer.forward (modeling_siglip.py):
    x + self_attn(layer_norm1(x)); x + mlp(layer_norm2(x)); CLIPAttention / SiglipAttention: q, k, v
    projections, scores * head_dim**-0.5 (+ the additive mask), softmax, out_proj; MLP fc2(act(fc1))."""
    eps, h = c["layer_norm_eps"], c["num_attention_heads"]
    y = ln(W, s + "layer_norm1.", x, eps)
    q, k, v = (heads_split(lin(W, s + "self_attn." + n + "_proj.", y), h) for n in ("q", "k", "v"))
    sc = q @ k.transpose(-1, -2) * (q.shape[-1] ** -0.5)
    if mask is not None:
        sc = sc + mask
    x = x + lin(W, s + "self_attn.out_proj.", heads_merge(torch.softmax(sc, dim=-1) @ v))
    y = ln(W, s + "layer_norm2.", x, eps)
    return x + lin(W, s + "mlp.fc2.", act(c["hidden_act"])(lin(W, s + "mlp.fc1.", y)))


def check_clip_layer(W, s, x, c, causal):
    """The transcription above against torch.nn.TransformerEncoderLayer(norm_first) on the same weights."""
    d, h = x.shape[-1], c["num_attention_heads"]
    a = c["hidden_act"]
    torch_act = {"gelu": "gelu", "gelu_pytorch_tanh": lambda z: F.gelu(z, approximate="tanh"),
                 "quick_gelu": lambda z: z * torch.sigmoid(1.702 * z)}[a]
    ref = torch.nn.TransformerEncoderLayer(d, h, c["intermediate_size"], dropout=0.0, activation=torch_act,
                                           layer_norm_eps=c["layer_norm_eps"], batch_first=True, norm_first=True, dtype=F64)
    sd = {"self_attn.in_proj_weight": torch.cat([W(s + "self_attn.%s_proj.weight" % n) for n in "qkv"]),
          "self_attn.in_proj_bias": torch.cat([W(s + "self_attn.%s_proj.bias" % n) for n in "qkv"]),
          "self_attn.out_proj.weight": W(s + "self_attn.out_proj.weight"), "self_attn.out_proj.bias": W(s + "self_attn.out_proj.bias"),
          "linear1.weight": W(s + "mlp.fc1.weight"), "linear1.bias": W(s + "mlp.fc1.bias"),
          "linear2.weight": W(s + "mlp.fc2.weight"), "linear2.bias": W(s + "mlp.fc2.bias"),
          "norm1.weight": W(s + "layer_norm1.weight"), "norm1.bias": W(s + "layer_norm1.bias"),
          "norm2.weight": W(s + "layer_norm2.weight"), "norm2.bias": W(s + "layer_norm2.bias")}
    ref.load_state_dict(sd)
    ref.eval()
    t = x.shape[1]
    mask = torch.triu(torch.full((t, t), float("-inf"), dtype=F64), diagonal=1) if causal else None
    with torch.no_grad():
        want = ref(x, src_mask=mask)
    got = clip_layer(W, s, x, c, mask)
    assert torch.allclose(got, want, rtol=0, atol=1e-12), (s, (got - want).abs().max())


def patches(W, key, bias_key, px, p):
    """The patch Conv2d (stride = kernel = patch size) of every ViT embedding, flattened to [B, N, D]."""
    return F.conv2d(px, W(key), W(bias_key) if bias_key else None, stride=p).flatten(2).transpose(1, 2)


def clip_vision(W, c, px, alone):
    """CLIPVisionTransformer.forward: CLIPVisionEmbeddings (bias-free patch conv, class_embedding
    prepended, position_embedding over 1 + N tokens), pre_layrnorm, the encoder, post_layernorm of
    token 0; then visual_projection (CLIPModel.get_image_features)."""
    v = "vision_model."
    x = patches(W, v + "embeddings.patch_embedding.weight", None, px, c["patch_size"])
    cls = W(v + "embeddings.class_embedding", [c["hidden_size"]]).expand(x.shape[0], 1, -1)
    x = torch.cat([cls, x], dim=1) + W(v + "embeddings.position_embedding.weight")
    x = ln(W, v + "pre_layrnorm.", x, c["layer_norm_eps"])
    for i in range(c["num_hidden_layers"]):
        check_clip_layer(W, v + "encoder.layers.%d." % i, x, c, False)
        x = clip_layer(W, v + "encoder.layers.%d." % i, x, c)
    pooled = ln(W, v + "post_layernorm.", x[:, 0], c["layer_norm_eps"])
    key = "visual_projection.weight"
    return F.linear(pooled, W(key)) if key in W.arrays or not alone else pooled


def clip_text(W, c, ids, alone):
    """CLIPTextTransformer.forward: token + position embeddings, causal encoder, final_layer_norm,
    pooled at the end-of-text token (eos_token_id 2, the configs before transformers PR #24773: the
    argmax of the ids; otherwise the first eos_token_id); then text_projection."""
    t = "text_model."
    n = ids.shape[1]
    x = W(t + "embeddings.token_embedding.weight")[ids] + W(t + "embeddings.position_embedding.weight")[:n]
    mask = torch.triu(torch.full((n, n), float("-inf"), dtype=F64), diagonal=1)
    for i in range(c["num_hidden_layers"]):
        check_clip_layer(W, t + "encoder.layers.%d." % i, x, c, True)
        x = clip_layer(W, t + "encoder.layers.%d." % i, x, c, mask)
    x = ln(W, t + "final_layer_norm.", x, c["layer_norm_eps"])
    e = c["eos_token_id"]
    at = ids.argmax(dim=-1) if e == 2 else (ids == e).int().argmax(dim=-1)
    pooled = x[torch.arange(x.shape[0]), at]
    key = "text_projection.weight"
    return F.linear(pooled, W(key)) if key in W.arrays or not alone else pooled


def siglip_vision(W, c, px):
    """SiglipVisionTransformer.forward: SiglipVisionEmbeddings (patch conv with bias + position_embedding,
    no CLS token), the encoder, post_layernorm, SiglipMultiheadAttentionPoolingHead (probe attends to
    the tokens through torch's nn.MultiheadAttention with the packed in_proj; residual; layernorm; MLP;
    residual; token 0)."""
    v = "vision_model."
    x = patches(W, v + "embeddings.patch_embedding.weight", v + "embeddings.patch_embedding.bias", px, c["patch_size"])
    x = x + W(v + "embeddings.position_embedding.weight")
    for i in range(c["num_hidden_layers"]):
        check_clip_layer(W, v + "encoder.layers.%d." % i, x, c, False)
        x = clip_layer(W, v + "encoder.layers.%d." % i, x, c)
    d, eps = x.shape[-1], c["layer_norm_eps"]
    x = ln(W, v + "post_layernorm.", x, eps)
    h = v + "head."
    mha = torch.nn.MultiheadAttention(d, c["num_attention_heads"], batch_first=True, dtype=F64)
    mha.load_state_dict({"in_proj_weight": W(h + "attention.in_proj_weight", [3 * d, d]),
                         "in_proj_bias": W(h + "attention.in_proj_bias", [3 * d]),
                         "out_proj.weight": W(h + "attention.out_proj.weight"), "out_proj.bias": W(h + "attention.out_proj.bias")})
    probe = W(h + "probe", [1, 1, d]).repeat(x.shape[0], 1, 1)
    with torch.no_grad():
        r = mha(probe, x, x, need_weights=False)[0]
    y = ln(W, h + "layernorm.", r, eps)
    y = lin(W, h + "mlp.fc2.", act(c["hidden_act"])(lin(W, h + "mlp.fc1.", y)))
    return (r + y)[:, 0]


def siglip_text(W, c, ids):
    """SiglipTextTransformer.forward: token + position embeddings, the encoder (no mask), final_layer_norm,
    the last token through head."""
    t = "text_model."
    n = ids.shape[1]
    x = W(t + "embeddings.token_embedding.weight", [c["vocab_size"], c["hidden_size"]])[ids]
    x = x + W(t + "embeddings.position_embedding.weight", [c["max_position_embeddings"], c["hidden_size"]])[:n]
    for i in range(c["num_hidden_layers"]):
        check_clip_layer(W, t + "encoder.layers.%d." % i, x, c, False)
        x = clip_layer(W, t + "encoder.layers.%d." % i, x, c)
    x = ln(W, t + "final_layer_norm.", x, c["layer_norm_eps"])
    return lin(W, t + "head.", x[:, -1])


def bert_style_attention(W, self_pre, x, heads, add_mask):
    """ViTSelfAttention / BertSelfAttention: query, key, value Linears, scores / sqrt(head_size)
    (+ the extended attention mask), softmax, context."""
    q, k, v = (heads_split(lin(W, self_pre + n + ".", x), heads) for n in ("query", "key", "value"))
    sc = q @ k.transpose(-1, -2) / (q.shape[-1] ** 0.5)
    if add_mask is not None:
        sc = sc + add_mask
    return heads_merge(torch.softmax(sc, dim=-1) @ v)


def vit(W, c, px):
    """ViTModel.forward: ViTEmbeddings (ViTPatchEmbeddings' conv, cls_token prepended, position_embeddings
    added), ViTLayer x N (layernorm_before, ViTAttention = ViTSelfAttention + ViTSelfOutput.dense,
    residual, layernorm_after, ViTIntermediate dense + act, ViTOutput dense + residual), layernorm;
    the embedding is sequence_output[:, 0] (lit4j pools the CLS token; ViTPooler's dense + tanh is not
    the embedding)."""
    eps, h = c["layer_norm_eps"], c["num_attention_heads"]
    x = patches(W, "embeddings.patch_embeddings.projection.weight", "embeddings.patch_embeddings.projection.bias", px, c["patch_size"])
    cls = W("embeddings.cls_token", [1, 1, c["hidden_size"]]).expand(x.shape[0], -1, -1)
    x = torch.cat([cls, x], dim=1) + W("embeddings.position_embeddings")
    for i in range(c["num_hidden_layers"]):
        s = "encoder.layer.%d." % i
        a = bert_style_attention(W, s + "attention.attention.", ln(W, s + "layernorm_before.", x, eps), h, None)
        x = lin(W, s + "attention.output.dense.", a) + x
        y = act(c["hidden_act"])(lin(W, s + "intermediate.dense.", ln(W, s + "layernorm_after.", x, eps)))
        x = lin(W, s + "output.dense.", y) + x
    return ln(W, "layernorm.", x, eps)[:, 0]


def bert(W, c, ids):
    """BertModel.forward: BertEmbeddings (word + token_type 0 + absolute position, LayerNorm), the
    extended attention mask (1 - mask) * finfo.min from attention_mask = ids != pad_token_id,
    BertLayer x N (BertSelfAttention; BertSelfOutput LayerNorm(dense + input); BertIntermediate dense +
    act; BertOutput LayerNorm(dense + attention output)); the embedding is last_hidden_state[:, 0]."""
    eps, h = c["layer_norm_eps"], c["num_attention_heads"]
    n = ids.shape[1]
    x = W("embeddings.word_embeddings.weight")[ids] + W("embeddings.token_type_embeddings.weight")[0] \
        + W("embeddings.position_embeddings.weight")[:n]
    x = ln(W, "embeddings.LayerNorm.", x, eps)
    keep = (ids != c["pad_token_id"]).to(F64)
    add_mask = ((1.0 - keep) * torch.finfo(F64).min)[:, None, None, :]
    for i in range(c["num_hidden_layers"]):
        s = "encoder.layer.%d." % i
        a = bert_style_attention(W, s + "attention.self.", x, h, add_mask)
        x = ln(W, s + "attention.output.LayerNorm.", lin(W, s + "attention.output.dense.", a) + x, eps)
        y = act(c["hidden_act"])(lin(W, s + "intermediate.dense.", x))
        x = ln(W, s + "output.LayerNorm.", lin(W, s + "output.dense.", y) + x, eps)
    return x[:, 0]


def normalise(e):
    return (e / e.norm(dim=-1, keepdim=True)).numpy().astype(np.float32)


def images(rng, c):
    return rng.uniform(-1, 1, size=(3, c["image_size"], c["image_size"], c["num_channels"])).astype(np.float32)


def nchw(a):
    return torch.from_numpy(a.astype(np.float64)).permute(0, 3, 1, 2)


def run(case, folder, rng, out):
    with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    W = Weights(os.path.join(folder, "model.safetensors"))
    img = txt = None
    if case == "clip":
        cv, ct = cfg["vision_config"], cfg["text_config"]
        px = images(rng, cv)
        img = clip_vision(W, cv, nchw(px), False)
        ids = rng.randint(0, ct["vocab_size"] - 1, size=(3, ct["max_position_embeddings"]))
        for r, end in enumerate([5, 9, ct["max_position_embeddings"] - 1]):  # <|endoftext|> (the largest id) once, then padding with it
            ids[r, end:] = ct["vocab_size"] - 1
        txt = clip_text(W, ct, torch.from_numpy(ids), False)
        W("logit_scale", [])
    elif case == "siglip":
        cv, ct = cfg["vision_config"], cfg["text_config"]
        px = images(rng, cv)
        img = siglip_vision(W, cv, nchw(px))
        ids = rng.randint(0, ct["vocab_size"], size=(3, ct["max_position_embeddings"]))
        txt = siglip_text(W, ct, torch.from_numpy(ids))
        W("logit_scale", [1])
        W("logit_bias", [1])
    elif case == "vit":
        px = images(rng, cfg)
        img = vit(W, cfg, nchw(px))
    elif case == "bert":
        ids = rng.randint(1, cfg["vocab_size"], size=(3, 16))
        ids[0, 6:] = 0  # padding (id 0): masked keys
        ids[1, 11:] = 0
        txt = bert(W, cfg, torch.from_numpy(ids))
    elif case == "txt":
        ids = rng.randint(0, cfg["vocab_size"], size=(3, cfg["max_position_embeddings"]))
        txt = siglip_text(W, cfg, torch.from_numpy(ids))
    assert not W.unused(), (case, "arrays no forward reads", W.unused())
    if img is not None:
        out[case + ".images"] = px
        out[case + ".img"] = normalise(img)
    if txt is not None:
        out[case + ".tokens"] = ids.astype(np.int32)
        out[case + ".txt"] = normalise(txt)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "/tmp/lit4j-hf-export"
    rng = np.random.RandomState(20261201)
    out, meta = {}, {}
    for case in CASES:
        folder = os.path.join(root, case)
        with torch.no_grad():
            run(case, folder, rng, out)
        for f in ("config.json", "model.safetensors"):
            meta[case + "/" + f] = sha256(os.path.join(folder, f))
    path = os.path.join(OUT, "hf_export.safetensors")
    write_safetensors(path, out, meta)
    print("wrote", path, sorted(out))


if __name__ == "__main__":
    main()
