#!/usr/bin/env bash
# Prepares what a lent GPU machine needs to run gpu_check.py (it has Python 3.12, torch 2.11 and
# transformers 5.17, which xling runs on; no ../shared and no network): the embedded model's
# tokenizer and the few data files the script reads, in a git-ignored folder (.device-data/,
# about 5 MB, well under the 64 MiB carry limit).
#
#   bash experiments/bench/gpu_carry.sh      # here, once
#   then run on the device, carrying .device-data (one command, prints one JSON):
#     mkdir -p .device-data/tok && tar -xJf .device-data/tokenizer.tar.xz -C .device-data/tok &&
#     PYTHONPATH=. python3 experiments/bench/gpu_check.py \
#       --data-dir .device-data/data --tokenizer .device-data/tok --out $OUT/gpu_check.json
set -euo pipefail
cd "$(dirname "$0")/../.."
data="${XLING_DATA:-../shared/data}"
# (where xling keeps it: $XLING_CACHE or its default; converted here on first use)
model=$(python -c "from xling.backends.embedded import embedded_model_dir; print(embedded_model_dir())")

rm -rf .device-data
mkdir -p .device-data/data/flores200/devtest .device-data/data/xnli/dev .device-data/data/xnli/test
for lang in eng_Latn kor_Hang jpn_Jpan zho_Hans; do
    cp "$data/flores200/devtest/$lang.devtest" .device-data/data/flores200/devtest/
done
cp "$data/xnli/dev/zh.tsv" .device-data/data/xnli/dev/
cp "$data/xnli/test/zh.tsv" .device-data/data/xnli/test/
files=$(cd "$model" && ls tokenizer.json tokenizer_config.json special_tokens_map.json tokenizer.model \
        chat_template.jinja 2>/dev/null || true)
tar -cJf .device-data/tokenizer.tar.xz -C "$model" $files
du -sh .device-data
echo "device command (carry .device-data):"
echo "  mkdir -p .device-data/tok && tar -xJf .device-data/tokenizer.tar.xz -C .device-data/tok &&" \
     "PYTHONPATH=. python3 experiments/bench/gpu_check.py --data-dir .device-data/data --tokenizer .device-data/tok" \
     "--out \$OUT/gpu_check.json"
