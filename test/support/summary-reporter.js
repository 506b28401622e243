// Mocha's spec output, closed by the plain line CI reads: "N passed, N failed[, N skipped]".
const { Spec } = require("mocha").reporters;

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once("end", () => {
      const { passes, failures, pending } = runner.stats;
      process.stdout.write(`\n${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ""}\n`);
    });
  }
}

module.exports = SummaryReporter;
