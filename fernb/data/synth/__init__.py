"""SynthFER: the embedded, deterministic, procedural FER dataset (two domains, simulated crowd votes)."""

from fernb.data.synth.generate import DOMAINS, SynthConfig, generate, render_one, sample_attributes

__all__ = ["DOMAINS", "SynthConfig", "generate", "render_one", "sample_attributes"]
