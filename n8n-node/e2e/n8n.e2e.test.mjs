// End to end in a real n8n: a connector from this repository and n8n (installed by
// scripts/install-n8n.sh) run on loopback; the BillRun Trigger is loaded from the built package
// through N8N_CUSTOM_EXTENSIONS. Run it with scripts/e2e.sh.
//
//   N8N_HOME                  the n8n install folder (required)
//   BILLRUN_CONNECTOR_BIN     the connector command (default: <repo>/.venv/bin/billrun-connector)
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, openSync, readFileSync, rmSync, closeSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoDir = resolve(packageDir, '..');
const connectorBin =
	process.env.BILLRUN_CONNECTOR_BIN || join(repoDir, '.venv', 'bin', 'billrun-connector');
const n8nHome = process.env.N8N_HOME;
assert.ok(n8nHome, 'N8N_HOME must name the n8n install folder (scripts/install-n8n.sh prints it)');
const n8nBin = join(n8nHome, 'node_modules', '.bin', 'n8n');

const work = mkdtempSync(join(tmpdir(), 'billrun-n8n-e2e-'));
const KEEP = process.env.BILLRUN_E2E_KEEP === '1';
const children = new Set();

function freePort() {
	return new Promise((resolvePort, reject) => {
		const server = createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address();
			server.close(() => resolvePort(port));
		});
	});
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** Polls `probe` until it returns a truthy value; fails after `seconds`. */
async function waitFor(what, seconds, probe) {
	const deadline = Date.now() + seconds * 1000;
	let last;
	while (Date.now() < deadline) {
		try {
			const value = await probe();
			if (value) return value;
		} catch (error) {
			last = error;
		}
		await sleep(500);
	}
	throw new Error(
		`timed out after ${seconds}s waiting for ${what}${last ? `: ${last.message}` : ''}`,
	);
}

/** Starts a long-running process with its output in `<work>/<name>.log`. */
function start(name, command, args, env) {
	const log = openSync(join(work, `${name}.log`), 'a');
	const child = spawn(command, args, { cwd: work, env, stdio: ['ignore', log, log] });
	closeSync(log);
	child.exited = new Promise((done) =>
		child.once('exit', (code, signal) => done({ code, signal })),
	);
	children.add(child);
	child.once('exit', () => children.delete(child));
	return child;
}

/** Stops one process we started, by its pid: SIGTERM, then SIGKILL after a bounded wait. */
async function stop(child, seconds = 30) {
	if (child.exitCode !== null || child.signalCode !== null) return;
	process.kill(child.pid, 'SIGTERM');
	const timer = sleep(seconds * 1000).then(() => 'timeout');
	if ((await Promise.race([child.exited, timer])) === 'timeout') {
		process.kill(child.pid, 'SIGKILL');
		await child.exited;
	}
}

function killAll() {
	for (const child of children) {
		try {
			process.kill(child.pid, 'SIGKILL');
		} catch {
			// already gone
		}
	}
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
	process.on(signal, () => {
		killAll();
		process.exit(1);
	});
}

function logTail(name, lines = 40) {
	try {
		return readFileSync(join(work, `${name}.log`), 'utf8')
			.split('\n')
			.slice(-lines)
			.join('\n');
	} catch {
		return '(no log)';
	}
}

async function request(url, { method = 'GET', headers = {}, body } = {}) {
	const response = await fetch(url, {
		method,
		headers,
		body,
		signal: AbortSignal.timeout(30_000),
	});
	const text = await response.text();
	let json;
	try {
		json = text ? JSON.parse(text) : undefined;
	} catch {
		json = undefined;
	}
	return { status: response.status, headers: response.headers, text, json };
}

async function requestJson(url, options = {}) {
	const headers = { 'content-type': 'application/json', ...(options.headers ?? {}) };
	const body = options.body === undefined ? undefined : JSON.stringify(options.body);
	return request(url, { ...options, headers, body });
}

// ---------------------------------------------------------------- connector

const connector = {};

function connectorEnv() {
	return {
		...process.env,
		BILLRUN_CONNECTOR_DATABASE_URL: `sqlite:///${join(work, 'c.db')}`,
		BILLRUN_CONNECTOR_RETRY_SCALE: '0.001',
		// A rotated-out secret signs nothing at once, as after a real rotation's grace period.
		BILLRUN_CONNECTOR_ROTATION_GRACE_SECONDS: '0',
	};
}

function connectorCommand(args) {
	const out = execFileSync(connectorBin, args, {
		cwd: work,
		env: connectorEnv(),
		encoding: 'utf8',
		timeout: 120_000,
	});
	const lines = out.trim().split('\n');
	return lines[lines.length - 1].trim();
}

function connectorApi(path, options = {}) {
	return requestJson(`${connector.url}/api/v1${path}`, {
		...options,
		headers: { authorization: `Bearer ${connector.key}`, ...(options.headers ?? {}) },
	});
}

/** The subscriptions posting to `targetUrl`, through the list endpoint's filter. */
async function hooksOn(targetUrl) {
	const query = new URLSearchParams({ target_url: targetUrl, limit: '100' });
	const { status, json, text } = await connectorApi(`/hooks?${query}`);
	assert.equal(status, 200, `GET /api/v1/hooks answered ${status}: ${text}`);
	assert.equal(json.next_cursor, null, text);
	return json.data;
}

/** Posts a form body to the ingest URL as BillRun's webhooks plugin does; the connector's answer. */
async function ingest(form) {
	const answer = await request(connector.ingestUrl, {
		method: 'POST',
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: form.toString(),
	});
	assert.equal(answer.status, 200, answer.text);
	return answer.json;
}

/** A subscribers/update exactly as BillRun's plugin posts it: PHP bracket-notation form fields. */
function subscriberUpdateForm(firstname) {
	const entity = (prefix, name) => [
		[`${prefix}[aid]`, '1'],
		[`${prefix}[sid]`, '12'],
		[`${prefix}[type]`, 'subscriber'],
		[`${prefix}[plan]`, 'GOLD'],
		[`${prefix}[firstname]`, name],
		[`${prefix}[lastname]`, 'Tester'],
		[`${prefix}[from][sec]`, '1706659200'],
		[`${prefix}[from][usec]`, '0'],
		[`${prefix}[to][sec]`, '6408441600'],
		[`${prefix}[to][usec]`, '0'],
		[`${prefix}[creation_time][sec]`, '1706659200'],
		[`${prefix}[creation_time][usec]`, '0'],
	];
	return new URLSearchParams([
		['module', 'subscribers'],
		['action', 'update'],
		['modifiedUser', 'crm'],
		...entity('before', 'Before'),
		...entity('after', firstname),
	]);
}

/** A delivery of a module and action the catalog does not know, shaped as BillRun posts them. */
function unknownEventForm(marker) {
	return new URLSearchParams([
		['module', 'warehouse'],
		['action', 'restock'],
		['modifiedUser', 'crm'],
		['after[sku]', 'SIM-4G'],
		['after[note]', marker],
		['after[quantity]', '40'],
	]);
}

// ---------------------------------------------------------------- n8n

const n8n = {};

function n8nEnv() {
	return {
		...process.env,
		N8N_USER_FOLDER: join(work, 'n8n-home'),
		N8N_PORT: String(n8n.port),
		N8N_LISTEN_ADDRESS: '127.0.0.1',
		N8N_HOST: '127.0.0.1',
		N8N_PROTOCOL: 'http',
		N8N_RUNNERS_BROKER_PORT: String(n8n.brokerPort),
		N8N_RUNNERS_BROKER_LISTEN_ADDRESS: '127.0.0.1',
		WEBHOOK_URL: `${n8n.url}/`,
		N8N_EDITOR_BASE_URL: `${n8n.url}/`,
		N8N_ENCRYPTION_KEY: 'e2e-encryption-key-not-secret',
		N8N_SECURE_COOKIE: 'false',
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_DIAGNOSTICS_CONFIG_FRONTEND: '',
		N8N_DIAGNOSTICS_CONFIG_BACKEND: '',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_WHATS_NEW_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_HIRING_BANNER_ENABLED: 'false',
		N8N_DYNAMIC_BANNERS_ENABLED: 'false',
		N8N_AI_ENABLED: 'false',
		N8N_LICENSE_AUTO_RENEW_ENABLED: 'false',
		EXTERNAL_FRONTEND_HOOKS_URLS: '',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'true',
		DB_SQLITE_POOL_SIZE: '2',
		N8N_LOG_LEVEL: 'info',
		// A copy outside the repository, so `n8n-workflow` resolves to n8n's own copy as it
		// does for an installed community package.
		N8N_CUSTOM_EXTENSIONS: join(work, 'extensions'),
	};
}

async function startN8n() {
	n8n.process = start('n8n', n8nBin, ['start'], n8nEnv());
	await waitFor('n8n to serve its API', 240, async () => {
		if (n8n.process.exitCode !== null) throw new Error(`n8n exited:\n${logTail('n8n')}`);
		// /healthz answers while migrations still run; the REST routes are mounted last.
		// Until then the editor's page answers every path, so look for the JSON answer.
		const settings = await request(`${n8n.url}/rest/settings`);
		return settings.status === 200 && settings.json !== undefined;
	});
}

/** n8n's own log so far (all runs: the file is appended to across restarts). */
function n8nLog() {
	return readFileSync(join(work, 'n8n.log'), 'utf8');
}

function n8nApi(path, options = {}) {
	return requestJson(`${n8n.url}/api/v1${path}`, {
		...options,
		headers: { 'x-n8n-api-key': n8n.apiKey, ...(options.headers ?? {}) },
	});
}

async function executions() {
	const { status, json, text } = await n8nApi(
		`/executions?workflowId=${n8n.workflowId}&includeData=true&limit=100`,
	);
	assert.equal(status, 200, text);
	return json.data;
}

/** Waits for an execution whose data holds `marker`. */
function executionHolding(marker, seconds = 90) {
	return waitFor(`an n8n execution holding ${marker}`, seconds, async () =>
		(await executions()).find((execution) => JSON.stringify(execution.data ?? {}).includes(marker)),
	);
}

function triggerOutput(execution, nodeName = n8n.triggerName) {
	const runs = execution.data.resultData.runData[nodeName];
	assert.ok(runs, `no run data for ${nodeName}: ${Object.keys(execution.data.resultData.runData)}`);
	return runs[0].data.main[0].map((item) => item.json);
}

/** Changes the workflow through n8n's public API, as a client would: read, edit, PUT. */
async function updateWorkflow(edit) {
	const current = await n8nApi(`/workflows/${n8n.workflowId}`);
	assert.equal(current.status, 200, current.text);
	const { name, nodes, connections } = current.json;
	edit(nodes);
	const updated = await n8nApi(`/workflows/${n8n.workflowId}`, {
		method: 'PUT',
		body: { name, nodes, connections, settings: WORKFLOW_SETTINGS },
	});
	assert.equal(updated.status, 200, `${updated.text}\n${logTail('n8n')}`);
	assert.equal(updated.json.active, true, 'the workflow stays active');
	return updated.json;
}

/** "Listen for test event" in the editor: n8n subscribes the trigger's test URL. */
async function listenForTestEvent() {
	const workflow = await n8nApi(`/workflows/${n8n.workflowId}`);
	assert.equal(workflow.status, 200, workflow.text);
	const run = await requestJson(`${n8n.url}/rest/workflows/${n8n.workflowId}/run`, {
		method: 'POST',
		headers: { cookie: n8n.cookie },
		body: { workflowData: workflow.json, triggerToStartFrom: { name: n8n.triggerName } },
	});
	assert.equal(run.status, 200, `${run.text}\n${logTail('n8n')}`);
	assert.equal(run.json.data.waitingForWebhook, true, run.text);
	const [hook, ...more] = await hooksOn(n8n.testUrl);
	assert.equal(more.length, 0, 'one test subscription');
	return hook;
}

/** A loopback HTTP server that is not a connector: 200 with some JSON for every request. */
async function notAConnector() {
	const server = createHttpServer((_req, res) => {
		res.writeHead(200, { 'content-type': 'application/json' });
		res.end('{"status":"ok"}');
	});
	await new Promise((listening) => server.listen(0, '127.0.0.1', listening));
	return server;
}

// ---------------------------------------------------------------- the scenario

const WORKFLOW_SETTINGS = {
	saveDataSuccessExecution: 'all',
	saveDataErrorExecution: 'all',
	saveManualExecutions: true,
};

const marker = (what) => `${what}-${randomUUID().slice(0, 8)}`;

describe('BillRun Trigger in a real n8n', { concurrency: false }, () => {
	before(async () => {
		cpSync(join(packageDir, 'dist'), join(work, 'extensions'), { recursive: true });
		connector.port = await freePort();
		connector.url = `http://127.0.0.1:${connector.port}`;
		n8n.port = await freePort();
		n8n.brokerPort = await freePort();
		n8n.url = `http://127.0.0.1:${n8n.port}`;

		connector.key = connectorCommand(['keys', 'create', '--tenant', 'acme', '--label', 'n8n']);
		connector.ingestUrl = connectorCommand([
			'ingest-url',
			'--tenant',
			'acme',
			'--base-url',
			connector.url,
		]);
		connector.process = start(
			'connector',
			connectorBin,
			['serve', '--port', String(connector.port), '--allow-network', '127.0.0.0/8'],
			connectorEnv(),
		);
		await waitFor('the connector /healthz', 60, async () => {
			if (connector.process.exitCode !== null)
				throw new Error(`connector exited:\n${logTail('connector')}`);
			return (await request(`${connector.url}/healthz`)).status === 200;
		});
		await startN8n();
	});

	after(async () => {
		for (const child of [...children]) await stop(child);
		if (KEEP) process.stdout.write(`# kept ${work}\n`);
		else rmSync(work, { recursive: true, force: true });
	});

	it('sets up an n8n owner and a public API key', async () => {
		const setup = await requestJson(`${n8n.url}/rest/owner/setup`, {
			method: 'POST',
			body: {
				email: 'owner@example.com',
				firstName: 'E2E',
				lastName: 'Owner',
				password: 'Passw0rd!Passw0rd',
			},
		});
		assert.equal(setup.status, 200, setup.text);
		assert.equal(setup.json?.data?.email, 'owner@example.com', setup.text);
		const cookie = setup.headers
			.getSetCookie()
			.map((entry) => entry.split(';')[0])
			.join('; ');
		n8n.cookie = cookie;
		const scopes = await request(`${n8n.url}/rest/api-keys/scopes`, { headers: { cookie } });
		assert.equal(scopes.status, 200, scopes.text);
		const key = await requestJson(`${n8n.url}/rest/api-keys`, {
			method: 'POST',
			headers: { cookie },
			body: { label: 'e2e', scopes: scopes.json.data, expiresAt: null },
		});
		assert.equal(key.status, 200, key.text);
		n8n.apiKey = key.json.data.rawApiKey;
		assert.ok(n8n.apiKey);
	});

	it('imports the credentials; their test names the tenant or says what is wrong', async () => {
		const credential = await n8nApi('/credentials', {
			method: 'POST',
			body: {
				name: 'BillRun connector (e2e)',
				type: 'billRunConnectorApi',
				data: { url: `${connector.url}/`, apiKey: connector.key, allowedHttpRequestDomains: 'all' },
			},
		});
		assert.equal(credential.status, 200, credential.text);
		n8n.credential = { id: credential.json.id, name: credential.json.name };

		// The editor's "Test" button: n8n sends the credential's test request to /api/v1/me.
		const test = async (url, apiKey) => {
			const answer = await requestJson(`${n8n.url}/rest/credentials/test`, {
				method: 'POST',
				headers: { cookie: n8n.cookie },
				body: {
					credentials: { ...n8n.credential, type: 'billRunConnectorApi', data: { url, apiKey } },
				},
			});
			assert.equal(answer.status, 200, answer.text);
			return answer.json.data;
		};
		assert.deepEqual(await test(`${connector.url}/`, connector.key), {
			status: 'OK',
			message: 'Connection successful!',
		});

		const badKey = await test(connector.url, 'brc_not_a_key');
		assert.equal(badKey.status, 'Error');
		assert.match(badKey.message, /refused the API key \(HTTP 401\)/);

		const wrongPath = await test(`${connector.url}/api/v1`, connector.key);
		assert.equal(wrongPath.status, 'Error');
		assert.match(wrongPath.message, /HTTP 404\). Give the connector's base URL, without \/api\/v1/);

		const server = await notAConnector();
		try {
			const other = await test(`http://127.0.0.1:${server.address().port}`, connector.key);
			assert.equal(other.status, 'Error');
			assert.match(other.message, /not as a billrun-connector/);
		} finally {
			server.close();
		}

		const closed = await test(`http://127.0.0.1:${await freePort()}`, connector.key);
		assert.equal(closed.status, 'Error');
		assert.match(closed.message, /refused the connection/);
	});

	it('imports a workflow, and activating it subscribes once', async () => {
		n8n.webhookId = randomUUID();
		n8n.triggerName = 'BillRun Trigger';
		const workflow = await n8nApi('/workflows', {
			method: 'POST',
			body: {
				name: 'BillRun e2e',
				nodes: [
					{
						id: randomUUID(),
						name: n8n.triggerName,
						type: 'CUSTOM.billRunTrigger',
						typeVersion: 1,
						position: [0, 0],
						webhookId: n8n.webhookId,
						parameters: { events: ['subscribers.update'] },
						credentials: { billRunConnectorApi: n8n.credential },
					},
				],
				connections: {},
				settings: WORKFLOW_SETTINGS,
			},
		});
		assert.equal(workflow.status, 200, workflow.text);
		n8n.workflowId = workflow.json.id;
		n8n.productionUrl = `${n8n.url}/webhook/${n8n.webhookId}/webhook`;
		n8n.testUrl = `${n8n.url}/webhook-test/${n8n.webhookId}/webhook`;

		const activated = await n8nApi(`/workflows/${n8n.workflowId}/activate`, { method: 'POST' });
		assert.equal(activated.status, 200, `${activated.text}\n${logTail('n8n')}`);

		const hooks = await hooksOn(n8n.productionUrl);
		assert.equal(hooks.length, 1, JSON.stringify(hooks));
		const [hook] = hooks;
		assert.deepEqual(hook.events, ['subscribers.update']);
		assert.equal(hook.expires_at, null);
		assert.equal(hook.metadata.workflow_id, n8n.workflowId);
		connector.hookId = hook.id;
	});

	it('runs the workflow with the data of an event BillRun posts to the ingest URL', async () => {
		const name = marker('E2E');
		const accepted = await ingest(subscriberUpdateForm(name));
		assert.equal(accepted.type, 'subscribers.update');

		const execution = await executionHolding(name);
		assert.equal(execution.status, 'success');
		assert.equal(execution.mode, 'webhook');
		const [event, ...more] = triggerOutput(execution);
		assert.equal(more.length, 0);
		assert.deepEqual(Object.keys(event).sort(), ['data', 'id', 'timestamp', 'type']);
		assert.equal(event.id, accepted.id);
		assert.equal(event.type, 'subscribers.update');
		assert.equal(event.data.after.firstname, name);
		assert.equal(event.data.before.firstname, 'Before');
		assert.equal(event.data.after.sid, 12, 'numbers are typed by the connector');
	});

	it('answers 401 to a tampered delivery, logs why and starts no execution', async () => {
		const before = (await executions()).length;
		const body = JSON.stringify({
			id: 'evt_forged',
			type: 'subscribers.update',
			timestamp: new Date().toISOString(),
			data: { after: { firstname: 'forged' } },
		});
		const forged = await request(n8n.productionUrl, {
			method: 'POST',
			headers: {
				'content-type': 'application/json',
				'webhook-id': 'evt_forged',
				'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
				'webhook-signature': `v1,${Buffer.alloc(32, 7).toString('base64')}`,
			},
			body,
		});
		assert.equal(forged.status, 401, forged.text);
		await waitFor('the refusal in the n8n log', 10, () =>
			/refused delivery evt_forged with 401: no signature matches/.test(n8nLog()),
		);
		const all = await executions();
		assert.equal(all.length, before);
		assert.ok(!JSON.stringify(all).includes('forged'));
	});

	it('listens for a test event through a short-lived subscription, removed once the event came', async () => {
		const hook = await listenForTestEvent();
		assert.deepEqual(hook.events, ['subscribers.update']);
		const lifetime = (Date.parse(hook.expires_at) - Date.parse(hook.created_at)) / 1000;
		assert.ok(lifetime >= 150 && lifetime <= 600, `test subscription lives ${lifetime}s`);

		const name = marker('TEST');
		await ingest(subscriberUpdateForm(name));
		await waitFor('the manual execution of the test event', 90, async () =>
			(await executions()).find(
				(execution) => execution.mode === 'manual' && JSON.stringify(execution.data).includes(name),
			),
		);
		await waitFor('the test subscription to be removed', 30, async () => {
			return (await hooksOn(n8n.testUrl)).length === 0;
		});
		const production = await hooksOn(n8n.productionUrl);
		assert.deepEqual(
			production.map((entry) => entry.id),
			[connector.hookId],
		);
	});

	it('keeps the one subscription across an n8n restart, and still receives events', async () => {
		// n8n stops while a test listener is open: nothing deletes its subscription but its expiry.
		connector.abandonedTestHook = await listenForTestEvent();
		await stop(n8n.process);
		await startN8n();
		// An event delivered after the restart proves the trigger is registered again and that
		// its secret survived in the workflow's static data.
		const name = marker('RESTART');
		await ingest(subscriberUpdateForm(name));
		await executionHolding(name, 120);
		const hooks = await hooksOn(n8n.productionUrl);
		assert.equal(hooks.length, 1, JSON.stringify(hooks));
		assert.equal(hooks[0].id, connector.hookId, 'the subscription was replaced');
		const [abandoned] = await hooksOn(n8n.testUrl);
		assert.equal(
			abandoned?.id,
			connector.abandonedTestHook.id,
			'the test subscription outlives n8n',
		);
	});

	it('leaves exactly one subscription when the trigger is renamed through the public API', async () => {
		const renamed = 'BillRun Events';
		await updateWorkflow((nodes) => {
			const trigger = nodes.find((node) => node.name === n8n.triggerName);
			trigger.name = renamed;
		});
		n8n.triggerName = renamed;
		const hooks = await hooksOn(n8n.productionUrl);
		assert.equal(hooks.length, 1, JSON.stringify(hooks));
		connector.hookId = hooks[0].id;

		const name = marker('RENAMED');
		await ingest(subscriberUpdateForm(name));
		const execution = await executionHolding(name);
		assert.equal(triggerOutput(execution)[0].data.after.firstname, name);
		assert.equal((await hooksOn(n8n.productionUrl)).length, 1);
	});

	it('delivers again after a secret rotation on the connector, once n8n restarts', async () => {
		const rotated = await connectorApi(`/hooks/${connector.hookId}/rotate-secret`, {
			method: 'POST',
		});
		assert.equal(rotated.status, 200, rotated.text);
		assert.ok(rotated.json.secret_rotated_at);

		// Signed only with a secret the trigger does not hold: refused, and n8n's log says why.
		const missed = marker('MISSED');
		const accepted = await ingest(subscriberUpdateForm(missed));
		await waitFor('the refusal of the rotated delivery in the n8n log', 30, () =>
			n8nLog().includes(`refused delivery ${accepted.id} with 401: no signature matches`),
		);
		const attempts = await connectorApi(`/hooks/${connector.hookId}/deliveries?limit=5`);
		const delivery = attempts.json.data.find((entry) => entry.event_id === accepted.id);
		assert.equal(delivery.last_status_code, 401, JSON.stringify(delivery));

		await stop(n8n.process);
		await startN8n();
		const name = marker('ROTATED');
		await ingest(subscriberUpdateForm(name));
		await executionHolding(name, 120);
		const hooks = await hooksOn(n8n.productionUrl);
		assert.equal(hooks.length, 1, JSON.stringify(hooks));
		assert.equal(hooks[0].id, connector.hookId, 'the trigger kept its subscription');
		assert.ok(
			Date.parse(hooks[0].secret_rotated_at) > Date.parse(rotated.json.secret_rotated_at),
			'with a secret of its own',
		);
		// The connector's retries of the refused delivery now pass too.
		await executionHolding(missed, 240);
	});

	it('receives, with All Events, a type the catalog does not know', async () => {
		const catalog = JSON.parse(readFileSync(join(repoDir, 'schemas', 'catalog.json'), 'utf8'));
		assert.ok(!catalog.events.some((event) => event.type === 'warehouse.restock'));
		await updateWorkflow((nodes) => {
			nodes.find((node) => node.name === n8n.triggerName).parameters.events = ['*'];
		});
		const hooks = await hooksOn(n8n.productionUrl);
		assert.equal(hooks.length, 1, JSON.stringify(hooks));
		assert.deepEqual(hooks[0].events, ['*']);
		connector.hookId = hooks[0].id;

		const note = marker('UNKNOWN');
		const accepted = await ingest(unknownEventForm(note));
		assert.equal(accepted.type, 'warehouse.restock');
		const execution = await executionHolding(note);
		const [event] = triggerOutput(execution);
		assert.equal(event.type, 'warehouse.restock');
		assert.equal(event.data.after.note, note);
	});

	it('has the connector remove the abandoned test subscription after its expiry', async () => {
		const { id, expires_at: expiresAt } = connector.abandonedTestHook;
		const wait = Date.parse(expiresAt) - Date.now();
		if (wait > 0) await sleep(wait);
		await waitFor('the expired test subscription to be removed', 60, async () => {
			return (await hooksOn(n8n.testUrl)).length === 0;
		});
		const gone = await connectorApi(`/hooks/${id}`);
		assert.equal(gone.status, 410, gone.text);
		assert.match(gone.json.error.message, /expired/);
	});

	it('deletes the subscription when the workflow is deactivated', async () => {
		const deactivated = await n8nApi(`/workflows/${n8n.workflowId}/deactivate`, { method: 'POST' });
		assert.equal(deactivated.status, 200, deactivated.text);
		assert.deepEqual(await hooksOn(n8n.productionUrl), []);
		const gone = await connectorApi(`/hooks/${connector.hookId}`);
		assert.equal(gone.status, 410, gone.text);
		assert.match(gone.json.error.message, /unsubscribed/);
	});
});
