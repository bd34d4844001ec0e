// Saves and loads models in the standard tfjs layers format (model.json + weights.bin), which
// tf.loadLayersModel in a browser or tfjs-node reads as is. tfjs's own file:// handler lives in
// tfjs-node, which is optional here, so the app writes the two files itself.
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
// Registers the app's batch-norm layer under the stock name, so loaded models train with it.
import './batch-norm-layer.js';

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

export async function saveModelToDir(model: tf.LayersModel, dir: string, extra: Record<string, unknown> = {}): Promise<{ path: string; bytes: number }> {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const weights = artifacts.weightData
          ? Buffer.from(tf.io.concatenateArrayBuffers(artifacts.weightData as ArrayBuffer | ArrayBuffer[]))
          : Buffer.alloc(0);
        const json = {
          modelTopology: artifacts.modelTopology,
          format: 'layers-model',
          generatedBy: artifacts.generatedBy,
          convertedBy: null,
          weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
          userDefinedMetadata: extra,
        };
        writeFileSync(path.join(tmp, WEIGHTS_BIN), weights);
        writeFileSync(path.join(tmp, MODEL_JSON), JSON.stringify(json));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.length } };
      }),
    );
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  const bytes = statSync(path.join(dir, MODEL_JSON)).size + statSync(path.join(dir, WEIGHTS_BIN)).size;
  return { path: dir, bytes };
}

const BYTES_PER_VALUE: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** The bytes the manifest's weights take, or null when a dtype's size is not fixed (strings). */
function manifestBytes(weights: readonly tf.io.WeightsManifestEntry[]): number | null {
  let total = 0;
  for (const w of weights) {
    const size = BYTES_PER_VALUE[w.quantization?.dtype ?? w.dtype];
    if (size === undefined) return null;
    total += w.shape.reduce((a, b) => a * b, 1) * size;
  }
  return total;
}

export async function loadModelFromDir(dir: string): Promise<tf.LayersModel> {
  const json = JSON.parse(readFileSync(path.join(dir, MODEL_JSON), 'utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const group = json.weightsManifest[0];
  if (!group) throw new Error(`${path.join(dir, MODEL_JSON)} has no weights manifest`);
  const buffers = group.paths.map((p) => readFileSync(path.join(dir, path.basename(p))));
  const data = Buffer.concat(buffers);
  // Checked before tfjs builds the model: a load that fails on the weights leaves the model it
  // built (and its initial weights) on the device, out of reach.
  const expected = manifestBytes(group.weights);
  if (expected !== null && expected !== data.length) {
    throw new Error(`${group.paths.join(', ')} in ${dir} hold ${data.length} bytes, but the weights model.json lists take ${expected}`);
  }
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: group.weights,
      weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
    }),
  );
}
