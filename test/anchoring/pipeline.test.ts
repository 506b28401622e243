import { expect } from "chai";
import { id } from "ethers";
import {
  EventTree,
  Hasher,
  encodeBatchData,
  eventDataHash,
  bytesToHex,
  positionedEvents,
  StatusTree,
  type AnchorPayload,
  type Hex,
  type StatusEvent,
} from "../../registry-service/src/core";
import { AnchorError, prepareBatch } from "../../registry-service/src/anchoring";
import { ChainError } from "../../registry-service/src/chain/read";
import type { AnchorChain, AnchorReceipt } from "../../registry-service/src/chain/write";
import { UNCHECKED_GRANT } from "../support/devices";
import { issuerCheck, operatorCheck, unsignedSubmission } from "../support/fixtures";
import { ev } from "../support/scriptedPublisher";
import { tempIntake, tempRegistry } from "../support/tempRegistry";

const DEPTH = 20;
const h = (label: string) => id(label) as Hex;
const ISSUER = "0x00000000000000000000000000000000000000aa" as Hex;
const OPERATOR = "0x00000000000000000000000000000000000000bb" as Hex;

/**
 * A registry contract in memory with a mempool: anchors are mined in the order sent, each checked
 * as StatusRegistry checks it (the next batch, on the current root, not paused), one per `mine()`
 * (the test is the block producer).
 * A mined anchor that breaks a rule fails (ANCHOR_FAILED), as a reverted transaction does.
 */
class MemoryChain implements AnchorChain {
  readonly roots: Hex[];
  readonly anchors: AnchorPayload[] = [];
  paused = false;
  sends = 0;
  /** most anchors sent and not yet mined at once */
  mostPending = 0;
  private pending: { payload: AnchorPayload; resolve(r: AnchorReceipt): void; reject(e: unknown): void }[] = [];

  constructor(genesis: Hex) {
    this.roots = [genesis];
  }

  async latestBatch() {
    return { batch: this.roots.length - 1, statusRoot: this.roots[this.roots.length - 1] };
  }
  async batchRoot(batch: number) {
    return this.roots[batch] ?? h("no such batch");
  }
  async findAnchor(batch: number) {
    return batch < this.roots.length && batch > 0 ? { transactionHash: h(`tx ${batch}`), blockNumber: batch } : undefined;
  }
  async approvedCorrection() {
    return undefined;
  }
  async heartbeat(batch: number) {
    return { transactionHash: h(`beat ${batch}`), blockNumber: this.roots.length };
  }
  async anchor(payload: AnchorPayload) {
    return (await this.send(payload)).confirmed;
  }
  async send(payload: AnchorPayload) {
    this.sends++;
    const confirmed = new Promise<AnchorReceipt>((resolve, reject) => this.pending.push({ payload, resolve, reject }));
    this.mostPending = Math.max(this.mostPending, this.pending.length);
    return { confirmed };
  }
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Mines the oldest pending anchor; false when none is pending. */
  mine(): boolean {
    const next = this.pending.shift();
    if (!next) return false;
    const { payload } = next;
    const latest = this.roots.length - 1;
    if (this.paused || payload.batch !== latest + 1 || payload.previousRoot !== this.roots[latest]) {
      next.reject(new ChainError("ANCHOR_FAILED", `the anchor of batch ${payload.batch} failed`));
      return true;
    }
    this.roots.push(payload.statusRoot);
    this.anchors.push(payload);
    next.resolve({ transactionHash: h(`tx ${payload.batch}`), blockNumber: payload.batch });
    return true;
  }
}

/** Resolves once `done()` holds (polled; fails after 20 s): no test waits a fixed time for the anchorer. */
async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; !done(); waited += 2) {
    if (waited > 20_000) throw new Error("waited 20 s in vain");
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** The registry's root at batch 0: the empty tree's. */
const genesis = async () => (await StatusTree.create(DEPTH)).root;

describe("Anchorer with several anchors in flight", () => {
  let temp: Awaited<ReturnType<typeof tempRegistry>> | undefined;
  afterEach(() => temp?.remove());

  /** A registry whose batches hold 3 events each, over `chain`, with up to `maxInFlight` anchors in flight. */
  async function setup(chain: MemoryChain, maxInFlight = 3) {
    temp = await tempRegistry(chain, { depth: DEPTH, maxInFlight, policy: { maxEvents: 4, priorityReserve: 0.25 } });
    const issue = async (from: number, to: number) => {
      for (let n = from; n < to; n++)
        await temp!.parts.intake.accept(ISSUER, issuerCheck, unsignedSubmission(h(`n ${n}`), [ev.issue(`holder ${n}`, `device ${n}`)]));
    };
    const settleAll = async () => {
      const settled = [];
      for (let record = await temp!.parts.anchorer.step(); record; record = await temp!.parts.anchorer.step()) settled.push(record.batch);
      return settled;
    };
    return { issue, settleAll };
  }

  /** Each batch anchored exactly once, in order, and the service serves the chain's latest root with every record it accepted. */
  function expectAgreesWithChain(chain: MemoryChain, batches: number) {
    const { view, intake } = temp!.parts;
    expect(chain.anchors.map((a) => a.batch)).to.deep.equal(Array.from({ length: batches }, (_, i) => i + 1));
    expect(view.tree.root).to.equal(chain.roots[chain.roots.length - 1]);
    expect(view.anchor?.batch).to.equal(batches);
    for (let index = 0; index < view.size; index++) expect(view.record(index)).to.deep.equal(intake.record(index));
    expect(intake.backlog).to.equal(0);
  }

  it("sends the next batches before the first is mined, settles them in order, one anchor per batch", async () => {
    const chain = new MemoryChain(await genesis());
    const { issue, settleAll } = await setup(chain);
    await issue(0, 22); // 7 full batches of 3, and an 8th still open with one
    // a block comes only once three anchors wait (or the full batches are all sent): the anchorer must not wait for one to send the next
    const mining = setInterval(() => (chain.pendingCount === 3 || chain.sends >= 7) && chain.mine(), 2);
    try {
      expect(await settleAll()).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
    } finally {
      clearInterval(mining);
    }
    expect(chain.mostPending, "three anchors were in flight at once, never more").to.equal(3);
    expectAgreesWithChain(chain, 8);
  });

  it("cuts a batch still filling only when nothing is in flight: a trickle makes few, larger batches", async () => {
    const chain = new MemoryChain(await genesis());
    const { issue } = await setup(chain);
    await issue(0, 1);
    const first = temp!.parts.anchorer.step();
    await until(() => chain.sends === 1);
    await issue(1, 3); // batch 2 fills while batch 1 is in flight, but is not full
    await new Promise((r) => setTimeout(r, 50));
    expect(chain.sends, "batch 2 waits").to.equal(1);
    chain.mine();
    expect((await first)!.batch).to.equal(1);
    const second = temp!.parts.anchorer.step();
    await until(() => chain.sends === 2);
    chain.mine();
    expect(await second).to.include({ batch: 2, eventCount: 2 });
  });

  it("after a reverted anchor in flight, sends it and the ones after it again once the chain takes them", async () => {
    const chain = new MemoryChain(await genesis());
    const { issue, settleAll } = await setup(chain);
    await issue(0, 12); // 4 batches
    const first = temp!.parts.anchorer.step();
    await until(() => chain.sends === 3);
    chain.mine(); // batch 1
    chain.paused = true; // the registry is paused: batches 2 and 3, sent, revert
    while (chain.mine());
    expect((await first)!.batch).to.equal(1);
    const failed = await temp!.parts.anchorer.step().catch((e: unknown) => e);
    expect(failed).to.be.instanceOf(ChainError).and.include({ code: "ANCHOR_FAILED" });
    expect(temp!.parts.intake.halted, "a refused anchor is an outage, not a divergence").to.equal(false);
    chain.paused = false;
    const mining = setInterval(() => chain.mine(), 2);
    try {
      expect(await settleAll()).to.deep.equal([2, 3, 4]);
    } finally {
      clearInterval(mining);
    }
    expectAgreesWithChain(chain, 4);
  });

  it("repairs a crash with anchors in flight: mined ones are marked, a pending one mines once, the rest are sent", async () => {
    const chain = new MemoryChain(await genesis());
    const { issue, settleAll } = await setup(chain);
    await issue(0, 15); // 5 batches
    void temp!.parts.anchorer.step().catch(() => undefined);
    await until(() => chain.sends === 3);
    await new Promise((r) => setTimeout(r, 50));
    expect(chain.sends, "no more than three in flight").to.equal(3);
    chain.mine(); // batch 1 is mined, 2 and 3 wait in the pool, and the process dies before recording anything
    const parts = await temp!.reopen();
    expect(parts.view.anchor, "nothing was recorded anchored").to.equal(undefined);
    const mining = setInterval(() => chain.mine(), 2);
    try {
      // batch 2 mines from the pool; batch 3 too, and its resend fails as out of sequence, then is found
      const settled = [];
      for (;;) {
        const record = await parts.anchorer.step().catch((e: unknown) => e);
        if (record === undefined) break;
        if (record instanceof Error) {
          expect(record).to.be.instanceOf(ChainError);
          continue;
        }
        settled.push((record as { batch: number }).batch);
      }
      expect(settled).to.deep.equal([1, 2, 3, 4, 5]);
      expect(await settleAll()).to.deep.equal([]);
    } finally {
      clearInterval(mining);
    }
    expectAgreesWithChain(chain, 5);
  });

  it("stops with CHAIN_DIVERGED when another anchor takes a batch number while its own are in flight", async () => {
    const chain = new MemoryChain(await genesis());
    const { issue } = await setup(chain);
    await issue(0, 10); // batches 1 to 3 full
    const first = temp!.parts.anchorer.step();
    await until(() => chain.sends === 3);
    chain.mine();
    await first;
    // a rogue anchor of batch 2 comes first: this service's batch 2 and 3 fail, and the reconcile finds another root
    chain.roots.push(h("rogue root"));
    while (chain.mine());
    await temp!.parts.anchorer.step().catch(() => undefined);
    const error = await temp!.parts.anchorer.step().catch((e: unknown) => e);
    expect(error).to.be.instanceOf(AnchorError).and.include({ code: "CHAIN_DIVERGED" });
    expect(temp!.parts.intake.halted).to.equal(true);
    expect(temp!.parts.view.anchor?.batch).to.equal(1);
  });
});

describe("prepareBatch from the journal's bytes", () => {
  it("gives the anchor the decoded events give: event data, event root, status root, count", async () => {
    const temp = await tempIntake();
    try {
      const { intake } = temp;
      const events: StatusEvent[] = [ev.issue("a", "phone a"), ev.issue("b", "phone b"), ev.issue("c", "phone c")];
      await intake.accept(ISSUER, issuerCheck, unsignedSubmission(h("bulk"), events));
      await intake.accept(ISSUER, issuerCheck, unsignedSubmission(h("reissue"), [ev.reissue(1, "b", "phone b2")]));
      const lock = { ...ev.lock("phone c"), grant: UNCHECKED_GRANT };
      await intake.accept(OPERATOR, operatorCheck, unsignedSubmission(h("lock"), [lock]));
      const hasher = await Hasher.create();
      const tree = new StatusTree(hasher, DEPTH);
      const entries = await intake.entriesOf(1);
      const prepared = prepareBatch(hasher, tree, 1, await intake.storedEntriesOf(1));
      const data = encodeBatchData(entries.map((entry) => entry.submission));
      const applied = positionedEvents(entries);
      expect(applied.length).to.equal(6); // three issues, a supersede and an issue, a lock
      expect({ ...prepared, changes: undefined, update: undefined }).to.deep.equal({
        batch: 1,
        previousRoot: tree.root,
        statusRoot: new StatusTree(hasher, DEPTH).applyRecords(applied.map((event) => event.record)),
        eventRoot: new EventTree(hasher, applied).root,
        eventCount: 6,
        eventData: bytesToHex(data),
        eventDataHash: eventDataHash(hasher, data),
        changes: undefined,
        update: undefined,
      });
      expect(prepared.changes.indexes).to.deep.equal(applied.map((event) => event.record.index));
    } finally {
      await temp.remove();
    }
  });
});
