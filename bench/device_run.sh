#!/usr/bin/env bash
# Every GPU measurement of a session in one call of the lent device (bench/README.md).
#
# Carried: .whl/ (wheels of ldnn-tune, its plugins and the packages the device's image
# lacks) and .devdata/ (fsdd.tar.xz of ../shared/data/fsdd/recordings, tinyshakespeare's
# input.txt). Writes to $OUT: log.txt, gpu_util.csv, phases.txt, runs.tar.gz (each run's
# output and stores, no artifacts); bench/device_results.py turns them into results/.
#
# Phase 1, alone on the GPU: the image task's throughput with 1 and 4 trials at a time.
# Phase 2, side by side, pinned to cores (core 15 runs two): FSDD with unseen speakers
# (3 split seeds), the text and adding default studies, two hand-set text LSTMs, and the
# article's experiments (adding T=200 over 3 seeds, parity 25/29/31 bits, sort).
#
# A later call measures only what changed: PHASE1=0 skips phase 1; ARTICLE=0 skips the
# article's experiments, the hand-set text LSTMs and the adding study; SPEECH_WORDS adds
# words to each speech study (e.g. synth_speakers=120), SPEECH_CORES and SPEECH_JOBS size
# them; TEXT_S and TEXT_CORES the text study.
set -u
: "${OUT:?set OUT to the folder for the results}"
SPEECH_S=${SPEECH_S:-300}
ARTICLE_S=${ARTICLE_S:-270}
PHASE1_S=${PHASE1_S:-40}
MLP_TRAIN=${MLP_TRAIN:-1000000}  # generated examples of parity and sort
PHASE1=${PHASE1:-1}
ARTICLE=${ARTICLE:-1}
SPEECH_WORDS=${SPEECH_WORDS:-}
SPEECH_CORES=${SPEECH_CORES:-2}  # cores of each of the three speech studies
SPEECH_JOBS=${SPEECH_JOBS:-2}
TEXT_S=${TEXT_S:-$ARTICLE_S}
TEXT_CORES=${TEXT_CORES:-1}
RUNS=/tmp/runs
rm -rf "$RUNS"  # a warm device keeps /tmp: start every call's studies afresh
mkdir -p "$RUNS" /tmp/data "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1
# Worst case, kill limits included: install ~30 s + phase 1 2 x (PHASE1_S + 30) + phase 2
# max(SPEECH_S + 75, ARTICLE_S + 120) = 560 s at the defaults, inside the device's 600 s.

if [ -z "${DRY_RUN:-}" ]; then  # DRY_RUN=1: a rehearsal in this project's own venv
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    python3 -m compileall -q -j 0 /tmp/site >/dev/null  # once, not in every process
fi
export PYTHONPATH=/tmp/site:$PWD/bench PATH=/tmp/site/bin:$PATH PYTHONUNBUFFERED=1
tar -C /tmp/data -xJf .devdata/fsdd.tar.xz || exit 1
FSDD=/tmp/data/recordings
TEXT=$PWD/.devdata/input.txt
python3 -c "import torch, ldnn_tune; print(torch.__version__, torch.cuda.is_available())"
for module in optuna mlflow lightning kornia librosa espeakng_loader plotly omegaconf \
    ldnn_tune_image ldnn_tune_speech ldnn_tune_sequence; do  # what is missing, said once
    python3 -c "import $module" 2>/dev/null || echo "missing module: $module"
done

# one line a half second: unix time, GPU utilisation %, GPU memory used MiB
while sleep 0.5; do
    echo "$(date +%s.%N), $(nvidia-smi --query-gpu=utilization.gpu,memory.used \
        --format=csv,noheader,nounits)"
done >"$OUT/gpu_util.csv" 2>/dev/null &
SMI=$!

finish() {  # on any exit, a timeout's too: what ran comes back
    kill "$SMI" 2>/dev/null
    phase done
    cat "$RUNS"/*/out.txt "$RUNS/article.log" 2>/dev/null | grep -v '^\s*$' | tail -n 400
    tar -C "$RUNS" -czf "$OUT/runs.tar.gz" --exclude=mlruns --exclude='*.pt' .
    ls -la "$OUT"
}
trap finish EXIT
trap 'exit 143' TERM INT  # a signal ends the script through finish

phase() { echo "$1 $(date +%s.%N)" | tee -a "$OUT/phases.txt"; }

# pin CORES: the command prefix that runs on CORES (nothing in a rehearsal: fewer cores)
pin() { [ -n "${DRY_RUN:-}" ] || echo taskset -c "$1"; }

# study DIR CORES LIMIT WORDS...: ldnn-tune run WORDS in $RUNS/DIR on CORES, killed at LIMIT s
study() {
    local dir=$RUNS/$1 cores=$2 limit=$3
    shift 3
    mkdir -p "$dir"
    (
        cd "$dir" || exit 1
        echo "start $(date +%s.%N) ldnn-tune run $*" >out.txt
        timeout -k 10 "$limit" $(pin "$cores") ldnn-tune run "$@" >>out.txt 2>&1
        echo "exit $? $(date +%s.%N)" >>out.txt
    )
}

# article CORES ARGS...: one bench/article_gpu.py run on CORES
article() {
    local cores=$1
    shift
    timeout -k 10 $((ARTICLE_S + 120)) $(pin "$cores") python3 bench/article_gpu.py "$@" \
        --seconds "$ARTICLE_S" --out "$RUNS/article" >>"$RUNS/article.log" 2>&1
}

if [ "$PHASE1" = 1 ]; then
    phase phase1-j1
    study image-j1 0-15 $((PHASE1_S + 30)) task=image seed=0 timeout=$PHASE1_S
    phase phase1-j4
    study image-j4 0-15 $((PHASE1_S + 30)) task=image seed=0 timeout=$PHASE1_S \
        n_jobs=${PHASE1_JOBS:-4}
fi
phase phase2
pids=()
for seed in 0 1 2; do
    first=$((SPEECH_CORES * seed))
    # shellcheck disable=SC2086  # SPEECH_WORDS is a list of words
    study "speech-$seed" $first-$((first + SPEECH_CORES - 1)) $((SPEECH_S + 75)) \
        task=speech data_dir=$FSDD split=speaker seed=$seed timeout=$SPEECH_S \
        n_jobs=$SPEECH_JOBS $SPEECH_WORDS &
    pids+=($!)
done
first=$((3 * SPEECH_CORES))
study text-default $first-$((first + TEXT_CORES - 1)) $((TEXT_S + 60)) task=sequence problem=text \
    data_dir=$TEXT seed=0 timeout=$TEXT_S &
pids+=($!)
if [ "$ARTICLE" != 1 ]; then
    wait "${pids[@]}"
    exit 0
fi
article 7 text --data "$TEXT" --hidden 512 --layers 2 --length 128 --lr 0.5 &
pids+=($!)
article 8 text --data "$TEXT" --hidden 512 --layers 2 --length 128 --lr 1 &
pids+=($!)
for seed in 0 1 2; do
    article $((9 + seed)) adding --length 200 --seed "$seed" &
    pids+=($!)
done
for pair in 25:12 29:13 31:14; do
    article "${pair#*:}" parity --bits "${pair%:*}" --train "$MLP_TRAIN" &
    pids+=($!)
done
article 15 sort --train "$MLP_TRAIN" &
pids+=($!)
study sequence-adding 15 $((ARTICLE_S + 60)) task=sequence seed=0 timeout=$ARTICLE_S &
pids+=($!)
wait "${pids[@]}"
