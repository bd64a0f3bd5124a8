"""The image files the task reads, by suffix: kept apart so the task class loads no imaging."""

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
