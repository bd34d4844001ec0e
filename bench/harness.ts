// What every benchmark shares: a service on a throw-away data folder, progress on stderr (the
// table goes to stdout), and clean-up however the run ends.
import os from 'node:os';
import path from 'node:path';
import { rmSync } from 'node:fs';
import { AutoBatchService } from '../src/main/service/service.js';

export function benchService(name: string): { service: AutoBatchService; log(text: string): void; run(main: () => Promise<void>): void } {
  const home = path.join(os.tmpdir(), `autobatch-bench-${name}-${process.pid}`);
  // warmTrainer: as in the app, a started trainer process waits for the next job.
  const service = new AutoBatchService({ home, warmTrainer: true });
  return {
    service,
    log: (text) => process.stderr.write(text + '\n'),
    run(main) {
      main()
        .catch((err) => {
          process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
          process.exitCode = 1;
        })
        .finally(async () => {
          await service.close();
          rmSync(home, { recursive: true, force: true });
        });
    },
  };
}
