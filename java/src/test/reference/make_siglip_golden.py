#!/usr/bin/python3
"""Independent reference for lit4j's SigLIP support: writes java/src/test/resources/golden/siglip*.

Run by hand, never by CI (after make_golden.py, whose writers it imports):

    /usr/bin/python3 java/src/test/reference/make_siglip_golden.py

Needs only Debian's torch (1.13) and numpy (1.24). A tiny SigLIP (MAP-pooled ViT without a head,
big_vision text transformer with a head, t and b) gets random weights in big_vision's own naming.
Two forwards, each a transcription of its upstream, each reading its own file layout, compute the
expected values in float64:

  * bv_forward reads the big_vision parameter tree (flax names, [D, H, dh] attention kernels),
    after big_vision/models/vit.py (_Model.__call__, Encoder, Encoder1DBlock, MlpBlock, MAPHead),
    big_vision/models/proj/image_text/text_transformer.py (_Model.__call__) and
    big_vision/models/proj/image_text/two_towers.py (_Model.__call__: normalise, exp(t), b);
    flax.linen.MultiHeadDotProductAttention / dot_product_attention for the attention.
  * hf_forward reads the HuggingFace state dict, after transformers' models/siglip/modeling_siglip.py
    (SiglipVisionEmbeddings, SiglipAttention, SiglipMLP, SiglipEncoderLayer,
    SiglipMultiheadAttentionPoolingHead, SiglipVisionTransformer, SiglipTextEmbeddings,
    SiglipTextTransformer, SiglipModel.forward), using torch.nn.MultiheadAttention for the head
    exactly as transformers does.

Self-checks (assert): the two forwards agree (relative 1e-12) on the same weights; their gradients
(torch autograd, float64) match central finite differences; every file written is read back and
recomputed bit for bit.

Files (batch 3, image 32 px, patch 8, D 48, 4 heads, depth 2, MLP 80; text V 101, L 11, head 48):
  siglip.npz           per-block big_vision layout, keys at the top (img/..., txt/..., t, b)
  siglip_scan.npz      scanned layout (encoderblock/... with a leading depth axis), under params/
  siglip_bf16.npz      siglip_scan.npz with every array bfloat16, stored as numpy void '<V2'
  siglip_hf/           model.safetensors (SiglipModel state dict) + config.json (model_type siglip)
  siglip.safetensors   img_input [3,32,32,3], txt_input [3,11] I32, img_pooled, img_embedding,
                       txt_embedding, logits = exp(t) zimg ztxt^T + b, and grad/<lit4j name> of the
                       sigmoid loss (below) for every parameter
  siglip_bf16.safetensors  the same inputs, embeddings and logits from the bf16-rounded weights
  vit_gap_posemb.npz   golden/vit_gap's weights in big_vision naming with an N+1 posemb (a random
                       slot 0 that big_vision's fix_old_checkpoints drops for a model without CLS)

The sigmoid loss is lit4j's (and big_vision's siglip loss, sum over pairs / batch):
  loss = -(1/B) sum_ij log sigmoid(z_ij (exp(t) zimg_i . ztxt_j + b)), z = 2I - 1,
with z = v / (|v| + 1e-8) as lit4j normalises (big_vision divides by |v|; the goldens of
embeddings and logits follow upstream, without the 1e-8).
"""

import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_golden as mg  # noqa: E402  (writers and readers only)

torch.set_num_threads(2)
F64 = torch.float64
OUT = mg.OUT
B = 3

IMG = dict(image_size=32, patch_size=8, channels=3, width=48, depth=2, heads=4, mlp_dim=80)
TXT = dict(vocab_size=101, context_length=11, width=48, depth=2, heads=4, mlp_dim=80, head_dim=48)
EPS = 1e-6
T_INIT = math.log(10.0)
B_INIT = -2.5


# --------------------------------------------------------------------------------------------
# Random weights in big_vision's naming (a flat dict of '/'-joined keys, float32)
# --------------------------------------------------------------------------------------------

def init_bv(seed):
    rng = np.random.default_rng(seed)
    n = lambda *s, scale=0.2, loc=0.0: (loc + scale * rng.standard_normal(s)).astype(np.float32)
    P = {}

    def ln(pre, d):
        P[pre + "/scale"] = n(d, scale=0.1, loc=1.0)
        P[pre + "/bias"] = n(d, scale=0.1)

    def mha(pre, d, h):
        dh = d // h
        for q in ("query", "key", "value"):
            P[f"{pre}/{q}/kernel"] = n(d, h, dh)
            P[f"{pre}/{q}/bias"] = n(h, dh, scale=0.1)
        P[f"{pre}/out/kernel"] = n(h, dh, d)
        P[f"{pre}/out/bias"] = n(d, scale=0.1)

    def mlp(pre, d, m):
        P[pre + "/Dense_0/kernel"] = n(d, m)
        P[pre + "/Dense_0/bias"] = n(m, scale=0.1)
        P[pre + "/Dense_1/kernel"] = n(m, d)
        P[pre + "/Dense_1/bias"] = n(d, scale=0.1)

    def blocks(pre, c):
        for i in range(c["depth"]):
            b = f"{pre}/encoderblock_{i}"
            ln(b + "/LayerNorm_0", c["width"])
            mha(b + "/MultiHeadDotProductAttention_0", c["width"], c["heads"])
            ln(b + "/LayerNorm_1", c["width"])
            mlp(b + "/MlpBlock_0", c["width"], c["mlp_dim"])
        ln(pre + "/encoder_norm", c["width"])

    c = IMG
    p, d = c["patch_size"], c["width"]
    npatch = (c["image_size"] // p) ** 2
    P["img/embedding/kernel"] = n(p, p, c["channels"], d)
    P["img/embedding/bias"] = n(d, scale=0.1)
    P["img/pos_embedding"] = n(1, npatch, d, scale=0.5)
    blocks("img/Transformer", c)
    P["img/MAPHead_0/probe"] = n(1, 1, d, scale=0.5)
    mha("img/MAPHead_0/MultiHeadDotProductAttention_0", d, c["heads"])
    ln("img/MAPHead_0/LayerNorm_0", d)
    mlp("img/MAPHead_0/MlpBlock_0", d, c["mlp_dim"])

    c = TXT
    P["txt/Embed_0/embedding"] = n(c["vocab_size"], c["width"], scale=0.5)
    P["txt/pos_embedding"] = n(1, c["context_length"], c["width"], scale=0.5)
    blocks("txt/Encoder_0", c)
    P["txt/head/kernel"] = n(c["width"], c["head_dim"])
    P["txt/head/bias"] = n(c["head_dim"], scale=0.1)
    P["t"] = np.array([T_INIT], dtype=np.float32)
    P["b"] = np.array([B_INIT], dtype=np.float32)
    return P


def inputs(seed):
    rng = np.random.default_rng(seed)
    s = IMG["image_size"]
    images = rng.uniform(-1, 1, (B, s, s, IMG["channels"])).astype(np.float32)
    tokens = rng.integers(1, TXT["vocab_size"], (B, TXT["context_length"])).astype(np.int32)
    for b in range(B):  # padded rows, as a tokenizer pads to the fixed length (no mask in SigLIP)
        if b:
            tokens[b, -b:] = 0
    return images, tokens


# --------------------------------------------------------------------------------------------
# big_vision forward (transcribed; float64 torch on the flax arrays)
# --------------------------------------------------------------------------------------------

def gelu_tanh(x):  # flax.linen.gelu (approximate=True), as MlpBlock uses it
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def flax_layer_norm(x, P, pre):  # flax.linen.LayerNorm (epsilon 1e-6, biased variance)
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + EPS) * P[pre + "/scale"] + P[pre + "/bias"]


def flax_dense(x, P, pre):
    return x @ P[pre + "/kernel"] + P[pre + "/bias"]


def flax_mha(xq, xkv, P, pre):
    """flax.linen.MultiHeadDotProductAttention: DenseGeneral to [.., H, dh] (query/key/value),
    dot_product_attention (query / sqrt(dh), softmax over keys), DenseGeneral out [H, dh, D]."""
    q = torch.einsum("bqd,dhk->bqhk", xq, P[pre + "/query/kernel"]) + P[pre + "/query/bias"]
    k = torch.einsum("bkd,dhc->bkhc", xkv, P[pre + "/key/kernel"]) + P[pre + "/key/bias"]
    v = torch.einsum("bkd,dhc->bkhc", xkv, P[pre + "/value/kernel"]) + P[pre + "/value/bias"]
    q = q / math.sqrt(q.shape[-1])
    w = torch.softmax(torch.einsum("bqhc,bkhc->bhqk", q, k), dim=-1)
    o = torch.einsum("bhqk,bkhc->bqhc", w, v)
    return torch.einsum("bqhc,hcd->bqd", o, P[pre + "/out/kernel"]) + P[pre + "/out/bias"]


def flax_mlp(x, P, pre):  # vit.MlpBlock: Dense_0, gelu, (dropout), Dense_1
    return flax_dense(gelu_tanh(flax_dense(x, P, pre + "/Dense_0")), P, pre + "/Dense_1")


def bv_encoder(x, P, pre, depth):  # vit.Encoder (scan or not: the same math) + encoder_norm
    for i in range(depth):
        b = f"{pre}/encoderblock_{i}"  # vit.Encoder1DBlock
        y = flax_layer_norm(x, P, b + "/LayerNorm_0")
        x = x + flax_mha(y, y, P, b + "/MultiHeadDotProductAttention_0")
        y = flax_layer_norm(x, P, b + "/LayerNorm_1")
        x = x + flax_mlp(y, P, b + "/MlpBlock_0")
    return flax_layer_norm(x, P, pre + "/encoder_norm")


def bv_image(P, images):
    """vit._Model.__call__ with pool_type 'map', no head (num_classes None)."""
    p = IMG["patch_size"]
    x = torch.from_numpy(images).to(F64).permute(0, 3, 1, 2)  # flax Conv is NHWC/HWIO; conv2d wants NCHW/OIHW
    x = F.conv2d(x, P["img/embedding/kernel"].permute(3, 2, 0, 1), P["img/embedding/bias"], stride=p)
    x = x.flatten(2).transpose(1, 2)                          # [n, h*w, c], row-major patches
    x = x + P["img/pos_embedding"]
    x = bv_encoder(x, P, "img/Transformer", IMG["depth"])
    probe = P["img/MAPHead_0/probe"].expand(x.shape[0], 1, -1)  # MAPHead: jnp.tile(probe, [n, 1, 1])
    y = flax_mha(probe, x, P, "img/MAPHead_0/MultiHeadDotProductAttention_0")
    z = flax_layer_norm(y, P, "img/MAPHead_0/LayerNorm_0")
    y = y + flax_mlp(z, P, "img/MAPHead_0/MlpBlock_0")
    return y[:, 0]


def bv_text(P, tokens):
    """text_transformer._Model.__call__: Embed_0, + pos_embedding, Encoder_0, pool 'last', head."""
    tok = torch.from_numpy(tokens.astype(np.int64))
    x = P["txt/Embed_0/embedding"][tok] + P["txt/pos_embedding"]
    x = bv_encoder(x, P, "txt/Encoder_0", TXT["depth"])
    return flax_dense(x[:, -1], P, "txt/head")


def normalise(v, eps):
    return v / (torch.linalg.vector_norm(v, dim=-1, keepdim=True) + eps)


def bv_forward(P, images, tokens, eps=0.0):
    """two_towers._Model.__call__ (zimg / |zimg|, ztxt / |ztxt|), logits as the siglip loss uses them."""
    img = bv_image(P, images)
    zi, zt = normalise(img, eps), normalise(bv_text(P, tokens), eps)
    logits = torch.exp(P["t"][0]) * zi @ zt.T + P["b"][0]
    return {"img_pooled": img, "img_embedding": zi, "txt_embedding": zt, "logits": logits}


def sigmoid_loss(logits):
    z = 2 * torch.eye(logits.shape[0], dtype=F64) - 1
    return -F.logsigmoid(z * logits).sum() / logits.shape[0]


# --------------------------------------------------------------------------------------------
# The HuggingFace layout and its forward (transformers' modeling_siglip.py, transcribed)
# --------------------------------------------------------------------------------------------

def bv_to_hf(P):
    """The state dict transformers' convert_siglip_to_hf.py would produce from the same tree."""
    S = {}

    def lin(hf, kernel, bias):
        S[hf + ".weight"] = np.ascontiguousarray(kernel.T)
        S[hf + ".bias"] = bias

    def ln(hf, pre):
        S[hf + ".weight"], S[hf + ".bias"] = P[pre + "/scale"], P[pre + "/bias"]

    def qkv(pre, name):
        k = P[f"{pre}/{name}/kernel"]
        return k.reshape(k.shape[0], -1), P[f"{pre}/{name}/bias"].reshape(-1)

    def layers(hf, pre, depth):
        for i in range(depth):
            s, b = f"{hf}.encoder.layers.{i}", f"{pre}/encoderblock_{i}"
            a = b + "/MultiHeadDotProductAttention_0"
            ln(s + ".layer_norm1", b + "/LayerNorm_0")
            for hn, fn in (("q_proj", "query"), ("k_proj", "key"), ("v_proj", "value")):
                lin(f"{s}.self_attn.{hn}", *qkv(a, fn))
            o = P[a + "/out/kernel"]
            lin(s + ".self_attn.out_proj", o.reshape(-1, o.shape[-1]), P[a + "/out/bias"])
            ln(s + ".layer_norm2", b + "/LayerNorm_1")
            lin(s + ".mlp.fc1", P[b + "/MlpBlock_0/Dense_0/kernel"], P[b + "/MlpBlock_0/Dense_0/bias"])
            lin(s + ".mlp.fc2", P[b + "/MlpBlock_0/Dense_1/kernel"], P[b + "/MlpBlock_0/Dense_1/bias"])

    v = "vision_model"
    S[v + ".embeddings.patch_embedding.weight"] = np.ascontiguousarray(P["img/embedding/kernel"].transpose(3, 2, 0, 1))
    S[v + ".embeddings.patch_embedding.bias"] = P["img/embedding/bias"]
    S[v + ".embeddings.position_embedding.weight"] = P["img/pos_embedding"][0]
    layers(v, "img/Transformer", IMG["depth"])
    ln(v + ".post_layernorm", "img/Transformer/encoder_norm")
    h, a = v + ".head", "img/MAPHead_0/MultiHeadDotProductAttention_0"
    S[h + ".probe"] = P["img/MAPHead_0/probe"]
    ks = [qkv(a, n) for n in ("query", "key", "value")]
    S[h + ".attention.in_proj_weight"] = np.ascontiguousarray(np.concatenate([k.T for k, _ in ks], axis=0))
    S[h + ".attention.in_proj_bias"] = np.concatenate([b for _, b in ks])
    o = P[a + "/out/kernel"]
    lin(h + ".attention.out_proj", o.reshape(-1, o.shape[-1]), P[a + "/out/bias"])
    ln(h + ".layernorm", "img/MAPHead_0/LayerNorm_0")
    lin(h + ".mlp.fc1", P["img/MAPHead_0/MlpBlock_0/Dense_0/kernel"], P["img/MAPHead_0/MlpBlock_0/Dense_0/bias"])
    lin(h + ".mlp.fc2", P["img/MAPHead_0/MlpBlock_0/Dense_1/kernel"], P["img/MAPHead_0/MlpBlock_0/Dense_1/bias"])
    t = "text_model"
    S[t + ".embeddings.token_embedding.weight"] = P["txt/Embed_0/embedding"]
    S[t + ".embeddings.position_embedding.weight"] = P["txt/pos_embedding"][0]
    layers(t, "txt/Encoder_0", TXT["depth"])
    ln(t + ".final_layer_norm", "txt/Encoder_0/encoder_norm")
    lin(t + ".head", P["txt/head/kernel"], P["txt/head/bias"])
    S["logit_scale"] = P["t"]
    S["logit_bias"] = P["b"]
    return S


HF_CONFIG = {
    "model_type": "siglip",
    "architectures": ["SiglipModel"],
    "initializer_factor": 1.0,
    "text_config": {"model_type": "siglip_text_model", "vocab_size": TXT["vocab_size"], "hidden_size": TXT["width"],
                    "intermediate_size": TXT["mlp_dim"], "num_hidden_layers": TXT["depth"],
                    "num_attention_heads": TXT["heads"], "max_position_embeddings": TXT["context_length"],
                    "hidden_act": "gelu_pytorch_tanh", "layer_norm_eps": EPS, "pad_token_id": 1, "eos_token_id": 1,
                    "projection_size": TXT["head_dim"]},
    "vision_config": {"model_type": "siglip_vision_model", "hidden_size": IMG["width"],
                      "intermediate_size": IMG["mlp_dim"], "num_hidden_layers": IMG["depth"],
                      "num_attention_heads": IMG["heads"], "num_channels": IMG["channels"],
                      "image_size": IMG["image_size"], "patch_size": IMG["patch_size"],
                      "hidden_act": "gelu_pytorch_tanh", "layer_norm_eps": EPS},
}


def hf_layer(x, S, s, heads):
    """SiglipEncoderLayer: residual + SiglipAttention(layer_norm1(x)); residual + SiglipMLP(layer_norm2(x))."""
    d = x.shape[-1]
    ln = lambda y, n: F.layer_norm(y, (d,), S[f"{s}.{n}.weight"], S[f"{s}.{n}.bias"], EPS)
    lin = lambda y, n: F.linear(y, S[f"{s}.{n}.weight"], S[f"{s}.{n}.bias"])
    y = ln(x, "layer_norm1")
    b, t, _ = y.shape
    dh = d // heads
    split = lambda z: z.view(b, t, heads, dh).transpose(1, 2)
    q, k, v = split(lin(y, "self_attn.q_proj")), split(lin(y, "self_attn.k_proj")), split(lin(y, "self_attn.v_proj"))
    w = torch.softmax(q @ k.transpose(2, 3) * dh ** -0.5, dim=-1)  # SiglipAttention: scale = head_dim**-0.5
    o = (w @ v).transpose(1, 2).reshape(b, t, d)
    x = x + lin(o, "self_attn.out_proj")
    y = ln(x, "layer_norm2")
    y = lin(F.gelu(lin(y, "mlp.fc1"), approximate="tanh"), "mlp.fc2")  # ACT2FN['gelu_pytorch_tanh']
    return x + y


def hf_forward(S, images, tokens):
    cv, ct = HF_CONFIG["vision_config"], HF_CONFIG["text_config"]
    v = "vision_model"
    # SiglipVisionEmbeddings: Conv2d (stride patch), flatten(2).transpose(1, 2), + position_embedding
    px = torch.from_numpy(images).to(F64).permute(0, 3, 1, 2)  # the processor hands NCHW pixel_values
    x = F.conv2d(px, S[v + ".embeddings.patch_embedding.weight"], S[v + ".embeddings.patch_embedding.bias"],
                 stride=cv["patch_size"])
    x = x.flatten(2).transpose(1, 2) + S[v + ".embeddings.position_embedding.weight"]
    for i in range(cv["num_hidden_layers"]):
        x = hf_layer(x, S, f"{v}.encoder.layers.{i}", cv["num_attention_heads"])
    d = x.shape[-1]
    x = F.layer_norm(x, (d,), S[v + ".post_layernorm.weight"], S[v + ".post_layernorm.bias"], EPS)
    # SiglipMultiheadAttentionPoolingHead
    h = v + ".head"
    mha = torch.nn.MultiheadAttention(d, cv["num_attention_heads"], batch_first=True, dtype=F64)
    mha.in_proj_weight = torch.nn.Parameter(S[h + ".attention.in_proj_weight"].detach().clone(), requires_grad=False)
    mha.in_proj_bias = torch.nn.Parameter(S[h + ".attention.in_proj_bias"].detach().clone(), requires_grad=False)
    mha.out_proj.weight = torch.nn.Parameter(S[h + ".attention.out_proj.weight"].detach().clone(), requires_grad=False)
    mha.out_proj.bias = torch.nn.Parameter(S[h + ".attention.out_proj.bias"].detach().clone(), requires_grad=False)
    probe = S[h + ".probe"].repeat(x.shape[0], 1, 1)
    y = mha(probe, x, x, need_weights=False)[0]
    r = y
    y = F.layer_norm(y, (d,), S[h + ".layernorm.weight"], S[h + ".layernorm.bias"], EPS)
    y = F.linear(F.gelu(F.linear(y, S[h + ".mlp.fc1.weight"], S[h + ".mlp.fc1.bias"]), approximate="tanh"),
                 S[h + ".mlp.fc2.weight"], S[h + ".mlp.fc2.bias"])
    img = (r + y)[:, 0]
    # SiglipTextTransformer: token + position embeddings, encoder, final_layer_norm, last token, head
    t = "text_model"
    tok = torch.from_numpy(tokens.astype(np.int64))
    x = F.embedding(tok, S[t + ".embeddings.token_embedding.weight"]) + S[t + ".embeddings.position_embedding.weight"][
        :tok.shape[1]]
    for i in range(ct["num_hidden_layers"]):
        x = hf_layer(x, S, f"{t}.encoder.layers.{i}", ct["num_attention_heads"])
    x = F.layer_norm(x, (x.shape[-1],), S[t + ".final_layer_norm.weight"], S[t + ".final_layer_norm.bias"], EPS)
    txt = F.linear(x[:, -1], S[t + ".head.weight"], S[t + ".head.bias"])
    # SiglipModel.forward: p=2 normalisation, logits = text @ image.T * exp(logit_scale) + logit_bias
    zi = img / img.norm(p=2, dim=-1, keepdim=True)
    zt = txt / txt.norm(p=2, dim=-1, keepdim=True)
    logits_per_text = zt @ zi.T * S["logit_scale"].exp() + S["logit_bias"]
    return {"img_pooled": img, "img_embedding": zi, "txt_embedding": zt, "logits": logits_per_text.T}


# --------------------------------------------------------------------------------------------
# lit4j names (for the gradient goldens): the loader's mapping, written separately
# --------------------------------------------------------------------------------------------

def bv_to_lit(G):
    """Arrays (or their gradients: the mapping is a rearrangement) in lit4j naming."""
    L = {}
    flat2 = lambda a: a.reshape(a.shape[0], -1)

    def blocks(lit, pre, depth):
        for i in range(depth):
            b, n = f"{pre}/encoderblock_{i}", f"{lit}.blocks.{i}."
            a = b + "/MultiHeadDotProductAttention_0"
            L[n + "ln1.scale"], L[n + "ln1.bias"] = G[b + "/LayerNorm_0/scale"], G[b + "/LayerNorm_0/bias"]
            L[n + "attn.qkv.kernel"] = np.concatenate([flat2(G[f"{a}/{q}/kernel"]) for q in ("query", "key", "value")], 1)
            L[n + "attn.qkv.bias"] = np.concatenate([G[f"{a}/{q}/bias"].reshape(-1) for q in ("query", "key", "value")])
            L[n + "attn.out.kernel"] = G[a + "/out/kernel"].reshape(-1, G[a + "/out/kernel"].shape[-1])
            L[n + "attn.out.bias"] = G[a + "/out/bias"]
            L[n + "ln2.scale"], L[n + "ln2.bias"] = G[b + "/LayerNorm_1/scale"], G[b + "/LayerNorm_1/bias"]
            for j, fc in ((0, "fc1"), (1, "fc2")):
                L[n + f"mlp.{fc}.kernel"] = G[f"{b}/MlpBlock_0/Dense_{j}/kernel"]
                L[n + f"mlp.{fc}.bias"] = G[f"{b}/MlpBlock_0/Dense_{j}/bias"]
        L[lit + ".norm.scale"], L[lit + ".norm.bias"] = G[pre + "/encoder_norm/scale"], G[pre + "/encoder_norm/bias"]

    k = G["img/embedding/kernel"]
    L["img.patch.kernel"] = k.reshape(-1, k.shape[-1])
    L["img.patch.bias"] = G["img/embedding/bias"]
    L["img.pos"] = G["img/pos_embedding"][0]
    blocks("img", "img/Transformer", IMG["depth"])
    m, a = "img/MAPHead_0/", "img/MAPHead_0/MultiHeadDotProductAttention_0"
    L["img.map.probe"] = G[m + "probe"].reshape(-1)
    L["img.map.attn.qkv.kernel"] = np.concatenate([flat2(G[f"{a}/{q}/kernel"]) for q in ("query", "key", "value")], 1)
    L["img.map.attn.qkv.bias"] = np.concatenate([G[f"{a}/{q}/bias"].reshape(-1) for q in ("query", "key", "value")])
    L["img.map.attn.out.kernel"] = G[a + "/out/kernel"].reshape(-1, G[a + "/out/kernel"].shape[-1])
    L["img.map.attn.out.bias"] = G[a + "/out/bias"]
    L["img.map.ln.scale"], L["img.map.ln.bias"] = G[m + "LayerNorm_0/scale"], G[m + "LayerNorm_0/bias"]
    for j, fc in ((0, "fc1"), (1, "fc2")):
        L[f"img.map.mlp.{fc}.kernel"] = G[f"{m}MlpBlock_0/Dense_{j}/kernel"]
        L[f"img.map.mlp.{fc}.bias"] = G[f"{m}MlpBlock_0/Dense_{j}/bias"]
    L["txt.tok"] = G["txt/Embed_0/embedding"]
    L["txt.pos"] = G["txt/pos_embedding"][0]
    blocks("txt", "txt/Encoder_0", TXT["depth"])
    L["txt.head.kernel"], L["txt.head.bias"] = G["txt/head/kernel"], G["txt/head/bias"]
    L["t"], L["b"] = G["t"], G["b"]
    return L


# --------------------------------------------------------------------------------------------
# File layouts
# --------------------------------------------------------------------------------------------

def to_scan(P):
    """big_vision's scanned Encoder (nn.scan over Encoder1DBlock): encoderblock/<sub> stacked on axis 0."""
    out = {}
    for k, v in P.items():
        parts = k.split("/")
        blk = [i for i, p in enumerate(parts) if p.startswith("encoderblock_")]
        if not blk:
            out[k] = v
            continue
        i = blk[0]
        key = "/".join(parts[:i] + ["encoderblock"] + parts[i + 1:])
        out.setdefault(key, {})[int(parts[i].split("_")[1])] = v
    for k, v in list(out.items()):
        if isinstance(v, dict):
            out[k] = np.stack([v[i] for i in range(len(v))])
    return out


def from_scan(S):
    out = {}
    for k, v in S.items():
        if "/encoderblock/" in k:
            for i in range(v.shape[0]):
                out[k.replace("/encoderblock/", f"/encoderblock_{i}/")] = v[i]
        else:
            out[k] = v
    return out


def bf16_round(a):
    """float32 -> bfloat16 (round to nearest even, as torch does) -> the bf16 bits and the float32 value."""
    b = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(torch.bfloat16)
    bits = b.view(torch.int16).numpy().astype("<i2")
    return bits, b.to(torch.float32).numpy()


def to_v2(bits):
    return np.ascontiguousarray(bits).view(np.dtype("V2")).reshape(bits.shape)


def from_v2(a):
    bits = np.ascontiguousarray(a).view("<u2").astype(np.uint32) << 16
    return bits.view(np.float32).reshape(a.shape)


def tensors(P):
    return {k: torch.from_numpy(np.ascontiguousarray(v)).to(F64) for k, v in P.items()}


def f32(outs):
    return {k: v.detach().numpy().astype(np.float32) for k, v in outs.items()}


def rel(a, b):
    return float((a - b).abs().max() / b.abs().max())


# --------------------------------------------------------------------------------------------
# The GAP posemb case
# --------------------------------------------------------------------------------------------

def vit_gap_posemb():
    """golden/vit_gap (lit4j naming, no CLS) in big_vision naming with a [1, N+1, D] posemb whose
    slot 0 is random: big_vision's fix_old_checkpoints drops it (pe[:, 1:]) when there is no cls."""
    L, _ = mg.read_safetensors(os.path.join(OUT, "vit_gap", "model.safetensors"))
    cfg = json.load(open(os.path.join(OUT, "vit_gap", "config.json")))["image"]
    d, p, c = cfg["width"], cfg["patch_size"], cfg["channels"]
    rng = np.random.default_rng(77)
    P = {"img/embedding/kernel": L["img.patch.kernel"].reshape(p, p, c, d), "img/embedding/bias": L["img.patch.bias"]}
    slot0 = rng.standard_normal((1, 1, d)).astype(np.float32)
    P["img/pos_embedding"] = np.concatenate([slot0, L["img.pos"][None]], axis=1)
    h = cfg["heads"]
    for i in range(cfg["depth"]):
        n, b = f"img.blocks.{i}.", f"img/Transformer/encoderblock_{i}/"
        a = b + "MultiHeadDotProductAttention_0/"
        P[b + "LayerNorm_0/scale"], P[b + "LayerNorm_0/bias"] = L[n + "ln1.scale"], L[n + "ln1.bias"]
        kq, bq = L[n + "attn.qkv.kernel"], L[n + "attn.qkv.bias"]
        for j, q in enumerate(("query", "key", "value")):
            P[a + q + "/kernel"] = kq[:, j * d:(j + 1) * d].reshape(d, h, d // h)
            P[a + q + "/bias"] = bq[j * d:(j + 1) * d].reshape(h, d // h)
        P[a + "out/kernel"], P[a + "out/bias"] = L[n + "attn.out.kernel"].reshape(h, d // h, d), L[n + "attn.out.bias"]
        P[b + "LayerNorm_1/scale"], P[b + "LayerNorm_1/bias"] = L[n + "ln2.scale"], L[n + "ln2.bias"]
        for j, fc in ((0, "fc1"), (1, "fc2")):
            P[b + f"MlpBlock_0/Dense_{j}/kernel"] = L[n + f"mlp.{fc}.kernel"]
            P[b + f"MlpBlock_0/Dense_{j}/bias"] = L[n + f"mlp.{fc}.bias"]
    P["img/Transformer/encoder_norm/scale"], P["img/Transformer/encoder_norm/bias"] = L["img.norm.scale"], L["img.norm.bias"]
    assert len(L) == 3 + 12 * cfg["depth"] + 2 and cfg["pool"] == "gap", sorted(L)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in P.items()}


# --------------------------------------------------------------------------------------------

def main():
    P = init_bv(1234)
    images, tokens = inputs(99)

    # the two transcriptions agree
    T = tensors(P)
    ref = bv_forward(T, images, tokens)
    S = bv_to_hf(P)
    hf = hf_forward(tensors(S), images, tokens)
    for k in ref:
        assert rel(hf[k], ref[k]) < 1e-12, (k, rel(hf[k], ref[k]))

    # gradients of the sigmoid loss (lit4j's normalisation), checked by central differences
    TG = {k: v.clone().requires_grad_(True) for k, v in T.items()}
    loss = sigmoid_loss(bv_forward(TG, images, tokens, eps=1e-8)["logits"])
    loss.backward()
    G = {k: v.grad.numpy().copy() for k, v in TG.items()}
    rng = np.random.default_rng(5)
    for k in sorted(P)[::3] + ["img/MAPHead_0/probe", "t", "b"]:
        idx = tuple(int(rng.integers(0, s)) for s in P[k].shape)
        Tp = {n: v.clone() for n, v in T.items()}
        h = 1e-6
        Tp[k][idx] += h
        lp = float(sigmoid_loss(bv_forward(Tp, images, tokens, eps=1e-8)["logits"]))
        Tp[k][idx] -= 2 * h
        lm = float(sigmoid_loss(bv_forward(Tp, images, tokens, eps=1e-8)["logits"]))
        num, ana = (lp - lm) / (2 * h), G[k][idx]
        assert abs(num - ana) <= 1e-6 * max(1.0, abs(ana)), (k, idx, num, ana)
    grads = {"grad/" + k: v.astype(np.float32) for k, v in bv_to_lit(G).items()}
    lit_names = bv_to_lit(P)
    assert len(lit_names) == len(grads)

    gold = dict(f32(ref))
    gold.update(grads)
    gold["img_input"], gold["txt_input"] = images, tokens
    gold["loss0"] = np.array([float(loss)], dtype=np.float32)
    meta = {"t": repr(T_INIT), "b": repr(B_INIT), "loss": "sigmoid"}
    mg.write_safetensors(os.path.join(OUT, "siglip.safetensors"), gold, meta)

    # weight files: per-block at the top; scanned under params/; bf16 (V2) scanned under params/
    mg.write_npz(os.path.join(OUT, "siglip.npz"), P)
    scan = to_scan(P)
    mg.write_npz(os.path.join(OUT, "siglip_scan.npz"), {"params/" + k: v for k, v in scan.items()})
    bits, rounded = {}, {}
    for k, v in scan.items():
        bits[k], rounded[k] = bf16_round(v)
    mg.write_npz(os.path.join(OUT, "siglip_bf16.npz"), {"params/" + k: to_v2(v) for k, v in bits.items()})
    ref16 = bv_forward(tensors(from_scan(rounded)), images, tokens)
    mg.write_safetensors(os.path.join(OUT, "siglip_bf16.safetensors"),
                         dict(f32(ref16), img_input=images, txt_input=tokens), meta)
    mg.write_safetensors(os.path.join(OUT, "siglip_hf", "model.safetensors"), S, {"format": "pt"})
    mg.write_json(os.path.join(OUT, "siglip_hf", "config.json"), HF_CONFIG)
    mg.write_npz(os.path.join(OUT, "vit_gap_posemb.npz"), vit_gap_posemb())

    # read everything back and recompute
    got = mg.read_npz(os.path.join(OUT, "siglip.npz"))
    assert set(got) == set(P) and all(np.array_equal(got[k], P[k]) for k in P)
    got = mg.read_npz(os.path.join(OUT, "siglip_scan.npz"))
    back = from_scan({k[len("params/"):]: v for k, v in got.items()})
    assert set(back) == set(P) and all(np.array_equal(back[k], P[k]) for k in P)
    got = mg.read_npz(os.path.join(OUT, "siglip_bf16.npz"))
    assert all(v.dtype == np.dtype("V2") for v in got.values())
    back16 = from_scan({k[len("params/"):]: from_v2(v) for k, v in got.items()})
    again16 = f32(bv_forward(tensors(back16), images, tokens))
    g16, _ = mg.read_safetensors(os.path.join(OUT, "siglip_bf16.safetensors"))
    for k in again16:
        assert np.array_equal(again16[k], g16[k]), k
    assert rel(ref16["img_embedding"], ref["img_embedding"]) > 1e-4  # bf16 rounding is visible at 1e-5
    hs, hm = mg.read_safetensors(os.path.join(OUT, "siglip_hf", "model.safetensors"))
    again = f32(hf_forward(tensors(hs), images, tokens))
    g, gm = mg.read_safetensors(os.path.join(OUT, "siglip.safetensors"))
    assert gm == meta and hm == {"format": "pt"}
    for k in again:
        assert np.abs(again[k] - g[k]).max() <= 1e-6 * np.abs(g[k]).max(), k
    assert np.array_equal(g["img_input"], images) and np.array_equal(g["txt_input"], tokens)
    print("wrote siglip goldens; loss0 =", float(loss))


if __name__ == "__main__":
    main()
