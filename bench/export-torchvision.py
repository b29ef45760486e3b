"""
torchvision's own architectures as ONNX files, for the speed benchmarks (random weights: speed does
not depend on them). Needs Debian's python3-torch and python3-torchvision; not a dependency of the
project or its tests.

    /usr/bin/python3 bench/export-torchvision.py            # resnet18, inception_v3 into bench/models/
    /usr/bin/python3 bench/export-torchvision.py vgg16
"""
import os
import sys

import torch
import torchvision

SIZES = {'resnet18': 224, 'vgg16': 224, 'inception_v3': 299, 'squeezenet1_1': 224, 'mobilenet_v2': 224}
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'models')


def export(name: str) -> str:
    torch.manual_seed(1)
    kwargs = {'aux_logits': False, 'init_weights': True} if name == 'inception_v3' else {}
    model = getattr(torchvision.models, name)(weights=None, **kwargs).eval()
    size = SIZES[name]
    path = os.path.join(OUT, f'torchvision-{name}-{size}.onnx')
    # As users export: eval mode (BatchNorm folded into Conv by the exporter), a dynamic batch.
    torch.onnx.export(model, torch.randn(1, 3, size, size), path, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=13)
    return path


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    for name in sys.argv[1:] or ['resnet18', 'inception_v3']:
        print(export(name))
