import { expect } from "chai";
import { AnchorError } from "../../registry-service/src/anchoring";
import { ChainError } from "../../registry-service/src/chain/read";
import { Metrics } from "../../registry-service/src/http/metrics";
import type { BatchRecord } from "../../registry-service/src/journal";
import { batcherEvents } from "../../registry-service/src/service/anchoringLog";
import { capturedLog } from "../support/logs";

const [WARN, ERROR, FATAL] = [40, 50, 60];
const nodeDown = () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8545"), { code: "ECONNREFUSED" });

describe("the anchoring log (what the batcher reports)", () => {
  it("logs an anchored batch with its number, events, transaction, block and time", () => {
    const log = capturedLog("info");
    const record = { batch: 7, eventCount: 12, transactionHash: `0x${"ab".repeat(32)}`, blockNumber: 99 } as BatchRecord;
    batcherEvents(new Metrics(), log.logger).anchored(record, 0.25);
    expect(log.lines()[0]).to.include({
      msg: "batch anchored",
      batch: 7,
      events: 12,
      transactionHash: record.transactionHash,
      blockNumber: 99,
      ms: 250,
    });
  });

  it("logs an outage at its 1st, 2nd, 4th, 8th failure at warn, with its cause, and its end at warn", () => {
    const log = capturedLog("info");
    const events = batcherEvents(new Metrics(), log.logger);
    for (let failures = 1; failures <= 8; failures++) events.failed(nodeDown(), 1000, failures);
    events.recovered(8);
    const lines = log.lines();
    expect(lines.map((line) => [line.level, line.msg, line.failures])).to.deep.equal([
      [WARN, "anchoring failed", 1],
      [WARN, "anchoring failed", 2],
      [WARN, "anchoring failed", 4],
      [WARN, "anchoring failed", 8],
      [WARN, "anchoring works again", 8],
    ]);
    expect(lines[0].err).to.include({ code: "ECONNREFUSED", message: "connect ECONNREFUSED 127.0.0.1:8545" });
  });

  it("logs a refused anchor at error, and a divergence at fatal with its evidence, setting the halted gauge", async () => {
    const log = capturedLog("info");
    const metrics = new Metrics();
    const events = batcherEvents(metrics, log.logger);
    events.failed(new ChainError("ANCHOR_FAILED", "the registry refuses the anchor of batch 3: EnforcedPause()"), 1000, 1);
    events.diverged(new AnchorError("CHAIN_DIVERGED", "batch 3 is anchored with root 0x01, this service prepared 0x02"));
    const [refused, diverged] = log.lines();
    expect(refused).to.include({ level: ERROR, msg: "anchoring failed" });
    expect(refused.err).to.include({ type: "ChainError", code: "ANCHOR_FAILED" });
    expect(diverged.level).to.equal(FATAL);
    expect(diverged.err).to.include({ code: "CHAIN_DIVERGED", message: "batch 3 is anchored with root 0x01, this service prepared 0x02" });
    expect((await metrics.halted.get()).values[0].value).to.equal(1);
  });
});
