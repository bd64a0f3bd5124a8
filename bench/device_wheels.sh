#!/usr/bin/env bash
# Build what bench/device_run.sh carries to the lent GPU (bench/README.md), in the venv:
# .whl/ (ldnn-tune, its plugins, and the packages the device's image lacks, for its
# Python 3.12) and .devdata/ (FSDD's recordings as fsdd.tar.xz, tinyshakespeare's text).
# About 58 MB in all: the device takes 64 MiB with the working tree.
set -eu
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared/data}
rm -rf .whl .devdata
mkdir -p .whl .devdata
pip wheel -q --no-deps -w .whl . plugins/ldnn_tune_image plugins/ldnn_tune_sequence \
    plugins/ldnn_tune_speech
# the versions this project's venv runs, so the device tests the same code
pinned() { pip show "$1" | sed -n 's/^Version: //p'; }
wanted=()
for package in optuna mlflow-skinny sqlalchemy alembic mako cryptography kornia kornia_rs \
    librosa lazy_loader omegaconf plotly narwhals cmaes colorlog \
    espeakng-loader; do
    version=$(pinned "$package")
    wanted+=("$package${version:+==$version}")
done
pip download -q --no-deps --python-version 3.12 --only-binary=:all: -d .whl "${wanted[@]}"
tar -C "$SHARED/fsdd" -cJf .devdata/fsdd.tar.xz recordings
cp "$SHARED/tinyshakespeare/input.txt" .devdata/
du -sh .whl .devdata
