#!/usr/bin/env bash
# Makes the multilingual study's tokenizer, lit4j-6lang.model: a SentencePiece unigram model trained
# with Debian's sentencepiece (apt install sentencepiece) on the study's training captions in six
# languages (en, de, es, ru, zh, ja) and every language's templates over its class names.
# Run by hand at recipe time, never in CI; the .model it writes is committed and read by lit4j
# through DJL's sentencepiece. Needs dataset-fashion-mnist. Usage: models/studies/tokenizer/make-tokenizer.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$root/lit4j" study multilingual --write-corpus "$work/corpus.txt" --work "$work/study"
# pad 0, unk 1, eos 2 and no bos (lit4j's text towers pool at the last real token, so eos marks it);
# character_coverage 1.0: every CJK character of the captions gets a piece; a fixed seed order.
spm_train --input="$work/corpus.txt" --model_prefix="$work/lit4j-6lang" --model_type=unigram --vocab_size=800 \
  --character_coverage=1.0 --pad_id=0 --unk_id=1 --eos_id=2 --bos_id=-1 --input_sentence_size=0 --shuffle_input_sentence=false \
  --num_threads=2 --minloglevel=1
cp "$work/lit4j-6lang.model" "$here/lit4j-6lang.model"
echo "wrote $here/lit4j-6lang.model ($(wc -l < "$work/corpus.txt") lines of corpus)"
