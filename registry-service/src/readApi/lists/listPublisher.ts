import { createHash } from "node:crypto";
import { deflateSync, gzipSync } from "node:zlib";
import {
  bitstringCredential,
  LIST_SIZE,
  ListChunk,
  listPosition,
  statusListClaims,
  type BitstringPurpose,
  type Hex,
  type ListAnchor,
  type Status,
} from "../../core";
import type { AnchoredState } from "../statusReader";
import type { ListSigner } from "./listSigner";

/** An anchored state lists can be published from: it says each index's status cheaply and tells when it moves. */
export interface ListedState extends AnchoredState {
  /** indexes handed out as of the anchor (one past the highest) */
  readonly size: number;
  /** an index's status as of the anchor (NONE when unused) */
  status(index: number): Status;
  /** called synchronously, after each anchored batch, with the indexes it changed */
  onAdvance(listener: (changed: readonly number[]) => void): void;
}

export interface ListSettings {
  signer: ListSigner;
  /** the lists' public base URL (their `sub` and `id` start with it), without a trailing slash */
  baseUrl: string;
  /** the W3C credentials' issuer (a URL or DID) */
  issuer: string;
  registry: Hex;
  chainId: number;
  /** how long a consumer may cache a list (the token's ttl, Cache-Control max-age), seconds */
  ttlSeconds: number;
  /** how long a signed list stays valid (exp - iat), seconds */
  validitySeconds: number;
  /** zlib/gzip level, 1 to 9 (default 6: level 9 is 10 times slower for lists 17 % smaller, docs/performance.md) */
  compressionLevel?: number;
  /** wall clock in ms, replaceable in tests */
  now?: () => number;
}

/** The forms one list is published in. */
export type ListFormat = "jwt" | "cwt" | BitstringPurpose;

/** A signed list, ready to serve. */
export interface PublishedList {
  body: string | Uint8Array;
  contentType: string;
  etag: string;
  anchor: ListAnchor;
}

/** One list's compressed entries, as of the batch they were built at. */
interface Compressed {
  token: Uint8Array;
  revocation: Uint8Array;
  suspension: Uint8Array;
}

/** Where each list is served (docs/spec.md 7.3). */
export const listPath = {
  token: (list: number) => `/v1/lists/token/${list}`,
  bitstring: (purpose: BitstringPurpose, list: number) => `/v1/lists/bitstring/${purpose}/${list}`,
};

/**
 * The standard status lists of an anchored state, kept incrementally: each anchored batch updates the
 * entries it changed and marks their lists for re-compression; a list is compressed again only when
 * it changed, and signed (lazily, once per anchored batch and form) with the anchor it derives from.
 */
export class ListPublisher {
  private readonly chunks: ListChunk[] = [];
  private readonly compressed = new Map<number, Compressed>();
  private readonly signed = new Map<string, Promise<PublishedList>>();
  /** bumped at every anchored batch: a signature begun under an earlier one is not cached */
  private generation = 0;
  private rebuilding?: Promise<void>;

  constructor(
    private readonly state: ListedState,
    readonly settings: ListSettings,
  ) {
    for (let index = 0; index < state.size; index++) this.entry(index, state.status(index));
    state.onAdvance((changed) => this.changed(changed));
  }

  /** How many lists are published: enough for every index handed out, and at least one. */
  get count(): number {
    return Math.max(1, Math.ceil(this.state.size / LIST_SIZE));
  }

  /** The anchor the state stands at, as lists name it. */
  anchor(): ListAnchor {
    const { tree, anchor } = this.state;
    const { registry, chainId } = this.settings;
    return {
      batch: anchor?.batch ?? 0,
      statusRoot: tree.root,
      transactionHash: anchor?.transactionHash ?? null,
      blockNumber: anchor?.blockNumber ?? null,
      registry,
      chainId,
    };
  }

  /** List `list` in `format`, signed under the current anchor (undefined when no such list is published). */
  publish(list: number, format: ListFormat): Promise<PublishedList> | undefined {
    if (!Number.isSafeInteger(list) || list < 0 || list >= this.count) return undefined;
    const key = `${format}/${list}`;
    const cached = this.signed.get(key);
    if (cached) return cached;
    // read synchronously together: the entries and the anchor they are as of
    const anchor = this.anchor();
    const compressed = this.compressedList(list);
    const generation = this.generation;
    const signing = this.sign(list, format, anchor, compressed);
    if (generation === this.generation) this.signed.set(key, signing);
    signing.catch(() => this.signed.delete(key));
    return signing;
  }

  private async sign(list: number, format: ListFormat, anchor: ListAnchor, compressed: Compressed): Promise<PublishedList> {
    const { signer, baseUrl, issuer, ttlSeconds, validitySeconds } = this.settings;
    const iat = Math.floor((this.settings.now ?? Date.now)() / 1000);
    const times = { iat, exp: iat + validitySeconds, ttl: ttlSeconds };
    let body: string | Uint8Array;
    let contentType: string;
    if (format === "jwt" || format === "cwt") {
      const claims = statusListClaims(baseUrl + listPath.token(list), compressed.token, times, anchor);
      [body, contentType] =
        format === "jwt"
          ? [await signer.jwt(claims, "statuslist+jwt"), "application/statuslist+jwt"]
          : [signer.cwt(claims, compressed.token), "application/statuslist+cwt"];
    } else {
      const uri = baseUrl + listPath.bitstring(format, list);
      const credential = bitstringCredential(uri, issuer, format, compressed[format], times, anchor);
      [body, contentType] = [await signer.jwt(credential, "vc+jwt", "vc"), "application/vc+jwt"];
    }
    return { body, contentType, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`, anchor };
  }

  /** A list's compressed forms: rebuilt when a batch changed it, else the ones kept. */
  private compressedList(list: number): Compressed {
    let compressed = this.compressed.get(list);
    if (!compressed) {
      compressed = compressChunk(this.chunks[list] ?? new ListChunk(), this.settings.compressionLevel);
      this.compressed.set(list, compressed);
    }
    return compressed;
  }

  private entry(index: number, status: Status): void {
    const { list, position } = listPosition(index);
    (this.chunks[list] ??= new ListChunk()).set(position, status);
    this.compressed.delete(list);
  }

  private changed(indexes: readonly number[]): void {
    for (const index of indexes) this.entry(index, this.state.status(index));
    this.generation++;
    this.signed.clear();
    void this.rebuild();
  }

  /**
   * Re-compresses the lists the last batches changed, one list per turn of the event loop (readers
   * and the anchorer go on between two), so that the first reader after a batch does not wait for it.
   * A reader of a list not rebuilt yet has it compressed at once. Resolves when none is left.
   */
  rebuild(): Promise<void> {
    this.rebuilding ??= this.rebuildAll().finally(() => (this.rebuilding = undefined));
    return this.rebuilding;
  }

  private async rebuildAll(): Promise<void> {
    // the next list a batch changed, from the start each time: one may change again while this runs
    const dirty = () => [...Array(this.count).keys()].find((list) => !this.compressed.has(list));
    for (let list = dirty(); list !== undefined; list = dirty()) {
      await new Promise((resolve) => setImmediate(resolve));
      this.compressedList(list);
    }
  }
}

/** The list's entries compressed as each format wants them: zlib for the token list, gzip for the bitstrings. */
export function compressChunk(chunk: ListChunk, level = 6): Compressed {
  return {
    token: deflateSync(chunk.token, { level }),
    revocation: gzipSync(chunk.revocation, { level }),
    suspension: gzipSync(chunk.suspension, { level }),
  };
}
