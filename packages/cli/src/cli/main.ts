import type { Command } from 'commander';
import { registerDoctor } from './commands/doctor.js';
import { registerEvents } from './commands/events.js';
import { registerFakeOmise } from './commands/fake-omise.js';
import { registerForwards } from './commands/forwards.js';
import { registerListen } from './commands/listen.js';
import { registerReplay } from './commands/replay.js';
import { registerServe } from './commands/serve.js';
import { registerSync } from './commands/sync.js';
import { registerTrigger } from './commands/trigger.js';
import type { CliContext } from './context.js';
import { addCommands, createProgram } from './entry.js';

// The CLI itself runs from entry.ts, which imports only the command argv names.
export { type MainInput, main } from './entry.js';

/** The whole program at once, every command registered (in COMMAND_LOADERS' order): for the tests. */
export function buildProgram(context: CliContext): Command {
  return addCommands(createProgram(context), context, [
    registerServe,
    registerEvents,
    registerDoctor,
    registerReplay,
    registerForwards,
    registerTrigger,
    registerSync,
    registerListen,
    registerFakeOmise,
  ]);
}
