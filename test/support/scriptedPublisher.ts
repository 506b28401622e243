import { id } from "ethers";
import { testPhone, withGrants } from "./devices";
import type { StatusRegistry } from "../../typechain-types";
import {
  ALL_ROLES,
  applySubmission,
  blankEvent,
  bytesToHex,
  Channel,
  deadlineIn,
  encodeBatchData,
  EventKind,
  EventTree,
  Hasher,
  MemoryState,
  recoverSubmitter,
  signSubmission,
  StatusTree,
  type AcceptedSubmission,
  type AppliedEvent,
  type Hex,
  type RegistryDomain,
  type StatusEvent,
  type TypedDataSigner,
} from "../../registry-service/src/core";
import { nativePublicKeyRecovery } from "../../registry-service/src/accel";

export const h = (label: string) => id(label) as Hex;

/** What the service stamps or the signer chooses about a submission's time (a test may plant either). */
interface TimedFields {
  intakeBlock: number;
  deadline: number;
}

/** Event builders for tests: readable one-liners with every unused field zero. */
export const ev = {
  issue: (holder: string, device: string, credential = `credential of ${holder} on ${device}`): StatusEvent => ({
    ...blankEvent(EventKind.Issue),
    credentialCommitment: h(credential),
    deviceKeyHash: testPhone(device).hash,
    channel: Channel.ChipCard,
  }),
  /** a new credential on `device` for the holder of credential `index`, which it supersedes */
  reissue: (index: number, holder: string, device: string): StatusEvent => ({
    ...ev.issue(holder, device),
    kind: EventKind.Reissue,
    index,
  }),
  /** granted to whoever signs it (withGrants) */
  lock: (device: string): StatusEvent => ({ ...blankEvent(EventKind.LockDevice), deviceKeyHash: testPhone(device).hash, grant: "" as Hex }),
  suspend: (index: number, reason = 3): StatusEvent => ({ ...blankEvent(EventKind.Suspend), index, reason }),
  /** lifts a suspension of `reason` (default LOST_DEVICE: the phone turned up) */
  reinstate: (index: number, reason = 1): StatusEvent => ({ ...blankEvent(EventKind.Reinstate), index, reason }),
  revoke: (index: number, reason = 3): StatusEvent => ({ ...blankEvent(EventKind.Revoke), index, reason }),
};

/** What a lying publisher may change in an anchor after computing the honest one. */
export interface Tampering {
  statusRoot?: Hex;
  eventRoot?: Hex;
  eventData?: Uint8Array;
}

/**
 * A publisher scripted by a test: it anchors whatever submissions it is given (it does NOT check
 * roles, as a rogue publisher key would not) with the roots an honest replay gives, unless told to
 * lie. Its own tree and state are the "service's view" the verifier tests prove against.
 */
export class ScriptedPublisher {
  readonly state = new MemoryState();
  readonly tree: StatusTree;
  batch = 0;
  private nonce = 0;

  private constructor(
    readonly hasher: Hasher,
    readonly registry: StatusRegistry,
    readonly domain: RegistryDomain,
    depth: number,
  ) {
    this.tree = new StatusTree(hasher, depth);
  }

  static async create(registry: StatusRegistry, depth: number): Promise<ScriptedPublisher> {
    const network = await registry.runner!.provider!.getNetwork();
    return new ScriptedPublisher(
      await Hasher.create(),
      registry,
      { chainId: network.chainId, verifyingContract: await registry.getAddress() },
      depth,
    );
  }

  /**
   * A submission signed by `wallet` as the service would accept it now: its intake block the chain's
   * current block and its deadline an hour ahead, unless the test plants others.
   */
  async sign(wallet: TypedDataSigner, events: StatusEvent[], planted: Partial<TimedFields> = {}): Promise<AcceptedSubmission> {
    const provider = this.registry.runner!.provider!;
    const deadline = planted.deadline ?? deadlineIn(3600, 1000 * (await provider.getBlock("latest"))!.timestamp);
    const signer = await (wallet as unknown as { getAddress(): Promise<string> }).getAddress();
    const granted = withGrants(events, this.domain, signer);
    const submission = await signSubmission(wallet, this.domain, { nonce: h(`nonce ${this.nonce++}`), deadline, events: granted });
    return { ...submission, intakeBlock: planted.intakeBlock ?? (await provider.getBlockNumber()) };
  }

  /** Anchors one batch of submissions; returns the transaction hash and the roots it anchored. */
  async anchor(submissions: AcceptedSubmission[], tampering: Tampering = {}, overrides: { gasLimit?: number } = {}) {
    const applied: AppliedEvent[] = [];
    const batch = this.batch + 1;
    for (const submission of submissions) {
      const signer = recoverSubmitter(this.domain, submission, this.hasher, nativePublicKeyRecovery);
      const result = applySubmission(this.state, { signer, roles: ALL_ROLES, batch, slots: 2 ** this.tree.depth }, submission);
      this.state.commit(result.changes);
      for (const draft of result.applied) applied.push({ ...draft, position: applied.length });
    }
    const previousRoot = this.tree.root;
    const honest = {
      statusRoot: this.tree.applyRecords(applied.map((event) => event.record)),
      eventRoot: new EventTree(this.hasher, applied).root,
    };
    const statusRoot = tampering.statusRoot ?? honest.statusRoot;
    const eventRoot = tampering.eventRoot ?? honest.eventRoot;
    const eventData = tampering.eventData ?? encodeBatchData(submissions);
    const tx = await this.registry.anchor(batch, previousRoot, statusRoot, eventRoot, applied.length, bytesToHex(eventData), overrides);
    await tx.wait();
    this.batch = batch;
    return { transactionHash: tx.hash as Hex, statusRoot, eventRoot, honest, applied };
  }
}
