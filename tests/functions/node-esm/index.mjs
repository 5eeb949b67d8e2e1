// An ECMAScript module, as FC's Node.js 18+ runtimes load index.mjs.
import { createHash } from 'node:crypto';

export const handler = async (event, context) => ({
  module: 'esm',
  sha1: createHash('sha1').update(event).digest('hex'),
  requestId: context.requestId,
});
