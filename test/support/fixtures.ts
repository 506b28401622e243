import hre from "hardhat";
import type { DeployResult } from "../../tasks/deploy";
import { id } from "ethers";
import { deadlineIn, type Hex, type StatusEvent, type Submission } from "../../registry-service/src/core";
import type { BatchRecord, JournalEntry } from "../../registry-service/src/journal";

/** Deploys through the same task a real deployment uses, with the test accounts in every role. */
export async function deployWithRoles(depth: number) {
  const [admin, publisher, issuer, operator, stranger] = await hre.ethers.getSigners();
  const { registry, record } = (await hre.run("deploy-registry", {
    depth,
    publishers: publisher.address,
    issuers: issuer.address,
    operators: operator.address,
    noRecord: true,
    quiet: true,
  })) as DeployResult;
  return { registry, record, admin, publisher, issuer, operator, stranger };
}

/** What the role follower answers for an issuer or an operator key (held at intake block 7), for tests without a chain. */
export const issuerCheck = { roles: { issuer: true, operator: false }, block: 7 };
export const operatorCheck = { roles: { issuer: false, operator: true }, block: 7 };

/** One deadline for a test run (a day ahead), so that a resend built later is the same request. */
export const TEST_DEADLINE = deadlineIn(86_400);

/** A submission with a placeholder signature, for tests that hand intake a signer instead of recovering it. */
export function unsignedSubmission(nonce: Hex, events: StatusEvent[], deadline = TEST_DEADLINE): Submission {
  return { nonce, deadline, events, signature: `0x${"11".repeat(65)}` as Hex };
}

/** What the anchorer records for a cut batch (roots are placeholders: no tree is involved), for tests of intake alone. */
export const batchRecord = (batch: number, entries: JournalEntry[], state: BatchRecord["state"]): BatchRecord => ({
  batch,
  state,
  previousRoot: id("p") as Hex,
  statusRoot: id(`s${batch}`) as Hex,
  eventRoot: id("e") as Hex,
  eventCount: entries.length,
  eventData: "0x01" as Hex,
  eventDataHash: id("d") as Hex,
  lastSeq: entries.at(-1)?.seq ?? -1,
});
