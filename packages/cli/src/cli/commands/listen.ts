import { mkdir } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ListenCursorFile, listenCursorPath } from '../../adapters/files/listen-cursor-file.js';
import { RawHttpSender } from '../../adapters/http/raw-http-sender.js';
import { ListenRefused, TeamListener } from '../../app/team-listener.js';
import { FeedMessageError, LISTEN_EXIT } from '../../core/listen.js';
import { maskSecret } from '../../core/mask-secret.js';
import { systemClock } from '../../core/ports.js';
import { type CliContext, CommandFailure, useColor } from '../context.js';
import type { Env } from '../dotenv.js';
import { parseKeyPattern, parseSince, parseTargetUrl, UsageError, type ValueSource } from '../option-parsers.js';
import { addOptions, type OptionSpec, resolveOptions } from '../option-spec.js';
import { FORWARD_TO_OPTION, forwardTimeoutOption, logDirOption } from '../shared-options.js';

function parseFrom(value: string, source: ValueSource): string {
  let url: URL | null = null;
  try {
    url = new URL(value.trim());
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) {
    throw new UsageError(
      `${source.flag} (${source.env}) got ${JSON.stringify(value)}; expected the team server's inspector URL, like https://hooks.example.com/ (http(s), no user or password in it)`,
    );
  }
  return url.toString();
}

function parseName(value: string, source: ValueSource): string {
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/.test(value)) {
    throw new UsageError(
      `${source.flag} (${source.env}) got ${JSON.stringify(value)}; expected a name of letters, digits, . _ and - (at most 64, not starting with a dot), such as your user name`,
    );
  }
  return value;
}

/** The default `--name`: who runs it, so each developer on a shared machine keeps a position. */
function defaultName(env: Env): string {
  const fromEnv = env.USER ?? env.USERNAME ?? env.LOGNAME;
  let name = fromEnv;
  if (!name) {
    try {
      name = userInfo().username;
    } catch {
      name = 'default';
    }
  }
  return /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/.test(name) ? name : 'default';
}

export function listenOptions(env: Env): readonly OptionSpec[] {
  return [
    {
      name: 'from',
      flags: '--from <url>',
      env: 'OMISE_WEBHOOK_LISTEN_FROM',
      description: "the team server's inspector URL (serve --ui-host 0.0.0.0 --ui-token ..., usually behind HTTPS)",
      parse: parseFrom,
    },
    {
      name: 'token',
      flags: '--token <token>',
      env: 'OMISE_WEBHOOK_LISTEN_TOKEN',
      description: "the team server's --ui-token, sent as Authorization: Bearer (never printed in full)",
    },
    {
      ...FORWARD_TO_OPTION,
      repeatable: false,
      description: 'your local app: each event is POSTed there with its original headers and exact bytes',
      parse: parseTargetUrl,
    },
    {
      name: 'events',
      flags: '--events <pattern>',
      env: 'OMISE_WEBHOOK_LISTEN_EVENTS',
      description: "only events whose key matches, e.g. 'charge.*' or 'charge.complete,refund.create' (default: all)",
      parse: parseKeyPattern,
    },
    {
      name: 'name',
      flags: '--name <who>',
      env: 'OMISE_WEBHOOK_LISTEN_NAME',
      description: 'whose position this is: each name resumes where it left off',
      default: defaultName(env),
      parse: parseName,
    },
    {
      name: 'since',
      flags: '--since <time>',
      env: 'OMISE_WEBHOOK_LISTEN_SINCE',
      description:
        'start with the events received since then (2026-11-26T07:00:00Z, or a duration ago like 10m) instead of the saved position; default: the saved position, else from now',
    },
    logDirOption('the position is kept in <log-dir>/listen/<name>.json'),
    forwardTimeoutOption({
      name: 'forwardTimeoutMs',
      description: 'how long your app may take to answer before the event is sent again',
    }),
  ];
}

interface ListenOptions {
  from?: string;
  token?: string;
  forwardTo?: string;
  events?: string;
  name: string;
  since?: string;
  logDir: string;
  forwardTimeoutMs: number;
}

export function registerListen(program: Command, context: CliContext): void {
  const specs = listenOptions(context.env);
  const command = program
    .command('listen')
    .description(
      "bring a team server's events to your machine: follow a shared `serve` and forward each event, byte for byte, to your local app",
    )
    .addHelpText(
      'after',
      `
Each event goes to --forward-to in order, one at a time; the position is saved once your app
answered (any HTTP status counts as delivered), so a restart resumes with no gap and no repeat.
If your app cannot be reached, the same event is tried again (0.5 s doubling to 15 s).
Exit status: 0 stopped (Ctrl-C, SIGTERM), 1 failed, 2 bad usage, ${LISTEN_EXIT.unauthorized} token missing or refused, ${LISTEN_EXIT.forbidden} refused (403).`,
    );
  addOptions(command, specs);
  command.action(async () => {
    const options = resolveOptions(command, specs, context.env) as unknown as ListenOptions;
    if (!options.from) {
      throw new UsageError(
        "listen needs the team server: --from https://hooks.example.com/ (OMISE_WEBHOOK_LISTEN_FROM), its inspector's URL",
      );
    }
    if (!options.forwardTo) {
      throw new UsageError(
        'listen needs your local app: --forward-to http://localhost:8080/omise/webhook (OMISE_WEBHOOK_FORWARD_TO)',
      );
    }
    const since =
      options.since === undefined
        ? null
        : new Date(
            parseSince(
              options.since,
              { flag: '--since', env: 'OMISE_WEBHOOK_LISTEN_SINCE' },
              (context.clock ?? systemClock).now(),
            ),
          ).toISOString();
    const logDir = resolve(context.cwd, options.logDir);
    const file = listenCursorPath(logDir, options.name);
    await mkdir(resolve(logDir, 'listen'), { recursive: true });
    const cursor = new ListenCursorFile({ file, from: options.from });
    const sender = new RawHttpSender({ maxSocketsPerHost: 1, timeoutFlag: '--forward-timeout' });
    const token = options.token ?? null;
    const color = useColor(context);
    const listener = new TeamListener({
      from: options.from,
      token,
      forwardTo: options.forwardTo,
      events: options.events ?? null,
      since,
      cursor,
      sender,
      fetch: context.fetch,
      signal: context.signal,
      out: (line) => context.stdout.write(`${line}\n`),
      log: (line) => context.stderr.write(`omise-webhook listen: ${line}\n`),
      forwardTimeoutMs: options.forwardTimeoutMs,
      color,
    });
    context.stderr.write(
      `omise-webhook listen: as ${JSON.stringify(options.name)} (position in ${file}), token ${token ? maskSecret(token) : '(none)'}\n`,
    );
    if (since === null && (await cursor.load()) === null && cursor.ignoredReason) {
      context.stderr.write(`omise-webhook listen: not resuming: ${cursor.ignoredReason}; starting from now\n`);
    }
    try {
      await listener.run();
    } catch (error) {
      if (error instanceof ListenRefused) {
        throw new CommandFailure(error.message, error.exitCode);
      }
      if (error instanceof FeedMessageError) throw new CommandFailure(`${options.from}: ${error.message}`, 1);
      throw error;
    } finally {
      sender.close();
    }
    context.stderr.write(
      `omise-webhook listen: stopped; ${listener.cursor !== null ? `the next start resumes after position ${listener.cursor}` : 'no position saved yet'}\n`,
    );
  });
}
