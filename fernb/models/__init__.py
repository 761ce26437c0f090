"""Model registry, timm-style: ``fernb.models.create(name, num_classes=7, in_chans=3, img_size=...)``.

One file per architecture family registers its builders with :func:`register`; standard backbones come from timm or
torchvision rather than being rewritten.
"""

from fernb.models.registry import create, list_models, register

# importing a family module registers its models
from fernb.models import simple  # noqa: E402,F401

__all__ = ["create", "list_models", "register"]
