'use strict';
const { Readable } = require('stream');

// FC 2.0's Node.js HTTP handler: (request, response, context).
exports.handler = (req, resp, context) => {
  if (req.path === '/boom') throw new Error('boom');
  if (req.path === '/stream') {
    resp.setHeader('Content-Type', 'text/plain');
    resp.send(Readable.from(['streamed ', 'body']));
    return;
  }
  // The request is a stream of its body too, as getRawBody(req) reads it.
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    resp.setStatusCode(req.method === 'POST' ? 201 : 200);
    resp.setHeader('Content-Type', 'application/json');
    resp.setHeader('X-Served-By', 'node-web');
    resp.setHeader('X-Removed', 'soon');
    resp.deleteHeader('X-Removed');
    resp.setHeader('Set-Cookie', ['a=1', 'b=2']);
    resp.send(JSON.stringify({
      method: req.method,
      path: req.path,
      queries: req.queries,
      url: req.url,
      clientIP: req.clientIP,
      custom: req.headers['x-custom'],
      fcHeaders: Object.keys(req.headers).filter((name) => name.startsWith('x-fc-')),
      body: req.body.toString(),
      streamed: Buffer.concat(chunks).toString(),
      requestId: context.requestId,
      functionName: context.function.name,
    }));
  });
};
