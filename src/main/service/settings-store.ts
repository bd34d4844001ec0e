// User settings kept as settings.json in the data folder: the default memory budget for
// Auto-tune and the backend preselected for new runs. A damaged file reads as the defaults
// (and is rewritten on the next change) rather than keeping the app from starting.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { BACKEND_CHOICES, type BackendChoice } from '../../shared/run-types.js';
import { DEFAULT_CHECKPOINT_SECONDS } from '../../shared/checkpoint.js';
import { ADAPTIVE_DEFAULTS, ADAPTIVE_LIMITS } from '../../shared/adaptive-batch.js';

const SETTINGS_FILE = 'settings.json';

const storedSettingsSchema = z.object({
  memoryBudgetBytes: z.number().positive().nullable().catch(null),
  backend: z.enum(BACKEND_CHOICES).catch('auto'),
  pythonPath: z.string().min(1).nullable().catch(null).default(null),
  checkpointMinutes: z
    .number()
    .min(1)
    .max(1440)
    .catch(DEFAULT_CHECKPOINT_SECONDS / 60)
    .default(DEFAULT_CHECKPOINT_SECONDS / 60),
  adaptiveEverySteps: z
    .number()
    .int()
    .min(ADAPTIVE_LIMITS.everySteps.min)
    .max(ADAPTIVE_LIMITS.everySteps.max)
    .catch(ADAPTIVE_DEFAULTS.everySteps)
    .default(ADAPTIVE_DEFAULTS.everySteps),
  adaptiveMinSteps: z
    .number()
    .int()
    .min(ADAPTIVE_LIMITS.minStepsBetween.min)
    .max(ADAPTIVE_LIMITS.minStepsBetween.max)
    .catch(ADAPTIVE_DEFAULTS.minStepsBetween)
    .default(ADAPTIVE_DEFAULTS.minStepsBetween),
});

interface UserSettings {
  memoryBudgetBytes: number | null;
  backend: BackendChoice;
  /** The Python for the torch engine; null: discovery's own order (python-discovery.ts). */
  pythonPath: string | null;
  /** A run writes a checkpoint this often (minutes of training) besides each epoch's end and at a stop. */
  checkpointMinutes: number;
  /** An adaptive run measures its noise scale over windows of this many steps, deciding at each window's end. */
  adaptiveEverySteps: number;
  /** An adaptive run changes its batch at most once every this many steps. */
  adaptiveMinSteps: number;
}

const DEFAULT_SETTINGS: UserSettings = {
  memoryBudgetBytes: null,
  backend: 'auto',
  pythonPath: null,
  checkpointMinutes: DEFAULT_CHECKPOINT_SECONDS / 60,
  adaptiveEverySteps: ADAPTIVE_DEFAULTS.everySteps,
  adaptiveMinSteps: ADAPTIVE_DEFAULTS.minStepsBetween,
};

export class SettingsStore {
  private readonly file: string;
  private current: UserSettings;

  constructor(home: string) {
    this.file = path.join(home, SETTINGS_FILE);
    this.current = this.read();
  }

  get(): UserSettings {
    return { ...this.current };
  }

  update(change: Partial<UserSettings>): UserSettings {
    this.current = { ...this.current, ...change };
    const tmp = `${this.file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(this.current, null, 2) + '\n');
    renameSync(tmp, this.file);
    return this.get();
  }

  private read(): UserSettings {
    if (!existsSync(this.file)) return { ...DEFAULT_SETTINGS };
    try {
      const parsed = storedSettingsSchema.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
      return parsed.success ? parsed.data : { ...DEFAULT_SETTINGS };
    } catch {
      return { ...DEFAULT_SETTINGS };
    }
  }
}
