// A server this process owns runs in a process group of its own, yet between fork and setsid it is
// still in ours: a terminal's Ctrl-C landing then ends it too. Such an end is told apart from a
// server that failed, so that its start spawns it again.
import { endedByOurTerminalSignal, spawnOwned, type OwnedProcess } from '../../../src/db/embedded';

const owned: OwnedProcess[] = [];
afterAll(async () => {
  await Promise.all(owned.map((p) => p.stop()));
});

function sleeper(): OwnedProcess {
  const p = spawnOwned('sleep', ['30'], { spawn: { stdio: 'ignore' }, stopSignal: 'SIGTERM', forceSignal: 'SIGKILL', stopGraceMs: 1_000 });
  owned.push(p);
  return p;
}

describe('endedByOurTerminalSignal', () => {
  it.each(['SIGINT', 'SIGQUIT', 'SIGHUP'] as const)('is true for a process ended by %s, a signal a terminal sends to its foreground group', async (signal) => {
    const p = sleeper();
    expect(endedByOurTerminalSignal(p)).toBe(false);
    p.child.kill(signal);
    await p.exited;
    expect(endedByOurTerminalSignal(p)).toBe(true);
  });

  it.each(['SIGTERM', 'SIGKILL'] as const)('is false for a process ended by %s, which no terminal sends', async (signal) => {
    const p = sleeper();
    p.child.kill(signal);
    await p.exited;
    expect(endedByOurTerminalSignal(p)).toBe(false);
  });

  it('is false for a process that exited by itself, with any code', async () => {
    const p = spawnOwned('sh', ['-c', 'exit 3'], { spawn: { stdio: 'ignore' }, stopSignal: 'SIGTERM', forceSignal: 'SIGKILL', stopGraceMs: 1_000 });
    await p.exited;
    expect([p.child.exitCode, endedByOurTerminalSignal(p)]).toEqual([3, false]);
  });
});
