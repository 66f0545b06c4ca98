// The `@omise-webhook/events/node` entry: the Node `http` / Express / Connect adapter, listed once.
// Kept out of the root entry so that entry stays free of anything Node-shaped.

export {
  createNodeMiddleware,
  type NodeIncomingRequest,
  type NodeMiddleware,
  type NodeMiddlewareOptions,
  type NodeServerResponse,
} from './create-node-middleware.js';
