import { rm } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { ChunkFileReader, journalPositionAt, positionChange, writeChunksDurably, type Journal } from "../journal";
import { checkpointChunks, readCheckpoint } from "./checkpointFormat";
import { IntakeState, type RebuiltState } from "./intakeState";

/** Why a start scanned the journal instead of restoring the checkpoint: there was none, it is not the journal's current state, or it is not intact. */
export type CheckpointRefusal = "ABSENT" | "STALE" | "UNREADABLE";

/** Where intake's state came from on open, for the start's log. */
export type StateOrigin = { entries: number; ms: number } & (
  { from: "checkpoint" } | { from: "journal"; refused: CheckpointRefusal; reason: string }
);

/**
 * Writes intake's state to `file` (format ISC1, checkpointFormat.ts), tied to where the journal
 * stands, for the next start to restore instead of scanning the journal. For a graceful stop:
 * nothing may change the state until it resolves. Written only when the state is the one a scan of
 * the journal gives (its entries, the batch cut last and the batch anchored last); else nothing is
 * written and the answer says why.
 */
export async function writeStateCheckpoint(
  file: string,
  journal: Journal,
  state: IntakeState,
  anchoredBatch: number,
): Promise<string | undefined> {
  const position = await journalPositionAt(journal, state.counters.nextSeq);
  if (typeof position === "string") return `intake's state ends at entry ${state.counters.nextSeq - 1}, but ${position}`;
  if (position.anchoredBatch !== anchoredBatch)
    return `intake counts batch ${anchoredBatch} anchored, the journal batch ${position.anchoredBatch}`;
  if (position.latestBatch !== state.counters.cutThrough)
    return `intake cut batch ${state.counters.cutThrough} last, the journal records batch ${position.latestBatch} last`;
  await writeChunksDurably(file, await checkpointChunks(position, state));
  return undefined;
}

/**
 * Intake's state over `journal`: from the checkpoint in `file` when it is the journal's current
 * state (same position: nothing appended, no batch record changed since it was written) and reads
 * back intact, else by one scan of the journal. The checkpoint is deleted either way before this
 * resolves, so that a crash later (the journal then grows) can never bring it back.
 */
export async function openIntakeState(journal: Journal, file?: string): Promise<RebuiltState & { origin: StateOrigin }> {
  const started = performance.now();
  const restored = file === undefined ? refusal("ABSENT", "no checkpoint file is configured") : await restoreOnce(journal, file);
  const ms = () => Math.round(performance.now() - started);
  if (!("refused" in restored)) return { ...restored, origin: { from: "checkpoint", entries: restored.state.counters.nextSeq, ms: ms() } };
  const scanned = await IntakeState.rebuild(journal);
  return { ...scanned, origin: { from: "journal", ...restored, entries: scanned.state.counters.nextSeq, ms: ms() } };
}

function refusal(refused: CheckpointRefusal, reason: string) {
  return { refused, reason };
}

/** restore(), then the checkpoint (and a temporary file a stop left behind) deleted. */
async function restoreOnce(journal: Journal, file: string) {
  try {
    return await restore(journal, file);
  } finally {
    await Promise.all([rm(file, { force: true }), rm(`${file}.tmp`, { force: true })]);
  }
}

async function restore(journal: Journal, file: string): Promise<RebuiltState | ReturnType<typeof refusal>> {
  const reader = await ChunkFileReader.open(file);
  if (!reader) return refusal("ABSENT", "no state checkpoint: the last stop was not graceful, or this is the first start");
  try {
    const checkpoint = await readCheckpoint(reader).catch((error: Error) => error);
    if (checkpoint instanceof Error) return refusal("UNREADABLE", `the state checkpoint cannot be read: ${checkpoint.message}`);
    const then = checkpoint.header.position;
    const now = await journalPositionAt(journal, then.nextSeq);
    const change = typeof now === "string" ? now : positionChange(then, now);
    if (change) return refusal("STALE", `the state checkpoint was written at entry ${then.nextSeq - 1}, and since then ${change}`);
    const state = await checkpoint.state().catch((error: Error) => error);
    if (state instanceof Error) return refusal("UNREADABLE", `the state checkpoint cannot be read: ${state.message}`);
    return { state, anchored: { records: state.anchored, batch: then.anchoredBatch } };
  } finally {
    await reader.close();
  }
}
