// The runs a new run can start from (their trained model is stored), kept current: a run that
// completes while the Train or Tune screen is open becomes a choice without a reload.
import type { Api, RunSummary } from '../api/index.js';
import { startableRuns } from './fine-tuning-form.js';

export class StartableRuns {
  runs = $state.raw<RunSummary[]>([]);
  error = $state<string | null>(null);
  private readonly off: () => void;

  constructor(private readonly api: Api) {
    // A run's model is stored before its final status is sent, so the list read then has it.
    this.off = api.on('run-status', () => void this.refresh());
    void this.refresh();
  }

  async refresh(): Promise<void> {
    try {
      this.runs = startableRuns(await this.api.listRuns());
      this.error = null;
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  dispose(): void {
    this.off();
  }
}
