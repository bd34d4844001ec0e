// Which of tfjs-core's published op tests (node_modules/@tensorflow/tfjs-core/dist/ops/*_test.js)
// exercise each kernel the app registers on wasm, and why tfjs-backend-wasm's own test setup
// leaves some of them out. test/unit/kernels/upstream-specs.test.ts runs the files of every
// registered kernel and fails when a registered kernel has no entry here: a kernel added for a
// model family joins the run by naming its spec files (or saying why there are none).

export interface KernelSpecs {
  /** Spec files, relative to tfjs-core's dist folder. */
  files: readonly string[];
  /** Where the kernel is checked instead, for a kernel with no upstream op (files empty). */
  why?: string;
}

const CONV2D = ['ops/conv2d_test.js', 'ops/conv2d_transpose_test.js', 'ops/fused/fused_conv2d_test.js'];
const DEPTHWISE = ['ops/depthwise_conv2d_test.js', 'ops/conv2d_separable_test.js', 'ops/fused/fused_depthwise_conv2d_test.js'];

export const KERNEL_SPECS: Readonly<Record<string, KernelSpecs>> = {
  // conv2d's gradients, conv2dTranspose (which is Conv2DBackpropInput) and its gradient.
  Conv2DBackpropFilter: { files: CONV2D },
  Conv2DBackpropInput: { files: CONV2D },
  DepthwiseConv2dNativeBackpropFilter: { files: DEPTHWISE },
  DepthwiseConv2dNativeBackpropInput: { files: DEPTHWISE },
  BatchMatMul: { files: ['ops/mat_mul_test.js', 'ops/fused/fused_mat_mul_test.js'] },
  MaxPoolGrad: { files: ['ops/max_pool_test.js', 'ops/pool_test.js'] },
  Sum: { files: ['ops/sum_test.js'] },
  FusedBatchNorm: { files: ['ops/batchnorm_test.js'] },
  Identity: { files: ['ops/clone_test.js'] },
  Transpose: { files: ['ops/transpose_test.js'] },
  // The gradients of relu and clipByValue run these (activation-grads.ts).
  ReluGrad: { files: ['ops/relu_test.js'] },
  ClipByValueGrad: { files: ['ops/clip_by_value_test.js'] },
  BatchNormStatistics: { files: [], why: "the app's own kernel (no tfjs op); test/unit/kernels/batch-norm.test.ts checks it against tf.moments" },
  BatchNormTrainingGrad: { files: [], why: "the app's own kernel (no tfjs op); test/unit/kernels/batch-norm.test.ts checks it against tfjs's gradients" },
  AdamUpdate: { files: [], why: "the app's own kernel (no tfjs op); test/unit/kernels/adam.test.ts checks it against tf.train.adam" },
};

/** The spec files for these kernel names, each once, in table order. */
export function specFilesFor(kernels: readonly string[]): string[] {
  const files = new Set<string>();
  for (const k of kernels) for (const f of KERNEL_SPECS[k]?.files ?? []) files.add(f);
  return [...files];
}

interface UpstreamFilter {
  include?: string;
  startsWith?: string;
  /** [substring of the spec's name, upstream's reason]. */
  excludes: ReadonlyArray<readonly [string, string]>;
}

/**
 * tfjs-backend-wasm 4.22's own test setup (tfjs-backend-wasm/src/setup_test.ts, TEST_FILTERS) for
 * the ops above, with the reasons its comments give: the specs it leaves out because stock wasm
 * cannot run them. Used to say why a spec fails on stock wasm.
 */
const UPSTREAM_WASM_FILTERS: readonly UpstreamFilter[] = [
  { include: 'avgPool ', excludes: [] },
  {
    include: 'relu',
    excludes: [
      ['derivative', 'not yet implemented'],
      ['gradient', 'not yet implemented'],
      ['valueAndGradients', 'not yet implemented'],
      ['broadcasted bias', 'not yet implemented'],
      ['fused A x B with 2d bias', 'fused matMul with 2D bias not yet supported'],
    ],
  },
  { include: 'maxPool', excludes: [['ignores NaNs', 'actual != expected']] },
  {
    include: 'matmul ',
    excludes: [
      ['valueAndGradients', 'gradients not defined yet'],
      ['gradient', 'gradients not defined yet'],
      ['zero in its shape', "zero in shapes aren't supported yet"],
      ['matmul followed by mul', 'mul not supported yet'],
      ['upcasts', 'upcasting not supported yet'],
      ['fused A x B with 2d bias', 'fused matMul with 2D bias not yet supported'],
    ],
  },
  {
    include: 'depthwiseConv2D ',
    excludes: [
      ['broadcasted bias', 'broadcasted bias not yet supported'],
      ['gradient', 'gradients not defined yet'],
      ['NCHW', 'XNNPACK does not support channels first'],
    ],
  },
  {
    include: 'conv2d ',
    excludes: [
      ['broadcasted bias', 'broadcasted bias not yet supported'],
      ['gradient', 'gradients not defined yet'],
      ['backProp input x=[2,3,3,1] f=[2,2,1,1] s=1 p=0', 'gradients not defined'],
      ['NCHW', 'XNNPACK does not support channels first'],
      ['relu bias stride 2 x=[1,8,8,16] f=[3,3,16,1] s=[2,2] d=8 p=same', 'actual != expected (tfjs issue 3104)'],
      ['prelu bias stride 2 x=[1,8,8,16] f=[3,3,16,1] s=[2,2] d=8 p=same', 'actual != expected (tfjs issue 3104)'],
    ],
  },
  { include: 'conv2dTranspose ', excludes: [['gradient', 'gradients not defined']] },
  { include: 'batchNorm', excludes: [['gradient', 'gradient is missing']] },
  { include: 'transpose', excludes: [['accepts complex64 input', 'complex numbers not supported']] },
  {
    include: 'clip',
    excludes: [
      ['gradient', 'not yet implemented'],
      ['propagates NaNs', 'clip delegates to XNNPACK, which makes no guarantee about NaNs'],
      ['basic vec4', 'includes NaNs, which XNNPACK clip makes no guarantee about'],
    ],
  },
  { startsWith: 'sum ', excludes: [] },
];

/** Why tfjs-backend-wasm's own test setup leaves this spec out, or null where it does not. */
export function upstreamExcludeReason(specName: string): string | null {
  for (const f of UPSTREAM_WASM_FILTERS) {
    const matches = (f.include !== undefined && specName.includes(f.include)) || (f.startsWith !== undefined && specName.startsWith(f.startsWith));
    if (!matches) continue;
    const hit = f.excludes.find(([part]) => specName.includes(part));
    if (hit !== undefined) return `tfjs-backend-wasm's test setup excludes '${hit[0]}' (${f.include ?? f.startsWith!.trim()}): ${hit[1]}`;
  }
  return null;
}
