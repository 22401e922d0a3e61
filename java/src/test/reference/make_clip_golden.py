#!/usr/bin/python3
"""Independent reference for lit4j's HuggingFace CLIP loader: writes golden/clip_hf/ and golden/clip_hf.safetensors.

Run by hand, never by CI (after make_golden.py, whose file writers it imports):

    /usr/bin/python3 java/src/test/reference/make_clip_golden.py

Needs only Debian's torch (1.13) and numpy; transformers is not installed, so CLIP's forward is
transcribed here from transformers' src/transformers/models/clip/modeling_clip.py, class by class
(each function below names the class it follows), on the HuggingFace key names, in float64 from
float32 weights. The tokenizer is transcribed from openai/CLIP's clip/simple_tokenizer.py
(bytes_to_unicode, get_pairs, SimpleTokenizer.bpe / encode) and written as the tokenizer.json
that transformers' CLIPTokenizerFast saves (normalizer, pre-tokenizer, BPE model with the `</w>`
suffix), over a tiny vocabulary in CLIP's own id order.

Self-checks (assert):
  * every CLIPEncoderLayer (vision and text) equals torch.nn.TransformerEncoderLayer (norm_first,
    quick GELU as its activation, the causal mask for the text tower) to 1e-12;
  * quick GELU equals x * torch.sigmoid(1.702 x); the end-of-text pooling of both transformers
    rules (eos_token_id == 2: argmax of the ids; else the first eos_token_id) agree on the inputs;
  * the written files read back to the same arrays.

clip_resize/: CLIPImageProcessor's geometry on three small PNGs (a downscale in each orientation and an
upscale): PIL (Debian's python3-pil) resizes the shortest edge to 16 with Image.BICUBIC, as
transformers' image_transforms.resize does for uint8 images, then the centre crop of
image_transforms.center_crop; the 16x16x3 uint8 results are in clip_resize.safetensors (I32).

clip_hf_grads.safetensors: the gradients (torch autograd, float64) of lit4j's softmax loss
0.5 (CE(logits) + CE(logits^T)), logits = exp(logit_scale) zi zt^T (CLIP's clip_loss), with
respect to every parameter, converted to lit4j's parameter names by lit4j_grads() below.
"""

import json
import math
import os
import re
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import OUT, ST_DTYPES, read_safetensors, write_json  # noqa: E402

torch.set_num_threads(2)
F64 = torch.float64
DIR = os.path.join(OUT, "clip_hf")



def write_safetensors(path, tensors, metadata=None):
    """make_golden.write_safetensors, but keeping 0-d arrays 0-d (HF stores logit_scale with shape [])."""
    import struct
    header = {"__metadata__": metadata} if metadata is not None else {}
    blobs, off = [], 0
    for name in sorted(tensors):
        a = np.asarray(tensors[name], order="C")
        raw = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": ST_DTYPES[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


# --------------------------------------------------------------------------------------------
# The HuggingFace config (CLIPConfig.to_dict() keys that matter; openai's configs say eos 2)
# --------------------------------------------------------------------------------------------

VISION = {"hidden_size": 48, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 3,
          "image_size": 32, "patch_size": 8, "num_channels": 3, "layer_norm_eps": 1e-5, "hidden_act": "quick_gelu",
          "model_type": "clip_vision_model"}
TEXT = {"vocab_size": None, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
        "max_position_embeddings": 16, "layer_norm_eps": 1e-5, "hidden_act": "quick_gelu", "eos_token_id": 2,
        "bos_token_id": 0, "pad_token_id": 1, "model_type": "clip_text_model"}
PROJECTION = 40
LOGIT_SCALE = math.log(1 / 0.07)  # CLIPConfig.logit_scale_init_value = 2.6592

TEXTS = ["a photo of a cat", "  A Photo of\tthe DOG!! ", "the cat's photo of a dog, of a cat, of the photo of a dog of 42 cats"]
IMAGES = 3  # pair i = image i, text i, for the gradient golden

# --------------------------------------------------------------------------------------------
# The tokenizer (openai/CLIP clip/simple_tokenizer.py), tiny merges
# --------------------------------------------------------------------------------------------


def bytes_to_unicode():
    """simple_tokenizer.bytes_to_unicode: printable bytes map to themselves, the rest to 256 + n."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


MERGES = [("c", "a"), ("ca", "t</w>"), ("d", "o"), ("do", "g</w>"), ("o", "f</w>"), ("p", "h"), ("ph", "o"),
          ("t", "o</w>"), ("pho", "to</w>"), ("t", "h"), ("th", "e</w>"), ("ca", "t"), ("t", "s</w>")]
BOS, EOS = "<|startoftext|>", "<|endoftext|>"


def clip_vocab():
    """SimpleTokenizer.__init__: bytes, bytes + '</w>', one token per merge, then the two specials."""
    v = list(bytes_to_unicode().values())
    v = v + [t + "</w>" for t in v]
    v += ["".join(m) for m in MERGES]
    v += [BOS, EOS]
    assert len(set(v)) == len(v), "a merge repeats a token"
    return {t: i for i, t in enumerate(v)}


VOCAB = clip_vocab()
RANKS = {m: i for i, m in enumerate(MERGES)}
# simple_tokenizer's pattern, with `regex`'s \p{L} / \p{N} spelled for Python's re (ASCII texts here)
PAT = re.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|(?:[^\s\w]|_)+""", re.IGNORECASE)


def bpe(token):
    """SimpleTokenizer.bpe: merge the lowest-ranked adjacent pair until none is in the merges."""
    word = tuple(token[:-1]) + (token[-1] + "</w>",)
    while len(word) > 1:
        pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
        bigram = min(pairs, key=lambda p: RANKS.get(p, float("inf")))
        if bigram not in RANKS:
            break
        first, second = bigram
        out, i = [], 0
        while i < len(word):
            if i < len(word) - 1 and word[i] == first and word[i + 1] == second:
                out.append(first + second)
                i += 2
            else:
                out.append(word[i])
                i += 1
        word = tuple(out)
    return word


def encode(text, length):
    """SimpleTokenizer.encode (whitespace_clean, lower), then CLIPTokenizer's framing with
    truncation=True, padding="max_length": bos + ids[:length - 2] + eos, padded with eos (the
    openai tokenizers' pad token)."""
    text = re.sub(r"\s+", " ", text).strip().lower()
    be = bytes_to_unicode()
    ids = []
    for tok in PAT.findall(text):
        tok = "".join(be[b] for b in tok.encode("utf-8"))
        ids += [VOCAB[t] for t in bpe(tok)]
    ids = [VOCAB[BOS]] + ids[:length - 2] + [VOCAB[EOS]]
    return ids + [VOCAB[EOS]] * (length - len(ids))


def tokenizer_json():
    """What CLIPTokenizerFast.save_pretrained writes (tokenizers' JSON format)."""
    special = lambda i, t: {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                            "normalized": t == BOS, "special": True}
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [special(VOCAB[BOS], BOS), special(VOCAB[EOS], EOS)],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFC"}, {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "}, {"type": "Lowercase"}]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+"},
             "behavior": "Removed", "invert": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": {"type": "RobertaProcessing", "sep": [EOS, VOCAB[EOS]], "cls": [BOS, VOCAB[BOS]],
                           "trim_offsets": False, "add_prefix_space": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": EOS, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "</w>", "fuse_unk": False, "byte_fallback": False,
                  "vocab": VOCAB, "merges": [" ".join(m) for m in MERGES]},
    }


# --------------------------------------------------------------------------------------------
# CLIP's forward (transformers modeling_clip.py), float64
# --------------------------------------------------------------------------------------------


LEAVES = {}  # name -> float64 leaf tensor (requires grad) while the gradient golden is computed


def W(P, k):
    if k in LEAVES:
        return LEAVES[k]
    return torch.from_numpy(P[k]).to(F64)


def quick_gelu(x):
    """activations.QuickGELUActivation: x * sigmoid(1.702 * x)."""
    return x * torch.sigmoid(1.702 * x)


def layer_norm(P, pre, x, eps):
    return F.layer_norm(x, x.shape[-1:], W(P, pre + "weight"), W(P, pre + "bias"), eps)


def linear(P, pre, x, bias=True):
    return F.linear(x, W(P, pre + "weight"), W(P, pre + "bias") if bias else None)


def attention(P, pre, x, heads, mask):
    """CLIPAttention.forward + eager_attention_forward: q/k/v projections, scores * head_dim^-0.5
    plus the additive mask, softmax, weighted values, out_proj."""
    b, t, d = x.shape
    dh = d // heads
    q, k, v = (linear(P, pre + n + "_proj.", x).view(b, t, heads, dh).transpose(1, 2) for n in ("q", "k", "v"))
    s = torch.matmul(q, k.transpose(-1, -2)) * dh ** -0.5
    if mask is not None:
        s = s + mask
    o = torch.matmul(F.softmax(s, dim=-1), v).transpose(1, 2).reshape(b, t, d)
    return linear(P, pre + "out_proj.", o)


def encoder_layer(P, pre, x, cfg, mask):
    """CLIPEncoderLayer.forward: x + attn(LN1(x)); x + mlp(LN2(x)), CLIPMLP = fc2(act(fc1))."""
    eps, act = cfg["layer_norm_eps"], quick_gelu
    x = x + attention(P, pre + "self_attn.", layer_norm(P, pre + "layer_norm1.", x, eps), cfg["num_attention_heads"], mask)
    h = act(linear(P, pre + "mlp.fc1.", layer_norm(P, pre + "layer_norm2.", x, eps)))
    return x + linear(P, pre + "mlp.fc2.", h)


def causal_mask(t):
    """masking_utils.create_causal_mask (4.5x: _create_4d_causal_attention_mask): -inf above the diagonal."""
    return torch.triu(torch.full((t, t), float("-inf"), dtype=F64), diagonal=1)


def vision_forward(P, pixels_nchw, outs):
    """CLIPVisionTransformer.forward (CLIPVisionEmbeddings: bias-free patch conv, class embedding
    prepended, position embedding over all tokens; pre_layrnorm; encoder; post_layernorm on token 0)."""
    c, pre = VISION, "vision_model."
    b = pixels_nchw.shape[0]
    patches = F.conv2d(pixels_nchw, W(P, pre + "embeddings.patch_embedding.weight"), stride=c["patch_size"])
    patches = patches.flatten(2).transpose(1, 2)
    cls = W(P, pre + "embeddings.class_embedding").expand(b, 1, -1)
    x = torch.cat([cls, patches], dim=1) + W(P, pre + "embeddings.position_embedding.weight")
    x = layer_norm(P, pre + "pre_layrnorm.", x, c["layer_norm_eps"])
    for i in range(c["num_hidden_layers"]):
        x = encoder_layer(P, pre + "encoder.layers.%d." % i, x, c, None)
        outs["img_block.%d" % i] = x
    pooled = layer_norm(P, pre + "post_layernorm.", x[:, 0, :], c["layer_norm_eps"])
    outs["img_pooled"] = pooled
    emb = F.linear(pooled, W(P, "visual_projection.weight"))  # CLIPModel.get_image_features
    outs["img_logits"] = emb
    return emb


def eos_positions(ids, eos_token_id):
    """CLIPTextTransformer.forward's pooled_output index: eos_token_id == 2 (configs before
    transformers PR #24773): argmax of the ids; else the first position holding eos_token_id."""
    if eos_token_id == 2:
        return ids.to(torch.int).argmax(dim=-1)
    return (ids.to(torch.int) == eos_token_id).int().argmax(dim=-1)


def text_forward(P, ids, outs):
    """CLIPTextTransformer.forward (CLIPTextEmbeddings: token + position embeddings; causal
    encoder; final_layer_norm; pooled at the end-of-text token)."""
    c, pre = TEXT, "text_model."
    t = ids.shape[1]
    x = W(P, pre + "embeddings.token_embedding.weight")[ids] + W(P, pre + "embeddings.position_embedding.weight")[:t]
    mask = causal_mask(t)
    for i in range(c["num_hidden_layers"]):
        x = encoder_layer(P, pre + "encoder.layers.%d." % i, x, c, mask)
        outs["txt_block.%d" % i] = x
    x = layer_norm(P, pre + "final_layer_norm.", x, c["layer_norm_eps"])
    outs["txt_encoded"] = x
    at = eos_positions(ids, c["eos_token_id"])
    assert torch.equal(at, eos_positions(ids, VOCAB[EOS])), "the two pooling rules differ on these inputs"
    pooled = x[torch.arange(x.shape[0]), at]
    outs["txt_pooled"] = pooled
    emb = F.linear(pooled, W(P, "text_projection.weight"))  # CLIPModel.get_text_features
    outs["txt_logits"] = emb
    return emb


def clip_loss(zi, zt, logit_scale):
    """modeling_clip.clip_loss on CLIPModel.forward's logits_per_text = exp(logit_scale) zt zi^T."""
    logits = torch.exp(logit_scale) * zt @ zi.T
    target = torch.arange(logits.shape[0])
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def lit4j_grads(G):
    """HF-named gradients as lit4j's parameters' (models/README.md names; kernels [in, out]; q, k, v
    side by side; the class token's gradient is class_embedding's, since lit4j folds position row 0
    into it, and img.pos holds rows 1..N)."""
    out = {}
    t = lambda k: G[k].T
    for tower, hf, n in (("img", "vision_model.", VISION["num_hidden_layers"]), ("txt", "text_model.", TEXT["num_hidden_layers"])):
        for i in range(n):
            s, b = hf + "encoder.layers.%d." % i, tower + ".blocks.%d." % i
            a = s + "self_attn."
            out[b + "ln1.scale"], out[b + "ln1.bias"] = G[s + "layer_norm1.weight"], G[s + "layer_norm1.bias"]
            out[b + "attn.qkv.kernel"] = torch.cat([t(a + x + "_proj.weight") for x in "qkv"], dim=1)
            out[b + "attn.qkv.bias"] = torch.cat([G[a + x + "_proj.bias"] for x in "qkv"])
            out[b + "attn.out.kernel"], out[b + "attn.out.bias"] = t(a + "out_proj.weight"), G[a + "out_proj.bias"]
            out[b + "ln2.scale"], out[b + "ln2.bias"] = G[s + "layer_norm2.weight"], G[s + "layer_norm2.bias"]
            out[b + "mlp.fc1.kernel"], out[b + "mlp.fc1.bias"] = t(s + "mlp.fc1.weight"), G[s + "mlp.fc1.bias"]
            out[b + "mlp.fc2.kernel"], out[b + "mlp.fc2.bias"] = t(s + "mlp.fc2.weight"), G[s + "mlp.fc2.bias"]
    v = "vision_model."
    pk = G[v + "embeddings.patch_embedding.weight"].permute(2, 3, 1, 0)
    out["img.patch.kernel"] = pk.reshape(-1, pk.shape[-1])
    out["img.cls"] = G[v + "embeddings.class_embedding"]
    out["img.pos"] = G[v + "embeddings.position_embedding.weight"][1:]
    out["img.pre_norm.scale"], out["img.pre_norm.bias"] = G[v + "pre_layrnorm.weight"], G[v + "pre_layrnorm.bias"]
    out["img.norm.scale"], out["img.norm.bias"] = G[v + "post_layernorm.weight"], G[v + "post_layernorm.bias"]
    out["img.head.kernel"] = t("visual_projection.weight")
    x = "text_model."
    out["txt.tok"] = G[x + "embeddings.token_embedding.weight"]
    out["txt.pos"] = G[x + "embeddings.position_embedding.weight"]
    out["txt.norm.scale"], out["txt.norm.bias"] = G[x + "final_layer_norm.weight"], G[x + "final_layer_norm.bias"]
    out["txt.head.kernel"] = t("text_projection.weight")
    out["t"] = G["logit_scale"].reshape(1)
    return out


def normalize(e):
    """CLIPModel.forward: embeds / _get_vector_norm(embeds)."""
    return e / e.pow(2).sum(dim=-1, keepdim=True).pow(0.5)


# --------------------------------------------------------------------------------------------
# Weights in HuggingFace CLIPModel's key layout
# --------------------------------------------------------------------------------------------


def init_weights(seed):
    g = np.random.default_rng(seed)
    P = {}

    def r(name, *shape, scale=0.2):
        P[name] = (g.standard_normal(shape) * scale).astype(np.float32)

    def ln(name, d):
        P[name + "weight"] = (1 + 0.1 * g.standard_normal(d)).astype(np.float32)
        P[name + "bias"] = (0.1 * g.standard_normal(d)).astype(np.float32)

    def layers(pre, c):
        d, m = c["hidden_size"], c["intermediate_size"]
        for i in range(c["num_hidden_layers"]):
            s = pre + "encoder.layers.%d." % i
            for n in ("q", "k", "v", "out"):
                r(s + "self_attn.%s_proj.weight" % n, d, d, scale=d ** -0.5)
                r(s + "self_attn.%s_proj.bias" % n, d, scale=0.1)
            ln(s + "layer_norm1.", d)
            ln(s + "layer_norm2.", d)
            r(s + "mlp.fc1.weight", m, d, scale=d ** -0.5)
            r(s + "mlp.fc1.bias", m, scale=0.1)
            r(s + "mlp.fc2.weight", d, m, scale=m ** -0.5)
            r(s + "mlp.fc2.bias", d, scale=0.1)

    v, t = VISION, TEXT
    d, p = v["hidden_size"], v["patch_size"]
    n = (v["image_size"] // p) ** 2
    r("vision_model.embeddings.class_embedding", d, scale=1.0)
    r("vision_model.embeddings.patch_embedding.weight", d, v["num_channels"], p, p, scale=(3 * p * p) ** -0.5)
    r("vision_model.embeddings.position_embedding.weight", n + 1, d, scale=0.5)
    ln("vision_model.pre_layrnorm.", d)
    layers("vision_model.", v)
    ln("vision_model.post_layernorm.", d)
    r("visual_projection.weight", PROJECTION, d, scale=d ** -0.5)
    dt = t["hidden_size"]
    r("text_model.embeddings.token_embedding.weight", t["vocab_size"], dt, scale=1.0)
    r("text_model.embeddings.position_embedding.weight", t["max_position_embeddings"], dt, scale=0.5)
    layers("text_model.", t)
    ln("text_model.final_layer_norm.", dt)
    r("text_projection.weight", PROJECTION, dt, scale=dt ** -0.5)
    P["logit_scale"] = np.array(LOGIT_SCALE, dtype=np.float32)  # a 0-d tensor, as nn.Parameter(torch.tensor(...)) saves
    P["text_model.embeddings.position_ids"] = np.arange(t["max_position_embeddings"], dtype=np.int64)[None]  # old files have it
    return P


# --------------------------------------------------------------------------------------------
# Self-checks
# --------------------------------------------------------------------------------------------


def check_layer_against_torch(P, pre, c, x, causal):
    """One CLIPEncoderLayer against torch.nn.TransformerEncoderLayer with CLIP's weights."""
    d, heads = c["hidden_size"], c["num_attention_heads"]
    m = torch.nn.TransformerEncoderLayer(d, heads, c["intermediate_size"], dropout=0.0, activation=quick_gelu,
                                         layer_norm_eps=c["layer_norm_eps"], batch_first=True, norm_first=True).to(F64)
    a = pre + "self_attn."
    with torch.no_grad():
        m.self_attn.in_proj_weight.copy_(torch.cat([W(P, a + n + "_proj.weight") for n in "qkv"]))
        m.self_attn.in_proj_bias.copy_(torch.cat([W(P, a + n + "_proj.bias") for n in "qkv"]))
        m.self_attn.out_proj.weight.copy_(W(P, a + "out_proj.weight"))
        m.self_attn.out_proj.bias.copy_(W(P, a + "out_proj.bias"))
        for mine, theirs in (("layer_norm1.", m.norm1), ("layer_norm2.", m.norm2), ("mlp.fc1.", m.linear1), ("mlp.fc2.", m.linear2)):
            theirs.weight.copy_(W(P, pre + mine + "weight"))
            theirs.bias.copy_(W(P, pre + mine + "bias"))
    m.eval()
    mask = causal_mask(x.shape[1]) if causal else None
    want = m(x, src_mask=mask)
    got = encoder_layer(P, pre, x, c, mask)
    err = (want - got).abs().max().item()
    assert err < 1e-12, (pre, err)


def resize_golden():
    """PNGs and what CLIPImageProcessor (do_resize shortest_edge 16, BICUBIC; do_center_crop 16) makes of them."""
    from PIL import Image
    g = np.random.default_rng(11)
    out, crop = {}, 16
    for name, (w, h) in {"wide": (53, 29), "tall": (23, 41), "small": (7, 11)}.items():
        yy, xx = np.mgrid[0:h, 0:w]
        smooth = np.stack([127 + 100 * np.sin(xx / 3.0 + c) * np.cos(yy / 4.0 - c) for c in range(3)], axis=-1)
        px = np.clip(smooth + g.integers(-40, 41, (h, w, 3)), 0, 255).astype(np.uint8)
        img = Image.fromarray(px, "RGB")
        img.save(os.path.join(OUT, "clip_resize", name + ".png"), optimize=False, compress_level=6)
        short, long = (w, h) if w <= h else (h, w)
        new_long = int(crop * long / short)  # image_processing_utils.get_resize_output_image_size, default_to_square=False
        size = (crop, new_long) if w <= h else (new_long, crop)
        r = np.asarray(img.resize(size, resample=Image.BICUBIC))
        top, left = (r.shape[0] - crop) // 2, (r.shape[1] - crop) // 2  # image_transforms.center_crop
        out[name] = r[top:top + crop, left:left + crop].astype(np.int32)
    os.makedirs(os.path.join(OUT, "clip_resize"), exist_ok=True)
    write_safetensors(os.path.join(OUT, "clip_resize.safetensors"), out, {"crop": str(crop), "filter": "PIL.Image.BICUBIC"})


def main():
    os.makedirs(os.path.join(OUT, "clip_resize"), exist_ok=True)
    resize_golden()
    TEXT["vocab_size"] = len(VOCAB)
    assert max(VOCAB.values()) == VOCAB[EOS], "CLIP's <|endoftext|> is the last id (the eos_token_id 2 rule relies on it)"
    x = torch.linspace(-6, 6, 101, dtype=F64)
    assert torch.allclose(quick_gelu(x), x / (1 + torch.exp(-1.702 * x)), rtol=0, atol=1e-15)

    P = init_weights(20261201)
    L = TEXT["max_position_embeddings"]
    ids = [encode(t, L) for t in TEXTS]
    assert ids[2][-1] == VOCAB[EOS] and ids[2][L - 2] != VOCAB[EOS], "the long text is truncated, its eos kept"
    assert VOCAB["photo</w>"] in ids[0] and VOCAB["dog</w>"] in ids[1], ids  # merges applied, lowercased
    tokens = torch.tensor(ids, dtype=torch.int64)
    g = np.random.default_rng(7)
    images = g.uniform(-1, 1, (IMAGES, VISION["image_size"], VISION["image_size"], VISION["num_channels"])).astype(np.float32)

    outs = {}
    zi = normalize(vision_forward(P, torch.from_numpy(images).to(F64).permute(0, 3, 1, 2), outs))
    zt = normalize(text_forward(P, tokens, outs))
    outs["img_embedding"], outs["txt_embedding"] = zi, zt
    outs["logits_per_image"] = math.exp(float(P["logit_scale"])) * zi @ zt.T  # CLIPModel.forward

    # self-checks against torch's own transformer layer, on each tower's first layer input
    xv = torch.randn(2, 17, VISION["hidden_size"], dtype=F64, generator=torch.Generator().manual_seed(1))
    xt = torch.randn(3, L, TEXT["hidden_size"], dtype=F64, generator=torch.Generator().manual_seed(2))
    for i in range(2):
        check_layer_against_torch(P, "vision_model.encoder.layers.%d." % i, VISION, xv, False)
        check_layer_against_torch(P, "text_model.encoder.layers.%d." % i, TEXT, xt, True)

    # the HF folder: weights, config.json, preprocessor_config.json, tokenizer.json
    write_safetensors(os.path.join(DIR, "model.safetensors"), P, {"format": "pt"})
    write_json(os.path.join(DIR, "config.json"), {
        "architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": PROJECTION,
        "logit_scale_init_value": 2.6592, "text_config": TEXT, "vision_config": VISION})
    write_json(os.path.join(DIR, "preprocessor_config.json"), {
        "crop_size": {"height": 32, "width": 32}, "do_center_crop": True, "do_convert_rgb": True, "do_normalize": True,
        "do_rescale": True, "do_resize": True, "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_processor_type": "CLIPImageProcessor", "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3,
        "rescale_factor": 0.00392156862745098, "size": {"shortest_edge": 32}})
    write_json(os.path.join(DIR, "tokenizer.json"), tokenizer_json())

    golden = {k: v.to(torch.float32).numpy() for k, v in outs.items()}
    golden["img_input"] = images
    golden["txt_input"] = np.array(ids, dtype=np.int32)
    meta = {"texts": json.dumps(TEXTS), "context_length": str(L)}
    path = os.path.join(OUT, "clip_hf.safetensors")
    write_safetensors(path, golden, meta)

    # gradients of the contrastive loss through both towers
    for k, a in P.items():
        if a.dtype == np.float32:
            LEAVES[k] = torch.from_numpy(a).to(F64).requires_grad_(True)
    zi = normalize(vision_forward(P, torch.from_numpy(images).to(F64).permute(0, 3, 1, 2), {}))
    zt = normalize(text_forward(P, tokens, {}))
    loss = clip_loss(zi, zt, LEAVES["logit_scale"])
    loss.backward()
    G = {k: v.grad for k, v in LEAVES.items()}
    LEAVES.clear()
    grads = {"grad/" + k: v.to(torch.float32).numpy() for k, v in lit4j_grads(G).items()}
    grads["loss0"] = np.array([loss.item()], dtype=np.float32)
    gpath = os.path.join(OUT, "clip_hf_grads.safetensors")
    write_safetensors(gpath, grads, {"loss": "softmax", "setup": "UU"})
    gb, _ = read_safetensors(gpath)
    assert all(np.array_equal(gb[k], grads[k]) for k in grads)

    back, m2 = read_safetensors(path)
    assert m2 == meta and set(back) == set(golden) and all(np.array_equal(back[k], golden[k]) for k in golden)
    wb, _ = read_safetensors(os.path.join(DIR, "model.safetensors"))
    assert set(wb) == set(P) and all(np.array_equal(wb[k], P[k]) for k in P)
    print("wrote", DIR, path, gpath, "; loss0", loss.item(), "; txt ids:", ids)


if __name__ == "__main__":
    main()
