#!/usr/bin/env bash
# The GPU check (issue #6, docs/gpu-check.md), run from an unpacked GPU bundle (make-gpu-bundle.sh)
# on a Linux x86-64 machine: no network and no Node.js needed. It unpacks Node and the app, finds
# the Vulkan driver, prints the WebGPU adapter, measures training throughput of the small and
# large CNNs on the MNIST sample at batch sizes 32…4096 on the webgpu backend, runs Auto-tune
# (Full) on both, the time-to-target benchmark, and the PyTorch peer on the same data and
# batches, and prints the ratios. Then the app's own PyTorch engine (issue 16): a short run and a
# Quick Auto-tune of the small CNN on torch-cuda (torch-cpu without a GPU, or --torch-device), in
# the machine's Python with PyTorch and the bundle's python/ package. Everything lands in the
# results folder ($OUT if set, else ./results): at most 10 files (gpu-check.log, summary.txt,
# adapter.json, throughput.json, tune-small.json, tune-large.json, tuner-bench.json,
# torch-run.json, torch-tune.json, recipe-import.json), and tuner-bench/ with the time-to-target
# benchmark's raw records. Last, the torch run's PyTorch DDP recipe runs under the machine's own
# torchrun (its PyTorch, 2.x on a current GPU machine) and its metrics are imported back.
#
#   ./gpu-check.sh [--quick] [--budget SECONDS] [--batches 32,64,...] [--models small,large]
#                  [--steps N] [--tune-mode full|quick] [--tune-models small,large]
#                  [--no-tune] [--no-peer] [--no-tuner-bench] [--no-torch] [--python python3]
#                  [--peer-device cuda|cpu] [--torch-device cuda|cpu] [--threads N]
#                  [--out DIR] [--work DIR]
#
# --quick: batches 32,256, 6 steps each, tune Quick on the small CNN only, no time-to-target run,
# peer on CPU unless a GPU is seen: a few minutes on lavapipe (Mesa's CPU Vulkan), to try the
# bundle before it travels. --budget: whole run's wall-clock budget in seconds (default 470, just
# under 8 minutes); each step gets at most what is left.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here/results}
work=${GPU_CHECK_WORK:-/tmp/autobatch-gpu-check}
budget=470
batches=32,64,128,256,512,1024,2048,4096
models=small,large
steps=24
tune_mode=full
tune_models=small,large
do_tune=1
do_peer=1
do_tuner_bench=1
do_torch=1
python=python3
peer_device=
torch_device=
threads=$(nproc 2>/dev/null || echo 2)
quick=0

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; batches=32,256; steps=6; tune_mode=quick; tune_models=small; do_tuner_bench=0 ;;
    --budget) budget=$2; shift ;;
    --batches) batches=$2; shift ;;
    --models) models=$2; shift ;;
    --steps) steps=$2; shift ;;
    --tune-mode) tune_mode=$2; shift ;;
    --tune-models) tune_models=$2; shift ;;
    --no-tune) do_tune=0 ;;
    --no-peer) do_peer=0 ;;
    --no-tuner-bench) do_tuner_bench=0 ;;
    --no-torch) do_torch=0 ;;
    --torch-device) torch_device=$2; shift ;;
    --python) python=$2; shift ;;
    --peer-device) peer_device=$2; shift ;;
    --threads) threads=$2; shift ;;
    --out) out=$2; shift ;;
    --work) work=$2; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "gpu-check: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

mkdir -p "$out" "$work"
logf=$out/gpu-check.log
summary=$out/summary.txt
: >"$logf"
: >"$summary"
start=$(date +%s)
# say: a line for the summary, the log and the terminal (stderr: stdout may be the log already).
say() { echo "$*" >>"$summary"; echo "$*" >>"$logf"; echo "$*" >&2; }
left() { echo $((budget - ($(date +%s) - start))); }

# run_step NAME CAP_SECONDS CMD...: stdout to the log (and the terminal), each step bounded by
# min(CAP, what is left of the budget); a failed or timed-out step is reported and the check goes on.
run_step() {
  local name=$1 cap=$2; shift 2
  local t=$(left)
  [ "$t" -gt "$cap" ] && t=$cap
  if [ "$t" -lt 10 ]; then say "[$name] skipped: the ${budget}s budget is spent"; return 1; fi
  echo "=== [$name] (limit ${t}s) $*" >>"$logf"
  local s=$(date +%s)
  timeout --kill-after=10 "$t" "$@" 2>>"$logf"
  local rc=$?
  local d=$(( $(date +%s) - s ))
  if [ $rc -eq 0 ]; then echo "--- [$name] ok in ${d}s" >>"$logf"; else say "[$name] FAILED (exit $rc$([ $rc -eq 124 ] && echo ', timed out') after ${d}s; see gpu-check.log)"; fi
  return $rc
}

# ---- unpack: Node and the app (xz; Python's lzma where xz is missing) -------------------------
unxz_to() { if command -v xz >/dev/null; then xz -dc "$1" >"$2"; else "$python" -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' "$1" "$2"; fi; }
if [ ! -x "$work/node" ] || [ "$here/node.xz" -nt "$work/node" ]; then unxz_to "$here/node.xz" "$work/node.part" && mv "$work/node.part" "$work/node" && chmod +x "$work/node"; fi
rm -rf "$work/app" "$work/home"
unxz_to "$here/app.tar.xz" "$work/app.tar" && tar -xf "$work/app.tar" -C "$work" && rm -f "$work/app.tar"
node=$work/node
app=$work/app
[ -x "$node" ] && [ -f "$app/bin/autobatch.js" ] || { echo "gpu-check: could not unpack node.xz and app.tar.xz into $work" >&2; exit 1; }

# ---- Vulkan: the carried loader, the machine's driver ----------------------------------------
export LD_LIBRARY_PATH=$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$nvidia_icd" ]; then export VK_DRIVER_FILES=$nvidia_icd; fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
export AUTOBATCH_HOME=$work/home
export PYTHONUNBUFFERED=1
has_gpu=0
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then has_gpu=1; fi
[ -z "$peer_device" ] && { [ $has_gpu -eq 1 ] && peer_device=cuda || peer_device=cpu; }
[ -z "$torch_device" ] && { [ $has_gpu -eq 1 ] && torch_device=cuda || torch_device=cpu; }
cli=("$node" "$app/bin/autobatch.js")

say "AutoBatch Studio GPU check — $(date -u +%FT%TZ) on $(hostname), $(nproc) cores, node $("$node" -v)"
say "bundle: $(tr -d '\n ' <"$here/MANIFEST.json" 2>/dev/null | grep -o '"commit":"[^"]*"' || echo 'no MANIFEST.json')"
say "Vulkan ICD: ${VK_DRIVER_FILES:-default search path (/usr/share/vulkan/icd.d)}"
[ $has_gpu -eq 1 ] && say "nvidia-smi: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader)"

# ---- 1. the adapter --------------------------------------------------------------------------
adapter_ok=0
if run_step adapter 60 "$node" "$app/dist/bench/gpu-check/adapter.js" >"$out/adapter.json"; then
  adapter_ok=1
else
  # Diagnose, then retry with glvnd's dispatch libraries (NVIDIA's ICD library may need them).
  icd_lib=$(grep -o '"library_path"[^,}]*' "${VK_DRIVER_FILES:-/dev/null}" 2>/dev/null | sed 's/.*: *"\(.*\)"/\1/')
  { echo "no adapter; ICD ${VK_DRIVER_FILES:-(default search)} library ${icd_lib:-?}"; ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>&1
    [ -n "$icd_lib" ] && (ldd "$icd_lib" 2>&1 || ldd "$(ldconfig -p | grep -m1 "$icd_lib" | sed 's/.*=> //')" 2>&1); } >>"$logf"
  export LD_LIBRARY_PATH=$here/lib/glvnd:$LD_LIBRARY_PATH
  VK_LOADER_DEBUG=error,warn run_step adapter-retry 60 "$node" "$app/dist/bench/gpu-check/adapter.js" >"$out/adapter.json" && adapter_ok=1
fi
if [ $adapter_ok -eq 1 ]; then
  say "WebGPU adapter: $(cat "$out/adapter.json")"
else
  say "WebGPU adapter: none ($(cat "$out/adapter.json" 2>/dev/null)); the webgpu steps below will fail (see gpu-check.log)"
fi

# ---- 2. the MNIST sample -----------------------------------------------------------------------
run_step import 60 "${cli[@]}" datasets import "$app/data/mnist-idx" --name mnist --json >>"$logf"

# ---- 3. throughput per batch size, with the peer on the same data and batches -----------------
peer=$here/peer_torch.py
[ $do_peer -eq 1 ] || peer=$work/no-peer.py
if [ $do_peer -eq 1 ] && ! "$python" -c 'import torch' 2>/dev/null; then say "peer: $python has no torch; the peer is left out"; peer=$work/no-peer.py; fi
peer_epochs=1
[ "$peer_device" = cuda ] && peer_epochs=3
# Throughput is the main measurement: over half of what is left (it saves its JSON after each run).
tp_cap=$(( $(left) * 55 / 100 )); [ $quick -eq 1 ] && tp_cap=$(left)
run_step throughput "$tp_cap" "$node" "$app/dist/bench/throughput.js" --backends webgpu --models "$models" --batches "$batches" \
  --samples 8000 --source "$app/data/mnist-idx" --webgpu-steps "$steps" --peer "$peer" --python "$python" \
  --device "$peer_device" --peer-epochs "$peer_epochs" --threads "$threads" --json "$out/throughput.json" | tee -a "$summary" "$logf"

# ---- 4. Auto-tune (Full) on webgpu -------------------------------------------------------------
if [ $do_tune -eq 1 ]; then
  n=$(echo "$tune_models" | tr ',' ' ' | wc -w)
  for m in $(echo "$tune_models" | tr ',' ' '); do
    cap=$(( $(left) * 100 / (100 * n + (do_tuner_bench * 60) + (do_torch * 60)) )); [ $cap -lt 30 ] && cap=30
    if run_step "tune $m" "$cap" "${cli[@]}" tune --dataset mnist --model "$m" --mode "$tune_mode" --backend webgpu --json >"$out/tune-$m.json"; then
      "$node" -e '
        const t = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        // The TuningDetail of the API (autobatch tune --json): its report holds the recommendation.
        const rec = t.report?.recommendation ?? {}; const trials = t.trials ?? [];
        console.log(`tune ${process.argv[2]} (${process.argv[3]}) on ${t.device}: batch ${rec.batchSize}, lr ${Number(rec.learningRate).toPrecision(3)}, ceiling ${rec.memoryCeiling} (budget ${((t.budgetBytes ?? 0) / 2 ** 30).toFixed(1)} GiB), ${Math.round(rec.expectedSamplesPerSecond)} samples/s, noise scale ${rec.noiseScale == null ? "-" : Math.round(rec.noiseScale)}, search ${Number(t.searchSeconds).toFixed(1)} s, ${trials.length} trials, ${trials.filter((x) => x.status === "oom").length} oom`);
      ' "$out/tune-$m.json" "$m" "$tune_mode" 2>>"$logf" | tee -a "$summary" "$logf"
    fi
    n=$((n - 1))
  done
fi

# ---- 5. time to target against the baselines (bench/tuner.ts) ----------------------------------
if [ $do_tuner_bench -eq 1 ]; then
  tb_cap=$(left); [ $do_torch -eq 1 ] && tb_cap=$(( $(left) * 60 / 100 ))
  # The oracle grid, the baselines and Auto-tune on fresh seeds; its raw records (one JSON line
  # each, kept as they end) land in $out/tuner-bench/, so a run cut short by the cap still counts.
  run_step tuner-bench "$tb_cap" "$node" "$app/dist/bench/tuner.js" --backend webgpu --model small --source "$app/data/mnist-idx" \
    --max-epochs 6 --out "$out/tuner-bench" --json "$out/tuner-bench.json" | tee -a "$summary" "$logf"
fi

# ---- 6. the app's PyTorch engine: a run and a Quick Auto-tune on torch-cuda (or torch-cpu) ------
# ---- 7. the run's PyTorch DDP recipe (issue 21) on this machine's PyTorch: torchrun with one ----
#         worker from the trained weights, 30 steps, and its metrics imported back ---------------
if [ $do_torch -eq 1 ]; then
  rung=torch-$torch_device
  if ! "$python" -c 'import torch' 2>/dev/null; then
    say "torch engine: $python has no torch; the $rung steps are left out"
  else
    if run_step "train $rung" 120 "${cli[@]}" train --dataset mnist --model small --batch-size 64 --epochs 1 --lr 0.001 --backend "$rung" \
      --python "$python" --max-steps 60 --json >"$out/torch-run.json"; then
      "$node" -e '
        const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        console.log(`train ${process.argv[2]} on ${r.device}: ${r.status}, ${r.steps ?? "?"} steps in ${Number(r.trainSeconds).toFixed(1)} s, val accuracy ${r.bestValAccuracy == null ? "-" : Number(r.bestValAccuracy).toFixed(3)}`);
      ' "$out/torch-run.json" "$rung" 2>>"$logf" | tee -a "$summary" "$logf"
    fi
    if run_step "tune $rung" "$(left)" "${cli[@]}" tune --dataset mnist --model small --mode quick --backend "$rung" --python "$python" --json >"$out/torch-tune.json"; then
      "$node" -e '
        const t = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        const rec = t.report?.recommendation ?? {}; const trials = t.trials ?? [];
        const source = trials.find((x) => x.kind === "memory" && x.result?.memorySource)?.result.memorySource ?? "-";
        console.log(`tune small (quick) on ${t.rung} ${t.device}: batch ${rec.batchSize}, lr ${Number(rec.learningRate).toPrecision(3)}, ceiling ${rec.memoryCeiling} (budget ${((t.budgetBytes ?? 0) / 2 ** 30).toFixed(1)} GiB, memory ${source}), ${Math.round(rec.expectedSamplesPerSecond)} samples/s, search ${Number(t.searchSeconds).toFixed(1)} s, ${trials.length} trials, ${trials.filter((x) => x.status === "oom").length} oom`);
      ' "$out/torch-tune.json" 2>>"$logf" | tee -a "$summary" "$logf"
    fi
    run_id=$("$node" -e 'try { console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).id ?? "") } catch { console.log("") }' "$out/torch-run.json" 2>/dev/null)
    if [ -n "$run_id" ] && run_step "recipe export" 60 "${cli[@]}" recipes export "run:$run_id" --workers 1 --with-weights --out "$work/recipe" --json >>"$logf"; then
      ddp_device=${torch_device:-cpu}
      # --redirects/--tee 1: torchrun of PyTorch 1.13 under Python 3.11 fails to start without them (harmless on 2.x).
      if run_step "recipe torchrun" 120 bash -c "cd '$work/recipe' && '$python' -m torch.distributed.run --redirects 1 --tee 1 --nnodes 1 --rdzv_backend c10d --rdzv_endpoint 127.0.0.1:0 --nproc_per_node 1 train_ddp.py --out '$work/recipe-out' --max-steps 30 --device '$ddp_device'"; then
        run_step "recipe import" 60 "${cli[@]}" runs import "$work/recipe-out" --json >"$out/recipe-import.json"
        "$node" -e '
          const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
          console.log(`recipe (PyTorch DDP) from run ${process.argv[2]}: ${r.status}, imported as run ${r.id} on ${r.device}`);
        ' "$out/recipe-import.json" "$run_id" 2>>"$logf" | tee -a "$summary" "$logf"
      fi
    fi
  fi
fi

say "done in $(( $(date +%s) - start ))s; results in $out"
