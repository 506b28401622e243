// Worker half of ParallelHasher: hashes node preimages [start, end) from shared memory on request.
// Plain JavaScript so that it starts without a TypeScript loader.
const { workerData, receiveMessageOnPort, parentPort } = require("node:worker_threads");
const { createKeccak } = require("hash-wasm");

const STRIDE = 68; // 3 padding bytes, prefix, left, right: word-aligned children

async function main() {
  const keccak = await createKeccak(256);
  const control = new Int32Array(workerData.control);
  let input = new Uint8Array(workerData.input);
  let output = new Uint8Array(workerData.output);
  parentPort.postMessage("ready");
  let generation = 0;
  for (;;) {
    Atomics.wait(control, 0, generation);
    generation = Atomics.load(control, 0);
    if (generation < 0) return;
    const resized = receiveMessageOnPort(workerData.port);
    if (resized) {
      input = new Uint8Array(resized.message.input);
      output = new Uint8Array(resized.message.output);
    }
    const end = control[2];
    for (let i = control[1]; i < end; i++) {
      keccak.init();
      keccak.update(input.subarray(i * STRIDE + 3, i * STRIDE + STRIDE));
      output.set(keccak.digest("binary"), i * 32);
    }
    Atomics.store(control, 3, generation);
    Atomics.notify(control, 3);
  }
}

main();
