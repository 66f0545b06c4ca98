/**
 * `omise-webhook doctor`: each check looks at one thing a receiver needs, says in one line
 * what it found, and what to do when something is wrong. The checks decide; everything that
 * touches the machine or the network is a probe handed in, so every verdict is testable.
 */
import { signOmisePayload } from '@omise-webhook/events';
import { maskDatabaseUrl } from './mask-database-url.js';
import { maskSecret } from './mask-secret.js';
import type { VerificationMode } from './ports.js';
import { WEBHOOK_SECRET_ADVICE } from './secret-advice.js';
import { checkPublicUrl, OMISE_TEST_WEBHOOKS_PAGE } from './tunnel.js';

/** `error` blocks receiving (exit status 1); `warn` deserves attention; `skip` was not applicable. */
export type CheckStatus = 'ok' | 'warn' | 'error' | 'skip';

export interface CheckResult {
  /** Stable id: `dotenv`, `secret-key`, `omise-api`, `webhook-secret`, `verification`, `port`, `ui-port`, `log-dir`, `store` (with PostgreSQL also `store-schema`, `store-privileges`), `public-url`, and `running-serve` when serve already runs. */
  id: string;
  label: string;
  status: CheckStatus;
  /** What was found, in plain words; never a secret in full. */
  message: string;
  /** What to do about it; null when nothing needs doing. */
  fix: string | null;
}

export type ApiProbeResult =
  | { kind: 'ok'; total: number | null }
  /** 401/403: the key was refused. */
  | { kind: 'rejected'; status: number; code: string; message: string }
  /** Network error or timeout. */
  | { kind: 'unreachable'; message: string }
  /** Anything else (5xx, not JSON). */
  | { kind: 'error'; status: number; code: string; message: string };

export type PortProbeResult =
  | { kind: 'free' }
  | { kind: 'in_use' }
  | { kind: 'denied' }
  | { kind: 'no_such_address' }
  | { kind: 'error'; message: string };

/** What answered on a port that is in use, asked over HTTP on loopback. */
export type ListenerProbeResult =
  /** `GET /healthz` answered as `omise-webhook serve` (its webhook listener). */
  | { kind: 'serve' }
  /** `GET /api/status` answered as serve's inspector, with what the running serve uses. */
  | { kind: 'inspector'; status: RunningServeStatus }
  /** The inspector answered 401: it needs its token (--ui-token) before it says more. */
  | { kind: 'inspector_locked' }
  /** Not serve, or nothing that speaks HTTP. */
  | { kind: 'unknown' };

/** The part of the inspector's `GET /api/status` that doctor reports on. */
export interface RunningServeStatus {
  webhookUrl: string;
  publicUrl: string | null;
  verificationMode: string;
}

export type DirectoryProbeResult = { kind: 'writable'; exists: boolean } | { kind: 'not_writable'; message: string };

export type StoreProbeResult =
  | { kind: 'opened'; file: string; events: number }
  /** No store file yet; SQLite itself works, so `serve` will create it. */
  | { kind: 'absent'; file: string }
  | { kind: 'failed'; file: string; message: string };

/** Why a PostgreSQL store could not be used, for the advice that goes with each. */
export type PostgresProblem = 'refused' | 'unknown_host' | 'auth_failed' | 'no_database' | 'timeout' | 'other';

export type PostgresProbeResult =
  | { kind: 'unreachable'; problem: PostgresProblem; message: string }
  | {
      kind: 'reachable';
      serverVersion: string;
      /** omise-webhook's schema version in the database; null when it never ran there. */
      schemaVersion: number | null;
      /** The version this omise-webhook writes. */
      codeSchemaVersion: number;
      canCreate: boolean;
      canWrite: boolean;
      /** A read that failed after connecting (never the password). */
      error?: string;
    };

/** Everything the checks need from the outside world. */
export interface DoctorProbes {
  /** `GET /events?limit=1` with the key. */
  omiseApi(options: { secretKey: string; apiUrl: string }): Promise<ApiProbeResult>;
  /** Tries to listen on host:port, and lets go at once. */
  port(options: { host: string; port: number }): Promise<PortProbeResult>;
  /** Asks what holds a busy port: serve's `/healthz`, then the inspector's `/api/status` (with the token, if any). */
  whoListens(options: { host: string; port: number; uiToken?: string }): Promise<ListenerProbeResult>;
  directory(path: string): Promise<DirectoryProbeResult>;
  store(logDir: string): Promise<StoreProbeResult>;
  /** Connects to the database (bounded by a timeout) and reads its version, schema version and privileges. */
  postgres(url: string): Promise<PostgresProbeResult>;
}

export interface DoctorInput {
  cwd: string;
  /** What reading `.env` found (see `loadDotenv`). */
  dotenv: { file: string | null; names: string[]; error: string | null };
  secretKey: string | undefined;
  /** The variable the key came from: `OMISE_SECRET_KEY` or the original app's `OMISE_TEST_SECRET_KEY`. */
  secretKeyVariable: string;
  webhookSecrets: string[];
  /** The verification mode `serve` would use, or why it would refuse to start. */
  verification: { mode: VerificationMode; forced: boolean } | { error: string };
  apiUrl: string;
  host: string;
  port: number;
  /** The inspector's listener (`--ui-host`, `--ui-port`); `ui: false` with `--no-ui`. */
  ui: boolean;
  uiHost: string;
  uiPort: number;
  /** `--ui-token`, sent to a running inspector so it tells doctor its settings. */
  uiToken?: string | undefined;
  path: string;
  logDir: string;
  store: 'sqlite' | 'memory' | 'postgres';
  /** With `store: 'postgres'`: the URL (holds the password: messages print it through maskDatabaseUrl). */
  databaseUrl?: string | undefined;
  tunnel: boolean;
  tunnelAuthtoken: string | undefined;
  tunnelDomain: string | undefined;
  /** `--public-url` as given (checked here, not by the option parser, so it becomes a line). */
  publicUrl: string | undefined;
}

const KEYS_HINT = 'the Omise dashboard → Keys (test mode)';
const SET_SECRET_KEY = `put your test secret key from ${KEYS_HINT} in .env as OMISE_SECRET_KEY=skey_test_...`;
const SET_WEBHOOK_SECRET = `${WEBHOOK_SECRET_ADVICE}: ${OMISE_TEST_WEBHOOKS_PAGE}`;

/** Below this a secret is almost surely cut short when pasted; Omise's are longer. */
const MIN_SECRET_BYTES = 16;
const MAX_SECRET_BYTES = 512;

function result(
  id: string,
  label: string,
  status: CheckStatus,
  message: string,
  fix: string | null = null,
): CheckResult {
  return { id, label, status, message, fix };
}

export function checkDotenv(input: DoctorInput): CheckResult {
  const { dotenv } = input;
  const label = '.env';
  if (dotenv.error) {
    return result(
      'dotenv',
      label,
      'error',
      dotenv.error,
      'make the file readable by this user (e.g. chmod 600 .env), or point --env-file (OMISE_WEBHOOK_ENV_FILE) at the right file',
    );
  }
  if (dotenv.file) {
    const names = dotenv.names.length > 0 ? `: ${dotenv.names.join(', ')}` : '';
    return result('dotenv', label, 'ok', `read ${dotenv.file} (${dotenv.names.length} variable(s)${names})`);
  }
  if (input.secretKey || input.webhookSecrets.length > 0) {
    return result('dotenv', label, 'ok', `no .env in ${input.cwd}; the settings come from the environment`);
  }
  return result(
    'dotenv',
    label,
    'warn',
    `no .env in ${input.cwd}, and no Omise settings in the environment`,
    `create ${input.cwd}/.env with OMISE_WEBHOOK_SECRET=... (and OMISE_SECRET_KEY=skey_test_...)`,
  );
}

export type SecretKeyKind = 'missing' | 'test' | 'live' | 'public' | 'unknown';

/** What kind of Omise key a value is, from its prefix. */
export function secretKeyKind(value: string | undefined): SecretKeyKind {
  const key = value?.trim();
  if (!key) return 'missing';
  if (key.startsWith('skey_test_')) return 'test';
  if (key.startsWith('skey_live_')) return 'live';
  if (key.startsWith('pkey_')) return 'public';
  return 'unknown';
}

export function checkSecretKey(input: DoctorInput): CheckResult {
  const label = 'OMISE_SECRET_KEY';
  const variable = input.secretKeyVariable;
  const masked = maskSecret(input.secretKey?.trim());
  switch (secretKeyKind(input.secretKey)) {
    case 'missing':
      return result(
        'secret-key',
        label,
        'warn',
        'not set: events cannot be checked against the Omise API, nor missed ones fetched',
        SET_SECRET_KEY,
      );
    case 'test':
      return result('secret-key', label, 'ok', `${masked} from ${variable} (test mode)`);
    case 'live':
      return result(
        'secret-key',
        label,
        'warn',
        `${masked} from ${variable} is a LIVE secret key: it can move real money, and this tool is for test mode (live events are refused without --allow-live)`,
        `use the skey_test_... key from ${KEYS_HINT}; keep the live key out of this machine's .env`,
      );
    case 'public':
      return result(
        'secret-key',
        label,
        'error',
        `${masked} in ${variable} is a PUBLIC key (pkey_); the API needs the secret key`,
        `replace it with the skey_test_... key shown beside it on ${KEYS_HINT}`,
      );
    case 'unknown':
      return result(
        'secret-key',
        label,
        'error',
        `${masked} in ${variable} does not look like an Omise secret key (they start with skey_test_ or skey_live_)`,
        SET_SECRET_KEY,
      );
  }
}

export async function checkOmiseApi(input: DoctorInput, probes: DoctorProbes): Promise<CheckResult> {
  const label = 'Omise API';
  const kind = secretKeyKind(input.secretKey);
  if (kind === 'missing' || kind === 'public' || kind === 'unknown') {
    return result('omise-api', label, 'skip', 'not checked: no usable secret key');
  }
  const usesApi =
    'mode' in input.verification && (input.verification.mode === 'api' || input.verification.mode === 'both');
  const probe = await probes.omiseApi({ secretKey: (input.secretKey as string).trim(), apiUrl: input.apiUrl });
  switch (probe.kind) {
    case 'ok':
      return result(
        'omise-api',
        label,
        'ok',
        `the key works: GET ${input.apiUrl}/events?limit=1 answered${probe.total === null ? '' : ` (${probe.total} event(s) on the account)`}`,
      );
    case 'rejected':
      return result(
        'omise-api',
        label,
        usesApi ? 'error' : 'warn',
        `${input.apiUrl} refused the key (HTTP ${probe.status} ${probe.code}: ${probe.message})${usesApi ? '; events cannot be verified with it' : ''}`,
        `copy the secret key again from ${KEYS_HINT}; it may have been rolled${input.apiUrl.includes('api.omise.co') ? '' : ` (or OMISE_API_URL ${input.apiUrl} is not the API you meant)`}`,
      );
    case 'unreachable':
      return result(
        'omise-api',
        label,
        'warn',
        `could not reach ${input.apiUrl} (${probe.message})${usesApi ? '; events will be accepted as pending and checked once it answers' : ''}`,
        'check the network connection, or OMISE_API_URL (--api-url)',
      );
    case 'error':
      return result(
        'omise-api',
        label,
        'warn',
        `${input.apiUrl} answered GET /events with HTTP ${probe.status} ${probe.code}: ${probe.message}`,
        'try again later; if OMISE_API_URL is set, check it points at the Omise API',
      );
  }
}

/** Bytes a base64 text decodes to, without decoding it. */
function base64Bytes(text: string): number {
  const padding = /=*$/.exec(text)?.[0].length ?? 0;
  return Math.floor((text.length * 3) / 4) - padding;
}

export async function checkWebhookSecret(input: DoctorInput): Promise<CheckResult> {
  const label = 'OMISE_WEBHOOK_SECRET';
  const secrets = input.webhookSecrets;
  if (secrets.length === 0) {
    return result('webhook-secret', label, 'warn', 'not set: webhook signatures are not checked', SET_WEBHOOK_SECRET);
  }
  const found: string[] = [];
  const doubts: string[] = [];
  for (const [index, secret] of secrets.entries()) {
    const which = secrets.length > 1 ? `secret #${index + 1} (${maskSecret(secret)})` : maskSecret(secret);
    try {
      await signOmisePayload({ payload: '', secret, timestamp: 0 });
    } catch (error) {
      return result(
        'webhook-secret',
        label,
        'error',
        `${which} cannot be used: ${error instanceof Error ? error.message : String(error)}`,
        SET_WEBHOOK_SECRET,
      );
    }
    const bytes = base64Bytes(secret);
    if (bytes < MIN_SECRET_BYTES)
      doubts.push(`${which} decodes to only ${bytes} byte(s), so it looks cut short when it was copied`);
    else if (bytes > MAX_SECRET_BYTES)
      doubts.push(`${which} decodes to ${bytes} bytes, far longer than a webhook secret`);
    found.push(`${which}: base64, ${bytes} bytes`);
  }
  if (doubts.length > 0) return result('webhook-secret', label, 'warn', doubts.join('; '), SET_WEBHOOK_SECRET);
  const rolling = secrets.length > 1 ? ` (${secrets.length} secrets: accepting any while one is rolled)` : '';
  return result('webhook-secret', label, 'ok', `${found.join('; ')}${rolling}`);
}

export function checkVerification(input: DoctorInput): CheckResult {
  const label = 'verification';
  const { verification } = input;
  if ('error' in verification) return result('verification', label, 'error', verification.error, null);
  switch (verification.mode) {
    case 'signature':
      return result('verification', label, 'ok', 'signature: every delivery must carry a valid Omise-Signature');
    case 'api':
      return result(
        'verification',
        label,
        'ok',
        'Omise API: every event is fetched from the API to prove it is genuine (a webhook secret would need no network per event)',
      );
    case 'both':
      return result('verification', label, 'ok', 'signature and Omise API');
    case 'none':
      return verification.forced
        ? result('verification', label, 'warn', 'OFF (--verify none): every well-formed event is accepted', null)
        : result(
            'verification',
            label,
            'warn',
            'none configured: events are accepted and marked unverified',
            SET_WEBHOOK_SECRET,
          );
  }
}

export async function checkPort(input: DoctorInput, probes: DoctorProbes): Promise<CheckResult> {
  return (await webhookPort(input, probes)).result;
}

/** serve also listens for the inspector; a busy port 3001 stops it from starting just the same. */
export async function checkInspectorPort(input: DoctorInput, probes: DoctorProbes): Promise<CheckResult> {
  return (await inspectorPort(input, probes)).result;
}

/** A port check, and what answered on the port when it was busy (null when it was not asked). */
interface PortFinding {
  result: CheckResult;
  who: ListenerProbeResult | null;
}

function webhookPort(input: DoctorInput, probes: DoctorProbes): Promise<PortFinding> {
  return checkListenPort(input, probes, {
    id: 'port',
    label: 'webhook port',
    host: input.host,
    port: input.port,
    portFlag: '--port (PORT)',
    hostFlag: '--host (HOST)',
  });
}

async function inspectorPort(input: DoctorInput, probes: DoctorProbes): Promise<PortFinding> {
  if (!input.ui) {
    return {
      result: result('ui-port', 'inspector port', 'skip', 'not checked: the inspector is off (--no-ui)'),
      who: null,
    };
  }
  return checkListenPort(input, probes, {
    id: 'ui-port',
    label: 'inspector port',
    host: input.uiHost,
    port: input.uiPort,
    portFlag: '--ui-port (OMISE_WEBHOOK_UI_PORT), or turn the inspector off with --no-ui',
    hostFlag: '--ui-host (OMISE_WEBHOOK_UI_HOST)',
  });
}

/** A busy port held by serve itself is not a problem: it is the serve the user is asking about. */
function servePortResult(
  listener: { id: string; label: string },
  where: string,
  who: ListenerProbeResult,
): CheckResult | null {
  const { id, label } = listener;
  switch (who.kind) {
    case 'serve':
      return result(id, label, 'ok', `${where}: serve is running here (it answered GET /healthz)`);
    case 'inspector':
      return result(id, label, 'ok', `${where}: serve is running here (its inspector answered)`);
    case 'inspector_locked':
      return result(
        id,
        label,
        'ok',
        `${where}: serve is running here (its inspector answered, but needs its token to say more: --ui-token / OMISE_WEBHOOK_UI_TOKEN)`,
      );
    case 'unknown':
      return null;
  }
}

async function checkListenPort(
  input: DoctorInput,
  probes: DoctorProbes,
  listener: { id: string; label: string; host: string; port: number; portFlag: string; hostFlag: string },
): Promise<PortFinding> {
  const { id, label } = listener;
  const where = `${listener.host}:${listener.port}`;
  const plain = (check: CheckResult): PortFinding => ({ result: check, who: null });
  if (listener.port === 0) return plain(result(id, label, 'ok', 'port 0: serve picks a free port when it starts'));
  const probe = await probes.port({ host: listener.host, port: listener.port });
  switch (probe.kind) {
    case 'free':
      return plain(result(id, label, 'ok', `${where} is free`));
    case 'in_use': {
      const who = await probes.whoListens({
        host: listener.host,
        port: listener.port,
        ...(input.uiToken ? { uiToken: input.uiToken } : {}),
      });
      const running = servePortResult(listener, where, who);
      if (running) return { result: running, who };
      return {
        result: result(
          id,
          label,
          'error',
          `${where} is already in use by another program (it did not answer GET /healthz as \`omise-webhook serve\`)`,
          `stop the other program, or choose another port with ${listener.portFlag}`,
        ),
        who,
      };
    }
    case 'denied':
      return plain(
        result(id, label, 'error', `not allowed to listen on ${where}`, `use a port above 1023 (${listener.portFlag})`),
      );
    case 'no_such_address':
      return plain(
        result(
          id,
          label,
          'error',
          `${listener.host} is not an address of this machine`,
          `use 127.0.0.1 (default) or 0.0.0.0 with ${listener.hostFlag}`,
        ),
      );
    case 'error':
      return plain(
        result(
          id,
          label,
          'error',
          `cannot listen on ${where}: ${probe.message}`,
          `choose another ${listener.portFlag}`,
        ),
      );
  }
}

/**
 * When serve already runs, the settings that matter are the ones it started with: its
 * verification mode and public URL, read from its inspector. Null when no running serve was found.
 */
export function checkRunningServe(
  input: DoctorInput,
  found: { webhook: ListenerProbeResult | null; inspector: ListenerProbeResult | null },
): CheckResult | null {
  const label = 'running serve';
  const inspector = found.inspector;
  if (inspector?.kind !== 'inspector') {
    const seen = [found.webhook, inspector].some((who) => who?.kind === 'serve' || who?.kind === 'inspector_locked');
    if (!seen) return null;
    return result(
      'running-serve',
      label,
      'skip',
      inspector?.kind === 'inspector_locked'
        ? 'its settings were not read: its inspector needs its token (--ui-token / OMISE_WEBHOOK_UI_TOKEN)'
        : `its settings were not read: no inspector of it answered on ${input.uiHost}:${input.uiPort} (--ui-port)`,
    );
  }
  const { status } = inspector;
  const facts = `receives at ${status.webhookUrl}, verification ${status.verificationMode}, public URL ${status.publicUrl ?? 'none'}`;
  const configured = 'mode' in input.verification ? input.verification.mode : null;
  if (configured !== null && configured !== status.verificationMode) {
    return result(
      'running-serve',
      label,
      'warn',
      `${facts}; the settings here now give verification ${configured}, so it was started with other settings`,
      'restart serve to use the current settings',
    );
  }
  if (status.verificationMode === 'none') {
    return result(
      'running-serve',
      label,
      'warn',
      `${facts}: every well-formed event is accepted unverified`,
      SET_WEBHOOK_SECRET,
    );
  }
  if (status.publicUrl === null) {
    return result(
      'running-serve',
      label,
      'warn',
      `${facts}: Omise cannot reach it, it only delivers to a public HTTPS URL`,
      'restart it with --tunnel, or --public-url for a tunnel you run yourself, and paste that URL into the Omise dashboard → Webhooks (test mode)',
    );
  }
  return result(
    'running-serve',
    label,
    'ok',
    `${facts} (the Omise dashboard → Webhooks (test mode) must point at ${status.publicUrl}: ${OMISE_TEST_WEBHOOKS_PAGE})`,
  );
}

export async function checkLogDir(input: DoctorInput, probes: DoctorProbes): Promise<CheckResult> {
  const label = 'log directory';
  const probe = await probes.directory(input.logDir);
  if (probe.kind === 'writable') {
    return result(
      'log-dir',
      label,
      'ok',
      probe.exists
        ? `${input.logDir} is writable`
        : `${input.logDir} does not exist yet; it will be created (its parent is writable)`,
    );
  }
  return result(
    'log-dir',
    label,
    'error',
    `${input.logDir} cannot be written: ${probe.message}`,
    'choose a directory you can write with --log-dir (OMISE_WEBHOOK_LOG_DIR), or fix its permissions',
  );
}

export async function checkStore(input: DoctorInput, probes: DoctorProbes): Promise<CheckResult> {
  const label = 'store';
  if (input.store === 'memory') {
    return result(
      'store',
      label,
      'skip',
      'memory store (--store memory): nothing to open; events are forgotten on exit',
    );
  }
  const probe = await probes.store(input.logDir);
  switch (probe.kind) {
    case 'opened':
      return result('store', label, 'ok', `${probe.file} opens (${probe.events} event(s) stored)`);
    case 'absent':
      return result('store', label, 'ok', `no store yet; serve will create ${probe.file} (SQLite works here)`);
    case 'failed':
      return result(
        'store',
        label,
        'error',
        `${probe.file} cannot be opened: ${probe.message}`,
        'if another program holds it, stop that program; if the file is damaged, move it aside (serve starts a new one) or use another --log-dir',
      );
  }
}

const POSTGRES_ADVICE: Record<PostgresProblem, string> = {
  refused:
    'nothing listens at that host and port: start PostgreSQL there, or fix the host and port in --store (OMISE_WEBHOOK_STORE)',
  unknown_host: 'check the host name in --store (OMISE_WEBHOOK_STORE); it does not resolve from this machine',
  auth_failed:
    'check the user name and password in --store (OMISE_WEBHOOK_STORE); a password with @, : or / must be percent-encoded',
  no_database:
    'create the database (CREATE DATABASE <name>, or in your provider’s console), or fix its name at the end of the --store URL',
  timeout:
    'check that the database is up and that a firewall or security group lets this machine reach its port (5432 by default)',
  other: 'see the message; a managed database may need ?sslmode=require at the end of the URL',
};

/**
 * `doctor --store postgres://...`: reachable (and if not, why and what to do), the server's
 * version, omise-webhook's schema version there, and this user's privileges; each its own line.
 */
export async function checkPostgresStore(input: DoctorInput, probes: DoctorProbes): Promise<CheckResult[]> {
  const where = maskDatabaseUrl(input.databaseUrl ?? '');
  const probe = await probes.postgres(input.databaseUrl ?? '');
  if (probe.kind === 'unreachable') {
    const words: Record<PostgresProblem, string> = {
      refused: 'the connection was refused',
      unknown_host: 'the host name does not resolve',
      auth_failed: 'the user name or password was refused',
      no_database: 'the database does not exist',
      timeout: 'no answer in time',
      other: probe.message,
    };
    return [
      result(
        'store',
        'store',
        'error',
        `cannot connect to ${where}: ${words[probe.problem]}`,
        POSTGRES_ADVICE[probe.problem],
      ),
      result('store-schema', 'store schema', 'skip', 'not checked: the database cannot be reached'),
      result('store-privileges', 'store privileges', 'skip', 'not checked: the database cannot be reached'),
    ];
  }
  const reached = result('store', 'store', 'ok', `${where} answers (PostgreSQL ${probe.serverVersion})`);
  if (probe.error !== undefined) {
    return [
      reached,
      result(
        'store-schema',
        'store schema',
        'error',
        `could not read the schema: ${probe.error}`,
        POSTGRES_ADVICE.other,
      ),
      result('store-privileges', 'store privileges', 'skip', 'not checked: the schema could not be read'),
    ];
  }
  const code = probe.codeSchemaVersion;
  const schema =
    probe.schemaVersion === null
      ? result(
          'store-schema',
          'store schema',
          'ok',
          `no omise-webhook tables yet; serve creates them (schema version ${code}) at its first start`,
        )
      : probe.schemaVersion === code
        ? result('store-schema', 'store schema', 'ok', `schema version ${code}, the one this omise-webhook uses`)
        : probe.schemaVersion < code
          ? result(
              'store-schema',
              'store schema',
              'ok',
              `schema version ${probe.schemaVersion}, older than this omise-webhook's ${code}: serve migrates it at start (once, even when several instances start together)`,
            )
          : result(
              'store-schema',
              'store schema',
              'error',
              `schema version ${probe.schemaVersion}, newer than this omise-webhook knows (${code}): a newer omise-webhook uses this database, and this one refuses to start on it`,
              'upgrade omise-webhook (npm install omise-webhook@latest) on this machine to the version the other instances run',
            );
  const needsCreate = probe.schemaVersion === null || probe.schemaVersion < code;
  const privileges =
    needsCreate && !probe.canCreate
      ? result(
          'store-privileges',
          'store privileges',
          'error',
          `this user may not create tables in ${where}, and serve must create ${probe.schemaVersion === null ? 'them' : 'the newer ones'}`,
          'GRANT CREATE ON SCHEMA public TO <this user>, or start serve once with the database owner’s URL',
        )
      : !probe.canWrite
        ? result(
            'store-privileges',
            'store privileges',
            'error',
            `this user may not write the omise-webhook tables in ${where}`,
            'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO <this user> (and USAGE on its sequences)',
          )
        : result(
            'store-privileges',
            'store privileges',
            'ok',
            `this user may ${needsCreate ? 'create the tables and ' : ''}write the events and the forward queue`,
          );
  return [reached, schema, privileges];
}

export function checkPublicUrlSetup(input: DoctorInput): CheckResult {
  const label = 'public URL';
  if (input.tunnel) {
    const domain = input.tunnelDomain ? ` on ${input.tunnelDomain}` : '';
    if (!input.tunnelAuthtoken) {
      return result(
        'public-url',
        label,
        'error',
        `--tunnel${domain} needs NGROK_AUTHTOKEN, which is not set: without it no tunnel opens and Omise cannot reach this receiver`,
        'sign up at https://dashboard.ngrok.com/signup (free), then copy your authtoken from https://dashboard.ngrok.com/get-started/your-authtoken into .env as NGROK_AUTHTOKEN=...',
      );
    }
    return result(
      'public-url',
      label,
      'ok',
      `--tunnel${domain}: NGROK_AUTHTOKEN is set (${maskSecret(input.tunnelAuthtoken)}); ngrok checks it when serve starts`,
    );
  }
  if (input.publicUrl !== undefined) {
    const checked = checkPublicUrl(input.publicUrl, input.path);
    if (!checked.ok) {
      return result(
        'public-url',
        label,
        'error',
        `--public-url ${JSON.stringify(input.publicUrl)} is not usable: expected ${checked.problem}`,
        'give the https URL your tunnel printed, e.g. --public-url https://abcd.ngrok-free.app',
      );
    }
    return result(
      'public-url',
      label,
      'ok',
      `--public-url: ${checked.url} (paste it into the Omise dashboard → Webhooks (test mode): ${OMISE_TEST_WEBHOOKS_PAGE})`,
    );
  }
  return result(
    'public-url',
    label,
    'skip',
    'none given: Omise only delivers to a public HTTPS URL; use serve --tunnel, or --public-url for a tunnel you run yourself',
  );
}

/**
 * Runs every check, in the order a user would fix things. Probes run concurrently where
 * they do not depend on each other.
 *
 * @example
 * const results = await runDoctorChecks(input, createDoctorProbes({ fetch }));
 * process.exitCode = doctorExitCode(results);
 */
export async function runDoctorChecks(input: DoctorInput, probes: DoctorProbes): Promise<CheckResult[]> {
  const [api, secret, port, uiPort, logDir] = await Promise.all([
    checkOmiseApi(input, probes),
    checkWebhookSecret(input),
    webhookPort(input, probes),
    inspectorPort(input, probes),
    checkLogDir(input, probes),
  ]);
  // A store cannot open in a directory that cannot be written; one ✖ for it is enough.
  const store =
    input.store === 'postgres'
      ? await checkPostgresStore(input, probes)
      : logDir.status === 'error' && input.store === 'sqlite'
        ? [result('store', 'store', 'skip', 'not checked: the log directory cannot be written')]
        : [await checkStore(input, probes)];
  const running = checkRunningServe(input, { webhook: port.who, inspector: uiPort.who });
  return [
    checkDotenv(input),
    checkSecretKey(input),
    api,
    secret,
    checkVerification(input),
    port.result,
    uiPort.result,
    logDir,
    ...store,
    checkPublicUrlSetup(input),
    ...(running ? [running] : []),
  ];
}

/** 1 when anything blocks receiving; warnings alone are 0. */
export function doctorExitCode(results: readonly CheckResult[]): number {
  return results.some((check) => check.status === 'error') ? 1 : 0;
}
