#!/usr/bin/env bash
# Reproduces lit4j's default model from offline data, the way the LiT paper made its models:
#   1. pretrain a ViT image tower on labelled images (Fashion-MNIST train + a pool of generated scenes in which
#      every colour-shape combination appears), predicting the words of each label (factored targets),
#   2. lock it and LiT-tune a fresh text transformer on image-caption pairs of the same images (setup Lu),
#   3. evaluate zero-shot on held-out data (Fashion-MNIST test; scene colour-shape pairs never seen in tuning),
#   4. copy the model, its tokenizer and a few sample images into models/default/.
# Needs Debian's dataset-fashion-mnist. Takes about an hour on 2 cores. Usage: models/default/make.sh [WORK_DIR]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${1:-$root/target/default-model}"
lit4j="$root/lit4j"
mkdir -p "$work"

# Both datasets are written inside one tuning folder (lit4j refuses links that leave a dataset folder):
# lit-data/captions.jsonl names images as fashion/train/... and scenes/train/...
data="$work/lit-data"
# LIT4J_MAKE_FROM=tune reuses an earlier run's datasets and pretrained tower in WORK_DIR (same commands, same seed)
if [ "${LIT4J_MAKE_FROM:-}" != tune ]; then
  "$lit4j" dataset fashion-mnist --out "$data/fashion" --train 0 --test 0 --seed 0 --replace
  "$lit4j" dataset scenes --out "$data/scenes" --train 12000 --test 1280 --size 32 --seed 0 --replace
  # The image tower's pretraining pool: a scenes test-style split (one object per image, cycling through all
  # 64 colour-shape pairs) drawn with another seed, so none of its images is an evaluation image. The
  # pretraining sees every combination, but only as words ("red" and "triangle" as separate sigmoid targets,
  # never "red triangle" as one class); the tuning captions above never name the 8 held-out pairs. This is
  # LiT's split: the locked tower is pretrained on a broad distribution, the text tower learns names from
  # narrower pairs (see MODEL_CARD.md, "Held-out pairs").
  "$lit4j" dataset scenes --out "$work/pretrain-pool" --train 0 --test 30000 --size 32 --seed 7 --replace
  "$lit4j" pretrain --model "$here/image-tower.json" --data "$data/fashion/train" --data "$work/pretrain-pool/test" \
    --targets words --steps 2400 --batch 128 --lr 1e-3 --warmup 100 --weight-decay 0.05 --seed 0 \
    --out "$work/pretrain" --eval-data "$data/fashion/test"
fi
{ sed 's|"image":"|"image":"fashion/train/|' "$data/fashion/train/captions.jsonl"
  sed 's|"image":"|"image":"scenes/train/|' "$data/scenes/train/captions.jsonl"; } > "$data/captions.jsonl"

rm -rf "$work/tune"
"$lit4j" tune --image-tower "$work/pretrain/model" --text-tower "$here/text-tower.json" --embed-dim 128 --setup Lu \
  --data "$data" --steps 3000 --batch 256 --lr 1e-3 --warmup 200 --weight-decay 1e-4 --temperature 10 \
  --seed 0 --out "$work/tune" --save-every 1000 --log-every 25 \
  --eval-data "$data/fashion/test" --eval-every 500 --eval-limit 2000 --cache "$work/embedding-cache"

model="$work/tune/checkpoint"
for ds in fashion-mnist scenes; do
  "$lit4j" eval zeroshot --model "$model" --dataset "$ds" --templates clip_80 --json --confusion "$work/confusion-$ds.png"
done
"$lit4j" eval zeroshot --model "$model" --dataset scenes --held-out-only --templates clip_80 --json --confusion "$work/confusion-scenes-held-out.png"
"$lit4j" eval zeroshot --model "$model" --dataset scenes --among-held-out --templates clip_80 --json --confusion "$work/confusion-scenes-8.png"
"$lit4j" eval probe --model "$model" --dataset fashion-mnist --json
"$lit4j" eval probe --model "$model" --dataset scenes --held-out-only --json

# ship it
cp "$model/config.json" "$model/model.safetensors" "$model/tokenizer.json" "$here/"
cp "$work/tune/curves.png" "$here/curves.png"
cp "$work/confusion-fashion-mnist.png" "$work/confusion-scenes.png" "$here/"
rm -rf "$here/samples"; mkdir -p "$here/samples"
pick() { # pick DATASET_DIR LABEL OUT: copies the first image with that label
  local line img
  line=$(grep -m1 "\"label\":\"$2\"" "$1/captions.jsonl")
  img=$(echo "$line" | sed 's|.*"image":"\([^"]*\)".*|\1|')
  cp "$1/$img" "$here/samples/$3"
  echo "{\"image\": \"$3\", \"label\": \"$2\"}"
}
{
  echo '{"fashion": ['
  first=1
  for label in "T-shirt/top" "Trouser" "Pullover" "Dress" "Coat" "Sandal" "Shirt" "Sneaker" "Bag" "Ankle boot"; do
    name=$(echo "$label" | tr 'A-Z/ ' 'a-z--')
    [ $first -eq 1 ] || echo ','; first=0
    pick "$data/fashion/test" "$label" "fashion-$name.png"
  done
  echo '], "scenes": ['
  first=1
  for label in "red triangle" "green heart" "blue star" "yellow ring" "purple square" "orange cross" "black diamond" "white circle"; do
    [ $first -eq 1 ] || echo ','; first=0
    pick "$data/scenes/test" "$label" "scene-$(echo "$label" | tr ' ' '-').png"
  done
  echo ']}'
} > "$here/samples/samples.json"
# files.txt: what the jar ships, as sha256sum lines (DefaultModel keys its unpacked cache by this list's digest)
(cd "$here" && sha256sum config.json model.safetensors tokenizer.json $(ls samples | sed 's|^|samples/|') > files.txt)
echo "default model written to $here"
