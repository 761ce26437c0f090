"""Experiments of the benchmark chapters: the InFER++ SOTA benchmark and LiteXpressionNet (:mod:`fernb.bench.infer`)
and the noisy-label objective ablation only SynthFER's true labels allow (:mod:`fernb.bench.noisy`)."""
