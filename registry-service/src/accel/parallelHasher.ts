import path from "node:path";
import { MessageChannel, Worker, type MessagePort } from "node:worker_threads";
import { NODE_PREFIX, PREIMAGE_STRIDE, type BulkNodeHasher, type Hasher } from "../core";

/**
 * Splits large levels of node hashing between this thread and one worker thread, through shared
 * memory and Atomics, so StatusTree's API stays synchronous. Pays off above a few thousand nodes
 * per level (see docs/performance.md); StatusTree uses it only there.
 *
 * Node-only (worker_threads, Atomics.wait on the main thread): the verifier SDK never needs it.
 */
export class ParallelHasher implements BulkNodeHasher {
  private input!: Uint8Array;
  private inputWords!: Int32Array;
  private output!: Uint8Array;
  private outputWords!: Int32Array;
  private generation = 0;
  private capacity = 0;

  private constructor(
    private readonly worker: Worker,
    private readonly port: MessagePort,
    private readonly control: Int32Array,
  ) {}

  static async create(initialCapacity = 1 << 16): Promise<ParallelHasher> {
    const { port1, port2 } = new MessageChannel();
    const control = new Int32Array(new SharedArrayBuffer(16));
    const shared = ParallelHasher.buffers(initialCapacity);
    const worker = new Worker(path.join(__dirname, "keccakWorker.js"), {
      workerData: { control: control.buffer, input: shared.input, output: shared.output, port: port2 },
      transferList: [port2],
    });
    await new Promise<void>((resolve, reject) => {
      worker.once("message", () => resolve());
      worker.once("error", reject);
    });
    worker.unref();
    const hasher = new ParallelHasher(worker, port1, control);
    hasher.adopt(shared, initialCapacity);
    return hasher;
  }

  /** Shared input for `count` preimages, as words: preimage i starts at word 17 i. */
  preimageWords(count: number): Int32Array {
    if (count > this.capacity) {
      let capacity = this.capacity;
      while (capacity < count) capacity *= 2;
      const shared = ParallelHasher.buffers(capacity);
      this.port.postMessage(shared); // the worker picks it up synchronously with the next job
      this.adopt(shared, capacity);
    }
    return this.inputWords;
  }

  /** Hashes preimages [0, count): this thread takes the first half, the worker the rest. */
  hashPreimages(count: number, hasher: Hasher): Int32Array {
    const split = count >>> 1;
    const control = this.control;
    this.generation++;
    control[1] = split;
    control[2] = count;
    Atomics.store(control, 0, this.generation);
    Atomics.notify(control, 0);
    const input = this.input;
    const output = this.output;
    for (let i = 0; i < split; i++) {
      output.set(hasher.hash(input.subarray(i * PREIMAGE_STRIDE + 3, (i + 1) * PREIMAGE_STRIDE)), i * 32);
    }
    for (;;) {
      const done = Atomics.load(control, 3);
      if (done === this.generation) break;
      Atomics.wait(control, 3, done);
    }
    return this.outputWords;
  }

  async close(): Promise<void> {
    Atomics.store(this.control, 0, -1);
    Atomics.notify(this.control, 0);
    this.port.close();
    await this.worker.terminate();
  }

  private adopt(shared: { input: SharedArrayBuffer; output: SharedArrayBuffer }, capacity: number) {
    this.input = new Uint8Array(shared.input);
    this.inputWords = new Int32Array(shared.input);
    this.output = new Uint8Array(shared.output);
    this.outputWords = new Int32Array(shared.output);
    for (let i = 0; i < capacity; i++) this.input[i * PREIMAGE_STRIDE + 3] = NODE_PREFIX; // once
    this.capacity = capacity;
  }

  private static buffers(capacity: number) {
    return { input: new SharedArrayBuffer(capacity * PREIMAGE_STRIDE), output: new SharedArrayBuffer(capacity * 32) };
  }
}
