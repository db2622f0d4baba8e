"""Interactive figures (ipywidgets) that fall back to a static figure under tests.

With VAE_LESSON_STATIC=1 (set by the test suite) a widget is replaced by `static()`, a plain
figure that shows a few settings at once, so executed notebooks hold no widget state."""
from . import config


def interact_or_static(draw, static, **sliders):
    """ipywidgets.interact(draw, **sliders) in a live notebook; static() under tests."""
    if config.STATIC:
        return static()
    import ipywidgets

    return ipywidgets.interact(draw, **sliders)
