"""ldnn-tune's image task: small CNNs on scikit-learn's digits or a folder of images."""

from ldnn_tune_image.task import ImageOptions, ImageTask

__all__ = ["ImageOptions", "ImageTask"]
