// The verdict on a silent process from its CPU readings (pure), and the watchdog that takes the
// readings and ends the process, against a scripted CPU clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BUSY_LIMIT_FACTOR,
  describeHang,
  judgeSilence,
  SilenceWatchdog,
  type CpuSample,
  type SilenceFacts,
} from '../../../src/main/service/silence-watchdog.js';

const TIMEOUT = 120_000;

/** Readings every `everyMs` from t=0 to `untilMs`, the CPU clock advancing `share` seconds per second. */
function readings(untilMs: number, everyMs: number, share: (at: number) => number): CpuSample[] {
  const out: CpuSample[] = [];
  let cpu = 3; // what start-up used
  for (let at = 0; at <= untilMs; at += everyMs) {
    out.push({ at, cpuSeconds: cpu });
    cpu += (share(at) * everyMs) / 1000;
  }
  return out;
}

function facts(over: Partial<SilenceFacts> & Pick<SilenceFacts, 'now' | 'samples'>): SilenceFacts {
  return { lastMessageAt: 0, timeoutMs: TIMEOUT, longestAnsweredSilenceMs: 1000, cpuReadable: true, ...over };
}

test('within the timeout: talking, whatever the CPU did', () => {
  assert.deepEqual(judgeSilence(facts({ now: 100_000, samples: readings(100_000, 12_000, () => 0) })), { state: 'talking' });
  assert.deepEqual(judgeSilence(facts({ now: TIMEOUT, samples: [], cpuReadable: false })), { state: 'talking' });
});

test('silent past the timeout and computing (one core): computing, not hung', () => {
  const v = judgeSilence(facts({ now: 300_000, samples: readings(300_000, 12_000, () => 1) }));
  assert.equal(v.state, 'computing');
  assert.ok(v.state === 'computing' && Math.abs(v.cpuSeconds - 120) < 1e-9 && v.windowMs === 120_000, JSON.stringify(v));
});

test('silent past the timeout without CPU time over a whole timeout: stuck', () => {
  const v = judgeSilence(facts({ now: 121_000, samples: readings(120_000, 12_000, () => 0) }));
  assert.deepEqual(v, { state: 'stuck', silentMs: 121_000, cpuSeconds: 0, windowMs: 120_000 });
});

test('the 1 % threshold: a trickle of CPU (timers, GC) is still stuck; 2 % of a core is computing', () => {
  assert.equal(judgeSilence(facts({ now: 130_000, samples: readings(130_000, 10_000, () => 0.005) })).state, 'stuck');
  assert.equal(judgeSilence(facts({ now: 130_000, samples: readings(130_000, 10_000, () => 0.02) })).state, 'computing');
});

test('a process that computed and then blocked is stuck once a whole timeout has passed without CPU', () => {
  // Computing (silent) for 200 s, then blocked.
  const samples = readings(400_000, 10_000, (at) => (at < 200_000 ? 1 : 0));
  assert.equal(judgeSilence(facts({ now: 300_000, samples: samples.filter((s) => s.at <= 300_000) })).state, 'computing');
  assert.equal(judgeSilence(facts({ now: 320_000, samples: samples.filter((s) => s.at <= 320_000) })).state, 'stuck');
});

test('readings that do not yet span a timeout: measuring (not ended)', () => {
  const samples = readings(150_000, 12_000, () => 0).filter((s) => s.at >= 60_000);
  assert.deepEqual(judgeSilence(facts({ now: 150_000, samples })), { state: 'measuring', silentMs: 150_000 });
});

test('CPU time that cannot be read: silence alone decides, as before', () => {
  assert.deepEqual(judgeSilence(facts({ now: 121_000, samples: [] })), { state: 'unknown', silentMs: 121_000 });
  // It could be read once, but the latest reading failed (the process vanished from /proc).
  const v = judgeSilence(facts({ now: 121_000, samples: readings(120_000, 12_000, () => 1), cpuReadable: false }));
  assert.equal(v.state, 'unknown');
});

test('computing past the hard limit: over-limit, the limit growing with the longest answered silence', () => {
  const limit = BUSY_LIMIT_FACTOR * TIMEOUT;
  const busy = (now: number, longest = 1000) => judgeSilence(facts({ now, samples: readings(now, 12_000, () => 1), longestAnsweredSilenceMs: longest }));
  assert.equal(busy(limit).state, 'computing');
  const over = busy(limit + 12_000);
  assert.ok(over.state === 'over-limit', JSON.stringify(over));
  assert.deepEqual(
    { ...over, cpuSeconds: Math.round(over.cpuSeconds) },
    { state: 'over-limit', silentMs: limit + 12_000, cpuSeconds: 120, windowMs: 120_000, limitMs: limit },
  );
  // Earlier steps of this job took 5 min each: 10× that is allowed.
  assert.equal(busy(limit + 12_000, 300_000).state, 'computing');
  assert.equal(busy(BUSY_LIMIT_FACTOR * 300_000 + 12_000, 300_000).state, 'over-limit');
});

test('the descriptions say which case happened', () => {
  assert.equal(
    describeHang({ state: 'stuck', silentMs: 121_400, cpuSeconds: 0.004, windowMs: 120_000 }),
    'sent nothing for 121 s and used no CPU time (0.00 s in the last 120 s): it was stuck',
  );
  assert.equal(
    describeHang({ state: 'over-limit', silentMs: 1_212_000, cpuSeconds: 119.6, windowMs: 120_000, limitMs: 1_200_000 }),
    'sent nothing for 1212 s while computing (119.6 s of CPU time in the last 120 s), past the limit of 1200 s for one silent step',
  );
  assert.match(describeHang({ state: 'unknown', silentMs: 1600 }), /^sent nothing for 1\.6 s \(its CPU time cannot be read on this system/);
});

/** A CPU clock the test moves: `rate` CPU seconds per wall second from now on. */
function cpuClock(rate: number) {
  const clock = { rate, cpu: 0, at: Date.now(), reads: 0 };
  return {
    clock,
    read: () => {
      const now = Date.now();
      clock.cpu += (clock.rate * (now - clock.at)) / 1000;
      clock.at = now;
      clock.reads++;
      return Promise.resolve(clock.cpu);
    },
  };
}

function hungWithin(dog: (onHung: (d: string) => void) => SilenceWatchdog, ms: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let w: SilenceWatchdog | undefined = undefined;
    const timer = setTimeout(() => {
      w?.stop();
      resolve(undefined);
    }, ms);
    w = dog((d) => {
      clearTimeout(timer);
      resolve(d);
    });
  });
}

test('watchdog: a silent process using no CPU is ended soon after the timeout', async () => {
  const { read } = cpuClock(0);
  const t0 = Date.now();
  const d = await hungWithin((onHung) => new SilenceWatchdog({ timeoutMs: 200, cpuSeconds: read, onHung: (_v, text) => onHung(text) }), 3000);
  assert.match(d ?? '', /used no CPU time/);
  assert.ok(Date.now() - t0 < 1000, `${Date.now() - t0} ms`);
});

test('watchdog: a silent process using CPU is left alone until 10× the timeout, then ended as over the limit', async () => {
  const { read, clock } = cpuClock(1);
  const t0 = Date.now();
  const d = await hungWithin((onHung) => new SilenceWatchdog({ timeoutMs: 100, cpuSeconds: read, onHung: (_v, text) => onHung(text) }), 5000);
  const took = Date.now() - t0;
  assert.match(d ?? '', /while computing .* past the limit of 1\.0 s/);
  assert.ok(took >= 1000 && took < 2500, `${took} ms`);
  assert.ok(clock.reads >= 10, `read ${clock.reads} times`);
});

test('watchdog: messages keep it quiet; without a CPU reader it ends a silent process as before', async () => {
  const { read } = cpuClock(0);
  let told: string | undefined;
  const talking = new SilenceWatchdog({ timeoutMs: 100, cpuSeconds: read, onHung: (_v, text) => (told = text) });
  const chatter = setInterval(() => talking.heard(), 20);
  await new Promise((r) => setTimeout(r, 500));
  clearInterval(chatter);
  talking.stop();
  assert.equal(told, undefined);

  const d = await hungWithin((onHung) => new SilenceWatchdog({ timeoutMs: 100, onHung: (_v, text) => onHung(text) }), 2000);
  assert.match(d ?? '', /cannot be read/);
});
