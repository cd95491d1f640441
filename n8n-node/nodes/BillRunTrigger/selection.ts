import type { IHookFunctions, IWebhookFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { parseStepNames, resolveSubscription } from './catalogOptions';
import type { Subscription } from './catalogOptions';

/** What the trigger subscribes to, from its current parameters. */
export function selection(context: IHookFunctions | IWebhookFunctions): Subscription {
	const selected = context.getNodeParameter('events', []) as string[];
	const steps = parseStepNames(context.getNodeParameter('collectionSteps', '') as string);
	return resolveSubscription(selected, steps);
}

/** The event types to subscribe to; a clear error when the parameters cannot make a subscription. */
export function subscribableEvents(context: IHookFunctions): string[] {
	const { events, invalidSteps } = selection(context);
	if (events.length === 0) {
		throw new NodeOperationError(context.getNode(), 'Select at least one event');
	}
	if (invalidSteps.length > 0) {
		throw new NodeOperationError(
			context.getNode(),
			`Not a valid collection step name: ${invalidSteps.join(', ')}`,
		);
	}
	return events;
}
