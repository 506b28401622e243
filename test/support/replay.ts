import { expect } from "chai";
import type { Provider } from "ethers";
import type { StatusRegistry } from "../../typechain-types";
import {
  applySubmission,
  decodeBatchData,
  EventTree,
  MemoryState,
  recoverSubmitter,
  StatusTree,
  hexToBytes,
  type Hasher,
  type RegistryDomain,
} from "../../registry-service/src/core";

/**
 * An auditor's replay in miniature: every anchor transaction, decoded from calldata alone, re-applied
 * to a fresh state, must give the anchored status and event roots, with batches numbered 1, 2, 3...
 * Roles are taken as they are now (the full auditor checks them at each block).
 */
export async function expectChainReplays(hasher: Hasher, registry: StatusRegistry, provider: Provider, domain: RegistryDomain, depth: number) {
  const issuerRole = await registry.ISSUER_ROLE();
  const operatorRole = await registry.OPERATOR_ROLE();
  const state = new MemoryState();
  const tree = new StatusTree(hasher, depth);
  const logs = await registry.queryFilter(registry.filters.BatchAnchored());
  for (const [i, log] of logs.entries()) {
    expect(Number(log.args.batch)).to.equal(i + 1);
    const tx = (await provider.getTransaction(log.transactionHash))!;
    const args = registry.interface.parseTransaction({ data: tx.data })!.args;
    const applied = [];
    for (const submission of decodeBatchData(hexToBytes(args.eventData))) {
      const signer = recoverSubmitter(domain, submission, hasher);
      const roles = { issuer: await registry.hasRole(issuerRole, signer), operator: await registry.hasRole(operatorRole, signer) };
      const result = applySubmission(state, { signer, roles, batch: i + 1 }, submission);
      state.commit(result.changes);
      applied.push(...result.applied);
    }
    const positioned = applied.map((event, position) => ({ ...event, position }));
    expect(tree.applyRecords(positioned.map((event) => event.record)), `status root of batch ${i + 1}`).to.equal(log.args.statusRoot);
    expect(new EventTree(hasher, positioned).root, `event root of batch ${i + 1}`).to.equal(log.args.eventRoot);
  }
  return { batches: logs.length, state, tree };
}
