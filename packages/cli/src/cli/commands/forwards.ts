import type { Command } from 'commander';
import pc from 'picocolors';
import { type ForwardAttempt, systemClock } from '../../core/ports.js';
import type { StoreLocation } from '../../core/store-location.js';
import { type CliContext, useColor } from '../context.js';
import { parsePositiveInt, UsageError } from '../option-parsers.js';
import { addOptions, type OptionSpec, resolveOptions } from '../option-spec.js';
import { logDirOption, storeOption, storeWhere } from '../shared-options.js';
import { openExistingStore } from './events.js';

const LOG_DIR = logDirOption();
const STORE = storeOption({ memory: false });
const JSON_OPTION: OptionSpec = {
  name: 'json',
  flags: '--json',
  env: 'OMISE_WEBHOOK_JSON',
  description: 'one JSON object per line',
  default: false,
};

const FAILED_OPTIONS: readonly OptionSpec[] = [
  LOG_DIR,
  STORE,
  {
    name: 'limit',
    flags: '--limit <n>',
    env: 'OMISE_WEBHOOK_LIMIT',
    description: 'how many, newest first',
    default: 50,
    parse: parsePositiveInt,
  },
  JSON_OPTION,
];
const RETRY_OPTIONS: readonly OptionSpec[] = [
  LOG_DIR,
  STORE,
  { name: 'all', flags: '--all', env: 'OMISE_WEBHOOK_RETRY_ALL', description: 'every failed forward', default: false },
];
const ATTEMPTS_OPTIONS: readonly OptionSpec[] = [LOG_DIR, STORE, JSON_OPTION];

function attemptLine(attempt: ForwardAttempt): string {
  const result = attempt.status !== null ? String(attempt.status) : `error: ${attempt.error}`;
  const what = attempt.kind === 'replay' ? `replay (${attempt.replayMode})` : `attempt ${attempt.attempt}`;
  const next = attempt.nextAttemptAt ? `, next at ${attempt.nextAttemptAt}` : '';
  return `${attempt.startedAt}  ${what.padEnd(20)} ${attempt.target}  ${result}  ${Math.round(attempt.latencyMs)} ms  ${attempt.outcome}${next}${attempt.reason && attempt.outcome !== 'delivered' ? `: ${attempt.reason}` : ''}`;
}

/** `omise-webhook forwards failed|retry|attempts`: the failed list and the attempts kept with each event. */
export function registerForwards(program: Command, context: CliContext): void {
  const forwards = program
    .command('forwards')
    .description('forward attempts and the failed list (`serve --forward-to`)');

  const failed = forwards.command('failed').description('forwards that ran out of retries or got a final answer');
  addOptions(failed, FAILED_OPTIONS);
  failed.action(async () => {
    const options = resolveOptions(failed, FAILED_OPTIONS, context.env) as {
      logDir: string;
      store: StoreLocation;
      limit: number;
      json: boolean;
    };
    const store = await openExistingStore(context, storeWhere(failed, context.env, options));
    try {
      const jobs = await store.listFailedForwards({ limit: options.limit });
      if (options.json) {
        for (const job of jobs) context.stdout.write(`${JSON.stringify(job)}\n`);
        return;
      }
      if (jobs.length === 0) {
        context.stdout.write('no failed forwards\n');
        return;
      }
      const c = pc.createColors(useColor(context));
      for (const job of jobs) {
        context.stdout.write(
          `${c.bold(`#${job.id}`)}  ${job.eventId} → ${job.target}  ${job.attempts} attempt${job.attempts === 1 ? '' : 's'}  ${c.red(job.lastError ?? '')}\n`,
        );
      }
      context.stdout.write(
        c.dim('retry with `omise-webhook forwards retry <#id>...` or `--all`; a running serve picks them up\n'),
      );
    } finally {
      await store.close();
    }
  });

  const retry = forwards
    .command('retry')
    .description('put failed forwards back in their queue, due now, with a fresh retry plan')
    .argument('[job-ids...]', 'ids from `forwards failed` (#12 or 12)');
  addOptions(retry, RETRY_OPTIONS);
  retry.action(async (ids: string[]) => {
    const options = resolveOptions(retry, RETRY_OPTIONS, context.env) as {
      logDir: string;
      store: StoreLocation;
      all: boolean;
    };
    if (ids.length === 0 && !options.all)
      throw new UsageError('name failed forwards by id (see `omise-webhook forwards failed`), or pass --all');
    const numbers = ids.map((id) => {
      const n = Number(id.replace(/^#/, ''));
      if (!Number.isSafeInteger(n) || n < 1)
        throw new UsageError(
          `${JSON.stringify(id)} is not a forward id; ids look like #12 (see \`omise-webhook forwards failed\`)`,
        );
      return n;
    });
    const store = await openExistingStore(context, storeWhere(retry, context.env, options));
    try {
      const now = (context.clock ?? systemClock).now();
      const missing: number[] = [];
      const tried = new Set<number>();
      let requeued = 0;
      for (const id of numbers) {
        if (tried.has(id)) continue;
        tried.add(id);
        if (await store.retryFailedForward(id, now)) requeued += 1;
        else missing.push(id);
      }
      // A re-queued job leaves the failed list, so list again until a page brings nothing new:
      // every failed forward, however many, not just the first page.
      while (options.all) {
        const page = (await store.listFailedForwards({ limit: 500 })).filter((job) => !tried.has(job.id));
        if (page.length === 0) break;
        for (const job of page) {
          tried.add(job.id);
          if (await store.retryFailedForward(job.id, now)) requeued += 1;
        }
      }
      context.stdout.write(
        `re-queued ${requeued} forward${requeued === 1 ? '' : 's'}; a running \`serve\` with that target sends them within seconds\n`,
      );
      if (missing.length > 0) {
        throw new UsageError(
          `no failed forward has id ${missing.map((id) => `#${id}`).join(', ')}; \`omise-webhook forwards failed\` lists them`,
        );
      }
    } finally {
      await store.close();
    }
  });

  const attempts = forwards
    .command('attempts')
    .description('every forward and replay attempt kept with an event')
    .argument('<event-id>', 'event id (evnt_...)');
  addOptions(attempts, ATTEMPTS_OPTIONS);
  attempts.action(async (eventId: string) => {
    const options = resolveOptions(attempts, ATTEMPTS_OPTIONS, context.env) as {
      logDir: string;
      store: StoreLocation;
      json: boolean;
    };
    const store = await openExistingStore(context, storeWhere(attempts, context.env, options));
    try {
      if (!(await store.getEvent(eventId))) {
        throw new UsageError(
          `no stored event has id ${eventId}; \`omise-webhook events list\` shows the ids that are stored`,
        );
      }
      const list = await store.listForwardAttempts(eventId);
      if (options.json) {
        for (const attempt of list) {
          const { responseExcerpt, ...rest } = attempt;
          context.stdout.write(
            `${JSON.stringify({ ...rest, response: responseExcerpt ? Buffer.from(responseExcerpt).toString('utf8') : null })}\n`,
          );
        }
        return;
      }
      if (list.length === 0) context.stdout.write(`no forward or replay attempts for ${eventId} yet\n`);
      for (const attempt of list) context.stdout.write(`${attemptLine(attempt)}\n`);
    } finally {
      await store.close();
    }
  });
}
