#!/usr/bin/env bash
# Prepares what a lent GPU machine needs to run gpu_check.py (it has Python 3.12, torch and a
# transformers too new for xling, no ../shared and no network): wheels of the transformers xling
# pins, the embedded model's tokenizer, and the few data files the script reads. Everything goes
# to git-ignored folders (.whl/, .device-data/), about 25 MB, well under the 64 MiB carry limit.
#
#   bash experiments/bench/gpu_carry.sh      # here, once
#   then run on the device, carrying .whl and .device-data (one command, prints one JSON):
#     pip install -q --no-deps --target .device-data/site .whl/*.whl &&
#     mkdir -p .device-data/tok && tar -xJf .device-data/tokenizer.tar.xz -C .device-data/tok &&
#     PYTHONPATH=.device-data/site:. python experiments/bench/gpu_check.py \
#       --data-dir .device-data/data --tokenizer .device-data/tok --out $OUT/gpu_check.json
set -euo pipefail
cd "$(dirname "$0")/../.."
data="${XLING_DATA:-../shared/data}"
model="${XLING_MODEL_CACHE:-$HOME/.cache/xling/models}/gemma3-270m-v2"
[ -f "$model/tokenizer.json" ] || python -c "from xling.backends.embedded import embedded_model_dir; embedded_model_dir()"

rm -rf .whl .device-data
mkdir -p .whl .device-data/data/flores200/devtest .device-data/data/xnli/dev .device-data/data/xnli/test
python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --platform manylinux2014_x86_64 -d .whl \
    transformers==4.57.6 tokenizers==0.22.2 huggingface_hub==0.36.2
for lang in eng_Latn kor_Hang jpn_Jpan zho_Hans; do
    cp "$data/flores200/devtest/$lang.devtest" .device-data/data/flores200/devtest/
done
cp "$data/xnli/dev/zh.tsv" .device-data/data/xnli/dev/
cp "$data/xnli/test/zh.tsv" .device-data/data/xnli/test/
files=$(cd "$model" && ls tokenizer.json tokenizer_config.json special_tokens_map.json tokenizer.model \
        chat_template.jinja 2>/dev/null || true)
tar -cJf .device-data/tokenizer.tar.xz -C "$model" $files
du -sh .whl .device-data
