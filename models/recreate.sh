#!/usr/bin/env bash
# Re-create the bundled weights from the shared data set (see MODEL_CARD.md for what, how long, on what).
#   models/recreate.sh [DATA_DIR=../shared/data] [RUN_DIR=train_runs]
# Every stage resumes where it stopped if interrupted (pool shards, checkpoints).
set -euo pipefail
D=${1:-../shared/data}
RUN=${2:-train_runs}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-python}

# unet (FusionUNet): a pool of 9120 training samples with DIS computed once (about 15 minutes and
# 9.5 GB on disk), then the long run (niced, one thread each; `train` starts on the first shards).
# The long run's recipe changed as it went (MODEL_CARD "Training"): plain AdamW to step 2000, a
# moving average of the weights from there (the shipped run also had 100 steps with the oracle
# term, 3900-4000, left out here: it did not help).
$PY "$HERE/train_bundled.py" produce --run "$RUN/fusion" --data "$D" --samples 9120 &
T="$PY $HERE/train_bundled.py train --run $RUN/fusion --data $D --steps 30000 --lr 2e-4"
$T --ema 0 --stop-after 2000
$T --ema 0.999
wait
cp "$RUN/fusion/fusion_best.safetensors" "$HERE/unet.safetensors"

# unet-direct (flow-free comparison; unchanged since version 0.1): the old recipe, 3000 steps
CLIPS="$D/clips/Megamind.avi $D/clips/vtest.avi $D/clips/box.mp4 $D/clips/realshort.mp4 $D/clips/newtonscradle.gif"
vfi-desktop train --arch direct_unet --data $CLIPS --stills "$D/stills" --val "$D/clips/tree.avi" "$D/clips/cup.mp4" \
    --steps 3000 --lr 4e-4 --loss log_mse --threads 1 --out "$HERE/unet_direct.safetensors" --checkpoint "$RUN/unet_direct.ckpt"
