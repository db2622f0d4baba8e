"""Figures used by more than one notebook."""
import matplotlib.pyplot as plt
import torch
from torchvision.utils import make_grid


def show_images(images, nrow=10, title=None, ax=None):
    """A grid of (N, 1, 28, 28) images in [0, 1]."""
    grid = make_grid(images.detach().cpu().clamp(0, 1), nrow=nrow, padding=2, pad_value=1.0)
    ax = ax or plt.figure(figsize=(nrow * 0.6, (len(images) // nrow + 1) * 0.6)).gca()
    ax.imshow(grid[0], cmap="gray_r", vmin=0, vmax=1)  # make_grid returns 3 equal channels
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def plot_history(history, keys=("elbo", "test_elbo"), ax=None, label=""):
    """Per-epoch curves from fit's history."""
    ax = ax or plt.figure(figsize=(5, 3.5)).gca()
    for key in keys:
        ax.plot(history["epoch"], history[key], label=f"{label} {key}".strip())
    ax.set_xlabel("epoch")
    ax.set_ylabel("nats per image")
    ax.legend()
    return ax


def latent_scatter(z, labels, ax=None, s=4):
    """2-D codes coloured by class."""
    z, labels = torch.as_tensor(z).detach().cpu(), torch.as_tensor(labels).cpu()
    ax = ax or plt.figure(figsize=(5, 5)).gca()
    points = ax.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", s=s, vmin=-0.5, vmax=9.5)
    plt.colorbar(points, ax=ax, ticks=range(10), label="class")
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.set_aspect("equal")
    return ax
