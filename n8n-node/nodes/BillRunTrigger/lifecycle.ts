import type { IDataObject, IHookFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import type { Hook } from './hooksApi';
import { createHook, deleteHook, getHook, listHooksFor, rotateSecret } from './hooksApi';
import type { HookState } from './ownership';
import { forget, planOwnership, remember } from './ownership';
import { subscribableEvents } from './selection';

export const WEBHOOK_NAME = 'default';

/**
 * Lifetime of a test listener's subscription. n8n listens for a test event for two minutes and
 * then deletes it; this bounds how long it outlives an n8n that stopped while listening.
 */
export const TEST_SUBSCRIPTION_SECONDS = 180;

const LOG_PREFIX = 'BillRun Trigger:';

function webhookUrl(context: IHookFunctions): string {
	const url = context.getNodeWebhookUrl(WEBHOOK_NAME);
	if (!url)
		throw new NodeOperationError(context.getNode(), 'n8n gave no webhook URL for the trigger');
	return url;
}

/** n8n calls create and checkExists in `manual` mode for "Listen for test event". */
function isTestListener(context: IHookFunctions): boolean {
	return context.getMode() === 'manual';
}

function state(context: IHookFunctions): HookState {
	return context.getWorkflowStaticData('node') as HookState;
}

function messageOf(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

/** Kept with the subscription on the connector, so that its operator sees whose it is. */
function ownerMetadata(context: IHookFunctions): IDataObject {
	return {
		source: 'n8n',
		instance_id: context.getInstanceId(),
		workflow_id: context.getWorkflow().id ?? null,
		node: context.getNode().name,
	};
}

function madeByThisWorkflow(context: IHookFunctions, hook: Hook): boolean {
	const metadata = hook.metadata ?? {};
	return (
		metadata.instance_id === context.getInstanceId() &&
		metadata.workflow_id === (context.getWorkflow().id ?? null)
	);
}

/** Deletes subscriptions the trigger does not use; a failure is logged and left for next time. */
async function removeLeftovers(context: IHookFunctions, hooks: Hook[], url: string): Promise<void> {
	for (const hook of hooks) {
		try {
			await deleteHook(context, hook.id);
			context.logger.info(
				`${LOG_PREFIX} removed subscription ${hook.id} to ${hook.events.join(', ')} on ${url}: this trigger does not use it`,
			);
		} catch (error) {
			context.logger.warn(
				`${LOG_PREFIX} could not remove the unused subscription ${hook.id} on ${url}: ${messageOf(error)}`,
			);
		}
	}
}

/**
 * The stored subscription when it no longer posts to the trigger's URL (n8n's WEBHOOK_URL
 * changed): deleted when this n8n instance and workflow made it, never when a copy of the
 * workflow's data elsewhere points at another instance's subscription. The state forgets it.
 */
async function removeMoved(
	context: IHookFunctions,
	stored: HookState,
	onUrl: Hook[],
): Promise<void> {
	const id = stored.subscriptionId;
	if (!id || onUrl.some((hook) => hook.id === id)) return;
	try {
		const hook = await getHook(context, id);
		if (hook && madeByThisWorkflow(context, hook)) {
			await deleteHook(context, id);
			context.logger.info(
				`${LOG_PREFIX} removed subscription ${id}: it posts to ${hook.target_url}, no longer this trigger's URL`,
			);
		}
	} catch (error) {
		context.logger.warn(
			`${LOG_PREFIX} could not check the earlier subscription ${id}: ${messageOf(error)}`,
		);
	}
	forget(stored);
}

/**
 * Makes the connector hold exactly one subscription for the trigger's URL: lists what posts to
 * the URL, removes all but the one the trigger keeps and answers whether that one is usable as
 * it stands. With `subscribe`, it then makes it usable: a subscription the trigger does not hold
 * the current secret of gets a fresh one (rotate-secret), and without one it subscribes.
 */
async function reconcile(context: IHookFunctions, subscribe: boolean): Promise<boolean> {
	const events = subscribableEvents(context);
	const url = webhookUrl(context);
	const test = isTestListener(context);
	const stored = state(context);
	const onUrl = await listHooksFor(context, url);
	await removeMoved(context, stored, onUrl);
	const plan = planOwnership(onUrl, stored, { events, test });
	await removeLeftovers(context, plan.remove, url);
	if (plan.keep && plan.secretHeld) return true;
	if (!subscribe) {
		if (!plan.keep) forget(stored);
		return false;
	}
	if (plan.keep) {
		remember(stored, await rotateSecret(context, plan.keep.id));
		context.logger.info(
			`${LOG_PREFIX} took subscription ${plan.keep.id} on ${url} over with a fresh secret`,
		);
		return true;
	}
	const workflow = context.getWorkflow();
	remember(
		stored,
		await createHook(context, {
			targetUrl: url,
			events,
			description: `n8n workflow "${workflow.name ?? workflow.id}", node "${context.getNode().name}"${test ? ' (test listener)' : ''}`,
			metadata: ownerMetadata(context),
			expiresIn: test ? TEST_SUBSCRIPTION_SECONDS : undefined,
		}),
	);
	return true;
}

/** At activation and at every n8n start: true when the trigger's one subscription is in place. */
export async function hasSubscription(this: IHookFunctions): Promise<boolean> {
	return await reconcile(this, false);
}

/** After hasSubscription said false: takes over or makes the one subscription. */
export async function subscribe(this: IHookFunctions): Promise<boolean> {
	return await reconcile(this, true);
}

/** At deactivation and when a test listener ends: removes every subscription on the URL. */
export async function unsubscribe(this: IHookFunctions): Promise<boolean> {
	const stored = state(this);
	let url: string | undefined;
	try {
		url = webhookUrl(this);
		const onUrl = await listHooksFor(this, url);
		await removeMoved(this, stored, onUrl);
		for (const hook of onUrl) await deleteHook(this, hook.id);
	} catch (error) {
		// What is left posts to the trigger's URL, where the next activation finds it.
		this.logger.error(
			`${LOG_PREFIX} could not remove the subscriptions on ${url ?? 'the trigger URL'}: ${messageOf(error)}`,
		);
		return false;
	}
	forget(stored);
	return true;
}
