#!/usr/bin/python3
"""The ids SigLIP's own pipelines give with golden/spm/tiny.model, for lit4j's no-flags SigLIP text tests.

Run by hand, never by CI (after make_sentencepiece_golden.py, which makes tiny.model):

    sudo apt install python3-sentencepiece
    /usr/bin/python3 java/src/test/reference/make_siglip_tokenizer_golden.py

Writes golden/spm/siglip_expected.json: for each text, the ids of three pipelines at max_len 11
(the context of the tiny SigLIP in golden/siglip.npz and golden/siglip_hf), each transcribed here:

  big_vision_siglip   big_vision/pp/ops_text.py get_pp_tokenize(max_len, eos="sticky", pad_value=1)
                      with its default lower=True, then tokenize(): as the SigLIP demo colab and the
                      LiT / SigLIP configs call it. EncodeAsIds of the lowercased text, EOS appended;
                      a text of max_len or more ids is cut to max_len - 1 and keeps the EOS; shorter
                      ones are padded with 1.
  big_vision_siglip2  the SigLIP 2 configs' lower(key)|tok(length, model, bos='no', eos='sticky'):
                      big_vision/pp/proj/paligemma/ops.py get_tokenize + get_tolen (sticky end),
                      padded with the tokenizer's pad_token (SentencepieceTokenizer.pad_token =
                      pad_id(), 0 in tiny.model as in Gemma's).
  hf_siglip           transformers' SiglipTokenizer (models/siglip/tokenization_siglip.py) called as
                      SiglipProcessor is, padding="max_length", truncation=True: get_spm_processor
                      (the model with add_dummy_prefix off), tokenize() (SPIECE_UNDERLINE + text,
                      then PreTrainedTokenizer.tokenize lowercases since do_lower_case=True), _tokenize
                      (canonicalize_text: string.punctuation removed, whitespace runs to one space,
                      stripped; encode unk_token + text and drop the unk_token's pieces),
                      _convert_token_to_id (piece_to_id), build_inputs_with_special_tokens (EOS
                      appended), truncation to max_len with room for the EOS, padding with
                      pad_token "</s>".

Self-check: the HF pipeline gives the same pieces as plain EncodeAsPieces of the canonicalised,
lowercased text for every text listed as "plain" (lit4j takes that shortcut; the texts where the
two differ are listed under "hf_differs", with both answers).
"""

import json
import os
import re
import string

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as pb

HERE = os.path.dirname(os.path.abspath(__file__))
SPM = os.path.normpath(os.path.join(HERE, "..", "resources", "golden", "spm"))
MAX_LEN = 11
UNDERLINE = "\u2581"

TEXTS = ["A red circle on the left.", "two BLUE squares", "the star is yellow; the background is black",
         "Two  green   CROSSES, and (one) ring!", "a purple triangle, a green cross and an orange ring in the middle at the top",
         "Ünïcode and\tspaces", "red-orange star... at the top?", "", "!!!"]


def big_vision_siglip(sp, text):
    """get_pp_tokenize(lower=True) + tokenize(force_eos=True, pad_value=1)."""
    tokens = sp.EncodeAsIds(text.lower()) + [sp.eos_id()]
    if len(tokens) >= MAX_LEN:
        return tokens[:MAX_LEN - 1] + tokens[-1:]
    return tokens + [1] * (MAX_LEN - len(tokens))


def big_vision_siglip2(sp, text):
    """get_lower, then get_tokenize(eos='sticky', bos='no') with get_tolen(sticky_end=True, pad_value=pad_token)."""
    tokens = sp.EncodeAsIds(text.lower()) + [sp.eos_id()]
    if len(tokens) >= MAX_LEN:
        return tokens[:MAX_LEN - 1] + tokens[-1:]
    return tokens + [sp.pad_id()] * (MAX_LEN - len(tokens))


def hf_processor(model_bytes):
    """SiglipTokenizer.get_spm_processor: the model proto with normalizer_spec.add_dummy_prefix = False."""
    m = pb.ModelProto.FromString(model_bytes)
    m.normalizer_spec.add_dummy_prefix = False
    p = spm.SentencePieceProcessor()
    p.LoadFromSerializedProto(m.SerializeToString())
    return p


def canonicalize_text(text):
    """SiglipTokenizer.canonicalize_text(keep_punctuation_exact_string=None)."""
    text = text.translate(str.maketrans("", "", string.punctuation))
    text = re.sub(r"\s+", " ", text)
    return text.strip()


def hf_pieces(hp, text):
    """SiglipTokenizer.tokenize -> PreTrainedTokenizer.tokenize (lowercase) -> SiglipTokenizer._tokenize."""
    text = UNDERLINE + text.replace(UNDERLINE, " ")
    text = text.lower()  # do_lower_case; no special tokens occur in these texts
    text = canonicalize_text(text)
    unk_len = len(hp.encode("<unk>", out_type=str))
    tokens = hp.encode("<unk>" + text, out_type=str)
    tokens = tokens[unk_len:] if len(tokens) >= unk_len else tokens
    if len(tokens) > 1 and tokens[0] == UNDERLINE and tokens[1] in ("</s>", "<unk>"):
        tokens = tokens[1:]
    return tokens


def hf_siglip(hp, text):
    ids = [hp.piece_to_id(t) for t in hf_pieces(hp, text)]
    eos = hp.piece_to_id("</s>")
    ids = ids[:MAX_LEN - 1] + [eos]  # truncation=True leaves room for the special token
    return ids + [eos] * (MAX_LEN - len(ids))  # padding="max_length" with pad_token "</s>"


def main():
    with open(os.path.join(SPM, "tiny.model"), "rb") as f:
        model = f.read()
    sp = spm.SentencePieceProcessor()
    sp.LoadFromSerializedProto(model)
    hp = hf_processor(model)
    assert (sp.pad_id(), sp.eos_id()) == (0, 1), (sp.pad_id(), sp.eos_id())
    out = {"max_len": MAX_LEN, "texts": [], "hf_differs": []}
    for t in TEXTS:
        plain = sp.EncodeAsPieces(canonicalize_text(t.lower()))
        hf = hf_pieces(hp, t)
        row = {"text": t, "big_vision_siglip": big_vision_siglip(sp, t), "big_vision_siglip2": big_vision_siglip2(sp, t),
               "hf_siglip": hf_siglip(hp, t)}
        if plain == hf:
            out["texts"].append(row)
        else:
            out["hf_differs"].append({"text": t, "hf_pieces": hf, "plain_pieces": plain})
            row.pop("hf_siglip")
            out["texts"].append(row)
    with open(os.path.join(SPM, "siglip_expected.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    print("wrote", os.path.join(SPM, "siglip_expected.json"), "hf_differs:", out["hf_differs"])


if __name__ == "__main__":
    main()
