// The tfjs engine's part of a checkpoint (src/shared/checkpoint.ts): the model's weights (every
// weight, moving statistics included, in model.weights order) and the optimizer's state, as raw
// little-endian values in tensors.bin described by tensors.json. Variables are matched by
// position, not name: tfjs names them from a per-process counter, so a fresh trainer building the
// same model may name them differently.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { describeSchemaError } from '../../../shared/schema-errors.js';
import type { NetOptimizer, OptimizerSnapshot } from '../models/optimizer.js';
import { CheckpointError } from './checkpoint-folder.js';

export const TENSORS_JSON = 'tensors.json';
export const TENSORS_BIN = 'tensors.bin';

const entrySchema = z.strictObject({
  shape: z.array(z.number().int().min(0)),
  dtype: z.enum(['float32', 'int32']),
  offset: z.number().int().min(0).multipleOf(4),
  bytes: z.number().int().min(0),
});
type Entry = z.infer<typeof entrySchema>;

const tensorsSchema = z.strictObject({
  model: z.array(entrySchema),
  optimizer: z.array(
    z.strictObject({
      iterations: z.number().int().min(0),
      accBeta1: z.number().optional(),
      accBeta2: z.number().optional(),
      slots: z.array(z.array(entrySchema)),
    }),
  ),
});

/** The files a tfjs checkpoint adds to its folder. */
export async function tfjsCheckpointFiles(model: tf.LayersModel, optimizer: NetOptimizer): Promise<Record<string, Uint8Array>> {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const add = async (t: tf.Tensor): Promise<Entry> => {
    if (t.dtype !== 'float32' && t.dtype !== 'int32') throw new Error(`a checkpoint cannot hold a ${t.dtype} tensor`);
    const data = await t.data();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    const entry: Entry = { shape: t.shape.slice(), dtype: t.dtype, offset, bytes: bytes.length };
    chunks.push(bytes);
    offset += bytes.length;
    return entry;
  };
  const weights = model.getWeights();
  const modelEntries: Entry[] = [];
  for (const w of weights) modelEntries.push(await add(w));
  const snapshot = optimizer.snapshot();
  const optimizerEntries: z.infer<typeof tensorsSchema>['optimizer'] = [];
  for (const part of snapshot.parts) {
    const slots: Entry[][] = [];
    for (const s of part.slots) {
      const row: Entry[] = [];
      for (const t of s) row.push(await add(t));
      slots.push(row);
    }
    optimizerEntries.push({
      iterations: part.iterations,
      ...(part.accBeta1 !== undefined ? { accBeta1: part.accBeta1, accBeta2: part.accBeta2 } : {}),
      slots,
    });
  }
  const bin = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    bin.set(c, at);
    at += c.length;
  }
  const json = JSON.stringify({ model: modelEntries, optimizer: optimizerEntries } satisfies z.infer<typeof tensorsSchema>);
  return { [TENSORS_JSON]: new TextEncoder().encode(json), [TENSORS_BIN]: bin };
}

/** Puts a checkpoint's weights into the model and its state into the optimizer; throws CheckpointError naming the file. */
export function loadTfjsCheckpoint(dir: string, model: tf.LayersModel, optimizer: NetOptimizer): void {
  const jsonFile = path.join(dir, TENSORS_JSON);
  const binFile = path.join(dir, TENSORS_BIN);
  let raw: unknown;
  let bin: Buffer;
  try {
    raw = JSON.parse(readFileSync(jsonFile, 'utf8'));
    bin = readFileSync(binFile);
  } catch (err) {
    throw new CheckpointError(`cannot read the checkpoint's tensors in ${dir}: ${(err as Error).message} (was it written by the torch engine?)`);
  }
  const parsed = tensorsSchema.safeParse(raw);
  if (!parsed.success) throw new CheckpointError(`${jsonFile} is not a checkpoint this app can read: ${describeSchemaError(parsed.error)}`);
  const made: tf.Tensor[] = [];
  const tensor = (e: Entry): tf.Tensor => {
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (e.bytes !== n * 4 || e.offset + e.bytes > bin.length) throw new CheckpointError(`${binFile} is shorter than ${jsonFile} says (damaged checkpoint)`);
    const copy = bin.buffer.slice(bin.byteOffset + e.offset, bin.byteOffset + e.offset + e.bytes);
    const t = tf.tensor(e.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy), e.shape, e.dtype);
    made.push(t);
    return t;
  };
  try {
    const weights = model.weights;
    const entries = parsed.data.model;
    if (entries.length !== weights.length)
      throw new CheckpointError(`the checkpoint in ${dir} holds ${entries.length} weights, the run's model ${weights.length}: it is of another model`);
    entries.forEach((e, i) => {
      if (!tf.util.arraysEqual(e.shape, weights[i]!.shape as number[]))
        throw new CheckpointError(
          `the checkpoint in ${dir} does not fit the run's model (weight ${weights[i]!.name}: [${e.shape}] against [${weights[i]!.shape}])`,
        );
    });
    model.setWeights(entries.map(tensor));
    const snapshot: OptimizerSnapshot = {
      parts: parsed.data.optimizer.map((p) => ({
        iterations: p.iterations,
        ...(p.accBeta1 !== undefined ? { accBeta1: p.accBeta1, accBeta2: p.accBeta2 ?? 0 } : {}),
        slots: p.slots.map((row) => row.map(tensor)),
      })),
    };
    try {
      optimizer.restore(snapshot);
    } catch (err) {
      throw new CheckpointError(`the checkpoint in ${dir} does not fit the run's optimizer: ${(err as Error).message}`);
    }
  } finally {
    // Variables and weights made from them hold their own references.
    tf.dispose(made);
  }
}
