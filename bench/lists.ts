/**
 * npm run bench:lists: the standard status lists at national scale (52 million indexes, 397 lists of
 * 131,072): compressed sizes at 0.1 % and 1 % suspended or revoked, the cost of one list's rebuild
 * (per 1M entries), a whole publication against an anchored batch's incremental one, and the bytes a
 * verifier downloads per check, against the proof path's answer, measured in the same run.
 */
import { deflateSync } from "node:zlib";
import {
  LIST_SIZE,
  ListChunk,
  Status,
  StatusTree,
  emptyRecord,
  Hasher,
  type Hex,
  type StatusRecord,
  type StatusTree as Tree,
} from "../registry-service/src/core";
import { compressChunk, ListPublisher, ListSigner, statusAnswer, type ListedState } from "../registry-service/src/readApi";
import { fmt, median, rng, time, timeAsync } from "./support";

const INDEXES = 52_000_000;
const LISTS = Math.ceil(INDEXES / LIST_SIZE);

/** A state of INDEXES issued credentials, `rate` of them suspended or revoked (half each) at random indexes. */
function nationalState(rate: number, seed: number) {
  const statuses = new Uint8Array(INDEXES).fill(Status.Active);
  const random = rng(seed);
  for (let k = 0; k < INDEXES * rate; k++) statuses[Math.floor(random() * INDEXES)] = k % 2 ? Status.Suspended : Status.Revoked;
  let listener: (changed: readonly number[]) => void = () => undefined;
  const state: ListedState = {
    size: INDEXES,
    status: (index) => statuses[index] ?? Status.None,
    onAdvance: (l) => void (listener = l),
    tree: { root: `0x${"ab".repeat(32)}` } as unknown as Tree,
    anchor: { batch: 1, transactionHash: `0x${"cd".repeat(32)}` as Hex, blockNumber: 1 },
    record: () => undefined,
  };
  return { state, statuses, advance: (changed: number[]) => listener(changed), random };
}

async function main() {
  const signer = await ListSigner.fromJwk(await ListSigner.generateJwk());
  const settings = {
    signer,
    baseUrl: "https://status.example",
    issuer: "https://status.example",
    registry: `0x${"11".repeat(20)}` as Hex,
    chainId: 1,
    ttlSeconds: 10,
    validitySeconds: 300,
  };
  console.log(`${fmt(INDEXES)} indexes in ${LISTS} lists of ${fmt(LIST_SIZE)}\n`);
  const columns = ["token lists (zlib, 2 bits)", "W3C revocation (gzip)", "W3C suspension (gzip)", "raw 2-bit bitstrings"];
  console.log(`| suspended or revoked | level | ${columns.join(" | ")} | one token list JWT (a verifier's download) |`);
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  const proofBytes = await proofAnswerBytes();
  for (const rate of [0.001, 0.01]) {
    const { state, statuses, advance, random } = nationalState(rate, 7);
    for (const level of [6, 9]) {
      const sizes = sizesOf(state, level);
      const jwt = (await new ListPublisher(state, { ...settings, compressionLevel: level }).publish(0, "jwt"))!;
      const download = `${fmt(jwt.body.length)} B (${fmt(jwt.body.length / proofBytes, 1)}x a proof answer's ${fmt(proofBytes)} B)`;
      const cells = [sizes.token, sizes.revocation, sizes.suspension, (INDEXES * 2) / 8].map(mb);
      console.log(`| ${rate * 100} % | ${level} | ${cells.join(" | ")} | ${download} |`);
    }
    if (rate === 0.01) {
      const opened = time(() => new ListPublisher(state, settings));
      const full = await timeAsync(() => opened.value.rebuild());
      await batches(opened.value, state, { statuses, advance, random }, { open: opened.seconds, full: full.seconds });
    }
  }
}

/** The total compressed size of every list in each form. */
function sizesOf(state: ListedState, level: number) {
  const total = { token: 0, revocation: 0, suspension: 0 };
  for (let list = 0; list < LISTS; list++) {
    const compressed = compressChunk(chunkOf(state, list), level);
    for (const form of ["token", "revocation", "suspension"] as const) total[form] += compressed[form].length;
  }
  return total;
}

function chunkOf(state: ListedState, list: number): ListChunk {
  const chunk = new ListChunk();
  for (let position = 0; position < LIST_SIZE && list * LIST_SIZE + position < INDEXES; position++)
    chunk.set(position, state.status(list * LIST_SIZE + position));
  return chunk;
}

/** An anchored batch's republication: the lists it touched re-compressed, one list signed, against a full rebuild. */
async function batches(
  publisher: ListPublisher,
  state: ListedState,
  { statuses, advance, random }: { statuses: Uint8Array; advance: (changed: number[]) => void; random: () => number },
  whole: { open: number; full: number },
) {
  // one list's three compressions at 1 %, and the raw zlib of its 2-bit bitstring alone (the peer), per level
  const chunk = chunkOf(state, 0);
  console.log("");
  for (const level of [6, 9]) {
    const compressOne = median(Array.from({ length: 9 }, () => time(() => compressChunk(chunk, level)).seconds));
    const zlibOne = median(Array.from({ length: 9 }, () => time(() => deflateSync(chunk.token, { level })).seconds));
    const perMillion = fmt((compressOne * 1000 * 2 ** 20) / LIST_SIZE, 1);
    const peer = `raw zlib of its 2-bit bitstring ${fmt(zlibOne * 1000, 2)} ms (ratio ${fmt(compressOne / zlibOne, 1)})`;
    console.log(
      `One list at 1 %, level ${level}: ${fmt(compressOne * 1000, 2)} ms for its three forms (${perMillion} ms per 1M entries); ${peer}`,
    );
  }
  const opening = `Opening the publisher over 52M indexes (every entry set): ${fmt(whole.open, 1)} s`;
  console.log(`${opening}; compressing all ${LISTS} lists (level 6): ${fmt(whole.full, 1)} s\n`);
  console.log("| anchored batch | lists touched | re-compression | signing list 0 (JWT) | ratio to a full rebuild |");
  console.log("|---|---:|---:|---:|---:|");
  const shapes: [string, () => number][] = [
    ["4,700 issuances (one bulk submission, at the end)", () => INDEXES - 1 - Math.floor(random() * 4700)],
    ["1,000 locks at random indexes", () => Math.floor(random() * INDEXES)],
    ["10,000 locks at random indexes", () => Math.floor(random() * INDEXES)],
  ];
  for (const [name, pick] of shapes) {
    const count = Number(name.split(" ")[0].replace(",", ""));
    const changed = Array.from({ length: count }, pick);
    for (const index of changed) statuses[index] = Status.Suspended;
    advance(changed);
    const touched = new Set(changed.map((index) => Math.floor(index / LIST_SIZE))).size;
    const rebuilt = await timeAsync(() => publisher.rebuild());
    const signed = await timeAsync(() => publisher.publish(0, "jwt")!);
    console.log(
      `| ${name} | ${touched} | ${fmt(rebuilt.seconds * 1000)} ms | ${fmt(signed.seconds * 1000, 1)} ms | ${fmt(rebuilt.seconds / whole.full, 3)} |`,
    );
  }
}

/** The bytes of the proof path's answer for one index (depth 32), the peer of one list download. */
async function proofAnswerBytes(): Promise<number> {
  const tree = new StatusTree(await Hasher.create(), 32);
  return JSON.stringify(
    statusAnswer(
      tree,
      5,
      emptyRecord(5) as StatusRecord,
      { batch: 1, transactionHash: `0x${"cd".repeat(32)}` as Hex, blockNumber: 1 },
      null,
    ),
  ).length;
}

const mb = (bytes: number) => `${fmt(bytes / 1e6, 2)} MB`;

void main();
