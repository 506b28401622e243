import { expect } from "chai";
import type { Provider } from "ethers";
import { ChainFollower } from "../../registry-service/src/audit/follower";

/**
 * The auditor's replay of everything anchored so far must pass: every anchor transaction, decoded
 * from calldata, signature- and role-checked and re-applied to a fresh state, gives the anchored
 * roots. Returns the replayed state for further checks.
 */
export async function expectChainReplays(provider: Provider, registry: string) {
  const follower = await ChainFollower.open(provider, registry);
  expect((await follower.replayToHead())?.toJSON() ?? null).to.equal(null);
  return follower.replayer;
}
