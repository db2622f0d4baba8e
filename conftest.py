# Under the test suite, widgets render as static figures (see vae_lesson/widgets.py).
# Notebook kernels started by nbval inherit this environment.
import os

os.environ.setdefault("VAE_LESSON_STATIC", "1")
