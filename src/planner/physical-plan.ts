import type { InputSpec } from '../image/input-spec.js';
import type { RenderScale } from '../parser/ast.js';
import type { CellOperatorSpec, OperatorSpec } from '../operators/create-operator.js';
import type { CandidateEstimate } from './candidates/candidate.js';

/**
 * Physical plan nodes: frozen, kind-tagged, each describing itself as ordered key/value pairs
 * (PARAMS below); EXPLAIN is a renderer that walks them. Data flows from the leaf (ImageScan) up
 * to the root (Insert).
 */
export interface ImageScanNode {
  readonly kind: 'ImageScan';
  readonly images: number;
  readonly input: InputSpec;
}

export interface NaiveOcclusionNode {
  readonly kind: 'NaiveOcclusion';
  readonly spec: Extract<CellOperatorSpec, { kind: 'naive' }>;
  readonly estimate: CandidateEstimate;
  readonly child: ImageScanNode;
}

export interface IncrementalOcclusionNode {
  readonly kind: 'IncrementalOcclusion';
  readonly spec: Extract<CellOperatorSpec, { kind: 'incremental' }>;
  readonly segments: number;
  readonly layersInFull: number;
  readonly estimate: CandidateEstimate;
  readonly child: ImageScanNode;
}

export type CellOcclusionNode = NaiveOcclusionNode | IncrementalOcclusionNode;

export interface DrilldownNode {
  readonly kind: 'Drilldown';
  readonly spec: Extract<OperatorSpec, { kind: 'drilldown' }>;
  readonly coarseStride: { readonly x: number; readonly y: number };
  readonly coarseCells: number;
  /** Stage 2's budget: the most cells it runs. */
  readonly fineCells: number;
  readonly estimate: CandidateEstimate;
  readonly child: CellOcclusionNode;
}

export type OcclusionNode = CellOcclusionNode | DrilldownNode;

/** Exact heatmaps for a share of the images, so the SSIM the approximation reached is measured. */
export interface VerifyNode {
  readonly kind: 'Verify';
  readonly percent: number;
  readonly images: number;
  readonly child: OcclusionNode;
}

export interface RenderNode {
  readonly kind: 'Render';
  readonly dir: string;
  readonly scale: RenderScale;
  readonly child: VerifyNode | OcclusionNode;
}

export interface InsertNode {
  readonly kind: 'Insert';
  readonly table: string;
  readonly queryId: string;
  readonly child: RenderNode | VerifyNode | OcclusionNode;
}

export type PhysicalNode = InsertNode | RenderNode | VerifyNode | OcclusionNode | ImageScanNode;
export type PhysicalKind = PhysicalNode['kind'];
type NodeOf<K extends PhysicalKind> = Extract<PhysicalNode, { kind: K }>;

export function childOf(node: PhysicalNode): PhysicalNode | undefined {
  return node.kind === 'ImageScan' ? undefined : node.child;
}

function seconds(value: number): string {
  return value >= 100 ? `${value.toFixed(0)} s` : value >= 1 ? `${value.toFixed(2)} s` : `${(value * 1000).toFixed(1)} ms`;
}

export { seconds as formatSeconds };

/** What EXPLAIN calls each node. */
export const NODE_NAMES: Readonly<Record<PhysicalKind, string>> = Object.freeze({
  Insert: 'InsertExec',
  Render: 'RenderExec',
  Verify: 'VerifyExec',
  Drilldown: 'DrilldownExec',
  NaiveOcclusion: 'NaiveOcclusionExec',
  IncrementalOcclusion: 'IncrementalOcclusionExec',
  ImageScan: 'ImageScanExec',
});

type Params = readonly (readonly [string, string])[];

const estimateParams = (estimate: CandidateEstimate): Params => [
  ['est/image', seconds(estimate.secondsPerImage)],
  ...(estimate.basis === 'measured at tuning' ? [['from', 'tuning'] as const] : []),
];

/** Each node's parameters, in the order EXPLAIN prints them. */
export const PARAMS: { readonly [K in PhysicalKind]: (node: NodeOf<K>) => Params } = Object.freeze({
  Insert: (node) => [['table', node.table], ['query_id', node.queryId], ['commit', 'per image'], ['skip', 'images already done']],
  Render: (node) => [['dir', node.dir], ['file', '<image_id>.png'], ['scale', node.scale]],
  Verify: (node) => [['share', `${node.percent}%`], ['images', String(node.images)], ['against', 'exact incremental']],
  Drilldown: (node) => [
    ['coarse stride', `${node.coarseStride.x}x${node.coarseStride.y}`],
    ['fraction', String(node.spec.shape.fraction)],
    ['stage 1 cells', String(node.coarseCells)],
    ['stage 2 cells', `≤ ${node.fineCells}`],
    ...estimateParams(node.estimate),
  ],
  NaiveOcclusion: (node) => [['batch', 'auto'], ...(node.estimate.candidate === 'naive' ? estimateParams(node.estimate) : [])],
  IncrementalOcclusion: (node) => [
    ['threshold', String(node.spec.threshold)],
    ['segments', String(node.segments)],
    ['layers in full', String(node.layersInFull)],
    ['batch', 'auto'],
    ...(node.estimate.candidate !== 'drilldown' ? estimateParams(node.estimate) : []),
  ],
  ImageScan: (node) => [
    ['images', String(node.images)],
    ['decode', 'sharp'],
    ['resize', `${node.input.width}x${node.input.height} ${node.input.resize}`],
    ['channels', node.input.channels],
    ['scale', node.input.scale === 255 ? '0-255' : '0-1'],
    ['mean', node.input.mean.map((v) => +v.toFixed(3)).join(',')],
    ['std', node.input.std.map((v) => +v.toFixed(3)).join(',')],
  ],
});

export function paramsOf(node: PhysicalNode): Params {
  return (PARAMS[node.kind] as (n: PhysicalNode) => Params)(node);
}

/** The occlusion subtree's root: what the executor turns into an operator. */
export function occlusionNodeOf(root: PhysicalNode): OcclusionNode {
  for (let node: PhysicalNode | undefined = root; node; node = childOf(node)) {
    if (node.kind === 'Drilldown' || node.kind === 'NaiveOcclusion' || node.kind === 'IncrementalOcclusion') return node;
  }
  throw new Error('physical plan without an occlusion operator');
}
