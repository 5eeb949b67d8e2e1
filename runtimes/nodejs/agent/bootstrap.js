'use strict';
/*
 * fcemu's Node.js runtime agent: FC's custom-runtime HTTP contract on port 9000, Node's standard library only.
 *
 * It loads `module.export` from the mounted code (FC_FUNC_CODE_PATH, /code) and calls handlers the way FC's
 * Node.js runtime does: `handler(event, context)` returning a value or a promise, or
 * `handler(event, context, callback)`; `initializer(context[, callback])` once per instance; the preStop hook
 * on GET /pre-stop; and FC 2.0's HTTP handler `handler(request, response, context)` on /http-invoke. Each
 * invocation's output is framed by FC's `FC Invoke Start/End RequestId:` lines on stdout; with
 * `x-fc-log-type: Tail` the last 4 KB of that invocation's output come back, base64, in `x-fc-log-result`.
 *
 * Only the emulator drives it: every request must carry the secret the emulator gave this instance (the
 * FCEMU_AGENT_TOKEN variable at start, the `x-fcemu-agent-token` header on each request), or it is refused with
 * 403 and nothing runs. The secret leaves process.env before any of the function's code loads, and its header
 * never reaches a handler.
 */
const fs = require('fs');
const net = require('net');
const path = require('path');
const { PassThrough, Readable } = require('stream');
const { AsyncLocalStorage } = require('async_hooks');
const { pathToFileURL } = require('url');
const util = require('util');

const CODE_DIR = process.env.FC_FUNC_CODE_PATH || '/code';
const PORT = Number(process.env.FC_SERVER_PORT || 9000);
const LOG_TAIL_BYTES = 4096;
const HTTP_INVOKE = '/http-invoke';
const FAILED_SUFFIX = ', Error: Unhandled function error';
// Response headers FC's Node.js HTTP handler ignores (the platform owns them), besides every x-fc-* one.
const RESERVED_RESPONSE_HEADERS = new Set(['connection', 'content-length', 'date', 'keep-alive', 'server', 'upgrade']);
const RESERVED_REQUEST_HEADERS = new Set(['connection', 'keep-alive']);
// FC's Node.js levels, lowest first; ALIYUN_FC_LOG_LEVEL drops the lines below the one it names.
const LEVELS = ['debug', 'info', 'warn', 'error'];
const TOKEN_HEADER = 'x-fcemu-agent-token';
// Taken out of the environment here, before any of the function's code loads (handlers load on their first
// call): neither process.env nor a child process's environment holds it. Empty (no secret given) refuses every
// request.
const TOKEN = process.env.FCEMU_AGENT_TOKEN || '';
delete process.env.FCEMU_AGENT_TOKEN;

// FC's built-in modules (runtimes/nodejs/builtins.json, installed by runtimes/build.sh under BUILTINS): searched
// by require() after the function's own node_modules and NODE_PATH (its layers), so that its own copy wins, as in
// FC. Node reads NODE_PATH once, at start: it is extended, the paths read again, and NODE_PATH put back as it was.
const BUILTINS = '/opt/fcemu/builtins/node_modules';
if (fs.existsSync(BUILTINS)) {
  const nodePath = process.env.NODE_PATH;
  process.env.NODE_PATH = nodePath ? `${nodePath}${path.delimiter}${BUILTINS}` : BUILTINS;
  require('module')._initPaths();
  if (nodePath === undefined) delete process.env.NODE_PATH;
  else process.env.NODE_PATH = nodePath;
}

// An ES module's `import` (index.mjs, "type": "module") never reads NODE_PATH: a resolve hook
// (builtins-resolve.mjs) looks in BUILTINS after Node's own resolution fails. module.register() (Node 18.19 and
// 20.6 on; the images' Node is 18.20) adds it from here: no command-line flag (--experimental-loader would be one,
// with a warning on every start, and would reach a child node through NODE_OPTIONS), no files in the read-only /code
// (a symlink farm would need them). It starts a thread for the hooks, 70-100 ms, so only before the first ES module
// handler loads, not at every instance's start (a CommonJS handler has require()).
let esmBuiltins = false;
function registerEsmBuiltins() {
  if (esmBuiltins) return;
  esmBuiltins = true;
  const Module = require('module');
  if (typeof Module.register === 'function' && fs.existsSync(BUILTINS)) {
    Module.register(pathToFileURL(path.join(__dirname, 'builtins-resolve.mjs')));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Output: which invocation a write belongs to. While invocations run one at a time that is the one running; once
// two overlap (instanceConcurrency > 1) AsyncLocalStorage tells them apart from then on. It is switched on only
// then because, on Node 18 and 20, an active AsyncLocalStorage puts a hook on every promise of the process,
// which costs the one-at-a-time case a fifth of its invocation latency.

/** @typedef {{requestId: string, output: Buffer[] | null, fail: (error: unknown) => void, startLine: string}} Invocation */
/** @type {AsyncLocalStorage<Invocation>} */
const invocation = new AsyncLocalStorage();
/** @type {Set<Invocation>} */
const inFlight = new Set();
let concurrent = false;
// The invocation that started while none other ran and before `concurrent`: code outside any async context
// (no AsyncLocalStorage store) belongs to it while it runs.
/** @type {Invocation | null} */
let unscoped = null;

/** @returns {Invocation | null} */
function currentInvocation() {
  if (concurrent) {
    const store = invocation.getStore();
    if (store !== undefined) return inFlight.has(store) ? store : null;
  }
  return unscoped !== null && inFlight.has(unscoped) ? unscoped : null;
}

// Stdout goes to Docker's log pipe, and every write to it wakes containerd-shim and dockerd (about ten context
// switches between them): on a machine with few cores they take the agent's core in the middle of its next
// invocation, which cost the Node.js agent a third of its warm invocation latency. So stdout is written at most
// once per LOG_FLUSH_MS: a write after a quiet spell goes out at once, the writes of a burst are gathered and go
// out together when the interval has passed, in order. Lifecycle hooks flush before they answer (a preStop's
// lines must be out before the instance is removed), and so does the process when it exits.
const LOG_FLUSH_MS = 5;
const LOG_FLUSH_BYTES = 64 * 1024;
const directStdoutWrite = process.stdout.write.bind(process.stdout);
const realStderrWrite = process.stderr.write.bind(process.stderr);
/** @type {(string | Buffer)[]} */
let pendingStdout = [];
let pendingBytes = 0;
/** @type {Function[]} */
let pendingCallbacks = [];
/** @type {NodeJS.Timeout | null} */
let flushTimer = null;
let lastFlush = 0;

function flushStdout() {
  if (flushTimer !== null) {
    clearTimeout(flushTimer);
    flushTimer = null;
  }
  lastFlush = Date.now();
  if (pendingStdout.length === 0) return;
  const chunks = pendingStdout;
  const callbacks = pendingCallbacks;
  pendingStdout = [];
  pendingCallbacks = [];
  pendingBytes = 0;
  const data = chunks.every((chunk) => typeof chunk === 'string') ? chunks.join('')
    : Buffer.concat(chunks.map((chunk) => (typeof chunk === 'string' ? Buffer.from(chunk) : chunk)));
  if (callbacks.length === 0) directStdoutWrite(data);
  else directStdoutWrite(data, (error) => callbacks.forEach((callback) => callback(error)));
}

/** process.stdout.write's contract (chunk, [encoding], [callback]), gathered as the comment above says. */
function realStdoutWrite(chunk, encoding, callback) {
  if (typeof encoding === 'function') {
    callback = encoding;
    encoding = undefined;
  }
  let data;
  if (typeof chunk === 'string') {
    data = encoding && encoding !== 'utf8' && encoding !== 'utf-8' ? Buffer.from(chunk, encoding) : chunk;
  } else {
    // A copy: the caller may reuse its buffer once write returns.
    data = Buffer.from(chunk);
  }
  pendingStdout.push(data);
  pendingBytes += data.length;
  if (typeof callback === 'function') pendingCallbacks.push(callback);
  if (pendingBytes >= LOG_FLUSH_BYTES) {
    flushStdout();
  } else if (flushTimer === null) {
    const wait = lastFlush + LOG_FLUSH_MS - Date.now();
    if (wait <= 0) flushStdout();
    else flushTimer = setTimeout(flushStdout, wait).unref();
  }
  return true;
}

process.on('exit', () => {
  if (pendingStdout.length === 0) return;
  const data = Buffer.concat(pendingStdout.map((chunk) => (typeof chunk === 'string' ? Buffer.from(chunk) : chunk)));
  pendingStdout = [];
  // Synchronously: nothing runs after 'exit'. The pipe is non-blocking (libuv's), so a full pipe is waited out.
  for (let offset = 0; offset < data.length;) {
    try {
      offset += fs.writeSync(1, data, offset);
    } catch (error) {
      if (error.code !== 'EAGAIN') return;
    }
  }
});

function tee(realWrite) {
  return function write(chunk, encoding, callback) {
    const current = currentInvocation();
    if (current !== null) {
      flushStartLine(current);
      if (current.output !== null) {
        current.output.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), typeof encoding === 'string' ? encoding : 'utf8'));
      }
    }
    return realWrite(chunk, encoding, callback);
  };
}

/**
 * An invocation's `FC ... Start` line goes out just before its first output, or with its End line in one write
 * when it printed nothing: each write to Docker's log pipe costs about as much CPU as the rest of a no-op
 * invocation.
 */
function flushStartLine(current) {
  if (current.startLine === '') return;
  const line = current.startLine;
  current.startLine = '';
  if (current.output !== null) current.output.push(Buffer.from(line));
  realStdoutWrite(line);
}

process.stdout.write = tee(realStdoutWrite);
process.stderr.write = tee(realStderrWrite);

const minimumLevel = Math.max(0, LEVELS.indexOf(String(process.env.ALIYUN_FC_LOG_LEVEL || 'debug').toLowerCase()));

/** One log line as FC's Node.js runtime prints it: `<UTC time> <request id> [<level>] <message>`, one write. */
function logLine(level, requestId, args) {
  if (LEVELS.indexOf(level) < minimumLevel) return;
  process.stdout.write(`${new Date().toISOString()} ${requestId} [${level}] ${util.format(...args)}\n`);
}

function currentRequestId() {
  const current = currentInvocation();
  return current === null ? '' : current.requestId;
}

console.log = (...args) => logLine('info', currentRequestId(), args);
console.info = (...args) => logLine('info', currentRequestId(), args);
console.debug = (...args) => logLine('debug', currentRequestId(), args);
console.warn = (...args) => logLine('warn', currentRequestId(), args);
console.error = (...args) => logLine('error', currentRequestId(), args);

// ---------------------------------------------------------------------------------------------------------------
// The context FC passes to handlers and hooks.

function integer(value) {
  const parsed = parseInt(value || '0', 10);
  return Number.isNaN(parsed) ? 0 : parsed;
}

function makeLogger(requestId) {
  const logger = {};
  for (const level of LEVELS) logger[level] = (...args) => logLine(level, requestId, args);
  logger.log = logger.info;
  return logger;
}

/** @param {Map<string, string>} headers */
function makeContext(headers) {
  const get = (name, fallback = '') => (headers.has(name) ? headers.get(name) : fallback);
  const requestId = get('x-fc-request-id');
  const baggages = get('x-fc-tracing-opentracing-span-baggages');
  return {
    requestId,
    credentials: {
      accessKeyId: get('x-fc-access-key-id'),
      accessKeySecret: get('x-fc-access-key-secret'),
      securityToken: get('x-fc-security-token'),
    },
    function: {
      name: get('x-fc-function-name'),
      handler: get('x-fc-function-handler'),
      memory: integer(get('x-fc-function-memory')),
      timeout: integer(get('x-fc-function-timeout')),
      initializer: get('x-fc-function-initializer'),
      initializationTimeout: integer(get('x-fc-initialization-timeout')),
    },
    service: {
      name: get('x-fc-service-name'),
      logProject: get('x-fc-service-logproject'),
      logStore: get('x-fc-service-logstore'),
      qualifier: get('x-fc-qualifier', 'LATEST'),
      versionId: get('x-fc-version-id'),
    },
    region: get('x-fc-region'),
    accountId: get('x-fc-account-id'),
    retryCount: integer(get('x-fc-retry-count')),
    tracing: {
      openTracingSpanContext: get('x-fc-tracing-opentracing-span-context'),
      jaegerEndpoint: get('x-fc-tracing-jaeger-endpoint'),
      openTracingSpanBaggages: baggages,
      parseOpenTracingBaggages() {
        try {
          return baggages ? JSON.parse(Buffer.from(baggages, 'base64').toString()) : {};
        } catch (error) {
          return {};
        }
      },
    },
    logger: makeLogger(requestId),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Loading handlers: `module.export`, split at the last dot, the module looked up under the code directory.

class AgentError extends Error {}
class ImportModuleError extends AgentError {}
ImportModuleError.prototype.name = 'ImportModuleError';
class HandlerNotFound extends AgentError {}
HandlerNotFound.prototype.name = 'HandlerNotFound';

const modules = new Map();
const resolved = new Map();

/** The file a module name stands for, as FC's runtime looks it up: name.js, .mjs, .cjs, or a folder. */
function moduleFile(moduleName) {
  const base = path.resolve(CODE_DIR, moduleName);
  for (const candidate of [base, `${base}.js`, `${base}.mjs`, `${base}.cjs`]) {
    try {
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch (error) {
      // not this one
    }
  }
  try {
    return require.resolve(base);
  } catch (error) {
    return null;
  }
}

async function loadModule(moduleName) {
  const file = moduleFile(moduleName);
  if (file === null) throw new ImportModuleError(`Cannot find module '${moduleName}' in ${CODE_DIR}`);
  if (file.endsWith('.mjs')) return importModule(file);
  try {
    return require(file);
  } catch (error) {
    // A `.js` file under "type": "module" is an ES module: import it instead.
    if (error && error.code === 'ERR_REQUIRE_ESM') return importModule(file);
    throw error;
  }
}

function importModule(file) {
  registerEsmBuiltins();
  return import(pathToFileURL(file).href);
}

/** The function a handler string names; the module is loaded once and shared by every handler in it. */
async function resolveHandler(handlerName) {
  const known = resolved.get(handlerName);
  if (known !== undefined) return known;
  const dot = handlerName.lastIndexOf('.');
  const moduleName = handlerName.slice(0, dot);
  const exported = handlerName.slice(dot + 1);
  if (dot <= 0 || !exported) throw new HandlerNotFound(`Invalid handler '${handlerName}'`);
  let loading = modules.get(moduleName);
  if (loading === undefined) {
    loading = loadModule(moduleName);
    modules.set(moduleName, loading);
    // A module that failed to load is tried again on the next call (a fixed file, hot reload).
    loading.catch(() => modules.delete(moduleName));
  }
  const loaded = await loading;
  let fn = loaded[exported];
  if (typeof fn !== 'function' && loaded.default && typeof loaded.default === 'object') fn = loaded.default[exported];
  if (typeof fn !== 'function') throw new HandlerNotFound(`Handler '${exported}' is missing on module '${moduleName}'`);
  resolved.set(handlerName, fn);
  return fn;
}

/**
 * Calls a handler the way FC does: a returned promise settles the call; a function that declares the callback
 * parameter (more parameters than `args`) settles it through the callback; any other return value is the result.
 */
function callHandler(fn, args) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error, value) => {
      if (settled) return;
      settled = true;
      if (error !== null && error !== undefined) reject(error);
      else resolve(value);
    };
    const callback = (error, value) => settle(error, value);
    let returned;
    try {
      returned = fn(...args, callback);
    } catch (error) {
      settle(error === undefined ? new Error('undefined') : error);
      return;
    }
    if (returned !== null && typeof returned === 'object' && typeof returned.then === 'function') {
      returned.then((value) => settle(null, value), (error) => settle(error === undefined || error === null ? new Error(String(error)) : error));
    } else if (fn.length <= args.length) {
      settle(null, returned);
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Replies.

function asBody(value) {
  if (value === undefined || value === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string') return Buffer.from(value);
  // As FC's Node.js runtime does: anything else is JSON.
  return Buffer.from(JSON.stringify(value));
}

/** FC's error body for Node.js: errorMessage, errorType, and the stack as a list of lines. */
function errorBody(error) {
  let message;
  let type;
  let stack = [];
  if (error instanceof Error) {
    message = error.message;
    type = error.name || (error.constructor && error.constructor.name) || 'Error';
    // The agent's own errors (no module, no handler) have no frames of the function's code to show.
    stack = error instanceof AgentError ? [] : userStack(error);
  } else if (typeof error === 'string') {
    message = error;
    type = 'string';
  } else {
    let text;
    try {
      text = JSON.stringify(error);
    } catch (stringifyError) {
      text = undefined;
    }
    message = error !== null && typeof error === 'object' && typeof error.message === 'string' ? error.message : (text === undefined ? String(error) : text);
    type = error !== null && typeof error === 'object' && typeof error.name === 'string' ? error.name : typeof error;
  }
  return Buffer.from(JSON.stringify({ errorMessage: message, errorType: type, stackTrace: stack }));
}

/** An error's stack as lines, without the agent's own frames. */
function userStack(error) {
  return String(error.stack || error).split('\n').filter((line) => line && !line.includes(__filename));
}

function printError(error) {
  const text = error instanceof Error ? userStack(error).join('\n') : util.inspect(error);
  process.stdout.write(`${new Date().toISOString()} ${currentRequestId()} [error] ${text}\n`);
}

/**
 * Runs one call of user code framed by FC's Start/End lines, its output gathered for the Tail log, and turns
 * its outcome into the reply: `call(context)` returns (a promise of) [status, headers, body].
 */
function run(stage, headers, res, call) {
  const context = makeContext(headers);
  const wantTail = (headers.get('x-fc-log-type') || '').toLowerCase() === 'tail';
  /** @type {Invocation} */
  const current = {
    requestId: context.requestId, output: wantTail ? [] : null, fail: null,
    startLine: `FC ${stage} Start RequestId: ${context.requestId}\n`,
  };
  let done = false;
  const finish = (status, replyHeaders, body, suffix) => {
    if (done) return;
    done = true;
    const endLine = `FC ${stage} End RequestId: ${context.requestId}${suffix}\n`;
    const lines = current.startLine + endLine;
    current.startLine = '';
    if (current.output !== null) current.output.push(Buffer.from(lines));
    realStdoutWrite(lines);
    if (stage !== 'Invoke') flushStdout();
    inFlight.delete(current);
    if (wantTail) {
      const output = Buffer.concat(current.output);
      replyHeaders.push(['x-fc-log-result', output.subarray(Math.max(0, output.length - LOG_TAIL_BYTES)).toString('base64')]);
    }
    reply(res, status, replyHeaders, body);
  };
  // An error the code left unhandled (a rejection nobody awaited, a throw in a timer) ends its invocation too.
  current.fail = (error) => {
    if (done) return;
    printError(error);
    finish(200, [['Content-Type', 'application/json'], ['x-fc-status', '404']], errorBody(error), FAILED_SUFFIX);
  };
  const start = () => {
    let outcome;
    try {
      outcome = Promise.resolve(call(context));
    } catch (error) {
      outcome = Promise.reject(error);
    }
    outcome.then(([status, replyHeaders, body]) => finish(status, replyHeaders, body, ''), current.fail);
  };
  if (!concurrent && inFlight.size > 0) concurrent = true;
  inFlight.add(current);
  if (concurrent) {
    invocation.run(current, start);
  } else {
    unscoped = current;
    start();
  }
}

function reply(res, status, headers, body) {
  res.send(status, headers, body);
}

function eventReply(value) {
  return [200, [['Content-Type', 'application/octet-stream']], asBody(value)];
}

// ---------------------------------------------------------------------------------------------------------------
// Lifecycle hooks.

let initialized = null;

/** The initializer, once per instance: concurrent calls share one run; a failed run may be tried again. */
function initialize(context) {
  if (!context.function.initializer) return Promise.resolve();
  if (initialized === null) {
    initialized = resolveHandler(context.function.initializer).then((fn) => callHandler(fn, [context]));
    initialized.catch(() => {
      initialized = null;
    });
  }
  return initialized;
}

/** The handler a lifecycle hook names: the emulator's header, else the instance's environment. */
function hookHandler(headers, hook) {
  const header = `x-fc-instance-lifecycle-${hook}-handler`;
  const variable = `FC_INSTANCE_LIFECYCLE_${hook.toUpperCase().replace('-', '_')}_HANDLER`;
  return headers.get(header) || process.env[variable] || '';
}

async function lifecycleHook(headers, hook, context) {
  const name = hookHandler(headers, hook);
  if (name) await callHandler(await resolveHandler(name), [context]);
  return eventReply(undefined);
}

// ---------------------------------------------------------------------------------------------------------------
// FC 2.0 HTTP functions: `handler(request, response, context)`.

function httpRequestFor(req, headers, body) {
  const target = new URL(req.url, 'http://localhost');
  const queries = {};
  for (const [key, value] of target.searchParams) {
    if (!(key in queries)) queries[key] = value;
    else if (Array.isArray(queries[key])) queries[key].push(value);
    else queries[key] = [queries[key], value];
  }
  const visible = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    if (name.startsWith('x-fc-') || RESERVED_REQUEST_HEADERS.has(name)) continue;
    visible[name] = name in visible ? `${visible[name]}, ${req.rawHeaders[i + 1]}` : req.rawHeaders[i + 1];
  }
  // The request is also a readable stream of its body, for code that reads it so (getRawBody(req)).
  const request = new PassThrough();
  request.end(body);
  let clientIP = headers.get('x-forwarded-for') || req.socket.remoteAddress || '';
  clientIP = clientIP.split(',')[0].trim();
  Object.assign(request, {
    headers: visible,
    path: decodeURIComponent(target.pathname),
    queries,
    method: req.method,
    clientIP,
    url: req.url,
    body,
  });
  return request;
}

function readAll(stream) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    stream.on('data', (chunk) => chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function httpInvoke(req, headers, body, context) {
  return new Promise((resolve, reject) => {
    let statusCode = 200;
    const responseHeaders = new Map(); // lower-case name -> [name, value | value[]]
    let sent = false;
    const response = {
      setStatusCode(code) {
        const parsed = Number(code);
        if (!Number.isInteger(parsed) || parsed < 100 || parsed > 999) throw new TypeError(`invalid status code ${code}`);
        statusCode = parsed;
      },
      setHeader(name, value) {
        const key = String(name).toLowerCase();
        if (key.startsWith('x-fc-') || RESERVED_RESPONSE_HEADERS.has(key)) return;
        responseHeaders.set(key, [String(name), value]);
      },
      deleteHeader(name) {
        responseHeaders.delete(String(name).toLowerCase());
      },
      hasHeader(name) {
        return responseHeaders.has(String(name).toLowerCase());
      },
      getHeader(name) {
        const entry = responseHeaders.get(String(name).toLowerCase());
        return entry === undefined ? undefined : entry[1];
      },
      send(content) {
        if (sent) return;
        sent = true;
        const finish = (payload) => {
          const lines = [];
          for (const [name, value] of responseHeaders.values()) {
            for (const one of Array.isArray(value) ? value : [value]) lines.push([name, String(one)]);
          }
          resolve([statusCode, lines, payload]);
        };
        if (content instanceof Readable || (content && typeof content.pipe === 'function')) {
          readAll(content).then(finish, reject);
        } else {
          finish(asBody(content));
        }
      },
    };
    resolveHandler(context.function.handler)
      .then((fn) => callHandler(fn, [httpRequestFor(req, headers, body), response, context]))
      .then(() => {}, reject);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The server.

/** The request's headers, lower-case name to value; when a name repeats the last line wins, because the
 * control plane sends its own x-fc-* headers after those of the request it forwards. */
function lastHeaders(req) {
  const headers = new Map();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.set(req.rawHeaders[i].toLowerCase(), req.rawHeaders[i + 1]);
  return headers;
}

function handle(req, res, body) {
  const headers = lastHeaders(req);
  const url = req.url || '/';
  if (headers.get('x-fc-control-path') === HTTP_INVOKE) {
    return run('Invoke', headers, res, (context) => httpInvoke(req, headers, body, context));
  }
  if (req.method === 'POST' && url.startsWith('/invoke')) {
    return run('Invoke', headers, res, (context) => {
      const known = resolved.get(context.function.handler);
      const calling = known !== undefined ? callHandler(known, [body, context])
        : resolveHandler(context.function.handler).then((fn) => callHandler(fn, [body, context]));
      return calling.then(eventReply);
    });
  }
  if (req.method === 'POST' && url.startsWith('/initialize')) {
    return run('Initialize', headers, res, async (context) => {
      await initialize(context);
      return eventReply(undefined);
    });
  }
  if (url.startsWith('/pre-stop')) {
    return run('PreStop', headers, res, (context) => lifecycleHook(headers, 'pre-stop', context));
  }
  if (url.startsWith('/pre-freeze')) {
    return run('PreFreeze', headers, res, (context) => lifecycleHook(headers, 'pre-freeze', context));
  }
  // Liveness probes.
  return reply(res, 200, [], Buffer.alloc(0));
}

function failCurrent(error) {
  // The invocation whose code raised it; with no async context to tell, the one running, if only one is.
  const current = currentInvocation() || (inFlight.size === 1 ? inFlight.values().next().value : null);
  if (current) current.fail(error);
  else printError(error);
}

// FC's runtime reports these as the failing invocation's error rather than letting the instance die.
process.on('unhandledRejection', (reason) => failCurrent(reason === undefined || reason === null ? new Error(String(reason)) : reason));
process.on('uncaughtException', (error) => failCurrent(error));

// ---------------------------------------------------------------------------------------------------------------
// HTTP/1.1 on a plain socket. The control plane's requests are simple (a head, a Content-Length body, keep-alive,
// one at a time per connection), and Node's own http server alone costs about as much CPU per request as the
// whole python agent: this reads the head with one split and writes each answer in one buffer.

const MAX_HEAD_BYTES = 256 * 1024;
/** @type {Record<number, string> | null} */
let statusCodes = null;

/** The status line's reason. Node's table is in its `http` module, whose loading costs a cold start about 6 ms
 * (measured: require('http') after 'net' on Debian's Node.js 18), so it is loaded only when an answer other
 * than 200 needs it. */
function reasonPhrase(status) {
  if (status === 200) return 'OK';
  if (statusCodes === null) statusCodes = require('http').STATUS_CODES;
  return statusCodes[status] || 'Unknown';
}

const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * Whether a request's secret is this instance's. Every character is compared whatever the first difference, so
 * the time taken says nothing of how much of a guess was right (only whether its length is right, which is no
 * secret). By hand rather than crypto.timingSafeEqual: loading the crypto module costs a cold start ~10 ms here.
 */
function isOwnToken(given) {
  if (TOKEN === '' || given === null || given.length !== TOKEN.length) return false;
  let difference = 0;
  for (let i = 0; i < TOKEN.length; i += 1) difference |= given.charCodeAt(i) ^ TOKEN.charCodeAt(i);
  return difference === 0;
}

class Connection {
  constructor(socket) {
    this.socket = socket;
    this.buffered = Buffer.alloc(0);
    this.busy = false;
    this.closed = false;
    this.continued = false;
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
      this.next();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.closed = true;
    });
  }

  /** Parses and runs the next whole request, if one has arrived and none is running. */
  next() {
    if (this.busy || this.closed) return;
    const headEnd = this.buffered.indexOf(HEAD_END);
    if (headEnd < 0) {
      if (this.buffered.length > MAX_HEAD_BYTES) this.refuse();
      return;
    }
    const lines = this.buffered.toString('latin1', 0, headEnd).split('\r\n');
    const [method, url, version] = lines[0].split(' ');
    if (!method || !url || !version || !version.startsWith('HTTP/')) return this.refuse();
    const rawHeaders = [];
    let length = 0;
    let connection = '';
    let expect = '';
    /** @type {string | null} */
    let token = null;
    for (let i = 1; i < lines.length; i += 1) {
      const colon = lines[i].indexOf(':');
      if (colon <= 0) return this.refuse();
      const name = lines[i].slice(0, colon).trim();
      const value = lines[i].slice(colon + 1).trim();
      const lower = name.toLowerCase();
      // Kept apart: no handler sees the secret among the request's headers.
      if (lower === TOKEN_HEADER) {
        token = value;
        continue;
      }
      rawHeaders.push(name, value);
      if (lower === 'content-length') length = Number(value);
      else if (lower === 'connection') connection = value.toLowerCase();
      else if (lower === 'expect') expect = value.toLowerCase();
      else if (lower === 'transfer-encoding') return this.refuse(); // the control plane always sends a length
    }
    // Before the body is awaited and anything runs.
    if (!isOwnToken(token)) return this.forbid();
    if (!Number.isSafeInteger(length) || length < 0) return this.refuse();
    const bodyStart = headEnd + HEAD_END.length;
    if (this.buffered.length < bodyStart + length) {
      if (expect === '100-continue' && !this.continued) {
        this.continued = true;
        this.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
      }
      return;
    }
    const body = this.buffered.subarray(bodyStart, bodyStart + length);
    this.buffered = this.buffered.subarray(bodyStart + length);
    this.continued = false;
    this.busy = true;
    const keepAlive = version === 'HTTP/1.0' ? connection === 'keep-alive' : connection !== 'close';
    const req = { method, url, httpVersion: version.slice(5), rawHeaders, socket: this.socket };
    let answered = false;
    const res = {
      send: (status, headers, payload) => {
        if (answered) return;
        answered = true;
        let head = `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n`;
        for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
        head += `Content-Length: ${payload.length}\r\n${keepAlive ? '' : 'Connection: close\r\n'}\r\n`;
        if (!this.closed) this.socket.write(payload.length ? Buffer.concat([Buffer.from(head, 'latin1'), payload]) : head, 'latin1');
        this.busy = false;
        if (!keepAlive) this.socket.end();
        else if (this.buffered.length) this.next();
      },
      get answered() {
        return answered;
      },
    };
    try {
      Promise.resolve(handle(req, res, body)).catch((error) => this.failed(res, error));
    } catch (error) {
      this.failed(res, error);
    }
  }

  failed(res, error) {
    printError(error);
    if (!res.answered) res.send(500, [], Buffer.alloc(0));
  }

  refuse() {
    this.closed = true;
    this.socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  }

  forbid() {
    this.closed = true;
    const body = 'this instance answers only the emulator that started it\n';
    this.socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n`
      + `Connection: close\r\n\r\n${body}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// FC's endpoints: FC's endpoint names resolve to 127.0.0.1 here (the container's /etc/hosts), and 127.0.0.1:80 and
// :443 are relayed to the emulator's listeners for instances, given in FCEMU_FC_RELAY as
// "80=<address>:<port>,443=<address>:<port>". Bytes only: TLS ends in the emulator, whose authority Node.js trusts
// through NODE_EXTRA_CA_CERTS. A port that cannot be had (the function listens there itself) is said and skipped.
function relayFcEndpoints(routes) {
  for (const entry of routes.split(',').map((item) => item.trim()).filter(Boolean)) {
    const [port, target] = entry.split('=');
    const separator = target.lastIndexOf(':');
    const upstream = { host: target.slice(0, separator), port: Number(target.slice(separator + 1)) };
    net.createServer((client) => {
      const server = net.connect(upstream);
      client.setNoDelay(true);
      server.setNoDelay(true);
      const close = () => { client.destroy(); server.destroy(); };
      client.on('error', close);
      server.on('error', close);
      client.pipe(server);
      server.pipe(client);
    }).on('error', (error) => {
      process.stderr.write(`fcemu: FC's endpoint port ${port} is not relayed: ${error.message}\n`);
    }).listen(Number(port), '127.0.0.1');
  }
}
relayFcEndpoints(process.env.FCEMU_FC_RELAY || '');
delete process.env.FCEMU_FC_RELAY; // the relay's, not the function's

const server = net.createServer((socket) => new Connection(socket));
server.listen(PORT, '0.0.0.0', () => {
  realStdoutWrite('FunctionCompute nodejs runtime inited.\n');
  flushStdout();
});
