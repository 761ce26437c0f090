"""Model registry, timm-style: ``fernb.models.create(name, num_classes=7, in_chans=3, img_size=...)``.

One file per architecture family registers its builders with :func:`register`; standard backbones come from timm or
torchvision rather than being rewritten. ``list_models()`` names them all; each entry (``entry(name)``) carries the
paper section it implements, the resolutions the paper uses and the complexity figures the paper prints.
"""

from fernb.models.registry import catalogue, create, entry, list_models, register

# importing a family module registers its models
from fernb.models import simple  # noqa: E402,F401
from fernb.models import resemotenet  # noqa: E402,F401
from fernb.models import litexpressionnet  # noqa: E402,F401
from fernb.models import shufflenet_fer  # noqa: E402,F401
from fernb.models import infer_methods  # noqa: E402,F401
from fernb.models import btfer  # noqa: E402,F401

__all__ = ["catalogue", "create", "entry", "list_models", "register"]
