import type {
	IDataObject,
	IHookFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

export const CREDENTIAL_NAME = 'billRunConnectorApi';

/** A subscription as the connector's REST hooks API returns it. */
export interface Hook {
	id: string;
	events: string[];
	target_url: string;
	status: string;
	created_at: string;
	/** When the secret was last rotated; null when never. */
	secret_rotated_at?: string | null;
	/** When a short-lived subscription is removed by the connector; null when never. */
	expires_at?: string | null;
	metadata?: IDataObject | null;
	/** Only in the answers to create and rotate-secret. */
	secret?: string;
}

/** A hook with its signing secret: the answer to create and to rotate-secret. */
export type HookWithSecret = Hook & { secret: string };

export interface NewHook {
	targetUrl: string;
	events: string[];
	description: string;
	metadata: IDataObject;
	/** Seconds until the connector removes the subscription by itself. */
	expiresIn?: number;
}

interface FullResponse {
	statusCode: number;
	body: unknown;
}

/** The list endpoint's largest page, and how many pages one lookup reads at most. */
const PAGE_SIZE = 100;
const MAX_PAGES = 10;

/**
 * Calls the connector with the credential's API key. HTTP errors come back as a status code
 * rather than an exception so that callers can treat 404 and 410 as answers.
 */
async function connectorRequest(
	context: IHookFunctions,
	method: IHttpRequestMethods,
	path: string,
	options: { body?: IDataObject; qs?: IDataObject } = {},
): Promise<FullResponse> {
	const credentials = await context.getCredentials(CREDENTIAL_NAME);
	const baseURL = String(credentials.url).replace(/\/+$/, '');
	const request: IHttpRequestOptions = {
		method,
		baseURL,
		url: path,
		json: true,
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
	};
	if (options.body) request.body = options.body;
	if (options.qs) request.qs = options.qs;
	try {
		return (await context.helpers.httpRequestWithAuthentication.call(
			context,
			CREDENTIAL_NAME,
			request,
		)) as FullResponse;
	} catch (error) {
		// Status errors are returned above, so what lands here is a network-level failure.
		throw new NodeApiError(context.getNode(), error as JsonObject, {
			message: `Could not reach the BillRun connector at ${baseURL}`,
		});
	}
}

/** The connector's own words for a refusal: `{"error": {"code", "message"}}`. */
function errorMessage(body: unknown): string | undefined {
	const error = (body as { error?: { message?: unknown } } | undefined)?.error;
	return typeof error?.message === 'string' ? error.message : undefined;
}

function failure(context: IHookFunctions, what: string, response: FullResponse): NodeApiError {
	const detail =
		response.body && typeof response.body === 'object'
			? (response.body as JsonObject)
			: { body: String(response.body ?? '') };
	const reason = errorMessage(response.body);
	return new NodeApiError(context.getNode(), detail, {
		httpCode: String(response.statusCode),
		message: `The BillRun connector refused to ${what} (HTTP ${response.statusCode})${reason ? `: ${reason}` : ''}`,
	});
}

function isSuccess(statusCode: number): boolean {
	return statusCode >= 200 && statusCode < 300;
}

const hookPath = (id: string) => `/api/v1/hooks/${encodeURIComponent(id)}`;

function withSecret(context: IHookFunctions, what: string, body: unknown): HookWithSecret {
	const hook = body as Hook | undefined;
	if (!hook || typeof hook.id !== 'string' || typeof hook.secret !== 'string') {
		throw new NodeApiError(context.getNode(), (hook ?? {}) as unknown as JsonObject, {
			message: `The BillRun connector answered ${what} without a subscription id and secret`,
		});
	}
	return hook as HookWithSecret;
}

/** Every subscription of the key's tenant that posts to exactly `targetUrl`, oldest first. */
export async function listHooksFor(context: IHookFunctions, targetUrl: string): Promise<Hook[]> {
	const hooks: Hook[] = [];
	let cursor: string | undefined;
	for (let page = 0; page < MAX_PAGES; page++) {
		const qs: IDataObject = { target_url: targetUrl, limit: PAGE_SIZE };
		if (cursor) qs.cursor = cursor;
		const response = await connectorRequest(context, 'GET', '/api/v1/hooks', { qs });
		if (!isSuccess(response.statusCode)) {
			throw failure(context, 'list the subscriptions', response);
		}
		const body = response.body as { data?: unknown; next_cursor?: unknown } | undefined;
		if (!body || !Array.isArray(body.data)) {
			throw new NodeApiError(context.getNode(), (body ?? {}) as JsonObject, {
				message: 'The BillRun connector answered the subscription list without a "data" list',
			});
		}
		hooks.push(...(body.data as Hook[]));
		if (typeof body.next_cursor !== 'string' || body.next_cursor === '') break;
		cursor = body.next_cursor;
	}
	// The callers delete what this returns: a connector that ignored the filter must not make
	// them touch another URL's subscriptions.
	return hooks.filter((hook) => hook.target_url === targetUrl);
}

/** The subscription, or `undefined` when it was removed (410) or this key cannot see it (404). */
export async function getHook(context: IHookFunctions, id: string): Promise<Hook | undefined> {
	const response = await connectorRequest(context, 'GET', hookPath(id));
	if (response.statusCode === 404 || response.statusCode === 410) return undefined;
	if (!isSuccess(response.statusCode)) throw failure(context, 'read the subscription', response);
	return response.body as Hook;
}

export async function createHook(context: IHookFunctions, hook: NewHook): Promise<HookWithSecret> {
	const body: IDataObject = {
		target_url: hook.targetUrl,
		events: hook.events,
		description: hook.description,
		metadata: hook.metadata,
	};
	if (hook.expiresIn !== undefined) body.expires_in = hook.expiresIn;
	const response = await connectorRequest(context, 'POST', '/api/v1/hooks', { body });
	if (!isSuccess(response.statusCode)) throw failure(context, 'create the subscription', response);
	return withSecret(context, 'the subscription', response.body);
}

/** Gives the subscription a new secret, which only this answer carries. */
export async function rotateSecret(context: IHookFunctions, id: string): Promise<HookWithSecret> {
	const response = await connectorRequest(context, 'POST', `${hookPath(id)}/rotate-secret`);
	if (!isSuccess(response.statusCode)) {
		throw failure(context, `rotate the secret of subscription ${id}`, response);
	}
	return withSecret(context, 'the rotation', response.body);
}

/** What a delete found: removed now, removed before (410), or not visible to this key (404). */
export type Deletion = 'deleted' | 'gone' | 'unknown';

export async function deleteHook(context: IHookFunctions, id: string): Promise<Deletion> {
	const response = await connectorRequest(context, 'DELETE', hookPath(id));
	if (response.statusCode === 410) return 'gone';
	if (response.statusCode === 404) return 'unknown';
	if (!isSuccess(response.statusCode)) {
		throw failure(context, `delete subscription ${id}`, response);
	}
	return 'deleted';
}
