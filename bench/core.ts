/**
 * Core benchmarks (issue: core library). Run: npm run bench:core [-- --huge] [-- --quick]
 * Prints Markdown; docs/performance.md records what it printed on this machine.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { keccak256 as ethersKeccak } from "ethers";
import { keccak_256 as nobleKeccak } from "@noble/hashes/sha3";
import { MerkleTree } from "merkletreejs";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { Hasher, StatusTree, emptyRecord, verifyStatusProof, Status, bytesToHex, type StatusRecord } from "../registry-service/src/core";
import { ParallelHasher } from "../registry-service/src/accel";
import { fmt, median, medianSeconds, mib, rng, table, time } from "./support";

const args = new Set(process.argv.slice(2));
const QUICK = args.has("--quick");
const SIZES = QUICK ? [100_000, 1_000_000] : [1_000_000, 10_000_000, ...(args.has("--huge") ? [50_000_000] : [])];
const DEPTH = 32;
const RUNS = QUICK ? 1 : 3;

/** N leaf hashes of synthetic records at indexes 0..N-1, hashed as the spec says (82-byte records). */
function leavesFor(hasher: Hasher, count: number, batch = 1): Uint8Array {
  const leaves = new Uint8Array(count * 32);
  const record = new Uint8Array(82);
  const view = new DataView(record.buffer);
  for (let i = 0; i < count; i++) {
    view.setUint32(4, i); // index (uint64, high word 0)
    view.setUint32(8, i ^ 0x5a5a5a5a); // commitment and device bytes vary with i
    view.setUint32(40, i * 2654435761);
    record[72] = Status.Active;
    view.setUint32(78, batch);
    leaves.set(hasher.leaf(record), i * 32);
  }
  return leaves;
}

export function rawKeccak(hasher: Hasher) {
  const input = new Uint8Array(65);
  const n = QUICK ? 300_000 : 2_000_000;
  const rate = (fn: () => void, count: number) =>
    count /
    medianSeconds(RUNS, () => {
      for (let i = 0; i < count; i++) fn();
    });
  const hashWasm = rate(() => {
    input[1] = hasher.hash(input)[0];
  }, n);
  const noble = rate(() => {
    input[1] = nobleKeccak(input)[0];
  }, n / 10);
  const ethers = rate(() => {
    ethersKeccak(input);
  }, n / 20);
  console.log("## Raw keccak-256 (65-byte input: one inner node)\n");
  table(
    ["implementation", "hashes/s", "vs hash-wasm"],
    [
      ["hash-wasm (reused hasher, the core's)", fmt(hashWasm), "1.00"],
      ["@noble/hashes keccak_256", fmt(noble), fmt(noble / hashWasm, 2)],
      ["ethers keccak256", fmt(ethers), fmt(ethers / hashWasm, 2)],
    ],
  );
  return hashWasm;
}

function builds(hasher: Hasher, raw: number, parallel: ParallelHasher) {
  console.log(
    `## Full build (sequential indexes, depth ${DEPTH}; leaves hashed from 82-byte records on the main thread), median of ${RUNS}\n`,
  );
  const rows: (string | number)[][] = [];
  let biggest: StatusTree | undefined;
  for (const size of SIZES) {
    for (const mode of ["1 thread", "+1 worker"] as const) {
      const times: number[] = [];
      let hashes = 0;
      let memory = 0;
      for (let run = 0; run < RUNS; run++) {
        biggest = undefined;
        const indexes = Float64Array.from({ length: size }, (_, i) => i);
        const { value: tree, seconds } = time(() => {
          const tree = new StatusTree(hasher, DEPTH, size, mode === "1 thread" ? undefined : parallel);
          tree.applyLeaves(indexes, leavesFor(hasher, size));
          return tree;
        });
        memory = tree.memoryBytes;
        times.push(seconds);
        hashes = size + tree.hashCount;
        biggest = tree;
      }
      const secs = median(times);
      rows.push([
        fmt(size),
        mode,
        fmt(secs, 2) + " s",
        fmt(hashes),
        fmt(hashes / secs),
        fmt(hashes / secs / raw, 2),
        mib(memory),
        fmt(memory / size) + " B",
      ]);
    }
  }
  table(
    ["used slots", "hashing", "time", "hashes (leaves + nodes)", "hashes/s", "vs raw keccak (1 core)", "tree memory", "per slot"],
    rows,
  );
  return biggest!;
}

function batchUpdate(hasher: Hasher, tree: StatusTree, parallel: ParallelHasher) {
  const updates = QUICK ? 10_000 : 100_000;
  const rows: string[][] = [];
  const snapshot = Buffer.concat(tree.snapshot());
  for (const mode of ["1 thread", "+1 worker"] as const) {
    // a fresh copy per mode, so that each starts from the same tree and hashes the way it says
    const target = StatusTree.restore(hasher, snapshot, mode === "1 thread" ? undefined : parallel);
    const times: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const random = rng(run + 1);
      const indexes = Float64Array.from({ length: updates }, () => Math.floor(random() * tree.size));
      const leaves = leavesFor(hasher, updates, 2 + run);
      times.push(time(() => target.applyLeaves(indexes, leaves)).seconds);
    }
    rows.push([fmt(updates), mode, fmt(median(times), 3) + " s", fmt(updates / median(times))]);
  }
  console.log(`## Batch of ${fmt(updates)} random updates on a ${fmt(tree.size)}-credential tree (leaves pre-hashed), median of ${RUNS}\n`);
  table(["updates", "hashing", "time", "updates/s"], rows);
}

function proofs(hasher: Hasher, tree: StatusTree) {
  const random = rng(99);
  const n = QUICK ? 20_000 : 200_000;
  const indexes = Array.from({ length: n }, () => Math.floor(random() * tree.size));
  const bytesRate =
    n /
    medianSeconds(RUNS, () => {
      for (const i of indexes) tree.proveBytes(i);
    });
  const hexRate =
    n /
    medianSeconds(RUNS, () => {
      for (const i of indexes) tree.prove(i);
    });
  // Verification needs the real record behind each leaf: prove synthetic records set for this.
  const m = QUICK ? 2_000 : 20_000;
  const records: StatusRecord[] = Array.from({ length: m }, (_, k) => ({
    ...emptyRecord(tree.size + k),
    status: Status.Active,
    batch: 9,
    credentialCommitment: bytesToHex(hasher.hash(new Uint8Array([k & 255, k >> 8]))),
    deviceKeyHash: bytesToHex(hasher.hash(new Uint8Array([k >> 8, k & 255]))),
  }));
  tree.applyRecords(records);
  const root = tree.root;
  const withProofs = records.map((record) => ({ record, proof: tree.prove(record.index) }));
  let ok = 0;
  const verifyRate =
    m /
    medianSeconds(RUNS, () => {
      ok = 0;
      for (const { record, proof } of withProofs) ok += verifyStatusProof(hasher, root, record, proof, DEPTH) ? 1 : 0;
    });
  if (ok !== m) throw new Error(`only ${ok} of ${m} proofs verified`);
  console.log(`## Proofs on a ${fmt(tree.size)}-credential tree (depth ${DEPTH}, one core), median of ${RUNS}\n`);
  table(
    ["operation", "per second"],
    [
      ["generate (raw bytes)", fmt(bytesRate)],
      ["generate (hex strings, as served)", fmt(hexRate)],
      ["verify (record + hex proof + root)", fmt(verifyRate)],
    ],
  );
}

function snapshot(hasher: Hasher, tree: StatusTree) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "status-tree-"));
  const file = path.join(dir, "tree.snapshot");
  try {
    const write = time(() => writeFileSync(file, Buffer.concat(tree.snapshot())));
    const read = time(() => StatusTree.restore(hasher, readFileSync(file)));
    if (read.value.root !== tree.root) throw new Error("restored root differs");
    console.log(`## Snapshot of the ${fmt(tree.size)}-credential tree\n`);
    table(
      ["step", "time", "size"],
      [
        ["snapshot + write", fmt(write.seconds, 2) + " s", mib(readFileSync(file).length)],
        ["read + restore (checksum, no re-hashing)", fmt(read.seconds, 2) + " s", ""],
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function peers(hasher: Hasher) {
  const size = QUICK ? 100_000 : 1_000_000;
  const leaves = leavesFor(hasher, size);
  const ours = medianSeconds(RUNS, () =>
    new StatusTree(hasher, DEPTH, size).applyLeaves(
      Float64Array.from({ length: size }, (_, i) => i),
      leaves,
    ),
  );
  const buffers = Array.from({ length: size }, (_, i) => Buffer.from(leaves.buffer, i * 32, 32));
  const keccak = (data: Buffer) => Buffer.from(hasher.hash(data));
  const theirs = medianSeconds(RUNS, () => new MerkleTree(buffers, keccak, { sortPairs: true }));
  const ozSize = 100_000;
  const values = Array.from({ length: ozSize }, (_, i) => [i, bytesToHex(leaves.subarray(i * 32, i * 32 + 32))]);
  const oz = medianSeconds(1, () => StandardMerkleTree.of(values, ["uint64", "bytes32"]));
  const ours100k = medianSeconds(RUNS, () =>
    new StatusTree(hasher, DEPTH, ozSize).applyLeaves(
      Float64Array.from({ length: ozSize }, (_, i) => i),
      leaves.subarray(0, ozSize * 32),
    ),
  );
  console.log("## Reference ratios: the same leaves through other Merkle libraries (full rebuild, pre-hashed leaves)\n");
  table(
    ["library", "leaves", "time", "ours (depth-32 sparse tree)", "ours faster by"],
    [
      [
        "merkletreejs (sortPairs, same hash-wasm keccak)",
        fmt(size),
        fmt(theirs, 2) + " s",
        fmt(ours, 2) + " s",
        `${fmt(theirs / ours, 1)}x`,
      ],
      [
        "@openzeppelin/merkle-tree StandardMerkleTree.of",
        fmt(ozSize),
        fmt(oz, 2) + " s",
        fmt(ours100k, 3) + " s",
        `${fmt(oz / ours100k, 1)}x`,
      ],
    ],
  );
}

async function main() {
  const hasher = await Hasher.create();
  console.log(`# Core benchmarks (${os.cpus().length} cores, ${os.cpus()[0].model}, node ${process.version})\n`);
  const raw = rawKeccak(hasher);
  const parallel = await ParallelHasher.create();
  const tree = builds(hasher, raw, parallel);
  batchUpdate(hasher, tree, parallel);
  proofs(hasher, tree);
  snapshot(hasher, tree);
  peers(hasher);
  await parallel.close();
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
