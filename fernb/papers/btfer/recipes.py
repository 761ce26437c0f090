"""What each profile trains for the BTFER chapter, as data (one column per profile; DESIGN.md, "Profiles").

``full`` is the paper's protocol (§III-F: Adam at 1e-4, the learning rate halved on a validation-loss plateau of 10
epochs down to 1e-10, early stopping after 20, a 30-epoch head-only first stage for pretrained starts, then the whole
network "until the training stops by early stopping"; every built model at 48 and 224 px from every start whose
weights are present). Its second stage is capped at 400 epochs, the largest ``epochs=`` of the released notebooks
(github.com/gipinze/ResearchModels_GIT, e.g. ``48 x 48 - Conservative/RAFDB/ZFNet/MODEL.ipynb``; the others give
200-300), so early stopping, not the cap, ends it. ``full`` and ``smoke`` augment as the released notebooks'
``ImageDataGenerator`` does (§III-F: rotation 20°, width and height shift 0.2, zoom 0.2, horizontal flip; no crop
and no colour jitter; :data:`KERAS_AUG`).

``quick`` fits about three minutes of a 2-core CPU, where only the smallest network of the zoo, LeNet5, learns to
a readable accuracy in that time (measured at 48 px with a random resized crop, flips and colour jitter: LeNet5
about 80 % validation accuracy in 16 epochs and 10 s; Sequential Simple 76 % in 30 s; MNIST_NET 57 % in 50 s;
AlexNet and GoogLeNet stay at the class prior after 30-45 s). It keeps a fixed 16 epochs (no early stopping) and,
instead of Keras's rotation/shift/zoom, the random resized crop with flips and no colour jitter
(:data:`QUICK_AUG`): under the Keras transform LeNet5 does not learn in 16 epochs (measured on synth-raf, seed 0:
best validation accuracy 35 % with simple weights, collapsed onto one class, and 69 % with conservative ones; at
lr 1e-3 and 2e-3 40-55 %; 30 epochs still collapse with simple weights), against 62 % and 80 % with the crop.
``smoke`` proves the code path. ``"zoo"`` stands for every built model of the paper's table at that resolution.
"""

from __future__ import annotations

from fernb.papers.recipes import Recipe

SMALL = ["btfer_lenet5", "btfer_seq_simple"]

# §III-F "Keras guidelines of pre-processing images": ImageDataGenerator(rotation_range=20, width_shift_range=0.2,
# height_shift_range=0.2, zoom_range=0.2, horizontal_flip=True), as every released notebook sets it; nothing else
KERAS_AUG = dict(aug_rotation=20.0, aug_shift=0.2, aug_zoom=0.2, aug_flip=0.5, aug_scale=(1.0, 1.0),
                 aug_ratio=(1.0, 1.0), aug_brightness=0.0, aug_contrast=0.0)
# quick's stand-in (see the module docstring): the trainer's random resized crop and flips, no colour jitter
QUICK_AUG = dict(aug_rotation=0.0, aug_shift=0.0, aug_zoom=0.0, aug_flip=0.5, aug_scale=(0.8, 1.0),
                 aug_ratio=(0.9, 1.1), aug_brightness=0.0, aug_contrast=0.0)

PROTOCOL = Recipe(
    "btfer-protocol", "Protocol (§III-F): options every row shares",
    common=dict(freeze_epochs=30),
    smoke=dict(train=dict(epochs=1, batch_size=32, max_batches_per_epoch=3, **KERAS_AUG)),
    quick=dict(train=dict(epochs=16, batch_size=32, lr=3e-3, **QUICK_AUG)),
    # stage 2 until early stopping (§III-F); 400 is the released notebooks' largest cap, never the stop
    full=dict(train=dict(epochs=400, batch_size=64, lr=1e-4, scheduler="plateau", lr_gamma=0.5, plateau_patience=10,
                         min_lr=1e-10, monitor="val_loss", early_stop_patience=20, **KERAS_AUG)),
)

MAIN = Recipe(
    "btfer-main", "Tables 2-3: the benchmark",
    common=dict(weightings=["simple", "conservative"]),
    smoke=dict(models_48=SMALL, models_224=[], starts=["scratch"], seeds=1, every_real_set=False),
    quick=dict(models_48=SMALL[:1], models_224=[], starts=["scratch"], seeds=3, every_real_set=False),
    full=dict(models_48="zoo", models_224="zoo", starts=["scratch", "imagenet", "vggface"], seeds=1,
              every_real_set=True),
)

LABELS = Recipe(
    "btfer-labels", "Experiment 3: label quality (SynthFER only)",
    common=dict(weightings=["conservative"]),
    smoke=dict(models=SMALL[:1], seeds=1),
    quick=dict(models=SMALL[:1], seeds=3),
    full=dict(models=SMALL, seeds=3),
)

RESOLUTION = Recipe(
    "btfer-resolution", "Experiment 5: a higher resolution",
    common=dict(models=SMALL[:1], weightings=["conservative"], compared=SMALL, low=48),
    smoke=dict(high=64, seeds=1),
    quick=dict(high=96, seeds=1),
    full=dict(high=224, seeds=1),
)

PRETRAINED = Recipe(
    "btfer-starts", "Experiment 1: VGG16 from three starts",
    common=dict(models=["btfer_vgg16"], weightings=["simple", "conservative"], seeds=1),
    smoke=dict(resolutions=[48], starts=["imagenet", "vggface"]),
    quick=dict(resolutions=[48], starts=["imagenet", "vggface"]),
    full=dict(resolutions=[48, 224], starts=["scratch", "imagenet", "vggface"]),
)

TEST = Recipe(
    "btfer-test", "The balanced test set (§II) and the edge deployment (§V-A)",
    common=dict(deployed=2, small_m=5.0),
    smoke=dict(per_class=12, calibration_images=16, latency_runs=3),
    quick=dict(per_class=90, calibration_images=128, latency_runs=30),
    full=dict(per_class=300, calibration_images=512, latency_runs=100),
)

RECIPES = (PROTOCOL, MAIN, PRETRAINED, LABELS, RESOLUTION, TEST)
