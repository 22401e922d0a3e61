#!/usr/bin/python3
"""A tiny SentencePiece vocabulary and the ids it gives, for lit4j's SentencePiece tests.

Run by hand, never by CI:

    sudo apt install sentencepiece python3-sentencepiece
    /usr/bin/python3 java/src/test/reference/make_sentencepiece_golden.py

Writes golden/spm/:
  tiny.model      a 60-piece unigram model trained by Debian's spm_train on a corpus made here
                  (fixed, one thread), with big_vision's ids: pad 0, eos 1, unk 2, no bos (as the
                  T5 / c4_en vocabularies big_vision's LiT and SigLIP use).
  tokenizer.json  the same vocabulary as a HuggingFace Unigram tokenizer.json, built the way
                  transformers/convert_slow_tokenizer.py SpmConverter does (vocab of (piece, score),
                  Precompiled normalizer from the model's charsmap, Metaspace pre-tokenizer and decoder).
  expected.json   for each text: "raw", the ids of SentencePieceProcessor.EncodeAsIds; and the ids
                  big_vision's preprocessing gives, transcribing big_vision/pp/ops_text.py
                  (get_pp_tokenize: lowercase when lower=True, then tokenize(): EOS appended unless
                  eos="none"; eos="sticky" cuts a long text to max_len - 1 ids and keeps the EOS last,
                  otherwise it is cut to max_len; padded with pad_value) for the settings listed.

Self-checks: the Python ids decode back to the texts where no piece is <unk>; the model file
reads back with the pieces and special ids asked for; two runs give identical files.
"""

import json
import os
import subprocess
import tempfile

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as pb

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "resources", "golden", "spm"))

COLOURS = ["red", "green", "blue", "yellow", "purple", "orange", "white", "black"]
SHAPES = ["circle", "square", "triangle", "star", "ring", "cross"]
PLACES = ["on the left", "on the right", "at the top", "at the bottom", "in the middle"]


def corpus():
    lines = []
    for i, c in enumerate(COLOURS):
        for j, s in enumerate(SHAPES):
            p = PLACES[(i + j) % len(PLACES)]
            lines.append(f"A {c} {s} {p}.")
            lines.append(f"Two {c} {s}s and a small {COLOURS[(i + 3) % 8]} {SHAPES[(j + 1) % 6]}, {p}")
            lines.append(f"the {s} is {c}; the background is {COLOURS[(i + j) % 8]}")
    return lines


TEXTS = ["A red circle on the left.", "two BLUE squares", "the star is yellow; the background is black",
         "Ünïcode and   spaces", "", "a purple triangle, a green cross and an orange ring in the middle at the top"]
SETTINGS = [  # (name, max_len, eos, pad_value, lower): big_vision's contrastive setting and the other two
    ("sticky_pad1_lower_8", 8, "sticky", 1, True),
    ("sticky_pad0_8", 8, "sticky", 0, False),
    ("yes_pad0_lower_8", 8, "yes", 0, True),
    ("none_pad0_8", 8, "none", 0, False),
]


def big_vision_ids(sp, text, max_len, eos, pad_value, lower):
    """big_vision/pp/ops_text.py: get_pp_tokenize (lower) and tokenize (EOS, truncation, padding)."""
    if lower:
        text = text.lower()
    tokens = sp.EncodeAsIds(text) + ([sp.eos_id()] if eos != "none" else [])
    if eos == "sticky" and len(tokens) >= max_len:
        tokens = tokens[:max_len - 1] + tokens[-1:]
    else:
        tokens = tokens[:max_len]
        tokens = tokens + [pad_value] * (max_len - len(tokens))
    return tokens


def unigram_json(model):
    """transformers' SpmConverter (convert_slow_tokenizer.py) for a unigram model, as a dict."""
    vocab = [[p.piece, p.score] for p in model.pieces]
    charsmap = model.normalizer_spec.precompiled_charsmap
    import base64
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": i, "content": model.pieces[i].piece, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True} for i in (0, 1, 2)],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(charsmap).decode()},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
        "post_processor": None,
        "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
        "model": {"type": "Unigram", "unk_id": 2, "vocab": vocab, "byte_fallback": False},
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        # relative names: the trainer spec stored in the model records them, so the file does not depend on tmp
        with open(os.path.join(tmp, "corpus.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(corpus()) + "\n")
        prefix = os.path.join(tmp, "tiny")
        subprocess.run(["spm_train", "--input=corpus.txt", "--model_prefix=tiny", "--vocab_size=60",
                        "--model_type=unigram", "--character_coverage=1.0", "--num_threads=1",
                        "--pad_id=0", "--eos_id=1", "--unk_id=2", "--bos_id=-1", "--minloglevel=2"],
                       check=True, capture_output=True, cwd=tmp)
        with open(prefix + ".model", "rb") as f:
            model_bytes = f.read()
    with open(os.path.join(OUT, "tiny.model"), "wb") as f:
        f.write(model_bytes)

    sp = spm.SentencePieceProcessor(model_proto=model_bytes)
    assert (sp.pad_id(), sp.eos_id(), sp.unk_id(), sp.bos_id()) == (0, 1, 2, -1)
    assert sp.GetPieceSize() == 60
    model = pb.ModelProto.FromString(model_bytes)
    assert len(model.pieces) == 60 and model.pieces[1].piece == "</s>"

    expected = {"vocab_size": 60, "pad_id": 0, "eos_id": 1, "unk_id": 2, "texts": []}
    for t in TEXTS:
        raw = sp.EncodeAsIds(t)
        if sp.unk_id() not in raw:  # letters the corpus never had (capitals, accents) are <unk>
            assert sp.DecodeIds(raw) == " ".join(t.split()), (t, sp.DecodeIds(raw))
        row = {"text": t, "raw": raw}
        for name, max_len, eos, pad, lower in SETTINGS:
            ids = big_vision_ids(sp, t, max_len, eos, pad, lower)
            assert len(ids) == max_len
            if eos == "sticky":
                assert sp.eos_id() in ids
            row[name] = ids
        expected["texts"].append(row)
    expected["settings"] = [{"name": n, "max_len": m, "eos": e, "pad_id": p, "lowercase": lo} for n, m, e, p, lo in SETTINGS]
    with open(os.path.join(OUT, "expected.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
    with open(os.path.join(OUT, "tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(unigram_json(model), ensure_ascii=False) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
