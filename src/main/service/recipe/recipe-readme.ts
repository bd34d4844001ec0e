// The README.md of an exported recipe: what it trains, how to start it with torchrun on one node
// and on several (and under Slurm), and what each file is. Pure text from recipe.json's contents.
import type { RecipeFile } from '../../../shared/recipe-file.js';

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toPrecision(4);
}

function settingsTable(r: RecipeFile): string[] {
  const s = r.settings;
  const accumulated = s.microBatch < s.perWorkerBatch ? ` (${s.perWorkerBatch / s.microBatch} passes of ${s.microBatch}, gradients accumulated)` : '';
  return [
    '| setting | value |',
    '|---|---|',
    `| model | ${s.model} (${s.parameters} trainable parameters) |`,
    `| workers | ${s.workers} |`,
    `| per-worker batch | ${s.perWorkerBatch}${accumulated} |`,
    `| global batch | ${s.globalBatch} |`,
    `| optimizer | ${s.optimizer === 'adam' ? 'Adam (ε 1e-7, as the app)' : `SGD, momentum ${r.training.momentum}`} |`,
    `| learning rate | ${fmt(s.learningRate)}, reached by a linear warm-up over ${s.warmupSteps} steps |`,
    `| epochs | ${s.epochs} (${r.training.stepsPerEpoch} steps each) |`,
    `| augmentation | ${r.training.augment} |`,
    `| seed | ${s.seed} |`,
  ];
}

function planRows(r: RecipeFile): string[] {
  return [
    '| workers | per-worker batch | global batch | learning rate | warm-up steps | predicted speed-up |',
    '|---|---|---|---|---|---|',
    ...r.plan.rows.map(
      (row) => `| ${row.workers} | ${row.perWorkerBatch} | ${row.globalBatch} | ${fmt(row.learningRate)} | ${row.warmupSteps} | ${row.speedup.toFixed(2)}× |`,
    ),
  ];
}

function commands(k: number): string[] {
  // Two machines sharing the workers (one machine only holds them all for k = 1).
  const nodes = k >= 2 ? 2 : 1;
  const perNode = k / nodes;
  return [
    '## Run it on one machine',
    '',
    'Python 3.8+ with PyTorch 1.13 or later (nothing else). From this folder:',
    '',
    '```sh',
    `torchrun --standalone --nproc_per_node ${k} train_ddp.py --out out`,
    '```',
    '',
    `On GPUs each process takes one (\`--nproc_per_node\` at most the number of GPUs; NCCL). Without GPUs it trains on the CPU with gloo (\`--device cpu\`); give each process a share of the cores, e.g. \`OMP_NUM_THREADS=4\`. Where \`torchrun\` is not on PATH, \`python -m torch.distributed.run\` is the same program. \`python train_ddp.py\` alone trains as one worker. (PyTorch 1.13 under Python 3.11 has a torchrun that stops at start with \`AttributeError: 'NoneType' object has no attribute 'get'\`: add \`--redirects 1 --tee 1\` after \`torchrun\`. PyTorch 1.x's \`--standalone\` listens on port 29400 and waits when something else holds it: \`--nnodes 1 --rdzv_backend c10d --rdzv_endpoint localhost:0\` instead lets the system choose a port.)`,
    '',
    '## Run it on several machines',
    '',
    ...(k === 1 ? ['Planned for one worker, it needs no second machine; the lines below are for a recipe exported with `--workers 2` or more.', ''] : []),
    `Copy this folder to every machine (the same path is easiest). With ${nodes} machine${nodes > 1 ? 's' : ''} of ${perNode} process${perNode > 1 ? 'es' : ''} each (${nodes} × ${perNode} = ${k} workers), start on every machine, with the first machine's address as HOST:`,
    '',
    '```sh',
    `torchrun --nnodes ${nodes} --nproc_per_node ${perNode} --rdzv_backend c10d --rdzv_endpoint HOST:29500 --rdzv_id recipe train_ddp.py --out out`,
    '```',
    '',
    'or, with fixed ranks, on machine R (0 on HOST):',
    '',
    '```sh',
    `torchrun --nnodes ${nodes} --nproc_per_node ${perNode} --node_rank R --master_addr HOST --master_port 29500 train_ddp.py --out out`,
    '```',
    '',
    'Under Slurm, one torchrun per node:',
    '',
    '```sh',
    `srun --nodes ${nodes} --ntasks-per-node 1 torchrun --nnodes ${nodes} --nproc_per_node ${perNode} --rdzv_backend c10d \\`,
    '  --rdzv_endpoint "$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)":29500 --rdzv_id "$SLURM_JOB_ID" train_ddp.py --out out',
    '```',
    '',
    `The recipe is planned for ${k} workers in all. Started with another number that the plan has a row for (below), the script takes that row's batch, rate and warm-up; any other number is refused.`,
  ];
}

export function recipeReadme(r: RecipeFile): string {
  const s = r.settings;
  const from = r.model.weights
    ? `continues from the trained weights of run ${r.model.trainedByRun}`
    : 'starts from the initial weights the app draws from the seed';
  return [
    `# ${s.model} on ${r.dataset.name}: a PyTorch DDP recipe for ${s.workers} worker${s.workers > 1 ? 's' : ''}`,
    '',
    `Exported by AutoBatch Studio ${r.origin.appVersion} from ${r.origin.kind} ${r.origin.id} on ${r.origin.exportedAt}. It trains the app's ${s.model} — the same architecture, built by the app's own PyTorch model code — on the same data and split, and ${from}.`,
    '',
    ...settingsTable(r),
    '',
    ...commands(s.workers),
    '',
    '## Options',
    '',
    '- `--out DIR`: where `metrics.jsonl` is written (default `out`).',
    "- `--max-steps N`: stop after N optimizer steps (a short try); `--epochs N`: train N epochs instead of the plan's; `--seed N`: another order of the samples (and augmentation draws) from the same initial weights.",
    '- `--device cpu|cuda`, `--backend gloo|nccl`: override the defaults (cuda and nccl when a GPU is there).',
    '- `--record-shards`: each rank writes the sample indices it trained on to `OUT/shards-rank<R>.jsonl`.',
    '',
    '## What it writes',
    '',
    'Rank 0 writes `OUT/metrics.jsonl`, one JSON object per line: a `start` line (the settings and the world it ran in), a `step` line per optimizer step (the loss and accuracy averaged over all workers, the rate, samples per second), an `epoch` line per epoch (training and validation loss and accuracy; also where `--max-steps` stopped it) and an `end` line. Non-finite numbers are written as `{"$f": "NaN"}`. `autobatch runs import OUT/metrics.jsonl` stores it in the app as a run, beside the app\'s own.',
    '',
    '## The plan',
    '',
    ...planRows(r),
    '',
    ...r.plan.assumptions.map((a) => `- ${a}`),
    '',
    "Each worker trains on its own shard of every epoch (torch's DistributedSampler, shuffled with the seed; the last few samples are repeated so that every shard has the same size). Each step every worker computes its per-worker batch, the gradients are averaged over the workers, and the rate follows the linear warm-up. Validation runs on every worker's share of the validation split at each epoch's end, summed over the workers.",
    '',
    '## Files',
    '',
    '- `train_ddp.py`: the training script (standard library and torch only).',
    '- `recipe.json`: the settings above, the dataset, where it came from and the whole plan.',
    '- `model/model.json`, `model/weights.bin`: the network in the tfjs layers format, as the app saves it; the script builds it in PyTorch with the code below.',
    ...(r.model.weights
      ? ["- `model/weights.pt`: the trained weights converted to PyTorch's layout (a state_dict of the model below); training continues from them."]
      : []),
    "- `autobatch_trainer/`: the app's PyTorch engine code, unchanged: `keras_model.py` (the network), `convert.py` (tfjs ↔ PyTorch weight layouts), `model_files.py`, `dataset.py` (reads `data/`, normalises as the app does), `augment.py` and `rng.py` (the app's augmentation).",
    '- `convert_weights.py`: converts a model the app saved (model.json + weights.bin) to a PyTorch state_dict: `python convert_weights.py MODEL_DIR OUT.pt`.',
    `- \`data/\`: the dataset (${r.dataset.trainCount} training and ${r.dataset.validationCount} validation samples, ${r.dataset.classes.length} classes). \`meta.json\` gives the input shape, the classes, the feature type and the normalisation; \`x.bin\` holds the samples (count × shape values, uint8 or float32, little-endian, images as height × width × channels), \`y.bin\` the labels (uint16), \`train.idx\` and \`val.idx\` the split (uint32 sample indices).`,
    '',
  ].join('\n');
}
