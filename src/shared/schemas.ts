// Runtime schemas for the shared types, so every message that crosses a process or network
// boundary is checked before it is believed.
import { z } from 'zod';
import { BACKEND_CHOICES, MODEL_KINDS, OPTIMIZERS } from './run-types.js';

const finite = z.number().finite();
/** Any number, NaN and ±Infinity included (zod's number() rejects them). */
export const anyNumber = z.custom<number>((v) => typeof v === 'number', { message: 'expected a number' });

export const trainConfigSchema = z.strictObject({
  model: z.enum(MODEL_KINDS),
  batchSize: z
    .number()
    .int()
    .min(1)
    .max(1 << 20),
  epochs: z.number().int().min(1).max(100_000),
  learningRate: finite.gt(0).max(10),
  optimizer: z.enum(OPTIMIZERS),
  momentum: finite.min(0).lt(1),
  warmupSteps: z.number().int().min(0).max(10_000_000),
  backend: z.enum(BACKEND_CHOICES),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
  validationsPerEpoch: z.number().int().min(1).max(20).optional(),
});

export const backendReportSchema = z.strictObject({
  name: z.string(),
  device: z.string(),
  skipped: z.array(z.strictObject({ backend: z.string(), reason: z.string() })),
});

export const stepMetricsSchema = z.strictObject({
  step: z.number().int().min(1),
  epoch: z.number().int().min(1),
  time: finite.min(0),
  // Loss may legitimately be NaN/Infinity when training diverges: the record must keep it.
  loss: anyNumber,
  accuracy: finite,
  samplesPerSecond: finite.min(0),
  stepMs: finite.min(0),
  memoryBytes: finite.min(0),
  learningRate: finite.min(0),
});

export const epochMetricsSchema = z.strictObject({
  epoch: z.number().int().min(1),
  step: z.number().int().min(0),
  time: finite.min(0),
  valLoss: anyNumber,
  valAccuracy: finite,
  trainLoss: anyNumber,
  trainAccuracy: finite,
});
