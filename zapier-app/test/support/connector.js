'use strict';
/**
 * Starts a real billrun-connector from this repository for one test suite: its own temporary
 * SQLite database, an API key and an ingest URL for tenant "acme", `serve` on a free loopback port
 * with loopback allowed as a delivery target. `stop()` kills the server by pid and removes the folder.
 */
const { execFile, spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const COMMAND_TIMEOUT_MS = 60000;
const START_TIMEOUT_MS = 60000;
const STOP_TIMEOUT_MS = 10000;

/** `<repo>/.venv/bin/billrun-connector`, or BILLRUN_CONNECTOR_BIN. */
const connectorBin = () => {
  const bin = process.env.BILLRUN_CONNECTOR_BIN || path.join(REPO_ROOT, '.venv', 'bin', 'billrun-connector');
  if (!fs.existsSync(bin)) {
    throw new Error(`billrun-connector not found at ${bin}: install the repository's virtualenv or set BILLRUN_CONNECTOR_BIN`);
  }
  return bin;
};

const freePort = () => new Promise((resolve, reject) => {
  const server = net.createServer();
  server.once('error', reject);
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    server.close(() => resolve(port));
  });
});

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/** Runs one CLI command and resolves with the last non-empty stdout line. */
const run = (bin, args, env) => new Promise((resolve, reject) => {
  execFile(bin, args, { env, timeout: COMMAND_TIMEOUT_MS }, (error, stdout, stderr) => {
    if (error) {
      reject(new Error(`billrun-connector ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      return;
    }
    const lines = stdout.split('\n').map((line) => line.trim()).filter(Boolean);
    resolve(lines[lines.length - 1]);
  });
});

const waitForHealth = async (url, child, output) => {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`billrun-connector serve exited with ${child.exitCode}:\n${output.join('')}`);
    }
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.status === 200) {
        return;
      }
    } catch (error) {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`billrun-connector serve did not answer /healthz within ${START_TIMEOUT_MS} ms:\n${output.join('')}`);
};

const stopProcess = async (child) => {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise((resolve) => { child.once('exit', resolve); });
  child.kill('SIGTERM');
  let timer;
  const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS); });
  const outcome = await Promise.race([exited, timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
};

/**
 * Starts the connector; resolves with `{url, apiKey, ingestUrl, fire(type), createKey(tenant), stop()}`.
 * Suites that fire no events pass `{ingest: false}` and get no ingest URL; `settings` adds
 * `BILLRUN_CONNECTOR_*` variables (e.g. `{ROTATION_GRACE_SECONDS: '0'}`).
 */
const startConnector = async ({ ingest = true, settings = {} } = {}) => {
  const bin = connectorBin();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'billrun-zapier-'));
  const env = {
    ...process.env,
    BILLRUN_CONNECTOR_DATABASE_URL: `sqlite:///${path.join(dir, 'c.db')}`,
    BILLRUN_CONNECTOR_RETRY_SCALE: '0.001',
    BILLRUN_CONNECTOR_SECRET_KEY: crypto.randomBytes(32).toString('hex'),
    ...Object.fromEntries(Object.entries(settings).map(([name, value]) => [`BILLRUN_CONNECTOR_${name}`, value])),
  };
  let child;
  try {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const apiKey = await run(bin, ['keys', 'create', '--tenant', 'acme', '--label', 'zapier'], env);
    const ingestUrl = ingest ? await run(bin, ['ingest-url', '--tenant', 'acme', '--base-url', url], env) : null;
    const output = [];
    child = spawn(bin, ['serve', '--host', '127.0.0.1', '--port', String(port), '--allow-network', '127.0.0.0/8'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk) => output.push(chunk.toString()));
    child.stderr.on('data', (chunk) => output.push(chunk.toString()));
    await waitForHealth(url, child, output);
    return {
      url,
      apiKey,
      ingestUrl,
      env,
      fire: (type) => run(bin, ['fire', type, '--url', ingestUrl], env),
      createKey: (tenant, label = 'zapier') => run(bin, ['keys', 'create', '--tenant', tenant, '--label', label], env),
      stop: async () => {
        await stopProcess(child);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (child) {
      await stopProcess(child);
    }
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
};

/** A call to the connector's REST API with the suite's key; resolves with `{status, body}`. */
const api = async (connector, method, apiPath, body) => {
  const response = await fetch(`${connector.url}${apiPath}`, {
    method,
    headers: { Authorization: `Bearer ${connector.apiKey}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
};

/** Polls `check()` every 100 ms until it returns a truthy value or `timeoutMs` passes. */
const waitFor = async (check, timeoutMs, what) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(100);
  }
};

module.exports = { startConnector, api, waitFor, freePort };
