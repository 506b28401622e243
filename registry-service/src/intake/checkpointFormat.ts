import { createXXHash64, type IHasher } from "hash-wasm";
import { bytesToHex, hexToBytes, RECORD_LENGTH, RecordTable, type Hex } from "../core";
import type { ChunkFileReader, JournalPosition } from "../journal";
import { IntakeState, nonceKey, type BatchShare } from "./intakeState";

/**
 * The state checkpoint's bytes (format ISC1), in order:
 *   magic "ISC1" (4) || byte-order mark (4, platform order) || NUMBERS (float64 each) || the
 *     journal position's lastEntry (32) and batches (32) hashes
 *   the record table's chunks as they are in memory (RecordTable.chunkedBytes(records) bytes)
 *   the device index's slots (4 bytes each, platform order)
 *   the anchored bytes kept aside: index (float64) || record (82), per record
 *   the nonces: signer (20) || nonce (32) || sequence number (float64), per nonce
 *   the batch shares: batch, first (-1: none), end, entries, events, bytes, late entries (float64 each)
 *   the shares' late entries, in the shares' order (float64 each)
 *   xxHash64 of everything before it (8)
 * Numbers are big-endian float64 but for the slots, which are written as they are in memory (the
 * mark makes a machine of the other byte order refuse them). The header gives every count, so a
 * truncated file is caught by its length before anything is allocated; the checksum catches the rest.
 */
const MAGIC = 0x49534331;
const BYTE_ORDER_MARK = 1;
const NUMBERS = [
  ...["nextSeq", "latestBatch", "anchoredBatch"], // the journal position
  ...["nextIndex", "openBatch", "cutThrough"], // the counters (nextSeq is the position's)
  ...["records", "deviceSeed", "deviceCount", "deviceSlots", "anchoredSize", "kept", "nonces", "shares", "late"],
] as const;
type Numbers = Record<(typeof NUMBERS)[number], number>;
const HEADER_LENGTH = 8 + NUMBERS.length * 8 + 64;
const KEPT_ROW = 8 + RECORD_LENGTH;
const NONCE_ROW = 20 + 32 + 8;
const SHARE_ROW = 7 * 8;
const LATE_ROW = 8;
const CHECKSUM_LENGTH = 8;
/** rows packed into one block written or read (about 1 MiB) */
const BLOCK_BYTES = 2 ** 20;

/** A checkpoint's header: the journal position it reflects and the counts of what follows. */
export interface CheckpointHeader {
  position: JournalPosition;
  numbers: Numbers;
}

/**
 * The checkpoint of `state`, taken at journal `position`, as chunks made as they are taken: the
 * record chunks and the device slots are the state's own (not copies), the rest is packed a block
 * at a time. The state must not change until the last chunk is taken.
 */
export async function checkpointChunks(position: JournalPosition, state: IntakeState): Promise<Generator<Uint8Array>> {
  const checksum = await createXXHash64();
  checksum.init();
  return summed(chunks(position, state), checksum);
}

function* summed(chunks: Iterable<Uint8Array>, checksum: IHasher): Generator<Uint8Array> {
  for (const chunk of chunks) {
    checksum.update(chunk);
    yield chunk;
  }
  yield checksum.digest("binary");
}

function* chunks(position: JournalPosition, state: IntakeState): Generator<Uint8Array> {
  const { records, anchored, devices, nonces, shares } = state.parts();
  const { seed, count, slots } = devices.saved();
  const kept = anchored.keptAside();
  const late = [...shares.values()].flatMap((share) => share.late);
  const { nextSeq, latestBatch, anchoredBatch } = position;
  const { nextIndex, openBatch, cutThrough } = state.counters;
  const sizes = { records: records.size, deviceSeed: seed, deviceCount: count, deviceSlots: slots.length, anchoredSize: anchored.size };
  const numbers = { nextSeq, latestBatch, anchoredBatch, nextIndex, openBatch, cutThrough, ...sizes };
  yield encodeHeader(position, { ...numbers, kept: kept.size, nonces: nonces.size, shares: shares.size, late: late.length });
  yield* records.chunkBytes();
  yield new Uint8Array(slots.buffer, slots.byteOffset, slots.byteLength);
  yield* rows(kept, KEPT_ROW, (view, bytes, at, [index, raw]) => {
    view.setFloat64(at, index);
    bytes.set(raw, at + 8);
  });
  yield* rows(nonces, NONCE_ROW, (view, bytes, at, [key, seq]) => {
    const [signer, nonce] = key.split(":") as [Hex, Hex];
    bytes.set(hexToBytes(signer, 20, "signer"), at);
    bytes.set(hexToBytes(nonce, 32, "nonce"), at + 20);
    view.setFloat64(at + 52, seq);
  });
  yield* rows(shares, SHARE_ROW, (view, _bytes, at, [batch, share]) =>
    [batch, share.first ?? -1, share.end, share.entries, share.events, share.bytes, share.late.length].forEach((value, i) =>
      view.setFloat64(at + i * 8, value),
    ),
  );
  yield* rows(late, LATE_ROW, (view, _bytes, at, seq) => view.setFloat64(at, seq));
}

function encodeHeader(position: JournalPosition, numbers: Numbers): Uint8Array {
  const header = new Uint8Array(HEADER_LENGTH);
  const view = new DataView(header.buffer);
  view.setUint32(0, MAGIC);
  new Uint32Array(header.buffer, 4, 1)[0] = BYTE_ORDER_MARK;
  NUMBERS.forEach((name, i) => view.setFloat64(8 + i * 8, numbers[name]));
  header.set(position.lastEntry, HEADER_LENGTH - 64);
  header.set(position.batches, HEADER_LENGTH - 32);
  return header;
}

/** `items` encoded `rowBytes` each by `row`, in blocks of about BLOCK_BYTES. */
function* rows<T>(
  items: Iterable<T>,
  rowBytes: number,
  row: (view: DataView, bytes: Uint8Array, at: number, item: T) => void,
): Generator<Uint8Array> {
  const blockBytes = Math.floor(BLOCK_BYTES / rowBytes) * rowBytes;
  let bytes = new Uint8Array(blockBytes);
  let view = new DataView(bytes.buffer);
  let at = 0;
  for (const item of items) {
    row(view, bytes, at, item);
    at += rowBytes;
    if (at === blockBytes) {
      yield bytes;
      [bytes, at] = [new Uint8Array(blockBytes), 0];
      view = new DataView(bytes.buffer);
    }
  }
  if (at > 0) yield bytes.subarray(0, at);
}

/**
 * Reads a checkpoint in two steps: its header at once (the caller checks the position against the
 * journal before anything large is read), then `state()`, the rest read straight into a new
 * IntakeState. Both throw an Error saying what does not add up (the file's length, the header, the
 * checksum): the caller then scans the journal.
 */
export async function readCheckpoint(file: ChunkFileReader): Promise<{ header: CheckpointHeader; state(): Promise<IntakeState> }> {
  const checksum = await createXXHash64();
  checksum.init();
  const read = async (into: Uint8Array) => {
    checksum.update(await file.read(into));
    return into;
  };
  if (file.size < HEADER_LENGTH) throw new Error(`it is ${file.size} bytes, shorter than its header`);
  const header = decodeHeader(await read(new Uint8Array(HEADER_LENGTH)));
  const expected = HEADER_LENGTH + bodyLength(header.numbers);
  if (file.size !== expected) throw new Error(`it is ${file.size} bytes, its header describes ${expected} (truncated or corrupt)`);
  return {
    header,
    async state() {
      const state = await readState(read, header.numbers);
      const stored = await file.read(new Uint8Array(CHECKSUM_LENGTH));
      if (bytesToHex(stored) !== bytesToHex(checksum.digest("binary"))) throw new Error("its checksum does not match its bytes (corrupt)");
      return state;
    },
  };
}

function decodeHeader(header: Uint8Array): CheckpointHeader {
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  if (view.getUint32(0) !== MAGIC) throw new Error("it is not a state checkpoint of format ISC1 (wrong magic number)");
  if (new Uint32Array(header.buffer, header.byteOffset + 4, 1)[0] !== BYTE_ORDER_MARK)
    throw new Error("it was written on a machine of the other byte order");
  const numbers = Object.fromEntries(NUMBERS.map((name, i) => [name, view.getFloat64(8 + i * 8)])) as Numbers;
  for (const name of NUMBERS) {
    const value = numbers[name];
    const fits = name === "deviceSeed" ? value === (value | 0) : Number.isSafeInteger(value) && value >= 0;
    if (!fits) throw new Error(`its header has ${name} ${value}`);
  }
  const { nextSeq, latestBatch, anchoredBatch } = numbers;
  const lastEntry = header.slice(HEADER_LENGTH - 64, HEADER_LENGTH - 32);
  return { numbers, position: { nextSeq, latestBatch, anchoredBatch, lastEntry, batches: header.slice(HEADER_LENGTH - 32) } };
}

/** Bytes after the header, checksum included. */
function bodyLength(n: Numbers): number {
  const rowBytes = n.kept * KEPT_ROW + n.nonces * NONCE_ROW + n.shares * SHARE_ROW + n.late * LATE_ROW;
  return RecordTable.chunkedBytes(n.records) + n.deviceSlots * 4 + rowBytes + CHECKSUM_LENGTH;
}

type Read = (into: Uint8Array) => Promise<Uint8Array>;

async function readState(read: Read, n: Numbers): Promise<IntakeState> {
  const state = new IntakeState();
  const { records, anchored, devices, nonces, shares } = state.parts();
  for (const chunk of records.restoreChunks(n.records)) await read(chunk);
  const slots = new Uint32Array(n.deviceSlots);
  await read(new Uint8Array(slots.buffer));
  devices.restore({ seed: n.deviceSeed, count: n.deviceCount, slots });
  const kept: [number, Uint8Array][] = [];
  await readRows(read, n.kept, KEPT_ROW, (view, bytes, at) => kept.push([view.getFloat64(at), bytes.slice(at + 8, at + KEPT_ROW)]));
  anchored.restore(n.anchoredSize, kept);
  await readRows(read, n.nonces, NONCE_ROW, (view, bytes, at) => {
    const key = nonceKey(bytesToHex(bytes.subarray(at, at + 20)), bytesToHex(bytes.subarray(at + 20, at + 52)));
    nonces.set(key, view.getFloat64(at + 52));
  });
  const lateCounts: number[] = [];
  await readRows(read, n.shares, SHARE_ROW, (view, _bytes, at) => {
    const [batch, first, end, entries, events, bytes, late] = Array.from({ length: 7 }, (_, i) => view.getFloat64(at + i * 8));
    const share: BatchShare = { end, late: [], entries, events, bytes };
    if (first >= 0) share.first = first;
    shares.set(batch, share);
    lateCounts.push(late);
  });
  await readLate(read, n.late, [...shares.values()], lateCounts);
  state.counters = { nextIndex: n.nextIndex, nextSeq: n.nextSeq, openBatch: n.openBatch, cutThrough: n.cutThrough };
  return state;
}

/** The late entries, handed out to the shares by their counts. */
async function readLate(read: Read, total: number, shares: BatchShare[], counts: number[]): Promise<void> {
  if (counts.reduce((sum, count) => sum + (Number.isSafeInteger(count) && count >= 0 ? count : NaN), 0) !== total)
    throw new Error(`its shares count other late entries than its header (${total})`);
  let share = 0;
  await readRows(read, total, LATE_ROW, (view, _bytes, at) => {
    while (shares[share].late.length === counts[share]) share++;
    shares[share].late.push(view.getFloat64(at));
  });
}

/** Reads `count` rows of `rowBytes` in blocks of about BLOCK_BYTES, handing each to `row`. */
async function readRows(read: Read, count: number, rowBytes: number, row: (view: DataView, bytes: Uint8Array, at: number) => void) {
  const perBlock = Math.floor(BLOCK_BYTES / rowBytes);
  for (let done = 0; done < count; done += perBlock) {
    const bytes = await read(new Uint8Array(Math.min(perBlock, count - done) * rowBytes));
    const view = new DataView(bytes.buffer);
    for (let at = 0; at < bytes.length; at += rowBytes) row(view, bytes, at);
  }
}
