"""
torchvision's VGG16 (with BatchNorm), ResNet18 and InceptionV3 trained on the chest X-rays of data/
to tell AP from PA films, for the approximate-inference benchmark: occlusion heatmaps of seeded
weights are texture-like noise, which no approximation follows, whereas a trained network's
respond to where the image matters. Trained from scratch (no pretrained weights can be fetched
here), on the X-rays the benchmark does not occlude: the first 8 in name order are its tuning,
held-out and cold images. Needs Debian's python3-torch and python3-torchvision; not a dependency of
the project or its tests.

    /usr/bin/python3 bench/train-cxr.py                 # resnet18, vgg16, inception_v3
    /usr/bin/python3 bench/train-cxr.py resnet18

Writes bench/models/trained-cxr-<arch>-<size>.onnx: input [batch, 3, size, size], the gray image
in all three channels, 0-1 then ImageNet mean and std (Krypton's defaults); output logits [batch,
2], class 0 = ap, class 1 = pa.
"""
import csv
import os
import sys
import time

import numpy as np
import torch
import torchvision
from PIL import Image

SIZES = {'resnet18': 224, 'vgg16': 224, 'inception_v3': 299}
EPOCHS = {'resnet18': 20, 'vgg16': 15, 'inception_v3': 20}
# VGG16's three 4096-wide layers diverge at ResNet's rate, from scratch; InceptionV3's loss stays
# above chance at it.
LEARNING_RATES = {'resnet18': 1e-3, 'vgg16': 1e-4, 'inception_v3': 1e-4}
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
XRAYS = os.path.join(ROOT, 'data', 'images', 'chest-xray-hannover')
OUT = os.path.join(ROOT, 'bench', 'models')
BENCH_IMAGES = 8
# Without it a network this size drives its softmax to 1.0000 on 32 images, and a heatmap of a
# saturated probability is float32 rounding; smoothed labels keep it near 0.9, as calibrated
# clinical models are.
LABEL_SMOOTHING = 0.2
MEAN = torch.tensor([0.485, 0.456, 0.406])[None, :, None, None]
STD = torch.tensor([0.229, 0.224, 0.225])[None, :, None, None]


def load(files, size, projection):
    margin = size // 8
    images = [np.asarray(Image.open(os.path.join(XRAYS, 'png', f)).convert('L').resize((size + margin, size + margin), Image.BILINEAR), dtype=np.float32) for f in files]
    x = torch.tensor(np.stack(images))[:, None].repeat(1, 3, 1, 1) / 255.0
    y = torch.tensor([0 if projection[f[:-4]] == 'ap' else 1 for f in files])
    return x, y


def network(arch):
    if arch == 'resnet18':
        return torchvision.models.resnet18(weights=None, num_classes=2)
    if arch == 'vgg16':
        return torchvision.models.vgg16_bn(weights=None, num_classes=2)
    # torchvision's own initialisation (weights of std 0.1) and dropout 0.5 before the classifier gave
    # a network whose softmax sat at 0.98-0.99998 on the benchmark X-rays, its heatmaps float32
    # rounding; PyTorch's default initialisation without dropout trains to the smoothed labels.
    return torchvision.models.inception_v3(weights=None, num_classes=2, aux_logits=False, init_weights=False, dropout=0.0)


def accuracy(net, x, y, size):
    """Share right, and the median probability of the predicted class: near 1.0000 the heatmaps are
    float32 rounding."""
    with torch.no_grad():
        whole = torch.nn.functional.interpolate(x, size=(size, size), mode='bilinear', align_corners=False)
        probabilities = torch.softmax(net((whole - MEAN) / STD), 1)
        right = (probabilities.argmax(1) == y).float().mean().item()
        return f'{right:.2f} (median top probability {probabilities.max(1).values.median().item():.4f})'


def recalibrate_batch_norm(net, x, size):
    """BatchNorm's running statistics as the average over the whole training set, then eval mode:
    a few dozen steps leave the running averages far from what the final weights see."""
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None
    net.train()
    with torch.no_grad():
        whole = torch.nn.functional.interpolate(x, size=(size, size), mode='bilinear', align_corners=False)
        for first in range(0, len(x), 8):
            net((whole[first:first + 8] - MEAN) / STD)
    net.eval()


def train(arch):
    torch.manual_seed(1)
    np.random.seed(1)
    size = SIZES[arch]
    projection = {row['image_id']: row['projection'] for row in csv.DictReader(open(os.path.join(XRAYS, 'metadata.csv')))}
    files = sorted(f for f in os.listdir(os.path.join(XRAYS, 'png')) if f.endswith('.png'))
    x, y = load(files[BENCH_IMAGES:], size, projection)
    bench_x, bench_y = load(files[:BENCH_IMAGES], size, projection)
    net = network(arch)
    optimiser = torch.optim.AdamW(net.parameters(), lr=LEARNING_RATES[arch], weight_decay=1e-4)
    margin = size // 8
    start = time.time()
    for epoch in range(EPOCHS[arch]):
        net.train()
        order = torch.randperm(len(x))
        total = 0.0
        for first in range(0, len(x), 8):
            batch = order[first:first + 8]
            top, left = np.random.randint(0, margin + 1, 2)
            crops = x[batch][:, :, top:top + size, left:left + size]
            if np.random.rand() < 0.5:
                crops = crops.flip(3)
            loss = torch.nn.functional.cross_entropy(net((crops - MEAN) / STD), y[batch], label_smoothing=LABEL_SMOOTHING)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(batch)
        print(f'{arch}: epoch {epoch + 1} loss {total / len(x):.3f} ({time.time() - start:.0f} s)', flush=True)
    recalibrate_batch_norm(net, x, size)
    print(f'{arch}: accuracy on its {len(x)} training X-rays {accuracy(net, x, y, size)}, on the {BENCH_IMAGES} benchmark X-rays {accuracy(net, bench_x, bench_y, size)}')
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, f'trained-cxr-{arch}-{size}.onnx')
    # As users export: eval mode (BatchNorm folded into Conv by the exporter), a dynamic batch.
    torch.onnx.export(net, torch.zeros(1, 3, size, size), path, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=13)
    return path


if __name__ == '__main__':
    torch.set_num_threads(os.cpu_count() or 2)
    for name in sys.argv[1:] or ['resnet18', 'vgg16', 'inception_v3']:
        if name not in SIZES:
            sys.exit(f'architecture must be one of {", ".join(SIZES)}, got {name!r}')
        print(train(name))
