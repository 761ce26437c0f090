"""Data sources (SynthFER and real-dataset adapters), the image store and the batched loader."""

from fernb.data.dataset import load_dataset
from fernb.data.records import FERDataset, validate_records
from fernb.data.manifest import load_manifest

__all__ = ["FERDataset", "load_dataset", "validate_records", "load_manifest"]
