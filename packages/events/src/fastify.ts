// The `@omise-webhook/events/fastify` entry: the Fastify plugin, listed once.

export {
  type FastifyInstanceLike,
  type FastifyReplyLike,
  type FastifyRequestLike,
  type OmiseWebhooksFastifyOptions,
  omiseWebhooksFastify,
} from './omise-webhooks-fastify.js';
