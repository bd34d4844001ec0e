// The one line the torch prep process (torch-prep-entry.ts) prints, shared with the host that
// reads it (src/main/service/python-trainer.ts): the entry itself cannot be imported (it runs).
import type { TrainJob } from '../../../shared/trainer-protocol.js';

export const TORCH_PREP_MARKER = 'AUTOBATCH_TORCH_PREP ';

export type TorchPrepOutcome =
  { ok: true; prepared: NonNullable<TrainJob['prepared']> } | { ok: false; cause: 'bad-config' | 'dataset' | 'error'; message: string };
