/**
 * Gas per anchor (batches of 1, 100 and 10,000 issuance events) and per verifyStatus on the
 * embedded chain. Run: npm run bench:gas. docs/gas.md records what it printed.
 */
import hre from "hardhat";
import { getBytes, HDNodeWallet, id, type TransactionReceipt } from "ethers";
import type { DeployResult } from "../tasks/deploy";
import {
  blankEvent,
  bytesToHex,
  Channel,
  deadlineIn,
  encodeBatchData,
  EventKind,
  signSubmission,
  type AcceptedSubmission,
} from "../registry-service/src/core";
import { refProof, refRoot, type RefRecord } from "../test/reference/reference";

const DEPTH = 32;
const EVENTS_PER_SUBMISSION = 1000;

/** EIP-2028 calldata price, and the EIP-7623 floor that Prague and later charge data-heavy txs. */
function calldataGas(data: Uint8Array) {
  const zero = data.filter((b) => b === 0).length;
  const nonZero = data.length - zero;
  return { standard: zero * 4 + nonZero * 16, floorTokens: zero + nonZero * 4 };
}

async function issuanceBatch(signer: HDNodeWallet, domain: { chainId: bigint; verifyingContract: string }, size: number) {
  const submissions: AcceptedSubmission[] = [];
  for (let first = 0; first < size; first += EVENTS_PER_SUBMISSION) {
    const events = Array.from({ length: Math.min(EVENTS_PER_SUBMISSION, size - first) }, (_, i) => ({
      ...blankEvent(EventKind.Issue),
      credentialCommitment: id(`commitment ${first + i}`) as `0x${string}`,
      deviceKeyHash: id(`device ${first + i}`) as `0x${string}`,
      channel: Channel.ChipCard,
    }));
    const nonce = id(`nonce ${size} ${first}`) as `0x${string}`;
    // the calldata is what is measured: an hour's deadline and a recent intake block, as the service writes them
    submissions.push({ ...(await signSubmission(signer, domain, { nonce, deadline: deadlineIn(3600), events })), intakeBlock: 1 });
  }
  return encodeBatchData(submissions);
}

async function main() {
  const [, publisher] = await hre.ethers.getSigners();
  const { registry } = (await hre.run("deploy-registry", {
    depth: DEPTH,
    publishers: publisher.address,
    noRecord: true,
    quiet: true,
  })) as DeployResult;
  const domain = { chainId: (await hre.ethers.provider.getNetwork()).chainId, verifyingContract: await registry.getAddress() };
  const issuer = HDNodeWallet.fromPhrase("test test test test test test test test test test test junk", undefined, "m/44'/60'/0'/0/5");

  console.log(
    `hardfork ${(hre.network.config as { hardfork?: string }).hardfork}, depth ${DEPTH}, issuance events in signed submissions of up to ${EVENTS_PER_SUBMISSION}\n`,
  );
  console.log(
    "| events | event data (bytes) | gas used | calldata gas (all) | gas excl. event-data calldata | per event | Prague floor would charge |",
  );
  console.log("|---:|---:|---:|---:|---:|---:|---:|");
  // The first anchor also turns the zero "latest batch" slot non-zero (+17,100 gas once): do it
  // outside the table so that every row shows the steady state.
  let previous = id("root 1");
  await (
    await registry.connect(publisher).anchor(1, (await registry.latestBatch()).statusRoot, previous, id("events 1"), 1, "0x01")
  ).wait();
  let batch = 2;
  for (const size of [1, 100, 10_000]) {
    const eventData = await issuanceBatch(issuer, domain, size);
    const statusRoot = id(`root ${batch}`);
    const tx = await registry.connect(publisher).anchor(batch, previous, statusRoot, id(`events ${batch}`), size, eventData, {
      gasLimit: 50_000_000,
    });
    const receipt = (await tx.wait()) as TransactionReceipt;
    const all = calldataGas(getBytes(tx.data));
    const ofEventData = calldataGas(eventData);
    const used = Number(receipt.gasUsed);
    const floor = 21_000 + 10 * all.floorTokens;
    console.log(
      `| ${size} | ${eventData.length} | ${used} | ${all.standard} | ${used - ofEventData.standard} | ${Math.round(used / size)} | ${Math.max(used, floor)} |`,
    );
    previous = statusRoot;
    batch++;
  }

  // verifyStatus: a real depth-32 proof against an anchored root
  const record: RefRecord = { index: 3_000_000, credentialCommitment: id("c"), deviceKeyHash: id("d"), status: 1, reason: 0, batch };
  const records = new Map([
    [record.index, record],
    [7, { ...record, index: 7 }],
  ]);
  const root = refRoot(records, DEPTH);
  await (await registry.connect(publisher).anchor(batch, previous, root, id("events"), 1, "0x01")).wait();
  const proof = refProof(records, DEPTH, record.index);
  const asTransaction = Number(await registry.verifyStatus.estimateGas(root, record, proof));
  const callData = getBytes(registry.interface.encodeFunctionData("verifyStatus", [root, record, proof]));
  const execution = asTransaction - 21_000 - calldataGas(callData).standard;
  console.log(
    `\nverifyStatus (depth ${DEPTH}): ${asTransaction} gas as a transaction, ${execution} of it execution (${callData.length} bytes of calldata)`,
  );
  console.log(`proof size: ${DEPTH} x 32 bytes = ${DEPTH * 32} bytes; root checked: ${bytesToHex(getBytes(root)).slice(0, 10)}...`);

  // heartbeat: what an idle registry pays to keep its current root fresh (docs/spec.md 5.3)
  const beat = await (await registry.connect(publisher).heartbeat(batch, root)).wait();
  const perDay = Math.round((86_400 / 60) * Number(beat!.gasUsed));
  console.log(`heartbeat: ${beat!.gasUsed} gas; every 60 s while idle: ${perDay} gas a day at most`);

  // witnesses: each attestation of a root (docs/spec.md 5.6), the first and a later one of the same root
  const [, , , , , first, second] = await hre.ethers.getSigners();
  const admin = (await hre.ethers.getSigners())[0];
  for (const witness of [first, second])
    await (await registry.connect(admin).grantRole(await registry.WITNESS_ROLE(), witness.address)).wait();
  const attested = [];
  for (const witness of [first, second]) attested.push((await (await registry.connect(witness).attest(batch, root)).wait())!.gasUsed);
  console.log(`attest: ${attested[0]} gas for a root's first witness, ${attested[1]} for each later one`);
  const current = Number(await registry.verifyCurrentStatus.estimateGas(root, record, proof, 60, 2));
  console.log(
    `verifyCurrentStatus (maxAge, 2 witnesses) as a transaction: ${current} gas, ${current - asTransaction} more than verifyStatus`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
