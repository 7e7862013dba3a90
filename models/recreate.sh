#!/usr/bin/env bash
# Re-create the bundled weights from the shared data set (see MODEL_CARD.md for what, how long, on what).
#   models/recreate.sh [DATA_DIR=../shared/data] [RUN_DIR=train_runs]
# Checkpoints go to RUN_DIR; every stage resumes from its checkpoint if interrupted.
set -euo pipefail
D=${1:-../shared/data}
RUN=${2:-train_runs}
CLIPS="$D/clips/Megamind.avi $D/clips/vtest.avi $D/clips/box.mp4 $D/clips/realshort.mp4 $D/clips/newtonscradle.gif"
VAL="$D/clips/tree.avi $D/clips/cup.mp4"  # held out: never trained on

# unet, stage 1: squared-error loss, 30% synthetic motion; stopped at 4600 of a 12000-step schedule
vfi-desktop train --data $CLIPS --stills "$D/stills" --val $VAL --steps 12000 --stop-after 4600 \
    --lr 4e-4 --loss mse --threads 2 --out "$RUN/unet_stage1.safetensors" --checkpoint "$RUN/unet_stage1.ckpt"
# unet, stage 2: from stage 1's latest weights, per-sample log squared error (mean PSNR), 20% synthetic
vfi-desktop train --init "$RUN/unet_stage1.ckpt" --data $CLIPS --stills "$D/stills" --synthetic 0.2 --val $VAL \
    --steps 6000 --lr 3e-4 --threads 2 --out models/unet.safetensors --checkpoint "$RUN/unet_stage2.ckpt"
# unet-direct (flow-free comparison): the same data, log squared error, 3000 steps
vfi-desktop train --arch direct_unet --data $CLIPS --stills "$D/stills" --val $VAL \
    --steps 3000 --lr 4e-4 --threads 1 --out models/unet_direct.safetensors --checkpoint "$RUN/unet_direct.ckpt"
