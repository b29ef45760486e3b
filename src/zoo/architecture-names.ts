/** The zoo's architectures by name, and the input size of each. */
export type ZooArchitecture = 'vgg16' | 'resnet18' | 'inception_v3' | 'squeezenet' | 'mobilenet_v2';

export const ZOO_ARCHITECTURES: readonly ZooArchitecture[] = [
  'vgg16',
  'resnet18',
  'inception_v3',
  'squeezenet',
  'mobilenet_v2',
];

/** The input size each architecture was designed for (torchvision's). */
export const ZOO_DEFAULT_INPUT: Readonly<Record<ZooArchitecture, number>> = {
  vgg16: 224,
  resnet18: 224,
  inception_v3: 299,
  squeezenet: 224,
  mobilenet_v2: 224,
};
