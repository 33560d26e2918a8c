"""The builder's vision pre-training (lethe_worker.tiny.train.pretrain_vision) on a randomly initialised tiny LLaVA."""
import math

import torch

from lethe_worker import model_io
from lethe_worker.tiny import train


def test_a_per_token_task_teaches_every_image_token_the_label():
    torch.manual_seed(0)
    model = model_io.build_tiny_model(seed=0)
    pixels = torch.randn(4, 3, 32, 32)
    images, who = torch.arange(4), torch.tensor([0, 1, 2, 3])
    report = {}
    task = train.VisionTask(images, (train.VisionHead(who, per_token=True),))
    train.pretrain_vision(model, pixels, [task], steps=30, lr=3e-3, seed=0, report=report, batch_size=8)
    # ln 4 = 1.39 is chance; a head fed tokens with another image's label (a wrong expansion) stays near it
    assert report["vision"]["final_loss"] < 0.2 * math.log(4)
    hidden = model.config.text_config.hidden_size
    with torch.no_grad():
        tokens = train.image_tokens(model, pixels).view(4, -1, hidden)
    # every token alone now tells the images apart: the tokens of one image are nearer each other than any other's
    centroid = tokens.mean(1)
    nearest = torch.cdist(tokens.reshape(-1, hidden), centroid).argmin(1).view(4, -1)
    assert (nearest == who[:, None]).float().mean() > 0.9
