#!/usr/bin/env node
'use strict';

// A local Telegram Bot API for end-to-end tests: telegram-test-api@4.2.1, unmodified, wrapped
// so that python-telegram-bot 22 can run against it over HTTP.
//
//   node launcher.js [--port 0] [--host 127.0.0.1] [--bot-username SanadTestBot]
//
// Prints "telegram-emulator ready on http://HOST:PORT" once listening. The package keeps the
// update queue, the bot's messages and the id counters, and serves its own client routes;
// the Bot API methods are answered here (lib/botApi.js) because the package's answers are
// not what Telegram sends (null results, dates in ms, no long polling, missing methods, ...).
// The user side and test hooks live under /_test/ (lib/control.js).

if (Number(process.versions.node.split('.')[0]) < 18) {
  process.stderr.write(`telegram-emulator needs Node 18 or newer, not ${process.version}\n`);
  process.exit(1);
}

const path = require('path');
const { EmulatorState, ApiError } = require('./lib/state');
const { handlers, decodeParams } = require('./lib/botApi');
const { registerControl } = require('./lib/control');
const { parseMultipart } = require('./lib/multipart');

// The express the package itself uses, whatever npm's hoisting did.
const express = require(require.resolve('express', {
  paths: [path.dirname(require.resolve('telegram-test-api'))],
}));

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  if (index !== -1 && process.argv[index + 1] !== undefined) return process.argv[index + 1];
  const env = process.env[`TG_EMULATOR_${name.toUpperCase().replace(/-/g, '_')}`];
  return env !== undefined ? env : fallback;
}

const log = (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

function sendError(res, error) {
  if (!(error instanceof ApiError)) log(`internal error: ${error.stack || error}`);
  const code = error instanceof ApiError ? error.code : 500;
  const body = { ok: false, error_code: code, description: error.message };
  if (error.parameters) body.parameters = error.parameters;
  if (!res.headersSent) res.status(code).json(body);
}

/** Wrap a (req) => result function as a route answering {ok, result} or a Bot API error. */
const respond = (fn) => async (req, res) => {
  try {
    const result = await fn(req, res);
    if (result !== undefined && !res.headersSent) res.json({ ok: true, result });
  } catch (error) {
    sendError(res, error);
  }
};

function buildApp(state) {
  const app = express();
  const api = handlers(state);
  app.use(express.json({ limit: '50mb' }));
  app.use(express.urlencoded({ extended: true, limit: '50mb' }));
  app.use(express.raw({ type: 'multipart/form-data', limit: '50mb' }));
  app.use((req, _res, next) => {
    if (Buffer.isBuffer(req.body)) {
      const { fields, files } = parseMultipart(req.body, req.headers['content-type']);
      req.body = fields;
      req.files = files;
    }
    next();
  });

  app.all('/bot:token/:method', (req, res, next) => {
    const { token, method } = req.params;
    const started = Date.now();
    res.on('finish', () => log(`${method} -> ${res.statusCode} (${Date.now() - started} ms)`));
    const handler = api[method];
    if (!handler) {
      // Falls through to the package's unknownMethod route; give its 500 a Bot API body.
      const json = res.json.bind(res);
      res.json = (body) => json(body && body.ok === undefined
        ? { ok: false, error_code: res.statusCode, description: `Emulator: ${body.message}` }
        : body);
      return next();
    }
    return respond(async () => {
      const params = decodeParams({ ...req.query, ...req.body });
      state.checkFlood(token, method);
      return handler(token, params, req.files || {}, res);
    })(req, res);
  });

  // python-telegram-bot downloads files from {base_file_url}{token}/{file_path}.
  app.get('/file/bot:token/*', (req, res) => {
    const file = [...state.files.values()].find((f) => f.path === req.params[0]);
    if (!file) return res.status(404).json({ ok: false, error_code: 404, description: 'Not Found' });
    return res.type(file.mimeType || 'application/octet-stream').send(file.data);
  });
  app.get('/_test/health', (_req, res) => res.json({ ok: true }));
  registerControl(app, state, respond);
  app.use(state.server.webServer); // the package's own routes (its client API, unknown methods)
  return app;
}

function main() {
  const state = new EmulatorState({
    botUsername: option('bot-username', 'SanadTestBot'),
    botName: option('bot-name', 'Sanad Test Bot'),
    htmlStrict: option('html-strict', 'true') !== 'false',
  });
  const host = option('host', '127.0.0.1');
  const server = buildApp(state).listen(Number(option('port', '0')), host, () => {
    // The readiness line the Python harness waits for; keep its wording stable.
    process.stdout.write(`telegram-emulator ready on http://${host}:${server.address().port}\n`);
  });
  server.keepAliveTimeout = 60000; // bots keep their connection pool open between polls
  const stop = () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
