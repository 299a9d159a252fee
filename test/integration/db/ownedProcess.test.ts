// A server this process owns runs in a process group of its own, yet between fork and setsid it is
// still in ours: a terminal's Ctrl-C landing then ends it too. Such an end is told apart from a
// server that failed, so that its start spawns it again.
import { endedByOurTerminalSignal, ownedServerSpawnsMax, spawnOwned, startOwnedServer, type OwnedProcess } from '../../../src/db/embedded';

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

describe('startOwnedServer', () => {
  /** `ready` that ends the server with `signal` and then fails, as a start cut short would. */
  const endedBy = (signal: NodeJS.Signals) => async (p: OwnedProcess) => {
    p.child.kill(signal);
    await p.exited;
    throw new Error(`ended by ${signal}`);
  };

  it('spawns once more a server a terminal\'s signal ended before it was ready, and returns the one that is', async () => {
    const spawned: OwnedProcess[] = [];
    const server = await startOwnedServer(
      () => {
        spawned.push(sleeper());
        return spawned.at(-1)!;
      },
      (p) => (p === spawned[0] ? endedBy('SIGINT')(p) : Promise.resolve()),
    );
    expect(spawned).toHaveLength(2);
    expect(server).toBe(spawned[1]);
    expect(server.running()).toBe(true);
  });

  it('gives up after ownedServerSpawnsMax spawns, with the last one\'s error', async () => {
    let spawns = 0;
    const start = startOwnedServer(() => {
      spawns += 1;
      return sleeper();
    }, endedBy('SIGINT'));
    await expect(start).rejects.toThrow('ended by SIGINT');
    expect(spawns).toBe(ownedServerSpawnsMax);
  });

  it('does not spawn again a server that failed otherwise, and stops it if it still runs', async () => {
    const spawned: OwnedProcess[] = [];
    const start = startOwnedServer(
      () => {
        spawned.push(sleeper());
        return spawned.at(-1)!;
      },
      async () => {
        throw new Error('not ready in time');
      },
    );
    await expect(start).rejects.toThrow('not ready in time');
    expect(spawned).toHaveLength(1);
    expect(spawned[0].running()).toBe(false);
    expect(spawned[0].child.signalCode).toBe('SIGTERM');
  });
});
