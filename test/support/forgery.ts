import hre from "hardhat";
import { id, type Signer } from "ethers";
import {
  blankEvent,
  Channel,
  deadlineIn,
  EventKind,
  recoverSubmitter,
  signSubmission,
  StatusTree,
  type Hex,
  type RegistryDomain,
  type StatusRecord,
} from "../../registry-service/src/core";
import type { StatusSource } from "../../registry-service/src/verifier";
import type { deployWithRoles } from "./fixtures";
import type { tempRegistry } from "./tempRegistry";

type Deployed = Awaited<ReturnType<typeof deployWithRoles>>;
type TempRegistry = Awaited<ReturnType<typeof tempRegistry>>;
const h = (label: string) => id(label) as Hex;

/** The issuer's ISSUE of credential `n` (commitment "c n" on device "device n"), accepted by the temporary service's intake. */
export async function acceptIssue(temp: TempRegistry, issuer: Signer, domain: RegistryDomain, n: number): Promise<void> {
  const event = {
    ...blankEvent(EventKind.Issue),
    credentialCommitment: h(`c ${n}`),
    deviceKeyHash: h(`device ${n}`),
    channel: Channel.ChipCard,
  };
  const submission = await signSubmission(issuer, domain, { nonce: h(`nonce ${n}`), deadline: deadlineIn(3600), events: [event] });
  const check = { roles: { issuer: true, operator: false }, block: await hre.ethers.provider.getBlockNumber() };
  await temp.parts.intake.accept(recoverSubmitter(domain, submission), check, submission);
}

/**
 * A leaked publisher key (the stranger, granted the role) anchors a forged state as the next batch:
 * index 0 moved to the thief's device, ACTIVE. Returns the forged record and root, and a status
 * source that proves against it, as a forger would serve it.
 */
export async function anchorForgery(f: Deployed, temp: TempRegistry, depth: number) {
  const batch = Number((await f.registry.latestBatch()).batch) + 1;
  const forged: StatusRecord = { ...temp.parts.view.record(0)!, deviceKeyHash: h("the thief's device"), batch };
  const forgedTree = new StatusTree(temp.hasher, depth);
  const forgedRoot = forgedTree.applyRecords([forged]);
  await f.registry.connect(f.admin).grantRole(await f.registry.PUBLISHER_ROLE(), f.stranger.address);
  const current = (await f.registry.latestBatch()).statusRoot;
  await f.registry.connect(f.stranger).anchor(batch, current, forgedRoot, h("events"), 1, "0x01");
  const forger: StatusSource = {
    name: "forger",
    status: async (index: number) => ({
      index,
      anchored: {
        record: forged,
        proof: forgedTree.prove(index),
        anchor: { batch, statusRoot: forgedRoot, transactionHash: null, blockNumber: null },
      },
      pending: null,
    }),
  };
  return { forged, forgedRoot, forger };
}
