"""What each profile trains for the BTFER chapter, as data (one column per profile; DESIGN.md, "Profiles").

``full`` is the paper's protocol (§III-F: Adam at 1e-4, the learning rate halved on a validation-loss plateau of 10
epochs down to 1e-10, early stopping after 20, a 30-epoch head-only first stage for pretrained starts, then the whole
network "until the training stops by early stopping"; every built model at 48 and 224 px from every start whose
weights are present). Its second stage is capped at 400 epochs, the largest ``epochs=`` of the released notebooks
(github.com/gipinze/ResearchModels_GIT, e.g. ``48 x 48 - Conservative/RAFDB/ZFNet/MODEL.ipynb``; the others give
200-300), so early stopping, not the cap, ends it. ``full`` and ``smoke`` augment as the released notebooks'
``ImageDataGenerator`` does (§III-F: rotation 20°, width and height shift 0.2, zoom 0.2, horizontal flip; no crop
and no colour jitter; :data:`KERAS_AUG`).

``quick`` fits about four minutes of a 2-core CPU (the book's budget), so it trains only what was measured to learn
in that time. Measured on synth-raf (``quick``: 2,160 training images, 68 batches of 32 an epoch), seed 0,
conservative weights, lr 3e-3, :data:`QUICK_AUG`, each with ``fit(TrainConfig(model=..., img_size=48,
class_weighting="conservative", epochs=E, max_batches_per_epoch=B, **PROTOCOL("quick").train))`` in a scratch
``runs_root`` under ``flock /tmp/fernb-cpu.lock`` (the machine shared with other jobs), scored by
:func:`fernb.eval.metrics.informative` on the run's test split (majority share 0.368) and on the balanced test set:

* a training step of 32 images at 48 px (torch, 4 warm steps, fp32): LeNet5 13 ms; every other network of
  Table 2 150-900 ms (Modular 151, MobileNetV2 169, ResNet18 + Dense 175, MobileNet 187, ZF_NET 189, Sequential
  Simple 205, AlexNet 223, Sequential 3Conv 227, MNIST_NET 235, DenseNet121 405, SMMB 571, VGG16 800, Ensemble
  814, VGGNet 886), and about 1.7x that inside the trainer; bf16 + channels-last is slower for all of them but
  LeNet5 and Sequential Simple, so the extra row forces fp32 (:data:`EXTRA_QUICK_TRAIN`);
* LeNet5, conservative: 8 epochs 8.8 s, validation 0.67, balanced test 0.46; 6 epochs 5.7-17 s (with and without other jobs), test 0.63-0.64, balanced test 0.43;
  96 px 20 s, balanced 0.50; 16 epochs (the previous quick setting) 0.81 in 18-24 s, too slow for 10 rows.
  Simple weights, 6 epochs: seed 0 collapses onto 2 classes, seeds 1-2 learn (0.66): so ``quick`` trains
  conservative weights only and Experiment 4 (which needs pretrained starts anyway) is ``full``'s;
* 3 epochs of 50 batches (150 steps): ResNet18 + Dropout + Dense test 0.62, 5 classes (informative) in 53-55 s;
  MobileNetV2 0.29, Sequential 3Conv 0.39 and Modular 0.37 (1 class): not informative; 2 epochs of 40 batches:
  ZF_NET, MobileNet, Modular and AlexNet at the class prior (1-2 classes predicted) in 12-29 s; 8 full epochs:
  Sequential 3Conv 0.72 in 127 s (learns, but half the budget), Sequential Simple collapsed onto one class in 94 s.

So no more than two networks of Table 2 learn within ``quick``'s budget: ``quick`` trains LeNet5 for a fixed 8
epochs (no early stopping), three seeds, with two label qualities more over the same seeds (Experiment 3) and one
96 px run (Experiment 5, 224 px being ``full``'s), and ResNet18 + Dropout + Dense (:data:`EXTRA_QUICK`, the
paper's 48 px pick of Table 6) for 3 epochs of at most 50 batches, one seed. Experiments 2 and 6 rank five or three
networks and stay ``full``'s. Instead of Keras's rotation/shift/zoom ``quick`` uses the random resized crop with
flips and no colour jitter (:data:`QUICK_AUG`): under the Keras transform LeNet5 does not learn in 16 epochs
(measured on synth-raf, seed 0: best validation accuracy 35 % with simple weights, collapsed onto one class, and
69 % with conservative ones; at lr 1e-3 and 2e-3 40-55 %; 30 epochs still collapse with simple weights), against
62 % and 80 % with the crop.
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

# quick's training, and long's: long trains 12 epochs at lr 1e-3. At quick's 3e-3 six of the eight networks of the
# first long recording learned nothing (ZF_NET, Sequential Simple, Modular and both MobileNets stayed at the class
# prior until the cosine schedule brought the rate near 1e-3); measured on synth-raf (long), seed 0, 8 epochs, simple
# weights: Sequential Simple 0.79 test accuracy at 1e-3 (one class at 3e-3), ZF_NET 0.45 (one class), LeNet5 0.57
# (conservative 0.58); MobileNet still at the prior (0.24) after 8 epochs at 1e-3, hence the four epochs more
QUICK_TRAIN = dict(epochs=8, batch_size=32, lr=3e-3, **QUICK_AUG)
LONG_TRAIN = {**QUICK_TRAIN, "epochs": 12, "lr": 1e-3}

PROTOCOL = Recipe(
    "btfer-protocol", "Protocol (§III-F): options every row shares",
    # freeze_epochs: the head-only first stage of a pretrained start (§III-F: 30); long trains two
    smoke=dict(train=dict(epochs=1, batch_size=32, max_batches_per_epoch=3, **KERAS_AUG), freeze_epochs=30),
    quick=dict(train=QUICK_TRAIN, freeze_epochs=30),
    long=dict(train=LONG_TRAIN, freeze_epochs=2),
    # stage 2 until early stopping (§III-F); 400 is the released notebooks' largest cap, never the stop
    full=dict(train=dict(epochs=400, batch_size=64, lr=1e-4, scheduler="plateau", lr_gamma=0.5, plateau_patience=10,
                         min_lr=1e-10, monitor="val_loss", early_stop_patience=20, **KERAS_AUG), freeze_epochs=30),
)

# quick's more of Table 2 (module docstring): the one other network measured to learn within quick's budget
EXTRA_QUICK = ["btfer_resnet18_dense"]
# Experiment 1's starts in long: scratch beside the two analogues made here (fernb.train.analogues), since the real
# ImageNet and VGGFace weights are not on this machine
LONG_STARTS = ["scratch", "imagenet-analogue", "vggface-analogue"]
# long's networks at 48 px: LeNet5 and the seven cheapest of the others (training-step times in the docstring)
LONG_48 = ["btfer_lenet5", "btfer_modular", "btfer_mobilenetv2", "btfer_resnet18_dense", "btfer_mobilenet",
           "btfer_zfnet", "btfer_seq_simple", "btfer_seq3conv"]
# its shorter training: 3 epochs of at most 50 batches, fp32 and contiguous (measured faster than bf16 /
# channels-last for it, so the precision search is skipped)
EXTRA_QUICK_TRAIN = dict(epochs=3, max_batches_per_epoch=50, precision="fp32", memory_format="contiguous")
MAIN = Recipe(
    "btfer-main", "Tables 2-3: the benchmark",
    smoke=dict(models_48=SMALL, models_224=[], starts=["scratch"], seeds=1, every_real_set=False, extra_48=[],
               weightings=["simple", "conservative"],
               extra_weightings=["conservative"], extra_seeds=1, extra_train={}),
    # simple weights collapse LeNet5 in 6 epochs (seed 0, module docstring): Experiment 4 is full's
    quick=dict(models_48=SMALL[:1], models_224=[], starts=["scratch"], seeds=3, every_real_set=False,
               weightings=["conservative"],
               extra_48=EXTRA_QUICK, extra_weightings=["conservative"], extra_seeds=1,
               extra_train=EXTRA_QUICK_TRAIN),
    # long (recorded on the CPU): LONG_TRAIN (12 epochs at 1e-3) for the eight networks of Table 2 whose training
    # step at 48 px costs under ~230 ms (module docstring; about 3-4 minutes a run), both weightings, one seed: Table 2's
    # rows, Experiment 2's size ranking, Experiment 4's weighting pairs and Experiment 6's pick. The slower half of
    # the zoo (DenseNet121 to VGGNet, 400-900 ms a step) and the 224 px table stay full's.
    long=dict(models_48=LONG_48, seeds=1, weightings=["simple", "conservative"], extra_48=[], extra_train={}),
    full=dict(models_48="zoo", models_224="zoo", starts=["scratch", "imagenet", "vggface"], seeds=1,
              every_real_set=True, weightings=["simple", "conservative"], extra_48=[],
              extra_weightings=["conservative"], extra_seeds=1, extra_train={}),
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
    long=dict(seeds=3),  # LeNet5 at 96 and 48 px over three seeds (~20 s a run): a spread for Experiment 5
    full=dict(high=224, seeds=1),
)

PRETRAINED = Recipe(
    "btfer-starts", "Experiment 1: VGG16 from three starts",
    common=dict(models=["btfer_vgg16"]),
    # train: what Experiment 1 changes of the protocol's training (nothing but in long)
    smoke=dict(resolutions=[48], starts=["imagenet", "vggface"], weightings=["simple", "conservative"], seeds=1,
               train={}),
    quick=dict(resolutions=[48], starts=["imagenet", "vggface"], weightings=["simple", "conservative"], seeds=1,
               train={}),
    # long asks Experiment 1 with the analogues made here (fernb.train.analogues: SynthFER identities for VGGFace,
    # procedural non-face images for ImageNet) beside scratch, one weighting, two seeds (the paired gap's noise), at
    # the paper's Adam 1e-4 (§III-F): at long's 1e-3 VGG16 from scratch stayed at the class prior over 12 epochs (both
    # seeds of the recording of 2026-12-05); at 1e-4 it learns (synth-raf, long, seed 0, conservative: validation
    # accuracy 0.11, 0.25, 0.33, 0.27, 0.48 over its first five epochs). VGG16 at 48 px costs ~12 s an epoch where
    # bf16 is fast (an Intel Xeon with AMX: 2.5 minutes a run) and ~45 s where it is not (fp32, 0.55 s a step of 32
    # on a Xeon without AMX: ~9 minutes a run, about an hour for the experiment with both pretrainings)
    long=dict(starts=LONG_STARTS, weightings=["conservative"], seeds=2, train=dict(lr=1e-4)),
    full=dict(resolutions=[48, 224], starts=["scratch", "imagenet", "vggface"], weightings=["simple", "conservative"],
              seeds=1, train={}),
)

TEST = Recipe(
    "btfer-test", "The balanced test set (§II) and the edge deployment (§V-A)",
    common=dict(deployed=2, small_m=5.0),
    smoke=dict(per_class=12, calibration_images=16, latency_runs=3),
    quick=dict(per_class=90, calibration_images=128, latency_runs=30),
    full=dict(per_class=300, calibration_images=512, latency_runs=100),
)

RECIPES = (PROTOCOL, MAIN, PRETRAINED, LABELS, RESOLUTION, TEST)
