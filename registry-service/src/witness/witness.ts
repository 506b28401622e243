import { Contract, NonceManager, type Provider, type Signer } from "ethers";
import { roleId, WITNESS_ROLE_NAME, type Hex } from "../core";
import { ChainFollower } from "../audit/follower";
import { pollFollower } from "../audit/polling";
import { onBatchReplayed } from "../audit/witnessAudit";
import { describedRevert, REGISTRY_ABI } from "../chain/read";

/** Stable codes of the witness. */
export type WitnessErrorCode =
  /** the witness's key does not hold WITNESS_ROLE on the registry */
  | "NOT_A_WITNESS"
  /** the chain refused an attestation for another reason than "already attested" */
  | "ATTEST_REFUSED";

/** The witness's one error type. */
export class WitnessError extends Error {
  constructor(
    readonly code: WitnessErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "WitnessError";
  }
}

export interface WitnessOptions {
  provider: Provider;
  registry: string;
  /** the witness's key (holds WITNESS_ROLE), connected to `provider` */
  signer: Signer;
  /** how often to look for new anchors, ms (default 250: attestations follow anchors within a second) */
  pollMs?: number;
  /** attest batches from this one on (default: the latest batch at start; older roots no verifier relies on any more) */
  fromBatch?: number;
  log?: (line: string) => void;
}

function refused(batch: number, error: unknown): WitnessError {
  const revert = describedRevert(error);
  const why = revert ? `${revert.name}(${revert.args.join(", ")})` : (error as Error).message.split("\n")[0];
  return new WitnessError("ATTEST_REFUSED", `attesting batch ${batch}: ${why}`);
}

/** A root the witness attested, or found attested by itself already (a restart). */
export interface Attestation {
  batch: number;
  statusRoot: Hex;
  transactionHash: Hex | null;
}

/**
 * A consortium member's witness (docs/spec.md 5.6): it replays every anchored batch from the chain
 * alone, as the auditor does, and attests on chain each root its replay reproduced cleanly, no
 * finding in the batch. After a divergence it attests nothing until a correction re-bases the
 * registry on a state it reproduces. Verifiers that require k witnesses rely on a root only then.
 */
export class Witness {
  /** the latest attestations, newest last */
  readonly attested: Attestation[] = [];
  private readonly due: { batch: number; statusRoot: Hex }[] = [];
  private readonly contract: Contract;
  private readonly signer: NonceManager;
  private polling?: ReturnType<typeof pollFollower>;

  private constructor(
    readonly address: string,
    readonly follower: ChainFollower,
    signer: NonceManager,
    private fromBatch: number,
    private readonly log: (line: string) => void,
  ) {
    this.signer = signer;
    this.contract = new Contract(follower.history.contract.target, REGISTRY_ABI, signer);
    onBatchReplayed(
      follower.replayer,
      (batch, statusRoot) => this.due.push({ batch, statusRoot }),
      (batch) => this.log(`witness: batch ${batch} has findings: not attested`),
    );
  }

  /** Checks the role, replays the chain to its head and attests the latest root (unless `fromBatch` says otherwise). */
  static async start(options: WitnessOptions): Promise<Witness> {
    const signer = new NonceManager(options.signer);
    const address = await signer.getAddress();
    const registry = new Contract(options.registry, REGISTRY_ABI, options.provider);
    if (!(await registry.hasRole(roleId(WITNESS_ROLE_NAME), address)))
      throw new WitnessError("NOT_A_WITNESS", `${address} does not hold WITNESS_ROLE on ${options.registry}: the admin grants it`);
    const follower = await ChainFollower.open(options.provider, options.registry);
    const witness = new Witness(address, follower, signer, options.fromBatch ?? Infinity, options.log ?? (() => undefined));
    const divergence = await follower.catchUp();
    witness.fromBatch = Math.min(witness.fromBatch, follower.replayer.batch);
    if (divergence) witness.log(`witness: chain history diverges, attesting nothing: ${divergence.message}`);
    await witness.attestDue();
    return witness;
  }

  /** Keeps following the chain every `pollMs` and attesting what it reproduces, until `close`. */
  follow(pollMs = 250): this {
    this.polling = pollFollower(this.follower, { pollMs, label: "witness", log: this.log, afterStep: () => this.attestDue() });
    return this;
  }

  /** Replays whatever is new and attests it now (tests use it instead of waiting for the poll). */
  async sync(): Promise<void> {
    await this.follower.catchUp();
    await this.attestDue();
  }

  lastError(): string | undefined {
    return this.polling?.lastError();
  }

  close(): void {
    this.polling?.stop();
  }

  /**
   * Sends an attestation for every root reproduced since the last round, in order, without waiting
   * between them (one block can take them all), then waits for them all. What could not be sent is
   * tried again on the next round.
   */
  private async attestDue(): Promise<void> {
    const due = this.due.splice(0).filter(({ batch }) => batch >= this.fromBatch);
    const sent: { done: Attestation; wait?: () => Promise<unknown> }[] = [];
    for (const [i, root] of due.entries()) {
      try {
        sent.push(await this.send(root));
      } catch (error) {
        this.due.unshift(...due.slice(i));
        this.signer.reset(); // a refused send may have taken a nonce
        throw error;
      }
    }
    for (const { done, wait } of sent) {
      await wait?.().catch((error: unknown) => {
        throw refused(done.batch, error);
      });
      this.attested.push(done);
      this.log(`witness: attested batch ${done.batch} (root ${done.statusRoot})`);
    }
    if (this.attested.length > 100) this.attested.splice(0, this.attested.length - 100);
  }

  private async send({ batch, statusRoot }: { batch: number; statusRoot: Hex }) {
    try {
      const tx = await this.contract.attest(batch, statusRoot);
      return { done: { batch, statusRoot, transactionHash: tx.hash as Hex }, wait: () => tx.wait() as Promise<unknown> };
    } catch (error) {
      // a restart finds its own attestation of the latest root on chain already
      if (describedRevert(error)?.name === "StatusRegistryAlreadyAttested") return { done: { batch, statusRoot, transactionHash: null } };
      throw refused(batch, error);
    }
  }
}
