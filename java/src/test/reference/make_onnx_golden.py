#!/usr/bin/python3
"""A tiny BERT exported to ONNX the way real sentence-embedding models are, and its expected outputs.

Run by hand, never by CI, after make_golden.py (it imports that script's weights, inputs, plain-torch
BERT and writers):

    /usr/bin/python3 java/src/test/reference/make_onnx_golden.py

Writes
  golden/bert_onnx/model.onnx   make_golden's `bert_hf` weights in a module tree with HuggingFace
                                BertModel's names, exported by torch.onnx.export (opset 14) with the
                                inputs and output of the real exports (input_ids, attention_mask,
                                token_type_ids -> last_hidden_state): Linear weights become anonymous
                                `onnx::MatMul_N` initializers, LayerNorm and GELU become primitive ops.
  golden/bert_onnx.safetensors  input (the `bert` tokens), block.i, encoded, pooled and embedding for
                                the lit4j config of `bert_hf` with "pool": "mean", "end_sep": true.

The module transcribes transformers/models/bert/modeling_bert.py: BertEmbeddings.forward (word +
token type + absolute position embeddings, then LayerNorm), BertModel.get_extended_attention_mask
((1 - mask) * finfo.min added to the scores), BertSelfAttention.forward (transpose_for_scores,
scores / sqrt(head size), softmax, context), BertSelfOutput / BertOutput (dense, LayerNorm of the
sum with the input), BertIntermediate (dense, exact GELU). The pooling transcribes
sentence_transformers/models/Pooling.py, forward (mean tokens: sum of mask * output / clamp(sum of
mask, 1e-9)); the embedding is lit4j's z / (|z| + 1e-8), as in every golden.

Self-checks (assert): the module in float64 equals make_golden's independent bert_forward (block
outputs to 1e-10) with the same weights; the exported file's initializers hold exactly the weights
(read back from the protobuf bytes by a minimal wire-format walk written here, so it needs no onnx
package); the golden file reads back bit for bit.
"""

import math
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_golden as G  # noqa: E402

F64 = torch.float64
NAME = "bert_onnx"
CFG = dict(G.CFG["bert_hf"], pool="mean", end_sep=True)


class Embeddings(torch.nn.Module):  # modeling_bert.py BertEmbeddings
    def __init__(self, c):
        super().__init__()
        d = c["width"]
        self.word_embeddings = torch.nn.Embedding(c["vocab_size"], d, padding_idx=0)
        self.position_embeddings = torch.nn.Embedding(c["max_position"], d)
        self.token_type_embeddings = torch.nn.Embedding(c["type_vocab_size"], d)
        self.LayerNorm = torch.nn.LayerNorm(d, eps=c["ln_eps"])
        self.register_buffer("position_ids", torch.arange(c["max_position"]).expand((1, -1)))

    def forward(self, input_ids, token_type_ids):
        t = input_ids.shape[1]
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        x = x + self.position_embeddings(self.position_ids[:, :t])
        return self.LayerNorm(x)


class SelfAttention(torch.nn.Module):  # BertSelfAttention
    def __init__(self, c):
        super().__init__()
        d = c["width"]
        self.heads, self.size = c["heads"], d // c["heads"]
        self.query, self.key, self.value = (torch.nn.Linear(d, d) for _ in range(3))

    def split(self, x):  # transpose_for_scores
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.size).permute(0, 2, 1, 3)

    def forward(self, x, mask):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        s = q @ k.transpose(-1, -2) / math.sqrt(self.size) + mask
        ctx = torch.softmax(s, dim=-1) @ v
        b, _, t, _ = ctx.shape
        return ctx.permute(0, 2, 1, 3).contiguous().view(b, t, self.heads * self.size)


class DenseNorm(torch.nn.Module):  # BertSelfOutput and BertOutput
    def __init__(self, d_in, d, eps):
        super().__init__()
        self.dense = torch.nn.Linear(d_in, d)
        self.LayerNorm = torch.nn.LayerNorm(d, eps=eps)

    def forward(self, h, x):
        return self.LayerNorm(self.dense(h) + x)


class Attention(torch.nn.Module):  # BertAttention
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = DenseNorm(c["width"], c["width"], c["ln_eps"])

    def forward(self, x, mask):
        return self.output(self.self(x, mask), x)


class Intermediate(torch.nn.Module):  # BertIntermediate
    def __init__(self, c):
        super().__init__()
        self.dense = torch.nn.Linear(c["width"], c["mlp_dim"])

    def forward(self, x):
        return torch.nn.functional.gelu(self.dense(x))


class Layer(torch.nn.Module):  # BertLayer
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = DenseNorm(c["mlp_dim"], c["width"], c["ln_eps"])

    def forward(self, x, mask):
        a = self.attention(x, mask)
        return self.output(self.intermediate(a), a)


class Encoder(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = torch.nn.ModuleList(Layer(c) for _ in range(c["depth"]))


class Bert(torch.nn.Module):  # BertModel without its pooler (the exports lit4j reads output last_hidden_state)
    def __init__(self, c):
        super().__init__()
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c)
        self.blocks = []

    def forward(self, input_ids, attention_mask, token_type_ids):
        x = self.embeddings(input_ids, token_type_ids)
        m = attention_mask[:, None, None, :].to(x.dtype)
        m = (1.0 - m) * torch.finfo(x.dtype).min  # get_extended_attention_mask
        self.blocks = []
        for layer in self.encoder.layer:
            x = layer(x, m)
            self.blocks.append(x)
        return x


def load(model, P, c):
    """lit4j's parameters (kernels [in, out], fused qkv) into the HF-named module (weights [out, in])."""
    d = c["width"]
    T = lambda a: torch.from_numpy(np.ascontiguousarray(a))
    with torch.no_grad():
        e = model.embeddings
        e.word_embeddings.weight.copy_(T(P["txt.tok"]))
        e.position_embeddings.weight.copy_(T(P["txt.pos"]))
        e.token_type_embeddings.weight.copy_(T(P["txt.type"]))
        e.LayerNorm.weight.copy_(T(P["txt.emb_norm.scale"]))
        e.LayerNorm.bias.copy_(T(P["txt.emb_norm.bias"]))
        for i, layer in enumerate(model.encoder.layer):
            g = lambda n: T(P[f"txt.blocks.{i}.{n}"])
            qkv, qkv_b = g("attn.qkv.kernel"), g("attn.qkv.bias")
            for j, lin in enumerate((layer.attention.self.query, layer.attention.self.key, layer.attention.self.value)):
                lin.weight.copy_(qkv[:, j * d:(j + 1) * d].T)
                lin.bias.copy_(qkv_b[j * d:(j + 1) * d])
            layer.attention.output.dense.weight.copy_(g("attn.out.kernel").T)
            layer.attention.output.dense.bias.copy_(g("attn.out.bias"))
            layer.attention.output.LayerNorm.weight.copy_(g("ln1.scale"))
            layer.attention.output.LayerNorm.bias.copy_(g("ln1.bias"))
            layer.intermediate.dense.weight.copy_(g("mlp.fc1.kernel").T)
            layer.intermediate.dense.bias.copy_(g("mlp.fc1.bias"))
            layer.output.dense.weight.copy_(g("mlp.fc2.kernel").T)
            layer.output.dense.bias.copy_(g("mlp.fc2.bias"))
            layer.output.LayerNorm.weight.copy_(g("ln2.scale"))
            layer.output.LayerNorm.bias.copy_(g("ln2.bias"))


# --- a minimal reader of the exported protobuf, for the self-check only (onnx.proto field numbers) ---

def varint(b, i):
    v, s = 0, 0
    while True:
        x = b[i]
        i += 1
        v |= (x & 0x7F) << s
        s += 7
        if x < 0x80:
            return v, i


def fields(b):
    i = 0
    while i < len(b):
        tag, i = varint(b, i)
        f, w = tag >> 3, tag & 7
        if w == 0:
            v, i = varint(b, i)
        elif w == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        elif w == 5:
            v, i = b[i:i + 4], i + 4
        elif w == 1:
            v, i = b[i:i + 8], i + 8
        else:
            raise ValueError(w)
        yield f, v


def initializers(path):
    """name -> float32 array of every FLOAT initializer with raw_data (ModelProto.graph=7, GraphProto.initializer=5)."""
    with open(path, "rb") as fh:
        b = fh.read()
    graph = [v for f, v in fields(b) if f == 7][0]
    out = {}
    for f, t in fields(graph):
        if f != 5:
            continue
        dims, typ, name, raw = [], 0, None, None
        for g, v in fields(t):
            if g == 1 and isinstance(v, bytes):  # packed
                j = 0
                while j < len(v):
                    d, j = varint(v, j)
                    dims.append(d)
            elif g == 1:
                dims.append(v)
            elif g == 2:
                typ = v
            elif g == 8:
                name = v.decode()
            elif g == 9:
                raw = v
        if typ == 1 and raw is not None:
            out[name] = np.frombuffer(raw, "<f4").reshape(dims) if dims else np.frombuffer(raw, "<f4")
    return out


def main():
    c = CFG
    P = G.select(G.init_bert(4, G.CFG["bert"]), G.CFG["bert_hf"])  # make_golden's bert_hf weights
    tokens = G.make_bert_tokens(14, G.CFG["bert"])
    ids = torch.from_numpy(tokens.astype(np.int64))
    mask = (ids != 0).to(torch.int64)
    types = torch.zeros_like(ids)

    # the golden: make_golden's BERT (independent code) for the blocks, sentence-transformers' mean pooling
    ref = G.bert_forward(P, G.CFG["bert_hf"], tokens)
    m = mask.to(F64)[..., None]
    pooled = (ref["encoded"] * m).sum(1) / torch.clamp(m.sum(1), min=1e-9)
    outs = {k: v for k, v in ref.items() if k.startswith("block.") or k == "encoded"}
    G.head_and_normalize(P, "txt", c, pooled, outs)

    # the module, in float64, must compute make_golden's blocks
    model = Bert(c).eval()
    load(model, P, c)
    with torch.no_grad():
        m64 = Bert(c).to(F64).eval()
        m64.load_state_dict({k: v.to(F64) if v.is_floating_point() else v for k, v in model.state_dict().items()})
        h = m64(ids, mask, types)
        for i, blk in enumerate(m64.blocks):
            err = (blk - ref[f"block.{i}"]).abs().max().item()
            assert err <= 1e-10, ("module vs make_golden block", i, err)
        assert (h - ref["encoded"]).abs().max().item() <= 1e-10

    os.makedirs(os.path.join(G.OUT, NAME), exist_ok=True)
    path = os.path.join(G.OUT, NAME, "model.onnx")
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask, types), path, opset_version=14, do_constant_folding=True,
                          input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
                          dynamic_axes={n: {0: "batch", 1: "sequence"} for n in
                                        ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]})

    # the exported weights are exactly the module's: named ones by name, anonymous MatMul ones by value
    inits = initializers(path)
    sd = {k: v.numpy() for k, v in model.state_dict().items() if v.is_floating_point()}
    anonymous = [v for k, v in inits.items() if k.startswith("onnx::MatMul")]
    for k, v in sd.items():
        if k in inits:
            assert np.array_equal(inits[k], v), k
        else:
            assert k.endswith(".weight") and v.ndim == 2, k
            assert sum(np.array_equal(a, v.T) for a in anonymous) == 1, ("one anonymous initializer holds", k)
    assert len(anonymous) == 6 * c["depth"] and len(anonymous) + len([k for k in inits if k in sd]) == len(inits)

    G.write_golden(NAME, c, tokens, outs, "text")
    print("wrote", path, "and", NAME + ".safetensors")


if __name__ == "__main__":
    main()
