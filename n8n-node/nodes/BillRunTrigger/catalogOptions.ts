import type { INodePropertyOptions } from 'n8n-workflow';

import { catalog as generatedCatalog } from './catalog.generated';
import type { Catalog, CatalogEvent } from './catalogTypes';

const KIND_ORDER: Record<CatalogEvent['kind'], number> = { all: 0, module: 1, group: 2, event: 3 };

function describe(event: CatalogEvent, groupTitle: string): string {
	const parts = [`${groupTitle}: ${event.description}`.trim()];
	if (!event.firedByBillrun) parts.push('BillRun documents this event but never fires it.');
	return parts.join(' ');
}

/**
 * The events multi-select, all from the generated catalog: "All Events" (`*`), then one
 * "All <Entity> Changes" (`<module>.*`) per module, then the trackchanges groups, then the single
 * types. Inside each of these blocks the everyday entries (catalog `important`) come first, the
 * rest keep the catalog's order of groups and entries.
 */
export function eventOptions(source: Catalog = generatedCatalog): INodePropertyOptions[] {
	const groupRank = new Map(source.groups.map((group, index) => [group.id, index]));
	const groupTitle = new Map(source.groups.map((group) => [group.id, group.title]));
	const rank = (event: CatalogEvent) => [
		KIND_ORDER[event.kind],
		event.important ? 0 : 1,
		groupRank.get(event.group) ?? groupRank.size,
	];
	const ordered = source.events
		.map((event, index) => ({ event, key: [...rank(event), index] }))
		.sort((a, b) => {
			const at = a.key.findIndex((value, i) => value !== b.key[i]);
			return at < 0 ? 0 : a.key[at] - b.key[at];
		});
	return ordered.map(({ event }) => ({
		name: event.name,
		value: event.type,
		description: describe(event, groupTitle.get(event.group) ?? event.group),
	}));
}

/**
 * The node's subtitle, an n8n expression: the names of the selected events when there are one
 * or two, else their count.
 */
export function subtitleExpression(source: Catalog = generatedCatalog): string {
	const names = Object.fromEntries(source.events.map((event) => [event.type, event.name]));
	return (
		'={{(function (chosen, names) {' +
		' if (chosen.length > 2) return chosen.length + " events";' +
		' return chosen.map(function (type) { return names[type] || type; }).join(", ");' +
		` })($parameter["events"] || [], ${JSON.stringify(names)})}}`
	);
}

/** The module wildcards whose actions are free-text names (`collection.*`): they take step names. */
export function stepModuleTypes(source: Catalog = generatedCatalog): string[] {
	return source.events
		.filter((event) => event.actionPattern !== undefined)
		.map((event) => event.type);
}

export interface Subscription {
	/** What to subscribe to, sorted and without duplicates. */
	events: string[];
	/** Step names that the module's `action_pattern` refuses. */
	invalidSteps: string[];
}

/** Splits a comma- or newline-separated list of step names. */
export function parseStepNames(text: string): string[] {
	return text
		.split(/[,\n]/)
		.map((name) => name.trim())
		.filter((name) => name !== '');
}

/**
 * The event list to subscribe to: the selected types, with a selected step module (`collection.*`)
 * replaced by one concrete type per named step when step names are given.
 */
export function resolveSubscription(
	selected: string[],
	stepNames: string[],
	source: Catalog = generatedCatalog,
): Subscription {
	const families = new Map(
		source.events
			.filter((event) => event.actionPattern !== undefined)
			.map((event) => [event.type, event]),
	);
	const events = new Set<string>();
	const invalidSteps = new Set<string>();
	for (const type of selected) {
		const family = families.get(type);
		if (!family || stepNames.length === 0) {
			events.add(type);
			continue;
		}
		const pattern = new RegExp(family.actionPattern ?? '', 'u');
		for (const step of stepNames) {
			if (pattern.test(step)) events.add(`${family.module}.${step}`);
			else invalidSteps.add(step);
		}
	}
	return { events: [...events].sort(), invalidSteps: [...invalidSteps] };
}

/** Whether a delivered (always concrete) event type is covered by a subscription's event list. */
export function isCovered(
	type: string,
	subscribed: string[],
	source: Catalog = generatedCatalog,
): boolean {
	if (subscribed.includes(type)) return true;
	return source.events.some((entry) => {
		if (!subscribed.includes(entry.type)) return false;
		if (entry.kind === 'all') return true;
		if (entry.kind === 'group') return (entry.expandsTo ?? []).includes(type);
		return entry.kind === 'module' && type.startsWith(`${entry.module}.`);
	});
}
