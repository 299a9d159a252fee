// Runs the heaviest test files first, in a fresh jest worker, whatever jest remembers of earlier
// runs: a fresh clone (as in CI) has no timing cache, and jest would otherwise start them last,
// in workers already loaded by fifty other files, where they run several times slower.
const Sequencer = require('@jest/test-sequencer').default;

const heavyFirst = [/reconciliation-large\.test\.ts$/, /subsetFont\.test\.ts$/, /demo\.test\.ts$/, /cli\.test\.ts$/];
const rank = (path) => {
  const i = heavyFirst.findIndex((re) => re.test(path));
  return i === -1 ? heavyFirst.length : i;
};

class HeavyFirstSequencer extends Sequencer {
  sort(tests) {
    const ordered = super.sort(tests);
    return [...ordered].sort((a, b) => rank(a.path) - rank(b.path));
  }
}

module.exports = HeavyFirstSequencer;
