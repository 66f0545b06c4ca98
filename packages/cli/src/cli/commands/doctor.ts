import type { Command } from 'commander';
import pc from 'picocolors';
import type { ServerConfig } from '../../app/server.js';
import { ConfigError, resolveVerificationPolicy } from '../../app/server-config.js';
import {
  type CheckResult,
  type CheckStatus,
  type DoctorInput,
  type DoctorProbes,
  doctorExitCode,
  runDoctorChecks,
} from '../../core/doctor-checks.js';
import type { StoreLocation } from '../../core/store-location.js';
import { type CliContext, CommandFailure, useColor } from '../context.js';
import { addOptions, type OptionSpec, resolveOptions } from '../option-spec.js';
import { secretsFromEnv } from '../secrets.js';
import { resolveStoreLocation } from '../shared-options.js';
import { SERVE_OPTIONS } from './serve.js';

const SHARED_WITH_SERVE = [
  'host',
  'port',
  'ui',
  'uiHost',
  'uiPort',
  'uiToken',
  'path',
  'logDir',
  'store',
  'verify',
  'apiUrl',
  'tunnel',
  'tunnelDomain',
  'publicUrl',
] as const;

/** The `serve` options doctor checks (same flags, same variables), and its own `--json`. */
export const DOCTOR_OPTIONS: readonly OptionSpec[] = [
  ...SERVE_OPTIONS.filter((spec) => (SHARED_WITH_SERVE as readonly string[]).includes(spec.name)),
  {
    name: 'json',
    flags: '--json',
    env: 'OMISE_WEBHOOK_JSON',
    description: 'print the checks as one JSON document',
    default: false,
  },
];

/** The parsed flags; the settings doctor reports on keep their DoctorInput types. */
interface DoctorOptions
  extends Pick<DoctorInput, 'host' | 'port' | 'ui' | 'uiHost' | 'uiPort' | 'path' | 'logDir' | 'apiUrl' | 'tunnel'> {
  store: StoreLocation;
  verify: ServerConfig['verify'];
  uiToken?: string;
  tunnelDomain?: string;
  publicUrl?: string;
  json: boolean;
}

/** What `doctor` checks, gathered from flags, the environment and `.env` exactly as `serve` reads them. */
export function doctorInput(options: DoctorOptions, context: CliContext): DoctorInput {
  const { secretKey, webhookSecrets } = secretsFromEnv(context.env);
  let verification: DoctorInput['verification'];
  try {
    const policy = resolveVerificationPolicy({
      verify: options.verify,
      secretKey,
      webhookSecrets,
      toleranceSec: 300,
      allowLive: false,
    } as ServerConfig);
    verification = { mode: policy.mode, forced: policy.modeSource === 'forced' };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    verification = { error: error.message };
  }
  return {
    cwd: context.cwd,
    dotenv: context.dotenv,
    secretKey,
    secretKeyVariable: context.env.OMISE_SECRET_KEY ? 'OMISE_SECRET_KEY' : 'OMISE_TEST_SECRET_KEY',
    webhookSecrets,
    verification,
    apiUrl: options.apiUrl.replace(/\/+$/, ''),
    host: options.host,
    port: options.port,
    ui: options.ui,
    uiHost: options.uiHost,
    uiPort: options.uiPort,
    uiToken: options.uiToken,
    path: options.path.startsWith('/') ? options.path : `/${options.path}`,
    logDir: options.logDir,
    store: options.store.kind,
    ...(options.store.kind === 'postgres' ? { databaseUrl: options.store.url } : {}),
    tunnel: options.tunnel,
    tunnelAuthtoken: context.env.NGROK_AUTHTOKEN?.trim() || undefined,
    tunnelDomain: options.tunnelDomain,
    publicUrl: options.publicUrl,
  };
}

const MARKS: Record<CheckStatus, string> = { ok: '✔', warn: '⚠', error: '✖', skip: '–' };

/**
 * One line per check: mark, label, what was found, and (→) what to do; then a summary.
 *
 * @example
 * formatDoctorReport(results, { color: false })
 * // "✔ .env              read /app/.env (2 variable(s): ...)\n..."
 */
export function formatDoctorReport(results: readonly CheckResult[], options: { color: boolean }): string {
  const c = pc.createColors(options.color);
  const paint: Record<CheckStatus, (text: string) => string> = {
    ok: c.green,
    warn: c.yellow,
    error: c.red,
    skip: c.dim,
  };
  const width = Math.max(...results.map((check) => check.label.length));
  const lines = results.map((check) => {
    const fix = check.fix ? ` ${c.bold('→')} ${check.fix}` : '';
    return `${paint[check.status](MARKS[check.status])} ${check.label.padEnd(width)}  ${check.message}${fix}`;
  });
  const errors = results.filter((check) => check.status === 'error').length;
  const warnings = results.filter((check) => check.status === 'warn').length;
  const warningText = warnings === 0 ? '' : `${warnings} warning${warnings === 1 ? '' : 's'}`;
  if (errors > 0) {
    lines.push(
      '',
      c.red(
        `${errors} problem${errors === 1 ? '' : 's'} would stop webhooks from being received${warningText ? `; ${warningText}` : ''}. Fix the ✖ lines, then run omise-webhook doctor again.`,
      ),
    );
  } else {
    // With serve already running, "start serve" would send the user into a busy port.
    const next = results.some((check) => check.id === 'running-serve')
      ? 'serve is already running; send it a test event with: omise-webhook trigger charge.create'
      : 'Start with: omise-webhook serve';
    lines.push('', c.green(`Nothing blocks receiving${warningText ? ` (${warningText})` : ''}. ${next}`));
  }
  return `${lines.join('\n')}\n`;
}

export function registerDoctor(
  program: Command,
  context: CliContext,
  probes?: (context: CliContext) => DoctorProbes,
): void {
  const command = program
    .command('doctor')
    .description(
      'check the setup (.env, keys, webhook secret, Omise API, port, log dir, store, tunnel) and say what to fix; exits 1 if something blocks receiving',
    );
  addOptions(command, DOCTOR_OPTIONS);
  command.action(async () => {
    const options = resolveOptions(command, DOCTOR_OPTIONS, context.env) as unknown as DoctorOptions;
    options.store = resolveStoreLocation(command, context.env, options.store, { memory: true });
    // The real probes open the store (SQLite): imported only when doctor runs, not for `--help`.
    const checks = probes
      ? probes(context)
      : (await import('../../app/doctor-probes.js')).createDoctorProbes({ fetch: context.fetch, cwd: context.cwd });
    const results = await runDoctorChecks(doctorInput(options, context), checks);
    const exitCode = doctorExitCode(results);
    if (options.json) {
      const count = (status: CheckStatus) => results.filter((check) => check.status === status).length;
      context.stdout.write(
        `${JSON.stringify({ ok: exitCode === 0, errors: count('error'), warnings: count('warn'), checks: results }, null, 2)}\n`,
      );
    } else {
      context.stdout.write(formatDoctorReport(results, { color: useColor(context) }));
    }
    if (exitCode !== 0) throw new CommandFailure('', exitCode);
  });
}
