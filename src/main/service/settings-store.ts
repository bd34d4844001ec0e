// User settings kept as settings.json in the data folder: the default memory budget for
// Auto-tune and the backend preselected for new runs. A damaged file reads as the defaults
// (and is rewritten on the next change) rather than keeping the app from starting.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { BACKEND_CHOICES, type BackendChoice } from '../../shared/run-types.js';
import { DEFAULT_CHECKPOINT_SECONDS } from '../../shared/checkpoint.js';

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
});

interface UserSettings {
  memoryBudgetBytes: number | null;
  backend: BackendChoice;
  /** The Python for the torch engine; null: discovery's own order (python-discovery.ts). */
  pythonPath: string | null;
  /** A run writes a checkpoint this often (minutes of training) besides each epoch's end and at a stop. */
  checkpointMinutes: number;
}

const DEFAULT_SETTINGS: UserSettings = { memoryBudgetBytes: null, backend: 'auto', pythonPath: null, checkpointMinutes: DEFAULT_CHECKPOINT_SECONDS / 60 };

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
