// Preloaded into a benchmark's child process (node -r): at exit, its peak resident memory and CPU time on stderr.
process.on("exit", () => {
  const usage = process.resourceUsage();
  const cpuSeconds = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
  process.stderr.write(`\nPEAK_RSS ${JSON.stringify({ maxRssKb: usage.maxRSS, cpuSeconds })}\n`);
});
