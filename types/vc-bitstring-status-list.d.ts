// @digitalbazaar/vc-bitstring-status-list ships no types: what the interop test uses of it.
declare module "@digitalbazaar/vc-bitstring-status-list" {
  export class BitstringStatusList {
    readonly length: number;
    getStatus(index: number): boolean;
    static decode(options: { encodedList: string }): Promise<BitstringStatusList>;
  }
}
