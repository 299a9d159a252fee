// Preloaded (`node -r`) into a command under test: as it exits, it prints the files it loaded to
// standard error, one JSON line, so a test can tell what a command's start-up cost it.
process.on('exit', () => process.stderr.write(`\nloaded: ${JSON.stringify(Object.keys(require.cache))}\n`));
