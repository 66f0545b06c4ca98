export interface PostgresCluster {
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
  restart(): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
}
export function findPostgresBinaries(): string | null;
export function freeLowPort(): Promise<number>;
export function startPostgresCluster(options?: { port?: number; fsync?: boolean }): Promise<PostgresCluster>;
