import { expect } from "chai";
import { testPhone, UNCHECKED_GRANT } from "../support/devices";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { id } from "ethers";
import { blankEvent, EventKind, type Hex } from "../../registry-service/src/core";
import { CliError } from "../../registry-service/src/cli/errors";
import { buildEvent } from "../../registry-service/src/cli/write/events";
import { e164 } from "../../registry-service/src/cli/write/lock";
import { readBulkFile } from "../../registry-service/src/cli/write/bulk/input";
import { nextChunkSize } from "../../registry-service/src/cli/write/bulk/plan";
import { BulkState } from "../../registry-service/src/cli/write/bulk/state";
import { tempDir } from "../support/tempRegistry";

const hash = (label: string) => id(label) as Hex;
const usage = (run: () => unknown, message: RegExp) => {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(CliError).and.include({ code: "USAGE", exitCode: 2 });
    expect((error as Error).message).to.match(message);
    return;
  }
  expect.fail("no usage error");
};

describe("the writer CLI's inputs: events, lines, bulk files, chunks and state", () => {
  const temp = tempDir("cli-writer-");
  after(() => temp.remove());
  const file = (name: string, text: string) => {
    const where = path.join(temp.dir, name);
    writeFileSync(where, text);
    return where;
  };

  for (const { title, kind, fields, message } of [
    { title: "a missing index", kind: "suspend", fields: { reason: "lost-device" }, message: /^index is required$/ },
    {
      title: "an unknown reason",
      kind: "revoke",
      fields: { index: 1, reason: "lost" },
      message: /reason "lost" is not one of lost-device/,
    },
    {
      title: "a value the kind does not take",
      kind: "issue",
      fields: { reason: "lost-device" },
      message: /reason is not a value of issue/,
    },
    {
      title: "a lock without the device's grant",
      kind: "lock",
      fields: { deviceKeyHash: hash("a") },
      message: /device-key-hash is not a value of lock/,
    },
    { title: "a grant of another length", kind: "lock", fields: { grant: `0x${"ab".repeat(124)}` }, message: /grant:/ },
    {
      title: "a grant whose device key is off P-256",
      kind: "lock",
      fields: { grant: `0x02${"ff".repeat(32)}${"00".repeat(92)}` },
      message: /not a P-256 point/,
    },
    {
      title: "an unknown channel",
      kind: "issue",
      fields: { deviceKeyHash: hash("p"), credentialId: "D", channel: "fax" },
      message: /channel "fax"/,
    },
  ] as const) {
    it(`refuses ${title} with one line naming it`, () => usage(() => buildEvent(kind, fields), message));
  }

  it("takes a reason or a channel in the spec's spelling as well as the CLI's", () => {
    expect(buildEvent("suspend", { index: 3, reason: "LOST_DEVICE" }).event.reason).to.equal(
      buildEvent("suspend", { index: 3, reason: "lost-device" }).event.reason,
    );
    expect(buildEvent("issue", { deviceKeyHash: hash("p"), credentialId: "D", channel: "QR_CODE" }).event.channel).to.equal(2);
  });

  it("builds an issuance with a generated salt, and a lock from the device's grant, which names the device", () => {
    const { event, credential } = buildEvent("issue", { deviceKeyHash: hash("phone"), credentialId: "DOC-9", channel: "qr-code" });
    expect(event).to.include({ kind: EventKind.Issue, deviceKeyHash: hash("phone"), channel: 2 });
    expect(credential).to.include({ saltGenerated: true, credentialId: "DOC-9" });
    const phone = testPhone("cli phone");
    const grant = phone.grant({ chainId: 31337, verifyingContract: `0x${"12".repeat(20)}` }, `0x${"34".repeat(20)}`);
    const lock = buildEvent("lock", { grant: grant.toUpperCase().replace("0X", "0x") }).event;
    expect(lock).to.include({ kind: EventKind.LockDevice, deviceKeyHash: phone.hash, grant });
  });

  for (const [written, normalised] of [
    ["+372 5123 4567", "+37251234567"],
    ["00372-5123-4567", "+37251234567"],
    ["+1 (415) 555.0100", "+14155550100"],
  ]) {
    it(`writes the line ${written} as ${normalised}`, () => expect(e164(written)).to.equal(normalised));
  }
  it("refuses a line without its country code", () => usage(() => e164("051234567"), /not an international number/));

  it("reads a bulk CSV with its line numbers, and names the line of a bad value", () => {
    const good = file("good.csv", `kind,index,reason,grant\n\nsuspend,4,lost-device,\nlock,,,${UNCHECKED_GRANT}\n`);
    expect(readBulkFile(good).lines.map(({ line, kind }) => [line, kind])).to.deep.equal([
      [3, "suspend"],
      [4, "lock"],
    ]);
    usage(
      () => readBulkFile(file("bad.csv", "kind,index,reason\nrevoke,1,administrative\nrevoke,x,administrative\n")),
      /bad\.csv line 3: index/,
    );
    usage(() => readBulkFile(file("typo.csv", "kind,idx\nrevoke,1\n")), /line 2: unknown column "idx"/);
    usage(() => readBulkFile(file("kind.ndjson", '{"kind":"ban","index":1}\n')), /line 1: kind "ban" is not one of/);
  });

  it("cuts chunks to the lane's limits: a re-issue counts two events, locks alone take the priority lane", () => {
    const limits = { regular: { events: 4, bytes: 100_000 }, priority: { events: 6, bytes: 100_000 } };
    const of = (...kinds: EventKind[]) => kinds.map((kind) => blankEvent(kind));
    const { Issue, Reissue, LockDevice } = EventKind;
    expect(nextChunkSize(of(Issue, Issue, Issue, Issue, Issue), limits, 100)).to.equal(4);
    expect(nextChunkSize(of(Reissue, Reissue, Reissue), limits, 100)).to.equal(2);
    expect(nextChunkSize(of(...Array(8).fill(LockDevice)), limits, 100)).to.equal(6);
    expect(nextChunkSize(of(LockDevice, LockDevice, LockDevice, LockDevice, Issue), limits, 100)).to.equal(4);
    expect(nextChunkSize(of(Issue, Issue, Issue), limits, 2)).to.equal(2);
    const tight = { regular: { events: 100, bytes: 117 + 66 * 2 }, priority: limits.priority };
    expect(nextChunkSize(of(Issue, Issue, Issue), tight, 100), "bytes").to.equal(2);
  });

  it("refuses a state file of another run", () => {
    const run = { input: "a.csv", sha256: "00", signer: "0xaa", domainHash: "0x01" };
    const stateFile = path.join(temp.dir, "a.progress.json");
    BulkState.open(stateFile, run).save();
    expect(BulkState.open(stateFile, { ...run, signer: "0xAA" }).chunks).to.deep.equal([]);
    usage(() => BulkState.open(stateFile, { ...run, sha256: "01" }), /belongs to another run \(its sha256 differs/);
  });
});
