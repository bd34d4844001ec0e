import { Command } from 'commander';
import { PYTHON_FLAG_HELP, type CliContext } from '../main.js';
import { printJson, printLine } from '../output.js';
import { wholeNumber } from '../parse-flags.js';
import { DEFAULT_RENDERER_DIR, startAppServer } from '../../server/app-server.js';
import { rendererBuilt } from '../../server/static-files.js';

const DEFAULT_PORT = 8765;

/** `autobatch serve`: the app in a browser, on this machine only unless --host says otherwise. */
export function registerServeCommand(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('serve the app to a browser: prints one URL (with its access token) to open')
    .option('--port <n>', `port (0 picks a free one; default ${DEFAULT_PORT})`, wholeNumber(0, 65535), DEFAULT_PORT)
    .option('--host <addr>', 'address to listen on (default 127.0.0.1: this machine only)', '127.0.0.1')
    .option('--python <path>', PYTHON_FLAG_HELP)
    .option('--json', 'print the URL as one JSON document')
    .action(async (opts, cmd: Command) => {
      // The browser is the client here: its desktop-only calls are refused as the browser's.
      const { dispatcher } = ctx.core({ client: 'browser', warmTrainer: true });
      const server = await startAppServer({ dispatcher, port: opts.port, host: opts.host });
      if (ctx.json(cmd)) printJson({ url: server.url, port: server.port, host: server.host });
      else printLine(`AutoBatch Studio: ${server.url}`);
      // stderr, so stdout stays the one line a script can read.
      if (!rendererBuilt(DEFAULT_RENDERER_DIR))
        process.stderr.write(
          `autobatch: the interface is not built (${DEFAULT_RENDERER_DIR} has no index.html); the API works, the page says how to build it\n`,
        );
      // Runs until interrupted; then stops accepting, and the CLI closes the core, which stops
      // running jobs (they are stored as stopped/interrupted, every step reported kept).
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await server.close();
    });
}
